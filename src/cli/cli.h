/*
 * cli.h — what the CLI's command files share: the invocation context, the command
 * table (one entry per subcommand: name, usage, summary, handler — the same table
 * drives dispatch and `vigil help`), and output helpers that make data safe.
 */
#ifndef VIGIL_CLI_H
#define VIGIL_CLI_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>

#include "vigil/err.h"
#include "vigil/model.h"
#include "vigil/op.h"
#include "vigil/ws.h"

/* Exit codes (vigil(1)). */
/* EXIT_OFFLINE: `vigil sync` could not reach the server (nothing is lost). */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_OFFLINE = 3 };

typedef struct cli {
    char *db_path;    /* the workspace file */
    char *actor;      /* who writes */
    bool actor_given; /* --as named the actor: it wins over the remote's user */
    int text_flags;   /* VG_TEXT_ASCII when the terminal is not UTF-8 */
    int width;        /* terminal columns when stdout is a terminal, else 0 */
    const char *name; /* the running command's name, for messages */
    vg_ws *ws;
    const struct config *cf; /* the config file's settings */
    /* cli_case followed a merged case's ref to its target: the ref typed and the
     * merged case's id (0 and "" otherwise) */
    int64_t merged_from_ref;
    char merged_from[27];
} cli;

typedef struct command {
    const char *name;    /* "case show" */
    const char *usage;   /* "REF [--json]" */
    const char *summary; /* one line */
    const char *help;    /* more lines for `vigil help NAME`, or NULL */
    int (*run)(cli *c, int argc, char **argv); /* argv[0] is the first argument */
} command;

extern const command cli_commands[];
extern const int cli_ncommands;

/* Open the workspace (creating it only with VG_OPEN_CREATE). Prints the error and
 * returns the exit code on failure, EXIT_OK on success. */
