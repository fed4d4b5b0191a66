/*
 * schema.c — the workspace schema, as ordered migration steps.
 *
 * Step i takes PRAGMA user_version from i to i+1. A released step is never edited:
 * a change is a new step at the end, and tests/unit/test_store.c proves that a
 * workspace built from empty and one migrated from every earlier version end with
 * the same schema. Times are integer milliseconds since the epoch (UTC); severity
 * is its rank 0 (info) .. 4 (critical) so the queue order is an index scan; other
 * vocabularies are stored as their names so the file reads well in sqlite3.
 */
#include "internal.h"
#include "oplog.h"

#include <stdbool.h>
#include <stdio.h>
#include <zstd.h>

const char *const vg_schema_steps[VG_SCHEMA_VERSION] = {
    /* 1: entities, the op log and the field clocks */
    "PRAGMA application_id = 1447512396;"
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"

    "CREATE TABLE cases("
    " id TEXT PRIMARY KEY, ref INTEGER NOT NULL, title TEXT NOT NULL,"
    " description TEXT NOT NULL DEFAULT '',"
    " severity INTEGER NOT NULL CHECK(severity BETWEEN 0 AND 4),"
    " status TEXT NOT NULL CHECK(status IN ('new','in_progress','on_hold','contained','closed')),"
    " resolution TEXT CHECK(resolution IN ('true_positive','false_positive','benign','duplicate',"
    "  'indeterminate')),"
    " tlp TEXT NOT NULL DEFAULT 'AMBER', pap TEXT NOT NULL DEFAULT 'AMBER',"
    " assignee TEXT NOT NULL DEFAULT '', tags TEXT NOT NULL DEFAULT '[]',"
    " techniques TEXT NOT NULL DEFAULT '[]', created_by TEXT NOT NULL DEFAULT '',"
    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
    " acknowledged_at INTEGER, closed_at INTEGER);"
    "CREATE INDEX cases_ref ON cases(ref);"
    "CREATE INDEX cases_queue ON cases(status, severity, created_at, id);"
    "CREATE INDEX cases_order ON cases(severity, created_at, id);"
    "CREATE INDEX cases_assignee ON cases(assignee, status);"
    "CREATE INDEX cases_created ON cases(created_at, id);"

    "CREATE TABLE alerts("
    " id TEXT PRIMARY KEY, source TEXT NOT NULL, source_ref TEXT, rule TEXT NOT NULL DEFAULT '',"
    " title TEXT NOT NULL, severity INTEGER NOT NULL CHECK(severity BETWEEN 0 AND 4),"
    " event_time INTEGER NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,"
    " count INTEGER NOT NULL DEFAULT 1,"
    " status TEXT NOT NULL CHECK(status IN ('new','linked','dismissed')),"
    " case_id TEXT REFERENCES cases(id), entities TEXT NOT NULL DEFAULT '{}',"
    " techniques TEXT NOT NULL DEFAULT '[]', raw TEXT NOT NULL DEFAULT '{}',"
    " recorded_at INTEGER NOT NULL, starred INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX alerts_case ON alerts(case_id, event_time);"
    "CREATE INDEX alerts_inbox ON alerts(status, event_time);"
    "CREATE UNIQUE INDEX alerts_source_ref ON alerts(source, source_ref)"
    " WHERE source_ref IS NOT NULL;"

    "CREATE TABLE artifacts("
    " id TEXT PRIMARY KEY, case_id TEXT NOT NULL REFERENCES cases(id), type TEXT NOT NULL,"
    " value TEXT NOT NULL, is_ioc INTEGER NOT NULL DEFAULT 0, tlp TEXT NOT NULL DEFAULT 'AMBER',"
    " source TEXT NOT NULL DEFAULT 'manual', first_seen INTEGER NOT NULL,"
    " last_seen INTEGER NOT NULL, sightings INTEGER NOT NULL DEFAULT 1,"
    " removed INTEGER NOT NULL DEFAULT 0, clock_hlc INTEGER NOT NULL,"
    " clock_origin TEXT NOT NULL, UNIQUE(case_id, type, value));"
    "CREATE INDEX artifacts_value ON artifacts(type, value);"

    "CREATE TABLE tasks("
    " id TEXT PRIMARY KEY, case_id TEXT NOT NULL REFERENCES cases(id),"
    " phase TEXT NOT NULL CHECK(phase IN ('identification','containment','eradication',"
    "  'recovery','lessons_learned')),"
    " title TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',"
    " status TEXT NOT NULL CHECK(status IN ('todo','in_progress','done','skipped')),"
    " assignee TEXT NOT NULL DEFAULT '', ord INTEGER NOT NULL, playbook_id TEXT,"
    " created_at INTEGER NOT NULL, done_at INTEGER);"
    "CREATE INDEX tasks_case ON tasks(case_id, ord);"

    "CREATE TABLE notes("
    " id TEXT PRIMARY KEY, case_id TEXT NOT NULL REFERENCES cases(id), author TEXT NOT NULL,"
    " body TEXT NOT NULL, created_at INTEGER NOT NULL);"
    "CREATE INDEX notes_case ON notes(case_id, created_at);"

    "CREATE TABLE events("
    " id TEXT PRIMARY KEY, case_id TEXT NOT NULL REFERENCES cases(id),"
    " occurred_at INTEGER NOT NULL, recorded_at INTEGER NOT NULL,"
    " kind TEXT NOT NULL CHECK(kind IN ('alert','note','status','artifact','task','copilot',"
    "  'manual')),"
    " summary TEXT NOT NULL, source TEXT NOT NULL DEFAULT '', actor TEXT NOT NULL DEFAULT '',"
    " technique TEXT, tactic TEXT, starred INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX events_occurred ON events(case_id, occurred_at, id);"
    "CREATE INDEX events_recorded ON events(case_id, recorded_at, id);"

    "CREATE TABLE playbooks("
    " id TEXT PRIMARY KEY, name TEXT NOT NULL, version TEXT NOT NULL DEFAULT '1',"
    " category TEXT NOT NULL DEFAULT '', description TEXT NOT NULL DEFAULT '',"
    " techniques TEXT NOT NULL DEFAULT '[]', tasks TEXT NOT NULL DEFAULT '[]',"
    " origin TEXT NOT NULL DEFAULT '', updated_at INTEGER NOT NULL);"

    "CREATE TABLE ledger("
    " id INTEGER PRIMARY KEY, case_id TEXT NOT NULL REFERENCES cases(id),"
    " session_id TEXT NOT NULL, user TEXT NOT NULL, seq INTEGER NOT NULL,"
    " kind TEXT NOT NULL CHECK(kind IN ('prompt','response','proposal','decision','error')),"
    " model TEXT NOT NULL DEFAULT '', content TEXT NOT NULL, created_at INTEGER NOT NULL,"
    " prev_hash BLOB NOT NULL, hash BLOB NOT NULL, UNIQUE(session_id, seq));"
    "CREATE INDEX ledger_case ON ledger(case_id, session_id, seq);"

    "CREATE TABLE ops("
    " seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, hlc INTEGER NOT NULL,"
    " origin TEXT NOT NULL, actor TEXT NOT NULL, tenant TEXT NOT NULL DEFAULT '',"
    " kind TEXT NOT NULL, target TEXT NOT NULL, payload TEXT NOT NULL,"
    " prev_hash BLOB NOT NULL, hash BLOB NOT NULL);"

    /* Last-writer-wins state: the clock of the op that last set each field. */
    "CREATE TABLE clocks(entity TEXT NOT NULL, field TEXT NOT NULL, hlc INTEGER NOT NULL,"
    " origin TEXT NOT NULL, PRIMARY KEY(entity, field)) WITHOUT ROWID;",

    /* 2: full-text search over what analysts look for. One FTS5 table; its rowid is
     * the entity's rowid * 8 + a kind code (1 case, 2 note, 3 alert, 4 artifact), so
     * triggers can delete by rowid without a scan. Triggers do not write the FTS
     * table itself: FTS5 flushes its pending terms at every statement, which costs
     * more than the rest of an insert. They stage rows in fts_pending, and the write
     * door indexes all of a transaction's rows with one statement before it commits
     * (vg_batch_commit), so the index is exactly as current as the data. */
    "CREATE VIRTUAL TABLE fts USING fts5(body, tokenize = 'unicode61 remove_diacritics 2');"
    /* key: the FTS rowid; body: what to index (NULL: nothing, the row is gone);
     * stale: the key may already be in fts and must be deleted first. */
    "CREATE TABLE fts_pending(key INTEGER PRIMARY KEY, body TEXT, stale INTEGER NOT NULL);"
    "CREATE TRIGGER cases_fts_i AFTER INSERT ON cases BEGIN"
    " INSERT OR REPLACE INTO fts_pending VALUES"
    "  (new.rowid * 8 + 1, new.title || ' ' || new.description, 0);"
    " END;"
    "CREATE TRIGGER cases_fts_u AFTER UPDATE OF title, description ON cases BEGIN"
    " INSERT OR REPLACE INTO fts_pending VALUES"
    "  (new.rowid * 8 + 1, new.title || ' ' || new.description, 1);"
    " END;"
    "CREATE TRIGGER notes_fts_i AFTER INSERT ON notes BEGIN"
    " INSERT OR REPLACE INTO fts_pending VALUES (new.rowid * 8 + 2, new.body, 0);"
    " END;"
    "CREATE TRIGGER alerts_fts_i AFTER INSERT ON alerts BEGIN"
    " INSERT OR REPLACE INTO fts_pending VALUES (new.rowid * 8 + 3, new.title || ' ' || new.rule, 0);"
    " END;"
    "CREATE TRIGGER artifacts_fts_i AFTER INSERT ON artifacts BEGIN"
    " INSERT OR REPLACE INTO fts_pending VALUES (new.rowid * 8 + 4, new.value, 0);"
    " END;"
    "CREATE TRIGGER artifacts_fts_u AFTER UPDATE OF removed ON artifacts BEGIN"
    " INSERT OR REPLACE INTO fts_pending VALUES"
    "  (new.rowid * 8 + 4, CASE WHEN new.removed THEN NULL ELSE new.value END, 1);"
    " END;"
    /* Index what a version-1 workspace already holds. */
    "INSERT INTO fts(rowid, body) SELECT rowid * 8 + 1, title || ' ' || description FROM cases;"
    "INSERT INTO fts(rowid, body) SELECT rowid * 8 + 2, body FROM notes;"
    "INSERT INTO fts(rowid, body) SELECT rowid * 8 + 3, title || ' ' || rule FROM alerts;"
    "INSERT INTO fts(rowid, body) SELECT rowid * 8 + 4, value FROM artifacts WHERE removed = 0;",

    /* 3: what each alert is about, as correlation keys ("hostname:web-01",
     * "ip:203.0.113.7"; see entity.h), so that import can find the inbox alerts that
     * share a host, user or indicator within a time window without reading every
     * alert's entities. Written by the door with each new alert; alert is the
     * alert's rowid (stable when a repeat folds into it). */
    "CREATE TABLE alert_keys(key TEXT NOT NULL, t INTEGER NOT NULL, alert INTEGER NOT NULL);"
    "CREATE INDEX alert_keys_key ON alert_keys(key, t);"
    "WITH k(name, type) AS (VALUES ('host','hostname'),('hostname','hostname'),('user','user'),"
    "  ('ip','ip'),('src_ip','ip'),('dest_ip','ip'),('domain','domain'),('url','url'),"
    "  ('email','email'),('sender','email'),('recipient','email'),('md5','md5'),"
    "  ('sha1','sha1'),('sha256','sha256'),('sha512','sha512'))"
    " INSERT INTO alert_keys SELECT k.type || ':' || lower(trim(e.value)), a.event_time, a.rowid"
    " FROM alerts a, json_each(a.entities) e JOIN k ON k.name = e.key"
    " WHERE e.type = 'text' AND trim(e.value) != '';"
    /* Search also finds the timeline entries analysts write themselves (kind 5);
     * the rest of the timeline is generated from ops and found through what they
     * changed. */
    "CREATE TRIGGER events_fts_i AFTER INSERT ON events WHEN new.kind IN ('manual', 'copilot')"
    " BEGIN INSERT OR REPLACE INTO fts_pending VALUES (new.rowid * 8 + 5, new.summary, 0); END;"
    "INSERT INTO fts(rowid, body) SELECT rowid * 8 + 5, summary FROM events"
    " WHERE kind IN ('manual', 'copilot');",
    /* 4: playbooks. A task applied from a playbook may be mandatory (progress counts
     * the mandatory tasks left), and a workspace copy keeps its severity hint. */
    "ALTER TABLE tasks ADD COLUMN mandatory INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE playbooks ADD COLUMN severity_hint TEXT NOT NULL DEFAULT '';",
    /* 5: the copilot ledger read by session, and proposals and decisions found by
     * id (their state lives in the ledger), without scanning every prompt kept. */
    "CREATE INDEX ledger_session ON ledger(session_id, seq);"
    "CREATE INDEX ledger_proposal ON ledger(json_extract(content, '$.id'))"
    " WHERE kind = 'proposal';"
    "CREATE INDEX ledger_decision ON ledger(json_extract(content, '$.proposal'))"
    " WHERE kind = 'decision';",
    /* 6: general copilot sessions, about the open queue rather than one case: their
     * ledger entries belong to no case (case_id NULL; never '', so that "no case"
     * has one spelling and the hash chain, which reads NULL as "", cannot be fooled
     * by swapping one for the other). SQLite cannot drop a NOT NULL, so the table is
     * rebuilt: the old one is renamed away, the new one keeps every row, id and
     * hash as they were (the chain stays intact), and the indexes of steps 1 and 5
     * are made again on it. */
    "ALTER TABLE ledger RENAME TO ledger_v5;"
    "CREATE TABLE ledger("
    " id INTEGER PRIMARY KEY, case_id TEXT REFERENCES cases(id)"
    "  CHECK(case_id IS NULL OR case_id <> ''),"
    " session_id TEXT NOT NULL, user TEXT NOT NULL, seq INTEGER NOT NULL,"
    " kind TEXT NOT NULL CHECK(kind IN ('prompt','response','proposal','decision','error')),"
    " model TEXT NOT NULL DEFAULT '', content TEXT NOT NULL, created_at INTEGER NOT NULL,"
    " prev_hash BLOB NOT NULL, hash BLOB NOT NULL, UNIQUE(session_id, seq));"
    "INSERT INTO ledger(id, case_id, session_id, user, seq, kind, model, content, created_at,"
    " prev_hash, hash) SELECT id, case_id, session_id, user, seq, kind, model, content,"
    " created_at, prev_hash, hash FROM ledger_v5;"
    "DROP TABLE ledger_v5;"
    "CREATE INDEX ledger_case ON ledger(case_id, session_id, seq);"
    "CREATE INDEX ledger_session ON ledger(session_id, seq);"
    "CREATE INDEX ledger_proposal ON ledger(json_extract(content, '$.id'))"
    " WHERE kind = 'proposal';"
    "CREATE INDEX ledger_decision ON ledger(json_extract(content, '$.proposal'))"
    " WHERE kind = 'decision';",
    /* 7: the open cases that hold a value (import's correlation asks for every
     * host, user and indicator of every alert) read from the index alone: it
     * carries the presence flag and the case after (type, value), which still
     * lead it for every other use. */
    "DROP INDEX artifacts_value;"
    "CREATE INDEX artifacts_value ON artifacts(type, value, removed, case_id);",
    /* 8: the alerts naming a value (search's value terms, the graph, import's
     * correlation) read from the key index alone: it carries the alert after
     * (key, t). */
    "DROP INDEX alert_keys_key;"
    "CREATE INDEX alert_keys_key ON alert_keys(key, t, alert);",
    /* 9: the write door stages what search indexes itself, in a temporary table of
     * its connection (apply.c, fts_stage): a statement that fires a trigger keeps a
     * statement journal, and for an import those journals cost more than the rows.
     * The triggers go, and fts_pending with them (empty outside a transaction; what
     * it might hold is indexed first). The correlation keys become the index they
     * were read through (one b-tree per key, not a row and an index entry); an alert
     * that names the same value twice keeps one key. */
    "DELETE FROM fts WHERE rowid IN (SELECT key FROM fts_pending WHERE stale);"
    "INSERT INTO fts(rowid, body) SELECT key, body FROM fts_pending WHERE body IS NOT NULL;"
    "DROP TRIGGER cases_fts_i; DROP TRIGGER cases_fts_u; DROP TRIGGER notes_fts_i;"
    "DROP TRIGGER alerts_fts_i; DROP TRIGGER artifacts_fts_i; DROP TRIGGER artifacts_fts_u;"
    "DROP TRIGGER events_fts_i;"
    "DROP TABLE fts_pending;"
    "CREATE TABLE alert_keys_v9(key TEXT NOT NULL, t INTEGER NOT NULL, alert INTEGER NOT NULL,"
    " PRIMARY KEY(key, t, alert)) WITHOUT ROWID;"
    "INSERT OR IGNORE INTO alert_keys_v9 SELECT key, t, alert FROM alert_keys;"
    "DROP TABLE alert_keys;"
    "ALTER TABLE alert_keys_v9 RENAME TO alert_keys;",
    /* 10: the dashboard's windows (closed per day, time to close, time to
     * acknowledge) read the cases that moved in the window from an index, not
     * every case ever made; partial, so a case not yet acknowledged or closed
     * costs nothing. */
    "CREATE INDEX cases_closed ON cases(closed_at, created_at) WHERE closed_at IS NOT NULL;"
    "CREATE INDEX cases_acked ON cases(acknowledged_at, created_at)"
    " WHERE acknowledged_at IS NOT NULL;",
    /* 11: each alert's raw event is kept once, in the op that brought it: raw_op is
     * that op's seq and raw_at its place among an alert.import's alerts (NULL for
     * an alert.add); raw stays for an alert whose op does not carry the same event
     * (none is known, but nothing is dropped on a guess). Then op payloads are
     * compressed (step_11 below; oplog.c says how they are stored). */
    "ALTER TABLE alerts ADD COLUMN raw_op INTEGER;"
    "ALTER TABLE alerts ADD COLUMN raw_at INTEGER;"
    /* and the "alert linked" row of a case's timeline is derived from the alert:
     * when and by whom an alert.set linked it (the events rows that older links
     * left stay as they are) */
    "ALTER TABLE alerts ADD COLUMN linked_at INTEGER;"
    "ALTER TABLE alerts ADD COLUMN linked_by TEXT;"
    /* The same alert (source, source_ref) made apart on two replicas is one row
     * named by the smaller id; the other id still names it for the ops that use
     * it. Its field clocks are kept under its (source, source_ref), which every
     * replica agrees on whichever id it met first. */
    "CREATE TABLE alert_ids(id TEXT PRIMARY KEY, alert INTEGER NOT NULL) WITHOUT ROWID;"
    "UPDATE clocks SET entity = (SELECT 'alert:' || a.source || char(31) || a.source_ref"
    " FROM alerts a WHERE a.id = clocks.entity)"
    " WHERE entity IN (SELECT id FROM alerts WHERE source_ref IS NOT NULL);"
    "UPDATE alerts SET raw_op = m.seq, raw = '' FROM"
    " (SELECT target, min(seq) AS seq FROM ops WHERE kind = 'alert.add' GROUP BY target) AS m"
    " WHERE alerts.id = m.target AND json_valid(alerts.raw) AND json(alerts.raw) ="
    "  (SELECT coalesce(json_extract(payload, '$.raw'), '{}') FROM ops WHERE seq = m.seq);",
    /* 12: the copilot ledger travels in the op log: each entry is a ledger.add op that
     * the door applies, and the table is their projection, chained per session
     * (ledger.c). The entries already here were chained over the whole ledger and
     * keep their hashes; legacy_chain says which rule an entry follows: the replica
     * whose whole-ledger chain it was written in, or NULL for the per-session chain
     * of the entries the door writes. SQL knows neither the replica nor how to make
     * an op, so the step marks what it finds with '' and ledger_into_ops (ledger.c),
     * which vg_ws_open runs in the migration's transaction, names the replica and
     * gives each entry its op. The indexes of steps 5 and 6 stay as they are. */
    "ALTER TABLE ledger ADD COLUMN legacy_chain TEXT;"
    "UPDATE ledger SET legacy_chain = '';",
    /* 13: the op log's head (its newest op's seq and hash) kept beside it, written
     * by every commit that adds ops, so that ops removed from the end show
     * (oplog.c); and the proposals the door has applied, each named by the op that
     * applied it: a decision entry of the ledger, or an op written for a proposal
     * (its payload's "proposal"), so that removing the ledger's tail cannot make an
     * applied proposal look new. vg_ws_open's migration writes the head after the
     * ops that ledger_into_ops adds. */
    "CREATE TABLE proposals_applied(proposal TEXT PRIMARY KEY, op TEXT NOT NULL) WITHOUT ROWID;"
    "INSERT OR IGNORE INTO proposals_applied"
    " SELECT json_extract(content, '$.proposal'), coalesce(json_extract(content, '$.op'), '')"
    " FROM ledger WHERE kind = 'decision' AND json_extract(content, '$.state') = 'applied'"
    " AND json_extract(content, '$.proposal') IS NOT NULL;",
    /* 14: an alert counts its distinct records: rec is the identity of the record
     * its row's raw event is (a digest of its bytes, apply.c's ws_rec), alert_recs
     * those of the other records counted into it, so that a record seen again (the
     * same file imported twice, or on two replicas) folds in without counting. An
     * alert already here gets its rec when a repeat first meets it (the door
     * works it out from its raw event), not here for every alert of a large
     * workspace. */
    "ALTER TABLE alerts ADD COLUMN rec INTEGER;"
    "CREATE TABLE alert_recs(alert INTEGER NOT NULL, rec INTEGER NOT NULL,"
    " PRIMARY KEY(alert, rec)) WITHOUT ROWID;",
    /* 15: task logs (TheHive's): each entry is a task.log op, its id the entry's id,
     * and this table their projection, read per task in the order they were
     * written (created_at, the op's clock; id breaks ties the same on every
     * replica). case_id is the task's case, kept for the case's reads. */
    "CREATE TABLE task_logs(id TEXT PRIMARY KEY, task_id TEXT NOT NULL REFERENCES tasks(id),"
    " case_id TEXT NOT NULL REFERENCES cases(id), author TEXT NOT NULL, body TEXT NOT NULL,"
    " created_at INTEGER NOT NULL);"
    "CREATE INDEX task_logs_case ON task_logs(case_id, task_id, created_at, id);",
    /* 16: merged cases (op.h: case.merge). case_merges holds every merge op applied,
     * the set the door works out where a merged case's rows live from, whatever order
     * the ops came in; cases.merged_into is that answer for a merged case (the case
     * its rows are on now, NULL for a case that is not merged), what the door
     * redirects a write for a merged case to and what a ref resolves to. A ledger
     * entry moved to another case keeps the case its hash covers in hashed_case
     * (NULL: the one it is on). */
    "ALTER TABLE cases ADD COLUMN merged_into TEXT;"
    "CREATE INDEX cases_merged ON cases(merged_into) WHERE merged_into IS NOT NULL;"
    "CREATE TABLE case_merges(op TEXT PRIMARY KEY, source TEXT NOT NULL,"
    " into_case TEXT NOT NULL, hlc INTEGER NOT NULL, origin TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX case_merges_source ON case_merges(source);"
    "ALTER TABLE ledger ADD COLUMN hashed_case TEXT;",
    /* 17: custom fields (vigil/fields.h). field_defs is one last-writer-wins register
     * per name (field.define, field.remove: a removal blanks the row and marks it, so
     * the row is the same whichever order the ops arrive in); case_fields holds each
     * case's values as text in their type's canonical form, one LWW register per
     * (case, name) whose clock is "field.NAME" in clocks. Values stay when their
     * definition is removed (they show again if it is defined again). The index
     * serves the queue's field.NAME terms. */
    "CREATE TABLE field_defs(name TEXT PRIMARY KEY, type TEXT NOT NULL,"
    " enum_values TEXT NOT NULL DEFAULT '[]', required INTEGER NOT NULL DEFAULT 0,"
    " default_value TEXT, description TEXT NOT NULL DEFAULT '',"
    " removed INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
    "CREATE TABLE case_fields(case_id TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,"
    " PRIMARY KEY(case_id, name)) WITHOUT ROWID;"
    "CREATE INDEX case_fields_by_name ON case_fields(name, value);",
    /* 18: the evidence register (evidence.add ops: vigil/evidence.h) and each item's
     * chain of custody (its add and every evidence.custody op: access, export,
     * transfer, verify). path is a ref-only item's file; NULL: a stored copy, kept
     * beside the workspace by its SHA-256. */
    "CREATE TABLE evidence("
    " id TEXT PRIMARY KEY, case_id TEXT NOT NULL REFERENCES cases(id),"
    " sha256 TEXT NOT NULL, sha1 TEXT NOT NULL, md5 TEXT NOT NULL, size INTEGER NOT NULL,"
    " type TEXT NOT NULL, name TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',"
    " path TEXT, added_by TEXT NOT NULL, added_at INTEGER NOT NULL);"
    "CREATE INDEX evidence_case ON evidence(case_id, added_at);"
    "CREATE INDEX evidence_sha256 ON evidence(sha256);"
    "CREATE TABLE custody("
    " id TEXT PRIMARY KEY, evidence TEXT NOT NULL REFERENCES evidence(id),"
    " action TEXT NOT NULL CHECK(action IN ('add','access','export','transfer','verify')),"
    " actor TEXT NOT NULL, at INTEGER NOT NULL, sha256 TEXT NOT NULL DEFAULT '',"
    " result TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX custody_evidence ON custody(evidence, at);",
    /* 19: the open cases that hold a value read from the index alone again: since
     * correlation counts a value an alert brought only within the window of its
     * sightings there, the index carries the artifact's source and seen window
     * after the case (step 7's index sent every lookup to the table, a random read
     * per case holding the value, slow on a workspace larger than its cache). */
    "DROP INDEX artifacts_value;"
    "CREATE INDEX artifacts_value ON artifacts(type, value, removed, case_id, source,"
    " first_seen, last_seen);",
    /* 20: why an alert was dismissed (the analyst's words, from the alert.set that
     * dismissed it; '' for none, and for an alert not dismissed) */
    "ALTER TABLE alerts ADD COLUMN dismissed_reason TEXT NOT NULL DEFAULT '';",
};

