/*
 * export.h — a case handed out in the formats its peers read: a STIX 2.1 bundle,
 * a MISP event, a Timesketch timeline (JSON lines or CSV), and an incident report
 * in markdown or HTML; and the CSV writer that `vigil cases --csv` shares.
 *
 * The formats layer sits between the core and the frontends: it reads a case
 * through the core's query API and writes text into a capped vg_buf; it never
 * writes to a workspace, and the core knows nothing of it. Every document is a
 * pure function of the case (and the ATT&CK table), so exporting the same case
 * twice gives the same bytes: ids are name-based UUIDs (RFC 9562 version 5) of the
 * vigil ids, and times are the case's own, never the clock's.
 */
#ifndef VIGIL_EXPORT_H
#define VIGIL_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/attack.h"
#include "vigil/buf.h"
#include "vigil/err.h"
#include "vigil/model.h"
#include "vigil/ws.h"

/* A case and everything under it, as one export reads it. */
typedef struct export_case {
    vg_case c;
    vg_event *events;  /* by occurred time */
    size_t nevents;
    vg_artifact *arts;
    size_t narts;
    vg_task *tasks;    /* by phase, then order */
    size_t ntasks;
    vg_note *notes;
    size_t nnotes;
    vg_alert *alerts;
    size_t nalerts;
    const vg_attack *attack; /* may be NULL: techniques then go by id alone */
    /* the workspace's custom fields and the case's values of them (vigil/fields.h) */
    struct vg_field_def *fdefs;
    size_t nfdefs;
    struct vg_field_value *fields;
    size_t nfields;
    struct vg_evidence *evidence; /* the evidence register, oldest first (the reports) */
    size_t nevidence;
} export_case;
/* The definition of the case's value v (NULL when none). */
const struct vg_field_def *export_field_def(const export_case *x, const char *name);

/* Read case_id (an id, not a reference) and its children. attack may be NULL.
 * On success the caller clears *out with export_case_clear. */
VG_WUR vg_rc export_load(vg_ws *ws, const char *case_id, const vg_attack *attack,
                         export_case *out, vg_err *err);
void export_case_clear(export_case *x);

typedef enum {
    EXPORT_STIX,
    EXPORT_MISP,
    EXPORT_TIMESKETCH,     /* JSON lines */
    EXPORT_TIMESKETCH_CSV, /* the same columns as CSV */
    EXPORT_MARKDOWN,
    EXPORT_HTML,
    EXPORT__N
} export_format;
/* "stix", "misp", "timesketch", "timesketch-csv", "markdown", "html". */
extern const char *const EXPORT_FORMAT_NAMES[EXPORT__N];
/* The format named name, or -1. */
int export_format_parse(const char *name);

/* Write the case in format f, appended to out. Fails only when out's cap is
 * reached (VG_EINVAL, "too large"). */
VG_WUR vg_rc export_write(const export_case *x, export_format f, vg_buf *out, vg_err *err);

/* One format each (export_*.c); the same contract as export_write. */
VG_WUR vg_rc export_stix(const export_case *x, vg_buf *out);
VG_WUR vg_rc export_misp(const export_case *x, vg_buf *out);
VG_WUR vg_rc export_timesketch(const export_case *x, bool csv, vg_buf *out);
VG_WUR vg_rc export_report(const export_case *x, bool html, vg_buf *out);

/* ---- shared by the writers ---- */

/* One CSV field (RFC 4180: quoted when it holds a comma, quote, CR or LF; quotes
 * doubled). A value that a spreadsheet would take for a formula (it starts with
 * '=', '+', '-', '@', a tab or a CR) gets a leading ' first. NULL is empty. */
VG_WUR vg_rc export_csv_field(vg_buf *b, const char *s);
/* Fields joined by commas and ended by CRLF. */
VG_WUR vg_rc export_csv_row(vg_buf *b, const char *const *fields, size_t n);

/* o[key] = s as a JSON string, invalid UTF-8 repaired (NULL is ""). */
struct cJSON;
void export_json_str(struct cJSON *o, const char *key, const char *s);
/* An ISO 8601 UTC time with milliseconds into o[key] (ms 0 = the epoch). */
void export_json_time(struct cJSON *o, const char *key, int64_t ms);
/* Print root (formatted, freed) into out with a final newline. */
VG_WUR vg_rc export_json_take(struct cJSON *root, bool pretty, vg_buf *out);

/* s with & < > " ' replaced by entities (invalid UTF-8 repaired first). */
VG_WUR vg_rc export_html(vg_buf *b, const char *s);

/* "type--uuid": a version 5 UUID of name in vigil's namespace. out: 80 bytes. */
void export_stix_id(const char *type, const char *name, char *out, size_t outsz);
/* The RFC 9562 version 5 UUID of name (len bytes) in namespace ns (16 bytes). */
void export_uuid5(const unsigned char ns[16], const void *name, size_t len, char out[37]);

/* The tactic index an event belongs to: its tactic field (an id, short name or
 * name), else its technique's first tactic; -1 when neither says. */
int export_event_tactic(const export_case *x, const vg_event *e);

/* The case's techniques (its JSON array) as strings, upper-cased, valid ids only;
 * returns the count, fills up to max. ids point into buf (bufsz bytes). */
size_t export_case_techniques(const export_case *x, char (*ids)[16], size_t max);

#endif
