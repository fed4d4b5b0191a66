/*
 * commands.c — the TUI's command table and default key bindings.
 *
 * Every key runs a command string through tui_dispatch, the same function the `:`
 * line uses, and the help overlay is generated from these two tables, so what the
 * analyst reads in `?` is exactly what the keys do. Default bindings avoid tmux's
 * prefix keys (C-b, C-a). Write commands build ops and go through vg_apply.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"
#include "vigil/buf.h"
#include "vigil/fields.h"
#include "vigil/id.h"
#include "vigil/handoff.h"
#include "vigil/ioc.h"
#include "vigil/model.h"
#include "vigil/op.h"
#include "vigil/playbook.h"
#include "vigil/template.h"
#include "vigil/timefmt.h"

typedef struct tcmd {
    const char *name;
    const char *args;
    const char *help;
    int (*fn)(tui *t, int argc, char **argv);
} tcmd;

/* The commands whose argument is the rest of the line as typed, quotes and all (a
 * note's text: it's fine), not words. */
static const char *const REST_OF_LINE[] = {"note", "log", "ask", "dismiss"};

static bool takes_rest(const char *name)
{
    for (size_t i = 0; i < sizeof REST_OF_LINE / sizeof *REST_OF_LINE; i++)
        if (strcmp(REST_OF_LINE[i], name) == 0)
            return true;
    return false;
}

/* A page is the visible rows less the header, breadcrumbs, column titles and
 * status line. */
static int page_rows(const tui *t) { return t->rows > 6 ? t->rows - 5 : 1; }

static int c_quit(tui *t, int argc, char **argv)
{
    (void)argc, (void)argv;
    t->quit = true;
    return 0;
}

static int step(tui *t, int delta)
{
    if (t->view == VIEW_QUEUE)
        tui_queue_move(t, delta);
    else if (tui_tasks_active(t))
        tui_tasks_move(t, delta);
    else if (tui_alerts_active(t))
        tui_alerts_move(t, delta);
    else if (tui_timeline_active(t))
        tui_timeline_move(t, delta);
    else if (t->view == VIEW_DASH)
        tui_dash_move(t, delta);
    else if (t->view == VIEW_INBOX)
        tui_inbox_move(t, delta);
    else if (t->view == VIEW_HANDOFF)
        tui_handoff_move(t, delta);
    else
        tui_case_scroll(t, delta);
    return 0;
}

static int c_down(tui *t, int argc, char **argv) { (void)argc, (void)argv; return step(t, 1); }
static int c_up(tui *t, int argc, char **argv) { (void)argc, (void)argv; return step(t, -1); }
static int c_page_down(tui *t, int argc, char **argv)
{
    (void)argc, (void)argv;
    return step(t, page_rows(t));
}
static int c_page_up(tui *t, int argc, char **argv)
{
    (void)argc, (void)argv;
    return step(t, -page_rows(t));
}
static int c_half_down(tui *t, int argc, char **argv)
{
    (void)argc, (void)argv;
    return step(t, (page_rows(t) + 1) / 2);
}
static int c_half_up(tui *t, int argc, char **argv)
{
    (void)argc, (void)argv;
    return step(t, -(page_rows(t) + 1) / 2);
}

static int ends(tui *t, bool bottom)
{
    if (t->view == VIEW_QUEUE)
        tui_queue_ends(t, bottom);
    else if (tui_tasks_active(t))
        tui_tasks_move(t, bottom ? 1 << 30 : -(1 << 30));
    else if (tui_alerts_active(t))
        tui_alerts_move(t, bottom ? 1 << 30 : -(1 << 30));
    else if (tui_timeline_active(t))
        tui_timeline_move(t, bottom ? 1 << 30 : -(1 << 30));
    else if (t->view == VIEW_DASH)
        tui_dash_move(t, bottom ? 1 << 20 : -(1 << 20));
    else if (t->view == VIEW_INBOX)
        tui_inbox_ends(t, bottom);
    else if (t->view == VIEW_HANDOFF) {
        tui_handoff_move(t, bottom ? 1 << 20 : -(1 << 20));
        tui_case_scroll(t, bottom ? 1 << 30 : -(1 << 30));
    } else
        tui_case_scroll(t, bottom ? 1 << 30 : -(1 << 30));
    return 0;
}
static int c_top(tui *t, int argc, char **argv) { (void)argc, (void)argv; return ends(t, false); }
static int c_bottom(tui *t, int argc, char **argv) { (void)argc, (void)argv; return ends(t, true); }

static int c_open(tui *t, int argc, char **argv)
{
    vg_id id;
    vg_err err = {0};
    if (argc > 1) {
        vg_id into;
        int64_t into_ref;
        if (vg_case_resolve(t->ws, argv[1], id, &err) != VG_OK ||
            vg_case_follow(t->ws, id, into, &into_ref, &err) != VG_OK) {
            snprintf(t->msg, sizeof t->msg, "%.200s", err.msg);
            return 1;
        }
        tui_case_open(t, into[0] ? into : id);
        if (into[0]) /* a merged case's ref opens the case it was merged into */
            snprintf(t->msg, sizeof t->msg, "%.40s was merged into #%lld", argv[1],
                     (long long)into_ref);
    } else if (t->view == VIEW_QUEUE && t->page.n) {
        tui_case_open(t, t->page.items[t->sel].id);
    } else if (t->view == VIEW_INBOX) {
        tui_alert_open(t);
    } else if (tui_alerts_open(t) || tui_timeline_open(t) || tui_dash_open_selected(t)) {
        /* the Alerts tab's selected alert, or what the Timeline's row stands for */
    } else if (tui_handoff_case(t)) {
        memcpy(id, tui_handoff_case(t), sizeof id);
        tui_case_open(t, id);
    }
    return 0;
}

static char *join_args(int argc, char **argv, int from);

/* A command's text: its arguments, or (none given) what the analyst types after
 * prompt; false when that is nothing. */
static bool arg_or_ask(tui *t, int argc, char **argv, const char *prompt, char *q, size_t qsz)
{
    q[0] = '\0';
    if (argc > 1) {
        char *all = join_args(argc, argv, 1);
        snprintf(q, qsz, "%s", all);
        free(all);
    } else {
        tui_prompt(t, prompt, q, qsz);
    }
    return q[0] != '\0';
}

/* The queue as the filter typed so far holds it; a filter not finished (a term
 * that does not parse yet) leaves the last good one on screen, unsaid. */
static void live_filter(tui *t, const char *q)
{
    char keep[sizeof t->msg];
    snprintf(keep, sizeof keep, "%s", t->msg);
    if (!tui_queue_filter(t, q))
        snprintf(t->msg, sizeof t->msg, "%s", keep);
}

static int c_filter(tui *t, int argc, char **argv)
{
    if (t->view == VIEW_INBOX) { /* the inbox's own search: the next alert holding it */
        char q[128] = "";
        if (!arg_or_ask(t, argc, argv, "/", q, sizeof q))
            return 0;
        snprintf(t->inbox_search, sizeof t->inbox_search, "%s", q);
        if (!tui_inbox_find(t, 1) && !t->msg[0])
            snprintf(t->msg, sizeof t->msg, "not found: %.100s", q);
        return 0;
    }
    if (t->view != VIEW_QUEUE && argc == 1) { /* in a text view, / searches the text */
        char q[128] = "";
        snprintf(q, sizeof q, "%s", t->search);
        tui_prompt(t, "/", q, sizeof q);
        snprintf(t->search, sizeof t->search, "%s", q);
        if (q[0] && !tui_search_step(t, 1) && !(t->scroll = -1, tui_search_step(t, 1))) {
            t->scroll = 0;
            snprintf(t->msg, sizeof t->msg, "not found: %.100s", q);
        }
        return 0;
    }
    char q[512] = "";
    if (argc > 1) { /* :filter status:open sev>=high */
        for (int i = 1; i < argc; i++) {
            size_t l = strlen(q);
            snprintf(q + l, sizeof q - l, "%s%s", i > 1 ? " " : "", argv[i]);
        }
    } else { /* the / key: ask, starting from the filter in force, filtering as typed */
        char before[sizeof t->query_text], view[sizeof t->view_name];
        snprintf(before, sizeof before, "%s", t->query_text);
        snprintf(view, sizeof view, "%s", t->view_name);
        snprintf(q, sizeof q, "%s", t->query_text);
        t->live = live_filter;
        bool entered = tui_prompt(t, "/", q, sizeof q);
        t->live = NULL;
        if (!entered) { /* Esc: the filter in force before, as it was */
            tui_queue_filter(t, before);
            snprintf(t->view_name, sizeof t->view_name, "%s", view);
            t->msg[0] = '\0';
            return 0;
        }
    }
    return tui_queue_filter(t, q) ? 0 : 1;
}

