/*
 * cmd_backup.c — `vigil backup` and `vigil restore`: the workspace as one encrypted
 * file and back (vigil/backup.h; vigil(1), BACKUPS).
 *
 * What the CLI adds to the core: which lock (to self when the analyst has a key set,
 * else a passphrase asked twice on the terminal, or read from --passphrase-file for
 * scripts), where the file goes (written beside its name and renamed, so a backup
 * interrupted leaves the old file or none, never half of one; `-o -` streams it to a
 * pipe), and what the analyst reads afterwards: the sizes, the op count and the head,
 * the same lines on both sides so that a restore can be compared with its backup.
 * Passphrases are read into buffers wiped before they are freed, never printed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "paths.h"
#include "vigil/backup.h"
#include "vigil/keys.h"
#include "vigil/text.h"

#define PASS_MAX 1024
#define PASS_MIN 8

static double since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* The passphrase in path's first line (newline dropped) into pass (PASS_MAX bytes).
 * A regular file others can read is refused, as the secrets file is. */
static int pass_file(cli *c, const char *path, char *pass, size_t *len)
{
    struct stat sb;
    char *safe = vg_text_safe_dup(path, c->text_flags);
    int rc = EXIT_OK;
    FILE *f = fopen(path, "rbe");
    if (!f) {
        rc = cli_error(c, "--passphrase-file %s: %s", safe, strerror(errno));
    } else if (fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode) && (sb.st_mode & 077)) {
        rc = cli_error(c,
                       "--passphrase-file %s can be read by others (mode %03o); chmod 600 it"
                       " first",
                       safe, (unsigned)(sb.st_mode & 0777));
    } else {
        setvbuf(f, NULL, _IONBF, 0);
        size_t n = 0;
        int ch;
        while (n < PASS_MAX && (ch = getc(f)) != EOF && ch != '\n')
            pass[n++] = (char)ch;
        if (n == PASS_MAX)
            rc = cli_error(c, "--passphrase-file %s: its first line is longer than %d bytes", safe,
                           PASS_MAX - 1);
        if (n && pass[n - 1] == '\r')
            n--;
        *len = n;
        if (rc == EXIT_OK && n == 0)
            rc = cli_error(c, "--passphrase-file %s: its first line is empty", safe);
    }
    if (f)
        fclose(f);
    free(safe);
    return rc;
}

/* A passphrase typed on the terminal, twice when it makes a new backup. */
static int pass_tty(cli *c, bool twice, char *pass, size_t *len)
{
    char again[PASS_MAX];
    int rc = EXIT_OK;
    if (cli_ask_secret(twice ? "passphrase for the backup: " : "the backup's passphrase: ", pass,
                       PASS_MAX) != 0)
        return cli_error(c, "no terminal to ask a passphrase on: give --passphrase-file F%s",
                         twice ? ", or make a key set (`vigil keygen`) to back up to yourself"
                               : "");
    *len = strlen(pass);
    if (*len == 0)
        rc = cli_error(c, "no passphrase given");
    else if (twice && cli_ask_secret("the same again: ", again, sizeof again) != 0)
        rc = cli_error(c, "no passphrase given the second time");
    else if (twice && strcmp(pass, again) != 0)
        rc = cli_error(c, "the two passphrases differ; nothing written");
    sodium_memzero(again, sizeof again);
    return rc;
}

/* The lines both commands end with: sizes, ops and head, then how long it took. */
static void print_info(FILE *f, const vg_backup_info *in, bool restore, double s)
{
    uint64_t from = restore ? in->sealed : in->plain, to = restore ? in->plain : in->sealed;
    char head[VG_HEAD_TEXT];
    vg_head_format(&in->head, head);
    fprintf(f, "bytes in %" PRIu64 ", bytes out %" PRIu64 ", ratio %.2f, %.2f s (%.1f MB/s)\n",
            from, to, in->sealed ? (double)in->plain / (double)in->sealed : 0.0, s,
            s > 0 ? (double)in->plain / 1e6 / s : 0.0);
    fprintf(f, "ops %" PRId64 ", head %s\n", in->ops, head);
}

/* Is path the workspace file itself (or one of its -wal and -shm)? */
static bool is_workspace(const char *db, const char *path)
{
    struct stat a, b;
    if (stat(path, &b) != 0)
        return false;
    const char *side[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(db) + 8;
        char *p = vg_xmalloc(n);
        snprintf(p, n, "%s%s", db, side[i]);
        bool same = stat(p, &a) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
        free(p);
        if (same)
            return true;
    }
    return false;
}

