/*
 * cmd_playbook.c — `vigil playbook ...`: lint files, list and show the library and
 * the workspace's copies, import (a file, a library playbook or a signed pack),
 * edit, export (vigil's format or CACAO 2.0), remove, apply to a case, suggest for
 * a case, and make keys and packs.
 *
 * The library is read-only and comes from paths_playbooks(); every write to the
 * workspace is an op through the door (playbook.import/set/remove, and task.add +
 * playbook.apply for an apply). Files read are capped (VG_PB_MAX_FILE).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "editor.h"
#include "vigil/keys.h"
#include "vigil/attack.h"
#include "paths.h"
#include "vigil/buf.h"
#include "vigil/json.h"
#include "vigil/pack.h"
#include "vigil/playbook.h"
#include "vigil/query.h"
#include "vigil/text.h"

/* Read a whole file (at most VG_PB_MAX_FILE bytes) into b. */
static vg_rc read_capped(const char *path, vg_buf *b, vg_err *err)
{
    vg_buf_init(b, VG_PB_MAX_FILE);
    FILE *f = fopen(path, "rb");
    if (!f)
        return vg_fail(err, VG_EIO, "%s: %s", path, strerror(errno));
    vg_rc rc = vg_buf_read_file(b, f, path, err);
    fclose(f);
    return rc;
}

/* Write text to path (mode for a new file), or to stdout when path is NULL or "-". */
static int write_out(cli *c, const char *path, const char *text, mode_t mode, bool excl)
{
    if (!path || strcmp(path, "-") == 0) {
        fputs(text, stdout);
        return EXIT_OK;
    }
    int fd = open(path, O_WRONLY | O_CREAT | (excl ? O_EXCL : O_TRUNC), mode);
    if (fd < 0)
        return cli_error(c, "%s: %s", path, strerror(errno));
    size_t len = strlen(text), off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            return cli_error(c, "%s: %s", path, strerror(e));
        }
        off += (size_t)w;
    }
    if (close(fd) != 0)
        return cli_error(c, "%s: %s", path, strerror(errno));
    return EXIT_OK;
}

/* cli_fail with more words after the message; all of it is made safe (messages
 * quote what files hold). */
static int fail_more(cli *c, const vg_err *err, const char *more)
{
    vg_err e = *err;
    size_t l = strlen(e.msg), m = strlen(more);
    if (m > sizeof e.msg - 1 - l)
        m = sizeof e.msg - 1 - l;
    memcpy(e.msg + l, more, m);
    e.msg[l + m] = '\0';
    return cli_fail(c, &e);
}

/* The library and the workspace copy named id (the copy wins). ws may be NULL. */
static int find_pb(cli *c, const char *id, vg_playbook *out)
{
    char *lib = paths_playbooks();
    vg_err err = {0};
    vg_rc rc = vg_playbook_find(c->ws, lib, id, out, &err);
    free(lib);
    return rc == VG_OK ? EXIT_OK : cli_fail(c, &err);
}

/* The common start of a subcommand on the workspace: parse options, require
 * exactly `want` positionals (`what` says which when they are not there) and open
 * the workspace. */
static int ws_args(cli *c, int argc, char **argv, opt *o, int no, char **pos, int want,
                   const char *what)
{
    int npos, rc = cli_parse(c, argc, argv, o, no, pos, want, &npos);
    if (rc)
        return rc;
    if (npos != want)
        return cli_usage(c, "%s", what);
    return cli_open(c, 0);
}

/* ---- lint, ls, show ------------------------------------------------------------------ */

/* A playbook's techniques against the ATT&CK table in use; EXIT_OK or the error. */
static int check_attack(cli *c, const vg_playbook *p, const char *where)
{
    vg_attack *a = NULL;
    int rc = cli_attack(c, &a);
    vg_err err = {0};
    if (rc == EXIT_OK && vg_playbook_check_attack(p, a, where, &err) != VG_OK)
        rc = cli_fail(c, &err);
    vg_attack_free(a);
    return rc;
}

