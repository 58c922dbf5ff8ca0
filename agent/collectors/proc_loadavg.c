/*
 * proc_loadavg.c - the `loadavg` collector (node_exporter compatible).
 */
#include "proc_loadavg.h"

#include <errno.h>
#include <math.h>

#include "vg_parse.h"

int proc_loadavg_parse(const char *buf, size_t len, vg_scrape *s)
{
    static const char *const names[3] = {"node_load1", "node_load5", "node_load15"};
    static const char *const helps[3] = {"1m load average.", "5m load average.",
                                         "15m load average."};
    vg_slice line, f[3];
    vg_lines it;
    vg_lines_init(&it, buf, len);
    if (!vg_lines_next(&it, &line) || vg_fields(line, f, 3) < 3)
        return -EINVAL;
    double v[3];
    for (int i = 0; i < 3; i++)
        if (vg_parse_double(f[i], &v[i]) || !isfinite(v[i]) || v[i] < 0)
            return -EINVAL;
    for (int i = 0; i < 3; i++)
        vg_scrape_add1(s, names[i], VG_MT_GAUGE, helps[i], v[i]);
    return 3;
}

static int loadavg_collect(agent_ctx *ctx, void *state, vg_scrape *s)
{
    int rc = agent_read_kept(ctx, AGENT_ROOT_PROC, "/loadavg");
    if (rc)
        return rc;
    rc = proc_loadavg_parse(ctx->scratch.data, ctx->scratch.len, s);
    if (rc < 0) {
        agent_ctx_parse_error(ctx, "loadavg", "/proc/loadavg");
        return rc;
    }
    return 0;
}

const agent_collector agent_collector_loadavg = {
    .name = "loadavg",
    .default_enabled = true,
    .help = "Load averages from /proc/loadavg (node_load1, node_load5, node_load15)",
    .collect = loadavg_collect,
    .loop_safe = true,
};
