/*
 * export_stix.c — a case as a STIX 2.1 bundle.
 *
 * The case is a `report` whose object_refs name everything else: an `indicator`
 * with a single-comparison STIX pattern for each IOC artifact, a cyber-observable
 * (SCO) for each other artifact, a `vulnerability` for a CVE, an `attack-pattern`
 * (with its mitre-attack external id and kill-chain phases) for each technique the
 * case, its alerts or its timeline name, and a `note` for each note (and for
 * artifacts STIX has no object for). TLP is the standard TLP marking-definition
 * objects of STIX 2.1 (TLP 1.0: CLEAR is sent as WHITE, and AMBER+STRICT as AMBER
 * with a "tlp:amber+strict" label on the report, since 1.0 has no such level).
 *
 * Ids: SCOs follow the STIX rule (UUIDv5 in the STIX namespace over their
 * id-contributing properties), every other object is a UUIDv5 of its vigil id in
 * vigil's namespace, so a re-export updates the same objects.
 */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "vigil/text.h"

#define MAX_TECHS 512

static const struct {
    const char *id, *name, *tlp;
} TLP_MARKS[] = {
    {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", "TLP:WHITE", "white"},
    {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "TLP:GREEN", "green"},
    {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", "TLP:AMBER", "amber"},
    {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", "TLP:RED", "red"},
};

/* vigil's TLP index (CLEAR GREEN AMBER AMBER+STRICT RED) to TLP_MARKS. */
static int tlp_mark(int tlp)
{
    static const int map[] = {0, 1, 2, 2, 3};
    return tlp >= 0 && tlp < 5 ? map[tlp] : 2;
}

static const unsigned char STIX_SCO_NS[16] = {0x00, 0xab, 0xed, 0xb4, 0xaa, 0x42, 0x46, 0x6c,
                                              0x9c, 0x01, 0xfe, 0xd2, 0x33, 0x15, 0xa9, 0xb7};

static void add_marking(cJSON *o, int tlp)
{
    cJSON *m = cJSON_AddArrayToObject(o, "object_marking_refs");
    cJSON_AddItemToArray(m, cJSON_CreateString(TLP_MARKS[tlp_mark(tlp)].id));
}

/* A new SDO with the common properties. */
static cJSON *sdo(const char *type, const char *id, int64_t created, int64_t modified)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", type);
    cJSON_AddStringToObject(o, "spec_version", "2.1");
    cJSON_AddStringToObject(o, "id", id);
    export_json_time(o, "created", created);
    export_json_time(o, "modified", modified > created ? modified : created);
    return o;
}

/* How an artifact type appears in STIX: the SCO type, its property (for the
 * pattern and the object), and for hashes the hash name. NULL sco: no SCO. */
typedef struct stix_map {
    const char *type, *sco, *prop, *hash;
    size_t hexlen;
} stix_map;

static const stix_map MAPS[] = {
    {"ip", "ipv4-addr", "value", NULL, 0},  /* ipv6-addr when it holds ':' */
    {"domain", "domain-name", "value", NULL, 0},
    {"hostname", "domain-name", "value", NULL, 0},
    {"url", "url", "value", NULL, 0},
    {"email", "email-addr", "value", NULL, 0},
    {"md5", "file", "hashes", "MD5", 32},
    {"sha1", "file", "hashes", "SHA-1", 40},
    {"sha256", "file", "hashes", "SHA-256", 64},
    {"sha512", "file", "hashes", "SHA-512", 128},
    {"filename", "file", "name", NULL, 0},
    {"user", "user-account", "account_login", NULL, 0},
    {"registry", "windows-registry-key", "key", NULL, 0},
    {"mutex", "mutex", "name", NULL, 0},
    {"asn", "autonomous-system", "number", NULL, 0},
};

static bool all_hex(const char *s, size_t len)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!isxdigit((unsigned char)s[n]))
            return false;
    return n == len;
}

