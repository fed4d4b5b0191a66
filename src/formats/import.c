/*
 * import.c — reading alert streams into the workspace (see import.h).
 *
 * The reader holds one record at a time (at most IMP_MAX_RECORD bytes), so memory
 * does not grow with the file: JSON lines, a JSON array, pretty objects one after
 * another, and a search response's hits inside any of them, are all split into
 * records as the bytes stream by (the shapes: "records" below). The bytes come
 * from import_src.c, which decompresses and checks the encoding.
 */
#include "import.h"
#include "import_src.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vigil/attack.h"
#include "vigil/buf.h"
#include "vigil/entity.h"
#include "vigil/json.h"
#include "vigil/op.h"

/* ---- redaction ------------------------------------------------------------------
 *
 * What is a secret is decided once, on decoded text: a key is a secret's when its
 * name (escapes decoded, any case) holds one of the words, or is one of the short
 * ones as a word of its own ("pin", "user_pin", not "ping" or "spinner"); inside
 * any string, NAME=VALUE with a secret NAME (a command line's --password=, a URL's
 * ?access_token=) and a URL's userinfo password lose the value. The parsed record
 * (what the mappers read) and the raw text (what is stored) are walked each their
 * own way, asking the same two questions. */

static bool word_char(char c)
{
    return isalnum((unsigned char)c);
}

/* Does the key name a secret? Every key of every record is asked, so the words
 * are found by their first letter. */
static bool secret_key(const char *k, size_t n)
{
    typedef struct word {
        const char *w;
        size_t len;
    } word;
#define W(s) {s, sizeof s - 1}
    /* by first letter; the short ones count only as words of their own */
    static const word a[] = {W("api_key"), W("apikey"), W("api-key"), W("authorization"), {0}},
                      c_[] = {W("cookie"), W("credential"), {0}},
                      p[] = {W("password"), W("passwd"), W("pwd"), W("passphrase"),
                             W("private_key"), W("private-key"), W("privatekey"), {0}},
                      s[] = {W("secret"), W("session_id"), W("session-id"), W("sessionid"), {0}},
                      t[] = {W("token"), {0}}, none[] = {{0}};
    static const word otp = W("otp"), pin = W("pin"), pass = W("pass");
#undef W
    for (size_t i = 0; i < n; i++) {
        const word *words = none, *whole = NULL, *whole2 = NULL;
        switch (tolower((unsigned char)k[i])) {
        case 'a': words = a; break;
        case 'c': words = c_; break;
        case 'p': words = p; whole = &pin; whole2 = &pass; break;
        case 's': words = s; break;
        case 't': words = t; break;
        case 'o': whole = &otp; break;
        default: continue;
        }
        for (; words->w; words++)
            if (words->len <= n - i && strncasecmp(k + i, words->w, words->len) == 0)
                return true;
        if (i > 0 && word_char(k[i - 1]))
            continue;
        const word *ws[] = {whole, whole2};
        for (size_t w = 0; w < 2; w++)
            if (ws[w] && ws[w]->len <= n - i && strncasecmp(k + i, ws[w]->w, ws[w]->len) == 0 &&
                (i + ws[w]->len == n || !word_char(k[i + ws[w]->len])))
                return true;
    }
    return false;
}

static bool name_char(char c)
{
    return word_char(c) || c == '_' || c == '-' || c == '.';
}

/* The n bytes at s with the secrets inside them replaced by [REDACTED] into out;
 * false (out untouched) when there are none. */
static bool redact_value(const char *s, size_t n, vg_buf *out)
{
    if (!memchr(s, '=', n) && !memmem(s, n, "://", 3))
        return false;
    size_t done = 0; /* s[0, done) is in out */
    bool changed = false;
    vg_rc rc = VG_OK;
    for (size_t i = 0; i < n; i++) {
        size_t cut = 0, resume = 0; /* redact s[cut, resume) */
        if (s[i] == '=') {
            size_t j = i;
            while (j > 0 && name_char(s[j - 1]))
                j--;
            if (j == i || !secret_key(s + j, i - j))
                continue;
            size_t v = i + 1, e;
            if (v < n && (s[v] == '\'' || s[v] == '"')) { /* --password='two words' */
                const char *q = memchr(s + v + 1, s[v], n - v - 1);
                v++;
                e = q ? (size_t)(q - s) : n;
            } else {
                for (e = v; e < n && s[e] && !strchr(" \t\r\n&;,", s[e]); e++)
                    ;
            }
            if (e == v)
                continue;
            cut = v;
            resume = e;
        } else if (s[i] == ':' && i + 3 <= n && s[i + 1] == '/' && s[i + 2] == '/') {
            size_t a = i + 3, e = a;
            while (e < n && s[e] && !strchr("/?# \t\r\n", s[e]))
                e++;
            const char *at = NULL;
            for (size_t k = a; k < e; k++)
                if (s[k] == '@')
                    at = s + k;
            const char *colon = at ? memchr(s + a, ':', (size_t)(at - (s + a))) : NULL;
            if (!colon || colon + 1 == at)
                continue;
            cut = (size_t)(colon + 1 - s);
            resume = (size_t)(at - s);
        } else {
            continue;
        }
        if (!changed)
            vg_buf_reset(out);
        changed = true;
        if (rc == VG_OK)
            rc = vg_buf_add(out, s + done, cut - done);
        if (rc == VG_OK)
            rc = vg_buf_adds(out, "[REDACTED]");
        done = resume;
        i = resume - 1;
    }
    if (changed && rc == VG_OK)
        rc = vg_buf_add(out, s + done, n - done);
    if (rc != VG_OK) /* past the cap: the whole value goes */
        vg_buf_reset(out), rc = vg_buf_adds(out, "[REDACTED]");
    return changed;
}

/* Names of one object's members, to find a repeated one. */
static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The parsed record made like the text that is stored: a secret key's value
 * "[REDACTED]", the secrets inside strings cut. False, with why, when an object
 * names a key twice: cJSON reads the first, other tools the last, so which value
 * an analyst sees would depend on the tool (and a secret could hide behind it). */
