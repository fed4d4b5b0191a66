/*
 * store_be.h — what a backend of the store (store.h) provides, and what store.c
 * keeps for every backend alike.
 *
 * store.c owns the data directory's tenant workspaces (DIR/tenants/<id>.db, one
 * vg_ws each, used under a per-tenant mutex), the snapshots new replicas start
 * from and the token text (made, parsed and hashed there with the backend's key).
 * A backend keeps the server's records (tenants, users, token hashes, ref leases,
 * idempotency records) and says where the truth of a tenant's op log is:
 *
 *   store_sqlite.c  DIR/server.db; a tenant's workspace file IS its log.
 *   store_pg.c      one PostgreSQL database for every tenant and every vigild; a
 *                   tenant's workspace file is this host's copy of the database's
 *                   log, brought up to it before each use (enter, begin) and
 *                   written through to it before each local commit (commit).
 */
#ifndef VIGILD_STORE_BE_H
#define VIGILD_STORE_BE_H

#include <pthread.h>
#include <sqlite3.h>

#include "store.h"
#include "token.h"
#include "vigil/buf.h"

/* A tenant's workspace as store.c keeps it open. */
typedef struct tenant_ws {
    vg_id id;
    vg_ws *ws;
    pthread_mutex_t mu; /* held while a caller uses ws */
    /* making the snapshot new replicas start from (store_snapshot) */
    pthread_mutex_t snap_mu;
    /* a read-only connection on the file for the head, under head_mu: a look at
     * the head never waits for a handler's write (WAL) */
    pthread_mutex_t head_mu;
    sqlite3 *head_db;
    void *be; /* the backend's own state of the tenant */
    struct tenant_ws *next;
} tenant_ws;

typedef struct store_be {
    const char *name; /* "sqlite", "postgresql": for messages */
    void (*close)(void *b);
    /* The key of the token hashes. */
    void (*key)(void *b, unsigned char key[TOKEN_KEY_BYTES]);

    /* t is filled in (id, name, created_at); made(ud) makes its workspace and runs
     * before the row commits, so that a failure leaves neither. */
    vg_rc (*tenant_add)(void *b, const store_tenant *t, vg_rc (*made)(void *ud, vg_err *err),
                        void *ud, vg_err *err);
    vg_rc (*tenant_get)(void *b, const char *name, store_tenant *out, vg_err *err);
    vg_rc (*tenants)(void *b, store_tenant **items, size_t *n, vg_err *err);
    vg_rc (*user_add)(void *b, const char *tenant_id, const char *name, store_role role,
                      vg_err *err);
    vg_rc (*users)(void *b, const char *tenant_id, store_user **items, size_t *n, vg_err *err);
    /* Record the token id with hash for a user of a tenant and fill out. */
    vg_rc (*token_add)(void *b, const char *tenant_id, const char *user, const char *label,
                       const char *id, const unsigned char hash[TOKEN_HASH_BYTES], store_token *out,
                       vg_err *err);
    vg_rc (*tokens)(void *b, const char *tenant_id, store_token **items, size_t *n, vg_err *err);
    vg_rc (*token_revoke)(void *b, const char *id, vg_err *err);
    /* Who the token with this hash is (compared with sodium_memcmp); notes its use
     * at most once a minute. */
    vg_rc (*auth)(void *b, const unsigned char hash[TOKEN_HASH_BYTES], store_ident *out,
                  vg_err *err);

    vg_rc (*ref_lease)(void *b, const char *tenant_id, const char *user, int64_t n, int64_t *lo,
                       int64_t *hi, vg_err *err);
    vg_rc (*ref_owner)(void *b, const char *tenant_id, const char *user, int64_t ref,
                       store_ref_holder *out, vg_err *err);
    vg_rc (*ref_adopt)(void *b, const char *tenant_id, const char *user, int64_t ref, vg_err *err);
    vg_rc (*ref_restored)(void *b, const char *tenant_id, int64_t margin, int64_t window_ms,
                          vg_err *err);

    /* The tenant's workspace was opened (t->ws): set up what enter needs. NULL: none. */
    vg_rc (*opened)(void *b, tenant_ws *t, vg_err *err);
    void (*closed)(void *b, tenant_ws *t);
    /* Before and after a caller uses t->ws (t->mu held). NULL: nothing to do. */
    vg_rc (*enter)(void *b, tenant_ws *t, vg_err *err);
    void (*leave)(void *b, tenant_ws *t);
    /* Bring t->ws up to every op committed to the log, asking even when nothing new
     * was heard (store_catch_up); NULL: the file is the log. */
    vg_rc (*refresh)(void *b, tenant_ws *t, vg_err *err);
    /* The head of the tenant's log, whoever wrote it; NULL: the workspace file's. */
    vg_rc (*head)(void *b, const char *tenant_id, int64_t *seq, vg_err *err);
    /* Idempotency records (store_idem_get/put), inside store_with_tenant. */
    vg_rc (*idem_get)(void *b, tenant_ws *t, const char *key, vg_buf *out, bool *found,
                      vg_err *err);
    vg_rc (*idem_put)(void *b, tenant_ws *t, const char *key, const char *value, int64_t expires_at,
                      vg_err *err);
    /* Call fn with a tenant's id whenever another process commits to its log. */
    void (*watch)(void *b, void (*fn)(void *ud, const char *tenant_id), void *ud);
} store_be;

extern const store_be store_be_sqlite, store_be_pg;

/* Open a backend: the SQLite one on the data directory dir, the PostgreSQL one on
 * the database url (conninfo or postgresql:// URI). */
VG_WUR vg_rc store_sqlite_open(const char *dir, void **out, vg_err *err);
VG_WUR vg_rc store_pg_open(const char *url, void **out, vg_err *err);

/* store.c's, for the backends: the tenant's workspace file. */
void store_tenant_path(const char *dir, const char *id, char *out, size_t outsz);
bool store_label_valid(const char *s);

#endif
