/*
 * ssh.c — the SSH transport (contract in ssh.h).
 *
 * A transport holds one chain of SSH sessions: the ProxyJump hops, each reached
 * through a direct-tcpip channel of the one before (bridged to a socketpair that
 * the next session reads as its socket), and the target. Every channel is pumped
 * by a thread of its own that owns its session while it runs (libssh sessions are
 * not to be shared between threads): a hop's pump lives as long as the chain, the
 * target's as long as one HTTP connection. Between two connections the target
 * session is idle and the connecting thread owns it.
 *
 * libssh 0.10 reads most of ~/.ssh/config (HostName, Port, User, IdentityFile,
 * ConnectTimeout, KnownHosts files, Include, Match), but turns ProxyJump into a
 * ProxyCommand running ssh(1), and ignores IdentitiesOnly and ServerAliveInterval.
 * Those few are looked up here (cfg_lookup), with the same first-match rules, so
 * the hops are opened by libssh in this process and never by a program it runs
 * (a ProxyCommand is refused with a word on ProxyJump).
 *
 * Keys: the agent first (unless IdentitiesOnly: libssh offers every agent key or
 * none), then the IdentityFile keys (the defaults when none), each offered by its
 * public half before its private half is read, so a passphrase is asked only for a
 * key the server would take.
 */
#include "ssh.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libssh/libssh.h>

#include "vigil/text.h"

#define MAX_HOPS 8          /* ProxyJump hops, and the target */
#define MAX_IDS 16          /* IdentityFile lines looked at */
#define CONNECT_S 10        /* ConnectTimeout when the config says none */
#define KEEPALIVE_S 15      /* ServerAliveInterval when the config says none */
#define PUMP_BUF (64u << 10)
#define HALT ((vg_rc)0x100) /* hop_open: stopped at an unknown key, as trust asked */
#define WHY_SIZE (WHY_TAIL + 400)
#define WHY_TAIL 200        /* bytes of an exec channel's stderr kept to say why it ended */

/* ---- the few config keys libssh leaves out ------------------------------------------ */

typedef struct cfg {
    char proxyjump[512];
    bool proxycommand;   /* a ProxyCommand came first (not run: refused) */
    int identities_only; /* -1: not said */
    int alive_s;         /* ServerAliveInterval; -1: not said */
    int timeout_s;       /* ConnectTimeout; -1: not said */
    char ids[MAX_IDS][256];
    int nids;
} cfg;

/* $HOME, or "" when unset ("~" is $HOME: vigil's other files are found there too). */
static const char *home(void)
{
    const char *h = getenv("HOME");
    return h && *h == '/' ? h : "";
}

/* path with a leading "~/" as $HOME and "%d" as $HOME/.ssh, into out. */
static void expand(const char *path, char *out, size_t n)
{
    if (strncmp(path, "~/", 2) == 0)
        snprintf(out, n, "%s/%s", home(), path + 2);
    else if (strncmp(path, "%d/", 3) == 0)
        snprintf(out, n, "%s/.ssh/%s", home(), path + 3);
    else
        snprintf(out, n, "%s", path);
}

/* s as a whole decimal number in [lo, hi], or -1 (the config's and a ProxyJump
 * entry's numbers: a port, seconds). */
static long num_in(const char *s, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    return *s >= '0' && *s <= '9' && !*end && !errno && v >= lo && v <= hi ? v : -1;
}

/* Does host match the Host line's patterns (a negated one vetoes)? */
static bool host_matches(char *pats, const char *host)
{
    bool yes = false;
    for (char *save, *p = strtok_r(pats, " \t,", &save); p; p = strtok_r(NULL, " \t,", &save)) {
        bool neg = *p == '!';
        if (fnmatch(p + neg, host, FNM_CASEFOLD) == 0) {
            if (neg)
                return false;
            yes = true;
        }
    }
    return yes;
}

static void cfg_file(cfg *c, const char *path, const char *host, bool user, int depth);

/* One "Key value" (or "Key=value") line of a config file for host. *on says
 * whether the lines apply (Host and Match change it). */
static void cfg_line(cfg *c, char *line, const char *host, bool user, int depth, bool *on)
{
    char *k = line + strspn(line, " \t");
    if (!*k || *k == '#')
        return;
    size_t kl = strcspn(k, " \t=");
    char *v = k + kl;
    v += strspn(v, " \t");
    if (*v == '=')
        v++;
    v += strspn(v, " \t");
    size_t vl = strlen(v);
    while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t' || v[vl - 1] == '\r'))
        v[--vl] = '\0';
    if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
        v[vl - 1] = '\0';
        v++;
    }
    k[kl] = '\0';
    if (strcasecmp(k, "Host") == 0) {
        *on = host_matches(v, host);
    } else if (strcasecmp(k, "Match") == 0) {
        /* Only "Match all" and "Match host PATTERNS" are read here; under any other
         * criterion these few keys are left to their defaults (libssh still reads
         * the rest of the block). */
        char *save, *w = strtok_r(v, " \t", &save);
        if (w && strcasecmp(w, "all") == 0)
            *on = true;
        else if (w && strcasecmp(w, "host") == 0 && (w = strtok_r(NULL, "", &save)))
            *on = host_matches(w, host);
        else
            *on = false;
    } else if (!*on) {
        return; /* below: only where the Host or Match block applies */
    } else if (strcasecmp(k, "Include") == 0 && depth < 8) { /* conditional, as ssh's */
        char pat[512], *save;
        for (char *p = strtok_r(v, " \t", &save); p; p = strtok_r(NULL, " \t", &save)) {
            if (*p == '~' || *p == '/' || *p == '%')
                expand(p, pat, sizeof pat);
            else if (user)
                snprintf(pat, sizeof pat, "%s/.ssh/%s", home(), p);
            else
                snprintf(pat, sizeof pat, "/etc/ssh/%s", p);
            glob_t g;
            if (glob(pat, 0, NULL, &g) == 0)
                for (size_t i = 0; i < g.gl_pathc; i++)
                    cfg_file(c, g.gl_pathv[i], host, user, depth + 1);
            globfree(&g);
        }
    } else if (strcasecmp(k, "ProxyJump") == 0 && !c->proxyjump[0]) {
        snprintf(c->proxyjump, sizeof c->proxyjump, "%s", v);
    } else if (strcasecmp(k, "ProxyCommand") == 0 && !c->proxyjump[0]) {
        /* The first of ProxyJump and ProxyCommand wins, as in ssh(1). vigil runs
         * no program to connect: a ProxyCommand is refused, saying so. */
        c->proxycommand = strcasecmp(v, "none") != 0;
        snprintf(c->proxyjump, sizeof c->proxyjump, "none");
    } else if (strcasecmp(k, "IdentitiesOnly") == 0 && c->identities_only < 0) {
        c->identities_only = strcasecmp(v, "yes") == 0;
    } else if (strcasecmp(k, "ServerAliveInterval") == 0 && c->alive_s < 0) {
        c->alive_s = (int)num_in(v, 0, 86400);
    } else if (strcasecmp(k, "ConnectTimeout") == 0 && c->timeout_s < 0) {
        c->timeout_s = (int)num_in(v, 0, 86400);
    } else if (strcasecmp(k, "IdentityFile") == 0 && c->nids < MAX_IDS) {
        expand(v, c->ids[c->nids], sizeof c->ids[0]);
        c->nids++;
    }
}