static int c_inbox(tui *t, int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "dismissed") != 0) {
        snprintf(t->msg, sizeof t->msg, "inbox: '%.64s' is not a list; inbox or inbox dismissed",
                 argv[1]);
        return 1;
    }
    tui_inbox_show(t, argc > 1 ? VG_AS_DISMISSED : VG_AS_NEW);
    return 0;
}

/* What a command applies to: every row marked in view marks_in, else current;
 * a fresh array the caller frees (empty, with none_msg said, when there is none). */
static size_t pick(tui *t, tui_view marks_in, const char *current, const char *none_msg,
                   vg_id **ids)
{
    bool marks = t->view == marks_in && t->nmarked;
    size_t n = marks ? t->nmarked : current ? 1 : 0;
    *ids = vg_xcalloc(n ? n : 1, sizeof **ids);
    for (size_t i = 0; i < n; i++)
        memcpy((*ids)[i], marks ? t->marked[i] : current, sizeof(vg_id));
    if (!n)
        snprintf(t->msg, sizeof t->msg, "%s", none_msg);
    return n;
}

/* The alerts an inbox command applies to: every marked alert, else the current one. */
static size_t alert_targets(tui *t, vg_id **ids)
{
    return pick(t, VIEW_INBOX, tui_current_alert(t), "no alert selected (i opens the inbox)", ids);
}

static void ops_free(vg_op **ops, size_t n)
{
    for (size_t i = 0; i < n; i++)
        vg_op_free(ops[i]);
    free(ops);
}

/* argv[from..] joined by spaces, fresh (as long as the line was). */
static char *join_args(int argc, char **argv, int from)
{
    size_t len = 1;
    for (int i = from; i < argc; i++)
        len += strlen(argv[i]) + 1;
    char *s = vg_xmalloc(len), *p = s;
    *p = '\0';
    for (int i = from; i < argc; i++) {
        size_t l = strlen(argv[i]);
        if (i > from)
            *p++ = ' ';
        memcpy(p, argv[i], l + 1);
        p += l;
    }
    return s;
}

/* Apply one op per alert in a batch (all or none) and say what happened. */
static int alert_ops(tui *t, vg_op *(*make)(const char *alert, const char *arg),
                     const char *arg, const char *done)
{
    vg_id *ids;
    size_t n = alert_targets(t, &ids);
    if (!n) {
        free(ids);
        return 1;
    }
    vg_op **ops = vg_xmalloc(n * sizeof *ops);
    for (size_t i = 0; i < n; i++)
        ops[i] = make(ids[i], arg); /* the case of a link, the reason of a dismissal */
    vg_err err = {0};
    vg_rc rc = vg_apply_all(t->ws, ops, n, &err);
    ops_free(ops, n);
    free(ids);
    if (rc == VG_OK) {
        snprintf(t->msg, sizeof t->msg, "%s%s%zu alert%s", done, n > 1 ? " " : ": ", n,
                 n > 1 ? "s" : "");
        t->nmarked = 0;
    } else {
        snprintf(t->msg, sizeof t->msg, "%.200s", err.msg);
    }
    t->counts_stale = true;
    tui_inbox_open(t);
    return rc == VG_OK ? 0 : 1;
}

static vg_op *make_link(const char *alert, const char *case_id)
{
    return vg_op_alert_link(alert, case_id);
}

static vg_op *make_dismiss(const char *alert, const char *reason)
{
    return vg_op_alert_dismiss(alert, reason);
}

/* :promote opens one case per alert; marked alerts all go on one new case. */
static int c_promote(tui *t, int argc, char **argv)
{
    (void)argc, (void)argv;
    vg_id *ids, case_id;
    size_t n = alert_targets(t, &ids);
    vg_err err = {0};
    if (!n) {
        free(ids);
        return 1;
    }
    vg_rc rc = vg_alert_promote(t->ws, ids[0], case_id, &err);
    free(ids);
    if (rc != VG_OK) {
        snprintf(t->msg, sizeof t->msg, "%.200s", err.msg);
        return 1;
    }
    t->counts_stale = true; /* one more open case: the header says so at once */
    if (n > 1) { /* the others join the case the first one opened */
        t->view = VIEW_INBOX;
        if (alert_ops(t, make_link, case_id, "promoted with") != 0)
            return 1;
    }
    t->nmarked = 0;
    tui_case_open(t, case_id);
    snprintf(t->msg, sizeof t->msg, "case opened from %s", n > 1 ? "the marked alerts" : "the alert");
    return 0;
}

static int c_link(tui *t, int argc, char **argv)
{
    vg_id case_id;
    vg_err err = {0};
    if (argc < 2 || vg_case_resolve(t->ws, argv[1], case_id, &err) != VG_OK) {
        snprintf(t->msg, sizeof t->msg, "%.200s", argc < 2 ? "link: which case? (REF)" : err.msg);
        return 1;
    }
    return alert_ops(t, make_link, case_id, "linked");
}

static vg_op *make_restore(const char *alert, const char *case_id)
{
    (void)case_id;
    return vg_op_alert_restore(alert);
}

static int c_dismiss(tui *t, int argc, char **argv)
{
    if (t->view == VIEW_INBOX && t->inbox_status != VG_AS_NEW) {
        snprintf(t->msg, sizeof t->msg, "dismissed already (:restore brings them back)");
        return 1;
    }
    vg_id *ids; /* kept for u, when the batch is written */
    size_t n = alert_targets(t, &ids);
    char *reason = join_args(argc, argv, 1); /* :dismiss REASON... says why */
    int rc = n ? alert_ops(t, make_dismiss, reason, "dismissed") : 1;
    free(reason);
    if (rc == 0) {
        free(t->undo);
        t->undo = ids, t->nundo = n;
        size_t len = strlen(t->msg);
        snprintf(t->msg + len, sizeof t->msg - len, " (u brings %s back)", n > 1 ? "them" : "it");
    } else {
        free(ids);
    }
    return rc;
}

/* :restore: the marked or selected dismissed alerts back in the inbox. */
static int c_restore(tui *t, int argc, char **argv)
{
    (void)argc, (void)argv;
    if (t->view != VIEW_INBOX || t->inbox_status != VG_AS_DISMISSED) {
        snprintf(t->msg, sizeof t->msg, "restore: in the dismissed alerts (:inbox dismissed)");
        return 1;
    }
    return alert_ops(t, make_restore, NULL, "back in the inbox");
}

/* u: the alerts the last :dismiss dismissed back in the inbox, all or none. */
static int c_undo(tui *t, int argc, char **argv)
{
    (void)argc, (void)argv;
    if (!t->nundo) {
        snprintf(t->msg, sizeof t->msg, "nothing to undo (u brings back what :dismiss dismissed)");
        return 1;
    }
    vg_op **ops = vg_xmalloc(t->nundo * sizeof *ops);
    for (size_t i = 0; i < t->nundo; i++)
        ops[i] = vg_op_alert_restore(t->undo[i]);
    vg_err err = {0};
    vg_rc rc = vg_apply_all(t->ws, ops, t->nundo, &err);
    ops_free(ops, t->nundo);
    if (rc != VG_OK) {
        snprintf(t->msg, sizeof t->msg, "%.200s", err.msg);
        return 1;
    }
    snprintf(t->msg, sizeof t->msg, "undone: %zu alert%s back in the inbox", t->nundo,
             t->nundo == 1 ? "" : "s");
    free(t->undo);
    t->undo = NULL, t->nundo = 0;
    t->counts_stale = true;
    if (t->view == VIEW_INBOX)
        tui_inbox_show(t, t->inbox_status);
    return 0;
}

static int id_cmp(const void *a, const void *b) { return strcmp(a, b); }

/* T: mark every alert of the list whose title, rule, source or entities hold TEXT
 * (all of them, not a page), for :dismiss, :promote or :link. */
static int c_mark_matching(tui *t, int argc, char **argv)
{
    if (t->view != VIEW_INBOX) {
        snprintf(t->msg, sizeof t->msg, "mark-matching: in the inbox (i opens it)");
        return 1;
    }
    char q[128] = "";
    if (!arg_or_ask(t, argc, argv, "mark matching: ", q, sizeof q))
        return 0;
    vg_alert_cursor *found = NULL;
    size_t n = 0;
    vg_err err = {0};
    if (vg_alerts_find(t->ws, t->inbox_status, q, NULL, false, VG_ALERTS_FIND_MAX, &found, &n,
                       &err) != VG_OK) {
        snprintf(t->msg, sizeof t->msg, "%.200s", err.msg);
        return 1;
    }
    /* the marks already made, sorted, so that none is added twice */
    size_t had = t->nmarked;
    t->marked = vg_xrealloc(t->marked, (had + n + 1) * sizeof *t->marked);
    qsort(t->marked, had, sizeof *t->marked, id_cmp);
    for (size_t i = 0; i < n; i++)
        if (!bsearch(found[i].id, t->marked, had, sizeof *t->marked, id_cmp))
            memcpy(t->marked[t->nmarked++], found[i].id, sizeof(vg_id));
    free(found);
    snprintf(t->msg, sizeof t->msg, "%zu alert%s hold '%.64s': %zu marked%s", n,
             n == 1 ? "" : "s", q, t->nmarked,
             n ? " (:dismiss, :promote, :link REF act on them; :unmark clears)" : "");
    return 0;
}

