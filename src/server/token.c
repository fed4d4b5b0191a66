/*
 * token.c — bearer tokens' text and hash (token.h). Pure functions over libsodium,
 * unit-tested in tests/unit/test_server.c.
 */
#include <sodium.h>
#include <string.h>
#include <strings.h>

#include "token.h"

void token_make(unsigned char raw[TOKEN_BYTES], char text[TOKEN_TEXT_LEN + 1])
{
    randombytes_buf(raw, TOKEN_BYTES);
    memcpy(text, TOKEN_PREFIX, 4);
    /* sodium_bin2base64 needs room for the terminator: 44 bytes for 32 */
    sodium_bin2base64(text + 4, TOKEN_TEXT_LEN + 1 - 4, raw, TOKEN_BYTES,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

bool token_parse(const char *text, unsigned char raw[TOKEN_BYTES])
{
    size_t len = 0;
    const char *end = NULL;
    if (!text || strlen(text) != TOKEN_TEXT_LEN || memcmp(text, TOKEN_PREFIX, 4) != 0)
        return false;
    if (sodium_base642bin(raw, TOKEN_BYTES, text + 4, TOKEN_TEXT_LEN - 4, NULL, &len, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        len != TOKEN_BYTES || end != text + TOKEN_TEXT_LEN) {
        sodium_memzero(raw, TOKEN_BYTES);
        return false;
    }
    return true;
}

void token_hash(const unsigned char key[TOKEN_KEY_BYTES], const unsigned char raw[TOKEN_BYTES],
                unsigned char out[TOKEN_HASH_BYTES])
{
    crypto_generichash(out, TOKEN_HASH_BYTES, raw, TOKEN_BYTES, key, TOKEN_KEY_BYTES);
}

const char *token_bearer(const char *value)
{
    if (!value || strncasecmp(value, "Bearer", 6) != 0 || (value[6] != ' ' && value[6] != '\t'))
        return NULL;
    value += 6;
    while (*value == ' ' || *value == '\t')
        value++;
    return *value ? value : NULL;
}
