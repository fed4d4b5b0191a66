/*
 * cmd_attack.c — the ATT&CK table on the command line: `vigil attack ls` lists it
 * (by tactic), `vigil attack coverage` shows which techniques the workspace's
 * cases and alerts have seen, tactic by tactic, and `vigil attack import`
 * replaces the table with one converted from an official enterprise-attack STIX
 * bundle, written into the user's data directory where it takes precedence over
 * the shipped table (deleting it restores the shipped one).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "paths.h"
#include "vigil/attack.h"
#include "vigil/buf.h"
#include "vigil/json.h"
#include "vigil/text.h"

#define MAX_BUNDLE (512u << 20) /* the official bundle is about 45 MB */

int cli_attack(cli *c, vg_attack **out)
{
    char *user = paths_user_data(), *data = paths_data();
    vg_err err = {0};
    vg_rc rc = vg_attack_load(user, data, out, &err);
    free(user);
    free(data);
    return rc == VG_OK ? EXIT_OK : cli_fail(c, &err);
}

static void print_technique(cli *c, const vg_attack *a, const vg_technique *t)
{
    printf("%-10s ", t->id);
    out_fit(c, t->name, 44, true);
    for (size_t i = 0, k = 0; i < vg_attack_ntactics(a); i++)
        if (t->tactics & (1u << i)) {
            putchar(k++ ? ',' : ' ');
            out_safe(c, vg_attack_tactic_at(a, i)->shortname);
        }
    putchar('\n');
}

int cmd_attack_ls(cli *c, int argc, char **argv)
{
    opt o[] = {{"tactic=", NULL}, {"json", NULL}};
    int n = 2, npos, rc;
    char *pos[1];
    vg_attack *a;
    if ((rc = cli_parse(c, argc, argv, o, n, pos, 0, &npos)) || (rc = cli_attack(c, &a)))
        return rc;
    const char *tv = opt_get(o, n, "tactic");
    int ti = tv ? vg_attack_tactic_find(a, tv) : -1;
    if (tv && ti < 0) {
        vg_attack_free(a);
        return cli_usage(c, "--tactic: '%s' is not a tactic (an id, short name or name; "
                            "vigil attack ls --json lists them)", tv);
    }
    cJSON *arr = opt_get(o, n, "json") ? cJSON_CreateArray() : NULL;
    size_t shown = 0;
    for (size_t i = 0; i < vg_attack_ntechniques(a); i++) {
        const vg_technique *t = vg_attack_technique_at(a, i);
        if (ti >= 0 && !(t->tactics & (1u << ti)))
            continue;
        shown++;
        if (arr)
            cJSON_AddItemToArray(arr, vg_technique_json(a, t));
        else
            print_technique(c, a, t);
    }
    if (arr) {
        out_json(arr);
    } else {
        printf("(%zu techniques; ATT&CK ", shown);
        out_safe(c, vg_attack_version(a));
        fputs(" from ", stdout);
        out_safe(c, vg_attack_source(a));
        fputs(")\n", stdout);
    }
    vg_attack_free(a);
    return EXIT_OK;
}

