/*
 * sync.c — the routes of sync and ingest: ref leases, push, pull (a long-poll) and
 * alerts posted by sensors. The protocol is vigild(8)'s "SYNC PROTOCOL"; what a
 * handler is promised before it runs is http.h's.
 *
 * Every handler works on the tenant the token names, through store_with_tenant,
 * and writes only through the one door: a pushed message is received whole in one
 * batch (vg_ops_receive), checked op by op against who pushes it, and checked
 * again as a whole (every case it made has a ref leased to the pusher) before it
 * commits. An ingest is `vigil import`'s path (imp_mem) in one transaction, its
 * idempotency record committed with what it stored.
 */
#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "import.h"
#include "routes.h"
#include "vigil/json.h"
#include "vigil/ledger.h"
#include "vigil/op.h"
#include "vigil/query.h"
#include "vigil/sync.h"

#define PULL_MAX_DEFAULT (1u << 20)
#define PULL_MAX_LIMIT (8u << 20)
#define PULL_WAIT_MAX 30        /* seconds a pull may be parked */
#define SERVER_REF_RESERVE 100  /* refs vigild keeps leased to its own workspace */
#define IDEM_KEY_MAX STORE_IDEM_KEY_MAX
/* A restore seen (a replica's cursor past this log): new leases start this many
 * refs on, and for a week refs no lease holds are taken as lost leases'. */
#define RESTORE_REF_MARGIN STORE_RESTORE_MARGIN
#define RESTORE_WINDOW_MS STORE_RESTORE_WINDOW_MS
#define IDEM_TTL_MS ((int64_t)24 * 3600 * 1000) /* a key is remembered a day */

/* The server's trouble is the journal's, not the client's: a 500 says only that. */
static int server_fail(http_req *r, cJSON **out, const vg_err *err, const char *what)
{
    fprintf(stderr, "vigild: tenant %s: %s: %s\n", r->who->tenant.name, what, err->msg);
    return http_error(out, 500, NULL, "the server could not %s", what);
}

/* A whole number from the query, within [lo, hi]; def when absent. */
static bool query_num(http_req *r, const char *name, int64_t lo, int64_t hi, int64_t def,
                      int64_t *v)
{
    const char *s = http_query(r, name);
    *v = def;
    if (!s)
        return true;
    char *end;
    long long n = strtoll(s, &end, 10);
    if (!*s || *end || n < lo || n > hi)
        return false;
    *v = n;
    return true;
}

/* The strict JSON object a small body must be: members only from names. */
static cJSON *body_object(http_req *r, const char *const *names, size_t n, cJSON **out)
{
    if (!vg_json_strict(r->body, r->body_len)) {
        http_error(out, 400, NULL, "the body is not strict JSON (UTF-8, no duplicate keys)");
        return NULL;
    }
    cJSON *j = cJSON_ParseWithLength(r->body, r->body_len);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        http_error(out, 400, NULL, "the body must be a JSON object");
        return NULL;
    }
    for (cJSON *m = j->child; m; m = m->next) {
        for (cJSON *e = j->child; e != m; e = e->next)
            if (strcmp(e->string, m->string) == 0) {
                http_error(out, 400, m->string, "'%s' appears twice", m->string);
                cJSON_Delete(j);
                return NULL;
            }
        size_t i = 0;
        while (i < n && strcmp(names[i], m->string) != 0)
            i++;
        if (i == n) {
            http_error(out, 400, m->string, "unknown member '%s'", m->string);
            cJSON_Delete(j);
            return NULL;
        }
    }
    return j;
}

/* ---- ref leases ----------------------------------------------------------------- */

