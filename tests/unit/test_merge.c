/*
 * test_merge.c — replicas converge.
 *
 * Three analysts work on their own replicas at once (creating cases, changing the
 * same fields, adding and removing the same artifacts, ticking tasks and writing in
 * their logs), syncing now and then, until 1,000 ops exist. Three fresh replicas then receive all of them in
 * three different random orders, each respecting causality as sync does (an op
 * never arrives before one its author had already seen). All must end with the
 * same state digest, and so must the three authors once fully synced. Each author
 * also writes copilot ledger entries into sessions of their own, which every
 * replica receives interleaved differently: the digest covers the ledger's rows and
 * hashes, which must come out the same. And each author imports alerts through the
 * door: a few local alert.add ops in a batch, which the door makes into one
 * alert.import op, some on a shared case with their entities as artifacts, some
 * repeating an alert of the same source another author has too; and links alerts
 * to cases bringing their entities (alert.set with artifacts: true). And each
 * merges cases (case.merge) now and then, while the others go on writing to the
 * merged case, merge it elsewhere or merge into it before they hear of it: writes
 * for a merged case that arrive after the merge must land where the ones that came
 * before it were moved. What is sent is what sync sends: each author's log, read
 * back with vg_ops_each. Evidence items are registered (evidence.add) and their
 * chains of custody grow from every replica (evidence.custody on anyone's item),
 * which must come out the same too.
 */
#include "helpers.h"
#include "vigil/fields.h"
#include "vigil/ledger.h"

#define NORIGIN 3
#define NOPS 1000
#define NMAX (2 * NOPS) /* room for the steps that finish the coverage, and the last
                          * step may make several ops */

typedef struct rec {
    vg_op *op;          /* a stamped copy */
    int origin, index;  /* author and its position in the author's sequence */
    int deps[NORIGIN];  /* how many of each origin's ops the author had seen */
} rec;

static rec recs[NMAX];
static int nrecs;
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void) { return xorshift(&rng); }
static int pick(int n) { return (int)(rnd() % (uint64_t)n); }

/* A replica and how much of each origin's sequence it has applied. */
typedef struct replica {
    vg_ws *ws;
    int seen[NORIGIN];
    bool done[NMAX];
    int64_t read; /* an author's own log, read up to this seq */
} replica;

static vg_op *copy_op(const vg_op *op)
{
    vg_op *c = vg_op_new(op->kind, op->target);
    cJSON_Delete(c->payload);
    c->payload = cJSON_Duplicate(op->payload, 1);
    memcpy(c->id, op->id, sizeof c->id);
    memcpy(c->origin, op->origin, sizeof c->origin);
    c->hlc = op->hlc;
    c->actor = strdup(op->actor);
    c->tenant = strdup(op->tenant ? op->tenant : "");
    c->text = op->text ? strdup(op->text) : NULL; /* the author's bytes */
    return c;
}

static bool deliverable(const replica *r, const rec *x)
{
    if (r->done[x - recs] || r->seen[x->origin] != x->index)
        return false;
    for (int o = 0; o < NORIGIN; o++)
        if (o != x->origin && r->seen[o] < x->deps[o])
            return false;
    return true;
}

static void deliver(replica *r, rec *x)
{
    vg_op *c = copy_op(x->op);
    must_apply(r->ws, c);
    r->done[x - recs] = true;
    r->seen[x->origin]++;
}

/* Deliver everything deliverable, in a random causal order, until nothing is. */
static void sync_all(replica *r)
{
    int ready[NMAX];
    for (;;) {
        int n = 0;
        for (int i = 0; i < nrecs; i++)
            if (deliverable(r, &recs[i]))
                ready[n++] = i;
        if (n == 0)
            return;
        deliver(r, &recs[ready[pick(n)]]);
    }
}

/* A random id of an existing row, from a query with one text column. */
static bool random_row(vg_ws *ws, const char *sql, vg_id out, char *extra, size_t extrasz)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(ws->db, sql, -1, &st, NULL), SQLITE_OK);
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (pick(++n) == 0) { /* reservoir sampling */
            col_id(st, 0, out);
            if (extra)
                snprintf(extra, extrasz, "%s", (const char *)sqlite3_column_text(st, 1));
        }
    }
    sqlite3_finalize(st);
    return n > 0;
}

/* The first row's text column of sql, as an id. */
static void col_id_of(vg_ws *ws, const char *sql, vg_id out)
{
    char *t = sql_text(ws, sql);
    snprintf(out, sizeof(vg_id), "%s", t);
    free(t);
}

/* Custom fields (vigil/fields.h): definitions made, changed and removed by every
 * author (the same names, so they race), and values set and cleared on cases. */
