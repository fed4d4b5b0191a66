/*
 * ioc.c — indicators of compromise in free text: normalising, refanging,
 * extracting and defanging. Pure string work; the only outside data is the public
 * suffix list, read once through libpsl (the system's copy if present, else the
 * one built into libpsl), so that "invoice.pdf" is not a domain and "evil.zip" is.
 *
 * Extraction is one pass over a refanged copy of the text. Runs of non-separator
 * bytes are "wide" tokens; a wide token holding "scheme://" is a URL, anything else
 * is split into "narrow" tokens at punctuation such as '=' and ',' (log lines are
 * key=value soup) and each narrow token is classified by cheap tests first (length,
 * first byte, character set) and the suffix list last. It aims at hundreds of MB/s
 * on log text, and at no false positives a person would laugh at; the price is
 * that a registry key or path with a space in it is cut at the space.
 *
 * The text is hostile (an alert's fields, a model's answer, a 16 MB line), so the
 * cost is linear in it whatever its shape: each step reads a byte a bounded number
 * of times, never once for each of many starting points (each "://" in a token,
 * each key:value label), and nothing recurses. tests/unit/test_ioc.c holds 16 MB
 * of each hostile shape found so far (tests/unit/ioc_shapes.h) to the time 16 MB
 * of log text takes.
 */
#include "vigil/ioc.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <libpsl.h>
#include <stdint.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "vigil/buf.h"
#include "vigil/err.h"
#include "vigil/model.h"

/* ---- refanging ----------------------------------------------------------------- */

/* Defanged spellings and what they stand for, grouped by their first byte so the
 * refang pass looks at a pattern only where one can start. */
typedef struct fang {
    const char *from, *to;
    unsigned char fl, tl;
} fang;
#define F(a, b) {a, b, sizeof a - 1, sizeof b - 1}
static const fang fang_h[] = {F("hxxps", "https"), F("hxxp", "http")};
static const fang fang_sq[] = {F("[://]", "://"), F("[:]", ":"), F("[.]", "."), F("[dot]", "."),
                               F("[@]", "@"),     F("[at]", "@"), F("[/]", "/")};
static const fang fang_par[] = {F("(.)", "."), F("(dot)", "."), F("(@)", "@"), F("(at)", "@")};
static const fang fang_br[] = {F("{.}", "."), F("{dot}", "."), F("{@}", "@")};
#undef F

/* Could a defanged spelling start at s[i] (of s[0..n))? A bracket, or "hx" in
 * either case: 'h' alone is too common in text to stop at. */
static inline bool fang_may_start(const unsigned char *s, size_t i, size_t n)
{
    return s[i] == '[' || s[i] == '(' || s[i] == '{' ||
           ((s[i] | 0x20) == 'h' && i + 1 < n && (s[i + 1] | 0x20) == 'x');
}

/* The offset of the first byte of s[0..n) where a defanged spelling may start, or
 * n. This runs over every byte of every text, and such a byte comes about once in
 * a hundred, so with SSE2 (always there on x86-64) sixteen bytes are tested at a
 * time; elsewhere one at a time. */
static size_t fang_next(const unsigned char *s, size_t n)
{
    size_t i = 0;
#ifdef __SSE2__
    const __m128i sq = _mm_set1_epi8('['), par = _mm_set1_epi8('('), br = _mm_set1_epi8('{'),
                  h = _mm_set1_epi8('h'), x = _mm_set1_epi8('x'), lower = _mm_set1_epi8(0x20);
    for (; i + 17 <= n; i += 16) { /* 17: the "hx" test reads one byte on */
        __m128i a = _mm_loadu_si128((const __m128i *)(s + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(s + i + 1));
        __m128i bracket = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(a, sq), _mm_cmpeq_epi8(a, par)),
                                       _mm_cmpeq_epi8(a, br));
        __m128i hx = _mm_and_si128(_mm_cmpeq_epi8(_mm_or_si128(a, lower), h),
                                   _mm_cmpeq_epi8(_mm_or_si128(b, lower), x));
        unsigned hits = (unsigned)_mm_movemask_epi8(_mm_or_si128(bracket, hx));
        if (hits)
            return i + (size_t)__builtin_ctz(hits);
    }
#endif
    while (i < n && !fang_may_start(s, i, n))
        i++;
    return i;
}

/* The defanged spelling at s[0..n), if any. */
static const fang *fang_at(const char *s, size_t n)
{
    const fang *set;
    size_t count;
    switch (s[0]) {
    case 'h': case 'H':
        if (n < 4 || (s[1] | 0x20) != 'x')
            return NULL;
        set = fang_h, count = 2;
        break;
    case '[': set = fang_sq, count = sizeof fang_sq / sizeof *fang_sq; break;
    case '(': set = fang_par, count = sizeof fang_par / sizeof *fang_par; break;
    case '{': set = fang_br, count = sizeof fang_br / sizeof *fang_br; break;
    default: return NULL;
    }
    /* most brackets in logs ("sshd[42]", "[INFO]", JSON braces) fail on the second
     * byte: test it before comparing the whole spelling */
    int second = n > 1 ? tolower((unsigned char)s[1]) : 0;
    for (size_t k = 0; k < count; k++)
        if (set[k].fl <= n && second == set[k].from[1] &&
            strncasecmp(s, set[k].from, set[k].fl) == 0)
            return &set[k];
    return NULL;
}

/* Refang s[0..n) into a fresh NUL-terminated copy. When marks is not NULL it gets
 * the output offsets where a replacement was written (for the DEFANGED flag). */
static char *refang_marked(const char *s, size_t n, size_t *outlen, size_t **marks,
                           size_t *nmarks)
{
    char *out = vg_xmalloc(n + 1), *o = out;
    size_t cap = 0, i = 0;
    if (nmarks)
        *nmarks = 0;
    while (i < n) {
        /* copy the run up to the next byte a defanged spelling can start with */
        size_t j = i + fang_next((const unsigned char *)s + i, n - i);
        memcpy(o, s + i, j - i);
        o += j - i;
        i = j;
        if (i == n)
            break;
        const fang *f = fang_at(s + i, n - i);
        if (!f) {
            *o++ = s[i++];
            continue;
        }
        if (marks) {
            if (*nmarks == cap) {
                cap = cap ? cap * 2 : 16;
                *marks = vg_xrealloc(*marks, cap * sizeof **marks);
            }
            (*marks)[(*nmarks)++] = (size_t)(o - out);
        }
        memcpy(o, f->to, f->tl); /* never longer than from */
        o += f->tl;
        i += f->fl;
    }
    *o = '\0';
    if (outlen)
        *outlen = (size_t)(o - out);
    return out;
}

char *vg_refang(const char *s)
{
    return refang_marked(s, strlen(s), NULL, NULL, NULL);
}

/* ---- normalising ------------------------------------------------------------------ */

/* s (fresh, taken) in the canonical form of RFC 5952 when it is an IPv6 address,
 * with its zone index ("%eth0") kept as written; else s as it is. inet_ntop writes
 * that form (glibc's, from BIND: lower case, the longest zero run of two groups or
 * more as "::", the first of equal runs, ::ffff:a.b.c.d for a mapped address). */