/* :sort [NAME|-NAME|reverse]; with no name, the next order. */
static int c_sort(tui *t, int argc, char **argv)
{
    vg_case_sort next = (vg_case_sort)(((int)t->query.f.sort + 1) % VG_SORT__N);
    bool reverse = false;
    vg_err err = {0};
    if (argc > 1 && strcmp(argv[1], "reverse") == 0) { /* S: the same order, the other way */
        next = t->query.f.sort;
        reverse = !t->query.f.reverse;
    } else if (argc > 1 && vg_sort_parse(argv[1], &next, &reverse, &err) != VG_OK) {
        snprintf(t->msg, sizeof t->msg, "sort: %.200s", err.msg);
        return 1;
    }
    t->query.f.sort = next;
    t->query.f.reverse = reverse;
    t->has_after = false;
    t->sel = 0;
    t->view = VIEW_QUEUE;
    tui_queue_load(t);
    return 0;
}

/* n / N: the next or previous line holding the searched text. */
static int search_step(tui *t, int dir)
{
    if (t->view == VIEW_QUEUE) {
        snprintf(t->msg, sizeof t->msg, "n/N: the next match of a search in a case's text"
                                        " (/ there searches it)");
        return 1;
    }
    if (t->view == VIEW_INBOX) {
        if (!tui_inbox_find(t, dir) && !t->msg[0])
            snprintf(t->msg, sizeof t->msg, "%s%.100s",
                     t->inbox_search[0] ? "not found: " : "search first (/)", t->inbox_search);
        return 0;
    }
    if (!tui_search_step(t, dir))
        snprintf(t->msg, sizeof t->msg, "%s%.100s", t->search[0] ? "no more: " : "search first (/)",
                 t->search);
    return 0;
}
static int c_next(tui *t, int argc, char **argv) { (void)argc, (void)argv; return search_step(t, 1); }
static int c_prev(tui *t, int argc, char **argv) { (void)argc, (void)argv; return search_step(t, -1); }

static int c_view(tui *t, int argc, char **argv)
{
    for (int i = 0; argc > 1 && t->cfg && i < t->cfg->nviews; i++)
        if (strcmp(t->cfg->views[i].name, argv[1]) == 0) {
            if (!tui_queue_filter(t, t->cfg->views[i].query))
                return 1;
            snprintf(t->view_name, sizeof t->view_name, "%s", argv[1]);
            return 0;
        }
    int nv = t->cfg ? t->cfg->nviews : 0;
    int w = snprintf(t->msg, sizeof t->msg, "no saved view '%.64s'; %s", argc > 1 ? argv[1] : "",
                     nv ? "views:" : "none saved (they live in [views] of the config)");
    for (int i = 0; i < nv && w > 0 && (size_t)w < sizeof t->msg; i++)
        w += snprintf(t->msg + w, sizeof t->msg - (size_t)w, " %s", t->cfg->views[i].name);
    return 1;
}

static int c_back(tui *t, int argc, char **argv)
{
    (void)argc, (void)argv;
    /* In the Copilot tab or the general pane Esc stops a streaming answer;
     * elsewhere it streams on */
    if (tui_chat_stop(t))
        return 0;
    if (t->help)
        tui_help_close(t);
    else if (tui_gpane_shown(t)) /* the next Esc closes the general pane */
        tui_gpane_open(t, false);
    else if (t->view == VIEW_QUEUE && t->query_text[0])
        tui_queue_filter(t, "");
    else if (t->view == VIEW_ALERT && t->alert_case[0]) { /* back to the case's Alerts tab */
        t->view = VIEW_CASE;
        tui_case_open(t, t->alert_case);
    } else if (t->view == VIEW_ALERT)
        tui_inbox_open(t);
    else if (t->view != VIEW_QUEUE) {
        t->view = VIEW_QUEUE;
        tui_queue_load(t);
    }
    return 0;
}

static int c_dashboard(tui *t, int argc, char **argv)
{
    (void)argc, (void)argv;
    tui_dash_open(t);
    return 0;
}

static int c_handoff(tui *t, int argc, char **argv)
{
    tui_handoff_open(t, argc > 1 ? argv[1] : NULL);
    return 0;
}

static int c_help(tui *t, int argc, char **argv)
{
    (void)argc, (void)argv;
    tui_help_toggle(t);
    return 0;
}

static int c_tab(tui *t, int argc, char **argv)
{
    if (t->view == VIEW_CASE)
        tui_case_tab(t, argc > 1 && strcmp(argv[1], "prev") == 0 ? -1 : 1);
    return 0;
}

/* Read the queue's window again, the cursor staying on the case it was on when that
 * case is still in the window (a case synced in may sort above it: the row under the
 * cursor must not silently become another case, for the next key acts on it). */
static void queue_reload(tui *t)
{
    vg_id was = "";
    if (t->page.n)
        memcpy(was, t->page.items[t->sel].id, sizeof was);
    tui_queue_load(t);
    for (size_t i = 0; was[0] && i < t->page.n; i++)
        if (strcmp(t->page.items[i].id, was) == 0)
            t->sel = (int)i;
}

static int c_refresh(tui *t, int argc, char **argv)
{
    (void)argc, (void)argv;
    t->counts_stale = true; /* a refresh follows every write and every outside change */
    if (t->view == VIEW_CASE)
        tui_case_open(t, t->case_id);
    else if (t->view == VIEW_DASH)
        tui_dash_open(t);
    else if (t->view == VIEW_HANDOFF)
        tui_handoff_open(t, NULL);
    else if (t->view == VIEW_ALERT && t->alert_case[0]) /* the same alert, read again */
        tui_alert_show(t, t->alert_id, t->alert_case);
    else if (t->view == VIEW_INBOX || t->view == VIEW_ALERT)
        tui_inbox_open(t);
    else
        queue_reload(t);
    return 0;
}

/* Apply make(id) to every target in one batch: all of them or none. */
static int write_all(tui *t, vg_op *(*make)(const char *id, void *ud), void *ud, const char *done)
{
    vg_id *ids; /* every marked case in the queue, else the current one */
    size_t n = pick(t, VIEW_QUEUE, tui_current_case(t), "no case selected", &ids);
    if (!n) {
        free(ids);
        return 1;
    }
    vg_op **ops = vg_xmalloc(n * sizeof *ops);
    for (size_t i = 0; i < n; i++)
        ops[i] = make(ids[i], ud); /* NULL: nothing to do for that case */
    vg_err err = {0};
    vg_rc rc = vg_apply_all(t->ws, ops, n, &err);
    ops_free(ops, n);
    free(ids);
    if (rc == VG_OK && n > 1)
        snprintf(t->msg, sizeof t->msg, "%s on %zu cases", done, n);
    else
        snprintf(t->msg, sizeof t->msg, "%.200s", rc == VG_OK ? done : err.msg);
    if (rc == VG_OK && t->view == VIEW_QUEUE)
        t->nmarked = 0;
    c_refresh(t, 0, NULL);
    return rc == VG_OK ? 0 : 1;
}

/* :merge [REF]: the marked cases (or, with REF and none marked, the current one)
 * into REF, or into the current case; one batch, all of them or none. */
static int c_merge(tui *t, int argc, char **argv)
{
    vg_id into, *ids = NULL;
    vg_err err = {0};
    const char *cur = tui_current_case(t);
    if (argc > 1) {
        if (vg_case_resolve(t->ws, argv[1], into, &err) != VG_OK) {
            snprintf(t->msg, sizeof t->msg, "merge: %.200s", err.msg);
            return 1;
        }
    } else if (cur) {
        memcpy(into, cur, sizeof into);
    } else {
        snprintf(t->msg, sizeof t->msg, "merge: no case selected");
        return 1;
    }
    size_t n = 0;
    if (t->view == VIEW_QUEUE && t->nmarked) {
        ids = vg_xcalloc(t->nmarked, sizeof *ids);
        for (size_t i = 0; i < t->nmarked; i++)
            if (strcmp(t->marked[i], into) != 0)
                memcpy(ids[n++], t->marked[i], sizeof(vg_id));
    } else if (argc > 1 && cur) {
        ids = vg_xcalloc(1, sizeof *ids);
        memcpy(ids[n++], cur, sizeof(vg_id));
    }
    if (!n) {
        snprintf(t->msg, sizeof t->msg,
                 "merge: mark the cases to merge into this one (Space),"
                 " or :merge REF to merge this case into REF");
        free(ids);
        return 1;
    }
    vg_op **ops = vg_xmalloc(n * sizeof *ops);
    for (size_t i = 0; i < n; i++)
        ops[i] = vg_op_case_merge(ids[i], into);
    vg_rc rc = vg_apply_all(t->ws, ops, n, &err);
    char refs[200] = ""; /* the refs the door put in the ops, as merged */
    for (size_t i = 0; i < n && rc == VG_OK; i++) {
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(ops[i]->payload, "ref");
        size_t l = strlen(refs);
        if (cJSON_IsNumber(r) && l + 24 < sizeof refs)
            snprintf(refs + l, sizeof refs - l, "%s#%lld", i ? ", " : "",
                     (long long)r->valuedouble);
    }
    ops_free(ops, n);
    free(ids);
    if (rc == VG_OK) {
        vg_case k;
        int64_t ref = 0;
        if (vg_case_get(t->ws, into, &k, &err) == VG_OK) {
            ref = k.ref;
            vg_case_clear(&k);
        }
        snprintf(t->msg, sizeof t->msg, "merged %s into #%lld", refs, (long long)ref);
        if (t->view == VIEW_QUEUE)
            t->nmarked = 0;
    } else {
        snprintf(t->msg, sizeof t->msg, "merge: %.200s", err.msg);
    }
    c_refresh(t, 0, NULL);
    return rc == VG_OK ? 0 : 1;
}

