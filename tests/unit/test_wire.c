/*
 * test_wire.c — the wire form of ops: every op of a demo month survives the
 * trip byte for byte (a replica built from the lines alone has the source's
 * digest), and hostile lines are refused naming the member.
 */
#include "helpers.h"

#include "vigil/demo.h"
#include "vigil/sync.h"

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

/* A server in miniature: a workspace that takes pushes whole (vg_ops_receive, its
 * check refusing an op of another actor than the pusher) and serves pages. */
static vg_rc same_actor(void *ud, const vg_op *op, vg_err *err)
{
    const char *user = ud;
    if (strcmp(op->actor, user) != 0)
        return vg_fail(err, VG_EINVAL, "actor: '%s' is not you (%s)", op->actor, user);
    return VG_OK;
}

/* Push one page of from's ops by `mine` (NULL: anyone's) as `user`. */
static vg_rc push_as(vg_ws *from, const char *mine, const char *user, vg_ws *server,
                     int64_t *sent)
{
    vg_buf b;
    vg_buf_init(&b, 64u << 20);
    int64_t upto, n;
    vg_err err = {0};
    vg_received r;
    assert_int_equal(vg_sync_outbox(from, "team", mine, 1u << 20, &b, &upto, &n, &err), VG_OK);
    *sent = n;
    vg_rc rc = VG_OK;
    if (n) {
        assert_int_equal(vg_batch_begin(server, &err), VG_OK);
        rc = vg_ops_receive(server, b.data, b.len, same_actor, (void *)user, &r, &err);
        if (rc)
            vg_batch_rollback(server);
        else
            assert_int_equal(vg_batch_commit(server, &err), VG_OK);
        if (rc == VG_OK)
            assert_int_equal(vg_sync_pushed(from, "team", upto, &err), VG_OK);
    }
    vg_buf_free(&b);
    return rc;
}

static vg_rc push(vg_ws *from, const char *user, vg_ws *server, int64_t *sent)
{
    return push_as(from, user, user, server, sent);
}

static void pull(vg_ws *to, vg_ws *server)
{
    vg_sync_cursor c;
    vg_err err = {0};
    assert_int_equal(vg_sync_get(to, "team", &c, &err), VG_OK);
    for (;;) {
        vg_buf b;
        vg_buf_init(&b, 64u << 20);
        int64_t upto, n;
        vg_received r;
        assert_int_equal(vg_ops_page(server, c.pulled, 4096, true, &b, &upto, &n, &err), VG_OK);
        if (n == 0) {
            vg_buf_free(&b);
            return;
        }
        if (vg_sync_take(to, "team", b.data, b.len, &r, &err))
            fail_msg("take: %s", err.msg);
        assert_int_equal(r.last_seq, upto);
        vg_buf_free(&b);
        assert_int_equal(vg_sync_get(to, "team", &c, &err), VG_OK);
        assert_int_equal(c.pulled, upto);
    }
}

