/*
 * proc_net_sockstat.h - the `sockstat` collector: /proc/net/sockstat and
 * /proc/net/sockstat6 as node_sockstat_<PROTO>_<key> gauges (inuse,
 * orphan, tw, alloc, mem, memory; mem also as mem_bytes = pages x page
 * size) and node_sockstat_sockets_used, named as node_exporter names them.
 *
 * As in node_exporter, <PROTO>_inuse is reported for every protocol line
 * (0 when the line lacks it); the other keys only when present.
 */
#ifndef PROC_NET_SOCKSTAT_H
#define PROC_NET_SOCKSTAT_H

#include <stdbool.h>
#include <stddef.h>

#include "agent_collector.h"

/*
 * Parse a sockstat (ipv6 false) or sockstat6 (ipv6 true) buffer; "sockets:
 * used N" is only read from the IPv4 file. page_size converts mem to
 * mem_bytes. A line with an odd number of key/value fields or a bad number
 * is skipped whole and counted. Returns the number of lines used, or
 * -EINVAL when none was usable.
 */
int proc_net_sockstat_parse(const char *buf, size_t len, bool ipv6, long page_size,
                            vg_scrape *s, unsigned *skipped);

extern const agent_collector agent_collector_sockstat;

#endif
