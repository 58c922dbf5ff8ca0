/*
 * proc_mountinfo.c - the `filesystem` collector: mountinfo, filters, statfs.
 *
 * Per scrape: read mountinfo, keep the mounts the filters let through (one
 * per device/mountpoint/fstype), statfs them all on the worker pool at once,
 * emit. The mount list, its string pool and the job array are reused, so a
 * steady-state scrape does not allocate.
 */
#include "proc_mountinfo.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "label_utf8.h"
#include "sysfs_attr.h"

#define FS_OPT_MP "collector.filesystem.mount-points-exclude"
#define FS_OPT_TYPES "collector.filesystem.fs-types-exclude"
#define FS_OPT_TIMEOUT "collector.filesystem.mount-timeout"
#define FS_OPT_WORKERS "collector.filesystem.stat-workers"
#define FS_DEFAULT_TIMEOUT_S 5.0
#define FS_DEFAULT_WORKERS 4

/* ---------- default filters ---------- */

static bool dir_is(const char *r, const char *word)
{
    size_t n = strlen(word);
    return strncmp(r, word, n) == 0 && (r[n] == '\0' || r[n] == '/');
}

static bool prefix_plus(const char *r, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(r, prefix, n) == 0 && r[n] != '\0' && r[n] != '\n';
}

bool proc_mountinfo_default_mp_excluded(const char *mp)
{
    if (mp[0] != '/')
        return false;
    const char *r = mp + 1;
    /* (x/.+)($|/): ".+" can take the rest of the line, so "x/" + one char */
    return dir_is(r, "dev") || dir_is(r, "proc") || dir_is(r, "sys") ||
           prefix_plus(r, "run/credentials/") || prefix_plus(r, "var/lib/docker/") ||
           prefix_plus(r, "var/lib/containers/storage/");
}

bool proc_mountinfo_default_type_excluded(const char *t)
{
    static const char *const types[] = {
        "autofs",    "binfmt_misc", "bpf",        "cgroup",    "cgroup2", "configfs",
        "debugfs",   "devpts",      "devtmpfs",   "fusectl",   "hugetlbfs", "iso9660",
        "mqueue",    "nsfs",        "overlay",    "proc",      "procfs",  "pstore",
        "rpc_pipefs", "securityfs", "selinuxfs",  "squashfs",  "sysfs",   "tracefs",
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(t, types[i]) == 0)
            return true;
    return false;
}

/* ---------- line parsing ---------- */

static int parse_dev(vg_slice s, unsigned *major, unsigned *minor)
{
    const char *c = memchr(s.p, ':', s.n);
    if (!c)
        return -EINVAL;
    vg_slice a = {s.p, (size_t)(c - s.p)};
    vg_slice b = {c + 1, s.n - a.n - 1};
    uint64_t x, y;
    if (vg_parse_u64(a, &x) || vg_parse_u64(b, &y) || x > UINT_MAX || y > UINT_MAX)
        return -EINVAL;
    *major = (unsigned)x;
    *minor = (unsigned)y;
    return 0;
}

int proc_mountinfo_parse_line(vg_slice line, proc_mount *out)
{
    vg_slice f[24];
    size_t nf = vg_fields(line, f, 24);
    if (nf > 24)
        nf = 24;
    /* id parent maj:min root mountpoint opts [optional...] - type source superopts */
    size_t sep = 0;
    for (size_t i = 6; i < nf; i++) {
        if (vg_slice_eq(f[i], "-")) {
            sep = i;
            break;
        }
    }
    if (nf < 9 || sep == 0 || nf - sep < 3)
        return -EINVAL;
    uint64_t id;
    if (vg_parse_u64(f[0], &id) || vg_parse_u64(f[1], &id))
        return -EINVAL;
    proc_mount m;
    if (parse_dev(f[2], &m.major, &m.minor))
        return -EINVAL;
    if (f[4].n == 0 || f[4].p[0] != '/')
        return -EINVAL;
    m.mountpoint = f[4];
    m.mount_opts = f[5];
    m.fstype = f[sep + 1];
    if (nf - sep >= 4) {
        m.source = f[sep + 2];
        m.super_opts = f[sep + 3];
    } else {
        /* an empty source leaves two spaces: "- type  opts" */
        m.source.p = f[sep + 2].p;
        m.source.n = 0;
        m.super_opts = f[sep + 2];
    }
    *out = m;
    return 0;
}

