/*
 * graph.c — building the investigation graph (contract in graph.h).
 *
 * Workload: a graph is built when an analyst opens it, for one case and its
 * neighbourhood (tens of nodes) up to the whole workspace cut at a few thousand
 * nodes. Around roots it is a breadth-first walk: a case's values come from its
 * artifacts (artifacts(case_id, type, value) unique index) and the host and user
 * entities of its alerts (alerts_case index); the cases carrying a value come from
 * the artifacts_value index on (type, value) and, for what alerts name, the
 * alert_keys index (schema step 3). The whole-workspace graph reads the
 * filtered cases newest first (so a cut at max_nodes keeps recent work) and their
 * values the same way. Nothing loads every artifact row: the cost is what the
 * picture shows.
 *
 * A host or user named only in alert entities bridges to every case with an alert
 * that names it, found through alert_keys, as well as to the cases holding it as an
 * artifact.
 */
#include "internal.h"
#include "vigil/graph.h"
#include "vigil/intel.h"
#include "vigil/ioc.h"
#include "vigil/model.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a string-keyed index of nodes --------------------------------------------- */

typedef struct graph_index {
    char **keys;
    int *vals;
    size_t cap, n;
} graph_index;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static int *index_slot(graph_index *ix, const char *key, bool *found)
{
    size_t mask = ix->cap - 1;
    for (size_t i = hash_str(key) & mask;; i = (i + 1) & mask) {
        if (!ix->keys[i]) {
            *found = false;
            return &ix->vals[i];
        }
        if (strcmp(ix->keys[i], key) == 0) {
            *found = true;
            return &ix->vals[i];
        }
    }
}

static void index_grow(graph_index *ix)
{
    graph_index old = *ix;
    ix->cap = old.cap ? old.cap * 2 : 256;
    ix->keys = vg_xcalloc(ix->cap, sizeof *ix->keys);
    ix->vals = vg_xcalloc(ix->cap, sizeof *ix->vals);
    for (size_t i = 0; i < old.cap; i++) {
        if (!old.keys[i])
            continue;
        bool found;
        int *slot = index_slot(ix, old.keys[i], &found);
        ix->keys[slot - ix->vals] = old.keys[i];
        *slot = old.vals[i];
    }
    free(old.keys);
    free(old.vals);
}

static void index_free(graph_index *ix)
{
    if (!ix)
        return;
    for (size_t i = 0; i < ix->cap; i++)
        free(ix->keys[i]);
    free(ix->keys);
    free(ix->vals);
    free(ix);
}

static void case_key(const char *id, char *out, size_t outsz) { snprintf(out, outsz, "c|%s", id); }

static char *value_key(int type, const char *value)
{
    size_t n = strlen(value) + 16;
    char *k = vg_xmalloc(n);
    snprintf(k, n, "v|%d|%s", type, value);
    return k;
}

static char *intel_key(const char *feed)
{
    size_t n = strlen(feed) + 3;
    char *k = vg_xmalloc(n);
    snprintf(k, n, "i|%s", feed);
    return k;
}

static int index_get(const vg_graph *g, const char *key)
{
    if (!g->idx || !g->idx->cap)
        return -1;
    bool found;
    int *slot = index_slot(g->idx, key, &found);
    return found ? *slot : -1;
}

/* The node for key, or a new zeroed node of kind (*added says which). */
static int node_get(vg_graph *g, const char *key, vg_gnode_kind kind, bool *added)
{
    if (!g->idx)
        g->idx = vg_xcalloc(1, sizeof *g->idx);
    if ((g->idx->n + 1) * 2 > g->idx->cap)
        index_grow(g->idx);
    bool found;
    int *slot = index_slot(g->idx, key, &found);
    *added = !found;
    if (found)
        return *slot;
    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 64;
        g->nodes = vg_xrealloc(g->nodes, g->cap * sizeof *g->nodes);
    }
    g->idx->keys[slot - g->idx->vals] = vg_xstrdup(key);
    g->idx->n++;
    *slot = (int)g->n;
    memset(&g->nodes[g->n], 0, sizeof g->nodes[g->n]);
    g->nodes[g->n].kind = kind;
    return (int)g->n++;
}

