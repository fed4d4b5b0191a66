/*
 * cmd_field.c — `vigil field ...` (a workspace's custom fields: define, list,
 * remove, set a case's value) and `vigil template ...` (case templates: list, show,
 * lint), with what `vigil case new --template` reads: the template directories.
 * Every write is an op through the door (vigil/fields.h, vigil/template.h).
 */
#include "cli.h"
#include "paths.h"
#include "vigil/fields.h"
#include "vigil/id.h"
#include "vigil/query.h"
#include "vigil/template.h"
#include "vigil/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- custom fields ------------------------------------------------------------- */

int cmd_field_define(cli *c, int argc, char **argv)
{
    opt o[] = {{"values=", NULL}, {"required", NULL}, {"default=", NULL}, {"description=", NULL}};
    int n = (int)(sizeof o / sizeof *o), npos, rc;
    char *pos[2];
    if ((rc = cli_parse(c, argc, argv, o, n, pos, 2, &npos)))
        return rc;
    if (npos != 2)
        return cli_usage(c, "give a NAME and a TYPE (string, number, date, enum, bool)");
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "name", pos[0]);
    cJSON_AddStringToObject(j, "type", pos[1]);
    const char *vals = opt_get(o, n, "values");
    if (vals) {
        cJSON *a = cJSON_AddArrayToObject(j, "values");
        for (const char *p = vals; *p;) {
            size_t k = strcspn(p, ",");
            const char *s = p, *e = p + k;
            while (s < e && *s == ' ')
                s++;
            while (e > s && e[-1] == ' ')
                e--;
            char *item = vg_xstrndup(s, (size_t)(e - s));
            cJSON_AddItemToArray(a, cJSON_CreateString(item));
            free(item);
            p += k + (p[k] == ',');
        }
    }
    cJSON_AddBoolToObject(j, "required", opt_get(o, n, "required") != NULL);
    if (opt_get(o, n, "default"))
        cJSON_AddStringToObject(j, "default", opt_get(o, n, "default"));
    if (opt_get(o, n, "description"))
        cJSON_AddStringToObject(j, "description", opt_get(o, n, "description"));
    vg_field_def d;
    vg_err err = {0};
    rc = vg_field_def_from_json(j, &d, &err);
    cJSON_Delete(j);
    if (rc) {
        vg_field_def_clear(&d);
        return cli_fail(c, &err);
    }
    if ((rc = cli_open(c, 0))) {
        vg_field_def_clear(&d);
        return rc;
    }
    rc = cli_apply(c, vg_op_field_define(&d));
    if (rc == EXIT_OK)
        printf("field %s: %s%s\n", d.name, VG_FIELD_TYPE.names[d.type],
               d.required ? ", required" : "");
    vg_field_def_clear(&d);
    return rc;
}

int cmd_field_ls(cli *c, int argc, char **argv)
{
    opt o[] = {{"json", NULL}};
    char *pos[1];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, o, 1, pos, 0, &npos)) || (rc = cli_open(c, 0)))
        return rc;
    vg_field_def *d;
    size_t n;
    vg_err err = {0};
    if (vg_field_defs(c->ws, &d, &n, &err) != VG_OK)
        return cli_fail(c, &err);
    if (opt_get(o, 1, "json")) {
        cJSON *a = cJSON_CreateArray();
        for (size_t i = 0; i < n; i++)
            cJSON_AddItemToArray(a, vg_field_def_json(&d[i]));
        out_json(a);
    } else if (n == 0) {
        printf("no custom fields (vigil field define NAME TYPE)\n");
    } else {
        printf("%-24s %-7s %-8s %-16s %s\n", "NAME", "TYPE", "REQUIRED", "DEFAULT",
               "VALUES / DESCRIPTION");
        for (size_t i = 0; i < n; i++) {
            printf("%-24s %-7s %-8s ", d[i].name, VG_FIELD_TYPE.names[d[i].type],
                   d[i].required ? "yes" : "no");
            out_fit(c, d[i].def ? d[i].def : "-", 16, true);
            putchar(' ');
            for (size_t k = 0; k < d[i].nvalues; k++) {
                printf("%s", k ? "," : "");
                out_safe(c, d[i].values[k]);
            }
            if (*d[i].description) {
                printf("%s", d[i].nvalues ? "  " : "");
                out_safe(c, d[i].description);
            }
            putchar('\n');
        }
    }
    vg_field_defs_free(d, n);
    return EXIT_OK;
}

int cmd_field_rm(cli *c, int argc, char **argv)
{
    char *pos[1];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, NULL, 0, pos, 1, &npos)))
        return rc;
    if (npos != 1)
        return cli_usage(c, "which field? (NAME)");
    if ((rc = cli_open(c, 0)))
        return rc;
    return cli_apply(c, vg_op_field_remove(pos[0]));
}

int cmd_field_set(cli *c, int argc, char **argv)
{
    char *pos[3];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, NULL, 0, pos, 3, &npos)))
        return rc;
    if (npos != 3)
        return cli_usage(c, "give a case, a field NAME and a VALUE (\"\" clears it)");
    vg_id id;
    if ((rc = cli_open(c, 0)) || (rc = cli_case(c, pos[0], id)))
        return rc;
    return cli_apply(c, vg_op_field_set(id, pos[1], pos[2]));
}

/* ---- templates ------------------------------------------------------------------- */

int cli_templates(cli *c, vg_template **items, size_t *n)
{
    char *dirs[2] = {paths_user_templates(), paths_templates()};
    vg_err err = {0};
    vg_rc rc = vg_template_library((const char *const *)dirs, 2, 1, items, n, &err);
    free(dirs[0]);
    free(dirs[1]);
    return rc ? cli_fail(c, &err) : EXIT_OK;
}

