/*
 * cmd_handoff.c — case work between analysts: `vigil task log`, `vigil mentions`
 * and `vigil handoff` (vigil/handoff.h), and the warning a note or a task log gets
 * when it mentions a user the workspace does not know (the text is added all the
 * same: a typo in a name must not lose the analyst's words).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "vigil/buf.h"
#include "vigil/handoff.h"
#include "vigil/query.h"
#include "vigil/text.h"
#include "vigil/timefmt.h"

#define MAX_LOG (1 << 20) /* the door's cap on a task log entry */

void cli_mention_warn(cli *c, const char *text)
{
    char **unknown = NULL;
    size_t n = 0;
    vg_err err = {0};
    if (vg_mentions_unknown(c->ws, text, &unknown, &n, &err) != VG_OK) {
        cli_fail(c, &err);
        return;
    }
    char **known = NULL;
    size_t nk = 0;
    if (n && vg_users_known(c->ws, &known, &nk, &err) != VG_OK)
        nk = 0;
    vg_buf users;
    vg_buf_init(&users, 4096);
    for (size_t i = 0; i < nk; i++)
        if ((i && vg_buf_adds(&users, ", ")) || vg_buf_adds(&users, known[i]))
            break;
    for (size_t i = 0; i < n; i++) {
        fprintf(stderr, "vigil: %s: warning: @", c->name);
        char *safe = vg_text_safe_dup(unknown[i], c->text_flags);
        fputs(safe, stderr);
        free(safe);
        fputs(" is not a user this workspace knows (added all the same; known: ", stderr);
        safe = vg_text_safe_dup(nk ? vg_buf_str(&users) : "nobody yet", c->text_flags);
        fputs(safe, stderr);
        free(safe);
        fputs(")\n", stderr);
    }
    vg_buf_free(&users);
    vg_strings_free(known, nk);
    vg_strings_free(unknown, n);
}

/* TEXT... joined by spaces, or stdin for a lone "-", into b (capped at MAX_LOG). */
static int gather(cli *c, char **pos, int npos, vg_buf *b, const char *what)
{
    vg_err err = {0};
    if (npos == 1 && strcmp(pos[0], "-") == 0) {
        if (vg_buf_read_file(b, stdin, what, &err) != VG_OK)
            return cli_fail(c, &err);
        return EXIT_OK;
    }
    for (int i = 0; i < npos; i++)
        if ((i > 0 && vg_buf_adds(b, " ")) || vg_buf_adds(b, pos[i]))
            return cli_error(c, "%s: longer than %d bytes", what, MAX_LOG);
    return EXIT_OK;
}

int cmd_task_log(cli *c, int argc, char **argv)
{
    char *pos[256];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, NULL, 0, pos, 256, &npos)))
        return rc;
    if (npos < 3)
        return cli_usage(c, "give a case, a task (its number or id prefix) and the text"
                            " (or - to read it from stdin)");
    vg_buf text;
    vg_buf_init(&text, MAX_LOG);
    if ((rc = gather(c, pos + 2, npos - 2, &text, "task log (stdin)"))) {
        vg_buf_free(&text);
        return rc;
    }
    vg_id id;
    vg_task t;
    vg_err err = {0};
    if ((rc = cli_open(c, 0)) || (rc = cli_case(c, pos[0], id))) {
        vg_buf_free(&text);
        return rc;
    }
    if (vg_task_resolve(c->ws, id, pos[1], &t, &err) != VG_OK) {
        vg_buf_free(&text);
        return cli_fail(c, &err);
    }
    rc = cli_apply(c, vg_op_task_log(id, t.id, vg_buf_str(&text)));
    if (rc == EXIT_OK)
        cli_mention_warn(c, vg_buf_str(&text));
    vg_task_clear(&t);
    vg_buf_free(&text);
    return rc;
}

/* --since's value (dflt when absent) as ms; a usage error names what is wrong. */
static int since_opt(cli *c, const char *v, const char *dflt, int64_t now, int64_t *out)
{
    vg_err err = {0};
    if (!v && !dflt) {
        *out = 0;
        return EXIT_OK;
    }
    if (vg_parse_when("--since", v ? v : dflt, now, 0, out, &err) != VG_OK)
        return cli_usage(c, "%s", err.msg);
    return EXIT_OK;
}

