/*
 * wire.c — an op as it travels between replicas (sync, and later bundles).
 *
 * One JSON object a line:
 *
 *   {"seq":12,"id":"01J…","hlc":"1844674407370955161","origin":"01J…","actor":"alice",
 *    "tenant":"01J…","kind":"note.add","target":"01J…","payload":{…}}
 *
 * seq is the sender's place for it (the server's per-tenant sequence on a pull;
 * absent on a push). The clock is a decimal string: it is a 64-bit number,
 * which a JSON reader holding numbers as doubles would round. The payload comes
 * last and is the author's canonical text byte for byte (the op's hash covers
 * those bytes, and a raw event's 64-bit numbers must stay exact), so the reader
 * takes its span of the line rather than printing what it parsed.
 *
 * A line from the network is hostile: it is parsed whole (cJSON, which refuses
 * nesting deeper than 1,000), every member must be known and appear once, every
 * string be valid UTF-8 of a bounded length, and the ids be ULIDs; an error
 * names the member.
 */
#include "internal.h"
#include "vigil/json.h"
#include "vigil/op.h"
#include "vigil/text.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACTOR_MAX 256
#define TENANT_MAX 64

vg_rc vg_op_wire(const vg_op *op, const char *payload, size_t len, int64_t seq, vg_buf *out,
                 vg_err *err)
{
    char hlc[24];
    snprintf(hlc, sizeof hlc, "%" PRIu64, op->hlc);
    cJSON *o = cJSON_CreateObject();
    if (seq > 0)
        cJSON_AddNumberToObject(o, "seq", (double)seq);
    cJSON_AddStringToObject(o, "id", op->id);
    cJSON_AddStringToObject(o, "hlc", hlc);
    cJSON_AddStringToObject(o, "origin", op->origin);
    cJSON_AddStringToObject(o, "actor", op->actor ? op->actor : "");
    cJSON_AddStringToObject(o, "tenant", op->tenant ? op->tenant : "");
    cJSON_AddStringToObject(o, "kind", op->kind);
    cJSON_AddStringToObject(o, "target", op->target);
    char *head = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    size_t hn = strlen(head);
    /* the fields, then ,"payload": and its bytes, then } and the newline */
    vg_rc rc = vg_buf_add(out, head, hn - 1);
    free(head);
    if (rc == VG_OK)
        rc = vg_buf_adds(out, ",\"payload\":");
    if (rc == VG_OK)
        rc = vg_buf_add(out, payload, len);
    if (rc == VG_OK)
        rc = vg_buf_adds(out, "}\n");
    if (rc)
        return vg_fail(err, rc, "op %.26s: more than the %zu bytes a message may hold", op->id,
                       out->cap);
    return VG_OK;
}

/* A member's string value, checked: present, valid UTF-8, at most max bytes. */
static vg_rc wire_str(const cJSON *o, const char *key, size_t max, const char **out, vg_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v)
        return vg_fail(err, VG_EINVAL, "%s: required", key);
    if (!cJSON_IsString(v))
        return vg_fail(err, VG_EINVAL, "%s: must be a string", key);
    size_t n = strlen(v->valuestring);
    if (n > max)
        return vg_fail(err, VG_EINVAL, "%s: longer than %zu bytes", key, max);
    if (!vg_utf8_valid(v->valuestring, n))
        return vg_fail(err, VG_EINVAL, "%s: not valid UTF-8", key);
    *out = v->valuestring;
    return VG_OK;
}

static vg_rc wire_id(const cJSON *o, const char *key, const char **out, vg_err *err)
{
    vg_rc rc = wire_str(o, key, VG_ID_LEN, out, err);
    if (rc == VG_OK && !vg_ulid_valid(*out))
        rc = vg_fail(err, VG_EINVAL, "%s: '%s' is not an id", key, *out);
    return rc;
}

static vg_rc wire_clock(const char *hlc, uint64_t *out, vg_err *err)
{
    char *end;
    errno = 0;
    *out = strtoull(hlc, &end, 10);
    if (*hlc < '1' || *hlc > '9' || *end || errno)
        return vg_fail(err, VG_EINVAL, "hlc: '%s' is not a clock (a decimal number from 1)", hlc);
    return VG_OK;
}

static const char *const members[] = {"seq",    "id",   "hlc",    "origin", "actor",
                                      "tenant", "kind", "target", "payload"};

/* Every member known, and none twice (readers disagree about which of two
 * counts). */