typedef struct setarg {
    const char *field, *value, *resolution;
} setarg;

static vg_op *make_set(const char *id, void *ud)
{
    const setarg *a = ud;
    if (strcmp(a->field, "status") == 0)
        return vg_op_case_status(id, a->value, a->resolution);
    return vg_op_case_set(id, a->field, a->value);
}

/* Before a close: when a case to close has mandatory tasks not done, the analyst
 * says whether to close it anyway (y); false (nothing written, and said) for no. */
static bool close_confirmed(tui *t)
{
    vg_id *ids;
    size_t n = pick(t, VIEW_QUEUE, tui_current_case(t), "no case selected", &ids);
    long long left = 0, cases = 0, ref = 0;
    for (size_t i = 0; i < n; i++) {
        vg_progress p;
        vg_case k;
        vg_err err = {0};
        if (vg_case_progress(t->ws, ids[i], &p, &err) != VG_OK || !p.all_mandatory_left ||
            vg_case_get(t->ws, ids[i], &k, &err) != VG_OK)
            continue;
        if (k.status != VG_ST_CLOSED) {
            left += p.all_mandatory_left;
            cases++;
            ref = (long long)k.ref;
        }
        vg_case_clear(&k);
    }
    free(ids);
    if (!left)
        return true;
    char q[200], answer[16] = "";
    if (cases == 1)
        snprintf(q, sizeof q, "#%lld has %lld mandatory task%s not done: close anyway? (y/N) ",
                 ref, left, left == 1 ? "" : "s");
    else
        snprintf(q, sizeof q, "%lld cases have %lld mandatory tasks not done: close anyway? (y/N) ",
                 cases, left);
    tui_prompt(t, q, answer, sizeof answer);
    if (answer[0] == 'y' || answer[0] == 'Y')
        return true;
    snprintf(t->msg, sizeof t->msg, "not closed: %lld mandatory task%s not done (the Tasks tab)",
             left, left == 1 ? "" : "s");
    return false;
}

static int c_status(tui *t, int argc, char **argv)
{
    if (argc < 2) {
        snprintf(t->msg, sizeof t->msg, "status: give one of new, in_progress, on_hold,"
                                        " contained, closed RESOLUTION");
        return 1;
    }
    if (strcmp(argv[1], "closed") == 0 && argc > 2 && !close_confirmed(t))
        return 1;
    setarg a = {"status", argv[1], argc > 2 ? argv[2] : NULL};
    return write_all(t, make_set, &a, "status changed");
}

static int c_close(tui *t, int argc, char **argv)
{
    if (argc < 2) {
        snprintf(t->msg, sizeof t->msg, "close: give a resolution: true_positive, false_positive,"
                                        " benign, duplicate, indeterminate");
        return 1;
    }
    if (!close_confirmed(t))
        return 1;
    setarg a = {"status", "closed", argv[1]};
    return write_all(t, make_set, &a, "closed");
}

/* :reopen: a closed case (of the marked ones, the closed ones) back in progress. */
struct reopen {
    vg_ws *ws;
    size_t n; /* how many were closed */
};

static vg_op *make_reopen(const char *id, void *ud)
{
    struct reopen *r = ud;
    vg_case k;
    vg_err err = {0};
    if (vg_case_get(r->ws, id, &k, &err) != VG_OK)
        return NULL;
    bool closed = k.status == VG_ST_CLOSED;
    vg_case_clear(&k);
    if (!closed)
        return NULL;
    r->n++;
    return vg_op_case_set(id, "status", "in_progress");
}

static int c_reopen(tui *t, int argc, char **argv)
{
    (void)argc, (void)argv;
    struct reopen r = {t->ws, 0};
    if (write_all(t, make_reopen, &r, "reopened"))
        return 1;
    if (r.n == 0)
        snprintf(t->msg, sizeof t->msg, "reopen: not closed, nothing to reopen");
    else
        snprintf(t->msg, sizeof t->msg, "reopened %zu case%s, in progress again", r.n,
                 r.n == 1 ? "" : "s");
    return 0;
}

static int c_severity(tui *t, int argc, char **argv)
{
    if (argc < 2) {
        snprintf(t->msg, sizeof t->msg, "severity: give one of info, low, medium, high, critical");
        return 1;
    }
    setarg a = {"severity", argv[1], NULL};
    return write_all(t, make_set, &a, "severity changed");
}

static int c_assign(tui *t, int argc, char **argv)
{
    setarg a = {"assignee", argc > 1 && strcmp(argv[1], "me") != 0 ? argv[1] : t->actor, NULL};
    return write_all(t, make_set, &a, "assigned");
}

typedef struct tagarg {
    tui *t;
    const char *tag;
    size_t ops; /* the cases that got an op */
} tagarg;

/* Add a tag to a case's tags, or take one away (-TAG): read, change, set, tags
 * being one last-writer-wins field. A case without the tag to take away gets no
 * op. */
static vg_op *make_tag(const char *id, void *ud)
{
    tui *t = ((tagarg *)ud)->t;
    const char *tag = ((tagarg *)ud)->tag;
    vg_case c;
    vg_err err = {0};
    if (vg_case_get(t->ws, id, &c, &err) != VG_OK)
        return NULL;
    cJSON *tags = cJSON_Parse(c.tags);
    if (!cJSON_IsArray(tags)) {
        cJSON_Delete(tags);
        tags = cJSON_CreateArray();
    }
    if (*tag == '-') { /* every copy of it */
        bool had = false;
        for (int i = cJSON_GetArraySize(tags) - 1; i >= 0; i--) {
            const cJSON *it = cJSON_GetArrayItem(tags, i);
            if (cJSON_IsString(it) && strcmp(it->valuestring, tag + 1) == 0) {
                cJSON_DeleteItemFromArray(tags, i);
                had = true;
            }
        }
        if (!had) {
            cJSON_Delete(tags);
            vg_case_clear(&c);
            return NULL;
        }
    } else {
        cJSON_AddItemToArray(tags, cJSON_CreateString(*tag == '+' ? tag + 1 : tag));
    }
    size_t n = 0;
    const char **list = vg_xcalloc((size_t)cJSON_GetArraySize(tags) + 1, sizeof *list);
    const cJSON *it;
    cJSON_ArrayForEach(it, tags)
        if (cJSON_IsString(it))
            list[n++] = it->valuestring;
    vg_op *op = vg_op_case_tags(id, list, n);
    free(list);
    cJSON_Delete(tags);
    vg_case_clear(&c);
    ((tagarg *)ud)->ops++;
    return op;
}

static int c_tag(tui *t, int argc, char **argv)
{
    if (argc < 2) {
        snprintf(t->msg, sizeof t->msg, "tag: give a tag");
        return 1;
    }
    const char *tag = argv[1];
    if (((*tag == '-' || *tag == '+') && !tag[1]) || !*tag) {
        snprintf(t->msg, sizeof t->msg, "tag: give a tag (TAG to add, -TAG to take away)");
        return 1;
    }
    tagarg a = {t, tag, 0};
    int rc = write_all(t, make_tag, &a, *tag == '-' ? "untagged" : "tagged");
    if (rc == 0 && a.ops == 0)
        snprintf(t->msg, sizeof t->msg, "not tagged %.200s", tag + 1);
    return rc;
}

static int c_mark(tui *t, int argc, char **argv)
{
    (void)argc, (void)argv;
    const char *id = t->view == VIEW_QUEUE && t->page.n    ? t->page.items[t->sel].id
                     : t->view == VIEW_INBOX && t->nalerts ? t->alerts[t->asel].id
                                                           : NULL;
    if (!id)
        return 0;
    for (size_t i = 0; i < t->nmarked; i++)
        if (strcmp(t->marked[i], id) == 0) { /* unmark */
            memmove(&t->marked[i], &t->marked[i + 1], (t->nmarked - i - 1) * sizeof *t->marked);
            t->nmarked--;
            return 0;
        }
    t->marked = vg_xrealloc(t->marked, (t->nmarked + 1) * sizeof *t->marked);
    memcpy(t->marked[t->nmarked++], id, sizeof(vg_id));
    if (t->view == VIEW_QUEUE)
        tui_queue_move(t, 1);
    else
        tui_inbox_move(t, 1);
    return 0;
}

