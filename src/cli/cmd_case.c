/*
 * cmd_case.c — the case subcommands: the queue, one case, and writing to a case
 * (fields, status, notes, artifacts, tasks) and reading its timeline. Every write
 * is an op through vg_apply; every listing has --json.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "vigil/handoff.h"
#include "config.h"
#include "vigil/buf.h"
#include "vigil/fields.h"
#include "vigil/intel.h"
#include "vigil/json.h"
#include "vigil/op.h"
#include "vigil/playbook.h"
#include "vigil/query.h"
#include "vigil/text.h"

#define MAX_NOTE (1 << 20)

/* "new,in_progress", "open", "high+" -> a bit mask over e; -1 and a message when a
 * name is not in e. */
int cli_mask(cli *c, const vg_enum *e, const char *list, unsigned *mask)
{
    char *copy = vg_xstrdup(list), *save = NULL;
    *mask = 0;
    for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        size_t l = strlen(w);
        bool plus = l > 1 && w[l - 1] == '+';
        if (plus)
            w[l - 1] = '\0';
        if (e == &VG_STATUS && strcasecmp(w, "open") == 0) {
            *mask |= VG_STATUS_OPEN_MASK;
            continue;
        }
        int i = vg_enum_parse(e, w);
        if (i < 0) {
            char names[256];
            vg_enum_list(e, names, sizeof names);
            int rc = cli_usage(c, "%s: '%s' is not one of %s%s", e->field, w, names,
                               e == &VG_STATUS ? ", open" : e == &VG_SEVERITY ? " (high+ = high and up)" : "");
            free(copy);
            return rc;
        }
        *mask |= plus ? ~0u << i & ((1u << e->n) - 1) : 1u << i;
    }
    free(copy);
    return EXIT_OK;
}

static void print_case_row(cli *c, const vg_case *k, int title_cols)
{
    char ref[24], age[16];
    snprintf(ref, sizeof ref, "#%lld", (long long)k->ref);
    fmt_age(k->created_at, age, sizeof age);
    printf("%-6s %-8s %-11s ", ref, vg_enum_name(&VG_SEVERITY, k->severity),
           vg_enum_name(&VG_STATUS, k->status));
    out_fit(c, *k->assignee ? k->assignee : "-", 10, true);
    printf(" %4s %6lld  ", age, (long long)k->alert_count);
    out_fit(c, k->title, title_cols, false);
    putchar('\n');
}

/* A word for the shell: as it is when it is plain, else in single quotes. */
static void shell_word(FILE *f, const char *w)
{
    if (*w && strspn(w, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                        "-_./:,=@+%") == strlen(w)) {
        fputs(w, f);
        return;
    }
    fputc('\'', f);
    for (const char *p = w; *p; p++)
        fputs(*p == '\'' ? "'\\''" : (char[2]){*p, 0}, f);
    fputc('\'', f);
}

/* "... more: " and the command that shows the next page: this one's workspace and
 * every option it was given, and the cursor after the last row. */
static void more_hint(cli *c, const opt *o, int n, const char *cursor)
{
    char *line = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&line, &len);
    if (!f)
        return;
    fputs("... more: vigil --db ", f);
    shell_word(f, c->db_path);
    fputs(" cases", f);
    for (int k = 0; k < n; k++) {
        size_t nl = strcspn(o[k].spec, "=");
        if (!o[k].value || strncmp(o[k].spec, "after", nl) == 0)
            continue;
        fprintf(f, " --%.*s", (int)nl, o[k].spec);
        if (o[k].spec[nl] == '=') {
            fputc(' ', f);
            shell_word(f, o[k].value);
        }
    }
    fputs(" --after ", f);
    shell_word(f, cursor);
    if (fclose(f) == 0) {
        out_safe(c, line);
        putchar('\n');
    }
    free(line);
}

