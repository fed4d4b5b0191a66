/*
 * test_fields.c — custom fields and case templates in the core: the type check of
 * each type, definitions through the door (local and received, redefinition, a
 * removal's tombstone in either order), values on case.create (defaults, required)
 * and case.set (checked locally, kept as sent when received, last writer wins
 * whatever the order), the queue's field terms, and templates (parsing with file,
 * key and line in messages, the check against a workspace, the title pattern, a new
 * case with its playbooks in one batch).
 */
#include "helpers.h"
#include "vg_config.h"
#include "vigil/fields.h"
#include "vigil/template.h"

#define ORIGIN_A "01AAAAAAAAAAAAAAAAAAAAAAAA"
#define ORIGIN_B "01BBBBBBBBBBBBBBBBBBBBBBBB"
#define HLC(ms) ((uint64_t)(ms) << 16)

static vg_field_def def_of(const char *json)
{
    cJSON *j = cJSON_Parse(json);
    vg_field_def d;
    vg_err err = {0};
    if (vg_field_def_from_json(j, &d, &err) != VG_OK)
        fail_msg("%s: %s", json, err.msg);
    cJSON_Delete(j);
    return d;
}

static char *norm(const vg_field_def *d, const char *in, vg_rc want, char *msg, size_t n)
{
    char *out = NULL;
    vg_err err = {0};
    vg_rc rc = vg_field_normalise(d, in, NULL, &out, &err);
    if (rc != want)
        fail_msg("%s: wanted %d, got %d (%s)", in, want, rc, err.msg);
    if (msg)
        snprintf(msg, n, "%s", err.msg);
    return out;
}

static void test_normalise(void **state)
{
    (void)state;
    char msg[512], *v;
    vg_field_def num = def_of("{\"name\":\"loss\",\"type\":\"number\"}");
    assert_string_equal(v = norm(&num, "1e3", VG_OK, NULL, 0), "1000"), free(v);
    assert_string_equal(v = norm(&num, "12.50", VG_OK, NULL, 0), "12.5"), free(v);
    assert_string_equal(v = norm(&num, "-0", VG_OK, NULL, 0), "0"), free(v);
    assert_null(norm(&num, "lots", VG_EINVAL, msg, sizeof msg));
    assert_string_equal(msg,
                        "field loss: 'lots' is not a number (number expected, as 1000 or 12.5)");
    assert_null(norm(&num, "inf", VG_EINVAL, NULL, 0));
    assert_null(norm(&num, "1e999", VG_EINVAL, NULL, 0));
    assert_null(norm(&num, "", VG_EINVAL, NULL, 0));
    vg_field_def date = def_of("{\"name\":\"seen\",\"type\":\"date\"}");
    assert_string_equal(v = norm(&date, "2026-11-03", VG_OK, NULL, 0), "2026-11-03"), free(v);
    assert_string_equal(v = norm(&date, "2026-11-03T14:02:00+01:00", VG_OK, NULL, 0),
                        "2026-11-03T13:02:00Z"),
        free(v);
    assert_null(norm(&date, "03/11/2026", VG_EINVAL, msg, sizeof msg));
    assert_non_null(strstr(msg, "is not a date (date expected"));
    vg_field_def b = def_of("{\"name\":\"ok\",\"type\":\"bool\"}");
    assert_string_equal(v = norm(&b, "YES", VG_OK, NULL, 0), "true"), free(v);
    assert_string_equal(v = norm(&b, "0", VG_OK, NULL, 0), "false"), free(v);
    assert_null(norm(&b, "maybe", VG_EINVAL, NULL, 0));
    vg_field_def e = def_of("{\"name\":\"unit\",\"type\":\"enum\",\"values\":[\"a\",\"b\"]}");
    assert_string_equal(v = norm(&e, "b", VG_OK, NULL, 0), "b"), free(v);
    assert_null(norm(&e, "B", VG_EINVAL, msg, sizeof msg));
    assert_string_equal(msg, "field unit: 'B' is not one of a, b");
    vg_field_def s = def_of("{\"name\":\"t\",\"type\":\"string\"}");
    assert_null(norm(&s, "\xff", VG_EINVAL, NULL, 0));
    char *big = malloc(VG_FIELD_MAX_VALUE + 2);
    memset(big, 'x', VG_FIELD_MAX_VALUE + 1);
    big[VG_FIELD_MAX_VALUE + 1] = '\0';
    assert_null(norm(&s, big, VG_EINVAL, NULL, 0));
    free(big);
    vg_field_def_clear(&num), vg_field_def_clear(&date), vg_field_def_clear(&b);
    vg_field_def_clear(&e), vg_field_def_clear(&s);
    assert_false(vg_field_name_ok("Loss"));
    assert_false(vg_field_name_ok("9lives"));
    assert_false(vg_field_name_ok("a-b"));
    assert_true(vg_field_name_ok("business_unit2"));
}

