/*
 * proc_meminfo.h - the `meminfo` collector: /proc/meminfo as
 * node_memory_<Field>[_bytes] gauges, named as node_exporter names them.
 *
 * The field name is kept as the kernel writes it, "(x)" becomes "_x"
 * (Active(anon) -> node_memory_Active_anon_bytes); a value with a unit
 * (always kB) is turned into bytes and gets the _bytes suffix, a value
 * without one (HugePages_Total) is reported as is.
 */
#ifndef PROC_MEMINFO_H
#define PROC_MEMINFO_H

#include <stddef.h>

#include "agent_collector.h"

/*
 * Parse a /proc/meminfo buffer into s. Malformed lines (no ':', a bad
 * number, an unknown unit, a name that cannot be a metric name, a last
 * line with no newline: cut short) are skipped and counted in *skipped. Returns the number of fields added, or
 * -EINVAL when none was usable.
 */
int proc_meminfo_parse(const char *buf, size_t len, vg_scrape *s, unsigned *skipped);

/*
 * A plan: the keys /proc/meminfo lists and their series names and help,
 * kept between scrapes so a scrape only checks the keys and parses the
 * values. proc_meminfo_parse_planned gives exactly what proc_meminfo_parse
 * gives; a buffer the plan does not fit is parsed the full way and a new
 * plan made. plan NULL: the plain parse.
 */
typedef struct proc_meminfo_plan proc_meminfo_plan;
proc_meminfo_plan *proc_meminfo_plan_new(void);   /* NULL: no memory */
void proc_meminfo_plan_free(proc_meminfo_plan *p);
int proc_meminfo_parse_planned(proc_meminfo_plan *plan, const char *buf, size_t len,
                               vg_scrape *s, unsigned *skipped);

extern const agent_collector agent_collector_meminfo;

#endif