int cmd_cases(cli *c, int argc, char **argv)
{
    opt o[] = {{"status=", NULL}, {"severity=", NULL}, {"assignee=", NULL}, {"tag=", NULL}, {"text=", NULL},
               {"limit=", NULL}, {"after=", NULL}, {"json", NULL}, {"query=", NULL}, {"sort=", NULL},
               {"csv", NULL}};
    int n = (int)(sizeof o / sizeof *o), npos, rc;
    char *pos[1];
    if ((rc = cli_parse(c, argc, argv, o, n, pos, 0, &npos)))
        return rc;
    vg_case_query cq = {0};
    vg_case_filter f = {.limit = 50};
    vg_case_cursor cur;
    vg_err err = {0};
    const char *v;
    if ((v = opt_get(o, n, "query"))) { /* the / language; the flags below narrow it */
        if (vg_case_query_parse(v, c->actor, &cq, &err) != VG_OK)
            return cli_usage(c, "--query: %s", err.msg);
        f = cq.f;
        f.limit = 50;
    }
    if ((v = opt_get(o, n, "status")) && (rc = cli_mask(c, &VG_STATUS, v, &f.status_mask)))
        return rc;
    if ((v = opt_get(o, n, "severity")) && (rc = cli_mask(c, &VG_SEVERITY, v, &f.severity_mask)))
        return rc;
    if ((v = opt_get(o, n, "limit"))) {
        char *end;
        long l = strtol(v, &end, 10);
        if (*end || l < 1 || l > 10000)
            return cli_usage(c, "--limit: '%s' is not a number from 1 to 10000", v);
        f.limit = (int)l;
    }
    if ((v = opt_get(o, n, "sort"))) {
        vg_err serr = {0};
        if (vg_sort_parse(v, &f.sort, &f.reverse, &serr) != VG_OK) {
            vg_case_query_clear(&cq);
            return cli_usage(c, "--sort: %s", serr.msg);
        }
    }
    /* the plain options narrow a --query; they replace its terms only when given */
    if ((v = opt_get(o, n, "assignee"))) {
        f.assignee = strcmp(v, "me") == 0 ? c->actor : strcmp(v, "none") == 0 ? "" : v;
        f.not_assignee = false;
    }
    if ((v = opt_get(o, n, "tag"))) {
        f.tag = v;
        f.not_tag = false;
    }
    if ((v = opt_get(o, n, "text")))
        f.text = v;
    if ((v = opt_get(o, n, "after"))) {
        if (vg_case_cursor_parse(v, &cur, &err) != VG_OK) {
            vg_case_query_clear(&cq);
            return cli_usage(c, "--after: %s", err.msg);
        }
        f.after = &cur;
    }
    memcpy(f.sla_ms, config_sla(c->cf), sizeof f.sla_ms); /* vigil.conf(5) [sla] */
    vg_case_list l;
    if ((rc = cli_open(c, 0)) || vg_cases_list(c->ws, &f, &l, &err) != VG_OK) {
        vg_case_query_clear(&cq);
        return rc ? rc : cli_fail(c, &err);
    }
    vg_case_query_clear(&cq);
    if (opt_get(o, n, "csv")) {
        rc = cases_csv(l.items, l.n, true);
    } else if (opt_get(o, n, "json")) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; i < l.n; i++) {
            cJSON *j = vg_case_json(&l.items[i]);
            char cs[640];
            vg_case_cursor_format(&l.items[i], &f, cs, sizeof cs);
            cJSON_AddStringToObject(j, "cursor", cs);
            cJSON_AddItemToArray(arr, j);
        }
        out_json(arr);
    } else {
        int title_cols = c->width > 60 ? c->width - 53 : 0;
        printf("%-6s %-8s %-11s %-10s %4s %6s  %s\n", "REF", "SEV", "STATUS", "ASSIGNEE", "AGE",
               "ALERTS", "TITLE");
        for (size_t i = 0; i < l.n; i++)
            print_case_row(c, &l.items[i], title_cols);
        if (l.n == 0)
            fputs("(no cases match)\n", stdout);
        if (l.more && c->width) {
            char cs[640];
            vg_case_cursor_format(&l.items[l.n - 1], &f, cs, sizeof cs);
            more_hint(c, o, n, cs);
        }
    }
    vg_case_list_free(&l);
    return rc;
}

/* Open the workspace and resolve the case named by the first positional. */
static int open_case(cli *c, const char *ref, vg_id id)
{
    int rc = cli_open(c, 0);
    return rc ? rc : cli_case(c, ref, id);
}

/* The common start of a case subcommand: parse options, require exactly `want`
 * positionals (the first a case; `what` says what is missing), open the
 * workspace and resolve the case into id. */
static int case_args(cli *c, int argc, char **argv, opt *o, int no, char **pos, int want,
                     const char *what, vg_id id)
{
    int npos, rc = cli_parse(c, argc, argv, o, no, pos, want, &npos);
    if (rc)
        return rc;
    if (npos != want)
        return cli_usage(c, "%s", what);
    return open_case(c, pos[0], id);
}