int proc_mountinfo_unescape(vg_slice in, char *out, size_t outlen)
{
    size_t w = 0;
    for (size_t i = 0; i < in.n;) {
        if (w + 1 >= outlen)
            return -ENAMETOOLONG;
        const char *p = in.p + i;
        if (p[0] == '\\' && in.n - i >= 4 && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' &&
            p[2] <= '7' && p[3] >= '0' && p[3] <= '7') {
            out[w++] = (char)(((p[1] - '0') << 6) | ((p[2] - '0') << 3) | (p[3] - '0'));
            i += 4;
        } else {
            out[w++] = p[0];
            i++;
        }
    }
    if (w >= outlen)
        return -ENAMETOOLONG;
    out[w] = '\0';
    return 0;
}

bool proc_mountinfo_opt_has(vg_slice opts, const char *opt)
{
    size_t n = strlen(opt);
    size_t i = 0;
    while (i <= opts.n) {
        const char *c = i < opts.n ? memchr(opts.p + i, ',', opts.n - i) : NULL;
        size_t end = c ? (size_t)(c - opts.p) : opts.n;
        if (end - i == n && memcmp(opts.p + i, opt, n) == 0)
            return true;
        if (!c)
            break;
        i = end + 1;
    }
    return false;
}

/* ---------- mount list ---------- */

void fs_mounts_init(fs_mounts *m)
{
    memset(m, 0, sizeof *m);
}

void fs_mounts_release(fs_mounts *m)
{
    free(m->pool);
    free(m->v);
    free(m->set);
    memset(m, 0, sizeof *m);
}

static int pool_reserve(fs_mounts *m, size_t extra)
{
    if (m->pool_len + extra <= m->pool_cap)
        return 0;
    size_t ncap = m->pool_cap ? m->pool_cap : 4096;
    while (ncap < m->pool_len + extra)
        ncap *= 2;
    char *np = realloc(m->pool, ncap);
    if (!np)
        return -ENOMEM;
    m->pool = np;
    m->pool_cap = ncap;
    return 0;
}

/* Append an unescaped field; *off gets its offset. */
static int pool_put_unescaped(fs_mounts *m, vg_slice s, size_t *off)
{
    int rc = pool_reserve(m, s.n + 1);
    if (rc)
        return rc;
    rc = proc_mountinfo_unescape(s, m->pool + m->pool_len, s.n + 1);
    if (rc)
        return rc;
    *off = m->pool_len;
    m->pool_len += strlen(m->pool + m->pool_len) + 1;
    return 0;
}

/* Append root + the pool string at rel_off (which may move while growing). */
static int pool_put_target(fs_mounts *m, const char *root, size_t rel_off, size_t *off)
{
    size_t la = strlen(root), lb = strlen(m->pool + rel_off);
    if (la && strcmp(m->pool + rel_off, "/") == 0)
        lb = 0; /* "/" is the rootfs itself */
    int rc = pool_reserve(m, la + lb + 1);
    if (rc)
        return rc;
    *off = m->pool_len;
    memcpy(m->pool + m->pool_len, root, la);
    memmove(m->pool + m->pool_len + la, m->pool + rel_off, lb);
    m->pool[m->pool_len + la + lb] = '\0';
    m->pool_len += la + lb + 1;
    return 0;
}

static uint64_t key_hash(const fs_mounts *m, size_t dev, size_t mp, size_t type)
{
    uint64_t h = 1469598103934665603ull;
    const size_t offs[3] = {dev, mp, type};
    for (int k = 0; k < 3; k++) {
        for (const char *p = m->pool + offs[k]; *p; p++) {
            h ^= (unsigned char)*p;
            h *= 1099511628211ull;
        }
        h ^= 0xff;
        h *= 1099511628211ull;
    }
    return h;
}

static bool same_key(const fs_mounts *m, const fs_mount *a, size_t dev, size_t mp, size_t type)
{
    return strcmp(m->pool + a->device, m->pool + dev) == 0 &&
           strcmp(m->pool + a->mountpoint, m->pool + mp) == 0 &&
           strcmp(m->pool + a->fstype, m->pool + type) == 0;
}

static int set_grow(fs_mounts *m)
{
    size_t ncap = m->set_cap ? m->set_cap * 2 : 64;
    uint32_t *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return -ENOMEM;
    for (size_t i = 0; i < m->n; i++) {
        const fs_mount *fm = &m->v[i];
        size_t j = key_hash(m, fm->device, fm->mountpoint, fm->fstype) & (ncap - 1);
        while (ns[j])
            j = (j + 1) & (ncap - 1);
        ns[j] = (uint32_t)(i + 1);
    }
    free(m->set);
    m->set = ns;
    m->set_cap = ncap;
    return 0;
}

