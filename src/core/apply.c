/*
 * apply.c — the one door for writes (DESIGN.md rule 2; contract in op.h).
 *
 * vg_apply runs, in one transaction: stamp (a new local op gets id, clock, origin
 * and actor) -> validate the payload against the vocabularies and the current state
 * -> merge into the entity tables -> leave the timeline event a person expects ->
 * append to the hash-chained op log. Each op kind is one handler in the table at the
 * bottom; a handler validates everything before its first write, so a rejected op
 * leaves nothing behind even inside a batch.
 *
 * Merge rules, which make replicas converge whatever order concurrent ops arrive in:
 * creates and adds are idempotent by id (and an op already in the log is skipped);
 * sets are last-writer-wins per field by (hlc, origin), with the winning clock kept
 * in the clocks table; artifacts are keyed by (case, type, value) and merge
 * commutatively (sightings add up, first/last seen widen, the IOC flag and the
 * stricter TLP win, the smaller id names the row), with presence as a LWW register
 * so a removal is a tombstone. Derived times are order-free too: closed_at is the
 * clock of the winning close, acknowledged_at the earliest move out of `new`.
 * Alerts merge by (source, source_ref): counts add up, the seen window widens, and
 * the same alert made apart on two replicas is one row with the smaller id's
 * content, the other id still naming it (alert_ids) and its field clocks kept
 * under (source, source_ref); the entities an alert brings to its case are the
 * ones its op's author chose (put_artifact).
 *
 * Local alerts are not ops of their own: inside a batch each is an element of the
 * batch's alert.import (bulk_add), appended before the next other op or at commit,
 * so the log holds a few hundred alerts under one hash.
 */
#include "internal.h"
#include "oplog.h"
#include "vigil/entity.h"
#include "vigil/fields.h"
#include "vigil/json.h"
#include "vigil/ioc.h"
#include "vigil/ledger.h"
#include "vigil/model.h"
#include "vigil/op.h"
#include "vigil/playbook.h"
#include "vigil/sync.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TITLE 1024
#define MAX_TEXT (1 << 20) /* descriptions, notes */
#define MAX_VALUE 8192     /* artifact values, summaries, names */
#define MAX_RAW (8u << 20) /* an alert's raw event as a tool wrote it */
#define MAX_LEDGER (16 << 20) /* a ledger entry: a prompt holds the whole context sent */

#define WINNER(col) ", " #col " = CASE WHEN excluded.id < id THEN excluded." #col " ELSE " #col " END"
const char *const ws_stmt_sql[ST__COUNT] = {
    [ST_OP_INSERT] = "INSERT INTO ops(id, hlc, origin, actor, tenant, kind, target, payload,"
                     " prev_hash, hash, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_OP_EXISTS] = "SELECT 1 FROM ops WHERE id = ?",
    [ST_CLOCK_GET] = "SELECT hlc, origin FROM clocks WHERE entity = ? AND field = ?",
    [ST_CLOCK_PUT] = "INSERT OR REPLACE INTO clocks(entity, field, hlc, origin) VALUES (?, ?, ?, ?)",
    [ST_CASE_INSERT] = "INSERT OR IGNORE INTO cases(id, ref, title, description, severity, status,"
                       " tlp, pap, assignee, tags, techniques, created_by, created_at, updated_at)"
                       " VALUES (?, ?, ?, ?, ?, 'new', ?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_CASE_EXISTS] = "SELECT ref, coalesce(merged_into, '') FROM cases WHERE id = ?",
    /* the cases merged into this one share its updated_at (h_case_merge) */
    [ST_CASE_TOUCH] = "UPDATE cases SET updated_at = max(updated_at, ?2)"
                      " WHERE id = ?1 OR merged_into = ?1",
    [ST_CASE_NEXT_REF] = "SELECT coalesce(max(ref), 0) + 1 FROM cases",
    [ST_CASE_FIELD] = "SELECT title, description, severity, status, tlp, pap, assignee, tags,"
                      " techniques, resolution FROM cases WHERE id = ?",
    [ST_EVENT_INSERT] = "INSERT OR IGNORE INTO events(id, case_id, occurred_at, recorded_at, kind,"
                        " summary, source, actor, technique, tactic)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_NOTE_INSERT] = "INSERT OR IGNORE INTO notes(id, case_id, author, body, created_at)"
                       " VALUES (?, ?, ?, ?, ?)",
    [ST_ART_FIND] = "SELECT id, removed, clock_hlc, clock_origin FROM artifacts"
                    " WHERE case_id = ? AND type = ? AND value = ?",
    /* OR IGNORE: a value the case already holds (removed, or made by another op)
     * is left to the caller, which reads changes() */
    [ST_ART_INSERT] = "INSERT OR IGNORE INTO artifacts(id, case_id, type, value, is_ioc, tlp, source,"
                      " first_seen, last_seen, clock_hlc, clock_origin)"
                      " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_ART_MERGE] = "UPDATE artifacts SET id = min(id, ?2), is_ioc = max(is_ioc, ?3),"
                     " tlp = CASE WHEN instr(',CLEAR,GREEN,AMBER,AMBER+STRICT,RED,', ',' || ?4 || ',')"
                     "  > instr(',CLEAR,GREEN,AMBER,AMBER+STRICT,RED,', ',' || tlp || ',')"
                     "  THEN ?4 ELSE tlp END,"
                     " first_seen = min(first_seen, ?5), last_seen = max(last_seen, ?5),"
                     " sightings = sightings + 1 WHERE case_id = ?1 AND type = ?6 AND value = ?7",
    [ST_ART_PRESENCE] = "UPDATE artifacts SET removed = ?4, clock_hlc = ?5, clock_origin = ?6"
                        " WHERE case_id = ?1 AND type = ?2 AND value = ?3",
    [ST_TASK_INSERT] = "INSERT OR IGNORE INTO tasks(id, case_id, phase, title, description, status,"
                       " assignee, ord, playbook_id, created_at, done_at, mandatory)"
                       " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_TASK_GET] = "SELECT title, phase, status, assignee, description FROM tasks"
                    " WHERE id = ? AND case_id = ?",
    [ST_TASK_NEXT_ORD] = "SELECT coalesce(max(ord), 0) + 1 FROM tasks WHERE case_id = ?",
    /* A repeat of (source, source_ref) is the same alert seen again: counts add up
     * and the seen window widens (commutative, so replicas agree). The raw event
     * stays in the op that brought it (raw_op, raw_at: schema step 11). */
    [ST_ALERT_INSERT] = "INSERT INTO alerts(id, source, source_ref, rule, title, severity,"
                        " event_time, first_seen, last_seen, count, status, case_id, entities,"
                        " techniques, raw, recorded_at, raw_op, raw_at, rec)"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
                        "  coalesce(?17, '{}'), ?14, '', ?16, ?13, ?15, ?18)"
                        " ON CONFLICT(source, source_ref) WHERE source_ref IS NOT NULL DO UPDATE SET"
                        " id = min(id, excluded.id), count = count + excluded.count,"
                        " first_seen = min(first_seen, excluded.first_seen),"
                        " last_seen = max(last_seen, excluded.last_seen)"
                        /* the same alert made apart on two replicas: the smaller id's
                         * content, whichever a replica applies first */
                        WINNER(title) WINNER(rule) WINNER(severity)
                        /* a repeat of the same alert (its id) keeps the earliest event
                         * time, whatever order a sensor wrote them in */
                        ", event_time = CASE WHEN excluded.id < id THEN excluded.event_time"
                        " WHEN excluded.id = id THEN min(event_time, excluded.event_time)"
                        " ELSE event_time END"
                        WINNER(entities) WINNER(techniques) WINNER(recorded_at)
                        WINNER(raw_op) WINNER(raw_at)
                        /* the record the row's raw event is (?19: an older row's,
                         * worked out from its raw event) */
                        ", rec = CASE WHEN excluded.id < id THEN excluded.rec"
                        " ELSE coalesce(rec, ?19) END",
    /* an alert by any id it was made under (alert_ids: the same alert made apart
     * on two replicas is one row, named by the smaller id); what alert.set needs,
     * and the key its field clocks are kept under */
    [ST_ALERT_GET] = "SELECT a.rowid, a.title, a.entities, a.event_time,"
                     " CASE WHEN a.source_ref IS NULL THEN a.id"
                     "  ELSE 'alert:' || a.source || char(31) || a.source_ref END"
                     " FROM alerts a WHERE a.id = ?1"
                     " UNION ALL SELECT a.rowid, a.title, a.entities, a.event_time,"
                     " 'alert:' || a.source || char(31) || a.source_ref"
                     " FROM alert_ids x JOIN alerts a ON a.rowid = x.alert WHERE x.id = ?1"
                     " LIMIT 1",
    /* the alert a repeat folds into (the door; import's correlation asks first) */
    [ST_ALERT_BY_REF] = "SELECT rowid, id, rec FROM alerts"
                        " WHERE source = ?1 AND source_ref = ?2",
    [ST_ALERT_REC_HAS] = "SELECT 1 FROM alert_recs WHERE alert = ?1 AND rec = ?2",
    [ST_ALERT_REC_ADD] = "INSERT OR IGNORE INTO alert_recs(alert, rec) VALUES (?1, ?2)",
};
#undef WINNER

/* What a handler works with. */
typedef struct ctx {
    vg_ws *ws;
    vg_op *op;
    bool local;    /* a new op from this replica: checked against the current state */
    int64_t ms;    /* the op's time (its clock's milliseconds) */
    char *text;    /* the payload as stored, made once when the payload is final */
    bool unchanged; /* a local set to the value the field has: nothing to write */
    int64_t raw_at; /* an alert's place in its alert.import, -1 for an alert.add */
    bool check_only; /* validate the op and write nothing (alert.import's first pass) */
    bool case_only;  /* alert.add: its case's side alone, the row being here (import_parts) */
    const char *el;  /* an alert.import element's own text, when the op came as text */
    size_t el_len;
    vg_id live;      /* the case a write for a merged case goes to (live_case); "" if none */
    vg_err *err;
} ctx;

/* ---- payload access and validation ------------------------------------------ */

static const char *pstr(const ctx *c, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->op->payload, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A whole-number field; false when it is not a number or is out of int64_t's
 * range (NaN, 1e300: a received op is anyone's text, and the cast would be
 * undefined). */
static bool pnum(const ctx *c, const char *key, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->op->payload, key);
    if (!cJSON_IsNumber(v) || !(v->valuedouble > -9e18 && v->valuedouble < 9e18))
        return false;
    *out = (int64_t)v->valuedouble;
    return true;
}

static bool pbool(const ctx *c, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->op->payload, key);
    return cJSON_IsTrue(v) || (cJSON_IsNumber(v) && v->valuedouble != 0);
}

static void pset_str(ctx *c, const char *key, const char *value)
{
    cJSON_DeleteItemFromObjectCaseSensitive(c->op->payload, key);
    cJSON_AddStringToObject(c->op->payload, key, value);
}

static void pset_num(ctx *c, const char *key, int64_t value)
{
    cJSON_DeleteItemFromObjectCaseSensitive(c->op->payload, key);
    cJSON_AddNumberToObject(c->op->payload, key, (double)value);
}

/* A required or optional text value v, named label in messages, with a size cap. */
static vg_rc check_text(ctx *c, const cJSON *v, const char *label, bool required, size_t cap,
                        const char **out)
{
    *out = NULL;
    if (!v || cJSON_IsNull(v)) {
        if (required)
            return vg_fail(c->err, VG_EINVAL, "%s: required", label);
        return VG_OK;
    }
    if (!cJSON_IsString(v))
        return vg_fail(c->err, VG_EINVAL, "%s: must be text", label);
    size_t n = strlen(v->valuestring);
    if (required && strspn(v->valuestring, " \t\r\n") == n)
        return vg_fail(c->err, VG_EINVAL, "%s: must not be empty", label);
    if (n > cap)
        return vg_fail(c->err, VG_EINVAL, "%s: longer than %zu bytes", label, cap);
    *out = v->valuestring;
    return VG_OK;
}

static vg_rc need_text(ctx *c, const char *key, bool required, size_t cap, const char **out)
{
    return check_text(c, cJSON_GetObjectItemCaseSensitive(c->op->payload, key), key, required,
                      cap, out);
}

/* An enumerated field: its index, or def when absent and not required. */
static vg_rc need_enum(ctx *c, const char *key, const vg_enum *e, int def, int *out)
{
    const char *s = pstr(c, key);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->op->payload, key);
    char list[256];
    if (!v || cJSON_IsNull(v)) {
        vg_enum_list(e, list, sizeof list);
        if (def < 0)
            return vg_fail(c->err, VG_EINVAL, "%s: required: one of %s", e->field, list);
        *out = def;
        return VG_OK;
    }
    int i = vg_enum_parse(e, s);
    if (i < 0) {
        vg_enum_list(e, list, sizeof list);
        return vg_fail(c->err, VG_EINVAL, "%s: '%s' is not one of %s", e->field,
                       s ? s : "(not text)", list);
    }
    *out = i;
    return VG_OK;
}

/* Tags and techniques: a JSON array of strings, or "a, b" text; stored as a JSON
 * array of unique trimmed strings. Returns a fresh string. */
static vg_rc need_list(ctx *c, const char *key, const cJSON *v, char **out)
{
    cJSON *arr = cJSON_CreateArray();
    if (v && cJSON_IsString(v)) {
        const char *p = v->valuestring;
        while (*p) {
            size_t n = strcspn(p, ",");
            const char *s = p, *e = p + n;
            while (s < e && (*s == ' ' || *s == '\t'))
                s++;
            while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
                e--;
            if (e > s) {
                char *item = vg_xstrndup(s, (size_t)(e - s));
                cJSON_AddItemToArray(arr, cJSON_CreateString(item));
                free(item);
            }
            p += n + (p[n] == ',');
        }
    } else if (v && cJSON_IsArray(v)) {
        const cJSON *it;
        cJSON_ArrayForEach(it, v) {
            if (!cJSON_IsString(it)) {
                cJSON_Delete(arr);
                return vg_fail(c->err, VG_EINVAL, "%s: every item must be text", key);
            }
            cJSON_AddItemToArray(arr, cJSON_CreateString(it->valuestring));
        }
    } else if (v && !cJSON_IsNull(v)) {
        cJSON_Delete(arr);
        return vg_fail(c->err, VG_EINVAL, "%s: must be a list", key);
    }
    /* Drop duplicates, keeping the first; check sizes. */
    int n = cJSON_GetArraySize(arr);
    for (int i = n - 1; i >= 0; i--) {
        const char *s = cJSON_GetArrayItem(arr, i)->valuestring;
        if (strlen(s) > 128) {
            cJSON_Delete(arr);
            return vg_fail(c->err, VG_EINVAL, "%s: item longer than 128 bytes", key);
        }
        for (int j = 0; j < i; j++)
            if (strcmp(cJSON_GetArrayItem(arr, j)->valuestring, s) == 0) {
                cJSON_DeleteItemFromArray(arr, i);
                break;
            }
    }
    if (cJSON_GetArraySize(arr) > 64) {
        cJSON_Delete(arr);
        return vg_fail(c->err, VG_EINVAL, "%s: more than 64 items", key);
    }
    *out = cJSON_PrintUnformatted(arr);
    cJSON_Delete(arr);
    if (!*out)
        *out = vg_xstrdup("[]");
    return VG_OK;
}

/* The payload as stored and hashed: made once, after the handler's last amendment. */
static const char *payload_text(ctx *c)
{
    if (!c->text && c->op->text)
        c->text = vg_xstrdup(c->op->text); /* a stamped op's own bytes */
    if (!c->text) {
        c->text = cJSON_PrintUnformatted(c->op->payload);
        if (!c->text)
            c->text = vg_xstrdup("{}");
    }
    return c->text;
}

/* ---- small write helpers ------------------------------------------------------ */

static vg_rc step_done(ctx *c, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? VG_OK : ws_dberr(c->ws, c->err, what);
}

/* Write the updated_at times a batch has collected (see touch). */
static vg_rc flush_touched(vg_ws *ws, vg_err *err)
{
    for (int i = 0; i < ws->ntouched; i++) {
        sqlite3_stmt *st;
        vg_rc rc = ws_stmt(ws, ST_CASE_TOUCH, &st, err);
        if (rc)
            return rc;
        sqlite3_bind_text(st, 1, ws->touched[i].case_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, ws->touched[i].ms);
        int s = sqlite3_step(st);
        sqlite3_reset(st);
        if (s != SQLITE_DONE)
            return ws_dberr(ws, err, "updating a case");
    }
    ws->ntouched = 0;
    return VG_OK;
}

/* The case's ref, or VG_ENOTFOUND, and into live the case it was merged into ("" when
 * it is not merged; live may be NULL). An import adds many things to one case in a
 * row, so the last case found is remembered for the rest of the batch (a case.merge
 * forgets it). */
static vg_rc case_find(ctx *c, const char *case_id, int64_t *ref, vg_id live)
{
    vg_ws *ws = c->ws;
    if (ws->known_batch == ws->batches && strcmp(ws->known_case, case_id) == 0) {
        *ref = ws->known_ref;
        if (live)
            memcpy(live, ws->known_live, sizeof ws->known_live);
        return VG_OK;
    }
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt(ws, ST_CASE_EXISTS, &st, c->err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    vg_id into = "";
    if (s == SQLITE_ROW) {
        *ref = sqlite3_column_int64(st, 0);
        col_id(st, 1, into);
    }
    sqlite3_reset(st);
    if (live)
        memcpy(live, into, sizeof into);
    if (s == SQLITE_ROW && strlen(case_id) < sizeof ws->known_case) {
        memcpy(ws->known_case, case_id, strlen(case_id) + 1);
        memcpy(ws->known_live, into, sizeof into);
        ws->known_ref = *ref;
        ws->known_batch = ws->batches;
    }
    if (s == SQLITE_ROW)
        return VG_OK;
    if (s != SQLITE_DONE)
        return ws_dberr(c->ws, c->err, "looking up a case");
    return vg_fail(c->err, VG_ENOTFOUND, "case %s: no such case", case_id);
}

static vg_rc case_ref(ctx *c, const char *case_id, int64_t *ref)
{
    return case_find(c, case_id, ref, NULL);
}

/* The case a child op writes to (op.h: case.merge): the one it names, which must
 * exist, or the case that one was merged into, so that a write for a merged case
 * lands where its rows are whichever a replica applied first, the write or the
 * merge. *case_id is the op's case on entry and the live one on return (c->live
 * holds it). The payload keeps the case its author named. */
static vg_rc live_case(ctx *c, const char **case_id)
{
    int64_t ref;
    vg_id live;
    vg_rc rc = case_find(c, *case_id, &ref, live);
    if (rc)
        return rc;
    memcpy(c->live, live, sizeof live);
    if (live[0])
        *case_id = c->live;
    return VG_OK;
}

/* The `case` field of a child op: required, and the case must exist; *case_id
 * the case to write (live_case). */
static vg_rc need_case(ctx *c, const char **case_id)
{
    vg_rc rc = need_text(c, "case", true, VG_ID_LEN, case_id);
    return rc ? rc : live_case(c, case_id);
}

static vg_rc touch(ctx *c, const char *case_id)
{
    /* updated_at = max(updated_at, op time) commutes, so a batch collects the
     * latest time per case and writes each case once at commit. */
    vg_ws *ws = c->ws;
    for (int i = 0; i < ws->ntouched; i++)
        if (strcmp(ws->touched[i].case_id, case_id) == 0) {
            if (c->ms > ws->touched[i].ms)
                ws->touched[i].ms = c->ms;
            return VG_OK;
        }
    vg_rc rc;
    if (ws->ntouched == WS_TOUCHED && (rc = flush_touched(ws, c->err)))
        return rc;
    ws_touch *t = &ws->touched[ws->ntouched++];
    snprintf(t->case_id, sizeof t->case_id, "%s", case_id);
    t->ms = c->ms;
    return VG_OK;
}

/* What search indexes. The door stages the rows full-text search must index or
 * index again in a temporary table of its connection, and vg_batch_commit indexes
 * them all with one statement (schema steps 2 and 9). Triggers on the tables did
 * this until step 9, but a statement that fires a trigger keeps a statement
 * journal, which cost an import more than the trigger's own work. Bodies are read
 * back from the rows as stored; the FTS rowid is the row's rowid * 8 + a kind. */
enum { FTS_CASE, FTS_NOTE, FTS_ALERT, FTS_ARTIFACT, FTS_EVENT };

/* Did the INSERT OR IGNORE just run insert its row? */
static bool inserted(const ctx *c)
{
    return sqlite3_changes(c->ws->db) == 1;
}

/* Stage the row with this id (an artifact: the case, type and value). */
static vg_rc fts_stage(ctx *c, int kind, const char *id, const char *type, const char *value,
                       bool stale)
{
#define STAGE "INSERT OR REPLACE INTO temp.fts_stage SELECT rowid * 8 + "
    static const char *const sql[] = {
        [FTS_CASE] = STAGE "1, title || ' ' || description, ?2 FROM cases WHERE id = ?1",
        [FTS_NOTE] = STAGE "2, body, ?2 FROM notes WHERE id = ?1",
        [FTS_ALERT] = STAGE "3, title || ' ' || rule, ?2 FROM alerts WHERE id = ?1",
        /* id: the case; the artifact is (case, type, value), ?3 and ?4 */
        [FTS_ARTIFACT] = STAGE "4, CASE WHEN removed THEN NULL ELSE value END, ?2"
                         " FROM artifacts WHERE case_id = ?1 AND type = ?3 AND value = ?4",
        [FTS_EVENT] = STAGE "5, summary, ?2 FROM events WHERE id = ?1",
    };
#undef STAGE
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt_text(c->ws, sql[kind], &st, c->err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, stale);
    if (type) {
        sqlite3_bind_text(st, 3, type, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, value, -1, SQLITE_STATIC);
    }
    c->ws->fts_staged = true;
    return step_done(c, st, "staging a row for search");
}

/* Stage a row whose FTS key and body the caller has at hand (a row it just
 * inserted: no lookup). */
static vg_rc fts_stage_row(ctx *c, int64_t key, const char *body, const char *body2, bool stale)
{
    static const char sql[] = "INSERT OR REPLACE INTO temp.fts_stage VALUES"
                              " (?1, CASE WHEN ?3 IS NULL THEN ?2 ELSE ?2 || ' ' || ?3 END, ?4)";
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt_text(c->ws, sql, &st, c->err);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, key);
    sqlite3_bind_text(st, 2, body, -1, SQLITE_STATIC);
    if (body2)
        sqlite3_bind_text(st, 3, body2, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, stale);
    c->ws->fts_staged = true;
    return step_done(c, st, "staging a row for search");
}

