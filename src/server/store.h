/*
 * store.h — everything vigild keeps, behind one interface.
 *
 * The server's own records (tenants, their users, bearer tokens, ref leases,
 * idempotency records) and each tenant's vigil workspace are reached only through
 * these calls, whichever backend keeps them (store_be.h): the embedded one
 * (store_sqlite.c: DIR/server.db and DIR/tenants/<id>.db) or PostgreSQL
 * (store_pg.c: one database, row-level security on the tenant, for several
 * vigild), without a handler noticing. Every call takes the tenant from its
 * caller, which takes it from the token; nothing here looks a tenant up by
 * anything a request names.
 *
 * A store is used by many threads at once (the server's workers): every call is
 * safe to make concurrently.
 */
#ifndef VIGILD_STORE_H
#define VIGILD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/buf.h"
#include "vigil/err.h"
#include "vigil/id.h"
#include "vigil/ws.h"

/* Roles, as bits so that a route names exactly the roles it admits (ingest may
 * post alerts, which a viewer may not, yet reads nothing: roles are not a line). */
typedef enum store_role {
    ROLE_VIEWER = 1 << 0,  /* reads */
    ROLE_ANALYST = 1 << 1, /* reads and writes */
    ROLE_ADMIN = 1 << 2,   /* an analyst who also manages the tenant's users */
    ROLE_INGEST = 1 << 3,  /* posts alerts, reads nothing */
} store_role;
#define ROLES_READ (ROLE_VIEWER | ROLE_ANALYST | ROLE_ADMIN)
#define ROLES_WRITE (ROLE_ANALYST | ROLE_ADMIN)
#define ROLES_ANY (ROLES_READ | ROLE_INGEST)

/* "admin", "analyst", "viewer", "ingest"; role_parse returns 0 for anything else. */
const char *store_role_name(store_role r);
store_role store_role_parse(const char *s);

/* Tenant and user names: [a-z0-9][a-z0-9._-]{0,63}. */
#define STORE_NAME_MAX 64
bool store_name_valid(const char *s);
/* A token's label: at most this many bytes of UTF-8 without control characters. */
#define STORE_LABEL_MAX 128

typedef struct store store;

typedef struct store_tenant {
    vg_id id;
    char name[STORE_NAME_MAX + 1];
    int64_t created_at; /* ms since the epoch, UTC */
} store_tenant;

typedef struct store_user {
    vg_id tenant_id;
    char name[STORE_NAME_MAX + 1];
    store_role role;
    int64_t created_at;
} store_user;

typedef struct store_token {
    vg_id id; /* what `token ls` shows and `token revoke` takes; never the secret */
    store_tenant tenant;
    char user[STORE_NAME_MAX + 1];
    char label[STORE_LABEL_MAX + 1]; /* "" when none */
    int64_t created_at, last_used_at, revoked_at; /* 0: never */
} store_token;

/* Who a request is: what a valid token resolves to. */
typedef struct store_ident {
    store_tenant tenant;
    char user[STORE_NAME_MAX + 1];
    store_role role;
    vg_id token_id;
} store_ident;

/* Open the store in the data directory dir, making dir (0700), its key and its
 * file on first use. A dir that is not a directory, is owned by another user or is
 * group- or world-writable is refused, as is a key file that others may read: the
 * message names the path and what is wrong with it. With url (a PostgreSQL
 * connection string or postgresql:// URI) the records and the op logs are the
 * database's, made or migrated on first use, and dir keeps only this host's
 * copies of the tenants' workspaces. The caller closes *out. */
VG_WUR vg_rc store_open(const char *dir, const char *url, store **out, vg_err *err);
void store_close(store *s);
/* "sqlite" or "postgresql". */
const char *store_kind(const store *s);

/* Add a tenant named name (VG_EEXIST if there is one), with its workspace. */
VG_WUR vg_rc store_tenant_add(store *s, const char *name, store_tenant *out, vg_err *err);
/* The tenant named name (VG_ENOTFOUND, naming it, if none). */
VG_WUR vg_rc store_tenant_get(store *s, const char *name, store_tenant *out, vg_err *err);
/* Every tenant, by name; *items is the caller's to free. */
VG_WUR vg_rc store_tenants(store *s, store_tenant **items, size_t *n, vg_err *err);

/* Add a user to a tenant (VG_EEXIST if the name is taken there). */
VG_WUR vg_rc store_user_add(store *s, const char *tenant_id, const char *name, store_role role,
                            vg_err *err);
/* A tenant's users, by name; *items is the caller's to free. */
VG_WUR vg_rc store_users(store *s, const char *tenant_id, store_user **items, size_t *n,
                         vg_err *err);

/* Make a token for a user of a tenant (VG_ENOTFOUND if there is no such user).
 * secret receives the token's text, which is kept nowhere: the store holds its
 * keyed hash. label may be NULL. */
VG_WUR vg_rc store_token_new(store *s, const char *tenant_id, const char *user,
                             const char *label, char *secret, size_t secretsz, store_token *out,
                             vg_err *err);
/* Tokens, oldest first: a tenant's (tenant_id) or everyone's (NULL). */
VG_WUR vg_rc store_tokens(store *s, const char *tenant_id, store_token **items, size_t *n,
                          vg_err *err);
/* Revoke the token with this id (VG_ENOTFOUND if none; revoking twice is fine). */
VG_WUR vg_rc store_token_revoke(store *s, const char *id, vg_err *err);

/* Who the token text secret is. VG_EINVAL for text that is not a token at all,
 * VG_ENOTFOUND for a token that is unknown or revoked (the same answer, so that a
 * caller cannot tell them apart by timing or by message). Records when the token
 * was used, at most once a minute per token. */
