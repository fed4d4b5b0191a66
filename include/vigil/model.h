/*
 * model.h — the entities of a workspace (DESIGN.md "Data model") and their
 * closed vocabularies.
 *
 * Every enumerated field has one table of names here; parsing, validation messages
 * ("one of info, low, ...") and output all read the same table, so adding a value
 * is one edit. Enumerations are stored as their names in SQLite, except severity,
 * which is stored as its rank 0..4 so that "most severe first" is an index scan.
 */
#ifndef VIGIL_MODEL_H
#define VIGIL_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/id.h"

typedef struct vg_enum {
    const char *field;        /* "severity" */
    const char *const *names; /* in rank order */
    int n;
} vg_enum;

extern const vg_enum VG_SEVERITY, VG_STATUS, VG_RESOLUTION, VG_TLP, VG_PAP,
    VG_ARTIFACT_TYPE, VG_ARTIFACT_SOURCE, VG_PHASE, VG_TASK_STATUS, VG_EVENT_KIND,
    VG_ALERT_STATUS;

enum { VG_SEV_INFO, VG_SEV_LOW, VG_SEV_MEDIUM, VG_SEV_HIGH, VG_SEV_CRITICAL };
enum { VG_ST_NEW, VG_ST_IN_PROGRESS, VG_ST_ON_HOLD, VG_ST_CONTAINED, VG_ST_CLOSED };
/* VG_ALERT_STATUS indexes: in the inbox, on a case, dismissed */
enum { VG_AS_NEW, VG_AS_LINKED, VG_AS_DISMISSED };
/* VG_ARTIFACT_TYPE indexes, for code that branches on a type (model.c's order) */
enum { VG_AT_IP, VG_AT_DOMAIN, VG_AT_URL, VG_AT_EMAIL, VG_AT_MD5, VG_AT_SHA1, VG_AT_SHA256,
       VG_AT_SHA512, VG_AT_FILENAME, VG_AT_HOSTNAME, VG_AT_USER, VG_AT_REGISTRY, VG_AT_MUTEX,
       VG_AT_USER_AGENT, VG_AT_CVE, VG_AT_ASN, VG_AT_OTHER, VG_AT_COMMAND_LINE };

/* Index of name in e (case-insensitive; '-' accepted for '_'), or -1. */
int vg_enum_parse(const vg_enum *e, const char *name);
/* The name at index i, or "?" when out of range. */
const char *vg_enum_name(const vg_enum *e, int i);
/* "info, low, medium, high, critical" into out. */
void vg_enum_list(const vg_enum *e, char *out, size_t outsz);

/* A case as listed and shown. Strings are owned by the struct (vg_case_clear). */
typedef struct vg_case {
    vg_id id;
    int64_t ref;
    char *title, *description;
    int severity;       /* VG_SEVERITY index */
    int status;         /* VG_STATUS index */
    int resolution;     /* VG_RESOLUTION index, -1 when not closed */
    int tlp, pap;
    char *assignee;     /* "" when unassigned */
    char *tags;         /* JSON array text */
    char *techniques;   /* JSON array text */
    char *created_by;
    int64_t created_at, updated_at;
    int64_t acknowledged_at, closed_at; /* 0 when not set */
    int64_t alert_count;                /* filled by listings */
    /* vg_case_get: the case this one was merged into (op.h: case.merge), where its
     * rows are now, and its ref; "" and 0 when it is not merged */
    vg_id merged_into;
    int64_t merged_into_ref;
} vg_case;

typedef struct vg_alert {
    vg_id id;
    char *source, *source_ref, *rule, *title;
    int severity, status;
    int64_t event_time, first_seen, last_seen, count;
    vg_id case_id; /* "" when in the inbox */
    char *entities, *techniques, *raw; /* JSON text */
    char *dismissed_reason;            /* why it was dismissed ("" for none) */
} vg_alert;

typedef struct vg_artifact {
    vg_id id, case_id;
    int type;
    char *value;
    bool is_ioc;
    int tlp;
    int source;
    int64_t first_seen, last_seen, sightings;
    int64_t other_cases; /* how many other cases carry the same value (bridges) */
    char *other_refs;    /* the refs of the first 20 made, "12,40" (lowest first), "" when none */
} vg_artifact;

typedef struct vg_task {
    vg_id id, case_id;
    int phase, status;
    char *title, *description, *assignee, *playbook_id;
    int64_t ord, created_at, done_at;
    bool mandatory; /* from a playbook: counts in "mandatory left" until done */
} vg_task;

typedef struct vg_note {
    vg_id id, case_id;
    char *author, *body;
    int64_t created_at;
} vg_note;

typedef struct vg_event {
    vg_id id, case_id;
    int64_t occurred_at, recorded_at;
    int kind;
    char *summary, *source, *actor, *technique, *tactic;
    bool starred;
} vg_event;

/* "#12, #40" from an artifact's other_refs ("12,40"), ", ..." added when more is
 * true; "" when there are none. */
void vg_refs_format(const char *refs, bool more, char *out, size_t outsz);

void vg_case_clear(vg_case *c);
void vg_alert_clear(vg_alert *a);
void vg_artifact_clear(vg_artifact *a);
void vg_task_clear(vg_task *t);
void vg_note_clear(vg_note *n);
void vg_event_clear(vg_event *e);

#endif
