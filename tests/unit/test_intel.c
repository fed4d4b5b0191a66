/*
 * test_intel.c — offline threat intel (intel.h): STIX patterns vigil matches and
 * those it keeps as not matchable, pattern bombs, the normalisation a feed's values
 * share with artifacts, expiry, a feed replaced whole on re-import (and left whole
 * when the re-import fails), the real public samples in tests/fixtures/real/intel,
 * and matching at read time through a workspace (the artifact, the case, search,
 * the graph), retroactively.
 *
 * argv[1]: the directory of the real samples.
 */
#include "helpers.h"
#include "vigil/graph.h"
#include "vigil/intel.h"
#include "vigil/ioc.h"
#include "vigil/model.h"

static const char *samples = "tests/fixtures/real/intel";

/* ---- patterns -------------------------------------------------------------------- */

static vg_stix_pattern parse_ok(const char *p)
{
    vg_stix_pattern sp;
    vg_err err = {0};
    if (vg_stix_pattern_parse(p, strlen(p), &sp, &err) != VG_OK)
        fail_msg("%s: %s", p, err.msg);
    return sp;
}

static void want_cmps(const char *p, size_t n, const char *const *want)
{
    vg_stix_pattern sp = parse_ok(p);
    if (!sp.matchable)
        fail_msg("%s: not matchable: %s", p, sp.why);
    assert_int_equal(sp.n, n);
    for (size_t i = 0; i < n; i++) {
        char got[600];
        snprintf(got, sizeof got, "%s %s", vg_enum_name(&VG_ARTIFACT_TYPE, sp.cmps[i].type),
                 sp.cmps[i].value);
        assert_string_equal(got, want[i]);
    }
    vg_stix_pattern_free(&sp);
}

static void test_pattern_matchable(void **state)
{
    (void)state;
    want_cmps("[ipv4-addr:value = '1.2.3.4']", 1, (const char *[]){"ip 1.2.3.4"});
    want_cmps("[ ipv4-addr:value = '10.0.0.0' ]", 1, (const char *[]){"ip 10.0.0.0"});
    want_cmps("[ipv4-addr:value = '1.2.3.4' OR domain-name:value = 'X.org']", 2,
              (const char *[]){"ip 1.2.3.4", "domain x.org"});
    /* ORs of observations are ORs too; defanged values are refanged */
    want_cmps("[ipv4-addr:value = '198.51.100.1/32'] OR [url:value = 'hxxp://evil[.]example/a']", 2,
              (const char *[]){"ip 198.51.100.1", "url http://evil.example/a"});
    want_cmps("[file:hashes.'SHA-256' = "
              "'EF537F25C895BFA782526529A9B63D97AA631564D5D789C2B765448C8635FB6C']",
              1,
              (const char *[]){
                  "sha256 ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c"});
    want_cmps("[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e' OR file:name = 'a.exe']", 2,
              (const char *[]){"md5 d41d8cd98f00b204e9800998ecf8427e", "filename a.exe"});
    want_cmps("[domain-name:value IN ('a.example', 'B.example')]", 2,
              (const char *[]){"domain a.example", "domain b.example"});
    want_cmps("([email-message:from_ref.value = 'x@y.example'])", 1,
              (const char *[]){"email x@y.example"});
    want_cmps("[autonomous-system:number = 64512]", 1, (const char *[]){"asn AS64512"});
    want_cmps("[url:value = 'http://x.example/it\\'s']", 1,
              (const char *[]){"url http://x.example/it's"});
}

static void want_not(const char *p, const char *why)
{
    vg_stix_pattern sp = parse_ok(p);
    if (sp.matchable)
        fail_msg("%s: matchable", p);
    if (!strstr(sp.why, why))
        fail_msg("%s: why '%s' lacks '%s'", p, sp.why, why);
    assert_int_equal(sp.n, 0);
    vg_stix_pattern_free(&sp);
}

