/*
 * store_sqlite.c — the embedded backend of the store (store_be.h): a data directory
 * of SQLite files.
 *
 *   DIR/server.db            tenants, users, token hashes, ref leases (the schema below)
 *   DIR/server.key           32 random bytes that key the token hashes, mode 0600
 *   DIR/tenants/<id>.db      one vigil workspace per tenant: its op log itself
 *   DIR/snapshots/<id>.zst   the snapshot new replicas of a tenant start from (store.c)
 *
 * A workspace per tenant rather than a tenant column in one: no query of the core
 * can cross tenants by mistake, a tenant is backed up, moved or removed as a file,
 * and one tenant's import never waits on another's write lock.
 *
 * server.db is one connection guarded by one mutex: every call on it is an indexed
 * lookup or a single-row write, far shorter than a request, and the administration
 * commands (another process) meet the server through SQLite's own locking (WAL, a
 * busy timeout).
 */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_be.h"
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

typedef struct sq {
    char *dir;
    sqlite3 *db;
    pthread_mutex_t mu; /* guards db */
    unsigned char key[TOKEN_KEY_BYTES];
} sq;

static vg_rc dberr(sq *s, vg_err *err, const char *what)
{
    return vg_fail(err, VG_EDB, "%s/server.db: %s: %s", s->dir, what, sqlite3_errmsg(s->db));
}

/* --- the key ---------------------------------------------------------------------- */

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
static vg_rc migrate(sq *s, vg_err *err)
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

static void sq_close(void *b)
{
    sq *s = b;
    sqlite3_close(s->db);
    pthread_mutex_destroy(&s->mu);
    sodium_memzero(s->key, sizeof s->key);
    free(s->dir);
    free(s);
}

vg_rc store_sqlite_open(const char *dir, void **out, vg_err *err)
{
    *out = NULL;
    vg_rc rc;
    sq *s = vg_xcalloc(1, sizeof *s);
    s->dir = vg_xstrdup(dir);
    pthread_mutex_init(&s->mu, NULL);
    char path[4096];
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
    sq_close(s);
    return rc;
}

static void sq_key(void *b, unsigned char key[TOKEN_KEY_BYTES])
{
    memcpy(key, ((sq *)b)->key, TOKEN_KEY_BYTES);
}

/* Prepare sql on the server's connection (s->mu held); NULL after dberr. */
static sqlite3_stmt *prep(sq *s, const char *sql, vg_err *err)
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

/* --- tenants and users ----------------------------------------------------------- */

