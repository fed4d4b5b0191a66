/*
 * paths.h — where vigil keeps things (XDG base directories; `vigil paths`).
 * Each returns a fresh string the caller frees.
 */
#ifndef VIGIL_PATHS_H
#define VIGIL_PATHS_H

#include "vigil/err.h"

char *paths_config(void);    /* $XDG_CONFIG_HOME/vigil/config */
char *paths_secrets(void);   /* $XDG_CONFIG_HOME/vigil/secrets (must be mode 0600) */
char *paths_workspace(void); /* $XDG_DATA_HOME/vigil/vigil.db */
char *paths_state(void);     /* $XDG_STATE_HOME/vigil (logs) */
char *paths_user_data(void); /* $XDG_DATA_HOME/vigil: the user's own data files */
char *paths_trusted_keys(void); /* $XDG_CONFIG_HOME/vigil/trusted-keys (playbook packs) */
char *paths_pack_key(void);     /* $XDG_CONFIG_HOME/vigil/pack-key (keygen's default) */
char *paths_intel(void);        /* $XDG_DATA_HOME/vigil/intel.db (the intel store) */
char *paths_identity(void);     /* $XDG_DATA_HOME/vigil/identity (vigil keygen; mode 0600) */
char *paths_keyring(void);      /* $XDG_DATA_HOME/vigil/keyring (vigil key trust) */
/* Read-only files shipped with vigil: $VIGIL_DATA_DIR, else the installed
 * directory (PREFIX/share/vigil), else the source tree of an uninstalled build. */
char *paths_data(void);      /* data/: the ATT&CK table, schemas, keyword maps */
char *paths_playbooks(void); /* the playbook library */
char *paths_templates(void); /* the shipped case templates (data/templates) */
/* $XDG_CONFIG_HOME/vigil/templates: the analyst's templates, which override shipped
 * ones of the same id */
char *paths_user_templates(void);
/* mkdir -p the directory that will hold path (mode 0700 for new directories). */
VG_WUR vg_rc paths_ensure_parent(const char *path, vg_err *err);

#endif