static char *ipv6_canonical(char *s)
{
    char buf[64], out[INET6_ADDRSTRLEN];
    unsigned char a[16];
    size_t n = strcspn(s, "%");
    if (n >= sizeof buf)
        return s;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (inet_pton(AF_INET6, buf, a) != 1 || !inet_ntop(AF_INET6, a, out, sizeof out))
        return s;
    size_t on = strlen(out), zn = strlen(s + n);
    char *r = vg_xmalloc(on + zn + 1);
    memcpy(r, out, on);
    memcpy(r + on, s + n, zn + 1);
    free(s);
    return r;
}

/* A DNS name: labels of letters, digits, '-' and '_' (or any byte of a UTF-8
 * name), none empty, none longer than 63, 253 in all. */
static bool dns_name(const char *s, size_t n)
{
    if (n == 0 || n > 253)
        return false;
    size_t label = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '.') {
            if (label == 0)
                return false;
            label = 0;
        } else if (isalnum(ch) || ch == '-' || ch == '_' || ch >= 0x80) {
            if (++label > 63)
                return false;
        } else {
            return false;
        }
    }
    return label > 0;
}

bool vg_artifact_valid(int type, const char *value, char *why, size_t whysz)
{
    const char *tname = vg_enum_name(&VG_ARTIFACT_TYPE, type);
    size_t n = strlen(value);
    if (n == 0) {
        snprintf(why, whysz, "%s: empty", tname);
        return false;
    }
    size_t hex = type == VG_AT_MD5 ? 32 : type == VG_AT_SHA1 ? 40 : type == VG_AT_SHA256 ? 64
                 : type == VG_AT_SHA512 ? 128 : 0;
    if (hex) {
        bool ok = n == hex;
        for (size_t i = 0; ok && i < n; i++)
            ok = isxdigit((unsigned char)value[i]);
        if (!ok)
            snprintf(why, whysz, "%s: %zu hex digits, not '%.80s'", tname, hex, value);
        return ok;
    }
    switch (type) {
    case VG_AT_IP: {
        char a[INET6_ADDRSTRLEN + 64];
        size_t m = strcspn(value, "/%");
        bool ok = m < sizeof a;
        if (ok) {
            memcpy(a, value, m);
            a[m] = '\0';
            unsigned char bin[16];
            ok = inet_pton(strchr(a, ':') ? AF_INET6 : AF_INET, a, bin) == 1;
        }
        if (ok && value[m] == '/') {
            const char *p = value + m + 1;
            int bits = 0, digits = 0;
            for (; isdigit((unsigned char)*p) && digits < 4; p++, digits++)
                bits = bits * 10 + (*p - '0');
            ok = digits && (*p == '\0' || *p == '%') && bits <= (strchr(a, ':') ? 128 : 32);
        }
        if (!ok)
            snprintf(why, whysz, "ip: '%.80s' is not an IPv4 or IPv6 address", value);
        return ok;
    }
    case VG_AT_CVE: {
        bool ok = n >= 13 && strncmp(value, "CVE-", 4) == 0 && value[8] == '-';
        for (size_t i = 4; ok && i < n; i++)
            ok = i == 8 || isdigit((unsigned char)value[i]);
        if (!ok)
            snprintf(why, whysz, "cve: CVE-YYYY-NNNN, not '%.80s'", value);
        return ok;
    }
    case VG_AT_DOMAIN: case VG_AT_HOSTNAME:
        if (!dns_name(value, n)) {
            snprintf(why, whysz, "%s: '%.80s' is not a %s name", tname, value,
                     type == VG_AT_DOMAIN ? "domain" : "host");
            return false;
        }
        return true;
    case VG_AT_EMAIL: {
        const char *at = strrchr(value, '@');
        bool ok = at && at > value && !memchr(value, ' ', n) && dns_name(at + 1, strlen(at + 1));
        if (!ok)
            snprintf(why, whysz, "email: '%.80s' is not an address (name@domain)", value);
        return ok;
    }
    case VG_AT_URL: {
        const char *sep = strstr(value, "://");
        bool ok = sep && sep > value && sep[3] && sep[3] != '/' && !memchr(value, ' ', n);
        for (const char *p = value; ok && p < sep; p++)
            ok = isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.';
        if (!ok)
            snprintf(why, whysz, "url: '%.80s' has no scheme and host (https://host/...)", value);
        return ok;
    }
    case VG_AT_ASN: {
        const char *p = strncasecmp(value, "AS", 2) == 0 ? value + 2 : value;
        bool ok = *p;
        for (; ok && *p; p++)
            ok = isdigit((unsigned char)*p);
        if (!ok)
            snprintf(why, whysz, "asn: AS and a number, not '%.80s'", value);
        return ok;
    }
    default:
        return true;
    }
}

char *vg_ioc_normalise(int type, const char *value)
{
    while (isspace((unsigned char)*value))
        value++;
    size_t n = strlen(value);
    while (n && isspace((unsigned char)value[n - 1]))
        n--;
    char *trimmed = vg_xstrndup(value, n);
    bool refang = false, lower = false;
    switch (type) {
    case VG_AT_URL:
        refang = true;
        break;
    case VG_AT_IP: case VG_AT_DOMAIN: case VG_AT_EMAIL: case VG_AT_HOSTNAME:
        refang = lower = true;
        break;
    case VG_AT_MD5: case VG_AT_SHA1: case VG_AT_SHA256: case VG_AT_SHA512:
        lower = true;
        break;
    default:
        break;
    }
    if (refang) {
        char *r = vg_refang(trimmed);
        free(trimmed);
        trimmed = r;
    }
    for (char *p = trimmed; lower && *p; p++)
        *p = (char)tolower((unsigned char)*p);
    if (type == VG_AT_CVE)
        for (char *p = trimmed; *p; p++)
            *p = (char)toupper((unsigned char)*p);
    if (type == VG_AT_DOMAIN || type == VG_AT_HOSTNAME) {
        size_t l = strlen(trimmed); /* "example.com." is example.com */
        if (l > 1 && trimmed[l - 1] == '.')
            trimmed[l - 1] = '\0';
    }
    if (type == VG_AT_IP && strchr(trimmed, ':'))
        trimmed = ipv6_canonical(trimmed);
    return trimmed;
}

/* ---- classification ------------------------------------------------------------- */

enum { C_SEP = 0, C_WIDE = 1, C_NARROW = 2, C_HEX = 4, C_DIGIT = 8, C_LABEL = 16,
       C_TRIM_END = 32, C_TRIM_START = 64, C_MARK = 128, C_AT = 256, C_DOT = 512,
       C_COLON = 1024, C_SPLIT = 2048, C_ANY = 0xffff };
/* C_MARK: one of . : @ / \ . Without one, a token can only be a hash (32 characters
 * or more) or a CVE id (a 'c' and digits); anything else (words, ports, pids,
 * counters) is skipped without a closer look.
 * C_AT, C_DOT, C_COLON: the byte itself. C_SPLIT: wide but not narrow, so a wide
 * token without one is a single narrow token. The scanner ORs the classes of a
 * token's bytes as it reads them; a class absent from that union spares the
 * later steps a look for its bytes. */
static uint16_t cls[256];

static const psl_ctx_t *psl;

