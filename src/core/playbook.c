/*
 * playbook.c — playbooks (contract in playbook.h; format in vigil-playbook(5)).
 *
 * Workload: a library of tens of small files read when a command or the picker
 * needs them, and a few copies per workspace. Nothing here is hot, so the code
 * favours strict validation and messages that name the file and the field over
 * speed: a playbook is read by a person at 3 a.m. and written by one by hand.
 * Reading goes through cJSON (already a dependency) with a size cap on the file
 * and on every field; unknown fields are refused so a typo ("mandatroy") is not
 * silently ignored.
 *
 * Writes go through the door: workspace copies are playbook.import/set/remove ops
 * and applying is task.add ops plus a playbook.apply op, in one transaction.
 */
#include "internal.h"
#include "vigil/buf.h"
#include "vigil/json.h"
#include "vigil/playbook.h"

#include "vigil/attack.h"
#include "vigil/query.h"
#include "vigil/text.h"

#include <dirent.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void vg_playbook_clear(vg_playbook *p)
{
    if (!p)
        return;
    free(p->name);
    free(p->version);
    free(p->category);
    free(p->description);
    for (size_t i = 0; i < p->ntechniques; i++)
        free(p->techniques[i]);
    free(p->techniques);
    for (size_t i = 0; i < p->ntasks; i++) {
        free(p->tasks[i].title);
        free(p->tasks[i].description);
    }
    free(p->tasks);
    free(p->origin);
    memset(p, 0, sizeof *p);
}

void vg_playbooks_free(vg_playbook *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        vg_playbook_clear(&p[i]);
    free(p);
}

vg_rc vg_playbook_check_attack(const vg_playbook *p, const vg_attack *a, const char *where,
                               vg_err *err)
{
    for (size_t i = 0; i < p->ntechniques; i++)
        if (!vg_attack_known(a, p->techniques[i]))
            return vg_fail(err, VG_EINVAL, "%s: techniques[%zu]: '%s' is not in the ATT&CK table"
                                           " (version %s)", where, i, p->techniques[i],
                           vg_attack_version(a));
    return VG_OK;
}

/* The one place a technique id's shape is checked. Whether the ATT&CK table knows
 * it is vg_playbook_check_attack's, for the frontends that load the table: an op
 * from another replica must not be refused for a table that is older here. */
static vg_rc check_technique(const char *where, const char *field, const char *id, vg_err *err)
{
    if (id[0] != 'T' || !vg_attack_id_valid(id)) /* upper-case T, as ATT&CK writes it */
        return vg_fail(err, VG_EINVAL,
                       "%s: %s: '%.40s' is not an ATT&CK technique id (T1234 or T1234.001)", where,
                       field, id);
    return VG_OK;
}

/* ---- parsing --------------------------------------------------------------------- */

/* A text field: required or optional, non-empty when present, valid UTF-8, capped.
 * *out is a fresh copy (NULL when absent). */
static vg_rc get_text(const cJSON *j, const char *key, const char *where, const char *field,
                      bool required, size_t cap, char **out, vg_err *err)
{
    *out = NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!v || cJSON_IsNull(v)) {
        if (required)
            return vg_fail(err, VG_EINVAL, "%s: %s: required", where, field);
        return VG_OK;
    }
    if (!cJSON_IsString(v))
        return vg_fail(err, VG_EINVAL, "%s: %s: must be a string", where, field);
    size_t n = strlen(v->valuestring);
    if (n > cap)
        return vg_fail(err, VG_EINVAL, "%s: %s: %zu bytes, longer than the limit of %zu", where,
                       field, n, cap);
    if (strspn(v->valuestring, " \t\r\n") == n)
        return vg_fail(err, VG_EINVAL, "%s: %s: must not be empty", where, field);
    if (!vg_utf8_valid(v->valuestring, n))
        return vg_fail(err, VG_EINVAL, "%s: %s: not valid UTF-8", where, field);
    *out = vg_xstrdup(v->valuestring);
    return VG_OK;
}

/* Refuse members of j not in `known` (NULL-terminated). */
static vg_rc only_known(const cJSON *j, const char *const *known, const char *where,
                        const char *prefix, vg_err *err)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, j) {
        bool ok = false;
        for (const char *const *k = known; *k && !ok; k++)
            ok = strcmp(*k, it->string) == 0;
        if (!ok)
            return vg_fail(err, VG_EINVAL, "%s: %s%.60s: unknown field", where, prefix, it->string);
    }
    return VG_OK;
}