/* "Tasks 3/12 ███░░░░░░░  2 mandatory left", then each phase with its own bar. */
static void show_tasks(cli *c, vg_task *t, size_t n, char **pbs, size_t npbs, const vg_task_log *lg,
                       size_t nlg)
{
    vg_progress p;
    vg_progress_of(t, n, &p);
    bool ascii = c->text_flags & VG_TEXT_ASCII;
    char bar[64];
    vg_progress_bar(p.all_done, p.all_total, 10, ascii, bar, sizeof bar);
    printf("\nTasks %d/%d %s", p.all_done, p.all_total, bar);
    if (p.all_mandatory_left)
        printf("  %d mandatory left", p.all_mandatory_left);
    for (size_t i = 0; i < npbs; i++) {
        printf("%s", i ? ", " : "  playbooks: ");
        out_safe(c, pbs[i]);
    }
    putchar('\n');
    for (size_t i = 0; i < n; i++) {
        int ph = t[i].phase;
        if ((i == 0 || ph != t[i - 1].phase) && ph >= 0) {
            vg_progress_bar(p.done[ph], p.total[ph], 10, ascii, bar, sizeof bar);
            printf("  %-16s %d/%d %s", vg_enum_name(&VG_PHASE, ph), p.done[ph], p.total[ph], bar);
            if (p.mandatory_left[ph])
                printf("  %d mandatory left", p.mandatory_left[ph]);
            putchar('\n');
        }
        static const char *const box[] = {"[ ]", "[~]", "[x]", "[-]"};
        printf("    %2zu %s ", i + 1, box[t[i].status & 3]);
        out_safe(c, t[i].title);
        if (t[i].mandatory)
            fputs(" (mandatory)", stdout);
        if (*t[i].assignee) {
            fputs("  @", stdout);
            out_safe(c, t[i].assignee);
        }
        putchar('\n');
        for (size_t e = 0; e < nlg; e++) { /* the task's log, oldest first, each whole */
            if (strcmp(lg[e].task_id, t[i].id) != 0)
                continue;
            char when[32];
            fmt_time(lg[e].created_at, when, sizeof when);
            printf("         log %s ", when);
            out_safe(c, lg[e].author);
            printf(":\n");
            out_text(c, lg[e].body, 11);
        }
    }
}

int cmd_alert_show(cli *c, int argc, char **argv)
{
    opt o[] = {{"json", NULL}, {"raw", NULL}};
    char *pos[1];
    int npos, rc = cli_parse(c, argc, argv, o, 2, pos, 1, &npos);
    if (rc)
        return rc;
    if (npos != 1)
        return cli_usage(c, "which alert? (ID)");
    if ((rc = cli_open(c, 0)))
        return rc;
    vg_err err = {0};
    vg_id id;
    vg_alert a;
    if (vg_alert_resolve(c->ws, pos[0], id, &err) || vg_alert_get(c->ws, id, &a, &err))
        return cli_fail(c, &err);
    if (opt_get(o, 2, "raw")) {
        /* the event as the sensor wrote it: exact into a pipe, made safe on a
         * terminal by the terminal's stdout (out_init) */
        printf("%s\n", a.raw);
    } else if (opt_get(o, 2, "json")) {
        out_json(vg_alert_json(&a));
    } else {
        char when[40], ref[32] = "inbox";
        fmt_time(a.event_time, when, sizeof when);
        if (a.case_id[0]) {
            vg_case k;
            if (vg_case_get(c->ws, a.case_id, &k, &err) == VG_OK) {
                snprintf(ref, sizeof ref, "case #%lld", (long long)k.ref);
                vg_case_clear(&k);
            }
        }
        printf("alert %s  %s  %s  x%lld  %s\n", a.id, vg_enum_name(&VG_SEVERITY, a.severity), when,
               (long long)a.count, ref);
        printf("title:  ");
        out_safe(c, a.title);
        printf("\nsource: ");
        out_safe(c, a.source);
        printf(" ");
        out_safe(c, a.source_ref);
        printf("\nrule:   ");
        out_safe(c, a.rule);
        printf("\nentities: ");
        out_safe(c, a.entities);
        printf("\nraw:\n");
        char *pretty = vg_json_reindent(a.raw);
        out_text(c, pretty, 2);
        free(pretty);
    }
    vg_alert_clear(&a);
    return EXIT_OK;
}

/* "   known: FEED, TLP:AMBER, 2026-10-02" after an artifact the intel knows. */
static int print_known(cli *c, const vg_artifact *a)
{
    vg_intel_match *m = NULL;
    size_t n = 0;
    vg_err err = {0};
    if (vg_intel_lookup(c->ws, a->type, a->value, 0, &m, &n, &err) != VG_OK)
        return cli_fail(c, &err);
    if (n) {
        char known[512];
        vg_intel_known_text(m, n, known, sizeof known);
        printf("   ");
        out_safe(c, known);
    }
    vg_intel_matches_free(m, n);
    return EXIT_OK;
}