static void cfg_file(cfg *c, const char *path, const char *host, bool user, int depth)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    char line[1024];
    bool on = true; /* lines before the first Host apply to every host */
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        cfg_line(c, line, host, user, depth, &on);
    }
    fclose(f);
}

/* The keys for host (the name as written: an alias, before HostName). */
static void cfg_lookup(cfg *c, const char *host)
{
    memset(c, 0, sizeof *c);
    c->identities_only = c->alive_s = c->timeout_s = -1;
    char path[512];
    snprintf(path, sizeof path, "%s/.ssh/config", home());
    cfg_file(c, path, host, true, 0);
    cfg_file(c, "/etc/ssh/ssh_config", host, false, 0);
    if (strcasecmp(c->proxyjump, "none") == 0)
        c->proxyjump[0] = '\0';
}

/* ---- the chain ------------------------------------------------------------------------ */

typedef struct pump pump;

typedef struct hop {
    char name[300];     /* as the analyst wrote it: "jump.example" or "analyst@soc-srv:2222" */
    char alias[256];    /* the host part, looked up in the config */
    char user[65];
    int port;           /* 0: as the config says */
    ssh_session s;
    int fd;             /* what s reads: a TCP socket (the first hop) or a socketpair end */
    pump *via;          /* the previous hop's pump feeding fd (NULL: TCP) */
    cfg c;
    char host[256];     /* after the config: HostName and port */
    int hport;
    char khost[300];    /* as known_hosts names it */
} hop;

struct pump {
    pthread_t th;
    ssh_session s;
    ssh_channel ch;
    int fd;             /* the pump's end of the socketpair */
    int alive_s;
    volatile int stop;
    bool exec;          /* an exec channel: keep its stderr, its exit status */
    char *why;          /* where to say why it ended badly (the transport's) */
    const char *fwd;    /* why forwarding was refused, before the exec ("" when it was not) */
    pthread_mutex_t *mu;
};

typedef struct sshx {
    const vg_remote *r;
    net_ssh_opts o;
    pthread_mutex_t mu; /* fds and how/why against cut() and the pumps */
    hop hops[MAX_HOPS];
    int nplan;          /* hops planned, the target last (0: not planned yet) */
    int n;              /* hops open (0: no session) */
    bool authed;
    bool no_forward;    /* the target refused direct-tcpip: exec from now on */
    pump *cur;          /* the target's channel being pumped, or NULL */
    char how[48];
    char why[WHY_SIZE];
    char fwd[300];       /* why the target refused direct-tcpip ("": it did not) */
    net_hostkey refused; /* the key last refused (state OK: none) */
} sshx;

static bool stopped(volatile int *stop) { return stop && __atomic_load_n(stop, __ATOMIC_RELAXED); }

/* fd is a socket (a socketpair's end, or TCP): send(), so that a peer gone
 * mid-write is an error here, not a SIGPIPE that kills vigil. */
static void write_all(int fd, const char *p, size_t n, bool *ok)
{
    while (*ok && n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            *ok = false;
            return;
        }
        p += w;
        n -= (size_t)w;
    }
}

/* Keep the last WHY_TAIL bytes of an exec channel's stderr. */
static void tail_add(char *tail, size_t *tl, const char *p, size_t n)
{
    size_t k = n > WHY_TAIL ? WHY_TAIL : n;
    if (*tl + k > WHY_TAIL) {
        memmove(tail, tail + (*tl + k - WHY_TAIL), WHY_TAIL - k);
        *tl = WHY_TAIL - k;
    }
    memcpy(tail + *tl, p + n - k, k);
    *tl += k;
}

/* Say why an exec channel ended (its vigild's last words on stderr, its exit
 * status), before curl is told the connection is over: it reads why then.
 * Nothing when it ended as asked (exit 0 after the client's EOF): its stderr is
 * then only its log. */
static void exec_why(pump *p, char *buf, char *tail, size_t tl, bool client_done)
{
    int n;
    while ((n = ssh_channel_read_nonblocking(p->ch, buf, PUMP_BUF, 1)) > 0)
        tail_add(tail, &tl, buf, (size_t)n);
    int st = ssh_channel_get_exit_status(p->ch);
    tail[tl] = '\0';
    for (size_t i = 0; i < tl; i++) /* one line, for an error message */
        if (tail[i] == '\n' || tail[i] == '\r' || tail[i] == '\t')
            tail[i] = ' ';
    while (tl && tail[tl - 1] == ' ')
        tl--;
    if (st > 0 || (tl && !client_done)) { /* not a vigild that ended as asked */
        char safe[WHY_TAIL + 1];
        vg_text_safe(tail, tl, VG_TEXT_ASCII, safe, sizeof safe);
        pthread_mutex_lock(p->mu);
        snprintf(p->why, WHY_SIZE, "%s%sthe exec channel's vigild --stdio: %s%s", p->fwd,
                 p->fwd[0] ? "; then " : "", safe, tl ? "" : "it ended");
        if (st > 0) {
            size_t w = strlen(p->why);
            snprintf(p->why + w, WHY_SIZE - w, " (exit %d)", st);
        }
        pthread_mutex_unlock(p->mu);
    }
}