static bool slug_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
        return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static vg_rc parse_tasks(const cJSON *arr, const char *where, vg_playbook *p, vg_err *err)
{
    static const char *const known[] = {"phase", "title", "description", "mandatory", NULL};
    if (!arr)
        return vg_fail(err, VG_EINVAL, "%s: tasks: required", where);
    if (!cJSON_IsArray(arr))
        return vg_fail(err, VG_EINVAL, "%s: tasks: must be an array", where);
    int n = cJSON_GetArraySize(arr);
    if (n == 0)
        return vg_fail(err, VG_EINVAL, "%s: tasks: must hold at least one task", where);
    if (n > VG_PB_MAX_TASKS)
        return vg_fail(err, VG_EINVAL, "%s: tasks: %d tasks, more than the limit of %d", where, n,
                       VG_PB_MAX_TASKS);
    p->tasks = vg_xcalloc((size_t)n, sizeof *p->tasks);
    const cJSON *t;
    cJSON_ArrayForEach(t, arr) {
        char f[64], field[96];
        size_t i = p->ntasks;
        snprintf(f, sizeof f, "tasks[%zu]", i);
        if (!cJSON_IsObject(t))
            return vg_fail(err, VG_EINVAL, "%s: %s: must be an object", where, f);
        snprintf(field, sizeof field, "%s.", f);
        vg_rc rc = only_known(t, known, where, field, err);
        if (rc)
            return rc;
        vg_pb_task *k = &p->tasks[p->ntasks++];
        const cJSON *ph = cJSON_GetObjectItemCaseSensitive(t, "phase");
        char names[160];
        vg_enum_list(&VG_PHASE, names, sizeof names);
        snprintf(field, sizeof field, "%s.phase", f);
        if (!ph)
            return vg_fail(err, VG_EINVAL, "%s: %s: required: one of %s", where, field, names);
        k->phase = cJSON_IsString(ph) ? vg_enum_parse(&VG_PHASE, ph->valuestring) : -1;
        if (k->phase < 0)
            return vg_fail(err, VG_EINVAL, "%s: %s: '%.40s' is not one of %s", where, field,
                           cJSON_IsString(ph) ? ph->valuestring : "(not a string)", names);
        snprintf(field, sizeof field, "%s.title", f);
        if ((rc = get_text(t, "title", where, field, true, VG_PB_MAX_TITLE, &k->title, err)))
            return rc;
        snprintf(field, sizeof field, "%s.description", f);
        if ((rc = get_text(t, "description", where, field, true, VG_PB_MAX_TASK_DESC,
                           &k->description, err)))
            return rc;
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(t, "mandatory");
        if (m && !cJSON_IsBool(m))
            return vg_fail(err, VG_EINVAL, "%s: %s.mandatory: must be true or false", where, f);
        k->mandatory = cJSON_IsTrue(m);
        for (size_t j = 0; j < i; j++)
            if (p->tasks[j].phase == k->phase && strcmp(p->tasks[j].title, k->title) == 0)
                return vg_fail(err, VG_EINVAL, "%s: %s.title: '%.60s' is already tasks[%zu] in %s",
                               where, f, k->title, j, VG_PHASE.names[k->phase]);
    }
    return VG_OK;
}

