/*
 * test_apply.c — the one write door: validation (with nothing written on error),
 * merge rules, status times, timeline events, batches, the op log's hash chain and
 * the copilot ledger's entries as ledger.add ops.
 */
#include "helpers.h"
#include "vigil/ledger.h"

#include <time.h>


static int setup(void **state)
{
    fx *f = fx_new();
    new_case(f->ws, "Phishing: invoice lure", "medium", f->case_id);
    *state = f;
    return 0;
}


static int64_t ops(fx *f) { return sql_int(f->ws, "SELECT count(*) FROM ops"); }

static int64_t case_int(fx *f, const char *col)
{
    char *s = case_str(f, col);
    int64_t v = strtoll(s, NULL, 10);
    free(s);
    return v;
}

static void assert_case_str(fx *f, const char *col, const char *want)
{
    char *s = case_str(f, col);
    assert_string_equal(s, want);
    free(s);
}

/* The newest event's summary on the fixture case. */
static char *last_event(fx *f)
{
    vg_event *e;
    size_t n;
    vg_err err = {0};
    assert_int_equal(vg_timeline(f->ws, f->case_id, VG_BY_RECORDED, 0, &e, &n, &err), VG_OK);
    assert_true(n > 0);
    char *s = strdup(e[n - 1].summary);
    vg_events_free(e, n);
    return s;
}

static void test_create_defaults_and_refs(void **state)
{
    fx *f = *state;
    assert_int_equal(case_int(f, "ref"), 1);
    assert_case_str(f, "status", "new");
    assert_int_equal(case_int(f, "severity"), VG_SEV_MEDIUM);
    assert_case_str(f, "created_by", "alice");
    assert_int_equal(case_int(f, "created_at"), case_int(f, "updated_at"));
    vg_id second;
    new_case(f->ws, "Second", NULL, second);
    assert_int_equal(sql_int(f->ws, "SELECT max(ref) FROM cases"), 2);
    char *ev = last_event(f);
    assert_string_equal(ev, "case #1 opened by alice (severity medium)");
    free(ev);
}

static void test_set_records_old_value_and_event(void **state)
{
    fx *f = *state;
    int64_t before = case_int(f, "updated_at");
    must_apply(f->ws, vg_op_case_set(f->case_id, "severity", "high"));
    assert_int_equal(case_int(f, "severity"), VG_SEV_HIGH);
    assert_true(case_int(f, "updated_at") >= before);
    char *ev = last_event(f);
    assert_string_equal(ev, "severity medium → high by alice");
    free(ev);
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM ops WHERE kind = 'case.set'"
                                    " AND json_extract(vg_payload(payload), '$.old') = 'medium'"), 1);
}

static void test_bad_values_write_nothing(void **state)
{
    fx *f = *state;
    int64_t n = ops(f), events = sql_int(f->ws, "SELECT count(*) FROM events");
    const char *m = must_fail(f->ws, vg_op_case_set(f->case_id, "severity", "hgh"), VG_EINVAL);
    assert_string_equal(m, "severity: 'hgh' is not one of info, low, medium, high, critical");
    m = must_fail(f->ws, vg_op_case_set(f->case_id, "colour", "red"), VG_EINVAL);
    assert_non_null(strstr(m, "'colour' is not a case field; fields are title, description"));
    m = must_fail(f->ws, vg_op_case_set(f->case_id, "title", "   "), VG_EINVAL);
    assert_string_equal(m, "title: must not be empty");
    vg_op *op = vg_op_case_create("x", NULL, NULL);
    cJSON_ReplaceItemInObject(op->payload, "title", cJSON_CreateNumber(5));
    m = must_fail(f->ws, op, VG_EINVAL);
    assert_string_equal(m, "title: must be text");
    m = must_fail(f->ws, vg_op_note_add("01JZZZZZZZZZZZZZZZZZZZZZZZ", "hello"), VG_ENOTFOUND);
    assert_non_null(strstr(m, "no such case"));
    m = must_fail(f->ws, vg_op_artifact_add(f->case_id, "ipaddr", "1.2.3.4"), VG_EINVAL);
    assert_non_null(strstr(m, "type: 'ipaddr' is not one of ip, domain, url"));
    m = must_fail(f->ws, vg_op_task_add(f->case_id, "cleanup", "x"), VG_EINVAL);
    assert_non_null(strstr(m, "phase: 'cleanup' is not one of identification, containment"));
    op = vg_op_new("case.delete", f->case_id);
    m = must_fail(f->ws, op, VG_EINVAL);
    assert_string_equal(m, "unknown op kind 'case.delete'");
    assert_int_equal(ops(f), n);
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM events"), events);
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM cases"), 1);
}

static void test_status_lifecycle_times(void **state)
{
    fx *f = *state;
    assert_int_equal(case_int(f, "acknowledged_at"), 0);
    must_apply(f->ws, vg_op_case_set(f->case_id, "status", "in_progress"));
    int64_t ack = case_int(f, "acknowledged_at");
    assert_true(ack > 0);
    const char *m = must_fail(f->ws, vg_op_case_set(f->case_id, "status", "closed"), VG_EINVAL);
    assert_non_null(strstr(m, "closing a case needs a resolution: one of true_positive"));
    m = must_fail(f->ws, vg_op_case_close(f->case_id, "maybe"), VG_EINVAL);
    assert_non_null(strstr(m, "resolution: 'maybe' is not one of"));
    assert_case_str(f, "status", "in_progress");
    must_apply(f->ws, vg_op_case_close(f->case_id, "true_positive"));
    assert_case_str(f, "status", "closed");
    assert_case_str(f, "resolution", "true_positive");
    assert_true(case_int(f, "closed_at") >= ack);
    char *ev = last_event(f);
    assert_string_equal(ev, "status in_progress → closed (true_positive) by alice");
    free(ev);
    /* Reopening clears closed_at and the resolution; the first acknowledgement stays. */
    must_apply(f->ws, vg_op_case_set(f->case_id, "status", "in_progress"));
    assert_int_equal(case_int(f, "closed_at"), 0);
    assert_case_str(f, "resolution", "");
    assert_int_equal(case_int(f, "acknowledged_at"), ack);
    vg_op *op = vg_op_case_set(f->case_id, "status", "on_hold");
    cJSON_AddStringToObject(op->payload, "resolution", "benign");
    m = must_fail(f->ws, op, VG_EINVAL);
    assert_string_equal(m, "resolution: only a closed case has one");
}