static int c_unmark(tui *t, int argc, char **argv)
{
    (void)argc, (void)argv;
    t->nmarked = 0;
    return 0;
}

/* A single-case write (notes). */
static int write_op(tui *t, vg_op *op, const char *done)
{
    vg_err err = {0};
    vg_rc rc = vg_apply(t->ws, op, &err);
    vg_op_free(op);
    snprintf(t->msg, sizeof t->msg, "%.200s", rc == VG_OK ? done : err.msg);
    c_refresh(t, 0, NULL);
    return rc == VG_OK ? 0 : 1;
}

static const char *need_case(tui *t)
{
    const char *id = tui_current_case(t);
    if (!id)
        snprintf(t->msg, sizeof t->msg, "no case selected");
    return id;
}

static int c_order(tui *t, int argc, char **argv)
{
    (void)argc, (void)argv;
    t->by_recorded = !t->by_recorded;
    if (t->view == VIEW_CASE)
        tui_case_open(t, t->case_id);
    return 0;
}

/* :done N / :todo N, N as numbered in the Tasks tab. */
static int task_status(tui *t, int argc, char **argv, const char *status)
{
    const char *id = need_case(t);
    vg_task task;
    vg_err err = {0};
    if (!id)
        return 1;
    if (argc < 2 || vg_task_resolve(t->ws, id, argv[1], &task, &err) != VG_OK) {
        snprintf(t->msg, sizeof t->msg, "%.200s", argc < 2 ? "which task? (its number)" : err.msg);
        return 1;
    }
    vg_op *op = vg_op_task_set(id, task.id, "status", status);
    vg_task_clear(&task);
    return write_op(t, op, strcmp(status, "done") ? "task reopened" : "task done");
}
static int c_done(tui *t, int argc, char **argv) { return task_status(t, argc, argv, "done"); }
static int c_todo(tui *t, int argc, char **argv) { return task_status(t, argc, argv, "todo"); }

/* :event WHEN what happened...: WHEN as vg_parse_when reads it (2h, a time with or
 * without its zone), or as the timeline prints it (2026-11-20 14:05, two words). */
static int c_event(tui *t, int argc, char **argv)
{
    const char *id = need_case(t);
    if (!id)
        return 1;
    int first = 2; /* the first word of the text */
    char when_s[64] = "";
    if (argc > 1)
        snprintf(when_s, sizeof when_s, "%s", argv[1]);
    if (argc > 3 && strlen(argv[1]) == 10 && strchr(argv[2], ':') &&
        strspn(argv[2], "0123456789:.") == strlen(argv[2])) { /* 2026-11-20 14:05 */
        snprintf(when_s, sizeof when_s, "%.10s %.20s", argv[1], argv[2]);
        first = 3;
    }
    if (argc <= first) {
        snprintf(t->msg, sizeof t->msg, "event: give when it happened (2h, 2026-11-20 14:05,"
                                        " 2026-11-20T14:05Z) and what");
        return 1;
    }
    int64_t when;
    vg_err err = {0};
    if (vg_parse_when("event", when_s, vg_now_ms(), 0, &when, &err) != VG_OK) {
        snprintf(t->msg, sizeof t->msg, "%.200s", err.msg);
        return 1;
    }
    vg_buf text;
    vg_buf_init(&text, 1 << 20);
    bool fits = true;
    for (int i = first; i < argc && fits; i++)
        fits = (i == first || vg_buf_adds(&text, " ") == VG_OK) &&
               vg_buf_adds(&text, argv[i]) == VG_OK;
    if (!fits) {
        vg_buf_free(&text);
        snprintf(t->msg, sizeof t->msg, "event: the text is longer than 1 MiB");
        return 1;
    }
    int rc = write_op(t, vg_op_event_add(id, when, NULL, vg_buf_str(&text)), "event added");
    vg_buf_free(&text);
    return rc;
}

static int note_op(tui *t, const char *case_id, const char *text);

static int c_edit_note(tui *t, int argc, char **argv)
{
    (void)argc, (void)argv;
    const char *id = need_case(t);
    if (!id)
        return 1;
    vg_id case_id;
    memcpy(case_id, id, sizeof case_id);
    char *text = tui_edit_text(t);
    if (!text)
        return 1;
    int rc = note_op(t, case_id, text);
    free(text);
    return rc;
}

static int c_star(tui *t, int argc, char **argv)
{
    vg_id row_id;
    bool starred, is_alert;
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 0;
    if (t->view != VIEW_CASE || n < 1 || n > 1000000 ||
        !tui_timeline_row(t, (int)n, row_id, &starred, &is_alert)) {
        snprintf(t->msg, sizeof t->msg, "star: give the number of a row on the Timeline tab");
        return 1;
    }
    return write_op(t, vg_op_row_star(t->case_id, row_id, is_alert, !starred),
                    starred ? "unstarred" : "starred");
}

void tui_mention_msg(tui *t, const char *text, const char *done)
{
    char **unknown = NULL;
    size_t n = 0;
    vg_err err = {0};
    snprintf(t->msg, sizeof t->msg, "%s", done);
    if (vg_mentions_unknown(t->ws, text, &unknown, &n, &err) != VG_OK) {
        snprintf(t->msg, sizeof t->msg, "%s; %.200s", done, err.msg);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(t->msg);
        snprintf(t->msg + l, sizeof t->msg - l, "%s@%.40s",
                 i ? ", " : "; not a known user: ", unknown[i]);
    }
    vg_strings_free(unknown, n);
}


/* A note, and a warning for a mention of a user the workspace does not know. */
static int note_op(tui *t, const char *case_id, const char *text)
{
    vg_err err = {0};
    vg_op *op = vg_op_note_add(case_id, text);
    vg_rc rc = vg_apply(t->ws, op, &err);
    vg_op_free(op);
    if (rc == VG_OK)
        tui_mention_msg(t, text, "note added");
    else
        snprintf(t->msg, sizeof t->msg, "%.200s", err.msg);
    char msg[sizeof t->msg];
    memcpy(msg, t->msg, sizeof msg);
    c_refresh(t, 0, NULL);
    memcpy(t->msg, msg, sizeof msg);
    return rc == VG_OK ? 0 : 1;
}

static int c_note(tui *t, int argc, char **argv)
{
    const char *id = need_case(t);
    if (!id)
        return 1;
    char *text = join_args(argc, argv, 1);
    int rc = note_op(t, id, text);
    free(text);
    return rc;
}

static int c_log(tui *t, int argc, char **argv)
{
    char *text = join_args(argc, argv, 1);
    int rc = tui_task_log(t, text);
    free(text);
    return rc;
}

/* :field NAME VALUE... on the case (or the marked cases); a lone - clears it. */
static int c_field(tui *t, int argc, char **argv)
{
    if (argc < 2) {
        vg_field_def *d = NULL;
        size_t n = 0;
        vg_err err = {0};
        char names[200] = "";
        if (vg_field_defs(t->ws, &d, &n, &err) == VG_OK)
            for (size_t i = 0; i < n; i++) {
                size_t l = strlen(names);
                snprintf(names + l, sizeof names - l, "%s%s", i ? ", " : "", d[i].name);
            }
        vg_field_defs_free(d, n);
        snprintf(t->msg, sizeof t->msg, "field NAME VALUE: %s", n ? names : "no custom fields"
                 " (vigil field define NAME TYPE)");
        return 1;
    }
    if (argc == 2) {
        vg_field_def d;
        vg_err err = {0};
        if (vg_field_def_get(t->ws, argv[1], &d, &err) != VG_OK) {
            snprintf(t->msg, sizeof t->msg, "%.200s", err.msg);
        } else {
            char vals[160] = "";
            for (size_t i = 0; i < d.nvalues; i++) {
                size_t l = strlen(vals);
                snprintf(vals + l, sizeof vals - l, "%s%s", i ? ", " : ": ", d.values[i]);
            }
            snprintf(t->msg, sizeof t->msg, "field %s is a %.8s%.40s; :field %.64s VALUE sets it (- clears)",
                     d.name, VG_FIELD_TYPE.names[d.type], vals, d.name);
        }
        vg_field_def_clear(&d);
        return 1;
    }
    char field[VG_FIELD_MAX_NAME + 8], value[2048] = "";
    snprintf(field, sizeof field, "field.%.64s", argv[1]);
    for (int i = 2; i < argc; i++) {
        size_t l = strlen(value);
        snprintf(value + l, sizeof value - l, "%s%s", i > 2 ? " " : "", argv[i]);
    }
    setarg a = {field, strcmp(value, "-") == 0 ? "" : value, NULL};
    return write_all(t, make_set, &a, "field set");
}

