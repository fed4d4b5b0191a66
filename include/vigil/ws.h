/*
 * ws.h — a workspace: one SQLite file holding a team's or an analyst's cases.
 *
 * Opening checks that the file is a vigil workspace (SQLite's application_id) of a
 * schema this vigil understands before anything is written to it; a foreign file,
 * or one written by a newer vigil, is refused and left untouched. An older schema
 * is migrated in one transaction.
 */
#ifndef VIGIL_WS_H
#define VIGIL_WS_H

#include <stdbool.h>
#include <stdint.h>

#include "vigil/buf.h"
#include "vigil/err.h"
#include "vigil/id.h"

typedef struct vg_ws vg_ws;

/* The schema version this vigil writes (PRAGMA user_version). */
#define VG_SCHEMA_VERSION 20

enum {
    VG_OPEN_CREATE = 1 << 0,   /* create the file if it does not exist */
    VG_OPEN_READONLY = 1 << 1, /* never write (no migration either) */
};

/* Who hears how a long migration is going (what it is doing, how far of how
 * much); NULL: nobody. For the whole process; set before opening. */
void vg_ws_on_progress(void (*fn)(const char *what, int64_t done, int64_t total));
/* Who hears what the analyst should know about a workspace that opened anyway (one
 * that another user owns, or that others may write), a sentence per open; NULL:
 * nobody. For the whole process; set before opening. */
void vg_ws_on_notice(void (*fn)(const char *msg));

/* Open the workspace at path. On success *out is a workspace the caller closes
 * with vg_ws_close. A missing file without VG_OPEN_CREATE is VG_ENOTFOUND; with it,
 * the file is made mode 0600 (its -wal and -shm follow). */
VG_WUR vg_rc vg_ws_open(const char *path, int flags, vg_ws **out, vg_err *err);
void vg_ws_close(vg_ws *ws);
/* A bulk load (an import, the demo, a replay). The write door checks every value
 * it writes against the model's vocabularies and that the case a row names exists,
 * and SQLite's CHECK and foreign-key constraints repeat those rules; while on,
 * SQLite leaves them unevaluated (an IN list of three names costs it a temporary
 * b-tree per row, a foreign key a lookup of the case), and the write-ahead log is
 * copied into the workspace less often (it may grow to 200 MB). Off again when the
 * load ends. */
VG_WUR vg_rc vg_ws_bulk(vg_ws *ws, bool on, vg_err *err);

/* Remove the workspace file at path with its -wal and -shm (a scratch one; no
 * connection may hold it open). */
void vg_ws_remove(const char *path);

const char *vg_ws_path(const vg_ws *ws);
/* This workspace's replica id (a ULID made when it was created). */
const char *vg_ws_replica(const vg_ws *ws);
/* Who writes (the actor stamped on new ops) and for which tenant. The strings are
 * copied. The default actor is "unknown"; the default tenant is "". */
void vg_ws_set_actor(vg_ws *ws, const char *actor);
const char *vg_ws_actor(const vg_ws *ws);
void vg_ws_set_tenant(vg_ws *ws, const char *tenant);

/* Hooks of a frontend that keeps the log's truth elsewhere (vigild's PostgreSQL
 * store, where the database's log is the truth and this workspace a copy of it).
 * begin runs when a batch is about to begin, before its transaction takes the
 * file's write lock (so that a lock of the frontend's is always taken before it,
 * never while holding it: two processes on one file cannot deadlock), and may
 * apply ops in batches of its own; commit runs before a batch that added the ops (after, upto]
 * commits, while its transaction is still open (vg_ops_each reads them). Either
 * failing rolls the batch back, so what commit recorded elsewhere and what the
 * workspace holds never disagree by more than a commit the hook made and the
 * workspace then failed to make. NULL: none. */
typedef struct vg_ws_hooks {
    vg_rc (*begin)(void *ud, vg_ws *ws, vg_err *err);
    vg_rc (*commit)(void *ud, vg_ws *ws, int64_t after, int64_t upto, vg_err *err);
    void *ud;
} vg_ws_hooks;
void vg_ws_set_hooks(vg_ws *ws, const vg_ws_hooks *h);

/* A SHA-like digest (BLAKE2b-256, hex) of the entity state: two replicas that have
 * applied the same ops, in any causal order, have the same digest. */
VG_WUR vg_rc vg_ws_digest(vg_ws *ws, char hex[65], vg_err *err);

/* A frontend's own records kept in the workspace beside the core's (meta, under
 * 'aux:KEY'), written in the caller's open batch when there is one, so that a
 * record and the ops it speaks of commit together (vigild's idempotency keys).
 * A value begins with its expiry (ms since the epoch) and a space; vg_ws_aux_prune
 * removes the records under prefix whose expiry has passed. */
VG_WUR vg_rc vg_ws_aux_get(vg_ws *ws, const char *key, vg_buf *out, bool *found, vg_err *err);
VG_WUR vg_rc vg_ws_aux_put(vg_ws *ws, const char *key, const char *value, vg_err *err);
VG_WUR vg_rc vg_ws_aux_prune(vg_ws *ws, const char *prefix, int64_t now_ms, vg_err *err);

/* Has another connection committed since the last call? (PRAGMA data_version) */
VG_WUR vg_rc vg_ws_changed(vg_ws *ws, int *changed, vg_err *err);

/* The op log's head: its newest op's seq and hash. Every commit that adds ops
 * records it in the workspace, and the door writes nothing while the log does not
 * end there (ops removed from the end of a hash chain leave a valid chain). An
 * analyst keeps it elsewhere as text, "SEQ:HEX" (VG_HEAD_TEXT bytes with the NUL). */
typedef struct vg_head {
    int64_t seq;
    unsigned char hash[32];
} vg_head;
#define VG_HEAD_TEXT 86
void vg_head_format(const vg_head *h, char out[VG_HEAD_TEXT]);
bool vg_head_parse(const char *s, vg_head *out);
/* The head, checked against the record the commits keep (VG_ECORRUPT if they differ). */
VG_WUR vg_rc vg_audit_head(vg_ws *ws, vg_head *out, vg_err *err);

/* Recompute the op log's hash chain. On a break, *bad_seq is the first op whose
 * hash does not match and the result is VG_ECORRUPT with a message naming it;
 * *count is the number of ops checked. The chain must end at the head the commits
 * recorded and, if want is not NULL, hold want (a head recorded earlier, kept
 * elsewhere): the op at want->seq has want->hash. Also runs SQLite's quick_check. */
VG_WUR vg_rc vg_audit_verify(vg_ws *ws, const vg_head *want, int64_t *count, int64_t *bad_seq,
                             vg_err *err);
/* Replay the op log into a new workspace at scratch (which must not exist or be
 * empty; the caller removes it) and compare every entity table with the replay's:
 * VG_ECORRUPT naming the first table that differs and a row of it, when the tables
 * were changed without the ops that make them. *ops is the number of ops replayed. */
VG_WUR vg_rc vg_audit_replay_check(vg_ws *ws, const char *scratch, int64_t *ops, vg_err *err);

#endif
