/*
 * ledger.c — the investigation ledger (contract in vigil/ledger.h).
 *
 * The ledger is a projection of the op log: every entry is a ledger.add op that
 * the door (apply.c, h_ledger_add) applies with ledger_put below, so the ledger
 * travels with everything else in the one op stream and is checked by the same
 * rules on every replica. Sessions are checked on every append, local or stamped,
 * and on every read by (session, case, user): a session id is a capability nobody
 * else may use, even knowing it, and a replica refuses another user's entry in it.
 *
 * Two chain rules, told apart by the legacy_chain column:
 *  - per session (legacy_chain NULL; every entry the door writes): an entry's
 *    prev_hash is the hash of the entry before it in its session (seq - 1), or 32
 *    zero bytes for seq 1. Sessions are single-writer, and replicas that receive
 *    sessions interleaved in different orders compute the same hashes. That the
 *    ledger holds every session whole is checked against the op log: each session
 *    has as many entries as there are ledger.add ops for it, so a deleted session
 *    or last entry shows too (a deleted op breaks the op log's own chain).
 *  - over the whole ledger (legacy_chain names a replica): entries written before
 *    the schema step that added legacy_chain were chained in id order over the
 *    whole table of the replica that wrote them (vigil then appended each entry
 *    after the newest of any session). They keep their hashes: an entry's
 *    prev_hash is the hash of the previous entry of the same legacy chain in id
 *    order. The migration gives each its op (ledger_into_ops, in id order), so a
 *    replica that receives them receives them in that order and the chain reads
 *    the same there, whatever else arrives between.
 * The entry hash is the same function under both rules. created_at is the op's
 * clock milliseconds (VG_HLC_MS), not a payload field: an op carries one time,
 * which every replica already agrees on and which a payload field could only
 * contradict; a migrated entry's op gets a clock made from its created_at.
 * A local op's seq is assigned by the door and written into its payload, so the
 * payload and the clock alone make the entry.
 */
#include "internal.h"
#include "oplog.h"
#include "vigil/ledger.h"
#include "vigil/op.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static const char *const kind_names[] = {"prompt", "response", "proposal", "decision", "error"};
const vg_enum VG_LEDGER_KIND = {"kind", kind_names, 5};

static void put_str(crypto_generichash_state *h, const char *s)
{
    crypto_generichash_update(h, (const unsigned char *)s, strlen(s) + 1);
}

static void put_i64(crypto_generichash_state *h, int64_t v)
{
    unsigned char be[8];
    for (int i = 0; i < 8; i++)
        be[i] = (unsigned char)((uint64_t)v >> (56 - 8 * i));
    crypto_generichash_update(h, be, sizeof be);
}

static void entry_hash(const unsigned char prev[32], const char *case_id, const char *session,
                       const char *user, int64_t seq, const char *kind, const char *model,
                       const char *content, int64_t created_at, unsigned char out[32])
{
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 32);
    crypto_generichash_update(&h, prev, 32);
    put_str(&h, case_id);
    put_str(&h, session);
    put_str(&h, user);
    put_i64(&h, seq);
    put_str(&h, kind);
    put_str(&h, model);
    put_str(&h, content);
    put_i64(&h, created_at);
    crypto_generichash_final(&h, out, 32);
}

static vg_rc prep(vg_ws *ws, const char *sql, sqlite3_stmt **st, vg_err *err)
{
    if (sqlite3_prepare_v2(ws->db, sql, -1, st, NULL) != SQLITE_OK)
        return ws_dberr(ws, err, "reading the ledger");
    return VG_OK;
}

/* The scope a session is on, for a message. */
static const char *scope_name(const char *case_id)
{
    return case_id ? "a case" : "the general pane";
}

/* The session's newest entry, checked against who writes and where: the rules of
 * vg_ledger_session_check, which the door applies too. *last gets the session's
 * last seq (0: a new session) and prev its hash (zeros for a new session); either
 * may be NULL. Messages start with who ("" or "ledger.add: "). */
