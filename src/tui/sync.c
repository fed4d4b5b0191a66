/*
 * sync.c — the workstation's team sync, on a thread of its own (DESIGN.md rule 4:
 * the UI never waits), and the `team:` state its header shows.
 *
 * The thread has a workspace handle of its own on the same file (WAL: the TUI's
 * handle reads while this one writes; a vg_ws is never shared between threads) and
 * runs net_sync rounds back to back, each ending in a long-poll of SYNC_WAIT
 * seconds, so that what other analysts write arrives within a second. After a
 * local write, a failure or at the start the round does not wait (wait 0): it
 * pushes, pulls, and the header says synced as soon as it is; the long-poll comes
 * in the next round. The thread tells the curses loop through a pipe the loop
 * polls, and keeps a small state under a mutex.
 *
 * A local write must not wait for a long-poll to end. Before each round the thread
 * notes the file's newest seq ("covers": every op up to it is in this round's
 * push); when the TUI finds ops of the remote's user after it (tui_sync_check, on
 * every wake of the loop), a long-poll (or the wait before a retry) is cancelled
 * and a new round starts at once; a round that does not long-poll is let finish,
 * and another follows it at once.
 * Cancelling sets the round's stop flag, which curl reads in its progress callback;
 * but an idle connection calls that only once a second (measured with libcurl
 * 7.88), so the thread also keeps a dup of each socket of the round and the
 * canceller shuts it down, which ends the request at once. Quit does the same,
 * then joins. A push cut off that way may have reached the server: the next round
 * pushes it again and the server skips what it holds.
 *
 * Offline (or refused), rounds are retried after 1, 2, 4, 8, then every 15 s; a
 * local write retries at once and starts that count again.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ssh.h"
#include "sync_client.h"
#include "tui.h"
#include "vigil/op.h"
#include "vigil/text.h"
#include "vigil/timefmt.h"

#define SYNC_WAIT 25 /* seconds a round long-polls (vigild's limit is 30) */
#define MAX_FDS 4    /* sockets of one round kept to shut down (curl opens one, rarely more) */

static const int backoff_s[] = {1, 2, 4, 8, 15};

struct tui_sync {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int wake[2]; /* the pipe: the loop polls [0], the thread writes [1] */
    vg_ws *ws;   /* the thread's own handle */
    vg_remote remote;
    char *token;
    net_transport tcp, t; /* t: tcp, with each socket's dup kept in fds */
    /* under mu */
    volatile int stop; /* the round's (opts.stop) */
    bool quit, kicked;
    bool hurrying; /* the round in flight does not long-poll */
    bool again;    /* a write came during it: another such round follows at once */
    int fds[MAX_FDS];
    int nfds;
    int64_t covers;    /* the round pushes every op up to this seq (-1: not known yet) */
    int64_t synced_at; /* ms: when a round last succeeded (0: never) */
    int64_t offline_since;
    bool syncing, read_only, failed;
    int hostkey;       /* the SSH host key was refused: 1 not known, 2 changed (0: no) */
    long status;       /* of a refusal */
    char error[300];   /* of the last failure, made safe */
    /* the loop's thread only */
    int64_t seen_seq, waiting;
    char told[300];    /* the failure last put on the status line */
};

/* ---- the thread --------------------------------------------------------------------- */

static void notify(tui_sync *s)
{
    char b = 1;
    ssize_t w = write(s->wake[1], &b, 1); /* full: the loop has a wake pending anyway */
    (void)w;
}

/* Shut down the round's sockets (mu held): curl's request ends at once. */
static void cut_sockets(tui_sync *s)
{
    for (int i = 0; i < s->nfds; i++)
        shutdown(s->fds[i], SHUT_RDWR);
}

static void close_sockets(tui_sync *s)
{
    for (int i = 0; i < s->nfds; i++)
        close(s->fds[i]);
    s->nfds = 0;
}

/* The transport (TCP or SSH), keeping a dup of curl's socket so that a cancel can shut it down
 * whenever curl closes its own descriptor (the dup keeps the socket from being
 * reused meanwhile). */
static int keep_connect(net_transport *t, vg_err *err)
{
    tui_sync *s = t->ud;
    s->tcp.stop = t->stop;
    int fd = s->tcp.connect(&s->tcp, err);
    if (fd < 0)
        return fd;
    pthread_mutex_lock(&s->mu);
    if (s->nfds == MAX_FDS) {
        close(s->fds[0]);
        memmove(s->fds, s->fds + 1, (MAX_FDS - 1) * sizeof *s->fds);
        s->nfds--;
    }
    int d = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (d >= 0)
        s->fds[s->nfds++] = d;
    if (s->stop) /* cancelled while connecting */
        shutdown(fd, SHUT_RDWR);
    pthread_mutex_unlock(&s->mu);
    return fd;
}

