/*
 * inject.c — flagging instruction-like text in fenced data.
 *
 * Alert titles, log lines and file names are written by attackers, and a model
 * reads them next to the analyst's question. The fence and the system rule tell
 * the model that fenced text is data; this detector is the second line: a turn
 * whose data looks like instructions is marked, and its proposals can never be
 * applied without the analyst (cop_policy_decide). It is a tripwire, not a proof:
 * it errs towards flagging, since a false flag costs one keypress.
 *
 * What it sees: the text after cop_clean (NFKC, invisible characters gone), folded
 * to lower-case words of letters and digits separated by single spaces, once with
 * leetspeak folded inside words (0->o, 1->i, 3->e, 4->a, 5->s, 7->t, @->a, $->s),
 * once more with 1, l, ! and | all read as i (against patterns spelt the same
 * way), and every base64 run of 16 or more characters that decodes to text, two
 * levels deep. Patterns are POSIX extended regular expressions over the folded
 * words (role markers over the raw lower-cased text, where their punctuation is;
 * a fake fence counts as one).
 */
#include "copilot.h"

#include <ctype.h>
#include <regex.h>
#include <sodium.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/ioc.h"
#include "vigil/text.h"

typedef struct pattern {
    int reason;
    bool raw;          /* match the lower-cased text rather than the folded words */
    const char *hints; /* the regex can match only if one of these (|-separated) is
                        * in the text: a substring filter that spares most fields
                        * the regex engine */
    const char *re;
} pattern;

#define SOME "([a-z0-9]+ ){0,4}"
static const pattern patterns[] = {
    {COP_INJ_IGNORE, false, "ignor|disregard|forget|overrid|bypass|skip|drop",
     "(ignore|disregard|forget|override|bypass|skip|drop) " SOME
     "(previous|prior|above|earlier|preceding|former|original|system|all|your|any) "
     "([a-z]+ )?(instruction|prompt|rule|direction|guideline|message|context|order)"},
    {COP_INJ_IGNORE, false, "ignor|disregard|forget",
     "(ignore|disregard|forget) (everything|all) (above|before|said)"},
    {COP_INJ_IGNORE, false, "new ", "new (instructions|rules|task) (are|is|follow)"},
    {COP_INJ_PERSONA, false,
     "you are now|from now on|pretend|act as|developer mode|jailbreak|anything now",
     "you are now|from now on,? you|pretend (to be|you are)|"
     "act as (a|an|the|my) |developer mode|jailbreak|do anything now"},
    {COP_INJ_ROLE, true, ":", "(^|\n)[ #>*]*(system|assistant|developer|user|human|ai) ?:"},
    {COP_INJ_ROLE, true, "<<<|>>>|case-data|system|assistant",
     "<<<|>>>|case-data nonce|(system|assistant) ?: "},
    {COP_INJ_ROLE, true, "<|[|#",
     "<\\|?(im_start|im_end|system|assistant|endoftext)|\\[/?inst\\]|"
     "<</?sys>>|#+ ?(system|instruction|response)|</?(system|assistant)>"},
    {COP_INJ_ACTION, false, "clos|resolv|dismiss|delet|remov|suppress|archiv|ignor|discard|reject",
     "(close|resolve|dismiss|delete|remove|suppress|archive|ignore|discard|reject) "
     "(this |the |these |that |all |every |any |it |of )*"
     "(case|cases|alert|alerts|incident|incidents|ticket|tickets|finding|findings|detection)"},
    {COP_INJ_ACTION, false, "false positive|benign|resolved|closed|not malicious|harmless",
     "(mark|flag|set|classify|label|treat|tag|resolve|close|report) " SOME
     "(as |to )?(a )?(false positive|benign|resolved|closed|not malicious|harmless)"},
    {COP_INJ_ACTION, false, "false positive|benign|harmless|not malicious",
     "(this|it) is (a )?(false positive|benign|harmless|not malicious)"},
    {COP_INJ_ACTION, false, "set ", "set (the )?(status|severity|resolution) to"},
    {COP_INJ_REVEAL, false, "prompt|instruction|rules|nonce",
     "(reveal|show|print|repeat|output|display|leak|dump|tell me|give me|what (is|are|were)) "
     SOME "(system prompt|prompt|instructions|hidden rules|initial instructions|your rules|nonce)"},
    {COP_INJ_CONTACT, false,
     "send|forward|mail|contact|post|upload|exfiltrat|notify|message|reach out|report|call|"
     "text|ping|submit|transmit|curl|wget|fetch|visit|open",
     "(send|forward|email|e mail|mail|contact|post|upload|exfiltrate|notify|message|reach out|"
     "report|call|text|ping|submit|transmit|curl|wget|fetch|visit|open) " SOME
     "(to|at|via|on|http|https|hxxp|www) "},
};
#define NPATTERNS (sizeof patterns / sizeof patterns[0])

