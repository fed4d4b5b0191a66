/*
 * main.c — `vigild [--data DIR] [--store URL] [--listen ADDR:PORT] [--port-file FILE] [COMMAND ...]`
 *          `vigild [--data DIR] [--store URL] --stdio`
 *          `vigild migrate-store --from DIR --to URL`
 *
 * With a command, vigild administers its data directory directly (no HTTP: the
 * administrator is on the host, as the owner of the directory); without one, it
 * serves in the foreground until SIGTERM or SIGINT, for systemd's Type=simple.
 * With --stdio it serves one HTTP connection on stdin and stdout and exits when
 * the client closes it: what an SSH exec channel runs where sshd forbids
 * forwarding (as git and Fossil sync over SSH), beside the daemon on the same
 * directory. Then stdout is HTTP alone: it is moved aside at start, and fd 1
 * points at stderr, so a stray printf cannot corrupt the stream.
 * Messages go to stderr as `vigild: what: why`; exit 0 success, 1 failure,
 * 2 usage, as vigil's. vigild(8) is the manual.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "paths.h"
#include "routes.h"
#include "store.h"
#include "token.h"
#include "vg_config.h"
#include "vigil/attack.h"
#include "vigil/json.h"
#include "vigil/text.h"
#include "vigil/timefmt.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

#define DEFAULT_DATA "/var/lib/vigild"
#define DEFAULT_LISTEN "127.0.0.1:8470"
#define DRAIN_SECONDS 10 /* how long in-flight requests get after SIGTERM */

typedef struct cmd cmd;
typedef struct ctx {
    const cmd *c;
    int text_flags; /* VG_TEXT_ASCII without a UTF-8 locale */
    store *st;
    /* options a command may take (cmd.opts says which) */
    const char *role, *label;
    bool json;
    char *pos[3];
    int npos;
} ctx;

struct cmd {
    const char *name;  /* "token new" */
    const char *usage; /* "TENANT USER [--label TEXT]" */
    const char *opts;  /* of "jrl": --json, --role, --label */
    int minpos, maxpos;
    int (*run)(ctx *x);
};

static int fail_msg(ctx *x, const char *msg)
{
    char safe[1024];
    vg_text_safe(msg, strlen(msg), x->text_flags, safe, sizeof safe);
    fprintf(stderr, "vigild: %s: %s\n", x->c->name, safe);
    return EXIT_FAIL;
}

static int fail(ctx *x, const vg_err *err) { return fail_msg(x, err->msg); }

