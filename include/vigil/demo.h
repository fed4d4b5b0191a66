/*
 * demo.h — a demo workspace that looks like a real SOC's month.
 *
 * The generator writes history through the one write door as stamped ops (ids,
 * clocks and actors of its own, times spread over the 30 days before now_ms), in
 * batches, so the op log, the timeline and every derived field are exactly what
 * real work would have left. The same seed and now_ms give the same workspace
 * (vg_ws_digest equal).
 */
#ifndef VIGIL_DEMO_H
#define VIGIL_DEMO_H

#include <stdint.h>

#include "vigil/err.h"
#include "vigil/ws.h"

typedef struct vg_demo_opts {
    uint64_t seed;
    int64_t cases;  /* at least 40 (the scenarios need them); default 48 */
    int64_t alerts; /* total alerts, on cases and in the inbox; default 600 */
    int64_t now_ms; /* the end of the simulated month */
    /* Called after each committed batch with the totals so far (may be NULL). */
    void (*progress)(void *ud, int64_t ops_committed, int64_t alerts_committed);
    void *ud;
} vg_demo_opts;

typedef struct vg_demo_stats {
    int64_t cases, alerts, artifacts, tasks, notes, events, ops;
} vg_demo_stats;

/* Fill an empty workspace. Fails with VG_EEXIST if the workspace already holds
 * cases, and VG_EINVAL for counts out of range. */
VG_WUR vg_rc vg_demo_build(vg_ws *ws, const vg_demo_opts *opts, vg_demo_stats *stats,
                           vg_err *err);

#endif
