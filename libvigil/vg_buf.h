/*
 * vg_buf.h - a growable byte buffer, always NUL-terminated.
 *
 * Used for response bodies, exposition output and file reads. Memory is
 * kept across vg_buf_reset so a buffer reused each scrape stops allocating.
 * Every append returns 0 or -ENOMEM; on failure the buffer is unchanged.
 */
#ifndef VG_BUF_H
#define VG_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct vg_buf {
    char *data;   /* NUL-terminated when cap > 0; NULL when never grown */
    size_t len;
    size_t cap;
} vg_buf;

#define VG_BUF_INIT {NULL, 0, 0}

void vg_buf_init(vg_buf *b);
void vg_buf_release(vg_buf *b);             /* frees data; buffer reusable */
void vg_buf_reset(vg_buf *b);               /* len = 0, memory kept */
int vg_buf_reserve(vg_buf *b, size_t extra); /* room for extra more bytes */
int vg_buf_append(vg_buf *b, const void *p, size_t n);
int vg_buf_puts(vg_buf *b, const char *s);
int vg_buf_putc(vg_buf *b, char c);
int vg_buf_printf(vg_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int vg_buf_vprintf(vg_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
int vg_buf_put_u64(vg_buf *b, uint64_t v);  /* decimal, no allocation of temps */

/* Drop the first n bytes (n <= len). */
void vg_buf_consume(vg_buf *b, size_t n);

/*
 * Read a whole file (regular or procfs/sysfs pseudo file) into b, replacing
 * its contents. At most max bytes are read; a longer file gives -EFBIG.
 * Returns 0 or a negative errno (-ENOENT when absent).
 */
int vg_buf_read_file(vg_buf *b, const char *path, size_t max);

#endif
