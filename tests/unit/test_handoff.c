/*
 * test_handoff.c — task logs through the door (apply, refuse, replay), the mention
 * parser and the known users, mentions of a reader, the read marker, --since, and
 * the handoff derived from the op log (what is in each group, what is left out,
 * the order).
 */
#include "helpers.h"
#include "vigil/handoff.h"
#include "vigil/json.h"
#include "vigil/ledger.h"
#include "vigil/remote.h"

#define HOUR 3600000LL

typedef struct hfx {
    char *dir;
    vg_ws *ws;
    vg_id case_id, task_id;
} hfx;

static int setup(void **state)
{
    hfx *f = calloc(1, sizeof *f);
    f->dir = tmp_dir();
    char *p = path_in(f->dir, "ws.db");
    f->ws = open_ws(p, "alice");
    free(p);
    new_case(f->ws, "Phish at finance", "medium", f->case_id);
    vg_op *op = vg_op_task_add(f->case_id, "identification", "Check the mail gateway");
    memcpy(f->task_id, op->target, sizeof f->task_id);
    must_apply(f->ws, op);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    hfx *f = *state;
    vg_ws_close(f->ws);
    rm_tree(f->dir);
    free(f);
    return 0;
}

static void test_task_log_apply(void **state)
{
    hfx *f = *state;
    must_apply(f->ws, vg_op_task_log(f->case_id, f->task_id, "gateway logs pulled, @bob has them"));
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM task_logs"), 1);
    char *s = sql_text(f->ws, "SELECT author || '|' || body FROM task_logs");
    assert_string_equal(s, "alice|gateway logs pulled, @bob has them");
    free(s);
    /* the op carries the task's title, and the timeline has a row for it */
    s = sql_text(f->ws, "SELECT json_extract(vg_payload(payload), '$.title') FROM ops"
                        " WHERE kind = 'task.log'");
    assert_string_equal(s, "Check the mail gateway");
    free(s);
    s = sql_text(f->ws, "SELECT summary FROM events WHERE kind = 'task' ORDER BY recorded_at DESC,"
                        " id DESC LIMIT 1");
    assert_string_equal(s, "task 'Check the mail gateway' log by alice: gateway logs pulled,"
                           " @bob has them");
    free(s);
    /* long text is kept whole (the timeline shows its first line) */
    size_t big = 300000;
    char *text = malloc(big + 1);
    memset(text, 'x', big);
    text[big] = '\0';
    text[10] = '\n';
    must_apply(f->ws, vg_op_task_log(f->case_id, f->task_id, text));
    assert_int_equal(sql_int(f->ws, "SELECT max(length(body)) FROM task_logs"), (int64_t)big);
    free(text);
    vg_task_log *l = NULL;
    size_t n = 0;
    vg_err err = {0};
    assert_int_equal(vg_task_logs_of_case(f->ws, f->case_id, f->task_id, &l, &n, &err), VG_OK);
    assert_int_equal(n, 2);
    assert_string_equal(l[0].body, "gateway logs pulled, @bob has them"); /* oldest first */
    char *entry =
        sql_text(f->ws, "SELECT id FROM ops WHERE kind = 'task.log' ORDER BY seq LIMIT 1");
    assert_string_equal(l[0].id, entry); /* the op's id is the entry's */
    free(entry);
    vg_task_logs_free(l, n);
}

static void test_task_log_refused(void **state)
{
    hfx *f = *state;
    const char *m = must_fail(f->ws, vg_op_task_log(f->case_id, f->task_id, "  \n"), VG_EINVAL);
    assert_non_null(strstr(m, "text: must not be empty"));
    vg_op *op = vg_op_task_log(f->case_id, f->task_id, "x");
    cJSON_DeleteItemFromObject(op->payload, "text");
    m = must_fail(f->ws, op, VG_EINVAL);
    assert_non_null(strstr(m, "text: required"));
    /* a task of another case, or none */
    vg_id other;
    new_case(f->ws, "Other", "low", other);
    m = must_fail(f->ws, vg_op_task_log(other, f->task_id, "wrong case"), VG_ENOTFOUND);
    assert_non_null(strstr(m, "is not on this case"));
    vg_id nosuch;
    vg_ulid(vg_now_ms(), nosuch);
    must_fail(f->ws, vg_op_task_log(f->case_id, nosuch, "no task"), VG_ENOTFOUND);
    /* over the cap */
    char *text = malloc((1 << 20) + 2);
    memset(text, 'y', (1 << 20) + 1);
    text[(1 << 20) + 1] = '\0';
    m = must_fail(f->ws, vg_op_task_log(f->case_id, f->task_id, text), VG_EINVAL);
    assert_non_null(strstr(m, "longer than"));
    free(text);
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM task_logs"), 0);
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM ops WHERE kind = 'task.log'"), 0);
}

