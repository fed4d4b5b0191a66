/*
 * query.c — reading a workspace (contract in query.h).
 *
 * The case queue is the hot path: every listing is one indexed range scan in queue
 * order (severity desc, created desc, id desc) with a keyset cursor, never OFFSET,
 * so page 10,000 costs what page 1 costs. Filters are bound parameters; the few
 * SQL fragments chosen by filter presence are constant strings, never data.
 */
#include "internal.h"
#include "vigil/fields.h"
#include "vigil/intel.h"
#include "vigil/ioc.h"
#include "vigil/timefmt.h"

#include <ctype.h>
#include "vigil/buf.h"
#include "vigil/query.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static vg_rc prep(vg_ws *ws, const char *sql, sqlite3_stmt **st, vg_err *err)
{
    if (sqlite3_prepare_v2(ws->db, sql, -1, st, NULL) != SQLITE_OK)
        return ws_dberr(ws, err, "querying the workspace");
    return VG_OK;
}

#define CASE_COLS                                                                          \
    "c.id, c.ref, c.title, c.description, c.severity, c.status, c.resolution, c.tlp, c.pap," \
    " c.assignee, c.tags, c.techniques, c.created_by, c.created_at, c.updated_at,"          \
    " c.acknowledged_at, c.closed_at"

static void read_case(sqlite3_stmt *st, vg_case *c)
{
    memset(c, 0, sizeof *c);
    col_id(st, 0, c->id);
    c->ref = sqlite3_column_int64(st, 1);
    c->title = col_dup(st, 2);
    c->description = col_dup(st, 3);
    c->severity = sqlite3_column_int(st, 4);
    c->status = vg_enum_parse(&VG_STATUS, (const char *)sqlite3_column_text(st, 5));
    c->resolution = vg_enum_parse(&VG_RESOLUTION, (const char *)sqlite3_column_text(st, 6));
    c->tlp = vg_enum_parse(&VG_TLP, (const char *)sqlite3_column_text(st, 7));
    c->pap = vg_enum_parse(&VG_PAP, (const char *)sqlite3_column_text(st, 8));
    c->assignee = col_dup(st, 9);
    c->tags = col_dup(st, 10);
    c->techniques = col_dup(st, 11);
    c->created_by = col_dup(st, 12);
    c->created_at = sqlite3_column_int64(st, 13);
    c->updated_at = sqlite3_column_int64(st, 14);
    c->acknowledged_at = sqlite3_column_int64(st, 15);
    c->closed_at = sqlite3_column_int64(st, 16);
}

/* Turn what an analyst typed into an FTS5 query: each word a quoted string (so
 * punctuation and FTS operators in the input are plain text), all required. */
/* Each word of text as an FTS5 phrase, all of them required; with prefix, a word
 * also matches the words it begins (the queue's filter: ransom finds Ransomware). */
static char *fts_query(const char *text, bool prefix)
{
    vg_buf b;
    vg_buf_init(&b, 1 << 16);
    const char *p = text;
    while (*p) {
        p += strspn(p, " \t\r\n");
        size_t n = strcspn(p, " \t\r\n");
        if (!n)
            break;
        if (b.len && vg_buf_adds(&b, " AND "))
            break;
        if (vg_buf_adds(&b, "\""))
            break;
        for (size_t i = 0; i < n; i++)
            if ((p[i] == '"' && vg_buf_adds(&b, "\"\"")) ||
                (p[i] != '"' && vg_buf_add(&b, p + i, 1)))
                break;
        if (vg_buf_adds(&b, prefix ? "\"*" : "\""))
            break;
        p += n;
    }
    return vg_buf_take(&b);
}

/* Words matching more than this many rows are listed newest first, not ranked. */
#define SEARCH_RANKED 2000
#define SNIPPET "snippet(fts, 0, '[', ']', '...', 12)"

/* Whether the case CASE holds a value: an artifact (TYPE, VALUE), or a linked alert
 * whose entities carry it (KEY, "type:value", in alert_keys). */
#define VALUE_SQL(CASE, TYPE, VALUE, KEY)                                                   \
    " " CASE " IN (SELECT vt.case_id FROM artifacts vt WHERE vt.type = " TYPE                 \
    "  AND vt.value = " VALUE " AND vt.removed = 0 UNION SELECT va.case_id FROM alert_keys vk" \
    "  JOIN alerts va ON va.rowid = vk.alert WHERE vk.key = " KEY " AND va.case_id IS NOT NULL)"

/* Whether artifact A's value is known to an unexpired indicator (?17 now), of any
 * feed or of feed ?16 (intel.h: the store attached as "intel"). */
#define INTEL_UNEXPIRED " (i.valid_until IS NULL OR i.valid_until > ?17)"
#define INTEL_KNOWN(A)                                                                      \
    "EXISTS (SELECT 1 FROM intel.indicators i WHERE i.type = " A ".type AND i.value = " A  \
    ".value AND" INTEL_UNEXPIRED ")"
#define INTEL_KNOWN_FEED(A)                                                                 \
    "EXISTS (SELECT 1 FROM intel.indicators i WHERE i.type = " A ".type AND i.value = " A  \
    ".value AND i.feed = ?16 AND" INTEL_UNEXPIRED ")"

/* Whether search's intel: terms should walk the alerts' keys and seek each in the
 * intel store rather than walk the store's indicators and seek each in the keys:
 * when the workspace's alerts (their highest rowid; some 2.5 keys each) are fewer
 * than a third of the store's indicators (its highest id). Both are one seek. */
static bool intel_keys_first(vg_ws *ws)
{
    static const char sql[] = "SELECT (SELECT coalesce(max(rowid), 0) FROM alerts),"
                              " (SELECT coalesce(max(id), 0) FROM intel.indicators)";
    sqlite3_stmt *st = NULL;
    vg_err ignored = {0};
    bool keys = false;
    if (ws_stmt_text(ws, sql, &st, &ignored) == VG_OK && sqlite3_step(st) == SQLITE_ROW)
        keys = sqlite3_column_int64(st, 0) * 3 < sqlite3_column_int64(st, 1);
    if (st)
        sqlite3_reset(st);
    return keys;
}

static char *value_key(const char *type, const char *value)
{
    size_t n = strlen(type) + strlen(value) + 2;
    char *k = vg_xmalloc(n);
    snprintf(k, n, "%s:%s", type, value);
    return k;
}

/* A custom field term (vg_case_filter.fields): ?P the name, ?P+1 the value as
 * typed, ?P+2 it as a number (NULL when it is none), ?P+3 it as a bool ("true",
 * "false", NULL), ?P+1 for a date comparison its canonical form. The SQL is made of
 * constant fragments; the values are bound. */
static vg_rc field_sql(vg_buf *sql, const struct vg_field_term *t, int p)
{
    static const char *const ops[] = {">=", "<=", ">", "<"};
    const char *cmp = NULL;
    for (size_t i = 0; i < 4; i++)
        if (strcmp(t->op, ops[i]) == 0)
            cmp = ops[i];
    const char *ty = "(SELECT d.type FROM field_defs d WHERE d.name = cf.name)";
    if (!cmp)
        return vg_buf_addf(sql, " AND %sEXISTS (SELECT 1 FROM case_fields cf WHERE cf.case_id ="
                                " c.id AND cf.name = ?%d AND (cf.value = ?%d COLLATE NOCASE"
                                " OR (?%d IS NOT NULL AND %s = 'number' AND"
                                " CAST(cf.value AS REAL) = ?%d)"
                                " OR (%s = 'date' AND substr(cf.value, 1, 10) = ?%d)"
                                " OR (?%d IS NOT NULL AND %s = 'bool' AND cf.value = ?%d)))",
                           t->neg ? "NOT " : "", p, p + 1, p + 2, ty, p + 2, ty, p + 1, p + 3, ty,
                           p + 3);
    return vg_buf_addf(sql, " AND %sEXISTS (SELECT 1 FROM case_fields cf WHERE cf.case_id ="
                            " c.id AND cf.name = ?%d AND (CASE WHEN ?%d IS NOT NULL THEN"
                            " %s = 'number' AND CAST(cf.value AS REAL) %s ?%d"
                            " ELSE %s = 'date' AND cf.value %s ?%d END))",
                       t->neg ? "NOT " : "", p, p + 2, ty, cmp, p + 2, ty, cmp, p + 1);
}

/* Is s all of a decimal number? */
static bool number_of(const char *s, double *out)
{
    char *end;
    if (!*s || strspn(s, "0123456789+-.eE") != strlen(s))
        return false;
    *out = strtod(s, &end);
    return *end == '\0' && *out == *out;
}

static void field_bind(sqlite3_stmt *st, const struct vg_field_term *t, int p)
{
    double d;
    sqlite3_bind_text(st, p, t->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, p + 1, t->value, -1, SQLITE_STATIC);
    if (number_of(t->value, &d))
        sqlite3_bind_double(st, p + 2, d);
    static const char *const yes[] = {"true", "yes", "1", "on"}, *const no[] = {"false", "no", "0",
                                                                                  "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(t->value, yes[i]) == 0)
            sqlite3_bind_text(st, p + 3, "true", -1, SQLITE_STATIC);
        if (strcasecmp(t->value, no[i]) == 0)
            sqlite3_bind_text(st, p + 3, "false", -1, SQLITE_STATIC);
    }
}

