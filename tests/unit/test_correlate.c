/*
 * test_correlate.c — inbox alerts into cases: groups by shared keys within the
 * window (chained), linking to open cases (which one wins, a crowded value, a case
 * from an earlier batch), values that must never join alerts, the alert_keys
 * index, and repeats (local and from another replica).
 */
#include "helpers.h"
#include "vigil/correlate.h"
#include "vigil/entity.h"

#define H (3600 * 1000LL)
#define T0 1790000000000LL

/* Add an alert (through the door) with these entities at T0 + at; its id in out. */
static void alert(vg_ws *ws, const char *title, const char *sev, int64_t at, const char *ents,
                  vg_id out)
{
    vg_op *op = vg_op_new("alert.add", NULL);
    cJSON_AddStringToObject(op->payload, "source", "test");
    cJSON_AddStringToObject(op->payload, "title", title);
    cJSON_AddStringToObject(op->payload, "severity", sev);
    cJSON_AddNumberToObject(op->payload, "event_time", (double)(T0 + at));
    cJSON_AddItemToObject(op->payload, "entities", cJSON_Parse(ents));
    memcpy(out, op->target, sizeof(vg_id));
    must_apply(ws, op);
}

static vg_correlation correlate(vg_ws *ws, vg_id *ids, size_t n, int64_t window)
{
    vg_correlation co = {.window_ms = window};
    vg_err err = {0};
    assert_int_equal(vg_batch_begin(ws, &err), VG_OK);
    if (vg_correlate(ws, ids, n, &co, &err) != VG_OK)
        fail_msg("correlate: %s", err.msg);
    assert_int_equal(vg_batch_commit(ws, &err), VG_OK);
    return co;
}

static int64_t case_of(vg_ws *ws, const char *alert_id)
{
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT coalesce((SELECT c.ref FROM alerts a JOIN cases c ON c.id = a.case_id"
             " WHERE a.id = '%s'), 0)", alert_id);
    return sql_int(ws, sql);
}

static void test_chained_groups_and_window(void **state)
{
    fx *f = fx_new();
    *state = f;
    vg_id a[6];
    alert(f->ws, "Phish click", "medium", 0, "{\"host\":\"ws-1\",\"user\":\"Ann\"}", a[0]);
    alert(f->ws, "Beacon", "high", 2 * H, "{\"host\":\"WS-1\",\"dest_ip\":\"203.0.113.9\"}", a[1]);
    /* shares only the address with a[1], 20 h later: chained into the same case */
    alert(f->ws, "Beacon", "critical", 22 * H, "{\"host\":\"ws-2\",\"dest_ip\":\"203.0.113.9\"}", a[2]);
    /* the same user, but 3 days later: outside the window */
    alert(f->ws, "Phish click", "low", 72 * H, "{\"user\":\"ann\"}", a[3]);
    /* SYSTEM, loopback and "-" join nothing */
    alert(f->ws, "Noise", "low", H, "{\"user\":\"SYSTEM\",\"src_ip\":\"127.0.0.1\",\"host\":\"-\"}", a[4]);
    alert(f->ws, "Noise", "low", H, "{\"user\":\"NT AUTHORITY\\\\SYSTEM\",\"src_ip\":\"127.0.0.1\"}", a[5]);
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM alert_keys WHERE key = 'hostname:ws-1'"), 2);
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM alert_keys WHERE key LIKE 'user:system%'"), 0);

    vg_correlation co = correlate(f->ws, a, 6, 24 * H);
    assert_int_equal(co.cases_created, 1);
    assert_int_equal(co.nupdated, 0);
    assert_int_equal(case_of(f->ws, a[0]), 1);
    assert_int_equal(case_of(f->ws, a[1]), 1);
    assert_int_equal(case_of(f->ws, a[2]), 1);
    assert_int_equal(case_of(f->ws, a[3]), 0);
    assert_int_equal(case_of(f->ws, a[4]), 0);
    assert_int_equal(case_of(f->ws, a[5]), 0);
    vg_case c;
    vg_id id;
    vg_err err = {0};
    assert_int_equal(vg_case_resolve(f->ws, "1", id, &err), VG_OK);
    assert_int_equal(vg_case_get(f->ws, id, &c, &err), VG_OK);
    assert_int_equal(c.severity, VG_SEV_CRITICAL);      /* the highest */
    assert_string_equal(c.title, "Beacon and 1 related alerts"); /* the most frequent */
    vg_case_clear(&c);
    /* the shared values and the rest are artifacts; the address is an IOC */
    assert_int_equal(sql_int(f->ws, "SELECT is_ioc FROM artifacts WHERE value = '203.0.113.9'"), 1);
    assert_int_equal(sql_int(f->ws, "SELECT is_ioc FROM artifacts WHERE value = 'ws-1'"), 0);
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM artifacts WHERE type = 'user'"), 1);
    vg_correlation_free(&co);
}

static void test_open_case_takes_the_alert(void **state)
{
    fx *f = fx_new();
    *state = f;
    vg_id c1, c2, a[2];
    new_case(f->ws, "Older case on the host", "low", c1);
    new_case(f->ws, "Closed case with the domain", "low", c2);
    must_apply(f->ws, vg_op_artifact_add(c1, "hostname", "WEB-01"));
    must_apply(f->ws, vg_op_artifact_add(c2, "domain", "evil.example"));
    must_apply(f->ws, vg_op_case_close(c2, "true_positive"));
    alert(f->ws, "Web shell", "high", 0, "{\"host\":\"web-01\",\"domain\":\"evil.example\"}", a[0]);
    alert(f->ws, "Other", "high", 0, "{\"domain\":\"evil.example\"}", a[1]);
    vg_correlation co = correlate(f->ws, a, 2, 24 * H);
    /* a[0] touches the open case by its host and joins it; its domain comes along,
     * so a[1] (the domain only) joins it too; the closed case takes nothing */
    assert_int_equal(case_of(f->ws, a[0]), 1);
    assert_int_equal(case_of(f->ws, a[1]), 1);
    assert_int_equal(co.cases_created, 0);
    assert_int_equal(co.nupdated, 1);
    assert_int_equal(co.alerts_linked, 2);
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM artifacts a JOIN cases c ON c.id = a.case_id"
                                    " WHERE c.ref = 1 AND a.value = 'evil.example'"), 1);
    /* correlating again changes nothing */
    vg_correlation again = correlate(f->ws, a, 2, 24 * H);
    assert_int_equal(again.alerts_linked, 0);
    vg_correlation_free(&co);
    vg_correlation_free(&again);
}