static vg_rc sq_tenant_add(void *b, const store_tenant *out, vg_rc (*made)(void *ud, vg_err *err),
                           void *ud, vg_err *err)
{
    sq *s = b;
    const char *name = out->name;

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
    if ((rc = made(ud, err)) != VG_OK)
        goto rollback;
    if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
        goto out;
    rc = dberr(s, err, "adding a tenant");
rollback:
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
out:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static vg_rc sq_tenant_get(void *b, const char *name, store_tenant *out, vg_err *err)
{
    sq *s = b;
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
static vg_rc gather(sq *s, sqlite3_stmt *st, size_t itemsz, void (*read)(sqlite3_stmt *, void *),
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

static vg_rc sq_tenants(void *b, store_tenant **items, size_t *n, vg_err *err)
{
    sq *s = b;
    pthread_mutex_lock(&s->mu);
    vg_rc rc = VG_EDB;
    sqlite3_stmt *st = prep(s, "SELECT id, name, created_at FROM tenants ORDER BY name", err);
    if (st)
        rc = gather(s, st, sizeof **items, read_tenant_row, (void **)items, n, err);
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static vg_rc sq_user_add(void *b, const char *tenant_id, const char *name, store_role role,
                         vg_err *err)
{
    sq *s = b;
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

static vg_rc sq_users(void *b, const char *tenant_id, store_user **items, size_t *n, vg_err *err)
{
    sq *s = b;
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

static vg_rc sq_token_add(void *b, const char *tenant_id, const char *user, const char *label,
                          const char *id, const unsigned char hash[TOKEN_HASH_BYTES],
                          store_token *out, vg_err *err)
{
    sq *s = b;
    pthread_mutex_lock(&s->mu);
    vg_rc rc = VG_EDB;
    sqlite3_stmt *st = prep(s, "INSERT INTO tokens(id, tenant_id, user, label, hash, created_at)"
                               " SELECT ?, tenant_id, name, ?, ?, ? FROM users"
                               " WHERE tenant_id = ? AND name = ?", err);
    if (st) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        if (label && *label)
            sqlite3_bind_text(st, 2, label, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 3, hash, TOKEN_HASH_BYTES, SQLITE_STATIC);
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
        if (sqlite3_step(st) == SQLITE_ROW)
            read_token_row(st, out);
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static vg_rc sq_tokens(void *b, const char *tenant_id, store_token **items, size_t *n,
                       vg_err *err)
{
    sq *s = b;
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

static vg_rc sq_token_revoke(void *b, const char *id, vg_err *err)
{
    sq *s = b;
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

static vg_rc sq_auth(void *b, const unsigned char hash[TOKEN_HASH_BYTES], store_ident *out,
                     vg_err *err)
{
    sq *s = b;
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
        sqlite3_bind_blob(st, 1, hash, TOKEN_HASH_BYTES, SQLITE_STATIC);
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

static vg_rc sq_ref_lease(void *b, const char *tenant_id, const char *user, int64_t n,
                          int64_t *lo, int64_t *hi, vg_err *err)
{
    sq *s = b;
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

static vg_rc sq_ref_owner(void *b, const char *tenant_id, const char *user, int64_t ref,
                          store_ref_holder *out, vg_err *err)
{
    sq *s = b;
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
static vg_rc ref_write(sq *s, const char *sql, const char *tenant_id, const char *user,
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

static vg_rc sq_ref_adopt(void *b, const char *tenant_id, const char *user, int64_t ref,
                          vg_err *err)
{
    return ref_write(b,
                     "INSERT OR IGNORE INTO ref_leases(tenant_id, user, lo, hi, granted_at)"
                     " VALUES (?1, ?2, ?3, ?3, ?4);"
                     "INSERT OR IGNORE INTO ref_counters(tenant_id, next) VALUES (?1, 1);"
                     "UPDATE ref_counters SET next = max(next, ?3 + 1) WHERE tenant_id = ?1;",
                     tenant_id, user, ref, err);
}

static vg_rc sq_ref_restored(void *b, const char *tenant_id, int64_t margin, int64_t window_ms,
                             vg_err *err)
{
    char sql[400];
    snprintf(sql, sizeof sql,
             "INSERT OR IGNORE INTO ref_counters(tenant_id, next) VALUES (?1, 1);"
             "UPDATE ref_counters SET next = next + %lld, adopt_until = ?4 + %lld"
             " WHERE tenant_id = ?1 AND adopt_until <= ?4;"
             "UPDATE ref_counters SET adopt_until = ?4 + %lld WHERE tenant_id = ?1;",
             (long long)margin, (long long)window_ms, (long long)window_ms);
    return ref_write(b, sql, tenant_id, "", 0, err);
}

/* --- idempotency records: in the tenant's workspace, with what they speak of ------ */

static vg_rc sq_idem_get(void *b, tenant_ws *t, const char *key, vg_buf *out, bool *found,
                         vg_err *err)
{
    (void)b;
    char k[STORE_IDEM_KEY_MAX + 8];
    snprintf(k, sizeof k, "idem:%s", key);
    vg_buf v;
    vg_buf_init(&v, out->cap + 32);
    vg_rc rc = vg_ws_aux_prune(t->ws, "idem:", vg_now_ms(), err);
    if (rc == VG_OK)
        rc = vg_ws_aux_get(t->ws, k, &v, found, err);
    if (rc == VG_OK && *found) { /* "EXPIRY VALUE" */
        const char *s = vg_buf_str(&v), *sp = strchr(s, ' ');
        rc = vg_buf_add(out, sp ? sp + 1 : "", strlen(sp ? sp + 1 : ""));
    }
    vg_buf_free(&v);
    return rc;
}

static vg_rc sq_idem_put(void *b, tenant_ws *t, const char *key, const char *value,
                         int64_t expires_at, vg_err *err)
{
    (void)b;
    char k[STORE_IDEM_KEY_MAX + 8];
    snprintf(k, sizeof k, "idem:%s", key);
    size_t n = strlen(value) + 32;
    char *v = vg_xmalloc(n);
    snprintf(v, n, "%" PRId64 " %s", expires_at, value);
    vg_rc rc = vg_ws_aux_put(t->ws, k, v, err);
    free(v);
    return rc;
}

const store_be store_be_sqlite = {
    .name = "sqlite",
    .close = sq_close,
    .key = sq_key,
    .tenant_add = sq_tenant_add,
    .tenant_get = sq_tenant_get,
    .tenants = sq_tenants,
    .user_add = sq_user_add,
    .users = sq_users,
    .token_add = sq_token_add,
    .tokens = sq_tokens,
    .token_revoke = sq_token_revoke,
    .auth = sq_auth,
    .ref_lease = sq_ref_lease,
    .ref_owner = sq_ref_owner,
    .ref_adopt = sq_ref_adopt,
    .ref_restored = sq_ref_restored,
    .idem_get = sq_idem_get,
    .idem_put = sq_idem_put,
};