static vg_op *random_field_op(vg_ws *ws, const char *c)
{
    static const char *const names[] = {"loss", "unit", "seen", "ok"};
    static const char *const types[] = {"number", "enum", "date", "bool"};
    vg_id unused;
    char name[80];
    bool any = random_row(ws, "SELECT name, name FROM field_defs WHERE removed = 0", unused, name,
                          sizeof name);
    if (!any || pick(6) == 0) {
        int f = pick(4);
        vg_field_def d = {0};
        snprintf(d.name, sizeof d.name, "%s", names[f]);
        d.type = vg_enum_parse(&VG_FIELD_TYPE, types[f]);
        char *vals[] = {"finance", "hr", "it"};
        if (d.type == VG_FT_ENUM) {
            d.values = vals;
            d.nvalues = 3;
        }
        d.required = pick(3) == 0;
        static const char *const defs[] = {"0", "it", "2026-11-01", "false"};
        if (d.required || pick(2))
            d.def = (char *)defs[f];
        d.description = pick(2) ? "one" : "two";
        return vg_op_field_define(&d);
    }
    if (pick(15) == 0)
        return vg_op_field_remove(name);
    vg_field_def d;
    vg_err err = {0};
    if (vg_field_def_get(ws, name, &d, &err) != VG_OK)
        fail_msg("field %s: %s", name, err.msg);
    char v[32];
    switch (d.type) {
    case VG_FT_NUMBER: snprintf(v, sizeof v, "%d", pick(1000)); break;
    case VG_FT_ENUM: snprintf(v, sizeof v, "%s", d.values[pick((int)d.nvalues)]); break;
    case VG_FT_DATE: snprintf(v, sizeof v, "2026-11-%02d", 1 + pick(28)); break;
    case VG_FT_BOOL: snprintf(v, sizeof v, "%s", pick(2) ? "true" : "false"); break;
    default: snprintf(v, sizeof v, "s%d", pick(9)); break;
    }
    bool clear = !d.required && pick(5) == 0;
    vg_field_def_clear(&d);
    return vg_op_field_set(c, name, clear ? NULL : v);
}

static vg_op *random_op(vg_ws *ws)
{
    static const char *const sev[] = {"info", "low", "medium", "high", "critical"};
    static const char *const st[] = {"new", "in_progress", "on_hold", "contained"};
    static const char *const users[] = {"alice", "bob", "chen", ""};
    static const char *const vals[] = {"evil.example", "203.0.113.7", "cdn.test", "198.51.100.9"};
    static const char *const types[] = {"domain", "ip", "domain", "ip"};
    vg_id c, t;
    char extra[256];
    int k = pick(100);
    if (k < 8 || !random_row(ws, "SELECT id FROM cases", c, NULL, 0)) {
        vg_op *op = vg_op_case_create("case", sev[pick(5)], NULL);
        if (pick(3) == 0) /* an analyst's: every default filled in */
            cJSON_AddItemToObject(op->payload, "fields", cJSON_CreateObject());
        return op;
    }
    if (pick(10) == 0)
        return random_field_op(ws, c);
    if (k < 18)
        return vg_op_case_set(c, "severity", sev[pick(5)]);
    if (k < 26) { /* a merged case's status is not set here (the door refuses it) */
        if (!random_row(ws, "SELECT id FROM cases WHERE id NOT IN (SELECT source FROM"
                            " case_merges)", c, NULL, 0))
            return vg_op_note_add(c, "all merged");
        return pick(4) ? vg_op_case_set(c, "status", st[pick(4)])
                       : vg_op_case_close(c, pick(2) ? "true_positive" : "false_positive");
    }
    if (k < 32)
        return vg_op_case_set(c, "assignee", users[pick(4)]);
    if (k < 36)
        return vg_op_case_set(c, "tags", pick(2) ? "phish,vip" : "spray");
    if (k < 46)
        return vg_op_note_add(c, "observed");
    if (k < 62) {
        int v = pick(4);
        vg_op *op = vg_op_artifact_add(c, types[v], vals[v]);
        if (pick(3) == 0)
            cJSON_AddTrueToObject(op->payload, "is_ioc");
        if (pick(3) == 0)
            cJSON_AddStringToObject(op->payload, "tlp", pick(2) ? "RED" : "GREEN");
        return op;
    }
    if (k < 70) {
        char sql[200];
        snprintf(sql, sizeof sql, "SELECT id, type || ' ' || value FROM artifacts"
                                  " WHERE case_id = '%s' AND removed = 0 AND source != 'alert'", c);
        if (random_row(ws, sql, t, extra, sizeof extra)) {
            char *sp = strchr(extra, ' ');
            *sp = '\0';
            return vg_op_artifact_remove(c, extra, sp + 1);
        }
        return vg_op_note_add(c, "nothing to remove");
    }
    if (k < 80)
        return vg_op_task_add(c, pick(2) ? "containment" : "identification", "task");
    if (k < 92) {
        char sql[200];
        snprintf(sql, sizeof sql, "SELECT id FROM tasks WHERE case_id = '%s'", c);
        if (random_row(ws, sql, t, NULL, 0)) /* tick it, or write in its log */
            return pick(3) == 0 ? vg_op_task_log(c, t, pick(2) ? "checked, @bob" : "nothing yet")
                                : vg_op_task_set(c, t, "status", pick(2) ? "done" : "todo");
        return vg_op_task_add(c, "recovery", "task");
    }
    if (k < 94)
        return vg_op_event_add(c, vg_now_ms() - pick(100000), NULL, "something happened");
    if (k < 95 || (k == 96 && pick(2))) { /* a merge, as the author's replica allows it */
        vg_id into;
        static const char src[] = "SELECT id FROM cases WHERE merged_into IS NULL"
                                  " AND id NOT IN (SELECT source FROM case_merges)";
        static const char dst[] = "SELECT id FROM cases WHERE merged_into IS NULL"
                                  " AND status != 'closed'";
        if (random_row(ws, src, c, NULL, 0) && random_row(ws, dst, into, NULL, 0) &&
            strcmp(c, into) != 0)
            return vg_op_case_merge(c, into);
        return vg_op_note_add(c, "nothing to merge");
    }
    if (k < 96) { /* an inbox alert linked to a case, bringing its entities */
        char sql[200]; /* anyone's (test_link_of_concurrent_repeat) */
        snprintf(sql, sizeof sql, "SELECT id FROM alerts WHERE status = 'new'");
        if (!random_row(ws, sql, t, NULL, 0))
            return vg_op_note_add(c, "no alert to link");
        if (pick(4) == 0) /* or dismissed, saying why (the reason rides with the status) */
            return vg_op_alert_dismiss(t, pick(2) ? "benign scanner" : NULL);
        return vg_op_alert_link(t, c);
    }
    int ev = pick(5);
    /* an evidence item (its register entry: the content is not the op's) */
    if (ev == 0 || (ev == 4 && pick(2))) {
        vg_op *op = vg_op_new("evidence.add", NULL);
        char hex[65];
        for (int i = 0; i < 64; i++)
            hex[i] = "0123456789abcdef"[pick(16)];
        hex[64] = '\0';
        cJSON_AddStringToObject(op->payload, "case", c);
        cJSON_AddStringToObject(op->payload, "name", pick(2) ? "mail.eml" : "disk.dd");
        cJSON_AddStringToObject(op->payload, "type", "data");
        cJSON_AddNumberToObject(op->payload, "size", pick(100000));
        cJSON_AddStringToObject(op->payload, "sha256", hex);
        hex[40] = '\0';
        cJSON_AddStringToObject(op->payload, "sha1", hex);
        hex[32] = '\0';
        cJSON_AddStringToObject(op->payload, "md5", hex);
        cJSON_AddStringToObject(op->payload, "stored", "copy");
        return op;
    }
    if (ev == 1) { /* a custody entry on anyone's item */
        static const char *const actions[] = {"access", "export", "transfer", "verify"};
        if (!random_row(ws, "SELECT id, case_id || ' ' || sha256 FROM evidence", t, extra,
                        sizeof extra))
            return vg_op_note_add(c, "no evidence");
        extra[VG_ID_LEN] = '\0';
        vg_op *op = vg_op_new("evidence.custody", t);
        cJSON_AddStringToObject(op->payload, "case", extra);
        cJSON_AddStringToObject(op->payload, "action", actions[pick(4)]);
        cJSON_AddStringToObject(op->payload, "sha256", extra + VG_ID_LEN + 1);
        cJSON_AddStringToObject(op->payload, "result", pick(4) ? "ok" : "changed");
        return op;
    }
    /* A copilot ledger entry: the author goes on with one of their own sessions (on a
     * case, or their general pane) or starts one; sessions are single-writer. */
    static const char *const kinds[] = {"prompt", "response", "proposal", "decision", "error"};
    const char *me = vg_ws_actor(ws);
    char sql[200], content[64];
    snprintf(sql, sizeof sql, "SELECT session_id, coalesce(case_id, '') FROM ledger"
                              " WHERE user = '%s'", me);
    snprintf(content, sizeof content, "{\"n\":%d}", pick(1000));
    const char *on = c;
    /* an author's first session is their general pane's, so that every run has
     * general sessions to merge (the ids, made from the clock, steer the rest) */
    bool have = random_row(ws, sql, t, extra, sizeof extra);
    if (have && pick(4)) {
        on = extra[0] ? extra : NULL;
    } else {
        vg_ulid(vg_now_ms(), t);
        if (!have || pick(3) == 0)
            on = NULL;
    }
    return vg_op_ledger_add(on, t, me, kinds[pick(5)], "model", content);
}