static int usage(ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int usage(ctx *x, const char *fmt, ...)
{
    char msg[512], safe[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    vg_text_safe(msg, strlen(msg), x->text_flags, safe, sizeof safe);
    fprintf(stderr, "vigild: %s: %s\nusage: vigild %s %s\n", x->c->name, safe, x->c->name,
            x->c->usage);
    return EXIT_USAGE;
}

/* A name a command was given, checked before anything is looked up. */
static int check_name(ctx *x, const char *what, const char *s)
{
    if (store_name_valid(s))
        return EXIT_OK;
    return usage(x, "%s name '%s' is not [a-z0-9][a-z0-9._-]{0,63}", what, s);
}

static int tenant_of(ctx *x, const char *name, store_tenant *t)
{
    vg_err err = {0};
    int rc = check_name(x, "tenant", name);
    if (rc == EXIT_OK && store_tenant_get(x->st, name, t, &err) != VG_OK)
        rc = fail(x, &err);
    return rc;
}

static void print_safe(ctx *x, const char *s, int width)
{
    char safe[512];
    vg_text_safe(s, strlen(s), x->text_flags, safe, sizeof safe);
    printf("%-*s", width, safe);
}

static void local_time(int64_t ms, char *out, size_t outsz)
{
    if (ms)
        vg_local_time(ms, out, outsz);
    else
        snprintf(out, outsz, "-");
}

static void add_time(cJSON *j, const char *name, int64_t ms)
{
    char iso[32];
    if (!ms) {
        cJSON_AddNullToObject(j, name);
        return;
    }
    vg_iso8601(ms, iso, sizeof iso);
    cJSON_AddStringToObject(j, name, iso);
}

static void print_json(cJSON *j)
{
    char *text = cJSON_PrintUnformatted(j);
    puts(text);
    free(text);
    cJSON_Delete(j);
}

/* --- the commands ----------------------------------------------------------------- */

static int tenant_add(ctx *x)
{
    store_tenant t;
    vg_err err = {0};
    int rc = check_name(x, "tenant", x->pos[0]);
    if (rc)
        return rc;
    if (store_tenant_add(x->st, x->pos[0], &t, &err) != VG_OK)
        return fail(x, &err);
    printf("added tenant %s (id %s)\n", t.name, t.id);
    return EXIT_OK;
}

static int tenant_ls(ctx *x)
{
    store_tenant *t;
    size_t n;
    vg_err err = {0};
    if (store_tenants(x->st, &t, &n, &err) != VG_OK)
        return fail(x, &err);
    if (x->json) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; i < n; i++) {
            cJSON *j = cJSON_CreateObject();
            cJSON_AddStringToObject(j, "id", t[i].id);
            cJSON_AddStringToObject(j, "name", t[i].name);
            add_time(j, "created_at", t[i].created_at);
            cJSON_AddItemToArray(arr, j);
        }
        print_json(arr);
    } else {
        printf("%-26s  %-20s  %s\n", "ID", "NAME", "CREATED");
        for (size_t i = 0; i < n; i++) {
            char when[32];
            local_time(t[i].created_at, when, sizeof when);
            printf("%-26s  %-20s  %s\n", t[i].id, t[i].name, when);
        }
        if (n == 0)
            puts("(no tenants: vigild tenant add NAME)");
    }
    free(t);
    return EXIT_OK;
}

static int user_add(ctx *x)
{
    store_tenant t;
    vg_err err = {0};
    store_role role = store_role_parse(x->role);
    if (!x->role)
        return usage(x, "--role is required");
    if (!role)
        return usage(x, "--role: '%s' is not one of admin, analyst, viewer, ingest", x->role);
    int rc = check_name(x, "user", x->pos[1]);
    if (rc || (rc = tenant_of(x, x->pos[0], &t)))
        return rc;
    if (store_user_add(x->st, t.id, x->pos[1], role, &err) != VG_OK)
        return fail(x, &err);
    printf("added user %s to %s as %s\n", x->pos[1], t.name, store_role_name(role));
    return EXIT_OK;
}

static int user_ls(ctx *x)
{
    store_tenant t;
    store_user *u;
    size_t n;
    vg_err err = {0};
    int rc = tenant_of(x, x->pos[0], &t);
    if (rc)
        return rc;
    if (store_users(x->st, t.id, &u, &n, &err) != VG_OK)
        return fail(x, &err);
    if (x->json) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; i < n; i++) {
            cJSON *j = cJSON_CreateObject();
            cJSON_AddStringToObject(j, "tenant", t.name);
            cJSON_AddStringToObject(j, "name", u[i].name);
            cJSON_AddStringToObject(j, "role", store_role_name(u[i].role));
            add_time(j, "created_at", u[i].created_at);
            cJSON_AddItemToArray(arr, j);
        }
        print_json(arr);
    } else {
        printf("%-20s  %-8s  %s\n", "NAME", "ROLE", "CREATED");
        for (size_t i = 0; i < n; i++) {
            char when[32];
            local_time(u[i].created_at, when, sizeof when);
            printf("%-20s  %-8s  %s\n", u[i].name, store_role_name(u[i].role), when);
        }
        if (n == 0)
            printf("(no users: vigild user add %s NAME --role ROLE)\n", t.name);
    }
    free(u);
    return EXIT_OK;
}

static int token_new(ctx *x)
{
    store_tenant t;
    store_token k;
    char secret[TOKEN_TEXT_LEN + 1];
    vg_err err = {0};
    int rc = check_name(x, "user", x->pos[1]);
    if (rc || (rc = tenant_of(x, x->pos[0], &t)))
        return rc;
    if (store_token_new(x->st, t.id, x->pos[1], x->label, secret, sizeof secret, &k, &err) !=
        VG_OK)
        return fail(x, &err);
    puts(secret);
    fflush(stdout);
    fprintf(stderr, "vigild: token %s for %s/%s; it is shown this once\n", k.id, t.name, k.user);
    return EXIT_OK;
}

