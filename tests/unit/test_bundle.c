/*
 * test_bundle.c — what a bundle carries and how the door merges it.
 *
 * Alice's workspace holds one alert.import op with alerts of two cases, of the
 * inbox, and a repeat (two elements for one alert); an inbox alert is linked to
 * case 1 later, and an alert of case 2 is moved to case 1. A bundle of case 1
 * carries parts of that op. Bob must end with the same case 1 as Alice (counts
 * included), and when Alice's whole log reaches him afterwards (the original after
 * its part, as a team's sync would bring it) or before, both must end with Alice's
 * digest: no alert counted twice either way. A bundle whose ops write a case it
 * does not hold, or that fails half-way, is refused with nothing written.
 */
#include "helpers.h"
#include "vigil/bundle.h"

typedef struct world {
    char *dir;
    vg_ws *a, *b;
    vg_identity alice, bob;
    vg_id c1, c2, c3;
} world;

static vg_op *alert(const char *ref, const char *case_id, int64_t t)
{
    vg_op *op = vg_op_new("alert.add", NULL);
    cJSON_AddStringToObject(op->payload, "source", "ids");
    cJSON_AddStringToObject(op->payload, "source_ref", ref);
    cJSON_AddStringToObject(op->payload, "title", ref);
    cJSON_AddNumberToObject(op->payload, "event_time", (double)t);
    cJSON *e = cJSON_AddObjectToObject(op->payload, "entities");
    char ip[32];
    snprintf(ip, sizeof ip, "198.51.100.%d", (int)(t % 200));
    cJSON_AddStringToObject(e, "src_ip", ip);
    char raw[160];
    snprintf(raw, sizeof raw, "{\"flow_id\":1882548932481212%03d,\"ref\":\"%s\",\"t\":%lld}",
             (int)(t % 1000), ref, (long long)t);
    cJSON_AddItemToObject(op->payload, "raw", cJSON_CreateRaw(raw));
    if (case_id) {
        cJSON_AddStringToObject(op->payload, "case", case_id);
        cJSON_AddTrueToObject(op->payload, "artifacts");
    }
    return op;
}

static char *alert_id(vg_ws *ws, const char *ref)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT id FROM alerts WHERE source_ref = '%s'", ref);
    return sql_text(ws, sql);
}

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    w->dir = tmp_dir();
    char *pa = path_in(w->dir, "a.db"), *pb = path_in(w->dir, "b.db");
    w->a = open_ws(pa, "alice");
    w->b = open_ws(pb, "bob");
    free(pa);
    free(pb);
    vg_identity_new("alice", &w->alice);
    vg_identity_new("bob", &w->bob);
    new_case(w->a, "one", "high", w->c1);
    new_case(w->a, "two", "low", w->c2);
    new_case(w->a, "three, stays home", "low", w->c3);
    vg_err err = {0};
    assert_int_equal(vg_batch_begin(w->a, &err), VG_OK);
    const struct {
        const char *ref, *case_id;
    } al[] = {{"r1", w->c1}, {"r2", w->c2}, {"r3", NULL}, {"r1", w->c1}, {"r4", w->c2},
              {"r5", w->c3}, {"r6", NULL}};
    for (size_t i = 0; i < sizeof al / sizeof *al; i++) {
        vg_op *op = alert(al[i].ref, al[i].case_id, 1790000000000 + (int64_t)i * 1000);
        if (vg_apply(w->a, op, &err) != VG_OK)
            fail_msg("alert: %s", err.msg);
        vg_op_free(op);
    }
    assert_int_equal(vg_batch_commit(w->a, &err), VG_OK);
    assert_int_equal(sql_int(w->a, "SELECT count(*) FROM ops WHERE kind = 'alert.import'"), 1);
    char *r3 = alert_id(w->a, "r3"), *r4 = alert_id(w->a, "r4");
    must_apply(w->a, vg_op_alert_link(r3, w->c1)); /* from the inbox */
    must_apply(w->a, vg_op_alert_link(r4, w->c1)); /* moved from case 2 */
    free(r3);
    free(r4);
    must_apply(w->a, vg_op_note_add(w->c1, "alice's note"));
    must_apply(w->a, vg_op_note_add(w->c3, "PRIVATE"));
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    vg_ws_close(w->a);
    vg_ws_close(w->b);
    vg_identity_wipe(&w->alice);
    vg_identity_wipe(&w->bob);
    rm_tree(w->dir);
    free(w);
    return 0;
}

