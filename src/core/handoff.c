/*
 * handoff.c — task logs read back, @mentions and the shift handoff (contract in
 * vigil/handoff.h).
 *
 * Nothing here writes an entity table. A mention is found when it is read: the
 * notes and task log entries holding "@" followed by the reader's name are picked
 * by SQL (instr, so no LIKE pattern is made of a name) and checked by the one
 * parser, vg_mentions_each. The handoff reads the op log itself: the case.create,
 * case.set and task.set ops whose clock is at or after the time asked, their
 * payloads through vg_payload (compressed or not); an alert.import is never
 * decompressed, so a workspace of a million alerts costs what its case work does.
 * The only write is the mentions' read marker, a meta row of this replica.
 */
#include "internal.h"
#include "vigil/handoff.h"
#include "vigil/ledger.h"
#include "vigil/model.h"
#include "vigil/query.h"
#include "vigil/remote.h"
#include "vigil/text.h"
#include "vigil/timefmt.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MENTION_MAX 64

/* A statement prepared for one read (the handoff's, rarely run: not cached). */
static vg_rc prep(vg_ws *ws, const char *sql, sqlite3_stmt **st, vg_err *err)
{
    if (sqlite3_prepare_v2(ws->db, sql, -1, st, NULL) != SQLITE_OK)
        return ws_dberr(ws, err, "preparing a read");
    return VG_OK;
}

/* ---- task logs ------------------------------------------------------------------ */

vg_rc vg_task_logs_of_case(vg_ws *ws, const char *case_id, const char *task_id, vg_task_log **out,
                           size_t *n, vg_err *err)
{
    static const char sql[] = "SELECT id, task_id, case_id, author, body, created_at FROM task_logs"
                              " WHERE case_id = ?1 AND (?2 IS NULL OR task_id = ?2)"
                              " ORDER BY task_id, created_at, id";
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt_text(ws, sql, &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
    if (task_id)
        sqlite3_bind_text(st, 2, task_id, -1, SQLITE_STATIC);
    int s;
    size_t cap = 0;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            *out = vg_xrealloc(*out, cap * sizeof **out);
        }
        vg_task_log *l = &(*out)[(*n)++];
        memset(l, 0, sizeof *l);
        snprintf(l->id, sizeof l->id, "%s", (const char *)sqlite3_column_text(st, 0));
        snprintf(l->task_id, sizeof l->task_id, "%s", (const char *)sqlite3_column_text(st, 1));
        snprintf(l->case_id, sizeof l->case_id, "%s", (const char *)sqlite3_column_text(st, 2));
        l->author = col_dup(st, 3);
        l->body = col_dup(st, 4);
        l->created_at = sqlite3_column_int64(st, 5);
    }
    sqlite3_reset(st);
    if (s != SQLITE_DONE) {
        vg_task_logs_free(*out, *n);
        *out = NULL;
        *n = 0;
        return ws_dberr(ws, err, "reading task logs");
    }
    return VG_OK;
}

void vg_task_logs_free(vg_task_log *l, size_t n)
{
    for (size_t i = 0; l && i < n; i++) {
        free(l[i].author);
        free(l[i].body);
    }
    free(l);
}

static void add_str(cJSON *o, const char *key, const char *s)
{
    char *r = vg_utf8_repair(s ? s : "");
    cJSON_AddStringToObject(o, key, r);
    free(r);
}

cJSON *vg_task_log_json(const vg_task_log *l)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "id", l->id);
    cJSON_AddStringToObject(j, "task", l->task_id);
    add_str(j, "author", l->author);
    cJSON_AddNumberToObject(j, "at", (double)l->created_at);
    add_str(j, "text", l->body);
    return j;
}

/* ---- mentions ------------------------------------------------------------------- */

static bool name_char(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '.' || ch == '-';
}

/* Could ch be the end of the local part of an address ("email@host")? */
static bool address_char(unsigned char ch)
{
    return name_char(ch) || ch == '+' || ch == '@';
}

size_t vg_mentions_each(const char *text, void (*fn)(void *ud, const char *name, size_t len),
                        void *ud)
{
    size_t count = 0;
    for (const char *p = text ? strchr(text, '@') : NULL; p; p = strchr(p + 1, '@')) {
        if (p > text && address_char((unsigned char)p[-1]))
            continue;
        const char *s = p + 1;
        unsigned char first = (unsigned char)*s;
        if (!name_char(first) || first == '.' || first == '-')
            continue;
        size_t len = 0;
        while (name_char((unsigned char)s[len]))
            len++;
        while (len && (s[len - 1] == '.' || s[len - 1] == '-'))
            len--;
        if (len == 0 || len > MENTION_MAX || s[len] == '@')
            continue;
        count++;
        if (fn)
            fn(ud, s, len);
    }
    return count;
}