/* vg_apply_all: every op in one batch, or none when one of them fails; NULL
 * entries skipped. */
static void test_apply_all(void **state)
{
    fx *f = *state;
    vg_err err = {0};
    int64_t n = ops(f);
    vg_op *bad[] = {vg_op_note_add(f->case_id, "first"), NULL,
                    vg_op_case_set(f->case_id, "severity", "urgent")};
    assert_int_equal(vg_apply_all(f->ws, bad, 3, &err), VG_EINVAL);
    assert_non_null(strstr(err.msg, "urgent"));
    assert_int_equal(ops(f), n); /* the note before it is not written either */
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM notes"), 0);
    vg_op *good[] = {vg_op_note_add(f->case_id, "first"), NULL,
                     vg_op_case_set(f->case_id, "severity", "high")};
    assert_int_equal(vg_apply_all(f->ws, good, 3, &err), VG_OK);
    assert_int_equal(ops(f), n + 2);
    assert_int_equal(case_int(f, "severity"), VG_SEV_HIGH);
    for (int i = 0; i < 3; i++) {
        vg_op_free(bad[i]);
        vg_op_free(good[i]);
    }
}

static void test_noop_set_writes_nothing(void **state)
{
    fx *f = *state;
    int64_t n = ops(f);
    vg_op *op = vg_op_case_set(f->case_id, "severity", "medium");
    vg_err err = {0};
    assert_int_equal(vg_apply(f->ws, op, &err), VG_OK);
    assert_int_equal(op->seq, 0);
    vg_op_free(op);
    assert_int_equal(ops(f), n);
}

static void test_lists_are_normalised(void **state)
{
    fx *f = *state;
    must_apply(f->ws, vg_op_case_set(f->case_id, "tags", " phish, vip ,phish,, "));
    assert_case_str(f, "tags", "[\"phish\",\"vip\"]");
    vg_case_list l;
    vg_case_filter q = {.tag = "vip", .limit = 10};
    vg_err err = {0};
    assert_int_equal(vg_cases_list(f->ws, &q, &l, &err), VG_OK);
    assert_int_equal(l.n, 1);
    vg_case_list_free(&l);
}

static void test_notes(void **state)
{
    fx *f = *state;
    must_apply(f->ws, vg_op_note_add(f->case_id, "The user clicked the link on their phone.\n"
                                                 "Second line."));
    const char *m = must_fail(f->ws, vg_op_note_add(f->case_id, " \n "), VG_EINVAL);
    assert_string_equal(m, "body: must not be empty");
    char *ev = last_event(f);
    assert_string_equal(ev, "note by alice: The user clicked the link on their phone.");
    free(ev);
    vg_note *n;
    size_t cnt;
    vg_err err = {0};
    assert_int_equal(vg_notes_of_case(f->ws, f->case_id, &n, &cnt, &err), VG_OK);
    assert_int_equal(cnt, 1);
    assert_string_equal(n[0].author, "alice");
    vg_notes_free(n, cnt);
}

static void test_artifacts_normalise_merge_and_tombstone(void **state)
{
    fx *f = *state;
    must_apply(f->ws, vg_op_artifact_add(f->case_id, "domain", "  Evil[.]Example. "));
    must_apply(f->ws, vg_op_artifact_add(f->case_id, "domain", "evil(.)example"));
    must_apply(f->ws, vg_op_artifact_add(f->case_id, "url", "hxxps[:]//evil[.]example/Login"));
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM artifacts WHERE value = 'evil.example'"
                                    " AND sightings = 2"), 1);
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM artifacts"
                                    " WHERE value = 'https://evil.example/Login'"), 1);
    vg_id other;
    new_case(f->ws, "Another phish", "low", other);
    must_apply(f->ws, vg_op_artifact_add(other, "domain", "EVIL.EXAMPLE"));
    vg_artifact *a;
    size_t n;
    vg_err err = {0};
    assert_int_equal(vg_artifacts_of_case(f->ws, f->case_id, &a, &n, &err), VG_OK);
    assert_int_equal(n, 2);
    assert_string_equal(a[0].value, "evil.example");
    assert_int_equal(a[0].other_cases, 1); /* the bridge */
    assert_string_equal(a[0].other_refs, "2");
    vg_artifacts_free(a, n);
    /* the copilot's top few: the same artifacts, their bridges not looked up */
    int64_t total;
    assert_int_equal(vg_artifacts_top(f->ws, f->case_id, 1, &a, &n, &total, &err), VG_OK);
    assert_int_equal(n, 1);
    assert_int_equal(total, 2);
    assert_string_equal(a[0].value, "evil.example"); /* seen twice: before the url */
    assert_int_equal(a[0].other_cases, -1);
    assert_string_equal(a[0].other_refs, "");
    vg_artifacts_free(a, n);
    /* a value on many cases: all counted, 20 of them named, lowest ref first (which
     * 20 follows the ids, random within a millisecond) */
    for (int i = 0; i < 21; i++) {
        vg_id more;
        new_case(f->ws, "Same domain again", "low", more);
        must_apply(f->ws, vg_op_artifact_add(more, "domain", "evil.example"));
    }
    assert_int_equal(vg_artifacts_of_case(f->ws, f->case_id, &a, &n, &err), VG_OK);
    assert_int_equal(a[0].other_cases, 22);
    int refs = 0;
    long last = 1;
    for (char *p = a[0].other_refs, *end; *p; p = *end ? end + 1 : end, refs++) {
        long r = strtol(p, &end, 10);
        assert_true(r > last && r <= 23); /* other cases only, each once, ascending */
        last = r;
    }
    assert_int_equal(refs, 20);
    vg_artifacts_free(a, n);

    must_apply(f->ws, vg_op_artifact_remove(f->case_id, "domain", "evil.example"));
    assert_int_equal(vg_artifacts_of_case(f->ws, f->case_id, &a, &n, &err), VG_OK);
    assert_int_equal(n, 1);
    vg_artifacts_free(a, n);
    const char *m = must_fail(f->ws, vg_op_artifact_remove(f->case_id, "domain", "evil.example"),
                              VG_ENOTFOUND);
    assert_non_null(strstr(m, "is not on this case"));
    must_apply(f->ws, vg_op_artifact_add(f->case_id, "domain", "evil.example"));
    assert_int_equal(vg_artifacts_of_case(f->ws, f->case_id, &a, &n, &err), VG_OK);
    assert_int_equal(n, 2);
    vg_artifacts_free(a, n);
}