static void edge_add(vg_graph *g, int a, int b)
{
    if (g->ne == g->ecap) {
        g->ecap = g->ecap ? g->ecap * 2 : 64;
        g->edges = vg_xrealloc(g->edges, g->ecap * sizeof *g->edges);
    }
    g->edges[g->ne++] = (vg_gedge){a, b, false};
}

int vg_graph_find_case(const vg_graph *g, const char *case_id)
{
    char key[40];
    case_key(case_id, key, sizeof key);
    return index_get(g, key);
}

int vg_graph_find_value(const vg_graph *g, int type, const char *value)
{
    char *key = value_key(type, value);
    int i = index_get(g, key);
    free(key);
    return i;
}

void vg_graph_free(vg_graph *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n; i++) {
        free(g->nodes[i].title);
        free(g->nodes[i].value);
    }
    free(g->nodes);
    free(g->edges);
    index_free(g->idx);
    memset(g, 0, sizeof *g);
}

char *vg_gnode_label(const vg_gnode *n)
{
    char head[48];
    const char *body;
    switch (n->kind) {
    case VG_GNODE_CASE:
        snprintf(head, sizeof head, "#%lld ", (long long)n->ref);
        body = n->title ? n->title : "";
        break;
    case VG_GNODE_MORE:
        snprintf(head, sizeof head, "+%d artifacts", n->hidden);
        body = "";
        break;
    case VG_GNODE_INTEL:
        snprintf(head, sizeof head, "intel ");
        body = n->value ? n->value : "";
        break;
    default:
        snprintf(head, sizeof head, "%s ", vg_enum_name(&VG_ARTIFACT_TYPE, n->type));
        body = n->value ? n->value : "";
        break;
    }
    size_t len = strlen(head) + strlen(body) + 1;
    char *s = vg_xmalloc(len);
    snprintf(s, len, "%s%s", head, body);
    return s;
}

vg_rc vg_graph_types_parse(const char *s, unsigned *out, vg_err *err)
{
    *out = 0;
    const char *p = s;
    while (*p) {
        size_t n = strcspn(p, ",");
        char word[32];
        if (n == 0 || n >= sizeof word)
            goto bad;
        memcpy(word, p, n);
        word[n] = '\0';
        int t;
        if (strcmp(word, "ioc") == 0)
            *out |= VG_GTYPE_IOC;
        else if (strcmp(word, "host") == 0)
            *out |= 1u << vg_enum_parse(&VG_ARTIFACT_TYPE, "hostname");
        else if ((t = vg_enum_parse(&VG_ARTIFACT_TYPE, word)) >= 0)
            *out |= 1u << t;
        else
            goto bad;
        p += n + (p[n] == ',');
    }
    return VG_OK;
bad:;
    char list[256];
    vg_enum_list(&VG_ARTIFACT_TYPE, list, sizeof list);
    return vg_fail(err, VG_EINVAL, "type: '%s' is not a list of %s, ioc, host", s, list);
}

/* ---- reading the workspace ---------------------------------------------------- */

enum { Q_ART, Q_ENT, Q_SHARING, Q_CASE, Q_ALL, Q__N };

typedef struct build {
    vg_ws *ws;
    const vg_graph_opts *o;
    vg_graph *g;
    int *dist;       /* per node: hops from the roots */
    size_t dist_cap;
    int max_nodes;
    sqlite3_stmt *st[Q__N];     /* prepared once per build, by the SQL below */
    vg_err *err;
} build;

/* The statement k of this build, prepared on first use and reset. */
static vg_rc bstmt(build *b, int k, const char *sql, sqlite3_stmt **out)
{
    if (!b->st[k] && sqlite3_prepare_v2(b->ws->db, sql, -1, &b->st[k], NULL) != SQLITE_OK)
        return ws_dberr(b->ws, b->err, "preparing the graph's queries");
    sqlite3_reset(b->st[k]);
    *out = b->st[k];
    return VG_OK;
}