/* The map for artifact a, or NULL when STIX has no observable for it (or its
 * value does not fit: a hash of the wrong length, an AS that is not a number).
 * *sco_type is ipv6-addr for an IPv6 address. */
static const stix_map *map_of(const vg_artifact *a, const char **sco_type, long long *asn)
{
    const char *type = vg_enum_name(&VG_ARTIFACT_TYPE, a->type);
    for (size_t i = 0; i < sizeof MAPS / sizeof *MAPS; i++) {
        const stix_map *m = &MAPS[i];
        if (strcmp(m->type, type) != 0)
            continue;
        if (m->hash && !all_hex(a->value, m->hexlen))
            return NULL;
        if (strcmp(type, "asn") == 0) {
            const char *p = a->value + (strncasecmp(a->value, "AS", 2) == 0 ? 2 : 0);
            char *end;
            *asn = strtoll(p, &end, 10);
            if (end == p || *end || *asn < 0 || *asn > 4294967295LL)
                return NULL;
        }
        *sco_type = strcmp(type, "ip") == 0 && strchr(a->value, ':') ? "ipv6-addr" : m->sco;
        return m;
    }
    return NULL;
}

/* A STIX pattern string literal: quotes and backslashes escaped. */
static vg_rc add_literal(vg_buf *b, const char *s)
{
    vg_rc rc = vg_buf_adds(b, "'");
    for (const char *p = s; rc == VG_OK && *p; p++) {
        if (*p == '\'' || *p == '\\')
            rc = vg_buf_adds(b, "\\");
        if (rc == VG_OK)
            rc = vg_buf_add(b, p, 1);
    }
    return rc == VG_OK ? vg_buf_adds(b, "'") : rc;
}

/* "[ipv4-addr:value = '198.51.100.7']" for artifact a. */
static char *pattern_of(const vg_artifact *a, const stix_map *m, const char *sco, long long asn)
{
    vg_buf b;
    vg_buf_init(&b, 1u << 20);
    vg_rc rc;
    if (!m) /* a user agent */
        rc = vg_buf_adds(&b, "[network-traffic:extensions.'http-request-ext'.request_header."
                             "'User-Agent' = ");
    else if (m->hash)
        rc = vg_buf_addf(&b, "[file:hashes.%s%s%s = ", strcmp(m->hash, "MD5") ? "'" : "",
                         m->hash, strcmp(m->hash, "MD5") ? "'" : "");
    else
        rc = vg_buf_addf(&b, "[%s:%s = ", sco, m->prop);
    if (rc == VG_OK)
        rc = asn >= 0 && m && strcmp(m->prop, "number") == 0 ? vg_buf_addf(&b, "%lld", asn)
                                                            : add_literal(&b, a->value);
    if (rc == VG_OK)
        rc = vg_buf_adds(&b, "]");
    if (rc != VG_OK) {
        vg_buf_free(&b);
        return NULL;
    }
    return vg_buf_take(&b);
}

/* The SCO for artifact a, with its STIX-rule id. */
static cJSON *sco_of(const vg_artifact *a, const stix_map *m, const char *type, long long asn)
{
    cJSON *key = cJSON_CreateObject(); /* the id-contributing properties */
    if (m->hash) {
        cJSON *h = cJSON_AddObjectToObject(key, "hashes");
        export_json_str(h, m->hash, a->value);
    } else if (strcmp(m->prop, "number") == 0) {
        cJSON_AddNumberToObject(key, "number", (double)asn);
    } else {
        export_json_str(key, m->prop, a->value);
    }
    char *canon = cJSON_PrintUnformatted(key), u[37], id[96];
    export_uuid5(STIX_SCO_NS, canon, strlen(canon), u);
    cJSON_free(canon);
    snprintf(id, sizeof id, "%s--%s", type, u);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", type);
    cJSON_AddStringToObject(o, "spec_version", "2.1");
    cJSON_AddStringToObject(o, "id", id);
    for (cJSON *k = key->child; k; k = k->next)
        cJSON_AddItemToObject(o, k->string, cJSON_Duplicate(k, true));
    cJSON_Delete(key);
    add_marking(o, a->tlp);
    return o;
}

