/*
 * internal.h — what the MCP server's protocol (server.c) and its tools (tools.c)
 * share: the session state and the tool table.
 */
#ifndef VIGIL_MCP_INTERNAL_H
#define VIGIL_MCP_INTERNAL_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "mcp.h"
#include "vigil/buf.h"
#include "vigil/err.h"
#include "vigil/id.h"

#define MCP_SHOWN_MAX (4u << 20) /* bytes of shown data kept for the auto check */

typedef struct mcp_session {
    vg_id case_id, session;
} mcp_session;

/* The injection detector's verdicts on strings met in this session (server.c): an
 * open-addressed table of keyed 64-bit hashes, emptied when half full. */
#define MCP_VERDICTS 65536
typedef struct mcp_verdicts {
    unsigned char key[16];
    uint64_t hash[MCP_VERDICTS];
    uint16_t flags[MCP_VERDICTS];
    size_t used;
} mcp_verdicts;

typedef struct mcp {
    vg_ws *ws;
    const mcp_config *cfg;
    FILE *out;
    bool initialized;
    char version[16];   /* the protocol version agreed */
    char client[160];   /* "mcp:NAME VERSION" of the client, cleaned: the ledger's model */
    vg_id general;      /* the session of calls on no case ("" until one) */
    mcp_session *sessions; /* one per case a call touched */
    size_t nsessions;
    int flags;          /* COP_INJ_* of everything shown so far */
    vg_buf shown;       /* the data shown so far: no auto-apply of a value it holds */
    mcp_verdicts *verdicts;
} mcp;

/* What a tool gives back: a JSON object (data from the workspace, made safe and
 * scanned by the caller), the case it was about (its ledger session), or an error
 * the agent can act on (error set: an isError result, not a protocol error). */
typedef struct mcp_out {
    cJSON *data;
    vg_id case_id;
    char error[512];
} mcp_out;

typedef struct mcp_tool {
    const char *name, *title, *description;
    const char *schema; /* the JSON schema of its arguments (inputSchema) */
    bool write;         /* a proposal tool: none with --read-only */
    /* fills out->data, or out->error */
    void (*run)(mcp *m, const cJSON *args, mcp_out *out);
} mcp_tool;

extern const mcp_tool mcp_tools[];
extern const size_t mcp_ntools;

/* Check args against a tool's schema (the subset the tools use: an object of
 * string, integer and boolean members with enum, minLength, maxLength, minimum,
 * maximum, required, no other members). False with msg naming the argument and
 * *arg (static) its name. */
bool mcp_args_check(const mcp_tool *t, const cJSON *args, char *msg, size_t msgsz,
                    const char **arg);
/* The tool's argument schema, its enumerations filled from the core's (fresh). */
cJSON *mcp_schema(const mcp_tool *t);

/* The ledger session of a call on case_id ("" or NULL: on no case), made on first use. */
const char *mcp_session_of(mcp *m, const char *case_id);

/* The resources and prompts (tools.c). */
void mcp_case_resource(mcp *m, const char *ref, mcp_out *out);
/* The open cases as resources, a page after cursor; *flags gets the detector's flags
 * of their titles. NULL with err on a bad cursor. */
cJSON *mcp_resource_list(mcp *m, const char *cursor, int *flags, char *err, size_t errsz);
/* The injection detector's flags for s (cleaned), remembered for the session. */
int mcp_verdict(mcp_verdicts *v, const char *s);

#endif