vg_rc vg_playbook_from_json(const cJSON *j, const char *where, vg_playbook *out, vg_err *err)
{
    /* "$schema" lets an editor find data/playbook.schema.json; it is not kept */
    static const char *const known[] = {"id", "name", "version", "category", "description",
                                        "techniques", "severity_hint", "tasks", "$schema", NULL};
    memset(out, 0, sizeof *out);
    out->severity_hint = -1;
    if (!cJSON_IsObject(j))
        return vg_fail(err, VG_EINVAL, "%s: a playbook must be a JSON object", where);
    vg_rc rc = only_known(j, known, where, "", err);
    char *id = NULL;
    if (rc || (rc = get_text(j, "id", where, "id", true, 64, &id, err)))
        return rc;
    bool ok = slug_ok(id);
    if (ok)
        memcpy(out->id, id, strlen(id) + 1);
    else
        rc = vg_fail(err, VG_EINVAL,
                     "%s: id: '%.64s' must be lower-case letters, digits, '.', '_' or '-'"
                     " (at most 64, starting with a letter or digit)", where, id);
    free(id);
    if (rc || (rc = get_text(j, "name", where, "name", true, VG_PB_MAX_TITLE, &out->name, err)) ||
        (rc = get_text(j, "version", where, "version", true, 32, &out->version, err)) ||
        (rc = get_text(j, "category", where, "category", true, 64, &out->category, err)) ||
        (rc = get_text(j, "description", where, "description", true, VG_PB_MAX_DESC,
                       &out->description, err)))
        goto fail;
    const cJSON *sev = cJSON_GetObjectItemCaseSensitive(j, "severity_hint");
    if (sev) {
        out->severity_hint = cJSON_IsString(sev) ? vg_enum_parse(&VG_SEVERITY, sev->valuestring) : -1;
        if (out->severity_hint < 0) {
            char names[128];
            vg_enum_list(&VG_SEVERITY, names, sizeof names);
            rc = vg_fail(err, VG_EINVAL, "%s: severity_hint: '%.40s' is not one of %s", where,
                         cJSON_IsString(sev) ? sev->valuestring : "(not a string)", names);
            goto fail;
        }
    }
    const cJSON *tech = cJSON_GetObjectItemCaseSensitive(j, "techniques");
    if (!tech || !cJSON_IsArray(tech)) {
        rc = vg_fail(err, VG_EINVAL, "%s: techniques: %s", where,
                     tech ? "must be an array of ATT&CK ids" : "required (an array, may be empty)");
        goto fail;
    }
    int nt = cJSON_GetArraySize(tech);
    if (nt > VG_PB_MAX_TECHNIQUES) {
        rc = vg_fail(err, VG_EINVAL, "%s: techniques: more than %d", where, VG_PB_MAX_TECHNIQUES);
        goto fail;
    }
    out->techniques = vg_xcalloc((size_t)nt + 1, sizeof *out->techniques);
    const cJSON *it;
    cJSON_ArrayForEach(it, tech) {
        char field[32];
        snprintf(field, sizeof field, "techniques[%zu]", out->ntechniques);
        if (!cJSON_IsString(it)) {
            rc = vg_fail(err, VG_EINVAL, "%s: %s: must be a string", where, field);
            goto fail;
        }
        if ((rc = check_technique(where, field, it->valuestring, err)))
            goto fail;
        out->techniques[out->ntechniques++] = vg_xstrdup(it->valuestring);
    }
    if ((rc = parse_tasks(cJSON_GetObjectItemCaseSensitive(j, "tasks"), where, out, err)))
        goto fail;
    return VG_OK;
fail:
    vg_playbook_clear(out);
    return rc;
}

vg_rc vg_playbook_parse(const char *text, size_t len, const char *where, vg_playbook *out,
                        vg_err *err)
{
    memset(out, 0, sizeof *out);
    if (len > VG_PB_MAX_FILE)
        return vg_fail(err, VG_EINVAL, "%s: larger than %u bytes", where, VG_PB_MAX_FILE);
    cJSON *j;
    vg_rc prc = vg_json_parse_doc(text, len, where, &j, err);
    if (prc)
        return prc;
    vg_rc rc = vg_playbook_from_json(j, where, out, err);
    cJSON_Delete(j);
    return rc;
}

/* The last component of a path, for messages. */
static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

vg_rc vg_playbook_load(const char *path, vg_playbook *out, vg_err *err)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f)
        return vg_fail(err, VG_EIO, "%s: %s", path, strerror(errno));
    vg_buf b;
    vg_buf_init(&b, VG_PB_MAX_FILE);
    vg_rc rc = vg_buf_read_file(&b, f, path, err);
    fclose(f);
    if (rc == VG_OK && (rc = vg_playbook_parse(vg_buf_str(&b), b.len, path, out, err)) == VG_OK)
        out->origin = vg_xstrdup(path);
    vg_buf_free(&b);
    return rc;
}

cJSON *vg_playbook_json(const vg_playbook *p)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", p->id);
    cJSON_AddStringToObject(o, "name", p->name);
    cJSON_AddStringToObject(o, "version", p->version);
    cJSON_AddStringToObject(o, "category", p->category);
    cJSON_AddStringToObject(o, "description", p->description);
    cJSON *t = cJSON_AddArrayToObject(o, "techniques");
    for (size_t i = 0; i < p->ntechniques; i++)
        cJSON_AddItemToArray(t, cJSON_CreateString(p->techniques[i]));
    if (p->severity_hint >= 0)
        cJSON_AddStringToObject(o, "severity_hint", vg_enum_name(&VG_SEVERITY, p->severity_hint));
    cJSON *tasks = cJSON_AddArrayToObject(o, "tasks");
    for (size_t i = 0; i < p->ntasks; i++) {
        cJSON *k = cJSON_CreateObject();
        cJSON_AddStringToObject(k, "phase", vg_enum_name(&VG_PHASE, p->tasks[i].phase));
        cJSON_AddStringToObject(k, "title", p->tasks[i].title);
        cJSON_AddStringToObject(k, "description", p->tasks[i].description);
        if (p->tasks[i].mandatory)
            cJSON_AddTrueToObject(k, "mandatory");
        cJSON_AddItemToArray(tasks, k);
    }
    return o;
}

