/*
 * store.c — the store (store.h) over a backend (store_be.h): what every backend
 * shares. The data directory and its tenant workspaces, the snapshots, the token
 * text and its hash are kept here; the records and the truth of each tenant's op
 * log are the backend's (store_sqlite.c, the embedded default; store_pg.c, one
 * PostgreSQL database for several vigild).
 *
 * Concurrency. A workspace (vg_ws) is one SQLite connection opened NOMUTEX, so
 * each open tenant has its own mutex and store_with_tenant runs one caller at a
 * time on it. Two readers of one tenant therefore wait for each other; the
 * improvement, when a tenant's reads contend, is a small pool of read-only
 * connections per tenant (WAL lets them read while the writer writes) beside the
 * one writer, chosen by whether the handler writes.
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

#include "store_be.h"
#include "vigil/text.h"

struct store {
    char *dir;
    const store_be *be;
    void *b;
    pthread_mutex_t mu; /* guards the tenant list */
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

/* --- the data directory ----------------------------------------------------------- */

/* dir exists (made 0700 if not), is a directory, is ours and only we may write it.
 * A symlink is judged by the directory it names (/var/lib/vigild -> /srv/vigild). */
static vg_rc check_dir(const char *dir, vg_err *err)
{
    struct stat sb;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return vg_fail(err, VG_EIO, "%s: cannot make the data directory: %s", dir, strerror(errno));
    if (stat(dir, &sb) != 0)
        return vg_fail(err, VG_EIO, "%s: %s", dir, strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return vg_fail(err, VG_EIO, "%s: not a directory", dir);
    if (sb.st_uid != geteuid())
        return vg_fail(err, VG_EIO,
                       "%s: owned by uid %u, not by this user (uid %u); run vigild"
                       " as its owner",
                       dir, (unsigned)sb.st_uid, (unsigned)geteuid());
    if (sb.st_mode & (S_IWGRP | S_IWOTH))
        return vg_fail(err, VG_EIO, "%s: group- or world-writable (mode %03o); chmod go-w it", dir,
                       (unsigned)(sb.st_mode & 0777));
    return VG_OK;
}

void store_tenant_path(const char *dir, const char *id, char *out, size_t outsz)
{
    snprintf(out, outsz, "%s/tenants/%s.db", dir, id);
}

vg_rc store_open(const char *dir, const char *url, store **out, vg_err *err)
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
    s->be = url ? &store_be_pg : &store_be_sqlite;
    if ((rc = url ? store_pg_open(url, &s->b, err) : store_sqlite_open(dir, &s->b, err)))
        goto fail;
    s->be->key(s->b, s->key);
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
        if (s->be->closed)
            s->be->closed(s->b, t);
        vg_ws_close(t->ws);
        pthread_mutex_destroy(&t->mu);
        pthread_mutex_destroy(&t->snap_mu);
        sqlite3_close(t->head_db);
        pthread_mutex_destroy(&t->head_mu);
        free(t);
    }
    if (s->b)
        s->be->close(s->b);
    pthread_mutex_destroy(&s->mu);
    sodium_memzero(s->key, sizeof s->key);
    free(s->dir);
    free(s);
}

const char *store_kind(const store *s)
{
    return s->be->name;
}

/* --- tenants, users, tokens ----------------------------------------------------- */

static vg_rc make_ws(void *ud, vg_err *err)
{
    const char *path = ud;
    vg_ws *ws = NULL;
    vg_rc rc = vg_ws_open(path, VG_OPEN_CREATE, &ws, err);
    if (rc != VG_OK)
        unlink(path);
    vg_ws_close(ws);
    return rc;
}

vg_rc store_tenant_add(store *s, const char *name, store_tenant *out, vg_err *err)
{
    if (!store_name_valid(name))
        return vg_fail(err, VG_EINVAL, "tenant name '%s' is not [a-z0-9][a-z0-9._-]{0,63}", name);
    memset(out, 0, sizeof *out);
    vg_ulid(vg_now_ms(), out->id);
    snprintf(out->name, sizeof out->name, "%s", name);
    out->created_at = vg_now_ms();
    char path[4200];
    store_tenant_path(s->dir, out->id, path, sizeof path);
    vg_rc rc = s->be->tenant_add(s->b, out, make_ws, path, err);
    if (rc != VG_OK)
        unlink(path);
    return rc;
}

vg_rc store_tenant_get(store *s, const char *name, store_tenant *out, vg_err *err)
{
    return s->be->tenant_get(s->b, name, out, err);
}

