/*
 * test_oplog.c — the op log at rest: compressed payloads, alerts' raw events kept
 * once in the alert.import ops that brought them, replay into a new replica, and
 * tampering that `audit verify` must name.
 *
 * One workspace is filled the way an analyst fills one: a few thousand alerts of
 * ECS, Suricata, Wazuh and native records over small pools of hosts, users and
 * addresses (so correlation opens cases and repeats fold), imported in two runs
 * with copilot ledger entries between and after them. The tests copy it.
 */
#include "helpers.h"
#include "import.h"
#include "vigil/ledger.h"

#include <sys/stat.h>

#define NREC 4000
#define BIG_FLOW "1882548932481212123" /* above 2^53: a double would round it */

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint64_t rnd(void) { return xorshift(&rng); }
static int pick(int n) { return (int)(rnd() % (uint64_t)n); }

/* One record as a vendor writes it (no trailing newline) into line. */
static void record(int i, char *line, size_t sz)
{
    static const char *const rules[] = {"Suspicious PowerShell Encoded Command",
                                        "LSASS Memory Access", "Office Child Process",
                                        "Connection to Newly Registered Domain",
                                        "Multiple Logon Failures", "Scheduled Task Created"};
    static const char *const sigs[] = {"ET SCAN Potential SSH Scan",
                                       "ET MALWARE Cobalt Strike Beacon",
                                       "ET POLICY curl User-Agent"};
    static const char *const sevs[] = {"low", "medium", "high", "critical"};
    char host[24], user[24], ip[32], iso[64];
    int day = 1 + pick(28), hh = pick(24), mm = pick(60), ss = pick(60), ms = pick(1000);
    snprintf(host, sizeof host, "ws-%03d", pick(40));
    snprintf(user, sizeof user, "user%02d", pick(30));
    snprintf(ip, sizeof ip, "198.51.100.%d", 1 + pick(50));
    snprintf(iso, sizeof iso, "2026-10-%02dT%02d:%02d:%02d.%03d", day, hh, mm, ss, ms);
    int64_t t = 1790812800000 + (int64_t)(day - 1) * 86400000 + hh * 3600000 + mm * 60000 +
                ss * 1000 + ms;
    int k = pick(100);
    if (k < 30)
        snprintf(line, sz,
                 "{\"@timestamp\":\"%sZ\",\"kibana.alert.uuid\":\"%064x\","
                 "\"kibana.alert.rule.name\":\"%s\",\"kibana.alert.severity\":\"%s\","
                 "\"host\":{\"name\":\"%s\"},\"user\":{\"name\":\"%s\"},"
                 "\"destination\":{\"ip\":\"%s\"},\"process\":{\"name\":\"powershell.exe\","
                 "\"command_line\":\"powershell -nop -w hidden -enc SQBFAFgA\"},"
                 "\"ecs\":{\"version\":\"8.11.0\"}}",
                 iso, i, rules[pick(6)], sevs[pick(4)], host, user, ip);
    else if (k < 60)
        snprintf(line, sz,
                 "{\"timestamp\":\"%s+0000\",\"flow_id\":%lld,\"event_type\":\"alert\","
                 "\"src_ip\":\"10.0.%d.%d\",\"src_port\":%d,\"dest_ip\":\"%s\",\"dest_port\":443,"
                 "\"proto\":\"TCP\",\"alert\":{\"signature_id\":%d,\"signature\":\"%s\","
                 "\"severity\":%d}}",
                 iso, 1000000000000000LL + i, pick(256), 1 + pick(254), 1024 + pick(60000), ip,
                 2000000 + pick(3), sigs[pick(3)], 1 + pick(3));
    else if (k < 85)
        snprintf(line, sz,
                 "{\"timestamp\":\"%s+0000\",\"rule\":{\"level\":%d,\"description\":\"sshd:"
                 " authentication failed.\",\"id\":\"5716\",\"mitre\":{\"id\":[\"T1110\"]}},"
                 "\"agent\":{\"id\":\"004\",\"name\":\"%s\"},\"id\":\"%lld.%d\","
                 "\"full_log\":\"sshd[%d]: Failed password for %s from %s port 52214 ssh2\","
                 "\"data\":{\"srcip\":\"%s\",\"srcuser\":\"%s\"}}",
                 iso, 3 + pick(12), host, (long long)(t / 1000), i, i % 30000, user, ip, ip, user);
    else
        snprintf(line, sz,
                 "{\"source\":\"edr\",\"source_ref\":\"edr-%d\",\"title\":\"%s\",\"severity\":%d,"
                 "\"time\":%lld,\"entities\":{\"host\":\"%s\",\"user\":\"%s\"},"
                 "\"techniques\":[\"T1059.001\"]}",
                 i, rules[pick(6)], pick(5), (long long)t, host, user);
}

