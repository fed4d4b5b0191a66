/*
 * import_map.c — each vendor's alert record onto vigil's alert (import.h).
 *
 * Vendors disagree on everything, and one vendor disagrees with itself: ECS keys
 * come dotted ("host.name") or nested, scalars come as one-element arrays, times
 * come as ISO text or as seconds, milliseconds or nanoseconds. get() and text_of()
 * absorb that, so each mapper reads like the vendor's field list.
 */
#define _DEFAULT_SOURCE /* timegm */
#include "import.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "vigil/model.h"
#include "vigil/timefmt.h"

const char *const imp_format_names[IMP_NFORMATS] = {"auto", "native", "ecs", "wazuh",
                                                     "suricata", "ocsf"};

/* ---- reading vendor JSON -------------------------------------------------------- */

/* The first member of o named by the n bytes at key (what
 * cJSON_GetObjectItemCaseSensitive finds, without copying a dotted path's head;
 * mapping asks a record for dozens of paths). */
static const cJSON *member(const cJSON *o, const char *key, size_t n)
{
    for (const cJSON *c = o->child; c; c = c->next)
        if (c->string && (n == 0 || c->string[0] == key[0]) && strncmp(c->string, key, n) == 0 &&
            c->string[n] == '\0')
            return c;
    return NULL;
}

/* The value at a dotted path, whether the record spells it nested ({"host":{"name":
 * ..}}), dotted ({"host.name": ..}) or anything between. */
static const cJSON *get(const cJSON *o, const char *path)
{
    if (!cJSON_IsObject(o))
        return NULL;
    const cJSON *v = member(o, path, strlen(path));
    if (v)
        return v;
    for (const char *dot = strchr(path, '.'); dot; dot = strchr(dot + 1, '.')) {
        const cJSON *sub = member(o, path, (size_t)(dot - path));
        if (sub && (v = get(sub, dot + 1)))
            return v;
    }
    return NULL;
}

/* A scalar as text (a one-element array counts as its element); NULL otherwise.
 * Numbers are written into buf. */
static const char *text_of(const cJSON *v, char *buf, size_t bufsz)
{
    if (cJSON_IsArray(v))
        v = cJSON_GetArraySize(v) > 0 ? cJSON_GetArrayItem(v, 0) : NULL;
    if (cJSON_IsString(v))
        return v->valuestring[0] ? v->valuestring : NULL;
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d == floor(d) && fabs(d) < 9e15)
            snprintf(buf, bufsz, "%" PRId64, (int64_t)d);
        else
            snprintf(buf, bufsz, "%.17g", d);
        return buf;
    }
    return NULL;
}

/* A number from lo to hi as an int (truncated); false for anything else, NaN and
 * 1e300 included, so no conversion is ever out of range. */
static bool int_in(const cJSON *v, int lo, int hi, int *out)
{
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi))
        return false;
    *out = (int)v->valuedouble;
    return true;
}

static const char *str_at(const cJSON *o, const char *path, char *buf, size_t bufsz)
{
    return text_of(get(o, path), buf, bufsz);
}

/* The first of several paths that holds text. */
static const char *first_str(const cJSON *o, const char *const *paths, char *buf, size_t bufsz)
{
    for (; *paths; paths++) {
        const char *s = str_at(o, *paths, buf, bufsz);
        if (s)
            return s;
    }
    return NULL;
}

/* ---- times ---------------------------------------------------------------------- */

/* A count since the epoch in an unknown unit, told by its size: seconds until the
 * year 5138, then milliseconds, microseconds, nanoseconds. */
static int64_t epoch_ms(double v)
{
    if (v < 1e11)
        return (int64_t)(v * 1000);
    if (v < 1e14)
        return (int64_t)v;
    if (v < 1e17)
        return (int64_t)(v / 1e3);
    return (int64_t)(v / 1e6);
}

bool imp_time(const cJSON *v, int64_t *ms)
{
    if (cJSON_IsArray(v))
        v = cJSON_GetArraySize(v) > 0 ? cJSON_GetArrayItem(v, 0) : NULL;
    if (cJSON_IsNumber(v) && v->valuedouble > 0 && v->valuedouble < 1e20) {
        *ms = epoch_ms(v->valuedouble);
        return true;
    }
    if (!cJSON_IsString(v))
        return false;
    const char *s = v->valuestring;
    if (*s && strspn(s, "0123456789.") == strlen(s)) {
        double d = strtod(s, NULL);
        if (d > 0 && d < 1e20) {
            *ms = epoch_ms(d);
            return true;
        }
        return false;
    }
    return vg_parse_iso8601(s, ms);
}

