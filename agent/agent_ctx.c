/*
 * agent_ctx.c - host path resolution and shared helpers for collectors.
 *
 * Every file a collector reads is resolved here against --path.procfs,
 * --path.sysfs, --path.rootfs or --path.udev.data, so the DaemonSet can
 * mount the host's / at /host and report the host, not its container.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "agent_collector.h"

int agent_path(const agent_ctx *ctx, agent_root root, const char *rel, char *out,
               size_t outlen)
{
    const char *base = ctx->roots[root] ? ctx->roots[root] : "";
    /* memcpy, not snprintf: collectors build dozens of paths a scrape */
    size_t bl = strlen(base);
    size_t rl = root == AGENT_ROOT_ROOTFS && strcmp(rel, "/") == 0 && bl ? 0 : strlen(rel);
    if (bl + rl >= outlen) {
        if (outlen) /* as snprintf left it: truncated */
            out[0] = '\0';
        return -ENAMETOOLONG;
    }
    memcpy(out, base, bl);
    memcpy(out + bl, rel, rl);
    out[bl + rl] = '\0';
    return 0;
}

int agent_read(agent_ctx *ctx, agent_root root, const char *rel)
{
    char path[4096];
    int rc = agent_path(ctx, root, rel, path, sizeof path);
    if (rc)
        return rc;
    return vg_buf_read_file(&ctx->scratch, path, 16u << 20);
}

typedef struct agent_kept {
    agent_root root;
    char rel[120];
    int fd;
    uint64_t collection;   /* when copy was read */
    vg_buf copy;           /* this collection's content */
} agent_kept;

/* pread from 0 to end of file into b; 0 or -errno. */
static int pread_all(int fd, vg_buf *b, size_t max)
{
    vg_buf_reset(b);
    for (;;) {
        int rc = vg_buf_reserve(b, 4096);
        if (rc)
            return rc;
        ssize_t n = pread(fd, b->data + b->len, b->cap - b->len - 1, (off_t)b->len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            break;
        b->len += (size_t)n;
        if (b->len > max)
            return -EFBIG;
    }
    b->data[b->len] = '\0';
    return 0;
}

static agent_kept *kept_find(agent_ctx *ctx, agent_root root, const char *rel)
{
    /* collectors read their files in the same order every scrape: try the
     * one after the last found first */
    size_t h = ctx->kept_next;
    if (h < ctx->nkept && ctx->kept[h].root == root && strcmp(ctx->kept[h].rel, rel) == 0) {
        ctx->kept_next = h + 1;
        return &ctx->kept[h];
    }
    for (size_t i = 0; i < ctx->nkept; i++) {
        if (ctx->kept[i].root == root && strcmp(ctx->kept[i].rel, rel) == 0) {
            ctx->kept_next = i + 1;
            return &ctx->kept[i];
        }
    }
    if (ctx->nkept >= AGENT_KEPT_MAX || strlen(rel) >= sizeof ctx->kept[0].rel)
        return NULL;
    if (!ctx->kept) {
        ctx->kept = calloc(AGENT_KEPT_MAX, sizeof *ctx->kept);
        if (!ctx->kept)
            return NULL;
    }
    char path[4096];
    if (agent_path(ctx, root, rel, path, sizeof path))
        return NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL; /* absent: agent_read reports it, and it is retried next time */
    /* Only kernel-generated files regenerate on pread from 0; a regular
     * file (a fixture tree) may be replaced, so it is opened each time. */
    struct statfs sf;
    bool kernel = fstatfs(fd, &sf) == 0 &&
                  (sf.f_type == PROC_SUPER_MAGIC || sf.f_type == SYSFS_MAGIC);
    agent_kept *k = &ctx->kept[ctx->nkept++];
    ctx->kept_next = ctx->nkept;
    k->root = root;
    snprintf(k->rel, sizeof k->rel, "%s", rel);
    k->fd = fd;
    if (!kernel) {
        close(fd);
        k->fd = -1; /* remembered, so the check is not repeated */
    }
    k->collection = 0;
    vg_buf_init(&k->copy);
    return k;
}

int agent_read_kept(agent_ctx *ctx, agent_root root, const char *rel)
{
    agent_kept *k = kept_find(ctx, root, rel);
    if (!k || k->fd < 0)
        return agent_read(ctx, root, rel);
    if (k->collection != ctx->collection || ctx->collection == 0) {
        if (pread_all(k->fd, &k->copy, 16u << 20)) {
            /* e.g. the file went away: from now on read it the plain way */
            close(k->fd);
            k->fd = -1;
            vg_buf_release(&k->copy);
            return agent_read(ctx, root, rel);
        }
        k->collection = ctx->collection;
    }
    vg_buf_reset(&ctx->scratch);
    return vg_buf_append(&ctx->scratch, k->copy.data, k->copy.len);
}

void agent_ctx_release(agent_ctx *ctx)
{
    for (size_t i = 0; i < ctx->nkept; i++) {
        if (ctx->kept[i].fd >= 0)
            close(ctx->kept[i].fd);
        vg_buf_release(&ctx->kept[i].copy);
    }
    free(ctx->kept);
    ctx->kept = NULL;
    ctx->nkept = 0;
}

void agent_ctx_parse_error(agent_ctx *ctx, const char *collector, const char *what)
{
    vg_series_inc(ctx->parse_errors);
    vg_log_debug(ctx->log, "collector", "skipped malformed input", "collector", collector,
                 "what", what);
}

const char *agent_rootfs_strip(const agent_ctx *ctx, const char *path)
{
    const char *root = ctx->roots[AGENT_ROOT_ROOTFS];
    if (!root || !root[0])
        return path;
    size_t n = strlen(root);
    if (strncmp(path, root, n) != 0)
        return path;
    if (path[n] == '\0')
        return "/";
    if (path[n] == '/')
        return path + n;
    return path; /* "/hostile" is not under "/host" */
}
