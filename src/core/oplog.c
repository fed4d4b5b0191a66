/*
 * oplog.c — the op log: append with a BLAKE2b hash chain, and verify it.
 *
 * Each op's hash covers the previous op's hash and every field of the op, so
 * changing, inserting or deleting a row anywhere breaks the chain from that row on;
 * `vigil audit verify` names the first row that breaks it. The chain is this
 * replica's log in this replica's order: two replicas hold the same ops in different
 * orders, and each chain is checked on its own.
 *
 * Payloads at rest. The hash covers an op's canonical payload text, the bytes that
 * sync sends and every replica hashes alike. The row stores that text as it is
 * when it is under 1 KB (a case.set, a note, a task: zstd would save a fifth of
 * such a payload and cost a tenth of the demo build's instructions), or as one
 * zstd frame when that is smaller
 * (SQLite's typeof() tells the two apart: text or blob). Most bytes of the log are
 * alert.import ops, a few hundred alerts each, whose payloads compress as a whole
 * about 8x at level 3 (a batch's records share their keys and most values). A
 * dictionary trained on the workspace's own payloads was measured too, on 20,000
 * alert payloads of the bench file: one op at a time with it, 102 bytes an alert;
 * batches of 400 without it, 76 (and 71 with it, not worth keeping a dictionary in
 * step with the workspace). So ops are compressed one at a time, without a
 * dictionary, and imports write few, large ops.
 */
#include "internal.h"
#include "oplog.h"
#include "vigil/json.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#define PACK_MIN 1024              /* shorter payloads stay text */
#define PACK_LEVEL 3
#define PAYLOAD_MAX (64u << 20)    /* the most a stored frame may claim to hold */

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
    ws->last_seq = 0;
    if (sqlite3_prepare_v2(ws->db, "SELECT hash, hlc, seq FROM ops ORDER BY seq DESC LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK)
        return ws_dberr(ws, err, "reading the op log");
    if (sqlite3_step(st) == SQLITE_ROW) {
        ws->last_seq = sqlite3_column_int64(st, 2);
        if (sqlite3_column_bytes(st, 0) == 32)
            memcpy(ws->last_hash, sqlite3_column_blob(st, 0), 32);
        uint64_t h = (uint64_t)sqlite3_column_int64(st, 1);
        if (h > ws->hlc)
            ws->hlc = h;
    }
    sqlite3_finalize(st);
    return VG_OK;
}

/* ---- the head, kept where a truncation shows ------------------------------------ */

/* A hash chain shows an op changed, inserted or removed anywhere but at its end:
 * a log cut short is a shorter valid chain. So every commit that adds ops writes
 * the newest op's seq and hash into meta ('head'), and the door writes nothing
 * while the log does not end where its head says (oplog_check_head). Someone
 * able to write the file can move the head too, so `vigil audit head` prints it
 * for the analyst to keep elsewhere, and `audit verify --head` checks the log
 * still holds it; once synced, the server keeps every replica's. */

void vg_head_format(const vg_head *h, char out[VG_HEAD_TEXT])
{
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, h->hash, sizeof h->hash);
    snprintf(out, VG_HEAD_TEXT, "%lld:%s", (long long)h->seq, hex);
}

bool vg_head_parse(const char *s, vg_head *out)
{
    char *end;
    if (!s || *s < '0' || *s > '9')
        return false;
    errno = 0;
    long long seq = strtoll(s, &end, 10);
    size_t bin = 0;
    if (errno || *end != ':' || strlen(end + 1) != 64 ||
        sodium_hex2bin(out->hash, sizeof out->hash, end + 1, 64, NULL, &bin, NULL) != 0 ||
        bin != 32)
        return false;
    out->seq = seq;
    return true;
}

vg_rc oplog_store_head(vg_ws *ws, vg_err *err)
{
    char text[VG_HEAD_TEXT];
    vg_head h = {.seq = ws->last_seq};
    memcpy(h.hash, ws->last_hash, 32);
    vg_head_format(&h, text);
    return ws_meta_put(ws, "head", text, "writing the op log's head", err);
}