/* Records [from, to) of the data set as JSON lines at path; one line in ten is a
 * new sighting of an earlier record (the same alert, one field more: dedup folds
 * it), and record 1000 is a Suricata alert whose
 * flow_id needs all 64 bits. */
static void write_records(const char *path, int from, int to)
{
    static char lines[NREC][1024];
    static int made;
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = from; i < to; i++) {
        if (i >= made) {
            if (i == 1000)
                snprintf(lines[i], sizeof lines[i],
                         "{\"timestamp\":\"2026-10-03T10:00:00.000+0000\",\"flow_id\":" BIG_FLOW ","
                         "\"event_type\":\"alert\",\"src_ip\":\"10.1.2.3\",\"src_port\":50000,"
                         "\"dest_ip\":\"198.51.100.7\",\"dest_port\":443,\"proto\":\"TCP\","
                         "\"alert\":{\"signature_id\":2000001,\"signature\":\"ET MALWARE Cobalt"
                         " Strike Beacon\",\"severity\":1}}");
            else if (i > 50 && pick(10) == 0) {
                char was[sizeof lines[i]];
                memcpy(was, lines[pick(i)], sizeof was);
                size_t n = strlen(was);
                snprintf(lines[i], sizeof lines[i], "%.*s,\"sighting_%d\":1}", (int)(n - 1), was,
                         i);
            }
            else
                record(i, lines[i], sizeof lines[i]);
            made = i + 1;
        }
        fprintf(f, "%s\n", lines[i]);
    }
    fclose(f);
}

/* Import path; how many of its records the workspace held already. */
static int64_t import_file(vg_ws *ws, const char *path)
{
    imp_opts o = {.format = IMP_AUTO, .correlate = true};
    imp_stats st = {0};
    vg_err err = {0};
    char *names[] = {(char *)path};
    if (imp_files(ws, names, 1, &o, &st, &err) != VG_OK)
        fail_msg("import %s: %s", path, err.msg);
    assert_int_equal(st.rejected, 0);
    assert_int_equal(st.read, st.stored + st.merged + st.already);
    int64_t already = st.already;
    imp_stats_free(&st);
    return already;
}

static void ledger_entry(vg_ws *ws, const char *session, const char *content)
{
    vg_err err = {0};
    if (vg_ledger_append(ws, NULL, session, vg_ws_actor(ws), 0, "m", content, NULL, &err))
        fail_msg("ledger: %s", err.msg);
}

typedef struct world {
    char *dir, *src; /* the filled workspace, closed */
} world;

static int world_setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    w->dir = tmp_dir();
    w->src = path_in(w->dir, "src.db");
    char *a = path_in(w->dir, "a.jsonl"), *b = path_in(w->dir, "b.jsonl");
    write_records(a, 0, NREC / 2);
    write_records(b, NREC / 2, NREC);
    vg_ws *ws = open_ws(w->src, "alice");
    vg_id session;
    vg_ulid(vg_now_ms(), session);
    assert_int_equal(import_file(ws, a), 0);
    ledger_entry(ws, session, "{\"question\":\"what hit ws-001?\"}");
    ledger_entry(ws, session, "{\"answer\":\"beacons\"}");
    ledger_entry(ws, session, "{\"question\":\"and then?\"}");
    assert_int_equal(import_file(ws, b), 0);
    ledger_entry(ws, session, "{\"answer\":\"lateral movement\"}");
    vg_ws_close(ws);
    free(a);
    free(b);
    *state = w;
    return 0;
}