struct find_one {
    const char *user;
    size_t len;
    bool found;
};

static void find_one(void *ud, const char *name, size_t len)
{
    struct find_one *f = ud;
    if (len == f->len && strncasecmp(name, f->user, len) == 0)
        f->found = true;
}

bool vg_mentions_user(const char *text, const char *user)
{
    struct find_one f = {user, strlen(user), false};
    if (f.len == 0)
        return false;
    vg_mentions_each(text, find_one, &f);
    return f.found;
}

void vg_strings_free(char **s, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        free(s[i]);
    free(s);
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

#define ROSTER_MAX 10000

static void roster_key(const char *remote, char *key, size_t n)
{
    snprintf(key, n, "roster:%s", remote);
}

/* The roster of remote as stored (NULL when there is none or it does not parse). */
static cJSON *roster_get(vg_ws *ws, const char *remote, vg_err *err, vg_rc *rc)
{
    char key[160];
    roster_key(remote, key, sizeof key);
    sqlite3_stmt *st;
    *rc = prep(ws, "SELECT value FROM meta WHERE key = ?", &st, err);
    if (*rc)
        return NULL;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    cJSON *j = NULL;
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW)
        j = cJSON_Parse((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    if (s != SQLITE_ROW && s != SQLITE_DONE)
        *rc = ws_dberr(ws, err, "reading the team's roster");
    return j;
}

static bool roster_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
              s[i] == '_' || s[i] == '-'))
            return false;
    return true;
}

vg_rc vg_roster_put(vg_ws *ws, const char *remote, const char *const *names, size_t n, int64_t at,
                    vg_err *err)
{
    cJSON *j = cJSON_CreateObject(), *arr;
    cJSON_AddNumberToObject(j, "at", (double)at);
    cJSON_AddItemToObject(j, "users", arr = cJSON_CreateArray());
    for (size_t i = 0, k = 0; i < n && k < ROSTER_MAX; i++)
        if (names[i] && roster_name_ok(names[i])) {
            cJSON_AddItemToArray(arr, cJSON_CreateString(names[i]));
            k++;
        }
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (!text)
        abort(); /* out of memory */
    char key[160];
    roster_key(remote, key, sizeof key);
    vg_rc rc = ws_meta_put(ws, key, text, "storing the team's roster", err);
    cJSON_free(text);
    return rc;
}

vg_rc vg_roster_at(vg_ws *ws, const char *remote, int64_t *at, vg_err *err)
{
    vg_rc rc;
    cJSON *j = roster_get(ws, remote, err, &rc);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, "at");
    *at = cJSON_IsNumber(a) && a->valuedouble > 0 && a->valuedouble < 9e15 ? (int64_t)a->valuedouble
                                                                           : 0;
    cJSON_Delete(j);
    return rc;
}

vg_rc vg_users_known(vg_ws *ws, char ***out, size_t *n, vg_err *err)
{
    static const char sql[] = "SELECT actor FROM ops UNION SELECT assignee FROM cases"
                              " UNION SELECT assignee FROM tasks";
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st;
    vg_rc rc = prep(ws, sql, &st, err);
    if (rc)
        return rc;
    char **v = NULL;
    size_t nv = 0;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        const char *a = (const char *)sqlite3_column_text(st, 0);
        if (!a || !*a)
            continue;
        v = vg_xrealloc(v, (nv + 2) * sizeof *v);
        v[nv++] = vg_xstrdup(a);
    }
    sqlite3_finalize(st);
    if (s != SQLITE_DONE) {
        vg_strings_free(v, nv);
        return ws_dberr(ws, err, "reading the workspace's users");
    }
    v = vg_xrealloc(v, (nv + 2) * sizeof *v);
    if (vg_ws_actor(ws) && *vg_ws_actor(ws))
        v[nv++] = vg_xstrdup(vg_ws_actor(ws));
    vg_remote r;
    vg_err ignore;
    if (vg_remote_get(ws, NULL, &r, &ignore) == VG_OK) {
        if (r.user[0])
            v[nv++] = vg_xstrdup(r.user);
        vg_rc rrc;
        cJSON *j = roster_get(ws, r.name, err, &rrc), *u;
        if (rrc) {
            vg_strings_free(v, nv);
            return rrc;
        }
        cJSON_ArrayForEach(u, cJSON_GetObjectItemCaseSensitive(j, "users"))
        {
            if (!cJSON_IsString(u))
                continue;
            v = vg_xrealloc(v, (nv + 1) * sizeof *v);
            v[nv++] = vg_xstrdup(u->valuestring);
        }
        cJSON_Delete(j);
    }
    qsort(v, nv, sizeof *v, str_cmp);
    size_t k = 0;
    for (size_t i = 0; i < nv; i++) {
        if (k && strcmp(v[k - 1], v[i]) == 0)
            free(v[i]);
        else
            v[k++] = v[i];
    }
    *out = v;
    *n = k;
    return VG_OK;
}