int cmd_pb_lint(cli *c, int argc, char **argv)
{
    char *pos[256];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, NULL, 0, pos, 256, &npos)))
        return rc;
    if (npos == 0)
        return cli_usage(c, "lint which files?");
    int bad = 0;
    for (int i = 0; i < npos; i++) {
        vg_playbook p;
        vg_err err = {0};
        if (vg_playbook_load(pos[i], &p, &err) != VG_OK) {
            cli_fail(c, &err);
            bad++;
            continue;
        }
        if (check_attack(c, &p, pos[i]) != EXIT_OK) {
            vg_playbook_clear(&p);
            bad++;
            continue;
        }
        printf("ok  ");
        out_safe(c, pos[i]);
        printf(" (%s, %zu tasks)\n", p.id, p.ntasks);
        vg_playbook_clear(&p);
    }
    return bad ? EXIT_FAIL : EXIT_OK;
}

static cJSON *pb_summary_json(const vg_playbook *p)
{
    cJSON *j = vg_playbook_json(p);
    cJSON_DeleteItemFromObjectCaseSensitive(j, "tasks");
    cJSON_AddNumberToObject(j, "tasks", (double)p->ntasks);
    cJSON_AddStringToObject(j, "where", p->library ? "library" : "workspace");
    char *o = vg_utf8_repair(p->origin ? p->origin : "");
    cJSON_AddStringToObject(j, "origin", o);
    free(o);
    return j;
}

int cmd_pb_ls(cli *c, int argc, char **argv)
{
    opt o[] = {{"json", NULL}};
    char *pos[1];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, o, 1, pos, 0, &npos)) || (rc = cli_open(c, 0)))
        return rc;
    vg_playbook *ws = NULL, *lib = NULL;
    size_t nws = 0, nlib = 0;
    vg_err err = {0};
    char *dir = paths_playbooks();
    if (vg_playbooks_of_ws(c->ws, &ws, &nws, &err) != VG_OK ||
        vg_playbook_library(dir, &lib, &nlib, &err) != VG_OK) {
        rc = cli_fail(c, &err);
        goto out;
    }
    if (opt_get(o, 1, "json")) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; i < nws; i++)
            cJSON_AddItemToArray(arr, pb_summary_json(&ws[i]));
        for (size_t i = 0; i < nlib; i++)
            cJSON_AddItemToArray(arr, pb_summary_json(&lib[i]));
        out_json(arr);
        goto out;
    }
    printf("%-28s %-8s %-10s %5s  %-14s %s\n", "ID", "VERSION", "WHERE", "TASKS", "CATEGORY", "NAME");
    for (int pass = 0; pass < 2; pass++) {
        vg_playbook *p = pass ? lib : ws;
        for (size_t i = 0, n = pass ? nlib : nws; i < n; i++) {
            bool shadowed = false;
            for (size_t k = 0; pass && k < nws; k++)
                shadowed |= strcmp(ws[k].id, p[i].id) == 0;
            out_fit(c, p[i].id, 28, true);
            putchar(' ');
            out_fit(c, p[i].version, 8, true);
            printf(" %-10s %5zu  ", shadowed ? "library*" : pass ? "library" : "workspace",
                   p[i].ntasks);
            out_fit(c, p[i].category, 14, true);
            putchar(' ');
            out_fit(c, p[i].name, c->width > 80 ? c->width - 72 : 0, false);
            putchar('\n');
        }
    }
    if (nws + nlib == 0)
        printf("(no playbooks: the library at %s is empty)\n", dir);
    for (size_t k = 0; k < nws; k++)
        for (size_t i = 0; i < nlib; i++)
            if (strcmp(ws[k].id, lib[i].id) == 0) {
                puts("* the workspace copy of the same id is the one show and apply use");
                goto out;
            }
out:
    free(dir);
    vg_playbooks_free(ws, nws);
    vg_playbooks_free(lib, nlib);
    return rc;
}

