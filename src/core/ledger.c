/*
 * ledger.c — the investigation ledger (contract in vigil/ledger.h).
 *
 * One chain over the whole table in id order, as the op log has one chain in seq
 * order: deleting a whole session breaks it as surely as editing one entry. An
 * append reads the head and writes the new row inside one IMMEDIATE transaction (or
 * the caller's batch), so two writers cannot fork the chain. Sessions are checked
 * on every append and every read by (session, case, user); a session id is a
 * capability nobody else may use, even knowing it.
 */
#include "internal.h"
#include "oplog.h"
#include "vigil/ledger.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[] = {"prompt", "response", "proposal", "decision", "error"};
const vg_enum VG_LEDGER_KIND = {"kind", kind_names, 5};

static void put_str(crypto_generichash_state *h, const char *s)
{
    crypto_generichash_update(h, (const unsigned char *)s, strlen(s) + 1);
}

static void put_i64(crypto_generichash_state *h, int64_t v)
{
    unsigned char be[8];
    for (int i = 0; i < 8; i++)
        be[i] = (unsigned char)((uint64_t)v >> (56 - 8 * i));
    crypto_generichash_update(h, be, sizeof be);
}

static void entry_hash(const unsigned char prev[32], const char *case_id, const char *session,
                       const char *user, int64_t seq, const char *kind, const char *model,
                       const char *content, int64_t created_at, unsigned char out[32])
{
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 32);
    crypto_generichash_update(&h, prev, 32);
    put_str(&h, case_id);
    put_str(&h, session);
    put_str(&h, user);
    put_i64(&h, seq);
    put_str(&h, kind);
    put_str(&h, model);
    put_str(&h, content);
    put_i64(&h, created_at);
    crypto_generichash_final(&h, out, 32);
}

static vg_rc prep(vg_ws *ws, const char *sql, sqlite3_stmt **st, vg_err *err)
{
    if (sqlite3_prepare_v2(ws->db, sql, -1, st, NULL) != SQLITE_OK)
        return ws_dberr(ws, err, "reading the ledger");
    return VG_OK;
}

/* The scope a session is on, for a message. */
static const char *scope_name(const char *case_id)
{
    return case_id ? "a case" : "the general pane";
}

vg_rc vg_ledger_session_check(vg_ws *ws, const char *case_id, const char *session_id,
                              const char *user, vg_err *err)
{
    sqlite3_stmt *st = NULL;
    vg_rc rc = prep(ws, "SELECT case_id, user FROM ledger WHERE session_id = ? LIMIT 1", &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, session_id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *c = (const char *)sqlite3_column_text(st, 0);
        const char *u = (const char *)sqlite3_column_text(st, 1);
        if (!u || strcmp(u, user) != 0)
            rc = vg_fail(err, VG_EINVAL, "session %.26s belongs to another user", session_id);
        else if (!c != !case_id)
            rc = vg_fail(err, VG_EINVAL, "session %.26s belongs to %s", session_id,
                         scope_name(c));
        else if (c && strcmp(c, case_id) != 0)
            rc = vg_fail(err, VG_EINVAL, "session %.26s belongs to another case", session_id);
    }
    sqlite3_finalize(st);
    return rc;
}

