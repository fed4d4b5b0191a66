/*
 * fields.c — custom fields (contract in vigil/fields.h): the type check that turns
 * what an analyst typed into a stored value, reading definitions and a case's
 * values back, their JSON, and the op constructors. The door (apply.c) writes the
 * field_defs and case_fields tables (schema step 17); this file only reads them.
 */
#include "internal.h"
#include "vigil/fields.h"
#include "vigil/timefmt.h"
#include "vigil/text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *const type_names[] = {"string", "number", "date", "enum", "bool"};
const vg_enum VG_FIELD_TYPE = {"type", type_names, 5};

void vg_field_def_clear(vg_field_def *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->nvalues; i++)
        free(d->values[i]);
    free(d->values);
    free(d->def);
    free(d->description);
    memset(d, 0, sizeof *d);
}

void vg_field_defs_free(vg_field_def *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        vg_field_def_clear(&d[i]);
    free(d);
}

void vg_field_values_free(vg_field_value *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].value);
    free(v);
}

bool vg_field_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > VG_FIELD_MAX_NAME || name[0] < 'a' || name[0] > 'z')
        return false;
    return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

/* A number in its shortest exact text. */
static char *number_text(double d)
{
    char buf[64];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    if (strcmp(buf, "-0") == 0)
        snprintf(buf, sizeof buf, "0");
    return vg_xstrdup(buf);
}

static bool is_day(const char *s)
{
    return strlen(s) == 10 && strspn(s, "0123456789-") == 10 && s[4] == '-' && s[7] == '-';
}

vg_rc vg_field_normalise(const vg_field_def *d, const char *in, const char *where, char **out,
                         vg_err *err)
{
    char label[160];
    if (where)
        snprintf(label, sizeof label, "%s", where);
    else
        snprintf(label, sizeof label, "field %s", d->name);
    *out = NULL;
    if (!in)
        return vg_fail(err, VG_EINVAL, "%s: a %s value is needed", label,
                       VG_FIELD_TYPE.names[d->type]);
    size_t n = strlen(in);
    if (n > VG_FIELD_MAX_VALUE)
        return vg_fail(err, VG_EINVAL, "%s: longer than %d bytes", label, VG_FIELD_MAX_VALUE);
    if (!vg_utf8_valid(in, n))
        return vg_fail(err, VG_EINVAL, "%s: not valid UTF-8", label);
    switch (d->type) {
    case VG_FT_NUMBER: {
        char *end;
        double v = n ? strtod(in, &end) : 0;
        if (!n || *end || !isfinite(v) || strspn(in, "0123456789+-.eE") != n)
            return vg_fail(err, VG_EINVAL,
                           "%s: '%s' is not a number (number expected, as 1000"
                           " or 12.5)",
                           label, in);
        *out = number_text(v);
        return VG_OK;
    }
    case VG_FT_DATE: {
        int64_t ms;
        if (!vg_parse_iso8601(in, &ms))
            return vg_fail(err, VG_EINVAL,
                           "%s: '%s' is not a date (date expected, as 2026-11-03"
                           " or 2026-11-03T14:02:00Z)",
                           label, in);
        if (is_day(in)) {
            *out = vg_xstrdup(in);
            return VG_OK;
        }
        time_t t = (time_t)(ms / 1000);
        struct tm tm;
        char buf[32];
        gmtime_r(&t, &tm);
        strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
        *out = vg_xstrdup(buf);
        return VG_OK;
    }
    case VG_FT_BOOL: {
        static const char *const yes[] = {"true", "yes", "1", "on"};
        static const char *const no[] = {"false", "no", "0", "off"};
        for (size_t i = 0; i < 4; i++) {
            if (strcasecmp(in, yes[i]) == 0) {
                *out = vg_xstrdup("true");
                return VG_OK;
            }
            if (strcasecmp(in, no[i]) == 0) {
                *out = vg_xstrdup("false");
                return VG_OK;
            }
        }
        return vg_fail(err, VG_EINVAL, "%s: '%s' is not a bool (bool expected: true or false)",
                       label, in);
    }
    case VG_FT_ENUM: {
        for (size_t i = 0; i < d->nvalues; i++)
            if (strcmp(d->values[i], in) == 0) {
                *out = vg_xstrdup(in);
                return VG_OK;
            }
        char list[1024] = "";
        size_t len = 0;
        for (size_t i = 0; i < d->nvalues && len < sizeof list - 1; i++)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "",
                                    d->values[i]);
        return vg_fail(err, VG_EINVAL, "%s: '%s' is not one of %s", label, in, list);
    }
    default:
        *out = vg_xstrdup(in);
        return VG_OK;
    }
}

