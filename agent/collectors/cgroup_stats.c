/*
 * cgroup_stats.c - read one cgroup's v1 or v2 files into cgroup_stats.
 *
 * A table per cgroup version names each file, the hierarchy it lives in,
 * whether the kernel always provides it (required) and what it feeds. The
 * table index is the bit in the per-cgroup "absent" mask, so a file the
 * cgroup does not have costs one failed openat in its lifetime, not one
 * per scrape.
 */
#include "cgroup_stats.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef enum {
    P_CPU_STAT2,
    P_MEM_CURRENT,
    P_MEM_STAT2,
    P_MEM_EVENTS,
    P_MEM_SWAP,
    P_MEM_PEAK,
    P_IO_STAT,
    P_PSI_CPU,
    P_PSI_MEM,
    P_PSI_IO,
    P_PROCS,
    P_PIDS,
    P_CPU_MAX,
    P_CPU_WEIGHT,
    P_MEM_MAX,
    /* v1 */
    P_CPUACCT_USAGE,
    P_CPUACCT_STAT,
    P_CPU_STAT1,
    P_MEM_USAGE1,
    P_MEM_STAT1,
    P_MEM_MAXUSAGE1,
    P_MEM_FAILCNT1,
    P_OOM_CONTROL,
    P_BLKIO_REC,
    P_BLKIO,
    P_CFS_QUOTA,
    P_CFS_PERIOD,
    P_CPU_SHARES,
    P_MEM_LIMIT1,
} parser_id;

typedef struct file_def {
    const char *name;
    int ctl;            /* v1 hierarchy (CGROUP_CTL_*), -1 = primary; v2 ignores */
    bool required;
    unsigned what;      /* CGROUP_READ_* that include this file */
    parser_id parser;
} file_def;

#define R_ST CGROUP_READ_STATS
#define R_SP CGROUP_READ_SPEC
#define R_PR CGROUP_READ_PROCS
#define R_CFS CGROUP_READ_CFS

static const file_def v2_files[] = {
    {"cpu.stat", 0, true, R_ST, P_CPU_STAT2},
    {"memory.current", 0, true, R_ST, P_MEM_CURRENT},
    {"memory.stat", 0, true, R_ST, P_MEM_STAT2},
    {"memory.events", 0, false, R_ST, P_MEM_EVENTS},
    {"memory.swap.current", 0, false, R_ST, P_MEM_SWAP},
    {"memory.peak", 0, false, R_ST, P_MEM_PEAK},
    {"io.stat", 0, false, R_ST, P_IO_STAT},
    {"cpu.pressure", 0, false, R_ST, P_PSI_CPU},
    {"memory.pressure", 0, false, R_ST, P_PSI_MEM},
    {"io.pressure", 0, false, R_ST, P_PSI_IO},
    {"cgroup.procs", 0, true, R_ST | R_PR, P_PROCS},
    {"pids.current", 0, false, R_ST, P_PIDS},
    {"cpu.max", 0, false, R_SP, P_CPU_MAX},
    {"cpu.weight", 0, false, R_SP, P_CPU_WEIGHT},
    {"memory.max", 0, false, R_SP, P_MEM_MAX},
};

static const file_def v1_files[] = {
    {"cpuacct.usage", CGROUP_CTL_CPUACCT, true, R_ST, P_CPUACCT_USAGE},
    {"cpuacct.stat", CGROUP_CTL_CPUACCT, false, R_ST, P_CPUACCT_STAT},
    {"cpu.stat", CGROUP_CTL_CPU, false, R_CFS, P_CPU_STAT1},
    {"memory.usage_in_bytes", CGROUP_CTL_MEMORY, true, R_ST, P_MEM_USAGE1},
    {"memory.stat", CGROUP_CTL_MEMORY, true, R_ST, P_MEM_STAT1},
    {"memory.max_usage_in_bytes", CGROUP_CTL_MEMORY, false, R_ST, P_MEM_MAXUSAGE1},
    {"memory.failcnt", CGROUP_CTL_MEMORY, false, R_ST, P_MEM_FAILCNT1},
    {"memory.oom_control", CGROUP_CTL_MEMORY, false, R_ST, P_OOM_CONTROL},
    {"blkio.throttle.io_service_bytes_recursive", CGROUP_CTL_BLKIO, false, R_ST, P_BLKIO_REC},
    {"blkio.throttle.io_service_bytes", CGROUP_CTL_BLKIO, false, R_ST, P_BLKIO},
    {"cgroup.procs", -1, true, R_ST | R_PR, P_PROCS},
    {"pids.current", CGROUP_CTL_PIDS, false, R_ST, P_PIDS},
    {"cpu.cfs_quota_us", CGROUP_CTL_CPU, false, R_SP, P_CFS_QUOTA},
    {"cpu.cfs_period_us", CGROUP_CTL_CPU, false, R_SP, P_CFS_PERIOD},
    {"cpu.shares", CGROUP_CTL_CPU, false, R_SP, P_CPU_SHARES},
    {"memory.limit_in_bytes", CGROUP_CTL_MEMORY, false, R_SP, P_MEM_LIMIT1},
};

