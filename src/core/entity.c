/*
 * entity.c — an alert's entities read as artifacts (see entity.h), and the
 * organisation's own networks and domains, decided on the author's side.
 *
 * vg_entity_each runs for every alert an import stores, several times (its keys,
 * correlation, the artifacts it brings), so a name is looked up in a short table
 * and an address classified by inet_pton and a few comparisons (vg_ip_scope_of),
 * never by the free-text extractor. vg_entity_home runs once for each alert an
 * import makes, on the importer's thread: an alert with nothing of the
 * organisation's in it costs a parse of each address it names and a suffix test
 * of each name; only a value that moves allocates.
 */
#include "vigil/entity.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vigil/ioc.h"
#include "vigil/model.h"

static const struct {
    const char *name;
    int type;
} NAMES[] = {
    {"host", VG_AT_HOSTNAME}, {"hostname", VG_AT_HOSTNAME}, {"user", VG_AT_USER},
    {"ip", VG_AT_IP},         {"src_ip", VG_AT_IP},         {"dest_ip", VG_AT_IP},
    {"domain", VG_AT_DOMAIN}, {"url", VG_AT_URL},           {"email", VG_AT_EMAIL},
    {"sender", VG_AT_EMAIL},  {"recipient", VG_AT_EMAIL},   {"md5", VG_AT_MD5},
    {"sha1", VG_AT_SHA1},     {"sha256", VG_AT_SHA256},     {"sha512", VG_AT_SHA512},
    {"file", VG_AT_FILENAME}, {"process", VG_AT_FILENAME},  {"registry", VG_AT_REGISTRY},
    {"cve", VG_AT_CVE},       {"user_agent", VG_AT_USER_AGENT},
    {"command_line", VG_AT_COMMAND_LINE},
};

#define HOME "home_"
#define HOME_LEN (sizeof HOME - 1)

static int plain_type(const char *name)
{
    for (size_t i = 0; i < sizeof NAMES / sizeof *NAMES; i++)
        if (strcmp(NAMES[i].name, name) == 0)
            return NAMES[i].type;
    return -1;
}

bool vg_entity_is_home(const char *name)
{
    return strncmp(name, HOME, HOME_LEN) == 0 && plain_type(name + HOME_LEN) >= 0;
}

int vg_entity_type(const char *name)
{
    int t = plain_type(name);
    if (t < 0 && strncmp(name, HOME, HOME_LEN) == 0)
        t = plain_type(name + HOME_LEN);
    return t;
}

bool vg_entity_is_key(int type)
{
    switch (type) {
    case VG_AT_HOSTNAME: case VG_AT_USER: case VG_AT_IP: case VG_AT_DOMAIN: case VG_AT_URL:
    case VG_AT_EMAIL: case VG_AT_MD5: case VG_AT_SHA1: case VG_AT_SHA256: case VG_AT_SHA512:
        return true;
    default:
        return false;
    }
}

/* Whether an address of this scope may be an indicator: one that some host on
 * the Internet (or in a lab standing for it: documentation and reserved ranges)
 * could hold. */
static bool scope_ioc(int sc)
{
    return sc == VG_IP_PUBLIC || sc == VG_IP_DOCUMENTATION || sc == VG_IP_RESERVED;
}

bool vg_entity_is_ioc(int type, const char *value)
{
    if (!vg_entity_is_key(type) || type == VG_AT_HOSTNAME || type == VG_AT_USER)
        return false;
    if (type != VG_AT_IP)
        return true;
    int sc = vg_ip_scope_of(value);
    if (sc >= 0)
        return scope_ioc(sc);
    /* not an address alone ("203.0.113.7:443"): the one address the text holds */
    vg_ioc_list l = {0};
    bool ioc = vg_ioc_extract(value, strlen(value), &l) == 1 && scope_ioc((int)l.items[0].scope);
    vg_ioc_list_free(&l);
    return ioc;
}

