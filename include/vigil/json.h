/*
 * json.h — the JSON form of each entity, shared by `--json` output and, later, the
 * server's API. Times are ISO 8601 UTC strings with milliseconds (null when unset);
 * enumerations are their names; text is valid UTF-8 (invalid bytes become U+FFFD).
 * Each returns a new cJSON object the caller owns.
 */
#ifndef VIGIL_JSON_H
#define VIGIL_JSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/model.h"
#include "vigil/query.h"

cJSON *vg_case_json(const vg_case *c);
cJSON *vg_alert_json(const vg_alert *a);
cJSON *vg_artifact_json(const vg_artifact *a);
cJSON *vg_task_json(const vg_task *t);
cJSON *vg_note_json(const vg_note *n);
cJSON *vg_event_json(const vg_event *e);
cJSON *vg_hit_json(const vg_hit *h);

/* Views of reads that the CLI's --json and `vigil mcp` both give (views.c). */
/* A case with its alerts (at most alert_limit; 0: all), artifacts, tasks and their
 * progress, playbooks and notes: `vigil case show --json`. */
VG_WUR vg_rc vg_case_detail_json(vg_ws *ws, const char *id, int alert_limit, cJSON **out,
                                 vg_err *err);
struct vg_graph;
struct vg_glayout;
struct vg_related;
struct vg_attack;
struct vg_technique;
struct vg_attack_seen;
/* Nodes, edges and bridges; with l, where each node is drawn too. */
cJSON *vg_graph_json(const struct vg_graph *g, const struct vg_glayout *l);
/* One object per related case with the values it shares ({id, ref, ..., shared}). */
cJSON *vg_related_json(const struct vg_related *r, size_t n);
cJSON *vg_technique_json(const struct vg_attack *a, const struct vg_technique *t);
/* The techniques seen, by tactic, and those not in the table. */
cJSON *vg_coverage_json(const struct vg_attack *a, const struct vg_attack_seen *seen,
                        size_t nseen);

/* v as JSON text that a strict parser takes (RFC 8259, valid UTF-8, unique keys):
 * the text every --json prints. It makes v strict first: of members with the same
 * key (compared as printed, invalid UTF-8 repaired) only the first stays, and a raw
 * member (cJSON_CreateRaw) whose text is not strict JSON with unique keys becomes
 * its parse, made strict (null when it does not parse); a raw root is left as it
 * is. Invalid UTF-8 anywhere becomes U+FFFD. Returns a fresh string, or NULL when
 * memory runs out inside cJSON. */
char *vg_json_print(cJSON *v);
/* Is text[0..len) exactly one JSON value by RFC 8259 (surrounding space allowed),
 * in valid UTF-8? Duplicate keys are not looked for. */
bool vg_json_strict(const char *text, size_t len);

/* j as text indented by two spaces a level, one member per line, ending in a newline
 * (the layout of the playbook files, so an export reads and diffs like them).
 * Returns a fresh string. */
char *vg_json_pretty(const cJSON *j);

/* A stored list of words (a case's tags, techniques: a JSON array of strings) as
 * people read it: "c2, beaconing", "-" when empty. Text that is not such a list
 * is given back as it is. The caller frees it; it is not yet made safe for a
 * terminal. */
char *vg_json_words(const char *list);

/* A file that must be one JSON value (a playbook, a template): parsed into *out, or
 * an error "WHERE: line N: not valid JSON" naming the line where it stops being
 * one (trailing text after the value included). */
VG_WUR vg_rc vg_json_parse_doc(const char *text, size_t len, const char *where, cJSON **out,
                               vg_err *err);

/* Spans of JSON text found without parsing it (the raw events an import keeps, an
 * alert's raw event inside the op that carries it). They assume valid JSON and
 * never read past end. */
/* The end of the string that starts at s (its opening quote). */
const char *vg_json_string_end(const char *s, const char *end);
/* The end of the value that starts at s. */
const char *vg_json_value_end(const char *s, const char *end);
/* The value of the top-level member key of the object in text: [*vs, *ve); ve
 * NULL: its start alone (its end is not looked for). */
bool vg_json_member(const char *text, size_t len, const char *key, const char **vs,
                    const char **ve);
/* The next element of an array: *at is past its '[' or past the element before;
 * false at its ']' (or the end). */
bool vg_json_next(const char **at, const char *end, const char **vs, const char **ve);
/* The value of element i of the array that starts at text. */
bool vg_json_element(const char *text, size_t len, size_t i, const char **vs, const char **ve);

/* JSON text laid out two spaces a level, one member per line, its tokens kept as
 * they are (a 64-bit number stays exact, unlike a parse and print). Fresh. */
char *vg_json_reindent(const char *text);

/* "2026-11-03T14:02:11.123Z" into out (at least 25 bytes); "" for 0. */
void vg_iso8601(int64_t ms, char *out, size_t outsz);

#endif