struct unknown {
    char **known;
    size_t nknown;
    char **out;
    size_t n;
};

static void note_unknown(void *ud, const char *name, size_t len)
{
    struct unknown *u = ud;
    for (size_t i = 0; i < u->nknown; i++)
        if (strlen(u->known[i]) == len && strncasecmp(u->known[i], name, len) == 0)
            return;
    for (size_t i = 0; i < u->n; i++)
        if (strlen(u->out[i]) == len && strncasecmp(u->out[i], name, len) == 0)
            return;
    u->out = vg_xrealloc(u->out, (u->n + 1) * sizeof *u->out);
    u->out[u->n++] = vg_xstrndup(name, len);
}

vg_rc vg_mentions_unknown(vg_ws *ws, const char *text, char ***out, size_t *n, vg_err *err)
{
    *out = NULL;
    *n = 0;
    if (vg_mentions_each(text, NULL, NULL) == 0)
        return VG_OK;
    struct unknown u = {0};
    vg_rc rc = vg_users_known(ws, &u.known, &u.nknown, err);
    if (rc)
        return rc;
    vg_mentions_each(text, note_unknown, &u);
    vg_strings_free(u.known, u.nknown);
    *out = u.out;
    *n = u.n;
    return VG_OK;
}

vg_rc vg_mentions_of(vg_ws *ws, const char *user, int64_t since, vg_mention **out, size_t *n,
                     vg_err *err)
{
    /* instr over lower(): a first cut that SQL makes fast; the parser decides */
    static const char sql[] =
        "SELECT x.id, x.case_id, c.ref, x.log, x.task, c.title, x.author, x.body, x.at FROM ("
        " SELECT id, case_id, 0 AS log, '' AS task, author, body, created_at AS at FROM notes"
        "  WHERE created_at >= ?1 AND author <> ?2 AND instr(lower(body), '@' || lower(?2)) > 0"
        " UNION ALL SELECT l.id, l.case_id, 1, t.title, l.author, l.body, l.created_at"
        "  FROM task_logs l JOIN tasks t ON t.id = l.task_id"
        "  WHERE l.created_at >= ?1 AND l.author <> ?2"
        "  AND instr(lower(l.body), '@' || lower(?2)) > 0"
        ") x JOIN cases c ON c.id = x.case_id ORDER BY x.at DESC, x.id DESC";
    *out = NULL;
    *n = 0;
    if (!user || !*user)
        return VG_OK;
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt_text(ws, sql, &st, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, since);
    sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
    int s;
    size_t cap = 0;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        const char *body = (const char *)sqlite3_column_text(st, 7);
        if (!vg_mentions_user(body, user))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            *out = vg_xrealloc(*out, cap * sizeof **out);
        }
        vg_mention *m = &(*out)[(*n)++];
        memset(m, 0, sizeof *m);
        snprintf(m->id, sizeof m->id, "%s", (const char *)sqlite3_column_text(st, 0));
        snprintf(m->case_id, sizeof m->case_id, "%s", (const char *)sqlite3_column_text(st, 1));
        m->case_ref = sqlite3_column_int64(st, 2);
        m->task_log = sqlite3_column_int(st, 3) != 0;
        m->task_title = col_dup(st, 4);
        m->case_title = col_dup(st, 5);
        m->author = col_dup(st, 6);
        m->body = col_dup(st, 7);
        m->at = sqlite3_column_int64(st, 8);
    }
    sqlite3_reset(st);
    if (s != SQLITE_DONE) {
        vg_mentions_free(*out, *n);
        *out = NULL;
        *n = 0;
        return ws_dberr(ws, err, "reading mentions");
    }
    return VG_OK;
}

