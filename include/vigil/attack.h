/*
 * attack.h — the MITRE ATT&CK enterprise table and the rule-text keyword map.
 *
 * The table (tactics in kill-chain order, techniques and sub-techniques) is read
 * from attack-enterprise.tsv and the keyword map from attack-keywords.tsv, both
 * described in vigil(1) "FILES". The caller names the directories: a user
 * directory (where `vigil attack import` writes a table made from an official
 * STIX bundle) whose files take precedence, and the shipped data directory. A
 * loaded table is read-only, so one can be shared by any number of readers;
 * every string it hands out is owned by it and lives until vg_attack_free.
 * Nothing here touches a screen or the network; only vg_attack_seen reads a
 * workspace.
 */
#ifndef VIGIL_ATTACK_H
#define VIGIL_ATTACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/buf.h"
#include "vigil/err.h"
#include "vigil/ws.h"

typedef struct vg_attack vg_attack;

#define VG_ATTACK_MAX_TACTICS 32

typedef struct vg_tactic {
    const char *id;        /* "TA0002" */
    const char *shortname; /* "execution" (the kill_chain_phases name) */
    const char *name;      /* "Execution" */
} vg_tactic;

typedef struct vg_technique {
    const char *id;     /* "T1059.001" */
    const char *name;   /* "PowerShell" */
    const char *parent; /* "T1059" for a sub-technique, "" otherwise */
    uint32_t tactics;   /* bit i = the tactic at index i (vg_attack_tactic_at) */
} vg_technique;

/* Load the table and the keyword map. Each file is taken from user_dir when it
 * is there (user_dir may be NULL), else from data_dir. A missing keyword map is
 * an empty map; a missing table, a malformed line (named by file and line), a
 * technique naming an unknown tactic or parent are errors. A keyword map from the
 * same directory as the table must name only ids the table has; the shipped map
 * over a user's imported table drops the ids that table lacks. *out is the
 * caller's (vg_attack_free). */
VG_WUR vg_rc vg_attack_load(const char *user_dir, const char *data_dir, vg_attack **out,
                            vg_err *err);
void vg_attack_free(vg_attack *a);

/* The ATT&CK version the table follows ("16.1"), and the file it came from. */
const char *vg_attack_version(const vg_attack *a);
const char *vg_attack_source(const vg_attack *a);

/* Tactics, in kill-chain order. */
size_t vg_attack_ntactics(const vg_attack *a);
const vg_tactic *vg_attack_tactic_at(const vg_attack *a, size_t i);
/* A tactic by id ("TA0002"), short name ("execution", '-' or '_' or ' ' alike) or
 * name ("Execution"), case-insensitive; its index, or -1 when unknown. */
int vg_attack_tactic_find(const vg_attack *a, const char *what);

/* Techniques in id order (a parent right before its sub-techniques). */
size_t vg_attack_ntechniques(const vg_attack *a);
const vg_technique *vg_attack_technique_at(const vg_attack *a, size_t i);
/* A technique by id ("T1059.001", case-insensitive), or NULL when unknown. */
const vg_technique *vg_attack_get(const vg_attack *a, const char *id);
bool vg_attack_known(const vg_attack *a, const char *id);
/* Is id shaped like a technique id (T1234 or T1234.567), known or not? */
bool vg_attack_id_valid(const char *id);
/* The first tactic (in kill-chain order) of a technique; -1 when it has none. */
int vg_attack_primary_tactic(const vg_technique *t);

/* Techniques of tactic index ti, in id order: fills ids with up to max pointers
 * into the table and returns how many the tactic has (which may exceed max). */
size_t vg_attack_by_tactic(const vg_attack *a, int ti, const vg_technique **out, size_t max);

/* Map free text (an alert's rule or title) to technique ids with the keyword
 * map. Text and keywords are compared as runs of whole words, case-insensitively
 * (ASCII): every byte that is not a letter, a digit or part of a UTF-8 sequence
 * separates words, so "pass-the-hash" matches "Pass the Hash" and "lsass" does not
 * match "lsassy". Technique ids written in the text itself ("T1059.001") count
 * too when the table knows them. A technique is left out when one of its
 * sub-techniques matched too ("phishing" and "spearphishing link" give T1566.002
 * alone). Fills ids with up to max distinct ids, owned by the table, sorted by
 * id; returns how many were found (which may exceed max). */
size_t vg_attack_map_text(const vg_attack *a, const char *text, const char **ids, size_t max);

/* Convert an enterprise-attack STIX 2.x bundle (JSON text of len bytes) into the
 * table's TSV form, appended to tsv: x-mitre-tactic objects give the tactics
 * (ordered by the x-mitre-matrix's tactic_refs when present), attack-pattern
 * objects with a mitre-attack external id give the techniques; revoked and
 * deprecated objects are skipped. The version comes from the x-mitre-collection
 * or matrix (x_mitre_version) when present. *ntech receives the technique count.
 * Errors name the object that is wrong. */
VG_WUR vg_rc vg_attack_from_stix(const char *json, size_t len, vg_buf *tsv, size_t *ntech,
                                 vg_err *err);
/* Techniques seen in a workspace: every id in a case's or an alert's techniques
 * (upper-cased), with how many cases and alerts carry it, in id order. Ids the
 * table does not know are listed too (the caller decides what to show). *out is
 * the caller's (free). */
typedef struct vg_attack_seen {
    char id[16];
    int64_t cases, alerts;
} vg_attack_seen;
VG_WUR vg_rc vg_attack_seen_list(vg_ws *ws, vg_attack_seen **out, size_t *n, vg_err *err);

/* Check TSV text as vg_attack_load would read it (what = the name for messages). */
VG_WUR vg_rc vg_attack_check_tsv(const char *tsv, const char *what, vg_err *err);

#endif
