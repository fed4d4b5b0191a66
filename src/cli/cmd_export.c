/*
 * cmd_export.c — `vigil export REF --format F [-o FILE]`: a case in a format its
 * peers read (src/formats), to stdout or to a file written whole or not at all;
 * and the CSV form of the case listing (`vigil cases --csv`).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "vigil/evidence.h"
#include "export.h"
#include "paths.h"
#include "vigil/buf.h"
#include "vigil/json.h"

#define MAX_EXPORT (512u << 20)

/* The file is made by mkstemp beside the target (O_EXCL, a name no one can
 * guess), so a symlink planted where the temporary file will be is never
 * followed; it is mode 0600, or the target's mode when the target exists (an
 * export over a shared report stays as shared as it was), written whole by fill,
 * synced, then renamed over the target. On any error it is removed. */
vg_rc cli_write_atomic_fn(const char *path, vg_rc (*fill)(void *ud, int fd, const char *tmp,
                                                          vg_err *err),
                          void *ud, vg_err *err)
{
    vg_rc rc = VG_OK;
    size_t n = strlen(path) + 16;
    char *tmp = vg_xmalloc(n);
    snprintf(tmp, n, "%s.tmpXXXXXX", path);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        rc = vg_fail(err, VG_EIO, "%s: %s", path, strerror(errno));
        free(tmp);
        return rc;
    }
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && fchmod(fd, sb.st_mode & 0777) != 0)
        rc = vg_fail(err, VG_EIO, "%s: keeping its mode: %s", path, strerror(errno));
    if (rc == VG_OK)
        rc = fill(ud, fd, tmp, err);
    if (rc == VG_OK && fsync(fd) != 0)
        rc = vg_fail(err, VG_EIO, "writing %s: %s", tmp, strerror(errno));
    if (close(fd) != 0 && rc == VG_OK)
        rc = vg_fail(err, VG_EIO, "writing %s: %s", tmp, strerror(errno));
    if (rc == VG_OK && rename(tmp, path) != 0)
        rc = vg_fail(err, VG_EIO, "renaming %s to %s: %s", tmp, path, strerror(errno));
    if (rc != VG_OK)
        unlink(tmp);
    free(tmp);
    return rc;
}

struct text {
    const char *text;
    size_t len;
};

