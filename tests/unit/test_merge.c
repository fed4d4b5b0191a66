/*
 * test_merge.c — replicas converge.
 *
 * Three analysts work on their own replicas at once (creating cases, changing the
 * same fields, adding and removing the same artifacts, ticking tasks), syncing now
 * and then, until 1,000 ops exist. Three fresh replicas then receive all of them in
 * three different random orders, each respecting causality as sync does (an op
 * never arrives before one its author had already seen). All must end with the
 * same state digest, and so must the three authors once fully synced. Each author
 * also writes copilot ledger entries into sessions of their own, which every
 * replica receives interleaved differently: the digest covers the ledger's rows and
 * hashes, which must come out the same.
 */
#include "helpers.h"
#include "vigil/ledger.h"

#define NORIGIN 3
#define NOPS 1000

typedef struct rec {
    vg_op *op;          /* a stamped copy */
    int origin, index;  /* author and its position in the author's sequence */
    int deps[NORIGIN];  /* how many of each origin's ops the author had seen */
} rec;

static rec recs[NOPS];
static int nrecs;
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static int pick(int n) { return (int)(rnd() % (uint64_t)n); }

/* A replica and how much of each origin's sequence it has applied. */
typedef struct replica {
    vg_ws *ws;
    int seen[NORIGIN];
    bool done[NOPS];
} replica;

static vg_op *copy_op(const vg_op *op)
{
    vg_op *c = vg_op_new(op->kind, op->target);
    cJSON_Delete(c->payload);
    c->payload = cJSON_Duplicate(op->payload, 1);
    memcpy(c->id, op->id, sizeof c->id);
    memcpy(c->origin, op->origin, sizeof c->origin);
    c->hlc = op->hlc;
    c->actor = strdup(op->actor);
    c->tenant = strdup(op->tenant ? op->tenant : "");
    return c;
}

static bool deliverable(const replica *r, const rec *x)
{
    if (r->done[x - recs] || r->seen[x->origin] != x->index)
        return false;
    for (int o = 0; o < NORIGIN; o++)
        if (o != x->origin && r->seen[o] < x->deps[o])
            return false;
    return true;
}

static void deliver(replica *r, rec *x)
{
    vg_op *c = copy_op(x->op);
    must_apply(r->ws, c);
    r->done[x - recs] = true;
    r->seen[x->origin]++;
}

/* Deliver everything deliverable, in a random causal order, until nothing is. */
static void sync_all(replica *r)
{
    int ready[NOPS];
    for (;;) {
        int n = 0;
        for (int i = 0; i < nrecs; i++)
            if (deliverable(r, &recs[i]))
                ready[n++] = i;
        if (n == 0)
            return;
        deliver(r, &recs[ready[pick(n)]]);
    }
}

/* A random id of an existing row, from a query with one text column. */
static bool random_row(vg_ws *ws, const char *sql, vg_id out, char *extra, size_t extrasz)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(ws->db, sql, -1, &st, NULL), SQLITE_OK);
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (pick(++n) == 0) { /* reservoir sampling */
            col_id(st, 0, out);
            if (extra)
                snprintf(extra, extrasz, "%s", (const char *)sqlite3_column_text(st, 1));
        }
    }
    sqlite3_finalize(st);
    return n > 0;
}

static vg_op *random_op(vg_ws *ws)
{
    static const char *const sev[] = {"info", "low", "medium", "high", "critical"};
    static const char *const st[] = {"new", "in_progress", "on_hold", "contained"};
    static const char *const users[] = {"alice", "bob", "chen", ""};
    static const char *const vals[] = {"evil.example", "203.0.113.7", "cdn.test", "198.51.100.9"};
    static const char *const types[] = {"domain", "ip", "domain", "ip"};
    vg_id c, t;
    char extra[256];
    int k = pick(100);
    if (k < 8 || !random_row(ws, "SELECT id FROM cases", c, NULL, 0))
        return vg_op_case_create("case", sev[pick(5)], NULL);
    if (k < 18)
        return vg_op_case_set(c, "severity", sev[pick(5)]);
    if (k < 26)
        return pick(4) ? vg_op_case_set(c, "status", st[pick(4)])
                       : vg_op_case_close(c, pick(2) ? "true_positive" : "false_positive");
    if (k < 32)
        return vg_op_case_set(c, "assignee", users[pick(4)]);
    if (k < 36)
        return vg_op_case_set(c, "tags", pick(2) ? "phish,vip" : "spray");
    if (k < 46)
        return vg_op_note_add(c, "observed");
    if (k < 62) {
        int v = pick(4);
        vg_op *op = vg_op_artifact_add(c, types[v], vals[v]);
        if (pick(3) == 0)
            cJSON_AddTrueToObject(op->payload, "is_ioc");
        if (pick(3) == 0)
            cJSON_AddStringToObject(op->payload, "tlp", pick(2) ? "RED" : "GREEN");
        return op;
    }
    if (k < 70) {
        char sql[200];
        snprintf(sql, sizeof sql, "SELECT id, type || ' ' || value FROM artifacts"
                                  " WHERE case_id = '%s' AND removed = 0", c);
        if (random_row(ws, sql, t, extra, sizeof extra)) {
            char *sp = strchr(extra, ' ');
            *sp = '\0';
            return vg_op_artifact_remove(c, extra, sp + 1);
        }
        return vg_op_note_add(c, "nothing to remove");
    }
    if (k < 80)
        return vg_op_task_add(c, pick(2) ? "containment" : "identification", "task");
    if (k < 92) {
        char sql[200];
        snprintf(sql, sizeof sql, "SELECT id FROM tasks WHERE case_id = '%s'", c);
        if (random_row(ws, sql, t, NULL, 0))
            return vg_op_task_set(c, t, "status", pick(2) ? "done" : "todo");
        return vg_op_task_add(c, "recovery", "task");
    }
    if (k < 95)
        return vg_op_event_add(c, vg_now_ms() - pick(100000), NULL, "something happened");
    /* A copilot ledger entry: the author goes on with one of their own sessions (on a
     * case, or their general pane) or starts one; sessions are single-writer. */
    static const char *const kinds[] = {"prompt", "response", "proposal", "decision", "error"};
    const char *me = vg_ws_actor(ws);
    char sql[200], content[64];
    snprintf(sql, sizeof sql, "SELECT session_id, coalesce(case_id, '') FROM ledger"
                              " WHERE user = '%s'", me);
    snprintf(content, sizeof content, "{\"n\":%d}", pick(1000));
    const char *on = c;
    if (pick(4) && random_row(ws, sql, t, extra, sizeof extra)) {
        on = extra[0] ? extra : NULL;
    } else {
        vg_ulid(vg_now_ms(), t);
        if (pick(3) == 0)
            on = NULL;
    }
    return vg_op_ledger_add(on, t, me, kinds[pick(5)], "model", content);
}

