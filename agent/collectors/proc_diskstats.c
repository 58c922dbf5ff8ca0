/*
 * proc_diskstats.c - the `diskstats` collector.
 *
 * Units follow node_exporter: sectors are the kernel's fixed 512-byte
 * units, ticks are milliseconds (multiplied by 0.001, as node_exporter
 * does, so values agree to the last bit).
 */
#include "proc_diskstats.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "label_utf8.h"
#include "sysfs_attr.h"

#define DS_OPT_EXCLUDE "collector.diskstats.device-exclude"
#define DS_OPT_INCLUDE "collector.diskstats.device-include"
#define DS_NAME_MAX 64
#define UDEV_FILE_MAX (256u * 1024u)

/* ---------- default exclude ---------- */

static bool digits_to_end(const char *p)
{
    if (!*p)
        return false;
    for (; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    return true;
}

static const char *skip_digits(const char *p)
{
    while (*p >= '0' && *p <= '9')
        p++;
    return p;
}

bool proc_diskstats_default_excluded(const char *d)
{
    static const char *const plain[] = {"zram", "ram", "loop", "fd"};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        size_t n = strlen(plain[i]);
        if (strncmp(d, plain[i], n) == 0 && digits_to_end(d + n))
            return true;
    }
    /* (h|s|v|xv)d[a-z]\d+ */
    const char *p = NULL;
    if (d[0] == 'x' && d[1] == 'v')
        p = d + 2;
    else if (d[0] == 'h' || d[0] == 's' || d[0] == 'v')
        p = d + 1;
    if (p && p[0] == 'd' && p[1] >= 'a' && p[1] <= 'z' && digits_to_end(p + 2))
        return true;
    /* nvme\d+n\d+p\d+ */
    if (strncmp(d, "nvme", 4) == 0) {
        const char *q = skip_digits(d + 4);
        if (q == d + 4 || *q != 'n')
            return false;
        const char *r = skip_digits(q + 1);
        if (r == q + 1 || *r != 'p')
            return false;
        return digits_to_end(r + 1);
    }
    return false;
}

/* ---------- parsing ---------- */

int proc_diskstats_parse_line(vg_slice line, diskstats_line *out)
{
    vg_slice f[3 + DISKSTATS_MAX_STATS + 8];
    size_t nf = vg_fields(line, f, sizeof f / sizeof f[0]);
    if (nf > sizeof f / sizeof f[0])
        nf = sizeof f / sizeof f[0];
    if (nf < 4)
        return -EINVAL;
    uint64_t maj, min;
    if (vg_parse_u64(f[0], &maj) || vg_parse_u64(f[1], &min) || maj > 0xffffffffu ||
        min > 0xffffffffu || f[2].n == 0 || f[2].n >= DS_NAME_MAX)
        return -EINVAL;
    diskstats_line d;
    d.major = (unsigned)maj;
    d.minor = (unsigned)min;
    d.name = f[2];
    d.nstats = nf - 3;
    if (d.nstats > DISKSTATS_MAX_STATS)
        d.nstats = DISKSTATS_MAX_STATS; /* newer kernels may add fields */
    for (size_t i = 0; i < d.nstats; i++)
        if (vg_parse_u64(f[3 + i], &d.v[i]))
            return -EINVAL;
    if (d.nstats < 11)
        return -ENODATA;
    *out = d;
    return 0;
}

static const char *const udev_keys[UDEV_NKEYS] = {
    [UDEV_ID_PATH] = "ID_PATH",
    [UDEV_ID_WWN] = "ID_WWN",
    [UDEV_ID_MODEL] = "ID_MODEL",
    [UDEV_SCSI_IDENT_SERIAL] = "SCSI_IDENT_SERIAL",
    [UDEV_ID_SERIAL_SHORT] = "ID_SERIAL_SHORT",
    [UDEV_ID_SERIAL] = "ID_SERIAL",
    [UDEV_ID_REVISION] = "ID_REVISION",
    [UDEV_ID_FS_TYPE] = "ID_FS_TYPE",
    [UDEV_ID_FS_USAGE] = "ID_FS_USAGE",
    [UDEV_ID_FS_UUID] = "ID_FS_UUID",
    [UDEV_ID_FS_VERSION] = "ID_FS_VERSION",
    [UDEV_DM_NAME] = "DM_NAME",
    [UDEV_DM_UUID] = "DM_UUID",
    [UDEV_DM_VG_NAME] = "DM_VG_NAME",
    [UDEV_DM_LV_NAME] = "DM_LV_NAME",
    [UDEV_DM_LV_LAYER] = "DM_LV_LAYER",
    [UDEV_ID_ATA] = "ID_ATA",
    [UDEV_ID_ATA_WRITE_CACHE] = "ID_ATA_WRITE_CACHE",
    [UDEV_ID_ATA_WRITE_CACHE_ENABLED] = "ID_ATA_WRITE_CACHE_ENABLED",
    [UDEV_ID_ATA_ROTATION_RATE_RPM] = "ID_ATA_ROTATION_RATE_RPM",
};

