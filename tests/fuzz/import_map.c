/*
 * import_map.c — what an import does to one record before it is stored (src/
 * formats/import.c and import_map.c): the JSON parse, format detection, the
 * mapping of each vendor format onto vigil's alert, and the redaction of the raw
 * event, without a workspace (the import harness stores).
 *
 * The input is one record. It is mapped as each format in turn, detected or not,
 * so every mapper sees every record. Properties: a refusal says why; a mapped
 * alert has a title and an event time and prints as JSON; the redacted raw event
 * of a valid record is valid JSON, and no member whose key names a password keeps
 * its value.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "import.h"

/* Every member of j (at any depth) whose key says "password" holds "[REDACTED]".
 * Keys with escapes are left out: the redactor reads keys as written. */
static void check_redacted(const cJSON *j)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, j) {
        if (it->string && strcasestr(it->string, "password") && !strchr(it->string, '\\'))
            fz_check(cJSON_IsString(it) && strcmp(it->valuestring, "[REDACTED]") == 0,
                     "'%.40s' kept its value", it->string);
        else
            check_redacted(it);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fz_cstr(data, size);
    size_t len = strlen(text);
    const char *end = NULL;
    cJSON *rec = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (!cJSON_IsObject(rec)) {
        cJSON_Delete(rec);
        free(text);
        return 0;
    }
    imp_format detected = imp_detect(rec);
    fz_check(detected >= IMP_AUTO && detected < IMP_NFORMATS, "detected format %d", detected);
    for (int fmt = IMP_AUTO; fmt < IMP_NFORMATS; fmt++) {
        cJSON *p = cJSON_CreateObject();
        char why[300] = "";
        imp_map_rc m = imp_map(rec, (imp_format)fmt, 3600000, p, why, sizeof why);
        if (m == MAP_BAD)
            fz_check(why[0], "%s: refused without saying why", imp_format_names[fmt]);
        if (m == MAP_OK) {
            fz_check(cJSON_IsString(cJSON_GetObjectItem(p, "title")), "%s: no title",
                     imp_format_names[fmt]);
            fz_check(cJSON_IsNumber(cJSON_GetObjectItem(p, "event_time")), "%s: no event time",
                     imp_format_names[fmt]);
            char *s = cJSON_PrintUnformatted(p);
            fz_check(s != NULL, "%s: the alert does not print", imp_format_names[fmt]);
            cJSON_free(s);
        }
        cJSON_Delete(p);
    }
    cJSON_Delete(rec);

    /* The raw event as import keeps it: only strict JSON is asked to stay JSON
     * (cJSON takes control bytes for white space). */
    bool strict = end && (size_t)(end - text) <= len;
    for (size_t i = 0; i < len && strict; i++)
        strict = (unsigned char)text[i] >= 0x20 || strchr("\t\n\r", text[i]);
    char why[200];
    char *red = imp_redact(text, len, why, sizeof why);
    fz_check(red || why[0], "a raw event refused without a reason");
    cJSON *orig = strict && red ? cJSON_Parse(text) : NULL;
    if (orig) {
        cJSON *r = cJSON_Parse(red);
        fz_check(r != NULL, "the redacted record is not JSON: %.200s", red);
        check_redacted(r);
        cJSON_Delete(r);
    }
    cJSON_Delete(orig);
    free(red);
    free(text);
    return 0;
}
