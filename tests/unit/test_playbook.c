/*
 * test_playbook.c — playbooks: lint (every refusal names the field), the library
 * (every shipped file passes), workspace copies through the door, apply (order,
 * idempotence, the timeline record), progress, suggestions, signed packs (a byte
 * changed anywhere is refused) and the CACAO export's shape.
 */
#include "helpers.h"

#include "vg_config.h"
#include "vigil/pack.h"
#include "vigil/playbook.h"

static const char GOOD[] =
    "{\"id\": \"t-phish\", \"name\": \"Test phishing\", \"version\": \"2\", \"category\": \"phishing\",\n"
    " \"description\": \"A test.\", \"techniques\": [\"T1566\", \"T1566.001\"], \"severity_hint\": \"high\",\n"
    " \"tasks\": [\n"
    "  {\"phase\": \"containment\", \"title\": \"Purge\", \"description\": \"New-ComplianceSearchAction\", \"mandatory\": true},\n"
    "  {\"phase\": \"identification\", \"title\": \"Headers\", \"description\": \"Export the .eml\", \"mandatory\": true},\n"
    "  {\"phase\": \"identification\", \"title\": \"Trace\", \"description\": \"Get-MessageTraceV2\"},\n"
    "  {\"phase\": \"lessons_learned\", \"title\": \"Tune\", \"description\": \"Record the miss\"}\n"
    " ]}";

static void parse_ok(const char *text, vg_playbook *p)
{
    vg_err err = {0};
    if (vg_playbook_parse(text, strlen(text), "good.json", p, &err) != VG_OK)
        fail_msg("%s", err.msg);
}

/* Parse text that must be refused; the message must contain each of want[]. */
static void refused(const char *text, const char *want1, const char *want2)
{
    vg_playbook p;
    vg_err err = {0};
    assert_int_equal(vg_playbook_parse(text, strlen(text), "bad.json", &p, &err), VG_EINVAL);
    if (!strstr(err.msg, "bad.json") || !strstr(err.msg, want1) || (want2 && !strstr(err.msg, want2)))
        fail_msg("message '%s' lacks '%s' / '%s'", err.msg, want1, want2 ? want2 : "");
}

/* GOOD with one substring replaced. */
static char *good_with(const char *from, const char *to)
{
    const char *at = strstr(GOOD, from);
    assert_non_null(at);
    size_t n = strlen(GOOD) - strlen(from) + strlen(to) + 1;
    char *s = malloc(n);
    snprintf(s, n, "%.*s%s%s", (int)(at - GOOD), GOOD, to, at + strlen(from));
    return s;
}

