/*
 * tui.h — the curses workstation: what the command table and the views share.
 *
 * One command table (commands.c) drives the key bindings, the `:` line and the
 * help overlay (DESIGN.md rule 3): a binding maps a key name to a command string,
 * as tmux does, so rebinding is the same mechanism as the defaults. Views read
 * the workspace through windowed queries and write only through vg_apply.
 */
#ifndef VIGIL_TUI_H
#define VIGIL_TUI_H

#include <stdbool.h>
#include <stddef.h>

#include "copilot.h"
#include "llm.h"
#include "vigil/query.h"
#include "vigil/remote.h"
#include "vigil/ws.h"

typedef enum {
    VIEW_QUEUE,
    VIEW_CASE,
    VIEW_DASH,
    VIEW_INBOX,
    VIEW_ALERT,
    VIEW_GRAPH,
    VIEW_HANDOFF
} tui_view;

enum { THEME_DARK, THEME_LIGHT, THEME_MONO };

/* Default time to resolve by severity (info, low, medium, high, critical); 0: none. */
#define TUI_SLA_DEFAULTS {0, 7 * 86400000LL, 3 * 86400000LL, 86400000LL, 4 * 3600000LL}

/* The copilot's provider and policy, resolved from the config, the environment and
 * the secrets file (config_copilot in src/cli). lc.model NULL: none named. */
typedef struct tui_copilot {
    llm_config lc;
    const cop_policy *policy;
    char *url, *key; /* owned: what lc points to */
} tui_copilot;

/* What the config file says about the workstation (vigil.conf(5)). */
#define TUI_MAX_KEYS 64
#define TUI_MAX_VIEWS 32
typedef struct tui_config {
    int theme;
    bool bell; /* ring when a new critical case arrives */
    struct { char key[16]; char command[256]; } keys[TUI_MAX_KEYS];
    int nkeys;
    struct { char name[32]; char query[256]; } views[TUI_MAX_VIEWS];
    int nviews;
    double start_s; /* monotonic seconds when the process started (for VIGIL_TUI_TRACE) */
    int64_t sla_ms[5]; /* time to resolve by severity (info..critical); 0: none */
    bool sla_set;      /* sla_ms holds the config's values, not the defaults */
    const char *playbooks; /* the playbook library's directory (NULL: none) */
    const char *history;   /* the : line's history file ($XDG_STATE_HOME; NULL: none kept) */
    /* the case templates' directories, the analyst's first (NULL: none) */
    const char *templates[2];
    const tui_copilot *copilot; /* NULL: no copilot */
    /* The team the workspace syncs with (NULL: none, the header says local) and the
     * token for it (NULL: none in the secrets file; nothing syncs). */
    const vg_remote *remote;
    const char *token;
} tui_config;