static vg_rc session_tail(vg_ws *ws, const char *who, const char *case_id,
                          const char *session_id, const char *user, int64_t *last,
                          unsigned char prev[32], vg_err *err)
{
    static const char sql[] = "SELECT case_id, user, seq, hash FROM ledger"
                              " WHERE session_id = ? ORDER BY seq DESC LIMIT 1";
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt_text(ws, sql, &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, session_id, -1, SQLITE_STATIC);
    if (last)
        *last = 0;
    if (prev)
        memset(prev, 0, 32);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        const char *c = (const char *)sqlite3_column_text(st, 0);
        const char *u = (const char *)sqlite3_column_text(st, 1);
        if (!u || strcmp(u, user) != 0)
            rc = vg_fail(err, VG_EINVAL, "%ssession %.26s belongs to another user", who,
                         session_id);
        else if (!c != !case_id)
            rc = vg_fail(err, VG_EINVAL, "%ssession %.26s belongs to %s", who, session_id,
                         scope_name(c));
        else if (c && strcmp(c, case_id) != 0)
            rc = vg_fail(err, VG_EINVAL, "%ssession %.26s belongs to another case", who,
                         session_id);
        if (last)
            *last = sqlite3_column_int64(st, 2);
        if (prev && sqlite3_column_bytes(st, 3) == 32)
            memcpy(prev, sqlite3_column_blob(st, 3), 32);
    } else if (step != SQLITE_DONE) {
        rc = ws_dberr(ws, err, "reading the ledger");
    }
    sqlite3_reset(st);
    return rc;
}

vg_rc vg_ledger_session_check(vg_ws *ws, const char *case_id, const char *session_id,
                              const char *user, vg_err *err)
{
    /* a merged case's sessions are on the case it was merged into (op.h: case.merge),
     * where the door writes its entries */
    vg_id live = "";
    if (case_id) {
        sqlite3_stmt *st;
        vg_rc rc = ws_stmt_text(ws, "SELECT merged_into FROM cases WHERE id = ?", &st, err);
        if (rc)
            return rc;
        sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            col_id(st, 0, live);
        sqlite3_reset(st);
    }
    return session_tail(ws, "", live[0] ? live : case_id, session_id, user, NULL, NULL, err);
}

