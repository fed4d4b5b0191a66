/*
 * ssh.h — the SSH transport (ssh.c): HTTP to vigild carried through an SSH
 * session that vigil opens itself with libssh, as the analyst's ssh(1) would.
 *
 * What is read of the analyst's set-up: ~/.ssh/config (then /etc/ssh/ssh_config)
 * for Host, HostName, Port, User, IdentityFile, IdentitiesOnly, ProxyJump,
 * ConnectTimeout and ServerAliveInterval; the agent (SSH_AUTH_SOCK); key files,
 * asking for a passphrase through opts.ask; ~/.ssh/known_hosts and
 * /etc/ssh/ssh_known_hosts, hashed entries included. "~" is $HOME.
 *
 * Each HTTP connection curl opens is one channel: a direct-tcpip channel to
 * vigild's loopback port, or, where sshd forbids forwarding, an exec channel
 * running `vigild [--data DIR] --stdio`, which speaks the same HTTP on its stdin
 * and stdout. The channel is bridged to one end of a socketpair by a thread of
 * the transport's own, and curl gets the other end. The session stays open
 * between connections (a workstation's rounds reuse it) until it drops or the
 * transport is closed; a dropped session is opened again at the next connect.
 */
#ifndef VIGIL_NET_SSH_H
#define VIGIL_NET_SSH_H

#include <stdbool.h>

#include "sync_client.h"

typedef struct net_ssh_opts {
    /* Ask the analyst for a secret (a key's passphrase): the prompt, the answer into
     * buf (NUL-terminated), 0, or -1 when nobody can be asked. NULL: never ask (the
     * workstation's thread: the header says to add the key to the agent). The net
     * layer knows no terminal; the CLI asks on /dev/tty. */
    int (*ask)(void *ud, const char *prompt, char *buf, size_t n);
    void *ask_ud;
    int keepalive_s;    /* SSH keepalive when idle (0: ServerAliveInterval, else 15) */
} net_ssh_opts;

/* Whether libssh.so.4 can be loaded (ssh_lazy.c: vigil loads it on first use). */
bool net_ssh_available(void);

/* The transport for r: TCP for http:// remotes (net_transport_tcp), SSH for
 * ssh:// ones. net_transport_close ends what it opened. */
void net_transport_for(net_transport *t, const vg_remote *r, const net_ssh_opts *o);
void net_transport_close(net_transport *t);
/* Open what the transport keeps before its first connection: for SSH the whole
 * chain, host keys checked and logged in (a passphrase asked then), so that a
 * command can refuse before it asks for anything else; nothing for TCP. */
VG_WUR vg_rc net_transport_open(net_transport *t, vg_err *err);
/* Shut down every socket the transport holds (another thread may call it): what
 * is connecting or in flight ends at once; the next connect starts again. */
void net_transport_cut(net_transport *t);

/* How the transport's last connection went through ("" before one, "tcp",
 * "ssh direct-tcpip", "ssh exec vigild --stdio"). */
const char *net_transport_how(const net_transport *t);

/* A host key as the known_hosts files see it. */
typedef enum {
    NET_HOSTKEY_OK,        /* known and the same */
    NET_HOSTKEY_UNKNOWN,   /* no entry for this host */
    NET_HOSTKEY_CHANGED,   /* an entry with another key: refused, never replaced */
} net_hostkey_state;

typedef struct net_hostkey {
    char host[300];        /* the hop: "[host]:port" or "host", as known_hosts names it */
    char type[32];         /* "ssh-ed25519" */
    char fingerprint[80];  /* "SHA256:..." */
    net_hostkey_state state; /* as found */
    bool added;              /* net_ssh_trust added it to known_hosts */
} net_hostkey;

/* `vigil remote trust`: open each hop of r (ProxyJump hops first; logging in at
 * each, since the next is reached through it) up to the first whose host key
 * known_hosts does not know, and report it in *out (state UNKNOWN). With a
 * fingerprint, that hop's key is added to ~/.ssh/known_hosts when it is the one
 * offered (out->added; VG_EINVAL naming both when it is not), and the walk ends
 * there: the caller looks again for the hops after it. A
 * changed key is VG_EEXIST and never replaced. All known: VG_OK, state OK, the
 * target's key in *out. */
VG_WUR vg_rc net_ssh_trust(const vg_remote *r, const net_ssh_opts *o, const char *fingerprint,
                           net_hostkey *out, vg_err *err);

/* `vigil remote test`: each step in order, told to step() as it ends (name,
 * ok, what was found or why not), stopping at the first that fails. Steps for
 * ssh://: resolve, connect, host key, auth, channel, vigild, token; for http://:
 * resolve, connect, vigild, token. VG_OK when all passed. */
typedef void (*net_test_step)(void *ud, const char *name, bool ok, const char *detail);
VG_WUR vg_rc net_remote_test(const vg_remote *r, const char *token, const net_ssh_opts *o,
                             net_test_step step, void *ud, vg_err *err);

#endif
