/*
 * cmd_sync.c — `vigil remote add|rm|ls` and `vigil sync`: joining a team's vigild
 * and syncing with it (vigil(1), REMOTES AND SYNC).
 *
 * The remote lives in the workspace (remote.h); its token in the secrets file,
 * section [remote URL], key token (vigil.conf(5)), never on the command line
 * (argv shows in ps): `remote add` reads it from the terminal without echo, or
 * one line of stdin. Adding checks the token with the server first (GET
 * /v1/whoami), so a remote is stored only with a token that works, and refuses a
 * workspace whose ops were made by someone other than the token's user: a
 * replica pushes only its user's ops (anyone else's would be forged), so those
 * ops would never reach the team.
 *
 * `vigil sync` exits 3 when the server cannot be reached, so that a script (or
 * an analyst) can tell "try later, nothing is lost" from a refusal (exit 1).
 */
#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "paths.h"
#include "ssh.h"
#include "sync_client.h"
#include "vigil/remote.h"
#include "vigil/sync.h"
#include "vigil/text.h"

#define TOKEN_MAX 256
#define SECRETS_CAP (1u << 20)

/* The secrets file's section for a remote: "remote URL", or, for a URL too long
 * for it, "remote ~" and the first 20 bytes of the URL's SHA-256 in hex: inih
 * (libinih1) cuts a section name at 49 bytes, and a cut name would match no URL,
 * or worse, another one with the same start. */
#define SECTION_MAX 49
static void token_section(const vg_remote *r, char *out, size_t n)
{
    if (strlen("remote ") + strlen(r->url) <= SECTION_MAX) {
        snprintf(out, n, "remote %s", r->url);
        return;
    }
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)r->url, strlen(r->url));
    char hex[41];
    sodium_bin2hex(hex, sizeof hex, h, 20);
    snprintf(out, n, "remote ~%s", hex);
}

/* ---- the token in the secrets file ------------------------------------------------- */

/* The name of the section a line opens, as inih reads it (from after '[' to the
 * first ']'), or NULL when the line opens none. */
static const char *section_of(const char *line, const char *end, size_t *n)
{
    while (line < end && (*line == ' ' || *line == '\t'))
        line++;
    if (line == end || *line != '[')
        return NULL;
    const char *close = memchr(line + 1, ']', (size_t)(end - line - 1));
    if (!close)
        return NULL;
    *n = (size_t)(close - line - 1);
    return line + 1;
}

/* Set token = value in [section] of the secrets file, replacing the section if
 * it is there (value NULL: remove it), every other line kept byte for byte;
 * written whole through a rename (a new file 0600 in a 0700 directory). A file
 * others may read is refused as config_secret refuses it. 0, or EXIT_FAIL after
 * saying why. */
static int secret_set(cli *c, const char *section, const char *value)
{
    vg_buf old, out;
    vg_buf_init(&old, SECRETS_CAP);
    vg_buf_init(&out, SECRETS_CAP + 1024);
    int rc = config_secrets_load(&old) == 0 ? EXIT_OK : EXIT_FAIL;
    size_t sl = strlen(section);
    bool in = false;
    vg_rc w = VG_OK;
    for (const char *p = vg_buf_str(&old), *end = p + old.len; !rc && w == VG_OK && p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *next = nl ? nl + 1 : end;
        size_t n;
        const char *name = section_of(p, next, &n);
        if (name)
            in = n == sl && memcmp(name, section, sl) == 0;
        if (!in)
            w = vg_buf_add(&out, p, (size_t)(next - p));
        p = next;
    }
    if (!rc && w == VG_OK && value) {
        if (out.len && out.data[out.len - 1] != '\n')
            w = vg_buf_adds(&out, "\n");
        if (w == VG_OK)
            w = vg_buf_addf(&out, "%s[%s]\ntoken = %s\n", out.len ? "\n" : "", section, value);
    }
    char *path = paths_secrets();
    vg_err err = {0};
    if (!rc && w != VG_OK)
        rc = cli_error(c, "secrets: %s: larger than %u KB; vigil refuses it", path,
                       SECRETS_CAP >> 10);
    if (!rc && (paths_ensure_parent(path, &err) != VG_OK ||
                cli_write_atomic(path, vg_buf_str(&out), out.len, &err) != VG_OK))
        rc = cli_fail(c, &err);
    if (old.data)
        sodium_memzero(old.data, old.len);
    if (out.data)
        sodium_memzero(out.data, out.len);
    vg_buf_free(&old);
    vg_buf_free(&out);
    free(path);
    return rc;
}