/* Timeline event for this op (id = op id, recorded at the op's time). */
static vg_rc emit(ctx *c, const char *case_id, int64_t occurred, const char *kind,
                  const char *summary, const char *source, const char *technique)
{
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt(c->ws, ST_EVENT_INSERT, &st, c->err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, c->op->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, case_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, occurred);
    sqlite3_bind_int64(st, 4, c->ms);
    sqlite3_bind_text(st, 5, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, summary, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 7, source ? source : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, c->op->actor, -1, SQLITE_STATIC);
    if (technique)
        sqlite3_bind_text(st, 9, technique, -1, SQLITE_STATIC);
    return step_done(c, st, "adding a timeline event");
}

/* Does this op's clock beat (hlc, origin)? Later clock wins; a tie goes to the
 * greater origin, so every replica picks the same winner. */
static bool beats(const ctx *c, uint64_t hlc, const unsigned char *origin)
{
    return c->op->hlc > hlc ||
           (c->op->hlc == hlc && strcmp(c->op->origin, origin ? (const char *)origin : "") > 0);
}

/* Last-writer-wins: does this op's clock beat the one stored for (entity, field)?
 * If so the new clock is stored. */
static vg_rc lww(ctx *c, const char *entity, const char *field, bool *wins)
{
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt(c->ws, ST_CLOCK_GET, &st, c->err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, entity, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, field, -1, SQLITE_STATIC);
    *wins = true;
    if (sqlite3_step(st) == SQLITE_ROW)
        *wins = beats(c, (uint64_t)sqlite3_column_int64(st, 0), sqlite3_column_text(st, 1));
    sqlite3_reset(st);
    if (!*wins)
        return VG_OK;
    if ((rc = ws_stmt(c->ws, ST_CLOCK_PUT, &st, c->err)))
        return rc;
    sqlite3_bind_text(st, 1, entity, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, field, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)c->op->hlc);
    sqlite3_bind_text(st, 4, c->op->origin, -1, SQLITE_STATIC);
    return step_done(c, st, "recording a field clock");
}

/* Shorten s for a one-line timeline summary: first line, at most n bytes, cut at a
 * UTF-8 boundary. */
static void first_line(const char *s, char *out, size_t n)
{
    size_t len = strcspn(s, "\r\n");
    if (len >= n) {
        len = n - 4;
        while (len && ((unsigned char)s[len] & 0xc0) == 0x80)
            len--;
        memcpy(out, s, len);
        memcpy(out + len, "...", 4);
        return;
    }
    memcpy(out, s, len);
    out[len] = '\0';
}

/* ---- handlers ------------------------------------------------------------------ */

/* ---- custom fields (vigil/fields.h) ----------------------------------------------- */

/* A custom field's value member as the text to store, fresh; NULL (and VG_OK) for
 * none, which clears the value. */
static vg_rc field_value_text(ctx *c, const cJSON *v, const char *label, char **out)
{
    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return VG_OK;
    char *t = vg_field_json_text(v);
    if (!t)
        return vg_fail(c->err, VG_EINVAL, "%s: must be text, a number or a bool", label);
    if (strlen(t) > VG_FIELD_MAX_VALUE) {
        free(t);
        return vg_fail(c->err, VG_EINVAL, "%s: longer than %d bytes", label, VG_FIELD_MAX_VALUE);
    }
    if (!*t) {
        free(t);
        return VG_OK;
    }
    *out = t;
    return VG_OK;
}

/* (case, name) := value (NULL: no value) when this op's clock wins its register. */
static vg_rc field_put(ctx *c, const char *case_id, const char *name, const char *value)
{
    char key[VG_FIELD_MAX_NAME + 8];
    snprintf(key, sizeof key, "field.%s", name);
    bool wins;
    vg_rc rc = lww(c, case_id, key, &wins);
    if (rc || !wins)
        return rc;
    sqlite3_stmt *st;
    rc = ws_stmt_text(c->ws, value ? "INSERT OR REPLACE INTO case_fields(case_id, name, value)"
                                     " VALUES (?1, ?2, ?3)"
                                   : "DELETE FROM case_fields WHERE case_id = ?1 AND name = ?2",
                      &st, c->err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    if (value)
        sqlite3_bind_text(st, 3, value, -1, SQLITE_STATIC);
    return step_done(c, st, "writing a custom field");
}

/* case.set on field.NAME: checked against the definition when local, kept as its
 * author stored it when received (fields.h). */
static vg_rc h_case_field(ctx *c, const char *name)
{
    if (!vg_field_name_ok(name))
        return vg_fail(c->err, VG_EINVAL, "'field.%.80s': not a custom field name", name);
    char label[VG_FIELD_MAX_NAME + 8];
    snprintf(label, sizeof label, "field %s", name);
    char *value = NULL, *old = NULL;
    int64_t ref;
    vg_rc rc = field_value_text(c, cJSON_GetObjectItemCaseSensitive(c->op->payload, "value"),
                                label, &value);
    if (rc || (rc = case_ref(c, c->op->target, &ref)))
        goto out;
    if (c->local) {
        vg_field_def d;
        if ((rc = vg_field_def_get(c->ws, name, &d, c->err))) {
            if (rc == VG_ENOTFOUND)
                rc = VG_EINVAL;
            goto out;
        }
        if (value) {
            char *norm;
            rc = vg_field_normalise(&d, value, NULL, &norm, c->err);
            free(value);
            value = rc ? NULL : norm;
        } else if (d.required) {
            rc = vg_fail(c->err, VG_EINVAL, "field %s is required: it can be changed, not"
                                            " cleared", name);
        }
        vg_field_def_clear(&d);
        if (rc)
            goto out;
        sqlite3_stmt *st;
        if ((rc = ws_stmt_text(c->ws, "SELECT value FROM case_fields WHERE case_id = ?1"
                                      " AND name = ?2", &st, c->err)))
            goto out;
        sqlite3_bind_text(st, 1, c->op->target, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            old = col_dup(st, 0);
        sqlite3_reset(st);
        if ((!old && !value) || (old && value && strcmp(old, value) == 0)) {
            c->unchanged = true;
            goto out;
        }
        pset_str(c, "old", old ? old : "");
        cJSON_DeleteItemFromObjectCaseSensitive(c->op->payload, "value");
        if (value)
            cJSON_AddStringToObject(c->op->payload, "value", value);
        else
            cJSON_AddNullToObject(c->op->payload, "value");
    }
    if ((rc = field_put(c, c->op->target, name, value)))
        goto out;
    char summary[400], vshort[120], oshort[120];
    const char *o = pstr(c, "old");
    first_line(value ? value : "", vshort, sizeof vshort);
    first_line(o ? o : "", oshort, sizeof oshort);
    if (!value)
        snprintf(summary, sizeof summary, "field %s cleared by %s", name, c->op->actor);
    else
        snprintf(summary, sizeof summary, "field %s %s%s%s by %s", name, oshort,
                 *oshort ? " → " : "→ ", vshort, c->op->actor);
    /* the value is the case's own, as its title is; the row goes where the case's
     * rows are (a merged case's: its target's) */
    const char *where = c->op->target;
    if ((rc = live_case(c, &where)) || (rc = emit(c, where, c->ms, "status", summary, NULL, NULL)))
        goto out;
    rc = touch(c, where);
out:
    free(value);
    free(old);
    return rc;
}

/* A case.create's "fields": a local op's checked against the definitions, each
 * value made canonical and every default filled in; a required field that has no
 * default and no value refuses the case when the op carries "fields" (an analyst's
 * case; correlation's and promotion's carry none and leave it for the analyst). A
 * received op's are checked for shape alone. Runs before the handler's first write. */
static vg_rc create_fields_check(ctx *c)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(c->op->payload, "fields");
    if (f && !cJSON_IsNull(f) && !cJSON_IsObject(f))
        return vg_fail(c->err, VG_EINVAL, "fields: must be an object {name: value}");
    const cJSON *it;
    if (!c->local) {
        cJSON_ArrayForEach(it, f) {
            char *t = NULL;
            char label[VG_FIELD_MAX_NAME + 16];
            snprintf(label, sizeof label, "fields.%.64s", it->string);
            if (!vg_field_name_ok(it->string))
                return vg_fail(c->err, VG_EINVAL, "%s: not a custom field name", label);
            vg_rc rc = field_value_text(c, it, label, &t);
            free(t);
            if (rc)
                return rc;
        }
        return VG_OK;
    }
    vg_field_def *defs;
    size_t nd;
    vg_rc rc = vg_field_defs(c->ws, &defs, &nd, c->err);
    if (rc)
        return rc;
    cJSON *norm = cJSON_CreateObject();
    cJSON_ArrayForEach(it, f) {
        char label[VG_FIELD_MAX_NAME + 16];
        snprintf(label, sizeof label, "fields.%.64s", it->string);
        const vg_field_def *d = NULL;
        for (size_t k = 0; k < nd && !d; k++)
            if (strcmp(defs[k].name, it->string) == 0)
                d = &defs[k];
        if (!d) {
            rc = vg_fail(c->err, VG_EINVAL, "%s: not a custom field of this workspace (vigil field"
                                            " ls lists them)", label);
            break;
        }
        char *t = NULL, *v = NULL;
        if ((rc = field_value_text(c, it, label, &t)))
            break;
        if (!t)
            continue;
        rc = vg_field_normalise(d, t, label, &v, c->err);
        free(t);
        if (rc)
            break;
        cJSON_AddStringToObject(norm, d->name, v);
        free(v);
    }
    for (size_t k = 0; rc == VG_OK && k < nd; k++) {
        if (cJSON_GetObjectItemCaseSensitive(norm, defs[k].name))
            continue;
        if (defs[k].def)
            cJSON_AddStringToObject(norm, defs[k].name, defs[k].def);
        else if (defs[k].required && f)
            rc = vg_fail(c->err, VG_EINVAL, "fields.%s: required (a %s) and has no default:"
                                            " give it a value",
                         defs[k].name, VG_FIELD_TYPE.names[defs[k].type]);
    }
    vg_field_defs_free(defs, nd);
    if (rc) {
        cJSON_Delete(norm);
        return rc;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(c->op->payload, "fields");
    if (cJSON_GetArraySize(norm) > 0)
        cJSON_AddItemToObject(c->op->payload, "fields", norm);
    else
        cJSON_Delete(norm);
    return VG_OK;
}

/* The new case's values (after its row). */
static vg_rc create_fields_write(ctx *c)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(c->op->payload, "fields")) {
        char *t = NULL;
        vg_rc rc = field_value_text(c, it, "fields", &t);
        if (rc == VG_OK)
            rc = field_put(c, c->op->target, it->string, t);
        free(t);
        if (rc)
            return rc;
    }
    return VG_OK;
}

/* field.define: one LWW register per name ("field:NAME" "def"), the row the
 * winning definition whole. */
