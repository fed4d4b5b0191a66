/*
 * entity.h — what an alert is about: its entities object, read as artifacts.
 *
 * An alert's entities are a JSON object whose keys name what a value is and whose
 * values are text or lists of text:
 *   {"host": "web-01", "user": "jdoe", "src_ip": ["203.0.113.7"], "sha256": "..."}
 * The names are a small vocabulary (vg_entity_type); importers map each vendor's
 * fields onto it, and the rest of vigil reads alerts through it: correlation keys,
 * the artifacts a correlated case receives, the graph's host and user nodes.
 *
 * Whether a value is an indicator is part of the replicated state (the IOC flag of
 * the artifacts an alert brings), so it is decided from what the op carries alone:
 * the value and the name it is under. What depends on the author's own config (the
 * organisation's networks and domains, vg_home) is decided on the author's side,
 * before the op is made, by moving such a value to a home_ name (vg_entity_home);
 * every replica then reads the same names and computes the same flag.
 */
#ifndef VIGIL_ENTITY_H
#define VIGIL_ENTITY_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "vigil/err.h"

/* The artifact type (a VG_ARTIFACT_TYPE index) an entity name is stored as, or -1
 * when the name is not in the vocabulary:
 *   host hostname; user user; ip src_ip dest_ip ip; domain domain; url url;
 *   email sender recipient email; md5 sha1 sha256 sha512 the hash; file process
 *   filename; registry registry; cve cve; user_agent user-agent;
 *   home_NAME, for NAME any name above (home_src_ip, home_dest_ip, home_ip,
 *   home_domain, home_url, home_email, ...): NAME's type, a value of the
 *   organisation's own (its home_net or home_domains when the alert was imported),
 *   which is an entity (it correlates, it is shown) but never an indicator.
 * The src_ and dest_ names say the direction of a connection (home_ included):
 * exports read it (MISP's ip-src and ip-dst). */
int vg_entity_type(const char *name);

/* Whether name is a home_ name of the vocabulary. */
bool vg_entity_is_home(const char *name);

/* Whether an artifact type identifies something across alerts: a host, a user or
 * an indicator (ip, domain, url, email, hashes). File names do not ("svchost.exe"). */
bool vg_entity_is_key(int type);

/* Whether an artifact of this type is an indicator of compromise (IOC flag):
 * network indicators and hashes; not hosts, users, files, nor addresses that are
 * internal or name no host (vg_ip_scope: private, loopback, link-local, multicast,
 * broadcast, unspecified). A value under a home_ name is never one either
 * (vg_entity_each_ioc), whatever this says of its type and value. */
bool vg_entity_is_ioc(int type, const char *value);

/* Call fn once for each (type, normalised value) in an entities object, in the
 * object's order, values of a list in order. Values that identify nothing are
 * skipped: empty, "-", "n/a", "unknown", addresses that name no host (loopback,
 * link-local, multicast, broadcast, unspecified: vg_ip_scope_no_host), and
 * built-in accounts that every machine has (SYSTEM, LOCAL SERVICE, root, ...).
 * Users are lower-cased. Returns how many fn saw. */
typedef void (*vg_entity_fn)(void *ud, int type, const char *value);
int vg_entity_each(const cJSON *entities, vg_entity_fn fn, void *ud);

/* The same, each value with its IOC flag (vg_entity_is_ioc, and false under a
 * home_ name) and its place: its index among the values as vigil counted them
 * before addresses that name no host were skipped too (only the empty, built-in,
 * loopback, unspecified and all-ones ones were), so that the places an op records
 * (alert.add's artifacts: [places], op.h) mean the same values to every version.
 * The values, their order and their count are vg_entity_each's. */
typedef void (*vg_entity_ioc_fn)(void *ud, int type, const char *value, bool ioc, int place);
int vg_entity_each_ioc(const cJSON *entities, vg_entity_ioc_fn fn, void *ud);

/* The same, each value with its name: for readers that need to know which side of
 * a connection a value is on (vg_entity_direction), or to show it by name. */
typedef struct vg_entity_value {
    const char *name;  /* as in the object: "src_ip", "home_dest_ip", "process" */
    int type;          /* vg_entity_type(name) */
    const char *value; /* normalised, as vg_entity_each gives it */
    bool ioc;          /* as vg_entity_each_ioc gives it */
} vg_entity_value;
typedef void (*vg_entity_walk_fn)(void *ud, const vg_entity_value *v);
int vg_entity_walk(const cJSON *entities, vg_entity_walk_fn fn, void *ud);

/* The side of a connection an entity name says: 1 the source (src_ip,
 * home_src_ip), 2 the destination (dest_ip, home_dest_ip), 0 neither. */
int vg_entity_direction(const char *name);

/* ---- the organisation's own networks and domains ([import] home_net, home_domains) */

typedef struct vg_home vg_home;

/* A home of the defaults: home_net the private ranges (10/8, 172.16/12, 192.168/16,
 * 100.64/10, fc00::/7), no home domains. Free with vg_home_free (NULL is fine). */
vg_home *vg_home_new(void);
void vg_home_free(vg_home *h);

/* Replace h's networks by list, "CIDR, CIDR, ..." (IPv4 or IPv6, a bare address
 * being one host), or its domains by list, "example.org, corp.example, ..." (each
 * with every name under it; a leading "*." or "." is the same). On a mistake h is
 * unchanged and err names the entry. An empty list is none. */
VG_WUR vg_rc vg_home_set_nets(vg_home *h, const char *list, vg_err *err);
VG_WUR vg_rc vg_home_set_domains(vg_home *h, const char *list, vg_err *err);

/* Whether an address (text, any spelling) is in a home network, or a domain name
 * is a home domain or under one. */
bool vg_home_has_ip(const vg_home *h, const char *ip);
bool vg_home_has_domain(const vg_home *h, const char *domain);

/* Decide, on the author's side, what the organisation's own config says of an
 * alert's entities (h NULL: the defaults), in place:
 *  - a value that would be an indicator (vg_entity_is_ioc) but is the
 *    organisation's own (an ip, src_ip or dest_ip in a home network; a domain, a
 *    URL's host or an e-mail address's domain that is a home domain or under one)
 *    moves from NAME to home_NAME, after the names the object has;
 *  - the broadcast address of a home network of /8 to /30 (its last address:
 *    a broadcast of a known subnet) is left out, as vg_entity_each leaves out
 *    255.255.255.255.
 * Values that are not indicators anyway (a private address, a host, a hash) keep
 * their names. Returns how many values moved or were left out. */
int vg_entity_home(const vg_home *h, cJSON *entities);

#endif
