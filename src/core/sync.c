/*
 * sync.c — a replica's side of sync with a remote: what to push, taking in a
 * pulled page, the cursors that say how far each has gone, and the lease of case
 * refs (vigil/sync.h; the protocol is vigild(8)'s).
 *
 * Cursors. pushed: every op of ours in this log up to that seq is on the remote.
 * pulled: the remote's seq up to which its ops are here, and pulled_id the id of
 * the remote's op there, which the remote checks (a server restored from an older
 * copy no longer holds it, and the client starts again from 0 on both sides). They
 * live in meta ('sync:NAME' = "PUSHED PULLED [PULLED_ID]"), the log's own
 * bookkeeping beside the head.
 *
 * What is pushed is the log after `pushed`, in order, but only the ops whose actor
 * is the remote's user: ops by others came from the team, a bundle or a replay, and
 * their authors push them (the server refuses an op of another actor it does not
 * hold). A pulled page is applied in one batch; when nothing was written here
 * between the last push and the page, `pushed` moves past the page's ops, so that
 * the next outbox does not walk them again.
 *
 * Refs. A workspace that never joined a team numbers its cases max(ref)+1. A team
 * replica holds a lease in meta ('refs' = "NEXT HI LO2 HI2": the next ref of the
 * current block, its last, and the block granted after it, LO2 0 for none), and
 * the door (apply.c) takes the next ref of it for a case.create without one; with
 * the lease used up it gives a provisional ref, VG_REF_PROVISIONAL up. Installing a
 * lease renumbers, by case.renumber ops, the cases that wait for a ref: every case
 * this replica made the first time, its provisional ones afterwards (a case made
 * elsewhere is its author's to renumber; so a workspace may pull before its first
 * lease, and vigild's own workspace, which holds the team's cases, may lease). The outbox sends a renumber
 * right after its case's create, so the server sees every case with its final ref
 * in the message that creates it. Inside a batch the lease is read once and
 * written back at commit (ws_lease_*), so that an import of 100,000 cases costs a
 * meta write per commit and a rolled-back batch gives its refs back.
 */
#include "internal.h"
#include "oplog.h"
#include "vigil/op.h"
#include "vigil/sync.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- cursors -------------------------------------------------------------------- */

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
        char id[27] = "";
        int got = sscanf((const char *)sqlite3_column_text(st, 0), "%lld %lld %26s", &a, &b, id);
        if (got >= 2) {
            out->pushed = a;
            out->pulled = b;
        }
        if (got == 3 && b > 0 && vg_ulid_valid(id))
            memcpy(out->pulled_id, id, sizeof out->pulled_id);
    }
    sqlite3_reset(st);
    return VG_OK;
}

static vg_rc cursor_put(vg_ws *ws, const char *remote, const vg_sync_cursor *c, vg_err *err)
{
    char key[80], value[96];
    vg_rc rc = cursor_key(remote, key, sizeof key, err);
    if (rc)
        return rc;
    snprintf(value, sizeof value, "%" PRId64 " %" PRId64 "%s%s", c->pushed, c->pulled,
             c->pulled_id[0] ? " " : "", c->pulled_id);
    return ws_meta_put(ws, key, value, "writing a sync cursor", err);
}

/* Run fn on the remote's cursor inside a batch of its own; fn says whether to
 * write it back. */
static vg_rc cursor_change(vg_ws *ws, const char *remote,
                           vg_rc (*fn)(vg_ws *ws, vg_sync_cursor *c, void *ud, bool *put,
                                       vg_err *err),
                           void *ud, vg_err *err)
{
    char key[80];
    vg_rc rc = cursor_key(remote, key, sizeof key, err);
    if (rc || (rc = vg_batch_begin(ws, err)))
        return rc;
    vg_sync_cursor c;
    bool put = false;
    if ((rc = vg_sync_get(ws, remote, &c, err)) == VG_OK && (rc = fn(ws, &c, ud, &put, err)) == VG_OK &&
        put)
        rc = cursor_put(ws, remote, &c, err);
    if (rc) {
        vg_batch_rollback(ws);
        return rc;
    }
    return vg_batch_commit(ws, err);
}

