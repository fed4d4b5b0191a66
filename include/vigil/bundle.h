/*
 * bundle.h — case bundles: cases carried between machines that never meet, as one
 * file encrypted to named recipients and signed by the sender (bundle.c).
 *
 * What a bundle holds is ops, the same ops sync sends (vigil/op.h), in the order of
 * the sender's log: every op of the chosen cases (their create and sets, notes,
 * artifacts, tasks, events, playbook records, alert links and stars, and, when
 * asked, their copilot ledger entries), and their alerts. An alert.import of the
 * sender's that also holds other cases' alerts travels as a part of itself (a new
 * op with part_of: the original's id and part_at: each element's place in it,
 * holding only these cases' elements; an element whose alert was later moved to
 * one of these cases from elsewhere loses its case and the artifacts it chose there,
 * and the move that follows links it), so nothing of another case leaves the
 * machine; the door applies each place's effects once, whichever of the original
 * and its parts a replica gets first (vigil/op.h). A part is made the same way from the
 * same elements every time (its id is derived from them), so a bundle exported
 * twice is imported once. Importing merges the ops through the door with the rules
 * of sync: an op already held changes nothing, so a case worked on two machines and
 * carried back and forth converges.
 *
 * The file: a clear header of text lines, a blank line, the body, and the sender's
 * Ed25519 signature (64 bytes) over everything before it.
 *
 *   vigil-bundle 1
 *   sender vk1:FINGERPRINT
 *   recipient vk1:FINGERPRINT BASE64     (one a recipient: the body's key, sealed
 *   ...                                   to its X25519 key with crypto_box_seal)
 *   ops N
 *   bytes M                               (the body's length)
 *
 *   BODY: a crypto_secretstream_xchacha20poly1305 header (24 bytes), then chunks,
 *   each a 4-byte big-endian length and the sealed chunk (the first with the clear
 *   header as additional data, the last tagged FINAL), of the zstd frame of:
 *   a manifest line {"vigil_bundle": 1, "created_at", "sender", "sender_fp",
 *   "replica", "ledger", "ops", "cases": [{"id", "ref", "title"}]} and then the
 *   ops in wire form, one a line. Format 2 ("vigil_bundle": 2) carries evidence
 *   content (vigil/evidence.h) too: the manifest adds "ops_bytes" (the ops' length)
 *   and "evidence": [{"sha256", "size"}], and the blobs follow the ops, in that
 *   order, byte for byte. A bundle without evidence content is format 1.
 */
#ifndef VIGIL_BUNDLE_H
#define VIGIL_BUNDLE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/buf.h"
#include "vigil/err.h"
#include "vigil/keys.h"
#include "vigil/op.h"
#include "vigil/ws.h"

#define VG_BUNDLE_MAGIC "vigil-bundle 1\n"
#define VG_BUNDLE_MAX_FILE (1ull << 32)    /* 4 GiB: the largest bundle read */
#define VG_BUNDLE_MAX_PLAIN (4ull << 30)   /* what its body may decompress to */
#define VG_BUNDLE_MAX_CASES 10000
#define VG_BUNDLE_MAX_RECIPIENTS 64

/* The clear header, and once opened what the body says. */
typedef struct vg_bundle_info {
    unsigned char sender[VG_FP_BYTES];
    unsigned char recipients[VG_BUNDLE_MAX_RECIPIENTS][VG_FP_BYTES];
    unsigned char sealed[VG_BUNDLE_MAX_RECIPIENTS][80]; /* the body's key, to each */
    size_t nrecipients;
    int64_t ops;
    uint64_t bytes;
    size_t header_len; /* up to and with the blank line */
    cJSON *manifest;   /* owned, once opened (vg_bundle_info_free) */
    unsigned char *evidence; /* owned: a format 2 bundle's evidence content, once opened */
    size_t evidence_len;
} vg_bundle_info;
void vg_bundle_info_free(vg_bundle_info *info);

/* The bundle of cases[0..ncases) (case ids) from ws, with their ledger entries when
 * ledger, signed by me and sealed to to[0..nto) (me is not added: name yourself to
 * read your own bundle), appended to out. *ops: how many ops it holds. */
VG_WUR vg_rc vg_bundle_export(vg_ws *ws, const vg_id *cases, size_t ncases, bool ledger,
                              const vg_identity *me, const vg_pubkey *to, size_t nto,
                              vg_buf *out, int64_t *ops, vg_err *err);

/* The same, carrying the content of the cases' evidence items held here of at most
 * evidence_max bytes each (0: none; vg_bundle_export: VG_EVIDENCE_BUNDLE_MAX), each
 * checked against its hash (an item that changed refuses the export, naming it);
 * *carried how many blobs it holds. Larger items travel as their metadata alone.
 * With content the bundle is format 2 (a format 1 reader refuses it). */
VG_WUR vg_rc vg_bundle_export_with(vg_ws *ws, const vg_id *cases, size_t ncases, bool ledger,
                                   int64_t evidence_max, const vg_identity *me,
                                   const vg_pubkey *to, size_t nto, vg_buf *out, int64_t *ops,
                                   int64_t *carried, vg_err *err);

/* Read the clear header of a bundle of len bytes (`where` names it): VG_EINVAL for
 * a file that is not one; VG_ECORRUPT for one cut short or with bytes after it. */
VG_WUR vg_rc vg_bundle_header(const unsigned char *data, size_t len, const char *where,
                              vg_bundle_info *info, vg_err *err);

/* Open a bundle for me: its sender must be in trusted (or me), the signature must
 * hold, it must be sealed to me; then the body is decrypted and decompressed.
 * *ops_text (fresh, *ops_len bytes) is the ops' wire lines and info->manifest the
 * manifest. Refusals say which: not a bundle, cut short, from a key not trusted,
 * altered (the signature fails), not for this key, damaged inside. */
VG_WUR vg_rc vg_bundle_open(const unsigned char *data, size_t len, const char *where,
                            const vg_identity *me, const vg_keyring *trusted,
                            vg_bundle_info *info, char **ops_text, size_t *ops_len, vg_err *err);

/* Merge an opened bundle's ops into ws through the door in one batch, whole or not
 * at all. Every op must be of a kind a bundle carries and concern the cases of
 * the manifest (a bundle cannot write elsewhere). */
VG_WUR vg_rc vg_bundle_merge(vg_ws *ws, const cJSON *manifest, const char *ops_text,
                             size_t ops_len, vg_received *r, vg_err *err);

/* After vg_bundle_merge: store an opened bundle's evidence content in ws's store
 * (each blob checked against its hash), the items of it marked held. *stored: how
 * many blobs. */
VG_WUR vg_rc vg_bundle_evidence_store(vg_ws *ws, const vg_bundle_info *info, int64_t *stored,
                                      vg_err *err);

#endif
