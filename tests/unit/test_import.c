/*
 * test_import.c — the importer's pure parts: times in every shape vendors write
 * them, redaction that keeps numbers exact, format detection and severity mapping;
 * and that an import's bulk-load settings end with it.
 */
#include "helpers.h"
#include "import.h"

static int64_t t_of(const char *json)
{
    cJSON *v = cJSON_Parse(json);
    int64_t ms = -1;
    if (!imp_time(v, &ms))
        ms = -1;
    cJSON_Delete(v);
    return ms;
}

static void test_times(void **state)
{
    (void)state;
    assert_int_equal(t_of("\"2026-11-04T21:57:58.102938+0000\""), 1793829478102);
    assert_int_equal(t_of("\"2026-11-04T22:57:58.102+01:00\""), 1793829478102);
    assert_int_equal(t_of("\"2026-11-04 21:57:58Z\""), 1793829478000);
    assert_int_equal(t_of("\"2026-11-04T21:57:58.102938123Z\""), 1793829478102); /* ns */
    assert_int_equal(t_of("1793829478"), 1793829478000);          /* seconds */
    assert_int_equal(t_of("1793829478102"), 1793829478102);       /* ms */
    assert_int_equal(t_of("1793829478102938"), 1793829478102);    /* us */
    assert_int_equal(t_of("1793829478102938123"), 1793829478102); /* ns */
    assert_int_equal(t_of("[\"2026-11-04T21:57:58Z\"]"), 1793829478000);
    assert_int_equal(t_of("\"1793829478.5\""), 1793829478500);
    assert_int_equal(t_of("\"yesterday\""), -1);
    assert_int_equal(t_of("\"2026-13-01T00:00:00Z\""), -1);
    assert_int_equal(t_of("\"2026-11-04T21:57:58+\""), -1);
    assert_int_equal(t_of("null"), -1);
    assert_int_equal(t_of("-5"), -1);
}

static void test_redact(void **state)
{
    (void)state;
    const char *in = "{\"user\":{\"Password\": \"hunter2\", \"name\":\"ann\"},"
                     "\"headers\":{\"Authorization\":[\"Bearer x\",{\"a\":1}]},\"flow_id\":1882548932481212123,"
                     "\"api_key\":null,\"note\":\"password\",\"n\":-1.5e3,\"session_token\":{\"deep\":[1,2]}}";
    char *out = imp_redact(in, strlen(in));
    assert_string_equal(out, "{\"user\":{\"Password\":\"[REDACTED]\", \"name\":\"ann\"},"
                             "\"headers\":{\"Authorization\":\"[REDACTED]\"},\"flow_id\":1882548932481212123,"
                             "\"api_key\":\"[REDACTED]\",\"note\":\"password\",\"n\":-1.5e3,"
                             "\"session_token\":\"[REDACTED]\"}");
    cJSON *j = cJSON_Parse(out); /* still JSON */
    assert_non_null(j);
    cJSON_Delete(j);
    free(out);
}

static imp_map_rc map(const char *json, imp_format *fmt, cJSON **p, char *why)
{
    cJSON *rec = cJSON_Parse(json);
    assert_non_null(rec);
    *fmt = imp_detect(rec);
    *p = cJSON_CreateObject();
    imp_map_rc rc = imp_map(rec, *fmt, 3600000, *p, why, 200);
    cJSON_Delete(rec);
    return rc;
}

static const char *pget(const cJSON *p, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static void test_detect_and_map(void **state)
{
    (void)state;
    imp_format f;
    cJSON *p;
    char why[200];
    assert_int_equal(map("{\"timestamp\":\"2026-11-04T21:57:58Z\",\"event_type\":\"alert\","
                         "\"src_ip\":\"1.2.3.4\",\"alert\":{\"signature\":\"S\",\"severity\":1}}", &f, &p, why), MAP_OK);
    assert_int_equal(f, IMP_SURICATA);
    assert_string_equal(pget(p, "severity"), "high");
    assert_memory_equal(pget(p, "source_ref"), "fp:", 3); /* no id of its own */
    cJSON_Delete(p);
    assert_int_equal(map("{\"timestamp\":\"2026-11-04T21:57:58Z\",\"event_type\":\"flow\"}", &f, &p, why), MAP_SKIP);
    cJSON_Delete(p);
    assert_int_equal(map("{\"timestamp\":\"2026-11-04T21:57:58Z\",\"rule\":{\"level\":13,\"description\":\"D\"},"
                         "\"agent\":{\"name\":\"a\"},\"id\":\"1.2\"}", &f, &p, why), MAP_OK);
    assert_int_equal(f, IMP_WAZUH);
    assert_string_equal(pget(p, "severity"), "critical");
    assert_string_equal(pget(p, "source_ref"), "1.2");
    cJSON_Delete(p);
    assert_int_equal(map("{\"@timestamp\":\"2026-11-04T21:57:58Z\",\"kibana.alert.rule.name\":\"R\","
                         "\"kibana.alert.risk_score\":99}", &f, &p, why), MAP_OK);
    assert_int_equal(f, IMP_ECS);
    assert_string_equal(pget(p, "severity"), "critical");
    cJSON_Delete(p);
    assert_int_equal(map("{\"class_uid\":2004,\"time\":1793829478102,\"severity_id\":6,"
                         "\"finding_info\":{\"title\":\"F\"}}", &f, &p, why), MAP_OK);
    assert_int_equal(f, IMP_OCSF);
    assert_string_equal(pget(p, "severity"), "critical");
    cJSON_Delete(p);
    assert_int_equal(map("{\"hello\":1}", &f, &p, why), MAP_BAD);
    assert_int_equal(f, IMP_AUTO);
    assert_non_null(strstr(why, "not an alert of a known format"));
    cJSON_Delete(p);
    assert_int_equal(map("{\"source\":\"s\",\"title\":\"t\",\"time\":\"soon\"}", &f, &p, why), MAP_BAD);
    assert_string_equal(why, "time: 'soon' is not a time");
    cJSON_Delete(p);
}

/* An import runs with SQLite's CHECK constraints unevaluated (the door checks the
 * same rules): when it ends, however it ends, they are back. */
static void test_bulk_load_ends(void **state)
{
    fx *f = fx_new();
    *state = f;
    char *in = path_in(f->dir, "in.jsonl");
    FILE *fp = fopen(in, "w");
    assert_non_null(fp);
    fputs("{\"source\":\"t\",\"title\":\"Beacon\",\"time\":1794230000,"
          "\"entities\":{\"host\":\"ws-1\"}}\n", fp);
    fclose(fp);
    char *missing = path_in(f->dir, "missing.jsonl");
    for (int run = 0; run < 2; run++) {
        imp_opts o = {.format = IMP_AUTO, .correlate = true, .strict = run == 1};
        imp_stats st = {0};
        vg_err err = {0};
        char *names[] = {in, missing};
        vg_rc rc = imp_files(f->ws, names, 2, &o, &st, &err);
        assert_int_equal(rc, run == 0 ? VG_OK : VG_EIO); /* strict: the missing file */
        imp_stats_free(&st);
        assert_int_not_equal(sqlite3_exec(f->ws->db, "UPDATE alerts SET status = 'bogus'",
                                          NULL, NULL, NULL), SQLITE_OK);
        assert_int_equal(sql_int(f->ws, "PRAGMA wal_autocheckpoint"), 1000);
    }
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM alerts"), 1);
    free(in);
    free(missing);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_redact),
        cmocka_unit_test(test_detect_and_map),
        cmocka_unit_test_teardown(test_bulk_load_ends, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
