/*
 * template.c — case templates and custom field values (src/core/template.c,
 * fields.c): files an analyst writes by hand or is sent, and values typed or
 * received.
 *
 * The input is read as a template file and, line by line, as a value of each
 * field type. Properties: a refusal names the file; a template that parses prints
 * as JSON that parses again to the same template; its title pattern expands
 * (or says it needs a title); a value that normalises is valid UTF-8 within the
 * cap and normalises to itself again (the form the door stores is a fixed point,
 * so a received op's value reads the same on every replica).
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "vigil/fields.h"
#include "vigil/template.h"
#include "vigil/text.h"

static void check_template(const char *s, size_t n)
{
    vg_template t;
    vg_err err = {0};
    if (vg_template_parse(s, n, "fuzz.json", &t, &err) != VG_OK) {
        fz_check(strncmp(err.msg, "fuzz.json: ", 11) == 0, "a refusal names the file: %s",
                 err.msg);
        return;
    }
    cJSON *j = vg_template_json(&t);
    cJSON_DeleteItemFromObjectCaseSensitive(j, "origin");
    cJSON_DeleteItemFromObjectCaseSensitive(j, "user");
    char *text = cJSON_PrintUnformatted(j);
    fz_check(text != NULL, "a template prints");
    vg_template u;
    fz_check(vg_template_parse(text, strlen(text), "again", &u, &err) == VG_OK,
             "a printed template parses: %s", err.msg);
    cJSON *k = vg_template_json(&u);
    cJSON_DeleteItemFromObjectCaseSensitive(k, "origin");
    cJSON_DeleteItemFromObjectCaseSensitive(k, "user");
    char *again = cJSON_PrintUnformatted(k);
    fz_check(again && strcmp(text, again) == 0, "printing is stable: %s / %s", text, again);
    char *title = vg_template_title(&t, "x", 0, &err);
    fz_check(title || strstr(err.msg, "TITLE") || strstr(err.msg, "too long"),
             "a title or why not: %s", err.msg);
    free(title);
    cJSON_free(text);
    cJSON_free(again);
    cJSON_Delete(j);
    cJSON_Delete(k);
    vg_template_clear(&t);
    vg_template_clear(&u);
}

static void check_value(const char *v)
{
    char *vals[] = {"a", "b", "\xc3\xa9t\xc3\xa9"};
    for (int type = 0; type < 5; type++) {
        vg_field_def d = {.name = "f", .type = type};
        if (type == VG_FT_ENUM) {
            d.values = vals;
            d.nvalues = 3;
        }
        char *out = NULL, *again = NULL;
        vg_err err = {0};
        if (vg_field_normalise(&d, v, NULL, &out, &err) != VG_OK) {
            fz_check(strncmp(err.msg, "field f: ", 9) == 0, "a refusal names the field: %s",
                     err.msg);
            continue;
        }
        size_t n = strlen(out);
        fz_check(n <= VG_FIELD_MAX_VALUE && vg_utf8_valid(out, n), "a stored value is valid");
        fz_check(vg_field_normalise(&d, out, NULL, &again, &err) == VG_OK,
                 "a stored %s value normalises again: '%s': %s", VG_FIELD_TYPE.names[type], out,
                 err.msg);
        fz_check(strcmp(out, again) == 0, "a stored %s value is a fixed point: '%s' -> '%s'",
                 VG_FIELD_TYPE.names[type], out, again);
        free(out);
        free(again);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_template((const char *)data, size);
    char *s = fz_cstr(data, size);
    for (char *p = s, *nl; p; p = nl ? nl + 1 : NULL) {
        nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        check_value(p);
    }
    free(s);
    return 0;
}
