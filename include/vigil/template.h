/*
 * template.h — case templates (file format: vigil-template(5)).
 *
 * A template is one JSON object that says how a kind of case starts: id, name,
 * description (what it is for), title (a pattern: {title} is what the analyst
 * typed, {date} today's date, UTC), severity, tags, tlp, pap, fields (custom field
 * values), case_description (the description skeleton) and playbooks (ids to apply).
 * Parsing is strict, and a refusal names the file, the key and its line, because
 * the reader is fixing a file by hand. Everything read is capped.
 *
 * Templates are files, not workspace data: the shipped ones (data/templates,
 * installed in $datadir/vigil/templates) and the analyst's own in
 * $XDG_CONFIG_HOME/vigil/templates, which override a shipped one of the same id.
 * A new case from a template is one batch of ops through the door: its
 * case.create (with the fields) and a playbook.apply (and task.adds) per playbook.
 */
#ifndef VIGIL_TEMPLATE_H
#define VIGIL_TEMPLATE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "vigil/err.h"
#include "vigil/op.h"
#include "vigil/ws.h"

#define VG_TPL_MAX_FILE (256u << 10) /* a template file */
#define VG_TPL_MAX_LIBRARY 500       /* files read from one directory */

typedef struct vg_template {
    char id[65];            /* [a-z0-9][a-z0-9._-]*, the file's name without .json */
    char *name;             /* "Phishing" */
    char *description;      /* what it is for ("" when none) */
    char *title;            /* the title pattern */
    int severity, tlp, pap; /* VG_SEVERITY, VG_TLP, VG_PAP indexes; -1: not said */
    char **tags;
    size_t ntags;
    cJSON *fields;          /* {name: value} (text, number or bool); never NULL */
    char *case_description; /* the description skeleton, NULL for none */
    char **playbooks;
    size_t nplaybooks;
    /* Where it came from, filled by the loaders. */
    char *origin; /* the file's path */
    bool user;    /* the analyst's own directory */
    char *src;    /* the file's text, for messages that name a line */
} vg_template;

void vg_template_clear(vg_template *t);
void vg_templates_free(vg_template *t, size_t n);

/* Parse a template's text; where names it in messages ("phishing.json"). */
VG_WUR vg_rc vg_template_parse(const char *text, size_t len, const char *where, vg_template *out,
                               vg_err *err);
VG_WUR vg_rc vg_template_load(const char *path, vg_template *out, vg_err *err);

/* The templates of the directories dirs[0..ndirs) (a missing one is none); a
 * template in an earlier directory wins over one of the same id in a later one.
 * user_dirs: how many of the first are the analyst's (user = true). By id. */
VG_WUR vg_rc vg_template_library(const char *const *dirs, size_t ndirs, size_t user_dirs,
                                 vg_template **items, size_t *n, vg_err *err);
/* The one named id among items; NULL when none. */
const vg_template *vg_template_find(const vg_template *items, size_t n, const char *id);

/* Check t against a workspace: every field defined there, each value of its type
 * (an enum's in its list), every required field without a default given, and every
 * playbook known (the workspace's copies or the library in pbdir). Messages name the
 * file, the key and its line when t was parsed from text (t->origin). */
VG_WUR vg_rc vg_template_check(vg_ws *ws, const vg_template *t, const char *pbdir, vg_err *err);

/* The title of a case from t: the pattern with {title} replaced by title (which
 * must be given when the pattern holds it) and {date} by today's date (now_ms,
 * UTC). Fresh, or NULL with err set. */
char *vg_template_title(const vg_template *t, const char *title, int64_t now_ms, vg_err *err);

/* The case.create op of a case from t with the given title (vg_template_title).
 * over, when not NULL, is payload members that win over the template's: its
 * "fields" merged over t's key by key, any other member (severity, description,
 * assignee, tags, ...) replacing the template's. */
vg_op *vg_template_case_op(const vg_template *t, const char *title, const cJSON *over);

/* A new case from t in one batch: its case.create (over as above) and each
 * playbook applied (pbdir: the library). All or nothing; the case's id in case_out. */
VG_WUR vg_rc vg_template_new_case(vg_ws *ws, const vg_template *t, const char *title,
                                  const cJSON *over, const char *pbdir, vg_id case_out,
                                  vg_err *err);

/* t as JSON (the file's members, and origin and user). */
cJSON *vg_template_json(const vg_template *t);

#endif
