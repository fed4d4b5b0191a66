/*
 * sync.h — a replica's side of sync with a remote (sync.c): what it has pushed and
 * pulled, the ops to push next, taking in a pulled page, and the lease of case
 * refs a team's server grants. The transport (HTTP, over SSH or not) is the
 * caller's; the core only reads and writes the workspace. The protocol these serve
 * is vigild(8)'s.
 */
#ifndef VIGIL_SYNC_H
#define VIGIL_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/buf.h"
#include "vigil/err.h"
#include "vigil/op.h"
#include "vigil/ws.h"

#define VG_REF_PROVISIONAL 1000000000 /* refs from here up are provisional */

typedef struct vg_sync_cursor {
    int64_t pushed;     /* this log's seq up to which the remote holds every op of ours */
    int64_t pulled;     /* the remote's seq up to which its ops are here */
    char pulled_id[27]; /* the remote's op at `pulled` ("" when pulled is 0) */
} vg_sync_cursor;

/* The cursors for remote (a name, 1 to 64 bytes); zeros before the first sync. */
VG_WUR vg_rc vg_sync_get(vg_ws *ws, const char *remote, vg_sync_cursor *out, vg_err *err);
/* The next ops to push, in wire form, appended to out: those after `pushed` whose
 * actor is `actor` (NULL: all), in order, about max bytes in all (at least one op
 * when there is one), and right after each case.create the later case.renumber ops
 * of that case by the same actor (so that the remote sees the case with its final
 * ref in one message; at its own place later the renumber is not sent again in the
 * same page, and is "known" to the remote in a later one). *upto: the seq to hand
 * to vg_sync_pushed once the remote has them (the last op looked at, pushed or
 * skipped, so that skipped ops are not looked at again); *n: ops in out (0 with
 * *upto > pushed is possible: only others' ops were there — the caller then calls
 * vg_sync_pushed(upto) and goes on). */
VG_WUR vg_rc vg_sync_outbox(vg_ws *ws, const char *remote, const char *actor, size_t max,
                            vg_buf *out, int64_t *upto, int64_t *n, vg_err *err);
/* The remote holds every op of ours up to upto (a cursor never moves back here). */
VG_WUR vg_rc vg_sync_pushed(vg_ws *ws, const char *remote, int64_t upto, vg_err *err);
/* Apply a page the remote sent (wire lines with its seqs) in one batch, whole or
 * not at all, moving pulled and pulled_id to its last op with a seq (and pushed
 * past the page's ops when nothing was written here since the last push). */
VG_WUR vg_rc vg_sync_take(vg_ws *ws, const char *remote, const char *body, size_t len,
                          vg_received *r, vg_err *err);
/* The same for a page that ends past its last line, at the remote's op upto
 * (upto_id): the ops between were this replica's own, left out by the remote
 * (vg_ops_page_for). */
VG_WUR vg_rc vg_sync_take_to(vg_ws *ws, const char *remote, const char *body, size_t len,
                             int64_t upto, const char *upto_id, vg_received *r, vg_err *err);
/* The remote no longer holds what we pulled (restored from a copy): both cursors
 * back to 0, so that the next sync pushes every op of ours again and pulls from the
 * start (ops held are skipped on both sides). */
VG_WUR vg_rc vg_sync_reset(vg_ws *ws, const char *remote, vg_err *err);
/* This workspace is a snapshot of the remote's as of its op pulled (pulled_id): its
 * log is the remote's, so everything up to there is pulled, and nothing of it is
 * ours to push. */
VG_WUR vg_rc vg_sync_adopt(vg_ws *ws, const char *remote, int64_t pulled, const char *pulled_id,
                           vg_err *err);
/* Forget the remote's cursors (remote rm); no error when there are none. */
VG_WUR vg_rc vg_sync_forget(vg_ws *ws, const char *remote, vg_err *err);

/* Refs. The lease is the workspace's (one team per workspace): blocks of refs the
 * team's server granted it alone. A case.create without a ref takes the next one;
 * with the lease used up it takes a provisional ref (VG_REF_PROVISIONAL up), which
 * the next lease replaces. The lease holds at most two blocks: what is left of the
 * current one, then the one granted after it. */
typedef struct vg_refs {
    bool leased;         /* the workspace has ever held a lease */
    int64_t next, hi;    /* the next ref of the current block and its last (next > hi: used up) */
    int64_t left;        /* refs left in the lease, both blocks */
    int64_t provisional; /* cases this replica made with a provisional ref */
    int64_t unleased;    /* before the first lease: cases that will be renumbered (the
                          * ones this replica made) */
} vg_refs;
VG_WUR vg_rc vg_refs_get(vg_ws *ws, vg_refs *out, vg_err *err);
/* How many refs to ask the server for now: 0 when the lease has at least `reserve`
 * left and nothing waits for a ref; else enough for what waits (provisional or
 * unleased cases) plus reserve, minus what is left, and at least 1 (a workspace
 * that never held a lease always asks). */
VG_WUR vg_rc vg_refs_wanted(vg_ws *ws, int64_t reserve, int64_t *want, vg_err *err);
/* Install the block [lo, hi] (1 <= lo <= hi < VG_REF_PROVISIONAL) after what is
 * left of the lease (a third block drops the oldest's remainder), in one batch,
 * and renumber by case.renumber ops (actor: the workspace's actor) the cases that
 * wait for a ref, in ref order: every case this replica made, the first time; its
 * provisional ones afterwards. A case made elsewhere (pulled, a bundle's, a
 * replay's) keeps the ref its author gave it: only the creating replica renumbers.
 * A case whose ref is already the one it would get keeps it without an op.
 * *renumbered: the ops written. VG_EINVAL if the lease is too small for what
 * waits (nothing written). */
VG_WUR vg_rc vg_refs_lease(vg_ws *ws, int64_t lo, int64_t hi, int64_t *renumbered, vg_err *err);

#endif
