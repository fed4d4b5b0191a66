/*
 * text.c — turning attacker-written bytes into inert text for the terminal.
 *
 * Every title, note and alert field is drawn through vg_text_safe(), so it runs on
 * every repaint of every row: it is one pass over the input with a hand-written
 * UTF-8 decoder, a fast path for runs of printable ASCII, and no allocation. The
 * trade-off is that it is deliberately blunt: anything that could move the cursor,
 * reorder text or hide characters is shown as a visible marker ("^[", "<U+202E>")
 * rather than interpreted, so a legitimate RTL or emoji-ZWJ string looks uglier
 * than it would in a browser. That is the price of never being fooled by one.
 *
 * Cutting works on whole output units (a code point, a caret pair, a marker, a
 * tab's spaces), never inside one, so a cut string is still valid UTF-8 and a
 * marker is never left half-written as "<U+20".
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* wcwidth */
#endif

#include "vigil/text.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "vigil/err.h"

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */
#define ELLIPSIS "\xe2\x80\xa6"    /* U+2026 */
#define ELLIPSIS_ASCII "..."
#define TAB_STOP 8

/* Decode one code point from p[0..n), n > 0. Returns the bytes consumed, or 0 when
 * p[0] does not start a well-formed sequence (bad lead, bad or missing continuation,
 * overlong, surrogate, above U+10FFFF): the caller then treats that one byte as bad
 * and resumes at the next, which gives one U+FFFD per offending byte. */