/* Values that name nothing in particular and would join unrelated alerts. */
static bool meaningless(int type, const char *v)
{
    static const char *const blank[] = {"", "-", "n/a", "na", "none", "null", "unknown", "?"};
    static const char *const accounts[] = {
        "system", "nt authority\\system", "local service", "nt authority\\local service",
        "network service", "nt authority\\network service", "anonymous logon",
        "nt authority\\anonymous logon", "root", "localsystem"};
    for (size_t i = 0; i < sizeof blank / sizeof *blank; i++)
        if (strcasecmp(v, blank[i]) == 0)
            return true;
    if (type == VG_AT_USER)
        for (size_t i = 0; i < sizeof accounts / sizeof *accounts; i++)
            if (strcasecmp(v, accounts[i]) == 0)
                return true;
    if (type == VG_AT_IP) {
        int sc = vg_ip_scope_of(v);
        if (sc >= 0 && vg_ip_scope_no_host((vg_ip_scope)sc))
            return true;
    }
    if (type == VG_AT_HOSTNAME && strcasecmp(v, "localhost") == 0)
        return true;
    return false;
}

/* What vigil skipped before address scopes (vg_entity_each_ioc's places): a subset
 * of meaningless()'s. */
static bool skipped_before_scopes(int type, const char *v)
{
    static const char *const addrs[] = {"0.0.0.0", "::", "::1", "255.255.255.255"};
    if (type != VG_AT_IP)
        return meaningless(type, v);
    for (size_t i = 0; i < sizeof addrs / sizeof *addrs; i++)
        if (strcmp(v, addrs[i]) == 0)
            return true;
    static const char *const blank[] = {"", "-", "n/a", "na", "none", "null", "unknown", "?"};
    for (size_t i = 0; i < sizeof blank / sizeof *blank; i++)
        if (strcasecmp(v, blank[i]) == 0)
            return true;
    return strncmp(v, "127.", 4) == 0;
}

typedef struct each_ctx {
    vg_entity_fn fn;
    vg_entity_ioc_fn ioc_fn;
    vg_entity_walk_fn walk_fn;
    void *ud;
    int place; /* the next value's place (vg_entity_each_ioc) */
} each_ctx;