/* ---- severities ----------------------------------------------------------------- */

static int sev_word(const char *s)
{
    static const struct { const char *w; int sev; } words[] = {
        {"info", VG_SEV_INFO}, {"informational", VG_SEV_INFO}, {"information", VG_SEV_INFO},
        {"unknown", VG_SEV_MEDIUM}, {"low", VG_SEV_LOW}, {"minor", VG_SEV_LOW},
        {"medium", VG_SEV_MEDIUM}, {"moderate", VG_SEV_MEDIUM}, {"warning", VG_SEV_MEDIUM},
        {"high", VG_SEV_HIGH}, {"major", VG_SEV_HIGH}, {"important", VG_SEV_HIGH},
        {"error", VG_SEV_HIGH}, {"critical", VG_SEV_CRITICAL}, {"severe", VG_SEV_CRITICAL},
        {"fatal", VG_SEV_CRITICAL}, {"emergency", VG_SEV_CRITICAL}};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (strcasecmp(s, words[i].w) == 0)
            return words[i].sev;
    return -1;
}

/* A number on a vendor scale onto vigil's: the scale's top and the lowest value of
 * low, medium, high and critical on it. */
static int sev_scale(double v, const double cut[4])
{
    int sev = VG_SEV_INFO;
    for (int i = 0; i < 4; i++)
        if (v >= cut[i])
            sev = i + 1;
    return sev;
}

static const double WAZUH_CUT[4] = {4, 7, 10, 13};     /* rule.level 0..15 */
static const double RISK_CUT[4] = {0, 22, 48, 74};     /* Elastic risk score 0..100 */
static const double NATIVE_CUT[4] = {1, 2, 3, 4};      /* vigil's own ranks 0..4 */

static int severity_of(const cJSON *v, const double cut[4])
{
    char buf[32];
    const char *s = text_of(v, buf, sizeof buf);
    if (!s)
        return -1;
    int w = sev_word(s);
    if (w >= 0)
        return w;
    char *end;
    double d = strtod(s, &end);
    return end != s && !*end && cut ? sev_scale(d, cut) : -1;
}

/* ---- building the payload ------------------------------------------------------- */

/* Add text values (a scalar or each element of an array) under an entity name. */
static void ent(cJSON *ents, const char *name, const cJSON *v)
{
    if (!v)
        return;
    if (cJSON_IsArray(v)) {
        const cJSON *it;
        cJSON_ArrayForEach(it, v)
            if (!cJSON_IsArray(it))
                ent(ents, name, it);
        return;
    }
    char buf[64];
    const char *s = text_of(v, buf, sizeof buf);
    if (!s || strlen(s) > 2048)
        return;
    cJSON *have = cJSON_GetObjectItemCaseSensitive(ents, name);
    if (!have) {
        cJSON_AddStringToObject(ents, name, s);
        return;
    }
    if (cJSON_IsString(have)) {
        if (strcmp(have->valuestring, s) == 0)
            return;
        cJSON *arr = cJSON_CreateArray();
        cJSON_AddItemToArray(arr, cJSON_CreateString(have->valuestring));
        cJSON_ReplaceItemInObjectCaseSensitive(ents, name, arr);
        have = arr;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, have)
        if (strcmp(it->valuestring, s) == 0)
            return;
    if (cJSON_GetArraySize(have) < 64)
        cJSON_AddItemToArray(have, cJSON_CreateString(s));
}

static void ent_at(cJSON *ents, const char *name, const cJSON *rec, const char *path)
{
    ent(ents, name, get(rec, path));
}

/* A value of Wazuh's Windows eventchannel decoder (data.win.eventdata.*): it
 * writes each backslash and quote of the event escaped once more than JSON needs
 * ("C:\\\\Windows" for C:\Windows, \\\" for a quote), as its own message text
 * does not; undone, so the path is the one the analyst searches for. */
static void ent_win(cJSON *ents, const char *name, const cJSON *rec, const char *path)
{
    const cJSON *v = get(rec, path);
    if (!cJSON_IsString(v) || !strchr(v->valuestring, '\\')) {
        ent(ents, name, v);
        return;
    }
    const char *s = v->valuestring;
    size_t n = strlen(s), j = 0;
    char *u = vg_xmalloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && (s[i + 1] == '\\' || s[i + 1] == '"'))
            i++;
        u[j++] = s[i];
    }
    u[j] = '\0';
    cJSON *c = cJSON_CreateString(u);
    ent(ents, name, c);
    cJSON_Delete(c);
    free(u);
}