int cmd_pb_show(cli *c, int argc, char **argv)
{
    opt o[] = {{"json", NULL}};
    char *pos[1];
    vg_playbook p;
    int rc = ws_args(c, argc, argv, o, 1, pos, 1, "which playbook? (ID)");
    if (rc || (rc = find_pb(c, pos[0], &p)))
        return rc;
    if (opt_get(o, 1, "json")) {
        cJSON *j = vg_playbook_json(&p);
        cJSON_AddStringToObject(j, "where", p.library ? "library" : "workspace");
        char *or = vg_utf8_repair(p.origin ? p.origin : "");
        cJSON_AddStringToObject(j, "origin", or);
        free(or);
        out_json(j);
        vg_playbook_clear(&p);
        return EXIT_OK;
    }
    out_safe(c, p.name);
    printf("\n  id          %s\n  version     ", p.id);
    out_safe(c, p.version);
    printf("\n  category    ");
    out_safe(c, p.category);
    printf("\n  severity    %s\n  techniques  ",
           p.severity_hint >= 0 ? vg_enum_name(&VG_SEVERITY, p.severity_hint) : "-");
    for (size_t i = 0; i < p.ntechniques; i++)
        printf("%s%s", i ? ", " : "", p.techniques[i]);
    printf("%s\n  where       %s (", p.ntechniques ? "" : "-",
           p.library ? "library, read-only" : "workspace copy");
    out_safe(c, p.origin ? p.origin : "");
    printf(")\n\n");
    out_text(c, p.description, 2);
    for (int ph = 0; ph < VG_PHASE.n; ph++) {
        int k = 0;
        for (size_t i = 0; i < p.ntasks; i++) {
            if (p.tasks[i].phase != ph)
                continue;
            if (k++ == 0)
                printf("\n%s\n", VG_PHASE.names[ph]);
            printf("  %2d. %s", k, p.tasks[i].mandatory ? "[mandatory] " : "");
            out_safe(c, p.tasks[i].title);
            putchar('\n');
            out_text(c, p.tasks[i].description, 6);
        }
    }
    vg_playbook_clear(&p);
    return EXIT_OK;
}

/* ---- workspace copies ------------------------------------------------------------------ */

/* Import playbooks p[0..n) as workspace copies in one batch: all or nothing. An id
 * already in the workspace is refused unless replace. */
static int import_all(cli *c, vg_playbook *p, size_t n, const char *origin, bool replace)
{
    vg_err err = {0};
    if (vg_batch_begin(c->ws, &err) != VG_OK)
        return cli_fail(c, &err);
    for (size_t i = 0; i < n; i++) {
        vg_op *op = vg_op_playbook_put("playbook.import", &p[i], origin);
        vg_rc rc = vg_apply(c->ws, op, &err);
        vg_op_free(op);
        if (rc == VG_EEXIST && replace) {
            op = vg_op_playbook_put("playbook.set", &p[i], origin);
            rc = vg_apply(c->ws, op, &err);
            vg_op_free(op);
        }
        if (rc != VG_OK) {
            vg_batch_rollback(c->ws);
            if (rc == VG_EEXIST)
                return cli_error(c, "playbook '%s' is already in the workspace; nothing imported"
                                    " (--replace overwrites it, `vigil playbook edit %s` changes it)",
                                 p[i].id, p[i].id);
            return cli_fail(c, &err);
        }
    }
    if (vg_batch_commit(c->ws, &err) != VG_OK)
        return cli_fail(c, &err);
    for (size_t i = 0; i < n; i++)
        printf("imported %s (%zu tasks) into the workspace\n", p[i].id, p[i].ntasks);
    return EXIT_OK;
}

static char *trusted_text(const char *path, vg_err *err, vg_rc *rc)
{
    vg_buf b;
    *rc = VG_OK;
    if (access(path, F_OK) != 0) /* no file: nobody is trusted */
        return vg_xstrdup("");
    if ((*rc = read_capped(path, &b, err)) != VG_OK) {
        vg_buf_free(&b);
        return NULL;
    }
    char *s = vg_buf_take(&b);
    return s ? s : vg_xstrdup("");
}