static void test_pattern_not_matchable(void **state)
{
    (void)state;
    want_not("[ipv4-addr:value = '1.2.3.4' AND domain-name:value = 'x.org']", "AND");
    want_not("[ipv4-addr:value = '1.2.3.4'] AND [domain-name:value = 'x.org']", "AND");
    want_not("[ipv4-addr:value = '1.2.3.4'] FOLLOWEDBY [domain-name:value = 'x.org']",
             "FOLLOWEDBY");
    want_not("[email-message:subject MATCHES '^[IMPORTANT] Please Review Before']", "MATCHES");
    want_not("[domain-name:value LIKE '%.example']", "LIKE");
    want_not("[ipv4-addr:value != '1.2.3.4']", "!=");
    want_not("[ipv4-addr:value NOT = '1.2.3.4']", "NOT");
    want_not("[ipv4-addr:value = '1.2.3.4'] WITHIN 300 SECONDS", "qualifier");
    want_not("[ipv4-addr:value = '1.2.3.4'] REPEATS 5 TIMES", "qualifier");
    want_not("[ipv4-addr:value = '1.2.3.4'] START t'2016-06-01T00:00:00Z' STOP "
             "t'2016-07-01T00:00:00Z'",
             "qualifier");
    want_not("[EXISTS windows-registry-key:values]", "EXISTS");
    want_not("[process:name = 'evil.exe']", "process:name");
    want_not("[x509-certificate:hashes.'SHA-1' = '0123456789012345678901234567890123456789']",
             "not a property vigil matches");
    want_not("[ipv4-addr:value = '198.51.100.0/24']", "CIDR");
    want_not("[file:hashes.'SHA-256' = 'not-a-hash']", "SHA-256");
    want_not("[ipv4-addr:value = 'one.two']", "not an IP");
    /* not a pattern at all: kept, said so */
    want_not("[ipv4-addr:value = '1.2.3.4'", "not a valid STIX pattern");
    want_not("ipv4-addr:value = '1.2.3.4'", "not a valid STIX pattern");
    want_not("[ipv4-addr:value = '1.2.3.4']]", "not a valid STIX pattern");
    want_not("[ipv4-addr = '1.2.3.4']", "not a valid STIX pattern");
    want_not("[ipv4-addr:value = 'unterminated]", "not a valid STIX pattern");
    want_not("", "not a valid STIX pattern");
}

static void want_bomb(const char *p, size_t len, const char *what)
{
    vg_stix_pattern sp;
    vg_err err = {0};
    assert_int_equal(vg_stix_pattern_parse(p, len, &sp, &err), VG_EINVAL);
    if (!strstr(err.msg, what))
        fail_msg("bomb message '%s' lacks '%s'", err.msg, what);
    assert_false(sp.matchable);
    vg_stix_pattern_free(&sp);
}

static void test_pattern_bomb(void **state)
{
    (void)state;
    /* too long */
    size_t n = VG_INTEL_PATTERN_BYTES + 100;
    char *p = malloc(n + 1);
    memset(p, ' ', n);
    memcpy(p, "[ipv4-addr:value = '1.2.3.4']", 29);
    p[n] = '\0';
    want_bomb(p, n, "bytes");
    /* too deep: ((((...[a]...)))) and [(((...)))] */
    vg_buf b;
    vg_buf_init(&b, 1 << 20);
    for (int i = 0; i < 200; i++)
        assert_int_equal(vg_buf_adds(&b, "("), VG_OK);
    assert_int_equal(vg_buf_adds(&b, "[ipv4-addr:value = '1.2.3.4']"), VG_OK);
    for (int i = 0; i < 200; i++)
        assert_int_equal(vg_buf_adds(&b, ")"), VG_OK);
    want_bomb(b.data, b.len, "deeper");
    vg_buf_reset(&b);
    assert_int_equal(vg_buf_adds(&b, "["), VG_OK);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(vg_buf_adds(&b, "("), VG_OK);
    want_bomb(b.data, b.len, "deeper");
    /* too many comparisons */
    vg_buf_reset(&b);
    assert_int_equal(vg_buf_adds(&b, "[ipv4-addr:value = '1.1.1.1'"), VG_OK);
    for (int i = 0; i < VG_INTEL_PATTERN_TERMS; i++) /* short ones: within the byte cap */
        assert_int_equal(vg_buf_adds(&b, " OR a:b=''"), VG_OK);
    assert_int_equal(vg_buf_adds(&b, "]"), VG_OK);
    want_bomb(b.data, b.len, "comparisons");
    /* just within the depth: fine */
    vg_buf_reset(&b);
    for (int i = 0; i < VG_INTEL_PATTERN_DEPTH - 1; i++)
        assert_int_equal(vg_buf_adds(&b, "("), VG_OK);
    assert_int_equal(vg_buf_adds(&b, "[ipv4-addr:value = '1.2.3.4']"), VG_OK);
    for (int i = 0; i < VG_INTEL_PATTERN_DEPTH - 1; i++)
        assert_int_equal(vg_buf_adds(&b, ")"), VG_OK);
    vg_stix_pattern sp = parse_ok(b.data);
    assert_true(sp.matchable);
    vg_stix_pattern_free(&sp);
    vg_buf_free(&b);
    free(p);
}

/* ---- parsing feeds ---------------------------------------------------------------- */

typedef struct seen {
    char rows[64][700];
    int n;
} seen;