void proc_diskstats_udev_parse(const char *buf, size_t len, disk_udev *out)
{
    memset(out, 0, sizeof *out);
    vg_lines it;
    vg_slice line;
    vg_lines_init(&it, buf, len);
    while (vg_lines_next(&it, &line)) {
        if (line.n < 3 || line.p[0] != 'E' || line.p[1] != ':')
            continue;
        vg_slice kv = {line.p + 2, line.n - 2};
        const char *eq = memchr(kv.p, '=', kv.n);
        if (!eq)
            continue;
        vg_slice key = {kv.p, (size_t)(eq - kv.p)};
        vg_slice val = {eq + 1, kv.n - key.n - 1};
        for (int k = 0; k < UDEV_NKEYS; k++) {
            if (vg_slice_eq(key, udev_keys[k])) {
                out->v[k] = val;
                out->has[k] = true;
                break;
            }
        }
    }
}

/* ---------- emission ---------- */

typedef struct ds_desc {
    const char *name;
    const char *help;
    vg_mtype type;
    double scale;
} ds_desc;

static const ds_desc ds_descs[DISKSTATS_MAX_STATS] = {
    {"node_disk_reads_completed_total", "The total number of reads completed successfully.", VG_MT_COUNTER, 1},
    {"node_disk_reads_merged_total", "The total number of reads merged.", VG_MT_COUNTER, 1},
    {"node_disk_read_bytes_total", "The total number of bytes read successfully.", VG_MT_COUNTER, 512.0},
    {"node_disk_read_time_seconds_total", "The total number of seconds spent by all reads.", VG_MT_COUNTER, 0.001},
    {"node_disk_writes_completed_total", "The total number of writes completed successfully.", VG_MT_COUNTER, 1},
    {"node_disk_writes_merged_total", "The number of writes merged.", VG_MT_COUNTER, 1},
    {"node_disk_written_bytes_total", "The total number of bytes written successfully.", VG_MT_COUNTER, 512.0},
    {"node_disk_write_time_seconds_total", "This is the total number of seconds spent by all writes.", VG_MT_COUNTER, 0.001},
    {"node_disk_io_now", "The number of I/Os currently in progress.", VG_MT_GAUGE, 1},
    {"node_disk_io_time_seconds_total", "Total seconds spent doing I/Os.", VG_MT_COUNTER, 0.001},
    {"node_disk_io_time_weighted_seconds_total", "The weighted # of seconds spent doing I/Os.", VG_MT_COUNTER, 0.001},
    {"node_disk_discards_completed_total", "The total number of discards completed successfully.", VG_MT_COUNTER, 1},
    {"node_disk_discards_merged_total", "The total number of discards merged.", VG_MT_COUNTER, 1},
    {"node_disk_discarded_sectors_total", "The total number of sectors discarded successfully.", VG_MT_COUNTER, 1},
    {"node_disk_discard_time_seconds_total", "This is the total number of seconds spent by all discards.", VG_MT_COUNTER, 0.001},
    {"node_disk_flush_requests_total", "The total number of flush requests completed successfully", VG_MT_COUNTER, 1},
    {"node_disk_flush_requests_time_seconds_total", "This is the total number of seconds spent by all flush requests.", VG_MT_COUNTER, 0.001},
};

static const char *const ata_names[3] = {
    "node_disk_ata_write_cache", "node_disk_ata_write_cache_enabled",
    "node_disk_ata_rotation_rate_rpm"};
static const char *const ata_help[3] = {
    "ATA disk has a write cache.", "ATA disk has its write cache enabled.",
    "ATA disk rotation rate in RPMs (0 for SSDs)."};
static const udev_key ata_keys[3] = {UDEV_ID_ATA_WRITE_CACHE, UDEV_ID_ATA_WRITE_CACHE_ENABLED,
                                     UDEV_ID_ATA_ROTATION_RATE_RPM};

/*
 * Label values are built into one small arena per device: udev values are
 * slices of a file buffer and need NUL terminators. 4 KiB holds the longest
 * realistic set; a longer value is cut (udev itself caps values at 4 KiB).
 */
