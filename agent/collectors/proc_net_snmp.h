/*
 * proc_net_snmp.h - the `netstat` collector: /proc/net/netstat,
 * /proc/net/snmp and /proc/net/snmp6 as node_netstat_<Proto>_<Field>
 * (untyped), for the fields --collector.netstat.fields selects
 * (node_exporter 1.5's default pattern, PROC_NET_SNMP_FIELDS_DEFAULT).
 *
 * netstat and snmp hold "Proto: Name1 Name2..." / "Proto: v1 v2..." line
 * pairs; snmp6 holds "Ip6InReceives   123" lines, split at the first '6'
 * (Ip6_InReceives, Icmp6_InMsgs, UdpLite6_InErrors). netstat and snmp are
 * required (the collector fails without either, as node_exporter's does;
 * without netstat, read first, it adds nothing); snmp6 is absent when IPv6
 * is disabled and is then skipped.
 *
 * The filter runs before a value is parsed, so fields it drops are not
 * checked: a garbled value in a dropped field goes unnoticed.
 */
#ifndef PROC_NET_SNMP_H
#define PROC_NET_SNMP_H

#include <stdbool.h>
#include <stddef.h>

#include "agent_collector.h"
#include "field_filter.h"

/* node_exporter 1.5's default --collector.netstat.fields. */
#define PROC_NET_SNMP_FIELDS_DEFAULT                                                     \
    "^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|" \
    "OutMsgs)|TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts)|Tcp_(ActiveOpens|" \
    "InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|CurrEstab)|Udp6?_(InDatagrams|"      \
    "OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$"

/* The hand-written equivalent of PROC_NET_SNMP_FIELDS_DEFAULT on "Proto_Field". */
bool proc_net_snmp_default_match(const char *key);

/*
 * Parse a /proc/net/netstat or /proc/net/snmp buffer (header/value line
 * pairs). A pair whose protocol or field count differ, or a header line
 * without its value line, is skipped whole and counted; so is a selected
 * field whose value is not an integer. filter NULL = default. Returns the
 * number of series added, or -EINVAL when no line pair was usable.
 */
int proc_net_snmp_parse_pairs(const char *buf, size_t len, const field_filter *filter,
                              vg_scrape *s, unsigned *skipped);

/*
 * Parse a /proc/net/snmp6 buffer ("Name value" lines). Lines whose name has
 * no '6' are ignored (as node_exporter does); lines without exactly two
 * fields, and selected fields with a bad value, are counted. Returns the
 * number of series added, or -EINVAL when no line was usable.
 */
int proc_net_snmp_parse_snmp6(const char *buf, size_t len, const field_filter *filter,
                              vg_scrape *s, unsigned *skipped);

/*
 * A plan: what one file's layout (its header lines, or snmp6's names) and
 * a filter select, kept between scrapes so a scrape only checks the layout
 * and takes the selected values. The _planned parses give exactly what the
 * plain ones give; a buffer or filter the plan does not fit is parsed the
 * plain way and a new plan made. plan NULL: the plain parse.
 */
typedef struct proc_net_snmp_plan proc_net_snmp_plan;
proc_net_snmp_plan *proc_net_snmp_plan_new(void);   /* NULL: no memory */
void proc_net_snmp_plan_free(proc_net_snmp_plan *p);
int proc_net_snmp_parse_pairs_planned(proc_net_snmp_plan *plan, const char *buf, size_t len,
                                      const field_filter *filter, vg_scrape *s,
                                      unsigned *skipped);
int proc_net_snmp_parse_snmp6_planned(proc_net_snmp_plan *plan, const char *buf, size_t len,
                                      const field_filter *filter, vg_scrape *s,
                                      unsigned *skipped);

extern const agent_collector agent_collector_netstat;

#endif