/* An importer's alert that touches an open case is stored on it by its own
 * alert.add (no link op, no "linked" timeline row), its values become artifacts
 * with no timeline rows of their own (the alert's row stands for them); a repeat
 * and an alert that touches no open case are stored as they are, for vg_correlate. */
static void test_add_joins_open_case(void **state)
{
    fx *f = fx_new();
    *state = f;
    vg_id c1;
    vg_err err = {0};
    new_case(f->ws, "Beacon on the host", "low", c1);
    must_apply(f->ws, vg_op_artifact_add(c1, "hostname", "WEB-01"));
    int64_t events = sql_int(f->ws, "SELECT count(*) FROM events");
    vg_correlation co = {.window_ms = 24 * H};
    const char *ents[3] = {"{\"host\":\"web-01\",\"dest_ip\":\"203.0.113.9\"}",
                           "{\"host\":\"web-01\",\"dest_ip\":\"203.0.113.9\"}",
                           "{\"host\":\"ws-77\"}"};
    const char *refs[3] = {"r1", "r1", "r2"};
    bool joined[3];
    vg_id into[3];
    assert_int_equal(vg_batch_begin(f->ws, &err), VG_OK);
    for (int i = 0; i < 3; i++) {
        vg_op *op = vg_op_new("alert.add", NULL);
        cJSON_AddStringToObject(op->payload, "source", "test");
        cJSON_AddStringToObject(op->payload, "source_ref", refs[i]);
        cJSON_AddStringToObject(op->payload, "title", "Beacon");
        cJSON_AddNumberToObject(op->payload, "event_time", (double)(T0 + i * H));
        cJSON_AddItemToObject(op->payload, "entities", cJSON_Parse(ents[i]));
        if (vg_correlate_add(f->ws, op, &co, &joined[i], &err) != VG_OK)
            fail_msg("add: %s", err.msg);
        memcpy(into[i], op->into, sizeof(vg_id));
        vg_op_free(op);
    }
    assert_int_equal(vg_batch_commit(f->ws, &err), VG_OK);
    assert_true(joined[0]);
    assert_false(joined[1]); /* the repeat folds into the alert it repeats */
    assert_false(joined[2]); /* nothing of it is on an open case */
    assert_string_equal(into[1], into[0]);
    assert_int_equal(case_of(f->ws, into[0]), 1);
    assert_int_equal(case_of(f->ws, into[2]), 0);
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM ops WHERE kind = 'alert.set'"), 0);
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM ops, json_each(vg_payload(payload),"
                                    " '$.alerts') e WHERE kind = 'alert.import'"
                                    " AND json_extract(e.value, '$.case') IS NOT NULL"), 1);
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM artifacts WHERE value = '203.0.113.9'"
                                    " AND source = 'alert' AND is_ioc = 1"), 1);
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM events"), events);
    assert_int_equal(co.alerts_linked, 1);
    assert_int_equal(co.nupdated, 1);
    assert_string_equal(co.updated[0], c1);
    /* the alert's row is on the case's timeline at its event time */
    assert_int_equal(sql_int(f->ws, "SELECT event_time FROM alerts WHERE case_id IS NOT NULL"),
                     T0);
    vg_correlation_free(&co);
}

