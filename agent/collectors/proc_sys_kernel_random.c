/*
 * proc_sys_kernel_random.c - the `entropy` collector (node_exporter
 * compatible). As in node_exporter, the available-bits gauge read first is
 * kept when poolsize then fails; the collector still reports failure.
 */
#include "proc_sys_kernel_random.h"

#include <errno.h>
#include <stdlib.h>

#include "small_file.h"
#include "vg_parse.h"

int proc_sys_kernel_random_parse(const char *buf, size_t len, proc_random_file which,
                                 vg_scrape *s)
{
    uint64_t v;
    if (vg_parse_u64(vg_slice_trim((vg_slice){buf, len}), &v))
        return -EINVAL;
    if (which == PROC_RANDOM_ENTROPY_AVAIL)
        vg_scrape_add1(s, "node_entropy_available_bits", VG_MT_GAUGE,
                       "Bits of available entropy.", (double)v);
    else
        vg_scrape_add1(s, "node_entropy_pool_size_bits", VG_MT_GAUGE,
                       "Bits of entropy pool.", (double)v);
    return 1;
}

static int entropy_init(agent_ctx *ctx, void **state)
{
    small_file_kept *k = malloc(sizeof *k);
    if (!k)
        return -ENOMEM;
    small_file_kept_init(k);
    *state = k;
    return 0;
}

static void entropy_release(void *state)
{
    if (state)
        small_file_kept_release(state);
    free(state);
}

static int entropy_collect(agent_ctx *ctx, void *state, vg_scrape *s)
{
    static const char *const files[2] = {"/sys/kernel/random/entropy_avail",
                                         "/sys/kernel/random/poolsize"};
    for (int i = 0; i < 2; i++) {
        char buf[64];
        size_t len;
        int rc = small_file_read_kept(state, ctx, AGENT_ROOT_PROC, files[i], buf, sizeof buf,
                                      &len);
        if (rc == 0)
            rc = proc_sys_kernel_random_parse(buf, len, (proc_random_file)i, s);
        if (rc == -EINVAL || rc == -EFBIG)
            agent_ctx_parse_error(ctx, "entropy", files[i]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

const agent_collector agent_collector_entropy = {
    .name = "entropy",
    .default_enabled = true,
    .help = "Kernel entropy pool from /proc/sys/kernel/random (node_entropy_*)",
    .init = entropy_init,
    .collect = entropy_collect,
    .release = entropy_release,
    .loop_safe = true,
};