char *vg_field_json_text(const cJSON *v)
{
    if (cJSON_IsString(v))
        return vg_xstrdup(v->valuestring);
    if (cJSON_IsBool(v))
        return vg_xstrdup(cJSON_IsTrue(v) ? "true" : "false");
    if (cJSON_IsNumber(v) && isfinite(v->valuedouble))
        return number_text(v->valuedouble);
    return NULL;
}

cJSON *vg_field_def_json(const vg_field_def *d)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "name", d->name);
    cJSON_AddStringToObject(j, "type", VG_FIELD_TYPE.names[d->type]);
    if (d->type == VG_FT_ENUM) {
        cJSON *a = cJSON_AddArrayToObject(j, "values");
        for (size_t i = 0; i < d->nvalues; i++)
            cJSON_AddItemToArray(a, cJSON_CreateString(d->values[i]));
    }
    cJSON_AddBoolToObject(j, "required", d->required);
    if (d->def)
        cJSON_AddStringToObject(j, "default", d->def);
    if (d->description && *d->description)
        cJSON_AddStringToObject(j, "description", d->description);
    return j;
}

vg_rc vg_field_def_from_json(const cJSON *j, vg_field_def *out, vg_err *err)
{
    memset(out, 0, sizeof *out);
    static const char *const known[] = {"name",    "type",        "values",  "required",
                                        "default", "description", "proposal"};
    const cJSON *it;
    cJSON_ArrayForEach(it, j)
    {
        size_t k = 0;
        while (k < sizeof known / sizeof *known && strcmp(known[k], it->string) != 0)
            k++;
        if (k == sizeof known / sizeof *known)
            return vg_fail(err, VG_EINVAL,
                           "'%s' is not a member of a field definition"
                           " (name, type, values, required, default, description)",
                           it->string);
    }
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "name");
    if (!cJSON_IsString(name) || !vg_field_name_ok(name->valuestring))
        return vg_fail(err, VG_EINVAL,
                       "name: '%s' is not a field name (a-z, 0-9 and _, from a"
                       " letter, at most %d bytes)",
                       cJSON_IsString(name) ? name->valuestring : "(none)", VG_FIELD_MAX_NAME);
    snprintf(out->name, sizeof out->name, "%s", name->valuestring);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "type");
    out->type = cJSON_IsString(type) ? vg_enum_parse(&VG_FIELD_TYPE, type->valuestring) : -1;
    if (out->type < 0) {
        int rc = vg_fail(err, VG_EINVAL,
                         "field %s: type '%s' is not one of string, number,"
                         " date, enum, bool",
                         out->name, cJSON_IsString(type) ? type->valuestring : "(none)");
        out->type = 0;
        return rc;
    }
    const cJSON *vals = cJSON_GetObjectItemCaseSensitive(j, "values");
    if (vals && !cJSON_IsNull(vals) && out->type != VG_FT_ENUM &&
        !(cJSON_IsArray(vals) && cJSON_GetArraySize(vals) == 0))
        return vg_fail(err, VG_EINVAL, "field %s: only an enum has values", out->name);
    if (out->type == VG_FT_ENUM) {
        int nv = cJSON_IsArray(vals) ? cJSON_GetArraySize(vals) : 0;
        if (nv < 1)
            return vg_fail(err, VG_EINVAL, "field %s: an enum needs its values (--values a,b,c)",
                           out->name);
        if (nv > VG_FIELD_MAX_VALUES)
            return vg_fail(err, VG_EINVAL, "field %s: more than %d values", out->name,
                           VG_FIELD_MAX_VALUES);
        out->values = vg_xcalloc((size_t)nv, sizeof *out->values);
        cJSON_ArrayForEach(it, vals)
        {
            if (!cJSON_IsString(it) || !*it->valuestring || strlen(it->valuestring) > 128 ||
                !vg_utf8_valid(it->valuestring, strlen(it->valuestring)))
                return vg_fail(err, VG_EINVAL,
                               "field %s: every value must be text of 1 to 128"
                               " bytes",
                               out->name);
            for (size_t i = 0; i < out->nvalues; i++)
                if (strcmp(out->values[i], it->valuestring) == 0)
                    return vg_fail(err, VG_EINVAL, "field %s: value '%s' is there twice", out->name,
                                   it->valuestring);
            out->values[out->nvalues++] = vg_xstrdup(it->valuestring);
        }
    }
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(j, "required");
    if (req && !cJSON_IsBool(req))
        return vg_fail(err, VG_EINVAL, "field %s: required must be true or false", out->name);
    out->required = cJSON_IsTrue(req);
    const cJSON *desc = cJSON_GetObjectItemCaseSensitive(j, "description");
    if (desc && !cJSON_IsString(desc))
        return vg_fail(err, VG_EINVAL, "field %s: description must be text", out->name);
    if (desc && strlen(desc->valuestring) > 1024)
        return vg_fail(err, VG_EINVAL, "field %s: description longer than 1024 bytes", out->name);
    out->description = vg_xstrdup(desc ? desc->valuestring : "");
    const cJSON *def = cJSON_GetObjectItemCaseSensitive(j, "default");
    if (def && !cJSON_IsNull(def)) {
        char *t = vg_field_json_text(def), where[120];
        snprintf(where, sizeof where, "field %s: default", out->name);
        vg_rc rc = vg_field_normalise(out, t, where, &out->def, err);
        free(t);
        if (rc)
            return rc;
    }
    return VG_OK;
}

