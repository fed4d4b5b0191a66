/*
 * json.c — entities as JSON (see json.h). Every string passes vg_utf8_repair so the
 * output is valid JSON even when the data holds invalid UTF-8 (alert fields often
 * do); control characters are escaped by cJSON itself.
 *
 * cJSON is lenient where strict parsers are not: it keeps duplicate keys and
 * invalid UTF-8 as they came, and it parses a raw event holding control bytes. So
 * what is printed for others to parse goes through vg_json_print, which makes the
 * tree strict once, at the end, whatever built it: a parsed tag list, a model's
 * answer or a sensor's raw event. Raw events stay their exact text (64-bit numbers)
 * whenever that text is already strict, which is the common case.
 */
#include "vigil/json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vigil/buf.h"
#include "vigil/text.h"

/* JSON's white space (RFC 8259). */
static bool space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

void vg_iso8601(int64_t ms, char *out, size_t outsz)
{
    if (ms == 0) {
        snprintf(out, outsz, "%s", "");
        return;
    }
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, outsz, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

static void add_str(cJSON *o, const char *key, const char *s)
{
    char *r = vg_utf8_repair(s ? s : "");
    cJSON_AddStringToObject(o, key, r);
    free(r);
}

static void add_time(cJSON *o, const char *key, int64_t ms)
{
    char buf[32];
    if (ms == 0) {
        cJSON_AddNullToObject(o, key);
        return;
    }
    vg_iso8601(ms, buf, sizeof buf);
    cJSON_AddStringToObject(o, key, buf);
}

/* A stored JSON text (tags, entities, raw) as a JSON value; fallback when broken. */
static void add_raw(cJSON *o, const char *key, const char *json, const char *fallback)
{
    cJSON *v = cJSON_Parse(json ? json : "");
    cJSON_AddItemToObject(o, key, v ? v : cJSON_Parse(fallback));
}

static void add_enum(cJSON *o, const char *key, const vg_enum *e, int i)
{
    if (i < 0)
        cJSON_AddNullToObject(o, key);
    else
        cJSON_AddStringToObject(o, key, vg_enum_name(e, i));
}

cJSON *vg_case_json(const vg_case *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", c->id);
    cJSON_AddNumberToObject(o, "ref", (double)c->ref);
    add_str(o, "title", c->title);
    add_str(o, "description", c->description);
    add_enum(o, "severity", &VG_SEVERITY, c->severity);
    add_enum(o, "status", &VG_STATUS, c->status);
    add_enum(o, "resolution", &VG_RESOLUTION, c->resolution);
    add_enum(o, "tlp", &VG_TLP, c->tlp);
    add_enum(o, "pap", &VG_PAP, c->pap);
    if (c->assignee && *c->assignee)
        add_str(o, "assignee", c->assignee);
    else
        cJSON_AddNullToObject(o, "assignee");
    add_raw(o, "tags", c->tags, "[]");
    add_raw(o, "techniques", c->techniques, "[]");
    add_str(o, "created_by", c->created_by);
    add_time(o, "created_at", c->created_at);
    add_time(o, "updated_at", c->updated_at);
    add_time(o, "acknowledged_at", c->acknowledged_at);
    add_time(o, "closed_at", c->closed_at);
    cJSON_AddNumberToObject(o, "alert_count", (double)c->alert_count);
    if (c->merged_into[0]) {
        cJSON *m = cJSON_AddObjectToObject(o, "merged_into");
        cJSON_AddStringToObject(m, "id", c->merged_into);
        cJSON_AddNumberToObject(m, "ref", (double)c->merged_into_ref);
    }
    return o;
}

cJSON *vg_alert_json(const vg_alert *a)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", a->id);
    add_str(o, "source", a->source);
    add_str(o, "source_ref", a->source_ref);
    add_str(o, "rule", a->rule);
    add_str(o, "title", a->title);
    add_enum(o, "severity", &VG_SEVERITY, a->severity);
    add_enum(o, "status", &VG_ALERT_STATUS, a->status);
    add_time(o, "event_time", a->event_time);
    add_time(o, "first_seen", a->first_seen);
    add_time(o, "last_seen", a->last_seen);
    cJSON_AddNumberToObject(o, "count", (double)a->count);
    if (a->case_id[0])
        cJSON_AddStringToObject(o, "case_id", a->case_id);
    else
        cJSON_AddNullToObject(o, "case_id");
    if (a->status == VG_AS_DISMISSED) /* why, "" when nobody said */
        add_str(o, "dismissed_reason", a->dismissed_reason ? a->dismissed_reason : "");
    add_raw(o, "entities", a->entities, "{}");
    add_raw(o, "techniques", a->techniques, "[]");
    /* the raw event as the tool wrote it (64-bit numbers exact), once it is known
     * to be JSON and made valid UTF-8 */
    char *raw = vg_utf8_repair(a->raw ? a->raw : "");
    cJSON *parsed = cJSON_Parse(raw);
    cJSON_AddItemToObject(o, "raw", cJSON_IsObject(parsed) ? cJSON_CreateRaw(raw) : cJSON_Parse("{}"));
    cJSON_Delete(parsed);
    free(raw);
    return o;
}