/* One round; then, under mu, what the header shows. Returns whether it succeeded. */
static bool round_once(tui_sync *s, int wait)
{
    net_sync_opts o = {.wait = wait, .stop = &s->stop, .transport = &s->t};
    net_sync_result res;
    vg_err err = {0};
    vg_rc rc = net_sync(s->ws, &s->remote, s->token, &o, &res, &err);
    pthread_mutex_lock(&s->mu);
    close_sockets(s);
    s->syncing = s->hurrying = false;
    bool ok = rc == VG_OK;
    if (ok) {
        s->hostkey = 0;
        s->synced_at = vg_now_ms();
        s->offline_since = 0;
        s->failed = false;
        s->status = 0;
        s->read_only = res.read_only;
    } else if (!s->kicked && !s->quit) { /* a cancel is no failure */
        if (res.offline) {
            if (!s->offline_since)
                s->offline_since = vg_now_ms();
            s->failed = false;
        } else {
            s->failed = true;
            s->status = res.status;
        }
        vg_text_safe(err.msg, strlen(err.msg), 0, s->error, sizeof s->error);
        /* a refused host key in few words, the fingerprint first: the status line is
         * one row of 80 columns (the whole story is `vigil remote trust`'s) */
        const net_hostkey *k = s->tcp.refused;
        s->hostkey = 0;
        if (!res.offline && k && k->state != NET_HOSTKEY_OK) {
            s->hostkey = k->state == NET_HOSTKEY_CHANGED ? 2 : 1;
            char m[700];
            if (s->hostkey == 2)
                snprintf(m, sizeof m, "host key CHANGED, refused: %s of %s (see `vigil remote"
                                      " trust`)", k->fingerprint, k->host);
            else
                snprintf(m, sizeof m, "%s: unknown host key of %s; check it, then `vigil"
                                      " remote trust %s %s`", k->fingerprint, k->host,
                         s->remote.name, k->fingerprint);
            vg_text_safe(m, strlen(m), 0, s->error, sizeof s->error);
        }
    }
    pthread_mutex_unlock(&s->mu);
    return ok;
}

static void *run(void *ud)
{
    tui_sync *s = ud;
    int tries = 0;    /* failures in a row */
    bool hurry = true; /* the next round does not long-poll */
    pthread_mutex_lock(&s->mu);
    while (!s->quit) {
        __atomic_store_n(&s->stop, 0, __ATOMIC_RELAXED);
        s->kicked = s->again = false;
        s->covers = -1; /* until it is read, any write of ours kicks */
        s->hurrying = hurry;
        s->syncing = hurry && !s->read_only;
        pthread_mutex_unlock(&s->mu);
        int64_t covers = vg_ws_last_seq(s->ws);
        pthread_mutex_lock(&s->mu);
        s->covers = covers;
        bool go = !s->kicked && !s->quit;
        pthread_mutex_unlock(&s->mu);
        notify(s);
        bool ok = go && round_once(s, hurry ? 0 : SYNC_WAIT);
        notify(s);
        pthread_mutex_lock(&s->mu);
        if (s->kicked || s->again) { /* a local write: push now, and try hard again */
            hurry = true;
            tries = 0;
            continue;
        }
        if (ok) {
            hurry = false;
            tries = 0;
            continue;
        }
        hurry = true;
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += backoff_s[tries];
        if (tries < (int)(sizeof backoff_s / sizeof *backoff_s) - 1)
            tries++;
        while (!s->quit && !s->kicked &&
               pthread_cond_timedwait(&s->cv, &s->mu, &until) != ETIMEDOUT)
            ;
        if (s->kicked)
            tries = 0;
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---- the loop's side ---------------------------------------------------------------- */

tui_sync *tui_sync_start(const char *path, const char *actor, const vg_remote *r,
                         const char *token, char *msg, size_t msgsz)
{
    tui_sync *s = vg_xcalloc(1, sizeof *s);
    vg_err err = {0};
    s->wake[0] = s->wake[1] = -1;
    if (vg_ws_open(path, 0, &s->ws, &err) != VG_OK) {
        snprintf(msg, msgsz, "team sync off: %.200s", err.msg);
        free(s);
        return NULL;
    }
    vg_ws_set_actor(s->ws, actor);
    if (pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        snprintf(msg, msgsz, "team sync off: %.200s", strerror(errno));
        vg_ws_close(s->ws);
        free(s);
        return NULL;
    }
    s->remote = *r;
    s->token = vg_xstrdup(token);
    /* ssh:// or http://; for SSH, one session kept across rounds, and no passphrase
     * asked (the screen is curses'): a key needs to be in the agent */
    net_ssh_opts so = {0};
    net_transport_for(&s->tcp, &s->remote, &so);
    s->t = s->tcp;
    s->t.connect = keep_connect;
    s->t.ud = s;
    s->seen_seq = s->covers = -1;
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca; /* the backoff's waits on the monotonic clock */
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&s->thread, NULL, run, s) != 0) {
        snprintf(msg, msgsz, "team sync off: cannot start its thread");
        s->thread = 0;
        tui_sync_stop(s);
        return NULL;
    }
    return s;
}

