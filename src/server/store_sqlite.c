/*
 * store_sqlite.c — the embedded store (store.h): a data directory of SQLite files.
 *
 *   DIR/server.db            tenants, users, token hashes (this file's schema below)
 *   DIR/server.key           32 random bytes that key the token hashes, mode 0600
 *   DIR/tenants/<id>.db      one vigil workspace per tenant
 *   DIR/snapshots/<id>.zst   the snapshot new replicas of a tenant start from
 *
 * A workspace per tenant rather than a tenant column in one: no query of the core
 * can cross tenants by mistake, a tenant is backed up, moved or removed as a file,
 * and one tenant's import never waits on another's write lock.
 *
 * Concurrency. server.db is one connection guarded by one mutex: every call on it
 * is an indexed lookup or a single-row write, far shorter than a request, and the
 * administration commands (another process) meet the server through SQLite's own
 * locking (WAL, a busy timeout). A workspace (vg_ws) is one SQLite connection
 * opened NOMUTEX, so each open tenant has its own mutex and store_with_tenant runs
 * one caller at a time on it. Two readers of one tenant therefore wait for each
 * other; the improvement, when a tenant's reads contend, is a small pool of
 * read-only connections per tenant (WAL lets them read while the writer writes)
 * beside the one writer, chosen by whether the handler writes.
 *
 * Several processes. A daemon and any number of `vigild --stdio` (one per SSH
 * exec channel) open the same directory at once, so nothing here may assume it
 * is alone: SQLite's locking orders their writes, temporary files carry the pid,
 * and what a snapshot holds is read from the snapshot file itself (its first
 * frame), never remembered from the last time this process made one.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <zstd.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"
#include "token.h"
#include "vigil/text.h"

/* 'VGSV' in PRAGMA application_id: a vigild file, not a workspace ('VGIL'). */
#define STORE_APPLICATION_ID 0x56475356

/* Step i takes PRAGMA user_version from i to i+1; a released step is never edited. */
static const char *const steps[] = {
    /* 1: tenants, users, tokens */
    "CREATE TABLE tenants(id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    " created_at INTEGER NOT NULL);"
    "CREATE TABLE users(tenant_id TEXT NOT NULL REFERENCES tenants(id), name TEXT NOT NULL,"
    " role TEXT NOT NULL CHECK(role IN ('admin','analyst','viewer','ingest')),"
    " created_at INTEGER NOT NULL, PRIMARY KEY(tenant_id, name)) WITHOUT ROWID;"
    "CREATE TABLE tokens(id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, user TEXT NOT NULL,"
    " label TEXT, hash BLOB NOT NULL UNIQUE CHECK(length(hash) = 32),"
    " created_at INTEGER NOT NULL, last_used_at INTEGER, revoked_at INTEGER,"
    " FOREIGN KEY(tenant_id, user) REFERENCES users(tenant_id, name));"
    "CREATE INDEX tokens_tenant ON tokens(tenant_id, created_at);",
    /* 2: ref leases: a tenant's next case ref never granted, and each block of refs
     * granted to a user's replica ("" is vigild's own workspace) */
    "CREATE TABLE ref_counters(tenant_id TEXT PRIMARY KEY REFERENCES tenants(id),"
    " next INTEGER NOT NULL CHECK(next >= 1)) WITHOUT ROWID;"
    "CREATE TABLE ref_leases(tenant_id TEXT NOT NULL REFERENCES tenants(id),"
    " user TEXT NOT NULL, lo INTEGER NOT NULL, hi INTEGER NOT NULL CHECK(hi >= lo),"
    " granted_at INTEGER NOT NULL, PRIMARY KEY(tenant_id, lo)) WITHOUT ROWID;",
    /* 3: until when a tenant's pushed refs that no lease holds are taken as from
     * leases lost to a restore of an older copy (store_ref_restored) */
    "ALTER TABLE ref_counters ADD COLUMN adopt_until INTEGER NOT NULL DEFAULT 0;",
};
#define NSTEPS ((int)(sizeof steps / sizeof *steps))

typedef struct tenant_ws {
    vg_id id;
    vg_ws *ws;
    pthread_mutex_t mu; /* held while a caller uses ws */
    /* making the snapshot new replicas start from (store_snapshot) */
    pthread_mutex_t snap_mu;
    /* a read-only connection for store_tenant_head, under head_mu: a look at the
     * head never waits for a handler's write (WAL) */
    pthread_mutex_t head_mu;
    sqlite3 *head_db;
    struct tenant_ws *next;
} tenant_ws;

struct store {
    char *dir;
    sqlite3 *db;
    pthread_mutex_t mu; /* guards db and the tenant list */
    unsigned char key[TOKEN_KEY_BYTES];
    tenant_ws *open; /* workspaces opened so far, kept until store_close */
};

static const char *const role_names[] = {"viewer", "analyst", "admin", "ingest"};

const char *store_role_name(store_role r)
{
    for (int i = 0; i < 4; i++)
        if ((unsigned)r == 1u << i)
            return role_names[i];
    return "?";
}

store_role store_role_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (s && strcmp(s, role_names[i]) == 0)
            return (store_role)(1 << i);
    return 0;
}

bool store_name_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > STORE_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  (i > 0 && (c == '.' || c == '_' || c == '-'));
        if (!ok)
            return false;
    }
    return true;
}

static vg_rc dberr(store *s, vg_err *err, const char *what)
{
    return vg_fail(err, VG_EDB, "%s/server.db: %s: %s", s->dir, what, sqlite3_errmsg(s->db));
}

/* --- the data directory and the key --------------------------------------------- */

/* dir exists (made 0700 if not), is a directory, is ours and only we may write it.
 * A symlink is judged by the directory it names (/var/lib/vigild -> /srv/vigild). */
