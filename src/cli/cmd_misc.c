/*
 * cmd_misc.c — workspace-wide subcommands (init, demo, search, audit, paths,
 * version, help) and the command table that drives dispatch and help.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "paths.h"
#include "vg_config.h"
#include "vigil/demo.h"
#include "vigil/json.h"
#include "vigil/ledger.h"
#include "vigil/metrics.h"
#include "vigil/query.h"
#include "vigil/text.h"

static int cmd_init(cli *c, int argc, char **argv)
{
    char *pos[1];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, NULL, 0, pos, 0, &npos)))
        return rc;
    struct stat sb;
    if (stat(c->db_path, &sb) == 0 && sb.st_size > 0) {
        if ((rc = cli_open(c, 0)))
            return rc;
        return cli_error(c, "%s already holds a workspace", c->db_path);
    }
    if ((rc = cli_open(c, VG_OPEN_CREATE)))
        return rc;
    printf("created workspace %s\n", c->db_path);
    return EXIT_OK;
}

int cli_count(cli *c, const char *name, const char *v, int64_t lo, int64_t hi,
                       int64_t *out)
{
    char *end;
    long long n = strtoll(v, &end, 10);
    if (*end || end == v || n < lo || n > hi)
        return cli_usage(c, "--%s: '%s' is not a number from %" PRId64 " to %" PRId64, name, v,
                         lo, hi);
    *out = n;
    return EXIT_OK;
}

static void demo_progress(void *ud, int64_t ops, int64_t alerts)
{
    (void)ud;
    printf("committed %" PRId64 " ops %" PRId64 " alerts\n", ops, alerts);
    fflush(stdout);
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmd_demo(cli *c, int argc, char **argv)
{
    opt o[] = {{"seed=", NULL}, {"cases=", NULL}, {"alerts=", NULL}, {"progress", NULL}};
    char *pos[1];
    int n = 4, npos, rc;
    if ((rc = cli_parse(c, argc, argv, o, n, pos, 0, &npos)))
        return rc;
    vg_demo_opts d = {.seed = 1, .cases = 48, .alerts = 600};
    int64_t seed = 1;
    const char *v;
    if ((v = opt_get(o, n, "seed")) && (rc = cli_count(c, "seed", v, 0, INT64_MAX, &seed)))
        return rc;
    if ((v = opt_get(o, n, "cases")) && (rc = cli_count(c, "cases", v, 40, 1000000, &d.cases)))
        return rc;
    if ((v = opt_get(o, n, "alerts")) &&
        (rc = cli_count(c, "alerts", v, 0, 10000000, &d.alerts)))
        return rc;
    d.seed = (uint64_t)seed;
    /* SOURCE_DATE_EPOCH pins "now" so that a demo can be rebuilt byte for byte. */
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    d.now_ms = sde && *sde ? strtoll(sde, NULL, 10) * 1000 : vg_now_ms();
    if (opt_get(o, n, "progress"))
        d.progress = demo_progress;
    if ((rc = cli_open(c, VG_OPEN_CREATE)))
        return rc;
    vg_demo_stats s;
    vg_err err = {0};
    double t0 = mono_s();
    if (vg_demo_build(c->ws, &d, &s, &err) != VG_OK) {
        if (err.rc == VG_EEXIST)
            return cli_error(c, "%s already holds cases; name a new file with --db", c->db_path);
        return cli_fail(c, &err);
    }
    double dt = mono_s() - t0;
    printf("demo workspace %s: %" PRId64 " cases, %" PRId64 " alerts, %" PRId64 " artifacts, %"
           PRId64 " tasks, %" PRId64 " notes, %" PRId64 " ops in %.2f s (%.0f alerts/s)\n",
           c->db_path, s.cases, s.alerts, s.artifacts, s.tasks, s.notes, s.ops, dt,
           dt > 0 ? (double)s.alerts / dt : 0.0);
    return EXIT_OK;
}

static int cmd_search(cli *c, int argc, char **argv)
{
    opt o[] = {{"json", NULL}, {"limit=", NULL}};
    char *pos[64];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, o, 2, pos, 64, &npos)))
        return rc;
    if (npos < 1)
        return cli_usage(c, "search for what?");
    int64_t limit = 20;
    const char *v = opt_get(o, 2, "limit");
    if (v && (rc = cli_count(c, "limit", v, 1, 10000, &limit)))
        return rc;
    char q[4096] = "";
    for (int i = 0; i < npos; i++) {
        size_t l = strlen(q);
        if (snprintf(q + l, sizeof q - l, "%s%s", i ? " " : "", pos[i]) >= (int)(sizeof q - l))
            return cli_usage(c, "query longer than %zu bytes", sizeof q - 1);
    }
    if ((rc = cli_open(c, 0)))
        return rc;
    vg_hit *h = NULL;
    size_t n = 0;
    vg_err err = {0};
    if (vg_search(c->ws, q, (int)limit, &h, &n, &err) != VG_OK) {
        vg_hits_free(h, n);
        return cli_fail(c, &err);
    }
    if (opt_get(o, 2, "json")) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; i < n; i++)
            cJSON_AddItemToArray(arr, vg_hit_json(&h[i]));
        out_json(arr);
    } else {
        for (size_t i = 0; i < n; i++) {
            char ref[24] = "inbox";
            if (h[i].case_id[0])
                snprintf(ref, sizeof ref, "#%" PRId64, h[i].case_ref);
            char when[32];
            fmt_time(h[i].t, when, sizeof when);
            printf("%-7s %-8s %.10s  %s  ", ref, h[i].kind, h[i].id, when);
            out_fit(c, h[i].snippet, c->width > 60 ? c->width - 48 : 0, false);
            putchar('\n');
        }
        if (n == 0)
            fputs("(nothing found)\n", stdout);
    }
    vg_hits_free(h, n);
    return EXIT_OK;
}