/* Bridge ch and fd until both ends are done, the session drops or stop is set. */
static void *pump_run(void *ud)
{
    pump *p = ud;
    char *buf = malloc(PUMP_BUF);
    char tail[WHY_TAIL + 1] = "";
    size_t tl = 0;
    bool fd_eof = false, ch_eof = false, ok = buf != NULL, told = false;
    time_t last = time(NULL);
    while (ok && !__atomic_load_n(&p->stop, __ATOMIC_RELAXED)) {
        int n;
        while (ok && (n = ssh_channel_read_nonblocking(p->ch, buf, PUMP_BUF, 0)) > 0) {
            write_all(p->fd, buf, (size_t)n, &ok);
            last = time(NULL);
        }
        if (n == SSH_ERROR)
            break;
        while (p->exec && (n = ssh_channel_read_nonblocking(p->ch, buf, PUMP_BUF, 1)) > 0)
            tail_add(tail, &tl, buf, (size_t)n);
        if (!ch_eof && (ssh_channel_is_eof(p->ch) || ssh_channel_is_closed(p->ch))) {
            ch_eof = true;
            if (p->exec) {
                exec_why(p, buf, tail, tl, fd_eof);
                told = true;
            }
            shutdown(p->fd, SHUT_WR);
        }
        if (ch_eof && (fd_eof || ssh_channel_is_closed(p->ch)))
            break;
        struct pollfd pf[2] = {{.fd = fd_eof ? -1 : p->fd, .events = POLLIN},
                               {.fd = ssh_get_fd(p->s), .events = POLLIN}};
        int r = poll(pf, 2, 500);
        if (r < 0 && errno != EINTR)
            break;
        if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t got = read(p->fd, buf, PUMP_BUF);
            if (got > 0) {
                if (ssh_channel_write(p->ch, buf, (uint32_t)got) != got)
                    break;
                last = time(NULL);
            } else if (got == 0 || errno != EINTR) {
                fd_eof = true;
                if (ch_eof)
                    break;
                ssh_channel_send_eof(p->ch);
            }
        }
        /* SSH_MSG_IGNORE when idle: a NAT keeps the mapping, and a peer that is gone
         * shows as a failed write (the TCP socket has a user timeout) */
        if (p->alive_s > 0 && time(NULL) - last >= p->alive_s) {
            if (ssh_send_ignore(p->s, "") != SSH_OK)
                break;
            last = time(NULL);
        }
    }
    if (p->exec && !told)
        exec_why(p, buf, tail, tl, fd_eof);
    free(buf);
    shutdown(p->fd, SHUT_RDWR);
    return NULL;
}

/* Two connected loopback TCP sockets, the first still "connecting" as far as
 * connect() is concerned. curl 7.88 calls connect() on the socket a transport
 * gives it (CURL_SOCKOPT_ALREADY_CONNECTED notwithstanding): Linux answers 0 for
 * a TCP socket whose non-blocking connect has completed unseen, and an error for
 * an AF_UNIX socketpair. The listener lives for one accept, on 127.0.0.1 only,
 * and the peer accepted must be our socket: anyone else's connection is closed. */
static int tcp_pair(int sp[2])
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sp[0] = sp[1] = -1;
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, 4) != 0 ||
        getsockname(l, (struct sockaddr *)&a, &al) != 0)
        goto fail;
    sp[1] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (sp[1] < 0 || (connect(sp[1], (struct sockaddr *)&a, sizeof a) != 0 && errno != EINPROGRESS))
        goto fail;
    struct sockaddr_in mine, peer;
    socklen_t ml = sizeof mine;
    if (getsockname(sp[1], (struct sockaddr *)&mine, &ml) != 0)
        goto fail;
    for (int tries = 0; tries < 8; tries++) {
        socklen_t pl = sizeof peer;
        int c = accept4(l, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC);
        if (c < 0 && errno == EINTR)
            continue;
        if (c < 0)
            goto fail;
        if (peer.sin_port == mine.sin_port && peer.sin_addr.s_addr == mine.sin_addr.s_addr) {
            sp[0] = c;
            close(l);
            int one = 1;
            setsockopt(sp[0], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            setsockopt(sp[1], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            return 0;
        }
        close(c); /* not ours */
    }
fail:
    if (l >= 0)
        close(l);
    if (sp[1] >= 0)
        close(sp[1]);
    return -1;
}

/* Start pumping ch (of s) to a new socket pair: the other end, or -1. The end
 * given to the next SSH session (ProxyJump) is a socketpair; the end given to
 * curl, a loopback TCP socket (tcp_pair). */
static int pump_start(sshx *x, pump **out, ssh_session s, ssh_channel ch, bool exec, int alive_s,
                      bool for_curl, vg_err *err)
{
    int sp[2];
    if ((for_curl ? tcp_pair(sp) : socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp)) != 0) {
        vg_fail(err, VG_EIO, "cannot make a socket pair: %s", strerror(errno));
        return -1;
    }
    pump *p = calloc(1, sizeof *p);
    if (!p)
        abort();
    *p = (pump){.s = s, .ch = ch, .fd = sp[0], .alive_s = alive_s, .exec = exec,
                .why = x->why, .fwd = x->fwd, .mu = &x->mu};
    if (pthread_create(&p->th, NULL, pump_run, p) != 0) {
        free(p);
        close(sp[0]);
        close(sp[1]);
        vg_fail(err, VG_EIO, "cannot start a thread");
        return -1;
    }
    *out = p;
    return sp[1];
}

