/*
 * test_export.c — the pieces every export leans on: name-based UUIDs (checked
 * against the RFC's own example and STIX's SCO rule), CSV fields a spreadsheet
 * will not execute, and HTML escaping; and cases built in memory through the STIX
 * (files and their hashes), MISP (address direction, the event's date) and
 * Timesketch (an alert's values as fields, no bookkeeping rows) writers.
 */
#include "helpers.h"

#include "export.h"

#include <cjson/cJSON.h>

static void test_uuid5(void **state)
{
    (void)state;
    /* RFC 9562 appendix A.4: the DNS namespace and "www.example.com" */
    static const unsigned char dns[16] = {0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1,
                                          0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};
    char u[37];
    export_uuid5(dns, "www.example.com", 15, u);
    assert_string_equal(u, "2ed6657d-e927-568b-95e1-2665a8aea6a2");
    char id[96], id2[96];
    export_stix_id("report", "report:01ABC", id, sizeof id);
    export_stix_id("report", "report:01ABC", id2, sizeof id2);
    assert_string_equal(id, id2);
    assert_int_equal(strlen(id), strlen("report--") + 36);
    assert_int_equal(id[8 + 14], '5'); /* the version nibble */
    export_stix_id("report", "report:01ABD", id2, sizeof id2);
    assert_string_not_equal(id, id2);
}

static void check_csv(const char *in, const char *want)
{
    vg_buf b;
    vg_buf_init(&b, 4096);
    assert_int_equal(export_csv_field(&b, in), VG_OK);
    if (strcmp(vg_buf_str(&b), want) != 0)
        fail_msg("csv '%s': got [%s], wanted [%s]", in ? in : "(null)", vg_buf_str(&b), want);
    vg_buf_free(&b);
}

static void test_csv(void **state)
{
    (void)state;
    check_csv("plain", "plain");
    check_csv(NULL, "");
    check_csv("", "");
    check_csv("a,b", "\"a,b\"");
    check_csv("say \"hi\"", "\"say \"\"hi\"\"\"");
    check_csv("two\nlines", "\"two\nlines\"");
    check_csv("=1+2", "\"'=1+2\"");
    check_csv("+cmd", "\"'+cmd\"");
    check_csv("-2", "\"'-2\"");
    check_csv("@SUM(A1)", "\"'@SUM(A1)\"");
    check_csv("\tx", "\"'\tx\"");
    check_csv("a=1", "a=1"); /* only the first character makes a formula */
    vg_buf b;
    vg_buf_init(&b, 4096);
    const char *row[] = {"x", "y,z", ""};
    assert_int_equal(export_csv_row(&b, row, 3), VG_OK);
    assert_string_equal(vg_buf_str(&b), "x,\"y,z\",\r\n");
    vg_buf_free(&b);
}

static void test_html(void **state)
{
    (void)state;
    vg_buf b;
    vg_buf_init(&b, 4096);
    assert_int_equal(export_html(&b, "<script>a('x') && \"y\"</script>\xff"), VG_OK);
    assert_string_equal(vg_buf_str(&b),
                        "&lt;script&gt;a(&#39;x&#39;) &amp;&amp; &quot;y&quot;&lt;/script&gt;\xef\xbf\xbd");
    vg_buf_free(&b);
    /* a cap that is reached fails cleanly */
    vg_buf_init(&b, 8);
    assert_int_not_equal(export_html(&b, "<<<<<<<<"), VG_OK);
    vg_buf_free(&b);
}

/* ---- the exports of a case built in memory (#17 item 18) ---- */

static vg_artifact art(const char *id, int type, const char *value, bool ioc, int64_t first)
{
    vg_artifact a = {0};
    snprintf(a.id, sizeof a.id, "%s", id);
    a.type = type;
    a.value = (char *)value;
    a.is_ioc = ioc;
    a.tlp = 2;
    a.first_seen = a.last_seen = first;
    a.sightings = 1;
    return a;
}

static vg_alert alert(const char *id, int64_t t, const char *entities)
{
    vg_alert a = {0};
    snprintf(a.id, sizeof a.id, "%s", id);
    a.event_time = a.first_seen = a.last_seen = t;
    a.entities = (char *)entities;
    a.techniques = (char *)"[]";
    a.source = (char *)"sysmon";
    a.title = (char *)"t";
    return a;
}

