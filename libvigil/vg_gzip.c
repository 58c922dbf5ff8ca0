/*
 * vg_gzip.c - gzip a block with zlib's deflate (windowBits 15 + 16 selects
 * the gzip wrapper: header, CRC-32 and size trailer).
 *
 * One-shot: the output is sized up front with deflateBound, so one
 * deflate(Z_FINISH) call completes the stream. Streamed: deflate is fed
 * each piece and its output drained into the caller's buffer.
 */
#include "vg_gzip.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
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

struct vg_gzip_stream {
    z_stream zs;
};

int vg_gzip_stream_new(int level, vg_gzip_stream **out)
{
    if (level < -1 || level > 9)
        return -EINVAL;
    vg_gzip_stream *g = calloc(1, sizeof *g);
    if (!g)
        return -ENOMEM;
    if (deflateInit2(&g->zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(g);
        return -ENOMEM;
    }
    *out = g;
    return 0;
}

int vg_gzip_stream_write(vg_gzip_stream *g, const void *in, size_t len, int finish, vg_buf *out)
{
    if ((len && !in) || len > UINT_MAX)
        return -EINVAL;
    g->zs.next_in = (Bytef *)(uintptr_t)in;
    g->zs.avail_in = (uInt)len;
    int flush = finish ? Z_FINISH : Z_NO_FLUSH;
    for (;;) {
        /* room for what this piece can become, at least 16 KiB */
        size_t room = (size_t)g->zs.avail_in / 2 + 16384;
        int rc = vg_buf_reserve(out, room);
        if (rc < 0)
            return rc;
        g->zs.next_out = (Bytef *)(out->data + out->len);
        g->zs.avail_out = (uInt)room;
        int zr = deflate(&g->zs, flush);
        out->len += room - g->zs.avail_out;
        out->data[out->len] = '\0';
        if (zr == Z_STREAM_ERROR)
            return -EIO;
        if (finish ? zr == Z_STREAM_END : (g->zs.avail_in == 0 && g->zs.avail_out > 0))
            return 0;
    }
}

void vg_gzip_stream_free(vg_gzip_stream *g)
{
    if (!g)
        return;
    deflateEnd(&g->zs);
    free(g);
}