static vg_rc append_in_tx(vg_ws *ws, const char *case_id, const char *session_id,
                          const char *user, int kind, const char *model, const char *content,
                          int64_t *seq_out, vg_err *err)
{
    vg_rc rc = vg_ledger_session_check(ws, case_id, session_id, user, err);
    if (rc)
        return rc;
    unsigned char prev[32] = {0}, hash[32];
    int64_t seq = 1;
    sqlite3_stmt *st = NULL;
    if ((rc = prep(ws, "SELECT hash FROM ledger ORDER BY id DESC LIMIT 1", &st, err)))
        return rc;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32)
        memcpy(prev, sqlite3_column_blob(st, 0), 32);
    sqlite3_finalize(st);
    if ((rc = prep(ws, "SELECT coalesce(max(seq), 0) + 1 FROM ledger WHERE session_id = ?", &st,
                   err)))
        return rc;
    sqlite3_bind_text(st, 1, session_id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        seq = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);

    int64_t now = vg_now_ms();
    const char *kname = vg_enum_name(&VG_LEDGER_KIND, kind);
    /* no case hashes as "", as vg_ledger_verify reads a NULL */
    entry_hash(prev, case_id ? case_id : "", session_id, user, seq, kname, model, content, now,
               hash);
    if (sqlite3_prepare_v2(ws->db,
                           "INSERT INTO ledger(case_id, session_id, user, seq, kind, model,"
                           " content, created_at, prev_hash, hash)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           -1, &st, NULL) != SQLITE_OK)
        return ws_dberr(ws, err, "appending to the ledger");
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, session_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, user, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, seq);
    sqlite3_bind_text(st, 5, kname, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, model, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, content, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, now);
    sqlite3_bind_blob(st, 9, prev, 32, SQLITE_STATIC);
    sqlite3_bind_blob(st, 10, hash, 32, SQLITE_STATIC);
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    if (step != SQLITE_DONE)
        return ws_dberr(ws, err, "appending to the ledger");
    if (seq_out)
        *seq_out = seq;
    return VG_OK;
}

vg_rc vg_ledger_append(vg_ws *ws, const char *case_id, const char *session_id, const char *user,
                       int kind, const char *model, const char *content, int64_t *seq_out,
                       vg_err *err)
{
    if (kind < 0 || kind >= VG_LEDGER_KIND.n)
        return vg_fail(err, VG_EINVAL, "ledger: no entry kind %d", kind);
    if (!vg_ulid_valid(session_id))
        return vg_fail(err, VG_EINVAL, "ledger: '%.40s' is not a session id", session_id);
    if (case_id && !*case_id)
        return vg_fail(err, VG_EINVAL, "ledger: no case is NULL, not \"\"");
    if (!model)
        model = "";
    if (ws->in_batch)
        return append_in_tx(ws, case_id, session_id, user, kind, model, content, seq_out, err);
    vg_rc rc = ws_exec(ws, "BEGIN IMMEDIATE", err);
    if (rc)
        return rc;
    rc = append_in_tx(ws, case_id, session_id, user, kind, model, content, seq_out, err);
    if (rc == VG_OK)
        rc = ws_exec(ws, "COMMIT", err);
    if (rc)
        sqlite3_exec(ws->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

#define ENTRY_COLS "id, case_id, session_id, user, seq, kind, model, content, created_at, hash"

static void read_entry(sqlite3_stmt *st, vg_ledger_entry *e)
{
    memset(e, 0, sizeof *e);
    e->id = sqlite3_column_int64(st, 0);
    col_id(st, 1, e->case_id);
    col_id(st, 2, e->session_id);
    e->user = col_dup(st, 3);
    e->seq = sqlite3_column_int64(st, 4);
    e->kind = vg_enum_parse(&VG_LEDGER_KIND, (const char *)sqlite3_column_text(st, 5));
    e->model = col_dup(st, 6);
    e->content = col_dup(st, 7);
    e->created_at = sqlite3_column_int64(st, 8);
    if (sqlite3_column_bytes(st, 9) == 32)
        sodium_bin2hex(e->hash, sizeof e->hash, sqlite3_column_blob(st, 9), 32);
}

vg_rc vg_ledger_list(vg_ws *ws, const char *case_id, const char *user, const char *session_id,
                     vg_ledger_entry **items, size_t *n, vg_err *err)
{
    *items = NULL;
    *n = 0;
    sqlite3_stmt *st = NULL;
    vg_rc rc;
    if (session_id) {
        if ((rc = vg_ledger_session_check(ws, case_id, session_id, user, err)))
            return rc;
    }
    /* IS: a NULL case_id finds the general sessions, through the same index */
    if ((rc = prep(ws, "SELECT " ENTRY_COLS " FROM ledger WHERE case_id IS ?1 AND user = ?2"
                       " AND (?3 IS NULL OR session_id = ?3) ORDER BY id", &st, err)))
        return rc;
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
    if (session_id)
        sqlite3_bind_text(st, 3, session_id, -1, SQLITE_STATIC);
    size_t cap = 0;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *items = vg_xrealloc(*items, cap * sizeof **items);
        }
        read_entry(st, &(*items)[(*n)++]);
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE) {
        vg_ledger_free(*items, *n);
        *items = NULL;
        *n = 0;
        return ws_dberr(ws, err, "reading the ledger");
    }
    if (session_id && *n == 0)
        return vg_fail(err, VG_ENOTFOUND, "no session %.26s %s", session_id,
                       case_id ? "on this case" : "in the general pane");
    return VG_OK;
}