/* Whether the key is new; if so *slot is where it goes. */
static bool set_insert_slot(const fs_mounts *m, size_t dev, size_t mp, size_t type, size_t *slot)
{
    size_t j = key_hash(m, dev, mp, type) & (m->set_cap - 1);
    while (m->set[j]) {
        if (same_key(m, &m->v[m->set[j] - 1], dev, mp, type))
            return false;
        j = (j + 1) & (m->set_cap - 1);
    }
    *slot = j;
    return true;
}

static bool mp_excluded(const field_filter *f, const char *mp)
{
    return f ? field_filter_match(f, mp) : proc_mountinfo_default_mp_excluded(mp);
}

static bool type_excluded(const field_filter *f, const char *t)
{
    return f ? field_filter_match(f, t) : proc_mountinfo_default_type_excluded(t);
}

int proc_mountinfo_parse(const agent_ctx *ctx, const char *buf, size_t len,
                         const field_filter *mp_filter, const field_filter *type_filter,
                         fs_mounts *m, unsigned *skipped)
{
    m->n = 0;
    m->pool_len = 0;
    if (m->set_cap)
        memset(m->set, 0, m->set_cap * sizeof *m->set);
    const char *root = ctx->roots[AGENT_ROOT_ROOTFS] ? ctx->roots[AGENT_ROOT_ROOTFS] : "";
    bool any = false;
    vg_lines it;
    vg_slice line;
    vg_lines_init(&it, buf, len);
    while (vg_lines_next(&it, &line)) {
        if (vg_slice_trim(line).n == 0)
            continue;
        proc_mount pm;
        if (proc_mountinfo_parse_line(line, &pm)) {
            (*skipped)++;
            continue;
        }
        any = true;
        size_t start = m->pool_len;
        size_t mp_raw, type, dev, target;
        int rc = pool_put_unescaped(m, pm.mountpoint, &mp_raw);
        if (!rc)
            rc = pool_put_unescaped(m, pm.fstype, &type);
        if (rc == -ENOMEM)
            return rc;
        if (rc) {
            m->pool_len = start;
            (*skipped)++;
            continue;
        }
        const char *mpp = agent_rootfs_strip(ctx, m->pool + mp_raw);
        size_t mp = (size_t)(mpp - m->pool);
        if (type_excluded(type_filter, m->pool + type) || mp_excluded(mp_filter, mpp)) {
            m->pool_len = start;
            continue;
        }
        rc = pool_put_unescaped(m, pm.source, &dev);
        if (!rc)
            rc = pool_put_target(m, root, mp, &target); /* statfs at <rootfs><mountpoint> */
        if (rc == -ENOMEM)
            return rc;
        if (rc) {
            m->pool_len = start;
            (*skipped)++;
            continue;
        }
        if ((m->n + 1) * 2 > m->set_cap && set_grow(m))
            return -ENOMEM;
        size_t slot;
        if (!set_insert_slot(m, dev, mp, type, &slot)) {
            m->pool_len = start; /* same device, mountpoint and type: report once */
            continue;
        }
        if (m->n == m->cap) {
            size_t ncap = m->cap ? m->cap * 2 : 32;
            fs_mount *nv = realloc(m->v, ncap * sizeof *nv);
            if (!nv)
                return -ENOMEM;
            m->v = nv;
            m->cap = ncap;
        }
        fs_mount *fm = &m->v[m->n];
        memset(fm, 0, sizeof *fm);
        fm->device = dev;
        fm->mountpoint = mp;
        fm->fstype = type;
        fm->target = target;
        fm->major = pm.major;
        fm->minor = pm.minor;
        fm->ro = proc_mountinfo_opt_has(pm.mount_opts, "ro") ||
                 proc_mountinfo_opt_has(pm.super_opts, "ro");
        fm->rc = -EINPROGRESS;
        m->set[slot] = (uint32_t)(m->n + 1);
        m->n++;
    }
    return any ? (int)m->n : -EINVAL;
}

void fs_mount_set_statfs(fs_mount *fm, const struct statfs *st)
{
    double bsize = (double)st->f_bsize;
    fm->size = (double)st->f_blocks * bsize;
    fm->free = (double)st->f_bfree * bsize;
    fm->avail = (double)st->f_bavail * bsize;
    fm->files = (double)st->f_files;
    fm->files_free = (double)st->f_ffree;
}