vg_rc vg_cases_list(vg_ws *ws, const vg_case_filter *f, vg_case_list *out, vg_err *err)
{
    memset(out, 0, sizeof *out);
    int limit = f->limit > 0 ? f->limit : 50;
    if (limit > 10000)
        return vg_fail(err, VG_EINVAL, "limit: at most 10000");

    /* One severity at a time, best first: for each status in the mask the index
     * (status, severity, created_at, id) then yields rows already in order. The
     * general form below covers every mask with one statement; SQLite's planner
     * uses cases_queue for the status IN list and cases_order otherwise. */
    vg_buf sql;
    vg_buf_init(&sql, 4096);
    vg_rc rc = vg_buf_adds(&sql, "SELECT " CASE_COLS ", (SELECT count(*) FROM alerts a"
                                 " WHERE a.case_id = c.id) FROM cases c WHERE 1");
    /* One status: the (status, severity, created_at, id) index yields rows in queue
     * order. Several: walk the queue-order index and filter (the unary + keeps the
     * planner off the status index, which would need a sort of every match). */
    static const char *const status_frag[2][5] = {
        {" AND c.status IN (?20", ", ?21", ", ?22", ", ?23", ", ?24"},
        {" AND +c.status IN (?20", ", ?21", ", ?22", ", ?23", ", ?24"},
    };
    int several = __builtin_popcount(f->status_mask) > 1, nstatus = 0;
    for (int i = 0; i < VG_STATUS.n; i++)
        if (f->status_mask & (1u << i))
            rc = rc ? rc : vg_buf_adds(&sql, status_frag[several][nstatus++]);
    if (nstatus)
        rc = rc ? rc : vg_buf_adds(&sql, ")");
    if (f->severity_mask)
        rc = rc ? rc : vg_buf_adds(&sql, " AND (?2 >> c.severity) & 1");
    if (f->assignee)
        rc = rc ? rc : vg_buf_adds(&sql, f->not_assignee ? " AND c.assignee <> ?3"
                                                         : " AND c.assignee = ?3");
    if (f->tag)
        rc = rc ? rc : vg_buf_adds(&sql, f->not_tag ? " AND NOT EXISTS (SELECT 1 FROM"
                                                      " json_each(c.tags) WHERE value = ?4)"
                                                    : " AND EXISTS (SELECT 1 FROM"
                                                      " json_each(c.tags) WHERE value = ?4)");
    if (f->text && *f->text)
        rc = rc ? rc : vg_buf_adds(&sql, " AND c.rowid IN (SELECT rowid / 8 FROM fts"
                                         " WHERE fts MATCH ?5 AND rowid % 8 = 1)");
    if (f->value)
        rc = rc ? rc : vg_buf_adds(&sql, f->not_value ? " AND NOT" : " AND");
    if (f->value)
        rc = rc ? rc : vg_buf_adds(&sql, VALUE_SQL("c.id", "?12", "?13", "?14"));
    for (int i = 0; i < f->nfields && i < VG_QUERY_MAX_FIELDS; i++)
        rc = rc ? rc : field_sql(&sql, &f->fields[i], 40 + 4 * i);
    /* sla:overdue: open past the target of its severity (?26..?30), now ?31 */
    if (f->overdue)
        rc = rc ? rc : vg_buf_adds(&sql, f->overdue > 0 ? " AND" : " AND NOT");
    if (f->overdue)
        rc = rc ? rc : vg_buf_adds(&sql, " " WS_SLA_OVERDUE("?26", "?27", "?28", "?29", "?30",
                                                            "?31"));
    /* Each order: its keyset comparison and ORDER BY, forward and backward (backward
     * pages walk the same index the other way and are flipped below). */
    static const struct {
        const char *cmp[2], *order[2];
    } sorts[VG_SORT__N] = {
        [VG_SORT_SEVERITY] = {{" AND (c.severity, c.created_at, c.id) < (?8, ?9, ?10)",
                               " AND (c.severity, c.created_at, c.id) > (?8, ?9, ?10)"},
                              {" ORDER BY c.severity DESC, c.created_at DESC, c.id DESC",
                               " ORDER BY c.severity, c.created_at, c.id"}},
        [VG_SORT_NEWEST] = {{" AND (c.created_at, c.id) < (?9, ?10)",
                             " AND (c.created_at, c.id) > (?9, ?10)"},
                            {" ORDER BY c.created_at DESC, c.id DESC",
                             " ORDER BY c.created_at, c.id"}},
        [VG_SORT_OLDEST] = {{" AND (c.created_at, c.id) > (?9, ?10)",
                             " AND (c.created_at, c.id) < (?9, ?10)"},
                            {" ORDER BY c.created_at, c.id",
                             " ORDER BY c.created_at DESC, c.id DESC"}},
        [VG_SORT_REF] = {{" AND (c.ref, c.id) < (?11, ?10)", " AND (c.ref, c.id) > (?11, ?10)"},
                         {" ORDER BY c.ref DESC, c.id DESC", " ORDER BY c.ref, c.id"}},
    };
#define SLA_TARGET WS_SLA_TARGET("?26", "?27", "?28", "?29", "?30")
    /* Keyed orders: a key expression and its direction first, then the default
     * order; the keyset is (key beyond ?25) or (key equal and default-order beyond). */
    static const struct {
        const char *expr;
        bool desc;
    } keyed[VG_SORT__N] = {
        [VG_SORT_STATUS] = {"(CASE c.status WHEN 'new' THEN 0 WHEN 'in_progress' THEN 1 WHEN"
                            " 'on_hold' THEN 2 WHEN 'contained' THEN 3 ELSE 4 END)", false},
        [VG_SORT_TITLE] = {"c.title", false},
        [VG_SORT_ASSIGNEE] = {"c.assignee", false},
        [VG_SORT_ALERTS] = {"(SELECT count(*) FROM alerts a WHERE a.case_id = c.id)", true},
        [VG_SORT_SLA] = {"(CASE WHEN c.status = 'closed' OR " SLA_TARGET " <= 0"
                         " THEN 9223372036854775807 ELSE c.created_at + " SLA_TARGET " END)",
                         false},
    };
    /* reversed, the order walks the other way: a page forward is read as a page
     * backward of the order (and not flipped below) */
    int so = f->sort >= 0 && f->sort < VG_SORT__N ? (int)f->sort : 0,
        dir = f->backward != f->reverse ? 1 : 0;
    if (keyed[so].expr) {
        const char *e = keyed[so].expr;
        bool desc = keyed[so].desc != (dir == 1); /* the direction this page walks */
        if (f->after)
            rc = rc ? rc : vg_buf_addf(&sql, " AND (%s %c ?25 OR (%s = ?25 AND"
                                             " (c.severity, c.created_at, c.id) %c (?8, ?9, ?10)))",
                                       e, desc ? '<' : '>', e, dir ? '>' : '<');
        rc = rc ? rc : vg_buf_addf(&sql, " ORDER BY %s %s, %s", e, desc ? "DESC" : "ASC",
                                   dir ? "c.severity, c.created_at, c.id"
                                       : "c.severity DESC, c.created_at DESC, c.id DESC");
    } else {
        if (f->after)
            rc = rc ? rc : vg_buf_adds(&sql, sorts[so].cmp[dir]);
        rc = rc ? rc : vg_buf_adds(&sql, sorts[so].order[dir]);
    }
    rc = rc ? rc : vg_buf_adds(&sql, " LIMIT ?6");
    if (rc) {
        vg_buf_free(&sql);
        return vg_fail(err, VG_EINVAL, "query too long");
    }

    sqlite3_stmt *st = NULL;
    rc = prep(ws, vg_buf_str(&sql), &st, err);
    vg_buf_free(&sql);
    if (rc)
        return rc;
    char *q = f->text && *f->text ? fts_query(f->text, true) : NULL;
    for (int i = 0, k = 0; i < VG_STATUS.n; i++)
        if (f->status_mask & (1u << i))
            sqlite3_bind_text(st, 20 + k++, VG_STATUS.names[i], -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, (int)f->severity_mask);
    if (f->assignee)
        sqlite3_bind_text(st, 3, f->assignee, -1, SQLITE_STATIC);
    if (f->tag)
        sqlite3_bind_text(st, 4, f->tag, -1, SQLITE_STATIC);
    if (q)
        sqlite3_bind_text(st, 5, q, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, limit + 1);
    char *key = f->value ? value_key(f->value_type, f->value) : NULL;
    if (f->value) {
        sqlite3_bind_text(st, 12, f->value_type, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 13, f->value, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 14, key, -1, SQLITE_STATIC);
    }
    for (int i = 0; i < f->nfields && i < VG_QUERY_MAX_FIELDS; i++)
        field_bind(st, &f->fields[i], 40 + 4 * i);
    if (f->after) {
        sqlite3_bind_int(st, 8, f->after->severity);
        sqlite3_bind_int64(st, 9, f->after->created_at);
        sqlite3_bind_text(st, 10, f->after->id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 11, f->after->ref);
        if (so == VG_SORT_TITLE || so == VG_SORT_ASSIGNEE)
            sqlite3_bind_text(st, 25, f->after->skey, -1, SQLITE_STATIC);
        else
            sqlite3_bind_int64(st, 25, f->after->ikey);
    }
    for (int i = 0; i < 5; i++)
        if (so == VG_SORT_SLA || f->overdue)
            sqlite3_bind_int64(st, 26 + i, f->sla_ms[i]);
    if (f->overdue)
        sqlite3_bind_int64(st, 31, vg_now_ms());
    size_t cap = 16;
    out->items = vg_xcalloc(cap, sizeof *out->items);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (out->n == (size_t)limit) {
            out->more = true;
            break;
        }
        if (out->n == cap) {
            cap *= 2;
            out->items = vg_xrealloc(out->items, cap * sizeof *out->items);
        }
        read_case(st, &out->items[out->n]);
        out->items[out->n].alert_count = sqlite3_column_int64(st, 17);
        out->n++;
    }
    if (s != SQLITE_ROW && s != SQLITE_DONE)
        rc = ws_dberr(ws, err, "listing cases");
    sqlite3_finalize(st);
    free(q);
    free(key);
    for (size_t i = 0; f->backward && i < out->n / 2; i++) {
        vg_case t = out->items[i];
        out->items[i] = out->items[out->n - 1 - i];
        out->items[out->n - 1 - i] = t;
    }
    if (rc)
        vg_case_list_free(out);
    return rc;
}

/* One severity comparison: sev:X sev=X sev>=X sev>X sev<=X sev<X -> a mask. */
static vg_rc sev_mask(const char *op, const char *name, unsigned *mask, vg_err *err)
{
    int i = vg_enum_parse(&VG_SEVERITY, name);
    if (i < 0) {
        char list[128];
        vg_enum_list(&VG_SEVERITY, list, sizeof list);
        return vg_fail(err, VG_EINVAL, "sev: '%s' is not one of %s", name, list);
    }
    unsigned all = (1u << VG_SEVERITY.n) - 1, at_least = all & ~((1u << i) - 1);
    if (strcmp(op, ">=") == 0)
        *mask = at_least;
    else if (strcmp(op, ">") == 0)
        *mask = at_least & ~(1u << i);
    else if (strcmp(op, "<=") == 0)
        *mask = (all & ~at_least) | (1u << i);
    else if (strcmp(op, "<") == 0)
        *mask = all & ~at_least;
    else
        *mask = 1u << i;
    return VG_OK;
}

/* value fields: a case (or search hit) holding an artifact of this type */
static const struct {
    const char *field, *type;
} VALUE_FIELDS[] = {
    {"ip", "ip"},         {"domain", "domain"}, {"host", "hostname"}, {"hostname", "hostname"},
    {"user", "user"},     {"url", "url"},       {"email", "email"},   {"md5", "md5"},
    {"sha1", "sha1"},     {"sha256", "sha256"}, {"sha512", "sha512"}, {"cve", "cve"},
    {"file", "filename"}, {"hash", NULL},
};

