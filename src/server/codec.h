/*
 * codec.h — compressed bodies (codec.c): a request's Content-Encoding decoded
 * within a cap, a response compressed for the client's Accept-Encoding.
 */
#ifndef VIGILD_CODEC_H
#define VIGILD_CODEC_H

#include <stdbool.h>
#include <stddef.h>

#include "vigil/buf.h"
#include "vigil/err.h"

/* identity, zstd or gzip (x-gzip)? */
bool codec_known(const char *encoding);
/* Decode in (zstd or gzip) into out, whose cap is the route's: VG_EEXIST when the
 * decoded bytes pass it, VG_EINVAL for a corrupt or truncated body. */
VG_WUR vg_rc codec_decode(const char *encoding, const char *in, size_t len, vg_buf *out,
                          vg_err *err);
/* in compressed for accept (an Accept-Encoding value: zstd first, then gzip), fresh,
 * with *encoding its name; NULL when accept takes neither or in is under 1 KB. */
char *codec_encode(const char *accept, const char *in, size_t len, size_t *outlen,
                   const char **encoding);

#endif