/* Whether the secrets file would be refused: EXIT_FAIL after saying why. */
static int secrets_usable(void)
{
    vg_buf b;
    vg_buf_init(&b, SECRETS_CAP);
    int rc = config_secrets_load(&b) == 0 ? EXIT_OK : EXIT_FAIL;
    if (b.data)
        sodium_memzero(b.data, b.len);
    vg_buf_free(&b);
    return rc;
}

/* ---- reading the token ---------------------------------------------------------- */

/* The terminal as it was before echo was turned off, for the signal handler. */
static struct termios saved_tty;
static int saved_fd = -1;

static void restore_tty(int sig)
{
    tcsetattr(saved_fd, TCSANOW, &saved_tty);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* One line of in into out (newline dropped): with tty, the terminal's echo off
 * and prompt on stderr, the terminal restored on every exit, signals included. */
static char *quiet_line(FILE *in, bool tty, const char *prompt, char *out, size_t n)
{
    struct sigaction old[3], sa = {.sa_handler = restore_tty};
    const int sigs[3] = {SIGINT, SIGTERM, SIGQUIT};
    int fd = fileno(in);
    tty = tty && isatty(fd) && tcgetattr(fd, &saved_tty) == 0;
    if (tty) { /* echo off before the prompt: what is typed after it is all kept */
        saved_fd = fd;
        struct termios quiet = saved_tty;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        for (int i = 0; i < 3; i++)
            sigaction(sigs[i], &sa, &old[i]);
        tcsetattr(fd, TCSANOW, &quiet);
        fprintf(stderr, "%s", prompt);
        fflush(stderr);
    }
    char *got = fgets(out, (int)n, in);
    if (tty) {
        tcsetattr(fd, TCSANOW, &saved_tty);
        for (int i = 0; i < 3; i++)
            sigaction(sigs[i], &old[i], NULL);
        fputc('\n', stderr);
    }
    if (got)
        out[strcspn(out, "\r\n")] = '\0';
    return got;
}

/* net_ssh_opts.ask: a key's passphrase, asked on the terminal (/dev/tty: stdin
 * may carry a token), never stored: the caller wipes it. */
static int ask_tty(void *ud, const char *prompt, char *buf, size_t n)
{
    (void)ud;
    return cli_ask_secret(prompt, buf, n);
}

int cli_ask_secret(const char *prompt, char *buf, size_t n)
{
    FILE *tty = fopen("/dev/tty", "r+e");
    if (!tty)
        return -1;
    /* unbuffered: no copy of the secret is left in a stdio buffer freed unwiped */
    setvbuf(tty, NULL, _IONBF, 0);
    char safe[400];
    vg_text_safe(prompt, strlen(prompt), VG_TEXT_ASCII, safe, sizeof safe);
    char *got = quiet_line(tty, true, safe, buf, n);
    fclose(tty);
    return got ? 0 : -1;
}

void cli_ssh_opts(net_ssh_opts *o)
{
    memset(o, 0, sizeof *o);
    o->ask = ask_tty;
}

/* One line: from the terminal without echo (prompt on stderr), else of stdin.
 * 0 with the token in out, or EXIT_FAIL after saying why. */
static int read_token(cli *c, const char *url, char *out, size_t n)
{
    char prompt[VG_REMOTE_URL + 16];
    snprintf(prompt, sizeof prompt, "token for %s: ", url);
    char *got = quiet_line(stdin, true, prompt, out, n);
    if (!got)
        return cli_error(c, "no token given (type it, or pipe one line into vigil remote add)");
    size_t l = strlen(out);
    while (l && (out[l - 1] == '\n' || out[l - 1] == '\r' || out[l - 1] == ' '))
        out[--l] = '\0';
    size_t s = strspn(out, " \t");
    memmove(out, out + s, l - s + 1);
    l -= s;
    bool ok = l > 0 && l <= TOKEN_MAX;
    for (size_t i = 0; ok && i < l; i++)
        ok = out[i] > ' ' && out[i] < 0x7f;
    if (!ok) {
        sodium_memzero(out, n);
        return cli_error(c, l ? "the token is not one line of at most %d printable characters"
                              : "no token given", TOKEN_MAX);
    }
    return EXIT_OK;
}

/* ---- vigil remote ----------------------------------------------------------------- */

/* "jdoe" or "jdoe, mary" from the actors (the first 20). */
static void join_names(char **names, size_t n, char *out, size_t outsz)
{
    size_t at = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && i < 20 && at < outsz; i++)
        at += (size_t)snprintf(out + at, outsz - at, "%s%s", i ? ", " : "", names[i]);
    if (n > 20 && at < outsz)
        snprintf(out + at, outsz - at, " and %zu more", n - 20);
}