/* Stop p, wait for it, close its channel. */
static void pump_end(sshx *x, pump *p)
{
    if (!p)
        return;
    __atomic_store_n(&p->stop, 1, __ATOMIC_RELAXED);
    pthread_mutex_lock(&x->mu);
    shutdown(p->fd, SHUT_RDWR);
    pthread_mutex_unlock(&x->mu);
    pthread_join(p->th, NULL);
    ssh_channel_close(p->ch);
    ssh_channel_free(p->ch);
    pthread_mutex_lock(&x->mu);
    close(p->fd);
    p->fd = -1;
    pthread_mutex_unlock(&x->mu);
    free(p);
}

/* Close the chain from the target back to the first hop. */
static void chain_close(sshx *x)
{
    pump_end(x, x->cur);
    x->cur = NULL;
    for (int i = x->n - 1; i >= 0; i--) {
        hop *h = &x->hops[i];
        /* the next hop's pump reads this session: ended first */
        if (i + 1 < x->n)
            pump_end(x, x->hops[i + 1].via), x->hops[i + 1].via = NULL;
        if (h->s) {
            ssh_disconnect(h->s);
            ssh_free(h->s);
            h->s = NULL;
        }
        pthread_mutex_lock(&x->mu);
        if (h->fd >= 0)
            close(h->fd);
        h->fd = -1;
        pthread_mutex_unlock(&x->mu);
    }
    x->n = 0;
    x->authed = false;
}

/* "[user@]host[:port]" into h (from a URL or a ProxyJump entry). */
static vg_rc hop_parse(hop *h, const char *spec, vg_err *err)
{
    memset(h, 0, sizeof *h);
    h->fd = -1;
    snprintf(h->name, sizeof h->name, "%s", spec);
    const char *at = strchr(spec, '@'), *host = at ? at + 1 : spec;
    if (at)
        snprintf(h->user, sizeof h->user, "%.*s", (int)(at - spec), spec);
    const char *colon = strrchr(host, ':');
    snprintf(h->alias, sizeof h->alias, "%.*s", (int)(colon ? colon - host : (long)strlen(host)),
             host);
    if (colon)
        h->port = (int)num_in(colon + 1, 1, 65535);
    bool ok = h->alias[0] && h->alias[0] != '-' && (!colon || h->port > 0);
    for (const char *c = h->alias; ok && *c; c++)
        ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
             strchr("._-", *c);
    ok = ok && h->user[0] != '-';
    for (const char *c = h->user; ok && *c; c++)
        ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
             strchr("._-", *c);
    if (!ok)
        return vg_fail(err, VG_EINVAL, "ProxyJump entry '%.100s' is not [user@]host[:port]", spec);
    return VG_OK;
}

/* The chain for r: its ProxyJump hops (from the target's config), then the target. */
static vg_rc chain_plan(sshx *x, vg_err *err)
{
    const vg_remote *r = x->r;
    if (!net_ssh_available())
        return vg_fail(err, VG_EIO, "ssh:// remotes need libssh, which is not installed"
                                    " (apt install libssh-4)");
    hop *t = &x->hops[0];
    memset(t, 0, sizeof *t);
    t->fd = -1;
    snprintf(t->alias, sizeof t->alias, "%s", r->ssh_host);
    snprintf(t->user, sizeof t->user, "%s", r->ssh_user);
    t->port = r->ssh_port;
    snprintf(t->name, sizeof t->name, "%s", r->ssh_host);
    cfg_lookup(&t->c, t->alias);
    if (t->c.proxycommand)
        return vg_fail(err, VG_EINVAL, "%s: ~/.ssh/config gives a ProxyCommand, which vigil does"
                                       " not run (it opens SSH itself): use ProxyJump",
                       r->ssh_host);
    hop target = *t;
    int n = 0;
    if (target.c.proxyjump[0]) {
        char list[512], *save;
        snprintf(list, sizeof list, "%s", target.c.proxyjump);
        for (char *e = strtok_r(list, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
            if (n == MAX_HOPS - 1)
                return vg_fail(err, VG_EINVAL, "ProxyJump for %s: more than %d hops",
                               r->ssh_host, MAX_HOPS - 1);
            vg_rc rc = hop_parse(&x->hops[n], e + strspn(e, " \t"), err);
            if (rc)
                return rc;
            cfg_lookup(&x->hops[n].c, x->hops[n].alias);
            n++;
        }
    }
    x->hops[n] = target;
    x->nplan = n + 1;
    x->n = 0; /* none open yet */
    return VG_OK;
}

#define STEP(name, ok, ...)                                                                   \
    do {                                                                                       \
        if (step) {                                                                            \
            char d_[1200];                                                                     \
            snprintf(d_, sizeof d_, __VA_ARGS__);                                              \
            step(ud, name, ok, d_);                                                            \
        }                                                                                      \
    } while (0)

/* `remote test`'s first step: does host resolve? */
static vg_rc step_resolve(const char *host, net_test_step step, void *ud, vg_err *err)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    int g = getaddrinfo(host, NULL, &hints, &ai);
    if (g != 0) {
        STEP("resolve", false, "%s: %s", host, gai_strerror(g));
        return vg_fail(err, VG_EIO, "cannot resolve %s: %s", host, gai_strerror(g));
    }
    freeaddrinfo(ai);
    STEP("resolve", true, "%s", host);
    return VG_OK;
}

/* The passphrase callback for libssh's key import. */
typedef struct ask_ctx {
    const net_ssh_opts *o;
    const char *path;
    bool asked, refused;
} ask_ctx;

static int ask_passphrase(const char *prompt, char *buf, size_t len, int echo, int verify,
                          void *ud)
{
    (void)prompt, (void)echo, (void)verify;
    ask_ctx *a = ud;
    if (!a->o->ask) {
        a->refused = true;
        return -1;
    }
    char p[400];
    snprintf(p, sizeof p, "Passphrase for %s: ", a->path);
    if (a->o->ask(a->o->ask_ud, p, buf, len) != 0) {
        a->refused = true;
        return -1;
    }
    a->asked = true;
    return 0;
}