static bool redact_tree(cJSON *j, vg_buf *scratch, char *why, size_t whysz)
{
    if (cJSON_IsObject(j) && j->child && j->child->next) {
        size_t n = 0;
        for (const cJSON *c = j->child; c; c = c->next)
            n++;
        char *small[32], **names = n <= 32 ? small : vg_xmalloc(n * sizeof *names);
        n = 0;
        for (cJSON *c = j->child; c; c = c->next)
            names[n++] = c->string;
        qsort(names, n, sizeof *names, by_name);
        const char *twice = NULL;
        for (size_t i = 1; i < n && !twice; i++)
            if (strcmp(names[i - 1], names[i]) == 0)
                twice = names[i];
        if (twice)
            snprintf(why, whysz, "key '%.60s' appears twice in one object (tools disagree on"
                                 " which value counts)", twice);
        if (names != small)
            free(names);
        if (twice)
            return false;
    }
    for (cJSON *c = j->child, *next; c; c = next) {
        next = c->next;
        if (cJSON_IsObject(j) && secret_key(c->string, strlen(c->string))) {
            if (!cJSON_IsString(c) || strcmp(c->valuestring, "[REDACTED]") != 0)
                cJSON_ReplaceItemInObjectCaseSensitive(j, c->string,
                                                       cJSON_CreateString("[REDACTED]"));
        } else if (cJSON_IsString(c)) {
            if (redact_value(c->valuestring, strlen(c->valuestring), scratch))
                cJSON_SetValuestring(c, vg_buf_str(scratch));
        } else if (c->child && !redact_tree(c, scratch, why, whysz)) {
            return false;
        }
    }
    return true;
}

/* [s, e) with its control bytes escaped as JSON wants them inside a string. */
static vg_rc add_escaped(vg_buf *b, const char *s, const char *e)
{
    vg_rc rc = VG_OK;
    while (s < e && rc == VG_OK) {
        const char *q = s;
        while (q < e && (unsigned char)*q >= 0x20)
            q++;
        rc = vg_buf_add(b, s, (size_t)(q - s));
        if (q == e || rc != VG_OK)
            break;
        unsigned char c = (unsigned char)*q;
        const char *short_form = c == '\t' ? "\\t" : c == '\n' ? "\\n" : c == '\r' ? "\\r"
                               : c == '\b' ? "\\b" : c == '\f' ? "\\f" : NULL;
        rc = short_form ? vg_buf_adds(b, short_form) : vg_buf_addf(b, "\\u%04x", c);
        s = q + 1;
    }
    return rc;
}

/* The JSON string [s, e) (its quotes included) decoded, or NULL when it holds no
 * escape (its bytes between the quotes are then its text). A cJSON item the
 * caller deletes. */
static cJSON *decode_string(const char *s, const char *e)
{
    return memchr(s, '\\', (size_t)(e - s)) ? cJSON_ParseWithLength(s, (size_t)(e - s)) : NULL;
}

/* The bytes between the quotes of the string [s, e): none when it is cut short
 * at the end of the text (a lone opening quote). */
static size_t inner_len(const char *s, const char *e)
{
    return e - s >= 2 ? (size_t)(e - s - 2) : 0;
}

/* One string of the raw text: a value whose text holds a secret is encoded anew
 * without it; anything else is kept as it is, its control bytes escaped. */
static vg_rc add_string(vg_buf *b, const char *s, const char *e, vg_buf *scratch)
{
    cJSON *d = decode_string(s, e);
    const char *text = cJSON_IsString(d) ? d->valuestring : s + 1;
    size_t n = cJSON_IsString(d) ? strlen(text) : inner_len(s, e);
    vg_rc rc;
    if (redact_value(text, n, scratch)) {
        cJSON *r = cJSON_CreateString(vg_buf_str(scratch));
        char *enc = cJSON_PrintUnformatted(r);
        rc = vg_buf_adds(b, enc);
        cJSON_free(enc);
        cJSON_Delete(r);
    } else {
        rc = add_escaped(b, s, e);
    }
    cJSON_Delete(d);
    return rc;
}

static bool is_key(const char *k, const char *e)
{
    cJSON *d = decode_string(k, e);
    bool secret = cJSON_IsString(d) ? secret_key(d->valuestring, strlen(d->valuestring))
                                    : secret_key(k + 1, inner_len(k, e));
    cJSON_Delete(d);
    return secret;
}

/* The length of the number at s if it is one by RFC 8259
 * (-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?), else 0. */
static size_t json_number(const char *s, const char *end)
{
    const char *p = s;
    if (p < end && *p == '-')
        p++;
    if (p < end && *p == '0')
        p++;
    else if (p < end && *p >= '1' && *p <= '9')
        while (p < end && isdigit((unsigned char)*p))
            p++;
    else
        return 0;
    if (p < end && *p == '.') {
        if (++p == end || !isdigit((unsigned char)*p))
            return 0;
        while (p < end && isdigit((unsigned char)*p))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        if (++p < end && (*p == '+' || *p == '-'))
            p++;
        if (p == end || !isdigit((unsigned char)*p))
            return 0;
        while (p < end && isdigit((unsigned char)*p))
            p++;
    }
    if (p < end && (isalnum((unsigned char)*p) || *p == '.' || *p == '+' || *p == '-'))
        return 0; /* 01, 1.e5: more of a number than JSON allows */
    return (size_t)(p - s);
}

/* Between tokens cJSON skips any byte up to the space as if it were one. */
static bool json_space(char c)
{
    return (unsigned char)c <= ' ';
}

