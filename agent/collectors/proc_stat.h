/*
 * proc_stat.h - the `cpu` and `stat` collectors, both fed by /proc/stat.
 *
 * cpu:  node_cpu_seconds_total{cpu,mode}, node_cpu_guest_seconds_total{cpu,mode}
 *       (from the cpuN lines, USER_HZ ticks turned into seconds),
 *       node_cpu_isolated{cpu} (/sys/devices/system/cpu/isolated, read on the
 *       first scrape: isolcpus= is a boot parameter) and
 *       node_cpu_core_throttles_total{core,package} /
 *       node_cpu_package_throttles_total{package} (thermal_throttle in sysfs;
 *       when the first scrape finds no driver, later scrapes skip the scan),
 *       as node_exporter 1.5 emits them by default.
 * stat: node_boot_time_seconds, node_context_switches_total, node_forks_total,
 *       node_intr_total, node_procs_running, node_procs_blocked.
 *
 * The kernel's per-CPU counters can step backwards (iowait notably, and
 * CPU hotplug resets them). Like node_exporter, the cpu collector keeps the
 * last value it reported per CPU and mode and never reports a smaller one;
 * an idle drop of 3 s or more is taken as a hotplug and resets that CPU.
 *
 * The parsers work on a buffer that is never modified; malformed lines are
 * skipped and counted in *skipped (callers add to it, never reset it).
 */
#ifndef PROC_STAT_H
#define PROC_STAT_H

#include <stddef.h>

#include "agent_collector.h"

/* Per-CPU last-reported values (heap). NULL-safe free. */
typedef struct proc_cpu_state proc_cpu_state;

int proc_cpu_state_new(proc_cpu_state **out);   /* 0 or -ENOMEM */
void proc_cpu_state_free(proc_cpu_state *st);

/*
 * Parse the cpuN lines of a /proc/stat buffer into node_cpu_seconds_total
 * and node_cpu_guest_seconds_total. user_hz is the tick rate (USER_HZ, 100
 * on every mainstream architecture). st, when not NULL, applies the
 * never-backwards rule above (it may grow: -ENOMEM leaves it valid).
 * Returns the number of CPUs reported (>= 0), or -EINVAL when the buffer
 * holds no usable cpuN line (nothing added).
 */
int proc_stat_parse_cpu(const char *buf, size_t len, double user_hz,
                        proc_cpu_state *st, vg_scrape *s, unsigned *skipped);

/*
 * Parse the btime/ctxt/processes/intr/procs_* lines into the stat
 * families. Returns the number of families added, or -EINVAL when none of
 * those lines was usable.
 */
int proc_stat_parse_stat(const char *buf, size_t len, vg_scrape *s,
                         unsigned *skipped);

/*
 * Parse a kernel CPU list ("0-3,8,10-11\n", empty = none) from
 * /sys/devices/system/cpu/isolated into node_cpu_isolated{cpu} = 1.
 * Ranges wider than 8192 CPUs are rejected as malformed. Returns the number
 * of CPUs added, or -EINVAL for a malformed list (nothing added).
 */
int proc_stat_parse_isolated(const char *buf, size_t len, vg_scrape *s);

extern const agent_collector agent_collector_cpu;
extern const agent_collector agent_collector_stat;

#endif
