/*
 * test_graph.c — the investigation graph: building it from a workspace (bridges,
 * removed artifacts, depth, alert entities, filters, folding, related cases) and its
 * layout (no overlapping nodes, every edge drawn, determinism, crossing counts on
 * graphs whose best count is known).
 */
#include "helpers.h"
#include "vigil/graph.h"
#include "vigil/model.h"

typedef struct world {
    fx *f;
    vg_id a, b, c, d, e, big;
} world;

static void art(vg_ws *ws, const char *case_id, const char *type, const char *value)
{
    must_apply(ws, vg_op_artifact_add(case_id, type, value));
}

/* A: evil.example, 1.2.3.4, a URL, alice, gone.example. B: evil.example (bridge to A),
 * gone.example removed, ws-1. C (low, closed): ws-1. D (critical): an alert naming
 * host WS-1 and user bob. E: a private value only. BIG: 15 private values. */
static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    w->f = fx_new();
    vg_ws *ws = w->f->ws;
    new_case(ws, "Phish to alice", "high", w->a);
    new_case(ws, "Phish to bob", "medium", w->b);
    new_case(ws, "Workstation cleanup", "low", w->c);
    new_case(ws, "Beacon from WS-1", "critical", w->d);
    new_case(ws, "Lonely case", "medium", w->e);
    new_case(ws, "Many things", "medium", w->big);
    art(ws, w->a, "domain", "evil.example");
    art(ws, w->a, "ip", "1.2.3.4");
    art(ws, w->a, "url", "http://evil.example/x");
    art(ws, w->a, "user", "alice@corp.example");
    art(ws, w->a, "domain", "gone.example");
    art(ws, w->b, "domain", "EVIL.example");
    art(ws, w->b, "domain", "gone.example");
    must_apply(ws, vg_op_artifact_remove(w->b, "domain", "gone.example"));
    art(ws, w->b, "hostname", "ws-1");
    art(ws, w->c, "hostname", "ws-1");
    must_apply(ws, vg_op_case_close(w->c, "benign"));
    art(ws, w->e, "ip", "10.9.9.9");
    for (int i = 0; i < 15; i++) {
        char v[32];
        snprintf(v, sizeof v, "file%02d.exe", i);
        art(ws, w->big, "filename", v);
    }
    char json[512];
    snprintf(json, sizeof json,
             "{\"source\":\"edr\",\"title\":\"beacon\",\"event_time\":1700000000000,\"case\":\"%s\","
             "\"entities\":{\"host\":\"WS-1\",\"user\":\"bob@corp.example\"}}", w->d);
    vg_op *op = vg_op_new("alert.add", "");
    vg_ulid(1700000000000, op->target);
    cJSON_Delete(op->payload);
    op->payload = cJSON_Parse(json);
    must_apply(ws, op);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    *state = w->f;
    fx_teardown(state);
    free(w);
    return 0;
}

static void build(world *w, vg_graph_opts *o, vg_graph *g)
{
    vg_err err = {0};
    if (vg_graph_build(w->f->ws, o, g, &err) != VG_OK)
        fail_msg("build: %s", err.msg);
}

static int type_of(const char *name) { return vg_enum_parse(&VG_ARTIFACT_TYPE, name); }

static bool has_edge(const vg_graph *g, int a, int b, bool *bridge)
{
    for (size_t e = 0; e < g->ne; e++)
        if (g->edges[e].a == a && g->edges[e].b == b) {
            if (bridge)
                *bridge = g->edges[e].bridge;
            return true;
        }
    return false;
}