static int world_teardown(void **state)
{
    world *w = *state;
    free(w->src);
    rm_tree(w->dir);
    free(w);
    return 0;
}

/* A copy of the filled workspace, opened (closed workspaces have no WAL left). */
static vg_ws *copy_of(world *w, const char *name, char **path_out)
{
    char *p = path_in(w->dir, name), cmd[9000];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", w->src, p);
    assert_int_equal(system(cmd), 0);
    vg_ws *ws = open_ws(p, "alice");
    if (path_out)
        *path_out = p;
    else
        free(p);
    return ws;
}

/* The filled workspace is what the tests below need it to be. */
static void test_workload_shape(void **state)
{
    world *w = *state;
    vg_ws *ws = copy_of(w, "shape.db", NULL);
    assert_true(sql_int(ws, "SELECT count(*) FROM ops WHERE kind = 'alert.import'") >= 4);
    assert_true(sql_int(ws, "SELECT count(*) FROM ops WHERE kind = 'alert.import'"
                            " AND json_array_length(vg_payload(payload), '$.alerts') > 100") >= 2);
    assert_true(sql_int(ws, "SELECT count(*) FROM ops WHERE typeof(payload) = 'blob'") >= 4);
    assert_true(sql_int(ws, "SELECT count(*) FROM ops WHERE typeof(payload) = 'text'") >= 1);
    assert_int_equal(sql_int(ws, "SELECT count(*) FROM ops WHERE kind = 'alert.add'"), 0);
    assert_int_equal(sql_int(ws, "SELECT count(*) FROM ops WHERE kind = 'ledger.add'"), 4);
    assert_true(sql_int(ws, "SELECT count(*) FROM cases") >= 5);        /* correlation */
    assert_true(sql_int(ws, "SELECT count(*) FROM alerts WHERE count > 1") >= 50); /* dedup */
    assert_true(sql_int(ws, "SELECT count(*) FROM alerts WHERE case_id IS NOT NULL") >= 50);
    /* every alert's raw event lives in its op: none kept in the row */
    assert_int_equal(sql_int(ws, "SELECT count(*) FROM alerts WHERE raw != ''"), 0);
    assert_int_equal(sql_int(ws, "SELECT count(*) FROM alerts WHERE raw_at IS NULL"), 0);
    /* the stored alerts are the elements the alert.import ops carry, less the repeats */
    assert_int_equal(sql_int(ws, "SELECT sum(json_array_length(vg_payload(payload), '$.alerts'))"
                                 " FROM ops WHERE kind = 'alert.import'"), NREC);
    assert_int_equal(sql_int(ws, "SELECT sum(count) FROM alerts"), NREC);
    vg_ws_close(ws);
}

/* The same files imported again write nothing: every record is one the workspace
 * holds (its alert's own or one counted into it), so no op is added and the state
 * is what it was; a record seen again with something new in it is counted. */
