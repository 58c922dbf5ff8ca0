/*
 * vg_procself.c - process_* self metrics (the names Prometheus client
 * libraries use) and vigil_build_info, read from /proc/self at scrape time.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <unistd.h>

#include "vg_procself.h"
#include "vg_buf.h"
#include "vg_parse.h"

#ifndef VG_VERSION
#define VG_VERSION "dev"
#endif
#ifndef VG_REVISION
#define VG_REVISION "unknown"
#endif

/*
 * Open descriptors. Since Linux 6.2 stat() of /proc/<pid>/fd reports the
 * count as st_size: one syscall instead of listing the directory (which
 * costs hundreds of microseconds with thousands of kept-open files).
 * Older kernels report 0 there; then the directory is listed.
 */
static int count_fds(vg_procself *ps)
{
    char path[300];
    snprintf(path, sizeof path, "%s/self/fd", ps->procfs);
    struct stat st;
    if (ps->fd_count_mode == 0) {
        /* only a real procfs counts in st_size (not a fixture directory) */
        struct statfs sf;
        ps->fd_count_mode = ps->fddir_fd >= 0 && fstatfs(ps->fddir_fd, &sf) == 0 &&
                                    sf.f_type == PROC_SUPER_MAGIC &&
                                    fstat(ps->fddir_fd, &st) == 0 && st.st_size > 0
                                ? 1
                                : 2;
    }
    if (ps->fd_count_mode == 1 && fstat(ps->fddir_fd, &st) == 0 && st.st_size > 0)
        return (int)st.st_size;
    DIR *d = opendir(path);
    if (!d)
        return -errno;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory stream's own fd */
}

/* <procfs>/self/stat into buf (NUL-terminated): the kept descriptor, else
 * by path. Returns the length or -errno. */
static ssize_t read_self_stat(const vg_procself *ps, char *buf, size_t cap)
{
    ssize_t n;
    if (ps->stat_fd >= 0) {
        n = pread(ps->stat_fd, buf, cap - 1, 0);
    } else {
        char path[300];
        snprintf(path, sizeof path, "%s/self/stat", ps->procfs);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return -errno;
        n = read(fd, buf, cap - 1);
        close(fd);
    }
    if (n < 0)
        return -errno;
    buf[n] = '\0';
    return n;
}

/* boot time from /proc/stat btime, for start time */
static int boot_time(const char *procfs, vg_buf *b, double *out)
{
    char path[300];
    snprintf(path, sizeof path, "%s/stat", procfs);
    int rc = vg_buf_read_file(b, path, 1 << 22);
    if (rc)
        return rc;
    vg_lines it;
    vg_slice line;
    vg_lines_init(&it, b->data, b->len);
    while (vg_lines_next(&it, &line)) {
        vg_slice f[2];
        if (vg_fields(line, f, 2) == 2 && vg_slice_eq(f[0], "btime")) {
            uint64_t v;
            if (vg_parse_u64(f[1], &v) == 0) {
                *out = (double)v;
                return 0;
            }
        }
    }
    return -ENOENT;
}

/* utime, stime (clock ticks), starttime (ticks), vsize (bytes) and rss
 * (pages) from <procfs>/self/stat. 0 or -errno. */
static int parse_self_stat(const vg_procself *ps, uint64_t *ut, uint64_t *st, uint64_t *start,
                           uint64_t *vsize, uint64_t *rss)
{
    char sbuf[4096];
    ssize_t slen = read_self_stat(ps, sbuf, sizeof sbuf);
    if (slen <= 0)
        return slen < 0 ? (int)slen : -EINVAL;
    /* fields after the ")" closing comm: state is field 3 */
    char *rp = strrchr(sbuf, ')');
    if (!rp || rp + 2 > sbuf + slen)
        return -EINVAL;
    vg_slice rest = {rp + 2, (size_t)(sbuf + slen - (rp + 2))};
    vg_slice f[24];
    size_t n = vg_fields(rest, f, 24);
    /* rest[0] is field 3 (state): utime=14, stime=15, starttime=22, vsize=23, rss=24 */
    if (n >= 22 && !vg_parse_u64(f[11], ut) && !vg_parse_u64(f[12], st) &&
        !vg_parse_u64(f[19], start) && !vg_parse_u64(f[20], vsize) && !vg_parse_u64(f[21], rss))
        return 0;
    return -EINVAL;
}

/*
 * The same numbers without /proc/self/stat (the kernel formats ~50 fields
 * for it): CPU from getrusage, truncated to clock ticks as procfs does (both
 * come from the same adjusted times), memory from the kept statm (total_vm
 * and resident pages, what stat reports as vsize / PAGE_SIZE and rss).
 * Only on the real procfs, once the start time is known. 0 or -errno.
 */
