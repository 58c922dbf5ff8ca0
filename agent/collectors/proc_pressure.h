/*
 * proc_pressure.h - the `pressure` collector: pressure stall information
 * (PSI) totals from /proc/pressure/{cpu,io,memory,irq}.
 *
 *   cpu    some -> node_pressure_cpu_waiting_seconds_total
 *   io     some -> node_pressure_io_waiting_seconds_total
 *          full -> node_pressure_io_stalled_seconds_total
 *   memory some -> node_pressure_memory_waiting_seconds_total
 *          full -> node_pressure_memory_stalled_seconds_total
 *   irq    full -> node_pressure_irq_stalled_seconds_total (newer kernels
 *                  with CONFIG_IRQ_TIME_ACCOUNTING; optional)
 *
 * The cpu "full" line (kernels >= 5.13) is not reported, as in
 * node_exporter 1.5. A kernel without PSI has no /proc/pressure: the
 * collector fails with -ENOENT and adds nothing.
 */
#ifndef PROC_PRESSURE_H
#define PROC_PRESSURE_H

#include <stddef.h>

#include "agent_collector.h"

typedef enum {
    PROC_PRESSURE_CPU = 0,
    PROC_PRESSURE_IO,
    PROC_PRESSURE_MEMORY,
    PROC_PRESSURE_IRQ,
} proc_pressure_resource;

/*
 * Parse one /proc/pressure/<resource> buffer
 * ("some avg10=0.04 avg60=0.06 avg300=0.08 total=6627432" lines; total is
 * in microseconds). Returns the number of series added, or -EINVAL when no
 * line had a usable total (malformed lines are counted in *skipped).
 */
int proc_pressure_parse(const char *buf, size_t len, proc_pressure_resource res, vg_scrape *s,
                        unsigned *skipped);

extern const agent_collector agent_collector_pressure;

#endif