static void test_tasks(void **state)
{
    fx *f = *state;
    vg_op *op = vg_op_task_add(f->case_id, "containment", "Reset the user's password");
    vg_id t1;
    memcpy(t1, op->target, sizeof t1);
    must_apply(f->ws, op);
    must_apply(f->ws, vg_op_task_add(f->case_id, "identification", "Pull the mail headers"));
    assert_int_equal(sql_int(f->ws, "SELECT max(ord) FROM tasks"), 2);
    must_apply(f->ws, vg_op_task_set(f->case_id, t1, "status", "done"));
    assert_true(sql_int(f->ws, "SELECT done_at FROM tasks WHERE ord = 1") > 0);
    char *ev = last_event(f);
    assert_string_equal(ev, "task 'Reset the user's password' status todo → done by alice");
    free(ev);
    must_apply(f->ws, vg_op_task_set(f->case_id, t1, "status", "todo"));
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM tasks WHERE done_at IS NULL"), 2);
    const char *m = must_fail(f->ws, vg_op_task_set(f->case_id, t1, "colour", "x"), VG_EINVAL);
    assert_non_null(strstr(m, "'colour' is not a task field; fields are status"));
    vg_task t;
    vg_err err = {0};
    assert_int_equal(vg_task_resolve(f->ws, f->case_id, "1", &t, &err), VG_OK);
    assert_string_equal(t.title, "Pull the mail headers"); /* identification comes first */
    vg_task_clear(&t);
}

static void test_alerts_and_events(void **state)
{
    fx *f = *state;
    vg_op *op = vg_op_new("alert.add", NULL);
    cJSON_AddStringToObject(op->payload, "source", "wazuh");
    cJSON_AddStringToObject(op->payload, "source_ref", "1731000000.123");
    cJSON_AddStringToObject(op->payload, "title", "Suspicious PowerShell encoded command");
    cJSON_AddNumberToObject(op->payload, "event_time", 1731000000000.0);
    cJSON_AddStringToObject(op->payload, "case", f->case_id);
    vg_op *dup = vg_op_new("alert.add", NULL);
    cJSON *p = cJSON_Duplicate(op->payload, 1);
    cJSON_Delete(dup->payload);
    dup->payload = p;
    must_apply(f->ws, op);
    must_apply(f->ws, dup); /* the same (source, source_ref) again: deduplicated */
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM alerts"), 1);
    /* a raw event past its cap is refused by name, inside a batch too, and the
     * batch's other alerts stand */
    {
        size_t big = (8u << 20) + 2;
        char *raw = malloc(big + 1);
        memset(raw, ' ', big);
        raw[0] = '{';
        raw[big - 1] = '}';
        raw[big] = '\0';
        vg_op *huge = vg_op_new("alert.add", NULL);
        cJSON_AddStringToObject(huge->payload, "source", "edr");
        cJSON_AddStringToObject(huge->payload, "title", "huge");
        cJSON_AddNumberToObject(huge->payload, "event_time", 1731000000000.0);
        cJSON_AddItemToObject(huge->payload, "raw", cJSON_CreateRaw(raw));
        free(raw);
        vg_err e2 = {0};
        int64_t before = sql_int(f->ws, "SELECT count(*) FROM alerts");
        assert_int_equal(vg_batch_begin(f->ws, &e2), VG_OK);
        assert_int_equal(vg_apply(f->ws, huge, &e2), VG_EINVAL);
        assert_non_null(strstr(e2.msg, "raw: larger than 8 MiB"));
        assert_int_equal(vg_batch_commit(f->ws, &e2), VG_OK);
        assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM alerts"), before);
        vg_op_free(huge);
    }
    assert_int_equal(sql_int(f->ws, "SELECT count FROM alerts"), 2);
    /* recorded strictly later: within one millisecond the order is by id only */
    struct timespec ms2 = {0, 2000000};
    nanosleep(&ms2, NULL);
    must_apply(f->ws, vg_op_event_add(f->case_id, 1730000000000, NULL, "User reports odd email"));
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM events WHERE kind = 'manual'"
                                    " AND occurred_at < recorded_at"), 1);
    vg_event *e;
    size_t n;
    vg_err err = {0};
    assert_int_equal(vg_timeline(f->ws, f->case_id, VG_BY_OCCURRED, 0, &e, &n, &err), VG_OK);
    assert_string_equal(e[0].summary, "User reports odd email"); /* happened first */
    /* the alert is on the timeline once, when it happened, with its technique */
    size_t alerts = 0;
    for (size_t i = 0; i < n; i++)
        if (e[i].kind == 0) {
            alerts++;
            assert_string_equal(e[i].summary, "alert: Suspicious PowerShell encoded command");
            assert_int_equal(e[i].occurred_at, 1731000000000);
            assert_string_equal(e[i].source, "wazuh");
        }
    assert_int_equal(alerts, 1);
    assert_string_equal(e[1].summary, "alert: Suspicious PowerShell encoded command");
    assert_false(e[1].starred);
    vg_id alert_row;
    memcpy(alert_row, e[1].id, sizeof alert_row);
    vg_events_free(e, n);
    /* the alert's row can be starred like any event */
    vg_op *star = vg_op_new("alert.set", alert_row);
    cJSON_AddStringToObject(star->payload, "field", "starred");
    cJSON_AddTrueToObject(star->payload, "value");
    must_apply(f->ws, star);
    assert_int_equal(vg_timeline(f->ws, f->case_id, VG_BY_OCCURRED, 0, &e, &n, &err), VG_OK);
    assert_true(e[1].starred);
    vg_events_free(e, n);
    vg_op *bad = vg_op_new("alert.set", alert_row);
    cJSON_AddStringToObject(bad->payload, "field", "colour");
    const char *m = must_fail(f->ws, bad, VG_EINVAL);
    assert_string_equal(m, "'colour' is not an alert field; fields are status, starred");
    assert_int_equal(vg_timeline(f->ws, f->case_id, VG_BY_RECORDED, 0, &e, &n, &err), VG_OK);
    assert_string_equal(e[n - 1].summary, "User reports odd email"); /* recorded last */
    vg_events_free(e, n);
}

