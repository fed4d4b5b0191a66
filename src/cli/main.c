/*
 * main.c — `vigil [--db PATH] [--as NAME] [--ascii] SUBCOMMAND ...`
 *
 * Resolves where the workspace is and who is writing (--as, then the user of the
 * workspace's remote, so that what an analyst writes can be pushed, then the config
 * file's [user] name, then the login name), sets up safe output for this terminal, and
 * dispatches through the command table. Until the TUI exists, `vigil` with no
 * subcommand prints the case queue.
 */
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <pwd.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "copilot.h"
#include "paths.h"
#include "tui.h"
#include "vigil/intel.h"
#include "vigil/op.h"
#include "vigil/query.h"
#include "vigil/remote.h"
#include "vigil/text.h"

int cli_fail(cli *c, const vg_err *err)
{
    char safe[1024];
    vg_text_safe(err->msg, strlen(err->msg), c->text_flags, safe, sizeof safe);
    fprintf(stderr, "vigil: %s: %s\n", c->name, safe);
    return EXIT_FAIL;
}

int cli_error(cli *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "vigil: %s: ", c->name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return EXIT_FAIL;
}

int cli_usage(cli *c, const char *fmt, ...)
{
    va_list ap;
    char msg[512], safe[1024];
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    vg_text_safe(msg, strlen(msg), c->text_flags, safe, sizeof safe);
    fprintf(stderr, "vigil: %s: %s\n", c->name, safe);
    for (int i = 0; i < cli_ncommands; i++)
        if (strcmp(cli_commands[i].name, c->name) == 0)
            fprintf(stderr, "usage: vigil %s %s\n", cli_commands[i].name, cli_commands[i].usage);
    return EXIT_USAGE;
}

int cli_open(cli *c, int flags)
{
    vg_err err = {0};
    if ((flags & VG_OPEN_CREATE) && paths_ensure_parent(c->db_path, &err) != VG_OK)
        return cli_fail(c, &err);
    if (vg_ws_open(c->db_path, flags, &c->ws, &err) != VG_OK) {
        if (err.rc == VG_ENOTFOUND)
            return cli_error(c, "no workspace at %s (create one with `vigil init` or `vigil demo`,"
                                " or name one with --db)", c->db_path);
        return cli_fail(c, &err);
    }
    /* A workspace that syncs with a team writes as the server's user for it. */
    vg_remote r;
    if (!c->actor_given && vg_remote_get(c->ws, NULL, &r, &err) == VG_OK) {
        free(c->actor);
        c->actor = vg_xstrdup(r.user);
    }
    vg_ws_set_actor(c->ws, c->actor);
    /* The analyst's intel, matched as the workspace is read; without it (none yet,
     * or a store this vigil cannot read, said once) the workspace reads as before. */
    char *intel = cli_intel_path(c);
    if (vg_ws_attach_intel(c->ws, intel, &err) != VG_OK) {
        char safe[1024];
        vg_text_safe(err.msg, strlen(err.msg), c->text_flags, safe, sizeof safe);
        fprintf(stderr, "vigil: warning: intel: %s (reading without intel)\n", safe);
    }
    free(intel);
    return EXIT_OK;
}

int cli_case(cli *c, const char *ref, char id[27])
{
    vg_err err = {0};
    vg_id into;
    int64_t into_ref;
    vg_case k;
    if (vg_case_resolve(c->ws, ref, id, &err) != VG_OK ||
        vg_case_follow(c->ws, id, into, &into_ref, &err) != VG_OK)
        return cli_fail(c, &err);
    if (!into[0])
        return EXIT_OK;
    if (vg_case_get(c->ws, id, &k, &err) != VG_OK)
        return cli_fail(c, &err);
    c->merged_from_ref = k.ref;
    snprintf(c->merged_from, sizeof c->merged_from, "%s", id);
    vg_case_clear(&k);
    fprintf(stderr, "vigil: #%lld was merged into #%lld\n", (long long)c->merged_from_ref,
            (long long)into_ref);
    memcpy(id, into, sizeof into);
    return EXIT_OK;
}

int cli_apply(cli *c, vg_op *op)
{
    vg_err err = {0};
    vg_rc rc = vg_apply(c->ws, op, &err);
    vg_op_free(op);
    return rc == VG_OK ? EXIT_OK : cli_fail(c, &err);
}

int cli_apply_all(cli *c, vg_op **ops, int n)
{
    vg_err err = {0};
    int rc = vg_apply_all(c->ws, ops, (size_t)n, &err) == VG_OK ? EXIT_OK : cli_fail(c, &err);
    for (int i = 0; i < n; i++)
        vg_op_free(ops[i]);
    return rc;
}

