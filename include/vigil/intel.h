/*
 * intel.h — offline threat intelligence: indicator feeds kept in the analyst's own
 * store and matched against artifacts and alert entities when they are read.
 *
 * Intel is reference data, not case data: it is not in the op log, it does not sync,
 * and one store serves every workspace of the analyst ($XDG_DATA_HOME/vigil/intel.db,
 * mode 0600). A feed is what one import named: re-importing a name replaces its
 * indicators in one transaction, so a feed is always one whole import.
 *
 * Matching happens at read time: a workspace ATTACHes the store read-only
 * (vg_ws_attach_intel) and the reads join it, so a value known for months lights up
 * the day a feed names it, and an import of alerts pays nothing for intel. A value
 * matches an indicator of the same artifact type and the same normalised value
 * (vg_ioc_normalise, as artifacts are stored) that has not expired (valid_until unset
 * or in the future).
 *
 * Inputs (vg_intel_parse): STIX 2.1 bundles (indicators whose pattern is one
 * comparison, or comparisons joined by OR, over the types vigil knows; and
 * observables such as ipv4-addr, domain-name, url, file hashes), MISP events and
 * feed manifests, plain lists (one indicator a line, the type found by the IOC
 * extractor) and CSV with a type column. A STIX pattern vigil cannot match (AND,
 * FOLLOWEDBY, MATCHES, qualifiers, ...) is stored and reported as not matchable,
 * never dropped. Every file and every import has a size cap; a hostile file (over the
 * cap, invalid UTF-8, a pattern bomb) is refused with a message naming the file and
 * the item, and nothing of the import is written.
 */
#ifndef VIGIL_INTEL_H
#define VIGIL_INTEL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/err.h"
#include "vigil/id.h"
#include "vigil/ws.h"

#define VG_INTEL_APPLICATION_ID 0x5647494e /* "VGIN" */
#define VG_INTEL_SCHEMA_VERSION 1

/* Caps (each can be lowered or raised per import, vigil.conf(5) [intel]). */
#define VG_INTEL_MAX_BYTES ((int64_t)256 << 20) /* one file */
#define VG_INTEL_MAX_ITEMS ((int64_t)5000000)   /* indicators of one import */
/* A STIX pattern longer, deeper or with more comparisons than this is a bomb: the
 * file is refused. */
#define VG_INTEL_PATTERN_BYTES 65536
#define VG_INTEL_PATTERN_DEPTH 32
#define VG_INTEL_PATTERN_TERMS 4096

typedef enum {
    VG_INTEL_AUTO,
    VG_INTEL_STIX,
    VG_INTEL_MISP,
    VG_INTEL_LIST,
    VG_INTEL_CSV,
    VG_INTEL__NFORMATS
} vg_intel_format;
/* "auto", "stix", "misp", "list", "csv" */
extern const char *const VG_INTEL_FORMATS[VG_INTEL__NFORMATS];

/* ---- STIX patterns ------------------------------------------------------------- */

/* One comparison of a matchable pattern: an artifact type and a normalised value. */
typedef struct vg_stix_cmp {
    int type; /* VG_ARTIFACT_TYPE index */
    char *value;
} vg_stix_cmp;

typedef struct vg_stix_pattern {
    bool matchable; /* one comparison, or ORs of them, each over a type vigil matches */
    char why[224];  /* when not: what stops it ("AND", "MATCHES", "a qualifier", ...) */
    vg_stix_cmp *cmps;
    size_t n;
} vg_stix_pattern;

/* Parse a STIX 2.1 pattern (pattern[0..len), not NUL-terminated) into *out, which
 * the caller frees with vg_stix_pattern_free (on failure too). A pattern that is
 * valid but not matchable, or not a valid pattern at all, is VG_OK with matchable
 * false and why saying so. VG_EINVAL only for a pattern bomb: longer than
 * VG_INTEL_PATTERN_BYTES, nested deeper than VG_INTEL_PATTERN_DEPTH or with more than
 * VG_INTEL_PATTERN_TERMS comparisons. Pure. */
VG_WUR vg_rc vg_stix_pattern_parse(const char *pattern, size_t len, vg_stix_pattern *out,
                                   vg_err *err);
void vg_stix_pattern_free(vg_stix_pattern *p);

/* ---- parsing a feed ----------------------------------------------------------- */

/* One indicator as a parser read it. Strings are the parser's, valid during the
 * callback only. */
typedef struct vg_intel_rec {
    int type;                /* VG_ARTIFACT_TYPE index; -1 when not matchable */
    const char *value;       /* normalised; NULL when not matchable */
    const char *pattern;     /* what the feed said, when not matchable ("[a:b = 'c' AND ...]") */
    const char *why;         /* why it is not matchable */
    const char *ref;         /* the STIX id or MISP uuid; NULL */
    const char *description; /* NULL */
    int tlp;                 /* VG_TLP index; -1: none given */
    int confidence;          /* 0..100; -1: none given */
    int64_t valid_from;      /* ms since the epoch; 0: not given */
    int64_t valid_until;     /* ms; 0: never expires */
} vg_intel_rec;