int route_refs(http_req *r, cJSON **out)
{
    static const char *const names[] = {"want"};
    cJSON *j = body_object(r, names, 1, out);
    if (!j)
        return 400;
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(j, "want");
    double want = cJSON_IsNumber(w) ? w->valuedouble : -1;
    cJSON_Delete(j);
    if (want < 1 || want > STORE_LEASE_MAX || want != (double)(int64_t)want)
        return http_error(out, 400, "want", "want: a whole number of refs from 1 to %d",
                          STORE_LEASE_MAX);
    int64_t lo, hi;
    vg_err err = {0};
    if (store_ref_lease(r->st, r->who->tenant.id, r->who->user, (int64_t)want, &lo, &hi, &err))
        return server_fail(r, out, &err, "lease refs");
    *out = cJSON_CreateObject();
    cJSON_AddNumberToObject(*out, "lo", (double)lo);
    cJSON_AddNumberToObject(*out, "hi", (double)hi);
    return 200;
}

/* vigild's own workspace keeps refs for the cases an ingest opens; after one, the
 * cases that found none left (provisional) are renumbered from a new lease. */
static vg_rc server_refs(http_req *r, vg_ws *ws, vg_err *err)
{
    int64_t want, lo, hi, renumbered;
    vg_rc rc = vg_refs_wanted(ws, SERVER_REF_RESERVE, &want, err);
    if (rc == VG_OK && want > 0 &&
        (rc = store_ref_lease(r->st, r->who->tenant.id, "", want, &lo, &hi, err)) == VG_OK)
        rc = vg_refs_lease(ws, lo, hi, &renumbered, err);
    return rc;
}

/* ---- the log's place a client names --------------------------------------------- */

/* Does this log hold op id at seq (what a client says it pulled last)? VG_EEXIST,
 * err saying why, when it does not (answered 409): the server was restored from an
 * older copy, or the client pulled elsewhere. A writer's 409 also tells the store
 * its leases since the copy may be lost (store_ref_restored). */
#define CURSOR_GONE VG_EEXIST

static vg_rc cursor_holds(http_req *r, vg_ws *ws, int64_t seq, const char *id, vg_err *err)
{
    if (seq == 0)
        return VG_OK;
    char have[27] = "";
    int64_t head = vg_ws_last_seq(ws);
    vg_rc rc = VG_OK;
    /* a cursor past this copy may be from another vigild's commit of a moment ago */
    if (seq > head && (rc = store_catch_up(r->st, ws, err)) != VG_OK)
        return rc;
    head = vg_ws_last_seq(ws);
    rc = seq <= head ? vg_op_at(ws, seq, have, err) : VG_ENOTFOUND;
    if (rc == VG_OK && strcmp(have, id) == 0)
        return VG_OK;
    if (rc != VG_OK && rc != VG_ENOTFOUND)
        return rc;
    vg_err e = {0};
    if ((r->who->role & ROLES_WRITE) &&
        store_ref_restored(r->st, r->who->tenant.id, RESTORE_REF_MARGIN, RESTORE_WINDOW_MS, &e))
        fprintf(stderr, "vigild: tenant %s: %s\n", r->who->tenant.name, e.msg);
    return vg_fail(err, CURSOR_GONE,
                   "this server's log does not hold op %.26s at seq %" PRId64 " (its newest is %"
                   PRId64 "): it was restored from an older copy, or this replica pulled from"
                   " another server; sync again from the start", id, seq, head);
}

/* "SEQ OPID" or "0" */
static bool parse_pulled(const char *s, int64_t *seq, char id[27])
{
    id[0] = '\0';
    char *end;
    long long n = strtoll(s, &end, 10);
    if (end == s || n < 0)
        return false;
    *seq = n;
    if (n == 0)
        return *end == '\0';
    if (*end != ' ' || strlen(end + 1) != 26 || !vg_ulid_valid(end + 1))
        return false;
    memcpy(id, end + 1, 27);
    return true;
}

/* ---- push ------------------------------------------------------------------------ */

