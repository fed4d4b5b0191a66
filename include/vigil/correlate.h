/*
 * correlate.h — turning inbox alerts into cases (what `vigil import` does after it
 * stores a chunk of alerts).
 *
 * Two rules, in this order, for each alert that is still in the inbox:
 *  1. An alert that carries a host, user or indicator already on an open case (an
 *     artifact there) is linked to that case, and its entities are added to the
 *     case as artifacts. When several open cases match, the one sharing the most
 *     values wins, then the newest.
 *  2. Inbox alerts that share a host, user or indicator (entity.h) with event times
 *     no more than `window` apart are one group (the relation is chained: a-b and
 *     b-c put a, b and c together). A group of two or more alerts becomes one new
 *     case: the title of its most frequent alert title, the highest severity, the
 *     union of techniques, its alerts linked and their entities added as artifacts.
 *     An alert alone stays in the inbox. A value carried by alerts of more than
 *     infra_hosts distinct hosts in the window is shared infrastructure and
 *     groups nothing (nor, in rule 1, joins an alert to a case).
 * Every write is an op through the door, inside the caller's batch; an alert's
 * entities come to its case with the op that puts it there (artifacts, op.h), not
 * as ops of their own. Each alert on a case is a row of that case's timeline at
 * its event time.
 *
 * An importer applies rule 1 as it stores each alert (vg_correlate_add), so that
 * an alert joining an open case is stored on it by its alert.add, with no link op
 * of its own; vg_correlate then runs both rules on what is still in the inbox.
 */
#ifndef VIGIL_CORRELATE_H
#define VIGIL_CORRELATE_H

#include <stddef.h>
#include <stdint.h>

#include "vigil/err.h"
#include "vigil/id.h"
#include "vigil/op.h"
#include "vigil/ws.h"

#define VG_INFRA_HOSTS 10

typedef struct vg_correlation {
    int64_t window_ms;  /* 24 h unless the caller says otherwise */
    /* Shared infrastructure (the DNS resolver, the gateway, a proxy): a value that
     * inbox alerts of more than this many distinct hosts carry within the window
     * joins nothing, in rule 2 and from then on in rule 1 (the workspace
     * remembers it: meta 'infra:KEY'); hosts themselves are never infrastructure.
     * 0: VG_INFRA_HOSTS. */
    int infra_hosts;
    int64_t infra_found;      /* values found to be infrastructure by these calls */
    char infra[8][160];       /* the first few, "ip 10.0.0.53", for the summary */
    /* results, accumulated over calls */
    int64_t cases_created, alerts_linked;
    vg_id *updated;     /* the existing cases that received alerts, each once, sorted */
    size_t nupdated, capupdated;
    struct vg_open_cases *open; /* the open cases, read once per batch */
    struct vg_infra_set *infra_set; /* the infrastructure values, read once per batch */
} vg_correlation;

/* Correlate the alerts with these ids (just stored, or the alerts repeats folded
 * into). Must run inside a batch (vg_batch_begin). */
VG_WUR vg_rc vg_correlate(vg_ws *ws, const vg_id *alerts, size_t n, vg_correlation *co,
                          vg_err *err);
/* Store a new alert (an alert.add op, applied through the door) and apply rule 1
 * to it: when it carries a value of an open case, it is stored on that case and
 * its entities are added there as artifacts (*joined true). A repeat of a stored
 * alert, or an alert touching no open case, is stored as it is (*joined false):
 * its alert (op->into) is for vg_correlate. Must run inside a batch. */
VG_WUR vg_rc vg_correlate_add(vg_ws *ws, vg_op *op, vg_correlation *co, bool *joined,
                              vg_err *err);
void vg_correlation_free(vg_correlation *co);

#endif
