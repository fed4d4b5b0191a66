/*
 * proposal.c — the closed set of actions a model may propose, their strict schema,
 * previews, and the autonomy policy.
 *
 * A model's reply is untrusted input like any other: a proposal is taken only when
 * its type is in the set and its params have exactly the fields that type allows,
 * each of the right kind and in its vocabulary; anything else is rejected with a
 * reason the analyst reads, and nothing of it is kept. Params are normalised here
 * (enumerations to their names, times to milliseconds), so what is stored in the
 * ledger, previewed and applied is one and the same object.
 *
 * In the general pane (the open queue) each proposal also names the case it acts
 * on, {"type", "case": "#12", "params"}, and the case must be one the model was
 * shown: a ref outside the fenced queue, or none, is rejected like a bad field.
 *
 * `auto` is the policy's one way to write without a yes, so it is kept to what
 * the analyst or the model brought: a value that the fenced data holds and the
 * analyst never wrote is the attacker's choice as likely as not (the detector
 * misses new phrasings), and waits for the analyst (cop_untrusted_value).
 */
#include "copilot.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "vigil/ioc.h"
#include "vigil/json.h"
#include "vigil/text.h"

static const char *const action_names[] = {
    "add_artifact", "add_note", "add_event", "set_severity", "set_status",
    "assign", "apply_playbook", "complete_task", "find_related"};
const vg_enum COP_ACTIONS = {"type", action_names, COP__NACTIONS};
static const char *const mode_names[] = {"review", "auto", "reject"};
const vg_enum COP_MODES = {"mode", mode_names, 3};

#define MAX_PROPOSALS 16
#define MAX_SUMMARY 1024
#define MAX_VALUE 8192

/* ---- policy ------------------------------------------------------------------------ */

void cop_policy_default(cop_policy *p)
{
    for (int i = 0; i < COP__NACTIONS; i++)
        p->mode[i] = COP_REVIEW;
}

static bool auto_allowed(int action)
{
    return action == COP_ADD_ARTIFACT || action == COP_ADD_EVENT || action == COP_FIND_RELATED;
}

vg_rc cop_policy_set(cop_policy *p, const char *action, const char *mode, vg_err *err)
{
    int m = -1;
    for (int i = 0; i < COP_MODES.n; i++)
        if (strcmp(mode, mode_names[i]) == 0)
            m = i;
    if (m < 0)
        return vg_fail(err, VG_EINVAL, "%s: '%s' is not one of review, auto, reject", action,
                       mode);
    bool all = strcmp(action, "any") == 0 || strcmp(action, "*") == 0;
    int a = all ? -1 : vg_enum_parse(&COP_ACTIONS, action);
    if (!all && a < 0) {
        char list[256];
        vg_enum_list(&COP_ACTIONS, list, sizeof list);
        return vg_fail(err, VG_EINVAL, "'%s' is not an action (actions: %s, or any)", action,
                       list);
    }
    if (m == COP_AUTO && (all || !auto_allowed(a)))
        return vg_fail(err, VG_EINVAL, "%s: auto is allowed only for add_artifact, add_event and"
                                       " find_related", action);
    for (int i = 0; i < COP__NACTIONS; i++)
        if (all || i == a)
            p->mode[i] = m;
    return VG_OK;
}

int cop_policy_decide(const cop_policy *p, int action, bool flagged)
{
    if (action < 0 || action >= COP__NACTIONS)
        return COP_REJECT;
    int m = p->mode[action];
    /* Enforced here whatever the config says: auto only for the low-impact three,
     * and never on a turn whose data looked like instructions. */
    if (m == COP_AUTO && (flagged || !auto_allowed(action)))
        m = COP_REVIEW;
    return m;
}

/* s lower-cased with everything but letters and digits dropped: "2 0 3 . 0 . 113 . 66"
 * and "203.0.113.66" read alike. Fresh. */
