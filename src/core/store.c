/*
 * store.c — opening, checking and migrating a workspace file; the statement cache.
 *
 * A workspace is one SQLite file in WAL mode (readers never block the writer, and a
 * TUI can watch the file while an import writes), with foreign keys on and a busy
 * timeout so two vigil processes wait for each other instead of failing. Before
 * anything is written, the file is checked: a file that is not SQLite, an SQLite
 * file of another application, or a workspace of a newer schema is refused and left
 * byte for byte as it was.
 */
#include "internal.h"
#include "oplog.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

extern const char *const ws_stmt_sql[ST__COUNT];

vg_rc ws_dberr(vg_ws *ws, vg_err *err, const char *what)
{
    return vg_fail(err, VG_EDB, "%s: %s", what, sqlite3_errmsg(ws->db));
}

vg_rc ws_exec(vg_ws *ws, const char *sql, vg_err *err)
{
    char *msg = NULL;
    if (sqlite3_exec(ws->db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return VG_OK;
    vg_fail(err, VG_EDB, "%s", msg ? msg : sqlite3_errmsg(ws->db));
    sqlite3_free(msg);
    return VG_EDB;
}

vg_rc ws_stmt(vg_ws *ws, int id, sqlite3_stmt **out, vg_err *err)
{
    if (!ws->stmt[id]) {
        if (sqlite3_prepare_v3(ws->db, ws_stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                               &ws->stmt[id], NULL) != SQLITE_OK)
            return ws_dberr(ws, err, "preparing a statement");
    } else {
        sqlite3_reset(ws->stmt[id]);
        sqlite3_clear_bindings(ws->stmt[id]);
    }
    *out = ws->stmt[id];
    return VG_OK;
}

vg_rc ws_stmt_text(vg_ws *ws, const char *sql, sqlite3_stmt **out, vg_err *err)
{
    int i;
    for (i = 0; i < WS_TEXT_STMTS && ws->text_stmt[i].sql; i++)
        if (ws->text_stmt[i].sql == sql) {
            sqlite3_reset(ws->text_stmt[i].st);
            sqlite3_clear_bindings(ws->text_stmt[i].st);
            *out = ws->text_stmt[i].st;
            return VG_OK;
        }
    if (i == WS_TEXT_STMTS)
        return vg_fail(err, VG_EDB, "statement cache full");
    if (sqlite3_prepare_v3(ws->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &ws->text_stmt[i].st,
                           NULL) != SQLITE_OK)
        return ws_dberr(ws, err, "preparing a statement");
    ws->text_stmt[i].sql = sql;
    *out = ws->text_stmt[i].st;
    return VG_OK;
}

char *col_dup(sqlite3_stmt *st, int col)
{
    const unsigned char *s = sqlite3_column_text(st, col);
    return vg_xstrdup(s ? (const char *)s : "");
}

void col_id(sqlite3_stmt *st, int col, vg_id out)
{
    const unsigned char *s = sqlite3_column_text(st, col);
    size_t n = s ? strlen((const char *)s) : 0;
    if (n > VG_ID_LEN)
        n = VG_ID_LEN;
    if (n)
        memcpy(out, s, n);
    out[n] = '\0';
}

/* Read application_id, user_version and whether any schema object exists, without
 * writing. A file that is not SQLite fails here with SQLITE_NOTADB. */
static vg_rc probe(sqlite3 *db, const char *path, int *app_id, int *version, int *objects,
                   vg_err *err)
{
    static const char *const q[3] = {"PRAGMA application_id", "PRAGMA user_version",
                                     "SELECT count(*) FROM sqlite_master"};
    int *dst[3] = {app_id, version, objects};
    for (int i = 0; i < 3; i++) {
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(db, q[i], -1, &st, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            *dst[i] = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        if (rc == SQLITE_NOTADB)
            return vg_fail(err, VG_ENOTVIGIL, "%s is not a vigil workspace (not an SQLite database)",
                           path);
        if (rc != SQLITE_ROW)
            return vg_fail(err, VG_EDB, "%s: %s", path, sqlite3_errmsg(db));
    }
    return VG_OK;
}

/* Load the replica id and the newest clock; make the replica id on first open. */
static vg_rc load_state(vg_ws *ws, vg_err *err)
{
    sqlite3_stmt *st = NULL;
    vg_rc rc = VG_OK;
    if (sqlite3_prepare_v2(ws->db, "SELECT value FROM meta WHERE key = 'replica'", -1, &st,
                           NULL) != SQLITE_OK)
        return ws_dberr(ws, err, "reading workspace identity");
    if (sqlite3_step(st) == SQLITE_ROW)
        col_id(st, 0, ws->replica);
    sqlite3_finalize(st);
    if (!ws->replica[0]) {
        vg_ulid(vg_now_ms(), ws->replica);
        if (sqlite3_prepare_v2(ws->db, "INSERT OR IGNORE INTO meta(key, value) VALUES ('replica', ?)",
                               -1, &st, NULL) != SQLITE_OK)
            return ws_dberr(ws, err, "writing workspace identity");
        sqlite3_bind_text(st, 1, ws->replica, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = ws_dberr(ws, err, "writing workspace identity");
        sqlite3_finalize(st);
    }
    return rc;
}

/* Once per process, before the first workspace: SQLite's memory statistics take a
 * global mutex on every allocation, and nothing here reads them, so they are off
 * (before SQLite initialises; a no-op if it already has). libsodium picks the
 * fastest BLAKE2b for this CPU (the op log's hash chain) only once initialised. */
static void process_setup(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    if (sodium_init() < 0)
        return; /* the portable implementations stay in use */
}

/* The workspace's size in pages (0 when it cannot be read). */
static int64_t page_count(vg_ws *ws)
{
    sqlite3_stmt *st = NULL;
    int64_t pages = 0;
    if (sqlite3_prepare_v2(ws->db, "PRAGMA page_count", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        pages = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return pages;
}

/* After schema step 11 a large workspace holds most of its bytes unused (raw
 * events kept once, the op log compressed): give them back to the disk, once. The
 * freelist does not show it: step 11 shrinks rows in place, and SQLite leaves the
 * space they gave up inside the b-tree pages instead of freeing pages (12,000
 * alerts of 1.5 KB raw events: 43 MB before the step, not one page on the
 * freelist after it, 9 MB after VACUUM). What grows a workspace is alerts and the
 * ops that bring them, which the step shrinks several times over, so the measure
 * is its size before the step: pages_before, 16 MB or more, is vacuumed. */
static vg_rc reclaim(vg_ws *ws, int64_t pages_before, vg_err *err)
{
    if (pages_before < 4096)
        return VG_OK;
    return ws_exec(ws, "VACUUM", err);
}

/* Take an older workspace to this vigil's schema: the SQL steps, then what only C
 * can do (the ledger's entries become ops, which needs the replica id), in one
 * transaction, so that a workspace is migrated whole or not at all. */
static vg_rc migrate(vg_ws *ws, vg_err *err)
{
    vg_rc rc = ws_exec(ws, "BEGIN IMMEDIATE", err);
    if (rc)
        return rc;
    if ((rc = ws_migrate_to(ws->db, VG_SCHEMA_VERSION, err)) == VG_OK &&
        (rc = load_state(ws, err)) == VG_OK && (rc = ledger_into_ops(ws, err)) == VG_OK)
        rc = ws_exec(ws, "COMMIT", err);
    if (rc)
        sqlite3_exec(ws->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* ---- who may write the file ---------------------------------------------------- */

static void (*notice)(const char *msg);

void vg_ws_on_notice(void (*fn)(const char *msg))
{
    notice = fn;
}

/* A new workspace is made 0600 before SQLite opens it: SQLite would make it 0644
 * (less the umask), and gives its -wal and -shm the main file's mode. An existing
 * one that another user owns, or that its group or everyone may write, is said
 * (not refused: a group's shared workspace may be meant), since whoever can write
 * it can rewrite the cases under the analyst. */
static vg_rc private_file(const char *path, const struct stat *sb, vg_err *err)
{
    if (!sb) {
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 && errno != EEXIST)
            return vg_fail(err, VG_EIO, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return VG_OK;
    }
    char msg[600];
    if (sb->st_uid != geteuid())
        snprintf(msg, sizeof msg, "%s is owned by another user (uid %u), who can rewrite it",
                 path, (unsigned)sb->st_uid);
    else if (sb->st_mode & 022)
        snprintf(msg, sizeof msg, "%s is writable by %s (mode %04o), who can rewrite it"
                                  " (chmod 600 %s)", path,
                 sb->st_mode & 002 ? "everyone" : "its group", (unsigned)(sb->st_mode & 07777),
                 path);
    else
        return VG_OK;
    if (notice)
        notice(msg);
    return VG_OK;
}

vg_rc vg_ws_open(const char *path, int flags, vg_ws **out, vg_err *err)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, process_setup);
    struct stat sb;
    *out = NULL;
    bool exists = stat(path, &sb) == 0;
    if (!exists) {
        if (errno != ENOENT)
            return vg_fail(err, VG_EIO, "%s: %s", path, strerror(errno));
        if (!(flags & VG_OPEN_CREATE))
            return vg_fail(err, VG_ENOTFOUND, "no workspace at %s", path);
    } else if (!S_ISREG(sb.st_mode)) {
        return vg_fail(err, VG_ENOTVIGIL, "%s is not a vigil workspace (not a regular file)", path);
    }
    vg_rc made = private_file(path, exists ? &sb : NULL, err);
    if (made != VG_OK)
        return made;

    vg_ws *ws = vg_xcalloc(1, sizeof *ws);
    ws->path = vg_xstrdup(path);
    ws->actor = vg_xstrdup("unknown");
    ws->tenant = vg_xstrdup("");
    int oflags = (flags & VG_OPEN_READONLY) ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
    if (flags & VG_OPEN_CREATE)
        oflags |= SQLITE_OPEN_CREATE;
    vg_rc rc = VG_OK;
    if (sqlite3_open_v2(path, &ws->db, oflags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        rc = vg_fail(err, VG_EIO, "%s: %s", path, ws->db ? sqlite3_errmsg(ws->db) : "cannot open");
        goto fail;
    }
    sqlite3_extended_result_codes(ws->db, 0);
    sqlite3_busy_timeout(ws->db, 5000);
    oplog_register_sql(ws->db);
    oplog_register_raw(ws);

    int app_id = 0, version = 0, objects = 0;
    if ((rc = probe(ws->db, path, &app_id, &version, &objects, err)) != VG_OK)
        goto fail;
    bool fresh = app_id == 0 && version == 0 && objects == 0;
    if (fresh && !(flags & VG_OPEN_CREATE)) {
        rc = vg_fail(err, VG_ENOTVIGIL, "%s is not a vigil workspace (an empty file)", path);
        goto fail;
    }
    if (!fresh && app_id != VG_APPLICATION_ID) {
        rc = vg_fail(err, VG_ENOTVIGIL,
                     "%s is not a vigil workspace (an SQLite database of another application)",
                     path);
        goto fail;
    }
    if (version > VG_SCHEMA_VERSION) {
        rc = vg_fail(err, VG_ENEWER,
                     "%s was written by a newer vigil (schema %d; this vigil knows up to %d)",
                     path, version, VG_SCHEMA_VERSION);
        goto fail;
    }
    if (flags & VG_OPEN_READONLY) {
        if (version < VG_SCHEMA_VERSION) {
            rc = vg_fail(err, VG_EINVAL, "%s needs a migration; open it read-write once", path);
            goto fail;
        }
    } else {
        /* WAL: readers never block the writer. synchronous=NORMAL: a commit survives
         * a crash of vigil (the crash test kills it), and at worst the last commits
         * before a power loss are lost, never the file. */
        if ((rc = ws_exec(ws, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL", err)))
            goto fail;
        int64_t pages_before = version && version < 11 ? page_count(ws) : 0;
        if (version < VG_SCHEMA_VERSION && (rc = migrate(ws, err)) != VG_OK)
            goto fail;
        if (pages_before && (rc = reclaim(ws, pages_before, err)) != VG_OK)
            goto fail;
    }
    /* A page cache that holds a batch's working set (it grows only as pages are
     * touched, so a listing stays small), and statement journals in memory. */
    if ((rc = ws_exec(ws, "PRAGMA foreign_keys = ON; PRAGMA cache_size = -32768;"
                          " PRAGMA temp_store = MEMORY", err)))
        goto fail;
    if (!(flags & VG_OPEN_READONLY) && (rc = load_state(ws, err)) != VG_OK)
        goto fail;
    *out = ws;
    return VG_OK;
fail:
    vg_ws_close(ws);
    return rc;
}

vg_rc vg_ws_bulk(vg_ws *ws, bool on, vg_err *err)
{
    /* A flag pragma expires the prepared statements, which are made again with or
     * without the checks (foreign_keys is a no-op inside a transaction: this runs
     * between them). The write-ahead log is copied into the workspace every
     * 50,000 pages (200 MB) rather than every 1,000, so that an index page written
     * by every batch is copied once for several; the rest at the end. */
    return ws_exec(ws, on ? "PRAGMA ignore_check_constraints = ON; PRAGMA foreign_keys = OFF;"
                            " PRAGMA wal_autocheckpoint = 50000"
                          : "PRAGMA ignore_check_constraints = OFF; PRAGMA foreign_keys = ON;"
                            " PRAGMA wal_autocheckpoint = 1000; PRAGMA wal_checkpoint(PASSIVE)",
                   err);
}

void vg_ws_close(vg_ws *ws)
{
    if (!ws)
        return;
    for (int i = 0; i < ST__COUNT; i++)
        sqlite3_finalize(ws->stmt[i]);
    for (int i = 0; i < WS_TEXT_STMTS; i++)
        sqlite3_finalize(ws->text_stmt[i].st);
    sqlite3_close(ws->db);
    ws_drop_keys(ws);
    free(ws->keys);
    ZSTD_freeCCtx(ws->zc);
    ZSTD_freeDCtx(ws->zd);
    vg_buf_free(&ws->pack);
    vg_buf_free(&ws->bulk);
    ws_raw_forget(ws);
    free(ws->raw_ops);
    vg_buf_free(&ws->byref_ref);
    free(ws->path);
    free(ws->actor);
    free(ws->tenant);
    free(ws);
}

const char *vg_ws_path(const vg_ws *ws) { return ws->path; }
const char *vg_ws_replica(const vg_ws *ws) { return ws->replica; }
const char *vg_ws_actor(const vg_ws *ws) { return ws->actor; }

void vg_ws_set_actor(vg_ws *ws, const char *actor)
{
    free(ws->actor);
    ws->actor = vg_xstrdup(actor && *actor ? actor : "unknown");
}

void vg_ws_set_tenant(vg_ws *ws, const char *tenant)
{
    free(ws->tenant);
    ws->tenant = vg_xstrdup(tenant ? tenant : "");
}

vg_rc vg_ws_changed(vg_ws *ws, int *changed, vg_err *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(ws->db, "PRAGMA data_version", -1, &st, NULL) != SQLITE_OK)
        return ws_dberr(ws, err, "reading data version");
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    *changed = ws->data_version != 0 && v != ws->data_version;
    ws->data_version = v;
    return VG_OK;
}

/* The state digest hashes every entity table in a fixed order with every column's
 * type and bytes, so any divergence between replicas shows. The op log and meta are
 * left out: their order and identity are per replica by design. */
vg_rc vg_ws_digest(vg_ws *ws, char hex[65], vg_err *err)
{
    static const char *const tables[] = {
        "SELECT * FROM cases ORDER BY id",
        /* raw_op and raw_at are this replica's places in its own log; the raw event
         * they point at is what replicas share */
        "SELECT id, source, source_ref, rule, title, severity, event_time, first_seen,"
        " last_seen, count, status, case_id, entities, techniques, recorded_at, starred,"
        " vg_raw(raw, raw_op, raw_at) FROM alerts ORDER BY id",
        "SELECT * FROM artifacts ORDER BY case_id, type, value",
        "SELECT * FROM tasks ORDER BY id",   "SELECT * FROM notes ORDER BY id",
        "SELECT * FROM events ORDER BY id",  "SELECT * FROM playbooks ORDER BY id",
        "SELECT case_id, session_id, user, seq, kind, model, content, created_at, prev_hash,"
        " hash, legacy_chain FROM ledger ORDER BY session_id, seq",
        "SELECT * FROM clocks ORDER BY entity, field",
    };
    crypto_generichash_state h;
    unsigned char out[32];
    crypto_generichash_init(&h, NULL, 0, sizeof out);
    for (size_t t = 0; t < sizeof tables / sizeof *tables; t++) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(ws->db, tables[t], -1, &st, NULL) != SQLITE_OK)
            return ws_dberr(ws, err, "computing digest");
        unsigned char tag = (unsigned char)t;
        crypto_generichash_update(&h, &tag, 1);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            int ncol = sqlite3_column_count(st);
            for (int c = 0; c < ncol; c++) {
                unsigned char type = (unsigned char)sqlite3_column_type(st, c);
                int64_t len = sqlite3_column_bytes(st, c);
                const void *p = type == SQLITE_BLOB ? sqlite3_column_blob(st, c)
                                                    : (const void *)sqlite3_column_text(st, c);
                crypto_generichash_update(&h, &type, 1);
                crypto_generichash_update(&h, (const unsigned char *)&len, sizeof len);
                if (p && len)
                    crypto_generichash_update(&h, p, (size_t)len);
            }
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE)
            return ws_dberr(ws, err, "computing digest");
    }
    crypto_generichash_final(&h, out, sizeof out);
    sodium_bin2hex(hex, 65, out, sizeof out);
    return VG_OK;
}