static int cmd_dash(cli *c, int argc, char **argv)
{
    opt o[] = {{"days=", NULL}, {"json", NULL}};
    char *pos[1];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, o, 2, pos, 0, &npos)))
        return rc;
    int64_t days = 30;
    const char *v = opt_get(o, 2, "days");
    if (v && (rc = cli_count(c, "days", v, 1, VG_DASH_MAX_DAYS, &days)))
        return rc;
    if ((rc = cli_open(c, 0)))
        return rc;
    vg_dash d;
    vg_err err = {0};
    if (vg_dash_compute(c->ws, vg_now_ms(), (int)days, config_sla(c->cf), &d, &err) != VG_OK)
        return cli_fail(c, &err);
    if (opt_get(o, 2, "json")) {
        cJSON *j = cJSON_CreateObject(), *a, *b;
        cJSON_AddNumberToObject(j, "days", d.days);
        cJSON_AddItemToObject(j, "opened", a = cJSON_CreateArray());
        cJSON_AddItemToObject(j, "closed", b = cJSON_CreateArray());
        for (int i = 0; i < d.days; i++) {
            cJSON_AddItemToArray(a, cJSON_CreateNumber((double)d.opened[i]));
            cJSON_AddItemToArray(b, cJSON_CreateNumber((double)d.closed[i]));
        }
        if (d.has_mtta)
            cJSON_AddNumberToObject(j, "mtta_seconds", (double)d.mtta_ms / 1000);
        else
            cJSON_AddNullToObject(j, "mtta_seconds");
        if (d.has_mttr)
            cJSON_AddNumberToObject(j, "mttr_seconds", (double)d.mttr_ms / 1000);
        else
            cJSON_AddNullToObject(j, "mttr_seconds");
        cJSON_AddNumberToObject(j, "open", (double)d.open);
        cJSON *heat = cJSON_AddObjectToObject(j, "severity_status");
        for (int s = 0; s < 5; s++) {
            cJSON *row = cJSON_AddObjectToObject(heat, vg_enum_name(&VG_SEVERITY, s));
            for (int st = 0; st < 5; st++)
                cJSON_AddNumberToObject(row, vg_enum_name(&VG_STATUS, st), (double)d.heat[s][st]);
        }
        static const char *const buckets[] = {"<1d", "1-3d", "3-7d", "7-30d", ">30d"};
        cJSON *aging = cJSON_AddObjectToObject(j, "aging");
        for (int i = 0; i < 5; i++)
            cJSON_AddNumberToObject(aging, buckets[i], (double)d.aging[i]);
        cJSON *sh = cJSON_AddArrayToObject(j, "shared_artifacts");
        for (size_t i = 0; i < d.nshared; i++) {
            cJSON *x = cJSON_CreateObject();
            cJSON_AddStringToObject(x, "type", d.shared[i].type);
            char *val = vg_utf8_repair(d.shared[i].value);
            cJSON_AddStringToObject(x, "value", val);
            free(val);
            cJSON_AddNumberToObject(x, "cases", (double)d.shared[i].cases);
            cJSON_AddItemToArray(sh, x);
        }
        cJSON *sla = cJSON_AddObjectToObject(j, "sla"); /* vigil.conf(5) [sla] */
        cJSON_AddNumberToObject(sla, "overdue", (double)d.overdue_total);
        cJSON *bys = cJSON_AddObjectToObject(sla, "overdue_by_severity");
        for (int s = 0; s < 5; s++)
            cJSON_AddNumberToObject(bys, vg_enum_name(&VG_SEVERITY, s), (double)d.overdue[s]);
        cJSON *wl = cJSON_AddArrayToObject(j, "workload");
        for (size_t i = 0; i < d.nload; i++) {
            cJSON *x = cJSON_CreateObject();
            if (d.load[i].name[0]) {
                char *who = vg_utf8_repair(d.load[i].name);
                cJSON_AddStringToObject(x, "assignee", who);
                free(who);
            } else {
                cJSON_AddNullToObject(x, "assignee");
            }
            cJSON_AddNumberToObject(x, "open", (double)d.load[i].open);
            cJSON_AddNumberToObject(x, "overdue", (double)d.load[i].overdue);
            cJSON_AddItemToArray(wl, x);
        }
        cJSON *ih = cJSON_AddObjectToObject(j, "intel");
        cJSON_AddBoolToObject(ih, "loaded", d.has_intel);
        cJSON_AddNumberToObject(ih, "open_cases", (double)d.intel_cases);
        cJSON *top = cJSON_AddArrayToObject(ih, "cases");
        for (size_t i = 0; i < d.nintel; i++) {
            cJSON *x = cJSON_CreateObject();
            cJSON_AddNumberToObject(x, "ref", (double)d.intel[i].ref);
            cJSON_AddStringToObject(x, "severity", vg_enum_name(&VG_SEVERITY, d.intel[i].severity));
            cJSON_AddNumberToObject(x, "values", (double)d.intel[i].values);
            char *t = vg_utf8_repair(d.intel[i].title);
            cJSON_AddStringToObject(x, "title", t);
            free(t);
            cJSON_AddItemToArray(top, x);
        }
        out_json(j);
    } else {
        size_t n;
        char **lines = vg_dash_render(&d, c->text_flags & VG_TEXT_ASCII, &n, NULL);
        for (size_t i = 0; i < n; i++) {
            out_safe(c, lines[i]);
            putchar('\n');
        }
        vg_lines_free(lines, n);
    }
    vg_dash_clear(&d);
    return EXIT_OK;
}

