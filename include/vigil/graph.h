/*
 * graph.h — the investigation graph: cases and what they hold, on one map, with
 * bridges across cases (DESIGN.md "Data model": the same value on two cases is a
 * bridge).
 *
 * Nodes are cases, values (artifacts and IOCs, and the hosts and users named in the
 * entities of a case's alerts) and "+N artifacts" nodes that stand for the private
 * values of a case folded away. An edge joins a case to a value it holds. A value
 * held by two or more cases of the graph is a bridge: its edges are bridge edges
 * (drawn dashed) and the value node is the label on the bridge. Every edge joins a
 * case to a non-case, so the graph is bipartite.
 *
 * Building reads only what the picture needs: the cases asked for, their values
 * (the artifacts_value index finds the other cases carrying a value), never a scan
 * of every artifact. Removed artifacts are not part of it. The result is in a
 * canonical order (cases by ref, values by type then value, folded nodes last), so
 * the same workspace and options give the same graph and the same drawing.
 *
 * Layout and drawing (vg_glayout) place the graph on a character grid, left to right:
 * ranks are columns, the roots (or each part's lowest case) in the first. See
 * layout.c for the method.
 */
#ifndef VIGIL_GRAPH_H
#define VIGIL_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/err.h"
#include "vigil/id.h"
#include "vigil/ws.h"

/* INTEL: an intel feed that knows values of the graph (intel.h), joined to each of
 * them; it stands on the cases' side of the bipartite graph and bridges nothing. */
typedef enum { VG_GNODE_CASE, VG_GNODE_VALUE, VG_GNODE_MORE, VG_GNODE_INTEL } vg_gnode_kind;

typedef struct vg_gnode {
    vg_gnode_kind kind;
    /* a case */
    vg_id case_id;   /* also the owner of a MORE node */
    int64_t ref;
    char *title;     /* unsafe data; NULL for values */
    int severity, status;
    int64_t created_at;
    bool root;       /* one of the cases the graph was built around */
    /* a value */
    int type;        /* VG_ARTIFACT_TYPE index (-1 for an intel node) */
    char *value;     /* normalised; unsafe data (an intel node: the feed's name) */
    bool is_ioc;
    bool from_alert; /* known only from alert entities, not an artifact */
    int ncases;      /* cases of the graph carrying it: 2 or more is a bridge */
    /* a MORE node: how many values it folds */
    int hidden;
} vg_gnode;

/* An edge from a case (a) to a value or MORE node (b), or from an intel node (a) to a
 * value it knows (b). */
typedef struct vg_gedge {
    int a, b;
    bool bridge;
} vg_gedge;

typedef struct vg_graph {
    vg_gnode *nodes;
    size_t n;
    vg_gedge *edges; /* sorted by (a, b), no duplicates */
    size_t ne;
    bool truncated;  /* max_nodes cut the building short */
    int depth;       /* the depth it was built to (0 for the whole workspace) */
    /* private: build state */
    size_t cap, ecap;
    struct graph_index *idx;
} vg_graph;

/* Node type filter bits: bit i is VG_ARTIFACT_TYPE index i; VG_GTYPE_IOC keeps only
 * values marked IOC. 0 keeps every value. */
#define VG_GTYPE_IOC (1u << 31)

typedef struct vg_graph_opts {
    const char *const *roots; /* case ids to build around; none: the whole workspace */
    size_t nroots;
    int depth;                /* hops from the roots (a case's values are 1, the cases
                                 sharing them 2...); <= 0 means 2 */
    unsigned types;           /* VG_GTYPE bits over values; 0 = all */
    unsigned severity_mask;   /* bit per VG_SEVERITY index; 0 = any (roots always kept) */
    unsigned status_mask;     /* bit per VG_STATUS index; 0 = any */
    int64_t since_ms, until_ms; /* cases created in [since, until); 0 = open end */
    bool connected_only;      /* keep only parts holding two or more cases */
    int collapse;             /* fold a case's private values when it has more than
                                 this many; 0 = never; < 0 means the default (10) */
    const char *const *expand; /* case ids whose values are never folded */
    size_t nexpand;
    int max_nodes;            /* stop adding cases past this many nodes (the whole
                                 workspace: newest cases first); <= 0: 5000 */
    bool no_entities;         /* leave out hosts and users from alert entities */
    bool no_intel;            /* leave out the intel nodes (the feeds that know values) */
} vg_graph_opts;

#define VG_GRAPH_DEFAULT_DEPTH 2
#define VG_GRAPH_DEFAULT_COLLAPSE 10
#define VG_GRAPH_DEFAULT_MAX_NODES 5000