static vg_rc fill_text(void *ud, int fd, const char *tmp, vg_err *err)
{
    const struct text *t = ud;
    for (size_t done = 0; done < t->len;) {
        ssize_t w = write(fd, t->text + done, t->len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return vg_fail(err, VG_EIO, "writing %s: %s", tmp, strerror(w < 0 ? errno : EIO));
        done += (size_t)w;
    }
    return VG_OK;
}

vg_rc cli_write_atomic(const char *path, const char *text, size_t len, vg_err *err)
{
    struct text t = {text, len};
    return cli_write_atomic_fn(path, fill_text, &t, err);
}

int cmd_export(cli *c, int argc, char **argv)
{
    opt o[] = {{"format=", NULL}, {"o=", NULL}, {"output=", NULL}};
    int n = 3, npos, rc;
    char *pos[1];
    if ((rc = cli_parse(c, argc, argv, o, n, pos, 1, &npos)))
        return rc;
    if (npos != 1)
        return cli_usage(c, "which case?");
    const char *fv = opt_get(o, n, "format");
    if (!fv)
        return cli_usage(c, "--format is required (stix, misp, timesketch, timesketch-csv, "
                            "markdown or html)");
    int f = export_format_parse(fv);
    if (f < 0)
        return cli_usage(c, "--format: '%s' is not one of stix, misp, timesketch, "
                            "timesketch-csv, markdown, html", fv);
    const char *path = opt_get(o, n, "o");
    if (!path)
        path = opt_get(o, n, "output");
    vg_id id;
    if ((rc = cli_open(c, 0)) || (rc = cli_case(c, pos[0], id)))
        return rc;
    vg_attack *a = NULL;
    vg_err err = {0};
    char *user = paths_user_data(), *data = paths_data();
    if (vg_attack_load(user, data, &a, &err) != VG_OK)
        fprintf(stderr, "vigil: export: warning: %s (techniques go by id alone)\n", err.msg);
    free(user);
    free(data);
    export_case x;
    vg_buf out;
    vg_buf_init(&out, MAX_EXPORT);
    vg_rc r = export_load(c->ws, id, a, &x, &err);
    if (r == VG_OK)
        r = export_write(&x, (export_format)f, &out, &err);
    if (r == VG_OK && path && strcmp(path, "-") != 0)
        r = cli_write_atomic(path, vg_buf_str(&out), out.len, &err);
    else if (r == VG_OK && fwrite(vg_buf_str(&out), 1, out.len, stdout) != out.len)
        r = vg_fail(&err, VG_EIO, "writing stdout: %s", strerror(errno));
    /* a report lists the case's evidence: an export on each item's chain of custody */
    bool report = f == EXPORT_MARKDOWN || f == EXPORT_HTML;
    if (r == VG_OK && report && x.nevidence) {
        char detail[600];
        snprintf(detail, sizeof detail, "listed in a %s report written to %.500s", fv,
                 path && strcmp(path, "-") != 0 ? path : "standard output");
        if ((r = vg_batch_begin(c->ws, &err)) == VG_OK) {
            for (size_t i = 0; r == VG_OK && i < x.nevidence; i++)
                r = vg_evidence_record(c->ws, &x.evidence[i], "export", NULL, NULL, detail, &err);
            if (r == VG_OK)
                r = vg_batch_commit(c->ws, &err);
            else
                vg_batch_rollback(c->ws);
        }
    }
    if (x.c.id[0])
        export_case_clear(&x);
    vg_buf_free(&out);
    vg_attack_free(a);
    return r == VG_OK ? EXIT_OK : cli_fail(c, &err);
}

int cases_csv(const vg_case *items, size_t n, bool header)
{
    static const char *const cols[] = {
        "ref", "id", "title", "severity", "status", "resolution", "tlp", "pap", "assignee",
        "tags", "techniques", "alerts", "created_at", "updated_at", "acknowledged_at",
        "closed_at"};
    enum { NCOLS = sizeof cols / sizeof *cols };
    vg_buf b;
    vg_buf_init(&b, 64u << 20);
    vg_rc rc = header ? export_csv_row(&b, cols, NCOLS) : VG_OK;
    for (size_t i = 0; rc == VG_OK && i < n; i++) {
        cJSON *j = vg_case_json(&items[i]); /* one spelling of each field, as --json */
        char ref[24], alerts[24], times[4][40], lists[2][4096];
        snprintf(ref, sizeof ref, "#%lld", (long long)items[i].ref);
        snprintf(alerts, sizeof alerts, "%lld", (long long)items[i].alert_count);
        static const char *const tkeys[4] = {"created_at", "updated_at", "acknowledged_at",
                                             "closed_at"};
        for (int k = 0; k < 4; k++) {
            const cJSON *t = cJSON_GetObjectItem(j, tkeys[k]);
            snprintf(times[k], sizeof times[k], "%s", cJSON_IsString(t) ? t->valuestring : "");
        }
        static const char *const lkeys[2] = {"tags", "techniques"};
        for (int k = 0; k < 2; k++) { /* a JSON array becomes "a;b" */
            size_t len = 0;
            lists[k][0] = '\0';
            const cJSON *v;
            cJSON_ArrayForEach(v, cJSON_GetObjectItem(j, lkeys[k]))
            {
                if (cJSON_IsString(v) && len < sizeof lists[k])
                    len += (size_t)snprintf(lists[k] + len, sizeof lists[k] - len, "%s%s",
                                            len ? ";" : "", v->valuestring);
            }
        }
        const cJSON *res = cJSON_GetObjectItem(j, "resolution");
        const char *f[NCOLS] = {
            ref, items[i].id, cJSON_GetObjectItem(j, "title")->valuestring,
            vg_enum_name(&VG_SEVERITY, items[i].severity), vg_enum_name(&VG_STATUS, items[i].status),
            cJSON_IsString(res) ? res->valuestring : "", vg_enum_name(&VG_TLP, items[i].tlp),
            vg_enum_name(&VG_PAP, items[i].pap), items[i].assignee, lists[0], lists[1], alerts,
            times[0], times[1], times[2], times[3]};
        rc = export_csv_row(&b, f, NCOLS);
        cJSON_Delete(j);
    }
    if (rc == VG_OK)
        fwrite(vg_buf_str(&b), 1, b.len, stdout);
    vg_buf_free(&b);
    return rc == VG_OK ? EXIT_OK : EXIT_FAIL;
}