/* A local alert as an importer makes it: everything in it follows from its
 * source's id (ref), so a repeat is the same alert seen again; hosts and users
 * recur; the raw event as the tool wrote it (a 64-bit flow id). Some go to the
 * batch's case (one per batch: see test_repeat_on_two_cases_in_one_batch),
 * bringing their entities as artifacts. */
static vg_op *alert_seen(const char *ref, const char *case_id, int seen)
{
    static const char *const hosts[] = {"ws-01", "ws-02", "ws-03", "db-01"};
    static const char *const users[] = {"ann", "bo", "cy"};
    unsigned h = 0;
    for (const char *p = ref; *p; p++)
        h = h * 31 + (unsigned char)*p;
    vg_op *op = vg_op_new("alert.add", NULL);
    char s[300];
    cJSON_AddStringToObject(op->payload, "source", h % 2 ? "edr" : "ids");
    cJSON_AddStringToObject(op->payload, "source_ref", ref);
    snprintf(s, sizeof s, "Beacon %s", ref);
    cJSON_AddStringToObject(op->payload, "title", s);
    cJSON_AddStringToObject(op->payload, "severity", h % 3 ? "high" : "low");
    cJSON_AddNumberToObject(op->payload, "event_time", (double)(1790000000000 + h % 1000 * 60000));
    cJSON *e = cJSON_AddObjectToObject(op->payload, "entities");
    /* hosts every author's alerts share: two authors bring the same entity to a
     * case concurrently (test_alert_artifacts_order); users and addresses their own */
    snprintf(s, sizeof s, "%s", hosts[h % 4]);
    cJSON_AddStringToObject(e, "host", s);
    snprintf(s, sizeof s, "%c-%s", ref[0], users[h / 4 % 3]);
    cJSON_AddStringToObject(e, "user", s);
    snprintf(s, sizeof s, "198.51.%c.%u", ref[0], 1 + h % 9);
    cJSON_AddStringToObject(e, "ip", s);
    snprintf(s, sizeof s,
             "{\"flow_id\":%llu,\"ref\":\"%s\", \"note\": \"as the sensor wrote it\", \"seen\": %d}",
             1882548932481212123ULL + h % 1000, ref, seen);
    cJSON_AddItemToObject(op->payload, "raw", cJSON_CreateRaw(s));
    if (case_id) {
        cJSON_AddStringToObject(op->payload, "case", case_id);
        cJSON_AddTrueToObject(op->payload, "artifacts");
    }
    return op;
}

