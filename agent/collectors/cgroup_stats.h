/*
 * cgroup_stats.h - read one cgroup's statistic files (v1 or v2) into a
 * plain struct, for the pod collector.
 *
 * The caller opens the directories (the pod's cgroup in each hierarchy) and
 * names the cgroup relative to them, so each file costs one openat with a
 * short path, one read into a caller-provided buffer, one close: no
 * allocation per file. Files a cgroup does not have (swap accounting off,
 * no PSI, controller not enabled) are remembered in a per-cgroup bitmask so
 * they are not retried every scrape; a missing *required* file is counted
 * once as "missing". A cgroup removed while it is read (normal: containers
 * come and go) is reported as -ENOENT and counted nowhere.
 */
#ifndef AGENT_CGROUP_STATS_H
#define AGENT_CGROUP_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgroup_mounts.h"
#include "cgroup_parse.h"

/* Bits of cgroup_stats.have: which fields were read. */
enum {
    CGS_CPU_USAGE = 0,
    CGS_CPU_USER,
    CGS_CPU_SYSTEM,
    CGS_CPU_PERIODS,
    CGS_CPU_THROTTLED,
    CGS_CPU_THROTTLED_TIME,
    CGS_MEM_USAGE,
    CGS_MEM_WORKING_SET,
    CGS_MEM_RSS,
    CGS_MEM_CACHE,
    CGS_MEM_SWAP,
    CGS_MEM_MAPPED,
    CGS_MEM_FAILCNT,
    CGS_MEM_MAX_USAGE,
    CGS_OOM_EVENTS,
    CGS_IO,
    CGS_PSI_CPU,
    CGS_PSI_MEMORY,
    CGS_PSI_IO,
    CGS_SPEC_CPU_QUOTA,
    CGS_SPEC_CPU_PERIOD,
    CGS_SPEC_CPU_SHARES,
    CGS_SPEC_MEM_LIMIT,
    CGS_PROCS,
    CGS_THREADS,
    CGS_NBITS,
};

#define CGS_HAS(st, bit) (((st)->have >> (bit)) & 1u)
#define CGROUP_STATS_MAX_IO 16

/* Spec values: kept by the caller between (rarer) spec reads. */
typedef struct cgroup_spec {
    uint32_t have;               /* CGS_SPEC_* bits, shifted like have */
    int64_t cpu_quota;           /* microseconds per period; only with the bit */
    uint64_t cpu_period;         /* microseconds */
    uint64_t cpu_shares;         /* v1 shares (v2 weight converted) */
    uint64_t mem_limit;          /* bytes; 0 = unlimited (cAdvisor) */
} cgroup_spec;

typedef struct cgroup_stats {
    uint64_t have;               /* 1 << CGS_* */
    double cpu_usage_s, cpu_user_s, cpu_system_s, cpu_throttled_s;
    uint64_t cpu_periods, cpu_throttled;
    uint64_t mem_usage, mem_working_set, mem_rss, mem_cache, mem_swap, mem_mapped;
    uint64_t mem_failcnt, mem_max_usage, oom_events;
    cgroup_psi psi[3];           /* cpu, memory, io */
    cgroup_spec spec;            /* only when CGROUP_READ_SPEC was asked */
    uint64_t procs, first_pid, threads;
    size_t nio;
    cgroup_io_dev io[CGROUP_STATS_MAX_IO];
} cgroup_stats;

/* Errors met while reading, by reason (bounded label set). */
typedef struct cgroup_errs {
    uint32_t missing;            /* a required file absent from a live cgroup */
    uint32_t parse;              /* a file that did not parse (its series skipped) */
    uint32_t io;                 /* open/read failed for another reason */
} cgroup_errs;

/* The directories a cgroup is read relative to. */
typedef struct cgroup_dirs {
    cgroup_mode mode;
    int v2;                      /* v2: the directory fd, else -1 */
    int v1[CGROUP_CTL_N];        /* v1: per controller, -1 when not available */
    int primary;                 /* v1: controller whose tree was walked */
} cgroup_dirs;

/* What to read. */
#define CGROUP_READ_STATS 0x1u   /* cpu, memory, io, pressure, processes */
#define CGROUP_READ_SPEC 0x2u    /* cpu quota/period/shares, memory limit */
#define CGROUP_READ_PROCS 0x4u   /* only cgroup.procs */
/*
 * v1 cpu.stat (CFS period and throttling counters): reported only for
 * cgroups with a CPU quota, so the caller asks for it only when the quota
 * is known or being read (v2's cpu.stat also carries the usage: always read).
 */
#define CGROUP_READ_CFS 0x8u

/* Read buffer: the caller's, reused for every file. */
typedef struct cgroup_readbuf {
    char *p;
    size_t cap;                  /* >= 4096 */
} cgroup_readbuf;

/* Files per cgroup version table (the larger of v1 and v2). */
#define CGROUP_STATS_NFILES 16

/*
 * What the reader remembers about one cgroup between scrapes; the caller
 * keeps one per cgroup, initialised with cgroup_files_init.
 *  - absent: bits of files known to be missing, not retried;
 *  - fd: files kept open and re-read with pread at offset 0 (the kernel
 *    regenerates a cgroup file on every read from 0), instead of
 *    openat+read+close each scrape: about 4x cheaper per file, at a cost of
 *    one descriptor and, on cgroupfs, ~4.5 KiB of kernel memory (the
 *    seq_file buffer) per kept file. Only as many as the reader's budget
 *    allows are kept. The array (CGROUP_STATS_NFILES entries, -1 when not
 *    kept) is allocated with the cgroup's first kept file: without a
 *    budget (the default) a cgroup costs 16 bytes here, not 68.
 */
typedef struct cgroup_files {
    uint32_t absent;
    int *fd;
} cgroup_files;

void cgroup_files_init(cgroup_files *f);
/* Close the kept files, giving their descriptors back to *budget; f stays usable. */
void cgroup_files_release(cgroup_files *f, size_t *budget);

/* The reader: caller's storage, shared by every cgroup of a scrape. */
typedef struct cgroup_reader {
    long clk_tck;                /* sysconf(_SC_CLK_TCK), for v1 cpuacct.stat */
    cgroup_readbuf buf;
    cgroup_errs errs;            /* incremented, never reset here */
    size_t fd_budget;            /* files that may still be kept open */
} cgroup_reader;

/*
 * Read the cgroup named rel (relative to the directories in d; "." for the
 * directories themselves) into st (cleared first), using and updating the
 * cgroup's files memory f.
 * Returns 0 (st filled with what could be read, r->errs incremented for
 * what could not), or -ENOENT when the cgroup no longer exists.
 */
int cgroup_stats_read(cgroup_reader *r, const cgroup_dirs *d, const char *rel, unsigned what,
                      cgroup_files *f, cgroup_stats *st);

/*
 * Modification time (seconds since the epoch) used as the container start
 * time, as cAdvisor does: the earlier of the cgroup directory's mtime and
 * that of a file in it the kernel does not touch afterwards (v2
 * cgroup.events, v1 cgroup.clone_children), since a directory's mtime
 * moves when children are created. fd is the dir fd to resolve rel from.
 * 0 or -errno.
 */
int cgroup_stats_start_time(int fd, const char *rel, cgroup_mode mode, double *out);

#endif
