/*
 * buf.c — capped growable buffers (see buf.h). Growth doubles, so appending n
 * bytes one at a time costs O(n); the cap is checked before any allocation.
 */
#include "vigil/buf.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void vg_buf_init(vg_buf *b, size_t cap)
{
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    b->cap = cap;
}

void vg_buf_free(vg_buf *b)
{
    if (!b)
        return;
    free(b->data);
    b->data = NULL;
    b->len = b->alloc = 0;
}

void vg_buf_reset(vg_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

vg_rc vg_buf_add(vg_buf *b, const void *p, size_t n)
{
    if (n > b->cap - b->len) {
        vg_buf_free(b);
        return VG_EINVAL;
    }
    if (b->len + n + 1 > b->alloc) {
        size_t want = b->alloc ? b->alloc : 64;
        while (want < b->len + n + 1)
            want *= 2;
        if (want > b->cap + 1)
            want = b->cap + 1;
        b->data = vg_xrealloc(b->data, want);
        b->alloc = want;
    }
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return VG_OK;
}

vg_rc vg_buf_adds(vg_buf *b, const char *s)
{
    return vg_buf_add(b, s, strlen(s));
}

vg_rc vg_buf_addf(vg_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return VG_EINVAL;
    if ((size_t)n < sizeof small)
        return vg_buf_add(b, small, (size_t)n);
    char *big = vg_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    vg_rc rc = vg_buf_add(b, big, (size_t)n);
    free(big);
    return rc;
}

vg_rc vg_buf_read_file(vg_buf *b, FILE *f, const char *what, vg_err *err)
{
    char chunk[16384];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (vg_buf_add(b, chunk, n) != VG_OK)
            return vg_fail(err, VG_EINVAL, "%s: larger than %zu bytes", what, b->cap);
    }
    if (ferror(f))
        return vg_fail(err, VG_EIO, "%s: read error", what);
    return VG_OK;
}

const char *vg_buf_str(const vg_buf *b)
{
    return b->data ? b->data : "";
}

char *vg_buf_take(vg_buf *b)
{
    char *p = b->data ? b->data : vg_xstrdup("");
    b->data = NULL;
    b->len = b->alloc = 0;
    return p;
}
