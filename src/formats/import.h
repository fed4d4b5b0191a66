/*
 * import.h — alerts in: vendor JSON (JSON lines, one JSON array, pretty objects one
 * after another; Elasticsearch search responses and hits; gzip or zstd; see
 * import.c and import_src.h) into alert.add ops through the one door (which
 * gathers them into alert.import ops of a few hundred alerts each: op.h), with
 * deduplication, redaction and correlation.
 *
 * A file is read in pieces (never whole), a record at a time, on a thread of its
 * own; each record's format is detected on its own (or forced), mapped onto
 * vigil's alert (import_map.c), its raw event kept with secrets redacted. The
 * caller's thread stores the records, in order, in batches of IMP_BATCH;
 * correlation runs on each batch before it commits. A bad record is
 * reported with file:line and skipped, and writes nothing; with strict, the first
 * bad record rolls everything back.
 */
#ifndef VIGIL_IMPORT_H
#define VIGIL_IMPORT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "vigil/correlate.h"
#include "vigil/err.h"
#include "vigil/ws.h"

typedef enum imp_format {
    IMP_AUTO, IMP_NATIVE, IMP_ECS, IMP_WAZUH, IMP_SURICATA, IMP_OCSF, IMP_NFORMATS
} imp_format;

extern const char *const imp_format_names[IMP_NFORMATS]; /* "auto", "native", ... */

#define IMP_MAX_RECORD (4u << 20) /* bytes in one record */
#define IMP_MAX_DEPTH 64          /* nesting of arrays and objects in one record */
#define IMP_BATCH 20000           /* records per transaction */

typedef struct imp_opts {
    imp_format format;
    bool strict, correlate;
    int64_t window_ms;  /* correlation window */
    int64_t bucket_ms;  /* dedup time bucket for alerts without an id */
    /* ATT&CK: alerts that name no technique get them from their rule text by the
     * keyword map; NULL leaves them as they are */
    const struct vg_attack *attack;
    /* The organisation's own networks and domains ([import] home_net, home_domains):
     * its values move to home_ entity names, never indicators (vg_entity_home);
     * NULL: the defaults (the private ranges) */
    const struct vg_home *home;
    /* Called for each rejected record (file, line, reason); may be NULL. */
    void (*reject)(void *ud, const char *file, int64_t line, const char *why);
    void *ud;
    /* All of the call in one transaction (without strict's undoing at a bad
     * record), and before_commit, when set, called inside it just before it
     * commits: vigild records an ingest's idempotency key with what it stored. */
    bool one_batch;
    vg_rc (*before_commit)(void *ud, vg_ws *ws, vg_err *err);
} imp_opts;

typedef struct imp_stats {
    int64_t read, stored, merged, skipped, rejected, files_failed;
    int64_t already; /* records the workspace holds already (vg_alert_known): not written */
    int64_t per_format[IMP_NFORMATS];
    /* alerts whose event time is more than the correlation window from the alert
     * before them (the file is not in time order when most are: correlation joins
     * cases in the order it reads, so such a file makes more of them) */
    int64_t out_of_order;
    int64_t last_t; /* the event time of the last alert stored (0: none yet) */
    vg_correlation co; /* cases created, cases updated */
} imp_stats;

/* Whether most of the alerts were out of time order (st->out_of_order) in an
 * import of more than one batch, where that changes the cases correlation makes
 * (the alerts of one batch are correlated together, in time order). */
bool imp_out_of_order(const imp_stats *st);

/* Import files ("-" is standard input) in order. Bad records are reported
 * through o->reject and counted; a file that cannot be read, is binary, is a
 * broken JSON array or search response, a cut or corrupt compressed file, or in an
 * encoding vigil refuses is reported (line 0) and counted in files_failed, and the
 * next file is read. Returns an error only when the workspace fails or, with
 * strict, at the first bad record or file: nothing of the call is then stored, and
 * o->reject is not called for it (the error says it). */
VG_WUR vg_rc imp_files(vg_ws *ws, char *const *names, int n, const imp_opts *o,
                       imp_stats *st, vg_err *err);
/* The same for a body held in memory, read as a file called name. */
VG_WUR vg_rc imp_mem(vg_ws *ws, const char *name, const char *data, size_t len, const imp_opts *o,
                     imp_stats *st, vg_err *err);
/* The counts as `vigil import --json` prints them (and vigild answers an ingest). */
cJSON *imp_stats_json(const imp_stats *st);
void imp_stats_free(imp_stats *st);

/* ---- mapping (import_map.c) ---- */

typedef enum { MAP_OK, MAP_SKIP, MAP_BAD } imp_map_rc;

/* Detect the format of a record, or IMP_AUTO when it is none of them. */
imp_format imp_detect(const cJSON *rec);

/* Fill the alert.add payload p from rec in format fmt. MAP_SKIP: a record of the
 * format that is not an alert (a Suricata flow); MAP_BAD: why says what is wrong. */
imp_map_rc imp_map(const cJSON *rec, imp_format fmt, int64_t bucket_ms, cJSON *p, char *why,
                   size_t whysz);

/* Milliseconds since the epoch from ISO 8601 text or a number in seconds,
 * milliseconds, microseconds or nanoseconds; false when it is neither. */
bool imp_time(const cJSON *v, int64_t *ms);

/* A raw event as it is stored: JSON text that cJSON has parsed, made JSON by the
 * RFC and without its secrets. The value of a key whose decoded name looks like a
 * secret's (password, passphrase, token, api_key, authorization, cookie, secret,
 * private_key, session_id, credential, ...; otp, pin and pass as a word of the name)
 * becomes "[REDACTED]", and so does the value of NAME=VALUE with such a NAME and a
 * URL's userinfo password inside any string. Control bytes inside strings are
 * escaped (\t, \u001b), and between tokens become spaces; numbers and all else stay
 * byte for byte. NULL, with why, for a number JSON does not allow (01, 1., -.5),
 * which cJSON takes. Fresh. */
char *imp_redact(const char *text, size_t len, char *why, size_t whysz);

#endif
