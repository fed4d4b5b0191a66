/*
 * test_util.c — the small core modules: capped buffers (buf.c), the vocabularies
 * (model.c), the JSON views (json.c) and the one parser of the times analysts
 * give (timefmt.c).
 */
#include "helpers.h"

#include "vigil/buf.h"
#include "vigil/json.h"
#include "vigil/model.h"
#include "vigil/timefmt.h"

#include <time.h>

static void test_buf_cap(void **state)
{
    (void)state;
    vg_buf b;
    vg_buf_init(&b, 10);
    assert_int_equal(vg_buf_adds(&b, "hello"), VG_OK);
    assert_int_equal(vg_buf_addf(&b, "%d", 1234), VG_OK);
    assert_string_equal(vg_buf_str(&b), "hello1234");
    assert_int_equal(vg_buf_adds(&b, "xy"), VG_EINVAL); /* would pass the cap */
    assert_int_equal(b.len, 0);                         /* and is emptied, freed */
    assert_null(b.data);
    assert_string_equal(vg_buf_str(&b), "");
    assert_int_equal(vg_buf_adds(&b, "0123456789"), VG_OK); /* exactly the cap */
    char *s = vg_buf_take(&b);
    assert_string_equal(s, "0123456789");
    free(s);
    vg_buf_free(&b);

    char *dir = tmp_dir(), *p = path_in(dir, "f");
    FILE *f = fopen(p, "w");
    for (int i = 0; i < 1000; i++)
        fputs("0123456789", f);
    fclose(f);
    vg_err err = {0};
    vg_buf_init(&b, 5000);
    f = fopen(p, "r");
    assert_int_equal(vg_buf_read_file(&b, f, "input", &err), VG_EINVAL);
    assert_string_equal(err.msg, "input: larger than 5000 bytes");
    fclose(f);
    vg_buf_init(&b, 20000);
    f = fopen(p, "r");
    assert_int_equal(vg_buf_read_file(&b, f, "input", &err), VG_OK);
    assert_int_equal(b.len, 10000);
    fclose(f);
    vg_buf_free(&b);
    free(p);
    rm_tree(dir);
}

static void test_enums(void **state)
{
    (void)state;
    assert_int_equal(vg_enum_parse(&VG_SEVERITY, "HIGH"), VG_SEV_HIGH);
    assert_int_equal(vg_enum_parse(&VG_STATUS, "in-progress"), VG_ST_IN_PROGRESS);
    assert_int_equal(vg_enum_parse(&VG_ARTIFACT_TYPE, "user-agent"), VG_AT_USER_AGENT);
    /* the type indexes code branches on name the types they say */
    static const struct { int i; const char *name; } at[] = {
        {VG_AT_IP, "ip"}, {VG_AT_DOMAIN, "domain"}, {VG_AT_URL, "url"}, {VG_AT_EMAIL, "email"},
        {VG_AT_MD5, "md5"}, {VG_AT_SHA1, "sha1"}, {VG_AT_SHA256, "sha256"},
        {VG_AT_SHA512, "sha512"}, {VG_AT_FILENAME, "filename"}, {VG_AT_HOSTNAME, "hostname"},
        {VG_AT_USER, "user"}, {VG_AT_REGISTRY, "registry"}, {VG_AT_MUTEX, "mutex"},
        {VG_AT_USER_AGENT, "user-agent"}, {VG_AT_CVE, "cve"}, {VG_AT_ASN, "asn"},
        {VG_AT_OTHER, "other"}, {VG_AT_COMMAND_LINE, "command-line"}};
    assert_int_equal(VG_ARTIFACT_TYPE.n, sizeof at / sizeof *at);
    for (size_t i = 0; i < sizeof at / sizeof *at; i++)
        assert_string_equal(vg_enum_name(&VG_ARTIFACT_TYPE, at[i].i), at[i].name);
    assert_int_equal(vg_enum_parse(&VG_TLP, "amber+strict"), 3);
    assert_int_equal(vg_enum_parse(&VG_SEVERITY, "hi"), -1);
    assert_int_equal(vg_enum_parse(&VG_SEVERITY, "highest"), -1);
    assert_int_equal(vg_enum_parse(&VG_SEVERITY, NULL), -1);
    assert_string_equal(vg_enum_name(&VG_SEVERITY, 9), "?");
    char list[256];
    vg_enum_list(&VG_PHASE, list, sizeof list);
    assert_string_equal(list, "identification, containment, eradication, recovery, lessons_learned");
    vg_enum_list(&VG_PHASE, list, 12); /* a short buffer is cut, still terminated */
    assert_int_equal(strlen(list), 11);
}

