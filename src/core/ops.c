/*
 * ops.c — making ops: the struct's life cycle and constructors for the common
 * kinds, so that frontends name what they want instead of spelling payloads.
 */
#include <stdlib.h>
#include <string.h>

#include "vigil/op.h"
#include "vigil/model.h"
#include "vigil/query.h"

/* cJSON allocates through vigil's wrappers, so it never returns NULL for lack of
 * memory: out of memory aborts in one place (err.c) for the whole program. */
static void *json_malloc(size_t n) { return vg_xmalloc(n); }
__attribute__((constructor)) static void json_hooks(void)
{
    cJSON_Hooks hooks = {json_malloc, free};
    cJSON_InitHooks(&hooks);
}

vg_op *vg_op_new(const char *kind, const char *target)
{
    vg_op *op = vg_xcalloc(1, sizeof *op);
    size_t n = strlen(kind);
    if (n >= sizeof op->kind)
        n = sizeof op->kind - 1;
    memcpy(op->kind, kind, n);
    if (target) {
        size_t t = strlen(target);
        if (t > VG_ID_LEN)
            t = VG_ID_LEN;
        memcpy(op->target, target, t);
    } else {
        vg_ulid(vg_now_ms(), op->target);
    }
    op->payload = cJSON_CreateObject();
    return op;
}

void vg_op_free(vg_op *op)
{
    if (!op)
        return;
    cJSON_Delete(op->payload);
    free(op->text);
    free(op->actor);
    free(op->tenant);
    free(op);
}

static vg_op *child(const char *kind, const char *target, const char *case_id)
{
    vg_op *op = vg_op_new(kind, target);
    cJSON_AddStringToObject(op->payload, "case", case_id);
    return op;
}

vg_op *vg_op_case_create(const char *title, const char *severity, const char *description)
{
    vg_op *op = vg_op_new("case.create", NULL);
    cJSON_AddStringToObject(op->payload, "title", title);
    if (severity)
        cJSON_AddStringToObject(op->payload, "severity", severity);
    if (description)
        cJSON_AddStringToObject(op->payload, "description", description);
    return op;
}

vg_op *vg_op_case_set(const char *case_id, const char *field, const char *value)
{
    vg_op *op = vg_op_new("case.set", case_id);
    cJSON_AddStringToObject(op->payload, "field", field);
    cJSON_AddStringToObject(op->payload, "value", value);
    return op;
}

vg_op *vg_op_case_merge(const char *case_id, const char *into_id)
{
    vg_op *op = vg_op_new("case.merge", case_id);
    cJSON_AddStringToObject(op->payload, "into", into_id);
    return op;
}

vg_op *vg_op_case_status(const char *case_id, const char *status, const char *resolution)
{
    vg_op *op = vg_op_case_set(case_id, "status", status);
    if (resolution)
        cJSON_AddStringToObject(op->payload, "resolution", resolution);
    return op;
}

vg_op *vg_op_case_close(const char *case_id, const char *resolution)
{
    return vg_op_case_status(case_id, "closed", resolution);
}

vg_op *vg_op_case_tags(const char *case_id, const char *const *tags, size_t n)
{
    vg_op *op = vg_op_new("case.set", case_id);
    cJSON_AddStringToObject(op->payload, "field", "tags");
    cJSON *v = cJSON_AddArrayToObject(op->payload, "value");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(v, cJSON_CreateString(tags[i]));
    return op;
}

vg_op *vg_op_indicator_add(const char *case_id, const char *type, const char *value,
                           const char *tlp)
{
    vg_op *op = vg_op_artifact_add(case_id, type, value);
    cJSON_AddTrueToObject(op->payload, "is_ioc");
    if (tlp)
        cJSON_AddStringToObject(op->payload, "tlp", tlp);
    return op;
}

vg_op *vg_op_note_add(const char *case_id, const char *body)
{
    vg_op *op = child("note.add", NULL, case_id);
    cJSON_AddStringToObject(op->payload, "body", body);
    return op;
}

vg_op *vg_op_artifact_add(const char *case_id, const char *type, const char *value)
{
    vg_op *op = child("artifact.add", NULL, case_id);
    cJSON_AddStringToObject(op->payload, "type", type);
    cJSON_AddStringToObject(op->payload, "value", value);
    return op;
}

vg_op *vg_op_artifact_remove(const char *case_id, const char *type, const char *value)
{
    vg_op *op = vg_op_artifact_add(case_id, type, value);
    memcpy(op->kind, "artifact.remove", sizeof "artifact.remove");
    return op;
}

