/*
 * tui.c — the curses workstation: terminal lifecycle, the main loop, drawing, the
 * case queue and the case view.
 *
 * The terminal is always restored: on quit, at exit, on fatal signals and before an
 * out-of-memory abort; stderr goes to a log file while curses owns the screen, so
 * no library message can paint over it (the htop rules). The loop waits in poll()
 * for a key or one second; on the tick, PRAGMA data_version tells cheaply whether
 * another process wrote, and the view reloads. The queue is a window: only the rows
 * on screen are read (keyset pages both ways), so 100,000 cases cost what one
 * screen costs. Every string from data is made safe when drawn, nowhere else.
 */
#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "editor.h"
#include "tui.h"
#include "vigil/buf.h"
#include "vigil/fields.h"
#include "vigil/evidence.h"
#include "vigil/handoff.h"
#include "vigil/intel.h"
#include "vigil/json.h"
#include "vigil/metrics.h"
#include "vigil/model.h"
#include "vigil/op.h"
#include "vigil/playbook.h"
#include "vigil/text.h"
#include "vigil/timefmt.h"

enum { PAIR_CRIT = 1, PAIR_HIGH, PAIR_MED, PAIR_LOW, PAIR_BAR };

static volatile sig_atomic_t curses_on;

static void restore(void)
{
    if (curses_on) {
        curses_on = 0;
        endwin();
    }
}