/* Log in on h->s with a key: 0, or -1 with err saying what was tried. */
static int hop_auth(sshx *x, hop *h, vg_err *err)
{
    ssh_session s = h->s;
    int rc = ssh_userauth_none(s, NULL);
    if (rc == SSH_AUTH_SUCCESS)
        return 0;
    if (rc == SSH_AUTH_ERROR) {
        vg_fail(err, VG_EIO, "%s: %s", h->name, ssh_get_error(s));
        return -1;
    }
    if (!(ssh_userauth_list(s, NULL) & SSH_AUTH_METHOD_PUBLICKEY)) {
        vg_fail(err, VG_EINVAL, "%s does not take SSH keys (only keys are tried: no passwords)",
                h->name);
        return -1;
    }
    char tried[600] = "";
    size_t tl = 0;
    bool agent = getenv("SSH_AUTH_SOCK") && h->c.identities_only != 1;
    if (agent) {
        rc = ssh_userauth_agent(s, NULL);
        if (rc == SSH_AUTH_SUCCESS)
            return 0;
        if (rc == SSH_AUTH_ERROR) {
            vg_fail(err, VG_EIO, "%s: %s", h->name, ssh_get_error(s));
            return -1;
        }
        tl += (size_t)snprintf(tried, sizeof tried, "the agent's keys");
    }
    char defs[3][256];
    const char *ids[MAX_IDS];
    int nids = 0;
    for (int i = 0; i < h->c.nids; i++)
        ids[nids++] = h->c.ids[i];
    if (!nids) {
        const char *d[3] = {"id_ed25519", "id_ecdsa", "id_rsa"};
        for (int i = 0; i < 3; i++) {
            snprintf(defs[i], sizeof defs[i], "%s/.ssh/%s", home(), d[i]);
            ids[nids++] = defs[i];
        }
    }
    bool needs_pass = false;
    for (int i = 0; i < nids; i++) {
        if (access(ids[i], R_OK) != 0)
            continue;
        if (tl < sizeof tried)
            tl += (size_t)snprintf(tried + tl, sizeof tried - tl, "%s%s", tl ? ", " : "", ids[i]);
        char pub[270];
        snprintf(pub, sizeof pub, "%s.pub", ids[i]);
        ssh_key pk = NULL;
        if (ssh_pki_import_pubkey_file(pub, &pk) == SSH_OK) {
            rc = ssh_userauth_try_publickey(s, NULL, pk);
            ssh_key_free(pk);
            if (rc == SSH_AUTH_DENIED || rc == SSH_AUTH_PARTIAL)
                continue; /* the server would not take it: no passphrase asked */
            if (rc == SSH_AUTH_ERROR)
                break;
        }
        ask_ctx a = {.o = &x->o, .path = ids[i]};
        ssh_key key = NULL;
        if (ssh_pki_import_privkey_file(ids[i], NULL, ask_passphrase, &a, &key) != SSH_OK) {
            if (a.refused) {
                needs_pass = true;
                continue;
            }
            if (a.asked) { /* asked once: a wrong one is not asked again */
                vg_fail(err, VG_EINVAL, "%s: the passphrase for %s was not right", h->name,
                        ids[i]);
                return -1;
            }
            continue; /* not a key libssh reads */
        }
        rc = ssh_userauth_publickey(s, NULL, key);
        ssh_key_free(key);
        if (rc == SSH_AUTH_SUCCESS)
            return 0;
        if (rc == SSH_AUTH_ERROR)
            break;
    }
    if (rc == SSH_AUTH_ERROR)
        vg_fail(err, VG_EIO, "%s: %s", h->name, ssh_get_error(s));
    else if (needs_pass)
        vg_fail(err, VG_EINVAL, "%s: the key needs its passphrase and none can be asked here:"
                               " add it to the agent (ssh-add)", h->name);
    else
        vg_fail(err, VG_EINVAL, "%s refused the keys (%s) for user %s", h->name,
                tl ? tried : "none found: no agent, no ~/.ssh/id_* key", h->user);
    return -1;
}

/* What known_hosts says of h's key; fills out. */
static vg_rc hop_hostkey(hop *h, net_hostkey *out, vg_err *err)
{
    memset(out, 0, sizeof *out);
    snprintf(out->host, sizeof out->host, "%s", h->khost);
    ssh_key key = NULL;
    unsigned char *hash = NULL;
    size_t hl = 0;
    if (ssh_get_server_publickey(h->s, &key) != SSH_OK ||
        ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hl) != SSH_OK) {
        ssh_key_free(key);
        return vg_fail(err, VG_EIO, "%s: no host key: %s", h->name, ssh_get_error(h->s));
    }
    char *fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hl);
    snprintf(out->fingerprint, sizeof out->fingerprint, "%s", fp ? fp : "?");
    snprintf(out->type, sizeof out->type, "%s", ssh_key_type_to_char(ssh_key_type(key)));
    ssh_string_free_char(fp);
    ssh_clean_pubkey_hash(&hash);
    ssh_key_free(key);
    enum ssh_known_hosts_e k = ssh_session_is_known_server(h->s);
    if (k == SSH_KNOWN_HOSTS_OK)
        out->state = NET_HOSTKEY_OK;
    else if (k == SSH_KNOWN_HOSTS_CHANGED || k == SSH_KNOWN_HOSTS_OTHER)
        out->state = NET_HOSTKEY_CHANGED;
    else if (k == SSH_KNOWN_HOSTS_UNKNOWN || k == SSH_KNOWN_HOSTS_NOT_FOUND)
        out->state = NET_HOSTKEY_UNKNOWN;
    else
        return vg_fail(err, VG_EIO, "%s: cannot read known_hosts: %s", h->name,
                       ssh_get_error(h->s));
    return VG_OK;
}