static vg_rc pushed_to(vg_ws *ws, vg_sync_cursor *c, void *ud, bool *put, vg_err *err)
{
    (void)ws;
    (void)err;
    int64_t upto = *(const int64_t *)ud;
    *put = upto > c->pushed;
    if (*put)
        c->pushed = upto;
    return VG_OK;
}

vg_rc vg_sync_pushed(vg_ws *ws, const char *remote, int64_t upto, vg_err *err)
{
    return cursor_change(ws, remote, pushed_to, &upto, err);
}

struct take {
    const char *body;
    size_t len;
    int64_t upto; /* where the page ends, past its last line (0: at it) */
    const char *upto_id;
    vg_received *r;
};

static vg_rc take_page(vg_ws *ws, vg_sync_cursor *c, void *ud, bool *put, vg_err *err)
{
    struct take *t = ud;
    int64_t before = ws->last_seq;
    vg_rc rc = vg_ops_receive(ws, t->body, t->len, NULL, NULL, t->r, err);
    if (rc)
        return rc;
    if (t->r->last_seq > c->pulled) {
        c->pulled = t->r->last_seq;
        memcpy(c->pulled_id, t->r->last_id, sizeof c->pulled_id);
    }
    if (t->upto > c->pulled) {
        if (!t->upto_id || !vg_ulid_valid(t->upto_id))
            return vg_fail(err, VG_EINVAL, "a page ending at seq %lld names no op there",
                           (long long)t->upto);
        c->pulled = t->upto;
        snprintf(c->pulled_id, sizeof c->pulled_id, "%s", t->upto_id);
    }
    if (c->pushed == before)
        c->pushed = ws->last_seq;
    *put = true;
    return VG_OK;
}

vg_rc vg_sync_take(vg_ws *ws, const char *remote, const char *body, size_t len, vg_received *r,
                   vg_err *err)
{
    return vg_sync_take_to(ws, remote, body, len, 0, NULL, r, err);
}

vg_rc vg_sync_take_to(vg_ws *ws, const char *remote, const char *body, size_t len, int64_t upto,
                      const char *upto_id, vg_received *r, vg_err *err)
{
    struct take t = {body, len, upto, upto_id, r};
    memset(r, 0, sizeof *r);
    return cursor_change(ws, remote, take_page, &t, err);
}

static vg_rc to_zero(vg_ws *ws, vg_sync_cursor *c, void *ud, bool *put, vg_err *err)
{
    (void)ws;
    (void)ud;
    (void)err;
    memset(c, 0, sizeof *c);
    *put = true;
    return VG_OK;
}

vg_rc vg_sync_reset(vg_ws *ws, const char *remote, vg_err *err)
{
    return cursor_change(ws, remote, to_zero, NULL, err);
}

struct adopt {
    int64_t pulled;
    const char *id;
};

static vg_rc adopt(vg_ws *ws, vg_sync_cursor *c, void *ud, bool *put, vg_err *err)
{
    const struct adopt *a = ud;
    if (a->pulled < 0 || a->pulled != ws->last_seq || !vg_ulid_valid(a->id))
        return vg_fail(err, VG_EINVAL, "a snapshot said to hold seq %lld holds %lld",
                       (long long)a->pulled, (long long)ws->last_seq);
    c->pulled = a->pulled;
    snprintf(c->pulled_id, sizeof c->pulled_id, "%s", a->id);
    c->pushed = ws->last_seq;
    *put = true;
    /* No case of the snapshot is this replica's, so none waits for a first lease:
     * the workspace is as one whose lease is used up (and vg_refs_wanted need not
     * look for its own cases through the whole log). */
    vg_rc rc = ws_lease_load(ws, err);
    if (rc == VG_OK && !ws->lease_held) {
        memset(ws->lease, 0, sizeof ws->lease);
        ws->lease[0] = 1;
        ws->lease_held = true;
        ws->lease_dirty = true;
    }
    return rc;
}

vg_rc vg_sync_adopt(vg_ws *ws, const char *remote, int64_t pulled, const char *pulled_id,
                    vg_err *err)
{
    struct adopt a = {pulled, pulled_id};
    return cursor_change(ws, remote, adopt, &a, err);
}