/* ---- the library and the workspace ------------------------------------------------ */

static int by_id(const void *a, const void *b)
{
    return strcmp(((const vg_playbook *)a)->id, ((const vg_playbook *)b)->id);
}

vg_rc vg_playbook_library(const char *dir, vg_playbook **items, size_t *n, vg_err *err)
{
    *items = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? VG_OK : vg_fail(err, VG_EIO, "%s: %s", dir, strerror(errno));
    vg_rc rc = VG_OK;
    struct dirent *e;
    size_t alloc = 0;
    while (rc == VG_OK && (e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (e->d_name[0] == '.' || l < 6 || strcmp(e->d_name + l - 5, ".json") != 0)
            continue;
        if (*n == VG_PB_MAX_LIBRARY) {
            rc = vg_fail(err, VG_EINVAL, "%s: more than %d playbooks", dir, VG_PB_MAX_LIBRARY);
            break;
        }
        if (*n == alloc) {
            alloc = alloc ? alloc * 2 : 16;
            *items = vg_xrealloc(*items, alloc * sizeof **items);
        }
        size_t pl = strlen(dir) + l + 2;
        char *path = vg_xmalloc(pl);
        snprintf(path, pl, "%s/%s", dir, e->d_name);
        if ((rc = vg_playbook_load(path, &(*items)[*n], err)) == VG_OK)
            (*items)[(*n)++].library = true;
        free(path);
    }
    closedir(d);
    if (rc) {
        vg_playbooks_free(*items, *n);
        *items = NULL;
        *n = 0;
        return rc;
    }
    qsort(*items, *n, sizeof **items, by_id);
    for (size_t i = 1; i < *n; i++)
        if (strcmp((*items)[i].id, (*items)[i - 1].id) == 0) {
            rc = vg_fail(err, VG_EINVAL, "%s: id '%s' is also the id of %s", (*items)[i].origin,
                         (*items)[i].id, base_name((*items)[i - 1].origin));
            vg_playbooks_free(*items, *n);
            *items = NULL;
            *n = 0;
            return rc;
        }
    return VG_OK;
}

/* A workspace row back into a playbook (validated again: rows arrive by sync). */
static vg_rc from_row(sqlite3_stmt *st, vg_playbook *out, vg_err *err)
{
    cJSON *j = cJSON_CreateObject();
    static const char *const text_cols[] = {"id", "name", "version", "category", "description"};
    for (int i = 0; i < 5; i++)
        cJSON_AddStringToObject(j, text_cols[i], (const char *)sqlite3_column_text(st, i));
    cJSON_AddItemToObject(j, "techniques", cJSON_Parse((const char *)sqlite3_column_text(st, 5)));
    cJSON_AddItemToObject(j, "tasks", cJSON_Parse((const char *)sqlite3_column_text(st, 6)));
    const char *sev = (const char *)sqlite3_column_text(st, 9);
    if (sev && *sev)
        cJSON_AddStringToObject(j, "severity_hint", sev);
    char where[96];
    snprintf(where, sizeof where, "workspace playbook %.64s", (const char *)sqlite3_column_text(st, 0));
    vg_rc rc = vg_playbook_from_json(j, where, out, err);
    cJSON_Delete(j);
    if (rc == VG_OK) {
        out->origin = col_dup(st, 7);
        out->updated_at = sqlite3_column_int64(st, 8);
    }
    return rc;
}

#define PB_COLS "id, name, version, category, description, techniques, tasks, origin, updated_at," \
                " severity_hint FROM playbooks"

vg_rc vg_playbooks_of_ws(vg_ws *ws, vg_playbook **items, size_t *n, vg_err *err)
{
    *items = NULL;
    *n = 0;
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt_text(ws, "SELECT " PB_COLS " ORDER BY id", &st, err);
    if (rc)
        return rc;
    size_t alloc = 0;
    int s;
    while (rc == VG_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == alloc) {
            alloc = alloc ? alloc * 2 : 8;
            *items = vg_xrealloc(*items, alloc * sizeof **items);
        }
        if ((rc = from_row(st, &(*items)[*n], err)) == VG_OK)
            (*n)++;
    }
    if (rc == VG_OK && s != SQLITE_DONE)
        rc = ws_dberr(ws, err, "reading playbooks");
    sqlite3_reset(st);
    if (rc) {
        vg_playbooks_free(*items, *n);
        *items = NULL;
        *n = 0;
    }
    return rc;
}

