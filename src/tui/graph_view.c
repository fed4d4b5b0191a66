/*
 * graph_view.c — the investigation graph in the workstation: a case's Graph tab
 * (the case and its neighbourhood) and the workspace graph (every case, connected
 * parts by default).
 *
 * The drawing is the core's (vg_graph_layout): this file keeps a viewport over it,
 * a selected node, and the options the keys change (depth, filter, unfolded cases).
 * The graph is built and laid out again only when those options or the data
 * change; moving the selection only re-marks the selected node's edges
 * (vg_glayout_select), so a key costs one screen of drawing. In the view, the usual
 * keys take graph meanings: arrows and hjkl pan, Tab/BTab and / with n/N jump
 * between nodes, Enter opens a node (a case opens the case, a value lists every
 * case it is on), + and - change the depth, f the filter, c folds or unfolds.
 */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "tui.h"
#include "vigil/graph.h"
#include "vigil/model.h"
#include "vigil/text.h"

enum { F_ALL, F_IOC, F_OPEN, F_CONNECTED, F__N };
static const char *const FILTER_NAMES[F__N] = {"everything", "IOCs only", "open cases",
                                               "connected parts"};

typedef struct tui_graph {
    vg_id root;         /* the case whose tab this is; "" for the workspace */
    int depth, filter;
    vg_id *unfolded;    /* cases whose values are shown even when many */
    size_t nunfolded;
    vg_graph g;
    vg_glayout l;
    bool built;
    int sel;
    int top, left;      /* the viewport's first grid row and column */
    int *tab_order;     /* nodes by rank then row: the order Tab walks */
    char search[128];
    char **detail;      /* an open overlay's lines (a value's cases), or NULL */
    size_t ndetail;
} tui_graph;

static void detail_free(tui_graph *gv)
{
    for (size_t i = 0; i < gv->ndetail; i++)
        free(gv->detail[i]);
    free(gv->detail);
    gv->detail = NULL;
    gv->ndetail = 0;
}

static const tui_graph *order_gv;

static int cmp_visit(const void *x, const void *y)
{
    int a = *(const int *)x, b = *(const int *)y;
    const vg_glayout *l = &order_gv->l;
    if (l->rank[a] != l->rank[b])
        return l->rank[a] < l->rank[b] ? -1 : 1;
    return (l->row[a] > l->row[b]) - (l->row[a] < l->row[b]);
}

/* The area the drawing gets: below the tabs for a case, below the crumbs else. */
static int area_top(const tui *t) { return t->graph && t->graph->root[0] ? 3 : 2; }
static int area_rows(const tui *t) { return t->rows - 1 - area_top(t); }

/* Scroll so that the selected node's label is on screen. */
static void reveal(tui *t)
{
    tui_graph *gv = t->graph;
    if (gv->sel < 0)
        return;
    const vg_glabel *lb = &gv->l.labels[gv->sel];
    int rows = area_rows(t), cols = t->cols;
    if (lb->row < gv->top || lb->row >= gv->top + rows)
        gv->top = lb->row - rows / 2;
    if (lb->col < gv->left || lb->col + lb->width > gv->left + cols)
        gv->left = lb->col - 2;
    if (gv->top > gv->l.height - rows)
        gv->top = gv->l.height - rows;
    if (gv->left > gv->l.width - cols)
        gv->left = gv->l.width - cols;
    if (gv->top < 0)
        gv->top = 0;
    if (gv->left < 0)
        gv->left = 0;
}

static void select_node(tui *t, int node)
{
    tui_graph *gv = t->graph;
    gv->sel = node;
    vg_glayout_select(&gv->l, &gv->g, node);
    reveal(t);
}

/* Build and lay out again with the current options, keeping the selected node's
 * identity where it is still in the graph. */