typedef struct tui {
    vg_ws *ws;
    const char *actor;
    bool ascii, color;
    int rows, cols;
    tui_view view;
    struct tui_help *help; /* the ? overlay (help.c) while it is open */
    bool quit;
    double key_at;      /* when the key being handled was read (a prompt's: its Enter) */
    char msg[256];      /* one line of feedback in the status line */
    vg_counts counts;   /* the header's counts, read again when the data changes */
    long long mentions_unread; /* the header's "@N": mentions after the read marker */
    char handoff_since[32];    /* the handoff view's --since ("8h") */
    vg_id *handoff_case;       /* the handoff view: each line's case ("" for none) */
    int handoff_sel;           /* its selected line (Enter opens that case) */
    bool counts_stale;
    /* the queue: a window of rows after `after` (none: from the top) */
    vg_case_list page;
    vg_case_cursor after;
    bool has_after;
    vg_case_query query; /* the / filter (empty: every case) */
    char query_text[256];
    char view_name[64];  /* the saved view the filter is, by :view ("" when typed) */
    char **dash_q;       /* the dashboard: each line's filter of the cases it counts, or NULL */
    size_t ndash_q;
    int dash_sel;        /* the selected line (-1: none) */
    /* while a prompt is open: told what is typed after each key (NULL: nobody) */
    void (*live)(struct tui *t, const char *text);
    const tui_config *cfg;
    char history[32][256]; /* the : line's last commands, oldest first */
    int nhistory;
    long long critical_seen; /* for the bell: critical open cases at the last look */
    int sel;
    vg_id *marked;     /* cases marked with space for a bulk action */
    size_t nmarked;
    /* the inbox: a page of alerts after `inbox_after` */
    vg_alert *alerts;
    size_t nalerts;
    bool alerts_more;
    vg_alert_cursor inbox_after;
    bool inbox_has_after;
    int asel;
    int inbox_status;    /* the alerts listed: VG_ALERT_STATUS new (the inbox) or dismissed */
    char inbox_search[128]; /* what / last searched in the inbox, for n and N */
    vg_id *undo;         /* the alerts the last :dismiss dismissed (u brings them back) */
    size_t nundo;
    vg_id alert_id; /* the alert open in VIEW_ALERT */
    vg_id alert_case; /* the case it was opened from (its Alerts tab); "": the inbox */
    struct tui_alerts *alerts_tab; /* the Alerts tab's rows and cursor (alerts.c) */
    struct tui_timeline *timeline; /* the Timeline tab's rows and cursor (timeline.c) */
    /* the open case */
    vg_id case_id;
    int tab;
    bool by_recorded;   /* the timeline's order */
    char **lines;       /* the tab's text: lines made safe and wrapped to the width when
                         * added (tui.c add_text), rows a cursor selects made safe when drawn */
    size_t nlines;
    int scroll;
    char search[128];   /* text searched in a text view (/ there), for n and N */
    /* the Tasks tab and the playbook picker (tasks.c) */
    int hl_line;        /* 1 + the line of a text view drawn selected; 0: none */
    int task_row;       /* the selected row of the Tasks tab (a phase or a task) */
    int *task_rows;     /* each row: a task's index, or -1 - phase for a phase */
    size_t ntask_rows;
    int task_line0;     /* the line of row 0 */
    unsigned folded;    /* folded phases, a bit per VG_PHASE index */
    vg_id task_case;    /* the case they belong to (another case starts afresh) */
    struct tui_picker *picker; /* open over the case when not NULL */
    struct tui_graph *graph; /* the graph view's state (graph_view.c), NULL until opened */
    struct tui_chat *chat; /* the Copilot tab's conversation (chat.c) */
    int waiting;           /* proposals waiting for the analyst on the open case, read
                            * when its view is built (the tab strip shows them) */
    struct tui_chat *gchat; /* the general pane's, about the open queue (chat.c) */
    bool gpane;            /* the general pane shares the queue's screen */
    struct tui_sync *sync; /* the team sync's thread (sync.c), NULL without one */
} tui;

/* Run the workstation on an open workspace until the analyst quits. Returns the
 * process exit code. The terminal is restored on every exit path. */
/* Whether this terminal ($TERM) can hold the workstation: terminfo knows it and it
 * can move the cursor. false with why filled in ("TERM=dumb cannot move the
 * cursor"): vigil then prints the queue as it does into a pipe. */
bool tui_terminal_ok(char *why, size_t whysz);

int tui_run(vg_ws *ws, const char *actor, bool ascii, const tui_config *cfg,
            const char *log_path);

/* commands.c */
void tui_set_config(const tui_config *cfg); /* the analyst's bindings and views */
bool tui_key_valid(const char *key);         /* a key name bindings can use */
bool tui_command_valid(const char *command); /* its first word is a command */
int tui_dispatch(tui *t, const char *command); /* run a command string */
const char *tui_binding(const char *key);       /* the command a key runs, or NULL */
/* The help overlay's lines (bindings, then commands, every one of them), each a
 * new string, in a new array of *n the caller frees. */
char **tui_help_lines(size_t *n);

/* help.c: the ? overlay, a view module. It takes every key while open: the command
 * the key is bound to (NULL: none) scrolls it or closes it (tui_help_key is true
 * then, always). */