void vg_mentions_free(vg_mention *m, size_t n)
{
    for (size_t i = 0; m && i < n; i++) {
        free(m[i].task_title);
        free(m[i].case_title);
        free(m[i].author);
        free(m[i].body);
    }
    free(m);
}

cJSON *vg_mention_json(const vg_mention *m)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "id", m->id);
    cJSON_AddStringToObject(j, "kind", m->task_log ? "task_log" : "note");
    cJSON_AddStringToObject(j, "case", m->case_id);
    cJSON_AddNumberToObject(j, "ref", (double)m->case_ref);
    add_str(j, "case_title", m->case_title);
    if (m->task_log)
        add_str(j, "task", m->task_title);
    add_str(j, "author", m->author);
    cJSON_AddNumberToObject(j, "at", (double)m->at);
    add_str(j, "text", m->body);
    return j;
}

static void seen_key(const char *user, char *key, size_t n)
{
    snprintf(key, n, "mentions-seen:%s", user);
}

vg_rc vg_mentions_seen(vg_ws *ws, const char *user, int64_t *at, vg_err *err)
{
    char key[160];
    seen_key(user, key, sizeof key);
    *at = 0;
    sqlite3_stmt *st;
    vg_rc rc = prep(ws, "SELECT value FROM meta WHERE key = ?", &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        char *end;
        long long x = v ? strtoll(v, &end, 10) : 0;
        *at = v && *end == '\0' && x > 0 ? (int64_t)x : 0;
    }
    sqlite3_finalize(st);
    return s == SQLITE_ROW || s == SQLITE_DONE ? VG_OK : ws_dberr(ws, err, "reading a marker");
}

vg_rc vg_mentions_mark(vg_ws *ws, const char *user, int64_t at, vg_err *err)
{
    int64_t had;
    vg_rc rc = vg_mentions_seen(ws, user, &had, err);
    if (rc || at <= had)
        return rc;
    char key[160], val[32];
    seen_key(user, key, sizeof key);
    snprintf(val, sizeof val, "%lld", (long long)at);
    return ws_meta_put(ws, key, val, "storing the mentions marker", err);
}

/* ---- the handoff ---------------------------------------------------------------- */

const char *const VG_HANDOFF_KEYS[VG_HO__N] = {
    "mentions", "sla", "proposals", "escalated", "reassigned", "closed", "tasks_done", "opened",
};
const char *const VG_HANDOFF_TITLES[VG_HO__N] = {
    "Mentions of you", "SLA due soon", "Proposals waiting for you",
    "Escalated",       "Reassigned",   "Closed",
    "Tasks done",      "Opened",
};

typedef struct item_list {
    vg_handoff_item *v;
    size_t n, cap;
} item_list;

static vg_handoff_item *push(item_list *it, int kind, int64_t at, const char *case_id, int64_t ref,
                             const char *actor)
{
    if (it->n == it->cap) {
        it->cap = it->cap ? it->cap * 2 : 16;
        it->v = vg_xrealloc(it->v, it->cap * sizeof *it->v);
    }
    vg_handoff_item *x = &it->v[it->n++];
    memset(x, 0, sizeof *x);
    x->kind = kind;
    x->at = at;
    snprintf(x->case_id, sizeof x->case_id, "%s", case_id ? case_id : "");
    x->case_ref = ref;
    x->actor = vg_xstrdup(actor ? actor : "");
    return x;
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    char *s = vg_xvasprintf(f, ap);
    va_end(ap);
    return s;
}

/* The first line of s, at most 200 bytes (cut at a character). */
static char *line_of(const char *s)
{
    s += strspn(s, " \t\r\n");
    size_t len = strcspn(s, "\r\n");
    if (len > 200) {
        len = 200;
        while (len && ((unsigned char)s[len] & 0xc0) == 0x80)
            len--;
    }
    return vg_xstrndup(s, len);
}