/* :new [--template NAME] TITLE...: a case, from a template with its playbooks; with
 * nothing, the templates there are. */
static int c_new(tui *t, int argc, char **argv)
{
    const char *tpl = NULL;
    int first = 1;
    if (argc > 2 && strcmp(argv[1], "--template") == 0) {
        tpl = argv[2];
        first = 3;
    }
    char title[1024] = "";
    for (int i = first; i < argc; i++) {
        size_t l = strlen(title);
        snprintf(title + l, sizeof title - l, "%s%s", i > first ? " " : "", argv[i]);
    }
    vg_template *ts = NULL;
    size_t nt = 0;
    vg_err err = {0};
    const char *dirs[2] = {t->cfg ? t->cfg->templates[0] : NULL,
                           t->cfg ? t->cfg->templates[1] : NULL};
    if (vg_template_library(dirs, 2, 1, &ts, &nt, &err) != VG_OK) {
        snprintf(t->msg, sizeof t->msg, "%.200s", err.msg);
        return 1;
    }
    int rc = 1;
    vg_id id;
    if (!tpl && !*title) {
        char names[200] = "";
        for (size_t i = 0; i < nt; i++) {
            size_t l = strlen(names);
            snprintf(names + l, sizeof names - l, "%s%s", i ? ", " : "", ts[i].id);
        }
        snprintf(t->msg, sizeof t->msg, "templates (:new --template NAME TITLE): %s",
                 nt ? names : "none");
    } else if (tpl) {
        const vg_template *x = vg_template_find(ts, nt, tpl);
        const char *pb = t->cfg ? t->cfg->playbooks : NULL;
        char *full = NULL;
        if (!x)
            snprintf(t->msg, sizeof t->msg, "%.60s: no such template", tpl);
        else if (vg_template_check(t->ws, x, pb, &err) != VG_OK ||
                 !(full = vg_template_title(x, title, vg_now_ms(), &err)) ||
                 vg_template_new_case(t->ws, x, full, NULL, pb, id, &err) != VG_OK)
            snprintf(t->msg, sizeof t->msg, "%.200s", err.msg);
        else
            rc = 0;
        free(full);
    } else {
        vg_op *op = vg_op_case_create(title, NULL, NULL);
        cJSON_AddItemToObject(op->payload, "fields", cJSON_CreateObject());
        memcpy(id, op->target, sizeof id);
        if (vg_apply(t->ws, op, &err) != VG_OK)
            snprintf(t->msg, sizeof t->msg, "%.200s", err.msg);
        else
            rc = 0;
        vg_op_free(op);
    }
    vg_templates_free(ts, nt);
    if (rc == 0) {
        c_refresh(t, 0, NULL);
        tui_case_open(t, id);
        snprintf(t->msg, sizeof t->msg, "case opened");
    }
    return rc;
}

/* The Tasks tab and the playbook picker (tasks.c). */
static int c_playbook(tui *t, int argc, char **argv)
{
    return tui_playbook(t, argc > 1 ? argv[1] : NULL);
}
static int c_task_toggle(tui *t, int argc, char **argv) { (void)argc, (void)argv; return tui_task_toggle(t); }
static int c_fold(tui *t, int argc, char **argv) { (void)argc, (void)argv; return tui_task_fold(t); }

/* :graph opens the selected or open case's Graph tab; :graph all the workspace's. */
static int c_graph(tui *t, int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "all") == 0) {
        tui_graph_open(t, NULL);
        return 0;
    }
    vg_id case_id;
    vg_err err = {0};
    if (argc > 1 && vg_case_resolve(t->ws, argv[1], case_id, &err) != VG_OK) {
        snprintf(t->msg, sizeof t->msg, "%.200s", err.msg);
        return 1;
    }
    const char *id = argc > 1 ? case_id : need_case(t);
    if (!id)
        return 1;
    memmove(case_id, id, sizeof case_id);
    memcpy(t->case_id, case_id, sizeof case_id);
    t->tab = tui_graph_tab();
    tui_graph_open(t, case_id);
    return 0;
}

/* Graph keys outside the graph (inside it, tui_graph_command runs them). */
static int c_graph_only(tui *t, int argc, char **argv)
{
    (void)argc;
    snprintf(t->msg, sizeof t->msg, "%s works in the graph (the Graph tab, or m)", argv[0]);
    return 1;
}

/* An indicator on the case: "ioc TYPE VALUE", or "ioc VALUE" with the type the
 * extractor sees (defanged forms welcome). */
/* An indicator: an artifact with the IOC flag (what STIX and MISP export as one). */
static vg_op *ioc_op(const char *case_id, const char *type, const char *value)
{
    return vg_op_indicator_add(case_id, type, value, NULL);
}

static int c_ioc(tui *t, int argc, char **argv)
{
    const char *id = need_case(t);
    if (!id)
        return 1;
    if (argc == 3)
        return write_op(t, ioc_op(id, argv[1], argv[2]), "indicator added");
    vg_ioc_list l = {0};
    if (argc == 2)
        vg_ioc_extract(argv[1], strlen(argv[1]), &l);
    if (!l.n) {
        vg_ioc_list_free(&l);
        snprintf(t->msg, sizeof t->msg, "ioc TYPE VALUE, or ioc VALUE for an IP, domain, URL,"
                                        " e-mail, hash or CVE");
        return 1;
    }
    int rc = write_op(t, ioc_op(id, vg_ioc_type(l.items[0].kind), l.items[0].value),
                      "indicator added");
    vg_ioc_list_free(&l);
    return rc;
}

/* Take an artifact off the case, named by its value or an id prefix (as the CLI's
 * artifact rm). */
static int c_artifact_rm(tui *t, int argc, char **argv)
{
    const char *id = need_case(t);
    if (!id)
        return 1;
    if (argc != 2) {
        snprintf(t->msg, sizeof t->msg, "artifact-rm VALUE (or the start of its id)");
        return 1;
    }
    vg_artifact a;
    vg_err err = {0};
    if (vg_artifact_resolve(t->ws, id, argv[1], &a, &err) != VG_OK) {
        snprintf(t->msg, sizeof t->msg, "%.200s", err.msg);
        return 1;
    }
    int rc = write_op(t, vg_op_artifact_remove(id, vg_enum_name(&VG_ARTIFACT_TYPE, a.type), a.value),
                      "artifact removed");
    vg_artifact_clear(&a);
    return rc;
}

static int c_related(tui *t, int argc, char **argv)
{
    const char *id = need_case(t);
    char *res = NULL;
    vg_err err = {0};
    if (!id)
        return 1;
    if (cop_related(t->ws, id, argc > 1 ? argv[1] : NULL, &res, &err) != VG_OK) {
        snprintf(t->msg, sizeof t->msg, "%.200s", err.msg);
        return 1;
    }
    snprintf(t->msg, sizeof t->msg, "%.250s", res);
    free(res);
    return 0;
}

/* The copilot (chat.c): a question about the open case, or from the queue about
 * the open queue (the general pane), or a prompt for one. */
static int c_ask(tui *t, int argc, char **argv)
{
    char q[2048] = "";
    size_t n = 0;
    for (int i = 1; i < argc && n < sizeof q; i++)
        n += (size_t)snprintf(q + n, sizeof q - n, "%s%s", i > 1 ? " " : "", argv[i]);
    if (t->view == VIEW_QUEUE) {
        if (!q[0]) {
            tui_gpane_open(t, true);
            tui_prompt(t, "ask the queue> ", q, sizeof q);
        }
        if (q[0])
            tui_chat_ask_queue(t, q);
        return 0;
    }
    if (!q[0] && t->view == VIEW_CASE) {
        tui_show_tab(t, "Copilot");
        tui_prompt(t, "ask> ", q, sizeof q);
    }
    if (q[0])
        tui_chat_ask(t, q);
    return 0;
}

static int c_proposal(tui *t, int argc, char **argv)
{
    static const char keys[][2][8] = {{"yes", "y"}, {"no", "n"}, {"edit", "e"}, {"take", "a"}};
    for (size_t i = 0; argc > 1 && i < sizeof keys / sizeof *keys; i++)
        if (strcmp(argv[1], keys[i][0]) == 0) {
            if (!tui_chat_key(t, keys[i][1][0]))
                snprintf(t->msg, sizeof t->msg, "nothing to decide in the Copilot tab or the"
                                                " queue's copilot pane");
            return 0;
        }
    snprintf(t->msg, sizeof t->msg, "proposal yes|no|edit|take");
    return 1;
}