vg_rc oplog_check_head(vg_ws *ws, vg_err *err)
{
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt_text(ws, "SELECT value FROM meta WHERE key = 'head'", &st, err);
    if (rc)
        return rc;
    vg_head h;
    bool found = sqlite3_step(st) == SQLITE_ROW,
         ok = found && vg_head_parse((const char *)sqlite3_column_text(st, 0), &h);
    sqlite3_reset(st);
    if (!found)
        return vg_fail(err, VG_ECORRUPT, "op log: the record of its head is gone (removed outside"
                                         " vigil)");
    if (!ok)
        return vg_fail(err, VG_ECORRUPT, "op log: the record of its head is not one vigil wrote");
    if (h.seq > ws->last_seq)
        return vg_fail(err, VG_ECORRUPT,
                       "op log cut short: its head is seq %lld but it ends at seq %lld (%lld ops"
                       " removed outside vigil)",
                       (long long)h.seq, (long long)ws->last_seq,
                       (long long)(h.seq - ws->last_seq));
    if (h.seq != ws->last_seq || memcmp(h.hash, ws->last_hash, 32) != 0)
        return vg_fail(err, VG_ECORRUPT,
                       "op log: it ends at seq %lld, not at the head recorded (seq %lld): it was"
                       " changed outside vigil",
                       (long long)ws->last_seq, (long long)h.seq);
    return VG_OK;
}

vg_rc vg_audit_head(vg_ws *ws, vg_head *out, vg_err *err)
{
    vg_rc rc = oplog_load_head(ws, err);
    if (rc == VG_OK)
        rc = oplog_check_head(ws, err);
    if (rc)
        return rc;
    out->seq = ws->last_seq;
    memcpy(out->hash, ws->last_hash, 32);
    return VG_OK;
}

bool oplog_pack(vg_ws *ws, const char *text, size_t len, vg_buf *out)
{
    if (len < PACK_MIN)
        return false;
    if (!ws->zc)
        ws->zc = ZSTD_createCCtx();
    size_t bound = ZSTD_compressBound(len);
    out->len = 0;
    if (!ws->zc)
        return false;
    if (out->alloc < bound + 1) {
        out->data = vg_xrealloc(out->data, bound + 1);
        out->alloc = bound + 1;
    }
    size_t n = ZSTD_compressCCtx(ws->zc, out->data, bound, text, len, PACK_LEVEL);
    if (ZSTD_isError(n) || n >= len)
        return false;
    out->len = n;
    return true;
}

/* Decompress a stored frame into out (NUL-terminated); false when it is not one. */
static bool unpack(ZSTD_DCtx *dc, const void *p, size_t n, vg_buf *out)
{
    unsigned long long size = ZSTD_getFrameContentSize(p, n);
    if (!dc || size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN ||
        size > PAYLOAD_MAX)
        return false;
    if (out->alloc < size + 1) {
        out->data = vg_xrealloc(out->data, (size_t)size + 1);
        out->alloc = (size_t)size + 1;
    }
    size_t got = ZSTD_decompressDCtx(dc, out->data, (size_t)size, p, n);
    if (ZSTD_isError(got) || got != size) {
        out->len = 0;
        out->data[0] = '\0';
        return false;
    }
    out->len = got;
    out->data[got] = '\0';
    return true;
}

vg_rc oplog_payload(vg_ws *ws, sqlite3_stmt *st, int col, vg_buf *out, const char **text,
                    size_t *len, vg_err *err)
{
    if (sqlite3_column_type(st, col) != SQLITE_BLOB) {
        const unsigned char *s = sqlite3_column_text(st, col);
        *text = s ? (const char *)s : "";
        *len = (size_t)sqlite3_column_bytes(st, col);
        return VG_OK;
    }
    if (!ws->zd)
        ws->zd = ZSTD_createDCtx();
    const void *p = sqlite3_column_blob(st, col);
    if (!unpack(ws->zd, p, (size_t)sqlite3_column_bytes(st, col), out)) {
        *text = "";
        *len = 0;
        return vg_fail(err, VG_ECORRUPT, "its payload does not decompress");
    }
    *text = out->data;
    *len = out->len;
    return VG_OK;
}

