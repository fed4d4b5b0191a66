/*
 * store_pg.c — the PostgreSQL backend of the store (store_be.h): one database for
 * every tenant and for any number of vigild processes on any hosts.
 *
 * What the database holds. The server's records (tenants, users, token hashes,
 * ref leases, idempotency records, the key of the token hashes) and every
 * tenant's op log: each op's wire form (vg_op_wire, with its seq) under (tenant,
 * seq), and the tenant's head. Every table that holds a tenant's rows carries the
 * tenant and is under row-level security, FORCE'd so that it binds the owner too:
 * a row is seen only inside a transaction that set vigil.tenant to its tenant
 * (set_config(..., true), so it ends with the transaction). Without the setting a
 * query sees nothing; '*' (only the administration commands and the token lookup,
 * which has no tenant until it finds one) sees every tenant.
 *
 * What a host holds. DIR/tenants/<id>.db is this host's copy of a tenant's log,
 * with what the core derives from it (cases, alerts, the search index), because
 * the handlers read and write through the core's door on a vg_ws. The copy is
 * brought up to the database before each use (enter: the ops past its head,
 * applied in order, each getting the seq it has in the database), and it only
 * ever lags the database: an op is written to the database before the local
 * transaction that holds it commits (the core's commit hook), and a failure there
 * rolls the local transaction back. A copy that is not the database's (another
 * database's, or damaged) is set aside and made again from the log.
 *
 * Sequence numbers. A tenant's writer holds the tenant's advisory lock (session
 * level, keyed by the tenant id) from its first batch to the end of its call, in
 * every process: under it, it brings its copy up to the database's head, applies,
 * and inserts its ops at head+1.. with the head row moved in the same transaction
 * (guarded by the head it read, so that a lock lost with a dropped connection
 * cannot make a second writer). Writers of a tenant are thus serial, and each
 * commits before the next begins: seqs are gap-free and commit in order, so a
 * reader that sees seq n has seen every seq below it, and a cursor never skips an
 * op committed late. Readers take no lock.
 *
 * Live pulls. Each commit notifies the channel vigil_log with the tenant's id; a
 * thread of the store LISTENs and tells the server, which wakes that tenant's
 * parked pulls at once (the server's own look at the heads stays as the net).
 *
 * Connections: one per thread that uses the store (thread-local), made on first
 * use and reset when the server went away; every call brings its own transaction.
 */
#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <poll.h>
#include <sys/stat.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_be.h"
#include "vigil/op.h"
#include "vigil/text.h"

/* Step i takes the schema from version i to i+1, each in one transaction; a
 * released step is never edited. (No enum types: a value added to one cannot be
 * used in the transaction that adds it, the seed's lesson.) */
/* clang-format off */
#define TENANT_POLICY(t)                                                                      \
    "ALTER TABLE " t " ENABLE ROW LEVEL SECURITY; ALTER TABLE " t " FORCE ROW LEVEL SECURITY;" \
    "CREATE POLICY tenant ON " t " USING (tenant_id = current_setting('vigil.tenant', true)"   \
    " OR current_setting('vigil.tenant', true) = '*');"
static const char *const steps[] = {
    /* 1: everything store_sqlite.c keeps in server.db, the op logs, idempotency */
    "CREATE TABLE server_key(one integer PRIMARY KEY CHECK (one = 1),"
    " key bytea NOT NULL CHECK (length(key) = 32));"
    "CREATE TABLE tenants(tenant_id text PRIMARY KEY, name text NOT NULL UNIQUE,"
    " created_at bigint NOT NULL);"
    "CREATE TABLE users(tenant_id text NOT NULL REFERENCES tenants, name text NOT NULL,"
    " role text NOT NULL CHECK (role IN ('admin', 'analyst', 'viewer', 'ingest')),"
    " created_at bigint NOT NULL, PRIMARY KEY (tenant_id, name));"
    "CREATE TABLE tokens(id text PRIMARY KEY, tenant_id text NOT NULL, username text NOT NULL,"
    " label text, hash bytea NOT NULL UNIQUE CHECK (length(hash) = 32),"
    " created_at bigint NOT NULL, last_used_at bigint, revoked_at bigint,"
    " FOREIGN KEY (tenant_id, username) REFERENCES users);"
    "CREATE INDEX tokens_tenant ON tokens(tenant_id, created_at);"
    "CREATE TABLE ref_counters(tenant_id text PRIMARY KEY REFERENCES tenants,"
    " next bigint NOT NULL CHECK (next >= 1), adopt_until bigint NOT NULL DEFAULT 0);"
    "CREATE TABLE ref_leases(tenant_id text NOT NULL REFERENCES tenants, username text NOT NULL,"
    " lo bigint NOT NULL, hi bigint NOT NULL CHECK (hi >= lo), granted_at bigint NOT NULL,"
    " PRIMARY KEY (tenant_id, lo));"
    "CREATE TABLE heads(tenant_id text PRIMARY KEY REFERENCES tenants,"
    " seq bigint NOT NULL DEFAULT 0, id text NOT NULL DEFAULT '');"
    "CREATE TABLE ops(tenant_id text NOT NULL REFERENCES tenants, seq bigint NOT NULL,"
    " id text NOT NULL, line bytea NOT NULL, PRIMARY KEY (tenant_id, seq),"
    " UNIQUE (tenant_id, id));"
    "CREATE FUNCTION vigil_check(ok boolean, msg text) RETURNS void LANGUAGE plpgsql AS"
    " $$ BEGIN IF NOT ok THEN RAISE EXCEPTION '%', msg; END IF; END $$;"
    "CREATE TABLE idem(tenant_id text NOT NULL REFERENCES tenants, key text NOT NULL,"
    " value text NOT NULL, expires_at bigint NOT NULL, PRIMARY KEY (tenant_id, key));"
    TENANT_POLICY("tenants") TENANT_POLICY("users") TENANT_POLICY("tokens")
    TENANT_POLICY("ref_counters") TENANT_POLICY("ref_leases") TENANT_POLICY("heads")
    TENANT_POLICY("ops") TENANT_POLICY("idem"),
};
/* clang-format on */
#define NSTEPS ((int)(sizeof steps / sizeof *steps))
#define SCHEMA_LOCK "5647535600" /* pg_advisory_xact_lock: one migrator at a time */
#define CATCH_UP_ROWS 500        /* ops a look at the database brings at most */
#define BRING_UP_BATCH 20000     /* ops a copy brought up alone takes in one transaction */
#define INSERT_ROWS 500          /* ops one INSERT writes at most (4 parameters each) */

#define PREP_MAX 32 /* statements a connection keeps prepared */
typedef struct pgc {
    PGconn *c;
    struct pg *p;
    struct pgc *next;
    /* the statements prepared on c (by their text's address: the store's own
     * literals), named "v<index>"; forgotten when c is reset */
    const char *prep[PREP_MAX];
    int nprep;
} pgc;

typedef struct pg {
    char *url;
    char where[300]; /* user@host:port/db, for messages: never the password */
    pthread_key_t tls;
    pthread_mutex_t mu; /* guards conns */
    pgc *conns;
    unsigned char key[TOKEN_KEY_BYTES];
    /* the listener (watch) */
    pthread_mutex_t wmu;
    pthread_t wt;
    bool wrunning;
    int wpipe[2];
    void (*wfn)(void *ud, const char *tenant_id);
    void *wud;
    /* What the listener makes safe to remember (under wmu): while it is connected
     * (gen odd), every commit to a tenant's log and every token revoked is heard,
     * so a tenant's head heard or read since it connected is the head until the
     * next notification, and a token checked since then is as checked until one. */
    unsigned gen;
    struct heard *heard; /* tenants' heads */
    size_t nheard, capheard;
    struct known *known; /* tokens checked */
    size_t nknown, capknown;
} pg;

typedef struct heard {
    vg_id tenant;
    int64_t seq;
} heard;

#define KNOWN_MS 30000 /* a token checked is taken as checked for this long at most */
#define KNOWN_MAX 4096
typedef struct known {
    unsigned char hash[TOKEN_HASH_BYTES];
    store_ident who;
    int64_t until;
} known;

/* What this backend keeps of an open tenant (tenant_ws.be). */
typedef struct pgt {
    pg *p;
    tenant_ws *t;
    bool locked;               /* this call holds the tenant's advisory lock */
    bool quiet;                /* bringing the copy up: the hooks do nothing */
    int64_t db_head;           /* the database's head when the lock was taken, then as written */
    char *idem_key, *idem_val; /* an idempotency record to write with the ops */
    int64_t idem_exp;
} pgt;

/* --- connections ------------------------------------------------------------------ */

static void first_line(const char *s, char *out, size_t outsz)
{
    size_t n = strcspn(s ? s : "", "\n");
    vg_text_safe(s ? s : "", n, VG_TEXT_ASCII, out, outsz);
}

static vg_rc conn_fail(pg *p, PGconn *c, vg_err *err)
{
    char m[400];
    first_line(c ? PQerrorMessage(c) : "out of memory", m, sizeof m);
    return vg_fail(err, VG_EIO, "PostgreSQL %s: %s", p->where, m);
}

/* Each session's settings, before the store's own connection string so that its
 * options=... replaces them: a writer waits for a tenant's lock at most 60 s
 * (then answers 500); the server's notices are not the administrator's news; and
 * a commit does not wait for its WAL flush. That is SQLite's WAL with
 * synchronous=NORMAL, the embedded store's: a crash of the database's host may
 * lose the last moments of commits, never corrupt; clients that pushed them see
 * the server's log behind their cursor and push again (the restored-server path
 * of the sync protocol). options='-c synchronous_commit=on' in the URL waits. */
#define SESSION "-c lock_timeout=60s -c client_min_messages=warning -c synchronous_commit=off"

static PGconn *connect_db(pg *p)
{
    const char *const keys[] = {"options", "dbname", "application_name", "connect_timeout", NULL};
    const char *const vals[] = {SESSION, p->url, "vigild", "10", NULL};
    return PQconnectdbParams(keys, vals, 1);
}

static void conn_gone(void *v)
{
    pgc *x = v;
    pthread_mutex_lock(&x->p->mu);
    for (pgc **q = &x->p->conns; *q; q = &(*q)->next)
        if (*q == x) {
            *q = x->next;
            break;
        }
    pthread_mutex_unlock(&x->p->mu);
    PQfinish(x->c);
    free(x);
}

/* This thread's connection, made on first use and reset if the server went away
 * since (a restart): NULL after err. */