void tui_help_toggle(tui *t);
void tui_help_close(tui *t);
void tui_help_draw(tui *t);
bool tui_help_key(tui *t, const char *command);
/* Complete the : line in place (size linesz): a command's name, or the first word
 * after it from what that command takes (statuses, resolutions, severities, orders,
 * saved views, analysts, ...), to the candidates' longest common start. Returns how
 * many there are; when more than one, list (size listsz) names them. */
size_t tui_complete_line(tui *t, char *line, size_t linesz, char *list, size_t listsz);

/* tui.c, for the commands */
void tui_queue_load(tui *t);
/* Open or close the general copilot pane under the queue (the queue's window
 * shrinks to make room, and is read again). */
void tui_gpane_open(tui *t, bool open);
/* The SLA targets per severity: the config's [sla], else (cfg NULL too) the
 * defaults. */
const int64_t *tui_config_sla(const tui_config *cfg);
/* Filter the queue with the / language ("" clears it); false with t->msg on error. */
bool tui_queue_filter(tui *t, const char *q);
/* Edit a line on the status line after a prompt (":" or "/"), starting from what
 * out holds: true on Enter, false (and "") on Esc. t->live, when set, is told the
 * line after each key. */
bool tui_prompt(tui *t, const char *prompt, char *out, size_t outsz);
void tui_queue_move(tui *t, int delta);
void tui_queue_ends(tui *t, bool bottom);
void tui_case_open(tui *t, const char *case_id);
void tui_case_tab(tui *t, int delta);
void tui_case_scroll(tui *t, int delta);
/* In a text view: scroll to the next (dir 1) or previous (-1) line holding
 * t->search, starting after (or before) the top line; false when there is none. */
bool tui_search_step(tui *t, int dir);
void tui_dash_open(tui *t);
void tui_inbox_open(tui *t);
void tui_inbox_move(tui *t, int delta);
/* The inbox (or the dismissed alerts, status a VG_ALERT_STATUS index) from its top. */
void tui_inbox_show(tui *t, int status);
/* The first or the last alert of the list (G: the oldest). */
void tui_inbox_ends(tui *t, bool bottom);
/* The next (dir 1) or previous (-1) alert after the selected one whose title, rule,
 * source or entities hold t->inbox_search, round past the end; false when none. */
bool tui_inbox_find(tui *t, int dir);
void tui_alert_open(tui *t);
/* The alert an inbox command applies to: the open one, else the selected row. */
const char *tui_current_alert(tui *t);
/* The case a write command applies to: the open one, else the selected row. */
const char *tui_current_case(tui *t);
/* Append a line (unsafe data; made safe when drawn) to the open text view. */
void tui_add_line(tui *t, const char *s);
/* Is the case view showing the tab named name? Open that tab of the open case. */
bool tui_in_tab(const tui *t, const char *name);
void tui_show_tab(tui *t, const char *name);

/* chat.c: the Copilot and Ledger tabs. A question streams while the analyst goes
 * on working: the main loop calls tui_chat_poll on every wake, and waits at most
 * TUI_CHAT_TICK_MS while a stream runs. */
#define TUI_CHAT_TICK_MS 30
void tui_chat_tab(tui *t, const vg_case *c);
void tui_ledger_tab(tui *t, const vg_case *c);
/* How many proposals wait for the analyst's decision on case_id (an agent's through
 * vigil mcp, or a model's): what the Copilot tab lists and y, n, e decide there. */
int tui_chat_waiting(tui *t, const char *case_id);
/* Ask about the open case ("/cmd ..." runs a : command instead, offline too). */
void tui_chat_ask(tui *t, const char *question);
/* The general pane: ask about the open queue, opening the pane under the queue
 * ("/related VALUE", "/filter ..." and "/help" run without a model; a case-bound
 * slash command says it needs a case). */
void tui_chat_ask_queue(tui *t, const char *question);
/* Is the general pane on screen (the queue with the pane open)? Its lines, built
 * into the text view's lines (the queue's screen has no other use for them). */