static void rebuild(tui *t)
{
    tui_graph *gv = t->graph;
    vg_id sel_case = "";
    int sel_type = -1;
    char *sel_value = NULL;
    if (gv->built && gv->sel >= 0) {
        const vg_gnode *n = &gv->g.nodes[gv->sel];
        if (n->kind == VG_GNODE_VALUE) {
            sel_type = n->type;
            sel_value = vg_xstrdup(n->value);
        } else {
            memcpy(sel_case, n->case_id, sizeof sel_case);
        }
    }
    if (gv->built) {
        vg_glayout_free(&gv->l);
        vg_graph_free(&gv->g);
        free(gv->tab_order);
        gv->tab_order = NULL;
        gv->built = false;
    }
    const char *roots[1] = {gv->root};
    const char **unfolded = vg_xcalloc(gv->nunfolded + 1, sizeof *unfolded);
    for (size_t i = 0; i < gv->nunfolded; i++)
        unfolded[i] = gv->unfolded[i];
    vg_graph_opts o = {.roots = gv->root[0] ? roots : NULL, .nroots = gv->root[0] ? 1 : 0,
                       .depth = gv->depth, .collapse = -1, .expand = unfolded,
                       .nexpand = gv->nunfolded};
    if (gv->filter == F_IOC)
        o.types = VG_GTYPE_IOC;
    else if (gv->filter == F_OPEN)
        o.status_mask = VG_STATUS_OPEN_MASK;
    else if (gv->filter == F_CONNECTED)
        o.connected_only = true;
    vg_err err = {0};
    vg_rc rc = vg_graph_build(t->ws, &o, &gv->g, &err);
    free(unfolded);
    if (rc != VG_OK) {
        snprintf(t->msg, sizeof t->msg, "%.200s", err.msg);
        vg_graph_free(&gv->g);
        memset(&gv->g, 0, sizeof gv->g);
    }
    vg_layout_opts lo = {.ascii = t->ascii, .selected = -1};
    vg_graph_layout(&gv->g, &lo, &gv->l);
    gv->built = true;
    gv->tab_order = vg_xmalloc((gv->g.n + 1) * sizeof *gv->tab_order);
    for (size_t i = 0; i < gv->g.n; i++)
        gv->tab_order[i] = (int)i;
    order_gv = gv;
    qsort(gv->tab_order, gv->g.n, sizeof *gv->tab_order, cmp_visit);
    order_gv = NULL;
    int sel = -1;
    if (sel_value)
        sel = vg_graph_find_value(&gv->g, sel_type, sel_value);
    else if (sel_case[0])
        sel = vg_graph_find_case(&gv->g, sel_case);
    if (sel < 0 && gv->root[0])
        sel = vg_graph_find_case(&gv->g, gv->root);
    if (sel < 0 && gv->g.n)
        sel = gv->tab_order[0];
    free(sel_value);
    if (gv->g.truncated)
        snprintf(t->msg, sizeof t->msg, "graph cut at %zu nodes: f narrows it", gv->g.n);
    select_node(t, sel);
}

void tui_graph_open(tui *t, const char *case_id)
{
    if (!t->graph)
        t->graph = vg_xcalloc(1, sizeof *t->graph);
    tui_graph *gv = t->graph;
    const char *want = case_id ? case_id : "";
    if (!gv->built || strcmp(gv->root, want) != 0) { /* a new graph: fresh options */
        snprintf(gv->root, sizeof gv->root, "%s", want);
        gv->depth = VG_GRAPH_DEFAULT_DEPTH;
        gv->filter = case_id ? F_ALL : F_CONNECTED;
        gv->top = gv->left = 0;
        gv->nunfolded = 0;
        gv->search[0] = '\0';
    }
    detail_free(gv);
    t->view = VIEW_GRAPH;
    rebuild(t);
}

void tui_graph_close(tui *t)
{
    tui_graph *gv = t->graph;
    if (!gv)
        return;
    if (gv->built) {
        vg_glayout_free(&gv->l);
        vg_graph_free(&gv->g);
    }
    free(gv->tab_order);
    free(gv->unfolded);
    detail_free(gv);
    free(gv);
    t->graph = NULL;
}

/* Columns to skip at the start of an (already safe) label cut by the viewport. */
static const char *skip_cols(const char *s, int cols)
{
    mbstate_t st = {0};
    while (*s && cols > 0) {
        wchar_t wc;
        size_t n = mbrtowc(&wc, s, strlen(s), &st);
        if (n == 0 || n == (size_t)-1 || n == (size_t)-2)
            n = 1, wc = '?';
        int w = wcwidth(wc);
        cols -= w > 0 ? w : 0;
        s += n;
    }
    return s;
}

static void draw_detail(tui *t)
{
    tui_graph *gv = t->graph;
    int w = t->cols > 84 ? 80 : t->cols - 4, h = t->rows - 4, x = (t->cols - w) / 2;
    for (int y = 0; y < h; y++) {
        move(2 + y, x);
        attron(A_REVERSE);
        for (int i = 0; i < w; i++)
            addch(' ');
        if ((size_t)y < gv->ndetail) {
            char *safe = vg_text_safe_dup(gv->detail[y], t->ascii ? VG_TEXT_ASCII : 0);
            char *fit = vg_xmalloc((size_t)w * 4 + 4);
            vg_text_fit(safe, (size_t)(w - 2), false, t->ascii, fit);
            mvaddstr(2 + y, x + 1, fit);
            free(fit);
            free(safe);
        }
        attroff(A_REVERSE);
    }
}

