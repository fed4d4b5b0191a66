/*
 * paths.c — XDG base directories for vigil's files (see paths.h).
 */
#include "paths.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vg_config.h"
#include "vigil/buf.h"

/* $VAR/vigil/leaf, or $HOME/fallback/vigil/leaf when VAR is unset or relative
 * (the XDG spec says relative values are to be ignored). */
static char *xdg(const char *var, const char *fallback, const char *leaf)
{
    const char *base = getenv(var), *home = getenv("HOME");
    vg_buf b;
    vg_buf_init(&b, 8192);
    vg_rc rc;
    if (base && base[0] == '/')
        rc = vg_buf_addf(&b, "%s/vigil%s%s", base, *leaf ? "/" : "", leaf);
    else
        rc = vg_buf_addf(&b, "%s/%s/vigil%s%s", home && *home ? home : ".", fallback,
                         *leaf ? "/" : "", leaf);
    if (rc != VG_OK)
        return vg_xstrdup(leaf);
    return vg_buf_take(&b);
}

char *paths_config(void) { return xdg("XDG_CONFIG_HOME", ".config", "config"); }
char *paths_secrets(void) { return xdg("XDG_CONFIG_HOME", ".config", "secrets"); }
char *paths_workspace(void) { return xdg("XDG_DATA_HOME", ".local/share", "vigil.db"); }
char *paths_state(void) { return xdg("XDG_STATE_HOME", ".local/state", ""); }
char *paths_data(void) { return vg_xstrdup(VG_DATADIR); }

vg_rc paths_ensure_parent(const char *path, vg_err *err)
{
    char *dir = vg_xstrdup(path);
    char *slash = strrchr(dir, '/');
    vg_rc rc = VG_OK;
    if (!slash || slash == dir) {
        free(dir);
        return VG_OK;
    }
    *slash = '\0';
    for (char *p = dir + 1; rc == VG_OK; p++) {
        bool end = *p == '\0';
        if (*p == '/' || end) {
            *p = '\0';
            if (mkdir(dir, 0700) != 0 && errno != EEXIST)
                rc = vg_fail(err, VG_EIO, "creating %s: %s", dir, strerror(errno));
            if (end)
                break;
            *p = '/';
        }
    }
    free(dir);
    return rc;
}