static vg_rc h_field_define(ctx *c)
{
    vg_field_def d;
    vg_rc rc = vg_field_def_from_json(c->op->payload, &d, c->err);
    if (rc) {
        vg_field_def_clear(&d);
        return rc;
    }
    if (c->local) {
        vg_field_def old;
        vg_err e = {0};
        vg_rc g = vg_field_def_get(c->ws, d.name, &old, &e);
        cJSON *want = vg_field_def_json(&d);
        if (g == VG_OK) {
            cJSON *have = vg_field_def_json(&old);
            c->unchanged = cJSON_Compare(want, have, true);
            cJSON_Delete(have);
        } else if (g == VG_ENOTFOUND) {
            vg_field_def *all;
            size_t n;
            if ((rc = vg_field_defs(c->ws, &all, &n, c->err)) == VG_OK) {
                vg_field_defs_free(all, n);
                if (n >= VG_FIELD_MAX_DEFS)
                    rc = vg_fail(c->err, VG_EINVAL, "a workspace holds at most %d custom fields",
                                 VG_FIELD_MAX_DEFS);
            }
        } else {
            rc = vg_fail(c->err, g, "%s", e.msg);
        }
        vg_field_def_clear(&old);
        /* the payload in its canonical form (the proposal it applies kept) */
        const char *p = pstr(c, "proposal");
        if (p)
            cJSON_AddStringToObject(want, "proposal", p);
        cJSON_Delete(c->op->payload);
        c->op->payload = want;
        if (rc || c->unchanged) {
            vg_field_def_clear(&d);
            return rc;
        }
    }
    char entity[VG_FIELD_MAX_NAME + 8];
    snprintf(entity, sizeof entity, "field:%s", d.name);
    bool wins;
    if ((rc = lww(c, entity, "def", &wins)) || !wins) {
        vg_field_def_clear(&d);
        return rc;
    }
    cJSON *vals = cJSON_CreateArray();
    for (size_t i = 0; i < d.nvalues; i++)
        cJSON_AddItemToArray(vals, cJSON_CreateString(d.values[i]));
    char *vtext = cJSON_PrintUnformatted(vals);
    cJSON_Delete(vals);
    sqlite3_stmt *st;
    if ((rc = ws_stmt_text(c->ws, "INSERT OR REPLACE INTO field_defs(name, type, enum_values,"
                                  " required, default_value, description, removed)"
                                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0)", &st, c->err)) == VG_OK) {
        sqlite3_bind_text(st, 1, d.name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, VG_FIELD_TYPE.names[d.type], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, vtext ? vtext : "[]", -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 4, d.required);
        if (d.def)
            sqlite3_bind_text(st, 5, d.def, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, d.description, -1, SQLITE_STATIC);
        rc = step_done(c, st, "defining a custom field");
    }
    cJSON_free(vtext);
    vg_field_def_clear(&d);
    return rc;
}

/* field.remove: the register's tombstone, the row blanked so that it is the same
 * whichever of a definition and a removal a replica meets first. */
static vg_rc h_field_remove(ctx *c)
{
    const char *name = pstr(c, "name");
    if (!vg_field_name_ok(name))
        return vg_fail(c->err, VG_EINVAL, "name: '%.80s' is not a field name",
                       name ? name : "(none)");
    vg_rc rc;
    if (c->local) {
        vg_field_def d;
        rc = vg_field_def_get(c->ws, name, &d, c->err);
        vg_field_def_clear(&d);
        if (rc)
            return rc;
    }
    char entity[VG_FIELD_MAX_NAME + 8];
    snprintf(entity, sizeof entity, "field:%s", name);
    bool wins;
    if ((rc = lww(c, entity, "def", &wins)) || !wins)
        return rc;
    sqlite3_stmt *st;
    if ((rc = ws_stmt_text(c->ws, "INSERT OR REPLACE INTO field_defs(name, type, enum_values,"
                                  " required, default_value, description, removed)"
                                  " VALUES (?1, '', '[]', 0, NULL, '', 1)", &st, c->err)))
        return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    return step_done(c, st, "removing a custom field");
}

/* The ref of a new case that names none (vigil/sync.h): max(ref)+1 in a workspace
 * that never held a lease; else the lease's next ref, or, with the lease used up,
 * a provisional one, max(VG_REF_PROVISIONAL, max(ref)+1) over that range. A stamped
 * op's ref is its author's: one without is numbered as in a lone workspace. */
static vg_rc next_ref(ctx *c, int64_t *ref)
{
    vg_ws *ws = c->ws;
    sqlite3_stmt *st;
    vg_rc rc;
    if (c->local && (rc = ws_lease_load(ws, c->err)))
        return rc;
    if (c->local && ws->lease_held) {
        if (ws_lease_draw(ws, ref))
            return VG_OK;
        static const char sql[] = "SELECT max(?1, coalesce(max(ref), 0) + 1) FROM cases"
                                  " WHERE ref >= ?1";
        if ((rc = ws_stmt_text(ws, sql, &st, c->err)))
            return rc;
        sqlite3_bind_int64(st, 1, VG_REF_PROVISIONAL);
    } else if ((rc = ws_stmt(ws, ST_CASE_NEXT_REF, &st, c->err))) {
        return rc;
    }
    int s = sqlite3_step(st);
    *ref = s == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 1;
    sqlite3_reset(st);
    return s == SQLITE_ROW ? VG_OK : ws_dberr(ws, c->err, "numbering a case");
}

static vg_rc h_case_create(ctx *c)
{
    const char *title, *desc, *assignee;
    int sev, tlp, pap;
    char *tags = NULL, *techs = NULL;
    vg_rc rc;
    if ((rc = create_fields_check(c)))
        return rc;
    if ((rc = need_text(c, "title", true, MAX_TITLE, &title)) ||
        (rc = need_text(c, "description", false, MAX_TEXT, &desc)) ||
        (rc = need_text(c, "assignee", false, MAX_VALUE, &assignee)) ||
        (rc = need_enum(c, "severity", &VG_SEVERITY, VG_SEV_MEDIUM, &sev)) ||
        (rc = need_enum(c, "tlp", &VG_TLP, 2, &tlp)) ||
        (rc = need_enum(c, "pap", &VG_PAP, 2, &pap)))
        return rc;
    if ((rc = need_list(c, "tags", cJSON_GetObjectItemCaseSensitive(c->op->payload, "tags"), &tags)))
        return rc;
    if ((rc = need_list(c, "techniques",
                        cJSON_GetObjectItemCaseSensitive(c->op->payload, "techniques"), &techs))) {
        free(tags);
        return rc;
    }
    int64_t ref = 0;
    if (!pnum(c, "ref", &ref) || ref <= 0) {
        if ((rc = next_ref(c, &ref)))
            goto out;
        pset_num(c, "ref", ref);
        title = pstr(c, "title"); /* the payload moved; re-read borrowed strings */
        desc = pstr(c, "description");
        assignee = pstr(c, "assignee");
    }
    sqlite3_stmt *st;
    if ((rc = ws_stmt(c->ws, ST_CASE_INSERT, &st, c->err)))
        goto out;
    sqlite3_bind_text(st, 1, c->op->target, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, ref);
    sqlite3_bind_text(st, 3, title, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, desc ? desc : "", -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, sev);
    sqlite3_bind_text(st, 6, VG_TLP.names[tlp], -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, VG_PAP.names[pap], -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, assignee ? assignee : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, tags, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, techs, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 11, c->op->actor, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 12, c->ms);
    sqlite3_bind_int64(st, 13, c->ms);
    if ((rc = step_done(c, st, "creating a case")) ||
        (inserted(c) && (rc = fts_stage(c, FTS_CASE, c->op->target, NULL, NULL, false))) ||
        (rc = create_fields_write(c)))
        goto out;
    char summary[160];
    snprintf(summary, sizeof summary, "case #%lld opened by %s (severity %s)", (long long)ref,
             c->op->actor, VG_SEVERITY.names[sev]);
    rc = emit(c, c->op->target, c->ms, "status", summary, NULL, NULL);
out:
    free(tags);
    free(techs);
    return rc;
}

/* Is the case the source of a case.merge (applied here)? */
static vg_rc merge_source(ctx *c, const char *case_id, bool *merged)
{
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt_text(c->ws, "SELECT 1 FROM case_merges WHERE source = ?", &st, c->err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    *merged = s == SQLITE_ROW;
    sqlite3_reset(st);
    return s == SQLITE_ROW || s == SQLITE_DONE ? VG_OK : ws_dberr(c->ws, c->err, "reading merges");
}

/* The fields `case.set` accepts, with their vocabulary (NULL = free text). */
static const struct case_field {
    const char *name;
    const vg_enum *vocab;
    size_t cap;
    int col; /* column in ST_CASE_FIELD */
} case_fields[] = {
    {"title", NULL, MAX_TITLE, 0},         {"description", NULL, MAX_TEXT, 1},
    {"severity", &VG_SEVERITY, 0, 2},      {"status", &VG_STATUS, 0, 3},
    {"tlp", &VG_TLP, 0, 4},                {"pap", &VG_PAP, 0, 5},
    {"assignee", NULL, MAX_VALUE, 6},      {"tags", NULL, 0, 7},
    {"techniques", NULL, 0, 8},
};
const char *const VG_CASE_FIELDS =
    "title, description, severity, status, tlp, pap, assignee, tags, techniques";

static vg_rc h_case_set(ctx *c)
{
    const char *field = pstr(c, "field");
    const struct case_field *f = NULL;
    if (field && strncmp(field, "field.", 6) == 0)
        return h_case_field(c, field + 6);
    for (size_t i = 0; field && i < sizeof case_fields / sizeof *case_fields; i++)
        if (strcmp(case_fields[i].name, field) == 0)
            f = &case_fields[i];
    if (!f)
        return vg_fail(c->err, VG_EINVAL, "'%s' is not a case field; fields are %s,"
                       " field.NAME (a custom field)", field ? field : "(none)", VG_CASE_FIELDS);

    /* Normalise the value to what is stored. */
    char *value = NULL;
    int idx = -1, res = -1;
    vg_rc rc;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->op->payload, "value");
    if (f->vocab) {
        if ((rc = need_enum(c, "value", f->vocab, -1, &idx)))
            return rc;
        value = vg_xstrdup(f->vocab->names[idx]);
    } else if (f->cap == 0) {
        if ((rc = need_list(c, f->name, v, &value)))
            return rc;
    } else {
        const char *s;
        bool required = strcmp(f->name, "title") == 0;
        if ((rc = check_text(c, v, f->name, required, f->cap, &s)))
            return rc;
        value = vg_xstrdup(s ? s : "");
    }
    if (idx >= 0 && f->vocab == &VG_STATUS) {
        const char *r = pstr(c, "resolution");
        if (idx == VG_ST_CLOSED) {
            char list[256];
            vg_enum_list(&VG_RESOLUTION, list, sizeof list);
            if (!r) {
                free(value);
                return vg_fail(c->err, VG_EINVAL, "closing a case needs a resolution: one of %s",
                               list);
            }
            if ((res = vg_enum_parse(&VG_RESOLUTION, r)) < 0) {
                free(value);
                return vg_fail(c->err, VG_EINVAL, "resolution: '%s' is not one of %s", r, list);
            }
            pset_str(c, "resolution", VG_RESOLUTION.names[res]);
        } else if (r) {
            free(value);
            return vg_fail(c->err, VG_EINVAL, "resolution: only a closed case has one");
        }
    }

    /* The current value: local ops must name an existing case, and record "old". */
    sqlite3_stmt *st;
    if ((rc = ws_stmt(c->ws, ST_CASE_FIELD, &st, c->err)))
        goto out;
    sqlite3_bind_text(st, 1, c->op->target, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    if (s != SQLITE_ROW) {
        sqlite3_reset(st);
        rc = s == SQLITE_DONE ? vg_fail(c->err, VG_ENOTFOUND, "case %s: no such case",
                                        c->op->target)
                              : ws_dberr(c->ws, c->err, "reading a case");
        goto out;
    }
    char *old = f->col == 2 ? vg_xstrdup(vg_enum_name(&VG_SEVERITY, sqlite3_column_int(st, 2)))
                            : col_dup(st, f->col);
    char *old_res = col_dup(st, 9);
    sqlite3_reset(st);
    if (c->local) {
        bool same = strcmp(old, value) == 0 &&
                    (res < 0 || strcmp(old_res, VG_RESOLUTION.names[res]) == 0);
        if (same) {
            free(old);
            free(old_res);
            c->op->seq = 0;
            rc = VG_OK;
            c->unchanged = true;
            goto out;
        }
        pset_str(c, "old", old);
    }
    free(old_res);
    /* Replace the payload value with its stored form (lists as arrays). */
    cJSON_DeleteItemFromObjectCaseSensitive(c->op->payload, "value");
    if (f->cap == 0 && !f->vocab)
        cJSON_AddItemToObject(c->op->payload, "value", cJSON_Parse(value));
    else
        cJSON_AddStringToObject(c->op->payload, "value", value);

    /* a merged case stays closed as a duplicate (h_case_merge), whichever came first,
     * the merge or a status set: the clock is kept, the status is not written */
    bool merged = false, wins;
    if (f->vocab == &VG_STATUS && (rc = merge_source(c, c->op->target, &merged)))
        goto out_old;
    if (merged && c->local) {
        int64_t ref = 0;
        case_ref(c, c->op->target, &ref);
        rc = vg_fail(c->err, VG_EINVAL,
                     "case #%lld was merged into another case: its status stays closed"
                     " (duplicate)",
                     (long long)ref);
        goto out_old;
    }
    if ((rc = lww(c, c->op->target, f->name, &wins)))
        goto out_old;
    if (wins && !merged) {
        static const char *const upd[] = {
            "UPDATE cases SET title = ?2 WHERE id = ?1",
            "UPDATE cases SET description = ?2 WHERE id = ?1",
            "UPDATE cases SET severity = ?3 WHERE id = ?1",
            "UPDATE cases SET status = ?2, resolution = ?4,"
            " closed_at = CASE WHEN ?2 = 'closed' THEN ?5 END WHERE id = ?1",
            "UPDATE cases SET tlp = ?2 WHERE id = ?1",
            "UPDATE cases SET pap = ?2 WHERE id = ?1",
            "UPDATE cases SET assignee = ?2 WHERE id = ?1",
            "UPDATE cases SET tags = ?2 WHERE id = ?1",
            "UPDATE cases SET techniques = ?2 WHERE id = ?1",
        };
        sqlite3_stmt *u;
        if ((rc = ws_stmt_text(c->ws, upd[f->col], &u, c->err)))
            goto out_old;
        sqlite3_bind_text(u, 1, c->op->target, -1, SQLITE_STATIC);
        sqlite3_bind_text(u, 2, value, -1, SQLITE_STATIC);
        if (sqlite3_bind_parameter_count(u) >= 3)
            sqlite3_bind_int(u, 3, idx);
        if (sqlite3_bind_parameter_count(u) >= 4) {
            if (res >= 0)
                sqlite3_bind_text(u, 4, VG_RESOLUTION.names[res], -1, SQLITE_STATIC);
            sqlite3_bind_int64(u, 5, c->ms);
        }
        if ((rc = step_done(c, u, "updating a case")))
            goto out_old;
        if (f->col <= 1 && (rc = fts_stage(c, FTS_CASE, c->op->target, NULL, NULL, true)))
            goto out_old; /* title, description */
    }
    /* acknowledged_at is the earliest move out of `new`, whichever op wins. */
    if (f->vocab == &VG_STATUS && idx != VG_ST_NEW) {
        static const char ack[] = "UPDATE cases SET acknowledged_at ="
                                  " min(coalesce(acknowledged_at, ?2), ?2) WHERE id = ?1";
        sqlite3_stmt *u;
        if ((rc = ws_stmt_text(c->ws, ack, &u, c->err)))
            goto out_old;
        sqlite3_bind_text(u, 1, c->op->target, -1, SQLITE_STATIC);
        sqlite3_bind_int64(u, 2, c->ms);
        if ((rc = step_done(c, u, "updating a case")))
            goto out_old;
    }

    /* "status new → in_progress by alice" */
    char summary[400], vshort[120], oshort[120];
    const char *o = pstr(c, "old");
    first_line(f->cap == MAX_TEXT ? "(edited)" : value, vshort, sizeof vshort);
    first_line(o ? (f->cap == MAX_TEXT ? "" : o) : "", oshort, sizeof oshort);
    /* "severity high → critical", or "assignee → alice" when there was none */
    bool had = o && *oshort;
    snprintf(summary, sizeof summary, "%s %s%s%s%s%s%s by %s", f->name, oshort,
             had ? " → " : o ? "→ " : "", vshort, res >= 0 ? " (" : "",
             res >= 0 ? VG_RESOLUTION.names[res] : "", res >= 0 ? ")" : "", c->op->actor);
    /* the row goes where the case's rows are (a merged case's: its target's) */
    const char *where = c->op->target;
    if ((rc = live_case(c, &where)) || (rc = emit(c, where, c->ms, "status", summary, NULL, NULL)))
        goto out_old;
    rc = touch(c, where);
out_old:
    free(old);
out:
    free(value);
    return rc;
}

/* A case's new ref (op.h: case.renumber). The ref is a field like case.set's, with
 * its clock ("ref"); a local op records the ref it replaces ("old") so that the
 * timeline row reads the same on every replica, and every applied op leaves its row,
 * winner or not, as case.set does. The outbox finds a case's renumbers by these
 * rows (sync.c). The case's updated_at stays: renumbering is bookkeeping, and a
 * first lease renumbers every case at once. */
static vg_rc h_case_renumber(ctx *c)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->op->payload, "ref");
    int64_t ref = 0, old;
    if (!pnum(c, "ref", &ref) || ref < 1 || (double)ref != v->valuedouble)
        return vg_fail(c->err, VG_EINVAL, "ref: required: a whole number from 1");
    vg_rc rc = case_ref(c, c->op->target, &old);
    if (rc)
        return rc;
    if (c->local) {
        if (old == ref) {
            c->unchanged = true;
            return VG_OK;
        }
        pset_num(c, "old", old);
    } else if (!pnum(c, "old", &old)) {
        old = 0; /* not said: the row names the new ref alone */
    }
    bool wins;
    if ((rc = lww(c, c->op->target, "ref", &wins)))
        return rc;
    if (wins) {
        sqlite3_stmt *u;
        if ((rc = ws_stmt_text(c->ws, "UPDATE cases SET ref = ?2 WHERE id = ?1", &u, c->err)))
            return rc;
        sqlite3_bind_text(u, 1, c->op->target, -1, SQLITE_STATIC);
        sqlite3_bind_int64(u, 2, ref);
        if ((rc = step_done(c, u, "renumbering a case")))
            return rc;
        if (c->ws->known_batch == c->ws->batches && strcmp(c->ws->known_case, c->op->target) == 0)
            c->ws->known_ref = ref;
    }
    char summary[96];
    if (old > 0)
        snprintf(summary, sizeof summary, "case renumbered #%lld → #%lld", (long long)old,
                 (long long)ref);
    else
        snprintf(summary, sizeof summary, "case renumbered → #%lld", (long long)ref);
    const char *where = c->op->target; /* a merged case's rows are on its target */
    if ((rc = live_case(c, &where)))
        return rc;
    return emit(c, where, c->ms, "status", summary, NULL, NULL);
}

/* ---- case.merge ------------------------------------------------------------------
 *
 * A merge moves what is on a case (its alerts, artifacts, tasks, notes, timeline rows,
 * evidence and copilot sessions) to another and closes it as a duplicate. Replicas see
 * merges and the writes for merged cases in any order, so where a case's rows live is a
 * function of the set of merges applied (case_merges), never of their order:
 *  - the cases joined by merges, directly or through others, are one group, and all
 *    the rows of a group's cases are on one case of it, its live case: of the cases
 *    no merge of the group takes from, the target of the latest merge (by clock and
 *    origin) into one of them; when every case is the source of one (a cycle of
 *    concurrent merges), the target of the latest merge;
 *  - every other case of the group has merged_into = the live case, where the door
 *    sends its writes (live_case); a merge that joins two groups or changes a
 *    group's live case moves the rows of its other cases there. Rows move only
 *    toward a group's live case, and moving commutes with every write: artifacts of
 *    the same value combine as artifact.add merges them (sightings add up, first and
 *    last seen widen, the IOC flag and the stricter TLP win, the smaller id names the
 *    row and its source, the later presence clock decides removed);
 *  - the source of any merge is closed, resolution duplicate, closed_at its earliest
 *    merge's time; a status set for it keeps its clock but is not written;
 *  - the cases of a group share updated_at (the latest of them; touch writes them
 *    all), so a write counts the same whether it came before or after the merge.
 * Unmerging is not an op: rows that moved cannot be told apart from the target's. */

typedef struct merge_edge {
    vg_id source, into, origin;
    uint64_t hlc;
} merge_edge;

typedef struct merge_group {
    merge_edge *edges; /* every merge applied here */
    size_t nedges;
    vg_id *members; /* the group of the op's source */
    size_t nmembers, cap;
} merge_group;

static bool group_has(const merge_group *g, const char *id)
{
    for (size_t i = 0; i < g->nmembers; i++)
        if (strcmp(g->members[i], id) == 0)
            return true;
    return false;
}

static void group_add(merge_group *g, const char *id)
{
    if (group_has(g, id))
        return;
    if (g->nmembers == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 8;
        g->members = vg_xrealloc(g->members, g->cap * sizeof *g->members);
    }
    snprintf(g->members[g->nmembers++], sizeof(vg_id), "%s", id);
}

static void group_free(merge_group *g)
{
    free(g->edges);
    free(g->members);
}

/* The group of case id: every merge applied, and the cases they join to it. */
static vg_rc group_load(ctx *c, const char *id, merge_group *g)
{
    memset(g, 0, sizeof *g);
    sqlite3_stmt *st;
    vg_rc rc =
        ws_stmt_text(c->ws, "SELECT source, into_case, origin, hlc FROM case_merges", &st, c->err);
    if (rc)
        return rc;
    size_t cap = 0;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (g->nedges == cap) {
            cap = cap ? cap * 2 : 16;
            g->edges = vg_xrealloc(g->edges, cap * sizeof *g->edges);
        }
        merge_edge *e = &g->edges[g->nedges++];
        col_id(st, 0, e->source);
        col_id(st, 1, e->into);
        col_id(st, 2, e->origin);
        e->hlc = (uint64_t)sqlite3_column_int64(st, 3);
    }
    sqlite3_reset(st);
    if (s != SQLITE_DONE)
        return ws_dberr(c->ws, c->err, "reading merges");
    group_add(g, id);
    for (bool grew = true; grew;) {
        grew = false;
        for (size_t i = 0; i < g->nedges; i++) {
            bool a = group_has(g, g->edges[i].source), b = group_has(g, g->edges[i].into);
            if (a != b) {
                group_add(g, a ? g->edges[i].into : g->edges[i].source);
                grew = true;
            }
        }
    }
    return VG_OK;
}

static bool edge_later(const merge_edge *a, const merge_edge *b)
{
    return !b || a->hlc > b->hlc || (a->hlc == b->hlc && strcmp(a->origin, b->origin) > 0);
}

/* The group's live case (the rule at the top of this section). */
static const char *group_live(const merge_group *g)
{
    const merge_edge *best = NULL, *any = NULL;
    for (size_t i = 0; i < g->nedges; i++) {
        const merge_edge *e = &g->edges[i];
        if (!group_has(g, e->source))
            continue;
        if (edge_later(e, any))
            any = e;
        bool taken = false;
        for (size_t j = 0; j < g->nedges && !taken; j++)
            taken = strcmp(g->edges[j].source, e->into) == 0;
        if (!taken && edge_later(e, best))
            best = e;
    }
    return best ? best->into : any ? any->into : g->members[0];
}

static vg_rc exec_ids(ctx *c, const char *sql, const char *a, const char *b, const char *what)
{
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt_text(c->ws, sql, &st, c->err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    if (b)
        sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
    return step_done(c, st, what);
}

/* One artifact of a case being moved. */
typedef struct moving_art {
    int64_t rowid, first, last, sightings, hlc;
    bool ioc, removed;
    char *id, *type, *value, *tlp, *source, *origin;
} moving_art;

static void moving_free(moving_art *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(m[i].id);
        free(m[i].type);
        free(m[i].value);
        free(m[i].tlp);
        free(m[i].source);
        free(m[i].origin);
    }
    free(m);
}

/* The artifacts of from, onto to: a value to does not hold moves, one it holds is
 * combined into its row there (the rule at the top of this section). */