static char *squeezed(const char *s)
{
    char *out = vg_xmalloc(strlen(s) + 1);
    size_t o = 0;
    for (; *s; s++)
        if (isalnum((unsigned char)*s) || (unsigned char)*s >= 0x80)
            out[o++] = (char)tolower((unsigned char)*s);
    out[o] = '\0';
    return out;
}

/* Does text hold value: as written (any case), as an indicator once refanged
 * ("203.0.113[.]66"), or, for a value of six letters and digits or more, with
 * them in a row? */
static bool holds(const char *text, const char *value)
{
    if (!text || !*value)
        return false;
    if (strcasestr(text, value))
        return true;
    bool found = false;
    vg_ioc_list l = {0};
    vg_ioc_extract(text, strlen(text), &l);
    for (size_t i = 0; i < l.n && !found; i++)
        found = strcasecmp(l.items[i].value, value) == 0;
    vg_ioc_list_free(&l);
    char *v = squeezed(value);
    if (!found && strlen(v) >= 6) {
        char *t = squeezed(text);
        found = strstr(t, v) != NULL;
        free(t);
    }
    free(v);
    return found;
}

/* value is the data's alone: say so in why. */
static bool data_only(const char *value, const char *data, const char *analyst, char *why,
                      size_t whysz)
{
    if (!holds(data, value) || holds(analyst, value))
        return false;
    snprintf(why, whysz, "held for you: %.200s comes from the fenced data, not in your words,"
                         " so auto does not apply it", value);
    return true;
}

bool cop_untrusted_value(int action, const cJSON *params, const char *data, const char *analyst,
                         char *why, size_t whysz)
{
    const char *v;
    switch (action) {
    case COP_ADD_ARTIFACT:
        v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(params, "value"));
        return v && data_only(v, data, analyst, why, whysz);
    case COP_ADD_EVENT: {
        v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(params, "summary"));
        if (!v)
            return false;
        if (data_only(v, data, analyst, why, whysz))
            return true;
        bool held = false;
        vg_ioc_list l = {0};
        vg_ioc_extract(v, strlen(v), &l);
        for (size_t i = 0; i < l.n && !held; i++)
            held = data_only(l.items[i].value, data, analyst, why, whysz);
        vg_ioc_list_free(&l);
        return held;
    }
    case COP_FIND_RELATED: /* read-only: it writes nothing to hold back */
        return false;
    default: /* never auto (cop_policy_decide); named for completeness */
        for (const cJSON *it = params ? params->child : NULL; it; it = it->next)
            if (cJSON_IsString(it) && data_only(it->valuestring, data, analyst, why, whysz))
                return true;
        return false;
    }
}

/* ---- schema ------------------------------------------------------------------------ */

cJSON *cop_answer_schema(void)
{
    cJSON *s = cJSON_Parse(
        "{\"type\":\"object\",\"additionalProperties\":false,"
        "\"required\":[\"answer\",\"proposals\"],"
        "\"properties\":{\"answer\":{\"type\":\"string\"},"
        "\"proposals\":{\"type\":\"array\",\"maxItems\":16,\"items\":{\"type\":\"object\","
        "\"additionalProperties\":false,\"required\":[\"type\",\"params\"],\"properties\":{"
        "\"type\":{\"type\":\"string\",\"enum\":[\"add_artifact\",\"add_note\",\"add_event\","
        "\"set_severity\",\"set_status\",\"assign\",\"apply_playbook\",\"complete_task\","
        "\"find_related\"]},\"params\":{\"type\":\"object\"}}}}}}");
    if (!s)
        abort(); /* a constant: only out of memory gets here */
    return s;
}

cJSON *cop_queue_answer_schema(void)
{
    cJSON *s = cop_answer_schema();
    cJSON *items = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(s, "properties"), "proposals"), "items");
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "type", "string");
    cJSON_AddItemToObject(cJSON_GetObjectItem(items, "properties"), "case", c);
    cJSON_AddItemToArray(cJSON_GetObjectItem(items, "required"), cJSON_CreateString("case"));
    return s;
}