static int import_pack(cli *c, const char *path, const char *text, size_t len, bool allow_unsigned,
                       bool replace)
{
    vg_err err = {0};
    vg_rc rc;
    char *tpath = paths_trusted_keys(), *trusted = trusted_text(tpath, &err, &rc);
    if (trusted) { /* and the keys of `vigil key trust`, and one's own */
        char *more = cli_pack_trusted();
        size_t a = strlen(trusted), b = strlen(more);
        trusted = vg_xrealloc(trusted, a + b + 2);
        trusted[a] = '\n';
        memcpy(trusted + a + 1, more, b + 1);
        free(more);
    }
    vg_playbook *p = NULL;
    size_t n = 0;
    vg_pack_info info;
    int out;
    if (rc != VG_OK) {
        out = cli_fail(c, &err);
    } else if (vg_pack_open(text, len, path, trusted, tpath, allow_unsigned, &info, &p, &n,
                            &err) != VG_OK) {
        out = fail_more(c, &err, "; nothing imported");
    } else {
        char origin[PATH_MAX + 128];
        snprintf(origin, sizeof origin, "pack %s %s%s", path,
                 info.is_signed ? "signed by " : "UNSIGNED",
                 info.is_signed ? info.signer : "");
        if (!info.is_signed)
            fprintf(stderr,
                    "vigil: %s: WARNING: %s is NOT SIGNED: --allow-unsigned skipped the signature"
                    " check, so nothing says who wrote these %zu playbooks or that they are"
                    " unchanged\n", c->name, path, n);
        out = import_all(c, p, n, origin, replace);
        if (out == EXIT_OK && info.is_signed)
            printf("pack %s: signature verified (%s)\n", path, info.signer);
    }
    vg_playbooks_free(p, n);
    free(trusted);
    free(tpath);
    return out;
}

int cmd_pb_import(cli *c, int argc, char **argv)
{
    opt o[] = {{"replace", NULL}, {"allow-unsigned", NULL}};
    char *pos[64];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, o, 2, pos, 64, &npos)))
        return rc;
    if (npos == 0)
        return cli_usage(c, "import what? (FILE, PACK or a library playbook's ID)");
    if ((rc = cli_open(c, 0)))
        return rc;
    bool replace = opt_get(o, 2, "replace"), unsigned_ok = opt_get(o, 2, "allow-unsigned");
    for (int i = 0; i < npos && rc == EXIT_OK; i++) {
        vg_err err = {0};
        vg_playbook p;
        if (access(pos[i], F_OK) != 0 && !strchr(pos[i], '/')) { /* a library id */
            char *lib = paths_playbooks();
            vg_rc r = vg_playbook_find(NULL, lib, pos[i], &p, &err);
            free(lib);
            if (r != VG_OK) {
                vg_fail(&err, VG_ENOTFOUND, "%s: no such file, and no library playbook of that id",
                        pos[i]);
                return cli_fail(c, &err);
            }
            char origin[128];
            snprintf(origin, sizeof origin, "library %s v%.32s", p.id, p.version);
            rc = import_all(c, &p, 1, origin, replace);
            vg_playbook_clear(&p);
            continue;
        }
        vg_buf b;
        if (read_capped(pos[i], &b, &err) != VG_OK) {
            vg_buf_free(&b);
            return cli_fail(c, &err);
        }
        if (b.len >= strlen(VG_PACK_MAGIC) && memcmp(b.data, VG_PACK_MAGIC, strlen(VG_PACK_MAGIC)) == 0) {
            rc = import_pack(c, pos[i], b.data, b.len, unsigned_ok, replace);
        } else if (vg_playbook_parse(vg_buf_str(&b), b.len, pos[i], &p, &err) != VG_OK) {
            rc = cli_fail(c, &err);
        } else if ((rc = check_attack(c, &p, pos[i]))) {
            vg_playbook_clear(&p);
        } else {
            char real[PATH_MAX], origin[PATH_MAX + 8];
            snprintf(origin, sizeof origin, "file %s", realpath(pos[i], real) ? real : pos[i]);
            rc = import_all(c, &p, 1, origin, replace);
            vg_playbook_clear(&p);
        }
        vg_buf_free(&b);
    }
    return rc;
}

/* The workspace copy named id; a library playbook is refused (read-only). */
static int ws_copy(cli *c, const char *id, vg_playbook *p)
{
    int rc = find_pb(c, id, p);
    if (rc == EXIT_OK && p->library) {
        vg_playbook_clear(p);
        vg_err err = {0};
        vg_fail(&err, VG_EINVAL, "'%s' is a library playbook, which is read-only; `vigil playbook"
                                 " import %s` makes a workspace copy to change", id, id);
        return cli_fail(c, &err);
    }
    return rc;
}