static void test_bridges(void **state)
{
    world *w = *state;
    const char *roots[] = {w->a};
    vg_graph_opts o = {.roots = roots, .nroots = 1, .collapse = -1};
    vg_graph g;
    build(w, &o, &g);
    int a = vg_graph_find_case(&g, w->a), b = vg_graph_find_case(&g, w->b);
    int evil = vg_graph_find_value(&g, type_of("domain"), "evil.example");
    int ip = vg_graph_find_value(&g, type_of("ip"), "1.2.3.4");
    int gone = vg_graph_find_value(&g, type_of("domain"), "gone.example");
    assert_true(a >= 0 && b >= 0 && evil >= 0 && ip >= 0 && gone >= 0);
    assert_true(g.nodes[a].root);
    bool br = false;
    /* the value typed in another case is normalised to the same node: a bridge */
    assert_true(has_edge(&g, a, evil, &br) && br);
    assert_true(has_edge(&g, b, evil, &br) && br);
    assert_int_equal(g.nodes[evil].ncases, 2);
    assert_true(has_edge(&g, a, ip, &br) && !br);
    /* removed on B: no bridge there */
    assert_int_equal(g.nodes[gone].ncases, 1);
    assert_false(has_edge(&g, b, gone, NULL));
    /* canonical order: cases first, by ref */
    assert_int_equal(g.nodes[0].kind, VG_GNODE_CASE);
    assert_true(a < b);
    vg_graph_free(&g);

    vg_related *r;
    size_t n;
    vg_err err = {0};
    assert_int_equal(vg_related_list(w->f->ws, w->a, &r, &n, &err), VG_OK);
    assert_int_equal(n, 1);
    assert_string_equal(r[0].case_id, w->b);
    assert_string_equal(r[0].value, "evil.example");
    vg_related_free(r, n);
    /* every case a value is on */
    assert_int_equal(vg_value_cases(w->f->ws, type_of("domain"), "evil.example", &r, &n, &err), VG_OK);
    assert_int_equal(n, 2);
    assert_string_equal(r[0].case_id, w->a);
    assert_string_equal(r[1].case_id, w->b);
    vg_related_free(r, n);
}

static void test_depth(void **state)
{
    world *w = *state;
    const char *roots[] = {w->a};
    vg_graph g;
    vg_graph_opts o = {.roots = roots, .nroots = 1, .depth = 1, .collapse = -1};
    build(w, &o, &g);
    assert_int_equal(g.n, 6); /* A and its five values */
    assert_int_equal(vg_graph_find_case(&g, w->b), -1);
    vg_graph_free(&g);

    o.depth = 3; /* B's own values come in */
    build(w, &o, &g);
    assert_true(vg_graph_find_value(&g, type_of("hostname"), "ws-1") >= 0);
    assert_int_equal(vg_graph_find_case(&g, w->c), -1);
    vg_graph_free(&g);

    o.depth = 4; /* and C, which shares ws-1 with B */
    build(w, &o, &g);
    int c = vg_graph_find_case(&g, w->c);
    int ws1 = vg_graph_find_value(&g, type_of("hostname"), "ws-1");
    assert_true(c >= 0 && ws1 >= 0);
    /* B and C hold it; D's alert names it (found through alert_keys) */
    assert_int_equal(g.nodes[ws1].ncases, 3);
    assert_true(vg_graph_find_case(&g, w->d) >= 0);
    vg_graph_free(&g);
}

