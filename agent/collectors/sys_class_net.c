/*
 * sys_class_net.c - the `netclass` collector.
 *
 * Reads only the 22 attribute files it reports (node_exporter lists and
 * reads every file in each interface directory). The five read on every
 * scrape stay open between scrapes (sysfs_fdcache): re-reading an open
 * attribute costs a fraction of opening it. The other 17 are cached per
 * interface (see the header for when they are read again) and read with a
 * plain open/read/close, so they hold no descriptor in between. The inode
 * number the directory listing gives for each entry (the class/net
 * symlink) tells whether a name still means the same interface: a
 * re-created one gets a new link, a renamed one brings its own.
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
#include "vg_loop.h"

#define NC_OPT_IGNORED "collector.netclass.ignored-devices"
#define NC_OPT_INVALID_SPEED "collector.netclass.ignore-invalid-speed"
#define NC_OPT_MAX_AGE "collector.netclass.attribute-max-age"

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

/* Families and help texts (after node_network_, node_exporter 1.5's names). */
#define NC_FAM(suffix) "node_network_" suffix
#define NC_HELP(suffix) "Network device property: " suffix
#define NC_ROW(idx, suffix) [idx] = {NC_FAM(suffix), NC_HELP(suffix)}
static const char *const nc_family[NC_NUM][2] = {
    NC_ROW(NC_ADDR_ASSIGN_TYPE, "address_assign_type"),
    NC_ROW(NC_CARRIER, "carrier"),
    NC_ROW(NC_CARRIER_CHANGES, "carrier_changes_total"),
    NC_ROW(NC_CARRIER_UP, "carrier_up_changes_total"),
    NC_ROW(NC_CARRIER_DOWN, "carrier_down_changes_total"),
    NC_ROW(NC_DEV_ID, "device_id"),
    NC_ROW(NC_DORMANT, "dormant"),
    NC_ROW(NC_FLAGS, "flags"),
    NC_ROW(NC_IFINDEX, "iface_id"),
    NC_ROW(NC_IFLINK, "iface_link"),
    NC_ROW(NC_LINK_MODE, "iface_link_mode"),
    NC_ROW(NC_MTU, "mtu_bytes"),
    NC_ROW(NC_NAME_ASSIGN_TYPE, "name_assign_type"),
    NC_ROW(NC_NETDEV_GROUP, "net_dev_group"),
    NC_ROW(NC_SPEED, "speed_bytes"),
    NC_ROW(NC_TX_QUEUE_LEN, "transmit_queue_length"),
    NC_ROW(NC_TYPE, "protocol_type"),
};

bool sys_class_net_num_volatile(netclass_num i)
{
    return i == NC_CARRIER || i == NC_CARRIER_CHANGES || i == NC_DORMANT || i == NC_FLAGS;
}

bool sys_class_net_str_volatile(netclass_str i)
{
    return i == NC_OPERSTATE;
}

static int nc_parse_str(netclass_iface *ifc, int i, vg_slice v)
{
    if (v.n >= sizeof ifc->str[i] || memchr(v.p, '\0', v.n))
        return -EFBIG;
    label_utf8_copy(v.p, v.n, ifc->str[i], sizeof ifc->str[i]);
    return 0;
}

static int nc_parse_num(netclass_iface *ifc, int i, vg_slice v)
{
    int64_t x;
    if (sysfs_attr_parse_int(v, &x))
        return -EINVAL;
    ifc->v[i] = x;
    ifc->has[i] = true;
    return 0;
}

int sys_class_net_attr_parse(netclass_iface *ifc, const char *attr, const char *buf, size_t len)
{
    vg_slice v = vg_slice_trim((vg_slice){buf, len});
    for (int i = 0; i < NC_NSTR; i++)
        if (strcmp(attr, netclass_str_files[i]) == 0)
            return nc_parse_str(ifc, i, v);
    for (int i = 0; i < NC_NUM; i++)
        if (strcmp(attr, netclass_num_files[i]) == 0)
            return nc_parse_num(ifc, i, v);
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
        bool counter = i == NC_CARRIER_CHANGES || i == NC_CARRIER_UP || i == NC_CARRIER_DOWN;
        f->num[i] = vg_scrape_family(s, nc_family[i][0], counter ? VG_MT_COUNTER : VG_MT_GAUGE,
                                     nc_family[i][1], 1, dl);
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
    {NC_OPT_MAX_AGE, VG_OPT_DURATION, NETCLASS_MAX_AGE_DEFAULT,
     "Longest time the attributes other than operstate, carrier, carrier_changes, dormant and "
     "flags are served from cache; they are re-read at once when one of those five changes or "
     "the interface is re-created (0: read every attribute on every scrape, as node_exporter)",
     VG_OPT_F_RELOADABLE},
};

