/*
 * ledger.h — the investigation ledger: what the copilot was asked, what it answered,
 * what it proposed and what the analyst decided, kept on the case (DESIGN.md
 * "An auditable agent").
 *
 * The ledger is append-only and hash-chained: each entry's hash (BLAKE2b-256)
 * covers the previous entry's hash and every field of the entry, so an edited or
 * inserted row breaks the chain and vg_ledger_verify names it. Every entry is a
 * ledger.add op (vigil/op.h) applied by the one door, so the ledger travels in the
 * op log with everything else and the table is the ops' projection: a deleted op
 * breaks the op log's chain (vg_audit_verify), and a session with fewer or more
 * entries than the op log has ops for it is named by vg_ledger_verify.
 *
 * Chains: an entry the door writes is chained within its session (its previous
 * entry is the one of seq - 1), so replicas that receive sessions interleaved in
 * any order agree on every hash. Entries written before the ledger was kept in ops
 * keep the hashes they had, chained over that replica's whole ledger in id order;
 * vg_ledger_verify checks each entry by the rule it was made by (ledger.c).
 *
 * Entries belong to a copilot session, and a session belongs to one user on one
 * case, or to one user's general pane about the open queue (no case: case_id
 * NULL, "" in an entry read back): appending to or reading another user's session,
 * or a case's session as a general one, is refused (the lesson of the cross-tenant
 * session leak), by the door for ops from other replicas too.
 */
#ifndef VIGIL_LEDGER_H
#define VIGIL_LEDGER_H

#include <stdbool.h>
#include <stdint.h>

#include "vigil/err.h"
#include "vigil/id.h"
#include "vigil/model.h"
#include "vigil/ws.h"

enum { VG_LEDGER_PROMPT, VG_LEDGER_RESPONSE, VG_LEDGER_PROPOSAL, VG_LEDGER_DECISION,
       VG_LEDGER_ERROR };
extern const vg_enum VG_LEDGER_KIND; /* prompt, response, proposal, decision, error */

typedef struct vg_ledger_entry {
    int64_t id;      /* its place in this replica's ledger */
    vg_id case_id, session_id; /* case_id "": a general session's */
    char *user;
    int64_t seq;     /* 1, 2, ... within the session */
    int kind;        /* VG_LEDGER_KIND index */
    char *model, *content;
    int64_t created_at;
    char hash[65];   /* hex */
} vg_ledger_entry;

/* May user write into session on case (NULL: the general pane)? VG_OK when the
 * session is new or is the user's own on that case (or general, for NULL; a merged
 * case's sessions are on the case it was merged into); VG_EINVAL naming the reason
 * otherwise. */
VG_WUR vg_rc vg_ledger_session_check(vg_ws *ws, const char *case_id, const char *session_id,
                                     const char *user, vg_err *err);

/* Append one entry to session (checked as above; case_id NULL for a general
 * session, never "") as a ledger.add op through vg_apply, in its own transaction
 * or in the open batch's. user must be the workspace's actor (who the door stamps
 * on the op). *seq_out (may be NULL) gets the entry's seq in the session. */
VG_WUR vg_rc vg_ledger_append(vg_ws *ws, const char *case_id, const char *session_id,
                              const char *user, int kind, const char *model,
                              const char *content, int64_t *seq_out, vg_err *err);

/* The entries of case_id (NULL: of the general sessions) written by user, in
 * order; only session_id's when it is
 * not NULL (another user's session is VG_EINVAL, an unknown one VG_ENOTFOUND).
 * The caller frees them with vg_ledger_free. */
VG_WUR vg_rc vg_ledger_list(vg_ws *ws, const char *case_id, const char *user,
                            const char *session_id, vg_ledger_entry **items, size_t *n,
                            vg_err *err);

/* A proposal entry by its id (its content's "id"), or with kind
 * VG_LEDGER_DECISION the newest decision on proposal id (its content's
 * "proposal"); an index lookup either way. VG_ENOTFOUND when there is none. The
 * caller clears *out with vg_ledger_clear. Proposal and decision entries hold JSON
 * objects: the ledger refuses one whose content is not JSON. */
VG_WUR vg_rc vg_ledger_find(vg_ws *ws, int kind, const char *id, vg_ledger_entry *out,
                            vg_err *err);

/* The proposal entries of user that nobody decided and the door has not applied,
 * oldest first: on case_id (its sessions', and the general sessions' proposals
 * that name it), or every one with case_id NULL. Freed with vg_ledger_free. */
VG_WUR vg_rc vg_ledger_open_proposals(vg_ws *ws, const char *user, const char *case_id,
                                      vg_ledger_entry **items, size_t *n, vg_err *err);

/* Recompute the ledger's hash chains (each entry by its rule, above) and check
 * each session against its ledger.add ops; on a break VG_ECORRUPT with a message
 * naming the first entry that breaks it, *bad_id its id (for a session whose
 * entries are all gone, 0 and the message names the session). *count is the
 * number of entries checked. */
VG_WUR vg_rc vg_ledger_verify(vg_ws *ws, int64_t *count, int64_t *bad_id, vg_err *err);

void vg_ledger_clear(vg_ledger_entry *e);
void vg_ledger_free(vg_ledger_entry *e, size_t n);

/* Proposals applied, as the door knows them (not the ledger's tail): an op the
 * door writes between vg_proposal_begin and vg_proposal_end, inside a batch, carries
 * the proposal's id, and the proposal is applied from then on. vg_proposal_begin is
 * VG_EEXIST when the proposal is applied already. */
VG_WUR vg_rc vg_proposal_applied(vg_ws *ws, const char *proposal, bool *applied,
                                 char op[VG_ID_LEN + 1], vg_err *err);
VG_WUR vg_rc vg_proposal_begin(vg_ws *ws, const char *proposal, vg_err *err);
void vg_proposal_end(vg_ws *ws);

#endif