static void test_json_views(void **state)
{
    (void)state;
    /* tags and techniques as people read them, not as JSON */
    static const char *const words[][2] = {{"[\"c2\",\"beaconing\"]", "c2, beaconing"},
                                           {"[]", "-"}, {"[\"T1059.001\"]", "T1059.001"},
                                           {"not a list", "not a list"}, {"[1,\"x\"]", "x"}};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++) {
        char *w = vg_json_words(words[i][0]);
        assert_string_equal(w, words[i][1]);
        free(w);
    }
    char t[32];
    vg_iso8601(1731000000123, t, sizeof t);
    assert_string_equal(t, "2024-11-07T17:20:00.123Z");
    vg_case c = {.id = "01JABCDEFGHJKMNPQRSTVWXYZ0", .ref = 4, .severity = 4, .status = 4,
                 .resolution = 1, .tlp = 4, .pap = 0, .created_at = 1731000000123};
    c.title = "bad \xff byte \x1b[2J";
    c.description = "";
    c.assignee = "";
    c.tags = "[\"phish\"]";
    c.techniques = "not json";
    c.created_by = "alice";
    cJSON *j = vg_case_json(&c);
    char *s = cJSON_PrintUnformatted(j);
    assert_non_null(strstr(s, "\"title\":\"bad \xef\xbf\xbd byte \\u001b[2J\""));
    assert_non_null(strstr(s, "\"severity\":\"critical\""));
    assert_non_null(strstr(s, "\"resolution\":\"false_positive\""));
    assert_non_null(strstr(s, "\"assignee\":null"));
    assert_non_null(strstr(s, "\"tags\":[\"phish\"]"));
    assert_non_null(strstr(s, "\"techniques\":[]")); /* a broken stored list stays JSON */
    assert_non_null(strstr(s, "\"closed_at\":null"));
    assert_non_null(strstr(s, "\"created_at\":\"2024-11-07T17:20:00.123Z\""));
    cJSON_free(s);
    cJSON_Delete(j);
}

/* What every --json prints: a strict parser takes it, whatever the tree held. */
static void test_json_print_is_strict(void **state)
{
    (void)state;
    static const char *const strict[] = {"{}", " [ ] ", "0", "-0.5e+3", "\"a\\u00e9\\n\"",
                                         "{\"a\":[true,false,null,{}]}", "{ \"a\" : 1 , \"b\":\t2 }", "18446744073709551615"};
    static const char *const lenient[] = {"+1", "01", ".5", "1.", "1e", "{\"a\":1,}", "[1 2]",
                                          "\"\x01\"", "\"\\x\"", "\"\\u12\"", "{} x",
                                          "\x01{}", "nul", "\"\xff\"", "{1:2}", ""};
    for (size_t i = 0; i < sizeof strict / sizeof *strict; i++)
        assert_true(vg_json_strict(strict[i], strlen(strict[i])));
    for (size_t i = 0; i < sizeof lenient / sizeof *lenient; i++)
        if (vg_json_strict(lenient[i], strlen(lenient[i])))
            fail_msg("'%s' taken as strict JSON", lenient[i]);

    /* duplicate keys (also two that are one once repaired), invalid UTF-8, raw
     * events: exact when strict, else their parse */
    cJSON *o = cJSON_Parse("{\"k\":1,\"k\":2,\"a\xff\":3,\"a\xfe\":4,\"n\":{\"x\":1,\"x\":2}}");
    cJSON_AddItemToObject(o, "exact", cJSON_CreateRaw("{\"id\":18446744073709551615}"));
    cJSON_AddItemToObject(o, "ctl", cJSON_CreateRaw("{\"s\":\"a\x01\x1b]52\"}"));
    cJSON_AddItemToObject(o, "dup", cJSON_CreateRaw("{\"d\":{\"e\":1,\"e\":2}}"));
    cJSON_AddItemToObject(o, "broken", cJSON_CreateRaw("{\"a\":"));
    char *s = vg_json_print(o);
    assert_string_equal(s, "{\"k\":1,\"a\xef\xbf\xbd\":3,\"n\":{\"x\":1},"
                           "\"exact\":{\"id\":18446744073709551615},"
                           "\"ctl\":{\"s\":\"a\\u0001\\u001b]52\"},\"dup\":{\"d\":{\"e\":1}},"
                           "\"broken\":null}");
    assert_true(vg_json_strict(s, strlen(s)));
    free(s);
    cJSON_Delete(o);
}

