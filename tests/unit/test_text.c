/*
 * test_text.c — unit tests for text.c, the filter between attacker-written data and
 * the analyst's terminal.
 *
 * Each test feeds what an alert field could really contain (OSC 52, CSI, RLO, C1,
 * broken UTF-8) and checks what the analyst would see. The property test at the end
 * trades exact expectations for breadth: 10,000 random byte strings from a fixed
 * seed, checked by an independent decoder, so a failure is reproducible.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/text.h"

/* Run vg_text_safe over a NUL-terminated string into a roomy buffer. */
static const char *safe(const char *s, int flags)
{
    static char out[4096];
    size_t n = vg_text_safe(s, strlen(s), flags, out, sizeof out);
    assert_int_equal(n, strlen(out));
    return out;
}

/* An independent strict UTF-8 decoder for checking outputs: returns bytes used, or 0
 * if p does not start a well-formed sequence. */
static size_t decode(const unsigned char *p, size_t n, uint32_t *cp)
{
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    size_t need = p[0] >= 0xF0 ? 3 : p[0] >= 0xE0 ? 2 : p[0] >= 0xC0 ? 1 : 0;
    if (need == 0 || p[0] > 0xF4 || n <= need)
        return 0;
    uint32_t c = p[0] & (0x3F >> need);
    for (size_t i = 1; i <= need; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3F);
    }
    static const uint32_t min[] = {0, 0x80, 0x800, 0x10000};
    if (c < min[need] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return need + 1;
}

static bool forbidden_cp(uint32_t c)
{
    return (c >= 0x80 && c <= 0x9F) || c == 0x061C || c == 0x200E || c == 0x200F ||
           (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) ||
           (c >= 0x200B && c <= 0x200D) || (c >= 0x2060 && c <= 0x2064) || c == 0xFEFF ||
           c == 0x00AD || c == 0x180E || c == 0x2028 || c == 0x2029 ||
           (c >= 0xE0000 && c <= 0xE007F) || (c >= 0x2065 && c <= 0x206F) ||
           (c >= 0xFFF9 && c <= 0xFFFB) || c == 0x034F || (c >= 0xE0100 && c <= 0xE01EF) ||
           c == 0x3164 || c == 0x115F || c == 0x1160 || c == 0xFFA0;
}

/* Assert that out[0..n) is something a terminal can show without being steered. */
static void assert_inert(const char *out, size_t n, int flags)
{
    const unsigned char *p = (const unsigned char *)out;
    assert_int_equal(strlen(out), n);
    for (size_t i = 0; i < n;) {
        uint32_t c = 0;
        size_t m = decode(p + i, n - i, &c);
        if (m == 0)
            fail_msg("invalid UTF-8 at byte %zu", i);
        if (c < 0x20 && !(c == '\n' && (flags & VG_TEXT_MULTILINE)))
            fail_msg("control 0x%02x at byte %zu", (unsigned)c, i);
        if (c == 0x7F)
            fail_msg("DEL at byte %zu", i);
        if (forbidden_cp(c))
            fail_msg("U+%04X at byte %zu", (unsigned)c, i);
        if ((flags & VG_TEXT_ASCII) && c >= 0x80)
            fail_msg("non-ASCII U+%04X in ASCII mode", (unsigned)c);
        i += m;
    }
}

static int setup_locale(void **state)
{
    (void)state;
    if (!setlocale(LC_ALL, "C.UTF-8") && !setlocale(LC_ALL, "C.utf8"))
        return -1;
    return 0;
}

/* --- terminal escapes ------------------------------------------------------ */

static void test_osc52_clipboard_is_inert(void **state)
{
    (void)state;
    const char *out = safe("title \x1b]52;c;aGVsbG8=\x07 end", 0);
    assert_string_equal(out, "title ^[]52;c;aGVsbG8=^G end");
    assert_null(strchr(out, '\x1b'));
    assert_null(strchr(out, '\x07'));
}

static void test_csi_clear_screen_is_inert(void **state)
{
    (void)state;
    const char *out = safe("\x1b[2J\x1b[H", 0);
    assert_string_equal(out, "^[[2J^[[H");
    assert_null(strchr(out, '\x1b'));
    /* Not even multiline mode lets ESC through. */
    assert_string_equal(safe("\x1b[2J", VG_TEXT_MULTILINE), "^[[2J");
}

