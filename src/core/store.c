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
#include "vigil/text.h"

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

/* ---- schema objects vigil did not make ------------------------------------------ */

/* A trigger planted in a workspace runs inside vigil's own writes (it could
 * rewrite a note as the door adds it, and the op log would not know); a view or a
 * table can shadow what a query means. So a workspace must hold the schema this
 * vigil makes and nothing else: every object's type, name and SQL is compared with
 * the schema built from empty, once per process, in memory (tests/unit/test_store.c
 * proves a migrated workspace ends with the same). SQLite's own statistics tables
 * (ANALYZE) are allowed. */
static char **known_schema;
static size_t nknown;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *schema_row(sqlite3_stmt *st)
{
    const char *type = (const char *)sqlite3_column_text(st, 0),
               *name = (const char *)sqlite3_column_text(st, 1),
               *sql = (const char *)sqlite3_column_text(st, 2);
    size_t n = strlen(type) + strlen(name) + (sql ? strlen(sql) : 0) + 3;
    char *row = vg_xmalloc(n);
    snprintf(row, n, "%s %s %s", type, name, sql ? sql : "");
    return row;
}

#define SCHEMA_SQL                                                                         \
    "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_stat%' ESCAPE '\\'"

static void build_known_schema(void)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    vg_err err = {0};
    size_t cap = 0;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK || ws_migrate_to(db, VG_SCHEMA_VERSION, &err) ||
        sqlite3_prepare_v2(db, SCHEMA_SQL, -1, &st, NULL) != SQLITE_OK)
        goto out;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (nknown == cap)
            known_schema =
                vg_xrealloc(known_schema, (cap = cap ? 2 * cap : 64) * sizeof *known_schema);
        known_schema[nknown++] = schema_row(st);
    }
    qsort(known_schema, nknown, sizeof *known_schema, cmp_str);
out:
    sqlite3_finalize(st);
    sqlite3_close(db);
}

vg_rc ws_schema_digest(sqlite3 *db, char hex[65])
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, SCHEMA_SQL " ORDER BY type, name", -1, &st, NULL) != SQLITE_OK)
        return VG_EDB;
    crypto_generichash_state h;
    unsigned char out[32];
    crypto_generichash_init(&h, NULL, 0, sizeof out);
    while (sqlite3_step(st) == SQLITE_ROW) {
        char *row = schema_row(st);
        crypto_generichash_update(&h, (const unsigned char *)row, strlen(row) + 1);
        free(row);
    }
    sqlite3_finalize(st);
    crypto_generichash_final(&h, out, sizeof out);
    sodium_bin2hex(hex, 65, out, sizeof out);
    return VG_OK;
}

static vg_rc check_schema(vg_ws *ws, vg_err *err)
{
    /* Building the schema costs 30 million instructions, ten times what a listing
     * does: a workspace whose schema hashes to what this vigil makes (the digest
     * test_store checks) is known without it. */
    char hex[65];
    if (ws_schema_digest(ws->db, hex) == VG_OK && strcmp(hex, VG_SCHEMA_DIGEST) == 0)
        return VG_OK;
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, build_known_schema);
    if (!nknown)
        return vg_fail(err, VG_EDB, "building the schema to check %s against", ws->path);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(ws->db, SCHEMA_SQL, -1, &st, NULL) != SQLITE_OK)
        return ws_dberr(ws, err, "reading the schema");
    char foreign[640] = "";
    size_t used = 0;
    int n = 0, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        char *row = schema_row(st);
        if (!bsearch(&row, known_schema, nknown, sizeof *known_schema, cmp_str) && n++ < 8) {
            char name[72];
            vg_text_safe((const char *)sqlite3_column_text(st, 1),
                         (size_t)sqlite3_column_bytes(st, 1), 0, name, sizeof name);
            int k = snprintf(foreign + used, sizeof foreign - used, "%s%s %s", used ? ", " : "",
                             (const char *)sqlite3_column_text(st, 0), name);
            if (k > 0 && (size_t)k < sizeof foreign - used)
                used += (size_t)k;
        }
        free(row);
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE)
        return ws_dberr(ws, err, "reading the schema");
    if (n)
        return vg_fail(err, VG_ECORRUPT,
                       "%s holds schema objects vigil did not make (%s%s): it was changed"
                       " outside vigil, and vigil will not run them; check what they do, then"
                       " DROP them with the sqlite3 shell",
                       ws->path, foreign, n > 8 ? ", ..." : "");
    return VG_OK;
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
        (rc = load_state(ws, err)) == VG_OK && (rc = ledger_into_ops(ws, err)) == VG_OK &&
        (rc = oplog_store_head(ws, err)) == VG_OK && (rc = check_schema(ws, err)) == VG_OK)
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

