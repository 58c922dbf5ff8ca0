/*
 * sysfs_attr.c - one-read attribute files, Go-style integers, sorted dirs.
 */
#include "sysfs_attr.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int sysfs_attr_read(int dirfd, const char *name, char *buf, size_t cap, vg_slice *out)
{
    if (cap < 2)
        return -EINVAL;
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -errno;
    int rc = 0;
    ssize_t n;
    do {
        n = read(fd, buf, cap - 1);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        rc = -errno;
        goto out;
    }
    if ((size_t)n == cap - 1) {
        /* Full buffer: only fine when the file ends exactly here. */
        char extra;
        ssize_t m;
        do {
            m = read(fd, &extra, 1);
        } while (m < 0 && errno == EINTR);
        if (m != 0) {
            rc = m > 0 ? -EFBIG : -errno;
            goto out;
        }
    }
    buf[n] = '\0';
    out->p = buf;
    out->n = (size_t)n;
out:
    close(fd);
    return rc;
}

vg_slice sysfs_attr_trim_nl(vg_slice s)
{
    while (s.n && s.p[0] == '\n') {
        s.p++;
        s.n--;
    }
    while (s.n && s.p[s.n - 1] == '\n')
        s.n--;
    return s;
}

static int digit_val(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    return 99;
}

int sysfs_attr_parse_int(vg_slice s, int64_t *out)
{
    bool neg = false;
    if (s.n && (s.p[0] == '+' || s.p[0] == '-')) {
        neg = s.p[0] == '-';
        s.p++;
        s.n--;
    }
    unsigned base = 10;
    if (s.n >= 2 && s.p[0] == '0') {
        char c = s.p[1];
        if (c == 'x' || c == 'X')
            base = 16;
        else if (c == 'b' || c == 'B')
            base = 2;
        else if (c == 'o' || c == 'O')
            base = 8;
        if (base != 10) {
            s.p += 2;
            s.n -= 2;
        } else {
            base = 8; /* "010": C-style octal */
            s.p++;
            s.n--;
        }
    }
    if (s.n == 0)
        return -EINVAL;
    uint64_t v = 0;
    for (size_t i = 0; i < s.n; i++) {
        int d = digit_val(s.p[i]);
        if (d >= (int)base)
            return -EINVAL;
        if (v > (UINT64_MAX - (uint64_t)d) / base)
            return -ERANGE;
        v = v * base + (uint64_t)d;
    }
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1)
            return -ERANGE;
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        if (v > (uint64_t)INT64_MAX)
            return -ERANGE;
        *out = (int64_t)v;
    }
    return 0;
}

bool sysfs_attr_absent_err(int err)
{
    return err == -ENOENT || err == -EINVAL || err == -EACCES || err == -EPERM ||
           err == -EOPNOTSUPP || err == -ENODATA || err == -ENOTDIR || err == -EISDIR ||
           err == -ENODEV || err == -ENXIO || err == -EAGAIN;
}

/* ---------- directory listing ---------- */

void sysfs_dirlist_init(sysfs_dirlist *l)
{
    memset(l, 0, sizeof *l);
}

void sysfs_dirlist_release(sysfs_dirlist *l)
{
    free(l->pool);
    free(l->ents);
    memset(l, 0, sizeof *l);
}

static int dirlist_add(sysfs_dirlist *l, const char *name, unsigned char type)
{
    size_t len = strlen(name) + 1;
    if (l->pool_len + len > l->pool_cap) {
        size_t ncap = l->pool_cap ? l->pool_cap : 1024;
        while (ncap < l->pool_len + len)
            ncap *= 2;
        char *np = realloc(l->pool, ncap);
        if (!np)
            return -ENOMEM;
        l->pool = np;
        l->pool_cap = ncap;
    }
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 32;
        sysfs_dirent *ne = realloc(l->ents, ncap * sizeof *ne);
        if (!ne)
            return -ENOMEM;
        l->ents = ne;
        l->cap = ncap;
    }
    memcpy(l->pool + l->pool_len, name, len);
    l->ents[l->n].off = l->pool_len;
    l->ents[l->n].type = type;
    l->n++;
    l->pool_len += len;
    return 0;
}

static int dirent_cmp(const void *a, const void *b, void *pool)
{
    const sysfs_dirent *x = a, *y = b;
    return strcmp((const char *)pool + x->off, (const char *)pool + y->off);
}

int sysfs_dirlist_read(sysfs_dirlist *l, int dirfd, const char *path, const char *prefix)
{
    l->n = 0;
    l->pool_len = 0;
    int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    DIR *d = fdopendir(fd);
    if (!d) {
        int e = -errno;
        close(fd);
        return e;
    }
    size_t plen = prefix ? strlen(prefix) : 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *nm = de->d_name;
        if (nm[0] == '.' && (nm[1] == '\0' || (nm[1] == '.' && nm[2] == '\0')))
            continue;
        if (plen && strncmp(nm, prefix, plen) != 0)
            continue;
        rc = dirlist_add(l, nm, de->d_type);
        if (rc)
            break;
    }
    closedir(d);
    if (rc) {
        l->n = 0;
        return rc;
    }
    if (l->n > 1)
        qsort_r(l->ents, l->n, sizeof *l->ents, dirent_cmp, l->pool);
    return 0;
}