static void test_reimport_is_a_no_op(void **state)
{
    world *w = *state;
    vg_ws *ws = copy_of(w, "again.db", NULL);
    char d1[65], d2[65], *a = path_in(w->dir, "a.jsonl"), *b = path_in(w->dir, "b.jsonl");
    vg_err err = {0};
    int64_t nops = sql_int(ws, "SELECT count(*) FROM ops");
    assert_int_equal(vg_ws_digest(ws, d1, &err), VG_OK);
    assert_int_equal(import_file(ws, b), NREC - NREC / 2);
    assert_int_equal(import_file(ws, a), NREC / 2);
    assert_int_equal(sql_int(ws, "SELECT count(*) FROM ops"), nops);
    assert_int_equal(vg_ws_digest(ws, d2, &err), VG_OK);
    assert_string_equal(d1, d2);
    assert_int_equal(sql_int(ws, "SELECT sum(count) FROM alerts"), NREC);
    /* one record of the file, sighted again with a field more: counted */
    char *line = sql_text(ws, "SELECT vg_raw(raw, raw_op, raw_at) FROM alerts"
                              " WHERE source = 'wazuh' ORDER BY id LIMIT 1");
    char *c = path_in(w->dir, "c.jsonl");
    FILE *f = fopen(c, "w");
    assert_non_null(f);
    fprintf(f, "%s\n%.*s,\"again\":true}\n", line, (int)strlen(line) - 1, line);
    fclose(f);
    assert_int_equal(import_file(ws, c), 1);
    assert_int_equal(sql_int(ws, "SELECT sum(count) FROM alerts"), NREC + 1);
    free(line);
    free(a);
    free(b);
    free(c);
    vg_ws_close(ws);
}

/* Every alert's id and raw event (vg_raw), in id order; the caller frees it. */
static char *raws(vg_ws *ws)
{
    return sql_text(ws, "SELECT group_concat(id || ' ' || r, char(10)) FROM"
                        " (SELECT id, vg_raw(raw, raw_op, raw_at) r FROM alerts ORDER BY id)");
}

/* A replica made from the log alone holds the same state, op for op: the same
 * ops (so the same chain head: every op's bytes and place), the same digest, and
 * every alert's raw event, 64-bit flow id included, byte for byte. */
static void test_replay(void **state)
{
    world *w = *state;
    vg_ws *src = copy_of(w, "replay-src.db", NULL);
    char *rp = path_in(w->dir, "replica.db");
    vg_ws *r = open_ws(rp, "bob");
    int64_t ops, applied, count, bad;
    vg_err err = {0};
    if (vg_replay(r, vg_ws_path(src), &ops, &applied, &err) != VG_OK)
        fail_msg("replay: %s", err.msg);
    int64_t nops = sql_int(src, "SELECT count(*) FROM ops");
    assert_int_equal(ops, nops);
    assert_int_equal(applied, nops);
    assert_int_equal(sql_int(r, "SELECT count(*) FROM ops"), nops);
    assert_int_equal(vg_audit_verify(r, NULL, &count, &bad, &err), VG_OK);
    assert_int_equal(count, nops);
    assert_int_equal(vg_ledger_verify(r, &count, &bad, &err), VG_OK);
    assert_int_equal(count, 4);

    char d1[65], d2[65];
    assert_int_equal(vg_ws_digest(src, d1, &err), VG_OK);
    assert_int_equal(vg_ws_digest(r, d2, &err), VG_OK);
    assert_string_equal(d2, d1);
    char *h1 = sql_text(src, "SELECT hex(hash) FROM ops ORDER BY seq DESC LIMIT 1");
    char *h2 = sql_text(r, "SELECT hex(hash) FROM ops ORDER BY seq DESC LIMIT 1");
    assert_string_equal(h2, h1);
    free(h1);
    free(h2);
    assert_int_equal(sql_int(r, "SELECT count(*) FROM ops WHERE typeof(payload) = 'blob'"),
                     sql_int(src, "SELECT count(*) FROM ops WHERE typeof(payload) = 'blob'"));

    /* the records each alert has counted (each replica keys its own digests) */
    static const char recs[] = "SELECT group_concat(r, ' ') FROM (SELECT a.id || ':'"
                               " || (a.rec IS NOT NULL) || ':' || (SELECT count(*) FROM alert_recs x"
                               " WHERE x.alert = a.rowid) r FROM alerts a ORDER BY a.id)";
    char *r1 = sql_text(src, recs), *r2 = sql_text(r, recs);
    assert_string_equal(r2, r1);
    free(r1);
    free(r2);
    char *a = raws(src), *b = raws(r);
    assert_true(strlen(a) > NREC * 100);
    assert_string_equal(b, a);
    free(a);
    free(b);
    /* the big flow id as the sensor wrote it, in both */
    static const char q[] = "SELECT vg_raw(raw, raw_op, raw_at) FROM alerts"
                            " WHERE vg_raw(raw, raw_op, raw_at) LIKE '%" BIG_FLOW "%'";
    char *big = sql_text(r, q), *big_src = sql_text(src, q);
    assert_non_null(strstr(big, "\"flow_id\":" BIG_FLOW ","));
    assert_string_equal(big, big_src);
    free(big);
    free(big_src);

    /* replayed again: everything is there already */
    assert_int_equal(vg_replay(r, vg_ws_path(src), &ops, &applied, &err), VG_OK);
    assert_int_equal(ops, nops);
    assert_int_equal(applied, 0);
    vg_ws_close(r);
    vg_ws_close(src);
    free(rp);
}

