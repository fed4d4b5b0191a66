/*
 * cmd_ioc.c — indicators on the command line: `vigil iocs` lists what is in text,
 * `vigil defang` and `vigil refang` are filters for pasting indicators safely, and
 * note_offer() shows what a new note mentions (an offer: nothing is added).
 *
 * Input is read a line at a time with a cap per line, so a file of any size streams
 * through in constant memory, and a line with no end is an error that names it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vigil/buf.h"
#include "vigil/ioc.h"
#include "vigil/json.h"

#define MAX_LINE (16u << 20)

/* Read the next piece of f into b: whole lines, about 1 MiB at a time, without the
 * final newline. 1 on a piece, 0 at the end, -1 when a line passes the cap. The
 * bytes after the last newline read are kept in *rest for the next call. */
static int read_piece(FILE *f, vg_buf *b, vg_buf *rest)
{
    char chunk[1 << 16];
    vg_buf_reset(b);
    if (rest->len && vg_buf_add(b, rest->data, rest->len) != VG_OK)
        return -1;
    size_t tail = rest->len; /* bytes since the last newline: the line being read */
    vg_buf_reset(rest);
    for (;;) {
        size_t n = fread(chunk, 1, sizeof chunk, f);
        if (n == 0)
            return b->len > 0;
        const char *nl = memrchr(chunk, '\n', n);
        tail = nl ? n - (size_t)(nl - chunk) - 1 : tail + n;
        if (tail > MAX_LINE)
            return -1;
        if (!nl || b->len + n < (1u << 20)) {
            if (vg_buf_add(b, chunk, n) != VG_OK)
                return -1;
            continue;
        }
        size_t head = (size_t)(nl - chunk);
        if (vg_buf_add(b, chunk, head) != VG_OK ||
            vg_buf_add(rest, nl + 1, n - head - 1) != VG_OK)
            return -1;
        return 1;
    }
}

/* Open each named file (or stdin for none or "-") and call fn on each piece of
 * whole lines. */
static int each_line(cli *c, int npos, char **pos, int (*fn)(cli *, const char *, size_t, void *),
                     void *ud)
{
    char *stdin_only[] = {"-"};
    if (npos == 0) {
        pos = stdin_only;
        npos = 1;
    }
    vg_buf piece, rest;
    vg_buf_init(&piece, MAX_LINE + (2u << 20));
    vg_buf_init(&rest, MAX_LINE);
    int rc = EXIT_OK;
    for (int i = 0; i < npos && rc == EXIT_OK; i++) {
        bool use_stdin = strcmp(pos[i], "-") == 0;
        FILE *f = use_stdin ? stdin : fopen(pos[i], "r");
        if (!f) {
            rc = cli_error(c, "%s: %s", pos[i], strerror(errno));
            break;
        }
        int got;
        while (rc == EXIT_OK && (got = read_piece(f, &piece, &rest)) != 0) {
            if (got < 0) {
                rc = cli_error(c, "%s: a line longer than %u bytes", use_stdin ? "stdin" : pos[i],
                               MAX_LINE);
                break;
            }
            rc = fn(c, vg_buf_str(&piece), piece.len, ud);
        }
        if (rc == EXIT_OK && ferror(f))
            rc = cli_error(c, "%s: read error", pos[i]);
        if (!use_stdin)
            fclose(f);
        vg_buf_reset(&rest);
    }
    vg_buf_free(&piece);
    vg_buf_free(&rest);
    return rc;
}

static int gather(cli *c, const char *s, size_t n, void *ud)
{
    (void)c;
    vg_ioc_extract(s, n, ud);
    return EXIT_OK;
}

static bool is_addr(const vg_ioc *it)
{
    return it->kind == VG_IOC_IPV4 || it->kind == VG_IOC_IPV6;
}

/* "private", "reserved, multicast", "defanged": the flags, then what an address
 * is for when the flags do not say it already; "" for none. */
static void tag_words(const vg_ioc *it, char *out, size_t outsz)
{
    static const char *const flags[] = {"private", "reserved", "defanged"};
    size_t n = 0;
    out[0] = '\0';
    for (int i = 0; i < 3; i++)
        if (it->flags & (1 << i))
            n += (size_t)snprintf(out + n, outsz - n, "%s%s", n ? ", " : "", flags[i]);
    if (is_addr(it) && it->scope != VG_IP_PUBLIC && it->scope != VG_IP_PRIVATE &&
        it->scope != VG_IP_RESERVED && n < outsz)
        snprintf(out + n, outsz - n, "%s%s", n ? ", " : "", vg_ip_scope_name(it->scope));
}

/* Print indicators as a table or JSON. */
static void print_iocs(cli *c, const vg_ioc_list *l, bool json)
{
    if (json) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; i < l->n; i++) {
            const vg_ioc *it = &l->items[i];
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "type", vg_ioc_type(it->kind));
            cJSON_AddStringToObject(o, "value", it->value);
            cJSON_AddBoolToObject(o, "private", it->flags & VG_IOC_PRIVATE);
            cJSON_AddBoolToObject(o, "reserved", it->flags & VG_IOC_RESERVED);
            cJSON_AddBoolToObject(o, "defanged", it->flags & VG_IOC_DEFANGED);
            if (is_addr(it))
                cJSON_AddStringToObject(o, "scope", vg_ip_scope_name(it->scope));
            cJSON_AddItemToArray(arr, o);
        }
        out_json(arr);
        return;
    }
    for (size_t i = 0; i < l->n; i++) {
        char tags[96];
        tag_words(&l->items[i], tags, sizeof tags);
        printf("%-9s ", vg_ioc_type(l->items[i].kind));
        out_safe(c, l->items[i].value);
        if (tags[0])
            printf("  (%s)", tags);
        putchar('\n');
    }
}

int cmd_iocs(cli *c, int argc, char **argv)
{
    opt o[] = {{"json", NULL}};
    char *pos[64];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, o, 1, pos, 64, &npos)))
        return rc;
    vg_ioc_list l = {0};
    if ((rc = each_line(c, npos, pos, gather, &l)) == EXIT_OK)
        print_iocs(c, &l, opt_get(o, 1, "json") != NULL);
    vg_ioc_list_free(&l);
    return rc;
}

static int fang_line(cli *c, const char *s, size_t n, void *ud)
{
    (void)c;
    (void)n;
    char *out = ud ? vg_defang(s) : vg_refang(s);
    puts(out); /* a filter passes bytes through unchanged; a terminal's stdout makes them safe */
    free(out);
    return EXIT_OK;
}

static int fang_cmd(cli *c, int argc, char **argv, bool defang)
{
    char *pos[64];
    int npos, rc;
    if ((rc = cli_parse(c, argc, argv, NULL, 0, pos, 64, &npos)))
        return rc;
    return each_line(c, npos, pos, fang_line, defang ? (void *)1 : NULL);
}

int cmd_defang(cli *c, int argc, char **argv) { return fang_cmd(c, argc, argv, true); }
int cmd_refang(cli *c, int argc, char **argv) { return fang_cmd(c, argc, argv, false); }

void note_offer(cli *c, const char *ref, const char *text)
{
    vg_ioc_list l = {0};
    vg_ioc_extract(text, strlen(text), &l);
    if (l.n) {
        printf("indicators in this note (not added; add with `vigil artifact add %s TYPE VALUE`):\n",
               ref);
        for (size_t i = 0; i < l.n; i++) {
            printf("  %-9s ", vg_ioc_type(l.items[i].kind));
            out_safe(c, l.items[i].value);
            putchar('\n');
        }
    }
    vg_ioc_list_free(&l);
}