/* [0]: as written; [1]: with every l read as i, matched against text whose 1, l,
 * ! and | are all i, so "c1ose th1s" matches whichever letter each 1 stands for. */
static regex_t compiled[2][NPATTERNS];
static char hints_li[NPATTERNS][160]; /* the hints spelt for table [1] */
static bool ready;

static bool compiled_ok[2][NPATTERNS];

/* The hints for table [1]; the regexes themselves are compiled on first use
 * (regex), since clean text never needs most of them and compiling all costs a
 * millisecond of every `vigil ask`. */
static void compile_all(void)
{
    if (ready)
        return;
    for (size_t i = 0; i < NPATTERNS; i++) {
        snprintf(hints_li[i], sizeof hints_li[i], "%s", patterns[i].hints);
        for (char *q = hints_li[i]; *q; q++)
            if (*q == 'l')
                *q = 'i';
    }
    ready = true;
}

static const regex_t *regex(int table, size_t i)
{
    if (!compiled_ok[table][i]) {
        /* Folded words match from a word start ("disclose the case" is no "close"). */
        char re[1024];
        snprintf(re, sizeof re, patterns[i].raw ? "%s" : "(^| )(%s)", patterns[i].re);
        if (table == 1 && !patterns[i].raw)
            for (char *q = re; *q; q++)
                if (*q == 'l')
                    *q = 'i';
        if (regcomp(&compiled[table][i], re, REG_EXTENDED | REG_NOSUB | REG_NEWLINE) != 0) {
            fprintf(stderr, "vigil: copilot: bad detector pattern %zu\n", i);
            abort();
        }
        compiled_ok[table][i] = true;
    }
    return &compiled[table][i];
}

/* Fold to lower-case words: letters and digits, each run of anything else one
 * space. leet folds digits and symbols that stand for letters; l_as_i reads 1, l,
 * ! and | all as i (see compiled[1]). Non-ASCII is kept as a word character. */
static char *fold(const char *s, bool leet, bool l_as_i)
{
    size_t n = strlen(s);
    char *out = vg_xmalloc(n + 2);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        char c = (char)tolower(ch);
        /* A digit or symbol stands for a letter only inside a word ("c1ose",
         * "pr3v10us"); "WS-12" and "10:40" stay as they are. */
        bool in_word = (i > 0 && isalpha((unsigned char)s[i - 1])) ||
                       (i + 1 < n && isalpha((unsigned char)s[i + 1]));
        if (leet && in_word) {
            switch (c) {
            case '0': c = 'o'; break;
            case '1': c = 'i'; break;
            case '!': c = 'i'; break;
            case '3': c = 'e'; break;
            case '4': c = 'a'; break;
            case '5': c = 's'; break;
            case '7': c = 't'; break;
            case '@': c = 'a'; break;
            case '$': c = 's'; break;
            case '|': c = 'i'; break;
            default: break;
            }
        }
        if (l_as_i && c == 'l')
            c = 'i';
        if (isalnum((unsigned char)c) || ch >= 0x80) {
            out[o++] = c;
        } else if (o && out[o - 1] != ' ') {
            out[o++] = ' ';
        }
    }
    if (o && out[o - 1] != ' ')
        out[o++] = ' '; /* so "word " patterns match at the end */
    out[o] = '\0';
    return out;
}

/* The pairs of adjacent bytes in a text, hashed into 1024 bits: a hint whose
 * first two bytes are not there is not in the text, and most are not. */
typedef struct bigrams {
    uint64_t bits[16];
} bigrams;

static unsigned bigram(unsigned char a, unsigned char b) { return (a * 31u + b) & 1023u; }

static void bigrams_of(const char *t, size_t len, bigrams *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i + 1 < len; i++) {
        unsigned h = bigram((unsigned char)t[i], (unsigned char)t[i + 1]);
        out->bits[h >> 6] |= 1ull << (h & 63);
    }
}

/* Does text[0..len) hold one of the |-separated hints? */
static bool hinted(const char *text, size_t len, const bigrams *bg, const char *hints)
{
    while (*hints) {
        size_t n = strcspn(hints, "|");
        unsigned h = n > 1 ? bigram((unsigned char)hints[0], (unsigned char)hints[1]) : 0;
        if ((n < 2 || (bg->bits[h >> 6] >> (h & 63) & 1)) && memmem(text, len, hints, n))
            return true;
        hints += n + (hints[n] == '|');
    }
    return false;
}