static void set_dist(build *b, int node, int d)
{
    if ((size_t)node >= b->dist_cap) {
        size_t cap = b->dist_cap ? b->dist_cap * 2 : 64;
        while (cap <= (size_t)node)
            cap *= 2;
        b->dist = vg_xrealloc(b->dist, cap * sizeof *b->dist);
        b->dist_cap = cap;
    }
    b->dist[node] = d;
}

static bool case_passes(const vg_graph_opts *o, int sev, int status, int64_t created)
{
    if (o->severity_mask && !(o->severity_mask & (1u << sev)))
        return false;
    if (o->status_mask && !(o->status_mask & (1u << status)))
        return false;
    if (o->since_ms && created < o->since_ms)
        return false;
    if (o->until_ms && created >= o->until_ms)
        return false;
    return true;
}

static bool value_passes(const vg_graph_opts *o, int type, bool is_ioc)
{
    unsigned kinds = o->types & ~VG_GTYPE_IOC;
    if (type < 0 || (kinds && !(kinds & (1u << type))))
        return false;
    return !(o->types & VG_GTYPE_IOC) || is_ioc;
}

#define CASE_ROW "c.id, c.ref, c.title, c.severity, c.status, c.created_at"

/* The case node for a row of CASE_ROW starting at column col. */
static int case_node(build *b, sqlite3_stmt *st, int col, int d, bool *added)
{
    char key[40];
    case_key((const char *)sqlite3_column_text(st, col), key, sizeof key);
    int i = node_get(b->g, key, VG_GNODE_CASE, added);
    if (*added) {
        vg_gnode *n = &b->g->nodes[i];
        col_id(st, col, n->case_id);
        n->ref = sqlite3_column_int64(st, col + 1);
        n->title = col_dup(st, col + 2);
        n->severity = sqlite3_column_int(st, col + 3);
        n->status = vg_enum_parse(&VG_STATUS, (const char *)sqlite3_column_text(st, col + 4));
        n->created_at = sqlite3_column_int64(st, col + 5);
        set_dist(b, i, d);
    }
    return i;
}

static int value_node(build *b, int type, const char *value, bool is_ioc, bool from_alert, int d)
{
    char *key = value_key(type, value);
    bool added;
    int i = node_get(b->g, key, VG_GNODE_VALUE, &added);
    free(key);
    vg_gnode *n = &b->g->nodes[i];
    if (added) {
        n->type = type;
        n->value = vg_xstrdup(value);
        n->from_alert = from_alert;
        set_dist(b, i, d);
    }
    n->is_ioc |= is_ioc;
    if (!from_alert)
        n->from_alert = false;
    return i;
}

static bool full(build *b)
{
    if ((int)b->g->n < b->max_nodes)
        return false;
    b->g->truncated = true;
    return true;
}