int cmd_pb_edit(cli *c, int argc, char **argv)
{
    char *pos[1];
    vg_playbook old, neu;
    int rc = ws_args(c, argc, argv, NULL, 0, pos, 1, "which playbook? (ID)");
    if (rc || (rc = ws_copy(c, pos[0], &old)))
        return rc;
    char path[PATH_MAX];
    if (ed_tmpfile(path, sizeof path, "playbook", ".json") != 0) {
        vg_playbook_clear(&old);
        return cli_error(c, "making a temporary file: %s", strerror(errno));
    }
    cJSON *j = vg_playbook_json(&old);
    char *before = vg_json_pretty(j);
    cJSON_Delete(j);
    vg_buf b;
    vg_err err = {0};
    bool keep = true; /* the edited file stays when it could not be saved */
    if ((rc = write_out(c, path, before, 0600, false)))
        goto out;
    if (ed_run(path, NULL, NULL, NULL) != 0) {
        rc = cli_error(c, "the editor failed; %s is unchanged (your edit: %s)", old.id, path);
        goto out;
    }
    if (read_capped(path, &b, &err) != VG_OK) {
        vg_buf_free(&b);
        rc = cli_fail(c, &err);
        goto out;
    }
    bool same = strcmp(vg_buf_str(&b), before) == 0;
    vg_rc pr = same ? VG_OK : vg_playbook_parse(vg_buf_str(&b), b.len, path, &neu, &err);
    vg_buf_free(&b);
    if (same) {
        printf("no change to %s\n", old.id);
        keep = false;
    } else if (pr != VG_OK) {
        char more[PATH_MAX + 128];
        snprintf(more, sizeof more, "; the old version of %s is kept (your edit: %s)", old.id, path);
        rc = fail_more(c, &err, more);
    } else if (check_attack(c, &neu, path) != EXIT_OK) {
        fprintf(stderr, "vigil: playbook edit: the old version of %s is kept (your edit: %s)\n",
                old.id, path);
        rc = EXIT_FAIL;
        vg_playbook_clear(&neu);
    } else if (strcmp(neu.id, old.id) != 0) {
        rc = cli_error(c, "the id changed from '%s' to '%s'; an edit keeps the id (import the file"
                          " as a new playbook instead: %s)", old.id, neu.id, path);
        vg_playbook_clear(&neu);
    } else {
        rc = cli_apply(c, vg_op_playbook_put("playbook.set", &neu, old.origin));
        if (rc == EXIT_OK) {
            printf("saved %s (%zu tasks)\n", neu.id, neu.ntasks);
            keep = false;
        }
        vg_playbook_clear(&neu);
    }
out:
    if (!keep)
        unlink(path);
    free(before);
    vg_playbook_clear(&old);
    return rc;
}

int cmd_pb_export(cli *c, int argc, char **argv)
{
    opt o[] = {{"format=", NULL}, {"o=", NULL}};
    char *pos[1];
    vg_playbook p;
    int rc = ws_args(c, argc, argv, o, 2, pos, 1, "which playbook? (ID)");
    const char *fmt = opt_get(o, 2, "format");
    bool cacao = fmt && strcmp(fmt, "cacao") == 0;
    if (!rc && fmt && !cacao && strcmp(fmt, "vigil") != 0)
        return cli_usage(c, "--format: '%s' is not one of vigil, cacao", fmt);
    if (rc || (rc = find_pb(c, pos[0], &p)))
        return rc;
    /* SOURCE_DATE_EPOCH pins CACAO's created/modified, for reproducible exports */
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    cJSON *j = cacao ? vg_playbook_cacao(&p, sde && *sde ? strtoll(sde, NULL, 10) * 1000 : vg_now_ms())
                     : vg_playbook_json(&p);
    char *text = vg_json_pretty(j);
    rc = write_out(c, opt_get(o, 2, "o"), text, 0644, false);
    free(text);
    cJSON_Delete(j);
    vg_playbook_clear(&p);
    return rc;
}

int cmd_pb_rm(cli *c, int argc, char **argv)
{
    char *pos[1];
    vg_playbook p;
    int rc = ws_args(c, argc, argv, NULL, 0, pos, 1, "which playbook? (ID)");
    if (rc || (rc = ws_copy(c, pos[0], &p)))
        return rc;
    rc = cli_apply(c, vg_op_playbook_remove(p.id));
    if (rc == EXIT_OK)
        printf("removed the workspace copy of %s\n", p.id);
    vg_playbook_clear(&p);
    return rc;
}

