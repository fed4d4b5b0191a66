/*
 * test_attack.c — the ATT&CK table shipped in data/, the keyword map, the user's
 * table taking precedence, and conversion of a STIX bundle.
 */
#include "helpers.h"

#include "vg_config.h"
#include "vigil/attack.h"

#define DATA VG_SOURCEDIR "/data"
#define FIXTURES VG_SOURCEDIR "/tests/fixtures"

static vg_attack *load(const char *user)
{
    vg_attack *a = NULL;
    vg_err err = {0};
    if (vg_attack_load(user, DATA, &a, &err) != VG_OK)
        fail_msg("load: %s", err.msg);
    return a;
}

/* Write text to dir/name. */
static void write_in(const char *dir, const char *name, const char *text)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void expect_map(const vg_attack *a, const char *text, const char *want)
{
    const char *ids[16];
    size_t n = vg_attack_map_text(a, text, ids, 16);
    char got[256] = "";
    for (size_t i = 0; i < n && i < 16; i++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", i ? " " : "", ids[i]);
    if (strcmp(got, want) != 0)
        fail_msg("'%s': got '%s', wanted '%s'", text, got, want);
}

static void test_table(void **state)
{
    (void)state;
    vg_attack *a = load(NULL);
    assert_string_equal(vg_attack_version(a), "16.1");
    assert_int_equal(vg_attack_ntactics(a), 14);
    assert_true(vg_attack_ntechniques(a) >= 600);
    assert_string_equal(vg_attack_tactic_at(a, 0)->shortname, "reconnaissance");
    assert_string_equal(vg_attack_tactic_at(a, 13)->id, "TA0040");
    const vg_technique *t = vg_attack_get(a, "t1059.001");
    assert_non_null(t);
    assert_string_equal(t->id, "T1059.001");
    assert_string_equal(t->name, "PowerShell");
    assert_string_equal(t->parent, "T1059");
    int ex = vg_attack_tactic_find(a, "Execution");
    assert_int_equal(ex, vg_attack_tactic_find(a, "TA0002"));
    assert_int_equal(ex, vg_attack_primary_tactic(t));
    assert_int_equal(vg_attack_tactic_find(a, "command and control"),
                     vg_attack_tactic_find(a, "command-and-control"));
    assert_int_equal(vg_attack_tactic_find(a, "nonsense"), -1);
    /* Valid Accounts sits in four tactics; its first in kill-chain order is initial access */
    t = vg_attack_get(a, "T1078");
    assert_int_equal(__builtin_popcount(t->tactics), 4);
    assert_int_equal(vg_attack_primary_tactic(t), vg_attack_tactic_find(a, "initial-access"));
    assert_string_equal(t->parent, "");
    /* the ids analysts meet most */
    static const char *const must[] = {"T1566.001", "T1566.002", "T1110.003", "T1486", "T1041",
        "T1567.002", "T1505.003", "T1133", "T1114.003", "T1534", "T1498", "T1499", "T1204.002",
        "T1003.001", "T1021.002", "T1547.001", "T1053.005", "T1071.004", "T1090", "T1105",
        "T1112", "T1136.001", "T1190", "T1210", "T1558.003", "T1562.001", "T1570", "T1027",
        "T1070.001", "T1098", "T1548.002", "T1055", "T1218.011", "T1569.002", "T1047",
        "T1543.003", "T1572", "T1573", "T1583.001", "T1588.002"};
    for (size_t i = 0; i < sizeof must / sizeof *must; i++)
        if (!vg_attack_known(a, must[i]))
            fail_msg("%s is not in the table", must[i]);
    assert_false(vg_attack_known(a, "T9999"));
    assert_false(vg_attack_known(a, "T1059.1"));
    assert_false(vg_attack_id_valid("T10590"));
    assert_true(vg_attack_id_valid("T1059.001"));
    /* every tactic has techniques; the listing is in id order, parents first */
    for (size_t ti = 0; ti < vg_attack_ntactics(a); ti++) {
        const vg_technique *l[8];
        assert_true(vg_attack_by_tactic(a, (int)ti, l, 8) > 0);
    }
    for (size_t i = 1; i < vg_attack_ntechniques(a); i++) {
        const vg_technique *p = vg_attack_technique_at(a, i - 1), *q = vg_attack_technique_at(a, i);
        assert_true(strcmp(p->id, q->id) < 0);
        if (*q->parent)
            assert_true(vg_attack_known(a, q->parent));
    }
    vg_attack_free(a);
}

static void test_keywords(void **state)
{
    (void)state;
    vg_attack *a = load(NULL);
    expect_map(a, "PowerShell encoded command", "T1027.010 T1059.001");
    expect_map(a, "Possible PASSWORD-SPRAY against O365", "T1110.003");
    expect_map(a, "Password spraying against O365", "T1110.003");
    expect_map(a, "passwordspray", "");
    expect_map(a, "Kerberoasting: many TGS requests (RC4)", "T1558.003");
    expect_map(a, "mimikatz sekurlsa::logonpasswords", "T1003.001");
    expect_map(a, "Suspicious access to LSASS memory", "T1003.001");
    expect_map(a, "lsassy module loaded", "");       /* whole words only */
    expect_map(a, "PsExec service installed on host", "T1021.002 T1569.002");
    expect_map(a, "New Scheduled-Task created", "T1053.005");
    expect_map(a, "scheduled_task_created", "T1053.005");
    expect_map(a, "Rule T1486 fired; see also t1490", "T1486 T1490");
    expect_map(a, "T9999 and T1059.0011 are not ids", "");
    expect_map(a, "", "");
    /* the sub-technique wins over its parent */
    expect_map(a, "Credential phishing: spearphishing link to O365 login", "T1566.002");
    expect_map(a, "Brute force: password spray", "T1110.003");
    expect_map(a, "Brute force on RDP", "T1021.001 T1110");
    /* the answer is sorted and has no repeats */
    expect_map(a, "mimikatz lsass mimikatz", "T1003.001");
    const char *one[1];
    assert_true(vg_attack_map_text(a, "psexec", one, 1) == 2); /* the count, not the cap */
    assert_string_equal(one[0], "T1021.002");
    vg_attack_free(a);
}

static void test_user_table_first(void **state)
{
    (void)state;
    char *dir = tmp_dir();
    write_in(dir, "attack-enterprise.tsv", "version\t99\ntactic\tTA0002\texecution\tExecution\n"
                  "technique\tT1059\tCommand and Scripting Interpreter\texecution\n"
                  "technique\tT1059.001\tPowerShell\texecution\tT1059\n");
    vg_attack *a = load(dir);
    assert_string_equal(vg_attack_version(a), "99");
    assert_int_equal(vg_attack_ntechniques(a), 2);
    assert_non_null(strstr(vg_attack_source(a), dir));
    /* the shipped keyword map refers to techniques this table lacks: those are
     * skipped, the rest still map */
    expect_map(a, "powershell encoded command; lsass", "T1059.001");
    vg_attack_free(a);
    rm_tree(dir);
}

static void expect_bad(const char *tsv, const char *msg)
{
    vg_err err = {0};
    assert_int_equal(vg_attack_check_tsv(tsv, "t.tsv", &err), VG_EINVAL);
    if (!strstr(err.msg, msg))
        fail_msg("'%s' lacks '%s'", err.msg, msg);
}

static void test_bad_table(void **state)
{
    (void)state;
    const char *tac = "tactic\tTA0002\texecution\tExecution\n";
    char buf[512];
    expect_bad("tactic\tTA0002\texecution\n", "t.tsv:1: expected");
    snprintf(buf, sizeof buf, "%stechnique\tT1059\tX\tnope\n", tac);
    expect_bad(buf, "t.tsv:2: T1059: unknown tactic 'nope'");
    snprintf(buf, sizeof buf, "%stechnique\tT1059.001\tX\texecution\n", tac);
    expect_bad(buf, "parent '' does not fit");
    snprintf(buf, sizeof buf, "%stechnique\tT1059.001\tX\texecution\tT1059\n", tac);
    expect_bad(buf, "parent T1059 is not in the table");
    snprintf(buf, sizeof buf, "%stechnique\tT1059\tX\texecution\ntechnique\tT1059\tY\texecution\n", tac);
    expect_bad(buf, "T1059 is listed twice");
    snprintf(buf, sizeof buf, "%stechnique\tX1059\tX\texecution\n", tac);
    expect_bad(buf, "'X1059' is not a technique id");
    expect_bad("# nothing\n", "no tactics or no techniques");
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    vg_buf b;
    vg_buf_init(&b, 1 << 20);
    vg_err err = {0};
    assert_int_equal(vg_buf_read_file(&b, f, path, &err), VG_OK);
    fclose(f);
    return vg_buf_take(&b);
}

static void test_stix(void **state)
{
    (void)state;
    char *json = slurp(FIXTURES "/attack-mini-bundle.json");
    vg_buf tsv;
    vg_buf_init(&tsv, 1 << 20);
    size_t n = 0;
    vg_err err = {0};
    if (vg_attack_from_stix(json, strlen(json), &tsv, &n, &err) != VG_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(n, 7); /* revoked, deprecated and CAPEC patterns skipped */
    assert_int_equal(vg_attack_check_tsv(vg_buf_str(&tsv), "converted", &err), VG_OK);
    const char *s = vg_buf_str(&tsv);
    assert_non_null(strstr(s, "version\t15.1\n"));
    /* the matrix orders the tactics; the deprecated one is gone */
    const char *ia = strstr(s, "TA0001"), *ex = strstr(s, "TA0002"), *ca = strstr(s, "TA0006");
    assert_true(ia && ex && ca && ia < ex && ex < ca);
    assert_null(strstr(s, "TA0099"));
    assert_null(strstr(s, "T1086"));
    assert_null(strstr(s, "T1064"));
    assert_non_null(strstr(s, "technique\tT1566.002\tSpearphishing Link\tinitial-access\tT1566\n"));
    assert_non_null(strstr(s, "technique\tT1078\tValid Accounts\tinitial-access,credential-access\n"));

    /* the converted table loads and takes precedence over the shipped one */
    char *dir = tmp_dir();
    write_in(dir, "attack-enterprise.tsv", s);
    vg_attack *a = load(dir);
    assert_string_equal(vg_attack_version(a), "15.1");
    assert_int_equal(vg_attack_ntechniques(a), 7);
    assert_int_equal(vg_attack_primary_tactic(vg_attack_get(a, "T1059.001")), 1);
    vg_attack_free(a);
    rm_tree(dir);

    /* errors name what is wrong */
    vg_buf_reset(&tsv);
    assert_int_equal(vg_attack_from_stix("{\"type\":\"bundle\"", 16, &tsv, &n, &err), VG_EINVAL);
    assert_non_null(strstr(err.msg, "not valid JSON"));
    const char *no_tac = "{\"type\":\"bundle\",\"objects\":[]}";
    assert_int_equal(vg_attack_from_stix(no_tac, strlen(no_tac), &tsv, &n, &err), VG_EINVAL);
    assert_non_null(strstr(err.msg, "no x-mitre-tactic"));
    const char *bad_sub = "{\"type\":\"bundle\",\"objects\":[{\"type\":\"x-mitre-tactic\",\"id\":\"x\","
        "\"name\":\"E\",\"x_mitre_shortname\":\"e\",\"external_references\":[{\"source_name\":"
        "\"mitre-attack\",\"external_id\":\"TA0002\"}]},{\"type\":\"attack-pattern\",\"name\":\"P\","
        "\"x_mitre_is_subtechnique\":true,\"external_references\":[{\"source_name\":"
        "\"mitre-attack\",\"external_id\":\"T1059\"}]}]}";
    assert_int_equal(vg_attack_from_stix(bad_sub, strlen(bad_sub), &tsv, &n, &err), VG_EINVAL);
    assert_non_null(strstr(err.msg, "T1059: x_mitre_is_subtechnique"));
    vg_buf_free(&tsv);
    free(json);
}

static void test_seen(void **state)
{
    (void)state;
    char *dir = tmp_dir(), *p = path_in(dir, "ws.db");
    vg_ws *ws = open_ws(p, "ana");
    vg_err err = {0};
    for (int i = 0; i < 2; i++) {
        vg_op *op = vg_op_case_create("x", NULL, NULL);
        cJSON *t = cJSON_AddArrayToObject(op->payload, "techniques");
        cJSON_AddItemToArray(t, cJSON_CreateString("T1059.001"));
        if (i)
            cJSON_AddItemToArray(t, cJSON_CreateString("t1486"));
        must_apply(ws, op);
    }
    /* alerts: two with the same list, one naming its technique twice, in two cases */
    static const char *const lists[] = {"[\"T1059.001\", \"T1071\"]",
                                        "[\"T1059.001\", \"T1071\"]",
                                        "[\"t1071\", \"T1071\"]"};
    for (int i = 0; i < 3; i++) {
        char ref[16];
        snprintf(ref, sizeof ref, "r%d", i);
        vg_op *op = vg_op_new("alert.add", NULL);
        cJSON_AddStringToObject(op->payload, "source", "test");
        cJSON_AddStringToObject(op->payload, "source_ref", ref);
        cJSON_AddStringToObject(op->payload, "title", "Beacon");
        cJSON_AddNumberToObject(op->payload, "event_time", 1731000000000.0 + i);
        cJSON_AddItemToObject(op->payload, "techniques", cJSON_Parse(lists[i]));
        must_apply(ws, op);
    }
    vg_attack_seen *s = NULL;
    size_t n = 0;
    assert_int_equal(vg_attack_seen_list(ws, &s, &n, &err), VG_OK);
    assert_int_equal(n, 3);
    assert_string_equal(s[0].id, "T1059.001");
    assert_int_equal(s[0].cases, 2);
    assert_int_equal(s[0].alerts, 2);
    assert_string_equal(s[1].id, "T1071");
    assert_int_equal(s[1].cases, 0);
    assert_int_equal(s[1].alerts, 3); /* the third alert once, for all it says it twice */
    assert_string_equal(s[2].id, "T1486");
    assert_int_equal(s[2].cases, 1);
    assert_int_equal(s[2].alerts, 0);
    free(s);
    vg_ws_close(ws);
    rm_tree(dir);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_keywords),
        cmocka_unit_test(test_user_table_first),
        cmocka_unit_test(test_bad_table),
        cmocka_unit_test(test_stix),
        cmocka_unit_test(test_seen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