void fs_mounts_emit(const fs_mounts *m, vg_scrape *s)
{
    if (m->n == 0)
        return;
    static const char *const fl[3] = {"device", "fstype", "mountpoint"};
    static const char *const ml[4] = {"device", "major", "minor", "mountpoint"};
    vg_family *size = vg_scrape_family(s, "node_filesystem_size_bytes", VG_MT_GAUGE,
                                       "Filesystem size in bytes.", 3, fl);
    vg_family *fre = vg_scrape_family(s, "node_filesystem_free_bytes", VG_MT_GAUGE,
                                      "Filesystem free space in bytes.", 3, fl);
    vg_family *avail = vg_scrape_family(s, "node_filesystem_avail_bytes", VG_MT_GAUGE,
                                        "Filesystem space available to non-root users in bytes.",
                                        3, fl);
    vg_family *files = vg_scrape_family(s, "node_filesystem_files", VG_MT_GAUGE,
                                        "Filesystem total file nodes.", 3, fl);
    vg_family *ffree = vg_scrape_family(s, "node_filesystem_files_free", VG_MT_GAUGE,
                                        "Filesystem total free file nodes.", 3, fl);
    vg_family *ro = vg_scrape_family(s, "node_filesystem_readonly", VG_MT_GAUGE,
                                     "Filesystem read-only status.", 3, fl);
    vg_family *err = vg_scrape_family(
        s, "node_filesystem_device_error", VG_MT_GAUGE,
        "Whether an error occurred while getting statistics for the given device.", 3, fl);
    vg_family *info = vg_scrape_family(s, "node_filesystem_mount_info", VG_MT_GAUGE,
                                       "Filesystem mount information.", 4, ml);
    for (size_t i = 0; i < m->n; i++) {
        const fs_mount *fm = &m->v[i];
        /* labels must be UTF-8; the statfs target keeps the raw bytes */
        char b1[512], b2[PATH_MAX], b3[128];
        const char *dev = label_utf8(m->pool + fm->device, b1, sizeof b1);
        const char *mp = label_utf8(m->pool + fm->mountpoint, b2, sizeof b2);
        const char *type = label_utf8(m->pool + fm->fstype, b3, sizeof b3);
        char maj[16], min[16];
        snprintf(maj, sizeof maj, "%u", fm->major);
        snprintf(min, sizeof min, "%u", fm->minor);
        vg_family_add(info, 1, dev, maj, min, mp);
        vg_family_add(err, fm->rc == 0 ? 0 : 1, dev, type, mp);
        if (fm->rc != 0)
            continue;
        vg_family_add(size, fm->size, dev, type, mp);
        vg_family_add(fre, fm->free, dev, type, mp);
        vg_family_add(avail, fm->avail, dev, type, mp);
        vg_family_add(files, fm->files, dev, type, mp);
        vg_family_add(ffree, fm->files_free, dev, type, mp);
        vg_family_add(ro, fm->ro ? 1 : 0, dev, type, mp);
    }
}

/* ---------- collector ---------- */

static const vg_opt_def fs_opts[] = {
    {FS_OPT_MP, VG_OPT_STRING, FS_MOUNT_POINTS_EXCLUDE_DEFAULT,
     "Regexp of mount points to exclude for filesystem collector (POSIX ERE, \\d allowed)",
     VG_OPT_F_RELOADABLE},
    {FS_OPT_TYPES, VG_OPT_STRING, FS_TYPES_EXCLUDE_DEFAULT,
     "Regexp of filesystem types to exclude for filesystem collector", VG_OPT_F_RELOADABLE},
    {FS_OPT_TIMEOUT, VG_OPT_DURATION, "5s",
     "How long to wait for one statfs before reporting the mount with device_error 1 and not "
     "retrying it until the call returns",
     VG_OPT_F_RELOADABLE},
    {FS_OPT_WORKERS, VG_OPT_INT, "4",
     "Threads that run statfs (the most a hung mount can ever hold)", 0},
};

/*
 * Collector state. Threads: only statfs_pool's workers (at most
 * stat-workers, see statfs_pool.c); everything here is touched by one
 * collecting thread at a time (the loop, then the collection thread when a
 * statfs run outlasted loop_until_ms).
 */
typedef struct fs_state {
    field_filter mp_filter;
    field_filter type_filter;
    int mi_fd;              /* mountinfo, kept open; -1 before the first scrape */
    bool mi_pollable;       /* procfs: POLLPRI says the mount table changed */
    vg_buf mi;              /* its last content */
    statfs_pool *pool;
    fs_mounts mounts;
    statfs_job *jobs;
    size_t jobs_cap;
    bool in_flight;         /* a statfs run was left going on the loop thread */
} fs_state;