bool tui_gpane_shown(const tui *t);
void tui_gpane_build(tui *t);
bool tui_chat_busy(const tui *t);
void tui_chat_poll(tui *t);
/* Stop the running stream of the pane on screen (Esc); false when none runs. */
bool tui_chat_stop(tui *t);
/* Decide the focused proposal of the pane on screen (the Copilot tab or the
 * general pane): 'y' apply, 'n' cancel, 'e' edit then apply; 'a' takes the first
 * suggestion (a case's only). In the Copilot tab, when the conversation has no card
 * to decide, y, n and e take the first proposal waiting on the case (y on an agent's
 * draft note edits its text first). False when the pane has none to act on. */
bool tui_chat_key(tui *t, char key);
void tui_chat_free(tui *t);
bool tui_is_marked(const tui *t, const char *case_id);
/* Suspend curses, run $EDITOR (else vi) on a new temporary file, read what was
 * written (at most 1 MiB) into a fresh string; NULL and t->msg when nothing. While
 * the editor runs, copilot streams are still read (tui_chat_poll on the tick), so
 * an answer completes behind it; nothing is drawn until it returns. */
char *tui_edit_text(tui *t);
/* The id of row n (1-based, as numbered) of the open case's timeline, whether it is
 * starred and whether it is an alert (else an event); false when there is none. */
bool tui_timeline_row(tui *t, int n, vg_id out, bool *starred, bool *is_alert);
/* The open case's tab ("" outside a case); switch to the tab named name. */
const char *tui_tab_name(const tui *t);
void tui_case_tab_named(tui *t, const char *name);
/* Draw data text at (y, x), made safe and cut to cols columns. */
void tui_put_text(tui *t, int y, int x, int cols, const char *s, bool pad);
/* Add data text to the text view, made safe, each of its lines wrapped at spaces
 * to width columns (0: the screen's), starting indent columns in, the pieces after
 * a line's first under its own leading spaces and hang columns further (a member of
 * a raw event goes on under itself, a timeline row under its summary).
 * Nothing is cut: what is longer than the screen goes on below, and a view is built
 * again at a new width. */
void tui_add_text(tui *t, const char *s, int indent, int hang, int width);
/* Scroll a text view so that its lines [first, end) are on screen (top: from the
 * start), for a row cursor; and a cursor moved delta rows among n, kept in them. */
void tui_follow(tui *t, int first, int end, bool top);
int tui_row_step(int sel, int delta, size_t n);
/* A row a cursor selects (an alert, a handoff item): one line whatever its length,
 * made safe and cut when drawn. */
