/*
 * tasks.c — the case's Tasks tab and the playbook picker.
 *
 * The tab is a text view like the others (lines made safe when drawn) with a
 * cursor over its rows: a row is a phase (its progress bar, done of total, the
 * mandatory tasks left; Enter folds it) or a task (Space ticks it). The selected
 * task opens under its row with its description, the concrete how, wrapped to the
 * screen, and the view scrolls to keep both in sight. `a` opens the
 * picker: every playbook (the workspace's copies, then the library's), those the
 * case suggests first, with a preview of the tasks the selected one would add and
 * those already on the case; Enter applies it through the door in one transaction.
 * A task's log (task.log ops) opens under it with its description, each entry
 * whole, wrapped; `:log TEXT` writes an entry on the selected task (`:log` alone:
 * in $EDITOR, for text longer than the : line holds).
 * Rows are rebuilt from the workspace on every change, so another process's writes
 * show on the next tick.
 */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"
#include "vigil/handoff.h"
#include "vigil/op.h"
#include "vigil/timefmt.h"
#include "vigil/playbook.h"

struct tui_picker {
    vg_playbook *pb; /* workspace copies, then library playbooks they do not shadow */
    size_t n;
    size_t *order;   /* suggested first (best first), then the rest by id */
    int *score;
    int sel, top;
    bool *skip;      /* for pb[order[sel]]: tasks already on the case */
    int skip_for;    /* which order index skip was computed for; -1: none */
    vg_id case_id;
    long long ref;
};

