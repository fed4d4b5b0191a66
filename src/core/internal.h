/*
 * internal.h — what the core's modules share and nothing outside the core sees:
 * the workspace struct, its statement cache and the schema steps.
 */
#ifndef VIGIL_INTERNAL_H
#define VIGIL_INTERNAL_H

#include <sqlite3.h>
#include <stdint.h>

#include "vigil/buf.h"
#include "vigil/err.h"
#include "vigil/id.h"
#include "vigil/ws.h"

#define VG_APPLICATION_ID 0x5647494c /* "VGIL" */

/* Statements prepared once per workspace and reused (sqlite3_reset between uses). */
enum {
    ST_OP_INSERT, ST_OP_EXISTS,
    ST_CLOCK_GET, ST_CLOCK_PUT,
    ST_CASE_INSERT, ST_CASE_EXISTS, ST_CASE_TOUCH, ST_CASE_NEXT_REF, ST_CASE_FIELD,
    ST_EVENT_INSERT,
    ST_NOTE_INSERT,
    ST_ART_FIND, ST_ART_INSERT, ST_ART_MERGE, ST_ART_PRESENCE,
    ST_TASK_INSERT, ST_TASK_GET, ST_TASK_NEXT_ORD,
    ST_ALERT_INSERT, ST_ALERT_GET, ST_ALERT_BY_REF, ST_ALERT_REC_HAS, ST_ALERT_REC_ADD,
    ST__COUNT
};

/* "Open" in SQL: every status but closed, spelt as a list so that it reads the
 * ranges of cases_queue (status, severity, ...) rather than every case. */
#define WS_OPEN_STATUSES "status IN ('new', 'in_progress', 'on_hold', 'contained')"
/* A case c's SLA target by its severity, the five targets (info..critical) bound
 * as parameters I, L, M, H, C ("?26"...); and whether the open case is past it at
 * NOW. The queue's sla order, its sla:overdue term and the dashboard share them. */
#define WS_SLA_TARGET(I, L, M, H, C)                                                         \
    "(CASE c.severity WHEN 0 THEN " I " WHEN 1 THEN " L " WHEN 2 THEN " M " WHEN 3 THEN " H \
    " ELSE " C " END)"
#define WS_SLA_OVERDUE(I, L, M, H, C, NOW)                                                   \
    "(c.status != 'closed' AND " WS_SLA_TARGET(I, L, M, H, C) " > 0 AND c.created_at + "    \
    WS_SLA_TARGET(I, L, M, H, C) " < " NOW ")"

/* Statements named by their (static) SQL text, prepared once: the per-field
 * updates of the write door, correlation's lookups and the queries run once per
 * case of a list. Some 55 texts use it today. */
#define WS_TEXT_STMTS 96
typedef struct ws_text_stmt {
    const char *sql;
    sqlite3_stmt *st;
} ws_text_stmt;

/* Cases whose updated_at a batch has moved, written once at commit. */
#define WS_TOUCHED 128
typedef struct ws_touch {
    vg_id case_id;
    int64_t ms;
} ws_touch;

/* Alerts in one alert.import op made here (apply.c's bulk_*). */
#define WS_BULK_MAX 512

