/*
 * clean.c — making data fit for a prompt (cop_clean).
 *
 * A prompt is not a terminal, so vg_text_safe's visible markers would only add
 * noise the model reads as text; here invisible and control characters are
 * removed instead. NFKC comes from libunistring's u8_normalize (Debian's
 * libunistring-dev, kept in step with Unicode by GNU) rather than tables of our
 * own: it folds full-width letters, ligatures and compatibility forms to the
 * plain letters the injection detector and the model see, so "ｉｇｎｏｒｅ" and
 * "ignore" are the same word.
 */
#include "copilot.h"

#include <stdlib.h>
#include <string.h>
#include <unistr.h>
#include <uninorm.h>

#include "vigil/buf.h"
#include "vigil/text.h"

size_t cop_tokens(size_t bytes) { return (bytes + 3) / 4; }

/* Characters that are never shown: bidi controls, zero-width and invisible
 * format characters, tag characters (the set vg_text_safe marks), and the
 * interlinear annotation and object replacement characters. */
static bool invisible(ucs4_t c)
{
    return (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) || c == 0x200e ||
           c == 0x200f || c == 0x061c || (c >= 0x200b && c <= 0x200d) ||
           (c >= 0x2060 && c <= 0x2064) || c == 0xfeff || c == 0x00ad || c == 0x180e ||
           c == 0x034f || (c >= 0xe0000 && c <= 0xe007f) || (c >= 0xfff9 && c <= 0xfffc);
}

char *cop_clean(const char *s, size_t cap, bool multiline)
{
    if (!s)
        s = "";
    char *fixed = vg_utf8_repair(s);
    size_t nlen = 0;
    bool ascii = true;
    for (const char *q = fixed; *q && ascii; q++)
        ascii = (unsigned char)*q < 0x80;
    /* ASCII is its own NFKC: most log text skips the normaliser. */
    uint8_t *norm = ascii ? NULL
                          : u8_normalize(UNINORM_NFKC, (const uint8_t *)fixed, strlen(fixed),
                                         NULL, &nlen);
    const uint8_t *src = norm ? norm : (const uint8_t *)fixed;
    size_t len = norm ? nlen : strlen(fixed);

    char *out = vg_xmalloc(len + 8);
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        ucs4_t c;
        int k = u8_mbtouc(&c, src + i, len - i);
        if (k <= 0)
            break;
        const uint8_t *at = src + i;
        i += (size_t)k;
        if (c == '\n' && multiline) {
            out[o++] = '\n';
            continue;
        }
        if (c == '\t' || c == '\n' || c == '\r') {
            if (o && out[o - 1] != ' ' && out[o - 1] != '\n')
                out[o++] = ' ';
            continue;
        }
        if (c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f) || invisible(c))
            continue;
        memcpy(out + o, at, (size_t)k);
        o += (size_t)k;
    }
    out[o] = '\0';
    free(norm);
    free(fixed);
    if (o > cap) {
        static const char mark[] = " [cut]";
        size_t keep = cap > sizeof mark ? cap - (sizeof mark - 1) : 0;
        while (keep > 0 && ((unsigned char)out[keep] & 0xc0) == 0x80)
            keep--;
        memcpy(out + keep, mark, sizeof mark);
    }
    return out;
}
