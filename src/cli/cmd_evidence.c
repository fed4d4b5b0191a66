/*
 * cmd_evidence.c — `vigil evidence add|ls|get|verify|custody`: a case's evidence
 * register and each item's chain of custody (vigil/evidence.h). Every access and
 * every verify is written as a custody entry through the door before the command
 * reports success, so the chain says who touched what whichever way it went.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "ssh.h"
#include "sync_client.h"
#include "vigil/evidence.h"
#include "vigil/remote.h"
#include "vigil/text.h"

/* The content of an item absent here, from the workspace's team server when it has
 * one: stored (checked against its hash) and marked held, the transfer on the
 * item's chain. -1: there is no remote (nothing said); EXIT_FAIL after saying why. */
static int fetch_remote(cli *c, const vg_evidence *e)
{
    vg_remote r;
    vg_err err = {0};
    if (e->path || vg_remote_get(c->ws, NULL, &r, &err) != VG_OK)
        return -1;
    char *token;
    int rc = cli_remote_token(c, &r, &token);
    if (rc)
        return rc;
    net_ssh_opts sopt;
    cli_ssh_opts(&sopt);
    net_transport t;
    net_transport_for(&t, &r, &sopt);
    net_sync_opts so = {.transport = &t};
    vg_buf b;
    vg_buf_init(&b, (size_t)VG_EVIDENCE_BUNDLE_MAX);
    long status;
    vg_rc g = net_evidence_get(&r, token, &so, e->sha256, (size_t)VG_EVIDENCE_BUNDLE_MAX, &b,
                               &status, &err);
    net_transport_close(&t);
    sodium_memzero(token, strlen(token));
    free(token);
    if (g == VG_OK)
        g = vg_evidence_store(c->ws, e->sha256, b.data ? b.data : "", b.len, &err);
    vg_buf_free(&b);
    if (g == VG_OK)
        g = vg_evidence_mark_held(c->ws, e->id, &err);
    char detail[300];
    snprintf(detail, sizeof detail, "fetched from the team server %s", r.name);
    if (g == VG_OK)
        g = vg_evidence_record(c->ws, e, "transfer", e->sha256, "ok", detail, &err);
    if (g != VG_OK)
        return cli_fail(c, &err);
    fprintf(stderr, "vigil: %s: fetched %.12s from %s\n", c->name, e->id, r.name);
    return EXIT_OK;
}

static void size_text(int64_t n, char *out, size_t outsz)
{
    static const char *const units[] = {"B", "KB", "MB", "GB", "TB"};
    double v = (double)n;
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(out, outsz, "%lld B", (long long)n);
    else
        snprintf(out, outsz, "%.1f %s", v, units[u]);
}

static const char *stored_text(const vg_ws *ws, const vg_evidence *e)
{
    if (!vg_evidence_present(ws, e))
        return e->path ? "gone" : "absent";
    return e->path ? "ref" : "copy";
}

int cmd_evidence_add(cli *c, int argc, char **argv)
{
    opt o[] = {{"description=", NULL}, {"ref-only", NULL}, {"name=", NULL}, {"json", NULL}};
    const int no = 4;
    char *pos[2];
    int npos, rc;
    vg_id id;
    if ((rc = cli_parse(c, argc, argv, o, no, pos, 2, &npos)))
        return rc;
    if (npos != 2)
        return cli_usage(c, "%s", npos == 0 ? "which case? (REF FILE)" : "which file?");
    if ((rc = cli_open(c, 0)) || (rc = cli_case(c, pos[0], id)))
        return rc;
    vg_evidence e;
    vg_err err = {0};
    if (vg_evidence_add(c->ws, id, pos[1], opt_get(o, no, "name"), opt_get(o, no, "description"),
                        opt_get(o, no, "ref-only") != NULL, &e, &err) != VG_OK)
        return cli_fail(c, &err);
    if (opt_get(o, no, "json")) {
        out_json(vg_evidence_json(c->ws, &e));
    } else {
        char sz[32];
        size_text(e.size, sz, sizeof sz);
        printf("evidence %s added: ", e.id);
        out_safe(c, e.name);
        printf(" (%s, %s)%s\n  sha256 %s\n  sha1   %s\n  md5    %s\n", e.type, sz,
               e.path ? ", by reference: not copied" : "", e.sha256, e.sha1, e.md5);
    }
    vg_evidence_clear(&e);
    return EXIT_OK;
}

