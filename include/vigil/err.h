/*
 * err.h — the one error type of libvigil.
 *
 * Every fallible function returns a vg_rc and, when it fails, fills a caller-owned
 * vg_err with a message written for the person at the terminal ("severity: 'hgh' is
 * not one of info, low, medium, high, critical"). Callers check every return; the
 * attribute below makes the compiler insist. Out of memory is not an error code:
 * the allocation wrappers run the frontend's hook (which restores the terminal) and
 * abort, because no caller can do anything useful after it.
 */
#ifndef VIGIL_ERR_H
#define VIGIL_ERR_H

#include <stdarg.h>
#include <stddef.h>

#define VG_WUR __attribute__((warn_unused_result))

typedef enum vg_rc {
    VG_OK = 0,
    VG_EINVAL,     /* bad input: a field, a value, an argument */
    VG_ENOTFOUND,  /* no such case, task, artifact... */
    VG_EAMBIGUOUS, /* a reference matches more than one thing */
    VG_EEXIST,     /* something that must be new is not */
    VG_EDB,        /* SQLite failed */
    VG_EIO,        /* a file could not be read or written */
    VG_ENOTVIGIL,  /* the file is not a vigil workspace */
    VG_ENEWER,     /* the workspace was written by a newer vigil */
    VG_ECORRUPT,   /* a hash chain or integrity check failed */
} vg_rc;

typedef struct vg_err {
    vg_rc rc;
    char msg[512];
} vg_err;

/* Record rc and a printf-style message in err (which may be NULL); returns rc so
 * that a caller can write `return vg_fail(err, VG_EINVAL, "...")`. */
vg_rc vg_fail(vg_err *err, vg_rc rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Allocation that never returns NULL: on failure it calls the out-of-memory hook
 * (if set), prints a message and aborts. */
void *vg_xmalloc(size_t n);
void *vg_xcalloc(size_t count, size_t size);
void *vg_xrealloc(void *p, size_t n);
char *vg_xstrdup(const char *s);
char *vg_xstrndup(const char *s, size_t n);
/* A fresh string formatted from fmt and ap (vasprintf that never fails). */
char *vg_xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
/* Called before abort on out of memory; the TUI sets it to restore the terminal. */
void vg_set_oom_hook(void (*hook)(void));

#endif