/* A pull that leaves out the puller's own ops: the cursor still moves past them. */
static void test_pull_skips_own(void **state)
{
    (void)state;
    char *dir = tmp_dir(), *pa = path_in(dir, "a.db"), *pb = path_in(dir, "b.db"),
         *ps = path_in(dir, "s.db");
    vg_ws *a = open_ws(pa, "alice"), *b = open_ws(pb, "bob"), *srv = open_ws(ps, "vigild");
    vg_id c1, c2;
    int64_t sent, upto, n;
    char upto_id[27];
    vg_err err = {0};
    new_case(a, "alice's case", "high", c1);
    must_apply(a, vg_op_note_add(c1, "one"));
    assert_int_equal(push(a, "alice", srv, &sent), VG_OK);
    vg_buf pg;
    vg_buf_init(&pg, 1u << 20);
    /* only alice's ops on the server: a page of none that still ends at the head */
    assert_int_equal(vg_ops_page_for(srv, 0, 4096, vg_ws_replica(a), &pg, &upto, upto_id, &n,
                                     &err), VG_OK);
    assert_int_equal(n, 0);
    assert_int_equal(pg.len, 0);
    assert_int_equal(upto, vg_ws_last_seq(srv));
    char head_id[27];
    assert_int_equal(vg_op_at(srv, upto, head_id, &err), VG_OK);
    assert_string_equal(upto_id, head_id);
    vg_received r;
    assert_int_equal(vg_sync_take_to(a, "team", "", 0, upto, upto_id, &r, &err), VG_OK);
    vg_sync_cursor c;
    assert_int_equal(vg_sync_get(a, "team", &c, &err), VG_OK);
    assert_int_equal(c.pulled, upto);
    assert_string_equal(c.pulled_id, head_id);
    /* bob's op after them comes, and alice's after his do not */
    new_case(b, "bob's case", "low", c2);
    assert_int_equal(push(b, "bob", srv, &sent), VG_OK);
    must_apply(a, vg_op_note_add(c1, "two"));
    assert_int_equal(push(a, "alice", srv, &sent), VG_OK);
    vg_buf_reset(&pg);
    assert_int_equal(vg_ops_page_for(srv, c.pulled, 4096, vg_ws_replica(a), &pg, &upto, upto_id,
                                     &n, &err), VG_OK);
    assert_int_equal(n, 1);
    assert_non_null(strstr(pg.data, "bob's case"));
    assert_null(strstr(pg.data, "\"two\""));
    assert_int_equal(upto, vg_ws_last_seq(srv));
    assert_int_equal(vg_sync_take_to(a, "team", pg.data, pg.len, upto, upto_id, &r, &err), VG_OK);
    assert_int_equal(r.applied, 1);
    assert_int_equal(vg_sync_get(a, "team", &c, &err), VG_OK);
    assert_int_equal(c.pulled, upto);
    /* a page said to end past its lines must name the op it ends at */
    assert_int_equal(vg_sync_take_to(a, "team", "", 0, upto + 5, "", &r, &err), VG_EINVAL);
    vg_buf_free(&pg);
    vg_ws_close(a);
    vg_ws_close(b);
    vg_ws_close(srv);
    free(pa);
    free(pb);
    free(ps);
    rm_tree(dir);
}

static void test_sync_cursors(void **state)
{
    (void)state;
    char *dir = tmp_dir(), *pa = path_in(dir, "a.db"), *pb = path_in(dir, "b.db"),
         *ps = path_in(dir, "s.db");
    vg_ws *a = open_ws(pa, "alice"), *b = open_ws(pb, "bob"), *srv = open_ws(ps, "vigild");
    vg_id c1, c2;
    int64_t sent;
    new_case(a, "alice's case", "high", c1);
    must_apply(a, vg_op_note_add(c1, "seen on WS-7"));
    assert_int_equal(push(a, "alice", srv, &sent), VG_OK);
    assert_int_equal(sent, 2);
    pull(b, srv);
    pull(a, srv); /* its own ops come back: nothing new, and nothing to push again */
    assert_int_equal(push(a, "alice", srv, &sent), VG_OK);
    assert_int_equal(sent, 0);
    /* bob's ops after the team's: only his are pushed */
    new_case(b, "bob's case", "low", c2);
    must_apply(b, vg_op_note_add(c1, "bob: also WS-9"));
    assert_int_equal(push(b, "bob", srv, &sent), VG_OK);
    assert_int_equal(sent, 2);
    pull(a, srv);
    assert_int_equal(push(a, "alice", srv, &sent), VG_OK);
    assert_int_equal(sent, 0);
    /* a write between the push and the pull: the pulled ops (bob's) stay after
     * alice's pushed cursor, and only hers are sent */
    must_apply(b, vg_op_note_add(c2, "bob again"));
    assert_int_equal(push(b, "bob", srv, &sent), VG_OK);
    must_apply(a, vg_op_note_add(c2, "alice on bob's case"));
    pull(a, srv);
    assert_int_equal(push(a, "alice", srv, &sent), VG_OK);
    assert_int_equal(sent, 1);
    pull(b, srv);
    pull(a, srv);
    char da[65], db[65], ds[65];
    vg_err err = {0};
    assert_int_equal(vg_ws_digest(a, da, &err), VG_OK);
    assert_int_equal(vg_ws_digest(b, db, &err), VG_OK);
    assert_int_equal(vg_ws_digest(srv, ds, &err), VG_OK);
    assert_string_equal(da, ds);
    assert_string_equal(db, ds);
    /* an op of bob's that the server does not hold, pushed by alice, is refused whole */
    char *pc = path_in(dir, "c.db");
    vg_ws *c = open_ws(pc, "bob");
    vg_id c3;
    new_case(c, "carol's replica, bob's name", "low", c3);
    int64_t before = sql_int(srv, "SELECT count(*) FROM ops");
    assert_int_equal(push_as(c, NULL, "alice", srv, &sent), VG_EINVAL);
    assert_int_equal(sql_int(srv, "SELECT count(*) FROM ops"), before);
    vg_ws_close(c);
    vg_ws_close(a);
    vg_ws_close(b);
    vg_ws_close(srv);
    free(pa);
    free(pb);
    free(ps);
    free(pc);
    rm_tree(dir);
}

