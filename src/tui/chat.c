/*
 * chat.c — the Copilot and Ledger tabs of a case, and the general copilot pane of
 * the queue.
 *
 * One conversation at a time, on the case it was started from, in one ledger
 * session for this run of the workstation. A question starts a request (src/net)
 * and returns at once: the main loop calls tui_chat_poll on every wake, which reads
 * what arrived without waiting, so the analyst keeps moving through the queue, the
 * timeline or another case while the answer streams; Esc stops it. When the answer
 * is complete the copilot layer (src/copilot) records it, checks its proposals and
 * applies what the policy allows; each remaining proposal is a card that y applies,
 * n cancels and e edits first, through the same write door as every other change.
 * A line starting with / is a : command (/note, /event, /sev, /status, /assign...),
 * so the pane keeps working with no model at all.
 *
 * Above the conversation, the tab lists the proposals waiting for the analyst on
 * the case that it does not show as cards: an agent's through `vigil mcp`, or a
 * model's from an earlier run (cop_pending, read again whenever the tab is built).
 * While the conversation has no card of its own to decide, y, n and e act on the
 * first of them; an agent's note is a draft, so y opens it on the status line to be
 * put in the analyst's words, and only Enter applies it.
 *
 * The general pane (c on the queue) is the same conversation machinery about the
 * open queue instead of one case: it shares the screen with the queue (the queue
 * above, the pane below), so j/k keep moving through the queue while an answer
 * streams; each proposal card names the case it acts on; its slash commands are
 * those that need no case (/related VALUE, /filter, /sort, /view, /help), and a
 * case-bound one says it needs a case. Its session is one of no case, in the
 * ledger like any other.
 */
#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"
#include "vigil/ledger.h"
#include "vigil/op.h"
#include "vigil/timefmt.h"

#define MAX_ENTRIES 400

typedef struct card {
    vg_id id;
    int action, state;
    char *preview, *result;
    cJSON *params;
} card;

struct tui_chat {
    bool general;   /* the queue's pane, not a case's tab */
    vg_id case_id;
    vg_id session;  /* "" until the first answer */
    char **entries; /* the transcript: "> question", answer text, "-- note" lines, and "!"
                     * lines for what looks like instructions in the data alone */
    size_t nentries;
    card *cards;
    size_t ncards;
    cop_suggestion *sugg;
    size_t nsugg;
    /* the question in flight */
    cop_turn turn;
    llm_stream *st;
    bool recorded;
    size_t seen; /* bytes of the stream already drawn */
};

static struct tui_chat *chat(tui *t)
{
    if (!t->chat)
        t->chat = vg_xcalloc(1, sizeof *t->chat);
    return t->chat;
}

static struct tui_chat *gchat(tui *t)
{
    if (!t->gchat) {
        t->gchat = vg_xcalloc(1, sizeof *t->gchat);
        t->gchat->general = true;
    }
    return t->gchat;
}

bool tui_gpane_shown(const tui *t) { return t->view == VIEW_QUEUE && t->gpane; }

/* The conversation on screen: the Copilot tab's, or the queue's pane's; NULL when
 * neither shows. */
static struct tui_chat *visible(tui *t)
{
    if (tui_in_tab(t, "Copilot") && t->chat && strcmp(t->chat->case_id, t->case_id) == 0)
        return t->chat;
    if (tui_gpane_shown(t))
        return gchat(t);
    return NULL;
}

static void say(struct tui_chat *ch, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct tui_chat *ch, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = vg_xvasprintf(fmt, ap);
    va_end(ap);
    if (ch->nentries == MAX_ENTRIES) { /* the oldest go; the ledger keeps everything */
        free(ch->entries[0]);
        memmove(ch->entries, ch->entries + 1, (MAX_ENTRIES - 1) * sizeof *ch->entries);
        ch->nentries--;
    }
    ch->entries = vg_xrealloc(ch->entries, (ch->nentries + 1) * sizeof *ch->entries);
    ch->entries[ch->nentries++] = s;
}

static void cards_free(struct tui_chat *ch)
{
    for (size_t i = 0; i < ch->ncards; i++) {
        free(ch->cards[i].preview);
        free(ch->cards[i].result);
        cJSON_Delete(ch->cards[i].params);
    }
    free(ch->cards);
    ch->cards = NULL;
    ch->ncards = 0;
    cop_suggestions_free(ch->sugg, ch->nsugg);
    ch->sugg = NULL;
    ch->nsugg = 0;
}

