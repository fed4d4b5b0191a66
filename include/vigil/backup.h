/*
 * backup.h — encrypted backups of a workspace and their restore (backup.c), for
 * `vigil backup` and `vigil restore`.
 *
 * A backup is one consistent snapshot of the workspace file (SQLite's online backup
 * API, so an import writing meanwhile is either in it or not), compressed with zstd
 * and sealed with libsodium's crypto_secretstream_xchacha20poly1305, streamed a chunk
 * at a time (a 1M-alert workspace is some 750 MB; it is never held in memory). The
 * file:
 *
 *   vigil-backup 1
 *   lock self vk1:3f0a-91c2-... BASE64          (the file key sealed to the key set)
 *   lock passphrase argon2id OPS MEM BASE64     (or: the key derived from a passphrase)
 *   <blank line>
 *   the secretstream header (24 bytes), then chunks of VG_BACKUP_SEALED bytes
 *
 * One lock line, nothing else in clear: not the workspace's name, size or dates.
 * To self, the file key is 32 random bytes sealed with crypto_box_seal to the
 * identity's X25519 key (vigil/keys.h), so a backup opens with the key set alone; by
 * passphrase, the key is Argon2id13 (crypto_pwhash) of the passphrase with the random
 * salt and the cost written in the lock (VG_BACKUP_OPS, VG_BACKUP_MEM by default).
 *
 * Every chunk holds VG_BACKUP_CHUNK bytes of the compressed stream; the last carries
 * the FINAL tag and is padded to the same size (ISO/IEC 7816-4, sodium_pad), so every
 * chunk is the same length: a file whose body is not a whole number of chunks, or
 * whose last chunk is not FINAL, was cut short, and a complete chunk that does not
 * authenticate was altered. The clear header's bytes are the first chunk's additional
 * data, so a changed header fails too.
 */
#ifndef VIGIL_BACKUP_H
#define VIGIL_BACKUP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "vigil/err.h"
#include "vigil/keys.h"
#include "vigil/ws.h"

#define VG_BACKUP_MAGIC "vigil-backup 1"
#define VG_BACKUP_HEADER_MAX 512                 /* the clear header, its blank line included */
#define VG_BACKUP_CHUNK 65536u                   /* compressed bytes a chunk holds */
#define VG_BACKUP_SEALED (VG_BACKUP_CHUNK + 17u) /* ... and its length in the file */
#define VG_BACKUP_SEALED_KEY 80                  /* crypto_box_SEALBYTES + a 32-byte file key */
#define VG_BACKUP_SALT 16                        /* crypto_pwhash_SALTBYTES */
/* Argon2id's cost for a new passphrase lock: libsodium's MODERATE (3 passes over
 * 256 MiB, about 0.6 s on the machines vigil is built on). A backup is made and
 * opened rarely and lives on a stick that can be lost, so each guess should cost
 * an attacker what one restore costs the analyst; INTERACTIVE (64 MiB, 0.1 s) is
 * six times cheaper to guess, SENSITIVE (1 GiB, 3-6 s) asks more memory than a
 * jump host may have. */
#define VG_BACKUP_OPS 3ull
#define VG_BACKUP_MEM (256u * 1024 * 1024)
/* The most a restore writes, whatever the free disk says. */
#define VG_BACKUP_PLAIN_MAX (64ull << 30)

typedef enum vg_backup_kind { VG_LOCK_SELF = 1, VG_LOCK_PASSPHRASE = 2 } vg_backup_kind;

/* A backup's clear header as read. */
typedef struct vg_backup_header {
    vg_backup_kind kind;
    unsigned char fp[VG_FP_BYTES];              /* self: whose key set */
    unsigned char sealed[VG_BACKUP_SEALED_KEY]; /* self: the sealed file key */
    unsigned long long ops;                     /* passphrase: Argon2id's passes */
    size_t mem;                                 /* ... and memory in bytes */
    unsigned char salt[VG_BACKUP_SALT];         /* ... and salt */
    unsigned char text[VG_BACKUP_HEADER_MAX];   /* the header's bytes (the first */
    size_t len;                                 /* chunk's additional data) */
} vg_backup_header;

/* Parse a header from the first len bytes of a file (buf need not end where the
 * header does; eof says whether the file ends there). On success *used is the
 * header's length, blank line included. Refuses, saying why: a file that is not a
 * backup, a format this vigil does not know, a header cut short, a lock line that
 * is not one of the two forms or whose cost is out of range (so that a changed
 * header cannot make a restore ask for terabytes). */
VG_WUR vg_rc vg_backup_header_parse(const char *buf, size_t len, bool eof, size_t *used,
                                    vg_backup_header *out, vg_err *err);

/* How a new backup is locked: to `to` (the analyst's public key), or else by the
 * passphrase (pass, passlen bytes) at Argon2id cost ops and mem (0: the defaults). */
typedef struct vg_backup_lock {
    const vg_pubkey *to;
    const char *pass;
    size_t passlen;
    unsigned long long ops;
    size_t mem;
} vg_backup_lock;

/* What opens one: the key set (for a self lock) or the passphrase. */
typedef struct vg_backup_key {
    const vg_identity *id;
    const char *pass;
    size_t passlen;
} vg_backup_key;

/* What a backup or a restore did. plain is the workspace file's size, sealed the
 * backup's; ops and head describe the snapshot (backup) or the restored workspace. */
typedef struct vg_backup_info {
    uint64_t plain, sealed;
    int64_t ops;
    vg_head head;
} vg_backup_info;

/* Write a backup of ws to out: the snapshot is made in a temporary file in tmpdir
 * (NULL: $TMPDIR, else /tmp), mode 0600, unlinked as soon as it is open for reading
 * and so gone when this returns, whatever happens. out is flushed, not closed; on
 * failure what was written to it is not a backup. Not inside a batch of ws's. */
VG_WUR vg_rc vg_backup_write(vg_ws *ws, FILE *out, const vg_backup_lock *lock, const char *tmpdir,
                             vg_backup_info *info, vg_err *err);

/* Read and parse the clear header from in (where names it in messages), leaving in
 * at the first byte after it. */
VG_WUR vg_rc vg_backup_read_header(FILE *in, const char *where, vg_backup_header *h, vg_err *err);

enum { VG_RESTORE_FORCE = 1 << 0 }; /* replace a file already at path */

/* Restore the backup whose header h was read from in to a workspace at path.
 * The workspace is written to path.restore-tmp (mode 0600, at most
 * VG_BACKUP_PLAIN_MAX bytes or the free space of path's directory), opened as a
 * workspace (migrated if it is older), checked (PRAGMA integrity_check, the op log's
 * chain and head, the ledger's chains), and only then renamed to path. A file at
 * path is replaced only with VG_RESTORE_FORCE, and never while a process has it
 * open; its -wal and -shm are removed first (a stale log beside the new file would
 * be replayed into it). On any failure path is untouched and the temporary file
 * removed; the message says which failure: a wrong key or passphrase, a backup
 * sealed to another key set, a file cut short or altered. */
VG_WUR vg_rc vg_backup_restore(FILE *in, const char *where, const vg_backup_header *h,
                               const vg_backup_key *key, const char *path, int flags,
                               vg_backup_info *info, vg_err *err);

#endif