static vg_op *alert_of(const char *ref, const char *case_id)
{
    return alert_seen(ref, case_id, 0);
}

/* Author o's next alert: a new one of its own, or a repeat of one it holds (its
 * own or another author's, once synced: see test_concurrent_repeat), half of
 * them to the shared case (test_repeat_on_two_cases_in_one_batch). A repeat is
 * another sighting (another raw event) or the same record again, which its alert
 * does not count twice, whoever brings it. */
static vg_op *random_alert(vg_ws *ws, int o, const char *case_id)
{
    char ref[64];
    vg_id id;
    if (pick(2) && random_row(ws, "SELECT id, source_ref FROM alerts", id, ref, sizeof ref))
        return alert_seen(ref, pick(2) ? case_id : NULL, pick(3));
    snprintf(ref, sizeof ref, "%d-ref-%d", o, pick(1000000));
    return alert_of(ref, pick(2) ? case_id : NULL);
}

static vg_rc collect(void *ud, vg_op *op)
{
    replica *r = ud;
    if (strcmp(op->origin, vg_ws_replica(r->ws)) == 0)
        recs[nrecs++].op = copy_op(op);
    return VG_OK;
}

/* One step of author o: an op, or an import of a few alerts in one batch; the ops
 * it made (read from its log, as sync would) become records. */
static void author_step(replica *authors, int o, int *per_origin)
{
    replica *r = &authors[o];
    vg_err err = {0};
    if (pick(12) == 0) {
        vg_id c;
        bool on_case = pick(2) && random_row(r->ws, "SELECT id FROM cases", c, NULL, 0);
        assert_int_equal(vg_batch_begin(r->ws, &err), VG_OK);
        for (int n = 2 + pick(4); n > 0; n--) {
            vg_op *op = random_alert(r->ws, o, on_case ? c : NULL);
            if (vg_apply(r->ws, op, &err) != VG_OK)
                fail_msg("author %d: alert.add: %s", o, err.msg);
            vg_op_free(op);
        }
        assert_int_equal(vg_batch_commit(r->ws, &err), VG_OK);
    } else {
        vg_op *op = random_op(r->ws);
        if (vg_apply(r->ws, op, &err) != VG_OK)
            fail_msg("author %d: %s: %s", o, op->kind, err.msg);
        vg_op_free(op); /* a set to the value it had writes nothing and sends nothing */
    }
    int first = nrecs;
    assert_int_equal(vg_ops_each(r->ws, r->read, collect, r, &err), VG_OK);
    r->read = sql_int(r->ws, "SELECT coalesce(max(seq), 0) FROM ops");
    for (int i = first; i < nrecs; i++) {
        rec *x = &recs[i];
        x->origin = o;
        x->index = per_origin[o]++;
        memcpy(x->deps, r->seen, sizeof x->deps);
        r->seen[o]++;
        r->done[i] = true;
    }
}

/* How many of the records are ops of this kind. */
static int recs_of(const char *kind)
{
    int n = 0;
    for (int i = 0; i < nrecs; i++)
        n += strcmp(recs[i].op->kind, kind) == 0;
    return n;
}

/* The rarer branches of the workload (an inbox alert linked, a field removed) are
 * reached often enough in every run: the ids, made from the clock, steer the
 * random choices, so a run goes on past NOPS until it has them. */
static bool workload_done(void)
{
    return nrecs >= NOPS && recs_of("alert.set") > 3 && recs_of("field.remove") > 0;
}