/* A hash by its length: md5, sha1, sha256, sha512. */
static const char *hash_name(const char *s)
{
    size_t n = strlen(s);
    if (strspn(s, "0123456789abcdefABCDEF") != n)
        return NULL;
    return n == 32 ? "md5" : n == 40 ? "sha1" : n == 64 ? "sha256" : n == 128 ? "sha512" : NULL;
}

static void tech(cJSON *techs, const cJSON *v)
{
    if (cJSON_IsArray(v)) {
        const cJSON *it;
        cJSON_ArrayForEach(it, v)
            tech(techs, it);
        return;
    }
    if (!cJSON_IsString(v) || strlen(v->valuestring) > 16)
        return;
    const cJSON *have;
    cJSON_ArrayForEach(have, techs)
        if (strcmp(have->valuestring, v->valuestring) == 0)
            return;
    if (cJSON_GetArraySize(techs) < 32)
        cJSON_AddItemToArray(techs, cJSON_CreateString(v->valuestring));
}

/* Every element of an array at path (or the value itself), for nested lists such
 * as kibana.alert.rule.threat[].technique[].id. */
static void each_tech(cJSON *techs, const cJSON *rec, const char *list, const char *inner,
                      const char *id)
{
    const cJSON *l = get(rec, list), *it;
    if (!l)
        return;
    if (!cJSON_IsArray(l)) {
        tech(techs, get(get(l, inner), id));
        return;
    }
    cJSON_ArrayForEach(it, l) {
        const cJSON *in = get(it, inner), *t;
        if (cJSON_IsArray(in)) {
            cJSON_ArrayForEach(t, in) {
                tech(techs, get(t, id));
                const cJSON *subs = get(t, "subtechnique"), *sub;
                cJSON_ArrayForEach(sub, subs)
                    tech(techs, get(sub, "id"));
            }
        } else
            tech(techs, get(in, id));
    }
}

/* Sysmon's Hashes field: "SHA1=..,MD5=..,SHA256=..,IMPHASH=.." (IMPHASH names an
 * import table, not a file, and is left out). */
static void sysmon_hashes(cJSON *ents, const cJSON *v)
{
    if (!cJSON_IsString(v))
        return;
    for (const char *p = v->valuestring; *p;) {
        size_t l = strcspn(p, ",");
        const char *eq = memchr(p, '=', l);
        if (eq && (size_t)(eq - p) < 8) {
            char algo[8], hex[140];
            size_t al = (size_t)(eq - p), hl = l - al - 1;
            for (size_t i = 0; i < al; i++)
                algo[i] = (char)tolower((unsigned char)p[i]);
            algo[al] = '\0';
            if (hl < sizeof hex && strcmp(algo, "imphash") != 0) {
                memcpy(hex, eq + 1, hl);
                hex[hl] = '\0';
                const char *name = hash_name(hex);
                if (name && strcmp(name, algo) == 0) {
                    cJSON *h = cJSON_CreateString(hex);
                    ent(ents, name, h);
                    cJSON_Delete(h);
                }
            }
        }
        p += l + (p[l] == ',');
    }
}

/* CVE ids as rule sets write them: "CVE-2021-44228", or "CVE_2021_44228" (ET's
 * metadata); a scalar or a list. */
static void cves(cJSON *ents, const cJSON *v)
{
    if (cJSON_IsArray(v)) {
        const cJSON *it;
        cJSON_ArrayForEach(it, v)
            cves(ents, it);
        return;
    }
    if (!cJSON_IsString(v))
        return;
    char id[32];
    size_t n = strlen(v->valuestring);
    if (n < 13 || n >= sizeof id || strncasecmp(v->valuestring, "cve", 3) != 0)
        return;
    for (size_t i = 0; i <= n; i++)
        id[i] = v->valuestring[i] == '_' ? '-' : (char)toupper((unsigned char)v->valuestring[i]);
    if (id[3] != '-' || id[8] != '-' || strspn(id + 4, "0123456789") != 4 ||
        strspn(id + 9, "0123456789") != n - 9)
        return;
    cJSON *c = cJSON_CreateString(id);
    ent(ents, "cve", c);
    cJSON_Delete(c);
}

/* ATT&CK ids inside text values ("T1059.001 Command and Scripting Interpreter",
 * "attack.t1190"): each T followed by 4 digits (and .3). */