vg_rc vg_sync_forget(vg_ws *ws, const char *remote, vg_err *err)
{
    char key[80];
    sqlite3_stmt *st;
    vg_rc rc = cursor_key(remote, key, sizeof key, err);
    if (rc || (rc = ws_stmt_text(ws, "DELETE FROM meta WHERE key = ?", &st, err)))
        return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st) == SQLITE_DONE ? VG_OK : ws_dberr(ws, err, "forgetting a remote");
    sqlite3_reset(st);
    return rc;
}

/* ---- the log's positions ----------------------------------------------------------- */

vg_rc vg_op_at(vg_ws *ws, int64_t seq, char id[27], vg_err *err)
{
    sqlite3_stmt *st;
    id[0] = '\0';
    vg_rc rc = ws_stmt_text(ws, "SELECT id FROM ops WHERE seq = ?", &st, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, seq);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW)
        col_id(st, 0, id);
    sqlite3_reset(st);
    if (s == SQLITE_ROW)
        return VG_OK;
    if (s != SQLITE_DONE)
        return ws_dberr(ws, err, "reading the op log");
    return vg_fail(err, VG_ENOTFOUND, "the op log holds no op at seq %lld", (long long)seq);
}

int64_t vg_ws_last_seq(const vg_ws *ws)
{
    /* the file's, not this handle's: another process may have written since */
    sqlite3_stmt *st = NULL;
    int64_t seq = 0;
    if (sqlite3_prepare_v2(ws->db, "SELECT coalesce(max(seq), 0) FROM ops", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        seq = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return seq;
}

/* ---- the outbox ------------------------------------------------------------------- */

struct outbox {
    vg_ws *ws;
    const char *actor;
    vg_buf *out;
    size_t max;
    int64_t upto, n;
    vg_id *rode; /* renumbers sent after their create in this page */
    size_t nrode, caprode;
    vg_err *err;
};

#define PAGE_FULL VG_EEXIST /* stops the walk; not an error */

/* The case.renumber ops of case_id after seq, by the outbox's actor, in wire form
 * appended to out (their ids kept in o->rode); *count: how many. The timeline row
 * each one leaves (its id the op's) finds them without a scan of the log. */
static vg_rc ride_along(struct outbox *o, const char *case_id, int64_t seq, int64_t *count)
{
    static const char sql[] =
        "SELECT o.id, o.hlc, o.origin, o.actor, o.tenant, o.target, o.payload"
        " FROM events e JOIN ops o ON o.id = e.id"
        /* a merged case's rows are on the case it was merged into */
        " WHERE e.case_id IN (?1, (SELECT merged_into FROM cases WHERE id = ?1))"
        "  AND e.kind = 'status' AND o.kind = 'case.renumber' AND o.target = ?1"
        "  AND o.seq > ?2"
        "  AND (?3 IS NULL OR o.actor = ?3) ORDER BY o.seq";
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt_text(o->ws, sql, &st, o->err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, seq);
    if (o->actor)
        sqlite3_bind_text(st, 3, o->actor, -1, SQLITE_STATIC);
    vg_buf text;
    vg_buf_init(&text, 1u << 20);
    *count = 0;
    int s;
    while (rc == VG_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
        vg_op op = {.hlc = (uint64_t)sqlite3_column_int64(st, 1),
                    .actor = (char *)sqlite3_column_text(st, 3),
                    .tenant = (char *)sqlite3_column_text(st, 4),
                    .kind = "case.renumber"};
        col_id(st, 0, op.id);
        col_id(st, 2, op.origin);
        col_id(st, 5, op.target);
        const char *payload;
        size_t len;
        if ((rc = oplog_payload(o->ws, st, 6, &text, &payload, &len, o->err)) ||
            (rc = vg_op_wire(&op, payload, len, 0, o->out, o->err)))
            break;
        if (o->nrode == o->caprode) {
            o->caprode = o->caprode ? 2 * o->caprode : 64;
            o->rode = vg_xrealloc(o->rode, o->caprode * sizeof *o->rode);
        }
        memcpy(o->rode[o->nrode++], op.id, sizeof op.id);
        ++*count;
    }
    if (rc == VG_OK && s != SQLITE_DONE)
        rc = ws_dberr(o->ws, o->err, "reading the op log");
    sqlite3_reset(st);
    vg_buf_free(&text);
    return rc;
}

static bool rode(const struct outbox *o, const char *id)
{
    for (size_t i = 0; i < o->nrode; i++)
        if (strcmp(o->rode[i], id) == 0)
            return true;
    return false;
}

static vg_rc outbox_one(void *ud, vg_op *op)
{
    struct outbox *o = ud;
    if ((o->actor && strcmp(op->actor, o->actor) != 0) ||
        (strcmp(op->kind, "case.renumber") == 0 && rode(o, op->id))) {
        o->upto = op->seq; /* looked at, not sent */
        return VG_OK;
    }
    size_t len = strlen(op->text), mark = o->out->len, nrode = o->nrode;
    /* one op (with what rides along) is always taken, however large: a page holds
     * at least one */
    if (o->n > 0 && o->out->len + len + 256 > o->max)
        return PAGE_FULL;
    int64_t count = 1, more = 0;
    vg_rc rc = vg_op_wire(op, op->text, len, 0, o->out, o->err);
    if (rc == VG_OK && strcmp(op->kind, "case.create") == 0 &&
        (rc = ride_along(o, op->target, op->seq, &more)) == VG_OK && o->n > 0 &&
        o->out->len > o->max) {
        /* the create and its renumbers go together, in the next page */
        o->out->len = mark;
        o->out->data[mark] = '\0';
        o->nrode = nrode;
        return PAGE_FULL;
    }
    if (rc)
        return rc;
    o->upto = op->seq;
    o->n += count + more;
    return VG_OK;
}

vg_rc vg_sync_outbox(vg_ws *ws, const char *remote, const char *actor, size_t max, vg_buf *out,
                     int64_t *upto, int64_t *n, vg_err *err)
{
    vg_sync_cursor c;
    vg_rc rc = vg_sync_get(ws, remote, &c, err);
    *upto = c.pushed;
    *n = 0;
    if (rc)
        return rc;
    struct outbox o = {.ws = ws, .actor = actor, .out = out, .max = max, .upto = c.pushed,
                       .err = err};
    rc = vg_ops_each(ws, c.pushed, outbox_one, &o, err);
    if (rc == PAGE_FULL)
        rc = VG_OK;
    free(o.rode);
    *upto = o.upto;
    *n = o.n;
    return rc;
}

/* ---- the lease ---------------------------------------------------------------------- */

/* The lease as meta holds it (held false: the workspace never had one). */
static vg_rc lease_read(vg_ws *ws, bool *held, int64_t v[4], vg_err *err)
{
    sqlite3_stmt *st;
    memset(v, 0, 4 * sizeof *v);
    *held = false;
    vg_rc rc = ws_stmt_text(ws, "SELECT value FROM meta WHERE key = 'refs'", &st, err);
    if (rc)
        return rc;
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        long long a = 0, b = 0, c = 0, d = 0;
        *held = sscanf((const char *)sqlite3_column_text(st, 0), "%lld %lld %lld %lld", &a, &b,
                       &c, &d) == 4;
        v[0] = a, v[1] = b, v[2] = c, v[3] = d;
    }
    sqlite3_reset(st);
    if (s != SQLITE_ROW && s != SQLITE_DONE)
        return ws_dberr(ws, err, "reading the ref lease");
    if (s == SQLITE_ROW && !*held)
        return vg_fail(err, VG_ECORRUPT, "the ref lease in meta is not one vigil wrote");
    if (!*held)
        v[0] = 1; /* nothing left */
    return VG_OK;
}

vg_rc ws_lease_load(vg_ws *ws, vg_err *err)
{
    if (ws->lease_batch == ws->batches)
        return VG_OK;
    vg_rc rc = lease_read(ws, &ws->lease_held, ws->lease, err);
    if (rc)
        return rc;
    ws->lease_batch = ws->batches;
    ws->lease_dirty = false;
    return VG_OK;
}

vg_rc ws_lease_flush(vg_ws *ws, vg_err *err)
{
    if (ws->lease_batch != ws->batches || !ws->lease_dirty)
        return VG_OK;
    char value[96];
    snprintf(value, sizeof value, "%" PRId64 " %" PRId64 " %" PRId64 " %" PRId64, ws->lease[0],
             ws->lease[1], ws->lease[2], ws->lease[3]);
    ws->lease_dirty = false;
    return ws_meta_put(ws, "refs", value, "writing the ref lease", err);
}

/* Refs left in a lease v: the current block's rest and the next block. */
static int64_t lease_left(const int64_t v[4])
{
    int64_t left = v[1] >= v[0] ? v[1] - v[0] + 1 : 0;
    return left + (v[2] > 0 ? v[3] - v[2] + 1 : 0);
}

bool ws_lease_draw(vg_ws *ws, int64_t *ref)
{
    int64_t *v = ws->lease;
    if (v[0] > v[1] && v[2] > 0) {
        v[0] = v[2], v[1] = v[3];
        v[2] = v[3] = 0;
    }
    if (v[0] > v[1])
        return false;
    *ref = v[0]++;
    ws->lease_dirty = true;
    return true;
}

/* The cases that wait for this replica's lease, in ref order: the ones it created
 * (the ref of a case made elsewhere is its author's to change: op.h), all of them
 * or the provisional ones. Collected first, as renumbering moves them in the
 * order being read; *ids is fresh (NULL when none). The log is read once, its
 * creates before the cases (it has no index by target). */
static vg_rc waiting_cases(vg_ws *ws, bool provisional, vg_id **ids, size_t *n, vg_err *err)
{
    /* Every case, the first time: the log read once, its creates joined to their
     * cases. The provisional ones: from the ref index, which usually finds none,
     * each one's create looked for in the log (the log has no index on target;
     * a scan of it at every sync is what this avoids). */
    static const char first[] = "SELECT c.id FROM ops o CROSS JOIN cases c ON c.id = o.target"
                                " WHERE o.kind = 'case.create' AND o.origin = ?1 AND c.ref >= ?2"
                                " ORDER BY c.ref, c.id",
                      later[] = "SELECT c.id FROM cases c WHERE c.ref >= ?2 AND EXISTS"
                                " (SELECT 1 FROM ops o WHERE o.target = c.id"
                                "  AND o.kind = 'case.create' AND o.origin = ?1)"
                                " ORDER BY c.ref, c.id";
    sqlite3_stmt *st;
    size_t cap = 0;
    *ids = NULL;
    *n = 0;
    vg_rc rc = ws_stmt_text(ws, provisional ? later : first, &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, ws->replica, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, provisional ? VG_REF_PROVISIONAL : 0);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            *ids = vg_xrealloc(*ids, cap * sizeof **ids);
        }
        col_id(st, 0, (*ids)[(*n)++]);
    }
    sqlite3_reset(st);
    return s == SQLITE_DONE ? VG_OK : ws_dberr(ws, err, "reading cases");
}