void tui_graph_draw(tui *t)
{
    tui_graph *gv = t->graph;
    char crumbs[700], keys[160];
    char *label = gv->sel >= 0 ? vg_gnode_label(&gv->g.nodes[gv->sel]) : vg_xstrdup("-");
    if (gv->root[0]) {
        int r = vg_graph_find_case(&gv->g, gv->root);
        snprintf(crumbs, sizeof crumbs, " Queue > #%lld > Graph (depth %d, %s) > %.400s",
                 r >= 0 ? (long long)gv->g.nodes[r].ref : 0LL, gv->depth,
                 FILTER_NAMES[gv->filter], label);
    } else {
        snprintf(crumbs, sizeof crumbs, " Queue > Workspace graph (%s) > %.400s",
                 FILTER_NAMES[gv->filter], label);
    }
    free(label);
    snprintf(keys, sizeof keys, " ] [ node  / find  Enter open  hjkl pan  +/- depth  f filter"
                                "  c fold  Tab next tab  Esc back");
    tui_frame(t, crumbs, keys);
    if (gv->root[0])
        tui_draw_tabs(t);
    int y0 = area_top(t), rows = area_rows(t);
    const vg_glayout *l = &gv->l;
    if (!gv->g.n)
        mvaddstr(y0, 1, "(nothing to draw: f changes the filter)");
    for (int sy = 0; sy < rows; sy++) {
        int gy = gv->top + sy;
        if (gy >= l->height)
            break;
        move(y0 + sy, 0);
        for (int gx = gv->left; gx < gv->left + t->cols && gx < l->width;) {
            size_t c = (size_t)gy * (size_t)l->width + (size_t)gx;
            int sx = gx - gv->left;
            int li = l->label_at[c] - 1;
            if (li >= 0) {
                const vg_glabel *lb = &l->labels[li];
                const vg_gnode *n = &gv->g.nodes[li];
                int attr = li == gv->sel ? (int)(A_REVERSE | A_BOLD)
                           : n->kind == VG_GNODE_CASE ? tui_sev_attr(t, n->severity)
                           : n->kind == VG_GNODE_MORE ? (int)A_DIM
                           : n->kind == VG_GNODE_INTEL ? (int)A_BOLD
                                                      : 0;
                const char *s = skip_cols(lb->text, gx - lb->col);
                int room = t->cols - sx, width = lb->col + lb->width - gx;
                attron(attr);
                if (width <= room) {
                    mvaddstr(y0 + sy, sx, s);
                } else {
                    char *fit = vg_xmalloc((size_t)room * 4 + 4);
                    vg_text_fit(s, (size_t)room, false, t->ascii, fit);
                    mvaddstr(y0 + sy, sx, fit);
                    free(fit);
                }
                attroff(attr);
                gx = lb->col + lb->width;
                continue;
            }
            if (l->dirs[c]) {
                int attr = (l->attr[c] & VG_GCELL_HOT) ? A_BOLD : 0;
                attron(attr);
                mvaddstr(y0 + sy, sx, vg_glayout_glyph(l, gx, gy));
                attroff(attr);
            }
            gx++;
        }
    }
    if (gv->detail)
        draw_detail(t);
}

/* The next node (in Tab order) after the selected one whose label holds gv->search. */
static bool find_step(tui *t, int dir)
{
    tui_graph *gv = t->graph;
    int n = (int)gv->g.n, at = 0;
    for (int i = 0; i < n; i++)
        if (gv->tab_order[i] == gv->sel)
            at = i;
    for (int k = 1; k <= n; k++) {
        int node = gv->tab_order[((at + dir * k) % n + n) % n];
        char *label = vg_gnode_label(&gv->g.nodes[node]);
        bool hit = strcasestr(label, gv->search) != NULL;
        free(label);
        if (hit) {
            select_node(t, node);
            return true;
        }
    }
    snprintf(t->msg, sizeof t->msg, "no node matches '%.100s'", gv->search);
    return false;
}

