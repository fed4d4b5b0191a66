/*
 * test_import.c — the importer's pure parts: times in every shape vendors write
 * them, redaction that keeps numbers exact, format detection and severity mapping;
 * and that an import's bulk-load settings end with it. Hostile records too: secrets
 * behind escapes, repeated keys, raw control bytes, numbers out of every range.
 * The shapes a file comes in (JSON lines, an array, pretty objects one after
 * another, search responses and hits), gzip and zstd, bombs, cuts and encodings.
 */
#include <math.h>

#include <zlib.h>
#include <zstd.h>

#include "helpers.h"
#include "vigil/entity.h"
#include "vigil/model.h"
#include "import.h"
#include "import_src.h"

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

/* The raw event as the import stores it: NULL when it is refused. */
static char *redact(const char *in)
{
    char why[300];
    return imp_redact(in, strlen(in), why, sizeof why);
}

static void test_redact(void **state)
{
    (void)state;
    const char *in = "{\"user\":{\"Password\": \"hunter2\", \"name\":\"ann\"},"
                     "\"headers\":{\"Authorization\":[\"Bearer x\",{\"a\":1}]},\"flow_id\":1882548932481212123,"
                     "\"api_key\":null,\"note\":\"password\",\"n\":-1.5e3,\"session_token\":{\"deep\":[1,2]}}";
    char *out = redact(in);
    assert_string_equal(out, "{\"user\":{\"Password\":\"[REDACTED]\", \"name\":\"ann\"},"
                             "\"headers\":{\"Authorization\":\"[REDACTED]\"},\"flow_id\":1882548932481212123,"
                             "\"api_key\":\"[REDACTED]\",\"note\":\"password\",\"n\":-1.5e3,"
                             "\"session_token\":\"[REDACTED]\"}");
    cJSON *j = cJSON_Parse(out); /* still JSON */
    assert_non_null(j);
    cJSON_Delete(j);
    free(out);
}

/* Secret keys are known by their decoded names, in any case; short ones (otp, pin)
 * only as a whole word of the key; secrets inside values (a command line's
 * --password=, a URL's userinfo) go too. */
static void test_redact_decoded(void **state)
{
    (void)state;
    char *out = redact("{\"pass\\u0077ord\":\"hunter2\",\"p\\u0061sswd\":\"s3cret\","
                       "\"PassPhrase\":\"x1\",\"private-key\":\"x2\",\"private_key\":\"x3\","
                       "\"session_id\":\"x4\",\"otp\":\"123456\",\"PIN\":\"4321\",\"user_pin\":7,"
                       "\"client_secret\":\"x5\",\"ping\":\"8.8.8.8\",\"spinner\":\"on\","
                       "\"password\"\x01:\"x6\","
                       "\"cmd\":\"mysql -u root --password=hunter3 db\","
                       "\"env\":[\"PGPASSWORD='hunter 4' psql\",\"x pwd=x7;y\"],"
                       "\"url\":\"https://bob:pw9@host.example/x?access_token=tk1&a=1\","
                       "\"esc\":\"--pass\\u0077ord=x8\",\"mail\":\"bob@host.example\"}");
    assert_non_null(out);
    assert_string_equal(out,
        "{\"pass\\u0077ord\":\"[REDACTED]\",\"p\\u0061sswd\":\"[REDACTED]\","
        "\"PassPhrase\":\"[REDACTED]\",\"private-key\":\"[REDACTED]\",\"private_key\":\"[REDACTED]\","
        "\"session_id\":\"[REDACTED]\",\"otp\":\"[REDACTED]\",\"PIN\":\"[REDACTED]\","
        "\"user_pin\":\"[REDACTED]\","
        "\"client_secret\":\"[REDACTED]\",\"ping\":\"8.8.8.8\",\"spinner\":\"on\","
        "\"password\":\"[REDACTED]\","
        "\"cmd\":\"mysql -u root --password=[REDACTED] db\","
        "\"env\":[\"PGPASSWORD='[REDACTED]' psql\",\"x pwd=[REDACTED];y\"],"
        "\"url\":\"https://bob:[REDACTED]@host.example/x?access_token=[REDACTED]&a=1\","
        "\"esc\":\"--password=[REDACTED]\",\"mail\":\"bob@host.example\"}");
    free(out);
}

/* What is stored is JSON by the RFC: a raw tab or escape byte inside a string is
 * escaped (the record is kept), a control byte between tokens becomes a space, and
 * a number that cJSON takes but JSON does not (01, 1., -.5) refuses the record. */
static void test_raw_valid_json(void **state)
{
    (void)state;
    char *out = redact("{\"a\":\"x\ty\x01z\x1b[31m\",\x02\"b\":[1, -0.5e3]}");
    assert_non_null(out);
    assert_string_equal(out, "{\"a\":\"x\\ty\\u0001z\\u001b[31m\", \"b\":[1, -0.5e3]}");
    free(out);
    static const char *const bad_numbers[] = {"{\"n\":01}", "{\"n\":1.}", "{\"n\":-.5}",
                                              "[1.e5]", "{\"n\":-01.5}"};
    for (size_t i = 0; i < sizeof bad_numbers / sizeof *bad_numbers; i++) {
        out = redact(bad_numbers[i]);
        if (out)
            fail_msg("%s stored as %s", bad_numbers[i], out);
    }
}

typedef struct rejects {
    int n;
    char why[8][300];
    int64_t line[8];
} rejects;

static void on_reject(void *ud, const char *file, int64_t line, const char *why)
{
    (void)file;
    rejects *r = ud;
    if (r->n < 8) {
        snprintf(r->why[r->n], sizeof r->why[0], "%s", why);
        r->line[r->n] = line;
    }
    r->n++;
}

