/*
 * sync_client.h — syncing a workspace with its team's vigild over HTTP
 * (sync-protocol v1: vigild(8)), with libcurl's easy interface.
 *
 * One call, net_sync, does a whole round: a block of case refs when the
 * workspace needs one (POST /v1/refs), then push (POST /v1/ops, zstd pages of the
 * remote's user's ops), then pull (GET /v1/ops, pages until the server's head,
 * optionally long-polling the last). It blocks; the workstation runs it on a
 * thread of its own with a workspace handle of its own, and cancels it through
 * opts.stop. Nothing here is global (curl's own init is curl_lazy.c's).
 *
 * The transport: curl never opens a connection itself. It asks a net_transport
 * for a connected socket (CURLOPT_OPENSOCKETFUNCTION), which for http:// remotes
 * is a TCP connection to HOST:PORT and, with the SSH transport, one end of a
 * socketpair bridged to an SSH channel. curl speaks HTTP/1.1 over whatever it gets.
 */
#ifndef VIGIL_SYNC_CLIENT_H
#define VIGIL_SYNC_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "vigil/buf.h"
#include "vigil/err.h"
#include "vigil/remote.h"
#include "vigil/ws.h"

typedef struct net_transport net_transport;
struct net_transport {
    /* A socket connected to the remote's vigild (the caller closes it), or -1 with
     * err saying why ("cannot reach 127.0.0.1:8470: Connection refused"). Called
     * on the syncing thread, once per connection curl opens. */
    int (*connect)(net_transport *t, vg_err *err);
    const vg_remote *remote;
    int timeout_ms; /* for connecting */
    void *ud;       /* the transport's own state */
    volatile int *stop; /* net_sync sets it to opts.stop: connecting gives up when it turns
                         * non-zero (NULL: never) */
    /* The transport's own words, kept in its state (so a copy of this struct sees
     * them too): how the last connection went ("tcp", "ssh direct-tcpip", ...) and,
     * when a connection ended that should not have, why ("vigild --stdio: command
     * not found (exit 127)"; "" when nothing to say). NULL: none. */
    const char *how, *why;
    /* The host key the transport last refused (state not OK), or NULL / state OK
     * when none: for a screen to say so in few words (ssh.h). */
    const struct net_hostkey *refused;
    void (*close)(net_transport *t); /* NULL: nothing to close */
    void (*cut)(net_transport *t);   /* NULL: nothing held */
};

/* A TCP connection to host:port within ms milliseconds, given up when *stop turns
 * non-zero (stop NULL: never): the socket, or -1 with err naming host:port and why. */
int net_tcp_connect(const char *host, int port, int ms, volatile int *stop, vg_err *err);

/* The transport for r's URL (http://: TCP to r->host:r->port within 5 s). */
void net_transport_tcp(net_transport *t, const vg_remote *r);

typedef struct net_sync_opts {
    int wait;                  /* 0..30: seconds the last pull may long-poll */
    volatile int *stop;        /* when it turns non-zero, the round ends (NULL: never);
                                * read atomically: another thread sets it with
                                * __atomic_store_n */
    net_transport *transport;  /* NULL: net_transport_tcp */
} net_sync_opts;

typedef struct net_sync_result {
    int64_t pushed;            /* ops the server took (not those it held already) */
    int64_t pulled;            /* ops new to this workspace */
    int64_t renumbered;        /* cases given lease refs */
    int64_t renum_from_lo, renum_from_hi, renum_to_lo, renum_to_hi;
    int64_t bytes_sent, bytes_received; /* on the wire, headers included */
    bool reset;                /* the server had lost what we pulled: cursors reset, done again */
    bool read_only;            /* the token may not write (a viewer): refs and push skipped */
    bool offline;              /* failed because the server could not be reached */
    bool cancelled;            /* opts.stop ended it */
    long status;               /* the HTTP status of a refusal (0: none) */
} net_sync_result;

/* One sync round of ws with r, authenticating with token (contract above). Each
 * step commits what it got before the next starts, so a round that fails keeps
 * what it did. Errors name the step (refs, push, pull), the HTTP status and the
 * server's message, made safe. *out is filled on failure too. */
VG_WUR vg_rc net_sync(vg_ws *ws, const vg_remote *r, const char *token, const net_sync_opts *o,
                      net_sync_result *out, vg_err *err);

/* A new replica's start: GET /v1/snapshot, decompressed as it arrives into a new
 * file at path (made 0600; removed again on failure), the tenant's workspace as of
 * the op *seq (*id). The caller adopts it (vg_sync_adopt) and pulls the rest.
 * Decoded, a snapshot may be 64 GB at most. */
VG_WUR vg_rc net_snapshot(const vg_remote *r, const char *token, const net_sync_opts *o,
                          const char *path, int64_t *seq, char id[27], net_sync_result *out,
                          vg_err *err);

typedef struct net_whoami_result {
    char tenant[65], user[65], role[16];
    bool offline;
    long status;
} net_whoami_result;
/* GET /v1/whoami: who the server knows token as. */
VG_WUR vg_rc net_whoami(const vg_remote *r, const char *token, const net_sync_opts *o,
                        net_whoami_result *out, vg_err *err);

/* An evidence item's content to the team's server (PUT /v1/evidence/SHA256: its
 * register entry must have been pushed), or from it (GET, at most cap bytes, into
 * out). *status the HTTP status (404: the tenant holds no such content). The
 * caller checks what it got against the hash. */
VG_WUR vg_rc net_evidence_put(const vg_remote *r, const char *token, const net_sync_opts *o,
                              const char *sha256, const void *data, size_t len, long *status,
                              vg_err *err);
VG_WUR vg_rc net_evidence_get(const vg_remote *r, const char *token, const net_sync_opts *o,
                              const char *sha256, size_t cap, vg_buf *out, long *status,
                              vg_err *err);

#endif
