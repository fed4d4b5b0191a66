/*
 * export_timesketch.c — a case's timeline for Timesketch: one row per timeline
 * event at the time it happened, with the columns Timesketch requires (message,
 * datetime in ISO 8601, timestamp in microseconds, timestamp_desc) and vigil's
 * own as extra fields (when it was recorded, kind, source, actor, ATT&CK
 * technique and tactic, starred, the case). As JSON lines, or as CSV with the
 * same columns in the same order.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "export.h"

static const char *const COLUMNS[] = {
    "message", "datetime", "timestamp", "timestamp_desc", "recorded_at", "kind", "source",
    "actor", "technique", "tactic", "starred", "case_ref", "case_title", "event_id",
};
#define NCOLS (sizeof COLUMNS / sizeof *COLUMNS)

vg_rc export_timesketch(const export_case *x, bool csv, vg_buf *out)
{
    vg_rc rc = csv ? export_csv_row(out, COLUMNS, NCOLS) : VG_OK;
    char ref[24];
    snprintf(ref, sizeof ref, "#%lld", (long long)x->c.ref);
    for (size_t i = 0; rc == VG_OK && i < x->nevents; i++) {
        const vg_event *e = &x->events[i];
        char us[32];
        cJSON *o = cJSON_CreateObject(); /* the row, in column order */
        export_json_str(o, "message", e->summary);
        export_json_time(o, "datetime", e->occurred_at);
        snprintf(us, sizeof us, "%lld", (long long)e->occurred_at * 1000);
        cJSON_AddRawToObject(o, "timestamp", us); /* an integer, never 1.7e+15 */
        cJSON_AddStringToObject(o, "timestamp_desc", "Event Occurred");
        export_json_time(o, "recorded_at", e->recorded_at);
        cJSON_AddStringToObject(o, "kind", vg_enum_name(&VG_EVENT_KIND, e->kind));
        export_json_str(o, "source", e->source);
        export_json_str(o, "actor", e->actor);
        export_json_str(o, "technique", e->technique);
        int ti = export_event_tactic(x, e);
        const char *tactic = ti >= 0 ? vg_attack_tactic_at(x->attack, (size_t)ti)->name
                                     : e->tactic ? e->tactic : "";
        export_json_str(o, "tactic", tactic);
        cJSON_AddBoolToObject(o, "starred", e->starred);
        cJSON_AddStringToObject(o, "case_ref", ref);
        export_json_str(o, "case_title", x->c.title);
        cJSON_AddStringToObject(o, "event_id", e->id);
        if (!csv) {
            rc = export_json_take(o, false, out);
            continue;
        }
        const char *f[NCOLS];
        size_t k = 0;
        for (const cJSON *v = o->child; v && k < NCOLS; v = v->next, k++)
            f[k] = cJSON_IsString(v) ? v->valuestring : "";
        f[2] = us;
        f[10] = e->starred ? "true" : "false";
        rc = export_csv_row(out, f, k);
        cJSON_Delete(o);
    }
    return rc;
}
