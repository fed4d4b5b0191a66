/*
 * timefmt.h — times as analysts read them, shared by every frontend: stored times
 * are UTC milliseconds; shown in the analyst's zone (TZ).
 */
#ifndef VIGIL_TIMEFMT_H
#define VIGIL_TIMEFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "2026-11-03 14:02" in local time; "-" for 0. */
void vg_local_time(int64_t ms, char *out, size_t outsz);
/* How long ago ms was, now_ms being now: "12m", "5h", "3d". */
void vg_age(int64_t ms, int64_t now_ms, char *out, size_t outsz);

/* A date or time the analyst typed, in their zone: 2026-11-03, 2026-11-03T14:02 or
 * 2026-11-03 14:02 (seconds optional); false when it is none of these. */
bool vg_parse_local_time(const char *s, int64_t *ms);

/* An ISO 8601 / RFC 3339 time as tools write it: 2026-11-02, 2026-11-02T10:11(:12)?
 * (.123456789)?(Z|+hh:mm|+hhmm|+hh)?; a space may stand for the T; no zone means UTC
 * (as the tools that omit it mean). False for anything else, or before 1970. */
bool vg_parse_iso8601(const char *s, int64_t *ms);

#endif