static vg_rc check_dir(const char *dir, vg_err *err)
{
    struct stat sb;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return vg_fail(err, VG_EIO, "%s: cannot make the data directory: %s", dir,
                       strerror(errno));
    if (stat(dir, &sb) != 0)
        return vg_fail(err, VG_EIO, "%s: %s", dir, strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return vg_fail(err, VG_EIO, "%s: not a directory", dir);
    if (sb.st_uid != geteuid())
        return vg_fail(err, VG_EIO, "%s: owned by uid %u, not by this user (uid %u); run vigild"
                       " as its owner", dir, (unsigned)sb.st_uid, (unsigned)geteuid());
    if (sb.st_mode & (S_IWGRP | S_IWOTH))
        return vg_fail(err, VG_EIO, "%s: group- or world-writable (mode %03o); chmod go-w it",
                       dir, (unsigned)(sb.st_mode & 0777));
    return VG_OK;
}

/* Read DIR/server.key, or make it (32 random bytes, 0600) if there is none. */
static vg_rc load_key(const char *dir, unsigned char key[TOKEN_KEY_BYTES], vg_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/server.key", dir);
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0) {
            struct stat sb;
            vg_rc rc = VG_OK;
            ssize_t got = -1;
            if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
                rc = vg_fail(err, VG_EIO, "%s: not a regular file", path);
            else if (sb.st_mode & 077)
                rc = vg_fail(err, VG_EIO, "%s: readable or writable by others (mode %03o);"
                             " chmod 600 it", path, (unsigned)(sb.st_mode & 0777));
            else if (sb.st_size != TOKEN_KEY_BYTES ||
                     (got = read(fd, key, TOKEN_KEY_BYTES)) != TOKEN_KEY_BYTES)
                rc = vg_fail(err, VG_EIO, "%s: not a key (%d bytes, not %d)", path,
                             got < 0 ? (int)sb.st_size : (int)got, TOKEN_KEY_BYTES);
            close(fd);
            return rc;
        }
        if (errno != ENOENT)
            return vg_fail(err, VG_EIO, "%s: %s", path, strerror(errno));
        /* first use: write the key under a temporary name, then link it in place, so
         * that a concurrent first use or a crash never leaves a short key */
        char tmp[4200];
        snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
            return vg_fail(err, VG_EIO, "%s: %s", tmp, strerror(errno));
        randombytes_buf(key, TOKEN_KEY_BYTES);
        bool ok = write(fd, key, TOKEN_KEY_BYTES) == TOKEN_KEY_BYTES && fsync(fd) == 0;
        ok = close(fd) == 0 && ok;
        sodium_memzero(key, TOKEN_KEY_BYTES);
        int linked = ok ? link(tmp, path) : -1;
        int link_errno = errno;
        unlink(tmp);
        if (!ok || (linked != 0 && link_errno != EEXIST))
            return vg_fail(err, VG_EIO, "%s: cannot write the key: %s", path,
                           strerror(ok ? link_errno : errno));
        /* read it back like any key (another process may have won the race) */
    }
    return vg_fail(err, VG_EIO, "%s: cannot read the key", path);
}

/* --- server.db ------------------------------------------------------------------ */