/* A row of field_defs: name, type, enum_values, required, default_value, description. */
static void read_def(sqlite3_stmt *st, vg_field_def *d)
{
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "%s", (const char *)sqlite3_column_text(st, 0));
    d->type = vg_enum_parse(&VG_FIELD_TYPE, (const char *)sqlite3_column_text(st, 1));
    if (d->type < 0)
        d->type = VG_FT_STRING;
    cJSON *vals = cJSON_Parse((const char *)sqlite3_column_text(st, 2));
    int nv = cJSON_IsArray(vals) ? cJSON_GetArraySize(vals) : 0;
    if (nv > 0) {
        d->values = vg_xcalloc((size_t)nv, sizeof *d->values);
        const cJSON *it;
        cJSON_ArrayForEach(it, vals)
        {
            if (cJSON_IsString(it))
                d->values[d->nvalues++] = vg_xstrdup(it->valuestring);
        }
    }
    cJSON_Delete(vals);
    d->required = sqlite3_column_int(st, 3) != 0;
    d->def = sqlite3_column_type(st, 4) == SQLITE_NULL ? NULL : col_dup(st, 4);
    d->description = col_dup(st, 5);
}

#define DEF_COLS "name, type, enum_values, required, default_value, description"

vg_rc vg_field_defs(vg_ws *ws, vg_field_def **items, size_t *n, vg_err *err)
{
    *items = NULL;
    *n = 0;
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt_text(ws,
                            "SELECT " DEF_COLS " FROM field_defs WHERE removed = 0"
                            " ORDER BY name LIMIT 1000",
                            &st, err);
    if (rc)
        return rc;
    size_t cap = 0;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            *items = vg_xrealloc(*items, cap * sizeof **items);
        }
        read_def(st, &(*items)[(*n)++]);
    }
    sqlite3_reset(st);
    if (s != SQLITE_DONE) {
        vg_field_defs_free(*items, *n);
        *items = NULL;
        *n = 0;
        return ws_dberr(ws, err, "reading custom fields");
    }
    return VG_OK;
}