static const tcmd commands[] = {
    {"quit", "", "leave vigil", c_quit},
    {"down", "", "next row, or scroll down", c_down},
    {"up", "", "previous row, or scroll up", c_up},
    {"page-down", "", "a page down", c_page_down},
    {"page-up", "", "a page up", c_page_up},
    {"half-page-down", "", "half a page down", c_half_down},
    {"half-page-up", "", "half a page up", c_half_up},
    {"top", "", "the first row", c_top},
    {"bottom", "", "the last row", c_bottom},
    {"open", "[REF]", "open the selected case, or the one named", c_open},
    {"back", "", "close help, or go back to the queue", c_back},
    {"help", "", "this overlay", c_help},
    {"filter", "[QUERY]", "filter the queue (in a text view: search it, then n/N)",
     c_filter},
    {"inbox", "[dismissed]", "alerts on no case: promote, link or dismiss them (dismissed:"
     " the dismissed ones, to restore)", c_inbox},
    {"promote", "", "open a case from the alert and link it", c_promote},
    {"link", "REF", "link the alert to a case", c_link},
    {"dismiss", "[REASON...]", "dismiss the alert (or the marked ones), saying why; u brings"
     " them back", c_dismiss},
    {"undo", "", "in the inbox: bring back what the last dismiss dismissed", c_undo},
    {"restore", "", "in the dismissed alerts: put the alert (or the marked) back in the inbox",
     c_restore},
    {"mark-matching", "[TEXT]", "in the inbox: mark every alert holding TEXT (T), not only"
     " the page", c_mark_matching},
    {"order", "", "the timeline by when it happened, or by when it was recorded", c_order},
    {"done", "N", "tick task N of the case", c_done},
    {"todo", "N", "untick task N", c_todo},
    {"event", "WHEN TEXT", "add a timeline event that happened at WHEN (2026-11-20T14:05)", c_event},
    {"next-match", "", "the next line holding the text searched with / (in a text view)", c_next},
    {"prev-match", "", "the previous such line", c_prev},
    {"sort", "[severity|newest|oldest|ref|status|title|assignee|alerts|sla|-NAME|reverse]",
     "order the queue by a column, -NAME the other way (s: the next order, S: reversed)",
     c_sort},
    {"view", "NAME", "filter the queue with a saved view from the config", c_view},
    {"dashboard", "", "opened/closed per day, MTTA, MTTR, heatmap, aging", c_dashboard},
    {"tab", "[next|prev]", "the next tab of a case", c_tab},
    {"refresh", "", "read the workspace again", c_refresh},
    {"status", "S [RESOLUTION]", "set the status (closed needs a resolution)", c_status},
    {"close", "RESOLUTION", "close (true_positive, false_positive, benign, ...)", c_close},
    {"reopen", "", "reopen a closed case (in progress again)", c_reopen},
    {"merge", "[REF]", "merge the marked cases into this one, or this case into REF"
     " (closed as duplicate)", c_merge},
    {"severity", "S", "set the severity", c_severity},
    {"assign", "[NAME|me]", "assign (to you by default)", c_assign},
    {"tag", "TAG|-TAG", "add a tag to the case (or the marked cases); -TAG takes it away",
     c_tag},
    {"mark", "", "mark the row for a bulk action (writes then apply to all marked)", c_mark},
    {"unmark", "", "clear the marks", c_unmark},
    {"field", "NAME VALUE...", "set a custom field of the case (- clears it)", c_field},
    {"new", "[--template NAME] TITLE...", "open a case (from a template: fields, playbooks)",
     c_new},
    {"note", "TEXT...", "add a note to the case (@NAME mentions an analyst)", c_note},
    {"log", "[TEXT...]", "Tasks tab: an entry in the selected task's log ($EDITOR alone)", c_log},
    {"handoff", "[SINCE]", "what changed since 8h (or 2d, a time) and your mentions", c_handoff},
    {"edit-note", "", "write a note in $VISUAL or $EDITOR", c_edit_note},
    {"star", "N", "star or unstar event N of the timeline", c_star},
    {"playbook", "[ID]", "apply a playbook: a picker with a preview, or the one named",
     c_playbook},
    {"task-toggle", "", "Tasks tab: tick the selected task (or untick it)", c_task_toggle},
    {"fold", "", "Tasks tab: fold or unfold the selected phase", c_fold},
    {"graph", "[REF|all]", "the case's investigation graph (all: the workspace's)", c_graph},
    {"left", "", "in the graph: pan left", c_graph_only},
    {"right", "", "in the graph: pan right", c_graph_only},
    {"depth", "+1|-1", "in the graph: show more or fewer hops around the case", c_graph_only},
    {"graph-filter", "", "in the graph: everything, IOCs, open cases, connected parts", c_graph_only},
    {"collapse", "", "in the graph: fold or unfold the selected case's values", c_graph_only},
    {"node", "next|prev", "in the graph: select the next or previous node (] and [; Tab"
     " moves to the case's next tab)", c_graph_only},
    {"ask", "[QUESTION...]", "ask the copilot about the case, or on the queue about the open"
     " queue (/cmd runs a : command)", c_ask},
    {"ioc", "[TYPE] VALUE", "add an indicator (IOC flag set) to the case (the type found"
     " when not given)", c_ioc},
    {"artifact-rm", "VALUE", "take an artifact off the case (its value or an id prefix)",
     c_artifact_rm},
    {"related", "[VALUE]", "other cases sharing this case's artifacts", c_related},
    {"proposal", "yes|no|edit|take", "decide the copilot's proposal (y n e; a: suggestion)",
     c_proposal},
};

/* Default bindings: a key name and the command string it runs. */
static const struct binding {
    const char *key, *command;
} bindings[] = {
    {"j", "down"},         {"Down", "down"},       {"k", "up"},          {"Up", "up"},
    {"NPage", "page-down"}, {"PPage", "page-up"},   {"g", "top"},         {"Home", "top"},
    {"G", "bottom"},       {"End", "bottom"},      {"Enter", "open"},    {"Esc", "back"},
    {"q", "quit"},         {"?", "help"},          {"Tab", "tab next"},  {"BTab", "tab prev"},
    {"r", "refresh"},      {"a", "assign me"},     {"d", "dashboard"},     {"/", "filter"},        {"i", "inbox"},         {"Space", "mark"},       {"o", "order"},         {"E", "edit-note"},     {"s", "sort"},          {"n", "next-match"},    {"N", "prev-match"},
    {"h", "left"},         {"l", "right"},         {"Left", "left"},     {"Right", "right"},
    {"+", "depth +1"},     {"-", "depth -1"},      {"f", "graph-filter"},
    {"m", "graph all"},    {"H", "handoff"},
    {"c", "ask"},          {"T", "mark-matching"}, {"u", "undo"},
    {"S", "sort reverse"}, {"C-f", "page-down"},    {"C-b", "page-up"},
    {"C-d", "half-page-down"}, {"C-u", "half-page-up"},
};

/* The key names bindings can use beyond single printable characters (and C-a ... C-z,
 * F1 ... F12: tui_key_valid). */
static const char *const named_keys[] = {"Space", "Enter", "Esc",  "Tab",   "BTab",  "Up",    "Down",
                                         "Left",  "Right", "Home", "End",   "NPage", "PPage"};

bool tui_key_valid(const char *key)
{
    if (strlen(key) == 1)
        return key[0] > 32 && key[0] < 127;
    /* C-a ... C-z but those the terminal turns into other keys (C-i Tab, C-j and C-m
     * Enter, C-h Backspace), and F1 ... F12 */
    if (strlen(key) == 3 && key[0] == 'C' && key[1] == '-' && key[2] >= 'a' && key[2] <= 'z')
        return !strchr("ijmh", key[2]);
    if (key[0] == 'F') {
        char *end;
        long f = strtol(key + 1, &end, 10);
        return key[1] >= '1' && key[1] <= '9' && !*end && f <= 12;
    }
    for (size_t i = 0; i < sizeof named_keys / sizeof *named_keys; i++)
        if (strcmp(named_keys[i], key) == 0)
            return true;
    return false;
}

bool tui_command_valid(const char *command)
{
    size_t n = strcspn(command, " ");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strlen(commands[i].name) == n && strncmp(commands[i].name, command, n) == 0)
            return true;
    return false;
}

/* The command a key runs: the analyst's binding first, then the default. */
static const tui_config *active_cfg;

const char *tui_binding(const char *key)
{
    for (int i = 0; active_cfg && i < active_cfg->nkeys; i++)
        if (strcmp(active_cfg->keys[i].key, key) == 0)
            return active_cfg->keys[i].command;
    for (size_t i = 0; i < sizeof bindings / sizeof *bindings; i++)
        if (strcmp(bindings[i].key, key) == 0)
            return bindings[i].command;
    return NULL;
}

void tui_set_config(const tui_config *cfg) { active_cfg = cfg; }

/* The words of a command line into argv (in place in buf): spaces separate them,
 * 'single quotes' keep everything up to the next ', "double quotes" keep all but
 * \" and \\ (which stand for " and \), and a backslash outside quotes keeps the
 * next character. An unclosed quote is an error naming its column (err). */