_Static_assert(sizeof v2_files / sizeof v2_files[0] <= CGROUP_STATS_NFILES, "v2 table too long");
_Static_assert(sizeof v1_files / sizeof v1_files[0] <= CGROUP_STATS_NFILES, "v1 table too long");

/* Memory limits at or above this mean "unlimited" (cAdvisor reports 0). */
#define MEM_UNLIMITED (UINT64_C(1) << 62)

#define SET(st, bit) ((st)->have |= UINT64_C(1) << (bit))

/* Errors that mean the cgroup (or a parent) was removed. */
static bool gone_errno(int e)
{
    return e == ENOENT || e == ENODEV || e == ESTALE;
}

/* rel/name into out ("." names the directory itself): per file, so no printf. */
static int join(char *out, size_t outlen, const char *rel, const char *name)
{
    size_t nl = strlen(name), rl = 0;
    if (!(rel[0] == '.' && rel[1] == '\0')) {
        rl = strlen(rel);
        if (rl + 1 + nl >= outlen)
            return -ENAMETOOLONG;
        memcpy(out, rel, rl);
        out[rl++] = '/';
    } else if (nl >= outlen) {
        return -ENAMETOOLONG;
    }
    memcpy(out + rl, name, nl + 1);
    return 0;
}

/*
 * Read from fd at offset 0 into b. A short read is the end of the file:
 * true of regular files, and of the seq_file-backed cgroup, proc and sysfs
 * attribute files (seq_read fills the buffer until the records run out),
 * so one read(2) per file instead of two. Returns the length or -errno;
 * -EFBIG when the file does not fit.
 */
static long read_fd(int fd, bool cached, cgroup_readbuf *b)
{
    size_t len = 0;
    for (;;) {
        ssize_t r = cached ? pread(fd, b->p + len, b->cap - len, (off_t)len)
                           : read(fd, b->p + len, b->cap - len);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        len += (size_t)r;
        if (r == 0 || len < b->cap)
            return (long)len;
        char probe;
        r = cached ? pread(fd, &probe, 1, (off_t)len) : read(fd, &probe, 1);
        return r == 0 ? (long)len : r > 0 ? -EFBIG : -errno;
    }
}

/*
 * The open file for table entry i of the cgroup: the kept one, or a new
 * one (kept when the budget allows; *cached says it is kept, else the
 * caller closes it). -errno from openat.
 */
static int file_open(cgroup_reader *r, cgroup_files *f, size_t i, int dirfd, const char *rel,
                     const char *name, bool *cached)
{
    if (f->fd && f->fd[i] >= 0) {
        *cached = true;
        return f->fd[i];
    }
    char path[1024];
    int rc = join(path, sizeof path, rel, name);
    if (rc)
        return rc;
    int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -errno;
    *cached = false;
    if (r->fd_budget > 0 && !f->fd) {
        f->fd = malloc(CGROUP_STATS_NFILES * sizeof *f->fd);
        for (size_t k = 0; f->fd && k < CGROUP_STATS_NFILES; k++)
            f->fd[k] = -1;
    }
    if (r->fd_budget > 0 && f->fd) { /* else (no memory) read it once like the rest */
        r->fd_budget--;
        f->fd[i] = fd;
        *cached = true;
    }
    return fd;
}