/* Add the values of case node ci (artifacts, then alert entities) at distance d. */
static vg_rc load_values(build *b, int ci, int d)
{
    static const char *const art_sql =
        "SELECT type, value, is_ioc FROM artifacts WHERE case_id = ? AND removed = 0"
        " ORDER BY type, value";
    /* At most the newest 2000 alerts of a case are looked at for entities. */
    static const char *const ent_sql =
        "SELECT DISTINCT json_extract(e, '$.host'), json_extract(e, '$.user') FROM"
        " (SELECT CASE WHEN json_valid(entities) THEN entities ELSE '{}' END AS e FROM alerts"
        "  WHERE case_id = ? ORDER BY event_time DESC LIMIT 2000)";
    sqlite3_stmt *st = NULL;
    vg_rc rc = bstmt(b, Q_ART, art_sql, &st);
    if (rc)
        return rc;
    char id[sizeof(vg_id)];
    memcpy(id, b->g->nodes[ci].case_id, sizeof id);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        int type = vg_enum_parse(&VG_ARTIFACT_TYPE, (const char *)sqlite3_column_text(st, 0));
        bool ioc = sqlite3_column_int(st, 2);
        if (!value_passes(b->o, type, ioc))
            continue;
        int vi = value_node(b, type, (const char *)sqlite3_column_text(st, 1), ioc, false, d);
        edge_add(b->g, ci, vi);
    }
    sqlite3_reset(st);
    if (s != SQLITE_DONE)
        return ws_dberr(b->ws, b->err, "reading a case's artifacts");
    if (b->o->no_entities)
        return VG_OK;

    rc = bstmt(b, Q_ENT, ent_sql, &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    int host_t = vg_enum_parse(&VG_ARTIFACT_TYPE, "hostname");
    int user_t = vg_enum_parse(&VG_ARTIFACT_TYPE, "user");
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        for (int k = 0; k < 2; k++) {
            const char *v = (const char *)sqlite3_column_text(st, k);
            int type = k ? user_t : host_t;
            if (!v || !*v || strlen(v) > 512 || !value_passes(b->o, type, false))
                continue;
            char *norm = vg_ioc_normalise(type, v);
            if (*norm)
                edge_add(b->g, ci, value_node(b, type, norm, false, true, d));
            free(norm);
        }
    }
    sqlite3_reset(st);
    if (s != SQLITE_DONE)
        return ws_dberr(b->ws, b->err, "reading a case's alert entities");
    return VG_OK;
}

/* The ids of the cases holding a value: as an artifact (?1 type, ?2 value) or
 * named by one of their alerts (?3, its correlation key). */
#define HOLDERS_SQL                                                                         \
    "SELECT a.case_id FROM artifacts a WHERE a.type = ?1 AND a.value = ?2 AND a.removed = 0" \
    " UNION SELECT al.case_id FROM alert_keys k JOIN alerts al ON al.rowid = k.alert"         \
    "  WHERE k.key = ?3 AND al.case_id IS NOT NULL"

/* Bind HOLDERS_SQL's parameters; returns the key, which the caller frees after the
 * statement ran (entity.h: users are keyed lower-cased). */
static char *bind_holders(sqlite3_stmt *st, int type, const char *value)
{
    const char *tname = vg_enum_name(&VG_ARTIFACT_TYPE, type);
    size_t klen = strlen(tname) + strlen(value) + 2;
    char *key = vg_xmalloc(klen);
    snprintf(key, klen, "%s:%s", tname, value);
    if (strcmp(tname, "user") == 0)
        for (char *p = key; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    sqlite3_bind_text(st, 1, tname, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, key, -1, SQLITE_STATIC);
    return key;
}

/* Add the cases carrying value node vi (by the artifacts_value index) at distance d. */
static vg_rc load_cases_of(build *b, int vi, int d)
{
    static const char *const sql =
        "SELECT " CASE_ROW " FROM cases c WHERE c.id IN (" HOLDERS_SQL ") ORDER BY c.ref";
    sqlite3_stmt *st = NULL;
    vg_rc rc = bstmt(b, Q_SHARING, sql, &st);
    if (rc)
        return rc;
    char *key = bind_holders(st, b->g->nodes[vi].type, b->g->nodes[vi].value);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        int sev = sqlite3_column_int(st, 3);
        int status = vg_enum_parse(&VG_STATUS, (const char *)sqlite3_column_text(st, 4));
        char ckey[40];
        case_key((const char *)sqlite3_column_text(st, 0), ckey, sizeof ckey);
        int known = index_get(b->g, ckey);
        if (known < 0 && (!case_passes(b->o, sev, status, sqlite3_column_int64(st, 5)) || full(b)))
            continue;
        bool added;
        int ci = case_node(b, st, 0, d, &added);
        edge_add(b->g, ci, vi);
    }
    sqlite3_reset(st);
    free(key);
    if (s != SQLITE_DONE)
        return ws_dberr(b->ws, b->err, "finding the cases sharing a value");
    return VG_OK;
}

