/*
 * oplog.h — the op log's hash chain, shared by the write door and the verifier.
 */
#ifndef VIGIL_OPLOG_H
#define VIGIL_OPLOG_H

#include "internal.h"
#include "vigil/op.h"

/* BLAKE2b-256 over prev and every field of an op (the chain link). */
void oplog_hash(const unsigned char prev[32], const char *id, uint64_t hlc, const char *origin,
                const char *actor, const char *tenant, const char *kind, const char *target,
                const char *payload, unsigned char out[32]);
/* Read the newest op's hash and the highest clock into ws (inside a write
 * transaction, so no other writer can move the head meanwhile). */
VG_WUR vg_rc oplog_load_head(vg_ws *ws, vg_err *err);
/* One link of a hash chain (the op log's or the ledger's): the row's stored
 * prev_hash (column pc) must be prev and its stored hash (column hc) must be hash.
 * NULL when it holds, else why not ("it does not follow the op before it"), where
 * noun names a row ("op", "entry"). */
const char *chain_check(sqlite3_stmt *st, int pc, int hc, const unsigned char prev[32],
                        const unsigned char hash[32], const char *noun, char *why, size_t whysz);
/* Append a stamped op whose payload text is `payload`; sets op->seq. */
VG_WUR vg_rc oplog_append(vg_ws *ws, vg_op *op, const char *payload, vg_err *err);

#endif