int cmd_case_show(cli *c, int argc, char **argv)
{
    opt o[] = {{"json", NULL}};
    char *pos[1];
    vg_id id;
    int rc = case_args(c, argc, argv, o, 1, pos, 1, "which case? (REF)", id);
    if (rc)
        return rc;
    vg_err err = {0};
    vg_case k;
    vg_alert *al = NULL;
    vg_artifact *ar = NULL;
    vg_task *tk = NULL;
    vg_note *nt = NULL;
    char **pbs = NULL;
    size_t nal = 0, nar = 0, ntk = 0, nnt = 0, npbs = 0;
    if (vg_case_get(c->ws, id, &k, &err) != VG_OK)
        return cli_fail(c, &err);
    if (vg_alerts_of_case(c->ws, id, 0, &al, &nal, &err) ||
        vg_artifacts_of_case(c->ws, id, &ar, &nar, &err) ||
        vg_tasks_of_case(c->ws, id, &tk, &ntk, &err) ||
        vg_notes_of_case(c->ws, id, &nt, &nnt, &err) ||
        vg_case_playbooks(c->ws, id, &pbs, &npbs, &err)) {
        rc = cli_fail(c, &err);
        goto out;
    }
    if (opt_get(o, 1, "json")) {
        cJSON *j;
        if (vg_case_detail_json(c->ws, id, 0, &j, &err) != VG_OK) {
            rc = cli_fail(c, &err);
            goto out;
        }
        if (c->merged_from[0]) { /* the ref typed named a case merged into this one */
            cJSON *m = cJSON_AddObjectToObject(j, "merged_from");
            cJSON_AddStringToObject(m, "id", c->merged_from);
            cJSON_AddNumberToObject(m, "ref", (double)c->merged_from_ref);
        }
        out_json(j);
        goto out;
    }
    char t1[32], t2[32], t3[32];
    printf("#%lld  ", (long long)k.ref);
    out_safe(c, k.title);
    printf("\n  id          %s\n", k.id);
    printf("  severity    %s\n  status      %s", vg_enum_name(&VG_SEVERITY, k.severity),
           vg_enum_name(&VG_STATUS, k.status));
    if (k.resolution >= 0)
        printf(" (%s)", vg_enum_name(&VG_RESOLUTION, k.resolution));
    printf("\n  assignee    ");
    out_safe(c, *k.assignee ? k.assignee : "-");
    printf("\n  tlp / pap   %s / %s\n  tags        ", vg_enum_name(&VG_TLP, k.tlp),
           vg_enum_name(&VG_PAP, k.pap));
    char *words = vg_json_words(k.tags);
    out_safe(c, words);
    free(words);
    printf("\n  techniques  ");
    words = vg_json_words(k.techniques);
    out_safe(c, words);
    free(words);
    vg_field_value *fv = NULL;
    size_t nfv = 0;
    if (vg_case_fields(c->ws, id, &fv, &nfv, &err) != VG_OK) {
        rc = cli_fail(c, &err);
        goto out;
    }
    for (size_t i = 0; i < nfv; i++) {
        printf("\n  %-11s %-20s ", i ? "" : "fields", fv[i].name);
        out_safe(c, fv[i].value);
    }
    vg_field_values_free(fv, nfv);
    fmt_time(k.created_at, t1, sizeof t1);
    fmt_time(k.updated_at, t2, sizeof t2);
    printf("\n  created     %s by ", t1);
    out_safe(c, k.created_by);
    printf("\n  updated     %s\n", t2);
    fmt_time(k.acknowledged_at, t1, sizeof t1);
    fmt_time(k.closed_at, t3, sizeof t3);
    printf("  acknowledged %s   closed %s\n", t1, t3);
    int64_t *merged = NULL;
    size_t nmerged = 0;
    if (vg_case_merged_refs(c->ws, id, &merged, &nmerged, &err) != VG_OK) {
        rc = cli_fail(c, &err);
        goto out;
    }
    if (nmerged) {
        printf("  merged in  ");
        for (size_t i = 0; i < nmerged; i++)
            printf(" #%lld", (long long)merged[i]);
        putchar('\n');
    }
    free(merged);
    vg_intel_summary is;
    if (vg_intel_case_summary(c->ws, id, 0, &is, &err) != VG_OK) {
        rc = cli_fail(c, &err);
        goto out;
    }
    if (is.values) {
        char line[1024];
        vg_intel_summary_text(&is, line, sizeof line);
        printf("  ");
        out_safe(c, line);
        putchar('\n');
    }
    vg_intel_summary_clear(&is);
    if (*k.description) {
        putchar('\n');
        out_text(c, k.description, 2);
    }
    printf("\nAlerts %zu\n", nal);
    for (size_t i = nal > 5 ? nal - 5 : 0; i < nal; i++) {
        fmt_time(al[i].event_time, t1, sizeof t1);
        printf("  %s %-8s x%-4lld ", t1, vg_enum_name(&VG_SEVERITY, al[i].severity),
               (long long)al[i].count);
        out_fit(c, al[i].title, c->width > 45 ? c->width - 40 : 0, false);
        putchar('\n');
    }
    if (nal > 5)
        printf("  (%zu earlier)\n", nal - 5);
    printf("\nArtifacts %zu\n", nar);
    for (size_t i = 0; i < nar; i++) {
        printf("  %.8s %-10s ", ar[i].id, vg_enum_name(&VG_ARTIFACT_TYPE, ar[i].type));
        out_safe(c, ar[i].value);
        if (ar[i].is_ioc)
            fputs("  IOC", stdout);
        if (ar[i].other_cases) {
            char refs[200];
            vg_refs_format(ar[i].other_refs, ar[i].other_cases > 20, refs, sizeof refs);
            printf("  (also on %s)", refs);
        }
        if ((rc = print_known(c, &ar[i])))
            goto out;
        putchar('\n');
    }
    vg_task_log *lg = NULL;
    size_t nlg = 0;
    if (vg_task_logs_of_case(c->ws, id, NULL, &lg, &nlg, &err) != VG_OK) {
        rc = cli_fail(c, &err);
        goto out;
    }
    show_tasks(c, tk, ntk, pbs, npbs, lg, nlg);
    vg_task_logs_free(lg, nlg);
    printf("\nNotes %zu\n", nnt);
    for (size_t i = 0; i < nnt; i++) {
        fmt_time(nt[i].created_at, t1, sizeof t1);
        printf("  %s ", t1);
        out_safe(c, nt[i].author);
        printf(":\n");
        out_text(c, nt[i].body, 4);
    }
out:
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

int cmd_case_new(cli *c, int argc, char **argv)
{
    opt o[] = {{"title=", NULL},    {"severity=", NULL}, {"description=", NULL},
               {"assignee=", NULL}, {"tags=", NULL},     {"json", NULL},
               {"template=", NULL}};
    int n = (int)(sizeof o / sizeof *o), npos, rc;
    /* --field NAME=VALUE may be given many times: gathered here, the rest parsed */
    char **rest = vg_xcalloc((size_t)argc + 1, sizeof *rest);
    int nrest = 0;
    cJSON *fields = cJSON_CreateObject();
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (strcmp(a, "--field") == 0 && i + 1 < argc)
            v = argv[++i];
        else if (strncmp(a, "--field=", 8) == 0)
            v = a + 8;
        else if (strcmp(a, "--field") == 0) {
            free(rest);
            cJSON_Delete(fields);
            return cli_usage(c, "option --field needs NAME=VALUE");
        }
        if (!v) {
            rest[nrest++] = argv[i];
            continue;
        }
        const char *eq = strchr(v, '=');
        if (!eq || eq == v) {
            free(rest);
            cJSON_Delete(fields);
            return cli_usage(c, "--field '%s': not NAME=VALUE", v);
        }
        char *name = vg_xstrndup(v, (size_t)(eq - v));
        cJSON_DeleteItemFromObjectCaseSensitive(fields, name);
        cJSON_AddStringToObject(fields, name, eq + 1);
        free(name);
    }
    char *pos[1];
    rc = cli_parse(c, nrest, rest, o, n, pos, 1, &npos);
    free(rest);
    if (rc) {
        cJSON_Delete(fields);
        return rc;
    }
    const char *title = opt_get(o, n, "title"), *tpl = opt_get(o, n, "template");
    if (npos == 1 && title) {
        cJSON_Delete(fields);
        return cli_usage(c, "give the title once (TITLE or --title)");
    }
    if (npos == 1)
        title = pos[0];
    if (!title && !tpl) {
        cJSON_Delete(fields);
        return cli_usage(c, "a case needs a --title (or a TITLE, or a --template)");
    }
    if ((rc = cli_open(c, 0))) {
        cJSON_Delete(fields);
        return rc;
    }
    vg_id id;
    if (tpl) {
        /* what the command line says wins over the template, in the same op */
        cJSON *over = cJSON_CreateObject();
        static const char *const names[] = {"severity", "description", "assignee", "tags"};
        for (size_t i = 0; i < 4; i++)
            if (opt_get(o, n, names[i]))
                cJSON_AddStringToObject(over, names[i], opt_get(o, n, names[i]));
        cJSON_AddItemToObject(over, "fields", fields);
        fields = NULL;
        rc = cli_case_from_template(c, tpl, title, over, id);
        cJSON_Delete(over);
    } else {
        vg_op *op =
            vg_op_case_create(title, opt_get(o, n, "severity"), opt_get(o, n, "description"));
        if (opt_get(o, n, "assignee"))
            cJSON_AddStringToObject(op->payload, "assignee", opt_get(o, n, "assignee"));
        if (opt_get(o, n, "tags"))
            cJSON_AddStringToObject(op->payload, "tags", opt_get(o, n, "tags"));
        cJSON_AddItemToObject(op->payload, "fields", fields);
        fields = NULL;
        memcpy(id, op->target, sizeof id);
        rc = cli_apply(c, op);
    }
    cJSON_Delete(fields);
    if (rc)
        return rc;
    vg_case k;
    vg_err err = {0};
    if (vg_case_get(c->ws, id, &k, &err) != VG_OK)
        return cli_fail(c, &err);
    if (opt_get(o, n, "json")) {
        cJSON *j;
        if (vg_case_detail_json(c->ws, id, 0, &j, &err) != VG_OK) {
            vg_case_clear(&k);
            return cli_fail(c, &err);
        }
        out_json(j);
    } else {
        printf("created case #%lld %s\n", (long long)k.ref, k.id);
    }
    vg_case_clear(&k);
    return EXIT_OK;
}