static void sql_payload(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    (void)argc;
    if (sqlite3_value_type(argv[0]) != SQLITE_BLOB) {
        sqlite3_result_value(cx, argv[0]);
        return;
    }
    vg_buf b;
    vg_buf_init(&b, PAYLOAD_MAX);
    if (unpack(sqlite3_user_data(cx), sqlite3_value_blob(argv[0]),
               (size_t)sqlite3_value_bytes(argv[0]), &b))
        sqlite3_result_text(cx, b.data, (int)b.len, free);
    else {
        sqlite3_result_error(cx, "an op payload that does not decompress", -1);
        vg_buf_free(&b);
    }
}

static void free_dctx(void *p)
{
    ZSTD_freeDCtx(p);
}

void oplog_register_sql(sqlite3 *db)
{
    sqlite3_create_function_v2(db, "vg_payload", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                               ZSTD_createDCtx(), sql_payload, NULL, NULL, free_dctx);
}

vg_rc oplog_append(vg_ws *ws, vg_op *op, const char *payload, size_t len, vg_err *err)
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
    if (oplog_pack(ws, payload, len, &ws->pack))
        sqlite3_bind_blob(st, 8, ws->pack.data, (int)ws->pack.len, SQLITE_STATIC);
    else
        sqlite3_bind_text(st, 8, payload, (int)len, SQLITE_STATIC);
    sqlite3_bind_blob(st, 9, ws->last_hash, 32, SQLITE_STATIC);
    sqlite3_bind_blob(st, 10, hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 11, ws->last_seq + 1);
    if (sqlite3_step(st) != SQLITE_DONE)
        return ws_dberr(ws, err, "appending to the op log");
    memcpy(ws->last_hash, hash, 32);
    op->seq = ++ws->last_seq;
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

