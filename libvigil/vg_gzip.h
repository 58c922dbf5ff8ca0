/*
 * vg_gzip.h - gzip compression into a vg_buf: one-shot for a memory block,
 * or streamed piece by piece.
 *
 * Used by the HTTP server for Content-Encoding: gzip. A gzip (RFC 1952)
 * stream, not raw deflate or zlib format: that is what "gzip" means on
 * the wire and what every client's decoder expects.
 */
#ifndef VG_GZIP_H
#define VG_GZIP_H

#include <stddef.h>

#include "vg_buf.h"

/* Default level: fast; metrics text compresses ~10x even at level 1-3. */
#define VG_GZIP_LEVEL_DEFAULT 3

/*
 * Append the gzip stream of in[0..len) to out. level is a zlib level
 * (0..9, or -1 for zlib's default). Returns 0, -EINVAL (bad level),
 * -ENOMEM, or -EIO (zlib failed); on failure out is left as it was.
 */
int vg_gzip_compress(const void *in, size_t len, int level, vg_buf *out);

/*
 * The same stream produced piece by piece, for a body that is never whole
 * in memory (a streamed metrics answer). zlib keeps about 300 KiB of state
 * whatever the body's size. new: 0, -EINVAL (bad level), -ENOMEM.
 * write appends to out whatever compressed bytes are ready (often none
 * until zlib's buffers fill); finish true ends the stream (the trailer is
 * appended) and no write may follow. 0, -ENOMEM (out may then hold part of
 * the output: the stream is unusable), -EIO. free(NULL) is fine.
 */
typedef struct vg_gzip_stream vg_gzip_stream;
int vg_gzip_stream_new(int level, vg_gzip_stream **out);
int vg_gzip_stream_write(vg_gzip_stream *g, const void *in, size_t len, int finish, vg_buf *out);
void vg_gzip_stream_free(vg_gzip_stream *g);

#endif