#define NC_MAX_OPEN_FILES 512

/* One interface as last read. */
typedef struct nc_cached {
    char key[64];           /* the directory name (ifc.name is its label form) */
    netclass_iface ifc;
    uint64_t ino;           /* its entry's inode, to notice a re-created or
                               renamed interface */
    uint64_t read_ms;       /* when the cached attributes were read */
    uint32_t gen;           /* the scrape that last listed it */
    bool any;               /* some attribute was readable */
} nc_cached;

/* Collection thread only. */
typedef struct nc_state {
    field_filter ignored;
    sysfs_dirlist dirs;
    sysfs_fdcache files;    /* the per-scrape attribute files, kept open */
    nc_cached *ifs;         /* sorted by key */
    size_t nifs, capifs;
    uint32_t gen;
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
    free(st->ifs);
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

/* The cache entry for name, created (zeroed) when new; NULL on ENOMEM. */
static nc_cached *nc_entry(nc_state *st, const char *name, bool *fresh)
{
    size_t lo = 0, hi = st->nifs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(st->ifs[mid].key, name);
        if (c == 0) {
            *fresh = false;
            return &st->ifs[mid];
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (st->nifs == st->capifs) {
        size_t ncap = st->capifs ? st->capifs * 2 : 8;
        nc_cached *n = realloc(st->ifs, ncap * sizeof *n);
        if (!n)
            return NULL;
        st->ifs = n;
        st->capifs = ncap;
    }
    memmove(&st->ifs[lo + 1], &st->ifs[lo], (st->nifs - lo) * sizeof *st->ifs);
    st->nifs++;
    nc_cached *e = &st->ifs[lo];
    memset(e, 0, sizeof *e);
    snprintf(e->key, sizeof e->key, "%s", name);
    label_utf8_copy(name, strlen(name), e->ifc.name, sizeof e->ifc.name);
    *fresh = true;
    return e;
}

/* Drop the interfaces the last listing did not show. */
static void nc_sweep(nc_state *st)
{
    size_t w = 0;
    for (size_t i = 0; i < st->nifs; i++)
        if (st->ifs[i].gen == st->gen)
            st->ifs[w++] = st->ifs[i];
    st->nifs = w;
}

/*
 * Read the attributes of one group (the volatile ones or the cached ones)
 * into ifc, clearing that group's old values first: through kept-open
 * files when kept (forgetting the kept descriptor first when forget), else
 * with open/read/close. path holds "<dir>/" (dirlen bytes) with room for
 * any attribute name. Returns whether any was readable.
 */
static int nc_read_one(nc_state *st, char *path, bool kept, bool forget, char *buf,
                       size_t cap, vg_slice *v)
{
    if (!kept)
        return sysfs_attr_read(AT_FDCWD, path, buf, cap, v);
    if (forget)
        sysfs_fdcache_forget(&st->files, path);
    return sysfs_fdcache_read(&st->files, path, buf, cap, v);
}

static bool nc_read_group(agent_ctx *ctx, nc_state *st, netclass_iface *ifc, char *path,
                          size_t dirlen, bool volatile_group, bool kept, bool forget)
{
    char buf[512];
    vg_slice v;
    bool any = false;
    for (int i = 0; i < NC_NSTR; i++) {
        if (sys_class_net_str_volatile((netclass_str)i) != volatile_group)
            continue;
        ifc->str[i][0] = '\0';
        strcpy(path + dirlen, netclass_str_files[i]);
        int rc = nc_read_one(st, path, kept, forget, buf, sizeof buf, &v);
        if (rc) {
            if (!sysfs_attr_absent_err(rc))
                agent_ctx_parse_error(ctx, "netclass", netclass_str_files[i]);
            continue;
        }
        any = true;
        if (nc_parse_str(ifc, i, vg_slice_trim(v)))
            agent_ctx_parse_error(ctx, "netclass", netclass_str_files[i]);
    }
    for (int i = 0; i < NC_NUM; i++) {
        if (sys_class_net_num_volatile((netclass_num)i) != volatile_group)
            continue;
        ifc->has[i] = false;
        ifc->v[i] = 0;
        strcpy(path + dirlen, netclass_num_files[i]);
        int rc = nc_read_one(st, path, kept, forget, buf, sizeof buf, &v);
        if (rc) {
            if (!sysfs_attr_absent_err(rc))
                agent_ctx_parse_error(ctx, "netclass", netclass_num_files[i]);
            continue;
        }
        any = true;
        if (nc_parse_num(ifc, i, vg_slice_trim(v)))
            agent_ctx_parse_error(ctx, "netclass", netclass_num_files[i]);
    }
    return any;
}

/* Whether the volatile attributes of a and b differ. */
static bool nc_volatile_changed(const netclass_iface *a, const netclass_iface *b)
{
    for (int i = 0; i < NC_NSTR; i++)
        if (sys_class_net_str_volatile((netclass_str)i) && strcmp(a->str[i], b->str[i]) != 0)
            return true;
    for (int i = 0; i < NC_NUM; i++)
        if (sys_class_net_num_volatile((netclass_num)i) &&
            (a->has[i] != b->has[i] || a->v[i] != b->v[i]))
            return true;
    return false;
}

/*
 * Bring one interface's entry up to date (see the header for when the
 * cached group is read). dir holds "<base>/<name>/" (dirlen bytes).
 */
static void nc_update(agent_ctx *ctx, nc_state *st, nc_cached *e, bool fresh, uint64_t ino,
                      char *dir, size_t dirlen, uint64_t now, uint64_t max_age_ms)
{
    bool moved = !fresh && e->ino != ino;
    netclass_iface *cur = &e->ifc;
    netclass_iface prev; /* only its volatile part is filled and compared */
    for (int i = 0; i < NC_NSTR; i++)
        if (sys_class_net_str_volatile((netclass_str)i))
            memcpy(prev.str[i], cur->str[i], sizeof prev.str[i]);
    memcpy(prev.has, cur->has, sizeof prev.has);
    memcpy(prev.v, cur->v, sizeof prev.v);
    /* kept descriptors of a renamed or re-created interface read the old object */
    bool vol_any = nc_read_group(ctx, st, cur, dir, dirlen, true, true, moved);
    bool reread = fresh || moved || !vol_any || max_age_ms == 0 ||
                  now - e->read_ms >= max_age_ms || nc_volatile_changed(&prev, cur);
    if (reread) {
        /* read rarely: no descriptor held in between, unless read every time */
        bool rest_any = nc_read_group(ctx, st, cur, dir, dirlen, false, max_age_ms == 0, moved);
        e->read_ms = now;
        e->any = vol_any || rest_any;
    }
    e->ino = ino;
}

static uint64_t nc_max_age_ms(const agent_ctx *ctx)
{
    double secs = 60;
    if (ctx->cfg)
        secs = vg_config_duration(ctx->cfg, NC_OPT_MAX_AGE);
    if (!(secs > 0))
        return 0;
    return secs > 1e9 ? (uint64_t)1e12 : (uint64_t)(secs * 1000);
}

static int nc_collect(agent_ctx *ctx, void *state, vg_scrape *s)
{
    nc_state *st = state;
    if (field_filter_set(&st->ignored, opt_str(ctx, NC_OPT_IGNORED)))
        agent_ctx_parse_error(ctx, "netclass", NC_OPT_IGNORED);
    bool ignore_speed = ctx->cfg && vg_config_bool(ctx->cfg, NC_OPT_INVALID_SPEED);
    uint64_t max_age_ms = nc_max_age_ms(ctx);
    uint64_t now = vg_now_ms();
    char base[4096], dir[4096 + 64];
    int rc = agent_path(ctx, AGENT_ROOT_SYS, "/class/net", base, sizeof base);
    if (rc)
        return rc;
    rc = sysfs_dirlist_read_kept(&st->dirs, base, NULL);
    if (rc)
        return rc;
    st->gen++;
    netclass_fams fams;
    sys_class_net_declare(s, &fams);
    for (size_t i = 0; i < st->dirs.n; i++) {
        const char *name = sysfs_dirlist_name(&st->dirs, i);
        if (st->dirs.ents[i].type == DT_REG) /* bonding_masters */
            continue;
        if (strlen(name) >= sizeof st->ifs[0].key || field_filter_match(&st->ignored, name))
            continue;
        int k = snprintf(dir, 4096, "%s/%s/", base, name);
        if (k < 0 || k >= 4096)
            continue;
        bool fresh;
        nc_cached *e = nc_entry(st, name, &fresh);
        if (!e)
            return -ENOMEM;
        e->gen = st->gen;
        nc_update(ctx, st, e, fresh, st->dirs.ents[i].ino, dir, (size_t)k, now, max_age_ms);
        /* not an interface directory: nothing readable */
        if (e->any)
            sys_class_net_emit(&fams, &e->ifc, ignore_speed);
    }
    nc_sweep(st);
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
    .loop_safe = true,
};