static const char *opt_str(const agent_ctx *ctx, const char *name)
{
    return ctx->cfg ? vg_config_str(ctx->cfg, name) : NULL;
}

static int fs_filters_set(agent_ctx *ctx, fs_state *st)
{
    int rc = field_filter_set(&st->mp_filter, opt_str(ctx, FS_OPT_MP));
    if (rc) {
        vg_log_error(ctx->log, "filesystem", "invalid regexp", "option", FS_OPT_MP);
        return rc;
    }
    rc = field_filter_set(&st->type_filter, opt_str(ctx, FS_OPT_TYPES));
    if (rc)
        vg_log_error(ctx->log, "filesystem", "invalid regexp", "option", FS_OPT_TYPES);
    return rc;
}

static bool default_mp_match(const char *mp) { return proc_mountinfo_default_mp_excluded(mp); }
static bool default_type_match(const char *t) { return proc_mountinfo_default_type_excluded(t); }

static void fs_release(void *state)
{
    fs_state *st = state;
    if (!st)
        return;
    statfs_pool_free(st->pool);
    if (st->mi_fd >= 0)
        close(st->mi_fd);
    vg_buf_release(&st->mi);
    field_filter_release(&st->mp_filter);
    field_filter_release(&st->type_filter);
    fs_mounts_release(&st->mounts);
    free(st->jobs);
    free(st);
}

static int fs_init(agent_ctx *ctx, void **state)
{
    fs_state *st = calloc(1, sizeof *st);
    if (!st)
        return -ENOMEM;
    field_filter_init(&st->mp_filter, FS_MOUNT_POINTS_EXCLUDE_DEFAULT, default_mp_match);
    field_filter_init(&st->type_filter, FS_TYPES_EXCLUDE_DEFAULT, default_type_match);
    fs_mounts_init(&st->mounts);
    st->mi_fd = -1;
    vg_buf_init(&st->mi);
    int64_t workers = ctx->cfg ? vg_config_int(ctx->cfg, FS_OPT_WORKERS) : FS_DEFAULT_WORKERS;
    int rc = 0;
    if (workers < 1 || workers > 64) {
        vg_log_error(ctx->log, "filesystem", "stat-workers must be 1..64", "option",
                     FS_OPT_WORKERS);
        rc = -EINVAL;
        goto fail;
    }
    rc = fs_filters_set(ctx, st);
    if (rc)
        goto fail;
    rc = statfs_pool_new((unsigned)workers, &st->pool);
    if (rc)
        goto fail;
    *state = st;
    return 0;
fail:
    fs_release(st);
    return rc;
}

static uint64_t fs_timeout_ms(const agent_ctx *ctx)
{
    double secs = ctx->cfg ? vg_config_duration(ctx->cfg, FS_OPT_TIMEOUT) : FS_DEFAULT_TIMEOUT_S;
    if (!(secs > 0.001))
        secs = 0.001;
    if (secs > 3600)
        secs = 3600;
    return (uint64_t)(secs * 1000.0);
}

/*
 * Bring st->mi up to date. The mount table is read again only when it
 * changed: procfs marks an open mountinfo POLLPRI on every mount and
 * unmount, which saves regenerating it (the costliest part of a scrape on
 * a node with many mounts). Files that cannot say (fixture trees) are
 * read every time.
 */