int cmd_case_set(cli *c, int argc, char **argv)
{
    char *pos[32];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, NULL, 0, pos, 32, &npos)))
        return rc;
    if (npos < 2)
        return cli_usage(c, "give a case and at least one field=value");
    const char *resolution = NULL;
    for (int i = 1; i < npos; i++) {
        if (!strchr(pos[i], '=') || pos[i][0] == '=')
            return cli_usage(c, "'%s' is not field=value (fields: %s)", pos[i], VG_CASE_FIELDS);
        if (strncmp(pos[i], "resolution=", 11) == 0)
            resolution = pos[i] + 11;
    }
    vg_id id;
    if ((rc = open_case(c, pos[0], id)))
        return rc;
    vg_op *ops[32];
    int nops = 0;
    for (int i = 1; i < npos; i++) {
        char *eq = strchr(pos[i], '=');
        *eq = '\0';
        if (strcmp(pos[i], "resolution") == 0)
            continue;
        ops[nops++] = strcmp(pos[i], "status") == 0 ? vg_op_case_status(id, eq + 1, resolution)
                                                    : vg_op_case_set(id, pos[i], eq + 1);
    }
    if (nops == 0)
        return cli_usage(c, "resolution= goes with status=closed");
    return cli_apply_all(c, ops, nops);
}