static PGconn *conn(pg *p, vg_err *err)
{
    pgc *x = pthread_getspecific(p->tls);
    if (!x) {
        x = vg_xcalloc(1, sizeof *x);
        x->p = p;
        x->c = connect_db(p);
        pthread_mutex_lock(&p->mu);
        x->next = p->conns;
        p->conns = x;
        pthread_mutex_unlock(&p->mu);
        pthread_setspecific(p->tls, x);
    } else if (PQstatus(x->c) != CONNECTION_OK) {
        PQreset(x->c);
        x->nprep = 0; /* a new session knows none */
    }
    if (!x->c || PQstatus(x->c) != CONNECTION_OK) {
        conn_fail(p, x->c, err);
        return NULL;
    }
    return x->c;
}

/* --- statements ------------------------------------------------------------------- */

static vg_rc rc_of(PGconn *c)
{
    return PQstatus(c) == CONNECTION_OK ? VG_EDB : VG_EIO;
}

/* The result of sql with text parameters v (NULL: SQL NULL) when it succeeded;
 * else NULL, err naming what was being done. */
static PGresult *qpx(pg *p, PGconn *c, const char *what, vg_err *err, const char *sql, int n,
                     const char *const *v, const Oid *types)
{
    PGresult *r = PQexecParams(c, sql, n, types, v, NULL, NULL, 0);
    ExecStatusType s = PQresultStatus(r);
    if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
        return r;
    char m[400];
    const char *primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    first_line(primary ? primary : PQerrorMessage(c), m, sizeof m);
    vg_fail(err, rc_of(c), "PostgreSQL %s: %s: %s", p->where, what, m);
    PQclear(r);
    return NULL;
}

static PGresult *qp(pg *p, PGconn *c, const char *what, vg_err *err, const char *sql, int n,
                    const char *const *v)
{
    return qpx(p, c, what, err, sql, n, v, NULL);
}

/* Run sql and forget its rows. */
static vg_rc qx(pg *p, PGconn *c, const char *what, vg_err *err, const char *sql, int n,
                const char *const *v)
{
    PGresult *r = qp(p, c, what, err, sql, n, v);
    if (!r)
        return err->rc;
    PQclear(r);
    return VG_OK;
}

static long long rows_changed(PGresult *r)
{
    return strtoll(PQcmdTuples(r), NULL, 10);
}

static int64_t col_i64(PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static void col_text(PGresult *r, int row, int col, char *out, size_t outsz)
{
    snprintf(out, outsz, "%s", PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col));
}

/* Begin a transaction that sees the rows of tenant ("*": every tenant's). */
static vg_rc tx(pg *p, PGconn *c, const char *tenant, vg_err *err)
{
    const char *v[] = {tenant};
    vg_rc rc = qx(p, c, "beginning", err, "BEGIN", 0, NULL);
    if (rc == VG_OK &&
        (rc = qx(p, c, "beginning", err, "SELECT set_config('vigil.tenant', $1, true)", 1, v)))
        PQclear(PQexec(c, "ROLLBACK"));
    return rc;
}

/* This thread's connection in a transaction that sees tenant's rows; NULL after err. */
static PGconn *tx_open(pg *p, const char *tenant, vg_err *err)
{
    PGconn *c = conn(p, err);
    return c && tx(p, c, tenant, err) == VG_OK ? c : NULL;
}

static vg_rc tx_end(pg *p, PGconn *c, vg_rc rc, vg_err *err)
{
    if (rc == VG_OK)
        return qx(p, c, "committing", err, "COMMIT", 0, NULL);
    PQclear(PQexec(c, "ROLLBACK"));
    return rc;
}

/* A pipeline (libpq's): statements sent one after another without waiting, then
 * one sync and every result read, so that a transaction of several statements
 * costs one round trip. Parameters are copied out when sent. The store's own
 * statements (pl_sendp) are prepared once a connection, in the pipeline that
 * first sends them: parsed and planned once, not each time. */
typedef struct pl {
    PGconn *c;
    pgc *x;   /* c's prepared statements, or NULL (not this thread's connection) */
    int sent; /* statements sent: what keep[] is indexed by */
    int nres; /* results to read, in order: statements and preparations */
    int *of;  /* result i: its statement, or -1 - k for preparing x->prep[k] */
    int capres;
    bool ok;
} pl;

static void pl_begin(pl *q, pg *p, PGconn *c)
{
    memset(q, 0, sizeof *q);
    q->c = c;
    q->x = pthread_getspecific(p->tls);
    if (q->x && q->x->c != c)
        q->x = NULL;
    q->ok = PQenterPipelineMode(c);
}

static void pl_result(pl *q, int of)
{
    if (q->nres == q->capres) {
        q->capres = q->capres ? q->capres * 2 : 16;
        q->of = vg_xrealloc(q->of, (size_t)q->capres * sizeof *q->of);
    }
    q->of[q->nres++] = of;
}

static void pl_send(pl *q, const char *sql, int n, const char *const *v, const int *len,
                    const int *fmt, int resfmt)
{
    if (q->ok)
        q->ok = PQsendQueryParams(q->c, sql, n, NULL, v, len, fmt, resfmt);
    pl_result(q, q->sent++);
}

/* pl_send for a statement of the store's own (sql a literal: its address names it). */
static void pl_sendp(pl *q, const char *sql, int n, const char *const *v, int resfmt)
{
    int k = 0;
    while (q->x && k < q->x->nprep && q->x->prep[k] != sql)
        k++;
    if (!q->x || k == PREP_MAX) {
        pl_send(q, sql, n, v, NULL, NULL, resfmt);
        return;
    }
    char name[16];
    snprintf(name, sizeof name, "v%d", k);
    if (k == q->x->nprep) {
        q->x->prep[q->x->nprep++] = sql;
        if (q->ok)
            q->ok = PQsendPrepare(q->c, name, sql, n, NULL);
        pl_result(q, -1 - k);
    }
    if (q->ok)
        q->ok = PQsendQueryPrepared(q->c, name, n, v, NULL, NULL, resfmt);
    pl_result(q, q->sent++);
}

/* BEGIN and the tenant the transaction sees. */
static void pl_tx(pl *q, const char *tenant)
{
    const char *v[] = {tenant};
    pl_sendp(q, "BEGIN", 0, NULL, 0);
    pl_sendp(q, "SELECT set_config('vigil.tenant', $1, true)", 1, v, 0);
}

/* Sync and read the results: VG_OK when every statement succeeded, the result of
 * statement i in keep[i] if keep (the caller clears them; NULL after a failure).
 * On failure a transaction block left open is rolled back and err says what. */
static vg_rc pl_end(pg *p, pl *q, const char *what, PGresult **keep, vg_err *err)
{
    PGconn *c = q->c;
    bool ok = q->ok && PQpipelineSync(c);
    char m[400] = "";
    PGresult *r;
    for (int i = 0; ok && i < q->nres; i++) {
        int of = q->of[i];
        while ((r = PQgetResult(c))) {
            ExecStatusType st = PQresultStatus(r);
            if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
                const char *pr = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
                if (!*m && st != PGRES_PIPELINE_ABORTED)
                    first_line(pr ? pr : PQerrorMessage(c), m, sizeof m);
                if (!*m)
                    snprintf(m, sizeof m, "aborted");
                if (of < 0 && q->x) /* not prepared after all: prepared again next time */
                    q->x->prep[-1 - of] = NULL;
            } else if (of >= 0 && keep && !keep[of]) {
                keep[of] = r;
                continue;
            }
            PQclear(r);
        }
    }
    while (ok && (r = PQgetResult(c)) && PQresultStatus(r) != PGRES_PIPELINE_SYNC)
        PQclear(r);
    if (ok)
        PQclear(r);
    PQexitPipelineMode(c);
    if (!ok && q->x) /* what was sent is unknown: prepare from scratch */
        q->x->nprep = 0;
    free(q->of);
    if (ok && !*m)
        return VG_OK;
    if (!*m)
        first_line(PQerrorMessage(c), m, sizeof m);
    for (int i = 0; keep && i < q->sent; i++) {
        PQclear(keep[i]);
        keep[i] = NULL;
    }
    PQclear(PQexec(c, "ROLLBACK")); /* a failed statement leaves the block open */
    return vg_fail(err, rc_of(c), "PostgreSQL %s: %s: %s", p->where, what, m);
}

/* One statement in a transaction that sees tenant's rows, in one round trip: its
 * result (resfmt 1: binary columns), or NULL after err. */
static PGresult *tq(pg *p, PGconn *c, const char *tenant, const char *what, vg_err *err,
                    const char *sql, int n, const char *const *v, int resfmt)
{
    pl q;
    PGresult *keep[4] = {0};
    pl_begin(&q, p, c);
    pl_tx(&q, tenant);
    pl_sendp(&q, sql, n, v, resfmt);
    pl_sendp(&q, "COMMIT", 0, NULL, 0);
    if (pl_end(p, &q, what, keep, err) != VG_OK)
        return NULL;
    PQclear(keep[0]);
    PQclear(keep[1]);
    PQclear(keep[3]);
    return keep[2];
}

static void num(char *buf, size_t n, int64_t v)
{
    snprintf(buf, n, "%" PRId64, v);
}

/* bytea in text form: "\x" and hex */
static void hex_bytea(const unsigned char *b, size_t n, char *out, size_t outsz)
{
    memcpy(out, "\\x", 3);
    sodium_bin2hex(out + 2, outsz - 2, b, n);
}

/* --- what the listener lets a process remember ------------------------------------ */

/* The listener is connected: gen is odd. */
static unsigned listen_gen(pg *p)
{
    pthread_mutex_lock(&p->wmu);
    unsigned g = p->gen;
    pthread_mutex_unlock(&p->wmu);
    return g;
}

static heard *heard_find(pg *p, const char *tenant)
{
    for (size_t i = 0; i < p->nheard; i++)
        if (strcmp(p->heard[i].tenant, tenant) == 0)
            return &p->heard[i];
    return NULL;
}

/* A head heard (notified) or read (at gen, when the read began): the highest wins. */
static void heard_note(pg *p, const char *tenant, int64_t seq, unsigned gen)
{
    pthread_mutex_lock(&p->wmu);
    if ((p->gen & 1) && gen == p->gen) {
        heard *h = heard_find(p, tenant);
        if (!h) {
            if (p->nheard == p->capheard) {
                p->capheard = p->capheard ? p->capheard * 2 : 16;
                p->heard = vg_xrealloc(p->heard, p->capheard * sizeof *p->heard);
            }
            h = &p->heard[p->nheard++];
            memcpy(h->tenant, tenant, sizeof h->tenant);
            h->seq = seq;
        } else if (seq > h->seq) {
            h->seq = seq;
        }
    }
    pthread_mutex_unlock(&p->wmu);
}

