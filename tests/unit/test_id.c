/*
 * test_id.c — ULIDs and the hybrid logical clock.
 */
#include "helpers.h"

static void test_ulid_shape_and_time(void **state)
{
    (void)state;
    vg_id a, b;
    int64_t ms = 1731000000123;
    vg_ulid(ms, a);
    vg_ulid(ms, b);
    assert_int_equal(strlen(a), 26);
    assert_true(vg_ulid_valid(a));
    assert_string_not_equal(a, b);           /* 80 random bits */
    assert_int_equal(vg_ulid_ms(a), ms);     /* time round-trips */
    assert_memory_equal(a, b, 10);           /* same ms, same time prefix */
    vg_ulid(ms + 1, b);
    assert_true(strcmp(a, b) < 0);           /* later sorts after */
    assert_false(vg_ulid_valid("01JABCDEFGHJKMNPQRSTVWXYZI")); /* I is not Crockford */
    assert_false(vg_ulid_valid("01jabcdefghjkmnpqrstvwxyz0")); /* ids are upper case */
    assert_false(vg_ulid_valid("81JABCDEFGHJKMNPQRSTVWXYZ0")); /* above 2^128 */
    assert_false(vg_ulid_valid("01JABC"));
    assert_false(vg_ulid_valid(NULL));
}

static void test_ulid_seeded_is_deterministic(void **state)
{
    (void)state;
    uint64_t s1 = 42, s2 = 42, s3 = 43;
    vg_id a, b, c;
    vg_ulid_seeded(1000, &s1, a);
    vg_ulid_seeded(1000, &s2, b);
    vg_ulid_seeded(1000, &s3, c);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    vg_ulid_seeded(1000, &s1, c);
    assert_string_not_equal(a, c); /* the state advances */
}

static void test_ulid_hlc_orders_within_a_millisecond(void **state)
{
    (void)state;
    uint64_t h = VG_HLC(1731000000000, 0);
    vg_id prev = "", cur;
    for (int i = 0; i < 300; i++) {
        h = vg_hlc_next(h, 1731000000000); /* the wall clock stands still */
        vg_ulid_hlc(h, cur);
        assert_true(strcmp(prev, cur) < 0);
        assert_int_equal(vg_ulid_ms(cur), 1731000000000);
        memcpy(prev, cur, sizeof prev);
    }
}

static void test_hlc(void **state)
{
    (void)state;
    uint64_t h = vg_hlc_next(0, 5000);
    assert_int_equal(VG_HLC_MS(h), 5000);
    uint64_t h2 = vg_hlc_next(h, 4000); /* the wall clock went backwards */
    assert_true(h2 > h);
    uint64_t h3 = vg_hlc_recv(h2, VG_HLC(9000, 7), 5000); /* a peer ahead of us */
    assert_true(h3 > VG_HLC(9000, 7));
    assert_true(vg_hlc_next(h3, 5000) > h3);
    assert_int_equal(VG_HLC_MS(vg_hlc_next(h3, 20000)), 20000); /* catches up with wall time */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ulid_shape_and_time),
        cmocka_unit_test(test_ulid_seeded_is_deterministic),
        cmocka_unit_test(test_ulid_hlc_orders_within_a_millisecond),
        cmocka_unit_test(test_hlc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
