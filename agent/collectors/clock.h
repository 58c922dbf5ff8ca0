/*
 * clock.h - the `time` collector: node_time_seconds (wall clock),
 * node_time_zone_offset_seconds{time_zone} (the agent's local zone, as
 * node_exporter reports its own), and node_time_clocksource_available_info /
 * node_time_clocksource_current_info{clocksource,device} from
 * <sysfs>/devices/system/clocksource/clocksource<N>/, device being the
 * index of the clocksource directory in name order (as node_exporter).
 * Named clock.c because time.h is the C library's.
 */
#ifndef CLOCK_H
#define CLOCK_H

#include <stddef.h>
#include <time.h>

#include "agent_collector.h"

/*
 * Add node_time_seconds for now and node_time_zone_offset_seconds for the
 * zone localtime_r() gives for now (TZ / /etc/localtime of this process).
 * Returns 0 or -EINVAL (localtime failed; node_time_seconds still added).
 */
int clock_emit_time(const struct timespec *now, vg_scrape *s);

/*
 * Parse an available_clocksource buffer ("tsc hpet acpi_pm \n") into
 * node_time_clocksource_available_info{clocksource,device}. Returns the
 * number of clocksources added, or -EINVAL when a name is not printable
 * ASCII (nothing added).
 */
int clock_parse_available(const char *buf, size_t len, const char *device, vg_scrape *s);

/* Parse current_clocksource ("tsc\n"): 1, or -EINVAL (empty or not one word). */
int clock_parse_current(const char *buf, size_t len, const char *device, vg_scrape *s);

extern const agent_collector agent_collector_time;

#endif