static void add_ref(cJSON *refs, const cJSON *obj)
{
    cJSON_AddItemToArray(refs, cJSON_CreateString(cJSON_GetObjectItem(obj, "id")->valuestring));
}

static cJSON *note_obj(const char *vigil_id, const char *author, const char *content,
                       int64_t at, const char *report_id)
{
    char id[96];
    char name[64];
    snprintf(name, sizeof name, "note:%s", vigil_id);
    export_stix_id("note", name, id, sizeof id);
    cJSON *o = sdo("note", id, at, at);
    export_json_str(o, "content", content);
    if (author && *author) {
        cJSON *au = cJSON_AddArrayToObject(o, "authors");
        char *ok = vg_utf8_repair(author);
        cJSON_AddItemToArray(au, cJSON_CreateString(ok));
        free(ok);
    }
    cJSON *r = cJSON_AddArrayToObject(o, "object_refs");
    cJSON_AddItemToArray(r, cJSON_CreateString(report_id));
    return o;
}

static int id_cmp(const void *x, const void *y) { return strcmp(x, y); }

/* Every technique id the case, its alerts and its events name, sorted, unique. */
static size_t gather_techniques(const export_case *x, char (*ids)[16], size_t max)
{
    size_t n = export_case_techniques(x, ids, max);
    for (size_t i = 0; i < x->nalerts; i++) {
        cJSON *arr = cJSON_Parse(x->alerts[i].techniques), *v;
        cJSON_ArrayForEach(v, arr)
        {
            if (!cJSON_IsString(v) || !vg_attack_id_valid(v->valuestring) || n == max)
                continue;
            snprintf(ids[n], sizeof ids[n], "%s", v->valuestring);
            ids[n][0] = 'T';
            n++;
        }
        cJSON_Delete(arr);
    }
    for (size_t i = 0; i < x->nevents && n < max; i++)
        if (vg_attack_id_valid(x->events[i].technique)) {
            snprintf(ids[n], sizeof ids[n], "%s", x->events[i].technique);
            ids[n][0] = 'T';
            n++;
        }
    qsort(ids, n, sizeof *ids, id_cmp);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (u == 0 || strcmp(ids[u - 1], ids[i]) != 0)
            memmove(ids[u++], ids[i], sizeof *ids);
    return u;
}

static cJSON *attack_pattern(const export_case *x, const char *tid)
{
    char id[96], name[32], url[96];
    snprintf(name, sizeof name, "attack-pattern:%s", tid);
    export_stix_id("attack-pattern", name, id, sizeof id);
    const vg_technique *t = x->attack ? vg_attack_get(x->attack, tid) : NULL;
    cJSON *o = sdo("attack-pattern", id, x->c.created_at, x->c.created_at);
    export_json_str(o, "name", t ? t->name : tid);
    cJSON *refs = cJSON_AddArrayToObject(o, "external_references"), *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "source_name", "mitre-attack");
    cJSON_AddStringToObject(r, "external_id", tid);
    if (strchr(tid, '.'))
        snprintf(url, sizeof url, "https://attack.mitre.org/techniques/%.5s/%s/", tid, tid + 6);
    else
        snprintf(url, sizeof url, "https://attack.mitre.org/techniques/%s/", tid);
    cJSON_AddStringToObject(r, "url", url);
    cJSON_AddItemToArray(refs, r);
    if (t && t->tactics) {
        cJSON *k = cJSON_AddArrayToObject(o, "kill_chain_phases");
        for (size_t i = 0; i < vg_attack_ntactics(x->attack); i++)
            if (t->tactics & (1u << i)) {
                cJSON *p = cJSON_CreateObject();
                cJSON_AddStringToObject(p, "kill_chain_name", "mitre-attack");
                cJSON_AddStringToObject(p, "phase_name", vg_attack_tactic_at(x->attack, i)->shortname);
                cJSON_AddItemToArray(k, p);
            }
    }
    return o;
}