int cli_open(cli *c, int flags);
/* Print "vigil: NAME: message" (made safe) and return EXIT_FAIL. */
int cli_fail(cli *c, const vg_err *err);
/* Print "vigil: NAME: formatted" and the usage line; return EXIT_USAGE. */
int cli_usage(cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print a formatted error (the arguments are made safe by the caller); EXIT_FAIL. */
int cli_error(cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Options: parse argv into flags; positionals are gathered in order. An option
 * spec is "name" (a flag) or "name=" (takes a value). Returns EXIT_OK or prints
 * a usage error. */
typedef struct opt {
    const char *spec;
    const char *value; /* set when given: the value, or "" for a flag */
} opt;
/* Options and positional arguments. An unknown option is a usage error that names
 * the closest known one; --json, --csv and --dot together are refused (one
 * output). */
int cli_parse(cli *c, int argc, char **argv, opt *opts, int nopts, char **pos, int maxpos,
              int *npos);
/* The candidate closest to word by edit distance, when it is near enough to be a
 * typo of it (at most 2 edits, fewer than word has letters), else NULL. */
const char *cli_closest(const char *word, const char *const *cands, size_t n);
/* Every subcommand, one line each (`vigil help`). */
void cli_usage_all(FILE *f);
/* One subcommand's usage, summary and help (`vigil help NAME`, `vigil NAME --help`). */
void cli_command_help(const command *k, bool first);
const char *opt_get(const opt *opts, int nopts, const char *name);

/* Output. Every string that came from data goes through out_safe/out_text.
 * out_init (in main, before a command runs): when stdout is a terminal, everything
 * written to stdout from then on passes through vg_text_safe (a file or a pipe gets
 * the exact bytes). out_end flushes stdout and ends that; -1 (errno set) when
 * writing failed. */
void out_init(cli *c);
int out_end(void);
void out_safe(cli *c, const char *s);           /* one line, made safe */
void out_text(cli *c, const char *s, int indent); /* multi-line, made safe, indented */
void out_fit(cli *c, const char *s, int cols, bool pad); /* safe, cut to cols */
void out_json(cJSON *v);                        /* print and free */
void fmt_time(int64_t ms, char *out, size_t outsz); /* local "2026-11-03 14:02" */
void fmt_age(int64_t ms, char *out, size_t outsz);  /* "3d", "5h", "12m" */

/* "new,in_progress", "open", "high+" -> a bit mask over e (usage error otherwise). */
int cli_mask(cli *c, const vg_enum *e, const char *list, unsigned *mask);
/* --NAME's value v as a number in [lo, hi] (usage error otherwise). */
int cli_count(cli *c, const char *name, const char *v, int64_t lo, int64_t hi, int64_t *out);

/* Resolve REF to a case id, printing the error; EXIT_OK or EXIT_FAIL. A merged
 * case's ref resolves to the case it was merged into, with a note on stderr
 * ("#3 was merged into #7") and c->merged_from set. */
int cli_case(cli *c, const char *ref, char id[27]);
/* Apply an op (taking ownership), printing the error on failure. */
int cli_apply(cli *c, vg_op *op);
/* Apply ops in one batch, all or nothing (vg_apply_all); takes ownership of them. */
int cli_apply_all(cli *c, vg_op **ops, int n);

/* Handlers (cmd_case.c, cmd_misc.c). */
int cmd_cases(cli *c, int argc, char **argv);
int cmd_case_show(cli *c, int argc, char **argv);
int cmd_alert_show(cli *c, int argc, char **argv);
int cmd_alerts(cli *c, int argc, char **argv);
int cmd_alert_promote(cli *c, int argc, char **argv);
int cmd_alert_link(cli *c, int argc, char **argv);
int cmd_alert_dismiss(cli *c, int argc, char **argv);
int cmd_alert_restore(cli *c, int argc, char **argv);
int cmd_event_add(cli *c, int argc, char **argv);
int cmd_event_star(cli *c, int argc, char **argv);
int cmd_case_new(cli *c, int argc, char **argv);
int cmd_case_set(cli *c, int argc, char **argv);
int cmd_case_close(cli *c, int argc, char **argv);
int cmd_case_reopen(cli *c, int argc, char **argv);
int cmd_case_merge(cli *c, int argc, char **argv);
int cmd_note(cli *c, int argc, char **argv);
int cmd_artifact_add(cli *c, int argc, char **argv);
int cmd_artifact_ls(cli *c, int argc, char **argv);
int cmd_artifact_rm(cli *c, int argc, char **argv);
int cmd_task_add(cli *c, int argc, char **argv);
int cmd_task_set(cli *c, int argc, char **argv);
int cmd_timeline(cli *c, int argc, char **argv);
int cmd_iocs(cli *c, int argc, char **argv);
int cmd_defang(cli *c, int argc, char **argv);
int cmd_refang(cli *c, int argc, char **argv);
int cmd_import(cli *c, int argc, char **argv);
/* ATT&CK and exports (cmd_attack.c, cmd_export.c). cli_attack loads the table
 * (the user's imported one first, else the shipped one), printing the error. */
typedef struct vg_attack vg_attack;
int cli_attack(cli *c, vg_attack **out);
int cmd_attack_ls(cli *c, int argc, char **argv);
int cmd_attack_coverage(cli *c, int argc, char **argv);
int cmd_attack_import(cli *c, int argc, char **argv);
int cmd_export(cli *c, int argc, char **argv);
/* `vigil cases --csv`: the rows (with a header row first when header). */
int cases_csv(const vg_case *items, size_t n, bool header);
/* Write len bytes of text to path through a temporary file and a rename, so a
 * reader sees the old file or the new one, never half of one. The directory must
 * exist. A new file is mode 0600; a file that was there keeps its mode. */
VG_WUR vg_rc cli_write_atomic(const char *path, const char *text, size_t len, vg_err *err);
/* The same, the contents written to the temporary file's fd (named tmp) by fill. */
VG_WUR vg_rc cli_write_atomic_fn(const char *path,
                                 vg_rc (*fill)(void *ud, int fd, const char *tmp, vg_err *err),
                                 void *ud, vg_err *err);
/* cmd_playbook.c */
int cmd_pb_lint(cli *c, int argc, char **argv);
int cmd_pb_ls(cli *c, int argc, char **argv);
int cmd_pb_show(cli *c, int argc, char **argv);
int cmd_pb_import(cli *c, int argc, char **argv);
int cmd_pb_edit(cli *c, int argc, char **argv);
int cmd_pb_export(cli *c, int argc, char **argv);
int cmd_pb_rm(cli *c, int argc, char **argv);
int cmd_pb_apply(cli *c, int argc, char **argv);
int cmd_pb_suggest(cli *c, int argc, char **argv);
int cmd_pb_keygen(cli *c, int argc, char **argv);
int cmd_pb_pack(cli *c, int argc, char **argv);
int cmd_graph(cli *c, int argc, char **argv);   /* cmd_graph.c */
int cmd_related(cli *c, int argc, char **argv);
int cmd_ask(cli *c, int argc, char **argv);    /* cmd_copilot.c */
int cmd_ledger(cli *c, int argc, char **argv);
/* Apply (edited: the analyst's params, may be NULL) or cancel proposal id and print
 * what happened; any false: it must be on case_id (NULL: the general pane's). */
int cli_decide(cli *c, bool any, const char *case_id, const char *id, const cJSON *edited,
               bool cancel, bool json);
int cmd_mcp(cli *c, int argc, char **argv); /* cmd_mcp.c */
int cmd_proposals_ls(cli *c, int argc, char **argv);
int cmd_proposals_apply(cli *c, int argc, char **argv);
int cmd_proposals_cancel(cli *c, int argc, char **argv);
/* cmd_sync.c: the team's server */
int cmd_remote_add(cli *c, int argc, char **argv);
int cmd_remote_rm(cli *c, int argc, char **argv);
int cmd_remote_ls(cli *c, int argc, char **argv);
int cmd_sync(cli *c, int argc, char **argv);
struct vg_remote;
/* The token for r from the secrets file, fresh in *token (the caller wipes and frees
 * it): EXIT_OK, or EXIT_FAIL after saying why (no token, a refused secrets file). */
int cli_remote_token(cli *c, const struct vg_remote *r, char **token);
/* The SSH options of a command: passphrases asked on /dev/tty. */
struct net_ssh_opts;
void cli_ssh_opts(struct net_ssh_opts *o);
/* A secret (a passphrase) asked on /dev/tty with echo off, the prompt made safe:
 * 0 with the line in buf (newline dropped; the caller wipes it), -1 when there is
 * no terminal or nothing was typed. */
int cli_ask_secret(const char *prompt, char *buf, size_t n);
int cmd_remote_trust(cli *c, int argc, char **argv);
int cmd_remote_test(cli *c, int argc, char **argv);
/* cmd_intel.c: the intel store. cli_intel_path: $VIGIL_INTEL_DB, [intel] db, else
 * $XDG_DATA_HOME/vigil/intel.db (fresh). */
char *cli_intel_path(const cli *c);
int cmd_intel_import(cli *c, int argc, char **argv);
int cmd_intel_ls(cli *c, int argc, char **argv);
int cmd_intel_rm(cli *c, int argc, char **argv);
int cmd_intel_stats(cli *c, int argc, char **argv);
/* cmd_keys.c: the analyst's key set and the keys they trust. cli_identity loads
 * the identity (refusing one others can read) and cli_keyring the trusted keys
 * (none when there is no file); each prints why on failure. */
struct vg_identity;
struct vg_keyring;
int cli_identity(cli *c, struct vg_identity *out);
int cli_identity_quiet(struct vg_identity *out); /* the same, saying nothing */
/* The trusted keys and one's own as lines of a packs' trusted-keys file. */
char *cli_pack_trusted(void);
int cmd_bundle_export(cli *c, int argc, char **argv); /* cmd_bundle.c */
int cmd_bundle_import(cli *c, int argc, char **argv);
int cmd_bundle_show(cli *c, int argc, char **argv);
int cli_keyring(cli *c, struct vg_keyring *out);
int cmd_keygen(cli *c, int argc, char **argv);
int cmd_key_show(cli *c, int argc, char **argv);
int cmd_key_trust(cli *c, int argc, char **argv);
int cmd_key_rm(cli *c, int argc, char **argv);
int cmd_key_ls(cli *c, int argc, char **argv);
/* cmd_backup.c: encrypted backups (vigil/backup.h) */
int cmd_backup(cli *c, int argc, char **argv);
int cmd_restore(cli *c, int argc, char **argv);
/* cmd_field.c: custom fields and case templates */
int cmd_field_define(cli *c, int argc, char **argv);
int cmd_field_ls(cli *c, int argc, char **argv);
int cmd_field_rm(cli *c, int argc, char **argv);
int cmd_field_set(cli *c, int argc, char **argv);
int cmd_template_ls(cli *c, int argc, char **argv);
int cmd_template_show(cli *c, int argc, char **argv);
int cmd_template_lint(cli *c, int argc, char **argv);
/* The templates (the analyst's directory over the shipped one), printing the
 * error; and a new case from the one named name (over: case.create members on top
 * of the template's, "fields" merged key by key; title: what the analyst typed,
 * may be NULL) into id, in one batch. */
struct vg_template;
int cli_templates(cli *c, struct vg_template **items, size_t *n);
int cli_case_from_template(cli *c, const char *name, const char *title, const cJSON *over,
                           char id[27]);
/* cmd_handoff.c: task logs, mentions and the shift handoff (vigil/handoff.h).
 * cli_mention_warn: after a note or a task log entry is added, a warning on stderr
 * for each @name in text that is not a user the workspace knows. */
int cmd_task_log(cli *c, int argc, char **argv);
int cmd_mentions(cli *c, int argc, char **argv);
int cmd_handoff(cli *c, int argc, char **argv);
void cli_mention_warn(cli *c, const char *text);
/* cmd_evidence.c: a case's evidence register and its chain of custody */
int cmd_evidence_add(cli *c, int argc, char **argv);
int cmd_evidence_ls(cli *c, int argc, char **argv);
int cmd_evidence_get(cli *c, int argc, char **argv);
int cmd_evidence_verify(cli *c, int argc, char **argv);
int cmd_evidence_custody(cli *c, int argc, char **argv);
int cmd_evidence_push(cli *c, int argc, char **argv);
/* After a note is added: list the indicators it mentions, as an offer. */
void note_offer(cli *c, const char *ref, const char *text);

#endif