static void test_c0_and_del_in_caret_notation(void **state)
{
    (void)state;
    char out[64];
    size_t n = vg_text_safe("a\0b\rc\x7f" "d\x1f", 8, 0, out, sizeof out);
    assert_string_equal(out, "a^@b^Mc^?d^_");
    assert_int_equal(n, 12);
    assert_string_equal(safe("\b\b\bok", 0), "^H^H^Hok");
}

static void test_c1_csi_is_marked(void **state)
{
    (void)state;
    assert_string_equal(safe("x\xc2\x9b" "2Jy", 0), "x<U+009B>2Jy");
    assert_string_equal(safe("\xc2\x85\xc2\x9d", 0), "<U+0085><U+009D>");
    /* U+00A0 is just past C1 and is ordinary text. */
    assert_string_equal(safe("\xc2\xa0", 0), "\xc2\xa0");
}

/* --- bidi and invisible characters ----------------------------------------- */

static void test_rlo_file_name_is_marked(void **state)
{
    (void)state;
    assert_string_equal(safe("invoice\xe2\x80\xae" "fdp.exe", 0), "invoice<U+202E>fdp.exe");
}

static void test_other_bidi_controls_are_marked(void **state)
{
    (void)state;
    assert_string_equal(safe("\xe2\x80\xaa\xe2\x80\xac", 0), "<U+202A><U+202C>");
    assert_string_equal(safe("\xe2\x81\xa6" "a\xe2\x81\xa9", 0), "<U+2066>a<U+2069>");
    assert_string_equal(safe("\xe2\x80\x8e\xe2\x80\x8f", 0), "<U+200E><U+200F>");
    assert_string_equal(safe("\xd8\x9c", 0), "<U+061C>");
    /* Arabic letters themselves are untouched. */
    assert_string_equal(safe("\xd8\xa8", 0), "\xd8\xa8");
}

static void test_zero_width_and_invisible_are_marked(void **state)
{
    (void)state;
    assert_string_equal(safe("pay\xe2\x80\x8bpal.com", 0), "pay<U+200B>pal.com");
    assert_string_equal(safe("\xe2\x80\x8c\xe2\x80\x8d", 0), "<U+200C><U+200D>");
    assert_string_equal(safe("\xe2\x81\xa0\xe2\x81\xa4", 0), "<U+2060><U+2064>");
    assert_string_equal(safe("\xef\xbb\xbfhdr", 0), "<U+FEFF>hdr");
    assert_string_equal(safe("ad\xc2\xadmin", 0), "ad<U+00AD>min");
    assert_string_equal(safe("\xe1\xa0\x8e", 0), "<U+180E>");
    assert_string_equal(safe("a\xe2\x80\xa8" "b\xe2\x80\xa9", 0), "a<U+2028>b<U+2029>");
    /* Tag characters can smuggle invisible ASCII (U+E0041 is a tag 'A'). */
    assert_string_equal(safe("hi\xf3\xa0\x81\x81\xf3\xa0\x81\xbf", 0), "hi<U+E0041><U+E007F>");
}

/* Invisible characters that look like nothing (or like a space) on screen: the
 * reserved invisible operator U+2065, the deprecated format controls U+206A-206F,
 * interlinear annotation U+FFF9-FFFB, the combining grapheme joiner U+034F, the
 * variation selectors supplement U+E0100-E01EF and the Hangul fillers. Each range's
 * ends, and neighbours that are visible and stay as they are. */
static void test_more_invisible_are_marked(void **state)
{
    (void)state;
    assert_string_equal(safe("a\xe2\x81\xa5" "b", 0), "a<U+2065>b");
    assert_string_equal(safe("\xe2\x81\xaa\xe2\x81\xaf", 0), "<U+206A><U+206F>");
    assert_string_equal(safe("\xef\xbf\xb9x\xef\xbf\xbb", 0), "<U+FFF9>x<U+FFFB>");
    assert_string_equal(safe("e\xcd\x8f", 0), "e<U+034F>");
    assert_string_equal(safe("\xf3\xa0\x84\x80\xf3\xa0\x87\xaf", 0), "<U+E0100><U+E01EF>");
    assert_string_equal(safe("\xe3\x85\xa4", 0), "<U+3164>");
    assert_string_equal(safe("\xe1\x85\x9f\xe1\x85\xa0", 0), "<U+115F><U+1160>");
    assert_string_equal(safe("\xef\xbe\xa0", 0), "<U+FFA0>");
    /* U+FFFC, U+FFFD, U+3165 and U+1161 are visible */
    assert_string_equal(safe("\xef\xbf\xbc\xef\xbf\xbd", 0), "\xef\xbf\xbc\xef\xbf\xbd");
    assert_string_equal(safe("\xe3\x85\xa5\xe1\x85\xa1", 0), "\xe3\x85\xa5\xe1\x85\xa1");
}