/* Done with a file: close it unless it is kept; a failed kept one is dropped. */
static void file_done(cgroup_reader *r, cgroup_files *f, size_t i, int fd, bool cached, long n)
{
    if (!cached) {
        close(fd);
        return;
    }
    if (n < 0 && n != -EFBIG) {
        close(fd);
        f->fd[i] = -1;
        r->fd_budget++;
    }
}

void cgroup_files_init(cgroup_files *f)
{
    f->absent = 0;
    f->fd = NULL;
}

void cgroup_files_release(cgroup_files *f, size_t *budget)
{
    if (!f->fd)
        return;
    for (size_t i = 0; i < CGROUP_STATS_NFILES; i++) {
        if (f->fd[i] >= 0) {
            close(f->fd[i]);
            if (budget)
                (*budget)++;
        }
    }
    free(f->fd);
    f->fd = NULL;
}

/*
 * cgroup.procs can hold many thousands of pids: count them in chunks
 * without needing the whole file in memory.
 */
static int count_procs(int fd, bool cached, cgroup_readbuf *b, uint64_t *count, uint64_t *first)
{
    uint64_t c = 0, f = 0;
    size_t carry = 0; /* bytes of an unfinished line kept at the buffer start */
    off_t off = 0;
    int rc = 0;
    for (;;) {
        ssize_t r = cached ? pread(fd, b->p + carry, b->cap - carry, off)
                           : read(fd, b->p + carry, b->cap - carry);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            break;
        }
        off += r;
        size_t n = carry + (size_t)r;
        /* short read: end of file (see read_fd) */
        bool eof = r == 0 || n < b->cap;
        size_t done = 0;
        if (eof) {
            done = n; /* last line may lack its '\n' */
        } else {
            const char *nl = memrchr(b->p, '\n', n);
            if (!nl) {
                rc = -EINVAL; /* a "pid" longer than the buffer */
                break;
            }
            done = (size_t)(nl - b->p) + 1;
        }
        uint64_t cc, ff;
        if (done > 0) {
            rc = cgroup_parse_procs(b->p, done, &cc, &ff);
            if (rc)
                break;
            if (c == 0)
                f = ff;
            c += cc;
        }
        if (eof)
            break;
        carry = n - done;
        memmove(b->p, b->p + done, carry);
    }
    if (rc == 0) {
        *count = c;
        *first = f;
    }
    return rc;
}

static int v2_psi_index(parser_id p)
{
    return p == P_PSI_CPU ? 0 : p == P_PSI_MEM ? 1 : 2;
}