static vg_op *inbox_alert(int i)
{
    vg_op *op = vg_op_new("alert.add", NULL);
    char ref[32], title[64];
    snprintf(ref, sizeof ref, "r%d", i);
    snprintf(title, sizeof title, "inbox alert %d", i);
    cJSON_AddStringToObject(op->payload, "source", "suricata");
    cJSON_AddStringToObject(op->payload, "source_ref", ref);
    cJSON_AddStringToObject(op->payload, "title", title);
    cJSON_AddStringToObject(op->payload, "severity", "high");
    cJSON_AddNumberToObject(op->payload, "event_time", 1731000000000.0 + i * 1000);
    cJSON *tech = cJSON_AddArrayToObject(op->payload, "techniques");
    cJSON_AddItemToArray(tech, cJSON_CreateString("T1190"));
    return op;
}

static void test_inbox_pages_and_promote(void **state)
{
    fx *f = *state;
    for (int i = 0; i < 25; i++)
        must_apply(f->ws, inbox_alert(i));
    /* forward pages of 10, newest first, then back */
    vg_alert *a;
    size_t n, seen = 0;
    bool more;
    vg_err err = {0};
    vg_alert_cursor c;
    const vg_alert_cursor *after = NULL;
    int64_t last = INT64_MAX;
    do {
        assert_int_equal(vg_inbox_list(f->ws, 10, after, false, &a, &n, &more, &err), VG_OK);
        for (size_t i = 0; i < n; i++) {
            assert_true(a[i].event_time < last);
            last = a[i].event_time;
        }
        seen += n;
        if (n) {
            c.event_time = a[n - 1].event_time;
            memcpy(c.id, a[n - 1].id, sizeof c.id);
            after = &c;
        }
        vg_alerts_free(a, n);
    } while (more);
    assert_int_equal(seen, 25);
    assert_int_equal(vg_inbox_list(f->ws, 10, &c, true, &a, &n, &more, &err), VG_OK);
    assert_int_equal(n, 10); /* the ten before the oldest, in inbox order */
    assert_string_equal(a[9].title, "inbox alert 1");
    vg_alerts_free(a, n);

    /* promote the newest: one case, the alert linked to it, out of the inbox */
    assert_int_equal(vg_inbox_list(f->ws, 1, NULL, false, &a, &n, &more, &err), VG_OK);
    vg_id alert_id, case_id;
    memcpy(alert_id, a[0].id, sizeof alert_id);
    vg_alerts_free(a, n);
    int64_t cases = sql_int(f->ws, "SELECT count(*) FROM cases");
    assert_int_equal(vg_alert_promote(f->ws, alert_id, case_id, &err), VG_OK);
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM cases"), cases + 1);
    vg_case k;
    assert_int_equal(vg_case_get(f->ws, case_id, &k, &err), VG_OK);
    assert_string_equal(k.title, "inbox alert 24");
    assert_int_equal(k.severity, VG_SEV_HIGH);
    assert_string_equal(k.techniques, "[\"T1190\"]");
    assert_int_equal(k.alert_count, 1);
    vg_case_clear(&k);
    assert_int_equal(vg_alert_promote(f->ws, alert_id, case_id, &err), VG_EINVAL);
    assert_non_null(strstr(err.msg, "already on a case"));
    /* the link is a timeline row of its own, derived from the alert (no events
     * row): after the alert itself in the recorded order, by whom it was linked */
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM events WHERE summary LIKE 'alert linked%'"), 0);
    vg_event *ev = NULL;
    size_t nev = 0;
    assert_int_equal(vg_timeline(f->ws, case_id, VG_BY_RECORDED, 0, &ev, &nev, &err), VG_OK);
    int at_alert = -1, at_link = -1;
    for (size_t i = 0; i < nev; i++) {
        if (strcmp(ev[i].summary, "alert: inbox alert 24") == 0)
            at_alert = (int)i;
        if (strcmp(ev[i].summary, "alert linked by alice: inbox alert 24") == 0)
            at_link = (int)i;
    }
    assert_true(at_alert >= 0 && at_link > at_alert);
    assert_string_equal(ev[at_link].id, alert_id);
    assert_true(ev[at_link].recorded_at >= ev[at_alert].recorded_at);
    vg_events_free(ev, nev);
    /* dismissing takes an alert out of the inbox too */
    assert_int_equal(vg_inbox_list(f->ws, 1, NULL, false, &a, &n, &more, &err), VG_OK);
    must_apply(f->ws, vg_op_alert_dismiss(a[0].id, NULL));
    vg_alerts_free(a, n);
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM alerts WHERE status = 'new'"), 23);
}