static export_case mem_case(void)
{
    export_case x = {0};
    snprintf(x.c.id, sizeof x.c.id, "01CASE0000000000000000000A");
    x.c.ref = 7;
    x.c.title = (char *)"files";
    x.c.tags = (char *)"[]";
    x.c.techniques = (char *)"[]";
    x.c.resolution = -1;
    x.c.tlp = 2;
    x.c.created_at = x.c.updated_at = 1800000000000; /* 2027-01-15 */
    return x;
}

static cJSON *write_json(const export_case *x, int f)
{
    vg_buf b;
    vg_buf_init(&b, 1u << 22);
    vg_err err = {0};
    assert_int_equal(export_write(x, (export_format)f, &b, &err), VG_OK);
    cJSON *d = cJSON_Parse(vg_buf_str(&b));
    assert_non_null(d);
    vg_buf_free(&b);
    return d;
}

static const cJSON *by_id(const cJSON *objs, const char *id)
{
    const cJSON *o;
    cJSON_ArrayForEach(o, objs) if (strcmp(cJSON_GetObjectItem(o, "id")->valuestring, id) ==
                                    0) return o;
    return NULL;
}

/* A hash that is not one (a replica's, or an earlier vigil's: the CLI refuses it
 * now) is a note in STIX, not an indicator with a broken pattern. */
static void test_stix_bad_hash_is_a_note(void **state)
{
    (void)state;
    export_case x = mem_case();
    vg_artifact arts[] = {art("01ART000000000000000000009", VG_AT_MD5, "nothex", true, 1790000000000)};
    x.arts = arts;
    x.narts = 1;
    cJSON *d = write_json(&x, EXPORT_STIX);
    const cJSON *o;
    int notes = 0, indicators = 0;
    cJSON_ArrayForEach(o, cJSON_GetObjectItem(d, "objects"))
    {
        const char *type = cJSON_GetObjectItem(o, "type")->valuestring;
        indicators += strcmp(type, "indicator") == 0;
        if (strcmp(type, "note") == 0) {
            notes++;
            assert_string_equal(cJSON_GetObjectItem(o, "content")->valuestring, "IOC md5: nothex");
        }
    }
    assert_int_equal(notes, 1);
    assert_int_equal(indicators, 0);
    cJSON_Delete(d);
}

/* A file's hashes are one file object with its base name and directory; each
 * hash indicator is based on the observed-data of its file. */