static int pragma_int(sqlite3 *db, const char *sql, int *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        *out = sqlite3_column_int(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

/* Check that server.db is ours and migrate it to NSTEPS, in one transaction. */
static vg_rc migrate(store *s, vg_err *err)
{
    int app = 0, version = 0, objects = 0;
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return dberr(s, err, "opening");
    vg_rc rc = VG_OK;
    if (pragma_int(s->db, "PRAGMA application_id", &app) != SQLITE_OK ||
        pragma_int(s->db, "PRAGMA user_version", &version) != SQLITE_OK ||
        pragma_int(s->db, "SELECT count(*) FROM sqlite_master", &objects) != SQLITE_OK) {
        rc = dberr(s, err, "reading its version");
    } else if (app != STORE_APPLICATION_ID && (app != 0 || version != 0 || objects != 0)) {
        rc = vg_fail(err, VG_ENOTVIGIL, "%s/server.db: not a vigild file (application_id %d)",
                     s->dir, app);
    } else if (version > NSTEPS) {
        rc = vg_fail(err, VG_ENEWER, "%s/server.db: written by a newer vigild (version %d;"
                     " this one knows up to %d)", s->dir, version, NSTEPS);
    }
    for (int v = version; rc == VG_OK && v < NSTEPS; v++) {
        char sql[80];
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v + 1);
        if (sqlite3_exec(s->db, steps[v], NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
            rc = dberr(s, err, "migrating");
    }
    if (rc == VG_OK && app == 0) {
        char sql[80];
        snprintf(sql, sizeof sql, "PRAGMA application_id = %d", STORE_APPLICATION_ID);
        if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
            rc = dberr(s, err, "marking it");
    }
    if (rc == VG_OK && sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = dberr(s, err, "migrating");
    if (rc != VG_OK)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

vg_rc store_open(const char *dir, store **out, vg_err *err)
{
    *out = NULL;
    vg_rc rc;
    if ((rc = check_dir(dir, err)) != VG_OK)
        return rc;
    store *s = vg_xcalloc(1, sizeof *s);
    s->dir = vg_xstrdup(dir);
    pthread_mutex_init(&s->mu, NULL);
    char path[4096];
    snprintf(path, sizeof path, "%s/tenants", dir);
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        rc = vg_fail(err, VG_EIO, "%s: %s", path, strerror(errno));
        goto fail;
    }
    if ((rc = load_key(dir, s->key, err)) != VG_OK)
        goto fail;
    snprintf(path, sizeof path, "%s/server.db", dir);
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                        SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        rc = vg_fail(err, VG_EIO, "%s: %s", path, s->db ? sqlite3_errmsg(s->db) : "cannot open");
        goto fail;
    }
    sqlite3_busy_timeout(s->db, 5000);
    if (sqlite3_exec(s->db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
                     " PRAGMA foreign_keys = ON", NULL, NULL, NULL) != SQLITE_OK) {
        rc = sqlite3_errcode(s->db) == SQLITE_NOTADB
                 ? vg_fail(err, VG_ENOTVIGIL, "%s: not a vigild file (not SQLite)", path)
                 : dberr(s, err, "opening");
        goto fail;
    }
    if ((rc = migrate(s, err)) != VG_OK)
        goto fail;
    *out = s;
    return VG_OK;
fail:
    store_close(s);
    return rc;
}

void store_close(store *s)
{
    if (!s)
        return;
    for (tenant_ws *t = s->open, *next; t; t = next) {
        next = t->next;
        vg_ws_close(t->ws);
        pthread_mutex_destroy(&t->mu);
        pthread_mutex_destroy(&t->snap_mu);
        sqlite3_close(t->head_db);
        pthread_mutex_destroy(&t->head_mu);
        free(t);
    }
    sqlite3_close(s->db);
    pthread_mutex_destroy(&s->mu);
    sodium_memzero(s->key, sizeof s->key);
    free(s->dir);
    free(s);
}

/* Prepare sql on the server's connection (s->mu held); NULL after dberr. */
static sqlite3_stmt *prep(store *s, const char *sql, vg_err *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        (void)dberr(s, err, "preparing");
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

static void col_text(sqlite3_stmt *st, int i, char *out, size_t outsz)
{
    const char *v = (const char *)sqlite3_column_text(st, i);
    snprintf(out, outsz, "%s", v ? v : "");
}

static void read_tenant(sqlite3_stmt *st, int i, store_tenant *t)
{
    col_text(st, i, t->id, sizeof t->id);
    col_text(st, i + 1, t->name, sizeof t->name);
    t->created_at = sqlite3_column_int64(st, i + 2);
}

static void tenant_path(store *s, const char *id, char *out, size_t outsz)
{
    snprintf(out, outsz, "%s/tenants/%s.db", s->dir, id);
}

/* --- tenants and users ----------------------------------------------------------- */

vg_rc store_tenant_add(store *s, const char *name, store_tenant *out, vg_err *err)
{
    if (!store_name_valid(name))
        return vg_fail(err, VG_EINVAL, "tenant name '%s' is not [a-z0-9][a-z0-9._-]{0,63}", name);
    memset(out, 0, sizeof *out);
    vg_ulid(vg_now_ms(), out->id);
    snprintf(out->name, sizeof out->name, "%s", name);
    out->created_at = vg_now_ms();
    char path[4200];
    tenant_path(s, out->id, path, sizeof path);

    /* The row and the workspace together: the row is committed only once the
     * workspace exists, and a failed workspace leaves no row. */
    pthread_mutex_lock(&s->mu);
    vg_rc rc = VG_OK;
    sqlite3_stmt *st = NULL;
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        rc = dberr(s, err, "adding a tenant");
        goto out;
    }
    if (!(st = prep(s, "INSERT INTO tenants(id, name, created_at) VALUES (?, ?, ?)", err))) {
        rc = VG_EDB;
        goto rollback;
    }
    sqlite3_bind_text(st, 1, out->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, out->created_at);
    int step = sqlite3_step(st);
    if (step == SQLITE_CONSTRAINT) {
        rc = vg_fail(err, VG_EEXIST, "there is already a tenant named '%s'", name);
        goto rollback;
    }
    if (step != SQLITE_DONE) {
        rc = dberr(s, err, "adding a tenant");
        goto rollback;
    }
    vg_ws *ws = NULL;
    if ((rc = vg_ws_open(path, VG_OPEN_CREATE, &ws, err)) != VG_OK) {
        unlink(path);
        goto rollback;
    }
    vg_ws_close(ws);
    if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
        goto out;
    rc = dberr(s, err, "adding a tenant");
    unlink(path);
rollback:
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
out:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

vg_rc store_tenant_get(store *s, const char *name, store_tenant *out, vg_err *err)
{
    pthread_mutex_lock(&s->mu);
    vg_rc rc = VG_EDB;
    sqlite3_stmt *st = prep(s, "SELECT id, name, created_at FROM tenants WHERE name = ?", err);
    if (st) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            read_tenant(st, 0, out);
            rc = VG_OK;
        } else if (step == SQLITE_DONE) {
            char safe[200];
            vg_text_safe(name, strlen(name), VG_TEXT_ASCII, safe, sizeof safe);
            rc = vg_fail(err, VG_ENOTFOUND, "no tenant named '%s'", safe);
        } else {
            rc = dberr(s, err, "reading tenants");
        }
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* Run a prepared listing and gather its rows with read, which fills one item. */
static vg_rc gather(store *s, sqlite3_stmt *st, size_t itemsz, void (*read)(sqlite3_stmt *, void *),
                    void **items, size_t *n, vg_err *err)
{
    size_t cap = 0;
    char *arr = NULL;
    int step;
    *n = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            arr = vg_xrealloc(arr, cap * itemsz);
        }
        memset(arr + *n * itemsz, 0, itemsz);
        read(st, arr + (*n)++ * itemsz);
    }
    if (step != SQLITE_DONE) {
        free(arr);
        *n = 0;
        return dberr(s, err, "listing");
    }
    *items = arr;
    return VG_OK;
}

static void read_tenant_row(sqlite3_stmt *st, void *item) { read_tenant(st, 0, item); }

vg_rc store_tenants(store *s, store_tenant **items, size_t *n, vg_err *err)
{
    *items = NULL;
    *n = 0;
    pthread_mutex_lock(&s->mu);
    vg_rc rc = VG_EDB;
    sqlite3_stmt *st = prep(s, "SELECT id, name, created_at FROM tenants ORDER BY name", err);
    if (st)
        rc = gather(s, st, sizeof **items, read_tenant_row, (void **)items, n, err);
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

vg_rc store_user_add(store *s, const char *tenant_id, const char *name, store_role role,
                     vg_err *err)
{
    if (!store_name_valid(name))
        return vg_fail(err, VG_EINVAL, "user name '%s' is not [a-z0-9][a-z0-9._-]{0,63}", name);
    pthread_mutex_lock(&s->mu);
    vg_rc rc = VG_EDB;
    sqlite3_stmt *st = prep(s, "INSERT INTO users(tenant_id, name, role, created_at)"
                               " VALUES (?, ?, ?, ?)", err);
    if (st) {
        sqlite3_bind_text(st, 1, tenant_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, store_role_name(role), -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, vg_now_ms());
        int step = sqlite3_step(st);
        rc = step == SQLITE_DONE ? VG_OK
             : step == SQLITE_CONSTRAINT
                 ? vg_fail(err, VG_EEXIST, "the tenant already has a user named '%s'", name)
                 : dberr(s, err, "adding a user");
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static void read_user_row(sqlite3_stmt *st, void *item)
{
    store_user *u = item;
    col_text(st, 0, u->tenant_id, sizeof u->tenant_id);
    col_text(st, 1, u->name, sizeof u->name);
    u->role = store_role_parse((const char *)sqlite3_column_text(st, 2));
    u->created_at = sqlite3_column_int64(st, 3);
}

vg_rc store_users(store *s, const char *tenant_id, store_user **items, size_t *n, vg_err *err)
{
    *items = NULL;
    *n = 0;
    pthread_mutex_lock(&s->mu);
    vg_rc rc = VG_EDB;
    sqlite3_stmt *st = prep(s, "SELECT tenant_id, name, role, created_at FROM users"
                               " WHERE tenant_id = ? ORDER BY name", err);
    if (st) {
        sqlite3_bind_text(st, 1, tenant_id, -1, SQLITE_STATIC);
        rc = gather(s, st, sizeof **items, read_user_row, (void **)items, n, err);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* --- tokens ---------------------------------------------------------------------- */

#define TOKEN_COLS "k.id, t.id, t.name, t.created_at, k.user, k.label, k.created_at," \
                   " k.last_used_at, k.revoked_at FROM tokens k JOIN tenants t ON t.id = k.tenant_id"

static void read_token_row(sqlite3_stmt *st, void *item)
{
    store_token *k = item;
    col_text(st, 0, k->id, sizeof k->id);
    read_tenant(st, 1, &k->tenant);
    col_text(st, 4, k->user, sizeof k->user);
    col_text(st, 5, k->label, sizeof k->label);
    k->created_at = sqlite3_column_int64(st, 6);
    k->last_used_at = sqlite3_column_int64(st, 7);
    k->revoked_at = sqlite3_column_int64(st, 8);
}

static bool label_valid(const char *s)
{
    size_t n = strlen(s);
    if (n > STORE_LABEL_MAX || !vg_utf8_valid(s, n))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

vg_rc store_token_new(store *s, const char *tenant_id, const char *user, const char *label,
                      char *secret, size_t secretsz, store_token *out, vg_err *err)
{
    if (label && !label_valid(label))
        return vg_fail(err, VG_EINVAL, "the label must be at most %d bytes of UTF-8 text without"
                       " control characters", STORE_LABEL_MAX);
    if (secretsz < TOKEN_TEXT_LEN + 1)
        return vg_fail(err, VG_EINVAL, "no room for the token");
    unsigned char raw[TOKEN_BYTES], hash[TOKEN_HASH_BYTES];
    char text[TOKEN_TEXT_LEN + 1];
    token_make(raw, text);
    token_hash(s->key, raw, hash);
    sodium_memzero(raw, sizeof raw);
    vg_id id;
    vg_ulid(vg_now_ms(), id);

    pthread_mutex_lock(&s->mu);
    vg_rc rc = VG_EDB;
    sqlite3_stmt *st = prep(s, "INSERT INTO tokens(id, tenant_id, user, label, hash, created_at)"
                               " SELECT ?, tenant_id, name, ?, ?, ? FROM users"
                               " WHERE tenant_id = ? AND name = ?", err);
    if (st) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        if (label && *label)
            sqlite3_bind_text(st, 2, label, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 3, hash, sizeof hash, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, vg_now_ms());
        sqlite3_bind_text(st, 5, tenant_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, user, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = dberr(s, err, "adding a token");
        else if (sqlite3_changes(s->db) == 0)
            rc = vg_fail(err, VG_ENOTFOUND, "the tenant has no user named '%s'", user);
        else
            rc = VG_OK;
    }
    sqlite3_finalize(st);
    if (rc == VG_OK && (st = prep(s, "SELECT " TOKEN_COLS " WHERE k.id = ?", err))) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        memset(out, 0, sizeof *out);
        if (sqlite3_step(st) == SQLITE_ROW)
            read_token_row(st, out);
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->mu);
    if (rc == VG_OK)
        memcpy(secret, text, sizeof text);
    sodium_memzero(text, sizeof text);
    return rc;
}

vg_rc store_tokens(store *s, const char *tenant_id, store_token **items, size_t *n, vg_err *err)
{
    *items = NULL;
    *n = 0;
    pthread_mutex_lock(&s->mu);
    vg_rc rc = VG_EDB;
    sqlite3_stmt *st = prep(s, "SELECT " TOKEN_COLS " WHERE ?1 IS NULL OR k.tenant_id = ?1"
                               " ORDER BY k.created_at, k.id", err);
    if (st) {
        if (tenant_id)
            sqlite3_bind_text(st, 1, tenant_id, -1, SQLITE_STATIC);
        rc = gather(s, st, sizeof **items, read_token_row, (void **)items, n, err);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

vg_rc store_token_revoke(store *s, const char *id, vg_err *err)
{
    pthread_mutex_lock(&s->mu);
    vg_rc rc = VG_EDB;
    sqlite3_stmt *st = prep(s, "UPDATE tokens SET revoked_at = coalesce(revoked_at, ?)"
                               " WHERE id = ?", err);
    if (st) {
        sqlite3_bind_int64(st, 1, vg_now_ms());
        sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = dberr(s, err, "revoking");
        else if (sqlite3_changes(s->db) == 0) {
            char safe[100];
            vg_text_safe(id, strlen(id), VG_TEXT_ASCII, safe, sizeof safe);
            rc = vg_fail(err, VG_ENOTFOUND, "no token with id '%s' (see vigild token ls)", safe);
        } else
            rc = VG_OK;
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

vg_rc store_auth(store *s, const char *secret, store_ident *out, vg_err *err)
{
    unsigned char raw[TOKEN_BYTES], hash[TOKEN_HASH_BYTES];
    if (!token_parse(secret, raw))
        return vg_fail(err, VG_EINVAL, "not a vigild token");
    token_hash(s->key, raw, hash);
    sodium_memzero(raw, sizeof raw);
    memset(out, 0, sizeof *out);

    /* The lookup is by the hash (an index), which a timing difference cannot help
     * anyone guess: the secret's bytes are never compared, only their keyed hash;
     * sodium_memcmp makes sure the row found is the hash asked for. */
    pthread_mutex_lock(&s->mu);
    int64_t now = vg_now_ms(), last = 0;
    vg_rc rc = VG_EDB;
    sqlite3_stmt *st = prep(s, "SELECT k.hash, k.id, k.user, u.role, k.last_used_at,"
                               " t.id, t.name, t.created_at FROM tokens k"
                               " JOIN users u ON u.tenant_id = k.tenant_id AND u.name = k.user"
                               " JOIN tenants t ON t.id = k.tenant_id"
                               " WHERE k.hash = ? AND k.revoked_at IS NULL", err);
    if (st) {
        sqlite3_bind_blob(st, 1, hash, sizeof hash, SQLITE_STATIC);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW && sqlite3_column_bytes(st, 0) == TOKEN_HASH_BYTES &&
            sodium_memcmp(sqlite3_column_blob(st, 0), hash, TOKEN_HASH_BYTES) == 0) {
            col_text(st, 1, out->token_id, sizeof out->token_id);
            col_text(st, 2, out->user, sizeof out->user);
            out->role = store_role_parse((const char *)sqlite3_column_text(st, 3));
            last = sqlite3_column_int64(st, 4);
            read_tenant(st, 5, &out->tenant);
            rc = out->role ? VG_OK : vg_fail(err, VG_ENOTFOUND, "unknown or revoked token");
        } else if (step == SQLITE_ROW || step == SQLITE_DONE) {
            rc = vg_fail(err, VG_ENOTFOUND, "unknown or revoked token");
        } else {
            rc = dberr(s, err, "checking a token");
        }
    }
    sqlite3_finalize(st);
    /* last_used_at to the minute: one write a minute per token, not one a request.
     * Failing to note it does not fail the request (the database may be busy with
     * an administrator's command). */
    if (rc == VG_OK && now - last >= 60000 &&
        (st = prep(s, "UPDATE tokens SET last_used_at = ? WHERE id = ?", NULL))) {
        sqlite3_bind_int64(st, 1, now);
        sqlite3_bind_text(st, 2, out->token_id, -1, SQLITE_STATIC);
        (void)sqlite3_step(st);
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* --- ref leases ------------------------------------------------------------------- */

vg_rc store_ref_lease(store *s, const char *tenant_id, const char *user, int64_t n, int64_t *lo,
                      int64_t *hi, vg_err *err)
{
    if (n < 1 || n > STORE_LEASE_MAX)
        return vg_fail(err, VG_EINVAL, "want: a number of refs from 1 to %d", STORE_LEASE_MAX);
    pthread_mutex_lock(&s->mu);
    vg_rc rc = VG_EDB;
    sqlite3_stmt *get = NULL, *put = NULL, *rec = NULL;
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        rc = dberr(s, err, "leasing refs");
        goto out;
    }
    get = prep(s, "SELECT next FROM ref_counters WHERE tenant_id = ?", err);
    put = prep(s, "INSERT OR REPLACE INTO ref_counters(tenant_id, next) VALUES (?, ?)", err);
    rec = prep(s, "INSERT INTO ref_leases(tenant_id, user, lo, hi, granted_at)"
                  " VALUES (?, ?, ?, ?, ?)", err);
    if (get && put && rec) {
        sqlite3_bind_text(get, 1, tenant_id, -1, SQLITE_STATIC);
        int64_t next = sqlite3_step(get) == SQLITE_ROW ? sqlite3_column_int64(get, 0) : 1;
        sqlite3_bind_text(put, 1, tenant_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(put, 2, next + n);
        sqlite3_bind_text(rec, 1, tenant_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(rec, 2, user, -1, SQLITE_STATIC);
        sqlite3_bind_int64(rec, 3, next);
        sqlite3_bind_int64(rec, 4, next + n - 1);
        sqlite3_bind_int64(rec, 5, vg_now_ms());
        if (sqlite3_step(put) == SQLITE_DONE && sqlite3_step(rec) == SQLITE_DONE &&
            sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK) {
            *lo = next;
            *hi = next + n - 1;
            rc = VG_OK;
        } else {
            rc = dberr(s, err, "leasing refs");
        }
    }
    if (rc != VG_OK)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
out:
    sqlite3_finalize(get);
    sqlite3_finalize(put);
    sqlite3_finalize(rec);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

vg_rc store_ref_owner(store *s, const char *tenant_id, const char *user, int64_t ref,
                      store_ref_holder *out, vg_err *err)
{
    *out = STORE_REF_NOBODY;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = prep(s, "SELECT user, hi FROM ref_leases WHERE tenant_id = ?1 AND lo <= ?2"
                               " ORDER BY lo DESC LIMIT 1", err);
    sqlite3_stmt *ad = prep(s, "SELECT adopt_until > ?2 FROM ref_counters WHERE tenant_id = ?1",
                            err);
    vg_rc rc = VG_EDB;
    if (st && ad) {
        sqlite3_bind_text(st, 1, tenant_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, ref);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW && sqlite3_column_int64(st, 1) >= ref) {
            const char *u = (const char *)sqlite3_column_text(st, 0);
            *out = u && strcmp(u, user) == 0 ? STORE_REF_USER : STORE_REF_OTHER;
        } else if (step == SQLITE_ROW || step == SQLITE_DONE) {
            sqlite3_bind_text(ad, 1, tenant_id, -1, SQLITE_STATIC);
            sqlite3_bind_int64(ad, 2, vg_now_ms());
            if (sqlite3_step(ad) == SQLITE_ROW && sqlite3_column_int(ad, 0))
                *out = STORE_REF_LOST;
        }
        rc = step == SQLITE_ROW || step == SQLITE_DONE ? VG_OK : dberr(s, err, "reading leases");
    }
    sqlite3_finalize(st);
    sqlite3_finalize(ad);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* Run the statements of sql, binding tenant_id as ?1, user ?2, ref ?3 and now ?4
 * in each (a statement without one of them leaves it unbound), in a transaction of
 * its own on the server's file. */
static vg_rc ref_write(store *s, const char *sql, const char *tenant_id, const char *user,
                       int64_t ref, vg_err *err)
{
    pthread_mutex_lock(&s->mu);
    vg_rc rc = VG_EDB;
    sqlite3_stmt *st = NULL;
    const char *tail = sql;
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK) {
        rc = VG_OK;
        while (rc == VG_OK && *tail) {
            if (sqlite3_prepare_v2(s->db, tail, -1, &st, &tail) != SQLITE_OK) {
                rc = dberr(s, err, "recording refs");
                break;
            }
            if (!st)
                break;
            sqlite3_bind_text(st, 1, tenant_id, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 3, ref);
            sqlite3_bind_int64(st, 4, vg_now_ms());
            if (sqlite3_step(st) != SQLITE_DONE)
                rc = dberr(s, err, "recording refs");
            sqlite3_finalize(st);
            st = NULL;
        }
        if (rc == VG_OK && sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
            rc = dberr(s, err, "recording refs");
        if (rc != VG_OK)
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    } else {
        rc = dberr(s, err, "recording refs");
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

vg_rc store_ref_adopt(store *s, const char *tenant_id, const char *user, int64_t ref, vg_err *err)
{
    return ref_write(s,
                     "INSERT OR IGNORE INTO ref_leases(tenant_id, user, lo, hi, granted_at)"
                     " VALUES (?1, ?2, ?3, ?3, ?4);"
                     "INSERT OR IGNORE INTO ref_counters(tenant_id, next) VALUES (?1, 1);"
                     "UPDATE ref_counters SET next = max(next, ?3 + 1) WHERE tenant_id = ?1;",
                     tenant_id, user, ref, err);
}

vg_rc store_ref_restored(store *s, const char *tenant_id, int64_t margin, int64_t window_ms,
                         vg_err *err)
{
    char sql[400];
    snprintf(sql, sizeof sql,
             "INSERT OR IGNORE INTO ref_counters(tenant_id, next) VALUES (?1, 1);"
             "UPDATE ref_counters SET next = next + %lld, adopt_until = ?4 + %lld"
             " WHERE tenant_id = ?1 AND adopt_until <= ?4;"
             "UPDATE ref_counters SET adopt_until = ?4 + %lld WHERE tenant_id = ?1;",
             (long long)margin, (long long)window_ms, (long long)window_ms);
    return ref_write(s, sql, tenant_id, "", 0, err);
}

/* --- tenants' workspaces ---------------------------------------------------------- */

/* The open workspace of tenant_id, opening it on first use (s->mu held). */
static vg_rc tenant_ws_get(store *s, const char *tenant_id, tenant_ws **out, vg_err *err)
{
    for (tenant_ws *t = s->open; t; t = t->next)
        if (strcmp(t->id, tenant_id) == 0) {
            *out = t;
            return VG_OK;
        }
    if (!vg_ulid_valid(tenant_id))
        return vg_fail(err, VG_ENOTFOUND, "no such tenant");
    char path[4200];
    tenant_path(s, tenant_id, path, sizeof path);
    vg_ws *ws = NULL;
    vg_rc rc = vg_ws_open(path, 0, &ws, err);
    if (rc != VG_OK)
        return rc;
    vg_ws_set_tenant(ws, tenant_id);
    tenant_ws *t = vg_xcalloc(1, sizeof *t);
    memcpy(t->id, tenant_id, sizeof t->id);
    t->ws = ws;
    pthread_mutex_init(&t->mu, NULL);
    pthread_mutex_init(&t->snap_mu, NULL);
    pthread_mutex_init(&t->head_mu, NULL);
    t->next = s->open;
    s->open = t;
    *out = t;
    return VG_OK;
}

/* tenant_ws_get under s->mu: opening (a migration, perhaps) makes a tenant's
 * first request after a start wait for it, and others' token checks, once. */
static vg_rc tenant_find(store *s, const char *tenant_id, tenant_ws **out, vg_err *err)
{
    pthread_mutex_lock(&s->mu);
    vg_rc rc = tenant_ws_get(s, tenant_id, out, err);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

vg_rc store_with_tenant(store *s, const char *tenant_id, store_ws_fn fn, void *ud, vg_err *err)
{
    tenant_ws *t = NULL;
    vg_rc rc = tenant_find(s, tenant_id, &t, err);
    if (rc != VG_OK)
        return rc;
    pthread_mutex_lock(&t->mu);
    rc = fn(t->ws, ud, err);
    pthread_mutex_unlock(&t->mu);
    return rc;
}

/* --- snapshots ---------------------------------------------------------------------- */

/* The newest op of the workspace file db has open: its seq and id (0 and "" when
 * the log is empty). */
static int log_head(sqlite3 *db, int64_t *seq, char id[27])
{
    sqlite3_stmt *st = NULL;
    *seq = 0;
    id[0] = '\0';
    int rc = sqlite3_prepare_v2(db, "SELECT seq, id FROM ops ORDER BY seq DESC LIMIT 1", -1, &st,
                                NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        *seq = sqlite3_column_int64(st, 0);
        snprintf(id, 27, "%s", (const char *)sqlite3_column_text(st, 1));
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* The snapshot's first frame: a zstd skippable frame (magic, length, then
 * "<seq> <id>") saying which op the snapshot ends at. Decoders skip it (a client
 * reads the workspace alone), and the server reads it from the very file it
 * sends, so the Vigil-Head it answers is the file's even when another process
 * replaced the file a moment before. */
#define SNAP_HEAD_MAX 64

static size_t snap_head_frame(int64_t seq, const char *id, unsigned char out[8 + SNAP_HEAD_MAX])
{
    int n = id[0] ? snprintf((char *)out + 8, SNAP_HEAD_MAX, "%lld %s", (long long)seq, id)
                  : snprintf((char *)out + 8, SNAP_HEAD_MAX, "%lld", (long long)seq); /* empty */
    uint32_t magic = ZSTD_MAGIC_SKIPPABLE_START, len = (uint32_t)n;
    for (int b = 0; b < 4; b++) {
        out[b] = (unsigned char)(magic >> (8 * b));
        out[4 + b] = (unsigned char)(len >> (8 * b));
    }
    return 8 + (size_t)n;
}

/* Read the head of the snapshot open on fd (pread: the offset stays at 0 for
 * the answer); false when the file has no such frame (a vigild before the
 * frame wrote it) or it does not parse. */
static bool snap_head_read(int fd, int64_t *seq, char id[27])
{
    unsigned char b[8 + SNAP_HEAD_MAX];
    ssize_t got = pread(fd, b, sizeof b, 0);
    if (got < 8)
        return false;
    uint32_t magic = 0, len = 0;
    for (int k = 0; k < 4; k++) {
        magic |= (uint32_t)b[k] << (8 * k);
        len |= (uint32_t)b[4 + k] << (8 * k);
    }
    if (magic != ZSTD_MAGIC_SKIPPABLE_START || len >= SNAP_HEAD_MAX || (ssize_t)len > got - 8)
        return false;
    char text[SNAP_HEAD_MAX], *end;
    memcpy(text, b + 8, len);
    text[len] = '\0';
    long long v = strtoll(text, &end, 10);
    if (end == text || v < 0 || (*end != ' ' && *end != '\0'))
        return false;
    if (*end == ' ') {
        if (!vg_ulid_valid(end + 1))
            return false;
        memcpy(id, end + 1, 27);
    } else {
        if (v != 0) /* an op other than none has an id */
            return false;
        id[0] = '\0';
    }
    *seq = v;
    return true;
}

/* Compress the file at from into to (zstd, two workers when the library has them),
 * after the head frame (snap_head_frame). */
static vg_rc compress_file(const char *from, const char *to, int64_t seq, const char *id,
                           vg_err *err)
{
    FILE *in = fopen(from, "rb");
    int fd = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *out = fd >= 0 ? fdopen(fd, "wb") : NULL;
    ZSTD_CCtx *z = ZSTD_createCCtx();
    vg_rc rc = VG_OK;
    if (!in || !out || !z) {
        rc = vg_fail(err, VG_EIO, "%s: %s", !in ? from : to, strerror(errno));
        goto out;
    }
    ZSTD_CCtx_setParameter(z, ZSTD_c_compressionLevel, 3);
    ZSTD_CCtx_setParameter(z, ZSTD_c_checksumFlag, 1); /* a damaged copy fails to decode */
    (void)ZSTD_CCtx_setParameter(z, ZSTD_c_nbWorkers, 2); /* refused by a single-thread build */
    unsigned char frame[8 + SNAP_HEAD_MAX];
    size_t fl = snap_head_frame(seq, id, frame);
    if (fwrite(frame, 1, fl, out) != fl) {
        rc = vg_fail(err, VG_EIO, "%s: %s", to, strerror(errno));
        goto out;
    }
    enum { CHUNK = 1 << 17 };
    char *ibuf = vg_xmalloc(CHUNK), *obuf = vg_xmalloc(CHUNK);
    size_t n;
    bool last = false;
    while (rc == VG_OK && !last) {
        n = fread(ibuf, 1, CHUNK, in);
        last = n < CHUNK;
        ZSTD_inBuffer ib = {ibuf, n, 0};
        size_t left;
        do {
            ZSTD_outBuffer ob = {obuf, CHUNK, 0};
            left = ZSTD_compressStream2(z, &ob, &ib, last ? ZSTD_e_end : ZSTD_e_continue);
            if (ZSTD_isError(left))
                rc = vg_fail(err, VG_EIO, "compressing a snapshot: %s", ZSTD_getErrorName(left));
            else if (fwrite(obuf, 1, ob.pos, out) != ob.pos)
                rc = vg_fail(err, VG_EIO, "%s: %s", to, strerror(errno));
        } while (rc == VG_OK && (last ? left != 0 : ib.pos < ib.size));
    }
    if (rc == VG_OK && ferror(in))
        rc = vg_fail(err, VG_EIO, "%s: %s", from, strerror(errno));
    if (rc == VG_OK && (fflush(out) != 0 || fsync(fileno(out)) != 0))
        rc = vg_fail(err, VG_EIO, "%s: %s", to, strerror(errno));
    free(ibuf);
    free(obuf);
out:
    ZSTD_freeCCtx(z);
    if (in)
        fclose(in);
    if (out)
        fclose(out);
    else if (fd >= 0)
        close(fd);
    return rc;
}

/* Make DIR/snapshots/<id>.zst from the tenant's workspace: SQLite's backup of it,
 * as one consistent read, without what is vigild's alone (its replica id, its ref
 * lease, idempotency records) and in rollback-journal mode (one file), then
 * compressed behind its head frame. The work files carry the pid: another vigild
 * process on this directory may be making the same tenant's snapshot; the last
 * rename wins, and either file is whole and says what it holds. */
static vg_rc snapshot_make(store *s, tenant_ws *t, vg_err *err)
{
    char src[4200], db[4200], zst[4200], tmp[4200];
    long pid = (long)getpid();
    tenant_path(s, t->id, src, sizeof src);
    snprintf(db, sizeof db, "%s/snapshots", s->dir);
    if (mkdir(db, 0700) != 0 && errno != EEXIST)
        return vg_fail(err, VG_EIO, "%s: %s", db, strerror(errno));
    snprintf(db, sizeof db, "%s/snapshots/%s.%ld.db", s->dir, t->id, pid);
    snprintf(zst, sizeof zst, "%s/snapshots/%s.zst", s->dir, t->id);
    snprintf(tmp, sizeof tmp, "%s/snapshots/%s.zst.%ld.tmp", s->dir, t->id, pid);
    unlink(db);
    sqlite3 *from = NULL, *to = NULL;
    int64_t seq = 0;
    char id[27];
    vg_rc rc = VG_OK;
    if (sqlite3_open_v2(src, &from, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_open_v2(db, &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        rc = vg_fail(err, VG_EDB, "snapshot of tenant %s: %s", t->id,
                     sqlite3_errmsg(to ? to : from));
        goto out;
    }
    sqlite3_busy_timeout(from, 5000);
    /* one step: the read holds one snapshot of the file from the first page to the
     * last, while writers go on in the WAL */
    sqlite3_backup *b = sqlite3_backup_init(to, "main", from, "main");
    int br = b ? sqlite3_backup_step(b, -1) : SQLITE_ERROR;
    if (b)
        sqlite3_backup_finish(b);
    if (br != SQLITE_DONE ||
        sqlite3_exec(to, "PRAGMA journal_mode = DELETE;"
                         "DELETE FROM meta WHERE key IN ('replica', 'refs') OR key GLOB 'aux:*'"
                         " OR key GLOB 'sync:*' OR key GLOB 'remote:*';",
                     NULL, NULL, NULL) != SQLITE_OK ||
        log_head(to, &seq, id) != SQLITE_OK) {
        rc = vg_fail(err, VG_EDB, "snapshot of tenant %s: %s", t->id, sqlite3_errmsg(to));
        goto out;
    }
    sqlite3_close(to);
    to = NULL;
    if ((rc = compress_file(db, tmp, seq, id, err)) == VG_OK && rename(tmp, zst) != 0)
        rc = vg_fail(err, VG_EIO, "%s: %s", zst, strerror(errno));
out:
    sqlite3_close(from);
    sqlite3_close(to);
    unlink(db);
    unlink(tmp);
    return rc;
}

/* The tenant's snapshot file, open, and the head it holds; -1 when there is none
 * or it has no head frame. */
static int snapshot_open(const char *path, int64_t *seq, char id[27])
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && !snap_head_read(fd, seq, id)) {
        close(fd);
        fd = -1;
    }
    return fd;
}

vg_rc store_snapshot(store *s, const char *tenant_id, int64_t lag, int *fd, uint64_t *size,
                     int64_t *seq, char id[27], vg_err *err)
{
    tenant_ws *t = NULL;
    *fd = -1;
    vg_rc rc = tenant_find(s, tenant_id, &t, err);
    if (rc != VG_OK)
        return rc;
    pthread_mutex_lock(&t->snap_mu);
    char path[4200];
    int64_t head = 0;
    char head_id[27];
    sqlite3 *db = NULL;
    tenant_path(s, t->id, path, sizeof path);
    int qr = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
    if (qr == SQLITE_OK)
        qr = log_head(db, &head, head_id);
    sqlite3_close(db);
    snprintf(path, sizeof path, "%s/snapshots/%s.zst", s->dir, t->id);
    if (qr != SQLITE_OK) {
        rc = vg_fail(err, VG_EDB, "reading tenant %s's log", t->id);
        goto out;
    }
    *fd = snapshot_open(path, seq, id);
    if (*fd < 0 || head - *seq > lag) {
        if (*fd >= 0)
            close(*fd);
        if ((rc = snapshot_make(s, t, err)) != VG_OK)
            goto out;
        /* whichever process renamed last: the file says what it holds */
        errno = 0;
        if ((*fd = snapshot_open(path, seq, id)) < 0) {
            rc = vg_fail(err, VG_EIO, "%s: %s", path,
                         errno ? strerror(errno) : "made without its head frame");
            goto out;
        }
    }
    struct stat sb;
    if (fstat(*fd, &sb) != 0) {
        rc = vg_fail(err, VG_EIO, "%s: %s", path, strerror(errno));
        close(*fd);
        *fd = -1;
    } else {
        *size = (uint64_t)sb.st_size;
    }
out:
    pthread_mutex_unlock(&t->snap_mu);
    return rc;
}

/* --- the head, for the waker -------------------------------------------------------- */

vg_rc store_tenant_head(store *s, const char *tenant_id, int64_t *seq, vg_err *err)
{
    tenant_ws *t = NULL;
    vg_rc rc = tenant_find(s, tenant_id, &t, err);
    if (rc != VG_OK)
        return rc;
    pthread_mutex_lock(&t->head_mu);
    if (!t->head_db) {
        char path[4200];
        tenant_path(s, t->id, path, sizeof path);
        if (sqlite3_open_v2(path, &t->head_db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                            NULL) != SQLITE_OK) {
            rc = vg_fail(err, VG_EDB, "%s: %s", path,
                         t->head_db ? sqlite3_errmsg(t->head_db) : "cannot open");
            sqlite3_close(t->head_db);
            t->head_db = NULL;
        } else {
            sqlite3_busy_timeout(t->head_db, 1000);
        }
    }
    if (rc == VG_OK) {
        sqlite3_stmt *st = NULL;
        /* seq is the rowid: max() is one step down the b-tree */
        if (sqlite3_prepare_v2(t->head_db, "SELECT coalesce(max(seq), 0) FROM ops", -1, &st,
                               NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            *seq = sqlite3_column_int64(st, 0);
        else
            rc = vg_fail(err, VG_EDB, "tenant %s: reading its head: %s", t->id,
                         sqlite3_errmsg(t->head_db));
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&t->head_mu);
    return rc;
}
