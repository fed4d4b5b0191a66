/*
 * timefmt.c — display forms of times (see timefmt.h).
 */
#define _XOPEN_SOURCE 700 /* strptime */
#define _DEFAULT_SOURCE
#include "vigil/timefmt.h"

#include <ctype.h>
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

static bool digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (!isdigit((unsigned char)**p))
            return false;
        v = v * 10 + (**p - '0');
    }
    *out = v;
    return true;
}

bool vg_parse_iso8601(const char *s, int64_t *ms)
{
    struct tm tm = {0};
    int y, mo, d, h = 0, mi = 0, sec = 0;
    const char *p = s;
    if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
        !digits(&p, 2, &d))
        return false;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi))
            return false;
        if (*p == ':' && (p++, !digits(&p, 2, &sec)))
            return false;
    }
    int frac = 0, scale = 100;
    if (*p == '.' || *p == ',') {
        p++;
        if (!isdigit((unsigned char)*p))
            return false;
        for (; isdigit((unsigned char)*p); p++, scale /= 10)
            frac += scale ? (*p - '0') * scale : 0;
    }
    int off = 0;
    if (*p == 'Z' || *p == 'z')
        p++;
    else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
        if (!digits(&p, 2, &oh))
            return false;
        if (*p == ':')
            p++;
        if (isdigit((unsigned char)*p) && !digits(&p, 2, &om))
            return false;
        off = sign * (oh * 60 + om);
    }
    if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return false;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    *ms = ((int64_t)t - off * 60) * 1000 + frac;
    return *ms >= 0;
}