int cmd_evidence_ls(cli *c, int argc, char **argv)
{
    opt o[] = {{"json", NULL}};
    char *pos[1];
    int npos, rc;
    vg_id id;
    if ((rc = cli_parse(c, argc, argv, o, 1, pos, 1, &npos)))
        return rc;
    if (npos != 1)
        return cli_usage(c, "which case? (REF)");
    if ((rc = cli_open(c, 0)) || (rc = cli_case(c, pos[0], id)))
        return rc;
    vg_evidence *items;
    size_t n;
    vg_err err = {0};
    if (vg_evidence_list(c->ws, id, &items, &n, &err) != VG_OK)
        return cli_fail(c, &err);
    if (opt_get(o, 1, "json")) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; i < n; i++)
            cJSON_AddItemToArray(arr, vg_evidence_json(c->ws, &items[i]));
        out_json(arr);
    } else if (n == 0) {
        printf("no evidence on this case (vigil evidence add REF FILE)\n");
    } else {
        printf("%-12s %-8s %9s %-6s %-16s %-10s %s\n", "ID", "TYPE", "SIZE", "HELD", "SHA256",
               "ADDED BY", "NAME");
        for (size_t i = 0; i < n; i++) {
            char sz[32];
            size_text(items[i].size, sz, sizeof sz);
            printf("%.12s %-8.8s %9s %-6s %.16s ", items[i].id, items[i].type, sz,
                   stored_text(c->ws, &items[i]), items[i].sha256);
            out_fit(c, items[i].added_by, 10, true);
            putchar(' ');
            out_safe(c, items[i].name);
            putchar('\n');
        }
    }
    vg_evidences_free(items, n);
    return EXIT_OK;
}

struct get_to {
    cli *c;
    const vg_evidence *e;
};

static vg_rc fill_get(void *ud, int fd, const char *tmp, vg_err *err)
{
    (void)tmp;
    const struct get_to *g = ud;
    return vg_evidence_write(g->c->ws, g->e, fd, err);
}

int cmd_evidence_get(cli *c, int argc, char **argv)
{
    opt o[] = {{"o=", NULL}};
    char *pos[1];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, o, 1, pos, 1, &npos)))
        return rc;
    if (npos != 1)
        return cli_usage(c, "which item? (ID)");
    const char *out = opt_get(o, 1, "o");
    if (out && !*out)
        return cli_usage(c, "-o: which file?");
    bool to_stdout = !out || strcmp(out, "-") == 0;
    if (to_stdout && isatty(STDOUT_FILENO))
        return cli_error(c, "not writing evidence to the terminal (-o FILE, or a pipe)");
    if ((rc = cli_open(c, 0)))
        return rc;
    vg_evidence e;
    vg_err err = {0};
    if (vg_evidence_find(c->ws, pos[0], &e, &err) != VG_OK)
        return cli_fail(c, &err);
    if (!vg_evidence_present(c->ws, &e) && (rc = fetch_remote(c, &e)) == EXIT_FAIL) {
        vg_evidence_clear(&e);
        return rc;
    }
    rc = EXIT_OK;
    vg_rc r;
    char detail[600];
    if (to_stdout) {
        /* what reaches a pipe cannot be taken back: check it all before the first byte */
        char seen[65];
        const char *result;
        r = vg_evidence_check(c->ws, &e, seen, &result, &err);
        if (r == VG_OK && strcmp(result, "ok") != 0)
            r = vg_fail(&err, strcmp(result, "changed") == 0 ? VG_ECORRUPT : VG_ENOTFOUND,
                        "evidence %.12s: %s", e.id,
                        strcmp(result, "changed") == 0
                            ? "its content changed since it was added; nothing written"
                            : "its content is not in this workspace");
        fflush(stdout);
        if (r == VG_OK)
            r = vg_evidence_write(c->ws, &e, STDOUT_FILENO, &err);
        snprintf(detail, sizeof detail, "written to standard output");
    } else {
        struct get_to g = {c, &e};
        r = cli_write_atomic_fn(out, fill_get, &g, &err);
        char *abs = realpath(out, NULL);
        snprintf(detail, sizeof detail, "written to %.500s", abs ? abs : out);
        free(abs);
    }
    vg_err rerr = {0};
    /* the attempt is on the chain whatever it found */
    vg_rc rr = r == VG_ECORRUPT
                   ? vg_evidence_record(c->ws, &e, "access", NULL, "changed",
                                        "refused: content does not match its hash", &rerr)
               : r == VG_OK ? vg_evidence_record(c->ws, &e, "access", e.sha256, "ok", detail, &rerr)
                            : VG_OK;
    vg_evidence_clear(&e);
    if (r != VG_OK)
        return cli_fail(c, &err);
    if (rr != VG_OK)
        return cli_fail(c, &rerr);
    if (!to_stdout) {
        fprintf(stderr, "vigil: %s: wrote ", c->name);
        char *safe = vg_text_safe_dup(out, c->text_flags);
        fprintf(stderr, "%s (sha256 checked)\n", safe);
        free(safe);
    }
    return EXIT_OK;
}