static void end_stream(struct tui_chat *ch)
{
    llm_free(ch->st);
    ch->st = NULL;
    cop_turn_clear(&ch->turn);
    ch->recorded = false;
    ch->seen = 0;
}

/* Start over on another case: the old conversation stays in the ledger. */
static void reset(tui *t, struct tui_chat *ch, const char *case_id)
{
    end_stream(ch);
    for (size_t i = 0; i < ch->nentries; i++)
        free(ch->entries[i]);
    free(ch->entries);
    ch->entries = NULL;
    ch->nentries = 0;
    cards_free(ch);
    snprintf(ch->case_id, sizeof ch->case_id, "%s", case_id);
    ch->session[0] = '\0';
    (void)t;
}

static bool record(tui *t, struct tui_chat *ch);

static void chat_free(tui *t, struct tui_chat **chp)
{
    struct tui_chat *ch = *chp;
    if (!ch)
        return;
    /* an answer still streaming at quit is recorded as given up */
    vg_err err = {0};
    if (ch->st && record(t, ch) &&
        cop_turn_fail(t->ws, &ch->turn, "the workstation closed", &err) != VG_OK)
        fprintf(stderr, "vigil: copilot: %s\n", err.msg);
    reset(t, ch, "");
    free(ch);
    *chp = NULL;
}

void tui_chat_free(tui *t)
{
    chat_free(t, &t->chat);
    chat_free(t, &t->gchat);
}

bool tui_chat_busy(const tui *t)
{
    return (t->chat && t->chat->st) || (t->gchat && t->gchat->st);
}

/* ---- drawing ------------------------------------------------------------------------- */

static void wrapped(tui *t, const char *s, int width) { tui_add_text(t, s, 0, 0, width); }

/* Markdown made readable as plain lines, wrapped to width: headings underlined,
 * list marks as bullets, code blocks indented, emphasis marks dropped. */
static void markdown(tui *t, const char *text, int width)
{
    bool code = false;
    const char *bullet = t->ascii ? "*" : "\xe2\x80\xa2";
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        char *l = vg_xstrndup(p, n);
        p += n + (p[n] == '\n');
        if (strncmp(l, "```", 3) == 0) {
            code = !code;
            free(l);
            continue;
        }
        char *out;
        if (code) {
            if (asprintf(&out, "    %s", l) < 0)
                out = vg_xstrdup(l);
        } else {
            /* emphasis: **x** and __x__ lose their marks */
            char *w = l;
            for (char *r = l; *r; r++)
                if (!((r[0] == '*' && r[1] == '*') || (r[0] == '*' && r > l && r[-1] == '*') ||
                      (r[0] == '_' && r[1] == '_') || (r[0] == '_' && r > l && r[-1] == '_')))
                    *w++ = *r;
            *w = '\0';
            const char *h = l + strspn(l, "#");
            if (h > l && *h == ' ') {
                if (asprintf(&out, "%s", h + 1) < 0)
                    out = vg_xstrdup(h + 1);
                tui_add_line(t, out);
                size_t u = strlen(out);
                free(out);
                out = vg_xmalloc(u + 1);
                memset(out, t->ascii ? '-' : '=', u);
                out[u] = '\0';
            } else if ((l[0] == '-' || l[0] == '*' || l[0] == '+') && l[1] == ' ') {
                if (asprintf(&out, "  %s %s", bullet, l + 2) < 0)
                    out = vg_xstrdup(l);
            } else {
                out = vg_xstrdup(l);
            }
        }
        wrapped(t, out, width);
        free(out);
        free(l);
    }
}

static int focused(const struct tui_chat *ch)
{
    for (size_t i = 0; i < ch->ncards; i++)
        if (ch->cards[i].state == COP_PROPOSED)
            return (int)i;
    return -1;
}

