/*
 * layout.c — the investigation graph on a character grid (contract in graph.h).
 *
 * A layered (Sugiyama) layout drawn left to right: ranks are columns, each node one
 * row of text, because labels are horizontal and a terminal is taller in rows than
 * a label is wide in columns. The steps:
 *
 *  1. Ranking. Edges are oriented away from the roots by a breadth-first walk (from
 *     each part's lowest case when it holds no root) and ranked by longest path.
 *     The graph is bipartite (case to value), so every edge then spans exactly one
 *     rank and no dummy nodes are needed.
 *  2. Crossing reduction. Down and up sweeps ordering each rank by the
 *     barycenter of its neighbours' places in the fixed rank (median to break
 *     ties; on these graphs, hubs shared by dozens of cases, the barycenter does
 *     better), then adjacent transpositions while they remove crossings; the best
 *     order seen is kept. Then one round of sifting: each node is taken out and
 *     put back where it crosses least. On graphs up to 1,000 nodes all of it runs
 *     from a second start (depth-first order) and the better result wins.
 *     Crossings are counted per rank pair by counting inversions with a Fenwick
 *     tree (O(E log V)). Parts of the graph stay in contiguous blocks so two
 *     investigations never interleave.
 *  3. Rows. Each part gets its own band of rows; within it, each rank's rows are
 *     the least-squares fit to the mean row of the neighbours under the order and
 *     one-row separation constraints, solved exactly by pool-adjacent-violators;
 *     sweeps alternate down and up. This keeps edges short and mostly straight.
 *  4. Routing. Between two rank columns, the edges leaving one node share one
 *     vertical track (a fan); overlapping fans get different tracks, ordered so
 *     that fans going up and down do not cut each other's lines (net_key), by
 *     first fit where a cluster of fans is large. Each cell records the
 *     directions of the lines through it and becomes the box-drawing character
 *     for them (ASCII with --ascii); a cell only bridge edges pass is dashed.
 *
 * Everything iterates in node-index order with stable tie-breaks, so the same graph
 * gives the same drawing.
 */
#include "vigil/graph.h"
#include "vigil/text.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { D_N = 1, D_E = 2, D_S = 4, D_W = 8 };

/* ---- adjacency ------------------------------------------------------------------ */

typedef struct adj {
    int *start, *list; /* CSR: neighbours of i are list[start[i]..start[i+1]) */
} adj;

static void adj_build(const vg_graph *g, adj *a)
{
    a->start = vg_xcalloc(g->n + 2, sizeof *a->start);
    a->list = vg_xmalloc((2 * g->ne + 1) * sizeof *a->list);
    for (size_t e = 0; e < g->ne; e++) {
        a->start[g->edges[e].a + 2]++;
        a->start[g->edges[e].b + 2]++;
    }
    for (size_t i = 2; i < g->n + 2; i++)
        a->start[i] += a->start[i - 1];
    for (size_t e = 0; e < g->ne; e++) {
        a->list[a->start[g->edges[e].a + 1]++] = g->edges[e].b;
        a->list[a->start[g->edges[e].b + 1]++] = g->edges[e].a;
    }
}

static void adj_free(adj *a)
{
    free(a->start);
    free(a->list);
}

/* ---- crossings ------------------------------------------------------------------ */

static int cmp_int(const void *x, const void *y)
{
    int a = *(const int *)x, b = *(const int *)y;
    return (a > b) - (a < b);
}

typedef struct pair {
    int u, v;
} pair;

static int cmp_pair(const void *x, const void *y)
{
    const pair *a = x, *b = y;
    if (a->u != b->u)
        return (a->u > b->u) - (a->u < b->u);
    return (a->v > b->v) - (a->v < b->v);
}

/* Inversions among the v of pairs already sorted by (u, v): the crossings of a
 * rank pair. tree holds size + 1 counters. */
static int64_t inversions_sorted(const pair *p, size_t n, int *tree, int size)
{
    memset(tree, 0, (size_t)(size + 1) * sizeof *tree);
    int64_t inv = 0;
    for (size_t i = 0; i < n; i++) {
        int seen_le = 0;
        for (int k = p[i].v + 1; k > 0; k -= k & -k)
            seen_le += tree[k];
        inv += (int64_t)i - seen_le;
        for (int k = p[i].v + 1; k <= size; k += k & -k)
            tree[k]++;
    }
    return inv;
}

static int64_t inversions(pair *p, size_t n, int *tree, int size)
{
    qsort(p, n, sizeof *p, cmp_pair);
    return inversions_sorted(p, n, tree, size);
}

/* Sort a few ints (a node's neighbour places: usually one to three). */
static void sort_small(int *a, int n)
{
    if (n > 16) {
        qsort(a, (size_t)n, sizeof *a, cmp_int);
        return;
    }
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && a[j - 1] > a[j]; j--) {
            int t = a[j];
            a[j] = a[j - 1];
            a[j - 1] = t;
        }
}

int64_t vg_graph_crossings(const vg_graph *g, const int *rank, const int *order)
{
    int nranks = 0, maxo = 0;
    for (size_t i = 0; i < g->n; i++) {
        if (rank[i] + 1 > nranks)
            nranks = rank[i] + 1;
        if (order[i] + 1 > maxo)
            maxo = order[i] + 1;
    }
    pair *p = vg_xmalloc((g->ne + 1) * sizeof *p);
    int *tree = vg_xmalloc((size_t)(maxo + 2) * sizeof *tree);
    int64_t total = 0;
    for (int r = 0; r + 1 < nranks; r++) {
        size_t np = 0;
        for (size_t e = 0; e < g->ne; e++) {
            int a = g->edges[e].a, b = g->edges[e].b;
            if (rank[b] == r)
                a = b, b = g->edges[e].a;
            if (rank[a] == r && rank[b] == r + 1)
                p[np++] = (pair){order[a], order[b]};
        }
        total += inversions(p, np, tree, maxo + 1);
    }
    free(p);
    free(tree);
    return total;
}

