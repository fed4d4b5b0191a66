/*
 * import.c — `vigil import` whole (src/formats/import.c): the input is a file's
 * content, read by the reader thread (JSON lines or one array, records split as
 * they stream), detected, parsed, mapped, redacted, then stored through
 * correlation and the door into a workspace kept across inputs (a fresh one every
 * 1,000, so it stays small and fast).
 *
 * Properties: the counts add up (every record read is stored, merged, skipped or
 * rejected, and each rejection was reported), and the workspace's op log still
 * verifies after the import.
 */
#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "import.h"

static vg_ws *ws;
static unsigned runs;
static int64_t reported;

static void on_reject(void *ud, const char *file, int64_t line, const char *why)
{
    reported++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ws || ++runs % 1000 == 0) {
        fz_workspace_drop(ws);
        ws = fz_workspace();
    }
    const char *path = fz_temp_path("input.json");
    FILE *f = fopen(path, "wb");
    fz_check(f && fwrite(data, 1, size, f) == size && fclose(f) == 0, "writing %s", path);
    char *names[] = {(char *)path};
    imp_opts o = {.format = IMP_AUTO, .correlate = true, .window_ms = 3600000,
                  .bucket_ms = 3600000, .reject = on_reject};
    imp_stats st = {0};
    vg_err err = {0};
    reported = 0;
    vg_rc rc = imp_files(ws, names, 1, &o, &st, &err);
    fz_check(rc == VG_OK, "the import failed: %s", err.msg);
    fz_check(st.read == st.stored + st.merged + st.already + st.skipped + st.rejected,
             "read %lld, but %lld stored, %lld merged, %lld already imported, %lld skipped,"
             " %lld rejected",
             (long long)st.read, (long long)st.stored, (long long)st.merged,
             (long long)st.already, (long long)st.skipped, (long long)st.rejected);
    fz_check(reported == st.rejected + st.files_failed, "%lld reported, %lld rejected",
             (long long)reported, (long long)(st.rejected + st.files_failed));
    imp_stats_free(&st);
    if (runs % 100 == 0) { /* the chain over everything stored so far */
        int64_t count = 0, bad = 0;
        fz_check(vg_audit_verify(ws, NULL, &count, &bad, &err) == VG_OK, "audit: %s", err.msg);
    }
    return 0;
}