static vg_rc collect(void *ud, const vg_intel_rec *r, vg_err *err)
{
    (void)err;
    seen *s = ud;
    if (s->n < 64)
        snprintf(s->rows[s->n++], sizeof s->rows[0], "%s %s%s%s",
                 r->type >= 0 ? vg_enum_name(&VG_ARTIFACT_TYPE, r->type) : "-",
                 r->value ? r->value : r->pattern, r->tlp >= 0 ? " " : "",
                 r->tlp >= 0 ? vg_enum_name(&VG_TLP, r->tlp) : "");
    return VG_OK;
}

static vg_rc parse_text(const char *text, vg_intel_format fmt, seen *s, vg_intel_counts *c,
                        vg_err *err)
{
    memset(s, 0, sizeof *s);
    vg_intel_parse_opts o = {.where = "feed.txt", .format = fmt};
    return vg_intel_parse(text, strlen(text), &o, collect, s, c, err);
}

static bool has_row(const seen *s, const char *row)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->rows[i], row) == 0)
            return true;
    return false;
}

static void test_lists_and_csv(void **state)
{
    (void)state;
    seen s;
    vg_intel_counts c;
    vg_err err = {0};
    assert_int_equal(parse_text("# a list\n\n203.0.113.7\nhxxps://evil[.]example/x?a=1\n"
                                "EVIL.example\t# phish\n"
                                "D41D8CD98F00B204E9800998ECF8427E\n198.51.100.0/24\njust words\n"
                                "198.51.100.9:443\n",
                                VG_INTEL_AUTO, &s, &c, &err),
                     VG_OK);
    assert_int_equal(c.format, VG_INTEL_LIST);
    assert_true(has_row(&s, "ip 203.0.113.7"));
    assert_true(has_row(&s, "url https://evil.example/x?a=1"));
    assert_true(has_row(&s, "domain evil.example"));
    assert_true(has_row(&s, "md5 d41d8cd98f00b204e9800998ecf8427e"));
    assert_true(has_row(&s, "- 198.51.100.0/24")); /* a range: kept, not matched */
    assert_true(has_row(&s, "ip 198.51.100.9"));
    assert_int_equal(c.skipped, 1); /* "just words" */
    assert_int_equal(c.unmatchable, 1);

    assert_int_equal(parse_text("type,value,tlp,valid_until,comment\n"
                                "ip-dst,203.0.113.8,amber,2099-01-01,c2\n"
                                "domain,\"Bad.Example\",TLP:RED,,\"a, quoted\"\n"
                                "hash,0123456789abcdef0123456789abcdef01234567,,,\n"
                                "link,https://example.org/report,,,\n",
                                VG_INTEL_AUTO, &s, &c, &err),
                     VG_OK);
    assert_int_equal(c.format, VG_INTEL_CSV);
    assert_true(has_row(&s, "ip 203.0.113.8 AMBER"));
    assert_true(has_row(&s, "domain bad.example RED"));
    assert_true(has_row(&s, "sha1 0123456789abcdef0123456789abcdef01234567"));
    assert_int_equal(c.skipped, 1); /* link: not a type vigil matches */
    /* a CSV without its columns, a bad time: refused, naming the line */
    assert_int_equal(parse_text("kind,thing\nip,1.2.3.4\n", VG_INTEL_CSV, &s, &c, &err), VG_EINVAL);
    assert_non_null(strstr(err.msg, "line 1"));
    assert_int_equal(
        parse_text("type,value,valid_until\nip,1.2.3.4,soon\n", VG_INTEL_CSV, &s, &c, &err),
        VG_EINVAL);
    assert_non_null(strstr(err.msg, "feed.txt: line 2: valid_until"));
    /* hostile text: invalid UTF-8 and NUL bytes name their line */
    assert_int_equal(parse_text("1.2.3.4\n5.6.7.8\n\xff\xfe bad\n", VG_INTEL_AUTO, &s, &c, &err),
                     VG_EINVAL);
    assert_non_null(strstr(err.msg, "feed.txt: line 3: invalid UTF-8"));
    vg_intel_parse_opts o = {.where = "nul.txt"};
    assert_int_equal(vg_intel_parse("1.2.3.4\n\0\n", 10, &o, collect, &s, &c, &err), VG_EINVAL);
    assert_non_null(strstr(err.msg, "NUL"));
    /* the item cap */
    o.max_items = 2;
    assert_int_equal(vg_intel_parse("1.1.1.1\n2.2.2.2\n3.3.3.3\n", 24, &o, collect, &s, &c, &err),
                     VG_EINVAL);
    assert_non_null(strstr(err.msg, "more than 2 indicators"));
}