char *imp_redact(const char *text, size_t len, char *why, size_t whysz)
{
    vg_buf b, scratch;
    vg_buf_init(&b, len + 64 * 1024);
    vg_buf_init(&scratch, IMP_MAX_RECORD + 64 * 1024);
    const char *p = text, *end = text + len;
    vg_rc rc = VG_OK;
    while (p < end && rc == VG_OK) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '-' || isdigit(ch)) {
            size_t n = json_number(p, end);
            if (n == 0) {
                size_t shown = 0;
                while (p + shown < end && shown < 24 && strchr("0123456789+-.eE", p[shown]) &&
                       p[shown])
                    shown++;
                snprintf(why, whysz, "not JSON (the number '%.*s' at byte %zu)", (int)shown, p, (size_t)(p - text) + 1);
                vg_buf_free(&b);
                vg_buf_free(&scratch);
                return NULL;
            }
            rc = vg_buf_add(&b, p, n);
            p += n;
            continue;
        }
        if (ch != '"') { /* punctuation, literals, white space */
            const char *q = p;
            while (q < end && *q != '"' && *q != '-' && !isdigit((unsigned char)*q) &&
                   ((unsigned char)*q >= 0x20 || *q == '\t' || *q == '\n' || *q == '\r'))
                q++;
            if (q == p) { /* a control byte where white space may be */
                rc = vg_buf_add(&b, " ", 1);
                p++;
            } else {
                rc = vg_buf_add(&b, p, (size_t)(q - p));
                p = q;
            }
            continue;
        }
        const char *q = vg_json_string_end(p, end);
        const char *c = q; /* a key is a string followed by ':' */
        while (c < end && json_space(*c))
            c++;
        if (c < end && *c == ':') {
            rc = add_escaped(&b, p, q);
            if (rc == VG_OK && is_key(p, q)) {
                const char *v = c + 1;
                while (v < end && json_space(*v))
                    v++;
                rc = vg_buf_adds(&b, ":\"[REDACTED]\"");
                q = vg_json_value_end(v, end);
            }
        } else {
            rc = add_string(&b, p, q, &scratch);
        }
        p = q;
    }
    vg_buf_free(&scratch);
    if (rc != VG_OK) { /* cannot happen: the cap is above the input's size */
        vg_buf_free(&b);
        return vg_xstrdup("{}");
    }
    return vg_buf_take(&b);
}

/* ---- records --------------------------------------------------------------------
 *
 * The shape of an input is told by its first bytes (after import_src.c has
 * decompressed it and skipped a byte order mark):
 *   '['   one JSON array: its elements are the records;
 *   '{'   JSON lines when the first line is a whole value, or when it is not and
 *         the next line opens a value of its own (a first line cut short: one bad
 *         record, and the next line is the next one); otherwise pretty-printed
 *         objects one after another (concatenated JSON; a ',' between two is
 *         forgiven), each object a record;
 *   else  JSON lines (each bad line is a bad record).
 * Inside any record, a search response's hits (`hits.hits`, also inside Kibana
 * Inspect's `rawResponse` or `response`) are the records instead, handed out one
 * at a time as the array streams by: a response larger than IMP_MAX_RECORD reads
 * as well as a small one, and what surrounds the hits is read past, not kept. A
 * hit's `_source` is unwrapped when the record is parsed (prepare()).
 *
 * One scanner reads each byte once: strings, escapes and the depth, and at the
 * first PATH_DEPTH depths the keys that spell a search response's path. A record
 * is kept up to IMP_MAX_RECORD bytes; past that it is scanned to its end and
 * refused whole. Line numbers are counted as the bytes go by, so a record is named
 * by the line it starts on, whatever the shape. */

enum { M_START, M_LINES, M_ARRAY, M_VALUES, M_DONE };

#define PATH_DEPTH 4 /* rawResponse.hits.hits opens at depth 4 */
#define KEY_MAX 12   /* "rawResponse" and its NUL */

typedef struct scan {
    int depth;     /* containers open since the record began */
    int deepest;   /* the most open at once since then */
    bool str, esc; /* inside a string; just after its backslash */
    bool cap;      /* the string is a key of the path's depths: captured */
    uint8_t klen;  /* bytes captured; KEY_MAX: too long, or escaped */
    char kbuf[KEY_MAX];
    /* per depth 1..PATH_DEPTH: an object? its next string a key? the last key read
     * there, and the key whose value opened it */
    bool obj[PATH_DEPTH + 1], want_key[PATH_DEPTH + 1];
    char key[PATH_DEPTH + 1][KEY_MAX], opener[PATH_DEPTH + 1][KEY_MAX];
} scan;

typedef struct reader {
    imp_src *src;
    char chunk[64 * 1024];
    size_t pos, len;
    bool eof;
    int mode;
    bool probe;       /* the first line of a '{' input: a record, or the start of one? */
    bool probing;     /* past that line, looking at what comes next */
    size_t probe_len; /* that line's bytes in rec */
    bool to_eol;      /* the record opens no value: it runs to the end of its line */
    int64_t line;     /* the line the reader is on */
    vg_buf rec;       /* the record being assembled */
    int64_t rec_line; /* the line it started on */
    bool in_rec, too_big, discard;
    int hits;          /* > 0: reading a search response's hits, an array at this depth */
    int base;          /* the depth the record began at (0, or a hit's) */
    int64_t resp_line; /* the line that response started on */
    scan sc;
    const char *bad;  /* why the record is bad, when the reader knows it */
    char err[300];    /* why the input cannot be read on */
    int64_t err_line; /* the line the failure is at, 0 for none */
} reader;

static bool fill(reader *r)
{
    if (r->pos < r->len)
        return true;
    if (r->eof)
        return false;
    r->len = imp_src_read(r->src, r->chunk, sizeof r->chunk);
    r->pos = 0;
    r->eof = r->len < sizeof r->chunk; /* imp_src_read is short only at the end */
    return r->len > 0;
}

static void keep(reader *r, const char *s, size_t n)
{
    if (r->discard || r->too_big || n == 0)
        return;
    if (r->rec.len + n > IMP_MAX_RECORD || vg_buf_add(&r->rec, s, n) != VG_OK)
        r->too_big = true;
}

static void truncate_rec(reader *r, size_t n)
{
    if (r->rec.data && n < r->rec.len) {
        r->rec.len = n;
        r->rec.data[n] = '\0';
    }
}

static void scan_reset(scan *sc)
{
    sc->depth = sc->deepest = 0;
    sc->str = sc->esc = sc->cap = false;
    sc->obj[1] = sc->want_key[1] = false;
}

/* c ('{' or '[') opens a container: true when it is the hits array of a search
 * response (hits.hits, rawResponse.hits.hits or response.hits.hits). */
static bool scan_open(scan *sc, char c)
{
    int d = sc->depth, nd = ++sc->depth;
    if (nd > sc->deepest)
        sc->deepest = nd;
    if (nd > PATH_DEPTH)
        return false;
    sc->obj[nd] = sc->want_key[nd] = c == '{';
    sc->key[nd][0] = '\0';
    if (d >= 1 && sc->obj[d])
        memcpy(sc->opener[nd], sc->key[d], KEY_MAX);
    else
        sc->opener[nd][0] = '\0';
    if (c != '[' || nd < 3 || !sc->obj[1] || !sc->obj[nd - 1] ||
        strcmp(sc->opener[nd], "hits") != 0 || strcmp(sc->opener[nd - 1], "hits") != 0)
        return false;
    return nd == 3 || (sc->obj[2] && (strcmp(sc->opener[2], "rawResponse") == 0 ||
                                      strcmp(sc->opener[2], "response") == 0));
}

