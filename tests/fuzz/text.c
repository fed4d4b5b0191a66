/*
 * text.c — the text-safety function (src/core/text.c), which every string from
 * data passes before it reaches a terminal.
 *
 * The input is any bytes. Its safe form, under every flag, whole and cut at a size
 * the input picks, must hold no C0 control but a kept newline, no DEL, no C1
 * control, no bidi or invisible character the header lists, and be valid UTF-8 by
 * libc's decoder (an oracle independent of text.c's own); in ASCII mode it is pure
 * ASCII. Fitting it to a width must stay within the width (exactly it when padded),
 * within the caller's 4*cols+4 bytes, and valid UTF-8.
 */
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "fuzz.h"
#include "vigil/text.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    setlocale(LC_CTYPE, "C.UTF-8"); /* wcwidth as the workstation sees it */
    return 0;
}

/* What text.h says is never shown as itself. */
static bool hidden(wchar_t c)
{
    return (c >= 0x80 && c <= 0x9F) || c == 0xAD || c == 0x061C || c == 0x180E ||
           (c >= 0x200B && c <= 0x200F) || (c >= 0x2028 && c <= 0x202E) ||
           (c >= 0x2060 && c <= 0x2064) || (c >= 0x2066 && c <= 0x2069) || c == 0xFEFF ||
           (c >= 0xE0000 && c <= 0xE007F);
}

/* out[0..n) is safe to show: see the top of the file. */
static void check_safe(const char *out, size_t n, int flags, const char *what)
{
    fz_check(strlen(out) == n, "%s: length %zu, but %zu returned", what, strlen(out), n);
    mbstate_t st;
    memset(&st, 0, sizeof st);
    for (size_t i = 0; i < n;) {
        unsigned char b = (unsigned char)out[i];
        fz_check(b >= 0x20 || (b == '\n' && (flags & VG_TEXT_MULTILINE)),
                 "%s: control byte 0x%02x at %zu", what, b, i);
        fz_check(b != 0x7F, "%s: DEL at %zu", what, i);
        fz_check(!(flags & VG_TEXT_ASCII) || b < 0x80, "%s: byte 0x%02x in ASCII mode", what, b);
        wchar_t c;
        size_t m = mbrtowc(&c, out + i, n - i, &st);
        fz_check(m != (size_t)-1 && m != (size_t)-2 && m <= 4 && c <= 0x10FFFF,
                 "%s: invalid UTF-8 at byte %zu", what, i);
        fz_check(!hidden(c), "%s: U+%04X shown as itself at %zu", what, (unsigned)c, i);
        i += m ? m : 1;
    }
}

static void check_fit(const char *safe, size_t cols, bool pad, bool ascii)
{
    size_t cap = 4 * cols + 4;
    char *out = malloc(cap + 1);
    out[cap] = 'X'; /* a canary past what the contract lets it write */
    size_t n = vg_text_fit(safe, cols, pad, ascii, out);
    fz_check(n < cap && strlen(out) == n, "fit to %zu: %zu bytes for a %zu-byte buffer", cols,
             n, cap);
    fz_check(out[cap] == 'X', "fit to %zu wrote past 4*cols+4 bytes", cols);
    fz_check(vg_utf8_valid(out, n), "fit to %zu: invalid UTF-8", cols);
    size_t w = vg_text_width(out);
    fz_check(pad ? w == cols : w <= cols, "fit to %zu%s: %zu columns", cols,
             pad ? " (padded)" : "", w);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    /* A size to cut at and a width to fit to, from the input's first bytes. */
    size_t cut = size ? data[0] % 64 : 0, cols = size > 1 ? data[1] % 48 : 10;
    size_t big = 8 * size + 16; /* "<U+FFFD>" for each byte: the widest it gets */
    char *whole = malloc(big), *small = malloc(cut + 1);
    for (int flags = 0; flags < 4; flags++) {
        size_t n = vg_text_safe(s, size, flags, whole, big);
        check_safe(whole, n, flags, "whole");
        fz_check(n + 1 < big, "the whole form filled its buffer: %zu bytes", n);
        size_t m = vg_text_safe(s, size, flags, small, cut + 1);
        check_safe(small, m, flags, "cut");
        fz_check(m <= cut, "cut to %zu: %zu bytes", cut, m);
        if (m == n)
            fz_check(memcmp(small, whole, n) == 0, "a form that fits differs from the whole");

        char *c = fz_cstr(data, size);
        char *dup = vg_text_safe_dup(c, flags);
        check_safe(dup, strlen(dup), flags, "dup");
        if (!memchr(data, '\0', size))
            fz_check(strcmp(dup, whole) == 0, "vg_text_safe_dup differs from vg_text_safe");
        free(dup);
        free(c);

        for (int p = 0; p < 2; p++)
            check_fit(whole, cols, p, flags & VG_TEXT_ASCII);
    }

    /* UTF-8 repair: valid output, and the identity on valid input. */
    char *c = fz_cstr(data, size);
    char *fixed = vg_utf8_repair(c);
    fz_check(vg_utf8_valid(fixed, strlen(fixed)), "vg_utf8_repair left invalid UTF-8");
    if (vg_utf8_valid(c, strlen(c)))
        fz_check(strcmp(fixed, c) == 0, "vg_utf8_repair changed valid UTF-8");
    free(fixed);
    /* Robustness only: the width of what was never made safe. */
    (void)vg_text_width(c);
    free(c);
    free(whole);
    free(small);
    return 0;
}
