/*
 * evidence.c — vigild's evidence content routes: PUT and GET /v1/evidence/SHA256.
 *
 * An evidence item's register entry travels in the op stream like everything else
 * (evidence.add, vigil/op.h); its content travels on demand. A replica that holds an
 * item's content puts it once; one that lacks it gets it when the analyst asks
 * (vigil evidence get, vigil evidence fetch). The content is kept in the tenant's
 * own workspace's store (DIR/tenants/<id>.db.d/evidence, vigil/evidence.h), so a
 * tenant sees only its own: a blob is answered only when the tenant's register
 * names its hash, and another tenant's is 404 whether it exists or not. A put is
 * taken only for a hash the tenant's register names (the op first, then the
 * content: the server is no free store), is checked against that hash, and is
 * capped (EVIDENCE_PUT_MAX) like every body.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http.h"
#include "routes.h"
#include "vigil/evidence.h"

typedef struct blob_q {
    http_req *r;
    const char *sha;
    bool named;  /* the tenant's register names the hash */
    bool stored; /* put: it was already here, or is now */
    int fd;      /* get: the blob, open */
    uint64_t size;
} blob_q;

static bool sha_ok(const char *s)
{
    return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

/* Does the tenant's register hold an item of this content (a stored copy)? */
static vg_rc named(vg_ws *ws, const char *sha, bool *yes, vg_err *err)
{
    vg_evidence *items;
    size_t n;
    *yes = false;
    vg_rc rc = vg_evidence_list(ws, NULL, &items, &n, err);
    for (size_t i = 0; rc == VG_OK && i < n && !*yes; i++)
        *yes = strcmp(items[i].sha256, sha) == 0 && !items[i].path;
    if (rc == VG_OK)
        vg_evidences_free(items, n);
    return rc;
}

static vg_rc put_blob(vg_ws *ws, void *ud, vg_err *err)
{
    blob_q *q = ud;
    vg_rc rc = named(ws, q->sha, &q->named, err);
    if (rc || !q->named)
        return rc;
    rc = vg_evidence_store(ws, q->sha, q->r->body, q->r->body_len, err);
    q->stored = rc == VG_OK;
    return rc == VG_ECORRUPT ? VG_OK : rc;
}

static vg_rc get_blob(vg_ws *ws, void *ud, vg_err *err)
{
    blob_q *q = ud;
    vg_rc rc = named(ws, q->sha, &q->named, err);
    if (rc || !q->named)
        return rc;
    char *p = vg_evidence_blob_path(ws, q->sha);
    q->fd = open(p, O_RDONLY | O_CLOEXEC);
    free(p);
    struct stat sb;
    if (q->fd >= 0 && fstat(q->fd, &sb) == 0 && S_ISREG(sb.st_mode)) {
        q->size = (uint64_t)sb.st_size;
    } else if (q->fd >= 0) {
        close(q->fd);
        q->fd = -1;
    }
    return VG_OK;
}

int route_evidence_put(http_req *r, cJSON **out)
{
    blob_q q = {.r = r, .sha = r->params[0], .fd = -1};
    vg_err err = {0};
    if (!sha_ok(q.sha))
        return http_error(out, 400, "sha256",
                          "the path names no SHA-256 (64 lowercase hex digits)");
    if (store_with_tenant(r->st, r->who->tenant.id, put_blob, &q, &err) != VG_OK) {
        fprintf(stderr, "vigild: tenant %s: storing evidence: %s\n", r->who->tenant.name, err.msg);
        return http_error(out, 500, NULL, "the server could not store the evidence");
    }
    if (!q.named)
        return http_error(out, 404, "sha256",
                          "no evidence item of this tenant has that SHA-256 (push its op first)");
    if (!q.stored)
        return http_error(out, 400, "body", "the body does not hash to %.16s...", q.sha);
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "sha256", q.sha);
    cJSON_AddNumberToObject(*out, "size", (double)r->body_len);
    return 200;
}

int route_evidence_get(http_req *r, cJSON **out)
{
    blob_q q = {.r = r, .sha = r->params[0], .fd = -1};
    vg_err err = {0};
    if (!sha_ok(q.sha))
        return http_error(out, 400, "sha256",
                          "the path names no SHA-256 (64 lowercase hex digits)");
    if (store_with_tenant(r->st, r->who->tenant.id, get_blob, &q, &err) != VG_OK) {
        fprintf(stderr, "vigild: tenant %s: reading evidence: %s\n", r->who->tenant.name, err.msg);
        return http_error(out, 500, NULL, "the server could not read the evidence");
    }
    if (q.fd < 0)
        return http_error(out, 404, "sha256", "no evidence content of that SHA-256 here");
    r->raw_fd = q.fd;
    r->raw_fd_size = q.size;
    r->raw_type = "application/octet-stream";
    return 200;
}