/* A '"' outside a string: a key of the path's depths is captured. */
static void scan_quote(scan *sc)
{
    int d = sc->depth;
    sc->str = true;
    sc->cap = false;
    if (d >= 1 && d <= PATH_DEPTH && sc->obj[d] && sc->want_key[d]) {
        sc->want_key[d] = false;
        sc->cap = d < PATH_DEPTH;
        sc->klen = 0;
    }
}

/* Bytes of a key being captured (none of them a quote or a backslash). */
static void scan_key_bytes(scan *sc, const char *b, size_t n)
{
    if (sc->klen < KEY_MAX && sc->klen + n < KEY_MAX) {
        memcpy(sc->kbuf + sc->klen, b, n);
        sc->klen = (uint8_t)(sc->klen + n);
    } else {
        sc->klen = KEY_MAX;
    }
}

/* The byte that ends a string's bulk: a quote, a backslash, or the byte after a
 * backslash (never a newline). */
static void scan_in_string(scan *sc, char c)
{
    if (sc->esc || c == '\\') {
        sc->esc = !sc->esc;
        sc->klen = KEY_MAX; /* an escaped key is no key of the path */
    } else if (c == '"') {
        sc->str = false;
        if (sc->cap) {
            char *k = sc->key[sc->depth];
            if (sc->klen < KEY_MAX) {
                memcpy(k, sc->kbuf, sc->klen);
                k[sc->klen] = '\0';
            } else {
                k[0] = '\0';
            }
            sc->cap = false;
        }
    }
}

/* The bytes that end a string's bulk, and those that matter outside strings. */
static const bool stops_string[256] = {['"'] = true, ['\\'] = true, ['\n'] = true};
static const bool stops_value[256] = {['"'] = true, ['{'] = true, ['['] = true, ['}'] = true,
                                      [']'] = true, [','] = true, ['\n'] = true};

static bool blank(const vg_buf *b)
{
    return strspn(vg_buf_str(b), " \t\r\n\f\v") == b->len;
}

/* Reads on from pos: 1 when a record is complete in rec, 0 when the chunk is used
 * up and more is needed (the end of the input is at_end's). */
static int scan_run(reader *r)
{
    const char *s = r->chunk;
    size_t i = r->pos, n = r->len, span = i;
    scan *sc = &r->sc;
    while (i < n) {
        char c = s[i];
        bool consume = true; /* the byte that ends a record is the record's */
        if (!r->in_rec) {    /* between records */
            if (c == '\n' && r->hits && r->mode == M_LINES) {
                /* a search response on one line, its line over before its hits */
                r->hits = 0;
                r->in_rec = true;
                r->rec_line = r->line;
                r->bad = "the search response ends with its line, before its hits do";
                span = i;
                goto line_end;
            }
            if (c == '\n')
                r->line++;
            if (isspace((unsigned char)c) || (c == ',' && r->mode != M_LINES)) {
                i++;
                continue;
            }
            if (r->hits && c == ']') { /* the hits are over: the rest is read past */
                i++;
                sc->depth--;
                r->hits = 0;
                r->in_rec = r->discard = true;
                span = i;
                continue;
            }
            if (r->mode == M_START) {
                if (c == '[') {
                    r->mode = M_ARRAY;
                    i++;
                    continue;
                }
                r->mode = M_LINES;
                r->probe = c == '{';
            }
            if (r->mode == M_DONE) { /* after the array's ']' nothing is read */
                i = span = n;
                break;
            }
            if (r->mode == M_ARRAY && c == ']') {
                r->mode = M_DONE;
                i++;
                continue;
            }
            r->in_rec = true;
            r->rec_line = r->line;
            span = i;
            if (!r->hits) {
                scan_reset(sc);
                r->to_eol = r->mode == M_VALUES && c != '{' && c != '[';
            }
            r->base = sc->deepest = sc->depth;
        }
        if (r->probing) { /* past the first line of a '{' input */
            if (c == '\n')
                r->line++;
            if (isspace((unsigned char)c)) {
                i++;
                continue;
            }
            r->probing = r->probe = false;
            if (c == '{' || c == '[') { /* JSON lines, the first one cut short */
                truncate_rec(r, r->probe_len);
                r->in_rec = false;
                r->pos = i;
                return 1;
            }
            r->mode = M_VALUES; /* pretty-printed: the object goes on */
        }
        if (sc->str) {
            if (!sc->esc) { /* the bulk of a string, quickly */
                size_t from = i;
                while (i < n && !stops_string[(unsigned char)s[i]])
                    i++;
                if (sc->cap)
                    scan_key_bytes(sc, s + from, i - from);
                if (i == n)
                    break;
                c = s[i];
            }
            if (c == '\n') {
                if (r->mode == M_LINES || r->to_eol)
                    goto line_end;
                r->line++;
            } else {
                scan_in_string(sc, c);
            }
            i++;
            continue;
        }
        if (!stops_value[(unsigned char)c]) { /* numbers, literals, ':', blanks */
            while (++i < n && !stops_value[(unsigned char)s[i]])
                ;
            continue;
        }
        switch (c) {
        case '\n':
            if (r->mode == M_LINES || r->to_eol)
                goto line_end;
            r->line++;
            break;
        case '"':
            scan_quote(sc);
            break;
        case '{':
        case '[':
            if (scan_open(sc, c) && !r->hits && !r->discard && !r->to_eol) {
                /* a search response: its hits are the records, not what led to them */
                r->hits = sc->depth;
                r->resp_line = r->rec_line;
                r->probe = false;
                r->in_rec = r->too_big = false;
                vg_buf_reset(&r->rec);
                span = ++i;
                continue;
            }
            break;
        case ',':
            if ((r->hits && sc->depth == r->hits) ||
                (!r->hits && r->mode == M_ARRAY && sc->depth == 0))
                goto end_before; /* the ',' after an element */
            if (sc->depth >= 1 && sc->depth <= PATH_DEPTH && sc->obj[sc->depth])
                sc->want_key[sc->depth] = true;
            break;
        case '}':
        case ']':
            if (r->hits && sc->depth == r->hits && c == ']') {
                consume = false; /* the last hit: its ']' ends the hits, read next */
                goto end_before;
            }
            if (!r->hits && r->mode == M_ARRAY && sc->depth == 0 && c == ']') {
                r->mode = M_DONE; /* the array's own ']' after its last element */
                goto end_before;
            }
            if (sc->depth > 0)
                sc->depth--;
            if (sc->depth == 0 && r->mode == M_VALUES && !r->to_eol && !r->hits) {
                i++; /* the object's '}' is its last byte */
                keep(r, s + span, i - span);
                goto record;
            }
            break;
        }
        i++;
        continue;
    line_end:
        if (r->probe && !sc->str && sc->depth > 0 && !r->too_big && !r->hits) {
            /* the first line of a '{' input does not close its value */
            keep(r, s + span, i - span);
            r->probe_len = r->rec.len;
            r->probing = true;
            span = i;
            r->line++;
            i++;
            continue;
        }
        r->probe = false;
        if (r->hits) {
            r->hits = 0;
            r->bad = "the search response ends with its line, before its hits do";
        }
        keep(r, s + span, i - span);
        r->line++;
        i++;
        goto record;
    end_before:
        keep(r, s + span, i - span);
        if (consume)
            i++;
    record:
        r->in_rec = false;
        span = i;
        if (r->discard) { /* what followed a search response's hits */
            r->discard = false;
            vg_buf_reset(&r->rec);
            r->too_big = false;
            continue;
        }
        if (!r->too_big && !r->bad && blank(&r->rec)) {
            vg_buf_reset(&r->rec);
            continue;
        }
        r->pos = i;
        return 1;
    }
    if (r->in_rec && !r->probing)
        keep(r, s + span, i - span);
    r->pos = i;
    return 0;
}

