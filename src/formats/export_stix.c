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
 * Files: a case's hashes and file names are artifacts of their own, but its alerts
 * say which go together (a Sysmon event names a process image with its MD5 and
 * SHA-256). Each file is one `file` SCO with every hash the case holds of it and
 * its base name as `name`, its directory a `directory` SCO (`parent_directory_ref`),
 * and an `observed-data` over them (first and last seen, sightings); an IOC hash or
 * file name is still an indicator with its own single-observation pattern, tied to
 * its file by a `based-on` relationship to that observed-data. Hashes go together
 * when an alert names at most one value of each algorithm and at most one file
 * name: alerts that share a hash join their files, unless that would give one file
 * two values of one algorithm. A hash or a name no alert ties is a file alone.
 *
 * Custom fields: the case's values are a property-extension of the report, named
 * by an `extension-definition` (created by an `identity` for the workspace's
 * vigil) whose schema is a plain-text account of the definitions (name, type,
 * enum values); its id is a UUIDv5 of that text, so a changed set of definitions
 * is a new extension. Numbers are JSON numbers, bools booleans, the rest strings.
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
#include "vigil/entity.h"
#include "vigil/fields.h"
#include "vigil/ioc.h"
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
    {"command-line", "process", "command_line", NULL, 0},
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

static const char *base_name(const char *path, size_t *dirlen);

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
    else if (a->type == VG_AT_FILENAME) { /* the base name, and the directory it is in */
        size_t dirlen;
        const char *name = base_name(a->value, &dirlen);
        rc = vg_buf_adds(&b, "[file:name = ");
        if (rc == VG_OK)
            rc = add_literal(&b, name);
        if (rc == VG_OK && dirlen) {
            char *dir = vg_xstrndup(a->value, dirlen);
            rc = vg_buf_adds(&b, " AND file:parent_directory_ref.path = ");
            if (rc == VG_OK)
                rc = add_literal(&b, dir);
            free(dir);
        }
        if (rc == VG_OK)
            rc = vg_buf_adds(&b, "]");
        if (rc != VG_OK) {
            vg_buf_free(&b);
            return NULL;
        }
        return vg_buf_take(&b);
    } else
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

/* ---- files: the hashes of one file together, its name and directory --------------- */

typedef char stix_id[96]; /* "type--uuid" */

enum { H_MD5, H_SHA1, H_SHA256, H_SHA512, NHASH };
static const char *const HASH_NAME[NHASH] = {"MD5", "SHA-1", "SHA-256", "SHA-512"};
static const size_t HASH_LEN[NHASH] = {32, 40, 64, 128};

/* The hash slot of an artifact type, or -1. */
static int hash_slot(int type)
{
    return type == VG_AT_MD5      ? H_MD5
           : type == VG_AT_SHA1   ? H_SHA1
           : type == VG_AT_SHA256 ? H_SHA256
           : type == VG_AT_SHA512 ? H_SHA512
                                  : -1;
}

/* One file as the alerts describe it: its hashes (normalised) and path. */
typedef struct file_desc {
    char *hash[NHASH];
    char *path;
} file_desc;

typedef struct files {
    file_desc *v;
    size_t n, cap;
    int *of_art; /* per artifact: its file, or -1 */
} files;

static void desc_clear(file_desc *d)
{
    for (int k = 0; k < NHASH; k++)
        free(d->hash[k]);
    free(d->path);
    memset(d, 0, sizeof *d);
}

/* What one alert names: hashes by slot (more than one of a slot: ambiguous), and
 * file names (more than one: no name). */
typedef struct alert_files {
    file_desc d;
    int nhash[NHASH], nnames;
} alert_files;

static void collect_file(void *ud, int type, const char *value)
{
    alert_files *af = ud;
    int k = hash_slot(type);
    if (k >= 0) {
        if (af->nhash[k]++ == 0)
            af->d.hash[k] = vg_xstrdup(value);
    } else if (type == VG_AT_FILENAME) {
        if (af->nnames == 0 || strcmp(af->d.path, value) != 0)
            af->nnames++;
        if (!af->d.path)
            af->d.path = vg_xstrdup(value);
    }
}

/* Can file f take what d says without two values of one algorithm? Do they share
 * a hash? */
static bool desc_fits(const file_desc *f, const file_desc *d, bool *shares)
{
    *shares = false;
    for (int k = 0; k < NHASH; k++) {
        if (!f->hash[k] || !d->hash[k])
            continue;
        if (strcmp(f->hash[k], d->hash[k]) != 0)
            return false;
        *shares = true;
    }
    return true;
}