/* The tenant's head as heard, or -1 when it must be read. */
static int64_t heard_head(pg *p, const char *tenant)
{
    pthread_mutex_lock(&p->wmu);
    heard *h = (p->gen & 1) ? heard_find(p, tenant) : NULL;
    int64_t seq = h ? h->seq : -1;
    pthread_mutex_unlock(&p->wmu);
    return seq;
}

static bool known_get(pg *p, const unsigned char *hash, store_ident *out)
{
    bool hit = false;
    int64_t now = vg_now_ms();
    pthread_mutex_lock(&p->wmu);
    for (size_t i = 0; (p->gen & 1) && i < p->nknown && !hit; i++)
        if (p->known[i].until > now &&
            sodium_memcmp(p->known[i].hash, hash, TOKEN_HASH_BYTES) == 0) {
            *out = p->known[i].who;
            hit = true;
        }
    pthread_mutex_unlock(&p->wmu);
    return hit;
}

static void known_put(pg *p, const unsigned char *hash, const store_ident *who, unsigned gen)
{
    int64_t now = vg_now_ms();
    pthread_mutex_lock(&p->wmu);
    if ((p->gen & 1) && gen == p->gen) {
        size_t w = 0; /* drop the expired first */
        for (size_t i = 0; i < p->nknown; i++)
            if (p->known[i].until > now)
                p->known[w++] = p->known[i];
        p->nknown = w;
        if (p->nknown < KNOWN_MAX) {
            if (p->nknown == p->capknown) {
                p->capknown = p->capknown ? p->capknown * 2 : 16;
                p->known = vg_xrealloc(p->known, p->capknown * sizeof *p->known);
            }
            known *k = &p->known[p->nknown++];
            memcpy(k->hash, hash, TOKEN_HASH_BYTES);
            k->who = *who;
            k->until = now + KNOWN_MS;
        }
    }
    pthread_mutex_unlock(&p->wmu);
}

/* What the listener saw: its connection lost (LISTEN_DOWN) or made (LISTEN_UP),
 * or a token revoked (LISTEN_FORGET). Each makes everything remembered, and every
 * read begun before, count for nothing. */
enum { LISTEN_DOWN, LISTEN_UP, LISTEN_FORGET };
static void listen_state(pg *p, int what)
{
    pthread_mutex_lock(&p->wmu);
    if (what == LISTEN_FORGET || ((p->gen & 1) != 0) != (what == LISTEN_UP))
        p->gen += what == LISTEN_FORGET && (p->gen & 1) ? 2 : 1;
    p->nheard = 0;
    if (p->known)
        sodium_memzero(p->known, p->nknown * sizeof *p->known);
    p->nknown = 0;
    pthread_mutex_unlock(&p->wmu);
}

/* --- opening, the schema, the key ---------------------------------------------------- */

static vg_rc migrate(pg *p, PGconn *c, vg_err *err)
{
    vg_rc rc = qx(p, c, "migrating", err, "BEGIN", 0, NULL);
    if (rc)
        return rc;
    PGresult *r = NULL;
    if ((rc = qx(p, c, "migrating", err, "SELECT pg_advisory_xact_lock(" SCHEMA_LOCK ")", 0,
                 NULL)) ||
        (rc = qx(p, c, "migrating", err,
                 "CREATE TABLE IF NOT EXISTS vigild_schema(version integer NOT NULL)", 0, NULL)) ||
        !(r = qp(p, c, "migrating", err, "SELECT version FROM vigild_schema", 0, NULL)))
        return tx_end(p, c, rc ? rc : err->rc, err);
    int version = PQntuples(r) ? (int)col_i64(r, 0, 0) : -1;
    PQclear(r);
    if (version > NSTEPS) {
        rc = vg_fail(err, VG_ENEWER,
                     "PostgreSQL %s: written by a newer vigild (schema %d; this"
                     " one knows up to %d)",
                     p->where, version, NSTEPS);
        return tx_end(p, c, rc, err);
    }
    if (version < 0)
        rc = qx(p, c, "migrating", err, "INSERT INTO vigild_schema VALUES (0)", 0, NULL);
    for (int v = version < 0 ? 0 : version; rc == VG_OK && v < NSTEPS; v++) {
        char n[16];
        num(n, sizeof n, v + 1);
        const char *a[] = {n};
        PGresult *sr = PQexec(c, steps[v]); /* several statements, no parameters */
        if (PQresultStatus(sr) != PGRES_COMMAND_OK) {
            char m[400];
            first_line(PQresultErrorField(sr, PG_DIAG_MESSAGE_PRIMARY), m, sizeof m);
            rc = vg_fail(err, rc_of(c), "PostgreSQL %s: migrating to schema %d: %s", p->where,
                         v + 1, m);
        }
        PQclear(sr);
        if (rc == VG_OK)
            rc = qx(p, c, "migrating", err, "UPDATE vigild_schema SET version = $1", 1, a);
        if (rc == VG_OK && v == 0) { /* the key: libsodium's randomness, not the server's */
            unsigned char key[TOKEN_KEY_BYTES];
            char hex[2 * TOKEN_KEY_BYTES + 3];
            randombytes_buf(key, sizeof key);
            hex_bytea(key, sizeof key, hex, sizeof hex);
            const char *k[] = {hex};
            rc = qx(p, c, "migrating", err, "INSERT INTO server_key VALUES (1, $1)", 1, k);
            sodium_memzero(key, sizeof key);
            sodium_memzero(hex, sizeof hex);
        }
    }
    return tx_end(p, c, rc, err);
}

static vg_rc load_key(pg *p, PGconn *c, vg_err *err)
{
    PGresult *r = qp(p, c, "reading the key", err, "SELECT key FROM server_key", 0, NULL);
    if (!r)
        return err->rc;
    size_t n = 0;
    unsigned char *k =
        PQntuples(r) == 1 ? PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 0), &n) : NULL;
    vg_rc rc = VG_OK;
    if (k && n == TOKEN_KEY_BYTES)
        memcpy(p->key, k, TOKEN_KEY_BYTES);
    else
        rc = vg_fail(err, VG_ECORRUPT, "PostgreSQL %s: server_key holds no key", p->where);
    if (k) {
        sodium_memzero(k, n);
        PQfreemem(k);
    }
    PQclear(r);
    return rc;
}

/* "user@host:port/db" of a connection string, for messages. */
static bool describe(const char *url, char *out, size_t outsz, vg_err *err)
{
    char *msg = NULL;
    PQconninfoOption *o = PQconninfoParse(url, &msg);
    if (!o) {
        char m[300];
        first_line(msg ? msg : "out of memory", m, sizeof m);
        PQfreemem(msg);
        vg_fail(err, VG_EINVAL,
                "the store is not a PostgreSQL connection string or"
                " postgresql:// URI: %s",
                m);
        return false;
    }
    const char *host = "", *port = "", *db = "", *user = "";
    for (PQconninfoOption *i = o; i->keyword; i++) {
        const char *v = i->val ? i->val : "";
        if (strcmp(i->keyword, "host") == 0 || (strcmp(i->keyword, "hostaddr") == 0 && !*host))
            host = v;
        else if (strcmp(i->keyword, "port") == 0)
            port = v;
        else if (strcmp(i->keyword, "dbname") == 0)
            db = v;
        else if (strcmp(i->keyword, "user") == 0)
            user = v;
    }
    char raw[600];
    snprintf(raw, sizeof raw, "%s%s%s%s%s/%s", user, *user ? "@" : "", *host ? host : "(socket)",
             *port ? ":" : "", port, db);
    vg_text_safe(raw, strlen(raw), VG_TEXT_ASCII, out, outsz);
    PQconninfoFree(o);
    return true;
}

static void pg_close(void *b);

vg_rc store_pg_open(const char *url, void **out, vg_err *err)
{
    *out = NULL;
    pg *p = vg_xcalloc(1, sizeof *p);
    p->wpipe[0] = p->wpipe[1] = -1;
    if (!describe(url, p->where, sizeof p->where, err)) {
        free(p);
        return VG_EINVAL;
    }
    p->url = vg_xstrdup(url);
    pthread_mutex_init(&p->mu, NULL);
    pthread_mutex_init(&p->wmu, NULL);
    pthread_key_create(&p->tls, conn_gone);
    PGconn *c = conn(p, err);
    vg_rc rc = !c ? VG_EIO : VG_OK;
    if (rc == VG_OK)
        rc = migrate(p, c, err);
    if (rc == VG_OK)
        rc = load_key(p, c, err);
    if (rc != VG_OK) {
        pg_close(p);
        return rc;
    }
    *out = p;
    return VG_OK;
}

static void pg_watch(void *b, void (*fn)(void *ud, const char *tenant_id), void *ud);

static void pg_close(void *b)
{
    pg *p = b;
    pg_watch(p, NULL, NULL);
    pgc *mine = pthread_getspecific(p->tls);
    pthread_setspecific(p->tls, NULL);
    pthread_key_delete(p->tls);
    pthread_mutex_lock(&p->mu);
    pgc *all = p->conns;
    p->conns = NULL;
    pthread_mutex_unlock(&p->mu);
    (void)mine;
    for (pgc *x = all, *next; x; x = next) {
        next = x->next;
        PQfinish(x->c);
        free(x);
    }
    pthread_mutex_destroy(&p->mu);
    pthread_mutex_destroy(&p->wmu);
    free(p->heard);
    if (p->known)
        sodium_memzero(p->known, p->capknown * sizeof *p->known);
    free(p->known);
    sodium_memzero(p->key, sizeof p->key);
    if (p->url)
        sodium_memzero(p->url, strlen(p->url));
    free(p->url);
    free(p);
}

static void pg_key(void *b, unsigned char key[TOKEN_KEY_BYTES])
{
    memcpy(key, ((pg *)b)->key, TOKEN_KEY_BYTES);
}

/* --- tenants and users --------------------------------------------------------------- */

static vg_rc pg_tenant_add(void *b, const store_tenant *t, vg_rc (*made)(void *ud, vg_err *err),
                           void *ud, vg_err *err)
{
    pg *p = b;
    PGconn *c = tx_open(p, t->id, err);
    if (!c)
        return err->rc;
    vg_rc rc = VG_OK;
    char at[24];
    num(at, sizeof at, t->created_at);
    const char *v[] = {t->id, t->name, at};
    PGresult *r = qp(p, c, "adding a tenant", err,
                     "INSERT INTO tenants VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", 3, v);
    if (!r)
        rc = err->rc;
    else if (rows_changed(r) == 0)
        rc = vg_fail(err, VG_EEXIST, "there is already a tenant named '%s'", t->name);
    PQclear(r);
    if (rc == VG_OK)
        rc = qx(p, c, "adding a tenant", err, "INSERT INTO heads(tenant_id) VALUES ($1)", 1, v);
    if (rc == VG_OK)
        rc = made(ud, err); /* this host's copy of its log, empty */
    return tx_end(p, c, rc, err);
}