static void tech_ids(cJSON *techs, const cJSON *v)
{
    if (cJSON_IsArray(v)) {
        const cJSON *it;
        cJSON_ArrayForEach(it, v)
            tech_ids(techs, it);
        return;
    }
    if (!cJSON_IsString(v))
        return;
    for (const char *p = v->valuestring; *p; p++) {
        if ((*p != 'T' && *p != 't') || (p > v->valuestring && isalnum((unsigned char)p[-1])))
            continue;
        if (strspn(p + 1, "0123456789") != 4)
            continue;
        char id[12];
        size_t l = 5;
        if (p[5] == '.' && strspn(p + 6, "0123456789") == 3)
            l = 9;
        if (isalnum((unsigned char)p[l]))
            continue;
        memcpy(id, p, l);
        id[0] = 'T';
        id[l] = '\0';
        cJSON *t = cJSON_CreateString(id);
        tech(techs, t);
        cJSON_Delete(t);
    }
}

typedef struct out {
    cJSON *p, *ents, *techs;
    char *why;
    size_t whysz;
} out;

static imp_map_rc bad(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static imp_map_rc bad(out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->why, o->whysz, fmt, ap);
    va_end(ap);
    return MAP_BAD;
}

static imp_map_rc need_title_time(out *o, const char *title, const char *tfield, const cJSON *tv)
{
    int64_t ms;
    if (!title)
        return bad(o, "%s", "no title or rule name");
    if (!tv)
        return bad(o, "%s: missing", tfield);
    if (!imp_time(tv, &ms)) {
        char buf[64];
        const char *s = text_of(tv, buf, sizeof buf);
        snprintf(o->why, o->whysz, "%s: '%.60s' is not a time", tfield, s ? s : "(not text)");
        return MAP_BAD;
    }
    /* a title is one line: control characters become spaces, ends are trimmed
     * (OCSF titles come with trailing newlines) */
    size_t n = strlen(title);
    char *t = vg_xmalloc(n + 1);
    for (size_t i = 0; i <= n; i++)
        t[i] = i < n && ((unsigned char)title[i] < 0x20 || title[i] == 0x7f) ? ' ' : title[i];
    char *b = t + strspn(t, " ");
    while (n > 0 && t[n - 1] == ' ')
        t[--n] = '\0';
    if (!*b) {
        free(t);
        return bad(o, "%s", "no title or rule name");
    }
    cJSON_AddStringToObject(o->p, "title", b);
    free(t);
    cJSON_AddNumberToObject(o->p, "event_time", (double)ms);
    return MAP_OK;
}

static void set_sev(out *o, int sev)
{
    cJSON_AddStringToObject(o->p, "severity", vg_enum_name(&VG_SEVERITY, sev < 0 ? VG_SEV_MEDIUM : sev));
}

static void set_str(out *o, const char *key, const char *s)
{
    if (s)
        cJSON_AddStringToObject(o->p, key, s);
}

/* ---- the formats ---------------------------------------------------------------- */

static imp_map_rc map_native(const cJSON *r, out *o)
{
    char b1[64], b2[64], b3[64];
    const char *source = str_at(r, "source", b1, sizeof b1);
    if (!source)
        return bad(o, "%s", "source: missing");
    if (strlen(source) > 64)
        return bad(o, "%s", "source: longer than 64 bytes");
    set_str(o, "source", source);
    set_str(o, "source_ref", str_at(r, "source_ref", b2, sizeof b2));
    set_str(o, "rule", str_at(r, "rule", b3, sizeof b3));
    const cJSON *sv = get(r, "severity");
    int sev = severity_of(sv, NATIVE_CUT);
    if (sv && sev < 0)
        return bad(o, "%s", "severity: not a severity word or 0..4");
    set_sev(o, sev);
    const cJSON *t = get(r, "event_time");
    const char *tname = "event_time";
    if (!t) {
        t = get(r, "time");
        tname = "time";
    }
    imp_map_rc rc = need_title_time(o, str_at(r, "title", b1, sizeof b1), tname, t);
    if (rc)
        return rc;
    static const char *const seen[] = {"first_seen", "last_seen"};
    for (int i = 0; i < 2; i++) {
        int64_t ms;
        const cJSON *v = get(r, seen[i]);
        if (v && !imp_time(v, &ms))
            return bad(o, "%s: not a time", seen[i]);
        if (v)
            cJSON_AddNumberToObject(o->p, seen[i], (double)ms);
    }
    const cJSON *count = get(r, "count");
    if (count && (!cJSON_IsNumber(count) || !(count->valuedouble >= 1 && count->valuedouble <= 1e12)))
        return bad(o, "%s", "count: must be a number of at least 1");
    if (count)
        cJSON_AddNumberToObject(o->p, "count", floor(count->valuedouble));
    const cJSON *e = get(r, "entities"), *it;
    if (e && !cJSON_IsObject(e))
        return bad(o, "%s", "entities: must be an object");
    cJSON_ArrayForEach(it, e)
        ent(o->ents, it->string, it);
    tech(o->techs, get(r, "techniques"));
    return MAP_OK;
}