static void test_three_replicas_converge(void **state)
{
    (void)state;
    char *dir = tmp_dir();
    replica authors[NORIGIN] = {0}, receivers[3] = {0};
    static const char *const names[NORIGIN] = {"alice", "bob", "chen"};
    for (int o = 0; o < NORIGIN; o++) {
        char n[32];
        snprintf(n, sizeof n, "author%d.db", o);
        char *p = path_in(dir, n);
        authors[o].ws = open_ws(p, names[o]);
        free(p);
    }
    int per_origin[NORIGIN] = {0};
    while (!workload_done() && nrecs < NMAX - 64) {
        int o = pick(NORIGIN);
        if (pick(10) == 0) {
            sync_all(&authors[o]);
            /* what sync wrote is others' ops: read past it */
            authors[o].read = sql_int(authors[o].ws, "SELECT coalesce(max(seq), 0) FROM ops");
        }
        author_step(authors, o, per_origin);
    }

    char want[65] = "", got[65];
    vg_err err = {0};
    for (int i = 0; i < 3; i++) {
        char n[32];
        snprintf(n, sizeof n, "recv%d.db", i);
        char *p = path_in(dir, n);
        receivers[i].ws = open_ws(p, "receiver");
        free(p);
        sync_all(&receivers[i]);
        for (int k = 0; k < nrecs; k++)
            assert_true(receivers[i].done[k]);
        assert_int_equal(vg_ws_digest(receivers[i].ws, got, &err), VG_OK);
        if (i == 0)
            memcpy(want, got, sizeof want);
        assert_string_equal(got, want);
        int64_t count, bad;
        assert_int_equal(vg_audit_verify(receivers[i].ws, NULL, &count, &bad, &err), VG_OK);
        assert_int_equal(count, nrecs);
    }
    /* The authors, once they have everything, agree with the receivers too. */
    for (int o = 0; o < NORIGIN; o++) {
        sync_all(&authors[o]);
        assert_int_equal(vg_ws_digest(authors[o].ws, got, &err), VG_OK);
        assert_string_equal(got, want);
    }
    /* The workload really exercised concurrency: concurrent sets and artifact churn. */
    assert_true(sql_int(receivers[0].ws, "SELECT count(*) FROM ops WHERE kind = 'case.set'") > 100);
    assert_true(sql_int(receivers[0].ws, "SELECT count(*) FROM artifacts WHERE removed = 1") > 0);
    /* ... custom fields defined, redefined and removed by several authors, values set
     * and cleared, defaults filled in at creation */
    assert_true(sql_int(receivers[0].ws, "SELECT count(DISTINCT origin) FROM ops"
                                         " WHERE kind = 'field.define'") > 1);
    assert_true(sql_int(receivers[0].ws, "SELECT count(*) FROM ops WHERE kind = 'field.remove'") > 0);
    assert_true(sql_int(receivers[0].ws, "SELECT count(*) FROM ops WHERE kind = 'case.set'"
                                         " AND json_extract(vg_payload(payload), '$.field')"
                                         " LIKE 'field.%'") > 20);
    assert_true(sql_int(receivers[0].ws, "SELECT count(*) FROM case_fields") > 5);
    assert_true(sql_int(receivers[0].ws, "SELECT count(*) FROM ops WHERE kind = 'case.create'"
                                         " AND json_extract(vg_payload(payload), '$.fields')"
                                         " IS NOT NULL") > 0);
    assert_true(sql_int(receivers[0].ws, "SELECT count(DISTINCT origin) FROM ops") == NORIGIN);
    /* ... alerts imported in batches, repeated across authors, on cases and linked */
    assert_int_equal(sql_int(receivers[0].ws, "SELECT count(*) FROM ops WHERE kind = 'alert.add'"), 0);
    assert_true(sql_int(receivers[0].ws, "SELECT count(*) FROM ops WHERE kind = 'alert.import'") > 10);
    assert_true(sql_int(receivers[0].ws, "SELECT count(*) FROM alerts WHERE count > 1") > 5);
    assert_true(sql_int(receivers[0].ws, "SELECT count(*) FROM artifacts WHERE source = 'alert'") > 0);
    assert_true(sql_int(receivers[0].ws, "SELECT count(*) FROM ops WHERE kind = 'alert.set'") > 3);
    assert_true(sql_int(receivers[0].ws, "SELECT count(*) FROM alerts WHERE status = 'linked'") > 3);
    /* the same (source, source_ref) imported by more than one author */
    assert_true(sql_int(receivers[0].ws,
                        "SELECT count(*) FROM (SELECT json_extract(e.value, '$.source_ref') r"
                        " FROM ops, json_each(vg_payload(payload), '$.alerts') e"
                        " WHERE kind = 'alert.import' AND r IS NOT NULL"
                        " GROUP BY json_extract(e.value, '$.source'), r"
                        " HAVING count(DISTINCT origin) > 1)") > 5);
    /* ... task logs, written by more than one author, on tasks others made */
    assert_true(sql_int(receivers[0].ws, "SELECT count(DISTINCT author) FROM task_logs") > 1);
    assert_true(sql_int(receivers[0].ws, "SELECT count(*) FROM task_logs l JOIN ops o"
                                         " ON o.target = l.task_id AND o.kind = 'task.add'"
                                         " WHERE o.actor <> l.author") > 0);
    /* ... merges, with writes for merged cases after them, and nothing left on a
     * merged case */
    assert_true(sql_int(receivers[0].ws, "SELECT count(*) FROM case_merges") > 5);
    assert_true(sql_int(receivers[0].ws, "SELECT count(*) FROM cases WHERE merged_into IS NOT"
                                         " NULL") > 5);
    assert_true(sql_int(receivers[0].ws,
                        "SELECT count(*) FROM ops o JOIN case_merges m"
                        " ON json_extract(vg_payload(o.payload), '$.case') = m.source"
                        " WHERE o.hlc > m.hlc") > 3);
    assert_int_equal(sql_int(receivers[0].ws,
                             "SELECT (SELECT count(*) FROM notes WHERE case_id IN (SELECT id"
                             "  FROM cases WHERE merged_into IS NOT NULL))"
                             " + (SELECT count(*) FROM artifacts WHERE case_id IN (SELECT id"
                             "  FROM cases WHERE merged_into IS NOT NULL))"
                             " + (SELECT count(*) FROM events WHERE case_id IN (SELECT id"
                             "  FROM cases WHERE merged_into IS NOT NULL))"
                             " + (SELECT count(*) FROM task_logs WHERE case_id IN (SELECT id"
                             "  FROM cases WHERE merged_into IS NOT NULL))"
                             " + (SELECT count(*) FROM evidence WHERE case_id IN (SELECT id"
                             "  FROM cases WHERE merged_into IS NOT NULL))"
                             " + (SELECT count(*) FROM cases m JOIN cases t"
                             "  ON t.id = m.merged_into WHERE t.merged_into IS NOT NULL)"),
                     0);
    assert_int_equal(sql_int(receivers[0].ws,
                             "SELECT count(*) FROM cases WHERE id IN (SELECT source FROM"
                             " case_merges) AND (status != 'closed' OR resolution != 'duplicate')"),
                     0);
    /* ... evidence, with chains of custody written on other replicas than the item's */
    assert_true(sql_int(receivers[0].ws, "SELECT count(*) FROM evidence") > 3);
    assert_true(sql_int(receivers[0].ws,
                        "SELECT count(*) FROM custody c JOIN ops o ON o.id = c.id"
                        " JOIN ops a ON a.target = c.evidence AND a.kind = 'evidence.add'"
                        " WHERE o.origin != a.origin") > 0);
    /* ... and the ledger: sessions of every author, on cases and general, continued */
    assert_true(sql_int(receivers[0].ws, "SELECT count(DISTINCT user) FROM ledger") == NORIGIN);
    assert_true(sql_int(receivers[0].ws, "SELECT count(*) FROM ledger WHERE case_id IS NULL") > 0);
    assert_true(sql_int(receivers[0].ws, "SELECT count(*) FROM ledger WHERE seq > 1") > 0);
    for (int i = 0; i < 3; i++) {
        int64_t count, bad;
        assert_int_equal(vg_ledger_verify(receivers[i].ws, &count, &bad, &err), VG_OK);
        assert_int_equal(count, sql_int(receivers[0].ws, "SELECT count(*) FROM ledger"));
    }

    for (int i = 0; i < 3; i++)
        vg_ws_close(receivers[i].ws);
    for (int o = 0; o < NORIGIN; o++)
        vg_ws_close(authors[o].ws);
    for (int i = 0; i < nrecs; i++)
        vg_op_free(recs[i].op);
    rm_tree(dir);
}