/* Breadth-first from the roots: nodes are appended in distance order, so walking
 * the node array in index order is the walk's queue. */
static vg_rc build_around(build *b)
{
    static const char *const sql = "SELECT " CASE_ROW " FROM cases c WHERE c.id = ?";
    for (size_t r = 0; r < b->o->nroots; r++) {
        sqlite3_stmt *st = NULL;
        vg_rc rc = bstmt(b, Q_CASE, sql, &st);
        if (rc)
            return rc;
        sqlite3_bind_text(st, 1, b->o->roots[r], -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_ROW) {
            sqlite3_reset(st);
            return vg_fail(b->err, VG_ENOTFOUND, "case %s: no such case", b->o->roots[r]);
        }
        bool added;
        int ci = case_node(b, st, 0, 0, &added);
        b->g->nodes[ci].root = true;
        sqlite3_reset(st);
    }
    int depth = b->g->depth;
    for (size_t i = 0; i < b->g->n; i++) {
        int d = b->dist[i];
        if (d >= depth)
            continue;
        vg_rc rc = b->g->nodes[i].kind == VG_GNODE_CASE ? load_values(b, (int)i, d + 1)
                                                         : load_cases_of(b, (int)i, d + 1);
        if (rc)
            return rc;
    }
    return VG_OK;
}

static vg_rc build_all(build *b)
{
    static const char *const sql = "SELECT " CASE_ROW " FROM cases c ORDER BY c.ref DESC";
    sqlite3_stmt *st = NULL;
    vg_rc rc = bstmt(b, Q_ALL, sql, &st);
    if (rc)
        return rc;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        int sev = sqlite3_column_int(st, 3);
        int status = vg_enum_parse(&VG_STATUS, (const char *)sqlite3_column_text(st, 4));
        if (!case_passes(b->o, sev, status, sqlite3_column_int64(st, 5)))
            continue;
        if (full(b))
            break;
        bool added;
        int ci = case_node(b, st, 0, 0, &added);
        if ((rc = load_values(b, ci, 1)))
            break;
    }
    sqlite3_reset(st);
    if (rc)
        return rc;
    if (s != SQLITE_DONE && s != SQLITE_ROW)
        return ws_dberr(b->ws, b->err, "listing cases for the graph");
    return VG_OK;
}

/* ---- shaping: bridges, connected parts, folding, canonical order --------------- */

static int cmp_edge(const void *x, const void *y)
{
    const vg_gedge *a = x, *b = y;
    if (a->a != b->a)
        return a->a < b->a ? -1 : 1;
    return (a->b > b->b) - (a->b < b->b);
}

static void edges_normalise(vg_graph *g)
{
    if (!g->ne)
        return;
    qsort(g->edges, g->ne, sizeof *g->edges, cmp_edge);
    size_t w = 1;
    for (size_t i = 1; i < g->ne; i++)
        if (g->edges[i].a != g->edges[w - 1].a || g->edges[i].b != g->edges[w - 1].b)
            g->edges[w++] = g->edges[i];
    g->ne = w;
}

static void count_cases(vg_graph *g)
{
    for (size_t i = 0; i < g->n; i++)
        g->nodes[i].ncases = 0;
    for (size_t e = 0; e < g->ne; e++)
        if (g->nodes[g->edges[e].a].kind == VG_GNODE_CASE)
            g->nodes[g->edges[e].b].ncases++;
    for (size_t e = 0; e < g->ne; e++)
        g->edges[e].bridge = g->nodes[g->edges[e].a].kind == VG_GNODE_CASE &&
                             g->nodes[g->edges[e].b].kind == VG_GNODE_VALUE &&
                             g->nodes[g->edges[e].b].ncases > 1;
}

static int find_root(int *parent, int x)
{
    while (parent[x] != x)
        x = parent[x] = parent[parent[x]];
    return x;
}

