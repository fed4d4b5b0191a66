/*
 * test_server.c — vigild's pure parts: the token's text (src/server/token.c) and
 * matching a request to the route table (src/server/route.c).
 */
#include "helpers.h"

#include <sodium.h>

#include "http.h"
#include "token.h"

static void test_token_round_trip(void **state)
{
    (void)state;
    unsigned char raw[TOKEN_BYTES], back[TOKEN_BYTES];
    char text[TOKEN_TEXT_LEN + 1], other[TOKEN_TEXT_LEN + 1];
    token_make(raw, text);
    assert_int_equal(strlen(text), TOKEN_TEXT_LEN);
    assert_memory_equal(text, "vgt_", 4);
    for (const char *p = text + 4; *p; p++)
        assert_true(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p));
    assert_true(token_parse(text, back));
    assert_memory_equal(raw, back, TOKEN_BYTES);
    token_make(back, other);
    assert_string_not_equal(text, other); /* 256 random bits */
}

static void test_token_parse_refuses(void **state)
{
    (void)state;
    unsigned char raw[TOKEN_BYTES];
    char text[TOKEN_TEXT_LEN + 1], bad[TOKEN_TEXT_LEN + 8];
    token_make(raw, text);
    assert_false(token_parse(NULL, raw));
    assert_false(token_parse("", raw));
    assert_false(token_parse("vgt_", raw));
    snprintf(bad, sizeof bad, "vgx_%s", text + 4); /* another prefix */
    assert_false(token_parse(bad, raw));
    snprintf(bad, sizeof bad, "%.*s", TOKEN_TEXT_LEN - 1, text); /* one short */
    assert_false(token_parse(bad, raw));
    snprintf(bad, sizeof bad, "%sA", text); /* one long */
    assert_false(token_parse(bad, raw));
    snprintf(bad, sizeof bad, "%s", text);
    bad[10] = '+'; /* base64, not base64url */
    assert_false(token_parse(bad, raw));
    bad[10] = '=';
    assert_false(token_parse(bad, raw));
    /* 32 bytes end in 4 bits and 2 zero bits: a last character with those bits
     * set is another spelling of the same bytes, refused */
    unsigned char zero[TOKEN_BYTES] = {0};
    char z[TOKEN_TEXT_LEN + 1] = "vgt_";
    sodium_bin2base64(z + 4, sizeof z - 4, zero, sizeof zero,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    assert_true(token_parse(z, raw));
    z[TOKEN_TEXT_LEN - 1] = 'B';
    assert_false(token_parse(z, raw));
}

static void test_token_hash_is_keyed(void **state)
{
    (void)state;
    unsigned char raw[TOKEN_BYTES], k1[TOKEN_KEY_BYTES] = {1}, k2[TOKEN_KEY_BYTES] = {2};
    unsigned char h1[TOKEN_HASH_BYTES], h1b[TOKEN_HASH_BYTES], h2[TOKEN_HASH_BYTES];
    char text[TOKEN_TEXT_LEN + 1];
    token_make(raw, text);
    token_hash(k1, raw, h1);
    token_hash(k1, raw, h1b);
    token_hash(k2, raw, h2);
    assert_memory_equal(h1, h1b, TOKEN_HASH_BYTES);
    assert_memory_not_equal(h1, h2, TOKEN_HASH_BYTES); /* another server's key */
    assert_memory_not_equal(h1, raw, TOKEN_HASH_BYTES);
}

static void test_bearer(void **state)
{
    (void)state;
    assert_string_equal(token_bearer("Bearer vgt_x"), "vgt_x");
    assert_string_equal(token_bearer("bearer  vgt_x"), "vgt_x"); /* the scheme has no case */
    assert_null(token_bearer(NULL));
    assert_null(token_bearer("Basic YTpi"));
    assert_null(token_bearer("Bearer"));
    assert_null(token_bearer("Bearer "));
    assert_null(token_bearer("Bearervgt_x"));
}

static int h(http_req *r, cJSON **out) { return 200; }

static const route table[] = {
    {"GET", "/v1/health", 0, 0, h},
    {"GET", "/v1/cases", ROLES_READ, 0, h},
    {"POST", "/v1/cases", ROLES_WRITE, 100, h},
    {"GET", "/v1/cases/{ref}/notes/{id}", ROLES_READ, 0, h},
};

static void test_route_match(void **state)
{
    (void)state;
    const route *rt;
    char params[ROUTE_PARAMS][ROUTE_PARAM_MAX], allow[64];
    size_t n = sizeof table / sizeof *table;
    assert_int_equal(route_match(table, n, "GET", "/v1/health", &rt, params, allow, sizeof allow),
                     200);
    assert_ptr_equal(rt, &table[0]);
    assert_int_equal(route_match(table, n, "POST", "/v1/cases", &rt, params, allow, sizeof allow),
                     200);
    assert_ptr_equal(rt, &table[2]);
    assert_int_equal(route_match(table, n, "HEAD", "/v1/cases", &rt, params, allow, sizeof allow),
                     200); /* HEAD is GET without the body */
    assert_ptr_equal(rt, &table[1]);
    assert_int_equal(route_match(table, n, "GET", "/v1/cases/42/notes/01J", &rt, params, allow,
                                 sizeof allow), 200);
    assert_ptr_equal(rt, &table[3]);
    assert_string_equal(params[0], "42");
    assert_string_equal(params[1], "01J");

    /* the path, not the method, decides 404 against 405 */
    assert_int_equal(route_match(table, n, "DELETE", "/v1/cases", &rt, params, allow, sizeof allow),
                     405);
    assert_null(rt);
    assert_string_equal(allow, "GET, HEAD, POST");
    assert_int_equal(route_match(table, n, "POST", "/v1/health", &rt, params, allow, sizeof allow),
                     405);
    assert_string_equal(allow, "GET, HEAD");
    static const char *const missing[] = {
        "/v1/nope", "/v1/cases/", "/v1", "/", "", "/v1/health/x", "/v1//cases", "v1/cases",
        "/v1/cases/42/notes", "/v1/cases//notes/1", "/v1/cases/42/notes/1/x", "/V1/cases",
    };
    for (size_t i = 0; i < sizeof missing / sizeof *missing; i++)
        assert_int_equal(route_match(table, n, "GET", missing[i], &rt, params, allow,
                                     sizeof allow), 404);
    /* a segment too long for a parameter matches nothing */
    char longpath[400];
    snprintf(longpath, sizeof longpath, "/v1/cases/%0*d/notes/1", ROUTE_PARAM_MAX, 7);
    assert_int_equal(route_match(table, n, "GET", longpath, &rt, params, allow, sizeof allow),
                     404);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_round_trip),
        cmocka_unit_test(test_token_parse_refuses),
        cmocka_unit_test(test_token_hash_is_keyed),
        cmocka_unit_test(test_bearer),
        cmocka_unit_test(test_route_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