/* ---- the alert merge rules, where two replicas met the same alert or value apart:
 * each of these once left replicas apart (or stuck), until apply.c was fixed. ---- */

/* Two authors, and two receivers that take the authors' logs in both orders. */
typedef struct pair {
    char *dir;
    vg_ws *a, *b, *ab, *ba;
    vg_id case_id;
} pair;

static void pair_open(pair *p)
{
    static const char *const names[4] = {"a.db", "b.db", "ab.db", "ba.db"};
    vg_ws **ws[4] = {&p->a, &p->b, &p->ab, &p->ba};
    p->dir = tmp_dir();
    for (int i = 0; i < 4; i++) {
        char *path = path_in(p->dir, names[i]);
        *ws[i] = open_ws(path, i == 1 ? "bob" : "alice");
        free(path);
    }
    new_case(p->a, "shared", "high", p->case_id); /* b has it before either imports */
    copy_ops(p->a, p->b, "ORDER BY seq");
}

static void import_alert(vg_ws *ws, vg_op *op)
{
    vg_err err = {0};
    assert_int_equal(vg_batch_begin(ws, &err), VG_OK);
    if (vg_apply(ws, op, &err) != VG_OK)
        fail_msg("alert.add: %s", err.msg);
    vg_op_free(op);
    assert_int_equal(vg_batch_commit(ws, &err), VG_OK);
    usleep(3000); /* the next op is a later millisecond */
}

/* Both receivers take both logs, in the two orders, and must agree. */
static void pair_check(pair *p)
{
    copy_ops(p->a, p->ab, "ORDER BY seq");
    copy_ops(p->b, p->ab, "ORDER BY seq");
    copy_ops(p->b, p->ba, "ORDER BY seq");
    copy_ops(p->a, p->ba, "ORDER BY seq");
    char d1[65], d2[65];
    vg_err err = {0};
    assert_int_equal(vg_ws_digest(p->ab, d1, &err), VG_OK);
    assert_int_equal(vg_ws_digest(p->ba, d2, &err), VG_OK);
    assert_string_equal(d1, d2);
    /* every id an author gave an alert still finds it on both receivers */
    vg_ws *authors[2] = {p->a, p->b}, *receivers[2] = {p->ab, p->ba};
    for (int i = 0; i < 2; i++) {
        sqlite3_stmt *st = NULL;
        assert_int_equal(sqlite3_prepare_v2(authors[i]->db, "SELECT id FROM alerts", -1, &st,
                                            NULL), SQLITE_OK);
        while (sqlite3_step(st) == SQLITE_ROW)
            for (int r = 0; r < 2; r++) {
                vg_alert al;
                const char *id = (const char *)sqlite3_column_text(st, 0);
                if (vg_alert_get(receivers[r], id, &al, &err) != VG_OK)
                    fail_msg("alert %s: %s", id, err.msg);
                vg_alert_clear(&al);
            }
        sqlite3_finalize(st);
    }
}

static void pair_converge(pair *p)
{
    pair_check(p);
    vg_ws_close(p->a);
    vg_ws_close(p->b);
    vg_ws_close(p->ab);
    vg_ws_close(p->ba);
    rm_tree(p->dir);
}

/* Two analysts import the same alert (source, source_ref) before they sync,
 * under two ids; a replica folds the second into the first, keeping the smaller
 * id (ST_ALERT_INSERT's upsert), so the other author's alert.set on its own id
 * used to find "no such alert" there, and the replica could take no more of that
 * author's log: the other id names the alert too (alert_ids), and its field
 * clocks are kept under its (source, source_ref). */