vg_rc store_tenants(store *s, store_tenant **items, size_t *n, vg_err *err)
{
    *items = NULL;
    *n = 0;
    return s->be->tenants(s->b, items, n, err);
}

vg_rc store_user_add(store *s, const char *tenant_id, const char *name, store_role role,
                     vg_err *err)
{
    if (!store_name_valid(name))
        return vg_fail(err, VG_EINVAL, "user name '%s' is not [a-z0-9][a-z0-9._-]{0,63}", name);
    return s->be->user_add(s->b, tenant_id, name, role, err);
}

vg_rc store_users(store *s, const char *tenant_id, store_user **items, size_t *n, vg_err *err)
{
    *items = NULL;
    *n = 0;
    return s->be->users(s->b, tenant_id, items, n, err);
}

bool store_label_valid(const char *s)
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
    if (label && !store_label_valid(label))
        return vg_fail(err, VG_EINVAL,
                       "the label must be at most %d bytes of UTF-8 text without"
                       " control characters",
                       STORE_LABEL_MAX);
    if (secretsz < TOKEN_TEXT_LEN + 1)
        return vg_fail(err, VG_EINVAL, "no room for the token");
    unsigned char raw[TOKEN_BYTES], hash[TOKEN_HASH_BYTES];
    char text[TOKEN_TEXT_LEN + 1];
    token_make(raw, text);
    token_hash(s->key, raw, hash);
    sodium_memzero(raw, sizeof raw);
    vg_id id;
    vg_ulid(vg_now_ms(), id);
    memset(out, 0, sizeof *out);
    vg_rc rc = s->be->token_add(s->b, tenant_id, user, label, id, hash, out, err);
    if (rc == VG_OK)
        memcpy(secret, text, sizeof text);
    sodium_memzero(text, sizeof text);
    return rc;
}

vg_rc store_tokens(store *s, const char *tenant_id, store_token **items, size_t *n, vg_err *err)
{
    *items = NULL;
    *n = 0;
    return s->be->tokens(s->b, tenant_id, items, n, err);
}

vg_rc store_token_revoke(store *s, const char *id, vg_err *err)
{
    return s->be->token_revoke(s->b, id, err);
}

/* The lookup is by the keyed hash, which a timing difference cannot help anyone
 * guess: the secret's bytes are never compared, only their hash. */
vg_rc store_auth(store *s, const char *secret, store_ident *out, vg_err *err)
{
    unsigned char raw[TOKEN_BYTES], hash[TOKEN_HASH_BYTES];
    if (!token_parse(secret, raw))
        return vg_fail(err, VG_EINVAL, "not a vigild token");
    token_hash(s->key, raw, hash);
    sodium_memzero(raw, sizeof raw);
    memset(out, 0, sizeof *out);
    return s->be->auth(s->b, hash, out, err);
}

/* --- ref leases ------------------------------------------------------------------- */

vg_rc store_ref_lease(store *s, const char *tenant_id, const char *user, int64_t n, int64_t *lo,
                      int64_t *hi, vg_err *err)
{
    if (n < 1 || n > STORE_LEASE_MAX)
        return vg_fail(err, VG_EINVAL, "want: a number of refs from 1 to %d", STORE_LEASE_MAX);
    return s->be->ref_lease(s->b, tenant_id, user, n, lo, hi, err);
}

vg_rc store_ref_owner(store *s, const char *tenant_id, const char *user, int64_t ref,
                      store_ref_holder *out, vg_err *err)
{
    *out = STORE_REF_NOBODY;
    return s->be->ref_owner(s->b, tenant_id, user, ref, out, err);
}

vg_rc store_ref_adopt(store *s, const char *tenant_id, const char *user, int64_t ref, vg_err *err)
{
    return s->be->ref_adopt(s->b, tenant_id, user, ref, err);
}

vg_rc store_ref_restored(store *s, const char *tenant_id, int64_t margin, int64_t window_ms,
                         vg_err *err)
{
    return s->be->ref_restored(s->b, tenant_id, margin, window_ms, err);
}

/* --- tenants' workspaces ---------------------------------------------------------- */

