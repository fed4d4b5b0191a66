/*
 * out.c — option parsing and terminal output for the CLI. Every string that came
 * from data is printed through vg_text_safe here; nothing else prints data.
 *
 * And because a command's output is data too (an export, a CSV, a playbook file, a
 * raw event, JSON), when stdout is a terminal the stream itself is made safe:
 * out_init puts a stream in front of the terminal that passes every byte written
 * to stdout through vg_text_safe (multi-line), so no command can write an escape to
 * the analyst's terminal, whichever way it prints. Text already made safe passes
 * unchanged (the function is idempotent on its own output). Into a file or a pipe,
 * stdout is left alone and gets the exact bytes, as a filter must.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* fopencookie */
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "vigil/json.h"
#include "vigil/text.h"
#include "vigil/timefmt.h"

int cli_parse(cli *c, int argc, char **argv, opt *opts, int nopts, char **pos, int maxpos,
              int *npos)
{
    *npos = 0;
    bool only_pos = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (only_pos || a[0] != '-' || a[1] == '\0') {
            if (*npos == maxpos)
                return cli_usage(c, "unexpected argument '%s'", a);
            pos[(*npos)++] = argv[i];
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_pos = true;
            continue;
        }
        const char *name = a + (a[1] == '-' ? 2 : 1);
        const char *eq = strchr(name, '=');
        size_t nl = eq ? (size_t)(eq - name) : strlen(name);
        opt *o = NULL;
        for (int k = 0; k < nopts; k++) {
            size_t sl = strcspn(opts[k].spec, "=");
            if (sl == nl && strncmp(opts[k].spec, name, nl) == 0)
                o = &opts[k];
        }
        if (!o) {
            const char *names[64];
            char buf[64][32];
            size_t nn = 0;
            for (int k = 0; k < nopts && nn < 64; k++) {
                snprintf(buf[nn], sizeof buf[nn], "%.*s", (int)strcspn(opts[k].spec, "="),
                         opts[k].spec);
                names[nn] = buf[nn];
                nn++;
            }
            char word[32];
            snprintf(word, sizeof word, "%.*s", (int)nl, name);
            const char *near = cli_closest(word, names, nn);
            if (near)
                return cli_usage(c, "unknown option '%s' (did you mean --%s?)", a, near);
            return cli_usage(c, "unknown option '%s'", a);
        }
        bool takes = strchr(o->spec, '=') != NULL;
        if (takes) {
            if (eq)
                o->value = eq + 1;
            else if (i + 1 < argc)
                o->value = argv[++i];
            else
                return cli_usage(c, "option --%.*s needs a value", (int)nl, name);
        } else {
            if (eq)
                return cli_usage(c, "option --%.*s takes no value", (int)nl, name);
            o->value = "";
        }
    }
    static const char *const outputs[] = {"json", "csv", "dot"};
    const char *given = NULL;
    for (size_t k = 0; k < sizeof outputs / sizeof *outputs; k++) {
        if (!opt_get(opts, nopts, outputs[k]))
            continue;
        if (given)
            return cli_usage(c, "--%s and --%s: give one of them", given, outputs[k]);
        given = outputs[k];
    }
    return EXIT_OK;
}

/* Levenshtein distance of two short words (up to 63 bytes of each). */
static size_t edits(const char *a, const char *b)
{
    size_t la = strnlen(a, 63), lb = strnlen(b, 63), row[64];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            diag = up;
            row[j] = best;
        }
    }
    return row[lb];
}

const char *cli_closest(const char *word, const char *const *cands, size_t n)
{
    const char *best = NULL;
    size_t bd = 3, wl = strlen(word);
    for (size_t i = 0; i < n; i++) {
        size_t d = edits(word, cands[i]);
        if (d < bd && d < wl && strcmp(word, cands[i]) != 0) {
            bd = d;
            best = cands[i];
        }
    }
    return best;
}

const char *opt_get(const opt *opts, int nopts, const char *name)
{
    size_t nl = strlen(name);
    for (int k = 0; k < nopts; k++)
        if (strncmp(opts[k].spec, name, nl) == 0 &&
            (opts[k].spec[nl] == '\0' || opts[k].spec[nl] == '='))
            return opts[k].value;
    return NULL;
}

void out_safe(cli *c, const char *s)
{
    char *safe = vg_text_safe_dup(s ? s : "", c->text_flags);
    fputs(safe, stdout);
    free(safe);
}

void out_text(cli *c, const char *s, int indent)
{
    char *safe = vg_text_safe_dup(s ? s : "", c->text_flags | VG_TEXT_MULTILINE);
    for (char *p = safe; *p;) {
        size_t n = strcspn(p, "\n");
        printf("%*s%.*s\n", indent, "", (int)n, p);
        p += n + (p[n] == '\n');
    }
    free(safe);
}