/* Refuse a workspace holding ops made by others than user (see the file's top). */
static int check_actors(cli *c, const char *user)
{
    char **actors;
    size_t n;
    vg_err err = {0};
    if (vg_remote_foreign_actors(c->ws, user, &actors, &n, &err) != VG_OK)
        return cli_fail(c, &err);
    if (n == 0)
        return EXIT_OK;
    char names[300];
    join_names(actors, n, names, sizeof names);
    vg_fail(&err, VG_EINVAL, "this workspace's ops were made as %s; the server knows this token as"
                             " %s: use a new workspace, or ask the admin for %s named %s",
            names, user, n > 1 ? "users" : "a user", names);
    vg_remote_actors_free(actors, n);
    return cli_fail(c, &err);
}

int cmd_remote_add(cli *c, int argc, char **argv)
{
    char *pos[2];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, NULL, 0, pos, 2, &npos)))
        return rc;
    if (npos != 2)
        return cli_usage(c, "needs NAME and URL");
    vg_remote r = {0};
    vg_err err = {0};
    if (vg_remote_check_name(pos[0], &err) != VG_OK ||
        vg_remote_parse_url(pos[1], &r, &err) != VG_OK)
        return cli_usage(c, "%s", err.msg);
    snprintf(r.name, sizeof r.name, "%s", pos[0]);
    if ((rc = cli_open(c, VG_OPEN_CREATE)))
        return rc;
    vg_remote had;
    if (vg_remote_get(c->ws, NULL, &had, &err) == VG_OK)
        return cli_error(c, "this workspace syncs with '%s' (%s) already: one team per workspace,"
                            " since the server leases it its case refs (use another workspace"
                            " with --db, or `vigil remote rm %s`)", had.name, had.url, had.name);
    if (secrets_usable() != EXIT_OK) /* refused before the token is asked for */
        return EXIT_FAIL;
    net_ssh_opts sopt;
    cli_ssh_opts(&sopt);
    /* The SSH session first (host keys, keys, a passphrase), kept for whoami: what
     * would refuse is said before a token is typed for nothing. The remote is not
     * stored yet, so a refused host key's message names its URL, not its name. */
    vg_remote anon = r;
    anon.name[0] = '\0';
    net_transport t;
    net_transport_for(&t, &anon, &sopt);
    if (net_transport_open(&t, &err) != VG_OK) {
        net_transport_close(&t);
        return cli_fail(c, &err);
    }
    char token[TOKEN_MAX + 8];
    if ((rc = read_token(c, r.url, token, sizeof token))) {
        net_transport_close(&t);
        return rc;
    }
    net_sync_opts so = {.transport = &t};
    net_whoami_result who;
    vg_rc wr = net_whoami(&r, token, &so, &who, &err);
    net_transport_close(&t);
    if (wr != VG_OK) {
        rc = cli_fail(c, &err);
    } else if (strcmp(who.role, "ingest") == 0) {
        rc = cli_error(c, "an ingest token cannot sync (it may only post alerts): ask the admin"
                          " for an analyst token");
    } else if (strcmp(who.role, "viewer") && strcmp(who.role, "analyst") &&
               strcmp(who.role, "admin")) {
        rc = cli_error(c, "the server names an unknown role for this token");
    } else if ((rc = check_actors(c, who.user)) == EXIT_OK) {
        snprintf(r.user, sizeof r.user, "%s", who.user);
        snprintf(r.tenant, sizeof r.tenant, "%s", who.tenant);
        char section[VG_REMOTE_URL + 16];
        token_section(&r, section, sizeof section);
        /* The token first: a remote is stored only with a token beside it. */
        rc = secret_set(c, section, token);
        if (rc == EXIT_OK && vg_remote_add(c->ws, &r, &err) != VG_OK) {
            rc = cli_fail(c, &err);
            if (secret_set(c, section, NULL) != EXIT_OK)
                rc = EXIT_FAIL;
        } else if (rc == EXIT_OK) {
            out_safe(c, r.name);
            fputs(": ", stdout);
            out_safe(c, r.tenant);
            fputs(" as ", stdout);
            out_safe(c, r.user);
            bool viewer = strcmp(who.role, "viewer") == 0;
            printf(" (%s%s)\n", who.role, viewer ? ", read-only: this workspace pulls only" : "");
        }
    }
    sodium_memzero(token, sizeof token);
    return rc;
}