static void test_entities_and_filters(void **state)
{
    world *w = *state;
    vg_graph g;
    vg_graph_opts o = {.collapse = -1};
    build(w, &o, &g);
    /* D's alert names host WS-1: normalised, it bridges D to B and C */
    int ws1 = vg_graph_find_value(&g, type_of("hostname"), "ws-1");
    assert_true(ws1 >= 0);
    assert_int_equal(g.nodes[ws1].ncases, 3);
    assert_false(g.nodes[ws1].from_alert);
    int bob = vg_graph_find_value(&g, type_of("user"), "bob@corp.example");
    assert_true(bob >= 0 && g.nodes[bob].from_alert);
    assert_true(vg_graph_find_case(&g, w->e) >= 0);
    vg_graph_free(&g);

    o.severity_mask = ~(1u << VG_SEV_LOW);
    build(w, &o, &g);
    assert_int_equal(vg_graph_find_case(&g, w->c), -1);
    assert_int_equal(g.nodes[vg_graph_find_value(&g, type_of("hostname"), "ws-1")].ncases, 2);
    vg_graph_free(&g);

    o.severity_mask = 0;
    o.status_mask = 1u << VG_ST_CLOSED;
    build(w, &o, &g);
    assert_true(vg_graph_find_case(&g, w->c) >= 0);
    assert_int_equal(vg_graph_find_case(&g, w->a), -1);
    vg_graph_free(&g);

    o.status_mask = 0;
    vg_err err = {0};
    assert_int_equal(vg_graph_types_parse("domain", &o.types, &err), VG_OK);
    build(w, &o, &g);
    for (size_t i = 0; i < g.n; i++)
        if (g.nodes[i].kind == VG_GNODE_VALUE)
            assert_int_equal(g.nodes[i].type, type_of("domain"));
    vg_graph_free(&g);
    assert_int_equal(vg_graph_types_parse("domian", &o.types, &err), VG_EINVAL);
    assert_non_null(strstr(err.msg, "domian"));

    o.types = 0;
    o.connected_only = true;
    build(w, &o, &g);
    assert_int_equal(vg_graph_find_case(&g, w->e), -1);
    assert_int_equal(vg_graph_find_case(&g, w->big), -1);
    assert_true(vg_graph_find_case(&g, w->a) >= 0 && vg_graph_find_case(&g, w->d) >= 0);
    vg_graph_free(&g);

    o.connected_only = false;
    o.until_ms = 1; /* nothing was created before 1970 */
    build(w, &o, &g);
    assert_int_equal(g.n, 0);
    vg_graph_free(&g);

    o.until_ms = 0;
    o.max_nodes = 3;
    build(w, &o, &g);
    assert_true(g.truncated); /* the newest cases are the ones kept */
    assert_true(vg_graph_find_case(&g, w->big) >= 0);
    assert_int_equal(vg_graph_find_case(&g, w->a), -1);
    vg_graph_free(&g);
}

static void test_fold(void **state)
{
    world *w = *state;
    const char *roots[] = {w->big};
    vg_graph g;
    vg_graph_opts o = {.roots = roots, .nroots = 1, .collapse = -1};
    build(w, &o, &g);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.nodes[1].kind, VG_GNODE_MORE);
    assert_int_equal(g.nodes[1].hidden, 15);
    char *label = vg_gnode_label(&g.nodes[1]);
    assert_string_equal(label, "+15 artifacts");
    free(label);
    vg_graph_free(&g);

    o.expand = roots;
    o.nexpand = 1;
    build(w, &o, &g);
    assert_int_equal(g.n, 16);
    vg_graph_free(&g);

    vg_graph_opts none = {.roots = roots, .nroots = 1, .collapse = 0};
    build(w, &none, &g);
    assert_int_equal(g.n, 16);
    vg_graph_free(&g);
}

/* ---- layout ---------------------------------------------------------------------- */

/* A graph made by hand: nodes 0..ncases-1 are cases (0 the root), the rest values;
 * edges are (case, value) pairs. */
static void hand_graph(vg_graph *g, int ncases, int nvalues, const int (*edges)[2], int ne)
{
    memset(g, 0, sizeof *g);
    g->n = (size_t)(ncases + nvalues);
    g->nodes = calloc(g->n, sizeof *g->nodes);
    for (int i = 0; i < (int)g->n; i++) {
        vg_gnode *n = &g->nodes[i];
        n->kind = i < ncases ? VG_GNODE_CASE : VG_GNODE_VALUE;
        n->ref = i + 1;
        n->root = i == 0;
        char t[32];
        snprintf(t, sizeof t, "node %d", i);
        if (i < ncases)
            n->title = strdup(t);
        else
            n->value = strdup(t), n->type = 0;
    }
    g->ne = (size_t)ne;
    g->edges = calloc((size_t)ne + 1, sizeof *g->edges);
    for (int e = 0; e < ne; e++)
        g->edges[e] = (vg_gedge){edges[e][0], edges[e][1], false};
}