/* The outbox: only the pusher's ops, a renumber made long after its case's create
 * riding right after the create (and "known" at its own place later), *upto
 * passing others' ops. */
static void test_outbox(void **state)
{
    (void)state;
    char *dir = tmp_dir(), *pa = path_in(dir, "a.db"), *pb = path_in(dir, "b.db"),
         *ps = path_in(dir, "s.db");
    vg_ws *a = open_ws(pa, "alice"), *b = open_ws(pb, "bob"), *srv = open_ws(ps, "vigild");
    vg_err err = {0};
    vg_id c1, c2;
    int64_t n, sent;
    new_case(b, "bob's", "low", c2);
    assert_int_equal(push(b, "bob", srv, &sent), VG_OK);
    /* alice works offline, then joins: her case is renumbered at the end of her log */
    new_case(a, "alice's", "high", c1);
    for (int i = 0; i < 40; i++)
        must_apply(a, vg_op_note_add(c1, "a note long enough to take some room on a page"));
    assert_int_equal(vg_refs_lease(a, 100, 199, &n, &err), VG_OK);
    assert_int_equal(n, 1);
    int64_t renumber_seq = vg_ws_last_seq(a);
    pull(a, srv); /* bob's case arrives in the middle of what she has to push */
    must_apply(a, vg_op_note_add(c1, "after the pull"));
    assert_int_equal(sql_int(a, "SELECT count(*) FROM ops WHERE actor = 'bob'"), 1);

    /* small pages: the first holds the create and then the renumber */
    int64_t pages = 0, known = 0, lines = 0;
    vg_sync_cursor cur;
    for (;;) {
        vg_buf out;
        vg_buf_init(&out, 1u << 20);
        int64_t upto;
        assert_int_equal(vg_sync_get(a, "team", &cur, &err), VG_OK);
        assert_int_equal(vg_sync_outbox(a, "team", "alice", 2048, &out, &upto, &n, &err), VG_OK);
        if (upto == cur.pushed) {
            vg_buf_free(&out);
            break;
        }
        const char *body = vg_buf_str(&out);
        assert_null(strstr(body, "\"actor\":\"bob\""));
        if (pages++ == 0) {
            const char *nl = strchr(body, '\n');
            assert_non_null(strstr(body, "\"kind\":\"case.create\""));
            assert_true(strstr(body, "\"kind\":\"case.create\"") < nl);
            assert_non_null(strstr(nl + 1, "\"kind\":\"case.renumber\""));
            assert_true(strstr(nl + 1, "\"kind\":\"case.renumber\"") < strchr(nl + 1, '\n'));
            assert_true(upto < renumber_seq);
        }
        lines += n;
        vg_received r;
        assert_int_equal(vg_batch_begin(srv, &err), VG_OK);
        if (vg_ops_receive(srv, out.data, out.len, same_actor, (void *)"alice", &r, &err))
            fail_msg("receive: %s", err.msg);
        assert_int_equal(vg_batch_commit(srv, &err), VG_OK);
        known += r.known;
        assert_int_equal(vg_sync_pushed(a, "team", upto, &err), VG_OK);
        vg_buf_free(&out);
    }
    assert_true(pages > 2);
    assert_int_equal(known, 1); /* the renumber, at its own place */
    assert_int_equal(lines, sql_int(a, "SELECT count(*) FROM ops WHERE actor = 'alice'") + 1);
    char da[65], ds[65];
    assert_int_equal(vg_ws_digest(a, da, &err), VG_OK);
    assert_int_equal(vg_ws_digest(srv, ds, &err), VG_OK);
    assert_string_equal(da, ds);

    /* only others' ops after the cursor: none to push, and *upto passes them */
    copy_ops(b, a, "ORDER BY seq"); /* known: nothing */
    new_case(b, "bob's second", "low", c2);
    copy_ops(b, a, "WHERE seq = (SELECT max(seq) FROM ops)");
    vg_buf out;
    vg_buf_init(&out, 1u << 20);
    int64_t upto;
    assert_int_equal(vg_sync_get(a, "team", &cur, &err), VG_OK);
    assert_int_equal(vg_sync_outbox(a, "team", "alice", 2048, &out, &upto, &n, &err), VG_OK);
    assert_int_equal(n, 0);
    assert_int_equal(out.len, 0);
    assert_int_equal(upto, vg_ws_last_seq(a));
    assert_true(upto > cur.pushed);
    vg_buf_free(&out);
    vg_ws_close(a);
    vg_ws_close(b);
    vg_ws_close(srv);
    free(pa);
    free(pb);
    free(ps);
    rm_tree(dir);
}