static void add(tui *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(tui *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = vg_xvasprintf(fmt, ap);
    va_end(ap);
    t->lines = vg_xrealloc(t->lines, (t->nlines + 1) * sizeof *t->lines);
    t->lines[t->nlines++] = s;
}

static void add_row(tui *t, int what)
{
    t->task_rows = vg_xrealloc(t->task_rows, (t->ntask_rows + 1) * sizeof *t->task_rows);
    t->task_rows[t->ntask_rows++] = what;
}

bool tui_tasks_active(const tui *t)
{
    return t->view == VIEW_CASE && strcmp(tui_tab_name(t), "Tasks") == 0;
}

/* Keep the selected row, and the description open under it, on screen. */
static void follow(tui *t, int desc_lines)
{
    int line = t->task_line0 + t->task_row, height = t->rows - 4;
    if (height < 1)
        height = 1;
    if (line + desc_lines >= t->scroll + height)
        t->scroll = line + desc_lines - height + 1;
    if (line < t->scroll)
        t->scroll = line;
    if (t->task_row == 0 && line < height)
        t->scroll = 0;
}

void tui_tasks_build(tui *t, const vg_case *c)
{
    vg_task *k = NULL;
    size_t n = 0;
    char **pbs = NULL;
    size_t npbs = 0;
    vg_err err = {0};
    t->ntask_rows = 0;
    if (strcmp(t->task_case, c->id) != 0) {
        memcpy(t->task_case, c->id, sizeof t->task_case);
        t->task_row = 0;
        t->folded = 0;
    }
    vg_task_log *lg = NULL;
    size_t nlg = 0;
    if (vg_tasks_of_case(t->ws, c->id, &k, &n, &err) != VG_OK ||
        vg_case_playbooks(t->ws, c->id, &pbs, &npbs, &err) != VG_OK ||
        vg_task_logs_of_case(t->ws, c->id, NULL, &lg, &nlg, &err) != VG_OK) {
        add(t, "%s", err.msg);
        vg_tasks_free(k, n);
        return;
    }
    vg_progress p;
    vg_progress_of(k, n, &p);
    char bar[64], left[48] = "", used[256] = "";
    for (size_t i = 0; i < npbs; i++) {
        size_t l = strlen(used);
        snprintf(used + l, sizeof used - l, "%s%s", i ? ", " : "   playbooks: ", pbs[i]);
        free(pbs[i]);
    }
    free(pbs);
    vg_progress_bar(p.all_done, p.all_total, 20, t->ascii, bar, sizeof bar);
    if (p.all_mandatory_left)
        snprintf(left, sizeof left, "  %d mandatory left", p.all_mandatory_left);
    if (n)
        add(t, "Progress %d/%d %s%s%s", p.all_done, p.all_total, bar, left, used);
    else
        add(t, "%s", "(no tasks: a applies a playbook, :playbook ID names one)");
    add(t, "%s", "");
    t->task_line0 = (int)t->nlines;
    int desc_lines = 0;
    static const char *const box[] = {"[ ]", "[~]", "[x]", "[-]"};
    for (size_t i = 0; i < n; i++) {
        int ph = k[i].phase;
        if (ph < 0)
            continue;
        bool folded = t->folded & (1u << ph);
        if (i == 0 || ph != k[i - 1].phase) {
            vg_progress_bar(p.done[ph], p.total[ph], 10, t->ascii, bar, sizeof bar);
            left[0] = '\0';
            if (p.mandatory_left[ph])
                snprintf(left, sizeof left, "  %d mandatory left", p.mandatory_left[ph]);
            add(t, "%s %-16s %2d/%-2d %s%s", folded ? (t->ascii ? ">" : "\u25b8")
                                                     : (t->ascii ? "v" : "\u25be"),
                vg_enum_name(&VG_PHASE, ph), p.done[ph], p.total[ph], bar, left);
            add_row(t, -1 - ph);
        }
        if (folded)
            continue;
        size_t nlog = 0;
        for (size_t e = 0; e < nlg; e++)
            nlog += strcmp(lg[e].task_id, k[i].id) == 0;
        char logs[32] = "";
        if (nlog)
            snprintf(logs, sizeof logs, "  (log %zu)", nlog);
        /* numbered as :done N takes it */
        add(t, "   %2zu %s %s%s%s", i + 1, box[k[i].status & 3], k[i].title,
            k[i].mandatory ? " (mandatory)" : "", logs);
        add_row(t, (int)i);
        if (t->ntask_rows - 1 == (size_t)t->task_row) { /* the selected task opens */
            size_t first = t->nlines;
            add(t, "          %s%s%s%s", vg_enum_name(&VG_TASK_STATUS, k[i].status),
                k[i].mandatory ? ", mandatory" : "", *k[i].playbook_id ? ", playbook " : "",
                k[i].playbook_id);
            tui_add_text(t, k[i].description, 10, 0, t->cols - 4);
            for (size_t e = 0; e < nlg; e++) { /* its log, oldest first, each whole */
                if (strcmp(lg[e].task_id, k[i].id) != 0)
                    continue;
                char when[32];
                vg_local_time(lg[e].created_at, when, sizeof when);
                add(t, "          log %s %s:", when + 5, lg[e].author);
                tui_add_text(t, lg[e].body, 12, 0, t->cols - 4);
            }
            desc_lines = (int)(t->nlines - first);
        }
    }
    if (t->task_row >= (int)t->ntask_rows) /* fewer rows than before: the last */
        t->task_row = t->ntask_rows ? (int)t->ntask_rows - 1 : 0;
    add(t, "%s", "");
    add(t, "%s", "(Space ticks a task, Enter folds a phase, a applies a playbook;"
                 " :done N, :todo N, :log TEXT)");
    if (t->ntask_rows) {
        t->hl_line = t->task_line0 + t->task_row + 1;
        int height = t->rows - 4; /* the selected row stays on screen, whatever its log */
        follow(t, desc_lines < height - 1 ? desc_lines : (height > 1 ? height - 1 : 0));
    }
    vg_tasks_free(k, n);
    vg_task_logs_free(lg, nlg);
}

int tui_task_log(tui *t, const char *text)
{
    if (!tui_tasks_active(t) || !t->ntask_rows || t->task_rows[t->task_row] < 0) {
        snprintf(t->msg, sizeof t->msg, "log: select a task on the Tasks tab first");
        return 1;
    }
    int what = t->task_rows[t->task_row];
    char *edited = NULL;
    if (!text || !*text) { /* the whole entry in the editor */
        if (!(edited = tui_edit_text(t)))
            return 1;
        text = edited;
    }
    vg_task *k = NULL;
    size_t n = 0;
    vg_err err = {0};
    int rc = 1;
    if (vg_tasks_of_case(t->ws, t->case_id, &k, &n, &err) != VG_OK) {
        snprintf(t->msg, sizeof t->msg, "%.200s", err.msg);
    } else if ((size_t)what < n) {
        vg_op *op = vg_op_task_log(t->case_id, k[what].id, text);
        if (vg_apply(t->ws, op, &err) != VG_OK) {
            snprintf(t->msg, sizeof t->msg, "%.200s", err.msg);
        } else {
            char done[64];
            snprintf(done, sizeof done, "logged on task %d", what + 1);
            tui_mention_msg(t, text, done);
            rc = 0;
        }
        vg_op_free(op);
    }
    vg_tasks_free(k, n);
    free(edited);
    tui_case_open(t, t->case_id);
    return rc;
}

void tui_tasks_move(tui *t, int delta)
{
    long r = (long)t->task_row + delta;
    if (r >= (long)t->ntask_rows)
        r = (long)t->ntask_rows - 1;
    if (r < 0)
        r = 0;
    t->task_row = (int)r;
    tui_case_open(t, t->case_id);
}

int tui_task_fold(tui *t)
{
    if (!tui_tasks_active(t) || !t->ntask_rows)
        return 0;
    int what = t->task_rows[t->task_row];
    if (what >= 0) { /* on a task: fold its phase, the cursor goes to the phase */
        while (t->task_row > 0 && t->task_rows[t->task_row] >= 0)
            t->task_row--;
        what = t->task_rows[t->task_row];
    }
    t->folded ^= 1u << (-1 - what);
    tui_case_open(t, t->case_id);
    return 0;
}

int tui_task_toggle(tui *t)
{
    if (!tui_tasks_active(t) || !t->ntask_rows)
        return 0;
    int what = t->task_rows[t->task_row];
    if (what < 0)
        return tui_task_fold(t);
    vg_task *k = NULL;
    size_t n = 0;
    vg_err err = {0};
    int rc = 1;
    if (vg_tasks_of_case(t->ws, t->case_id, &k, &n, &err) != VG_OK) {
        snprintf(t->msg, sizeof t->msg, "%.200s", err.msg);
    } else if ((size_t)what < n) {
        bool done = k[what].status == 2;
        vg_op *op = vg_op_task_set(t->case_id, k[what].id, "status", done ? "todo" : "done");
        if (vg_apply(t->ws, op, &err) != VG_OK) {
            snprintf(t->msg, sizeof t->msg, "%.200s", err.msg);
        } else {
            snprintf(t->msg, sizeof t->msg, "task %d %s", what + 1, done ? "reopened" : "done");
            rc = 0;
        }
        vg_op_free(op);
    }
    vg_tasks_free(k, n);
    t->counts_stale = true;
    tui_case_open(t, t->case_id);
    return rc;
}

const char *tui_tasks_binding(const tui *t, const char *key)
{
    if (!tui_tasks_active(t))
        return NULL;
    static const struct { const char *key, *command; } b[] = {
        {"Space", "task-toggle"}, {"Enter", "fold"}, {"a", "playbook"},
    };
    for (size_t i = 0; i < sizeof b / sizeof *b; i++)
        if (strcmp(b[i].key, key) == 0)
            return b[i].command;
    return NULL;
}

/* ---- the picker -------------------------------------------------------------------- */

static void picker_free(tui *t)
{
    struct tui_picker *p = t->picker;
    if (!p)
        return;
    vg_playbooks_free(p->pb, p->n);
    free(p->order);
    free(p->score);
    free(p->skip);
    free(p);
    t->picker = NULL;
}

void tui_tasks_free(tui *t)
{
    picker_free(t);
    free(t->task_rows);
    t->task_rows = NULL;
    t->ntask_rows = 0;
}

/* Apply pb to the open case and say what happened. */
static int apply(tui *t, const char *case_id, const vg_playbook *pb)
{
    int added = 0, skipped = 0;
    vg_err err = {0};
    int rc = 0;
    if (vg_playbook_apply(t->ws, case_id, pb, &added, &skipped, &err) != VG_OK) {
        snprintf(t->msg, sizeof t->msg, "%.200s", err.msg);
        rc = 1;
    } else {
        snprintf(t->msg, sizeof t->msg, "applied %.64s: %d tasks added, %d already on the case",
                 pb->id, added, skipped);
    }
    t->counts_stale = true;
    return rc;
}

/* Every playbook: the workspace's copies, then library playbooks they do not
 * shadow. Fills p->pb and p->n; false with t->msg on error. */
static bool load_all(tui *t, struct tui_picker *p)
{
    vg_playbook *ws = NULL, *lib = NULL;
    size_t nws = 0, nlib = 0;
    vg_err err = {0};
    if (vg_playbooks_of_ws(t->ws, &ws, &nws, &err) != VG_OK ||
        (t->cfg->playbooks && vg_playbook_library(t->cfg->playbooks, &lib, &nlib, &err) != VG_OK)) {
        snprintf(t->msg, sizeof t->msg, "%.200s", err.msg);
        vg_playbooks_free(ws, nws);
        return false;
    }
    p->pb = vg_xcalloc(nws + nlib + 1, sizeof *p->pb);
    for (size_t i = 0; i < nws; i++)
        p->pb[p->n++] = ws[i];
    for (size_t i = 0; i < nlib; i++) {
        bool shadowed = false;
        for (size_t w = 0; w < nws; w++)
            shadowed |= strcmp(ws[w].id, lib[i].id) == 0;
        if (shadowed)
            vg_playbook_clear(&lib[i]);
        else
            p->pb[p->n++] = lib[i];
    }
    free(ws);
    free(lib);
    return true;
}

int tui_playbook(tui *t, const char *id)
{
    const char *cur = tui_current_case(t);
    if (!cur) {
        snprintf(t->msg, sizeof t->msg, "no case selected");
        return 1;
    }
    vg_id case_id;
    memcpy(case_id, cur, sizeof case_id);
    if (id) { /* :playbook ID applies it directly */
        vg_playbook pb;
        vg_err err = {0};
        if (vg_playbook_find(t->ws, t->cfg->playbooks, id, &pb, &err) != VG_OK) {
            snprintf(t->msg, sizeof t->msg, "%.200s", err.msg);
            return 1;
        }
        int rc = apply(t, case_id, &pb);
        vg_playbook_clear(&pb);
        tui_dispatch(t, "refresh");
        return rc;
    }
    vg_case c;
    vg_err err = {0};
    char *techs = NULL;
    if (vg_case_get(t->ws, case_id, &c, &err) != VG_OK) {
        snprintf(t->msg, sizeof t->msg, "%.200s", err.msg);
        return 1;
    }
    if (vg_case_all_techniques(t->ws, case_id, &techs, &err) == VG_OK) {
        free(c.techniques); /* the case's and its alerts' */
        c.techniques = techs;
    }
    if (!tui_tasks_active(t)) { /* the picker opens over the case's Tasks tab */
        tui_case_open(t, case_id);
        tui_case_tab_named(t, "Tasks");
    }
    picker_free(t);
    struct tui_picker *p = vg_xcalloc(1, sizeof *p);
    t->picker = p;
    memcpy(p->case_id, case_id, sizeof p->case_id);
    p->ref = (long long)c.ref;
    p->skip_for = -1;
    if (!load_all(t, p)) {
        vg_case_clear(&c);
        picker_free(t);
        tui_case_open(t, case_id);
        return 1;
    }
    p->order = vg_xcalloc(p->n + 1, sizeof *p->order);
    p->score = vg_xcalloc(p->n + 1, sizeof *p->score);
    size_t m = vg_playbook_suggest(&c, p->pb, p->n, p->order, p->score);
    vg_case_clear(&c);
    for (size_t i = 0; i < p->n; i++) /* then the rest, in id order */
        if (p->score[i] == 0)
            p->order[m++] = i;
    if (!p->n) {
        picker_free(t);
        snprintf(t->msg, sizeof t->msg, "no playbooks: the library is empty");
        tui_case_open(t, case_id);
        return 1;
    }
    return 0;
}

void tui_picker_key(tui *t, const char *key)
{
    struct tui_picker *p = t->picker;
    int n = (int)p->n;
    if (!strcmp(key, "j") || !strcmp(key, "Down"))
        p->sel = p->sel + 1 < n ? p->sel + 1 : p->sel;
    else if (!strcmp(key, "k") || !strcmp(key, "Up"))
        p->sel = p->sel > 0 ? p->sel - 1 : 0;
    else if (!strcmp(key, "g") || !strcmp(key, "Home"))
        p->sel = 0;
    else if (!strcmp(key, "G") || !strcmp(key, "End"))
        p->sel = n - 1;
    else if (!strcmp(key, "Esc") || !strcmp(key, "q")) {
        picker_free(t);
        tui_case_open(t, t->case_id);
    } else if (!strcmp(key, "Enter")) {
        vg_playbook pb = p->pb[p->order[p->sel]];
        memset(&p->pb[p->order[p->sel]], 0, sizeof pb); /* keep it past the free */
        vg_id case_id;
        memcpy(case_id, p->case_id, sizeof case_id);
        picker_free(t);
        apply(t, case_id, &pb);
        vg_playbook_clear(&pb);
        tui_case_open(t, case_id);
    }
}

void tui_picker_draw(tui *t)
{
    struct tui_picker *p = t->picker;
    const vg_playbook *pb = &p->pb[p->order[p->sel]];
    if (p->skip_for != p->sel) { /* the preview: which tasks are already there */
        free(p->skip);
        p->skip = vg_xcalloc(pb->ntasks + 1, sizeof *p->skip);
        vg_err err = {0};
        if (vg_playbook_plan(t->ws, p->case_id, pb, p->skip, &err) != VG_OK)
            snprintf(t->msg, sizeof t->msg, "%.200s", err.msg);
        p->skip_for = p->sel;
    }
    int w = t->cols > 104 ? 100 : t->cols - 4, h = t->rows - 4, x = (t->cols - w) / 2;
    if (w < 20 || h < 8)
        return;
    for (int y = 0; y < h; y++) {
        move(2 + y, x);
        for (int i = 0; i < w; i++)
            addch(' ' | A_REVERSE);
    }
    attron(A_REVERSE | A_BOLD);
    char line[512];
    snprintf(line, sizeof line, "Apply a playbook to #%lld   j/k choose  Enter apply  Esc cancel",
             p->ref);
    tui_put_text(t, 2, x + 1, w - 2, line, false);
    attroff(A_BOLD);
    int list_h = h / 3 < 3 ? 3 : h / 3;
    if (p->sel < p->top)
        p->top = p->sel;
    if (p->sel >= p->top + list_h)
        p->top = p->sel - list_h + 1;
    for (int r = 0; r < list_h && p->top + r < (int)p->n; r++) {
        int i = p->top + r;
        const vg_playbook *q = &p->pb[p->order[i]];
        char score[16] = "";
        if (p->score[p->order[i]])
            snprintf(score, sizeof score, "%3d", p->score[p->order[i]]);
        snprintf(line, sizeof line, "%s %3s  %-28s %s%s", i == p->sel ? ">" : " ", score, q->id,
                 q->name, q->library ? "" : "  (workspace)");
        if (i == p->sel)
            attroff(A_REVERSE);
        tui_put_text(t, 3 + r, x + 1, w - 2, line, true);
        if (i == p->sel)
            attron(A_REVERSE);
    }
    int add = 0;
    for (size_t i = 0; i < pb->ntasks; i++)
        add += !p->skip[i];
    int y = 4 + list_h;
    attron(A_BOLD);
    snprintf(line, sizeof line, "%s v%s: %d tasks to add, %d already on the case", pb->id,
             pb->version, add, (int)pb->ntasks - add);
    tui_put_text(t, y++, x + 1, w - 2, line, false);
    attroff(A_BOLD);
    for (int ph = 0; ph < VG_PHASE.n; ph++)
        for (size_t i = 0; i < pb->ntasks && y < 2 + h; i++) {
            if (pb->tasks[i].phase != ph)
                continue;
            snprintf(line, sizeof line, "  %-15s %s%s%s", VG_PHASE.names[ph],
                     p->skip[i] ? "= " : "+ ", pb->tasks[i].title,
                     pb->tasks[i].mandatory ? " (mandatory)" : "");
            tui_put_text(t, y++, x + 1, w - 2, line, false);
        }
    attroff(A_REVERSE);
}
