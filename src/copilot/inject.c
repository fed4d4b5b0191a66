/*
 * inject.c — flagging instruction-like text in fenced data.
 *
 * Alert titles, log lines and file names are written by attackers, and a model
 * reads them next to the analyst's question. The fence and the system rule tell
 * the model that fenced text is data; this detector is the second line: a turn
 * whose data looks like instructions is marked, and its proposals can never be
 * applied without the analyst (cop_policy_decide). It is a tripwire, not a proof:
 * it errs towards flagging, since a false flag costs one keypress, and what it
 * misses is held back anyway when a proposal's value comes only from the data
 * (cop_untrusted_value).
 *
 * What it sees: the text after cop_clean (NFKC, invisible characters gone), with
 * every character that Unicode's confusables data says looks like ASCII letters
 * read as those letters (confusables.inc, made by scripts/gen-confusables: the
 * Cyrillic "Іgnоrе" is "lgnore"), folded to lower-case words of letters and
 * digits separated by single spaces, single letters one separator apart joined
 * into one word ("i.g.n.o.r.e", "I G N O R E"), once with leetspeak folded inside
 * words (0->o, 1->i, 3->e, 4->a, 5->s, 7->t, @->a, $->s), once more with 1, l, !
 * and | all read as i (against patterns spelt the same way, which is also how a
 * look-alike of I or l reads), and every base64 run of 16 or more characters that
 * decodes to text, two levels deep. Patterns are POSIX extended regular
 * expressions over the folded words (role markers, colons and "act as" at a
 * sentence start over the raw lower-cased text, where their punctuation is; a
 * fake fence counts as one).
 *
 * The phrase families come from public injection corpora (deepset's
 * prompt-injections, Lakera's gandalf_ignore_instructions, jackhhao's
 * jailbreak-classification, Microsoft's BIPIA): ignore/disregard/forget what came
 * before, new instructions, personas and jailbreaks, fake role markers and text
 * that addresses the model, asking to close or mark a case, to keep something
 * from the analyst, to reveal the prompt, to contact an address, and to dictate
 * the answer. tests/fixtures/injection-eval.tsv measures them against benign SOC
 * text (test_copilot.c, test_detector_corpus).
 *
 * libicu's spoof checker (uspoof_getSkeleton) would do the look-alike fold too,
 * but it brings ICU's 30 MB data library into a binary that is otherwise a few
 * megabytes and starts at once on a jump host, for a table of 660 rows (small
 * capitals, which confusables.txt sends to other scripts, are read by their names).
 */
#include "copilot.h"

#include <ctype.h>
#include <locale.h>
#include <regex.h>
#include <sodium.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistr.h>

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
/* what an instruction is called, and the words that point back at earlier ones */
#define NOUN "(instruction|prompt|rule|direction|guideline|message|context|order|task|" \
             "assignment|command|guidance|programming|directive|conversation)"
#define BEFORE "(previous|prior|above|earlier|preceding|former|original|initial|system|all|" \
               "your|any|those|these|every)"
#define IGNORE_VERB "(ignore|disregard|forget|override|overlook|discard|abandon|neglect|" \
                    "set aside|put aside|stop following|stop obeying|do not follow|" \
                    "don t follow|do not obey|no longer follow|never follow|pay no attention to|" \
                    "don t pay attention to|do not pay attention to)"
#define IGNORE_HINTS "ignor|disregard|forget|overrid|overlook|discard|abandon|neglect|aside|" \
                     "follow|obey|attention"
/* the model, as text planted for it names it */
#define MODEL "(ai|ai assistant|ai model|llm|language model|model|assistant|copilot|chatbot|" \
              "gpt|chatgpt) "
#define MODEL_HINTS "ai |llm|model|assistant|copilot|chatbot|gpt"
#define ANALYST "(analyst|analysts|human|humans|operator|operators|investigator|investigators|" \
                "responder|responders|soc|anyone)"
