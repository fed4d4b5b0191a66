/*
 * entity.h — what an alert is about: its entities object, read as artifacts.
 *
 * An alert's entities are a JSON object whose keys name what a value is and whose
 * values are text or lists of text:
 *   {"host": "web-01", "user": "jdoe", "src_ip": ["203.0.113.7"], "sha256": "..."}
 * The names are a small vocabulary (vg_entity_type); importers map each vendor's
 * fields onto it, and the rest of vigil reads alerts through it: correlation keys,
 * the artifacts a correlated case receives, the graph's host and user nodes.
 */
#ifndef VIGIL_ENTITY_H
#define VIGIL_ENTITY_H

#include <cjson/cJSON.h>
#include <stdbool.h>

/* The artifact type (a VG_ARTIFACT_TYPE index) an entity name is stored as, or -1
 * when the name is not in the vocabulary:
 *   host hostname; user user; ip src_ip dest_ip ip; domain domain; url url;
 *   email sender recipient email; md5 sha1 sha256 sha512 the hash; file process
 *   filename; registry registry; cve cve; user_agent user-agent. */
int vg_entity_type(const char *name);

/* Whether an artifact type identifies something across alerts: a host, a user or
 * an indicator (ip, domain, url, email, hashes). File names do not ("svchost.exe"). */
bool vg_entity_is_key(int type);

/* Whether an artifact of this type is an indicator of compromise (IOC flag):
 * network indicators and hashes; not hosts, users, files, nor internal addresses
 * (RFC 1918, loopback, link-local, ULA, CGNAT). */
bool vg_entity_is_ioc(int type, const char *value);

/* Call fn once for each (type, normalised value) in an entities object, in the
 * object's order, values of a list in order. Values that identify nothing are
 * skipped: empty, "-", "n/a", "unknown", loopback and unspecified addresses, and
 * built-in accounts that every machine has (SYSTEM, LOCAL SERVICE, root, ...).
 * Users are lower-cased. Returns how many fn saw. */
typedef void (*vg_entity_fn)(void *ud, int type, const char *value);
int vg_entity_each(const cJSON *entities, vg_entity_fn fn, void *ud);

#endif
