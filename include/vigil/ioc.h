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

/* The normalised form of value for an artifact type (a VG_ARTIFACT_TYPE index),
 * freshly allocated. */
char *vg_ioc_normalise(int type, const char *value);
/* Refang a string: defanged notations back to their real characters. Fresh. */
char *vg_refang(const char *s);

#endif
