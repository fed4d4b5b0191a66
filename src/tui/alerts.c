/*
 * alerts.c — a case's Alerts tab, a view module: it owns its rows (the case's
 * alerts, oldest first, as ids) and its cursor; j/k and the page keys move the
 * cursor, Enter opens the selected alert's detail with its raw event (Esc comes
 * back here, on the same row). An alert on a case is as readable as one in the
 * inbox.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"
#include "vigil/model.h"
#include "vigil/query.h"
#include "vigil/timefmt.h"

#define ALERTS_SHOWN 1000 /* rows read for the tab; a larger case says how many more */

struct tui_alerts {
    vg_id case_id; /* the case the rows are of (another case starts at its first row) */
    vg_id *ids;
    size_t n;
    int sel;
    int line0; /* the text line of row 0 */
};

bool tui_alerts_active(const tui *t)
{
    return t->view == VIEW_CASE && strcmp(tui_tab_name(t), "Alerts") == 0;
}

void tui_alerts_tab(tui *t, const vg_case *c)
{
    struct tui_alerts *a = t->alerts_tab;
    if (!a)
        a = t->alerts_tab = vg_xcalloc(1, sizeof *a);
    if (strcmp(a->case_id, c->id) != 0) {
        memcpy(a->case_id, c->id, sizeof a->case_id);
        a->sel = 0;
    }
    free(a->ids);
    a->ids = NULL;
    a->n = 0;
    vg_alert *al = NULL;
    size_t n = 0;
    vg_err err = {0};
    if (vg_alerts_of_case_brief(t->ws, c->id, ALERTS_SHOWN, &al, &n, &err) != VG_OK) {
        tui_add_line(t, err.msg);
        return;
    }
    char head[160];
    if ((long long)n < c->alert_count)
        snprintf(head, sizeof head, "Alerts: the first %zu of %lld, oldest first", n,
                 (long long)c->alert_count);
    else
        snprintf(head, sizeof head, "Alerts (%zu), oldest first", n);
    tui_add_line(t, head);
    tui_add_row(t, "    %-8s %-16s %6s  %-12s %s", "SEVERITY", "FIRST SEEN", "COUNT", "SOURCE",
                "TITLE");
    a->line0 = (int)t->nlines;
    a->ids = vg_xmalloc((n ? n : 1) * sizeof *a->ids);
    for (size_t i = 0; i < n; i++) {
        char when[32];
        vg_local_time(al[i].first_seen ? al[i].first_seen : al[i].event_time, when, sizeof when);
        tui_add_row(t, "%3zu %-8s %-16s %6lld  %-12.12s %s", i + 1,
                    vg_enum_name(&VG_SEVERITY, al[i].severity), when, (long long)al[i].count,
                    al[i].source, al[i].title);
        memcpy(a->ids[i], al[i].id, sizeof a->ids[i]);
    }
    a->n = n;
    vg_alerts_free(al, n);
    if (!n) {
        tui_add_line(t, "(no alerts on this case: :link REF in the inbox brings one)");
        return;
    }
    tui_add_line(t, "");
    tui_add_line(t, "(j/k choose an alert, Enter opens it with its raw event)");
    if (a->sel >= (int)n)
        a->sel = (int)n - 1;
    t->hl_line = a->line0 + a->sel + 1;
    tui_follow(t, a->line0 + a->sel, a->line0 + a->sel + 1, a->sel == 0);
}

void tui_alerts_move(tui *t, int delta)
{
    struct tui_alerts *a = t->alerts_tab;
    if (!a || !a->n)
        return;
    a->sel = tui_row_step(a->sel, delta, a->n);
    tui_case_open(t, t->case_id);
}

bool tui_alerts_open(tui *t)
{
    struct tui_alerts *a = t->alerts_tab;
    if (!tui_alerts_active(t) || !a || !a->n)
        return false;
    tui_alert_show(t, a->ids[a->sel], t->case_id);
    return true;
}

void tui_alerts_free(tui *t)
{
    if (!t->alerts_tab)
        return;
    free(t->alerts_tab->ids);
    free(t->alerts_tab);
    t->alerts_tab = NULL;
}
