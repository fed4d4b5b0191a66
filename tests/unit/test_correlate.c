/*
 * test_correlate.c — inbox alerts into cases: groups by shared keys within the
 * window (chained), linking to open cases, values that must never join alerts, the
 * alert_keys index, and repeats.
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
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM ops WHERE kind = 'alert.add'"
                                    " AND target = (SELECT id FROM alerts)"), 2);
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
        cmocka_unit_test_teardown(test_repeat_folds_and_keeps_keys, fx_teardown),
        cmocka_unit_test(test_entity_vocabulary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