static void test_stamped_ops_idempotent_and_lww(void **state)
{
    fx *f = *state;
    const char *a = "01JAAAAAAAAAAAAAAAAAAAAAAA", *b = "01JBBBBBBBBBBBBBBBBBBBBBBB";
    uint64_t base = VG_HLC(vg_now_ms() + 1000, 0);
    vg_op *late = stamped("case.set", f->case_id, base + 10, a, "{\"field\":\"severity\",\"value\":\"critical\"}");
    vg_op *early = stamped("case.set", f->case_id, base + 5, b, "{\"field\":\"severity\",\"value\":\"low\"}");
    vg_op *again = stamped("case.set", f->case_id, base + 10, a, "{\"field\":\"severity\",\"value\":\"critical\"}");
    memcpy(again->id, late->id, sizeof again->id);
    must_apply(f->ws, late);
    must_apply(f->ws, early); /* older: loses, but is kept in the log and timeline */
    assert_int_equal(case_int(f, "severity"), VG_SEV_CRITICAL);
    int64_t n = ops(f);
    must_apply(f->ws, again); /* the same op again: nothing happens */
    assert_int_equal(ops(f), n);
    /* Equal clocks: the greater origin wins, whichever arrives first. */
    vg_op *x = stamped("case.set", f->case_id, base + 20, b, "{\"field\":\"assignee\",\"value\":\"bob\"}");
    vg_op *y = stamped("case.set", f->case_id, base + 20, a, "{\"field\":\"assignee\",\"value\":\"ann\"}");
    must_apply(f->ws, x);
    must_apply(f->ws, y);
    assert_case_str(f, "assignee", "bob");
}

static void test_batch_rollback(void **state)
{
    fx *f = *state;
    int64_t n = ops(f);
    vg_err err = {0};
    assert_int_equal(vg_batch_begin(f->ws, &err), VG_OK);
    for (int i = 0; i < 10; i++) {
        vg_op *op = vg_op_note_add(f->case_id, "batched");
        assert_int_equal(vg_apply(f->ws, op, &err), VG_OK);
        vg_op_free(op);
    }
    vg_batch_rollback(f->ws);
    assert_int_equal(ops(f), n);
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM notes"), 0);
    /* and the chain still continues correctly after a rolled-back batch */
    must_apply(f->ws, vg_op_note_add(f->case_id, "after"));
    int64_t count, bad;
    assert_int_equal(vg_audit_verify(f->ws, NULL, &count, &bad, &err), VG_OK);
    assert_int_equal(count, n + 1);
}