static void test_stix_json(void **state)
{
    (void)state;
    seen s;
    vg_intel_counts c;
    vg_err err = {0};
    const char *bundle =
        "{\"type\":\"bundle\",\"id\":\"bundle--1\",\"objects\":["
        "{\"type\":\"marking-definition\",\"id\":\"marking-definition--x\",\"definition_type\":"
        "\"tlp\",\"definition\":{\"tlp\":\"red\"}},"
        "{\"type\":\"indicator\",\"id\":\"indicator--a\",\"pattern_type\":\"stix\",\"pattern\":"
        "\"[domain-name:value = 'c2.example']\",\"valid_from\":\"2026-10-02T00:00:00Z\","
        "\"object_marking_refs\":[\"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82\"]},"
        "{\"type\":\"indicator\",\"id\":\"indicator--b\",\"pattern_type\":\"stix\",\"pattern\":"
        "\"[ipv4-addr:value = "
        "'203.0.113.9']\",\"object_marking_refs\":[\"marking-definition--x\"]},"
        "{\"type\":\"indicator\",\"id\":\"indicator--c\",\"pattern_type\":\"yara\",\"pattern\":"
        "\"rule x {}\"},"
        "{\"type\":\"indicator\",\"id\":\"indicator--d\",\"pattern\":\"[ipv4-addr:value = "
        "'203.0.113.10']\",\"revoked\":true},"
        "{\"type\":\"url\",\"id\":\"url--e\",\"value\":\"http://drop.example/a\"},"
        "{\"type\":\"malware\",\"id\":\"malware--f\",\"name\":\"x\"}]}";
    assert_int_equal(parse_text(bundle, VG_INTEL_AUTO, &s, &c, &err), VG_OK);
    assert_int_equal(c.format, VG_INTEL_STIX);
    assert_true(has_row(&s, "domain c2.example AMBER"));
    assert_true(has_row(&s, "ip 203.0.113.9 RED"));
    assert_true(has_row(&s, "- rule x {}"));
    assert_true(has_row(&s, "- [ipv4-addr:value = '203.0.113.10']")); /* revoked: not matched */
    assert_true(has_row(&s, "url http://drop.example/a"));
    assert_int_equal(c.emitted, 5);
    assert_int_equal(c.unmatchable, 2);
    /* a bomb inside a bundle refuses the file, naming it and the indicator */
    vg_buf b;
    vg_buf_init(&b, 1 << 20);
    assert_int_equal(vg_buf_adds(&b, "{\"type\":\"bundle\",\"objects\":[{\"type\":\"indicator\","
                                     "\"id\":\"indicator--bomb\",\"pattern\":\"["),
                     VG_OK);
    for (int i = 0; i < 5000; i++)
        assert_int_equal(vg_buf_adds(&b, "("), VG_OK);
    assert_int_equal(vg_buf_adds(&b, "\"}]}"), VG_OK);
    assert_int_equal(parse_text(b.data, VG_INTEL_AUTO, &s, &c, &err), VG_EINVAL);
    assert_non_null(strstr(err.msg, "feed.txt: indicator--bomb: refused"));
    vg_buf_free(&b);
    /* broken JSON names the line */
    assert_int_equal(
        parse_text("{\"type\":\"bundle\",\n\"objects\":[\n{]}", VG_INTEL_STIX, &s, &c, &err),
        VG_EINVAL);
    assert_non_null(strstr(err.msg, "line 3"));
}

static char *slurp(const char *name, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", samples, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("%s: cannot open", path);
    vg_buf b;
    vg_buf_init(&b, 1 << 24);
    vg_err err = {0};
    assert_int_equal(vg_buf_read_file(&b, f, path, &err), VG_OK);
    fclose(f);
    *len = b.len;
    return vg_buf_take(&b);
}

