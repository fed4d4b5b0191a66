/*
 * query.h — reading a workspace.
 *
 * Listings are windowed: a filter, a limit and a keyset cursor (the sort key of the
 * last row seen), so the cost of a page does not depend on how many rows precede
 * it and a million cases cost what one screen costs. Results are arrays of the
 * structs in model.h, owned by the caller (the matching _free functions).
 */
#ifndef VIGIL_QUERY_H
#define VIGIL_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/err.h"
#include "vigil/model.h"
#include "vigil/ws.h"

/* Orders of the queue. The default: most severe first, then newest, then id. The
 * keyed orders sort by one column first (status in workflow order, title A-Z,
 * assignee A-Z with the unassigned first, most alerts first, SLA due soonest first
 * with closed cases and severities without a target last), then as the default. */
typedef enum {
    VG_SORT_SEVERITY, VG_SORT_NEWEST, VG_SORT_OLDEST, VG_SORT_REF,
    VG_SORT_STATUS, VG_SORT_TITLE, VG_SORT_ASSIGNEE, VG_SORT_ALERTS, VG_SORT_SLA, VG_SORT__N
} vg_case_sort;
/* "severity", "newest", "oldest", "ref", "status", "title", "assignee", "alerts", "sla" */
extern const char *const VG_SORT_NAMES[VG_SORT__N];
/* The filter term that finds a value of an artifact type ("host" for hostname,
 * "file" for filename), or NULL for a type the filters have no term for. */
const char *vg_case_value_field(const char *artifact_type);
/* An order by its name, or -NAME for the same reversed (*reverse; a caller that
 * passes NULL takes no -NAME); the error lists the names. */
VG_WUR vg_rc vg_sort_parse(const char *s, vg_case_sort *sort, bool *reverse, vg_err *err);

/* A cursor is the sort key of the last row of the previous page (in the filter's
 * order; a cursor from one order means nothing in another). */
typedef struct vg_case_cursor {
    int severity;
    int64_t created_at;
    int64_t ref;
    vg_id id;
    int64_t ikey;   /* keyed orders: status rank, alert count or SLA due */
    char skey[256]; /* keyed orders: title or assignee */
} vg_case_cursor;

#define VG_QUERY_MAX_FIELDS 4 /* field.NAME terms in one query */

typedef struct vg_case_filter {
    unsigned status_mask;   /* bit i = VG_STATUS index i; 0 = any */
    unsigned severity_mask; /* bit i = VG_SEVERITY index i; 0 = any */
    const char *assignee;   /* exact; "" = unassigned; NULL = any */
    bool not_assignee;      /* every case but those */
    const char *tag;        /* NULL = any */
    bool not_tag;
    const char *text;       /* full-text words over title and description; NULL = any */
    /* cases that hold a value (an artifact, or a linked alert's entity): an artifact
     * type name and a normalised value; NULL = any */
    const char *value_type, *value;
    bool not_value;
    /* custom field terms (field.NAME:V, field.NAME>=V, ...), all of which must hold:
     * name, value as typed (op ":" "=" ">" ">=" "<" "<="), negated */
    struct vg_field_term {
        const char *name, *value;
        char op[3];
        bool neg;
    } fields[VG_QUERY_MAX_FIELDS];
    int nfields;
    int limit;              /* 1..10000 */
    const vg_case_cursor *after; /* NULL = first page */
    bool backward; /* the rows before `after` (or the last page), still in queue order */
    vg_case_sort sort;
    bool reverse;           /* the order reversed (title Z-A, least severe first, ...) */
    int overdue;            /* sla:overdue 1: open past its target; !sla:overdue -1: not */
    int64_t sla_ms[5];      /* VG_SORT_SLA: the target per severity (0: none) */
} vg_case_filter;

#define VG_STATUS_OPEN_MASK 0x0fu /* every status but closed */

typedef struct vg_case_list {
    vg_case *items;
    size_t n;
    bool more; /* another page follows */
} vg_case_list;

