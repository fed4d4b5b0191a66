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
/* Append a stamped op whose payload text is `payload`; sets op->seq. */
VG_WUR vg_rc oplog_append(vg_ws *ws, vg_op *op, const char *payload, vg_err *err);

#endif