static vg_rc wire_members(const cJSON *o, vg_err *err)
{
    for (const cJSON *m = o->child; m; m = m->next) {
        bool known = false;
        for (size_t i = 0; i < sizeof members / sizeof *members; i++)
            known = known || strcmp(m->string, members[i]) == 0;
        if (!known) {
            char name[64];
            vg_text_safe(m->string, strlen(m->string), 0, name, sizeof name);
            return vg_fail(err, VG_EINVAL, "%s: not a member of an op", name);
        }
        for (const cJSON *n = m->next; n; n = n->next)
            if (strcmp(m->string, n->string) == 0)
                return vg_fail(err, VG_EINVAL, "%s: given twice", m->string);
    }
    return VG_OK;
}

vg_rc vg_op_unwire(const char *line, size_t len, vg_op **out, int64_t *seq, vg_err *err)
{
    *out = NULL;
    if (seq)
        *seq = 0;
    const char *end = line;
    cJSON *o = cJSON_ParseWithLengthOpts(line, len, &end, false);
    while (o && end < line + len && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
        end++;
    if (o && end != line + len) {
        cJSON_Delete(o);
        return vg_fail(err, VG_EINVAL, "more than one JSON value on the line");
    }
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return vg_fail(err, VG_EINVAL, "not a JSON object (or nested deeper than %d)",
                       CJSON_NESTING_LIMIT);
    }
    const char *id, *hlc, *origin, *actor, *tenant, *kind, *target, *vs, *ve;
    uint64_t clock = 0;
    vg_rc rc = wire_members(o, err);
    if (rc == VG_OK && (rc = wire_id(o, "id", &id, err)) == VG_OK &&
        (rc = wire_str(o, "hlc", 20, &hlc, err)) == VG_OK &&
        (rc = wire_clock(hlc, &clock, err)) == VG_OK &&
        (rc = wire_id(o, "origin", &origin, err)) == VG_OK &&
        (rc = wire_str(o, "actor", ACTOR_MAX, &actor, err)) == VG_OK &&
        (rc = wire_str(o, "tenant", TENANT_MAX, &tenant, err)) == VG_OK &&
        (rc = wire_str(o, "kind", sizeof((vg_op *)0)->kind - 1, &kind, err)) == VG_OK)
        rc = wire_id(o, "target", &target, err);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "seq");
    if (rc == VG_OK && s &&
        (!cJSON_IsNumber(s) || s->valuedouble < 1 || s->valuedouble > 9e15 ||
         s->valuedouble != (double)(int64_t)s->valuedouble))
        rc = vg_fail(err, VG_EINVAL, "seq: must be a whole number from 1");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "payload");
    if (rc == VG_OK && !cJSON_IsObject(p))
        rc = vg_fail(err, VG_EINVAL, "payload: %s", p ? "must be an object" : "required");
    /* the payload's own bytes: the line is valid JSON, so its span can be found
     */
    if (rc == VG_OK && !vg_json_member(line, len, "payload", &vs, &ve))
        rc = vg_fail(err, VG_EINVAL, "payload: required");
    /* the payload's strings are stored and sent on as they are: the whole line,
     * not its named members only, must be JSON by the RFC (UTF-8, no raw control
     * character such as a NUL, which would cut the payload's text short) */
    if (rc == VG_OK && !vg_json_strict(line, len))
        rc = vg_fail(err, VG_EINVAL, "payload: not strict JSON (invalid UTF-8 or a raw control"
                                     " character)");
    if (rc) {
        cJSON_Delete(o);
        return rc;
    }
    vg_op *op = vg_op_new(kind, target);
    snprintf(op->id, sizeof op->id, "%s", id);
    snprintf(op->origin, sizeof op->origin, "%s", origin);
    op->hlc = clock;
    op->actor = vg_xstrdup(actor);
    op->tenant = vg_xstrdup(tenant);
    cJSON_Delete(op->payload);
    op->payload = cJSON_DetachItemViaPointer(o, (cJSON *)p);
    op->text = vg_xstrndup(vs, (size_t)(ve - vs));
    if (seq && s)
        *seq = (int64_t)s->valuedouble;
    cJSON_Delete(o);
    *out = op;
    return VG_OK;
}

/* ---- receiving a message of ops ----------------------------------------------- */