struct vg_ws {
    sqlite3 *db;
    char *path;
    vg_id replica;
    char *actor;
    char *tenant;
    uint64_t hlc;                /* last clock value issued or seen */
    unsigned char last_hash[32]; /* hash of the newest op in the log */
    int in_batch;
    int64_t batches; /* batches begun on this handle: what a batch's caches are keyed by */
    bool fts_ready;  /* temp.fts_stage exists on this connection (apply.c) */
    bool fts_staged; /* the open batch staged rows for the search index */
    /* the case the open batch last found (apply.c, case_ref): cases are never
     * deleted, so it stands until the batch ends (or a case.merge moves what is
     * on it: known_live, the case its writes go to, "" for itself) */
    vg_id known_case, known_live;
    int64_t known_ref, known_batch;
    /* the ref lease (sync.c, ws_lease_*): meta 'refs' as the batch numbered
     * lease_batch read it, {next, hi, lo2, hi2}, and whether the door drew from it */
    bool lease_held, lease_dirty;
    int64_t lease[4], lease_batch;
    /* the correlation keys of the batch's new alerts, written in key order when
     * it commits or correlation reads them (apply.c, ws_flush_keys) */
    struct ws_key *keys;
    size_t nkeys, capkeys;
    int64_t data_version;
    int64_t last_seq;                /* seq of the newest op in the log */
    int64_t begin_seq;               /* ... when the open batch began */
    vg_ws_hooks hooks; /* vg_ws_set_hooks */
    bool intel;        /* the analyst's intel store is attached as "intel" (intel.c) */
    vg_id proposal;                  /* the proposal being applied ("": none; apply.c) */
    struct ZSTD_CCtx_s *zc;          /* payload compression (oplog.c), made on first use */
    struct ZSTD_DCtx_s *zd;
    vg_buf pack;                     /* an op payload being compressed */
    /* The open batch's alert.import op (apply.c, bulk_*): the alerts' texts so far
     * ("{\"alerts\":[" then one element each), its stamp, and how many. */
    vg_buf bulk;
    size_t nbulk;
    size_t bulk_at[2 * WS_BULK_MAX]; /* each element's start and end in bulk */
    uint64_t bulk_hlc;
    vg_id bulk_id;
    /* the last alert looked up by (source, source_ref): correlation asks, then the
     * door (ws_alert_by_ref); forgotten at every alert write and rollback */
    bool byref_ok;
    char byref_source[72];
    vg_buf byref_ref;
    struct ws_alert_ref {
        int64_t rowid; /* 0: no such alert */
        vg_id id;
        bool has_rec;  /* rec: the digest of the raw event the row holds (ws_rec) */
        bool rec_lazy; /* the row has none yet (no repeat has met it): rec was worked
                        * out from its raw event, for the door to keep */
        int64_t rec;
    } byref;
    /* what ws_rec keys its digests with (meta 'rec_key', made on first use), and a
     * raw event's text with the white space between its tokens left out */
    unsigned char rec_key[16];
    bool rec_key_ok;
    vg_buf rec_text;
    /* the last op payloads read for alerts' raw events (oplog.c, ws_alert_raw) */
    struct ws_raw_op *raw_ops;
    uint64_t raw_tick;
    sqlite3_stmt *stmt[ST__COUNT];
    ws_text_stmt text_stmt[WS_TEXT_STMTS];
    ws_touch touched[WS_TOUCHED];
    int ntouched;
};

/* The statement for id, prepared on first use and reset; never NULL on success. */
VG_WUR vg_rc ws_stmt(vg_ws *ws, int id, sqlite3_stmt **out, vg_err *err);
/* The statement for a static SQL text, prepared on first use and reset. */
VG_WUR vg_rc ws_stmt_text(vg_ws *ws, const char *sql, sqlite3_stmt **out, vg_err *err);
/* Set meta's key to value (what names the write in an error). */
VG_WUR vg_rc ws_meta_put(vg_ws *ws, const char *key, const char *value, const char *what,
                         vg_err *err);
/* Run SQL with no results and no parameters (schema, pragmas, transactions). */
VG_WUR vg_rc ws_exec(vg_ws *ws, const char *sql, vg_err *err);
/* A VG_EDB error carrying SQLite's message, prefixed by what was being done. */
vg_rc ws_dberr(vg_ws *ws, vg_err *err, const char *what);
/* Write the correlation keys the open batch has collected (alert_keys). */
VG_WUR vg_rc ws_flush_keys(vg_ws *ws, vg_err *err);
/* Drop them (the batch rolled back). */
void ws_drop_keys(vg_ws *ws);

/* The ref lease inside a batch (sync.c): read once a batch (a no-op when this
 * batch has read it), taken from by the door, written back by vg_batch_commit when
 * it changed. A rolled-back batch leaves meta as it was, and the next batch reads
 * it again: the refs it drew are given back. */
VG_WUR vg_rc ws_lease_load(vg_ws *ws, vg_err *err);
VG_WUR vg_rc ws_lease_flush(vg_ws *ws, vg_err *err);
/* The lease's next ref into *ref, moving on to the next block when the current
 * one is used up; false when the lease is used up (or never was). */