vg_rc vg_playbook_find(vg_ws *ws, const char *libdir, const char *id, vg_playbook *out,
                       vg_err *err)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st;
    vg_rc rc;
    if (ws) {
        if ((rc = ws_stmt_text(ws, "SELECT " PB_COLS " WHERE id = ?", &st, err)))
            return rc;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        int s = sqlite3_step(st);
        rc = s == SQLITE_ROW    ? from_row(st, out, err)
             : s == SQLITE_DONE ? VG_ENOTFOUND
                                : ws_dberr(ws, err, "reading a playbook");
        sqlite3_reset(st);
        if (rc != VG_ENOTFOUND)
            return rc;
    }
    vg_playbook *lib = NULL;
    size_t n = 0;
    if (libdir && (rc = vg_playbook_library(libdir, &lib, &n, err)))
        return rc;
    for (size_t i = 0; i < n; i++)
        if (strcmp(lib[i].id, id) == 0) {
            *out = lib[i];
            memset(&lib[i], 0, sizeof lib[i]);
            vg_playbooks_free(lib, n);
            return VG_OK;
        }
    vg_playbooks_free(lib, n);
    return vg_fail(err, VG_ENOTFOUND, "no playbook '%.64s' (vigil playbook ls lists them)", id);
}

/* ---- ops -------------------------------------------------------------------------- */

vg_op *vg_op_playbook_put(const char *kind, const vg_playbook *p, const char *origin)
{
    vg_op *op = vg_op_new(kind, NULL);
    cJSON_AddItemToObject(op->payload, "playbook", vg_playbook_json(p));
    cJSON_AddStringToObject(op->payload, "origin", origin ? origin : "");
    return op;
}

vg_op *vg_op_playbook_remove(const char *id)
{
    vg_op *op = vg_op_new("playbook.remove", NULL);
    cJSON_AddStringToObject(op->payload, "id", id);
    return op;
}

vg_rc vg_playbook_plan(vg_ws *ws, const char *case_id, const vg_playbook *p, bool *skip,
                       vg_err *err)
{
    vg_task *t = NULL;
    size_t n = 0;
    vg_rc rc = vg_tasks_of_case(ws, case_id, &t, &n, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < p->ntasks; i++) {
        skip[i] = false;
        for (size_t k = 0; k < n && !skip[i]; k++)
            skip[i] = t[k].phase == p->tasks[i].phase && strcmp(t[k].title, p->tasks[i].title) == 0;
    }
    vg_tasks_free(t, n);
    return VG_OK;
}

/* Apply op (taking it) inside the open batch. */
static vg_rc apply_one(vg_ws *ws, vg_op *op, vg_err *err)
{
    vg_rc rc = vg_apply(ws, op, err);
    vg_op_free(op);
    return rc;
}

static vg_rc already_recorded(vg_ws *ws, const char *case_id, const char *id, bool *yes,
                              vg_err *err)
{
    char **ids;
    size_t n;
    vg_rc rc = vg_case_playbooks(ws, case_id, &ids, &n, err);
    *yes = false;
    for (size_t i = 0; i < n; i++) {
        *yes |= strcmp(ids[i], id) == 0;
        free(ids[i]);
    }
    free(ids);
    return rc;
}

vg_rc vg_playbook_apply(vg_ws *ws, const char *case_id, const vg_playbook *p, int *added,
                        int *skipped, vg_err *err)
{
    bool *skip = vg_xcalloc(p->ntasks + 1, sizeof *skip);
    bool own = !ws->in_batch;
    int nadd = 0, nskip = 0;
    vg_rc rc = vg_playbook_plan(ws, case_id, p, skip, err);
    if (rc == VG_OK && own)
        rc = vg_batch_begin(ws, err);
    for (int ph = 0; rc == VG_OK && ph < VG_PHASE.n; ph++)
        for (size_t i = 0; rc == VG_OK && i < p->ntasks; i++) {
            const vg_pb_task *k = &p->tasks[i];
            if (k->phase != ph)
                continue;
            if (skip[i]) {
                nskip++;
                continue;
            }
            vg_op *op = vg_op_task_add(case_id, VG_PHASE.names[ph], k->title);
            cJSON_AddStringToObject(op->payload, "description", k->description);
            cJSON_AddStringToObject(op->payload, "playbook", p->id);
            if (k->mandatory)
                cJSON_AddTrueToObject(op->payload, "mandatory");
            if ((rc = apply_one(ws, op, err)) == VG_OK)
                nadd++;
        }
    /* A repeat that adds nothing and is already on the record writes nothing. */
    bool recorded = false;
    if (rc == VG_OK && nadd == 0)
        rc = already_recorded(ws, case_id, p->id, &recorded, err);
    if (rc == VG_OK && !recorded) {
        vg_op *op = vg_op_new("playbook.apply", NULL);
        cJSON_AddStringToObject(op->payload, "case", case_id);
        cJSON_AddStringToObject(op->payload, "playbook", p->id);
        cJSON_AddStringToObject(op->payload, "name", p->name);
        cJSON_AddStringToObject(op->payload, "version", p->version);
        cJSON_AddNumberToObject(op->payload, "added", nadd);
        cJSON_AddNumberToObject(op->payload, "skipped", nskip);
        rc = apply_one(ws, op, err);
    }
    if (own && rc == VG_OK)
        rc = vg_batch_commit(ws, err);
    else if (own && ws->in_batch)
        vg_batch_rollback(ws);
    free(skip);
    if (rc == VG_OK) {
        if (added)
            *added = nadd;
        if (skipped)
            *skipped = nskip;
    }
    return rc;
}