static void step_node(tui *t, int dir)
{
    tui_graph *gv = t->graph;
    int n = (int)gv->g.n, at = 0;
    if (!n)
        return;
    for (int i = 0; i < n; i++)
        if (gv->tab_order[i] == gv->sel)
            at = i;
    select_node(t, gv->tab_order[((at + dir) % n + n) % n]);
}

static void pan(tui *t, int dy, int dx)
{
    tui_graph *gv = t->graph;
    gv->top += dy;
    gv->left += dx;
    if (gv->top > gv->l.height - area_rows(t))
        gv->top = gv->l.height - area_rows(t);
    if (gv->left > gv->l.width - t->cols)
        gv->left = gv->l.width - t->cols;
    if (gv->top < 0)
        gv->top = 0;
    if (gv->left < 0)
        gv->left = 0;
}

/* Show or hide the values of case (the selected case, or the owner of a folded
 * node). */
static void toggle_fold(tui *t)
{
    tui_graph *gv = t->graph;
    if (gv->sel < 0 || gv->g.nodes[gv->sel].kind == VG_GNODE_VALUE ||
        gv->g.nodes[gv->sel].kind == VG_GNODE_INTEL) {
        snprintf(t->msg, sizeof t->msg, "c folds a case's values: select a case or a +N node");
        return;
    }
    const char *id = gv->g.nodes[gv->sel].case_id;
    for (size_t i = 0; i < gv->nunfolded; i++)
        if (strcmp(gv->unfolded[i], id) == 0) {
            memmove(&gv->unfolded[i], &gv->unfolded[i + 1],
                    (gv->nunfolded - i - 1) * sizeof *gv->unfolded);
            gv->nunfolded--;
            rebuild(t);
            return;
        }
    gv->unfolded = vg_xrealloc(gv->unfolded, (gv->nunfolded + 1) * sizeof *gv->unfolded);
    memcpy(gv->unfolded[gv->nunfolded++], id, sizeof(vg_id));
    rebuild(t);
}

/* Enter: a case opens; a value lists every case it is on; a folded node unfolds. */
static void open_node(tui *t)
{
    tui_graph *gv = t->graph;
    if (gv->sel < 0)
        return;
    const vg_gnode *n = &gv->g.nodes[gv->sel];
    if (n->kind == VG_GNODE_CASE) {
        vg_id id;
        memcpy(id, n->case_id, sizeof id);
        t->tab = 0;
        tui_case_open(t, id);
        return;
    }
    if (n->kind == VG_GNODE_MORE) {
        toggle_fold(t);
        return;
    }
    if (n->kind == VG_GNODE_INTEL) { /* the graph's values this feed knows */
        detail_free(gv);
        gv->detail = vg_xcalloc(gv->g.ne + 3, sizeof *gv->detail);
        char *label = vg_gnode_label(n);
        size_t len = strlen(label) + 64;
        gv->detail[gv->ndetail] = vg_xmalloc(len);
        snprintf(gv->detail[gv->ndetail++], len, "%s knows these values of the graph:", label);
        free(label);
        gv->detail[gv->ndetail++] = vg_xstrdup("");
        for (size_t e = 0; e < gv->g.ne; e++)
            if (gv->g.edges[e].a == gv->sel)
                gv->detail[gv->ndetail++] = vg_gnode_label(&gv->g.nodes[gv->g.edges[e].b]);
        return;
    }
    vg_related *r;
    size_t cnt;
    vg_err err = {0};
    if (vg_value_cases(t->ws, n->type, n->value, &r, &cnt, &err) != VG_OK) {
        snprintf(t->msg, sizeof t->msg, "%.200s", err.msg);
        vg_related_free(r, cnt);
        return;
    }
    detail_free(gv);
    gv->detail = vg_xcalloc(cnt + 3, sizeof *gv->detail);
    char *label = vg_gnode_label(n);
    size_t len = strlen(label) + 64;
    gv->detail[gv->ndetail] = vg_xmalloc(len);
    snprintf(gv->detail[gv->ndetail++], len, "%s is on %zu case%s:", label, cnt, cnt == 1 ? "" : "s");
    free(label);
    gv->detail[gv->ndetail++] = vg_xstrdup("");
    for (size_t i = 0; i < cnt; i++) {
        len = strlen(r[i].title) + 64;
        gv->detail[gv->ndetail] = vg_xmalloc(len);
        snprintf(gv->detail[gv->ndetail++], len, "#%-5lld %-8s %-11s %s", (long long)r[i].ref,
                 vg_enum_name(&VG_SEVERITY, r[i].severity), vg_enum_name(&VG_STATUS, r[i].status),
                 r[i].title);
    }
    vg_related_free(r, cnt);
}

