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
char *paths_user_data(void) { return xdg("XDG_DATA_HOME", ".local/share", ""); }
char *paths_trusted_keys(void) { return xdg("XDG_CONFIG_HOME", ".config", "trusted-keys"); }
char *paths_pack_key(void) { return xdg("XDG_CONFIG_HOME", ".config", "pack-key"); }
char *paths_intel(void) { return xdg("XDG_DATA_HOME", ".local/share", "intel.db"); }
char *paths_identity(void) { return xdg("XDG_DATA_HOME", ".local/share", "identity"); }
char *paths_keyring(void) { return xdg("XDG_DATA_HOME", ".local/share", "keyring"); }

static bool is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static char *join(const char *dir, const char *leaf)
{
    size_t n = strlen(dir) + strlen(leaf) + 1;
    char *p = vg_xmalloc(n);
    snprintf(p, n, "%s%s", dir, leaf);
    return p;
}

/* $VIGIL_DATA_DIR when set; else the installed directory; else, for a build that
 * was never installed, the source tree's own copy. */
static char *data_path(const char *installed_leaf, const char *source_leaf)
{
    const char *env = getenv("VIGIL_DATA_DIR");
    if (env && *env)
        return join(env, installed_leaf);
    char *p = join(VG_DATADIR, installed_leaf);
    if (is_dir(p))
        return p;
    free(p);
    return join(VG_SOURCEDIR, source_leaf);
}

char *paths_data(void) { return data_path("", "/data"); }
char *paths_playbooks(void) { return data_path("/playbooks", "/playbooks"); }

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

char *paths_templates(void) { return data_path("/templates", "/data/templates"); }
char *paths_user_templates(void) { return xdg("XDG_CONFIG_HOME", ".config", "templates"); }