static void files_add(files *fs, file_desc *d)
{
    for (size_t i = 0; i < fs->n; i++) {
        bool shares;
        if (desc_fits(&fs->v[i], d, &shares) && shares) {
            for (int k = 0; k < NHASH; k++)
                if (!fs->v[i].hash[k] && d->hash[k]) {
                    fs->v[i].hash[k] = d->hash[k];
                    d->hash[k] = NULL;
                }
            if (!fs->v[i].path && d->path) {
                fs->v[i].path = d->path;
                d->path = NULL;
            }
            desc_clear(d);
            return;
        }
    }
    if (fs->n == fs->cap) {
        fs->cap = fs->cap ? fs->cap * 2 : 16;
        fs->v = vg_xrealloc(fs->v, fs->cap * sizeof *fs->v);
    }
    fs->v[fs->n++] = *d;
    memset(d, 0, sizeof *d);
}

/* Does an artifact have a file of its own in STIX: a hash of the right length, or a
 * file name? */
static bool fileish(const vg_artifact *a)
{
    int k = hash_slot(a->type);
    if (k >= 0)
        return all_hex(a->value, HASH_LEN[k]);
    return a->type == VG_AT_FILENAME;
}

/* The case's files: from what its alerts tie together, then each artifact put in
 * the file that holds its value (or a file of its own). */
static void files_build(const export_case *x, files *fs)
{
    memset(fs, 0, sizeof *fs);
    for (size_t i = 0; i < x->nalerts; i++) {
        cJSON *ent = cJSON_Parse(x->alerts[i].entities ? x->alerts[i].entities : "{}");
        alert_files af = {0};
        vg_entity_each(ent, collect_file, &af);
        cJSON_Delete(ent);
        bool one_each = true, any = false;
        for (int k = 0; k < NHASH; k++) {
            one_each &= af.nhash[k] <= 1;
            any |= af.nhash[k] > 0;
        }
        if (af.nnames > 1) {
            free(af.d.path);
            af.d.path = NULL;
        }
        if (any && one_each)
            files_add(fs, &af.d);
        desc_clear(&af.d);
    }
    fs->of_art = vg_xmalloc((x->narts ? x->narts : 1) * sizeof *fs->of_art);
    for (size_t i = 0; i < x->narts; i++) {
        const vg_artifact *a = &x->arts[i];
        fs->of_art[i] = -1;
        if (!fileish(a))
            continue;
        int k = hash_slot(a->type);
        for (size_t f = 0; f < fs->n && fs->of_art[i] < 0; f++)
            if (k >= 0 ? fs->v[f].hash[k] && strcmp(fs->v[f].hash[k], a->value) == 0
                       : fs->v[f].path && strcmp(fs->v[f].path, a->value) == 0)
                fs->of_art[i] = (int)f;
        if (fs->of_art[i] < 0) { /* a file of its own */
            file_desc d = {0};
            if (k >= 0)
                d.hash[k] = vg_xstrdup(a->value);
            else
                d.path = vg_xstrdup(a->value);
            if (fs->n == fs->cap) {
                fs->cap = fs->cap ? fs->cap * 2 : 16;
                fs->v = vg_xrealloc(fs->v, fs->cap * sizeof *fs->v);
            }
            fs->v[fs->n] = d;
            fs->of_art[i] = (int)fs->n++;
        }
    }
}

static void files_free(files *fs)
{
    for (size_t i = 0; i < fs->n; i++)
        desc_clear(&fs->v[i]);
    free(fs->v);
    free(fs->of_art);
}

/* path's base name and directory: "C:\Users\x\a.exe" is a.exe in C:\Users\x, and
 * "/tmp/.x/run.sh" run.sh in /tmp/.x; a name alone has no directory (*dirlen 0). */
static const char *base_name(const char *path, size_t *dirlen)
{
    const char *b = path;
    for (const char *p = path; *p; p++)
        if ((*p == '\\' || *p == '/') && p[1])
            b = p + 1;
    *dirlen = b > path ? (size_t)(b - path - 1) : 0;
    if (*dirlen == 0 && b > path) /* "/x": the root */
        *dirlen = 1;
    return b;
}

/* An SCO's id by the STIX rule: a UUIDv5 over its id-contributing properties. */
static void sco_id(const char *type, const cJSON *key, char *out, size_t outsz)
{
    char *canon = cJSON_PrintUnformatted(key), u[37];
    export_uuid5(STIX_SCO_NS, canon, strlen(canon), u);
    cJSON_free(canon);
    snprintf(out, outsz, "%s--%s", type, u);
}