cJSON *vg_artifact_json(const vg_artifact *a)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", a->id);
    cJSON_AddStringToObject(o, "case_id", a->case_id);
    add_enum(o, "type", &VG_ARTIFACT_TYPE, a->type);
    add_str(o, "value", a->value);
    cJSON_AddBoolToObject(o, "is_ioc", a->is_ioc);
    add_enum(o, "tlp", &VG_TLP, a->tlp);
    add_enum(o, "source", &VG_ARTIFACT_SOURCE, a->source);
    add_time(o, "first_seen", a->first_seen);
    add_time(o, "last_seen", a->last_seen);
    cJSON_AddNumberToObject(o, "sightings", (double)a->sightings);
    cJSON_AddNumberToObject(o, "other_cases", (double)a->other_cases);
    cJSON *refs = cJSON_AddArrayToObject(o, "also_on");
    for (const char *p = a->other_refs; p && *p;) {
        cJSON_AddItemToArray(refs, cJSON_CreateNumber((double)strtoll(p, NULL, 10)));
        p += strcspn(p, ",");
        p += *p == ',';
    }
    return o;
}

cJSON *vg_task_json(const vg_task *t)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", t->id);
    cJSON_AddStringToObject(o, "case_id", t->case_id);
    add_enum(o, "phase", &VG_PHASE, t->phase);
    add_str(o, "title", t->title);
    add_str(o, "description", t->description);
    add_enum(o, "status", &VG_TASK_STATUS, t->status);
    if (t->assignee && *t->assignee)
        add_str(o, "assignee", t->assignee);
    else
        cJSON_AddNullToObject(o, "assignee");
    cJSON_AddNumberToObject(o, "order", (double)t->ord);
    if (t->playbook_id && *t->playbook_id)
        add_str(o, "playbook", t->playbook_id);
    else
        cJSON_AddNullToObject(o, "playbook");
    cJSON_AddBoolToObject(o, "mandatory", t->mandatory);
    add_time(o, "created_at", t->created_at);
    add_time(o, "done_at", t->done_at);
    return o;
}

cJSON *vg_note_json(const vg_note *n)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", n->id);
    cJSON_AddStringToObject(o, "case_id", n->case_id);
    add_str(o, "author", n->author);
    add_str(o, "body", n->body);
    add_time(o, "created_at", n->created_at);
    return o;
}

cJSON *vg_event_json(const vg_event *e)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", e->id);
    cJSON_AddStringToObject(o, "case_id", e->case_id);
    add_time(o, "occurred_at", e->occurred_at);
    add_time(o, "recorded_at", e->recorded_at);
    add_enum(o, "kind", &VG_EVENT_KIND, e->kind);
    add_str(o, "summary", e->summary);
    add_str(o, "source", e->source);
    add_str(o, "actor", e->actor);
    if (e->technique && *e->technique)
        add_str(o, "technique", e->technique);
    else
        cJSON_AddNullToObject(o, "technique");
    if (e->tactic && *e->tactic)
        add_str(o, "tactic", e->tactic);
    else
        cJSON_AddNullToObject(o, "tactic");
    cJSON_AddBoolToObject(o, "starred", e->starred);
    return o;
}

cJSON *vg_hit_json(const vg_hit *h)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", h->kind);
    cJSON_AddStringToObject(o, "id", h->id);
    if (h->case_id[0]) {
        cJSON_AddStringToObject(o, "case_id", h->case_id);
        cJSON_AddNumberToObject(o, "case_ref", (double)h->case_ref);
    } else {
        cJSON_AddNullToObject(o, "case_id");
        cJSON_AddNullToObject(o, "case_ref");
    }
    add_str(o, "snippet", h->snippet);
    cJSON_AddNumberToObject(o, "rank", h->rank);
    add_time(o, "time", h->t);
    return o;
}