/* The ops of case work since o->since. */
static vg_rc from_ops(vg_ws *ws, const vg_handoff_opts *o, item_list *it, vg_err *err)
{
    static const char sql[] =
        "SELECT o.kind, o.actor, o.hlc, vg_payload(o.payload), c.id, c.ref, c.title"
        " FROM ops o JOIN cases c ON c.id = CASE WHEN o.kind = 'task.set'"
        "  THEN json_extract(vg_payload(o.payload), '$.case') ELSE o.target END"
        " WHERE o.hlc >= ?1 AND o.hlc < ?2"
        " AND o.kind IN ('case.create', 'case.set', 'task.set')";
    sqlite3_stmt *st;
    vg_rc rc = prep(ws, sql, &st, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)((uint64_t)o->since << 16));
    sqlite3_bind_int64(st, 2, (sqlite3_int64)((uint64_t)(o->now + 1) << 16));
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        const char *kind = (const char *)sqlite3_column_text(st, 0);
        const char *actor = (const char *)sqlite3_column_text(st, 1);
        int64_t at = (int64_t)((uint64_t)sqlite3_column_int64(st, 2) >> 16);
        cJSON *p = cJSON_Parse((const char *)sqlite3_column_text(st, 3));
        const char *case_id = (const char *)sqlite3_column_text(st, 4);
        int64_t ref = sqlite3_column_int64(st, 5);
        const char *title = (const char *)sqlite3_column_text(st, 6);
        const char *field = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "field"));
        const char *value = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "value"));
        const char *old = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "old"));
        if (strcmp(kind, "case.create") == 0) {
            const char *sev = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "severity"));
            char *t = line_of(title ? title : "");
            push(it, VG_HO_OPENED, at, case_id, ref, actor)->text =
                fmt("%s (%s)", t, sev ? sev : "medium");
            free(t);
        } else if (strcmp(kind, "case.set") == 0 && field && value) {
            if (strcmp(field, "status") == 0 && strcmp(value, "closed") == 0) {
                const char *res =
                    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "resolution"));
                char *t = line_of(title ? title : "");
                push(it, VG_HO_CLOSED, at, case_id, ref, actor)->text =
                    fmt("%s (%s)", t, res ? res : "closed");
                free(t);
            } else if (strcmp(field, "severity") == 0 && old &&
                       vg_enum_parse(&VG_SEVERITY, value) > vg_enum_parse(&VG_SEVERITY, old) &&
                       vg_enum_parse(&VG_SEVERITY, old) >= 0) {
                push(it, VG_HO_ESCALATED, at, case_id, ref, actor)->text =
                    fmt("%s → %s", old, value);
            } else if (strcmp(field, "assignee") == 0) {
                push(it, VG_HO_REASSIGNED, at, case_id, ref, actor)->text =
                    fmt("%s → %s", old && *old ? old : "(nobody)", *value ? value : "(nobody)");
            }
        } else if (strcmp(kind, "task.set") == 0 && field && value &&
                   strcmp(field, "status") == 0 && strcmp(value, "done") == 0) {
            const char *tt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "title"));
            push(it, VG_HO_TASK_DONE, at, case_id, ref, actor)->text = line_of(tt ? tt : "(task)");
        }
        cJSON_Delete(p);
    }
    sqlite3_finalize(st);
    return s == SQLITE_DONE ? VG_OK : ws_dberr(ws, err, "reading the op log");
}

static vg_rc from_sla(vg_ws *ws, const vg_handoff_opts *o, item_list *it, vg_err *err)
{
    static const char sql[] =
        "SELECT id, ref, title, severity, created_at + CASE severity WHEN 0 THEN ?1 WHEN 1 THEN ?2"
        " WHEN 2 THEN ?3 WHEN 3 THEN ?4 ELSE ?5 END AS due, assignee FROM cases"
        " WHERE status <> 'closed' AND CASE severity WHEN 0 THEN ?1 WHEN 1 THEN ?2"
        " WHEN 2 THEN ?3 WHEN 3 THEN ?4 ELSE ?5 END > 0 AND due < ?6";
    sqlite3_stmt *st;
    vg_rc rc = prep(ws, sql, &st, err);
    if (rc)
        return rc;
    for (int i = 0; i < 5; i++)
        sqlite3_bind_int64(st, i + 1, o->sla_ms[i]);
    sqlite3_bind_int64(st, 6, o->now + o->sla_window);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t due = sqlite3_column_int64(st, 4);
        char left[16];
        vg_age(due > o->now ? o->now - (due - o->now) : due, o->now, left, sizeof left);
        char *t = line_of((const char *)sqlite3_column_text(st, 2));
        const char *who = (const char *)sqlite3_column_text(st, 5);
        push(it, VG_HO_SLA, due, (const char *)sqlite3_column_text(st, 0),
             sqlite3_column_int64(st, 1), who)
            ->text = fmt("%s %s: %s (%s)", due > o->now ? "due in" : "overdue by", left, t,
                         vg_enum_name(&VG_SEVERITY, sqlite3_column_int(st, 3)));
        free(t);
    }
    sqlite3_finalize(st);
    return s == SQLITE_DONE ? VG_OK : ws_dberr(ws, err, "reading SLA targets");
}

