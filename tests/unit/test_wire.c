/*
 * test_wire.c — the wire form of ops: every op of a demo month survives the
 * trip byte for byte (a replica built from the lines alone has the source's
 * digest), and hostile lines are refused naming the member.
 */
#include "helpers.h"

#include "vigil/demo.h"

struct sink {
    vg_buf lines;
    int64_t n;
};

static vg_rc to_wire(void *ud, vg_op *op)
{
    struct sink *s = ud;
    vg_err err = {0};
    s->n++;
    return vg_op_wire(op, op->text, strlen(op->text), op->seq, &s->lines, &err);
}

static void test_round_trip(void **state)
{
    (void)state;
    char *dir = tmp_dir(), *a = path_in(dir, "a.db"), *b = path_in(dir, "b.db");
    vg_ws *src = open_ws(a, "alice"), *dst = open_ws(b, "bob");
    vg_err err = {0};
    vg_demo_opts o = {.seed = 7, .cases = 40, .alerts = 300, .now_ms = 1764547200000};
    assert_int_equal(vg_demo_build(src, &o, NULL, &err), VG_OK);
    /* a raw event with a number a double cannot hold */
    vg_op *al = vg_op_new("alert.add", NULL);
    cJSON_AddStringToObject(al->payload, "source", "suricata");
    cJSON_AddStringToObject(al->payload, "title", "big flow id");
    cJSON_AddStringToObject(al->payload, "severity", "low");
    cJSON_AddNumberToObject(al->payload, "event_time", 1764547100000);
    cJSON_AddItemToObject(al->payload, "raw", cJSON_CreateRaw("{\"flow_id\":1844674407370955161}"));
    must_apply(src, al);

    struct sink s = {.n = 0};
    vg_buf_init(&s.lines, 1u << 30);
    assert_int_equal(vg_ops_each(src, 0, to_wire, &s, &err), VG_OK);
    assert_true(s.n > 100);
    assert_non_null(strstr(vg_buf_str(&s.lines), "1844674407370955161"));

    /* the receiver reads line by line; seq is the sender's place */
    const char *at = vg_buf_str(&s.lines), *end = at + s.lines.len;
    int64_t want = 1;
    assert_int_equal(vg_batch_begin(dst, &err), VG_OK);
    while (at < end) {
        const char *nl = memchr(at, '\n', (size_t)(end - at));
        assert_non_null(nl);
        vg_op *op;
        int64_t seq;
        if (vg_op_unwire(at, (size_t)(nl - at), &op, &seq, &err))
            fail_msg("line %lld: %s", (long long)want, err.msg);
        assert_int_equal(seq, want++);
        op->seq = 0;
        if (vg_apply(dst, op, &err))
            fail_msg("apply: %s", err.msg);
        vg_op_free(op);
        at = nl + 1;
    }
    assert_int_equal(vg_batch_commit(dst, &err), VG_OK);
    char d1[65], d2[65];
    assert_int_equal(vg_ws_digest(src, d1, &err), VG_OK);
    assert_int_equal(vg_ws_digest(dst, d2, &err), VG_OK);
    assert_string_equal(d1, d2);
    int64_t count, bad;
    assert_int_equal(vg_audit_verify(dst, NULL, &count, &bad, &err), VG_OK);
    assert_int_equal(count, s.n);
    /* the 64-bit number arrived exact in the receiver's raw event */
    char *raw = sql_text(dst, "SELECT vg_raw(raw, raw_op, raw_at) FROM alerts WHERE title ="
                              " 'big flow id'");
    assert_non_null(strstr(raw, "1844674407370955161"));
    free(raw);
    vg_buf_free(&s.lines);
    vg_ws_close(src);
    vg_ws_close(dst);
    free(a);
    free(b);
    rm_tree(dir);
}

#define OK_HEAD                                                                                    \
    "\"id\":\"01JABCDEFGHJKMNPQRSTVWXYZ0\",\"hlc\":\"123456789\","                                 \
    "\"origin\":\"01JABCDEFGHJKMNPQRSTVWXYZ1\",\"actor\":\"alice\",\"tenant\":"                    \
    "\"\","                                                                                        \
    "\"kind\":\"note.add\",\"target\":\"01JABCDEFGHJKMNPQRSTVWXYZ2\""