static vg_rc move_artifacts(ctx *c, const char *from, const char *to)
{
    static const char list[] =
        "SELECT rowid, id, type, value, is_ioc, tlp, source, first_seen, last_seen, sightings,"
        " removed, clock_hlc, clock_origin FROM artifacts WHERE case_id = ?1";
    static const char held[] = "SELECT 1 FROM artifacts WHERE case_id = ?1 AND type = ?2"
                               " AND value = ?3";
    static const char combine[] =
        "UPDATE artifacts SET id = min(id, ?4), source = CASE WHEN ?4 < id THEN ?5 ELSE source END,"
        " is_ioc = max(is_ioc, ?6),"
        " tlp = CASE WHEN instr(',CLEAR,GREEN,AMBER,AMBER+STRICT,RED,', ',' || ?7 || ',')"
        "  > instr(',CLEAR,GREEN,AMBER,AMBER+STRICT,RED,', ',' || tlp || ',') THEN ?7 ELSE tlp END,"
        " first_seen = min(first_seen, ?8), last_seen = max(last_seen, ?9),"
        " sightings = sightings + ?10,"
        " removed = CASE WHEN ?12 > clock_hlc OR (?12 = clock_hlc AND ?13 > clock_origin)"
        "  THEN ?11 ELSE removed END,"
        " clock_origin = CASE WHEN ?12 > clock_hlc OR (?12 = clock_hlc AND ?13 > clock_origin)"
        "  THEN ?13 ELSE clock_origin END,"
        " clock_hlc = max(clock_hlc, ?12)"
        " WHERE case_id = ?1 AND type = ?2 AND value = ?3";
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt_text(c->ws, list, &st, c->err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
    moving_art *m = NULL;
    size_t n = 0, cap = 0;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            m = vg_xrealloc(m, cap * sizeof *m);
        }
        moving_art *a = &m[n++];
        a->rowid = sqlite3_column_int64(st, 0);
        a->id = col_dup(st, 1);
        a->type = col_dup(st, 2);
        a->value = col_dup(st, 3);
        a->ioc = sqlite3_column_int(st, 4);
        a->tlp = col_dup(st, 5);
        a->source = col_dup(st, 6);
        a->first = sqlite3_column_int64(st, 7);
        a->last = sqlite3_column_int64(st, 8);
        a->sightings = sqlite3_column_int64(st, 9);
        a->removed = sqlite3_column_int(st, 10);
        a->hlc = sqlite3_column_int64(st, 11);
        a->origin = col_dup(st, 12);
    }
    sqlite3_reset(st);
    if (s != SQLITE_DONE) {
        moving_free(m, n);
        return ws_dberr(c->ws, c->err, "reading artifacts");
    }
    for (size_t i = 0; i < n && rc == VG_OK; i++) {
        moving_art *a = &m[i];
        if ((rc = ws_stmt_text(c->ws, held, &st, c->err)))
            break;
        sqlite3_bind_text(st, 1, to, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, a->type, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, a->value, -1, SQLITE_STATIC);
        bool there = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_reset(st);
        if (!there) {
            rc = ws_stmt_text(c->ws, "UPDATE artifacts SET case_id = ?2 WHERE rowid = ?1", &st,
                              c->err);
            if (rc)
                break;
            sqlite3_bind_int64(st, 1, a->rowid);
            sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
            rc = step_done(c, st, "moving an artifact");
            continue;
        }
        /* the row goes first: its id may name the combined one */
        if ((rc = ws_stmt_text(c->ws, "DELETE FROM artifacts WHERE rowid = ?1", &st, c->err)))
            break;
        sqlite3_bind_int64(st, 1, a->rowid);
        if ((rc = step_done(c, st, "moving an artifact")) ||
            (rc = fts_stage_row(c, a->rowid * 8 + 4, NULL, NULL, true)) ||
            (rc = ws_stmt_text(c->ws, combine, &st, c->err)))
            break;
        sqlite3_bind_text(st, 1, to, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, a->type, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, a->value, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, a->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, a->source, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 6, a->ioc);
        sqlite3_bind_text(st, 7, a->tlp, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 8, a->first);
        sqlite3_bind_int64(st, 9, a->last);
        sqlite3_bind_int64(st, 10, a->sightings);
        sqlite3_bind_int(st, 11, a->removed);
        sqlite3_bind_int64(st, 12, a->hlc);
        sqlite3_bind_text(st, 13, a->origin, -1, SQLITE_STATIC);
        if ((rc = step_done(c, st, "combining an artifact")))
            break;
        rc = fts_stage(c, FTS_ARTIFACT, to, a->type, a->value, true);
    }
    moving_free(m, n);
    return rc;
}

/* Everything on case from, onto case to. */
static vg_rc move_case(ctx *c, const char *from, const char *to)
{
    static const char *const moves[] = {
        "UPDATE alerts SET case_id = ?2 WHERE case_id = ?1",
        "UPDATE tasks SET case_id = ?2 WHERE case_id = ?1",
        "UPDATE notes SET case_id = ?2 WHERE case_id = ?1",
        "UPDATE events SET case_id = ?2 WHERE case_id = ?1",
        "UPDATE task_logs SET case_id = ?2 WHERE case_id = ?1",
        "UPDATE evidence SET case_id = ?2 WHERE case_id = ?1",
        /* an entry's hash covers the case it was written on (ledger.c) */
        "UPDATE ledger SET hashed_case = coalesce(hashed_case, case_id), case_id = ?2"
        " WHERE case_id = ?1",
    };
    vg_rc rc = VG_OK;
    for (size_t i = 0; i < sizeof moves / sizeof *moves && rc == VG_OK; i++)
        rc = exec_ids(c, moves[i], from, to, "moving a merged case's rows");
    return rc ? rc : move_artifacts(c, from, to);
}

static vg_rc h_case_merge(ctx *c)
{
    const char *into, *src = c->op->target;
    int64_t src_ref, into_ref;
    vg_id src_live, into_live;
    vg_rc rc;
    if ((rc = need_text(c, "into", true, VG_ID_LEN, &into)))
        return rc;
    if (!vg_ulid_valid(into))
        return vg_fail(c->err, VG_EINVAL, "into: '%s' is not a case id", into);
    if ((rc = case_find(c, src, &src_ref, src_live)) ||
        (rc = case_find(c, into, &into_ref, into_live)))
        return rc;
    if (strcmp(src, into) == 0)
        return vg_fail(c->err, VG_EINVAL, "case #%lld cannot be merged into itself",
                       (long long)src_ref);
    bool merged;
    if ((rc = merge_source(c, src, &merged)))
        return rc;
    if (c->local) {
        sqlite3_stmt *st;
        if (merged || src_live[0])
            return vg_fail(c->err, VG_EINVAL, "case #%lld is merged already", (long long)src_ref);
        if (into_live[0]) {
            int64_t r = 0;
            case_ref(c, into_live, &r);
            return vg_fail(c->err, VG_EINVAL, "case #%lld was merged into #%lld: merge into #%lld",
                           (long long)into_ref, (long long)r, (long long)r);
        }
        if ((rc = ws_stmt(c->ws, ST_CASE_FIELD, &st, c->err)))
            return rc;
        sqlite3_bind_text(st, 1, into, -1, SQLITE_STATIC);
        bool closed = sqlite3_step(st) == SQLITE_ROW &&
                      strcmp((const char *)sqlite3_column_text(st, 3), "closed") == 0;
        sqlite3_reset(st);
        if (closed)
            return vg_fail(c->err, VG_EINVAL, "case #%lld is closed: reopen it to merge into it",
                           (long long)into_ref);
        pset_num(c, "ref", src_ref);
        pset_num(c, "into_ref", into_ref);
        into = pstr(c, "into");
    }
    /* the times of this batch's writes are in before the group's are read */
    if ((rc = flush_touched(c->ws, c->err)))
        return rc;
    c->ws->known_batch = -1; /* what case_find remembers may move */
    sqlite3_stmt *st;
    if ((rc = ws_stmt_text(c->ws,
                           "INSERT OR IGNORE INTO case_merges(op, source, into_case, hlc,"
                           " origin) VALUES (?, ?, ?, ?, ?)",
                           &st, c->err)))
        return rc;
    sqlite3_bind_text(st, 1, c->op->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, src, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, into, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)c->op->hlc);
    sqlite3_bind_text(st, 5, c->op->origin, -1, SQLITE_STATIC);
    if ((rc = step_done(c, st, "recording a merge")))
        return rc;
    static const char close_src[] =
        "UPDATE cases SET status = 'closed', resolution = 'duplicate',"
        " closed_at = (SELECT min(hlc) >> 16 FROM case_merges WHERE source = ?1),"
        " acknowledged_at = min(coalesce(acknowledged_at, ?2), ?2) WHERE id = ?1";
    if ((rc = ws_stmt_text(c->ws, close_src, &st, c->err)))
        return rc;
    sqlite3_bind_text(st, 1, src, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, c->ms);
    if ((rc = step_done(c, st, "closing a merged case")))
        return rc;

    merge_group g;
    if ((rc = group_load(c, src, &g)))
        goto out;
    vg_id live;
    snprintf(live, sizeof live, "%s", group_live(&g));
    for (size_t i = 0; i < g.nmembers && rc == VG_OK; i++) {
        const char *m = g.members[i];
        bool is_live = strcmp(m, live) == 0;
        if ((rc = exec_ids(c, "UPDATE cases SET merged_into = ?2 WHERE id = ?1", m,
                           is_live ? NULL : live, "merging a case")))
            break;
        if (!is_live)
            rc = move_case(c, m, live);
    }
    /* one updated_at for the group: the latest of its cases' */
    static const char times[] =
        "UPDATE cases SET updated_at = (SELECT max(updated_at) FROM cases"
        " WHERE id = ?1 OR merged_into = ?1) WHERE id = ?1 OR merged_into = ?1";
    if (rc == VG_OK)
        rc = exec_ids(c, times, live, NULL, "merging a case");
    /* "merged #12 into this case by alice": the refs the author saw (renumbering
     * changes refs, and the text of a row depends on its op alone) */
    char summary[160];
    int64_t r1 = src_ref;
    pnum(c, "ref", &r1);
    snprintf(summary, sizeof summary, "merged #%lld into this case by %s", (long long)r1,
             c->op->actor);
    if (rc == VG_OK)
        rc = emit(c, live, c->ms, "status", summary, NULL, NULL);
    if (rc == VG_OK)
        rc = touch(c, live);
out:
    group_free(&g);
    return rc;
}

static vg_rc h_note_add(ctx *c)
{
    const char *case_id, *body;
    vg_rc rc;
    if ((rc = need_case(c, &case_id)) || (rc = need_text(c, "body", true, MAX_TEXT, &body)))
        return rc;
    sqlite3_stmt *st;
    if ((rc = ws_stmt(c->ws, ST_NOTE_INSERT, &st, c->err)))
        return rc;
    sqlite3_bind_text(st, 1, c->op->target, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, case_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, c->op->actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, body, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, c->ms);
    if ((rc = step_done(c, st, "adding a note")) ||
        (inserted(c) && (rc = fts_stage(c, FTS_NOTE, c->op->target, NULL, NULL, false))))
        return rc;
    char line[100], summary[160];
    first_line(body + strspn(body, " \t\r\n"), line, sizeof line);
    snprintf(summary, sizeof summary, "note by %s: %s", c->op->actor, line);
    if ((rc = emit(c, case_id, c->ms, "note", summary, NULL, NULL)))
        return rc;
    return touch(c, case_id);
}

/* Validate and normalise (case, type, value) of an artifact op; *norm is fresh. */
static vg_rc need_artifact(ctx *c, const char **case_id, int *type, char **norm)
{
    const char *value;
    vg_rc rc;
    if ((rc = need_case(c, case_id)) ||
        (rc = need_enum(c, "type", &VG_ARTIFACT_TYPE, -1, type)) ||
        (rc = need_text(c, "value", true, MAX_VALUE, &value)))
        return rc;
    *norm = vg_ioc_normalise(*type, value);
    if (!**norm) {
        free(*norm);
        return vg_fail(c->err, VG_EINVAL, "value: must not be empty");
    }
    return VG_OK;
}

/* The artifact (case, type, value): does it exist, is it removed, and does this
 * op's clock beat its presence clock? */
static vg_rc art_find(ctx *c, const char *case_id, const char *type, const char *value,
                      bool *exists, bool *removed, bool *wins)
{
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt(c->ws, ST_ART_FIND, &st, c->err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, value, -1, SQLITE_STATIC);
    *exists = sqlite3_step(st) == SQLITE_ROW;
    *removed = *exists && sqlite3_column_int(st, 1);
    *wins = !*exists ||
            beats(c, (uint64_t)sqlite3_column_int64(st, 2), sqlite3_column_text(st, 3));
    sqlite3_reset(st);
    return VG_OK;
}

/* Set the artifact's presence register (a removal is a tombstone) to this op. */
static vg_rc art_presence(ctx *c, const char *case_id, const char *type, const char *value,
                          bool removed)
{
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt(c->ws, ST_ART_PRESENCE, &st, c->err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, value, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, removed);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)c->op->hlc);
    sqlite3_bind_text(st, 6, c->op->origin, -1, SQLITE_STATIC);
    if ((rc = step_done(c, st, "updating an artifact")))
        return rc;
    return fts_stage(c, FTS_ARTIFACT, case_id, type, value, true);
}

/* A new artifact row with this id, staged for search; *inserted false when the
 * case holds the value already (nothing written). */
static vg_rc art_insert(ctx *c, const char *id, const char *case_id, const char *tname,
                        const char *value, bool is_ioc, const char *tlp, const char *source,
                        int64_t seen, bool *inserted)
{
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt(c->ws, ST_ART_INSERT, &st, c->err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, case_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, tname, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, value, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, is_ioc);
    sqlite3_bind_text(st, 6, tlp, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, source, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, seen);
    sqlite3_bind_int64(st, 9, seen);
    sqlite3_bind_int64(st, 10, (sqlite3_int64)c->op->hlc);
    sqlite3_bind_text(st, 11, c->op->origin, -1, SQLITE_STATIC);
    if ((rc = step_done(c, st, "adding an artifact")))
        return rc;
    *inserted = sqlite3_changes(c->ws->db) == 1;
    if (!*inserted)
        return VG_OK;
    return fts_stage_row(c, sqlite3_last_insert_rowid(c->ws->db) * 8 + 4, value, NULL, false);
}

static vg_rc h_artifact_add(ctx *c)
{
    const char *case_id;
    int type, tlp, src;
    char *value = NULL;
    vg_rc rc;
    if ((rc = need_artifact(c, &case_id, &type, &value)))
        return rc;
    char why[200];
    if (c->local && !vg_artifact_valid(type, value, why, sizeof why)) {
        rc = vg_fail(c->err, VG_EINVAL, "%s", why);
        goto out;
    }
    if ((rc = need_enum(c, "tlp", &VG_TLP, 2, &tlp)) ||
        (rc = need_enum(c, "source", &VG_ARTIFACT_SOURCE, 0, &src)))
        goto out;
    pset_str(c, "value", value);
    if (!c->live[0])
        case_id = pstr(c, "case");
    int64_t seen = c->ms;
    pnum(c, "seen", &seen);
    const char *tname = VG_ARTIFACT_TYPE.names[type];

    bool exists, was_removed, wins;
    sqlite3_stmt *st;
    if ((rc = art_find(c, case_id, tname, value, &exists, &was_removed, &wins)))
        goto out;
    if (!exists) {
        bool inserted;
        if ((rc = art_insert(c, c->op->target, case_id, tname, value, pbool(c, "is_ioc"),
                             VG_TLP.names[tlp], VG_ARTIFACT_SOURCE.names[src], seen, &inserted)))
            goto out;
    } else {
        if ((rc = ws_stmt(c->ws, ST_ART_MERGE, &st, c->err)))
            goto out;
        sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, c->op->target, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, pbool(c, "is_ioc"));
        sqlite3_bind_text(st, 4, VG_TLP.names[tlp], -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, seen);
        sqlite3_bind_text(st, 6, tname, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, value, -1, SQLITE_STATIC);
        if ((rc = step_done(c, st, "merging an artifact")))
            goto out;
        if (wins && (rc = art_presence(c, case_id, tname, value, false)))
            goto out;
    }
    /* Whether it was already there is the author's view, carried in the op, so the
     * timeline reads the same on every replica. */
    if (c->local && exists && !was_removed)
        cJSON_AddTrueToObject(c->op->payload, "again");
    /* A value that came with an alert has that alert's row on the timeline, at the
     * same time; a row of its own for each would bury the story under addresses. */
    if (strcmp(VG_ARTIFACT_SOURCE.names[src], "alert") == 0) {
        rc = touch(c, case_id);
        goto out;
    }
    char summary[200], vshort[120];
    first_line(value, vshort, sizeof vshort);
    snprintf(summary, sizeof summary, "artifact %s: %s %s%s", pbool(c, "again") ? "seen again" : "added",
             tname, vshort, pbool(c, "is_ioc") ? " (IOC)" : "");
    if ((rc = emit(c, case_id, seen, "artifact", summary, NULL, NULL)))
        goto out;
    rc = touch(c, case_id);
out:
    free(value);
    return rc;
}

static vg_rc h_artifact_remove(ctx *c)
{
    const char *case_id;
    int type;
    char *value = NULL;
    vg_rc rc;
    if ((rc = need_artifact(c, &case_id, &type, &value)))
        return rc;
    const char *tname = VG_ARTIFACT_TYPE.names[type];
    bool exists, removed, wins;
    if ((rc = art_find(c, case_id, tname, value, &exists, &removed, &wins)))
        goto out;
    if (!exists || (c->local && removed)) {
        rc = vg_fail(c->err, VG_ENOTFOUND, "artifact %s %s is not on this case", tname, value);
        goto out;
    }
    if (wins && (rc = art_presence(c, case_id, tname, value, true)))
        goto out;
    char summary[200], vshort[120];
    first_line(value, vshort, sizeof vshort);
    snprintf(summary, sizeof summary, "artifact removed: %s %s by %s", tname, vshort,
             c->op->actor);
    if ((rc = emit(c, case_id, c->ms, "artifact", summary, NULL, NULL)))
        goto out;
    rc = touch(c, case_id);
out:
    free(value);
    return rc;
}

static vg_rc h_task_add(ctx *c)
{
    const char *case_id, *title, *desc, *assignee, *playbook;
    int phase, status;
    vg_rc rc;
    if ((rc = need_case(c, &case_id)) ||
        (rc = need_enum(c, "phase", &VG_PHASE, -1, &phase)) ||
        (rc = need_text(c, "title", true, MAX_TITLE, &title)) ||
        (rc = need_text(c, "description", false, MAX_TEXT, &desc)) ||
        (rc = need_text(c, "assignee", false, MAX_VALUE, &assignee)) ||
        (rc = need_text(c, "playbook", false, MAX_VALUE, &playbook)) ||
        (rc = need_enum(c, "status", &VG_TASK_STATUS, 0, &status)))
        return rc;
    int64_t ord;
    sqlite3_stmt *st;
    if (!pnum(c, "order", &ord)) {
        if ((rc = ws_stmt(c->ws, ST_TASK_NEXT_ORD, &st, c->err)))
            return rc;
        sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
        ord = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 1;
        sqlite3_reset(st);
        pset_num(c, "order", ord);
        if (!c->live[0])
            case_id = pstr(c, "case");
        title = pstr(c, "title");
        desc = pstr(c, "description");
        assignee = pstr(c, "assignee");
        playbook = pstr(c, "playbook");
    }
    if ((rc = ws_stmt(c->ws, ST_TASK_INSERT, &st, c->err)))
        return rc;
    sqlite3_bind_text(st, 1, c->op->target, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, case_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, VG_PHASE.names[phase], -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, title, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, desc ? desc : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, VG_TASK_STATUS.names[status], -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, assignee ? assignee : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, ord);
    if (playbook)
        sqlite3_bind_text(st, 9, playbook, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 10, c->ms);
    if (status == 2)
        sqlite3_bind_int64(st, 11, c->ms);
    sqlite3_bind_int(st, 12, pbool(c, "mandatory"));
    if ((rc = step_done(c, st, "adding a task")))
        return rc;
    char summary[200], tshort[120];
    first_line(title, tshort, sizeof tshort);
    snprintf(summary, sizeof summary, "task added [%s]: %s", VG_PHASE.names[phase], tshort);
    if ((rc = emit(c, case_id, c->ms, "task", summary, NULL, NULL)))
        return rc;
    return touch(c, case_id);
}

const char *const VG_TASK_FIELDS = "status, title, description, assignee, phase";

