/*
 * ioc.h — indicator values: normalising what analysts and tools write.
 *
 * An artifact value is stored normalised so that the same indicator typed two ways
 * is one artifact (and a bridge between cases): surrounding white space trimmed,
 * defanged forms refanged (hxxp -> http, [.] (.) {.} -> ., [:] -> :, [@] [at] -> @),
 * and lower-cased where the type is case-insensitive (ip, domain, email, hashes,
 * hostname, cve upper-cased as CVE ids are written).
 */
#ifndef VIGIL_IOC_H
#define VIGIL_IOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What vg_ioc_extract finds in free text (log lines, notes, chat). */
typedef enum vg_ioc_kind {
    VG_IOC_IPV4, VG_IOC_IPV6, VG_IOC_DOMAIN, VG_IOC_URL, VG_IOC_EMAIL, VG_IOC_MD5,
    VG_IOC_SHA1, VG_IOC_SHA256, VG_IOC_SHA512, VG_IOC_CVE, VG_IOC_REGISTRY, VG_IOC_PATH,
} vg_ioc_kind;

enum {
    VG_IOC_PRIVATE = 1 << 0,  /* RFC 1918, loopback, link-local, ULA, CGNAT */
    VG_IOC_RESERVED = 1 << 1, /* documentation, multicast, broadcast, unspecified, other
                                 reserved ranges, special-use names (.example) */
    VG_IOC_DEFANGED = 1 << 2, /* it was written defanged in the text */
};

/* What an IP address is for (the special-purpose registries of RFC 6890): the one
 * classification that `vigil iocs`, an alert's entities, the IOC flag and
 * correlation share. */
typedef enum vg_ip_scope {
    VG_IP_PUBLIC,        /* global unicast: may be an indicator */
    VG_IP_DOCUMENTATION, /* 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32 */
    VG_IP_RESERVED,      /* 0/8 (but 0.0.0.0), 198.18/15 (benchmarks), 240/4 */
    VG_IP_PRIVATE,       /* RFC 1918, CGNAT 100.64/10, ULA fc00::/7 */
    VG_IP_LOOPBACK,      /* 127/8, ::1 */
    VG_IP_LINK_LOCAL,    /* 169.254/16, fe80::/10 */
    VG_IP_MULTICAST,     /* 224/4, ff00::/8 */
    VG_IP_BROADCAST,     /* 255.255.255.255, and a known subnet's (vg_ioc_extract) */
    VG_IP_UNSPECIFIED,   /* 0.0.0.0, :: */
} vg_ip_scope;

/* The scope of an address written as text (dotted quad, or IPv6 in any of its
 * spellings, an IPv4-mapped one classified as its IPv4 address, a zone index
 * "%eth0" allowed), or -1 when s is not an address. */
int vg_ip_scope_of(const char *s);
/* "public", "documentation", "reserved", "private", "loopback", "link-local",
 * "multicast", "broadcast", "unspecified". */
const char *vg_ip_scope_name(vg_ip_scope scope);
/* Whether an address of this scope names no host of its own that could be an
 * attacker's or a victim's: loopback, link-local, multicast, broadcast and
 * unspecified. Such a value is never an IOC and never correlates alerts. */
bool vg_ip_scope_no_host(vg_ip_scope scope);

typedef struct vg_ioc {
    vg_ioc_kind kind;
    int flags;
    vg_ip_scope scope; /* IPv4 and IPv6 only (VG_IP_PUBLIC for other kinds) */
    char *value;       /* normalised (refanged, lower-cased where case-insensitive, an IPv6
                          address in its canonical form) */
} vg_ioc;

typedef struct vg_ioc_list {
    vg_ioc *items;
    size_t n, cap;
    /* private: a hash set over items, kept across calls */
    struct vg_ioc_slot *seen;
    size_t seen_cap, seen_n;
} vg_ioc_list;

/* Find the indicators in text[0..len): IPv4 (range-checked, ports and CIDR suffixes
 * dropped), IPv6, domains whose top-level domain is on the public suffix list (or
 * a special-use name such as .example), URLs, e-mail addresses, MD5/SHA-1/SHA-256/
 * SHA-512 hashes, CVE ids, Windows registry keys and file paths. Defanged forms are
 * understood. Each distinct (kind, value) is in out once, in order of first
 * appearance: what out already holds counts, so text can be fed in pieces. Pure: no I/O beyond reading the public suffix list
 * once. Returns the number added. */
size_t vg_ioc_extract(const char *text, size_t len, vg_ioc_list *out);
void vg_ioc_list_free(vg_ioc_list *l);
/* "ip", "domain", "url", ...: the artifact type each kind is stored as. */
const char *vg_ioc_type(vg_ioc_kind kind);
/* text with every network indicator defanged (http -> hxxp, . -> [.] in hosts,
 * @ -> [@]); fresh. Safe to paste into a ticket or chat. */
char *vg_defang(const char *text);

/* The normalised form of value for an artifact type (a VG_ARTIFACT_TYPE index),
 * freshly allocated. An IPv6 address is written in its canonical form (RFC 5952:
 * lower case, no leading zeros, the longest run of two zero groups or more as
 * "::", the first such run when two are as long, an IPv4-mapped address as
 * ::ffff:a.b.c.d; a zone index kept as written), so "FE80:0:0:0:870A:159E:ACCA:1B3"
 * and "fe80::870a:159e:acca:1b3" are one value. */
char *vg_ioc_normalise(int type, const char *value);
/* Whether a normalised value is one of its artifact type: an address (v4 or v6,
 * a /prefix and a zone allowed), a hash of its length in hex, CVE-YYYY-NNNN, a
 * domain or host name (no empty label, no white space), an email address, a URL
 * with a scheme and a host, an AS number; other types take any text (a string
 * is made safe when shown, not when stored). false with why (e.g. "sha256: 64 hex digits, not 3
 * characters") filled in. */
bool vg_artifact_valid(int type, const char *value, char *why, size_t whysz);

/* Refang a string: defanged notations back to their real characters. Fresh. */
char *vg_refang(const char *s);

#endif