/* Mark (keep[i] = false) the nodes of parts holding fewer than two cases. */
static void keep_connected(const vg_graph *g, bool *keep)
{
    int *parent = vg_xmalloc((g->n + 1) * sizeof *parent);
    int *cases = vg_xcalloc(g->n + 1, sizeof *cases);
    for (size_t i = 0; i < g->n; i++)
        parent[i] = (int)i;
    for (size_t e = 0; e < g->ne; e++) {
        int a = find_root(parent, g->edges[e].a), b = find_root(parent, g->edges[e].b);
        if (a != b)
            parent[a] = b;
    }
    for (size_t i = 0; i < g->n; i++)
        if (g->nodes[i].kind == VG_GNODE_CASE)
            cases[find_root(parent, (int)i)]++;
    for (size_t i = 0; i < g->n; i++)
        if (cases[find_root(parent, (int)i)] < 2)
            keep[i] = false;
    free(parent);
    free(cases);
}

static bool expanded(const vg_graph_opts *o, const char *case_id)
{
    for (size_t i = 0; i < o->nexpand; i++)
        if (strcmp(o->expand[i], case_id) == 0)
            return true;
    return false;
}

/* Fold the private values of cases holding more than `limit` of them into one MORE
 * node each: the values are dropped (keep = false) and the MORE nodes appended. */
static void fold(vg_graph *g, const vg_graph_opts *o, int limit, bool **keep)
{
    size_t n0 = g->n;
    int *private_n = vg_xcalloc(n0 + 1, sizeof *private_n);
    for (size_t e = 0; e < g->ne; e++)
        if ((*keep)[g->edges[e].a] && (*keep)[g->edges[e].b] && !g->edges[e].bridge)
            private_n[g->edges[e].a]++;
    for (size_t i = 0; i < n0; i++) {
        if (g->nodes[i].kind != VG_GNODE_CASE || private_n[i] <= limit || !(*keep)[i] ||
            expanded(o, g->nodes[i].case_id))
            continue;
        char key[40];
        snprintf(key, sizeof key, "m|%s", g->nodes[i].case_id);
        bool added;
        int m = node_get(g, key, VG_GNODE_MORE, &added);
        memcpy(g->nodes[m].case_id, g->nodes[i].case_id, sizeof(vg_id));
        g->nodes[m].ref = g->nodes[i].ref;
        g->nodes[m].hidden = private_n[i];
        edge_add(g, (int)i, m);
    }
    *keep = vg_xrealloc(*keep, (g->n + 1) * sizeof **keep);
    for (size_t i = n0; i < g->n; i++)
        (*keep)[i] = true;
    for (size_t e = 0; e < g->ne; e++) {
        int a = g->edges[e].a, b = g->edges[e].b;
        if (g->edges[e].bridge || g->nodes[b].kind != VG_GNODE_VALUE)
            continue;
        if ((size_t)a < n0 && private_n[a] > limit && !expanded(o, g->nodes[a].case_id))
            (*keep)[b] = false;
    }
    free(private_n);
}

static const vg_gnode *sort_nodes;

static int node_cmp(const void *x, const void *y)
{
    const vg_gnode *a = &sort_nodes[*(const int *)x], *b = &sort_nodes[*(const int *)y];
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    if (a->kind == VG_GNODE_INTEL)
        return strcmp(a->value, b->value);
    if (a->kind != VG_GNODE_VALUE)
        return (a->ref > b->ref) - (a->ref < b->ref);
    if (a->type != b->type)
        return strcmp(vg_enum_name(&VG_ARTIFACT_TYPE, a->type),
                      vg_enum_name(&VG_ARTIFACT_TYPE, b->type));
    return strcmp(a->value, b->value);
}

/* Drop the nodes not kept (and their edges), put the rest in canonical order and
 * rebuild the index. */
