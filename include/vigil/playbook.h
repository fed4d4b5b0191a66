/*
 * playbook.h — incident-response playbooks: the file format (vigil-playbook(5)),
 * the read-only library, the editable copies a workspace holds, applying one to a
 * case, progress, suggestions and the CACAO 2.0 export.
 *
 * A playbook is one JSON object: id, name, version, category, description,
 * techniques (ATT&CK ids), severity_hint and tasks [{phase, title, description,
 * mandatory?}]. Parsing is strict and every refusal names the file and the field
 * ("ransomware.json: tasks[3].phase: 'triage' is not one of ..."), because the
 * person reading it is fixing a file by hand. Everything read is capped.
 *
 * Library files live in a directory the frontend names (paths_playbooks()); the
 * workspace holds copies in its `playbooks` table, written only through the door
 * (playbook.import, playbook.set, playbook.remove in op.h). Where both have the
 * same id the workspace copy wins: it is the one analysts changed.
 */
#ifndef VIGIL_PLAYBOOK_H
#define VIGIL_PLAYBOOK_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/err.h"
#include "vigil/model.h"
#include "vigil/op.h"
#include "vigil/ws.h"

#define VG_PB_MAX_FILE (16u << 20)  /* a playbook file or pack, whole */
#define VG_PB_MAX_DESC (64u << 10)  /* the playbook's description */
#define VG_PB_MAX_TASK_DESC (16u << 10)
#define VG_PB_MAX_TITLE 200
#define VG_PB_MAX_TASKS 200
#define VG_PB_MAX_TECHNIQUES 64
#define VG_PB_MAX_LIBRARY 1000      /* files read from a library directory */

typedef struct vg_pb_task {
    int phase; /* VG_PHASE index */
    char *title, *description;
    bool mandatory;
} vg_pb_task;

typedef struct vg_playbook {
    char id[65];          /* [a-z0-9][a-z0-9._-]*, at most 64 bytes */
    char *name, *version, *category, *description;
    int severity_hint;    /* VG_SEVERITY index, -1 when not given */
    char **techniques;
    size_t ntechniques;
    vg_pb_task *tasks;
    size_t ntasks;
    /* Where it lives, filled by the loaders (not part of the file format). */
    bool library;         /* a read-only library file */
    char *origin;         /* the library file's path, or where a copy came from */
    int64_t updated_at;   /* workspace copies: when last written */
} vg_playbook;

void vg_playbook_clear(vg_playbook *p);
void vg_playbooks_free(vg_playbook *p, size_t n);

/* Every technique of p is in the ATT&CK table a; else an error naming where, the
 * field and the id. (Parsing checks only that ids are shaped like T1234[.001].) */
struct vg_attack;
VG_WUR vg_rc vg_playbook_check_attack(const vg_playbook *p, const struct vg_attack *a,
                                      const char *where, vg_err *err);

/* Parse and validate a playbook from JSON text of len bytes; `where` names the
 * source in messages (a file name). On success *out is filled (vg_playbook_clear);
 * on failure nothing is allocated and err says which field is wrong. */
VG_WUR vg_rc vg_playbook_parse(const char *text, size_t len, const char *where,
                               vg_playbook *out, vg_err *err);
/* The same from a parsed JSON object. */
VG_WUR vg_rc vg_playbook_from_json(const cJSON *j, const char *where, vg_playbook *out,
                                   vg_err *err);
/* Read and parse the file at path (at most VG_PB_MAX_FILE bytes); origin = path. */
VG_WUR vg_rc vg_playbook_load(const char *path, vg_playbook *out, vg_err *err);
/* The file form of p (the fields of the format, in their order); caller frees. */
cJSON *vg_playbook_json(const vg_playbook *p);

/* Every *.json file in dir, parsed, sorted by id, each marked library. A file that
 * does not parse fails the whole call, naming it. A missing dir is an empty list. */