/* Import lines into the fixture's workspace; the rejections into r. */
static void import_lines(fx *f, const char *lines, rejects *r)
{
    char *in = path_in(f->dir, "hostile.jsonl");
    FILE *fp = fopen(in, "w");
    assert_non_null(fp);
    fputs(lines, fp);
    fclose(fp);
    imp_opts o = {.format = IMP_AUTO, .reject = on_reject, .ud = r};
    imp_stats st = {0};
    vg_err err = {0};
    char *names[] = {in};
    assert_int_equal(imp_files(f->ws, names, 1, &o, &st, &err), VG_OK);
    imp_stats_free(&st);
    free(in);
}

/* Through the whole import: no stored alert keeps a secret in its raw event, its
 * entities or its title, whatever the spelling; a record that repeats a key is
 * refused by name (parsers disagree on which value counts); every stored raw event
 * is valid JSON. */
static void test_import_hostile(void **state)
{
    fx *f = fx_new();
    *state = f;
    rejects r = {0};
    import_lines(f,
        "{\"source\":\"t\",\"source_ref\":\"a1\",\"title\":\"login with password=hunter1\","
        "\"time\":1794230000,\"entities\":{\"url\":\"https://bob:hunter2@h.example/\","
        "\"pass\\u0077ord\":\"hunter3\"},\"raw\":{\"p\\u0061sswd\":\"hunter4\","
        "\"cmd\":\"mysql -u root --password=hunter5\",\"pin\":1234}}\n"
        "{\"source\":\"t\",\"source_ref\":\"a2\",\"title\":\"dup\",\"time\":1794230000,"
        "\"raw\":{\"password\":\"x\",\"password\":\"hunter6\"}}\n"
        "{\"source\":\"t\",\"source\":\"u\",\"source_ref\":\"a3\",\"title\":\"dup\",\"time\":1794230000}\n"
        "{\"source\":\"t\",\"source_ref\":\"a4\",\"title\":\"tab\there\",\"time\":1794230000,"
        "\"raw\":{\"msg\":\"a\tb\x01" "c\x1b[0m\"}}\n"
        "{\"source\":\"t\",\"source_ref\":\"a5\",\"title\":\"x\",\"time\":1794230000,"
        "\"raw\":{\"n\":01}}\n",
        &r);
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM alerts"), 2);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.line[0], 2);
    assert_non_null(strstr(r.why[0], "'password'"));
    assert_non_null(strstr(r.why[0], "twice"));
    assert_int_equal(r.line[1], 3);
    assert_non_null(strstr(r.why[1], "'source'"));
    assert_int_equal(r.line[2], 5);
    assert_non_null(strstr(r.why[2], "not JSON"));
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM alerts WHERE"
                                    " json_valid(vg_raw(raw, raw_op, raw_at))"), 2);
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM alerts WHERE"
                                    " vg_raw(raw, raw_op, raw_at) LIKE '%hunter%'"
                                    " OR entities LIKE '%hunter%' OR title LIKE '%hunter%'"
                                    " OR vg_raw(raw, raw_op, raw_at) LIKE '%1234%'"), 0);
    char *msg = sql_text(f->ws, "SELECT json_extract(vg_raw(raw, raw_op, raw_at), '$.msg')"
                                " FROM alerts WHERE source_ref = 'a4'");
    assert_string_equal(msg, "a\tb\x01" "c\x1b[0m"); /* the sensor's bytes, as JSON */
    free(msg);
}

/* A value replaces every "@" string in j. */
static void put_number(cJSON *j, double v)
{
    for (cJSON *c = j->child; c; c = c->next) {
        if (cJSON_IsString(c) && strcmp(c->valuestring, "@") == 0) {
            cJSON_free(c->valuestring);
            c->valuestring = NULL;
            c->type = cJSON_Number;
            c->valuedouble = v; /* not cJSON_SetNumberValue: it casts to int itself */
            c->valueint = 0;
        } else if (c->child) {
            put_number(c, v);
        }
    }
}

/* Every numeric field the mappers read, with numbers out of every range (NaN only a
 * program can make; 1e999 parses as infinity): mapped or refused by name, never an
 * out-of-range conversion (clang's -fsanitize=float-cast-overflow watches). */