/* The audit commands' arguments: options, want positionals (0 or 1), then the
 * workspace (made if flags say so). */
static int audit_args(cli *c, int argc, char **argv, opt *o, int nopts, int want,
                      const char *missing, int flags, char **pos)
{
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, o, nopts, pos, want, &npos)))
        return rc;
    if (npos != want)
        return cli_usage(c, "%s", missing);
    return cli_open(c, flags);
}

/* Replay the workspace's log into a scratch workspace in $TMPDIR and compare. */
static int audit_replay_check(cli *c, int64_t *ops)
{
    const char *dir = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/vigil-replay-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0)
        return cli_error(c, "cannot make a scratch workspace in %s: %s", dir && *dir ? dir : "/tmp",
                         strerror(errno));
    close(fd);
    vg_err err = {0};
    vg_rc rc = vg_audit_replay_check(c->ws, path, ops, &err);
    vg_ws_remove(path);
    return rc ? cli_fail(c, &err) : EXIT_OK;
}

static int cmd_audit_verify(cli *c, int argc, char **argv)
{
    opt o[] = {{"head=", NULL}, {"replay", NULL}};
    char *pos[1];
    int rc;
    if ((rc = audit_args(c, argc, argv, o, 2, 0, "", 0, pos)))
        return rc;
    vg_head want;
    const char *head = opt_get(o, 2, "head");
    if (head && !vg_head_parse(head, &want))
        return cli_usage(c, "--head: '%.100s' is not a head (SEQ:HASH, as `vigil audit head`"
                            " prints it)", head);
    int64_t count = 0, bad = 0, entries = 0, replayed = 0;
    vg_err err = {0};
    if (vg_audit_verify(c->ws, head ? &want : NULL, &count, &bad, &err) != VG_OK ||
        vg_ledger_verify(c->ws, &entries, &bad, &err) != VG_OK)
        return cli_fail(c, &err);
    if (opt_get(o, 2, "replay") && (rc = audit_replay_check(c, &replayed)))
        return rc;
    printf("ok: %" PRId64 " ops, hash chain intact%s, %" PRId64 " copilot ledger entries, ledger"
           " chain intact, database check passed", count,
           head ? ", recorded head held" : "", entries);
    if (opt_get(o, 2, "replay"))
        printf(", tables match a replay of the log");
    putchar('\n');
    return EXIT_OK;
}

static int cmd_audit_head(cli *c, int argc, char **argv)
{
    opt o[] = {{"json", NULL}};
    char *pos[1];
    int rc;
    if ((rc = audit_args(c, argc, argv, o, 1, 0, "", 0, pos)))
        return rc;
    vg_head h;
    vg_err err = {0};
    if (vg_audit_head(c->ws, &h, &err) != VG_OK)
        return cli_fail(c, &err);
    char text[VG_HEAD_TEXT];
    vg_head_format(&h, text);
    if (opt_get(o, 1, "json")) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddNumberToObject(j, "seq", (double)h.seq);
        cJSON_AddStringToObject(j, "hash", strchr(text, ':') + 1);
        cJSON_AddStringToObject(j, "head", text);
        out_json(j);
    } else {
        printf("%s\n", text);
    }
    return EXIT_OK;
}

static int cmd_audit_digest(cli *c, int argc, char **argv)
{
    char *pos[1];
    int rc;
    if ((rc = audit_args(c, argc, argv, NULL, 0, 0, "", 0, pos)))
        return rc;
    char hex[65];
    vg_err err = {0};
    if (vg_ws_digest(c->ws, hex, &err) != VG_OK)
        return cli_fail(c, &err);
    printf("%s\n", hex);
    return EXIT_OK;
}

