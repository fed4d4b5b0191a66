/*
 * sync.h — a replica's side of sync with a remote (sync.c): what it has pushed and
 * pulled, the ops to push next, and taking in a pulled page. The transport (HTTP,
 * over SSH or not) is the caller's; the core only reads and writes the workspace.
 */
#ifndef VIGIL_SYNC_H
#define VIGIL_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "vigil/buf.h"
#include "vigil/err.h"
#include "vigil/op.h"
#include "vigil/ws.h"

typedef struct vg_sync_cursor {
    int64_t pushed; /* this log's seq up to which the remote holds every op */
    int64_t pulled; /* the remote's seq up to which its ops are here */
} vg_sync_cursor;

/* The cursors for remote (a name, 1 to 64 bytes); zeros before the first sync. */
VG_WUR vg_rc vg_sync_get(vg_ws *ws, const char *remote, vg_sync_cursor *out, vg_err *err);
/* The next ops to push, in wire form, appended to out: those after `pushed`, in
 * order, about max bytes in all (at least one op when there is one). *upto is the
 * seq of the last one (what to give vg_sync_pushed once the remote has them), *n
 * how many. */
VG_WUR vg_rc vg_sync_outbox(vg_ws *ws, const char *remote, size_t max, vg_buf *out, int64_t *upto,
                            int64_t *n, vg_err *err);
/* The remote holds every op up to upto. */
VG_WUR vg_rc vg_sync_pushed(vg_ws *ws, const char *remote, int64_t upto, vg_err *err);
/* Apply a page the remote sent (wire lines with its seqs) in one batch, whole or
 * not at all, and move the cursors past it. */
VG_WUR vg_rc vg_sync_take(vg_ws *ws, const char *remote, const char *body, size_t len,
                          vg_received *r, vg_err *err);

#endif
