/*
 * intel_feed.c — reading threat-intel feeds into indicator records (contract in
 * intel.h): STIX 2.1 bundles and their patterns, MISP events and feed manifests,
 * plain lists and CSV with a type column.
 *
 * Workload: a feed file is read whole (a few KB to a few hundred MB, under the cap
 * the caller set) and every record handed to the caller as it is found, so that the
 * store can write them inside its transaction without holding the feed twice. JSON
 * goes through cJSON, which holds the document in memory: the byte cap is what keeps
 * that bounded. Lists and CSV are read a line at a time.
 *
 * Trade-off: a feed is data from outside, written by a tool vigil does not know. A
 * record vigil cannot match is kept (with what the feed said and why), never dropped
 * silently; but what is hostile rather than merely unknown — invalid UTF-8, a NUL
 * byte, a STIX pattern built to exhaust the parser (VG_INTEL_PATTERN_*) — refuses the
 * whole file, naming it and the item, because nothing good comes of half a feed. The
 * STIX pattern parser is a recursive descent over the whole 2.1 grammar with a depth
 * bound, so a valid pattern vigil does not match is told apart from one that is not a
 * pattern at all.
 */
#define _DEFAULT_SOURCE /* timegm */
#include "vigil/intel.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vigil/buf.h"
#include "vigil/ioc.h"
#include "vigil/model.h"
#include "vigil/text.h"
#include "vigil/timefmt.h"

const char *const VG_INTEL_FORMATS[VG_INTEL__NFORMATS] = {"auto", "stix", "misp", "list", "csv"};

/* ---- values ---------------------------------------------------------------------- */

/* The normalised form of raw as an indicator of type, or NULL with *why saying what
 * is wrong with it (into why[0..whysz)). The same normalisation as artifacts
 * (vg_ioc_normalise; users lower-cased as alert entities are), then a check that
 * the value can be one of its type at all, so a feed's typo never matches. */