/* ---- cases ----------------------------------------------------------------------------- */

int cmd_pb_apply(cli *c, int argc, char **argv)
{
    char *pos[2];
    vg_id id;
    vg_playbook p;
    int rc = ws_args(c, argc, argv, NULL, 0, pos, 2, "give a case and a playbook (REF ID)");
    if (rc || (rc = cli_case(c, pos[0], id)) || (rc = find_pb(c, pos[1], &p)))
        return rc;
    int added = 0, skipped = 0;
    vg_err err = {0};
    if (vg_playbook_apply(c->ws, id, &p, &added, &skipped, &err) != VG_OK)
        rc = cli_fail(c, &err);
    else
        printf("applied %s to %s: %d tasks added, %d already on the case\n", p.id, pos[0], added,
               skipped);
    vg_playbook_clear(&p);
    return rc;
}

int cmd_pb_suggest(cli *c, int argc, char **argv)
{
    opt o[] = {{"json", NULL}};
    char *pos[1];
    vg_id id;
    int rc = ws_args(c, argc, argv, o, 1, pos, 1, "which case? (REF)");
    if (rc || (rc = cli_case(c, pos[0], id)))
        return rc;
    vg_case k;
    vg_err err = {0};
    char *techs = NULL;
    if (vg_case_get(c->ws, id, &k, &err) != VG_OK)
        return cli_fail(c, &err);
    if (vg_case_all_techniques(c->ws, id, &techs, &err) != VG_OK) {
        vg_case_clear(&k);
        return cli_fail(c, &err);
    }
    free(k.techniques); /* the case's and its alerts' */
    k.techniques = techs;
    vg_playbook *ws = NULL, *lib = NULL, *all;
    size_t nws = 0, nlib = 0, n = 0;
    char *dir = paths_playbooks();
    if (vg_playbooks_of_ws(c->ws, &ws, &nws, &err) != VG_OK ||
        vg_playbook_library(dir, &lib, &nlib, &err) != VG_OK) {
        rc = cli_fail(c, &err);
        goto out;
    }
    /* one list: the workspace copies, then library playbooks they do not shadow */
    all = vg_xcalloc(nws + nlib + 1, sizeof *all);
    for (size_t i = 0; i < nws; i++)
        all[n++] = ws[i];
    for (size_t i = 0; i < nlib; i++) {
        bool shadowed = false;
        for (size_t w = 0; w < nws; w++)
            shadowed |= strcmp(ws[w].id, lib[i].id) == 0;
        if (!shadowed)
            all[n++] = lib[i];
    }
    size_t *order = vg_xcalloc(n + 1, sizeof *order);
    int *score = vg_xcalloc(n + 1, sizeof *score);
    size_t m = vg_playbook_suggest(&k, all, n, order, score);
    if (opt_get(o, 1, "json")) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; i < m; i++) {
            cJSON *j = pb_summary_json(&all[order[i]]);
            cJSON_AddNumberToObject(j, "score", score[order[i]]);
            cJSON_AddItemToArray(arr, j);
        }
        out_json(arr);
    } else {
        for (size_t i = 0; i < m; i++) {
            const vg_playbook *p = &all[order[i]];
            printf("%3d  %-28s ", score[order[i]], p->id);
            out_fit(c, p->name, c->width > 40 ? c->width - 34 : 0, false);
            putchar('\n');
        }
        if (m == 0)
            printf("(no playbook matches the case's techniques, tags or title;"
                   " `vigil playbook ls` lists them all)\n");
        else
            printf("apply one with: vigil playbook apply %s ID\n", pos[0]);
    }
    free(order);
    free(score);
    free(all);
out:
    free(dir);
    vg_playbooks_free(ws, nws);
    vg_playbooks_free(lib, nlib);
    vg_case_clear(&k);
    return rc;
}

/* ---- keys and packs ------------------------------------------------------------------------ */