vg_op *vg_op_task_add(const char *case_id, const char *phase, const char *title)
{
    vg_op *op = child("task.add", NULL, case_id);
    cJSON_AddStringToObject(op->payload, "phase", phase);
    cJSON_AddStringToObject(op->payload, "title", title);
    return op;
}

vg_op *vg_op_task_set(const char *case_id, const char *task_id, const char *field,
                      const char *value)
{
    vg_op *op = child("task.set", task_id, case_id);
    cJSON_AddStringToObject(op->payload, "field", field);
    cJSON_AddStringToObject(op->payload, "value", value);
    return op;
}

vg_op *vg_op_task_log(const char *case_id, const char *task_id, const char *text)
{
    vg_op *op = child("task.log", task_id, case_id);
    cJSON_AddStringToObject(op->payload, "text", text);
    return op;
}

vg_op *vg_op_event_add(const char *case_id, int64_t occurred_at, const char *kind,
                       const char *summary)
{
    vg_op *op = child("event.add", NULL, case_id);
    cJSON_AddNumberToObject(op->payload, "occurred_at", (double)occurred_at);
    if (kind)
        cJSON_AddStringToObject(op->payload, "kind", kind);
    cJSON_AddStringToObject(op->payload, "summary", summary);
    return op;
}

vg_op *vg_op_ledger_add(const char *case_id, const char *session_id, const char *user,
                        const char *kind, const char *model, const char *content)
{
    vg_op *op = vg_op_new("ledger.add", session_id);
    if (case_id)
        cJSON_AddStringToObject(op->payload, "case", case_id);
    cJSON_AddStringToObject(op->payload, "user", user);
    cJSON_AddStringToObject(op->payload, "kind", kind);
    if (model && *model)
        cJSON_AddStringToObject(op->payload, "model", model);
    cJSON_AddStringToObject(op->payload, "content", content);
    return op;
}

vg_op *vg_op_alert_link(const char *alert_id, const char *case_id)
{
    vg_op *op = vg_op_new("alert.set", alert_id);
    cJSON_AddStringToObject(op->payload, "field", "status");
    cJSON_AddStringToObject(op->payload, "value", "linked");
    cJSON_AddStringToObject(op->payload, "case", case_id);
    cJSON_AddTrueToObject(op->payload, "artifacts");
    return op;
}

vg_op *vg_op_alert_dismiss(const char *alert_id, const char *reason)
{
    vg_op *op = vg_op_new("alert.set", alert_id);
    cJSON_AddStringToObject(op->payload, "field", "status");
    cJSON_AddStringToObject(op->payload, "value", "dismissed");
    if (reason && *reason)
        cJSON_AddStringToObject(op->payload, "reason", reason);
    return op;
}

vg_op *vg_op_alert_restore(const char *alert_id)
{
    vg_op *op = vg_op_new("alert.set", alert_id);
    cJSON_AddStringToObject(op->payload, "field", "status");
    cJSON_AddStringToObject(op->payload, "value", "new");
    return op;
}

vg_op *vg_op_row_star(const char *case_id, const char *row_id, bool is_alert, bool on)
{
    vg_op *op = vg_op_new(is_alert ? "alert.set" : "event.set", row_id);
    if (!is_alert)
        cJSON_AddStringToObject(op->payload, "case", case_id);
    cJSON_AddStringToObject(op->payload, "field", "starred");
    cJSON_AddBoolToObject(op->payload, "value", on);
    return op;
}

vg_rc vg_alert_promote(vg_ws *ws, const char *alert_id, vg_id case_out, vg_err *err)
{
    vg_alert a;
    vg_rc rc = vg_alert_get(ws, alert_id, &a, err);
    if (rc)
        return rc;
    if (a.case_id[0]) {
        vg_alert_clear(&a);
        return vg_fail(err, VG_EINVAL, "alert %s is already on a case", alert_id);
    }
    vg_op *create = vg_op_case_create(a.title, vg_enum_name(&VG_SEVERITY, a.severity), NULL);
    cJSON_AddItemToObject(create->payload, "techniques", cJSON_Parse(a.techniques));
    vg_op *link = vg_op_alert_link(alert_id, create->target);
    memcpy(case_out, create->target, sizeof(vg_id));
    vg_alert_clear(&a);
    if ((rc = vg_batch_begin(ws, err)) == VG_OK) {
        if ((rc = vg_apply(ws, create, err)) == VG_OK && (rc = vg_apply(ws, link, err)) == VG_OK)
            rc = vg_batch_commit(ws, err);
        else
            vg_batch_rollback(ws);
    }
    vg_op_free(create);
    vg_op_free(link);
    return rc;
}
