/*
 * handoff.h — case work between analysts: task logs, @mentions and the shift
 * handoff, all read from what the op log already holds (no bookkeeping of their
 * own beyond the task log's projection).
 *
 * - A task log entry is a task.log op (op.h); task_logs is its projection.
 * - `@user` in a note or a task log entry mentions that analyst. A mention is
 *   derived, never stored: the notes and task log entries whose text names the
 *   reader, read when asked. They reach the mentioned analyst's replica with the
 *   notes themselves, on the next sync.
 * - Known users are the actors of the workspace's op log (every teammate who ever
 *   wrote reaches a team replica through sync), the workspace's own actor, its
 *   remote's user, the assignees of cases and tasks, and the team's roster: the
 *   users its server listed (GET /v1/users) at the last sync that asked, kept in
 *   this replica (vg_roster_put). The server is never asked while the analyst
 *   types: a note is checked against what the replica holds.
 * - The handoff lists, for an incoming analyst, what changed since a time: read
 *   from the op log's case.create, case.set and task.set ops, the ledger's open
 *   proposals, the cases' SLA targets and the mentions.
 */
#ifndef VIGIL_HANDOFF_H
#define VIGIL_HANDOFF_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/err.h"
#include "vigil/id.h"
#include "vigil/ws.h"

/* ---- task logs ---- */

typedef struct vg_task_log {
    vg_id id, task_id, case_id;
    char *author, *body;
    int64_t created_at;
} vg_task_log;

/* The log entries of a case's tasks (task_id NULL) or of one task, per task in the
 * order they were written. Fresh array; vg_task_logs_free. */
VG_WUR vg_rc vg_task_logs_of_case(vg_ws *ws, const char *case_id, const char *task_id,
                                  vg_task_log **out, size_t *n, vg_err *err);
void vg_task_logs_free(vg_task_log *l, size_t n);
/* {id, task, author, at, text} */
cJSON *vg_task_log_json(const vg_task_log *l);

/* ---- mentions ---- */

/* Call fn for each mention in text, in order: an '@' at the start or after a
 * character that cannot be part of an address (not a letter, digit, '.', '_', '-',
 * '+' or '@'), followed by a name of letters, digits, '_', '.' and '-' that starts
 * with a letter, digit or '_', at most 64 bytes, a trailing '.' or '-' left out.
 * So "@bob," names bob, "email@host" and "@@x" name nobody. Returns how many. */
size_t vg_mentions_each(const char *text, void (*fn)(void *ud, const char *name, size_t len),
                        void *ud);
/* Does text mention user (ASCII case ignored)? */
bool vg_mentions_user(const char *text, const char *user);

/* The users this workspace knows (see the top of this file), sorted, unique.
 * Fresh; vg_strings_free. */
VG_WUR vg_rc vg_users_known(vg_ws *ws, char ***out, size_t *n, vg_err *err);
/* The names text mentions that are not known users, each once, in order. */
VG_WUR vg_rc vg_mentions_unknown(vg_ws *ws, const char *text, char ***out, size_t *n, vg_err *err);
void vg_strings_free(char **s, size_t n);

/* The team's users as the server of remote listed them at `at` (ms): a meta row
 * 'roster:REMOTE' of this replica ({"at": ms, "users": [names]}), not an op: the
 * server is the authority on who is in the team, and every replica asks it.
 * Names that are not [a-z0-9][a-z0-9._-]{0,63} are left out; at most 10,000. */
VG_WUR vg_rc vg_roster_put(vg_ws *ws, const char *remote, const char *const *names, size_t n,
                           int64_t at, vg_err *err);
/* When the roster of remote was last put (0: never). */
VG_WUR vg_rc vg_roster_at(vg_ws *ws, const char *remote, int64_t *at, vg_err *err);

typedef struct vg_mention {
    vg_id id, case_id; /* the note's or log entry's id */
    int64_t case_ref;
    bool task_log;    /* a task log entry (task_title says which task), else a note */
    char *task_title; /* "" for a note */
    char *case_title;
    char *author, *body;
    int64_t at;
} vg_mention;

/* The notes and task log entries written at or after since that mention user,
 * written by someone else, newest first. Fresh array; vg_mentions_free. */
VG_WUR vg_rc vg_mentions_of(vg_ws *ws, const char *user, int64_t since, vg_mention **out, size_t *n,
                            vg_err *err);
void vg_mentions_free(vg_mention *m, size_t n);
cJSON *vg_mention_json(const vg_mention *m);

/* The read marker: the time of the newest mention of user this replica has shown
 * (0 when none). A local meta row ('mentions-seen:USER'), not an op: what one
 * analyst has looked at on one machine is no fact about a case, would fill the
 * shared log with a write per glance, and must not mark a teammate's replica. */
VG_WUR vg_rc vg_mentions_seen(vg_ws *ws, const char *user, int64_t *at, vg_err *err);
/* Move the marker to at (never back). */
VG_WUR vg_rc vg_mentions_mark(vg_ws *ws, const char *user, int64_t at, vg_err *err);

/* ---- the handoff ---- */

typedef enum vg_handoff_kind {
    VG_HO_MENTION,    /* a note or task log mentioning the reader */
    VG_HO_SLA,        /* an open case due within the window, or overdue */
    VG_HO_PROPOSAL,   /* a copilot proposal of the reader's waiting for a decision */
    VG_HO_ESCALATED,  /* severity raised */
    VG_HO_REASSIGNED, /* assignee changed */
    VG_HO_CLOSED,     /* case closed */
    VG_HO_TASK_DONE,  /* task status set to done */
    VG_HO_OPENED,     /* case created (often the longest group: last) */
    VG_HO__N
} vg_handoff_kind;

/* "mentions", "sla", "proposals", "escalated", "reassigned", "closed", "tasks_done",
 * "opened" (JSON keys) and their headings ("Mentions of you", ...). */
extern const char *const VG_HANDOFF_KEYS[VG_HO__N];
extern const char *const VG_HANDOFF_TITLES[VG_HO__N];

typedef struct vg_handoff_item {
    int kind;         /* vg_handoff_kind */
    int64_t at;       /* when (SLA: when it is due) */
    vg_id case_id;    /* "" for a general proposal */
    int64_t case_ref; /* 0 when none */
    char *actor;      /* who did it ("" for SLA) */
    char *text;       /* one line: what happened ("medium → high", the case's title...) */
} vg_handoff_item;

typedef struct vg_handoff_opts {
    const char *reader;     /* whose mentions and proposals */
    int64_t since, now;     /* ms; since <= now */
    const int64_t *sla_ms;  /* target per severity (0: none), 5 of them; NULL: no SLA group */
    int64_t sla_window;     /* SLA: due before now + this (ms) */
    int64_t mentions_since; /* mentions from this time (0: since), so that a view can
                             * list every unread one, however old */
} vg_handoff_opts;

/* What changed since o->since, grouped in vg_handoff_kind order, newest first in
 * each group (SLA: soonest due first). Fresh array; vg_handoff_free. */
VG_WUR vg_rc vg_handoff(vg_ws *ws, const vg_handoff_opts *o, vg_handoff_item **out, size_t *n,
                        vg_err *err);
void vg_handoff_free(vg_handoff_item *items, size_t n);
/* {since, now, reader, groups: {KEY: [{at, case?, ref?, actor, text}]}} */
cJSON *vg_handoff_json(const vg_handoff_opts *o, const vg_handoff_item *items, size_t n);


#endif