/* ---- strict output ------------------------------------------------------------ */

#define STRICT_DEPTH 1000 /* cJSON's own nesting limit */

/* The end of the RFC 8259 value at p, after its trailing space, or NULL. */
static const char *strict_value(const char *p, const char *end, int depth)
{
    while (p < end && space(*p))
        p++;
    if (p >= end || depth > STRICT_DEPTH)
        return NULL;
    const char *q = p;
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        bool obj = *p == '{';
        for (p++; p < end && space(*p); p++)
            ;
        if (p < end && *p == close)
            p++;
        else
            for (;;) {
                if (obj) { /* a key: a string, then ':' */
                    while (p < end && space(*p))
                        p++;
                    if (p >= end || *p != '"' || !(p = strict_value(p, end, depth + 1)) ||
                        p >= end || *p++ != ':')
                        return NULL;
                }
                if (!(p = strict_value(p, end, depth + 1)) || p >= end)
                    return NULL;
                if (*p == close) {
                    p++;
                    break;
                }
                if (*p++ != ',')
                    return NULL;
            }
    } else if (*p == '"') {
        for (p++; p < end && *p != '"'; p++) {
            unsigned char b = (unsigned char)*p;
            if (b < 0x20)
                return NULL;
            if (b != '\\')
                continue;
            if (++p >= end)
                return NULL;
            if (*p == 'u') {
                for (int i = 0; i < 4; i++)
                    if (++p >= end || !*p || !strchr("0123456789abcdefABCDEF", *p))
                        return NULL;
            } else if (!*p || !strchr("\"\\/bfnrt", *p)) {
                return NULL;
            }
        }
        if (p++ >= end)
            return NULL;
    } else if (*p == '-' || (*p >= '0' && *p <= '9')) {
        p += *p == '-';
        if (p < end && *p == '0')
            p++;
        else if (p < end && *p >= '1' && *p <= '9')
            while (p < end && *p >= '0' && *p <= '9')
                p++;
        else
            return NULL;
        if (p < end && *p == '.') {
            if (++p >= end || *p < '0' || *p > '9')
                return NULL;
            while (p < end && *p >= '0' && *p <= '9')
                p++;
        }
        if (p < end && (*p == 'e' || *p == 'E')) {
            p++;
            p += p < end && (*p == '+' || *p == '-');
            if (p >= end || *p < '0' || *p > '9')
                return NULL;
            while (p < end && *p >= '0' && *p <= '9')
                p++;
        }
    } else {
        static const char *const words[] = {"true", "false", "null"};
        for (size_t i = 0; i < 3 && p == q; i++) {
            size_t n = strlen(words[i]);
            if ((size_t)(end - p) >= n && memcmp(p, words[i], n) == 0)
                p += n;
        }
        if (p == q)
            return NULL;
    }
    while (p < end && space(*p))
        p++;
    return p;
}

bool vg_json_strict(const char *text, size_t len)
{
    return strict_value(text, text + len, 0) == text + len && vg_utf8_valid(text, len);
}

typedef struct member {
    const char *key; /* as it will be printed: repaired */
    size_t at;
    cJSON *item;
} member;

static int member_cmp(const void *x, const void *y)
{
    const member *a = x, *b = y;
    int c = strcmp(a->key, b->key);
    return c ? c : (a->at > b->at) - (a->at < b->at);
}

/* Drop every member of object o whose key, once repaired, an earlier member has.
 * Returns whether it dropped any. */
static bool dedupe(cJSON *o)
{
    size_t n = 0;
    for (cJSON *c = o->child; c; c = c->next)
        n++;
    if (n < 2)
        return false;
    member *m = vg_xmalloc(n * sizeof *m);
    char **fixed = vg_xcalloc(n, sizeof *fixed);
    size_t i = 0;
    for (cJSON *c = o->child; c; c = c->next, i++) {
        const char *k = c->string ? c->string : "";
        if (!vg_utf8_valid(k, strlen(k)))
            k = fixed[i] = vg_utf8_repair(k);
        m[i] = (member){k, i, c};
    }
    qsort(m, n, sizeof *m, member_cmp);
    bool dropped = false;
    size_t first = 0; /* the member that the key of m[i] keeps */
    for (i = 1; i < n; i++) {
        if (strcmp(m[i].key, m[first].key) != 0) {
            first = i;
            continue;
        }
        cJSON_Delete(cJSON_DetachItemViaPointer(o, m[i].item));
        dropped = true;
    }
    for (i = 0; i < n; i++)
        free(fixed[i]);
    free(fixed);
    free(m);
    return dropped;
}

