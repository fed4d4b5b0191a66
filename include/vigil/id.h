/*
 * id.h — ULIDs and the hybrid logical clock.
 *
 * Ids are ULIDs: 48 bits of milliseconds and 80 random bits (libsodium), written as
 * 26 Crockford base32 characters. They sort by creation time and do not collide
 * across replicas that create things offline.
 *
 * The HLC is 48 bits of milliseconds and a 16-bit counter in one uint64: it never
 * goes backwards, stays close to wall time, and orders causally related ops even
 * when two machines' clocks disagree. Ties between replicas are broken by origin id.
 */
#ifndef VIGIL_ID_H
#define VIGIL_ID_H

#include <stdbool.h>
#include <stdint.h>

#define VG_ID_LEN 26
typedef char vg_id[VG_ID_LEN + 1];

/* Milliseconds since the epoch, UTC. */
int64_t vg_now_ms(void);

/* A fresh ULID for time ms (random part from libsodium). */
void vg_ulid(int64_t ms, vg_id out);
/* A ULID for an op stamped with clock hlc: its first 16 random bits are the clock's
 * counter, so one replica's ops sort by id in the order they were made even within
 * one millisecond (the timeline's tie-break). */
void vg_ulid_hlc(uint64_t hlc, vg_id out);
/* A ULID whose random part comes from a seeded generator: deterministic demo data.
 * *state advances on each call. */
void vg_ulid_seeded(int64_t ms, uint64_t *state, vg_id out);
/* A ULID whose random part is the first 80 bits of bytes: an id that every
 * replica derives alike from what it names. */
void vg_ulid_from(int64_t ms, const unsigned char bytes[10], vg_id out);
/* Is s a well-formed ULID (26 Crockford base32 characters, upper case)? */
bool vg_ulid_valid(const char *s);
/* The millisecond part of a ULID. */
int64_t vg_ulid_ms(const char *s);

#define VG_HLC_MS(h) ((int64_t)((h) >> 16))
#define VG_HLC(ms, counter) (((uint64_t)(ms) << 16) | ((uint64_t)(counter) & 0xffff))

/* Next local clock value after last, given the wall time now_ms. */
uint64_t vg_hlc_next(uint64_t last, int64_t now_ms);
/* The local clock after receiving a remote value: later than both. */
uint64_t vg_hlc_recv(uint64_t last, uint64_t remote, int64_t now_ms);

#endif
