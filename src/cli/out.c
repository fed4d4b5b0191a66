/*
 * out.c — option parsing and terminal output for the CLI. Every string that came
 * from data is printed through vg_text_safe here; nothing else prints data.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "vigil/json.h"
#include "vigil/text.h"
#include "vigil/timefmt.h"

int cli_parse(cli *c, int argc, char **argv, opt *opts, int nopts, char **pos, int maxpos,
              int *npos)
{
    *npos = 0;
    bool only_pos = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (only_pos || a[0] != '-' || a[1] == '\0') {
            if (*npos == maxpos)
                return cli_usage(c, "unexpected argument '%s'", a);
            pos[(*npos)++] = argv[i];
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_pos = true;
            continue;
        }
        const char *name = a + (a[1] == '-' ? 2 : 1);
        const char *eq = strchr(name, '=');
        size_t nl = eq ? (size_t)(eq - name) : strlen(name);
        opt *o = NULL;
        for (int k = 0; k < nopts; k++) {
            size_t sl = strcspn(opts[k].spec, "=");
            if (sl == nl && strncmp(opts[k].spec, name, nl) == 0)
                o = &opts[k];
        }
        if (!o)
            return cli_usage(c, "unknown option '%s'", a);
        bool takes = strchr(o->spec, '=') != NULL;
        if (takes) {
            if (eq)
                o->value = eq + 1;
            else if (i + 1 < argc)
                o->value = argv[++i];
            else
                return cli_usage(c, "option --%.*s needs a value", (int)nl, name);
        } else {
            if (eq)
                return cli_usage(c, "option --%.*s takes no value", (int)nl, name);
            o->value = "";
        }
    }
    return EXIT_OK;
}

const char *opt_get(const opt *opts, int nopts, const char *name)
{
    size_t nl = strlen(name);
    for (int k = 0; k < nopts; k++)
        if (strncmp(opts[k].spec, name, nl) == 0 &&
            (opts[k].spec[nl] == '\0' || opts[k].spec[nl] == '='))
            return opts[k].value;
    return NULL;
}

void out_safe(cli *c, const char *s)
{
    char *safe = vg_text_safe_dup(s ? s : "", c->text_flags);
    fputs(safe, stdout);
    free(safe);
}

void out_text(cli *c, const char *s, int indent)
{
    char *safe = vg_text_safe_dup(s ? s : "", c->text_flags | VG_TEXT_MULTILINE);
    for (char *p = safe; *p;) {
        size_t n = strcspn(p, "\n");
        printf("%*s%.*s\n", indent, "", (int)n, p);
        p += n + (p[n] == '\n');
    }
    free(safe);
}

void out_fit(cli *c, const char *s, int cols, bool pad)
{
    char *safe = vg_text_safe_dup(s ? s : "", c->text_flags);
    if (cols <= 0) {
        fputs(safe, stdout);
    } else {
        char *fit = vg_xmalloc((size_t)cols * 4 + 4);
        vg_text_fit(safe, (size_t)cols, pad, c->text_flags & VG_TEXT_ASCII, fit);
        fputs(fit, stdout);
        free(fit);
    }
    free(safe);
}

void out_json(cJSON *v)
{
    char *s = vg_json_print(v);
    if (!s) {
        fputs("vigil: out of memory printing JSON\n", stderr);
        abort();
    }
    puts(s);
    free(s);
    cJSON_Delete(v);
}

void fmt_time(int64_t ms, char *out, size_t outsz) { vg_local_time(ms, out, outsz); }

void fmt_age(int64_t ms, char *out, size_t outsz)
{
    vg_age(ms, (int64_t)time(NULL) * 1000, out, outsz);
}