static void test_definitions(void **state)
{
    (void)state;
    char *dir = tmp_dir(), *p = path_in(dir, "ws.db");
    vg_ws *ws = open_ws(p, "alice");
    vg_field_def d = def_of("{\"name\":\"unit\",\"type\":\"enum\",\"values\":[\"a\",\"b\"],"
                            "\"required\":true,\"default\":\"a\",\"description\":\"who\"}");
    must_apply(ws, vg_op_field_define(&d));
    /* the same definition again writes nothing */
    int64_t ops = sql_int(ws, "SELECT count(*) FROM ops");
    vg_op *op = vg_op_field_define(&d);
    assert_int_equal(vg_apply(ws, op, &(vg_err){0}), VG_OK);
    assert_int_equal(op->seq, 0);
    vg_op_free(op);
    assert_int_equal(sql_int(ws, "SELECT count(*) FROM ops"), ops);
    vg_field_def_clear(&d);
    vg_field_def got;
    assert_int_equal(vg_field_def_get(ws, "unit", &got, &(vg_err){0}), VG_OK);
    assert_int_equal(got.type, VG_FT_ENUM);
    assert_int_equal(got.nvalues, 2);
    assert_true(got.required);
    assert_string_equal(got.def, "a");
    vg_field_def_clear(&got);
    /* bad definitions through the door: nothing written */
    op = vg_op_new("field.define", NULL);
    cJSON_AddStringToObject(op->payload, "name", "x");
    cJSON_AddStringToObject(op->payload, "type", "number");
    cJSON_AddStringToObject(op->payload, "default", "ten");
    assert_string_equal(must_fail(ws, op, VG_EINVAL), "field x: default: 'ten' is not a number"
                                                      " (number expected, as 1000 or 12.5)");
    op = vg_op_new("field.define", NULL);
    cJSON_AddStringToObject(op->payload, "name", "x");
    cJSON_AddStringToObject(op->payload, "type", "string");
    cJSON_AddStringToObject(op->payload, "colour", "red");
    assert_non_null(strstr(must_fail(ws, op, VG_EINVAL), "'colour' is not a member"));
    assert_string_equal(must_fail(ws, vg_op_field_remove("nosuch"), VG_ENOTFOUND),
                        "'nosuch' is not a custom field of this workspace (vigil field ls lists"
                        " them)");
    assert_int_equal(sql_int(ws, "SELECT count(*) FROM ops"), ops);
    /* remove: hidden, not listed */
    must_apply(ws, vg_op_field_remove("unit"));
    vg_field_def *all;
    size_t n;
    assert_int_equal(vg_field_defs(ws, &all, &n, &(vg_err){0}), VG_OK);
    assert_int_equal(n, 0);
    vg_field_defs_free(all, n);
    vg_ws_close(ws);
    free(p);
    rm_tree(dir);
}

