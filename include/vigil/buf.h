/*
 * buf.h — a growable byte buffer with a hard size cap.
 *
 * Anything that holds bytes from outside (a file, stdin, later the network) goes
 * into a vg_buf whose cap is set at init. An append that would pass the cap fails
 * with VG_EINVAL, frees the contents and leaves the buffer empty, so the caller has
 * one cleanup path (the curl dynbuf idea). The contents are always NUL-terminated.
 */
#ifndef VIGIL_BUF_H
#define VIGIL_BUF_H

#include <stddef.h>
#include <stdio.h>

#include "vigil/err.h"

typedef struct vg_buf {
    char *data;  /* NUL-terminated; NULL until the first append */
    size_t len;
    size_t alloc;
    size_t cap;  /* the most bytes it will ever hold, terminator excluded */
} vg_buf;

void vg_buf_init(vg_buf *b, size_t cap);
void vg_buf_free(vg_buf *b);
/* Empty the buffer but keep its memory. */
void vg_buf_reset(vg_buf *b);
VG_WUR vg_rc vg_buf_add(vg_buf *b, const void *p, size_t n);
VG_WUR vg_rc vg_buf_adds(vg_buf *b, const char *s);
VG_WUR vg_rc vg_buf_addf(vg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Read all of f into b; fails (naming `what`) when it is larger than the cap. */
VG_WUR vg_rc vg_buf_read_file(vg_buf *b, FILE *f, const char *what, vg_err *err);
/* The contents as a C string ("" when empty); never NULL. */
const char *vg_buf_str(const vg_buf *b);
/* Hand the contents to the caller (who frees them) and leave b empty. */
char *vg_buf_take(vg_buf *b);

#endif