vg_rc ledger_put(vg_ws *ws, const ledger_add *a, int64_t *seq, vg_err *err)
{
    static const char insert[] = "INSERT INTO ledger(case_id, session_id, user, seq, kind,"
                                 " model, content, created_at, prev_hash, hash, legacy_chain,"
                                 " hashed_case) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    unsigned char prev[32], hash[32];
    int64_t last;
    vg_rc rc = session_tail(ws, "ledger.add: ", a->case_id, a->session_id, a->user, &last, prev,
                            err);
    if (rc)
        return rc;
    /* A stamped entry must be the next of its session: sessions are single-writer
     * and sync delivers each origin's ops in order, so anything else is a second
     * writer or a gap, and either would fork the session's chain. */
    if (a->seq && a->seq != last + 1)
        return vg_fail(err, VG_EINVAL,
                       "ledger.add: entry %lld of session %.26s does not follow its last"
                       " entry (%lld): a session's entries arrive in order",
                       (long long)a->seq, a->session_id, (long long)last);
    *seq = last + 1;
    if (a->legacy_chain) {
        memcpy(prev, a->prev_hash, 32);
        memcpy(hash, a->hash, 32);
    } else {
        /* no case hashes as "", as vg_ledger_verify reads a NULL */
        const char *hc = a->hashed_case ? a->hashed_case : a->case_id;
        entry_hash(prev, hc ? hc : "", a->session_id, a->user, *seq, a->kind,
                   a->model, a->content, a->created_at, hash);
    }
    sqlite3_stmt *st;
    if ((rc = ws_stmt_text(ws, insert, &st, err)))
        return rc;
    sqlite3_bind_text(st, 1, a->case_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, a->session_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, a->user, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, *seq);
    sqlite3_bind_text(st, 5, a->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, a->model, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, a->content, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, a->created_at);
    sqlite3_bind_blob(st, 9, prev, 32, SQLITE_STATIC);
    sqlite3_bind_blob(st, 10, hash, 32, SQLITE_STATIC);
    sqlite3_bind_text(st, 11, a->legacy_chain, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 12, a->hashed_case, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        return ws_dberr(ws, err, "appending to the ledger");
    return VG_OK;
}

vg_rc vg_ledger_append(vg_ws *ws, const char *case_id, const char *session_id, const char *user,
                       int kind, const char *model, const char *content, int64_t *seq_out,
                       vg_err *err)
{
    if (kind < 0 || kind >= VG_LEDGER_KIND.n)
        return vg_fail(err, VG_EINVAL, "ledger: no entry kind %d", kind);
    if (!vg_ulid_valid(session_id))
        return vg_fail(err, VG_EINVAL, "ledger: '%.40s' is not a session id", session_id);
    if (case_id && !*case_id)
        return vg_fail(err, VG_EINVAL, "ledger: no case is NULL, not \"\"");
    vg_op *op = vg_op_ledger_add(case_id, session_id, user, vg_enum_name(&VG_LEDGER_KIND, kind),
                                 model, content);
    vg_rc rc = vg_apply(ws, op, err);
    if (rc == VG_OK && seq_out) {
        const cJSON *seq = cJSON_GetObjectItemCaseSensitive(op->payload, "seq");
        *seq_out = cJSON_IsNumber(seq) ? (int64_t)seq->valuedouble : 0;
    }
    vg_op_free(op);
    return rc;
}

/* The payload of a pre-migration entry's op (see ledger_into_ops): what a
 * ledger.add carries, and the hashes the entry had. */
static cJSON *legacy_payload(sqlite3_stmt *st)
{
    cJSON *p = cJSON_CreateObject();
    char hex[65];
    if (sqlite3_column_type(st, 1) != SQLITE_NULL)
        cJSON_AddStringToObject(p, "case", (const char *)sqlite3_column_text(st, 1));
    cJSON_AddStringToObject(p, "user", (const char *)sqlite3_column_text(st, 3));
    cJSON_AddNumberToObject(p, "seq", (double)sqlite3_column_int64(st, 4));
    cJSON_AddStringToObject(p, "kind", (const char *)sqlite3_column_text(st, 5));
    cJSON_AddStringToObject(p, "model", (const char *)sqlite3_column_text(st, 6));
    cJSON_AddStringToObject(p, "content", (const char *)sqlite3_column_text(st, 7));
    for (int i = 0; i < 2; i++) {
        const void *b = sqlite3_column_blob(st, 9 + i);
        int n = sqlite3_column_bytes(st, 9 + i);
        /* a hash of another length is kept as hex all the same, and named by
         * vg_ledger_verify on every replica that receives it */
        char *h = n == 32 ? hex : vg_xmalloc((size_t)n * 2 + 1);
        sodium_bin2hex(h, (size_t)n * 2 + 1, b, (size_t)n);
        cJSON_AddStringToObject(p, i ? "hash" : "prev_hash", h);
        if (h != hex)
            free(h);
    }
    return p;
}

vg_rc ledger_into_ops(vg_ws *ws, vg_err *err)
{
    sqlite3_stmt *st = NULL;
    vg_rc rc = oplog_load_head(ws, err);
    if (rc)
        return rc;
    if ((rc = prep(ws, "SELECT id, case_id, session_id, user, seq, kind, model, content,"
                       " created_at, prev_hash, hash FROM ledger WHERE legacy_chain = ''"
                       " ORDER BY id", &st, err)))
        return rc;
    int64_t last_ms = -1;
    unsigned counter = 0;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0), ms = sqlite3_column_int64(st, 8);
        if (ms < 0 || ms > VG_HLC_MS(UINT64_MAX)) {
            rc = vg_fail(err, VG_ECORRUPT,
                         "ledger entry %lld: its time %lld is not a time a clock can carry",
                         (long long)id, (long long)ms);
            break;
        }
        /* The op's clock is the entry's time, so that created_at, read from the
         * clock, is the entry's own; entries of one millisecond count up in it. */
        counter = ms == last_ms ? counter + 1 : 0;
        last_ms = ms;
        vg_op *op = vg_op_new("ledger.add", (const char *)sqlite3_column_text(st, 2));
        cJSON_Delete(op->payload);
        op->payload = legacy_payload(st);
        op->hlc = VG_HLC(ms, counter);
        vg_ulid_hlc(op->hlc, op->id);
        memcpy(op->origin, ws->replica, sizeof op->origin);
        op->actor = vg_xstrdup((const char *)sqlite3_column_text(st, 3));
        op->tenant = vg_xstrdup("");
        char *text = cJSON_PrintUnformatted(op->payload);
        rc = oplog_append(ws, op, text, strlen(text), err);
        cJSON_free(text);
        vg_op_free(op);
        if (rc)
            break;
    }
    sqlite3_finalize(st);
    if (rc)
        return rc;
    if (step != SQLITE_DONE)
        return ws_dberr(ws, err, "reading the ledger");
    if ((rc = prep(ws, "UPDATE ledger SET legacy_chain = ? WHERE legacy_chain = ''", &st, err)))
        return rc;
    sqlite3_bind_text(st, 1, ws->replica, -1, SQLITE_STATIC);
    step = sqlite3_step(st);
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? VG_OK : ws_dberr(ws, err, "naming the ledger's chain");
}