/* A definition and a removal met in either order leave the same row. */
static void test_define_remove_converge(void **state)
{
    (void)state;
    char *dir = tmp_dir(), *p1 = path_in(dir, "a.db"), *p2 = path_in(dir, "b.db");
    vg_ws *a = open_ws(p1, "x"), *b = open_ws(p2, "x");
    const char *def = "{\"name\":\"loss\",\"type\":\"number\",\"default\":\"5\"}";
    const char *redef = "{\"name\":\"loss\",\"type\":\"string\"}";
    const char *rm = "{\"name\":\"loss\"}";
    /* a: define(1), remove(3), redefine(2); b: remove(3), redefine(2), define(1) */
    must_apply(a, stamped("field.define", NULL, HLC(1000), ORIGIN_A, def));
    must_apply(a, stamped("field.remove", NULL, HLC(3000), ORIGIN_B, rm));
    must_apply(a, stamped("field.define", NULL, HLC(2000), ORIGIN_B, redef));
    must_apply(b, stamped("field.remove", NULL, HLC(3000), ORIGIN_B, rm));
    must_apply(b, stamped("field.define", NULL, HLC(2000), ORIGIN_B, redef));
    must_apply(b, stamped("field.define", NULL, HLC(1000), ORIGIN_A, def));
    char da[65], db[65];
    assert_int_equal(vg_ws_digest(a, da, &(vg_err){0}), VG_OK);
    assert_int_equal(vg_ws_digest(b, db, &(vg_err){0}), VG_OK);
    assert_string_equal(da, db);
    assert_int_equal(sql_int(a, "SELECT removed FROM field_defs WHERE name = 'loss'"), 1);
    /* a later definition brings it back */
    must_apply(a, stamped("field.define", NULL, HLC(4000), ORIGIN_A, redef));
    char *t = sql_text(a, "SELECT type FROM field_defs WHERE name = 'loss' AND removed = 0");
    assert_string_equal(t, "string");
    free(t);
    vg_ws_close(a);
    vg_ws_close(b);
    free(p1);
    free(p2);
    rm_tree(dir);
}

