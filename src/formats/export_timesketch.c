/*
 * export_timesketch.c — a case's timeline for Timesketch: one row per timeline
 * event at the time it happened, with the columns Timesketch requires (message,
 * datetime in ISO 8601, timestamp in microseconds, timestamp_desc) and vigil's
 * own as extra fields (when it was recorded, kind, source, actor, ATT&CK
 * technique and tactic, starred, the case). As JSON lines, or as CSV with the
 * same columns in the same order.
 *
 * An alert's row carries what it is about as fields an analyst filters on in
 * Timesketch: src_ip, dest_ip and ip (an address named on neither side), host,
 * user and domain, each the alert's values (normalised, as its entities give
 * them) joined by commas, empty on other rows. The rows of vigil's own
 * bookkeeping are left out: "alert linked by ..." says when vigil (an import's
 * correlation, or an analyst) filed an alert in the case, which is no event of
 * the incident; the alert's own row, at its event time, is.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "vigil/entity.h"

static const char *const COLUMNS[] = {
    "message", "datetime",  "timestamp", "timestamp_desc", "recorded_at", "kind",     "source",
    "actor",   "technique", "tactic",    "starred",        "src_ip",      "dest_ip",  "ip",
    "host",    "user",      "domain",    "case_ref",       "case_title",  "event_id",
};
#define NCOLS (sizeof COLUMNS / sizeof *COLUMNS)
enum { F_SRC, F_DEST, F_IP, F_HOST, F_USER, F_DOMAIN, NFIELDS };
#define FIELD0 11 /* the column of F_SRC */

/* An alert's fields, each a comma-joined list. */
typedef struct fields {
    vg_buf f[NFIELDS];
} fields;

static void add_field(void *ud, const vg_entity_value *v)
{
    fields *fs = ud;
    int k;
    switch (v->type) {
    case VG_AT_IP: {
        int dir = vg_entity_direction(v->name);
        k = dir == 1 ? F_SRC : dir == 2 ? F_DEST : F_IP;
        break;
    }
    case VG_AT_HOSTNAME:
        k = F_HOST;
        break;
    case VG_AT_USER:
        k = F_USER;
        break;
    case VG_AT_DOMAIN:
        k = F_DOMAIN;
        break;
    default:
        return;
    }
    vg_buf *b = &fs->f[k];
    size_t vl = strlen(v->value);
    const char *p = vg_buf_str(b), *end = p + b->len;
    while (p < end) { /* once each */
        const char *comma = memchr(p, ',', (size_t)(end - p));
        size_t l = comma ? (size_t)(comma - p) : (size_t)(end - p);
        if (l == vl && memcmp(p, v->value, vl) == 0)
            return;
        p += l + 1;
    }
    if ((b->len && vg_buf_adds(b, ",") != VG_OK) || vg_buf_adds(b, v->value) != VG_OK)
        return; /* past the cap: the field keeps what fits */
}

static int alert_cmp(const void *a, const void *b)
{
    const vg_alert *const *x = a, *const *y = b;
    return strcmp((*x)->id, (*y)->id);
}

static bool is_alert(const vg_event *e)
{
    return strcmp(vg_enum_name(&VG_EVENT_KIND, e->kind), "alert") == 0;
}

/* Is e a row of vigil's bookkeeping: the link of an alert to the case? */
static bool bookkeeping(const vg_event *e)
{
    return is_alert(e) && e->actor && *e->actor && e->summary &&
           strncmp(e->summary, "alert linked by ", 16) == 0;
}

vg_rc export_timesketch(const export_case *x, bool csv, vg_buf *out)
{
    vg_rc rc = csv ? export_csv_row(out, COLUMNS, NCOLS) : VG_OK;
    char ref[24];
    snprintf(ref, sizeof ref, "#%lld", (long long)x->c.ref);
    /* the case's alerts by id, for their rows */
    const vg_alert **byid = vg_xmalloc((x->nalerts ? x->nalerts : 1) * sizeof *byid);
    for (size_t i = 0; i < x->nalerts; i++)
        byid[i] = &x->alerts[i];
    qsort(byid, x->nalerts, sizeof *byid, alert_cmp);
    fields fs;
    for (int k = 0; k < NFIELDS; k++)
        vg_buf_init(&fs.f[k], 64 * 1024);
    for (size_t i = 0; rc == VG_OK && i < x->nevents; i++) {
        const vg_event *e = &x->events[i];
        if (bookkeeping(e))
            continue;
        for (int k = 0; k < NFIELDS; k++)
            vg_buf_reset(&fs.f[k]);
        if (is_alert(e)) {
            vg_alert key = {0}, *kp = &key;
            memcpy(key.id, e->id, sizeof key.id);
            const vg_alert **a = bsearch(&kp, byid, x->nalerts, sizeof *byid, alert_cmp);
            if (a) {
                cJSON *ent = cJSON_Parse((*a)->entities ? (*a)->entities : "{}");
                vg_entity_walk(ent, add_field, &fs);
                cJSON_Delete(ent);
            }
        }
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
        for (int k = 0; k < NFIELDS; k++)
            export_json_str(o, COLUMNS[FIELD0 + k], vg_buf_str(&fs.f[k]));
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
    for (int k = 0; k < NFIELDS; k++)
        vg_buf_free(&fs.f[k]);
    free(byid);
    return rc;
}
