/*
 * wire.c — an op in its wire form (src/core/wire.c), as a vigild or a replica
 * reads it from the network, and a message of them received through the door.
 *
 * The input is one message: lines of any bytes. Each line either fails to read
 * with an error naming what is wrong, or reads as an op whose wire form, written
 * again, reads back as the same op (id, clock, origin, actor, tenant, kind,
 * target, and the payload's very bytes). The whole message, received into a
 * fresh workspace inside a batch, is taken whole or not at all: after a refusal
 * the log holds nothing, after a success as many ops as were applied, and the
 * log's chain verifies.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "vigil/buf.h"
#include "vigil/op.h"
#include "vigil/sync.h"

static void one_line(const char *line, size_t len)
{
    vg_op *op = NULL;
    int64_t seq = 0;
    vg_err err = {0};
    if (vg_op_unwire(line, len, &op, &seq, &err) != VG_OK) {
        fz_check(err.msg[0] != '\0', "a refused line with no reason");
        return;
    }
    vg_buf b;
    vg_buf_init(&b, 64u << 20);
    fz_check(vg_op_wire(op, op->text, strlen(op->text), seq, &b, &err) == VG_OK,
             "an op read cannot be written again: %s", err.msg);
    vg_op *back = NULL;
    int64_t seq2 = 0;
    fz_check(vg_op_unwire(b.data, b.len - 1, &back, &seq2, &err) == VG_OK,
             "an op written cannot be read again: %s", err.msg);
    fz_check(strcmp(op->id, back->id) == 0 && op->hlc == back->hlc &&
                 strcmp(op->origin, back->origin) == 0 && strcmp(op->actor, back->actor) == 0 &&
                 strcmp(op->tenant, back->tenant) == 0 && strcmp(op->kind, back->kind) == 0 &&
                 strcmp(op->target, back->target) == 0 && strcmp(op->text, back->text) == 0 &&
                 seq == seq2,
             "an op changed on its way round: %s", op->id);
    vg_op_free(back);
    vg_op_free(op);
    vg_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        one_line(p, (size_t)(le - p));
        p = le + 1;
    }
    vg_ws *ws = fz_workspace();
    vg_err err = {0};
    vg_received got;
    fz_check(vg_batch_begin(ws, &err) == VG_OK, "%s", err.msg);
    vg_rc rc = vg_ops_receive(ws, (const char *)data, size, NULL, NULL, &got, &err);
    if (rc == VG_OK)
        rc = vg_batch_commit(ws, &err);
    else
        vg_batch_rollback(ws);
    int64_t count = -1, bad = -1;
    fz_check(vg_audit_verify(ws, NULL, &count, &bad, &err) == VG_OK,
             "the log does not verify after a message: %s", err.msg);
    fz_check(count == (rc == VG_OK ? got.applied : 0),
             "%lld ops in the log after a message %s (%lld applied)", (long long)count,
             rc == VG_OK ? "taken" : "refused", (long long)got.applied);
    fz_workspace_drop(ws);
    return 0;
}