static void test_values(void **state)
{
    (void)state;
    char *dir = tmp_dir(), *p = path_in(dir, "ws.db");
    vg_ws *ws = open_ws(p, "alice");
    vg_field_def d1 = def_of("{\"name\":\"unit\",\"type\":\"enum\",\"values\":[\"a\",\"b\"],"
                             "\"default\":\"a\"}");
    vg_field_def d2 = def_of("{\"name\":\"loss\",\"type\":\"number\"}");
    vg_field_def d3 = def_of("{\"name\":\"owner\",\"type\":\"string\",\"required\":true}");
    must_apply(ws, vg_op_field_define(&d1));
    must_apply(ws, vg_op_field_define(&d2));
    vg_field_def_clear(&d1), vg_field_def_clear(&d2);
    /* correlation's create (no fields): defaults only */
    vg_id c1, c2;
    new_case(ws, "auto", NULL, c1);
    vg_field_value *v;
    size_t n;
    assert_int_equal(vg_case_fields(ws, c1, &v, &n, &(vg_err){0}), VG_OK);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].name, "unit");
    assert_string_equal(v[0].value, "a");
    vg_field_values_free(v, n);
    /* an analyst's, with a required field that has no default */
    must_apply(ws, vg_op_field_define(&d3));
    vg_field_def_clear(&d3);
    vg_op *op = vg_op_case_create("mine", NULL, NULL);
    cJSON *f = cJSON_AddObjectToObject(op->payload, "fields");
    cJSON_AddNumberToObject(f, "loss", 12.5);
    assert_string_equal(must_fail(ws, op, VG_EINVAL),
                        "fields.owner: required (a string) and has no default: give it a value");
    op = vg_op_case_create("mine", NULL, NULL);
    f = cJSON_AddObjectToObject(op->payload, "fields");
    cJSON_AddStringToObject(f, "loss", "x");
    cJSON_AddStringToObject(f, "owner", "bob");
    assert_string_equal(must_fail(ws, op, VG_EINVAL),
                        "fields.loss: 'x' is not a number (number expected, as 1000 or 12.5)");
    op = vg_op_case_create("mine", NULL, NULL);
    f = cJSON_AddObjectToObject(op->payload, "fields");
    cJSON_AddNumberToObject(f, "loss", 12.5);
    cJSON_AddStringToObject(f, "owner", "bob");
    memcpy(c2, op->target, sizeof c2);
    must_apply(ws, op);
    cJSON *j;
    assert_int_equal(vg_case_fields_json(ws, c2, &j, &(vg_err){0}), VG_OK);
    char *s = cJSON_PrintUnformatted(j);
    assert_string_equal(s, "{\"loss\":12.5,\"owner\":\"bob\",\"unit\":\"a\"}");
    cJSON_free(s);
    cJSON_Delete(j);
    /* case.set: checked, old recorded, required not cleared, unknown refused */
    assert_string_equal(must_fail(ws, vg_op_field_set(c2, "unit", "c"), VG_EINVAL),
                        "field unit: 'c' is not one of a, b");
    assert_string_equal(must_fail(ws, vg_op_field_set(c2, "owner", NULL), VG_EINVAL),
                        "field owner is required: it can be changed, not cleared");
    assert_non_null(strstr(must_fail(ws, vg_op_field_set(c2, "nosuch", "1"), VG_EINVAL),
                           "'nosuch' is not a custom field"));
    assert_non_null(strstr(must_fail(ws, vg_op_field_set(c2, "Bad!", "1"), VG_EINVAL),
                           "not a custom field name"));
    must_apply(ws, vg_op_field_set(c2, "loss", "1e2"));
    char *old = sql_text(ws, "SELECT json_extract(vg_payload(payload), '$.old') FROM ops"
                             " ORDER BY seq DESC LIMIT 1");
    assert_string_equal(old, "12.5");
    free(old);
    char *sum = sql_text(ws, "SELECT summary FROM events ORDER BY recorded_at DESC, rowid DESC"
                             " LIMIT 1");
    assert_string_equal(sum, "field loss 12.5 → 100 by alice");
    free(sum);
    must_apply(ws, vg_op_field_set(c2, "loss", NULL));
    assert_int_equal(sql_int(ws, "SELECT count(*) FROM case_fields WHERE name = 'loss'"), 0);
    /* the queue's terms */
    must_apply(ws, vg_op_field_set(c1, "loss", "2000"));
    vg_case_query q;
    vg_case_list l;
    assert_int_equal(vg_case_query_parse("field.loss>=1000", NULL, &q, &(vg_err){0}), VG_OK);
    assert_int_equal(vg_cases_list(ws, &q.f, &l, &(vg_err){0}), VG_OK);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.items[0].id, c1);
    vg_case_list_free(&l);
    vg_case_query_clear(&q);
    assert_int_equal(vg_case_query_parse("!field.owner:BOB", NULL, &q, &(vg_err){0}), VG_OK);
    assert_int_equal(vg_cases_list(ws, &q.f, &l, &(vg_err){0}), VG_OK);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.items[0].id, c1);
    vg_case_list_free(&l);
    vg_case_query_clear(&q);
    vg_err err = {0};
    assert_int_equal(vg_case_query_parse("field.loss>x", NULL, &q, &err), VG_EINVAL);
    assert_int_equal(
        vg_case_query_parse("field.a:1 field.b:1 field.c:1 field.d:1 field.e:1", NULL, &q, &err),
        VG_EINVAL);
    assert_non_null(strstr(err.msg, "at most 4 field terms"));
    vg_ws_close(ws);
    free(p);
    rm_tree(dir);
}

/* Received values are kept as sent (no definition needed) and the later clock wins
 * whichever arrives first. */