static void test_lint(void **state)
{
    (void)state;
    vg_playbook p;
    parse_ok(GOOD, &p);
    assert_string_equal(p.id, "t-phish");
    assert_int_equal(p.ntasks, 4);
    assert_int_equal(p.severity_hint, VG_SEV_HIGH);
    assert_true(p.tasks[0].mandatory);
    assert_false(p.tasks[2].mandatory);
    vg_playbook_clear(&p);

    static const struct { const char *from, *to, *want1, *want2; } bad[] = {
        {"\"containment\"", "\"triage\"", "tasks[0].phase", "'triage' is not one of"},
        {"\"title\": \"Headers\", ", "", "tasks[1].title", "required"},
        {"\"T1566.001\"", "\"T15660\"", "techniques[1]", "not an ATT&CK technique id"},
        {"\"T1566\"", "\"t1566\"", "techniques[0]", NULL},
        {"\"T1566\"", "\"T1566.01\"", "techniques[0]", NULL},
        {"\"version\": \"2\",", "\"version\": 2,", "version", "must be a string"},
        {"\"mandatory\": true}", "\"mandatroy\": true}", "tasks[0].mandatroy", "unknown field"},
        {"\"severity_hint\": \"high\"", "\"severity_hint\": \"urgent\"", "severity_hint", NULL},
        {"\"id\": \"t-phish\"", "\"id\": \"Bad Id\"", "id", NULL},
        {"\"title\": \"Trace\"", "\"title\": \"Headers\"", "tasks[2].title", "already tasks[1]"},
        {"[\"T1566\", \"T1566.001\"]", "\"T1566\"", "techniques", "must be an array"},
        {"\"name\": \"Test phishing\", ", "", "name", "required"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *s = good_with(bad[i].from, bad[i].to);
        refused(s, bad[i].want1, bad[i].want2);
        free(s);
    }
    /* invalid JSON names the line */
    char *s = good_with("\"tasks\": [\n", "\"tasks\": [\n,,\n");
    refused(s, "line 4", "not valid JSON");
    free(s);
    /* text after the object is refused too; "$schema" for editors is accepted */
    char *trail = malloc(sizeof GOOD + 16);
    snprintf(trail, sizeof GOOD + 16, "%s\n\n{}", GOOD);
    refused(trail, "line 10", "not valid JSON");
    free(trail);
    vg_playbook p2;
    s = good_with("{\"id\"", "{\"$schema\": \"playbook.schema.json\", \"id\"");
    parse_ok(s, &p2);
    vg_playbook_clear(&p2);
    free(s);
    /* a 10 MB description is refused by name, not read into the workspace */
    size_t big = 10u << 20;
    char *desc = malloc(big + 3);
    desc[0] = '"';
    memset(desc + 1, 'a', big);
    memcpy(desc + 1 + big, "\"", 2);
    s = good_with("\"A test.\"", desc);
    refused(s, "description", "longer than the limit");
    free(s);
    free(desc);
}

static void test_library_lints(void **state)
{
    (void)state;
    vg_playbook *lib;
    size_t n;
    vg_err err = {0};
    if (vg_playbook_library(VG_SOURCEDIR "/playbooks", &lib, &n, &err) != VG_OK)
        fail_msg("%s", err.msg);
    assert_true(n >= 12);
    /* the list, each with its named techniques */
    static const struct { const char *id, *tech[3]; } want[] = {
        {"phishing", {"T1566"}},
        {"ransomware", {"T1486"}},
        {"malware-infection", {"T1204"}},
        {"unauthorized-access", {"T1133", "T1078"}},
        {"data-exfiltration", {"T1041", "T1567"}},
        {"password-spraying", {"T1110.003"}},
        {"business-email-compromise", {"T1114", "T1534"}},
        {"web-shell", {"T1505.003"}},
        {"cloud-credential-compromise", {"T1078.004"}},
        {"insider-data-theft", {NULL}},
        {"denial-of-service", {"T1498", "T1499"}},
        {"lost-stolen-device", {NULL}},
    };
    for (size_t w = 0; w < sizeof want / sizeof *want; w++) {
        const vg_playbook *p = NULL;
        for (size_t i = 0; i < n; i++)
            if (strcmp(lib[i].id, want[w].id) == 0)
                p = &lib[i];
        if (!p)
            fail_msg("library lacks %s", want[w].id);
        assert_true(p->library);
        assert_true(p->ntasks >= 8);
        for (int t = 0; t < 3 && want[w].tech[t]; t++) {
            bool found = false;
            for (size_t k = 0; k < p->ntechniques; k++)
                found |= strcmp(p->techniques[k], want[w].tech[t]) == 0;
            if (!found)
                fail_msg("%s lacks %s", p->id, want[w].tech[t]);
        }
        /* every phase has work, and some of it is mandatory */
        int phases = 0, mandatory = 0;
        for (int ph = 0; ph < 5; ph++) {
            bool has = false;
            for (size_t k = 0; k < p->ntasks; k++)
                has |= p->tasks[k].phase == ph;
            phases += has;
        }
        for (size_t k = 0; k < p->ntasks; k++)
            mandatory += p->tasks[k].mandatory;
        assert_int_equal(phases, 5);
        assert_true(mandatory >= 1);
    }
    vg_playbooks_free(lib, n);
}

static int setup(void **state)
{
    fx *f = fx_new();
    new_case(f->ws, "Phishing: invoice lure", "medium", f->case_id);
    *state = f;
    return 0;
}

static int64_t count_tasks(fx *f) { return sql_int(f->ws, "SELECT count(*) FROM tasks"); }

static void test_apply_order_and_idempotence(void **state)
{
    fx *f = *state;
    vg_playbook p;
    vg_err err = {0};
    parse_ok(GOOD, &p);
    /* a task already on the case (same phase and title) is not added again */
    must_apply(f->ws, vg_op_task_add(f->case_id, "identification", "Trace"));
    int added = -1, skipped = -1;
    assert_int_equal(vg_playbook_apply(f->ws, f->case_id, &p, &added, &skipped, &err), VG_OK);
    assert_int_equal(added, 3);
    assert_int_equal(skipped, 1);
    vg_task *t;
    size_t n;
    assert_int_equal(vg_tasks_of_case(f->ws, f->case_id, &t, &n, &err), VG_OK);
    assert_int_equal(n, 4);
    /* grouped by phase, the playbook's order within a phase */
    assert_string_equal(t[0].title, "Trace");
    assert_string_equal(t[1].title, "Headers");
    assert_string_equal(t[2].title, "Purge");
    assert_string_equal(t[3].title, "Tune");
    assert_string_equal(t[1].playbook_id, "t-phish");
    assert_true(t[1].mandatory && t[2].mandatory && !t[3].mandatory);
    assert_string_equal(t[1].description, "Export the .eml");
    vg_tasks_free(t, n);
    /* the record on the timeline */
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM events WHERE source = 'playbook:t-phish'"
                                    " AND summary LIKE '%3 tasks added, 1 already%'"), 1);
    char **ids;
    assert_int_equal(vg_case_playbooks(f->ws, f->case_id, &ids, &n, &err), VG_OK);
    assert_int_equal(n, 1);
    assert_string_equal(ids[0], "t-phish");
    free(ids[0]);
    free(ids);
    /* twice is harmless: nothing added, nothing recorded */
    int64_t ops = sql_int(f->ws, "SELECT count(*) FROM ops"), events = sql_int(f->ws, "SELECT count(*) FROM events");
    assert_int_equal(vg_playbook_apply(f->ws, f->case_id, &p, &added, &skipped, &err), VG_OK);
    assert_int_equal(added, 0);
    assert_int_equal(skipped, 4);
    assert_int_equal(count_tasks(f), 4);
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM ops"), ops);
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM events"), events);
    vg_playbook_clear(&p);
}

