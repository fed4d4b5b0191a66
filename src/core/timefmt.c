/*
 * timefmt.c — display forms of times (see timefmt.h).
 */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE
#include "vigil/timefmt.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

void vg_local_zone(char *out, size_t outsz)
{
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    if (!strftime(out, outsz, "%Z", &tm) || !out[0])
        strftime(out, outsz, "%z", &tm);
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

/* Whether an ISO 8601 time names its zone (Z, or an offset after the time of day). */
static bool names_zone(const char *s)
{
    size_t n = strlen(s);
    if (n > 10 && (s[n - 1] == 'Z' || s[n - 1] == 'z'))
        return true;
    return n > 16 && strpbrk(s + 16, "+-") != NULL; /* after 2026-11-03T14:02 */
}

vg_rc vg_parse_when(const char *what, const char *s, int64_t now, unsigned flags, int64_t *out,
                    vg_err *err)
{
    if (!s || !*s)
        return vg_fail(err, VG_EINVAL, "%s: give a duration (8h, 2d) or a time", what);
    size_t nd = strspn(s, "0123456789");
    int64_t t;
    if (nd > 0 && nd < 9 && s[nd] && !s[nd + 1] && strchr("mhdw", s[nd])) {
        static const int64_t unit[] = {['m' - 'a'] = 60000, ['h' - 'a'] = 3600000,
                                       ['d' - 'a'] = 86400000, ['w' - 'a'] = 604800000};
        int64_t back = strtoll(s, NULL, 10) * unit[s[nd] - 'a'];
        *out = back > now ? 0 : now - back;
        return VG_OK;
    }
    if (strcmp(s, "now") == 0) {
        t = now;
    } else if (nd >= 9 && nd <= 11 && !s[nd]) {
        t = strtoll(s, NULL, 10) * 1000;
    } else if (vg_parse_iso8601(s, &t)) {
        if (!names_zone(s)) { /* the fields were the analyst's wall clock */
            time_t sec = (time_t)(t / 1000);
            struct tm tm;
            gmtime_r(&sec, &tm);
            tm.tm_isdst = -1;
            time_t local = mktime(&tm);
            if (local == (time_t)-1)
                return vg_fail(err, VG_EINVAL, "%s: '%.60s' is not a time here", what, s);
            t = (int64_t)local * 1000 + t % 1000;
            if (t < 0)
                return vg_fail(err, VG_EINVAL, "%s: '%.60s' is before 1970", what, s);
        }
    } else {
        return vg_fail(err, VG_EINVAL,
                       "%s: '%.60s' is neither a duration (90m, 8h, 2d, 1w) nor a time"
                       " (2026-11-03, 2026-11-03 14:02, 2026-11-03T14:02:30Z, +01:00)",
                       what, s);
    }
    if (t > now && !(flags & VG_WHEN_FUTURE))
        return vg_fail(err, VG_EINVAL, "%s: '%.60s' is in the future", what, s);
    *out = t;
    return VG_OK;
}
