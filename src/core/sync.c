/*
 * sync.c — a replica's side of sync with a remote: what to push, and taking in a
 * pulled page, with the two cursors that say how far each has gone.
 *
 * pushed: every op of this log up to that seq is on the remote. pulled: the
 * remote's seq up to which its ops are here. Both live in meta ('sync:NAME'), as
 * the log's own bookkeeping, beside the head.
 *
 * What is pushed is the log after `pushed`, in order, whoever made the ops: ops a
 * bundle or a replay brought in reach the team too, and the server skips those it
 * holds already. A pulled page is applied in one batch; when nothing was written
 * here between the last push and the page, the page's ops are on the remote by
 * definition, and `pushed` moves past them, so a replica does not send the team's
 * ops back to it. When something was (another process of this analyst wrote
 * meanwhile), `pushed` stays, and the next push sends those ops with the page's,
 * which the server skips: a few bytes more, never an op lost.
 */
#include "internal.h"
#include "vigil/op.h"
#include "vigil/sync.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static vg_rc cursor_key(const char *remote, char *key, size_t n, vg_err *err)
{
    if (!remote || !*remote || strlen(remote) > 64)
        return vg_fail(err, VG_EINVAL, "remote: a name of 1 to 64 bytes");
    snprintf(key, n, "sync:%s", remote);
    return VG_OK;
}

vg_rc vg_sync_get(vg_ws *ws, const char *remote, vg_sync_cursor *out, vg_err *err)
{
    char key[80];
    sqlite3_stmt *st;
    memset(out, 0, sizeof *out);
    vg_rc rc = cursor_key(remote, key, sizeof key, err);
    if (rc || (rc = ws_stmt_text(ws, "SELECT value FROM meta WHERE key = ?", &st, err)))
        return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) {
        long long a = 0, b = 0;
        if (sscanf((const char *)sqlite3_column_text(st, 0), "%lld %lld", &a, &b) == 2) {
            out->pushed = a;
            out->pulled = b;
        }
    }
    sqlite3_reset(st);
    return VG_OK;
}

static vg_rc cursor_put(vg_ws *ws, const char *remote, const vg_sync_cursor *c, vg_err *err)
{
    char key[80], value[48];
    sqlite3_stmt *st;
    vg_rc rc = cursor_key(remote, key, sizeof key, err);
    if (rc ||
        (rc = ws_stmt_text(ws, "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", &st, err)))
        return rc;
    snprintf(value, sizeof value, "%" PRId64 " %" PRId64, c->pushed, c->pulled);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st) == SQLITE_DONE ? VG_OK : ws_dberr(ws, err, "writing a sync cursor");
    sqlite3_reset(st);
    return rc;
}

vg_rc vg_sync_outbox(vg_ws *ws, const char *remote, size_t max, vg_buf *out, int64_t *upto,
                     int64_t *n, vg_err *err)
{
    vg_sync_cursor c;
    vg_rc rc = vg_sync_get(ws, remote, &c, err);
    if (rc)
        return rc;
    return vg_ops_page(ws, c.pushed, max, false, out, upto, n, err);
}

vg_rc vg_sync_pushed(vg_ws *ws, const char *remote, int64_t upto, vg_err *err)
{
    vg_rc rc = vg_batch_begin(ws, err);
    if (rc)
        return rc;
    vg_sync_cursor c;
    if ((rc = vg_sync_get(ws, remote, &c, err)) == VG_OK && upto > c.pushed) {
        c.pushed = upto;
        rc = cursor_put(ws, remote, &c, err);
    }
    if (rc) {
        vg_batch_rollback(ws);
        return rc;
    }
    return vg_batch_commit(ws, err);
}

vg_rc vg_sync_take(vg_ws *ws, const char *remote, const char *body, size_t len, vg_received *r,
                   vg_err *err)
{
    vg_rc rc = vg_batch_begin(ws, err);
    if (rc)
        return rc;
    vg_sync_cursor c;
    int64_t before = ws->last_seq;
    if ((rc = vg_sync_get(ws, remote, &c, err)) == VG_OK &&
        (rc = vg_ops_receive(ws, body, len, NULL, NULL, r, err)) == VG_OK) {
        if (r->last_seq > c.pulled)
            c.pulled = r->last_seq;
        if (c.pushed == before)
            c.pushed = ws->last_seq;
        rc = cursor_put(ws, remote, &c, err);
    }
    if (rc) {
        vg_batch_rollback(ws);
        return rc;
    }
    return vg_batch_commit(ws, err);
}