static void compact(vg_graph *g, const bool *keep)
{
    int *ord = vg_xmalloc((g->n + 1) * sizeof *ord);
    int *map = vg_xmalloc((g->n + 1) * sizeof *map);
    size_t k = 0;
    for (size_t i = 0; i < g->n; i++)
        if (keep[i])
            ord[k++] = (int)i;
    sort_nodes = g->nodes;
    qsort(ord, k, sizeof *ord, node_cmp);
    sort_nodes = NULL;
    for (size_t i = 0; i < g->n; i++)
        map[i] = -1;
    vg_gnode *nodes = vg_xmalloc((k + 1) * sizeof *nodes);
    for (size_t i = 0; i < k; i++) {
        map[ord[i]] = (int)i;
        nodes[i] = g->nodes[ord[i]];
    }
    for (size_t i = 0; i < g->n; i++)
        if (!keep[i]) {
            free(g->nodes[i].title);
            free(g->nodes[i].value);
        }
    free(g->nodes);
    g->nodes = nodes;
    g->n = g->cap = k;
    size_t w = 0;
    for (size_t e = 0; e < g->ne; e++) {
        int a = map[g->edges[e].a], b = map[g->edges[e].b];
        if (a >= 0 && b >= 0)
            g->edges[w++] = (vg_gedge){a, b, g->edges[e].bridge};
    }
    g->ne = w;
    edges_normalise(g);
    index_free(g->idx);
    g->idx = vg_xcalloc(1, sizeof *g->idx);
    for (size_t i = 0; i < g->n; i++) {
        char ck[40], *key;
        if (g->nodes[i].kind == VG_GNODE_VALUE) {
            key = value_key(g->nodes[i].type, g->nodes[i].value);
        } else if (g->nodes[i].kind == VG_GNODE_INTEL) {
            key = intel_key(g->nodes[i].value);
        } else {
            snprintf(ck, sizeof ck, "%c|%s", g->nodes[i].kind == VG_GNODE_CASE ? 'c' : 'm',
                     g->nodes[i].case_id);
            key = vg_xstrdup(ck);
        }
        if ((g->idx->n + 1) * 2 > g->idx->cap)
            index_grow(g->idx);
        bool found;
        int *slot = index_slot(g->idx, key, &found);
        g->idx->keys[slot - g->idx->vals] = key;
        g->idx->n++;
        *slot = (int)i;
    }
    free(ord);
    free(map);
}

/* The feeds that know the graph's values, as intel nodes joined to those values,
 * then the canonical order again (intel nodes last, by feed name). */
static vg_rc add_intel(vg_ws *ws, vg_graph *g, vg_err *err)
{
    size_t nvalues = g->n;
    bool any = false;
    for (size_t i = 0; i < nvalues; i++) {
        if (g->nodes[i].kind != VG_GNODE_VALUE)
            continue;
        vg_intel_match *m = NULL;
        size_t nm = 0;
        vg_rc rc = vg_intel_lookup(ws, g->nodes[i].type, g->nodes[i].value, 0, &m, &nm, err);
        if (rc)
            return rc;
        for (size_t k = 0; k < nm; k++) {
            char *key = intel_key(m[k].feed);
            bool added;
            int f = node_get(g, key, VG_GNODE_INTEL, &added);
            free(key);
            if (added) {
                g->nodes[f].type = -1;
                g->nodes[f].value = vg_xstrdup(m[k].feed);
            }
            edge_add(g, f, (int)i);
            any = true;
        }
        vg_intel_matches_free(m, nm);
    }
    if (!any)
        return VG_OK;
    bool *keep = vg_xmalloc((g->n + 1) * sizeof *keep);
    for (size_t i = 0; i < g->n; i++)
        keep[i] = true;
    compact(g, keep);
    free(keep);
    count_cases(g);
    return VG_OK;
}

