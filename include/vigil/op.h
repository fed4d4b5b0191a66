/*
 * op.h — ops, and the one door through which every write passes (DESIGN.md rule 2).
 *
 * An op is a small fact ("case.set severity=high on 01J..."). vg_apply validates it,
 * merges it into the entity tables, leaves the timeline event a person would expect
 * and appends it to the hash-chained op log, all in one SQLite transaction. The TUI,
 * the CLI, the copilot, importers and sync all write this way; nothing else writes
 * the entity tables.
 *
 * A new local op has hlc == 0: vg_apply stamps its id, clock, origin and actor, and
 * checks it against the current state (the case must exist, a close needs a
 * resolution, ...). An op that arrives already stamped (sync, or a generator that
 * writes history such as the demo) is merged: creates and adds are idempotent by
 * id, sets are last-writer-wins per field by (hlc, origin), removals are tombstones.
 * Stamped ops must arrive in causal order (a case's create before its notes), which
 * the sync protocol guarantees.
 *
 * Op kinds and payloads (JSON objects; target is the entity id):
 *   case.create    {ref?, title, severity?, description?, tlp?, pap?, assignee?,
 *                   tags?[], techniques?[], fields?{NAME: value}}   target: new case id;
 *                   status is new. fields: custom field values; a local op's are
 *                   checked and every definition's default is filled in, and, when
 *                   the op carries fields at all (an analyst's case, not
 *                   correlation's), a required field with no value and no default
 *                   refuses the case.
 *                   (a later status is a case.set, so the timeline shows it)
 *   case.set       {field, value, resolution? (status=closed), old?}
 *                   field "field.NAME" sets custom field NAME (vigil/fields.h): value
 *                   its text (a local op's checked against the definition and made
 *                   canonical: a wrong type, an enum value not in the list, an
 *                   unknown field are refused naming it), or null to clear it (not a
 *                   required field's); LWW per (case, NAME); a received op's value is
 *                   kept as its author stored it. Timeline "field NAME OLD → NEW".
 *   case.renumber  {ref, old?}   ref: a whole number from 1; the case must exist.
 *                   Gives the case a new ref (vigil/sync.h: a lease's ref replacing
 *                   the one the case had before its workspace joined a team, or a
 *                   provisional one), last writer wins by (hlc, origin) like a
 *                   case.set field ("ref"); a timeline row "case renumbered #OLD →
 *                   #N". Made only by vg_refs_lease, on the replica that created
 *                   the case, before the case is pushed.
 *   case.merge     {into, ref?, into_ref?}   target: the case merged (the source)
 *                   Moves everything on the source (alerts, artifacts, tasks, notes,
 *                   timeline rows, evidence, copilot sessions) to the case `into` and closes the
 *                   source, resolution duplicate; cases.merged_into then names where
 *                   its rows are, and every later write for it (an op naming the
 *                   source's case, from any replica, at any clock) is applied to that
 *                   case instead, the payload unchanged (apply.c, live_case). Where a
 *                   merged case's rows live is a function of the set of merges, not
 *                   their order (apply.c, the rules above h_case_merge): chains
 *                   resolve to their last case, and concurrent merges of one case
 *                   into two, or into each other, end on the same case everywhere.
 *                   Artifacts of one value combine (sightings add up, first/last seen
 *                   widen, IOC and the stricter TLP win, presence by the later clock).
 *                   A status set for a merged case keeps its clock and is not
 *                   written; a local one is refused. ref and into_ref, filled by
 *                   vg_apply for a local op, are the refs the author saw, for the
 *                   target's timeline row "merged #REF into this case by USER".
 *                   Refused: a case into itself (any op); for a local op, a source
 *                   merged already, a target that is merged (merge into its target
 *                   instead) or closed. No unmerge: moved rows are not told apart.
 *   note.add       {case, body}                                 target: new note id
 *   artifact.add   {case, type, value, is_ioc?, tlp?, source?, seen?}  target: new id
 *   artifact.remove{case, type, value}                          target: artifact id
 *   task.add       {case, phase, title, description?, assignee?, status?, playbook?,
 *                   mandatory?}
 *   task.set       {case, field, value, title?, old?}           target: task id
 *   task.log       {case, text, title?}                         target: task id
 *                   one entry of the task's log (TheHive's task logs): the op's id
 *                   is the entry's id, its actor the author, its clock the time; the
 *                   task must be on the case. The text is kept whole (up to 1 MiB);
 *                   a timeline row "task 'TITLE' log by ACTOR: first line". Adds are
 *                   idempotent by id, so replicas converge in any causal order.
 *                   `@user` in the text mentions that analyst (vigil/handoff.h).
 *   event.add      {case, occurred_at, kind?, summary, source?, technique?, tactic?}
 *   event.set      {case, field: "starred", value}              target: event id
 *   alert.add      {source, source_ref?, rule?, title, severity?, event_time,
 *                   first_seen?, last_seen?, count?, case?, entities?{},
 *                   techniques?[], raw?{}}                       target: new alert id
 *                   A repeat of (source, source_ref) merges into the alert there
 *                   (counts add up). An alert is its own timeline row. With case
 *                   and artifacts: true, the alert brings its entities to the case
 *                   as artifacts (source alert, seen at event_time), those the case
 *                   does not hold yet (at most 200): correlation's rule 1.
 *   alert.import   {alerts: [{id, <an alert.add payload>}, ...]}  target: the op's id
 *                   a batch of alerts, one op and one hash for all of them, each
 *                   merged exactly as its alert.add would be (dedup, counts, case,
 *                   artifacts), recorded at the op's time. A local alert.add applied
 *                   inside a batch joins the batch's alert.import (vg_apply), so
 *                   every importer writes this way; an element that fails validation
 *                   is not added, and a stamped alert.import with a bad element is
 *                   refused whole. Stamped with part_of: ID and part_at: [places],
 *                   it is a part of the alert op ID (vigil/bundle.h: a bundle's
 *                   cases' elements of it, at those places of the original): each
 *                   place's two effects (its alert's row, what it brings to its
 *                   case) happen once on a replica, whichever of the original and
 *                   its parts arrive, in any order (apply.c, parts_*).
 *   alert.set      {field: status, value, case?, artifacts?, reason?} or {field: starred,
 *                  value: bool}; reason (up to 1000 bytes) says why a dismissal was made
 *                   linked with artifacts: true brings the alert's entities to the
 *                   case as alert.add does
 *                                                                target: alert id
 *   playbook.import{playbook: {the file form, vigil-playbook(5)}, origin?}  target: new id
 *                   a workspace copy; local: the id must not be in the workspace yet
 *   playbook.set   {playbook, origin?}  replaces a workspace copy (local: it must exist)
 *   playbook.remove{id}                 removes a workspace copy (a tombstone)
 *                   import, set and remove are one LWW register per playbook id.
 *   playbook.apply {case, playbook, name, version?, added, skipped}  target: new id
 *                   the record of applying a playbook (its tasks are task.add ops
 *                   with playbook: ID, in the same transaction); a timeline row
 *                   with source "playbook:ID"
 *   ledger.add     {case?, user, seq, kind, model?, content}    target: session id
 *                   one copilot ledger entry (vigil/ledger.h); case absent for a
 *                   general session. user must be the op's actor, for a local and a
 *                   stamped op alike, and the session's owner on that scope. seq is
 *                   filled by vg_apply for a local op; a stamped op's must follow its
 *                   session's last entry (sessions are single-writer). The entry's
 *                   created_at is the op's clock; vg_apply chains its hash per
 *                   session. Stamped only, {..., prev_hash, hash} (hex): an entry
 *                   written before the ledger was kept in ops, stored with the hashes
 *                   it had (ledger_into_ops makes these on migration). No timeline row.
 *   field.define   {name, type, values?[], required?, default?, description?}
 *                   target: the op's own id. Defines (or redefines) custom field name
 *                   (vigil/fields.h): type string|number|date|enum|bool, values an
 *                   enum's, default checked against the type. One LWW register per
 *                   name by (hlc, origin) with field.remove; values already stored
 *                   are not checked again. No timeline row.
 *   field.remove   {name}   the register's tombstone (local: it must be defined); the
 *                   cases' values stay, hidden, and show again if it is redefined.
 *                   Definitions are the workspace's, like its playbooks: sync
 *                   carries them, bundles do not (a bundle's values arrive as text).
 *   evidence.add   {case, name, type, size, sha256, sha1, md5, description?,
 *                   stored: "copy"|"ref", path? (stored ref only)}   target: new id
 *                   an item of the case's evidence register (vigil/evidence.h): the
 *                   file's hashes (lowercase hex), size, type (a word of a-z0-9, from
 *                   its first bytes) and original name; its content is kept beside the workspace by
 *                   SHA-256 (copy) or stays at path (ref). The item's first custody
 *                   entry (action add, by the op's actor at its time) and a timeline
 *                   row "evidence added by ...". Idempotent by id.
 *   evidence.custody {case, action, sha256?, result?, detail?}   target: the item
 *                   one entry of the item's chain of custody, its id the op's: action
 *                   access (evidence get), export, transfer (a bundle exported or
 *                   imported, content fetched), verify; sha256 the hash seen; result
 *                   ok, changed, missing or absent; detail where to or from whom. The
 *                   item must be on the case. No timeline row.
 * Fields marked "old" or "title" are filled by vg_apply for local ops so that the
 * timeline text of an op depends on the op alone, identically on every replica.
 */
