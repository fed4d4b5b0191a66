/*
 * oplog.h — the op log's hash chain, shared by the write door and the verifier.
 */
#ifndef VIGIL_OPLOG_H
#define VIGIL_OPLOG_H

#include "internal.h"
#include "vigil/buf.h"
#include "vigil/op.h"

/* BLAKE2b-256 over prev and every field of an op (the chain link). */
void oplog_hash(const unsigned char prev[32], const char *id, uint64_t hlc, const char *origin,
                const char *actor, const char *tenant, const char *kind, const char *target,
                const char *payload, unsigned char out[32]);
/* Read the newest op's hash and the highest clock into ws (inside a write
 * transaction, so no other writer can move the head meanwhile). */
VG_WUR vg_rc oplog_load_head(vg_ws *ws, vg_err *err);
/* Record ws's newest op as the log's head (meta 'head'), in the open transaction. */
VG_WUR vg_rc oplog_store_head(vg_ws *ws, vg_err *err);
/* VG_ECORRUPT, saying how, unless the log (as oplog_load_head read it) ends at the
 * head recorded. */
VG_WUR vg_rc oplog_check_head(vg_ws *ws, vg_err *err);
/* One link of a hash chain (the op log's or the ledger's): the row's stored
 * prev_hash (column pc) must be prev and its stored hash (column hc) must be hash.
 * NULL when it holds, else why not ("it does not follow the op before it"), where
 * noun names a row ("op", "entry"). */
const char *chain_check(sqlite3_stmt *st, int pc, int hc, const unsigned char prev[32],
                        const unsigned char hash[32], const char *noun, char *why, size_t whysz);
/* Append a stamped op whose payload text is `payload` (len bytes) as seq
 * ws->last_seq + 1; sets op->seq. The hash covers the text; the row holds it
 * compressed when that is smaller (see oplog.c). */
VG_WUR vg_rc oplog_append(vg_ws *ws, vg_op *op, const char *payload, size_t len, vg_err *err);
/* The canonical text of the payload in column col of st: *text points into st's
 * row (stored as text) or into out (stored compressed), *len bytes, NUL-terminated.
 * VG_ECORRUPT when a compressed payload does not decompress. */
VG_WUR vg_rc oplog_payload(vg_ws *ws, sqlite3_stmt *st, int col, vg_buf *out, const char **text,
                           size_t *len, vg_err *err);
/* Compress text for storage into out (a zstd frame); false when that would not be
 * smaller, or the text is short enough that it is kept as it is. */
bool oplog_pack(vg_ws *ws, const char *text, size_t len, vg_buf *out);
/* The SQL function vg_payload(payload): an op's payload as text, whichever way it
 * is stored (for migrations, tests and anyone reading the log in SQL). */
void oplog_register_sql(sqlite3 *db);
/* The SQL function vg_raw(raw, raw_op, raw_at) on ws's connection: an alert's raw
 * event (ws_alert_raw). */
void oplog_register_raw(vg_ws *ws);

#endif
