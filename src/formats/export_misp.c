/*
 * export_misp.c — a case as a MISP event (the JSON MISP's "Add event" and
 * "Import from MISP JSON" read): the case is the event, each artifact an
 * attribute with MISP's type and category and to_ids from the IOC flag, TLP a
 * tag of the tlp taxonomy (on the event and on each attribute), and each ATT&CK
 * technique a mitre-attack-pattern galaxy tag ("Name - T1234"), each custom field
 * an event tag in machine-tag form (vigil-field:NAME="VALUE"). Notes are left
 * out: MISP events hold indicators, the report export holds the narrative.
 *
 * An address is ip-src or ip-dst by the side of the connection the case's alerts
 * name it on (their src_ip and dest_ip entities, home_ ones included): ip-src when
 * they name it as a source more often than as a destination, else ip-dst (MISP's
 * usual type for the remote end an indicator points at, and the type for an
 * address no alert names, such as one an analyst added). The event's date is the
 * case's first activity (its earliest timeline row: an alert's event time, a note,
 * an analyst's event), not the day of the export nor of the case's opening.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "vigil/entity.h"
#include "vigil/fields.h"
#include "vigil/ioc.h"

/* vigil artifact type -> MISP attribute type and category. */
static const struct {
    const char *type, *misp, *category;
} MISP_TYPES[] = {
    {"ip", "ip-dst", "Network activity"},        {"domain", "domain", "Network activity"},
    {"url", "url", "Network activity"},          {"email", "email-src", "Payload delivery"},
    {"md5", "md5", "Payload delivery"},          {"sha1", "sha1", "Payload delivery"},
    {"sha256", "sha256", "Payload delivery"},    {"sha512", "sha512", "Payload delivery"},
    {"filename", "filename", "Payload delivery"}, {"hostname", "hostname", "Network activity"},
    {"user", "target-user", "Targeting data"},   {"registry", "regkey", "Persistence mechanism"},
    {"mutex", "mutex", "Artifacts dropped"},     {"user-agent", "user-agent", "Network activity"},
    {"cve", "vulnerability", "External analysis"}, {"asn", "AS", "Network activity"},
    {"other", "text", "Other"},                  {"command-line", "text", "Payload installation"},
};

static void add_tag(cJSON *tags, const char *name)
{
    cJSON *t = cJSON_CreateObject();
    export_json_str(t, "name", name);
    cJSON_AddItemToArray(tags, t);
}