/* A case with this id made on another replica at T0 + at (its created_at), as sync
 * delivers it. */
static void case_as(vg_ws *ws, const char *title, int64_t at, const char *id)
{
    static vg_id origin;
    if (!origin[0])
        vg_ulid(T0, origin);
    char json[200];
    snprintf(json, sizeof json, "{\"title\":\"%s\",\"severity\":\"low\"}", title);
    must_apply(ws, stamped("case.create", id, VG_HLC(T0 + at, 0), origin, json));
}

static void case_at(vg_ws *ws, const char *title, int64_t at, vg_id out)
{
    vg_ulid(T0 + at, out);
    case_as(ws, title, at, out);
}

static int64_t ref_of(vg_ws *ws, const char *case_id)
{
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT ref FROM cases WHERE id = '%s'", case_id);
    return sql_int(ws, sql);
}

/* Rule 1 picks the open case sharing the most values, then the newest (by creation
 * time, then by ref: the order cases reached this workspace, never the random part
 * of an id); a closed case takes nothing however much it shares. */
static void test_open_case_ranking(void **state)
{
    fx *f = fx_new();
    *state = f;
    vg_id a, b, closed, d, e, al[3];
    case_at(f->ws, "A", 1000, a);
    case_at(f->ws, "B", 2000, b);
    case_at(f->ws, "Closed", 3000, closed);
    /* D and E in one millisecond, E arriving second with the larger id */
    vg_ulid(T0 + 4000, d);
    vg_ulid(T0 + 4000, e);
    if (strcmp(d, e) > 0) {
        vg_id t;
        memcpy(t, d, sizeof t);
        memcpy(d, e, sizeof t);
        memcpy(e, t, sizeof t);
    }
    case_as(f->ws, "D", 4000, d);
    case_as(f->ws, "E", 4000, e);
    must_apply(f->ws, vg_op_artifact_add(a, "hostname", "h1"));
    must_apply(f->ws, vg_op_artifact_add(a, "user", "u1"));
    must_apply(f->ws, vg_op_artifact_add(b, "hostname", "h1"));
    must_apply(f->ws, vg_op_artifact_add(closed, "hostname", "h1"));
    must_apply(f->ws, vg_op_artifact_add(closed, "user", "u1"));
    must_apply(f->ws, vg_op_artifact_add(closed, "ip", "203.0.113.5"));
    must_apply(f->ws, vg_op_case_close(closed, "true_positive"));
    must_apply(f->ws, vg_op_artifact_add(d, "ip", "203.0.113.5"));
    must_apply(f->ws, vg_op_artifact_add(e, "ip", "203.0.113.5"));
    alert(f->ws, "Two values", "high", 0, "{\"host\":\"h1\",\"user\":\"u1\"}", al[0]);
    alert(f->ws, "Same time", "high", H, "{\"ip\":\"203.0.113.5\"}", al[1]);
    alert(f->ws, "One value", "high", 2 * H, "{\"host\":\"h1\"}", al[2]);
    vg_correlation co = correlate(f->ws, al, 3, 24 * H);
    assert_int_equal(co.cases_created, 0);
    assert_int_equal(co.alerts_linked, 3);
    assert_int_equal(case_of(f->ws, al[0]), ref_of(f->ws, a)); /* two values beat one */
    /* D and E share one value and were opened in the same millisecond: E, which came
     * after D, though D has the smaller id */
    assert_true(ref_of(f->ws, e) > ref_of(f->ws, d));
    assert_int_equal(case_of(f->ws, al[1]), ref_of(f->ws, e));
    assert_int_equal(case_of(f->ws, al[2]), ref_of(f->ws, b)); /* one each: the newer */
    vg_correlation_free(&co);
}