vg_rc vg_case_playbooks(vg_ws *ws, const char *case_id, char ***ids, size_t *n, vg_err *err)
{
    *ids = NULL;
    *n = 0;
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt_text(ws, "SELECT substr(source, 10) FROM events WHERE case_id = ?"
                                " AND source LIKE 'playbook:%' GROUP BY source ORDER BY min(recorded_at)",
                            &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_TRANSIENT);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        *ids = vg_xrealloc(*ids, (*n + 1) * sizeof **ids);
        (*ids)[(*n)++] = col_dup(st, 0);
    }
    sqlite3_reset(st);
    return s == SQLITE_DONE ? VG_OK : ws_dberr(ws, err, "reading a case's playbooks");
}

vg_rc vg_case_all_techniques(vg_ws *ws, const char *case_id, char **json, vg_err *err)
{
    *json = NULL;
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt_text(ws,
        "SELECT json_group_array(value) FROM (SELECT j.value FROM cases c, json_each(c.techniques) j"
        " WHERE c.id = ?1 AND json_valid(c.techniques) UNION SELECT j.value FROM alerts a,"
        " json_each(a.techniques) j WHERE a.case_id = ?1 AND json_valid(a.techniques))",
        &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW)
        *json = col_dup(st, 0);
    else
        rc = ws_dberr(ws, err, "reading a case's techniques");
    sqlite3_reset(st);
    return rc;
}

/* ---- progress ---------------------------------------------------------------------- */

static void tally(vg_progress *p, int phase, int status, bool mandatory)
{
    if (phase < 0 || phase > 4)
        return;
    bool done = status == 2 || status == 3; /* done, skipped */
    p->total[phase]++;
    p->done[phase] += done;
    p->mandatory_left[phase] += mandatory && status != 2;
    p->all_total++;
    p->all_done += done;
    p->all_mandatory_left += mandatory && status != 2;
}

void vg_progress_of(const vg_task *t, size_t n, vg_progress *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n; i++)
        tally(out, t[i].phase, t[i].status, t[i].mandatory);
}

vg_rc vg_case_progress(vg_ws *ws, const char *case_id, vg_progress *out, vg_err *err)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt_text(ws, "SELECT phase, status, mandatory FROM tasks WHERE case_id = ?",
                            &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_TRANSIENT);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW)
        tally(out, vg_enum_parse(&VG_PHASE, (const char *)sqlite3_column_text(st, 0)),
              vg_enum_parse(&VG_TASK_STATUS, (const char *)sqlite3_column_text(st, 1)),
              sqlite3_column_int(st, 2) != 0);
    sqlite3_reset(st);
    return s == SQLITE_DONE ? VG_OK : ws_dberr(ws, err, "reading task progress");
}

static cJSON *progress_obj(int done, int total, int left)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "done", done);
    cJSON_AddNumberToObject(o, "total", total);
    cJSON_AddNumberToObject(o, "mandatory_left", left);
    return o;
}

cJSON *vg_progress_json(const vg_progress *p)
{
    cJSON *o = progress_obj(p->all_done, p->all_total, p->all_mandatory_left);
    cJSON *ph = cJSON_AddObjectToObject(o, "phases");
    for (int i = 0; i < VG_PHASE.n; i++)
        cJSON_AddItemToObject(ph, VG_PHASE.names[i],
                              progress_obj(p->done[i], p->total[i], p->mandatory_left[i]));
    return o;
}