/* The workspace's remote called name (NULL: its one), the workspace opened. */
static int remote_named(cli *c, const char *name, vg_remote *r)
{
    int rc = cli_open(c, 0);
    if (rc)
        return rc;
    vg_err err = {0};
    if (vg_remote_get(c->ws, name, r, &err) != VG_OK)
        return cli_fail(c, &err);
    return EXIT_OK;
}

int cmd_remote_rm(cli *c, int argc, char **argv)
{
    char *pos[1];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, NULL, 0, pos, 1, &npos)))
        return rc;
    if (npos != 1)
        return cli_usage(c, "needs NAME");
    vg_remote r;
    vg_err err = {0};
    if ((rc = remote_named(c, pos[0], &r)))
        return rc;
    if (secrets_usable() != EXIT_OK)
        return EXIT_FAIL;
    if (vg_remote_rm(c->ws, r.name, &err) != VG_OK)
        return cli_fail(c, &err);
    char section[VG_REMOTE_URL + 16];
    token_section(&r, section, sizeof section);
    if ((rc = secret_set(c, section, NULL)))
        return rc;
    fputs("removed remote ", stdout);
    out_safe(c, r.name);
    fputs(" and its token\n", stdout);
    return EXIT_OK;
}

int cmd_remote_ls(cli *c, int argc, char **argv)
{
    opt o[] = {{"json", NULL}};
    char *pos[1];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, o, 1, pos, 0, &npos)) || (rc = cli_open(c, 0)))
        return rc;
    vg_remote *all;
    size_t n;
    vg_err err = {0};
    if (vg_remote_list(c->ws, &all, &n, &err) != VG_OK)
        return cli_fail(c, &err);
    bool json = opt_get(o, 1, "json");
    cJSON *arr = json ? cJSON_CreateArray() : NULL;
    for (size_t i = 0; i < n && rc == EXIT_OK; i++) {
        vg_sync_cursor cur;
        int64_t waiting;
        if (vg_sync_get(c->ws, all[i].name, &cur, &err) != VG_OK ||
            vg_remote_waiting(c->ws, &all[i], &waiting, &err) != VG_OK) {
            rc = cli_fail(c, &err);
            break;
        }
        if (json) {
            cJSON *j = cJSON_CreateObject();
            cJSON_AddStringToObject(j, "name", all[i].name);
            cJSON_AddStringToObject(j, "url", all[i].url);
            cJSON_AddStringToObject(j, "tenant", all[i].tenant);
            cJSON_AddStringToObject(j, "user", all[i].user);
            cJSON_AddNumberToObject(j, "added_at", (double)all[i].added_at);
            cJSON_AddNumberToObject(j, "pushed", (double)cur.pushed);
            cJSON_AddNumberToObject(j, "pulled", (double)cur.pulled);
            cJSON_AddNumberToObject(j, "waiting", (double)waiting);
            cJSON_AddItemToArray(arr, j);
        } else {
            out_safe(c, all[i].name);
            putchar(' ');
            out_safe(c, all[i].url);
            fputs(" tenant ", stdout);
            out_safe(c, all[i].tenant);
            fputs(" user ", stdout);
            out_safe(c, all[i].user);
            printf(": pushed to %lld, pulled to %lld, %lld op%s to push\n", (long long)cur.pushed,
                   (long long)cur.pulled, (long long)waiting, waiting == 1 ? "" : "s");
        }
    }
    if (json && rc == EXIT_OK)
        out_json(arr);
    else
        cJSON_Delete(arr);
    free(all);
    return rc;
}