int cmd_evidence_verify(cli *c, int argc, char **argv)
{
    opt o[] = {{"json", NULL}};
    char *pos[1];
    int npos, rc;
    vg_id id;
    if ((rc = cli_parse(c, argc, argv, o, 1, pos, 1, &npos)))
        return rc;
    if ((rc = cli_open(c, 0)) || (npos == 1 && (rc = cli_case(c, pos[0], id))))
        return rc;
    vg_evidence *items;
    size_t n;
    vg_err err = {0};
    if (vg_evidence_list(c->ws, npos == 1 ? id : NULL, &items, &n, &err) != VG_OK)
        return cli_fail(c, &err);
    bool json = opt_get(o, 1, "json") != NULL;
    cJSON *arr = json ? cJSON_CreateArray() : NULL;
    int bad = 0, ok = 0, absent = 0;
    /* each result is committed on its own: a disk image takes minutes to hash, and no
     * write transaction is held (blocking the workstation's sync, an import) meanwhile */
    for (size_t i = 0; i < n && rc == EXIT_OK; i++) {
        char seen[65];
        const char *result;
        vg_evidence *e = &items[i];
        if (vg_evidence_check(c->ws, e, seen, &result, &err) != VG_OK) {
            /* unreadable: said, and counted as a failure, the others still checked */
            fprintf(stderr, "vigil: %s: ", c->name);
            char *safe = vg_text_safe_dup(err.msg, c->text_flags);
            fprintf(stderr, "%s\n", safe);
            free(safe);
            result = "missing";
            seen[0] = '\0';
        }
        bool fine = strcmp(result, "ok") == 0, never = strcmp(result, "absent") == 0;
        bad += !fine && !never;
        ok += fine;
        absent += never;
        if (!never && vg_evidence_record(c->ws, e, "verify", seen, result, NULL, &err) != VG_OK)
            rc = cli_fail(c, &err);
        if (json) {
            cJSON *j = vg_evidence_json(c->ws, e);
            cJSON_AddStringToObject(j, "result", result);
            cJSON_AddStringToObject(j, "sha256_seen", seen);
            cJSON_AddItemToArray(arr, j);
        } else if (!fine) {
            printf("%-8s %.12s ", never ? "absent" : result, e->id);
            out_safe(c, e->name);
            if (strcmp(result, "changed") == 0)
                printf(": sha256 is now %.16s..., registered %.16s...", seen, e->sha256);
            else if (strcmp(result, "missing") == 0)
                printf(": %s", e->path ? "its file is gone" : "its stored copy is gone");
            else
                printf(": its content is not in this workspace (metadata only)");
            if (e->path) {
                printf(" (");
                out_safe(c, e->path);
                putchar(')');
            }
            putchar('\n');
        }
    }
    if (json && rc == EXIT_OK)
        out_json(arr);
    else
        cJSON_Delete(arr);
    if (rc == EXIT_OK && !json)
        printf("%d item%s checked: %d ok, %d changed or missing, %d not held here\n", ok + bad,
               ok + bad == 1 ? "" : "s", ok, bad, absent);
    vg_evidences_free(items, n);
    return rc != EXIT_OK ? rc : bad ? EXIT_FAIL : EXIT_OK;
}