#ifndef VIGIL_OP_H
#define VIGIL_OP_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "vigil/buf.h"
#include "vigil/err.h"
#include "vigil/id.h"
#include "vigil/ws.h"

typedef struct vg_op {
    vg_id id;
    uint64_t hlc;        /* 0: a new local op, stamped by vg_apply */
    vg_id origin;        /* replica that made it */
    char *actor;         /* owned; NULL until stamped */
    char *tenant;        /* owned; NULL means "" */
    char kind[24];
    vg_id target;
    cJSON *payload;      /* owned; an object */
    /* owned; the payload's canonical text when it came as text (a stamped op read
     * from a log): stored and hashed as it is, so a replica keeps the author's bytes
     * (64-bit numbers in raw events included). NULL: vg_apply prints payload. */
    char *text;
    int64_t seq;         /* set by vg_apply: its place in this replica's log */
    /* Set by vg_apply for alert.add: the alert it landed on (target, or the alert a
     * repeat folded into) and whether it was a repeat. */
    vg_id into;
    bool folded;
} vg_op;

/* A new unstamped op with an empty payload object. target may be NULL (a fresh
 * ULID is made, as for creates). The caller frees it with vg_op_free. */
vg_op *vg_op_new(const char *kind, const char *target);
void vg_op_free(vg_op *op);

