/*
 * text.h — making data safe to show on a terminal (DESIGN.md rule 5).
 *
 * Every string that came from data (a title, a note, an alert field, a file name)
 * passes vg_text_safe() before it reaches a terminal. Alert fields are written by
 * attackers: an OSC 52 sequence in a title must not write the analyst's clipboard,
 * a CSI sequence must not clear or repaint the screen, and `invoice<U+202E>fdp.exe`
 * must not look like a PDF. What it does, byte by byte:
 *
 *   C0 controls (0x00-0x1F) and DEL   caret notation: ESC -> "^[", BEL -> "^G", DEL -> "^?"
 *                                     (with VG_TEXT_MULTILINE, '\n' is kept and '\t' becomes
 *                                     spaces to the next multiple of 8 columns; otherwise both
 *                                     are shown as "^J" / "^I")
 *   C1 controls (U+0080-U+009F)       "<U+009B>"
 *   bidi controls U+202A-U+202E,
 *     U+2066-U+2069, U+200E, U+200F,
 *     U+061C                          "<U+202E>" etc.
 *   zero-width and invisible format
 *     U+200B-U+200D, U+2060-U+2065,
 *     U+206A-U+206F, U+FEFF, U+00AD,
 *     U+180E, U+034F, U+FFF9-U+FFFB,
 *     U+2028, U+2029, tags U+E0000-U+E007F,
 *     variation selectors U+E0100-U+E01EF,
 *     Hangul fillers U+115F, U+1160,
 *     U+3164, U+FFA0                  "<U+200B>" etc.
 *   invalid UTF-8 (bad lead, bad continuation, truncated, overlong, surrogates,
 *     above U+10FFFF)                 U+FFFD for each offending byte
 *   everything else                   unchanged
 *
 * With VG_TEXT_ASCII (a terminal without a UTF-8 locale) every remaining non-ASCII
 * code point is shown as "<U+XXXX>" (U+FFFD included), so the output is pure ASCII.
 * The function never fails: the output is capped at `cap` display bytes and ends
 * with "…" ("..." in ASCII mode) when cut.
 */
#ifndef VIGIL_TEXT_H
#define VIGIL_TEXT_H

#include <stddef.h>
#include <stdbool.h>

enum {
    VG_TEXT_MULTILINE = 1 << 0, /* keep newlines (notes, descriptions) */
    VG_TEXT_ASCII = 1 << 1,     /* output pure ASCII */
};

/* Write the safe form of s[0..len) to out (size outsz, always NUL-terminated when
 * outsz > 0), cutting with an ellipsis if it does not fit. Returns the length
 * written, excluding the terminator. */
size_t vg_text_safe(const char *s, size_t len, int flags, char *out, size_t outsz);

/* The same, into a fresh allocation the caller frees; never cut. */
char *vg_text_safe_dup(const char *s, int flags);

/* Number of terminal columns the already-safe UTF-8 string s occupies (wcwidth of
 * each code point; wide CJK counts 2, combining marks 0). */
size_t vg_text_width(const char *s);

/* Copy the already-safe s into out, cut to at most `cols` columns at a code point
 * boundary, ending in "…" (or "..." with ascii) when cut; pads with spaces to
 * exactly `cols` when pad is true. Returns bytes written. out must hold at least
 * 4*cols+4 bytes. */
size_t vg_text_fit(const char *s, size_t cols, bool pad, bool ascii, char *out);

/* Where to wrap the already-safe line s (no newline in it) to fit in cols columns:
 * the byte length of its first piece, broken after the last space that lets the
 * piece fit, else (a word longer than the line) at the last code point that fits,
 * never 0 while s is not empty; *next gets the start of the rest, the spaces at
 * the break skipped. All of s fits: its length, and *next its end. Columns are
 * counted as vg_text_width counts them. */
size_t vg_text_break(const char *s, size_t cols, const char **next);

/* The already-safe line s (no newline) wrapped to cols columns at vg_text_break's
 * places, each piece a new string handed to fn (which keeps it): the first
 * indented by first spaces, the others by rest. */
void vg_text_wrap(const char *s, size_t cols, size_t first, size_t rest,
                  void (*fn)(void *ud, char *piece), void *ud);

/* Is s[0..len) valid UTF-8? */
bool vg_utf8_valid(const char *s, size_t len);

/* Copy s into a fresh allocation with every invalid UTF-8 byte replaced by U+FFFD
 * (for JSON output, which must be UTF-8). Controls are left for the JSON encoder. */
char *vg_utf8_repair(const char *s);

#endif