VG_WUR vg_rc vg_cases_list(vg_ws *ws, const vg_case_filter *f, vg_case_list *out, vg_err *err);
void vg_case_list_free(vg_case_list *l);
/* A filter written the way analysts type it, the one language of the queue's `/`,
 * `vigil cases --query` and `vigil search`:
 *   status:open  status:new,on_hold  sev:high  sev>=high  sev<medium  assignee:me
 *   assignee:none  tag:phish  free words (all must match)  "a quoted phrase"
 *   ip:10.0.0.5  domain:  host:  user:  url:  email:  md5:  sha1:  sha256:  sha512:
 *   hash: (any of the four)  cve:  file:   (a case holding that value)
 *   field.NAME:V (a custom field: text equal ignoring case, a date by its day, a
 *   bool as true/false/yes/no)  field.NAME>=N field.NAME<N ... (a number field
 *   against a number, a date field against a date), at most VG_QUERY_MAX_FIELDS
 * and `!` before a field term negates it (!status:closed, !tag:fp, !assignee:me).
 * Search adds what only makes sense for mixed results:
 *   type:case|alert|note|artifact|event (several with commas)  after:2026-11-01
 *   before:2026-11-15 (dates or times, UTC)  case:#12
 *   intel:hit (artifacts and alerts holding a value an unexpired intel indicator
 *   names, and the cases holding such artifacts)  intel:FEED (known to that feed)
 * `me` is the analyst. The query owns the strings its filter points to. */
typedef struct vg_case_query {
    vg_case_filter f;
    char *assignee, *tag, *text, *value_type, *value;
    char *field_names[VG_QUERY_MAX_FIELDS], *field_values[VG_QUERY_MAX_FIELDS];
    /* search only */
    unsigned kinds;             /* 1 << VG_HIT_* ; 0 = every kind */
    int64_t after_ms, before_ms; /* 0 = open */
    char *case_ref;
    char *intel; /* intel:hit ("") or intel:FEED (the feed's name); NULL: no intel term */
} vg_case_query;
VG_WUR vg_rc vg_case_query_parse(const char *q, const char *me, vg_case_query *out, vg_err *err);
VG_WUR vg_rc vg_search_query_parse(const char *q, const char *me, vg_case_query *out,
                                   vg_err *err);
void vg_case_query_clear(vg_case_query *q);

/* The cursor after case c in f's order. */
void vg_case_cursor_of(const vg_case *c, const vg_case_filter *f, vg_case_cursor *out);
/* Encode/decode a cursor as text ("3.1730000000000.12.01J...", and for a keyed
 * order ".i42" or ".s" and the key in hex) for the CLI. */
void vg_case_cursor_format(const vg_case *last, const vg_case_filter *f, char *out, size_t outsz);
VG_WUR vg_rc vg_case_cursor_parse(const char *s, vg_case_cursor *out, vg_err *err);

/* Resolve what an analyst typed ("#142", "142", or a unique id prefix) to a case id.
 * Unknown is VG_ENOTFOUND, more than one match VG_EAMBIGUOUS, each with a message
 * that names the candidates. */
VG_WUR vg_rc vg_case_resolve(vg_ws *ws, const char *ref, vg_id out, vg_err *err);
VG_WUR vg_rc vg_case_get(vg_ws *ws, const char *id, vg_case *out, vg_err *err);
/* A merged case (op.h: case.merge): the case its rows are on now and that case's
 * ref, into out and *ref; "" and 0 when id is not merged (or not a case). */
VG_WUR vg_rc vg_case_follow(vg_ws *ws, const char *id, vg_id out, int64_t *ref, vg_err *err);
/* The refs of the cases merged into id, in order (*refs, the caller frees; NULL and 0
 * when none). */
VG_WUR vg_rc vg_case_merged_refs(vg_ws *ws, const char *id, int64_t **refs, size_t *n,
                                 vg_err *err);

/* The children of a case. Each fills *items (caller frees with the _free below). */
VG_WUR vg_rc vg_alerts_of_case(vg_ws *ws, const char *case_id, int limit, vg_alert **items,
                               size_t *n, vg_err *err);
/* The same without their raw events (raw ""): a list of many alerts reads no op. */
VG_WUR vg_rc vg_alerts_of_case_brief(vg_ws *ws, const char *case_id, int limit, vg_alert **items,
                                     size_t *n, vg_err *err);
VG_WUR vg_rc vg_artifacts_of_case(vg_ws *ws, const char *case_id, vg_artifact **items,
                                  size_t *n, vg_err *err);
/* The limit artifacts of a case an assistant should see first: hosts and users
 * (where and who: what "which cases involve ws-12?" asks about), then indicators,
 * then the most sighted and most recently seen; *total is how many it holds. Their
 * bridges are not looked up (other_cases -1, other_refs ""): for a value that many
 * cases share they cost more than the rest of the queue's context together. */
VG_WUR vg_rc vg_artifacts_top(vg_ws *ws, const char *case_id, int limit, vg_artifact **items,
                              size_t *n, int64_t *total, vg_err *err);
VG_WUR vg_rc vg_tasks_of_case(vg_ws *ws, const char *case_id, vg_task **items, size_t *n,
                              vg_err *err);
VG_WUR vg_rc vg_notes_of_case(vg_ws *ws, const char *case_id, vg_note **items, size_t *n,
                              vg_err *err);