static int match_words(const char *words, bool raw, int table)
{
    int reasons = 0;
    size_t len = strlen(words);
    bigrams bg;
    bigrams_of(words, len, &bg);
    for (size_t i = 0; i < NPATTERNS; i++)
        if (patterns[i].raw == raw && !(reasons & patterns[i].reason) &&
            hinted(words, len, &bg, table ? hints_li[i] : patterns[i].hints) &&
            regexec(regex(table, i), words, 0, NULL, 0) == 0)
            reasons |= patterns[i].reason;
    return reasons;
}

static bool mostly_text(const unsigned char *p, size_t n)
{
    if (n < 8 || !vg_utf8_valid((const char *)p, n))
        return false;
    size_t printable = 0;
    for (size_t i = 0; i < n; i++)
        if (p[i] >= 0x20 || p[i] == '\n' || p[i] == '\t')
            printable++;
    return printable * 10 >= n * 9;
}

static int scan(const char *text, bool clean_already, int depth);

/* Decode each base64 run (standard or URL-safe alphabet) and scan what is text. */
static int scan_base64(const char *s, int depth)
{
    int reasons = 0;
    const char *p = s;
    while (*p) {
        size_t run = 0;
        while (p[run] && (isalnum((unsigned char)p[run]) || p[run] == '+' || p[run] == '/' ||
                          p[run] == '-' || p[run] == '_'))
            run++;
        size_t pad = 0;
        while (p[run + pad] == '=' && pad < 2)
            pad++;
        if (run >= 16) {
            size_t cap = (run + pad) / 4 * 3 + 3, got = 0;
            unsigned char *bin = vg_xmalloc(cap + 1);
            const int variants[2] = {sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
                                     sodium_base64_VARIANT_URLSAFE_NO_PADDING};
            for (int v = 0; v < 2; v++) {
                if (sodium_base642bin(bin, cap, p, run, NULL, &got, NULL, variants[v]) == 0 &&
                    mostly_text(bin, got)) {
                    bin[got] = '\0';
                    reasons |= scan((const char *)bin, false, depth + 1);
                    break;
                }
            }
            free(bin);
        }
        p += run + pad;
        if (*p)
            p++;
    }
    return reasons;
}

static int scan(const char *text, bool clean_already, int depth)
{
    char *clean = clean_already ? vg_xstrdup(text) : cop_clean(text, 1 << 20, true);
    int reasons = 0;
    char *lower = vg_xstrdup(clean);
    for (char *q = lower; *q; q++)
        *q = (char)tolower((unsigned char)*q);
    reasons |= match_words(lower, true, 0);
    free(lower);
    char *plain = fold(clean, false, false), *leet = fold(clean, true, false),
         *li = fold(clean, true, true);
    reasons |= match_words(plain, false, 0);
    if (strcmp(leet, plain) != 0) /* most text has no leetspeak: one pass less */
        reasons |= match_words(leet, false, 0);
    reasons |= match_words(li, false, 1);
    free(plain);
    free(leet);
    free(li);
    /* "contact" counts only when an address is there to contact. */
    if (reasons & COP_INJ_CONTACT) {
        vg_ioc_list l = {0};
        vg_ioc_extract(clean, strlen(clean), &l);
        bool addr = false;
        for (size_t i = 0; i < l.n; i++)
            if (l.items[i].kind == VG_IOC_EMAIL || l.items[i].kind == VG_IOC_URL ||
                l.items[i].kind == VG_IOC_DOMAIN || l.items[i].kind == VG_IOC_IPV4 ||
                l.items[i].kind == VG_IOC_IPV6)
                addr = true;
        vg_ioc_list_free(&l);
        if (!addr)
            reasons &= ~COP_INJ_CONTACT;
    }
    if (depth < 2)
        reasons |= scan_base64(clean, depth);
    free(clean);
    return reasons;
}

int cop_inject_scan(const char *text)
{
    compile_all();
    return text && *text ? scan(text, false, 0) : 0;
}

int cop_inject_scan_clean(const char *clean)
{
    compile_all();
    return clean && *clean ? scan(clean, true, 0) : 0;
}

void cop_inject_names(int reasons, char *out, size_t outsz)
{
    static const char *const names[] = {"ignore-instructions", "role-marker", "persona",
                                        "close/dismiss", "reveal-prompt", "contact-address"};
    size_t o = 0;
    out[0] = '\0';
    for (int i = 0; i < 6; i++)
        if (reasons & (1 << i)) {
            int k = snprintf(out + o, outsz - o, "%s%s", o ? ", " : "", names[i]);
            if (k < 0 || (size_t)k >= outsz - o)
                break;
            o += (size_t)k;
        }
}
