/*
 * sysfs_attr.c - one-read attribute files, Go-style integers, sorted dirs.
 */
#include "sysfs_attr.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/resource.h>
#include <sys/statfs.h>
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
    l->kept_fd = -1;
}

void sysfs_dirlist_release(sysfs_dirlist *l)
{
    free(l->pool);
    free(l->ents);
    if (l->kept_fd >= 0)
        close(l->kept_fd);
    free(l->kept_path);
    memset(l, 0, sizeof *l);
    l->kept_fd = -1;
}

static int dirlist_add(sysfs_dirlist *l, const char *name, uint64_t ino, unsigned char type)
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
    l->ents[l->n].ino = ino;
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

static void dirlist_sort(sysfs_dirlist *l)
{
    if (l->n > 1)
        qsort_r(l->ents, l->n, sizeof *l->ents, dirent_cmp, l->pool);
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
        rc = dirlist_add(l, nm, (uint64_t)de->d_ino, de->d_type);
        if (rc)
            break;
    }
    closedir(d);
    if (rc) {
        l->n = 0;
        return rc;
    }
    dirlist_sort(l);
    return 0;
}

static void dirlist_unkeep(sysfs_dirlist *l)
{
    if (l->kept_fd >= 0)
        close(l->kept_fd);
    l->kept_fd = -1;
    free(l->kept_path);
    l->kept_path = NULL;
}

/* List the open directory fd from its start. 0 or -errno (list empty). */
static int dirlist_fill(sysfs_dirlist *l, int fd, const char *prefix)
{
    char buf[8192] __attribute__((aligned(8)));
    size_t plen = prefix ? strlen(prefix) : 0;
    l->n = 0;
    l->pool_len = 0;
    if (lseek(fd, 0, SEEK_SET) < 0)
        return -errno;
    for (;;) {
        ssize_t got = getdents64(fd, buf, sizeof buf);
        if (got < 0) {
            int e = -errno;
            l->n = 0;
            return e;
        }
        if (got == 0)
            break;
        for (ssize_t off = 0; off < got;) {
            const struct dirent64 *de = (const struct dirent64 *)(buf + off);
            off += de->d_reclen;
            const char *nm = de->d_name;
            if (nm[0] == '.' && (nm[1] == '\0' || (nm[1] == '.' && nm[2] == '\0')))
                continue;
            if (plen && strncmp(nm, prefix, plen) != 0)
                continue;
            int rc = dirlist_add(l, nm, (uint64_t)de->d_ino, de->d_type);
            if (rc) {
                l->n = 0;
                return rc;
            }
        }
    }
    dirlist_sort(l);
    return 0;
}

int sysfs_dirlist_read_kept(sysfs_dirlist *l, const char *path, const char *prefix)
{
    if (l->kept_fd >= 0 && strcmp(l->kept_path, path) != 0)
        dirlist_unkeep(l);
    if (l->kept_fd >= 0) {
        int rc = dirlist_fill(l, l->kept_fd, prefix);
        if (rc != -ENOMEM && rc != 0)
            dirlist_unkeep(l); /* e.g. the directory went away: open it again below */
        else
            return rc;
    }
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        l->n = 0;
        l->pool_len = 0;
        return -errno;
    }
    int rc = dirlist_fill(l, fd, prefix);
    struct statfs sf;
    char *dup = NULL;
    if (rc == 0 && fstatfs(fd, &sf) == 0 &&
        (sf.f_type == SYSFS_MAGIC || sf.f_type == PROC_SUPER_MAGIC) &&
        (dup = strdup(path)) != NULL) {
        l->kept_fd = fd;
        l->kept_path = dup;
        return 0;
    }
    close(fd);
    return rc;
}

/* ---------- kept-open files ---------- */

void sysfs_fdcache_init(sysfs_fdcache *c, size_t max_fds)
{
    memset(c, 0, sizeof *c);
    /* Never let the caches of all collectors together crowd out the
     * descriptors the HTTP server needs: each takes at most 1/16 of the
     * soft limit (64 of the common 1024). */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        max_fds > rl.rlim_cur / 16)
        max_fds = rl.rlim_cur / 16;
    c->max_fds = max_fds;
    c->gen = 1;
}

void sysfs_fdcache_release(sysfs_fdcache *c)
{
    for (size_t i = 0; i < c->n; i++) {
        if (c->e[i].fd >= 0)
            close(c->e[i].fd);
        free(c->e[i].path);
    }
    free(c->e);
    free(c->idx);
    memset(c, 0, sizeof *c);
}

static uint64_t path_hash(const char *p)
{
    uint64_t h = 1469598103934665603ull;
    for (; *p; p++) {
        h ^= (unsigned char)*p;
        h *= 1099511628211ull;
    }
    return h;
}

static int idx_rebuild(sysfs_fdcache *c, size_t cap)
{
    uint32_t *ni = calloc(cap, sizeof *ni);
    if (!ni)
        return -ENOMEM;
    for (size_t i = 0; i < c->n; i++) {
        size_t j = c->e[i].hash & (cap - 1);
        while (ni[j])
            j = (j + 1) & (cap - 1);
        ni[j] = (uint32_t)(i + 1);
    }
    free(c->idx);
    c->idx = ni;
    c->idx_cap = cap;
    return 0;
}

static sysfs_fdent *fdcache_find(sysfs_fdcache *c, const char *path, uint64_t h)
{
    if (!c->idx_cap)
        return NULL;
    size_t j = h & (c->idx_cap - 1);
    while (c->idx[j]) {
        sysfs_fdent *e = &c->e[c->idx[j] - 1];
        if (e->hash == h && strcmp(e->path, path) == 0)
            return e;
        j = (j + 1) & (c->idx_cap - 1);
    }
    return NULL;
}