static void on_fatal(int sig)
{
    restore();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* ---- drawing ------------------------------------------------------------------- */

/* Draw data text at (y, x), made safe and cut to cols columns. */
static void put_text(tui *t, int y, int x, int cols, const char *s, bool pad)
{
    if (cols <= 0)
        return;
    char *safe = vg_text_safe_dup(s ? s : "", t->ascii ? VG_TEXT_ASCII : 0);
    char *fit = vg_xmalloc((size_t)cols * 4 + 4);
    vg_text_fit(safe, (size_t)cols, pad, t->ascii, fit);
    mvaddstr(y, x, fit);
    free(fit);
    free(safe);
}

static int sev_attr(const tui *t, int sev)
{
    static const int pair[] = {0, PAIR_LOW, PAIR_MED, PAIR_HIGH, PAIR_CRIT};
    if (!t->color || sev < 0 || sev > 4 || !pair[sev])
        return sev >= 4 ? A_BOLD : 0;
    return COLOR_PAIR(pair[sev]) | (sev >= 3 ? A_BOLD : 0);
}

/* The header: the workspace, its sync state ("local": no team), the analyst and the
 * counts. What does not fit goes, in this order: the path's directories, the path,
 * the analyst; then the line is cut. It never wraps. */
static void draw_header(tui *t)
{
    char state[128] = "local";
    if (t->sync)
        tui_sync_text(t->sync, state, sizeof state);
    else if (t->cfg->remote)
        snprintf(state, sizeof state, "team: off (no token; vigil sync says why)");
    const char *path = vg_ws_path(t->ws), *slash = strrchr(path, '/');
    const char *paths[] = {path, slash ? slash + 1 : path, ""};
    char head[1024], at[32] = "";
    if (t->mentions_unread > 0) /* unread mentions of the analyst (H shows them) */
        snprintf(at, sizeof at, "  @%lld", t->mentions_unread);
    for (int level = 0; level < 4; level++) {
        const char *p = paths[level < 2 ? level : 2];
        snprintf(head, sizeof head, " vigil  %s%s(%s)  %s%sopen %lld  new %lld  critical %lld%s",
                 p, *p ? " " : "", state, level < 3 ? t->actor : "", level < 3 ? "   " : " ",
                 (long long)t->counts.open, (long long)t->counts.new_,
                 (long long)t->counts.critical_open, at);
        char *safe = vg_text_safe_dup(head, t->ascii ? VG_TEXT_ASCII : 0);
        bool fits = vg_text_width(safe) <= (size_t)t->cols;
        free(safe);
        if (fits)
            break;
    }
    put_text(t, 0, 0, t->cols, head, true);
}

static void draw_frame(tui *t, const char *crumbs, const char *keys)
{
    vg_err err = {0};
    if (t->counts_stale) {
        if (vg_case_counts(t->ws, &t->counts, &err) != VG_OK)
            snprintf(t->msg, sizeof t->msg, "%.200s", err.msg);
        /* unread mentions: after the read marker; they arrive with the notes */
        int64_t seen = 0;
        vg_mention *m = NULL;
        size_t nm = 0;
        if (vg_mentions_seen(t->ws, t->actor, &seen, &err) == VG_OK &&
            vg_mentions_of(t->ws, t->actor, seen + 1, &m, &nm, &err) == VG_OK)
            t->mentions_unread = (long long)nm;
        vg_mentions_free(m, nm);
        t->counts_stale = false;
    }
    attron(A_REVERSE);
    draw_header(t);
    attroff(A_REVERSE);
    attron(A_BOLD);
    put_text(t, 1, 0, t->cols, crumbs, true);
    attroff(A_BOLD);
    attron(A_REVERSE);
    put_text(t, t->rows - 1, 0, t->cols, t->msg[0] ? t->msg : keys, true);
    attroff(A_REVERSE);
}


static void tab_overview(tui *t, const vg_case *c);
static void lines_free(tui *t);

/* From 120 columns the queue shares the screen with the selected case's overview. */
static int list_width(const tui *t) { return t->cols >= 120 ? t->cols * 55 / 100 : t->cols; }

static void draw_preview(tui *t, int x)
{
    vg_case c;
    vg_err err = {0};
    if (!t->page.n || vg_case_get(t->ws, t->page.items[t->sel].id, &c, &err) != VG_OK)
        return;
    lines_free(t);
    tab_overview(t, &c);
    vg_case_clear(&c);
    for (int y = 2; y < t->rows - 1; y++) {
        mvaddch(y, x - 1, t->ascii ? '|' : ACS_VLINE);
        if ((size_t)(y - 2) < t->nlines)
            put_text(t, y, x + 1, t->cols - x - 1, t->lines[y - 2], false);
    }
}

const int64_t *tui_config_sla(const tui_config *cfg)
{
    static const int64_t defaults[5] = TUI_SLA_DEFAULTS;
    return cfg && cfg->sla_set ? cfg->sla_ms : defaults;
}

/* Time left to the case's SLA ("3h", "-2d" when overdue), or "-" when it has none
 * (closed, or no target for its severity). */
static bool sla_left(const tui *t, const vg_case *c, char *out, size_t outsz)
{
    const int64_t *sla = tui_config_sla(t->cfg);
    int64_t target = c->severity >= 0 && c->severity < 5 ? sla[c->severity] : 0;
    if (c->status == VG_ST_CLOSED || !target) {
        snprintf(out, outsz, "-");
        return false;
    }
    int64_t left = c->created_at + target - (int64_t)time(NULL) * 1000, a = left < 0 ? -left : left;
    const char *sign = left < 0 ? "-" : "";
    if (a < 3600000)
        snprintf(out, outsz, "%s%lldm", sign, (long long)(a / 60000));
    else if (a < 2 * 86400000LL)
        snprintf(out, outsz, "%s%lldh", sign, (long long)(a / 3600000));
    else
        snprintf(out, outsz, "%s%lldd", sign, (long long)(a / 86400000LL));
    return left < 0;
}

static int queue_rows(const tui *t);

/* The general copilot pane under the queue, from row y0 to the status line: a
 * title bar, then the end of the conversation (it follows what streams in). */
static void draw_gpane(tui *t, int y0)
{
    lines_free(t);
    tui_gpane_build(t);
    attron(A_REVERSE);
    put_text(t, y0, 0, t->cols, t->nlines ? t->lines[0] : "", true);
    attroff(A_REVERSE);
    int h = t->rows - 1 - (y0 + 1);
    size_t from = 1;
    if (h > 0 && t->nlines > 1 + (size_t)h)
        from = t->nlines - (size_t)h;
    for (int y = y0 + 1; y < t->rows - 1 && from < t->nlines; y++, from++)
        put_text(t, y, 1, t->cols - 1, t->lines[from], false);
}

static void draw_queue(tui *t)
{
    /* where the analyst is: which cases (open unless the filter names a status), the
     * saved view by its name or the filter typed, the order, and the marks */
    char crumbs[720], marks[96] = "";
    if (t->nmarked)
        snprintf(marks, sizeof marks, "  %zu marked (commands apply to all of them)", t->nmarked);
    snprintf(crumbs, sizeof crumbs, " Queue%s%s%s%s%s  by %s%s%s",
             t->query.f.status_mask ? "" : " (open)", t->view_name[0] ? "  view " : "",
             t->view_name, !t->view_name[0] && t->query_text[0] ? "  /" : "",
             t->view_name[0] ? "" : t->query_text, VG_SORT_NAMES[t->query.f.sort],
             t->query.f.reverse ? ", reversed" : "", marks);
    draw_frame(t, crumbs, t->gpane ? " j/k move  c ask the copilot  y/n/e decide  Esc stop/close"
                                     "  Enter open  ? help"
                                   : " j/k move  Enter open  / filter  c copilot  : command  ? help"
                                     "  q quit");
    /* TASKS (done/total) only where the titles keep room; the overview has it too */
    int lw = list_width(t);
    bool tasks_col = lw >= 96;
    int title_x = tasks_col ? 63 : 56;
    attron(A_UNDERLINE);
    mvaddstr(2, 0, tasks_col ? "REF    SEV      STATUS      ASSIGNEE   AGE   SLA ALERTS  TASKS"
                             : "REF    SEV      STATUS      ASSIGNEE   AGE   SLA ALERTS");
    put_text(t, 2, title_x, lw - title_x, "TITLE", true);
    attroff(A_UNDERLINE);
    for (size_t i = 0; i < t->page.n && (int)i < queue_rows(t) && (int)i + 3 < t->rows - 1; i++) {
        const vg_case *c = &t->page.items[i];
        int y = (int)i + 3, sel = (int)i == t->sel ? A_REVERSE : 0;
        char ref[16], age[16], cnt[16];
        snprintf(ref, sizeof ref, "#%lld", (long long)c->ref);
        vg_age(c->created_at, (int64_t)time(NULL) * 1000, age, sizeof age);
        snprintf(cnt, sizeof cnt, "%6lld", (long long)c->alert_count);
        attron(sel);
        move(y, 0);
        put_text(t, y, 0, lw, "", true);
        put_text(t, y, 0, 7, ref, true);
        if (tui_is_marked(t, c->id))
            mvaddstr(y, 6, "*");
        attron(sev_attr(t, c->severity));
        put_text(t, y, 7, 9, vg_enum_name(&VG_SEVERITY, c->severity), true);
        attroff(sev_attr(t, c->severity));
        attron(sel);
        put_text(t, y, 16, 12, vg_enum_name(&VG_STATUS, c->status), true);
        put_text(t, y, 28, 10, *c->assignee ? c->assignee : "-", true);
        put_text(t, y, 38, 5, age, true);
        char sla[16];
        bool overdue = sla_left(t, c, sla, sizeof sla);
        char slaw[16];
        snprintf(slaw, sizeof slaw, "%5s", sla);
        if (overdue)
            attron(A_BOLD | (t->color ? COLOR_PAIR(PAIR_CRIT) : 0));
        put_text(t, y, 43, 6, slaw, true);
        if (overdue)
            attroff(A_BOLD | (t->color ? COLOR_PAIR(PAIR_CRIT) : 0));
        attron(sel);
        put_text(t, y, 49, 7, cnt, true);
        vg_progress pr; /* done/total of the case's tasks (an index lookup per row) */
        char tasks[16] = "-", tasksw[16];
        vg_err perr = {0};
        if (tasks_col && vg_case_progress(t->ws, c->id, &pr, &perr) == VG_OK && pr.all_total)
            snprintf(tasks, sizeof tasks, "%d/%d", pr.all_done, pr.all_total);
        snprintf(tasksw, sizeof tasksw, "%6s", tasks);
        if (tasks_col)
            put_text(t, y, 56, 7, tasksw, true);
        put_text(t, y, title_x, lw - title_x, c->title, true);
        attroff(sel);
    }
    if (t->page.n == 0)
        mvaddstr(3, 0, "(no cases)");
    if (t->gpane)
        draw_gpane(t, 3 + queue_rows(t));
    else if (lw < t->cols)
        draw_preview(t, lw + 1);
}

/* ---- the queue --------------------------------------------------------------------- */

/* The queue's rows: the screen below its header, less the general pane's share
 * (three fifths) when it is open. */
static int queue_rows(const tui *t)
{
    int all = t->rows > 5 ? t->rows - 4 : 1;
    if (!t->gpane)
        return all;
    int pane = all * 3 / 5;
    return all - pane > 2 ? all - pane : 2;
}

void tui_gpane_open(tui *t, bool open)
{
    if (t->gpane == open && t->view == VIEW_QUEUE)
        return;
    t->gpane = open;
    if (t->view != VIEW_QUEUE) {
        t->view = VIEW_QUEUE;
        tui_help_close(t);
    }
    tui_queue_load(t);
}


/* The queue's filter as listed: the query with the config's SLA targets (for the
 * sla order). */
static vg_case_filter queue_filter(const tui *t)
{
    vg_case_filter f = t->query.f;
    if (!f.status_mask) /* the open cases, unless the filter names a status (status:all) */
        f.status_mask = VG_STATUS_OPEN_MASK;
    memcpy(f.sla_ms, tui_config_sla(t->cfg), sizeof f.sla_ms);
    return f;
}

static void queue_cursor(const tui *t, const vg_case *c, vg_case_cursor *out)
{
    vg_case_filter f = queue_filter(t);
    vg_case_cursor_of(c, &f, out);
}

static bool list(tui *t, const vg_case_cursor *after, bool backward, int limit, vg_case_list *out)
{
    vg_case_filter f = queue_filter(t);
    f.limit = limit;
    f.after = after;
    f.backward = backward;
    vg_err err = {0};
    if (vg_cases_list(t->ws, &f, out, &err) != VG_OK) {
        snprintf(t->msg, sizeof t->msg, "%.200s", err.msg);
        return false;
    }
    return true;
}

void tui_queue_load(tui *t)
{
    vg_case_list l;
    if (!list(t, t->has_after ? &t->after : NULL, false, queue_rows(t), &l))
        return;
    vg_case_list_free(&t->page);
    t->page = l;
    if (t->sel >= (int)t->page.n)
        t->sel = t->page.n ? (int)t->page.n - 1 : 0;
}

bool tui_queue_filter(tui *t, const char *q)
{
    vg_case_query nq;
    vg_err err = {0};
    if (vg_case_query_parse(q, t->actor, &nq, &err) != VG_OK) {
        snprintf(t->msg, sizeof t->msg, "%.200s", err.msg);
        return false;
    }
    nq.f.sort = t->query.f.sort; /* a new filter keeps the order */
    nq.f.reverse = t->query.f.reverse;
    vg_case_query_clear(&t->query);
    t->query = nq;
    snprintf(t->query_text, sizeof t->query_text, "%s", q);
    t->view_name[0] = '\0'; /* :view names the view after this */
    t->has_after = false;
    t->sel = 0;
    t->view = VIEW_QUEUE;
    tui_queue_load(t);
    return true;
}

/* Start the window at the row `back` rows above its first row (as far as exists). */
static void window_up(tui *t, int back)
{
    if (!t->page.n)
        return;
    vg_case_cursor first;
    queue_cursor(t, &t->page.items[0], &first);
    vg_case_list l;
    if (!list(t, &first, true, back + 1, &l))
        return;
    if ((int)l.n == back + 1) { /* l[0] is the row before the new first row */
        queue_cursor(t, &l.items[0], &t->after);
        t->has_after = true;
    } else {
        t->has_after = false;
    }
    vg_case_list_free(&l);
    tui_queue_load(t);
}

void tui_queue_move(tui *t, int delta)
{
    int n = (int)t->page.n, rows = queue_rows(t);
    if (n == 0)
        return;
    int target = t->sel + delta;
    if (target >= 0 && target < n) {
        t->sel = target;
        return;
    }
    if (target >= n) {
        if (!t->page.more) {
            t->sel = n - 1;
            return;
        }
        int shift = target - n + 1; /* rows to scroll; at most a page */
        if (shift > rows)
            shift = rows;
        queue_cursor(t, &t->page.items[shift - 1], &t->after);
        t->has_after = true;
        tui_queue_load(t);
        t->sel = (int)t->page.n - 1;
        if (delta > 1 && target - shift < (int)t->page.n)
            t->sel = target - shift;
        return;
    }
    window_up(t, -target);
    t->sel = 0;
}

void tui_queue_ends(tui *t, bool bottom)
{
    t->sel = 0;
    t->has_after = false;
    if (!bottom) {
        tui_queue_load(t);
        return;
    }
    vg_case_list l;
    int rows = queue_rows(t);
    if (!list(t, NULL, true, rows + 1, &l))
        return;
    if ((int)l.n == rows + 1) {
        queue_cursor(t, &l.items[0], &t->after);
        t->has_after = true;
    }
    vg_case_list_free(&l);
    tui_queue_load(t);
    t->sel = t->page.n ? (int)t->page.n - 1 : 0;
}

/* ---- the case view ----------------------------------------------------------------- */

static void lines_free(tui *t)
{
    for (size_t i = 0; i < t->nlines; i++)
        free(t->lines[i]);
    free(t->lines);
    t->lines = NULL;
    t->nlines = 0;
    t->hl_line = 0;
}

static void push_line(tui *t, char *owned)
{
    t->lines = vg_xrealloc(t->lines, (t->nlines + 1) * sizeof *t->lines);
    t->lines[t->nlines++] = owned;
}

static void push_piece(void *ud, char *piece) { push_line(ud, piece); }

void tui_follow(tui *t, int first, int end, bool top)
{
    int height = t->rows - 4 > 0 ? t->rows - 4 : 1; /* draw_lines: rows 3 .. rows - 2 */
    if (end > t->scroll + height)
        t->scroll = end - height;
    if (first < t->scroll)
        t->scroll = first;
    if (top)
        t->scroll = 0;
}

int tui_row_step(int sel, int delta, size_t n)
{
    long s = (long)sel + delta;
    return (int)(s < 0 ? 0 : n && s >= (long)n ? (long)n - 1 : s);
}

void tui_add_text(tui *t, const char *s, int indent, int hang, int width)
{
    int room = width > 0 ? width : t->cols > 22 ? t->cols - 2 : 20; /* draw_lines: from column 1 */
    if (indent > room / 2)
        indent = room / 2;
    char *safe = vg_text_safe_dup(s, VG_TEXT_MULTILINE | (t->ascii ? VG_TEXT_ASCII : 0));
    for (char *line = safe, *nl; line; line = nl ? nl + 1 : NULL) {
        if ((nl = strchr(line, '\n')))
            *nl = '\0';
        int more = indent + hang + (int)strspn(line, " "); /* a continuation's lead */
        if (more > room / 2)
            more = room / 2;
        vg_text_wrap(line, (size_t)room, (size_t)indent, (size_t)more, push_piece, t);
    }
    free(safe);
}

static void add_hung(tui *t, int hang, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add_hung(tui *t, int hang, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = vg_xvasprintf(fmt, ap);
    va_end(ap);
    tui_add_text(t, s, 0, hang, 0);
    free(s);
}

#define add_line(t, ...) add_hung(t, 0, __VA_ARGS__)

void tui_add_row(tui *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    push_line(t, vg_xvasprintf(fmt, ap));
    va_end(ap);
}

static void tab_overview(tui *t, const vg_case *c)
{
    char a[32], b[32];
    add_line(t, "%s", c->title);
    add_line(t, "%s", "");
    add_line(t, "severity   %s", vg_enum_name(&VG_SEVERITY, c->severity));
    add_line(t, "status     %s%s%s%s", vg_enum_name(&VG_STATUS, c->status),
             c->resolution >= 0 ? " (" : "", c->resolution >= 0 ? vg_enum_name(&VG_RESOLUTION, c->resolution) : "",
             c->resolution >= 0 ? ")" : "");
    if (c->merged_into[0]) /* its rows are there (op.h: case.merge) */
        add_line(t, "merged     into #%lld", (long long)c->merged_into_ref);
    int64_t *merged = NULL;
    size_t nmerged = 0;
    vg_err merr = {0};
    if (vg_case_merged_refs(t->ws, c->id, &merged, &nmerged, &merr) == VG_OK && nmerged) {
        char refs[256] = "";
        for (size_t i = 0; i < nmerged; i++) {
            size_t l = strlen(refs);
            if (l + 24 < sizeof refs)
                snprintf(refs + l, sizeof refs - l, "%s#%lld", i ? ", " : "", (long long)merged[i]);
        }
        add_line(t, "merged in  %s", refs);
    }
    free(merged);
    add_line(t, "assignee   %s", *c->assignee ? c->assignee : "-");
    add_line(t, "tlp / pap  %s / %s", vg_enum_name(&VG_TLP, c->tlp), vg_enum_name(&VG_PAP, c->pap));
    char *words = vg_json_words(c->tags);
    add_hung(t, 11, "tags       %s", words);
    free(words);
    words = vg_json_words(c->techniques);
    add_hung(t, 11, "ATT&CK     %s", words);
    free(words);
    vg_field_value *fv = NULL;
    size_t nfv = 0;
    vg_err ferr = {0};
    if (vg_case_fields(t->ws, c->id, &fv, &nfv, &ferr) == VG_OK)
        for (size_t i = 0; i < nfv; i++)
            add_hung(t, 11, "%-10s %s = %s", i ? "" : "fields", fv[i].name, fv[i].value);
    vg_field_values_free(fv, nfv);
    add_line(t, "alerts     %lld", (long long)c->alert_count);
    vg_intel_summary is;
    vg_err ierr = {0};
    if (vg_intel_case_summary(t->ws, c->id, 0, &is, &ierr) == VG_OK && is.values) {
        char known[512];
        vg_intel_summary_text(&is, known, sizeof known);
        add_line(t, "%s", known);
    }
    vg_intel_summary_clear(&is);
    if (t->waiting)
        add_line(t, "proposals  %d waiting for you (the Copilot tab: y applies, n cancels)",
                 t->waiting);
    vg_progress pr;
    vg_err perr = {0};
    if (vg_case_progress(t->ws, c->id, &pr, &perr) == VG_OK && pr.all_total)
        add_line(t, "tasks      %d/%d done, %d mandatory left", pr.all_done, pr.all_total,
                 pr.all_mandatory_left);
    vg_local_time(c->created_at, a, sizeof a);
    vg_local_time(c->updated_at, b, sizeof b);
    char zone[16];
    vg_local_zone(zone, sizeof zone);
    add_line(t, "created    %s by %s    updated %s (%s)", a, c->created_by, b, zone);
    if (*c->description) {
        add_line(t, "%s", "");
        add_line(t, "%s", c->description);
    }
}

/* The case's evidence register, under its artifacts: what each file is, whether
 * its content is here ("copy", a reference's file "ref"; "absent" when only its
 * metadata came, "gone" when a reference's file is), and the start of its SHA-256. */
static void tab_evidence(tui *t, const vg_case *c)
{
    vg_evidence *e = NULL;
    size_t n = 0;
    vg_err err = {0};
    if (vg_evidence_list(t->ws, c->id, &e, &n, &err) != VG_OK) {
        add_line(t, "%s", err.msg);
        return;
    }
    add_line(t, "%s", "");
    add_line(t, "Evidence (%zu)%s", n, n ? "" : ": none (vigil evidence add REF FILE)");
    if (n)
        add_line(t, "%-12s %-8s %9s %-6s %-16s %s", "ID", "TYPE", "SIZE", "HELD", "SHA256", "NAME");
    for (size_t i = 0; i < n; i++) {
        char sz[24];
        double v = (double)e[i].size;
        int u = 0;
        while (v >= 1024 && u < 4)
            v /= 1024, u++;
        if (u == 0)
            snprintf(sz, sizeof sz, "%lld B", (long long)e[i].size);
        else
            snprintf(sz, sizeof sz, "%.1f %s", v, (const char *[]){"B", "KB", "MB", "GB", "TB"}[u]);
        bool here = vg_evidence_present(t->ws, &e[i]);
        add_line(t, "%.12s %-8.8s %9s %-6s %.16s %s", e[i].id, e[i].type, sz,
                 here ? (e[i].path ? "ref" : "copy") : (e[i].path ? "gone" : "absent"), e[i].sha256,
                 e[i].name);
    }
    vg_evidences_free(e, n);
}

static void tab_artifacts(tui *t, const vg_case *c)
{
    vg_artifact *a = NULL;
    size_t n = 0;
    vg_err err = {0};
    if (vg_artifacts_of_case(t->ws, c->id, &a, &n, &err) != VG_OK) {
        add_line(t, "%s", err.msg);
        return;
    }
    add_line(t, "%-10s %-3s %-12s %5s  %s", "TYPE", "IOC", "TLP", "SEEN", "VALUE");
    for (size_t i = 0; i < n; i++) {
        char refs[200] = ""; /* "also on #12, #40": the bridges to other cases */
        vg_refs_format(a[i].other_refs, a[i].other_cases > 20, refs, sizeof refs);
        char known[512] = ""; /* "known: feodo, TLP:AMBER, 2026-10-02": what intel knows */
        vg_intel_match *m = NULL;
        size_t nm = 0;
        if (vg_intel_lookup(t->ws, a[i].type, a[i].value, 0, &m, &nm, &err) == VG_OK)
            vg_intel_known_text(m, nm, known, sizeof known);
        vg_intel_matches_free(m, nm);
        add_line(t, "%-10s %-3s %-12s %5lld  %s%s%s%s%s%s", vg_enum_name(&VG_ARTIFACT_TYPE, a[i].type),
                 a[i].is_ioc ? "yes" : "-", vg_enum_name(&VG_TLP, a[i].tlp),
                 (long long)a[i].sightings, a[i].value, refs[0] ? "   (also on " : "", refs,
                 refs[0] ? ")" : "", known[0] ? "   " : "", known);
    }
    vg_artifacts_free(a, n);
    tab_evidence(t, c);
}

static void tab_notes(tui *t, const vg_case *c)
{
    vg_note *nt = NULL;
    size_t n = 0;
    vg_err err = {0};
    if (vg_notes_of_case(t->ws, c->id, &nt, &n, &err) != VG_OK) {
        add_line(t, "%s", err.msg);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        char a[32];
        vg_local_time(nt[i].created_at, a, sizeof a);
        add_line(t, "%s  %s:", a, nt[i].author);
        add_line(t, "%s", nt[i].body);
        add_line(t, "%s", "");
    }
    if (!n)
        add_line(t, "%s", "(no notes; :note TEXT adds one)");
    vg_notes_free(nt, n);
}

/* The Graph tab is the graph view (graph_view.c) drawn under the tab strip. */
static void tab_graph(tui *t, const vg_case *c) { tui_graph_open(t, c->id); }

void tui_add_line(tui *t, const char *s) { add_line(t, "%s", s); }

/* The case tabs. */
static const struct tab {
    const char *name;
    void (*build)(tui *t, const vg_case *c);
} tabs[] = {
    {"Overview", tab_overview}, {"Timeline", tui_timeline_tab}, {"Alerts", tui_alerts_tab},
    {"Artifacts", tab_artifacts},
    {"Tasks", tui_tasks_build}, {"Notes", tab_notes},     {"Graph", tab_graph},
    {"Copilot", tui_chat_tab},  {"Ledger", tui_ledger_tab},
};
#define NTABS ((int)(sizeof tabs / sizeof *tabs))

int tui_graph_tab(void)
{
    int i = 0;
    while (i < NTABS - 1 && tabs[i].build != tab_graph)
        i++;
    return i;
}

bool tui_in_tab(const tui *t, const char *name)
{
    return t->view == VIEW_CASE && strcmp(tabs[t->tab].name, name) == 0;
}

void tui_show_tab(tui *t, const char *name)
{
    for (int i = 0; i < NTABS; i++)
        if (strcmp(tabs[i].name, name) == 0 && (t->view != VIEW_CASE || t->tab != i)) {
            t->tab = i;
            t->scroll = 0;
            tui_case_open(t, t->case_id);
        }
}

void tui_case_open(tui *t, const char *case_id)
{
    vg_case c;
    vg_err err = {0};
    if (case_id != t->case_id)
        memcpy(t->case_id, case_id, sizeof t->case_id);
    if (vg_case_get(t->ws, t->case_id, &c, &err) != VG_OK) {
        snprintf(t->msg, sizeof t->msg, "%.200s", err.msg);
        return;
    }
    if (t->view != VIEW_CASE)
        t->tab = 0, t->scroll = 0;
    t->view = VIEW_CASE;
    lines_free(t);
    t->waiting = tui_chat_waiting(t, t->case_id);
    tabs[t->tab].build(t, &c);
    vg_case_clear(&c);
}


/* While the editor runs: a copilot answer streaming meanwhile is read on the
 * chat's tick, so it is complete when the editor closes. The chat only builds
 * lines; nothing is drawn until the editor returns. */
static int edit_idle(void *ud)
{
    tui *t = ud;
    tui_chat_poll(t);
    return tui_chat_busy(t) ? TUI_CHAT_TICK_MS : 100;
}

char *tui_edit_text(tui *t)
{
    char path[4096];
    if (ed_tmpfile(path, sizeof path, "note", "") != 0) {
        snprintf(t->msg, sizeof t->msg, "cannot make a temporary file: %.100s", strerror(errno));
        return NULL;
    }
    const char *editor;
    def_prog_mode();
    endwin(); /* the editor gets a restored terminal */
    int status = ed_run(path, edit_idle, t, &editor);
    reset_prog_mode();
    refresh();
    char *text = NULL;
    FILE *f = fopen(path, "r");
    if (f) {
        vg_buf b;
        vg_buf_init(&b, 1 << 20);
        vg_err err = {0};
        if (vg_buf_read_file(&b, f, "note", &err) == VG_OK && strspn(vg_buf_str(&b), " \t\r\n") < b.len)
            text = vg_buf_take(&b);
        else
            snprintf(t->msg, sizeof t->msg, "%.200s", err.msg[0] ? err.msg : "empty note: nothing added");
        vg_buf_free(&b);
        fclose(f);
    }
    unlink(path);
    if (status != 0) {
        free(text);
        snprintf(t->msg, sizeof t->msg, "the editor (%.64s) did not finish cleanly: nothing added",
                 editor);
        return NULL;
    }
    return text;
}

void tui_case_tab(tui *t, int delta)
{
    t->tab = (t->tab + delta + NTABS) % NTABS;
    t->scroll = 0;
    tui_case_open(t, t->case_id);
}

void tui_case_scroll(tui *t, int delta)
{
    long s = (long)t->scroll + delta, max = (long)t->nlines - (t->rows - 5);
    if (s > max)
        s = max;
    if (s < 0)
        s = 0;
    t->scroll = (int)s;
}

bool tui_is_marked(const tui *t, const char *case_id)
{
    for (size_t i = 0; i < t->nmarked; i++)
        if (strcmp(t->marked[i], case_id) == 0)
            return true;
    return false;
}

bool tui_search_step(tui *t, int dir)
{
    if (!t->search[0])
        return false;
    for (long i = t->scroll + dir; i >= 0 && (size_t)i < t->nlines; i += dir)
        if (strcasestr(t->lines[i], t->search)) {
            t->scroll = (int)i;
            return true;
        }
    return false;
}

/* The text of a text view (a case tab, the dashboard, an alert) from row y0 down,
 * scrolled, lines holding the searched text underlined. */
static void draw_lines(tui *t, int y0)
{
    for (int y = y0; y < t->rows - 1; y++) {
        size_t i = (size_t)t->scroll + (size_t)(y - y0);
        if (i >= t->nlines)
            break;
        bool hit = t->search[0] && strcasestr(t->lines[i], t->search);
        int sel = t->hl_line == (int)i + 1 ? A_REVERSE : 0; /* the Tasks tab's cursor */
        if (hit || sel)
            attron((hit ? A_BOLD | A_UNDERLINE : 0) | sel);
        put_text(t, y, 1, t->cols - 1, t->lines[i], sel != 0);
        if (hit || sel)
            attroff(A_BOLD | A_UNDERLINE | sel);
    }
}

const char *tui_tab_name(const tui *t) { return t->view == VIEW_CASE ? tabs[t->tab].name : ""; }

void tui_case_tab_named(tui *t, const char *name)
{
    for (int i = 0; i < NTABS; i++)
        if (strcmp(tabs[i].name, name) == 0 && i != t->tab)
            tui_case_tab(t, i - t->tab);
}

void tui_put_text(tui *t, int y, int x, int cols, const char *s, bool pad)
{
    put_text(t, y, x, cols, s, pad);
}

const char *tui_current_case(tui *t)
{
    if (t->view == VIEW_CASE)
        return t->case_id;
    if (t->view == VIEW_HANDOFF) /* the selected item's case */
        return tui_handoff_case(t);
    return t->page.n ? t->page.items[t->sel].id : NULL;
}

static void draw_case(tui *t)
{
    vg_case c;
    vg_err err = {0};
    char crumbs[600] = " Queue > case";
    if (vg_case_get(t->ws, t->case_id, &c, &err) == VG_OK) {
        snprintf(crumbs, sizeof crumbs, " Queue > #%lld %s", (long long)c.ref, c.title);
        vg_case_clear(&c);
    }
    draw_frame(t, crumbs, tui_tasks_active(t)
                              ? " j/k move  Space tick  Enter fold  a playbook  Tab next tab  Esc back"
                          : tui_alerts_active(t)
                              ? " j/k choose  Enter opens the alert  Tab next tab  Esc back  ? help"
                          : tui_timeline_active(t)
                              ? " j/k choose a row  Enter opens it  o order  / search  Tab next tab"
                                "  Esc back"
                              : " Tab next tab  j/k scroll  Esc back  : command  ? help  q quit");
    tui_draw_tabs(t);
    draw_lines(t, 3);
}

void tui_frame(tui *t, const char *crumbs, const char *keys) { draw_frame(t, crumbs, keys); }
int tui_sev_attr(const tui *t, int sev) { return sev_attr(t, sev); }

/* The tab strip; the Copilot tab counts the proposals waiting for the analyst
 * ("Copilot (2)"). When the labels do not fit with a space between them, they go
 * without it. */
void tui_draw_tabs(tui *t)
{
    char label[NTABS][32];
    int width = 0;
    for (int i = 0; i < NTABS; i++) {
        bool count = t->waiting > 0 && tabs[i].build == tui_chat_tab;
        if (count)
            snprintf(label[i], sizeof label[i], " %s (%d) ", tabs[i].name, t->waiting);
        else
            snprintf(label[i], sizeof label[i], " %s ", tabs[i].name);
        width += (int)strlen(label[i]) + 1;
    }
    int gap = 1 + width <= t->cols ? 1 : 0, x = 1;
    for (int i = 0; i < NTABS; i++) {
        if (i == t->tab)
            attron(A_REVERSE);
        put_text(t, 2, x, t->cols - x, label[i], false);
        if (i == t->tab)
            attroff(A_REVERSE);
        x += (int)strlen(label[i]) + gap;
    }
}

void tui_dash_open(tui *t)
{
    vg_dash d;
    vg_err err = {0};
    if (vg_dash_compute(t->ws, vg_now_ms(), 30, tui_config_sla(t->cfg), &d, &err) != VG_OK) {
        snprintf(t->msg, sizeof t->msg, "%.200s", err.msg);
        return;
    }
    if (t->view != VIEW_DASH)
        t->scroll = 0, t->dash_sel = -1;
    t->view = VIEW_DASH;
    lines_free(t);
    vg_lines_free(t->dash_q, t->ndash_q);
    t->lines = vg_dash_render(&d, t->ascii, &t->nlines, &t->dash_q);
    t->ndash_q = t->nlines;
    vg_dash_clear(&d);
    tui_dash_move(t, 0);
}

/* The dashboard's cursor: over the lines that count cases (each has the filter that
 * lists them), delta of them on; the first such line when there is none yet. */
void tui_dash_move(tui *t, int delta)
{
    int n = (int)t->ndash_q, sel = t->dash_sel, step = delta < 0 ? -1 : 1;
    if (sel < 0 || sel >= n || !t->dash_q[sel]) { /* the first line with a filter */
        for (sel = 0; sel < n && !t->dash_q[sel]; sel++)
            ;
        delta = 0;
    }
    for (int moved = 0; moved < (delta < 0 ? -delta : delta);) {
        int next = sel + step;
        while (next >= 0 && next < n && !t->dash_q[next])
            next += step;
        if (next < 0 || next >= n)
            break;
        sel = next, moved++;
    }
    t->dash_sel = sel < n ? sel : -1;
    t->hl_line = t->dash_sel >= 0 ? t->dash_sel + 1 : 0;
    int height = t->rows - 3; /* the selected line stays on screen */
    if (t->dash_sel >= t->scroll + height)
        t->scroll = t->dash_sel - height + 1;
    if (t->dash_sel >= 0 && t->dash_sel < t->scroll)
        t->scroll = t->dash_sel;
}

/* Enter on the dashboard: the queue filtered to the cases the selected line counts. */
bool tui_dash_open_selected(tui *t)
{
    if (t->view != VIEW_DASH || t->dash_sel < 0 || t->dash_sel >= (int)t->ndash_q ||
        !t->dash_q[t->dash_sel])
        return false;
    char q[640];
    snprintf(q, sizeof q, "%s", t->dash_q[t->dash_sel]);
    tui_queue_filter(t, q);
    return true;
}

/* ---- the handoff view ------------------------------------------------------------ */

void tui_handoff_open(tui *t, const char *since_text)
{
    vg_err err = {0};
    vg_handoff_opts o = {.reader = t->actor, .now = vg_now_ms(), .sla_window = 8 * 3600000LL,
                         .sla_ms = tui_config_sla(t->cfg)};
    char want[sizeof t->handoff_since];
    snprintf(want, sizeof want, "%s",
             since_text ? since_text : t->handoff_since[0] ? t->handoff_since : "8h");
    if (vg_parse_when("handoff", want, o.now, 0, &o.since, &err) != VG_OK) {
        snprintf(t->msg, sizeof t->msg, "%.200s", err.msg);
        return;
    }
    memcpy(t->handoff_since, want, sizeof want);
    int64_t seen = 0;
    if (vg_mentions_seen(t->ws, t->actor, &seen, &err) != VG_OK)
        seen = 0;
    o.mentions_since = seen + 1 < o.since ? seen + 1 : o.since; /* every unread one too */
    vg_handoff_item *it = NULL;
    size_t n = 0;
    if (vg_handoff(t->ws, &o, &it, &n, &err) != VG_OK) {
        snprintf(t->msg, sizeof t->msg, "%.200s", err.msg);
        return;
    }
    bool fresh = t->view != VIEW_HANDOFF || since_text; /* another window: from its top */
    if (fresh)
        t->scroll = 0;
    t->view = VIEW_HANDOFF;
    lines_free(t);
    free(t->handoff_case);
    t->handoff_case = NULL;
    char since[32];
    vg_local_time(o.since, since, sizeof since);
    add_line(t, "What changed since %s (%s), for %s", since, t->handoff_since, t->actor);
    if (n == 0)
        add_line(t, "%s", "  nothing changed since then, and nothing is waiting");
    int64_t newest = 0;
    size_t ncase = 0;
    for (size_t i = 0; i < n; i++) {
        const vg_handoff_item *x = &it[i];
        if (i == 0 || x->kind != it[i - 1].kind) {
            size_t count = 0;
            for (size_t k = i; k < n && it[k].kind == x->kind; k++)
                count++;
            add_line(t, "%s", "");
            add_line(t, "%s (%zu)", VG_HANDOFF_TITLES[x->kind], count);
        }
        char when[32], ref[24] = "-";
        vg_local_time(x->at, when, sizeof when);
        if (x->case_ref)
            snprintf(ref, sizeof ref, "#%lld", (long long)x->case_ref);
        /* one line an item: the text made one line (a mention's first line) */
        tui_add_row(t, "  %s %-5s %-10.10s %.*s", when + 5, ref, *x->actor ? x->actor : "-",
                (int)strcspn(x->text, "\r\n"), x->text);
        /* each line's case, "" for the headings and blank lines before it */
        t->handoff_case = vg_xrealloc(t->handoff_case, t->nlines * sizeof *t->handoff_case);
        for (size_t k = ncase; k < t->nlines; k++)
            t->handoff_case[k][0] = '\0';
        ncase = t->nlines;
        memcpy(t->handoff_case[t->nlines - 1], x->case_id, sizeof(vg_id));
        if (x->kind == VG_HO_MENTION && x->at > newest)
            newest = x->at;
    }
    vg_handoff_free(it, n);
    t->handoff_case = vg_xrealloc(t->handoff_case, (t->nlines + 1) * sizeof *t->handoff_case);
    for (size_t k = ncase; k < t->nlines; k++)
        t->handoff_case[k][0] = '\0';
    if (fresh || t->handoff_sel >= (int)t->nlines)
        t->handoff_sel = -1;
    tui_handoff_move(t, 0);
    /* shown: the mentions are read (a marker of this replica, not an op) */
    if (newest && vg_mentions_mark(t->ws, t->actor, newest, &err) != VG_OK)
        snprintf(t->msg, sizeof t->msg, "%.200s", err.msg);
    t->counts_stale = true;
}

void tui_handoff_move(tui *t, int delta)
{
    int n = (int)t->nlines, sel = t->handoff_sel, step = delta < 0 ? -1 : 1;
    if (!t->handoff_case || n == 0)
        return;
    if (sel < 0) { /* the first line with a case */
        for (sel = 0; sel < n && !t->handoff_case[sel][0]; sel++)
            ;
    } else {
        for (int left = delta < 0 ? -delta : delta; left > 0; left--) {
            int k = sel + step;
            while (k >= 0 && k < n && !t->handoff_case[k][0])
                k += step;
            if (k < 0 || k >= n)
                break;
            sel = k;
        }
    }
    if (sel >= n) { /* no line names a case: scroll alone */
        t->handoff_sel = -1;
        t->hl_line = 0;
        tui_case_scroll(t, delta);
        return;
    }
    t->handoff_sel = sel;
    t->hl_line = sel + 1;
    int height = t->rows - 3;
    if (sel < t->scroll)
        t->scroll = sel;
    if (sel >= t->scroll + height)
        t->scroll = sel - height + 1;
    /* the group's heading stays in sight above its first item */
    if (sel - t->scroll < 2 && sel > 0 && !t->handoff_case[sel - 1][0])
        t->scroll = sel > 2 ? sel - 2 : 0;
}

const char *tui_handoff_case(const tui *t)
{
    if (t->view != VIEW_HANDOFF || t->handoff_sel < 0 || !t->handoff_case ||
        t->handoff_sel >= (int)t->nlines || !t->handoff_case[t->handoff_sel][0])
        return NULL;
    return t->handoff_case[t->handoff_sel];
}

static void draw_handoff(tui *t)
{
    draw_frame(t, " Handoff",
               " j/k move  Enter open the case  r refresh  :handoff 2d  Esc back  q quit");
    draw_lines(t, 2);
}

static void draw_dash(tui *t)
{
    draw_frame(t, " Dashboard", " j/k choose a number  Enter lists its cases  r refresh  Esc back"
                                "  ? help");
    draw_lines(t, 2);
}

/* ---- the alert inbox ------------------------------------------------------------------- */

static void inbox_free(tui *t)
{
    vg_alerts_free(t->alerts, t->nalerts);
    t->alerts = NULL;
    t->nalerts = 0;
}

static bool inbox_page(tui *t, const vg_alert_cursor *after, bool backward)
{
    vg_alert *items;
    size_t n;
    bool more;
    vg_err err = {0};
    if (vg_alerts_list(t->ws, t->inbox_status, queue_rows(t), after, backward, &items, &n, &more,
                       &err) != VG_OK) {
        snprintf(t->msg, sizeof t->msg, "%.200s", err.msg);
        return false;
    }
    inbox_free(t);
    t->alerts = items;
    t->nalerts = n;
    t->alerts_more = more;
    return true;
}

void tui_inbox_show(tui *t, int status)
{
    if (status != t->inbox_status || (t->view != VIEW_INBOX && t->view != VIEW_ALERT)) {
        t->inbox_has_after = false, t->asel = 0;
        t->nmarked = 0; /* marks are of one list: the queue's cases are no alerts */
    }
    t->inbox_status = status;
    t->view = VIEW_INBOX;
    inbox_page(t, t->inbox_has_after ? &t->inbox_after : NULL, false);
    if (t->asel >= (int)t->nalerts)
        t->asel = t->nalerts ? (int)t->nalerts - 1 : 0;
}

/* The page whose first row is the alert at c, selected: it follows the alert just
 * before c in the list's order (none: c is the first, the page is the top). */
static void inbox_at(tui *t, const vg_alert_cursor *c)
{
    vg_alert *before = NULL;
    size_t nb = 0;
    bool more;
    vg_err err = {0};
    t->inbox_has_after = false;
    if (vg_alerts_list(t->ws, t->inbox_status, 1, c, true, &before, &nb, &more, &err) == VG_OK &&
        nb) {
        t->inbox_after.event_time = before[0].event_time;
        memcpy(t->inbox_after.id, before[0].id, sizeof t->inbox_after.id);
        t->inbox_has_after = true;
    }
    vg_alerts_free(before, nb);
    inbox_page(t, t->inbox_has_after ? &t->inbox_after : NULL, false);
    t->asel = 0;
}

void tui_inbox_ends(tui *t, bool bottom)
{
    if (!bottom) {
        t->inbox_has_after = false;
        inbox_page(t, NULL, false);
        t->asel = 0;
        return;
    }
    /* the last page: the oldest alerts, read from the other end */
    vg_alert *last = NULL;
    size_t n = 0;
    bool more;
    vg_err err = {0};
    if (vg_alerts_list(t->ws, t->inbox_status, queue_rows(t), NULL, true, &last, &n, &more,
                       &err) != VG_OK) {
        snprintf(t->msg, sizeof t->msg, "%.200s", err.msg);
        return;
    }
    if (n) {
        vg_alert_cursor c = {last[0].event_time, ""};
        memcpy(c.id, last[0].id, sizeof c.id);
        inbox_at(t, &c);
        t->asel = t->nalerts ? (int)t->nalerts - 1 : 0;
    }
    vg_alerts_free(last, n);
}

bool tui_inbox_find(tui *t, int dir)
{
    if (!t->inbox_search[0])
        return false;
    vg_alert_cursor from, *found = NULL;
    size_t n = 0;
    vg_err err = {0};
    bool have = t->nalerts > 0;
    if (have) {
        from.event_time = t->alerts[t->asel].event_time;
        memcpy(from.id, t->alerts[t->asel].id, sizeof from.id);
    }
    /* after the selected alert, then round from the other end */
    vg_rc rc = vg_alerts_find(t->ws, t->inbox_status, t->inbox_search, have ? &from : NULL,
                              dir < 0, 1, &found, &n, &err);
    if (rc == VG_OK && n == 0 && have) {
        free(found);
        rc = vg_alerts_find(t->ws, t->inbox_status, t->inbox_search, NULL, dir < 0, 1, &found, &n,
                            &err);
    }
    if (rc != VG_OK) {
        snprintf(t->msg, sizeof t->msg, "%.200s", err.msg);
        return false;
    }
    if (n) {
        for (size_t i = 0; i < t->nalerts; i++) /* on this page: the cursor moves there */
            if (strcmp(t->alerts[i].id, found[0].id) == 0) {
                t->asel = (int)i;
                free(found);
                return true;
            }
        inbox_at(t, &found[0]);
    }
    free(found);
    return n > 0;
}

void tui_inbox_open(tui *t)
{
    if (t->view != VIEW_INBOX && t->view != VIEW_ALERT)
        t->inbox_has_after = false, t->asel = 0, t->nmarked = 0, t->inbox_status = VG_AS_NEW;
    t->view = VIEW_INBOX;
    inbox_page(t, t->inbox_has_after ? &t->inbox_after : NULL, false);
    if (t->asel >= (int)t->nalerts)
        t->asel = t->nalerts ? (int)t->nalerts - 1 : 0;
}

/* Within a page j/k move; past its ends the next or previous page comes in. */
void tui_inbox_move(tui *t, int delta)
{
    int target = t->asel + delta, n = (int)t->nalerts;
    if (n == 0)
        return;
    if (target >= 0 && target < n) {
        t->asel = target;
        return;
    }
    vg_alert_cursor c;
    if (target >= n && t->alerts_more) {
        c.event_time = t->alerts[n - 1].event_time;
        memcpy(c.id, t->alerts[n - 1].id, sizeof c.id);
        t->inbox_after = c;
        t->inbox_has_after = true;
        if (inbox_page(t, &c, false))
            t->asel = 0;
    } else if (target < 0 && t->inbox_has_after) {
        c.event_time = t->alerts[0].event_time;
        memcpy(c.id, t->alerts[0].id, sizeof c.id);
        if (inbox_page(t, &c, true)) { /* the page before; where does it start? */
            t->asel = t->nalerts ? (int)t->nalerts - 1 : 0;
            vg_alert *before;
            size_t nb;
            bool more;
            vg_err err = {0};
            vg_alert_cursor first = {t->alerts[0].event_time, ""};
            memcpy(first.id, t->alerts[0].id, sizeof first.id);
            t->inbox_has_after = false;
            if (vg_inbox_list(t->ws, 1, &first, true, &before, &nb, &more, &err) == VG_OK) {
                if (nb) {
                    t->inbox_after.event_time = before[0].event_time;
                    memcpy(t->inbox_after.id, before[0].id, sizeof t->inbox_after.id);
                    t->inbox_has_after = true;
                }
                vg_alerts_free(before, nb);
            }
        }
    } else {
        t->asel = target < 0 ? 0 : n - 1;
    }
}

const char *tui_current_alert(tui *t)
{
    if (t->view == VIEW_ALERT)
        return t->alert_id;
    if (t->view == VIEW_INBOX && t->nalerts)
        return t->alerts[t->asel].id;
    return NULL;
}

static void draw_inbox(tui *t)
{
    char keys[160];
    bool dismissed = t->inbox_status == VG_AS_DISMISSED;
    const char *crumbs = dismissed ? " Inbox > dismissed alerts" : " Inbox (alerts on no case)";
    if (t->nmarked)
        snprintf(keys, sizeof keys, " %zu marked  :dismiss  :promote  :link REF  :unmark  Esc back",
                 t->nmarked);
    else if (dismissed)
        snprintf(keys, sizeof keys, " Enter raw  :restore  / search  Space mark  Esc back  ? help");
    else
        snprintf(keys, sizeof keys, " Enter raw  :promote  :link REF  :dismiss  / search  T mark"
                 " matching  u undo  ? help");
    draw_frame(t, crumbs, keys);
    attron(A_UNDERLINE);
    put_text(t, 2, 0, t->cols, "WHEN              SEV      SOURCE     COUNT  TITLE", true);
    attroff(A_UNDERLINE);
    for (size_t i = 0; i < t->nalerts && (int)i + 3 < t->rows - 1; i++) {
        const vg_alert *a = &t->alerts[i];
        int y = (int)i + 3, sel = (int)i == t->asel ? A_REVERSE : 0;
        char when[32], cnt[16];
        vg_local_time(a->event_time, when, sizeof when);
        snprintf(cnt, sizeof cnt, "%5lld", (long long)a->count);
        attron(sel);
        move(y, 0);
        clrtoeol();
        put_text(t, y, 0, 18, when, true);
        if (tui_is_marked(t, a->id))
            mvaddstr(y, 17, "*");
        attron(sev_attr(t, a->severity));
        put_text(t, y, 18, 9, vg_enum_name(&VG_SEVERITY, a->severity), true);
        attroff(sev_attr(t, a->severity));
        attron(sel);
        put_text(t, y, 27, 11, a->source, true);
        put_text(t, y, 38, 7, cnt, true);
        if (dismissed && a->dismissed_reason && *a->dismissed_reason) { /* why, first */
            size_t len = strlen(a->title) + strlen(a->dismissed_reason) + 8;
            char *both = vg_xmalloc(len);
            snprintf(both, len, "[%s] %s", a->dismissed_reason, a->title);
            put_text(t, y, 45, t->cols - 45, both, true);
            free(both);
        } else {
            put_text(t, y, 45, t->cols - 45, a->title, true);
        }
        attroff(sel);
    }
    if (!t->nalerts)
        mvaddstr(3, 0, dismissed ? "(no dismissed alerts)" : "(the inbox is empty)");
}

void tui_alert_open(tui *t) { tui_alert_show(t, tui_current_alert(t), NULL); }

void tui_alert_show(tui *t, const char *id, const char *from_case)
{
    vg_alert a;
    vg_err err = {0};
    if (!id || vg_alert_get(t->ws, id, &a, &err) != VG_OK) {
        snprintf(t->msg, sizeof t->msg, "%.200s", id ? err.msg : "no alert selected");
        return;
    }
    if (from_case != t->alert_case)
        snprintf(t->alert_case, sizeof t->alert_case, "%s", from_case ? from_case : "");
    memcpy(t->alert_id, a.id, sizeof t->alert_id);
    t->view = VIEW_ALERT;
    t->scroll = 0;
    lines_free(t);
    char when[32];
    vg_local_time(a.event_time, when, sizeof when);
    add_line(t, "%s", a.title);
    char zone[16];
    vg_local_zone(zone, sizeof zone);
    add_line(t, "%s %s %s  rule %s  source %s (%s)  seen %lld times", when, zone,
             vg_enum_name(&VG_SEVERITY, a.severity), a.rule, a.source, a.source_ref,
             (long long)a.count);
    add_hung(t, 9, "entities %s", a.entities);
    char *techs = vg_json_words(a.techniques);
    add_line(t, "ATT&CK   %s", techs);
    free(techs);
    if (a.status == VG_AS_DISMISSED)
        add_hung(t, 9, "dismissed %s", *a.dismissed_reason ? a.dismissed_reason
                                                           : "(no reason given)");
    add_line(t, "%s", "");
    /* laid out a member a line, its numbers as the sensor wrote them; every line
     * made safe when drawn */
    char *pretty = vg_json_reindent(a.raw);
    add_line(t, "%s", pretty);
    free(pretty);
    vg_alert_clear(&a);
}

static void draw_alert(tui *t)
{
    char crumbs[600] = " Inbox > alert";
    vg_case c;
    vg_err err = {0};
    if (t->alert_case[0] && vg_case_get(t->ws, t->alert_case, &c, &err) == VG_OK) {
        snprintf(crumbs, sizeof crumbs, " Queue > #%lld > alert (%s)", (long long)c.ref, c.title);
        vg_case_clear(&c);
    }
    draw_frame(t, crumbs, t->alert_case[0]
                              ? " j/k scroll  / search  :link REF moves it  Esc back to the case"
                              : " j/k scroll  :promote  :link REF  :dismiss  Esc back  ? help");
    draw_lines(t, 2);
}

static void draw(tui *t)
{
    erase();
    if (t->view == VIEW_QUEUE)
        draw_queue(t);
    else if (t->view == VIEW_CASE)
        draw_case(t);
    else if (t->view == VIEW_DASH)
        draw_dash(t);
    else if (t->view == VIEW_INBOX)
        draw_inbox(t);
    else if (t->view == VIEW_GRAPH)
        tui_graph_draw(t);
    else if (t->view == VIEW_HANDOFF)
        draw_handoff(t);
    else
        draw_alert(t);
    if (t->picker && t->view == VIEW_CASE)
        tui_picker_draw(t);
    if (t->help)
        tui_help_draw(t);
    refresh();
}

/* ---- input --------------------------------------------------------------------------- */

/* The name a key is bound by: "j", "Enter", "Down", "Tab"... */
static void binding_name(int is_key, wint_t ch, char *out, size_t outsz)
{
    static const struct { int code; const char *name; } named[] = {
        {KEY_DOWN, "Down"}, {KEY_UP, "Up"},     {KEY_NPAGE, "NPage"}, {KEY_PPAGE, "PPage"},
        {KEY_HOME, "Home"}, {KEY_END, "End"},   {KEY_ENTER, "Enter"}, {KEY_BTAB, "BTab"},
        {KEY_LEFT, "Left"}, {KEY_RIGHT, "Right"},
    };
    out[0] = '\0';
    if (is_key == KEY_CODE_YES) {
        for (size_t i = 0; i < sizeof named / sizeof *named; i++)
            if ((wint_t)named[i].code == ch)
                snprintf(out, outsz, "%s", named[i].name);
        for (int f = 1; f <= 12; f++) /* function keys: F1 ... F12 */
            if (ch == (wint_t)KEY_F(f))
                snprintf(out, outsz, "F%d", f);
        return;
    }
    if (ch == '\n' || ch == '\r')
        snprintf(out, outsz, "Enter");
    else if (ch == 27)
        snprintf(out, outsz, "Esc");
    else if (ch == '\t')
        snprintf(out, outsz, "Tab");
    else if (ch == ' ')
        snprintf(out, outsz, "Space");
    else if (ch > 32 && ch < 127)
        snprintf(out, outsz, "%c", (int)ch);
    else if (ch >= 1 && ch <= 26) /* C-a ... C-z (Tab, Enter and C-h are named above) */
        snprintf(out, outsz, "C-%c", (int)ch + 'a' - 1);
}

static void draw(tui *t);

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The end of what is typed that fits in cols columns (where the cursor is), for a
 * line longer than the prompt's room (a draft note being put in one's words). */
static const char *prompt_tail(const tui *t, const char *s, int cols)
{
    size_t len = strlen(s);
    if (cols <= 0 || len <= (size_t)cols)
        return s; /* no character is narrower than a byte */
    /* from the end back, as far as fits: a key costs the screen's width, not the
     * line's length (a note of 60 KiB typed on the line) */
    const char *p = s + len;
    size_t w = 0;
    while (p > s) {
        const char *q = p - 1;
        while (q > s && ((unsigned char)*q & 0xc0) == 0x80)
            q--;
        char one[8] = "";
        if ((size_t)(p - q) < sizeof one)
            memcpy(one, q, (size_t)(p - q));
        char *cs = vg_text_safe_dup(one, t->ascii ? VG_TEXT_ASCII : 0);
        size_t cw = vg_text_width(cs);
        free(cs);
        if (w + cw > (size_t)cols)
            break;
        w += cw;
        p = q;
    }
    return p;
}

/* ---- keys ------------------------------------------------------------------------- */

/* A key, as get_wch reads it, with the escape sequences terminfo does not know read
 * whole: Home and End as rxvt, screen and the Linux console send them (and the
 * arrows and pages in either form) are those keys, and any other sequence is no key
 * at all, where curses would give Esc and then its bytes as keys. */
static int read_key(wint_t *ch)
{
    int k = get_wch(ch);
    if (k != OK || *ch != 27)
        return k;
    timeout(30); /* a sequence's bytes come together; a lone Esc has none after it */
    wint_t c;
    int k2 = get_wch(&c);
    if (k2 == ERR) {
        timeout(-1);
        return k; /* Esc */
    }
    char seq[16];
    size_t n = 0;
    if (k2 == OK && (c == '[' || c == 'O')) {
        seq[n++] = (char)c;
        while (n < sizeof seq - 1 && get_wch(&c) == OK && c < 128) {
            seq[n++] = (char)c;
            if ((seq[0] == 'O' && n == 2) || (n > 1 && c >= 0x40 && c <= 0x7e))
                break;
        }
    }
    seq[n] = '\0';
    timeout(-1);
    static const struct { const char *seq; int key; } known[] = {
        {"[1~", KEY_HOME}, {"[7~", KEY_HOME}, {"[H", KEY_HOME},   {"OH", KEY_HOME},
        {"[4~", KEY_END},  {"[8~", KEY_END},  {"[F", KEY_END},    {"OF", KEY_END},
        {"[5~", KEY_PPAGE}, {"[6~", KEY_NPAGE}, {"[A", KEY_UP},   {"OA", KEY_UP},
        {"[B", KEY_DOWN},  {"OB", KEY_DOWN},  {"[C", KEY_RIGHT},  {"OC", KEY_RIGHT},
        {"[D", KEY_LEFT},  {"OD", KEY_LEFT},
    };
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        if (strcmp(known[i].seq, seq) == 0) {
            *ch = (wint_t)known[i].key;
            return KEY_CODE_YES;
        }
    return ERR; /* a sequence nobody knows (or Alt and a key): nothing */
}

/* The : line's history: the last 32 commands, oldest first, in cfg->history (0600,
 * rewritten after each command, so a killed vigil keeps what was typed). */
static void history_load(tui *t)
{
    FILE *f = t->cfg->history ? fopen(t->cfg->history, "r") : NULL;
    char line[512];
    size_t bytes = 0;
    while (f && bytes < (64 << 10) && fgets(line, sizeof line, f)) {
        bytes += strlen(line);
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0])
            continue;
        if (t->nhistory == 32) {
            memmove(t->history[0], t->history[1], sizeof t->history[0] * 31);
            t->nhistory--;
        }
        snprintf(t->history[t->nhistory++], sizeof t->history[0], "%.255s", line);
    }
    if (f)
        fclose(f);
}