static int cmd_audit_replay(cli *c, int argc, char **argv)
{
    char *pos[1];
    int rc;
    if ((rc = audit_args(c, argc, argv, NULL, 0, 1, "which workspace's log? (SOURCE)",
                         VG_OPEN_CREATE, pos)))
        return rc;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int64_t ops = 0, applied = 0;
    vg_err err = {0};
    if (vg_replay(c->ws, pos[0], &ops, &applied, &err) != VG_OK)
        return cli_fail(c, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("%" PRId64 " ops read, %" PRId64 " applied, %" PRId64 " already here, in %.2f s\n",
           ops, applied, ops - applied, s);
    return EXIT_OK;
}

static int cmd_paths(cli *c, int argc, char **argv)
{
    char *pos[1];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, NULL, 0, pos, 0, &npos)))
        return rc;
    char *p[6] = {paths_config(), paths_secrets(), vg_xstrdup(c->db_path), cli_intel_path(c),
                  paths_state(), paths_data()};
    static const char *const names[6] = {"config", "secrets", "workspace", "intel", "logs",
                                         "data"};
    for (int i = 0; i < 6; i++) {
        printf("%-10s ", names[i]);
        out_safe(c, p[i]);
        putchar('\n');
        free(p[i]);
    }
    return EXIT_OK;
}

static int cmd_version(cli *c, int argc, char **argv)
{
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, NULL, 0, NULL, 0, &npos)))
        return rc; /* it takes nothing: an option or a word is a usage error */
    printf("vigil %s (schema %d, SQLite %s)\n", VG_VERSION, VG_SCHEMA_VERSION, sqlite3_libversion());
    return EXIT_OK;
}

void cli_command_help(const command *k, bool first)
{
    printf("%svigil %s %s\n  %s\n", first ? "" : "\n", k->name, k->usage, k->summary);
    if (k->help)
        printf("%s", k->help);
}

static int cmd_help(cli *c, int argc, char **argv)
{
    if (argc == 0) {
        cli_usage_all(stdout);
        return EXIT_OK;
    }
    char want[128];
    snprintf(want, sizeof want, "%s%s%s", argv[0], argc > 1 ? " " : "", argc > 1 ? argv[1] : "");
    int shown = 0;
    for (int i = 0; i < cli_ncommands; i++) {
        const command *k = &cli_commands[i];
        size_t wl = strlen(argv[0]);
        bool match = strcmp(k->name, want) == 0 ||
                     (argc == 1 && strncmp(k->name, argv[0], wl) == 0 && k->name[wl] == ' ');
        if (!match)
            continue;
        cli_command_help(k, shown++ == 0);
    }
    if (!shown)
        return cli_usage(c, "no subcommand '%s'", want);
    return EXIT_OK;
}