typedef vg_rc (*vg_intel_emit_fn)(void *ud, const vg_intel_rec *r, vg_err *err);

typedef struct vg_intel_parse_opts {
    const char *where;      /* the file, for messages ("feeds/x.json") */
    vg_intel_format format; /* VG_INTEL_AUTO: from the content */
    int64_t max_items;      /* records emitted before VG_EINVAL; 0: VG_INTEL_MAX_ITEMS */
    int64_t max_bytes;      /* a file a manifest names; 0: VG_INTEL_MAX_BYTES */
    /* The directory of the file, where a MISP manifest's event files are read
     * (NULL: a manifest is refused). */
    const char *dir;
    /* Told about each item stored as not matchable or skipped, a sentence naming
     * the file and the item; NULL: nobody. */
    void (*note)(void *ud, const char *msg);
    void *ud;
} vg_intel_parse_opts;

/* What a parse saw. */
typedef struct vg_intel_counts {
    vg_intel_format format; /* what it was read as */
    int64_t emitted;        /* records handed to emit */
    int64_t unmatchable;    /* ... of them not matchable */
    int64_t skipped;        /* items that are no indicator vigil keeps (a MISP link,
                               a comment line, a STIX object of another kind) */
} vg_intel_counts;

/* Read a feed file's bytes (text[0..len)) and call emit for every indicator in it.
 * The text must be valid UTF-8 (the error names the line of the first bad byte). A
 * record emit refuses ends the parse with its error. *counts is filled either way. */
VG_WUR vg_rc vg_intel_parse(const char *text, size_t len, const vg_intel_parse_opts *o,
                            vg_intel_emit_fn emit, void *ud, vg_intel_counts *counts, vg_err *err);

/* ---- the store ------------------------------------------------------------------- */

typedef struct vg_intel vg_intel;

/* Open the intel store at path for writing; with create, a missing file is made
 * (mode 0600). Missing without create is VG_ENOTFOUND; a file that is not a vigil
 * intel store is VG_ENOTVIGIL, one of a newer vigil VG_ENEWER. */
VG_WUR vg_rc vg_intel_open(const char *path, bool create, vg_intel **out, vg_err *err);
void vg_intel_close(vg_intel *in);

typedef struct vg_intel_import_opts {
    const char *name;       /* the feed every file goes into; NULL: one feed per file,
                               named after it (a manifest after its directory) */
    int tlp;                /* VG_TLP index the feed is shared under, or -1: each
                               indicator keeps the stricter of its own and this */
    vg_intel_format format; /* VG_INTEL_AUTO: from each file's content */
    int64_t max_bytes;      /* per file; 0: VG_INTEL_MAX_BYTES */
    int64_t max_items;      /* per import; 0: VG_INTEL_MAX_ITEMS */
    int64_t now_ms;         /* the import's time; 0: now */
    void (*note)(void *ud, const char *msg); /* as vg_intel_parse_opts */
    void *ud;
} vg_intel_import_opts;

typedef struct vg_intel_feed_report {
    char *name;
    const char *format;
    int64_t indicators; /* stored */
    int64_t matchable;
    int64_t expired; /* stored, already past valid_until */
    int64_t skipped;
    int64_t replaced; /* indicators the feed held before, -1 when it is new */
} vg_intel_feed_report;

typedef struct vg_intel_report {
    vg_intel_feed_report *feeds;
    size_t n;
} vg_intel_report;

/* Import the files at paths[0..n) in one transaction: every feed they make is
 * replaced whole, or (on any error) nothing is written. Each file is read whole
 * under max_bytes; a manifest.json reads the event files it lists beside it. */
VG_WUR vg_rc vg_intel_import(vg_intel *in, const char *const *paths, size_t n,
                             const vg_intel_import_opts *o, vg_intel_report *rep, vg_err *err);
void vg_intel_report_free(vg_intel_report *r);

typedef struct vg_intel_feed {
    int64_t id;
    char *name, *format, *source, *hash;
    int tlp; /* VG_TLP index given at import, -1 */
    int64_t imported_at;
    int64_t indicators, matchable, expired;
} vg_intel_feed;

/* The feeds, by name; expired counted at now_ms (0: now). */
VG_WUR vg_rc vg_intel_feeds(vg_intel *in, int64_t now_ms, vg_intel_feed **items, size_t *n,
                            vg_err *err);
void vg_intel_feeds_free(vg_intel_feed *f, size_t n);
/* Remove the feed named name and its indicators (VG_ENOTFOUND naming the feeds there
 * are when there is none); *removed gets how many indicators went. */