/* ---- the layered structure ------------------------------------------------------- */

typedef struct lay {
    const vg_graph *g;
    adj a;
    int n, nranks;
    int *rank, *comp, *pos;  /* per node */
    int **layer;             /* per rank: nodes in order */
    int *lsize;
    double *key, *key2;      /* sort keys during a sweep */
    int *tmp, *tmp2;
    int64_t *gap;            /* crossings between rank r and r + 1 (kept by transpose) */
    pair *pairs;
    int *tree;
} lay;

static void rank_nodes(lay *L)
{
    const vg_graph *g = L->g;
    int n = L->n;
    int *queue = vg_xmalloc((size_t)(n + 1) * sizeof *queue);
    for (int i = 0; i < n; i++)
        L->rank[i] = -1, L->comp[i] = -1;
    int head = 0, tail = 0, ncomp = 0;
    /* Roots first, then each remaining part from its lowest node, which is its
     * lowest case: cases come first in a graph's order. Each walk is one part. */
    for (int pass = 0; pass < 2; pass++) {
        for (int s = 0; s < n; s++) {
            bool is_root = g->nodes[s].kind == VG_GNODE_CASE && g->nodes[s].root;
            if (L->rank[s] >= 0 || (pass == 0 && !is_root))
                continue;
            L->rank[s] = 0;
            L->comp[s] = ncomp++;
            queue[tail++] = s;
            while (head < tail) {
                int u = queue[head++];
                for (int k = L->a.start[u]; k < L->a.start[u + 1]; k++) {
                    int v = L->a.list[k];
                    if (L->rank[v] < 0) {
                        L->rank[v] = L->rank[u] + 1;
                        L->comp[v] = L->comp[u];
                        queue[tail++] = v;
                    }
                }
            }
        }
    }
    /* Longest path over edges oriented by the walk: in BFS order, a node's rank is
     * one more than its highest earlier neighbour. On a bipartite graph this equals
     * the walk's distance; it is computed so that the rule is explicit. */
    for (int i = 0; i < tail; i++) {
        int u = queue[i], r = 0;
        for (int k = L->a.start[u]; k < L->a.start[u + 1]; k++) {
            int v = L->a.list[k];
            if (L->rank[v] < L->rank[u] && L->rank[v] + 1 > r)
                r = L->rank[v] + 1;
        }
        L->rank[u] = r;
    }
    L->nranks = 0;
    for (int i = 0; i < n; i++)
        if (L->rank[i] + 1 > L->nranks)
            L->nranks = L->rank[i] + 1;
    L->lsize = vg_xcalloc((size_t)L->nranks + 1, sizeof *L->lsize);
    L->layer = vg_xcalloc((size_t)L->nranks + 1, sizeof *L->layer);
    for (int i = 0; i < n; i++)
        L->lsize[L->rank[i]]++;
    for (int r = 0; r < L->nranks; r++) {
        L->layer[r] = vg_xmalloc((size_t)(L->lsize[r] + 1) * sizeof **L->layer);
        L->lsize[r] = 0;
    }
    /* Initial order: the walk's order, which keeps each part together. */
    for (int i = 0; i < tail; i++) {
        int u = queue[i];
        L->pos[u] = L->lsize[L->rank[u]];
        L->layer[L->rank[u]][L->lsize[L->rank[u]]++] = u;
    }
    free(queue);
}

/* Crossings between rank r and r + 1 in the current order. */
static int64_t count_gap(lay *L, int r)
{
    if (r < 0 || r + 1 >= L->nranks)
        return 0;
    size_t np = 0;
    int *vals = L->tmp2;
    for (int i = 0; i < L->lsize[r]; i++) {
        int u = L->layer[r][i], nv = 0;
        for (int k = L->a.start[u]; k < L->a.start[u + 1]; k++)
            if (L->rank[L->a.list[k]] == r + 1)
                vals[nv++] = L->pos[L->a.list[k]];
        sort_small(vals, nv);
        for (int k = 0; k < nv; k++)
            L->pairs[np++] = (pair){i, vals[k]};
    }
    return inversions_sorted(L->pairs, np, L->tree, L->lsize[r + 1] + 1);
}

/* Count every rank pair into L->gap; returns the sum. */
static int64_t count_all(lay *L)
{
    int64_t total = 0;
    for (int r = 0; r + 1 < L->nranks; r++)
        total += L->gap[r] = count_gap(L, r);
    return total;
}

/* Crossings on either side of rank r, from L->gap. */
static int64_t gaps_around(const lay *L, int r)
{
    return (r > 0 ? L->gap[r - 1] : 0) + (r + 1 < L->nranks ? L->gap[r] : 0);
}

static lay *sort_lay;

static int cmp_key(const void *x, const void *y)
{
    int a = *(const int *)x, b = *(const int *)y;
    const lay *L = sort_lay;
    if (L->comp[a] != L->comp[b])
        return L->comp[a] < L->comp[b] ? -1 : 1;
    if (L->key[a] != L->key[b])
        return L->key[a] < L->key[b] ? -1 : 1;
    if (L->key2[a] != L->key2[b])
        return L->key2[a] < L->key2[b] ? -1 : 1;
    return (L->pos[a] > L->pos[b]) - (L->pos[a] < L->pos[b]);
}

/* Order rank r by the barycenter (then median) of its neighbours in rank fixed.
 * Nodes with no neighbour there keep their place. */