static void history_add(tui *t, const char *cmd)
{
    if (t->nhistory && strcmp(t->history[t->nhistory - 1], cmd) == 0)
        return; /* the same again: once */
    if (strlen(cmd) >= sizeof t->history[0])
        return; /* a long note is not kept cut, to be run again cut */
    if (t->nhistory == 32) {
        memmove(t->history[0], t->history[1], sizeof t->history[0] * 31);
        t->nhistory--;
    }
    snprintf(t->history[t->nhistory++], sizeof t->history[0], "%.255s", cmd);
    if (!t->cfg->history)
        return;
    int fd = open(t->cfg->history, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        return; /* no history kept: the commands work all the same */
    }
    fchmod(fd, 0600);
    for (int i = 0; i < t->nhistory; i++)
        fprintf(f, "%s\n", t->history[i]);
    fclose(f);
}

/* What is typed so far, to the prompt's live reader (the queue's / filters as the
 * analyst types), the screen drawn again under the line. */
static void live_changed(tui *t, const char *text)
{
    if (!t->live)
        return;
    t->live(t, text);
    draw(t);
    curs_set(1);
}

bool tui_prompt(tui *t, const char *prompt, char *out, size_t outsz)
{
    bool entered = false;
    draw(t); /* what the command before the prompt changed (c opens a pane) shows */
    size_t len = strlen(out); /* editing starts from what the caller put there */
    bool commands = strcmp(prompt, ":") == 0;
    int hist = t->nhistory; /* Up walks back through the : line's history */
    curs_set(1);
    for (;;) {
        move(t->rows - 1, 0);
        clrtoeol();
        int px = (int)strlen(prompt); /* ":" or "/", or a longer one ("ask> ") */
        put_text(t, t->rows - 1, 0, t->cols, prompt, false);
        put_text(t, t->rows - 1, px, t->cols - px, prompt_tail(t, out, t->cols - px - 1), false);
        refresh();
        wint_t ch;
        /* a copilot answer keeps streaming while a line is typed */
        timeout(tui_chat_busy(t) ? TUI_CHAT_TICK_MS : -1);
        int k = read_key(&ch);
        if (k == ERR) {
            tui_chat_poll(t);
            continue;
        }
        if (k == KEY_CODE_YES && ch == KEY_RESIZE) { /* the new layout, the line kept */
            getmaxyx(stdscr, t->rows, t->cols);
            tui_dispatch(t, "refresh");
            draw(t);
            curs_set(1);
            continue;
        }
        t->key_at = mono(); /* the trace times the line's last key, not its typing */
        if (k == OK && (ch == '\n' || ch == '\r')) {
            entered = true;
            break;
        }
        if (k == OK && ch == 27) {
            out[0] = '\0';
            break;
        }
        if (commands && k == KEY_CODE_YES && (ch == KEY_UP || ch == KEY_DOWN)) {
            hist += ch == KEY_UP ? -1 : 1;
            if (hist < 0)
                hist = 0;
            if (hist > t->nhistory)
                hist = t->nhistory;
            snprintf(out, outsz, "%s", hist < t->nhistory ? t->history[hist] : "");
            len = strlen(out);
            continue;
        }
        if (commands && k == OK && ch == '\t') { /* complete, and list what could follow */
            char list[512];
            size_t n = tui_complete_line(t, out, outsz, list, sizeof list);
            len = strlen(out);
            move(t->rows - 2, 0);
            clrtoeol();
            if (n > 1) { /* the candidates above the line, until it is done */
                attron(A_REVERSE);
                put_text(t, t->rows - 2, 0, t->cols, list, true);
                attroff(A_REVERSE);
            }
            continue;
        }
        if (k == OK && ch == 21) { /* C-u, as in readline: clear the line */
            len = 0;
            out[0] = '\0';
            live_changed(t, out);
            continue;
        }
        if ((k == KEY_CODE_YES && ch == KEY_BACKSPACE) || (k == OK && (ch == 127 || ch == 8))) {
            while (len && ((unsigned char)out[len - 1] & 0xc0) == 0x80)
                len--;
            if (len)
                len--;
            out[len] = '\0';
            live_changed(t, out);
            continue;
        }
        if (k == OK && ch >= 32) {
            char mb[8];
            mbstate_t st = {0};
            size_t n = wcrtomb(mb, (wchar_t)ch, &st);
            if (n != (size_t)-1 && len + n < outsz) {
                memcpy(out + len, mb, n);
                len += n;
                out[len] = '\0';
                live_changed(t, out);
            } else if (n != (size_t)-1) { /* full: said, not cut silently */
                beep();
                char full[160];
                snprintf(full, sizeof full, "the line is full (%zu bytes): E writes a note of any"
                                            " length in $EDITOR", outsz - 1);
                attron(A_REVERSE);
                put_text(t, t->rows - 2, 0, t->cols, full, true);
                attroff(A_REVERSE);
            }
        }
    }
    timeout(-1);
    curs_set(0);
    return entered;
}