int cmd_case_close(cli *c, int argc, char **argv)
{
    opt o[] = {{"resolution=", NULL}};
    char *pos[1];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, o, 1, pos, 1, &npos)))
        return rc;
    const char *r = opt_get(o, 1, "resolution");
    if (npos == 1 && !r) {
        char names[256];
        vg_enum_list(&VG_RESOLUTION, names, sizeof names);
        return cli_usage(c, "closing a case needs --resolution (one of %s)", names);
    }
    vg_id id;
    if ((rc = case_args(c, argc, argv, o, 1, pos, 1, "which case? (REF)", id)))
        return rc;
    return cli_apply(c, vg_op_case_close(id, r));
}

int cmd_case_reopen(cli *c, int argc, char **argv)
{
    char *pos[1];
    vg_id id;
    int rc = case_args(c, argc, argv, NULL, 0, pos, 1, "which case? (REF)", id);
    if (rc)
        return rc;
    vg_case k;
    vg_err err = {0};
    if (vg_case_get(c->ws, id, &k, &err) != VG_OK)
        return cli_fail(c, &err);
    int status = k.status;
    int64_t ref = k.ref;
    vg_case_clear(&k);
    if (status != VG_ST_CLOSED)
        return cli_error(c, "case #%lld is not closed", (long long)ref);
    return cli_apply(c, vg_op_case_set(id, "status", "in_progress"));
}

/* `case merge SRC into TGT`: one case.merge op; the door refuses a merge into the
 * case itself, into a closed or merged case, or of a case merged already. The source
 * is named as it is (a merged case's ref is not followed here: merging it again is
 * refused by name). */
int cmd_case_merge(cli *c, int argc, char **argv)
{
    opt o[] = {{"json", NULL}};
    char *pos[3];
    int npos, rc = cli_parse(c, argc, argv, o, 1, pos, 3, &npos);
    if (rc)
        return rc;
    if (npos != 3 || strcasecmp(pos[1], "into") != 0)
        return cli_usage(c, "merge which case into which? (REF into REF)");
    if ((rc = cli_open(c, 0)))
        return rc;
    vg_err err = {0};
    vg_id src, dst;
    if (vg_case_resolve(c->ws, pos[0], src, &err) != VG_OK ||
        vg_case_resolve(c->ws, pos[2], dst, &err) != VG_OK)
        return cli_fail(c, &err);
    vg_op *op = vg_op_case_merge(src, dst);
    if (vg_apply(c->ws, op, &err) != VG_OK) {
        vg_op_free(op);
        return cli_fail(c, &err);
    }
    int64_t sref = 0, dref = 0;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(op->payload, "ref");
    sref = cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
    v = cJSON_GetObjectItemCaseSensitive(op->payload, "into_ref");
    dref = cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
    vg_op_free(op);
    if (opt_get(o, 1, "json")) {
        cJSON *j = cJSON_CreateObject(), *m;
        m = cJSON_AddObjectToObject(j, "merged");
        cJSON_AddStringToObject(m, "id", src);
        cJSON_AddNumberToObject(m, "ref", (double)sref);
        m = cJSON_AddObjectToObject(j, "into");
        cJSON_AddStringToObject(m, "id", dst);
        cJSON_AddNumberToObject(m, "ref", (double)dref);
        out_json(j);
    } else {
        printf("merged case #%lld into #%lld (#%lld closed as duplicate)\n", (long long)sref,
               (long long)dref, (long long)sref);
    }
    return EXIT_OK;
}