VG_WUR vg_rc vg_intel_remove(vg_intel *in, const char *name, int64_t *removed, vg_err *err);

typedef struct vg_intel_stats {
    int64_t feeds, indicators, matchable, unmatchable, expired;
    int64_t bytes;       /* the store's file */
    int64_t by_type[24]; /* matchable and unexpired, per VG_ARTIFACT_TYPE index */
} vg_intel_stats;
VG_WUR vg_rc vg_intel_stats_get(vg_intel *in, int64_t now_ms, vg_intel_stats *out, vg_err *err);

/* A TLP as feeds write it ("TLP:AMBER", "tlp:amber+strict", "white", "clear") as a
 * VG_TLP index (white is CLEAR), or -1. */
int vg_intel_tlp_parse(const char *s);

/* A feed name: 1 to 64 of [A-Za-z0-9._+-], starting with a letter or digit. */
bool vg_intel_name_ok(const char *name);

/* ---- matching, from a workspace ------------------------------------------------- */

/* Attach the intel store at path to ws read-only (schema "intel") so that its reads
 * see the feeds. A missing file (or path NULL) is no intel, never an error; a file
 * that is not an intel store, or one of a newer vigil, is an error and ws is left
 * without intel (and as usable as before). Not inside a batch. */
VG_WUR vg_rc vg_ws_attach_intel(vg_ws *ws, const char *path, vg_err *err);
/* Whether ws has an intel store attached. */
bool vg_ws_has_intel(const vg_ws *ws);

/* One feed's indicator for a value. */
typedef struct vg_intel_match {
    char *feed;
    int tlp;                                      /* VG_TLP index, -1 */
    int confidence;                               /* -1 */
    int64_t valid_from, valid_until, imported_at; /* 0: not given */
    char *ref, *description;                      /* "" when none */
} vg_intel_match;

/* The unexpired indicators (at now_ms; 0: now) for an artifact type and a
 * normalised value, one per feed, by feed name. None without intel. */
VG_WUR vg_rc vg_intel_lookup(vg_ws *ws, int type, const char *value, int64_t now_ms,
                             vg_intel_match **items, size_t *n, vg_err *err);
void vg_intel_matches_free(vg_intel_match *m, size_t n);
/* "known: feodo, circl-osint, TLP:AMBER, 2026-10-02": the feeds, the strictest TLP
 * and the date the value was first named (its earliest valid_from, else the feed's
 * import); "" when n is 0. Feed names are data: make the text safe to show it. */
void vg_intel_known_text(const vg_intel_match *m, size_t n, char *out, size_t outsz);
/* [{"feed", "tlp", "confidence", "valid_from", "valid_until", "imported_at", "id",
 * "description"}, ...] (times ISO 8601, null when not given). */
cJSON *vg_intel_matches_json(const vg_intel_match *m, size_t n);

/* Add to o (an artifact's JSON) "known" (vg_intel_known_text, or null when no feed
 * knows the value) and "intel" (vg_intel_matches_json, [] when none). */
VG_WUR vg_rc vg_intel_annotate(vg_ws *ws, int type, const char *value, cJSON *o, vg_err *err);

/* How much of a case the feeds know: its distinct artifact values that match (alert
 * entities reach a case as artifacts), and per feed how many. */
typedef struct vg_intel_summary {
    int64_t values;
    struct vg_intel_feed_count {
        char *feed;
        int64_t values;
    } * feeds;
    size_t nfeeds;
} vg_intel_summary;
VG_WUR vg_rc vg_intel_case_summary(vg_ws *ws, const char *case_id, int64_t now_ms,
                                   vg_intel_summary *out, vg_err *err);
void vg_intel_summary_clear(vg_intel_summary *s);
/* "intel: 3 values known to feeds (feodo 2, circl-osint 1)"; "" when none. */
void vg_intel_summary_text(const vg_intel_summary *s, char *out, size_t outsz);
/* {"values": N, "feeds": [{"feed", "values"}, ...]} */
cJSON *vg_intel_summary_json(const vg_intel_summary *s);

/* The open cases holding values the feeds know, most severe, then most values,
 * then newest first; at most limit of them, *total how many there are. */
typedef struct vg_intel_case_hit {
    vg_id case_id;
    int64_t ref;
    char *title;
    int severity;
    int64_t values;
} vg_intel_case_hit;
VG_WUR vg_rc vg_intel_open_cases(vg_ws *ws, int64_t now_ms, int limit, vg_intel_case_hit **items,
                                 size_t *n, int64_t *total, vg_err *err);
void vg_intel_case_hits_free(vg_intel_case_hit *h, size_t n);

/* The id of the feed named name in ws's intel (VG_ENOTFOUND when there is none);
 * search's intel:NAME. */
VG_WUR vg_rc vg_intel_feed_id(vg_ws *ws, const char *name, int64_t *id, vg_err *err);

#endif