static void order_rank(lay *L, int r, int fixed)
{
    int n = L->lsize[r];
    int *movable = L->tmp, nm = 0;
    int *vals = vg_xmalloc(sizeof *vals * (size_t)(L->lsize[fixed] + 1));
    bool *stays = vg_xcalloc((size_t)n + 1, sizeof *stays);
    for (int i = 0; i < n; i++) {
        int u = L->layer[r][i], nv = 0;
        double sum = 0;
        for (int k = L->a.start[u]; k < L->a.start[u + 1]; k++) {
            int v = L->a.list[k];
            if (L->rank[v] == fixed) {
                vals[nv++] = L->pos[v];
                sum += L->pos[v];
            }
        }
        if (!nv) {
            stays[i] = true;
            continue;
        }
        qsort(vals, (size_t)nv, sizeof *vals, cmp_int);
        double med = nv % 2 ? vals[nv / 2] : (vals[nv / 2 - 1] + vals[nv / 2]) / 2.0;
        L->key[u] = sum / nv;
        L->key2[u] = med;
        movable[nm++] = u;
    }
    sort_lay = L;
    qsort(movable, (size_t)nm, sizeof *movable, cmp_key);
    sort_lay = NULL;
    for (int i = 0, m = 0; i < n; i++)
        if (!stays[i])
            L->layer[r][i] = movable[m++];
    for (int i = 0; i < n; i++)
        L->pos[L->layer[r][i]] = i;
    free(vals);
    free(stays);
}

/* Crossings between the edges of u and of v toward one rank side: *before is the
 * count when u is placed before v (pairs, x of u and y of v, with x after y),
 * *after when v is placed before u (x before y). xu/xv are sorted places. One
 * merge gives both, as pairs are before, after or at the same place. */
static void pair_cross(const int *xu, int nu, const int *xv, int nv, int64_t *before,
                       int64_t *after)
{
    int64_t gt = 0, eq = 0;
    int j = 0, k = 0;
    for (int i = 0; i < nu; i++) {
        while (j < nv && xv[j] < xu[i])
            j++;
        k = k > j ? k : j;
        while (k < nv && xv[k] == xu[i])
            k++;
        gt += j;
        eq += k - j;
    }
    *before += gt;
    *after += (int64_t)nu * nv - gt - eq;
}

/* Sorted neighbour positions of u in rank side, into out; returns how many. */
static int nb_pos(const lay *L, int u, int side, int *out)
{
    int n = 0;
    for (int k = L->a.start[u]; k < L->a.start[u + 1]; k++)
        if (L->rank[L->a.list[k]] == side)
            out[n++] = L->pos[L->a.list[k]];
    sort_small(out, n);
    return n;
}

/* Swap neighbours in each rank while that removes crossings. The sorted places of
 * a node's neighbours in the ranks beside it do not change while its own rank is
 * being transposed, so they are gathered once per rank (into buf, by node: side 0
 * the rank before, 1 the rank after). */
static int64_t transpose(lay *L, int *buf, int *off, int *cnt)
{
    int64_t total = count_all(L);
    for (int pass = 0; pass < 4 && total > 0; pass++) {
        bool improved = false;
        for (int r = 0; r < L->nranks; r++) {
            if (!gaps_around(L, r))
                continue; /* no pair can gain */
            int at = 0;
            for (int i = 0; i < L->lsize[r]; i++) {
                int u = L->layer[r][i];
                for (int side = 0; side < 2; side++) {
                    int k = u * 2 + side;
                    off[k] = at;
                    cnt[k] = nb_pos(L, u, r - 1 + 2 * side, buf + at);
                    at += cnt[k];
                }
            }
            for (int i = 0; i + 1 < L->lsize[r]; i++) {
                int u = L->layer[r][i], v = L->layer[r][i + 1];
                if (L->comp[u] != L->comp[v])
                    continue;
                int64_t keep[2] = {0, 0}, swap[2] = {0, 0};
                for (int side = 0; side < 2; side++)
                    pair_cross(buf + off[u * 2 + side], cnt[u * 2 + side], buf + off[v * 2 + side],
                               cnt[v * 2 + side], &keep[side], &swap[side]);
                if (swap[0] + swap[1] < keep[0] + keep[1]) {
                    L->layer[r][i] = v;
                    L->layer[r][i + 1] = u;
                    L->pos[u] = i + 1;
                    L->pos[v] = i;
                    if (r > 0)
                        L->gap[r - 1] += swap[0] - keep[0];
                    if (r + 1 < L->nranks)
                        L->gap[r] += swap[1] - keep[1];
                    total += swap[0] + swap[1] - keep[0] - keep[1];
                    improved = true;
                }
            }
        }
        if (!improved)
            break;
    }
    return total;
}

/* Sifting (Matuszewski, Schoenfeld, Molitor): take each node out of its rank and
 * put it back where the crossings with both neighbouring ranks are fewest, within
 * its part's block. Moving u past v changes the count by c(v, u) - c(u, v), so
 * each node costs one walk over its block. Neighbour places are gathered once per
 * rank as in transpose. */