vg_rc vg_ops_receive(vg_ws *ws, const char *body, size_t len,
                     vg_rc (*check)(void *ud, const vg_op *op, vg_err *err), void *ud,
                     vg_received *r, vg_err *err)
{
    memset(r, 0, sizeof *r);
    if (!ws->in_batch)
        return vg_fail(err, VG_EINVAL, "ops are received inside a batch");
    const char *at = body, *end = body + len;
    vg_rc rc = VG_OK;
    while (rc == VG_OK && at < end) {
        const char *nl = memchr(at, '\n', (size_t)(end - at));
        const char *le = nl ? nl : end;
        r->lines++;
        if (le == at || (le - at == 1 && *at == '\r')) {
            at = le + 1;
            continue; /* a blank line */
        }
        vg_op *op = NULL;
        int64_t seq = 0;
        vg_err e = {0};
        bool known = false;
        rc = vg_op_unwire(at, (size_t)(le - at), &op, &seq, &e);
        if (rc == VG_OK && check && (rc = vg_op_known(ws, op->id, &known, &e)) == VG_OK &&
            !known)
            rc = check(ud, op, &e);
        if (rc == VG_OK && (rc = vg_apply(ws, op, &e)) == VG_OK) {
            if (op->seq > 0) {
                r->applied++;
                if (!r->first_local)
                    r->first_local = op->seq;
                r->last_local = op->seq;
            } else {
                r->known++;
            }
            if (seq) {
                r->last_seq = seq;
                memcpy(r->last_id, op->id, sizeof r->last_id);
            }
        }
        if (rc)
            vg_fail(err, rc, "line %lld%s%.26s%s: %.400s", (long long)r->lines,
                    op ? " (op " : "", op ? op->id : "", op ? ")" : "", e.msg);
        vg_op_free(op);
        at = le + 1;
    }
    return rc;
}

vg_rc vg_op_known(vg_ws *ws, const char *id, bool *known, vg_err *err)
{
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt(ws, ST_OP_EXISTS, &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    *known = s == SQLITE_ROW;
    sqlite3_reset(st);
    return s == SQLITE_ROW || s == SQLITE_DONE ? VG_OK : ws_dberr(ws, err, "reading the op log");
}

/* ---- a page of the log --------------------------------------------------------- */

struct page {
    vg_buf *out;
    size_t max;
    bool with_seq;
    const char *skip; /* an origin whose ops are looked at, not sent */
    int64_t upto, n, looked, look_max; /* look_max 0: no limit */
    char upto_id[27];
    vg_err *err;
};

#define PAGE_FULL VG_EEXIST /* stops the walk; not an error */
#define PAGE_LOOK 20000     /* ops a page looks at, sent or skipped */

static vg_rc page_one(void *ud, vg_op *op)
{
    struct page *p = ud;
    if (p->look_max && p->looked == p->look_max)
        return PAGE_FULL;
    if (p->skip && strcmp(op->origin, p->skip) == 0) {
        p->looked++;
        p->upto = op->seq;
        memcpy(p->upto_id, op->id, sizeof p->upto_id);
        return VG_OK;
    }
    size_t len = strlen(op->text);
    /* one op is always taken, however large: a page holds at least one */
    if (p->n > 0 && p->out->len + len + 256 > p->max)
        return PAGE_FULL;
    vg_rc rc = vg_op_wire(op, op->text, len, p->with_seq ? op->seq : 0, p->out, p->err);
    if (rc)
        return rc;
    p->looked++;
    p->upto = op->seq;
    memcpy(p->upto_id, op->id, sizeof p->upto_id);
    p->n++;
    return VG_OK;
}

vg_rc vg_ops_page_for(vg_ws *ws, int64_t after, size_t max, const char *skip_origin, vg_buf *out,
                      int64_t *upto, char upto_id[27], int64_t *n, vg_err *err)
{
    struct page p = {.out = out, .max = max, .with_seq = true, .skip = skip_origin,
                     .upto = after, .look_max = PAGE_LOOK, .err = err};
    vg_rc rc = vg_ops_each(ws, after, page_one, &p, err);
    if (rc == PAGE_FULL)
        rc = VG_OK;
    *upto = p.upto;
    *n = p.n;
    if (upto_id)
        memcpy(upto_id, p.upto_id, sizeof p.upto_id);
    return rc;
}

vg_rc vg_ops_page(vg_ws *ws, int64_t after, size_t max, bool with_seq, vg_buf *out,
                  int64_t *upto, int64_t *n, vg_err *err)
{
    struct page p = {.out = out, .max = max, .with_seq = with_seq, .upto = after, .err = err};
    vg_rc rc = vg_ops_each(ws, after, page_one, &p, err);
    if (rc == PAGE_FULL)
        rc = VG_OK;
    *upto = p.upto;
    *n = p.n;
    return rc;
}