static void read_tenant(PGresult *r, int row, int col, store_tenant *t)
{
    col_text(r, row, col, t->id, sizeof t->id);
    col_text(r, row, col + 1, t->name, sizeof t->name);
    t->created_at = col_i64(r, row, col + 2);
}

/* Run a listing in a transaction seeing tenant's rows and gather its rows with
 * read, which fills one item from a row. */
static vg_rc gather(pg *p, const char *tenant, const char *sql, int n, const char *const *v,
                    size_t itemsz, void (*read)(PGresult *, int, void *), void **items,
                    size_t *nitems, vg_err *err)
{
    PGconn *c = conn(p, err);
    if (!c)
        return VG_EIO;
    PGresult *r = tq(p, c, tenant, "listing", err, sql, n, v, 0);
    if (!r)
        return err->rc;
    int rows = PQntuples(r);
    char *arr = rows ? vg_xcalloc((size_t)rows, itemsz) : NULL;
    for (int i = 0; i < rows; i++)
        read(r, i, arr + (size_t)i * itemsz);
    PQclear(r);
    *items = arr;
    *nitems = (size_t)rows;
    return VG_OK;
}

static void read_tenant_row(PGresult *r, int row, void *item)
{
    read_tenant(r, row, 0, item);
}

static vg_rc pg_tenant_get(void *b, const char *name, store_tenant *out, vg_err *err)
{
    store_tenant *t = NULL;
    size_t n = 0;
    const char *v[] = {name};
    vg_rc rc = gather(b, "*", "SELECT tenant_id, name, created_at FROM tenants WHERE name = $1", 1,
                      v, sizeof *t, read_tenant_row, (void **)&t, &n, err);
    if (rc == VG_OK && n == 0) {
        char safe[200];
        vg_text_safe(name, strlen(name), VG_TEXT_ASCII, safe, sizeof safe);
        rc = vg_fail(err, VG_ENOTFOUND, "no tenant named '%s'", safe);
    } else if (rc == VG_OK) {
        *out = t[0];
    }
    free(t);
    return rc;
}

static vg_rc pg_tenants(void *b, store_tenant **items, size_t *n, vg_err *err)
{
    return gather(b, "*", "SELECT tenant_id, name, created_at FROM tenants ORDER BY name", 0, NULL,
                  sizeof **items, read_tenant_row, (void **)items, n, err);
}

static vg_rc pg_user_add(void *b, const char *tenant_id, const char *name, store_role role,
                         vg_err *err)
{
    pg *p = b;
    PGconn *c = tx_open(p, tenant_id, err);
    if (!c)
        return err->rc;
    vg_rc rc = VG_OK;
    char at[24];
    num(at, sizeof at, vg_now_ms());
    const char *v[] = {tenant_id, name, store_role_name(role), at};
    PGresult *r = qp(p, c, "adding a user", err,
                     "INSERT INTO users VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING", 4, v);
    if (!r)
        rc = err->rc;
    else if (rows_changed(r) == 0)
        rc = vg_fail(err, VG_EEXIST, "the tenant already has a user named '%s'", name);
    PQclear(r);
    return tx_end(p, c, rc, err);
}

static void read_user_row(PGresult *r, int row, void *item)
{
    store_user *u = item;
    col_text(r, row, 0, u->tenant_id, sizeof u->tenant_id);
    col_text(r, row, 1, u->name, sizeof u->name);
    u->role = store_role_parse(PQgetvalue(r, row, 2));
    u->created_at = col_i64(r, row, 3);
}

static vg_rc pg_users(void *b, const char *tenant_id, store_user **items, size_t *n, vg_err *err)
{
    const char *v[] = {tenant_id};
    return gather(b, tenant_id,
                  "SELECT tenant_id, name, role, created_at FROM users"
                  " WHERE tenant_id = $1 ORDER BY name",
                  1, v, sizeof **items, read_user_row, (void **)items, n, err);
}

/* --- tokens -------------------------------------------------------------------------- */

#define TOKEN_COLS                                                                                 \
    "k.id, t.tenant_id, t.name, t.created_at, k.username, k.label, k.created_at,"                  \
    " k.last_used_at, k.revoked_at FROM tokens k JOIN tenants t USING (tenant_id)"

static void read_token_row(PGresult *r, int row, void *item)
{
    store_token *k = item;
    col_text(r, row, 0, k->id, sizeof k->id);
    read_tenant(r, row, 1, &k->tenant);
    col_text(r, row, 4, k->user, sizeof k->user);
    col_text(r, row, 5, k->label, sizeof k->label);
    k->created_at = col_i64(r, row, 6);
    k->last_used_at = col_i64(r, row, 7);
    k->revoked_at = col_i64(r, row, 8);
}

static vg_rc pg_token_add(void *b, const char *tenant_id, const char *user, const char *label,
                          const char *id, const unsigned char hash[TOKEN_HASH_BYTES],
                          store_token *out, vg_err *err)
{
    pg *p = b;
    char hex[2 * TOKEN_HASH_BYTES + 3], at[24];
    hex_bytea(hash, TOKEN_HASH_BYTES, hex, sizeof hex);
    num(at, sizeof at, vg_now_ms());
    PGconn *c = tx_open(p, tenant_id, err);
    if (!c)
        return err->rc;
    vg_rc rc = VG_OK;
    const char *v[] = {id, label && *label ? label : NULL, hex, at, tenant_id, user};
    PGresult *r = qp(p, c, "adding a token", err,
                     "INSERT INTO tokens(id, tenant_id, username, label, hash, created_at)"
                     " SELECT $1, tenant_id, name, $2, $3, $4 FROM users"
                     " WHERE tenant_id = $5 AND name = $6",
                     6, v);
    if (!r)
        rc = err->rc;
    else if (rows_changed(r) == 0)
        rc = vg_fail(err, VG_ENOTFOUND, "the tenant has no user named '%s'", user);
    PQclear(r);
    if (rc == VG_OK &&
        (r = qp(p, c, "adding a token", err, "SELECT " TOKEN_COLS " WHERE k.id = $1", 1, v))) {
        if (PQntuples(r) == 1)
            read_token_row(r, 0, out);
        PQclear(r);
    }
    return tx_end(p, c, rc, err);
}

static vg_rc pg_tokens(void *b, const char *tenant_id, store_token **items, size_t *n, vg_err *err)
{
    const char *v[] = {tenant_id};
    return gather(b, tenant_id ? tenant_id : "*",
                  "SELECT " TOKEN_COLS " WHERE $1::text IS NULL OR k.tenant_id = $1"
                  " ORDER BY k.created_at, k.id",
                  1, v, sizeof **items, read_token_row, (void **)items, n, err);
}

static vg_rc pg_token_revoke(void *b, const char *id, vg_err *err)
{
    pg *p = b;
    PGconn *c = tx_open(p, "*", err);
    if (!c)
        return err->rc;
    vg_rc rc = VG_OK;
    char at[24];
    num(at, sizeof at, vg_now_ms());
    const char *v[] = {at, id};
    PGresult *r = qp(p, c, "revoking", err,
                     "UPDATE tokens SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2", 2, v);
    if (!r) {
        rc = err->rc;
    } else if (rows_changed(r) == 0) {
        char safe[100];
        vg_text_safe(id, strlen(id), VG_TEXT_ASCII, safe, sizeof safe);
        rc = vg_fail(err, VG_ENOTFOUND, "no token with id '%s' (see vigild token ls)", safe);
    }
    PQclear(r);
    if (rc == VG_OK) /* every vigild forgets the tokens it has checked */
        rc = qx(p, c, "revoking", err, "SELECT pg_notify('vigil_token', '')", 0, NULL);
    return tx_end(p, c, rc, err);
}

/* The token lookup sees every tenant ('*'): it has no tenant until it finds one,
 * and it finds by the hash alone. */
static vg_rc pg_auth(void *b, const unsigned char hash[TOKEN_HASH_BYTES], store_ident *out,
                     vg_err *err)
{
    pg *p = b;
    if (known_get(p, hash, out))
        return VG_OK;
    unsigned gen = listen_gen(p);
    char hex[2 * TOKEN_HASH_BYTES + 3];
    hex_bytea(hash, TOKEN_HASH_BYTES, hex, sizeof hex);
    PGconn *c = conn(p, err);
    if (!c)
        return VG_EIO;
    const char *v[] = {hex};
    PGresult *r = tq(p, c, "*", "checking a token", err,
                     "SELECT k.hash, k.id, k.username, u.role, k.last_used_at,"
                     " t.tenant_id, t.name, t.created_at FROM tokens k"
                     " JOIN users u ON u.tenant_id = k.tenant_id AND u.name = k.username"
                     " JOIN tenants t ON t.tenant_id = k.tenant_id"
                     " WHERE k.hash = $1 AND k.revoked_at IS NULL",
                     1, v, 0);
    if (!r)
        return err->rc;
    vg_rc rc;
    int64_t now = vg_now_ms(), last = 0;
    size_t hn = 0;
    unsigned char *got =
        PQntuples(r) == 1 ? PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 0), &hn) : NULL;
    if (got && hn == TOKEN_HASH_BYTES && sodium_memcmp(got, hash, TOKEN_HASH_BYTES) == 0) {
        col_text(r, 0, 1, out->token_id, sizeof out->token_id);
        col_text(r, 0, 2, out->user, sizeof out->user);
        out->role = store_role_parse(PQgetvalue(r, 0, 3));
        last = col_i64(r, 0, 4);
        read_tenant(r, 0, 5, &out->tenant);
        rc = out->role ? VG_OK : vg_fail(err, VG_ENOTFOUND, "unknown or revoked token");
    } else {
        rc = vg_fail(err, VG_ENOTFOUND, "unknown or revoked token");
    }
    PQfreemem(got);
    PQclear(r);
    /* last_used_at to the minute; failing to note it does not fail the request */
    if (rc == VG_OK && now - last >= 60000) {
        char at[24];
        num(at, sizeof at, now);
        const char *u[] = {at, out->token_id};
        vg_err ignored = {0};
        PQclear(tq(p, c, out->tenant.id, "noting a token's use", &ignored,
                   "UPDATE tokens SET last_used_at = $1 WHERE id = $2", 2, u, 0));
    }
    if (rc == VG_OK)
        known_put(p, hash, out, gen);
    return rc;
}

/* --- ref leases ---------------------------------------------------------------------- */

/* Run the statements sql[0..n-1] in one transaction seeing tenant_id's rows, each
 * given the text parameters $1 tenant_id, $2 user, $3 a, $4 now, $5 bb (typed, so
 * that a statement may leave some unused); the result of statement want (-1:
 * none) in *out. */
