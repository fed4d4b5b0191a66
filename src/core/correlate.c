/*
 * correlate.c — inbox alerts into cases (see correlate.h).
 *
 * The alerts of one call are held in memory with the inbox alerts they touch, and
 * so are the open cases (id, creation time and ref, some 48 bytes each);
 * everything else is found through two indexes: artifacts(type, value, removed,
 * case_id) for the open cases an alert touches, alert_keys(key, t) for the inbox
 * alerts that share a key within the window. Groups are the connected components of
 * a union-find over those alerts, so the cost follows the chunk, not the workspace.
 */
#include "vigil/correlate.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "vigil/entity.h"
#include "vigil/ioc.h"
#include "vigil/model.h"
#include "vigil/op.h"

#define DAY_MS (24 * 3600 * 1000LL)
#define MAX_ARTIFACTS 200     /* a correlated case receives at most this many */
/* MAX_NEIGHBOURS 2000: inbox alerts read per shared key (in join_key's SQL) */

typedef struct val {
    int type;
    char *value;
} val;

typedef struct vals {
    val *v;
    size_t n, cap;
} vals;

/* An inbox alert taking part in this call. */
typedef struct cal {
    int64_t rowid, t;
    vg_id id;
    int sev;
    char *title, *entities, *techniques;
    bool loaded, chunk, linked;
    int parent;
} cal;

typedef struct corr {
    vg_ws *ws;
    vg_correlation *co;
    vg_err *err;
    cal *a;
    size_t n, cap;
    int *slots; /* rowid -> index + 1, open addressing */
    size_t nslots;
    vg_id *created; /* cases made by this call (not "updated") */
    size_t ncreated, capcreated;
    struct holder *hold; /* open_case_for's rows for one value */
    size_t caphold;
    const struct holder *open; /* the open cases, by id (co->open, see open_cases) */
    size_t nopen;
    struct vg_infra_set *infra; /* co->infra_set, see infra_load */
} corr;

/* The values the workspace knows as shared infrastructure, sorted, as this batch
 * read them (meta 'infra:KEY'). */
struct vg_infra_set {
    char **keys;
    size_t n;
    int64_t batch; /* ws->batches when read; -1: stale */
};