/* Alice's bundle of case 1 for Bob, opened by Bob: its ops text and manifest. */
static char *carry(world *w, const vg_id *cases, size_t n, cJSON **manifest, size_t *len)
{
    vg_buf out;
    vg_buf_init(&out, VG_BUNDLE_MAX_FILE);
    vg_err err = {0};
    int64_t ops = 0;
    if (vg_bundle_export(w->a, cases, n, false, &w->alice, &w->bob.pub, 1, &out, &ops, &err))
        fail_msg("export: %s", err.msg);
    vg_keyring ring = {.keys = &w->alice.pub, .n = 1};
    vg_bundle_info info;
    char *text = NULL;
    if (vg_bundle_open((const unsigned char *)out.data, out.len, "t.vb", &w->bob, &ring, &info,
                       &text, len, &err))
        fail_msg("open: %s", err.msg);
    assert_int_equal(info.ops, ops);
    *manifest = info.manifest;
    vg_buf_free(&out);
    return text;
}

static void merge(vg_ws *ws, const cJSON *m, const char *text, size_t len)
{
    vg_err err = {0};
    vg_received r;
    if (vg_bundle_merge(ws, m, text, len, &r, &err))
        fail_msg("merge: %s", err.msg);
}

static void digest(vg_ws *ws, char out[65])
{
    vg_err err = {0};
    assert_int_equal(vg_ws_digest(ws, out, &err), VG_OK);
}

static const char *COUNTS = "SELECT group_concat(source_ref || ':' || count || ':' ||"
                            " coalesce(case_id, '-'), ',') FROM (SELECT * FROM alerts"
                            " ORDER BY source_ref)";

static void test_part_then_original(void **state)
{
    world *w = *state;
    cJSON *m;
    size_t len;
    char *text = carry(w, (const vg_id *)&w->c1, 1, &m, &len);
    assert_null(strstr(text, "PRIVATE"));
    assert_null(strstr(text, "\"r5\"")); /* case 3's alert */
    assert_null(strstr(text, "\"r2\"")); /* case 2's */
    assert_non_null(strstr(text, "\"part_of\""));
    assert_non_null(strstr(text, "1882548932481212")); /* raw events byte for byte */
    merge(w->b, m, text, len);
    char want[512], *got = sql_text(w->b, COUNTS), *a = sql_text(w->a, COUNTS);
    /* bob holds case 1's alerts as alice counts them (r1 twice), nothing else */
    snprintf(want, sizeof want, "r1:2:%s,r3:1:%s,r4:1:%s", w->c1, w->c1, w->c1);
    assert_string_equal(got, want);
    free(got);
    /* the same bundle again changes nothing */
    char d1[65], d2[65];
    digest(w->b, d1);
    merge(w->b, m, text, len);
    digest(w->b, d2);
    assert_string_equal(d1, d2);
    /* then alice's whole log, the original op after its part: alice's state */
    copy_ops(w->a, w->b, "ORDER BY seq");
    got = sql_text(w->b, COUNTS);
    assert_string_equal(got, a);
    digest(w->a, d1);
    digest(w->b, d2);
    assert_string_equal(d1, d2);
    free(got);
    free(a);
    free(text);
    cJSON_Delete(m);
}

static void test_original_then_part(void **state)
{
    world *w = *state;
    copy_ops(w->a, w->b, "ORDER BY seq");
    cJSON *m;
    size_t len;
    char *text = carry(w, (const vg_id *)&w->c1, 1, &m, &len);
    merge(w->b, m, text, len);
    char d1[65], d2[65];
    digest(w->a, d1);
    digest(w->b, d2);
    assert_string_equal(d1, d2);
    /* and a part carried back to alice (bob's bundle of case 1) changes nothing there */
    vg_buf out;
    vg_buf_init(&out, VG_BUNDLE_MAX_FILE);
    vg_err err = {0};
    int64_t ops;
    assert_int_equal(vg_bundle_export(w->b, (const vg_id *)&w->c1, 1, false, &w->bob,
                                      &w->alice.pub, 1, &out, &ops, &err),
                     VG_OK);
    vg_keyring ring = {.keys = &w->bob.pub, .n = 1};
    vg_bundle_info info;
    char *back;
    size_t blen;
    assert_int_equal(vg_bundle_open((const unsigned char *)out.data, out.len, "b.vb", &w->alice,
                                    &ring, &info, &back, &blen, &err),
                     VG_OK);
    merge(w->a, info.manifest, back, blen);
    digest(w->a, d2);
    assert_string_equal(d1, d2);
    vg_bundle_info_free(&info);
    vg_buf_free(&out);
    free(back);
    free(text);
    cJSON_Delete(m);
}