#define TEXTOID 25
static vg_rc ref_tx(pg *p, const char *tenant_id, const char *user, int64_t a, int64_t bb,
                    const char *const *sql, int n, int want, PGresult **out, vg_err *err)
{
    PGconn *c = tx_open(p, tenant_id, err);
    if (!c)
        return err->rc;
    vg_rc rc = VG_OK;
    char sa[24], now[24], sb[24];
    num(sa, sizeof sa, a);
    num(now, sizeof now, vg_now_ms());
    num(sb, sizeof sb, bb);
    const char *v[] = {tenant_id, user, sa, now, sb};
    static const Oid types[] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
    PGresult *kept = NULL;
    for (int i = 0; rc == VG_OK && i < n; i++) {
        PGresult *r = qpx(p, c, "recording refs", err, sql[i], 5, v, types);
        if (!r)
            rc = err->rc;
        else if (i == want)
            kept = r;
        else
            PQclear(r);
    }
    if ((rc = tx_end(p, c, rc, err)) != VG_OK) {
        PQclear(kept);
        kept = NULL;
    }
    if (out)
        *out = kept;
    return rc;
}

static vg_rc pg_ref_lease(void *b, const char *tenant_id, const char *user, int64_t n, int64_t *lo,
                          int64_t *hi, vg_err *err)
{
    static const char *const sql[] = {
        "INSERT INTO ref_counters(tenant_id, next) VALUES ($1, 1) ON CONFLICT DO NOTHING",
        "UPDATE ref_counters SET next = next + $3::bigint WHERE tenant_id = $1"
        " RETURNING next - $3::bigint",
        "INSERT INTO ref_leases SELECT $1, $2, next - $3::bigint, next - 1, $4::bigint"
        " FROM ref_counters WHERE tenant_id = $1",
    };
    PGresult *r = NULL;
    vg_rc rc = ref_tx(b, tenant_id, user, n, 0, sql, 3, 1, &r, err);
    if (rc == VG_OK) {
        if (PQntuples(r) == 1) {
            *lo = col_i64(r, 0, 0);
            *hi = *lo + n - 1;
        } else {
            rc = vg_fail(err, VG_EDB, "leasing refs: the tenant has no counter");
        }
        PQclear(r);
    }
    return rc;
}

static vg_rc pg_ref_owner(void *b, const char *tenant_id, const char *user, int64_t ref,
                          store_ref_holder *out, vg_err *err)
{
    static const char *const sql[] = {
        "SELECT (SELECT username FROM ref_leases WHERE tenant_id = $1 AND lo <= $3::bigint"
        "         AND hi >= $3::bigint ORDER BY lo DESC LIMIT 1),"
        " (SELECT adopt_until > $4::bigint FROM ref_counters WHERE tenant_id = $1)",
    };
    PGresult *r = NULL;
    vg_rc rc = ref_tx(b, tenant_id, user, ref, 0, sql, 1, 0, &r, err);
    if (rc == VG_OK) {
        if (!PQgetisnull(r, 0, 0))
            *out = strcmp(PQgetvalue(r, 0, 0), user) == 0 ? STORE_REF_USER : STORE_REF_OTHER;
        else if (!PQgetisnull(r, 0, 1) && strcmp(PQgetvalue(r, 0, 1), "t") == 0)
            *out = STORE_REF_LOST;
        PQclear(r);
    }
    return rc;
}

static vg_rc pg_ref_adopt(void *b, const char *tenant_id, const char *user, int64_t ref,
                          vg_err *err)
{
    static const char *const sql[] = {
        "INSERT INTO ref_leases VALUES ($1, $2, $3::bigint, $3::bigint, $4::bigint)"
        " ON CONFLICT DO NOTHING",
        "INSERT INTO ref_counters(tenant_id, next) VALUES ($1, 1) ON CONFLICT DO NOTHING",
        "UPDATE ref_counters SET next = greatest(next, $3::bigint + 1) WHERE tenant_id = $1",
    };
    return ref_tx(b, tenant_id, user, ref, 0, sql, 3, -1, NULL, err);
}

static vg_rc pg_ref_restored(void *b, const char *tenant_id, int64_t margin, int64_t window_ms,
                             vg_err *err)
{
    static const char *const sql[] = {
        "INSERT INTO ref_counters(tenant_id, next) VALUES ($1, 1) ON CONFLICT DO NOTHING",
        "UPDATE ref_counters SET next = next + $3::bigint, adopt_until = $4::bigint + $5::bigint"
        " WHERE tenant_id = $1 AND adopt_until <= $4::bigint",
        "UPDATE ref_counters SET adopt_until = $4::bigint + $5::bigint WHERE tenant_id = $1",
    };
    return ref_tx(b, tenant_id, "", margin, window_ms, sql, 3, -1, NULL, err);
}

/* --- the log: this host's copy brought up to the database ----------------------------- */

/* The tenant's head in the database. */
static vg_rc db_head(pg *p, PGconn *c, const char *tenant_id, int64_t *seq, vg_err *err)
{
    const char *v[] = {tenant_id};
    PGresult *r = tq(p, c, tenant_id, "reading the head", err,
                     "SELECT seq FROM heads WHERE tenant_id = $1", 1, v, 0);
    if (!r)
        return err->rc;
    *seq = PQntuples(r) ? col_i64(r, 0, 0) : 0;
    PQclear(r);
    return VG_OK;
}

static int64_t be64(const char *b)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | (unsigned char)b[i];
    return (int64_t)v;
}

/* Apply the database's ops past the copy's head, up to upto (0: all there are).
 * In the caller's batch, or (alone) in one of its own, begun only when there is
 * something to apply, with the hooks quiet: what it applies is in the database
 * already. Each op must land at the seq it has there: anything else means the
 * copy is not the database's (VG_ECORRUPT). */
static vg_rc bring_up(pgt *pt, PGconn *c, int64_t upto, bool alone, vg_err *err)
{
    pg *p = pt->p;
    vg_ws *ws = pt->t->ws;
    bool begun = false;
    vg_rc rc = VG_OK;
    int64_t first = 0; /* the copy's head when the open batch began */
    for (;;) {
        int64_t have = vg_ws_last_seq(ws);
        if (upto && have >= upto)
            break;
        char after[24], lim[24];
        num(after, sizeof after, have);
        num(lim, sizeof lim, CATCH_UP_ROWS);
        const char *v[] = {pt->t->id, after, lim};
        /* binary results: the seq as 8 bytes, the line as it is */
        PGresult *r = tq(p, c, pt->t->id, "reading the log", err,
                         "SELECT seq, line FROM ops WHERE tenant_id = $1"
                         " AND seq > $2::bigint ORDER BY seq LIMIT $3::bigint",
                         3, v, 1);
        if (!r) {
            rc = err->rc;
            break;
        }
        int n = PQntuples(r);
        if (n > 0 && alone && !begun) {
            pt->quiet = true;
            rc = vg_batch_begin(ws, err);
            pt->quiet = false;
            begun = rc == VG_OK;
            first = have;
            if (rc == VG_OK && vg_ws_last_seq(ws) != have) {
                PQclear(r); /* another process on this directory brought it up meanwhile */
                continue;
            }
        }
        if (n == 0 || rc) {
            PQclear(r);
            break;
        }
        size_t total = 0;
        for (int i = 0; i < n; i++)
            total += (size_t)PQgetlength(r, i, 1) + 1;
        vg_buf body;
        vg_buf_init(&body, total + 1);
        int64_t last = have;
        for (int i = 0; rc == VG_OK && i < n; i++) {
            int64_t seq = PQgetlength(r, i, 0) == 8 ? be64(PQgetvalue(r, i, 0)) : -1;
            if (seq != last + 1)
                rc = vg_fail(err, VG_ECORRUPT,
                             "PostgreSQL %s: tenant %s: op %" PRId64 " follows %" PRId64
                             " in the log",
                             p->where, pt->t->id, seq, last);
            last = seq;
            if (rc == VG_OK)
                rc = vg_buf_add(&body, PQgetvalue(r, i, 1), (size_t)PQgetlength(r, i, 1));
        }
        PQclear(r);
        vg_received got = {0};
        if (rc == VG_OK)
            rc = vg_ops_receive(ws, body.data, body.len, NULL, NULL, &got, err);
        vg_buf_free(&body);
        if (rc == VG_OK && vg_ws_last_seq(ws) != last)
            rc = vg_fail(err, VG_ECORRUPT,
                         "tenant %s: this host's copy of the log is not the"
                         " database's (seq %" PRId64 " here for %" PRId64 " there)",
                         pt->t->id, vg_ws_last_seq(ws), last);
        if (rc)
            break;
        if (begun && vg_ws_last_seq(ws) - first >= BRING_UP_BATCH) {
            /* a long way to go (a new host's copy): commit what is applied */
            pt->quiet = true;
            rc = vg_batch_commit(ws, err);
            pt->quiet = false;
            begun = false;
            if (rc)
                return rc;
        }
    }
    if (begun) {
        pt->quiet = true;
        if (rc == VG_OK)
            rc = vg_batch_commit(ws, err);
        else
            vg_batch_rollback(ws);
        pt->quiet = false;
    }
    return rc;
}

/* 64 bits of the tenant id for pg_advisory_lock (FNV-1a): two tenants sharing a
 * key only wait for each other. */