typedef struct lblbuf {
    char b[8192];
    size_t n;
} lblbuf;

static const char *lbl(lblbuf *lb, vg_slice s)
{
    size_t room = sizeof lb->b - lb->n;
    if (room == 0)
        return "";
    char *out = lb->b + lb->n;
    label_utf8_copy(s.p, s.n, out, room);
    lb->n += strlen(out) + 1;
    return out;
}

static const char *uval(lblbuf *lb, const disk_udev *u, udev_key k)
{
    return u->has[k] ? lbl(lb, u->v[k]) : "";
}

typedef struct ds_fams {
    vg_family *stat[DISKSTATS_MAX_STATS];
    vg_family *info, *fsinfo, *dminfo, *ata[3];
} ds_fams;

static void ds_fams_declare(vg_scrape *s, ds_fams *f)
{
    static const char *const dl[1] = {"device"};
    static const char *const il[9] = {"device", "major", "minor", "model", "path",
                                      "revision", "rotational", "serial", "wwn"};
    static const char *const fl[5] = {"device", "type", "usage", "uuid", "version"};
    static const char *const ml[6] = {"device", "lv_layer", "lv_name", "name", "uuid", "vg_name"};
    for (int i = 0; i < DISKSTATS_MAX_STATS; i++)
        f->stat[i] = vg_scrape_family(s, ds_descs[i].name, ds_descs[i].type, ds_descs[i].help,
                                      1, dl);
    f->info = vg_scrape_family(s, "node_disk_info", VG_MT_GAUGE,
                               "Info of /sys/block/<block_device>.", 9, il);
    f->fsinfo = vg_scrape_family(s, "node_disk_filesystem_info", VG_MT_GAUGE,
                                 "Info about disk filesystem.", 5, fl);
    f->dminfo = vg_scrape_family(s, "node_disk_device_mapper_info", VG_MT_GAUGE,
                                 "Info about disk device mapper.", 6, ml);
    for (int i = 0; i < 3; i++)
        f->ata[i] = vg_scrape_family(s, ata_names[i], VG_MT_GAUGE, ata_help[i], 1, dl);
}

static void emit_device(const ds_fams *f, const diskstats_line *d, const char *dev,
                        const disk_udev *u, int rot, lblbuf *lb)
{
    char maj[16], min[16], rotbuf[72];
    snprintf(maj, sizeof maj, "%u", d->major);
    snprintf(min, sizeof min, "%u", d->minor);
    /* node_exporter formats the flag in base 2 (strconv.FormatUint(v, 2)) */
    unsigned long long r = rot < 0 ? 0 : (unsigned long long)rot;
    char tmp[70];
    size_t tn = 0;
    do {
        tmp[tn++] = (char)('0' + (r & 1));
        r >>= 1;
    } while (r);
    for (size_t i = 0; i < tn; i++)
        rotbuf[i] = tmp[tn - 1 - i];
    rotbuf[tn] = '\0';

    lb->n = 0;
    /* the serial printed on the label, else ID_SERIAL_SHORT, else ID_SERIAL (virtio) */
    const char *serial = "";
    if (u->has[UDEV_SCSI_IDENT_SERIAL] && u->v[UDEV_SCSI_IDENT_SERIAL].n)
        serial = uval(lb, u, UDEV_SCSI_IDENT_SERIAL);
    else if (u->has[UDEV_ID_SERIAL_SHORT] && u->v[UDEV_ID_SERIAL_SHORT].n)
        serial = uval(lb, u, UDEV_ID_SERIAL_SHORT);
    else if (u->has[UDEV_ID_SERIAL])
        serial = uval(lb, u, UDEV_ID_SERIAL);
    vg_family_add(f->info, 1, dev, maj, min, uval(lb, u, UDEV_ID_MODEL),
                  uval(lb, u, UDEV_ID_PATH), uval(lb, u, UDEV_ID_REVISION), rotbuf, serial,
                  uval(lb, u, UDEV_ID_WWN));

    for (size_t i = 0; i < d->nstats; i++)
        vg_family_add(f->stat[i], (double)d->v[i] * ds_descs[i].scale, dev);

    if (u->has[UDEV_ID_FS_TYPE] && u->v[UDEV_ID_FS_TYPE].n) {
        lb->n = 0;
        vg_family_add(f->fsinfo, 1, dev, uval(lb, u, UDEV_ID_FS_TYPE),
                      uval(lb, u, UDEV_ID_FS_USAGE), uval(lb, u, UDEV_ID_FS_UUID),
                      uval(lb, u, UDEV_ID_FS_VERSION));
    }
    if (u->has[UDEV_DM_NAME] && u->v[UDEV_DM_NAME].n) {
        lb->n = 0;
        vg_family_add(f->dminfo, 1, dev, uval(lb, u, UDEV_DM_LV_LAYER),
                      uval(lb, u, UDEV_DM_LV_NAME), uval(lb, u, UDEV_DM_NAME),
                      uval(lb, u, UDEV_DM_UUID), uval(lb, u, UDEV_DM_VG_NAME));
    }
    if (u->has[UDEV_ID_ATA] && u->v[UDEV_ID_ATA].n) {
        for (int i = 0; i < 3; i++) {
            double v;
            if (u->has[ata_keys[i]] && vg_parse_double(u->v[ata_keys[i]], &v) == 0)
                vg_family_add(f->ata[i], v, dev);
        }
    }
}