static void test_hostile_numbers(void **state)
{
    (void)state;
    static const struct { const char *rec; bool is_time; } cases[] = {
        {"{\"source\":\"s\",\"title\":\"t\",\"time\":\"@\"}", true},
        {"{\"source\":\"s\",\"title\":\"t\",\"time\":1,\"severity\":\"@\"}", false},
        {"{\"source\":\"s\",\"title\":\"t\",\"time\":1,\"count\":\"@\"}", false},
        {"{\"source\":\"s\",\"title\":\"t\",\"time\":1,\"first_seen\":\"@\"}", true},
        {"{\"source\":\"s\",\"title\":\"t\",\"time\":1,\"last_seen\":\"@\"}", true},
        {"{\"source\":\"s\",\"title\":\"t\",\"time\":1,\"entities\":{\"port\":\"@\"}}", false},
        {"{\"source\":\"@\",\"title\":\"t\",\"time\":1}", false},
        {"{\"@timestamp\":\"@\",\"kibana.alert.rule.name\":\"R\"}", true},
        {"{\"@timestamp\":1,\"kibana.alert.rule.name\":\"R\",\"kibana.alert.risk_score\":\"@\"}", false},
        {"{\"@timestamp\":1,\"kibana.alert.rule.name\":\"R\",\"event.severity\":\"@\"}", false},
        {"{\"@timestamp\":1,\"kibana.alert.rule.name\":\"R\",\"source\":{\"ip\":\"@\",\"port\":\"@\"}}", false},
        {"{\"@timestamp\":1,\"kibana.alert.rule.name\":\"R\",\"_id\":\"@\"}", false},
        {"{\"timestamp\":\"@\",\"rule\":{\"level\":3,\"description\":\"D\"},\"agent\":{\"name\":\"a\"}}", true},
        {"{\"timestamp\":1,\"rule\":{\"level\":\"@\",\"description\":\"D\"},\"agent\":{\"name\":\"a\"}}", false},
        {"{\"timestamp\":1,\"rule\":{\"level\":3,\"description\":\"D\",\"id\":\"@\"},\"agent\":{\"name\":\"a\"}}", false},
        {"{\"timestamp\":\"@\",\"event_type\":\"alert\",\"alert\":{\"signature\":\"S\"}}", true},
        {"{\"timestamp\":1,\"event_type\":\"alert\",\"src_port\":\"@\",\"alert\":{\"signature\":\"S\",\"severity\":\"@\"}}", false},
        {"{\"timestamp\":1,\"event_type\":\"alert\",\"alert\":{\"signature\":\"S\",\"signature_id\":\"@\"}}", false},
        {"{\"class_uid\":\"@\",\"time\":1,\"finding_info\":{\"title\":\"F\"}}", false},
        {"{\"category_uid\":\"@\",\"class_uid\":1,\"time\":1,\"finding_info\":{\"title\":\"F\"}}", false},
        {"{\"class_uid\":2004,\"time\":\"@\",\"finding_info\":{\"title\":\"F\"}}", true},
        {"{\"class_uid\":2004,\"time\":1,\"severity_id\":\"@\",\"finding_info\":{\"title\":\"F\"}}", false},
        {"{\"class_uid\":2004,\"time\":1,\"finding_info\":{\"title\":\"F\"},"
         "\"observables\":[{\"type_id\":\"@\",\"value\":\"h\"}]}", false},
        {"{\"class_uid\":2004,\"finding_info\":{\"title\":\"F\",\"created_time\":\"@\"}}", true},
    };
    const double values[] = {1e300, -1e300, INFINITY, -INFINITY, NAN, 9.3e18, -9.3e18};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        for (size_t k = 0; k < sizeof values / sizeof *values; k++) {
            cJSON *rec = cJSON_Parse(cases[i].rec);
            assert_non_null(rec);
            put_number(rec, values[k]);
            imp_format fmt = imp_detect(rec);
            cJSON *p = cJSON_CreateObject();
            char why[200] = "";
            imp_map_rc rc = imp_map(rec, fmt, 3600000, p, why, sizeof why);
            if (cases[i].is_time && k < 5) { /* 9.3e18 is a time in nanoseconds */
                if (rc != MAP_BAD || !strstr(why, "not a time"))
                    fail_msg("%s with %g: mapped (%d) %s", cases[i].rec, values[k], rc, why);
            } else if (rc == MAP_OK) {
                const cJSON *t = cJSON_GetObjectItem(p, "event_time");
                const cJSON *n = cJSON_GetObjectItem(p, "count");
                const cJSON *s = cJSON_GetObjectItem(p, "severity");
                assert_true(cJSON_IsNumber(t) && t->valuedouble >= 0 && t->valuedouble < 1e15);
                assert_true(!n || (n->valuedouble >= 1 && n->valuedouble <= 1e12));
                assert_true(cJSON_IsString(s) && vg_enum_parse(&VG_SEVERITY, s->valuestring) >= 0);
                const cJSON *obs = cJSON_GetObjectItem(cJSON_GetObjectItem(p, "entities"), "host");
                if (obs && strstr(cases[i].rec, "observables")) /* no type id names a host */
                    fail_msg("%s with %g: a host", cases[i].rec, values[k]);
            } else if (rc == MAP_BAD) {
                assert_true(why[0] != '\0');
            }
            cJSON_Delete(p);
            cJSON_Delete(rec);
        }
}

/* The door takes alert.add ops from anyone (a replica, a bundle): a number out of
 * range in one is refused by name, not converted. */
static void test_door_numbers(void **state)
{
    fx *f = fx_new();
    *state = f;
    const double values[] = {1e300, -1e300, INFINITY, -INFINITY, NAN};
    for (size_t k = 0; k < sizeof values / sizeof *values; k++) {
        vg_op *op = vg_op_new("alert.add", NULL);
        cJSON_AddStringToObject(op->payload, "source", "t");
        cJSON_AddStringToObject(op->payload, "title", "x");
        cJSON_AddNumberToObject(op->payload, "event_time", 1)->valuedouble = values[k];
        const char *msg = must_fail(f->ws, op, VG_EINVAL);
        assert_non_null(strstr(msg, "event_time"));
        op = vg_op_new("alert.add", NULL);
        cJSON_AddStringToObject(op->payload, "source", "t");
        cJSON_AddStringToObject(op->payload, "title", "x");
        cJSON_AddNumberToObject(op->payload, "event_time", 1);
        cJSON_AddNumberToObject(op->payload, "count", 1)->valuedouble = values[k];
        must_apply(f->ws, op); /* a count out of range is no count: 1 */
    }
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM alerts WHERE count = 1"), 5);
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM alerts"), 5);
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

/* The value list of an entity ("a|b" for a list), "" when absent. */
static char *ents(const cJSON *p, const char *name)
{
    static char buf[1024];
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(p, "entities"), name);
    buf[0] = '\0';
    if (cJSON_IsString(v))
        snprintf(buf, sizeof buf, "%s", v->valuestring);
    const cJSON *it, *list = cJSON_IsArray(v) ? v : NULL;
    cJSON_ArrayForEach(it, list) {
        size_t l = strlen(buf);
        snprintf(buf + l, sizeof buf - l, "%s%s", l ? "|" : "", it->valuestring);
    }
    return buf;
}