/* The transcript, the answer streaming in, the cards and the suggestions. */
static void conversation(tui *t, struct tui_chat *ch, int width)
{
    char line[512];
    for (size_t i = 0; i < ch->nentries; i++) {
        const char *e = ch->entries[i];
        if (e[0] == '>' || e[0] == '!' || e[0] == '/')
            wrapped(t, e, width);
        else
            markdown(t, e, width);
    }
    if (ch->st) {
        char *partial = cop_answer_partial(llm_text(ch->st));
        markdown(t, partial, width);
        free(partial);
        tui_add_line(t, "(streaming... Esc stops)");
    }
    int f = focused(ch);
    for (size_t i = 0; i < ch->ncards; i++) {
        const card *k = &ch->cards[i];
        snprintf(line, sizeof line, "%s proposal %zu [%s] %s: %s", (int)i == f ? ">>" : "  ",
                 i + 1, vg_enum_name(&COP_STATES, k->state), vg_enum_name(&COP_ACTIONS, k->action),
                 k->preview);
        tui_add_line(t, line);
        if (k->result) {
            snprintf(line, sizeof line, "     %s", k->result);
            tui_add_line(t, line);
        }
        if ((int)i == f)
            tui_add_line(t, "     y apply   n cancel   e edit");
    }
    for (size_t i = 0; i < ch->nsugg; i++) {
        bool note = strcmp(ch->sugg[i].type, "note") == 0;
        snprintf(line, sizeof line, "%s suggestion: %s%s%s%s%s", i == 0 ? "a" : " ",
                 note ? "note (your words): \"" : ch->sugg[i].type, note ? "" : " ",
                 ch->sugg[i].value, note ? "\"" : "",
                 ch->sugg[i].defanged ? " (written defanged)" : "");
        tui_add_line(t, line);
    }
}

/* "Copilot: MODEL on URL (ollama)  session S", or that no model is named and what
 * works without one. */
static void model_line(tui *t, const struct tui_chat *ch, const char *what, const char *offline)
{
    const tui_copilot *cp = t->cfg->copilot;
    char line[512];
    if (cp && cp->lc.model && *cp->lc.model) {
        /* a pane that can ask: load libcurl now, so the key that asks does not wait */
        llm_preload();
        snprintf(line, sizeof line, "Copilot%s: %s on %s (%s)%s%s", what, cp->lc.model,
                 cp->lc.url, llm_provider_name(cp->lc.provider),
                 ch->session[0] ? "  session " : "", ch->session);
    } else {
        snprintf(line, sizeof line, "Copilot%s: no model named ([copilot] model in vigil.conf);"
                                    " %s still work", what, offline);
    }
    tui_add_line(t, line);
}

/* ---- proposals waiting for the analyst ------------------------------------------------ */

/* The proposals of the analyst still waiting on a case, less those the conversation
 * shows as cards: items[0..n) are listed, items[0..all) are freed. */
typedef struct waitlist {
    cop_item *items;
    size_t n, all;
} waitlist;

static void waitlist_free(waitlist *w)
{
    cop_items_free(w->items, w->all);
    memset(w, 0, sizeof *w);
}

/* Read the waiting proposals on case_id, oldest first; those that are cards of the
 * conversation on that case go to the end, out of the listed ones. */
static vg_rc waiting(tui *t, const char *case_id, waitlist *w, vg_err *err)
{
    memset(w, 0, sizeof *w);
    vg_rc rc = cop_pending(t->ws, t->actor, case_id, &w->items, &w->all, err);
    if (rc)
        return rc;
    const struct tui_chat *ch = t->chat;
    for (size_t i = 0; i < w->all; i++) {
        bool shown = false;
        for (size_t j = 0; ch && strcmp(ch->case_id, case_id) == 0 && j < ch->ncards; j++)
            shown = shown || strcmp(ch->cards[j].id, w->items[i].id) == 0;
        if (!shown) { /* keep the order: move it down to the listed part */
            cop_item keep = w->items[i];
            memmove(w->items + w->n + 1, w->items + w->n, (i - w->n) * sizeof *w->items);
            w->items[w->n++] = keep;
        }
    }
    return VG_OK;
}

int tui_chat_waiting(tui *t, const char *case_id)
{
    cop_item *items = NULL;
    size_t n = 0;
    vg_err err = {0};
    if (cop_pending(t->ws, t->actor, case_id, &items, &n, &err) != VG_OK)
        return 0;
    cop_items_free(items, n);
    return (int)n;
}

/* Does y, n or e go to the first waiting proposal: the conversation on the case
 * has no card of its own waiting for a decision? */
static bool waiting_first(const tui *t, const char *case_id)
{
    const struct tui_chat *ch = t->chat;
    return !ch || strcmp(ch->case_id, case_id) != 0 || focused(ch) < 0;
}