/* How many cases wait for the lease (waiting_cases). The provisional ones are
 * looked for in the log only when the ref index shows there are any, which is
 * seldom: vg_refs_wanted runs at every sync. */
static vg_rc count_waiting(vg_ws *ws, bool provisional, int64_t *count, vg_err *err)
{
    *count = 0;
    if (provisional) {
        sqlite3_stmt *st;
        vg_rc rc = ws_stmt_text(ws, "SELECT 1 FROM cases WHERE ref >= ? LIMIT 1", &st, err);
        if (rc)
            return rc;
        sqlite3_bind_int64(st, 1, VG_REF_PROVISIONAL);
        int s = sqlite3_step(st);
        sqlite3_reset(st);
        if (s == SQLITE_DONE)
            return VG_OK;
        if (s != SQLITE_ROW)
            return ws_dberr(ws, err, "reading cases");
    }
    vg_id *ids;
    size_t n;
    vg_rc rc = waiting_cases(ws, provisional, &ids, &n, err);
    free(ids);
    *count = (int64_t)n;
    return rc;
}

/* What the lease is (inside a batch: as the batch has it). */
static vg_rc refs_now(vg_ws *ws, vg_refs *out, vg_err *err)
{
    bool held;
    int64_t v[4];
    vg_rc rc;
    memset(out, 0, sizeof *out);
    if (ws->in_batch) {
        if ((rc = ws_lease_load(ws, err)))
            return rc;
        held = ws->lease_held;
        memcpy(v, ws->lease, sizeof v);
    } else if ((rc = lease_read(ws, &held, v, err))) {
        return rc;
    }
    out->leased = held;
    out->next = v[0];
    out->hi = v[1];
    out->left = lease_left(v);
    if (held && v[0] > v[1] && v[2] > 0) { /* the current block is the next one */
        out->next = v[2];
        out->hi = v[3];
    }
    return held ? count_waiting(ws, true, &out->provisional, err)
                : count_waiting(ws, false, &out->unleased, err);
}

