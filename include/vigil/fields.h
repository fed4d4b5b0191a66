/*
 * fields.h — a workspace's custom fields: their definitions, the values cases hold,
 * and the check that makes what an analyst typed a stored value.
 *
 * A definition (name, type, enum values, required, default, description) is
 * workspace data written through the door by field.define and field.remove ops
 * (op.h), one last-writer-wins register per name, so definitions sync like the
 * rest. A case's values are case.set ops on "field.NAME" (LWW per case and name)
 * and a case.create's "fields" object. Values are stored as text in a canonical
 * form per type:
 *   string  the text (at most VG_FIELD_MAX_VALUE bytes)
 *   number  a decimal number ("1000", "12.5"), finite
 *   date    "YYYY-MM-DD", or "YYYY-MM-DDTHH:MM:SSZ" for a time (UTC); so text
 *           order is time order
 *   enum    one of the definition's values, exactly
 *   bool    "true" or "false" (typed as true/false/yes/no/1/0)
 * The door checks a local op's value against the definition; a received op's value
 * is kept as its author stored it (its definition may not have arrived, or may have
 * changed since), so replicas converge whatever order ops arrive in.
 */
#ifndef VIGIL_FIELDS_H
#define VIGIL_FIELDS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "vigil/err.h"
#include "vigil/model.h"
#include "vigil/op.h"
#include "vigil/ws.h"

#define VG_FIELD_MAX_NAME 64
#define VG_FIELD_MAX_VALUE 4096
#define VG_FIELD_MAX_VALUES 64 /* an enum's values, each at most 128 bytes */
#define VG_FIELD_MAX_DEFS 200  /* definitions a workspace holds */

typedef enum {
    VG_FT_STRING,
    VG_FT_NUMBER,
    VG_FT_DATE,
    VG_FT_ENUM,
    VG_FT_BOOL,
} vg_field_type;

/* "string", "number", "date", "enum", "bool" */
extern const vg_enum VG_FIELD_TYPE;

typedef struct vg_field_def {
    char name[VG_FIELD_MAX_NAME + 1]; /* [a-z][a-z0-9_]* */
    int type;                         /* vg_field_type */
    char **values;                    /* enum values, in order */
    size_t nvalues;
    bool required;
    char *def;         /* the default in canonical form, NULL for none */
    char *description; /* "" for none */
} vg_field_def;

void vg_field_def_clear(vg_field_def *d);
void vg_field_defs_free(vg_field_def *d, size_t n);

/* Is name a field name: [a-z][a-z0-9_]*, at most VG_FIELD_MAX_NAME bytes? */
bool vg_field_name_ok(const char *name);

/* What was typed (in) as the stored form of d's type, fresh in *out; VG_EINVAL
 * naming the field and the type it expects ("field loss: 'lots' is not a number").
 * where prefixes the message when not NULL ("phishing.json: fields.loss"). */
VG_WUR vg_rc vg_field_normalise(const vg_field_def *d, const char *in, const char *where,
                                char **out, vg_err *err);
/* A JSON value (text, number or bool) as text to normalise, fresh; NULL when it
 * is none of those. */
char *vg_field_json_text(const cJSON *v);

/* The definitions (removed ones left out), by name. */
VG_WUR vg_rc vg_field_defs(vg_ws *ws, vg_field_def **items, size_t *n, vg_err *err);
/* One definition; VG_ENOTFOUND (naming it) when there is none. */
VG_WUR vg_rc vg_field_def_get(vg_ws *ws, const char *name, vg_field_def *out, vg_err *err);

/* A definition as the payload of its field.define op, and as JSON for --json. */
cJSON *vg_field_def_json(const vg_field_def *d);
/* A definition read back from that JSON (a field.define payload, a template's
 * check): VG_EINVAL naming what is wrong, the default checked against the type. */
VG_WUR vg_rc vg_field_def_from_json(const cJSON *j, vg_field_def *out, vg_err *err);

/* One value a case holds. */
typedef struct vg_field_value {
    char name[VG_FIELD_MAX_NAME + 1];
    char *value;
} vg_field_value;
void vg_field_values_free(vg_field_value *v, size_t n);
/* The values a case holds for defined fields, in the definitions' name order. */
VG_WUR vg_rc vg_case_fields(vg_ws *ws, const char *case_id, vg_field_value **items, size_t *n,
                            vg_err *err);
/* A stored value as JSON for d's type (a number, a bool, else text). */
cJSON *vg_field_value_json(const vg_field_def *d, const char *value);
/* The case's values as a JSON object {name: value}, typed by the definitions. */
VG_WUR vg_rc vg_case_fields_json(vg_ws *ws, const char *case_id, cJSON **out, vg_err *err);

/* Ops (op.h): define (or redefine) a field, remove its definition, set a case's
 * value (value NULL or "": clear it). */
vg_op *vg_op_field_define(const vg_field_def *d);
vg_op *vg_op_field_remove(const char *name);
vg_op *vg_op_field_set(const char *case_id, const char *name, const char *value);

#endif