/* A value on many open cases counts for the 16 newest only: the oldest case, which
 * also holds the alert's other value, does not win by it. */
static void test_open_case_crowded_value(void **state)
{
    fx *f = fx_new();
    *state = f;
    vg_id k[17], al;
    for (int i = 0; i < 17; i++) {
        char title[16];
        snprintf(title, sizeof title, "K%d", i);
        case_at(f->ws, title, 1000 * (i + 1), k[i]);
        must_apply(f->ws, vg_op_artifact_add(k[i], "user", "crowd"));
    }
    must_apply(f->ws, vg_op_artifact_add(k[0], "hostname", "lone"));
    alert(f->ws, "Crowded", "low", 0, "{\"host\":\"lone\",\"user\":\"crowd\"}", al);
    vg_correlation co = correlate(f->ws, &al, 1, 24 * H);
    assert_int_equal(case_of(f->ws, al), ref_of(f->ws, k[16]));
    vg_correlation_free(&co);
}

/* A case opened by one call (one import batch) takes the alerts of the next that
 * touch it, and an alert that touches only a value the case received earlier in
 * the same call joins it too. The new case's artifacts are added once each. */
static void test_case_from_earlier_batch(void **state)
{
    fx *f = fx_new();
    *state = f;
    vg_id first[2], next[3];
    alert(f->ws, "Scan", "medium", 0, "{\"host\":\"h9\",\"src_ip\":\"198.51.100.1\"}", first[0]);
    alert(f->ws, "Scan", "high", H, "{\"host\":\"h9\",\"user\":\"bob\",\"src_ip\":\"198.51.100.1\"}",
          first[1]);
    vg_correlation co = correlate(f->ws, first, 2, 24 * H);
    assert_int_equal(co.cases_created, 1);
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM artifacts"), 3);
    /* the links brought them: no op of their own */
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM ops WHERE kind = 'artifact.add'"), 0);
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM events WHERE summary LIKE '%seen again%'"), 0);
    vg_correlation_free(&co);

    alert(f->ws, "Beacon", "high", 20 * H, "{\"host\":\"h9\",\"dest_ip\":\"203.0.113.77\"}", next[0]);
    alert(f->ws, "Beacon", "high", 21 * H, "{\"dest_ip\":\"203.0.113.77\"}", next[1]);
    alert(f->ws, "Elsewhere", "low", 22 * H, "{\"host\":\"h10\"}", next[2]);
    co = correlate(f->ws, next, 3, 24 * H);
    assert_int_equal(co.cases_created, 0);
    assert_int_equal(co.nupdated, 1);
    assert_int_equal(case_of(f->ws, next[0]), 1);
    assert_int_equal(case_of(f->ws, next[1]), 1);
    assert_int_equal(case_of(f->ws, next[2]), 0);
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM artifacts WHERE value = '203.0.113.77'"), 1);
    vg_correlation_free(&co);
    /* the window holds for an open case too: the host's last sighting there was at
     * 20 h, so an alert of it at 60 h is not taken in; a value the analyst put on the
     * case is, whenever */
    vg_id late[2], case_id;
    alert(f->ws, "Beacon", "high", 60 * H, "{\"host\":\"h9\"}", late[0]);
    co = correlate(f->ws, late, 1, 24 * H);
    assert_int_equal(case_of(f->ws, late[0]), 0);
    vg_correlation_free(&co);
    char *cid = sql_text(f->ws, "SELECT id FROM cases WHERE ref = 1");
    snprintf(case_id, sizeof case_id, "%s", cid);
    free(cid);
    must_apply(f->ws, vg_op_artifact_add(case_id, "domain", "watch.example"));
    alert(f->ws, "Lookup", "low", 90 * H, "{\"domain\":\"watch.example\"}", late[1]);
    co = correlate(f->ws, late + 1, 1, 24 * H);
    assert_int_equal(case_of(f->ws, late[1]), 1);
    vg_correlation_free(&co);
}

