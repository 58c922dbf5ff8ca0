/*
 * agent_ctx.c - host path resolution and shared helpers for collectors.
 *
 * Every file a collector reads is resolved here against --path.procfs,
 * --path.sysfs, --path.rootfs or --path.udev.data, so the DaemonSet can
 * mount the host's / at /host and report the host, not its container.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "agent_collector.h"

int agent_path(const agent_ctx *ctx, agent_root root, const char *rel, char *out,
               size_t outlen)
{
    const char *base = ctx->roots[root] ? ctx->roots[root] : "";
    int n;
    if (root == AGENT_ROOT_ROOTFS && strcmp(rel, "/") == 0 && base[0])
        n = snprintf(out, outlen, "%s", base);
    else
        n = snprintf(out, outlen, "%s%s", base, rel);
    if (n < 0 || (size_t)n >= outlen)
        return -ENAMETOOLONG;
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