/* The objects of file f: its directory (if any), the file, and an observed-data
 * over them, appended to objs and refs; *observed gets the observed-data's id.
 * The artifacts in it give its times, count and marking. */
static void file_objects(const export_case *x, const files *fs, size_t f, cJSON *objs, cJSON *refs,
                         char *observed, size_t observedsz)
{
    const file_desc *d = &fs->v[f];
    int64_t first = 0, last = 0, seen = 1;
    int tlp = -1;
    for (size_t i = 0; i < x->narts; i++) {
        if (fs->of_art[i] != (int)f)
            continue;
        const vg_artifact *a = &x->arts[i];
        if (tlp < 0 || first == 0 || a->first_seen < first)
            first = a->first_seen;
        if (a->last_seen > last)
            last = a->last_seen;
        if (a->sightings > seen)
            seen = a->sightings;
        if (a->tlp > tlp)
            tlp = a->tlp;
    }
    if (last < first)
        last = first;
    if (seen > 999999999)
        seen = 999999999;
    char dir_id[96] = "", file_id[96];
    size_t dirlen = 0;
    const char *name = d->path ? base_name(d->path, &dirlen) : NULL;
    if (dirlen) {
        cJSON *key = cJSON_CreateObject();
        char *path = vg_xstrndup(d->path, dirlen);
        export_json_str(key, "path", path);
        free(path);
        sco_id("directory", key, dir_id, sizeof dir_id);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "type", "directory");
        cJSON_AddStringToObject(o, "spec_version", "2.1");
        cJSON_AddStringToObject(o, "id", dir_id);
        cJSON_AddItemToObject(o, "path", cJSON_DetachItemFromObject(key, "path"));
        cJSON_Delete(key);
        add_marking(o, tlp);
        add_ref(refs, o);
        cJSON_AddItemToArray(objs, o);
    }
    cJSON *key = cJSON_CreateObject();
    bool any_hash = false;
    for (int k = 0; k < NHASH; k++)
        any_hash |= d->hash[k] != NULL;
    if (any_hash) {
        cJSON *h = cJSON_AddObjectToObject(key, "hashes");
        for (int k = 0; k < NHASH; k++)
            if (d->hash[k])
                export_json_str(h, HASH_NAME[k], d->hash[k]);
    }
    if (name)
        export_json_str(key, "name", name);
    if (dir_id[0])
        cJSON_AddStringToObject(key, "parent_directory_ref", dir_id);
    sco_id("file", key, file_id, sizeof file_id);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "file");
    cJSON_AddStringToObject(o, "spec_version", "2.1");
    cJSON_AddStringToObject(o, "id", file_id);
    for (cJSON *k = key->child; k; k = k->next)
        cJSON_AddItemToObject(o, k->string, cJSON_Duplicate(k, true));
    cJSON_Delete(key);
    add_marking(o, tlp);
    add_ref(refs, o);
    cJSON_AddItemToArray(objs, o);

    char name_buf[160];
    snprintf(name_buf, sizeof name_buf, "observed-data:%s:%s", x->c.id, file_id);
    export_stix_id("observed-data", name_buf, observed, observedsz);
    cJSON *od = sdo("observed-data", observed, first, last);
    export_json_time(od, "first_observed", first);
    export_json_time(od, "last_observed", last);
    cJSON_AddNumberToObject(od, "number_observed", (double)seen);
    cJSON *seen_refs = cJSON_AddArrayToObject(od, "object_refs");
    cJSON_AddItemToArray(seen_refs, cJSON_CreateString(file_id));
    if (dir_id[0])
        cJSON_AddItemToArray(seen_refs, cJSON_CreateString(dir_id));
    add_marking(od, tlp);
    add_ref(refs, od);
    cJSON_AddItemToArray(objs, od);
}

/* indicator --based-on--> observed-data. */
static cJSON *based_on(const char *indicator, const char *observed, int64_t at, int tlp)
{
    char id[96], name[256];
    snprintf(name, sizeof name, "relationship:%s:based-on:%s", indicator, observed);
    export_stix_id("relationship", name, id, sizeof id);
    cJSON *r = sdo("relationship", id, at, at);
    cJSON_AddStringToObject(r, "relationship_type", "based-on");
    cJSON_AddStringToObject(r, "source_ref", indicator);
    cJSON_AddStringToObject(r, "target_ref", observed);
    add_marking(r, tlp);
    return r;
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
    if (m && fileish(a))
        return NULL; /* its file's objects say it (file_objects) */
    if (m)
        return sco_of(a, m, sco, asn);
    char content[1024];
    snprintf(content, sizeof content, "%s%s: %s", a->is_ioc ? "IOC " : "", type, a->value);
    cJSON *o = note_obj(a->id, NULL, content, a->first_seen, report_id);
    add_marking(o, a->tlp);
    return o;
}