static bool ds_selected(const char *dev, const field_filter *include, const field_filter *exclude)
{
    if (include)
        return field_filter_match(include, dev);
    return exclude ? !field_filter_match(exclude, dev) : !proc_diskstats_default_excluded(dev);
}

int proc_diskstats_parse(const char *buf, size_t len, const field_filter *include,
                         const field_filter *exclude, const diskstats_lookup *lk,
                         vg_scrape *s, unsigned *skipped)
{
    ds_fams fams;
    memset(&fams, 0, sizeof fams);
    bool declared = false, any = false;
    int reported = 0;
    lblbuf lb;
    vg_lines it;
    vg_slice line;
    vg_lines_init(&it, buf, len);
    while (vg_lines_next(&it, &line)) {
        if (vg_slice_trim(line).n == 0)
            continue;
        diskstats_line d;
        int rc = proc_diskstats_parse_line(line, &d);
        if (rc == -ENODATA) {
            any = true;
            continue;
        }
        if (rc) {
            (*skipped)++;
            continue;
        }
        any = true;
        char dev[DS_NAME_MAX];
        vg_slice_copy(d.name, dev, sizeof dev);
        if (strlen(dev) != d.name.n || !label_utf8_valid(dev, d.name.n)) {
            (*skipped)++; /* kernel disk names are ASCII */
            continue;
        }
        if (!ds_selected(dev, include, exclude))
            continue;
        if (!declared) {
            ds_fams_declare(s, &fams);
            declared = true;
        }
        disk_udev u;
        memset(&u, 0, sizeof u);
        if (lk && lk->udev)
            lk->udev(lk->ud, d.major, d.minor, &u);
        int rot = lk && lk->rotational ? lk->rotational(lk->ud, dev) : -1;
        emit_device(&fams, &d, dev, &u, rot, &lb);
        reported++;
    }
    return any ? reported : -EINVAL;
}

/* ---------- collector ---------- */

static const vg_opt_def ds_opts[] = {
    {DS_OPT_EXCLUDE, VG_OPT_STRING, DISKSTATS_EXCLUDE_DEFAULT,
     "Regexp of diskstats devices to exclude (mutually exclusive to device-include)",
     VG_OPT_F_RELOADABLE},
    {DS_OPT_INCLUDE, VG_OPT_STRING, NULL,
     "Regexp of diskstats devices to include (mutually exclusive to device-exclude)",
     VG_OPT_F_RELOADABLE},
};

/* Collection thread only. */
typedef struct ds_state {
    field_filter exclude;
    field_filter include;     /* active when include.pattern != NULL */
    vg_buf udev;              /* the current device's udev file */
    sysfs_fdcache files;      /* /proc/diskstats, queue/rotational, kept open */
    bool udev_ok;             /* the udev data directory exists (this scrape) */
    agent_ctx *ctx;           /* for the lookups, during collect */
} ds_state;

static bool ds_default_match(const char *dev) { return proc_diskstats_default_excluded(dev); }
static bool ds_never(const char *dev) { (void)dev; return false; }

static const char *opt_str(const agent_ctx *ctx, const char *name)
{
    return ctx->cfg ? vg_config_str(ctx->cfg, name) : NULL;
}

static int ds_filters_set(agent_ctx *ctx, ds_state *st)
{
    bool exclude_default = !ctx->cfg || !strcmp(vg_config_source(ctx->cfg, DS_OPT_EXCLUDE), "default");
    return field_filter_pair_set(&st->exclude, &st->include, opt_str(ctx, DS_OPT_EXCLUDE), exclude_default,
                                 opt_str(ctx, DS_OPT_INCLUDE));
}

static void ds_release(void *state)
{
    ds_state *st = state;
    if (!st)
        return;
    field_filter_release(&st->exclude);
    field_filter_release(&st->include);
    vg_buf_release(&st->udev);
    sysfs_fdcache_release(&st->files);
    free(st);
}