static void test_apply_failure_writes_nothing(void **state)
{
    fx *f = *state;
    vg_playbook p;
    vg_err err = {0};
    parse_ok(GOOD, &p);
    assert_int_not_equal(vg_playbook_apply(f->ws, "01JNOSUCHCASE0000000000000", &p, NULL, NULL, &err),
                         VG_OK);
    assert_int_equal(count_tasks(f), 0);
    vg_playbook_clear(&p);
}

static void test_progress(void **state)
{
    fx *f = *state;
    vg_playbook p;
    vg_err err = {0};
    parse_ok(GOOD, &p);
    assert_int_equal(vg_playbook_apply(f->ws, f->case_id, &p, NULL, NULL, &err), VG_OK);
    must_apply(f->ws, vg_op_task_add(f->case_id, "recovery", "Restore"));
    vg_progress pr;
    assert_int_equal(vg_case_progress(f->ws, f->case_id, &pr, &err), VG_OK);
    assert_int_equal(pr.all_total, 5);
    assert_int_equal(pr.all_done, 0);
    assert_int_equal(pr.all_mandatory_left, 2);
    assert_int_equal(pr.total[0], 2);
    assert_int_equal(pr.mandatory_left[1], 1);
    vg_task *t;
    size_t n;
    assert_int_equal(vg_tasks_of_case(f->ws, f->case_id, &t, &n, &err), VG_OK);
    must_apply(f->ws, vg_op_task_set(f->case_id, t[0].id, "status", "done"));     /* Headers */
    must_apply(f->ws, vg_op_task_set(f->case_id, t[2].id, "status", "skipped"));  /* Purge */
    must_apply(f->ws, vg_op_task_set(f->case_id, t[1].id, "status", "in_progress"));
    vg_tasks_free(t, n);
    assert_int_equal(vg_case_progress(f->ws, f->case_id, &pr, &err), VG_OK);
    assert_int_equal(pr.all_done, 2);          /* done and skipped */
    assert_int_equal(pr.done[0], 1);
    assert_int_equal(pr.mandatory_left[0], 0);
    assert_int_equal(pr.mandatory_left[1], 1); /* skipping a mandatory task leaves it */
    assert_int_equal(pr.all_mandatory_left, 1);
    /* the listing form agrees with the query form */
    vg_progress p2;
    assert_int_equal(vg_tasks_of_case(f->ws, f->case_id, &t, &n, &err), VG_OK);
    vg_progress_of(t, n, &p2);
    vg_tasks_free(t, n);
    assert_memory_equal(&pr, &p2, sizeof pr);
    cJSON *j = vg_progress_json(&pr);
    char *s = cJSON_PrintUnformatted(j);
    assert_non_null(strstr(s, "\"containment\":{\"done\":1,\"total\":1,\"mandatory_left\":1}"));
    cJSON_free(s);
    cJSON_Delete(j);
    char bar[64];
    vg_progress_bar(2, 5, 10, true, bar, sizeof bar);
    assert_string_equal(bar, "####......");
    vg_playbook_clear(&p);
}