#define ENTRY_COLS "id, case_id, session_id, user, seq, kind, model, content, created_at, hash"

static void read_entry(sqlite3_stmt *st, vg_ledger_entry *e)
{
    memset(e, 0, sizeof *e);
    e->id = sqlite3_column_int64(st, 0);
    col_id(st, 1, e->case_id);
    col_id(st, 2, e->session_id);
    e->user = col_dup(st, 3);
    e->seq = sqlite3_column_int64(st, 4);
    e->kind = vg_enum_parse(&VG_LEDGER_KIND, (const char *)sqlite3_column_text(st, 5));
    e->model = col_dup(st, 6);
    e->content = col_dup(st, 7);
    e->created_at = sqlite3_column_int64(st, 8);
    if (sqlite3_column_bytes(st, 9) == 32)
        sodium_bin2hex(e->hash, sizeof e->hash, sqlite3_column_blob(st, 9), 32);
}

/* Every row of st (bound, then finalized here) into *items. */
static vg_rc read_entries(vg_ws *ws, sqlite3_stmt *st, vg_ledger_entry **items, size_t *n,
                          vg_err *err)
{
    size_t cap = 0;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *items = vg_xrealloc(*items, cap * sizeof **items);
        }
        read_entry(st, &(*items)[(*n)++]);
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE) {
        vg_ledger_free(*items, *n);
        *items = NULL;
        *n = 0;
        return ws_dberr(ws, err, "reading the ledger");
    }
    return VG_OK;
}

vg_rc vg_ledger_list(vg_ws *ws, const char *case_id, const char *user, const char *session_id,
                     vg_ledger_entry **items, size_t *n, vg_err *err)
{
    *items = NULL;
    *n = 0;
    sqlite3_stmt *st = NULL;
    vg_rc rc;
    if (session_id) {
        if ((rc = vg_ledger_session_check(ws, case_id, session_id, user, err)))
            return rc;
    }
    /* IS: a NULL case_id finds the general sessions, through the same index */
    if ((rc = prep(ws, "SELECT " ENTRY_COLS " FROM ledger WHERE case_id IS ?1 AND user = ?2"
                       " AND (?3 IS NULL OR session_id = ?3) ORDER BY id", &st, err)))
        return rc;
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
    if (session_id)
        sqlite3_bind_text(st, 3, session_id, -1, SQLITE_STATIC);
    if ((rc = read_entries(ws, st, items, n, err)))
        return rc;
    if (session_id && *n == 0)
        return vg_fail(err, VG_ENOTFOUND, "no session %.26s %s", session_id,
                       case_id ? "on this case" : "in the general pane");
    return VG_OK;
}