static void init_tables(void)
{
    for (int c = 33; c < 256; c++)
        cls[c] = C_WIDE;
    for (const char *p = "\"'<>`{}|^"; *p; p++)
        cls[(unsigned char)*p] = C_SEP;
    for (int c = 0; c < 256; c++) {
        if (isalnum(c) || strchr("._:@\\/%+-", c) != NULL) {
            if (c)
                cls[c] |= C_NARROW;
        }
        if (isxdigit(c))
            cls[c] |= C_HEX;
        if (isdigit(c))
            cls[c] |= C_DIGIT;
        if (isalnum(c) || c == '-')
            cls[c] |= C_LABEL;
    }
    for (const char *p = ".:-_/\\%+@"; *p; p++)
        cls[(unsigned char)*p] |= C_TRIM_END;
    for (const char *p = ".-_:@%+"; *p; p++)
        cls[(unsigned char)*p] |= C_TRIM_START;
    for (const char *p = ".:@/\\"; *p; p++)
        cls[(unsigned char)*p] |= C_MARK;
    cls['@'] |= C_AT;
    cls['.'] |= C_DOT;
    cls[':'] |= C_COLON;
    for (int c = 0; c < 256; c++)
        if ((cls[c] & (C_WIDE | C_NARROW)) == C_WIDE)
            cls[c] |= C_SPLIT;
    cls[0] = C_SEP;
    psl = psl_latest(NULL);
    if (!psl)
        psl = psl_builtin();
}

/* Once per process, whichever thread asks first (import maps records on a thread
 * of its own). */
static void ensure_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_tables);
}

/* Special-use names (RFC 2606, 6761, 7686) are real in investigations (lab
 * networks, documentation, Tor) but not on the suffix list. */
static bool special_tld(const char *tld, size_t n)
{
    static const char *const names[] = {"example", "test", "invalid", "localhost", "local",
                                        "onion", "internal", "arpa"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strlen(names[i]) == n && strncasecmp(names[i], tld, n) == 0)
            return true;
    return false;
}

/* Is s[0..n) a domain name under a real top-level domain? *special is set for
 * special-use names. */
static bool is_domain(const char *s, size_t n, bool *special)
{
    if (n < 4 || n > 253 || s[0] == '.' || s[n - 1] == '.')
        return false;
    size_t labels = 0, lab = 0, last = 0;
    bool alpha_tld = true;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            if (lab == 0 || lab > 63 || s[i - 1] == '-' || s[i - lab] == '-')
                return false;
            labels++;
            last = i - lab;
            lab = 0;
            continue;
        }
        if (!(cls[(unsigned char)s[i]] & C_LABEL))
            return false;
        lab++;
    }
    if (labels < 2 || n - last < 2)
        return false;
    for (size_t i = last; i < n; i++)
        if (!isalpha((unsigned char)s[i]))
            alpha_tld = false;
    if (!alpha_tld)
        return false;
    *special = special_tld(s + last, n - last);
    if (*special)
        return true;
    char tld[64];
    size_t tl = n - last;
    if (tl >= sizeof tld)
        return false;
    for (size_t i = 0; i < tl; i++)
        tld[i] = (char)tolower((unsigned char)s[last + i]);
    tld[tl] = '\0';
    return psl_is_public_suffix2(psl, tld, PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE) != 0;
}

/* Dotted-quad IPv4 at the start of s[0..n); its length (0 if none) and value. */
static size_t ipv4_at(const char *s, size_t n, uint32_t *addr)
{
    size_t i = 0;
    uint32_t a = 0;
    for (int part = 0; part < 4; part++) {
        if (part) {
            if (i >= n || s[i] != '.')
                return 0;
            i++;
        }
        size_t start = i;
        unsigned v = 0;
        while (i < n && isdigit((unsigned char)s[i]) && i - start < 3)
            v = v * 10 + (unsigned)(s[i++] - '0');
        if (i == start || v > 255 || (i - start > 1 && s[start] == '0'))
            return 0;
        a = a << 8 | v;
    }
    if (i < n && (isdigit((unsigned char)s[i]) || s[i] == '.' ) &&
        !(s[i] == '.' && (i + 1 == n || !isdigit((unsigned char)s[i + 1]))))
        return 0; /* 1.2.3.4.5, or a longer number */
    *addr = a;
    return i;
}

/* ---- what an address is for ------------------------------------------------------ */

/* The one classification of addresses (ioc.h): `vigil iocs` tags by it, and the
 * entities of alerts (entity.c) decide by it which values never correlate and are
 * never indicators. */
static vg_ip_scope ipv4_scope(uint32_t a)
{
    uint32_t b = a >> 24, c = a >> 16 & 0xff;
    if (a == 0)
        return VG_IP_UNSPECIFIED;
    if (a == 0xffffffffu)
        return VG_IP_BROADCAST;
    if (b == 127)
        return VG_IP_LOOPBACK;
    if (b == 169 && c == 254)
        return VG_IP_LINK_LOCAL;
    if (b >= 224 && b < 240)
        return VG_IP_MULTICAST;
    if (b == 10 || (b == 172 && (c & 0xf0) == 16) || (b == 192 && c == 168) ||
        (b == 100 && (c & 0xc0) == 64))
        return VG_IP_PRIVATE;
    if ((a >> 8) == 0xc00002 || (a >> 8) == 0xc63364 || (a >> 8) == 0xcb0071)
        return VG_IP_DOCUMENTATION;
    if (b == 0 || b >= 240 || (b == 198 && (c & 0xfe) == 18))
        return VG_IP_RESERVED;
    return VG_IP_PUBLIC;
}

static vg_ip_scope ipv6_scope(const unsigned char *a)
{
    static const unsigned char zero[16], mapped[12] = {[10] = 0xff, [11] = 0xff};
    if (memcmp(a, zero, 15) == 0)
        return a[15] == 0 ? VG_IP_UNSPECIFIED : a[15] == 1 ? VG_IP_LOOPBACK : VG_IP_RESERVED;
    if (memcmp(a, mapped, 12) == 0)
        return ipv4_scope((uint32_t)a[12] << 24 | (uint32_t)a[13] << 16 | (uint32_t)a[14] << 8 |
                          a[15]);
    if (a[0] == 0xff)
        return VG_IP_MULTICAST;
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
        return VG_IP_LINK_LOCAL;
    if ((a[0] & 0xfe) == 0xfc)
        return VG_IP_PRIVATE;
    if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8)
        return VG_IP_DOCUMENTATION;
    return VG_IP_PUBLIC;
}

/* The flags `vigil iocs` has always shown, from the scope. */
static int scope_flags(vg_ip_scope sc)
{
    switch (sc) {
    case VG_IP_PRIVATE:
    case VG_IP_LOOPBACK:
    case VG_IP_LINK_LOCAL:
        return VG_IOC_PRIVATE;
    case VG_IP_PUBLIC:
        return 0;
    default:
        return VG_IOC_RESERVED;
    }
}

bool vg_ip_scope_no_host(vg_ip_scope sc)
{
    return sc == VG_IP_LOOPBACK || sc == VG_IP_LINK_LOCAL || sc == VG_IP_MULTICAST ||
           sc == VG_IP_BROADCAST || sc == VG_IP_UNSPECIFIED;
}

