/*
 * evidence.h — a case's evidence register and its chain of custody (evidence.c).
 *
 * An evidence item is a file an analyst attached to a case: its SHA-256, SHA-1 and
 * MD5, its size, a type read from its first bytes, its original name, who added it
 * and when. The register is ops (evidence.add, evidence.custody: vigil/op.h), so it
 * syncs, audits and replays like the rest of a case; the content is not. It is kept
 * beside the workspace, content-addressed by SHA-256, in `<workspace>.d/evidence/
 * ab/cdef...` (0600 files in 0700 directories), or, added by reference only (a disk
 * image), stays where it is and only its path is recorded.
 *
 * Every add, access, export, transfer and verify is an entry of the item's chain
 * of custody (who, when, what, the hash seen), written through the door.
 */
#ifndef VIGIL_EVIDENCE_H
#define VIGIL_EVIDENCE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "vigil/buf.h"
#include "vigil/err.h"
#include "vigil/id.h"
#include "vigil/ws.h"

/* The default largest item a bundle carries the content of (vigil bundle export's
 * --evidence-max); a larger one travels as its metadata alone. */
#define VG_EVIDENCE_BUNDLE_MAX (64ll << 20)

typedef struct vg_evidence {
    vg_id id, case_id;
    char sha256[65], sha1[41], md5[33];
    int64_t size;
    char type[32];
    char *name;        /* the file's original name */
    char *description; /* "" when none */
    char *path;        /* ref-only: the file's path as given; NULL: a stored copy */
    char *added_by;
    int64_t added_at;
} vg_evidence;

typedef struct vg_custody {
    vg_id id;
    char action[16]; /* add, access, export, transfer, verify */
    char *actor;
    int64_t at;
    char sha256[65]; /* the hash seen ("" when the content was not there) */
    char result[16]; /* ok, changed, missing, absent ("" for none) */
    char *detail;    /* where to, from whom ("" when none) */
} vg_custody;

void vg_evidence_clear(vg_evidence *e);
void vg_evidences_free(vg_evidence *items, size_t n);
void vg_custody_free(vg_custody *items, size_t n);

/* The type of a file from its first n bytes ("pdf", "zip", "pe", "pcap", "text",
 * "data", ...): a static string. */
const char *vg_evidence_sniff(const unsigned char *p, size_t n);

/* The directory the workspace keeps evidence content in, and one item's blob path
 * there: fresh strings. */
char *vg_evidence_dir(const vg_ws *ws);
char *vg_evidence_blob_path(const vg_ws *ws, const char *sha256);

/* Add the file at path to case_id: hashed while it is copied (streamed, never read
 * whole) to a temporary file beside the store, which is renamed to its hash's name
 * only once complete; then the evidence.add op. ref_only: hashed in place, its path
 * recorded, nothing copied. name NULL: the path's last component. A directory, a
 * missing or unreadable file is refused naming it, and nothing is stored; an op
 * that fails leaves no blob it made. *out (may be NULL) the new item. */
VG_WUR vg_rc vg_evidence_add(vg_ws *ws, const char *case_id, const char *path, const char *name,
                             const char *description, bool ref_only, vg_evidence *out, vg_err *err);

/* The register of a case (case_id NULL: every case's), oldest first. */
VG_WUR vg_rc vg_evidence_list(vg_ws *ws, const char *case_id, vg_evidence **items, size_t *n,
                              vg_err *err);
/* One item by its id or a unique prefix of it (at least 4 characters). */
VG_WUR vg_rc vg_evidence_find(vg_ws *ws, const char *id, vg_evidence *out, vg_err *err);
/* An item's chain of custody, oldest first. */
VG_WUR vg_rc vg_evidence_custody(vg_ws *ws, const char *evidence_id, vg_custody **items, size_t *n,
                                 vg_err *err);

/* Is the item's content here (its blob, or its ref-only file)? */
bool vg_evidence_present(const vg_ws *ws, const vg_evidence *e);
/* Rehash the item's content: result "ok", "changed" (sha_seen the hash found),
 * "missing" (this workspace held it and it is gone, or the ref-only file is gone)
 * or "absent" (never here: its metadata came by sync or a bundle without it). */
VG_WUR vg_rc vg_evidence_check(vg_ws *ws, const vg_evidence *e, char sha_seen[65],
                               const char **result, vg_err *err);
/* Write the item's content to fd, hashing it as it streams: VG_ECORRUPT when it is
 * not the content registered (what was written is then not it: the caller discards
 * it), VG_ENOTFOUND when it is not here. */
VG_WUR vg_rc vg_evidence_write(vg_ws *ws, const vg_evidence *e, int fd, vg_err *err);

/* A custody entry for the item through the door (action: access, export, transfer,
 * verify; sha_seen, result and detail may be NULL). */
VG_WUR vg_rc vg_evidence_record(vg_ws *ws, const vg_evidence *e, const char *action,
                                const char *sha_seen, const char *result, const char *detail,
                                vg_err *err);

/* The item's content into out (whose cap bounds it), checked against its hash. */
VG_WUR vg_rc vg_evidence_read(vg_ws *ws, const vg_evidence *e, vg_buf *out, vg_err *err);
/* Store len bytes as the blob of sha256 (checked: VG_ECORRUPT when they hash to
 * something else), through a temporary file and a rename; an existing blob is kept. */
VG_WUR vg_rc vg_evidence_store(vg_ws *ws, const char *sha256, const void *data, size_t len,
                               vg_err *err);
/* Mark the item as held here (so that its content going away is "missing"). */
VG_WUR vg_rc vg_evidence_mark_held(vg_ws *ws, const char *evidence_id, vg_err *err);

/* The item as JSON (id, case, name, type, size, sha256, sha1, md5, description,
 * stored: "copy"|"ref", path, added_by, added_at, present). */
cJSON *vg_evidence_json(const vg_ws *ws, const vg_evidence *e);

#endif