int cmd_pb_keygen(cli *c, int argc, char **argv)
{
    opt o[] = {{"o=", NULL}, {"comment=", NULL}};
    char *pos[1];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, o, 2, pos, 0, &npos)))
        return rc;
    const char *given = opt_get(o, 2, "o");
    char *path = given ? vg_xstrdup(given) : paths_pack_key();
    size_t pl = strlen(path);
    char *pub = vg_xmalloc(pl + 5);
    memcpy(pub, path, pl);
    memcpy(pub + pl, ".pub", 5);
    vg_err err = {0};
    char *sec = NULL, *pubtext = NULL;
    if (access(path, F_OK) == 0 || access(pub, F_OK) == 0) {
        rc = cli_error(c, "%s or %s already exists; not overwriting a key", path, pub);
        goto out;
    }
    if (!given && paths_ensure_parent(path, &err) != VG_OK) {
        rc = cli_fail(c, &err);
        goto out;
    }
    const char *comment = opt_get(o, 2, "comment");
    vg_pack_keygen(comment ? comment : c->actor, &sec, &pubtext);
    if ((rc = write_out(c, path, sec, 0600, true)) || (rc = write_out(c, pub, pubtext, 0644, true)))
        goto out;
    chmod(path, 0600); /* whatever the umask */
    printf("secret key  %s (mode 0600: keep it private; `vigil playbook pack --key` uses it)\n", path);
    printf("public key  %s: sites that import your packs append this line to their trusted-keys:\n  %s",
           pub, pubtext);
out:
    if (sec) {
        memset(sec, 0, strlen(sec));
        free(sec);
    }
    free(pubtext);
    free(pub);
    free(path);
    return rc;
}

int cmd_pb_pack(cli *c, int argc, char **argv)
{
    opt o[] = {{"key=", NULL}, {"o=", NULL}};
    char *pos[256];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, o, 2, pos, 256, &npos)))
        return rc;
    const char *key = opt_get(o, 2, "key"), *outp = opt_get(o, 2, "o");
    vg_identity me;
    if (!key && cli_identity_quiet(&me) != EXIT_OK)
        return cli_usage(c, "a pack is signed: give --key KEY, or make your key set with"
                            " `vigil keygen`");
    if (!key)
        vg_identity_wipe(&me);
    if (!outp)
        return cli_usage(c, "where to? (-o PACK)");
    if (npos == 0)
        return cli_usage(c, "which playbook files?");
    vg_playbook *p = vg_xcalloc((size_t)npos, sizeof *p);
    int n = 0;
    vg_err err = {0};
    vg_buf kb;
    char *text = NULL;
    vg_buf_init(&kb, 0);
    for (; n < npos; n++)
        if (vg_playbook_load(pos[n], &p[n], &err) != VG_OK) {
            rc = cli_fail(c, &err);
            goto out;
        }
    struct stat sb;
    if (key && stat(key, &sb) == 0 && (sb.st_mode & 077))
        fprintf(stderr, "vigil: %s: warning: %s can be read by others (mode %03o); chmod 600 it\n",
                c->name, key, (unsigned)(sb.st_mode & 0777));
    vg_buf_free(&kb);
    if (key && read_capped(key, &kb, &err) != VG_OK) {
        rc = cli_fail(c, &err);
        goto out;
    }
    if (!key) { /* the analyst's own key set signs (vigil/keys.h: the same Ed25519 key) */
        vg_buf_init(&kb, 4096);
        if ((rc = cli_identity(c, &me)))
            goto out;
        char b64[sodium_base64_ENCODED_LEN(64, sodium_base64_VARIANT_ORIGINAL)];
        sodium_bin2base64(b64, sizeof b64, me.sign_sk, sizeof me.sign_sk,
                          sodium_base64_VARIANT_ORIGINAL);
        vg_identity_wipe(&me);
        if (vg_buf_addf(&kb, "vigil-secret-key ed25519 %s\n", b64))
            abort();
        sodium_memzero(b64, sizeof b64);
        key = "your key set";
    }
    if (!(text = vg_pack_write(p, (size_t)n, vg_buf_str(&kb), key, &err))) {
        rc = cli_fail(c, &err);
        goto out;
    }
    if ((rc = write_out(c, outp, text, 0644, false)) == EXIT_OK)
        printf("wrote %s: %d playbooks, signed\n", outp, n);
out:
    if (kb.data)
        memset(kb.data, 0, kb.len);
    vg_buf_free(&kb);
    free(text);
    vg_playbooks_free(p, (size_t)n);
    return rc;
}