static void test_workspace_copies(void **state)
{
    fx *f = *state;
    vg_playbook p, got;
    vg_err err = {0};
    parse_ok(GOOD, &p);
    must_apply(f->ws, vg_op_playbook_put("playbook.import", &p, "file /tmp/x.json"));
    must_fail(f->ws, vg_op_playbook_put("playbook.import", &p, "again"), VG_EEXIST);
    assert_int_equal(vg_playbook_find(f->ws, NULL, "t-phish", &got, &err), VG_OK);
    assert_false(got.library);
    assert_string_equal(got.origin, "file /tmp/x.json");
    assert_int_equal(got.ntasks, 4);
    assert_int_equal(got.severity_hint, VG_SEV_HIGH);
    vg_playbook_clear(&got);
    /* set replaces the copy */
    free(p.name);
    p.name = strdup("Renamed");
    must_apply(f->ws, vg_op_playbook_put("playbook.set", &p, "file /tmp/x.json"));
    assert_int_equal(vg_playbook_find(f->ws, NULL, "t-phish", &got, &err), VG_OK);
    assert_string_equal(got.name, "Renamed");
    vg_playbook_clear(&got);
    /* a bad playbook in an op is refused by the door */
    vg_op *op = vg_op_playbook_put("playbook.import", &p, "");
    cJSON *pb = cJSON_GetObjectItem(op->payload, "playbook");
    cJSON_ReplaceItemInObject(pb, "techniques", cJSON_CreateStringArray((const char *[]){"X1"}, 1));
    assert_non_null(strstr(must_fail(f->ws, op, VG_EINVAL), "techniques[0]"));
    /* remove is a tombstone: a stale import arriving later does not bring it back */
    must_apply(f->ws, vg_op_playbook_remove("t-phish"));
    assert_int_equal(vg_playbook_find(f->ws, NULL, "t-phish", &got, &err), VG_ENOTFOUND);
    must_fail(f->ws, vg_op_playbook_remove("t-phish"), VG_ENOTFOUND);
    cJSON *j = vg_playbook_json(&p);
    char *text = cJSON_PrintUnformatted(j), payload[4096];
    snprintf(payload, sizeof payload, "{\"playbook\": %s, \"origin\": \"sync\"}", text);
    vg_op *stale = stamped("playbook.import", "01JAAAAAAAAAAAAAAAAAAAAAAA", (uint64_t)1000 << 16,
                           "01JBBBBBBBBBBBBBBBBBBBBBBB", payload);
    must_apply(f->ws, stale);
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM playbooks"), 0);
    cJSON_free(text);
    cJSON_Delete(j);
    vg_playbook_clear(&p);
}