static int token_ls(ctx *x)
{
    store_tenant t;
    store_token *k;
    size_t n;
    vg_err err = {0};
    int rc = x->npos ? tenant_of(x, x->pos[0], &t) : EXIT_OK;
    if (rc)
        return rc;
    if (store_tokens(x->st, x->npos ? t.id : NULL, &k, &n, &err) != VG_OK)
        return fail(x, &err);
    if (x->json) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; i < n; i++) {
            cJSON *j = cJSON_CreateObject();
            cJSON_AddStringToObject(j, "id", k[i].id);
            cJSON_AddStringToObject(j, "tenant", k[i].tenant.name);
            cJSON_AddStringToObject(j, "user", k[i].user);
            if (k[i].label[0])
                cJSON_AddStringToObject(j, "label", k[i].label);
            else
                cJSON_AddNullToObject(j, "label");
            add_time(j, "created_at", k[i].created_at);
            add_time(j, "last_used_at", k[i].last_used_at);
            add_time(j, "revoked_at", k[i].revoked_at);
            cJSON_AddItemToArray(arr, j);
        }
        print_json(arr);
    } else {
        printf("%-26s  %-16s  %-16s  %-20s  %-16s  %-16s  %s\n", "ID", "TENANT", "USER", "LABEL",
               "CREATED", "LAST USED", "REVOKED");
        for (size_t i = 0; i < n; i++) {
            char c[32], u[32], r[32];
            local_time(k[i].created_at, c, sizeof c);
            local_time(k[i].last_used_at, u, sizeof u);
            local_time(k[i].revoked_at, r, sizeof r);
            printf("%-26s  %-16s  %-16s  ", k[i].id, k[i].tenant.name, k[i].user);
            print_safe(x, k[i].label[0] ? k[i].label : "-", 20);
            printf("  %-16s  %-16s  %s\n", c, u, r);
        }
        if (n == 0)
            puts("(no tokens: vigild token new TENANT USER)");
    }
    free(k);
    return EXIT_OK;
}

static int token_revoke(ctx *x)
{
    vg_err err = {0};
    if (store_token_revoke(x->st, x->pos[0], &err) != VG_OK)
        return fail(x, &err);
    printf("revoked token %s\n", x->pos[0]);
    return EXIT_OK;
}

static const cmd commands[] = {
    {"tenant add", "NAME", "", 1, 1, tenant_add},
    {"tenant ls", "[--json]", "j", 0, 0, tenant_ls},
    {"user add", "TENANT NAME --role admin|analyst|viewer|ingest", "r", 2, 2, user_add},
    {"user ls", "TENANT [--json]", "j", 1, 1, user_ls},
    {"token new", "TENANT USER [--label TEXT]", "l", 2, 2, token_new},
    {"token ls", "[TENANT] [--json]", "j", 0, 1, token_ls},
    {"token revoke", "ID", "", 1, 1, token_revoke},
};
#define NCOMMANDS ((int)(sizeof commands / sizeof *commands))

