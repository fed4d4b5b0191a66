/*
 * template.c — case templates (contract in vigil/template.h, format in
 * vigil-template(5)): strict parsing with messages that name file, key and line,
 * the directories they are read from, the check against a workspace's custom
 * fields and playbooks, and a new case from one as one batch through the door.
 */
#include "internal.h"
#include "vigil/buf.h"
#include "vigil/fields.h"
#include "vigil/json.h"
#include "vigil/model.h"
#include "vigil/playbook.h"
#include "vigil/template.h"
#include "vigil/text.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void vg_template_clear(vg_template *t)
{
    if (!t)
        return;
    free(t->name);
    free(t->description);
    free(t->title);
    for (size_t i = 0; i < t->ntags; i++)
        free(t->tags[i]);
    free(t->tags);
    cJSON_Delete(t->fields);
    free(t->case_description);
    for (size_t i = 0; i < t->nplaybooks; i++)
        free(t->playbooks[i]);
    free(t->playbooks);
    free(t->origin);
    free(t->src);
    memset(t, 0, sizeof *t);
}

void vg_templates_free(vg_template *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        vg_template_clear(&t[i]);
    free(t);
}

/* The line of member key (inside member outer when not NULL) in src; 0: unknown. */
static int key_line(const char *src, const char *outer, const char *key)
{
    if (!src)
        return 0;
    const char *p = src;
    for (int pass = outer ? 0 : 1; pass < 2; pass++) {
        const char *want = pass == 0 ? outer : key;
        char q[80];
        snprintf(q, sizeof q, "\"%s\"", want);
        const char *hit = NULL;
        for (const char *s = strstr(p, q); s; s = strstr(s + 1, q)) {
            const char *e = s + strlen(q);
            e += strspn(e, " \t\r\n");
            if (*e == ':') {
                hit = s;
                break;
            }
        }
        if (!hit)
            return 0;
        p = hit + 1;
    }
    int line = 1;
    for (const char *s = src; s < p; s++)
        line += *s == '\n';
    return line;
}

/* "phishing.json: line 7: fields.loss" into out. */
static void where_key(const char *where, const char *src, const char *outer, const char *key,
                      char *out, size_t n)
{
    int line = key_line(src, outer, key);
    char lbuf[32] = "";
    if (line)
        snprintf(lbuf, sizeof lbuf, "line %d: ", line);
    snprintf(out, n, "%s: %s%s%s%s", where, lbuf, outer ? outer : "", outer ? "." : "", key);
}

static vg_rc get_text(const cJSON *j, const char *key, const char *where, const char *src,
                      bool required, size_t cap, char **out, vg_err *err)
{
    *out = NULL;
    char w[300];
    where_key(where, src, NULL, key, w, sizeof w);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!v || cJSON_IsNull(v)) {
        if (required)
            return vg_fail(err, VG_EINVAL, "%s: %s: required", where, key);
        return VG_OK;
    }
    if (!cJSON_IsString(v))
        return vg_fail(err, VG_EINVAL, "%s: must be a string", w);
    size_t n = strlen(v->valuestring);
    if (n > cap)
        return vg_fail(err, VG_EINVAL, "%s: %zu bytes, longer than the limit of %zu", w, n, cap);
    if (strspn(v->valuestring, " \t\r\n") == n)
        return vg_fail(err, VG_EINVAL, "%s: must not be empty", w);
    if (!vg_utf8_valid(v->valuestring, n))
        return vg_fail(err, VG_EINVAL, "%s: not valid UTF-8", w);
    *out = vg_xstrdup(v->valuestring);
    return VG_OK;
}

static vg_rc get_enum(const cJSON *j, const char *key, const vg_enum *e, const char *where,
                      const char *src, int *out, vg_err *err)
{
    *out = -1;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!v || cJSON_IsNull(v))
        return VG_OK;
    *out = cJSON_IsString(v) ? vg_enum_parse(e, v->valuestring) : -1;
    if (*out >= 0)
        return VG_OK;
    char w[300], list[256];
    where_key(where, src, NULL, key, w, sizeof w);
    vg_enum_list(e, list, sizeof list);
    return vg_fail(err, VG_EINVAL, "%s: '%.60s' is not one of %s", w,
                   cJSON_IsString(v) ? v->valuestring : "(not text)", list);
}