/* A new workspace is made 0600 (create_whole, below): SQLite would make it 0644
 * (less the umask), and gives its -wal and -shm the main file's mode. An existing
 * one that another user owns, or that its group or everyone may write, is said
 * (not refused: a group's shared workspace may be meant), since whoever can write
 * it can rewrite the cases under the analyst. */
static void warn_if_shared(const char *path, const struct stat *sb)
{
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
        return;
    if (notice)
        notice(msg);
}

/* A new workspace appears whole or not at all: it is made (mode 0600, readable by
 * its owner alone) and given its schema under a temporary name beside it, then
 * linked into place, so that vigil killed while making one leaves no empty file at
 * path for the next open to refuse. Someone else's workspace linked there first
 * wins. */
static vg_rc create_whole(const char *path, vg_err *err)
{
    size_t n = strlen(path) + 16;
    char *tmp = vg_xmalloc(n);
    snprintf(tmp, n, "%s.new-XXXXXX", path);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        vg_rc rc = vg_fail(err, VG_EIO, "%s: %s", path, strerror(errno));
        free(tmp);
        return rc;
    }
    close(fd);
    vg_ws *ws = NULL;
    vg_rc rc = vg_ws_open(tmp, VG_OPEN_CREATE, &ws, err);
    vg_ws_close(ws);
    if (rc == VG_OK && link(tmp, path) != 0 && errno != EEXIST)
        rc = vg_fail(err, VG_EIO, "%s: %s", path, strerror(errno));
    vg_ws_remove(tmp);
    free(tmp);
    return rc;
}

void vg_ws_remove(const char *path)
{
    static const char *const side[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(path) + 8;
        char *p = vg_xmalloc(n);
        snprintf(p, n, "%s%s", path, side[i]);
        unlink(p);
        free(p);
    }
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
    if (!exists) {
        vg_rc made = create_whole(path, err);
        if (made != VG_OK)
            return made;
    } else {
        warn_if_shared(path, &sb);
    }

    vg_ws *ws = vg_xcalloc(1, sizeof *ws);
    ws->path = vg_xstrdup(path);
    ws->actor = vg_xstrdup("unknown");
    ws->tenant = vg_xstrdup("");
    int oflags = (flags & VG_OPEN_READONLY) ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
    if (flags & VG_OPEN_CREATE)
        oflags |= SQLITE_OPEN_CREATE;
    vg_rc rc = VG_OK;
    /* URIs on, for the read-only ATTACH of the intel store (intel.c); a relative
     * path that reads as a URI is made one that does not. */
    size_t plen = strlen(path) + 3;
    char *opath = vg_xmalloc(plen);
    snprintf(opath, plen, "%s%s", strncmp(path, "file:", 5) == 0 ? "./" : "", path);
    int orc = sqlite3_open_v2(opath, &ws->db, oflags | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI, NULL);
    free(opath);
    if (orc != SQLITE_OK) {
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
    /* a migration checked the schema it made, before committing it */
    if (version == VG_SCHEMA_VERSION && (rc = check_schema(ws, err)) != VG_OK)
        goto fail;
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
    vg_buf_free(&ws->rec_text);
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

void vg_ws_set_hooks(vg_ws *ws, const vg_ws_hooks *h)
{
    if (h)
        ws->hooks = *h;
    else
        memset(&ws->hooks, 0, sizeof ws->hooks);
}

void vg_ws_set_tenant(vg_ws *ws, const char *tenant)
{
    free(ws->tenant);
    ws->tenant = vg_xstrdup(tenant ? tenant : "");
}

/* ---- a frontend's records (aux) ---- */

#define AUX_KEY_MAX 200

static vg_rc aux_key(const char *key, char *out, vg_err *err)
{
    if (!key || !*key || strlen(key) > AUX_KEY_MAX)
        return vg_fail(err, VG_EINVAL, "an aux key of 1 to %d bytes", AUX_KEY_MAX);
    snprintf(out, AUX_KEY_MAX + 8, "aux:%s", key);
    return VG_OK;
}

vg_rc vg_ws_aux_get(vg_ws *ws, const char *key, vg_buf *out, bool *found, vg_err *err)
{
    char k[AUX_KEY_MAX + 8];
    sqlite3_stmt *st;
    *found = false;
    vg_rc rc = aux_key(key, k, err);
    if (rc || (rc = ws_stmt_text(ws, "SELECT value FROM meta WHERE key = ?", &st, err)))
        return rc;
    sqlite3_bind_text(st, 1, k, -1, SQLITE_TRANSIENT);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        *found = true;
        rc = vg_buf_add(out, sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0));
        if (rc)
            vg_fail(err, rc, "aux %s: larger than its buffer", key);
    } else if (s != SQLITE_DONE) {
        rc = ws_dberr(ws, err, "reading meta");
    }
    sqlite3_reset(st);
    return rc;
}

