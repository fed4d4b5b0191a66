/*
 * views.c — the JSON views of reads that more than one frontend prints: a case with
 * everything on it, the investigation graph, the cases related to a case and the
 * ATT&CK coverage. `vigil ... --json` prints them, `vigil mcp` returns them, so an
 * agent and a script see the same fields (json.h).
 */
#include "vigil/json.h"

#include <stdlib.h>
#include <string.h>

#include "vigil/attack.h"
#include "vigil/graph.h"
#include "vigil/handoff.h"
#include "vigil/intel.h"
#include "vigil/playbook.h"
#include "vigil/query.h"
#include "vigil/text.h"

/* A string member from data: valid UTF-8 whatever it held. */
static void add_str(cJSON *o, const char *key, const char *s)
{
    char *r = vg_utf8_repair(s ? s : "");
    cJSON_AddStringToObject(o, key, r);
    free(r);
}

vg_rc vg_case_detail_json(vg_ws *ws, const char *id, int alert_limit, cJSON **out, vg_err *err)
{
    vg_case k;
    vg_alert *al = NULL;
    vg_artifact *ar = NULL;
    vg_task *tk = NULL;
    vg_note *nt = NULL;
    char **pbs = NULL;
    size_t nal = 0, nar = 0, ntk = 0, nnt = 0, npbs = 0;
    *out = NULL;
    vg_rc rc = vg_case_get(ws, id, &k, err);
    if (rc)
        return rc;
    if ((rc = vg_alerts_of_case(ws, id, alert_limit, &al, &nal, err)) ||
        (rc = vg_artifacts_of_case(ws, id, &ar, &nar, err)) ||
        (rc = vg_tasks_of_case(ws, id, &tk, &ntk, err)) ||
        (rc = vg_notes_of_case(ws, id, &nt, &nnt, err)) ||
        (rc = vg_case_playbooks(ws, id, &pbs, &npbs, err)))
        goto done;
    cJSON *j = vg_case_json(&k), *a;
    int64_t *merged = NULL;
    size_t nmerged = 0;
    if ((rc = vg_case_merged_refs(ws, id, &merged, &nmerged, err))) {
        cJSON_Delete(j);
        goto done;
    }
    cJSON_AddItemToObject(j, "merged_cases", a = cJSON_CreateArray()); /* refs merged in */
    for (size_t i = 0; i < nmerged; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber((double)merged[i]));
    free(merged);
    cJSON_AddItemToObject(j, "alerts", a = cJSON_CreateArray());
    for (size_t i = 0; i < nal; i++)
        cJSON_AddItemToArray(a, vg_alert_json(&al[i]));
    cJSON_AddItemToObject(j, "artifacts", a = cJSON_CreateArray());
    for (size_t i = 0; i < nar && rc == VG_OK; i++) {
        cJSON *x = vg_artifact_json(&ar[i]);
        cJSON_AddItemToArray(a, x);
        rc = vg_intel_annotate(ws, ar[i].type, ar[i].value, x, err);
    }
    vg_intel_summary is = {0};
    if (rc == VG_OK && (rc = vg_intel_case_summary(ws, id, 0, &is, err)) == VG_OK)
        cJSON_AddItemToObject(j, "intel", vg_intel_summary_json(&is));
    vg_intel_summary_clear(&is);
    if (rc) {
        cJSON_Delete(j);
        goto done;
    }
    vg_task_log *lg = NULL;
    size_t nlg = 0;
    if ((rc = vg_task_logs_of_case(ws, id, NULL, &lg, &nlg, err))) {
        cJSON_Delete(j);
        goto done;
    }
    cJSON_AddItemToObject(j, "tasks", a = cJSON_CreateArray());
    for (size_t i = 0; i < ntk; i++) {
        cJSON *t = vg_task_json(&tk[i]), *log;
        cJSON_AddItemToObject(t, "log", log = cJSON_CreateArray());
        for (size_t e = 0; e < nlg; e++)
            if (strcmp(lg[e].task_id, tk[i].id) == 0)
                cJSON_AddItemToArray(log, vg_task_log_json(&lg[e]));
        cJSON_AddItemToArray(a, t);
    }
    vg_task_logs_free(lg, nlg);
    vg_progress pr;
    vg_progress_of(tk, ntk, &pr);
    cJSON_AddItemToObject(j, "progress", vg_progress_json(&pr));
    cJSON_AddItemToObject(j, "playbooks", a = cJSON_CreateArray());
    for (size_t i = 0; i < npbs; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(pbs[i]));
    cJSON_AddItemToObject(j, "notes", a = cJSON_CreateArray());
    for (size_t i = 0; i < nnt; i++)
        cJSON_AddItemToArray(a, vg_note_json(&nt[i]));
    *out = j;
done:
    vg_case_clear(&k);
    vg_alerts_free(al, nal);
    vg_artifacts_free(ar, nar);
    vg_tasks_free(tk, ntk);
    vg_notes_free(nt, nnt);
    for (size_t i = 0; i < npbs; i++)
        free(pbs[i]);
    free(pbs);
    return rc;
}

