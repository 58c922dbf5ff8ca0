/*
 * proc_net_dev.c - the `netdev` collector.
 */
#include "proc_net_dev.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "label_utf8.h"
#include "sysfs_attr.h"

#define ND_OPT_EXCLUDE "collector.netdev.device-exclude"
#define ND_OPT_INCLUDE "collector.netdev.device-include"
#define ND_NAME_MAX 64

/* Family name and help per /proc/net/dev column, spelled out at compile
 * time (snprintf'ing 32 strings cost more than the rest of a scrape's
 * declarations). */
#define ND_COL(f) {"node_network_" f "_total", "Network device statistic " f "."}
static const struct {
    const char *name, *help;
} nd_cols[NETDEV_NCOLS] = {
    ND_COL("receive_bytes"),  ND_COL("receive_packets"),    ND_COL("receive_errs"),
    ND_COL("receive_drop"),   ND_COL("receive_fifo"),       ND_COL("receive_frame"),
    ND_COL("receive_compressed"), ND_COL("receive_multicast"), ND_COL("transmit_bytes"),
    ND_COL("transmit_packets"), ND_COL("transmit_errs"),    ND_COL("transmit_drop"),
    ND_COL("transmit_fifo"),  ND_COL("transmit_colls"),     ND_COL("transmit_carrier"),
    ND_COL("transmit_compressed"),
};
#undef ND_COL

bool proc_net_dev_pod_iface(const char *dev)
{
    static const char *const pre[] = {"veth", "cali", "flannel", "cni", "lxc", "tunl", "vxlan"};
    for (size_t i = 0; i < sizeof pre / sizeof pre[0]; i++)
        if (strncmp(dev, pre[i], strlen(pre[i])) == 0)
            return true;
    return false;
}

bool proc_net_dev_default_excluded(const char *dev)
{
    return strcmp(dev, "lo") == 0 || proc_net_dev_pod_iface(dev);
}

int proc_net_dev_parse_line(vg_slice line, net_dev_line *out)
{
    if (memchr(line.p, '|', line.n))
        return -ENODATA;
    const char *colon = memchr(line.p, ':', line.n);
    if (!colon)
        return -EINVAL;
    vg_slice name = vg_slice_trim((vg_slice){line.p, (size_t)(colon - line.p)});
    if (name.n == 0 || name.n >= ND_NAME_MAX || memchr(name.p, ' ', name.n) ||
        memchr(name.p, '\t', name.n))
        return -EINVAL;
    vg_slice rest = {colon + 1, line.n - (size_t)(colon - line.p) - 1};
    vg_slice f[NETDEV_NCOLS + 1];
    size_t nf = vg_fields(rest, f, NETDEV_NCOLS + 1);
    if (nf < NETDEV_NCOLS)
        return -EINVAL; /* columns a future kernel appends are ignored */
    net_dev_line d;
    d.name = name;
    for (size_t i = 0; i < NETDEV_NCOLS; i++)
        if (vg_parse_u64(f[i], &d.v[i]))
            return -EINVAL;
    *out = d;
    return 0;
}

static bool nd_selected(const char *dev, const field_filter *include, const field_filter *exclude)
{
    if (include)
        return field_filter_match(include, dev);
    return exclude ? !field_filter_match(exclude, dev) : !proc_net_dev_default_excluded(dev);
}

int proc_net_dev_parse(const char *buf, size_t len, const field_filter *include,
                       const field_filter *exclude, net_dev_nohandler_fn nohandler, void *ud,
                       vg_scrape *s, unsigned *skipped)
{
    static const char *const dl[1] = {"device"};
    vg_family *fams[NETDEV_NCOLS] = {0};
    vg_family *noh = NULL;
    bool declared = false, any = false;
    int reported = 0;
    vg_lines it;
    vg_slice line;
    vg_lines_init(&it, buf, len);
    while (vg_lines_next(&it, &line)) {
        if (vg_slice_trim(line).n == 0)
            continue;
        net_dev_line d;
        int rc = proc_net_dev_parse_line(line, &d);
        if (rc == -ENODATA)
            continue;
        if (rc) {
            (*skipped)++;
            continue;
        }
        any = true;
        char dev[ND_NAME_MAX];
        vg_slice_copy(d.name, dev, sizeof dev);
        if (strlen(dev) != d.name.n || !label_utf8_valid(dev, d.name.n)) {
            (*skipped)++; /* not a name the kernel would give */
            continue;
        }
        if (!nd_selected(dev, include, exclude))
            continue;
        if (!declared) {
            for (int i = 0; i < NETDEV_NCOLS; i++)
                fams[i] = vg_scrape_family(s, nd_cols[i].name, VG_MT_COUNTER, nd_cols[i].help,
                                           1, dl);
            noh = vg_scrape_family(s, "node_network_receive_nohandler_total", VG_MT_COUNTER,
                                   "Network device statistic receive_nohandler.", 1, dl);
            declared = true;
        }
        for (int i = 0; i < NETDEV_NCOLS; i++)
            vg_family_add(fams[i], (double)d.v[i], dev);
        uint64_t nh;
        if (nohandler && nohandler(ud, dev, &nh) == 0)
            vg_family_add(noh, (double)nh, dev);
        reported++;
    }
    return any ? reported : -EINVAL;
}