static void sift(lay *L, int *buf, int *off, int *cnt, int *block, int64_t *cost)
{
    count_all(L); /* ranks with no crossings beside them at the start are left alone */
    for (int r = 0; r < L->nranks; r++) {
        if (!gaps_around(L, r))
            continue;
        int at = 0, size = L->lsize[r];
        for (int i = 0; i < size; i++) {
            int u = L->layer[r][i];
            for (int side = 0; side < 2; side++) {
                int k = u * 2 + side;
                off[k] = at;
                cnt[k] = nb_pos(L, u, r - 1 + 2 * side, buf + at);
                at += cnt[k];
            }
        }
        memcpy(L->tmp, L->layer[r], (size_t)size * sizeof *L->tmp);
        for (int q = 0; q < size; q++) {
            int u = L->tmp[q], p = L->pos[u];
            int bs = p, be = p + 1;
            while (bs > 0 && L->comp[L->layer[r][bs - 1]] == L->comp[u])
                bs--;
            while (be < size && L->comp[L->layer[r][be]] == L->comp[u])
                be++;
            int m = 0;
            for (int i = bs; i < be; i++)
                if (i != p)
                    block[m++] = L->layer[r][i];
            /* cost[j]: crossings (relative) with u placed before block[j] (j = m: last) */
            int64_t c = 0;
            cost[0] = 0;
            for (int j = 0; j < m; j++) {
                int v = block[j];
                int64_t u_first = 0, v_first = 0;
                for (int side = 0; side < 2; side++)
                    pair_cross(buf + off[u * 2 + side], cnt[u * 2 + side], buf + off[v * 2 + side],
                               cnt[v * 2 + side], &u_first, &v_first);
                c += v_first - u_first;
                cost[j + 1] = c;
            }
            int orig = p - bs, best = orig;
            for (int j = 0; j <= m; j++) {
                int dj = j > orig ? j - orig : orig - j, db = best > orig ? best - orig : orig - best;
                if (cost[j] < cost[best] || (cost[j] == cost[best] && dj < db))
                    best = j;
            }
            for (int j = 0, i = bs; j <= m; j++) {
                if (j == best)
                    L->layer[r][i++] = u;
                if (j < m)
                    L->layer[r][i++] = block[j];
            }
            for (int i = bs; i < be; i++)
                L->pos[L->layer[r][i]] = i;
        }
    }
}

/* A second starting order: depth-first from each part's first node in rank 0,
 * neighbours in index order, each rank filled in discovery order. */
static void dfs_order(lay *L)
{
    int n = L->n;
    int *stack = vg_xmalloc((size_t)(2 * L->g->ne + n + 1) * sizeof *stack);
    bool *seen = vg_xcalloc((size_t)n + 1, sizeof *seen);
    int *fill = vg_xcalloc((size_t)L->nranks + 1, sizeof *fill);
    int *seeds = vg_xmalloc((size_t)(L->lsize[0] + 1) * sizeof *seeds);
    memcpy(seeds, L->layer[0], (size_t)L->lsize[0] * sizeof *seeds);
    for (int si = 0; si < L->lsize[0]; si++) {
        int top = 0;
        stack[top++] = seeds[si];
        while (top) {
            int u = stack[--top];
            if (seen[u])
                continue;
            seen[u] = true;
            L->pos[u] = fill[L->rank[u]];
            L->layer[L->rank[u]][fill[L->rank[u]]++] = u;
            for (int k = L->a.start[u + 1] - 1; k >= L->a.start[u]; k--)
                if (!seen[L->a.list[k]])
                    stack[top++] = L->a.list[k];
        }
    }
    free(stack);
    free(seen);
    free(fill);
    free(seeds);
}

static int64_t reduce_crossings(lay *L)
{
    int n = L->n;
    int *best = vg_xmalloc((size_t)(n + 1) * sizeof *best);
    int *buf = vg_xmalloc((2 * L->g->ne + 1) * sizeof *buf);
    int *off = vg_xmalloc((size_t)(2 * n + 1) * sizeof *off), *cnt = vg_xmalloc((size_t)(2 * n + 1) * sizeof *cnt);
    int64_t best_c = transpose(L, buf, off, cnt);
    memcpy(best, L->pos, (size_t)n * sizeof *best);
    for (int it = 0, stall = 0; it < 24 && best_c > 0 && stall < 4; it++) {
        if (it % 2 == 0)
            for (int r = 1; r < L->nranks; r++)
                order_rank(L, r, r - 1);
        else
            for (int r = L->nranks - 2; r >= 0; r--)
                order_rank(L, r, r + 1);
        int64_t c = transpose(L, buf, off, cnt);
        if (c < best_c) {
            best_c = c;
            memcpy(best, L->pos, (size_t)n * sizeof *best);
            stall = 0;
        } else {
            stall++;
        }
    }
    memcpy(L->pos, best, (size_t)n * sizeof *best);
    for (int i = 0; i < n; i++)
        L->layer[L->rank[i]][L->pos[i]] = i;
    /* Then one round of sifting (and transposition after it), kept if it helps:
     * on dense parts it removes a quarter of what the sweeps leave; a second
     * round gains under 1% for as much time again. */
    int *block = vg_xmalloc((size_t)(n + 1) * sizeof *block);
    int64_t *cost = vg_xmalloc((size_t)(n + 2) * sizeof *cost);
    if (best_c > 0) {
        sift(L, buf, off, cnt, block, cost);
        int64_t c = transpose(L, buf, off, cnt);
        if (c < best_c) {
            best_c = c;
            memcpy(best, L->pos, (size_t)n * sizeof *best);
        }
    }
    memcpy(L->pos, best, (size_t)n * sizeof *best);
    for (int i = 0; i < n; i++)
        L->layer[L->rank[i]][L->pos[i]] = i;
    free(block);
    free(cost);
    free(best);
    free(buf);
    free(off);
    free(cnt);
    return best_c;
}

/* ---- rows ------------------------------------------------------------------------ */

/* Least-squares rows for a run of nodes in order: minimise sum w (y - d)^2 with
 * y[i+1] >= y[i] + 1, by pool-adjacent-violators on z = y - i. */