vg_rc vg_field_def_get(vg_ws *ws, const char *name, vg_field_def *out, vg_err *err)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt_text(ws,
                            "SELECT " DEF_COLS " FROM field_defs WHERE name = ?1"
                            " AND removed = 0",
                            &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW)
        read_def(st, out);
    sqlite3_reset(st);
    if (s == SQLITE_ROW)
        return VG_OK;
    if (s != SQLITE_DONE)
        return ws_dberr(ws, err, "reading a custom field");
    return vg_fail(err, VG_ENOTFOUND,
                   "'%s' is not a custom field of this workspace (vigil field"
                   " ls lists them)",
                   name);
}

vg_rc vg_case_fields(vg_ws *ws, const char *case_id, vg_field_value **items, size_t *n, vg_err *err)
{
    *items = NULL;
    *n = 0;
    sqlite3_stmt *st;
    vg_rc rc = ws_stmt_text(ws,
                            "SELECT v.name, v.value FROM case_fields v JOIN field_defs d"
                            " ON d.name = v.name AND d.removed = 0 WHERE v.case_id = ?1"
                            " ORDER BY v.name",
                            &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
    size_t cap = 0;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            *items = vg_xrealloc(*items, cap * sizeof **items);
        }
        vg_field_value *v = &(*items)[(*n)++];
        snprintf(v->name, sizeof v->name, "%s", (const char *)sqlite3_column_text(st, 0));
        v->value = col_dup(st, 1);
    }
    sqlite3_reset(st);
    if (s != SQLITE_DONE) {
        vg_field_values_free(*items, *n);
        *items = NULL;
        *n = 0;
        return ws_dberr(ws, err, "reading a case's custom fields");
    }
    return VG_OK;
}

cJSON *vg_field_value_json(const vg_field_def *d, const char *value)
{
    char *r = vg_utf8_repair(value ? value : "");
    cJSON *j = NULL;
    if (d && d->type == VG_FT_NUMBER) {
        char *end;
        double v = strtod(r, &end);
        if (*r && !*end && isfinite(v))
            j = cJSON_CreateNumber(v);
    } else if (d && d->type == VG_FT_BOOL && (!strcmp(r, "true") || !strcmp(r, "false"))) {
        j = cJSON_CreateBool(strcmp(r, "true") == 0);
    }
    if (!j)
        j = cJSON_CreateString(r);
    free(r);
    return j;
}

vg_rc vg_case_fields_json(vg_ws *ws, const char *case_id, cJSON **out, vg_err *err)
{
    vg_field_def *defs;
    vg_field_value *vals;
    size_t nd, nv;
    *out = NULL;
    vg_rc rc = vg_field_defs(ws, &defs, &nd, err);
    if (rc)
        return rc;
    if ((rc = vg_case_fields(ws, case_id, &vals, &nv, err))) {
        vg_field_defs_free(defs, nd);
        return rc;
    }
    cJSON *j = cJSON_CreateObject();
    for (size_t i = 0; i < nv; i++) {
        const vg_field_def *d = NULL;
        for (size_t k = 0; k < nd && !d; k++)
            if (strcmp(defs[k].name, vals[i].name) == 0)
                d = &defs[k];
        cJSON_AddItemToObject(j, vals[i].name, vg_field_value_json(d, vals[i].value));
    }
    vg_field_defs_free(defs, nd);
    vg_field_values_free(vals, nv);
    *out = j;
    return VG_OK;
}

vg_op *vg_op_field_define(const vg_field_def *d)
{
    vg_op *op = vg_op_new("field.define", NULL);
    cJSON_Delete(op->payload);
    op->payload = vg_field_def_json(d);
    return op;
}

vg_op *vg_op_field_remove(const char *name)
{
    vg_op *op = vg_op_new("field.remove", NULL);
    cJSON_AddStringToObject(op->payload, "name", name);
    return op;
}

vg_op *vg_op_field_set(const char *case_id, const char *name, const char *value)
{
    vg_op *op = vg_op_new("case.set", case_id);
    char field[VG_FIELD_MAX_NAME + 8];
    snprintf(field, sizeof field, "field.%s", name);
    cJSON_AddStringToObject(op->payload, "field", field);
    if (value && *value)
        cJSON_AddStringToObject(op->payload, "value", value);
    else
        cJSON_AddNullToObject(op->payload, "value");
    return op;
}