/* pulled_id follows the pulls; reset sends every op of ours again and pulls from
 * the start; forget drops the cursors. */
static void test_cursor_reset_forget(void **state)
{
    (void)state;
    char *dir = tmp_dir(), *pa = path_in(dir, "a.db"), *ps = path_in(dir, "s.db");
    vg_ws *a = open_ws(pa, "alice"), *srv = open_ws(ps, "vigild");
    vg_err err = {0};
    vg_id c1;
    int64_t sent;
    vg_sync_cursor cur;
    assert_int_equal(vg_sync_get(a, "team", &cur, &err), VG_OK);
    assert_string_equal(cur.pulled_id, "");
    new_case(a, "one", "low", c1);
    must_apply(a, vg_op_note_add(c1, "two"));
    assert_int_equal(push(a, "alice", srv, &sent), VG_OK);
    pull(a, srv);
    assert_int_equal(vg_sync_get(a, "team", &cur, &err), VG_OK);
    char id[27];
    assert_int_equal(cur.pulled, 2);
    assert_int_equal(vg_op_at(srv, 2, id, &err), VG_OK);
    assert_string_equal(cur.pulled_id, id);
    /* a fresh handle reads the same cursors back */
    vg_ws *again = open_ws(pa, "alice");
    vg_sync_cursor c2;
    assert_int_equal(vg_sync_get(again, "team", &c2, &err), VG_OK);
    assert_int_equal(c2.pushed, cur.pushed);
    assert_string_equal(c2.pulled_id, id);
    vg_ws_close(again);

    assert_int_equal(vg_sync_reset(a, "team", &err), VG_OK);
    assert_int_equal(vg_sync_get(a, "team", &cur, &err), VG_OK);
    assert_int_equal(cur.pushed, 0);
    assert_int_equal(cur.pulled, 0);
    assert_string_equal(cur.pulled_id, "");
    assert_int_equal(push(a, "alice", srv, &sent), VG_OK);
    assert_int_equal(sent, 2); /* all of hers again; the server skips them */
    assert_int_equal(sql_int(srv, "SELECT count(*) FROM ops"), 2);

    assert_int_equal(vg_sync_forget(a, "team", &err), VG_OK);
    assert_int_equal(sql_int(a, "SELECT count(*) FROM meta WHERE key = 'sync:team'"), 0);
    assert_int_equal(vg_sync_get(a, "team", &cur, &err), VG_OK);
    assert_int_equal(cur.pushed, 0);
    assert_int_equal(vg_sync_forget(a, "team", &err), VG_OK);
    assert_int_equal(vg_sync_forget(a, "", &err), VG_EINVAL);
    vg_ws_close(a);
    vg_ws_close(srv);
    free(pa);
    free(ps);
    rm_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_hostile_lines),
        cmocka_unit_test(test_sync_cursors),
        cmocka_unit_test(test_pull_skips_own),
        cmocka_unit_test(test_outbox),
        cmocka_unit_test(test_cursor_reset_forget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