struct backup_to {
    vg_ws *ws;
    const vg_backup_lock *lock;
    vg_backup_info *info;
};

/* The backup into the temporary file cli_write_atomic_fn made (it syncs and renames
 * it into place once whole). */
static vg_rc fill_backup(void *ud, int fd, const char *tmp, vg_err *err)
{
    const struct backup_to *b = ud;
    int own = dup(fd);
    FILE *f = own >= 0 ? fdopen(own, "wb") : NULL;
    if (!f) {
        if (own >= 0)
            close(own);
        return vg_fail(err, VG_EIO, "%s: %s", tmp, strerror(errno));
    }
    vg_rc rc = vg_backup_write(b->ws, f, b->lock, NULL, b->info, err);
    if (fclose(f) != 0 && rc == VG_OK)
        rc = vg_fail(err, VG_EIO, "writing %s: %s", tmp, strerror(errno));
    return rc;
}

static vg_rc write_file(vg_ws *ws, const char *path, const vg_backup_lock *lock,
                        vg_backup_info *info, vg_err *err)
{
    struct backup_to b = {ws, lock, info};
    return cli_write_atomic_fn(path, fill_backup, &b, err);
}

int cmd_backup(cli *c, int argc, char **argv)
{
    opt o[] = {{"o=", NULL}, {"passphrase-file=", NULL}, {"to-self", NULL}};
    const int no = 3;
    char *pos[1];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, o, no, pos, 0, &npos)))
        return rc;
    const char *pf = opt_get(o, no, "passphrase-file"), *out = opt_get(o, no, "o");
    bool self = opt_get(o, no, "to-self") != NULL;
    if (self && pf)
        return cli_usage(c, "--to-self or --passphrase-file, not both");
    if (out && !*out)
        return cli_usage(c, "-o: which file?");
    bool to_stdout = out && strcmp(out, "-") == 0;
    if (to_stdout && isatty(STDOUT_FILENO))
        return cli_error(c, "not writing a backup to the terminal (-o FILE, or a pipe)");
    char deflt[64];
    if (!out) {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(deflt, sizeof deflt, "vigil-%Y%m%d-%H%M%S.backup", &tm);
        out = deflt;
    }
    if ((rc = cli_open(c, 0)))
        return rc;
    if (!to_stdout && is_workspace(vg_ws_path(c->ws), out)) {
        char *safe = vg_text_safe_dup(out, c->text_flags);
        rc = cli_error(c, "%s is the workspace itself; name another file", safe);
        free(safe);
        return rc;
    }
    /* to self when asked, or by default when the analyst has a key set */
    char *idpath = paths_identity();
    if (!self && !pf && access(idpath, F_OK) == 0)
        self = true;
    free(idpath);
    vg_identity id;
    char *pass = sodium_init() < 0 ? NULL : sodium_malloc(PASS_MAX); /* guarded, wiped */
    size_t passlen = 0;
    vg_backup_lock lock = {0};
    memset(&id, 0, sizeof id);
    if (!pass)
        return cli_error(c, "out of memory");
    if (self)
        rc = cli_identity(c, &id);
    else if (pf)
        rc = pass_file(c, pf, pass, &passlen);
    else
        rc = pass_tty(c, true, pass, &passlen);
    if (rc == EXIT_OK && !self && passlen < PASS_MIN)
        rc = cli_error(c,
                       "a passphrase of at least %d characters, please: it is all that stands"
                       " between a lost backup and its reader",
                       PASS_MIN);
    if (rc == EXIT_OK) {
        if (self) {
            lock.to = &id.pub;
        } else {
            lock.pass = pass;
            lock.passlen = passlen;
        }
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        vg_backup_info info;
        vg_err err = {0};
        vg_rc vr = to_stdout ? vg_backup_write(c->ws, stdout, &lock, NULL, &info, &err)
                             : write_file(c->ws, out, &lock, &info, &err);
        if (vr != VG_OK) {
            rc = cli_fail(c, &err);
        } else {
            /* with the backup on stdout, what was done goes to stderr */
            FILE *f = to_stdout ? stderr : stdout;
            char *ws = vg_text_safe_dup(vg_ws_path(c->ws), c->text_flags),
                 *to = vg_text_safe_dup(to_stdout ? "stdout" : out, c->text_flags);
            fprintf(f, "backed up %s to %s, ", ws, to);
            if (self) {
                char fp[VG_FP_TEXT];
                vg_pubkey_fp_text(&id.pub, fp);
                fprintf(f, "sealed to your key %s (%s)\n", fp, id.pub.name);
            } else {
                fprintf(f, "locked by a passphrase (Argon2id, %llu passes, %u MiB)\n",
                        VG_BACKUP_OPS, (unsigned)(VG_BACKUP_MEM >> 20));
            }
            print_info(f, &info, false, since(&t0));
            free(ws);
            free(to);
        }
    }
    vg_identity_wipe(&id);
    sodium_free(pass);
    return rc;
}