static void test_task_log_replay(void **state)
{
    hfx *f = *state;
    must_apply(f->ws, vg_op_task_log(f->case_id, f->task_id, "first"));
    vg_ws_set_actor(f->ws, "bob");
    must_apply(f->ws, vg_op_task_log(f->case_id, f->task_id, "second, by bob"));
    /* a replica given the ops (twice: the second time changes nothing) holds the same */
    char *p = path_in(f->dir, "replica.db");
    vg_ws *r = open_ws(p, "chen");
    free(p);
    copy_ops(f->ws, r, "ORDER BY seq");
    copy_ops(f->ws, r, "ORDER BY seq");
    char a[65], b[65];
    vg_err err = {0};
    assert_int_equal(vg_ws_digest(f->ws, a, &err), VG_OK);
    assert_int_equal(vg_ws_digest(r, b, &err), VG_OK);
    assert_string_equal(a, b);
    char *s = sql_text(r, "SELECT group_concat(author || ':' || body, '|') FROM"
                          " (SELECT * FROM task_logs ORDER BY created_at, id)");
    assert_string_equal(s, "alice:first|bob:second, by bob");
    free(s);
    vg_ws_close(r);
    /* audit verify --replay: the tables are what the log makes */
    char *scratch = path_in(f->dir, "scratch.db");
    int64_t ops;
    if (vg_audit_replay_check(f->ws, scratch, &ops, &err) != VG_OK)
        fail_msg("%s", err.msg);
    free(scratch);
    /* the case's JSON shows the log under its task */
    cJSON *j;
    assert_int_equal(vg_case_detail_json(f->ws, f->case_id, 0, &j, &err), VG_OK);
    cJSON *log = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "tasks"), 0), "log");
    assert_int_equal(cJSON_GetArraySize(log), 2);
    assert_string_equal(
        cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(log, 1), "author")), "bob");
    cJSON_Delete(j);
}

/* The names vg_mentions_each finds in text, joined with ','. */
static char found[512];
static void collect(void *ud, const char *name, size_t len)
{
    (void)ud;
    size_t k = strlen(found);
    snprintf(found + k, sizeof found - k, "%s%.*s", k ? "," : "", (int)len, name);
}

static const char *names_in(const char *text)
{
    found[0] = '\0';
    vg_mentions_each(text, collect, NULL);
    return found;
}

static void test_mention_parsing(void **state)
{
    (void)state;
    assert_string_equal(names_in("@bob, can you look?"), "bob");
    assert_string_equal(names_in("mail email@host.example please"), "");
    assert_string_equal(names_in("@@x"), "");
    assert_string_equal(names_in("(@carol) and @dave."), "carol,dave");
    assert_string_equal(names_in("ask @j.smith-"), "j.smith");
    assert_string_equal(names_in("@_svc @-x @.y @ alone"), "_svc");
    assert_string_equal(names_in("a+b@c @e"), "e");
    assert_string_equal(names_in("@bob@host"), ""); /* an address, not bob */
    assert_string_equal(names_in("line one\n@erin: see below"), "erin");
    assert_string_equal(names_in(""), "");
    char longname[80];
    memset(longname, 'a', sizeof longname);
    longname[0] = '@';
    longname[sizeof longname - 1] = '\0';
    assert_string_equal(names_in(longname), ""); /* over 64 bytes */
    assert_int_equal(vg_mentions_each("@a @b @c", NULL, NULL), 3);
    assert_true(vg_mentions_user("thanks @Alice!", "alice"));
    assert_false(vg_mentions_user("thanks @alice2", "alice"));
    assert_false(vg_mentions_user("alice@example.org", "alice"));
    assert_false(vg_mentions_user("@alice", ""));
}