static imp_map_rc map_ecs(const cJSON *r, out *o)
{
    char b1[64], b2[64], b3[64];
    static const char *const titles[] = {"kibana.alert.rule.name", "signal.rule.name", "rule.name",
                                         "message", NULL};
    static const char *const refs[] = {"kibana.alert.uuid", "_id", "event.id", NULL};
    static const char *const rules[] = {"kibana.alert.rule.rule_id", "kibana.alert.rule.uuid",
                                        "signal.rule.rule_id", "rule.id", NULL};
    set_str(o, "source", "elastic");
    set_str(o, "source_ref", first_str(r, refs, b2, sizeof b2));
    set_str(o, "rule", first_str(r, rules, b3, sizeof b3));
    int sev = severity_of(get(r, "kibana.alert.severity"), NULL);
    if (sev < 0)
        sev = severity_of(get(r, "signal.rule.severity"), NULL);
    if (sev < 0)
        sev = severity_of(get(r, "kibana.alert.risk_score"), RISK_CUT);
    if (sev < 0)
        sev = severity_of(get(r, "event.severity"), RISK_CUT);
    set_sev(o, sev);
    /* the event's own time: a detection alert's @timestamp is when its rule ran */
    const cJSON *t = get(r, "kibana.alert.original_time");
    const char *tname = "kibana.alert.original_time";
    if (!t) {
        t = get(r, "@timestamp");
        tname = "@timestamp";
    }
    imp_map_rc rc = need_title_time(o, first_str(r, titles, b1, sizeof b1), tname, t);
    if (rc)
        return rc;
    static const struct { const char *name, *path; } E[] = {
        {"host", "host.name"}, {"host", "host.hostname"}, {"user", "user.name"},
        {"src_ip", "source.ip"}, {"dest_ip", "destination.ip"}, {"ip", "host.ip"},
        {"domain", "destination.domain"}, {"domain", "dns.question.name"},
        {"domain", "url.domain"}, {"url", "url.full"}, {"url", "url.original"},
        {"process", "process.name"}, {"file", "process.executable"}, {"file", "file.name"},
        {"file", "file.path"}, {"md5", "file.hash.md5"}, {"sha1", "file.hash.sha1"},
        {"sha256", "file.hash.sha256"}, {"sha512", "file.hash.sha512"},
        {"md5", "process.hash.md5"}, {"sha1", "process.hash.sha1"},
        {"sha256", "process.hash.sha256"}, {"sender", "email.from.address"},
        {"recipient", "email.to.address"}, {"registry", "registry.path"},
        {"user_agent", "user_agent.original"}, {"cve", "vulnerability.id"},
        {"command_line", "process.command_line"},
        /* Windows events as Winlogbeat and Elastic Agent ship them */
        {"host", "winlog.computer_name"}, {"user", "winlog.event_data.TargetUserName"},
        {"user", "winlog.event_data.SubjectUserName"}, {"host", "winlog.event_data.WorkstationName"},
        {"src_ip", "winlog.event_data.IpAddress"}, {"process", "winlog.event_data.Image"},
        {"process", "winlog.event_data.ParentImage"}, {"src_ip", "source.address"},
        {"command_line", "winlog.event_data.CommandLine"}};
    for (size_t i = 0; i < sizeof E / sizeof *E; i++)
        ent_at(o->ents, E[i].name, r, E[i].path);
    sysmon_hashes(o->ents, get(r, "winlog.event_data.Hashes"));
    tech(o->techs, get(r, "threat.technique.id"));
    tech(o->techs, get(r, "threat.technique.subtechnique.id"));
    each_tech(o->techs, r, "kibana.alert.rule.threat", "technique", "id");
    each_tech(o->techs, r, "signal.rule.threat", "technique", "id");
    return MAP_OK;
}