/* Keep fd open under path; on failure the caller closes it. */
static int fdcache_add(sysfs_fdcache *c, const char *path, uint64_t h, int fd)
{
    if (c->n >= c->max_fds)
        return -ENOSPC;
    if ((c->n + 1) * 2 > c->idx_cap && idx_rebuild(c, c->idx_cap ? c->idx_cap * 2 : 64))
        return -ENOMEM;
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 32;
        sysfs_fdent *ne = realloc(c->e, ncap * sizeof *ne);
        if (!ne)
            return -ENOMEM;
        c->e = ne;
        c->cap = ncap;
    }
    char *dup = strdup(path);
    if (!dup)
        return -ENOMEM;
    sysfs_fdent *e = &c->e[c->n];
    e->path = dup;
    e->hash = h;
    e->fd = fd;
    e->gen = c->gen;
    size_t j = h & (c->idx_cap - 1);
    while (c->idx[j])
        j = (j + 1) & (c->idx_cap - 1);
    c->idx[j] = (uint32_t)(c->n + 1);
    c->n++;
    return 0;
}

/* Whether a read error means "this open file is stale", not the attribute's answer. */
static bool stale_err(int err)
{
    return err == -ENODEV || err == -ESTALE || err == -EBADF || err == -ENXIO ||
           err == -ENOENT || err == -EIO;
}

int sysfs_pread_all(int fd, vg_buf *b, size_t max)
{
    vg_buf_reset(b);
    for (;;) {
        if (b->len >= max)
            return -EFBIG;
        size_t want = b->cap - b->len > 1 ? b->cap - b->len - 1 : 0;
        if (want < 4096) {
            if (vg_buf_reserve(b, 8192))
                return -ENOMEM;
            want = b->cap - b->len - 1;
        }
        if (want > max - b->len)
            want = max - b->len;
        ssize_t r = pread(fd, b->data + b->len, want, (off_t)b->len);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0)
            break;
        b->len += (size_t)r; /* seq_file reads stop at a page: only 0 is EOF */
    }
    if (b->data)
        b->data[b->len] = '\0';
    return 0;
}

static int one_pread(int fd, char *buf, size_t cap, vg_slice *out)
{
    ssize_t n;
    do {
        n = pread(fd, buf, cap - 1, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    if ((size_t)n == cap - 1) {
        char extra;
        ssize_t m = pread(fd, &extra, 1, n);
        if (m != 0)
            return m > 0 ? -EFBIG : -errno;
    }
    buf[n] = '\0';
    out->p = buf;
    out->n = (size_t)n;
    return 0;
}

/* Shared by the two readers: find or open path, run rd on its fd. */
typedef int (*fd_reader)(int fd, void *a, void *b, size_t n);

static int rd_attr(int fd, void *buf, void *out, size_t cap)
{
    return one_pread(fd, buf, cap, out);
}

static int rd_all(int fd, void *b, void *unused, size_t max)
{
    (void)unused;
    return sysfs_pread_all(fd, b, max);
}

static int fdcache_do(sysfs_fdcache *c, const char *path, fd_reader rd, void *a, void *b,
                      size_t n)
{
    uint64_t h = path_hash(path);
    sysfs_fdent *e = fdcache_find(c, path, h);
    if (e && e->fd < 0) {
        /* forgotten: open the path again in the same slot */
        e->gen = c->gen;
        int nfd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (nfd < 0)
            return -errno;
        e->fd = nfd;
        return rd(nfd, a, b, n);
    }
    if (e) {
        e->gen = c->gen;
        int rc = rd(e->fd, a, b, n);
        if (!stale_err(rc))
            return rc;
        /* the file went away under us (device removed): reopen below */
        int nfd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (nfd < 0)
            return -errno; /* the stale entry is swept next time */
        close(e->fd);
        e->fd = nfd;
        return rd(nfd, a, b, n);
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -errno;
    int rc = rd(fd, a, b, n);
    if (fdcache_add(c, path, h, fd))
        close(fd);
    return rc;
}

int sysfs_fdcache_read(sysfs_fdcache *c, const char *path, char *buf, size_t cap, vg_slice *out)
{
    if (cap < 2)
        return -EINVAL;
    return fdcache_do(c, path, rd_attr, buf, out, cap);
}

int sysfs_fdcache_read_all(sysfs_fdcache *c, const char *path, vg_buf *b, size_t max)
{
    return fdcache_do(c, path, rd_all, b, NULL, max);
}

void sysfs_fdcache_forget(sysfs_fdcache *c, const char *path)
{
    sysfs_fdent *e = fdcache_find(c, path, path_hash(path));
    if (e && e->fd >= 0) {
        close(e->fd);
        e->fd = -1;
    }
}

void sysfs_fdcache_sweep(sysfs_fdcache *c)
{
    size_t w = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (c->e[i].gen != c->gen) {
            if (c->e[i].fd >= 0)
                close(c->e[i].fd);
            free(c->e[i].path);
            continue;
        }
        c->e[w++] = c->e[i];
    }
    if (w != c->n) {
        c->n = w;
        if (idx_rebuild(c, c->idx_cap ? c->idx_cap : 64)) {
            /* no memory for the index: forget everything, reopen on demand */
            for (size_t i = 0; i < c->n; i++) {
                if (c->e[i].fd >= 0)
                    close(c->e[i].fd);
                free(c->e[i].path);
            }
            c->n = 0;
            memset(c->idx, 0, c->idx_cap * sizeof *c->idx);
        }
    }
    c->gen++;
}