/* The open workspace of tenant_id, opening it on first use (s->mu held). A
 * backend whose log is elsewhere makes the file when this host has none yet. */
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
    store_tenant_path(s->dir, tenant_id, path, sizeof path);
    vg_ws *ws = NULL;
    vg_rc rc = vg_ws_open(path, s->be->opened ? VG_OPEN_CREATE : 0, &ws, err);
    if (rc != VG_OK)
        return rc;
    vg_ws_set_tenant(ws, tenant_id);
    tenant_ws *t = vg_xcalloc(1, sizeof *t);
    memcpy(t->id, tenant_id, sizeof t->id);
    t->ws = ws;
    if (s->be->opened && (rc = s->be->opened(s->b, t, err)) != VG_OK) {
        vg_ws_close(ws);
        free(t);
        return rc;
    }
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
    if (!s->be->enter || (rc = s->be->enter(s->b, t, err)) == VG_OK)
        rc = fn(t->ws, ud, err);
    if (s->be->leave)
        s->be->leave(s->b, t);
    pthread_mutex_unlock(&t->mu);
    return rc;
}

/* The tenant of ws, which the caller is using inside store_with_tenant. */
static tenant_ws *tenant_of_ws(store *s, vg_ws *ws)
{
    pthread_mutex_lock(&s->mu);
    tenant_ws *t = s->open;
    while (t && t->ws != ws)
        t = t->next;
    pthread_mutex_unlock(&s->mu);
    return t;
}

vg_rc store_catch_up(store *s, vg_ws *ws, vg_err *err)
{
    tenant_ws *t = s->be->refresh ? tenant_of_ws(s, ws) : NULL;
    return t ? s->be->refresh(s->b, t, err) : VG_OK;
}

vg_rc store_idem_get(store *s, vg_ws *ws, const char *key, vg_buf *out, bool *found, vg_err *err)
{
    tenant_ws *t = tenant_of_ws(s, ws);
    *found = false;
    if (!t)
        return vg_fail(err, VG_EINVAL, "store_idem_get outside store_with_tenant");
    return s->be->idem_get(s->b, t, key, out, found, err);
}

vg_rc store_idem_put(store *s, vg_ws *ws, const char *key, const char *value, int64_t ttl_ms,
                     vg_err *err)
{
    tenant_ws *t = tenant_of_ws(s, ws);
    if (!t)
        return vg_fail(err, VG_EINVAL, "store_idem_put outside store_with_tenant");
    return s->be->idem_put(s->b, t, key, value, vg_now_ms() + ttl_ms, err);
}

void store_watch(store *s, void (*fn)(void *ud, const char *tenant_id), void *ud)
{
    if (s->be->watch)
        s->be->watch(s->b, fn, ud);
}

static vg_rc nothing(vg_ws *ws, void *ud, vg_err *err)
{
    (void)ws, (void)ud, (void)err;
    return VG_OK;
}

/* --- snapshots ---------------------------------------------------------------------- */

/* The newest op of the workspace file db has open: its seq and id (0 and "" when
 * the log is empty). */
static int log_head(sqlite3 *db, int64_t *seq, char id[27])
{
    sqlite3_stmt *st = NULL;
    *seq = 0;
    id[0] = '\0';
    int rc =
        sqlite3_prepare_v2(db, "SELECT seq, id FROM ops ORDER BY seq DESC LIMIT 1", -1, &st, NULL);
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
    ZSTD_CCtx_setParameter(z, ZSTD_c_checksumFlag, 1);    /* a damaged copy fails to decode */
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
    store_tenant_path(s->dir, t->id, src, sizeof src);
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
        sqlite3_exec(to,
                     "PRAGMA journal_mode = DELETE;"
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
    /* a copy of a log kept elsewhere is brought up to it first */
    vg_rc rc = s->be->enter ? store_with_tenant(s, tenant_id, nothing, NULL, err) : VG_OK;
    if (rc == VG_OK)
        rc = tenant_find(s, tenant_id, &t, err);
    if (rc != VG_OK)
        return rc;
    pthread_mutex_lock(&t->snap_mu);
    char path[4200];
    int64_t head = 0;
    char head_id[27];
    sqlite3 *db = NULL;
    store_tenant_path(s->dir, t->id, path, sizeof path);
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
    if (s->be->head)
        return s->be->head(s->b, tenant_id, seq, err);
    tenant_ws *t = NULL;
    vg_rc rc = tenant_find(s, tenant_id, &t, err);
    if (rc != VG_OK)
        return rc;
    pthread_mutex_lock(&t->head_mu);
    if (!t->head_db) {
        char path[4200];
        store_tenant_path(s->dir, t->id, path, sizeof path);
        if (sqlite3_open_v2(path, &t->head_db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK) {
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