vg_rc ws_meta_put(vg_ws *ws, const char *key, const char *value, const char *what, vg_err *err)
{
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt_text(ws, "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st) == SQLITE_DONE ? VG_OK : ws_dberr(ws, err, what);
    sqlite3_reset(st);
    return rc;
}

vg_rc vg_ws_aux_put(vg_ws *ws, const char *key, const char *value, vg_err *err)
{
    char k[AUX_KEY_MAX + 8];
    vg_rc rc = aux_key(key, k, err);
    return rc ? rc : ws_meta_put(ws, k, value, "writing meta", err);
}

vg_rc vg_ws_aux_prune(vg_ws *ws, const char *prefix, int64_t now_ms, vg_err *err)
{
    char k[AUX_KEY_MAX + 8];
    sqlite3_stmt *st;
    vg_rc rc = aux_key(prefix, k, err);
    if (rc || (rc = ws_stmt_text(ws, "DELETE FROM meta WHERE key >= ?1 AND key < ?1 || x'ff'"
                                     " AND CAST(value AS INTEGER) < ?2", &st, err)))
        return rc;
    sqlite3_bind_text(st, 1, k, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, now_ms);
    rc = sqlite3_step(st) == SQLITE_DONE ? VG_OK : ws_dberr(ws, err, "pruning meta");
    sqlite3_reset(st);
    return rc;
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
 * left out: their order and identity are per replica by design. A table's key names
 * one of its rows in what `audit verify --replay` says. */
static const struct entity_table {
    const char *name, *cols, *order, *key;
    bool raw; /* the alerts: their raw events too (raw_op and raw_at are this
               * replica's places in its own log; the event they point at is what
               * replicas share) */
} entity_tables[] = {
    {"cases", "*", "id", "id", false},
    {"alerts",
     "id, source, source_ref, rule, title, severity, event_time, first_seen, last_seen, count,"
     " status, case_id, entities, techniques, recorded_at, starred, dismissed_reason",
     "id", "id", true},
    {"artifacts", "*", "case_id, type, value", "id", false},
    {"tasks", "*", "id", "id", false},
    {"notes", "*", "id", "id", false},
    {"task_logs", "*", "id", "id", false},
    {"events", "*", "id", "id", false},
    {"playbooks", "*", "id", "id", false},
    {"ledger",
     "case_id, session_id, user, seq, kind, model, content, created_at, prev_hash, hash,"
     " legacy_chain, hashed_case",
     "session_id, seq", "session_id || ' entry ' || seq", false},
    {"clocks", "*", "entity, field", "entity || ' ' || field", false},
    {"proposals_applied", "*", "proposal", "proposal", false},
    {"case_merges", "*", "op", "op", false},
    {"field_defs", "*", "name", "name", false},
    {"case_fields", "*", "case_id, name", "case_id || ' ' || name", false},
    {"evidence", "*", "id", "id", false},
    {"custody", "*", "id", "id", false},
};
#define ENTITY_TABLES (sizeof entity_tables / sizeof *entity_tables)

static vg_rc table_digest(vg_ws *ws, const struct entity_table *t, unsigned char out[32],
                          vg_err *err)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT %s%s FROM %s ORDER BY %s", t->cols,
             t->raw ? ", vg_raw(raw, raw_op, raw_at)" : "", t->name, t->order);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(ws->db, sql, -1, &st, NULL) != SQLITE_OK)
        return ws_dberr(ws, err, "computing digest");
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 32);
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
    crypto_generichash_final(&h, out, 32);
    return VG_OK;
}