static int64_t lock_key(const char *tenant_id)
{
    uint64_t h = 14695981039346656037ull;
    for (const char *s = "vigil-log:"; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    for (const char *s = tenant_id; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (int64_t)h;
}

/* Become the tenant's one writer: its lock, then the copy up to the head (in
 * batches of its own: no batch of the caller's is open yet). */
static vg_rc lock_tenant(pgt *pt, vg_err *err)
{
    if (pt->locked)
        return VG_OK;
    pg *p = pt->p;
    PGconn *c = conn(p, err);
    if (!c)
        return VG_EIO;
    char k[24];
    num(k, sizeof k, lock_key(pt->t->id));
    const char *v[] = {k}, *t[] = {pt->t->id};
    pl q;
    PGresult *keep[5] = {0};
    unsigned gen = listen_gen(p);
    pl_begin(&q, p, c);
    pl_sendp(&q, "SELECT pg_advisory_lock($1)", 1, v, 0);
    pl_tx(&q, pt->t->id);
    pl_sendp(&q, "SELECT seq FROM heads WHERE tenant_id = $1", 1, t, 0);
    pl_sendp(&q, "COMMIT", 0, NULL, 0);
    vg_rc rc = pl_end(p, &q, "waiting for the tenant's log", keep, err);
    if (rc == VG_OK) {
        pt->locked = true;
        pt->db_head = PQntuples(keep[3]) ? col_i64(keep[3], 0, 0) : 0;
        heard_note(p, pt->t->id, pt->db_head, gen);
    } else if (PQstatus(c) == CONNECTION_OK) {
        /* the lock may have been granted before what failed after it */
        PQclear(PQexecParams(c, "SELECT pg_advisory_unlock($1)", 1, NULL, v, NULL, NULL, 0));
    }
    for (int i = 0; i < 5; i++)
        PQclear(keep[i]);
    if (rc == VG_OK && vg_ws_last_seq(pt->t->ws) < pt->db_head)
        rc = bring_up(pt, c, pt->db_head, true, err);
    if (rc == VG_OK && vg_ws_last_seq(pt->t->ws) != pt->db_head)
        rc = vg_fail(err, VG_ECORRUPT,
                     "tenant %s: this host's copy of the log is at %" PRId64
                     ", the database's at %" PRId64,
                     pt->t->id, vg_ws_last_seq(pt->t->ws), pt->db_head);
    return rc;
}

/* The core's hook: a batch is about to begin on the copy. A batch writes, so its
 * caller becomes the tenant's writer first, before the copy's write lock: every
 * process takes the two in that order (a lock order, so that processes sharing a
 * data directory cannot deadlock). */
static vg_rc on_begin(void *ud, vg_ws *ws, vg_err *err)
{
    pgt *pt = ud;
    (void)ws;
    return pt->quiet ? VG_OK : lock_tenant(pt, err);
}

typedef struct outgoing {
    pg *p;
    const char *tenant_id;
    PGconn *c;
    pl *q; /* sent into this pipeline, or (NULL) run at once */
    int64_t upto;
    vg_buf lines; /* the current INSERT's lines, back to back */
    size_t *ends; /* where each line ends in lines */
    int64_t *seqs;
    vg_id *ids;
    int n;
    char last_id[27];
    vg_err *err;
} outgoing;

/* INSERT the gathered ops in one statement: binary parameters, the lines as they are. */
static vg_rc send_rows(outgoing *o)
{
    if (o->n == 0)
        return VG_OK;
    pg *p = o->p;
    int np = 1 + 3 * o->n;
    const char **v = vg_xcalloc((size_t)np, sizeof *v);
    int *len = vg_xcalloc((size_t)np, sizeof *len), *fmt = vg_xcalloc((size_t)np, sizeof *fmt);
    char(*seqtxt)[24] = vg_xcalloc((size_t)o->n, sizeof *seqtxt);
    vg_buf sql;
    vg_buf_init(&sql, (size_t)o->n * 48 + 128);
    vg_rc rc = vg_buf_adds(&sql, "INSERT INTO ops(tenant_id, seq, id, line) VALUES ");
    v[0] = o->tenant_id;
    size_t start = 0;
    for (int i = 0; rc == VG_OK && i < o->n; i++) {
        num(seqtxt[i], sizeof seqtxt[i], o->seqs[i]);
        v[1 + 3 * i] = seqtxt[i];
        v[2 + 3 * i] = o->ids[i];
        v[3 + 3 * i] = o->lines.data + start;
        len[3 + 3 * i] = (int)(o->ends[i] - start);
        fmt[3 + 3 * i] = 1;
        start = o->ends[i];
        rc = vg_buf_addf(&sql, "%s($1, $%d::bigint, $%d, $%d::bytea)", i ? ", " : "", 2 + 3 * i,
                         3 + 3 * i, 4 + 3 * i);
    }
    if (rc == VG_OK && o->q) {
        pl_send(o->q, vg_buf_str(&sql), np, v, len, fmt, 0);
    } else if (rc == VG_OK) {
        PGresult *r = PQexecParams(o->c, vg_buf_str(&sql), np, NULL, v, len, fmt, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            char m[400];
            const char *pr = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
            first_line(pr ? pr : PQerrorMessage(o->c), m, sizeof m);
            rc = vg_fail(o->err, rc_of(o->c), "PostgreSQL %s: writing the log: %s", p->where, m);
        }
        PQclear(r);
    }
    vg_buf_free(&sql);
    free(v);
    free(len);
    free(fmt);
    free(seqtxt);
    vg_buf_reset(&o->lines);
    o->n = 0;
    return rc;
}

static vg_rc out_one(void *ud, vg_op *op)
{
    outgoing *o = ud;
    if (op->seq > o->upto)
        return VG_EEXIST; /* past the batch: stop */
    vg_rc rc = vg_op_wire(op, op->text, strlen(op->text), op->seq, &o->lines, o->err);
    if (rc)
        return rc;
    o->ends[o->n] = o->lines.len;
    o->seqs[o->n] = op->seq;
    memcpy(o->ids[o->n], op->id, sizeof(vg_id));
    memcpy(o->last_id, op->id, sizeof o->last_id);
    if (++o->n == INSERT_ROWS || o->lines.len > (32u << 20))
        return send_rows(o);
    return VG_OK;
}

/* INSERT the ops (after, upto] of ws (upto 0: all) into the tenant's log, in c's
 * transaction (sent into the pipeline q if not NULL); last_id the last one's id. */
static vg_rc send_log(pg *p, PGconn *c, pl *q, const char *tenant_id, vg_ws *ws, int64_t after,
                      int64_t upto, char last_id[27], vg_err *err)
{
    outgoing o = {.p = p,
                  .tenant_id = tenant_id,
                  .c = c,
                  .q = q,
                  .upto = upto ? upto : INT64_MAX,
                  .err = err};
    vg_buf_init(&o.lines, (size_t)1 << 31);
    o.ends = vg_xcalloc(INSERT_ROWS, sizeof *o.ends);
    o.seqs = vg_xcalloc(INSERT_ROWS, sizeof *o.seqs);
    o.ids = vg_xcalloc(INSERT_ROWS, sizeof *o.ids);
    vg_rc rc = vg_ops_each(ws, after, out_one, &o, err);
    if (rc == VG_EEXIST)
        rc = VG_OK;
    if (rc == VG_OK)
        rc = send_rows(&o);
    memcpy(last_id, o.last_id, sizeof o.last_id);
    vg_buf_free(&o.lines);
    free(o.ends);
    free(o.seqs);
    free(o.ids);
    return rc;
}

/* Write the idempotency record waiting to be written, in c's transaction. */
#define IDEM_PUT                                                                                   \
    "INSERT INTO idem VALUES ($1, $2, $3, $4::bigint) ON CONFLICT (tenant_id, key)"                \
    " DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at"

static vg_rc idem_write(pgt *pt, PGconn *c, vg_err *err)
{
    if (!pt->idem_key)
        return VG_OK;
    char exp[24];
    num(exp, sizeof exp, pt->idem_exp);
    const char *v[] = {pt->t->id, pt->idem_key, pt->idem_val, exp};
    return qx(pt->p, c, "recording an idempotency key", err, IDEM_PUT, 4, v);
}

static void idem_forget(pgt *pt)
{
    free(pt->idem_key);
    free(pt->idem_val);
    pt->idem_key = pt->idem_val = NULL;
}

/* The core's hook: a batch that added the ops (after, upto] is about to commit on
 * the copy. They go to the database first, in one transaction with the head, the
 * waiting idempotency record and the notification; if that fails, so does the
 * local commit. */
static vg_rc on_commit(void *ud, vg_ws *ws, int64_t after, int64_t upto, vg_err *err)
{
    pgt *pt = ud;
    if (pt->quiet)
        return VG_OK;
    pg *p = pt->p;
    if (!pt->locked)
        return vg_fail(err, VG_EINVAL, "tenant %s: a write without the tenant's lock", pt->t->id);
    int64_t from = after > pt->db_head ? after : pt->db_head;
    if (upto <= from)
        return VG_OK;
    PGconn *c = conn(p, err);
    if (!c)
        return VG_EIO;
    /* one round trip: the ops, the head (checked: a second writer's INSERT would
     * have failed on the seqs already), the idempotency record, the notification,
     * the commit, and the lock given back (the next writer brings its own copy up
     * from the database; this one's local commit follows) */
    pl q;
    pl_begin(&q, p, c);
    pl_tx(&q, pt->t->id);
    char last_id[27] = "", f[24], u[24], k[24], exp[24];
    vg_rc rc = send_log(p, c, &q, pt->t->id, ws, from, upto, last_id, err);
    num(f, sizeof f, from);
    num(u, sizeof u, upto);
    num(k, sizeof k, lock_key(pt->t->id));
    const char *hv[] = {pt->t->id, u, last_id, f}, *kv[] = {k};
    pl_sendp(&q,
             "UPDATE heads SET seq = $2::bigint, id = $3 WHERE tenant_id = $1"
             " AND seq = $4::bigint",
             4, hv, 0);
    pl_sendp(&q,
             "SELECT vigil_check(seq = $2::bigint, 'the log moved while this process held"
             " its lock') FROM heads WHERE tenant_id = $1",
             2, hv, 0);
    if (pt->idem_key) {
        num(exp, sizeof exp, pt->idem_exp);
        const char *iv[] = {pt->t->id, pt->idem_key, pt->idem_val, exp};
        pl_sendp(&q, IDEM_PUT, 4, iv, 0);
    }
    pl_sendp(&q, "SELECT pg_notify('vigil_log', $1 || ' ' || $2)", 2, hv, 0);
    pl_sendp(&q, "COMMIT", 0, NULL, 0);
    pl_sendp(&q, "SELECT pg_advisory_unlock($1)", 1, kv, 0);
    vg_err e = {0};
    vg_rc sent = pl_end(p, &q, "writing the log", NULL, &e);
    if (rc == VG_OK && sent != VG_OK) {
        *err = e;
        rc = sent;
    }
    if (rc == VG_OK) {
        pt->db_head = upto;
        pt->locked = false;
        idem_forget(pt);
    }
    return rc;
}

/* The copy is the database's when the op it holds at its head is the op the
 * database holds there. */
static vg_rc copy_is_ours(pgt *pt, PGconn *c, bool *ours, vg_err *err)
{
    int64_t have = vg_ws_last_seq(pt->t->ws);
    *ours = true;
    if (have == 0)
        return VG_OK;
    char mine[27] = "", seq[24];
    vg_rc rc = vg_op_at(pt->t->ws, have, mine, err);
    if (rc)
        return rc;
    num(seq, sizeof seq, have);
    if ((rc = tx(pt->p, c, pt->t->id, err)))
        return rc;
    const char *v[] = {pt->t->id, seq};
    PGresult *r = qp(pt->p, c, "reading the log", err,
                     "SELECT id FROM ops WHERE tenant_id = $1 AND seq = $2::bigint", 2, v);
    if (!r)
        return tx_end(pt->p, c, err->rc, err);
    *ours = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), mine) == 0;
    PQclear(r);
    return tx_end(pt->p, c, VG_OK, err);
}