static void pava(const double *d, const double *w, double *y, int n, double *bw, double *bv,
                 int *bn)
{
    int nb = 0;
    for (int i = 0; i < n; i++) {
        bw[nb] = w[i];
        bv[nb] = d[i] - i;
        bn[nb] = 1;
        nb++;
        while (nb > 1 && bv[nb - 2] > bv[nb - 1]) {
            double tw = bw[nb - 2] + bw[nb - 1];
            bv[nb - 2] = (bv[nb - 2] * bw[nb - 2] + bv[nb - 1] * bw[nb - 1]) / tw;
            bw[nb - 2] = tw;
            bn[nb - 2] += bn[nb - 1];
            nb--;
        }
    }
    for (int b = 0, i = 0; b < nb; b++)
        for (int k = 0; k < bn[b]; k++, i++)
            y[i] = bv[b] + i;
}

static void assign_rows(lay *L, int *row)
{
    int n = L->n;
    double *y = vg_xmalloc((size_t)(n + 1) * sizeof *y);
    double *d = vg_xmalloc((size_t)(n + 1) * sizeof *d), *w = vg_xmalloc((size_t)(n + 1) * sizeof *w);
    double *out = vg_xmalloc((size_t)(n + 1) * sizeof *out);
    double *bw = vg_xmalloc((size_t)(n + 1) * sizeof *bw), *bv = vg_xmalloc((size_t)(n + 1) * sizeof *bv);
    int *bn = vg_xmalloc((size_t)(n + 1) * sizeof *bn);
    /* Start packed: each part's run in each rank from 0. */
    for (int r = 0; r < L->nranks; r++)
        for (int i = 0, start = 0; i < L->lsize[r]; i++) {
            int u = L->layer[r][i];
            if (i > 0 && L->comp[L->layer[r][i - 1]] != L->comp[u])
                start = i;
            y[u] = i - start;
        }
    for (int it = 0; it < 8; it++) {
        for (int step = 0; step < L->nranks; step++) {
            int r = it % 2 == 0 ? step : L->nranks - 1 - step;
            int fixed_lo = it % 2 == 0 ? r - 1 : r + 1, fixed_hi = fixed_lo;
            if (it == 7)
                fixed_lo = r - 1, fixed_hi = r + 1; /* last pass: both sides */
            for (int i = 0; i < L->lsize[r];) {
                int j = i;
                while (j < L->lsize[r] && L->comp[L->layer[r][j]] == L->comp[L->layer[r][i]])
                    j++;
                for (int k = i; k < j; k++) {
                    int u = L->layer[r][k], cnt = 0;
                    double sum = 0;
                    for (int e = L->a.start[u]; e < L->a.start[u + 1]; e++) {
                        int v = L->a.list[e];
                        if (L->rank[v] == fixed_lo || L->rank[v] == fixed_hi) {
                            sum += y[v];
                            cnt++;
                        }
                    }
                    d[k - i] = cnt ? sum / cnt : y[u];
                    w[k - i] = cnt ? cnt : 0.01;
                }
                pava(d, w, out, j - i, bw, bv, bn);
                for (int k = i; k < j; k++)
                    y[L->layer[r][k]] = out[k - i];
                i = j;
            }
        }
    }
    /* Round (order is kept: z = y - i is non-decreasing), then give each part its
     * own band of rows, one blank row apart. */
    int ncomp = 0;
    for (int i = 0; i < n; i++)
        if (L->comp[i] + 1 > ncomp)
            ncomp = L->comp[i] + 1;
    int *lo = vg_xmalloc((size_t)(ncomp + 1) * sizeof *lo), *hi = vg_xmalloc((size_t)(ncomp + 1) * sizeof *hi);
    for (int c = 0; c < ncomp; c++)
        lo[c] = 1 << 30, hi[c] = -(1 << 30);
    for (int r = 0; r < L->nranks; r++)
        for (int i = 0, start = 0; i < L->lsize[r]; i++) {
            int u = L->layer[r][i];
            if (i > 0 && L->comp[L->layer[r][i - 1]] != L->comp[u])
                start = i;
            double z = y[u] - (i - start);
            row[u] = (int)floor(z + 0.5) + (i - start);
            /* rounding must not undo the separation */
            if (i > start && row[u] <= row[L->layer[r][i - 1]])
                row[u] = row[L->layer[r][i - 1]] + 1;
        }
    for (int i = 0; i < n; i++) {
        if (row[i] < lo[L->comp[i]])
            lo[L->comp[i]] = row[i];
        if (row[i] > hi[L->comp[i]])
            hi[L->comp[i]] = row[i];
    }
    int *base = vg_xmalloc((size_t)(ncomp + 1) * sizeof *base);
    for (int c = 0, at = 0; c < ncomp; c++) {
        base[c] = at - lo[c];
        at += hi[c] - lo[c] + 2;
    }
    for (int i = 0; i < n; i++)
        row[i] += base[L->comp[i]];
    free(y), free(d), free(w), free(out), free(bw), free(bv), free(bn);
    free(lo), free(hi), free(base);
}

/* ---- drawing --------------------------------------------------------------------- */

/* Cut an already-safe label to cols columns; values keep their start and their end
 * ("url https://evil.exa…/login.php"), cases and the rest their start. */
static char *fit_label(const char *safe, int cols, bool middle, bool ascii)
{
    size_t w = vg_text_width(safe);
    char *out = vg_xmalloc((size_t)cols * 4 + 8);
    if (w <= (size_t)cols || !middle || cols < 12) {
        vg_text_fit(safe, (size_t)cols, false, ascii, out);
        return out;
    }
    int tail_cols = cols / 3;
    /* The shortest suffix at a code point boundary that is at most tail_cols wide. */
    const char *t = safe + strlen(safe);
    while (t > safe) {
        const char *p = t - 1;
        while (p > safe && ((unsigned char)*p & 0xC0) == 0x80)
            p--;
        if (vg_text_width(p) > (size_t)tail_cols || (size_t)(safe + strlen(safe) - p) > (size_t)tail_cols * 4)
            break;
        t = p;
    }
    size_t tw = vg_text_width(t);
    size_t n = vg_text_fit(safe, (size_t)cols - tw, false, ascii, out);
    memcpy(out + n, t, strlen(t) + 1);
    return out;
}

