/*
 * sys_class_net.c - the `netclass` collector.
 *
 * Reads only the ~22 attribute files it reports (node_exporter lists and
 * reads every file in each interface directory), and keeps them open
 * between scrapes (sysfs_fdcache): re-reading an open attribute costs a
 * fraction of opening it.
 */
#include "sys_class_net.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "field_filter.h"
#include "label_utf8.h"
#include "proc_net_dev.h"
#include "sysfs_attr.h"

#define NC_OPT_IGNORED "collector.netclass.ignored-devices"
#define NC_OPT_INVALID_SPEED "collector.netclass.ignore-invalid-speed"

const char *const netclass_num_files[NC_NUM] = {
    [NC_ADDR_ASSIGN_TYPE] = "addr_assign_type",
    [NC_CARRIER] = "carrier",
    [NC_CARRIER_CHANGES] = "carrier_changes",
    [NC_CARRIER_UP] = "carrier_up_count",
    [NC_CARRIER_DOWN] = "carrier_down_count",
    [NC_DEV_ID] = "dev_id",
    [NC_DORMANT] = "dormant",
    [NC_FLAGS] = "flags",
    [NC_IFINDEX] = "ifindex",
    [NC_IFLINK] = "iflink",
    [NC_LINK_MODE] = "link_mode",
    [NC_MTU] = "mtu",
    [NC_NAME_ASSIGN_TYPE] = "name_assign_type",
    [NC_NETDEV_GROUP] = "netdev_group",
    [NC_SPEED] = "speed",
    [NC_TX_QUEUE_LEN] = "tx_queue_len",
    [NC_TYPE] = "type",
};

const char *const netclass_str_files[NC_NSTR] = {
    [NC_ADDRESS] = "address",
    [NC_BROADCAST] = "broadcast",
    [NC_DUPLEX] = "duplex",
    [NC_IFALIAS] = "ifalias",
    [NC_OPERSTATE] = "operstate",
};

/* Metric names (after node_network_), node_exporter 1.5's. */
static const char *const nc_metric[NC_NUM] = {
    [NC_ADDR_ASSIGN_TYPE] = "address_assign_type",
    [NC_CARRIER] = "carrier",
    [NC_CARRIER_CHANGES] = "carrier_changes_total",
    [NC_CARRIER_UP] = "carrier_up_changes_total",
    [NC_CARRIER_DOWN] = "carrier_down_changes_total",
    [NC_DEV_ID] = "device_id",
    [NC_DORMANT] = "dormant",
    [NC_FLAGS] = "flags",
    [NC_IFINDEX] = "iface_id",
    [NC_IFLINK] = "iface_link",
    [NC_LINK_MODE] = "iface_link_mode",
    [NC_MTU] = "mtu_bytes",
    [NC_NAME_ASSIGN_TYPE] = "name_assign_type",
    [NC_NETDEV_GROUP] = "net_dev_group",
    [NC_SPEED] = "speed_bytes",
    [NC_TX_QUEUE_LEN] = "transmit_queue_length",
    [NC_TYPE] = "protocol_type",
};

int sys_class_net_attr_parse(netclass_iface *ifc, const char *attr, const char *buf, size_t len)
{
    vg_slice v = vg_slice_trim((vg_slice){buf, len});
    for (int i = 0; i < NC_NSTR; i++) {
        if (strcmp(attr, netclass_str_files[i]) != 0)
            continue;
        if (v.n >= sizeof ifc->str[i] || memchr(v.p, '\0', v.n))
            return -EFBIG;
        label_utf8_copy(v.p, v.n, ifc->str[i], sizeof ifc->str[i]);
        return 0;
    }
    for (int i = 0; i < NC_NUM; i++) {
        if (strcmp(attr, netclass_num_files[i]) != 0)
            continue;
        int64_t x;
        int rc = sysfs_attr_parse_int(v, &x);
        if (rc)
            return -EINVAL;
        ifc->v[i] = x;
        ifc->has[i] = true;
        return 0;
    }
    return -ENOENT;
}