/* Make the tree under v strict: unique keys, and each raw text strict JSON with
 * unique keys, else replaced by its parse made strict (or null). Returns whether a
 * duplicate key was dropped. */
static bool make_strict(cJSON *parent, cJSON *v)
{
    if (cJSON_IsRaw(v)) {
        /* checked as vg_json_print will print it: repaired */
        char *raw = vg_utf8_repair(v->valuestring);
        cJSON *parsed = cJSON_ParseWithOpts(raw, NULL, true);
        bool exact = parsed && !make_strict(NULL, parsed) && vg_json_strict(raw, strlen(raw));
        free(raw);
        if (exact || !parent) {
            cJSON_Delete(parsed);
            return false;
        }
        cJSON *r = parsed ? parsed : cJSON_CreateNull();
        r->string = v->string; /* the member keeps its key */
        r->type |= v->type & cJSON_StringIsConst;
        v->string = NULL;
        cJSON_ReplaceItemViaPointer(parent, v, r);
        return false;
    }
    bool dropped = cJSON_IsObject(v) && dedupe(v);
    for (cJSON *c = v->child, *next; c; c = next) {
        next = c->next; /* c may be replaced */
        dropped |= make_strict(v, c);
    }
    return dropped;
}

char *vg_json_print(cJSON *v)
{
    make_strict(NULL, v);
    char *s = cJSON_PrintUnformatted(v);
    if (!s)
        return NULL;
    char *out = vg_utf8_repair(s);
    cJSON_free(s);
    return out;
}

static void pretty(vg_buf *b, const cJSON *j, int depth)
{
    bool obj = cJSON_IsObject(j);
    if (!obj && !cJSON_IsArray(j)) {
        char *s = cJSON_PrintUnformatted(j);
        if (vg_buf_adds(b, s ? s : "null"))
            abort();
        cJSON_free(s);
        return;
    }
    if (!j->child) {
        if (vg_buf_adds(b, obj ? "{}" : "[]"))
            abort();
        return;
    }
    if (vg_buf_adds(b, obj ? "{" : "["))
        abort();
    for (const cJSON *c = j->child; c; c = c->next) {
        if (vg_buf_addf(b, "\n%*s", (depth + 1) * 2, ""))
            abort();
        if (obj) {
            cJSON *k = cJSON_CreateString(c->string);
            pretty(b, k, 0);
            cJSON_Delete(k);
            if (vg_buf_adds(b, ": "))
                abort();
        }
        pretty(b, c, depth + 1);
        if (c->next && vg_buf_adds(b, ","))
            abort();
    }
    if (vg_buf_addf(b, "\n%*s%s", depth * 2, "", obj ? "}" : "]"))
        abort();
}

char *vg_json_words(const char *list)
{
    cJSON *j = list ? cJSON_Parse(list) : NULL, *it;
    if (!cJSON_IsArray(j)) {
        cJSON_Delete(j);
        return vg_xstrdup(list ? list : "-");
    }
    vg_buf b;
    vg_buf_init(&b, 1u << 20);
    cJSON_ArrayForEach(it, j) {
        if (!cJSON_IsString(it))
            continue;
        if ((b.len && vg_buf_adds(&b, ", ") != VG_OK) || vg_buf_adds(&b, it->valuestring) != VG_OK)
            break;
    }
    cJSON_Delete(j);
    if (!b.len) {
        vg_buf_free(&b);
        return vg_xstrdup("-");
    }
    return vg_buf_take(&b);
}

vg_rc vg_json_parse_doc(const char *text, size_t len, const char *where, cJSON **out,
                        vg_err *err)
{
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(text, len, &end, false);
    const char *at = j ? NULL : cJSON_GetErrorPtr();
    if (j && end) { /* one value and nothing but white space after it */
        while (end < text + len && *end && strchr(" \t\r\n", *end))
            end++;
        if (end < text + len) {
            cJSON_Delete(j);
            j = NULL;
            at = end;
        }
    }
    *out = j;
    if (j)
        return VG_OK;
    int line = 1;
    if (at && at >= text && at <= text + len)
        for (const char *p = text; p < at; p++)
            line += *p == '\n';
    return vg_fail(err, VG_EINVAL, "%s: line %d: not valid JSON", where, line);
}