/* ---- tampering ------------------------------------------------------------------- */

static void assert_named(vg_ws *ws, int64_t seq, const char *why)
{
    int64_t count, bad;
    vg_err err = {0};
    assert_int_equal(vg_audit_verify(ws, NULL, &count, &bad, &err), VG_ECORRUPT);
    char want[64];
    snprintf(want, sizeof want, "op log broken at seq %lld ", (long long)seq);
    if (bad != seq || !strstr(err.msg, want) || (why && !strstr(err.msg, why)))
        fail_msg("wanted seq %lld (%s), got %lld: %s", (long long)seq, why ? why : "",
                 (long long)bad, err.msg);
}

static void set_payload(vg_ws *ws, int64_t seq, const void *p, int n)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(ws->db, "UPDATE ops SET payload = ? WHERE seq = ?", -1,
                                        &st, NULL), SQLITE_OK);
    sqlite3_bind_blob(st, 1, p, n, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, seq);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
}

/* The compressed payload of op seq (malloc'd), its size in *n. */
static unsigned char *frame_of(vg_ws *ws, int64_t seq, int *n)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(ws->db, "SELECT payload FROM ops WHERE seq = ?", -1, &st,
                                        NULL), SQLITE_OK);
    sqlite3_bind_int64(st, 1, seq);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_type(st, 0), SQLITE_BLOB);
    *n = sqlite3_column_bytes(st, 0);
    unsigned char *p = malloc((size_t)*n);
    memcpy(p, sqlite3_column_blob(st, 0), (size_t)*n);
    sqlite3_finalize(st);
    return p;
}

static void test_tamper_flipped_byte(void **state)
{
    world *w = *state;
    vg_ws *ws = copy_of(w, "flip.db", NULL);
    int64_t count, bad;
    vg_err err = {0};
    assert_int_equal(vg_audit_verify(ws, NULL, &count, &bad, &err), VG_OK);
    int64_t seq = sql_int(ws, "SELECT min(seq) FROM ops WHERE typeof(payload) = 'blob'"
                              " AND kind = 'alert.import' AND seq > 10");
    assert_true(seq > 0);
    int n;
    unsigned char *p = frame_of(ws, seq, &n);
    /* past the frame and block headers, inside the compressed content */
    p[n / 2] ^= 0x20;
    set_payload(ws, seq, p, n);
    assert_named(ws, seq, NULL);
    free(p);
    vg_ws_close(ws);
}

static void test_tamper_truncated_frame(void **state)
{
    world *w = *state;
    vg_ws *ws = copy_of(w, "trunc.db", NULL);
    int64_t seq = sql_int(ws, "SELECT max(seq) FROM ops WHERE typeof(payload) = 'blob'"
                              " AND kind = 'alert.import'");
    int n;
    unsigned char *p = frame_of(ws, seq, &n);
    set_payload(ws, seq, p, n - 7);
    assert_named(ws, seq, "does not decompress");
    free(p);
    vg_ws_close(ws);
}