static vg_rc from_proposals(vg_ws *ws, const vg_handoff_opts *o, item_list *it, vg_err *err)
{
    vg_ledger_entry *e = NULL;
    size_t ne = 0;
    vg_rc rc = vg_ledger_open_proposals(ws, o->reader, NULL, &e, &ne, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < ne; i++) {
        cJSON *c = cJSON_Parse(e[i].content);
        const char *pv = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "preview"));
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "id"));
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(c, "case_ref");
        int64_t ref = 0;
        if (e[i].case_id[0]) {
            vg_case k;
            vg_err ignore;
            if (vg_case_get(ws, e[i].case_id, &k, &ignore) == VG_OK) {
                ref = k.ref;
                vg_case_clear(&k);
            }
        } else if (cJSON_IsNumber(r)) {
            ref = (int64_t)r->valuedouble;
        }
        char *line = line_of(pv ? pv : "(proposal)");
        push(it, VG_HO_PROPOSAL, e[i].created_at, e[i].case_id, ref, e[i].model)->text =
            fmt("%.8s %s", id ? id : "", line);
        free(line);
        cJSON_Delete(c);
    }
    vg_ledger_free(e, ne);
    return VG_OK;
}

static int item_cmp(const void *a, const void *b)
{
    const vg_handoff_item *x = a, *y = b;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    if (x->at != y->at) /* newest first; SLA soonest due first */
        return (x->kind == VG_HO_SLA) == (x->at < y->at) ? -1 : 1;
    if (x->case_ref != y->case_ref)
        return x->case_ref < y->case_ref ? -1 : 1;
    return strcmp(x->text, y->text);
}

vg_rc vg_handoff(vg_ws *ws, const vg_handoff_opts *o, vg_handoff_item **out, size_t *n, vg_err *err)
{
    item_list it = {0};
    *out = NULL;
    *n = 0;
    vg_mention *m = NULL;
    size_t nm = 0;
    vg_rc rc = vg_mentions_of(ws, o->reader, o->mentions_since ? o->mentions_since : o->since, &m,
                              &nm, err);
    for (size_t i = 0; rc == VG_OK && i < nm; i++) {
        char *line = line_of(m[i].body);
        vg_handoff_item *x =
            push(&it, VG_HO_MENTION, m[i].at, m[i].case_id, m[i].case_ref, m[i].author);
        if (m[i].task_log) {
            char *tt = line_of(m[i].task_title);
            x->text = fmt("on task '%s': %s", tt, line);
            free(tt);
        } else {
            x->text = fmt("%s", line);
        }
        free(line);
    }
    vg_mentions_free(m, nm);
    if (rc == VG_OK && o->sla_ms)
        rc = from_sla(ws, o, &it, err);
    if (rc == VG_OK && o->reader && *o->reader)
        rc = from_proposals(ws, o, &it, err);
    if (rc == VG_OK)
        rc = from_ops(ws, o, &it, err);
    if (rc) {
        vg_handoff_free(it.v, it.n);
        return rc;
    }
    if (it.n)
        qsort(it.v, it.n, sizeof *it.v, item_cmp);
    *out = it.v;
    *n = it.n;
    return VG_OK;
}

void vg_handoff_free(vg_handoff_item *items, size_t n)
{
    for (size_t i = 0; items && i < n; i++) {
        free(items[i].actor);
        free(items[i].text);
    }
    free(items);
}

cJSON *vg_handoff_json(const vg_handoff_opts *o, const vg_handoff_item *items, size_t n)
{
    cJSON *j = cJSON_CreateObject(), *g;
    cJSON_AddNumberToObject(j, "since", (double)o->since);
    cJSON_AddNumberToObject(j, "now", (double)o->now);
    add_str(j, "reader", o->reader);
    cJSON_AddItemToObject(j, "groups", g = cJSON_CreateObject());
    cJSON *arr[VG_HO__N];
    for (int k = 0; k < VG_HO__N; k++)
        cJSON_AddItemToObject(g, VG_HANDOFF_KEYS[k], arr[k] = cJSON_CreateArray());
    for (size_t i = 0; i < n; i++) {
        const vg_handoff_item *x = &items[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "at", (double)x->at);
        if (x->case_id[0]) {
            cJSON_AddStringToObject(e, "case", x->case_id);
            cJSON_AddNumberToObject(e, "ref", (double)x->case_ref);
        }
        add_str(e, "actor", x->actor);
        add_str(e, "text", x->text);
        cJSON_AddItemToArray(arr[x->kind], e);
    }
    return j;
}

