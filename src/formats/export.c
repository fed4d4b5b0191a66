/*
 * export.c — reading a case for export, the format table, and what the writers
 * share: CSV fields that a spreadsheet will not run, HTML escaping, name-based
 * UUIDs, and the tactic of a timeline event.
 *
 * UUIDs are version 5 (SHA-1 over a namespace and a name, RFC 9562), so an object
 * keeps its STIX id from one export to the next and a peer that imports twice
 * updates instead of duplicating. SHA-1 comes from nettle (Debian nettle-dev): a
 * small, well-kept library; libsodium, which the core uses, has no SHA-1, and the
 * UUID version is fixed by the RFC and by STIX's id pattern.
 */
#include "export.h"

#include <cjson/cJSON.h>
#include <nettle/sha1.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vigil/fields.h"
#include "vigil/evidence.h"
#include "vigil/json.h"
#include "vigil/query.h"
#include "vigil/text.h"

const char *const EXPORT_FORMAT_NAMES[EXPORT__N] = {"stix", "misp", "timesketch",
                                                    "timesketch-csv", "markdown", "html"};

int export_format_parse(const char *name)
{
    for (int i = 0; name && i < EXPORT__N; i++)
        if (strcasecmp(name, EXPORT_FORMAT_NAMES[i]) == 0)
            return i;
    if (name && strcasecmp(name, "md") == 0)
        return EXPORT_MARKDOWN;
    return -1;
}

vg_rc export_load(vg_ws *ws, const char *case_id, const vg_attack *attack, export_case *out,
                  vg_err *err)
{
    memset(out, 0, sizeof *out);
    out->attack = attack;
    vg_rc rc = vg_case_get(ws, case_id, &out->c, err);
    if (rc != VG_OK)
        return rc;
    if ((rc = vg_timeline(ws, case_id, VG_BY_OCCURRED, 0, &out->events, &out->nevents, err)) ||
        (rc = vg_artifacts_of_case(ws, case_id, &out->arts, &out->narts, err)) ||
        (rc = vg_tasks_of_case(ws, case_id, &out->tasks, &out->ntasks, err)) ||
        (rc = vg_notes_of_case(ws, case_id, &out->notes, &out->nnotes, err)) ||
        (rc = vg_alerts_of_case(ws, case_id, 10000, &out->alerts, &out->nalerts, err)) ||
        (rc = vg_field_defs(ws, &out->fdefs, &out->nfdefs, err)) ||
        (rc = vg_case_fields(ws, case_id, &out->fields, &out->nfields, err)) ||
        (rc = vg_evidence_list(ws, case_id, &out->evidence, &out->nevidence, err)))
        export_case_clear(out);
    return rc;
}

const vg_field_def *export_field_def(const export_case *x, const char *name)
{
    for (size_t i = 0; i < x->nfdefs; i++)
        if (strcmp(x->fdefs[i].name, name) == 0)
            return &x->fdefs[i];
    return NULL;
}

void export_case_clear(export_case *x)
{
    vg_case_clear(&x->c);
    vg_events_free(x->events, x->nevents);
    vg_artifacts_free(x->arts, x->narts);
    vg_tasks_free(x->tasks, x->ntasks);
    vg_notes_free(x->notes, x->nnotes);
    vg_alerts_free(x->alerts, x->nalerts);
    vg_field_defs_free(x->fdefs, x->nfdefs);
    vg_field_values_free(x->fields, x->nfields);
    vg_evidences_free(x->evidence, x->nevidence);
    memset(x, 0, sizeof *x);
}

vg_rc export_write(const export_case *x, export_format f, vg_buf *out, vg_err *err)
{
    vg_rc rc;
    switch (f) {
    case EXPORT_STIX: rc = export_stix(x, out); break;
    case EXPORT_MISP: rc = export_misp(x, out); break;
    case EXPORT_TIMESKETCH: rc = export_timesketch(x, false, out); break;
    case EXPORT_TIMESKETCH_CSV: rc = export_timesketch(x, true, out); break;
    case EXPORT_MARKDOWN: rc = export_report(x, false, out); break;
    case EXPORT_HTML: rc = export_report(x, true, out); break;
    default: return vg_fail(err, VG_EINVAL, "no such export format");
    }
    if (rc != VG_OK)
        return vg_fail(err, VG_EINVAL, "the %s document is too large (more than %zu bytes)",
                       EXPORT_FORMAT_NAMES[f], out->cap);
    return VG_OK;
}

vg_rc export_csv_field(vg_buf *b, const char *s)
{
    if (!s)
        s = "";
    bool formula = strchr("=+-@\t\r", s[0]) != NULL && s[0] != '\0';
    bool quote = formula || strpbrk(s, ",\"\r\n") != NULL;
    vg_rc rc = quote ? vg_buf_adds(b, "\"") : VG_OK;
    if (rc == VG_OK && formula)
        rc = vg_buf_adds(b, "'");
    for (const char *p = s; rc == VG_OK && *p; p++)
        rc = *p == '"' ? vg_buf_adds(b, "\"\"") : vg_buf_add(b, p, 1);
    if (rc == VG_OK && quote)
        rc = vg_buf_adds(b, "\"");
    return rc;
}