/* "Waiting for you (2)", then each with who proposed it and what it will change. */
static void waiting_lines(tui *t, const char *case_id, int width)
{
    waitlist w;
    vg_err err = {0};
    char line[768];
    if (waiting(t, case_id, &w, &err) != VG_OK) {
        snprintf(line, sizeof line, "-- proposals waiting for you: %s", err.msg);
        tui_add_line(t, line);
        return;
    }
    if (!w.n) {
        waitlist_free(&w);
        return;
    }
    bool first = waiting_first(t, case_id);
    snprintf(line, sizeof line, "Waiting for you (%zu)%s", w.n,
             first ? ": y apply  n cancel  e edit the first (>>)"
                   : ": y, n and e take them once the conversation's proposals are decided");
    tui_add_line(t, line);
    for (size_t i = 0; i < w.n; i++) {
        const cop_item *it = &w.items[i];
        bool on = first && i == 0;
        snprintf(line, sizeof line, "%s [%.80s] %s", on ? ">>" : "  ", it->model,
                 it->p.preview);
        tui_add_text(t, line, 0, 4, width);
        if (it->result) { /* why the policy held it */
            snprintf(line, sizeof line, "    %s", it->result);
            tui_add_text(t, line, 0, 4, width);
        }
        if (on && it->draft)
            tui_add_text(t, "    y edits it into your words on the status line: Enter applies,"
                          " Esc waits", 0, 4, width);
    }
    tui_add_line(t, "");
    waitlist_free(&w);
}

void tui_chat_tab(tui *t, const vg_case *c)
{
    struct tui_chat *ch = chat(t);
    model_line(t, ch, "", "/note, /ioc, /event, /sev, /status, /assign, /related");
    tui_add_line(t, "c ask  y apply  n cancel  e edit  a add suggestion  Esc stop  /cmd runs"
                    " a : command");
    tui_add_line(t, "");
    waiting_lines(t, c->id, t->cols > 12 ? t->cols - 3 : 10);
    if (strcmp(ch->case_id, c->id) != 0) {
        tui_add_line(t, "(no conversation on this case yet: c asks a question)");
        return;
    }
    conversation(t, ch, t->cols > 12 ? t->cols - 3 : 10);
}

void tui_gpane_build(tui *t)
{
    struct tui_chat *ch = gchat(t);
    model_line(t, ch, " on the open queue", "/related VALUE, /filter, /sort, /help");
    tui_add_line(t, "c ask  y apply  n cancel  e edit  Esc stop, then close  j/k move in the"
                    " queue  /help");
    if (!ch->nentries && !ch->st)
        tui_add_line(t, "(ask about the open cases: which involve a host, what to look at"
                        " first; c asks)");
    conversation(t, ch, t->cols > 12 ? t->cols - 3 : 10);
}

void tui_ledger_tab(tui *t, const vg_case *c)
{
    vg_ledger_entry *e = NULL;
    size_t n = 0;
    vg_err err = {0};
    if (vg_ledger_list(t->ws, c->id, t->actor, NULL, &e, &n, &err) != VG_OK) {
        tui_add_line(t, err.msg);
        return;
    }
    if (!n)
        tui_add_line(t, "(no copilot sessions of yours on this case)");
    const char *session = "";
    for (size_t i = 0; i < n; i++) {
        char line[640], at[32];
        if (strcmp(session, e[i].session_id) != 0) {
            session = e[i].session_id;
            snprintf(line, sizeof line, "session %s, model %.60s", session, e[i].model);
            if (i)
                tui_add_line(t, "");
            tui_add_line(t, line);
        }
        char *what = cop_ledger_summary(&e[i]);
        vg_local_time(e[i].created_at, at, sizeof at);
        snprintf(line, sizeof line, "%3lld %s %-8s %s", (long long)e[i].seq, at,
                 vg_enum_name(&VG_LEDGER_KIND, e[i].kind), what);
        /* wrapped, so that the end of an MCP call (its result's size, a flag, an
         * error) shows at 80 columns too */
        tui_add_text(t, line, 0, 30, t->cols > 12 ? t->cols - 3 : 10);
        free(what);
    }
    vg_ledger_free(e, n);
}

/* Draw the Copilot tab again if it is showing; the view follows the end of the
 * text unless the analyst has scrolled up to read. */