/* Apply one op (see the top of this file). Inside a batch it joins the batch's
 * transaction (a local alert.add joins the batch's alert.import op, which is
 * appended to the log before the next other op or at commit; op->seq is then the
 * seq that op will have); otherwise it commits on its own. On failure nothing is written
 * and err says which field is wrong. An op already in the log (same id) is a
 * no-op that succeeds. */
VG_WUR vg_rc vg_apply(vg_ws *ws, vg_op *op, vg_err *err);
/* Apply ops[0..n) in one batch: all of them, or (at the first that fails, err
 * saying why) none. NULL entries are skipped; the ops stay the caller's (the door
 * may have added to their payloads, as vg_apply does). Outside a batch only. */
VG_WUR vg_rc vg_apply_all(vg_ws *ws, vg_op *const *ops, size_t n, vg_err *err);

/* Whether a new alert.add carries a record its alert holds already: the same
 * (source, source_ref) and the same raw event, byte for byte, counted before (the
 * door would fold it in without counting it). What an import skips as "already
 * imported", so that importing a file again writes nothing. */
VG_WUR vg_rc vg_alert_known(vg_ws *ws, const vg_op *op, bool *known, vg_err *err);

/* A batch applies many ops in one transaction (imports, the demo). An op that
 * fails validation inside a batch writes nothing of its own; the caller decides
 * whether to go on or roll the whole batch back. */