vg_rc vg_ledger_find(vg_ws *ws, int kind, const char *id, vg_ledger_entry *out, vg_err *err)
{
    /* The expressions and conditions are those of the partial indexes of schema
     * step 3, word for word, so that SQLite uses them. */
    static const char proposal[] = "SELECT " ENTRY_COLS " FROM ledger WHERE kind = 'proposal'"
                                   " AND json_extract(content, '$.id') = ?1"
                                   " ORDER BY id DESC LIMIT 1";
    static const char decision[] = "SELECT " ENTRY_COLS " FROM ledger WHERE kind = 'decision'"
                                   " AND json_extract(content, '$.proposal') = ?1"
                                   " ORDER BY id DESC LIMIT 1";
    if (kind != VG_LEDGER_PROPOSAL && kind != VG_LEDGER_DECISION)
        return vg_fail(err, VG_EINVAL, "ledger: only proposals and decisions are found by id");
    sqlite3_stmt *st = NULL;
    vg_rc rc = prep(ws, kind == VG_LEDGER_PROPOSAL ? proposal : decision, &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        read_entry(st, out);
    sqlite3_finalize(st);
    if (step == SQLITE_ROW)
        return VG_OK;
    if (step != SQLITE_DONE)
        return ws_dberr(ws, err, "reading the ledger");
    return vg_fail(err, VG_ENOTFOUND, "no %s for %.64s in the ledger",
                   vg_enum_name(&VG_LEDGER_KIND, kind), id);
}

vg_rc vg_ledger_verify(vg_ws *ws, int64_t *count, int64_t *bad_id, vg_err *err)
{
    sqlite3_stmt *st = NULL;
    unsigned char prev[32] = {0}, hash[32];
    *count = 0;
    *bad_id = 0;
    vg_rc rc = prep(ws, "SELECT id, case_id, session_id, user, seq, kind, model, content,"
                        " created_at, prev_hash, hash FROM ledger ORDER BY id", &st, err);
    if (rc)
        return rc;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *f[7];
        for (int i = 0; i < 7; i++) {
            const unsigned char *s = sqlite3_column_text(st, i + 1);
            f[i] = s ? (const char *)s : "";
        }
        /* f: case, session, user, (seq as text, unused), kind, model, content */
        int64_t id = sqlite3_column_int64(st, 0);
        entry_hash(prev, f[0], f[1], f[2], sqlite3_column_int64(st, 4), f[4], f[5], f[6],
                   sqlite3_column_int64(st, 8), hash);
        char why[64];
        if (chain_check(st, 9, 10, prev, hash, "entry", why, sizeof why)) {
            *bad_id = id;
            vg_fail(err, VG_ECORRUPT, "ledger broken at entry %lld (session %.26s): %s",
                    (long long)id, f[1], why);
            sqlite3_finalize(st);
            return VG_ECORRUPT;
        }
        memcpy(prev, hash, 32);
        ++*count;
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE)
        return ws_dberr(ws, err, "reading the ledger");
    return VG_OK;
}

void vg_ledger_clear(vg_ledger_entry *e)
{
    if (!e)
        return;
    free(e->user);
    free(e->model);
    free(e->content);
    e->user = e->model = e->content = NULL;
}

void vg_ledger_free(vg_ledger_entry *e, size_t n)
{
    for (size_t i = 0; e && i < n; i++)
        vg_ledger_clear(&e[i]);
    free(e);
}