static imp_map_rc map_wazuh(const cJSON *r, out *o)
{
    char b1[64], b2[64], b3[64];
    set_str(o, "source", "wazuh");
    set_str(o, "source_ref", str_at(r, "id", b2, sizeof b2));
    set_str(o, "rule", str_at(r, "rule.id", b3, sizeof b3));
    set_sev(o, severity_of(get(r, "rule.level"), WAZUH_CUT));
    imp_map_rc rc = need_title_time(o, str_at(r, "rule.description", b1, sizeof b1), "timestamp",
                                    get(r, "timestamp"));
    if (rc)
        return rc;
    static const struct { const char *name, *path; } E[] = {
        {"host", "agent.name"}, {"ip", "agent.ip"}, {"src_ip", "data.srcip"},
        {"dest_ip", "data.dstip"}, {"user", "data.srcuser"}, {"user", "data.dstuser"},
        {"url", "data.url"},
        /* Windows eventchannel: the Security log and Sysmon (data.win.*) */
        {"host", "data.win.system.computer"}, {"user", "data.win.eventdata.targetUserName"},
        {"user", "data.win.eventdata.subjectUserName"}, {"user", "data.win.eventdata.user"},
        {"src_ip", "data.win.eventdata.ipAddress"}, {"src_ip", "data.win.eventdata.sourceIp"},
        {"dest_ip", "data.win.eventdata.destinationIp"},
        {"host", "data.win.eventdata.workstationName"},
        {"process", "data.win.eventdata.image"}, {"process", "data.win.eventdata.parentImage"},
        {"command_line", "data.win.eventdata.commandLine"},
        {"file", "data.win.eventdata.targetFilename"},
        {"domain", "data.win.eventdata.queryName"},
        {"registry", "data.win.eventdata.targetObject"}};
    for (size_t i = 0; i < sizeof E / sizeof *E; i++)
        if (strncmp(E[i].path, "data.win.eventdata.", 19) == 0)
            ent_win(o->ents, E[i].name, r, E[i].path);
        else
            ent_at(o->ents, E[i].name, r, E[i].path);
    sysmon_hashes(o->ents, get(r, "data.win.eventdata.hashes"));
    /* File integrity: a changed file of the organisation's own, or a registry key
     * (Windows); what it changed to is context, not an indicator to hunt for, so
     * its hashes are not entities (they stay in the raw event). */
    char b4[64];
    const char *path = str_at(r, "syscheck.path", b4, sizeof b4);
    const cJSON *pv = get(r, "syscheck.path");
    bool registry = path && (strncmp(path, "HKEY_", 5) == 0 || strncmp(path, "[x", 2) == 0 ||
                             get(r, "syscheck.value_name") || get(r, "syscheck.value_type"));
    ent(o->ents, registry ? "registry" : "file", pv);
    tech(o->techs, get(r, "rule.mitre.id"));
    return MAP_OK;
}

static imp_map_rc map_suricata(const cJSON *r, out *o)
{
    char b1[64], b2[64], b3[300];
    const char *type = str_at(r, "event_type", b1, sizeof b1);
    if (!type || strcmp(type, "alert") != 0)
        return MAP_SKIP;
    set_str(o, "source", "suricata");
    const char *sid = str_at(r, "alert.signature_id", b2, sizeof b2);
    if (sid) {
        char rule[80];
        snprintf(rule, sizeof rule, "sid:%s", sid);
        set_str(o, "rule", rule);
    }
    /* alert.severity: 1 is the most severe, 3 the least (4 in some rule sets). */
    const cJSON *sv = get(r, "alert.severity");
    int sev = cJSON_IsNumber(sv) ? (sv->valuedouble <= 1 ? VG_SEV_HIGH
                                    : sv->valuedouble <= 2 ? VG_SEV_MEDIUM
                                    : sv->valuedouble <= 3 ? VG_SEV_LOW : VG_SEV_INFO)
                                 : severity_of(sv, NULL);
    set_sev(o, sev);
    imp_map_rc rc = need_title_time(o, str_at(r, "alert.signature", b1, sizeof b1), "timestamp",
                                    get(r, "timestamp"));
    if (rc)
        return rc;
    ent_at(o->ents, "src_ip", r, "src_ip");
    ent_at(o->ents, "dest_ip", r, "dest_ip");
    ent_at(o->ents, "domain", r, "http.hostname");
    ent_at(o->ents, "domain", r, "tls.sni");
    ent_at(o->ents, "domain", r, "dns.rrname");
    ent_at(o->ents, "user_agent", r, "http.http_user_agent");
    const cJSON *q = get(r, "dns.query"), *it;
    cJSON_ArrayForEach(it, q)
        ent_at(o->ents, "domain", it, "rrname");
    const char *host = str_at(r, "http.hostname", b1, sizeof b1);
    const char *path = str_at(r, "http.url", b2, sizeof b2);
    if (host && path && path[0] == '/') {
        snprintf(b3, sizeof b3, "http://%s%s", host, path);
        cJSON *u = cJSON_CreateString(b3);
        ent(o->ents, "url", u);
        cJSON_Delete(u);
    }
    ent_at(o->ents, "file", r, "fileinfo.filename");
    ent_at(o->ents, "md5", r, "fileinfo.md5");
    ent_at(o->ents, "sha1", r, "fileinfo.sha1");
    ent_at(o->ents, "sha256", r, "fileinfo.sha256");
    tech(o->techs, get(r, "alert.metadata.mitre_technique_id"));
    tech_ids(o->techs, get(r, "alert.metadata.mitre_attack"));
    cves(o->ents, get(r, "alert.metadata.cve"));
    return MAP_OK;
}