void tui_add_row(tui *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The alert detail (its raw event laid out), opened from the case from_case's
 * Alerts tab (Esc goes back there) or from the inbox (from_case NULL or ""). */
void tui_alert_show(tui *t, const char *id, const char *from_case);

/* alerts.c: a case's Alerts tab, a view module (its rows and cursor are its own). */
void tui_alerts_tab(tui *t, const vg_case *c); /* the tab's lines */
bool tui_alerts_active(const tui *t);          /* the Alerts tab is on screen */
void tui_alerts_move(tui *t, int delta);       /* the cursor, delta rows */
bool tui_alerts_open(tui *t);                  /* Enter: the selected alert's detail */
void tui_alerts_free(tui *t);

/* timeline.c: a case's Timeline tab, a view module with a row cursor of its own. */
void tui_timeline_tab(tui *t, const vg_case *c);
bool tui_timeline_active(const tui *t);
void tui_timeline_move(tui *t, int delta);
bool tui_timeline_open(tui *t); /* Enter: what the selected row stands for */
void tui_timeline_free(tui *t);

/* The dashboard's drill-down: a cursor over its lines that count cases, and Enter
 * the queue filtered to them (tui.c). */
void tui_dash_move(tui *t, int delta);
bool tui_dash_open_selected(tui *t);

/* tasks.c: the Tasks tab (phases with progress bars, folding, a cursor, Space
 * ticks) and the playbook picker with its preview; writes go through the door. */

void tui_tasks_build(tui *t, const vg_case *c);
bool tui_tasks_active(const tui *t);        /* the Tasks tab is showing */
void tui_tasks_move(tui *t, int delta);
int tui_task_toggle(tui *t);                /* tick/untick the task, fold a phase */
int tui_task_fold(tui *t);
/* The key bindings of the Tasks tab (Space, Enter, a), before the global ones. */
const char *tui_tasks_binding(const tui *t, const char *key);
/* Open the picker over the current case, or apply the playbook named id. */
int tui_playbook(tui *t, const char *id);
void tui_picker_key(tui *t, const char *key); /* the picker takes every key */
void tui_picker_draw(tui *t);
void tui_tasks_free(tui *t);
/* Write an entry in the selected task's log (text NULL or "": in the editor). */
int tui_task_log(tui *t, const char *text);

/* The handoff view (tui.c): what changed since since_text (NULL: 8h) for the
 * analyst, grouped, newest first, with every unread mention; opening it marks
 * the mentions read. The header shows "@N" unread mentions. */
void tui_handoff_open(tui *t, const char *since_text);
/* Move the handoff view's selection over the lines that name a case (j/k, g/G),
 * scrolling to keep it on screen; the case of the selected line (NULL: none). */
void tui_handoff_move(tui *t, int delta);
const char *tui_handoff_case(const tui *t);
/* t->msg: done, and a warning naming each @name in text that no user of the
 * workspace has (the write is made all the same). */
void tui_mention_msg(tui *t, const char *text, const char *done);

/* sync.c: the team sync on a thread of its own with a workspace handle of its own
 * on the same file; the loop polls tui_sync_fd and calls tui_sync_check on every
 * wake, so that a local write is pushed at once. */
typedef struct tui_sync tui_sync;
/* Start syncing the workspace file at path with r as actor, with token (copied).
 * NULL with msg saying why when it cannot start. */
tui_sync *tui_sync_start(const char *path, const char *actor, const vg_remote *r,
                         const char *token, char *msg, size_t msgsz);
/* End the round in flight at once, join the thread, free; NULL is fine. */
void tui_sync_stop(tui_sync *s);
/* Readable when the thread has news (a round began or ended); -1 for NULL. */
int tui_sync_fd(const tui_sync *s);
/* After tui_sync_fd woke the loop: take the news. True with msg set when a round
 * failed in a new way (offline, refused): the whole reason, for the status line. */
bool tui_sync_woke(tui_sync *s, char *msg, size_t msgsz);
/* After any wake: if ws (the loop's handle) holds ops of the remote's user that the
 * round in flight does not push, start a round that does, now. NULL is fine. */
void tui_sync_check(tui_sync *s, vg_ws *ws);
/* The header's state: "team: synced 3s ago", "team: syncing", "team: 4 to push,
 * offline since 14:02", "team: read-only", "team: refused (HTTP 401)". */
void tui_sync_text(tui_sync *s, char *out, size_t outsz);

/* tui.c, for the graph view: the header, breadcrumbs and status line; the case tabs */
void tui_frame(tui *t, const char *crumbs, const char *keys);
int tui_sev_attr(const tui *t, int sev); /* a severity's colour and weight */
void tui_draw_tabs(tui *t);
/* The case tab index of the Graph tab. */
int tui_graph_tab(void);

/* graph_view.c: the investigation graph of a case (its Graph tab) or of the whole
 * workspace (case_id NULL). */
void tui_graph_open(tui *t, const char *case_id);
void tui_graph_draw(tui *t);
/* Run a command in the graph view: 1 handled (result in t->msg), 0 not a graph
 * command (the caller runs it as usual). */
int tui_graph_command(tui *t, int argc, char **argv);
/* Keys of the graph view only ("c" folds there, and asks the copilot elsewhere); NULL
 * when the key is not one of them or the graph is not on screen. */
const char *tui_graph_binding(const tui *t, const char *key);
void tui_graph_close(tui *t);

#endif
