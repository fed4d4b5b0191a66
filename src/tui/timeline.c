/*
 * timeline.c — a case's Timeline tab, a view module: the rows of vg_timeline in
 * the order asked (when it happened, or when it was recorded), both times in the
 * analyst's zone, each row wrapped under its summary, and a row cursor of its own:
 * j/k and the page keys move it, Enter opens what the row stands for (an alert's
 * detail with its raw event, the Notes, Artifacts, Tasks or Ledger tab), Esc comes
 * back to the same row.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"
#include "vigil/model.h"
#include "vigil/query.h"
#include "vigil/timefmt.h"

struct tui_timeline {
    vg_id case_id; /* the case the rows are of (another case starts at its first row) */
    struct tl_row {
        vg_id id;
        int kind;
        int line; /* its first text line */
    } *rows;
    size_t n;
    int sel;
};

bool tui_timeline_active(const tui *t)
{
    return t->view == VIEW_CASE && strcmp(tui_tab_name(t), "Timeline") == 0;
}

void tui_timeline_tab(tui *t, const vg_case *c)
{
    struct tui_timeline *tl = t->timeline;
    if (!tl)
        tl = t->timeline = vg_xcalloc(1, sizeof *tl);
    if (strcmp(tl->case_id, c->id) != 0) {
        memcpy(tl->case_id, c->id, sizeof tl->case_id);
        tl->sel = 0;
    }
    tl->n = 0;
    vg_event *e = NULL;
    size_t n = 0;
    vg_err err = {0};
    if (vg_timeline(t->ws, c->id, t->by_recorded ? VG_BY_RECORDED : VG_BY_OCCURRED, 0, &e, &n,
                    &err) != VG_OK) {
        tui_add_line(t, err.msg);
        return;
    }
    char zone[16], h1[32], h2[32]; /* the times are the analyst's: the header says which */
    vg_local_zone(zone, sizeof zone);
    snprintf(h1, sizeof h1, "%s %.7s", t->by_recorded ? "RECORDED" : "OCCURRED", zone);
    snprintf(h2, sizeof h2, "%s %.7s", t->by_recorded ? "OCCURRED" : "RECORDED", zone);
    tui_add_row(t, "    %-16s  %-16s  %-8s %s   (o: order by %s)", h1, h2, "KIND", "SUMMARY",
                t->by_recorded ? "when it happened" : "when it was recorded");
    tl->rows = vg_xrealloc(tl->rows, (n ? n : 1) * sizeof *tl->rows);
    for (size_t i = 0; i < n; i++) {
        char a[32], b[32];
        vg_local_time(t->by_recorded ? e[i].recorded_at : e[i].occurred_at, a, sizeof a);
        vg_local_time(t->by_recorded ? e[i].occurred_at : e[i].recorded_at, b, sizeof b);
        memcpy(tl->rows[i].id, e[i].id, sizeof tl->rows[i].id);
        tl->rows[i].kind = e[i].kind;
        tl->rows[i].line = (int)t->nlines;
        size_t len = strlen(e[i].summary) + 96; /* the row goes on under its summary */
        char *row = vg_xmalloc(len);
        snprintf(row, len, "%3zu %-16s  %-16s  %-8s %s%s", i + 1, a, b,
                 vg_enum_name(&VG_EVENT_KIND, e[i].kind), e[i].starred ? "* " : "", e[i].summary);
        tui_add_text(t, row, 0, 49, 0);
        free(row);
    }
    tl->n = n;
    vg_events_free(e, n);
    if (!n)
        return;
    if (tl->sel >= (int)n)
        tl->sel = (int)n - 1;
    int line = tl->rows[tl->sel].line, end = tl->sel + 1 < (int)n ? tl->rows[tl->sel + 1].line
                                                                  : (int)t->nlines;
    t->hl_line = line + 1;
    tui_follow(t, line, end, tl->sel == 0); /* the selected row, all its lines */
}

void tui_timeline_move(tui *t, int delta)
{
    struct tui_timeline *tl = t->timeline;
    if (!tl || !tl->n)
        return;
    tl->sel = tui_row_step(tl->sel, delta, tl->n);
    tui_case_open(t, t->case_id);
}

bool tui_timeline_open(tui *t)
{
    struct tui_timeline *tl = t->timeline;
    if (!tui_timeline_active(t) || !tl || !tl->n)
        return false;
    const struct tl_row *r = &tl->rows[tl->sel];
    static const char *const tab_of[] = {[1] = "Notes", [3] = "Artifacts", [4] = "Tasks",
                                         [5] = "Ledger"};
    if (r->kind == 0) /* an alert row is the alert */
        tui_alert_show(t, r->id, t->case_id);
    else if (r->kind > 0 && r->kind < 6 && tab_of[r->kind])
        tui_show_tab(t, tab_of[r->kind]);
    else
        snprintf(t->msg, sizeof t->msg, "a %s row: all of it is on the timeline",
                 vg_enum_name(&VG_EVENT_KIND, r->kind));
    return true;
}

bool tui_timeline_row(tui *t, int n, vg_id out, bool *starred, bool *is_alert)
{
    vg_event *e = NULL;
    size_t count = 0;
    vg_err err = {0};
    bool ok = false;
    if (vg_timeline(t->ws, t->case_id, t->by_recorded ? VG_BY_RECORDED : VG_BY_OCCURRED, 0, &e,
                    &count, &err) == VG_OK && n >= 1 && (size_t)n <= count) {
        memcpy(out, e[n - 1].id, sizeof(vg_id));
        *starred = e[n - 1].starred;
        *is_alert = e[n - 1].kind == 0; /* an alert row is the alert itself */
        ok = true;
    }
    vg_events_free(e, count);
    return ok;
}

void tui_timeline_free(tui *t)
{
    if (!t->timeline)
        return;
    free(t->timeline->rows);
    free(t->timeline);
    t->timeline = NULL;
}