/* The input is over: the last record (1), the end (0), or a failure (-1, why in
 * r->err). */
static int at_end(reader *r)
{
    const char *e = imp_src_error(r->src);
    if (e) {
        snprintf(r->err, sizeof r->err, "%s", e);
        return -1;
    }
    if (r->probing) {
        r->probing = r->probe = r->in_rec = false;
        truncate_rec(r, r->probe_len);
        return 1;
    }
    if (r->hits || (r->discard && r->mode != M_LINES)) {
        snprintf(r->err, sizeof r->err, "the search response is not closed");
        r->err_line = r->resp_line;
        return -1;
    }
    if (r->in_rec) {
        r->in_rec = false;
        if (r->discard) {
            r->discard = false;
            return 0;
        }
        if (r->mode == M_VALUES && !r->to_eol)
            r->bad = "the JSON value that starts here is not closed";
        else if (r->mode == M_ARRAY)
            goto open_array;
        if (!r->too_big && !r->bad && blank(&r->rec))
            return 0;
        return 1;
    }
    if (r->mode != M_ARRAY)
        return 0;
open_array:
    snprintf(r->err, sizeof r->err, "the JSON array is not closed");
    r->err_line = r->line;
    return -1;
}

/* The next record into r->rec: 1 when there is one (r->bad says why it is bad,
 * when the reader knows), 0 at the end, -1 when the input fails (r->err). */
static int next_record(reader *r)
{
    vg_buf_reset(&r->rec);
    r->too_big = false;
    r->bad = NULL;
    for (;;) {
        if (r->pos == r->len && !fill(r))
            return at_end(r);
        if (scan_run(r))
            return 1;
    }
}

/* ---- the import ----------------------------------------------------------------- */

typedef struct run {
    vg_ws *ws;
    const imp_opts *o;
    imp_stats *st;
    const char *name;
    vg_id *ids; /* alerts of the open batch, for correlation */
    size_t nids, capids;
    int64_t in_batch;
    vg_err *err;
} run;

static void reject(run *u, int64_t line, const char *why)
{
    u->st->rejected++;
    if (u->o->reject)
        u->o->reject(u->o->ud, u->name, line, why);
}

/* Correlate the alerts stored since the last time, inside the open batch. */
static vg_rc correlate_batch(run *u)
{
    vg_rc rc = VG_OK;
    if (u->o->correlate && u->nids)
        rc = vg_correlate(u->ws, (const vg_id *)u->ids, u->nids, &u->st->co, u->err);
    u->nids = 0;
    return rc;
}

static vg_rc commit(run *u)
{
    vg_rc rc = correlate_batch(u);
    if (rc == VG_OK && u->o->before_commit)
        rc = u->o->before_commit(u->o->ud, u->ws, u->err);
    if (rc == VG_OK)
        rc = vg_batch_commit(u->ws, u->err);
    else
        vg_batch_rollback(u->ws);
    u->nids = 0;
    u->in_batch = 0;
    return rc;
}

/* Techniques from the rule's words (vg_attack_map_text) for an alert that names
 * none: "Suspicious PowerShell Encoded Command" -> T1059.001. */
static void map_techniques(const vg_attack *a, cJSON *p)
{
    cJSON *techs = cJSON_GetObjectItemCaseSensitive(p, "techniques");
    if (!cJSON_IsArray(techs) || cJSON_GetArraySize(techs) > 0)
        return;
    const char *ids[16];
    static const char *const keys[] = {"title", "rule"};
    for (int k = 0; k < 2; k++) {
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(p, keys[k]);
        if (!cJSON_IsString(text))
            continue;
        size_t n = vg_attack_map_text(a, text->valuestring, ids, 16);
        for (size_t i = 0; i < n && i < 16; i++) {
            bool have = false;
            const cJSON *it;
            cJSON_ArrayForEach(it, techs)
                have = have || strcmp(it->valuestring, ids[i]) == 0;
            if (!have)
                cJSON_AddItemToArray(techs, cJSON_CreateString(ids[i]));
        }
    }
}

/* ---- the reader thread: records read, parsed and mapped while the door stores
 * the ones before them ------------------------------------------------------------
 *
 * An import is two jobs of about equal weight only in part: reading, parsing,
 * mapping and redacting a record need nothing of the workspace, while storing it
 * (dedup, correlation, the door) does. So a stream is read on a thread of its own
 * that hands mapped records over a bounded queue to the caller's thread, which
 * applies them in order; the work and the results are those of one thread, on
 * two cores. */