int cmd_note(cli *c, int argc, char **argv)
{
    char *pos[256];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, NULL, 0, pos, 256, &npos)))
        return rc;
    if (npos < 2)
        return cli_usage(c, "give a case and the note text (or - to read it from stdin)");
    vg_buf body;
    vg_buf_init(&body, MAX_NOTE);
    vg_err err = {0};
    if (npos == 2 && strcmp(pos[1], "-") == 0) {
        if (vg_buf_read_file(&body, stdin, "note (stdin)", &err) != VG_OK) {
            vg_buf_free(&body);
            return cli_fail(c, &err);
        }
    } else {
        for (int i = 1; i < npos; i++)
            if ((i > 1 && vg_buf_adds(&body, " ")) || vg_buf_adds(&body, pos[i])) {
                vg_buf_free(&body);
                return cli_error(c, "note: longer than %d bytes", MAX_NOTE);
            }
    }
    vg_id id;
    if ((rc = open_case(c, pos[0], id))) {
        vg_buf_free(&body);
        return rc;
    }
    rc = cli_apply(c, vg_op_note_add(id, vg_buf_str(&body)));
    if (rc == EXIT_OK) {
        cli_mention_warn(c, vg_buf_str(&body));
        note_offer(c, pos[0], vg_buf_str(&body));
    }
    vg_buf_free(&body);
    return rc;
}

int cmd_artifact_add(cli *c, int argc, char **argv)
{
    opt o[] = {{"ioc", NULL}, {"tlp=", NULL}};
    char *pos[3];
    vg_id id;
    int rc = case_args(c, argc, argv, o, 2, pos, 3, "give a case, a type and a value", id);
    if (rc)
        return rc;
    vg_op *op = opt_get(o, 2, "ioc") ? vg_op_indicator_add(id, pos[1], pos[2], opt_get(o, 2, "tlp"))
                                     : vg_op_artifact_add(id, pos[1], pos[2]);
    if (!opt_get(o, 2, "ioc") && opt_get(o, 2, "tlp"))
        cJSON_AddStringToObject(op->payload, "tlp", opt_get(o, 2, "tlp"));
    if ((rc = cli_apply(c, op)))
        return rc;
    /* matched as it is added: what the analyst's intel feeds know of it */
    vg_artifact a;
    vg_err err = {0};
    if (vg_artifact_resolve(c->ws, id, pos[2], &a, &err) == VG_OK) {
        vg_intel_match *m = NULL;
        size_t n = 0;
        if (vg_intel_lookup(c->ws, a.type, a.value, 0, &m, &n, &err) != VG_OK)
            rc = cli_fail(c, &err);
        if (n) {
            char known[512];
            vg_intel_known_text(m, n, known, sizeof known);
            printf("%s ", vg_enum_name(&VG_ARTIFACT_TYPE, a.type));
            out_safe(c, a.value);
            printf("   ");
            out_safe(c, known);
            putchar('\n');
        }
        vg_intel_matches_free(m, n);
        vg_artifact_clear(&a);
    }
    return rc;
}

int cmd_artifact_ls(cli *c, int argc, char **argv)
{
    opt o[] = {{"json", NULL}};
    char *pos[1];
    vg_id id;
    int rc = case_args(c, argc, argv, o, 1, pos, 1, "which case? (REF)", id);
    if (rc)
        return rc;
    vg_artifact *a = NULL;
    size_t n = 0;
    vg_err err = {0};
    if (vg_artifacts_of_case(c->ws, id, &a, &n, &err) != VG_OK)
        return cli_fail(c, &err);
    if (opt_get(o, 1, "json")) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; i < n && rc == EXIT_OK; i++) {
            cJSON *x = vg_artifact_json(&a[i]);
            cJSON_AddItemToArray(arr, x);
            if (vg_intel_annotate(c->ws, a[i].type, a[i].value, x, &err) != VG_OK)
                rc = cli_fail(c, &err);
        }
        if (rc == EXIT_OK)
            out_json(arr);
        else
            cJSON_Delete(arr);
    } else {
        printf("%-8s %-10s %-3s %-12s %5s %5s  %s\n", "ID", "TYPE", "IOC", "TLP", "SEEN",
               "CASES", "VALUE");
        for (size_t i = 0; i < n && rc == EXIT_OK; i++) {
            printf("%.8s %-10s %-3s %-12s %5lld %5lld  ", a[i].id,
                   vg_enum_name(&VG_ARTIFACT_TYPE, a[i].type), a[i].is_ioc ? "yes" : "-",
                   vg_enum_name(&VG_TLP, a[i].tlp), (long long)a[i].sightings,
                   (long long)a[i].other_cases + 1);
            out_safe(c, a[i].value);
            rc = print_known(c, &a[i]);
            putchar('\n');
        }
    }
    vg_artifacts_free(a, n);
    return rc;
}

int cmd_artifact_rm(cli *c, int argc, char **argv)
{
    char *pos[2];
    vg_id id;
    int rc = case_args(c, argc, argv, NULL, 0, pos, 2,
                       "give a case and an artifact (id prefix or value)", id);
    if (rc)
        return rc;
    vg_artifact a;
    vg_err err = {0};
    if (vg_artifact_resolve(c->ws, id, pos[1], &a, &err) != VG_OK)
        return cli_fail(c, &err);
    rc = cli_apply(c, vg_op_artifact_remove(id, vg_enum_name(&VG_ARTIFACT_TYPE, a.type), a.value));
    vg_artifact_clear(&a);
    return rc;
}