static void test_tamper_named(void **state)
{
    fx *f = *state;
    for (int i = 0; i < 8; i++)
        must_apply(f->ws, vg_op_note_add(f->case_id, "note"));
    int64_t count, bad;
    vg_err err = {0};
    assert_int_equal(vg_audit_verify(f->ws, NULL, &count, &bad, &err), VG_OK);
    assert_int_equal(count, 9);
    assert_int_equal(sqlite3_exec(f->ws->db, "UPDATE ops SET payload = replace(payload, 'note',"
                                             " 'edited') WHERE seq = 5", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(vg_audit_verify(f->ws, NULL, &count, &bad, &err), VG_ECORRUPT);
    assert_int_equal(bad, 5);
    assert_non_null(strstr(err.msg, "op log broken at seq 5"));
    /* A deleted row breaks the chain at the row after it. */
    assert_int_equal(sqlite3_exec(f->ws->db, "UPDATE ops SET payload = replace(payload, 'edited',"
                                             " 'note') WHERE seq = 5; DELETE FROM ops WHERE seq = 7",
                                  NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(vg_audit_verify(f->ws, NULL, &count, &bad, &err), VG_ECORRUPT);
    assert_int_equal(bad, 8);
    assert_non_null(strstr(err.msg, "does not follow"));
}

/* ---- the copilot ledger through the door ------------------------------------------- */

#define OTHER_REPLICA "01JZZZZZZZZZZZZZZZZZZZZZZZ"

/* A stamped ledger.add from another replica, as sync delivers one. */
static vg_op *ledger_op(const char *session, uint64_t hlc, const char *actor, const char *json)
{
    vg_op *op = stamped("ledger.add", session, hlc, OTHER_REPLICA, json);
    free(op->actor);
    op->actor = strdup(actor);
    return op;
}

static void test_ledger_entries_are_ops(void **state)
{
    fx *f = *state;
    vg_err err = {0};
    vg_id s1;
    vg_ulid(vg_now_ms(), s1);
    int64_t seq = 0;
    assert_int_equal(vg_ledger_append(f->ws, f->case_id, s1, "alice", VG_LEDGER_PROMPT, "m",
                                      "{\"question\":\"who?\"}", &seq, &err), VG_OK);
    assert_int_equal(seq, 1);
    /* a local op's seq is the door's, whatever its payload said */
    vg_op *op = vg_op_ledger_add(f->case_id, s1, "alice", "response", "m", "{\"answer\":\"x\"}");
    cJSON_AddNumberToObject(op->payload, "seq", 7);
    must_apply(f->ws, op);
    assert_int_equal(sql_int(f->ws, "SELECT max(seq) FROM ledger"), 2);

    /* each entry is an op in the log, by its user, on its session, its seq in the
     * payload; the entry's time is the op's clock */
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM ops WHERE kind = 'ledger.add'"
                                    " AND actor = 'alice'"), 2);
    char sql[400];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM ledger l JOIN ops o ON o.target = l.session_id"
             " AND json_extract(vg_payload(o.payload), '$.seq') = l.seq WHERE o.target = '%s'"
             " AND l.created_at = o.hlc >> 16 AND l.legacy_chain IS NULL", s1);
    assert_int_equal(sql_int(f->ws, sql), 2);
    /* the door chains the session: the first entry follows zeros, the second the first */
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM ledger WHERE seq = 1"
                                    " AND prev_hash = zeroblob(32)"), 1);
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM ledger a JOIN ledger b"
                                    " ON b.session_id = a.session_id AND b.seq = a.seq + 1"
                                    " WHERE b.prev_hash = a.hash"), 1);

    /* nobody appends to another's session: not bob as himself... */
    int64_t before = ops(f);
    vg_ws_set_actor(f->ws, "bob");
    assert_int_equal(vg_ledger_append(f->ws, f->case_id, s1, "bob", VG_LEDGER_PROMPT, "m", "{}",
                                      NULL, &err), VG_EINVAL);
    assert_non_null(strstr(err.msg, "belongs to another user"));
    /* ...nor as alice, when the op is his */
    assert_int_equal(vg_ledger_append(f->ws, f->case_id, s1, "alice", VG_LEDGER_PROMPT, "m", "{}",
                                      NULL, &err), VG_EINVAL);
    assert_non_null(strstr(err.msg, "nobody writes into another's session"));
    vg_ws_set_actor(f->ws, "alice");
    /* a session keeps its scope */
    assert_int_equal(vg_ledger_append(f->ws, NULL, s1, "alice", VG_LEDGER_PROMPT, "m", "{}", NULL,
                                      &err), VG_EINVAL);
    assert_non_null(strstr(err.msg, "belongs to a case"));
    /* a local op brings no hashes of its own */
    op = vg_op_ledger_add(f->case_id, s1, "alice", "prompt", NULL, "{}");
    cJSON_AddStringToObject(op->payload, "hash", "00");
    assert_non_null(strstr(must_fail(f->ws, op, VG_EINVAL), "migrated ledger"));
    /* proposals are JSON objects */
    op = vg_op_ledger_add(f->case_id, s1, "alice", "proposal", NULL, "not json");
    assert_non_null(strstr(must_fail(f->ws, op, VG_EINVAL), "JSON object"));

    /* the same rules for stamped ops from another replica */
    uint64_t hlc = VG_HLC(vg_now_ms() + 1000, 0);
    char json[512];
    snprintf(json, sizeof json, "{\"case\":\"%s\",\"user\":\"bob\",\"seq\":3,\"kind\":\"prompt\","
             "\"content\":\"{}\"}", f->case_id);
    const char *msg = must_fail(f->ws, ledger_op(s1, hlc, "bob", json), VG_EINVAL);
    assert_non_null(strstr(msg, "ledger.add: session"));
    assert_non_null(strstr(msg, "belongs to another user"));
    snprintf(json, sizeof json, "{\"case\":\"%s\",\"user\":\"alice\",\"seq\":3,\"kind\":\"prompt\","
             "\"content\":\"{}\"}", f->case_id);
    assert_non_null(strstr(must_fail(f->ws, ledger_op(s1, hlc, "mallory", json), VG_EINVAL),
                           "nobody writes into another's session"));
    /* entries arrive in order: no gap, no second entry 2 */
    for (int bad = 0; bad < 3; bad++) {
        int want[] = {5, 2, 0};
        snprintf(json, sizeof json, "{\"case\":\"%s\",\"user\":\"alice\",\"seq\":%d,"
                 "\"kind\":\"prompt\",\"content\":\"{}\"}", f->case_id, want[bad]);
        msg = must_fail(f->ws, ledger_op(s1, hlc + (uint64_t)bad, "alice", json), VG_EINVAL);
        assert_non_null(strstr(msg, bad < 2 ? "does not follow its last entry" : "seq"));
    }
    /* the case of a stamped entry must be here (causal delivery) */
    vg_id s2;
    vg_ulid(vg_now_ms(), s2);
    msg = must_fail(f->ws, ledger_op(s2, hlc, "alice", "{\"case\":\"01JAAAAAAAAAAAAAAAAAAAAAAA\","
                                     "\"user\":\"alice\",\"seq\":1,\"kind\":\"prompt\","
                                     "\"content\":\"{}\"}"), VG_ENOTFOUND);
    assert_non_null(strstr(msg, "no such case"));
    assert_int_equal(ops(f), before); /* nothing refused was written */
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM ledger"), 2);

    /* alice's next entry, made on her other replica, follows her last one here */
    snprintf(json, sizeof json, "{\"case\":\"%s\",\"user\":\"alice\",\"seq\":3,\"kind\":\"prompt\","
             "\"content\":\"{}\"}", f->case_id);
    must_apply(f->ws, ledger_op(s1, hlc + 10, "alice", json));
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM ledger a JOIN ledger b"
                                    " ON b.session_id = a.session_id AND b.seq = a.seq + 1"
                                    " WHERE b.prev_hash = a.hash"), 2);
    int64_t count, bad;
    assert_int_equal(vg_ledger_verify(f->ws, &count, &bad, &err), VG_OK);
    assert_int_equal(count, 3);
    assert_int_equal(vg_audit_verify(f->ws, NULL, &count, &bad, &err), VG_OK);
}

/* Three sessions of two users, written interleaved on one replica. */
static void write_sessions(fx *f, vg_id s[3])
{
    vg_err err = {0};
    for (int i = 0; i < 3; i++)
        vg_ulid(vg_now_ms(), s[i]);
    static const char *const who[3] = {"alice", "alice", "bob"};
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 3; i++) {
            char content[64];
            snprintf(content, sizeof content, "{\"question\":\"%d of %d\"}", round, i);
            vg_ws_set_actor(f->ws, who[i]);
            /* session 1 is alice's general pane, the others are on the case */
            assert_int_equal(vg_ledger_append(f->ws, i == 1 ? NULL : f->case_id, s[i], who[i],
                                              round == 2 ? VG_LEDGER_RESPONSE : VG_LEDGER_PROMPT,
                                              "m", content, NULL, &err), VG_OK);
        }
    vg_ws_set_actor(f->ws, "alice");
}