static cJSON *artifact_obj(const export_case *x, const vg_artifact *a, const char *report_id)
{
    const char *type = vg_enum_name(&VG_ARTIFACT_TYPE, a->type), *sco = NULL;
    long long asn = -1;
    const stix_map *m = map_of(a, &sco, &asn);
    char id[96], name[64];
    (void)x;
    if (strcmp(type, "cve") == 0) {
        snprintf(name, sizeof name, "vulnerability:%s", a->id);
        export_stix_id("vulnerability", name, id, sizeof id);
        cJSON *o = sdo("vulnerability", id, a->first_seen, a->last_seen);
        export_json_str(o, "name", a->value);
        cJSON *refs = cJSON_AddArrayToObject(o, "external_references"), *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "source_name", "cve");
        export_json_str(r, "external_id", a->value);
        cJSON_AddItemToArray(refs, r);
        add_marking(o, a->tlp);
        return o;
    }
    bool ua = strcmp(type, "user-agent") == 0;
    if (a->is_ioc && (m || ua)) {
        char *pattern = pattern_of(a, m, sco, asn);
        if (pattern) {
            snprintf(name, sizeof name, "indicator:%s", a->id);
            export_stix_id("indicator", name, id, sizeof id);
            cJSON *o = sdo("indicator", id, a->first_seen, a->last_seen);
            char title[512];
            snprintf(title, sizeof title, "%s %s", type, a->value);
            export_json_str(o, "name", title);
            cJSON *it = cJSON_AddArrayToObject(o, "indicator_types");
            cJSON_AddItemToArray(it, cJSON_CreateString("malicious-activity"));
            export_json_str(o, "pattern", pattern);
            cJSON_AddStringToObject(o, "pattern_type", "stix");
            cJSON_AddStringToObject(o, "pattern_version", "2.1");
            export_json_time(o, "valid_from", a->first_seen);
            add_marking(o, a->tlp);
            free(pattern);
            return o;
        }
    }
    if (m)
        return sco_of(a, m, sco, asn);
    char content[1024];
    snprintf(content, sizeof content, "%s%s: %s", a->is_ioc ? "IOC " : "", type, a->value);
    cJSON *o = note_obj(a->id, NULL, content, a->first_seen, report_id);
    add_marking(o, a->tlp);
    return o;
}

