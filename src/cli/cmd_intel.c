/*
 * cmd_intel.c — `vigil intel import|ls|rm|stats`: the analyst's offline threat-intel
 * store (intel.h), one file shared by every workspace.
 *
 * These commands write and read the store alone; no workspace is opened, except
 * after an import, to say how much of the current workspace the feeds now know (the
 * point of importing: a value seen months ago lights up now). Where the store is:
 * $VIGIL_INTEL_DB, else [intel] db in the config, else $XDG_DATA_HOME/vigil/intel.db.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "config.h"
#include "paths.h"
#include "vigil/intel.h"
#include "vigil/json.h"
#include "vigil/model.h"
#include "vigil/text.h"

char *cli_intel_path(const cli *c)
{
    const char *env = getenv("VIGIL_INTEL_DB");
    if (env && *env)
        return vg_xstrdup(env);
    if (c->cf && c->cf->intel_db)
        return vg_xstrdup(c->cf->intel_db);
    return paths_intel();
}

/* Open the store (made on first use when create); EXIT_OK, or the error printed.
 * *out is NULL, with EXIT_OK, when there is no store and create is false. */
static int open_store(cli *c, bool create, vg_intel **out)
{
    *out = NULL;
    char *path = cli_intel_path(c);
    vg_err err = {0};
    int rc = EXIT_OK;
    if (create && paths_ensure_parent(path, &err) != VG_OK)
        rc = cli_fail(c, &err);
    else if (vg_intel_open(path, create, out, &err) != VG_OK && err.rc != VG_ENOTFOUND)
        rc = cli_fail(c, &err);
    free(path);
    return rc;
}

/* What an import tells about items it kept as not matchable or skipped: the first
 * few on stderr, then how many more. */
#define NOTES_SHOWN 20
typedef struct notes {
    cli *c;
    int64_t n;
} notes;

static void on_note(void *ud, const char *msg)
{
    notes *nt = ud;
    if (nt->n++ >= NOTES_SHOWN)
        return;
    char safe[1024];
    vg_text_safe(msg, strlen(msg), nt->c->text_flags, safe, sizeof safe);
    fprintf(stderr, "vigil: %s: note: %s\n", nt->c->name, safe);
}

/* After an import: the open cases of the current workspace the feeds know now. */
static void known_here(cli *c)
{
    struct stat sb;
    if (stat(c->db_path, &sb) != 0)
        return;
    vg_ws *ws = NULL;
    vg_err err = {0};
    char *path = cli_intel_path(c);
    if (vg_ws_open(c->db_path, VG_OPEN_READONLY, &ws, &err) == VG_OK &&
        vg_ws_attach_intel(ws, path, &err) == VG_OK) {
        vg_intel_case_hit *h = NULL;
        size_t n = 0;
        int64_t total = 0;
        if (vg_intel_open_cases(ws, 0, 5, &h, &n, &total, &err) == VG_OK && total) {
            printf("known in this workspace: %" PRId64 " open case%s (", total,
                   total == 1 ? "" : "s");
            for (size_t i = 0; i < n; i++)
                printf("%s#%" PRId64 " %" PRId64 " value%s", i ? ", " : "", h[i].ref, h[i].values,
                       h[i].values == 1 ? "" : "s");
            printf("%s)\n", total > (int64_t)n ? ", ..." : "");
        }
        vg_intel_case_hits_free(h, n);
    }
    vg_ws_close(ws);
    free(path);
}