static const pattern patterns[] = {
    /* ignore what came before, and new instructions */
    {COP_INJ_IGNORE, false, IGNORE_HINTS,
     IGNORE_VERB " " SOME BEFORE " ([a-z]+ )?" NOUN},
    {COP_INJ_IGNORE, false, "ignor|disregard|forget",
     "(ignore|disregard|forget) (everything|all|anything)( that)? (above|before|said|prior|"
     "earlier|so far|you were told|you have been told|you ve been told|you know)"},
    {COP_INJ_IGNORE, false, IGNORE_HINTS,
     IGNORE_VERB " (what|everything|anything|all|whatever)( that)? (you|u) (were|have been|"
     "ve been|had been|was|are|got) (told|instructed|given|taught|asked|programmed)"},
    {COP_INJ_IGNORE, false, "instruction|rules|guideline|direction|orders",
     "(the|those|these|any|all|your) (instructions|rules|guidelines|directions|orders) "
     "(you were|you have been|you ve been|you got|given to you|that were given)"},
    {COP_INJ_IGNORE, false, "ignor|disregard|forget",
     "(ignore|disregard|forget) (the |all |any |your |these |those )?" NOUN
     "s?( [a-z]+)? (above|before|earlier|so far|previously|below)"},
    {COP_INJ_IGNORE, false, "bypass|skip|circumvent|evade",
     "(bypass|skip|circumvent|evade) (your|all your|the system s) ([a-z]+ )?(instruction|rule|"
     "guideline|restriction|filter|safety)"},
    {COP_INJ_IGNORE, false, "new ", "new (instructions|rules|task|orders|directives|objective|"
                                    "goal) (are|is|follow|below)"},
    {COP_INJ_IGNORE, true, "instruction|task|orders|directive",
     "(new|updated|revised|real|actual) (instructions?|task|orders|directives?) ?:"},
    {COP_INJ_IGNORE, false, "instructions|rules|orders",
     "(updated|real|actual|true|revised|additional|new|correct) (instructions|rules|orders) "
     "(follow|are below|below|are as follows|are these)"},
    {COP_INJ_IGNORE, false, "your ",
     "your (new|real|actual|true|only|next) (task|job|goal|instructions|objective|purpose|role|"
     "mission) (is|are|now)|your (new|updated|revised|real|actual|true) (instructions|orders|"
     "rules|directives) "},
    {COP_INJ_IGNORE, false, "focus|concentrate",
     "(now|instead) (focus|concentrate) on (your|the|this|a) (new )?(task|assignment|"
     "instruction)"},
    /* personas and jailbreaks */
    {COP_INJ_PERSONA, false,
     "you are now|you re now|from now on|from this point|from here on|henceforth|going forward|"
     "pretend| mode|jailbreak|anything now",
     "you are now|you re now|(from now on|from this point( on| forward)?|from here on|"
     "henceforth|going forward),? you |pretend (to be|you are|you re)|"
     "(enable|enter|activate|switch to|switch on|turn on) (developer|dev|dan|god|jailbreak|"
     "unrestricted|evil) mode|dan mode|jailbreak (mode|prompt|enabled|activated|on)|"
     "(enable|activate|enter) jailbreak|do anything now"},
    {COP_INJ_PERSONA, false, "you ",
     "you (will|must|should|shall|are to) (now )?(behave|act|respond|answer|speak) (like|as) "},
    {COP_INJ_PERSONA, true, "act as",
     "(^|[.!?:;\n] *|please |now |you (will|must|should|shall|are to|need to|have to) |"
     "going to |want you to )act as (a|an|the|my|if) "},
    {COP_INJ_PERSONA, false, "role|imagine|no longer|name is now|behave",
     "(roleplay|role play) as|(assume|take) the role of|imagine (that )?(you are|you re)|"
     "(you are|you re) no longer|your name is now|behave as if you (are|were|have)"},
    {COP_INJ_PERSONA, false, "restrict|filter|rules|limits|censor|guideline",
     "(you|your) (have|has|are|with|now have) (no|zero) (restrictions|rules|limits|filters|"
     "guidelines|boundaries)|(respond|answer|reply|speak|talk|act) without (any )?"
     "(restrictions|filters|rules|limits|censorship|guidelines)|"
     "(unrestricted|unfiltered|uncensored) (ai|assistant|model|mode|bot|version|chatbot|llm)"},
    /* role markers, fake fences, and text addressed to the model */
    {COP_INJ_ROLE, true, ":",
     "(^|\n)[ #>*]*(system|assistant|developer) ?: *[a-z]+ [a-z]+"},
    {COP_INJ_ROLE, true, "<<<|>>>|-data nonce|system|assistant",
     "<<< ?(end )?[a-z_ -]*(data|nonce)|(case|queue)-data nonce|"
     "[.!?;>\"')]] *(system|assistant) ?: *[a-z]+ [a-z]+"},
    {COP_INJ_ROLE, true, "<|[|#",
     "<\\|?(im_start|im_end|system|assistant|endoftext)|\\[/?inst\\]|"
     "<</?sys>>|#+ ?(system|instruction|response)|</?(system|assistant)>"},
    {COP_INJ_ROLE, true, "overrid",
     "(system|admin|administrator|developer|root|operator) override ?[:!-]"},
    {COP_INJ_ROLE, false, "overrid|directive|instruction",
     "(system|admin|administrator|developer|root|operator) (override|directive|instructions?) "
     "(to|for) (the )?" MODEL},
    {COP_INJ_ROLE, false, MODEL_HINTS,
     "(note|message|memo|instructions?|attention|dear|hey|hello|hi|important|notice) "
     "((to|for) )?(the |any |all |this )?" MODEL},
    {COP_INJ_ROLE, false, MODEL_HINTS,
     "if you are (an? |the )?" MODEL "|(ai|llm|language model|copilot|chatbot|gpt) (reading|"
     "processing|analysing|analyzing|summarising|summarizing|parsing|reviewing) (this|these|the) "},
    /* close, dismiss, mark */
    {COP_INJ_ACTION, false, "clos|resolv|dismiss|delet|remov|suppress|archiv|ignor|discard|reject",
     "(close|resolve|dismiss|delete|remove|suppress|archive|ignore|discard|reject)( out| off)? "
     "(this |the |these |that |all |every |any |it |of )*"
     "(case|cases|alert|alerts|incident|incidents|ticket|tickets|finding|findings|detection)"},
    {COP_INJ_ACTION, false, "false positive|benign|resolved|closed|not malicious|harmless",
     "(mark|flag|classify|label|treat|tag) " SOME
     "(as |to )?(a )?(false positive|benign|resolved|closed|not malicious|harmless)"},
    {COP_INJ_ACTION, false, "false positive|benign|resolved|closed|not malicious|harmless",
     "(resolve|close|set|report) " SOME
     "(as|to) (a )?(false positive|benign|resolved|closed|not malicious|harmless)"},
    {COP_INJ_ACTION, false, "status|severity|resolution|priority",
     "(set|change|update|move|switch) (the )?(status|severity|resolution|priority)"
     "( of (this|the|that|its) [a-z]+)? to|(lower|downgrade|reduce|decrease|drop) "
     "(the |its |this )?(severity|priority)"},
    {COP_INJ_ACTION, false, "mark ",
     "mark (it|this|that|them|these|those|everything|all|each|every|the [a-z]+|all [a-z]+|"
     "this [a-z]+)( [a-z]+)? (as )?(done|complete|completed|resolved|closed|fixed|finished|"
     "safe|clean) "},
    {COP_INJ_ACTION, false, " be ",
     "(case|cases|alert|alerts|incident|incidents|ticket|tickets) (should|must|can|needs to|"
     "need to|is to|are to) be (closed|dismissed|resolved|ignored|suppressed|deleted|archived) "
     "(immediately|now|right away|at once|as) "},
    /* keeping something from the analyst */
    {COP_INJ_CONCEAL, false, "not |don t|dont|never|without",
     "(do not|don t|dont|never|without) (tell|telling|mention|mentioning|show|showing|reveal|"
     "revealing|say|saying) " SOME "(to )?(the |any |our )?(" ANALYST "|user|users|team|admin|"
     "admins) "},
    {COP_INJ_CONCEAL, false, "not |don t|dont|never|without",
     "(do not|don t|dont|never|without) (inform|informing|alert|alerting|notify|notifying|"
     "report|reporting|escalate|escalating|warn|warning) " SOME "(to )?(the |any )?" ANALYST " "},
    {COP_INJ_CONCEAL, false, "never|not|don t|won t",
     "(" ANALYST "|user|users|team)s? (never|does not|doesn t|do not|don t|won t|must not|should "
     "not|cannot|can t) (see|sees|notice|notices|know|knows|find|finds|learn|learns|hear|hears) "},
    {COP_INJ_CONCEAL, false, "keep |hide ",
     "keep (this|it|that|these) (hidden|secret|quiet|between us|to yourself)|"
     "hide (this|it|that) from"},
    {COP_INJ_REVEAL, false, "prompt|instruction|rules|nonce",
     "(reveal|show|print|repeat|output|display|leak|dump|recite|paste|spell out|write out|"
     "tell me|give me|what (is|are|were)) " SOME
     "(system prompt|prompt|instructions|hidden rules|initial instructions|your rules|nonce)|"
     "(reveal|show|print|repeat|output|display|dump|recite) (the |all )?(text|everything|words|"
     "content|lines)( [a-z]+)? (above|before)"},
    {COP_INJ_CONTACT, false,
     "send|forward|mail|contact|post|upload|exfiltrat|notify|message|reach out|report|call|"
     "text|ping|submit|transmit|curl|wget|fetch|visit|open",
     "(send|forward|email|e mail|mail|contact|post|upload|exfiltrate|notify|message|reach out|"
     "report|call|text|ping|submit|transmit|curl|wget|fetch|visit|open) " SOME
     "(to|at|via|on|http|https|hxxp|www) "},
    /* dictating the answer (BIPIA's indirect attacks) */
    {COP_INJ_STEER, false, "your ",
     "(in|within|into|inside) your (response|answer|output|summary)|in your reply to the "
     "(analyst|user|soc)|"
     "(encode|translate|reverse|format|rewrite|begin|start|end|prefix|phrase|render|modify|"
     "write|sign) your (response|reply|answer|output|summary)|"
     "(respond|reply|answer) only (with|in|using) "},
    {COP_INJ_STEER, false, "when you",
     "when you (summarise|summarize|answer|reply|respond|report|write|describe)( [a-z]+){0,3} "
     "(say|state|claim|write|mention|conclude|report|tell|note) "},
};
#define NPATTERNS (sizeof patterns / sizeof patterns[0])