int cmd_evidence_custody(cli *c, int argc, char **argv)
{
    opt o[] = {{"json", NULL}};
    char *pos[1];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, o, 1, pos, 1, &npos)))
        return rc;
    if (npos != 1)
        return cli_usage(c, "which item? (ID)");
    if ((rc = cli_open(c, 0)))
        return rc;
    vg_evidence e;
    vg_custody *items;
    size_t n;
    vg_err err = {0};
    if (vg_evidence_find(c->ws, pos[0], &e, &err) != VG_OK)
        return cli_fail(c, &err);
    if (vg_evidence_custody(c->ws, e.id, &items, &n, &err) != VG_OK) {
        vg_evidence_clear(&e);
        return cli_fail(c, &err);
    }
    if (opt_get(o, 1, "json")) {
        cJSON *j = vg_evidence_json(c->ws, &e);
        cJSON *arr = cJSON_AddArrayToObject(j, "custody");
        for (size_t i = 0; i < n; i++) {
            cJSON *x = cJSON_CreateObject();
            cJSON_AddStringToObject(x, "id", items[i].id);
            cJSON_AddStringToObject(x, "action", items[i].action);
            cJSON_AddStringToObject(x, "actor", items[i].actor);
            cJSON_AddNumberToObject(x, "at", (double)items[i].at);
            cJSON_AddStringToObject(x, "sha256", items[i].sha256);
            cJSON_AddStringToObject(x, "result", items[i].result);
            cJSON_AddStringToObject(x, "detail", items[i].detail);
            cJSON_AddItemToArray(arr, x);
        }
        out_json(j);
    } else {
        printf("evidence %s: ", e.id);
        out_safe(c, e.name);
        printf(" (sha256 %s)\n", e.sha256);
        for (size_t i = 0; i < n; i++) {
            char t[32];
            fmt_time(items[i].at, t, sizeof t);
            printf("  %s  %-8s %-8s ", t, items[i].action,
                   items[i].result[0] ? items[i].result : "-");
            out_fit(c, items[i].actor, 12, true);
            if (items[i].sha256[0])
                printf(" sha256 %.16s", items[i].sha256);
            if (items[i].detail[0]) {
                printf("  ");
                out_safe(c, items[i].detail);
            }
            putchar('\n');
        }
    }
    vg_custody_free(items, n);
    vg_evidence_clear(&e);
    return EXIT_OK;
}

int cmd_evidence_push(cli *c, int argc, char **argv)
{
    opt o[] = {{"remote=", NULL}};
    char *pos[1];
    int npos, rc;
    vg_id id;
    if ((rc = cli_parse(c, argc, argv, o, 1, pos, 1, &npos)))
        return rc;
    if ((rc = cli_open(c, 0)) || (npos == 1 && (rc = cli_case(c, pos[0], id))))
        return rc;
    vg_remote r;
    vg_err err = {0};
    if (vg_remote_get(c->ws, opt_get(o, 1, "remote"), &r, &err) != VG_OK)
        return cli_fail(c, &err);
    char *token;
    if ((rc = cli_remote_token(c, &r, &token)))
        return rc;
    vg_evidence *items;
    size_t n;
    if (vg_evidence_list(c->ws, npos == 1 ? id : NULL, &items, &n, &err) != VG_OK) {
        sodium_memzero(token, strlen(token));
        free(token);
        return cli_fail(c, &err);
    }
    net_ssh_opts sopt;
    cli_ssh_opts(&sopt);
    net_transport t;
    net_transport_for(&t, &r, &sopt);
    net_sync_opts so = {.transport = &t};
    int sent = 0, skipped = 0;
    for (size_t i = 0; i < n && rc == EXIT_OK; i++) {
        vg_evidence *e = &items[i];
        if (e->path || e->size > VG_EVIDENCE_BUNDLE_MAX || !vg_evidence_present(c->ws, e)) {
            skipped++;
            continue;
        }
        vg_buf b;
        vg_buf_init(&b, (size_t)VG_EVIDENCE_BUNDLE_MAX);
        long status;
        char detail[300];
        snprintf(detail, sizeof detail, "sent to the team server %s", r.name);
        if (vg_evidence_read(c->ws, e, &b, &err) != VG_OK ||
            net_evidence_put(&r, token, &so, e->sha256, b.data ? b.data : "", b.len, &status,
                             &err) != VG_OK ||
            vg_evidence_record(c->ws, e, "transfer", e->sha256, "ok", detail, &err) != VG_OK)
            rc = cli_fail(c, &err);
        else
            sent++;
        vg_buf_free(&b);
    }
    net_transport_close(&t);
    sodium_memzero(token, strlen(token));
    free(token);
    vg_evidences_free(items, n);
    if (rc == EXIT_OK) {
        printf("%s: sent the content of %d evidence file%s", r.name, sent, sent == 1 ? "" : "s");
        if (skipped)
            printf(" (%d left: by reference, not held here, or over %lld MB)", skipped,
                   (long long)(VG_EVIDENCE_BUNDLE_MAX >> 20));
        putchar('\n');
    }
    return rc;
}