int cmd_intel_import(cli *c, int argc, char **argv)
{
    opt o[] = {{"name=", NULL}, {"tlp=", NULL}, {"format=", NULL}, {"json", NULL}};
    enum { NOPTS = 4 };
    char *pos[256];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, o, NOPTS, pos, 256, &npos)))
        return rc;
    if (npos < 1)
        return cli_usage(c, "which feed files? (STIX bundles, MISP events or manifest.json,"
                            " lists, CSV)");
    vg_intel_import_opts io = {.tlp = -1, .format = VG_INTEL_AUTO};
    const char *v;
    if ((v = opt_get(o, NOPTS, "name"))) {
        if (!vg_intel_name_ok(v))
            return cli_usage(c,
                             "--name: '%s' is not a feed name (1 to 64 letters, digits and"
                             " . _ + -, starting with a letter or digit)",
                             v);
        io.name = v;
    }
    if ((v = opt_get(o, NOPTS, "tlp")) && (io.tlp = vg_intel_tlp_parse(v)) < 0) {
        char list[128];
        vg_enum_list(&VG_TLP, list, sizeof list);
        return cli_usage(c, "--tlp: '%s' is not one of %s (or WHITE)", v, list);
    }
    if ((v = opt_get(o, NOPTS, "format"))) {
        int f = 0;
        while (f < VG_INTEL__NFORMATS && strcmp(VG_INTEL_FORMATS[f], v) != 0)
            f++;
        if (f == VG_INTEL__NFORMATS)
            return cli_usage(c, "--format: '%s' is not one of auto, stix, misp, list, csv", v);
        io.format = (vg_intel_format)f;
    }
    io.max_bytes = c->cf ? c->cf->intel_max_bytes : 0;
    io.max_items = c->cf ? c->cf->intel_max_items : 0;
    notes nt = {c, 0};
    io.note = on_note;
    io.ud = &nt;
    vg_intel *in = NULL;
    if ((rc = open_store(c, true, &in)))
        return rc;
    vg_intel_report rep;
    vg_err err = {0};
    vg_rc r = vg_intel_import(in, (const char *const *)pos, (size_t)npos, &io, &rep, &err);
    vg_intel_close(in);
    if (nt.n > NOTES_SHOWN)
        fprintf(stderr,
                "vigil: %s: note: ... and %" PRId64 " more items not matchable or"
                " skipped (vigil intel stats counts them)\n",
                c->name, nt.n - NOTES_SHOWN);
    if (r != VG_OK) {
        cli_fail(c, &err);
        fprintf(stderr, "vigil: %s: nothing was imported; the intel store is as it was\n", c->name);
        return EXIT_FAIL;
    }
    if (opt_get(o, NOPTS, "json")) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; i < rep.n; i++) {
            const vg_intel_feed_report *f = &rep.feeds[i];
            cJSON *j = cJSON_CreateObject();
            char *name = vg_utf8_repair(f->name);
            cJSON_AddStringToObject(j, "feed", name);
            free(name);
            cJSON_AddStringToObject(j, "format", f->format);
            cJSON_AddNumberToObject(j, "indicators", (double)f->indicators);
            cJSON_AddNumberToObject(j, "matchable", (double)f->matchable);
            cJSON_AddNumberToObject(j, "not_matchable", (double)(f->indicators - f->matchable));
            cJSON_AddNumberToObject(j, "expired", (double)f->expired);
            cJSON_AddNumberToObject(j, "skipped", (double)f->skipped);
            if (f->replaced >= 0)
                cJSON_AddNumberToObject(j, "replaced", (double)f->replaced);
            else
                cJSON_AddNullToObject(j, "replaced");
            cJSON_AddItemToArray(arr, j);
        }
        out_json(arr);
    } else {
        for (size_t i = 0; i < rep.n; i++) {
            const vg_intel_feed_report *f = &rep.feeds[i];
            printf("feed ");
            out_safe(c, f->name);
            printf(" (%s): %" PRId64 " indicators, %" PRId64 " matchable, %" PRId64
                   " not matchable, %" PRId64 " expired",
                   f->format, f->indicators, f->matchable, f->indicators - f->matchable,
                   f->expired);
            if (f->skipped)
                printf(", %" PRId64 " items skipped", f->skipped);
            if (f->replaced >= 0)
                printf("; replaced the %" PRId64 " it held", f->replaced);
            putchar('\n');
        }
        known_here(c);
    }
    vg_intel_report_free(&rep);
    return EXIT_OK;
}

int cmd_intel_ls(cli *c, int argc, char **argv)
{
    opt o[] = {{"json", NULL}};
    char *pos[1];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, o, 1, pos, 0, &npos)))
        return rc;
    vg_intel *in = NULL;
    if ((rc = open_store(c, false, &in)))
        return rc;
    vg_intel_feed *f = NULL;
    size_t n = 0;
    vg_err err = {0};
    if (in && vg_intel_feeds(in, 0, &f, &n, &err) != VG_OK) {
        vg_intel_close(in);
        return cli_fail(c, &err);
    }
    vg_intel_close(in);
    if (opt_get(o, 1, "json")) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; i < n; i++) {
            cJSON *j = cJSON_CreateObject();
            char *s = vg_utf8_repair(f[i].name);
            cJSON_AddStringToObject(j, "name", s);
            free(s);
            cJSON_AddStringToObject(j, "format", f[i].format);
            s = vg_utf8_repair(f[i].source);
            cJSON_AddStringToObject(j, "source", s);
            free(s);
            cJSON_AddStringToObject(j, "hash", f[i].hash);
            if (f[i].tlp >= 0)
                cJSON_AddStringToObject(j, "tlp", vg_enum_name(&VG_TLP, f[i].tlp));
            else
                cJSON_AddNullToObject(j, "tlp");
            char t[40];
            vg_iso8601(f[i].imported_at, t, sizeof t);
            cJSON_AddStringToObject(j, "imported_at", t);
            cJSON_AddNumberToObject(j, "indicators", (double)f[i].indicators);
            cJSON_AddNumberToObject(j, "matchable", (double)f[i].matchable);
            cJSON_AddNumberToObject(j, "not_matchable", (double)(f[i].indicators - f[i].matchable));
            cJSON_AddNumberToObject(j, "expired", (double)f[i].expired);
            cJSON_AddItemToArray(arr, j);
        }
        out_json(arr);
    } else if (!n) {
        puts("(no feeds; vigil intel import FILE adds one)");
    } else {
        int w = 4; /* the NAME column: as wide as the longest name */
        for (size_t i = 0; i < n; i++)
            if ((int)vg_text_width(f[i].name) > w)
                w = (int)vg_text_width(f[i].name);
        printf("%-*s %-6s %10s %10s %8s %-12s %s\n", w, "NAME", "FORMAT", "INDICATORS",
               "MATCHABLE", "EXPIRED", "TLP", "IMPORTED");
        for (size_t i = 0; i < n; i++) {
            char when[32];
            fmt_time(f[i].imported_at, when, sizeof when);
            out_fit(c, f[i].name, w, true);
            printf(" %-6s %10" PRId64 " %10" PRId64 " %8" PRId64 " %-12s %s\n", f[i].format,
                   f[i].indicators, f[i].matchable, f[i].expired,
                   f[i].tlp >= 0 ? vg_enum_name(&VG_TLP, f[i].tlp) : "-", when);
        }
    }
    vg_intel_feeds_free(f, n);
    return EXIT_OK;
}