const char *vg_ip_scope_name(vg_ip_scope sc)
{
    static const char *const names[] = {"public",    "documentation", "reserved",
                                        "private",   "loopback",      "link-local",
                                        "multicast", "broadcast",     "unspecified"};
    return (unsigned)sc < sizeof names / sizeof *names ? names[sc] : "public";
}

int vg_ip_scope_of(const char *s)
{
    char buf[64];
    size_t n = strcspn(s, "%"); /* fe80::1%eth0: the zone names no other address */
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    unsigned char a[16];
    if (memchr(buf, ':', n)) {
        if (inet_pton(AF_INET6, buf, a) != 1)
            return -1;
        return (int)ipv6_scope(a);
    }
    if (s[n] || inet_pton(AF_INET, buf, a) != 1)
        return -1;
    return (int)ipv4_scope((uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 |
                           a[3]);
}

/* ---- the scanner ------------------------------------------------------------------- */

typedef struct scan {
    const char *t;   /* refanged text */
    size_t m;        /* its length */
    size_t resume;   /* a path read past its token ends here: the scan goes on from it */
    vg_ioc_list *list; /* collecting: new indicators go here (else emit is called) */
    const size_t *marks;
    size_t nmarks;
    size_t mark_next; /* the first mark at or past the last indicator looked up */
    void (*emit)(struct scan *s, vg_ioc_kind kind, int flags, size_t at, size_t n);
    void *ud;
} scan;

/* Was a replacement written inside t[at..at+n)? Indicators are found in order of
 * position, so the search walks on from the last answer; a step back (which the
 * scanner does not take today) searches from the start again. */
static bool marked(scan *s, size_t at, size_t n)
{
    size_t k = s->mark_next;
    if (k > 0 && s->marks[k - 1] >= at) {
        size_t hi = k;
        k = 0;
        while (k < hi) { /* first mark >= at */
            size_t mid = (k + hi) / 2;
            if (s->marks[mid] < at)
                k = mid + 1;
            else
                hi = mid;
        }
    }
    while (k < s->nmarks && s->marks[k] < at)
        k++;
    s->mark_next = k;
    return k < s->nmarks && s->marks[k] < at + n;
}

static bool list_add_span(vg_ioc_list *l, vg_ioc_kind kind, int flags, const char *p, size_t n,
                          bool lower);

/* flags may carry an address's scope above its flag bits (SCOPE_AT); the list
 * keeps it apart. */
#define SCOPE_AT 8

/* The indicator written at t[at..at+n); listed as text[0..tn) when text is not
 * NULL (an IPv6 address in its canonical form), else as written. */
static void put_as(scan *s, vg_ioc_kind kind, int flags, size_t at, size_t n, const char *text,
                   size_t tn, bool lower)
{
    if (marked(s, at, n))
        flags |= VG_IOC_DEFANGED;
    if (s->list) {
        if (text)
            list_add_span(s->list, kind, flags, text, tn, lower);
        else
            list_add_span(s->list, kind, flags, s->t + at, n, lower);
        return;
    }
    s->emit(s, kind, flags & ((1 << SCOPE_AT) - 1), at, n);
}

static void put(scan *s, vg_ioc_kind kind, int flags, size_t at, size_t n, bool lower)
{
    put_as(s, kind, flags, at, n, NULL, 0, lower);
}

/* An address's flags with its scope above them. */
static int addr_flags(vg_ip_scope sc)
{
    return scope_flags(sc) | (int)sc << SCOPE_AT;
}

/* Is the IPv4 address a, followed in the text by p[0..n) (what came after it in
 * its token), the broadcast address of the subnet written with it? The prefix
 * must be written ("10.1.2.255/24": of a known subnet), /8 to /30 (a /31 or /32
 * has no broadcast address), and the host bits all ones. A bare x.x.x.255 is an
 * address like any other: in a /23 or a larger subnet it is a host's. */
static bool ipv4_subnet_broadcast(uint32_t a, const char *p, size_t n)
{
    if (n < 2 || p[0] != '/' || !isdigit((unsigned char)p[1]))
        return false;
    unsigned len = (unsigned)(p[1] - '0');
    size_t i = 2;
    if (i < n && isdigit((unsigned char)p[i]))
        len = len * 10 + (unsigned)(p[i++] - '0');
    if (i < n && isdigit((unsigned char)p[i]))
        return false;
    if (len < 8 || len > 30)
        return false;
    uint32_t host = (1u << (32 - len)) - 1;
    return (a & host) == host;
}

static bool prefix_ci(const char *s, size_t n, const char *p)
{
    size_t pl = strlen(p);
    return n >= pl && strncasecmp(s, p, pl) == 0;
}

/* Is p[0..n) all hex digits? */
static bool all_hex(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(cls[(unsigned char)p[i]] & C_HEX))
            return false;
    return true;
}

/* ---- paths and registry keys: read on the text itself, past their token ---------- */

/* Can byte c be inside a Windows path or registry key as vigil reads one? Not white
 * space or a control byte, nor what Windows forbids in names (< > | " * ?), nor
 * the backtick of markup; a comma or semicolon ends one ("a.exe,Control_RunDLL"). */
static inline bool path_byte(unsigned char c)
{
    return c > ' ' && c != 0x7f && !strchr("<>|\"*?`,;", c);
}

/* Does t[i..m) start a Windows path or key of its own: a drive ("C:\"), a share
 * ("\\host"), a variable ("%APPDATA%\", "%TEMP%/") or a registry hive? */
static size_t env_prefix(const char *t, size_t n);
static bool path_start(const char *t, size_t n)
{
    unsigned char c0 = (unsigned char)t[0];
    return (n > 2 && isalpha(c0) && t[1] == ':' && t[2] == '\\') ||
           (n > 2 && c0 == '\\' && t[1] == '\\') || env_prefix(t, n) ||
           ((c0 == 'H' || c0 == 'h') && n > 4 && (t[1] == 'K' || t[1] == 'k'));
}

/* Is w[0..n) a file's name: a word with an extension of 2 to 4 letters or digits
 * ("Panel.lnk")? */
static bool file_word(const char *w, size_t n)
{
    const char *dot = n ? memrchr(w, '.', n) : NULL;
    if (!dot || dot == w)
        return false;
    size_t ext = n - (size_t)(dot - w) - 1;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)w[i]) && !strchr("._-~$()[]", w[i]))
            return false;
    return ext >= 2 && ext <= 4;
}

/* "%NAME%\" or "%NAME%/" at the start of t[0..n): the length of "%NAME%", else 0.
 * NAME is what Windows' variables are written with: letters, digits, _ ( ). */
static size_t env_prefix(const char *t, size_t n)
{
    if (n < 4 || t[0] != '%' || !(isalpha((unsigned char)t[1]) || t[1] == '_'))
        return 0;
    size_t i = 1;
    while (i < n && i < 40 && (isalnum((unsigned char)t[i]) || strchr("_()", t[i])))
        i++;
    return i + 1 < n && t[i] == '%' && (t[i + 1] == '\\' || t[i + 1] == '/') ? i + 1 : 0;
}

