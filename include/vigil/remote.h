/*
 * remote.h — the team server a workspace syncs with (remote.c): its name, its
 * address, and who the server knows this replica as. One remote per workspace:
 * the server leases the workspace its case refs, and a lease is one team's.
 *
 * A remote is workspace state (meta 'remote:NAME', a small JSON object), not
 * configuration: it travels with the workspace file, and whoever opens the file
 * writes as the remote's user. Its token is not here but in the 0600 secrets file
 * (the CLI's), so the workspace can be copied without the credential.
 */
#ifndef VIGIL_REMOTE_H
#define VIGIL_REMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/err.h"
#include "vigil/ws.h"

#define VG_REMOTE_NAME 65  /* [a-z0-9][a-z0-9._-]{0,63} and its NUL */
#define VG_REMOTE_URL 600  /* ssh://USER@HOST:PORT/DIR?port=N: HOST at most 253 bytes, DIR 200 */

typedef struct vg_remote {
    char name[VG_REMOTE_NAME];
    char url[VG_REMOTE_URL];   /* as stored: "http://HOST:PORT" (no trailing slash) or
                                * "ssh://[USER@]HOST[:PORT][/DIR][?port=N]" */
    char user[VG_REMOTE_NAME]; /* the server's user for this replica's token */
    char tenant[VG_REMOTE_NAME];
    int64_t added_at;          /* ms since the epoch */
    /* parsed from url: where HTTP goes (for ssh://, vigild's loopback port on the
     * SSH host: 127.0.0.1 and ?port=, 8470 by default) */
    char host[256];
    int port;
    /* ssh:// only (ssh false: all empty) */
    bool ssh;
    char ssh_host[256];  /* the host as written: a name, an IPv4 address or a ~/.ssh/config alias */
    int ssh_port;        /* 0: as ~/.ssh/config says, else 22 */
    char ssh_user[65];   /* "": as ~/.ssh/config says, else the login name */
    char ssh_dir[201];   /* the /path: vigild's --data for the exec fallback ("": its default) */
} vg_remote;

/* VG_OK when name is [a-z0-9][a-z0-9._-]{0,63}; VG_EINVAL naming what is wrong. */
VG_WUR vg_rc vg_remote_check_name(const char *name, vg_err *err);
/* Parse url into r->url (the stored form) and the fields after it:
 *   http://HOST:PORT[/]                        loopback and tests
 *   ssh://[USER@]HOST[:PORT][/DIR][?port=N]    vigild on HOST, reached through SSH
 * HOST is a name or an IPv4 address (for ssh://, also a ~/.ssh/config alias);
 * DIR is absolute, without "..". Anything else is VG_EINVAL naming what is
 * wrong: another scheme, a password, a path or query http:// does not take, a
 * missing or bad port. */
VG_WUR vg_rc vg_remote_parse_url(const char *url, vg_remote *r, vg_err *err);

/* Store r (name, url, user, tenant; added_at is set here). VG_EEXIST when the
 * workspace has a remote already, whatever its name: one team per workspace. */
VG_WUR vg_rc vg_remote_add(vg_ws *ws, vg_remote *r, vg_err *err);
/* The remote called name, or with name NULL the workspace's one remote.
 * VG_ENOTFOUND (with a message saying how to add one) when there is none. */
VG_WUR vg_rc vg_remote_get(vg_ws *ws, const char *name, vg_remote *out, vg_err *err);
/* Every remote, in name order (at most one today). *out is the caller's to free. */
VG_WUR vg_rc vg_remote_list(vg_ws *ws, vg_remote **out, size_t *n, vg_err *err);
/* Forget the remote and its sync cursors (vg_sync_forget). VG_ENOTFOUND when
 * there is no such remote. */
VG_WUR vg_rc vg_remote_rm(vg_ws *ws, const char *name, vg_err *err);

/* The actors of this workspace's ops other than user, in name order (*out and its
 * strings are the caller's: vg_remote_actors_free). A replica pushes only its
 * user's ops, so these would never reach the team. */
VG_WUR vg_rc vg_remote_foreign_actors(vg_ws *ws, const char *user, char ***out, size_t *n,
                                      vg_err *err);
void vg_remote_actors_free(char **actors, size_t n);
/* How many of the remote's user's ops are not pushed yet. */
VG_WUR vg_rc vg_remote_waiting(vg_ws *ws, const vg_remote *r, int64_t *n, vg_err *err);
/* What a lease renumbered: how many cases, and the spans of their refs before
 * and after (0s when none). */
typedef struct vg_ref_moves {
    int64_t n, from_lo, from_hi, to_lo, to_hi;
} vg_ref_moves;
/* vg_refs_lease(ws, lo, hi), telling the analyst which refs it renumbered: the
 * refs of the cases that wait for a lease ref (every case before the first lease,
 * the provisional ones after) are read before and after. */
VG_WUR vg_rc vg_remote_lease(vg_ws *ws, int64_t lo, int64_t hi, vg_ref_moves *out, vg_err *err);

#endif