static void test_real_samples(void **state)
{
    (void)state;
    seen s;
    vg_intel_counts c;
    vg_err err = {0};
    size_t len;
    vg_intel_parse_opts o = {.where = "sample"};
    char *t = slurp("stix-indicators-for-C2-with-COA.json", &len);
    memset(&s, 0, sizeof s);
    assert_int_equal(vg_intel_parse(t, len, &o, collect, &s, &c, &err), VG_OK);
    free(t);
    assert_int_equal(c.format, VG_INTEL_STIX);
    assert_int_equal(s.n, 2);
    assert_true(has_row(&s, "ip 10.0.0.0"));
    assert_true(
        has_row(&s, "sha256 ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c"));

    t = slurp("stix-infrastructure.json", &len);
    memset(&s, 0, sizeof s);
    assert_int_equal(vg_intel_parse(t, len, &o, collect, &s, &c, &err), VG_OK);
    free(t);
    assert_true(has_row(&s, "ip 198.51.100.3"));
    assert_true(has_row(&s, "domain example.com"));

    t = slurp("stix-malicious-email-indicator-with-attachment.json", &len);
    memset(&s, 0, sizeof s);
    assert_int_equal(vg_intel_parse(t, len, &o, collect, &s, &c, &err), VG_OK);
    free(t);
    assert_int_equal(c.emitted, 2);
    assert_int_equal(c.unmatchable, 2);

    t = slurp("misp-circl-57c4445b-c548-4654-af0b-4be3950d210f.json", &len);
    memset(&s, 0, sizeof s);
    assert_int_equal(vg_intel_parse(t, len, &o, collect, &s, &c, &err), VG_OK);
    free(t);
    assert_int_equal(c.format, VG_INTEL_MISP);
    /* to_ids values, TLP:WHITE (CLEAR) from the event's tag; links and comments skipped */
    assert_true(has_row(&s, "md5 0749bae92ca336a02c83d126e04ec628 CLEAR"));
    assert_true(has_row(&s, "sha1 77b0c41b7d340b8a3d903f21347bbf06aa766b5b CLEAR"));
    assert_true(has_row(&s, "filename 3Z4wnG9603it23y.exe CLEAR"));
    assert_true(has_row(
        &s, "registry Software\\Wow6432Node\\Microsoft\\Windows\\CurrentVersion\\Run CLEAR"));
    assert_int_equal(c.skipped, 4);

    t = slurp("misp-pymisp-event_obj_attr_tag.json", &len);
    memset(&s, 0, sizeof s);
    assert_int_equal(vg_intel_parse(t, len, &o, collect, &s, &c, &err), VG_OK);
    free(t);
    assert_true(has_row(&s, "filename bar"));
    assert_true(has_row(&s, "url https://www.circl.lu"));

    /* a manifest reads the events beside it */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/misp-feed-circl", samples);
    t = slurp("misp-feed-circl/manifest.json", &len);
    memset(&s, 0, sizeof s);
    vg_intel_parse_opts mo = {.where = "manifest.json", .dir = dir};
    assert_int_equal(vg_intel_parse(t, len, &mo, collect, &s, &c, &err), VG_OK);
    assert_int_equal(s.n, 5);
    assert_true(has_row(
        &s, "sha256 b3c4ae251f8094fa15b510051835c657eaef2a6cea46075d3aec964b14a99f68 CLEAR"));
    /* without its directory a manifest is refused */
    assert_int_equal(vg_intel_parse(t, len, &o, collect, &s, &c, &err), VG_EINVAL);
    assert_non_null(strstr(err.msg, "manifest"));
    free(t);

    t = slurp("abuse-feodo.ipset", &len);
    memset(&s, 0, sizeof s);
    assert_int_equal(vg_intel_parse(t, len, &o, collect, &s, &c, &err), VG_OK);
    free(t);
    assert_int_equal(c.format, VG_INTEL_LIST);
    assert_int_equal(s.n, 12);
    assert_true(has_row(&s, "ip 2.50.11.28"));
    assert_true(has_row(&s, "ip 31.24.30.31"));
}

/* ---- the store and matching ------------------------------------------------------- */

typedef struct world {
    char *dir, *intel, *wspath;
    vg_ws *ws;
    vg_id a, b;
} world;

