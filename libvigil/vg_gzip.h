/*
 * vg_gzip.h - one-shot gzip compression of a memory block into a vg_buf.
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

#endif
