/*
 * timefmt.c — display forms of times (see timefmt.h).
 */
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