static void test_tamper_deleted_ledger_op(void **state)
{
    world *w = *state;
    vg_ws *ws = copy_of(w, "del.db", NULL);
    /* one between the imports: the op after it no longer follows */
    int64_t seq = sql_int(ws, "SELECT seq FROM ops WHERE kind = 'ledger.add' ORDER BY seq"
                              " LIMIT 1 OFFSET 1");
    char sql[100];
    snprintf(sql, sizeof sql, "DELETE FROM ops WHERE seq = %lld", (long long)seq);
    assert_int_equal(sqlite3_exec(ws->db, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_named(ws, seq + 1, "does not follow the op before it");
    vg_ws_close(ws);

    /* the last op of all: the chain cannot tell, the head its commits recorded can,
     * and so can the ledger's session count */
    ws = copy_of(w, "del-last.db", NULL);
    int64_t count, bad;
    vg_err err = {0};
    char *last = sql_text(ws, "SELECT kind FROM ops ORDER BY seq DESC LIMIT 1");
    assert_string_equal(last, "ledger.add");
    free(last);
    assert_int_equal(sqlite3_exec(ws->db, "DELETE FROM ops WHERE seq = (SELECT max(seq) FROM ops)",
                                  NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(vg_audit_verify(ws, NULL, &count, &bad, &err), VG_ECORRUPT);
    assert_non_null(strstr(err.msg, "op log cut short: its head is seq"));
    assert_non_null(strstr(err.msg, "(1 ops removed outside vigil)"));
    assert_int_equal(vg_ledger_verify(ws, &count, &bad, &err), VG_ECORRUPT);
    assert_int_equal(bad, sql_int(ws, "SELECT max(id) FROM ledger"));
    assert_non_null(strstr(err.msg, "4 entries and the op log 3 ledger.add ops"));
    vg_ws_close(ws);
}

static void test_tamper_swapped_imports(void **state)
{
    world *w = *state;
    /* their payloads swapped: the first of the two no longer matches its hash */
    vg_ws *ws = copy_of(w, "swap-payload.db", NULL);
    int64_t a = sql_int(ws, "SELECT seq FROM ops WHERE kind = 'alert.import' ORDER BY seq"
                            " LIMIT 1 OFFSET 2");
    int64_t b = sql_int(ws, "SELECT seq FROM ops WHERE kind = 'alert.import' ORDER BY seq"
                            " LIMIT 1 OFFSET 3");
    assert_true(a > 0 && b > a);
    char sql[300];
    snprintf(sql, sizeof sql,
             "UPDATE ops SET payload = CASE seq WHEN %lld THEN (SELECT payload FROM ops WHERE"
             " seq = %lld) ELSE (SELECT payload FROM ops WHERE seq = %lld) END"
             " WHERE seq IN (%lld, %lld)",
             (long long)a, (long long)b, (long long)a, (long long)a, (long long)b);
    assert_int_equal(sqlite3_exec(ws->db, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_named(ws, a, "do not match its hash");
    vg_ws_close(ws);

    /* the rows swapped (each keeps its hash): the batch out of order is named */
    ws = copy_of(w, "swap-seq.db", NULL);
    snprintf(sql, sizeof sql,
             "UPDATE ops SET seq = -1 WHERE seq = %lld; UPDATE ops SET seq = %lld WHERE seq = %lld;"
             " UPDATE ops SET seq = %lld WHERE seq = -1",
             (long long)a, (long long)a, (long long)b, (long long)b);
    assert_int_equal(sqlite3_exec(ws->db, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_named(ws, a, "does not follow the op before it");
    vg_ws_close(ws);
}

/* A received alert.import with one bad alert is refused whole, naming the alert
 * and what is wrong, with nothing written; nor is an alert.import made locally,
 * and an artifacts choice must be true or a short list of places. */
static void test_bad_alert_import_refused_whole(void **state)
{
    (void)state;
    char *dir = tmp_dir(), *path = path_in(dir, "ws.db");
    vg_ws *ws = open_ws(path, "alice");
    const char *origin = "01JBBBBBBBBBBBBBBBBBBBBBBB";
    uint64_t hlc = VG_HLC(vg_now_ms(), 0);
    static const char *const bad[][2] = {
        {"{\"alerts\":[{\"id\":\"01JAAAAAAAAAAAAAAAAAAAAAA1\",\"source\":\"edr\",\"title\":\"one\","
         "\"event_time\":1},{\"id\":\"01JAAAAAAAAAAAAAAAAAAAAAA2\",\"source\":\"edr\","
         "\"event_time\":2},{\"id\":\"01JAAAAAAAAAAAAAAAAAAAAAA3\",\"source\":\"edr\","
         "\"title\":\"three\",\"event_time\":3}]}", "alerts[1]: title: required"},
        {"{\"alerts\":[{\"id\":\"01JAAAAAAAAAAAAAAAAAAAAAA1\",\"source\":\"edr\",\"title\":\"one\","
         "\"event_time\":1},{\"source\":\"edr\",\"title\":\"no id\",\"event_time\":2}]}",
         "alerts[1]: needs an object with an id"},
        {"{\"alerts\":[]}", "alerts: must be a list of 1 to"},
        {"{\"alerts\":\"many\"}", "alerts: must be a list of 1 to"},
        {"{\"alerts\":[{\"id\":\"01JAAAAAAAAAAAAAAAAAAAAAA1\",\"source\":\"edr\",\"title\":\"one\","
         "\"event_time\":1,\"artifacts\":\"yes\"}]}", "alerts[0]: artifacts: true, or a list"},
    };
    vg_err err = {0};
    /* each refused inside one batch that goes on: nothing of it may stay behind */
    assert_int_equal(vg_batch_begin(ws, &err), VG_OK);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        vg_op *op = stamped("alert.import", NULL, hlc + i, origin, bad[i][0]);
        const char *msg = must_fail(ws, op, VG_EINVAL);
        if (!strstr(msg, bad[i][1]))
            fail_msg("case %zu: '%s' does not say '%s'", i, msg, bad[i][1]);
    }
    assert_int_equal(vg_batch_commit(ws, &err), VG_OK);
    assert_int_equal(sql_int(ws, "SELECT count(*) FROM alerts"), 0);
    assert_int_equal(sql_int(ws, "SELECT count(*) FROM ops"), 0);
    vg_op *local = vg_op_new("alert.import", NULL);
    cJSON_AddItemToObject(local->payload, "alerts", cJSON_CreateArray());
    assert_non_null(strstr(must_fail(ws, local, VG_EINVAL), "made by the door"));
    vg_op *add = vg_op_new("alert.add", NULL);
    cJSON_AddStringToObject(add->payload, "source", "edr");
    cJSON_AddStringToObject(add->payload, "title", "t");
    cJSON_AddNumberToObject(add->payload, "event_time", 1);
    cJSON *many = cJSON_AddArrayToObject(add->payload, "artifacts");
    for (int k = 0; k < 201; k++)
        cJSON_AddItemToArray(many, cJSON_CreateNumber(k));
    assert_non_null(strstr(must_fail(ws, add, VG_EINVAL), "a list of at most 200 places"));
    /* and the good part of the first op, alone, goes in */
    vg_op *good = stamped("alert.import", NULL, hlc + 10, origin,
                          "{\"alerts\":[{\"id\":\"01JAAAAAAAAAAAAAAAAAAAAAA1\",\"source\":\"edr\","
                          "\"title\":\"one\",\"event_time\":1}]}");
    must_apply(ws, good);
    assert_int_equal(sql_int(ws, "SELECT count(*) FROM alerts"), 1);
    vg_ws_close(ws);
    free(path);
    rm_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_workload_shape),
        cmocka_unit_test(test_replay),
        cmocka_unit_test(test_reimport_is_a_no_op),
        cmocka_unit_test(test_tamper_flipped_byte),
        cmocka_unit_test(test_tamper_truncated_frame),
        cmocka_unit_test(test_tamper_deleted_ledger_op),
        cmocka_unit_test(test_tamper_swapped_imports),
        cmocka_unit_test(test_bad_alert_import_refused_whole),
    };
    return cmocka_run_group_tests(tests, world_setup, world_teardown);
}