/* The case's custom fields as a property-extension of the report (see the top). */
static void field_extension(const export_case *x, cJSON *objs, cJSON *report, cJSON *refs)
{
    if (x->nfields == 0)
        return;
    vg_buf schema;
    vg_buf_init(&schema, 1 << 20);
    vg_rc rc = vg_buf_adds(&schema, "vigil custom fields, one property each:");
    for (size_t i = 0; i < x->nfdefs && rc == VG_OK; i++) {
        const vg_field_def *d = &x->fdefs[i];
        rc = vg_buf_addf(&schema, "%s %s (%s", i ? ";" : "", d->name,
                         VG_FIELD_TYPE.names[d->type]);
        for (size_t k = 0; k < d->nvalues && rc == VG_OK; k++)
            rc = vg_buf_addf(&schema, "%s%s", k ? "|" : ": ", d->values[k]);
        rc = rc ? rc : vg_buf_adds(&schema, ")");
    }
    char ident[96], ext_id[96], name[96];
    export_stix_id("identity", "identity:vigil", ident, sizeof ident);
    export_stix_id("extension-definition", vg_buf_str(&schema), ext_id, sizeof ext_id);
    snprintf(name, sizeof name, "vigil");
    cJSON *id = sdo("identity", ident, x->c.created_at, x->c.created_at);
    cJSON_AddStringToObject(id, "name", "vigil");
    cJSON_AddStringToObject(id, "identity_class", "system");
    cJSON_AddItemToArray(objs, id);
    add_ref(refs, id);
    cJSON *def = sdo("extension-definition", ext_id, x->c.created_at, x->c.created_at);
    cJSON_AddStringToObject(def, "created_by_ref", ident);
    cJSON_AddStringToObject(def, "name", "vigil custom fields");
    export_json_str(def, "schema", vg_buf_str(&schema));
    cJSON_AddStringToObject(def, "version", "1.0.0");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(def, "extension_types"),
                         cJSON_CreateString("property-extension"));
    cJSON_AddItemToArray(objs, def);
    add_ref(refs, def);
    vg_buf_free(&schema);
    cJSON *e = cJSON_AddObjectToObject(report, "extensions");
    cJSON *p = cJSON_AddObjectToObject(e, ext_id);
    cJSON_AddStringToObject(p, "extension_type", "property-extension");
    for (size_t i = 0; i < x->nfields; i++)
        cJSON_AddItemToObject(p, x->fields[i].name,
                              vg_field_value_json(export_field_def(x, x->fields[i].name),
                                                  x->fields[i].value));
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
    files fs;
    files_build(x, &fs);
    stix_id *observed = vg_xcalloc(fs.n ? fs.n : 1, sizeof *observed);
    for (size_t f = 0; f < fs.n; f++) {
        bool held = false;
        for (size_t i = 0; i < x->narts && !held; i++)
            held = fs.of_art[i] == (int)f;
        if (held)
            file_objects(x, &fs, f, objs, refs, observed[f], sizeof observed[f]);
    }
    for (size_t i = 0; i < x->narts; i++) {
        const vg_artifact *a = &x->arts[i];
        cJSON *o = artifact_obj(x, a, report_id);
        if (!o)
            continue;
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
        int f = fs.of_art[i];
        if (f >= 0 && strncmp(oid, "indicator--", 11) == 0) { /* tied to its file */
            cJSON *rel = based_on(oid, observed[f], a->first_seen, a->tlp);
            add_ref(refs, rel);
            cJSON_AddItemToArray(objs, rel);
        }
    }
    free(observed);
    files_free(&fs);
    for (size_t i = 0; i < x->nnotes; i++) {
        cJSON *o = note_obj(x->notes[i].id, x->notes[i].author, x->notes[i].body,
                            x->notes[i].created_at, report_id);
        add_marking(o, c->tlp);
        add_ref(refs, o);
        cJSON_AddItemToArray(objs, o);
    }
    field_extension(x, objs, report, refs);
    if (cJSON_GetArraySize(refs) == 0) /* a report must refer to something */
        cJSON_AddItemToArray(refs, cJSON_CreateString(TLP_MARKS[tlp_mark(c->tlp)].id));
    cJSON_AddItemToObject(report, "object_refs", refs);
    return export_json_take(root, true, out);
}