static int ds_init(agent_ctx *ctx, void **state)
{
    ds_state *st = calloc(1, sizeof *st);
    if (!st)
        return -ENOMEM;
    field_filter_init(&st->exclude, DISKSTATS_EXCLUDE_DEFAULT, ds_default_match);
    field_filter_init(&st->include, NULL, ds_never);
    vg_buf_init(&st->udev);
    sysfs_fdcache_init(&st->files, 128);
    int rc = ds_filters_set(ctx, st);
    if (rc) {
        vg_log_error(ctx->log, "diskstats", "invalid device filter", "option",
                     rc == -EINVAL ? DS_OPT_INCLUDE "/" DS_OPT_EXCLUDE : DS_OPT_EXCLUDE);
        ds_release(st);
        return rc;
    }
    *state = st;
    return 0;
}

static void ds_udev_lookup(void *ud, unsigned major, unsigned minor, disk_udev *out)
{
    ds_state *st = ud;
    char rel[48], path[4096];
    if (!st->udev_ok)
        return; /* no udev database (containers without /run/udev mounted) */
    snprintf(rel, sizeof rel, "/b%u:%u", major, minor);
    if (agent_path(st->ctx, AGENT_ROOT_UDEV, rel, path, sizeof path))
        return;
    int rc = vg_buf_read_file(&st->udev, path, UDEV_FILE_MAX);
    if (rc) {
        if (rc != -ENOENT)
            agent_ctx_parse_error(st->ctx, "diskstats", "udev data file");
        return;
    }
    proc_diskstats_udev_parse(st->udev.data, st->udev.len, out);
}

static int ds_rotational_lookup(void *ud, const char *dev)
{
    ds_state *st = ud;
    char name[DS_NAME_MAX], rel[DS_NAME_MAX + 32], path[4096], buf[32];
    /* /proc/diskstats says "cciss/c0d0" where /sys/block says "cciss!c0d0" */
    size_t i;
    for (i = 0; dev[i] && i < sizeof name - 1; i++)
        name[i] = dev[i] == '/' ? '!' : dev[i];
    name[i] = '\0';
    snprintf(rel, sizeof rel, "/block/%s/queue/rotational", name);
    if (agent_path(st->ctx, AGENT_ROOT_SYS, rel, path, sizeof path))
        return -1;
    vg_slice v;
    if (sysfs_fdcache_read(&st->files, path, buf, sizeof buf, &v))
        return -1;
    uint64_t r;
    if (vg_parse_u64(vg_slice_trim(v), &r) || r > 1000000) {
        agent_ctx_parse_error(st->ctx, "diskstats", "queue/rotational");
        return -1;
    }
    return (int)r;
}

static int ds_collect(agent_ctx *ctx, void *state, vg_scrape *s)
{
    ds_state *st = state;
    if (ds_filters_set(ctx, st))
        agent_ctx_parse_error(ctx, "diskstats", "device filter");
    char path[4096];
    int rc = agent_path(ctx, AGENT_ROOT_PROC, "/diskstats", path, sizeof path);
    if (!rc)
        rc = sysfs_fdcache_read_all(&st->files, path, &ctx->scratch, 16u << 20);
    if (rc) {
        sysfs_fdcache_sweep(&st->files);
        return rc;
    }
    st->ctx = ctx;
    st->udev_ok = agent_path(ctx, AGENT_ROOT_UDEV, "/", path, sizeof path) == 0 &&
                  access(path, X_OK) == 0;
    diskstats_lookup lk = {ds_udev_lookup, ds_rotational_lookup, st};
    unsigned skipped = 0;
    rc = proc_diskstats_parse(ctx->scratch.data, ctx->scratch.len,
                              st->include.pattern ? &st->include : NULL, &st->exclude, &lk, s,
                              &skipped);
    st->ctx = NULL;
    sysfs_fdcache_sweep(&st->files);
    for (unsigned i = 0; i < skipped; i++)
        agent_ctx_parse_error(ctx, "diskstats", "/proc/diskstats line");
    return rc < 0 ? rc : 0;
}

const agent_collector agent_collector_diskstats = {
    .name = "diskstats",
    .default_enabled = true,
    .help = "Disk I/O statistics from /proc/diskstats, udev and /sys/block (node_disk_*)",
    .opts = ds_opts,
    .nopts = sizeof ds_opts / sizeof ds_opts[0],
    .init = ds_init,
    .collect = ds_collect,
    .release = ds_release,
    .loop_safe = true,
};