static void redraw(tui *t)
{
    /* the general pane is built as it is drawn; this builds lines and draws
     * nothing, so it may run while $EDITOR owns the terminal */
    if (!tui_in_tab(t, "Copilot"))
        return;
    long bottom = (long)t->nlines - (t->rows - 5);
    bool follow = t->scroll >= bottom;
    tui_case_open(t, t->case_id);
    if (follow)
        tui_case_scroll(t, 1 << 30);
}

/* ---- asking -------------------------------------------------------------------------- */

static void slash(tui *t, struct tui_chat *ch, const char *line)
{
    static const struct { const char *from, *to; } alias[] = {{"sev", "severity"}};
    char cmd[1024];
    const char *w = line + 1;
    size_t n = strcspn(w, " ");
    const char *to = NULL;
    for (size_t i = 0; i < sizeof alias / sizeof *alias; i++)
        if (strlen(alias[i].from) == n && strncmp(alias[i].from, w, n) == 0)
            to = alias[i].to;
    snprintf(cmd, sizeof cmd, "%s%s", to ? to : "", to ? w + n : w);
    say(ch, "%s", line);
    t->msg[0] = '\0';
    tui_dispatch(t, cmd);
    if (t->msg[0])
        say(ch, "-- %s", t->msg);
}

/* The turn has begun: say what the context holds that the analyst must know, and
 * send the request. */
static void launch(tui *t, struct tui_chat *ch)
{
    const tui_copilot *cp = t->cfg->copilot;
    vg_err err = {0};
    if (ch->turn.ctx.flags) {
        char names[128];
        cop_inject_names(ch->turn.ctx.flags, names, sizeof names);
        say(ch, "! the %s data looks like it carries instructions (%s, in %s): nothing from"
                " this answer is applied without you", ch->general ? "queue" : "case", names,
            ch->turn.ctx.flagged_field);
    }
    if (ch->turn.ctx.left_out[0])
        say(ch, "-- %s", ch->turn.ctx.left_out);
    cJSON *schema = ch->general ? cop_queue_answer_schema() : cop_answer_schema();
    vg_rc rc = llm_chat_start(&cp->lc, ch->turn.messages, schema, &ch->st, &err);
    cJSON_Delete(schema);
    if (rc != VG_OK) {
        say(ch, "-- %s", err.msg);
        end_stream(ch);
    }
}

/* Before a turn: refused while an answer streams; the question goes into the
 * transcript; with no model named, the pane says so and what works without one.
 * True when the turn may begin. */
static bool may_ask(tui *t, struct tui_chat *ch, const char *question, const char *works)
{
    if (ch->st) {
        snprintf(t->msg, sizeof t->msg, "an answer is still streaming (Esc stops it)");
        return false;
    }
    say(ch, "> %s", question);
    const tui_copilot *cp = t->cfg->copilot;
    if (cp && cp->lc.model && *cp->lc.model)
        return true;
    say(ch, "-- no model named: set [copilot] model in vigil.conf (man vigil.conf); %s work"
            " without one", works);
    return false;
}

void tui_chat_ask(tui *t, const char *question)
{
    if (t->view != VIEW_CASE) {
        snprintf(t->msg, sizeof t->msg, "open a case first (the copilot answers about one case)");
        return;
    }
    struct tui_chat *ch = chat(t);
    if (ch->st && strcmp(ch->case_id, t->case_id) != 0 && question[0] != '/') {
        snprintf(t->msg, sizeof t->msg, "an answer about another case is still streaming"
                                        " (Esc in its Copilot tab stops it)");
        return;
    }
    if (strcmp(ch->case_id, t->case_id) != 0 && !ch->st)
        reset(t, ch, t->case_id);
    tui_show_tab(t, "Copilot");
    if (question[0] == '/') {
        slash(t, ch, question);
        redraw(t);
        return;
    }
    if (!may_ask(t, ch, question, "/note, /ioc, /event, /sev, /status, /assign, /related")) {
        redraw(t);
        return;
    }
    const tui_copilot *cp = t->cfg->copilot;
    vg_err err = {0};
    if (cop_turn_begin(t->ws, t->case_id, ch->session[0] ? ch->session : NULL, t->actor,
                       cp->lc.model, question, cp->lc.budget, &ch->turn, &err) != VG_OK) {
        say(ch, "-- %s", err.msg);
        cop_turn_clear(&ch->turn);
        redraw(t);
        return;
    }
    launch(t, ch);
    redraw(t);
}

/* The general pane's slash commands: those that need no case run as : commands;
 * a case-bound one says what it needs. */