static vg_rc get_list(const cJSON *j, const char *key, const char *where, const char *src,
                      size_t max, bool slugs, char ***out, size_t *n, vg_err *err)
{
    *out = NULL;
    *n = 0;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!v || cJSON_IsNull(v))
        return VG_OK;
    char w[300];
    where_key(where, src, NULL, key, w, sizeof w);
    if (!cJSON_IsArray(v))
        return vg_fail(err, VG_EINVAL, "%s: must be a list of strings", w);
    if ((size_t)cJSON_GetArraySize(v) > max)
        return vg_fail(err, VG_EINVAL, "%s: more than %zu items", w, max);
    *out = vg_xcalloc((size_t)cJSON_GetArraySize(v) + 1, sizeof **out);
    const cJSON *it;
    size_t i = 0;
    cJSON_ArrayForEach(it, v)
    {
        if (!cJSON_IsString(it) || !*it->valuestring || strlen(it->valuestring) > 128 ||
            !vg_utf8_valid(it->valuestring, strlen(it->valuestring)))
            return vg_fail(err, VG_EINVAL, "%s[%zu]: must be text of 1 to 128 bytes", w, i);
        if (slugs && strspn(it->valuestring, "abcdefghijklmnopqrstuvwxyz0123456789._-") !=
                         strlen(it->valuestring))
            return vg_fail(err, VG_EINVAL, "%s[%zu]: '%s' is not a playbook id", w, i,
                           it->valuestring);
        (*out)[(*n)++] = vg_xstrdup(it->valuestring);
        i++;
    }
    return VG_OK;
}

static vg_rc from_json(const cJSON *j, const char *where, const char *src, vg_template *t,
                       vg_err *err)
{
    static const char *const known[] = {
        "id",  "name",   "description",      "title",    "severity", "tags", "tlp",
        "pap", "fields", "case_description", "playbooks"};
    if (!cJSON_IsObject(j))
        return vg_fail(err, VG_EINVAL, "%s: a template is a JSON object", where);
    const cJSON *it;
    cJSON_ArrayForEach(it, j)
    {
        size_t k = 0;
        while (k < sizeof known / sizeof *known && strcmp(known[k], it->string) != 0)
            k++;
        if (k == sizeof known / sizeof *known) {
            char w[300];
            where_key(where, src, NULL, it->string, w, sizeof w);
            return vg_fail(err, VG_EINVAL,
                           "%s: unknown key (a template has id, name, description,"
                           " title, severity, tags, tlp, pap, fields,"
                           " case_description, playbooks)",
                           w);
        }
    }
    char *id = NULL;
    vg_rc rc;
    if ((rc = get_text(j, "id", where, src, true, 64, &id, err)))
        return rc;
    size_t il = strlen(id);
    bool ok = (id[0] >= 'a' && id[0] <= 'z') || (id[0] >= '0' && id[0] <= '9');
    ok = ok && strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789._-") == il;
    if (!ok) {
        char w[300];
        where_key(where, src, NULL, "id", w, sizeof w);
        rc = vg_fail(err, VG_EINVAL, "%s: '%s' is not an id (a-z, 0-9, '.', '_', '-')", w, id);
        free(id);
        return rc;
    }
    snprintf(t->id, sizeof t->id, "%s", id);
    free(id);
    if ((rc = get_text(j, "name", where, src, true, 200, &t->name, err)) ||
        (rc = get_text(j, "description", where, src, false, 4096, &t->description, err)) ||
        (rc = get_text(j, "title", where, src, true, 512, &t->title, err)) ||
        (rc = get_text(j, "case_description", where, src, false, 64u << 10, &t->case_description,
                       err)) ||
        (rc = get_enum(j, "severity", &VG_SEVERITY, where, src, &t->severity, err)) ||
        (rc = get_enum(j, "tlp", &VG_TLP, where, src, &t->tlp, err)) ||
        (rc = get_enum(j, "pap", &VG_PAP, where, src, &t->pap, err)) ||
        (rc = get_list(j, "tags", where, src, 64, false, &t->tags, &t->ntags, err)) ||
        (rc = get_list(j, "playbooks", where, src, 32, true, &t->playbooks, &t->nplaybooks, err)))
        return rc;
    if (!t->description)
        t->description = vg_xstrdup("");
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(j, "fields");
    t->fields = cJSON_CreateObject();
    if (f && !cJSON_IsNull(f)) {
        char w[300];
        where_key(where, src, NULL, "fields", w, sizeof w);
        if (!cJSON_IsObject(f))
            return vg_fail(err, VG_EINVAL, "%s: must be an object {name: value}", w);
        cJSON_ArrayForEach(it, f)
        {
            where_key(where, src, "fields", it->string, w, sizeof w);
            if (!vg_field_name_ok(it->string))
                return vg_fail(err, VG_EINVAL,
                               "%s: not a field name (a-z, 0-9 and _, from a"
                               " letter)",
                               w);
            char *v = vg_field_json_text(it);
            if (!v)
                return vg_fail(err, VG_EINVAL, "%s: must be text, a number or a bool", w);
            free(v);
            cJSON_AddItemToObject(t->fields, it->string, cJSON_Duplicate(it, false));
        }
    }
    return VG_OK;
}

