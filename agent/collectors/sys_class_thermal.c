/*
 * sys_class_thermal.c - the `thermal_zone` collector.
 */
#include "sys_class_thermal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "label_utf8.h"
#include "sysfs_attr.h"

static bool prefixed_digit(const char *name, const char *prefix, const char **suffix)
{
    size_t n = strlen(prefix);
    if (strncmp(name, prefix, n) != 0 || name[n] < '0' || name[n] > '9')
        return false;
    *suffix = name + n;
    return true;
}

bool sys_class_thermal_is_zone(const char *name, const char **suffix)
{
    return prefixed_digit(name, "thermal_zone", suffix);
}

bool sys_class_thermal_is_cooling(const char *name, const char **suffix)
{
    return prefixed_digit(name, "cooling_device", suffix);
}

int sys_class_thermal_parse_int(const char *buf, size_t len, int64_t *out)
{
    return vg_parse_i64(vg_slice_trim((vg_slice){buf, len}), out);
}

int sys_class_thermal_parse_str(const char *buf, size_t len, char *out, size_t outlen)
{
    vg_slice v = vg_slice_trim((vg_slice){buf, len});
    if (v.n >= outlen || memchr(v.p, '\0', v.n))
        return -EFBIG;
    label_utf8_copy(v.p, v.n, out, outlen);
    return 0;
}

void sys_class_thermal_emit_zone(vg_scrape *s, const char *zone, const char *type,
                                 int64_t temp_milli)
{
    static const char *const zl[2] = {"type", "zone"};
    vg_family *f = vg_scrape_family(s, "node_thermal_zone_temp", VG_MT_GAUGE,
                                    "Zone temperature in Celsius", 2, zl);
    vg_family_add(f, (double)temp_milli / 1000.0, type, zone);
}

void sys_class_thermal_emit_cooling(vg_scrape *s, const char *name, const char *type,
                                    int64_t cur, int64_t max)
{
    static const char *const cl[2] = {"name", "type"};
    vg_family *fc = vg_scrape_family(s, "node_cooling_device_cur_state", VG_MT_GAUGE,
                                     "Current throttle state of the cooling device", 2, cl);
    vg_family *fm = vg_scrape_family(s, "node_cooling_device_max_state", VG_MT_GAUGE,
                                     "Maximum throttle state of the cooling device", 2, cl);
    vg_family_add(fc, (double)cur, name, type);
    vg_family_add(fm, (double)max, name, type);
}

/* ---------- collector ---------- */

/* Collection thread only. */
typedef struct th_state {
    sysfs_dirlist ents;
    sysfs_fdcache files;   /* attribute files kept open between scrapes */
    char dir[4096];        /* the entry being read */
} th_state;

static void th_release(void *state)
{
    th_state *st = state;
    if (!st)
        return;
    sysfs_dirlist_release(&st->ents);
    sysfs_fdcache_release(&st->files);
    free(st);
}

static int th_init(agent_ctx *ctx, void **state)
{
    (void)ctx;
    th_state *st = calloc(1, sizeof *st);
    if (!st)
        return -ENOMEM;
    sysfs_dirlist_init(&st->ents);
    sysfs_fdcache_init(&st->files, 256);
    *state = st;
    return 0;
}

/* Read st->dir/attr; counts a parse error for faults other than "absent". */
static int th_read(th_state *st, const char *attr, char *buf, size_t cap, vg_slice *v)
{
    char path[4096 + 32];
    int k = snprintf(path, sizeof path, "%s/%s", st->dir, attr);
    if (k < 0 || (size_t)k >= sizeof path)
        return -ENAMETOOLONG;
    return sysfs_fdcache_read(&st->files, path, buf, cap, v);
}

static int th_read_str(agent_ctx *ctx, th_state *st, const char *attr, char *out, size_t outlen)
{
    char buf[256];
    vg_slice v;
    int rc = th_read(st, attr, buf, sizeof buf, &v);
    if (!rc)
        rc = sys_class_thermal_parse_str(v.p, v.n, out, outlen);
    if (rc && !sysfs_attr_absent_err(rc) && rc != -EIO)
        agent_ctx_parse_error(ctx, "thermal_zone", attr);
    return rc;
}

static int th_read_int(agent_ctx *ctx, th_state *st, const char *attr, int64_t *out)
{
    char buf[64];
    vg_slice v;
    int rc = th_read(st, attr, buf, sizeof buf, &v);
    if (rc) {
        if (!sysfs_attr_absent_err(rc) && rc != -EIO)
            agent_ctx_parse_error(ctx, "thermal_zone", attr);
        return rc;
    }
    rc = sys_class_thermal_parse_int(v.p, v.n, out);
    if (rc)
        agent_ctx_parse_error(ctx, "thermal_zone", attr);
    return rc;
}

static int th_collect(agent_ctx *ctx, void *state, vg_scrape *s)
{
    th_state *st = state;
    char base[4096];
    int rc = agent_path(ctx, AGENT_ROOT_SYS, "/class/thermal", base, sizeof base);
    if (rc)
        return rc;
    rc = sysfs_dirlist_read_kept(&st->ents, base, NULL);
    if (rc)
        return rc;
    for (size_t i = 0; i < st->ents.n; i++) {
        const char *name = sysfs_dirlist_name(&st->ents, i);
        const char *label;
        bool zone = sys_class_thermal_is_zone(name, &label);
        if (!zone && !sys_class_thermal_is_cooling(name, &label))
            continue;
        int k = snprintf(st->dir, sizeof st->dir, "%s/%s", base, name);
        if (k < 0 || (size_t)k >= sizeof st->dir)
            continue;
        char type[128], policy[64], lbuf[128];
        int64_t a, b;
        label = label_utf8(label, lbuf, sizeof lbuf);
        if (zone) {
            /* type, policy and temp are all required, as in node_exporter */
            if (!th_read_str(ctx, st, "type", type, sizeof type) &&
                !th_read_str(ctx, st, "policy", policy, sizeof policy) &&
                !th_read_int(ctx, st, "temp", &a))
                sys_class_thermal_emit_zone(s, label, type, a);
        } else {
            if (!th_read_str(ctx, st, "type", type, sizeof type) &&
                !th_read_int(ctx, st, "max_state", &b) &&
                !th_read_int(ctx, st, "cur_state", &a))
                sys_class_thermal_emit_cooling(s, label, type, a, b);
        }
    }
    sysfs_fdcache_sweep(&st->files);
    return 0;
}

const agent_collector agent_collector_thermal_zone = {
    .name = "thermal_zone",
    .default_enabled = true,
    .help = "Thermal zone temperatures and cooling device states from /sys/class/thermal",
    .opts = NULL,
    .nopts = 0,
    .init = th_init,
    .collect = th_collect,
    .release = th_release,
    .loop_safe = true,
};