vg_rc vg_refs_get(vg_ws *ws, vg_refs *out, vg_err *err)
{
    return refs_now(ws, out, err);
}

vg_rc vg_refs_wanted(vg_ws *ws, int64_t reserve, int64_t *want, vg_err *err)
{
    *want = 0;
    if (reserve < 0 || reserve > VG_REF_PROVISIONAL)
        return vg_fail(err, VG_EINVAL, "reserve: a number of refs from 0");
    vg_refs r;
    vg_rc rc = refs_now(ws, &r, err);
    if (rc)
        return rc;
    int64_t waiting = r.leased ? r.provisional : r.unleased;
    /* a workspace that never held a lease asks for one whatever the reserve: with
     * none it would number max(ref)+1, as if alone */
    if (r.leased && r.left >= reserve && waiting == 0)
        return VG_OK;
    *want = waiting + reserve - r.left;
    if (*want < 1)
        *want = 1;
    return VG_OK;
}

/* Install [lo, hi] after what is left of the lease: at most two blocks are held. */
static void lease_install(vg_ws *ws, int64_t lo, int64_t hi)
{
    int64_t *v = ws->lease;
    if (v[0] > v[1] && v[2] > 0) {
        v[0] = v[2], v[1] = v[3];
        v[2] = v[3] = 0;
    }
    if (v[0] > v[1]) {
        v[0] = lo, v[1] = hi;
    } else if (v[2] == 0) {
        v[2] = lo, v[3] = hi;
    } else { /* a third block: the oldest's rest goes */
        v[0] = v[2], v[1] = v[3];
        v[2] = lo, v[3] = hi;
    }
    ws->lease_held = true;
    ws->lease_dirty = true;
}