VG_WUR vg_rc vg_batch_begin(vg_ws *ws, vg_err *err);
VG_WUR vg_rc vg_batch_commit(vg_ws *ws, vg_err *err);
void vg_batch_rollback(vg_ws *ws);

/* Constructors for the common ops, so frontends do not spell payloads by hand.
 * Each returns a new unstamped op the caller applies and frees. */
vg_op *vg_op_case_create(const char *title, const char *severity, const char *description);
vg_op *vg_op_case_set(const char *case_id, const char *field, const char *value);
vg_op *vg_op_case_close(const char *case_id, const char *resolution);
/* A status, with the resolution a close needs (NULL for none). */
vg_op *vg_op_case_status(const char *case_id, const char *status, const char *resolution);
/* The whole tag list of a case (a set: what was there and is not listed goes). */
vg_op *vg_op_case_tags(const char *case_id, const char *const *tags, size_t n);
/* An artifact with the IOC flag (what STIX and MISP export as an indicator), at tlp
 * (NULL: the door's default). */
vg_op *vg_op_indicator_add(const char *case_id, const char *type, const char *value,
                           const char *tlp);
/* Merge case_id into into_id (op.h: case.merge). */
vg_op *vg_op_case_merge(const char *case_id, const char *into_id);
vg_op *vg_op_note_add(const char *case_id, const char *body);
vg_op *vg_op_artifact_add(const char *case_id, const char *type, const char *value);
vg_op *vg_op_artifact_remove(const char *case_id, const char *type, const char *value);
vg_op *vg_op_task_add(const char *case_id, const char *phase, const char *title);
vg_op *vg_op_task_set(const char *case_id, const char *task_id, const char *field,
                      const char *value);
/* A task log entry (task.log): text is kept whole. */
vg_op *vg_op_task_log(const char *case_id, const char *task_id, const char *text);
vg_op *vg_op_event_add(const char *case_id, int64_t occurred_at, const char *kind,
                       const char *summary);
/* A ledger entry (kind a VG_LEDGER_KIND name; case_id NULL for a general
 * session, model NULL or "" for none); vg_ledger_append applies it for you. */
vg_op *vg_op_ledger_add(const char *case_id, const char *session_id, const char *user,
                        const char *kind, const char *model, const char *content);

/* Link an alert to a case, bringing its entities as the case's artifacts (those
 * the case does not hold yet; the door records its choice in the op). */
vg_op *vg_op_alert_link(const char *alert_id, const char *case_id);
/* Dismiss an alert, saying why (reason NULL or "": nobody said). */
vg_op *vg_op_alert_dismiss(const char *alert_id, const char *reason);
/* A dismissed alert back in the inbox (status new). */
vg_op *vg_op_alert_restore(const char *alert_id);
/* Star a timeline row of case_id (or take the star away): an alert on the case
 * (alert.set) or an event (event.set), by the row's id. */
vg_op *vg_op_row_star(const char *case_id, const char *row_id, bool is_alert, bool on);
/* Open a case from an inbox alert (its title and severity) and link the alert to
 * it, in one transaction through the door; the new case's id goes to case_out. */
VG_WUR vg_rc vg_alert_promote(vg_ws *ws, const char *alert_id, vg_id case_out, vg_err *err);

/* Each op of ws's log after after_seq, in log order, as a stamped op (its payload
 * parsed and its text the author's bytes; op->seq its place in this log) handed
 * to fn, which must not keep it; fn's error stops the walk and is returned. */
VG_WUR vg_rc vg_ops_each(vg_ws *ws, int64_t after_seq, vg_rc (*fn)(void *ud, vg_op *op),
                         void *ud, vg_err *err);
