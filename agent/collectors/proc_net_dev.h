/*
 * proc_net_dev.h - the `netdev` collector (node_exporter compatible).
 *
 * node_network_{receive,transmit}_*_total{device} from <procfs>/net/dev
 * (the 16 columns, named as node_exporter names them), plus
 * node_network_receive_nohandler_total from
 * <sysfs>/class/net/<dev>/statistics/rx_nohandler where the kernel has it
 * (node_exporter 1.5 reads it over netlink).
 *
 * Devices matching collector.netdev.device-exclude are skipped. The default
 * drops node_exporter's "lo" and, unlike node_exporter, the per-pod
 * interfaces of CNI plugins (veth*, cali*, flannel*, cni*, lxc*, tunl*,
 * vxlan*), whose churn is a cardinality problem on Kubernetes nodes; pod
 * traffic is reported per pod by the pod collector instead.
 */
#ifndef PROC_NET_DEV_H
#define PROC_NET_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent_collector.h"
#include "field_filter.h"
#include "vg_parse.h"

#define NETDEV_EXCLUDE_DEFAULT "^(lo|(veth|cali|flannel|cni|lxc|tunl|vxlan).*)$"

/* Whether dev is a CNI per-pod interface: ^(veth|cali|flannel|cni|lxc|tunl|vxlan).* */
bool proc_net_dev_pod_iface(const char *dev);
/* Hand-written equivalent of NETDEV_EXCLUDE_DEFAULT. */
bool proc_net_dev_default_excluded(const char *dev);

#define NETDEV_NCOLS 16

typedef struct net_dev_line {
    vg_slice name;
    uint64_t v[NETDEV_NCOLS];
} net_dev_line;

/*
 * Parse one line. 0; -ENODATA for the two header lines; -EINVAL for
 * anything else that is not "name: 16 unsigned numbers".
 */
int proc_net_dev_parse_line(vg_slice line, net_dev_line *out);

/* rx_nohandler lookup: 0 and *out, or -errno (the family is then left out). */
typedef int (*net_dev_nohandler_fn)(void *ud, const char *dev, uint64_t *out);

/*
 * Parse a whole /proc/net/dev buffer into s. include (when not NULL)
 * selects devices, else exclude (NULL = the default) drops them; nohandler
 * may be NULL. Malformed lines are skipped and counted. Returns the number
 * of devices reported, or -EINVAL when the buffer has no well-formed line.
 */
int proc_net_dev_parse(const char *buf, size_t len, const field_filter *include,
                       const field_filter *exclude, net_dev_nohandler_fn nohandler, void *ud,
                       vg_scrape *s, unsigned *skipped);

extern const agent_collector agent_collector_netdev;

#endif