/* ---- vigil sync ------------------------------------------------------------------- */

int cli_remote_token(cli *c, const vg_remote *r, char **token)
{
    char section[VG_REMOTE_URL + 16];
    token_section(r, section, sizeof section);
    *token = NULL;
    if (config_secret(section, "token", token) != 0)
        return EXIT_FAIL;
    if (!*token)
        return cli_error(c, "no token for %s in the secrets file (vigil paths); `vigil remote rm"
                            " %s` and add it again", r->url, r->name);
    return EXIT_OK;
}

static const char *plural(int64_t n) { return n == 1 ? "" : "s"; }

/* "#1-#3" or "#7". */
static void ref_span(int64_t lo, int64_t hi, char *out, size_t n)
{
    if (lo == hi)
        snprintf(out, n, "#%lld", (long long)lo);
    else
        snprintf(out, n, "#%lld-#%lld", (long long)lo, (long long)hi);
}

static void print_moved(cli *c, const vg_remote *r, const net_sync_result *s, int64_t waiting)
{
    out_safe(c, r->name);
    if (s->read_only)
        printf(": pulled %lld op%s (read-only: this token may not push; %lld op%s stay here)\n",
               (long long)s->pulled, plural(s->pulled), (long long)waiting, plural(waiting));
    else
        printf(": pushed %lld op%s, pulled %lld op%s", (long long)s->pushed, plural(s->pushed),
               (long long)s->pulled, plural(s->pulled));
    if (!s->read_only && s->renumbered) {
        char from[48], to[48];
        ref_span(s->renum_from_lo, s->renum_from_hi, from, sizeof from);
        ref_span(s->renum_to_lo, s->renum_to_hi, to, sizeof to);
        printf(" (%lld case%s renumbered %s %s %s)", (long long)s->renumbered,
               plural(s->renumbered), from, c->text_flags & VG_TEXT_ASCII ? "->" : "\u2192", to);
    }
    if (!s->read_only)
        putchar('\n');
    if (s->reset) {
        out_safe(c, r->name);
        fputs(": the server no longer held what this workspace had pulled (restored from an"
              " older copy?): the cursors were reset and every op offered again\n", stdout);
    }
}

/* A workspace that holds nothing yet joins from the team's snapshot (vigild(8),
 * "Snapshots") rather than replaying the team's log op by op: the snapshot is
 * written beside the workspace, made this replica's (the remote, the cursors at
 * the snapshot's head), and renamed over the empty workspace, which is then
 * opened again. *joined: it happened (false for a team with nothing yet). */
static int join_by_snapshot(cli *c, const vg_remote *r, const char *token,
                            const net_sync_opts *so, net_sync_result *s, bool *joined,
                            vg_err *err)
{
    *joined = false;
    char tmp[4200], wal[4200];
    snprintf(tmp, sizeof tmp, "%s.join-%ld", c->db_path, (long)getpid());
    int64_t seq = 0;
    char id[27];
    unlink(tmp); /* a join of ours that died with this pid */
    if (net_snapshot(r, token, so, tmp, &seq, id, s, err) != VG_OK)
        return -1;
    vg_ws *snap = NULL;
    vg_remote copy = *r;
    vg_rc rc = seq == 0 ? VG_OK : vg_ws_open(tmp, 0, &snap, err);
    if (rc == VG_OK && snap && (rc = vg_remote_add(snap, &copy, err)) == VG_OK)
        rc = vg_sync_adopt(snap, r->name, seq, id, err);
    vg_ws_close(snap);
    if (rc != VG_OK || seq == 0) {
        vg_ws_remove(tmp);
        return rc == VG_OK ? 0 : -1;
    }
    vg_ws_close(c->ws);
    c->ws = NULL;
    /* a -wal still there is another process's: its frames must never meet the new file */
    snprintf(wal, sizeof wal, "%s-wal", c->db_path);
    if (access(wal, F_OK) == 0) {
        vg_ws_remove(tmp);
        vg_fail(err, VG_EIO, "%s is open in another vigil (a workstation?): close it and sync"
                             " again", c->db_path);
        return cli_open(c, 0) == EXIT_OK ? -1 : -2;
    }
    if (rename(tmp, c->db_path) != 0) {
        vg_fail(err, VG_EIO, "%s: %s", c->db_path, strerror(errno));
        vg_ws_remove(tmp);
        return cli_open(c, 0) == EXIT_OK ? -1 : -2;
    }
    *joined = true;
    return cli_open(c, 0) == EXIT_OK ? 0 : -2;
}

