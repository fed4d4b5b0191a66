/*
 * cmd_import.c — `vigil import`: alerts in from files or standard input.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "import.h"
#include "vigil/attack.h"
#include "vigil/json.h"
#include "vigil/text.h"

#define MAX_SHOWN 50 /* rejected records listed one by one; the rest are counted */

typedef struct shown {
    cli *c;
    int64_t n;
} shown;

static void on_reject(void *ud, const char *file, int64_t line, const char *why)
{
    shown *s = ud;
    if (s->n++ >= MAX_SHOWN)
        return;
    char f[256], w[512];
    vg_text_safe(file, strlen(file), s->c->text_flags, f, sizeof f);
    vg_text_safe(why, strlen(why), s->c->text_flags, w, sizeof w);
    if (line > 0)
        fprintf(stderr, "vigil: import: %s:%" PRId64 ": %s\n", f, line, w);
    else
        fprintf(stderr, "vigil: import: %s\n", w);
}

int cmd_import(cli *c, int argc, char **argv)
{
    opt o[] = {{"format=", NULL}, {"strict", NULL}, {"no-correlate", NULL}, {"json", NULL}};
    enum { NOPT = 4 };
    char *pos[256];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, o, NOPT, pos, 256, &npos)))
        return rc;
    if (npos == 0)
        return cli_usage(c, "name a file to import (- reads standard input)");
    imp_opts io = {.format = IMP_AUTO, .correlate = !opt_get(o, NOPT, "no-correlate"),
                   .strict = opt_get(o, NOPT, "strict") != NULL,
                   .window_ms = c->cf ? c->cf->import_window_ms : 0,
                   .bucket_ms = c->cf ? c->cf->import_bucket_ms : 0,
                   .home = c->cf ? c->cf->import_home : NULL};
    const char *fmt = opt_get(o, NOPT, "format");
    if (fmt) {
        int i = 0;
        while (i < IMP_NFORMATS && strcmp(imp_format_names[i], fmt) != 0)
            i++;
        if (i == IMP_NFORMATS)
            return cli_usage(c, "--format: '%s' is not one of auto, native, ecs, wazuh, suricata,"
                             " ocsf", fmt);
        io.format = (imp_format)i;
    }
    vg_attack *attack = NULL;
    if (cli_attack(c, &attack) != EXIT_OK) /* the error is printed; alerts still come in */
        fprintf(stderr, "vigil: import: going on without mapping rule names to ATT&CK\n");
    if ((rc = cli_open(c, VG_OPEN_CREATE))) {
        vg_attack_free(attack);
        return rc;
    }
    io.attack = attack;
    shown s = {.c = c};
    io.reject = on_reject;
    io.ud = &s;
    imp_stats st = {.co.window_ms = io.window_ms,
                    .co.infra_hosts = c->cf ? c->cf->import_infra_hosts : 0};
    vg_err err = {0};
    vg_rc r = imp_files(c->ws, pos, npos, &io, &st, &err);
    vg_attack_free(attack);
    if (s.n > MAX_SHOWN)
        fprintf(stderr, "vigil: import: ... and %" PRId64 " more rejected records\n",
                s.n - MAX_SHOWN);
    if (r != VG_OK) {
        rc = cli_fail(c, &err);
        if (io.strict || r == VG_EDB)
            fprintf(stderr, "vigil: import: nothing was stored\n");
        imp_stats_free(&st);
        return rc;
    }
    if (opt_get(o, NOPT, "json")) {
        cJSON *j = imp_stats_json(&st);
        out_json(j);
    } else {
        printf("%" PRId64 " records read, %" PRId64 " alerts stored, %" PRId64
               " duplicates merged, %" PRId64 " cases created, %zu cases updated, %" PRId64
               " records rejected",
               st.read, st.stored, st.merged, st.co.cases_created, st.co.nupdated, st.rejected);
        if (st.already)
            printf(", %" PRId64 " already imported", st.already);
        if (st.skipped)
            printf(", %" PRId64 " non-alert events skipped", st.skipped);
        putchar('\n');
        if (st.co.infra_found) {
            printf("shared infrastructure, on alerts of more than %d hosts, joins no case:",
                   st.co.infra_hosts > 0 ? st.co.infra_hosts : VG_INFRA_HOSTS);
            for (int64_t i = 0; i < st.co.infra_found && i < 8; i++) {
                fputs(i ? ", " : " ", stdout);
                out_safe(c, st.co.infra[i]);
            }
            if (st.co.infra_found > 8)
                printf(" and %" PRId64 " more", st.co.infra_found - 8);
            putchar('\n');
        }
        if (imp_out_of_order(&st))
            printf("the file is not in time order (%" PRId64 " alerts more than the correlation"
                   " window from the one before them): correlation joins cases in the order it"
                   " reads, so in time order the same alerts make fewer cases\n",
                   st.out_of_order);
    }
    bool clean = st.rejected == 0 && st.files_failed == 0;
    imp_stats_free(&st);
    return clean ? EXIT_OK : EXIT_FAIL;
}