/* Replicas that receive the same playbook ops in different orders end the same. */
static void test_copies_converge(void **state)
{
    (void)state;
    vg_playbook p;
    parse_ok(GOOD, &p);
    cJSON *j = vg_playbook_json(&p);
    char *v1 = cJSON_PrintUnformatted(j);
    free(p.name);
    p.name = strdup("Second version");
    cJSON_Delete(j);
    j = vg_playbook_json(&p);
    char *v2 = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    char a[4096], b[4096];
    snprintf(a, sizeof a, "{\"playbook\": %s, \"origin\": \"site A\"}", v1);
    snprintf(b, sizeof b, "{\"playbook\": %s, \"origin\": \"site B\"}", v2);
    static const char *const A = "01JAAAAAAAAAAAAAAAAAAAAAAA", *B = "01JBBBBBBBBBBBBBBBBBBBBBBB";
    /* A imports, B sets later, A removes latest; and a set that loses to the removal */
    struct { const char *kind, *origin, *json; uint64_t hlc; } ops[] = {
        {"playbook.import", A, a, (uint64_t)1000 << 16},
        {"playbook.set", B, b, (uint64_t)2000 << 16},
        {"playbook.remove", A, "{\"id\": \"t-phish\"}", (uint64_t)3000 << 16},
        {"playbook.set", B, b, ((uint64_t)2500 << 16) + 1},
    };
    char digest[2][65];
    for (int order = 0; order < 2; order++) {
        char *dir = tmp_dir(), *path = path_in(dir, "ws.db");
        vg_ws *ws = open_ws(path, "sync");
        for (int k = 0; k < 4; k++) {
            int i = order ? 3 - k : k;
            vg_op *op = stamped(ops[i].kind, ops[i].origin, ops[i].hlc, ops[i].origin, ops[i].json);
            vg_ulid((int64_t)(ops[i].hlc >> 16) + i, op->id); /* distinct op ids */
            must_apply(ws, op);
        }
        vg_err err = {0};
        assert_int_equal(vg_ws_digest(ws, digest[order], &err), VG_OK);
        assert_int_equal(sql_int(ws, "SELECT count(*) FROM playbooks"), 0); /* removed last */
        vg_ws_close(ws);
        free(path);
        rm_tree(dir);
    }
    assert_string_equal(digest[0], digest[1]);
    cJSON_free(v1);
    cJSON_free(v2);
    vg_playbook_clear(&p);
}

static void test_suggest(void **state)
{
    (void)state;
    vg_playbook *lib;
    size_t n;
    vg_err err = {0};
    assert_int_equal(vg_playbook_library(VG_SOURCEDIR "/playbooks", &lib, &n, &err), VG_OK);
    vg_case c = {.title = "Suspicious sign-ins", .techniques = "[\"T1110.003\"]", .tags = "[]"};
    size_t *order = calloc(n, sizeof *order);
    int *score = calloc(n, sizeof *score);
    size_t m = vg_playbook_suggest(&c, lib, n, order, score);
    assert_true(m >= 1);
    assert_string_equal(lib[order[0]].id, "password-spraying");
    /* a sub-technique on the case matches its parent in the playbook; a tag names one */
    vg_case d = {.title = "User reported a mail", .techniques = "[\"T1566.002\"]", .tags = "[\"bec\"]"};
    m = vg_playbook_suggest(&d, lib, n, order, score);
    assert_true(m >= 2);
    assert_string_equal(lib[order[0]].id, "phishing");
    assert_string_equal(lib[order[1]].id, "business-email-compromise");
    vg_case e = {.title = "Ransomware note on FS01", .techniques = "[]", .tags = "[]"};
    m = vg_playbook_suggest(&e, lib, n, order, score);
    assert_int_equal(m, 1);
    assert_string_equal(lib[order[0]].id, "ransomware");
    free(order);
    free(score);
    vg_playbooks_free(lib, n);
}