static int str_cmp(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

static vg_rc infra_load(corr *c)
{
    struct vg_infra_set *is = c->co->infra_set;
    if (!is)
        is = c->co->infra_set = vg_xcalloc(1, sizeof *is);
    c->infra = is;
    if (is->batch == c->ws->batches)
        return VG_OK;
    for (size_t i = 0; i < is->n; i++)
        free(is->keys[i]);
    is->n = 0;
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt_text(c->ws, "SELECT substr(key, 7) FROM meta WHERE key >= 'infra:'"
                                   " AND key < 'infra;' ORDER BY key", &st, c->err);
    if (rc)
        return rc;
    size_t cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (is->n == cap) {
            cap = cap ? cap * 2 : 16;
            is->keys = vg_xrealloc(is->keys, cap * sizeof *is->keys);
        }
        is->keys[is->n++] = vg_xstrdup((const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_reset(st);
    is->batch = c->ws->batches;
    return VG_OK;
}

static bool is_infra(const corr *c, const char *key)
{
    return c->infra && c->infra->n &&
           bsearch(&key, c->infra->keys, c->infra->n, sizeof *c->infra->keys, str_cmp);
}

/* ---- small collections ---------------------------------------------------------- */

static void put_val(void *ud, int type, const char *value)
{
    vals *vs = ud;
    if (vs->n == vs->cap) {
        vs->cap = vs->cap ? vs->cap * 2 : 16;
        vs->v = vg_xrealloc(vs->v, vs->cap * sizeof *vs->v);
    }
    vs->v[vs->n++] = (val){type, vg_xstrdup(value)};
}

static void vals_free(vals *vs)
{
    for (size_t i = 0; i < vs->n; i++)
        free(vs->v[i].value);
    free(vs->v);
    *vs = (vals){0};
}

static int val_cmp(const void *x, const void *y)
{
    const val *a = x, *b = y;
    return a->type != b->type ? a->type - b->type : strcmp(a->value, b->value);
}

/* The entities of an alert's JSON text, appended to vs. */
static void entities_of(const char *json, vals *vs)
{
    cJSON *e = cJSON_Parse(json ? json : "{}");
    if (e)
        vg_entity_each(e, put_val, vs);
    cJSON_Delete(e);
}

static char *key_of(const val *v)
{
    const char *t = vg_enum_name(&VG_ARTIFACT_TYPE, v->type);
    size_t n = strlen(t) + strlen(v->value) + 2;
    char *k = vg_xmalloc(n);
    snprintf(k, n, "%s:%s", t, v->value);
    return k;
}

/* ---- the alerts of this call ---------------------------------------------------- */

static size_t slot_of(const corr *c, int64_t rowid)
{
    size_t h = (size_t)((uint64_t)rowid * 0x9E3779B97F4A7C15ull) & (c->nslots - 1);
    while (c->slots[h] && c->a[c->slots[h] - 1].rowid != rowid)
        h = (h + 1) & (c->nslots - 1);
    return h;
}

/* The index of the alert with this rowid, added (not yet loaded) when new. */
static int node(corr *c, int64_t rowid)
{
    if ((c->n + 1) * 2 > c->nslots) {
        free(c->slots);
        c->nslots = c->nslots ? c->nslots * 2 : 256;
        c->slots = vg_xcalloc(c->nslots, sizeof *c->slots);
        for (size_t i = 0; i < c->n; i++)
            c->slots[slot_of(c, c->a[i].rowid)] = (int)i + 1;
    }
    size_t h = slot_of(c, rowid);
    if (c->slots[h])
        return c->slots[h] - 1;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->a = vg_xrealloc(c->a, c->cap * sizeof *c->a);
    }
    c->a[c->n] = (cal){.rowid = rowid, .parent = (int)c->n};
    c->slots[h] = (int)++c->n;
    return (int)c->n - 1;
}


#define ALERT_COLS "rowid, id, event_time, severity, title, entities, techniques, status"

/* Take the row st is on (ALERT_COLS) into x unless x has it; is it still new? */
static bool take(sqlite3_stmt *st, cal *x)
{
    if (!x->loaded) {
        col_id(st, 1, x->id);
        x->t = sqlite3_column_int64(st, 2);
        x->sev = sqlite3_column_int(st, 3);
        x->title = col_dup(st, 4);
        x->entities = col_dup(st, 5);
        x->techniques = col_dup(st, 6);
        x->loaded = true;
    }
    return strcmp((const char *)sqlite3_column_text(st, 7), "new") == 0;
}

/* Read an alert's row into x (by rowid); *inbox says whether it is still new. */
static vg_rc load(corr *c, cal *x, bool *inbox)
{
    static const char sql[] = "SELECT " ALERT_COLS " FROM alerts WHERE rowid = ?";
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt_text(c->ws, sql, &st, c->err);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, x->rowid);
    *inbox = sqlite3_step(st) == SQLITE_ROW && take(st, x);
    sqlite3_reset(st);
    return VG_OK;
}

static int find(corr *c, int i)
{
    while (c->a[i].parent != i) {
        c->a[i].parent = c->a[c->a[i].parent].parent;
        i = c->a[i].parent;
    }
    return i;
}

static void unite(corr *c, int i, int j)
{
    i = find(c, i);
    j = find(c, j);
    if (i != j) /* the smaller index is the root, so the result is deterministic */
        c->a[i < j ? j : i].parent = i < j ? i : j;
}

/* ---- writes --------------------------------------------------------------------- */

static vg_rc apply(corr *c, vg_op *op)
{
    vg_rc rc = vg_apply(c->ws, op, c->err);
    vg_op_free(op);
    return rc;
}

/* Sets of case ids, kept sorted: every linked alert looks its case up. */
static size_t id_at(const vg_id *ids, size_t n, const char *id) /* first >= id */
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (strcmp(ids[mid], id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool in_ids(const vg_id *ids, size_t n, const char *id)
{
    size_t i = id_at(ids, n, id);
    return i < n && strcmp(ids[i], id) == 0;
}

static void add_id(vg_id **ids, size_t *n, size_t *cap, const char *id)
{
    size_t i = id_at(*ids, *n, id);
    if (i < *n && strcmp((*ids)[i], id) == 0)
        return;
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        *ids = vg_xrealloc(*ids, *cap * sizeof **ids);
    }
    memmove(*ids + i + 1, *ids + i, (*n - i) * sizeof **ids);
    snprintf((*ids)[i], sizeof(vg_id), "%s", id);
    (*n)++;
}

/* ---- rule 1: an alert that touches an open case joins it ------------------------ */

/* An open case holding a value, as open_case_for ranks them. */
typedef struct holder {
    vg_id id;
    int64_t created, ref;
} holder;

/* Whether a was opened after b: by creation time, then by ref, which this
 * workspace gives in the order cases reach it (ids are random within a
 * millisecond, and import opens many cases in one). */
static bool newer(int64_t a_created, int64_t a_ref, int64_t b_created, int64_t b_ref)
{
    return a_created != b_created ? a_created > b_created : a_ref > b_ref;
}

static int holder_cmp(const void *x, const void *y) /* newest first */
{
    const holder *a = x, *b = y;
    return newer(a->created, a->ref, b->created, b->ref) ? -1
           : newer(b->created, b->ref, a->created, a->ref) ? 1 : 0;
}

static int holder_id_cmp(const void *x, const void *y)
{
    return strcmp(((const holder *)x)->id, ((const holder *)y)->id);
}

/* The open cases with their creation times and refs, sorted by id, as this batch
 * read them. Rule 1 adds alerts and artifacts to cases but opens and closes none,
 * so the list holds until rule 2 opens a case (make_case drops it) or the batch
 * ends, and each value's lookup reads only the artifacts index, not the cases
 * table. */
struct vg_open_cases {
    holder *h;
    size_t n;
    int64_t batch; /* ws->batches when read; -1: stale */
};

static vg_rc open_cases(corr *c)
{
    static const char sql[] = "SELECT id, created_at, ref FROM cases WHERE status != 'closed'";
    struct vg_open_cases *oc = c->co->open;
    if (!oc)
        oc = c->co->open = vg_xcalloc(1, sizeof *oc);
    if (oc->batch != c->ws->batches) {
        sqlite3_stmt *st = NULL; /* once per batch: not worth a slot in the statement cache */
        if (sqlite3_prepare_v2(c->ws->db, sql, -1, &st, NULL) != SQLITE_OK)
            return ws_dberr(c->ws, c->err, "reading the open cases");
        size_t cap = 0;
        int s;
        oc->n = 0;
        while ((s = sqlite3_step(st)) == SQLITE_ROW) {
            if (oc->n == cap) {
                cap = cap ? cap * 2 : 256;
                oc->h = vg_xrealloc(oc->h, cap * sizeof *oc->h);
            }
            col_id(st, 0, oc->h[oc->n].id);
            oc->h[oc->n].created = sqlite3_column_int64(st, 1);
            oc->h[oc->n++].ref = sqlite3_column_int64(st, 2);
        }
        sqlite3_finalize(st);
        if (s != SQLITE_DONE)
            return ws_dberr(c->ws, c->err, "reading the open cases");
        if (oc->n > 1)
            qsort(oc->h, oc->n, sizeof *oc->h, holder_id_cmp);
        oc->batch = c->ws->batches;
    }
    c->open = oc->h;
    c->nopen = oc->n;
    return VG_OK;
}

/* The open case holding the most of these values (then the newest), or "". For
 * each value, the 16 newest open cases holding it count (a value on every case
 * says nothing). The cases holding a value come from the artifacts_value index
 * and their rows (schema step 7), their creation times and refs from c->open; they are
 * ranked here rather than by ORDER BY, for which SQLite would build a temporary
 * b-tree for every value. Refs are unique, so the order is total. */
static vg_rc open_case_for(corr *c, const vals *vs, int64_t t, vg_id out)
{
    /* A value an alert brought counts within the window of its sightings there
     * ([first seen - w, last seen + w]): a case does not take in every later
     * recurrence of an alert that once touched it. One the analyst put on the case
     * is a standing watch, whenever the alert. */
    static const char sql[] =
        "SELECT case_id FROM artifacts WHERE type = ?1 AND value = ?2 AND removed = 0"
        " AND (source != 'alert' OR ?3 BETWEEN first_seen - ?4 AND last_seen + ?4)";
    int64_t win = c->co->window_ms > 0 ? c->co->window_ms : DAY_MS;
    struct { holder h; int hits; } best[16];
    int nbest = 0;
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt_text(c->ws, sql, &st, c->err);
    if (rc)
        return rc;
    if ((rc = infra_load(c)))
        return rc;
    for (size_t i = 0; i < vs->n; i++) {
        if (!vg_entity_is_key(vs->v[i].type))
            continue;
        if (c->infra->n) { /* shared infrastructure joins nothing */
            char *k = key_of(&vs->v[i]);
            bool skip = is_infra(c, k);
            free(k);
            if (skip)
                continue;
        }
        sqlite3_bind_text(st, 1, vg_enum_name(&VG_ARTIFACT_TYPE, vs->v[i].type), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, vs->v[i].value, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, t);
        sqlite3_bind_int64(st, 4, win);
        size_t nh = 0;
        while (sqlite3_step(st) == SQLITE_ROW) {
            holder key;
            col_id(st, 0, key.id);
            const holder *h = c->nopen ? bsearch(&key, c->open, c->nopen, sizeof *c->open,
                                                 holder_id_cmp) : NULL;
            if (!h)
                continue; /* a closed case */
            if (nh == c->caphold) {
                c->caphold = c->caphold ? c->caphold * 2 : 32;
                c->hold = vg_xrealloc(c->hold, c->caphold * sizeof *c->hold);
            }
            c->hold[nh++] = *h;
        }
        sqlite3_reset(st);
        if (nh > 1)
            qsort(c->hold, nh, sizeof *c->hold, holder_cmp);
        for (size_t k = 0; k < nh && k < 16; k++) {
            const char *id = c->hold[k].id;
            int j = 0;
            while (j < nbest && strcmp(best[j].h.id, id) != 0)
                j++;
            if (j == nbest) {
                if (nbest == 16)
                    continue;
                best[j].h = c->hold[k];
                best[j].hits = 0;
                nbest++;
            }
            best[j].hits++;
        }
    }
    out[0] = '\0';
    int w = -1;
    for (int j = 0; j < nbest; j++)
        if (w < 0 || best[j].hits > best[w].hits ||
            (best[j].hits == best[w].hits && newer(best[j].h.created, best[j].h.ref,
                                                    best[w].h.created, best[w].h.ref)))
            w = j;
    if (w >= 0)
        memcpy(out, best[w].h.id, sizeof(vg_id));
    return VG_OK;
}

/* An alert joined case_id (its values became the case's artifacts in the door):
 * counted. */
static void joined(corr *c, const char *case_id)
{
    c->co->alerts_linked++;
    if (!in_ids(c->created, c->ncreated, case_id))
        add_id(&c->co->updated, &c->co->nupdated, &c->co->capupdated, case_id);
}

static vg_rc link_to_open_cases(corr *c, int *order, size_t n)
{
    vg_rc rc0 = n ? open_cases(c) : VG_OK;
    if (rc0 || !c->nopen)
        return rc0; /* no open case: nothing to join */
    for (size_t k = 0; k < n; k++) {
        cal *x = &c->a[order[k]];
        vals vs = {0};
        entities_of(x->entities, &vs);
        vg_id case_id;
        vg_rc rc = open_case_for(c, &vs, x->t, case_id);
        if (rc == VG_OK && case_id[0]) {
            if ((rc = apply(c, vg_op_alert_link(x->id, case_id))) == VG_OK)
                joined(c, case_id);
            x->linked = true;
        }
        vals_free(&vs);
        if (rc)
            return rc;
    }
    return VG_OK;
}

/* ---- rule 2: inbox alerts that share a key within the window are one case ------- */

/* An index with a sort key (a time, or a component's root). */
typedef struct timed {
    int64_t t;
    int i;
} timed;

static int timed_cmp(const void *x, const void *y)
{
    const timed *a = x, *b = y;
    return a->t != b->t ? (a->t > b->t) - (a->t < b->t) : (a->i > b->i) - (a->i < b->i);
}

typedef struct span {
    char *key;
    int64_t lo, hi; /* event times of this call's alerts that carry it */
} span;

static int span_cmp(const void *x, const void *y)
{
    return strcmp(((const span *)x)->key, ((const span *)y)->key);
}

/* A value found to be shared infrastructure: remembered by the workspace (for
 * rule 1, in this batch and later imports) and counted for the summary. */
static vg_rc infra_found(corr *c, const char *key)
{
    char mk[600];
    snprintf(mk, sizeof mk, "infra:%.560s", key);
    vg_rc rc = ws_meta_put(c->ws, mk, "1", "remembering shared infrastructure", c->err);
    if (rc)
        return rc;
    if (c->co->infra_found < 8) {
        char *d = c->co->infra[c->co->infra_found];
        snprintf(d, sizeof c->co->infra[0], "%.150s", key);
        char *colon = strchr(d, ':');
        if (colon)
            *colon = ' ';
    }
    c->co->infra_found++;
    if (c->infra) /* rule 1's view of it */
        c->infra->batch = -1;
    return VG_OK;
}

/* Join the inbox alerts that carry key with event times in [lo - w, hi + w], unless
 * alerts of more than infra_hosts distinct hosts carry it there. */
static vg_rc join_key(corr *c, const span *s, int64_t w)
{
    static const char sql[] =
        "SELECT k.alert, k.t, NULL FROM alert_keys k JOIN alerts a ON a.rowid = k.alert"
        " WHERE k.key = ?1 AND k.t BETWEEN ?2 AND ?3 AND a.status = 'new'"
        " ORDER BY k.t, k.alert LIMIT 2000"; /* MAX_NEIGHBOURS */
    static const char sql_hosts[] =
        "SELECT k.alert, k.t, json_extract(a.entities, '$.host') FROM alert_keys k"
        " JOIN alerts a ON a.rowid = k.alert"
        " WHERE k.key = ?1 AND k.t BETWEEN ?2 AND ?3 AND a.status = 'new'"
        " ORDER BY k.t, k.alert LIMIT 2000";
    bool is_host = strncmp(s->key, "hostname:", 9) == 0;
    sqlite3_stmt *st;
    vg_rc rc = infra_load(c);
    if (rc || is_infra(c, s->key)) /* known as infrastructure already */
        return rc;
    if ((rc = ws_stmt_text(c->ws, is_host ? sql : sql_hosts, &st, c->err)))
        return rc;
    sqlite3_bind_text(st, 1, s->key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, s->lo - w);
    sqlite3_bind_int64(st, 3, s->hi + w);
    int limit = c->co->infra_hosts > 0 ? c->co->infra_hosts : VG_INFRA_HOSTS;
    char **hosts = vg_xcalloc((size_t)limit + 1, sizeof *hosts);
    int nhosts = 0;
    size_t nrows = 0, caprows = 0;
    timed *rows = NULL;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (nrows == caprows) {
            caprows = caprows ? caprows * 2 : 64;
            rows = vg_xrealloc(rows, caprows * sizeof *rows);
        }
        rows[nrows++] = (timed){sqlite3_column_int64(st, 1), node(c, sqlite3_column_int64(st, 0))};
        const char *h = (const char *)sqlite3_column_text(st, 2);
        if (h && nhosts <= limit) {
            int k = 0;
            while (k < nhosts && strcmp(hosts[k], h) != 0)
                k++;
            if (k == nhosts)
                hosts[nhosts++] = vg_xstrdup(h);
        }
    }
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        rc = ws_dberr(c->ws, c->err, "reading the alerts that share a value");
    if (rc == VG_OK && nhosts > limit) {
        rc = infra_found(c, s->key);
    } else if (rc == VG_OK) {
        for (size_t r = 1; r < nrows; r++)
            if (rows[r].t - rows[r - 1].t <= w)
                unite(c, rows[r - 1].i, rows[r].i);
    }
    for (int k = 0; k < nhosts; k++)
        free(hosts[k]);
    free(hosts);
    free(rows);
    return rc;
}

typedef struct titled {
    const char *title;
    int sev;
    int64_t t;
} titled;

static int titled_cmp(const void *x, const void *y)
{
    const titled *a = x, *b = y;
    return strcmp(a->title, b->title);
}

/* The title of the group: the most frequent among its most severe alerts (a case
 * is named for what makes it matter, not for its noisiest low alert; ties: the
 * earlier); *count is how many of all its alerts bear it. */
static const char *dominant(const corr *c, const int *m, size_t n, int *count)
{
    int top = -1;
    for (size_t i = 0; i < n; i++)
        top = c->a[m[i]].sev > top ? c->a[m[i]].sev : top;
    titled *ts = vg_xmalloc(n * sizeof *ts);
    size_t nt = 0;
    for (size_t i = 0; i < n; i++)
        if (c->a[m[i]].sev == top)
            ts[nt++] = (titled){c->a[m[i]].title, c->a[m[i]].sev, c->a[m[i]].t};
    qsort(ts, nt, sizeof *ts, titled_cmp);
    const char *best = NULL;
    int bn = 0, bsev = -1;
    int64_t bt = 0;
    for (size_t i = 0; i < nt;) {
        size_t j = i;
        int sev = -1;
        int64_t t = INT64_MAX;
        for (; j < nt && strcmp(ts[j].title, ts[i].title) == 0; j++) {
            sev = ts[j].sev > sev ? ts[j].sev : sev;
            t = ts[j].t < t ? ts[j].t : t;
        }
        int cnt = (int)(j - i);
        if (cnt > bn || (cnt == bn && (sev > bsev || (sev == bsev && t < bt)))) {
            best = ts[i].title;
            bn = cnt;
            bsev = sev;
            bt = t;
        }
        i = j;
    }
    free(ts);
    *count = 0;
    for (size_t i = 0; best && i < n; i++)
        *count += strcmp(c->a[m[i]].title, best) == 0;
    return best;
}

static int int_cmp(const void *x, const void *y)
{
    int a = *(const int *)x, b = *(const int *)y;
    return (a > b) - (a < b);
}

/* One new case for a group of inbox alerts. */
static vg_rc make_case(corr *c, int *m, size_t n)
{
    qsort(m, n, sizeof *m, int_cmp);
    int sev = 0, same;
    int64_t first = INT64_MAX, last = INT64_MIN;
    cJSON *techs = cJSON_CreateArray();
    vals all = {0};
    for (size_t i = 0; i < n; i++) {
        const cal *x = &c->a[m[i]];
        sev = x->sev > sev ? x->sev : sev;
        first = x->t < first ? x->t : first;
        last = x->t > last ? x->t : last;
        cJSON *tl = cJSON_Parse(x->techniques ? x->techniques : "[]");
        const cJSON *it;
        cJSON_ArrayForEach(it, tl) {
            bool seen = false;
            const cJSON *have;
            cJSON_ArrayForEach(have, techs)
                seen = seen || (cJSON_IsString(it) && strcmp(have->valuestring, it->valuestring) == 0);
            if (cJSON_IsString(it) && !seen && cJSON_GetArraySize(techs) < 64)
                cJSON_AddItemToArray(techs, cJSON_CreateString(it->valuestring));
        }
        cJSON_Delete(tl);
        entities_of(x->entities, &all);
    }
    /* Values every artifact list needs once; the shared ones say why. */
    if (all.n > 1)
        qsort(all.v, all.n, sizeof *all.v, val_cmp);
    vals uniq = {0};
    char shared[512] = "";
    size_t slen = 0;
    int nshared = 0;
    for (size_t i = 0; i < all.n;) {
        size_t j = i;
        while (j < all.n && val_cmp(&all.v[i], &all.v[j]) == 0)
            j++;
        put_val(&uniq, all.v[i].type, all.v[i].value);
        if (j - i > 1 && vg_entity_is_key(all.v[i].type) && nshared < 5 && slen < 400) {
            int w = snprintf(shared + slen, sizeof shared - slen, "%s%s %s", nshared ? ", " : "",
                             vg_enum_name(&VG_ARTIFACT_TYPE, all.v[i].type), all.v[i].value);
            slen = w > 0 && slen + (size_t)w < sizeof shared ? slen + (size_t)w : sizeof shared - 1;
            nshared++;
        }
        i = j;
    }
    vals_free(&all);

    char title[300], desc[900];
    const char *dom = dominant(c, m, n, &same);
    if ((size_t)same == n)
        snprintf(title, sizeof title, "%.200s", dom);
    else
        snprintf(title, sizeof title, "%.200s and %zu related alerts", dom, n - (size_t)same);
    snprintf(desc, sizeof desc,
             "Opened by correlation: %zu alerts within %" PRId64 " h of each other sharing %s.",
             n, (c->co->window_ms + 3599999) / 3600000, shared[0] ? shared : "a host, user or indicator");

    vg_op *create = vg_op_case_create(title, vg_enum_name(&VG_SEVERITY, sev), desc);
    cJSON_AddItemToObject(create->payload, "techniques", techs);
    cJSON *tags = cJSON_AddArrayToObject(create->payload, "tags");
    cJSON_AddItemToArray(tags, cJSON_CreateString("correlated"));
    vg_id case_id;
    memcpy(case_id, create->target, sizeof case_id);
    vg_rc rc = apply(c, create);
    if (rc == VG_OK) {
        add_id(&c->created, &c->ncreated, &c->capcreated, case_id);
        c->co->cases_created++;
        if (c->co->open)
            c->co->open->batch = -1; /* one more open case */
    }
    /* linked in time order, so that each value's artifact is first seen with the
     * earliest alert that holds it */
    timed *byt = vg_xmalloc(n * sizeof *byt);
    for (size_t i = 0; i < n; i++)
        byt[i] = (timed){c->a[m[i]].t, m[i]};
    qsort(byt, n, sizeof *byt, timed_cmp);
    for (size_t i = 0; rc == VG_OK && i < n; i++) {
        rc = apply(c, vg_op_alert_link(c->a[byt[i].i].id, case_id));
        c->a[byt[i].i].linked = true;
        c->co->alerts_linked++;
    }
    free(byt);
    vals_free(&uniq);
    return rc;
}

static vg_rc group_inbox(corr *c, int *order, size_t n)
{
    int64_t w = c->co->window_ms;
    span *sp = NULL;
    size_t nsp = 0, capsp = 0;
    for (size_t k = 0; k < n; k++) {
        const cal *x = &c->a[order[k]];
        if (x->linked)
            continue;
        vals vs = {0};
        entities_of(x->entities, &vs);
        for (size_t i = 0; i < vs.n; i++) {
            if (!vg_entity_is_key(vs.v[i].type))
                continue;
            if (nsp == capsp) {
                capsp = capsp ? capsp * 2 : 64;
                sp = vg_xrealloc(sp, capsp * sizeof *sp);
            }
            sp[nsp++] = (span){key_of(&vs.v[i]), x->t, x->t};
        }
        vals_free(&vs);
    }
    /* One query per distinct key, over the span of times this call holds it. */
    if (nsp > 1)
        qsort(sp, nsp, sizeof *sp, span_cmp);
    vg_rc rc = VG_OK;
    for (size_t i = 0; i < nsp;) {
        size_t j = i + 1;
        span s = sp[i];
        for (; j < nsp && strcmp(sp[j].key, s.key) == 0; j++) {
            s.lo = sp[j].lo < s.lo ? sp[j].lo : s.lo;
            s.hi = sp[j].hi > s.hi ? sp[j].hi : s.hi;
        }
        if (rc == VG_OK)
            rc = join_key(c, &s, w);
        i = j;
    }
    for (size_t i = 0; i < nsp; i++)
        free(sp[i].key);
    free(sp);
    if (rc)
        return rc;

    /* The components that hold an alert of this call and at least one more: the
     * alerts ordered by their root, one run per component. */
    size_t total = c->n;
    timed *byroot = vg_xmalloc((total ? total : 1) * sizeof *byroot);
    int *members = vg_xmalloc((total ? total : 1) * sizeof *members);
    bool *wanted = vg_xcalloc(total ? total : 1, sizeof *wanted);
    size_t nb = 0;
    for (size_t i = 0; i < total; i++)
        if (c->a[i].chunk && !c->a[i].linked)
            wanted[find(c, (int)i)] = true;
    for (size_t i = 0; i < total; i++) {
        int r = find(c, (int)i);
        if (wanted[r] && !c->a[i].linked)
            byroot[nb++] = (timed){r, (int)i};
    }
    if (nb > 1)
        qsort(byroot, nb, sizeof *byroot, timed_cmp);
    for (size_t i = 0; rc == VG_OK && i < nb;) {
        size_t j = i, m = 0;
        for (; j < nb && byroot[j].t == byroot[i].t && rc == VG_OK; j++) {
            cal *x = &c->a[byroot[j].i];
            bool inbox = true;
            if (!x->chunk)
                rc = load(c, x, &inbox);
            if (inbox)
                members[m++] = byroot[j].i;
        }
        if (rc == VG_OK && m >= 2)
            rc = make_case(c, members, m);
        i = j;
    }
    free(members);
    free(byroot);
    free(wanted);
    return rc;
}

/* ---- the entry point ------------------------------------------------------------ */

vg_rc vg_correlate(vg_ws *ws, const vg_id *alerts, size_t n, vg_correlation *co, vg_err *err)
{
    if (!ws->in_batch)
        return vg_fail(err, VG_EINVAL, "correlation runs inside a batch");
    if (co->window_ms <= 0)
        co->window_ms = DAY_MS;
    corr c = {.ws = ws, .co = co, .err = err};
    vg_rc rc = ws_flush_keys(ws, err); /* rule 2 reads them */
    if (rc)
        return rc;
    static const char by_id[] = "SELECT " ALERT_COLS " FROM alerts WHERE id = ?";
    sqlite3_stmt *st;
    if ((rc = ws_stmt_text(ws, by_id, &st, err)))
        return rc;
    int *order = vg_xmalloc((n ? n : 1) * sizeof *order);
    size_t norder = 0;
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_text(st, 1, alerts[i], -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            int x = node(&c, sqlite3_column_int64(st, 0));
            /* the same alert twice (repeats folded into it) counts once */
            if (!c.a[x].chunk && take(st, &c.a[x])) {
                c.a[x].chunk = true;
                order[norder++] = x;
            }
        }
        sqlite3_reset(st);
    }
    timed *ts = vg_xmalloc((norder ? norder : 1) * sizeof *ts);
    for (size_t i = 0; i < norder; i++)
        ts[i] = (timed){c.a[order[i]].t, order[i]};
    qsort(ts, norder, sizeof *ts, timed_cmp);
    for (size_t i = 0; i < norder; i++)
        order[i] = ts[i].i;
    free(ts);
    rc = link_to_open_cases(&c, order, norder);
    if (rc == VG_OK)
        rc = group_inbox(&c, order, norder);
    for (size_t i = 0; i < c.n; i++) {
        free(c.a[i].title);
        free(c.a[i].entities);
        free(c.a[i].techniques);
    }
    free(c.a);
    free(c.slots);
    free(c.created);
    free(c.hold);
    free(order);
    return rc;
}