/* ---------- collector ---------- */

static const vg_opt_def nd_opts[] = {
    {ND_OPT_EXCLUDE, VG_OPT_STRING, NETDEV_EXCLUDE_DEFAULT,
     "Regexp of net devices to exclude (mutually exclusive to device-include); the default "
     "adds CNI pod interfaces to node_exporter's ^lo$",
     VG_OPT_F_RELOADABLE},
    {ND_OPT_INCLUDE, VG_OPT_STRING, NULL,
     "Regexp of net devices to include (mutually exclusive to device-exclude)",
     VG_OPT_F_RELOADABLE},
};

/* Collection thread only. */
typedef struct nd_state {
    field_filter exclude;
    field_filter include;   /* active when include.pattern != NULL */
    sysfs_fdcache files;    /* /proc/net/dev and rx_nohandler, kept open */
    agent_ctx *ctx;         /* during collect, for the nohandler lookup */
} nd_state;

static bool nd_default_match(const char *dev) { return proc_net_dev_default_excluded(dev); }
static bool nd_never(const char *dev) { (void)dev; return false; }

static const char *opt_str(const agent_ctx *ctx, const char *name)
{
    return ctx->cfg ? vg_config_str(ctx->cfg, name) : NULL;
}

static int nd_filters_set(agent_ctx *ctx, nd_state *st)
{
    bool exclude_default = !ctx->cfg || !strcmp(vg_config_source(ctx->cfg, ND_OPT_EXCLUDE), "default");
    return field_filter_pair_set(&st->exclude, &st->include, opt_str(ctx, ND_OPT_EXCLUDE), exclude_default,
                                 opt_str(ctx, ND_OPT_INCLUDE));
}

static void nd_release(void *state)
{
    nd_state *st = state;
    if (!st)
        return;
    field_filter_release(&st->exclude);
    field_filter_release(&st->include);
    sysfs_fdcache_release(&st->files);
    free(st);
}

static int nd_init(agent_ctx *ctx, void **state)
{
    nd_state *st = calloc(1, sizeof *st);
    if (!st)
        return -ENOMEM;
    field_filter_init(&st->exclude, NETDEV_EXCLUDE_DEFAULT, nd_default_match);
    field_filter_init(&st->include, NULL, nd_never);
    sysfs_fdcache_init(&st->files, 128);
    int rc = nd_filters_set(ctx, st);
    if (rc) {
        vg_log_error(ctx->log, "netdev", "invalid device filter (or both include and exclude)",
                     "option", ND_OPT_EXCLUDE);
        nd_release(st);
        return rc;
    }
    *state = st;
    return 0;
}

static int nd_nohandler(void *ud, const char *dev, uint64_t *out)
{
    nd_state *st = ud;
    char rel[ND_NAME_MAX + 48], path[4096], buf[32];
    static const char pre[] = "/class/net/", post[] = "/statistics/rx_nohandler";
    size_t dl = strlen(dev);
    if (dl >= ND_NAME_MAX)
        return -ENAMETOOLONG;
    memcpy(rel, pre, sizeof pre - 1);
    memcpy(rel + sizeof pre - 1, dev, dl);
    memcpy(rel + sizeof pre - 1 + dl, post, sizeof post);
    int rc = agent_path(st->ctx, AGENT_ROOT_SYS, rel, path, sizeof path);
    if (rc)
        return rc;
    vg_slice v;
    rc = sysfs_fdcache_read(&st->files, path, buf, sizeof buf, &v);
    if (rc)
        return rc;
    if (vg_parse_u64(vg_slice_trim(v), out)) {
        agent_ctx_parse_error(st->ctx, "netdev", "statistics/rx_nohandler");
        return -EINVAL;
    }
    return 0;
}

static int nd_collect(agent_ctx *ctx, void *state, vg_scrape *s)
{
    nd_state *st = state;
    if (nd_filters_set(ctx, st))
        agent_ctx_parse_error(ctx, "netdev", "device filter");
    char path[4096];
    int rc = agent_path(ctx, AGENT_ROOT_PROC, "/net/dev", path, sizeof path);
    if (!rc)
        rc = sysfs_fdcache_read_all(&st->files, path, &ctx->scratch, 16u << 20);
    if (rc) {
        sysfs_fdcache_sweep(&st->files);
        return rc;
    }
    st->ctx = ctx;
    unsigned skipped = 0;
    rc = proc_net_dev_parse(ctx->scratch.data, ctx->scratch.len,
                            st->include.pattern ? &st->include : NULL, &st->exclude,
                            nd_nohandler, st, s, &skipped);
    st->ctx = NULL;
    sysfs_fdcache_sweep(&st->files);
    for (unsigned i = 0; i < skipped; i++)
        agent_ctx_parse_error(ctx, "netdev", "/proc/net/dev line");
    return rc < 0 ? rc : 0;
}

const agent_collector agent_collector_netdev = {
    .name = "netdev",
    .default_enabled = true,
    .help = "Network interface counters from /proc/net/dev (node_network_*_total)",
    .opts = nd_opts,
    .nopts = sizeof nd_opts / sizeof nd_opts[0],
    .init = nd_init,
    .collect = nd_collect,
    .release = nd_release,
    .loop_safe = true,
};