static char *login_name(void)
{
    struct passwd *pw = getpwuid(getuid());
    if (pw && pw->pw_name && *pw->pw_name)
        return vg_xstrdup(pw->pw_name);
    const char *u = getenv("USER");
    return vg_xstrdup(u && *u ? u : "unknown");
}

void cli_usage_all(FILE *f)
{
    fputs("usage: vigil [--db PATH] [--as NAME] [--ascii] SUBCOMMAND [ARGS]\n\n", f);
    for (int i = 0; i < cli_ncommands; i++)
        fprintf(f, "  %-16s %s\n", cli_commands[i].name, cli_commands[i].summary);
    fputs("\n`vigil help SUBCOMMAND` for its options; man vigil for everything.\n", f);
}

/* Find the command named by argv (one or two words). */
static const command *find_command(int argc, char **argv, int *used)
{
    for (int i = 0; i < cli_ncommands; i++) {
        const char *n = cli_commands[i].name, *sp = strchr(n, ' ');
        if (sp) {
            size_t l = (size_t)(sp - n);
            if (argc >= 2 && strlen(argv[0]) == l && strncmp(argv[0], n, l) == 0 &&
                strcmp(argv[1], sp + 1) == 0) {
                *used = 2;
                return &cli_commands[i];
            }
        } else if (strcmp(argv[0], n) == 0) {
            *used = 1;
            return &cli_commands[i];
        }
    }
    return NULL;
}

static bool is_help(const char *a)
{
    return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

/* --help or -h among a subcommand's arguments (before a --). */
static bool wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (is_help(argv[i]))
            return true;
    return false;
}

/* An unknown subcommand: the one it is a typo of, else the list. */
static int unknown_command(int argc, char **argv)
{
    char safe[256], want[128];
    vg_text_safe(argv[0], strlen(argv[0]), VG_TEXT_ASCII, safe, sizeof safe);
    fprintf(stderr, "vigil: unknown subcommand '%s%s%s'", safe, argc > 1 ? " " : "",
            argc > 1 ? "..." : "");
    /* a typo of a whole name ("case shwo") or of its first word ("imprt") */
    const char *names[256], *firsts[256];
    char first[256][32];
    size_t n = 0;
    for (int i = 0; i < cli_ncommands && n < 256; i++, n++) {
        names[n] = cli_commands[i].name;
        snprintf(first[n], sizeof first[n], "%.*s", (int)strcspn(names[n], " "), names[n]);
        firsts[n] = first[n];
    }
    snprintf(want, sizeof want, "%s%s%s", argv[0], argc > 1 ? " " : "", argc > 1 ? argv[1] : "");
    const char *near = argc > 1 ? cli_closest(want, names, n) : NULL;
    if (!near)
        near = cli_closest(argv[0], firsts, n);
    if (near) {
        fprintf(stderr, " (did you mean '%s'?)\n`vigil help` lists them all\n", near);
        return EXIT_USAGE;
    }
    fputc('\n', stderr);
    cli_usage_all(stderr);
    return EXIT_USAGE;
}

/* A long migration's progress, on one line of the terminal (nothing into a file). */
static void migrate_progress(const char *what, int64_t done, int64_t total)
{
    fprintf(stderr, "\rvigil: migrating the workspace: %s, %lld of %lld%s", what,
            (long long)done, (long long)total, done >= total ? "\n" : "");
}

/* What the core says about a workspace it opened anyway (vg_ws_on_notice): the
 * path is data, so it is made safe for the terminal. */
static void ws_notice(const char *msg)
{
    char safe[2048];
    vg_text_safe(msg, strlen(msg), 0, safe, sizeof safe);
    fprintf(stderr, "vigil: warning: %s\n", safe);
}