static void test_hostile_lines(void **state)
{
    (void)state;
    static const struct {
        const char *line, *why;
    } bad[] = {
        {"", "not a JSON object"},
        {"[1,2]", "not a JSON object"},
        {"{" OK_HEAD ",\"payload\":{\"text\":\"x\"}} {}", "more than one JSON value"},
        {"{" OK_HEAD "}", "payload: required"},
        {"{" OK_HEAD ",\"payload\":[1]}", "payload: must be an object"},
        {"{" OK_HEAD ",\"payload\":{},\"colour\":1}", "colour: not a member of an op"},
        {"{" OK_HEAD ",\"actor\":\"mallory\",\"payload\":{}}", "actor: given twice"},
        {"{\"id\":\"nope\",\"payload\":{}}", "id: 'nope' is not an id"},
        {"{\"id\":7,\"payload\":{}}", "id: must be a string"},
        {"{\"id\":\"01JABCDEFGHJKMNPQRSTVWXYZ0\",\"hlc\":123,\"payload\":{}}",
         "hlc: must be a string"},
        {"{\"id\":\"01JABCDEFGHJKMNPQRSTVWXYZ0\",\"hlc\":"
         "\"99999999999999999999\",\"payload\":{}}",
         "hlc: '99999999999999999999' is not a clock"},
        {"{\"id\":\"01JABCDEFGHJKMNPQRSTVWXYZ0\",\"hlc\":\"-1\",\"payload\":{}}", "is not a clock"},
        {"{\"id\":\"01JABCDEFGHJKMNPQRSTVWXYZ0\",\"hlc\":\"0\",\"payload\":{}}", "is not a clock"},
        {"{\"id\":\"01JABCDEFGHJKMNPQRSTVWXYZ0\",\"hlc\":\"1\",\"origin\":"
         "\"01JABCDEFGHJKMNPQRSTVWXYZ1\",\"actor\":\"al\xffice\",\"payload\":{}}",
         "actor: not valid UTF-8"},
        {"{\"seq\":1.5," OK_HEAD ",\"payload\":{}}", "seq: must be a whole number"},
        {"{\"seq\":-3," OK_HEAD ",\"payload\":{}}", "seq: must be a whole number"},
        {"{\"id\":\"01JABCDEFGHJKMNPQRSTVWXYZ0\",\"hlc\":\"1\",\"origin\":"
         "\"01JABCDEFGHJKMNPQRSTVWXYZ1\",\"actor\":\"a\",\"tenant\":\"\","
         "\"kind\":\"a.kind.far.too.long.to.be.one\",\"payload\":{}}",
         "kind: longer than 23 bytes"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        vg_op *op = (vg_op *)1;
        vg_err err = {0};
        if (vg_op_unwire(bad[i].line, strlen(bad[i].line), &op, NULL, &err) != VG_EINVAL)
            fail_msg("line %zu was accepted: %s", i, bad[i].line);
        assert_null(op);
        if (!strstr(err.msg, bad[i].why))
            fail_msg("line %zu: '%s', wanted '%s'", i, err.msg, bad[i].why);
    }
    /* 10,000 levels deep: refused by the parser's nesting limit, not the stack */
    size_t depth = 10000;
    char *deep = malloc(depth * 2 + 200);
    int n = snprintf(deep, 200, "{" OK_HEAD ",\"payload\":{\"x\":");
    for (size_t i = 0; i < depth; i++)
        deep[n + i] = '[';
    for (size_t i = 0; i < depth; i++)
        deep[n + depth + i] = ']';
    strcpy(deep + n + 2 * depth, "}}");
    vg_op *op;
    vg_err err = {0};
    assert_int_equal(vg_op_unwire(deep, strlen(deep), &op, NULL, &err), VG_EINVAL);
    assert_non_null(strstr(err.msg, "nested deeper than"));
    free(deep);

    /* and a good one keeps its payload's bytes as sent */
    const char *good = "{\"seq\":42," OK_HEAD ",\"payload\":{ \"text\" : \"hi\" }}\n";
    int64_t seq;
    assert_int_equal(vg_op_unwire(good, strlen(good), &op, &seq, &err), VG_OK);
    assert_int_equal(seq, 42);
    assert_int_equal(op->hlc, 123456789);
    assert_string_equal(op->text, "{ \"text\" : \"hi\" }");
    assert_string_equal(op->kind, "note.add");
    vg_op_free(op);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_hostile_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