enum { IT_ALERT, IT_SKIP, IT_BAD, IT_FAIL, IT_END };

typedef struct item {
    int kind;
    vg_op *op;    /* IT_ALERT */
    int fmt;      /* IT_ALERT, IT_SKIP */
    int64_t line;
    char why[300]; /* IT_BAD: what is wrong; IT_FAIL: the stream's error */
    vg_rc rc;     /* IT_FAIL */
} item;

#define QUEUE 256 /* records mapped ahead of the door, at most */

typedef struct queue {
    pthread_mutex_t mu;
    pthread_cond_t can_put, can_take;
    item *slot[QUEUE];
    size_t head, count;
    bool stop; /* the writer gave up: the reader ends at its next record */
} queue;

typedef struct producer {
    queue q;
    FILE *f;
    const char *name;
    const imp_opts *o;
} producer;

/* Hand an item to the writer; false when it has stopped (the item is freed). */
static bool put(queue *q, item *it)
{
    pthread_mutex_lock(&q->mu);
    while (q->count == QUEUE && !q->stop)
        pthread_cond_wait(&q->can_put, &q->mu);
    bool stop = q->stop;
    if (!stop) {
        q->slot[(q->head + q->count++) % QUEUE] = it;
        pthread_cond_signal(&q->can_take);
    }
    pthread_mutex_unlock(&q->mu);
    if (stop) {
        vg_op_free(it->op);
        free(it);
    }
    return !stop;
}

static item *take(queue *q)
{
    pthread_mutex_lock(&q->mu);
    while (q->count == 0)
        pthread_cond_wait(&q->can_take, &q->mu);
    item *it = q->slot[q->head];
    q->head = (q->head + 1) % QUEUE;
    q->count--;
    pthread_cond_signal(&q->can_put);
    pthread_mutex_unlock(&q->mu);
    return it;
}

/* A document inside the record it was exported in: an Elasticsearch hit
 * (`_index`/`_id` beside `_source`, one of a search response's hits or a hit on
 * its own) or a document of Kibana's es_archiver (`{"type":"doc","value":{"index",
 * "id","source"}}`). The document, detached from rec, with its text [*ts, *te)
 * inside text; NULL when rec is the document itself. */
static cJSON *unwrap(cJSON *rec, const char *text, size_t len, const char **ts, const char **te)
{
    cJSON *src = cJSON_GetObjectItemCaseSensitive(rec, "_source");
    if (cJSON_IsObject(src) &&
        (cJSON_HasObjectItem(rec, "_index") || cJSON_HasObjectItem(rec, "_id")))
        return vg_json_member(text, len, "_source", ts, te) ? cJSON_DetachItemViaPointer(rec, src)
                                                            : NULL;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(rec, "type");
    cJSON *value = cJSON_GetObjectItemCaseSensitive(rec, "value");
    cJSON *vsrc = cJSON_IsObject(value) ? cJSON_GetObjectItemCaseSensitive(value, "source") : NULL;
    const char *vs, *ve;
    if (cJSON_IsString(type) && strcmp(type->valuestring, "doc") == 0 && cJSON_IsObject(vsrc) &&
        vg_json_member(text, len, "value", &vs, &ve) &&
        vg_json_member(vs, (size_t)(ve - vs), "source", ts, te))
        return cJSON_DetachItemViaPointer(value, vsrc);
    return NULL;
}

/* One record made ready for the door: an alert.add op, or why it is skipped or
 * bad (bad: what the reader already knows is wrong with it; depth: how deep it
 * nests, as the reader counted it, so a nesting bomb is refused before it is
 * parsed). */
static item *prepare(const imp_opts *o, const char *text, size_t len, int64_t line, bool too_big,
                     int depth, const char *bad)
{
    item *it = vg_xcalloc(1, sizeof *it);
    it->line = line;
    it->kind = IT_BAD;
    if (bad) {
        snprintf(it->why, sizeof it->why, "%s", bad);
        return it;
    }
    if (too_big) {
        snprintf(it->why, sizeof it->why, "record is larger than %u MiB", IMP_MAX_RECORD >> 20);
        return it;
    }
    if (memchr(text, '\0', len)) {
        snprintf(it->why, sizeof it->why, "NUL byte in the record (a binary file?)");
        return it;
    }
    if (depth > IMP_MAX_DEPTH) {
        snprintf(it->why, sizeof it->why, "nested deeper than %d levels", IMP_MAX_DEPTH);
        return it;
    }
    const char *end = NULL;
    cJSON *rec = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (!rec) {
        size_t at = end && end >= text ? (size_t)(end - text) : 0;
        snprintf(it->why, sizeof it->why, "not JSON (at byte %zu)", at + 1);
        return it;
    }
    while (end && end < text + len && isspace((unsigned char)*end))
        end++;
    if (end && end < text + len) {
        cJSON_Delete(rec);
        snprintf(it->why, sizeof it->why, "text after the JSON value (at byte %zu)",
                 (size_t)(end - text) + 1);
        return it;
    }
    if (!cJSON_IsObject(rec)) {
        cJSON_Delete(rec);
        snprintf(it->why, sizeof it->why, "not a JSON object");
        return it;
    }
    vg_buf scratch;
    vg_buf_init(&scratch, IMP_MAX_RECORD + 64 * 1024);
    bool unique = redact_tree(rec, &scratch, it->why, sizeof it->why);
    vg_buf_free(&scratch);
    if (!unique) {
        cJSON_Delete(rec);
        return it;
    }
    const char *ts, *te;
    cJSON *doc = unwrap(rec, text, len, &ts, &te);
    if (doc) { /* the document is the record; its text is the raw event */
        cJSON_Delete(rec);
        rec = doc;
        text = ts;
        len = (size_t)(te - ts);
    }
    imp_format fmt = o->format != IMP_AUTO ? o->format : imp_detect(rec);
    vg_op *op = vg_op_new("alert.add", NULL);
    imp_map_rc m = imp_map(rec, fmt, o->bucket_ms, op->payload, it->why, sizeof it->why);
    if (m == MAP_OK) /* the organisation's own values: decided here, carried by the op */
        vg_entity_home(o->home, cJSON_GetObjectItemCaseSensitive(op->payload, "entities"));
    if (m == MAP_OK && o->attack)
        map_techniques(o->attack, op->payload);
    if (m == MAP_OK) {
        /* the raw event: the record itself (native: its "raw" when it has one) */
        const cJSON *raw = fmt == IMP_NATIVE ? cJSON_GetObjectItemCaseSensitive(rec, "raw") : NULL;
        const char *rs = text, *re = text + len;
        if (cJSON_IsObject(raw) && !vg_json_member(text, len, "raw", &rs, &re)) {
            rs = text; /* cannot happen for valid JSON; keep the whole record */
            re = text + len;
        }
        char *rtext = imp_redact(rs, (size_t)(re - rs), it->why, sizeof it->why);
        if (rtext)
            cJSON_AddItemToObject(op->payload, "raw", cJSON_CreateRaw(rtext));
        else
            m = MAP_BAD;
        free(rtext);
    }
    cJSON_Delete(rec);
    it->fmt = fmt;
    if (m == MAP_OK) {
        it->kind = IT_ALERT;
        it->op = op;
    } else {
        vg_op_free(op);
        it->kind = m == MAP_SKIP ? IT_SKIP : IT_BAD;
    }
    return it;
}