/* The workspace's remote called name (NULL: its one) and its token (the
 * caller's to wipe and free). */
static int remote_and_token(cli *c, const char *name, vg_remote *r, char **token)
{
    int rc = remote_named(c, name, r);
    return rc ? rc : cli_remote_token(c, r, token);
}

int cmd_sync(cli *c, int argc, char **argv)
{
    opt o[] = {{"wait=", NULL}, {"json", NULL}, {"no-snapshot", NULL}};
    enum { NOPT = 3 };
    char *pos[1];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, o, NOPT, pos, 1, &npos)))
        return rc;
    int64_t wait = 0;
    const char *w = opt_get(o, NOPT, "wait");
    if (w && (rc = cli_count(c, "wait", w, 0, 30, &wait)))
        return rc;
    vg_remote r;
    vg_err err = {0};
    char *token;
    if ((rc = remote_and_token(c, npos ? pos[0] : NULL, &r, &token)))
        return rc;
    net_ssh_opts sopt;
    cli_ssh_opts(&sopt);
    net_transport t; /* one for the round: an SSH session opened once */
    net_transport_for(&t, &r, &sopt);
    net_sync_opts so = {.wait = (int)wait, .transport = &t};
    net_sync_result s = {0};
    vg_sync_cursor cur;
    bool joined = false;
    vg_rc sr = vg_sync_get(c->ws, r.name, &cur, &err);
    if (sr == VG_OK && cur.pulled == 0 && vg_ws_last_seq(c->ws) == 0 &&
        !opt_get(o, NOPT, "no-snapshot")) {
        int j = join_by_snapshot(c, &r, token, &so, &s, &joined, &err);
        if (j == -2) { /* the workspace could not be opened again: said already */
            sodium_memzero(token, strlen(token));
            free(token);
            net_transport_close(&t);
            return EXIT_FAIL;
        }
        /* a vigild without snapshots (404): the log from its first op, as before */
        sr = j == 0 || (j == -1 && s.status == 404) ? VG_OK : VG_EIO;
    }
    int64_t snap_bytes = s.bytes_received;
    if (sr == VG_OK) {
        sr = net_sync(c->ws, &r, token, &so, &s, &err);
        s.bytes_received += snap_bytes;
    }
    if (joined && sr == VG_OK)
        printf("%s: joined from the team's snapshot (%.1f MB)\n", r.name,
               (double)snap_bytes / 1048576);
    sodium_memzero(token, strlen(token));
    free(token);
    net_transport_close(&t);
    int64_t waiting = 0;
    vg_err werr;
    if (vg_remote_waiting(c->ws, &r, &waiting, &werr) != VG_OK)
        waiting = -1;
    if (opt_get(o, NOPT, "json")) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "remote", r.name);
        cJSON_AddBoolToObject(j, "ok", sr == VG_OK);
        cJSON_AddBoolToObject(j, "offline", s.offline);
        cJSON_AddNumberToObject(j, "pushed", (double)s.pushed);
        cJSON_AddNumberToObject(j, "pulled", (double)s.pulled);
        cJSON_AddNumberToObject(j, "renumbered", (double)s.renumbered);
        cJSON_AddNumberToObject(j, "waiting", (double)waiting);
        cJSON_AddBoolToObject(j, "reset", s.reset);
        cJSON_AddBoolToObject(j, "read_only", s.read_only);
        cJSON_AddNumberToObject(j, "bytes_sent", (double)s.bytes_sent);
        cJSON_AddNumberToObject(j, "bytes_received", (double)s.bytes_received);
        if (sr != VG_OK)
            cJSON_AddStringToObject(j, "error", err.msg);
        out_json(j);
    } else if (sr == VG_OK) {
        print_moved(c, &r, &s, waiting);
    }
    if (sr == VG_OK)
        return EXIT_OK;
    if (s.offline) {
        vg_err off;
        vg_fail(&off, VG_EIO, "%s: offline (%s); %lld op%s wait to push", r.name, err.msg,
                (long long)waiting, plural(waiting));
        cli_fail(c, &off);
        return EXIT_OFFLINE;
    }
    vg_err named;
    vg_fail(&named, err.rc, "%s: %s", r.name, err.msg);
    return cli_fail(c, &named);
}