static void test_three_replicas_converge(void **state)
{
    (void)state;
    char *dir = tmp_dir();
    replica authors[NORIGIN] = {0}, receivers[3] = {0};
    static const char *const names[NORIGIN] = {"alice", "bob", "chen"};
    for (int o = 0; o < NORIGIN; o++) {
        char n[32];
        snprintf(n, sizeof n, "author%d.db", o);
        char *p = path_in(dir, n);
        authors[o].ws = open_ws(p, names[o]);
        free(p);
    }
    int per_origin[NORIGIN] = {0};
    while (nrecs < NOPS) {
        int o = pick(NORIGIN);
        replica *r = &authors[o];
        if (pick(10) == 0)
            sync_all(r);
        vg_op *op = random_op(r->ws);
        vg_err err = {0};
        if (vg_apply(r->ws, op, &err) != VG_OK)
            fail_msg("author %d: %s: %s", o, op->kind, err.msg);
        if (op->seq == 0) { /* a set to the value it had: nothing to send */
            vg_op_free(op);
            continue;
        }
        rec *x = &recs[nrecs];
        x->op = op;
        x->origin = o;
        x->index = per_origin[o]++;
        memcpy(x->deps, r->seen, sizeof x->deps);
        r->seen[o]++;
        r->done[nrecs] = true;
        nrecs++;
    }

    char want[65] = "", got[65];
    vg_err err = {0};
    for (int i = 0; i < 3; i++) {
        char n[32];
        snprintf(n, sizeof n, "recv%d.db", i);
        char *p = path_in(dir, n);
        receivers[i].ws = open_ws(p, "receiver");
        free(p);
        sync_all(&receivers[i]);
        for (int k = 0; k < NOPS; k++)
            assert_true(receivers[i].done[k]);
        assert_int_equal(vg_ws_digest(receivers[i].ws, got, &err), VG_OK);
        if (i == 0)
            memcpy(want, got, sizeof want);
        assert_string_equal(got, want);
        int64_t count, bad;
        assert_int_equal(vg_audit_verify(receivers[i].ws, &count, &bad, &err), VG_OK);
        assert_int_equal(count, NOPS);
    }
    /* The authors, once they have everything, agree with the receivers too. */
    for (int o = 0; o < NORIGIN; o++) {
        sync_all(&authors[o]);
        assert_int_equal(vg_ws_digest(authors[o].ws, got, &err), VG_OK);
        assert_string_equal(got, want);
    }
    /* The workload really exercised concurrency: concurrent sets and artifact churn. */
    assert_true(sql_int(receivers[0].ws, "SELECT count(*) FROM ops WHERE kind = 'case.set'") > 100);
    assert_true(sql_int(receivers[0].ws, "SELECT count(*) FROM artifacts WHERE removed = 1") > 0);
    assert_true(sql_int(receivers[0].ws, "SELECT count(DISTINCT origin) FROM ops") == NORIGIN);
    /* ... and the ledger: sessions of every author, on cases and general, continued */
    assert_true(sql_int(receivers[0].ws, "SELECT count(DISTINCT user) FROM ledger") == NORIGIN);
    assert_true(sql_int(receivers[0].ws, "SELECT count(*) FROM ledger WHERE case_id IS NULL") > 0);
    assert_true(sql_int(receivers[0].ws, "SELECT count(*) FROM ledger WHERE seq > 1") > 0);
    for (int i = 0; i < 3; i++) {
        int64_t count, bad;
        assert_int_equal(vg_ledger_verify(receivers[i].ws, &count, &bad, &err), VG_OK);
        assert_int_equal(count, sql_int(receivers[0].ws, "SELECT count(*) FROM ledger"));
    }

    for (int i = 0; i < 3; i++)
        vg_ws_close(receivers[i].ws);
    for (int o = 0; o < NORIGIN; o++)
        vg_ws_close(authors[o].ws);
    for (int i = 0; i < nrecs; i++)
        vg_op_free(recs[i].op);
    rm_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_three_replicas_converge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