static vg_rc h_task_set(ctx *c)
{
    static const struct { const char *name; const vg_enum *vocab; size_t cap; int col; } tf[] = {
        {"status", &VG_TASK_STATUS, 0, 2}, {"title", NULL, MAX_TITLE, 0},
        {"description", NULL, MAX_TEXT, 4}, {"assignee", NULL, MAX_VALUE, 3},
        {"phase", &VG_PHASE, 0, 1},
    };
    const char *case_id, *field = pstr(c, "field");
    vg_rc rc;
    if ((rc = need_case(c, &case_id)))
        return rc;
    int fi = -1;
    for (int i = 0; field && i < (int)(sizeof tf / sizeof *tf); i++)
        if (strcmp(tf[i].name, field) == 0)
            fi = i;
    if (fi < 0)
        return vg_fail(c->err, VG_EINVAL, "'%s' is not a task field; fields are %s",
                       field ? field : "(none)", VG_TASK_FIELDS);
    const char *value;
    int idx = -1;
    if (tf[fi].vocab) {
        if ((rc = need_enum(c, "value", tf[fi].vocab, -1, &idx)))
            return rc;
        value = tf[fi].vocab->names[idx];
    } else if ((rc = need_text(c, "value", fi == 1, tf[fi].cap, &value))) {
        return rc;
    }
    if (!value)
        value = "";
    sqlite3_stmt *st;
    if ((rc = ws_stmt(c->ws, ST_TASK_GET, &st, c->err)))
        return rc;
    sqlite3_bind_text(st, 1, c->op->target, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, case_id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return vg_fail(c->err, VG_ENOTFOUND, "task %s is not on this case", c->op->target);
    }
    char *title = col_dup(st, 0), *old = col_dup(st, tf[fi].col);
    sqlite3_reset(st);
    char *val = vg_xstrdup(value);
    if (c->local) {
        if (strcmp(old, val) == 0) {
            c->unchanged = true;
            goto out;
        }
        pset_str(c, "title", title);
        pset_str(c, "old", old);
        pset_str(c, "value", val);
    }
    bool wins;
    if ((rc = lww(c, c->op->target, tf[fi].name, &wins)))
        goto out;
    if (wins) {
        static const char *const upd[] = {
            "UPDATE tasks SET status = ?2, done_at = CASE WHEN ?2 = 'done' THEN ?3 END WHERE id = ?1",
            "UPDATE tasks SET title = ?2 WHERE id = ?1",
            "UPDATE tasks SET description = ?2 WHERE id = ?1",
            "UPDATE tasks SET assignee = ?2 WHERE id = ?1",
            "UPDATE tasks SET phase = ?2 WHERE id = ?1",
        };
        sqlite3_stmt *u;
        if ((rc = ws_stmt_text(c->ws, upd[fi], &u, c->err)))
            goto out;
        sqlite3_bind_text(u, 1, c->op->target, -1, SQLITE_STATIC);
        sqlite3_bind_text(u, 2, val, -1, SQLITE_STATIC);
        if (fi == 0)
            sqlite3_bind_int64(u, 3, c->ms);
        if ((rc = step_done(c, u, "updating a task")))
            goto out;
    }
    char summary[400], tshort[120], vshort[120];
    const char *ptitle = pstr(c, "title"), *pold = pstr(c, "old");
    first_line(ptitle ? ptitle : title, tshort, sizeof tshort);
    first_line(tf[fi].cap == MAX_TEXT ? "(edited)" : val, vshort, sizeof vshort);
    snprintf(summary, sizeof summary, "task '%s' %s %s%s%s by %s", tshort, tf[fi].name,
             pold && tf[fi].cap != MAX_TEXT ? pold : "", pold ? " → " : "", vshort,
             c->op->actor);
    if ((rc = emit(c, case_id, c->ms, "task", summary, NULL, NULL)))
        goto out;
    rc = touch(c, case_id);
out:
    free(title);
    free(old);
    free(val);
    return rc;
}

/* A task log entry (TheHive's task logs): the op's id is the entry's, target the
 * task, which must be on the case; a local op carries the task's title for its
 * timeline row, so the row's text depends on the op alone. The text is kept
 * whole; the timeline shows its first line. */
static vg_rc h_task_log(ctx *c)
{
    const char *case_id, *text;
    vg_rc rc;
    if ((rc = need_case(c, &case_id)) || (rc = need_text(c, "text", true, MAX_TEXT, &text)))
        return rc;
    sqlite3_stmt *st;
    if ((rc = ws_stmt(c->ws, ST_TASK_GET, &st, c->err)))
        return rc;
    sqlite3_bind_text(st, 1, c->op->target, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, case_id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return vg_fail(c->err, VG_ENOTFOUND, "task %s is not on this case", c->op->target);
    }
    char *title = col_dup(st, 0);
    sqlite3_reset(st);
    if (c->local) {
        pset_str(c, "title", title);
        case_id = pstr(c, "case");
        text = pstr(c, "text");
    }
    static const char ins[] = "INSERT OR IGNORE INTO task_logs(id, task_id, case_id, author, body,"
                              " created_at) VALUES (?, ?, ?, ?, ?, ?)";
    if ((rc = ws_stmt_text(c->ws, ins, &st, c->err)))
        goto out;
    sqlite3_bind_text(st, 1, c->op->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, c->op->target, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, case_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, c->op->actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, c->ms);
    if ((rc = step_done(c, st, "adding a task log entry")))
        goto out;
    char summary[400], tshort[120], line[100];
    const char *ptitle = pstr(c, "title");
    first_line(ptitle ? ptitle : title, tshort, sizeof tshort);
    first_line(text + strspn(text, " \t\r\n"), line, sizeof line);
    snprintf(summary, sizeof summary, "task '%s' log by %s: %s", tshort, c->op->actor, line);
    if ((rc = emit(c, case_id, c->ms, "task", summary, NULL, NULL)))
        goto out;
    rc = touch(c, case_id);
out:
    free(title);
    return rc;
}

static vg_rc h_event_add(ctx *c)
{
    const char *case_id, *summary, *source, *technique, *tactic;
    int kind;
    int64_t occurred;
    vg_rc rc;
    if ((rc = need_case(c, &case_id)) ||
        (rc = need_text(c, "summary", true, MAX_VALUE, &summary)) ||
        (rc = need_text(c, "source", false, MAX_VALUE, &source)) ||
        (rc = need_text(c, "technique", false, 32, &technique)) ||
        (rc = need_text(c, "tactic", false, 64, &tactic)) ||
        (rc = need_enum(c, "kind", &VG_EVENT_KIND, 6, &kind)))
        return rc;
    if (!pnum(c, "occurred_at", &occurred) || occurred < 0)
        return vg_fail(c->err, VG_EINVAL, "occurred_at: required (milliseconds since the epoch)");
    sqlite3_stmt *st;
    if ((rc = ws_stmt(c->ws, ST_EVENT_INSERT, &st, c->err)))
        return rc;
    sqlite3_bind_text(st, 1, c->op->target, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, case_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, occurred);
    sqlite3_bind_int64(st, 4, c->ms);
    sqlite3_bind_text(st, 5, VG_EVENT_KIND.names[kind], -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, summary, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, source ? source : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, c->op->actor, -1, SQLITE_STATIC);
    if (technique)
        sqlite3_bind_text(st, 9, technique, -1, SQLITE_STATIC);
    if (tactic)
        sqlite3_bind_text(st, 10, tactic, -1, SQLITE_STATIC);
    if ((rc = step_done(c, st, "adding a timeline event")))
        return rc;
    /* search finds the entries analysts write themselves (schema step 3) */
    const char *k = VG_EVENT_KIND.names[kind];
    if ((strcmp(k, "manual") == 0 || strcmp(k, "copilot") == 0) && inserted(c) &&
        (rc = fts_stage(c, FTS_EVENT, c->op->target, NULL, NULL, false)))
        return rc;
    return touch(c, case_id);
}

static vg_rc h_event_set(ctx *c)
{
    const char *case_id, *field = pstr(c, "field");
    vg_rc rc;
    if ((rc = need_case(c, &case_id)))
        return rc;
    if (!field || strcmp(field, "starred") != 0)
        return vg_fail(c->err, VG_EINVAL, "'%s' is not an event field; fields are starred",
                       field ? field : "(none)");
    bool wins;
    if ((rc = lww(c, c->op->target, "starred", &wins)))
        return rc;
    if (wins) {
        static const char star[] = "UPDATE events SET starred = ?2 WHERE id = ?1 AND case_id = ?3";
        sqlite3_stmt *u;
        if ((rc = ws_stmt_text(c->ws, star, &u, c->err)))
            return rc;
        sqlite3_bind_text(u, 1, c->op->target, -1, SQLITE_STATIC);
        sqlite3_bind_int(u, 2, pbool(c, "value"));
        sqlite3_bind_text(u, 3, case_id, -1, SQLITE_STATIC);
        if ((rc = step_done(c, u, "updating an event")))
            return rc;
        bool found = sqlite3_changes(c->ws->db) > 0;
        if (!found && c->local)
            return vg_fail(c->err, VG_ENOTFOUND, "event %s is not on this case", c->op->target);
    }
    return touch(c, case_id);
}

/* The correlation keys of new alerts (schema step 3). An import writes millions,
 * with keys in no order, into an index larger than the page cache: written as
 * they come, nearly each would read a page and push a dirty one out. So the door
 * collects a batch's keys and writes them in key order when it commits (or when
 * correlation is about to read them), each page once. */
typedef struct ws_key {
    char *key;
    int64_t t, alert;
} ws_key;

struct key_ctx {
    vg_ws *ws;
    int64_t t, alert;
};

static void put_key(void *ud, int type, const char *value)
{
    struct key_ctx *k = ud;
    vg_ws *ws = k->ws;
    if (!vg_entity_is_key(type))
        return;
    if (ws->nkeys == ws->capkeys) {
        ws->capkeys = ws->capkeys ? ws->capkeys * 2 : 1024;
        ws->keys = vg_xrealloc(ws->keys, ws->capkeys * sizeof *ws->keys);
    }
    const char *tname = VG_ARTIFACT_TYPE.names[type];
    size_t n = strlen(tname) + 1 + strlen(value) + 1;
    char *key = vg_xmalloc(n);
    snprintf(key, n, "%s:%s", tname, value);
    ws->keys[ws->nkeys++] = (ws_key){key, k->t, k->alert};
}

static void alert_keys(ctx *c, const cJSON *entities, int64_t rowid, int64_t t)
{
    struct key_ctx k = {c->ws, t, rowid};
    vg_entity_each(entities, put_key, &k);
}

static int key_cmp(const void *x, const void *y)
{
    const ws_key *a = x, *b = y;
    int d = strcmp(a->key, b->key);
    if (d)
        return d;
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    return (a->alert > b->alert) - (a->alert < b->alert);
}

void ws_drop_keys(vg_ws *ws)
{
    for (size_t i = 0; i < ws->nkeys; i++)
        free(ws->keys[i].key);
    ws->nkeys = 0;
}

vg_rc ws_flush_keys(vg_ws *ws, vg_err *err)
{
    static const char sql[] = "INSERT OR IGNORE INTO alert_keys(key, t, alert) VALUES (?1, ?2, ?3)";
    if (!ws->nkeys)
        return VG_OK;
    qsort(ws->keys, ws->nkeys, sizeof *ws->keys, key_cmp);
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt_text(ws, sql, &st, err);
    for (size_t i = 0; rc == VG_OK && i < ws->nkeys; i++) {
        sqlite3_bind_text(st, 1, ws->keys[i].key, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, ws->keys[i].t);
        sqlite3_bind_int64(st, 3, ws->keys[i].alert);
        int s = sqlite3_step(st);
        sqlite3_reset(st);
        if (s != SQLITE_DONE)
            rc = ws_dberr(ws, err, "indexing alerts' entities");
    }
    ws_drop_keys(ws);
    return rc;
}

/* An alert's entities brought to a case (alert.add, or alert.set linking it, with
 * artifacts). The author decides which values: those the case does not hold when
 * the op is made (what it holds is left alone: the alert's own timeline row says
 * it was seen again, and rewriting every held artifact's counts would cost an
 * import a fifth of its time). The op records the choice, as the places of the
 * chosen values among the alert's entities (vg_entity_each's order, at most
 * ALERT_ARTIFACTS), and every replica adds exactly those as artifact.add would
 * (source alert, seen at t): inserted when new, merged when there (sightings,
 * seen times, the smaller id), presence last-writer-wins. The choice depends on
 * the author's state; what the op does does not, so replicas converge. true
 * means every value (a hand-written op). The artifact's id is made from the case,
 * type and value, and its clock is the op's, so every replica makes the same
 * rows. No timeline row: the alert's own row tells it. */
#define ALERT_ARTIFACTS 200
struct art_ctx {
    ctx *c;
    const char *case_id;
    const char *id_case; /* the case the op names, which the values' ids are made from */
    int64_t t;
    bool choose;    /* a local op: choose, recording the choice in picked */
    const cJSON *pick; /* a received op: the places chosen (NULL: every value) */
    cJSON *picked;
    vg_rc rc;
};

static vg_rc h_artifact_add(ctx *c);

/* The common cases without reading the row first: a value the case holds merges
 * (as ST_ART_MERGE, its presence clock moving on if this op's is later, as
 * art_presence would for a present row); a value new to it is inserted
 * (art_insert). The id is left out of the merge (an indexed column set is an index
 * entry rewritten): a row whose id is not above this one's needs no new id, and
 * the rest, like a removed value, go to artifact.add (changes() == 0 both times). */
static const char art_seen[] =
    "UPDATE artifacts SET is_ioc = max(is_ioc, ?5),"
    " first_seen = min(first_seen, ?6), last_seen = max(last_seen, ?6),"
    " sightings = sightings + 1,"
    " tlp = CASE WHEN instr(',CLEAR,GREEN,AMBER,AMBER+STRICT,RED,', ',AMBER,')"
    "  > instr(',CLEAR,GREEN,AMBER,AMBER+STRICT,RED,', ',' || tlp || ',') THEN 'AMBER' ELSE tlp END,"
    " clock_hlc = CASE WHEN ?7 > clock_hlc OR (?7 = clock_hlc AND ?8 > clock_origin)"
    "  THEN ?7 ELSE clock_hlc END,"
    " clock_origin = CASE WHEN ?7 > clock_hlc OR (?7 = clock_hlc AND ?8 > clock_origin)"
    "  THEN ?8 ELSE clock_origin END"
    " WHERE case_id = ?2 AND type = ?3 AND value = ?4 AND removed = 0 AND id <= ?1";

/* A value the case held when the op was made, brought again by an alert: one more
 * sighting, and its first and last seen move to take in the alert's time. The
 * value's row is there on every replica (the op that made it came before this one,
 * as it did on the author's); a removed one counts too, so that the count does not
 * depend on whether a concurrent removal came first. live: only a value the case
 * holds now (the author's own choice, made by this update's changes()). */
static vg_rc art_sighted(ctx *c, const char *case_id, const char *type, const char *value,
                         int64_t t, bool live)
{
    static const char sql[] = "UPDATE artifacts SET sightings = sightings + 1,"
                              " first_seen = min(first_seen, ?4), last_seen = max(last_seen, ?4)"
                              " WHERE case_id = ?1 AND type = ?2 AND value = ?3";
    static const char sql_live[] = "UPDATE artifacts SET sightings = sightings + 1,"
                                   " first_seen = min(first_seen, ?4),"
                                   " last_seen = max(last_seen, ?4)"
                                   " WHERE case_id = ?1 AND type = ?2 AND value = ?3"
                                   " AND removed = 0";
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt_text(c->ws, live ? sql_live : sql, &st, c->err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, value, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, t);
    return step_done(c, st, "counting an artifact's sighting");
}

static bool picked(const cJSON *pick, int i)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, pick)
        if (cJSON_IsNumber(it) && it->valuedouble == i)
            return true;
    return false;
}

static void put_artifact(void *ud, int type, const char *value, bool ioc, int place)
{
    struct art_ctx *a = ud;
    ctx *c = a->c;
    if (a->rc || place >= ALERT_ARTIFACTS)
        return;
    int i = place; /* what the op's places count (vg_entity_each_ioc) */
    const char *tname = VG_ARTIFACT_TYPE.names[type];
    bool exists = true;
    if (a->choose) {
        /* held: sighted again (one lookup); else chosen, as new (inserted below) or
         * removed (the insert ignored: artifact.add's rules), with no lookup of its own */
        if ((a->rc = art_sighted(c, a->case_id, tname, value, a->t, true)) ||
            sqlite3_changes(c->ws->db) == 1)
            return;
        exists = false;
        cJSON_AddItemToArray(a->picked, cJSON_CreateNumber(i));
    } else if (a->pick && !picked(a->pick, i)) {
        a->rc = art_sighted(c, a->case_id, tname, value, a->t, false);
        return;
    }
    /* one id for the value on the case, whichever alert brings it: its case's time
     * and a hash of what it names */
    unsigned char h[32];
    crypto_generichash_state hs;
    crypto_generichash_init(&hs, NULL, 0, sizeof h);
    crypto_generichash_update(&hs, (const unsigned char *)a->id_case, strlen(a->id_case) + 1);
    crypto_generichash_update(&hs, (const unsigned char *)tname, strlen(tname) + 1);
    crypto_generichash_update(&hs, (const unsigned char *)value, strlen(value));
    crypto_generichash_final(&hs, h, sizeof h);
    vg_id id;
    vg_ulid_from(vg_ulid_ms(a->id_case), h, id);
    if (exists) { /* held, as far as this op knows: merged in place */
        sqlite3_stmt *st;
        if ((a->rc = ws_stmt_text(c->ws, art_seen, &st, c->err)))
            return;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, a->case_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, tname, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, value, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 5, ioc);
        sqlite3_bind_int64(st, 6, a->t);
        sqlite3_bind_int64(st, 7, (sqlite3_int64)c->op->hlc);
        sqlite3_bind_text(st, 8, c->op->origin, -1, SQLITE_STATIC);
        if ((a->rc = step_done(c, st, "adding an artifact")) || sqlite3_changes(c->ws->db) == 1)
            return;
    }
    bool inserted; /* a value new to the case, with the op's clock */
    if ((a->rc = art_insert(c, id, a->case_id, tname, value, ioc, "AMBER", "alert", a->t,
                            &inserted)) || inserted)
        return;
    /* removed from the case: artifact.add's merge and presence rules decide */
    vg_op sub = {.hlc = c->op->hlc, .actor = c->op->actor, .tenant = c->op->tenant};
    memcpy(sub.id, c->op->id, sizeof sub.id);
    memcpy(sub.origin, c->op->origin, sizeof sub.origin);
    memcpy(sub.target, id, sizeof sub.target);
    snprintf(sub.kind, sizeof sub.kind, "artifact.add");
    sub.payload = cJSON_CreateObject();
    cJSON_AddStringToObject(sub.payload, "case", a->case_id);
    cJSON_AddStringToObject(sub.payload, "type", tname);
    cJSON_AddStringToObject(sub.payload, "value", value);
    cJSON_AddBoolToObject(sub.payload, "is_ioc", ioc);
    cJSON_AddStringToObject(sub.payload, "source", "alert");
    cJSON_AddNumberToObject(sub.payload, "seen", (double)a->t);
    ctx sc = {.ws = c->ws, .op = &sub, .local = false, .ms = c->ms, .raw_at = -1, .err = c->err};
    a->rc = h_artifact_add(&sc);
    cJSON_Delete(sub.payload);
}

/* artifacts, when given: true or the places of at most ALERT_ARTIFACTS values. */
static vg_rc check_artifacts(ctx *c)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->op->payload, "artifacts");
    if (!v || cJSON_IsBool(v))
        return VG_OK;
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > ALERT_ARTIFACTS)
        return vg_fail(c->err, VG_EINVAL, "artifacts: true, or a list of at most %d places",
                       ALERT_ARTIFACTS);
    return VG_OK;
}

/* Does the op bring its alert's entities to the case (true, or a choice)? */
static bool wants_artifacts(const ctx *c)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->op->payload, "artifacts");
    return cJSON_IsTrue(v) || cJSON_IsArray(v);
}

static vg_rc alert_artifacts(ctx *c, const char *case_id, const cJSON *entities, int64_t t)
{
    const cJSON *pick = cJSON_GetObjectItemCaseSensitive(c->op->payload, "artifacts");
    /* ids from the case the op names, so that a value brought to a merged case has
     * the id it has when it came before the merge and moved with it */
    const char *named = pstr(c, "case");
    struct art_ctx a = {.c = c, .case_id = case_id, .id_case = named ? named : case_id,
                        .t = t, .choose = c->local,
                        .pick = cJSON_IsArray(pick) ? pick : NULL};
    if (a.choose)
        a.picked = cJSON_CreateArray();
    vg_entity_each_ioc(entities, put_artifact, &a); /* the IOC flag by name and value */
    if (a.choose) /* the choice, in the op */
        cJSON_ReplaceItemInObjectCaseSensitive(c->op->payload, "artifacts", a.picked);
    return a.rc;
}