/* The refusal of a key known_hosts does not vouch for. */
static vg_rc refuse_key(const sshx *x, const net_hostkey *k, vg_err *err)
{
    const char *who = x->r->name[0] ? x->r->name : x->r->url;
    if (k->state == NET_HOSTKEY_CHANGED)
        return vg_fail(err, VG_EEXIST,
                       "the host key of %s has CHANGED (now %s %s): someone may be in the"
                       " middle, or the server was reinstalled. Refused. Ask its admin; if the"
                       " change is expected, remove the old key with `ssh-keygen -R '%s'`, then"
                       " `vigil remote trust '%s' %s`",
                       k->host, k->type, k->fingerprint, k->host, who, k->fingerprint);
    return vg_fail(err, VG_EINVAL,
                   "the host key of %s is not known (%s %s). Check the fingerprint with the"
                   " server's admin, then: vigil remote trust '%s' %s",
                   k->host, k->type, k->fingerprint, who, k->fingerprint);
}

/* Open hop i of the chain (the ones before it are open): connect, key exchange,
 * host key, log in. Its key is reported in *key (NULL: not wanted). */
static vg_rc hop_open(sshx *x, int i, volatile int *stop, bool trusting, const char *fp,
                      net_hostkey *key, net_test_step step, void *ud, vg_err *err)
{
    hop *h = &x->hops[i];
    ssh_session s = ssh_new();
    if (!s)
        abort();
    h->s = s;
    char dir[300], kh[320];
    snprintf(dir, sizeof dir, "%s/.ssh", home());
    snprintf(kh, sizeof kh, "%s/known_hosts", dir);
    long verbosity = SSH_LOG_NOLOG;
    bool no = false;
    ssh_options_set(s, SSH_OPTIONS_LOG_VERBOSITY, &verbosity);
    ssh_options_set(s, SSH_OPTIONS_HOST, h->alias);
    ssh_options_set(s, SSH_OPTIONS_SSH_DIR, dir);
    ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, kh);
    ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no);
    char cf[320];
    snprintf(cf, sizeof cf, "%s/config", dir);
    if ((access(cf, R_OK) == 0 && ssh_options_parse_config(s, cf) != 0) ||
        (access("/etc/ssh/ssh_config", R_OK) == 0 &&
         ssh_options_parse_config(s, "/etc/ssh/ssh_config") != 0))
        return vg_fail(err, VG_EINVAL, "%s: cannot read the SSH configuration: %s", h->name,
                       ssh_get_error(s));
    /* the URL (or the ProxyJump entry) over the config, as ssh's command line */
    if (h->user[0])
        ssh_options_set(s, SSH_OPTIONS_USER, h->user);
    if (h->port)
        ssh_options_set(s, SSH_OPTIONS_PORT, &h->port);
    ssh_options_set(s, SSH_OPTIONS_PROXYCOMMAND, "none"); /* ProxyJump is ours (above) */
    long tmo = h->c.timeout_s > 0 ? h->c.timeout_s : CONNECT_S;
    ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &tmo);
    char *hn = NULL, *un = NULL;
    unsigned int port = 22;
    ssh_options_get(s, SSH_OPTIONS_HOST, &hn);
    ssh_options_get(s, SSH_OPTIONS_USER, &un);
    ssh_options_get_port(s, &port);
    snprintf(h->host, sizeof h->host, "%s", hn ? hn : h->alias);
    if (!h->user[0] && un)
        snprintf(h->user, sizeof h->user, "%s", un);
    if (!h->user[0]) { /* neither the URL nor the config: the login name, as libssh takes */
        struct passwd pw, *pp = NULL;
        char pb[1024];
        if (getpwuid_r(getuid(), &pw, pb, sizeof pb, &pp) == 0 && pp)
            snprintf(h->user, sizeof h->user, "%s", pp->pw_name);
    }
    ssh_string_free_char(hn);
    ssh_string_free_char(un);
    h->hport = (int)port;
    char kname[300]; /* as known_hosts names it */
    if (h->hport == 22)
        snprintf(kname, sizeof kname, "%s", h->host);
    else
        snprintf(kname, sizeof kname, "[%s]:%d", h->host, h->hport);
    memcpy(h->khost, kname, sizeof h->khost);
    char where[340];
    if (i < x->nplan - 1)
        snprintf(where, sizeof where, "%s (jump host %d of %d)", h->name, i + 1, x->nplan - 1);
    else if (x->nplan > 1)
        snprintf(where, sizeof where, "%s (through %d jump host%s)", h->name, x->nplan - 1,
                 x->nplan > 2 ? "s" : "");
    else
        snprintf(where, sizeof where, "%s", h->name);

    /* the socket: TCP for the first hop, a direct-tcpip channel of the one before */
    if (i == 0) {
        if (step && step_resolve(h->host, step, ud, err) != VG_OK)
            return err->rc;
        h->fd = net_tcp_connect(h->host, h->hport, (int)tmo * 1000, stop, err);
        if (h->fd < 0) {
            STEP("connect", false, "%s", err->msg);
            return err->rc;
        }
        int one = 1, idle = 30, cnt = 3;
        unsigned int user_ms = 45000; /* a write unanswered this long: the peer is gone */
        setsockopt(h->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(h->fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
        setsockopt(h->fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
        setsockopt(h->fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
        setsockopt(h->fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_ms, sizeof user_ms);
        /* back to blocking: libssh's own waits keep the timeout */
        int fl = fcntl(h->fd, F_GETFL);
        if (fl >= 0)
            fcntl(h->fd, F_SETFL, fl & ~O_NONBLOCK);
    } else {
        hop *prev = &x->hops[i - 1];
        ssh_channel ch = ssh_channel_new(prev->s);
        if (!ch || ssh_channel_open_forward(ch, h->host, h->hport, "127.0.0.1", 0) != SSH_OK) {
            vg_fail(err, VG_EIO, "cannot reach %s:%d through %s: %s", h->host, h->hport,
                    prev->name, ssh_get_error(prev->s));
            if (ch)
                ssh_channel_free(ch);
            STEP("connect", false, "%s", err->msg);
            return err->rc;
        }
        int alive = prev->c.alive_s > 0 ? prev->c.alive_s : x->o.keepalive_s;
        h->fd = pump_start(x, &h->via, prev->s, ch, false, alive, false, err);
        if (h->fd < 0) {
            ssh_channel_free(ch);
            return err->rc;
        }
    }
    STEP("connect", true, "%s:%d%s", h->host, h->hport, i ? " (forwarded)" : "");
    if (stopped(stop))
        return vg_fail(err, VG_EIO, "cancelled");
    ssh_options_set(s, SSH_OPTIONS_FD, &h->fd);
    if (ssh_connect(s) != SSH_OK) {
        vg_fail(err, VG_EIO, "SSH with %s failed: %s", where, ssh_get_error(s));
        STEP("host key", false, "%s", err->msg);
        return err->rc;
    }

    /* the host key, strictly: known and the same, or refused (trusting: an unknown
     * one is reported, and added when it is the fingerprint given) */
    net_hostkey k;
    vg_rc rc = hop_hostkey(h, &k, err);
    if (rc == VG_OK && k.state == NET_HOSTKEY_UNKNOWN && trusting && !fp) {
        if (key)
            *key = k;
        return HALT;
    }
    if (rc == VG_OK && k.state == NET_HOSTKEY_UNKNOWN && trusting) {
        if (strcmp(fp, k.fingerprint) != 0)
            rc = vg_fail(err, VG_EINVAL, "%s offers %s %s, not %s: nothing trusted", k.host,
                         k.type, k.fingerprint, fp);
        else if (ssh_session_update_known_hosts(s) != SSH_OK)
            rc = vg_fail(err, VG_EIO, "cannot add %s to %s: %s", k.host, kh, ssh_get_error(s));
        else
            k.added = true;
    } else if (rc == VG_OK && k.state != NET_HOSTKEY_OK) {
        rc = refuse_key(x, &k, err);
        x->refused = k;
    }
    if (key)
        *key = k;
    if (rc) {
        STEP("host key", false, "%s", err->msg);
        return rc;
    }
    STEP("host key", true, "%s %s %s (known)", k.host, k.type, k.fingerprint);

    if (hop_auth(x, h, err) != 0) {
        STEP("auth", false, "%s", err->msg);
        return err->rc;
    }
    STEP("auth", true, "%s as %s", where, h->user);
    return VG_OK;
}

/* Open the whole chain, hop after hop. */
static vg_rc chain_open(sshx *x, volatile int *stop, net_test_step step, void *ud, vg_err *err)
{
    vg_rc rc = chain_plan(x, err);
    for (int i = 0; rc == VG_OK && i < x->nplan; i++) {
        x->n = i + 1;
        rc = hop_open(x, i, stop, false, NULL, NULL, step, ud, err);
    }
    if (rc) {
        chain_close(x);
    } else {
        x->authed = true;
        x->refused.state = NET_HOSTKEY_OK;
    }
    return rc;
}

/* ---- the transport ---------------------------------------------------------------------- */

/* A channel to vigild on the open chain: direct-tcpip, or exec where forwarding
 * is refused. The socket curl gets, or -1. */
static int open_channel(sshx *x, net_test_step step, void *ud, vg_err *err)
{
    hop *h = &x->hops[x->nplan - 1];
    int alive = h->c.alive_s > 0 ? h->c.alive_s : x->o.keepalive_s;
    char *fwd = x->fwd; /* kept: an exec that fails later says it came second */
    pthread_mutex_lock(&x->mu);
    x->why[0] = '\0';
    pthread_mutex_unlock(&x->mu);
    if (!x->no_forward) {
        fwd[0] = '\0';
        ssh_channel ch = ssh_channel_new(h->s);
        if (ch && ssh_channel_open_forward(ch, "127.0.0.1", x->r->port, "127.0.0.1", 0) == SSH_OK) {
            int fd = pump_start(x, &x->cur, h->s, ch, false, alive, true, err);
            if (fd >= 0) {
                snprintf(x->how, sizeof x->how, "ssh direct-tcpip");
                STEP("channel", true, "direct-tcpip to 127.0.0.1:%d on %s", x->r->port, h->name);
            } else {
                ssh_channel_free(ch);
            }
            return fd;
        }
        /* libssh says "Channel opening failure: channel N error (CODE) TEXT"; code 1
         * is RFC 4254's SSH_OPEN_ADMINISTRATIVELY_PROHIBITED, 2 CONNECT_FAILED */
        const char *e = ssh_get_error(h->s), *code = strstr(e, "error (");
        bool prohibited = code && strncmp(code, "error (1)", 9) == 0;
        bool refused = code && strncmp(code, "error (2)", 9) == 0;
        snprintf(fwd, sizeof x->fwd, "direct-tcpip to 127.0.0.1:%d refused: %s", x->r->port,
                 prohibited ? "sshd forbids forwarding (AllowTcpForwarding no?)"
                 : refused  ? "nothing listens there (is vigild serving on that port?)"
                            : e);
        if (ch)
            ssh_channel_free(ch);
        if (!ssh_is_connected(h->s)) {
            vg_fail(err, VG_EIO, "%s: the SSH session dropped: %s", h->name, fwd);
            return -1;
        }
        if (prohibited)
            x->no_forward = true;
    }
    char cmd[300];
    if (x->r->ssh_dir[0])
        snprintf(cmd, sizeof cmd, "vigild --data '%s' --stdio", x->r->ssh_dir);
    else
        snprintf(cmd, sizeof cmd, "vigild --stdio");
    ssh_channel ch = ssh_channel_new(h->s);
    if (!ch || ssh_channel_open_session(ch) != SSH_OK || ssh_channel_request_exec(ch, cmd) != SSH_OK) {
        vg_fail(err, VG_EIO, "%s: %s%sexec `%s`: %s", h->name, fwd, fwd[0] ? "; then " : "",
                cmd, ssh_get_error(h->s));
        if (ch)
            ssh_channel_free(ch);
        STEP("channel", false, "%s", err->msg);
        return -1;
    }
    int fd = pump_start(x, &x->cur, h->s, ch, true, alive, true, err);
    if (fd < 0) {
        ssh_channel_free(ch);
        return -1;
    }
    snprintf(x->how, sizeof x->how, "ssh exec vigild --stdio");
    STEP("channel", true, "exec `%s` on %s%s%s", cmd, h->name, fwd[0] ? " (" : "",
         fwd[0] ? "forwarding refused)" : "");
    return fd;
}

static int ssh_connect_fn(net_transport *t, vg_err *err)
{
    sshx *x = t->ud;
    /* the connection before this one is over for curl: its pump ends */
    pump_end(x, x->cur);
    x->cur = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!x->authed && chain_open(x, t->stop, NULL, NULL, err) != VG_OK)
            return -1;
        bool fresh = attempt == 1 || x->n == 0;
        int fd = open_channel(x, NULL, NULL, err);
        if (fd >= 0 || fresh || ssh_is_connected(x->hops[x->nplan - 1].s))
            return fd;
        chain_close(x); /* the kept session had dropped: once more, from the start */
    }
    return -1;
}

static void ssh_close_fn(net_transport *t)
{
    sshx *x = t->ud;
    if (!x)
        return;
    chain_close(x);
    pthread_mutex_destroy(&x->mu);
    free(x);
    t->ud = NULL;
}

static void ssh_cut_fn(net_transport *t)
{
    sshx *x = t->ud;
    if (!x)
        return;
    pthread_mutex_lock(&x->mu);
    for (int i = 0; i < x->n; i++)
        if (x->hops[i].fd >= 0)
            shutdown(x->hops[i].fd, SHUT_RDWR);
    if (x->cur && x->cur->fd >= 0)
        shutdown(x->cur->fd, SHUT_RDWR);
    pthread_mutex_unlock(&x->mu);
}

void net_transport_for(net_transport *t, const vg_remote *r, const net_ssh_opts *o)
{
    net_transport_tcp(t, r);
    if (!r->ssh)
        return;
    sshx *x = calloc(1, sizeof *x);
    if (!x)
        abort();
    x->r = r;
    if (o)
        x->o = *o;
    if (x->o.keepalive_s <= 0)
        x->o.keepalive_s = KEEPALIVE_S;
    pthread_mutex_init(&x->mu, NULL);
    t->ud = x;
    t->connect = ssh_connect_fn;
    t->close = ssh_close_fn;
    t->cut = ssh_cut_fn;
    t->how = x->how;
    t->why = x->why;
    t->refused = &x->refused;
    t->timeout_ms = CONNECT_S * 1000;
}

vg_rc net_transport_open(net_transport *t, vg_err *err)
{
    if (t->connect != ssh_connect_fn)
        return VG_OK;
    sshx *x = t->ud;
    return x->authed ? VG_OK : chain_open(x, t->stop, NULL, NULL, err);
}

void net_transport_close(net_transport *t)
{
    if (t->close)
        t->close(t);
}

void net_transport_cut(net_transport *t)
{
    if (t->cut)
        t->cut(t);
}

const char *net_transport_how(const net_transport *t) { return t->how ? t->how : ""; }

vg_rc net_ssh_trust(const vg_remote *r, const net_ssh_opts *o, const char *fingerprint,
                    net_hostkey *out, vg_err *err)
{
    memset(out, 0, sizeof *out);
    if (!r->ssh)
        return vg_fail(err, VG_EINVAL, "%s is not an ssh:// remote: there is no host key to trust",
                       r->url);
    sshx x = {.r = r};
    if (o)
        x.o = *o;
    pthread_mutex_init(&x.mu, NULL);
    vg_rc rc = chain_plan(&x, err);
    for (int i = 0; rc == VG_OK && i < x.nplan; i++) {
        x.n = i + 1;
        rc = hop_open(&x, i, NULL, true, fingerprint, out, NULL, NULL, err);
        if (rc == HALT) /* the first key not known, reported */
            rc = VG_OK, i = x.nplan;
        else if (rc == VG_OK && out->added)
            i = x.nplan; /* one fingerprint trusts one hop: the caller looks again */
    }
    chain_close(&x);
    pthread_mutex_destroy(&x.mu);
    return rc;
}

/* The last steps, the same for both kinds: vigild answering, the token taken. */
static vg_rc test_http(const vg_remote *r, const char *token, net_transport *t,
                       net_test_step step, void *ud, vg_err *err)
{
    net_sync_opts so = {.transport = t};
    net_whoami_result who;
    vg_rc rc = net_whoami(r, token, &so, &who, err);
    if (rc && (who.offline || who.status == 0)) {
        STEP("vigild", false, "%s", err->msg);
        return rc;
    }
    if (strstr(net_transport_how(t), "exec"))
        STEP("vigild", true, "answers on the exec channel (vigild --stdio)");
    else
        STEP("vigild", true, "answers on %s:%d%s", r->host, r->port,
             r->ssh ? " (through the tunnel)" : "");
    if (rc) {
        STEP("token", false, "%s", err->msg);
        return rc;
    }
    STEP("token", true, "user %s (%s) of tenant %s", who.user, who.role, who.tenant);
    return VG_OK;
}

vg_rc net_remote_test(const vg_remote *r, const char *token, const net_ssh_opts *o,
                      net_test_step step, void *ud, vg_err *err)
{
    net_transport t;
    net_transport_for(&t, r, o);
    vg_rc rc;
    if (!r->ssh) {
        if (step_resolve(r->host, step, ud, err) != VG_OK)
            return err->rc;
        int fd = net_tcp_connect(r->host, r->port, 5000, NULL, err);
        if (fd < 0) {
            STEP("connect", false, "%s", err->msg);
            return err->rc;
        }
        close(fd);
        STEP("connect", true, "%s:%d", r->host, r->port);
        return test_http(r, token, &t, step, ud, err);
    }
    sshx *x = t.ud;
    rc = chain_open(x, NULL, step, ud, err);
    int fd = rc ? -1 : open_channel(x, step, ud, err);
    if (fd >= 0) {
        close(fd); /* curl opens its own below, on the same session */
        rc = test_http(r, token, &t, step, ud, err);
        if (rc && x->why[0])
            STEP("why", false, "%s", x->why);
    } else if (rc == VG_OK) {
        rc = err->rc;
    }
    net_transport_close(&t);
    return rc;
}