static void test_ordinary_unicode_is_unchanged(void **state)
{
    (void)state;
    const char *s = "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x91\x8d e\xcc\x81 \xe2\x80\xa6";
    assert_string_equal(safe(s, 0), s);
    assert_string_equal(safe("", 0), "");
}

/* --- invalid UTF-8 ---------------------------------------------------------- */

#define FFFD "\xef\xbf\xbd"

static void test_invalid_utf8_becomes_fffd_per_byte(void **state)
{
    (void)state;
    assert_string_equal(safe("a\xff" "b", 0), "a" FFFD "b");
    assert_string_equal(safe("\x80", 0), FFFD);                     /* lone continuation */
    assert_string_equal(safe("x\xe2\x82", 0), "x" FFFD FFFD);       /* truncated at end */
    assert_string_equal(safe("\xe2\x82y", 0), FFFD FFFD "y");       /* truncated mid */
    assert_string_equal(safe("\xc0\xaf", 0), FFFD FFFD);            /* overlong '/' */
    assert_string_equal(safe("\xe0\x80\xaf", 0), FFFD FFFD FFFD);   /* overlong, 3 bytes */
    assert_string_equal(safe("\xed\xa0\x80", 0), FFFD FFFD FFFD);   /* surrogate */
    assert_string_equal(safe("\xf4\x90\x80\x80", 0), FFFD FFFD FFFD FFFD); /* > U+10FFFF */
    assert_string_equal(safe("\xf8\x88\x80\x80\x80", 0), FFFD FFFD FFFD FFFD FFFD);
    /* The last valid code points on either side of the holes pass. */
    assert_string_equal(safe("\xed\x9f\xbf\xf4\x8f\xbf\xbf", 0), "\xed\x9f\xbf\xf4\x8f\xbf\xbf");
    /* A bad byte does not swallow the ESC after it. */
    assert_string_equal(safe("\xe2\x1b[2J", 0), FFFD "^[[2J");
}

/* --- multiline and tabs ----------------------------------------------------- */

static void test_newline_kept_only_in_multiline(void **state)
{
    (void)state;
    assert_string_equal(safe("line1\nline2", VG_TEXT_MULTILINE), "line1\nline2");
    assert_string_equal(safe("line1\nline2", 0), "line1^Jline2");
    /* CR is a control even in notes: it would overwrite the line. */
    assert_string_equal(safe("ok\r\n", VG_TEXT_MULTILINE), "ok^M\n");
}

static void test_tab_expands_to_next_stop(void **state)
{
    (void)state;
    assert_string_equal(safe("a\tb", VG_TEXT_MULTILINE), "a       b");
    assert_string_equal(safe("\tb", VG_TEXT_MULTILINE), "        b");
    assert_string_equal(safe("12345678\tx", VG_TEXT_MULTILINE), "12345678        x");
    assert_string_equal(safe("abc\n\tx", VG_TEXT_MULTILINE), "abc\n        x");
    assert_string_equal(safe("ab\t\tc", VG_TEXT_MULTILINE), "ab              c");
    /* A wide character takes two columns before the stop. */
    assert_string_equal(safe("\xe6\x97\xa5\tx", VG_TEXT_MULTILINE), "\xe6\x97\xa5      x");
    /* A caret pair takes two. */
    assert_string_equal(safe("\x1b\tx", VG_TEXT_MULTILINE), "^[      x");
    assert_string_equal(safe("a\tb", 0), "a^Ib");
}

/* --- ASCII mode ------------------------------------------------------------- */

