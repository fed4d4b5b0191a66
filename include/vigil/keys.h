/*
 * keys.h — an analyst's key set and the colleagues' keys they trust (keys.c), for
 * case bundles (vigil/bundle.h), backups sealed to oneself and playbook packs.
 *
 * One identity per analyst: an Ed25519 key that signs and an X25519 key that
 * receives (libsodium's crypto_sign and crypto_box). Its file is text, mode 0600:
 *
 *   vigil-identity 1
 *   name alice
 *   sign-secret BASE64 (64 bytes: seed and public key)
 *   box-secret BASE64 (32 bytes)
 *
 * What an analyst gives colleagues is one line, the public half:
 *
 *   vigil-key 1 alice ed25519:BASE64 x25519:BASE64
 *
 * and its fingerprint, "vk1:" and the first 16 bytes of BLAKE2b-256 over the two
 * public keys, in hex groups of four ("vk1:3f0a-91c2-..."), to read out over a
 * phone. A keyring is a file of such lines (# comments), the keys one trusts.
 */
#ifndef VIGIL_KEYS_H
#define VIGIL_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "vigil/err.h"

#define VG_KEY_NAME_MAX 63
#define VG_FP_TEXT 44 /* "vk1:" + 8 groups of 4 hex + 7 dashes + NUL */
#define VG_FP_BYTES 16

typedef struct vg_pubkey {
    char name[VG_KEY_NAME_MAX + 1];
    unsigned char sign[32]; /* Ed25519 public key */
    unsigned char box[32];  /* X25519 public key */
} vg_pubkey;

typedef struct vg_identity {
    vg_pubkey pub;
    unsigned char sign_sk[64];
    unsigned char box_sk[32];
} vg_identity;

/* Exactly want bytes of standard base64 in s[0..slen) into out (the whole span
 * must be the encoding): what every key, seal and signature line holds. */
bool vg_b64_exact(const char *s, size_t slen, unsigned char *out, size_t want);

/* Is name a key's name (1 to 63 of A-Z a-z 0-9 . _ @ + -)? */
bool vg_key_name_ok(const char *name);

/* A new identity called name (which must pass vg_key_name_ok). */
void vg_identity_new(const char *name, vg_identity *out);
/* The identity file's text (the caller wipes it with sodium_memzero and frees it). */
char *vg_identity_text(const vg_identity *id);
/* Read an identity file's text (`where` names it in errors). */
VG_WUR vg_rc vg_identity_parse(const char *text, size_t len, const char *where, vg_identity *out,
                               vg_err *err);
void vg_identity_wipe(vg_identity *id);

/* The public line, with a newline (the caller frees it). */
char *vg_pubkey_line(const vg_pubkey *k);
/* A public line (trailing space or newline allowed); VG_EINVAL saying what is wrong. */
VG_WUR vg_rc vg_pubkey_parse(const char *line, size_t len, vg_pubkey *out, vg_err *err);
/* The fingerprint's 16 bytes and its text. */
void vg_pubkey_fp(const vg_pubkey *k, unsigned char out[VG_FP_BYTES]);
void vg_pubkey_fp_text(const vg_pubkey *k, char out[VG_FP_TEXT]);
void vg_fp_format(const unsigned char fp[VG_FP_BYTES], char out[VG_FP_TEXT]);

/* A keyring: the keys in a file's text (`where` names it; NULL text: none).
 * A line that is not a key is an error naming it. */
typedef struct vg_keyring {
    vg_pubkey *keys;
    size_t n;
} vg_keyring;
VG_WUR vg_rc vg_keyring_parse(const char *text, const char *where, vg_keyring *out, vg_err *err);
void vg_keyring_free(vg_keyring *r);
/* The key whose name, fingerprint text (whole, or a prefix of at least 8 hex digits,
 * dashes optional) or public line matches who; NULL when none or more than one
 * (*ambiguous then says which). */
const vg_pubkey *vg_keyring_find(const vg_keyring *r, const char *who, bool *ambiguous);
/* The key with this fingerprint; NULL when none. */
const vg_pubkey *vg_keyring_by_fp(const vg_keyring *r, const unsigned char fp[VG_FP_BYTES]);
/* Add k (a key with the same fingerprint is replaced: a new name) and return the
 * ring's text; *replaced says whether it was there. */
char *vg_keyring_add(const vg_keyring *r, const vg_pubkey *k, bool *replaced);
/* The ring's text without the key of this fingerprint. */
char *vg_keyring_text_without(const vg_keyring *r, const unsigned char fp[VG_FP_BYTES]);

#endif
