/*
 * small_file.c - one-read access to tiny kernel files.
 */
#include "small_file.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

/* A collector reads a handful of such files. */
#define SMALL_FILE_KEPT_MAX 16

int small_file_read(const agent_ctx *ctx, agent_root root, const char *rel, char *buf,
                    size_t cap, size_t *len)
{
    char path[4096];
    if (cap < 2)
        return -EINVAL;
    int rc = agent_path(ctx, root, rel, path, sizeof path);
    if (rc)
        return rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t n = 0;
    for (;;) {
        /* Ask for one byte more than fits, to tell "full" from "too big". */
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            break;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n >= cap) {
            rc = -EFBIG;
            break;
        }
    }
    close(fd);
    if (rc)
        return rc;
    buf[n] = '\0';
    *len = n;
    return 0;
}

void small_file_kept_init(small_file_kept *k)
{
    memset(k, 0, sizeof *k);
    sysfs_fdcache_init(&k->files, SMALL_FILE_KEPT_MAX);
}

void small_file_kept_release(small_file_kept *k)
{
    sysfs_fdcache_release(&k->files);
}

static bool root_is_kernel(const agent_ctx *ctx, agent_root root)
{
    const char *r = ctx->roots[root] && ctx->roots[root][0] ? ctx->roots[root] : "/";
    struct statfs sf;
    return statfs(r, &sf) == 0 && (sf.f_type == PROC_SUPER_MAGIC || sf.f_type == SYSFS_MAGIC);
}

int small_file_read_kept(small_file_kept *k, const agent_ctx *ctx, agent_root root,
                         const char *rel, char *buf, size_t cap, size_t *len)
{
    if (k->kernel[root] == 0)
        k->kernel[root] = root_is_kernel(ctx, root) ? 1 : -1;
    if (k->kernel[root] < 0)
        return small_file_read(ctx, root, rel, buf, cap, len);
    char path[4096];
    if (cap < 2)
        return -EINVAL;
    int rc = agent_path(ctx, root, rel, path, sizeof path);
    if (rc)
        return rc;
    vg_slice v;
    rc = sysfs_fdcache_read(&k->files, path, buf, cap, &v);
    if (rc)
        return rc;
    *len = v.n;
    return 0;
}