static void test_case_all_techniques(void **state)
{
    fx *f = *state;
    must_apply(f->ws, vg_op_case_set(f->case_id, "techniques", "T1566.001, T1204"));
    vg_op *op = vg_op_new("alert.add", NULL);
    cJSON_AddStringToObject(op->payload, "source", "edr");
    cJSON_AddStringToObject(op->payload, "title", "Beacon");
    cJSON_AddNumberToObject(op->payload, "event_time", 1700000000000.0);
    cJSON_AddStringToObject(op->payload, "case", f->case_id);
    cJSON_AddItemToObject(op->payload, "techniques",
                          cJSON_CreateStringArray((const char *[]){"T1071.001", "T1204"}, 2));
    must_apply(f->ws, op);
    char *json;
    vg_err err = {0};
    assert_int_equal(vg_case_all_techniques(f->ws, f->case_id, &json, &err), VG_OK);
    assert_string_equal(json, "[\"T1071.001\",\"T1204\",\"T1566.001\"]");
    free(json);
}

/* Open a pack; returns rc and leaves the message in msg. */
static vg_rc open_pack(const char *text, const char *trusted, bool allow, vg_pack_info *info,
                       size_t *n, char *msg)
{
    vg_playbook *p = NULL;
    vg_err err = {0};
    vg_rc rc = vg_pack_open(text, strlen(text), "t.pack", trusted, "trusted-keys", allow, info, &p,
                            n, &err);
    vg_playbooks_free(p, *n);
    snprintf(msg, 512, "%s", err.msg);
    return rc;
}

static void test_pack_signing_and_tampering(void **state)
{
    (void)state;
    vg_playbook p[2];
    parse_ok(GOOD, &p[0]);
    char *s2 = good_with("\"t-phish\"", "\"t-other\"");
    parse_ok(s2, &p[1]);
    free(s2);
    char *sec, *pub, *sec2, *pub2;
    vg_pack_keygen("alice", &sec, &pub);
    vg_pack_keygen("mallory", &sec2, &pub2);
    assert_non_null(strstr(pub, "alice"));
    vg_err err = {0};
    char *pack = vg_pack_write(p, 2, sec, "key", &err);
    assert_non_null(pack);
    vg_pack_info info;
    size_t n;
    char msg[512], trusted[512];
    snprintf(trusted, sizeof trusted, "# team keys\n\n%s", pub);
    assert_int_equal(open_pack(pack, trusted, false, &info, &n, msg), VG_OK);
    assert_true(info.is_signed);
    assert_int_equal(n, 2);
    /* signed by a key nobody trusts */
    assert_int_equal(open_pack(pack, pub2, false, &info, &n, msg), VG_EINVAL);
    assert_non_null(strstr(msg, "not a trusted key"));
    assert_int_equal(open_pack(pack, "", false, &info, &n, msg), VG_EINVAL);
    /* one byte changed anywhere in the payload */
    char *body = strstr(pack, "\n\n") + 2;
    size_t checked = 0;
    size_t blen = strlen(body);
    for (char *q = body; q < body + blen; q += 7, checked++) {
        char was = *q;
        *q = was == 'x' ? 'y' : 'x';
        if (open_pack(pack, trusted, true, &info, &n, msg) != VG_ECORRUPT || !strstr(msg, "altered"))
            fail_msg("byte %zu changed: %s", (size_t)(q - body), msg);
        *q = was;
    }
    assert_true(checked > 50);
    /* the signer line changed: a different key, which is not trusted */
    char *signer = strstr(pack, "signer ed25519 ") + 15;
    char was = signer[3];
    signer[3] = was == 'A' ? 'B' : 'A';
    assert_int_equal(open_pack(pack, trusted, false, &info, &n, msg), VG_EINVAL);
    assert_non_null(strstr(msg, "not a trusted key"));
    signer[3] = was;
    /* a signature from another key under the trusted signer line */
    char *forged = vg_pack_write(p, 2, sec2, "key2", &err);
    char *fsig = strstr(forged, "signature "), *psig = strstr(pack, "signature ");
    memcpy(psig, fsig, strcspn(fsig, "\n"));
    assert_int_equal(open_pack(pack, trusted, false, &info, &n, msg), VG_ECORRUPT);
    /* unsigned: refused unless allowed, and then reported as unsigned */
    char *unsig = vg_pack_write(p, 2, NULL, NULL, &err);
    assert_int_equal(open_pack(unsig, trusted, false, &info, &n, msg), VG_EINVAL);
    assert_non_null(strstr(msg, "not signed"));
    assert_int_equal(open_pack(unsig, trusted, true, &info, &n, msg), VG_OK);
    assert_false(info.is_signed);
    assert_int_equal(n, 2);
    /* a bad trusted-keys line is named; a secret key that is not one is refused */
    assert_int_equal(open_pack(pack, "ed25519 nope\n", false, &info, &n, msg), VG_EINVAL);
    assert_non_null(strstr(msg, "trusted-keys: line 1"));
    assert_null(vg_pack_write(p, 2, pub, "pubfile", &err));
    assert_non_null(strstr(err.msg, "pubfile"));
    free(unsig);
    free(forged);
    free(pack);
    free(sec);
    free(pub);
    free(sec2);
    free(pub2);
    vg_playbook_clear(&p[0]);
    vg_playbook_clear(&p[1]);
}

