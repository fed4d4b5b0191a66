/*
 * test_refs.c — case refs in a team: a local workspace numbers 1, 2, 3; a lease
 * renumbers its cases once, by ops, and gives the next refs; a lease used up gives
 * provisional refs that the next lease replaces; a batch rolled back gives its ref
 * back; and replicas that receive the renumber ops, in any causal order, hold the
 * same refs and the same digest.
 */
#include "helpers.h"

#include "vigil/sync.h"

static int64_t ref_of(vg_ws *ws, const char *case_id)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT ref FROM cases WHERE id = '%s'", case_id);
    return sql_int(ws, sql);
}

/* Timeline rows of the case whose summary is exactly s. */
static int64_t rows_saying(vg_ws *ws, const char *case_id, const char *s)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(ws->db, "SELECT count(*) FROM events WHERE case_id = ?"
                                                " AND summary = ?", -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, s, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static vg_op *renumber(const char *case_id, const char *json)
{
    vg_op *op = vg_op_new("case.renumber", case_id);
    cJSON_Delete(op->payload);
    op->payload = cJSON_Parse(json);
    return op;
}

static void digest(vg_ws *ws, char out[65])
{
    vg_err err = {0};
    assert_int_equal(vg_ws_digest(ws, out, &err), VG_OK);
}

static void test_lease_renumbers(void **state)
{
    fx *f = *state;
    vg_ws *ws = f->ws;
    vg_err err = {0};
    vg_id c[3], d;
    for (int i = 0; i < 3; i++)
        new_case(ws, "before the team", "low", c[i]);
    for (int i = 0; i < 3; i++)
        assert_int_equal(ref_of(ws, c[i]), i + 1);
    vg_refs r;
    int64_t want, n;
    assert_int_equal(vg_refs_get(ws, &r, &err), VG_OK);
    assert_false(r.leased);
    assert_int_equal(r.unleased, 3);
    assert_int_equal(vg_refs_wanted(ws, 10, &want, &err), VG_OK);
    assert_int_equal(want, 13);

    /* the first lease: every case, in ref order, by a renumber op with a row */
    assert_int_equal(vg_refs_lease(ws, 100, 109, &n, &err), VG_OK);
    assert_int_equal(n, 3);
    for (int i = 0; i < 3; i++) {
        char s[80];
        assert_int_equal(ref_of(ws, c[i]), 100 + i);
        snprintf(s, sizeof s, "case renumbered #%d → #%d", i + 1, 100 + i);
        assert_int_equal(rows_saying(ws, c[i], s), 1);
    }
    assert_int_equal(sql_int(ws, "SELECT count(*) FROM ops WHERE kind = 'case.renumber'"
                                 " AND actor = 'alice'"), 3);
    new_case(ws, "after", "low", d);
    assert_int_equal(ref_of(ws, d), 103);
    assert_int_equal(vg_refs_get(ws, &r, &err), VG_OK);
    assert_true(r.leased);
    assert_int_equal(r.unleased, 0);
    assert_int_equal(r.next, 104);
    assert_int_equal(r.hi, 109);
    assert_int_equal(r.left, 6);
    assert_int_equal(vg_refs_wanted(ws, 5, &want, &err), VG_OK);
    assert_int_equal(want, 0);
    assert_int_equal(vg_refs_wanted(ws, 8, &want, &err), VG_OK);
    assert_int_equal(want, 2);

    /* used up: provisional refs */
    for (int i = 104; i <= 109; i++)
        new_case(ws, "more", "low", d);
    assert_int_equal(ref_of(ws, d), 109);
    vg_id p1, p2;
    new_case(ws, "offline", "low", p1);
    new_case(ws, "offline too", "low", p2);
    assert_int_equal(ref_of(ws, p1), VG_REF_PROVISIONAL);
    assert_int_equal(ref_of(ws, p2), VG_REF_PROVISIONAL + 1);
    assert_int_equal(vg_refs_get(ws, &r, &err), VG_OK);
    assert_int_equal(r.provisional, 2);
    assert_int_equal(r.left, 0);
    assert_int_equal(vg_refs_wanted(ws, 10, &want, &err), VG_OK);
    assert_true(want >= 2 + 10);

    /* too small: refused, nothing changes */
    char before[65], after[65];
    int64_t ops = sql_int(ws, "SELECT count(*) FROM ops");
    digest(ws, before);
    assert_int_equal(vg_refs_lease(ws, 300, 300, &n, &err), VG_EINVAL);
    assert_non_null(strstr(err.msg, "2 cases"));
    assert_int_equal(vg_refs_lease(ws, 0, 10, &n, &err), VG_EINVAL);
    assert_int_equal(vg_refs_lease(ws, 20, 10, &n, &err), VG_EINVAL);
    assert_int_equal(vg_refs_lease(ws, 10, VG_REF_PROVISIONAL, &n, &err), VG_EINVAL);
    digest(ws, after);
    assert_string_equal(before, after);
    assert_int_equal(sql_int(ws, "SELECT count(*) FROM ops"), ops);
    assert_int_equal(vg_refs_get(ws, &r, &err), VG_OK);
    assert_int_equal(r.provisional, 2);
    assert_int_equal(r.left, 0);

    /* a new lease renumbers only the provisional ones */
    assert_int_equal(vg_refs_lease(ws, 200, 211, &n, &err), VG_OK);
    assert_int_equal(n, 2);
    assert_int_equal(ref_of(ws, p1), 200);
    assert_int_equal(ref_of(ws, p2), 201);
    assert_int_equal(ref_of(ws, c[0]), 100);
    assert_int_equal(rows_saying(ws, p1, "case renumbered #1000000000 → #200"), 1);
    new_case(ws, "online again", "low", d);
    assert_int_equal(ref_of(ws, d), 202);

    /* a block granted before this one is used up waits behind it */
    assert_int_equal(vg_refs_lease(ws, 500, 501, &n, &err), VG_OK);
    assert_int_equal(n, 0);
    assert_int_equal(vg_refs_get(ws, &r, &err), VG_OK);
    assert_int_equal(r.next, 203);
    assert_int_equal(r.left, 9 + 2);
    for (int i = 203; i <= 211; i++)
        new_case(ws, "using the rest", "low", d);
    assert_int_equal(ref_of(ws, d), 211);
    new_case(ws, "the next block", "low", d);
    assert_int_equal(ref_of(ws, d), 500);
}

/* A batch rolled back (a failed import) gives its refs back; the next case has the
 * ref the failed one had. */
static void test_rollback_gives_ref_back(void **state)
{
    fx *f = *state;
    vg_ws *ws = f->ws;
    vg_err err = {0};
    int64_t n;
    int64_t want;
    assert_int_equal(vg_refs_wanted(ws, 0, &want, &err), VG_OK);
    assert_int_equal(want, 1); /* never leased: asks, even with no reserve */
    assert_int_equal(vg_refs_lease(ws, 10, 19, &n, &err), VG_OK);
    assert_int_equal(n, 0);
    assert_int_equal(vg_refs_wanted(ws, 0, &want, &err), VG_OK);
    assert_int_equal(want, 0);
    vg_id a, b, c;
    assert_int_equal(vg_batch_begin(ws, &err), VG_OK);
    new_case(ws, "imported, then the import failed", "low", a);
    new_case(ws, "imported too", "low", b);
    assert_int_equal(ref_of(ws, b), 11);
    vg_batch_rollback(ws);
    assert_int_equal(sql_int(ws, "SELECT count(*) FROM cases"), 0);
    new_case(ws, "the import again", "low", c);
    assert_int_equal(ref_of(ws, c), 10);
    /* and a batch that commits keeps them */
    assert_int_equal(vg_batch_begin(ws, &err), VG_OK);
    new_case(ws, "one", "low", a);
    new_case(ws, "two", "low", b);
    assert_int_equal(vg_batch_commit(ws, &err), VG_OK);
    assert_int_equal(ref_of(ws, b), 12);
    vg_refs r;
    assert_int_equal(vg_refs_get(ws, &r, &err), VG_OK);
    assert_int_equal(r.next, 13);
}

static void test_renumber_op(void **state)
{
    fx *f = *state;
    vg_ws *ws = f->ws;
    new_case(ws, "by hand", "low", f->case_id);
    must_apply(ws, renumber(f->case_id, "{\"ref\":42}"));
    assert_int_equal(ref_of(ws, f->case_id), 42);
    assert_int_equal(rows_saying(ws, f->case_id, "case renumbered #1 → #42"), 1);
    /* the same ref again changes nothing and writes nothing */
    int64_t ops = sql_int(ws, "SELECT count(*) FROM ops");
    must_apply(ws, renumber(f->case_id, "{\"ref\":42}"));
    assert_int_equal(sql_int(ws, "SELECT count(*) FROM ops"), ops);
    assert_non_null(strstr(must_fail(ws, renumber(f->case_id, "{\"ref\":0}"), VG_EINVAL), "ref"));
    assert_non_null(strstr(must_fail(ws, renumber(f->case_id, "{\"ref\":\"7\"}"), VG_EINVAL),
                           "ref"));
    assert_non_null(strstr(must_fail(ws, renumber(f->case_id, "{\"ref\":2.5}"), VG_EINVAL),
                           "ref"));
    assert_non_null(strstr(must_fail(ws, renumber(f->case_id, "{}"), VG_EINVAL), "ref"));
    vg_id nobody;
    vg_ulid(vg_now_ms(), nobody);
    assert_non_null(strstr(must_fail(ws, renumber(nobody, "{\"ref\":7}"), VG_ENOTFOUND),
                           "no such case"));
    assert_int_equal(ref_of(ws, f->case_id), 42);
}

/* A replica built from the ops has the same refs and digest, whatever the causal
 * order: create, renumber, note or create, note, renumber; by replay too. */
static void test_replicas_converge(void **state)
{
    fx *f = *state;
    vg_ws *ws = f->ws;
    vg_err err = {0};
    vg_id c1, c2;
    new_case(ws, "one", "high", c1);
    new_case(ws, "two", "low", c2);
    must_apply(ws, vg_op_note_add(c1, "before the team"));
    int64_t n;
    assert_int_equal(vg_refs_lease(ws, 50, 59, &n, &err), VG_OK);
    assert_int_equal(n, 2);
    must_apply(ws, vg_op_note_add(c1, "after the renumber"));
    char want[65], got[65];
    digest(ws, want);

    static const char *const orders[] = {
        "ORDER BY seq",
        /* the renumbers last, after the notes on their case */
        "ORDER BY kind = 'case.renumber', seq",
    };
    for (size_t i = 0; i < sizeof orders / sizeof *orders; i++) {
        char name[32];
        snprintf(name, sizeof name, "r%zu.db", i);
        char *p = path_in(f->dir, name);
        vg_ws *r = open_ws(p, "bob");
        copy_ops(ws, r, orders[i]);
        assert_int_equal(ref_of(r, c1), 50);
        assert_int_equal(ref_of(r, c2), 51);
        digest(r, got);
        assert_string_equal(got, want);
        vg_ws_close(r);
        free(p);
    }
    char *p = path_in(f->dir, "replay.db");
    vg_ws *r = open_ws(p, "bob");
    int64_t ops, applied;
    assert_int_equal(vg_replay(r, f->path, &ops, &applied, &err), VG_OK);
    digest(r, got);
    assert_string_equal(got, want);
    vg_ws_close(r);
    free(p);
}

/* Two renumbers of one case made apart: the later clock wins on every replica,
 * and each leaves its row. */
static void test_renumbers_concurrent(void **state)
{
    fx *f = *state;
    static const char o1[] = "01JAAAAAAAAAAAAAAAAAAAAAA1", o2[] = "01JAAAAAAAAAAAAAAAAAAAAAA2";
    vg_id cid;
    vg_ulid(1000, cid);
    must_apply(f->ws, stamped("case.create", cid, VG_HLC(1000, 0), o1,
                              "{\"ref\":1000000000,\"title\":\"t\"}"));
    must_apply(f->ws, stamped("case.renumber", cid, VG_HLC(2000, 0), o1,
                              "{\"ref\":7,\"old\":1000000000}"));
    must_apply(f->ws, stamped("case.renumber", cid, VG_HLC(3000, 0), o2,
                              "{\"ref\":9,\"old\":1000000000}"));
    assert_int_equal(ref_of(f->ws, cid), 9);
    /* the other replica gets the later one first */
    char *p = path_in(f->dir, "b.db");
    vg_ws *b = open_ws(p, "bob");
    copy_ops(f->ws, b, "ORDER BY kind = 'case.create' DESC, seq DESC");
    assert_int_equal(ref_of(b, cid), 9);
    assert_int_equal(rows_saying(b, cid, "case renumbered #1000000000 → #7"), 1);
    assert_int_equal(rows_saying(b, cid, "case renumbered #1000000000 → #9"), 1);
    char da[65], db[65];
    digest(f->ws, da);
    digest(b, db);
    assert_string_equal(da, db);
    vg_ws_close(b);
    free(p);
}

/* Only the cases this replica made wait for its lease: a case pulled from the team
 * (or brought by a bundle) keeps the ref its author gave it, even when it is
 * provisional there. */
static void test_lease_renumbers_own_cases_only(void **state)
{
    fx *f = *state;
    vg_ws *ws = f->ws;
    vg_err err = {0};
    static const char other[] = "01JAAAAAAAAAAAAAAAAAAAAAA9";
    vg_id mine, theirs, their_prov;
    new_case(ws, "mine", "low", mine);
    vg_ulid(1000, theirs);
    vg_ulid(2000, their_prov);
    must_apply(ws, stamped("case.create", theirs, VG_HLC(1000, 0), other,
                           "{\"ref\":40,\"title\":\"the team's\"}"));
    vg_refs r;
    int64_t n, want;
    assert_int_equal(vg_refs_get(ws, &r, &err), VG_OK);
    assert_int_equal(r.unleased, 1);
    assert_int_equal(vg_refs_lease(ws, 100, 100, &n, &err), VG_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ref_of(ws, mine), 100);
    assert_int_equal(ref_of(ws, theirs), 40);
    /* someone else's provisional case is theirs to renumber */
    must_apply(ws, stamped("case.create", their_prov, VG_HLC(2000, 0), other,
                           "{\"ref\":1000000000,\"title\":\"offline elsewhere\"}"));
    vg_id p;
    new_case(ws, "mine, offline", "low", p);
    assert_int_equal(ref_of(ws, p), VG_REF_PROVISIONAL + 1);
    assert_int_equal(vg_refs_get(ws, &r, &err), VG_OK);
    assert_int_equal(r.provisional, 1);
    assert_int_equal(vg_refs_wanted(ws, 0, &want, &err), VG_OK);
    assert_int_equal(want, 1);
    assert_int_equal(vg_refs_lease(ws, 200, 200, &n, &err), VG_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ref_of(ws, p), 200);
    assert_int_equal(ref_of(ws, their_prov), VG_REF_PROVISIONAL);
    assert_int_equal(vg_refs_wanted(ws, 0, &want, &err), VG_OK);
    assert_int_equal(want, 0);
}

static void test_op_at(void **state)
{
    fx *f = *state;
    vg_err err = {0};
    char id[27];
    assert_int_equal(vg_ws_last_seq(f->ws), 0);
    assert_int_equal(vg_op_at(f->ws, 1, id, &err), VG_ENOTFOUND);
    assert_string_equal(id, "");
    new_case(f->ws, "one", "low", f->case_id);
    must_apply(f->ws, vg_op_note_add(f->case_id, "two"));
    assert_int_equal(vg_op_at(f->ws, 2, id, &err), VG_OK);
    char *want = sql_text(f->ws, "SELECT id FROM ops WHERE seq = 2");
    assert_string_equal(id, want);
    free(want);
    /* a fresh handle on the file sees the log as it is */
    vg_ws *again = open_ws(f->path, "alice");
    assert_int_equal(vg_ws_last_seq(again), 2);
    vg_ws_close(again);
}

static int setup(void **state)
{
    *state = fx_new();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lease_renumbers, setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_rollback_gives_ref_back, setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_renumber_op, setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_replicas_converge, setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_renumbers_concurrent, setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_lease_renumbers_own_cases_only, setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_op_at, setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