static void test_ledger_replicas_agree(void **state)
{
    fx *f = *state;
    vg_id s[3];
    write_sessions(f, s);
    must_apply(f->ws, vg_op_note_add(f->case_id, "after the ledger"));
    char *want = sql_text(f->ws, LEDGER_ROWS), dwant[65], dgot[65];
    vg_err err = {0};
    assert_int_equal(vg_ws_digest(f->ws, dwant, &err), VG_OK);
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM ledger"), 9);

    /* one replica receives the log in its order, another session by session, the
     * newest session first: each makes every entry and hash as the author did */
    static const char *const orders[] = {
        "ORDER BY seq",
        "ORDER BY kind = 'ledger.add', CASE kind WHEN 'ledger.add' THEN target END DESC, seq",
    };
    for (int i = 0; i < 2; i++) {
        char name[32];
        snprintf(name, sizeof name, "replica%d.db", i);
        char *p = path_in(f->dir, name);
        vg_ws *r = open_ws(p, "receiver");
        copy_ops(f->ws, r, orders[i]);
        char *got = sql_text(r, LEDGER_ROWS);
        assert_string_equal(got, want);
        assert_int_equal(vg_ws_digest(r, dgot, &err), VG_OK);
        assert_string_equal(dgot, dwant);
        int64_t count, bad;
        assert_int_equal(vg_ledger_verify(r, &count, &bad, &err), VG_OK);
        assert_int_equal(count, 9);
        assert_int_equal(vg_audit_verify(r, NULL, &count, &bad, &err), VG_OK);
        /* and it refuses what the author would have: bob in alice's session */
        vg_ws_set_actor(r, "bob");
        assert_int_equal(vg_ledger_append(r, f->case_id, s[0], "bob", VG_LEDGER_PROMPT, "m", "{}",
                                          NULL, &err), VG_EINVAL);
        free(got);
        vg_ws_close(r);
        free(p);
    }
    free(want);
}