static void test_link_of_concurrent_repeat(void **state)
{
    (void)state;
    pair p;
    pair_open(&p);
    import_alert(p.a, alert_of("0-same", NULL));
    import_alert(p.b, alert_of("0-same", NULL));
    vg_id y;
    col_id_of(p.b, "SELECT id FROM alerts", y);
    vg_op *link = vg_op_alert_link(y, p.case_id); /* bringing its entities */
    must_apply(p.b, link);
    pair_converge(&p);
}

/* The same alert imported by two analysts before they sync: the row once kept
 * whichever op a replica applied first (recorded_at, title, entities, raw event);
 * it takes the smaller id's content now, in either order. */
static void test_concurrent_repeat(void **state)
{
    (void)state;
    pair p;
    pair_open(&p);
    import_alert(p.a, alert_of("0-same", NULL));
    import_alert(p.b, alert_of("0-same", NULL));
    pair_check(&p);
    /* one record, brought by both: counted once on each */
    assert_int_equal(sql_int(p.ab, "SELECT count FROM alerts"), 1);
    assert_int_equal(sql_int(p.ba, "SELECT count FROM alerts"), 1);
    /* another sighting of it, brought by one: counted on both */
    import_alert(p.b, alert_seen("0-same", NULL, 1));
    pair_check(&p);
    assert_int_equal(sql_int(p.ab, "SELECT count FROM alerts"), 2);
    assert_int_equal(sql_int(p.ba, "SELECT count FROM alerts"), 2);
    pair_converge(&p);
}

/* Two alerts on one case bringing the same entity as an artifact, on two
 * replicas: the artifact was made by whichever a replica applied first and the
 * other skipped; now each op carries its author's choice and is merged as
 * artifact.add merges, with one id per value on a case. */
static void test_alert_artifacts_order(void **state)
{
    (void)state;
    pair p;
    pair_open(&p);
    vg_op *op = alert_of("0-a", p.case_id);
    import_alert(p.a, op);
    op = alert_of("0-a", p.case_id); /* the same entities, another alert */
    cJSON_ReplaceItemInObject(op->payload, "source_ref", cJSON_CreateString("0-b"));
    cJSON_ReplaceItemInObject(op->payload, "event_time", cJSON_CreateNumber(1790000000000.0));
    import_alert(p.b, op);
    pair_converge(&p);
}

/* One batch holding an alert and its repeat on two different cases, both with
 * artifacts: true: the artifacts' ids once came from the alert, not the case, and
 * the door failed with "UNIQUE constraint failed: artifacts.id". */
static void test_repeat_on_two_cases_in_one_batch(void **state)
{
    (void)state;
    char *dir = tmp_dir(), *path = path_in(dir, "ws.db");
    vg_ws *ws = open_ws(path, "alice");
    vg_id c1, c2;
    new_case(ws, "one", "high", c1);
    new_case(ws, "two", "high", c2);
    vg_err err = {0};
    assert_int_equal(vg_batch_begin(ws, &err), VG_OK);
    must_apply(ws, alert_of("0-same", c1));
    must_apply(ws, alert_of("0-same", c2));
    assert_int_equal(vg_batch_commit(ws, &err), VG_OK);
    assert_int_equal(sql_int(ws, "SELECT count(DISTINCT case_id) FROM artifacts"), 2);
    vg_ws_close(ws);
    free(path);
    rm_tree(dir);
}

/* ---- merges met apart: a merge on one replica while another writes to the merged
 * case, and merges that disagree ---- */

/* Both receivers take both logs in the two orders; they must agree, and a replay
 * of each must make the same tables. Leaves the pair open. */
static void pair_agree(pair *p)
{
    copy_ops(p->a, p->ab, "ORDER BY seq");
    copy_ops(p->b, p->ab, "ORDER BY seq");
    copy_ops(p->b, p->ba, "ORDER BY seq");
    copy_ops(p->a, p->ba, "ORDER BY seq");
    char d1[65], d2[65];
    vg_err err = {0};
    assert_int_equal(vg_ws_digest(p->ab, d1, &err), VG_OK);
    assert_int_equal(vg_ws_digest(p->ba, d2, &err), VG_OK);
    assert_string_equal(d1, d2);
    vg_ws *r[2] = {p->ab, p->ba};
    for (int i = 0; i < 2; i++) {
        char name[32];
        snprintf(name, sizeof name, "replay%d.db", i);
        char *scratch = path_in(p->dir, name);
        int64_t n, bad;
        if (vg_audit_replay_check(r[i], scratch, &n, &err) != VG_OK)
            fail_msg("replay: %s", err.msg);
        free(scratch);
        assert_int_equal(vg_ledger_verify(r[i], &n, &bad, &err), VG_OK);
    }
}

static int64_t count_on(vg_ws *ws, const char *table, const char *case_id)
{
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE case_id = '%s'", table, case_id);
    return sql_int(ws, sql);
}

/* a merges S into the shared case T; b, not knowing, writes to S: a note, a task, a
 * value T holds and one it does not, an alert bringing its entities, a copilot
 * entry. On both receivers, in both orders, all of it is on T, the shared value
 * counted once more, and S is closed as a duplicate. */