static void test_values_converge(void **state)
{
    (void)state;
    char *dir = tmp_dir(), *p1 = path_in(dir, "a.db"), *p2 = path_in(dir, "b.db");
    vg_ws *a = open_ws(p1, "x"), *b = open_ws(p2, "x");
    vg_id c;
    vg_ulid(1, c);
    char create[200];
    snprintf(create, sizeof create, "{\"title\":\"t\",\"ref\":1,\"fields\":{\"loss\":\"1\"}}");
    const char *s1 = "{\"field\":\"field.loss\",\"value\":\"10\"}";
    const char *s2 = "{\"field\":\"field.loss\",\"value\":\"20\"}";
    const char *s3 = "{\"field\":\"field.unit\",\"value\":null}";
    /* the same four ops (same ids), the two sets in either order */
    vg_op *ops[4] = {stamped("case.create", c, HLC(1000), ORIGIN_A, create),
                     stamped("case.set", c, HLC(2000), ORIGIN_A, s1),
                     stamped("case.set", c, HLC(3000), ORIGIN_B, s2),
                     stamped("case.set", c, HLC(2500), ORIGIN_A, s3)};
    static const int order[2][4] = {{0, 1, 2, 3}, {0, 2, 3, 1}};
    vg_ws *ws[2] = {a, b};
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 4; k++) {
            const vg_op *o = ops[order[i][k]];
            char *json = cJSON_PrintUnformatted(o->payload);
            vg_op *x = stamped(o->kind, o->target, o->hlc, o->origin, json);
            memcpy(x->id, o->id, sizeof x->id);
            cJSON_free(json);
            must_apply(ws[i], x);
        }
    for (int k = 0; k < 4; k++)
        vg_op_free(ops[k]);
    char da[65], db[65];
    assert_int_equal(vg_ws_digest(a, da, &(vg_err){0}), VG_OK);
    assert_int_equal(vg_ws_digest(b, db, &(vg_err){0}), VG_OK);
    assert_string_equal(da, db);
    char *v = sql_text(a, "SELECT value FROM case_fields WHERE name = 'loss'");
    assert_string_equal(v, "20");
    free(v);
    /* a received op of the wrong shape is refused */
    assert_non_null(strstr(must_fail(a,
                                     stamped("case.set", c, HLC(5000), ORIGIN_B,
                                             "{\"field\":\"field.loss\",\"value\":[1]}"),
                                     VG_EINVAL),
                           "must be text, a number or a bool"));
    vg_ws_close(a);
    vg_ws_close(b);
    free(p1);
    free(p2);
    rm_tree(dir);
}

static void parse_fails(const char *text, const char *want)
{
    vg_template t;
    vg_err err = {0};
    assert_int_equal(vg_template_parse(text, strlen(text), "t.json", &t, &err), VG_EINVAL);
    if (!strstr(err.msg, want))
        fail_msg("wanted '%s' in '%s'", want, err.msg);
}