/* Fields that carry the attack, as each vendor names them (issue #17, items 5-8). */
static void test_vendor_fields(void **state)
{
    (void)state;
    imp_format f;
    cJSON *p;
    char why[200];
    /* Wazuh, a Windows logon failure and a Sysmon process event (eventchannel) */
    assert_int_equal(map("{\"timestamp\":\"2026-11-04T21:57:58.102+0000\",\"rule\":{\"level\":5,"
                         "\"description\":\"Logon failure\",\"id\":\"60122\"},\"agent\":{\"name\":\"dc01\"},"
                         "\"id\":\"1730757478.1\",\"data\":{\"win\":{\"system\":{\"computer\":\"DC01.corp.example\","
                         "\"eventID\":\"4625\"},\"eventdata\":{\"targetUserName\":\"mkhan\",\"subjectUserName\":\"-\","
                         "\"ipAddress\":\"203.0.113.9\",\"workstationName\":\"KALI\",\"image\":\"C:\\\\Windows\\\\System32\\\\lsass.exe\","
                         "\"commandLine\":\"rundll32.exe C:\\\\Users\\\\Public\\\\x.dll,Start\","
                         "\"hashes\":\"SHA1=0123456789ABCDEF0123456789ABCDEF01234567,MD5=0123456789ABCDEF0123456789ABCDEF,"
                         "IMPHASH=FEDCBA9876543210FEDCBA9876543210\"}}}}", &f, &p, why), MAP_OK);
    assert_int_equal(f, IMP_WAZUH);
    assert_string_equal(ents(p, "src_ip"), "203.0.113.9");
    assert_string_equal(ents(p, "host"), "dc01|DC01.corp.example|KALI");
    assert_string_equal(ents(p, "user"), "mkhan|-");
    assert_string_equal(ents(p, "sha1"), "0123456789ABCDEF0123456789ABCDEF01234567");
    assert_string_equal(ents(p, "md5"), "0123456789ABCDEF0123456789ABCDEF"); /* not the IMPHASH */
    assert_string_equal(ents(p, "command_line"), "rundll32.exe C:\\Users\\Public\\x.dll,Start");
    /* a command line is an artifact of its own type, context and never an indicator */
    int cl = vg_entity_type("command_line");
    assert_string_equal(vg_enum_name(&VG_ARTIFACT_TYPE, cl), "command-line");
    assert_false(vg_entity_is_ioc(cl, "rundll32.exe x.dll"));
    assert_false(vg_entity_is_key(cl));
    cJSON_Delete(p);
    /* Wazuh FIM: a registry value is a registry key, its hashes no indicator; a file's
     * hashes neither (the organisation's own file, changed) */
    assert_int_equal(map("{\"timestamp\":\"2026-11-04T21:57:58Z\",\"rule\":{\"level\":5,\"description\":"
                         "\"Registry Value Integrity Checksum Changed\"},\"agent\":{\"name\":\"w1\"},\"id\":\"2\","
                         "\"syscheck\":{\"path\":\"HKEY_LOCAL_MACHINE\\\\System\\\\CurrentControlSet\\\\Services\\\\x\","
                         "\"value_name\":\"Start\",\"arch\":\"[x64]\",\"sha256_after\":"
                         "\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}}", &f, &p, why), MAP_OK);
    assert_string_equal(ents(p, "registry"), "HKEY_LOCAL_MACHINE\\System\\CurrentControlSet\\Services\\x");
    assert_string_equal(ents(p, "file"), "");
    assert_string_equal(ents(p, "sha256"), "");
    cJSON_Delete(p);
    assert_int_equal(map("{\"timestamp\":\"2026-11-04T21:57:58Z\",\"rule\":{\"level\":7,\"description\":"
                         "\"Integrity checksum changed.\"},\"agent\":{\"name\":\"web\"},\"id\":\"3\",\"syscheck\":{"
                         "\"path\":\"/etc/passwd\",\"md5_after\":\"0123456789abcdef0123456789abcdef\"}}", &f, &p, why), MAP_OK);
    assert_string_equal(ents(p, "file"), "/etc/passwd");
    assert_string_equal(ents(p, "md5"), "");
    cJSON_Delete(p);
    /* Suricata: ET's metadata names techniques and CVEs */
    assert_int_equal(map("{\"timestamp\":\"2026-11-04T21:57:58Z\",\"event_type\":\"alert\",\"src_ip\":\"198.51.100.7\","
                         "\"alert\":{\"signature\":\"ET EXPLOIT Apache log4j RCE Attempt\",\"signature_id\":2034647,"
                         "\"severity\":1,\"metadata\":{\"cve\":[\"CVE_2021_44228\"],\"mitre_technique_id\":[\"T1190\"],"
                         "\"mitre_attack\":[\"T1203 Exploitation for Client Execution\"]}}}", &f, &p, why), MAP_OK);
    assert_string_equal(ents(p, "cve"), "CVE-2021-44228");
    char *t = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(p, "techniques"));
    assert_string_equal(t, "[\"T1190\",\"T1203\"]");
    free(t);
    cJSON_Delete(p);
    /* OCSF: vulnerabilities, evidences, Unknown and Other severities, a title with a newline */
    assert_int_equal(map("{\"class_uid\":2004,\"time\":1793829478102,\"severity_id\":99,"
                         "\"finding_info\":{\"title\":\"Suspicious logon\\n\",\"uid\":\"f-1\"},"
                         "\"vulnerabilities\":[{\"cve\":{\"uid\":\"CVE-2023-4966\"}}],"
                         "\"evidences\":[{\"src_endpoint\":{\"ip\":\"203.0.113.50\"},\"actor\":{\"user\":{\"name\":\"svc-x\"}}}]}",
                         &f, &p, why), MAP_OK);
    assert_string_equal(pget(p, "title"), "Suspicious logon");
    assert_string_equal(pget(p, "severity"), "info");
    assert_string_equal(ents(p, "cve"), "CVE-2023-4966");
    assert_string_equal(ents(p, "src_ip"), "203.0.113.50");
    assert_string_equal(ents(p, "user"), "svc-x");
    cJSON_Delete(p);
    assert_int_equal(map("{\"class_uid\":2004,\"time\":1793829478102,\"severity_id\":0,"
                         "\"finding_info\":{\"title\":\"F\"}}", &f, &p, why), MAP_OK);
    assert_string_equal(pget(p, "severity"), "info");
    cJSON_Delete(p);
    /* ECS: the event's own time, not the rule's run; winlog's users; the risk bands */
    assert_int_equal(map("{\"@timestamp\":\"2026-11-05T10:00:00Z\",\"kibana.alert.rule.name\":\"R\","
                         "\"kibana.alert.original_time\":\"2026-11-05T09:41:07.250Z\",\"kibana.alert.risk_score\":73,"
                         "\"process\":{\"command_line\":\"powershell -enc SQBFAFgA\"},"
                         "\"winlog\":{\"computer_name\":\"WS-7\",\"event_data\":{\"TargetUserName\":\"ana\","
                         "\"IpAddress\":\"198.51.100.23\"}}}", &f, &p, why), MAP_OK);
    const cJSON *et = cJSON_GetObjectItemCaseSensitive(p, "event_time");
    assert_true(et->valuedouble == 1793871667250.0);
    assert_string_equal(pget(p, "severity"), "high");
    assert_string_equal(ents(p, "user"), "ana");
    assert_string_equal(ents(p, "host"), "WS-7");
    assert_string_equal(ents(p, "src_ip"), "198.51.100.23");
    assert_string_equal(ents(p, "command_line"), "powershell -enc SQBFAFgA");
    cJSON_Delete(p);
    static const struct { int score; const char *sev; } bands[] = {
        {0, "low"}, {21, "low"}, {22, "medium"}, {47, "medium"}, {48, "high"}, {73, "high"},
        {74, "critical"}, {100, "critical"}};
    for (size_t i = 0; i < sizeof bands / sizeof *bands; i++) {
        char rec[200];
        snprintf(rec, sizeof rec, "{\"@timestamp\":\"2026-11-05T10:00:00Z\",\"kibana.alert.rule.name\":\"R\","
                 "\"kibana.alert.risk_score\":%d}", bands[i].score);
        assert_int_equal(map(rec, &f, &p, why), MAP_OK);
        if (strcmp(pget(p, "severity"), bands[i].sev) != 0)
            fail_msg("risk score %d: %s, wanted %s", bands[i].score, pget(p, "severity"), bands[i].sev);
        cJSON_Delete(p);
    }
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