static void test_ledger_tamper_named(void **state)
{
    fx *f = *state;
    vg_id s[3];
    write_sessions(f, s);
    int64_t count, bad;
    vg_err err = {0};
    assert_int_equal(vg_ledger_verify(f->ws, &count, &bad, &err), VG_OK);
    int64_t first = sql_int(f->ws, "SELECT min(seq) FROM ops WHERE kind = 'ledger.add'");
    int64_t last = sql_int(f->ws, "SELECT max(seq) FROM ops");

    /* an edited entry, or one moved to follow another, is named by the ledger */
    assert_int_equal(sqlite3_exec(f->ws->db, "UPDATE ledger SET content = '{}' WHERE id = 5",
                                  NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(vg_ledger_verify(f->ws, &count, &bad, &err), VG_ECORRUPT);
    assert_int_equal(bad, 5);
    assert_non_null(strstr(err.msg, "ledger broken at entry 5"));
    assert_non_null(strstr(err.msg, "contents do not match"));
    assert_int_equal(vg_audit_verify(f->ws, NULL, &count, &bad, &err), VG_OK); /* the ops are intact */

    /* a deleted ledger.add op breaks the op log's chain, at the op after it; and the
     * ledger has an entry that no op makes */
    char sql[200];
    snprintf(sql, sizeof sql, "UPDATE ledger SET content = '{\"question\":\"1 of 1\"}'"
                              " WHERE id = 5; DELETE FROM ops WHERE seq = %lld", (long long)first);
    assert_int_equal(sqlite3_exec(f->ws->db, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(vg_audit_verify(f->ws, NULL, &count, &bad, &err), VG_ECORRUPT);
    assert_int_equal(bad, first + 1);
    snprintf(sql, sizeof sql, "op log broken at seq %lld", (long long)first + 1);
    assert_non_null(strstr(err.msg, sql));
    assert_non_null(strstr(err.msg, "does not follow"));
    assert_int_equal(vg_ledger_verify(f->ws, &count, &bad, &err), VG_ECORRUPT);
    assert_non_null(strstr(err.msg, "3 entries and the op log 2 ledger.add ops"));

    /* the newest op gone leaves a chain that holds (nothing follows it), but not the
     * head the commits recorded, nor a whole session: its last entry has no op */
    vg_ws_close(f->ws);
    unlink(f->path);
    f->ws = open_ws(f->path, "alice");
    new_case(f->ws, "again", "low", f->case_id);
    write_sessions(f, s);
    last = sql_int(f->ws, "SELECT max(seq) FROM ops");
    snprintf(sql, sizeof sql, "DELETE FROM ops WHERE seq = %lld", (long long)last);
    assert_int_equal(sqlite3_exec(f->ws->db, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(vg_audit_verify(f->ws, NULL, &count, &bad, &err), VG_ECORRUPT);
    assert_non_null(strstr(err.msg, "cut short"));
    assert_int_equal(vg_ledger_verify(f->ws, &count, &bad, &err), VG_ECORRUPT);
    assert_int_equal(bad, 9);
    assert_non_null(strstr(err.msg, "ledger broken at entry 9"));

    /* a deleted entry: the next of its session says so, as does a whole session */
    assert_int_equal(sqlite3_exec(f->ws->db, "DELETE FROM ledger WHERE id IN (9, 4)", NULL, NULL,
                                  NULL), SQLITE_OK);
    assert_int_equal(vg_ledger_verify(f->ws, &count, &bad, &err), VG_ECORRUPT);
    assert_int_equal(bad, 7);
    assert_non_null(strstr(err.msg, "entry 2 of its session is missing"));
    snprintf(sql, sizeof sql, "DELETE FROM ledger WHERE session_id = '%s'", s[0]);
    assert_int_equal(sqlite3_exec(f->ws->db, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(vg_ledger_verify(f->ws, &count, &bad, &err), VG_ECORRUPT);
    assert_int_equal(bad, 0);
    assert_non_null(strstr(err.msg, "the ledger no entry"));
}

/* case.merge: what is on the source moves to the target (artifacts of one value
 * combined), the source is closed as a duplicate pointing at it, later writes for
 * the source land on the target, and every refusal writes nothing. */
static void test_case_merge(void **state)
{
    fx *f = *state; /* the fixture case is the target, #1 */
    vg_id src, other, closed;
    new_case(f->ws, "Same lure, second mailbox", "high", src);
    new_case(f->ws, "Unrelated", "low", other);
    new_case(f->ws, "Old", "low", closed);
    must_apply(f->ws, vg_op_case_close(closed, "benign"));
    must_apply(f->ws, vg_op_note_add(src, "second mailbox"));
    must_apply(f->ws, vg_op_task_add(src, "identification", "pull headers"));
    must_apply(f->ws, vg_op_artifact_add(src, "domain", "invoice-lure.example"));
    must_apply(f->ws, vg_op_artifact_add(src, "ip", "203.0.113.9"));
    must_apply(f->ws, vg_op_artifact_add(f->case_id, "domain", "invoice-lure.example"));
    must_apply(f->ws, vg_op_artifact_add(f->case_id, "domain", "invoice-lure.example"));
    vg_id sess;
    vg_ulid(vg_now_ms(), sess);
    must_apply(f->ws, vg_op_ledger_add(src, sess, "alice", "prompt", "m", "{\"q\":1}"));

    /* refused, nothing written */
    char before[65], after[65];
    vg_err err = {0};
    int64_t n = ops(f);
    assert_int_equal(vg_ws_digest(f->ws, before, &err), VG_OK);
    assert_non_null(strstr(must_fail(f->ws, vg_op_case_merge(src, src), VG_EINVAL),
                           "cannot be merged into itself"));
    assert_non_null(strstr(must_fail(f->ws, vg_op_case_merge(src, closed), VG_EINVAL),
                           "#4 is closed"));
    assert_non_null(strstr(must_fail(f->ws, vg_op_case_merge(src, "01J00000000000000000000000"),
                                     VG_ENOTFOUND), "no such case"));
    vg_op *bad = vg_op_case_merge(src, "#1");
    assert_non_null(strstr(must_fail(f->ws, bad, VG_EINVAL), "not a case id"));
    assert_int_equal(vg_ws_digest(f->ws, after, &err), VG_OK);
    assert_string_equal(before, after);
    assert_int_equal(ops(f), n);

    must_apply(f->ws, vg_op_case_merge(src, f->case_id));
    char sql[600];
    snprintf(sql, sizeof sql, "SELECT status || ' ' || resolution || ' ' || merged_into"
                              " FROM cases WHERE id = '%s'", src);
    char *s = sql_text(f->ws, sql), want[128];
    snprintf(want, sizeof want, "closed duplicate %s", f->case_id);
    assert_string_equal(s, want);
    free(s);
    snprintf(sql, sizeof sql, "SELECT (SELECT count(*) FROM notes WHERE case_id = '%s')"
                              " + (SELECT count(*) FROM tasks WHERE case_id = '%s')"
                              " + (SELECT count(*) FROM artifacts WHERE case_id = '%s')"
                              " + (SELECT count(*) FROM events WHERE case_id = '%s')"
                              " + (SELECT count(*) FROM ledger WHERE case_id = '%s')",
             src, src, src, src, src);
    assert_int_equal(sql_int(f->ws, sql), 0);
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM notes"), 1);
    assert_int_equal(sql_int(f->ws, "SELECT sightings FROM artifacts"
                                    " WHERE value = 'invoice-lure.example'"), 3);
    assert_int_equal(sql_int(f->ws, "SELECT count(*) FROM artifacts"), 2);
    char *ev = last_event(f);
    assert_string_equal(ev, "merged #2 into this case by alice");
    free(ev);
    /* the source's own rows are on the target's timeline */
    vg_event *e;
    size_t ne;
    assert_int_equal(vg_timeline(f->ws, f->case_id, VG_BY_RECORDED, 0, &e, &ne, &err), VG_OK);
    bool opened = false;
    for (size_t i = 0; i < ne; i++)
        opened |= strcmp(e[i].summary, "case #2 opened by alice (severity high)") == 0;
    vg_events_free(e, ne);
    assert_true(opened);
    /* the ledger still verifies: the moved entry's hash covers the case it was made on */
    int64_t count, badid;
    assert_int_equal(vg_ledger_verify(f->ws, &count, &badid, &err), VG_OK);
    assert_int_equal(count, 1);

    /* later writes for the source go to the target; its status stays */
    must_apply(f->ws, vg_op_note_add(src, "late"));
    must_apply(f->ws, vg_op_ledger_add(src, sess, "alice", "response", "m", "{\"a\":1}"));
    snprintf(sql, sizeof sql, "SELECT count(*) FROM notes WHERE case_id = '%s'", f->case_id);
    assert_int_equal(sql_int(f->ws, sql), 2);
    assert_int_equal(vg_ledger_verify(f->ws, &count, &badid, &err), VG_OK);
    assert_int_equal(count, 2);
    assert_non_null(strstr(must_fail(f->ws, vg_op_case_set(src, "status", "in_progress"),
                                     VG_EINVAL), "stays closed"));
    /* merged already; into a merged case */
    assert_non_null(strstr(must_fail(f->ws, vg_op_case_merge(src, other), VG_EINVAL),
                           "#2 is merged already"));
    assert_non_null(strstr(must_fail(f->ws, vg_op_case_merge(other, src), VG_EINVAL),
                           "#2 was merged into #1: merge into #1"));
    /* a chain: the target merged on; the source follows to the end */
    must_apply(f->ws, vg_op_case_merge(f->case_id, other));
    snprintf(sql, sizeof sql, "SELECT merged_into FROM cases WHERE id = '%s'", src);
    s = sql_text(f->ws, sql);
    assert_string_equal(s, other);
    free(s);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM notes WHERE case_id = '%s'", other);
    assert_int_equal(sql_int(f->ws, sql), 2);

    /* a replay makes the same tables */
    char *scratch = path_in(f->dir, "replay.db");
    int64_t nops;
    if (vg_audit_replay_check(f->ws, scratch, &nops, &err) != VG_OK)
        fail_msg("replay: %s", err.msg);
    free(scratch);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, fx_teardown)
    const struct CMUnitTest tests[] = {
        T(test_create_defaults_and_refs),  T(test_apply_all),  T(test_set_records_old_value_and_event),
        T(test_case_merge),
        T(test_bad_values_write_nothing),  T(test_status_lifecycle_times),
        T(test_noop_set_writes_nothing),   T(test_lists_are_normalised),
        T(test_notes),                     T(test_artifacts_normalise_merge_and_tombstone),
        T(test_tasks),                     T(test_alerts_and_events),
        T(test_inbox_pages_and_promote),
        T(test_stamped_ops_idempotent_and_lww), T(test_batch_rollback),
        T(test_tamper_named),
        T(test_ledger_entries_are_ops),    T(test_ledger_replicas_agree),
        T(test_ledger_tamper_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