static void test_known_users(void **state)
{
    hfx *f = *state;
    vg_ws_set_actor(f->ws, "bob");
    must_apply(f->ws, vg_op_note_add(f->case_id, "hello"));
    must_apply(f->ws, vg_op_case_set(f->case_id, "assignee", "chen"));
    vg_ws_set_actor(f->ws, "alice");
    char **u = NULL;
    size_t n = 0;
    vg_err err = {0};
    assert_int_equal(vg_users_known(f->ws, &u, &n, &err), VG_OK);
    assert_int_equal(n, 3);
    assert_string_equal(u[0], "alice");
    assert_string_equal(u[1], "bob");
    assert_string_equal(u[2], "chen");
    vg_strings_free(u, n);
    assert_int_equal(
        vg_mentions_unknown(f->ws, "@Chen @dave and @bob, @dave again, @erin", &u, &n, &err),
        VG_OK);
    assert_int_equal(n, 2);
    assert_string_equal(u[0], "dave");
    assert_string_equal(u[1], "erin");
    vg_strings_free(u, n);
    assert_int_equal(vg_mentions_unknown(f->ws, "no mention here", &u, &n, &err), VG_OK);
    assert_int_equal(n, 0);
}

static void test_roster(void **state)
{
    hfx *f = *state;
    vg_err err = {0};
    int64_t at;
    assert_int_equal(vg_roster_at(f->ws, "team", &at, &err), VG_OK);
    assert_int_equal(at, 0);
    const char *names[] = {"dave", "Bad Name", "erin", "", "x;drop"};
    assert_int_equal(vg_roster_put(f->ws, "team", names, 5, 1796000000000LL, &err), VG_OK);
    assert_int_equal(vg_roster_at(f->ws, "team", &at, &err), VG_OK);
    assert_int_equal(at, 1796000000000LL);
    /* the roster counts for the workspace's remote only */
    char **u = NULL;
    size_t n = 0;
    assert_int_equal(vg_mentions_unknown(f->ws, "@dave @erin", &u, &n, &err), VG_OK);
    assert_int_equal(n, 2);
    vg_strings_free(u, n);
    vg_remote r = {0};
    snprintf(r.name, sizeof r.name, "team");
    assert_int_equal(vg_remote_parse_url("http://127.0.0.1:8470", &r, &err), VG_OK);
    snprintf(r.user, sizeof r.user, "alice");
    snprintf(r.tenant, sizeof r.tenant, "acme");
    assert_int_equal(vg_remote_add(f->ws, &r, &err), VG_OK);
    assert_int_equal(vg_mentions_unknown(f->ws, "@dave @erin @zed", &u, &n, &err), VG_OK);
    assert_int_equal(n, 1);
    assert_string_equal(u[0], "zed");
    vg_strings_free(u, n);
    assert_int_equal(vg_users_known(f->ws, &u, &n, &err), VG_OK);
    for (size_t i = 0; i < n; i++)
        assert_null(strchr(u[i], ' ')); /* the bad names were left out */
    assert_int_equal(n, 3);             /* alice, dave, erin */
    vg_strings_free(u, n);
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM ops WHERE kind NOT IN"
                                    " ('case.create', 'task.add')"),
                     0);
}

static void test_mentions_of(void **state)
{
    hfx *f = *state;
    vg_ws_set_actor(f->ws, "bob");
    must_apply(f->ws, vg_op_note_add(f->case_id, "@alice please check"));
    must_apply(f->ws, vg_op_note_add(f->case_id, "@alice2 is someone else; alice@corp too"));
    usleep(3000); /* newest first is by the millisecond: the next one is later */
    must_apply(f->ws, vg_op_task_log(f->case_id, f->task_id, "done, over to @alice"));
    vg_ws_set_actor(f->ws, "alice");
    must_apply(f->ws, vg_op_note_add(f->case_id, "note to self @alice")); /* her own: not one */
    vg_mention *m = NULL;
    size_t n = 0;
    vg_err err = {0};
    assert_int_equal(vg_mentions_of(f->ws, "alice", 0, &m, &n, &err), VG_OK);
    assert_int_equal(n, 2);
    assert_true(m[0].task_log); /* newest first */
    assert_string_equal(m[0].task_title, "Check the mail gateway");
    assert_string_equal(m[1].body, "@alice please check");
    assert_string_equal(m[1].author, "bob");
    assert_int_equal(m[1].case_ref, 1);
    int64_t newest = m[0].at;
    vg_mentions_free(m, n);
    assert_int_equal(vg_mentions_of(f->ws, "alice", newest + 1, &m, &n, &err), VG_OK);
    assert_int_equal(n, 0);
    /* the read marker: local, moves forward only */
    int64_t seen;
    assert_int_equal(vg_mentions_seen(f->ws, "alice", &seen, &err), VG_OK);
    assert_int_equal(seen, 0);
    assert_int_equal(vg_mentions_mark(f->ws, "alice", newest, &err), VG_OK);
    assert_int_equal(vg_mentions_mark(f->ws, "alice", newest - 5, &err), VG_OK);
    assert_int_equal(vg_mentions_seen(f->ws, "alice", &seen, &err), VG_OK);
    assert_int_equal(seen, newest);
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM ops WHERE kind LIKE 'mention%'"), 0);
}