static void test_merge_while_another_writes(void **state)
{
    (void)state;
    pair p;
    pair_open(&p);
    vg_id s;
    new_case(p.a, "same incident", "low", s);
    must_apply(p.a, vg_op_artifact_add(p.case_id, "domain", "evil.example"));
    must_apply(p.a, vg_op_note_add(s, "before"));
    copy_ops(p.a, p.b, "ORDER BY seq"); /* b has S and T */
    usleep(3000);
    must_apply(p.a, vg_op_case_merge(s, p.case_id));
    must_apply(p.b, vg_op_note_add(s, "after, elsewhere"));
    must_apply(p.b, vg_op_task_add(s, "containment", "block the sender"));
    must_apply(p.b, vg_op_artifact_add(s, "domain", "evil.example"));
    must_apply(p.b, vg_op_artifact_add(s, "ip", "203.0.113.50"));
    must_apply(p.b, vg_op_case_set(s, "status", "in_progress"));
    vg_id sess;
    vg_ulid(vg_now_ms(), sess);
    must_apply(p.b, vg_op_ledger_add(s, sess, "bob", "prompt", "m", "{\"q\":2}"));
    import_alert(p.b, alert_of("1-late", s));
    pair_agree(&p);
    vg_ws *r[2] = {p.ab, p.ba};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(count_on(r[i], "notes", s) + count_on(r[i], "tasks", s) +
                             count_on(r[i], "artifacts", s) + count_on(r[i], "alerts", s) +
                             count_on(r[i], "ledger", s) + count_on(r[i], "events", s),
                         0);
        assert_int_equal(count_on(r[i], "notes", p.case_id), 2);
        assert_int_equal(count_on(r[i], "tasks", p.case_id), 1);
        assert_int_equal(count_on(r[i], "alerts", p.case_id), 1);
        assert_int_equal(count_on(r[i], "ledger", p.case_id), 1);
        assert_int_equal(sql_int(r[i], "SELECT sightings FROM artifacts WHERE value ="
                                       " 'evil.example'"), 2);
        assert_true(sql_int(r[i], "SELECT count(*) FROM artifacts WHERE source = 'alert'") > 0);
        char sql[200];
        snprintf(sql, sizeof sql, "SELECT status = 'closed' AND resolution = 'duplicate'"
                                  " FROM cases WHERE id = '%s'", s);
        assert_int_equal(sql_int(r[i], sql), 1);
        /* bob goes on with his session under the old case, as vigild checks a push */
        vg_err err = {0};
        if (vg_ledger_session_check(r[i], s, sess, "bob", &err) != VG_OK)
            fail_msg("session check: %s", err.msg);
    }
    vg_ws_close(p.a);
    vg_ws_close(p.b);
    vg_ws_close(p.ab);
    vg_ws_close(p.ba);
    rm_tree(p.dir);
}

/* Merges that disagree, made apart: a merges X into Y while b merges X into Z; and
 * a merges U into V while b merges V into U. Each group ends on one case, the same
 * on both receivers whatever came first, and nothing is left elsewhere. */
static void test_merges_that_disagree(void **state)
{
    (void)state;
    pair p;
    pair_open(&p);
    vg_id x, y, z, u, v;
    new_case(p.a, "x", "low", x);
    new_case(p.a, "y", "low", y);
    new_case(p.a, "z", "low", z);
    new_case(p.a, "u", "low", u);
    new_case(p.a, "v", "low", v);
    const char *ids[5] = {x, y, z, u, v};
    for (int i = 0; i < 5; i++) {
        must_apply(p.a, vg_op_note_add(ids[i], "a note"));
        must_apply(p.a, vg_op_artifact_add(ids[i], "domain", "shared.example"));
    }
    copy_ops(p.a, p.b, "ORDER BY seq");
    must_apply(p.a, vg_op_case_merge(x, y));
    must_apply(p.a, vg_op_case_merge(u, v));
    usleep(3000);
    must_apply(p.b, vg_op_case_merge(x, z));
    must_apply(p.b, vg_op_case_merge(v, u));
    must_apply(p.b, vg_op_note_add(x, "late"));
    pair_agree(&p);
    vg_ws *r[2] = {p.ab, p.ba};
    for (int i = 0; i < 2; i++) {
        /* x, y, z: one live case holding every note and one combined value */
        assert_int_equal(sql_int(r[i], "SELECT count(DISTINCT case_id) FROM notes"), 2);
        assert_int_equal(sql_int(r[i], "SELECT count(*) FROM artifacts"), 2);
        assert_int_equal(sql_int(r[i], "SELECT sum(sightings) FROM artifacts"), 5);
        /* the shared case, z (the later merge of x) and u (the later of the cycle) */
        assert_int_equal(sql_int(r[i], "SELECT count(*) FROM cases WHERE merged_into IS NULL"), 3);
        assert_int_equal(count_on(r[i], "notes", z), 4);
        assert_int_equal(count_on(r[i], "notes", u), 2);
    }
    vg_ws_close(p.a);
    vg_ws_close(p.b);
    vg_ws_close(p.ab);
    vg_ws_close(p.ba);
    rm_tree(p.dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_three_replicas_converge),
        cmocka_unit_test(test_link_of_concurrent_repeat),
        cmocka_unit_test(test_concurrent_repeat),
        cmocka_unit_test(test_alert_artifacts_order),
        cmocka_unit_test(test_repeat_on_two_cases_in_one_batch),
        cmocka_unit_test(test_merge_while_another_writes),
        cmocka_unit_test(test_merges_that_disagree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