vg_rc vg_ledger_open_proposals(vg_ws *ws, const char *user, const char *case_id,
                              vg_ledger_entry **items, size_t *n, vg_err *err)
{
    /* On a case: its sessions' entries through ledger_case, and the general
     * sessions' (case_id NULL, the same index) that name it; every case: the
     * proposals alone. The NOT EXISTS use the decision index and proposals_applied's
     * key. */
#define OPEN_PROPOSAL                                                                    \
    " AND NOT EXISTS (SELECT 1 FROM ledger d WHERE d.kind = 'decision'"                  \
    "  AND json_extract(d.content, '$.proposal') = json_extract(p.content, '$.id'))"     \
    " AND NOT EXISTS (SELECT 1 FROM proposals_applied a"                                 \
    "  WHERE a.proposal = json_extract(p.content, '$.id'))"
    static const char on_case[] =
        "SELECT * FROM (SELECT " ENTRY_COLS " FROM ledger p WHERE p.case_id = ?2"
        " AND p.kind = 'proposal' AND p.user = ?1" OPEN_PROPOSAL
        " UNION ALL SELECT " ENTRY_COLS " FROM ledger p WHERE p.case_id IS NULL"
        " AND p.kind = 'proposal' AND p.user = ?1"
        " AND json_extract(p.content, '$.case') = ?2" OPEN_PROPOSAL ") ORDER BY id";
    static const char every[] = "SELECT " ENTRY_COLS " FROM ledger p WHERE p.kind = 'proposal'"
                                " AND p.user = ?1" OPEN_PROPOSAL " ORDER BY p.id";
#undef OPEN_PROPOSAL
    const char *sql = case_id ? on_case : every;
    *items = NULL;
    *n = 0;
    sqlite3_stmt *st = NULL;
    vg_rc rc = prep(ws, sql, &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
    if (case_id)
        sqlite3_bind_text(st, 2, case_id, -1, SQLITE_STATIC);
    if ((rc = read_entries(ws, st, items, n, err)))
        return rc;
    return VG_OK;
}

vg_rc vg_ledger_find(vg_ws *ws, int kind, const char *id, vg_ledger_entry *out, vg_err *err)
{
    /* The expressions and conditions are those of the partial indexes of schema
     * steps 5 and 6, word for word, so that SQLite uses them. */
    static const char proposal[] = "SELECT " ENTRY_COLS " FROM ledger WHERE kind = 'proposal'"
                                   " AND json_extract(content, '$.id') = ?1"
                                   " ORDER BY id DESC LIMIT 1";
    static const char decision[] = "SELECT " ENTRY_COLS " FROM ledger WHERE kind = 'decision'"
                                   " AND json_extract(content, '$.proposal') = ?1"
                                   " ORDER BY id DESC LIMIT 1";
    if (kind != VG_LEDGER_PROPOSAL && kind != VG_LEDGER_DECISION)
        return vg_fail(err, VG_EINVAL, "ledger: only proposals and decisions are found by id");
    sqlite3_stmt *st = NULL;
    vg_rc rc = prep(ws, kind == VG_LEDGER_PROPOSAL ? proposal : decision, &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        read_entry(st, out);
    sqlite3_finalize(st);
    if (step == SQLITE_ROW)
        return VG_OK;
    if (step != SQLITE_DONE)
        return ws_dberr(ws, err, "reading the ledger");
    return vg_fail(err, VG_ENOTFOUND, "no %s for %.64s in the ledger",
                   vg_enum_name(&VG_LEDGER_KIND, kind), id);
}

/* The whole-ledger chains of entries from before the migration: the hash each
 * replica's chain reached so far in id order. Few (one per replica that had a
 * ledger then). */
typedef struct legacy_head {
    vg_id chain;
    unsigned char hash[32];
} legacy_head;

static unsigned char *legacy_prev(legacy_head **heads, size_t *n, const char *chain)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*heads)[i].chain, chain) == 0)
            return (*heads)[i].hash;
    *heads = vg_xrealloc(*heads, (*n + 1) * sizeof **heads);
    legacy_head *h = &(*heads)[(*n)++];
    snprintf(h->chain, sizeof h->chain, "%s", chain);
    memset(h->hash, 0, sizeof h->hash);
    return h->hash;
}

/* The stored hash of entry seq of session (the per-session rule's prev), or
 * zeros when seq is 0; false when there is no such entry. */