cJSON *vg_graph_json(const vg_graph *g, const vg_glayout *l)
{
    cJSON *root = cJSON_CreateObject(), *nodes, *edges, *bridges;
    cJSON_AddItemToObject(root, "nodes", nodes = cJSON_CreateArray());
    cJSON_AddItemToObject(root, "edges", edges = cJSON_CreateArray());
    cJSON_AddItemToObject(root, "bridges", bridges = cJSON_CreateArray());
    for (size_t i = 0; i < g->n; i++) {
        const vg_gnode *nd = &g->nodes[i];
        cJSON *j = cJSON_CreateObject();
        cJSON_AddNumberToObject(j, "n", (double)i);
        static const char *const kinds[] = {"case", "artifact", "more", "intel"};
        cJSON_AddStringToObject(j, "kind", kinds[nd->kind]);
        if (nd->kind == VG_GNODE_CASE) {
            cJSON_AddStringToObject(j, "id", nd->case_id);
            cJSON_AddNumberToObject(j, "ref", (double)nd->ref);
            add_str(j, "title", nd->title);
            cJSON_AddStringToObject(j, "severity", vg_enum_name(&VG_SEVERITY, nd->severity));
            cJSON_AddStringToObject(j, "status", vg_enum_name(&VG_STATUS, nd->status));
            cJSON_AddBoolToObject(j, "root", nd->root);
        } else if (nd->kind == VG_GNODE_VALUE) {
            cJSON_AddStringToObject(j, "type", vg_enum_name(&VG_ARTIFACT_TYPE, nd->type));
            add_str(j, "value", nd->value);
            cJSON_AddBoolToObject(j, "ioc", nd->is_ioc);
            cJSON_AddBoolToObject(j, "from_alert", nd->from_alert);
            cJSON_AddNumberToObject(j, "cases", nd->ncases);
        } else if (nd->kind == VG_GNODE_INTEL) {
            add_str(j, "feed", nd->value);
        } else {
            cJSON_AddStringToObject(j, "case", nd->case_id);
            cJSON_AddNumberToObject(j, "hidden", nd->hidden);
        }
        if (l) {
            cJSON_AddNumberToObject(j, "rank", l->rank[i]);
            cJSON_AddNumberToObject(j, "order", l->order[i]);
            cJSON_AddNumberToObject(j, "row", l->row[i]);
            cJSON_AddNumberToObject(j, "col", l->col[i]);
        }
        cJSON_AddItemToArray(nodes, j);
        if (nd->kind == VG_GNODE_VALUE && nd->ncases > 1) {
            cJSON *b = cJSON_CreateObject(), *refs;
            cJSON_AddStringToObject(b, "type", vg_enum_name(&VG_ARTIFACT_TYPE, nd->type));
            add_str(b, "value", nd->value);
            cJSON_AddItemToObject(b, "cases", refs = cJSON_CreateArray());
            for (size_t e = 0; e < g->ne; e++)
                if (g->edges[e].b == (int)i)
                    cJSON_AddItemToArray(
                        refs, cJSON_CreateNumber((double)g->nodes[g->edges[e].a].ref));
            cJSON_AddItemToArray(bridges, b);
        }
    }
    for (size_t e = 0; e < g->ne; e++) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddNumberToObject(j, "from", g->edges[e].a);
        cJSON_AddNumberToObject(j, "to", g->edges[e].b);
        cJSON_AddBoolToObject(j, "bridge", g->edges[e].bridge);
        cJSON_AddItemToArray(edges, j);
    }
    if (l) {
        cJSON_AddNumberToObject(root, "ranks", l->nranks);
        cJSON_AddNumberToObject(root, "crossings", (double)l->crossings);
        cJSON_AddNumberToObject(root, "width", l->width);
        cJSON_AddNumberToObject(root, "height", l->height);
    }
    cJSON_AddBoolToObject(root, "truncated", g->truncated);
    return root;
}

