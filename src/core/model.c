/*
 * model.c — the closed vocabularies of the data model and the destructors of the
 * entity structs. One table per vocabulary; parsing and messages read it.
 */
#include "vigil/model.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ENUM(var, fieldname, ...)                                                   \
    static const char *const var##_names[] = {__VA_ARGS__};                         \
    const vg_enum var = {fieldname, var##_names,                                    \
                         (int)(sizeof var##_names / sizeof var##_names[0])}

ENUM(VG_SEVERITY, "severity", "info", "low", "medium", "high", "critical");
ENUM(VG_STATUS, "status", "new", "in_progress", "on_hold", "contained", "closed");
ENUM(VG_RESOLUTION, "resolution", "true_positive", "false_positive", "benign", "duplicate",
     "indeterminate");
ENUM(VG_TLP, "tlp", "CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED");
ENUM(VG_PAP, "pap", "CLEAR", "GREEN", "AMBER", "RED");
ENUM(VG_ARTIFACT_TYPE, "type", "ip", "domain", "url", "email", "md5", "sha1", "sha256", "sha512",
     "filename", "hostname", "user", "registry", "mutex", "user-agent", "cve", "asn", "other",
     "command-line");
ENUM(VG_ARTIFACT_SOURCE, "source", "manual", "copilot", "alert", "import");
ENUM(VG_PHASE, "phase", "identification", "containment", "eradication", "recovery",
     "lessons_learned");
ENUM(VG_TASK_STATUS, "status", "todo", "in_progress", "done", "skipped");
ENUM(VG_EVENT_KIND, "kind", "alert", "note", "status", "artifact", "task", "copilot", "manual");
ENUM(VG_ALERT_STATUS, "status", "new", "linked", "dismissed");

/* Names compare case-insensitively, and '-' matches '_' (in_progress, in-progress);
 * a name that itself holds '-' (user-agent) still matches exactly. */
static bool name_eq(const char *want, const char *got)
{
    for (; *want && *got; want++, got++) {
        unsigned char a = (unsigned char)*want, b = (unsigned char)*got;
        if (a == '_' && b == '-')
            continue;
        if (tolower(a) != tolower(b))
            return false;
    }
    return *want == *got;
}

int vg_enum_parse(const vg_enum *e, const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < e->n; i++)
        if (name_eq(e->names[i], name))
            return i;
    return -1;
}

const char *vg_enum_name(const vg_enum *e, int i)
{
    return i >= 0 && i < e->n ? e->names[i] : "?";
}

void vg_enum_list(const vg_enum *e, char *out, size_t outsz)
{
    size_t len = 0;
    if (outsz)
        out[0] = '\0';
    for (int i = 0; i < e->n && len < outsz; i++) {
        int w = snprintf(out + len, outsz - len, "%s%s", i ? ", " : "", e->names[i]);
        if (w < 0)
            break;
        len += (size_t)w;
    }
}

void vg_refs_format(const char *refs, bool more, char *out, size_t outsz)
{
    size_t len = 0;
    if (outsz)
        out[0] = '\0';
    for (const char *p = refs; p && *p && len + 8 < outsz;) {
        size_t n = strcspn(p, ",");
        len += (size_t)snprintf(out + len, outsz - len, "%s#%.*s", len ? ", " : "", (int)n, p);
        p += n + (p[n] == ',');
    }
    if (more && len && len + 6 < outsz)
        snprintf(out + len, outsz - len, ", ...");
}

void vg_case_clear(vg_case *c)
{
    if (!c)
        return;
    free(c->title);
    free(c->description);
    free(c->assignee);
    free(c->tags);
    free(c->techniques);
    free(c->created_by);
    memset(c, 0, sizeof *c);
}

void vg_alert_clear(vg_alert *a)
{
    if (!a)
        return;
    free(a->source);
    free(a->dismissed_reason);
    free(a->source_ref);
    free(a->rule);
    free(a->title);
    free(a->entities);
    free(a->techniques);
    free(a->raw);
    memset(a, 0, sizeof *a);
}

void vg_artifact_clear(vg_artifact *a)
{
    if (!a)
        return;
    free(a->value);
    free(a->other_refs);
    memset(a, 0, sizeof *a);
}

void vg_task_clear(vg_task *t)
{
    if (!t)
        return;
    free(t->title);
    free(t->description);
    free(t->assignee);
    free(t->playbook_id);
    memset(t, 0, sizeof *t);
}

void vg_note_clear(vg_note *n)
{
    if (!n)
        return;
    free(n->author);
    free(n->body);
    memset(n, 0, sizeof *n);
}

void vg_event_clear(vg_event *e)
{
    if (!e)
        return;
    free(e->summary);
    free(e->source);
    free(e->actor);
    free(e->technique);
    free(e->tactic);
    memset(e, 0, sizeof *e);
}