/* Fail unless every key of o is in allowed (NULL-terminated). */
static vg_rc only_keys(const cJSON *o, const char *what, const char *const *allowed, vg_err *err)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, o) {
        bool ok = false;
        for (int i = 0; allowed[i]; i++)
            if (it->string && strcmp(it->string, allowed[i]) == 0)
                ok = true;
        if (!ok)
            return vg_fail(err, VG_EINVAL, "%s: unexpected field '%.40s'", what,
                           it->string ? it->string : "?");
    }
    return VG_OK;
}

/* A string param: required or not, capped, cleaned. *out is fresh or NULL. */
static vg_rc str_param(const cJSON *o, const char *what, const char *key, bool required, size_t cap,
                       char **out, vg_err *err)
{
    *out = NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v) {
        if (required)
            return vg_fail(err, VG_EINVAL, "%s: missing '%s'", what, key);
        return VG_OK;
    }
    if (!cJSON_IsString(v))
        return vg_fail(err, VG_EINVAL, "%s: '%s' must be a string", what, key);
    if (strlen(v->valuestring) > cap)
        return vg_fail(err, VG_EINVAL, "%s: '%s' is longer than %zu bytes", what, key, cap);
    char *s = cop_clean(v->valuestring, cap, false);
    if (!*s) {
        free(s);
        return required ? vg_fail(err, VG_EINVAL, "%s: '%s' is empty", what, key) : VG_OK;
    }
    *out = s;
    return VG_OK;
}

static vg_rc enum_param(const cJSON *o, const char *what, const char *key, const vg_enum *e,
                        bool required, int *out, vg_err *err)
{
    char *s;
    *out = -1;
    vg_rc rc = str_param(o, what, key, required, 64, &s, err);
    if (rc || !s)
        return rc;
    *out = vg_enum_parse(e, s);
    if (*out < 0) {
        char list[256];
        vg_enum_list(e, list, sizeof list);
        rc = vg_fail(err, VG_EINVAL, "%s: %s '%.40s' is not one of %s", what, key, s, list);
    }
    free(s);
    return rc;
}

/* "2026-11-03T14:02", with optional seconds, fraction and Z: UTC milliseconds. */
static bool parse_time(const char *s, int64_t *out)
{
    struct tm tm = {0};
    int sec = 0, used = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &used) != 5)
        return false;
    const char *p = s + used;
    if (*p == ':') {
        int k = 0;
        if (sscanf(p, ":%2d%n", &sec, &k) != 1)
            return false;
        p += k;
        if (*p == '.')
            for (p++; *p >= '0' && *p <= '9'; p++)
                ;
    }
    if (*p == 'Z')
        p++;
    if (*p || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
        tm.tm_hour > 23 || tm.tm_min > 59 || sec > 60)
        return false;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    tm.tm_sec = sec;
    *out = (int64_t)timegm(&tm) * 1000;
    return true;
}