vg_rc vg_template_parse(const char *text, size_t len, const char *where, vg_template *out,
                        vg_err *err)
{
    memset(out, 0, sizeof *out);
    out->severity = out->tlp = out->pap = -1;
    if (len > VG_TPL_MAX_FILE)
        return vg_fail(err, VG_EINVAL, "%s: larger than %u bytes", where, VG_TPL_MAX_FILE);
    cJSON *j;
    vg_rc prc = vg_json_parse_doc(text, len, where, &j, err);
    if (prc)
        return prc;
    out->src = vg_xstrndup(text, len);
    out->origin = vg_xstrdup(where);
    vg_rc rc = from_json(j, where, out->src, out, err);
    cJSON_Delete(j);
    if (rc)
        vg_template_clear(out);
    return rc;
}

vg_rc vg_template_load(const char *path, vg_template *out, vg_err *err)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f)
        return vg_fail(err, VG_EIO, "%s: %s", path, strerror(errno));
    vg_buf b;
    vg_buf_init(&b, VG_TPL_MAX_FILE);
    vg_rc rc = vg_buf_read_file(&b, f, path, err);
    fclose(f);
    if (rc == VG_OK)
        rc = vg_template_parse(vg_buf_str(&b), b.len, path, out, err);
    vg_buf_free(&b);
    return rc;
}

static int by_id(const void *a, const void *b)
{
    return strcmp(((const vg_template *)a)->id, ((const vg_template *)b)->id);
}

const vg_template *vg_template_find(const vg_template *items, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(items[i].id, id) == 0)
            return &items[i];
    return NULL;
}

vg_rc vg_template_library(const char *const *dirs, size_t ndirs, size_t user_dirs,
                          vg_template **items, size_t *n, vg_err *err)
{
    *items = NULL;
    *n = 0;
    size_t alloc = 0;
    vg_rc rc = VG_OK;
    for (size_t di = 0; di < ndirs && rc == VG_OK; di++) {
        if (!dirs[di])
            continue;
        DIR *d = opendir(dirs[di]);
        if (!d) {
            if (errno != ENOENT && errno != ENOTDIR)
                rc = vg_fail(err, VG_EIO, "%s: %s", dirs[di], strerror(errno));
            continue;
        }
        size_t first = *n, read = 0;
        struct dirent *e;
        while (rc == VG_OK && (e = readdir(d))) {
            size_t l = strlen(e->d_name);
            if (e->d_name[0] == '.' || l < 6 || strcmp(e->d_name + l - 5, ".json") != 0)
                continue;
            if (++read > VG_TPL_MAX_LIBRARY) {
                rc = vg_fail(err, VG_EINVAL, "%s: more than %d templates", dirs[di],
                             VG_TPL_MAX_LIBRARY);
                break;
            }
            if (*n == alloc) {
                alloc = alloc ? alloc * 2 : 16;
                *items = vg_xrealloc(*items, alloc * sizeof **items);
            }
            size_t pl = strlen(dirs[di]) + l + 2;
            char *path = vg_xmalloc(pl);
            snprintf(path, pl, "%s/%s", dirs[di], e->d_name);
            vg_template t;
            if ((rc = vg_template_load(path, &t, err)) == VG_OK) {
                const vg_template *seen = vg_template_find(*items, *n, t.id);
                if (seen && (size_t)(seen - *items) >= first) {
                    rc = vg_fail(err, VG_EINVAL, "%s: id '%s' is also the id of %s", path, t.id,
                                 seen->origin);
                    vg_template_clear(&t);
                } else if (seen) {
                    vg_template_clear(&t); /* an earlier directory's wins */
                } else {
                    t.user = di < user_dirs;
                    (*items)[(*n)++] = t;
                }
            }
            free(path);
        }
        closedir(d);
    }
    if (rc) {
        vg_templates_free(*items, *n);
        *items = NULL;
        *n = 0;
        return rc;
    }
    if (*n)
        qsort(*items, *n, sizeof **items, by_id);
    return VG_OK;
}

