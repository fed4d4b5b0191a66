/*
 * routes.c — the routes vigild serves, one table (vigild(8) lists them).
 *
 * The reads are here; sync and ingest (refs, push, pull, alerts) are sync.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "routes.h"
#include "vg_config.h"
#include "vigil/json.h"
#include "vigil/query.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX 500 /* cases a page */

static int health(http_req *r, cJSON **out)
{
    *out = cJSON_CreateObject();
    cJSON_AddBoolToObject(*out, "ok", 1);
    cJSON_AddStringToObject(*out, "version", VG_VERSION);
    return 200;
}

static int whoami(http_req *r, cJSON **out)
{
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "tenant", r->who->tenant.name);
    cJSON_AddStringToObject(*out, "tenant_id", r->who->tenant.id);
    cJSON_AddStringToObject(*out, "user", r->who->user);
    cJSON_AddStringToObject(*out, "role", store_role_name(r->who->role));
    return 200;
}

/* The tenant's users (the token's tenant, never another's), by name, with their
 * roles: what a replica checks an @mention against (vigil/handoff.h). */
static int users(http_req *r, cJSON **out)
{
    store_user *u = NULL;
    size_t n = 0;
    vg_err err = {0};
    if (store_users(r->st, r->who->tenant.id, &u, &n, &err) != VG_OK) {
        fprintf(stderr, "vigild: tenant %s: %s\n", r->who->tenant.name, err.msg);
        return http_error(out, 500, NULL, "the server could not read its users");
    }
    *out = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(*out, "users");
    for (size_t i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", u[i].name);
        cJSON_AddStringToObject(o, "role", store_role_name(u[i].role));
        cJSON_AddItemToArray(arr, o);
    }
    free(u);
    return 200;
}

typedef struct cases_q {
    vg_case_filter f;
    cJSON *page;
} cases_q;

/* A page of the tenant's queue, as `vigil cases --json` prints it. */
static vg_rc cases_page(vg_ws *ws, void *ud, vg_err *err)
{
    cases_q *q = ud;
    vg_case_list l;
    vg_rc rc = vg_cases_list(ws, &q->f, &l, err);
    if (rc != VG_OK)
        return rc;
    cJSON *arr = cJSON_AddArrayToObject(q->page, "cases");
    for (size_t i = 0; i < l.n; i++)
        cJSON_AddItemToArray(arr, vg_case_json(&l.items[i]));
    if (l.more && l.n) {
        char cs[640];
        vg_case_cursor_format(&l.items[l.n - 1], &q->f, cs, sizeof cs);
        cJSON_AddStringToObject(q->page, "next", cs);
    } else {
        cJSON_AddNullToObject(q->page, "next");
    }
    vg_case_list_free(&l);
    return VG_OK;
}

static int cases(http_req *r, cJSON **out)
{
    cases_q q = {.f = {.limit = PAGE_DEFAULT}};
    vg_case_cursor cur;
    vg_err err = {0};
    const char *v;
    if ((v = http_query(r, "limit"))) {
        char *end;
        long l = strtol(v, &end, 10);
        if (!*v || *end || l < 1 || l > PAGE_MAX)
            return http_error(out, 400, "limit", "limit must be a number from 1 to %d", PAGE_MAX);
        q.f.limit = (int)l;
    }
    if ((v = http_query(r, "after"))) {
        if (vg_case_cursor_parse(v, &cur, &err) != VG_OK)
            return http_error(out, 400, "after", "%s", err.msg);
        q.f.after = &cur;
    }
    q.page = cJSON_CreateObject();
    if (store_with_tenant(r->st, r->who->tenant.id, cases_page, &q, &err) != VG_OK) {
        cJSON_Delete(q.page);
        /* the message names server files: the journal's, not the client's */
        fprintf(stderr, "vigild: tenant %s: %s\n", r->who->tenant.name, err.msg);
        return http_error(out, 500, NULL, "the server could not read the cases");
    }
    *out = q.page;
    return 200;
}

const route http_routes[] = {
    {"GET", "/v1/health", 0, 0, health},
    {"GET", "/v1/whoami", ROLES_ANY, 0, whoami},
    {"GET", "/v1/users", ROLES_READ, 0, users},
    {"GET", "/v1/cases", ROLES_READ, 0, cases},
    {"POST", "/v1/refs", ROLES_WRITE, 4096, route_refs},
    {"POST", "/v1/ops", ROLES_WRITE, 16u << 20, route_push},
    {"GET", "/v1/ops", ROLES_READ, 0, route_pull},
    {"GET", "/v1/snapshot", ROLES_READ, 0, route_snapshot},
    {"POST", "/v1/alerts", ROLE_INGEST | ROLES_WRITE, 64u << 20, route_ingest},
    {"PUT", "/v1/evidence/{sha256}", ROLES_WRITE, EVIDENCE_PUT_MAX, route_evidence_put},
    {"GET", "/v1/evidence/{sha256}", ROLES_READ, 0, route_evidence_get},
};
const size_t http_nroutes = sizeof http_routes / sizeof *http_routes;