vg_rc cop_params_check(int action, const cJSON *params, const char *note, cJSON **out,
                       vg_err *err)
{
    *out = NULL;
    const char *what = vg_enum_name(&COP_ACTIONS, action);
    if (!cJSON_IsObject(params))
        return vg_fail(err, VG_EINVAL, "%s: params must be an object", what);
    cJSON *p = cJSON_CreateObject();
    vg_rc rc = VG_OK;
    char *s = NULL, *s2 = NULL;
    int e1, e2;
    switch (action) {
    case COP_ADD_ARTIFACT: {
        static const char *const k[] = {"type", "value", "is_ioc", NULL};
        const cJSON *ioc = cJSON_GetObjectItemCaseSensitive(params, "is_ioc");
        if ((rc = only_keys(params, what, k, err)) ||
            (rc = enum_param(params, what, "type", &VG_ARTIFACT_TYPE, true, &e1, err)) ||
            (rc = str_param(params, what, "value", true, MAX_VALUE, &s, err)))
            break;
        if (ioc && !cJSON_IsBool(ioc)) {
            rc = vg_fail(err, VG_EINVAL, "%s: 'is_ioc' must be true or false", what);
            break;
        }
        cJSON_AddStringToObject(p, "type", vg_enum_name(&VG_ARTIFACT_TYPE, e1));
        cJSON_AddStringToObject(p, "value", s);
        cJSON_AddBoolToObject(p, "is_ioc", ioc ? cJSON_IsTrue(ioc) : true);
        break;
    }
    case COP_ADD_NOTE: {
        /* The model may say what it would write; it is never what gets written. */
        static const char *const k[] = {"text", NULL};
        if ((rc = only_keys(params, what, k, err)))
            break;
        if (!note || !*note) {
            rc = vg_fail(err, VG_EINVAL, "%s: the analyst's message holds no note text (notes are"
                                         " the analyst's words: \"add a note: ...\")", what);
            break;
        }
        if (cop_note_placeholder(note)) {
            rc = vg_fail(err, VG_EINVAL, "%s: '%.60s' is placeholder text, not a note", what,
                         note);
            break;
        }
        s = cop_clean(note, 1 << 16, true);
        cJSON_AddStringToObject(p, "text", s);
        break;
    }
    case COP_ADD_EVENT: {
        static const char *const k[] = {"summary", "occurred_at", NULL};
        if ((rc = only_keys(params, what, k, err)) ||
            (rc = str_param(params, what, "summary", true, MAX_SUMMARY, &s, err)))
            break;
        const cJSON *at = cJSON_GetObjectItemCaseSensitive(params, "occurred_at");
        int64_t ms = vg_now_ms();
        if (cJSON_IsNumber(at) && at->valuedouble >= 0 && at->valuedouble < 1e15) {
            ms = (int64_t)at->valuedouble;
        } else if (cJSON_IsString(at)) {
            /* the same range as a number: a time before 1970 reads back as no time */
            if (!parse_time(at->valuestring, &ms) || ms < 0 || ms >= 1e15) {
                rc = vg_fail(err, VG_EINVAL, "%s: occurred_at '%.40s' is not a time such as"
                                             " 2026-11-03T14:02:00Z", what, at->valuestring);
                break;
            }
        } else if (at) {
            rc = vg_fail(err, VG_EINVAL, "%s: occurred_at must be a time string", what);
            break;
        }
        cJSON_AddStringToObject(p, "summary", s);
        cJSON_AddNumberToObject(p, "occurred_at", (double)ms);
        break;
    }
    case COP_SET_SEVERITY: {
        static const char *const k[] = {"severity", NULL};
        if ((rc = only_keys(params, what, k, err)) ||
            (rc = enum_param(params, what, "severity", &VG_SEVERITY, true, &e1, err)))
            break;
        cJSON_AddStringToObject(p, "severity", vg_enum_name(&VG_SEVERITY, e1));
        break;
    }
    case COP_SET_STATUS: {
        static const char *const k[] = {"status", "resolution", NULL};
        if ((rc = only_keys(params, what, k, err)) ||
            (rc = enum_param(params, what, "status", &VG_STATUS, true, &e1, err)) ||
            (rc = enum_param(params, what, "resolution", &VG_RESOLUTION, false, &e2, err)))
            break;
        if (e1 == VG_ST_CLOSED && e2 < 0) {
            rc = vg_fail(err, VG_EINVAL, "%s: closing needs a resolution", what);
            break;
        }
        if (e1 != VG_ST_CLOSED && e2 >= 0) {
            rc = vg_fail(err, VG_EINVAL, "%s: a resolution goes only with status closed", what);
            break;
        }
        cJSON_AddStringToObject(p, "status", vg_enum_name(&VG_STATUS, e1));
        if (e2 >= 0)
            cJSON_AddStringToObject(p, "resolution", vg_enum_name(&VG_RESOLUTION, e2));
        break;
    }
    case COP_ASSIGN: {
        static const char *const k[] = {"assignee", NULL};
        if ((rc = only_keys(params, what, k, err)) ||
            (rc = str_param(params, what, "assignee", true, 64, &s, err)))
            break;
        cJSON_AddStringToObject(p, "assignee", s);
        break;
    }
    case COP_APPLY_PLAYBOOK: {
        static const char *const k[] = {"playbook", NULL};
        if ((rc = only_keys(params, what, k, err)) ||
            (rc = str_param(params, what, "playbook", true, 128, &s, err)))
            break;
        cJSON_AddStringToObject(p, "playbook", s);
        break;
    }
    case COP_COMPLETE_TASK: {
        static const char *const k[] = {"task", NULL};
        if ((rc = only_keys(params, what, k, err)))
            break;
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(params, "task");
        if (cJSON_IsNumber(t) && t->valuedouble >= 1 && t->valuedouble < 1e6) {
            char num[16];
            snprintf(num, sizeof num, "%d", (int)t->valuedouble);
            cJSON_AddStringToObject(p, "task", num);
        } else if ((rc = str_param(params, what, "task", true, 64, &s, err)) == VG_OK) {
            cJSON_AddStringToObject(p, "task", s);
        }
        break;
    }
    case COP_FIND_RELATED: {
        static const char *const k[] = {"value", NULL};
        if ((rc = only_keys(params, what, k, err)) ||
            (rc = str_param(params, what, "value", false, MAX_VALUE, &s2, err)))
            break;
        if (s2)
            cJSON_AddStringToObject(p, "value", s2);
        break;
    }
    default:
        rc = vg_fail(err, VG_EINVAL, "no action %d", action);
    }
    free(s);
    free(s2);
    if (rc) {
        cJSON_Delete(p);
        return rc;
    }
    *out = p;
    return VG_OK;
}