void sys_class_net_declare(vg_scrape *s, netclass_fams *f)
{
    static const char *const dl[1] = {"device"};
    static const char *const il[6] = {"address", "broadcast", "device",
                                      "duplex",  "ifalias",   "operstate"};
    f->up = vg_scrape_family(s, "node_network_up", VG_MT_GAUGE,
                             "Value is 1 if operstate is 'up', 0 otherwise.", 1, dl);
    f->info = vg_scrape_family(s, "node_network_info", VG_MT_GAUGE,
                               "Non-numeric data from /sys/class/net/<iface>, value is always 1.",
                               6, il);
    for (int i = 0; i < NC_NUM; i++) {
        char name[64], help[96];
        snprintf(name, sizeof name, "node_network_%s", nc_metric[i]);
        snprintf(help, sizeof help, "Network device property: %s", nc_metric[i]);
        bool counter = i == NC_CARRIER_CHANGES || i == NC_CARRIER_UP || i == NC_CARRIER_DOWN;
        f->num[i] = vg_scrape_family(s, name, counter ? VG_MT_COUNTER : VG_MT_GAUGE, help, 1, dl);
    }
}

void sys_class_net_emit(const netclass_fams *f, const netclass_iface *ifc,
                        bool ignore_invalid_speed)
{
    const char *dev = ifc->name;
    vg_family_add(f->up, strcmp(ifc->str[NC_OPERSTATE], "up") == 0 ? 1 : 0, dev);
    vg_family_add(f->info, 1, ifc->str[NC_ADDRESS], ifc->str[NC_BROADCAST], dev,
                  ifc->str[NC_DUPLEX], ifc->str[NC_IFALIAS], ifc->str[NC_OPERSTATE]);
    for (int i = 0; i < NC_NUM; i++) {
        if (!ifc->has[i])
            continue;
        double v = (double)ifc->v[i];
        if (i == NC_SPEED) {
            if (ifc->v[i] < 0 && ignore_invalid_speed)
                continue;
            /* Mbit/s to bytes/s in int64 arithmetic, as node_exporter does */
            if (ifc->v[i] > INT64_MAX / 1000000 || ifc->v[i] < INT64_MIN / 1000000)
                continue;
            v = (double)(ifc->v[i] * 1000000 / 8);
        }
        vg_family_add(f->num[i], v, dev);
    }
}

/* ---------- collector ---------- */

static const vg_opt_def nc_opts[] = {
    {NC_OPT_IGNORED, VG_OPT_STRING, NETCLASS_IGNORED_DEFAULT,
     "Regexp of net devices to ignore for netclass collector (default: CNI pod interfaces)",
     VG_OPT_F_RELOADABLE},
    {NC_OPT_INVALID_SPEED, VG_OPT_BOOL, "false",
     "Ignore devices where the speed is invalid (node_exporter reports -1 Mbit/s as -125000)",
     VG_OPT_F_RELOADABLE},
};

#define NC_MAX_OPEN_FILES 512

/* Collection thread only. */
typedef struct nc_state {
    field_filter ignored;
    sysfs_dirlist dirs;
    sysfs_fdcache files;    /* attribute files kept open between scrapes */
    netclass_iface ifc;
} nc_state;

static bool nc_default_match(const char *dev) { return proc_net_dev_pod_iface(dev); }

static const char *opt_str(const agent_ctx *ctx, const char *name)
{
    return ctx->cfg ? vg_config_str(ctx->cfg, name) : NULL;
}

static void nc_release(void *state)
{
    nc_state *st = state;
    if (!st)
        return;
    field_filter_release(&st->ignored);
    sysfs_dirlist_release(&st->dirs);
    sysfs_fdcache_release(&st->files);
    free(st);
}