int cmd_task_add(cli *c, int argc, char **argv)
{
    opt o[] = {{"phase=", NULL}, {"description=", NULL}, {"assignee=", NULL}};
    char *pos[64];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, o, 3, pos, 64, &npos)))
        return rc;
    if (npos < 2)
        return cli_usage(c, "give a case and the task title");
    const char *phase = opt_get(o, 3, "phase");
    if (!phase) {
        char names[256];
        vg_enum_list(&VG_PHASE, names, sizeof names);
        return cli_usage(c, "a task needs a --phase (one of %s)", names);
    }
    vg_buf title;
    vg_buf_init(&title, 4096);
    for (int i = 1; i < npos; i++)
        if ((i > 1 && vg_buf_adds(&title, " ")) || vg_buf_adds(&title, pos[i])) {
            vg_buf_free(&title);
            return cli_usage(c, "title: too long");
        }
    vg_id id;
    if ((rc = open_case(c, pos[0], id))) {
        vg_buf_free(&title);
        return rc;
    }
    vg_op *op = vg_op_task_add(id, phase, vg_buf_str(&title));
    vg_buf_free(&title);
    if (opt_get(o, 3, "description"))
        cJSON_AddStringToObject(op->payload, "description", opt_get(o, 3, "description"));
    if (opt_get(o, 3, "assignee"))
        cJSON_AddStringToObject(op->payload, "assignee", opt_get(o, 3, "assignee"));
    return cli_apply(c, op);
}

int cmd_task_set(cli *c, int argc, char **argv)
{
    char *pos[16];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, NULL, 0, pos, 16, &npos)))
        return rc;
    if (npos < 3)
        return cli_usage(c, "give a case, a task (its number or id prefix) and field=value");
    for (int i = 2; i < npos; i++)
        if (!strchr(pos[i], '=') || pos[i][0] == '=')
            return cli_usage(c, "'%s' is not field=value (fields: %s)", pos[i], VG_TASK_FIELDS);
    vg_id id;
    if ((rc = open_case(c, pos[0], id)))
        return rc;
    vg_task t;
    vg_err err = {0};
    if (vg_task_resolve(c->ws, id, pos[1], &t, &err) != VG_OK)
        return cli_fail(c, &err);
    vg_op *ops[16];
    int nops = 0;
    for (int i = 2; i < npos; i++) {
        char *eq = strchr(pos[i], '=');
        *eq = '\0';
        ops[nops++] = vg_op_task_set(id, t.id, pos[i], eq + 1);
    }
    vg_task_clear(&t);
    return cli_apply_all(c, ops, nops);
}

int cmd_timeline(cli *c, int argc, char **argv)
{
    opt o[] = {{"by=", NULL}, {"limit=", NULL}, {"json", NULL}};
    char *pos[1];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, o, 3, pos, 1, &npos)))
        return rc;
    if (npos != 1)
        return cli_usage(c, "which case? (REF)");
    const char *by = opt_get(o, 3, "by");
    vg_timeline_order order = VG_BY_OCCURRED;
    if (by && strcmp(by, "recorded") == 0)
        order = VG_BY_RECORDED;
    else if (by && strcmp(by, "occurred") != 0)
        return cli_usage(c, "--by: '%s' is not one of occurred, recorded", by);
    int limit = 0;
    const char *ls = opt_get(o, 3, "limit");
    if (ls) {
        char *end;
        long l = strtol(ls, &end, 10);
        if (*end || l < 1 || l > 1000000)
            return cli_usage(c, "--limit: '%s' is not a number from 1 to 1000000", ls);
        limit = (int)l;
    }
    vg_id id;
    if ((rc = open_case(c, pos[0], id)))
        return rc;
    vg_event *e = NULL;
    size_t n = 0;
    vg_err err = {0};
    if (vg_timeline(c->ws, id, order, limit, &e, &n, &err) != VG_OK)
        return cli_fail(c, &err);
    if (opt_get(o, 3, "json")) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; i < n; i++)
            cJSON_AddItemToArray(arr, vg_event_json(&e[i]));
        out_json(arr);
    } else {
        printf("%-16s  %-16s  %-8s %s\n", order == VG_BY_OCCURRED ? "OCCURRED" : "RECORDED",
               order == VG_BY_OCCURRED ? "RECORDED" : "OCCURRED", "KIND", "SUMMARY");
        for (size_t i = 0; i < n; i++) {
            char a[32], b[32];
            fmt_time(order == VG_BY_OCCURRED ? e[i].occurred_at : e[i].recorded_at, a, sizeof a);
            fmt_time(order == VG_BY_OCCURRED ? e[i].recorded_at : e[i].occurred_at, b, sizeof b);
            printf("%-16s  %-16s  %-8s %s", a, b, vg_enum_name(&VG_EVENT_KIND, e[i].kind),
                   e[i].starred ? "* " : "");
            out_fit(c, e[i].summary, c->width > 55 ? c->width - 45 : 0, false);
            putchar('\n');
        }
    }
    vg_events_free(e, n);
    return EXIT_OK;
}
