/*
 * import_src.c — an import's input as bytes (see import_src.h): the codec told by
 * the first bytes, never by the name (a log rotated to x.json.1 may be gzip, a
 * download called x.gz may be plain), decompressed a buffer at a time on the
 * reader's thread; then the first decoded bytes tell the encoding.
 *
 * Why refuse rather than convert UTF-16: vigil stores and shows UTF-8, and a
 * converter inside the importer would be a second, rarely used path through every
 * record; iconv does it better and the message says how. The same goes for xz,
 * bzip2 and zip, which no sensor writes by default: naming them beats "binary
 * file".
 */
#include "import_src.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "vigil/err.h"

struct imp_src {
    FILE *f;
    imp_codec codec;
    unsigned char in[64 * 1024]; /* read from f, not yet decoded: [in_pos, in_len) */
    size_t in_pos, in_len;
    bool in_eof;
    uint64_t in_read;   /* bytes read from f */
    uint64_t out_total; /* bytes decompressed */
    z_stream z;
    bool z_live, z_ended, z_padding; /* inflate set up; a member ended; zeros after it */
    ZSTD_DCtx *zd;
    size_t zret;  /* ZSTD_decompressStream's last hint: 0 when a frame is complete */
    char head[4]; /* the first decoded bytes, served first from head_pos */
    size_t head_pos, head_len;
    bool failed, done;
    char err[240];
};

static void fail(imp_src *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(imp_src *s, const char *fmt, ...)
{
    if (s->failed)
        return;
    s->failed = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
}

/* More of f into in once in is used up; false at its end (or a read error). */
static bool refill(imp_src *s)
{
    if (s->in_pos < s->in_len)
        return true;
    if (s->in_eof)
        return false;
    size_t n = fread(s->in, 1, sizeof s->in, s->f);
    s->in_pos = 0;
    s->in_len = n;
    s->in_read += n;
    if (n == 0) {
        s->in_eof = true;
        if (ferror(s->f))
            fail(s, "read error: %s", strerror(errno ? errno : EIO));
    }
    return n > 0;
}

/* After made more bytes out: the caps of import_src.h. */
static void count_out(imp_src *s, size_t made)
{
    s->out_total += made;
    if (s->out_total > IMP_MAX_INFLATED)
        fail(s, "decompresses to more than %llu GiB; refused",
             (unsigned long long)(IMP_MAX_INFLATED >> 30));
    else if (s->out_total > IMP_BOMB_FLOOR &&
             s->out_total / (s->in_read ? s->in_read : 1) > IMP_BOMB_RATIO)
        fail(s,
             "decompresses to more than %d times its size (%llu MiB out of %llu KiB read): "
             "a decompression bomb? refused",
             IMP_BOMB_RATIO, (unsigned long long)(s->out_total >> 20),
             (unsigned long long)(s->in_read >> 10));
}

static size_t decode_plain(imp_src *s, char *buf, size_t cap)
{
    size_t got = 0;
    if (s->in_pos < s->in_len) {
        got = s->in_len - s->in_pos < cap ? s->in_len - s->in_pos : cap;
        memcpy(buf, s->in + s->in_pos, got);
        s->in_pos += got;
    }
    if (got < cap && !s->in_eof) {
        size_t n = fread(buf + got, 1, cap - got, s->f);
        got += n;
        if (got < cap) {
            s->in_eof = true;
            if (ferror(s->f))
                fail(s, "read error: %s", strerror(errno ? errno : EIO));
        }
    }
    return got;
}

static size_t decode_gzip(imp_src *s, char *buf, size_t cap)
{
    size_t got = 0;
    while (got < cap && !s->failed) {
        if (s->z_ended) { /* a member ended: another one, zero padding, or the end */
            if (!refill(s))
                break;
            unsigned char c = s->in[s->in_pos];
            if (c == 0) {
                s->z_padding = true;
                s->in_pos++;
                continue;
            }
            if (c != 0x1f || s->z_padding) {
                fail(s, "data after the end of the gzip stream (at byte %llu): not gzip",
                     (unsigned long long)(s->in_read - (s->in_len - s->in_pos)));
                break;
            }
            inflateReset(&s->z);
            s->z_ended = false;
        }
        bool more = refill(s);
        s->z.next_in = more ? s->in + s->in_pos : NULL;
        s->z.avail_in = more ? (uInt)(s->in_len - s->in_pos) : 0;
        s->z.next_out = (unsigned char *)buf + got;
        s->z.avail_out = (uInt)(cap - got);
        int ret = inflate(&s->z, Z_NO_FLUSH);
        size_t made = (cap - got) - s->z.avail_out;
        got += made;
        if (more)
            s->in_pos = s->in_len - s->z.avail_in;
        count_out(s, made);
        if (ret == Z_STREAM_END)
            s->z_ended = true;
        else if (ret == Z_BUF_ERROR && !more && made == 0)
            fail(s, "the gzip data is cut short after %llu bytes (a truncated file?)",
                 (unsigned long long)s->in_read);
        else if (ret != Z_OK && ret != Z_BUF_ERROR)
            fail(s, "the gzip data is corrupt (%s)", s->z.msg ? s->z.msg : "inflate failed");
    }
    return got;
}

static size_t decode_zstd(imp_src *s, char *buf, size_t cap)
{
    size_t got = 0;
    while (got < cap && !s->failed) {
        bool more = refill(s);
        ZSTD_inBuffer ib = {s->in, more ? s->in_len : 0, more ? s->in_pos : 0};
        ZSTD_outBuffer ob = {buf, cap, got};
        size_t ret = ZSTD_decompressStream(s->zd, &ob, &ib);
        if (ZSTD_isError(ret)) {
            if (ZSTD_getErrorCode(ret) == ZSTD_error_frameParameter_windowTooLarge)
                fail(s, "the zstd data needs a window over 128 MiB (made with zstd --long?): "
                        "decompress it first with zstd -dc --long=31");
            else
                fail(s, "the zstd data is corrupt (%s)", ZSTD_getErrorName(ret));
            break;
        }
        size_t made = ob.pos - got;
        got = ob.pos;
        if (!more && made == 0) { /* the input is over and nothing is left inside */
            if (s->zret != 0)     /* ... in the middle of a frame */
                fail(s, "the zstd data is cut short after %llu bytes (a truncated file?)",
                     (unsigned long long)s->in_read);
            break;
        }
        if (more)
            s->in_pos = ib.pos;
        s->zret = ret; /* 0 when a frame has just ended, whole */
        count_out(s, made);
    }
    return got;
}

/* Up to cap decoded bytes; fewer only at the end or on a failure. */
static size_t decode(imp_src *s, char *buf, size_t cap)
{
    if (s->failed || s->done || cap == 0)
        return 0;
    size_t got = s->codec == IMP_GZIP   ? decode_gzip(s, buf, cap)
                 : s->codec == IMP_ZSTD ? decode_zstd(s, buf, cap)
                                        : decode_plain(s, buf, cap);
    if (got < cap && !s->failed)
        s->done = true;
    return got;
}

/* The codec by the first bytes; false (with why) for one vigil does not read. */
static bool pick_codec(imp_src *s)
{
    const unsigned char *b = s->in;
    size_t n = s->in_len;
    if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b) {
        if (inflateInit2(&s->z, 15 + 16) != Z_OK) { /* gzip framing only */
            fail(s, "cannot start zlib");
            return false;
        }
        s->z_live = true;
        s->codec = IMP_GZIP;
    } else if (n >= 4 &&
               ((b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd) ||
                ((b[0] & 0xf0) == 0x50 && b[1] == 0x2a && b[2] == 0x4d && b[3] == 0x18))) {
        s->zd = ZSTD_createDCtx();
        if (!s->zd) {
            fail(s, "cannot start zstd");
            return false;
        }
        ZSTD_DCtx_setParameter(s->zd, ZSTD_d_windowLogMax, 27);
        s->zret = 1;
        s->codec = IMP_ZSTD;
    } else if (n >= 6 && memcmp(b, "\3757zXZ\0", 6) == 0) { /* FD '7' 'z' 'X' 'Z' 00 */
        fail(s, "xz-compressed: decompress it first (xz -dc FILE | vigil import -)");
    } else if (n >= 4 && b[0] == 'B' && b[1] == 'Z' && b[2] == 'h' && b[3] >= '1' && b[3] <= '9') {
        fail(s, "bzip2-compressed: decompress it first (bzip2 -dc FILE | vigil import -)");
    } else if (n >= 4 && memcmp(b, "PK\3\4", 4) == 0) {
        fail(s, "a zip archive: unpack it first (unzip)");
    }
    return !s->failed;
}

