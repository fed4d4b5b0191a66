/*
 * mcp.h — `vigil mcp`: the workspace as a Model Context Protocol server on stdio.
 *
 * An agent in an editor or a desktop client reads the workspace through typed tools,
 * resources (vigil://case/REF) and prompts, and proposes writes that the analyst
 * applies by id (`vigil proposals apply`, `y` in the workstation): the same trust
 * boundary as the copilot. Every string from data is cleaned and scanned by the
 * copilot's injection detector and marked untrusted in the result; every call is
 * kept in the ledger (vigil-mcp(1)). A frontend over the core and the copilot's
 * safety layer; JSON-RPC 2.0 in cJSON, one message a line.
 */
#ifndef VIGIL_MCP_H
#define VIGIL_MCP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "copilot.h"
#include "vigil/attack.h"
#include "vigil/ws.h"

#define MCP_REQUEST_MAX (1u << 20) /* bytes of one message read */
#define MCP_RESULT_MAX (1u << 20)  /* bytes of one result sent */

typedef struct mcp_config {
    const char *actor;          /* the analyst: whose ledger sessions these are */
    bool read_only;             /* no proposal tools */
    const cop_policy *policy;   /* [mcp.policy] of vigil.conf(5) */
    const int64_t *sla_ms;      /* SLA targets per severity ([sla]) */
    const vg_attack *attack;    /* the ATT&CK table, NULL: coverage says none is loaded */
    const char *playbooks;      /* the playbook library's directory, NULL: none */
    const char *where;          /* "a local workspace" or "a replica of TEAM": for the agent */
} mcp_config;

/* Serve JSON-RPC messages read from in, one per line, answering on out, until in
 * ends. Returns the process exit code (0 when in ended, 1 when out failed). */
int mcp_serve(vg_ws *ws, const mcp_config *cfg, FILE *in, FILE *out);

#endif