static char *norm_value(int type, const char *raw, char *why, size_t whysz)
{
    char *v = vg_ioc_normalise(type, raw);
    size_t n = strlen(v);
    if (type == VG_AT_USER)
        for (char *p = v; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    const char *bad = NULL;
    if (!n)
        bad = "an empty value";
    else if (n > (type == VG_AT_URL ? 8192u : 2048u))
        bad = "longer than vigil matches";
    else if (!vg_utf8_valid(v, n)) /* a pattern handed over alone is not checked as a file is */
        bad = "not valid UTF-8";
    for (size_t i = 0; !bad && i < n; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
            bad = "a control character in it";
    if (!bad) {
        unsigned char a[16];
        size_t hex = strspn(v, "0123456789abcdef");
        switch (type) {
        case VG_AT_IP: {
            char *slash = strchr(v, '/');
            if (slash && (strcmp(slash, "/32") == 0 || strcmp(slash, "/128") == 0))
                *slash = '\0';
            else if (slash)
                bad = "a CIDR range, not one address";
            if (!bad && inet_pton(AF_INET, v, a) != 1 && inet_pton(AF_INET6, v, a) != 1)
                bad = "not an IP address";
            break;
        }
        case VG_AT_DOMAIN:
        case VG_AT_HOSTNAME:
            if (strpbrk(v, " /\\@:") || (type == VG_AT_DOMAIN && !strchr(v, '.')))
                bad = type == VG_AT_DOMAIN ? "not a domain name" : "not a host name";
            break;
        case VG_AT_URL:
            if (!strstr(v, "://") || strpbrk(v, " \t"))
                bad = "not a URL";
            break;
        case VG_AT_EMAIL:
            if (!strchr(v, '@') || strpbrk(v, " \t"))
                bad = "not an e-mail address";
            break;
        case VG_AT_MD5:
            bad = n == 32 && hex == n ? NULL : "not an MD5 (32 hex digits)";
            break;
        case VG_AT_SHA1:
            bad = n == 40 && hex == n ? NULL : "not a SHA-1 (40 hex digits)";
            break;
        case VG_AT_SHA256:
            bad = n == 64 && hex == n ? NULL : "not a SHA-256 (64 hex digits)";
            break;
        case VG_AT_SHA512:
            bad = n == 128 && hex == n ? NULL : "not a SHA-512 (128 hex digits)";
            break;
        case VG_AT_ASN: { /* "AS64512", as artifacts write it; a feed may give the number */
            const char *d =
                (v[0] == 'a' || v[0] == 'A') && (v[1] == 's' || v[1] == 'S') ? v + 2 : v;
            if (!*d || strspn(d, "0123456789") != strlen(d) || strlen(d) > 10) {
                bad = "not an AS number";
            } else {
                char *as = vg_xmalloc(strlen(d) + 3);
                snprintf(as, strlen(d) + 3, "AS%s", d);
                free(v);
                v = as;
            }
            break;
        }
        default:
            break;
        }
    }
    if (!bad)
        return v;
    char shown[80];
    vg_text_safe(raw, strlen(raw), VG_TEXT_ASCII, shown, sizeof shown);
    snprintf(why, whysz, "'%s' is %s", shown, bad);
    free(v);
    return NULL;
}

/* The hash type of a hex string by its length (-1: none). */
static int hash_type(const char *v)
{
    size_t n = strlen(v);
    if (strspn(v, "0123456789abcdefABCDEF") != n)
        return -1;
    return n == 32    ? VG_AT_MD5
           : n == 40  ? VG_AT_SHA1
           : n == 64  ? VG_AT_SHA256
           : n == 128 ? VG_AT_SHA512
                      : -1;
}

int vg_intel_tlp_parse(const char *s)
{
    if (!s)
        return -1;
    if (strncasecmp(s, "tlp:", 4) == 0)
        s += 4;
    if (strcasecmp(s, "white") == 0)
        return 0;
    return vg_enum_parse(&VG_TLP, s);
}

/* "2014-05-08T09:00:00.000000Z", "2014-05-08 09:00:00+02:00", "2016-09-21", or
 * seconds since the epoch ("1474460824"): milliseconds, or false. */
static bool parse_time(const char *s, int64_t *ms)
{
    if (!s)
        return false;
    while (isspace((unsigned char)*s))
        s++;
    size_t digits = strspn(s, "0123456789");
    if (digits >= 9 && digits <= 11 && s[digits] == '\0') {
        *ms = strtoll(s, NULL, 10) * 1000;
        return true;
    }
    return vg_parse_iso8601(s, ms);
}

/* ---- STIX patterns ------------------------------------------------------------- */

/* The object paths vigil matches, as the parser spells them (quotes dropped). */
static const struct {
    const char *path;
    int type;
} STIX_PATHS[] = {
    {"ipv4-addr:value", VG_AT_IP},
    {"ipv6-addr:value", VG_AT_IP},
    {"domain-name:value", VG_AT_DOMAIN},
    {"url:value", VG_AT_URL},
    {"email-addr:value", VG_AT_EMAIL},
    {"email-message:from_ref.value", VG_AT_EMAIL},
    {"email-message:sender_ref.value", VG_AT_EMAIL},
    {"network-traffic:dst_ref.value", VG_AT_IP},
    {"network-traffic:src_ref.value", VG_AT_IP},
    {"file:name", VG_AT_FILENAME},
    {"mutex:name", VG_AT_MUTEX},
    {"windows-registry-key:key", VG_AT_REGISTRY},
    {"autonomous-system:number", VG_AT_ASN},
};

/* The hash names of STIX's hash-algorithm vocabulary (and the unquoted spellings
 * tools write) that vigil keeps. */
static int stix_hash(const char *name)
{
    static const struct {
        const char *name;
        int type;
    } H[] = {{"MD5", VG_AT_MD5},        {"SHA-1", VG_AT_SHA1},    {"SHA1", VG_AT_SHA1},
             {"SHA-256", VG_AT_SHA256}, {"SHA256", VG_AT_SHA256}, {"SHA-512", VG_AT_SHA512},
             {"SHA512", VG_AT_SHA512}};
    for (size_t i = 0; i < sizeof H / sizeof *H; i++)
        if (strcasecmp(H[i].name, name) == 0)
            return H[i].type;
    return -1;
}

static int stix_path_type(const char *path)
{
    for (size_t i = 0; i < sizeof STIX_PATHS / sizeof *STIX_PATHS; i++)
        if (strcmp(STIX_PATHS[i].path, path) == 0)
            return STIX_PATHS[i].type;
    if (strncmp(path, "file:hashes.", 12) == 0)
        return stix_hash(path + 12);
    if (strncmp(path, "artifact:hashes.", 16) == 0)
        return stix_hash(path + 16);
    return -1;
}

typedef struct pparser {
    const char *s;
    size_t n, pos;
    int depth;
    size_t terms;
    bool bomb;
    char error[160]; /* a syntax error, or the bomb */
    vg_stix_pattern *out;
    size_t cap;
} pparser;

static void pp_skip(pparser *p)
{
    while (p->pos < p->n && isspace((unsigned char)p->s[p->pos]))
        p->pos++;
}

static bool pp_fail(pparser *p, const char *what)
{
    if (!p->error[0])
        snprintf(p->error, sizeof p->error, "%s at byte %zu", what, p->pos + 1);
    return false;
}

static void pp_unmatchable(pparser *p, const char *why)
{
    if (p->out->matchable) {
        p->out->matchable = false;
        snprintf(p->out->why, sizeof p->out->why, "%s", why);
    }
}

/* The keyword at the cursor, taken when it is kw (whole word, case-sensitive as the
 * grammar's keywords are). */
static bool pp_keyword(pparser *p, const char *kw)
{
    pp_skip(p);
    size_t l = strlen(kw);
    if (p->pos + l > p->n || memcmp(p->s + p->pos, kw, l) != 0)
        return false;
    if (p->pos + l < p->n) {
        unsigned char c = (unsigned char)p->s[p->pos + l];
        if (isalnum(c) || c == '_' || c == '-')
            return false;
    }
    p->pos += l;
    return true;
}

static bool pp_char(pparser *p, char c)
{
    pp_skip(p);
    if (p->pos < p->n && p->s[p->pos] == c) {
        p->pos++;
        return true;
    }
    return false;
}

static bool pp_enter(pparser *p)
{
    if (++p->depth > VG_INTEL_PATTERN_DEPTH) {
        p->bomb = true;
        snprintf(p->error, sizeof p->error, "nested deeper than %d levels", VG_INTEL_PATTERN_DEPTH);
        return false;
    }
    return true;
}

/* A quoted string literal ('...' with \' and \\ escapes) into out (fresh), the
 * cursor on its opening quote. */
static bool pp_string(pparser *p, char **out)
{
    if (p->pos >= p->n || p->s[p->pos] != '\'')
        return pp_fail(p, "a quoted string expected");
    vg_buf b;
    vg_buf_init(&b, VG_INTEL_PATTERN_BYTES);
    for (p->pos++; p->pos < p->n; p->pos++) {
        char c = p->s[p->pos];
        if (c == '\'') {
            p->pos++;
            *out = b.data ? vg_buf_take(&b) : vg_xstrdup("");
            return true;
        }
        if (c == '\\' && p->pos + 1 < p->n &&
            (p->s[p->pos + 1] == '\'' || p->s[p->pos + 1] == '\\'))
            c = p->s[++p->pos];
        if (vg_buf_add(&b, &c, 1))
            break;
    }
    vg_buf_free(&b);
    return pp_fail(p, "an unterminated string");
}

/* A literal: 'str', b'..', h'..', t'..', a number, true or false. *str gets the text of a
 * plain string (fresh; NULL for every other literal). */
static bool pp_literal(pparser *p, char **str)
{
    *str = NULL;
    pp_skip(p);
    if (p->pos >= p->n)
        return pp_fail(p, "a value expected");
    char c = p->s[p->pos];
    if (c == '\'')
        return pp_string(p, str);
    if ((c == 'b' || c == 'h' || c == 't') && p->pos + 1 < p->n && p->s[p->pos + 1] == '\'') {
        p->pos++;
        char *ignored = NULL;
        bool ok = pp_string(p, &ignored);
        free(ignored);
        return ok;
    }
    if (isdigit((unsigned char)c) || c == '-' || c == '+') {
        size_t start = p->pos++;
        while (p->pos < p->n && (isdigit((unsigned char)p->s[p->pos]) || p->s[p->pos] == '.'))
            p->pos++;
        if (p->pos - start == 1 && !isdigit((unsigned char)c))
            return pp_fail(p, "a number expected");
        *str = vg_xstrndup(p->s + start, p->pos - start);
        return true;
    }
    if (pp_keyword(p, "true") || pp_keyword(p, "false"))
        return true;
    return pp_fail(p, "a value expected");
}

/* An object path ("file:hashes.'SHA-256'", "email-message:body_multipart[*].name")
 * into path as "file:hashes.SHA-256". */
static bool pp_path(pparser *p, char *path, size_t pathsz)
{
    pp_skip(p);
    vg_buf b;
    vg_buf_init(&b, 1024);
    size_t start = p->pos;
    while (p->pos < p->n &&
           (isalnum((unsigned char)p->s[p->pos]) || p->s[p->pos] == '-' || p->s[p->pos] == '_'))
        p->pos++;
    if (p->pos == start || p->pos >= p->n || p->s[p->pos] != ':')
        return pp_fail(p, "an object path (type:property) expected");
    bool ok = vg_buf_add(&b, p->s + start, p->pos - start + 1) == VG_OK;
    p->pos++;
    bool want_part = true;
    while (ok && p->pos < p->n) {
        char c = p->s[p->pos];
        if (want_part && c == '\'') {
            char *q = NULL;
            if (!pp_string(p, &q)) {
                ok = false;
                break;
            }
            ok = vg_buf_adds(&b, q) == VG_OK;
            free(q);
            want_part = false;
        } else if (want_part && (isalnum((unsigned char)c) || c == '_' || c == '-')) {
            size_t s0 = p->pos;
            while (p->pos < p->n && (isalnum((unsigned char)p->s[p->pos]) || p->s[p->pos] == '_' ||
                                     p->s[p->pos] == '-'))
                p->pos++;
            ok = vg_buf_add(&b, p->s + s0, p->pos - s0) == VG_OK;
            want_part = false;
        } else if (!want_part && c == '.') {
            ok = vg_buf_adds(&b, ".") == VG_OK;
            p->pos++;
            want_part = true;
        } else if (!want_part && c == '[') {
            size_t s0 = p->pos;
            while (p->pos < p->n && p->s[p->pos] != ']')
                p->pos++;
            if (p->pos >= p->n) {
                ok = pp_fail(p, "an unclosed [ in an object path");
                break;
            }
            p->pos++;
            ok = vg_buf_add(&b, p->s + s0, p->pos - s0) == VG_OK;
        } else {
            break;
        }
    }
    if (ok && want_part)
        ok = pp_fail(p, "an object path ends after a dot");
    if (ok)
        snprintf(path, pathsz, "%s", vg_buf_str(&b));
    vg_buf_free(&b);
    return ok;
}

static bool pp_add_cmp(pparser *p, const char *path, const char *lit)
{
    if (++p->terms > VG_INTEL_PATTERN_TERMS) {
        p->bomb = true;
        snprintf(p->error, sizeof p->error, "more than %d comparisons", VG_INTEL_PATTERN_TERMS);
        return false;
    }
    if (!p->out->matchable)
        return true;
    int type = stix_path_type(path);
    char why[160];
    if (type < 0) {
        char shown[96];
        vg_text_safe(path, strlen(path), VG_TEXT_ASCII, shown, sizeof shown);
        snprintf(why, sizeof why, "%s is not a property vigil matches", shown);
        pp_unmatchable(p, why);
        return true;
    }
    if (!lit) {
        pp_unmatchable(p, "a comparison with a value that is not a string");
        return true;
    }
    char *v = norm_value(type, lit, why, sizeof why);
    if (!v) {
        pp_unmatchable(p, why);
        return true;
    }
    if (p->out->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 4;
        p->out->cmps = vg_xrealloc(p->out->cmps, p->cap * sizeof *p->out->cmps);
    }
    p->out->cmps[p->out->n++] = (vg_stix_cmp){type, v};
    return true;
}

static bool pp_comparison_or(pparser *p);

/* One property test, or a parenthesised comparison expression. */
static bool pp_test(pparser *p)
{
    if (pp_char(p, '(')) {
        if (!pp_enter(p))
            return false;
        bool ok = pp_comparison_or(p) && (pp_char(p, ')') || pp_fail(p, "a ) expected"));
        p->depth--;
        return ok;
    }
    if (pp_keyword(p, "EXISTS")) {
        char path[512];
        pp_unmatchable(p, "EXISTS");
        return pp_path(p, path, sizeof path) &&
               (++p->terms <= VG_INTEL_PATTERN_TERMS || pp_fail(p, "too many comparisons"));
    }
    char path[512];
    if (!pp_path(p, path, sizeof path))
        return false;
    if (pp_keyword(p, "NOT"))
        pp_unmatchable(p, "NOT");
    pp_skip(p);
    static const char *const ops[] = {"!=", "<=", ">=", "=", "<", ">"};
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) {
        size_t l = strlen(ops[i]);
        if (p->pos + l <= p->n && memcmp(p->s + p->pos, ops[i], l) == 0) {
            p->pos += l;
            char *lit = NULL;
            if (!pp_literal(p, &lit))
                return false;
            if (strcmp(ops[i], "=") != 0) {
                char why[64];
                snprintf(why, sizeof why, "the %s operator", ops[i]);
                pp_unmatchable(p, why);
            }
            bool ok = pp_add_cmp(p, path, lit);
            free(lit);
            return ok;
        }
    }
    if (pp_keyword(p, "IN")) {
        if (!pp_char(p, '('))
            return pp_fail(p, "a ( after IN expected");
        do {
            char *lit = NULL;
            if (!pp_literal(p, &lit))
                return false;
            bool ok = pp_add_cmp(p, path, lit);
            free(lit);
            if (!ok)
                return false;
        } while (pp_char(p, ','));
        return pp_char(p, ')') || pp_fail(p, "a ) closing IN expected");
    }
    static const char *const words[] = {"LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET"};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (pp_keyword(p, words[i])) {
            pp_unmatchable(p, words[i]);
            char *lit = NULL;
            bool ok = pp_literal(p, &lit);
            free(lit);
            return ok &&
                   (++p->terms <= VG_INTEL_PATTERN_TERMS || pp_fail(p, "too many comparisons"));
        }
    return pp_fail(p, "a comparison operator expected");
}

static bool pp_comparison_and(pparser *p)
{
    if (!pp_test(p))
        return false;
    while (pp_keyword(p, "AND")) {
        pp_unmatchable(p, "AND");
        if (!pp_test(p))
            return false;
    }
    return true;
}

static bool pp_comparison_or(pparser *p)
{
    if (!pp_comparison_and(p))
        return false;
    while (pp_keyword(p, "OR"))
        if (!pp_comparison_and(p))
            return false;
    return true;
}

/* A qualifier after an observation: WITHIN n SECONDS, REPEATS n TIMES, START t STOP t. */
static bool pp_qualifiers(pparser *p)
{
    for (;;) {
        char *lit = NULL;
        bool ok;
        if (pp_keyword(p, "WITHIN")) {
            ok =
                pp_literal(p, &lit) && (pp_keyword(p, "SECONDS") || pp_fail(p, "SECONDS expected"));
        } else if (pp_keyword(p, "REPEATS")) {
            ok = pp_literal(p, &lit) && (pp_keyword(p, "TIMES") || pp_fail(p, "TIMES expected"));
        } else if (pp_keyword(p, "START")) {
            ok = pp_literal(p, &lit);
            free(lit);
            lit = NULL;
            ok =
                ok && (pp_keyword(p, "STOP") || pp_fail(p, "STOP expected")) && pp_literal(p, &lit);
        } else {
            return true;
        }
        free(lit);
        if (!ok)
            return false;
        pp_unmatchable(p, "a qualifier (WITHIN, REPEATS, START/STOP)");
    }
}

static bool pp_observations(pparser *p);

static bool pp_observation(pparser *p)
{
    bool ok;
    if (pp_char(p, '[')) {
        if (!pp_enter(p))
            return false;
        ok = pp_comparison_or(p) && (pp_char(p, ']') || pp_fail(p, "a ] expected"));
        p->depth--;
    } else if (pp_char(p, '(')) {
        if (!pp_enter(p))
            return false;
        ok = pp_observations(p) && (pp_char(p, ')') || pp_fail(p, "a ) expected"));
        p->depth--;
    } else {
        return pp_fail(p, "a [ expected");
    }
    return ok && pp_qualifiers(p);
}

static bool pp_observation_and(pparser *p)
{
    if (!pp_observation(p))
        return false;
    while (pp_keyword(p, "AND")) {
        pp_unmatchable(p, "AND");
        if (!pp_observation(p))
            return false;
    }
    return true;
}

static bool pp_observation_or(pparser *p)
{
    if (!pp_observation_and(p))
        return false;
    while (pp_keyword(p, "OR"))
        if (!pp_observation_and(p))
            return false;
    return true;
}

static bool pp_observations(pparser *p)
{
    if (!pp_observation_or(p))
        return false;
    while (pp_keyword(p, "FOLLOWEDBY")) {
        pp_unmatchable(p, "FOLLOWEDBY");
        if (!pp_observation_or(p))
            return false;
    }
    return true;
}

void vg_stix_pattern_free(vg_stix_pattern *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        free(p->cmps[i].value);
    free(p->cmps);
    p->cmps = NULL;
    p->n = 0;
}

vg_rc vg_stix_pattern_parse(const char *pattern, size_t len, vg_stix_pattern *out, vg_err *err)
{
    memset(out, 0, sizeof *out);
    out->matchable = true;
    if (len > VG_INTEL_PATTERN_BYTES) {
        out->matchable = false;
        snprintf(out->why, sizeof out->why, "longer than %d bytes", VG_INTEL_PATTERN_BYTES);
        return vg_fail(err, VG_EINVAL, "a pattern of %zu bytes (the most vigil reads is %d)", len,
                       VG_INTEL_PATTERN_BYTES);
    }
    pparser p = {.s = pattern, .n = len, .out = out};
    bool ok = pp_observations(&p);
    pp_skip(&p);
    if (ok && p.pos < p.n)
        ok = pp_fail(&p, "text after the pattern");
    if (p.bomb) {
        vg_stix_pattern_free(out);
        out->matchable = false;
        snprintf(out->why, sizeof out->why, "%s", p.error);
        return vg_fail(err, VG_EINVAL, "a pattern %s (a pattern bomb)", p.error);
    }
    if (!ok) {
        vg_stix_pattern_free(out);
        out->matchable = false;
        snprintf(out->why, sizeof out->why, "not a valid STIX pattern: %s", p.error);
    } else if (!out->matchable || out->n == 0) {
        vg_stix_pattern_free(out);
        out->matchable = false;
        if (!out->why[0])
            snprintf(out->why, sizeof out->why, "no comparison vigil matches");
    }
    return VG_OK;
}

/* ---- the parse state -------------------------------------------------------------- */

typedef struct feed {
    const vg_intel_parse_opts *o;
    vg_intel_emit_fn emit;
    void *ud;
    vg_intel_counts *c;
    int64_t max_items;
    int notes; /* notes told (the caller may cap what it shows) */
    vg_err *err;
} feed;

static void note(feed *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(feed *f, const char *fmt, ...)
{
    if (!f->o->note)
        return;
    char msg[640];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    f->notes++;
    f->o->note(f->o->ud, msg);
}

static const char *where(const feed *f)
{
    return f->o->where ? f->o->where : "feed";
}

/* An item's name for messages: its id, made safe. */
static void item_name(const char *id, const char *fallback, char *out, size_t outsz)
{
    const char *s = id && *id ? id : fallback;
    vg_text_safe(s, strlen(s), VG_TEXT_ASCII, out, outsz);
}

static vg_rc put(feed *f, vg_intel_rec *r)
{
    if (f->c->emitted >= f->max_items)
        return vg_fail(f->err, VG_EINVAL,
                       "%s: more than %lld indicators (the cap on one import; [intel]"
                       " max_indicators in vigil.conf(5))",
                       where(f), (long long)f->max_items);
    f->c->emitted++;
    if (r->type < 0)
        f->c->unmatchable++;
    return f->emit(f->ud, r, f->err);
}

/* A record of a value vigil matches (type, raw), or of one it does not (the value is
 * kept as the item's pattern, with why). */
static vg_rc put_value(feed *f, vg_intel_rec *base, int type, const char *raw, const char *item)
{
    char why[200];
    char *v = type >= 0 ? norm_value(type, raw, why, sizeof why) : NULL;
    vg_intel_rec r = *base;
    vg_rc rc;
    if (v) {
        r.type = type;
        r.value = v;
        rc = put(f, &r);
        free(v);
        return rc;
    }
    r.type = -1;
    r.value = NULL;
    r.pattern = raw;
    r.why = why;
    char name[96];
    item_name(item, "an item", name, sizeof name);
    note(f, "%s: %s: not matchable: %s", where(f), name, why);
    return put(f, &r);
}

/* The line of byte at in text (1-based). */
static size_t line_of(const char *text, size_t at)
{
    size_t line = 1;
    for (size_t i = 0; i < at; i++)
        line += text[i] == '\n';
    return line;
}

/* Refuse text that is not UTF-8 or holds a NUL byte, naming the line. */
static vg_rc check_text(const char *text, size_t len, const char *where_, vg_err *err)
{
    const char *nul = memchr(text, '\0', len);
    if (nul)
        return vg_fail(err, VG_EINVAL, "%s: line %zu: a NUL byte (not a text feed)", where_,
                       line_of(text, (size_t)(nul - text)));
    if (vg_utf8_valid(text, len))
        return VG_OK;
    size_t start = 0;
    while (start < len) {
        const char *nl = memchr(text + start, '\n', len - start);
        size_t end = nl ? (size_t)(nl - text) : len;
        if (!vg_utf8_valid(text + start, end - start))
            return vg_fail(err, VG_EINVAL, "%s: line %zu: invalid UTF-8", where_,
                           line_of(text, start));
        start = end + 1;
    }
    return vg_fail(err, VG_EINVAL, "%s: invalid UTF-8", where_);
}

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) && v->valuestring ? v->valuestring : NULL;
}