static const char *pget(const cJSON *p, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

char *cop_preview(int action, const cJSON *p, const vg_case *c)
{
    char out[1024];
    switch (action) {
    case COP_ADD_ARTIFACT:
        snprintf(out, sizeof out, "add artifact %s %.300s%s", pget(p, "type"), pget(p, "value"),
                 cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "is_ioc")) ? " (IOC)" : "");
        break;
    case COP_ADD_NOTE:
        snprintf(out, sizeof out, "add note (your words): \"%.400s\"", pget(p, "text"));
        break;
    case COP_ADD_EVENT: {
        char at[32];
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(p, "occurred_at");
        vg_iso8601(cJSON_IsNumber(t) ? (int64_t)t->valuedouble : 0, at, sizeof at);
        snprintf(out, sizeof out, "add timeline event at %s: %.400s", at, pget(p, "summary"));
        break;
    }
    case COP_SET_SEVERITY:
        snprintf(out, sizeof out, "severity %s → %s",
                 c ? vg_enum_name(&VG_SEVERITY, c->severity) : "?", pget(p, "severity"));
        break;
    case COP_SET_STATUS: {
        const char *res = pget(p, "resolution");
        snprintf(out, sizeof out, "status %s → %s%s%s%s",
                 c ? vg_enum_name(&VG_STATUS, c->status) : "?", pget(p, "status"),
                 *res ? " (resolution " : "", res, *res ? ")" : "");
        break;
    }
    case COP_ASSIGN:
        snprintf(out, sizeof out, "assignee %s → %.64s",
                 c && c->assignee && *c->assignee ? c->assignee : "(none)", pget(p, "assignee"));
        break;
    case COP_APPLY_PLAYBOOK:
        snprintf(out, sizeof out, "apply playbook '%.128s' (adds its tasks)", pget(p, "playbook"));
        break;
    case COP_COMPLETE_TASK:
        snprintf(out, sizeof out, "task %.64s → done", pget(p, "task"));
        break;
    case COP_FIND_RELATED: {
        const char *v = pget(p, "value");
        snprintf(out, sizeof out, "look for other cases sharing %.300s (read-only)",
                 *v ? v : "this case's artifacts");
        break;
    }
    default:
        snprintf(out, sizeof out, "?");
    }
    return vg_xstrdup(out);
}