static imp_map_rc map_ocsf(const cJSON *r, out *o)
{
    char b1[64], b2[64], b3[64];
    const cJSON *cat = get(r, "category_uid"), *cls = get(r, "class_uid");
    bool finding = get(r, "finding_info") || (cJSON_IsNumber(cat) && cat->valuedouble == 2) ||
                   (cJSON_IsNumber(cls) && cls->valuedouble >= 2000 && cls->valuedouble < 3000);
    if (!finding)
        return MAP_SKIP;
    static const char *const titles[] = {"finding_info.title", "finding.title", "message",
                                         "finding_info.analytic.name", NULL};
    static const char *const refs[] = {"finding_info.uid", "finding.uid", "metadata.uid", NULL};
    static const char *const rules[] = {"finding_info.analytic.uid", "finding_info.analytic.name",
                                        "metadata.product.name", NULL};
    set_str(o, "source", "ocsf");
    set_str(o, "source_ref", first_str(r, refs, b2, sizeof b2));
    set_str(o, "rule", first_str(r, rules, b3, sizeof b3));
    /* severity_id: 0 unknown, 1 informational .. 5 critical, 6 fatal, 99 other */
    int sev = -1, sid;
    if (int_in(get(r, "severity_id"), 0, 99, &sid) && (sid == 0 || sid == 99))
        sev = VG_SEV_INFO; /* Unknown, Other: vigil has no unknown; ranked last, never medium */
    else if (int_in(get(r, "severity_id"), 1, 6, &sid))
        sev = sid >= 5 ? VG_SEV_CRITICAL : sid - 1;
    if (sev < 0)
        sev = severity_of(get(r, "severity"), NULL);
    set_sev(o, sev);
    const cJSON *t = get(r, "time");
    imp_map_rc rc = need_title_time(o, first_str(r, titles, b1, sizeof b1), "time",
                                    t ? t : get(r, "finding_info.created_time"));
    if (rc)
        return rc;
    static const struct { const char *name, *path; } E[] = {
        {"host", "device.hostname"}, {"host", "device.name"}, {"ip", "device.ip"},
        {"user", "actor.user.name"}, {"user", "user.name"}, {"src_ip", "src_endpoint.ip"},
        {"dest_ip", "dst_endpoint.ip"}, {"domain", "dst_endpoint.domain"},
        {"process", "process.name"}, {"file", "file.name"}, {"command_line", "process.cmd_line"},
        {"command_line", "actor.process.cmd_line"}};
    for (size_t i = 0; i < sizeof E / sizeof *E; i++)
        ent_at(o->ents, E[i].name, r, E[i].path);
    /* observables[].type_id: 1 hostname, 2 IP, 4 user, 5 email, 6 URL, 7 file name,
     * 8 hash, 9 process name, 20 domain (OCSF 1.x) */
    const cJSON *obs = get(r, "observables"), *it;
    cJSON_ArrayForEach(it, obs) {
        const cJSON *ty = get(it, "type_id"), *v = get(it, "value");
        int id;
        if (!int_in(ty, 0, 99, &id))
            id = -1;
        const char *name = id == 1 ? "host" : id == 2 ? "ip" : id == 4 ? "user"
                         : id == 5 ? "email" : id == 6 ? "url" : id == 7 ? "file"
                         : id == 9 ? "process" : id == 20 ? "domain" : NULL;
        if (id == 8 && cJSON_IsString(v))
            name = hash_name(v->valuestring);
        if (name)
            ent(o->ents, name, v);
    }
    /* the evidence a finding cites, and the vulnerabilities it names */
    static const struct { const char *name, *path; } EV[] = {
        {"src_ip", "src_endpoint.ip"}, {"dest_ip", "dst_endpoint.ip"},
        {"host", "src_endpoint.hostname"}, {"host", "dst_endpoint.hostname"},
        {"host", "device.hostname"}, {"user", "actor.user.name"}, {"user", "user.name"},
        {"process", "process.name"}, {"process", "actor.process.name"}, {"file", "file.name"},
        {"url", "url.url_string"}, {"domain", "query.hostname"}};
    const cJSON *evs = get(r, "evidences");
    cJSON_ArrayForEach(it, evs)
        for (size_t i = 0; i < sizeof EV / sizeof *EV; i++)
            ent_at(o->ents, EV[i].name, it, EV[i].path);
    const cJSON *vulns = get(r, "vulnerabilities");
    cJSON_ArrayForEach(it, vulns)
        cves(o->ents, get(it, "cve.uid"));
    const cJSON *attacks = get(r, "attacks"), *a;
    cJSON_ArrayForEach(a, attacks) {
        tech(o->techs, get(a, "technique.uid"));
        tech(o->techs, get(a, "sub_technique.uid"));
    }
    return MAP_OK;
}

