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
    const char *name, *type;
} NAMES[] = {
    {"host", "hostname"}, {"hostname", "hostname"}, {"user", "user"},
    {"ip", "ip"},         {"src_ip", "ip"},         {"dest_ip", "ip"},
    {"domain", "domain"}, {"url", "url"},           {"email", "email"},
    {"sender", "email"},  {"recipient", "email"},   {"md5", "md5"},
    {"sha1", "sha1"},     {"sha256", "sha256"},     {"sha512", "sha512"},
    {"file", "filename"}, {"process", "filename"},  {"registry", "registry"},
    {"cve", "cve"},       {"user_agent", "user-agent"},
};

int vg_entity_type(const char *name)
{
    for (size_t i = 0; i < sizeof NAMES / sizeof *NAMES; i++)
        if (strcmp(NAMES[i].name, name) == 0)
            return vg_enum_parse(&VG_ARTIFACT_TYPE, NAMES[i].type);
    return -1;
}

static bool type_is(int type, const char *name)
{
    return strcmp(vg_enum_name(&VG_ARTIFACT_TYPE, type), name) == 0;
}

bool vg_entity_is_key(int type)
{
    static const char *const keys[] = {"hostname", "user", "ip", "domain", "url", "email",
                                       "md5", "sha1", "sha256", "sha512"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (type_is(type, keys[i]))
            return true;
    return false;
}

bool vg_entity_is_ioc(int type, const char *value)
{
    if (!vg_entity_is_key(type) || type_is(type, "hostname") || type_is(type, "user"))
        return false;
    if (!type_is(type, "ip"))
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
    if (type_is(type, "user"))
        for (size_t i = 0; i < sizeof accounts / sizeof *accounts; i++)
            if (strcasecmp(v, accounts[i]) == 0)
                return true;
    if (type_is(type, "ip")) {
        for (size_t i = 0; i < sizeof addrs / sizeof *addrs; i++)
            if (strcmp(v, addrs[i]) == 0)
                return true;
        if (strncmp(v, "127.", 4) == 0)
            return true;
    }
    if (type_is(type, "hostname") && strcasecmp(v, "localhost") == 0)
        return true;
    return false;
}

static int one(int type, const char *raw, vg_entity_fn fn, void *ud)
{
    char *v = vg_ioc_normalise(type, raw);
    int n = 0;
    if (type_is(type, "user"))
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