static item *failure(vg_rc rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static item *failure(vg_rc rc, const char *fmt, ...)
{
    item *it = vg_xcalloc(1, sizeof *it);
    it->kind = IT_FAIL;
    it->rc = rc;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(it->why, sizeof it->why, fmt, ap);
    va_end(ap);
    return it;
}

/* The reader thread: one stream's records, then IT_END (or IT_FAIL). */
static void *produce(void *arg)
{
    producer *p = arg;
    reader *r = vg_xcalloc(1, sizeof *r);
    r->src = imp_src_open(p->f);
    r->line = 1;
    vg_buf_init(&r->rec, IMP_MAX_RECORD + 1);
    int got;
    bool checked = false, go = true;
    item *last = NULL;
    while (go && (got = next_record(r)) != 0) {
        if (got < 0) {
            last = r->err_line
                       ? failure(VG_EINVAL, "%s:%" PRId64 ": %s", p->name, r->err_line, r->err)
                       : failure(VG_EINVAL, "%s: %s", p->name, r->err);
            break;
        }
        if (!checked) { /* a binary file is refused as a whole, not line by line */
            checked = true;
            size_t n = r->rec.len < 4096 ? r->rec.len : 4096;
            const char *nul = memchr(vg_buf_str(&r->rec), '\0', n);
            if (nul) {
                last = failure(VG_EINVAL, "%s: a binary file (NUL byte at offset %zu), not JSON",
                               p->name, (size_t)(nul - vg_buf_str(&r->rec)));
                break;
            }
        }
        go = put(&p->q,
                 prepare(p->o, vg_buf_str(&r->rec), r->rec.len, r->rec_line, r->too_big,
                         r->sc.deepest - r->base, r->bad));
    }
    if (go && !last && ferror(p->f))
        last = failure(VG_EIO, "%s: read error", p->name);
    if (go && !last)
        last = vg_xcalloc(1, sizeof *last);
    if (last) {
        if (last->kind != IT_FAIL)
            last->kind = IT_END;
        put(&p->q, last);
    }
    vg_buf_free(&r->rec);
    imp_src_close(r->src);
    free(r);
    return NULL;
}

/* ---- the writer: each mapped record through the door, in order ------------------ */

/* The alert's event time against the one before it (imp_stats.out_of_order). */
static void step_in_time(imp_stats *st, const vg_op *op)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(op->payload, "event_time");
    if (!cJSON_IsNumber(t))
        return;
    int64_t ms = (int64_t)t->valuedouble;
    int64_t w = st->co.window_ms > 0 ? st->co.window_ms : 24 * 3600 * 1000LL;
    if (st->last_t && (ms > st->last_t + w || ms < st->last_t - w))
        st->out_of_order++;
    st->last_t = ms;
}

bool imp_out_of_order(const imp_stats *st)
{
    /* one batch is correlated as a whole, in time order, whatever the file's */
    int64_t n = st->stored + st->merged;
    return st->read > IMP_BATCH && st->out_of_order * 2 > n;
}

/* One record: VG_OK whether it was stored, skipped or rejected (counted); an error
 * only when the workspace fails, or with strict on a bad record. Takes it->op. */
static vg_rc store(run *u, item *it)
{
    char why[300];
    u->st->read++;
    if (it->kind == IT_SKIP) {
        u->st->skipped++;
        return VG_OK;
    }
    if (it->kind == IT_BAD) {
        snprintf(why, sizeof why, "%s", it->why);
        goto bad;
    }
    vg_op *op = it->op;
    it->op = NULL;
    int fmt = it->fmt;
    bool joined = false; /* stored on an open case: nothing left to correlate */
    /* a record imported before (this file again, or a line it repeats) */
    bool known = false;
    vg_rc rc = vg_alert_known(u->ws, op, &known, u->err);
    if (rc == VG_OK && known) {
        u->st->already++;
        vg_op_free(op);
        return VG_OK;
    }
    if (rc == VG_OK)
        rc = u->o->correlate ? vg_correlate_add(u->ws, op, &u->st->co, &joined, u->err)
                               : vg_apply(u->ws, op, u->err);
    if (rc == VG_OK) {
        u->st->per_format[fmt]++;
        step_in_time(u->st, op);
        if (op->folded)
            u->st->merged++;
        else
            u->st->stored++;
    }
    if (rc == VG_OK && u->o->correlate && !joined) {
        if (u->nids == u->capids) {
            u->capids = u->capids ? u->capids * 2 : 1024;
            u->ids = vg_xrealloc(u->ids, u->capids * sizeof *u->ids);
        }
        memcpy(u->ids[u->nids++], op->into, sizeof(vg_id));
    }
    vg_op_free(op);
    if (rc == VG_OK || rc == VG_EDB || rc == VG_EIO)
        return rc;
    snprintf(why, sizeof why, "%.280s", u->err->msg);
bad:
    if (u->o->strict) { /* the error says it, once: not the reject callback as well */
        u->st->rejected++;
        return vg_fail(u->err, VG_EINVAL, "%s:%" PRId64 ": %s", u->name, it->line, why);
    }
    reject(u, it->line, why);
    return VG_OK;
}