typedef enum { VG_BY_OCCURRED, VG_BY_RECORDED } vg_timeline_order;
/* Events of a case in the given order, oldest first, at most limit (0 = all). */
VG_WUR vg_rc vg_timeline(vg_ws *ws, const char *case_id, vg_timeline_order order, int limit,
                         vg_event **items, size_t *n, vg_err *err);

/* The timeline rows an assistant should see first (the copilot's context): high
 * and critical alerts, most severe first, then every row newest first; at most
 * limit (0 = all). *total is how many rows the timeline holds. */
VG_WUR vg_rc vg_timeline_recent(vg_ws *ws, const char *case_id, int limit, vg_event **items,
                                size_t *n, int64_t *total, vg_err *err);

void vg_alerts_free(vg_alert *a, size_t n);
void vg_artifacts_free(vg_artifact *a, size_t n);
void vg_tasks_free(vg_task *t, size_t n);
void vg_notes_free(vg_note *t, size_t n);
void vg_events_free(vg_event *e, size_t n);

/* Resolve a task within a case by id prefix or by its number in the case's task
 * list (1-based, in phase then order), and an artifact by id prefix or value. */
VG_WUR vg_rc vg_task_resolve(vg_ws *ws, const char *case_id, const char *what, vg_task *out,
                             vg_err *err);
VG_WUR vg_rc vg_artifact_resolve(vg_ws *ws, const char *case_id, const char *what,
                                 vg_artifact *out, vg_err *err);

/* The alert inbox: alerts on no case and not dismissed, newest first, a page at a
 * time by a keyset on (event_time, id). *more says another page follows in the
 * direction asked; backward pages come back in inbox order too. */
typedef struct vg_alert_cursor {
    int64_t event_time;
    vg_id id;
} vg_alert_cursor;
VG_WUR vg_rc vg_inbox_list(vg_ws *ws, int limit, const vg_alert_cursor *after, bool backward,
                           vg_alert **items, size_t *n, bool *more, vg_err *err);
/* The same for the alerts of any status (a VG_ALERT_STATUS index: dismissed ones
 * to bring back, say); vg_inbox_list is status new. */
VG_WUR vg_rc vg_alerts_list(vg_ws *ws, int status, int limit, const vg_alert_cursor *after,
                            bool backward, vg_alert **items, size_t *n, bool *more, vg_err *err);
/* The keysets of at most limit alerts of a status, in the same order after after
 * (NULL: from the start), whose title, rule, source or entities hold text (ASCII
 * letters matched in either case): the inbox's / search and its mark-all-matching.
 * *out is a new array the caller frees. */
#define VG_ALERTS_FIND_MAX 100000
VG_WUR vg_rc vg_alerts_find(vg_ws *ws, int status, const char *text, const vg_alert_cursor *after,
                            bool backward, int limit, vg_alert_cursor **out, size_t *n,
                            vg_err *err);
VG_WUR vg_rc vg_alert_get(vg_ws *ws, const char *id, vg_alert *out, vg_err *err);
/* The alert whose id is or starts with prefix (4 characters or more, any case). */
VG_WUR vg_rc vg_alert_resolve(vg_ws *ws, const char *prefix, vg_id out, vg_err *err);

/* Search across cases, notes, alerts, artifacts and the timeline events analysts
 * write (manual and copilot events), in the query language above: best match
 * first when there are words, newest first otherwise. */
enum { VG_HIT_CASE = 1, VG_HIT_NOTE, VG_HIT_ALERT, VG_HIT_ARTIFACT, VG_HIT_EVENT };
typedef struct vg_hit {
    char kind[12];  /* case, note, alert, artifact, event */
    int64_t t;      /* when: created, event time, last seen, occurred */
    vg_id id;
    vg_id case_id;  /* "" for an alert in the inbox */
    int64_t case_ref;
    char *snippet;  /* matched text with [brackets] around the terms */
    double rank;
    int64_t rowid;  /* in the search index */
} vg_hit;

VG_WUR vg_rc vg_search(vg_ws *ws, const char *query, int limit, vg_hit **items, size_t *n,
                       vg_err *err);
void vg_hits_free(vg_hit *h, size_t n);

/* Counts for headers and summaries. */
typedef struct vg_counts {
    int64_t cases, open, new_, critical_open, alerts, inbox, ops;
} vg_counts;
VG_WUR vg_rc vg_counts_get(vg_ws *ws, vg_counts *out, vg_err *err);
/* Only the case counts (cases, open, new_, critical_open), from the queue index
 * alone: cheap enough for a header. */
VG_WUR vg_rc vg_case_counts(vg_ws *ws, vg_counts *out, vg_err *err);

#endif