static int fast_stat(vg_procself *ps, long page, long tick, uint64_t *ut, uint64_t *st,
                     uint64_t *vsize, uint64_t *rss)
{
    if (ps->statm_fd < 0 || !ps->have_starttime || tick <= 0 || tick > 1000000)
        return -ENOENT;
    char buf[256];
    ssize_t n = pread(ps->statm_fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return -EIO;
    buf[n] = '\0';
    vg_slice f[2];
    uint64_t size;
    if (vg_fields((vg_slice){buf, (size_t)n}, f, 2) != 2 || vg_parse_u64(f[0], &size) ||
        vg_parse_u64(f[1], rss))
        return -EINVAL;
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru))
        return -errno;
    uint64_t us_per_tick = 1000000u / (uint64_t)tick;
    *ut = ((uint64_t)ru.ru_utime.tv_sec * 1000000u + (uint64_t)ru.ru_utime.tv_usec) / us_per_tick;
    *st = ((uint64_t)ru.ru_stime.tv_sec * 1000000u + (uint64_t)ru.ru_stime.tv_usec) / us_per_tick;
    *vsize = size * (uint64_t)page;
    return 0;
}

static void collect(vg_scrape *s, void *ud)
{
    vg_procself *ps = ud;
    vg_buf b = VG_BUF_INIT;
    long tick = sysconf(_SC_CLK_TCK);
    long page = sysconf(_SC_PAGESIZE);

    vg_family *bi = vg_scrape_family(s, "vigil_build_info", VG_MT_GAUGE,
                                     "Version and revision Vigil was built from; always 1.", 2,
                                     (const char *[]){"version", "revision"});
    vg_family_add(bi, 1, VG_VERSION, VG_REVISION);

    uint64_t ut, st, start = ps->starttime, vsize, rss;
    int rc = fast_stat(ps, page, tick, &ut, &st, &vsize, &rss);
    if (rc)
        rc = parse_self_stat(ps, &ut, &st, &start, &vsize, &rss);
    if (rc == 0) {
        vg_scrape_add1(s, "process_cpu_seconds_total", VG_MT_COUNTER,
                       "Total user and system CPU time spent in seconds.",
                       (double)(ut + st) / (double)tick);
        vg_scrape_add1(s, "process_virtual_memory_bytes", VG_MT_GAUGE,
                       "Virtual memory size in bytes.", (double)vsize);
        vg_scrape_add1(s, "process_resident_memory_bytes", VG_MT_GAUGE,
                       "Resident memory size in bytes.", (double)rss * (double)page);
        /* btime never changes: read the (costly) /proc/stat once */
        if (!ps->have_btime && boot_time(ps->procfs, &b, &ps->btime) == 0)
            ps->have_btime = 1;
        if (ps->have_btime)
            vg_scrape_add1(s, "process_start_time_seconds", VG_MT_GAUGE,
                           "Start time of the process since unix epoch in seconds.",
                           ps->btime + (double)start / (double)tick);
    }
    int fds = count_fds(ps);
    if (fds >= 0)
        vg_scrape_add1(s, "process_open_fds", VG_MT_GAUGE, "Number of open file descriptors.",
                       fds);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        vg_scrape_add1(s, "process_max_fds", VG_MT_GAUGE,
                       "Maximum number of open file descriptors.",
                       rl.rlim_cur == RLIM_INFINITY ? -1 : (double)rl.rlim_cur);
    vg_buf_release(&b);
}

int vg_procself_register(vg_registry *reg, vg_procself *ps, const char *procfs)
{
    snprintf(ps->procfs, sizeof ps->procfs, "%s", procfs);
    ps->btime = 0;
    ps->have_btime = 0;
    ps->fd_count_mode = 0;
    char path[300];
    snprintf(path, sizeof path, "%s/self/stat", ps->procfs);
    ps->stat_fd = open(path, O_RDONLY | O_CLOEXEC);
    snprintf(path, sizeof path, "%s/self/fd", ps->procfs);
    ps->fddir_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    /* getrusage and statm describe this process: only on the real procfs */
    ps->statm_fd = -1;
    ps->have_starttime = 0;
    struct statfs sf;
    uint64_t ut, st, vsize, rss;
    if (ps->stat_fd >= 0 && fstatfs(ps->stat_fd, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC &&
        parse_self_stat(ps, &ut, &st, &ps->starttime, &vsize, &rss) == 0) {
        snprintf(path, sizeof path, "%s/self/statm", ps->procfs);
        ps->statm_fd = open(path, O_RDONLY | O_CLOEXEC);
        ps->have_starttime = 1;
    }
    return vg_registry_add_collector(reg, collect, ps);
}

void vg_procself_release(vg_procself *ps)
{
    if (ps->stat_fd >= 0)
        close(ps->stat_fd);
    if (ps->fddir_fd >= 0)
        close(ps->fddir_fd);
    if (ps->statm_fd >= 0)
        close(ps->statm_fd);
    ps->stat_fd = ps->fddir_fd = ps->statm_fd = -1;
}