/* Build the graph described by opts into *out (which the caller frees with
 * vg_graph_free, on failure too). Unknown root ids are VG_ENOTFOUND. */
VG_WUR vg_rc vg_graph_build(vg_ws *ws, const vg_graph_opts *opts, vg_graph *out, vg_err *err);
void vg_graph_free(vg_graph *g);

/* Parse a --type list ("domain,url", "ioc", "host" for hostname) into VG_GTYPE bits. */
VG_WUR vg_rc vg_graph_types_parse(const char *s, unsigned *out, vg_err *err);

/* The node of a case id or of a (type, value), or -1. */
int vg_graph_find_case(const vg_graph *g, const char *case_id);
int vg_graph_find_value(const vg_graph *g, int type, const char *value);

/* A node's label, unsafe (make it safe before showing it): "#12 title",
 * "domain evil.example", "+37 artifacts", "intel feodo". Fresh. */
char *vg_gnode_label(const vg_gnode *n);

/* The cases that share values with a case: one row per (case, shared value),
 * ordered by ref, type, value. */
typedef struct vg_related {
    vg_id case_id;
    int64_t ref;
    char *title;
    int severity, status;
    int type;
    char *value;
} vg_related;
VG_WUR vg_rc vg_related_list(vg_ws *ws, const char *case_id, vg_related **items, size_t *n,
                             vg_err *err);
void vg_related_free(vg_related *r, size_t n);

/* ---- layout and drawing (layout.c) -------------------------------------------- */

/* Cell attributes of a drawing (for highlighting in the TUI). */
enum {
    VG_GCELL_EDGE = 1 << 0,   /* part of an edge */
    VG_GCELL_BRIDGE = 1 << 1, /* a bridge edge (dashed) */
    VG_GCELL_HOT = 1 << 2,    /* an edge of the selected node */
    VG_GCELL_LABEL = 1 << 3,  /* part of a node's label */
    VG_GCELL_SEL = 1 << 4,    /* the selected node's label */
    VG_GCELL_SOLID = 1 << 5,  /* a solid edge passes (wins over dashed) */
};

typedef struct vg_glabel {
    int node;
    int row, col, width; /* where it is drawn and how many columns it takes */
    char *text;          /* safe and fitted */
} vg_glabel;

typedef struct vg_glayout {
    int nranks;
    int *rank;          /* per node: its column of the layered layout */
    int *order;         /* per node: its place within the rank (0 = top) */
    int *row, *col;     /* per node: where its label starts on the grid */
    int64_t crossings;  /* edge crossings between adjacent ranks (by order) */
    /* the drawing */
    int width, height;
    uint8_t *dirs;      /* width*height: line directions (1 N, 2 E, 4 S, 8 W) */
    uint8_t *attr;      /* width*height: VG_GCELL bits */
    int *label_at;      /* width*height: 1 + the index of the label covering the cell;
                           0 where there is none */
    vg_glabel *labels;  /* one per node */
    int nnodes;
    int selected;       /* the node drawn as selected, or -1 */
    bool ascii;
    /* private: routing, to highlight a node's edges again */
    int *rank_x;        /* per rank: the column it starts at */
    int *edge_track;    /* per edge: the column of its vertical part, or -1 */
} vg_glayout;

typedef struct vg_layout_opts {
    bool ascii;          /* draw with ASCII only */
    int label_cols;      /* the widest a label may be; <= 0: 32 */
    int selected;        /* node to highlight with its edges; -1 none */
} vg_layout_opts;

/* Lay out and draw g into *out (freed with vg_glayout_free). Deterministic. */
void vg_graph_layout(const vg_graph *g, const vg_layout_opts *opts, vg_glayout *out);
/* Mark node `sel` and its edges hot (and clear the last selection) without
 * laying out again. */
void vg_glayout_select(vg_glayout *l, const vg_graph *g, int sel);
void vg_glayout_free(vg_glayout *l);

/* Row y of the drawing as UTF-8 (ASCII when the layout is), trailing spaces cut,
 * into a fresh string. */
char *vg_glayout_row(const vg_glayout *l, int y);

/* The line glyph of cell (x, y) (" " where no line passes; labels are not glyphs). */
const char *vg_glayout_glyph(const vg_glayout *l, int x, int y);

/* Every case holding a value (type, value), by ref: "an artifact shows every case
 * it is on". Rows as vg_related_list's. */
VG_WUR vg_rc vg_value_cases(vg_ws *ws, int type, const char *value, vg_related **items,
                            size_t *n, vg_err *err);

/* Edge crossings between adjacent ranks for the given per-node rank and order. */
int64_t vg_graph_crossings(const vg_graph *g, const int *rank, const int *order);

#endif
