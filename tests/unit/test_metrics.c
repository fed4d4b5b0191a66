/*
 * test_metrics.c — the dashboard's numbers on a workspace whose history is known to
 * the millisecond (ops stamped at chosen clocks), including "none", not 0, when
 * nothing was acknowledged or closed.
 */
#include "helpers.h"

#include "vigil/metrics.h"

#define NOW 1800000000000LL
#define HOUR 3600000LL
#define DAY (24 * HOUR)

static const char *const ORIGIN = "01JAAAAAAAAAAAAAAAAAAAAAAA";

static void at(vg_ws *ws, int64_t ms, const char *kind, const char *target, const char *json)
{
    static int counter;
    must_apply(ws, stamped(kind, target, VG_HLC(ms, counter++ & 0xffff), ORIGIN, json));
}

static void test_empty_is_none(void **state)
{
    (void)state;
    fx *f = fx_new();
    vg_dash d;
    vg_err err = {0};
    assert_int_equal(vg_dash_compute(f->ws, NOW, 30, NULL, &d, &err), VG_OK);
    assert_false(d.has_mtta);
    assert_false(d.has_mttr);
    char s[32];
    vg_duration(d.has_mttr, d.mttr_ms, s, sizeof s);
    assert_string_equal(s, "none");
    size_t n;
    char **lines = vg_dash_render(&d, true, &n, NULL);
    bool found = false;
    for (size_t i = 0; i < n; i++)
        found |= strstr(lines[i], "MTTA none (0 acknowledged)   MTTR none (0 closed)") != NULL;
    assert_true(found);
    vg_lines_free(lines, n);
    vg_dash_clear(&d);
    assert_int_equal(vg_dash_compute(f->ws, NOW, 0, NULL, &d, &err), VG_EINVAL);
    void *st = f;
    fx_teardown(&st);
}

static void test_known_history(void **state)
{
    (void)state;
    fx *f = fx_new();
    const char *a = "01JA0000000000000000000001", *b = "01JA0000000000000000000002",
               *c = "01JA0000000000000000000003", *dd = "01JA0000000000000000000004";
    /* a: opened 2 days ago, acknowledged an hour later, closed a day later */
    at(f->ws, NOW - 2 * DAY, "case.create", a, "{\"title\":\"a\",\"severity\":\"high\"}");
    at(f->ws, NOW - 2 * DAY + HOUR, "case.set", a, "{\"field\":\"status\",\"value\":\"in_progress\"}");
    at(f->ws, NOW - DAY, "case.set", a,
       "{\"field\":\"status\",\"value\":\"closed\",\"resolution\":\"true_positive\"}");
    /* b: opened 10 days ago, untouched */
    at(f->ws, NOW - 10 * DAY, "case.create", b, "{\"title\":\"b\",\"severity\":\"low\"}");
    /* c: opened and closed before the window: in no mean */
    at(f->ws, NOW - 40 * DAY, "case.create", c, "{\"title\":\"c\"}");
    at(f->ws, NOW - 35 * DAY, "case.set", c,
       "{\"field\":\"status\",\"value\":\"closed\",\"resolution\":\"benign\"}");
    /* d: opened two hours ago, acknowledged 30 minutes later */
    at(f->ws, NOW - 2 * HOUR, "case.create", dd, "{\"title\":\"d\",\"severity\":\"critical\"}");
    at(f->ws, NOW - 90 * 60000, "case.set", dd, "{\"field\":\"status\",\"value\":\"contained\"}");
    /* a value on a and b: the one shared artifact */
    char json[200];
    snprintf(json, sizeof json, "{\"case\":\"%s\",\"type\":\"domain\",\"value\":\"evil.example\"}", a);
    at(f->ws, NOW - DAY, "artifact.add", "01JA0000000000000000000011", json);
    snprintf(json, sizeof json, "{\"case\":\"%s\",\"type\":\"domain\",\"value\":\"evil.example\"}", b);
    at(f->ws, NOW - DAY, "artifact.add", "01JA0000000000000000000012", json);

    vg_dash d;
    vg_err err = {0};
    /* targets: low 7 days (b, ten days open, is late), critical 4 hours (d, two) */
    static const int64_t sla[5] = {0, 7 * DAY, 3 * DAY, DAY, 4 * HOUR};
    assert_int_equal(vg_dash_compute(f->ws, NOW, 30, sla, &d, &err), VG_OK);
    assert_true(d.has_mtta);
    assert_int_equal(d.mtta_n, 2);
    assert_int_equal(d.mtta_ms, (HOUR + 30 * 60000) / 2); /* a: 1h, d: 30m */
    assert_true(d.has_mttr);
    assert_int_equal(d.mttr_n, 1);                        /* c closed before the window */
    assert_int_equal(d.mttr_ms, DAY);
    assert_int_equal(d.open, 2);
    assert_int_equal(d.total, 4);
    assert_int_equal(d.heat[VG_SEV_HIGH][VG_ST_CLOSED], 1);
    assert_int_equal(d.heat[VG_SEV_CRITICAL][VG_ST_CONTAINED], 1);
    assert_int_equal(d.aging[0], 1); /* d: under a day */
    assert_int_equal(d.aging[3], 1); /* b: 7-30 days */
    assert_int_equal(d.opened[29], 1);  /* d, in the last bucket */
    assert_int_equal(d.opened[28], 1);  /* a, two days ago */
    assert_int_equal(d.opened[20], 1);  /* b, ten days ago */
    assert_int_equal(d.closed[29], 1);  /* a closed a day ago: the last bucket */
    assert_int_equal(d.nshared, 1);
    assert_string_equal(d.shared[0].value, "evil.example");
    assert_int_equal(d.shared[0].cases, 2);
    assert_true(d.has_sla);
    assert_int_equal(d.overdue_total, 1);
    assert_int_equal(d.overdue[VG_SEV_LOW], 1);
    assert_int_equal(d.overdue[VG_SEV_CRITICAL], 0);
    assert_int_equal(d.nload, 1); /* both open cases are nobody's */
    assert_string_equal(d.load[0].name, "");
    assert_int_equal(d.load[0].open, 2);
    assert_int_equal(d.load[0].overdue, 1);
    /* each number's line carries the filter that lists its cases */
    size_t n;
    char **q = NULL, **lines = vg_dash_render(&d, true, &n, &q);
    int seen = 0;
    for (size_t i = 0; i < n; i++) {
        if (strstr(lines[i], "SLA  1 of 2 open cases overdue"))
            { assert_string_equal(q[i], "sla:overdue"); seen++; }
        if (strstr(lines[i], "low           1 overdue"))
            { assert_string_equal(q[i], "sla:overdue sev:low"); seen++; }
        if (strstr(lines[i], "(nobody)") && strstr(lines[i], "2 open  1 overdue"))
            { assert_string_equal(q[i], "assignee:none"); seen++; }
        if (strstr(lines[i], "evil.example"))
            { assert_string_equal(q[i], "domain:evil.example status:all"); seen++; }
        if (strstr(lines[i], "MTTA"))
            assert_null(q[i]);
    }
    assert_int_equal(seen, 4);
    vg_lines_free(lines, n);
    vg_lines_free(q, n);
    vg_dash_clear(&d);
    void *st = f;
    fx_teardown(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_is_none),
        cmocka_unit_test(test_known_history),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