static void (*progress)(const char *what, int64_t done, int64_t total);

void vg_ws_on_progress(void (*fn)(const char *what, int64_t done, int64_t total))
{
    progress = fn;
}

/* Step 11 in C: every payload that compresses is stored compressed (its hash,
 * over the text, is unchanged). */
static vg_rc step_11(sqlite3 *db, vg_err *err)
{
    vg_ws tmp = {.db = db};
    sqlite3_stmt *q = NULL, *u = NULL;
    int64_t total = 0, done = 0;
    vg_rc rc = VG_OK;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM ops", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        total = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    q = NULL;
    if (sqlite3_prepare_v2(db, "SELECT seq, payload FROM ops WHERE typeof(payload) = 'text'", -1,
                           &q, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "UPDATE ops SET payload = ?2 WHERE seq = ?1", -1, &u, NULL) !=
            SQLITE_OK)
        rc = vg_fail(err, VG_EDB, "compressing the op log: %s", sqlite3_errmsg(db));
    vg_buf_init(&tmp.pack, 1u << 30);
    int s;
    while (rc == VG_OK && (s = sqlite3_step(q)) == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(q, 1);
        size_t len = (size_t)sqlite3_column_bytes(q, 1);
        if (++done % 10000 == 0 && progress)
            progress("compressing the op log", done, total);
        if (!text || !oplog_pack(&tmp, text, len, &tmp.pack))
            continue;
        sqlite3_bind_int64(u, 1, sqlite3_column_int64(q, 0));
        sqlite3_bind_blob(u, 2, tmp.pack.data, (int)tmp.pack.len, SQLITE_STATIC);
        if (sqlite3_step(u) != SQLITE_DONE)
            rc = vg_fail(err, VG_EDB, "compressing the op log: %s", sqlite3_errmsg(db));
        sqlite3_reset(u);
    }
    if (progress && total >= 10000)
        progress("compressing the op log", total, total);
    sqlite3_finalize(q);
    sqlite3_finalize(u);
    vg_buf_free(&tmp.pack);
    ZSTD_freeCCtx(tmp.zc);
    return rc;
}