vg_rc vg_ws_digest(vg_ws *ws, char hex[65], vg_err *err)
{
    crypto_generichash_state h;
    unsigned char out[32];
    crypto_generichash_init(&h, NULL, 0, sizeof out);
    for (size_t t = 0; t < ENTITY_TABLES; t++) {
        vg_rc rc = table_digest(ws, &entity_tables[t], out, err);
        if (rc)
            return rc;
        crypto_generichash_update(&h, out, sizeof out);
    }
    crypto_generichash_final(&h, out, sizeof out);
    sodium_bin2hex(hex, 65, out, sizeof out);
    return VG_OK;
}

/* The key of a row of t that one side holds and the other does not (cols
 * compared, raw events aside), into key; false when there is none. */
static bool row_apart(vg_ws *ws, const struct entity_table *t, const char *in, const char *notin,
                      char *key, size_t keysz)
{
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT %s FROM (SELECT %s FROM %s.%s EXCEPT SELECT %s FROM %s.%s) LIMIT 1", t->key,
             t->cols, in, t->name, t->cols, notin, t->name);
    sqlite3_stmt *st = NULL;
    bool found = sqlite3_prepare_v2(ws->db, sql, -1, &st, NULL) == SQLITE_OK &&
                 sqlite3_step(st) == SQLITE_ROW;
    if (found)
        vg_text_safe((const char *)sqlite3_column_text(st, 0),
                     (size_t)sqlite3_column_bytes(st, 0), 0, key, keysz);
    sqlite3_finalize(st);
    return found;
}

/* What differs in t between ws and the replay attached as "replay", as a clause. */
static void say_apart(vg_ws *ws, const struct entity_table *t, char *why, size_t whysz)
{
    char key[160];
    if (row_apart(ws, t, "main", "replay", key, sizeof key))
        snprintf(why, whysz, "its row %s is not what the ops made", key);
    else if (row_apart(ws, t, "replay", "main", key, sizeof key))
        snprintf(why, whysz, "its row %s, which the ops made, is missing", key);
    else
        snprintf(why, whysz, "%s", t->raw ? "an alert's raw event is not the one its op holds"
                                          : "its rows differ");
}

vg_rc vg_audit_replay_check(vg_ws *ws, const char *scratch, int64_t *ops, vg_err *err)
{
    vg_ws *r = NULL;
    int64_t applied = 0;
    *ops = 0;
    vg_rc rc = vg_ws_open(scratch, VG_OPEN_CREATE, &r, err);
    if (rc)
        return rc;
    if ((rc = vg_replay(r, ws->path, ops, &applied, err)))
        goto out;
    for (size_t t = 0; t < ENTITY_TABLES && rc == VG_OK; t++) {
        unsigned char mine[32], theirs[32];
        if ((rc = table_digest(ws, &entity_tables[t], mine, err)) ||
            (rc = table_digest(r, &entity_tables[t], theirs, err)))
            break;
        if (memcmp(mine, theirs, 32) == 0)
            continue;
        char why[256] = "its rows differ";
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(ws->db, "ATTACH ? AS replay", -1, &st, NULL) == SQLITE_OK) {
            sqlite3_bind_text(st, 1, scratch, -1, SQLITE_STATIC);
            if (sqlite3_step(st) == SQLITE_DONE) {
                say_apart(ws, &entity_tables[t], why, sizeof why);
                sqlite3_exec(ws->db, "DETACH replay", NULL, NULL, NULL);
            }
        }
        sqlite3_finalize(st);
        rc = vg_fail(err, VG_ECORRUPT,
                     "the %s table is not what its op log makes (a replay of its %lld ops): %s;"
                     " it was changed outside vigil",
                     entity_tables[t].name, (long long)*ops, why);
    }
out:
    vg_ws_close(r);
    return rc;
}
