/*
 * proc_loadavg.h - the `loadavg` collector: node_load1, node_load5 and
 * node_load15 gauges from the first three fields of /proc/loadavg.
 */
#ifndef PROC_LOADAVG_H
#define PROC_LOADAVG_H

#include <stddef.h>

#include "agent_collector.h"

/*
 * Parse a /proc/loadavg buffer ("0.28 0.06 0.02 2/106 7702"). All three
 * averages must parse or nothing is added: returns 3, or -EINVAL.
 */
int proc_loadavg_parse(const char *buf, size_t len, vg_scrape *s);

extern const agent_collector agent_collector_loadavg;

#endif
