/*
 * codec.c — bodies compressed on the wire: zstd (libzstd) and gzip (zlib), both
 * streamed into a capped vg_buf, so that a small body that inflates past the
 * route's cap (a zip bomb) stops at the cap instead of filling memory.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>
#include <zstd.h>

#include "codec.h"

/* VG_E2BIG does not exist in the core's codes: a body past its cap is VG_EEXIST
 * here, which the caller answers with 413 (and VG_EINVAL with 400). */
static vg_rc too_big(vg_err *err, size_t cap)
{
    return vg_fail(err, VG_EEXIST, "the body is larger than this route's %zu bytes once decoded",
                   cap);
}

static vg_rc unzstd(const char *in, size_t len, vg_buf *out, vg_err *err)
{
    ZSTD_DStream *ds = ZSTD_createDStream();
    if (!ds)
        return vg_fail(err, VG_EIO, "out of memory");
    char chunk[1 << 16];
    ZSTD_inBuffer ib = {in, len, 0};
    size_t r = 1;
    vg_rc rc = VG_OK;
    /* a frame that says it is done with input left over is a second frame */
    while (rc == VG_OK && (ib.pos < ib.size || r != 0)) {
        ZSTD_outBuffer ob = {chunk, sizeof chunk, 0};
        size_t before = ib.pos;
        r = ZSTD_decompressStream(ds, &ob, &ib);
        if (ZSTD_isError(r))
            rc = vg_fail(err, VG_EINVAL, "the zstd body is corrupt: %s", ZSTD_getErrorName(r));
        else if (ob.pos && vg_buf_add(out, chunk, ob.pos) != VG_OK)
            rc = too_big(err, out->cap);
        else if (r != 0 && ib.pos == ib.size && before == ib.pos && ob.pos < ob.size)
            rc = vg_fail(err, VG_EINVAL, "the zstd body is truncated");
    }
    ZSTD_freeDStream(ds);
    return rc;
}

static vg_rc ungzip(const char *in, size_t len, vg_buf *out, vg_err *err)
{
    z_stream z = {0};
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        return vg_fail(err, VG_EIO, "out of memory");
    char chunk[1 << 16];
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    vg_rc rc = VG_OK;
    int zr = Z_OK;
    while (rc == VG_OK && zr != Z_STREAM_END) {
        z.next_out = (Bytef *)chunk;
        z.avail_out = sizeof chunk;
        zr = inflate(&z, Z_NO_FLUSH);
        size_t got = sizeof chunk - z.avail_out;
        if (zr != Z_OK && zr != Z_STREAM_END && !(zr == Z_BUF_ERROR && got))
            rc = vg_fail(err, VG_EINVAL, "the gzip body is %s",
                         zr == Z_BUF_ERROR ? "truncated" : "corrupt");
        else if (got && vg_buf_add(out, chunk, got) != VG_OK)
            rc = too_big(err, out->cap);
    }
    if (rc == VG_OK && z.avail_in)
        rc = vg_fail(err, VG_EINVAL, "the gzip body has bytes after its end");
    inflateEnd(&z);
    return rc;
}

vg_rc codec_decode(const char *encoding, const char *in, size_t len, vg_buf *out, vg_err *err)
{
    if (strcasecmp(encoding, "zstd") == 0)
        return unzstd(in, len, out, err);
    if (strcasecmp(encoding, "gzip") == 0 || strcasecmp(encoding, "x-gzip") == 0)
        return ungzip(in, len, out, err);
    return vg_fail(err, VG_EINVAL, "unknown encoding");
}

bool codec_known(const char *encoding)
{
    return strcasecmp(encoding, "identity") == 0 || strcasecmp(encoding, "zstd") == 0 ||
           strcasecmp(encoding, "gzip") == 0 || strcasecmp(encoding, "x-gzip") == 0;
}

/* Does the Accept-Encoding value name coding (with a q above 0)? */
static bool accepts(const char *ae, const char *coding)
{
    size_t n = strlen(coding);
    for (const char *p = ae; p && *p;) {
        p += strspn(p, " \t,");
        size_t l = strcspn(p, " \t,;");
        if (l == n && strncasecmp(p, coding, n) == 0) {
            const char *q = p + l;
            q += strspn(q, " \t");
            if (*q != ';')
                return true;
            q = strchr(q, '=');
            return !q || strtod(q + 1, NULL) > 0;
        }
        p = strchr(p, ',');
    }
    return false;
}

char *codec_encode(const char *accept, const char *in, size_t len, size_t *outlen,
                   const char **encoding)
{
    *encoding = NULL;
    if (!accept || len < 1024)
        return NULL;
    if (accepts(accept, "zstd")) {
        size_t bound = ZSTD_compressBound(len);
        char *out = vg_xmalloc(bound);
        size_t n = ZSTD_compress(out, bound, in, len, 3);
        if (ZSTD_isError(n)) {
            free(out);
            return NULL;
        }
        *outlen = n;
        *encoding = "zstd";
        return out;
    }
    if (accepts(accept, "gzip")) {
        z_stream z = {0};
        if (deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            return NULL;
        size_t bound = deflateBound(&z, (uLong)len);
        char *out = vg_xmalloc(bound);
        z.next_in = (Bytef *)in;
        z.avail_in = (uInt)len;
        z.next_out = (Bytef *)out;
        z.avail_out = (uInt)bound;
        int zr = deflate(&z, Z_FINISH);
        *outlen = bound - z.avail_out;
        deflateEnd(&z);
        if (zr != Z_STREAM_END) {
            free(out);
            return NULL;
        }
        *encoding = "gzip";
        return out;
    }
    return NULL;
}