static void usage_all(FILE *f)
{
    fputs("usage: vigild [--data DIR] [--store URL] [--listen ADDR:PORT] [--port-file FILE]\n"
          "       vigild [--data DIR] [--store URL] --stdio\n"
          "       vigild [--data DIR] [--store URL] COMMAND [ARGS]\n"
          "       vigild migrate-store --from DIR --to URL\n\n"
          "Without a command, serve (in the foreground) until SIGTERM; with --stdio, serve\n"
          "one connection on stdin and stdout (an SSH exec channel). --store (or\n"
          "$VIGILD_STORE, or the file DIR/store) is a PostgreSQL database\n"
          "(postgresql://USER@HOST:PORT/DB) that keeps everything, shared by any number of\n"
          "vigild; without it the data directory does. Commands:\n", f);
    for (int i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  vigild %s %s\n", commands[i].name, commands[i].usage);
    fputs("\n--data defaults to " DEFAULT_DATA ", --listen to " DEFAULT_LISTEN
          ". man vigild for everything.\n", f);
}

/* The command's options (getopt_long, which also takes --opt=value) and its
 * positionals, in x. */
static int parse_args(ctx *x, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},
        {"role", required_argument, NULL, 'r'},
        {"label", required_argument, NULL, 'l'},
        {NULL, 0, NULL, 0},
    };
    optind = 0; /* glibc: start afresh */
    opterr = 0;
    int o;
    /* "-": positionals come back in order as 1, options anywhere among them */
    while ((o = getopt_long(argc, argv, "-", longopts, NULL)) != -1) {
        if (o == 1) {
            if (x->npos == x->c->maxpos)
                return usage(x, "unexpected argument '%s'", optarg);
            x->pos[x->npos++] = optarg;
            continue;
        }
        if (o == '?' || o == ':' || !strchr(x->c->opts, o)) {
            if (optopt && strchr("rl", optopt))
                return usage(x, "option %s needs a value", argv[optind - 1]);
            return usage(x, "unknown option '%s'", argv[optind - 1]);
        }
        if (o == 'j')
            x->json = true;
        else if (o == 'r')
            x->role = optarg;
        else if (o == 'l')
            x->label = optarg;
    }
    for (int i = optind; i < argc; i++) {
        if (x->npos == x->c->maxpos)
            return usage(x, "unexpected argument '%s'", argv[i]);
        x->pos[x->npos++] = argv[i];
    }
    if (x->npos < x->c->minpos)
        return usage(x, "missing arguments");
    return EXIT_OK;
}

static int run_command(const char *data, const char *url, int text_flags, int argc, char **argv)
{
    const cmd *c = NULL;
    for (int i = 0; i < NCOMMANDS && !c; i++) {
        size_t l = strcspn(commands[i].name, " ");
        if (argc >= 2 && strlen(argv[0]) == l && strncmp(argv[0], commands[i].name, l) == 0 &&
            strcmp(argv[1], commands[i].name + l + 1) == 0)
            c = &commands[i];
    }
    if (!c) {
        char safe[256];
        vg_text_safe(argv[0], strlen(argv[0]), text_flags, safe, sizeof safe);
        fprintf(stderr, "vigild: unknown command '%s%s%s'\n", safe, argc > 1 ? " " : "",
                argc > 1 ? argv[1] : "");
        usage_all(stderr);
        return EXIT_USAGE;
    }
    ctx x = {.c = c, .text_flags = text_flags};
    /* argv[1] is the command's second word: getopt_long starts after it */
    int rc = parse_args(&x, argc - 1, argv + 1);
    if (rc)
        return rc;
    vg_err err = {0};
    if (store_open(data, url, &x.st, &err) != VG_OK)
        return fail(&x, &err);
    rc = c->run(&x);
    store_close(x.st);
    return rc;
}

/* --- where the store is ------------------------------------------------------------- */

#define STORE_FILE_MAX 4096

/* DIR/store: the store's URL, one line, kept in the data directory so that every
 * vigild on it (an SSH exec channel's --stdio too, which sees no environment of
 * the administrator's) finds the same database. It may hold a password: a file
 * others may read is refused. *url is NULL when there is no such file. */
static bool store_file(const char *data, char *buf, size_t bufsz, const char **url)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/store", data);
    *url = NULL;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return true;
        fprintf(stderr, "vigild: %s: %s\n", path, strerror(errno));
        return false;
    }
    struct stat sb;
    ssize_t n = -1;
    const char *why = NULL;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
        why = "not a regular file";
    else if (sb.st_mode & 077)
        why = "readable or writable by others (it may hold a password); chmod 600 it";
    else if (sb.st_uid != geteuid())
        why = "owned by another user";
    else if (sb.st_size >= (off_t)bufsz || (n = read(fd, buf, bufsz - 1)) < 0)
        why = "larger than 4 KB, or unreadable";
    close(fd);
    if (why) {
        fprintf(stderr, "vigild: %s: %s\n", path, why);
        return false;
    }
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    if (n == 0 || strchr(buf, '\n')) {
        fprintf(stderr, "vigild: %s: one line, the store's URL (postgresql://...)\n", path);
        return false;
    }
    *url = buf;
    return true;
}