/* The same, each op's payload left unparsed (an empty object): its text alone. */
VG_WUR vg_rc vg_ops_each_text(vg_ws *ws, int64_t after_seq, vg_rc (*fn)(void *ud, vg_op *op),
                              void *ud, vg_err *err);
/* What a new replica does on its first sync: every op of the workspace at
 * src_path applied to ws through the door, in src's order (ops ws holds already
 * are skipped), in batches. *ops counts the ops read, *applied those written. */
VG_WUR vg_rc vg_replay(vg_ws *ws, const char *src_path, int64_t *ops, int64_t *applied,
                       vg_err *err);

/* The fields "case set" accepts, for messages: "title, description, ...". */
extern const char *const VG_CASE_FIELDS;
extern const char *const VG_TASK_FIELDS;

/* The wire form of an op (wire.c): one JSON line, its payload the given canonical
 * text byte for byte, with the sender's seq for it when seq > 0. Appended to out
 * (whose cap bounds a message). */
VG_WUR vg_rc vg_op_wire(const vg_op *op, const char *payload, size_t len, int64_t seq, vg_buf *out,
                        vg_err *err);
/* An op read from its wire form, stamped, its text the payload's bytes as sent;
 * *seq the sender's seq (0 when absent; seq may be NULL). VG_EINVAL naming the
 * member for anything but a well-formed op. */
VG_WUR vg_rc vg_op_unwire(const char *line, size_t len, vg_op **out, int64_t *seq, vg_err *err);

/* The id of the op at seq in this log ("" and VG_ENOTFOUND when there is none). */
VG_WUR vg_rc vg_op_at(vg_ws *ws, int64_t seq, char id[27], vg_err *err);
/* The newest seq of the log (0 when empty), as the file holds it now. */
int64_t vg_ws_last_seq(const vg_ws *ws);

/* Is an op with this id in the log? */
VG_WUR vg_rc vg_op_known(vg_ws *ws, const char *id, bool *known, vg_err *err);

/* What vg_ops_receive did with a message. */
typedef struct vg_received {
    int64_t lines;               /* read */
    int64_t applied, known;      /* written to the log; already in it (or changing nothing) */
    int64_t first_local, last_local; /* the seqs the applied ops got here (0: none) */
    int64_t last_seq;            /* the sender's seq of the last op that had one */
    char last_id[27];            /* ... and that op's id ("" when none had one) */
} vg_received;
/* Apply a message of ops in wire form, one a line, in order, through the door,
 * inside the caller's batch (which the caller rolls back on failure: a message is
 * taken whole or not at all). check, if not NULL, is asked about each op this
 * workspace does not hold yet (an op it holds is skipped whoever made it), and may
 * refuse it. Errors name the line and the op. */
VG_WUR vg_rc vg_ops_receive(vg_ws *ws, const char *body, size_t len,
                            vg_rc (*check)(void *ud, const vg_op *op, vg_err *err), void *ud,
                            vg_received *r, vg_err *err);

/* The ops after seq `after`, in wire form, appended to out: about max bytes of them
 * (at least one when there is one), each with its seq here if with_seq. *upto is
 * the seq of the last one (after, when none), *n how many. */
VG_WUR vg_rc vg_ops_page(vg_ws *ws, int64_t after, size_t max, bool with_seq, vg_buf *out,
                         int64_t *upto, int64_t *n, vg_err *err);
/* A page for a replica to pull (with seqs), leaving out the ops whose origin is
 * skip_origin (the replica's own, which it holds; NULL: none): about max bytes,
 * and at most 20,000 ops looked at. *upto and upto_id are the last op looked at,
 * sent or not (after, and "", when none), where the replica's cursor moves. */
VG_WUR vg_rc vg_ops_page_for(vg_ws *ws, int64_t after, size_t max, const char *skip_origin,
                             vg_buf *out, int64_t *upto, char upto_id[27], int64_t *n,
                             vg_err *err);

#endif