#define HOUR 3600000LL

/* vg_parse_when: durations, now, epoch seconds, and times with or without a zone
 * (the analyst's: here a fixed UTC+2 that needs no tzdata), the future refused
 * unless asked for, and errors that name the argument and the value. */
static void test_parse_when(void **state)
{
    (void)state;
    const char *tz = getenv("TZ");
    char *saved = tz ? strdup(tz) : NULL;
    setenv("TZ", "VGT-02", 1);
    tzset();
    int64_t now = 1796000000000LL, t; /* 2026-11-30T23:33:20Z */
    vg_err err = {0};
    static const struct {
        const char *in;
        int64_t want;
    } ok[] = {
        {"8h", 1796000000000LL - 8 * HOUR},
        {"2d", 1796000000000LL - 48 * HOUR},
        {"90m", 1796000000000LL - 90 * 60000LL},
        {"1w", 1796000000000LL - 168 * HOUR},
        {"now", 1796000000000LL},
        {"1793714520", 1793714520000LL},               /* date +%s */
        {"2026-11-03T14:02Z", 1793714520000LL},        /* a zone: as it says */
        {"2026-11-03T14:02:30Z", 1793714550000LL},     /* seconds */
        {"2026-11-03T14:02:30.250Z", 1793714550250LL}, /* a fraction */
        {"2026-11-03T15:02+01:00", 1793714520000LL},   /* offsets */
        {"2026-11-03T09:02-0500", 1793714520000LL},
        {"2026-11-03 16:02", 1793714520000LL},         /* as the timeline prints it: UTC+2 */
        {"2026-11-03T16:02:30", 1793714550000LL},
        {"2026-11-03", 1793714520000LL - (14 * 60 + 2) * 60000LL - 2 * HOUR},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        if (vg_parse_when("--since", ok[i].in, now, 0, &t, &err) != VG_OK)
            fail_msg("'%s': %s", ok[i].in, err.msg);
        if (t != ok[i].want)
            fail_msg("'%s': %lld, wanted %lld", ok[i].in, (long long)t, (long long)ok[i].want);
    }
    assert_int_equal(vg_parse_when("--since", "2027-01-01", now, 0, &t, &err), VG_EINVAL);
    assert_string_equal(err.msg, "--since: '2027-01-01' is in the future");
    assert_int_equal(vg_parse_when("before", "2027-01-01", now, VG_WHEN_FUTURE, &t, &err), VG_OK);
    static const char *const bad[] = {"8x",  "",      "h",          "-3h",       "8hh",
                                      "99999999999999d", "yesterday", "2026-13-01", "14:02",
                                      "2026-11-03T25:00"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (vg_parse_when("after", bad[i], now, 0, &t, &err) != VG_EINVAL)
            fail_msg("'%s' was taken", bad[i]);
    assert_non_null(strstr(err.msg, "after: '2026-11-03T25:00' is neither a duration"));
    if (saved)
        setenv("TZ", saved, 1);
    else
        unsetenv("TZ");
    free(saved);
    tzset();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_cap),
        cmocka_unit_test(test_parse_when),
        cmocka_unit_test(test_enums),
        cmocka_unit_test(test_json_views),
        cmocka_unit_test(test_json_print_is_strict),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
