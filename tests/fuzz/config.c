/*
 * config.c — the config file parser (src/cli/config.c, over libinih), which is
 * strict on purpose: an unknown section, key, theme, key name or command is
 * refused with the entry named.
 *
 * The input is a config file's text. Properties: a refusal names the file; what
 * is accepted is what the checks allow (every binding a key and a command, every
 * view a query that parses, the autonomy policy `auto` only for the actions that
 * may have it, the limits kept).
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"
#include "vigil/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0; /* fmemopen refuses an empty buffer */
    FILE *f = fmemopen((void *)data, size, "r");
    fz_check(f != NULL, "fmemopen");
    config cf = {0};
    cop_policy_default(&cf.copilot.policy);
    char msg[1024] = "";
    int rc = config_parse(&cf, f, "fuzz.conf", msg, sizeof msg);
    fclose(f);
    if (rc) {
        fz_check(strncmp(msg, "fuzz.conf", 9) == 0, "a refusal that names no file: %s", msg);
    } else {
        const tui_config *t = &cf.tui;
        fz_check(t->nkeys >= 0 && t->nkeys <= TUI_MAX_KEYS, "%d bindings", t->nkeys);
        fz_check(t->nviews >= 0 && t->nviews <= TUI_MAX_VIEWS, "%d views", t->nviews);
        for (int i = 0; i < t->nkeys; i++)
            fz_check(tui_key_valid(t->keys[i].key) && tui_command_valid(t->keys[i].command),
                     "binding '%s' = '%s' accepted", t->keys[i].key, t->keys[i].command);
        for (int i = 0; i < t->nviews; i++) {
            vg_case_query q;
            vg_err err = {0};
            fz_check(vg_case_query_parse(t->views[i].query, NULL, &q, &err) == VG_OK,
                     "view '%s' accepted with a bad query: %s", t->views[i].name, err.msg);
            vg_case_query_clear(&q);
        }
        for (int a = 0; a < COP__NACTIONS; a++) {
            int mode = cf.copilot.policy.mode[a];
            fz_check(mode == COP_REVIEW || mode == COP_REJECT ||
                         (mode == COP_AUTO && (a == COP_ADD_ARTIFACT || a == COP_ADD_EVENT ||
                                               a == COP_FIND_RELATED)),
                     "%s: mode %d accepted", vg_enum_name(&COP_ACTIONS, a), mode);
        }
        fz_check(config_sla(&cf) != NULL, "no SLA targets");
    }
    config_free(&cf);
    return 0;
}