/* No two labels overlap, and no line runs through a label. */
static void check_no_overlap(const vg_glayout *l)
{
    for (int i = 0; i < l->nnodes; i++) {
        const vg_glabel *a = &l->labels[i];
        for (int x = a->col; x < a->col + a->width; x++) {
            size_t c = (size_t)a->row * (size_t)l->width + (size_t)x;
            assert_int_equal(l->label_at[c], i + 1);
            assert_int_equal(l->dirs[c], 0);
        }
    }
}

/* Each edge is a path of connected line cells from the cell after its left node's
 * label to the cell before its right node's label. */
static void check_edges_drawn(const vg_graph *g, const vg_glayout *l)
{
    size_t cells = (size_t)l->width * (size_t)l->height;
    int *queue = malloc(cells * sizeof *queue);
    char *seen = malloc(cells);
    for (size_t e = 0; e < g->ne; e++) {
        int u = g->edges[e].a, v = g->edges[e].b;
        if (l->rank[v] < l->rank[u])
            u = g->edges[e].b, v = g->edges[e].a;
        assert_int_equal(l->rank[v], l->rank[u] + 1);
        int sx = l->col[u] + l->labels[u].width + 1, sy = l->row[u];
        int tx = l->rank_x[l->rank[v]] - 2, ty = l->row[v];
        memset(seen, 0, cells);
        int head = 0, tail = 0;
        queue[tail++] = sy * l->width + sx;
        seen[sy * l->width + sx] = 1;
        bool found = false;
        while (head < tail && !found) {
            int c = queue[head++], x = c % l->width, y = c / l->width;
            assert_true(l->dirs[c] != 0);
            if (x == tx && y == ty)
                found = true;
            static const int dx[4] = {0, 1, 0, -1}, dy[4] = {-1, 0, 1, 0};
            static const int back[4] = {4, 8, 1, 2};
            for (int k = 0; k < 4; k++) {
                int nx = x + dx[k], ny = y + dy[k];
                if (!(l->dirs[c] & (1 << k)) || nx < 0 || ny < 0 || nx >= l->width || ny >= l->height)
                    continue;
                int nc = ny * l->width + nx;
                if (!seen[nc] && (l->dirs[nc] & back[k])) {
                    seen[nc] = 1;
                    queue[tail++] = nc;
                }
            }
        }
        if (!found)
            fail_msg("edge %d-%d is not drawn", u, v);
    }
    free(queue);
    free(seen);
}

static void test_layout_invariants(void **state)
{
    world *w = *state;
    vg_graph g;
    vg_graph_opts o = {.collapse = -1};
    build(w, &o, &g);
    for (int ascii = 0; ascii < 2; ascii++) {
        vg_layout_opts lo = {.ascii = ascii, .selected = -1};
        vg_glayout l1, l2;
        vg_graph_layout(&g, &lo, &l1);
        check_no_overlap(&l1);
        check_edges_drawn(&g, &l1);
        vg_graph_layout(&g, &lo, &l2);
        assert_int_equal(l1.height, l2.height);
        for (int y = 0; y < l1.height; y++) {
            char *r1 = vg_glayout_row(&l1, y), *r2 = vg_glayout_row(&l2, y);
            assert_string_equal(r1, r2);
            if (ascii)
                for (char *p = r1; *p; p++)
                    assert_true((unsigned char)*p < 0x80);
            free(r1);
            free(r2);
        }
        /* selecting a node marks its edges and nothing else moves */
        int a = vg_graph_find_case(&g, w->a);
        vg_glayout_select(&l2, &g, a);
        size_t hot = 0;
        for (size_t c = 0; c < (size_t)l2.width * (size_t)l2.height; c++) {
            assert_int_equal(l1.dirs[c], l2.dirs[c]);
            hot += (l2.attr[c] & VG_GCELL_HOT) != 0;
        }
        assert_true(hot > 0);
        vg_glayout_free(&l1);
        vg_glayout_free(&l2);
    }
    vg_graph_free(&g);
}