static void test_stix_files(void **state)
{
    (void)state;
    export_case x = mem_case();
    const char *md5 = "0cc175b9c0f1b6a831c399e269772661",
               *sha256 = "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb",
               *sha1 = "86f7e437faa5a7fce15d1ddcb9eaeaea377667b8";
    vg_artifact arts[] = {
        art("01ART000000000000000000001", VG_AT_MD5, md5, true, 1790000000000),
        art("01ART000000000000000000002", VG_AT_SHA256, sha256, true, 1790000001000),
        art("01ART000000000000000000003", VG_AT_FILENAME, "/tmp/.x/run.sh", false, 1790000000000),
        art("01ART000000000000000000004", VG_AT_SHA1, sha1, false, 1790000002000),
    };
    char ent[512];
    snprintf(ent, sizeof ent, "{\"process\":\"/tmp/.x/run.sh\",\"md5\":\"%s\",\"sha256\":\"%s\"}",
             md5, sha256);
    vg_alert alerts[] = {alert("01ALERT0000000000000000001", 1790000000000, ent)};
    x.arts = arts;
    x.narts = 4;
    x.alerts = alerts;
    x.nalerts = 1;
    cJSON *d = write_json(&x, EXPORT_STIX);
    const cJSON *objs = cJSON_GetObjectItem(d, "objects"), *o;
    int files = 0, rels = 0;
    cJSON_ArrayForEach(o, objs)
    {
        const char *type = cJSON_GetObjectItem(o, "type")->valuestring;
        if (strcmp(type, "file") == 0) {
            files++;
            const cJSON *h = cJSON_GetObjectItem(o, "hashes");
            if (cJSON_GetObjectItem(h, "SHA-1")) { /* the hash no alert ties: alone */
                assert_int_equal(cJSON_GetArraySize(h), 1);
                assert_null(cJSON_GetObjectItem(o, "name"));
                continue;
            }
            assert_string_equal(cJSON_GetObjectItem(h, "MD5")->valuestring, md5);
            assert_string_equal(cJSON_GetObjectItem(h, "SHA-256")->valuestring, sha256);
            assert_string_equal(cJSON_GetObjectItem(o, "name")->valuestring, "run.sh");
            const cJSON *dir =
                by_id(objs, cJSON_GetObjectItem(o, "parent_directory_ref")->valuestring);
            assert_non_null(dir);
            assert_string_equal(cJSON_GetObjectItem(dir, "path")->valuestring, "/tmp/.x");
        } else if (strcmp(type, "relationship") == 0) {
            rels++;
            assert_string_equal(cJSON_GetObjectItem(o, "relationship_type")->valuestring,
                                "based-on");
            const cJSON *od = by_id(objs, cJSON_GetObjectItem(o, "target_ref")->valuestring);
            assert_string_equal(cJSON_GetObjectItem(od, "type")->valuestring, "observed-data");
            const cJSON *f = by_id(
                objs, cJSON_GetArrayItem(cJSON_GetObjectItem(od, "object_refs"), 0)->valuestring);
            assert_string_equal(cJSON_GetObjectItem(f, "name")->valuestring, "run.sh");
            assert_string_equal(cJSON_GetObjectItem(od, "first_observed")->valuestring,
                                "2026-09-21T14:13:20.000Z"); /* the earlier of its artifacts */
        } else if (strcmp(type, "indicator") == 0 &&
                   strstr(cJSON_GetObjectItem(o, "pattern")->valuestring, "file:name")) {
            fail_msg("a file name that is no IOC is no indicator");
        }
    }
    assert_int_equal(files, 2);
    assert_int_equal(rels, 2); /* the MD5 and the SHA-256, both IOCs */
    cJSON_Delete(d);

    /* an IOC path: its pattern names the base name and the directory */
    arts[2].is_ioc = true;
    arts[2].value = (char *)"C:\\Users\\Public\\inv.js";
    x.nalerts = 0;
    d = write_json(&x, EXPORT_STIX);
    bool found = false;
    cJSON_ArrayForEach(o, cJSON_GetObjectItem(d, "objects"))
    {
        const cJSON *p = cJSON_GetObjectItem(o, "pattern");
        if (p && strstr(p->valuestring, "file:name")) {
            assert_string_equal(p->valuestring, "[file:name = 'inv.js' AND "
                                                "file:parent_directory_ref.path = "
                                                "'C:\\\\Users\\\\Public']");
            found = true;
        }
    }
    assert_true(found);
    cJSON_Delete(d);
}

/* MISP: ip-src and ip-dst by the side the alerts name an address on, and the
 * event dated by the case's first activity. */
static void test_misp_direction_and_date(void **state)
{
    (void)state;
    export_case x = mem_case();
    vg_artifact arts[] = {
        art("01ART000000000000000000001", VG_AT_IP, "203.0.113.5", true, 1790000000000),
        art("01ART000000000000000000002", VG_AT_IP, "198.51.100.6", false, 1790000000000),
        art("01ART000000000000000000003", VG_AT_IP, "2001:db8::9", true, 1800000000000),
    };
    vg_alert alerts[] = {
        alert("01ALERT0000000000000000001", 1790000000000,
              "{\"src_ip\":\"203.0.113.5\",\"home_dest_ip\":\"198.51.100.6\"}"),
        alert("01ALERT0000000000000000002", 1790000100000,
              "{\"src_ip\":[\"203.0.113.5\"],\"dest_ip\":\"198.51.100.6\"}"),
        alert("01ALERT0000000000000000003", 1790000200000,
              "{\"dest_ip\":\"203.0.113.5\",\"home_src_ip\":\"198.51.100.6\"}"),
    };
    vg_event ev = {0};
    snprintf(ev.id, sizeof ev.id, "01EVENT0000000000000000001");
    ev.occurred_at = 1789000000000; /* an analyst's event, earlier than every alert */
    ev.kind = 6;
    ev.summary = (char *)"phish received";
    x.arts = arts;
    x.narts = 3;
    x.alerts = alerts;
    x.nalerts = 3;
    x.events = &ev;
    x.nevents = 1;
    cJSON *d = write_json(&x, EXPORT_MISP), *e = cJSON_GetObjectItem(d, "Event");
    assert_string_equal(cJSON_GetObjectItem(e, "date")->valuestring, "2026-09-10");
    const char *want[] = {"ip-src", "ip-dst", "ip-dst"}; /* 2:1 source; 1:2; no alert */
    int i = 0;
    const cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItem(e, "Attribute"))
        assert_string_equal(cJSON_GetObjectItem(a, "type")->valuestring, want[i++]);
    assert_int_equal(i, 3);
    cJSON_Delete(d);
    x.nevents = 0; /* without it, the first alert */
    d = write_json(&x, EXPORT_MISP);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "Event"), "date")->valuestring,
                        "2026-09-21");
    cJSON_Delete(d);
}