imp_format imp_detect(const cJSON *r)
{
    if (!cJSON_IsObject(r))
        return IMP_AUTO;
    if (cJSON_IsString(get(r, "event_type")) && (get(r, "timestamp") || get(r, "src_ip") || get(r, "flow_id")))
        return IMP_SURICATA;
    const cJSON *level = get(r, "rule.level");
    if (level && get(r, "agent"))
        return IMP_WAZUH;
    if (get(r, "kibana.alert.rule.name") || get(r, "signal.rule.name") ||
        (get(r, "@timestamp") && (get(r, "ecs.version") || get(r, "event.kind"))))
        return IMP_ECS;
    if (get(r, "class_uid") || get(r, "finding_info"))
        return IMP_OCSF;
    if (get(r, "source") && get(r, "title"))
        return IMP_NATIVE;
    return IMP_AUTO;
}

/* Records without an id of their own are the same alert when the rule, the key
 * entities and the time bucket agree: "fp:" and a BLAKE2b of those. */
static void fingerprint(cJSON *p, int64_t bucket_ms)
{
    static const char *const keys[] = {"host", "user", "src_ip", "dest_ip", "domain", "url",
                                       "sha256"};
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 12);
    const cJSON *rule = get(p, "rule"), *title = get(p, "title"), *t = get(p, "event_time");
    const char *r = cJSON_IsString(rule) ? rule->valuestring : title->valuestring;
    crypto_generichash_update(&h, (const unsigned char *)r, strlen(r) + 1);
    const cJSON *ents = get(p, "entities");
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        char *s = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(ents, keys[i]));
        if (s)
            crypto_generichash_update(&h, (const unsigned char *)s, strlen(s) + 1);
        else
            crypto_generichash_update(&h, (const unsigned char *)"", 1);
        free(s);
    }
    int64_t bucket = (int64_t)t->valuedouble / (bucket_ms > 0 ? bucket_ms : 3600000);
    crypto_generichash_update(&h, (const unsigned char *)&bucket, sizeof bucket);
    unsigned char d[12];
    crypto_generichash_final(&h, d, sizeof d);
    char ref[3 + 2 * sizeof d + 1] = "fp:";
    sodium_bin2hex(ref + 3, sizeof ref - 3, d, sizeof d);
    cJSON_AddStringToObject(p, "source_ref", ref);
}

imp_map_rc imp_map(const cJSON *rec, imp_format fmt, int64_t bucket_ms, cJSON *p, char *why,
                   size_t whysz)
{
    out o = {.p = p, .why = why, .whysz = whysz};
    o.ents = cJSON_CreateObject();
    o.techs = cJSON_CreateArray();
    imp_map_rc rc;
    switch (fmt) {
    case IMP_NATIVE: rc = map_native(rec, &o); break;
    case IMP_ECS: rc = map_ecs(rec, &o); break;
    case IMP_WAZUH: rc = map_wazuh(rec, &o); break;
    case IMP_SURICATA: rc = map_suricata(rec, &o); break;
    case IMP_OCSF: rc = map_ocsf(rec, &o); break;
    default: rc = bad(&o, "%s", "not an alert of a known format (native, ecs, wazuh, suricata, ocsf)");
    }
    cJSON_AddItemToObject(p, "entities", o.ents);
    cJSON_AddItemToObject(p, "techniques", o.techs);
    if (rc == MAP_OK && !get(p, "source_ref"))
        fingerprint(p, bucket_ms);
    return rc;
}