int cmd_attack_coverage(cli *c, int argc, char **argv)
{
    opt o[] = {{"json", NULL}};
    int npos, rc;
    char *pos[1];
    vg_attack *a = NULL;
    vg_attack_seen *seen = NULL;
    size_t nseen = 0;
    vg_err err = {0};
    if ((rc = cli_parse(c, argc, argv, o, 1, pos, 0, &npos)) || (rc = cli_open(c, 0)) ||
        (rc = cli_attack(c, &a)))
        return rc;
    if (vg_attack_seen_list(c->ws, &seen, &nseen, &err) != VG_OK) {
        vg_attack_free(a);
        return cli_fail(c, &err);
    }
    cJSON *root = vg_coverage_json(a, seen, nseen);
    if (opt_get(o, 1, "json")) {
        free(seen);
        vg_attack_free(a);
        out_json(root);
        return EXIT_OK;
    }
    /* the text is the JSON view read back, so the two cannot disagree */
    fputs("ATT&CK ", stdout);
    out_safe(c, cJSON_GetStringValue(cJSON_GetObjectItem(root, "attack_version")));
    printf(": %d techniques seen across cases and alerts\n",
           cJSON_GetObjectItem(root, "techniques_seen")->valueint);
    const cJSON *tac, *j;
    cJSON_ArrayForEach(tac, cJSON_GetObjectItem(root, "tactics"))
    {
        putchar('\n');
        out_fit(c, cJSON_GetStringValue(cJSON_GetObjectItem(tac, "name")), 28, true);
        putchar(' ');
        out_fit(c, cJSON_GetStringValue(cJSON_GetObjectItem(tac, "id")), 7, true);
        printf(" %3d of %d seen\n", cJSON_GetObjectItem(tac, "seen")->valueint,
               cJSON_GetObjectItem(tac, "techniques")->valueint);
        cJSON_ArrayForEach(j, cJSON_GetObjectItem(tac, "seen_techniques"))
        {
            printf("  %-10s ", cJSON_GetObjectItem(j, "id")->valuestring);
            out_fit(c, cJSON_GetObjectItem(j, "name")->valuestring, 40, true);
            printf(" %5d cases %6d alerts\n", cJSON_GetObjectItem(j, "cases")->valueint,
                   cJSON_GetObjectItem(j, "alerts")->valueint);
        }
    }
    for (size_t i = 0, k = 0; i < nseen; i++) {
        if (vg_attack_known(a, seen[i].id))
            continue;
        if (k++ == 0)
            fputs("\nNot in the table\n", stdout);
        printf("  ");
        out_safe(c, seen[i].id);
        printf(" %5lld cases %6lld alerts\n", (long long)seen[i].cases,
               (long long)seen[i].alerts);
    }
    free(seen);
    vg_attack_free(a);
    cJSON_Delete(root);
    return EXIT_OK;
}

int cmd_attack_import(cli *c, int argc, char **argv)
{
    char *pos[1];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, NULL, 0, pos, 1, &npos)))
        return rc;
    if (npos != 1)
        return cli_usage(c, "which file? (an enterprise-attack STIX bundle, - for stdin)");
    bool in = strcmp(pos[0], "-") == 0;
    FILE *f = in ? stdin : fopen(pos[0], "rb");
    if (!f)
        return cli_error(c, "%s: %s", pos[0], strerror(errno));
    vg_buf json, tsv;
    vg_buf_init(&json, MAX_BUNDLE);
    vg_buf_init(&tsv, 64u << 20);
    vg_err err = {0};
    vg_rc r = vg_buf_read_file(&json, f, in ? "stdin" : pos[0], &err);
    if (!in)
        fclose(f);
    size_t ntech = 0;
    char *user = paths_user_data(), *path = NULL;
    if (r == VG_OK && (r = vg_attack_from_stix(json.data ? json.data : "", json.len, &tsv, &ntech,
                                               &err)) != VG_OK) {
        char msg[sizeof err.msg];
        snprintf(msg, sizeof msg, "%s", err.msg);
        vg_fail(&err, r, "%s: %s", in ? "stdin" : pos[0], msg);
    }
    if (r == VG_OK)
        r = vg_attack_check_tsv(vg_buf_str(&tsv), "the converted table", &err);
    if (r == VG_OK) {
        size_t n = strlen(user) + 32;
        path = vg_xmalloc(n);
        snprintf(path, n, "%s/attack-enterprise.tsv", user);
        r = paths_ensure_parent(path, &err);
        if (r == VG_OK)
            r = cli_write_atomic(path, tsv.data, tsv.len, &err);
    }
    if (r == VG_OK) {
        vg_attack *a;
        char *data = paths_data();
        r = vg_attack_load(user, data, &a, &err);
        free(data);
        if (r == VG_OK) {
            printf("imported %zu techniques in %zu tactics (ATT&CK ", ntech,
                   vg_attack_ntactics(a));
            out_safe(c, vg_attack_version(a));
            fputs(") into ", stdout);
            out_safe(c, path);
            putchar('\n');
            vg_attack_free(a);
        }
    }
    free(user);
    free(path);
    vg_buf_free(&json);
    vg_buf_free(&tsv);
    return r == VG_OK ? EXIT_OK : cli_fail(c, &err);
}