/* A stamped op of actor at ms, from origin. */
static void at(vg_ws *ws, const char *kind, const char *target, int64_t ms, const char *actor,
               const char *json)
{
    static const char origin[] = "01M8ZZZZZZZZZZZZZZZZZZZZZZ";
    static uint64_t bump;
    vg_op *op = stamped(kind, target, ((uint64_t)ms << 16) + ++bump, origin, json);
    free(op->actor);
    op->actor = strdup(actor);
    must_apply(ws, op);
}

static size_t in_group(const vg_handoff_item *it, size_t n, int kind)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += it[i].kind == kind;
    return k;
}

static void test_handoff_derivation(void **state)
{
    hfx *f = *state;
    int64_t now = vg_now_ms();
    vg_id old, c2, c3, t2;
    vg_ulid(now - 30 * HOUR, old);
    vg_ulid(now - 3 * HOUR, c2);
    vg_ulid(now - 2 * HOUR, c3);
    vg_ulid(now - 2 * HOUR, t2);
    char js[400];
    /* before the window: opened 30 h ago, escalated 20 h ago (neither listed) */
    at(f->ws, "case.create", old, now - 30 * HOUR, "bob",
       "{\"title\":\"Old case\",\"severity\":\"low\"}");
    snprintf(js, sizeof js, "{\"field\":\"severity\",\"value\":\"high\",\"old\":\"low\"}");
    at(f->ws, "case.set", old, now - 20 * HOUR, "bob", js);
    /* in the window */
    at(f->ws, "case.create", c2, now - 3 * HOUR, "bob",
       "{\"title\":\"Beacon from ws-12\",\"severity\":\"high\"}");
    at(f->ws, "case.create", c3, now - 2 * HOUR, "chen",
       "{\"title\":\"Spray on VPN\",\"severity\":\"low\"}");
    at(f->ws, "case.set", c3, now - 90 * 60000, "chen",
       "{\"field\":\"severity\",\"value\":\"critical\",\"old\":\"low\"}");
    /* lowered: not listed */
    at(f->ws, "case.set", c3, now - 80 * 60000, "chen",
       "{\"field\":\"severity\",\"value\":\"medium\",\"old\":\"critical\"}");
    at(f->ws, "case.set", c2, now - 70 * 60000, "bob",
       "{\"field\":\"assignee\",\"value\":\"alice\",\"old\":\"\"}");
    snprintf(js, sizeof js,
             "{\"case\":\"%s\",\"phase\":\"containment\",\"title\":\"Isolate ws-12\"}", c2);
    at(f->ws, "task.add", t2, now - 60 * 60000, "bob", js);
    snprintf(js, sizeof js,
             "{\"case\":\"%s\",\"field\":\"status\",\"value\":\"done\","
             "\"title\":\"Isolate ws-12\",\"old\":\"todo\"}",
             c2);
    at(f->ws, "task.set", t2, now - 50 * 60000, "bob", js);
    at(f->ws, "case.set", old, now - 40 * 60000, "bob",
       "{\"field\":\"status\",\"value\":\"closed\",\"resolution\":\"false_positive\","
       "\"old\":\"new\"}");
    snprintf(js, sizeof js, "{\"case\":\"%s\",\"body\":\"@alice the EDR agrees\"}", c2);
    vg_id note;
    vg_ulid(now - 30 * 60000, note);
    at(f->ws, "note.add", note, now - 30 * 60000, "bob", js);
    /* a proposal of alice's waiting */
    vg_id s1;
    vg_ulid(now, s1);
    vg_op *lp = vg_op_ledger_add(c2, s1, "alice", "proposal", "qwen",
                                 "{\"id\":\"01M8PROPOSAL0000000000000A\",\"type\":\"set_severity\","
                                 "\"params\":{\"severity\":\"critical\"},"
                                 "\"preview\":\"severity high -> critical\"}");
    must_apply(f->ws, lp);

    int64_t sla[5] = {0, 0, 0, 4 * HOUR, 1 * HOUR}; /* high: 4 h */
    vg_handoff_opts o = {.reader = "alice",
                         .since = now - 8 * HOUR,
                         .now = now,
                         .sla_ms = sla,
                         .sla_window = 8 * HOUR};
    vg_handoff_item *it = NULL;
    size_t n = 0;
    vg_err err = {0};
    assert_int_equal(vg_handoff(f->ws, &o, &it, &n, &err), VG_OK);
    assert_int_equal(in_group(it, n, VG_HO_MENTION), 1);
    assert_int_equal(in_group(it, n, VG_HO_SLA), 1); /* c2: high, opened 3 h ago */
    assert_int_equal(in_group(it, n, VG_HO_PROPOSAL), 1);
    assert_int_equal(in_group(it, n, VG_HO_ESCALATED), 1);
    /* c2, c3 and the fixture's case (made just now, by the test) */
    assert_int_equal(in_group(it, n, VG_HO_OPENED), 3);
    assert_int_equal(in_group(it, n, VG_HO_REASSIGNED), 1);
    assert_int_equal(in_group(it, n, VG_HO_TASK_DONE), 1);
    assert_int_equal(in_group(it, n, VG_HO_CLOSED), 1);
    /* grouped in order, newest first within a group */
    for (size_t i = 1; i < n; i++) {
        assert_true(it[i - 1].kind <= it[i].kind);
        if (it[i - 1].kind == it[i].kind && it[i].kind != VG_HO_SLA)
            assert_true(it[i - 1].at >= it[i].at);
    }
    for (size_t i = 0; i < n; i++) {
        const vg_handoff_item *x = &it[i];
        switch (x->kind) {
        case VG_HO_MENTION:
            assert_string_equal(x->text, "@alice the EDR agrees");
            assert_string_equal(x->actor, "bob");
            break;
        case VG_HO_SLA:
            assert_string_equal(x->case_id, c2);
            assert_int_equal(x->at, now - 3 * HOUR + 4 * HOUR);
            assert_non_null(strstr(x->text, "due in 1h"));
            break;
        case VG_HO_PROPOSAL:
            assert_non_null(strstr(x->text, "severity high -> critical"));
            break;
        case VG_HO_ESCALATED:
            assert_string_equal(x->case_id, c3);
            assert_string_equal(x->text, "low → critical");
            break;
        case VG_HO_REASSIGNED:
            assert_string_equal(x->text, "(nobody) → alice");
            break;
        case VG_HO_TASK_DONE:
            assert_string_equal(x->text, "Isolate ws-12");
            break;
        case VG_HO_CLOSED:
            assert_string_equal(x->case_id, old);
            assert_string_equal(x->text, "Old case (false_positive)");
            break;
        default:
            break;
        }
    }
    size_t first = 0;
    while (first < n && it[first].kind != VG_HO_OPENED)
        first++;
    assert_true(first < n);
    assert_string_equal(it[first].text, "Phish at finance (medium)"); /* the newest first */
    assert_string_equal(it[first + 2].text, "Beacon from ws-12 (high)");
    cJSON *j = vg_handoff_json(&o, it, n);
    cJSON *g = cJSON_GetObjectItem(j, "groups");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(g, "opened")), 3);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(g, "closed")), 1);
    cJSON_Delete(j);
    vg_handoff_free(it, n);
    /* bob's view: not alice's mention nor her proposal */
    o.reader = "bob";
    assert_int_equal(vg_handoff(f->ws, &o, &it, &n, &err), VG_OK);
    assert_int_equal(in_group(it, n, VG_HO_MENTION), 0);
    assert_int_equal(in_group(it, n, VG_HO_PROPOSAL), 0);
    vg_handoff_free(it, n);
    /* a narrow window: only the last half hour, no SLA asked */
    o.since = now - 35 * 60000;
    o.sla_ms = NULL;
    o.reader = "alice";
    assert_int_equal(vg_handoff(f->ws, &o, &it, &n, &err), VG_OK);
    assert_int_equal(in_group(it, n, VG_HO_CLOSED), 0);
    assert_int_equal(in_group(it, n, VG_HO_SLA), 0);
    assert_int_equal(in_group(it, n, VG_HO_MENTION), 1);
    vg_handoff_free(it, n);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_task_log_apply),  T(test_task_log_refused),   T(test_task_log_replay),
        T(test_mention_parsing), T(test_known_users),        T(test_mentions_of),
        T(test_handoff_derivation), T(test_roster),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
