/*
 * copilot.h — the investigation copilot's safety layer (DESIGN.md "Copilot").
 *
 * What a frontend (the CLI's `vigil ask`, the TUI's Copilot tab) needs around a
 * language model that it talks to through src/net: the context of a case fenced as
 * data, a detector for instructions planted in that data, the closed set of
 * actions a model may propose and their strict schema, the autonomy policy, the
 * analyst's own note text, IOC suggestions, and the ledger entries of each turn.
 * The model never writes: a proposal is applied once, by id, through vg_apply,
 * after the analyst says yes (or when the policy allows `auto` for a low-impact
 * action on a turn the detector did not flag, with no value that only the fenced
 * data holds). This library uses the core and
 * libunistring, never curses or the network.
 */
#ifndef VIGIL_COPILOT_H
#define VIGIL_COPILOT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/err.h"
#include "vigil/id.h"
#include "vigil/ledger.h"
#include "vigil/model.h"
#include "vigil/ws.h"

/* ---- text ----------------------------------------------------------------------- */

/* s made fit for a prompt: invalid UTF-8 repaired, NFKC-normalised (libunistring),
 * C0/C1 controls, bidi controls and zero-width/invisible characters removed
 * (newlines kept when multiline, else turned into spaces; tabs become spaces), cut
 * to at most cap bytes at a character boundary with " [cut]" appended. Fresh. */
char *cop_clean(const char *s, size_t cap, bool multiline);

/* A rough token count for budgeting: one token per four bytes, rounded up. */
size_t cop_tokens(size_t bytes);

/* ---- injection detector ------------------------------------------------------------ */

enum {
    COP_INJ_IGNORE = 1 << 0,  /* "ignore previous instructions" and kin */
    COP_INJ_ROLE = 1 << 1,    /* role markers: "system:", <|im_start|>, [INST] */
    COP_INJ_PERSONA = 1 << 2, /* "you are now", "act as", "developer mode" */
    COP_INJ_ACTION = 1 << 3,  /* asks to close, dismiss, mark false positive */
    COP_INJ_REVEAL = 1 << 4,  /* asks to reveal the prompt or instructions */
    COP_INJ_CONTACT = 1 << 5, /* asks to send or contact an address */
    COP_INJ_CONCEAL = 1 << 6, /* asks to keep something from the analyst */
    COP_INJ_STEER = 1 << 7,   /* dictates the answer ("in your reply, say...") */
};

/* Scan text as NFKC, leetspeak-folded words, and any base64 it carries (decoded,
 * two levels deep). Returns the COP_INJ_* reasons found (0 = clean). */
int cop_inject_scan(const char *text);
/* The same for text that has already been through cop_clean. */
int cop_inject_scan_clean(const char *clean);
/* "ignore-instructions, close/dismiss" for reasons into out. */
void cop_inject_names(int reasons, char *out, size_t outsz);

/* ---- context -------------------------------------------------------------------------- */

#define COP_FIELD_CAP 600      /* bytes of one title, summary, value */
#define COP_DESC_CAP 2000      /* bytes of the case description */
#define COP_ANSWER_RESERVE 1024 /* tokens of the budget kept for the answer */

#define COP_QUEUE_FIELD_CAP 200 /* bytes of a title or artifact value in the queue */
#define COP_QUEUE_ARTIFACTS 5    /* artifacts shown per case of the queue */
#define COP_QUEUE_TITLE_SHORT 60 /* bytes of the title a general proposal's preview names */

/* A case that went into a queue context: what a general proposal may name, and
 * what its preview shows of it (cleaned). */
typedef struct cop_queue_case {
    vg_id id;
    int64_t ref;
    int severity, status;
    char assignee[80];
    char title[COP_QUEUE_TITLE_SHORT + 8];
} cop_queue_case;