vg_rc vg_correlate_add(vg_ws *ws, vg_op *op, vg_correlation *co, bool *joined_out,
                       vg_err *err)
{
    *joined_out = false;
    if (!ws->in_batch)
        return vg_fail(err, VG_EINVAL, "correlation runs inside a batch");
    corr c = {.ws = ws, .co = co, .err = err};
    const cJSON *p = op->payload;
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(p, "source");
    const cJSON *ref = cJSON_GetObjectItemCaseSensitive(p, "source_ref");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(p, "event_time");
    const cJSON *ent = cJSON_GetObjectItemCaseSensitive(p, "entities");
    vg_id case_id = "";
    vals vs = {0};
    bool repeat = false;
    vg_rc rc = VG_OK;
    /* A repeat folds into its alert, which is correlated as itself: the door
     * would not move a stored alert for an alert.add. */
    if (cJSON_IsString(src) && cJSON_IsString(ref)) {
        ws_alert_ref have;
        if ((rc = ws_alert_by_ref(ws, src->valuestring, ref->valuestring, &have, err)))
            return rc;
        repeat = have.rowid != 0;
    }
    if (!repeat && cJSON_IsObject(ent) && cJSON_IsNumber(t) &&
        !cJSON_GetObjectItemCaseSensitive(p, "case")) {
        vg_entity_each(ent, put_val, &vs);
        if ((rc = open_cases(&c)) == VG_OK && c.nopen)
            rc = open_case_for(&c, &vs, (int64_t)t->valuedouble, case_id);
        if (rc == VG_OK && case_id[0]) {
            cJSON_AddStringToObject(op->payload, "case", case_id);
            cJSON_AddTrueToObject(op->payload, "artifacts");
        }
    }
    if (rc == VG_OK)
        rc = vg_apply(ws, op, err);
    if (rc == VG_OK && case_id[0]) {
        *joined_out = true;
        joined(&c, case_id);
    }
    vals_free(&vs);
    free(c.hold);
    return rc;
}

void vg_correlation_free(vg_correlation *co)
{
    if (co->infra_set) {
        for (size_t i = 0; i < co->infra_set->n; i++)
            free(co->infra_set->keys[i]);
        free(co->infra_set->keys);
        free(co->infra_set);
        co->infra_set = NULL;
    }
    if (co->open)
        free(co->open->h);
    free(co->open);
    co->open = NULL;
    free(co->updated);
    co->updated = NULL;
    co->nupdated = co->capupdated = 0;
}
