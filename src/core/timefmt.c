/*
 * timefmt.c — display forms of times (see timefmt.h).
 */
#define _XOPEN_SOURCE 700 /* strptime */
#define _DEFAULT_SOURCE
#include "vigil/timefmt.h"

#include <stdio.h>
#include <time.h>

void vg_local_time(int64_t ms, char *out, size_t outsz)
{
    if (ms == 0) {
        snprintf(out, outsz, "-");
        return;
    }
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, outsz, "%Y-%m-%d %H:%M", &tm);
}

void vg_age(int64_t ms, int64_t now_ms, char *out, size_t outsz)
{
    int64_t m = (now_ms - ms) / 60000;
    if (m < 0)
        m = 0;
    if (m < 60)
        snprintf(out, outsz, "%lldm", (long long)m);
    else if (m < 48 * 60)
        snprintf(out, outsz, "%lldh", (long long)(m / 60));
    else
        snprintf(out, outsz, "%lldd", (long long)(m / 1440));
}

bool vg_parse_local_time(const char *s, int64_t *ms)
{
    static const char *const forms[] = {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
                                        "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"};
    for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
        struct tm tm = {0};
        const char *end = strptime(s, forms[i], &tm);
        if (end && !*end) {
            tm.tm_isdst = -1;
            time_t t = mktime(&tm);
            if (t == (time_t)-1)
                return false;
            *ms = (int64_t)t * 1000;
            return true;
        }
    }
    return false;
}