bool ws_lease_draw(vg_ws *ws, int64_t *ref);

/* An alert's raw event, as stored: from the op that carries it (raw_op its seq,
 * raw_at its place in an alert.import, -1 for an alert.add) or, for an alert
 * stored before schema step 11 whose op does not carry it, the row's own (legacy).
 * Returns a fresh string ("{}" when there is none). */
char *ws_alert_raw(vg_ws *ws, int64_t raw_op, int64_t raw_at, const char *legacy);
/* Forget the payloads ws_alert_raw keeps (a rollback may reuse their seqs). */
void ws_raw_forget(vg_ws *ws);

/* The alert stored for (source, source_ref): rowid 0 when there is none. */
typedef struct ws_alert_ref ws_alert_ref;
VG_WUR vg_rc ws_alert_by_ref(vg_ws *ws, const char *source, const char *source_ref,
                             ws_alert_ref *out, vg_err *err);
/* A record's identity (alerts.rec, alert_recs): a keyed digest (SipHash-2-4, the
 * workspace's own secret key, so that nobody can make a record that passes for
 * another) of its raw event's bytes as the op log holds them, white space between
 * tokens left out. A replica's are its own: they are compared with each other
 * only, never sent. false when raw is no record (empty, not an object). */
VG_WUR vg_rc ws_rec_key(vg_ws *ws, vg_err *err);
bool ws_rec(vg_ws *ws, const char *raw, size_t len, int64_t *rec);

/* Schema steps: steps[i] takes user_version i to i+1. */
extern const char *const vg_schema_steps[VG_SCHEMA_VERSION];
/* Apply steps from the database's version up to `target` (tests build old versions). */
VG_WUR vg_rc ws_migrate_to(sqlite3 *db, int target, vg_err *err);
/* A digest of db's schema objects (type, name and SQL of each; store.c), and what
 * it is for the schema this vigil makes: a new schema step changes it, and
 * tests/unit/test_store.c prints the new value. */
VG_WUR vg_rc ws_schema_digest(sqlite3 *db, char hex[65]);
#define VG_SCHEMA_DIGEST "23bf5e34200a897f8dba769f8c743ed8ec10b23e691395b157a798ecc0d930f4"

/* One ledger entry as the door's ledger.add has checked its payload (apply.c,
 * h_ledger_add), for ledger_put. */
typedef struct ledger_add {
    const char *case_id; /* NULL: a general session's */
    /* the case the op named, when the door wrote the entry on the case that one was
     * merged into (case_id): what the entry's hash covers; NULL: case_id */
    const char *hashed_case;
    const char *session_id, *user, *kind, *model, *content;
    int64_t seq;         /* 0: a local op's, assigned by ledger_put */
    int64_t created_at;  /* the op's clock milliseconds */
    /* An entry written before the ledger was kept in ops arrives with the hashes it
     * had and the replica whose whole-ledger chain they belong to; NULL otherwise. */
    const char *legacy_chain;
    const unsigned char *prev_hash, *hash; /* 32 bytes each, legacy entries only */
} ledger_add;
/* The ledger's half of ledger.add: check that the session is the user's on that
 * scope (vg_ledger_session_check's rules) and that a given seq follows the
 * session's last entry, then chain and insert the entry. *seq gets its seq. Writes
 * nothing when it refuses. */
VG_WUR vg_rc ledger_put(vg_ws *ws, const ledger_add *a, int64_t *seq, vg_err *err);
/* After a migration past the schema step that put the ledger into the op log:
 * append one stamped ledger.add op per entry written before it (actor its user,
 * clock its created_at, origin this replica, its hashes in the payload) and name
 * this replica as the chain those entries follow. Run by vg_ws_open inside the
 * migration's transaction, after the replica id is known; a no-op when no entry
 * is waiting. */
VG_WUR vg_rc ledger_into_ops(vg_ws *ws, vg_err *err);

/* Text column helper: a fresh copy, "" for NULL. */
char *col_dup(sqlite3_stmt *st, int col);
/* Copy an id column into out ("" for NULL). */
void col_id(sqlite3_stmt *st, int col, vg_id out);

#endif