vg_rc export_csv_row(vg_buf *b, const char *const *fields, size_t n)
{
    vg_rc rc = VG_OK;
    for (size_t i = 0; rc == VG_OK && i < n; i++) {
        if (i)
            rc = vg_buf_adds(b, ",");
        if (rc == VG_OK)
            rc = export_csv_field(b, fields[i]);
    }
    return rc == VG_OK ? vg_buf_adds(b, "\r\n") : rc;
}

void export_json_str(cJSON *o, const char *key, const char *s)
{
    char *ok = vg_utf8_repair(s ? s : "");
    cJSON_AddStringToObject(o, key, ok);
    free(ok);
}

void export_json_time(cJSON *o, const char *key, int64_t ms)
{
    char t[40];
    vg_iso8601(ms > 0 ? ms : 1, t, sizeof t); /* 1 ms: vg_iso8601 leaves 0 empty */
    cJSON_AddStringToObject(o, key, t);
}

vg_rc export_json_take(cJSON *root, bool pretty, vg_buf *out)
{
    char *s = pretty ? cJSON_Print(root) : cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!s)
        return VG_EINVAL;
    vg_rc rc = vg_buf_adds(out, s);
    cJSON_free(s);
    return rc == VG_OK ? vg_buf_adds(out, "\n") : rc;
}

vg_rc export_html(vg_buf *b, const char *s)
{
    char *ok = vg_utf8_repair(s ? s : "");
    vg_rc rc = VG_OK;
    const char *p = ok;
    while (rc == VG_OK && *p) {
        size_t run = strcspn(p, "&<>\"'");
        rc = vg_buf_add(b, p, run);
        p += run;
        if (rc != VG_OK || !*p)
            break;
        const char *ent = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" : *p == '>' ? "&gt;"
                        : *p == '"' ? "&quot;" : "&#39;";
        rc = vg_buf_adds(b, ent);
        p++;
    }
    free(ok);
    return rc;
}

void export_uuid5(const unsigned char ns[16], const void *name, size_t len, char out[37])
{
    struct sha1_ctx ctx;
    unsigned char d[SHA1_DIGEST_SIZE];
    sha1_init(&ctx);
    sha1_update(&ctx, 16, ns);
    sha1_update(&ctx, len, name);
    sha1_digest(&ctx, sizeof d, d);
    d[6] = (unsigned char)((d[6] & 0x0f) | 0x50); /* version 5 */
    d[8] = (unsigned char)((d[8] & 0x3f) | 0x80); /* the RFC variant */
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[d[i] >> 4];
        out[o++] = hex[d[i] & 15];
    }
    out[o] = '\0';
}

/* vigil's own namespace for the ids of the objects it exports (a fixed, random
 * UUID: 6f1c0d2e-4b7a-4c55-9e3d-8a21b5f07c44). */
static const unsigned char VIGIL_NS[16] = {0x6f, 0x1c, 0x0d, 0x2e, 0x4b, 0x7a, 0x4c, 0x55,
                                           0x9e, 0x3d, 0x8a, 0x21, 0xb5, 0xf0, 0x7c, 0x44};

void export_stix_id(const char *type, const char *name, char *out, size_t outsz)
{
    char u[37];
    export_uuid5(VIGIL_NS, name, strlen(name), u);
    snprintf(out, outsz, "%s--%s", type, u);
}

int export_event_tactic(const export_case *x, const vg_event *e)
{
    if (!x->attack)
        return -1;
    int ti = e->tactic && *e->tactic ? vg_attack_tactic_find(x->attack, e->tactic) : -1;
    if (ti < 0 && e->technique && *e->technique)
        ti = vg_attack_primary_tactic(vg_attack_get(x->attack, e->technique));
    return ti;
}

size_t export_case_techniques(const export_case *x, char (*ids)[16], size_t max)
{
    cJSON *arr = cJSON_Parse(x->c.techniques ? x->c.techniques : "[]");
    const cJSON *v;
    size_t n = 0;
    cJSON_ArrayForEach(v, arr)
    {
        if (!cJSON_IsString(v) || !vg_attack_id_valid(v->valuestring) || n == max)
            continue;
        snprintf(ids[n], sizeof ids[n], "%s", v->valuestring);
        ids[n][0] = 'T';
        bool dup = false;
        for (size_t i = 0; i < n; i++)
            dup |= strcmp(ids[i], ids[n]) == 0;
        n += !dup;
    }
    cJSON_Delete(arr);
    return n;
}
