/*
 * timefmt.h — times as analysts read them, shared by every frontend: stored times
 * are UTC milliseconds; shown in the analyst's zone (TZ).
 */
#ifndef VIGIL_TIMEFMT_H
#define VIGIL_TIMEFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/err.h"

/* "2026-11-03 14:02" in local time; "-" for 0. */
void vg_local_time(int64_t ms, char *out, size_t outsz);
/* The zone vg_local_time writes its times in, as the analyst's system names it now
 * ("UTC", "CET", "+0530"), so a screen of times can say which they are. */
void vg_local_zone(char *out, size_t outsz);
/* How long ago ms was, now_ms being now: "12m", "5h", "3d". */
void vg_age(int64_t ms, int64_t now_ms, char *out, size_t outsz);

/* An ISO 8601 / RFC 3339 time as tools write it: 2026-11-02, 2026-11-02T10:11(:12)?
 * (.123456789)?(Z|+hh:mm|+hhmm|+hh)?; a space may stand for the T; no zone means UTC
 * (as the tools that omit it mean). False for anything else, or before 1970. */
bool vg_parse_iso8601(const char *s, int64_t *ms);

/* A time an analyst gives, the one parser of the : line's :event, --since and
 * --until, and the filters' after: and before:. Any of
 *   a duration back from now: 90m, 8h, 2d, 1w;  now;
 *   seconds since the epoch (9 to 11 digits, as `date +%s` prints);
 *   a date or time as the timeline prints it or tools write it: 2026-11-03,
 *   2026-11-03 14:02, 2026-11-03T14:02:30, with a fraction, Z or an offset
 *   (+01:00, -0500); without a zone it is the analyst's (TZ).
 * A time after now is refused unless flags has VG_WHEN_FUTURE. Errors start with
 * what ("--since", "after") and name the value. */
#define VG_WHEN_FUTURE 1u
VG_WUR vg_rc vg_parse_when(const char *what, const char *s, int64_t now, unsigned flags,
                           int64_t *out, vg_err *err);

#endif
