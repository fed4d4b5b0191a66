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
    VG_IOC_RESERVED = 1 << 1, /* documentation, multicast, special-use names (.example) */
    VG_IOC_DEFANGED = 1 << 2, /* it was written defanged in the text */
};

typedef struct vg_ioc {
    vg_ioc_kind kind;
    int flags;
    char *value; /* normalised (refanged, lower-cased where case-insensitive) */
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
 * freshly allocated. */
char *vg_ioc_normalise(int type, const char *value);
/* Refang a string: defanged notations back to their real characters. Fresh. */
char *vg_refang(const char *s);

#endif