typedef struct push {
    http_req *r;
    vg_ws *ws;
    vg_id *made; /* cases created by this message */
    size_t nmade, capmade;
    int status; /* a refusal's status and field, set by check */
    const char *field;
    int64_t pulled;
    char pulled_id[27];
    vg_received got;
    int64_t head;
} push;

static bool made_here(const push *p, const char *case_id)
{
    for (size_t i = 0; i < p->nmade; i++)
        if (strcmp(p->made[i], case_id) == 0)
            return true;
    return false;
}

static vg_rc refuse(push *p, int status, const char *field, vg_err *err, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static vg_rc refuse(push *p, int status, const char *field, vg_err *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->rc = VG_EINVAL;
    p->status = status;
    p->field = field;
    return VG_EINVAL;
}

/* An op the server does not hold yet, before the door sees it: who may push it. */
static vg_rc check(void *ud, const vg_op *op, vg_err *err)
{
    push *p = ud;
    const store_ident *who = p->r->who;
    if (strcmp(op->actor, who->user) != 0)
        return refuse(p, 403, "actor", err, "the op is by '%.64s'; this token is %s's", op->actor,
                      who->user);
    if (op->tenant[0] && strcmp(op->tenant, who->tenant.id) != 0)
        return refuse(p, 403, "tenant", err, "the op names another tenant");
    if (strcmp(op->kind, "case.create") == 0) {
        /* the door would number it max(ref)+1 here, unlike on its author's replica */
        const cJSON *ref = cJSON_GetObjectItemCaseSensitive(op->payload, "ref");
        if (!cJSON_IsNumber(ref) || ref->valuedouble < 1)
            return refuse(p, 400, "ref", err, "a pushed case.create carries its ref");
        if (p->nmade == p->capmade) {
            p->capmade = p->capmade ? p->capmade * 2 : 64;
            p->made = vg_xrealloc(p->made, p->capmade * sizeof *p->made);
        }
        memcpy(p->made[p->nmade++], op->target, sizeof(vg_id));
    } else if (strcmp(op->kind, "case.renumber") == 0 && !made_here(p, op->target)) {
        return refuse(p, 403, "ref", err,
                      "a case's ref is renumbered only with the case's creation, in one push:"
                      " a synced ref never changes");
    } else if (strcmp(op->kind, "ledger.add") == 0) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(op->payload, "case");
        vg_err e = {0};
        if (vg_ledger_session_check(p->ws, cJSON_IsString(c) ? c->valuestring : NULL, op->target,
                                    who->user, &e) != VG_OK)
            return refuse(p, 403, "session", err, "%s", e.msg);
    }
    return VG_OK;
}

/* Every case this message made has its ref in a lease of the pusher's. */
static vg_rc refs_leased(push *p, vg_err *err)
{
    for (size_t i = 0; i < p->nmade; i++) {
        vg_case c;
        store_ref_holder who;
        vg_rc rc = vg_case_get(p->ws, p->made[i], &c, err);
        if (rc == VG_ENOTFOUND)
            continue; /* an op that changed nothing */
        if (rc)
            return rc;
        int64_t ref = c.ref;
        vg_case_clear(&c);
        const char *tenant = p->r->who->tenant.id, *user = p->r->who->user;
        if ((rc = store_ref_owner(p->r->st, tenant, user, ref, &who, err)))
            return rc;
        if (who == STORE_REF_LOST) {
            fprintf(stderr, "vigild: tenant %s: case #%" PRId64 " of %s's is from a lease this"
                            " server lost (restored from an older copy): recorded as %s's\n",
                    p->r->who->tenant.name, ref, user, user);
            if ((rc = store_ref_adopt(p->r->st, tenant, user, ref, err)))
                return rc;
        } else if (who != STORE_REF_USER) {
            return refuse(p, 403, "ref", err,
                          "case %.26s has ref #%" PRId64 ", which is not leased to %s"
                          " (POST /v1/refs leases refs)", p->made[i], ref, user);
        }
    }
    return VG_OK;
}