/* The end of a Windows path or registry key that starts at t[at] (of t[0..m)). It
 * runs over path bytes, braces included ("CLSID\{...}"), and over a space when the
 * word after it goes on with a backslash ("C:\Program Files\x.exe",
 * "Windows NT\CurrentVersion") and starts no path of its own. Written between
 * backticks, quotes or AsciiDoc's ++ on one line, it runs to the closing mark,
 * spaces and all (`%STARTUP%\Control Panel.lnk`). What ends a sentence or wraps
 * it is not part of it: final dots, colons, an unbalanced ) or ]. Linear: each
 * byte is read a bounded number of times (a word that does not go on is read
 * again by the scanner). */
static size_t path_end(const char *t, size_t m, size_t at)
{
    size_t end = at;
    for (;;) {
        while (end < m && path_byte((unsigned char)t[end]))
            end++;
        if (end + 1 >= m || t[end] != ' ')
            break;
        size_t w = end + 1, slash = 0;
        while (w < m && path_byte((unsigned char)t[w])) {
            if (t[w] == '\\' && !slash)
                slash = w;
            w++;
        }
        bool last = w == m || t[w] == '\n' || t[w] == '\r'; /* "...\Control Panel.lnk" */
        if (!slash && last && file_word(t + end + 1, w - end - 1)) {
            end = w;
            break;
        }
        if (!slash || slash == end + 1 || path_start(t + end + 1, m - end - 1))
            break;
        end = w;
    }
    /* a span closed on its line by the mark that opened it */
    const char *close = NULL;
    size_t cl = 0;
    if (at >= 2 && t[at - 1] == '+' && t[at - 2] == '+')
        close = "++", cl = 2;
    else if (at >= 1 && (t[at - 1] == '`' || t[at - 1] == '"' || t[at - 1] == '\''))
        close = t + at - 1, cl = 1;
    if (close) {
        /* to the closing mark ("++" before a backtick or the word's end: a path may
         * hold "++" itself, Notepad++), not past an option (" -k", " /c") */
        size_t i = at;
        while (i < m && t[i] != '\n' && t[i] != '\r' && t[i] != '\t' &&
               !(cl == 1 && t[i] == close[0]) &&
               !(cl == 2 && t[i] == '+' && i + 1 < m && t[i + 1] == '+') &&
               !(t[i] == ' ' && i + 1 < m && (t[i + 1] == '-' || t[i + 1] == '/')) &&
               !strchr("<>|`\"", t[i]))
            i++;
        /* the search stops at the first mark of its kind, so the spans searched from
         * two starts never overlap; a "++" inside a name closes nothing */
        bool closed =
            i < m &&
            (t[i] == ' ' || (cl == 1 && t[i] == close[0]) ||
             (cl == 2 && t[i] == '+' && (i + 2 >= m || !path_byte((unsigned char)t[i + 2]))));
        if (closed && (i > end || cl == 2)) {
            while (i > at && t[i - 1] == ' ')
                i--;
            end = i;
        } else if (cl == 2 && end >= at + 2 && t[end - 1] == '+' && t[end - 2] == '+') {
            end -= 2; /* "++C:\x\Notepad++\a.exe++": the marks around it */
        }
    }
    /* trim: sentence punctuation, a closing typographic quote (U+2019, U+201D, as
     * UTF-8), and a ) or ] that closes nothing of its own */
    long paren = 0, bracket = 0; /* opened minus closed, counted once */
    for (size_t i = at; i < end; i++) {
        paren += t[i] == '(' ? 1 : t[i] == ')' ? -1 : 0;
        bracket += t[i] == '[' ? 1 : t[i] == ']' ? -1 : 0;
    }
    for (;;) {
        while (end > at && strchr(".:,;!'", t[end - 1]))
            end--;
        if (end >= at + 3 && (unsigned char)t[end - 3] == 0xe2 &&
            (unsigned char)t[end - 2] == 0x80 &&
            ((unsigned char)t[end - 1] == 0x99 || (unsigned char)t[end - 1] == 0x9d)) {
            end -= 3;
            continue;
        }
        if (end > at && t[end - 1] == ')' && paren < 0) {
            end--, paren++;
            continue;
        }
        if (end > at && t[end - 1] == ']' && bracket < 0) {
            end--, bracket++;
            continue;
        }
        break;
    }
    return end;
}

/* Put the Windows path or registry key at t[at..end), and go on scanning after
 * it. A registry key's doubled backslashes ("CLSID\\{...}", escapes of markup) are
 * single: a key's name is never empty. */
static void put_path(scan *s, vg_ioc_kind kind, size_t at, size_t end)
{
    size_t n = end - at;
    if (s->resume < end)
        s->resume = end;
    if (kind != VG_IOC_REGISTRY || !memmem(s->t + at, n, "\\\\", 2)) {
        put(s, kind, 0, at, n, false);
        return;
    }
    char *v = vg_xmalloc(n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!(s->t[at + i] == '\\' && k && v[k - 1] == '\\'))
            v[k++] = s->t[at + i];
    put_as(s, kind, 0, at, n, v, k, false);
    free(v);
}

/* Is the text before t[at] an HTTP method and a space ("GET /x/y.php")? Then what
 * starts there is the target of a request, a part of a URL, not a file. */
static bool request_target(const char *t, size_t at)
{
    static const char *const methods[] = {"GET",    "POST",    "PUT",   "HEAD",
                                          "DELETE", "OPTIONS", "PATCH", "CONNECT"};
    if (at < 4 || t[at - 1] != ' ')
        return false;
    for (size_t k = 0; k < sizeof methods / sizeof *methods; k++) {
        size_t l = strlen(methods[k]);
        if (at >= l + 1 && memcmp(t + at - 1 - l, methods[k], l) == 0 &&
            (at == l + 1 || !isalpha((unsigned char)t[at - 2 - l])))
            return true;
    }
    return false;
}

/* Is the Unix path p[0..n) more likely base64 (a key or a blob in a report, cut at
 * a line's end), which has a long segment of mixed case and digits without a dot,
 * dash or underscore, or a '+'? */
static bool base64_like(const char *p, size_t n)
{
    if (memchr(p, '+', n) && !memchr(p, '.', n))
        return true;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        bool up = false, lo = false, dig = false, punct = false;
        while (j < n && p[j] != '/') {
            unsigned char c = (unsigned char)p[j++];
            up |= isupper(c);
            lo |= islower(c);
            dig |= isdigit(c);
            punct |= c == '.' || c == '-' || c == '_';
        }
        if (j - i >= 16 && up && lo && dig && !punct)
            return true;
        i = j + 1;
    }
    return false;
}

/* Is the name p[0..n), a domain by its form, more likely something else when it
 * was not written defanged? Written in capitals, it is a product or a realm in
 * prose ("ASP.NET", "VB.NET", "[APKGOD.NET]"), and so are the names of
 * Microsoft's frameworks however written ("asp.net"); under .zip or .mov, the
 * top-level domains named after file types, it is a file ("loader.zip",
 * "clip.mov"). An analyst who means such a name as an indicator writes it
 * defanged ("update[.]zip"), or in a URL or an e-mail address. */
static bool name_in_prose(const char *p, size_t n)
{
    bool letter = false, lower = false;
    for (size_t i = 0; i < n; i++) {
        letter |= isalpha((unsigned char)p[i]) != 0;
        lower |= islower((unsigned char)p[i]) != 0;
    }
    if (letter && !lower)
        return true;
    static const char *const tech[] = {"asp.net", "ado.net", "vb.net"}; /* Microsoft's */
    for (size_t i = 0; i < sizeof tech / sizeof *tech; i++)
        if (strlen(tech[i]) == n && strncasecmp(p, tech[i], n) == 0)
            return true;
    return (n > 4 && strncasecmp(p + n - 4, ".zip", 4) == 0) ||
           (n > 4 && strncasecmp(p + n - 4, ".mov", 4) == 0);
}