static void test_refused_whole(void **state)
{
    world *w = *state;
    cJSON *m;
    size_t len;
    char *text = carry(w, (const vg_id *)&w->c1, 1, &m, &len);
    char d0[65], d1[65];
    digest(w->b, d0);
    /* a signed bundle whose last op writes a case it does not hold: refused whole */
    vg_buf more;
    vg_buf_init(&more, (size_t)-1 / 2);
    assert_int_equal(vg_buf_add(&more, text, len), VG_OK);
    vg_op *op = vg_op_note_add(w->c3, "written where the bundle may not");
    must_apply(w->a, op);
    int64_t upto, n;
    vg_err err = {0};
    assert_int_equal(vg_ops_page(w->a, vg_ws_last_seq(w->a) - 1, 1 << 20, false, &more, &upto, &n,
                                 &err),
                     VG_OK);
    vg_received r;
    assert_int_not_equal(vg_bundle_merge(w->b, m, more.data, more.len, &r, &err), VG_OK);
    assert_non_null(strstr(err.msg, "does not hold"));
    digest(w->b, d1);
    assert_string_equal(d0, d1);
    /* one that breaks off in its last line: nothing of it is written */
    assert_int_not_equal(vg_bundle_merge(w->b, m, text, len - 20, &r, &err), VG_OK);
    digest(w->b, d1);
    assert_string_equal(d0, d1);
    vg_buf_free(&more);
    free(text);
    cJSON_Delete(m);
}

static void test_keys(void **state)
{
    (void)state;
    vg_identity id, back;
    vg_identity_new("ann.o-neil@x", &id);
    char *t = vg_identity_text(&id);
    vg_err err = {0};
    assert_int_equal(vg_identity_parse(t, strlen(t), "f", &back, &err), VG_OK);
    assert_memory_equal(&id, &back, sizeof id);
    t[strlen(t) - 3] ^= 1; /* a damaged box key */
    assert_int_not_equal(vg_identity_parse(t, strlen(t), "f", &back, &err), VG_OK);
    assert_non_null(strstr(err.msg, "line 4"));
    free(t);
    char *line = vg_pubkey_line(&id.pub);
    vg_pubkey k;
    assert_int_equal(vg_pubkey_parse(line, strlen(line), &k, &err), VG_OK);
    assert_memory_equal(&k, &id.pub, sizeof k);
    vg_keyring r = {.keys = &k, .n = 1};
    char fp[VG_FP_TEXT];
    vg_pubkey_fp_text(&k, fp);
    assert_int_equal(strlen(fp), VG_FP_TEXT - 1);
    assert_ptr_equal(vg_keyring_find(&r, fp, NULL), r.keys);
    char prefix[16];
    snprintf(prefix, sizeof prefix, "%.13s", fp + 4); /* 12 digits and a dash */
    assert_ptr_equal(vg_keyring_find(&r, prefix, NULL), r.keys);
    assert_ptr_equal(vg_keyring_find(&r, "ann.o-neil@x", NULL), r.keys);
    assert_null(vg_keyring_find(&r, "ann", NULL));
    assert_null(vg_keyring_find(&r, "vk1:12", NULL)); /* too short a prefix */
    assert_false(vg_key_name_ok("two words"));
    assert_false(vg_key_name_ok(""));
    free(line);
    vg_identity_wipe(&id);
}

/* A bundle of a case that others were merged into carries them and the merges:
 * Bob ends with case 2's rows on case 1 and case 2 closed as a duplicate, as Alice
 * has them; a bundle asked for by the merged case's id is the target's. */
static void test_merged_cases_travel(void **state)
{
    world *w = *state;
    must_apply(w->a, vg_op_note_add(w->c2, "two's note"));
    must_apply(w->a, vg_op_case_merge(w->c2, w->c1));
    for (int by_source = 0; by_source < 2; by_source++) {
        cJSON *m;
        size_t len;
        char *text = carry(w, by_source ? &w->c2 : &w->c1, 1, &m, &len);
        merge(w->b, m, text, len);
        free(text);
        cJSON_Delete(m);
    }
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM notes WHERE case_id = '%s'", w->c1);
    assert_int_equal(sql_int(w->b, sql), 2);
    snprintf(sql, sizeof sql, "SELECT merged_into = '%s' AND resolution = 'duplicate' FROM cases"
                              " WHERE id = '%s'", w->c1, w->c2);
    assert_int_equal(sql_int(w->b, sql), 1);
    assert_int_equal(sql_int(w->b, "SELECT count(*) FROM notes WHERE body = 'PRIVATE'"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_part_then_original, setup, teardown),
        cmocka_unit_test_setup_teardown(test_original_then_part, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merged_cases_travel, setup, teardown),
        cmocka_unit_test(test_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