/* Parse one file's text into st. 0 or -EINVAL. */
static int parse_into(parser_id p, const char *t, size_t n, long clk_tck, cgroup_stats *st)
{
    uint64_t v[10];
    uint32_t found = 0;
    bool is_max = false;
    int rc;
    switch (p) {
    case P_CPU_STAT2: {
        static const char *const k[] = {"usage_usec", "user_usec", "system_usec",
                                        "nr_periods", "nr_throttled", "throttled_usec"};
        rc = cgroup_parse_keyed(t, n, k, 6, v, &found);
        static const int bits[] = {CGS_CPU_USAGE, CGS_CPU_USER, CGS_CPU_SYSTEM,
                                   CGS_CPU_PERIODS, CGS_CPU_THROTTLED, CGS_CPU_THROTTLED_TIME};
        if (found & 1u) st->cpu_usage_s = (double)v[0] / 1e6;
        if (found & 2u) st->cpu_user_s = (double)v[1] / 1e6;
        if (found & 4u) st->cpu_system_s = (double)v[2] / 1e6;
        if (found & 8u) st->cpu_periods = v[3];
        if (found & 16u) st->cpu_throttled = v[4];
        if (found & 32u) st->cpu_throttled_s = (double)v[5] / 1e6;
        for (int i = 0; i < 6; i++)
            if (found & (1u << i))
                SET(st, bits[i]);
        return rc;
    }
    case P_MEM_CURRENT:
    case P_MEM_USAGE1:
        if ((rc = cgroup_parse_u64(t, n, false, &v[0], NULL)))
            return rc;
        st->mem_usage = v[0];
        SET(st, CGS_MEM_USAGE);
        return 0;
    case P_MEM_STAT2: {
        static const char *const k[] = {"anon", "file", "file_mapped", "inactive_file"};
        rc = cgroup_parse_keyed(t, n, k, 4, v, &found);
        if (found & 1u) { st->mem_rss = v[0]; SET(st, CGS_MEM_RSS); }
        if (found & 2u) { st->mem_cache = v[1]; SET(st, CGS_MEM_CACHE); }
        if (found & 4u) { st->mem_mapped = v[2]; SET(st, CGS_MEM_MAPPED); }
        if (found & 8u) {
            /* inactive_file kept in working_set until usage is known */
            st->mem_working_set = v[3];
            SET(st, CGS_MEM_WORKING_SET);
        }
        return rc;
    }
    case P_MEM_STAT1: {
        /* Hierarchical total_* first; plain keys for kernels without them. */
        static const char *const k[] = {"total_rss", "total_cache", "total_mapped_file",
                                        "total_swap", "total_inactive_file", "rss", "cache",
                                        "mapped_file", "swap", "inactive_file"};
        rc = cgroup_parse_keyed(t, n, k, 10, v, &found);
        static const int bits[] = {CGS_MEM_RSS, CGS_MEM_CACHE, CGS_MEM_MAPPED, CGS_MEM_SWAP,
                                   CGS_MEM_WORKING_SET};
        uint64_t *dst[] = {&st->mem_rss, &st->mem_cache, &st->mem_mapped, &st->mem_swap,
                           &st->mem_working_set};
        for (int i = 0; i < 5; i++) {
            int src = (found & (1u << i)) ? i : (found & (1u << (i + 5))) ? i + 5 : -1;
            if (src < 0)
                continue;
            *dst[i] = v[src];
            SET(st, bits[i]);
        }
        return rc;
    }
    case P_MEM_EVENTS: {
        static const char *const k[] = {"max", "oom_kill"};
        rc = cgroup_parse_keyed(t, n, k, 2, v, &found);
        if (found & 1u) { st->mem_failcnt = v[0]; SET(st, CGS_MEM_FAILCNT); }
        if (found & 2u) { st->oom_events = v[1]; SET(st, CGS_OOM_EVENTS); }
        return rc;
    }
    case P_OOM_CONTROL: {
        static const char *const k[] = {"oom_kill"};
        rc = cgroup_parse_keyed(t, n, k, 1, v, &found);
        if (found & 1u) { st->oom_events = v[0]; SET(st, CGS_OOM_EVENTS); }
        return rc;
    }
    case P_MEM_SWAP:
        if ((rc = cgroup_parse_u64(t, n, false, &v[0], NULL)))
            return rc;
        st->mem_swap = v[0];
        SET(st, CGS_MEM_SWAP);
        return 0;
    case P_MEM_PEAK:
    case P_MEM_MAXUSAGE1:
        if ((rc = cgroup_parse_u64(t, n, false, &v[0], NULL)))
            return rc;
        st->mem_max_usage = v[0];
        SET(st, CGS_MEM_MAX_USAGE);
        return 0;
    case P_MEM_FAILCNT1:
        if ((rc = cgroup_parse_u64(t, n, false, &v[0], NULL)))
            return rc;
        st->mem_failcnt = v[0];
        SET(st, CGS_MEM_FAILCNT);
        return 0;
    case P_IO_STAT:
    case P_BLKIO_REC:
    case P_BLKIO:
        rc = p == P_IO_STAT ? cgroup_parse_io_stat(t, n, st->io, CGROUP_STATS_MAX_IO, &st->nio)
                            : cgroup_parse_blkio(t, n, st->io, CGROUP_STATS_MAX_IO, &st->nio);
        SET(st, CGS_IO);
        return rc == -E2BIG ? 0 : rc; /* more than 16 devices: keep the first 16 */
    case P_PSI_CPU:
    case P_PSI_MEM:
    case P_PSI_IO: {
        int i = v2_psi_index(p);
        rc = cgroup_parse_pressure(t, n, &st->psi[i]);
        if (st->psi[i].has_some || st->psi[i].has_full)
            SET(st, CGS_PSI_CPU + i);
        return rc;
    }
    case P_PROCS:
        return -EINVAL; /* streamed by count_procs */
    case P_PIDS:
        if ((rc = cgroup_parse_u64(t, n, false, &v[0], NULL)))
            return rc;
        st->threads = v[0];
        SET(st, CGS_THREADS);
        return 0;
    case P_CPU_MAX: {
        int64_t q;
        uint64_t per;
        if ((rc = cgroup_parse_cpu_max(t, n, &q, &per)))
            return rc;
        if (q >= 0) {
            st->spec.cpu_quota = q;
            st->spec.have |= 1u << (CGS_SPEC_CPU_QUOTA - CGS_SPEC_CPU_QUOTA);
        }
        st->spec.cpu_period = per;
        st->spec.have |= 1u << (CGS_SPEC_CPU_PERIOD - CGS_SPEC_CPU_QUOTA);
        return 0;
    }
    case P_CPU_WEIGHT:
        if ((rc = cgroup_parse_u64(t, n, false, &v[0], NULL)))
            return rc;
        if (v[0] < 1 || v[0] > 10000)
            return -ERANGE;
        st->spec.cpu_shares = cgroup_cpu_weight_to_shares(v[0]);
        st->spec.have |= 1u << (CGS_SPEC_CPU_SHARES - CGS_SPEC_CPU_QUOTA);
        return 0;
    case P_MEM_MAX:
    case P_MEM_LIMIT1:
        if ((rc = cgroup_parse_u64(t, n, p == P_MEM_MAX, &v[0], &is_max)))
            return rc;
        st->spec.mem_limit = is_max || v[0] >= MEM_UNLIMITED ? 0 : v[0];
        st->spec.have |= 1u << (CGS_SPEC_MEM_LIMIT - CGS_SPEC_CPU_QUOTA);
        return 0;
    case P_CPUACCT_USAGE:
        if ((rc = cgroup_parse_u64(t, n, false, &v[0], NULL)))
            return rc;
        st->cpu_usage_s = (double)v[0] / 1e9;
        SET(st, CGS_CPU_USAGE);
        return 0;
    case P_CPUACCT_STAT: {
        static const char *const k[] = {"user", "system"};
        rc = cgroup_parse_keyed(t, n, k, 2, v, &found);
        double hz = clk_tck > 0 ? (double)clk_tck : 100.0;
        if (found & 1u) { st->cpu_user_s = (double)v[0] / hz; SET(st, CGS_CPU_USER); }
        if (found & 2u) { st->cpu_system_s = (double)v[1] / hz; SET(st, CGS_CPU_SYSTEM); }
        return rc;
    }
    case P_CPU_STAT1: {
        static const char *const k[] = {"nr_periods", "nr_throttled", "throttled_time"};
        rc = cgroup_parse_keyed(t, n, k, 3, v, &found);
        if (found & 1u) { st->cpu_periods = v[0]; SET(st, CGS_CPU_PERIODS); }
        if (found & 2u) { st->cpu_throttled = v[1]; SET(st, CGS_CPU_THROTTLED); }
        if (found & 4u) { st->cpu_throttled_s = (double)v[2] / 1e9; SET(st, CGS_CPU_THROTTLED_TIME); }
        return rc;
    }
    case P_CFS_QUOTA: {
        int64_t q;
        if ((rc = cgroup_parse_i64(t, n, &q)))
            return rc;
        if (q > 0) {
            st->spec.cpu_quota = q;
            st->spec.have |= 1u << (CGS_SPEC_CPU_QUOTA - CGS_SPEC_CPU_QUOTA);
        }
        return 0;
    }
    case P_CFS_PERIOD:
        if ((rc = cgroup_parse_u64(t, n, false, &v[0], NULL)))
            return rc;
        st->spec.cpu_period = v[0];
        st->spec.have |= 1u << (CGS_SPEC_CPU_PERIOD - CGS_SPEC_CPU_QUOTA);
        return 0;
    case P_CPU_SHARES:
        if ((rc = cgroup_parse_u64(t, n, false, &v[0], NULL)))
            return rc;
        st->spec.cpu_shares = v[0];
        st->spec.have |= 1u << (CGS_SPEC_CPU_SHARES - CGS_SPEC_CPU_QUOTA);
        return 0;
    }
    return -EINVAL;
}

