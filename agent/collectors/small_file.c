/*
 * small_file.c - one-read access to tiny kernel files.
 */
#include "small_file.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

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