/* Classify one narrow token t[at..at+n). seen holds at least the classes of its
 * bytes (C_ANY when the caller does not know them).
 *
 * Linear in n whatever the token: key:value labels ("src:", "sha1:"), which may
 * nest as deep as the token is long ("gg:gg:...:evil.com"), are stepped over by a
 * loop, not a call per level, and each level's questions (an '@' in the rest? a
 * '.'?) are answered from what the level before found rather than by searching
 * the rest again. */
static void narrow(scan *s, size_t at, size_t n, unsigned seen)
{
    const char *p = s->t + at;
    const char *colon, *dot = NULL; /* dot: the first '.' at or past p, once looked for */
    bool version = false;           /* the value is under a version's label */
    for (;;) {
        if (p[0] == '%' && env_prefix(p, n)) { /* %TEMP%\x.log: before '%' is trimmed */
            put_path(s, VG_IOC_PATH, at, path_end(s->t, s->m, at));
            return;
        }
        /* trim punctuation that ends sentences or wraps values (a path keeps a
         * trailing backslash only when it is doubled) */
        while (n && (cls[(unsigned char)p[n - 1]] & C_TRIM_END) &&
               !(n > 1 && p[n - 1] == '\\' && p[n - 2] != '\\'))
            n--;
        while (n && (cls[(unsigned char)p[0]] & C_TRIM_START) &&
               !(n > 2 && p[0] == ':' && p[1] == ':' && (cls[(unsigned char)p[2]] & C_HEX)) &&
               !(p[0] == '%' && env_prefix(p, n))) {
            p++;
            at++;
            n--;
        }
        if (n < 4)
            return;
        if (p[0] == '%' && env_prefix(p, n)) { /* "++%TEMP%\x.txt++" */
            put_path(s, VG_IOC_PATH, at, path_end(s->t, s->m, at));
            return;
        }
        unsigned char c0 = (unsigned char)p[0];
        /* the marks the token holds: looked for only where the scanner saw one, and
         * a mark found absent stays absent in the value under a label (it is part
         * of this token); an '@' ends the search below, so it is looked for once */
        const char *at_sign = seen & C_AT ? memchr(p, '@', n) : NULL;
        colon = seen & C_COLON ? memchr(p, ':', n) : NULL;
        if ((seen & C_DOT) && (!dot || dot < p))
            dot = memchr(p, '.', n);
        seen &= ~((at_sign ? 0u : C_AT) | (colon ? 0u : C_COLON) | (dot ? 0u : C_DOT));

        if ((c0 == 'H' || c0 == 'h') &&
            (prefix_ci(p, n, "HKLM\\") || prefix_ci(p, n, "HKCU\\") ||
             prefix_ci(p, n, "HKCR\\") || prefix_ci(p, n, "HKU\\") || prefix_ci(p, n, "HKCC\\") ||
             prefix_ci(p, n, "HKEY_"))) {
            put_path(s, VG_IOC_REGISTRY, at, path_end(s->t, s->m, at));
            return;
        }
        if ((isalpha(c0) && n > 3 && p[1] == ':' && p[2] == '\\') ||
            (c0 == '\\' && p[1] == '\\')) {
            put_path(s, VG_IOC_PATH, at, path_end(s->t, s->m, at));
            return;
        }
        if (c0 == '/') {
            size_t segs = 0;
            for (size_t i = 0; i + 1 < n; i++)
                if (p[i] == '/' && p[i + 1] != '/' && isalnum((unsigned char)p[i + 1]))
                    segs++;
            if (segs >= 2 && !memchr(p, ':', n) && !memchr(p, '@', n) && !base64_like(p, n) &&
                !(n == 9 && memcmp(p, "/dev/null", 9) == 0) && !request_target(s->t, at))
                put(s, VG_IOC_PATH, 0, at, n, false);
            return;
        }
        if ((c0 == 'C' || c0 == 'c') && prefix_ci(p, n, "CVE-")) {
            size_t i = 4, y = 0, d = 0;
            while (i < n && isdigit((unsigned char)p[i]))
                i++, y++;
            if (y == 4 && i < n && p[i] == '-') {
                i++;
                while (i < n && isdigit((unsigned char)p[i]))
                    i++, d++;
                if (d >= 4 && d <= 7)
                    put(s, VG_IOC_CVE, 0, at, i, false);
            }
            return;
        }
        /* hashes: all hex, exact lengths */
        if ((n == 32 || n == 40 || n == 64 || n == 128) && all_hex(p, n)) {
            put(s, n == 32 ? VG_IOC_MD5 : n == 40 ? VG_IOC_SHA1 : n == 64 ? VG_IOC_SHA256
                                                                          : VG_IOC_SHA512,
                0, at, n, true);
            return;
        }
        if (at_sign) {
            size_t local = (size_t)(at_sign - p), dn = n - local - 1;
            bool special;
            if (local == 0 || local > 64 || memchr(at_sign + 1, '@', dn))
                return;
            for (size_t i = 0; i < local; i++)
                if (!(isalnum((unsigned char)p[i]) || strchr("._%+-", p[i])))
                    return;
            if (is_domain(at_sign + 1, dn, &special))
                put(s, VG_IOC_EMAIL, special ? VG_IOC_RESERVED : 0, at, n, true);
            return;
        }
        /* key:value (sha1:..., src:...): a word before the colon that no IPv6 group
         * or drive letter could be (it has a letter past f) is a label, not part of
         * it; the value is classified as a token of its own */
        if (!colon)
            break;
        size_t k = (size_t)(colon - p);
        bool word = k >= 2 && k <= 16;
        bool label = false;
        for (size_t i = 0; i < k && word; i++) {
            unsigned char ch = (unsigned char)p[i];
            word = isalnum(ch) || ch == '_' || ch == '-';
            label |= isalpha(ch) && !(cls[ch] & C_HEX);
        }
        if (!(word && label && k + 1 < n && p[k + 1] != '/' && p[k + 1] != '\\'))
            break;
        /* "rv:1.9.0.19" (a user agent), "version:4.0.9.3": a version, not an address */
        version = (k == 2 && strncasecmp(p, "rv", 2) == 0) ||
                  (k == 3 && strncasecmp(p, "ver", 3) == 0) ||
                  (k == 7 && strncasecmp(p, "version", 7) == 0);
        p += k + 1;
        at += k + 1;
        n -= k + 1;
    }
    /* IPv6: two colons or more, hex digits, maybe a dotted tail */
    if (colon && memchr(colon + 1, ':', n - (size_t)(colon - p) - 1)) {
        char buf[64];
        unsigned char a[16];
        size_t m = n;
        const char *pct = memchr(p, '%', n);
        if (pct)
            m = (size_t)(pct - p);
        if (m < sizeof buf) {
            memcpy(buf, p, m);
            buf[m] = '\0';
            char canon[INET6_ADDRSTRLEN];
            if (inet_pton(AF_INET6, buf, a) == 1 && inet_ntop(AF_INET6, a, canon, sizeof canon)) {
                put_as(s, VG_IOC_IPV6, addr_flags(ipv6_scope(a)), at, m, canon, strlen(canon),
                       true);
                return;
            }
        }
        /* not an address: a host with a port and a path ("evil.com:80:/x.php") */
    }
    if (isdigit((unsigned char)p[0])) {
        uint32_t a;
        size_t m = ipv4_at(p, n, &a);
        if (m && version)
            return;
        if (m) {
            vg_ip_scope sc =
                ipv4_subnet_broadcast(a, p + m, n - m) ? VG_IP_BROADCAST : ipv4_scope(a);
            put(s, VG_IOC_IPV4, addr_flags(sc), at, m, false);
            return;
        }
    }
    if (dot && dot < p + n) {
        size_t m = n;
        const char *stop = NULL;
        for (size_t i = 0; i < n && !stop; i++)
            if (p[i] == '/' || p[i] == ':' || p[i] == '\\' || p[i] == '%' || p[i] == '+')
                stop = p + i;
        if (stop)
            m = (size_t)(stop - p);
        while (m && p[m - 1] == '.')
            m--;
        bool special;
        if (is_domain(p, m, &special) && (marked(s, at, m) || !name_in_prose(p, m)))
            put(s, VG_IOC_DOMAIN, special ? VG_IOC_RESERVED : 0, at, m, true);
    }
}

