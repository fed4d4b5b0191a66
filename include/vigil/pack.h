/*
 * pack.h — signed playbook packs, for teams that carry playbooks between
 * air-gapped sites on a file.
 *
 * A pack is text: a header, a blank line, then the payload (JSON: {"vigil_pack": 1,
 * "playbooks": [...]}) byte for byte as signed.
 *
 *   vigil-pack 1
 *   signer ed25519 BASE64-PUBLIC-KEY
 *   signature BASE64-ED25519-SIGNATURE
 *
 *   {"vigil_pack":1,"playbooks":[...]}
 *
 * The signature (libsodium's crypto_sign_detached, Ed25519) covers "vigil-pack 1\n"
 * followed by the payload, so a changed byte anywhere after the header fails it and
 * a changed signer line names a key nobody trusts. An unsigned pack has no signer
 * or signature lines. Keys are one line each: a public key "ed25519 BASE64 comment"
 * (the form of the trusted-keys file, one per line, # comments), a secret key
 * "vigil-secret-key ed25519 BASE64" (64 bytes: seed and public key).
 */
#ifndef VIGIL_PACK_H
#define VIGIL_PACK_H

#include <stdbool.h>
#include <stddef.h>

#include "vigil/err.h"
#include "vigil/playbook.h"

#define VG_PACK_MAGIC "vigil-pack 1\n"

/* A new key pair: *secret_text and *public_text are the two files' contents (the
 * caller frees both; the secret one is to be written mode 0600). */
void vg_pack_keygen(const char *comment, char **secret_text, char **public_text);

/* The pack text for playbooks p[0..n), signed with the secret key file's text
 * (NULL: unsigned). Returns a fresh string, or NULL with err set when the key
 * file is not a secret key. */
char *vg_pack_write(const vg_playbook *p, size_t n, const char *secret_text, const char *key_where,
                    vg_err *err);

/* What opening a pack found. */
typedef struct vg_pack_info {
    bool is_signed;
    char signer[64]; /* "ed25519 BASE64" when signed */
} vg_pack_info;

/* Check a pack of len bytes (`where` names it) against the trusted keys (the
 * trusted-keys file's text, NULL when there is none; trusted_where names it) and
 * parse its playbooks into *items (vg_playbooks_free). Refused, with a message
 * saying which: not a pack; unsigned (unless allow_unsigned); signed by a key not
 * trusted; a signature that does not verify (altered); a playbook that is not
 * valid (naming playbooks[i] and the field). Nothing is returned on refusal. */
VG_WUR vg_rc vg_pack_open(const char *text, size_t len, const char *where, const char *trusted,
                          const char *trusted_where, bool allow_unsigned, vg_pack_info *info,
                          vg_playbook **items, size_t *n, vg_err *err);

#endif