int main(int argc, char **argv)
{
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    /* The character set is all vigil takes from the locale (UTF-8 or not, and the
     * width of a character); times and numbers are written the same everywhere.
     * LC_ALL would also read ten other categories' files at every start. */
    setlocale(LC_CTYPE, "");
    if (isatty(STDERR_FILENO))
        vg_ws_on_progress(migrate_progress);
    vg_ws_on_notice(ws_notice);
    cli c = {0};
    config cf = {0};
    const char *db = NULL, *as = NULL;
    bool ascii = false;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
            db = argv[++i];
        else if (strncmp(argv[i], "--db=", 5) == 0)
            db = argv[i] + 5;
        else if (strcmp(argv[i], "--as") == 0 && i + 1 < argc)
            as = argv[++i];
        else if (strncmp(argv[i], "--as=", 5) == 0)
            as = argv[i] + 5;
        else if (strcmp(argv[i], "--ascii") == 0)
            ascii = true;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cli_usage_all(stdout);
            return EXIT_OK;
        } else if (strcmp(argv[i], "--version") == 0) {
            argv[i] = "version";
            break;
        } else {
            fprintf(stderr, "vigil: unknown option '%s'\n", argv[i]);
            cli_usage_all(stderr);
            return EXIT_USAGE;
        }
    }
    if (config_read(&cf) != 0) {
        config_free(&cf); /* what the lines before the bad one set */
        return EXIT_FAIL;
    }
    c.cf = &cf;
    char *pbdir = paths_playbooks(); /* for the copilot's apply_playbook */
    cop_set_playbook_library(pbdir);
    free(pbdir);

    const char *cs = nl_langinfo(CODESET);
    bool utf8 = cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
    c.text_flags = (ascii || cf.ascii || !utf8) ? VG_TEXT_ASCII : 0;
    struct winsize wsz;
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &wsz) == 0 && wsz.ws_col > 0)
        c.width = wsz.ws_col;
    const char *env_db = getenv("VIGIL_DB");
    c.db_path = db ? vg_xstrdup(db)
                   : env_db && *env_db ? vg_xstrdup(env_db)
                   : cf.db ? vg_xstrdup(cf.db) : paths_workspace();
    c.actor = as ? vg_xstrdup(as) : cf.user ? vg_xstrdup(cf.user) : login_name();
    c.actor_given = as != NULL;

    char *queue[] = {"cases"};
    int nargs = argc - i;
    char **args = argv + i;
    char why[128];
    bool tty = nargs == 0 && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    if (tty && !tui_terminal_ok(why, sizeof why)) { /* the queue, as into a pipe */
        fprintf(stderr, "vigil: %s, so no workstation here (TERM=vt100 or xterm will do);"
                        " the queue follows\n", why);
        tty = false;
    }
    if (tty) {
        /* On a terminal, `vigil` is the workstation; into a pipe it prints the queue. */
        c.name = "tui";
        int rc = cli_open(&c, 0);
        char *state = paths_state(), *log = NULL;
        if (rc == EXIT_OK) {
            size_t n = strlen(state) + 16;
            log = vg_xmalloc(n);
            snprintf(log, n, "%s/vigil.log", state);
            vg_err err = {0};
            if (paths_ensure_parent(log, &err) != VG_OK) {
                rc = cli_fail(&c, &err);
            } else {
                cf.tui.start_s = (double)start.tv_sec + (double)start.tv_nsec / 1e9;
                size_t hn = strlen(state) + 16;
                char *history = vg_xmalloc(hn);
                snprintf(history, hn, "%s/history", state);
                cf.tui.history = history;
                char *playbooks = paths_playbooks();
                cf.tui.playbooks = playbooks;
                char *tpl_user = paths_user_templates(), *tpl = paths_templates();
                cf.tui.templates[0] = tpl_user;
                cf.tui.templates[1] = tpl;
                tui_copilot cp; /* a refused secrets file leaves the copilot off */
                if (config_copilot(&cf, NULL, &cp) == 0)
                    cf.tui.copilot = &cp;
                /* the team, and its token as `vigil sync` reads it (without one the
                 * header says so and nothing syncs) */
                vg_remote remote;
                char *token = NULL;
                if (vg_remote_get(c.ws, NULL, &remote, &err) == VG_OK) {
                    cf.tui.remote = &remote;
                    if (cli_remote_token(&c, &remote, &token) == EXIT_OK)
                        cf.tui.token = token;
                }
                rc = tui_run(c.ws, c.actor, c.text_flags & VG_TEXT_ASCII, &cf.tui, log);
                if (token) {
                    sodium_memzero(token, strlen(token));
                    free(token);
                }
                config_copilot_free(&cp);
                free(history);
                free(playbooks);
                free(tpl_user);
                free(tpl);
            }
        }
        free(log);
        free(state);
        vg_ws_close(c.ws);
        free(c.db_path);
        free(c.actor);
        config_free(&cf);
        return rc;
    }
    if (nargs == 0) {
        args = queue;
        nargs = 1;
    }
    int used = 0, rc;
    const command *cmd = find_command(nargs, args, &used);
    if (!cmd && nargs > 1 && is_help(args[1])) { /* vigil case --help: the case ones */
        c.name = "help";
        cmd = find_command(1, (char *[]){"help"}, &used);
        rc = cmd->run(&c, 1, args);
    } else if (!cmd) {
        rc = unknown_command(nargs, args);
    } else if (wants_help(nargs - used, args + used)) {
        cli_command_help(cmd, true);
        rc = EXIT_OK;
    } else {
        c.name = cmd->name;
        out_init(&c);
        rc = cmd->run(&c, nargs - used, args + used);
    }
    vg_ws_close(c.ws);
    free(c.db_path);
    free(c.actor);
    config_free(&cf);
    if (out_end() != 0) {
        if (errno != EPIPE)
            fprintf(stderr, "vigil: writing output: %s\n", strerror(errno));
        return EXIT_FAIL;
    }
    return rc;
}
