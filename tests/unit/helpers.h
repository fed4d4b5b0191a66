/*
 * helpers.h — what the unit tests share: cmocka, a temporary directory per test
 * and workspaces in it, and small assertions over the SQLite file.
 */
#ifndef VIGIL_TEST_HELPERS_H
#define VIGIL_TEST_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "vigil/op.h"
#include "vigil/query.h"
#include "vigil/ws.h"

/* A fresh directory under $TMPDIR; removed with everything in it by rm_tree. */
static inline char *tmp_dir(void)
{
    const char *base = getenv("TMPDIR");
    char *t = malloc(4096);
    snprintf(t, 4096, "%s/vigil-test-XXXXXX", base && *base ? base : "/tmp");
    assert_non_null(mkdtemp(t));
    return t;
}

static inline void rm_tree(char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(dir);
}

static inline char *path_in(const char *dir, const char *name)
{
    char *p = malloc(4096);
    snprintf(p, 4096, "%s/%s", dir, name);
    return p;
}

static inline vg_ws *open_ws(const char *path, const char *actor)
{
    vg_ws *ws = NULL;
    vg_err err = {0};
    vg_rc rc = vg_ws_open(path, VG_OPEN_CREATE, &ws, &err);
    if (rc != VG_OK)
        fail_msg("open %s: %s", path, err.msg);
    vg_ws_set_actor(ws, actor);
    return ws;
}

/* Apply an op that must succeed; returns its seq and frees it. */
static inline int64_t must_apply(vg_ws *ws, vg_op *op)
{
    vg_err err = {0};
    if (vg_apply(ws, op, &err) != VG_OK)
        fail_msg("%s: %s", op->kind, err.msg);
    int64_t seq = op->seq;
    vg_op_free(op);
    return seq;
}

/* Apply an op that must fail with rc; returns the message in msg (static). */
static inline const char *must_fail(vg_ws *ws, vg_op *op, vg_rc want)
{
    static vg_err err;
    memset(&err, 0, sizeof err);
    vg_rc rc = vg_apply(ws, op, &err);
    vg_op_free(op);
    if (rc != want)
        fail_msg("wanted rc %d, got %d (%s)", want, rc, err.msg);
    return err.msg;
}

/* One integer from SQL on the workspace's own connection. */
static inline int64_t sql_int(vg_ws *ws, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(ws->db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(ws->db));
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return v;
}

/* Create a case; returns its id in out. */
static inline void new_case(vg_ws *ws, const char *title, const char *sev, vg_id out)
{
    vg_op *op = vg_op_case_create(title, sev, NULL);
    memcpy(out, op->target, sizeof(vg_id));
    must_apply(ws, op);
}

/* A stamped op built by hand, as sync delivers them. */
static inline vg_op *stamped(const char *kind, const char *target, uint64_t hlc, const char *origin,
                      const char *json)
{
    vg_op *op = vg_op_new(kind, target);
    cJSON_Delete(op->payload);
    op->payload = cJSON_Parse(json);
    op->hlc = hlc;
    vg_ulid((int64_t)(hlc >> 16), op->id);
    memcpy(op->origin, origin, 27);
    op->actor = strdup("sync");
    return op;
}

/* One text from SQL on the workspace's own connection ("" for none); the caller
 * frees it. */
static inline char *sql_text(vg_ws *ws, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(ws->db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(ws->db));
    const unsigned char *t = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
    char *s = strdup(t ? (const char *)t : "");
    sqlite3_finalize(st);
    return s;
}

/* xorshift64: a test's own repeatable stream of random numbers. */
static inline uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Apply the ops of from's log to to, stamped, as sync would send them from the
 * ops table; order is the SQL that follows "FROM ops" (which ops, in what order). */
static inline void copy_ops(vg_ws *from, vg_ws *to, const char *order)
{
    char sql[512];
    sqlite3_stmt *st = NULL;
    snprintf(sql, sizeof sql, "SELECT id, hlc, origin, actor, tenant, kind, target,"
                              " vg_payload(payload) FROM ops %s", order);
    if (sqlite3_prepare_v2(from->db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(from->db));
    while (sqlite3_step(st) == SQLITE_ROW) {
        vg_op *op = vg_op_new((const char *)sqlite3_column_text(st, 5),
                              (const char *)sqlite3_column_text(st, 6));
        cJSON_Delete(op->payload);
        op->payload = cJSON_Parse((const char *)sqlite3_column_text(st, 7));
        op->text = strdup((const char *)sqlite3_column_text(st, 7)); /* the author's bytes */
        op->hlc = (uint64_t)sqlite3_column_int64(st, 1);
        col_id(st, 0, op->id);
        col_id(st, 2, op->origin);
        op->actor = strdup((const char *)sqlite3_column_text(st, 3));
        op->tenant = strdup((const char *)sqlite3_column_text(st, 4));
        must_apply(to, op);
    }
    sqlite3_finalize(st);
}

/* Every ledger row but its local id, in (session, seq) order, hashes in hex. */
#define LEDGER_ROWS                                                                         \
    "SELECT group_concat(r, char(10)) FROM (SELECT coalesce(case_id, '-') || '|' ||"         \
    " session_id || '|' || user || '|' || seq || '|' || kind || '|' || model || '|' ||"     \
    " content || '|' || created_at || '|' || hex(prev_hash) || '|' || hex(hash) || '|' ||"  \
    " coalesce(legacy_chain, '-') r FROM ledger ORDER BY session_id, seq)"

/* A fixture: a workspace in a fresh directory, opened as alice. */
typedef struct fx {
    char *dir, *path;
    vg_ws *ws;
    vg_id case_id;
} fx;

static inline fx *fx_new(void)
{
    fx *f = calloc(1, sizeof *f);
    f->dir = tmp_dir();
    f->path = path_in(f->dir, "ws.db");
    f->ws = open_ws(f->path, "alice");
    return f;
}

/* A column of the fixture's case as text ("" for NULL); the caller frees it. */
static inline char *case_str(fx *f, const char *col)
{
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT coalesce(%s, '') FROM cases WHERE id = ?", col);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(f->ws->db, sql, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, f->case_id, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    char *s = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return s;
}

static inline int fx_teardown(void **state)
{
    fx *f = *state;
    vg_ws_close(f->ws);
    free(f->path);
    rm_tree(f->dir);
    free(f);
    return 0;
}

#endif