/* ---- file shapes, wrappers, compression, encodings (#17 items 1-4) ---- */

/* All of an input's decoded bytes through imp_src; *err its error or NULL. */
static char *src_all(const void *data, size_t len, size_t *out, char *err, size_t errsz)
{
    FILE *fp = fmemopen((void *)data, len, "rb");
    assert_non_null(fp);
    imp_src *s = imp_src_open(fp);
    size_t cap = 1 << 20, n = 0, got;
    char *buf = malloc(cap);
    while ((got = imp_src_read(s, buf + n, 4096)) > 0) {
        n += got;
        if (n + 4096 > cap)
            buf = realloc(buf, cap *= 2);
        if (got < 4096)
            break;
    }
    const char *e = imp_src_error(s);
    snprintf(err, errsz, "%s", e ? e : "");
    imp_src_close(s);
    fclose(fp);
    *out = n;
    return buf;
}

/* data deflated in gzip framing (zlib's deflate: a gzip member). */
static size_t gz(const char *data, size_t len, unsigned char *out, size_t cap)
{
    z_stream z = {0};
    assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (unsigned char *)data;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t n = z.total_out;
    deflateEnd(&z);
    return n;
}

static void test_src_codecs(void **state)
{
    (void)state;
    const char *text = "{\"a\":1}\n{\"b\":2}\n";
    size_t tl = strlen(text), n;
    char err[300];
    unsigned char packed[4096];
    /* plain, and a UTF-8 BOM skipped */
    char *got = src_all(text, tl, &n, err, sizeof err);
    assert_int_equal(n, tl);
    assert_memory_equal(got, text, tl);
    free(got);
    char bom[64];
    snprintf(bom, sizeof bom, "\xef\xbb\xbf%s", text);
    got = src_all(bom, strlen(bom), &n, err, sizeof err);
    assert_int_equal(n, tl);
    assert_memory_equal(got, text, tl);
    free(got);
    /* gzip whatever the name, two members one after another, then zero padding */
    size_t a = gz(text, 8, packed, sizeof packed);
    size_t b = gz(text + 8, tl - 8, packed + a, sizeof packed - a);
    memset(packed + a + b, 0, 16);
    got = src_all(packed, a + b + 16, &n, err, sizeof err);
    assert_string_equal(err, "");
    assert_int_equal(n, tl);
    assert_memory_equal(got, text, tl);
    free(got);
    /* cut short: what came before is good, and the error says so */
    got = src_all(packed, a + b / 2, &n, err, sizeof err);
    assert_non_null(strstr(err, "the gzip data is cut short"));
    assert_true(n >= 8 && n < tl);
    assert_memory_equal(got, text, n);
    free(got);
    /* bytes after the gzip data that are not another member */
    memcpy(packed + a, "junk", 4);
    got = src_all(packed, a + 4, &n, err, sizeof err);
    assert_non_null(strstr(err, "data after the end of the gzip stream"));
    free(got);
    /* zstd, two frames; cut short */
    size_t z1 = ZSTD_compress(packed, sizeof packed, text, 8, 3);
    size_t z2 = ZSTD_compress(packed + z1, sizeof packed - z1, text + 8, tl - 8, 19);
    got = src_all(packed, z1 + z2, &n, err, sizeof err);
    assert_string_equal(err, "");
    assert_int_equal(n, tl);
    assert_memory_equal(got, text, tl);
    free(got);
    got = src_all(packed, z1 + z2 - 3, &n, err, sizeof err);
    assert_non_null(strstr(err, "the zstd data is cut short"));
    free(got);
    /* refused by name */
    static const struct {
        const char *bytes;
        size_t len;
        const char *why;
    } refused[] = {
        {"\xff\xfe{\0\"\0", 6, "UTF-16: convert with iconv -f UTF-16 -t UTF-8"},
        {"\xfe\xff\0{\0\"", 6, "UTF-16: convert with iconv -f UTF-16 -t UTF-8"},
        {"{\0\"\0a\0", 6, "UTF-16LE without a byte order mark"},
        {"\xff\xfe\0\0{\0\0\0", 8, "UTF-32: convert with iconv"},
        {"\xfd" "7zXZ\0\0\0", 8, "xz-compressed"},
        {"BZh91AY&SY", 10, "bzip2-compressed"},
        {"PK\3\4\24\0", 6, "a zip archive"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        got = src_all(refused[i].bytes, refused[i].len, &n, err, sizeof err);
        if (!strstr(err, refused[i].why))
            fail_msg("case %zu: '%s', wanted '%s'", i, err, refused[i].why);
        assert_int_equal(n, 0);
        free(got);
    }
    /* inputs shorter than the four bytes looked at */
    got = src_all("{}", 2, &n, err, sizeof err);
    assert_int_equal(n, 2);
    assert_string_equal(err, "");
    free(got);
    got = src_all("", 0, &n, err, sizeof err);
    assert_int_equal(n, 0);
    free(got);
}

/* A gzip bomb: 100 MiB of spaces in 100 KB is refused once 64 MiB are out, and
 * reading stops there. */
static void test_src_bomb(void **state)
{
    (void)state;
    z_stream z = {0};
    assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = 1 << 20, len = 0;
    unsigned char *packed = malloc(cap);
    char *spaces = malloc(1 << 20);
    memset(spaces, ' ', 1 << 20);
    for (int i = 0; i < 100; i++) {
        z.next_in = (unsigned char *)spaces;
        z.avail_in = 1 << 20;
        z.next_out = packed + len;
        z.avail_out = (uInt)(cap - len);
        assert_int_equal(deflate(&z, i == 99 ? Z_FINISH : Z_NO_FLUSH), i == 99 ? Z_STREAM_END : Z_OK);
        len = z.total_out;
    }
    deflateEnd(&z);
    FILE *fp = fmemopen(packed, len, "rb");
    imp_src *s = imp_src_open(fp);
    uint64_t out = 0;
    size_t got;
    while ((got = imp_src_read(s, spaces, 1 << 20)) == 1 << 20)
        out += got;
    out += got;
    assert_non_null(imp_src_error(s));
    assert_non_null(strstr(imp_src_error(s), "a decompression bomb?"));
    assert_true(out <= IMP_BOMB_FLOOR + (1 << 20));
    imp_src_close(s);
    fclose(fp);
    free(packed);
    free(spaces);
}

/* imp_mem into the fixture's workspace; counts into st, rejections into r. */
static vg_rc import_mem(fx *f, const char *data, size_t len, bool strict, imp_stats *st, rejects *r)
{
    imp_opts o = {.format = IMP_AUTO, .strict = strict, .reject = on_reject, .ud = r};
    vg_err err = {0};
    memset(st, 0, sizeof *st);
    vg_rc rc = imp_mem(f->ws, "in", data, len, &o, st, &err);
    if (rc != VG_OK && r && r->n < 8) { /* the failure as the last rejection */
        snprintf(r->why[r->n], sizeof r->why[0], "%.290s", err.msg);
        r->line[r->n++] = -1;
    }
    imp_stats_free(st);
    return rc;
}

#define ALERT(ref) "{\"source\":\"t\",\"source_ref\":\"" ref "\",\"title\":\"x\",\"time\":1794230000}"
#define PRETTY(ref) "{\n  \"source\": \"t\",\n  \"source_ref\": \"" ref "\",\n  \"title\": \"x\",\n" \
                    "  \"time\": 1794230000\n}"

/* Each shape of a file, and the line each bad record is named by. */
static void test_shapes(void **state)
{
    fx *f = fx_new();
    *state = f;
    imp_stats st;
    static const struct {
        const char *in;
        int64_t read, stored, rejected;
        int64_t bad_line; /* the first rejection's line, 0 for none */
    } cases[] = {
        /* JSON lines, a JSON array, one pretty object, pretty objects one after another */
        {ALERT("l1") "\n" ALERT("l2") "\n", 2, 2, 0, 0},
        {"[" ALERT("a1") ",\n" PRETTY("a2") "]", 2, 2, 0, 0},
        {PRETTY("p1") "\n", 1, 1, 0, 0},
        {PRETTY("c1") "\n" PRETTY("c2") PRETTY("c3") "\n\n" PRETTY("c4"), 4, 4, 0, 0},
        {PRETTY("c5") ",\n" PRETTY("c6") "\n", 2, 2, 0, 0}, /* a ',' between: forgiven */
        /* a bad pretty object among good ones: named by the line it starts on */
        {PRETTY("d1") "\n{\n  \"source\": \"t\",\n  \"title\": \"x\"\n}\n" PRETTY("d2"), 3, 2, 1, 7},
        /* a first line cut short, then JSON lines: one bad line, the rest read */
        {"{\"source\":\"t\",\"ti\n" ALERT("e1") "\n" ALERT("e2") "\n", 3, 2, 1, 1},
        /* a pretty object that never closes */
        {PRETTY("f1") "\n{\n  \"source\": \"t\",\n", 2, 1, 1, 7},
        /* between pretty objects, a line that opens no value */
        {PRETTY("g1") "\nnot json\n" PRETTY("g2"), 3, 2, 1, 7},
        /* a search response, compact and pretty; a hit alone; NDJSON of hits */
        {"{\"took\":1,\"hits\":{\"total\":{\"value\":2},\"hits\":[{\"_index\":\"i\",\"_id\":\"1\","
         "\"_source\":" ALERT("s1") "},{\"_index\":\"i\",\"_id\":\"2\",\"_source\":" ALERT("s2")
         "}]},\"aggregations\":{\"a\":{\"hits\":{\"hits\":[1]}}}}\n",
         2, 2, 0, 0},
        {"{\n \"took\": 1,\n \"hits\": {\n  \"hits\": [\n   {\n    \"_index\": \"i\",\n"
         "    \"_source\": " ALERT("t1") "\n   },\n   {\"_id\": \"2\", \"_source\": {\"title\": \"x\"}},\n"
         "   {\"_id\": \"3\", \"_source\": " ALERT("t3") "}\n  ]\n },\n \"x\": [1]\n}\n",
         3, 2, 1, 9},
        {"{\"_index\":\"i\",\"_id\":\"h\",\"_score\":1,\"_source\":" PRETTY("h1") "}", 1, 1, 0, 0},
        {"{\"_index\":\"i\",\"_source\":" ALERT("n1") "}\n{\"_id\":\"x\",\"_source\":" ALERT("n2") "}\n",
         2, 2, 0, 0},
        /* Kibana Inspect: rawResponse and response around a search response */
        {"{\"id\":\"x\",\"rawResponse\":{\"took\":1,\"hits\":{\"hits\":[{\"_id\":\"1\",\"_source\":"
         ALERT("k1") "}]}},\"isPartial\":false}", 1, 1, 0, 0},
        {"{\"request\":{},\"response\":{\"hits\":{\"hits\":[{\"_id\":\"1\",\"_source\":" ALERT("k2")
         "}]}}}", 1, 1, 0, 0},
        /* an es_archiver document */
        {"{\n \"type\": \"doc\",\n \"value\": {\"index\": \"i\", \"id\": \"1\", \"source\": "
         ALERT("v1") "}\n}\n", 1, 1, 0, 0},
        /* not a search response: keys that only look like its path */
        {"{\"source\":\"t\",\"source_ref\":\"q1\",\"title\":\"x\",\"time\":1794230000,"
         "\"raw\":{\"hits\":{\"hits\":[1,2]}}}\n", 1, 1, 0, 0},
        {"{\"hits\":[{\"hits\":[" ALERT("q2") "]}]}\n", 1, 0, 1, 1},
        /* a one-line response whose line ends inside its hits */
        {"{\"hits\":{\"hits\":[{\"_id\":\"1\",\"_source\":" ALERT("r1") "},\n" ALERT("r2") "\n",
         3, 2, 1, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        rejects r = {0};
        assert_int_equal(import_mem(f, cases[i].in, strlen(cases[i].in), false, &st, &r), VG_OK);
        if (st.read != cases[i].read || st.stored + st.merged != cases[i].stored ||
            st.rejected != cases[i].rejected ||
            (cases[i].bad_line && (r.n == 0 || r.line[0] != cases[i].bad_line)))
            fail_msg("case %zu: read %lld stored %lld rejected %lld, first rejection line %lld (%s)",
                     i, (long long)st.read, (long long)(st.stored + st.merged),
                     (long long)st.rejected, (long long)(r.n ? r.line[0] : 0),
                     r.n ? r.why[0] : "-");
    }
    /* the hit's _source is the raw event, not the hit */
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM alerts WHERE source_ref = 's1' AND"
                                    " json_extract(vg_raw(raw, raw_op, raw_at), '$._index') IS NULL"
                                    " AND json_extract(vg_raw(raw, raw_op, raw_at), '$.source_ref')"
                                    " = 's1'"), 1);
    /* failures of the whole input */
    static const struct {
        const char *in;
        const char *why;
    } failing[] = {
        {"{\"hits\":{\"hits\":[" ALERT("u1") ",", "in:1: the search response is not closed"},
        {"[" ALERT("u2") ",\n", "in:2: the JSON array is not closed"},
        {"{\n \"hits\": {\n  \"hits\": [\n" ALERT("u3") "\n", "in:1: the search response is not closed"},
    };
    for (size_t i = 0; i < sizeof failing / sizeof *failing; i++) {
        rejects r = {0};
        assert_int_equal(import_mem(f, failing[i].in, strlen(failing[i].in), false, &st, &r), VG_OK);
        if (st.files_failed != 1 || r.n == 0 || !strstr(r.why[r.n - 1], failing[i].why))
            fail_msg("failing %zu: %lld failed, '%s'", i, (long long)st.files_failed,
                     r.n ? r.why[r.n - 1] : "-");
    }
}

