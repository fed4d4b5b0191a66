/*
 * config.h — the config file ($XDG_CONFIG_HOME/vigil/config, INI; vigil.conf(5)).
 */
#ifndef VIGIL_CONFIG_H
#define VIGIL_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "tui.h"

typedef struct config {
    char *user; /* [user] name */
    char *db;   /* [workspace] path */
    bool ascii; /* [ui] ascii */
    int64_t import_window_ms, import_bucket_ms; /* [import] window, dedup_bucket; 0: default */
    tui_config tui;
} config;

/* Read the config file if there is one. On a mistake, print
 * "vigil: config: FILE: ..." naming the line or the entry, and return -1. */
int config_read(config *cf);
void config_free(config *cf);

#endif