/* Could t[0..n) hold an indicator, given the classes seen in it? */
static inline bool worth_a_look(const char *t, size_t n, unsigned seen)
{
    return n >= 4 && ((seen & C_MARK) || n >= 32 || ((t[0] | 0x20) == 'c' && (seen & C_DIGIT)));
}

static const char *const schemes[] = {"https", "http", "ftps", "ftp", "sftp", "wss", "ws", "file"};

/* Where a URL at p[host..end) (host: the byte after "://") stops being one: at a
 * '[' past an IPv6 literal host (AsciiDoc's link text, "https://x.org[name]"), at
 * "++" (AsciiDoc's passthrough marks), then before what ends a sentence. */
static size_t url_end(const char *p, size_t host, size_t end)
{
    size_t i = host;
    if (i < end && p[i] == '[') { /* [2001:db8::1]:8080 */
        while (i < end && p[i] != ']')
            i++;
    }
    for (; i < end; i++)
        if (p[i] == '[' || (p[i] == '+' && i + 1 < end && p[i + 1] == '+'))
            break;
    while (i > host && strchr(".,;:!?)]'\"*", p[i - 1]))
        i--;
    return i;
}

/* A wide token t[at..at+n) whose bytes have the classes seen: a URL if it holds
 * scheme://host, else narrow tokens. */
static void wide(scan *s, size_t at, size_t n, unsigned seen)
{
    const char *p = s->t + at;
    const char *sep = n > 6 && (seen & C_COLON) ? memchr(p, ':', n) : NULL;
    /* what ends a sentence or wraps a URL is not part of it: trimmed once for the
     * token, not once for each "scheme://" in it, which a run of them before a run
     * of dots made quadratic ("http:///http:///....") */
    size_t tail = n;
    while (sep && tail && strchr(".,;:!?)]'\"", p[tail - 1]))
        tail--;
    while (sep && (size_t)(sep - p) + 3 <= n) {
        size_t off = (size_t)(sep - p);
        if (sep[1] == '/' && sep[2] == '/') {
            size_t start = off;
            while (start && isalpha((unsigned char)p[start - 1]))
                start--;
            for (size_t k = 0; k < sizeof schemes / sizeof *schemes; k++) {
                size_t sl = strlen(schemes[k]);
                if (off - start >= sl && strncasecmp(p + off - sl, schemes[k], sl) == 0) {
                    size_t ustart = off - sl, end = tail > off + 3 ? tail : off + 3;
                    size_t host = off + 3, he = host;
                    while (he < end && !strchr("/?#:@", p[he]))
                        he++;
                    if (he > host) {
                        for (size_t i = 0; i < ustart;) { /* what precedes, e.g. url= */
                            size_t j = i;
                            while (j < ustart && (cls[(unsigned char)p[j]] & C_NARROW))
                                j++;
                            if (j > i)
                                narrow(s, at + i, j - i, C_ANY);
                            i = j + 1;
                        }
                        end = url_end(p, host, end);
                        if (end > host)
                            put(s, VG_IOC_URL, 0, at + ustart, end - ustart, false);
                        return;
                    }
                }
            }
        }
        sep = memchr(sep + 1, ':', n - off - 1);
    }
    if (!(seen & C_SPLIT)) { /* one narrow token, already worth a look */
        narrow(s, at, n, seen);
        return;
    }
    for (size_t i = 0; i < n;) {
        size_t j = i;
        unsigned part = 0;
        while (j < n && (cls[(unsigned char)p[j]] & C_NARROW))
            part |= cls[(unsigned char)p[j++]];
        if (worth_a_look(p + i, j - i, part))
            narrow(s, at + i, j - i, part);
        i = j + 1;
        if (s->resume > at + i) { /* a path ran on past this token */
            if (s->resume >= at + n)
                return;
            i = s->resume - at;
        }
    }
}

static void run_scan(scan *s, size_t m)
{
    const unsigned char *t = (const unsigned char *)s->t;
    for (size_t i = 0; i < m;) {
        while (i < m && !(cls[t[i]] & C_WIDE))
            i++;
        size_t start = i;
        unsigned seen = 0;
        while (i < m && (cls[t[i]] & C_WIDE))
            seen |= cls[t[i++]];
        if (worth_a_look((const char *)t + start, i - start, seen))
            wide(s, start, i - start, seen);
        if (s->resume > i)
            i = s->resume;
    }
}

/* ---- extraction ------------------------------------------------------------------ */

/* The stored form of a byte of kind: lower-cased where case-insensitive, CVE ids
 * upper-cased. */