static void gslash(tui *t, struct tui_chat *ch, const char *line)
{
    static const char *const free_of_case[] = {"filter", "sort", "view", "refresh"};
    char name[32];
    const char *w = line + 1, *rest = w + strcspn(w, " ");
    snprintf(name, sizeof name, "%.*s", (int)(rest - w), w);
    rest += strspn(rest, " ");
    say(ch, "%s", line);
    if (strcmp(name, "help") == 0 || !name[0]) {
        say(ch, "-- here: /related VALUE (the open cases holding a host, user, IP, domain,"
                " hash...: host:ws-12, user:jsmith, 203.0.113.7), /filter QUERY, /sort ORDER,"
                " /view NAME, /help; /note, /ioc, /event, /sev, /status, /assign, /playbook"
                " act on one case: open it (Enter) and use its Copilot tab (c)");
        return;
    }
    if (strcmp(name, "related") == 0) {
        char *res = NULL;
        vg_err err = {0};
        if (cop_related_open(t->ws, *rest ? rest : NULL, &res, &err) != VG_OK)
            say(ch, "-- %s", err.msg);
        else
            say(ch, "-- %s", res);
        free(res);
        return;
    }
    for (size_t i = 0; i < sizeof free_of_case / sizeof *free_of_case; i++)
        if (strcmp(name, free_of_case[i]) == 0) {
            t->msg[0] = '\0';
            tui_dispatch(t, w);
            if (t->msg[0])
                say(ch, "-- %s", t->msg);
            return;
        }
    if (strcmp(name, "sev") == 0 || tui_command_valid(name))
        say(ch, "-- /%s acts on one case and this pane is about the whole queue: open the case"
                " (Enter) and use its Copilot tab (c), or :%s on the selected row", name, name);
    else
        say(ch, "-- unknown command /%s (/help lists what works here)", name);
}

void tui_chat_ask_queue(tui *t, const char *question)
{
    struct tui_chat *ch = gchat(t);
    tui_gpane_open(t, true);
    if (question[0] == '/') {
        gslash(t, ch, question);
        return;
    }
    if (!may_ask(t, ch, question, "/related, /filter, /sort, /help"))
        return;
    const tui_copilot *cp = t->cfg->copilot;
    vg_err err = {0};
    if (cop_turn_begin_queue(t->ws, tui_config_sla(t->cfg), ch->session[0] ? ch->session : NULL,
                             t->actor, cp->lc.model, question, cp->lc.budget, &ch->turn,
                             &err) != VG_OK) {
        say(ch, "-- %s", err.msg);
        cop_turn_clear(&ch->turn);
        return;
    }
    launch(t, ch);
}

/* The prompt goes to the ledger once the request is under way (see vigil ask). */
static bool record(tui *t, struct tui_chat *ch)
{
    vg_err err = {0};
    if (ch->recorded)
        return true;
    if (cop_turn_record(t->ws, &ch->turn, &err) != VG_OK) {
        say(ch, "-- the ledger refused the prompt, so the answer is dropped: %s", err.msg);
        end_stream(ch);
        return false;
    }
    ch->recorded = true;
    memcpy(ch->session, ch->turn.session_id, sizeof ch->session);
    return true;
}

static void finished(tui *t, struct tui_chat *ch, llm_state state)
{
    vg_err err = {0};
    if (!record(t, ch))
        return;
    if (state == LLM_FAILED) {
        say(ch, "-- %s", llm_error(ch->st));
        if (cop_turn_fail(t->ws, &ch->turn, llm_error(ch->st), &err) != VG_OK)
            say(ch, "-- %s", err.msg);
        end_stream(ch);
        return;
    }
    cop_result r;
    if (cop_turn_finish(t->ws, &ch->turn, llm_text(ch->st), t->cfg->copilot->policy, &r,
                        &err) != VG_OK) {
        say(ch, "-- %s", err.msg);
        cop_result_clear(&r);
        end_stream(ch);
        return;
    }
    say(ch, "%s", r.answer.text);
    for (size_t i = 0; i < r.answer.nrejected; i++)
        say(ch, "-- rejected %s", r.answer.rejected[i]);
    cards_free(ch);
    ch->cards = vg_xcalloc(r.nitems ? r.nitems : 1, sizeof *ch->cards);
    for (size_t i = 0; i < r.nitems; i++) {
        card *k = &ch->cards[ch->ncards++];
        memcpy(k->id, r.items[i].id, sizeof k->id);
        k->action = r.items[i].p.action;
        k->state = r.items[i].state;
        k->preview = vg_xstrdup(r.items[i].p.preview);
        k->result = r.items[i].result ? vg_xstrdup(r.items[i].result) : NULL;
        k->params = cJSON_Duplicate(r.items[i].p.params, true);
    }
    ch->sugg = r.suggestions;
    ch->nsugg = r.nsuggestions;
    r.suggestions = NULL;
    r.nsuggestions = 0;
    cop_result_clear(&r);
    end_stream(ch);
    t->counts_stale = true;
    if (ch->general) /* the policy may have applied some on the queue's cases */
        tui_queue_load(t);
}