/* One stream into the open run; the batch stays open for the next stream. */
static vg_rc stream(run *u, FILE *f)
{
    producer p = {.f = f, .name = u->name, .o = u->o};
    pthread_mutex_init(&p.q.mu, NULL);
    pthread_cond_init(&p.q.can_put, NULL);
    pthread_cond_init(&p.q.can_take, NULL);
    pthread_t th;
    if (pthread_create(&th, NULL, produce, &p) != 0)
        return vg_fail(u->err, VG_EIO, "%s: cannot start a thread to read it", u->name);
    vg_rc rc = VG_OK;
    for (;;) {
        item *it = take(&p.q);
        int kind = it->kind;
        if (kind == IT_FAIL)
            rc = vg_fail(u->err, it->rc, "%s", it->why);
        else if (kind != IT_END && !u->in_batch && (rc = vg_batch_begin(u->ws, u->err)) == VG_OK)
            u->in_batch = 1;
        if (rc == VG_OK && kind != IT_END && kind != IT_FAIL) {
            rc = store(u, it);
            /* strict keeps everything in one transaction, so a bad record undoes it all */
            if (rc == VG_OK && !u->o->strict && ++u->in_batch > IMP_BATCH) {
                /* one transaction or not, alerts correlate IMP_BATCH at a time, as
                 * they would in any import (correlation's work grows faster than
                 * the batch it looks at) */
                if (u->o->one_batch) {
                    rc = correlate_batch(u);
                    u->in_batch = 1;
                } else {
                    rc = commit(u);
                }
            }
        }
        vg_op_free(it->op);
        free(it);
        if (kind == IT_END || kind == IT_FAIL)
            break;
        if (rc != VG_OK) { /* the reader stops at its next record; what it queued goes */
            pthread_mutex_lock(&p.q.mu);
            p.q.stop = true;
            while (p.q.count) {
                item *x = p.q.slot[p.q.head];
                p.q.head = (p.q.head + 1) % QUEUE;
                p.q.count--;
                vg_op_free(x->op);
                free(x);
            }
            pthread_cond_broadcast(&p.q.can_put);
            pthread_mutex_unlock(&p.q.mu);
            break;
        }
    }
    pthread_join(th, NULL);
    pthread_cond_destroy(&p.q.can_put);
    pthread_cond_destroy(&p.q.can_take);
    pthread_mutex_destroy(&p.q.mu);
    return rc;
}

/* Files by name, or one stream (mem, called name) when names is NULL. */
static vg_rc run_files(vg_ws *ws, char *const *names, int n, FILE *mem, const char *name,
                       const imp_opts *o, imp_stats *st, vg_err *err)
{
    run u = {.ws = ws, .o = o, .st = st, .err = err};
    vg_rc rc = vg_ws_bulk(ws, true, err);
    if (rc)
        return rc;
    for (int i = 0; i < n && (rc == VG_OK || !o->strict); i++) {
        bool in = names && strcmp(names[i], "-") == 0;
        u.name = !names ? name : in ? "(stdin)" : names[i];
        FILE *f = !names ? mem : in ? stdin : fopen(names[i], "rb");
        if (!f)
            rc = vg_fail(err, VG_EIO, "%s: %s", names[i], strerror(errno));
        else {
            rc = stream(&u, f);
            if (names && !in)
                fclose(f);
        }
        if (rc == VG_EDB)
            break; /* the workspace itself failed */
        if (rc != VG_OK && !o->strict) {
            /* this stream is done for; what it stored so far stands */
            st->files_failed++;
            if (o->reject)
                o->reject(o->ud, u.name, 0, err->msg);
            rc = VG_OK;
        }
    }
    if (u.in_batch) {
        if (rc == VG_OK)
            rc = commit(&u);
        else
            vg_batch_rollback(ws);
    }
    vg_err e2 = {0};
    if (vg_ws_bulk(ws, false, &e2) != VG_OK && rc == VG_OK) {
        *err = e2;
        rc = VG_EDB;
    }
    free(u.ids);
    return rc;
}

vg_rc imp_files(vg_ws *ws, char *const *names, int n, const imp_opts *o, imp_stats *st,
                vg_err *err)
{
    return run_files(ws, names, n, NULL, NULL, o, st, err);
}

vg_rc imp_mem(vg_ws *ws, const char *name, const char *data, size_t len, const imp_opts *o,
              imp_stats *st, vg_err *err)
{
    /* an empty body: fmemopen refuses a size of 0 */
    FILE *f = fmemopen(len ? (void *)data : (void *)"", len ? len : 1, "rb");
    if (!f)
        return vg_fail(err, VG_EIO, "%s: %s", name, strerror(errno));
    if (!len)
        (void)fgetc(f);
    vg_rc rc = run_files(ws, NULL, 1, f, name, o, st, err);
    fclose(f);
    return rc;
}

cJSON *imp_stats_json(const imp_stats *st)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "read", (double)st->read);
    cJSON_AddNumberToObject(j, "stored", (double)st->stored);
    cJSON_AddNumberToObject(j, "merged", (double)st->merged);
    cJSON_AddNumberToObject(j, "already_imported", (double)st->already);
    cJSON_AddNumberToObject(j, "cases_created", (double)st->co.cases_created);
    cJSON_AddNumberToObject(j, "cases_updated", (double)st->co.nupdated);
    cJSON_AddNumberToObject(j, "rejected", (double)st->rejected);
    cJSON_AddNumberToObject(j, "skipped", (double)st->skipped);
    cJSON_AddNumberToObject(j, "files_failed", (double)st->files_failed);
    cJSON_AddNumberToObject(j, "out_of_order", (double)st->out_of_order);
    cJSON *inf = cJSON_AddArrayToObject(j, "infrastructure");
    for (int64_t i = 0; i < st->co.infra_found && i < 8; i++)
        cJSON_AddItemToArray(inf, cJSON_CreateString(st->co.infra[i]));
    cJSON *pf = cJSON_AddObjectToObject(j, "formats");
    for (int i = 1; i < IMP_NFORMATS; i++)
        cJSON_AddNumberToObject(pf, imp_format_names[i], (double)st->per_format[i]);
    return j;
}

void imp_stats_free(imp_stats *st)
{
    vg_correlation_free(&st->co);
}