VG_WUR vg_rc store_auth(store *s, const char *secret, store_ident *out, vg_err *err);

/* Lease n case refs (1 to STORE_LEASE_MAX) of a tenant to user ("" for vigild's
 * own workspace): [*lo, *hi], which no other lease of the tenant ever holds. */
#define STORE_LEASE_MAX 1000000
VG_WUR vg_rc store_ref_lease(store *s, const char *tenant_id, const char *user, int64_t n,
                             int64_t *lo, int64_t *hi, vg_err *err);
/* Whose lease holds ref: user's, another's, none (STORE_REF_NOBODY), or none while
 * the tenant is known to have been restored from an older copy, when a ref no
 * lease holds may be from a lease the copy lost (STORE_REF_LOST). */
typedef enum store_ref_holder {
    STORE_REF_NOBODY,
    STORE_REF_USER,
    STORE_REF_OTHER,
    STORE_REF_LOST
} store_ref_holder;
VG_WUR vg_rc store_ref_owner(store *s, const char *tenant_id, const char *user, int64_t ref,
                             store_ref_holder *out, vg_err *err);
/* Record ref as leased to user (a lost lease's, STORE_REF_LOST) and move the
 * tenant's counter past it. */
VG_WUR vg_rc store_ref_adopt(store *s, const char *tenant_id, const char *user, int64_t ref,
                             vg_err *err);
/* A replica showed that the tenant's workspace is older than what it pulled: the
 * data directory was restored from an older copy, and leases granted after the
 * copy are lost while replicas still use them. The first time in a window, the
 * counter moves on by margin (no new lease gives a ref a lost one may have given),
 * and for window_ms refs no lease holds are taken as lost leases' (STORE_REF_LOST). */
#define STORE_RESTORE_MARGIN 1000 /* what a restore seen moves the counter on by */
#define STORE_RESTORE_WINDOW_MS ((int64_t)7 * 24 * 3600 * 1000) /* and how long it counts */
VG_WUR vg_rc store_ref_restored(store *s, const char *tenant_id, int64_t margin,
                                int64_t window_ms, vg_err *err);

/* A snapshot of the tenant's workspace for a new replica to start from: a vigil
 * workspace file, zstd-compressed, without what is vigild's own (its replica id,
 * its ref lease, idempotency records), as of the op *seq (*id). It is kept, and
 * made again when the tenant's log has grown by more than lag ops since; *seq and
 * *id are read from the file sent (another process may have made it). *fd is
 * open on it (the caller closes it), *size its bytes. */
VG_WUR vg_rc store_snapshot(store *s, const char *tenant_id, int64_t lag, int *fd, uint64_t *size,
                            int64_t *seq, char id[27], vg_err *err);

/* The seq of the newest op in the tenant's log as the file holds it now, whoever
 * wrote it (this process or another vigild on the directory), without waiting
 * for the tenant's handlers. */
VG_WUR vg_rc store_tenant_head(store *s, const char *tenant_id, int64_t *seq, vg_err *err);

/* Run fn with the workspace of the tenant tenant_id, which no other thread uses
 * until fn returns, and return what fn returns. The workspace is opened on first
 * use and kept open; it holds every op the tenant's log held when fn began, and
 * while fn writes no other process writes the tenant's log. fn must not call
 * store_with_tenant for the same tenant. */
typedef vg_rc (*store_ws_fn)(vg_ws *ws, void *ud, vg_err *err);
VG_WUR vg_rc store_with_tenant(store *s, const char *tenant_id, store_ws_fn fn, void *ud,
                               vg_err *err);

/* From inside store_with_tenant (ws the one fn was given): bring ws up to every op
 * committed to the tenant's log by any process, asking the store itself. What a
 * handler does before it judges a client's cursor past ws's head: another process
 * may have committed it a moment ago. */
VG_WUR vg_rc store_catch_up(store *s, vg_ws *ws, vg_err *err);

/* Idempotency records of ingest, from inside store_with_tenant (ws is the one fn
 * was given): the value kept under key, and a value to keep under it until ttl_ms
 * from now, committed with the ops the same batch commits (or on its own when the
 * batch adds none). Looking a key up first makes the rest of fn the only writer
 * of the tenant, in every process, until fn returns. Keys: 1 to
 * STORE_IDEM_KEY_MAX bytes. */
#define STORE_IDEM_KEY_MAX 128
VG_WUR vg_rc store_idem_get(store *s, vg_ws *ws, const char *key, vg_buf *out, bool *found,
                            vg_err *err);
VG_WUR vg_rc store_idem_put(store *s, vg_ws *ws, const char *key, const char *value,
                            int64_t ttl_ms, vg_err *err);

/* Move the SQLite data directory from into the empty PostgreSQL store url (its
 * key, tenants, users, token hashes, leases and every op log), then read each
 * tenant's log back into this host's copy under copies (a new data directory)
 * and check that its head, seq and chain hash, is the directory's; say(ud, line)
 * reports each tenant. Nothing is written to the database unless all of it is. */
VG_WUR vg_rc store_migrate(const char *from, const char *url, const char *copies,
                           void (*say)(void *ud, const char *line), void *ud, vg_err *err);

/* Call fn(ud, tenant_id) whenever another process commits to a tenant's log, when
 * the backend can tell (PostgreSQL's LISTEN); from a thread of the store's. */
void store_watch(store *s, void (*fn)(void *ud, const char *tenant_id), void *ud);

#endif