static void poll_one(tui *t, struct tui_chat *ch)
{
    if (!ch || !ch->st)
        return;
    llm_state state = llm_poll(ch->st, 0);
    size_t len = strlen(llm_text(ch->st));
    if (state == LLM_RUNNING && llm_first_token_ms(ch->st) >= 0 && !record(t, ch)) {
        redraw(t);
        return;
    }
    if (state != LLM_RUNNING)
        finished(t, ch, state);
    if (state != LLM_RUNNING || len != ch->seen) {
        if (ch->st)
            ch->seen = len;
        redraw(t);
    }
}

void tui_chat_poll(tui *t)
{
    poll_one(t, t->chat);
    poll_one(t, t->gchat);
}

bool tui_chat_stop(tui *t)
{
    struct tui_chat *ch = visible(t);
    if (!ch || !ch->st)
        return false;
    vg_err err = {0};
    if (record(t, ch)) {
        if (cop_turn_fail(t->ws, &ch->turn, "stopped by the analyst", &err) != VG_OK)
            say(ch, "-- %s", err.msg);
        end_stream(ch);
    }
    say(ch, "-- stopped: nothing of this answer is kept");
    snprintf(t->msg, sizeof t->msg, "copilot stopped");
    redraw(t);
    return true;
}

/* ---- cards and suggestions ----------------------------------------------------------- */

static void decided(tui *t, struct tui_chat *ch, card *k, vg_rc rc, int state, char *result,
                    const vg_err *err)
{
    free(k->result);
    k->result = rc == VG_OK ? result : vg_xstrdup(err->msg);
    if (rc != VG_OK) {
        free(result);
        /* a refused edit leaves the proposal as it was; a failed write fails it */
        int now = k->state;
        if (cop_proposal_state(t->ws, t->actor, k->id, &now, &(vg_err){0}) == VG_OK)
            k->state = now;
    } else {
        k->state = state;
    }
    snprintf(t->msg, sizeof t->msg, "%.200s", k->result ? k->result : "");
    t->counts_stale = true;
    if (ch->general) /* the change shows in the queue at once */
        tui_queue_load(t);
}

/* y, n or e on the first waiting proposal of the open case (the Copilot tab with no
 * card of the conversation to decide). False when none waits. */
static bool waiting_key(tui *t, char key)
{
    waitlist w;
    vg_err err = {0};
    if (key != 'y' && key != 'n' && key != 'e')
        return false;
    if (waiting(t, t->case_id, &w, &err) != VG_OK) {
        snprintf(t->msg, sizeof t->msg, "%.200s", err.msg);
        return true;
    }
    if (!w.n) {
        waitlist_free(&w);
        return false;
    }
    vg_id id;
    memcpy(id, w.items[0].id, sizeof id);
    char *result = NULL;
    vg_rc rc;
    if (key == 'n') {
        rc = cop_proposal_cancel(t->ws, t->actor, id, &err);
        if (rc == VG_OK)
            result = vg_xstrdup("cancelled");
    } else if (key == 'y' && !w.items[0].draft) {
        rc = cop_proposal_apply(t->ws, t->actor, id, NULL, "analyst", &result, &err);
    } else {
        /* a draft note (y) is edited as text, anything else (e) as its params */
        bool note = key == 'y';
        const char *draft =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(w.items[0].p.params, "text"));
        char *cur = note ? NULL : cJSON_PrintUnformatted(w.items[0].p.params);
        const char *from = note ? (draft ? draft : "") : (cur ? cur : "{}");
        size_t sz = strlen(from) + 4096; /* room to type, and never a cut draft */
        char *text = vg_xmalloc(sz);
        snprintf(text, sz, "%s", from);
        cJSON_free(cur);
        waitlist_free(&w);
        tui_prompt(t, note ? "your note> " : "edit params> ", text, sz);
        if (!text[0]) { /* Esc (or nothing left): it waits as it was */
            free(text);
            snprintf(t->msg, sizeof t->msg, "nothing applied: the proposal is still waiting");
            redraw(t);
            return true;
        }
        cJSON *edited = note ? cJSON_CreateObject() : cJSON_Parse(text);
        if (note)
            cJSON_AddStringToObject(edited, "text", text);
        free(text);
        if (!cJSON_IsObject(edited)) {
            cJSON_Delete(edited);
            snprintf(t->msg, sizeof t->msg, "not a JSON object: nothing applied");
            redraw(t);
            return true;
        }
        rc = cop_proposal_apply(t->ws, t->actor, id, edited, "analyst", &result, &err);
        cJSON_Delete(edited);
    }
    waitlist_free(&w);
    snprintf(t->msg, sizeof t->msg, "%.200s", rc == VG_OK ? (result ? result : "") : err.msg);
    free(result);
    t->counts_stale = true;
    redraw(t);
    return true;
}