int cmd_template_ls(cli *c, int argc, char **argv)
{
    opt o[] = {{"json", NULL}};
    char *pos[1];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, o, 1, pos, 0, &npos)))
        return rc;
    vg_template *t;
    size_t n;
    if ((rc = cli_templates(c, &t, &n)))
        return rc;
    if (opt_get(o, 1, "json")) {
        cJSON *a = cJSON_CreateArray();
        for (size_t i = 0; i < n; i++)
            cJSON_AddItemToArray(a, vg_template_json(&t[i]));
        out_json(a);
    } else if (n == 0) {
        printf("no templates\n");
    } else {
        for (size_t i = 0; i < n; i++) {
            printf("%-22s %-8s ", t[i].id,
                   t[i].severity >= 0 ? VG_SEVERITY.names[t[i].severity] : "-");
            out_fit(c, t[i].name, 28, true);
            printf(" %s\n", t[i].user ? "(yours)" : "");
        }
    }
    vg_templates_free(t, n);
    return EXIT_OK;
}

int cmd_template_show(cli *c, int argc, char **argv)
{
    opt o[] = {{"json", NULL}};
    char *pos[1];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, o, 1, pos, 1, &npos)))
        return rc;
    if (npos != 1)
        return cli_usage(c, "which template? (NAME)");
    vg_template *t;
    size_t n;
    if ((rc = cli_templates(c, &t, &n)))
        return rc;
    const vg_template *x = vg_template_find(t, n, pos[0]);
    if (!x) {
        char *safe = vg_text_safe_dup(pos[0], c->text_flags);
        rc = cli_error(c, "'%s': no such template (vigil template ls)", safe);
        free(safe);
    } else if (opt_get(o, 1, "json")) {
        out_json(vg_template_json(x));
    } else {
        printf("%s  ", x->id);
        out_safe(c, x->name);
        printf("\n  from        ");
        out_safe(c, x->origin ? x->origin : "-");
        printf("%s\n  title       ", x->user ? " (yours)" : "");
        out_safe(c, x->title);
        printf("\n  severity    %s\n  tlp / pap   %s / %s\n  tags        ",
               x->severity >= 0 ? VG_SEVERITY.names[x->severity] : "-",
               x->tlp >= 0 ? VG_TLP.names[x->tlp] : "-", x->pap >= 0 ? VG_PAP.names[x->pap] : "-");
        for (size_t i = 0; i < x->ntags; i++) {
            printf("%s", i ? ", " : "");
            out_safe(c, x->tags[i]);
        }
        printf("\n  playbooks   ");
        for (size_t i = 0; i < x->nplaybooks; i++) {
            printf("%s", i ? ", " : "");
            out_safe(c, x->playbooks[i]);
        }
        putchar('\n');
        const cJSON *it;
        if (cJSON_GetArraySize(x->fields))
            printf("  fields\n");
        cJSON_ArrayForEach(it, x->fields)
        {
            char *v = vg_field_json_text(it);
            printf("    %-22s ", it->string);
            out_safe(c, v ? v : "");
            putchar('\n');
            free(v);
        }
        if (*x->description) {
            printf("\n");
            out_text(c, x->description, 2);
        }
        if (x->case_description) {
            printf("\nDescription skeleton\n");
            out_text(c, x->case_description, 2);
        }
    }
    vg_templates_free(t, n);
    return rc;
}

int cmd_template_lint(cli *c, int argc, char **argv)
{
    char *pos[64];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, NULL, 0, pos, 64, &npos)))
        return rc;
    if (npos == 0)
        return cli_usage(c, "lint which files?");
    /* the workspace, when there is one, for its custom fields and playbooks */
    bool have_ws = c->db_path && access(c->db_path, F_OK) == 0;
    if (have_ws && (rc = cli_open(c, 0)))
        return rc;
    char *pbdir = paths_playbooks();
    int bad = 0;
    for (int i = 0; i < npos; i++) {
        vg_template t;
        vg_err err = {0};
        vg_rc r = vg_template_load(pos[i], &t, &err);
        if (r == VG_OK && have_ws)
            r = vg_template_check(c->ws, &t, pbdir, &err);
        if (r) {
            cli_fail(c, &err);
            bad++;
        } else {
            printf("%s: ok\n", pos[i]);
        }
        vg_template_clear(&t);
    }
    free(pbdir);
    return bad ? EXIT_FAIL : EXIT_OK;
}

/* `case new --template NAME`: the case from the template, the command line's
 * payload members (over) on top. */
int cli_case_from_template(cli *c, const char *name, const char *title, const cJSON *over,
                           vg_id id)
{
    vg_template *t;
    size_t n;
    int rc = cli_templates(c, &t, &n);
    if (rc)
        return rc;
    const vg_template *x = vg_template_find(t, n, name);
    vg_err err = {0};
    char *pbdir = paths_playbooks(), *full = NULL;
    if (!x) {
        char *safe = vg_text_safe_dup(name, c->text_flags);
        rc = cli_error(c, "'%s': no such template (vigil template ls)", safe);
        free(safe);
    } else if (vg_template_check(c->ws, x, pbdir, &err) != VG_OK ||
               !(full = vg_template_title(x, title, vg_now_ms(), &err)) ||
               vg_template_new_case(c->ws, x, full, over, pbdir, id, &err) != VG_OK) {
        rc = cli_fail(c, &err);
    }
    free(full);
    free(pbdir);
    vg_templates_free(t, n);
    return rc;
}