static void test_cacao_shape(void **state)
{
    (void)state;
    vg_playbook p;
    parse_ok(GOOD, &p);
    cJSON *a = vg_playbook_cacao(&p, 1700000000000), *b = vg_playbook_cacao(&p, 1700000000000);
    char *sa = cJSON_PrintUnformatted(a), *sb = cJSON_PrintUnformatted(b);
    assert_string_equal(sa, sb); /* reproducible */
    cJSON *wf = cJSON_GetObjectItem(a, "workflow");
    assert_int_equal(cJSON_GetArraySize(wf), 6); /* start, 4 actions, end */
    /* walk the chain: phases in order, then end */
    const char *at = cJSON_GetObjectItem(a, "workflow_start")->valuestring;
    const char *names[4] = {"identification: Headers (mandatory)", "identification: Trace",
                            "containment: Purge (mandatory)", "lessons_learned: Tune"};
    cJSON *step = cJSON_GetObjectItem(wf, at);
    for (int i = 0; i < 4; i++) {
        step = cJSON_GetObjectItem(wf, cJSON_GetObjectItem(step, "on_completion")->valuestring);
        assert_string_equal(cJSON_GetObjectItem(step, "type")->valuestring, "action");
        assert_string_equal(cJSON_GetObjectItem(step, "name")->valuestring, names[i]);
    }
    step = cJSON_GetObjectItem(wf, cJSON_GetObjectItem(step, "on_completion")->valuestring);
    assert_string_equal(cJSON_GetObjectItem(step, "type")->valuestring, "end");
    assert_non_null(strstr(sa, "\"created\":\"2023-11-14T22:13:20.000Z\""));
    cJSON_free(sa);
    cJSON_free(sb);
    cJSON_Delete(a);
    cJSON_Delete(b);
    vg_playbook_clear(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lint),
        cmocka_unit_test(test_library_lints),
        cmocka_unit_test_setup_teardown(test_apply_order_and_idempotence, setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_apply_failure_writes_nothing, setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_progress, setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_workspace_copies, setup, fx_teardown),
        cmocka_unit_test(test_copies_converge),
        cmocka_unit_test_setup_teardown(test_case_all_techniques, setup, fx_teardown),
        cmocka_unit_test(test_suggest),
        cmocka_unit_test(test_pack_signing_and_tampering),
        cmocka_unit_test(test_cacao_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
