/*
 * proc_vmstat.h - the `vmstat` collector: node_vmstat_<field> (untyped)
 * for the /proc/vmstat fields --collector.vmstat.fields selects
 * (node_exporter's default ^(oom_kill|pgpg|pswp|pg.*fault).*).
 */
#ifndef PROC_VMSTAT_H
#define PROC_VMSTAT_H

#include <stdbool.h>
#include <stddef.h>

#include "agent_collector.h"
#include "field_filter.h"

/* node_exporter 1.5's default --collector.vmstat.fields. */
#define PROC_VMSTAT_FIELDS_DEFAULT "^(oom_kill|pgpg|pswp|pg.*fault).*"

/* The hand-written equivalent of PROC_VMSTAT_FIELDS_DEFAULT. */
bool proc_vmstat_default_match(const char *field);

/*
 * Parse a /proc/vmstat buffer ("name value" lines); fields the filter
 * selects (NULL = default) are added. Malformed selected lines are skipped
 * and counted. Returns the number of fields added (0 is fine: a kernel may
 * lack them all), or -EINVAL when no line at all had the name/value shape.
 */
int proc_vmstat_parse(const char *buf, size_t len, const field_filter *filter, vg_scrape *s,
                      unsigned *skipped);

/*
 * A plan: the names /proc/vmstat lists and which of them a filter selects,
 * kept between scrapes so a scrape only compares the names and takes the
 * selected values. proc_vmstat_parse_planned gives exactly what
 * proc_vmstat_parse gives; a buffer or filter the plan does not fit is
 * parsed the full way and a new plan made. plan NULL: the plain parse.
 */
typedef struct proc_vmstat_plan proc_vmstat_plan;
proc_vmstat_plan *proc_vmstat_plan_new(void);   /* NULL: no memory */
void proc_vmstat_plan_free(proc_vmstat_plan *p);
int proc_vmstat_parse_planned(proc_vmstat_plan *plan, const char *buf, size_t len,
                              const field_filter *filter, vg_scrape *s, unsigned *skipped);

extern const agent_collector agent_collector_vmstat;

#endif