/* Another connection wrote (another process, or the sync thread): read again what
 * is on screen, keeping the place, and ring for a new critical case. */
static void outside_change(tui *t)
{
    int changed;
    vg_err err = {0};
    if (vg_ws_changed(t->ws, &changed, &err) != VG_OK || !changed)
        return;
    tui_dispatch(t, "refresh");
    vg_counts k;
    t->counts_stale = true;
    if (t->cfg->bell && vg_case_counts(t->ws, &k, &err) == VG_OK) {
        if (k.critical_open > t->critical_seen && t->critical_seen >= 0) {
            beep();
            flash();
            snprintf(t->msg, sizeof t->msg, "new critical case");
        }
        t->critical_seen = k.critical_open;
    }
}

int tui_run(vg_ws *ws, const char *actor, bool ascii, const tui_config *cfg,
            const char *log_path)
{
    /* VIGIL_TUI_TRACE=FILE: write when the first frame was on screen (ms since the
     * process started) and each key's time to a finished frame (us; for a line typed
     * at a prompt, from its Enter), for the benchmark. */
    const char *trace_path = getenv("VIGIL_TUI_TRACE");
    FILE *trace = trace_path && *trace_path ? fopen(trace_path, "w") : NULL;
    static const tui_config defaults = {.theme = THEME_DARK};
    tui t = {.ws = ws, .actor = actor, .ascii = ascii, .cfg = cfg ? cfg : &defaults};
    tui_set_config(t.cfg);
    /* stderr goes to the log while curses owns the screen */
    if (log_path && !freopen(log_path, "a", stderr))
        return 1;
    if (!initscr())
        return 1;
    curses_on = 1;
    atexit(restore);
    vg_set_oom_hook(restore);
    static const int fatal[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGFPE, SIGABRT};
    for (size_t i = 0; i < sizeof fatal / sizeof *fatal; i++)
        signal(fatal[i], on_fatal);
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    const char *no_color = getenv("NO_COLOR");
    t.color = has_colors() && !(no_color && *no_color) && t.cfg->theme != THEME_MONO;
    if (t.color) { /* colours by role; light terminals get darker ones */
        bool light = t.cfg->theme == THEME_LIGHT;
        start_color();
        use_default_colors();
        init_pair(PAIR_CRIT, COLOR_RED, -1);
        init_pair(PAIR_HIGH, light ? COLOR_MAGENTA : COLOR_YELLOW, -1);
        init_pair(PAIR_MED, light ? COLOR_BLUE : COLOR_CYAN, -1);
        init_pair(PAIR_LOW, light ? COLOR_GREEN : COLOR_BLUE, -1);
    }
    getmaxyx(stdscr, t.rows, t.cols);
    int changed;
    vg_err err = {0};
    vg_counts k0;
    t.critical_seen = vg_case_counts(ws, &k0, &err) == VG_OK ? k0.critical_open : -1;
    t.counts_stale = true;
    history_load(&t);
    tui_queue_load(&t);
    if (vg_ws_changed(ws, &changed, &err) != VG_OK) /* take the first reading */
        snprintf(t.msg, sizeof t.msg, "%.200s", err.msg);

    if (t.cfg->remote && t.cfg->token)
        t.sync = tui_sync_start(vg_ws_path(ws), actor, t.cfg->remote, t.cfg->token, t.msg,
                                sizeof t.msg);
    double last_tick = 0; /* when another process's writes were last looked for */
    while (!t.quit) {
        /* The size, read from the terminal on every wake (key, signal or tick):
         * a SIGWINCH that curses did not see still lands within a second. */
        struct winsize wsz;
        if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &wsz) == 0 && wsz.ws_row && wsz.ws_col &&
            (wsz.ws_row != t.rows || wsz.ws_col != t.cols)) {
            resizeterm(wsz.ws_row, wsz.ws_col);
            getmaxyx(stdscr, t.rows, t.cols);
            tui_dispatch(&t, "refresh");
        }
        tui_sync_check(t.sync, ws); /* what the last key (or the copilot) wrote is pushed now */
        draw(&t);
        if (trace) {
            static bool first = true;
            if (first)
                fprintf(trace, "first_frame_ms %.3f\n", (mono() - t.cfg->start_s) * 1000);
            else if (t.key_at > 0)
                fprintf(trace, "key_us %.1f\n", (mono() - t.key_at) * 1e6);
            first = false;
            t.key_at = 0;
            fflush(trace);
        }
        /* stdin, and the sync thread's news (fd -1 without one: poll skips it) */
        struct pollfd pfd[2] = {{.fd = STDIN_FILENO, .events = POLLIN},
                                {.fd = tui_sync_fd(t.sync), .events = POLLIN}};
        /* A copilot stream is read on a short tick, so keys are never kept waiting
         * and tokens show as they come. */
        int ready = poll(pfd, 2, tui_chat_busy(&t) ? TUI_CHAT_TICK_MS : 1000);
        tui_chat_poll(&t);
        if (ready < 0)
            continue; /* a signal: look at the size again */
        if (pfd[1].revents & POLLIN) { /* a round began or ended: what it pulled shows now */
            tui_sync_woke(t.sync, t.msg, sizeof t.msg);
            outside_change(&t);
            if (!(pfd[0].revents & POLLIN))
                continue;
        }
        if (ready == 0 && mono() - last_tick < 1.0)
            continue; /* a copilot tick, not yet the second's */
        if (ready == 0) { /* the tick: did another process write? */
            last_tick = mono();
            outside_change(&t);
            continue;
        }
        wint_t ch;
        int k = read_key(&ch);
        if (k == ERR)
            continue;
        t.key_at = mono();
        if (k == KEY_CODE_YES && ch == KEY_RESIZE) {
            getmaxyx(stdscr, t.rows, t.cols);
            tui_dispatch(&t, "refresh");
            continue;
        }
        t.msg[0] = '\0';
        if (k == OK && ch == ':') {
            enum { LINE_MAX_BYTES = 64 << 10 }; /* a note typed on the line is kept whole */
            char *cmd = vg_xcalloc(1, LINE_MAX_BYTES);
            tui_prompt(&t, ":", cmd, LINE_MAX_BYTES);
            if (cmd[0]) {
                history_add(&t, cmd);
                tui_dispatch(&t, cmd);
            }
            free(cmd);
            continue;
        }
        char name[32];
        binding_name(k, ch, name, sizeof name);
        if (t.help) { /* the overlay takes every key while open */
            tui_help_key(&t, name[0] ? tui_binding(name) : NULL);
            continue;
        }
        if (t.picker) { /* the playbook picker takes every key while open */
            tui_picker_key(&t, name);
            continue;
        }
        /* y, n, e and a act on the copilot's card while the Copilot tab shows one */
        if (name[0] && !name[1] && tui_chat_key(&t, name[0]))
            continue;
        /* keys of the tab or view on screen first, then the global bindings */
        const char *cmd = name[0] ? tui_tasks_binding(&t, name) : NULL;
        if (!cmd && name[0])
            cmd = tui_graph_binding(&t, name);
        if (!cmd && name[0])
            cmd = tui_binding(name);
        if (cmd)
            tui_dispatch(&t, cmd);
    }
    tui_sync_stop(t.sync); /* at once: the round in flight is cut off */
    restore();
    tui_chat_free(&t);
    if (trace)
        fclose(trace);
    vg_case_query_clear(&t.query);
    vg_case_list_free(&t.page);
    inbox_free(&t);
    free(t.marked);
    lines_free(&t);
    free(t.handoff_case);
    tui_tasks_free(&t);
    tui_graph_close(&t);
    tui_help_close(&t);
    tui_alerts_free(&t);
    tui_timeline_free(&t);
    vg_lines_free(t.dash_q, t.ndash_q);
    free(t.undo);
    return 0;
}