/* Is the cgroup rel (under dirfd) still there? cgroup.procs exists in every cgroup. */
static bool cgroup_alive(int dirfd, const char *rel)
{
    char path[1024];
    if (join(path, sizeof path, rel, "cgroup.procs"))
        return false;
    return faccessat(dirfd, path, F_OK, 0) == 0 || !gone_errno(errno);
}

int cgroup_stats_read(cgroup_reader *r, const cgroup_dirs *d, const char *rel, unsigned what,
                      cgroup_files *cf, cgroup_stats *st)
{
    memset(st, 0, sizeof *st);
    bool v2 = d->mode == CGROUP_MODE_V2;
    const file_def *files = v2 ? v2_files : v1_files;
    size_t nfiles = v2 ? sizeof v2_files / sizeof v2_files[0] : sizeof v1_files / sizeof v1_files[0];
    bool blkio_rec_ok = false;

    for (size_t i = 0; i < nfiles; i++) {
        const file_def *f = &files[i];
        if (!(f->what & what) || (cf->absent & (1u << i)))
            continue;
        if (f->parser == P_BLKIO && blkio_rec_ok)
            continue; /* the _recursive variant already answered */
        int dirfd = v2 ? d->v2 : d->v1[f->ctl < 0 ? d->primary : f->ctl];
        if (dirfd < 0) {
            cf->absent |= 1u << i; /* controller not mounted here */
            continue;
        }
        bool cached = false;
        long n = file_open(r, cf, i, dirfd, rel, f->name, &cached);
        int fd = (int)n;
        if (n >= 0) {
            if (f->parser == P_PROCS) {
                n = count_procs(fd, cached, &r->buf, &st->procs, &st->first_pid);
                if (n == 0)
                    SET(st, CGS_PROCS);
            } else {
                n = read_fd(fd, cached, &r->buf);
            }
            file_done(r, cf, i, fd, cached, n);
        }
        if (n < 0) {
            if (gone_errno((int)-n)) {
                if (!cgroup_alive(dirfd, rel))
                    return -ENOENT;
                if (n == -ENOENT) {
                    cf->absent |= 1u << i;
                    if (f->required)
                        r->errs.missing++;
                    continue;
                }
            }
            if (n == -EINVAL && f->parser == P_PROCS)
                r->errs.parse++;
            else
                r->errs.io++;
            continue;
        }
        if (f->parser == P_PROCS)
            continue;
        if (parse_into(f->parser, r->buf.p, (size_t)n, r->clk_tck, st))
            r->errs.parse++;
        if (f->parser == P_BLKIO_REC && CGS_HAS(st, CGS_IO))
            blkio_rec_ok = true;
    }

    /* Working set: usage minus inactive file pages, floored at 0. */
    if (CGS_HAS(st, CGS_MEM_WORKING_SET)) {
        if (CGS_HAS(st, CGS_MEM_USAGE)) {
            uint64_t inactive = st->mem_working_set;
            st->mem_working_set = st->mem_usage > inactive ? st->mem_usage - inactive : 0;
        } else {
            st->have &= ~(UINT64_C(1) << CGS_MEM_WORKING_SET);
        }
    }
    if (st->spec.have)
        st->have |= (uint64_t)st->spec.have << CGS_SPEC_CPU_QUOTA;
    return 0;
}

int cgroup_stats_start_time(int fd, const char *rel, cgroup_mode mode, double *out)
{
    struct stat sd, sf;
    if (fstatat(fd, rel, &sd, 0) < 0)
        return -errno;
    double t = (double)sd.st_mtim.tv_sec + (double)sd.st_mtim.tv_nsec / 1e9;
    char path[1024];
    const char *probe = mode == CGROUP_MODE_V2 ? "cgroup.events" : "cgroup.clone_children";
    if (join(path, sizeof path, rel, probe) == 0 && fstatat(fd, path, &sf, 0) == 0) {
        double tf = (double)sf.st_mtim.tv_sec + (double)sf.st_mtim.tv_nsec / 1e9;
        if (tf < t)
            t = tf;
    }
    *out = t;
    return 0;
}