const command cli_commands[] = {
    {"init", "", "create an empty workspace at --db (or the default path)", NULL, cmd_init},
    {"demo", "[--seed N] [--cases N] [--alerts N] [--progress]",
     "write a demo workspace: a SOC's month of cases, alerts and work",
     "  Defaults: --seed 1 --cases 48 --alerts 600. The workspace must hold no cases.\n"
     "  SOURCE_DATE_EPOCH, when set, is the end of the simulated month.\n", cmd_demo},
    {"cases", "[--query Q] [--sort severity|newest|oldest|ref|status|title|assignee|alerts|sla] [--status S] [--severity S] [--assignee U] [--tag T] [--text T] "
              "[--limit N] [--after CURSOR] [--json|--csv]",
     "list cases, most severe and newest first",
     "  --status and --severity take comma lists; --status open means every status but\n"
     "  closed; --severity high+ means high and critical; --assignee me|none|NAME.\n"
     "  Pages: each --json case carries a cursor; --after CURSOR starts after it.\n"
     "  --query takes the TUI's / language: status:open sev>=high assignee:me tag:phish\n"
     "  words \"a phrase\", and ! before a field term negates it.\n"
     "  --csv: one row per case with a header row (RFC 4180; formula-like cells get a ').\n",
     cmd_cases},
    {"case show", "REF [--json]", "a case with its alerts, artifacts, tasks and notes", NULL,
     cmd_case_show},
    {"alert show", "ID [--json|--raw]",
     "an alert with its raw event (--raw: the event alone, exactly as the sensor wrote it)",
     "  ID: an alert id or a unique prefix of 4 or more characters.\n", cmd_alert_show},
    {"alerts", "[--dismissed] [--limit N] [--after CURSOR] [--json]",
     "the inbox: alerts on no case and not dismissed, newest first",
     "  Pages: each --json alert carries a cursor; --after CURSOR starts after it.\n"
     "  --dismissed lists the dismissed alerts instead (alert restore brings them back).\n",
     cmd_alerts},
    {"alert promote", "ID [--json]", "open a case from an inbox alert (its title and severity)",
     NULL, cmd_alert_promote},
    {"alert link", "ID REF", "put an alert on a case, its entities becoming the case's artifacts",
     NULL, cmd_alert_link},
    {"alert dismiss", "ID... [--reason TEXT]",
     "take alerts out of the inbox (all of them, or none), saying why", NULL, cmd_alert_dismiss},
    {"alert restore", "ID...", "put dismissed alerts back in the inbox (all of them, or none)",
     NULL, cmd_alert_restore},
    {"event add", "REF TEXT... [--at WHEN]",
     "add what happened to a case's timeline (WHEN: see TIMES in vigil(1); default now)", NULL,
     cmd_event_add},
    {"event star", "REF ID [--off]",
     "star a row of a case's timeline (ID: a row id of vigil timeline --json, or a prefix)",
     NULL, cmd_event_star},
    {"case new", "[TITLE] [--title T] [--template NAME] [--field NAME=VALUE]... [--severity S]"
     " [--description D] [--assignee U] [--tags A,B] [--json]",
     "open a case (from a template: its fields, tags and playbooks too)",
     "  --template NAME: a case template (vigil template ls); its title pattern takes\n"
     "  TITLE as {title}. --field sets a custom field; repeat it for more. A required\n"
     "  field with no default must be given. The case and its playbooks' tasks are\n"
     "  one batch: all or nothing.\n", cmd_case_new},
    {"case set", "REF field=value...", "change fields of a case (all or nothing)",
     "  Fields: title, description, severity, status, tlp, pap, assignee, tags, techniques,\n"
     "  and field.NAME for a custom field (field.NAME= clears it).\n"
     "  status=closed needs resolution=R in the same command.\n", cmd_case_set},
    {"field define", "NAME TYPE [--values a,b,c] [--required] [--default V] [--description D]",
     "define (or redefine) a custom field of the workspace",
     "  TYPE: string, number, date (2026-11-03 or 2026-11-03T14:02:00Z), enum (with\n"
     "  --values), bool. New cases get the default; a required one with no default\n"
     "  must be given when an analyst opens a case.\n", cmd_field_define},
    {"field ls", "[--json]", "the workspace's custom fields", NULL, cmd_field_ls},
    {"field rm", "NAME", "remove a custom field's definition (cases keep their values, hidden)",
     NULL, cmd_field_rm},
    {"field set", "REF NAME VALUE", "set a case's custom field (\"\" clears it)", NULL,
     cmd_field_set},
    {"template ls", "[--json]", "the case templates (yours override the shipped ones)", NULL,
     cmd_template_ls},
    {"template show", "NAME [--json]", "what a case template sets", NULL, cmd_template_show},
    {"template lint", "FILE...",
     "check template files (vigil-template(5)) against the workspace, naming key and line", NULL,
     cmd_template_lint},
    {"case close", "REF --resolution R", "close a case", NULL, cmd_case_close},
    {"case reopen", "REF", "reopen a closed case (status in_progress)", NULL, cmd_case_reopen},
    {"case merge", "REF into REF [--json]",
     "merge a case into another: its alerts, artifacts, tasks, notes, timeline and copilot"
     " sessions move there, and it is closed as duplicate",
     "  The merged case's ref still resolves: every command given it works on the case it\n"
     "  was merged into, and says so on stderr. A merge into the case itself, into a closed\n"
     "  or merged case, or of a case merged already is refused; there is no unmerge.\n",
     cmd_case_merge},
    {"note", "REF TEXT...|-", "add a note to a case (- reads it from stdin)",
     "  @NAME mentions that analyst (vigil mentions, vigil handoff); a name the\n"
     "  workspace does not know gets a warning, and the note is added all the same.\n",
     cmd_note},
    {"artifact add", "REF TYPE VALUE [--ioc] [--tlp T]", "add an observable to a case", NULL,
     cmd_artifact_add},
    {"artifact ls", "REF [--json]", "list a case's artifacts", NULL, cmd_artifact_ls},
    {"artifact rm", "REF ID|VALUE", "remove an artifact from a case", NULL, cmd_artifact_rm},
    {"evidence add", "REF FILE [--description D] [--name N] [--ref-only] [--json]",
     "register a file as evidence on a case (hashed, copied into the workspace's store)",
     "  The file's SHA-256, SHA-1, MD5, size and type are recorded; its content is copied\n"
     "  to WORKSPACE.d/evidence/ by its SHA-256, or with --ref-only left where it is.\n",
     cmd_evidence_add},
    {"evidence ls", "REF [--json]", "list a case's evidence register", NULL, cmd_evidence_ls},
    {"evidence get", "ID [-o FILE]",
     "write an item's content (its hash checked as it streams; recorded as an access)", NULL,
     cmd_evidence_get},
    {"evidence verify", "[REF] [--json]",
     "rehash every item held here and name any that changed or went missing (exit 1)", NULL,
     cmd_evidence_verify},
    {"evidence custody", "ID [--json]", "print an item's chain of custody", NULL,
     cmd_evidence_custody},
    {"evidence push", "[REF] [--remote NAME]",
     "send the content of evidence held here to the team server (after vigil sync)", NULL,
     cmd_evidence_push},
    {"task add", "REF --phase P [--description D] [--assignee U] TITLE...", "add a task",
     NULL, cmd_task_add},
    {"task set", "REF TASK field=value...", "change a task (TASK: its number or id prefix)",
     "  Fields: status (todo, in_progress, done, skipped), title, description, assignee, phase.\n",
     cmd_task_set},
    {"task log", "REF TASK TEXT...|-",
     "add an entry to a task's log (TASK: its number or id prefix; - reads stdin)",
     "  The entry keeps who wrote it and when; it shows under the task in case show and\n"
     "  as a row of the case's timeline. @NAME in the text mentions that analyst.\n",
     cmd_task_log},
    {"mentions", "[--since T] [--json]",
     "notes and task log entries that mention you (@NAME), newest first",
     "  T: a duration back from now (90m, 8h, 2d, 1w) or a time (2026-11-03T14:02Z).\n",
     cmd_mentions},
    {"handoff", "[--since T] [--json]",
     "what changed since T (default 8h), for the analyst taking over",
     "  Cases opened, closed, escalated and reassigned, tasks done, your copilot\n"
     "  proposals waiting, SLA targets due in the next 8 hours (or overdue) and\n"
     "  mentions of you: read from the op log, grouped, newest first.\n"
     "  T: a duration back from now (90m, 8h, 2d, 1w) or a time; not in the future.\n",
     cmd_handoff},
    {"timeline", "REF [--by occurred|recorded] [--limit N] [--json]",
     "a case's timeline, by when things happened or when they were recorded", NULL, cmd_timeline},
    {"iocs", "[FILE...] [--json]",
     "list the indicators in text (stdin by default): IPs, domains, URLs, e-mail, hashes,"
     " CVEs, registry keys, paths",
     "  Defanged forms (hxxp, [.], [at]...) are understood. Private and reserved\n"
     "  addresses and special-use names are tagged, not dropped.\n", cmd_iocs},
    {"defang", "[FILE...]", "copy text with every network indicator defanged", NULL, cmd_defang},
    {"refang", "[FILE...]", "copy text with defanged indicators restored", NULL, cmd_refang},
    {"attack ls", "[--tactic T] [--json]", "the ATT&CK techniques vigil knows, or one tactic's",
     "  T is a tactic id (TA0002), short name (execution) or name (\"Command and Control\").\n",
     cmd_attack_ls},
    {"attack coverage", "[--json]",
     "ATT&CK techniques seen across the workspace's cases and alerts, by tactic", NULL,
     cmd_attack_coverage},
    {"attack import", "FILE|-",
     "replace the ATT&CK table with one from an official enterprise-attack STIX bundle",
     "  The table is written to $XDG_DATA_HOME/vigil/attack-enterprise.tsv and is used\n"
     "  instead of the shipped one; delete that file to go back.\n", cmd_attack_import},
    {"export", "REF --format stix|misp|timesketch|timesketch-csv|markdown|html [-o FILE]",
     "a case as a STIX 2.1 bundle, a MISP event, a Timesketch timeline or a report",
     "  -o FILE writes the file whole or not at all; stdout otherwise.\n", cmd_export},
    {"import", "[--format auto|native|ecs|wazuh|suricata|ocsf] [--strict] [--no-correlate] [--json] FILE...|-",
     "import alerts (JSON lines or a JSON array) and correlate them into cases",
     "Deduplicates repeats, redacts secret-looking fields in the raw event, and groups\n"
     "alerts that share a host, user or indicator within [import] window (24h) into a\n"
     "case; an alert that touches an open case's artifacts joins that case. A bad\n"
     "record is reported with file:line and skipped (--strict: nothing is stored).",
     cmd_import},
    {"ask", "REF|--queue QUESTION [--model M] [--session S] [--json] | REF|--queue --apply ID"
            " [--edit JSON] | REF|--queue --cancel ID",
     "ask the copilot about a case, or (--queue) about the open queue; applies nothing",
     "  A proposal is applied only by `--apply ID` (once; --edit replaces its params)\n"
     "  or, for add_artifact, add_event and find_related, by an `auto` policy on a turn\n"
     "  whose data raised no injection flag. Notes are taken from your own words\n"
     "  (\"add a note: ...\"). With --queue every proposal names its case (#REF), one\n"
     "  for a case not in the queue shown is refused. The model, provider and policy:\n"
     "  man vigil.conf.\n", cmd_ask},
    {"ledger", "REF|--queue [--session S] [--json]",
     "your copilot sessions on a case (--queue: the general pane's): prompts, answers,"
     " proposals, decisions, errors", NULL, cmd_ledger},
    {"proposals ls", "[REF] [--json]",
     "proposals waiting for your decision: the copilot's and agents' (vigil mcp), oldest first",
     NULL, cmd_proposals_ls},
    {"proposals apply", "ID [--text T|--confirm-text|--edit JSON] [--json]",
     "apply a proposal once, through the one door",
     "  A note an agent drafted is applied only in your words: --text gives them,\n"
     "  --confirm-text takes the draft as written. --edit replaces the params\n"
     "  (checked again).\n", cmd_proposals_apply},
    {"proposals cancel", "ID [--json]", "refuse a proposal", NULL, cmd_proposals_cancel},
    {"mcp", "[--read-only]",
     "serve the workspace to an MCP client (an IDE or desktop agent) on stdin and stdout",
     "  Tools read cases, alerts, the timeline, search, the graph, the inbox, coverage,\n"
     "  playbooks and your ledger; propose_* tools only record proposals you apply with\n"
     "  `vigil proposals apply` or y in the workstation (--read-only: none). Every call\n"
     "  is kept in the ledger. vigil-mcp(1).\n", cmd_mcp},
    {"search", "QUERY... [--limit N] [--json]",
     "search cases, alerts, notes, artifacts and timeline entries (the query language of /)",
     "Words match full text, best first; field terms narrow: sev>=high status:open\n"
     "assignee:me tag:T ip:V domain:V host:V user:V hash:V url:V email:V cve:V\n"
     "type:alert,case after:2026-11-01 before:2026-11-15 case:#12, ! negates.", cmd_search},
    {"dash", "[--days N] [--json]",
     "the dashboard: opened and closed per day, MTTA and MTTR, severity x status, aging,"
     " most shared artifacts", NULL, cmd_dash},
    {"graph", "[REF...] [--depth N] [--type T] [--severity S] [--status S] [--since W] [--until W]"
              " [--connected] [--collapse N] [--expand REF] [--max-nodes N] [--label-width N] [--ascii]"
              " [--dot] [--json]",
     "the investigation graph: cases, their artifacts and the bridges between them",
     "  With REFs: those cases and their neighbourhood to --depth hops (default 2: their\n"
     "  values and the cases sharing them); without: every case (filtered). Dashed lines\n"
     "  are bridges: a value held by several cases. --type domain,url,ioc,host keeps those\n"
     "  values; --collapse N folds a case's private values past N into one node (default\n"
     "  10, 0 never); --dot prints Graphviz DOT, --json nodes, edges and bridges.\n", cmd_graph},
    {"related", "REF [--json]", "the cases sharing values with a case, and which values", NULL,
     cmd_related},
    {"audit verify", "[--head SEQ:HASH] [--replay]",
     "check the hash chains of the op log and the copilot ledger, and the database",
     "  The op log must end at the head its commits recorded (ops removed from its end\n"
     "  show). --head checks that the log still holds a head printed earlier by `audit\n"
     "  head` and kept elsewhere (a log rewritten with its chain made again shows).\n"
     "  --replay also replays the log into a scratch workspace in $TMPDIR and checks\n"
     "  every table against it (rows changed without the ops that make them show).\n",
     cmd_audit_verify},
    {"audit head", "[--json]",
     "the op log's head (SEQ:HASH): keep it elsewhere for `audit verify --head`", NULL,
     cmd_audit_head},
    {"audit digest", "",
     "a digest of the workspace's state: replicas that applied the same ops print the same",
     NULL, cmd_audit_digest},
    {"audit replay", "SOURCE",
     "apply every op of SOURCE's log to this workspace, as a new replica receives them",
     "  Builds a replica from another workspace's op log alone (ops already here are\n"
     "  skipped), through the same door and merge rules as sync; `audit verify` and the\n"
     "  state then match the source's.\n", cmd_audit_replay},
    {"backup", "[-o FILE|-] [--passphrase-file F | --to-self]",
     "the workspace as one encrypted file: a consistent snapshot, compressed and sealed",
     "  Sealed to your key set (vigil keygen) when you have one, else locked by a\n"
     "  passphrase asked twice on the terminal (--passphrase-file F: its first line,\n"
     "  for scripts; at least 8 characters; Argon2id, 256 MiB). Taken while others\n"
     "  write: an import running meanwhile is in it or not, never half. Default FILE:\n"
     "  vigil-YYYYMMDD-HHMMSS.backup here; - writes it to a pipe. Prints the sizes,\n"
     "  the op count and the head, which `vigil restore` prints again.\n",
     cmd_backup},
    {"restore", "FILE|- [--db PATH] [--force] [--passphrase-file F]",
     "a backup back into a workspace file, checked before it is put in place",
     "  Written beside PATH, opened as a workspace, checked (integrity_check, audit\n"
     "  verify) and only then renamed to PATH. An existing PATH is replaced only with\n"
     "  --force, never while a process has it open; its -wal and -shm are removed.\n"
     "  On any failure PATH is as it was. Without --db: the workspace vigil opens.\n",
     cmd_restore},
    {"remote add", "NAME URL",
     "join a team: this workspace syncs with the vigild at URL",
     "  URL: ssh://[USER@]HOST[:PORT][/DIR][?port=N] (vigild on HOST's loopback port N,\n"
     "  8470 by default, reached through SSH with ~/.ssh/config, the agent and\n"
     "  known_hosts; DIR is its --data, for `vigild --stdio` where sshd forbids\n"
     "  forwarding), or http://HOST:PORT (loopback and tests).\n"
     "  The token is read from the terminal without echo, or one line of stdin, and\n"
     "  kept in the secrets file, [remote URL] token (vigil.conf(5)). The server must\n"
     "  know it (GET /v1/whoami); the workspace's ops must all be by its user. One\n"
     "  remote per workspace: the server leases the workspace its case refs.\n",
     cmd_remote_add},
    {"remote trust", "NAME|URL [SHA256:FINGERPRINT]",
     "accept an SSH host key known_hosts does not know yet, once checked",
     "  Adds the key of the first host on the way (ProxyJump hops first) that\n"
     "  known_hosts does not know to ~/.ssh/known_hosts, if it is the fingerprint\n"
     "  given; without one, shows it and asks on the terminal. A changed key is\n"
     "  never replaced.\n",
     cmd_remote_trust},
    {"remote test", "[NAME]",
     "check each step to the server: resolve, connect, host key, auth, channel, vigild, token",
     NULL, cmd_remote_test},
    {"remote rm", "NAME", "forget the remote, its sync cursors and its token", NULL,
     cmd_remote_rm},
    {"remote ls", "[--json]", "the remote: URL, tenant, user and how far sync has gone", NULL,
     cmd_remote_ls},
    {"sync", "[NAME] [--wait S] [--no-snapshot] [--json]",
     "sync with the team: refs if needed, push this analyst's ops, pull the team's",
     "  --wait S: when nothing is new, wait up to S seconds (0-30) for something.\n"
     "  --no-snapshot: an empty workspace is built from the team's log, op by op,\n"
     "  rather than from the team's snapshot.\n"
     "  Exit 3 when the server cannot be reached (the ops wait; nothing is lost).\n",
     cmd_sync},
    {"intel import", "FILE... [--name N] [--tlp T] [--format auto|stix|misp|list|csv] [--json]",
     "import threat-intel feeds (STIX 2.1, MISP events and feeds, lists, CSV) into the intel"
     " store",
     "  One feed per file, named after it (a MISP manifest.json after its directory);\n"
     "  --name N makes all the files one feed N. Importing a feed's name again replaces\n"
     "  it whole, in one transaction. --tlp T: the feed is shared under T (an indicator\n"
     "  keeps the stricter of its own marking and T). Values match artifacts and alert\n"
     "  entities of every workspace as they are read, known months ago or not; expired\n"
     "  indicators stop matching. A STIX pattern vigil cannot match (AND, FOLLOWEDBY,\n"
     "  MATCHES, qualifiers) is kept as not matchable. A file over [intel]\n"
     "  max_file_size, invalid UTF-8 or a pattern bomb refuses the whole import.\n",
     cmd_intel_import},
    {"intel ls", "[--json]", "the feeds in the intel store", NULL, cmd_intel_ls},
    {"intel rm", "NAME [--json]", "remove a feed and its indicators", NULL, cmd_intel_rm},
    {"intel stats", "[--json]",
     "the intel store: feeds, indicators (matchable, not, expired), by type", NULL,
     cmd_intel_stats},
    {"keygen", "[--name N] [--force]",
     "make your key set (signs bundles and packs, opens bundles sealed to you)", NULL, cmd_keygen},
    {"key show", "[--json]", "your public key line and fingerprint, to give to colleagues", NULL,
     cmd_key_show},
    {"key trust", "FILE|KEY [--name N]", "trust a colleague's key (bundles from them, packs)",
     NULL, cmd_key_trust},
    {"key ls", "[--json]", "the keys you trust", NULL, cmd_key_ls},
    {"key rm", "NAME|FINGERPRINT", "stop trusting a key", NULL, cmd_key_rm},
    {"bundle export", "REF... --to NAME[,NAME...] -o FILE [--ledger]",
     "the cases as one file, sealed to colleagues and signed by you (vigil keygen)", NULL,
     cmd_bundle_export},
    {"bundle import", "FILE [--json]",
     "merge a bundle's cases (checked: from a key you trust, unaltered, sealed to you)", NULL,
     cmd_bundle_import},
    {"bundle show", "FILE [--json]", "who a bundle is from and for, and what it holds", NULL,
     cmd_bundle_show},
    {"paths", "", "where vigil keeps its files", NULL, cmd_paths},
    {"version", "", "print the version", NULL, cmd_version},
    {"playbook ls", "[--json]", "the playbook library and the workspace's copies", NULL, cmd_pb_ls},
    {"playbook show", "ID [--json]", "a playbook's tasks, phase by phase", NULL, cmd_pb_show},
    {"playbook lint", "FILE...", "check playbook files (vigil-playbook(5)), naming file and field",
     NULL, cmd_pb_lint},
    {"playbook import", "FILE|PACK|ID... [--replace] [--allow-unsigned]",
     "copy playbooks into the workspace (a file, a signed pack, or a library playbook)",
     "  A pack must be signed by a key in $XDG_CONFIG_HOME/vigil/trusted-keys; an\n"
     "  unsigned pack is refused unless --allow-unsigned. A pack imports all or nothing.\n", cmd_pb_import},
    {"playbook edit", "ID", "edit a workspace copy in $EDITOR; kept only if it lints", NULL,
     cmd_pb_edit},
    {"playbook export", "ID [--format vigil|cacao] [-o FILE]",
     "write a playbook as vigil JSON or a CACAO 2.0 playbook", NULL, cmd_pb_export},
    {"playbook rm", "ID", "remove a workspace copy (the library is read-only)", NULL, cmd_pb_rm},
    {"playbook apply", "REF ID", "add a playbook's tasks to a case (tasks already there are skipped)",
     NULL, cmd_pb_apply},
    {"playbook suggest", "REF [--json]",
     "playbooks for a case, from its techniques, tags and title", NULL, cmd_pb_suggest},
    {"playbook keygen", "[-o FILE] [--comment C]",
     "make an Ed25519 key pair for signing packs (FILE, FILE.pub)", NULL, cmd_pb_keygen},
    {"playbook pack", "[--key KEY] FILE... -o PACK", "write playbook files into one signed pack",
     NULL, cmd_pb_pack},
    {"help", "[SUBCOMMAND]", "this list, or one subcommand's help", NULL, cmd_help},
};
const int cli_ncommands = (int)(sizeof cli_commands / sizeof cli_commands[0]);
