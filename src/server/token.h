/*
 * token.h — bearer tokens: their text form and their keyed hash.
 *
 * A token is "vgt_" and 43 characters of base64url without padding: 32 random
 * bytes from libsodium, which are the secret. The store keeps only BLAKE2b-256 of
 * those bytes keyed with the server's key (DIR/server.key), so a copy of server.db
 * alone neither holds a token nor lets one be checked offline. libsodium's decoder
 * refuses non-canonical text, so each secret has exactly one spelling.
 */
#ifndef VIGILD_TOKEN_H
#define VIGILD_TOKEN_H

#include <stdbool.h>

#define TOKEN_PREFIX "vgt_"
#define TOKEN_BYTES 32
#define TOKEN_TEXT_LEN 47 /* "vgt_" + 43 */
#define TOKEN_KEY_BYTES 32
#define TOKEN_HASH_BYTES 32

/* Fresh random secret bytes and their text (TOKEN_TEXT_LEN + 1 bytes with the NUL). */
void token_make(unsigned char raw[TOKEN_BYTES], char text[TOKEN_TEXT_LEN + 1]);
/* The secret bytes of text; false if text is not exactly a token. */
bool token_parse(const char *text, unsigned char raw[TOKEN_BYTES]);
/* The keyed hash the store keeps for a secret. */
void token_hash(const unsigned char key[TOKEN_KEY_BYTES], const unsigned char raw[TOKEN_BYTES],
                unsigned char out[TOKEN_HASH_BYTES]);
/* The credentials of an Authorization header value if its scheme is Bearer (in any
 * case, RFC 9110), else NULL. Points into value. */
const char *token_bearer(const char *value);

#endif
