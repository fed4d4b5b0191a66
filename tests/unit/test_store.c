/*
 * test_store.c — opening workspaces: what is refused (and left untouched), and
 * migrations: a workspace built from empty and one migrated from every earlier
 * schema version end with the same schema, and the older one keeps its data.
 */
#include "helpers.h"
#include "oplog.h"
#include "vigil/ledger.h"

#include <sodium.h>
#include <sys/stat.h>

static void file_hash(const char *path, unsigned char out[32])
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 32);
    unsigned char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        crypto_generichash_update(&h, buf, n);
    fclose(f);
    crypto_generichash_final(&h, out, 32);
}

static void assert_refused_untouched(const char *path, vg_rc want, const char *words)
{
    unsigned char before[32], after[32];
    struct stat sb;
    file_hash(path, before);
    vg_ws *ws = NULL;
    vg_err err = {0};
    assert_int_equal(vg_ws_open(path, VG_OPEN_CREATE, &ws, &err), want);
    assert_null(ws);
    if (!strstr(err.msg, words))
        fail_msg("message '%s' lacks '%s'", err.msg, words);
    file_hash(path, after);
    assert_memory_equal(before, after, 32);
    char side[4200];
    snprintf(side, sizeof side, "%s-wal", path);
    assert_int_not_equal(stat(side, &sb), 0); /* no WAL file was made beside it */
}

