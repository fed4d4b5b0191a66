/*
 * test_demo.c — unit tests for demo.c, the generator of a SOC's month.
 *
 * The demo is what a new user sees first and what later features (the graph, the
 * queue, metrics) are shown on, so the tests check what a user would notice: every
 * status and severity is there, closed cases carry a resolution, the phishing wave
 * really is one campaign across cases (the graph's bridges), the inbox is not empty,
 * the month is a month, and the same seed gives the same workspace byte for byte.
 * They also hold the generator to the house rules: only stamped ops through the one
 * door, causally ordered, with a hash chain that verifies.
 *
 * One default workspace is built in the group setup and shared by the read-only
 * tests; tests that need their own build make it in their own directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "internal.h"
#include "vigil/demo.h"
#include "vigil/op.h"
#include "vigil/query.h"

#define NOW_MS 1735689600000LL /* 2025-01-01T00:00:00Z */
#define DAY_MS (24LL * 3600 * 1000)

/* A workspace file in a fresh temporary directory, removed with everything SQLite
 * left beside it. */
typedef struct tmpws {
    char dir[64];
    char path[96];
    vg_ws *ws;
} tmpws;

static void tmpws_open(tmpws *t)
{
    vg_err err;
    snprintf(t->dir, sizeof t->dir, "/tmp/vigil-demo-XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    snprintf(t->path, sizeof t->path, "%s/ws.db", t->dir);
    vg_rc rc = vg_ws_open(t->path, VG_OPEN_CREATE, &t->ws, &err);
    if (rc)
        fail_msg("open %s: %s", t->path, err.msg);
}

static void tmpws_remove(tmpws *t)
{
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    char p[128];
    vg_ws_close(t->ws);
    t->ws = NULL;
    for (size_t i = 0; i < sizeof suffix / sizeof *suffix; i++) {
        snprintf(p, sizeof p, "%s%s", t->path, suffix[i]);
        unlink(p);
    }
    rmdir(t->dir);
}

static vg_demo_opts default_opts(void)
{
    vg_demo_opts o = {.seed = 42, .cases = 48, .alerts = 600, .now_ms = NOW_MS};
    return o;
}

static void build(vg_ws *ws, const vg_demo_opts *o, vg_demo_stats *st)
{
    vg_err err;
    vg_rc rc = vg_demo_build(ws, o, st, &err);
    if (rc)
        fail_msg("vg_demo_build: %s", err.msg);
}

static void digest_of(vg_ws *ws, char hex[65])
{
    vg_err err;
    if (vg_ws_digest(ws, hex, &err))
        fail_msg("digest: %s", err.msg);
}

/* ---- the shared default workspace ------------------------------------------------ */

static tmpws shared;
static vg_demo_stats shared_stats;

static int setup_shared(void **state)
{
    (void)state;
    tmpws_open(&shared);
    vg_demo_opts o = default_opts();
    build(shared.ws, &o, &shared_stats);
    return 0;
}

static int teardown_shared(void **state)
{
    (void)state;
    tmpws_remove(&shared);
    return 0;
}

static void test_default_build_counts(void **state)
{
    (void)state;
    vg_ws *ws = shared.ws;
    vg_counts c;
    vg_err err;
    assert_int_equal(vg_counts_get(ws, &c, &err), VG_OK);
    assert_true(c.cases >= 40);
    assert_int_equal(c.cases, 48);
    assert_int_equal(c.alerts, 600);
    assert_int_equal(shared_stats.cases, c.cases);
    assert_int_equal(shared_stats.alerts, c.alerts);
    assert_int_equal(shared_stats.ops, c.ops);
    assert_int_equal(shared_stats.artifacts, sql_int(ws, "SELECT count(*) FROM artifacts"));
    assert_int_equal(shared_stats.tasks, sql_int(ws, "SELECT count(*) FROM tasks"));
    assert_int_equal(shared_stats.notes, sql_int(ws, "SELECT count(*) FROM notes"));
    assert_true(shared_stats.events > 0);
    /* the queue has something to do, and something critical */
    assert_true(c.open > 0 && c.new_ > 0 && c.critical_open > 0);
}

static void test_every_status_and_severity(void **state)
{
    (void)state;
    vg_ws *ws = shared.ws;
    static const char *const status[] = {"new", "in_progress", "on_hold", "contained", "closed"};
    char sql[160];
    for (int i = 0; i < 5; i++) {
        snprintf(sql, sizeof sql, "SELECT count(*) FROM cases WHERE status = '%s'", status[i]);
        if (sql_int(ws, sql) < 1)
            fail_msg("no case is %s", status[i]);
    }
    for (int sev = 0; sev <= 4; sev++) {
        snprintf(sql, sizeof sql, "SELECT count(*) FROM cases WHERE severity = %d", sev);
        if (sql_int(ws, sql) < 1)
            fail_msg("no case has severity %d", sev);
    }
    /* the listing API sees the same: a filter per status returns cases */
    for (int i = 0; i < 5; i++) {
        vg_case_filter f = {.status_mask = 1u << i, .limit = 100};
        vg_case_list l;
        vg_err err;
        assert_int_equal(vg_cases_list(ws, &f, &l, &err), VG_OK);
        assert_true(l.n > 0);
        vg_case_list_free(&l);
    }
}

static void test_closed_cases_have_resolution_and_time(void **state)
{
    (void)state;
    vg_ws *ws = shared.ws;
    assert_true(sql_int(ws, "SELECT count(*) FROM cases WHERE status = 'closed'") > 0);
    assert_int_equal(sql_int(ws, "SELECT count(*) FROM cases WHERE status = 'closed'"
                               " AND (resolution IS NULL OR closed_at IS NULL)"), 0);
    assert_int_equal(sql_int(ws, "SELECT count(*) FROM cases WHERE status <> 'closed'"
                               " AND (resolution IS NOT NULL OR closed_at IS NOT NULL)"), 0);
    assert_true(sql_int(ws, "SELECT count(*) FROM cases WHERE resolution = 'false_positive'") > 0);
    assert_true(sql_int(ws, "SELECT count(*) FROM cases WHERE resolution = 'benign'") > 0);
    assert_true(sql_int(ws, "SELECT count(*) FROM cases WHERE resolution = 'true_positive'") > 0);
    /* closed after opened, acknowledged in between, never in the future */
    assert_int_equal(sql_int(ws, "SELECT count(*) FROM cases WHERE status = 'closed' AND"
                               " (closed_at < created_at OR acknowledged_at IS NULL"
                               "  OR acknowledged_at > closed_at OR closed_at > 1735689600000)"),
                     0);
    /* a case moved on from new was acknowledged; a new one was not */
    assert_int_equal(sql_int(ws, "SELECT count(*) FROM cases WHERE (status = 'new') ="
                               " (acknowledged_at IS NOT NULL)"), 0);
}

static void test_phishing_campaign_bridges_cases(void **state)
{
    (void)state;
    vg_ws *ws = shared.ws;
    /* The most widely shared (sender domain, URL) pair where the sender's email is on
     * the same case: one campaign seen on several cases. */
    const char *sql =
        "SELECT d.value, u.value, count(DISTINCT d.case_id) AS n FROM artifacts d"
        " JOIN artifacts u ON u.case_id = d.case_id AND u.type = 'url'"
        " WHERE d.type = 'domain' AND EXISTS (SELECT 1 FROM artifacts e"
        "  WHERE e.case_id = d.case_id AND e.type = 'email' AND e.value LIKE '%@' || d.value)"
        " GROUP BY d.value, u.value ORDER BY n DESC LIMIT 1";
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(ws->db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    char domain[128], url[256];
    snprintf(domain, sizeof domain, "%s", (const char *)sqlite3_column_text(st, 0));
    snprintf(url, sizeof url, "%s", (const char *)sqlite3_column_text(st, 1));
    int64_t n = sqlite3_column_int64(st, 2);
    sqlite3_finalize(st);
    if (n < 4)
        fail_msg("the best-shared sender domain %s and URL %s are on %lld cases", domain, url,
                 (long long)n);

    /* The graph sees the bridge: on one of those cases, the URL artifact counts the
     * other cases that carry it. */
    assert_int_equal(sqlite3_prepare_v2(ws->db,
                                        "SELECT case_id FROM artifacts WHERE type = 'url'"
                                        " AND value = ? LIMIT 1", -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, url, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    vg_id case_id;
    snprintf(case_id, sizeof case_id, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    vg_artifact *arts = NULL;
    size_t na = 0;
    vg_err err;
    assert_int_equal(vg_artifacts_of_case(ws, case_id, &arts, &na, &err), VG_OK);
    bool seen = false;
    for (size_t i = 0; i < na; i++)
        if (strcmp(arts[i].value, url) == 0) {
            seen = true;
            assert_true(arts[i].other_cases >= 3);
            assert_true(arts[i].is_ioc);
        }
    assert_true(seen);
    vg_artifacts_free(arts, na);

    /* and those cases are phishing cases, with the phishing techniques */
    assert_true(sql_int(ws, "SELECT count(*) FROM cases WHERE techniques LIKE '%T1566.002%'"
                          " AND tags LIKE '%phishing%'") >= 4);
}

static void test_inbox_has_untriaged_alerts(void **state)
{
    (void)state;
    vg_ws *ws = shared.ws;
    int64_t total = sql_int(ws, "SELECT count(*) FROM alerts");
    int64_t inbox = sql_int(ws, "SELECT count(*) FROM alerts WHERE status = 'new' AND case_id IS NULL");
    int64_t caseless = sql_int(ws, "SELECT count(*) FROM alerts WHERE case_id IS NULL");
    assert_true(inbox > 0);
    /* about 10-20% never reach a case */
    assert_true(caseless * 100 >= total * 10 && caseless * 100 <= total * 20);
    /* a linked alert names its case, an unlinked one none */
    assert_int_equal(sql_int(ws, "SELECT count(*) FROM alerts WHERE (status = 'linked') <>"
                               " (case_id IS NOT NULL)"), 0);
    /* every alert came with the fields an analyst reads */
    assert_int_equal(sql_int(ws, "SELECT count(*) FROM alerts WHERE source_ref IS NULL OR rule = ''"
                               " OR entities = '{}' OR vg_raw(raw, raw_op, raw_at) = '{}'"), 0);
    assert_true(sql_int(ws, "SELECT min((SELECT count(*) FROM json_each(vg_raw(raw, raw_op,"
                            " raw_at)))) FROM alerts") >= 6);
    assert_int_equal(sql_int(ws, "SELECT count(DISTINCT source) >= 4 FROM alerts"), 1);
}

static void test_tasks_notes_and_events(void **state)
{
    (void)state;
    vg_ws *ws = shared.ws;
    assert_int_equal(sql_int(ws, "SELECT count(DISTINCT phase) FROM tasks"), 5);
    assert_true(sql_int(ws, "SELECT count(*) FROM tasks WHERE status = 'done' AND done_at > 0") > 0);
    assert_true(sql_int(ws, "SELECT count(*) FROM tasks WHERE status = 'todo'") > 0);
    assert_true(sql_int(ws, "SELECT count(*) FROM notes") > 0);
    assert_true(sql_int(ws, "SELECT count(DISTINCT author) FROM notes") >= 4);
    assert_true(sql_int(ws, "SELECT count(*) FROM events") > 0);
    /* the month is a month */
    assert_true(sql_int(ws, "SELECT max(occurred_at) - min(occurred_at) FROM events") >= 25 * DAY_MS);
    assert_true(sql_int(ws, "SELECT min(occurred_at) FROM events") >= NOW_MS - 31 * DAY_MS);
    assert_true(sql_int(ws, "SELECT max(recorded_at) FROM events") <= NOW_MS);
    /* manual events were written down after they happened */
    assert_true(sql_int(ws, "SELECT count(*) FROM events WHERE kind = 'manual'") > 0);
    assert_int_equal(sql_int(ws, "SELECT count(*) FROM events WHERE kind = 'manual'"
                               " AND occurred_at >= recorded_at"), 0);
    /* the timeline reads like work: "status new → in_progress by alice" */
    assert_true(sql_int(ws, "SELECT count(*) FROM events WHERE summary LIKE"
                          " 'status new → in_progress by %'") > 0);
    assert_true(sql_int(ws, "SELECT count(*) FROM events WHERE summary LIKE"
                          " 'status % → closed (false_positive) by %'") > 0);
    assert_true(sql_int(ws, "SELECT count(DISTINCT assignee) FROM cases WHERE assignee <> ''") >= 4);

    /* through the public API too: a closed case's timeline has both orders */
    vg_id id;
    vg_err err;
    assert_int_equal(vg_case_resolve(ws, "#4", id, &err), VG_OK);
    vg_event *ev = NULL;
    size_t n = 0;
    assert_int_equal(vg_timeline(ws, id, VG_BY_OCCURRED, 0, &ev, &n, &err), VG_OK);
    assert_true(n >= 10);
    vg_events_free(ev, n);
}

static void test_ops_are_stamped_and_causal(void **state)
{
    (void)state;
    vg_ws *ws = shared.ws;
    vg_err err;
    int64_t count = 0, bad = 0;
    assert_int_equal(vg_audit_verify(ws, NULL, &count, &bad, &err), VG_OK);
    assert_int_equal(count, shared_stats.ops);
    assert_int_equal(bad, 0);
    /* one demo replica, not this workspace's own */
    assert_int_equal(sql_int(ws, "SELECT count(DISTINCT origin) FROM ops"), 1);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(ws->db, "SELECT count(*) FROM ops WHERE origin = ?", -1,
                                        &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, vg_ws_replica(ws), -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(st, 0), 0);
    sqlite3_finalize(st);
    /* ids and clocks agree and lie in the month */
    assert_int_equal(sql_int(ws, "SELECT count(*) FROM ops WHERE (hlc >> 16) > 1735689600000"
                               " OR (hlc >> 16) < 1735689600000 - 31 * 86400000"), 0);
    /* actors are people, alert sources or the automation */
    assert_int_equal(sql_int(ws, "SELECT count(*) FROM ops WHERE actor NOT IN ('alice', 'bob',"
                               " 'chen', 'dana', 'emeka', 'vigil-demo', 'wazuh', 'suricata',"
                               " 'elastic', 'defender', 'azuread', 'o365', 'proofpoint', 'misp')"),
                     0);
    /* every op on a case comes after the case's create, in the log and by clock */
    assert_int_equal(sql_int(ws, "SELECT count(*) FROM ops o JOIN ops c ON c.kind = 'case.create'"
                               " AND (o.target = c.target OR json_extract(vg_payload(o.payload), '$.case') = c.target)"
                               " WHERE o.kind <> 'case.create' AND (o.seq < c.seq OR o.hlc <= c.hlc)"),
                     0);
    /* Alerts come in alert.import ops, one for many, never an alert.add each; every
     * alert points at the op that brought it and was recorded at that op's time, not
     * before its event. */
    assert_int_equal(sql_int(ws, "SELECT count(*) FROM ops WHERE kind = 'alert.add'"), 0);
    assert_int_equal(sql_int(ws, "SELECT sum(json_array_length(vg_payload(payload), '$.alerts'))"
                               " FROM ops WHERE kind = 'alert.import'"), shared_stats.alerts);
    assert_int_equal(sql_int(ws, "SELECT count(*) FROM alerts a JOIN ops o ON o.seq = a.raw_op"
                               " WHERE o.kind = 'alert.import' AND a.raw_at IS NOT NULL"
                               " AND a.recorded_at = o.hlc >> 16 AND a.recorded_at >= a.event_time"),
                     shared_stats.alerts);
    /* an alert.import carrying a case's alerts comes after the case's create */
    assert_int_equal(sql_int(ws, "SELECT count(*) FROM ops o,"
                               " json_each(vg_payload(o.payload), '$.alerts') e"
                               " JOIN ops c ON c.kind = 'case.create'"
                               "  AND c.target = json_extract(e.value, '$.case')"
                               " WHERE o.kind = 'alert.import' AND (o.seq < c.seq OR o.hlc <= c.hlc)"),
                     0);
    /* and each case's ops, its alerts' included, have rising clocks in log order */
    assert_int_equal(sql_int(ws, "WITH oc(seq, hlc, case_id) AS ("
                               "  SELECT seq, hlc, CASE WHEN kind LIKE 'case.%' THEN target"
                               "   ELSE json_extract(vg_payload(payload), '$.case') END"
                               "  FROM ops WHERE kind <> 'alert.import'"
                               "  UNION SELECT o.seq, o.hlc, json_extract(e.value, '$.case')"
                               "  FROM ops o, json_each(vg_payload(o.payload), '$.alerts') e"
                               "  WHERE o.kind = 'alert.import'),"
                               " w AS (SELECT hlc, lag(hlc) OVER (PARTITION BY case_id"
                               "  ORDER BY seq) AS prev FROM oc WHERE case_id IS NOT NULL)"
                               " SELECT count(*) FROM w WHERE hlc <= prev"), 0);
    /* status changes name the status they left */
    assert_int_equal(sql_int(ws, "SELECT count(*) FROM ops WHERE kind = 'case.set'"
                               " AND json_extract(vg_payload(payload), '$.field') = 'status'"
                               " AND json_extract(vg_payload(payload), '$.old') IS NULL"), 0);
}

/* ---- builds of their own ----------------------------------------------------------- */

static void test_same_seed_same_workspace(void **state)
{
    (void)state;
    tmpws a, b, c;
    char ha[65], hb[65], hc[65];
    vg_demo_opts o = default_opts();
    tmpws_open(&a);
    tmpws_open(&b);
    tmpws_open(&c);
    build(a.ws, &o, NULL);
    build(b.ws, &o, NULL);
    o.seed = 43;
    build(c.ws, &o, NULL);
    digest_of(a.ws, ha);
    digest_of(b.ws, hb);
    digest_of(c.ws, hc);
    assert_string_equal(ha, hb);
    assert_string_not_equal(ha, hc);
    /* the shared default build agrees with a fresh one */
    char hs[65];
    digest_of(shared.ws, hs);
    assert_string_equal(ha, hs);
    /* and so does the op log, op for op */
    assert_int_equal(sql_int(a.ws, "SELECT count(*) FROM ops"), sql_int(b.ws, "SELECT count(*) FROM ops"));
    tmpws_remove(&a);
    tmpws_remove(&b);
    tmpws_remove(&c);
}

/* What a new replica's first sync does: the demo's op log alone, applied through the
 * door of a fresh workspace, makes the same workspace, with a log that verifies. */
static void test_replay_rebuilds_the_same_workspace(void **state)
{
    (void)state;
    tmpws t;
    vg_err err;
    char orig[65], copy[65];
    tmpws_open(&t);
    int64_t ops = 0, applied = 0;
    if (vg_replay(t.ws, shared.path, &ops, &applied, &err))
        fail_msg("vg_replay: %s", err.msg);
    assert_int_equal(ops, shared_stats.ops);
    assert_int_equal(applied, shared_stats.ops);
    digest_of(shared.ws, orig);
    digest_of(t.ws, copy);
    assert_string_equal(orig, copy);
    int64_t count = 0, bad = 0;
    assert_int_equal(vg_audit_verify(t.ws, NULL, &count, &bad, &err), VG_OK);
    assert_int_equal(count, shared_stats.ops);
    assert_int_equal(bad, 0);
    /* the raw events came along in the ops, not in the rows */
    assert_int_equal(sql_int(t.ws, "SELECT count(*) FROM alerts"), shared_stats.alerts);
    assert_int_equal(sql_int(t.ws, "SELECT count(*) FROM alerts WHERE raw <> ''"
                                 " OR vg_raw(raw, raw_op, raw_at) = '{}'"), 0);
    /* a second replay finds every op there already */
    assert_int_equal(vg_replay(t.ws, shared.path, &ops, &applied, &err), VG_OK);
    assert_int_equal(applied, 0);
    digest_of(t.ws, copy);
    assert_string_equal(orig, copy);
    tmpws_remove(&t);
}

static void test_refuses_a_workspace_with_cases(void **state)
{
    (void)state;
    tmpws t;
    vg_err err;
    tmpws_open(&t);
    vg_op *op = vg_op_case_create("Existing investigation", "high", NULL);
    assert_int_equal(vg_apply(t.ws, op, &err), VG_OK);
    vg_op_free(op);
    int64_t ops = sql_int(t.ws, "SELECT count(*) FROM ops");
    char before[65], after[65];
    digest_of(t.ws, before);
    vg_demo_opts o = default_opts();
    vg_demo_stats st;
    assert_int_equal(vg_demo_build(t.ws, &o, &st, &err), VG_EEXIST);
    assert_non_null(strstr(err.msg, "already holds 1 case"));
    digest_of(t.ws, after);
    assert_string_equal(before, after);
    assert_int_equal(sql_int(t.ws, "SELECT count(*) FROM ops"), ops);
    assert_int_equal(st.ops, 0);
    tmpws_remove(&t);
}

static void test_rejects_counts_out_of_range(void **state)
{
    (void)state;
    tmpws t;
    vg_err err;
    tmpws_open(&t);
    vg_demo_opts o = default_opts();
    o.cases = 10;
    assert_int_equal(vg_demo_build(t.ws, &o, NULL, &err), VG_EINVAL);
    assert_non_null(strstr(err.msg, "cases"));
    o.cases = 39;
    assert_int_equal(vg_demo_build(t.ws, &o, NULL, &err), VG_EINVAL);
    o.cases = 1000001;
    assert_int_equal(vg_demo_build(t.ws, &o, NULL, &err), VG_EINVAL);
    o = default_opts();
    o.alerts = -1;
    assert_int_equal(vg_demo_build(t.ws, &o, NULL, &err), VG_EINVAL);
    assert_non_null(strstr(err.msg, "alerts"));
    o.alerts = 10000001;
    assert_int_equal(vg_demo_build(t.ws, &o, NULL, &err), VG_EINVAL);
    assert_int_equal(vg_demo_build(t.ws, NULL, NULL, &err), VG_EINVAL);
    assert_int_equal(sql_int(t.ws, "SELECT count(*) FROM ops"), 0);
    /* the smallest allowed build still has every status */
    o = default_opts();
    o.cases = 40;
    o.alerts = 0;
    build(t.ws, &o, NULL);
    assert_int_equal(sql_int(t.ws, "SELECT count(*) FROM cases"), 40);
    assert_int_equal(sql_int(t.ws, "SELECT count(*) FROM alerts"), 0);
    assert_int_equal(sql_int(t.ws, "SELECT count(DISTINCT status) FROM cases"), 5);
    assert_int_equal(sql_int(t.ws, "SELECT count(DISTINCT severity) FROM cases"), 5);
    tmpws_remove(&t);
}

typedef struct progress_log {
    vg_ws *ws;
    int calls;
    int64_t last_ops, last_alerts;
    bool increasing, exact;
} progress_log;

/* Called after each commit: the totals must only rise and must be what the file
 * now holds. */
static void on_progress(void *ud, int64_t ops, int64_t alerts)
{
    progress_log *p = ud;
    if (ops <= p->last_ops || alerts < p->last_alerts)
        p->increasing = false;
    if (sql_int(p->ws, "SELECT count(*) FROM ops") != ops ||
        sql_int(p->ws, "SELECT count(*) FROM alerts") != alerts)
        p->exact = false;
    p->calls++;
    p->last_ops = ops;
    p->last_alerts = alerts;
}

static void test_larger_build_reports_progress(void **state)
{
    (void)state;
    tmpws t;
    vg_err err;
    tmpws_open(&t);
    progress_log log = {.ws = t.ws, .increasing = true, .exact = true};
    vg_demo_opts o = {.seed = 7, .cases = 200, .alerts = 15000, .now_ms = NOW_MS,
                      .progress = on_progress, .ud = &log};
    vg_demo_stats st;
    build(t.ws, &o, &st);
    assert_int_equal(st.cases, 200);
    assert_int_equal(st.alerts, 15000);
    assert_int_equal(sql_int(t.ws, "SELECT count(*) FROM cases"), 200);
    assert_int_equal(sql_int(t.ws, "SELECT count(*) FROM alerts"), 15000);
    assert_int_equal(sql_int(t.ws, "SELECT max(ref) FROM cases"), 200);
    assert_int_equal(sql_int(t.ws, "SELECT count(DISTINCT source_ref) FROM alerts"), 15000);
    /* batches of about 10,000 rows (an op, or an alert in an alert.import): several
     * progress calls, counts only rising, the last one the totals */
    int64_t imports = sql_int(t.ws, "SELECT count(*) FROM ops WHERE kind = 'alert.import'");
    assert_true(log.calls >= (int)((st.ops - imports + st.alerts) / 10000));
    /* alerts recorded in the same hour share an op: fewer ops than alerts */
    assert_true(imports * 3 < st.alerts * 2);
    assert_true(log.calls >= 2);
    assert_true(log.increasing);
    assert_true(log.exact);
    assert_int_equal(log.last_ops, st.ops);
    assert_int_equal(log.last_alerts, st.alerts);
    /* everything happened within the month before now */
    assert_int_equal(sql_int(t.ws, "SELECT count(*) FROM alerts WHERE first_seen < 1735689600000"
                                 " - 30 * 86400000 OR last_seen > 1735689600000"
                                 " OR event_time NOT BETWEEN first_seen AND last_seen"), 0);
    assert_int_equal(sql_int(t.ws, "SELECT count(*) FROM events WHERE occurred_at < 1735689600000"
                                 " - 30 * 86400000 OR recorded_at > 1735689600000"), 0);
    /* generated cases vary: many hosts and users, every status, still bridged */
    assert_int_equal(sql_int(t.ws, "SELECT count(DISTINCT status) FROM cases"), 5);
    assert_true(sql_int(t.ws, "SELECT count(DISTINCT value) FROM artifacts WHERE type = 'hostname'") > 50);
    assert_true(sql_int(t.ws, "SELECT count(*) FROM (SELECT value FROM artifacts WHERE type = 'domain'"
                            " GROUP BY value HAVING count(DISTINCT case_id) >= 2)") >= 3);
    int64_t count, bad;
    assert_int_equal(vg_audit_verify(t.ws, NULL, &count, &bad, &err), VG_OK);
    assert_int_equal(count, st.ops);
    tmpws_remove(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_build_counts),
        cmocka_unit_test(test_every_status_and_severity),
        cmocka_unit_test(test_closed_cases_have_resolution_and_time),
        cmocka_unit_test(test_phishing_campaign_bridges_cases),
        cmocka_unit_test(test_inbox_has_untriaged_alerts),
        cmocka_unit_test(test_tasks_notes_and_events),
        cmocka_unit_test(test_ops_are_stamped_and_causal),
        cmocka_unit_test(test_same_seed_same_workspace),
        cmocka_unit_test(test_replay_rebuilds_the_same_workspace),
        cmocka_unit_test(test_refuses_a_workspace_with_cases),
        cmocka_unit_test(test_rejects_counts_out_of_range),
        cmocka_unit_test(test_larger_build_reports_progress),
    };
    return cmocka_run_group_tests(tests, setup_shared, teardown_shared);
}