cJSON *vg_related_json(const vg_related *r, size_t n)
{
    cJSON *arr = cJSON_CreateArray(), *cur = NULL, *shared = NULL;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || r[i].ref != r[i - 1].ref) {
            cur = cJSON_CreateObject();
            cJSON_AddStringToObject(cur, "id", r[i].case_id);
            cJSON_AddNumberToObject(cur, "ref", (double)r[i].ref);
            add_str(cur, "title", r[i].title);
            cJSON_AddStringToObject(cur, "severity", vg_enum_name(&VG_SEVERITY, r[i].severity));
            cJSON_AddStringToObject(cur, "status", vg_enum_name(&VG_STATUS, r[i].status));
            cJSON_AddItemToObject(cur, "shared", shared = cJSON_CreateArray());
            cJSON_AddItemToArray(arr, cur);
        }
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "type", vg_enum_name(&VG_ARTIFACT_TYPE, r[i].type));
        add_str(s, "value", r[i].value);
        cJSON_AddItemToArray(shared, s);
    }
    return arr;
}

cJSON *vg_technique_json(const vg_attack *a, const vg_technique *t)
{
    cJSON *j = cJSON_CreateObject(), *tac = cJSON_CreateArray();
    cJSON_AddStringToObject(j, "id", t->id);
    cJSON_AddStringToObject(j, "name", t->name);
    cJSON_AddStringToObject(j, "parent", t->parent);
    for (size_t i = 0; i < vg_attack_ntactics(a); i++)
        if (t->tactics & (1u << i))
            cJSON_AddItemToArray(tac, cJSON_CreateString(vg_attack_tactic_at(a, i)->shortname));
    cJSON_AddItemToObject(j, "tactics", tac);
    return j;
}

cJSON *vg_coverage_json(const vg_attack *a, const vg_attack_seen *seen, size_t nseen)
{
    size_t known = 0;
    for (size_t i = 0; i < nseen; i++)
        known += vg_attack_known(a, seen[i].id);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "attack_version", vg_attack_version(a));
    cJSON_AddNumberToObject(root, "techniques_seen", (double)known);
    cJSON *tacs = cJSON_AddArrayToObject(root, "tactics");
    for (size_t ti = 0; ti < vg_attack_ntactics(a); ti++) {
        const vg_tactic *tac = vg_attack_tactic_at(a, ti);
        size_t total = vg_attack_by_tactic(a, (int)ti, NULL, 0), hit = 0;
        cJSON *list = cJSON_CreateArray();
        for (size_t i = 0; i < nseen; i++) {
            const vg_technique *t = vg_attack_get(a, seen[i].id);
            if (!t || !(t->tactics & (1u << ti)))
                continue;
            hit++;
            cJSON *j = vg_technique_json(a, t);
            cJSON_AddNumberToObject(j, "cases", (double)seen[i].cases);
            cJSON_AddNumberToObject(j, "alerts", (double)seen[i].alerts);
            cJSON_AddItemToArray(list, j);
        }
        cJSON *tj = cJSON_CreateObject();
        cJSON_AddStringToObject(tj, "id", tac->id);
        cJSON_AddStringToObject(tj, "shortname", tac->shortname);
        cJSON_AddStringToObject(tj, "name", tac->name);
        cJSON_AddNumberToObject(tj, "techniques", (double)total);
        cJSON_AddNumberToObject(tj, "seen", (double)hit);
        cJSON_AddItemToObject(tj, "seen_techniques", list);
        cJSON_AddItemToArray(tacs, tj);
    }
    cJSON *unknown = cJSON_AddArrayToObject(root, "unknown");
    for (size_t i = 0; i < nseen; i++)
        if (!vg_attack_known(a, seen[i].id))
            cJSON_AddItemToArray(unknown, cJSON_CreateString(seen[i].id));
    return root;
}