/* Bridges are dashed; a hostile value is made safe and cut. */
static void test_drawing(void **state)
{
    world *w = *state;
    must_apply(w->f->ws, vg_op_artifact_add(w->e, "other", "\x1b]52;c;SGVsbG8=\x07 and a very long tail of text"));
    const char *roots[] = {w->a, w->e};
    vg_graph g;
    vg_graph_opts o = {.roots = roots, .nroots = 2, .collapse = -1};
    build(w, &o, &g);
    vg_layout_opts lo = {.selected = -1, .label_cols = 24};
    vg_glayout l;
    vg_graph_layout(&g, &lo, &l);
    bool dashed = false, esc = false;
    for (int y = 0; y < l.height; y++) {
        char *r = vg_glayout_row(&l, y);
        dashed |= strstr(r, "┄") != NULL;
        esc |= strchr(r, '\x1b') != NULL;
        free(r);
    }
    assert_true(dashed);
    assert_false(esc);
    for (int i = 0; i < l.nnodes; i++)
        assert_true(l.labels[i].width <= 24);
    vg_glayout_free(&l);
    vg_graph_free(&g);
}

static void test_crossings_known(void **state)
{
    (void)state;
    vg_layout_opts lo = {.selected = -1};
    vg_graph g;
    vg_glayout l;
    /* A tree: nothing needs to cross. Root 0; values 4..9; cases 1..3. */
    static const int tree[][2] = {{0, 4}, {0, 5}, {0, 6}, {1, 4}, {1, 7}, {2, 5}, {2, 8}, {3, 6}, {3, 9}};
    hand_graph(&g, 4, 6, tree, 9);
    vg_graph_layout(&g, &lo, &l);
    assert_int_equal(l.crossings, 0);
    assert_int_equal(vg_graph_crossings(&g, l.rank, l.order), 0);
    vg_glayout_free(&l);
    vg_graph_free(&g);

    /* Root 0 on values 3, 4, 5; case 1 on 3 and 5, case 2 on 4. The walk's order
     * (3, 4, 5 / 1, 2) has one crossing; 3, 5, 4 has none. */
    static const int untangle[][2] = {{0, 3}, {0, 4}, {0, 5}, {1, 3}, {1, 5}, {2, 4}};
    hand_graph(&g, 3, 3, untangle, 6);
    int rank[6] = {0, 2, 2, 1, 1, 1}, order[6] = {0, 0, 1, 0, 1, 2};
    assert_int_equal(vg_graph_crossings(&g, rank, order), 1);
    vg_graph_layout(&g, &lo, &l);
    assert_int_equal(l.crossings, 0);
    check_edges_drawn(&g, &l);
    vg_glayout_free(&l);
    vg_graph_free(&g);

    /* Root 0 on values 4, 5, 6, and cases 1, 2, 3 each on all three: K3,3 between two
     * ranks, whose fewest crossings are C(3,2) * C(3,2) = 9. */
    int k33[12][2], ne = 0;
    for (int v = 4; v < 7; v++)
        k33[ne][0] = 0, k33[ne][1] = v, ne++;
    for (int c = 1; c < 4; c++)
        for (int v = 4; v < 7; v++)
            k33[ne][0] = c, k33[ne][1] = v, ne++;
    hand_graph(&g, 4, 3, (const int (*)[2])k33, ne);
    vg_graph_layout(&g, &lo, &l);
    assert_int_equal(l.crossings, 9);
    check_no_overlap(&l);
    check_edges_drawn(&g, &l);
    vg_glayout_free(&l);
    vg_graph_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bridges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_depth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_entities_and_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fold, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layout_invariants, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drawing, setup, teardown),
        cmocka_unit_test(test_crossings_known),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
