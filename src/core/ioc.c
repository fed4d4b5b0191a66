/*
 * ioc.c — normalising indicator values (see ioc.h). Pure string work, no I/O.
 */
#include "vigil/ioc.h"

#include <ctype.h>
#include <string.h>
#include <stdlib.h>
#include <strings.h>

#include "vigil/err.h"
#include "vigil/model.h"

/* Defanged spellings and what they stand for; longest first where they overlap. */
static const struct { const char *from, *to; } fangs[] = {
    {"hxxps", "https"}, {"hxxp", "http"}, {"fxp", "ftp"}, {"[://]", "://"},
    {"[:]", ":"},       {"[.]", "."},     {"(.)", "."},   {"{.}", "."},
    {"[dot]", "."},     {"(dot)", "."},   {"[@]", "@"},   {"(@)", "@"},
    {"[at]", "@"},      {"(at)", "@"},
};

char *vg_refang(const char *s)
{
    size_t n = strlen(s);
    char *out = vg_xmalloc(n + 1), *o = out;
    while (*s) {
        size_t i;
        for (i = 0; i < sizeof fangs / sizeof *fangs; i++) {
            size_t fl = strlen(fangs[i].from);
            if (strncasecmp(s, fangs[i].from, fl) == 0) {
                size_t tl = strlen(fangs[i].to);
                memcpy(o, fangs[i].to, tl); /* never longer than from */
                o += tl;
                s += fl;
                break;
            }
        }
        if (i == sizeof fangs / sizeof *fangs)
            *o++ = *s++;
    }
    *o = '\0';
    return out;
}

char *vg_ioc_normalise(int type, const char *value)
{
    while (isspace((unsigned char)*value))
        value++;
    size_t n = strlen(value);
    while (n && isspace((unsigned char)value[n - 1]))
        n--;
    char *trimmed = vg_xstrndup(value, n);
    const char *name = vg_enum_name(&VG_ARTIFACT_TYPE, type);
    static const char *const refanged[] = {"ip", "domain", "url", "email", "hostname"};
    static const char *const lower[] = {"ip", "domain", "email", "md5", "sha1",
                                        "sha256", "sha512", "hostname"};
    for (size_t i = 0; i < sizeof refanged / sizeof *refanged; i++)
        if (strcmp(name, refanged[i]) == 0) {
            char *r = vg_refang(trimmed);
            free(trimmed);
            trimmed = r;
            break;
        }
    for (size_t i = 0; i < sizeof lower / sizeof *lower; i++)
        if (strcmp(name, lower[i]) == 0)
            for (char *p = trimmed; *p; p++)
                *p = (char)tolower((unsigned char)*p);
    if (strcmp(name, "cve") == 0)
        for (char *p = trimmed; *p; p++)
            *p = (char)toupper((unsigned char)*p);
    if (strcmp(name, "domain") == 0 || strcmp(name, "hostname") == 0) {
        size_t l = strlen(trimmed); /* "example.com." is example.com */
        if (l > 1 && trimmed[l - 1] == '.')
            trimmed[l - 1] = '\0';
    }
    return trimmed;
}