static void cell_line(vg_glayout *l, int x, int y, int dirs, bool bridge)
{
    if (x < 0 || y < 0 || x >= l->width || y >= l->height)
        return;
    size_t i = (size_t)y * (size_t)l->width + (size_t)x;
    l->dirs[i] |= (uint8_t)dirs;
    l->attr[i] |= VG_GCELL_EDGE | (bridge ? VG_GCELL_BRIDGE : VG_GCELL_SOLID);
}

static void cell_hot(vg_glayout *l, int x, int y)
{
    if (x >= 0 && y >= 0 && x < l->width && y < l->height)
        l->attr[(size_t)y * (size_t)l->width + (size_t)x] |= VG_GCELL_HOT;
}

/* Walk the cells of edge e, calling mark (line or hot) on each. */
static void route_edge(vg_glayout *l, const vg_graph *g, size_t e, bool hot)
{
    int u = g->edges[e].a, v = g->edges[e].b;
    if (l->rank[v] < l->rank[u])
        u = g->edges[e].b, v = g->edges[e].a;
    bool br = g->edges[e].bridge;
    int x0 = l->col[u] + l->labels[u].width + 1, x1 = l->rank_x[l->rank[v]] - 2;
    int yu = l->row[u], yv = l->row[v], tx = l->edge_track[e];
    if (tx < 0)
        tx = x1;
    for (int x = x0; x <= tx; x++) {
        if (hot)
            cell_hot(l, x, yu);
        else
            cell_line(l, x, yu, (x > x0 ? D_W : 0) | (x < tx ? D_E : 0) | (x == x0 ? D_W : 0), br);
    }
    int ylo = yu < yv ? yu : yv, yhi = yu < yv ? yv : yu;
    for (int y = ylo; y <= yhi && yu != yv; y++) {
        if (hot)
            cell_hot(l, tx, y);
        else
            cell_line(l, tx, y, (y > ylo ? D_N : 0) | (y < yhi ? D_S : 0), br);
    }
    for (int x = tx; x <= x1; x++) {
        if (hot)
            cell_hot(l, x, yv);
        else
            cell_line(l, x, yv, (x > tx ? D_W : 0) | (x < x1 ? D_E : 0) | (x == x1 ? D_E : 0), br);
    }
}

typedef struct net {
    int src, src_row, lo, hi;
} net;

static int cmp_net(const void *x, const void *y)
{
    const net *a = x, *b = y;
    if (a->lo != b->lo)
        return (a->lo > b->lo) - (a->lo < b->lo);
    if (a->hi != b->hi)
        return (a->hi > b->hi) - (a->hi < b->hi);
    return (a->src > b->src) - (a->src < b->src);
}

/* Left-to-right place of a net among those it overlaps. A horizontal line crosses
 * every vertical it passes, so: nets going up (source below the middle of their
 * span) go left of nets going down; going down, the higher the source the further
 * right; going up, the higher the source the further left. Two such nets then
 * never cross each other's lines. */
static double net_key(const net *n)
{
    bool down = 2 * n->src_row <= n->lo + n->hi;
    return down ? 1e7 - n->src_row : n->src_row - 1e7;
}

static const net *key_nets;

static int cmp_net_key(const void *x, const void *y)
{
    int a = *(const int *)x, b = *(const int *)y;
    double ka = net_key(&key_nets[a]), kb = net_key(&key_nets[b]);
    if (ka != kb)
        return ka < kb ? -1 : 1;
    return (a > b) - (a < b);
}

/* Give each net with a vertical part a track in channel r; returns the number of
 * tracks. track_of[k] is the track of nets[k] (nets are sorted by span). Nets that
 * overlap, directly or through others, form a cluster; a cluster of up to 64 nets
 * is placed in net_key order (each right of every earlier net it overlaps), a
 * bigger one by first fit, which is linear. */
static int assign_tracks(net *nets, int nn, int *track_of)
{
    qsort(nets, (size_t)nn, sizeof *nets, cmp_net);
    int ntracks = 0;
    int *last = vg_xmalloc((size_t)(nn + 1) * sizeof *last);
    int *idx = vg_xmalloc((size_t)(nn + 1) * sizeof *idx);
    for (int i = 0; i < nn;) {
        int j = i, reach = nets[i].hi;
        while (j + 1 < nn && nets[j + 1].lo <= reach) {
            j++;
            if (nets[j].hi > reach)
                reach = nets[j].hi;
        }
        int m = j - i + 1, used = 0;
        if (m <= 64) {
            for (int k = 0; k < m; k++)
                idx[k] = i + k;
            key_nets = nets;
            qsort(idx, (size_t)m, sizeof *idx, cmp_net_key);
            key_nets = NULL;
            for (int k = 0; k < m; k++) {
                int t = 0, a = idx[k];
                for (int p = 0; p < k; p++) {
                    int b = idx[p];
                    if (nets[a].lo <= nets[b].hi && nets[b].lo <= nets[a].hi && track_of[b] + 1 > t)
                        t = track_of[b] + 1;
                }
                track_of[a] = t;
                if (t + 1 > used)
                    used = t + 1;
            }
        } else {
            for (int k = i; k <= j; k++) {
                int t = 0;
                while (t < used && last[t] >= nets[k].lo)
                    t++;
                if (t == used)
                    used++;
                last[t] = nets[k].hi;
                track_of[k] = t;
            }
        }
        if (used > ntracks)
            ntracks = used;
        i = j + 1;
    }
    free(last);
    free(idx);
    return ntracks;
}

