/*
 * import_src.h — the bytes of one input of `vigil import`, as the record reader
 * (import.c) reads them: gzip (zlib, multi-member) and zstd (libzstd, multi-frame)
 * decompressed as they stream, whatever the file is called, when its first bytes
 * are theirs; a UTF-8 byte order mark skipped; UTF-16 and UTF-32, xz, bzip2 and
 * zip refused by name, with what to do instead.
 *
 * Memory does not grow with the input: one input buffer and the decompressor's
 * own state (zstd's window is capped at 2^27 bytes, its default). What the
 * decompressors produce is capped too, per input: IMP_MAX_INFLATED bytes in all,
 * and no more than IMP_BOMB_RATIO times the compressed bytes read once past
 * IMP_BOMB_FLOOR (deflate cannot pass about 1032:1, so only a stream made to
 * inflate — zeros, one byte repeated — is refused; a real log compresses 5 to
 * 50 times).
 */
#ifndef VIGIL_IMPORT_SRC_H
#define VIGIL_IMPORT_SRC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define IMP_MAX_INFLATED (64ull << 30) /* decompressed bytes of one input, at most */
#define IMP_BOMB_RATIO 1000            /* decompressed / compressed, at most ... */
#define IMP_BOMB_FLOOR (64ull << 20)   /* ... once this much is out */

typedef struct imp_src imp_src;

typedef enum { IMP_PLAIN, IMP_GZIP, IMP_ZSTD } imp_codec;

/* A source over f, which stays the caller's (it is read, never closed). Reads the
 * first bytes at once to know the codec and the encoding; an input refused for
 * them reads as empty and says why in imp_src_error. Never NULL. */
imp_src *imp_src_open(FILE *f);

/* Up to cap bytes of the input into buf; fewer only at its end or at a failure
 * (imp_src_error then says why; the bytes before it are good). */
size_t imp_src_read(imp_src *s, char *buf, size_t cap);

/* Why the input cannot be read further (a sentence without the file's name), or
 * NULL while it can. */
const char *imp_src_error(const imp_src *s);

imp_codec imp_src_codec(const imp_src *s);

void imp_src_close(imp_src *s); /* NULL is fine */

#endif