static void test_ascii_mode_is_pure_ascii(void **state)
{
    (void)state;
    assert_string_equal(safe("caf\xc3\xa9", VG_TEXT_ASCII), "caf<U+00E9>");
    assert_string_equal(safe("\xf0\x9f\x91\x8d", VG_TEXT_ASCII), "<U+1F44D>");
    assert_string_equal(safe("\xff", VG_TEXT_ASCII), "<U+FFFD>");
    assert_string_equal(safe("\xe2\x80\xae\x1b", VG_TEXT_ASCII), "<U+202E>^[");
    assert_string_equal(safe("a\nb", VG_TEXT_ASCII | VG_TEXT_MULTILINE), "a\nb");

    const char *mixed = "\xe6\x97\xa5\xe6\x9c\xac \xc2\x9b \xed\xa0\x80 \xc3\xa9\xe2\x80\x8b";
    const char *out = safe(mixed, VG_TEXT_ASCII);
    for (const unsigned char *p = (const unsigned char *)out; *p; p++)
        assert_true(*p < 0x80);
}

/* --- truncation -------------------------------------------------------------- */

#define ELL "\xe2\x80\xa6"

static void test_truncates_with_ellipsis(void **state)
{
    (void)state;
    char out[8];
    size_t n = vg_text_safe("abcdefghij", 10, 0, out, sizeof out);
    assert_string_equal(out, "abcd" ELL);
    assert_int_equal(n, 7);

    /* Exactly fitting text is not cut. */
    n = vg_text_safe("abcdefg", 7, 0, out, sizeof out);
    assert_string_equal(out, "abcdefg");
    assert_int_equal(n, 7);

    n = vg_text_safe("abcdefghij", 10, VG_TEXT_ASCII, out, sizeof out);
    assert_string_equal(out, "abcd...");
}