static void tlp_tag(cJSON *tags, int tlp)
{
    char t[32];
    snprintf(t, sizeof t, "tlp:%s", vg_enum_name(&VG_TLP, tlp));
    for (char *p = t; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    add_tag(tags, t);
}

static void add_uuid(cJSON *o, const char *what, const char *vigil_id)
{
    char id[96], name[64];
    snprintf(name, sizeof name, "misp-%s:%s", what, vigil_id);
    export_stix_id("x", name, id, sizeof id);
    cJSON_AddStringToObject(o, "uuid", id + 3); /* the UUID after "x--" */
}

static void add_seconds(cJSON *o, const char *key, int64_t ms)
{
    char s[24];
    snprintf(s, sizeof s, "%lld", (long long)(ms / 1000));
    cJSON_AddStringToObject(o, key, s);
}

/* How often the case's alerts name each IP artifact as a source and as a
 * destination. */
typedef struct sides {
    const export_case *x;
    int64_t (*n)[2]; /* per artifact: [source, destination] */
} sides;

static void count_side(void *ud, const vg_entity_value *v)
{
    sides *sd = ud;
    int dir = v->type == VG_AT_IP ? vg_entity_direction(v->name) : 0;
    if (!dir)
        return;
    for (size_t i = 0; i < sd->x->narts; i++)
        if (sd->x->arts[i].type == VG_AT_IP && strcmp(sd->x->arts[i].value, v->value) == 0)
            sd->n[i][dir - 1]++;
}

/* The case's first activity: its earliest timeline row (the timeline holds its
 * alerts at their event times), else when it was opened. */
static int64_t first_activity(const export_case *x)
{
    int64_t t = x->c.created_at;
    for (size_t i = 0; i < x->nevents; i++)
        if (x->events[i].occurred_at > 0 && x->events[i].occurred_at < t)
            t = x->events[i].occurred_at;
    for (size_t i = 0; i < x->nalerts; i++)
        if (x->alerts[i].event_time > 0 && x->alerts[i].event_time < t)
            t = x->alerts[i].event_time;
    return t;
}

vg_rc export_misp(const export_case *x, vg_buf *out)
{
    const vg_case *c = &x->c;
    cJSON *root = cJSON_CreateObject(), *ev = cJSON_AddObjectToObject(root, "Event");
    add_uuid(ev, "event", c->id);
    char info[1024], date[40];
    snprintf(info, sizeof info, "#%lld %s", (long long)c->ref, c->title);
    export_json_str(ev, "info", info);
    export_json_time(ev, "date", first_activity(x));
    snprintf(date, sizeof date, "%.10s", cJSON_GetObjectItem(ev, "date")->valuestring);
    cJSON_ReplaceItemInObject(ev, "date", cJSON_CreateString(date));
    /* threat level: 1 high, 2 medium, 3 low, 4 undefined */
    static const char *const level[] = {"4", "3", "2", "1", "1"};
    cJSON_AddStringToObject(ev, "threat_level_id", level[c->severity >= 0 && c->severity < 5 ? c->severity : 0]);
    /* analysis: 0 initial, 1 ongoing, 2 completed */
    cJSON_AddStringToObject(ev, "analysis", c->status == VG_ST_NEW ? "0" : c->status == VG_ST_CLOSED ? "2" : "1");
    cJSON_AddStringToObject(ev, "distribution", "0"); /* your organisation only */
    cJSON_AddBoolToObject(ev, "published", false);
    add_seconds(ev, "timestamp", c->updated_at);

    cJSON *tags = cJSON_AddArrayToObject(ev, "Tag");
    tlp_tag(tags, c->tlp);
    char ids[256][16];
    size_t nt = export_case_techniques(x, ids, 256);
    for (size_t i = 0; i < nt; i++) {
        const vg_technique *t = x->attack ? vg_attack_get(x->attack, ids[i]) : NULL;
        char g[512];
        if (t)
            snprintf(g, sizeof g, "misp-galaxy:mitre-attack-pattern=\"%s - %s\"", t->name, t->id);
        else
            snprintf(g, sizeof g, "mitre-attack:%s", ids[i]);
        add_tag(tags, g);
    }
    cJSON *ctags = cJSON_Parse(c->tags ? c->tags : "[]"), *v;
    cJSON_ArrayForEach(v, ctags)
    {
        if (cJSON_IsString(v) && *v->valuestring)
            add_tag(tags, v->valuestring);
    }
    cJSON_Delete(ctags);
    for (size_t i = 0; i < x->nfields; i++) {
        vg_buf b;
        vg_buf_init(&b, 1 << 14);
        if (vg_buf_addf(&b, "vigil-field:%s=\"", x->fields[i].name) == VG_OK) {
            bool ok = true;
            for (const char *q = x->fields[i].value; *q && ok; q++)
                ok = vg_buf_add(&b, *q == '"' ? "'" : q, 1) == VG_OK;
            if (ok && vg_buf_adds(&b, "\"") == VG_OK)
                add_tag(tags, vg_buf_str(&b));
        }
        vg_buf_free(&b);
    }

    sides sd = {x, vg_xcalloc(x->narts ? x->narts : 1, sizeof *sd.n)};
    for (size_t i = 0; i < x->nalerts; i++) {
        cJSON *ent = cJSON_Parse(x->alerts[i].entities ? x->alerts[i].entities : "{}");
        vg_entity_walk(ent, count_side, &sd);
        cJSON_Delete(ent);
    }
    cJSON *attrs = cJSON_AddArrayToObject(ev, "Attribute");
    for (size_t i = 0; i < x->narts; i++) {
        const vg_artifact *a = &x->arts[i];
        const char *type = vg_enum_name(&VG_ARTIFACT_TYPE, a->type);
        size_t ti = 0, nm = sizeof MISP_TYPES / sizeof *MISP_TYPES;
        while (ti < nm - 1 && strcmp(MISP_TYPES[ti].type, type) != 0)
            ti++; /* the last, "other", when none matches */
        cJSON *at = cJSON_CreateObject();
        add_uuid(at, "attribute", a->id);
        const char *mtype = MISP_TYPES[ti].misp;
        if (a->type == VG_AT_IP && sd.n[i][0] > sd.n[i][1])
            mtype = "ip-src";
        cJSON_AddStringToObject(at, "type", mtype);
        cJSON_AddStringToObject(at, "category", MISP_TYPES[ti].category);
        export_json_str(at, "value", a->value);
        cJSON_AddBoolToObject(at, "to_ids", a->is_ioc);
        cJSON_AddStringToObject(at, "distribution", "5"); /* as the event */
        char comment[96];
        snprintf(comment, sizeof comment, "vigil %s artifact, %lld sightings", MISP_TYPES[ti].type,
                 (long long)a->sightings);
        cJSON_AddStringToObject(at, "comment", comment);
        add_seconds(at, "timestamp", a->last_seen);
        export_json_time(at, "first_seen", a->first_seen);
        export_json_time(at, "last_seen", a->last_seen > a->first_seen ? a->last_seen : a->first_seen);
        tlp_tag(cJSON_AddArrayToObject(at, "Tag"), a->tlp);
        cJSON_AddItemToArray(attrs, at);
    }
    free(sd.n);
    return export_json_take(root, true, out);
}