/* ---- a model's reply -------------------------------------------------------------- */

static void reject(cop_answer *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reject(cop_answer *a, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    a->rejected = vg_xrealloc(a->rejected, (a->nrejected + 1) * sizeof *a->rejected);
    a->rejected[a->nrejected++] = vg_xstrdup(msg);
}

/* The reply without a markdown code fence around it (```json ... ```), which
 * models add even when asked not to. Points into s; *len is the inner length. */
static const char *unfence(const char *s, size_t *len)
{
    while (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == '\t'))
        n--;
    if (n >= 6 && strncmp(s, "```", 3) == 0 && strncmp(s + n - 3, "```", 3) == 0) {
        const char *nl = memchr(s, '\n', n);
        if (nl) {
            n -= (size_t)(nl + 1 - s) + 3;
            s = nl + 1;
        }
    }
    *len = n;
    return s;
}

/* The case a general proposal names: "#12", "12" or 12, which must be a case of
 * the fenced queue. */
static const cop_queue_case *named_case(const cJSON *v, const cop_context *queue, int i,
                                        cop_answer *out)
{
    if (!v) {
        reject(out, "proposal %d: 'case' is missing (in the general pane every proposal names"
                    " the case it acts on)", i);
        return NULL;
    }
    long long ref = -1;
    if (cJSON_IsNumber(v) && v->valuedouble >= 1 && v->valuedouble < 1e15) {
        ref = (long long)v->valuedouble;
    } else if (cJSON_IsString(v)) {
        const char *s = v->valuestring + (v->valuestring[0] == '#');
        char *end = NULL;
        long long r = *s >= '0' && *s <= '9' ? strtoll(s, &end, 10) : -1;
        if (end && !*end)
            ref = r;
    }
    const cop_queue_case *q = ref > 0 ? cop_queue_find(queue, ref) : NULL;
    if (!q) {
        char *shown = cJSON_IsString(v) ? cop_clean(v->valuestring, 40, false) : NULL;
        if (ref > 0)
            reject(out, "proposal %d: case #%lld is not in the queue the model was shown", i, ref);
        else
            reject(out, "proposal %d: case '%s' is not a case ref such as \"#12\"", i,
                   shown ? shown : "?");
        free(shown);
    }
    return q;
}

/* A preview that names the case it acts on: "#12 Phishing: ...: severity medium → high". */
static char *queue_preview(int action, const cJSON *params, const cop_queue_case *q)
{
    vg_case c = {0};
    c.severity = q->severity;
    c.status = q->status;
    c.assignee = (char *)q->assignee;
    char *p = cop_preview(action, params, &c);
    size_t n = strlen(p) + strlen(q->title) + 48;
    char *out = vg_xmalloc(n);
    snprintf(out, n, "#%lld %s: %s", (long long)q->ref, q->title, p);
    free(p);
    return out;
}

/* The parse of both panes: c for the case pane's previews, or queue for the
 * general pane's (each proposal then names a case of it). */
/* What a proposal would leave as it is (severity high -> high, the assignee it
 * has): why it changes nothing, else NULL. Such a proposal is not offered. */
static const char *no_change(int action, const cJSON *p, int severity, int status,
                             const char *assignee, char *why, size_t whysz)
{
    const char *v = NULL;
    if (action == COP_SET_SEVERITY && (v = pget(p, "severity")) &&
        vg_enum_parse(&VG_SEVERITY, v) == severity)
        snprintf(why, whysz, "the severity is %s already", v);
    else if (action == COP_SET_STATUS && (v = pget(p, "status")) &&
             vg_enum_parse(&VG_STATUS, v) == status && status != VG_ST_CLOSED)
        snprintf(why, whysz, "the status is %s already", v);
    else if (action == COP_ASSIGN && (v = pget(p, "assignee")) && *v && assignee &&
             strcmp(v, assignee) == 0)
        snprintf(why, whysz, "it is assigned to %.64s already", v);
    else
        return NULL;
    return why;
}