static int nc_init(agent_ctx *ctx, void **state)
{
    nc_state *st = calloc(1, sizeof *st);
    if (!st)
        return -ENOMEM;
    field_filter_init(&st->ignored, NETCLASS_IGNORED_DEFAULT, nc_default_match);
    sysfs_dirlist_init(&st->dirs);
    sysfs_fdcache_init(&st->files, NC_MAX_OPEN_FILES);
    int rc = field_filter_set(&st->ignored, opt_str(ctx, NC_OPT_IGNORED));
    if (rc) {
        vg_log_error(ctx->log, "netclass", "invalid regexp", "option", NC_OPT_IGNORED);
        nc_release(st);
        return rc;
    }
    *state = st;
    return 0;
}

/* Read one interface's attributes into st->ifc; false when it has none. */
static bool nc_read_iface(agent_ctx *ctx, nc_state *st, char *path, size_t dirlen)
{
    netclass_iface *ifc = &st->ifc;
    char buf[512];
    vg_slice v;
    bool any = false;
    for (int pass = 0; pass < 2; pass++) {
        size_t n = pass ? NC_NUM : NC_NSTR;
        for (size_t i = 0; i < n; i++) {
            const char *attr = pass ? netclass_num_files[i] : netclass_str_files[i];
            /* path holds "<dir>/" and has room for any attribute name */
            strcpy(path + dirlen, attr);
            int rc = sysfs_fdcache_read(&st->files, path, buf, sizeof buf, &v);
            if (rc) {
                if (!sysfs_attr_absent_err(rc))
                    agent_ctx_parse_error(ctx, "netclass", attr);
                continue;
            }
            any = true;
            if (sys_class_net_attr_parse(ifc, attr, v.p, v.n))
                agent_ctx_parse_error(ctx, "netclass", attr);
        }
    }
    return any;
}

static int nc_collect(agent_ctx *ctx, void *state, vg_scrape *s)
{
    nc_state *st = state;
    if (field_filter_set(&st->ignored, opt_str(ctx, NC_OPT_IGNORED)))
        agent_ctx_parse_error(ctx, "netclass", NC_OPT_IGNORED);
    bool ignore_speed = ctx->cfg && vg_config_bool(ctx->cfg, NC_OPT_INVALID_SPEED);
    char base[4096], dir[4096 + 64];
    int rc = agent_path(ctx, AGENT_ROOT_SYS, "/class/net", base, sizeof base);
    if (rc)
        return rc;
    rc = sysfs_dirlist_read(&st->dirs, AT_FDCWD, base, NULL);
    if (rc)
        return rc;
    netclass_fams fams;
    sys_class_net_declare(s, &fams);
    for (size_t i = 0; i < st->dirs.n; i++) {
        const char *name = sysfs_dirlist_name(&st->dirs, i);
        if (st->dirs.ents[i].type == DT_REG) /* bonding_masters */
            continue;
        if (strlen(name) >= sizeof st->ifc.name || field_filter_match(&st->ignored, name))
            continue;
        int k = snprintf(dir, 4096, "%s/%s/", base, name);
        if (k < 0 || k >= 4096)
            continue;
        memset(&st->ifc, 0, sizeof st->ifc);
        label_utf8_copy(name, strlen(name), st->ifc.name, sizeof st->ifc.name);
        /* not an interface directory (or gone since the listing): nothing readable */
        if (!nc_read_iface(ctx, st, dir, (size_t)k))
            continue;
        sys_class_net_emit(&fams, &st->ifc, ignore_speed);
    }
    sysfs_fdcache_sweep(&st->files);
    return 0;
}

const agent_collector agent_collector_netclass = {
    .name = "netclass",
    .default_enabled = true,
    .help = "Network interface properties from /sys/class/net (node_network_info, _up, _mtu_bytes...)",
    .opts = nc_opts,
    .nopts = sizeof nc_opts / sizeof nc_opts[0],
    .init = nc_init,
    .collect = nc_collect,
    .release = nc_release,
};
