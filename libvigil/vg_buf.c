/*
 * vg_buf.c - growable NUL-terminated byte buffer.
 *
 * Growth doubles, so appends are amortised O(1); memory is kept on reset
 * so per-scrape buffers settle at their high-water mark.
 */
#include "vg_buf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void vg_buf_init(vg_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void vg_buf_release(vg_buf *b)
{
    free(b->data);
    vg_buf_init(b);
}

void vg_buf_reset(vg_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

int vg_buf_reserve(vg_buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len - 1)
        return -ENOMEM;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return -ENOMEM;
    if (!b->data)
        p[0] = '\0';
    b->data = p;
    b->cap = cap;
    return 0;
}

int vg_buf_append(vg_buf *b, const void *p, size_t n)
{
    int rc = vg_buf_reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int vg_buf_puts(vg_buf *b, const char *s) { return vg_buf_append(b, s, strlen(s)); }

int vg_buf_putc(vg_buf *b, char c) { return vg_buf_append(b, &c, 1); }

int vg_buf_vprintf(vg_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return -EINVAL;
    if ((size_t)n < sizeof tmp)
        return vg_buf_append(b, tmp, (size_t)n);
    int rc = vg_buf_reserve(b, (size_t)n);
    if (rc)
        return rc;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int vg_buf_printf(vg_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vg_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int vg_buf_put_u64(vg_buf *b, uint64_t v)
{
    char tmp[24];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return vg_buf_append(b, tmp + i, sizeof tmp - i);
}

void vg_buf_consume(vg_buf *b, size_t n)
{
    if (n >= b->len) {
        vg_buf_reset(b);
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    b->data[b->len] = '\0';
}

int vg_buf_read_file(vg_buf *b, const char *path, size_t max)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = 0;
    vg_buf_reset(b);
    for (;;) {
        rc = vg_buf_reserve(b, 4096);
        if (rc)
            goto out;
        size_t room = b->cap - b->len - 1;
        /* /proc/sys handlers allocate and zero a kernel buffer as large as
         * the read: start small, use the whole room only for big files */
        if (b->len == 0 && room > 4096)
            room = 4096;
        ssize_t n = read(fd, b->data + b->len, room);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            goto out;
        }
        if (n == 0)
            break;
        b->len += (size_t)n;
        if (b->len > max) {
            rc = -EFBIG;
            goto out;
        }
    }
out:
    if (b->data)
        b->data[rc ? 0 : b->len] = '\0';
    if (rc)
        b->len = 0;
    close(fd);
    return rc;
}