static void parse(const char *reply, const char *note, const vg_case *c, const cop_context *queue,
                  cop_answer *out)
{
    memset(out, 0, sizeof *out);
    size_t len;
    const char *body = unfence(reply ? reply : "", &len);
    cJSON *root = len && body[0] == '{' ? cJSON_ParseWithLength(body, len) : NULL;
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        out->text = vg_xstrdup(reply ? reply : "");
        return;
    }
    out->structured = true;
    const cJSON *answer = cJSON_GetObjectItemCaseSensitive(root, "answer");
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(root, "proposals");
    out->text = vg_xstrdup(cJSON_IsString(answer) ? answer->valuestring : "");
    if (!cJSON_IsString(answer))
        reject(out, "reply: 'answer' is missing or not a string");
    const cJSON *it;
    cJSON_ArrayForEach(it, root) {
        if (it->string && strcmp(it->string, "answer") && strcmp(it->string, "proposals"))
            reject(out, "reply: unexpected field '%.40s' ignored", it->string);
    }
    if (props && !cJSON_IsArray(props))
        reject(out, "reply: 'proposals' is not a list; none taken");
    int i = 0;
    const cJSON *list = cJSON_IsArray(props) ? props : NULL;
    cJSON_ArrayForEach(it, list) {
        i++;
        if (out->nprops == MAX_PROPOSALS) {
            reject(out, "proposal %d: more than %d proposals; the rest are dropped", i,
                   MAX_PROPOSALS);
            break;
        }
        static const char *const k[] = {"type", "params", NULL};
        static const char *const kq[] = {"type", "case", "params", NULL};
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(it, "type");
        const cJSON *params = cJSON_GetObjectItemCaseSensitive(it, "params");
        vg_err err = {0};
        if (!cJSON_IsObject(it)) {
            reject(out, "proposal %d: not an object", i);
            continue;
        }
        if (only_keys(it, "proposal", queue ? kq : k, &err)) {
            reject(out, "proposal %d: %s", i, err.msg);
            continue;
        }
        if (!cJSON_IsString(type)) {
            reject(out, "proposal %d: 'type' is missing or not a string", i);
            continue;
        }
        int action = -1;
        for (int a = 0; a < COP__NACTIONS; a++)
            if (strcmp(type->valuestring, action_names[a]) == 0)
                action = a;
        if (action < 0) {
            char *t = cop_clean(type->valuestring, 40, false);
            reject(out, "proposal %d: unknown type '%s'", i, t);
            free(t);
            continue;
        }
        const cop_queue_case *q = NULL;
        if (queue && !(q = named_case(cJSON_GetObjectItemCaseSensitive(it, "case"), queue, i,
                                      out)))
            continue;
        cJSON *norm = NULL;
        if (cop_params_check(action, params ? params : NULL, note, &norm, &err)) {
            reject(out, "proposal %d: %s", i, err.msg);
            continue;
        }
        char why[120];
        if ((q || c) && no_change(action, norm, q ? q->severity : c->severity,
                                  q ? q->status : c->status, q ? q->assignee : c->assignee, why,
                                  sizeof why)) {
            reject(out, "proposal %d: changes nothing (%s); not offered", i, why);
            cJSON_Delete(norm);
            continue;
        }
        out->props = vg_xrealloc(out->props, (out->nprops + 1) * sizeof *out->props);
        cop_proposal *p = &out->props[out->nprops++];
        memset(p, 0, sizeof *p);
        p->action = action;
        p->params = norm;
        if (q) {
            memcpy(p->case_id, q->id, sizeof p->case_id);
            p->case_ref = q->ref;
            p->preview = queue_preview(action, norm, q);
        } else {
            p->preview = cop_preview(action, norm, c);
        }
    }
    cJSON_Delete(root);
}

void cop_answer_parse(const char *reply, const char *note, const vg_case *c, cop_answer *out)
{
    parse(reply, note, c, NULL, out);
}