static vg_rc pg_opened(void *b, tenant_ws *t, vg_err *err)
{
    pg *p = b;
    pgt *pt = vg_xcalloc(1, sizeof *pt);
    pt->p = p;
    pt->t = t;
    PGconn *c = conn(p, err);
    bool ours = false;
    vg_rc rc = c ? copy_is_ours(pt, c, &ours, err) : VG_EIO;
    if (rc == VG_OK && !ours) {
        /* another database's copy, or one ahead of this one (restored from a
         * backup?): set it aside and make the copy again from the log */
        char path[4200], aside[4300];
        snprintf(path, sizeof path, "%s", vg_ws_path(t->ws));
        snprintf(aside, sizeof aside, "%s.not-this-database", path);
        fprintf(stderr,
                "vigild: tenant %s: %s is not a copy of %s's log: moved to %s and made"
                " again\n",
                t->id, path, p->where, aside);
        vg_ws_close(t->ws);
        t->ws = NULL;
        char wal[4300], aside_wal[4400];
        snprintf(wal, sizeof wal, "%s-wal", path);
        snprintf(aside_wal, sizeof aside_wal, "%s-wal", aside);
        if (rename(path, aside) != 0)
            rc = vg_fail(err, VG_EIO, "%s: %s", path, strerror(errno));
        else
            (void)rename(wal, aside_wal);
        snprintf(wal, sizeof wal, "%s-shm", path);
        unlink(wal);
        if (rc == VG_OK && (rc = vg_ws_open(path, VG_OPEN_CREATE, &t->ws, err)) == VG_OK)
            vg_ws_set_tenant(t->ws, t->id);
        /* The copy held ops the database does not: the database was restored from
         * an older copy (or is another). Leases granted since that copy are lost
         * while replicas still use their refs, and this host's new copy is about
         * to lease refs of its own: the counter moves on by the margin now, and
         * refs no lease holds are taken as lost leases' for the window, whatever
         * an earlier restore's window (restored with the rows) says. */
        static const char *const sql[] = {
            "INSERT INTO ref_counters(tenant_id, next) VALUES ($1, 1) ON CONFLICT DO NOTHING",
            "UPDATE ref_counters SET next = next + $3::bigint,"
            " adopt_until = greatest(adopt_until, $4::bigint + $5::bigint) WHERE tenant_id = $1",
        };
        if (rc == VG_OK)
            rc = ref_tx(p, t->id, "", STORE_RESTORE_MARGIN, STORE_RESTORE_WINDOW_MS, sql, 2, -1,
                        NULL, err);
    }
    if (rc != VG_OK) {
        free(pt);
        return rc;
    }
    vg_ws_hooks h = {.begin = on_begin, .commit = on_commit, .ud = pt};
    vg_ws_set_hooks(t->ws, &h);
    t->be = pt;
    return VG_OK;
}

static void pg_closed(void *b, tenant_ws *t)
{
    (void)b;
    pgt *pt = t->be;
    if (!pt)
        return;
    vg_ws_set_hooks(t->ws, NULL);
    idem_forget(pt);
    free(pt);
    t->be = NULL;
}

/* The copy brought up before a caller uses it: not even asked for when the
 * listener has heard of nothing past it since it connected. */
static vg_rc pg_enter(void *b, tenant_ws *t, vg_err *err)
{
    pg *p = b;
    pgt *pt = t->be;
    int64_t h = heard_head(p, t->id);
    if (h >= 0 && vg_ws_last_seq(t->ws) >= h)
        return VG_OK;
    unsigned gen = listen_gen(p);
    PGconn *c = conn(p, err);
    vg_rc rc = c ? bring_up(pt, c, 0, true, err) : VG_EIO;
    if (rc == VG_OK)
        heard_note(p, t->id, vg_ws_last_seq(t->ws), gen);
    return rc;
}

static vg_rc pg_refresh(void *b, tenant_ws *t, vg_err *err)
{
    pg *p = b;
    unsigned gen = listen_gen(p);
    PGconn *c = conn(p, err);
    vg_rc rc = c ? bring_up(t->be, c, 0, true, err) : VG_EIO;
    if (rc == VG_OK)
        heard_note(p, t->id, vg_ws_last_seq(t->ws), gen);
    return rc;
}

static void pg_leave(void *b, tenant_ws *t)
{
    pg *p = b;
    pgt *pt = t->be;
    vg_err err = {0};
    PGconn *c = pt->locked || pt->idem_key ? conn(p, &err) : NULL;
    if (c && pt->idem_key && pt->locked) { /* an ingest that stored nothing new */
        vg_rc rc = tx(p, c, t->id, &err);
        if (rc == VG_OK)
            rc = tx_end(p, c, idem_write(pt, c, &err), &err);
        if (rc)
            fprintf(stderr, "vigild: tenant %s: %s\n", t->id, err.msg);
    }
    idem_forget(pt);
    if (c && pt->locked) {
        char k[24];
        num(k, sizeof k, lock_key(t->id));
        const char *v[] = {k};
        (void)qx(p, c, "releasing the tenant's log", &err, "SELECT pg_advisory_unlock($1)", 1, v);
    }
    pt->locked = false;
}

static vg_rc pg_head(void *b, const char *tenant_id, int64_t *seq, vg_err *err)
{
    pg *p = b;
    if ((*seq = heard_head(p, tenant_id)) >= 0)
        return VG_OK;
    unsigned gen = listen_gen(p);
    PGconn *c = conn(p, err);
    vg_rc rc = c ? db_head(p, c, tenant_id, seq, err) : VG_EIO;
    if (rc == VG_OK)
        heard_note(p, tenant_id, *seq, gen);
    return rc;
}

/* --- idempotency records ---------------------------------------------------------------- */

static vg_rc pg_idem_get(void *b, tenant_ws *t, const char *key, vg_buf *out, bool *found,
                         vg_err *err)
{
    pg *p = b;
    pgt *pt = t->be;
    /* the caller writes next, and two processes must not both take the key as new */
    vg_rc rc = lock_tenant(pt, err);
    PGconn *c = rc == VG_OK ? conn(p, err) : NULL;
    if (!c)
        return rc ? rc : VG_EIO;
    if ((rc = tx(p, c, t->id, err)))
        return rc;
    char now[24];
    num(now, sizeof now, vg_now_ms());
    const char *v[] = {t->id, key, now};
    PGresult *r = NULL;
    if ((rc = qx(p, c, "reading idempotency keys", err,
                 "DELETE FROM idem WHERE tenant_id = $1 AND expires_at <= $3::bigint"
                 " AND key <> $2",
                 3, v)) == VG_OK &&
        (r = qp(p, c, "reading idempotency keys", err,
                "SELECT value FROM idem WHERE tenant_id = $1 AND key = $2"
                " AND expires_at > $3::bigint",
                3, v))) {
        *found = PQntuples(r) == 1;
        if (*found)
            rc = vg_buf_adds(out, PQgetvalue(r, 0, 0));
        PQclear(r);
    } else if (rc == VG_OK) {
        rc = err->rc;
    }
    return tx_end(p, c, rc, err);
}

static vg_rc pg_idem_put(void *b, tenant_ws *t, const char *key, const char *value,
                         int64_t expires_at, vg_err *err)
{
    (void)b, (void)err;
    pgt *pt = t->be;
    idem_forget(pt);
    pt->idem_key = vg_xstrdup(key);
    pt->idem_val = vg_xstrdup(value);
    pt->idem_exp = expires_at;
    return VG_OK;
}

/* --- LISTEN ---------------------------------------------------------------------------- */

/* The listener: LISTEN vigil_log ("TENANT SEQ" at each commit to a log) and
 * vigil_token (a token revoked), on a connection of its own, made again when it
 * drops (with a growing pause); the server hears of every commit to wake its
 * parked pulls. */
static void *listener(void *arg)
{
    pg *p = arg;
    PGconn *c = NULL;
    int backoff = 100;
    for (;;) {
        if (!c || PQstatus(c) != CONNECTION_OK) {
            listen_state(p, LISTEN_DOWN);
            if (c)
                PQfinish(c);
            c = connect_db(p);
            if (PQstatus(c) == CONNECTION_OK) {
                PGresult *r = PQexec(c, "LISTEN vigil_log; LISTEN vigil_token");
                bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
                PQclear(r);
                if (ok) {
                    backoff = 100;
                    listen_state(p, LISTEN_UP);
                } else {
                    PQfinish(c);
                    c = NULL;
                }
            }
        }
        struct pollfd fds[2] = {
            {.fd = p->wpipe[0], .events = POLLIN},
            {.fd = c && PQstatus(c) == CONNECTION_OK ? PQsocket(c) : -1, .events = POLLIN}};
        int wait = fds[1].fd >= 0 ? -1 : backoff;
        if (fds[1].fd < 0 && backoff < 5000)
            backoff *= 2;
        if (poll(fds, 2, wait) < 0 && errno != EINTR)
            break;
        if (fds[0].revents)
            break;
        if (fds[1].fd >= 0 && fds[1].revents) {
            if (!PQconsumeInput(c))
                continue; /* gone: made again above */
            PGnotify *n;
            unsigned gen = listen_gen(p);
            while ((n = PQnotifies(c))) {
                if (strcmp(n->relname, "vigil_token") == 0) {
                    listen_state(p, LISTEN_FORGET); /* every token checked, again */
                } else if (strlen(n->extra) > 27 && n->extra[26] == ' ') {
                    vg_id t;
                    memcpy(t, n->extra, 26);
                    t[26] = '\0';
                    char *end;
                    long long seq = strtoll(n->extra + 27, &end, 10);
                    if (vg_ulid_valid(t) && !*end) {
                        heard_note(p, t, seq, gen);
                        p->wfn(p->wud, t);
                    }
                }
                PQfreemem(n);
            }
        }
    }
    listen_state(p, LISTEN_DOWN);
    PQfinish(c);
    return NULL;
}

static void pg_watch(void *b, void (*fn)(void *ud, const char *tenant_id), void *ud)
{
    /* called by one thread, to start and to stop (the listener takes wmu: not held
     * here while it is joined) */
    pg *p = b;
    if (p->wrunning) {
        (void)!write(p->wpipe[1], "x", 1);
        pthread_join(p->wt, NULL);
        close(p->wpipe[0]);
        close(p->wpipe[1]);
        p->wpipe[0] = p->wpipe[1] = -1;
        p->wrunning = false;
    }
    p->wfn = fn;
    p->wud = ud;
    if (fn && pipe(p->wpipe) == 0) {
        if (pthread_create(&p->wt, NULL, listener, p) == 0) {
            p->wrunning = true;
        } else {
            close(p->wpipe[0]);
            close(p->wpipe[1]);
            p->wpipe[0] = p->wpipe[1] = -1;
        }
    }
}