static void test_truncation_never_splits_a_code_point(void **state)
{
    (void)state;
    char out[8];
    /* "a" + four e-acute: room for 4 bytes before the ellipsis, a second é would
     * straddle the limit. */
    vg_text_safe("a\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 9, 0, out, sizeof out);
    assert_string_equal(out, "a\xc3\xa9" ELL);
    assert_true(vg_utf8_valid(out, strlen(out)));

    /* Nor a marker or a caret pair. */
    char big[12];
    vg_text_safe("ab\xe2\x80\xae" "cd", 7, 0, big, sizeof big);
    assert_string_equal(big, "ab" ELL);
    vg_text_safe("abcdef\x1bxyz", 10, 0, big, 10);
    assert_string_equal(big, "abcdef" ELL);
    vg_text_safe("abcde\x1bxyz", 9, 0, big, 10);
    assert_string_equal(big, "abcde" ELL);
}

static void test_tiny_buffers_stay_terminated(void **state)
{
    (void)state;
    const char *s = "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e text";
    char buf[8];

    memset(buf, 'Z', sizeof buf);
    assert_int_equal(vg_text_safe(s, strlen(s), 0, buf, 0), 0);
    assert_int_equal(buf[0], 'Z');

    memset(buf, 'Z', sizeof buf);
    assert_int_equal(vg_text_safe(s, strlen(s), 0, buf, 1), 0);
    assert_string_equal(buf, "");
    assert_int_equal(buf[1], 'Z');

    memset(buf, 'Z', sizeof buf);
    assert_int_equal(vg_text_safe(s, strlen(s), 0, buf, 2), 1);
    assert_string_equal(buf, ".");
    assert_int_equal(buf[2], 'Z');

    memset(buf, 'Z', sizeof buf);
    assert_int_equal(vg_text_safe(s, strlen(s), 0, buf, 3), 2);
    assert_string_equal(buf, "..");
    assert_int_equal(buf[3], 'Z');

    memset(buf, 'Z', sizeof buf);
    assert_int_equal(vg_text_safe(s, strlen(s), 0, buf, 4), 3);
    assert_string_equal(buf, ELL);
    assert_int_equal(buf[4], 'Z');

    /* Short text that fits is shown whole even in a tiny buffer. */
    assert_int_equal(vg_text_safe("a", 1, 0, buf, 2), 1);
    assert_string_equal(buf, "a");
}

/* Every cut output is the uncut output's prefix plus an ellipsis, at every size. */
static void test_every_size_cuts_cleanly(void **state)
{
    (void)state;
    const char *s = "t\xc3\xa9st \x1b]52;c;x\x07 \xe2\x80\xae\xe6\x97\xa5\xff\xf0\x9f\x91\x8d\tend";
    for (int flags = 0; flags < 4; flags++) {
        char full[512];
        size_t fn = vg_text_safe(s, strlen(s), flags, full, sizeof full);
        const char *ell = (flags & VG_TEXT_ASCII) ? "..." : ELL;
        for (size_t outsz = 1; outsz <= fn + 2; outsz++) {
            char *out = malloc(outsz); /* exact size: ASan catches any overrun */
            assert_non_null(out);
            size_t n = vg_text_safe(s, strlen(s), flags, out, outsz);
            assert_true(n < outsz);
            assert_int_equal(strlen(out), n);
            if (n == fn) {
                assert_memory_equal(out, full, n);
            } else if (outsz > 3) {
                assert_true(n >= 3);
                assert_memory_equal(out + n - 3, ell, 3);
                assert_memory_equal(out, full, n - 3);
                assert_inert(out, n, flags);
            }
            free(out);
        }
    }
}

static void test_dup_is_never_cut(void **state)
{
    (void)state;
    char *in = malloc(10001);
    assert_non_null(in);
    memset(in, '\x1b', 10000);
    in[10000] = '\0';
    char *out = vg_text_safe_dup(in, 0);
    assert_int_equal(strlen(out), 20000);
    assert_memory_equal(out, "^[^[^[", 6);
    assert_string_equal(out + 19998, "^[");
    free(out);
    free(in);

    out = vg_text_safe_dup("a\tb\n\xc2\x9b\xff", VG_TEXT_MULTILINE);
    assert_string_equal(out, "a       b\n<U+009B>" FFFD);
    free(out);
    out = vg_text_safe_dup("", 0);
    assert_string_equal(out, "");
    free(out);
}

/* --- width and fit ----------------------------------------------------------- */

static void test_width_counts_columns(void **state)
{
    (void)state;
    assert_int_equal(vg_text_width(""), 0);
    assert_int_equal(vg_text_width("abc"), 3);
    assert_int_equal(vg_text_width("\xe6\x97\xa5\xe6\x9c\xac"), 4);        /* CJK: 2 each */
    assert_int_equal(vg_text_width("e\xcc\x81"), 1);                        /* combining */
    assert_int_equal(vg_text_width("a\xcc\x81\xcc\x82\xcc\x83z"), 2);
    assert_int_equal(vg_text_width("caf\xc3\xa9"), 4);
    assert_int_equal(vg_text_width(ELL), 1);
}

static void test_fit_pads_and_cuts(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(vg_text_fit("ab", 5, true, false, out), 5);
    assert_string_equal(out, "ab   ");
    assert_int_equal(vg_text_fit("ab", 5, false, false, out), 2);
    assert_string_equal(out, "ab");
    vg_text_fit("abcde", 5, true, false, out);
    assert_string_equal(out, "abcde");
    vg_text_fit("abcdefgh", 5, false, false, out);
    assert_string_equal(out, "abcd" ELL);
    vg_text_fit("abcdefgh", 5, true, true, out);
    assert_string_equal(out, "ab...");
    vg_text_fit("abcdefgh", 2, false, true, out);
    assert_string_equal(out, "..");
    assert_int_equal(vg_text_fit("abc", 0, true, false, out), 0);
    assert_string_equal(out, "");
}

static void test_fit_respects_wide_characters(void **state)
{
    (void)state;
    char out[64];
    /* 日本語 is 6 columns; in 4 only 日 fits before the ellipsis. */
    vg_text_fit("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 4, true, false, out);
    assert_string_equal(out, "\xe6\x97\xa5" ELL " ");
    assert_int_equal(vg_text_width(out), 4);
    /* Padding to a width with a wide character inside. */
    vg_text_fit("\xe6\x97\xa5x", 5, true, false, out);
    assert_string_equal(out, "\xe6\x97\xa5x  ");
    /* Combining marks stay with their letter. */
    vg_text_fit("e\xcc\x81", 3, true, false, out);
    assert_string_equal(out, "e\xcc\x81  ");
    for (size_t cols = 0; cols < 12; cols++) {
        vg_text_fit("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe6\x97\xa5\xe6\x9c\xac", cols, true,
                    false, out);
        assert_int_equal(vg_text_width(out), cols);
        assert_true(vg_utf8_valid(out, strlen(out)));
    }
}

static void test_fit_stays_in_buffer_with_zero_width_flood(void **state)
{
    (void)state;
    char in[2 + 200 * 2 + 1];
    in[0] = 'a';
    for (int i = 0; i < 200; i++)
        memcpy(in + 1 + 2 * i, "\xcc\x81", 2);
    memcpy(in + 401, "b", 2);
    for (size_t cols = 0; cols < 6; cols++) {
        char *out = malloc(4 * cols + 4); /* the documented minimum, exactly */
        assert_non_null(out);
        size_t n = vg_text_fit(in, cols, true, false, out);
        assert_int_equal(strlen(out), n);
        assert_true(n < 4 * cols + 4);
        assert_true(vg_utf8_valid(out, n));
        assert_int_equal(vg_text_width(out), cols);
        free(out);
    }
}

/* --- UTF-8 validation and repair ---------------------------------------------- */

/* Pieces of s wrapped to cols, joined by '|'. */
static void wrap_join(const char *s, size_t cols, char *out, size_t outsz)
{
    size_t len = 0;
    out[0] = '\0';
    for (const char *p = s, *next; *p; p = next) {
        size_t k = vg_text_break(p, cols, &next);
        assert_true(k > 0);
        assert_true(next > p);
        int w = snprintf(out + len, outsz - len, "%s%.*s", len ? "|" : "", (int)k, p);
        assert_true(w > 0 && (size_t)w < outsz - len);
        len += (size_t)w;
    }
}

static void test_break_wraps_at_spaces(void **state)
{
    (void)state;
    char out[256];
    wrap_join("the quick brown fox jumps", 10, out, sizeof out);
    assert_string_equal(out, "the quick|brown fox|jumps");
    wrap_join("short", 10, out, sizeof out);
    assert_string_equal(out, "short");
    wrap_join("exactly 10", 10, out, sizeof out); /* a piece may fill the line */
    assert_string_equal(out, "exactly 10");
    wrap_join("two  spaces   between", 5, out, sizeof out);
    assert_string_equal(out, "two|space|s|betwe|en");
    /* a word longer than the line is cut, and nothing is lost */
    wrap_join("C:\\Users\\Public\\dropper.exe ran", 12, out, sizeof out);
    assert_string_equal(out, "C:\\Users\\Pub|lic\\dropper.|exe ran");
    /* indentation is kept, never a piece of its own */
    wrap_join("    indented text here", 12, out, sizeof out);
    assert_string_equal(out, "    indented|text here");
    const char *next;
    assert_int_equal(vg_text_break("", 10, &next), 0);
    assert_int_equal(vg_text_break("abc", 0, &next), 1); /* always progress */
}

static void test_break_counts_columns_not_bytes(void **state)
{
    (void)state;
    char out[256];
    /* é is two bytes and one column; 日本 two wide characters, four columns */
    wrap_join("caf\u00e9 caf\u00e9 caf\u00e9", 9, out, sizeof out);
    assert_string_equal(out, "caf\u00e9 caf\u00e9|caf\u00e9");
    wrap_join("\u65e5\u672c\u65e5\u672c\u65e5", 5, out, sizeof out);
    assert_string_equal(out, "\u65e5\u672c|\u65e5\u672c|\u65e5");
    /* a cut never splits a code point */
    const char *next;
    size_t k = vg_text_break("\u00e9\u00e9\u00e9", 2, &next);
    assert_int_equal(k, 4);
    assert_string_equal(next, "\u00e9");
}

static void test_utf8_valid(void **state)
{
    (void)state;
    assert_true(vg_utf8_valid("", 0));
    assert_true(vg_utf8_valid("plain", 5));
    assert_true(vg_utf8_valid("\xe2\x82\xac\xf0\x9f\x91\x8d", 7));
    assert_true(vg_utf8_valid("\x1b\x7f", 2)); /* controls are valid UTF-8 */
    assert_false(vg_utf8_valid("\xe2\x82\xac", 2)); /* cut by len */
    assert_false(vg_utf8_valid("\xff", 1));
    assert_false(vg_utf8_valid("\xc0\xaf", 2));
    assert_false(vg_utf8_valid("\xed\xa0\x80", 3));
    assert_false(vg_utf8_valid("\xf4\x90\x80\x80", 4));
    assert_false(vg_utf8_valid("a\x80", 2));
}

static void test_utf8_repair(void **state)
{
    (void)state;
    char *out = vg_utf8_repair("a\xff" "b\xc0\xaf");
    assert_string_equal(out, "a" FFFD "b" FFFD FFFD);
    assert_true(vg_utf8_valid(out, strlen(out)));
    free(out);

    /* Valid text, controls included, is left alone for the JSON encoder. */
    out = vg_utf8_repair("caf\xc3\xa9 \x1b[2J \xe2\x80\xae");
    assert_string_equal(out, "caf\xc3\xa9 \x1b[2J \xe2\x80\xae");
    free(out);

    out = vg_utf8_repair("\xf4\x90\x80\x80\xe2\x82");
    assert_string_equal(out, FFFD FFFD FFFD FFFD FFFD FFFD);
    free(out);
}

/* --- property test -------------------------------------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

static void test_random_bytes_come_out_inert(void **state)
{
    (void)state;
    /* Pieces that random bytes would rarely hit on their own. */
    static const char *const pieces[] = {
        "\x1b]52;c;", "\x1b[2J", "\xc2\x9b", "\xe2\x80\xae", "\xe2\x81\xa6", "\xe2\x80\x8b",
        "\xef\xbb\xbf", "\xc2\xad", "\xf3\xa0\x81\x81", "\xd8\x9c", "\xe2\x80\xa8", "\xe6\x97\xa5",
        "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\xaf", "\t", "\n", "\x7f",
        "\xe2\x81\xa5", "\xef\xbf\xba", "\xcd\x8f", "\xf3\xa0\x85\x80", "\xe3\x85\xa4",
    };
    static const int flag_sets[] = {0, VG_TEXT_MULTILINE, VG_TEXT_ASCII,
                                    VG_TEXT_MULTILINE | VG_TEXT_ASCII};
    unsigned char in[96];
    char out[1024];

    for (int iter = 0; iter < 10000; iter++) {
        size_t len = rng() % 64, n = 0;
        while (n < len) {
            if (rng() % 4 == 0) {
                const char *pc = pieces[rng() % (sizeof pieces / sizeof pieces[0])];
                size_t pl = strlen(pc);
                memcpy(in + n, pc, pl);
                n += pl;
            } else {
                in[n++] = (unsigned char)rng();
            }
        }
        int flags = flag_sets[iter % 4];
        size_t outsz = iter % 3 == 0 ? 1 + rng() % 64 : sizeof out;
        size_t m = vg_text_safe((const char *)in, n, flags, out, outsz);
        assert_true(m < outsz);
        assert_inert(out, m, flags);
        assert_true(vg_utf8_valid(out, m));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_osc52_clipboard_is_inert),
        cmocka_unit_test(test_csi_clear_screen_is_inert),
        cmocka_unit_test(test_c0_and_del_in_caret_notation),
        cmocka_unit_test(test_c1_csi_is_marked),
        cmocka_unit_test(test_rlo_file_name_is_marked),
        cmocka_unit_test(test_other_bidi_controls_are_marked),
        cmocka_unit_test(test_zero_width_and_invisible_are_marked),
        cmocka_unit_test(test_more_invisible_are_marked),
        cmocka_unit_test(test_ordinary_unicode_is_unchanged),
        cmocka_unit_test(test_invalid_utf8_becomes_fffd_per_byte),
        cmocka_unit_test(test_newline_kept_only_in_multiline),
        cmocka_unit_test(test_tab_expands_to_next_stop),
        cmocka_unit_test(test_ascii_mode_is_pure_ascii),
        cmocka_unit_test(test_truncates_with_ellipsis),
        cmocka_unit_test(test_truncation_never_splits_a_code_point),
        cmocka_unit_test(test_tiny_buffers_stay_terminated),
        cmocka_unit_test(test_every_size_cuts_cleanly),
        cmocka_unit_test(test_dup_is_never_cut),
        cmocka_unit_test(test_width_counts_columns),
        cmocka_unit_test(test_fit_pads_and_cuts),
        cmocka_unit_test(test_fit_respects_wide_characters),
        cmocka_unit_test(test_fit_stays_in_buffer_with_zero_width_flood),
        cmocka_unit_test(test_break_wraps_at_spaces),
        cmocka_unit_test(test_break_counts_columns_not_bytes),
        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_utf8_repair),
        cmocka_unit_test(test_random_bytes_come_out_inert),
    };
    return cmocka_run_group_tests(tests, setup_locale, NULL);
}
