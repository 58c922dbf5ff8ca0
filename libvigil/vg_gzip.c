/*
 * vg_gzip.c - gzip a block with zlib's deflate (windowBits 15 + 16 selects
 * the gzip wrapper: header, CRC-32 and size trailer).
 *
 * The output is sized up front with deflateBound, so one deflate(Z_FINISH)
 * call completes the stream; nothing is streamed because every caller
 * already holds the whole body.
 */
#include "vg_gzip.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <zlib.h>

int vg_gzip_compress(const void *in, size_t len, int level, vg_buf *out)
{
    int rc;
    z_stream zs;

    if (level < -1 || level > 9 || (len && !in))
        return -EINVAL;
    if (len > UINT_MAX)
        return -EINVAL; /* uInt avail_in; bodies here are far smaller */
    memset(&zs, 0, sizeof(zs));
    /* windowBits 15 | 16: gzip wrapper; memLevel 8 is zlib's default. */
    if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -ENOMEM;

    uLong bound = deflateBound(&zs, (uLong)len);
    if (bound > UINT_MAX) {
        rc = -EINVAL;
        goto out;
    }
    rc = vg_buf_reserve(out, (size_t)bound);
    if (rc < 0)
        goto out;

    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)len;
    zs.next_out = (Bytef *)(out->data + out->len);
    zs.avail_out = (uInt)bound;
    int zr = deflate(&zs, Z_FINISH);
    if (zr != Z_STREAM_END) {
        rc = -EIO;
        goto out;
    }
    out->len += zs.total_out;
    out->data[out->len] = '\0';
    rc = 0;
out:
    deflateEnd(&zs);
    return rc;
}