/* --- a SQLite data directory moved in (vigild migrate-store) --------------------------- */

/* Copy the rows of a SELECT on the SQLite file into the database with ins, one
 * parameter a column (a blob as bytea text, NULL as NULL). */
static vg_rc copy_rows(pg *p, PGconn *c, sqlite3 *db, const char *sel, const char *ins,
                       int64_t *count, vg_err *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sel, -1, &st, NULL) != SQLITE_OK)
        return vg_fail(err, VG_EDB, "server.db: %s", sqlite3_errmsg(db));
    vg_rc rc = VG_OK;
    int step;
    *count = 0;
    while (rc == VG_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        int n = sqlite3_column_count(st);
        const char *v[8] = {0};
        char hex[8][2 * 64 + 3];
        for (int i = 0; i < n && i < 8; i++) {
            int t = sqlite3_column_type(st, i);
            if (t == SQLITE_BLOB && sqlite3_column_bytes(st, i) <= 64) {
                hex_bytea(sqlite3_column_blob(st, i), (size_t)sqlite3_column_bytes(st, i), hex[i],
                          sizeof hex[i]);
                v[i] = hex[i];
            } else if (t != SQLITE_NULL) {
                v[i] = (const char *)sqlite3_column_text(st, i);
            }
        }
        rc = qx(p, c, "copying server.db", err, ins, n, v);
        ++*count;
    }
    if (rc == VG_OK && step != SQLITE_DONE)
        rc = vg_fail(err, VG_EDB, "server.db: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc;
}

typedef struct moved {
    vg_id id;
    char name[STORE_NAME_MAX + 1];
    vg_head head;
} moved;

static vg_rc move_in(pg *p, PGconn *c, const char *from, const unsigned char *key, moved **out,
                     size_t *nout, vg_err *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/server.db", from);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        vg_rc rc = vg_fail(err, VG_EIO, "%s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
        sqlite3_close(db);
        return rc;
    }
    sqlite3_busy_timeout(db, 5000);
    vg_rc rc = tx(p, c, "*", err);
    PGresult *r =
        rc ? NULL : qp(p, c, "counting tenants", err, "SELECT count(*) FROM tenants", 0, NULL);
    if (!rc && !r)
        rc = err->rc;
    if (r && col_i64(r, 0, 0) > 0)
        rc = vg_fail(err, VG_EEXIST,
                     "PostgreSQL %s already holds %" PRId64 " tenant%s:"
                     " migrate-store moves a data directory into an empty store",
                     p->where, col_i64(r, 0, 0), col_i64(r, 0, 0) == 1 ? "" : "s");
    PQclear(r);
    char hex[2 * TOKEN_KEY_BYTES + 3];
    hex_bytea(key, TOKEN_KEY_BYTES, hex, sizeof hex);
    const char *k[] = {hex};
    if (rc == VG_OK) /* the tokens' hashes are keyed with the directory's key */
        rc = qx(p, c, "copying the key", err, "UPDATE server_key SET key = $1", 1, k);
    sodium_memzero(hex, sizeof hex);
    static const char *const tables[][2] = {
        {"SELECT id, name, created_at FROM tenants", "INSERT INTO tenants VALUES ($1, $2, $3)"},
        {"SELECT id FROM tenants", "INSERT INTO heads(tenant_id) VALUES ($1)"},
        {"SELECT tenant_id, name, role, created_at FROM users",
         "INSERT INTO users VALUES ($1, $2, $3, $4)"},
        {"SELECT id, tenant_id, user, label, hash, created_at, last_used_at, revoked_at"
         " FROM tokens",
         "INSERT INTO tokens VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"},
        {"SELECT tenant_id, next, adopt_until FROM ref_counters",
         "INSERT INTO ref_counters VALUES ($1, $2, $3)"},
        {"SELECT tenant_id, user, lo, hi, granted_at FROM ref_leases",
         "INSERT INTO ref_leases VALUES ($1, $2, $3, $4, $5)"},
    };
    int64_t count = 0;
    for (size_t i = 0; rc == VG_OK && i < sizeof tables / sizeof *tables; i++)
        rc = copy_rows(p, c, db, tables[i][0], tables[i][1], &count, err);
    /* each tenant's log, op by op in its order, and its head */
    sqlite3_stmt *st = NULL;
    size_t n = 0, cap = 0;
    moved *m = NULL;
    if (rc == VG_OK && sqlite3_prepare_v2(db, "SELECT id, name FROM tenants ORDER BY name", -1, &st,
                                          NULL) != SQLITE_OK)
        rc = vg_fail(err, VG_EDB, "%s: %s", path, sqlite3_errmsg(db));
    while (rc == VG_OK && sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            m = vg_xrealloc(m, cap * sizeof *m);
        }
        memset(&m[n], 0, sizeof m[n]);
        snprintf(m[n].id, sizeof m[n].id, "%s", (const char *)sqlite3_column_text(st, 0));
        snprintf(m[n].name, sizeof m[n].name, "%s", (const char *)sqlite3_column_text(st, 1));
        char wpath[4200], last_id[27] = "";
        store_tenant_path(from, m[n].id, wpath, sizeof wpath);
        vg_ws *ws = NULL;
        if ((rc = vg_ws_open(wpath, 0, &ws, err)) == VG_OK &&
            (rc = vg_audit_head(ws, &m[n].head, err)) == VG_OK &&
            (rc = send_log(p, c, NULL, m[n].id, ws, 0, 0, last_id, err)) == VG_OK) {
            char seq[24];
            num(seq, sizeof seq, m[n].head.seq);
            const char *v[] = {m[n].id, seq, last_id};
            rc = qx(p, c, "moving the head", err,
                    "UPDATE heads SET seq = $2::bigint, id = $3 WHERE tenant_id = $1", 3, v);
        }
        vg_ws_close(ws);
        n++;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    rc = tx_end(p, c, rc, err);
    if (rc != VG_OK) {
        free(m);
        return rc;
    }
    *out = m;
    *nout = n;
    return VG_OK;
}

vg_rc store_migrate(const char *from, const char *url, const char *copies,
                    void (*say)(void *ud, const char *line), void *ud, vg_err *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/server.db", from);
    if (access(path, F_OK) != 0)
        return vg_fail(err, VG_ENOTFOUND, "%s holds no vigild data (no server.db)", from);
    void *sb = NULL;
    unsigned char key[TOKEN_KEY_BYTES];
    vg_rc rc = store_sqlite_open(from, &sb, err); /* checks the directory's files */
    if (rc)
        return rc;
    store_be_sqlite.key(sb, key);
    store_be_sqlite.close(sb);
    void *pb = NULL;
    if ((rc = store_pg_open(url, &pb, err))) {
        sodium_memzero(key, sizeof key);
        return rc;
    }
    pg *p = pb;
    PGconn *c = conn(p, err);
    moved *m = NULL;
    size_t n = 0;
    rc = c ? move_in(p, c, from, key, &m, &n, err) : VG_EIO;
    sodium_memzero(key, sizeof key);
    /* the planner's statistics of what was just loaded, before anything reads it
     * (without them it sorts a tenant's whole log to find the next page) */
    if (rc == VG_OK)
        rc = qx(p, c, "analysing the moved tables", err,
                "ANALYZE tenants, users, tokens, ref_counters, ref_leases, heads, ops", 0, NULL);
    /* Verified as vigild will read it: each tenant's log made again from the
     * database into this host's copy, whose head (seq and hash of the chain)
     * must be the directory's. */
    snprintf(path, sizeof path, "%s/tenants", copies);
    if (rc == VG_OK && mkdir(copies, 0700) != 0 && errno != EEXIST)
        rc = vg_fail(err, VG_EIO, "%s: %s", copies, strerror(errno));
    if (rc == VG_OK && mkdir(path, 0700) != 0 && errno != EEXIST)
        rc = vg_fail(err, VG_EIO, "%s: %s", path, strerror(errno));
    for (size_t i = 0; rc == VG_OK && i < n; i++) {
        char wpath[4200], line[512], want[VG_HEAD_TEXT], got[VG_HEAD_TEXT];
        store_tenant_path(copies, m[i].id, wpath, sizeof wpath);
        if (access(wpath, F_OK) == 0) {
            rc = vg_fail(err, VG_EEXIST, "%s exists: give migrate-store a new --data", wpath);
            break;
        }
        tenant_ws tw = {0};
        memcpy(tw.id, m[i].id, sizeof tw.id);
        pgt pt = {.p = p, .t = &tw};
        vg_head h = {0};
        if ((rc = vg_ws_open(wpath, VG_OPEN_CREATE, &tw.ws, err)) == VG_OK) {
            vg_ws_set_tenant(tw.ws, m[i].id);
            if ((rc = bring_up(&pt, c, 0, true, err)) == VG_OK)
                rc = vg_audit_head(tw.ws, &h, err);
        }
        vg_ws_close(tw.ws);
        vg_head_format(&m[i].head, want);
        vg_head_format(&h, got);
        if (rc == VG_OK && (h.seq != m[i].head.seq || memcmp(h.hash, m[i].head.hash, 32) != 0))
            rc = vg_fail(err, VG_ECORRUPT,
                         "tenant %s: the log read back from PostgreSQL ends at"
                         " %s, not at %s as in %s",
                         m[i].name, got, want, from);
        if (rc == VG_OK) {
            snprintf(line, sizeof line, "tenant %s: %" PRId64 " ops, head %s: the same in %s",
                     m[i].name, h.seq, got, p->where);
            say(ud, line);
        }
    }
    free(m);
    pg_close(p);
    return rc;
}

const store_be store_be_pg = {
    .name = "postgresql",
    .close = pg_close,
    .key = pg_key,
    .tenant_add = pg_tenant_add,
    .tenant_get = pg_tenant_get,
    .tenants = pg_tenants,
    .user_add = pg_user_add,
    .users = pg_users,
    .token_add = pg_token_add,
    .tokens = pg_tokens,
    .token_revoke = pg_token_revoke,
    .auth = pg_auth,
    .ref_lease = pg_ref_lease,
    .ref_owner = pg_ref_owner,
    .ref_adopt = pg_ref_adopt,
    .ref_restored = pg_ref_restored,
    .opened = pg_opened,
    .closed = pg_closed,
    .enter = pg_enter,
    .leave = pg_leave,
    .refresh = pg_refresh,
    .head = pg_head,
    .idem_get = pg_idem_get,
    .idem_put = pg_idem_put,
    .watch = pg_watch,
};