typedef struct cop_context {
    char nonce[33];       /* fresh, 32 hex characters */
    char *text;           /* the fenced block, nonce lines included */
    size_t tokens;        /* estimate of text */
    int64_t rows_total, rows_in, artifacts_total, artifacts_in, tasks_total, tasks_in;
    char left_out[256];   /* "left out: 9812 timeline rows (oldest, least severe)" or "" */
    int flags;            /* COP_INJ_* found in the fenced data */
    char flagged_field[128]; /* where the first flag was found ("alert title", ...) */
    /* the general pane's context: the open queue */
    bool queue;
    int64_t cases_total, cases_in; /* open cases, and how many went in */
    cop_queue_case *cases;         /* those that went in (ncases == cases_in) */
    size_t ncases;
} cop_context;

/* Build the context of case_id for a prompt of budget tokens: header, tasks,
 * artifacts, then timeline rows most severe and newest first, until the budget
 * (less the answer reserve and the system rule) is spent; what did not fit is
 * counted in left_out. Every field is cleaned and capped, and the nonce is removed
 * from the data wherever it appears. */
VG_WUR vg_rc cop_context_build(vg_ws *ws, const char *case_id, size_t budget, cop_context *out,
                               vg_err *err);
/* The same with a given nonce instead of a fresh one: for tests only. */
VG_WUR vg_rc cop_context_build_with(vg_ws *ws, const char *case_id, size_t budget,
                                    const char *nonce, cop_context *out, vg_err *err);
void cop_context_clear(cop_context *c);

/* Build the general pane's context: the open queue, most severe then newest
 * first, one entry per case (ref, severity, status, assignee, alert count, SLA due
 * by sla_ms, the target per severity — NULL or 0: none — title and its top
 * COP_QUEUE_ARTIFACTS artifacts), as many whole cases as budget tokens hold; the
 * rest are counted in left_out. Fields are cleaned, capped, nonce-free and scanned
 * like a case's; out->cases lists the cases that went in. */
VG_WUR vg_rc cop_queue_context_build(vg_ws *ws, const int64_t *sla_ms, size_t budget,
                                     cop_context *out, vg_err *err);
/* The same with a given nonce: for tests only. */
VG_WUR vg_rc cop_queue_context_build_with(vg_ws *ws, const int64_t *sla_ms, size_t budget,
                                          const char *nonce, cop_context *out, vg_err *err);
/* The case of a queue context with this ref, or NULL when it did not go in. */
const cop_queue_case *cop_queue_find(const cop_context *c, int64_t ref);

/* The standing system rule for a context fenced with nonce (fresh string); the
 * general pane's (queue true) asks every proposal to name its case. */
char *cop_system_rule(const char *nonce);
char *cop_queue_system_rule(const char *nonce);

/* ---- actions, proposals, policy ------------------------------------------------------- */

enum {
    COP_ADD_ARTIFACT, COP_ADD_NOTE, COP_ADD_EVENT, COP_SET_SEVERITY, COP_SET_STATUS,
    COP_ASSIGN, COP_APPLY_PLAYBOOK, COP_COMPLETE_TASK, COP_FIND_RELATED, COP__NACTIONS
};
extern const vg_enum COP_ACTIONS; /* add_artifact, add_note, ... */

enum { COP_REVIEW, COP_AUTO, COP_REJECT };
extern const vg_enum COP_MODES; /* review, auto, reject */

typedef struct cop_policy {
    int mode[COP__NACTIONS];
} cop_policy;

/* Every action `review`. */
void cop_policy_default(cop_policy *p);
/* Set one action's mode ("any" or "*" for all actions); `auto` is refused for every
 * action but add_artifact, add_event and find_related. */
VG_WUR vg_rc cop_policy_set(cop_policy *p, const char *action, const char *mode, vg_err *err);
/* What happens to a proposal of action: the mode, except that a flagged turn never
 * auto-applies (auto becomes review). */
