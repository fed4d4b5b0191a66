/*
 * json.c — the core's JSON spans (src/core/json.c): member, element and value
 * ends found without parsing, which read raw events out of imports and ops, and
 * the re-indenter of exports.
 *
 * On any bytes they must not read past the end. On valid JSON (cJSON, the parser
 * the rest of vigil uses, is the oracle) they must agree with a parse: the span of
 * each top-level member (of a key written without escapes) and each array element
 * parses to the value cJSON gives, a value ends where the text does, and the
 * re-indented text parses to the same value.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "vigil/json.h"

/* The span [s, e) parses to a value equal to want. */
static void check_span(const char *s, const char *e, const cJSON *want, const char *what)
{
    char *span = fz_cstr((const uint8_t *)s, (size_t)(e - s));
    cJSON *got = cJSON_Parse(span);
    fz_check(got && fz_same(got, want), "%s: the span '%.80s' is not the value", what, span);
    cJSON_Delete(got);
    free(span);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *raw = (const char *)data, *vs, *ve, *end = raw + size;
    /* Robustness on any bytes: every span stays inside the input. */
    fz_check(vg_json_value_end(raw, end) <= end, "value end past the end");
    if (size && raw[0] == '"')
        fz_check(vg_json_string_end(raw, end) <= end, "string end past the end");
    if (vg_json_member(raw, size, "raw", &vs, &ve))
        fz_check(raw <= vs && vs <= ve && ve <= end, "member span outside the input");
    for (size_t i = 0; i < 4 && vg_json_element(raw, size, i, &vs, &ve); i++)
        fz_check(raw <= vs && vs <= ve && ve <= end, "element span outside the input");

    char *text = fz_cstr(data, size);
    free(vg_json_reindent(text));
    size_t len = strlen(text);
    /* cJSON takes any control byte for white space, and raw ones in strings: such
     * text is not JSON, and the spans need not agree on it. */
    bool strict = true;
    for (size_t i = 0; i < len; i++)
        strict = strict && ((unsigned char)text[i] >= 0x20 || strchr("\t\n\r", text[i]));
    cJSON *j = strict ? cJSON_ParseWithOpts(text, NULL, true) : NULL;
    if (!j) {
        free(text);
        return 0;
    }
    const char *s = text;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    const char *e = vg_json_value_end(s, text + len);
    check_span(s, e, j, "the value");

    char *re = vg_json_reindent(text);
    cJSON *rj = cJSON_Parse(re);
    fz_check(rj && fz_same(rj, j), "the re-indented text is another value");
    cJSON_Delete(rj);
    free(re);

    const cJSON *it;
    size_t n = 0;
    if (cJSON_IsObject(j)) {
        cJSON_ArrayForEach(it, j) {
            const char *k = it->string;
            /* the spans match keys byte for byte, and cJSON decodes them: keys are
             * looked for in text without escapes ("\u0000raw" reads as "") */
            if (strchr(text, '\\') || cJSON_GetObjectItemCaseSensitive(j, k) != it)
                continue;
            bool found = vg_json_member(text, len, k, &vs, &ve);
            fz_check(found, "member '%.40s' not found", k);
            check_span(vs, ve, it, "a member");
        }
    } else if (cJSON_IsArray(j)) {
        cJSON_ArrayForEach(it, j) {
            fz_check(vg_json_element(text, len, n, &vs, &ve), "element %zu not found", n);
            check_span(vs, ve, it, "an element");
            n++;
        }
        fz_check(!vg_json_element(text, len, n, &vs, &ve), "an element past the last");
    }
    cJSON_Delete(j);
    free(text);
    return 0;
}
