/*
 * cmd_mcp.c — `vigil mcp` (the workspace as an MCP server on stdio, src/mcp) and
 * `vigil proposals`: what agents and the copilot proposed and nobody decided yet,
 * and applying or cancelling one by id.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "copilot.h"
#include "mcp.h"
#include "paths.h"
#include "vigil/attack.h"
#include "vigil/remote.h"

int cmd_mcp(cli *c, int argc, char **argv)
{
    opt o[] = {{"read-only", NULL}};
    char *pos[1];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, o, 1, pos, 0, &npos)) || (rc = cli_open(c, 0)))
        return rc;
    if (isatty(STDIN_FILENO))
        fprintf(stderr, "vigil mcp: serving MCP on stdin and stdout (an MCP client starts"
                        " this; Ctrl-D ends it)\n");
    vg_attack *a = NULL; /* a missing table leaves attack_coverage saying so */
    char *user = paths_user_data(), *data = paths_data();
    vg_err err = {0};
    if (vg_attack_load(user, data, &a, &err) != VG_OK)
        a = NULL;
    free(user);
    free(data);
    char *pb = paths_playbooks();
    vg_remote r;
    char where[300] = "a local workspace";
    if (vg_remote_get(c->ws, NULL, &r, &err) == VG_OK)
        snprintf(where, sizeof where, "a replica of team %.64s (tenant %.64s) as %.64s", r.name,
                 r.tenant, r.user);
    mcp_config mc = {
        .actor = c->actor,
        .read_only = opt_get(o, 1, "read-only") != NULL,
        .policy = &c->cf->mcp_policy,
        .sla_ms = config_sla(c->cf),
        .attack = a,
        .playbooks = pb,
        .where = where,
    };
    rc = mcp_serve(c->ws, &mc, stdin, stdout);
    vg_attack_free(a);
    free(pb);
    return rc;
}

int cmd_proposals_ls(cli *c, int argc, char **argv)
{
    opt o[] = {{"json", NULL}};
    char *pos[1];
    int npos, rc;
    vg_id id = "";
    if ((rc = cli_parse(c, argc, argv, o, 1, pos, 1, &npos)) || (rc = cli_open(c, 0)) ||
        (npos == 1 && (rc = cli_case(c, pos[0], id))))
        return rc;
    cop_item *it = NULL;
    size_t n = 0;
    vg_err err = {0};
    if (cop_pending(c->ws, c->actor, npos ? id : NULL, &it, &n, &err) != VG_OK)
        return cli_fail(c, &err);
    if (opt_get(o, 1, "json")) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; i < n; i++) {
            cJSON *j = cJSON_CreateObject();
            cJSON_AddStringToObject(j, "id", it[i].id);
            cJSON_AddStringToObject(j, "type", vg_enum_name(&COP_ACTIONS, it[i].p.action));
            cJSON_AddStringToObject(j, "case", it[i].p.case_id);
            cJSON_AddStringToObject(j, "by", it[i].model);
            cJSON_AddStringToObject(j, "preview", it[i].p.preview);
            cJSON_AddBoolToObject(j, "draft", it[i].draft);
            cJSON_AddItemToObject(j, "params", cJSON_Duplicate(it[i].p.params, true));
            if (it[i].result)
                cJSON_AddStringToObject(j, "held", it[i].result);
            cJSON_AddItemToArray(arr, j);
        }
        out_json(arr);
    } else {
        for (size_t i = 0; i < n; i++) {
            vg_case k;
            long long ref = 0;
            if (vg_case_get(c->ws, it[i].p.case_id, &k, &err) == VG_OK) {
                ref = (long long)k.ref;
                vg_case_clear(&k);
            }
            printf("%s  #%-5lld %-15s ", it[i].id, ref,
                   vg_enum_name(&COP_ACTIONS, it[i].p.action));
            out_safe(c, it[i].p.preview);
            fputs("  (by ", stdout);
            out_safe(c, it[i].model);
            fputs(it[i].draft ? "; a draft: --text or --confirm-text)\n" : ")\n", stdout);
        }
        if (n == 0)
            puts("no proposal is waiting for you");
    }
    cop_items_free(it, n);
    return EXIT_OK;
}

/* The params of id when it is a draft note waiting for the analyst (fresh), else NULL. */
static cJSON *draft_of(cli *c, const char *id)
{
    cop_item *it = NULL;
    size_t n = 0;
    vg_err err = {0};
    cJSON *p = NULL;
    if (cop_pending(c->ws, c->actor, NULL, &it, &n, &err) == VG_OK)
        for (size_t i = 0; i < n && !p; i++)
            if (!strcmp(it[i].id, id) && it[i].draft)
                p = cJSON_Duplicate(it[i].p.params, true);
    cop_items_free(it, n);
    return p;
}

int cmd_proposals_apply(cli *c, int argc, char **argv)
{
    opt o[] = {{"text=", NULL}, {"confirm-text", NULL}, {"edit=", NULL}, {"json", NULL}};
    char *pos[1];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, o, 4, pos, 1, &npos)))
        return rc;
    if (npos != 1)
        return cli_usage(c, "which proposal? (its id: vigil proposals ls)");
    const char *text = opt_get(o, 4, "text"), *edit = opt_get(o, 4, "edit");
    bool confirm = opt_get(o, 4, "confirm-text") != NULL;
    if ((text != NULL) + confirm + (edit != NULL) > 1)
        return cli_usage(c, "--text, --confirm-text and --edit go one at a time");
    if ((rc = cli_open(c, 0)))
        return rc;
    cJSON *edited = NULL;
    if (edit && !(edited = cJSON_Parse(edit)))
        return cli_usage(c, "--edit: not a JSON object of params");
    if (text) {
        edited = cJSON_CreateObject();
        cJSON_AddStringToObject(edited, "text", text);
    }
    if (confirm) { /* the draft, as written, made the analyst's by saying so */
        if (!(edited = draft_of(c, pos[0])))
            return cli_error(c, "proposal %.26s is not a waiting draft note (--confirm-text"
                                " is for those)", pos[0]);
    }
    rc = cli_decide(c, true, NULL, pos[0], edited, false, opt_get(o, 4, "json") != NULL);
    cJSON *draft;
    if (rc == EXIT_FAIL && !edited && (draft = draft_of(c, pos[0]))) { /* say how */
        fprintf(stderr, "  give your words with --text \"...\", or take the draft as written"
                        " with --confirm-text\n");
        cJSON_Delete(draft);
    }
    cJSON_Delete(edited);
    return rc;
}

int cmd_proposals_cancel(cli *c, int argc, char **argv)
{
    opt o[] = {{"json", NULL}};
    char *pos[1];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, o, 1, pos, 1, &npos)))
        return rc;
    if (npos != 1)
        return cli_usage(c, "which proposal? (its id: vigil proposals ls)");
    if ((rc = cli_open(c, 0)))
        return rc;
    return cli_decide(c, true, NULL, pos[0], NULL, true, opt_get(o, 1, "json") != NULL);
}