vg_rc ws_rec_key(vg_ws *ws, vg_err *err)
{
    if (ws->rec_key_ok)
        return VG_OK;
    sqlite3_stmt *q;
    vg_rc rc = ws_stmt_text(ws, "SELECT value FROM meta WHERE key = 'rec_key'", &q, err);
    if (rc)
        return rc;
    const char *hex = sqlite3_step(q) == SQLITE_ROW ? (const char *)sqlite3_column_text(q, 0) : NULL;
    size_t n = 0;
    bool have = hex &&
                sodium_hex2bin(ws->rec_key, sizeof ws->rec_key, hex, strlen(hex), NULL, &n, NULL) ==
                    0 &&
                n == sizeof ws->rec_key;
    sqlite3_reset(q);
    if (!have) { /* the workspace's first digest: made in the door's transaction */
        char h[2 * sizeof ws->rec_key + 1];
        randombytes_buf(ws->rec_key, sizeof ws->rec_key);
        sodium_bin2hex(h, sizeof h, ws->rec_key, sizeof ws->rec_key);
        if ((rc = ws_meta_put(ws, "rec_key", h, "keeping the record key", err)))
            return rc;
    }
    ws->rec_key_ok = true;
    return VG_OK;
}

/* Over the JSON text less the white space between its tokens, so that a record
 * pretty-printed in one export and compact in another is the same record. */
bool ws_rec(vg_ws *ws, const char *raw, size_t len, int64_t *rec)
{
    if (len < 3 || *raw != '{')
        return false;
    if (!ws->rec_text.cap)
        vg_buf_init(&ws->rec_text, MAX_RAW + (1u << 20));
    vg_buf_reset(&ws->rec_text);
    size_t from = 0, i = 0;
    while (i < len) {
        char ch = raw[i];
        if (ch == '"') { /* to the quote that ends it: one with an even run of \ before it */
            size_t j = i + 1;
            for (;;) {
                const char *q = memchr(raw + j, '"', len - j);
                if (!q) {
                    j = len;
                    break;
                }
                size_t k = (size_t)(q - raw), b = 0;
                while (k - b > i + 1 && raw[k - 1 - b] == '\\')
                    b++;
                j = k + 1;
                if (b % 2 == 0)
                    break;
            }
            i = j;
            continue;
        }
        if (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t') {
            if (i > from && vg_buf_add(&ws->rec_text, raw + from, i - from) != VG_OK)
                return false;
            from = i + 1;
        }
        i++;
    }
    const unsigned char *t = (const unsigned char *)raw;
    size_t tlen = len;
    if (from) { /* white space left out: the compact text */
        if (len > from && vg_buf_add(&ws->rec_text, raw + from, len - from) != VG_OK)
            return false;
        t = (const unsigned char *)vg_buf_str(&ws->rec_text);
        tlen = ws->rec_text.len;
    }
    unsigned char d[crypto_shorthash_BYTES];
    crypto_shorthash(d, t, tlen, ws->rec_key);
    memcpy(rec, d, sizeof *rec);
    return true;
}

/* The identity of the record an alert.add carries, over its raw event's bytes as
 * the log holds them (and ws_alert_raw gives back): a received op's own text (an
 * element's, in an alert.import), a local op's raw text as the importer handed it
 * over, or the object as vg_apply will print it. */
static bool alert_rec(const ctx *c, const cJSON *raw, int64_t *rec)
{
    const char *t = c->el ? c->el : c->local ? NULL : c->op->text;
    const char *s, *e;
    if (t)
        return vg_json_member(t, c->el ? c->el_len : strlen(t), "raw", &s, &e) &&
               ws_rec(c->ws, s, (size_t)(e - s), rec);
    if (cJSON_IsRaw(raw))
        return ws_rec(c->ws, raw->valuestring, strlen(raw->valuestring), rec);
    if (!cJSON_IsObject(raw))
        return false;
    char *text = cJSON_PrintUnformatted(raw);
    bool ok = text && ws_rec(c->ws, text, strlen(text), rec);
    cJSON_free(text);
    return ok;
}

/* An alert stored before schema step 14 has no rec: the one of its raw event,
 * worked out when a repeat first meets it (the door keeps it then). */