void vg_progress_bar(int done, int total, int width, bool ascii, char *out, size_t outsz)
{
    int fill = total > 0 ? done * width / total : 0;
    size_t len = 0;
    for (int i = 0; i < width; i++) {
        const char *ch = i < fill ? (ascii ? "#" : "\u2588") : (ascii ? "." : "\u2591");
        size_t l = strlen(ch);
        if (len + l + 1 > outsz)
            break;
        memcpy(out + len, ch, l);
        len += l;
    }
    if (outsz)
        out[len] = '\0';
}

/* ---- suggestions --------------------------------------------------------------------- */

/* Does technique a match b: equal, or one is the other's parent (T1566 / T1566.001)? */
static bool technique_match(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la == lb)
        return strcmp(a, b) == 0;
    const char *lo = la < lb ? a : b, *hi = la < lb ? b : a;
    size_t l = la < lb ? la : lb;
    return strncmp(lo, hi, l) == 0 && hi[l] == '.';
}

/* Is word (a category or id, '-' and '_' read as spaces) a whole word in text? */
static bool word_in(const char *text, const char *word)
{
    char w[80];
    snprintf(w, sizeof w, "%s", word);
    for (char *p = w; *p; p++)
        if (*p == '-' || *p == '_')
            *p = ' ';
    size_t wl = strlen(w);
    if (wl < 3)
        return false;
    for (const char *p = text; (p = strcasestr(p, w)); p++) {
        bool left = p == text || !((p[-1] | 32) >= 'a' && (p[-1] | 32) <= 'z');
        char r = p[wl];
        bool right = !((r | 32) >= 'a' && (r | 32) <= 'z');
        if (left && right)
            return true;
    }
    return false;
}

size_t vg_playbook_suggest(const vg_case *c, const vg_playbook *pb, size_t n, size_t *order,
                           int *scores)
{
    cJSON *tech = cJSON_Parse(c->techniques ? c->techniques : "[]");
    cJSON *tags = cJSON_Parse(c->tags ? c->tags : "[]");
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        int s = 0;
        const cJSON *it;
        cJSON_ArrayForEach(it, tech) {
            for (size_t k = 0; cJSON_IsString(it) && k < pb[i].ntechniques; k++)
                if (technique_match(it->valuestring, pb[i].techniques[k])) {
                    s += 10;
                    break;
                }
        }
        cJSON_ArrayForEach(it, tags) {
            if (cJSON_IsString(it) && (strcasecmp(it->valuestring, pb[i].category) == 0 ||
                                       strcasecmp(it->valuestring, pb[i].id) == 0)) {
                s += 6;
                break;
            }
        }
        if (c->title && (word_in(c->title, pb[i].category) || word_in(c->title, pb[i].id)))
            s += 3;
        scores[i] = s;
        if (s > 0)
            order[m++] = i;
    }
    cJSON_Delete(tech);
    cJSON_Delete(tags);
    /* best first; ties by id (pb is sorted by id, and insertion keeps that) */
    for (size_t i = 1; i < m; i++)
        for (size_t k = i; k > 0 && scores[order[k]] > scores[order[k - 1]]; k--) {
            size_t x = order[k];
            order[k] = order[k - 1];
            order[k - 1] = x;
        }
    return m;
}

/* ---- CACAO 2.0 ----------------------------------------------------------------------- */

/* "type--uuid" with a version-4-shaped UUID derived from (playbook, salt, n): the
 * same playbook exports the same ids, and different steps never collide. */
static void cacao_id(const char *type, const vg_playbook *p, const char *salt, size_t n,
                     char *out, size_t outsz)
{
    unsigned char h[16];
    crypto_generichash_state s;
    crypto_generichash_init(&s, NULL, 0, sizeof h);
    crypto_generichash_update(&s, (const unsigned char *)p->id, strlen(p->id));
    crypto_generichash_update(&s, (const unsigned char *)"\0", 1);
    crypto_generichash_update(&s, (const unsigned char *)p->version, strlen(p->version));
    crypto_generichash_update(&s, (const unsigned char *)"\0", 1);
    crypto_generichash_update(&s, (const unsigned char *)salt, strlen(salt));
    crypto_generichash_update(&s, (const unsigned char *)&n, sizeof n);
    crypto_generichash_final(&s, h, sizeof h);
    h[6] = (unsigned char)((h[6] & 0x0f) | 0x40);
    h[8] = (unsigned char)((h[8] & 0x3f) | 0x80);
    snprintf(out, outsz,
             "%s--%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", type,
             h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11], h[12],
             h[13], h[14], h[15]);
}