int cmd_intel_rm(cli *c, int argc, char **argv)
{
    opt o[] = {{"json", NULL}};
    char *pos[1];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, o, 1, pos, 1, &npos)))
        return rc;
    if (npos != 1)
        return cli_usage(c, "which feed? (NAME, as vigil intel ls lists it)");
    vg_intel *in = NULL;
    if ((rc = open_store(c, false, &in)))
        return rc;
    if (!in)
        return cli_error(c, "no feed named '%s': there is no intel store yet",
                         vg_intel_name_ok(pos[0]) ? pos[0] : "?");
    int64_t removed = 0;
    vg_err err = {0};
    vg_rc r = vg_intel_remove(in, pos[0], &removed, &err);
    vg_intel_close(in);
    if (r != VG_OK)
        return cli_fail(c, &err);
    if (opt_get(o, 1, "json")) {
        cJSON *j = cJSON_CreateObject();
        char *s = vg_utf8_repair(pos[0]);
        cJSON_AddStringToObject(j, "removed", s);
        free(s);
        cJSON_AddNumberToObject(j, "indicators", (double)removed);
        out_json(j);
    } else {
        printf("removed feed ");
        out_safe(c, pos[0]);
        printf(" (%" PRId64 " indicators)\n", removed);
    }
    return EXIT_OK;
}

int cmd_intel_stats(cli *c, int argc, char **argv)
{
    opt o[] = {{"json", NULL}};
    char *pos[1];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, o, 1, pos, 0, &npos)))
        return rc;
    vg_intel *in = NULL;
    if ((rc = open_store(c, false, &in)))
        return rc;
    vg_intel_stats s = {0};
    vg_err err = {0};
    if (in && vg_intel_stats_get(in, 0, &s, &err) != VG_OK) {
        vg_intel_close(in);
        return cli_fail(c, &err);
    }
    vg_intel_close(in);
    char *path = cli_intel_path(c);
    if (opt_get(o, 1, "json")) {
        cJSON *j = cJSON_CreateObject();
        char *p = vg_utf8_repair(path);
        cJSON_AddStringToObject(j, "store", p);
        free(p);
        cJSON_AddBoolToObject(j, "exists", in != NULL);
        cJSON_AddNumberToObject(j, "bytes", (double)s.bytes);
        cJSON_AddNumberToObject(j, "feeds", (double)s.feeds);
        cJSON_AddNumberToObject(j, "indicators", (double)s.indicators);
        cJSON_AddNumberToObject(j, "matchable", (double)s.matchable);
        cJSON_AddNumberToObject(j, "not_matchable", (double)s.unmatchable);
        cJSON_AddNumberToObject(j, "expired", (double)s.expired);
        cJSON *bt = cJSON_AddObjectToObject(j, "by_type");
        for (int t = 0; t < VG_ARTIFACT_TYPE.n; t++)
            if (s.by_type[t])
                cJSON_AddNumberToObject(bt, vg_enum_name(&VG_ARTIFACT_TYPE, t),
                                        (double)s.by_type[t]);
        out_json(j);
    } else {
        printf("store       ");
        out_safe(c, path);
        if (in)
            printf(" (%.1f MB)\n", (double)s.bytes / 1e6);
        else
            printf(" (none yet)\n");
        printf("feeds       %" PRId64 "\n", s.feeds);
        printf("indicators  %" PRId64 " (%" PRId64 " matchable, %" PRId64 " not matchable, %" PRId64
               " expired)\n",
               s.indicators, s.matchable, s.unmatchable, s.expired);
        printf("matching    ");
        int shown = 0;
        for (int t = 0; t < VG_ARTIFACT_TYPE.n; t++)
            if (s.by_type[t])
                printf("%s%s %" PRId64, shown++ ? ", " : "", vg_enum_name(&VG_ARTIFACT_TYPE, t),
                       s.by_type[t]);
        puts(shown ? "" : "nothing");
    }
    free(path);
    return EXIT_OK;
}