/* A search response far larger than IMP_MAX_RECORD streams hit by hit; and the
 * response's path is found wherever the 64 KiB reads cut its keys. */
static void test_big_response(void **state)
{
    fx *f = fx_new();
    *state = f;
    vg_buf b;
    vg_buf_init(&b, 64u << 20);
    assert_int_equal(vg_buf_adds(&b, "{\"took\":5,\"timed_out\":false,\"hits\":{\"total\":{\"value\":3000},"
                                     "\"hits\":["), VG_OK);
    char pad[2048];
    memset(pad, 'p', sizeof pad - 1);
    pad[sizeof pad - 1] = '\0';
    for (int i = 0; i < 3000; i++)
        assert_int_equal(vg_buf_addf(&b, "%s{\"_index\":\"i\",\"_id\":\"%d\",\"_source\":{\"source\":\"t\","
                                         "\"source_ref\":\"big-%d\",\"title\":\"x\",\"time\":1794230000,"
                                         "\"raw\":{\"pad\":\"%s\"}}}",
                                     i ? "," : "", i, i, pad), VG_OK);
    assert_int_equal(vg_buf_adds(&b, "]}}"), VG_OK);
    assert_true(b.len > IMP_MAX_RECORD);
    imp_stats st;
    rejects r = {0};
    assert_int_equal(import_mem(f, b.data, b.len, false, &st, &r), VG_OK);
    assert_int_equal(st.read, 3000);
    assert_int_equal(st.stored, 3000);
    assert_int_equal(r.n, 0);
    vg_buf_free(&b);
    /* "hits" cut at every byte by the end of the first read */
    for (int shift = 0; shift < 24; shift++) {
        vg_buf c;
        vg_buf_init(&c, 1 << 20);
        size_t lead = 64 * 1024 - 10 + (size_t)shift;
        assert_int_equal(vg_buf_adds(&c, "{\"took\":1,\"x\":\""), VG_OK);
        while (c.len < lead)
            assert_int_equal(vg_buf_add(&c, "y", 1), VG_OK);
        char ref[32];
        snprintf(ref, sizeof ref, "cut-%d", shift);
        assert_int_equal(vg_buf_addf(&c, "\",\"hits\":{\"hits\":[{\"_id\":\"1\",\"_source\":{\"source\":"
                                         "\"t\",\"source_ref\":\"%s\",\"title\":\"x\",\"time\":1794230000}}]}}",
                                     ref), VG_OK);
        rejects rc = {0};
        assert_int_equal(import_mem(f, c.data, c.len, false, &st, &rc), VG_OK);
        if (st.stored != 1 || rc.n)
            fail_msg("shift %d: %lld stored, %s", shift, (long long)st.stored, rc.n ? rc.why[0] : "-");
        vg_buf_free(&c);
    }
}