vg_rc vg_refs_lease(vg_ws *ws, int64_t lo, int64_t hi, int64_t *renumbered, vg_err *err)
{
    *renumbered = 0;
    if (lo < 1 || hi < lo || hi >= VG_REF_PROVISIONAL)
        return vg_fail(err, VG_EINVAL, "ref lease %lld-%lld: a range of refs from 1 to %d",
                       (long long)lo, (long long)hi, VG_REF_PROVISIONAL - 1);
    vg_rc rc = vg_batch_begin(ws, err);
    if (rc)
        return rc;
    if ((rc = ws_lease_load(ws, err)))
        goto out;
    bool first = !ws->lease_held;
    vg_id *ids = NULL;
    size_t n = 0;
    if ((rc = waiting_cases(ws, !first, &ids, &n, err)))
        goto out_ids;
    lease_install(ws, lo, hi);
    if (lease_left(ws->lease) < (int64_t)n) {
        rc = vg_fail(err, VG_EINVAL,
                     "ref lease %lld-%lld: %lld refs left with it, too few for the %zu cases"
                     " waiting for one",
                     (long long)lo, (long long)hi, (long long)lease_left(ws->lease), n);
        goto out_ids;
    }
    for (size_t i = 0; rc == VG_OK && i < n; i++) {
        int64_t ref;
        ws_lease_draw(ws, &ref); /* enough are left: checked above */
        vg_op *op = vg_op_new("case.renumber", ids[i]);
        cJSON_AddNumberToObject(op->payload, "ref", (double)ref);
        if ((rc = vg_apply(ws, op, err)) == VG_OK && op->seq > 0)
            ++*renumbered;
        vg_op_free(op);
    }
out_ids:
    free(ids);
out:
    if (rc) {
        vg_batch_rollback(ws);
        *renumbered = 0;
        return rc;
    }
    return vg_batch_commit(ws, err);
}