static void test_templates(void **state)
{
    (void)state;
    parse_fails("{\"id\":\"x\",\"name\":\"X\",\n\"title\":\"t\",\n\"colour\":1}",
                "t.json: line 3: colour: unknown key");
    parse_fails("{\"name\":\"X\",\"title\":\"t\"}", "t.json: id: required");
    parse_fails("{\"id\":\"X Y\",\"name\":\"X\",\"title\":\"t\"}", "is not an id");
    parse_fails("{\"id\":\"x\",\"name\":\"X\",\"title\":\"t\",\n\"tlp\":\"PURPLE\"}",
                "t.json: line 2: tlp: 'PURPLE' is not one of");
    parse_fails("{\"id\":\"x\",\"name\":\"X\",\"title\":\"t\",\"fields\":{\n\"a\":[1]}}",
                "t.json: line 2: fields.a: must be text, a number or a bool");
    parse_fails("{\"id\":\"x\",\"name\":\"X\",\"title\":\"t\",\"playbooks\":[\"../etc\"]}",
                "is not a playbook id");
    parse_fails("{\"id\":\"x\",\n\"name\":", "t.json: line 2: not valid JSON");
    char *dir = tmp_dir(), *p = path_in(dir, "ws.db");
    vg_ws *ws = open_ws(p, "alice");
    vg_field_def d = def_of("{\"name\":\"loss\",\"type\":\"number\"}");
    must_apply(ws, vg_op_field_define(&d));
    vg_field_def_clear(&d);
    const char *text = "{\"id\":\"x\",\"name\":\"X\",\"title\":\"Case {title} on {date}\",\n"
                       "\"severity\":\"high\",\"tags\":[\"a\"],\"tlp\":\"RED\",\n"
                       "\"fields\":{\"loss\":\"lots\"},\"playbooks\":[\"phishing\"]}";
    vg_template t;
    vg_err err = {0};
    assert_int_equal(vg_template_parse(text, strlen(text), "x.json", &t, &err), VG_OK);
    const char *pbdir = VG_SOURCEDIR "/playbooks";
    assert_int_equal(vg_template_check(ws, &t, pbdir, &err), VG_EINVAL);
    assert_string_equal(err.msg, "x.json: line 3: fields.loss: 'lots' is not a number (number"
                                 " expected, as 1000 or 12.5)");
    cJSON_ReplaceItemInObject(t.fields, "loss", cJSON_CreateNumber(7));
    assert_int_equal(vg_template_check(ws, &t, pbdir, &err), VG_OK);
    char *title = vg_template_title(&t, "ws-1", 86400000LL * 366, &err);
    assert_string_equal(title, "Case ws-1 on 1971-01-02");
    assert_null(vg_template_title(&t, NULL, 0, &err));
    assert_non_null(strstr(err.msg, "needs a TITLE"));
    vg_id id;
    int64_t before = sql_int(ws, "SELECT count(*) FROM ops");
    assert_int_equal(vg_template_new_case(ws, &t, title, NULL, pbdir, id, &err), VG_OK);
    free(title);
    vg_case k;
    assert_int_equal(vg_case_get(ws, id, &k, &err), VG_OK);
    assert_int_equal(k.severity, VG_SEV_HIGH);
    assert_string_equal(k.tags, "[\"a\"]");
    assert_int_equal(k.tlp, 4);
    vg_case_clear(&k);
    assert_true(sql_int(ws, "SELECT count(*) FROM tasks") > 5);
    char *loss = sql_text(ws, "SELECT value FROM case_fields WHERE name = 'loss'");
    assert_string_equal(loss, "7");
    free(loss);
    /* an unknown playbook: nothing at all written */
    int64_t mid = sql_int(ws, "SELECT count(*) FROM ops");
    assert_true(mid > before + 5);
    free(t.playbooks[0]);
    t.playbooks[0] = strdup("nosuch");
    assert_int_equal(vg_template_check(ws, &t, pbdir, &err), VG_EINVAL);
    assert_non_null(strstr(err.msg, "playbooks[0]: 'nosuch' is not a playbook"));
    assert_int_equal(vg_template_new_case(ws, &t, "x", NULL, pbdir, id, &err), VG_EINVAL);
    assert_int_equal(sql_int(ws, "SELECT count(*) FROM ops"), mid);
    vg_template_clear(&t);
    /* the library: an earlier directory wins, user marked */
    const char *dirs[2] = {dir, VG_SOURCEDIR "/data/templates"};
    char *up = path_in(dir, "phishing.json");
    FILE *fp = fopen(up, "w");
    fputs("{\"id\":\"phishing\",\"name\":\"Ours\",\"title\":\"P\"}", fp);
    fclose(fp);
    free(up);
    vg_template *ts;
    size_t n;
    assert_int_equal(vg_template_library(dirs, 2, 1, &ts, &n, &err), VG_OK);
    const vg_template *ph = vg_template_find(ts, n, "phishing");
    assert_non_null(ph);
    assert_string_equal(ph->name, "Ours");
    assert_true(ph->user);
    assert_non_null(vg_template_find(ts, n, "malware"));
    assert_false(vg_template_find(ts, n, "malware")->user);
    vg_templates_free(ts, n);
    vg_ws_close(ws);
    free(p);
    rm_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalise),
        cmocka_unit_test(test_definitions),
        cmocka_unit_test(test_define_remove_converge),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_values_converge),
        cmocka_unit_test(test_templates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