/* ---- STIX bundles ------------------------------------------------------------------- */

/* TLP marking definitions every STIX producer refers to by id: TLP 1.0 (white,
 * green, amber, red) and TLP 2.0 (clear, green, amber, amber+strict, red). */
static const struct {
    const char *id;
    int tlp;
} TLP_MARKINGS[] = {
    {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", 0},
    {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", 1},
    {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", 2},
    {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", 4},
    {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", 0},
    {"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", 1},
    {"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", 2},
    {"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", 3},
    {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", 4},
};

/* The TLP a marking-definition object states (-1: none). */
static int marking_tlp(const cJSON *m)
{
    const cJSON *def = cJSON_GetObjectItemCaseSensitive(m, "definition");
    int t = vg_intel_tlp_parse(jstr(def, "tlp"));
    if (t < 0)
        t = vg_intel_tlp_parse(jstr(m, "name"));
    const cJSON *ext = cJSON_GetObjectItemCaseSensitive(m, "extensions"), *e;
    cJSON_ArrayForEach(e, ext)
    {
        if (t < 0)
            t = vg_intel_tlp_parse(jstr(e, "tlp_2_0"));
    }
    return t;
}

/* The strictest TLP an object's object_marking_refs name (-1: none). */
static int object_tlp(const cJSON *obj, const cJSON *objects)
{
    int best = -1;
    const cJSON *refs = cJSON_GetObjectItemCaseSensitive(obj, "object_marking_refs"), *r;
    cJSON_ArrayForEach(r, refs)
    {
        if (!cJSON_IsString(r))
            continue;
        int t = -1;
        for (size_t i = 0; i < sizeof TLP_MARKINGS / sizeof *TLP_MARKINGS && t < 0; i++)
            if (strcmp(TLP_MARKINGS[i].id, r->valuestring) == 0)
                t = TLP_MARKINGS[i].tlp;
        const cJSON *m;
        cJSON_ArrayForEach(m, objects)
        {
            const char *id = jstr(m, "id"), *type = jstr(m, "type");
            if (t < 0 && id && type && strcmp(type, "marking-definition") == 0 &&
                strcmp(id, r->valuestring) == 0)
                t = marking_tlp(m);
        }
        if (t > best)
            best = t;
    }
    return best;
}

static void stix_base(const cJSON *obj, const cJSON *objects, vg_intel_rec *r)
{
    memset(r, 0, sizeof *r);
    r->type = -1;
    r->ref = jstr(obj, "id");
    r->description = jstr(obj, "description");
    if (!r->description || !*r->description)
        r->description = jstr(obj, "name");
    r->tlp = object_tlp(obj, objects);
    const cJSON *conf = cJSON_GetObjectItemCaseSensitive(obj, "confidence");
    r->confidence = cJSON_IsNumber(conf) && conf->valuedouble >= 0 && conf->valuedouble <= 100
                        ? (int)conf->valuedouble
                        : -1;
    if (!parse_time(jstr(obj, "valid_from"), &r->valid_from) &&
        !parse_time(jstr(obj, "created"), &r->valid_from))
        r->valid_from = 0;
    if (!parse_time(jstr(obj, "valid_until"), &r->valid_until))
        r->valid_until = 0;
}

static vg_rc stix_indicator(feed *f, const cJSON *obj, const cJSON *objects)
{
    vg_intel_rec base;
    stix_base(obj, objects, &base);
    char name[96];
    item_name(base.ref, "an indicator", name, sizeof name);
    const char *pattern = jstr(obj, "pattern"), *ptype = jstr(obj, "pattern_type");
    const cJSON *revoked = cJSON_GetObjectItemCaseSensitive(obj, "revoked");
    char why[256] = "";
    if (!pattern) {
        snprintf(why, sizeof why, "no pattern");
    } else if (ptype && strcmp(ptype, "stix") != 0) {
        char t[40];
        vg_text_safe(ptype, strlen(ptype), VG_TEXT_ASCII, t, sizeof t);
        snprintf(why, sizeof why, "a %s pattern, not a STIX one", t);
    } else if (cJSON_IsTrue(revoked)) {
        snprintf(why, sizeof why, "revoked");
    }
    if (!why[0]) {
        vg_stix_pattern sp;
        vg_err perr = {0};
        if (vg_stix_pattern_parse(pattern, strlen(pattern), &sp, &perr) != VG_OK) {
            vg_stix_pattern_free(&sp);
            return vg_fail(f->err, VG_EINVAL, "%s: %s: refused: %s", where(f), name, perr.msg);
        }
        vg_rc rc = VG_OK;
        for (size_t i = 0; rc == VG_OK && i < sp.n; i++) {
            vg_intel_rec r = base;
            r.type = sp.cmps[i].type;
            r.value = sp.cmps[i].value;
            rc = put(f, &r);
        }
        if (!sp.matchable)
            snprintf(why, sizeof why, "%s", sp.why);
        vg_stix_pattern_free(&sp);
        if (rc || !why[0])
            return rc;
    }
    vg_intel_rec r = base;
    r.pattern = pattern ? pattern : "";
    r.why = why;
    note(f, "%s: %s: not matchable: %s", where(f), name, why);
    return put(f, &r);
}

/* A cyber-observable (ipv4-addr, domain-name, url, email-addr, file, mutex, ...):
 * its values, or VG_OK with *known false when it is no kind vigil keeps. */
static vg_rc stix_observable(feed *f, const cJSON *obj, const cJSON *objects, bool *known)
{
    const char *type = jstr(obj, "type");
    static const struct {
        const char *type, *prop;
        int at;
    } SCO[] = {
        {"ipv4-addr", "value", VG_AT_IP},
        {"ipv6-addr", "value", VG_AT_IP},
        {"domain-name", "value", VG_AT_DOMAIN},
        {"url", "value", VG_AT_URL},
        {"email-addr", "value", VG_AT_EMAIL},
        {"mutex", "name", VG_AT_MUTEX},
        {"windows-registry-key", "key", VG_AT_REGISTRY},
    };
    vg_intel_rec base;
    stix_base(obj, objects, &base);
    *known = true;
    for (size_t i = 0; i < sizeof SCO / sizeof *SCO; i++)
        if (strcmp(SCO[i].type, type) == 0) {
            const char *v = jstr(obj, SCO[i].prop);
            return v ? put_value(f, &base, SCO[i].at, v, base.ref) : VG_OK;
        }
    if (strcmp(type, "autonomous-system") == 0) {
        const cJSON *num = cJSON_GetObjectItemCaseSensitive(obj, "number");
        if (!cJSON_IsNumber(num) || num->valuedouble < 0 || num->valuedouble > 4294967295.0)
            return VG_OK;
        char as[24];
        snprintf(as, sizeof as, "%.0f", num->valuedouble);
        return put_value(f, &base, VG_AT_ASN, as, base.ref);
    }
    if (strcmp(type, "file") == 0 || strcmp(type, "artifact") == 0) {
        const cJSON *hashes = cJSON_GetObjectItemCaseSensitive(obj, "hashes"), *h;
        vg_rc rc = VG_OK;
        cJSON_ArrayForEach(h, hashes)
        {
            int t = stix_hash(h->string ? h->string : "");
            if (t >= 0 && cJSON_IsString(h) &&
                (rc = put_value(f, &base, t, h->valuestring, base.ref)))
                return rc;
        }
        const char *name = jstr(obj, "name");
        if (name && strcmp(type, "file") == 0)
            rc = put_value(f, &base, VG_AT_FILENAME, name, base.ref);
        return rc;
    }
    *known = false;
    return VG_OK;
}

static vg_rc stix_object(feed *f, const cJSON *obj, const cJSON *objects)
{
    const char *type = jstr(obj, "type");
    if (!type) {
        f->c->skipped++;
        return VG_OK;
    }
    if (strcmp(type, "indicator") == 0)
        return stix_indicator(f, obj, objects);
    if (strcmp(type, "observed-data") == 0) {
        /* STIX 2.0's embedded observables (2.1 refers to objects of the bundle) */
        const cJSON *embedded = cJSON_GetObjectItemCaseSensitive(obj, "objects"), *o;
        cJSON_ArrayForEach(o, embedded)
        {
            bool known;
            vg_rc rc = stix_observable(f, o, objects, &known);
            if (rc)
                return rc;
        }
        return VG_OK;
    }
    bool known;
    vg_rc rc = stix_observable(f, obj, objects, &known);
    if (!known)
        f->c->skipped++;
    return rc;
}

static vg_rc parse_stix(feed *f, const cJSON *root)
{
    f->c->format = VG_INTEL_STIX;
    const cJSON *objects = cJSON_GetObjectItemCaseSensitive(root, "objects");
    if (cJSON_IsArray(root))
        objects = root;
    if (!objects) /* a single object */
        return stix_object(f, root, NULL);
    if (!cJSON_IsArray(objects))
        return vg_fail(f->err, VG_EINVAL, "%s: \"objects\" is not an array", where(f));
    const cJSON *obj;
    cJSON_ArrayForEach(obj, objects)
    {
        vg_rc rc = stix_object(f, obj, objects);
        if (rc)
            return rc;
    }
    return VG_OK;
}

/* ---- MISP ---------------------------------------------------------------------------- */

/* A MISP attribute type (or a type column of a CSV) as up to two artifact types: the
 * parts of a composite type ("filename|md5") in order; -1 for a part vigil does not
 * keep. Returns how many parts the type has (0: a type vigil does not know). */
static int misp_types(const char *t, int out[2])
{
    static const struct {
        const char *name;
        int a, b;
    } M[] = {
        {"ip-src", VG_AT_IP, -2},
        {"ip-dst", VG_AT_IP, -2},
        {"ip", VG_AT_IP, -2},
        {"ipv4", VG_AT_IP, -2},
        {"ipv6", VG_AT_IP, -2},
        {"ipv4-addr", VG_AT_IP, -2},
        {"ipv6-addr", VG_AT_IP, -2},
        {"ip-src|port", VG_AT_IP, -1},
        {"ip-dst|port", VG_AT_IP, -1},
        {"domain", VG_AT_DOMAIN, -2},
        {"domain-name", VG_AT_DOMAIN, -2},
        {"fqdn", VG_AT_DOMAIN, -2},
        {"hostname", VG_AT_DOMAIN, -2},
        {"hostname|port", VG_AT_DOMAIN, -1},
        {"domain|ip", VG_AT_DOMAIN, VG_AT_IP},
        {"url", VG_AT_URL, -2},
        {"uri", VG_AT_URL, -2},
        {"email", VG_AT_EMAIL, -2},
        {"email-src", VG_AT_EMAIL, -2},
        {"email-dst", VG_AT_EMAIL, -2},
        {"email-reply-to", VG_AT_EMAIL, -2},
        {"email-addr", VG_AT_EMAIL, -2},
        {"md5", VG_AT_MD5, -2},
        {"sha1", VG_AT_SHA1, -2},
        {"sha256", VG_AT_SHA256, -2},
        {"sha512", VG_AT_SHA512, -2},
        {"filename|md5", VG_AT_FILENAME, VG_AT_MD5},
        {"filename|sha1", VG_AT_FILENAME, VG_AT_SHA1},
        {"filename|sha256", VG_AT_FILENAME, VG_AT_SHA256},
        {"filename|sha512", VG_AT_FILENAME, VG_AT_SHA512},
        {"malware-sample", VG_AT_FILENAME, VG_AT_MD5},
        {"filename", VG_AT_FILENAME, -2},
        {"file", VG_AT_FILENAME, -2},
        {"regkey", VG_AT_REGISTRY, -2},
        {"regkey|value", VG_AT_REGISTRY, -1},
        {"mutex", VG_AT_MUTEX, -2},
        {"vulnerability", VG_AT_CVE, -2},
        {"user-agent", VG_AT_USER_AGENT, -2},
        {"as", VG_AT_ASN, -2},
    };
    for (size_t i = 0; i < sizeof M / sizeof *M; i++)
        if (strcasecmp(M[i].name, t) == 0) {
            out[0] = M[i].a;
            out[1] = M[i].b;
            return M[i].b == -2 ? 1 : 2;
        }
    /* vigil's own type names (a CSV may use them) */
    int at = vg_enum_parse(&VG_ARTIFACT_TYPE, t);
    if (at >= 0 && at != VG_AT_OTHER) {
        out[0] = at;
        return 1;
    }
    return 0;
}

/* The strictest tlp: tag of a Tag list (-1: none). */
static int tags_tlp(const cJSON *tags)
{
    int best = -1;
    const cJSON *t;
    cJSON_ArrayForEach(t, tags)
    {
        const char *name = jstr(t, "name");
        if (!name && cJSON_IsString(t))
            name = t->valuestring;
        if (name && strncasecmp(name, "tlp:", 4) == 0) {
            int v = vg_intel_tlp_parse(name);
            if (v > best)
                best = v;
        }
    }
    return best;
}

typedef struct misp_ctx {
    int tlp;               /* the event's */
    int64_t date;          /* the event's date */
    int64_t skipped_types; /* attributes of types vigil does not keep */
    char first_skipped[48];
} misp_ctx;

static vg_rc misp_attribute(feed *f, misp_ctx *m, const cJSON *a)
{
    const char *type = jstr(a, "type"), *value = jstr(a, "value");
    if (!type || !value) {
        f->c->skipped++;
        return VG_OK;
    }
    const cJSON *deleted = cJSON_GetObjectItemCaseSensitive(a, "deleted");
    if (cJSON_IsTrue(deleted)) {
        f->c->skipped++;
        return VG_OK;
    }
    int types[2] = {-1, -1};
    int parts = misp_types(type, types);
    if (!parts) {
        f->c->skipped++;
        if (!m->skipped_types++)
            vg_text_safe(type, strlen(type), VG_TEXT_ASCII, m->first_skipped,
                         sizeof m->first_skipped);
        return VG_OK;
    }
    vg_intel_rec base = {.type = -1, .tlp = -1, .confidence = -1};
    base.ref = jstr(a, "uuid");
    base.description = jstr(a, "comment");
    int t = tags_tlp(cJSON_GetObjectItemCaseSensitive(a, "Tag"));
    base.tlp = t >= 0 ? t : m->tlp;
    if (!parse_time(jstr(a, "first_seen"), &base.valid_from) &&
        !parse_time(jstr(a, "timestamp"), &base.valid_from))
        base.valid_from = m->date;
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(a, "to_ids");
    bool to_ids =
        cJSON_IsTrue(ids) || (cJSON_IsString(ids) && (strcmp(ids->valuestring, "1") == 0 ||
                                                      strcasecmp(ids->valuestring, "true") == 0));
    char name[96];
    item_name(base.ref, "an attribute", name, sizeof name);
    if (!to_ids) {
        /* context the event's author did not mean for detection: kept, not matched */
        vg_intel_rec r = base;
        r.pattern = value;
        r.why = "to_ids is false (context, not for detection)";
        return put(f, &r);
    }
    /* a composite value: "evil.example|203.0.113.7", "name.exe|<md5>" */
    char *copy = vg_xstrdup(value);
    char *second = parts == 2 ? strchr(copy, '|') : NULL;
    if (second)
        *second++ = '\0';
    vg_rc rc = VG_OK;
    if (types[0] >= 0)
        rc = put_value(f, &base, types[0], copy, base.ref);
    if (rc == VG_OK && second && types[1] >= 0)
        rc = put_value(f, &base, types[1], second, base.ref);
    free(copy);
    return rc;
}

static vg_rc misp_event(feed *f, const cJSON *ev, int default_tlp)
{
    misp_ctx m = {.tlp = tags_tlp(cJSON_GetObjectItemCaseSensitive(ev, "Tag"))};
    if (m.tlp < 0)
        m.tlp = default_tlp;
    if (!parse_time(jstr(ev, "date"), &m.date))
        m.date = 0;
    vg_rc rc = VG_OK;
    const cJSON *a, *o;
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(ev, "Attribute"))
    {
        if ((rc = misp_attribute(f, &m, a)))
            return rc;
    }
    cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(ev, "Object"))
    {
        cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(o, "Attribute"))
        {
            if ((rc = misp_attribute(f, &m, a)))
                return rc;
        }
    }
    if (m.skipped_types) {
        char ev_name[96];
        item_name(jstr(ev, "uuid"), "an event", ev_name, sizeof ev_name);
        note(f, "%s: %s: %lld attributes of types vigil does not match (%s, ...) skipped", where(f),
             ev_name, (long long)m.skipped_types, m.first_skipped);
    }
    return rc;
}

/* A manifest's key: a MISP uuid (it names a file beside the manifest, so nothing
 * but hex digits and dashes). */
static bool uuid_ok(const char *s)
{
    size_t n = strlen(s);
    return n >= 32 && n <= 36 && strspn(s, "0123456789abcdefABCDEF-") == n;
}

/* Whether root is a feed manifest: an object of uuid keys, each an event summary. */
static bool is_manifest(const cJSON *root)
{
    if (!cJSON_IsObject(root) || !root->child)
        return false;
    const cJSON *e;
    cJSON_ArrayForEach(e, root)
    {
        if (!e->string || !uuid_ok(e->string) || !cJSON_IsObject(e) ||
            cJSON_GetObjectItemCaseSensitive(e, "Event"))
            return false;
    }
    return true;
}

static vg_rc parse_misp(feed *f, const cJSON *root, int default_tlp);

/* Read a file beside a manifest whole, under the cap, into *text (fresh). */
static vg_rc read_beside(feed *f, const char *name, char **text, size_t *len, char *path,
                         size_t pathsz)
{
    snprintf(path, pathsz, "%s/%s.json", f->o->dir, name);
    int64_t cap = f->o->max_bytes > 0 ? f->o->max_bytes : VG_INTEL_MAX_BYTES;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0)
        return vg_fail(f->err, VG_EIO, "%s: the event %s it lists: %s", where(f), path,
                       strerror(errno));
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return vg_fail(f->err, VG_EIO, "%s: the event %s it lists is not a file", where(f), path);
    }
    if (sb.st_size > cap) {
        close(fd);
        return vg_fail(f->err, VG_EINVAL,
                       "%s: %lld bytes, more than the %lld a feed file may have ([intel]"
                       " max_file_size)",
                       path, (long long)sb.st_size, (long long)cap);
    }
    char *buf = vg_xmalloc((size_t)sb.st_size + 1);
    size_t got = 0;
    while (got < (size_t)sb.st_size) {
        ssize_t k = read(fd, buf + got, (size_t)sb.st_size - got);
        if (k <= 0) {
            if (k < 0 && errno == EINTR)
                continue;
            break;
        }
        got += (size_t)k;
    }
    close(fd);
    buf[got] = '\0';
    *text = buf;
    *len = got;
    return VG_OK;
}

static vg_rc parse_manifest(feed *f, const cJSON *root)
{
    if (!f->o->dir)
        return vg_fail(f->err, VG_EINVAL,
                       "%s: a MISP feed manifest, but not a file whose directory holds the"
                       " events",
                       where(f));
    const cJSON *e;
    cJSON_ArrayForEach(e, root)
    {
        char path[4200], *text = NULL;
        size_t len = 0;
        vg_rc rc = read_beside(f, e->string, &text, &len, path, sizeof path);
        if (rc == VG_OK)
            rc = check_text(text, len, path, f->err);
        cJSON *ev = NULL;
        if (rc == VG_OK && !(ev = cJSON_ParseWithLength(text, len))) {
            const char *at = cJSON_GetErrorPtr();
            size_t off = at && at >= text && at <= text + len ? (size_t)(at - text) : 0;
            rc = vg_fail(f->err, VG_EINVAL, "%s: line %zu: not valid JSON", path,
                         line_of(text, off));
        }
        if (rc == VG_OK) { /* messages name the event's file */
            vg_intel_parse_opts o = *f->o;
            o.where = path;
            const vg_intel_parse_opts *prev = f->o;
            f->o = &o;
            rc = parse_misp(f, ev, tags_tlp(cJSON_GetObjectItemCaseSensitive(e, "Tag")));
            f->o = prev;
        }
        cJSON_Delete(ev);
        free(text);
        if (rc)
            return rc;
    }
    return VG_OK;
}

static vg_rc parse_misp(feed *f, const cJSON *root, int default_tlp)
{
    f->c->format = VG_INTEL_MISP;
    if (is_manifest(root))
        return parse_manifest(f, root);
    const cJSON *list =
        cJSON_IsArray(root) ? root : cJSON_GetObjectItemCaseSensitive(root, "response");
    if (list) { /* a search's answer: [{"Event": ...}, ...] */
        const cJSON *x;
        cJSON_ArrayForEach(x, list)
        {
            const cJSON *ev = cJSON_GetObjectItemCaseSensitive(x, "Event");
            vg_rc rc = ev ? misp_event(f, ev, default_tlp) : VG_OK;
            if (rc)
                return rc;
        }
        return VG_OK;
    }
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(root, "Event");
    if (!cJSON_IsObject(ev))
        return vg_fail(f->err, VG_EINVAL, "%s: not a MISP event (no \"Event\" object)", where(f));
    return misp_event(f, ev, default_tlp);
}

/* ---- lists and CSV -------------------------------------------------------------------- */

/* The next line of text from *pos (CR LF or LF), NUL-terminated in buf (cut at
 * bufsz - 1 with *cut set); false at the end. */
static bool next_line(const char *text, size_t len, size_t *pos, char *buf, size_t bufsz, bool *cut)
{
    if (*pos >= len)
        return false;
    const char *nl = memchr(text + *pos, '\n', len - *pos);
    size_t end = nl ? (size_t)(nl - text) : len, n = end - *pos;
    if (n && text[end - 1] == '\r')
        n--;
    *cut = n >= bufsz;
    if (*cut)
        n = bufsz - 1;
    memcpy(buf, text + *pos, n);
    buf[n] = '\0';
    *pos = end + 1;
    return true;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* The indicator of a list's token: what the IOC extractor finds in it, the one that
 * is the whole token when there is one (a URL's domain is not what the line names). */
static vg_rc list_token(feed *f, char *tok, size_t line)
{
    vg_intel_rec base = {.type = -1, .tlp = -1, .confidence = -1};
    char item[32];
    snprintf(item, sizeof item, "line %zu", line);
    /* "198.51.100.0/24": the extractor would keep the address and drop the range */
    char *slash = strchr(tok, '/');
    if (slash && !strstr(tok, "://") &&
        strspn(tok, "0123456789.:abcdefABCDEF") == (size_t)(slash - tok))
        return put_value(f, &base, VG_AT_IP, tok, item);
    vg_ioc_list l = {0};
    vg_ioc_extract(tok, strlen(tok), &l);
    char *refanged = vg_refang(tok);
    size_t pick = 0;
    for (size_t i = 0; i < l.n; i++)
        if (strcasecmp(l.items[i].value, refanged) == 0 || l.items[i].kind == VG_IOC_URL) {
            pick = i;
            break;
        }
    free(refanged);
    vg_rc rc = VG_OK;
    if (!l.n) {
        char shown[64];
        vg_text_safe(tok, strlen(tok), VG_TEXT_ASCII, shown, sizeof shown);
        note(f, "%s: line %zu: no indicator in '%s', skipped", where(f), line, shown);
        f->c->skipped++;
    } else {
        int type = vg_enum_parse(&VG_ARTIFACT_TYPE, vg_ioc_type(l.items[pick].kind));
        if (type == VG_AT_FILENAME || type == VG_AT_REGISTRY) { /* paths: not a list's business */
            note(f, "%s: line %zu: a path, not an indicator, skipped", where(f), line);
            f->c->skipped++;
        } else {
            rc = put_value(f, &base, type, l.items[pick].value, item);
        }
    }
    vg_ioc_list_free(&l);
    return rc;
}

static vg_rc parse_list(feed *f, const char *text, size_t len)
{
    f->c->format = VG_INTEL_LIST;
    char buf[8192];
    size_t pos = 0, line = 0;
    bool cut;
    while (next_line(text, len, &pos, buf, sizeof buf, &cut)) {
        line++;
        if (cut)
            return vg_fail(f->err, VG_EINVAL, "%s: line %zu: longer than %zu bytes", where(f), line,
                           sizeof buf - 1);
        char *s = trim(buf);
        if (!*s || *s == '#' || *s == ';' || (s[0] == '/' && s[1] == '/'))
            continue;
        s[strcspn(s, " \t,;")] = '\0'; /* "1.2.3.4 # c2", "evil.example\tphish" */
        vg_rc rc = list_token(f, s, line);
        if (rc)
            return rc;
    }
    return VG_OK;
}

/* Split a CSV line into at most max fields (RFC 4180 quoting within the line), in
 * place. Returns how many, or -1 for an unterminated quote. */
static int csv_split(char *s, char **fields, int max)
{
    int n = 0;
    char *w = s;
    while (n < max) {
        fields[n++] = w;
        if (*s == '"') {
            s++;
            for (;;) {
                if (!*s)
                    return -1;
                if (*s == '"' && s[1] == '"') {
                    *w++ = '"';
                    s += 2;
                } else if (*s == '"') {
                    s++;
                    break;
                } else {
                    *w++ = *s++;
                }
            }
            while (*s && *s != ',')
                s++;
        } else {
            while (*s && *s != ',')
                *w++ = *s++;
        }
        bool more = *s == ',';
        *w++ = '\0';
        if (!more)
            break;
        s++;
    }
    return n;
}

enum { CSV_TYPE, CSV_VALUE, CSV_TLP, CSV_CONF, CSV_FROM, CSV_UNTIL, CSV_DESC, CSV_ID, CSV__N };

static int csv_column(const char *name)
{
    static const struct {
        const char *name;
        int col;
    } C[] = {
        {"type", CSV_TYPE},         {"value", CSV_VALUE},
        {"indicator", CSV_VALUE},   {"ioc", CSV_VALUE},
        {"observable", CSV_VALUE},  {"tlp", CSV_TLP},
        {"confidence", CSV_CONF},   {"valid_from", CSV_FROM},
        {"first_seen", CSV_FROM},   {"date", CSV_FROM},
        {"valid_until", CSV_UNTIL}, {"expires", CSV_UNTIL},
        {"expiry", CSV_UNTIL},      {"valid_to", CSV_UNTIL},
        {"description", CSV_DESC},  {"comment", CSV_DESC},
        {"note", CSV_DESC},         {"id", CSV_ID},
        {"uuid", CSV_ID},           {"ref", CSV_ID},
    };
    for (size_t i = 0; i < sizeof C / sizeof *C; i++)
        if (strcasecmp(C[i].name, name) == 0)
            return C[i].col;
    return -1;
}

#define CSV_MAX_FIELDS 64

static vg_rc parse_csv(feed *f, const char *text, size_t len)
{
    f->c->format = VG_INTEL_CSV;
    char buf[8192], *fields[CSV_MAX_FIELDS];
    int col[CSV__N];
    for (int i = 0; i < CSV__N; i++)
        col[i] = -1;
    size_t pos = 0, line = 0;
    bool cut, header = false;
    while (next_line(text, len, &pos, buf, sizeof buf, &cut)) {
        line++;
        if (cut)
            return vg_fail(f->err, VG_EINVAL, "%s: line %zu: longer than %zu bytes", where(f), line,
                           sizeof buf - 1);
        char *s = buf;
        while (isspace((unsigned char)*s))
            s++;
        if (!*s || *s == '#')
            continue;
        int n = csv_split(s, fields, CSV_MAX_FIELDS);
        if (n < 0)
            return vg_fail(f->err, VG_EINVAL, "%s: line %zu: a quote that does not end on its line",
                           where(f), line);
        if (!header) {
            for (int i = 0; i < n; i++) {
                int c = csv_column(trim(fields[i]));
                if (c >= 0 && col[c] < 0)
                    col[c] = i;
            }
            if (col[CSV_TYPE] < 0 || col[CSV_VALUE] < 0)
                return vg_fail(f->err, VG_EINVAL,
                               "%s: line %zu: the header names no \"type\" and \"value\" columns"
                               " (a CSV feed needs both)",
                               where(f), line);
            header = true;
            continue;
        }
        const char *v[CSV__N];
        for (int i = 0; i < CSV__N; i++)
            v[i] = col[i] >= 0 && col[i] < n ? trim(fields[col[i]]) : "";
        char item[32];
        snprintf(item, sizeof item, "line %zu", line);
        vg_intel_rec base = {.type = -1,
                             .tlp = vg_intel_tlp_parse(*v[CSV_TLP] ? v[CSV_TLP] : NULL),
                             .confidence = -1,
                             .ref = *v[CSV_ID] ? v[CSV_ID] : NULL,
                             .description = *v[CSV_DESC] ? v[CSV_DESC] : NULL};
        if (*v[CSV_CONF]) {
            char *end;
            long c = strtol(v[CSV_CONF], &end, 10);
            base.confidence = !*end && c >= 0 && c <= 100 ? (int)c : -1;
        }
        if (*v[CSV_FROM] && !parse_time(v[CSV_FROM], &base.valid_from))
            return vg_fail(f->err, VG_EINVAL, "%s: line %zu: valid_from '%.40s' is not a time",
                           where(f), line, v[CSV_FROM]);
        if (*v[CSV_UNTIL] && !parse_time(v[CSV_UNTIL], &base.valid_until))
            return vg_fail(f->err, VG_EINVAL,
                           "%s: line %zu: valid_until '%.40s' is not a time (2026-10-02 or"
                           " 2026-10-02T12:00:00Z)",
                           where(f), line, v[CSV_UNTIL]);
        int types[2] = {-1, -1};
        int parts = strcasecmp(v[CSV_TYPE], "hash") == 0 ? (types[0] = hash_type(v[CSV_VALUE]), 1)
                                                         : misp_types(v[CSV_TYPE], types);
        if (!parts || types[0] < 0) {
            char shown[40];
            vg_text_safe(v[CSV_TYPE], strlen(v[CSV_TYPE]), VG_TEXT_ASCII, shown, sizeof shown);
            note(f, "%s: line %zu: type '%s' is not one vigil matches, skipped", where(f), line,
                 shown);
            f->c->skipped++;
            continue;
        }
        vg_rc rc = put_value(f, &base, types[0], v[CSV_VALUE], item);
        if (rc)
            return rc;
    }
    if (!header)
        return vg_fail(f->err, VG_EINVAL, "%s: no header line (a CSV feed names its columns)",
                       where(f));
    return VG_OK;
}

/* ---- the entry point ------------------------------------------------------------------- */

/* What the text is, by its first bytes (JSON: by its keys). */
static vg_intel_format sniff_text(const char *text, size_t len)
{
    size_t pos = 0;
    char buf[2048];
    bool cut;
    while (next_line(text, len, &pos, buf, sizeof buf, &cut)) {
        char *s = trim(buf);
        if (!*s || *s == '#')
            continue;
        char *fields[CSV_MAX_FIELDS];
        int n = csv_split(s, fields, CSV_MAX_FIELDS);
        bool type = false, value = false;
        for (int i = 0; i < n; i++) {
            int c = csv_column(trim(fields[i]));
            type |= c == CSV_TYPE;
            value |= c == CSV_VALUE;
        }
        return n > 1 && type && value ? VG_INTEL_CSV : VG_INTEL_LIST;
    }
    return VG_INTEL_LIST;
}

static bool looks_misp(const cJSON *root)
{
    if (cJSON_GetObjectItemCaseSensitive(root, "Event") ||
        cJSON_GetObjectItemCaseSensitive(root, "response") || is_manifest(root))
        return true;
    return cJSON_IsArray(root) && root->child &&
           cJSON_GetObjectItemCaseSensitive(root->child, "Event");
}

vg_rc vg_intel_parse(const char *text, size_t len, const vg_intel_parse_opts *o,
                     vg_intel_emit_fn emit, void *ud, vg_intel_counts *counts, vg_err *err)
{
    memset(counts, 0, sizeof *counts);
    feed f = {.o = o, .emit = emit, .ud = ud, .c = counts, .err = err};
    f.max_items = o->max_items > 0 ? o->max_items : VG_INTEL_MAX_ITEMS;
    vg_rc rc = check_text(text, len, where(&f), err);
    if (rc)
        return rc;
    size_t lead = 0;
    while (lead < len && isspace((unsigned char)text[lead]))
        lead++;
    if (lead + 3 <= len && memcmp(text + lead, "\xef\xbb\xbf", 3) == 0) /* a BOM */
        lead += 3;
    while (lead < len && isspace((unsigned char)text[lead]))
        lead++;
    bool json = lead < len && (text[lead] == '{' || text[lead] == '[');
    vg_intel_format fmt = o->format;
    if (fmt == VG_INTEL_LIST || fmt == VG_INTEL_CSV || (fmt == VG_INTEL_AUTO && !json)) {
        if (fmt == VG_INTEL_AUTO)
            fmt = sniff_text(text, len);
        return fmt == VG_INTEL_CSV ? parse_csv(&f, text, len) : parse_list(&f, text, len);
    }
    cJSON *root = cJSON_ParseWithLength(text + lead, len - lead);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        size_t off = at && at >= text && at <= text + len ? (size_t)(at - text) : 0;
        return vg_fail(err, VG_EINVAL, "%s: line %zu: not valid JSON (or nested too deep)",
                       where(&f), line_of(text, off));
    }
    if (fmt == VG_INTEL_AUTO)
        fmt = looks_misp(root) ? VG_INTEL_MISP : VG_INTEL_STIX;
    if (fmt == VG_INTEL_STIX && !cJSON_IsArray(root) && !jstr(root, "type"))
        rc = vg_fail(err, VG_EINVAL, "%s: not a STIX bundle or object (no \"type\")", where(&f));
    else
        rc = fmt == VG_INTEL_MISP ? parse_misp(&f, root, -1) : parse_stix(&f, root);
    cJSON_Delete(root);
    return rc;
}