static int fs_mountinfo(agent_ctx *ctx, fs_state *st)
{
    bool reread = true;
    if (st->mi_fd < 0) {
        static const char *const rels[2] = {"/1/mountinfo", "/self/mountinfo"}; /* hidepid */
        int rc = -ENOENT;
        for (int i = 0; i < 2 && st->mi_fd < 0; i++) {
            char path[4096];
            rc = agent_path(ctx, AGENT_ROOT_PROC, rels[i], path, sizeof path);
            if (rc)
                return rc;
            st->mi_fd = open(path, O_RDONLY | O_CLOEXEC);
            rc = st->mi_fd < 0 ? -errno : 0;
            if (rc && rc != -ENOENT && rc != -EACCES && rc != -EPERM)
                return rc;
        }
        if (st->mi_fd < 0)
            return rc;
        struct statfs sfs;
        st->mi_pollable = fstatfs(st->mi_fd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC;
    } else if (st->mi_pollable) {
        struct pollfd pfd = {st->mi_fd, POLLPRI, 0};
        reread = poll(&pfd, 1, 0) != 0 && (pfd.revents & (POLLPRI | POLLERR | POLLNVAL));
    }
    if (!reread && st->mi.len)
        return 0;
    int rc = sysfs_pread_all(st->mi_fd, &st->mi, 16u << 20);
    if (rc) {
        close(st->mi_fd); /* try afresh next time */
        st->mi_fd = -1;
        vg_buf_reset(&st->mi);
    }
    return rc;
}

/* Wait for the statfs run; on the loop no longer than ctx->loop_until_ms. */
static int fs_statfs(agent_ctx *ctx, fs_state *st, size_t n)
{
    uint64_t tmo = fs_timeout_ms(ctx);
    int rc = st->in_flight
                 ? statfs_pool_resume(st->pool, tmo, ctx->deadline_ms, ctx->loop_until_ms)
                 : statfs_pool_start(st->pool, st->jobs, n, tmo, ctx->deadline_ms,
                                     ctx->loop_until_ms);
    st->in_flight = rc == -EINPROGRESS;
    return rc;
}

/* statfs every mount in st->mounts (their jobs set up) and emit them. */
static int fs_finish(agent_ctx *ctx, fs_state *st, vg_scrape *s)
{
    fs_mounts *m = &st->mounts;
    if (fs_statfs(ctx, st, m->n) == -EINPROGRESS)
        return AGENT_COLLECT_MOVED;
    for (size_t i = 0; i < m->n; i++) {
        fs_mount *fm = &m->v[i];
        fm->rc = st->jobs[i].rc;
        if (fm->rc == 0) {
            fs_mount_set_statfs(fm, &st->jobs[i].st);
        } else if (fm->rc == -ETIMEDOUT) {
            vg_log_warn(ctx->log, "filesystem",
                        "statfs timed out; mount reported with device_error 1 until it answers",
                        "mountpoint", m->pool + fm->mountpoint, "path", st->jobs[i].path);
        } else {
            vg_log_debug(ctx->log, "filesystem", "statfs failed", "mountpoint",
                         m->pool + fm->mountpoint, "err", strerror(-fm->rc));
        }
    }
    fs_mounts_emit(m, s);
    return 0;
}

static int fs_collect(agent_ctx *ctx, void *state, vg_scrape *s)
{
    fs_state *st = state;
    if (st->in_flight)
        return fs_finish(ctx, st, s); /* again, on the collection thread */
    /* A reload may change the patterns; a bad one keeps the previous filter. */
    if (field_filter_set(&st->mp_filter, opt_str(ctx, FS_OPT_MP)) ||
        field_filter_set(&st->type_filter, opt_str(ctx, FS_OPT_TYPES)))
        agent_ctx_parse_error(ctx, "filesystem", "exclude pattern");
    int rc = fs_mountinfo(ctx, st);
    if (rc)
        return rc;
    unsigned skipped = 0;
    rc = proc_mountinfo_parse(ctx, st->mi.data ? st->mi.data : "", st->mi.len, &st->mp_filter,
                              &st->type_filter, &st->mounts, &skipped);
    for (unsigned i = 0; i < skipped; i++)
        agent_ctx_parse_error(ctx, "filesystem", "mountinfo line");
    if (rc < 0)
        return rc;
    fs_mounts *m = &st->mounts;
    if (m->n > st->jobs_cap) {
        statfs_job *nj = realloc(st->jobs, m->n * sizeof *nj);
        if (!nj)
            return -ENOMEM;
        st->jobs = nj;
        st->jobs_cap = m->n;
    }
    for (size_t i = 0; i < m->n; i++)
        st->jobs[i].path = m->pool + m->v[i].target;
    return fs_finish(ctx, st, s);
}

void proc_mountinfo_set_statfs_fn(void *state, statfs_pool_fn fn, void *ud)
{
    fs_state *st = state;
    statfs_pool_set_fn(st->pool, fn, ud);
}

void proc_mountinfo_pool_stats(void *state, statfs_pool_stats *out)
{
    fs_state *st = state;
    statfs_pool_stats_get(st->pool, out);
}

const agent_collector agent_collector_filesystem = {
    .name = "filesystem",
    .default_enabled = true,
    .help = "Filesystem size and usage per mount (statfs on a bounded, timed worker pool)",
    .opts = fs_opts,
    .nopts = sizeof fs_opts / sizeof fs_opts[0],
    .init = fs_init,
    .collect = fs_collect,
    .release = fs_release,
    .loop_safe = true,
};