/* Timesketch: an alert's row carries its values as fields; its link row does not
 * appear. */
static void test_timesketch_fields(void **state)
{
    (void)state;
    export_case x = mem_case();
    vg_alert alerts[] = {
        alert("01ALERT0000000000000000001", 1790000000000,
              "{\"host\":\"WS-1\",\"user\":\"J.Doe\",\"src_ip\":[\"10.0.0.7\",\"FE80:0::1\"],"
              "\"home_dest_ip\":\"198.51.100.6\",\"ip\":\"8.8.8.8\",\"domain\":\"Evil.Example\","
              "\"sha256\":\"x\"}"),
    };
    vg_event ev[3];
    memset(ev, 0, sizeof ev);
    for (int i = 0; i < 3; i++) {
        snprintf(ev[i].id, sizeof ev[i].id, "01ALERT0000000000000000001");
        ev[i].occurred_at = ev[i].recorded_at = 1790000000000 + i;
        ev[i].source = (char *)(i == 0 ? "sysmon" : "");
        ev[i].actor = (char *)(i == 1 ? "root" : "");
    }
    ev[0].summary = (char *)"alert: t";
    ev[1].summary = (char *)"alert linked by root: t";
    ev[2].kind = 1;
    ev[2].summary = (char *)"a note";
    snprintf(ev[2].id, sizeof ev[2].id, "01NOTE00000000000000000001");
    x.alerts = alerts;
    x.nalerts = 1;
    x.events = ev;
    x.nevents = 3;
    vg_buf b;
    vg_buf_init(&b, 1u << 20);
    vg_err err = {0};
    assert_int_equal(export_write(&x, EXPORT_TIMESKETCH, &b, &err), VG_OK);
    char *save = NULL, *text = strdup(vg_buf_str(&b));
    int rows = 0;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        cJSON *r = cJSON_Parse(line);
        const char *msg = cJSON_GetObjectItem(r, "message")->valuestring;
        assert_null(strstr(msg, "linked by"));
        if (rows == 0) {
            assert_string_equal(cJSON_GetObjectItem(r, "src_ip")->valuestring, "10.0.0.7");
            assert_string_equal(cJSON_GetObjectItem(r, "dest_ip")->valuestring, "198.51.100.6");
            assert_string_equal(cJSON_GetObjectItem(r, "ip")->valuestring, "8.8.8.8");
            assert_string_equal(cJSON_GetObjectItem(r, "host")->valuestring, "ws-1");
            assert_string_equal(cJSON_GetObjectItem(r, "user")->valuestring, "j.doe");
            assert_string_equal(cJSON_GetObjectItem(r, "domain")->valuestring, "evil.example");
        } else {
            assert_string_equal(msg, "a note");
            assert_string_equal(cJSON_GetObjectItem(r, "src_ip")->valuestring, "");
        }
        cJSON_Delete(r);
        rows++;
    }
    assert_int_equal(rows, 2);
    free(text);
    vg_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uuid5),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_html),
        cmocka_unit_test(test_stix_files),
        cmocka_unit_test(test_stix_bad_hash_is_a_note),
        cmocka_unit_test(test_misp_direction_and_date),
        cmocka_unit_test(test_timesketch_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
