/*
 * cmd_graph.c — `vigil graph` (the investigation graph as a drawing for a ticket,
 * Graphviz DOT or JSON) and `vigil related` (the cases sharing values with one
 * case, and which values). The graph and its layout come from the core
 * (graph.h); this file parses options and prints.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "vigil/graph.h"
#include "vigil/json.h"
#include "vigil/model.h"
#include "vigil/query.h"
#include "vigil/text.h"
#include "vigil/timefmt.h"

#define MAX_ROOTS 64

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "7d", "12h", "90m" (that long ago) or "2026-11-03" (UTC midnight) as ms. */
static int parse_when(cli *c, const char *name, const char *v, int64_t *out)
{
    char what[32];
    snprintf(what, sizeof what, "--%s", name);
    vg_err err = {0};
    if (vg_parse_when(what, v, vg_now_ms(), VG_WHEN_FUTURE, out, &err) != VG_OK)
        return cli_usage(c, "%s", err.msg);
    return EXIT_OK;
}

static void dot_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            putchar('\\');
        putchar(*s);
    }
    putchar('"');
}

/* DOT with vigil's ranks pinned (rank=same groups on an invisible spine), so dot
 * orders and places the same ranks vigil used. */
static void print_dot(const vg_graph *g, const vg_glayout *l)
{
    printf("digraph vigil {\n  rankdir=LR;\n  node [shape=plaintext, fontname=monospace];\n");
    for (size_t i = 0; i < g->n; i++) {
        printf("  n%zu [label=", i);
        dot_str(l->labels[i].text);
        printf("%s];\n", g->nodes[i].kind == VG_GNODE_CASE    ? ", shape=box"
                         : g->nodes[i].kind == VG_GNODE_INTEL ? ", shape=note"
                                                              : "");
    }
    for (int r = 0; r < l->nranks; r++) {
        printf("  { rank=same; r%d [style=invis, label=\"\"];", r);
        for (size_t i = 0; i < g->n; i++)
            if (l->rank[i] == r)
                printf(" n%zu;", i);
        printf(" }\n");
        if (r > 0)
            printf("  r%d -> r%d [style=invis];\n", r - 1, r);
    }
    for (size_t e = 0; e < g->ne; e++) {
        int a = g->edges[e].a, b = g->edges[e].b;
        if (l->rank[b] < l->rank[a])
            a = g->edges[e].b, b = g->edges[e].a;
        printf("  n%d -> n%d%s;\n", a, b, g->edges[e].bridge ? " [style=dashed, arrowhead=none]" : " [arrowhead=none]");
    }
    printf("}\n");
}