cJSON *vg_playbook_cacao(const vg_playbook *p, int64_t now_ms)
{
    char id[96], agent[96], start[96], end[96], when[32];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "playbook");
    cJSON_AddStringToObject(o, "spec_version", "cacao-2.0");
    cacao_id("playbook", p, "playbook", 0, id, sizeof id);
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "name", p->name);
    cJSON_AddStringToObject(o, "description", p->description);
    cJSON *types = cJSON_AddArrayToObject(o, "playbook_types");
    cJSON_AddItemToArray(types, cJSON_CreateString("investigation"));
    cJSON_AddItemToArray(types, cJSON_CreateString("remediation"));
    cacao_id("identity", p, "vigil", 0, agent, sizeof agent);
    cJSON_AddStringToObject(o, "created_by", agent);
    vg_iso8601(now_ms, when, sizeof when);
    cJSON_AddStringToObject(o, "created", when);
    cJSON_AddStringToObject(o, "modified", when);
    if (p->severity_hint >= 0)
        cJSON_AddNumberToObject(o, "severity", p->severity_hint * 25);
    cJSON *labels = cJSON_AddArrayToObject(o, "labels");
    cJSON_AddItemToArray(labels, cJSON_CreateString(p->category));
    cJSON_AddItemToArray(labels, cJSON_CreateString(p->id));
    char version[64];
    snprintf(version, sizeof version, "version:%s", p->version);
    cJSON_AddItemToArray(labels, cJSON_CreateString(version));
    if (p->ntechniques) {
        cJSON *refs = cJSON_AddArrayToObject(o, "external_references");
        for (size_t i = 0; i < p->ntechniques; i++) {
            cJSON *r = cJSON_CreateObject();
            char url[96], path[16];
            snprintf(path, sizeof path, "%s", p->techniques[i]);
            char *dot = strchr(path, '.');
            if (dot)
                *dot = '/';
            snprintf(url, sizeof url, "https://attack.mitre.org/techniques/%s/", path);
            cJSON_AddStringToObject(r, "name", "mitre-attack");
            cJSON_AddStringToObject(r, "source", "MITRE ATT&CK");
            cJSON_AddStringToObject(r, "external_id", p->techniques[i]);
            cJSON_AddStringToObject(r, "url", url);
            cJSON_AddItemToArray(refs, r);
        }
    }
    cacao_id("start", p, "start", 0, start, sizeof start);
    cacao_id("end", p, "end", 0, end, sizeof end);
    cJSON_AddStringToObject(o, "workflow_start", start);
    cJSON *wf = cJSON_AddObjectToObject(o, "workflow");
    cJSON *st = cJSON_AddObjectToObject(wf, start);
    cJSON_AddStringToObject(st, "type", "start");
    cJSON *prev = st;
    char agent_id[96];
    cacao_id("individual", p, "responder", 0, agent_id, sizeof agent_id);
    /* tasks in phase order, as apply adds them */
    for (int ph = 0; ph < VG_PHASE.n; ph++)
        for (size_t i = 0; i < p->ntasks; i++) {
            const vg_pb_task *k = &p->tasks[i];
            if (k->phase != ph)
                continue;
            char step[96], name[VG_PB_MAX_TITLE + 64];
            cacao_id("action", p, "task", i, step, sizeof step);
            cJSON_AddStringToObject(prev, "on_completion", step);
            cJSON *a = cJSON_AddObjectToObject(wf, step);
            cJSON_AddStringToObject(a, "type", "action");
            snprintf(name, sizeof name, "%s: %s%s", VG_PHASE.names[ph], k->title,
                     k->mandatory ? " (mandatory)" : "");
            cJSON_AddStringToObject(a, "name", name);
            cJSON_AddStringToObject(a, "description", k->description);
            cJSON *cmds = cJSON_AddArrayToObject(a, "commands");
            cJSON *cmd = cJSON_CreateObject();
            cJSON_AddStringToObject(cmd, "type", "manual");
            cJSON_AddStringToObject(cmd, "command", k->description);
            cJSON_AddItemToArray(cmds, cmd);
            cJSON_AddStringToObject(a, "agent", agent_id);
            prev = a;
        }
    cJSON_AddStringToObject(prev, "on_completion", end);
    cJSON *e = cJSON_AddObjectToObject(wf, end);
    cJSON_AddStringToObject(e, "type", "end");
    cJSON *agents = cJSON_AddObjectToObject(o, "agent_definitions");
    cJSON *ag = cJSON_AddObjectToObject(agents, agent_id);
    cJSON_AddStringToObject(ag, "type", "individual");
    cJSON_AddStringToObject(ag, "name", "incident responder");
    return o;
}