/* --- moving a data directory into PostgreSQL ---------------------------------------- */

static void say_line(void *ud, const char *line)
{
    (void)ud;
    printf("%s\n", line);
}

/* vigild [--data DIR] migrate-store --from DIR --to URL: DIR (--data) receives
 * this host's copies of the moved logs, read back from the database to check them. */
static int migrate_store(const char *data, int text_flags, int argc, char **argv)
{
    const char *from = NULL, *to = NULL;
    for (int i = 1; i < argc; i++) {
        const char **slot = strcmp(argv[i], "--from") == 0 ? &from
                            : strcmp(argv[i], "--to") == 0 ? &to : NULL;
        if (!slot || i + 1 == argc || !*argv[i + 1]) {
            char safe[256];
            vg_text_safe(argv[i], strlen(argv[i]), text_flags, safe, sizeof safe);
            fprintf(stderr, "vigild: migrate-store: %s '%s'\nusage: vigild [--data DIR]"
                            " migrate-store --from DIR --to URL\n",
                    slot ? "a value is missing after" : "unexpected argument", safe);
            return EXIT_USAGE;
        }
        *slot = argv[++i];
    }
    if (!from || !to) {
        fprintf(stderr, "vigild: migrate-store: --from DIR and --to URL are both needed\n"
                        "usage: vigild [--data DIR] migrate-store --from DIR --to URL\n");
        return EXIT_USAGE;
    }
    vg_err err = {0};
    if (store_migrate(from, to, data, say_line, NULL, &err) != VG_OK) {
        char safe[1024];
        vg_text_safe(err.msg, strlen(err.msg), text_flags, safe, sizeof safe);
        fprintf(stderr, "vigild: migrate-store: %s\n", safe);
        return EXIT_FAIL;
    }
    printf("moved %s into PostgreSQL; serve it with: vigild --data %s --store URL\n", from, data);
    return EXIT_OK;
}

/* --- serving ---------------------------------------------------------------------- */

/* "127.0.0.1:8470" or "[::1]:8470" into addr. */
static bool parse_listen(const char *s, struct sockaddr_storage *addr)
{
    char host[64];
    const char *colon;
    memset(addr, 0, sizeof *addr);
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':' || (size_t)(close - s - 1) >= sizeof host)
            return false;
        memcpy(host, s + 1, (size_t)(close - s - 1));
        host[close - s - 1] = '\0';
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || (size_t)(colon - s) >= sizeof host)
            return false;
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = '\0';
    }
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || port < 0 || port > 65535)
        return false;
    struct sockaddr_in *a4 = (struct sockaddr_in *)addr;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)addr;
    if (s[0] != '[' && inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        return true;
    }
    if (s[0] == '[' && inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        return true;
    }
    return false;
}

/* The port, written whole: a reader sees no file or all of it. */
static bool write_port_file(const char *path, unsigned port)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return false;
    bool ok = fprintf(f, "%u\n", port) > 0;
    ok = fclose(f) == 0 && ok;
    return ok && rename(tmp, path) == 0;
}

/* For --stdio: the connection's fds, moved off 0 and 1 (close-on-exec), with fd 0
 * reading /dev/null and fd 1 writing to stderr from then on. */
static bool take_stdio(int *in, int *out)
{
    *in = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
    *out = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    bool ok = *in >= 0 && *out >= 0 && null >= 0 && dup2(null, STDIN_FILENO) >= 0 &&
              dup2(STDERR_FILENO, STDOUT_FILENO) >= 0;
    if (null >= 0)
        close(null);
    return ok;
}

/* Serve: on listen until SIGTERM or SIGINT, or (stdio) one connection on stdin
 * and stdout until it ends. The store, the routes and the server are the same;
 * what differs is where the connections come from and what ends the serving. */