bool tui_chat_key(tui *t, char key)
{
    struct tui_chat *ch = visible(t);
    /* the Copilot tab with no conversation's card to decide: the waiting proposals */
    if (tui_in_tab(t, "Copilot") && waiting_first(t, t->case_id) && waiting_key(t, key))
        return true;
    if (!ch)
        return false;
    vg_err err = {0};
    if (key == 'a' && !ch->general) {
        if (!ch->nsugg)
            return false;
        cop_suggestion s = ch->sugg[0];
        bool event = strcmp(s.type, "event") == 0, note = strcmp(s.type, "note") == 0;
        vg_op *op = event  ? vg_op_event_add(t->case_id, vg_now_ms(), "copilot", s.value)
                    : note ? vg_op_note_add(t->case_id, s.value)
                           : vg_op_artifact_add(t->case_id, s.type, s.value);
        if (!event && !note)
            cJSON_AddStringToObject(op->payload, "source", "copilot");
        vg_rc rc = vg_apply(t->ws, op, &err);
        vg_op_free(op);
        snprintf(t->msg, sizeof t->msg, "%s%.200s", rc == VG_OK ? "added: " : "",
                 rc == VG_OK ? s.value : err.msg);
        if (rc == VG_OK) {
            free(s.value);
            memmove(ch->sugg, ch->sugg + 1, (ch->nsugg - 1) * sizeof *ch->sugg);
            ch->nsugg--;
        }
        t->counts_stale = true;
        redraw(t);
        return true;
    }
    int f = focused(ch);
    if (f < 0)
        return false;
    card *k = &ch->cards[f];
    char *result = NULL;
    vg_rc rc;
    if (key == 'y') {
        rc = cop_proposal_apply(t->ws, t->actor, k->id, NULL, "analyst", &result, &err);
        decided(t, ch, k, rc, COP_APPLIED, result, &err);
    } else if (key == 'n') {
        rc = cop_proposal_cancel(t->ws, t->actor, k->id, &err);
        decided(t, ch, k, rc, COP_CANCELLED, vg_xstrdup("cancelled"), &err);
    } else if (key == 'e') {
        char *cur = cJSON_PrintUnformatted(k->params);
        char text[1024];
        vg_id id;
        memcpy(id, k->id, sizeof id);
        snprintf(text, sizeof text, "%s", cur ? cur : "{}");
        cJSON_free(cur);
        tui_prompt(t, "edit params> ", text, sizeof text);
        /* the stream kept going while the analyst typed: find the card again */
        k = NULL;
        for (size_t i = 0; i < ch->ncards; i++)
            if (strcmp(ch->cards[i].id, id) == 0)
                k = &ch->cards[i];
        if (!text[0])
            return true; /* Esc: nothing changes */
        cJSON *edited = cJSON_Parse(text);
        if (!edited) {
            snprintf(t->msg, sizeof t->msg, "not a JSON object: nothing applied");
            return true;
        }
        rc = cop_proposal_apply(t->ws, t->actor, id, edited, "analyst", &result, &err);
        cJSON_Delete(edited);
        if (k)
            decided(t, ch, k, rc, COP_APPLIED, result, &err);
        else
            free(result);
    } else {
        return false;
    }
    redraw(t);
    return true;
}