static vg_rc push_in(vg_ws *ws, void *ud, vg_err *err)
{
    push *p = ud;
    p->ws = ws;
    vg_rc rc = cursor_holds(p->r, ws, p->pulled, p->pulled_id, err);
    if (rc == CURSOR_GONE) {
        p->status = 409;
        p->field = "Vigil-Pulled";
        return VG_EINVAL;
    }
    /* vigild's own lease comes first: its first one renumbers every case the
     * workspace holds, which must be none of the team's */
    if (rc || (rc = server_refs(p->r, ws, err)) || (rc = vg_batch_begin(ws, err)))
        return rc;
    if ((rc = vg_ops_receive(ws, p->r->body, p->r->body_len, check, p, &p->got, err)) == VG_OK)
        rc = refs_leased(p, err);
    if (rc) {
        vg_batch_rollback(ws);
        return rc;
    }
    rc = vg_batch_commit(ws, err);
    p->head = vg_ws_last_seq(ws);
    return rc;
}

int route_push(http_req *r, cJSON **out)
{
    push p = {.r = r};
    const char *pulled = http_request_header(r, "Vigil-Pulled");
    if (pulled && !parse_pulled(pulled, &p.pulled, p.pulled_id))
        return http_error(out, 400, "Vigil-Pulled", "Vigil-Pulled: \"SEQ OPID\", or \"0\"");
    vg_err err = {0};
    vg_rc rc = store_with_tenant(r->st, r->who->tenant.id, push_in, &p, &err);
    free(p.made);
    if (rc == VG_EDB || rc == VG_EIO || rc == VG_ECORRUPT)
        return server_fail(r, out, &err, "store the ops");
    if (rc != VG_OK) {
        if (p.status) /* refused by who pushed it, or where */
            return http_error(out, p.status, p.field, "%s", err.msg);
        char field[32];
        snprintf(field, sizeof field, "line %" PRId64, p.got.lines);
        return http_error(out, 400, field, "%s", err.msg);
    }
    if (p.got.applied)
        http_wake(r->hs, r->who->tenant.id);
    *out = cJSON_CreateObject();
    cJSON_AddNumberToObject(*out, "applied", (double)p.got.applied);
    cJSON_AddNumberToObject(*out, "known", (double)p.got.known);
    cJSON_AddNumberToObject(*out, "head", (double)p.head);
    return 200;
}

/* ---- pull ------------------------------------------------------------------------ */

typedef struct pull {
    http_req *r;
    int64_t after, max, upto, n, head;
    const char *id, *skip;
    char upto_id[27];
    vg_buf page;
    bool gone; /* the cursor names an op this log does not hold there */
    vg_err why;
} pull;

static vg_rc pull_page(vg_ws *ws, void *ud, vg_err *err)
{
    pull *p = ud;
    vg_rc rc = cursor_holds(p->r, ws, p->after, p->id, &p->why);
    if (rc == CURSOR_GONE) {
        p->gone = true;
        return VG_OK;
    }
    if (rc)
        return vg_fail(err, rc, "%s", p->why.msg);
    p->head = vg_ws_last_seq(ws);
    return vg_ops_page_for(ws, p->after, (size_t)p->max, p->skip, &p->page, &p->upto, p->upto_id,
                           &p->n, err);
}