/* A UTF-8 BOM loses no record, in any shape; with strict, a bad record is one
 * error and nothing is stored. */
static void test_bom_strict(void **state)
{
    fx *f = fx_new();
    *state = f;
    imp_stats st;
    static const char *const inputs[] = {
        "\xef\xbb\xbf" ALERT("b1") "\n" ALERT("b2") "\n",
        "\xef\xbb\xbf[" ALERT("b3") "," ALERT("b4") "]",
        "\xef\xbb\xbf" PRETTY("b5") "\n" PRETTY("b6"),
    };
    for (size_t i = 0; i < 3; i++) {
        rejects r = {0};
        assert_int_equal(import_mem(f, inputs[i], strlen(inputs[i]), false, &st, &r), VG_OK);
        assert_int_equal(st.stored, 2);
        assert_int_equal(r.n, 0);
    }
    int64_t before = sql_int(f->ws, "SELECT count(*) FROM alerts");
    const char *bad = "\xef\xbb\xbf" ALERT("b7") "\n{\"source\":\"t\"}\n";
    rejects r = {0};
    assert_int_equal(import_mem(f, bad, strlen(bad), true, &st, &r), VG_EINVAL);
    assert_int_equal(r.n, 1); /* the error alone: no reject callback as well */
    assert_non_null(strstr(r.why[0], "in:2:"));
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM alerts"), before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_redact),
        cmocka_unit_test(test_redact_decoded),
        cmocka_unit_test(test_raw_valid_json),
        cmocka_unit_test_teardown(test_import_hostile, fx_teardown),
        cmocka_unit_test(test_hostile_numbers),
        cmocka_unit_test_teardown(test_door_numbers, fx_teardown),
        cmocka_unit_test(test_detect_and_map),
        cmocka_unit_test(test_vendor_fields),
        cmocka_unit_test_teardown(test_bulk_load_ends, fx_teardown),
        cmocka_unit_test(test_src_codecs),
        cmocka_unit_test(test_src_bomb),
        cmocka_unit_test_teardown(test_shapes, fx_teardown),
        cmocka_unit_test_teardown(test_big_response, fx_teardown),
        cmocka_unit_test_teardown(test_bom_strict, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
