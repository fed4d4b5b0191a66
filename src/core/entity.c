/*
 * entity.c — an alert's entities read as artifacts (see entity.h).
 */
#include "vigil/entity.h"

#include <ctype.h>
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
};

int vg_entity_type(const char *name)
{
    for (size_t i = 0; i < sizeof NAMES / sizeof *NAMES; i++)
        if (strcmp(NAMES[i].name, name) == 0)
            return NAMES[i].type;
    return -1;
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

bool vg_entity_is_ioc(int type, const char *value)
{
    if (!vg_entity_is_key(type) || type == VG_AT_HOSTNAME || type == VG_AT_USER)
        return false;
    if (type != VG_AT_IP)
        return true;
    /* An internal address is context, not an indicator to share. */
    vg_ioc_list l = {0};
    bool ioc = vg_ioc_extract(value, strlen(value), &l) == 1 &&
               !(l.items[0].flags & VG_IOC_PRIVATE);
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
    static const char *const addrs[] = {"0.0.0.0", "::", "::1", "255.255.255.255"};
    for (size_t i = 0; i < sizeof blank / sizeof *blank; i++)
        if (strcasecmp(v, blank[i]) == 0)
            return true;
    if (type == VG_AT_USER)
        for (size_t i = 0; i < sizeof accounts / sizeof *accounts; i++)
            if (strcasecmp(v, accounts[i]) == 0)
                return true;
    if (type == VG_AT_IP) {
        for (size_t i = 0; i < sizeof addrs / sizeof *addrs; i++)
            if (strcmp(v, addrs[i]) == 0)
                return true;
        if (strncmp(v, "127.", 4) == 0)
            return true;
    }
    if (type == VG_AT_HOSTNAME && strcasecmp(v, "localhost") == 0)
        return true;
    return false;
}

static int one(int type, const char *raw, vg_entity_fn fn, void *ud)
{
    char *v = vg_ioc_normalise(type, raw);
    int n = 0;
    if (type == VG_AT_USER)
        for (char *p = v; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    if (!meaningless(type, v) && strlen(v) <= 2048) {
        fn(ud, type, v);
        n = 1;
    }
    free(v);
    return n;
}

int vg_entity_each(const cJSON *entities, vg_entity_fn fn, void *ud)
{
    const cJSON *e;
    int n = 0;
    cJSON_ArrayForEach(e, entities) {
        int type = e->string ? vg_entity_type(e->string) : -1;
        if (type < 0)
            continue;
        if (cJSON_IsString(e))
            n += one(type, e->valuestring, fn, ud);
        else if (cJSON_IsArray(e)) {
            const cJSON *it;
            cJSON_ArrayForEach(it, e)
                if (cJSON_IsString(it))
                    n += one(type, it->valuestring, fn, ud);
        }
    }
    return n;
}