static void write_file(const char *dir, const char *name, const char *text, size_t len)
{
    char *p = path_in(dir, name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
    free(p);
}

static void import(world *w, const char *name, const char *file, const char *text, vg_rc want,
                   vg_intel_report *rep_out)
{
    write_file(w->dir, file, text, strlen(text));
    char *p = path_in(w->dir, file);
    vg_intel *in = NULL;
    vg_err err = {0};
    assert_int_equal(vg_intel_open(w->intel, true, &in, &err), VG_OK);
    vg_intel_import_opts o = {.name = name, .tlp = -1};
    vg_intel_report rep;
    const char *paths[1] = {p};
    vg_rc rc = vg_intel_import(in, paths, 1, &o, &rep, &err);
    if (rc != want)
        fail_msg("import %s: wanted %d, got %d (%s)", file, want, rc, err.msg);
    if (rc == VG_OK && rep_out)
        *rep_out = rep;
    else if (rc == VG_OK)
        vg_intel_report_free(&rep);
    vg_intel_close(in);
    free(p);
    /* the workspace sees what the store holds now */
    assert_int_equal(vg_ws_attach_intel(w->ws, w->intel, &err), VG_OK);
}

static size_t known(world *w, const char *type, const char *value, int64_t now)
{
    vg_intel_match *m = NULL;
    size_t n = 0;
    vg_err err = {0};
    char *v = vg_ioc_normalise(vg_enum_parse(&VG_ARTIFACT_TYPE, type), value);
    assert_int_equal(
        vg_intel_lookup(w->ws, vg_enum_parse(&VG_ARTIFACT_TYPE, type), v, now, &m, &n, &err),
        VG_OK);
    free(v);
    vg_intel_matches_free(m, n);
    return n;
}

static int wsetup(void **state)
{
    world *w = calloc(1, sizeof *w);
    w->dir = tmp_dir();
    w->intel = path_in(w->dir, "intel.db");
    w->wspath = path_in(w->dir, "ws.db");
    w->ws = open_ws(w->wspath, "alice");
    new_case(w->ws, "Beacon", "high", w->a);
    new_case(w->ws, "Phish", "medium", w->b);
    *state = w;
    return 0;
}

static int wteardown(void **state)
{
    world *w = *state;
    vg_ws_close(w->ws);
    free(w->intel);
    free(w->wspath);
    rm_tree(w->dir);
    free(w);
    return 0;
}

static void test_no_intel(void **state)
{
    world *w = *state;
    vg_err err = {0};
    /* a missing store is no intel: reads work and know nothing */
    assert_int_equal(vg_ws_attach_intel(w->ws, w->intel, &err), VG_OK);
    assert_false(vg_ws_has_intel(w->ws));
    assert_int_equal(known(w, "ip", "203.0.113.7", 0), 0);
    vg_hit *h = NULL;
    size_t n = 9;
    assert_int_equal(vg_search(w->ws, "intel:hit", 20, &h, &n, &err), VG_OK);
    assert_int_equal(n, 0);
    vg_hits_free(h, n);
    /* a workspace is not an intel store: refused, the workspace as usable as before */
    assert_int_equal(vg_ws_attach_intel(w->ws, w->wspath, &err), VG_ENOTVIGIL);
    assert_non_null(strstr(err.msg, "is not a vigil intel store"));
    assert_false(vg_ws_has_intel(w->ws));
    must_apply(w->ws, vg_op_artifact_add(w->a, "ip", "203.0.113.7"));
    vg_intel *in = NULL;
    assert_int_equal(vg_intel_open(w->intel, false, &in, &err), VG_ENOTFOUND);
}

static void test_normalise_and_match(void **state)
{
    world *w = *state;
    /* the artifact first, the feed after: the hit shows (read-time matching) */
    must_apply(w->ws, vg_op_artifact_add(w->a, "domain", "EVIL[.]Example"));
    must_apply(w->ws, vg_op_artifact_add(w->a, "url", "hxxps://evil[.]example/Path"));
    must_apply(w->ws, vg_op_artifact_add(w->b, "ip", "198.51.100.3"));
    import(w, "feed-a", "a.csv",
           "type,value,tlp\ndomain,evil.example.,amber\nurl,https://evil.example/Path,\n"
           "ip,2001:DB8::1,\nsha256,"
           "EF537F25C895BFA782526529A9B63D97AA631564D5D789C2B765448C8635FB6C,\n",
           VG_OK, NULL);
    assert_true(vg_ws_has_intel(w->ws));
    assert_int_equal(known(w, "domain", "EVIL.example", 0), 1);
    assert_int_equal(known(w, "url", "https://evil.example/Path", 0), 1);
    assert_int_equal(known(w, "url", "https://evil.example/path", 0), 0); /* paths keep case */
    assert_int_equal(known(w, "ip", "2001:db8::1", 0), 1);
    assert_int_equal(
        known(w, "sha256", "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c", 0),
        1);
    assert_int_equal(known(w, "ip", "198.51.100.3", 0), 0);
    vg_intel_summary s;
    vg_err err = {0};
    assert_int_equal(vg_intel_case_summary(w->ws, w->a, 0, &s, &err), VG_OK);
    assert_int_equal(s.values, 2);
    char text[256];
    vg_intel_summary_text(&s, text, sizeof text);
    assert_string_equal(text, "intel: 2 values known to feeds (feed-a 2)");
    vg_intel_summary_clear(&s);
    /* a second feed: known to both, the stricter TLP */
    import(w, "feed-b", "b.txt", "evil[.]example\n198.51.100.3\n", VG_OK, NULL);
    vg_intel_match *m = NULL;
    size_t n = 0;
    assert_int_equal(vg_intel_lookup(w->ws, VG_AT_DOMAIN, "evil.example", 0, &m, &n, &err), VG_OK);
    assert_int_equal(n, 2);
    vg_intel_known_text(m, n, text, sizeof text);
    assert_non_null(strstr(text, "known: feed-a, feed-b, TLP:AMBER, "));
    vg_intel_matches_free(m, n);
    /* the open cases with hits, and search */
    vg_intel_case_hit *hits = NULL;
    int64_t total = 0;
    assert_int_equal(vg_intel_open_cases(w->ws, 0, 10, &hits, &n, &total, &err), VG_OK);
    assert_int_equal(total, 2);
    assert_string_equal(hits[0].case_id, w->a); /* high before medium */
    assert_int_equal(hits[0].values, 2);
    vg_intel_case_hits_free(hits, n);
    vg_hit *h = NULL;
    assert_int_equal(vg_search(w->ws, "intel:hit type:artifact", 20, &h, &n, &err), VG_OK);
    assert_int_equal(n, 3);
    vg_hits_free(h, n);
    assert_int_equal(vg_search(w->ws, "intel:feed-b type:case", 20, &h, &n, &err), VG_OK);
    assert_int_equal(n, 2);
    vg_hits_free(h, n);
    assert_int_equal(vg_search(w->ws, "intel:nosuch", 20, &h, &n, &err), VG_ENOTFOUND);
    vg_hits_free(h, n);
    /* the graph: one intel node per feed, joined to the values it knows, no bridges */
    vg_graph g;
    const char *roots[1] = {w->a};
    vg_graph_opts go = {.roots = roots, .nroots = 1, .depth = 1};
    assert_int_equal(vg_graph_build(w->ws, &go, &g, &err), VG_OK);
    int feeds = 0;
    for (size_t i = 0; i < g.n; i++)
        feeds += g.nodes[i].kind == VG_GNODE_INTEL;
    assert_int_equal(feeds, 2);
    for (size_t e = 0; e < g.ne; e++) {
        if (g.nodes[g.edges[e].a].kind == VG_GNODE_INTEL) {
            assert_int_equal(g.nodes[g.edges[e].b].kind, VG_GNODE_VALUE);
            assert_false(g.edges[e].bridge);
        }
    }
    vg_graph_free(&g);
    go.no_intel = true;
    assert_int_equal(vg_graph_build(w->ws, &go, &g, &err), VG_OK);
    for (size_t i = 0; i < g.n; i++)
        assert_int_not_equal(g.nodes[i].kind, VG_GNODE_INTEL);
    vg_graph_free(&g);
    /* the store is attached read-only */
    char *msg = NULL;
    assert_int_not_equal(sqlite3_exec(w->ws->db, "DELETE FROM intel.indicators", NULL, NULL, &msg),
                         SQLITE_OK);
    sqlite3_free(msg);
    assert_int_equal(known(w, "domain", "evil.example", 0), 2);
}

static void test_alert_entities(void **state)
{
    world *w = *state;
    /* an inbox alert naming an address a feed knows: search finds the alert */
    vg_op *op = vg_op_new("alert.add", "");
    vg_ulid(1700000000000, op->target);
    cJSON_Delete(op->payload);
    op->payload = cJSON_Parse("{\"source\":\"ids\",\"title\":\"beacon\",\"event_time\":"
                              "1700000000000,\"entities\":{\"dest_ip\":\"203.0.113.77\","
                              "\"host\":\"ws-9\"}}");
    must_apply(w->ws, op);
    /* a store of fewer indicators than the workspace has keys: walked indicator by
     * indicator; one of many more: key by key (query.c); the same hits either way */
    static const char *const feeds[2] = {
        "203.0.113.77\n",
        "203.0.113.70\n203.0.113.71\n203.0.113.72\n203.0.113.73\n203.0.113.74\n"
        "203.0.113.75\n203.0.113.76\n203.0.113.77\n203.0.113.78\nws-9.example\n"};
    for (int k = 0; k < 2; k++) {
        import(w, "c2", "c2.txt", feeds[k], VG_OK, NULL);
        vg_hit *h = NULL;
        size_t n = 0;
        vg_err err = {0};
        assert_int_equal(vg_search(w->ws, "intel:hit", 20, &h, &n, &err), VG_OK);
        assert_int_equal(n, 1);
        assert_string_equal(h[0].kind, "alert");
        vg_hits_free(h, n);
        assert_int_equal(vg_search(w->ws, "intel:c2 type:alert", 20, &h, &n, &err), VG_OK);
        assert_int_equal(n, 1);
        vg_hits_free(h, n);
    }
}

static void test_expiry(void **state)
{
    world *w = *state;
    int64_t now = vg_now_ms();
    import(w, "exp", "e.csv",
           "type,value,valid_until\nip,203.0.113.1,2001-01-01\nip,203.0.113.2,2099-01-01\n"
           "ip,203.0.113.3,\n",
           VG_OK, NULL);
    assert_int_equal(known(w, "ip", "203.0.113.1", now), 0); /* expired: no longer matches */
    assert_int_equal(known(w, "ip", "203.0.113.2", now), 1);
    assert_int_equal(known(w, "ip", "203.0.113.3", now), 1); /* no valid_until: never expires */
    assert_int_equal(known(w, "ip", "203.0.113.1", 946684800000), 1);  /* it did in 2000 */
    assert_int_equal(known(w, "ip", "203.0.113.2", 4102444800001), 0); /* and will not in 2100 */
    vg_intel *in = NULL;
    vg_err err = {0};
    assert_int_equal(vg_intel_open(w->intel, false, &in, &err), VG_OK);
    vg_intel_stats st;
    assert_int_equal(vg_intel_stats_get(in, now, &st, &err), VG_OK);
    assert_int_equal(st.indicators, 3);
    assert_int_equal(st.expired, 1);
    assert_int_equal(st.by_type[VG_AT_IP], 2);
    vg_intel_close(in);
}

static void test_replace_on_reimport(void **state)
{
    world *w = *state;
    vg_intel_report rep;
    import(w, "f", "f1.txt", "203.0.113.10\n203.0.113.11\n", VG_OK, &rep);
    assert_int_equal(rep.n, 1);
    assert_int_equal(rep.feeds[0].indicators, 2);
    assert_int_equal(rep.feeds[0].replaced, -1);
    vg_intel_report_free(&rep);
    import(w, "f", "f2.txt", "203.0.113.11\n203.0.113.12\n", VG_OK, &rep);
    assert_int_equal(rep.feeds[0].replaced, 2);
    assert_int_equal(rep.feeds[0].indicators, 2);
    vg_intel_report_free(&rep);
    assert_int_equal(known(w, "ip", "203.0.113.10", 0), 0); /* gone with the old feed */
    assert_int_equal(known(w, "ip", "203.0.113.11", 0), 1);
    assert_int_equal(known(w, "ip", "203.0.113.12", 0), 1);
    /* a re-import that fails (invalid UTF-8 after good lines) leaves the feed whole */
    import(w, "f", "f3.txt", "203.0.113.13\n\xc3\x28\n", VG_EINVAL, NULL);
    assert_int_equal(known(w, "ip", "203.0.113.13", 0), 0);
    assert_int_equal(known(w, "ip", "203.0.113.11", 0), 1);
    assert_int_equal(known(w, "ip", "203.0.113.12", 0), 1);
    /* removing it */
    vg_intel *in = NULL;
    vg_err err = {0};
    assert_int_equal(vg_intel_open(w->intel, false, &in, &err), VG_OK);
    int64_t removed = 0;
    assert_int_equal(vg_intel_remove(in, "f", &removed, &err), VG_OK);
    assert_int_equal(removed, 2);
    assert_int_equal(vg_intel_remove(in, "f", &removed, &err), VG_ENOTFOUND);
    vg_intel_feed *f = NULL;
    size_t n = 9;
    assert_int_equal(vg_intel_feeds(in, 0, &f, &n, &err), VG_OK);
    assert_int_equal(n, 0);
    vg_intel_feeds_free(f, n);
    vg_intel_close(in);
    assert_int_equal(known(w, "ip", "203.0.113.11", 0), 0);
}

static void test_names(void **state)
{
    (void)state;
    assert_true(vg_intel_name_ok("feodo"));
    assert_true(vg_intel_name_ok("circl-osint_2026.11+x"));
    assert_false(vg_intel_name_ok(""));
    assert_false(vg_intel_name_ok("-x"));
    assert_false(vg_intel_name_ok("a b"));
    assert_false(vg_intel_name_ok("a\x1b[31m"));
    assert_int_equal(vg_intel_tlp_parse("TLP:AMBER+STRICT"), 3);
    assert_int_equal(vg_intel_tlp_parse("tlp:white"), 0);
    assert_int_equal(vg_intel_tlp_parse("clear"), 0);
    assert_int_equal(vg_intel_tlp_parse("purple"), -1);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        samples = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pattern_matchable),
        cmocka_unit_test(test_pattern_not_matchable),
        cmocka_unit_test(test_pattern_bomb),
        cmocka_unit_test(test_lists_and_csv),
        cmocka_unit_test(test_stix_json),
        cmocka_unit_test(test_real_samples),
        cmocka_unit_test(test_names),
        cmocka_unit_test_setup_teardown(test_no_intel, wsetup, wteardown),
        cmocka_unit_test_setup_teardown(test_normalise_and_match, wsetup, wteardown),
        cmocka_unit_test_setup_teardown(test_alert_entities, wsetup, wteardown),
        cmocka_unit_test_setup_teardown(test_expiry, wsetup, wteardown),
        cmocka_unit_test_setup_teardown(test_replace_on_reimport, wsetup, wteardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