int cmd_graph(cli *c, int argc, char **argv)
{
    opt o[] = {{"depth=", NULL}, {"type=", NULL}, {"severity=", NULL}, {"status=", NULL},
               {"since=", NULL}, {"until=", NULL}, {"connected", NULL}, {"collapse=", NULL},
               {"expand=", NULL}, {"max-nodes=", NULL}, {"label-width=", NULL}, {"ascii", NULL},
               {"dot", NULL}, {"json", NULL}, {"stats", NULL}};
    int no = (int)(sizeof o / sizeof *o), npos, rc;
    char *pos[MAX_ROOTS];
    if ((rc = cli_parse(c, argc, argv, o, no, pos, MAX_ROOTS, &npos)))
        return rc;
    vg_graph_opts go = {.collapse = -1};
    vg_layout_opts lo = {.selected = -1, .ascii = (c->text_flags & VG_TEXT_ASCII) || opt_get(o, no, "ascii")};
    int64_t num;
    vg_err err = {0};
    const char *v;
    if ((v = opt_get(o, no, "depth"))) {
        if ((rc = cli_count(c, "depth", v, 1, 16, &num)))
            return rc;
        go.depth = (int)num;
    }
    if ((v = opt_get(o, no, "type")) && vg_graph_types_parse(v, &go.types, &err) != VG_OK)
        return cli_usage(c, "--%s", err.msg);
    if ((v = opt_get(o, no, "severity")) && (rc = cli_mask(c, &VG_SEVERITY, v, &go.severity_mask)))
        return rc;
    if ((v = opt_get(o, no, "status")) && (rc = cli_mask(c, &VG_STATUS, v, &go.status_mask)))
        return rc;
    if ((v = opt_get(o, no, "since")) && (rc = parse_when(c, "since", v, &go.since_ms)))
        return rc;
    if ((v = opt_get(o, no, "until")) && (rc = parse_when(c, "until", v, &go.until_ms)))
        return rc;
    if ((v = opt_get(o, no, "collapse"))) {
        if ((rc = cli_count(c, "collapse", v, 0, 1000000, &num)))
            return rc;
        go.collapse = (int)num;
    }
    if ((v = opt_get(o, no, "max-nodes"))) {
        if ((rc = cli_count(c, "max-nodes", v, 1, 1000000, &num)))
            return rc;
        go.max_nodes = (int)num;
    }
    if ((v = opt_get(o, no, "label-width"))) {
        if ((rc = cli_count(c, "label-width", v, 8, 400, &num)))
            return rc;
        lo.label_cols = (int)num;
    }
    go.connected_only = opt_get(o, no, "connected") != NULL;
    if ((rc = cli_open(c, 0)))
        return rc;

    double t0 = now_s();
    char roots[MAX_ROOTS][27], expand[1][27];
    const char *root_ptr[MAX_ROOTS], *expand_ptr[1];
    for (int i = 0; i < npos; i++) {
        if ((rc = cli_case(c, pos[i], roots[i])))
            return rc;
        root_ptr[i] = roots[i];
    }
    go.roots = root_ptr;
    go.nroots = (size_t)npos;
    if ((v = opt_get(o, no, "expand"))) {
        if ((rc = cli_case(c, v, expand[0])))
            return rc;
        expand_ptr[0] = expand[0];
        go.expand = expand_ptr;
        go.nexpand = 1;
    }
    vg_graph g;
    if (vg_graph_build(c->ws, &go, &g, &err) != VG_OK) {
        vg_graph_free(&g);
        return cli_fail(c, &err);
    }
    double t1 = now_s();
    vg_glayout l;
    vg_graph_layout(&g, &lo, &l);
    double t2 = now_s();
    if (opt_get(o, no, "json")) {
        out_json(vg_graph_json(&g, &l));
    } else if (opt_get(o, no, "dot")) {
        print_dot(&g, &l);
    } else {
        for (int y = 0; y < l.height; y++) {
            char *row = vg_glayout_row(&l, y);
            puts(row);
            free(row);
        }
    }
    double t3 = now_s();
    if (g.truncated)
        fprintf(stderr, "vigil: graph: cut at %zu nodes (--max-nodes, or narrow it with --type,"
                        " --severity, --status, --since)\n", g.n);
    if (opt_get(o, no, "stats"))
        fprintf(stderr, "graph: %zu nodes %zu edges %d ranks %" PRId64 " crossings;"
                        " build %.2f ms layout %.2f ms draw %.2f ms\n",
                g.n, g.ne, l.nranks, l.crossings, (t1 - t0) * 1e3, (t2 - t1) * 1e3,
                (t3 - t2) * 1e3);
    vg_glayout_free(&l);
    vg_graph_free(&g);
    return EXIT_OK;
}

int cmd_related(cli *c, int argc, char **argv)
{
    opt o[] = {{"json", NULL}};
    int npos, rc;
    char *pos[1], id[27];
    if ((rc = cli_parse(c, argc, argv, o, 1, pos, 1, &npos)))
        return rc;
    if (npos != 1)
        return cli_usage(c, "which case? (REF)");
    if ((rc = cli_open(c, 0)) || (rc = cli_case(c, pos[0], id)))
        return rc;
    vg_related *r;
    size_t n;
    vg_err err = {0};
    if (vg_related_list(c->ws, id, &r, &n, &err) != VG_OK) {
        vg_related_free(r, n);
        return cli_fail(c, &err);
    }
    if (opt_get(o, 1, "json")) {
        out_json(vg_related_json(r, n));
    } else {
        for (size_t i = 0; i < n; i++) {
            if (i == 0 || r[i].ref != r[i - 1].ref) {
                char ref[24];
                snprintf(ref, sizeof ref, "#%lld", (long long)r[i].ref);
                printf("%-6s %-8s %-11s ", ref, vg_enum_name(&VG_SEVERITY, r[i].severity),
                       vg_enum_name(&VG_STATUS, r[i].status));
                out_fit(c, r[i].title, c->width > 40 ? c->width - 28 : 0, false);
                putchar('\n');
            }
            printf("       %-10s ", vg_enum_name(&VG_ARTIFACT_TYPE, r[i].type));
            out_safe(c, r[i].value);
            putchar('\n');
        }
        if (n == 0)
            printf("no other case shares a value with it\n");
    }
    vg_related_free(r, n);
    return EXIT_OK;
}
