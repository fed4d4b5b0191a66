/*
 * fuzz.c — the harnesses' shared helpers (fuzz.h).
 */
#include "fuzz.h"

#include <cjson/cJSON.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *fz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

void fz_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s:%d: property failed: ", file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

static char dir[4096];

static void remove_dir(void)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "fuzz: could not remove %s\n", dir);
}

const char *fz_temp_path(const char *name)
{
    static char path[4200];
    if (!dir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/vigil-fuzz-XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(dir))
            fz_fail(__FILE__, __LINE__, "mkdtemp %s", dir);
        atexit(remove_dir);
    }
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

vg_ws *fz_workspace(void)
{
    static unsigned serial;
    char name[32];
    snprintf(name, sizeof name, "ws%u.db", serial++);
    const char *path = fz_temp_path(name);
    vg_ws *ws = NULL;
    vg_err err = {0};
    if (vg_ws_open(path, VG_OPEN_CREATE, &ws, &err) != VG_OK)
        fz_fail(__FILE__, __LINE__, "open %s: %s", path, err.msg);
    vg_ws_set_actor(ws, "fuzz");
    return ws;
}

void fz_workspace_drop(vg_ws *ws)
{
    if (!ws)
        return;
    char path[4200];
    snprintf(path, sizeof path, "%s", vg_ws_path(ws));
    vg_ws_close(ws);
    static const char *const tails[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char p[4300];
        snprintf(p, sizeof p, "%s%s", path, tails[i]);
        unlink(p);
    }
}

bool fz_same(const cJSON *a, const cJSON *b)
{
    char *x = cJSON_PrintUnformatted(a), *y = cJSON_PrintUnformatted(b);
    bool eq = x && y && strcmp(x, y) == 0;
    cJSON_free(x);
    cJSON_free(y);
    return eq;
}