int tui_graph_command(tui *t, int argc, char **argv)
{
    tui_graph *gv = t->graph;
    const char *c = argv[0];
    if (!gv)
        return 0;
    if (gv->detail) { /* the overlay takes the next key and closes */
        detail_free(gv);
        return strcmp(c, "quit") != 0 && strcmp(c, "help") != 0;
    }
    int page = area_rows(t) > 1 ? area_rows(t) - 1 : 1;
    if (strcmp(c, "down") == 0)
        pan(t, 1, 0);
    else if (strcmp(c, "up") == 0)
        pan(t, -1, 0);
    else if (strcmp(c, "left") == 0)
        pan(t, 0, -4);
    else if (strcmp(c, "right") == 0)
        pan(t, 0, 4);
    else if (strcmp(c, "page-down") == 0)
        pan(t, page, 0);
    else if (strcmp(c, "page-up") == 0)
        pan(t, -page, 0);
    else if (strcmp(c, "top") == 0)
        pan(t, -(1 << 29), -(1 << 29));
    else if (strcmp(c, "bottom") == 0)
        pan(t, 1 << 29, 0);
    else if (strcmp(c, "tab") == 0 && gv->root[0]) { /* a case's graph: Tab is its tabs' */
        int dir = argc > 1 && strcmp(argv[1], "prev") == 0 ? -1 : 1;
        vg_id id;
        memcpy(id, gv->root, sizeof id);
        t->view = VIEW_CASE;
        t->tab = tui_graph_tab();
        tui_case_tab(t, dir);
        if (t->view == VIEW_CASE && strcmp(t->case_id, id) != 0)
            tui_case_open(t, id);
    } else if (strcmp(c, "tab") == 0 || strcmp(c, "node") == 0) /* ] and [, Tab in m's */
        step_node(t, argc > 1 && strcmp(argv[1], "prev") == 0 ? -1 : 1);
    else if (strcmp(c, "open") == 0 && argc == 1)
        open_node(t);
    else if (strcmp(c, "filter") == 0) {
        char q[128] = "";
        if (argc > 1)
            snprintf(q, sizeof q, "%s", argv[1]);
        else
            tui_prompt(t, "/", q, sizeof q);
        snprintf(gv->search, sizeof gv->search, "%s", q);
        if (q[0])
            find_step(t, 1);
    } else if (strcmp(c, "next-match") == 0 || strcmp(c, "prev-match") == 0) {
        if (gv->search[0])
            find_step(t, c[0] == 'n' ? 1 : -1);
    } else if (strcmp(c, "depth") == 0) {
        char *end = NULL;
        long step = argc > 1 ? strtol(argv[1], &end, 10) : 1;
        int d = gv->depth + (int)(step > -9 && step < 9 ? step : 99);
        if (argc > 1 && (end == argv[1] || *end))
            snprintf(t->msg, sizeof t->msg, "depth +1 or -1");
        else if (!gv->root[0])
            snprintf(t->msg, sizeof t->msg, "the workspace graph has every case: no depth");
        else if (d < 1 || d > 8)
            snprintf(t->msg, sizeof t->msg, "depth goes from 1 to 8");
        else {
            gv->depth = d;
            rebuild(t);
        }
    } else if (strcmp(c, "graph-filter") == 0) {
        gv->filter = (gv->filter + 1) % F__N;
        rebuild(t);
        snprintf(t->msg, sizeof t->msg, "graph: %s", FILTER_NAMES[gv->filter]);
    } else if (strcmp(c, "collapse") == 0)
        toggle_fold(t);
    else if (strcmp(c, "refresh") == 0)
        rebuild(t);
    else if (strcmp(c, "back") == 0 && !t->help) {
        if (gv->root[0]) {
            t->tab = 0;
            vg_id id;
            memcpy(id, gv->root, sizeof id);
            tui_case_open(t, id);
        } else {
            t->view = VIEW_QUEUE;
            tui_queue_load(t);
        }
    } else
        return 0;
    return 1;
}

const char *tui_graph_binding(const tui *t, const char *key)
{
    static const struct { const char *key, *command; } b[] = {
        {"c", "collapse"}, {"]", "node next"}, {"[", "node prev"},
    };
    for (size_t i = 0; t->view == VIEW_GRAPH && i < sizeof b / sizeof *b; i++)
        if (strcmp(b[i].key, key) == 0)
            return b[i].command;
    return NULL;
}