static vg_rc session_prev(vg_ws *ws, const char *session, int64_t seq, unsigned char prev[32],
                          bool *found, vg_err *err)
{
    static const char sql[] = "SELECT hash FROM ledger WHERE session_id = ? AND seq = ?";
    memset(prev, 0, 32);
    *found = true;
    if (seq == 0)
        return VG_OK;
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt_text(ws, sql, &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, session, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, seq);
    int step = sqlite3_step(st);
    *found = step == SQLITE_ROW;
    if (*found && sqlite3_column_bytes(st, 0) == 32)
        memcpy(prev, sqlite3_column_blob(st, 0), 32);
    sqlite3_reset(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? VG_OK
                                                     : ws_dberr(ws, err, "reading the ledger");
}

/* Is every session whole? As many entries as the op log has ledger.add ops for it
 * (the op's target is its session); the first session that differs fails,
 * *bad_id its newest entry (0 when none is left). Reads the op log's kind and
 * target only. */
static vg_rc sessions_whole(vg_ws *ws, int64_t *bad_id, vg_err *err)
{
    sqlite3_stmt *st = NULL;
    vg_rc rc = prep(ws, "WITH o(s, n) AS (SELECT target, count(*) FROM ops"
                        "  WHERE kind = 'ledger.add' GROUP BY target),"
                        " l(s, n, last) AS (SELECT session_id, count(*), max(id) FROM ledger"
                        "  GROUP BY session_id)"
                        " SELECT l.s, l.n, coalesce(o.n, 0), l.last FROM l LEFT JOIN o"
                        "  ON o.s = l.s WHERE o.n IS NOT l.n"
                        " UNION ALL SELECT o.s, 0, o.n, 0 FROM o"
                        "  WHERE o.s NOT IN (SELECT s FROM l) LIMIT 1", &st, err);
    if (rc)
        return rc;
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        vg_id s;
        col_id(st, 0, s);
        int64_t entries = sqlite3_column_int64(st, 1), ops = sqlite3_column_int64(st, 2);
        *bad_id = sqlite3_column_int64(st, 3);
        if (*bad_id)
            rc = vg_fail(err, VG_ECORRUPT,
                         "ledger broken at entry %lld (session %.26s): its session has %lld"
                         " entries and the op log %lld ledger.add ops for it",
                         (long long)*bad_id, s, (long long)entries, (long long)ops);
        else
            rc = vg_fail(err, VG_ECORRUPT,
                         "ledger broken at session %.26s: the op log has %lld ledger.add ops"
                         " for it and the ledger no entry", s, (long long)ops);
    } else if (step != SQLITE_DONE) {
        rc = ws_dberr(ws, err, "reading the ledger");
    }
    sqlite3_finalize(st);
    return rc;
}

vg_rc vg_ledger_verify(vg_ws *ws, int64_t *count, int64_t *bad_id, vg_err *err)
{
    sqlite3_stmt *st = NULL;
    unsigned char prev[32], hash[32];
    legacy_head *heads = NULL;
    size_t nheads = 0;
    *count = 0;
    *bad_id = 0;
    /* an entry moved by a case.merge is checked against the case it was written on */
    vg_rc rc = prep(ws, "SELECT id, coalesce(hashed_case, case_id), session_id, user, seq, kind,"
                        " model, content, created_at, prev_hash, hash, legacy_chain FROM ledger"
                        " ORDER BY id",
                    &st, err);
    if (rc)
        return rc;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *f[7];
        for (int i = 0; i < 7; i++) {
            const unsigned char *s = sqlite3_column_text(st, i + 1);
            f[i] = s ? (const char *)s : "";
        }
        /* f: case, session, user, (seq as text, unused), kind, model, content */
        int64_t id = sqlite3_column_int64(st, 0), seq = sqlite3_column_int64(st, 4);
        const char *legacy = (const char *)sqlite3_column_text(st, 11);
        unsigned char *head = NULL;
        char why[96] = "";
        if (legacy) {
            head = legacy_prev(&heads, &nheads, legacy);
            memcpy(prev, head, 32);
        } else {
            bool found;
            if ((rc = session_prev(ws, f[1], seq - 1, prev, &found, err)))
                break;
            if (!found)
                snprintf(why, sizeof why, "entry %lld of its session is missing",
                         (long long)seq - 1);
        }
        entry_hash(prev, f[0], f[1], f[2], seq, f[4], f[5], f[6], sqlite3_column_int64(st, 8),
                   hash);
        if (why[0] || chain_check(st, 9, 10, prev, hash, "entry", why, sizeof why)) {
            *bad_id = id;
            rc = vg_fail(err, VG_ECORRUPT, "ledger broken at entry %lld (session %.26s): %s",
                         (long long)id, f[1], why);
            break;
        }
        if (head)
            memcpy(head, hash, 32);
        ++*count;
    }
    sqlite3_finalize(st);
    free(heads);
    if (rc)
        return rc;
    if (step != SQLITE_DONE)
        return ws_dberr(ws, err, "reading the ledger");
    return sessions_whole(ws, bad_id, err);
}

void vg_ledger_clear(vg_ledger_entry *e)
{
    if (!e)
        return;
    free(e->user);
    free(e->model);
    free(e->content);
    e->user = e->model = e->content = NULL;
}

void vg_ledger_free(vg_ledger_entry *e, size_t n)
{
    for (size_t i = 0; e && i < n; i++)
        vg_ledger_clear(&e[i]);
    free(e);
}