vg_rc vg_audit_verify(vg_ws *ws, const vg_head *want, int64_t *count, int64_t *bad_seq,
                      vg_err *err)
{
    sqlite3_stmt *st = NULL;
    unsigned char prev[32] = {0}, hash[32];
    bool want_seen = false;
    int64_t last = 0;
    *count = 0;
    *bad_seq = 0;
    if (sqlite3_prepare_v2(ws->db,
                           "SELECT seq, id, hlc, origin, actor, tenant, kind, target, payload,"
                           " prev_hash, hash FROM ops ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK)
        return ws_dberr(ws, err, "reading the op log");
    int rc;
    vg_buf text;
    vg_buf_init(&text, PAYLOAD_MAX);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(st, 0);
        uint64_t hlc = (uint64_t)sqlite3_column_int64(st, 2);
        const char *id = text_col(st, 1), *origin = text_col(st, 3), *actor = text_col(st, 4),
                   *tenant = text_col(st, 5), *kind = text_col(st, 6),
                   *target = text_col(st, 7), *payload;
        size_t plen;
        char why[64];
        vg_err perr = {0};
        if (oplog_payload(ws, st, 8, &text, &payload, &plen, &perr) != VG_OK) {
            *bad_seq = seq;
            vg_fail(err, VG_ECORRUPT, "op log broken at seq %lld (op %.26s): %s", (long long)seq,
                    id, perr.msg);
            sqlite3_finalize(st);
            vg_buf_free(&text);
            return VG_ECORRUPT;
        }
        oplog_hash(prev, id, hlc, origin, actor, tenant, kind, target, payload, hash);
        if (chain_check(st, 9, 10, prev, hash, "op", why, sizeof why)) {
            *bad_seq = seq;
            vg_fail(err, VG_ECORRUPT, "op log broken at seq %lld (op %.26s): %s", (long long)seq,
                    id, why);
            sqlite3_finalize(st);
            vg_buf_free(&text);
            return VG_ECORRUPT;
        }
        if (want && seq == want->seq) {
            want_seen = true;
            if (memcmp(hash, want->hash, 32) != 0) {
                *bad_seq = seq;
                vg_fail(err, VG_ECORRUPT, "op log rewritten: its op at seq %lld is not the head"
                        " recorded (the log up to there was changed, and its chain made again)",
                        (long long)seq);
                sqlite3_finalize(st);
                vg_buf_free(&text);
                return VG_ECORRUPT;
            }
        }
        memcpy(prev, hash, 32);
        last = seq;
        ++*count;
    }
    sqlite3_finalize(st);
    vg_buf_free(&text);
    if (rc != SQLITE_DONE)
        return ws_dberr(ws, err, "reading the op log");
    if (want && !want_seen && want->seq > 0)
        return vg_fail(err, VG_ECORRUPT,
                       "op log cut short: it ends at seq %lld, before the head recorded (seq %lld)",
                       (long long)last, (long long)want->seq);
    /* the end of the chain is the head the commits recorded */
    vg_rc hrc = oplog_load_head(ws, err);
    if (hrc == VG_OK)
        hrc = oplog_check_head(ws, err);
    if (hrc)
        return hrc;

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

/* ---- alerts' raw events, read from the ops that carry them -------------------- */

/* A few op payloads, decompressed, each with where its alerts are (an
 * alert.import's elements, found in one pass when first asked), so that reading
 * the alerts of a page, a case or the whole workspace (the digest) costs each op
 * one decompression and each alert a lookup, whatever order they are read in. */
#define RAW_OPS 4

typedef struct ws_raw_op {
    int64_t seq; /* 0: empty */
    uint64_t used;
    vg_buf text;
    size_t *at;  /* element i spans [at[2i], at[2i+1]) of text */
    size_t n;
    bool indexed, used_once;
} ws_raw_op;

void ws_raw_forget(vg_ws *ws)
{
    for (int i = 0; ws->raw_ops && i < RAW_OPS; i++) {
        vg_buf_free(&ws->raw_ops[i].text);
        free(ws->raw_ops[i].at);
        memset(&ws->raw_ops[i], 0, sizeof ws->raw_ops[i]);
    }
}

static ws_raw_op *raw_op_load(vg_ws *ws, int64_t seq)
{
    if (!ws->raw_ops)
        ws->raw_ops = vg_xcalloc(RAW_OPS, sizeof *ws->raw_ops);
    ws_raw_op *slot = &ws->raw_ops[0];
    for (int i = 0; i < RAW_OPS; i++) {
        if (ws->raw_ops[i].seq == seq) {
            ws->raw_ops[i].used = ++ws->raw_tick;
            return &ws->raw_ops[i];
        }
        if (ws->raw_ops[i].used < slot->used)
            slot = &ws->raw_ops[i];
    }
    static const char sql[] = "SELECT payload FROM ops WHERE seq = ?";
    sqlite3_stmt *st;
    vg_err err = {0};
    free(slot->at);
    slot->at = NULL;
    slot->n = 0;
    slot->indexed = slot->used_once = false;
    slot->seq = 0;
    if (!slot->text.cap)
        vg_buf_init(&slot->text, PAYLOAD_MAX);
    vg_buf_reset(&slot->text);
    if (ws_stmt_text(ws, sql, &st, &err) != VG_OK)
        return NULL;
    sqlite3_bind_int64(st, 1, seq);
    const char *text;
    size_t len;
    if (sqlite3_step(st) == SQLITE_ROW &&
        oplog_payload(ws, st, 0, &slot->text, &text, &len, &err) == VG_OK &&
        (text == slot->text.data || vg_buf_add(&slot->text, text, len) == VG_OK)) {
        slot->seq = seq;
        slot->used = ++ws->raw_tick;
    }
    sqlite3_reset(st);
    return slot->seq ? slot : NULL;
}

/* Where each element of the op's alerts array is, in one pass. */
static void raw_op_index(ws_raw_op *o)
{
    o->indexed = true;
    const char *t = vg_buf_str(&o->text), *p, *end = t + o->text.len;
    if (!vg_json_member(t, o->text.len, "alerts", &p, NULL) || p >= end || *p != '[')
        return;
    size_t cap = 0;
    const char *s, *e;
    for (p++; vg_json_next(&p, end, &s, &e); o->n++) {
        if (o->n == cap) {
            cap = cap ? cap * 2 : 512;
            o->at = vg_xrealloc(o->at, cap * 2 * sizeof *o->at);
        }
        o->at[2 * o->n] = (size_t)(s - t);
        o->at[2 * o->n + 1] = (size_t)(e - t);
    }
}

/* The raw event of the alert whose text is [s, e): a copy, "{}" when it has none. */
static char *raw_member(const char *s, const char *e)
{
    if (!vg_json_member(s, (size_t)(e - s), "raw", &s, &e) || e <= s || *s != '{')
        return vg_xstrdup("{}");
    return vg_xstrndup(s, (size_t)(e - s));
}

char *ws_alert_raw(vg_ws *ws, int64_t raw_op, int64_t raw_at, const char *legacy)
{
    if (legacy && *legacy)
        return vg_xstrdup(legacy);
    const char *s, *e;
    /* an alert of the batch's alert.import, not in the log yet (apply.c, bulk_add) */
    if (ws->nbulk && raw_op == ws->last_seq + 1 && raw_at >= 0) {
        if ((size_t)raw_at >= ws->nbulk)
            return vg_xstrdup("{}");
        return raw_member(ws->bulk.data + ws->bulk_at[2 * raw_at],
                          ws->bulk.data + ws->bulk_at[2 * raw_at + 1]);
    }
    ws_raw_op *o = raw_op > 0 ? raw_op_load(ws, raw_op) : NULL;
    if (!o)
        return vg_xstrdup("{}");
    const char *t = vg_buf_str(&o->text);
    s = t;
    e = t + o->text.len;
    if (raw_at >= 0) {
        if (!o->indexed && o->used_once) /* a second alert of this op: index them all */
            raw_op_index(o);
        if (o->indexed) {
            if ((size_t)raw_at >= o->n)
                return vg_xstrdup("{}");
            s = t + o->at[2 * raw_at];
            e = t + o->at[2 * raw_at + 1];
        } else { /* the first: walk to it */
            o->used_once = true;
            if (!(vg_json_member(t, o->text.len, "alerts", &s, NULL) &&
                  vg_json_element(s, (size_t)(e - s), (size_t)raw_at, &s, &e)))
                return vg_xstrdup("{}");
        }
    }
    return raw_member(s, e);
}

static void sql_raw(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    (void)argc;
    vg_ws *ws = sqlite3_user_data(cx);
    const unsigned char *legacy = sqlite3_value_text(argv[0]);
    int64_t at = sqlite3_value_type(argv[2]) == SQLITE_NULL ? -1 : sqlite3_value_int64(argv[2]);
    char *raw = ws_alert_raw(ws, sqlite3_value_int64(argv[1]), at, (const char *)legacy);
    sqlite3_result_text(cx, raw, -1, free);
}

void oplog_register_raw(vg_ws *ws)
{
    sqlite3_create_function_v2(ws->db, "vg_raw", 3, SQLITE_UTF8, ws, sql_raw, NULL, NULL, NULL);
}

/* ---- reading the log as ops (replay; sync sends the same) --------------------- */

static vg_rc ops_walk(vg_ws *ws, int64_t after_seq, bool parse, vg_rc (*fn)(void *ud, vg_op *op),
                      void *ud, vg_err *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(ws->db,
                           "SELECT seq, id, hlc, origin, actor, tenant, kind, target, payload"
                           " FROM ops WHERE seq > ? ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK)
        return ws_dberr(ws, err, "reading the op log");
    sqlite3_bind_int64(st, 1, after_seq);
    vg_buf text;
    vg_buf_init(&text, PAYLOAD_MAX);
    vg_rc rc = VG_OK;
    int s;
    while (rc == VG_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(st, 0);
        const char *payload;
        size_t len;
        if ((rc = oplog_payload(ws, st, 8, &text, &payload, &len, err))) {
            char why[sizeof err->msg];
            snprintf(why, sizeof why, "%s", err->msg);
            vg_fail(err, rc, "op log at seq %lld: %.400s", (long long)seq, why);
            break;
        }
        vg_op *op = vg_op_new(text_col(st, 6), text_col(st, 7));
        if (parse) {
            cJSON_Delete(op->payload);
            op->payload = cJSON_ParseWithLength(payload, len);
        }
        op->text = vg_xstrndup(payload, len);
        op->hlc = (uint64_t)sqlite3_column_int64(st, 2);
        snprintf(op->id, sizeof op->id, "%s", text_col(st, 1));
        snprintf(op->origin, sizeof op->origin, "%s", text_col(st, 3));
        op->actor = vg_xstrdup(text_col(st, 4));
        op->tenant = vg_xstrdup(text_col(st, 5));
        op->seq = seq;
        if (!op->payload)
            rc = vg_fail(err, VG_ECORRUPT, "op log at seq %lld: its payload is not JSON",
                         (long long)seq);
        else
            rc = fn(ud, op);
        vg_op_free(op);
    }
    sqlite3_finalize(st);
    vg_buf_free(&text);
    if (rc == VG_OK && s != SQLITE_DONE)
        return ws_dberr(ws, err, "reading the op log");
    return rc;
}

vg_rc vg_ops_each(vg_ws *ws, int64_t after_seq, vg_rc (*fn)(void *ud, vg_op *op), void *ud,
                  vg_err *err)
{
    return ops_walk(ws, after_seq, true, fn, ud, err);
}

vg_rc vg_ops_each_text(vg_ws *ws, int64_t after_seq, vg_rc (*fn)(void *ud, vg_op *op), void *ud,
                       vg_err *err)
{
    return ops_walk(ws, after_seq, false, fn, ud, err);
}

/* Rows per transaction, an alert.import counting its alerts: as an import's (its
 * search rows wait in memory for the commit) */
#define REPLAY_BATCH 20000

struct replay {
    vg_ws *to;
    int64_t ops, applied;
    int64_t rows; /* in the open transaction */
    bool open;
    vg_err *err;
};

static vg_rc replay_one(void *ud, vg_op *op)
{
    struct replay *r = ud;
    op->seq = 0;
    vg_rc rc = VG_OK;
    if (!r->open && (rc = vg_batch_begin(r->to, r->err)))
        return rc;
    r->open = true;
    if ((rc = vg_apply(r->to, op, r->err))) {
        char why[sizeof r->err->msg];
        snprintf(why, sizeof why, "%s", r->err->msg);
        vg_fail(r->err, rc, "op %.26s (%s): %.400s", op->id, op->kind, why);
        vg_batch_rollback(r->to);
        r->open = false;
        return rc;
    }
    r->ops++;
    r->applied += op->seq > 0;
    const cJSON *alerts = strcmp(op->kind, "alert.import") == 0
                              ? cJSON_GetObjectItemCaseSensitive(op->payload, "alerts")
                              : NULL;
    r->rows += cJSON_IsArray(alerts) ? cJSON_GetArraySize(alerts) : 1;
    if (r->rows >= REPLAY_BATCH) {
        r->open = false;
        r->rows = 0;
        return vg_batch_commit(r->to, r->err);
    }
    return VG_OK;
}

vg_rc vg_replay(vg_ws *ws, const char *src_path, int64_t *ops, int64_t *applied, vg_err *err)
{
    vg_ws *src = NULL;
    *ops = *applied = 0;
    vg_rc rc = vg_ws_open(src_path, VG_OPEN_READONLY, &src, err);
    if (rc)
        return rc;
    struct replay r = {.to = ws, .err = err};
    /* the source is read once, in order: a small page cache does */
    if ((rc = ws_exec(src, "PRAGMA cache_size = -2048", err)) == VG_OK &&
        (rc = vg_ws_bulk(ws, true, err)) == VG_OK) {
        rc = vg_ops_each(src, 0, replay_one, &r, err);
        if (rc == VG_OK && r.open)
            rc = vg_batch_commit(ws, err);
        else if (r.open)
            vg_batch_rollback(ws);
        vg_err e2 = {0};
        if (vg_ws_bulk(ws, false, &e2) && rc == VG_OK) {
            *err = e2;
            rc = VG_EDB;
        }
    }
    vg_ws_close(src);
    *ops = r.ops;
    *applied = r.applied;
    return rc;
}