static void test_repeat_folds_and_keeps_keys(void **state)
{
    fx *f = fx_new();
    *state = f;
    for (int i = 0; i < 2; i++) {
        vg_op *op = vg_op_new("alert.add", NULL);
        cJSON_AddStringToObject(op->payload, "source", "edr");
        cJSON_AddStringToObject(op->payload, "source_ref", "x-1");
        cJSON_AddStringToObject(op->payload, "title", "Same");
        cJSON_AddNumberToObject(op->payload, "event_time", (double)(T0 + i * H));
        cJSON_AddItemToObject(op->payload, "entities", cJSON_Parse("{\"host\":\"h\"}"));
        static vg_id first;
        vg_err err = {0};
        assert_int_equal(vg_apply(f->ws, op, &err), VG_OK);
        assert_int_equal(op->folded, i == 1);
        if (i == 0)
            memcpy(first, op->into, sizeof first);
        else /* the repeat lands on the first alert, which keeps its id */
            assert_string_equal(op->into, first);
        vg_op_free(op);
    }
    assert_int_equal(sql_int(f->ws, "SELECT count FROM alerts"), 2);
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM ops, json_each(vg_payload(payload),"
                                    " '$.alerts') e WHERE kind = 'alert.import'"
                                    " AND json_extract(e.value, '$.id') = (SELECT id FROM alerts)"), 2);
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM alert_keys"), 1);
}

/* A repeat from another replica folds into the alert too; the row keeps the smaller
 * of the two ids, and the op says which alert it landed on. */
static void test_remote_repeat_keeps_smaller_id(void **state)
{
    fx *f = fx_new();
    *state = f;
    static const char json[] = "{\"source\":\"edr\",\"source_ref\":\"x-2\",\"title\":\"Same\","
                               "\"event_time\":1790000000000,\"entities\":{\"host\":\"h\"}}";
    vg_id origin, local, older, newer;
    vg_ulid(T0, origin);
    vg_op *op = vg_op_new("alert.add", NULL);
    cJSON_Delete(op->payload);
    op->payload = cJSON_Parse(json);
    must_apply(f->ws, op); /* frees op */
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM alerts"), 1);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(f->ws->db, "SELECT id FROM alerts", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    snprintf(local, sizeof local, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    vg_ulid(vg_ulid_ms(local) + 1000, newer);
    vg_ulid(T0, older);
    const char *targets[2] = {newer, older};
    for (int i = 0; i < 2; i++) {
        vg_op *r = stamped("alert.add", targets[i], VG_HLC(vg_now_ms() + 10 + i, 0), origin, json);
        vg_err err = {0};
        assert_int_equal(vg_apply(f->ws, r, &err), VG_OK);
        assert_true(r->folded);
        assert_string_equal(r->into, i == 0 ? local : older);
        vg_op_free(r);
    }
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM alerts"), 1);
    assert_int_equal(sql_int(f->ws, "SELECT count FROM alerts"), 3);
    char sql[120];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM alerts WHERE id = '%s'", older);
    assert_int_equal(sql_int(f->ws, sql), 1);
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM alert_keys"), 1);
}

static void test_entity_vocabulary(void **state)
{
    (void)state;
    assert_string_equal(vg_enum_name(&VG_ARTIFACT_TYPE, vg_entity_type("src_ip")), "ip");
    assert_string_equal(vg_enum_name(&VG_ARTIFACT_TYPE, vg_entity_type("sender")), "email");
    assert_int_equal(vg_entity_type("flow_id"), -1);
    int ip = vg_entity_type("ip");
    assert_true(vg_entity_is_ioc(ip, "203.0.113.9"));
    assert_false(vg_entity_is_ioc(ip, "10.1.2.3"));
    assert_false(vg_entity_is_ioc(vg_entity_type("host"), "evil"));
    assert_false(vg_entity_is_key(vg_entity_type("file")));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_chained_groups_and_window, fx_teardown),
        cmocka_unit_test_teardown(test_open_case_takes_the_alert, fx_teardown),
        cmocka_unit_test_teardown(test_add_joins_open_case, fx_teardown),
        cmocka_unit_test_teardown(test_open_case_ranking, fx_teardown),
        cmocka_unit_test_teardown(test_open_case_crowded_value, fx_teardown),
        cmocka_unit_test_teardown(test_case_from_earlier_batch, fx_teardown),
        cmocka_unit_test_teardown(test_repeat_folds_and_keeps_keys, fx_teardown),
        cmocka_unit_test_teardown(test_remote_repeat_keeps_smaller_id, fx_teardown),
        cmocka_unit_test(test_entity_vocabulary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