static vg_rc lazy_rec(vg_ws *ws, ws_alert_ref *a, vg_err *err)
{
    static const char sql[] = "SELECT raw, raw_op, raw_at FROM alerts WHERE rowid = ?";
    sqlite3_stmt *q;
    vg_rc rc = ws_stmt_text(ws, sql, &q, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(q, 1, a->rowid);
    char *raw = NULL;
    if (sqlite3_step(q) == SQLITE_ROW)
        raw = ws_alert_raw(ws, sqlite3_column_int64(q, 1),
                           sqlite3_column_type(q, 2) == SQLITE_NULL ? -1
                                                                    : sqlite3_column_int64(q, 2),
                           (const char *)sqlite3_column_text(q, 0));
    sqlite3_reset(q);
    if (raw && ws_rec(ws, raw, strlen(raw), &a->rec))
        a->has_rec = a->rec_lazy = true;
    free(raw);
    return VG_OK;
}

vg_rc ws_alert_by_ref(vg_ws *ws, const char *source, const char *source_ref, ws_alert_ref *out,
                      vg_err *err)
{
    if (ws->byref_ok && strcmp(ws->byref_source, source) == 0 &&
        strcmp(vg_buf_str(&ws->byref_ref), source_ref) == 0) {
        *out = ws->byref;
        return VG_OK;
    }
    sqlite3_stmt *q;
    vg_rc rc = ws_stmt(ws, ST_ALERT_BY_REF, &q, err);
    if (rc)
        return rc;
    sqlite3_bind_text(q, 1, source, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, source_ref, -1, SQLITE_STATIC);
    memset(out, 0, sizeof *out);
    int s = sqlite3_step(q);
    if (s == SQLITE_ROW) {
        out->rowid = sqlite3_column_int64(q, 0);
        col_id(q, 1, out->id);
        out->has_rec = sqlite3_column_type(q, 2) != SQLITE_NULL;
        out->rec = sqlite3_column_int64(q, 2);
    }
    sqlite3_reset(q);
    if (s != SQLITE_ROW && s != SQLITE_DONE)
        return ws_dberr(ws, err, "looking up an alert");
    if (out->rowid && !out->has_rec &&
        ((rc = ws_rec_key(ws, err)) || (rc = lazy_rec(ws, out, err))))
        return rc;
    ws->byref_ok = false;
    if (strlen(source) < sizeof ws->byref_source) {
        if (!ws->byref_ref.cap)
            vg_buf_init(&ws->byref_ref, 1u << 20);
        vg_buf_reset(&ws->byref_ref);
        if (vg_buf_adds(&ws->byref_ref, source_ref) == VG_OK) {
            snprintf(ws->byref_source, sizeof ws->byref_source, "%s", source);
            ws->byref = *out;
            ws->byref_ok = true;
        }
    }
    return VG_OK;
}

/* Whether the alert a holds the record rec already: its row's, or one of the others
 * counted into it (alert_recs). */
static vg_rc rec_known(vg_ws *ws, const ws_alert_ref *a, int64_t rec, bool *known, vg_err *err)
{
    *known = a->has_rec && a->rec == rec;
    if (*known || !a->rowid)
        return VG_OK;
    sqlite3_stmt *q;
    vg_rc rc = ws_stmt(ws, ST_ALERT_REC_HAS, &q, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(q, 1, a->rowid);
    sqlite3_bind_int64(q, 2, rec);
    int s = sqlite3_step(q);
    *known = s == SQLITE_ROW;
    sqlite3_reset(q);
    return s == SQLITE_ROW || s == SQLITE_DONE ? VG_OK : ws_dberr(ws, err, "looking up a record");
}

static vg_rc h_alert_add(ctx *c)
{
    const char *source, *source_ref, *rule, *title, *case_id = NULL;
    int sev;
    int64_t t, first, last, count = 1;
    vg_rc rc;
    if ((rc = need_text(c, "source", true, 64, &source)) ||
        (rc = need_text(c, "source_ref", false, MAX_VALUE, &source_ref)) ||
        (rc = need_text(c, "rule", false, MAX_VALUE, &rule)) ||
        (rc = need_text(c, "title", true, MAX_TITLE, &title)) ||
        (rc = need_enum(c, "severity", &VG_SEVERITY, VG_SEV_MEDIUM, &sev)) ||
        (rc = need_text(c, "case", false, VG_ID_LEN, &case_id)))
        return rc;
    if (!pnum(c, "event_time", &t) || t < 0)
        return vg_fail(c->err, VG_EINVAL, "event_time: required (milliseconds since the epoch)");
    if ((rc = check_artifacts(c)))
        return rc;
    if (!pnum(c, "first_seen", &first))
        first = t;
    if (!pnum(c, "last_seen", &last))
        last = t;
    pnum(c, "count", &count);
    if (count < 1)
        return vg_fail(c->err, VG_EINVAL, "count: must be at least 1");
    if (case_id && (rc = live_case(c, &case_id)))
        return rc;
    /* The alert this one repeats, if any: the upsert below folds into it. A local
     * repeat names it, so the alert keeps its id (the upsert's min(id) is for
     * replicas that created the same alert apart). */
    ws_alert_ref have = {0};
    if (source_ref) {
        if ((rc = ws_alert_by_ref(c->ws, source, source_ref, &have, c->err)))
            return rc;
        if (have.rowid && c->local)
            memcpy(c->op->target, have.id, sizeof have.id);
    }
    int64_t have_rowid = have.rowid;
    const char *have_id = have.id;
    if (!c->check_only)
        c->ws->byref_ok = false; /* the upsert below changes what it found */
    const cJSON *ent = cJSON_GetObjectItemCaseSensitive(c->op->payload, "entities");
    const cJSON *tech = cJSON_GetObjectItemCaseSensitive(c->op->payload, "techniques");
    const cJSON *raw = cJSON_GetObjectItemCaseSensitive(c->op->payload, "raw");
    if (ent && !cJSON_IsObject(ent))
        return vg_fail(c->err, VG_EINVAL, "entities: must be an object");
    /* An importer hands the raw event over as JSON text (cJSON raw), so that numbers
     * such as 64-bit flow ids are stored exactly as the tool wrote them. */
    if (raw && !cJSON_IsObject(raw) && !(cJSON_IsRaw(raw) && raw->valuestring[0] == '{'))
        return vg_fail(c->err, VG_EINVAL, "raw: must be an object");
    if (cJSON_IsRaw(raw) && strlen(raw->valuestring) > MAX_RAW)
        return vg_fail(c->err, VG_EINVAL, "raw: larger than %u MiB", MAX_RAW >> 20);
    char *techs = NULL, *ents = NULL;
    if ((rc = need_list(c, "techniques", tech, &techs)))
        return rc;
    sqlite3_stmt *st;
    if (c->check_only) /* valid: everything below writes */
        goto out;
    if (c->case_only) { /* what the alert did to its case, its row having come by a part */
        if (case_id && wants_artifacts(c) && ent && (rc = alert_artifacts(c, case_id, ent, t)))
            goto out;
        if (case_id)
            rc = touch(c, case_id);
        goto out;
    }
    /* A repeat of a record the alert holds already (the same raw event, byte for
     * byte) is not counted again: an alert's count is over its distinct records, so
     * a file imported twice, or on two replicas, counts each of its records once. */
    int64_t rec = 0;
    if ((rc = ws_rec_key(c->ws, c->err)))
        goto out;
    bool has_rec = alert_rec(c, raw, &rec), known = false;
    if (have_rowid && has_rec && (rc = rec_known(c->ws, &have, rec, &known, c->err)))
        goto out;
    if (known)
        count = 0;
    if ((rc = ws_stmt(c->ws, ST_ALERT_INSERT, &st, c->err)))
        goto out;
    sqlite3_bind_text(st, 1, c->op->target, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, source, -1, SQLITE_STATIC);
    if (source_ref)
        sqlite3_bind_text(st, 3, source_ref, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, rule ? rule : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, title, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, sev);
    sqlite3_bind_int64(st, 7, t);
    sqlite3_bind_int64(st, 8, first);
    sqlite3_bind_int64(st, 9, last);
    sqlite3_bind_int64(st, 10, count);
    sqlite3_bind_text(st, 11, case_id ? "linked" : "new", -1, SQLITE_STATIC);
    if (case_id)
        sqlite3_bind_text(st, 12, case_id, -1, SQLITE_STATIC);
    /* the op that carries the raw event is appended next (see the door below) */
    sqlite3_bind_int64(st, 13, c->ws->last_seq + 1);
    sqlite3_bind_text(st, 14, techs, -1, SQLITE_STATIC);
    if (c->raw_at >= 0)
        sqlite3_bind_int64(st, 15, c->raw_at);
    ents = ent ? cJSON_PrintUnformatted(ent) : NULL;
    if (ents)
        sqlite3_bind_text(st, 17, ents, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 16, c->ms);
    if (has_rec)
        sqlite3_bind_int64(st, 18, rec);
    if (have.rec_lazy)
        sqlite3_bind_int64(st, 19, have.rec);
    if ((rc = step_done(c, st, "adding an alert")))
        goto out;
    /* What the row holds now, as the upsert left it (no RETURNING: SQLite would
     * hold each returned row in a temporary table of its own). */
    int64_t rowid = have_rowid ? have_rowid : sqlite3_last_insert_rowid(c->ws->db);
    const char *into = have_rowid && strcmp(have_id, c->op->target) < 0 ? have_id : c->op->target;
    snprintf(c->op->into, sizeof c->op->into, "%s", into);
    c->op->folded = have_rowid != 0;
    /* a record counted into an alert: the row keeps the winner's, the others are
     * remembered beside it */
    bool took_over = have_rowid && strcmp(c->op->target, have_id) < 0;
    if (have_rowid && has_rec && !known && (!took_over || have.has_rec)) {
        sqlite3_stmt *q;
        if ((rc = ws_stmt(c->ws, ST_ALERT_REC_ADD, &q, c->err)))
            goto out;
        sqlite3_bind_int64(q, 1, rowid);
        sqlite3_bind_int64(q, 2, took_over ? have.rec : rec);
        if ((rc = step_done(c, q, "counting a record")))
            goto out;
    }
    /* the same alert made apart on another replica: the id that lost still names it */
    if (have_rowid && strcmp(c->op->target, have_id) != 0) {
        static const char alias[] = "INSERT OR IGNORE INTO alert_ids(id, alert) VALUES (?1, ?2)";
        sqlite3_stmt *q;
        if ((rc = ws_stmt_text(c->ws, alias, &q, c->err)))
            goto out;
        sqlite3_bind_text(q, 1, strcmp(c->op->target, have_id) < 0 ? have_id : c->op->target, -1,
                          SQLITE_STATIC);
        sqlite3_bind_int64(q, 2, rowid);
        if ((rc = step_done(c, q, "naming an alert")))
            goto out;
    }
    /* a new alert, or this one's content took over (the smaller id): search indexes
     * its title and rule, correlation its entities */
    if ((!have_rowid || took_over) &&
        (rc = fts_stage_row(c, rowid * 8 + 3, title, rule ? rule : "", took_over)))
        goto out;
    if ((!c->op->folded || took_over) && ent)
        alert_keys(c, ent, rowid, t);
    /* An alert is its own timeline row (vg_timeline reads alerts beside events),
     * so linking one to a case writes no event of its own. */
    if (case_id && wants_artifacts(c) && ent && (rc = alert_artifacts(c, case_id, ent, t)))
        goto out;
    if (case_id)
        rc = touch(c, case_id);
out:
    free(techs);
    free(ents);
    return rc;
}

/* The alert an alert.set names, by any id it was made under (ST_ALERT_GET). */
typedef struct alert_row {
    int64_t rowid, t;
    char *title, *entities;
    char clock_key[VG_ID_LEN + 64 + 8192 + 8]; /* what its field clocks are kept under */
} alert_row;

static vg_rc alert_row_get(ctx *c, alert_row *a)
{
    sqlite3_stmt *st;
    memset(a, 0, sizeof *a);
    vg_rc rc = ws_stmt(c->ws, ST_ALERT_GET, &st, c->err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, c->op->target, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        a->rowid = sqlite3_column_int64(st, 0);
        a->title = col_dup(st, 1);
        a->entities = col_dup(st, 2);
        a->t = sqlite3_column_int64(st, 3);
        const unsigned char *k = sqlite3_column_text(st, 4);
        snprintf(a->clock_key, sizeof a->clock_key, "%s", k ? (const char *)k : "");
    }
    sqlite3_reset(st);
    if (s == SQLITE_ROW)
        return VG_OK;
    if (s != SQLITE_DONE)
        return ws_dberr(c->ws, c->err, "looking up an alert");
    return vg_fail(c->err, VG_ENOTFOUND, "alert %s: no such alert", c->op->target);
}

static void alert_row_clear(alert_row *a)
{
    free(a->title);
    free(a->entities);
}

/* alert.set linked with artifacts: the alert's entities go to the case. */
static vg_rc link_artifacts(ctx *c, const char *case_id, const alert_row *a)
{
    cJSON *ent = cJSON_Parse(a->entities);
    vg_rc rc = cJSON_IsObject(ent) ? alert_artifacts(c, case_id, ent, a->t) : VG_OK;
    cJSON_Delete(ent);
    return rc;
}

static vg_rc h_alert_set(ctx *c)
{
    int status;
    const char *case_id = NULL;
    vg_rc rc;
    const char *field = pstr(c, "field");
    alert_row a;
    if (field && strcmp(field, "starred") == 0) { /* a star on the alert's timeline row */
        bool wins;
        if ((rc = alert_row_get(c, &a)))
            return rc;
        if ((rc = lww(c, a.clock_key, "starred", &wins)) || !wins)
            goto out;
        static const char star[] = "UPDATE alerts SET starred = ?2 WHERE rowid = ?1";
        sqlite3_stmt *u;
        if ((rc = ws_stmt_text(c->ws, star, &u, c->err)))
            goto out;
        sqlite3_bind_int64(u, 1, a.rowid);
        sqlite3_bind_int(u, 2, pbool(c, "value"));
        rc = step_done(c, u, "starring an alert");
        goto out;
    }
    if (!field || strcmp(field, "status") != 0)
        return vg_fail(c->err, VG_EINVAL, "'%s' is not an alert field; fields are status, starred",
                       field ? field : "(none)");
    const char *reason = NULL;
    if ((rc = need_enum(c, "value", &VG_ALERT_STATUS, -1, &status)) ||
        (rc = need_text(c, "case", status == 1, VG_ID_LEN, &case_id)) || (rc = check_artifacts(c)) ||
        (rc = need_text(c, "reason", false, 1000, &reason)))
        return rc;
    if (status != 1)
        case_id = NULL;
    if (case_id && (rc = live_case(c, &case_id)))
        return rc;
    if ((rc = alert_row_get(c, &a)))
        return rc;
    bool wins;
    if ((rc = lww(c, a.clock_key, "status", &wins)))
        goto out;
    if (wins) {
        /* the link is the alert's second timeline row ("alert linked by ..."),
         * read from linked_at and linked_by (vg_timeline) */
        static const char link[] = "UPDATE alerts SET status = ?2, case_id = ?3,"
                                   " linked_at = CASE WHEN ?3 IS NULL THEN NULL ELSE ?4 END,"
                                   " linked_by = CASE WHEN ?3 IS NULL THEN NULL ELSE ?5 END,"
                                   " dismissed_reason = ?6 WHERE rowid = ?1";
        sqlite3_stmt *u;
        if ((rc = ws_stmt_text(c->ws, link, &u, c->err)))
            goto out;
        sqlite3_bind_int64(u, 1, a.rowid);
        sqlite3_bind_text(u, 2, VG_ALERT_STATUS.names[status], -1, SQLITE_STATIC);
        if (case_id)
            sqlite3_bind_text(u, 3, case_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(u, 4, c->ms);
        sqlite3_bind_text(u, 5, c->op->actor, -1, SQLITE_STATIC);
        /* the reason goes with the status it was given for */
        sqlite3_bind_text(u, 6, status == VG_AS_DISMISSED && reason ? reason : "", -1,
                          SQLITE_STATIC);
        if ((rc = step_done(c, u, "updating an alert")))
            goto out;
    }
    if (case_id) {
        if (wants_artifacts(c) && (rc = link_artifacts(c, case_id, &a)))
            goto out;
        rc = touch(c, case_id);
    }
out:
    alert_row_clear(&a);
    return rc;
}

/* alert.import, as received (sync, replay): each element is the alert.add it
 * stands for, applied with the op's clock. Every element is checked before the
 * first is written, so a bad one refuses the whole op with nothing written (a
 * savepoint would do the same, at the cost of journalling every page the batch
 * touches a second time); an element's validity does not depend on the ones before
 * it (alert.add checks its own fields and that its case exists). */
#define BULK_MAX WS_BULK_MAX     /* alerts in one alert.import made here */
#define BULK_BYTES (256 << 10)  /* and at most about this much text */
#define BULK_MAX_IN 100000      /* what a received one may hold */

/* Parts (vigil/bundle.h). A bundle carries, of an alert op whose alerts went to
 * several cases, a part: a new alert.import with part_of (the original's id) and
 * part_at (each element's place in the original), holding its own cases' elements,
 * an element whose case stays behind stripped of its case. An element does two
 * things: its alert's row (made, or counted again by a repeat) and, with a case, what
 * it brings to that case. Whichever of the original and its parts come, in any
 * order, each must happen once: the door keeps, per original that has parts here,
 * what each place has done (meta 'part:ID', a character a place: '0' nothing, 'r'
 * the row, 'c' the row and the case). An original that never had a part costs one
 * lookup. */
typedef struct parts {
    bool on;         /* this op is a part, or an original with parts here */
    bool all_done;   /* a part whose original is in the log */
    const cJSON *at; /* part_at */
    char key[VG_ID_LEN + 8];
    vg_buf done;     /* the places' state */
} parts;

static vg_rc parts_load(ctx *c, parts *p, int n)
{
    memset(p, 0, sizeof *p);
    vg_buf_init(&p->done, BULK_MAX_IN + 1);
    const char *part_of = pstr(c, "part_of");
    const cJSON *po = cJSON_GetObjectItemCaseSensitive(c->op->payload, "part_of");
    p->at = cJSON_GetObjectItemCaseSensitive(c->op->payload, "part_at");
    if (po && (!part_of || !vg_ulid_valid(part_of)))
        return vg_fail(c->err, VG_EINVAL, "part_of: must be an op id");
    if (part_of) {
        if (!cJSON_IsArray(p->at) || cJSON_GetArraySize(p->at) != n)
            return vg_fail(c->err, VG_EINVAL, "part_at: a place for each of the alerts");
        const cJSON *it;
        cJSON_ArrayForEach(it, p->at)
            if (!cJSON_IsNumber(it) || !(it->valuedouble >= 0 && it->valuedouble < BULK_MAX_IN))
                return vg_fail(c->err, VG_EINVAL, "part_at: places from 0 to %d", BULK_MAX_IN - 1);
        bool known = false;
        vg_rc rc = vg_op_known(c->ws, part_of, &known, c->err);
        if (rc)
            return rc;
        p->on = p->all_done = known;
        if (known)
            return VG_OK;
    }
    snprintf(p->key, sizeof p->key, "part:%s", part_of ? part_of : c->op->id);
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt_text(c->ws, "SELECT value FROM meta WHERE key = ?1", &st, c->err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, p->key, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW &&
        vg_buf_add(&p->done, sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0)))
        s = SQLITE_ERROR;
    sqlite3_reset(st);
    if (s != SQLITE_ROW && s != SQLITE_DONE)
        return ws_dberr(c->ws, c->err, "reading an op's parts");
    p->on = part_of || s == SQLITE_ROW;
    return VG_OK;
}

/* Element i's place in the original, and what that place has done. */
static size_t parts_place(const parts *p, int i)
{
    return p->at ? (size_t)cJSON_GetArrayItem(p->at, i)->valuedouble : (size_t)i;
}

static char parts_state(const parts *p, size_t place)
{
    return place < p->done.len ? p->done.data[place] : '0';
}

static vg_rc parts_mark(ctx *c, parts *p, size_t place, char state)
{
    while (p->done.len <= place)
        if (vg_buf_adds(&p->done, "0"))
            return vg_fail(c->err, VG_EINVAL, "part_at: too far");
    if (state == 'c' || p->done.data[place] == '0')
        p->done.data[place] = state;
    return VG_OK;
}

static vg_rc parts_save(ctx *c, parts *p)
{
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt_text(c->ws, "INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)", &st,
                            c->err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, p->key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, vg_buf_str(&p->done), (int)p->done.len, SQLITE_STATIC);
    return step_done(c, st, "recording an op's parts");
}

/* One element (or a whole alert.add) under the parts' rule: what it has not done
 * yet, then marked. */
static vg_rc parts_apply(ctx *sc, parts *p, size_t place)
{
    bool has_case = cJSON_IsString(cJSON_GetObjectItemCaseSensitive(sc->op->payload, "case"));
    char st = p->all_done ? 'c' : parts_state(p, place);
    if (st == 'c' || (st == 'r' && !has_case))
        return VG_OK;
    sc->case_only = st == 'r';
    vg_rc rc = h_alert_add(sc);
    sc->case_only = false;
    return rc ? rc : parts_mark(sc, p, place, has_case ? 'c' : 'r');
}

static vg_rc h_alert_import(ctx *c)
{
    const cJSON *alerts = cJSON_GetObjectItemCaseSensitive(c->op->payload, "alerts");
    if (c->local)
        return vg_fail(c->err, VG_EINVAL, "alert.import: made by the door from alert.add ops");
    if (!cJSON_IsArray(alerts) || cJSON_GetArraySize(alerts) < 1 ||
        cJSON_GetArraySize(alerts) > BULK_MAX_IN)
        return vg_fail(c->err, VG_EINVAL, "alerts: must be a list of 1 to %d alerts", BULK_MAX_IN);
    parts pt;
    vg_rc rc = parts_load(c, &pt, cJSON_GetArraySize(alerts));
    for (int pass = 0; pass < 2 && rc == VG_OK; pass++) {
        int i = 0;
        cJSON *el;
        /* each element's own text beside it, when the op came as text */
        const char *at = NULL, *end = NULL, *es = NULL, *ee = NULL;
        if (pass == 1 && c->op->text &&
            vg_json_member(c->op->text, strlen(c->op->text), "alerts", &at, NULL) &&
            *at == '[') {
            end = c->op->text + strlen(c->op->text);
            at++;
        }
        cJSON_ArrayForEach(el, alerts) {
            if (at && !vg_json_next(&at, end, &es, &ee))
                at = es = NULL;
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(el, "id");
            vg_op sub = {.hlc = c->op->hlc, .actor = c->op->actor, .tenant = c->op->tenant,
                         .payload = el};
            ctx sc = {.ws = c->ws, .op = &sub, .local = false, .ms = c->ms, .raw_at = i,
                      .check_only = pass == 0, .el = es, .el_len = es ? (size_t)(ee - es) : 0,
                      .err = c->err};
            if (!cJSON_IsObject(el) || !cJSON_IsString(id) || !vg_ulid_valid(id->valuestring)) {
                rc = vg_fail(c->err, VG_EINVAL, "alerts[%d]: needs an object with an id", i);
                break;
            }
            memcpy(sub.id, c->op->id, sizeof sub.id);
            memcpy(sub.origin, c->op->origin, sizeof sub.origin);
            memcpy(sub.target, id->valuestring, sizeof sub.target);
            snprintf(sub.kind, sizeof sub.kind, "alert.add");
            if ((rc = pass == 1 && pt.on ? parts_apply(&sc, &pt, parts_place(&pt, i))
                                         : h_alert_add(&sc))) {
                char why[sizeof c->err->msg];
                snprintf(why, sizeof why, "%s", c->err->msg);
                vg_fail(c->err, rc, "alerts[%d]: %.400s", i, why);
                break;
            }
            i++;
        }
    }
    if (rc == VG_OK && pt.on && !pt.all_done && !c->check_only)
        rc = parts_save(c, &pt);
    vg_buf_free(&pt.done);
    return rc;
}

/* A received alert.add: an original some part of which may have come first. */
static vg_rc h_alert_add_op(ctx *c)
{
    if (c->local || c->check_only)
        return h_alert_add(c);
    parts pt;
    vg_rc rc = parts_load(c, &pt, 1);
    if (rc == VG_OK && !pt.on)
        rc = h_alert_add(c);
    else if (rc == VG_OK && (rc = parts_apply(c, &pt, 0)) == VG_OK)
        rc = parts_save(c, &pt);
    vg_buf_free(&pt.done);
    return rc;
}

/* ---- the batch's alert.import: local alert.add ops, one op for many ----------- */

static void bulk_drop(vg_ws *ws)
{
    vg_buf_reset(&ws->bulk);
    ws->nbulk = 0;
}

/* Append the open batch's alert.import to the log (nothing when it has none). Its
 * alerts are written already: a failure here fails the batch (VG_EDB). */
static vg_rc bulk_flush(vg_ws *ws, vg_err *err)
{
    if (!ws->nbulk)
        return VG_OK;
    vg_op op = {.hlc = ws->bulk_hlc, .actor = ws->actor, .tenant = ws->tenant};
    memcpy(op.id, ws->bulk_id, sizeof op.id);
    memcpy(op.target, ws->bulk_id, sizeof op.target);
    memcpy(op.origin, ws->replica, sizeof op.origin);
    snprintf(op.kind, sizeof op.kind, "alert.import");
    vg_rc rc = vg_buf_adds(&ws->bulk, "]}"); /* bulk_add left room for it */
    if (rc == VG_OK)
        rc = oplog_append(ws, &op, ws->bulk.data, ws->bulk.len, err);
    else
        rc = vg_fail(err, VG_EDB, "alert.import: out of room");
    bulk_drop(ws);
    return rc;
}

/* A local alert.add inside a batch: applied at once as an element of the batch's
 * alert.import (stamped when its first alert comes), whose text grows by the
 * element as the door stored it. */
static vg_rc bulk_add(vg_ws *ws, vg_op *op, vg_err *err)
{
    if (!ws->nbulk) {
        ws->hlc = vg_hlc_next(ws->hlc, vg_now_ms());
        ws->bulk_hlc = ws->hlc;
        vg_ulid_hlc(ws->bulk_hlc, ws->bulk_id);
        if (!ws->bulk.cap)
            vg_buf_init(&ws->bulk, BULK_BYTES + (16u << 20)); /* + one alert at most */
        vg_buf_reset(&ws->bulk);
        if (vg_buf_adds(&ws->bulk, "{\"alerts\":[") != VG_OK)
            return vg_fail(err, VG_EINVAL, "alert.import: out of room");
    }
    op->hlc = ws->bulk_hlc;
    memcpy(op->id, ws->bulk_id, sizeof op->id);
    memcpy(op->origin, ws->replica, sizeof op->origin);
    free(op->actor);
    op->actor = vg_xstrdup(ws->actor);
    free(op->tenant);
    op->tenant = vg_xstrdup(ws->tenant);
    ctx c = {.ws = ws, .op = op, .local = true, .ms = VG_HLC_MS(op->hlc),
             .raw_at = (int64_t)ws->nbulk, .err = err};
    vg_rc rc = h_alert_add(&c);
    if (rc) {
        op->hlc = 0; /* still a new op: it may be fixed and applied again */
        return rc;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(op->payload, "id");
    cJSON_AddStringToObject(op->payload, "id", op->target);
    char *text = cJSON_PrintUnformatted(op->payload);
    if (!text)
        return vg_fail(err, VG_EDB, "alert.add: cannot print the payload");
    /* its rows are written: an alert the op cannot hold fails the batch, which
     * rolls back (raw events are capped below that; this is for the rest) */
    if (ws->bulk.len + strlen(text) + 4 > ws->bulk.cap) {
        cJSON_free(text);
        return vg_fail(err, VG_EDB, "alert.import: an alert of more than %u MiB",
                       (unsigned)(ws->bulk.cap >> 20));
    }
    if (ws->nbulk && (rc = vg_buf_adds(&ws->bulk, ",")))
        rc = vg_fail(err, VG_EDB, "alert.import: out of room");
    ws->bulk_at[2 * ws->nbulk] = ws->bulk.len;
    if (rc == VG_OK && (rc = vg_buf_adds(&ws->bulk, text)))
        rc = vg_fail(err, VG_EDB, "alert.import: out of room");
    ws->bulk_at[2 * ws->nbulk + 1] = ws->bulk.len;
    cJSON_free(text);
    if (rc)
        return rc;
    ws->nbulk++;
    op->seq = ws->last_seq + 1;
    if (ws->nbulk >= BULK_MAX || ws->bulk.len >= BULK_BYTES)
        rc = bulk_flush(ws, err);
    return rc;
}

/* ---- playbooks: workspace copies (one LWW register per playbook id, so a removal
 * is a tombstone a late import cannot undo) and the record of an apply ---------- */

static vg_rc pb_register(ctx *c, const char *id, bool *wins)
{
    char entity[80];
    snprintf(entity, sizeof entity, "playbook:%s", id);
    return lww(c, entity, "row", wins);
}

static vg_rc pb_exists(ctx *c, const char *id, bool *exists)
{
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt_text(c->ws, "SELECT 1 FROM playbooks WHERE id = ?", &st, c->err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    *exists = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    return VG_OK;
}

/* playbook.import (a new copy) and playbook.set (replace a copy) merge alike. */
static vg_rc h_playbook_put(ctx *c)
{
    const char *origin;
    vg_playbook p;
    vg_rc rc = need_text(c, "origin", false, MAX_VALUE, &origin);
    if (rc || (rc = vg_playbook_from_json(cJSON_GetObjectItemCaseSensitive(c->op->payload, "playbook"),
                                          "playbook", &p, c->err)))
        return rc;
    bool exists, wins, import = strcmp(c->op->kind, "playbook.import") == 0;
    if ((rc = pb_exists(c, p.id, &exists)))
        goto out;
    if (c->local && import && exists) {
        rc = vg_fail(c->err, VG_EEXIST, "playbook '%s' is already in the workspace", p.id);
        goto out;
    }
    if (c->local && !import && !exists) {
        rc = vg_fail(c->err, VG_ENOTFOUND, "playbook '%s' is not in the workspace", p.id);
        goto out;
    }
    /* store the normalised form, so every replica hashes and keeps the same text */
    cJSON_ReplaceItemInObjectCaseSensitive(c->op->payload, "playbook", vg_playbook_json(&p));
    origin = pstr(c, "origin");
    if ((rc = pb_register(c, p.id, &wins)) || !wins)
        goto out;
    static const char put[] =
        "INSERT OR REPLACE INTO playbooks(id, name, version, category, description, techniques,"
        " tasks, origin, updated_at, severity_hint) VALUES (?, ?, ?, ?, ?, json_extract(?6,"
        " '$.techniques'), json_extract(?6, '$.tasks'), ?7, ?8, ?9)";
    sqlite3_stmt *st;
    if ((rc = ws_stmt_text(c->ws, put, &st, c->err)))
        goto out;
    cJSON *j = cJSON_GetObjectItemCaseSensitive(c->op->payload, "playbook");
    char *text = cJSON_PrintUnformatted(j);
    sqlite3_bind_text(st, 1, p.id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, p.name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, p.version, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, p.category, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, p.description, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, text, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, origin ? origin : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, c->ms);
    sqlite3_bind_text(st, 9, p.severity_hint >= 0 ? VG_SEVERITY.names[p.severity_hint] : "", -1,
                      SQLITE_STATIC);
    rc = step_done(c, st, "storing a playbook");
    cJSON_free(text);
out:
    vg_playbook_clear(&p);
    return rc;
}

static vg_rc h_playbook_remove(ctx *c)
{
    const char *id;
    bool exists, wins;
    vg_rc rc = need_text(c, "id", true, 64, &id);
    if (rc || (rc = pb_exists(c, id, &exists)))
        return rc;
    if (c->local && !exists)
        return vg_fail(c->err, VG_ENOTFOUND, "playbook '%s' is not in the workspace", id);
    if ((rc = pb_register(c, id, &wins)) || !wins)
        return rc;
    sqlite3_stmt *st;
    if ((rc = ws_stmt_text(c->ws, "DELETE FROM playbooks WHERE id = ?", &st, c->err)))
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    return step_done(c, st, "removing a playbook");
}

/* The record of an apply on the case's timeline (its tasks are task.add ops of
 * their own, in the same transaction); source "playbook:ID" names it. */
static vg_rc h_playbook_apply(ctx *c)
{
    const char *case_id, *pb, *name, *version;
    int64_t added = 0, skipped = 0;
    vg_rc rc;
    if ((rc = need_case(c, &case_id)) || (rc = need_text(c, "playbook", true, 64, &pb)) ||
        (rc = need_text(c, "name", true, MAX_TITLE, &name)) ||
        (rc = need_text(c, "version", false, 64, &version)))
        return rc;
    pnum(c, "added", &added);
    pnum(c, "skipped", &skipped);
    char summary[400], nshort[160], source[80];
    first_line(name, nshort, sizeof nshort);
    snprintf(summary, sizeof summary,
             "playbook '%s' (%s v%s) applied by %s: %lld tasks added, %lld already on the case",
             nshort, pb, version ? version : "?", c->op->actor, (long long)added,
             (long long)skipped);
    snprintf(source, sizeof source, "playbook:%s", pb);
    if ((rc = emit(c, case_id, c->ms, "task", summary, source, NULL)))
        return rc;
    return touch(c, case_id);
}

/* A hash of a migrated ledger entry's payload, hex: 32 bytes into out. */
static vg_rc need_hash(ctx *c, const char *key, unsigned char out[32])
{
    const char *hex = pstr(c, key);
    size_t n = 0;
    if (!hex || sodium_hex2bin(out, 32, hex, strlen(hex), NULL, &n, NULL) != 0 || n != 32)
        return vg_fail(c->err, VG_EINVAL, "ledger.add: %s: must be 64 hex digits", key);
    return VG_OK;
}

/* One copilot ledger entry (vigil/ledger.h), in the session that is the op's
 * target. Nobody writes into another's session: the entry's user must be the op's
 * actor, local or stamped, and the session's owner on the same scope (ledger_put).
 * A local op's seq is assigned here and written into the payload, so that the
 * payload and the clock alone make the entry on every replica; a stamped one's
 * must follow the session's last entry. No timeline row: the ledger is the record
 * of a conversation, shown in its own tab. */
/* ---- proposals applied ------------------------------------------------------------ */

/* Which copilot proposals are applied is the door's to know, not the ledger's: an op
 * written while a proposal is applied carries its id (payload "proposal"), and so
 * does the decision entry that says it was applied; each is recorded in
 * proposals_applied, so that an applied proposal stays applied whatever is later
 * removed from the ledger's tail. */
static vg_rc proposal_record(vg_ws *ws, const char *proposal, const char *op, vg_err *err)
{
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt_text(ws, "INSERT OR IGNORE INTO proposals_applied(proposal, op)"
                                " VALUES (?, ?)", &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, proposal, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, op, -1, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE ? VG_OK : ws_dberr(ws, err, "recording a proposal");
    sqlite3_reset(st);
    return rc;
}

vg_rc vg_proposal_applied(vg_ws *ws, const char *proposal, bool *applied, char op[VG_ID_LEN + 1],
                          vg_err *err)
{
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt_text(ws, "SELECT op FROM proposals_applied WHERE proposal = ?", &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, proposal, -1, SQLITE_STATIC);
    *applied = sqlite3_step(st) == SQLITE_ROW;
    if (op)
        snprintf(op, VG_ID_LEN + 1, "%s", *applied ? (const char *)sqlite3_column_text(st, 0) : "");
    sqlite3_reset(st);
    return VG_OK;
}

vg_rc vg_proposal_begin(vg_ws *ws, const char *proposal, vg_err *err)
{
    bool applied;
    char op[VG_ID_LEN + 1];
    if (!ws->in_batch)
        return vg_fail(err, VG_EINVAL, "a proposal is applied inside a batch");
    if (!vg_ulid_valid(proposal))
        return vg_fail(err, VG_EINVAL, "proposal '%.40s' is not an id", proposal);
    vg_rc rc = vg_proposal_applied(ws, proposal, &applied, op, err);
    if (rc)
        return rc;
    if (applied)
        return vg_fail(err, VG_EEXIST, "proposal %.26s is already applied%s%s", proposal,
                       op[0] ? " (by op " : "", op[0] ? op : "");
    snprintf(ws->proposal, sizeof ws->proposal, "%s", proposal);
    return VG_OK;
}

void vg_proposal_end(vg_ws *ws)
{
    ws->proposal[0] = '\0';
}

static vg_rc h_ledger_add(ctx *c)
{
    const char *case_id, *user, *model, *content;
    int kind;
    vg_rc rc;
    if ((rc = need_text(c, "case", false, VG_ID_LEN, &case_id)) ||
        (rc = need_text(c, "user", true, MAX_VALUE, &user)) ||
        (rc = need_enum(c, "kind", &VG_LEDGER_KIND, -1, &kind)) ||
        (rc = need_text(c, "model", false, MAX_VALUE, &model)) ||
        (rc = need_text(c, "content", false, MAX_LEDGER, &content)))
        return rc;
    if (!content)
        return vg_fail(c->err, VG_EINVAL, "content: required");
    if (strcmp(user, c->op->actor) != 0)
        return vg_fail(c->err, VG_EINVAL,
                       "ledger.add: the entry is %s's and the op %s's: nobody writes into"
                       " another's session", user, c->op->actor);
    if (case_id && !*case_id)
        return vg_fail(c->err, VG_EINVAL, "case: no case is absent, not \"\"");
    const char *named = case_id;
    if (case_id && (rc = live_case(c, &case_id)))
        return rc;
    /* proposals and decisions are found by fields of their JSON (schema step 5) */
    char applied[VG_ID_LEN + 1] = "", applied_by[VG_ID_LEN + 1] = "";
    if (kind == VG_LEDGER_PROPOSAL || kind == VG_LEDGER_DECISION) {
        cJSON *j = cJSON_Parse(content);
        bool object = cJSON_IsObject(j);
        /* a decision that applied a proposal: the door keeps that it is applied */
        const char *prop = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "proposal")),
                   *state = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "state")),
                   *by = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "op"));
        if (kind == VG_LEDGER_DECISION && prop && vg_ulid_valid(prop) && state &&
            strcmp(state, "applied") == 0) {
            snprintf(applied, sizeof applied, "%s", prop);
            snprintf(applied_by, sizeof applied_by, "%s", by && vg_ulid_valid(by) ? by : "");
        }
        cJSON_Delete(j);
        if (!object)
            return vg_fail(c->err, VG_EINVAL, "content: a %s is a JSON object",
                           vg_enum_name(&VG_LEDGER_KIND, kind));
    }
    ledger_add a = {.case_id = case_id, .hashed_case = case_id != named ? named : NULL,
                    .session_id = c->op->target, .user = user,
                    .kind = vg_enum_name(&VG_LEDGER_KIND, kind), .model = model ? model : "",
                    .content = content, .created_at = c->ms};
    bool has_hash = cJSON_GetObjectItemCaseSensitive(c->op->payload, "hash") ||
                    cJSON_GetObjectItemCaseSensitive(c->op->payload, "prev_hash");
    unsigned char prev[32], hash[32];
    if (c->local) {
        if (has_hash)
            return vg_fail(c->err, VG_EINVAL, "ledger.add: hash and prev_hash come only with"
                                              " the entries of a migrated ledger");
    } else {
        if (!pnum(c, "seq", &a.seq) || a.seq < 1)
            return vg_fail(c->err, VG_EINVAL, "seq: required: a number from 1");
        /* an entry from before the ledger was kept in ops keeps the hashes it had;
         * vg_ledger_verify checks them by the rule they were made by */
        if (has_hash) {
            if ((rc = need_hash(c, "prev_hash", prev)) || (rc = need_hash(c, "hash", hash)))
                return rc;
            a.legacy_chain = c->op->origin;
            a.prev_hash = prev;
            a.hash = hash;
        }
    }
    int64_t seq;
    if ((rc = ledger_put(c->ws, &a, &seq, c->err)))
        return rc;
    if (applied[0] && (rc = proposal_record(c->ws, applied, applied_by, c->err)))
        return rc;
    if (c->local)
        pset_num(c, "seq", seq);
    return VG_OK;
}