/* What a step does that SQL cannot, run after its SQL in the same transaction. */
static vg_rc (*const fixups[VG_SCHEMA_VERSION])(sqlite3 *db, vg_err *err) = {
    [10] = step_11,
};

vg_rc ws_migrate_to(sqlite3 *db, int target, vg_err *err)
{
    sqlite3_stmt *st = NULL;
    int version = 0;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return vg_fail(err, VG_EDB, "reading schema version: %s", sqlite3_errmsg(db));
    if (sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version >= target)
        return VG_OK;

    char *msg = NULL;
    /* vg_ws_open holds a transaction of its own around the steps and what follows
     * them in C (ledger_into_ops); tests call this alone. */
    bool own = sqlite3_get_autocommit(db) != 0;
    if (own && sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK)
        goto fail;
    for (int v = version; v < target; v++) {
        char pragma[64];
        if (sqlite3_exec(db, vg_schema_steps[v], NULL, NULL, &msg) != SQLITE_OK)
            goto fail;
        if (fixups[v] && fixups[v](db, err) != VG_OK) {
            if (own)
                sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return VG_EDB;
        }
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v + 1);
        if (sqlite3_exec(db, pragma, NULL, NULL, &msg) != SQLITE_OK)
            goto fail;
    }
    if (own && sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK)
        goto fail;
    return VG_OK;
fail:
    vg_fail(err, VG_EDB, "migrating schema from version %d: %s", version,
            msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    if (own)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return VG_EDB;
}