int route_pull(http_req *r, cJSON **out)
{
    pull p = {.r = r};
    int64_t wait;
    if (!query_num(r, "after", 0, INT64_MAX / 2, 0, &p.after))
        return http_error(out, 400, "after", "after: a seq, a whole number from 0");
    if (!query_num(r, "wait", 0, PULL_WAIT_MAX, 0, &wait))
        return http_error(out, 400, "wait", "wait: seconds, from 0 to %d", PULL_WAIT_MAX);
    if (!query_num(r, "max", 1024, PULL_MAX_LIMIT, PULL_MAX_DEFAULT, &p.max))
        return http_error(out, 400, "max", "max: bytes a page, from 1024 to %u", PULL_MAX_LIMIT);
    p.id = http_query(r, "id");
    if (p.after > 0 && (!p.id || !vg_ulid_valid(p.id)))
        return http_error(out, 400, "id", "id: the op held at seq 'after' (a ULID)");
    p.skip = http_query(r, "skip_origin");
    if (p.skip && !vg_ulid_valid(p.skip))
        return http_error(out, 400, "skip_origin", "skip_origin: a replica id (a ULID)");
    vg_buf_init(&p.page, PULL_MAX_LIMIT + (64u << 20)); /* one op may pass max */
    vg_err err = {0};
    vg_rc rc = store_with_tenant(r->st, r->who->tenant.id, pull_page, &p, &err);
    if (rc != VG_OK) {
        vg_buf_free(&p.page);
        return server_fail(r, out, &err, "read the op log");
    }
    if (p.gone) {
        vg_buf_free(&p.page);
        return http_error(out, 409, "id", "%s", p.why.msg);
    }
    if (p.n == 0 && p.upto == p.after && wait > 0 && !http_stopping(r->hs)) {
        int64_t now = http_mono_ms();
        if (r->runs == 0) {
            r->park_until = now + wait * 1000;
            memcpy(r->park_tenant, r->who->tenant.id, sizeof(vg_id));
        }
        r->park_head = p.head; /* a commit past it, by any process, wakes the pull */
        if (now < r->park_until) {
            vg_buf_free(&p.page);
            return HTTP_PARK;
        }
    }
    http_header(r, "Vigil-Upto", "%" PRId64, p.upto);
    if (p.upto > p.after)
        http_header(r, "Vigil-Upto-Id", "%s", p.upto_id);
    http_header(r, "Vigil-Head", "%" PRId64, p.head);
    r->raw_len = p.page.len;
    r->raw = p.page.len ? vg_buf_take(&p.page) : vg_xstrdup("");
    r->raw_type = "application/x-ndjson";
    vg_buf_free(&p.page);
    return 200;
}

/* ---- ingest's ATT&CK table ---------------------------------------------------------- */

static const vg_attack *attack; /* read-only once serving starts */

void routes_set_attack(const vg_attack *a) { attack = a; }

/* ---- snapshot ---------------------------------------------------------------------- */

#define SNAPSHOT_LAG 10000 /* ops a snapshot may be behind the log before it is made again */

int route_snapshot(http_req *r, cJSON **out)
{
    int fd;
    uint64_t size;
    int64_t seq;
    char id[27];
    vg_err err = {0};
    if (store_snapshot(r->st, r->who->tenant.id, SNAPSHOT_LAG, &fd, &size, &seq, id, &err))
        return server_fail(r, out, &err, "make a snapshot");
    http_header(r, "Vigil-Head", "%" PRId64, seq);
    http_header(r, "Vigil-Head-Id", "%s", id);
    r->raw_fd = fd;
    r->raw_fd_size = size;
    r->raw_type = "application/zstd";
    return 200;
}

/* ---- ingest ---------------------------------------------------------------------- */

typedef struct ingest {
    http_req *r;
    const char *key; /* Idempotency-Key, or NULL */
    char hash[65];   /* of the decoded body */
    imp_stats st;
    char *answer;    /* the JSON answered (and remembered with the key) */
    bool replayed;
    int status;
    vg_err rejects;  /* the first rejected record, for the answer */
    int64_t nrejects;
} ingest;

static void on_reject(void *ud, const char *file, int64_t line, const char *why)
{
    ingest *g = ud;
    (void)file;
    if (g->nrejects++ == 0)
        snprintf(g->rejects.msg, sizeof g->rejects.msg, "record at line %" PRId64 ": %s", line,
                 why);
}