/* ---- vigil remote trust, vigil remote test ------------------------------------------ */

/* The remote called arg, or, when arg is a URL, that URL unstored (remote add
 * says to trust a host before the remote exists). */
static int remote_of(cli *c, const char *arg, vg_remote *r)
{
    vg_err err = {0};
    memset(r, 0, sizeof *r);
    if (strstr(arg, "://")) {
        if (vg_remote_parse_url(arg, r, &err) != VG_OK)
            return cli_usage(c, "%s", err.msg);
        return EXIT_OK;
    }
    return remote_named(c, arg, r);
}

int cmd_remote_trust(cli *c, int argc, char **argv)
{
    char *pos[2];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, NULL, 0, pos, 2, &npos)))
        return rc;
    if (npos < 1)
        return cli_usage(c, "needs NAME (or the URL) and, checked, the fingerprint");
    if (npos == 2 && strncmp(pos[1], "SHA256:", 7) != 0)
        return cli_usage(c, "the fingerprint is SHA256:... as vigil and ssh-keygen -l print it");
    vg_remote r;
    if ((rc = remote_of(c, pos[0], &r)))
        return rc;
    net_ssh_opts o;
    cli_ssh_opts(&o);
    const char *fp = npos == 2 ? pos[1] : NULL;
    char shown[80];
    for (int trusted = 0;;) {
        net_hostkey k;
        vg_err err = {0};
        if (net_ssh_trust(&r, &o, fp, &k, &err) != VG_OK)
            return cli_fail(c, &err);
        if (k.added) { /* then the hops after it, in turn */
            fputs("trusted ", stdout);
            out_safe(c, k.host);
            printf(" (%s %s): added to ~/.ssh/known_hosts\n", k.type, k.fingerprint);
            trusted++;
            fp = NULL;
            continue;
        }
        if (k.state == NET_HOSTKEY_OK) {
            if (!trusted)
                printf("every host key on the way to %s is known already: nothing to trust\n",
                       r.url);
            return EXIT_OK;
        }
        /* not known, and no fingerprint for it: the analyst says, on a terminal */
        FILE *tty = isatty(STDIN_FILENO) ? fopen("/dev/tty", "r+e") : NULL;
        if (!tty)
            return cli_error(c, "the host key of %s is %s %s: check it with the server's admin,"
                                " then: vigil remote trust '%s' %s",
                             k.host, k.type, k.fingerprint, pos[0], k.fingerprint);
        fprintf(stderr, "the host key of %s is %s %s\ntrust it, checked with the server's"
                        " admin? type yes: ", k.host, k.type, k.fingerprint);
        fflush(stderr);
        char answer[16];
        char *got = fgets(answer, sizeof answer, tty);
        fclose(tty);
        if (!got || strcmp(answer, "yes\n") != 0)
            return cli_error(c, "not trusted: nothing written");
        snprintf(shown, sizeof shown, "%s", k.fingerprint); /* the key shown, and no other */
        fp = shown;
    }
}

static void test_step(void *ud, const char *name, bool ok, const char *detail)
{
    cli *c = ud;
    printf("%-4s %-9s ", ok ? "ok" : "FAIL", name);
    out_safe(c, detail);
    putchar('\n');
    fflush(stdout);
}

int cmd_remote_test(cli *c, int argc, char **argv)
{
    char *pos[1];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, NULL, 0, pos, 1, &npos)))
        return rc;
    vg_remote r;
    vg_err err = {0};
    char *token;
    if ((rc = remote_and_token(c, npos ? pos[0] : NULL, &r, &token)))
        return rc;
    net_ssh_opts o;
    cli_ssh_opts(&o);
    vg_rc tr = net_remote_test(&r, token, &o, test_step, c, &err);
    sodium_memzero(token, strlen(token));
    free(token);
    return tr == VG_OK ? EXIT_OK : EXIT_FAIL;
}