/* [0]: as written; [1]: with every l read as i, matched against text whose 1, l,
 * ! and | are all i, so "c1ose th1s" matches whichever letter each 1 stands for. */
static regex_t compiled[2][NPATTERNS];
static char hints_li[NPATTERNS][256]; /* the hints spelt for table [1] */
static bool ready;

static bool compiled_ok[2][NPATTERNS];

/* The hints for table [1]; the regexes themselves are compiled on first use
 * (regex), since clean text never needs most of them and compiling all costs a
 * millisecond of every `vigil ask`. */
static locale_t c_locale; /* the patterns are ASCII; the folded text's words are too */

static void compile_all(void)
{
    if (ready)
        return;
    /* regcomp and regexec in the C locale: byte-wise, where the analyst's UTF-8 one
     * would decode every byte of every text into wide characters first (a third of
     * a scan) for patterns that hold no character past ASCII */
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
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
        char re[2048];
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

/* Characters that look like ASCII letters and digits, and what they look like. */
typedef struct lookalike {
    uint32_t cp;
    char to[4];
} lookalike;
static const lookalike lookalikes[] = {
#include "confusables.inc"
};

static const char *lookalike_of(ucs4_t c)
{
    size_t lo = 0, hi = sizeof lookalikes / sizeof *lookalikes;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (lookalikes[mid].cp == c)
            return lookalikes[mid].to;
        if (lookalikes[mid].cp < c)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* s (valid UTF-8) with every look-alike of ASCII letters or digits read as them.
 * Fresh. */
static char *skeleton(const char *s)
{
    size_t n = strlen(s);
    char *out = vg_xmalloc(2 * n + 1); /* two bytes become at most three letters */
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if ((unsigned char)s[i] < 0x80) {
            out[o++] = s[i++];
            continue;
        }
        ucs4_t c;
        int k = u8_mbtouc(&c, (const uint8_t *)s + i, n - i);
        if (k <= 0)
            k = 1;
        const char *to = lookalike_of(c);
        if (to) {
            size_t l = strlen(to);
            memcpy(out + o, to, l);
            o += l;
        } else {
            memcpy(out + o, s + i, (size_t)k);
            o += (size_t)k;
        }
        i += (size_t)k;
    }
    out[o] = '\0';
    return out;
}

/* Fold to lower-case words: letters and digits, each run of anything else one
 * space, except that two single letters one character apart join ("i.g.n.o.r.e",
 * "I G N O R E   A L L" is "ignore all"). leet folds digits and symbols that
 * stand for letters; l_as_i reads 1, l, ! and | all as i (see compiled[1]).
 * Non-ASCII is kept as a word character. */
static char *fold(const char *s, bool leet, bool l_as_i)
{
    size_t n = strlen(s);
    char *map = vg_xmalloc(n + 1); /* each byte as read; '\0' where it is no word byte */
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
        map[i] = isalnum((unsigned char)c) || ch >= 0x80 ? c : '\0';
    }
    char *out = vg_xmalloc(n + 2);
    size_t o = 0, prev_len = 0, prev_end = 0;
    for (size_t i = 0; i < n;) {
        if (!map[i]) {
            i++;
            continue;
        }
        size_t start = i;
        while (i < n && map[i])
            i++;
        size_t len = i - start;
        if (o && !(prev_len == 1 && len == 1 && start - prev_end == 1))
            out[o++] = ' ';
        memcpy(out + o, map + start, len);
        o += len;
        prev_len = len;
        prev_end = i;
    }
    free(map);
    if (o)
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
    locale_t was = c_locale ? uselocale(c_locale) : (locale_t)0;
    for (size_t i = 0; i < NPATTERNS; i++)
        if (patterns[i].raw == raw && !(reasons & patterns[i].reason) &&
            hinted(words, len, &bg, table ? hints_li[i] : patterns[i].hints) &&
            regexec(regex(table, i), words, 0, NULL, 0) == 0)
            reasons |= patterns[i].reason;
    if (was)
        uselocale(was);
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
    char *seen = skeleton(clean);
    char *lower = vg_xstrdup(seen);
    for (char *q = lower; *q; q++)
        *q = (char)tolower((unsigned char)*q);
    reasons |= match_words(lower, true, 0);
    free(lower);
    char *plain = fold(seen, false, false), *leet = fold(seen, true, false),
         *li = fold(seen, true, true);
    free(seen);
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
                                        "close/dismiss", "reveal-prompt", "contact-address",
                                        "conceal", "steer-answer"};
    size_t o = 0;
    out[0] = '\0';
    for (int i = 0; i < (int)(sizeof names / sizeof *names); i++)
        if (reasons & (1 << i)) {
            int k = snprintf(out + o, outsz - o, "%s%s", o ? ", " : "", names[i]);
            if (k < 0 || (size_t)k >= outsz - o)
                break;
            o += (size_t)k;
        }
}
