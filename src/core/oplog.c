/*
 * oplog.c — the op log: append with a BLAKE2b hash chain, and verify it.
 *
 * Each op's hash covers the previous op's hash and every field of the op, so
 * changing, inserting or deleting a row anywhere breaks the chain from that row on;
 * `vigil audit verify` names the first row that breaks it. The chain is this
 * replica's log in this replica's order: two replicas hold the same ops in different
 * orders, and each chain is checked on its own.
 */
#include "internal.h"
#include "oplog.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

static void put_str(crypto_generichash_state *h, const char *s)
{
    crypto_generichash_update(h, (const unsigned char *)s, strlen(s) + 1);
}

void oplog_hash(const unsigned char prev[32], const char *id, uint64_t hlc, const char *origin,
                const char *actor, const char *tenant, const char *kind, const char *target,
                const char *payload, unsigned char out[32])
{
    crypto_generichash_state h;
    unsigned char be[8];
    for (int i = 0; i < 8; i++)
        be[i] = (unsigned char)(hlc >> (56 - 8 * i));
    crypto_generichash_init(&h, NULL, 0, 32);
    crypto_generichash_update(&h, prev, 32);
    put_str(&h, id);
    crypto_generichash_update(&h, be, sizeof be);
    put_str(&h, origin);
    put_str(&h, actor);
    put_str(&h, tenant);
    put_str(&h, kind);
    put_str(&h, target);
    put_str(&h, payload);
    crypto_generichash_final(&h, out, 32);
}

vg_rc oplog_load_head(vg_ws *ws, vg_err *err)
{
    sqlite3_stmt *st = NULL;
    memset(ws->last_hash, 0, sizeof ws->last_hash);
    /* The newest op only: its clock bounds ours from below (ws->hlc keeps the rest),
     * and reading it is one step down the rowid b-tree however long the log is. */
    if (sqlite3_prepare_v2(ws->db, "SELECT hash, hlc FROM ops ORDER BY seq DESC LIMIT 1", -1,
                           &st, NULL) != SQLITE_OK)
        return ws_dberr(ws, err, "reading the op log");
    if (sqlite3_step(st) == SQLITE_ROW) {
        if (sqlite3_column_bytes(st, 0) == 32)
            memcpy(ws->last_hash, sqlite3_column_blob(st, 0), 32);
        uint64_t h = (uint64_t)sqlite3_column_int64(st, 1);
        if (h > ws->hlc)
            ws->hlc = h;
    }
    sqlite3_finalize(st);
    return VG_OK;
}

vg_rc oplog_append(vg_ws *ws, vg_op *op, const char *payload, vg_err *err)
{
    sqlite3_stmt *st;
    unsigned char hash[32];
    const char *tenant = op->tenant ? op->tenant : "";
    oplog_hash(ws->last_hash, op->id, op->hlc, op->origin, op->actor, tenant, op->kind,
               op->target, payload, hash);
    vg_rc rc = ws_stmt(ws, ST_OP_INSERT, &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, op->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)op->hlc);
    sqlite3_bind_text(st, 3, op->origin, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, op->actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, tenant, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, op->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, op->target, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, payload, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 9, ws->last_hash, 32, SQLITE_STATIC);
    sqlite3_bind_blob(st, 10, hash, 32, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        return ws_dberr(ws, err, "appending to the op log");
    memcpy(ws->last_hash, hash, 32);
    op->seq = sqlite3_last_insert_rowid(ws->db);
    return VG_OK;
}

const char *chain_check(sqlite3_stmt *st, int pc, int hc, const unsigned char prev[32],
                        const unsigned char hash[32], const char *noun, char *why, size_t whysz)
{
    bool prev_ok = sqlite3_column_bytes(st, pc) == 32 &&
                   memcmp(sqlite3_column_blob(st, pc), prev, 32) == 0;
    bool hash_ok = sqlite3_column_bytes(st, hc) == 32 &&
                   memcmp(sqlite3_column_blob(st, hc), hash, 32) == 0;
    if (prev_ok && hash_ok)
        return NULL;
    if (!prev_ok)
        snprintf(why, whysz, "it does not follow the %s before it", noun);
    else
        snprintf(why, whysz, "its contents do not match its hash");
    return why;
}

static const char *text_col(sqlite3_stmt *st, int col)
{
    const unsigned char *s = sqlite3_column_text(st, col);
    return s ? (const char *)s : "";
}

vg_rc vg_audit_verify(vg_ws *ws, int64_t *count, int64_t *bad_seq, vg_err *err)
{
    sqlite3_stmt *st = NULL;
    unsigned char prev[32] = {0}, hash[32];
    *count = 0;
    *bad_seq = 0;
    if (sqlite3_prepare_v2(ws->db,
                           "SELECT seq, id, hlc, origin, actor, tenant, kind, target, payload,"
                           " prev_hash, hash FROM ops ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK)
        return ws_dberr(ws, err, "reading the op log");
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(st, 0);
        uint64_t hlc = (uint64_t)sqlite3_column_int64(st, 2);
        const char *id = text_col(st, 1), *origin = text_col(st, 3), *actor = text_col(st, 4),
                   *tenant = text_col(st, 5), *kind = text_col(st, 6),
                   *target = text_col(st, 7), *payload = text_col(st, 8);
        oplog_hash(prev, id, hlc, origin, actor, tenant, kind, target, payload, hash);
        char why[64];
        if (chain_check(st, 9, 10, prev, hash, "op", why, sizeof why)) {
            *bad_seq = seq;
            vg_fail(err, VG_ECORRUPT, "op log broken at seq %lld (op %.26s): %s", (long long)seq,
                    id, why);
            sqlite3_finalize(st);
            return VG_ECORRUPT;
        }
        memcpy(prev, hash, 32);
        ++*count;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return ws_dberr(ws, err, "reading the op log");

    if (sqlite3_prepare_v2(ws->db, "PRAGMA quick_check", -1, &st, NULL) != SQLITE_OK)
        return ws_dberr(ws, err, "checking the database");
    const unsigned char *res = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
    bool ok = res && strcmp((const char *)res, "ok") == 0;
    char first[200] = "";
    if (!ok && res)
        snprintf(first, sizeof first, "%s", (const char *)res);
    sqlite3_finalize(st);
    if (!ok)
        return vg_fail(err, VG_ECORRUPT, "database check failed: %s", first);
    return VG_OK;
}
