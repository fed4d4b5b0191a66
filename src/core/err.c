/*
 * err.c — error messages and allocation wrappers for libvigil.
 *
 * Allocation failure aborts (after the frontend's hook has restored the terminal):
 * a workstation that cannot allocate a few bytes cannot do anything useful, and
 * threading ENOMEM through every call path buys nothing but untested branches.
 */
#include "vigil/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void (*oom_hook)(void);

void vg_set_oom_hook(void (*hook)(void)) { oom_hook = hook; }

static void *oom(void)
{
    if (oom_hook)
        oom_hook();
    fputs("vigil: out of memory\n", stderr);
    abort();
}

vg_rc vg_fail(vg_err *err, vg_rc rc, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->rc = rc;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return rc;
}

void *vg_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    return p ? p : oom();
}

void *vg_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    return p ? p : oom();
}

void *vg_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    return q ? q : oom();
}

char *vg_xstrdup(const char *s)
{
    return vg_xstrndup(s, strlen(s));
}

char *vg_xstrndup(const char *s, size_t n)
{
    char *p = vg_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *vg_xvasprintf(const char *fmt, va_list ap)
{
    char *s = NULL;
    return vasprintf(&s, fmt, ap) < 0 ? oom() : s;
}