/* The key set a self-locked backup needs, saying whose it is when there is none. */
static int self_key(cli *c, const char *where, const vg_backup_header *h, vg_identity *id)
{
    char *path = paths_identity();
    bool have = access(path, F_OK) == 0;
    free(path);
    if (have)
        return cli_identity(c, id);
    char fp[VG_FP_TEXT];
    vg_fp_format(h->fp, fp);
    return cli_error(c,
                     "%s is sealed to %s, and you have no key set here: restore it on the"
                     " machine that holds that key set, or copy the key set here",
                     where, fp);
}

int cmd_restore(cli *c, int argc, char **argv)
{
    opt o[] = {{"db=", NULL}, {"force", NULL}, {"passphrase-file=", NULL}};
    const int no = 3;
    char *pos[1];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, o, no, pos, 1, &npos)))
        return rc;
    if (npos != 1)
        return cli_usage(c, "which backup? (a file vigil backup wrote, or - for stdin)");
    /* the target: restore's own --db, else the workspace vigil would open */
    const char *path = opt_get(o, no, "db") ? opt_get(o, no, "db") : c->db_path;
    if (!*path)
        return cli_usage(c, "--db: which workspace file?");
    bool from_stdin = strcmp(pos[0], "-") == 0;
    FILE *in = from_stdin ? stdin : fopen(pos[0], "rbe");
    char *where = vg_text_safe_dup(from_stdin ? "stdin" : pos[0], c->text_flags);
    if (!in) {
        rc = cli_error(c, "%s: %s", where, strerror(errno));
        free(where);
        return rc;
    }
    vg_backup_header h;
    vg_err err = {0};
    vg_identity id;
    memset(&id, 0, sizeof id);
    char *pass = sodium_init() < 0 ? NULL : sodium_malloc(PASS_MAX); /* guarded, wiped */
    size_t passlen = 0;
    vg_backup_key key = {0};
    if (!pass)
        rc = cli_error(c, "out of memory");
    else if (vg_backup_read_header(in, from_stdin ? "stdin" : pos[0], &h, &err) != VG_OK)
        rc = cli_fail(c, &err);
    else if (h.kind == VG_LOCK_SELF && (rc = self_key(c, where, &h, &id)) == EXIT_OK)
        key.id = &id;
    else if (h.kind == VG_LOCK_PASSPHRASE) {
        const char *pf = opt_get(o, no, "passphrase-file");
        rc = pf ? pass_file(c, pf, pass, &passlen) : pass_tty(c, false, pass, &passlen);
        key.pass = pass;
        key.passlen = passlen;
    }
    if (rc == EXIT_OK) {
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        vg_backup_info info;
        if (vg_backup_restore(in, from_stdin ? "stdin" : pos[0], &h, &key, path,
                              opt_get(o, no, "force") ? VG_RESTORE_FORCE : 0, &info,
                              &err) != VG_OK) {
            rc = cli_fail(c, &err);
        } else {
            char *to = vg_text_safe_dup(path, c->text_flags);
            printf("restored %s to %s, ", where, to);
            if (h.kind == VG_LOCK_SELF) {
                char fp[VG_FP_TEXT];
                vg_pubkey_fp_text(&id.pub, fp);
                printf("sealed to your key %s (%s)\n", fp, id.pub.name);
            } else {
                printf("locked by a passphrase (Argon2id, %llu passes, %zu MiB)\n", h.ops,
                       h.mem >> 20);
            }
            print_info(stdout, &info, true, since(&t0));
            printf("integrity_check ok, audit verify ok (%" PRId64 " ops)\n", info.ops);
            free(to);
        }
    }
    if (!from_stdin)
        fclose(in);
    vg_identity_wipe(&id);
    sodium_free(pass);
    free(where);
    return rc;
}