int cop_policy_decide(const cop_policy *p, int action, bool flagged);
/* Does a proposal carry a value (an artifact's value, an indicator in or the whole
 * of an event's summary) that the fenced data holds and the analyst's words do
 * not? Then `auto` must not apply it: *why says which value (data, analyst: the
 * context text and the session's questions; a value counts as held by a text when
 * it is there as written, refanged, or with its letters and digits in a row).
 * Read-only actions carry none. */
bool cop_untrusted_value(int action, const cJSON *params, const char *data, const char *analyst,
                         char *why, size_t whysz);

/* The JSON schema of the structured answer ({answer, proposals[]}), for Ollama's
 * `format` and OpenAI's response_format. Fresh. The general pane's requires a
 * "case" in every proposal. */
cJSON *cop_answer_schema(void);
cJSON *cop_queue_answer_schema(void);

typedef struct cop_proposal {
    int action;
    cJSON *params;     /* validated and normalised */
    char *preview;     /* what will change, one line (in the general pane: on which case) */
    vg_id case_id;     /* the general pane: the case it acts on; "" in a case's pane */
    int64_t case_ref;
} cop_proposal;

typedef struct cop_answer {
    char *text;               /* the answer to show */
    bool structured;          /* the reply was the JSON asked for */
    cop_proposal *props;
    size_t nprops;
    char **rejected;          /* "proposal 2: unknown type 'delete_case'" */
    size_t nrejected;
} cop_answer;

/* Parse a model's reply. A reply that is not a JSON object is plain text with no
 * proposals. Each proposal is checked against the closed set and its schema;
 * unknown types, extra or missing fields and bad values are rejected and reported
 * in out->rejected, never taken. add_note takes its text from note (the analyst's
 * words, cop_note_text) and is rejected when there is none or it is placeholder
 * text. c (may be NULL) gives the current values for previews. */
void cop_answer_parse(const char *reply, const char *note, const struct vg_case *c,
                      cop_answer *out);
/* The same for the general pane: each proposal must also name, in "case", a case
 * that went into the queue context (its ref: "#12", "12" or 12); one that names
 * none, or one the model was not shown, is rejected and reported. The accepted
 * ones carry the case's id and ref, and their previews name it. */
void cop_answer_parse_queue(const char *reply, const char *note, const cop_context *queue,
                            cop_answer *out);
void cop_answer_clear(cop_answer *a);
/* The answer so far of a reply still streaming in: the decoded "answer" string of
 * a JSON reply (as much of it as has arrived, never half a character or escape),
 * or the reply itself when it is not JSON. Fresh. */
char *cop_answer_partial(const char *raw);

/* Check and normalise params for action (the same rules as above; used again when
 * the analyst edits a proposal). On success *out is a fresh normalised object. */
VG_WUR vg_rc cop_params_check(int action, const cJSON *params, const char *note, cJSON **out,
                              vg_err *err);
/* One line saying what applying action with params will change. Fresh. */
char *cop_preview(int action, const cJSON *params, const struct vg_case *c);

/* ---- notes and suggestions ------------------------------------------------------------ */

/* The note text in an analyst's message, parsed deterministically: "add a note:
 * X", "note: X", "add a comment: X", "log that X", "note that X", "record that X",
 * or a quoted string in a message that asks for a note. Fresh, or NULL when the
 * message holds none. */
char *cop_note_text(const char *msg);
/* Is text placeholder rather than an analyst's words ("Added activity log",
 * "note added", "n/a", ...)? */
bool cop_note_placeholder(const char *text);

typedef struct cop_suggestion {
    char type[16];   /* artifact type, "event" or "note" */
    char *value;     /* normalised value, the event summary, or the note text */
    bool defanged;   /* it was written defanged */
} cop_suggestion;

/* IOCs in text (defanged forms included) that are not already artifacts of
 * case_id, appended to *items (deduplicated); declarative findings (a sentence
 * with an indicator and a time of day) become "event" suggestions. */