static bool split_words(char *buf, char **argv, int *argc, char *err, size_t errsz)
{
    char *in = buf, *out = buf;
    *argc = 0;
    while (*in) {
        while (*in == ' ' || *in == '\t')
            in++;
        if (!*in)
            break;
        argv[(*argc)++] = out;
        while (*in && *in != ' ' && *in != '\t') {
            if (*in == '\'' || *in == '"') {
                char q = *in;
                const char *open = in++;
                while (*in && *in != q) {
                    if (q == '"' && *in == '\\' && (in[1] == '"' || in[1] == '\\'))
                        in++;
                    *out++ = *in++;
                }
                if (!*in) {
                    snprintf(err, errsz, "unclosed %c at column %d", q, (int)(open - buf) + 1);
                    return false;
                }
                in++;
            } else if (*in == '\\' && in[1]) {
                in++;
                *out++ = *in++;
            } else {
                *out++ = *in++;
            }
        }
        bool more = *in != '\0'; /* a separator ends the word (out never passes in) */
        *out++ = '\0';
        if (!more)
            break;
        in++;
    }
    argv[*argc] = NULL;
    return true;
}

/* A command whose argument is the rest of the line: that rest, as typed, but for
 * one pair of quotes around all of it (:note "two  words"). */
static char *rest_of_line(char *rest)
{
    rest += strspn(rest, " \t");
    size_t n = strlen(rest);
    while (n && (rest[n - 1] == ' ' || rest[n - 1] == '\t'))
        rest[--n] = '\0';
    if (n >= 2 && (rest[0] == '"' || rest[0] == '\'') && rest[n - 1] == rest[0] &&
        !memchr(rest + 1, rest[0], n - 2)) {
        rest[n - 1] = '\0';
        rest++;
    }
    return rest;
}

int tui_dispatch(tui *t, const char *command)
{
    /* as long as the command is: a note or a log entry is never cut */
    char *buf = vg_xstrdup(command), **argv = vg_xmalloc((strlen(command) / 2 + 3) * sizeof *argv);
    int argc = 0, rc = 1;
    const tcmd *k = NULL;
    char *name = buf + strspn(buf, " \t");
    size_t nl = strcspn(name, " \t");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strlen(commands[i].name) == nl && strncmp(commands[i].name, name, nl) == 0)
            k = &commands[i];
    char err[96];
    if (k && takes_rest(k->name)) { /* the name, then the line as typed */
        argv[argc++] = name;
        char *rest = name[nl] ? name + nl + 1 : name + nl;
        name[nl] = '\0';
        rest = rest_of_line(rest);
        if (*rest)
            argv[argc++] = rest;
        argv[argc] = NULL;
    } else if (!split_words(buf, argv, &argc, err, sizeof err)) {
        snprintf(t->msg, sizeof t->msg, "%s: %s", command, err);
        goto out;
    }
    if (argc == 0) {
        rc = 0;
        goto out;
    }
    if (t->view == VIEW_GRAPH && tui_graph_command(t, argc, argv)) {
        rc = 0;
        goto out;
    }
    if (k) {
        rc = k->fn(t, argc, argv);
        goto out;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(commands[i].name, argv[0]) == 0) { /* a quoted name */
            rc = commands[i].fn(t, argc, argv);
            goto out;
        }
    snprintf(t->msg, sizeof t->msg, "unknown command '%.64s' (? lists them)", argv[0]);
out:
    free(argv);
    free(buf);
    return rc;
}

static void help_add(char ***lines, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void help_add(char ***lines, size_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    *lines = vg_xrealloc(*lines, (*n + 1) * sizeof **lines);
    (*lines)[(*n)++] = vg_xvasprintf(fmt, ap);
    va_end(ap);
}

char **tui_help_lines(size_t *n)
{
    char **l = NULL;
    *n = 0;
    help_add(&l, n, "Keys                       (: runs any command below)");
    for (int i = 0; active_cfg && i < active_cfg->nkeys; i++)
        help_add(&l, n, "  %-8s %s   (your config)", active_cfg->keys[i].key,
                 active_cfg->keys[i].command);
    for (size_t i = 0; i < sizeof bindings / sizeof *bindings; i++)
        help_add(&l, n, "  %-8s %s", bindings[i].key, bindings[i].command);
    /* the Tasks tab's own keys (tui_tasks_binding) */
    help_add(&l, n, "  Tasks tab: Space task-toggle, Enter fold, a playbook");
    /* tui_chat_key: the proposals waiting on the case ("Copilot (2)") */
    help_add(&l, n, "  Copilot tab: y apply, n cancel, e edit the first proposal waiting for"
                    " you (an agent's, by vigil mcp: y on its draft note edits the text first)");
    help_add(&l, n, "%s", "");
    help_add(&l, n, "Commands");
    for (int i = 0; active_cfg && i < active_cfg->nviews; i++)
        help_add(&l, n, "  view %-14.14s %s", active_cfg->views[i].name,
                 active_cfg->views[i].query);
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        help_add(&l, n, "  %-12s %-16s %s", commands[i].name, commands[i].args,
                 commands[i].help);
    return l;
}

/* The words that may follow a command (its first argument), for completion. */
static void arg_words(tui *t, const char *cmd, void (*add)(void *ud, const char *w), void *ud)
{
    static const struct { const char *cmd; const vg_enum *e; } enums[] = {
        {"status", &VG_STATUS}, {"close", &VG_RESOLUTION}, {"severity", &VG_SEVERITY},
    };
    for (size_t i = 0; i < sizeof enums / sizeof *enums; i++)
        if (strcmp(cmd, enums[i].cmd) == 0)
            for (int k = 0; k < enums[i].e->n; k++)
                add(ud, enums[i].e->names[k]);
    static const struct { const char *cmd, *words[6]; } fixed[] = {
        {"tab", {"next", "prev"}},   {"inbox", {"dismissed"}},
        {"graph", {"all"}},          {"depth", {"+1", "-1"}},
        {"proposal", {"yes", "no", "edit", "take"}}, {"assign", {"me"}},
        {"new", {"--template"}},     {"handoff", {"8h", "12h", "1d", "2d", "1w"}},
    };
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        for (int k = 0; strcmp(cmd, fixed[i].cmd) == 0 && k < 6 && fixed[i].words[k]; k++)
            add(ud, fixed[i].words[k]);
    if (strcmp(cmd, "sort") == 0) {
        for (int k = 0; k < VG_SORT__N; k++)
            add(ud, VG_SORT_NAMES[k]);
        add(ud, "reverse");
    }
    if (strcmp(cmd, "view") == 0)
        for (int k = 0; t->cfg && k < t->cfg->nviews; k++)
            add(ud, t->cfg->views[k].name);
    if (strcmp(cmd, "assign") == 0) { /* the analysts the workspace knows */
        char **users = NULL;
        size_t n = 0;
        vg_err err = {0};
        if (vg_users_known(t->ws, &users, &n, &err) == VG_OK)
            for (size_t k = 0; k < n; k++)
                add(ud, users[k]);
        vg_strings_free(users, n);
    }
}

typedef struct completion {
    const char *prefix;
    size_t plen, n;
    char common[256];
    char *list; /* the candidates, space separated */
    size_t listsz, listlen;
} completion;

static void complete_one(void *ud, const char *w)
{
    completion *c = ud;
    if (strncmp(w, c->prefix, c->plen) != 0)
        return;
    if (c->n++ == 0) {
        snprintf(c->common, sizeof c->common, "%s", w);
    } else {
        size_t k = 0; /* shorten common to what it shares with w */
        while (c->common[k] && c->common[k] == w[k])
            k++;
        c->common[k] = '\0';
    }
    if (c->list && c->listlen + strlen(w) + 3 < c->listsz) {
        int wr = snprintf(c->list + c->listlen, c->listsz - c->listlen, "%s%s",
                          c->listlen ? "  " : "", w);
        c->listlen += wr > 0 ? (size_t)wr : 0;
    }
}

size_t tui_complete_line(tui *t, char *line, size_t linesz, char *list, size_t listsz)
{
    if (list && listsz)
        list[0] = '\0';
    char *space = strrchr(line, ' ');
    completion c = {.list = list, .listsz = listsz};
    if (!space) { /* the command's name */
        c.prefix = line;
        c.plen = strlen(line);
        for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
            complete_one(&c, commands[i].name);
    } else { /* its argument: only the first word after the name has candidates */
        char cmd[64];
        size_t nl = strcspn(line, " ");
        snprintf(cmd, sizeof cmd, "%.*s", (int)(nl < 63 ? nl : 63), line);
        if (space != line + nl)
            return 0;
        c.prefix = space + 1;
        c.plen = strlen(c.prefix);
        arg_words(t, cmd, complete_one, &c);
    }
    if (c.n == 0)
        return 0;
    size_t at = (size_t)(c.prefix - line);
    if (at + strlen(c.common) + 2 < linesz)
        snprintf(line + at, linesz - at, "%s%s", c.common, c.n == 1 ? " " : "");
    if (c.n == 1 && list && listsz)
        list[0] = '\0'; /* completed: nothing to choose from */
    return c.n;
}