/* The encoding by the first decoded bytes: a UTF-8 BOM is skipped, the rest of
 * what is not UTF-8 refused. */
static void check_encoding(imp_src *s)
{
    const unsigned char *h = (const unsigned char *)s->head;
    size_t n = s->head_len;
    if (n >= 3 && h[0] == 0xef && h[1] == 0xbb && h[2] == 0xbf)
        s->head_pos = 3;
    else if (n >= 4 && ((h[0] == 0xff && h[1] == 0xfe && !h[2] && !h[3]) ||
                        (!h[0] && !h[1] && h[2] == 0xfe && h[3] == 0xff)))
        fail(s, "UTF-32: convert with iconv -f UTF-32 -t UTF-8");
    else if (n >= 2 && ((h[0] == 0xff && h[1] == 0xfe) || (h[0] == 0xfe && h[1] == 0xff)))
        fail(s, "UTF-16: convert with iconv -f UTF-16 -t UTF-8");
    else if (n >= 4 && h[0] && h[0] < 0x80 && !h[1] && h[2] && h[2] < 0x80 && !h[3])
        fail(s, "UTF-16LE without a byte order mark: convert with iconv -f UTF-16LE -t UTF-8");
    else if (n >= 4 && !h[0] && h[1] && h[1] < 0x80 && !h[2] && h[3] && h[3] < 0x80)
        fail(s, "UTF-16BE without a byte order mark: convert with iconv -f UTF-16BE -t UTF-8");
}

imp_src *imp_src_open(FILE *f)
{
    imp_src *s = vg_xcalloc(1, sizeof *s);
    s->f = f;
    if (refill(s) && pick_codec(s)) {
        s->head_len = decode(s, s->head, sizeof s->head);
        check_encoding(s);
    }
    return s;
}

size_t imp_src_read(imp_src *s, char *buf, size_t cap)
{
    if (s->failed)
        return 0;
    size_t got = 0;
    if (s->head_pos < s->head_len) {
        got = s->head_len - s->head_pos < cap ? s->head_len - s->head_pos : cap;
        memcpy(buf, s->head + s->head_pos, got);
        s->head_pos += got;
    }
    if (got < cap)
        got += decode(s, buf + got, cap - got);
    return got;
}

const char *imp_src_error(const imp_src *s)
{
    return s->failed ? s->err : NULL;
}

imp_codec imp_src_codec(const imp_src *s)
{
    return s->codec;
}

void imp_src_close(imp_src *s)
{
    if (!s)
        return;
    if (s->z_live)
        inflateEnd(&s->z);
    ZSTD_freeDCtx(s->zd);
    free(s);
}