const char *vg_case_value_field(const char *artifact_type)
{
    for (size_t i = 0; artifact_type && i < sizeof VALUE_FIELDS / sizeof *VALUE_FIELDS; i++)
        if (VALUE_FIELDS[i].type && strcmp(VALUE_FIELDS[i].type, artifact_type) == 0)
            return VALUE_FIELDS[i].field;
    return NULL;
}

/* A value term: its artifact type and normalised value into out. */
static vg_rc value_term(vg_case_query *out, const char *type, const char *field, const char *v,
                        bool neg, vg_err *err)
{
    if (!*v)
        return vg_fail(err, VG_EINVAL, "%s: which value?", field);
    if (out->value)
        return vg_fail(err, VG_EINVAL, "%s:%s: one value term at a time", field, v);
    if (!type) { /* hash: by its length */
        size_t n = strlen(v);
        type = n == 32 ? "md5" : n == 40 ? "sha1" : n == 64 ? "sha256" : n == 128 ? "sha512" : NULL;
        if (!type || strspn(v, "0123456789abcdefABCDEF") != n)
            return vg_fail(err, VG_EINVAL, "hash: '%s' is not an MD5, SHA-1, SHA-256 or SHA-512", v);
    }
    int t = vg_enum_parse(&VG_ARTIFACT_TYPE, type);
    out->value = vg_ioc_normalise(t, v);
    if (strcmp(type, "user") == 0)
        for (char *p = out->value; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    out->value_type = vg_xstrdup(type);
    out->f.not_value = neg;
    return VG_OK;
}

/* The terms only search takes. */
static vg_rc search_term(vg_case_query *out, const char *field, const char *v, bool neg,
                         vg_err *err)
{
    static const char *const kinds[] = {"", "case", "note", "alert", "artifact", "event"};
    if (neg)
        return vg_fail(err, VG_EINVAL, "'!%s:': cannot be negated", field);
    if (strcmp(field, "type") == 0) {
        char list[256];
        snprintf(list, sizeof list, "%s", v);
        for (char *save = NULL, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            size_t k = 1;
            while (k < 6 && strcmp(kinds[k], t) != 0)
                k++;
            if (k == 6)
                return vg_fail(err, VG_EINVAL,
                               "type: '%s' is not one of case, alert, note, artifact, event", t);
            out->kinds |= 1u << k;
        }
        return VG_OK;
    }
    if (strcmp(field, "after") == 0 || strcmp(field, "before") == 0) {
        int64_t ms;
        vg_rc rc = vg_parse_when(field, v, vg_now_ms(), VG_WHEN_FUTURE, &ms, err);
        if (rc == VG_OK)
            *(field[0] == 'a' ? &out->after_ms : &out->before_ms) = ms;
        return rc;
    }
    if (strcmp(field, "intel") == 0) {
        if (!*v)
            return vg_fail(err, VG_EINVAL, "intel: hit (any feed) or a feed's name");
        free(out->intel);
        out->intel = vg_xstrdup(strcmp(v, "hit") == 0 ? "" : v);
        return VG_OK;
    }
    free(out->case_ref);
    out->case_ref = vg_xstrdup(v);
    return VG_OK;
}

/* field.NAME:V and its comparisons (vg_case_filter.fields). */
static vg_rc field_term(vg_case_query *out, const char *name, const char *op, const char *v,
                        bool neg, bool search, vg_err *err)
{
    if (search)
        return vg_fail(err, VG_EINVAL, "'field.%s': custom fields narrow the queue (vigil cases"
                                       " --query, the queue's /), not search", name);
    if (!vg_field_name_ok(name))
        return vg_fail(err, VG_EINVAL, "'field.%s': not a custom field name", name);
    if (!*v)
        return vg_fail(err, VG_EINVAL, "field.%s: which value?", name);
    if (out->f.nfields == VG_QUERY_MAX_FIELDS)
        return vg_fail(err, VG_EINVAL, "field.%s: at most %d field terms", name,
                       VG_QUERY_MAX_FIELDS);
    char *value = NULL;
    double d;
    if (op[0] != ':' && op[0] != '=' && !number_of(v, &d)) {
        vg_field_def day = {.type = VG_FT_DATE};
        snprintf(day.name, sizeof day.name, "%.64s", name);
        if (vg_field_normalise(&day, v, NULL, &value, NULL) != VG_OK)
            return vg_fail(err, VG_EINVAL, "field.%s%s%s: a comparison takes a number or a date"
                                           " (2026-11-03)", name, op, v);
    }
    int i = out->f.nfields++;
    out->field_names[i] = vg_xstrdup(name);
    out->field_values[i] = value ? value : vg_xstrdup(v);
    snprintf(out->f.fields[i].op, sizeof out->f.fields[i].op, "%s", op);
    out->f.fields[i].neg = neg;
    return VG_OK;
}

static vg_rc parse_query(const char *q, const char *me, bool search, vg_case_query *out,
                         vg_err *err)
{
    memset(out, 0, sizeof *out);
    out->f.limit = 50;
    vg_buf text;
    vg_buf_init(&text, 4096);
    vg_rc rc = VG_OK;
    const char *p = q ? q : "";
    /* Words end where fts_query's do, and text of white space alone is no text: an
     * empty FTS5 query is a syntax error. */
    while (rc == VG_OK) {
        p += strspn(p, " \t\r\n");
        if (!*p)
            break;
        char word[512];
        size_t n;
        if (*p == '"') { /* a quoted phrase is free text */
            const char *end = strchr(p + 1, '"');
            n = end ? (size_t)(end - p - 1) : strlen(p + 1);
            if (n >= sizeof word)
                n = sizeof word - 1;
            memcpy(word, p + 1, n);
            word[n] = '\0';
            p = end ? end + 1 : p + strlen(p);
            if (vg_buf_addf(&text, "%s%s", text.len ? " " : "", word))
                rc = vg_fail(err, VG_EINVAL, "query too long");
            continue;
        }
        n = strcspn(p, " \t\r\n");
        if (n >= sizeof word)
            n = sizeof word - 1;
        memcpy(word, p, n);
        word[n] = '\0';
        p += n;
        bool neg = word[0] == '!';
        char *w = word + neg;
        size_t field_len = strcspn(w, ":<>=");
        if (w[field_len] == '\0') { /* a plain word */
            if (neg)
                rc = vg_fail(err, VG_EINVAL, "'!%s': only field terms can be negated"
                                             " (status:, sev:, assignee:, tag:, ip:, ...)", w);
            else if (vg_buf_addf(&text, "%s%s", text.len ? " " : "", w))
                rc = vg_fail(err, VG_EINVAL, "query too long");
            continue;
        }
        char field[80], op[3] = ":";
        snprintf(field, sizeof field, "%.*s", (int)(field_len < 79 ? field_len : 79), w);
        const char *v = w + field_len;
        if (v[0] == ':' || v[0] == '=')
            v++;
        else {
            size_t ol = (v[1] == '=') ? 2 : 1;
            memcpy(op, v, ol);
            op[ol] = '\0';
            v += ol;
        }
        size_t vf = 0;
        while (vf < sizeof VALUE_FIELDS / sizeof *VALUE_FIELDS &&
               strcmp(VALUE_FIELDS[vf].field, field) != 0)
            vf++;
        if (strncmp(field, "field.", 6) == 0) {
            rc = field_term(out, field + 6, op, v, neg, search, err);
        } else if (strcmp(field, "status") == 0 && op[0] == ':') {
            unsigned mask = 0;
            char list[256];
            snprintf(list, sizeof list, "%s", v);
            for (char *save = NULL, *t = strtok_r(list, ",", &save); t && rc == VG_OK;
                 t = strtok_r(NULL, ",", &save)) {
                int i = strcmp(t, "open") == 0  ? -2
                        : strcmp(t, "all") == 0 ? -3
                                                : vg_enum_parse(&VG_STATUS, t);
                if (i == -2)
                    mask |= VG_STATUS_OPEN_MASK;
                else if (i == -3)
                    mask |= (1u << VG_STATUS.n) - 1;
                else if (i >= 0)
                    mask |= 1u << i;
                else {
                    char names[256];
                    vg_enum_list(&VG_STATUS, names, sizeof names);
                    rc = vg_fail(err, VG_EINVAL, "status: '%s' is not one of %s, open, all", t,
                                 names);
                }
            }
            if (neg)
                mask = ((1u << VG_STATUS.n) - 1) & ~mask;
            out->f.status_mask = out->f.status_mask ? out->f.status_mask & mask : mask;
        } else if (strcmp(field, "sla") == 0 && op[0] == ':') {
            if (search) /* search has no SLA targets to go by */
                rc = vg_fail(err, VG_EINVAL, "sla:overdue filters cases (vigil cases --query,"
                                             " the queue's /), not search");
            else if (strcmp(v, "overdue") != 0)
                rc = vg_fail(err, VG_EINVAL, "sla: '%s' is not overdue (sla:overdue, !sla:overdue)",
                             v);
            else
                out->f.overdue = neg ? -1 : 1;
        } else if (strcmp(field, "sev") == 0 || strcmp(field, "severity") == 0) {
            unsigned mask = 0;
            if ((rc = sev_mask(op, v, &mask, err)) == VG_OK) {
                if (neg)
                    mask = ((1u << VG_SEVERITY.n) - 1) & ~mask;
                out->f.severity_mask = out->f.severity_mask ? out->f.severity_mask & mask : mask;
            }
        } else if (strcmp(field, "assignee") == 0 && op[0] == ':') {
            free(out->assignee);
            out->assignee = vg_xstrdup(strcmp(v, "me") == 0 && me ? me
                                       : strcmp(v, "none") == 0 ? "" : v);
            out->f.not_assignee = neg;
        } else if (strcmp(field, "tag") == 0 && op[0] == ':') {
            free(out->tag);
            out->tag = vg_xstrdup(v);
            out->f.not_tag = neg;
        } else if (vf < sizeof VALUE_FIELDS / sizeof *VALUE_FIELDS && op[0] == ':') {
            rc = value_term(out, VALUE_FIELDS[vf].type, field, v, neg, err);
        } else if (op[0] == ':' && (!strcmp(field, "type") || !strcmp(field, "after") ||
                                    !strcmp(field, "before") || !strcmp(field, "case") ||
                                    !strcmp(field, "intel"))) {
            rc = search ? search_term(out, field, v, neg, err)
                        : vg_fail(err, VG_EINVAL, "'%s:' narrows search results; the queue"
                                                  " lists cases", field);
        } else {
            rc = vg_fail(err, VG_EINVAL, "'%s': not a filter (status:, sev:, sev>=, assignee:,"
                                         " tag:, ip:, domain:, host:, user:, hash:, field.NAME:, ...%s or words)",
                         w, search ? " type:, after:, before:, case:, intel:," : "");
        }
    }
    if (rc == VG_OK && text.len && vg_buf_str(&text)[strspn(vg_buf_str(&text), " \t\r\n")])
        out->text = vg_buf_take(&text);
    vg_buf_free(&text);
    out->f.assignee = out->assignee;
    out->f.tag = out->tag;
    out->f.text = out->text;
    out->f.value_type = out->value_type;
    out->f.value = out->value;
    for (int i = 0; i < out->f.nfields; i++) {
        out->f.fields[i].name = out->field_names[i];
        out->f.fields[i].value = out->field_values[i];
    }
    if (rc)
        vg_case_query_clear(out);
    return rc;
}

vg_rc vg_case_query_parse(const char *q, const char *me, vg_case_query *out, vg_err *err)
{
    return parse_query(q, me, false, out, err);
}

vg_rc vg_search_query_parse(const char *q, const char *me, vg_case_query *out, vg_err *err)
{
    return parse_query(q, me, true, out, err);
}

void vg_case_query_clear(vg_case_query *q)
{
    free(q->assignee);
    free(q->tag);
    free(q->text);
    free(q->value_type);
    free(q->value);
    free(q->case_ref);
    free(q->intel);
    for (int i = 0; i < VG_QUERY_MAX_FIELDS; i++) {
        free(q->field_names[i]);
        free(q->field_values[i]);
    }
    memset(q, 0, sizeof *q);
}

void vg_case_list_free(vg_case_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        vg_case_clear(&l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

vg_rc vg_sort_parse(const char *s, vg_case_sort *sort, bool *reverse, vg_err *err)
{
    bool rev = s && *s == '-';
    const char *name = s ? s + rev : "";
    for (int i = 0; i < VG_SORT__N; i++)
        if (strcmp(VG_SORT_NAMES[i], name) == 0) {
            *sort = (vg_case_sort)i;
            if (reverse)
                *reverse = rev;
            else if (rev)
                break;
            return VG_OK;
        }
    return vg_fail(err, VG_EINVAL,
                   "'%.40s' is not an order: severity, newest, oldest, ref, status, title, assignee,"
                   " alerts, sla%s", s ? s : "", reverse ? " (-NAME: reversed)" : "");
}

const char *const VG_SORT_NAMES[VG_SORT__N] = {"severity", "newest", "oldest", "ref", "status",
                                                "title", "assignee", "alerts", "sla"};

/* When a case of this severity and status is due under the filter's SLA targets;
 * INT64_MAX for none (closed, or no target), which sorts last. */
static int64_t sla_due(const vg_case *c, const vg_case_filter *f)
{
    int64_t t = c->severity >= 0 && c->severity < 5 ? f->sla_ms[c->severity] : 0;
    return c->status == VG_ST_CLOSED || t <= 0 ? INT64_MAX : c->created_at + t;
}

void vg_case_cursor_of(const vg_case *c, const vg_case_filter *f, vg_case_cursor *out)
{
    memset(out, 0, sizeof *out);
    out->severity = c->severity;
    out->created_at = c->created_at;
    out->ref = c->ref;
    memcpy(out->id, c->id, sizeof out->id);
    switch (f->sort) {
    case VG_SORT_STATUS: out->ikey = c->status; break;
    case VG_SORT_ALERTS: out->ikey = c->alert_count; break;
    case VG_SORT_SLA: out->ikey = sla_due(c, f); break;
    case VG_SORT_TITLE: snprintf(out->skey, sizeof out->skey, "%s", c->title); break;
    case VG_SORT_ASSIGNEE: snprintf(out->skey, sizeof out->skey, "%s", c->assignee); break;
    default: break;
    }
}

void vg_case_cursor_format(const vg_case *last, const vg_case_filter *f, char *out, size_t outsz)
{
    vg_case_cursor cur;
    vg_case_cursor_of(last, f, &cur);
    int n = snprintf(out, outsz, "%d.%" PRId64 ".%" PRId64 ".%s", cur.severity, cur.created_at,
                     cur.ref, cur.id);
    if (n < 0 || (size_t)n >= outsz)
        return;
    if (f->sort == VG_SORT_STATUS || f->sort == VG_SORT_ALERTS || f->sort == VG_SORT_SLA)
        snprintf(out + n, outsz - (size_t)n, ".i%" PRId64, cur.ikey);
    else if (f->sort == VG_SORT_TITLE || f->sort == VG_SORT_ASSIGNEE) {
        size_t at = (size_t)n;
        at += (size_t)snprintf(out + at, outsz - at, ".s");
        for (const unsigned char *p = (const unsigned char *)cur.skey; *p && at + 3 < outsz; p++)
            at += (size_t)snprintf(out + at, outsz - at, "%02x", *p);
    }
}

vg_rc vg_case_cursor_parse(const char *s, vg_case_cursor *out, vg_err *err)
{
    char id[VG_ID_LEN + 2] = "";
    long long created, ref;
    int sev, used = 0;
    memset(out, 0, sizeof *out);
    if (sscanf(s, "%d.%lld.%lld.%27[0-9A-Z]%n", &sev, &created, &ref, id, &used) != 4 ||
        sev < 0 || sev > 4 || !vg_ulid_valid(id))
        return vg_fail(err, VG_EINVAL, "cursor '%s' is not one vigil printed", s);
    const char *k = s + used;
    if (k[0] == '.' && k[1] == 'i') {
        char *end;
        out->ikey = strtoll(k + 2, &end, 10);
        k = end == k + 2 ? k : end;
    } else if (k[0] == '.' && k[1] == 's') {
        size_t n = 0;
        for (k += 2; isxdigit((unsigned char)k[0]) && isxdigit((unsigned char)k[1]) &&
                     n + 1 < sizeof out->skey; k += 2) {
            unsigned v;
            sscanf(k, "%2x", &v);
            out->skey[n++] = (char)v;
        }
    }
    if (*k)
        return vg_fail(err, VG_EINVAL, "cursor '%s' is not one vigil printed", s);
    out->severity = sev;
    out->created_at = created;
    out->ref = ref;
    memcpy(out->id, id, sizeof out->id);
    return VG_OK;
}

/* "#142" or "142" -> 142; -1 when s is not written as a ref. Digits alone are
 * always a ref (an id prefix needs a letter), so "#0" is simply not found. */
static int64_t parse_ref(const char *s)
{
    if (*s == '#')
        s++;
    if (!*s || strlen(s) > 15 || strspn(s, "0123456789") != strlen(s))
        return -1;
    return strtoll(s, NULL, 10);
}

/* An id prefix as ids are written (upper case), with its terminator. */
static void upper_id(const char *s, size_t len, char *out)
{
    for (size_t i = 0; i <= len; i++)
        out[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
}

vg_rc vg_case_resolve(vg_ws *ws, const char *ref, vg_id out, vg_err *err)
{
    sqlite3_stmt *st = NULL;
    vg_rc rc;
    int64_t n = parse_ref(ref);
    char upper[VG_ID_LEN + 1];
    if (n >= 0) {
        rc = prep(ws, "SELECT id, ref FROM cases WHERE ref = ? ORDER BY id LIMIT 4", &st, err);
        if (rc)
            return rc;
        sqlite3_bind_int64(st, 1, n);
    } else {
        size_t len = strlen(ref);
        if (len == 0 || len > VG_ID_LEN)
            return vg_fail(err, VG_ENOTFOUND, "'%s' is not a case reference (#ref or id prefix)",
                           ref);
        upper_id(ref, len, upper);
        rc = prep(ws, "SELECT id, ref FROM cases WHERE id >= ?1 AND id < ?1 || '~'"
                      " ORDER BY id LIMIT 4", &st, err);
        if (rc)
            return rc;
        sqlite3_bind_text(st, 1, upper, -1, SQLITE_STATIC);
    }
    vg_id found[4];
    int64_t refs[4];
    int count = 0, s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW && count < 4) {
        col_id(st, 0, found[count]);
        refs[count++] = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    if (count == 0)
        return vg_fail(err, VG_ENOTFOUND, "no case matches '%s'", ref);
    if (count > 1) {
        char list[256] = "";
        for (int i = 0; i < count && i < 3; i++) {
            size_t l = strlen(list);
            snprintf(list + l, sizeof list - l, "%s#%lld (%s)", i ? ", " : "",
                     (long long)refs[i], found[i]);
        }
        return vg_fail(err, VG_EAMBIGUOUS, "'%s' matches more than one case: %s%s; use more of the id",
                       ref, list, count > 3 ? ", ..." : "");
    }
    memcpy(out, found[0], sizeof(vg_id));
    return VG_OK;
}

vg_rc vg_case_follow(vg_ws *ws, const char *id, vg_id out, int64_t *ref, vg_err *err)
{
    sqlite3_stmt *st = NULL;
    vg_rc rc = prep(ws,
                    "SELECT m.id, m.ref FROM cases c JOIN cases m ON m.id = c.merged_into"
                    " WHERE c.id = ?",
                    &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    out[0] = '\0';
    *ref = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        col_id(st, 0, out);
        *ref = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    return VG_OK;
}

vg_rc vg_case_merged_refs(vg_ws *ws, const char *id, int64_t **refs, size_t *n, vg_err *err)
{
    sqlite3_stmt *st = NULL;
    *refs = NULL;
    *n = 0;
    vg_rc rc = prep(ws, "SELECT ref FROM cases WHERE merged_into = ? ORDER BY ref", &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    size_t cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            *refs = vg_xrealloc(*refs, cap * sizeof **refs);
        }
        (*refs)[(*n)++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return VG_OK;
}

vg_rc vg_case_get(vg_ws *ws, const char *id, vg_case *out, vg_err *err)
{
    sqlite3_stmt *st = NULL;
    vg_rc rc = prep(ws,
                    "SELECT " CASE_COLS ", (SELECT count(*) FROM alerts a WHERE"
                    " a.case_id = c.id), coalesce(m.id, ''), coalesce(m.ref, 0)"
                    " FROM cases c LEFT JOIN cases m ON m.id = c.merged_into"
                    " WHERE c.id = ?",
                    &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        read_case(st, out);
        out->alert_count = sqlite3_column_int64(st, 17);
        col_id(st, 18, out->merged_into);
        out->merged_into_ref = sqlite3_column_int64(st, 19);
    } else {
        rc = vg_fail(err, VG_ENOTFOUND, "case %s: no such case", id);
    }
    sqlite3_finalize(st);
    return rc;
}

/* Run a prepared child query, growing an array of `size`-byte structs that `fill`
 * reads each row into. */
/* Every row of st as an array of items filled by fill, st left as it ends (a
 * statement of the workspace's cache is reset by its next use). */
static vg_rc collect_rows(vg_ws *ws, sqlite3_stmt *st, size_t size,
                          void (*fill)(sqlite3_stmt *, void *), void **items, size_t *n,
                          vg_err *err)
{
    size_t cap = 16;
    char *arr = vg_xcalloc(cap, size);
    int s;
    *n = 0;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap *= 2;
            arr = vg_xrealloc(arr, cap * size);
        }
        memset(arr + *n * size, 0, size);
        fill(st, arr + *n * size);
        ++*n;
    }
    *items = arr;
    if (s != SQLITE_DONE)
        return ws_dberr(ws, err, "querying the workspace");
    return VG_OK;
}

/* collect_rows, then st finalized. */
static vg_rc collect(vg_ws *ws, sqlite3_stmt *st, size_t size, void (*fill)(sqlite3_stmt *, void *),
                     void **items, size_t *n, vg_err *err)
{
    vg_rc rc = collect_rows(ws, st, size, fill, items, n, err);
    sqlite3_finalize(st);
    return rc;
}

#define ALERT_COLS_BUT_RAW(RAW)                                                             \
    "id, source, source_ref, rule, title, severity, event_time, first_seen, last_seen, count," \
    " status, case_id, entities, techniques, " RAW ", dismissed_reason"
#define ALERT_COLS ALERT_COLS_BUT_RAW("vg_raw(raw, raw_op, raw_at)")

static void fill_alert(sqlite3_stmt *st, void *p)
{
    vg_alert *a = p;
    col_id(st, 0, a->id);
    a->source = col_dup(st, 1);
    a->source_ref = col_dup(st, 2);
    a->rule = col_dup(st, 3);
    a->title = col_dup(st, 4);
    a->severity = sqlite3_column_int(st, 5);
    a->event_time = sqlite3_column_int64(st, 6);
    a->first_seen = sqlite3_column_int64(st, 7);
    a->last_seen = sqlite3_column_int64(st, 8);
    a->count = sqlite3_column_int64(st, 9);
    a->status = vg_enum_parse(&VG_ALERT_STATUS, (const char *)sqlite3_column_text(st, 10));
    col_id(st, 11, a->case_id);
    a->entities = col_dup(st, 12);
    a->techniques = col_dup(st, 13);
    a->raw = col_dup(st, 14);
    a->dismissed_reason = col_dup(st, 15);
}

static vg_rc alerts_of_case(vg_ws *ws, const char *sql, const char *case_id, int limit,
                            vg_alert **items, size_t *n, vg_err *err)
{
    sqlite3_stmt *st = NULL;
    vg_rc rc = prep(ws, sql, &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, limit > 0 ? limit : -1);
    return collect(ws, st, sizeof **items, fill_alert, (void **)items, n, err);
}

vg_rc vg_alerts_of_case(vg_ws *ws, const char *case_id, int limit, vg_alert **items, size_t *n,
                        vg_err *err)
{
    return alerts_of_case(ws, "SELECT " ALERT_COLS " FROM alerts WHERE case_id = ?"
                              " ORDER BY event_time, id LIMIT ?", case_id, limit, items, n, err);
}

vg_rc vg_alerts_of_case_brief(vg_ws *ws, const char *case_id, int limit, vg_alert **items,
                              size_t *n, vg_err *err)
{
    /* raw "": a list of many alerts reads no op for their raw events */
    return alerts_of_case(ws, "SELECT " ALERT_COLS_BUT_RAW("''") " FROM alerts WHERE case_id = ?"
                              " ORDER BY event_time, id LIMIT ?", case_id, limit, items, n, err);
}

/* The alerts of a status in inbox order (newest first) after a keyset cursor, or
 * backward (oldest first) from it: the SQL both lists share, cols and the filter
 * spliced in as constants, values bound (?1 ?2 the cursor, ?3 the limit, ?4 the
 * status, ?5 the text). */
static vg_rc alerts_prep(vg_ws *ws, const char *cols, bool matching, bool backward, bool after,
                         sqlite3_stmt **st, vg_err *err)
{
    char sql[1024];
    snprintf(sql, sizeof sql, "SELECT %s FROM alerts WHERE status = ?4%s%s ORDER BY event_time%s,"
             " id%s LIMIT ?3", cols,
             matching ? " AND (instr(lower(title), lower(?5)) OR instr(lower(rule), lower(?5))"
                        " OR instr(lower(source), lower(?5)) OR instr(lower(entities), lower(?5)))"
                      : "",
             !after ? "" : backward ? " AND (event_time, id) > (?1, ?2)" : " AND (event_time, id) < (?1, ?2)",
             backward ? "" : " DESC", backward ? "" : " DESC");
    return prep(ws, sql, st, err);
}

vg_rc vg_alerts_list(vg_ws *ws, int status, int limit, const vg_alert_cursor *after,
                     bool backward, vg_alert **items, size_t *n, bool *more, vg_err *err)
{
    if (limit < 1 || limit > 10000)
        return vg_fail(err, VG_EINVAL, "limit: from 1 to 10000");
    if (status < 0 || status >= VG_ALERT_STATUS.n)
        return vg_fail(err, VG_EINVAL, "not an alert status");
    sqlite3_stmt *st = NULL;
    vg_rc rc = alerts_prep(ws, ALERT_COLS, false, backward, after != NULL, &st, err);
    if (rc)
        return rc;
    if (after) {
        sqlite3_bind_int64(st, 1, after->event_time);
        sqlite3_bind_text(st, 2, after->id, -1, SQLITE_STATIC);
    }
    sqlite3_bind_int(st, 3, limit + 1);
    sqlite3_bind_text(st, 4, VG_ALERT_STATUS.names[status], -1, SQLITE_STATIC);
    if ((rc = collect(ws, st, sizeof **items, fill_alert, (void **)items, n, err)))
        return rc;
    *more = *n > (size_t)limit;
    if (*more)
        vg_alert_clear(&(*items)[--*n]);
    for (size_t i = 0; backward && i < *n / 2; i++) {
        vg_alert t = (*items)[i];
        (*items)[i] = (*items)[*n - 1 - i];
        (*items)[*n - 1 - i] = t;
    }
    return VG_OK;
}

vg_rc vg_inbox_list(vg_ws *ws, int limit, const vg_alert_cursor *after, bool backward,
                    vg_alert **items, size_t *n, bool *more, vg_err *err)
{
    return vg_alerts_list(ws, VG_AS_NEW, limit, after, backward, items, n, more, err);
}

static void fill_cursor(sqlite3_stmt *st, void *p)
{
    vg_alert_cursor *c = p;
    c->event_time = sqlite3_column_int64(st, 0);
    col_id(st, 1, c->id);
}

vg_rc vg_alerts_find(vg_ws *ws, int status, const char *text, const vg_alert_cursor *after,
                     bool backward, int limit, vg_alert_cursor **out, size_t *n, vg_err *err)
{
    *out = NULL;
    *n = 0;
    if (!text || !*text)
        return vg_fail(err, VG_EINVAL, "find: what text?");
    if (strlen(text) > 256)
        return vg_fail(err, VG_EINVAL, "find: at most 256 bytes of text");
    if (limit < 1 || limit > VG_ALERTS_FIND_MAX)
        return vg_fail(err, VG_EINVAL, "limit: from 1 to %d", VG_ALERTS_FIND_MAX);
    if (status < 0 || status >= VG_ALERT_STATUS.n)
        return vg_fail(err, VG_EINVAL, "not an alert status");
    sqlite3_stmt *st = NULL;
    vg_rc rc = alerts_prep(ws, "event_time, id", true, backward, after != NULL, &st, err);
    if (rc)
        return rc;
    if (after) {
        sqlite3_bind_int64(st, 1, after->event_time);
        sqlite3_bind_text(st, 2, after->id, -1, SQLITE_STATIC);
    }
    sqlite3_bind_int(st, 3, limit);
    sqlite3_bind_text(st, 4, VG_ALERT_STATUS.names[status], -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, text, -1, SQLITE_STATIC);
    return collect(ws, st, sizeof **out, fill_cursor, (void **)out, n, err);
}

vg_rc vg_alert_resolve(vg_ws *ws, const char *prefix, vg_id out, vg_err *err)
{
    char upper[VG_ID_LEN + 1];
    size_t len = strlen(prefix);
    if (len < 4 || len > VG_ID_LEN)
        return vg_fail(err, VG_ENOTFOUND, "'%s' is not an alert id (or a prefix of 4 or more)",
                       prefix);
    upper_id(prefix, len, upper);
    sqlite3_stmt *st = NULL;
    vg_rc rc = prep(ws, "SELECT id FROM alerts WHERE id >= ?1 AND id < ?1 || '~' ORDER BY id"
                        " LIMIT 2", &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, upper, -1, SQLITE_STATIC);
    int count = 0;
    while (count < 2 && sqlite3_step(st) == SQLITE_ROW) {
        col_id(st, 0, out);
        count++;
    }
    sqlite3_finalize(st);
    if (count == 0)
        return vg_fail(err, VG_ENOTFOUND, "no alert matches '%s'", prefix);
    if (count > 1)
        return vg_fail(err, VG_EAMBIGUOUS, "'%s' matches more than one alert; use more of the id",
                       prefix);
    return VG_OK;
}

vg_rc vg_alert_get(vg_ws *ws, const char *id, vg_alert *out, vg_err *err)
{
    sqlite3_stmt *st = NULL;
    /* by any id the alert was made under (alert_ids: made apart on two replicas) */
    vg_rc rc = prep(ws, "SELECT " ALERT_COLS " FROM alerts WHERE id = ?1"
                        " OR rowid = (SELECT alert FROM alert_ids WHERE id = ?1) LIMIT 1",
                    &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    memset(out, 0, sizeof *out);
    if (sqlite3_step(st) == SQLITE_ROW)
        fill_alert(st, out);
    else
        rc = vg_fail(err, VG_ENOTFOUND, "alert %s: no such alert", id);
    sqlite3_finalize(st);
    return rc;
}

#define ART_OWN_COLS                                                                        \
    "a.id, a.case_id, a.type, a.value, a.is_ioc, a.tlp, a.source, a.first_seen, a.last_seen," \
    " a.sightings"
/* The bridges, on artifacts_value (type, value, removed, case_id) alone: a case
 * holds a value once, so its other cases are counted without DISTINCT, and the
 * refs are those of the first 20 other cases made (ids follow creation), found in
 * the index's order, then sorted: a value on 7,000 cases costs 20 case lookups,
 * not 7,000 and a sort. */
#define ART_COLS                                                                            \
    ART_OWN_COLS ", (SELECT count(*) FROM artifacts b WHERE b.type = a.type"                 \
    " AND b.value = a.value AND b.removed = 0 AND b.case_id <> a.case_id),"                 \
    " (SELECT group_concat(r, ',') FROM (SELECT c.ref AS r FROM (SELECT b.case_id"          \
    "  FROM artifacts b WHERE b.type = a.type AND b.value = a.value AND b.removed = 0"        \
    "  AND b.case_id <> a.case_id ORDER BY b.case_id LIMIT 20) o"                           \
    "  JOIN cases c ON c.id = o.case_id ORDER BY c.ref))"

/* ART_OWN_COLS: the artifact without its bridges (other_cases -1, other_refs ""). */
static void fill_artifact_own(sqlite3_stmt *st, void *p)
{
    vg_artifact *a = p;
    col_id(st, 0, a->id);
    col_id(st, 1, a->case_id);
    a->type = vg_enum_parse(&VG_ARTIFACT_TYPE, (const char *)sqlite3_column_text(st, 2));
    a->value = col_dup(st, 3);
    a->is_ioc = sqlite3_column_int(st, 4);
    a->tlp = vg_enum_parse(&VG_TLP, (const char *)sqlite3_column_text(st, 5));
    a->source = vg_enum_parse(&VG_ARTIFACT_SOURCE, (const char *)sqlite3_column_text(st, 6));
    a->first_seen = sqlite3_column_int64(st, 7);
    a->last_seen = sqlite3_column_int64(st, 8);
    a->sightings = sqlite3_column_int64(st, 9);
    a->other_cases = -1;
    a->other_refs = vg_xstrdup("");
}

/* ART_COLS */
static void fill_artifact(sqlite3_stmt *st, void *p)
{
    vg_artifact *a = p;
    fill_artifact_own(st, p);
    free(a->other_refs);
    a->other_cases = sqlite3_column_int64(st, 10);
    a->other_refs = col_dup(st, 11);
}

vg_rc vg_artifacts_of_case(vg_ws *ws, const char *case_id, vg_artifact **items, size_t *n,
                           vg_err *err)
{
    sqlite3_stmt *st = NULL;
    vg_rc rc = prep(ws, "SELECT " ART_COLS " FROM artifacts a WHERE a.case_id = ? AND a.removed = 0"
                        " ORDER BY a.type, a.value", &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
    return collect(ws, st, sizeof **items, fill_artifact, (void **)items, n, err);
}

vg_rc vg_artifacts_top(vg_ws *ws, const char *case_id, int limit, vg_artifact **items,
                       size_t *n, int64_t *total, vg_err *err)
{
    /* asked once per case of a queue: both statements are kept prepared */
    static const char count[] = "SELECT count(*) FROM artifacts WHERE case_id = ? AND removed = 0";
    static const char top[] = "SELECT " ART_OWN_COLS " FROM artifacts a"
                              " WHERE a.case_id = ? AND a.removed = 0"
                              " ORDER BY a.type IN ('hostname', 'user') DESC, a.is_ioc DESC,"
                              " a.sightings DESC, a.last_seen DESC, a.id LIMIT ?";
    sqlite3_stmt *st;
    *total = 0;
    *items = NULL;
    *n = 0;
    vg_rc rc = ws_stmt_text(ws, count, &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        *total = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if ((rc = ws_stmt_text(ws, top, &st, err)))
        return rc;
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, limit);
    rc = collect_rows(ws, st, sizeof **items, fill_artifact_own, (void **)items, n, err);
    sqlite3_reset(st);
    return rc;
}

#define TASK_ORDER                                                                   \
    " ORDER BY CASE phase WHEN 'identification' THEN 0 WHEN 'containment' THEN 1"    \
    " WHEN 'eradication' THEN 2 WHEN 'recovery' THEN 3 ELSE 4 END, ord, id"

static void fill_task(sqlite3_stmt *st, void *p)
{
    vg_task *t = p;
    col_id(st, 0, t->id);
    col_id(st, 1, t->case_id);
    t->phase = vg_enum_parse(&VG_PHASE, (const char *)sqlite3_column_text(st, 2));
    t->title = col_dup(st, 3);
    t->description = col_dup(st, 4);
    t->status = vg_enum_parse(&VG_TASK_STATUS, (const char *)sqlite3_column_text(st, 5));
    t->assignee = col_dup(st, 6);
    t->ord = sqlite3_column_int64(st, 7);
    t->playbook_id = col_dup(st, 8);
    t->created_at = sqlite3_column_int64(st, 9);
    t->done_at = sqlite3_column_int64(st, 10);
    t->mandatory = sqlite3_column_int(st, 11) != 0;
}

vg_rc vg_tasks_of_case(vg_ws *ws, const char *case_id, vg_task **items, size_t *n, vg_err *err)
{
    sqlite3_stmt *st = NULL;
    vg_rc rc = prep(ws, "SELECT id, case_id, phase, title, description, status, assignee, ord,"
                        " playbook_id, created_at, done_at, mandatory FROM tasks WHERE case_id = ?" TASK_ORDER,
                    &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
    return collect(ws, st, sizeof **items, fill_task, (void **)items, n, err);
}

static void fill_note(sqlite3_stmt *st, void *p)
{
    vg_note *nt = p;
    col_id(st, 0, nt->id);
    col_id(st, 1, nt->case_id);
    nt->author = col_dup(st, 2);
    nt->body = col_dup(st, 3);
    nt->created_at = sqlite3_column_int64(st, 4);
}

vg_rc vg_notes_of_case(vg_ws *ws, const char *case_id, vg_note **items, size_t *n, vg_err *err)
{
    sqlite3_stmt *st = NULL;
    vg_rc rc = prep(ws, "SELECT id, case_id, author, body, created_at FROM notes WHERE case_id = ?"
                        " ORDER BY created_at, id", &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
    return collect(ws, st, sizeof **items, fill_note, (void **)items, n, err);
}

static void fill_event(sqlite3_stmt *st, void *p)
{
    vg_event *e = p;
    col_id(st, 0, e->id);
    col_id(st, 1, e->case_id);
    e->occurred_at = sqlite3_column_int64(st, 2);
    e->recorded_at = sqlite3_column_int64(st, 3);
    e->kind = vg_enum_parse(&VG_EVENT_KIND, (const char *)sqlite3_column_text(st, 4));
    e->summary = col_dup(st, 5);
    e->source = col_dup(st, 6);
    e->actor = col_dup(st, 7);
    e->technique = col_dup(st, 8);
    e->tactic = col_dup(st, 9);
    e->starred = sqlite3_column_int(st, 10);
}

/* A case's alerts as timeline rows, and the links of those an alert.set linked
 * (derived from the alert: no events row of their own). */
#define RECENT_ALERT "SELECT id, case_id, event_time, recorded_at, 'alert', 'alert: ' || title," \
    " source, '', json_extract(techniques, '$[0]'), NULL, starred FROM alerts WHERE case_id = ?1"
#define LINKED_ALERT "SELECT id, case_id, linked_at, linked_at, 'alert', 'alert linked by '" \
    " || linked_by || ': ' || substr(title, 1, 140), '', linked_by, NULL, NULL, starred"      \
    " FROM alerts WHERE case_id = ?1 AND linked_at IS NOT NULL"

vg_rc vg_timeline(vg_ws *ws, const char *case_id, vg_timeline_order order, int limit,
                  vg_event **items, size_t *n, vg_err *err)
{
    sqlite3_stmt *st = NULL;
    /* A case's alerts are timeline rows too: "alert: <title>" when it happened and
     * when it was recorded (an alert writes no event row of its own), and one that
     * an alert.set linked, "alert linked by <who>: <title>" when it was linked. */
#define TIMELINE                                                                        \
    "SELECT id, case_id, occurred_at, recorded_at, kind, summary, source, actor,"       \
    " technique, tactic, starred FROM events WHERE case_id = ?1"                        \
    " UNION ALL " RECENT_ALERT " UNION ALL " LINKED_ALERT
    vg_rc rc = prep(ws, order == VG_BY_RECORDED ? TIMELINE " ORDER BY 4, 1 LIMIT ?2"
                                                : TIMELINE " ORDER BY 3, 1 LIMIT ?2",
                    &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, limit > 0 ? limit : -1);
    return collect(ws, st, sizeof **items, fill_event, (void **)items, n, err);
}

/* Copilot context (query.h): high and critical alerts first, most severe first,
 * then every row newest first. Three index range scans (alerts by severity, events
 * and the other alerts newest first, each at most limit rows) merged here, so a
 * case with 100,000 rows costs what the rows asked for cost; one ORDER BY over the
 * union would sort them all. */
#define RECENT_EVENT "SELECT id, case_id, occurred_at, recorded_at, kind, summary, source, actor," \
    " technique, tactic, starred FROM events WHERE case_id = ?1"
static vg_rc recent_part(vg_ws *ws, const char *sql, const char *case_id, int limit,
                         vg_event **items, size_t *n, vg_err *err)
{
    sqlite3_stmt *st = NULL;
    vg_rc rc = prep(ws, sql, &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, limit > 0 ? limit : -1);
    return collect(ws, st, sizeof **items, fill_event, (void **)items, n, err);
}

vg_rc vg_timeline_recent(vg_ws *ws, const char *case_id, int limit, vg_event **items, size_t *n,
                         int64_t *total, vg_err *err)
{
    static const char *const sql[3] = {
        RECENT_ALERT " AND severity >= 3 ORDER BY severity DESC, event_time DESC, id DESC LIMIT ?2",
        RECENT_EVENT " ORDER BY occurred_at DESC, id DESC LIMIT ?2",
        RECENT_ALERT " AND severity < 3 ORDER BY event_time DESC, id DESC LIMIT ?2",
    };
    vg_event *part[3] = {NULL, NULL, NULL};
    size_t np[3] = {0, 0, 0};
    *items = NULL;
    *n = 0;
    sqlite3_stmt *st = NULL;
    vg_rc rc = prep(ws, "SELECT (SELECT count(*) FROM events WHERE case_id = ?1)"
                        " + (SELECT count(*) FROM alerts WHERE case_id = ?1)", &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
    *total = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    for (int i = 0; i < 3 && rc == VG_OK; i++)
        rc = recent_part(ws, sql[i], case_id, limit, &part[i], &np[i], err);
    if (rc == VG_OK) {
        size_t cap = limit > 0 ? (size_t)limit : np[0] + np[1] + np[2];
        *items = vg_xcalloc(cap ? cap : 1, sizeof **items);
        size_t a = 0, b = 0;
        for (size_t i = 0; i < np[0] && *n < cap; i++) {
            (*items)[(*n)++] = part[0][i];
            memset(&part[0][i], 0, sizeof part[0][i]);
        }
        while (*n < cap && (a < np[1] || b < np[2])) {
            vg_event *e = &part[1][a], *x = &part[2][b];
            bool take_event = b == np[2] ||
                              (a < np[1] && (e->occurred_at > x->occurred_at ||
                                             (e->occurred_at == x->occurred_at &&
                                              strcmp(e->id, x->id) > 0)));
            vg_event *pick = take_event ? &part[1][a++] : &part[2][b++];
            (*items)[(*n)++] = *pick;
            memset(pick, 0, sizeof *pick);
        }
    }
    for (int i = 0; i < 3; i++)
        vg_events_free(part[i], np[i]);
    return rc;
}

#define FREE_ARRAY(fn, type, clear)                  \
    void fn(type *a, size_t n)                       \
    {                                                \
        for (size_t i = 0; a && i < n; i++)          \
            clear(&a[i]);                            \
        free(a);                                     \
    }
FREE_ARRAY(vg_alerts_free, vg_alert, vg_alert_clear)
FREE_ARRAY(vg_artifacts_free, vg_artifact, vg_artifact_clear)
FREE_ARRAY(vg_tasks_free, vg_task, vg_task_clear)
FREE_ARRAY(vg_notes_free, vg_note, vg_note_clear)
FREE_ARRAY(vg_events_free, vg_event, vg_event_clear)

vg_rc vg_task_resolve(vg_ws *ws, const char *case_id, const char *what, vg_task *out, vg_err *err)
{
    vg_task *tasks = NULL;
    size_t n = 0, hits = 0, pick = 0;
    vg_rc rc = vg_tasks_of_case(ws, case_id, &tasks, &n, err);
    if (rc)
        return rc;
    int64_t num = parse_ref(what);
    size_t wl = strlen(what);
    for (size_t i = 0; i < n; i++) {
        bool match = (num > 0 && wl < 6) ? (int64_t)i + 1 == num
                                         : wl > 0 && strncasecmp(tasks[i].id, what, wl) == 0;
        if (match) {
            hits++;
            pick = i;
        }
    }
    if (hits == 1) {
        *out = tasks[pick];
        memset(&tasks[pick], 0, sizeof tasks[pick]);
    } else if (hits == 0) {
        rc = vg_fail(err, VG_ENOTFOUND, "no task '%s' on this case (it has %zu; use the number"
                                        " shown by `vigil case show` or an id prefix)", what, n);
    } else {
        rc = vg_fail(err, VG_EAMBIGUOUS, "'%s' matches %zu tasks; use more of the id", what, hits);
    }
    vg_tasks_free(tasks, n);
    return rc;
}

vg_rc vg_artifact_resolve(vg_ws *ws, const char *case_id, const char *what, vg_artifact *out,
                          vg_err *err)
{
    vg_artifact *arts = NULL;
    size_t n = 0, hits = 0, pick = 0;
    vg_rc rc = vg_artifacts_of_case(ws, case_id, &arts, &n, err);
    if (rc)
        return rc;
    size_t wl = strlen(what);
    for (size_t i = 0; i < n && hits == 0; i++)
        if (strcmp(arts[i].value, what) == 0) {
            hits = 1;
            pick = i;
        }
    for (size_t i = 0; i < n && !(hits == 1 && strcmp(arts[pick].value, what) == 0); i++)
        if (wl > 0 && strncasecmp(arts[i].id, what, wl) == 0) {
            hits++;
            pick = i;
        }
    if (hits == 1) {
        *out = arts[pick];
        memset(&arts[pick], 0, sizeof arts[pick]);
    } else if (hits == 0) {
        rc = vg_fail(err, VG_ENOTFOUND, "no artifact '%s' on this case", what);
    } else {
        rc = vg_fail(err, VG_EAMBIGUOUS, "'%s' matches %zu artifacts; use more of the id", what,
                     hits);
    }
    vg_artifacts_free(arts, n);
    return rc;
}

/* Search (query.h). One statement: the candidates (FTS matches when there are
 * words; else the holders of a value; else everything, newest first), each mapped
 * back to its entity by rowid / 8 and kind rowid % 8, its case joined for the case
 * terms, filtered, ordered and cut; snippets only for the rows kept. */
vg_rc vg_search(vg_ws *ws, const char *query, int limit, vg_hit **items, size_t *n, vg_err *err)
{
    *items = NULL;
    *n = 0;
    vg_case_query q;
    vg_rc rc = vg_search_query_parse(query, ws->actor, &q, err);
    if (rc)
        return rc;
    const vg_case_filter *f = &q.f;
    if (!q.text && !q.value && !q.kinds && !f->status_mask && !f->severity_mask &&
        !f->assignee && !f->tag && !q.after_ms && !q.before_ms && !q.case_ref && !q.intel) {
        vg_case_query_clear(&q);
        return vg_fail(err, VG_EINVAL, "nothing to search for");
    }
    vg_id case_id = "";
    if (q.case_ref && (rc = vg_case_resolve(ws, q.case_ref, case_id, err))) {
        vg_case_query_clear(&q);
        return rc;
    }
    /* intel: the feed named (0: any); without intel nothing is known */
    int64_t feed = 0;
    if (q.intel && *q.intel && (rc = vg_intel_feed_id(ws, q.intel, &feed, err))) {
        vg_case_query_clear(&q);
        return rc;
    }
    if (q.intel && !vg_ws_has_intel(ws)) {
        vg_case_query_clear(&q);
        *items = vg_xcalloc(1, sizeof **items);
        return VG_OK;
    }
    char *fq = q.text ? fts_query(q.text, false) : NULL, *key = NULL;
    vg_buf sql;
    vg_buf_init(&sql, 16384);
    rc = vg_buf_adds(&sql, "WITH cand(r, rank, snip) AS (");
    /* words alone: FTS5 ranks and cuts by itself, so only the rows kept are joined.
     * Words that match more than SEARCH_RANKED rows show the most recently recorded
     * ones (newest rowid first: an index walk that stops once the filters have let
     * enough through) instead of ranking them all, which would cost a pass over
     * every match and a sort of all that pass the filters. */
    bool bare = !q.kinds && !f->status_mask && !f->severity_mask && !f->assignee && !f->tag &&
                !q.after_ms && !q.before_ms && !case_id[0]; /* nothing filters the joined rows */
    bool words_only = fq && !q.value && bare;
    bool many = false;
    sqlite3_stmt *cnt = NULL;
    vg_err ignored = {0}; /* without the count, words are ranked as usual */
    if (fq && prep(ws, "SELECT count(*) FROM (SELECT rowid FROM fts WHERE fts MATCH ?1"
                       " ORDER BY rowid DESC LIMIT ?2)", &cnt, &ignored) == VG_OK) {
        sqlite3_bind_text(cnt, 1, fq, -1, SQLITE_STATIC);
        sqlite3_bind_int(cnt, 2, SEARCH_RANKED + 1);
        many = sqlite3_step(cnt) == SQLITE_ROW && sqlite3_column_int(cnt, 0) > SEARCH_RANKED;
        sqlite3_finalize(cnt);
    }
    if (fq)
        rc = rc ? rc : vg_buf_adds(&sql, many && words_only
                                             ? "SELECT rowid, 0, " SNIPPET " FROM fts WHERE fts"
                                               " MATCH ?1 ORDER BY rowid DESC LIMIT ?2"
                                         : many ? "SELECT rowid, 0, NULL FROM fts WHERE fts"
                                                  " MATCH ?1 ORDER BY rowid DESC"
                                         : words_only
                                             ? "SELECT rowid, rank, " SNIPPET " FROM fts WHERE fts"
                                               " MATCH ?1 ORDER BY rank LIMIT ?2"
                                             : "SELECT rowid, bm25(fts), NULL FROM fts WHERE"
                                               " fts MATCH ?1");
    else if (q.value) {
        key = value_key(q.value_type, q.value);
        /* A value alone: the rows to show are chosen by their time before any is
         * joined (an alert's key carries its event time), so a value named by
         * thousands of alerts costs what one page of them costs. With filters,
         * which read the joined rows, every row goes on. */
        rc = rc ? rc : vg_buf_adds(&sql,
            "SELECT r, 0, NULL FROM (SELECT rowid * 8 + 4 AS r, last_seen AS t FROM artifacts"
            " WHERE type = ?5 AND value = ?6 AND removed = 0"
            " UNION ALL SELECT alert * 8 + 3, t FROM alert_keys WHERE key = ?7"
            " UNION ALL SELECT rowid * 8 + 1, created_at FROM cases c WHERE"
            VALUE_SQL("c.id", "?5", "?6", "?7") ")");
        if (bare && !f->not_value)
            rc = rc ? rc : vg_buf_adds(&sql, " ORDER BY t DESC, r LIMIT ?2");
    } else if (q.intel) {
        /* What the feeds know: artifacts by their (type, value) seek into the store;
         * alerts through alert_keys (an alert's entities are keyed "type:value"),
         * walking the smaller side and seeking into the other: each unexpired
         * indicator into the keys, or (a workspace of fewer alerts than the store
         * has indicators: some 2.5 keys an alert) each key into the store, once per
         * alert; and the cases holding a known artifact. */
        bool keys_first = intel_keys_first(ws);
        rc = rc ? rc : vg_buf_addf(&sql,
            "SELECT r, 0, NULL FROM (SELECT a.rowid * 8 + 4 AS r, a.last_seen AS t FROM"
            " artifacts a WHERE a.removed = 0 AND %s"
            " UNION ALL SELECT k.alert * 8 + 3, max(k.t) FROM %s"
            " WHERE i.type IS NOT NULL AND" INTEL_UNEXPIRED "%s GROUP BY k.alert"
            " UNION ALL SELECT c.rowid * 8 + 1, c.created_at FROM cases c WHERE c.id IN"
            "  (SELECT a.case_id FROM artifacts a WHERE a.removed = 0 AND %s))",
            feed ? INTEL_KNOWN_FEED("a") : INTEL_KNOWN("a"),
            keys_first ? "alert_keys k CROSS JOIN intel.indicators i ON i.type ="
                         " substr(k.key, 1, instr(k.key, ':') - 1) AND i.value ="
                         " substr(k.key, instr(k.key, ':') + 1)"
                       : "intel.indicators i CROSS JOIN alert_keys k ON k.key = i.type || ':' ||"
                         " i.value",
            feed ? " AND i.feed = ?16" : "", feed ? INTEL_KNOWN_FEED("a") : INTEL_KNOWN("a"));
        if (bare)
            rc = rc ? rc : vg_buf_adds(&sql, " ORDER BY t DESC, r LIMIT ?2");
    } else
        rc = rc ? rc : vg_buf_adds(&sql,
            "SELECT rowid * 8 + 1, 0, NULL FROM cases"
            " UNION ALL SELECT rowid * 8 + 2, 0, NULL FROM notes"
            " UNION ALL SELECT rowid * 8 + 3, 0, NULL FROM alerts"
            " UNION ALL SELECT rowid * 8 + 4, 0, NULL FROM artifacts WHERE removed = 0"
            " UNION ALL SELECT rowid * 8 + 5, 0, NULL FROM events"
            " WHERE kind IN ('manual', 'copilot')");
    rc = rc ? rc : vg_buf_adds(&sql,
        "), hit AS (SELECT h.r, h.rank, h.snip, h.r % 8 AS k,"
        "  coalesce(c.id, n.id, a.id, t.id, e.id) AS id,"
        "  coalesce(c.id, n.case_id, a.case_id, t.case_id, e.case_id) AS case_id,"
        "  coalesce(c.created_at, n.created_at, a.event_time, t.last_seen, e.occurred_at) AS t,"
        "  coalesce(a.severity, pc.severity) AS sev, pc.status AS status, pc.assignee AS assignee,"
        "  pc.tags AS tags, pc.ref AS ref"
        " FROM cand h"
        " LEFT JOIN cases c ON h.r % 8 = 1 AND c.rowid = h.r / 8"
        " LEFT JOIN notes n ON h.r % 8 = 2 AND n.rowid = h.r / 8"
        " LEFT JOIN alerts a ON h.r % 8 = 3 AND a.rowid = h.r / 8"
        " LEFT JOIN artifacts t ON h.r % 8 = 4 AND t.rowid = h.r / 8"
        " LEFT JOIN events e ON h.r % 8 = 5 AND e.rowid = h.r / 8"
        " LEFT JOIN cases pc ON pc.id = coalesce(c.id, n.case_id, a.case_id, t.case_id, e.case_id))"
        " SELECT CASE k WHEN 1 THEN 'case' WHEN 2 THEN 'note' WHEN 3 THEN 'alert'"
        "  WHEN 4 THEN 'artifact' ELSE 'event' END, id, coalesce(case_id, ''), coalesce(ref, 0),"
        "  rank, t, r, snip FROM hit WHERE id IS NOT NULL");
    if (q.kinds)
        rc = rc ? rc : vg_buf_adds(&sql, " AND (?8 >> k) & 1");
    if (f->severity_mask)
        rc = rc ? rc : vg_buf_adds(&sql, " AND (?9 >> sev) & 1");
    if (f->status_mask) /* a status names cases: an inbox alert has none */
        rc = rc ? rc : vg_buf_adds(&sql, " AND status IS NOT NULL AND (?10 >> (CASE status"
                                         " WHEN 'new' THEN 0 WHEN 'in_progress' THEN 1 WHEN"
                                         " 'on_hold' THEN 2 WHEN 'contained' THEN 3 ELSE 4 END)) & 1");
    if (f->assignee)
        rc = rc ? rc : vg_buf_adds(&sql, f->not_assignee ? " AND coalesce(assignee, '') <> ?11"
                                                         : " AND assignee = ?11");
    if (f->tag)
        rc = rc ? rc : vg_buf_adds(&sql, f->not_tag
            ? " AND NOT EXISTS (SELECT 1 FROM json_each(coalesce(tags, '[]')) WHERE value = ?12)"
            : " AND EXISTS (SELECT 1 FROM json_each(tags) WHERE value = ?12)");
    if (q.after_ms)
        rc = rc ? rc : vg_buf_adds(&sql, " AND t >= ?13");
    if (q.before_ms)
        rc = rc ? rc : vg_buf_adds(&sql, " AND t < ?14");
    if (case_id[0])
        rc = rc ? rc : vg_buf_adds(&sql, " AND case_id = ?15");
    if (q.value && fq) /* words and a value: hits on cases holding the value */
        rc = rc ? rc : vg_buf_adds(&sql, f->not_value ? " AND NOT coalesce(" : " AND coalesce(");
    if (q.value && fq)
        rc = rc ? rc : vg_buf_adds(&sql, VALUE_SQL("case_id", "?5", "?6", "?7") ", 0)");
    if (q.intel && (fq || q.value)) /* with words or a value: hits on cases the feeds know */
        rc = rc ? rc : vg_buf_addf(&sql, " AND case_id IN (SELECT a.case_id FROM artifacts a"
                                         " WHERE a.removed = 0 AND %s)",
                                   feed ? INTEL_KNOWN_FEED("a") : INTEL_KNOWN("a"));
    rc = rc ? rc : vg_buf_adds(&sql, many ? " ORDER BY r DESC LIMIT ?2"
                                     : fq ? " ORDER BY rank, t DESC, r DESC LIMIT ?2"
                                          : " ORDER BY t DESC, r LIMIT ?2");
    sqlite3_stmt *st = NULL;
    if (rc)
        rc = vg_fail(err, VG_EINVAL, "query too long");
    else
        rc = prep(ws, vg_buf_str(&sql), &st, err);
    vg_buf_free(&sql);
    if (rc == VG_OK) {
        if (fq)
            sqlite3_bind_text(st, 1, fq, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, limit > 0 ? limit : 20);
        if (q.value) {
            if (!key)
                key = value_key(q.value_type, q.value);
            sqlite3_bind_text(st, 5, q.value_type, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 6, q.value, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 7, key, -1, SQLITE_STATIC);
        }
        sqlite3_bind_int(st, 8, (int)q.kinds);
        sqlite3_bind_int(st, 9, (int)f->severity_mask);
        sqlite3_bind_int(st, 10, (int)f->status_mask);
        if (f->assignee)
            sqlite3_bind_text(st, 11, f->assignee, -1, SQLITE_STATIC);
        if (f->tag)
            sqlite3_bind_text(st, 12, f->tag, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 13, q.after_ms);
        sqlite3_bind_int64(st, 14, q.before_ms);
        sqlite3_bind_text(st, 15, case_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 16, feed);
        sqlite3_bind_int64(st, 17, vg_now_ms());
    }
    size_t cap = 16;
    vg_hit *arr = vg_xcalloc(cap, sizeof *arr);
    int s = SQLITE_DONE;
    while (rc == VG_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap *= 2;
            arr = vg_xrealloc(arr, cap * sizeof *arr);
        }
        vg_hit *h = &arr[(*n)++];
        memset(h, 0, sizeof *h);
        snprintf(h->kind, sizeof h->kind, "%s", (const char *)sqlite3_column_text(st, 0));
        col_id(st, 1, h->id);
        col_id(st, 2, h->case_id);
        h->case_ref = sqlite3_column_int64(st, 3);
        h->rank = sqlite3_column_double(st, 4);
        h->t = sqlite3_column_int64(st, 5);
        h->rowid = sqlite3_column_int64(st, 6);
        if (sqlite3_column_type(st, 7) != SQLITE_NULL)
            h->snippet = col_dup(st, 7);
    }
    if (rc == VG_OK && s != SQLITE_DONE)
        rc = ws_dberr(ws, err, "searching");
    sqlite3_finalize(st);
    /* the snippets of the rows kept that have none yet (words alone bring theirs
     * from FTS, as each seek below walks the word's doclist): the matched words in
     * brackets, or the start of the indexed text when the hit came from a value */
    sqlite3_stmt *sn = NULL;
    size_t missing = 0;
    for (size_t i = 0; i < *n; i++)
        missing += !arr[i].snippet;
    if (rc == VG_OK && missing)
        rc = prep(ws, fq ? "SELECT " SNIPPET " FROM fts WHERE fts MATCH ?1 AND rowid = ?2"
                         : "SELECT substr(body, 1, 120) FROM fts WHERE rowid = ?2", &sn, err);
    for (size_t i = 0; rc == VG_OK && missing && i < *n; i++) {
        if (arr[i].snippet)
            continue;
        if (fq)
            sqlite3_bind_text(sn, 1, fq, -1, SQLITE_STATIC);
        sqlite3_bind_int64(sn, 2, arr[i].rowid);
        arr[i].snippet = sqlite3_step(sn) == SQLITE_ROW ? col_dup(sn, 0) : vg_xstrdup("");
        sqlite3_reset(sn);
    }
    sqlite3_finalize(sn);
    free(fq);
    free(key);
    vg_case_query_clear(&q);
    *items = arr;
    return rc;
}

void vg_hits_free(vg_hit *h, size_t n)
{
    for (size_t i = 0; h && i < n; i++)
        free(h[i].snippet);
    free(h);
}

vg_rc vg_case_counts(vg_ws *ws, vg_counts *out, vg_err *err)
{
    /* Open cases are counted on their ranges of cases_queue (status, severity): the
     * cost follows the open queue, not the years of closed cases beside it; a plain
     * count steps the index for half what a GROUP BY did. All cases: SQLite
     * counts a table by its b-tree pages, not row by row. */
    static const char sql[] =
        "SELECT (SELECT count(*) FROM cases),"
        " (SELECT count(*) FROM cases WHERE " WS_OPEN_STATUSES "),"
        " (SELECT count(*) FROM cases WHERE status = 'new'),"
        " (SELECT count(*) FROM cases WHERE " WS_OPEN_STATUSES " AND severity = ?1)";
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt_text(ws, sql, &st, err);
    if (rc)
        return rc;
    memset(out, 0, sizeof *out);
    sqlite3_bind_int(st, 1, VG_SEV_CRITICAL);
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc = ws_dberr(ws, err, "counting cases");
    } else {
        out->cases = sqlite3_column_int64(st, 0);
        out->open = sqlite3_column_int64(st, 1);
        out->new_ = sqlite3_column_int64(st, 2);
        out->critical_open = sqlite3_column_int64(st, 3);
    }
    sqlite3_reset(st);
    return rc;
}

vg_rc vg_counts_get(vg_ws *ws, vg_counts *out, vg_err *err)
{
    vg_rc rc = vg_case_counts(ws, out, err);
    if (rc)
        return rc;
    sqlite3_stmt *st = NULL;
    if ((rc = prep(ws,
                   "SELECT (SELECT count(*) FROM alerts),"
                   " (SELECT count(*) FROM alerts WHERE status = 'new'),"
                   " (SELECT coalesce(max(seq), 0) FROM ops)", &st, err)))
        return rc;
    if (sqlite3_step(st) == SQLITE_ROW) {
        out->alerts = sqlite3_column_int64(st, 0);
        out->inbox = sqlite3_column_int64(st, 1);
        out->ops = sqlite3_column_int64(st, 2);
    } else {
        rc = ws_dberr(ws, err, "counting");
    }
    sqlite3_finalize(st);
    return rc;
}
