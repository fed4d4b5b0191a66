/*
 * id.c — ULIDs (Crockford base32, 48-bit ms + 80 random bits) and the hybrid
 * logical clock. Random bits come from libsodium, except for seeded ids, which use
 * splitmix64 so that a demo workspace is the same for the same seed.
 */
#include "vigil/id.h"

#include <sodium.h>
#include <string.h>
#include <time.h>

static const char B32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

int64_t vg_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 128 bits as 16 bytes big-endian -> 26 characters of 5 bits (the first holds 3). */
static void encode(int64_t ms, const unsigned char rnd[10], vg_id out)
{
    unsigned char b[16];
    uint64_t t = (uint64_t)ms & 0xffffffffffffULL;
    for (int i = 0; i < 6; i++)
        b[i] = (unsigned char)(t >> (40 - 8 * i));
    memcpy(b + 6, rnd, 10);
    /* Walk the 130-bit field (two leading zero bits) 5 bits at a time. */
    for (int i = 0; i < VG_ID_LEN; i++) {
        int bit = i * 5 - 2; /* position of this digit's first bit in b */
        unsigned v = 0;
        for (int k = 0; k < 5; k++, bit++) {
            v <<= 1;
            if (bit >= 0)
                v |= (b[bit / 8] >> (7 - bit % 8)) & 1u;
        }
        out[i] = B32[v];
    }
    out[VG_ID_LEN] = '\0';
}

void vg_ulid(int64_t ms, vg_id out)
{
    unsigned char rnd[10];
    randombytes_buf(rnd, sizeof rnd);
    encode(ms, rnd, out);
}

void vg_ulid_hlc(uint64_t hlc, vg_id out)
{
    unsigned char rnd[10];
    randombytes_buf(rnd + 2, sizeof rnd - 2);
    rnd[0] = (unsigned char)(hlc >> 8);
    rnd[1] = (unsigned char)hlc;
    encode(VG_HLC_MS(hlc), rnd, out);
}

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void vg_ulid_seeded(int64_t ms, uint64_t *state, vg_id out)
{
    unsigned char rnd[10];
    uint64_t a = splitmix64(state), b = splitmix64(state);
    memcpy(rnd, &a, 8);
    memcpy(rnd + 8, &b, 2);
    encode(ms, rnd, out);
}

void vg_ulid_from(int64_t ms, const unsigned char bytes[10], vg_id out)
{
    encode(ms, bytes, out);
}

bool vg_ulid_valid(const char *s)
{
    if (!s || strlen(s) != VG_ID_LEN || s[0] > '7')
        return false;
    for (int i = 0; i < VG_ID_LEN; i++)
        if (!strchr(B32, s[i]) || s[i] == '\0')
            return false;
    return true;
}

int64_t vg_ulid_ms(const char *s)
{
    int64_t ms = 0;
    for (int i = 0; i < 10; i++)
        ms = (ms << 5) | (int64_t)(strchr(B32, s[i]) - B32);
    return ms;
}

uint64_t vg_hlc_next(uint64_t last, int64_t now_ms)
{
    uint64_t wall = VG_HLC(now_ms, 0);
    return wall > last ? wall : last + 1;
}

uint64_t vg_hlc_recv(uint64_t last, uint64_t remote, int64_t now_ms)
{
    uint64_t m = last > remote ? last : remote;
    return vg_hlc_next(m, now_ms);
}