int cmd_mentions(cli *c, int argc, char **argv)
{
    opt o[] = {{"since=", NULL}, {"json", NULL}};
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, o, 2, NULL, 0, &npos)))
        return rc;
    int64_t now = vg_now_ms(), since;
    if ((rc = since_opt(c, opt_get(o, 2, "since"), NULL, now, &since)) || (rc = cli_open(c, 0)))
        return rc;
    vg_mention *m = NULL;
    size_t n = 0;
    vg_err err = {0};
    if (vg_mentions_of(c->ws, c->actor, since, &m, &n, &err) != VG_OK)
        return cli_fail(c, &err);
    if (opt_get(o, 2, "json")) {
        cJSON *a = cJSON_CreateArray();
        for (size_t i = 0; i < n; i++)
            cJSON_AddItemToArray(a, vg_mention_json(&m[i]));
        out_json(a);
    } else if (n == 0) {
        printf("no mentions of @");
        out_safe(c, c->actor);
        printf("%s\n", since ? " in that time" : "");
    }
    for (size_t i = 0; i < n && !opt_get(o, 2, "json"); i++) {
        char when[32];
        fmt_time(m[i].at, when, sizeof when);
        printf("%s#%lld  %s  ", i ? "\n" : "", (long long)m[i].case_ref, when);
        out_safe(c, m[i].author);
        if (m[i].task_log) {
            printf("  on task '");
            out_safe(c, m[i].task_title);
            printf("'");
        } else {
            printf("  in a note");
        }
        printf("  (");
        out_fit(c, m[i].case_title, 40, false);
        printf(")\n");
        out_text(c, m[i].body, 2);
    }
    vg_mentions_free(m, n);
    return EXIT_OK;
}

int cmd_handoff(cli *c, int argc, char **argv)
{
    opt o[] = {{"since=", NULL}, {"json", NULL}};
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, o, 2, NULL, 0, &npos)))
        return rc;
    vg_handoff_opts ho = {.now = vg_now_ms(), .sla_window = 8 * 3600000LL};
    if ((rc = since_opt(c, opt_get(o, 2, "since"), "8h", ho.now, &ho.since)) ||
        (rc = cli_open(c, 0)))
        return rc;
    ho.sla_ms = config_sla(c->cf);
    ho.reader = c->actor; /* the remote's user, once the workspace is open */
    vg_handoff_item *it = NULL;
    size_t n = 0;
    vg_err err = {0};
    if (vg_handoff(c->ws, &ho, &it, &n, &err) != VG_OK)
        return cli_fail(c, &err);
    if (opt_get(o, 2, "json")) {
        out_json(vg_handoff_json(&ho, it, n));
        vg_handoff_free(it, n);
        return EXIT_OK;
    }
    char since[32];
    fmt_time(ho.since, since, sizeof since);
    printf("Handoff for ");
    out_safe(c, c->actor);
    printf(": what changed since %s\n", since);
    if (n == 0)
        printf("\nnothing changed since then, and nothing is waiting\n");
    int cols = c->width > 40 ? c->width - 36 : 0;
    for (size_t i = 0; i < n; i++) {
        const vg_handoff_item *x = &it[i];
        if (i == 0 || x->kind != it[i - 1].kind) {
            size_t count = 0;
            for (size_t k = i; k < n && it[k].kind == x->kind; k++)
                count++;
            printf("\n%s (%zu)\n", VG_HANDOFF_TITLES[x->kind], count);
        }
        char when[32], ref[24] = "-";
        fmt_time(x->at, when, sizeof when);
        if (x->case_ref)
            snprintf(ref, sizeof ref, "#%lld", (long long)x->case_ref);
        printf("  %-16s %-5s ", when, ref);
        out_fit(c, *x->actor ? x->actor : "-", 10, true);
        putchar(' ');
        out_fit(c, x->text, cols, false);
        putchar('\n');
    }
    vg_handoff_free(it, n);
    return EXIT_OK;
}