vg_rc vg_template_check(vg_ws *ws, const vg_template *t, const char *pbdir, vg_err *err)
{
    const char *where = t->origin ? t->origin : t->id;
    vg_field_def *defs;
    size_t nd;
    vg_rc rc = vg_field_defs(ws, &defs, &nd, err);
    if (rc)
        return rc;
    const cJSON *it;
    cJSON_ArrayForEach(it, t->fields)
    {
        char w[300];
        where_key(where, t->src, "fields", it->string, w, sizeof w);
        const vg_field_def *d = NULL;
        for (size_t k = 0; k < nd && !d; k++)
            if (strcmp(defs[k].name, it->string) == 0)
                d = &defs[k];
        if (!d) {
            rc = vg_fail(err, VG_EINVAL,
                         "%s: not a custom field of this workspace (vigil field"
                         " ls lists them)",
                         w);
            break;
        }
        char *v = vg_field_json_text(it), *norm = NULL;
        rc = vg_field_normalise(d, v, w, &norm, err);
        free(v);
        free(norm);
        if (rc)
            break;
    }
    for (size_t k = 0; rc == VG_OK && k < nd; k++)
        if (defs[k].required && !defs[k].def &&
            !cJSON_GetObjectItemCaseSensitive(t->fields, defs[k].name))
            rc = vg_fail(err, VG_EINVAL,
                         "%s: fields: %s is required (a %s) and has no default:"
                         " the template must give it",
                         where, defs[k].name, VG_FIELD_TYPE.names[defs[k].type]);
    vg_field_defs_free(defs, nd);
    for (size_t i = 0; rc == VG_OK && i < t->nplaybooks; i++) {
        vg_playbook p;
        vg_err e = {0};
        vg_rc f = vg_playbook_find(ws, pbdir, t->playbooks[i], &p, &e);
        vg_playbook_clear(&p);
        if (f == VG_ENOTFOUND) {
            char w[300];
            where_key(where, t->src, NULL, "playbooks", w, sizeof w);
            rc = vg_fail(err, VG_EINVAL,
                         "%s[%zu]: '%s' is not a playbook of the library or this"
                         " workspace (vigil playbook ls)",
                         w, i, t->playbooks[i]);
        } else if (f) {
            rc = vg_fail(err, f, "%s", e.msg);
        }
    }
    return rc;
}

