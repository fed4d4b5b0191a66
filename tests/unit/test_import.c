/*
 * test_import.c — the importer's pure parts: times in every shape vendors write
 * them, redaction that keeps numbers exact, format detection and severity mapping;
 * and that an import's bulk-load settings end with it. Hostile records too: secrets
 * behind escapes, repeated keys, raw control bytes, numbers out of every range.
 */
#include <math.h>

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
                         "\"hashes\":\"SHA1=0123456789ABCDEF0123456789ABCDEF01234567,MD5=0123456789ABCDEF0123456789ABCDEF,"
                         "IMPHASH=FEDCBA9876543210FEDCBA9876543210\"}}}}", &f, &p, why), MAP_OK);
    assert_int_equal(f, IMP_WAZUH);
    assert_string_equal(ents(p, "src_ip"), "203.0.113.9");
    assert_string_equal(ents(p, "host"), "dc01|DC01.corp.example|KALI");
    assert_string_equal(ents(p, "user"), "mkhan|-");
    assert_string_equal(ents(p, "sha1"), "0123456789ABCDEF0123456789ABCDEF01234567");
    assert_string_equal(ents(p, "md5"), "0123456789ABCDEF0123456789ABCDEF"); /* not the IMPHASH */
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
                         "\"winlog\":{\"computer_name\":\"WS-7\",\"event_data\":{\"TargetUserName\":\"ana\","
                         "\"IpAddress\":\"198.51.100.23\"}}}", &f, &p, why), MAP_OK);
    const cJSON *et = cJSON_GetObjectItemCaseSensitive(p, "event_time");
    assert_true(et->valuedouble == 1793871667250.0);
    assert_string_equal(pget(p, "severity"), "high");
    assert_string_equal(ents(p, "user"), "ana");
    assert_string_equal(ents(p, "host"), "WS-7");
    assert_string_equal(ents(p, "src_ip"), "198.51.100.23");
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