/* Cancel the round in flight (mu held). */
static void kick(tui_sync *s)
{
    s->kicked = true;
    __atomic_store_n(&s->stop, 1, __ATOMIC_RELAXED);
    cut_sockets(s);
    if (s->quit) /* and what the transport holds: an SSH key exchange, a hop */
        net_transport_cut(&s->tcp);
    pthread_cond_signal(&s->cv);
}

void tui_sync_stop(tui_sync *s)
{
    if (!s)
        return;
    if (s->thread) {
        pthread_mutex_lock(&s->mu);
        s->quit = true;
        kick(s);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->thread, NULL);
    }
    close_sockets(s);
    net_transport_close(&s->tcp);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    for (int i = 0; i < 2; i++)
        if (s->wake[i] >= 0)
            close(s->wake[i]);
    vg_ws_close(s->ws);
    sodium_memzero(s->token, strlen(s->token));
    free(s->token);
    free(s);
}

int tui_sync_fd(const tui_sync *s) { return s ? s->wake[0] : -1; }

bool tui_sync_woke(tui_sync *s, char *msg, size_t msgsz)
{
    char b[64];
    while (read(s->wake[0], b, sizeof b) > 0)
        ;
    pthread_mutex_lock(&s->mu);
    bool down = s->failed || s->offline_since;
    bool news = down && strcmp(s->error, s->told) != 0;
    if (news) /* in full on the status line, once until it changes or sync recovers */
        snprintf(msg, msgsz, "team: %s", s->error);
    snprintf(s->told, sizeof s->told, "%s", down ? s->error : "");
    pthread_mutex_unlock(&s->mu);
    s->seen_seq = -1; /* the thread may have pushed: count again */
    return news;
}

void tui_sync_check(tui_sync *s, vg_ws *ws)
{
    if (!s)
        return;
    int64_t seq = vg_ws_last_seq(ws);
    if (seq == s->seen_seq)
        return;
    s->seen_seq = seq;
    vg_err err = {0};
    if (vg_remote_waiting(ws, &s->remote, &s->waiting, &err) != VG_OK)
        s->waiting = 0;
    pthread_mutex_lock(&s->mu);
    /* A round that does not long-poll is let finish (cutting it off again and again
     * while the analyst writes would starve it); another follows at once. */
    if (s->waiting > 0 && seq > s->covers && !s->read_only && !s->kicked) {
        if (s->hurrying)
            s->again = true;
        else
            kick(s);
    }
    pthread_mutex_unlock(&s->mu);
}

void tui_sync_text(tui_sync *s, char *out, size_t outsz)
{
    pthread_mutex_lock(&s->mu);
    int64_t synced = s->synced_at, off = s->offline_since;
    bool syncing = s->syncing, ro = s->read_only, failed = s->failed;
    long status = s->status;
    int hostkey = s->hostkey;
    pthread_mutex_unlock(&s->mu);
    int64_t now = vg_now_ms();
    if (failed && hostkey) {
        snprintf(out, outsz, "team: host key %s", hostkey == 2 ? "CHANGED" : "not known");
    } else if (failed && status) {
        snprintf(out, outsz, "team: refused (HTTP %ld)", status);
    } else if (failed) {
        snprintf(out, outsz, "team: failed (see the status line)");
    } else if (off) {
        char when[32], today[32];
        vg_local_time(off, when, sizeof when); /* "2026-11-03 14:02" */
        vg_local_time(now, today, sizeof today);
        const char *sp = strchr(when, ' ');
        bool same_day = sp && strncmp(when, today, (size_t)(sp - when)) == 0;
        if (s->waiting > 0)
            snprintf(out, outsz, "team: %lld to push, offline since %s", (long long)s->waiting,
                     same_day ? sp + 1 : when);
        else
            snprintf(out, outsz, "team: offline since %s", same_day ? sp + 1 : when);
    } else if (ro && synced) {
        snprintf(out, outsz, "team: read-only");
    } else if (syncing || !synced) {
        snprintf(out, outsz, "team: syncing");
    } else {
        int64_t ago = (now - synced) / 1000;
        char age[16];
        if (ago < 60)
            snprintf(age, sizeof age, "%llds", (long long)(ago < 0 ? 0 : ago));
        else
            vg_age(synced, now, age, sizeof age);
        snprintf(out, outsz, "team: synced %s ago", age);
    }
}