VG_WUR vg_rc vg_playbook_library(const char *dir, vg_playbook **items, size_t *n, vg_err *err);
/* The workspace's copies, sorted by id. */
VG_WUR vg_rc vg_playbooks_of_ws(vg_ws *ws, vg_playbook **items, size_t *n, vg_err *err);
/* The playbook named id: the workspace copy if there is one, else the library's
 * (libdir may be NULL). VG_ENOTFOUND names what exists. */
VG_WUR vg_rc vg_playbook_find(vg_ws *ws, const char *libdir, const char *id, vg_playbook *out,
                              vg_err *err);

/* A playbook.import (kind "playbook.import") or playbook.set op carrying p, with
 * origin saying where it came from. The caller applies and frees it. */
vg_op *vg_op_playbook_put(const char *kind, const vg_playbook *p, const char *origin);
vg_op *vg_op_playbook_remove(const char *id);

/* Which of p's tasks are already on the case (same phase and title): skip[i] for
 * task i (the caller passes p->ntasks bools). */
VG_WUR vg_rc vg_playbook_plan(vg_ws *ws, const char *case_id, const vg_playbook *p, bool *skip,
                              vg_err *err);
/* Apply p to the case through the door in one transaction: the tasks that are not
 * there yet, phase by phase in the playbook's order (task.add ops carrying the
 * playbook id), then a playbook.apply op that records it on the case's timeline.
 * Applying twice adds nothing the second time, and a repeat that adds nothing to a
 * case that already records the playbook writes nothing at all. *added and
 * *skipped may be NULL. */
VG_WUR vg_rc vg_playbook_apply(vg_ws *ws, const char *case_id, const vg_playbook *p, int *added,
                               int *skipped, vg_err *err);

/* The playbooks applied to a case (from its timeline), first applied first:
 * *ids is an array of n fresh strings (free each, then the array). */
VG_WUR vg_rc vg_case_playbooks(vg_ws *ws, const char *case_id, char ***ids, size_t *n,
                               vg_err *err);

/* Progress of a case's tasks: per phase and overall. A task counts as done when
 * it is done or skipped; a mandatory task is left until it is done. */
typedef struct vg_progress {
    int done[5], total[5], mandatory_left[5]; /* by VG_PHASE index */
    int all_done, all_total, all_mandatory_left;
} vg_progress;
void vg_progress_of(const vg_task *t, size_t n, vg_progress *out);
/* The same read straight from the workspace (cheap: the tasks index). */
VG_WUR vg_rc vg_case_progress(vg_ws *ws, const char *case_id, vg_progress *out, vg_err *err);
/* {"done", "total", "mandatory_left", "phases": {phase: {done, total, mandatory_left}}} */
cJSON *vg_progress_json(const vg_progress *p);
/* A bar of width cells ("#####....." or block characters), into out. */
void vg_progress_bar(int done, int total, int width, bool ascii, char *out, size_t outsz);

/* The techniques of a case and of the alerts linked to it, as a JSON array text
 * (fresh; the caller frees it), for suggestions: alerts linked after the case
 * was opened bring theirs. */
VG_WUR vg_rc vg_case_all_techniques(vg_ws *ws, const char *case_id, char **json, vg_err *err);

/* Rank playbooks for a case: a technique shared with the case (T1566.001 on the
 * case matches T1566 in the playbook and the reverse) scores 10, the category or
 * id among the case's tags 6, a word of the category or id in the title 3. order
 * receives the indices of pb with a score > 0, best first; returns how many. */
size_t vg_playbook_suggest(const vg_case *c, const vg_playbook *pb, size_t n, size_t *order,
                           int *scores);

/* The playbook as a CACAO 2.0 playbook: start -> one `action` step per task (a
 * `manual` command; the phase leads the step name) -> end. Identifiers are UUIDs
 * derived from the playbook's id and content, so an export is reproducible.
 * now_ms stamps created/modified. Caller frees. */
cJSON *vg_playbook_cacao(const vg_playbook *p, int64_t now_ms);

#endif
