/*
 * cgroup_parse.h - parsers for the cgroup v1 and v2 statistic files the pod
 * collector reads (cpu.stat, memory.stat, memory.events, io.stat, blkio,
 * pressure, cpu.max, single-value files, cgroup.procs).
 *
 * Every parser works on a (buffer, length) the caller owns and never
 * modifies, needs no NUL terminator and allocates nothing. A parser either
 * returns 0 with its outputs filled, or a negative errno (-EINVAL for
 * malformed text, -ERANGE for out-of-range numbers) leaving the outputs it
 * documents as "on success only" untouched. Keyed parsers fill what they
 * found even when another line is malformed, so one garbled line costs one
 * value, not the file; they report the damage through their return code.
 */
#ifndef AGENT_CGROUP_PARSE_H
#define AGENT_CGROUP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * "key value" files (cpu.stat, memory.stat, memory.events, cpuacct.stat,
 * v1 cpu.stat, memory.oom_control). For each of the nkeys keys found,
 * vals[i] is set and bit i of *found is set (nkeys <= 32; *found is
 * cleared first). Unknown keys are ignored. Returns 0, or -EINVAL when a
 * line is malformed or a wanted key's value is not an unsigned number
 * (the other keys are still filled).
 */
int cgroup_parse_keyed(const char *buf, size_t len, const char *const *keys, size_t nkeys,
                       uint64_t *vals, uint32_t *found);

/*
 * A single unsigned value ("123\n"), or "max" when allow_max: *is_max is
 * set and *out is UINT64_MAX. Success only: outputs untouched on error.
 * is_max may be NULL when allow_max is false.
 */
int cgroup_parse_u64(const char *buf, size_t len, bool allow_max, uint64_t *out, bool *is_max);

/* A single signed value ("-1\n", v1 cpu.cfs_quota_us). Success only. */
int cgroup_parse_i64(const char *buf, size_t len, int64_t *out);

/*
 * v2 cpu.max: "<quota|max> <period>". *quota is -1 for "max".
 * Success only.
 */
int cgroup_parse_cpu_max(const char *buf, size_t len, int64_t *quota, uint64_t *period);

/* Pressure stall totals (microseconds) from a *.pressure file. */
typedef struct cgroup_psi {
    bool has_some, has_full;
    uint64_t some_total_us;
    uint64_t full_total_us;
} cgroup_psi;

/*
 * "some avg10=.. avg60=.. avg300=.. total=N" and optional "full ..." lines.
 * Fills out (cleared first) with the lines found. -EINVAL if a line is
 * malformed (well-formed lines are still filled).
 */
int cgroup_parse_pressure(const char *buf, size_t len, cgroup_psi *out);

/* Per-device block I/O byte counters. */
typedef struct cgroup_io_dev {
    uint32_t major, minor;
    uint64_t read_bytes;
    uint64_t write_bytes;
} cgroup_io_dev;

/*
 * v2 io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N".
 * Up to max devices into devs; *n is set to the number stored. Devices
 * beyond max are dropped and reported with -E2BIG (devs/n still valid);
 * malformed lines give -EINVAL (the good ones are still stored).
 */
int cgroup_parse_io_stat(const char *buf, size_t len, cgroup_io_dev *devs, size_t max,
                         size_t *n);

/*
 * v1 blkio.throttle.io_service_bytes[_recursive]: "MAJ:MIN Read N" /
 * "MAJ:MIN Write N" (Sync, Async, Discard, Total lines and the final
 * "Total N" are ignored). Same contract as cgroup_parse_io_stat.
 */
int cgroup_parse_blkio(const char *buf, size_t len, cgroup_io_dev *devs, size_t max,
                       size_t *n);

/*
 * cgroup.procs / tasks: one pid per line. *count is the number of pids,
 * *first the first one (0 when empty). -EINVAL on a line that is not a
 * pid (count/first untouched).
 */
int cgroup_parse_procs(const char *buf, size_t len, uint64_t *count, uint64_t *first);

/*
 * v2 cpu.weight (1..10000) to the v1 cpu.shares value cAdvisor reports
 * (2..262144), the inverse of the conversion kubelet/runc apply.
 */
uint64_t cgroup_cpu_weight_to_shares(uint64_t weight);

#endif