/* ---- the evidence register (vigil/evidence.h): an item is made once by its
 * evidence.add (idempotent by id); its chain of custody is a set of entries, each
 * one op, so replicas hold the same chain whatever order entries arrive in --- */

/* A lowercase hex digest of n digits at key. */
static vg_rc need_hex(ctx *c, const char *key, size_t n, const char **out)
{
    const char *s = pstr(c, key);
    *out = s;
    if (!s || strlen(s) != n || strspn(s, "0123456789abcdef") != n)
        return vg_fail(c->err, VG_EINVAL, "%s: must be %zu lowercase hex digits", key, n);
    return VG_OK;
}

static vg_rc custody_put(ctx *c, const char *evidence, const char *action, const char *sha,
                         const char *result, const char *detail)
{
    static const char sql[] = "INSERT OR IGNORE INTO custody(id, evidence, action, actor, at,"
                              " sha256, result, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt_text(c->ws, sql, &st, c->err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, c->op->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, evidence, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, action, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, c->op->actor, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, c->ms);
    sqlite3_bind_text(st, 6, sha ? sha : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, result ? result : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, detail ? detail : "", -1, SQLITE_STATIC);
    return step_done(c, st, "recording a custody entry");
}

static vg_rc h_evidence_add(ctx *c)
{
    const char *case_id, *name, *type, *sha256, *sha1, *md5, *desc, *stored, *path;
    int64_t size;
    vg_rc rc;
    if ((rc = need_case(c, &case_id)) || (rc = need_text(c, "name", true, MAX_VALUE, &name)) ||
        (rc = need_text(c, "type", true, 31, &type)) || (rc = need_hex(c, "sha256", 64, &sha256)) ||
        (rc = need_hex(c, "sha1", 40, &sha1)) || (rc = need_hex(c, "md5", 32, &md5)) ||
        (rc = need_text(c, "description", false, MAX_TEXT, &desc)) ||
        (rc = need_text(c, "stored", true, 8, &stored)) ||
        (rc = need_text(c, "path", false, 4096, &path)))
        return rc;
    if (!pnum(c, "size", &size) || size < 0)
        return vg_fail(c->err, VG_EINVAL, "size: must be a whole number of bytes");
    if (strspn(type, "abcdefghijklmnopqrstuvwxyz0123456789") != strlen(type))
        return vg_fail(c->err, VG_EINVAL, "type: '%.31s' is not a word of a-z and 0-9", type);
    bool ref = strcmp(stored, "ref") == 0;
    if (!ref && strcmp(stored, "copy") != 0)
        return vg_fail(c->err, VG_EINVAL, "stored: '%.16s' is not one of copy, ref", stored);
    if (ref != (path != NULL))
        return vg_fail(c->err, VG_EINVAL, "path: %s", ref ? "required by stored: ref"
                                                            : "only for stored: ref");
    static const char sql[] = "INSERT OR IGNORE INTO evidence(id, case_id, sha256, sha1, md5, size,"
                              " type, name, description, path, added_by, added_at)"
                              " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    sqlite3_stmt *st;
    if ((rc = ws_stmt_text(c->ws, sql, &st, c->err)))
        return rc;
    sqlite3_bind_text(st, 1, c->op->target, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, case_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, sha256, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, sha1, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, md5, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, size);
    sqlite3_bind_text(st, 7, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, desc ? desc : "", -1, SQLITE_STATIC);
    if (path)
        sqlite3_bind_text(st, 10, path, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 11, c->op->actor, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 12, c->ms);
    if ((rc = step_done(c, st, "adding evidence")))
        return rc;
    if (!inserted(c))
        return c->local ? vg_fail(c->err, VG_EEXIST, "evidence %s: already registered",
                                  c->op->target)
                        : VG_OK;
    if ((rc = custody_put(c, c->op->target, "add", sha256, NULL, ref ? path : NULL)))
        return rc;
    char summary[300], nshort[120];
    first_line(name, nshort, sizeof nshort);
    snprintf(summary, sizeof summary, "evidence added by %s: %s (%s, %lld bytes, sha256 %.16s)%s",
             c->op->actor, nshort, type, (long long)size, sha256, ref ? ", by reference" : "");
    if ((rc = emit(c, case_id, c->ms, "artifact", summary, "evidence", NULL)))
        return rc;
    return touch(c, case_id);
}

static vg_rc h_evidence_custody(ctx *c)
{
    static const char *const action_names[] = {"access", "export", "transfer", "verify"};
    static const char *const result_names[] = {"ok", "changed", "missing", "absent"};
    static const vg_enum actions = {"action", action_names, 4};
    static const vg_enum results = {"result", result_names, 4};
    const char *case_id, *sha = NULL, *detail;
    int action, result = -1;
    vg_rc rc;
    if ((rc = need_case(c, &case_id)) || (rc = need_enum(c, "action", &actions, -1, &action)) ||
        (rc = need_text(c, "detail", false, MAX_VALUE, &detail)))
        return rc;
    if (cJSON_GetObjectItemCaseSensitive(c->op->payload, "sha256") &&
        (rc = need_hex(c, "sha256", 64, &sha)))
        return rc;
    if (cJSON_GetObjectItemCaseSensitive(c->op->payload, "result") &&
        (rc = need_enum(c, "result", &results, -1, &result)))
        return rc;
    static const char sql[] = "SELECT 1 FROM evidence WHERE id = ? AND case_id = ?";
    sqlite3_stmt *st;
    if ((rc = ws_stmt_text(c->ws, sql, &st, c->err)))
        return rc;
    sqlite3_bind_text(st, 1, c->op->target, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, case_id, -1, SQLITE_STATIC);
    bool found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    if (!found)
        return vg_fail(c->err, VG_ENOTFOUND, "evidence %s: not on case %s", c->op->target,
                       case_id);
    return custody_put(c, c->op->target, actions.names[action], sha,
                       result >= 0 ? results.names[result] : NULL, detail);
}

static const struct handler {
    const char *kind;
    vg_rc (*fn)(ctx *c);
} handlers[] = {
    {"case.create", h_case_create},         {"case.set", h_case_set},
    {"case.renumber", h_case_renumber},     {"case.merge", h_case_merge},
    {"note.add", h_note_add},               {"artifact.add", h_artifact_add},
    {"artifact.remove", h_artifact_remove}, {"task.add", h_task_add},
    {"task.set", h_task_set},               {"task.log", h_task_log},
    {"event.add", h_event_add},
    {"event.set", h_event_set},             {"alert.add", h_alert_add_op},
    {"alert.set", h_alert_set},             {"alert.import", h_alert_import},
    {"playbook.import", h_playbook_put},    {"playbook.set", h_playbook_put},
    {"playbook.remove", h_playbook_remove}, {"playbook.apply", h_playbook_apply},
    {"ledger.add", h_ledger_add},
    {"field.define", h_field_define},       {"field.remove", h_field_remove},
    {"evidence.add", h_evidence_add},       {"evidence.custody", h_evidence_custody},
};

/* ---- the door -------------------------------------------------------------------- */

static vg_rc apply_in_tx(vg_ws *ws, vg_op *op, vg_err *err)
{
    /* every local alert is an element of an alert.import (op.h) */
    if (op->hlc == 0 && strcmp(op->kind, "alert.add") == 0 && cJSON_IsObject(op->payload) &&
        vg_ulid_valid(op->target))
        return bulk_add(ws, op, err);
    /* the log keeps the order ops were applied in: the alerts before this op first */
    vg_rc frc = bulk_flush(ws, err);
    if (frc)
        return frc;
    const struct handler *h = NULL;
    for (size_t i = 0; i < sizeof handlers / sizeof *handlers; i++)
        if (strcmp(handlers[i].kind, op->kind) == 0)
            h = &handlers[i];
    if (!h)
        return vg_fail(err, VG_EINVAL, "unknown op kind '%s'", op->kind);
    if (!cJSON_IsObject(op->payload))
        return vg_fail(err, VG_EINVAL, "%s: payload must be an object", op->kind);
    if (!vg_ulid_valid(op->target))
        return vg_fail(err, VG_EINVAL, "%s: target '%s' is not an id", op->kind, op->target);

    ctx c = {.ws = ws, .op = op, .local = op->hlc == 0, .raw_at = -1, .err = err};
    if (c.local) {
        int64_t now = vg_now_ms();
        ws->hlc = vg_hlc_next(ws->hlc, now);
        op->hlc = ws->hlc;
        if (!op->id[0])
            vg_ulid_hlc(op->hlc, op->id);
        memcpy(op->origin, ws->replica, sizeof op->origin);
        free(op->actor);
        op->actor = vg_xstrdup(ws->actor);
        free(op->tenant);
        op->tenant = vg_xstrdup(ws->tenant);
    } else {
        if (!vg_ulid_valid(op->id) || !vg_ulid_valid(op->origin) || !op->actor)
            return vg_fail(err, VG_EINVAL, "%s: a stamped op needs an id, origin and actor",
                           op->kind);
        bool seen;
        vg_rc rc = vg_op_known(ws, op->id, &seen, err);
        if (rc || seen)
            return rc;
        ws->hlc = vg_hlc_recv(ws->hlc, op->hlc, vg_now_ms());
    }
    c.ms = VG_HLC_MS(op->hlc);
    /* a local op names the proposal being applied, if any, and only that one */
    bool is_ledger = strcmp(op->kind, "ledger.add") == 0;
    const char *proposal = NULL;
    if (c.local && !is_ledger) {
        cJSON_DeleteItemFromObjectCaseSensitive(op->payload, "proposal");
        if (ws->proposal[0])
            cJSON_AddStringToObject(op->payload, "proposal", proposal = ws->proposal);
    } else if (!is_ledger) {
        proposal = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(op->payload, "proposal"));
        if (proposal && !vg_ulid_valid(proposal))
            return vg_fail(err, VG_EINVAL, "%s: proposal '%.40s' is not an id", op->kind,
                           proposal);
    }
    vg_rc rc = h->fn(&c);
    if (rc == VG_OK && c.unchanged) {
        op->seq = 0; /* nothing written; still a new op (hlc reset below) */
    } else if (rc == VG_OK) {
        const char *text = payload_text(&c);
        rc = oplog_append(ws, op, text, strlen(text), err);
        if (rc == VG_OK && proposal)
            rc = proposal_record(ws, proposal, op->id, err);
    }
    if ((rc != VG_OK || c.unchanged) && c.local)
        op->hlc = 0; /* still a new op: it may be fixed and applied again */
    cJSON_free(c.text);
    return rc;
}

/* Roll back whatever transaction is open. It can fail only when SQLite has already
 * rolled back on its own (after an I/O error), which leaves the same state. */
static void rollback(vg_ws *ws)
{
    ws->proposal[0] = '\0';
    ws->byref_ok = false;
    ws->rec_key_ok = false; /* it may have been made in the transaction */
    ws_raw_forget(ws); /* a seq read in the transaction may be made again */
    ws_drop_keys(ws);
    bulk_drop(ws);
    sqlite3_exec(ws->db, "ROLLBACK", NULL, NULL, NULL);
}

vg_rc vg_batch_begin(vg_ws *ws, vg_err *err)
{
    if (ws->in_batch)
        return vg_fail(err, VG_EINVAL, "a batch is already open");
    /* key: the FTS rowid; body: what to index (NULL: nothing, the row is gone);
     * stale: the key may be indexed already and is deleted first. Made outside the
     * transaction, so that a rollback cannot take it away. */
    if (!ws->fts_ready &&
        ws_exec(ws, "CREATE TEMP TABLE IF NOT EXISTS fts_stage(key INTEGER PRIMARY KEY,"
                    " body TEXT, stale INTEGER NOT NULL)", err) != VG_OK)
        return VG_EDB;
    ws->fts_ready = true;
    ws->fts_staged = false;
    /* before the write lock: a frontend's lock elsewhere is always taken first */
    vg_rc rc = ws->hooks.begin ? ws->hooks.begin(ws->hooks.ud, ws, err) : VG_OK;
    if (rc == VG_OK)
        rc = ws_exec(ws, "BEGIN IMMEDIATE", err);
    if (rc)
        return rc;
    if ((rc = oplog_load_head(ws, err)) || (rc = oplog_check_head(ws, err))) {
        rollback(ws);
        return rc;
    }
    ws->begin_seq = ws->last_seq;
    ws->ntouched = 0;
    ws->in_batch = 1;
    ws->batches++;
    return VG_OK;
}

vg_rc vg_batch_commit(vg_ws *ws, vg_err *err)
{
    if (!ws->in_batch)
        return vg_fail(err, VG_EINVAL, "no batch is open");
    /* Index the transaction's staged rows, a statement each way (see fts_stage). */
    vg_rc rc = bulk_flush(ws, err);
    if (rc == VG_OK)
        rc = flush_touched(ws, err);
    if (rc == VG_OK)
        rc = ws_flush_keys(ws, err);
    if (rc == VG_OK)
        rc = ws_lease_flush(ws, err);
    if (rc == VG_OK && ws->fts_staged)
        rc = ws_exec(ws, "DELETE FROM fts WHERE rowid IN (SELECT key FROM temp.fts_stage"
                           "  WHERE stale);"
                           " INSERT INTO fts(rowid, body) SELECT key, body FROM temp.fts_stage"
                           "  WHERE body IS NOT NULL;"
                           " DELETE FROM temp.fts_stage", err);
    if (rc == VG_OK && ws->last_seq != ws->begin_seq)
        rc = oplog_store_head(ws, err);
    if (rc == VG_OK && ws->last_seq != ws->begin_seq && ws->hooks.commit)
        rc = ws->hooks.commit(ws->hooks.ud, ws, ws->begin_seq, ws->last_seq, err);
    if (rc == VG_OK)
        rc = ws_exec(ws, "COMMIT", err);
    if (rc)
        rollback(ws);
    ws->proposal[0] = '\0';
    ws->in_batch = 0;
    return rc;
}

void vg_batch_rollback(vg_ws *ws)
{
    if (!ws->in_batch)
        return;
    rollback(ws);
    ws->in_batch = 0;
}

vg_rc vg_alert_known(vg_ws *ws, const vg_op *op, bool *known, vg_err *err)
{
    *known = false;
    const cJSON *p = op->payload;
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(p, "source");
    const cJSON *ref = cJSON_GetObjectItemCaseSensitive(p, "source_ref");
    if (strcmp(op->kind, "alert.add") != 0 || !cJSON_IsString(src) || !cJSON_IsString(ref))
        return VG_OK;
    ws_alert_ref have;
    vg_rc rc = ws_alert_by_ref(ws, src->valuestring, ref->valuestring, &have, err);
    if (rc || !have.rowid)
        return rc;
    ctx c = {.ws = ws, .op = (vg_op *)op, .local = op->hlc == 0, .raw_at = -1, .err = err};
    int64_t rec;
    if ((rc = ws_rec_key(ws, err)) ||
        !alert_rec(&c, cJSON_GetObjectItemCaseSensitive(p, "raw"), &rec))
        return rc;
    return rec_known(ws, &have, rec, known, err);
}

vg_rc vg_apply(vg_ws *ws, vg_op *op, vg_err *err)
{
    if (ws->in_batch)
        return apply_in_tx(ws, op, err);
    vg_rc rc = vg_batch_begin(ws, err);
    if (rc)
        return rc;
    if ((rc = apply_in_tx(ws, op, err)) != VG_OK) {
        vg_batch_rollback(ws);
        return rc;
    }
    return vg_batch_commit(ws, err);
}

vg_rc vg_apply_all(vg_ws *ws, vg_op *const *ops, size_t n, vg_err *err)
{
    vg_rc rc = vg_batch_begin(ws, err);
    for (size_t i = 0; rc == VG_OK && i < n; i++)
        if (ops[i])
            rc = apply_in_tx(ws, ops[i], err);
    if (rc == VG_OK)
        return vg_batch_commit(ws, err);
    if (ws->in_batch)
        vg_batch_rollback(ws);
    return rc;
}