vg_rc vg_graph_build(vg_ws *ws, const vg_graph_opts *opts, vg_graph *out, vg_err *err)
{
    memset(out, 0, sizeof *out);
    build b = {.ws = ws, .o = opts, .g = out, .err = err};
    b.max_nodes = opts->max_nodes > 0 ? opts->max_nodes : VG_GRAPH_DEFAULT_MAX_NODES;
    out->depth = opts->nroots ? (opts->depth > 0 ? opts->depth : VG_GRAPH_DEFAULT_DEPTH) : 0;
    vg_rc rc = opts->nroots ? build_around(&b) : build_all(&b);
    free(b.dist);
    for (int k = 0; k < Q__N; k++)
        sqlite3_finalize(b.st[k]);
    if (rc)
        return rc;
    edges_normalise(out);
    count_cases(out);
    bool *keep = vg_xmalloc((out->n + 1) * sizeof *keep);
    for (size_t i = 0; i < out->n; i++)
        keep[i] = true;
    if (opts->connected_only)
        keep_connected(out, keep);
    int limit = opts->collapse < 0 ? VG_GRAPH_DEFAULT_COLLAPSE : opts->collapse;
    if (limit > 0)
        fold(out, opts, limit, &keep);
    compact(out, keep);
    free(keep);
    count_cases(out);
    if (!opts->no_intel && vg_ws_has_intel(ws) && (rc = add_intel(ws, out, err)))
        return rc;
    return VG_OK;
}

/* ---- related cases ------------------------------------------------------------ */

/* Read rows (case id, ref, title, severity, status, type, value) of a prepared
 * and bound statement, which it finalizes. */
static vg_rc related_rows(vg_ws *ws, sqlite3_stmt *st, vg_related **items, size_t *n,
                          vg_err *err)
{
    size_t cap = 0;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *items = vg_xrealloc(*items, cap * sizeof **items);
        }
        vg_related *r = &(*items)[(*n)++];
        col_id(st, 0, r->case_id);
        r->ref = sqlite3_column_int64(st, 1);
        r->title = col_dup(st, 2);
        r->severity = sqlite3_column_int(st, 3);
        r->status = vg_enum_parse(&VG_STATUS, (const char *)sqlite3_column_text(st, 4));
        r->type = vg_enum_parse(&VG_ARTIFACT_TYPE, (const char *)sqlite3_column_text(st, 5));
        r->value = col_dup(st, 6);
    }
    vg_rc rc = s == SQLITE_DONE ? VG_OK : ws_dberr(ws, err, "finding related cases");
    sqlite3_finalize(st);
    return rc;
}

vg_rc vg_related_list(vg_ws *ws, const char *case_id, vg_related **items, size_t *n,
                      vg_err *err)
{
    static const char *const sql =
        "SELECT c.id, c.ref, c.title, c.severity, c.status, b.type, b.value"
        " FROM artifacts a JOIN artifacts b ON b.type = a.type AND b.value = a.value"
        "  AND b.case_id <> a.case_id AND b.removed = 0"
        " JOIN cases c ON c.id = b.case_id"
        " WHERE a.case_id = ? AND a.removed = 0 ORDER BY c.ref, b.type, b.value";
    sqlite3_stmt *st = NULL;
    *items = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(ws->db, sql, -1, &st, NULL) != SQLITE_OK)
        return ws_dberr(ws, err, "finding related cases");
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_TRANSIENT);
    return related_rows(ws, st, items, n, err);
}

vg_rc vg_value_cases(vg_ws *ws, int type, const char *value, vg_related **items, size_t *n,
                     vg_err *err)
{
    static const char *const sql =
        "SELECT c.id, c.ref, c.title, c.severity, c.status, ?1, ?2"
        " FROM cases c WHERE c.id IN (" HOLDERS_SQL ") ORDER BY c.ref";
    sqlite3_stmt *st = NULL;
    *items = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(ws->db, sql, -1, &st, NULL) != SQLITE_OK)
        return ws_dberr(ws, err, "finding the cases holding a value");
    char *key = bind_holders(st, type, value);
    vg_rc rc = related_rows(ws, st, items, n, err);
    free(key);
    return rc;
}

void vg_related_free(vg_related *r, size_t n)
{
    for (size_t i = 0; i < n && r; i++) {
        free(r[i].title);
        free(r[i].value);
    }
    free(r);
}