static void test_refuses_foreign_files(void **state)
{
    (void)state;
    char *dir = tmp_dir(), *text = path_in(dir, "notes.txt"), *other = path_in(dir, "other.db");
    FILE *f = fopen(text, "w");
    fputs("this is a text file, not a database\n", f);
    for (int i = 0; i < 200; i++)
        fputs("padding line to make it look like a real file\n", f);
    fclose(f);
    assert_refused_untouched(text, VG_ENOTVIGIL, "not an SQLite database");

    sqlite3 *db;
    assert_int_equal(sqlite3_open(other, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(x); INSERT INTO t VALUES (1);", NULL, NULL,
                                  NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_refused_untouched(other, VG_ENOTVIGIL, "another application");
    free(text);
    free(other);
    rm_tree(dir);
}

static void test_refuses_newer_schema(void **state)
{
    (void)state;
    char *dir = tmp_dir(), *p = path_in(dir, "ws.db");
    vg_ws *ws = open_ws(p, "alice");
    vg_ws_close(ws);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", VG_SCHEMA_VERSION + 1);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_refused_untouched(p, VG_ENEWER, "newer vigil");
    free(p);
    rm_tree(dir);
}

static int notices;
static char last_notice[700];

static void on_notice(const char *msg)
{
    notices++;
    snprintf(last_notice, sizeof last_notice, "%s", msg);
}

/* A new workspace is 0600 whatever the umask lets through, its -wal and -shm too;
 * one that its group may write opens with one notice that says so. */
static void test_private_workspace(void **state)
{
    (void)state;
    char *dir = tmp_dir(), *p = path_in(dir, "ws.db"), *wal = path_in(dir, "ws.db-wal");
    mode_t old = umask(002);
    vg_ws_on_notice(on_notice);
    notices = 0;
    vg_ws *ws = open_ws(p, "alice");
    struct stat sb;
    assert_int_equal(stat(p, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(stat(wal, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    vg_ws_close(ws);
    assert_int_equal(notices, 0);
    assert_int_equal(chmod(p, 0660), 0);
    ws = open_ws(p, "alice");
    vg_ws_close(ws);
    assert_int_equal(notices, 1);
    assert_non_null(strstr(last_notice, "writable by its group (mode 0660)"));
    vg_ws_on_notice(NULL);
    umask(old);
    free(p);
    free(wal);
    rm_tree(dir);
}

static void test_missing_and_empty(void **state)
{
    (void)state;
    char *dir = tmp_dir(), *p = path_in(dir, "nope.db"), *e = path_in(dir, "empty.db");
    vg_ws *ws = NULL;
    vg_err err = {0};
    assert_int_equal(vg_ws_open(p, 0, &ws, &err), VG_ENOTFOUND);
    assert_int_not_equal(access(p, F_OK), 0); /* not created */
    FILE *f = fopen(e, "w");
    fclose(f);
    assert_int_equal(vg_ws_open(e, 0, &ws, &err), VG_ENOTVIGIL);
    assert_int_equal(vg_ws_open(dir, 0, &ws, &err), VG_ENOTVIGIL); /* a directory */
    free(p);
    free(e);
    rm_tree(dir);
}

static void test_fresh_workspace_settings(void **state)
{
    (void)state;
    char *dir = tmp_dir(), *p = path_in(dir, "ws.db");
    vg_ws *ws = open_ws(p, "alice");
    assert_int_equal(sql_int(ws, "PRAGMA user_version"), VG_SCHEMA_VERSION);
    assert_int_equal(sql_int(ws, "PRAGMA application_id"), VG_APPLICATION_ID);
    assert_int_equal(sql_int(ws, "PRAGMA foreign_keys"), 1);
    assert_true(vg_ulid_valid(vg_ws_replica(ws)));
    char replica[27];
    memcpy(replica, vg_ws_replica(ws), sizeof replica);
    vg_ws_close(ws);
    ws = open_ws(p, "bob"); /* reopening keeps the identity */
    assert_string_equal(vg_ws_replica(ws), replica);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(ws->db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    vg_ws_close(ws);
    free(p);
    rm_tree(dir);
}

/* The schema as text: every object's type, name and SQL, in name order. */
static char *schema_of(sqlite3 *db)
{
    sqlite3_stmt *st;
    size_t cap = 1 << 16, len = 0;
    char *out = calloc(1, cap);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT type, name, coalesce(sql, '') FROM sqlite_master"
                                            " ORDER BY name", -1, &st, NULL), SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        int n = snprintf(out + len, cap - len, "%s %s %s\n", sqlite3_column_text(st, 0),
                         sqlite3_column_text(st, 1), sqlite3_column_text(st, 2));
        assert_true(n > 0 && (size_t)n < cap - len);
        len += (size_t)n;
    }
    sqlite3_finalize(st);
    return out;
}

static void test_migrations_from_every_version(void **state)
{
    (void)state;
    char *dir = tmp_dir(), *fresh = path_in(dir, "fresh.db");
    vg_ws *ws = open_ws(fresh, "alice");
    char *want = schema_of(ws->db);
    /* the digest vg_ws_open compares a workspace's schema with first (internal.h) */
    char digest[65];
    assert_int_equal(ws_schema_digest(ws->db, digest), VG_OK);
    if (strcmp(digest, VG_SCHEMA_DIGEST) != 0)
        fail_msg("the schema changed: VG_SCHEMA_DIGEST is now \"%s\"", digest);
    vg_ws_close(ws);
    assert_non_null(strstr(want, "fts"));

    for (int v = 0; v < VG_SCHEMA_VERSION; v++) {
        char name[32];
        snprintf(name, sizeof name, "v%d.db", v);
        char *p = path_in(dir, name);
        sqlite3 *db;
        vg_err err = {0};
        assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
        assert_int_equal(ws_migrate_to(db, v, &err), VG_OK);
        if (v >= 1) /* a case written by that version must survive the migration */
            assert_int_equal(sqlite3_exec(db,
                "INSERT INTO cases(id, ref, title, severity, status, created_at, updated_at)"
                " VALUES ('01JABCDEFGHJKMNPQRSTVWXYZ0', 7, 'kept across migrations', 3, 'new', 1, 1)",
                NULL, NULL, NULL), SQLITE_OK);
        if (v >= 1) /* and a copilot ledger entry on it, hash bytes and all */
            assert_int_equal(sqlite3_exec(db,
                "INSERT INTO ledger(id, case_id, session_id, user, seq, kind, content, created_at,"
                " prev_hash, hash) VALUES (3, '01JABCDEFGHJKMNPQRSTVWXYZ0',"
                " '01JABCDEFGHJKMNPQRSTVWXYZ1', 'alice', 1, 'prompt', '{}', 5, zeroblob(32),"
                " x'00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff')",
                NULL, NULL, NULL), SQLITE_OK);
        if (v >= 2 && v < 9) /* versions 2-8: the door indexes what it staged at commit */
            assert_int_equal(sqlite3_exec(db,
                "INSERT INTO fts(rowid, body) SELECT key, body FROM fts_pending"
                " WHERE body IS NOT NULL; DELETE FROM fts_pending", NULL, NULL, NULL), SQLITE_OK);
        if (v >= 9) /* from version 9 on, the door indexes the rows it wrote itself */
            assert_int_equal(sqlite3_exec(db,
                "INSERT INTO fts(rowid, body) SELECT rowid * 8 + 1, title || ' ' || description"
                " FROM cases", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
        ws = open_ws(p, "alice");
        char *got = schema_of(ws->db);
        assert_string_equal(got, want);
        assert_int_equal(sql_int(ws, "PRAGMA user_version"), VG_SCHEMA_VERSION);
        if (v >= 1) {
            assert_int_equal(sql_int(ws, "SELECT ref FROM cases WHERE title = 'kept across migrations'"), 7);
            vg_hit *h;
            size_t n;
            vg_err e2 = {0};
            assert_int_equal(vg_search(ws, "migrations", 5, &h, &n, &e2), VG_OK);
            assert_int_equal(n, 1); /* the FTS index was built over existing rows too */
            vg_hits_free(h, n);
            /* the ledger rebuilt by step 6 kept the entry as it was, and it is an op */
            assert_int_equal(sql_int(ws, "SELECT count(*) FROM ledger WHERE id = 3 AND case_id ="
                                          " '01JABCDEFGHJKMNPQRSTVWXYZ0' AND seq = 1 AND"
                                          " hex(hash) LIKE '00112233%EEFF'"), 1);
            /* (from step 12 on, an entry is written with its op: there is none to make) */
            assert_int_equal(sql_int(ws, "SELECT count(*) FROM ops WHERE kind = 'ledger.add'"
                                          " AND target = '01JABCDEFGHJKMNPQRSTVWXYZ1'"), v < 12);
        }
        /* from step 6 a ledger entry may belong to no case (a general session), but
         * "no case" is spelt NULL only */
        assert_int_equal(sqlite3_exec(ws->db,
            "INSERT INTO ledger(case_id, session_id, user, seq, kind, content, created_at,"
            " prev_hash, hash) VALUES (NULL, '01JABCDEFGHJKMNPQRSTVWXYZ2', 'alice', 1, 'prompt',"
            " '{}', 5, zeroblob(32), zeroblob(32))", NULL, NULL, NULL), SQLITE_OK);
        assert_int_not_equal(sqlite3_exec(ws->db,
            "INSERT INTO ledger(case_id, session_id, user, seq, kind, content, created_at,"
            " prev_hash, hash) VALUES ('', '01JABCDEFGHJKMNPQRSTVWXYZ3', 'alice', 1, 'prompt',"
            " '{}', 5, zeroblob(32), zeroblob(32))", NULL, NULL, NULL), SQLITE_OK);
        free(got);
        vg_ws_close(ws);
        free(p);
    }
    free(want);
    free(fresh);
    rm_tree(dir);
}

/* ---- the ledger into the op log ------------------------------------------------------ */

#define CASE_ID "01JABCDEFGHJKMNPQRSTVWXYZ0"
#define S_CASE "01JABCDEFGHJKMNPQRSTVWXYZ1"    /* alice's, on the case */
#define S_GENERAL "01JABCDEFGHJKMNPQRSTVWXYZ2" /* bob's general pane */

static void put_str(crypto_generichash_state *h, const char *s)
{
    crypto_generichash_update(h, (const unsigned char *)s, strlen(s) + 1);
}

static void put_i64(crypto_generichash_state *h, int64_t v)
{
    unsigned char be[8];
    for (int i = 0; i < 8; i++)
        be[i] = (unsigned char)((uint64_t)v >> (56 - 8 * i));
    crypto_generichash_update(h, be, sizeof be);
}

/* An entry as vigil wrote them before the ledger became ops: its hash chained to
 * the previous entry of the whole ledger (prev, updated to the new hash). */
static void old_entry(sqlite3 *db, int64_t id, const char *case_id, const char *session,
                      const char *user, int64_t seq, const char *content, int64_t at,
                      unsigned char prev[32])
{
    unsigned char hash[32];
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 32);
    crypto_generichash_update(&h, prev, 32);
    put_str(&h, case_id ? case_id : "");
    put_str(&h, session);
    put_str(&h, user);
    put_i64(&h, seq);
    put_str(&h, "prompt");
    put_str(&h, "m");
    put_str(&h, content);
    put_i64(&h, at);
    crypto_generichash_final(&h, hash, 32);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO ledger(id, case_id, session_id, user,"
                                            " seq, kind, model, content, created_at, prev_hash,"
                                            " hash) VALUES (?, ?, ?, ?, ?, 'prompt', 'm', ?, ?,"
                                            " ?, ?)", -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, case_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, session, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, user, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, seq);
    sqlite3_bind_text(st, 6, content, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, at);
    sqlite3_bind_blob(st, 8, prev, 32, SQLITE_STATIC);
    sqlite3_bind_blob(st, 9, hash, 32, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    memcpy(prev, hash, 32);
}

#define OLD_ROWS "SELECT group_concat(id || '|' || coalesce(case_id, '-') || '|' || session_id" \
                 " || '|' || user || '|' || seq || '|' || content || '|' || created_at || '|'"  \
                 " || hex(prev_hash) || '|' || hex(hash), char(10)) FROM ledger"

static char *old_rows(sqlite3 *db)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, OLD_ROWS, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    char *s = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return s;
}

/* Every version before the ledger went into the op log (its entries have no
 * legacy_chain yet) with a whole-ledger chain of two users' sessions, interleaved:
 * the migration keeps every entry and hash, makes one stamped op per entry, and
 * both chains and the op log verify; a replica that receives those ops makes the
 * same rows; the sessions go on under the per-session rule. */
static void test_ledger_becomes_ops(void **state)
{
    (void)state;
    char *dir = tmp_dir();
    int tried = 0;
    for (int v = 6; v < VG_SCHEMA_VERSION; v++) {
        char name[32];
        snprintf(name, sizeof name, "v%d.db", v);
        char *p = path_in(dir, name);
        sqlite3 *db;
        vg_err err = {0};
        assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
        assert_int_equal(ws_migrate_to(db, v, &err), VG_OK);
        sqlite3_stmt *st;
        assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM pragma_table_info('ledger')"
                                                " WHERE name = 'legacy_chain'", -1, &st, NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        bool after = sqlite3_column_int(st, 0) > 0;
        sqlite3_finalize(st);
        if (after) { /* a version that has the ledger in ops already */
            sqlite3_close(db);
            free(p);
            continue;
        }
        tried++;
        assert_int_equal(sqlite3_exec(db,
            "INSERT INTO cases(id, ref, title, severity, status, created_at, updated_at)"
            " VALUES ('" CASE_ID "', 1, 'kept', 3, 'new', 1, 1)", NULL, NULL, NULL), SQLITE_OK);
        unsigned char prev[32] = {0};
        /* two entries in one millisecond: their ops' clocks count up */
        old_entry(db, 1, CASE_ID, S_CASE, "alice", 1, "{\"question\":\"a\"}", 1700000000000, prev);
        old_entry(db, 2, NULL, S_GENERAL, "bob", 1, "{\"question\":\"b\"}", 1700000000000, prev);
        old_entry(db, 3, CASE_ID, S_CASE, "alice", 2, "{\"question\":\"c\"}", 1700000005000, prev);
        char *before = old_rows(db);
        sqlite3_close(db);

        vg_ws *ws = open_ws(p, "alice");
        char *after_rows = old_rows(ws->db);
        assert_string_equal(after_rows, before); /* every entry and hash as it was */
        free(after_rows);
        char sql[300];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM ledger WHERE legacy_chain = '%s'",
                 vg_ws_replica(ws));
        assert_int_equal(sql_int(ws, sql), 3);
        int64_t count, bad;
        assert_int_equal(vg_ledger_verify(ws, &count, &bad, &err), VG_OK);
        assert_int_equal(count, 3);
        assert_int_equal(vg_audit_verify(ws, NULL, &count, &bad, &err), VG_OK);
        assert_int_equal(count, 3);
        /* one stamped op per entry, in the entries' order: by its user, on its
         * session, from this replica, at the entry's time */
        snprintf(sql, sizeof sql, "SELECT group_concat(actor || ' ' || target || ' ' ||"
                 " (hlc >> 16) || ' ' || (hlc & 65535), ',') FROM ops WHERE kind = 'ledger.add'"
                 " AND origin = '%s'", vg_ws_replica(ws));
        char *ops = sql_text(ws, sql);
        assert_string_equal(ops, "alice " S_CASE " 1700000000000 0,bob " S_GENERAL
                                 " 1700000000000 1,alice " S_CASE " 1700000005000 0");
        free(ops);

        /* a replica that receives them (the case by its own op) makes the same rows */
        snprintf(name, sizeof name, "r%d.db", v);
        char *rp = path_in(dir, name);
        vg_ws *r = open_ws(rp, "receiver");
        must_apply(r, stamped("case.create", CASE_ID, VG_HLC(1, 0), vg_ws_replica(ws),
                              "{\"title\":\"kept\",\"severity\":\"high\"}"));
        copy_ops(ws, r, "WHERE kind = 'ledger.add' ORDER BY seq");
        char *want = sql_text(ws, LEDGER_ROWS), *got = sql_text(r, LEDGER_ROWS);
        assert_string_equal(got, want);
        free(got);
        free(want);
        assert_int_equal(vg_ledger_verify(r, &count, &bad, &err), VG_OK);
        assert_int_equal(count, 3);

        /* the sessions go on, chained per session from their old entries */
        int64_t seq;
        assert_int_equal(vg_ledger_append(ws, CASE_ID, S_CASE, "alice", 0, "m", "{}", &seq, &err),
                         VG_OK);
        assert_int_equal(seq, 3);
        assert_int_equal(sql_int(ws, "SELECT count(*) FROM ledger n JOIN ledger o ON o.id = 3"
                                     " WHERE n.seq = 3 AND n.prev_hash = o.hash"
                                     " AND n.legacy_chain IS NULL"), 1);
        vg_ws_set_actor(ws, "bob");
        assert_int_equal(vg_ledger_append(ws, NULL, S_GENERAL, "bob", 0, "m", "{}", &seq, &err),
                         VG_OK);
        assert_int_equal(seq, 2);
        assert_int_equal(vg_ledger_verify(ws, &count, &bad, &err), VG_OK);
        assert_int_equal(count, 5);
        copy_ops(ws, r, "WHERE kind = 'ledger.add' ORDER BY seq"); /* the new two */
        want = sql_text(ws, LEDGER_ROWS);
        got = sql_text(r, LEDGER_ROWS);
        assert_string_equal(got, want);
        free(got);
        free(want);
        vg_ws_close(r);
        free(rp);

        /* opened again: no second set of ops */
        vg_ws_close(ws);
        ws = open_ws(p, "alice");
        assert_int_equal(sql_int(ws, "SELECT count(*) FROM ops WHERE kind = 'ledger.add'"), 5);
        /* an old entry edited is named by its old rule */
        assert_int_equal(sqlite3_exec(ws->db, "UPDATE ledger SET content = '{}' WHERE id = 2",
                                      NULL, NULL, NULL), SQLITE_OK);
        assert_int_equal(vg_ledger_verify(ws, &count, &bad, &err), VG_ECORRUPT);
        assert_int_equal(bad, 2);
        assert_non_null(strstr(err.msg, "ledger broken at entry 2"));
        vg_ws_close(ws);
        free(before);
        free(p);
    }
    assert_true(tried > 0);
    rm_tree(dir);
}


/* ---- alerts' raw events into their ops, payloads compressed (schema step 11) --------- */

#define ORIGIN "01JAAAAAAAAAAAAAAAAAAAAAAA"
#define A_SAME "01JALERT00000000000000000A"   /* row raw = its op's raw, byte for byte */
#define A_SPACED "01JALERT00000000000000000B" /* received: row raw is the op's, minified */
#define A_EDITED "01JALERT00000000000000000C" /* row raw differs from its op's */
#define A_NO_OP "01JALERT00000000000000000D"  /* no op carries it */
#define A_REPEAT "01JALERT00000000000000000E" /* two alert.add ops; the first brought it */
#define A_EMPTY "01JALERT00000000000000000F"  /* no raw event at all */

/* An op as vigil wrote them before step 11: text payload, chained after prev. */
static void old_op(sqlite3 *db, int64_t seq, const char *kind, const char *target,
                   const char *payload, unsigned char prev[32])
{
    unsigned char hash[32];
    char id[27];
    uint64_t hlc = VG_HLC(1700000000000 + seq, 0);
    vg_ulid_hlc(hlc, id);
    oplog_hash(prev, id, hlc, ORIGIN, "alice", "", kind, target, payload, hash);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO ops(seq, id, hlc, origin, actor, tenant,"
                                            " kind, target, payload, prev_hash, hash) VALUES"
                                            " (?, ?, ?, '" ORIGIN "', 'alice', '', ?, ?, ?, ?, ?)",
                                        -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)hlc);
    sqlite3_bind_text(st, 4, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, target, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, payload, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 7, prev, 32, SQLITE_STATIC);
    sqlite3_bind_blob(st, 8, hash, 32, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    memcpy(prev, hash, 32);
}

static void old_alert(sqlite3 *db, const char *id, const char *source_ref, int64_t count,
                      const char *raw)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO alerts(id, source, source_ref, title,"
                                            " severity, event_time, first_seen, last_seen, count,"
                                            " status, case_id, raw, recorded_at) VALUES"
                                            " (?, 'edr', ?, 'Beacon', 3, 5, 5, 5, ?, 'linked', '"
                                            CASE_ID "', ?, 6)", -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, source_ref, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, count);
    sqlite3_bind_text(st, 4, raw, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
}

static char *alert_payload(const char *ref, const char *raw)
{
    char *p = malloc(strlen(raw) + 300);
    sprintf(p, "{\"source\":\"edr\",\"source_ref\":\"%s\",\"title\":\"Beacon\",\"severity\":"
               "\"high\",\"event_time\":5,\"case\":\"" CASE_ID "\"%s%s}", ref, *raw ? ",\"raw\":" : "",
            raw);
    return p;
}

/* An old raw event, about 1.5 KB, that compresses (a beacon's command line). */
static void big_raw(int i, char *out, size_t sz)
{
    int n = snprintf(out, sz, "{\"flow_id\":%lld,\"host\":{\"name\":\"ws-%03d\"},\"cmd\":\"",
                     1882548932481212123LL - i, i % 300);
    for (int k = 0; k < 24 && (size_t)n < sz - 100; k++)
        n += snprintf(out + n, sz - (size_t)n, "powershell -nop -w hidden -enc SQBFAFgA%02d ", k);
    snprintf(out + n, sz - (size_t)n, "\",\"n\":%d}", i);
}

#define OP_ROWS(max) "SELECT group_concat(seq || ':' || kind || ':' || hex(prev_hash) || ':'" \
                     " || hex(hash), ',') FROM ops WHERE seq <= " max

/* A workspace of every version before step 11 holding alerts whose raw events are
 * in their rows and in the alert.add ops that brought them, other ops and ledger
 * entries, migrates with every alert and raw event (vg_raw reads each as it was,
 * a row whose raw is not its op's keeps its own), every op, payload text and hash
 * and every ledger hash kept, payloads compressed where that is smaller, both
 * chains verifying and SQLite's integrity check passing. At version 10 it is
 * large, and the migration gives the space it freed back to the disk. */
static void test_raw_events_into_ops(void **state)
{
    (void)state;
    char *dir = tmp_dir();
    for (int v = 1; v <= 10; v++) {
        char name[32];
        snprintf(name, sizeof name, "raw%d.db", v);
        char *p = path_in(dir, name);
        sqlite3 *db;
        vg_err err = {0};
        assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
        assert_int_equal(ws_migrate_to(db, v, &err), VG_OK);
        assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db,
            "INSERT INTO cases(id, ref, title, severity, status, created_at, updated_at)"
            " VALUES ('" CASE_ID "', 1, 'kept', 3, 'new', 1, 1)", NULL, NULL, NULL), SQLITE_OK);
        unsigned char prev[32] = {0}, lprev[32] = {0};
        int64_t seq = 0;
        old_op(db, ++seq, "case.create", CASE_ID, "{\"title\":\"kept\",\"severity\":\"high\"}", prev);
        char raw[2048];
        big_raw(0, raw, sizeof raw);
        char *pl = alert_payload("r-same", raw);
        old_op(db, ++seq, "alert.add", A_SAME, pl, prev);
        int64_t same_seq = seq;
        free(pl);
        old_alert(db, A_SAME, "r-same", 1, raw);
        pl = alert_payload("r-spaced", "{\"a\": 1, \"b\": [1, 2], \"flow_id\": 1882548932481212123}");
        old_op(db, ++seq, "alert.add", A_SPACED, pl, prev);
        free(pl);
        old_alert(db, A_SPACED, "r-spaced", 1, "{\"a\":1,\"b\":[1,2],\"flow_id\":1882548932481212123}");
        pl = alert_payload("r-edited", "{\"original\":1}");
        old_op(db, ++seq, "alert.add", A_EDITED, pl, prev);
        free(pl);
        old_alert(db, A_EDITED, "r-edited", 1, "{\"edited\":true}");
        old_alert(db, A_NO_OP, "r-no-op", 1, "{\"from\":\"before the log\"}");
        pl = alert_payload("r-repeat", "{\"first\":1}");
        old_op(db, ++seq, "alert.add", A_REPEAT, pl, prev);
        int64_t repeat_seq = seq;
        free(pl);
        old_entry(db, 1, CASE_ID, S_CASE, "alice", 1, "{\"question\":\"a\"}", 1700000000000, lprev);
        old_op(db, ++seq, "note.add", "01JNOTE0000000000000000000",
               "{\"case\":\"" CASE_ID "\",\"body\":\"looked at it\"}", prev);
        pl = alert_payload("r-repeat", "{\"second\":2}");
        old_op(db, ++seq, "alert.add", A_REPEAT, pl, prev);
        free(pl);
        old_alert(db, A_REPEAT, "r-repeat", 2, "{\"first\":1}");
        pl = alert_payload("r-empty", "");
        old_op(db, ++seq, "alert.add", A_EMPTY, pl, prev);
        free(pl);
        old_alert(db, A_EMPTY, "r-empty", 1, "{}");
        old_entry(db, 2, CASE_ID, S_CASE, "alice", 2, "{\"answer\":\"b\"}",
                  1700000001000, lprev);
        int nbig = v == 10 ? 12000 : 20; /* version 10: a workspace worth reclaiming */
        for (int i = 1; i <= nbig; i++) {
            char id[27], ref[32];
            snprintf(id, sizeof id, "01JBULK%019d", i);
            snprintf(ref, sizeof ref, "bulk-%d", i);
            big_raw(i, raw, sizeof raw);
            pl = alert_payload(ref, raw);
            old_op(db, ++seq, "alert.add", id, pl, prev);
            free(pl);
            old_alert(db, id, ref, 1, raw);
        }
        old_entry(db, 3, CASE_ID, S_CASE, "alice", 3, "{\"question\":\"c\"}", 1700000002000, lprev);
        if (v >= 2 && v < 9) /* the door indexed what it staged at commit */
            assert_int_equal(sqlite3_exec(db, "INSERT INTO fts(rowid, body) SELECT key, body FROM"
                                              " fts_pending WHERE body IS NOT NULL;"
                                              " DELETE FROM fts_pending", NULL, NULL, NULL),
                             SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
        char *raws_before = NULL, *ops_before = NULL, *texts_before = NULL, *ledger_before;
        sqlite3_stmt *st;
        static const char *const q[3] = {
            "SELECT group_concat(id || ' ' || raw, char(10)) FROM (SELECT id, raw FROM alerts"
            " WHERE id != '" A_SPACED "' ORDER BY id)",
            OP_ROWS("1e18"),
            "SELECT group_concat(seq || ':' || payload, char(10)) FROM ops"};
        char **dst[3] = {&raws_before, &ops_before, &texts_before};
        for (int i = 0; i < 3; i++) {
            assert_int_equal(sqlite3_prepare_v2(db, q[i], -1, &st, NULL), SQLITE_OK);
            assert_int_equal(sqlite3_step(st), SQLITE_ROW);
            *dst[i] = strdup((const char *)sqlite3_column_text(st, 0));
            sqlite3_finalize(st);
        }
        ledger_before = old_rows(db);
        sqlite3_close(db);
        struct stat sb;
        assert_int_equal(stat(p, &sb), 0);
        off_t size_before = sb.st_size;

        vg_ws *ws = open_ws(p, "alice");
        assert_int_equal(sql_int(ws, "PRAGMA user_version"), VG_SCHEMA_VERSION);
        char *s = sql_text(ws, "SELECT group_concat(id || ' ' || r, char(10)) FROM (SELECT id,"
                               " vg_raw(raw, raw_op, raw_at) r FROM alerts"
                               " WHERE id != '" A_SPACED "' ORDER BY id)");
        assert_string_equal(s, raws_before); /* every raw event as it was */
        free(s);
        /* the received one reads as its author wrote it, the same JSON */
        s = sql_text(ws, "SELECT vg_raw(raw, raw_op, raw_at) FROM alerts WHERE id = '" A_SPACED "'");
        assert_string_equal(s, "{\"a\": 1, \"b\": [1, 2], \"flow_id\": 1882548932481212123}");
        free(s);
        /* kept once: in the op, or in the row when no op carries the same event */
        assert_int_equal(sql_int(ws, "SELECT count(*) FROM alerts WHERE raw != ''"), 2);
        assert_int_equal(sql_int(ws, "SELECT count(*) FROM alerts WHERE raw != '' AND id IN ('"
                                     A_EDITED "', '" A_NO_OP "')"), 2);
        char sql[200];
        snprintf(sql, sizeof sql, "SELECT raw_op FROM alerts WHERE id = '%s'", A_SAME);
        assert_int_equal(sql_int(ws, sql), same_seq);
        snprintf(sql, sizeof sql, "SELECT raw_op FROM alerts WHERE id = '%s'", A_REPEAT);
        assert_int_equal(sql_int(ws, sql), repeat_seq);
        assert_int_equal(sql_int(ws, "SELECT count(*) FROM alerts WHERE raw_at IS NOT NULL"), 0);
        /* every op as it was, its hash over the same text, now compressed where smaller */
        char max[24];
        snprintf(max, sizeof max, "%lld", (long long)seq);
        char op_rows[160];
        snprintf(op_rows, sizeof op_rows, OP_ROWS("%s"), max);
        s = sql_text(ws, op_rows);
        assert_string_equal(s, ops_before);
        free(s);
        snprintf(sql, sizeof sql, "SELECT group_concat(seq || ':' || vg_payload(payload), char(10))"
                                  " FROM ops WHERE seq <= %s", max);
        s = sql_text(ws, sql);
        assert_string_equal(s, texts_before);
        free(s);
        assert_int_equal(sql_int(ws, "SELECT count(*) FROM ops WHERE kind = 'alert.add' AND"
                                     " typeof(payload) != 'blob' AND length(payload) > 1000"), 0);
        assert_true(sql_int(ws, "SELECT count(*) FROM ops WHERE typeof(payload) = 'blob'") >= nbig);
        assert_int_equal(sql_int(ws, "SELECT count(*) FROM ops WHERE typeof(payload) = 'blob'"
                                     " AND length(payload) >= length(vg_payload(payload))"), 0);
        assert_int_equal(sql_int(ws, "SELECT count(*) FROM ops WHERE kind = 'case.create'"
                                     " AND typeof(payload) = 'text'"), 1);
        /* the ledger: its entries and hashes, and one op each after the old ones */
        s = old_rows(ws->db);
        assert_string_equal(s, ledger_before);
        free(s);
        int64_t count, bad;
        assert_int_equal(vg_ledger_verify(ws, &count, &bad, &err), VG_OK);
        assert_int_equal(count, 3);
        assert_int_equal(vg_audit_verify(ws, NULL, &count, &bad, &err), VG_OK);
        assert_int_equal(count, seq + 3);
        s = sql_text(ws, "PRAGMA integrity_check");
        assert_string_equal(s, "ok");
        free(s);
        if (v == 10) { /* the space the rows' raw events and the texts held is given back */
            assert_int_equal(sql_int(ws, "PRAGMA freelist_count"), 0);
            assert_true(sql_int(ws, "PRAGMA page_count") * sql_int(ws, "PRAGMA page_size") <
                        size_before / 2);
        }
        char hex[65];
        assert_int_equal(vg_ws_digest(ws, hex, &err), VG_OK);
        vg_ws_close(ws);
        ws = open_ws(p, "alice"); /* opened again: nothing moves */
        assert_int_equal(sql_int(ws, "SELECT count(*) FROM ops"), seq + 3);
        char again[65];
        assert_int_equal(vg_ws_digest(ws, again, &err), VG_OK);
        assert_string_equal(again, hex);
        vg_ws_close(ws);
        free(raws_before);
        free(ops_before);
        free(texts_before);
        free(ledger_before);
        free(p);
    }
    rm_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refuses_foreign_files),
        cmocka_unit_test(test_refuses_newer_schema),
        cmocka_unit_test(test_missing_and_empty),
        cmocka_unit_test(test_private_workspace),
        cmocka_unit_test(test_fresh_workspace_settings),
        cmocka_unit_test(test_migrations_from_every_version),
        cmocka_unit_test(test_ledger_becomes_ops),
        cmocka_unit_test(test_raw_events_into_ops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
