/*
 * test_store.c — opening workspaces: what is refused (and left untouched), and
 * migrations: a workspace built from empty and one migrated from every earlier
 * schema version end with the same schema, and the older one keeps its data.
 */
#include "helpers.h"
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
            assert_int_equal(sql_int(ws, "SELECT count(*) FROM ops WHERE kind = 'ledger.add'"
                                          " AND target = '01JABCDEFGHJKMNPQRSTVWXYZ1'"), 1);
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
        assert_int_equal(vg_audit_verify(ws, &count, &bad, &err), VG_OK);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refuses_foreign_files),
        cmocka_unit_test(test_refuses_newer_schema),
        cmocka_unit_test(test_missing_and_empty),
        cmocka_unit_test(test_fresh_workspace_settings),
        cmocka_unit_test(test_migrations_from_every_version),
        cmocka_unit_test(test_ledger_becomes_ops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