VG_WUR vg_rc cop_suggest(vg_ws *ws, const char *case_id, const char *text,
                         cop_suggestion **items, size_t *n, vg_err *err);
/* The analyst's note request (note from cop_note_text; NULL: none) as a "note"
 * suggestion in their words, appended to *items unless it is placeholder text. */
void cop_suggest_note(const char *note, cop_suggestion **items, size_t *n);
void cop_suggestions_free(cop_suggestion *s, size_t n);

/* ---- turns and the ledger ------------------------------------------------------------- */

enum { COP_PROPOSED, COP_APPLIED, COP_CANCELLED, COP_FAILED };
extern const vg_enum COP_STATES; /* proposed, applied, cancelled, failed */

typedef struct cop_turn {
    vg_id case_id, session_id; /* case_id "": a general turn */
    char *user, *model;
    char *question;   /* the analyst's words, cleaned */
    char *analyst;    /* every question of the session so far, this one last */
    char *note;       /* note text parsed from them, or NULL */
    cop_context ctx;
    cJSON *messages;  /* [{role, content}] for the provider */
    int64_t started_ms;
    int64_t context_us; /* building the context took this long */
    bool recorded;      /* the prompt is in the ledger */
} cop_turn;

/* Start a turn: check the session (NULL starts a new one; another user's or
 * another case's is refused), build the context and the messages. */
VG_WUR vg_rc cop_turn_begin(vg_ws *ws, const char *case_id, const char *session_id,
                            const char *user, const char *model, const char *question,
                            size_t budget, cop_turn *t, vg_err *err);
/* Start a general turn, about the open queue (cop_queue_context_build, with the
 * SLA targets sla_ms): its session belongs to no case (a case's session is
 * refused), t->case_id is "" and t->ctx.queue is set. Finishing it parses the
 * reply with cop_answer_parse_queue, so every proposal names a case of the queue,
 * and gathers no suggestions (there is no case to add them to). */
VG_WUR vg_rc cop_turn_begin_queue(vg_ws *ws, const int64_t *sla_ms, const char *session_id,
                                  const char *user, const char *model, const char *question,
                                  size_t budget, cop_turn *t, vg_err *err);
/* Append the prompt (the full text of the messages and its BLAKE2b hash) to the
 * ledger. A frontend may do it once the request is under way (vigil ask does it
 * when the first token is shown), so the write does not delay the first token;
 * it must give up the request when this fails, and cop_turn_finish and
 * cop_turn_fail refuse a turn whose prompt was not recorded. */
VG_WUR vg_rc cop_turn_record(vg_ws *ws, cop_turn *t, vg_err *err);

typedef struct cop_item {
    vg_id id;          /* the proposal id */
    cop_proposal p;    /* params and preview (owned) */
    int state;         /* COP_STATES */
    int mode;          /* what the policy decided */
    char *result;      /* what applying did, why it failed, or why auto held it */
    char *model;       /* cop_pending: who proposed it (the session's model or client) */
    bool draft;        /* a note an agent drafted: applied only with the analyst's text */
} cop_item;

typedef struct cop_result {
    cop_answer answer;
    cop_item *items;
    size_t nitems;
    cop_suggestion *suggestions;
    size_t nsuggestions;
    bool flagged;
} cop_result;

/* Finish a turn with the model's reply: append the response, parse it, append
 * each proposal with its id, apply those the policy marks auto (never on a flagged
 * turn, never one whose value only the fenced data holds: cop_untrusted_value;
 * those are held for review with the reason in result and in the ledger's "held"),
 * cancel those it marks reject, and gather suggestions (the analyst's note
 * request first, unless the model proposed that note). */
VG_WUR vg_rc cop_turn_finish(vg_ws *ws, cop_turn *t, const char *reply, const cop_policy *pol,
                             cop_result *out, vg_err *err);
