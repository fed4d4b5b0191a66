/*
 * note.c — notes are the analyst's words.
 *
 * A local model asked to "add a comment: the user clicked the link on their
 * phone" writes "Added activity log". So the text of a note is cut out of the
 * analyst's own message by fixed rules, never taken from a model, and text that
 * is only a placeholder is refused wherever it comes from. The rules, tried in
 * order on the message (case-insensitive), first match wins:
 *
 *   1. "[add|write|make|leave|put] [a|an] note|comment|remark|log entry [to|on the case]:"
 *      followed by the text                 add a note: the user clicked on their phone
 *   2. "log|note|record|write down|add a note|add a comment that" followed by the text
 *                                           log that the VPN account was disabled
 *   3. "log:" or "record:" opening the message or a sentence, followed by the text
 *                                           record: MFA re-enrolled for j.smith
 *   4. a quoted string ("...", “...”, '...') in a message that says note, comment,
 *      log or record                        please note "reset done by helpdesk"
 *
 * Surrounding quotes and white space are trimmed from the result.
 */
#include "copilot.h"

#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "log:" and "record:" only where a sentence starts: "the auth log: anything odd?"
 * asks a question, it records nothing. */
#define NRULES 3
static const char *const note_res[NRULES] = {
    "(^|[^a-z])((add|write|make|leave|put) +)?((a|an) +)?(note|comment|remark|log entry)"
    "( +(to|on) +(the|this) +case)? *:",
    "(^|[^a-z])(log|note|record|write down|add a note|add a comment) +that +",
    "(^|[.!?;\n] *)(log|record) *:",
};

static regex_t note_re[NRULES], ask_re;
static bool ready;

static void compile(void)
{
    if (ready)
        return;
    for (int i = 0; i < NRULES; i++)
        if (regcomp(&note_re[i], note_res[i], REG_EXTENDED | REG_ICASE) != 0)
            abort();
    if (regcomp(&ask_re, "(^|[^a-z])(note|comment|log|record)",
                REG_EXTENDED | REG_ICASE | REG_NOSUB))
        abort();
    ready = true;
}

/* A fresh copy of s[0..n) without surrounding white space and one pair of quotes. */
static char *trimmed(const char *s, size_t n)
{
    for (int pass = 0; pass < 2; pass++) {
        while (n && isspace((unsigned char)*s))
            s++, n--;
        while (n && isspace((unsigned char)s[n - 1]))
            n--;
        if (pass == 0 && n >= 2 && ((s[0] == '"' && s[n - 1] == '"') ||
                                    (s[0] == '\'' && s[n - 1] == '\''))) {
            s++;
            n -= 2;
        } else if (pass == 0 && n >= 6 && strncmp(s, "\xe2\x80\x9c", 3) == 0 &&
                   strncmp(s + n - 3, "\xe2\x80\x9d", 3) == 0) {
            s += 3;
            n -= 6;
        }
    }
    return n ? vg_xstrndup(s, n) : NULL;
}

/* The first quoted string in s ("...", “...”, or '...' not used as an apostrophe). */
static char *quoted(const char *s)
{
    static const char *const open[3] = {"\"", "\xe2\x80\x9c", "'"};
    static const char *const close[3] = {"\"", "\xe2\x80\x9d", "'"};
    for (int q = 0; q < 3; q++) {
        for (const char *a = strstr(s, open[q]); a; a = strstr(a + 1, open[q])) {
            if (q == 2 && a > s && isalnum((unsigned char)a[-1]))
                continue; /* an apostrophe: don't */
            const char *start = a + strlen(open[q]);
            const char *b = strstr(start, close[q]);
            if (b && b > start)
                return trimmed(start, (size_t)(b - start));
            break;
        }
    }
    return NULL;
}

char *cop_note_text(const char *msg)
{
    /* Every rule needs one of these words; most questions have none, and spare
     * the regex compiler. */
    if (!msg || (!strcasestr(msg, "note") && !strcasestr(msg, "comment") &&
                 !strcasestr(msg, "log") && !strcasestr(msg, "record") &&
                 !strcasestr(msg, "remark") && !strcasestr(msg, "write down")))
        return NULL;
    compile();
    regmatch_t m[1];
    for (int i = 0; i < NRULES; i++)
        if (regexec(&note_re[i], msg, 1, m, 0) == 0) {
            const char *rest = msg + m[0].rm_eo;
            char *t = trimmed(rest, strlen(rest));
            if (t)
                return t;
        }
    if (regexec(&ask_re, msg, 0, NULL, 0) == 0)
        return quoted(msg);
    return NULL;
}

bool cop_note_placeholder(const char *text)
{
    static const char *const exact[] = {
        "added activity log", "activity log", "activity logged", "note added", "added note",
        "added a note", "note", "notes", "comment", "comment added", "added comment",
        "added a comment", "log", "logged", "log entry", "entry added", "added entry", "done",
        "ok", "okay", "todo", "tbd", "n a", "na", "none", "null", "placeholder", "text",
        "note text", "your note here", "note here", "lorem ipsum", "see above", "updated",
        "update", "details", "information", "info", "as requested", "added", "noted",
        "note recorded", "recorded", "comment text", "insert note here", "example"};
    /* Fold to lower-case words. */
    size_t n = strlen(text);
    char *w = vg_xmalloc(n + 1);
    size_t o = 0;
    int words = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];
        if (isalnum(c) || c >= 0x80) {
            if (o == 0 || w[o - 1] == ' ')
                words++;
            w[o++] = (char)tolower(c);
        } else if (o && w[o - 1] != ' ') {
            w[o++] = ' ';
        }
    }
    while (o && w[o - 1] == ' ')
        o--;
    w[o] = '\0';
    bool bad = o < 3;
    for (size_t i = 0; !bad && i < sizeof exact / sizeof *exact; i++)
        bad = strcmp(w, exact[i]) == 0;
    /* "Added investigation notes", "Activity log updated": a short report of a
     * write rather than what was observed. */
    if (!bad && words <= 4) {
        static const char *const verbs[] = {"added", "logged", "recorded", "updated", "created",
                                            "saved"};
        static const char *const nouns[] = {"note", "notes", "log", "comment", "comments",
                                            "entry", "activity", "update", "record"};
        bool verb = false, noun = false;
        for (const char *t = w; *t;) {
            size_t l = strcspn(t, " ");
            for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++)
                verb |= strlen(verbs[i]) == l && strncmp(t, verbs[i], l) == 0;
            for (size_t i = 0; i < sizeof nouns / sizeof *nouns; i++)
                noun |= strlen(nouns[i]) == l && strncmp(t, nouns[i], l) == 0;
            t += l;
            t += strspn(t, " ");
        }
        bad = verb && noun;
    }
    free(w);
    return bad;
}