vg_rc export_stix(const export_case *x, vg_buf *out)
{
    const vg_case *c = &x->c;
    char report_id[96], name[96];
    snprintf(name, sizeof name, "report:%s", c->id);
    export_stix_id("report", name, report_id, sizeof report_id);
    cJSON *root = cJSON_CreateObject(), *objs;
    snprintf(name, sizeof name, "bundle:%s:%lld", c->id, (long long)c->updated_at);
    char bundle_id[96];
    export_stix_id("bundle", name, bundle_id, sizeof bundle_id);
    cJSON_AddStringToObject(root, "type", "bundle");
    cJSON_AddStringToObject(root, "id", bundle_id);
    objs = cJSON_AddArrayToObject(root, "objects");

    /* the markings used, first */
    bool used[4] = {false};
    used[tlp_mark(c->tlp)] = true;
    for (size_t i = 0; i < x->narts; i++)
        used[tlp_mark(x->arts[i].tlp)] = true;
    for (int i = 0; i < 4; i++) {
        if (!used[i])
            continue;
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "type", "marking-definition");
        cJSON_AddStringToObject(m, "spec_version", "2.1");
        cJSON_AddStringToObject(m, "id", TLP_MARKS[i].id);
        cJSON_AddStringToObject(m, "created", "2017-01-20T00:00:00.000Z");
        cJSON_AddStringToObject(m, "definition_type", "tlp");
        cJSON_AddStringToObject(m, "name", TLP_MARKS[i].name);
        cJSON *d = cJSON_AddObjectToObject(m, "definition");
        cJSON_AddStringToObject(d, "tlp", TLP_MARKS[i].tlp);
        cJSON_AddItemToArray(objs, m);
    }

    cJSON *report = sdo("report", report_id, c->created_at, c->updated_at);
    char title[1024];
    snprintf(title, sizeof title, "#%lld %s", (long long)c->ref, c->title);
    export_json_str(report, "name", title);
    if (c->description && *c->description)
        export_json_str(report, "description", c->description);
    cJSON *rt = cJSON_AddArrayToObject(report, "report_types");
    cJSON_AddItemToArray(rt, cJSON_CreateString("threat-report"));
    export_json_time(report, "published", c->updated_at);
    cJSON *labels = cJSON_AddArrayToObject(report, "labels");
    char l[96];
    snprintf(l, sizeof l, "severity:%s", vg_enum_name(&VG_SEVERITY, c->severity));
    cJSON_AddItemToArray(labels, cJSON_CreateString(l));
    snprintf(l, sizeof l, "status:%s", vg_enum_name(&VG_STATUS, c->status));
    cJSON_AddItemToArray(labels, cJSON_CreateString(l));
    if (c->resolution >= 0) {
        snprintf(l, sizeof l, "resolution:%s", vg_enum_name(&VG_RESOLUTION, c->resolution));
        cJSON_AddItemToArray(labels, cJSON_CreateString(l));
    }
    if (c->tlp == 3)
        cJSON_AddItemToArray(labels, cJSON_CreateString("tlp:amber+strict"));
    cJSON *tags = cJSON_Parse(c->tags ? c->tags : "[]"), *t;
    cJSON_ArrayForEach(t, tags)
    {
        if (cJSON_IsString(t) && *t->valuestring) {
            char *ok = vg_utf8_repair(t->valuestring);
            cJSON_AddItemToArray(labels, cJSON_CreateString(ok));
            free(ok);
        }
    }
    cJSON_Delete(tags);
    cJSON *ext = cJSON_AddArrayToObject(report, "external_references"), *er = cJSON_CreateObject();
    cJSON_AddStringToObject(er, "source_name", "vigil");
    snprintf(l, sizeof l, "case #%lld %s", (long long)c->ref, c->id);
    cJSON_AddStringToObject(er, "external_id", l);
    cJSON_AddItemToArray(ext, er);
    add_marking(report, c->tlp);
    cJSON *refs = cJSON_CreateArray();
    cJSON_AddItemToArray(objs, report);

    char (*ids)[16] = vg_xcalloc(MAX_TECHS, sizeof *ids);
    size_t nt = gather_techniques(x, ids, MAX_TECHS);
    for (size_t i = 0; i < nt; i++) {
        cJSON *o = attack_pattern(x, ids[i]);
        add_ref(refs, o);
        cJSON_AddItemToArray(objs, o);
    }
    free(ids);
    for (size_t i = 0; i < x->narts; i++) {
        cJSON *o = artifact_obj(x, &x->arts[i], report_id);
        /* two artifacts can be one observable (a hostname and a domain with one value) */
        const char *oid = cJSON_GetObjectItem(o, "id")->valuestring;
        bool dup = false;
        const cJSON *r;
        cJSON_ArrayForEach(r, refs) dup |= strcmp(r->valuestring, oid) == 0;
        if (dup) {
            cJSON_Delete(o);
            continue;
        }
        add_ref(refs, o);
        cJSON_AddItemToArray(objs, o);
    }
    for (size_t i = 0; i < x->nnotes; i++) {
        cJSON *o = note_obj(x->notes[i].id, x->notes[i].author, x->notes[i].body,
                            x->notes[i].created_at, report_id);
        add_marking(o, c->tlp);
        add_ref(refs, o);
        cJSON_AddItemToArray(objs, o);
    }
    if (cJSON_GetArraySize(refs) == 0) /* a report must refer to something */
        cJSON_AddItemToArray(refs, cJSON_CreateString(TLP_MARKS[tlp_mark(c->tlp)].id));
    cJSON_AddItemToObject(report, "object_refs", refs);
    return export_json_take(root, true, out);
}
