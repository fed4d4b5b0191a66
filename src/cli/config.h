/*
 * config.h — the config file ($XDG_CONFIG_HOME/vigil/config, INI; vigil.conf(5)).
 */
#ifndef VIGIL_CONFIG_H
#define VIGIL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "copilot.h"
#include "vigil/buf.h"
#include "vigil/entity.h"
#include "tui.h"

/* [copilot] and [copilot.policy]; NULL/0 where the file says nothing. */
typedef struct copilot_config {
    char *provider, *url, *model;
    long timeout_s;
    long budget;
    cop_policy policy;
} copilot_config;

typedef struct config {
    char *user; /* [user] name */
    char *db;   /* [workspace] path */
    bool ascii; /* [ui] ascii */
    int64_t import_window_ms, import_bucket_ms; /* [import] window, dedup_bucket; 0: default */
    int import_infra_hosts; /* [import] infrastructure_hosts; 0: VG_INFRA_HOSTS */
    vg_home *import_home;   /* [import] home_net, home_domains; NULL: the defaults */
    tui_config tui;
    copilot_config copilot;
    cop_policy mcp_policy; /* [mcp.policy]: what an agent's proposals may do (vigil mcp) */
    /* [intel]: the store's path, and the caps on an import (0: the defaults) */
    char *intel_db;
    int64_t intel_max_bytes, intel_max_items;
    /* [keys] lines left out (a key or command the workstation does not know): the
     * first one's reason, and how many; every command still runs */
    char warning[512];
    int nwarnings;
} config;

/* Read the config file if there is one. On a mistake, print
 * "vigil: config: FILE: ..." naming the line or the entry, and return -1. */
int config_read(config *cf);
/* Parse the config text in f (where names it in messages) into cf, after
 * cop_policy_default: 0, or -1 with "WHERE:LINE: not a valid INI line" or
 * "WHERE: [section] ..." in msg (config_read's work; the fuzz harness's entry). */
int config_parse(config *cf, FILE *f, const char *where, char *msg, size_t msgsz);
void config_free(config *cf);

/* The SLA targets per severity: [sla] of the config, else the defaults. */
const int64_t *config_sla(const config *cf);

/* The value of key in [section] of the secrets file (paths_secrets()), fresh, or
 * NULL when the file or the key is not there. A secrets file that others may read
 * (mode not 0600 or stricter) is refused: -1 after printing why. */
int config_secret(const char *section, const char *key, char **out);
/* The secrets file's bytes appended to out (nothing when there is none), after
 * config_secret's checks: 0, or -1 after printing why it is refused (or larger
 * than out's cap). */
int config_secrets_load(vg_buf *out);

/* The copilot's provider settings from the config, the environment and the
 * secrets file, with model (may be NULL) from the command line winning. -1 after
 * printing why when the secrets file is refused. Free with config_copilot_free. */
int config_copilot(const config *cf, const char *model, tui_copilot *out);
void config_copilot_free(tui_copilot *s);

#endif