void vg_graph_layout(const vg_graph *g, const vg_layout_opts *opts, vg_glayout *out)
{
    memset(out, 0, sizeof *out);
    int n = (int)g->n;
    out->ascii = opts->ascii;
    out->selected = -1;
    out->nnodes = n;
    int cols = opts->label_cols > 0 ? opts->label_cols : 32;
    out->rank = vg_xcalloc((size_t)n + 1, sizeof *out->rank);
    out->order = vg_xcalloc((size_t)n + 1, sizeof *out->order);
    out->row = vg_xcalloc((size_t)n + 1, sizeof *out->row);
    out->col = vg_xcalloc((size_t)n + 1, sizeof *out->col);
    out->labels = vg_xcalloc((size_t)n + 1, sizeof *out->labels);
    out->edge_track = vg_xmalloc((g->ne + 1) * sizeof *out->edge_track);
    if (n == 0) {
        out->rank_x = vg_xcalloc(1, sizeof *out->rank_x);
        return;
    }

    lay L = {.g = g, .n = n, .rank = out->rank, .pos = out->order};
    adj_build(g, &L.a);
    L.comp = vg_xmalloc((size_t)n * sizeof *L.comp);
    L.key = vg_xcalloc((size_t)n, sizeof *L.key);
    L.key2 = vg_xcalloc((size_t)n, sizeof *L.key2);
    L.tmp = vg_xmalloc((size_t)n * sizeof *L.tmp);
    L.tmp2 = vg_xmalloc((size_t)n * sizeof *L.tmp2);
    L.gap = vg_xcalloc((size_t)n + 1, sizeof *L.gap);
    L.pairs = vg_xmalloc((g->ne + 1) * sizeof *L.pairs);
    L.tree = vg_xmalloc((size_t)(n + 2) * sizeof *L.tree);
    rank_nodes(&L);
    /* Two starts (the walk's order, then depth-first) on graphs small enough for
     * the time; the fewer crossings win, the first on a tie. */
    int64_t c1 = reduce_crossings(&L);
    if (c1 > 0 && n <= 1000) {
        int *first = vg_xmalloc((size_t)n * sizeof *first);
        memcpy(first, L.pos, (size_t)n * sizeof *first);
        dfs_order(&L);
        if (reduce_crossings(&L) >= c1) {
            memcpy(L.pos, first, (size_t)n * sizeof *first);
            for (int i = 0; i < n; i++)
                L.layer[L.rank[i]][L.pos[i]] = i;
        }
        free(first);
    }
    out->nranks = L.nranks;
    out->crossings = count_all(&L);
    assign_rows(&L, out->row);

    /* Labels and rank widths. */
    int flags = opts->ascii ? VG_TEXT_ASCII : 0;
    int *rank_w = vg_xcalloc((size_t)L.nranks + 1, sizeof *rank_w);
    for (int i = 0; i < n; i++) {
        char *raw = vg_gnode_label(&g->nodes[i]);
        char *safe = vg_text_safe_dup(raw, flags);
        out->labels[i].text = fit_label(safe, cols, g->nodes[i].kind == VG_GNODE_VALUE, opts->ascii);
        out->labels[i].width = (int)vg_text_width(out->labels[i].text);
        out->labels[i].node = i;
        free(raw);
        free(safe);
        if (out->labels[i].width > rank_w[out->rank[i]])
            rank_w[out->rank[i]] = out->labels[i].width;
    }

    /* Nets and tracks per channel: the edges leaving a node toward the next rank. */
    net *nets = vg_xmalloc((size_t)(2 * n + 1) * sizeof *nets);
    int *track_of = vg_xmalloc((size_t)(2 * n + 1) * sizeof *track_of);
    int *net_of = vg_xmalloc((size_t)(2 * n + 1) * sizeof *net_of); /* by src*2+bridge */
    out->rank_x = vg_xcalloc((size_t)L.nranks + 1, sizeof *out->rank_x);
    int *chan_x = vg_xcalloc((size_t)L.nranks + 1, sizeof *chan_x);
    for (int r = 0; r < L.nranks; r++) {
        int nn = 0;
        for (int i = 0; i < 2 * n; i++)
            net_of[i] = -1;
        for (size_t e = 0; e < g->ne; e++) {
            int u = g->edges[e].a, v = g->edges[e].b;
            if (out->rank[v] < out->rank[u])
                u = g->edges[e].b, v = g->edges[e].a;
            if (out->rank[u] != r)
                continue;
            int key = u * 2; /* one net per source: its solid and bridge edges share a track */
            if (net_of[key] < 0) {
                net_of[key] = nn;
                nets[nn++] = (net){u, out->row[u], out->row[u], out->row[u]};
            }
            net *t = &nets[net_of[key]];
            if (out->row[v] < t->lo)
                t->lo = out->row[v];
            if (out->row[v] > t->hi)
                t->hi = out->row[v];
        }
        /* Straight nets need no track. */
        int nv = 0;
        for (int k = 0; k < nn; k++)
            if (nets[k].lo != nets[k].hi)
                nets[nv++] = nets[k];
        int ntracks = assign_tracks(nets, nv, track_of);
        chan_x[r] = out->rank_x[r] + rank_w[r] + 2;
        out->rank_x[r + 1] = chan_x[r] + ntracks + 2;
        for (int i = 0; i < 2 * n; i++)
            net_of[i] = -1;
        for (int k = 0; k < nv; k++)
            net_of[nets[k].src * 2] = chan_x[r] + track_of[k];
        for (size_t e = 0; e < g->ne; e++) {
            int u = g->edges[e].a, v = g->edges[e].b;
            if (out->rank[v] < out->rank[u])
                u = g->edges[e].b, v = g->edges[e].a;
            if (out->rank[u] == r)
                out->edge_track[e] = net_of[u * 2];
        }
    }

    int h = 0;
    for (int i = 0; i < n; i++) {
        out->col[i] = out->rank_x[out->rank[i]];
        out->labels[i].row = out->row[i];
        out->labels[i].col = out->col[i];
        if (out->row[i] + 1 > h)
            h = out->row[i] + 1;
    }
    out->width = out->rank_x[L.nranks - 1] + rank_w[L.nranks - 1];
    out->height = h;
    size_t cells = (size_t)out->width * (size_t)out->height;
    out->dirs = vg_xcalloc(cells + 1, 1);
    out->attr = vg_xcalloc(cells + 1, 1);
    out->label_at = vg_xcalloc(cells + 1, sizeof *out->label_at);
    for (size_t e = 0; e < g->ne; e++)
        route_edge(out, g, e, false);
    for (int i = 0; i < n; i++) {
        vg_glabel *lb = &out->labels[i];
        for (int x = lb->col; x < lb->col + lb->width; x++) {
            size_t c = (size_t)lb->row * (size_t)out->width + (size_t)x;
            out->label_at[c] = i + 1;
            out->attr[c] |= VG_GCELL_LABEL;
        }
    }
    if (opts->selected >= 0)
        vg_glayout_select(out, g, opts->selected);

    free(rank_w), free(nets), free(track_of), free(net_of), free(chan_x);
    adj_free(&L.a);
    free(L.comp), free(L.key), free(L.key2), free(L.tmp), free(L.tmp2), free(L.gap), free(L.pairs), free(L.tree);
    for (int r = 0; r < L.nranks; r++)
        free(L.layer[r]);
    free(L.layer);
    free(L.lsize);
}