static char *answer_text(ingest *g)
{
    cJSON *j = imp_stats_json(&g->st);
    if (g->nrejects)
        cJSON_AddStringToObject(j, "first_rejected", g->rejects.msg);
    char *t = vg_json_print(j);
    cJSON_Delete(j);
    return t;
}

static vg_rc remember(void *ud, vg_ws *ws, vg_err *err)
{
    ingest *g = ud;
    free(g->answer);
    g->answer = answer_text(g);
    if (!g->key)
        return VG_OK;
    size_t n = strlen(g->answer) + 80;
    char *v = vg_xmalloc(n);
    snprintf(v, n, "%s %s", g->hash, g->answer);
    vg_rc rc = store_idem_put(g->r->st, ws, g->key, v, IDEM_TTL_MS, err);
    free(v);
    return rc;
}

static vg_rc ingest_in(vg_ws *ws, void *ud, vg_err *err)
{
    ingest *g = ud;
    vg_rc rc;
    if (g->key) {
        vg_buf v;
        bool found;
        vg_buf_init(&v, 1u << 20);
        if ((rc = store_idem_get(g->r->st, ws, g->key, &v, &found, err))) {
            vg_buf_free(&v);
            return rc;
        }
        if (found) { /* "HASH ANSWER" */
            const char *s = vg_buf_str(&v);
            if (strncmp(s, g->hash, 64) == 0 && s[64] == ' ') {
                g->answer = vg_xstrdup(s + 65);
                g->replayed = true;
            } else {
                g->status = 422;
            }
            vg_buf_free(&v);
            return VG_OK;
        }
        vg_buf_free(&v);
    }
    vg_ws_set_actor(ws, g->r->who->user);
    imp_opts o = {.format = IMP_AUTO, .correlate = true, .one_batch = true, .attack = attack,
                  .reject = on_reject, .before_commit = remember, .ud = g};
    g->st.co.window_ms = o.window_ms;
    if ((rc = server_refs(g->r, ws, err)) ||
        (rc = imp_mem(ws, "body", g->r->body, g->r->body_len, &o, &g->st, err)))
        return rc;
    if (!g->answer) /* nothing was stored, so nothing committed: the counts still answer */
        g->answer = answer_text(g);
    return server_refs(g->r, ws, err);
}

static bool key_valid(const char *k)
{
    size_t n = strlen(k);
    if (n < 1 || n > IDEM_KEY_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (k[i] < 0x21 || k[i] > 0x7e)
            return false;
    return true;
}

int route_ingest(http_req *r, cJSON **out)
{
    ingest g = {.r = r, .key = http_request_header(r, "Idempotency-Key")};
    if (g.key && !key_valid(g.key))
        return http_error(out, 400, "Idempotency-Key",
                          "Idempotency-Key: 1 to %d printable ASCII characters", IDEM_KEY_MAX);
    unsigned char h[32];
    crypto_generichash(h, sizeof h, (const unsigned char *)r->body, r->body_len, NULL, 0);
    sodium_bin2hex(g.hash, sizeof g.hash, h, sizeof h);
    vg_err err = {0};
    vg_rc rc = store_with_tenant(r->st, r->who->tenant.id, ingest_in, &g, &err);
    imp_stats_free(&g.st);
    if (rc != VG_OK) {
        free(g.answer);
        if (rc == VG_EDB || rc == VG_EIO || rc == VG_ECORRUPT)
            return server_fail(r, out, &err, "store the alerts");
        return http_error(out, 400, NULL, "%s", err.msg);
    }
    if (g.status == 422) {
        free(g.answer);
        return http_error(out, 422, "Idempotency-Key",
                          "this Idempotency-Key was used for another body");
    }
    if (g.replayed)
        http_header(r, "Idempotent-Replayed", "true");
    else
        http_wake(r->hs, r->who->tenant.id);
    r->raw = g.answer;
    r->raw_len = strlen(g.answer);
    r->raw_type = "application/json";
    return 200;
}