char *vg_json_pretty(const cJSON *j)
{
    vg_buf b;
    vg_buf_init(&b, (size_t)1 << 30);
    pretty(&b, j, 0);
    if (vg_buf_adds(&b, "\n"))
        abort();
    return vg_buf_take(&b);
}

/* ---- spans of JSON text ------------------------------------------------------- */

const char *vg_json_string_end(const char *s, const char *end)
{
    for (s++; s < end && *s != '"'; s++)
        if (*s == '\\')
            s++;
    return s < end ? s + 1 : end;
}

const char *vg_json_value_end(const char *s, const char *end)
{
    int depth = 0;
    for (; s < end; s++) {
        if (*s == '"') {
            s = vg_json_string_end(s, end) - 1;
            if (depth == 0)
                return s + 1;
        } else if (*s == '{' || *s == '[')
            depth++;
        else if (*s == '}' || *s == ']') {
            if (--depth <= 0)
                return s + 1 - (depth < 0);
        } else if (depth == 0 && (*s == ',' || space(*s)))
            return s;
    }
    return end;
}

bool vg_json_member(const char *text, size_t len, const char *key, const char **vs,
                    const char **ve)
{
    const char *p = text, *end = text + len;
    size_t klen = strlen(key);
    while (p < end && *p != '{')
        p++;
    for (p++; p < end;) {
        while (p < end && (space(*p) || *p == ','))
            p++;
        if (p >= end || *p != '"')
            return false;
        const char *k = p, *q = vg_json_string_end(p, end);
        bool match = (size_t)(q - k) == klen + 2 && memcmp(k + 1, key, klen) == 0;
        while (q < end && (space(*q) || *q == ':'))
            q++;
        const char *v = q;
        if (match && !ve) { /* the caller reads on from the start alone */
            *vs = v;
            return true;
        }
        p = vg_json_value_end(v, end);
        if (match) {
            *vs = v;
            *ve = p;
            return true;
        }
    }
    return false;
}

bool vg_json_next(const char **at, const char *end, const char **vs, const char **ve)
{
    const char *p = *at;
    while (p < end && (space(*p) || *p == ','))
        p++;
    if (p >= end || *p == ']')
        return false;
    *vs = p;
    *at = *ve = vg_json_value_end(p, end);
    return true;
}

bool vg_json_element(const char *text, size_t len, size_t i, const char **vs, const char **ve)
{
    const char *p = text, *end = text + len;
    while (p < end && space(*p))
        p++;
    if (p >= end || *p != '[')
        return false;
    for (p++; vg_json_next(&p, end, vs, ve); i--)
        if (i == 0)
            return true;
    return false;
}

char *vg_json_reindent(const char *text)
{
    vg_buf b;
    size_t n = strlen(text);
    vg_buf_init(&b, n * 8 + 64);
    int depth = 0;
    vg_rc rc = VG_OK;
    for (const char *p = text, *end = text + n; p < end && rc == VG_OK; p++) {
        char c = *p;
        if (c == '"') {
            const char *q = vg_json_string_end(p, end);
            rc = vg_buf_add(&b, p, (size_t)(q - p));
            p = q - 1;
        } else if (c == '{' || c == '[') {
            const char *q = p + 1;
            while (q < end && space(*q))
                q++;
            if (q < end && (*q == '}' || *q == ']')) { /* {} and [] stay as they are */
                rc = vg_buf_addf(&b, "%c%c", c, *q);
                p = q;
                continue;
            }
            depth++;
            rc = vg_buf_addf(&b, "%c\n%*s", c, depth * 2, "");
        } else if (c == '}' || c == ']') {
            depth = depth > 0 ? depth - 1 : 0;
            rc = vg_buf_addf(&b, "\n%*s%c", depth * 2, "", c);
        } else if (c == ',') {
            rc = vg_buf_addf(&b, ",\n%*s", depth * 2, "");
        } else if (c == ':') {
            rc = vg_buf_adds(&b, ": ");
        } else if (!space(c)) {
            rc = vg_buf_add(&b, p, 1);
        }
    }
    if (rc != VG_OK) {
        vg_buf_free(&b);
        return vg_xstrdup(text);
    }
    return vg_buf_take(&b);
}