static inline unsigned char fold(vg_ioc_kind kind, bool lower, unsigned char c)
{
    /* ASCII only: indicators are ASCII, and this runs for every byte of every hit */
    if (kind == VG_IOC_CVE)
        return c >= 'a' && c <= 'z' ? (unsigned char)(c - 32) : c;
    return lower && c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* One entry of the set of what a list holds. A repeat is checked against the slot
 * alone (its hash, then its value), never the items array: on a log of any size
 * the set is out of cache, and each hop is a miss. */
struct vg_ioc_slot {
    uint64_t h;        /* 0: empty; else a hash whose low four bits are kind + 1 */
    const char *value; /* the item's value (owned by the item) */
};

static size_t slot_of(uint64_t h, size_t cap) { return (size_t)(h >> 4) & (cap - 1); }

static void seen_grow(vg_ioc_list *l)
{
    size_t cap = l->seen_cap ? l->seen_cap * 2 : 64;
    struct vg_ioc_slot *tab = vg_xcalloc(cap, sizeof *tab);
    for (size_t i = 0; i < l->seen_cap; i++)
        if (l->seen[i].h)
            for (size_t k = slot_of(l->seen[i].h, cap);; k = (k + 1) & (cap - 1))
                if (!tab[k].h) {
                    tab[k] = l->seen[i];
                    break;
                }
    free(l->seen);
    l->seen = tab;
    l->seen_cap = cap;
}

/* Add the indicator written at p[0..n) unless the list holds it: hashed and
 * compared in place, so a repeat (most hits in a log) costs no copy. */
static bool list_add_span(vg_ioc_list *l, vg_ioc_kind kind, int flags, const char *p, size_t n,
                          bool lower)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)kind;
    for (size_t i = 0; i < n; i++)
        h = (h ^ fold(kind, lower, (unsigned char)p[i])) * 1099511628211ULL;
    h = (h & ~(uint64_t)15) | (uint64_t)(kind + 1); /* VG_IOC_PATH + 1 < 16 */
    if (l->seen_n * 2 >= l->seen_cap)
        seen_grow(l);
    size_t k = slot_of(h, l->seen_cap);
    for (;; k = (k + 1) & (l->seen_cap - 1)) {
        const struct vg_ioc_slot *e = &l->seen[k];
        if (!e->h)
            break;
        if (e->h != h)
            continue;
        const char *v = e->value;
        size_t i = 0;
        while (i < n && v[i] && (unsigned char)v[i] == fold(kind, lower, (unsigned char)p[i]))
            i++;
        if (i == n && v[i] == '\0')
            return false;
    }
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->items = vg_xrealloc(l->items, l->cap * sizeof *l->items);
    }
    char *v = vg_xmalloc(n + 1);
    for (size_t i = 0; i < n; i++)
        v[i] = (char)fold(kind, lower, (unsigned char)p[i]);
    v[n] = '\0';
    l->seen[k] = (struct vg_ioc_slot){h, v};
    l->seen_n++;
    l->items[l->n++] =
        (vg_ioc){kind, flags & ((1 << SCOPE_AT) - 1), (vg_ip_scope)(flags >> SCOPE_AT), v};
    return true;
}

size_t vg_ioc_extract(const char *text, size_t len, vg_ioc_list *out)
{
    ensure_init();
    size_t m, *marks = NULL, nmarks = 0, before = out->n;
    char *t = refang_marked(text, len, &m, &marks, &nmarks);
    scan s = {.t = t, .m = m, .list = out, .marks = marks, .nmarks = nmarks};
    run_scan(&s, m);
    free(marks);
    free(t);
    return out->n - before;
}

void vg_ioc_list_free(vg_ioc_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i].value);
    free(l->items);
    free(l->seen);
    memset(l, 0, sizeof *l);
}

const char *vg_ioc_type(vg_ioc_kind kind)
{
    static const char *const types[] = {"ip",     "ip",     "domain", "url", "email",
                                        "md5",    "sha1",   "sha256", "sha512",
                                        "cve",    "registry", "filename"};
    return (unsigned)kind < sizeof types / sizeof *types ? types[kind] : "other";
}

/* ---- defanging -------------------------------------------------------------------- */

typedef struct span {
    size_t at, n;
    vg_ioc_kind kind;
} span;

typedef struct spans {
    span *v;
    size_t n, cap;
} spans;

static void span_emit(scan *s, vg_ioc_kind kind, int flags, size_t at, size_t n)
{
    (void)flags;
    spans *sp = s->ud;
    if (kind != VG_IOC_IPV4 && kind != VG_IOC_IPV6 && kind != VG_IOC_DOMAIN &&
        kind != VG_IOC_URL && kind != VG_IOC_EMAIL)
        return;
    if (sp->n == sp->cap) {
        sp->cap = sp->cap ? sp->cap * 2 : 16;
        sp->v = vg_xrealloc(sp->v, sp->cap * sizeof *sp->v);
    }
    sp->v[sp->n++] = (span){at, n, kind};
}

/* Append a URL defanged: each scheme ("http" becomes "hxxp"; others stay as they
 * are, since refang knows only hxxp) with its "://" as "[://]", and the dots of
 * the host after it as "[.]". Every "://" in it, not only the first: a URL inside
 * another's path or query ("https://web.archive.org/web/2024/http://evil.com/x")
 * must not stay live. One pass: each byte is looked at a bounded number of times. */
static vg_rc defang_url(vg_buf *b, const char *p, size_t n)
{
    vg_rc rc = VG_OK;
    size_t pos = 0;
    while (pos < n && rc == VG_OK) {
        const char *sep = memmem(p + pos, n - pos, "://", 3);
        size_t at = sep ? (size_t)(sep - p) : n, start = at;
        while (sep && start > pos && (isalnum((unsigned char)p[start - 1]) ||
                                      strchr("+-.", p[start - 1])))
            start--;
        rc = vg_buf_add(b, p + pos, start - pos);
        if (!sep || rc)
            break;
        bool http = at - start >= 4 && strncasecmp(p + start, "http", 4) == 0;
        for (size_t k = start; k < at && rc == VG_OK; k++) {
            char ch = p[k];
            if (http && (k == start + 1 || k == start + 2))
                ch = 'x';
            rc = vg_buf_add(b, &ch, 1);
        }
        if (rc == VG_OK)
            rc = vg_buf_adds(b, "[://]");
        for (pos = at + 3; pos < n && !strchr("/?#", p[pos]) && rc == VG_OK; pos++)
            rc = p[pos] == '.' ? vg_buf_adds(b, "[.]") : vg_buf_add(b, p + pos, 1);
    }
    return rc;
}

/* Append the defanged form of one indicator. */
static vg_rc defang_one(vg_buf *b, const char *p, size_t n, vg_ioc_kind kind)
{
    if (kind == VG_IOC_URL)
        return defang_url(b, p, n);
    vg_rc rc = VG_OK;
    bool in_host = kind != VG_IOC_EMAIL;
    for (size_t i = 0; i < n && rc == VG_OK; i++) {
        if (kind == VG_IOC_EMAIL && p[i] == '@') {
            rc = vg_buf_adds(b, "[@]");
            in_host = true;
        } else if (p[i] == '.' && in_host) {
            rc = vg_buf_adds(b, "[.]");
        } else if (p[i] == ':' && kind == VG_IOC_IPV6) {
            rc = vg_buf_adds(b, "[:]");
        } else {
            rc = vg_buf_add(b, p + i, 1);
        }
    }
    return rc;
}

char *vg_defang(const char *text)
{
    ensure_init();
    size_t m;
    char *t = refang_marked(text, strlen(text), &m, NULL, NULL);
    spans sp = {0};
    scan s = {.t = t, .m = m, .emit = span_emit, .ud = &sp};
    run_scan(&s, m);
    vg_buf b;
    vg_buf_init(&b, (size_t)m * 4 + 64);
    size_t pos = 0;
    vg_rc rc = VG_OK;
    for (size_t k = 0; k < sp.n && rc == VG_OK; k++) {
        if (sp.v[k].at < pos)
            continue;
        rc = vg_buf_add(&b, t + pos, sp.v[k].at - pos);
        if (rc == VG_OK)
            rc = defang_one(&b, t + sp.v[k].at, sp.v[k].n, sp.v[k].kind);
        pos = sp.v[k].at + sp.v[k].n;
    }
    if (rc == VG_OK)
        rc = vg_buf_add(&b, t + pos, m - pos);
    free(sp.v);
    free(t);
    return vg_buf_take(&b); /* four times the text always fits: see the cap */
}