/* A proposal that comes from no model turn: an agent's, through `vigil mcp` (via
 * "mcp"). params are checked as a model's are (cop_params_check; an add_note's
 * text is the agent's draft, applied only with the analyst's words), recorded in
 * session_id on case_id (a case's session of user, model naming the client) and
 * decided by pol like a turn's: flagged (the agent was shown flagged data) never
 * auto-applies, nor does a value that data (what the agent was shown) holds. *out
 * gets the item (cop_items_free with n 1, or free its members). */
VG_WUR vg_rc cop_propose(vg_ws *ws, const char *case_id, const char *session_id,
                         const char *user, const char *model, const char *via, int action,
                         const cJSON *params, const cop_policy *pol, bool flagged,
                         const char *data, cop_item *out, vg_err *err);
/* The proposals of user still waiting for a decision on case_id (its sessions' and
 * the general pane's naming it; NULL: every case), oldest first, each with its
 * proposer in model. Freed with cop_items_free. */
VG_WUR vg_rc cop_pending(vg_ws *ws, const char *user, const char *case_id, cop_item **items,
                         size_t *n, vg_err *err);
void cop_items_free(cop_item *items, size_t n);
/* Record that the turn failed (the provider's error) in the ledger. */
VG_WUR vg_rc cop_turn_fail(vg_ws *ws, cop_turn *t, const char *what, vg_err *err);
void cop_turn_clear(cop_turn *t);
void cop_result_clear(cop_result *r);

/* Apply proposal_id once, through vg_apply, as user (who must own its session),
 * on its case (a general proposal's: the case it names),
 * with params replaced by edited when not NULL (checked again); by is "analyst",
 * "edited" or "auto". A proposal already decided is refused. The decision
 * (applied or failed) is appended to the ledger in the same transaction as the
 * write. *result (may be NULL) gets a fresh line saying what happened. */
/* Where apply_playbook finds library playbooks (workspace copies come first); set
 * once by the frontend (the CLI's paths_playbooks()). NULL: workspace copies only. */
void cop_set_playbook_library(const char *dir);
VG_WUR vg_rc cop_proposal_apply(vg_ws *ws, const char *user, const char *proposal_id,
                                const cJSON *edited, const char *by, char **result,
                                vg_err *err);
/* One line saying what a ledger entry holds, for a listing or a replay: the
 * question, answer, proposal (id, type, mode, preview), decision or error, with
 * latency, flags and what was left out. Fresh; data, to be made safe to show. */
char *cop_ledger_summary(const vg_ledger_entry *e);

/* Cancel a proposal that is still proposed. */
VG_WUR vg_rc cop_proposal_cancel(vg_ws *ws, const char *user, const char *proposal_id,
                                 vg_err *err);
/* Other cases that share an artifact with case_id (only value's, when not NULL):
 * "203.0.113.7 on #12, #40; ..." or a line saying there are none. Read-only, the
 * find_related action and the TUI's :related. *result is fresh. */
VG_WUR vg_rc cop_related(vg_ws *ws, const char *case_id, const char *value, char **result,
                         vg_err *err);
/* The open cases that hold value, for the general pane's /related: an indicator
 * (IP, domain, URL, e-mail, hash, CVE) by its kind, a typed term of the queue
 * language (host:ws-12, user:jsmith), or else a host name. "hostname ws-12 is on
 * open cases #3, #7" or "... is on no open case"; read-only. *result is fresh. */
VG_WUR vg_rc cop_related_open(vg_ws *ws, const char *value, char **result, vg_err *err);
/* The case a proposal of user's acts on (for a caller that names the case too):
 * its session's case, or the one a general proposal names; *general (may be NULL)
 * says whether it came from a general session. */
VG_WUR vg_rc cop_proposal_case(vg_ws *ws, const char *user, const char *proposal_id,
                               vg_id case_out, bool *general, vg_err *err);
/* The state of a proposal (COP_STATES). */
VG_WUR vg_rc cop_proposal_state(vg_ws *ws, const char *user, const char *proposal_id, int *state,
                                vg_err *err);

#endif