void out_fit(cli *c, const char *s, int cols, bool pad)
{
    char *safe = vg_text_safe_dup(s ? s : "", c->text_flags);
    if (cols <= 0) {
        fputs(safe, stdout);
    } else {
        char *fit = vg_xmalloc((size_t)cols * 4 + 4);
        vg_text_fit(safe, (size_t)cols, pad, c->text_flags & VG_TEXT_ASCII, fit);
        fputs(fit, stdout);
        free(fit);
    }
    free(safe);
}

void out_json(cJSON *v)
{
    char *s = vg_json_print(v);
    if (!s) {
        fputs("vigil: out of memory printing JSON\n", stderr);
        abort();
    }
    puts(s);
    free(s);
    cJSON_Delete(v);
}

/* ---- the terminal's stream ------------------------------------------------------ */

/* The stream works a slice at a time, so its buffers are fixed. Tab stops count
 * from the start of a write, which for line-buffered output is a line's start. */
enum { SLICE = 4096 };

typedef struct tty_stream {
    int flags;            /* vg_text_safe's, VG_TEXT_MULTILINE included */
    size_t held;          /* bytes of in[] held over from the last write */
    char in[SLICE + 4];   /* held bytes, then the next slice of the caller's */
    char out[8 * (SLICE + 4) + 16]; /* the most a slice becomes (a byte: 8 at most) */
} tty_stream;

static int write_all(const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDOUT_FILENO, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* How many bytes at the end of p[0..n) to hold for the next write: a UTF-8
 * sequence not yet complete, or a CR whose LF may follow. */
static size_t tail_to_hold(const char *p, size_t n)
{
    if (n > 0 && p[n - 1] == '\r')
        return 1;
    for (size_t k = 1; k <= 3 && k <= n; k++) {
        unsigned char b = (unsigned char)p[n - k];
        if ((b & 0xC0) == 0x80)
            continue; /* a continuation byte: look further back for its lead */
        size_t need = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
        return k < need ? k : 0;
    }
    return 0;
}

/* Show t->in[0..n) on the terminal, made safe. A CR LF is a line end (CSV writes
 * them) and becomes LF; a lone CR could overwrite a line, so it is shown as ^M. */
static int show(tty_stream *t, size_t n)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!(t->in[i] == '\r' && i + 1 < n && t->in[i + 1] == '\n'))
            t->in[m++] = t->in[i];
    size_t len = vg_text_safe(t->in, m, t->flags, t->out, sizeof t->out);
    return write_all(t->out, len);
}

static ssize_t tty_write(void *cookie, const char *buf, size_t size)
{
    tty_stream *t = cookie;
    for (size_t done = 0; done < size;) {
        size_t take = size - done < SLICE ? size - done : SLICE;
        memcpy(t->in + t->held, buf + done, take);
        done += take;
        size_t n = t->held + take, hold = tail_to_hold(t->in, n);
        if (show(t, n - hold) != 0)
            return -1;
        memmove(t->in, t->in + n - hold, hold);
        t->held = hold;
    }
    return (ssize_t)size;
}

static int tty_close(void *cookie)
{
    tty_stream *t = cookie;
    int rc = show(t, t->held); /* a sequence left incomplete is shown as U+FFFD */
    free(t);
    return rc;
}

static FILE *terminal; /* the stdout that out_init replaced, while it is replaced */

void out_init(cli *c)
{
    if (!isatty(STDOUT_FILENO))
        return;
    fflush(stdout);
    tty_stream *t = vg_xcalloc(1, sizeof *t);
    t->flags = c->text_flags | VG_TEXT_MULTILINE;
    FILE *f = fopencookie(t, "w", (cookie_io_functions_t){.write = tty_write,
                                                          .close = tty_close});
    if (!f) {
        free(t);
        fprintf(stderr, "vigil: out of memory\n");
        abort();
    }
    setvbuf(f, NULL, _IOLBF, BUFSIZ); /* a terminal's stdout is line-buffered */
    terminal = stdout;
    stdout = f; /* glibc: stdout is an ordinary variable that may be set */
}

int out_end(void)
{
    int rc = fflush(stdout) != 0 || ferror(stdout) ? -1 : 0;
    if (terminal) {
        if (fclose(stdout) != 0) /* shows what was held */
            rc = -1;
        stdout = terminal;
        terminal = NULL;
    }
    return rc;
}

void fmt_time(int64_t ms, char *out, size_t outsz) { vg_local_time(ms, out, outsz); }

void fmt_age(int64_t ms, char *out, size_t outsz)
{
    vg_age(ms, (int64_t)time(NULL) * 1000, out, outsz);
}