static int one(each_ctx *x, const char *name, int type, bool home, const char *raw)
{
    char *v = vg_ioc_normalise(type, raw);
    int n = 0;
    if (type == VG_AT_USER)
        for (char *p = v; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    if (!meaningless(type, v) && strlen(v) <= 2048) {
        if (x->fn) {
            x->fn(x->ud, type, v);
        } else {
            bool ioc = !home && vg_entity_is_ioc(type, v);
            if (x->ioc_fn) {
                x->ioc_fn(x->ud, type, v, ioc, x->place);
            } else {
                vg_entity_value ev = {.name = name, .type = type, .value = v, .ioc = ioc};
                x->walk_fn(x->ud, &ev);
            }
        }
        n = 1;
    }
    if (x->ioc_fn && !skipped_before_scopes(type, v) && strlen(v) <= 2048)
        x->place++;
    free(v);
    return n;
}

static int each(const cJSON *entities, each_ctx *x)
{
    const cJSON *e;
    int n = 0;
    cJSON_ArrayForEach(e, entities) {
        int type = e->string ? vg_entity_type(e->string) : -1;
        if (type < 0)
            continue;
        bool home = !x->fn && strncmp(e->string, HOME, HOME_LEN) == 0;
        if (cJSON_IsString(e))
            n += one(x, e->string, type, home, e->valuestring);
        else if (cJSON_IsArray(e)) {
            const cJSON *it;
            cJSON_ArrayForEach(it, e)
            {
                if (cJSON_IsString(it))
                    n += one(x, e->string, type, home, it->valuestring);
            }
        }
    }
    return n;
}

int vg_entity_each(const cJSON *entities, vg_entity_fn fn, void *ud)
{
    each_ctx x = {.fn = fn, .ud = ud};
    return each(entities, &x);
}

int vg_entity_each_ioc(const cJSON *entities, vg_entity_ioc_fn fn, void *ud)
{
    each_ctx x = {.ioc_fn = fn, .ud = ud};
    return each(entities, &x);
}

int vg_entity_walk(const cJSON *entities, vg_entity_walk_fn fn, void *ud)
{
    each_ctx x = {.walk_fn = fn, .ud = ud};
    return each(entities, &x);
}

int vg_entity_direction(const char *name)
{
    if (strncmp(name, HOME, HOME_LEN) == 0)
        name += HOME_LEN;
    return strncmp(name, "src_", 4) == 0 ? 1 : strncmp(name, "dest_", 5) == 0 ? 2 : 0;
}

/* ---- home ------------------------------------------------------------------------ */

/* A network: an IPv6 prefix, IPv4 ones as IPv4-mapped (::ffff:a.b.c.d/96+len). */
typedef struct net {
    unsigned char a[16];
    unsigned bits;
} net;

struct vg_home {
    net *nets;
    size_t nnets;
    char **domains; /* lower case, no leading or trailing dot */
    size_t ndomains;
};

/* The address in text s (trimmed, any spelling, IPv4 as mapped) into a; false when
 * it is none. */
static bool addr_parse(const char *s, size_t n, unsigned char a[16])
{
    char buf[64];
    while (n && isspace((unsigned char)*s))
        s++, n--;
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    size_t z = 0;
    while (z < n && s[z] != '%')
        z++;
    if (z == 0 || z >= sizeof buf)
        return false;
    memcpy(buf, s, z);
    buf[z] = '\0';
    if (memchr(buf, ':', z))
        return inet_pton(AF_INET6, buf, a) == 1;
    memset(a, 0, 10);
    a[10] = a[11] = 0xff;
    return z == n && inet_pton(AF_INET, buf, a + 12) == 1;
}

static bool net_has(const net *nt, const unsigned char a[16])
{
    unsigned full = nt->bits / 8, rest = nt->bits % 8;
    if (memcmp(nt->a, a, full) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (nt->a[full] & mask) == (a[full] & mask);
}

/* Is a the last address of an IPv4 network of /8 to /30 (its broadcast)? */
static bool net_broadcast(const net *nt, const unsigned char a[16])
{
    if (nt->bits < 96 + 8 || nt->bits > 96 + 30 || !net_has(nt, a))
        return false;
    for (unsigned bit = nt->bits; bit < 128; bit++)
        if (!(a[bit / 8] & (0x80 >> (bit % 8))))
            return false;
    return true;
}

static bool parse_net(const char *s, size_t n, net *out)
{
    const char *slash = memchr(s, '/', n);
    size_t an = slash ? (size_t)(slash - s) : n;
    if (!addr_parse(s, an, out->a))
        return false;
    bool v4 = !memchr(s, ':', an);
    unsigned max = v4 ? 32 : 128, bits = max;
    if (slash) {
        const char *p = slash + 1, *e = s + n;
        if (p == e || e - p > 3)
            return false;
        bits = 0;
        for (; p < e; p++) {
            if (!isdigit((unsigned char)*p))
                return false;
            bits = bits * 10 + (unsigned)(*p - '0');
        }
        if (bits > max)
            return false;
    }
    out->bits = v4 ? bits + 96 : bits;
    for (unsigned bit = out->bits; bit < 128; bit++) /* the network, whatever was written */
        out->a[bit / 8] &= (unsigned char)~(0x80 >> (bit % 8));
    return true;
}

vg_home *vg_home_new(void)
{
    vg_home *h = vg_xcalloc(1, sizeof *h);
    vg_err err;
    if (vg_home_set_nets(h, "10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, fc00::/7",
                         &err) != VG_OK)
        abort(); /* the defaults are constant */
    return h;
}

static void free_domains(char **d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(d[i]);
    free(d);
}

void vg_home_free(vg_home *h)
{
    if (!h)
        return;
    free(h->nets);
    free_domains(h->domains, h->ndomains);
    free(h);
}

/* The next entry of a comma-separated list at *p: its bounds, trimmed; false at
 * the end. */
static bool next_entry(const char **p, const char **s, size_t *n)
{
    const char *q = *p;
    while (*q == ',' || isspace((unsigned char)*q))
        q++;
    if (!*q)
        return false;
    const char *e = q;
    while (*e && *e != ',')
        e++;
    *p = e;
    while (e > q && isspace((unsigned char)e[-1]))
        e--;
    *s = q;
    *n = (size_t)(e - q);
    return true;
}

vg_rc vg_home_set_nets(vg_home *h, const char *list, vg_err *err)
{
    net *nets = NULL;
    size_t n = 0, cap = 0, len;
    const char *p = list, *s;
    while (next_entry(&p, &s, &len)) {
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            nets = vg_xrealloc(nets, cap * sizeof *nets);
        }
        if (!parse_net(s, len, &nets[n])) {
            free(nets);
            return vg_fail(err, VG_EINVAL,
                           "'%.*s' is not a network (an address, or address/prefix such as"
                           " 203.0.113.0/24 or 2001:db8::/32)",
                           (int)(len > 80 ? 80 : len), s);
        }
        n++;
    }
    free(h->nets);
    h->nets = nets;
    h->nnets = n;
    return VG_OK;
}

vg_rc vg_home_set_domains(vg_home *h, const char *list, vg_err *err)
{
    char **d = NULL;
    size_t n = 0, cap = 0, len;
    const char *p = list, *s;
    while (next_entry(&p, &s, &len)) {
        if (len > 2 && s[0] == '*' && s[1] == '.')
            s += 2, len -= 2;
        while (len && s[0] == '.')
            s++, len--;
        while (len && s[len - 1] == '.')
            len--;
        bool ok = len > 0 && len <= 253;
        for (size_t i = 0; ok && i < len; i++)
            ok = isalnum((unsigned char)s[i]) || s[i] == '-' || s[i] == '.' || s[i] == '_';
        if (!ok) {
            free_domains(d, n);
            return vg_fail(err, VG_EINVAL, "'%.*s' is not a domain name (such as example.org)",
                           (int)(len > 80 ? 80 : len), s);
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            d = vg_xrealloc(d, cap * sizeof *d);
        }
        d[n] = vg_xstrndup(s, len);
        for (char *c = d[n]; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        n++;
    }
    free_domains(h->domains, h->ndomains);
    h->domains = d;
    h->ndomains = n;
    return VG_OK;
}

static bool home_addr(const vg_home *h, const unsigned char a[16])
{
    for (size_t i = 0; i < h->nnets; i++)
        if (net_has(&h->nets[i], a))
            return true;
    return false;
}

bool vg_home_has_ip(const vg_home *h, const char *ip)
{
    unsigned char a[16];
    return addr_parse(ip, strlen(ip), a) && home_addr(h, a);
}

/* Is the name s[0..n) (case-insensitive, a final dot allowed) a home domain or
 * under one? */
static bool home_name(const vg_home *h, const char *s, size_t n)
{
    if (n && s[n - 1] == '.')
        n--;
    for (size_t i = 0; i < h->ndomains; i++) {
        size_t dl = strlen(h->domains[i]);
        if (n < dl || strncasecmp(s + n - dl, h->domains[i], dl) != 0)
            continue;
        if (n == dl || s[n - dl - 1] == '.')
            return true;
    }
    return false;
}

bool vg_home_has_domain(const vg_home *h, const char *domain)
{
    return home_name(h, domain, strlen(domain));
}

/* The host of a URL (after "scheme://" and any userinfo, up to a port, path,
 * query or fragment) into *s, *n; false when there is none. */
static bool url_host(const char *u, const char **s, size_t *n)
{
    const char *p = strstr(u, "://");
    if (!p)
        return false;
    p += 3;
    size_t end = strcspn(p, "/?#");
    const char *at = memchr(p, '@', end);
    if (at) {
        end -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    size_t hl = 0;
    if (*p == '[') { /* [2001:db8::1]:443 */
        const char *close = memchr(p, ']', end);
        if (!close)
            return false;
        *s = p + 1;
        *n = (size_t)(close - p - 1);
        return *n > 0;
    }
    while (hl < end && p[hl] != ':')
        hl++;
    *s = p;
    *n = hl;
    return hl > 0;
}

/* What home says of one value of an entity of this type: 1 it is the
 * organisation's own (move it), 2 it is a home network's broadcast (leave it
 * out), 0 neither. */
static int home_verdict(const vg_home *h, int type, const char *raw)
{
    if (type == VG_AT_IP) {
        unsigned char a[16];
        if (!h->nnets || !addr_parse(raw, strlen(raw), a))
            return 0;
        for (size_t i = 0; i < h->nnets; i++)
            if (net_broadcast(&h->nets[i], a))
                return 2;
        if (!home_addr(h, a))
            return 0;
        char *v = vg_ioc_normalise(type, raw);
        int r = vg_entity_is_ioc(type, v) ? 1 : 0; /* a private one needs no deciding */
        free(v);
        return r;
    }
    if (type != VG_AT_DOMAIN && type != VG_AT_URL && type != VG_AT_EMAIL)
        return 0;
    if (!h->ndomains && (type != VG_AT_URL || !h->nnets))
        return 0;
    char *v = vg_ioc_normalise(type, raw);
    const char *s = v;
    size_t n = strlen(v);
    bool named = type == VG_AT_DOMAIN;
    if (type == VG_AT_URL)
        named = url_host(v, &s, &n);
    else if (type == VG_AT_EMAIL) {
        const char *at = strrchr(v, '@');
        named = at && at[1];
        if (named) {
            s = at + 1;
            n = strlen(s);
        }
    }
    unsigned char a[16];
    int r = named && (home_name(h, s, n) ||
                      (type == VG_AT_URL && addr_parse(s, n, a) && home_addr(h, a)))
                ? 1
                : 0;
    free(v);
    return r;
}

/* Append value (taken) to obj[name], making it a list when it holds one already. */
static void add_value(cJSON *obj, const char *name, cJSON *value)
{
    cJSON *cur = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!cur) {
        cJSON_AddItemToObject(obj, name, value);
        return;
    }
    if (!cJSON_IsArray(cur)) {
        cJSON *arr = cJSON_CreateArray();
        cJSON_AddItemToArray(arr, cJSON_DetachItemViaPointer(obj, cur));
        cJSON_AddItemToObject(obj, name, arr);
        cur = arr;
    }
    cJSON_AddItemToArray(cur, value);
}

static vg_home *defaults;

static void make_defaults(void)
{
    defaults = vg_home_new();
}

/* Does name hold a value home says something of? */
static bool home_touches(const vg_home *h, const cJSON *e, int type)
{
    if (cJSON_IsString(e))
        return home_verdict(h, type, e->valuestring) != 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, e)
    {
        if (cJSON_IsString(it) && home_verdict(h, type, it->valuestring) != 0)
            return true;
    }
    return false;
}

/* The type of an entity home may decide of (an address or a name), else -1. */
static int home_type(const cJSON *e)
{
    if (!e->string || strncmp(e->string, HOME, HOME_LEN) == 0)
        return -1;
    int type = plain_type(e->string);
    return type == VG_AT_IP || type == VG_AT_DOMAIN || type == VG_AT_URL || type == VG_AT_EMAIL
               ? type
               : -1;
}

int vg_entity_home(const vg_home *h, cJSON *entities)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    if (!h) {
        pthread_once(&once, make_defaults);
        h = defaults;
    }
    if (!cJSON_IsObject(entities) || (!h->nnets && !h->ndomains))
        return 0;
    /* the common case first: nothing of the organisation's, nothing written */
    size_t count = 0, touched = 0;
    for (const cJSON *e = entities->child; e; e = e->next, count++) {
        int type = home_type(e);
        if (type >= 0 && home_touches(h, e, type))
            touched++;
    }
    if (!touched)
        return 0;
    cJSON **items = vg_xmalloc(count * sizeof *items);
    size_t k = 0;
    for (cJSON *e = entities->child; e; e = e->next)
        items[k++] = e;
    int changed = 0;
    for (size_t i = 0; i < count; i++) {
        cJSON *e = items[i];
        int type = home_type(e);
        if (type < 0)
            continue;
        size_t hl = HOME_LEN + strlen(e->string) + 1;
        char *home = vg_xmalloc(hl);
        memcpy(home, HOME, HOME_LEN);
        memcpy(home + HOME_LEN, e->string, hl - HOME_LEN);
        if (cJSON_IsString(e)) {
            int v = home_verdict(h, type, e->valuestring);
            if (v) {
                cJSON *d = cJSON_DetachItemViaPointer(entities, e);
                if (v == 1)
                    add_value(entities, home, d);
                else
                    cJSON_Delete(d);
                changed++;
            }
        } else if (cJSON_IsArray(e)) {
            cJSON *it = e->child, *next;
            for (; it; it = next) {
                next = it->next;
                int v = cJSON_IsString(it) ? home_verdict(h, type, it->valuestring) : 0;
                if (!v)
                    continue;
                cJSON *d = cJSON_DetachItemViaPointer(e, it);
                if (v == 1)
                    add_value(entities, home, d);
                else
                    cJSON_Delete(d);
                changed++;
            }
            if (!e->child)
                cJSON_Delete(cJSON_DetachItemViaPointer(entities, e));
        }
        free(home);
    }
    free(items);
    return changed;
}
