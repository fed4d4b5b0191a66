/*
 * metrics.h — the dashboard's numbers, each with one definition (DESIGN.md).
 *
 *   open       status is not closed, everywhere
 *   opened     cases by created_at, per 24-hour bucket ending now
 *   closed     cases by closed_at (set at the closing transition), per bucket
 *   MTTA       mean of acknowledged_at - created_at over cases acknowledged in the
 *              window (by acknowledged_at); none when nothing was acknowledged
 *   MTTR       mean of closed_at - created_at over cases closed in the window (by
 *              closed_at); none, never 0, when nothing closed
 *   aging      open cases by age: <1d, 1-3d, 3-7d, 7-30d, >30d
 *   shared     artifact values on the most cases (the bridges between them)
 *   intel      open cases holding values an unexpired intel indicator names (when an
 *              intel store is attached), most severe first
 *
 * Computed in SQL over indexed columns; rendered to text lines here too, so the CLI
 * (`vigil dash`) and the TUI show the same thing.
 */
#ifndef VIGIL_METRICS_H
#define VIGIL_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/err.h"
#include "vigil/ws.h"

#define VG_DASH_MAX_DAYS 90
#define VG_DASH_TOP 10

typedef struct vg_dash {
    int days;
    int64_t now_ms, start_ms;
    int64_t opened[VG_DASH_MAX_DAYS], closed[VG_DASH_MAX_DAYS];
    int64_t heat[5][5];  /* [severity][status], every case */
    int64_t aging[5];    /* open cases: <1d, 1-3d, 3-7d, 7-30d, >30d */
    int64_t open, total;
    bool has_mtta, has_mttr;
    int64_t mtta_ms, mttr_ms, mtta_n, mttr_n;
    struct {
        char type[16];
        char *value;
        int64_t cases;
    } shared[VG_DASH_TOP];
    size_t nshared;
    bool has_intel;       /* an intel store is attached */
    int64_t intel_cases;  /* open cases the feeds know values of */
    struct {
        int64_t ref;
        int severity;
        int64_t values;
        char *title;      /* data */
    } intel[VG_DASH_TOP];
    size_t nintel;
    /* the SLA targets (time to resolve by severity; sla:overdue in the filters) */
    bool has_sla;         /* a target was given for some severity */
    int64_t overdue[5];   /* open cases past their target, by severity */
    int64_t overdue_total;
    /* who holds the open cases, most first ("" for nobody), and how many are late */
    struct {
        char name[80];
        int64_t open, overdue;
    } load[VG_DASH_TOP];
    size_t nload;
} vg_dash;

/* The dashboard over the `days` (1..90) before now_ms; sla_ms the time to resolve
 * by severity (info..critical, 0: none; NULL: no SLA figures). */
VG_WUR vg_rc vg_dash_compute(vg_ws *ws, int64_t now_ms, int days, const int64_t *sla_ms,
                             vg_dash *out, vg_err *err);
void vg_dash_clear(vg_dash *d);

/* "3h 12m", "2d 4h", "45s", or "none". */
void vg_duration(bool has, int64_t ms, char *out, size_t outsz);

/* The dashboard as text lines (artifact values are data: made safe by whoever
 * draws them). *n gets the count; free with vg_lines_free. With queries, each line
 * that counts cases gets the filter that lists them (the queue's language:
 * "sla:overdue sev:high", "assignee:alice status:open", "domain:x.example"), NULL for
 * the others, in a new array of *n (free with vg_lines_free too). */
char **vg_dash_render(const vg_dash *d, bool ascii, size_t *n, char ***queries);
void vg_lines_free(char **lines, size_t n);

#endif