void cop_answer_parse_queue(const char *reply, const char *note, const cop_context *queue,
                            cop_answer *out)
{
    parse(reply, note, NULL, queue, out);
}

/* Append the UTF-8 of code point c to out at *o. */
static void put_utf8(char *out, size_t *o, unsigned c)
{
    if (c < 0x80) {
        out[(*o)++] = (char)c;
    } else if (c < 0x800) {
        out[(*o)++] = (char)(0xc0 | c >> 6);
        out[(*o)++] = (char)(0x80 | (c & 0x3f));
    } else if (c < 0x10000) {
        out[(*o)++] = (char)(0xe0 | c >> 12);
        out[(*o)++] = (char)(0x80 | ((c >> 6) & 0x3f));
        out[(*o)++] = (char)(0x80 | (c & 0x3f));
    } else {
        out[(*o)++] = (char)(0xf0 | c >> 18);
        out[(*o)++] = (char)(0x80 | ((c >> 12) & 0x3f));
        out[(*o)++] = (char)(0x80 | ((c >> 6) & 0x3f));
        out[(*o)++] = (char)(0x80 | (c & 0x3f));
    }
}

static bool hex4(const char *p, unsigned *out)
{
    *out = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (v < 0)
            return false;
        *out = *out << 4 | (unsigned)v;
    }
    return true;
}

char *cop_answer_partial(const char *raw)
{
    size_t len;
    const char *s = unfence(raw ? raw : "", &len);
    if (len >= 3 && strncmp(s, "```", 3) == 0) { /* an opening fence whose close has not come */
        const char *nl = memchr(s, '\n', len);
        if (!nl)
            return vg_xstrdup("");
        len -= (size_t)(nl + 1 - s);
        s = nl + 1;
    }
    if (!len || s[0] != '{')
        return vg_xstrndup(s, len);
    const char *end = s + len, *k = strstr(s, "\"answer\"");
    if (!k || k >= end)
        return vg_xstrdup("");
    const char *p = k + 8;
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t' || *p == ':'))
        p++;
    if (p >= end || *p != '"')
        return vg_xstrdup("");
    p++;
    char *out = vg_xmalloc((size_t)(end - p) + 4);
    size_t o = 0;
    while (p < end && *p != '"') {
        if (*p != '\\') {
            out[o++] = *p++;
            continue;
        }
        if (p + 1 >= end)
            break;
        char e = p[1];
        unsigned c;
        if (e == 'u') {
            if (end - p < 6 || !hex4(p + 2, &c))
                break;
            p += 6;
            if (c >= 0xd800 && c < 0xdc00) { /* a surrogate pair needs its second half */
                unsigned lo;
                if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || !hex4(p + 2, &lo)) {
                    p -= 6;
                    break;
                }
                c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
                p += 6;
            }
            put_utf8(out, &o, c);
            continue;
        }
        static const char from[] = "nrtbf\"\\/", to[] = "\n\r\t\b\f\"\\/";
        const char *at = strchr(from, e);
        out[o++] = at ? to[at - from] : e;
        p += 2;
    }
    /* Never end inside a character: the rest comes with the next piece. */
    size_t cut = o;
    while (cut > 0 && ((unsigned char)out[cut - 1] & 0xc0) == 0x80)
        cut--;
    if (cut > 0 && ((unsigned char)out[cut - 1] & 0x80)) {
        unsigned char lead = (unsigned char)out[cut - 1];
        size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
        if (o - (cut - 1) >= need)
            cut = o;
        else
            cut--;
    } else {
        cut = o;
    }
    out[cut] = '\0';
    return out;
}

void cop_answer_clear(cop_answer *a)
{
    if (!a)
        return;
    free(a->text);
    for (size_t i = 0; i < a->nprops; i++) {
        cJSON_Delete(a->props[i].params);
        free(a->props[i].preview);
    }
    free(a->props);
    for (size_t i = 0; i < a->nrejected; i++)
        free(a->rejected[i]);
    free(a->rejected);
    memset(a, 0, sizeof *a);
}