static int serve(const char *data, const char *url, const char *listen, const char *port_file,
                 bool stdio)
{
    struct sockaddr_storage addr;
    if (!stdio && !parse_listen(listen, &addr)) {
        fprintf(stderr, "vigild: --listen: '%s' is not ADDR:PORT (127.0.0.1:8470, [::1]:8470)\n",
                listen);
        return EXIT_USAGE;
    }
    /* A --stdio vigild runs for a client over SSH, never by its admin: a data
     * directory that does not exist is the URL's typo, not a new server to make. */
    char db[4200];
    snprintf(db, sizeof db, "%s/server.db", data);
    if (stdio && url && access(data, F_OK) != 0) {
        fprintf(stderr, "vigild: --stdio: %s: no such data directory: check the remote's"
                        " /DIR\n", data);
        return EXIT_FAIL;
    }
    if (stdio && !url && access(db, F_OK) != 0) {
        fprintf(stderr, "vigild: --stdio: %s holds no vigild data (no server.db): check the"
                        " remote's /DIR\n", data);
        return EXIT_FAIL;
    }
    int in = -1, out = -1;
    if (stdio && !take_stdio(&in, &out)) {
        fprintf(stderr, "vigild: --stdio: cannot take stdin and stdout: %s\n", strerror(errno));
        return EXIT_FAIL;
    }
    /* SIGTERM and SIGINT are taken by sigwait below, in this thread: blocked before
     * the workers start, so that they inherit the mask and no handler runs in one.
     * --stdio keeps their default: its client is gone when they come (sshd's
     * session ended), and SQLite's transactions survive the kill. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    if (!stdio)
        pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    store *st = NULL;
    http_server *hs = NULL;
    vg_err err = {0};
    unsigned port = 0;
    if (store_open(data, url, &st, &err) != VG_OK) {
        fprintf(stderr, "vigild: %s\n", err.msg);
        return EXIT_FAIL;
    }
    /* ATT&CK, for ingest as for `vigil import`: rule names map to techniques */
    vg_attack *attack = NULL;
    char *shipped = paths_data();
    if (vg_attack_load(NULL, shipped, &attack, &err) != VG_OK)
        fprintf(stderr, "vigild: %s: ingest goes on without mapping rule names to ATT&CK\n",
                err.msg);
    free(shipped);
    routes_set_attack(attack);
    if (http_start(st, http_routes, http_nroutes, stdio ? NULL : (struct sockaddr *)&addr, &hs,
                   &port, &err) != VG_OK) {
        fprintf(stderr, "vigild: %s: %s\n", stdio ? "--stdio" : listen, err.msg);
        store_close(st);
        vg_attack_free(attack);
        return EXIT_FAIL;
    }
    if (stdio) {
        int rc = EXIT_OK;
        if (http_serve_stream(hs, in, out, &err) != VG_OK) {
            fprintf(stderr, "vigild: --stdio: %s\n", err.msg);
            rc = EXIT_FAIL;
        }
        http_stop(hs);
        store_close(st);
        vg_attack_free(attack);
        close(in);
        close(out);
        return rc;
    }
    if (port_file && !write_port_file(port_file, port)) {
        fprintf(stderr, "vigild: --port-file: cannot write %s\n", port_file);
        http_stop(hs);
        store_close(st);
        vg_attack_free(attack);
        return EXIT_FAIL;
    }
    char host[INET6_ADDRSTRLEN];
    bool v6 = addr.ss_family == AF_INET6;
    inet_ntop(addr.ss_family, v6 ? (void *)&((struct sockaddr_in6 *)&addr)->sin6_addr
                                 : (void *)&((struct sockaddr_in *)&addr)->sin_addr,
              host, sizeof host);
    fprintf(stderr, "vigild %s: serving %s%s on %s%s%s:%u\n", VG_VERSION, data,
            url ? " (store: PostgreSQL)" : "", v6 ? "[" : "", host, v6 ? "]" : "", port);

    int sig = 0;
    sigwait(&stop, &sig);
    /* Stop accepting; let what has begun finish, for a while; then close. */
    http_quiesce(hs);
    int left = http_in_flight(hs);
    fprintf(stderr, "vigild: %s: stopping, %d request%s in flight\n", strsignal(sig), left,
            left == 1 ? "" : "s");
    struct timespec tick = {0, 20 * 1000 * 1000};
    for (int i = 0; i < DRAIN_SECONDS * 50 && (left = http_in_flight(hs)) > 0; i++)
        nanosleep(&tick, NULL);
    if (left > 0)
        fprintf(stderr, "vigild: closing %d request%s still in flight after %d s\n", left,
                left == 1 ? "" : "s", DRAIN_SECONDS);
    http_stop(hs);
    store_close(st);
    vg_attack_free(attack);
    fprintf(stderr, "vigild: stopped\n");
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    /* Every file vigild makes (server.db, its journal, the tenants' workspaces) is
     * its user's alone, whatever umask it was started with. */
    umask(077);
    setlocale(LC_CTYPE, "");
    const char *cs = nl_langinfo(CODESET);
    int text_flags = cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0)
                         ? 0 : VG_TEXT_ASCII;
    const char *data = DEFAULT_DATA, *listen = NULL, *port_file = NULL, *url = NULL;
    bool stdio = false;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char **slot = NULL;
        const char *a = argv[i], *eq = strchr(a, '=');
        size_t nl = eq ? (size_t)(eq - a) : strlen(a);
        if (strcmp(a, "--stdio") == 0) {
            stdio = true;
            continue;
        }
        if (nl == 6 && strncmp(a, "--data", 6) == 0)
            slot = &data;
        else if (nl == 8 && strncmp(a, "--listen", 8) == 0)
            slot = &listen;
        else if (nl == 11 && strncmp(a, "--port-file", 11) == 0)
            slot = &port_file;
        else if (nl == 7 && strncmp(a, "--store", 7) == 0)
            slot = &url;
        else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage_all(stdout);
            return EXIT_OK;
        } else if (strcmp(a, "--version") == 0) {
            printf("vigild %s\n", VG_VERSION);
            return EXIT_OK;
        } else {
            char safe[256];
            vg_text_safe(a, strlen(a), text_flags, safe, sizeof safe);
            fprintf(stderr, "vigild: unknown option '%s'\n", safe);
            usage_all(stderr);
            return EXIT_USAGE;
        }
        if (eq)
            *slot = eq + 1;
        else if (i + 1 < argc)
            *slot = argv[++i];
        else {
            fprintf(stderr, "vigild: option %s needs a value\n", a);
            return EXIT_USAGE;
        }
        if (!**slot) {
            fprintf(stderr, "vigild: option %.*s needs a value\n", (int)nl, a);
            return EXIT_USAGE;
        }
    }
    /* the store: --store, else $VIGILD_STORE, else DIR/store, else the data
     * directory's own files */
    static char url_buf[STORE_FILE_MAX];
    if (!url && getenv("VIGILD_STORE") && *getenv("VIGILD_STORE"))
        url = getenv("VIGILD_STORE");
    if (!url && !(i < argc && strcmp(argv[i], "migrate-store") == 0) &&
        !store_file(data, url_buf, sizeof url_buf, &url))
        return EXIT_FAIL;
    if (i < argc && strcmp(argv[i], "migrate-store") == 0)
        return migrate_store(data, text_flags, argc - i, argv + i);
    if (stdio && (listen || port_file || i < argc)) {
        const char *what = i < argc ? "command" : listen ? "--listen" : "--port-file";
        fprintf(stderr,
                "vigild: --stdio serves one connection on stdin and stdout: it takes no %s\n"
                "usage: vigild [--data DIR] --stdio\n",
                what);
        return EXIT_USAGE;
    }
    if (i < argc) {
        if (listen || port_file) {
            fprintf(stderr, "vigild: --listen and --port-file are for serving, not for a"
                            " command\n");
            return EXIT_USAGE;
        }
        return run_command(data, url, text_flags, argc - i, argv + i);
    }
    return serve(data, url, listen ? listen : DEFAULT_LISTEN, port_file, stdio);
}