char *vg_template_title(const vg_template *t, const char *title, int64_t now_ms, vg_err *err)
{
    bool wants = strstr(t->title, "{title}") != NULL;
    if (wants && (!title || !*title)) {
        vg_fail(err, VG_EINVAL, "template %s: its title (\"%s\") needs a TITLE", t->id, t->title);
        return NULL;
    }
    char day[16];
    time_t s = (time_t)(now_ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(day, sizeof day, "%Y-%m-%d", &tm);
    vg_buf b;
    vg_buf_init(&b, 4096);
    vg_rc rc = VG_OK;
    for (const char *p = t->title; *p && rc == VG_OK;) {
        if (strncmp(p, "{title}", 7) == 0) {
            rc = vg_buf_adds(&b, title);
            p += 7;
        } else if (strncmp(p, "{date}", 6) == 0) {
            rc = vg_buf_adds(&b, day);
            p += 6;
        } else {
            rc = vg_buf_add(&b, p, 1);
            p++;
        }
    }
    /* no {title} in the pattern: what the analyst typed follows it */
    if (rc == VG_OK && !wants && title && *title)
        rc = vg_buf_addf(&b, ": %s", title);
    if (rc) {
        vg_buf_free(&b);
        vg_fail(err, VG_EINVAL, "template %s: the title is too long", t->id);
        return NULL;
    }
    return vg_buf_take(&b);
}

vg_op *vg_template_case_op(const vg_template *t, const char *title, const cJSON *over)
{
    vg_op *op = vg_op_case_create(title, t->severity >= 0 ? VG_SEVERITY.names[t->severity] : NULL,
                                  t->case_description);
    if (t->tlp >= 0)
        cJSON_AddStringToObject(op->payload, "tlp", VG_TLP.names[t->tlp]);
    if (t->pap >= 0)
        cJSON_AddStringToObject(op->payload, "pap", VG_PAP.names[t->pap]);
    if (t->ntags) {
        cJSON *a = cJSON_AddArrayToObject(op->payload, "tags");
        for (size_t i = 0; i < t->ntags; i++)
            cJSON_AddItemToArray(a, cJSON_CreateString(t->tags[i]));
    }
    cJSON *f = cJSON_Duplicate(t->fields, true);
    const cJSON *it, *x;
    cJSON_ArrayForEach(it, over)
    {
        if (strcmp(it->string, "fields") == 0) {
            cJSON_ArrayForEach(x, it)
            {
                cJSON_DeleteItemFromObjectCaseSensitive(f, x->string);
                cJSON_AddItemToObject(f, x->string, cJSON_Duplicate(x, true));
            }
        } else if (strcmp(it->string, "title") != 0) {
            cJSON_DeleteItemFromObjectCaseSensitive(op->payload, it->string);
            cJSON_AddItemToObject(op->payload, it->string, cJSON_Duplicate(it, true));
        }
    }
    cJSON_AddItemToObject(op->payload, "fields", f);
    return op;
}

vg_rc vg_template_new_case(vg_ws *ws, const vg_template *t, const char *title, const cJSON *over,
                           const char *pbdir, vg_id case_out, vg_err *err)
{
    vg_playbook *pbs = vg_xcalloc(t->nplaybooks + 1, sizeof *pbs);
    vg_rc rc = VG_OK;
    size_t npb = 0;
    for (; npb < t->nplaybooks && rc == VG_OK; npb++) {
        vg_err e = {0};
        rc = vg_playbook_find(ws, pbdir, t->playbooks[npb], &pbs[npb], &e);
        if (rc)
            rc = vg_fail(err, VG_EINVAL, "template %s: playbooks[%zu]: %s", t->id, npb, e.msg);
    }
    vg_op *op = NULL;
    if (rc == VG_OK)
        rc = vg_batch_begin(ws, err);
    if (rc == VG_OK) {
        op = vg_template_case_op(t, title, over);
        memcpy(case_out, op->target, sizeof(vg_id));
        rc = vg_apply(ws, op, err);
        for (size_t i = 0; i < t->nplaybooks && rc == VG_OK; i++)
            rc = vg_playbook_apply(ws, case_out, &pbs[i], NULL, NULL, err);
        if (rc == VG_OK)
            rc = vg_batch_commit(ws, err);
        if (rc)
            vg_batch_rollback(ws);
    }
    vg_op_free(op);
    vg_playbooks_free(pbs, npb);
    return rc;
}

cJSON *vg_template_json(const vg_template *t)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "id", t->id);
    char *s = vg_utf8_repair(t->name);
    cJSON_AddStringToObject(j, "name", s);
    free(s);
    if (*t->description) { /* as the file has it: absent when none */
        s = vg_utf8_repair(t->description);
        cJSON_AddStringToObject(j, "description", s);
        free(s);
    }
    s = vg_utf8_repair(t->title);
    cJSON_AddStringToObject(j, "title", s);
    free(s);
    if (t->severity >= 0)
        cJSON_AddStringToObject(j, "severity", VG_SEVERITY.names[t->severity]);
    cJSON *a = cJSON_AddArrayToObject(j, "tags");
    for (size_t i = 0; i < t->ntags; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(t->tags[i]));
    if (t->tlp >= 0)
        cJSON_AddStringToObject(j, "tlp", VG_TLP.names[t->tlp]);
    if (t->pap >= 0)
        cJSON_AddStringToObject(j, "pap", VG_PAP.names[t->pap]);
    cJSON_AddItemToObject(j, "fields", cJSON_Duplicate(t->fields, true));
    if (t->case_description)
        cJSON_AddStringToObject(j, "case_description", t->case_description);
    a = cJSON_AddArrayToObject(j, "playbooks");
    for (size_t i = 0; i < t->nplaybooks; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(t->playbooks[i]));
    if (t->origin) {
        s = vg_utf8_repair(t->origin);
        cJSON_AddStringToObject(j, "origin", s);
        free(s);
    }
    cJSON_AddBoolToObject(j, "user", t->user);
    return j;
}