static size_t utf8_decode(const unsigned char *p, size_t n, uint32_t *cp)
{
    unsigned char b = p[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    uint32_t c;

    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    if (b >= 0xC2 && b <= 0xDF) {
        need = 1;
        c = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
        need = 2;
        c = b & 0x0F;
        if (b == 0xE0)
            lo = 0xA0; /* overlong */
        else if (b == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 3;
        c = b & 0x07;
        if (b == 0xF0)
            lo = 0x90; /* overlong */
        else if (b == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        return 0; /* continuation byte, C0/C1 overlong lead, F5..FF */
    }
    if (n <= need || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 1; i <= need; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3F);
    }
    *cp = c;
    return need + 1;
}

/* Code points that are shown as "<U+XXXX>" even in UTF-8 mode: C1 controls, bidi
 * controls, and zero-width or invisible format characters. Sorted, inclusive. */
static const struct {
    uint32_t lo, hi;
} marked[] = {
    {0x0080, 0x009F},   /* C1 controls (CSI is U+009B) */
    {0x00AD, 0x00AD},   /* soft hyphen */
    {0x034F, 0x034F},   /* combining grapheme joiner */
    {0x061C, 0x061C},   /* Arabic letter mark */
    {0x115F, 0x1160},   /* Hangul choseong and jungseong fillers */
    {0x180E, 0x180E},   /* Mongolian vowel separator */
    {0x200B, 0x200F},   /* ZWSP, ZWNJ, ZWJ, LRM, RLM */
    {0x2028, 0x202E},   /* line/paragraph separator, LRE..RLO */
    {0x2060, 0x206F},   /* word joiner, invisible operators, LRI..PDI, deprecated format */
    {0x3164, 0x3164},   /* Hangul filler */
    {0xFEFF, 0xFEFF},   /* zero-width no-break space / BOM */
    {0xFFA0, 0xFFA0},   /* halfwidth Hangul filler */
    {0xFFF9, 0xFFFB},   /* interlinear annotation anchor, separator, terminator */
    {0xE0000, 0xE007F}, /* tags */
    {0xE0100, 0xE01EF}, /* variation selectors supplement */
};

static bool is_marked(uint32_t cp)
{
    if (cp < 0x80)
        return false;
    for (size_t i = 0; i < sizeof marked / sizeof marked[0]; i++) {
        if (cp < marked[i].lo)
            return false;
        if (cp <= marked[i].hi)
            return true;
    }
    return false;
}

static size_t cp_width(uint32_t cp)
{
    int w = wcwidth((wchar_t)cp);
    return w < 0 ? 1 : (size_t)w;
}

/* Where vg_text_safe writes. out may be NULL to only measure (cap is then SIZE_MAX).
 * `mark` is the last unit boundary that still leaves room for the ellipsis; when a
 * unit does not fit, the output is rolled back to it. */
typedef struct sink {
    char *out;
    size_t cap;  /* bytes of text the output may hold, terminator excluded */
    size_t keep; /* the most text bytes that still leave room for the ellipsis */
    size_t len;
    size_t mark;
    bool full;
} sink;

/* Append one indivisible unit. */
static void put(sink *k, const char *p, size_t n)
{
    if (k->full)
        return;
    if (n > k->cap - k->len) {
        k->len = k->mark;
        k->full = true;
        return;
    }
    if (k->out)
        memcpy(k->out + k->len, p, n);
    k->len += n;
    if (k->len <= k->keep)
        k->mark = k->len;
}

/* Append a run of single-byte units (printable ASCII), which may be cut anywhere. */
static void put_run(sink *k, const char *p, size_t n)
{
    if (k->full)
        return;
    if (n > k->cap - k->len) {
        /* Keep the part of the run that still leaves room for the ellipsis. */
        if (k->keep > k->len) {
            if (k->out)
                memcpy(k->out + k->len, p, k->keep - k->len);
            k->mark = k->keep;
        }
        k->len = k->mark;
        k->full = true;
        return;
    }
    if (k->out)
        memcpy(k->out + k->len, p, n);
    size_t before = k->len;
    k->len += n;
    if (k->len <= k->keep)
        k->mark = k->len;
    else if (before < k->keep)
        k->mark = k->keep;
}

static void put_marker(sink *k, uint32_t cp)
{
    char m[16];
    int n = snprintf(m, sizeof m, "<U+%04X>", (unsigned)cp);
    put(k, m, (size_t)n);
}

/* The one pass behind vg_text_safe and vg_text_safe_dup. */
static void render(const unsigned char *s, size_t len, int flags, sink *k)
{
    bool multiline = flags & VG_TEXT_MULTILINE;
    bool ascii = flags & VG_TEXT_ASCII;
    size_t col = 0; /* display column, only tracked for tab stops */
    size_t i = 0;

    while (i < len && !k->full) {
        unsigned char b = s[i];

        if (b >= 0x20 && b < 0x7F) {
            size_t j = i + 1;
            while (j < len && s[j] >= 0x20 && s[j] < 0x7F)
                j++;
            put_run(k, (const char *)s + i, j - i);
            col += j - i;
            i = j;
            continue;
        }
        if (b < 0x20 || b == 0x7F) {
            if (multiline && b == '\n') {
                put(k, "\n", 1);
                col = 0;
            } else if (multiline && b == '\t') {
                static const char spaces[TAB_STOP] = "        ";
                size_t n = TAB_STOP - col % TAB_STOP;
                put(k, spaces, n);
                col += n;
            } else {
                char c[2] = {'^', b == 0x7F ? '?' : (char)(b + 0x40)};
                put(k, c, 2);
                col += 2;
            }
            i++;
            continue;
        }

        uint32_t cp;
        size_t n = utf8_decode(s + i, len - i, &cp);
        if (n == 0) {
            if (ascii) {
                put(k, "<U+FFFD>", 8);
                col += 8;
            } else {
                put(k, REPLACEMENT, 3);
                col += 1;
            }
            i++;
            continue;
        }
        if (ascii || is_marked(cp)) {
            size_t before = k->len;
            put_marker(k, cp);
            col += k->len - before;
        } else {
            put(k, (const char *)s + i, n);
            if (multiline)
                col += cp_width(cp);
        }
        i += n;
    }
}

size_t vg_text_safe(const char *s, size_t len, int flags, char *out, size_t outsz)
{
    if (!out || outsz == 0)
        return 0;
    if (!s)
        len = 0;

    const char *ell = (flags & VG_TEXT_ASCII) ? ELLIPSIS_ASCII : ELLIPSIS;
    size_t ell_len = 3;
    sink k = {.out = out, .cap = outsz - 1};
    if (k.cap < ell_len) {
        /* No room for the real ellipsis: mark the cut with as many dots as fit. */
        ell = "...";
        ell_len = k.cap;
    }
    k.keep = k.cap - ell_len;

    render((const unsigned char *)s, len, flags, &k);
    if (k.full) {
        memcpy(out + k.len, ell, ell_len);
        k.len += ell_len;
    }
    out[k.len] = '\0';
    return k.len;
}

char *vg_text_safe_dup(const char *s, int flags)
{
    size_t len = s ? strlen(s) : 0;
    sink measure = {.cap = SIZE_MAX, .keep = SIZE_MAX};
    render((const unsigned char *)s, len, flags, &measure);

    char *out = vg_xmalloc(measure.len + 1);
    vg_text_safe(s, len, flags, out, measure.len + 1);
    return out;
}

size_t vg_text_width(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = s ? strlen(s) : 0;
    size_t w = 0;

    for (size_t i = 0; i < n;) {
        if (p[i] >= 0x20 && p[i] < 0x7F) {
            w++;
            i++;
            continue;
        }
        uint32_t cp;
        size_t m = utf8_decode(p + i, n - i, &cp);
        if (m == 0) {
            w++; /* shown as U+FFFD by vg_text_fit */
            i++;
            continue;
        }
        w += cp_width(cp);
        i += m;
    }
    return w;
}

size_t vg_text_break(const char *s, size_t cols, const char **next)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t n = strlen((const char *)p), w = 0, i = 0, space = 0;
    bool word = false; /* a space breaks the line only after some text */
    while (i < n) {
        uint32_t cp;
        size_t m = utf8_decode(p + i, n - i, &cp), cw = 1;
        if (m == 0)
            m = 1; /* shown as one U+FFFD */
        else if (cp >= 0x20 && cp != 0x7F)
            cw = cp_width(cp);
        if (p[i] == ' ' && word)
            space = i;
        if (w + cw > cols && i > 0)
            break;
        word = word || p[i] != ' ';
        w += cw;
        i += m;
    }
    if (i == n) {
        if (next)
            *next = (const char *)p + n;
        return n;
    }
    size_t cut = space ? space : i; /* else a word longer than the line, cut */
    size_t rest = cut;
    while (p[rest] == ' ')
        rest++;
    while (cut > 1 && p[cut - 1] == ' ')
        cut--;
    if (next)
        *next = (const char *)p + rest;
    return cut;
}

void vg_text_wrap(const char *s, size_t cols, size_t first, size_t rest,
                  void (*fn)(void *ud, char *piece), void *ud)
{
    const char *p = s ? s : "", *next;
    size_t lead = first;
    do {
        size_t k = vg_text_break(p, cols > lead ? cols - lead : 1, &next);
        char *piece = vg_xmalloc(lead + k + 1);
        memset(piece, ' ', lead);
        memcpy(piece + lead, p, k);
        piece[lead + k] = '\0';
        fn(ud, piece);
        p = next;
        lead = rest;
    } while (*p);
}

size_t vg_text_fit(const char *s, size_t cols, bool pad, bool ascii, char *out)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t n = strlen((const char *)p);
    const char *ell = ascii ? ELLIPSIS_ASCII : ELLIPSIS;
    size_t ell_len = 3, ell_w = ascii ? 3 : 1;
    if (cols < ell_w) {
        ell = "...";
        ell_len = ell_w = cols;
    }
    /* Zero-width code points can make a few columns arbitrarily many bytes; keep
     * text plus padding within 4*cols so the caller's 4*cols+4 buffer holds
     * everything (the ellipsis adds at most 2 bytes over its width). */
    size_t budget = 4 * cols;
    size_t len = 0, width = 0, mark_len = 0, mark_w = 0;
    bool cut = false;

    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t m = utf8_decode(p + i, n - i, &cp);
        const char *unit = (const char *)p + i;
        size_t ulen = m, w;
        if (m == 0) {
            unit = ascii ? "?" : REPLACEMENT;
            ulen = ascii ? 1 : 3;
            w = 1;
            m = 1;
        } else {
            w = cp < 0x20 || cp == 0x7F ? 1 : cp_width(cp);
        }
        if (width + w > cols || len + ulen + (cols - width - w) > budget) {
            cut = true;
            break;
        }
        memcpy(out + len, unit, ulen);
        len += ulen;
        width += w;
        if (width + ell_w <= cols) {
            mark_len = len;
            mark_w = width;
        }
        i += m;
    }
    if (cut) {
        len = mark_len;
        memcpy(out + len, ell, ell_len);
        len += ell_len;
        width = mark_w + ell_w;
    }
    if (pad) {
        memset(out + len, ' ', cols - width);
        len += cols - width;
    }
    out[len] = '\0';
    return len;
}

bool vg_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        size_t m = utf8_decode(p + i, len - i, &cp);
        if (m == 0)
            return false;
        i += m;
    }
    return true;
}

char *vg_utf8_repair(const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t n = strlen((const char *)p);
    size_t bad = 0;
    uint32_t cp;

    for (size_t i = 0; i < n;) {
        size_t m = p[i] < 0x80 ? 1 : utf8_decode(p + i, n - i, &cp);
        if (m == 0) {
            bad++;
            m = 1;
        }
        i += m;
    }

    char *out = vg_xmalloc(n + 2 * bad + 1);
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t m = p[i] < 0x80 ? 1 : utf8_decode(p + i, n - i, &cp);
        if (m == 0) {
            memcpy(out + o, REPLACEMENT, 3);
            o += 3;
            i++;
        } else {
            memcpy(out + o, p + i, m);
            o += m;
            i += m;
        }
    }
    out[o] = '\0';
    return out;
}