void vg_glayout_select(vg_glayout *l, const vg_graph *g, int sel)
{
    size_t cells = (size_t)l->width * (size_t)l->height;
    for (size_t i = 0; i < cells; i++)
        l->attr[i] &= (uint8_t)~(VG_GCELL_HOT | VG_GCELL_SEL);
    l->selected = sel >= 0 && (size_t)sel < g->n ? sel : -1;
    if (l->selected < 0)
        return;
    for (size_t e = 0; e < g->ne; e++)
        if (g->edges[e].a == sel || g->edges[e].b == sel)
            route_edge(l, g, e, true);
    const vg_glabel *lb = &l->labels[sel];
    for (int x = lb->col; x < lb->col + lb->width; x++)
        l->attr[(size_t)lb->row * (size_t)l->width + (size_t)x] |= VG_GCELL_SEL;
}

void vg_glayout_free(vg_glayout *l)
{
    if (!l)
        return;
    for (int i = 0; l->labels && i < l->nnodes; i++)
        free(l->labels[i].text);
    free(l->labels);
    free(l->rank), free(l->order), free(l->row), free(l->col);
    free(l->dirs), free(l->attr), free(l->label_at);
    free(l->rank_x), free(l->edge_track);
    memset(l, 0, sizeof *l);
}

static const char *const BOX[16] = {
    " ", "│", "─", "└", "│", "│", "┌", "├", "─", "┘", "─", "┴", "┐", "┤", "┬", "┼",
};
static const char *const ASCII_BOX[16] = {
    " ", "|", "-", "+", "|", "|", "+", "+", "-", "+", "-", "+", "+", "+", "+", "+",
};

const char *vg_glayout_glyph(const vg_glayout *l, int x, int y)
{
    if (x < 0 || y < 0 || x >= l->width || y >= l->height)
        return " ";
    size_t c = (size_t)y * (size_t)l->width + (size_t)x;
    int d = l->dirs[c];
    bool dashed = (l->attr[c] & VG_GCELL_BRIDGE) && !(l->attr[c] & VG_GCELL_SOLID);
    if (dashed && (d == (D_E | D_W) || d == D_E || d == D_W))
        return l->ascii ? "." : "┄";
    if (dashed && (d == (D_N | D_S) || d == D_N || d == D_S))
        return l->ascii ? ":" : "┆";
    return (l->ascii ? ASCII_BOX : BOX)[d];
}

char *vg_glayout_row(const vg_glayout *l, int y)
{
    size_t cap = (size_t)l->width * 4 + 8;
    char *out = vg_xmalloc(cap), *p = out;
    size_t end = 0;
    for (int x = 0; y >= 0 && y < l->height && x < l->width;) {
        size_t c = (size_t)y * (size_t)l->width + (size_t)x;
        int li = l->label_at[c] - 1;
        const char *s;
        if (li < 0 && !l->dirs[c]) { /* most cells: nothing there */
            *p++ = ' ';
            x++;
            continue;
        }
        if (li >= 0) {
            const vg_glabel *lb = &l->labels[li];
            size_t need = strlen(lb->text);
            size_t off = (size_t)(p - out);
            if (off + need + (size_t)(l->width - x) * 4 + 8 > cap) {
                cap = off + need + (size_t)(l->width - x) * 4 + 8;
                out = vg_xrealloc(out, cap);
                p = out + off;
            }
            memcpy(p, lb->text, need);
            p += need;
            end = (size_t)(p - out);
            x = lb->col + lb->width;
            continue;
        }
        s = vg_glayout_glyph(l, x, y);
        int d = l->dirs[c];
        size_t sl = strlen(s);
        memcpy(p, s, sl);
        p += sl;
        if (d)
            end = (size_t)(p - out);
        x++;
    }
    out[end] = '\0';
    return out;
}
