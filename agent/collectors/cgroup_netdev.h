/*
 * cgroup_netdev.h - parse a pod's /proc/<pid>/net/dev for the pod
 * collector's container_network_* families.
 *
 * The file is per network namespace, so one process of the pod gives the
 * whole pod's interfaces. Interfaces cAdvisor ignores (names starting with
 * "lo", "veth", "docker" or "nerdctl", any case) are not returned.
 */
#ifndef AGENT_CGROUP_NETDEV_H
#define AGENT_CGROUP_NETDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cgroup_netdev {
    char name[16];              /* IFNAMSIZ */
    uint64_t rx_bytes, rx_packets, rx_errors, rx_dropped;
    uint64_t tx_bytes, tx_packets, tx_errors, tx_dropped;
} cgroup_netdev;

/* True for interfaces cAdvisor leaves out of container network stats. */
bool cgroup_netdev_ignored(const char *name);

/*
 * Parse net/dev text (two header lines, then "name: 16 counters").
 * Stores up to max interfaces in devs, *n = number stored. Returns 0,
 * -EINVAL when a line is malformed (skipped; the others are stored), or
 * -E2BIG when interfaces were dropped for lack of room.
 */
int cgroup_netdev_parse(const char *buf, size_t len, cgroup_netdev *devs, size_t max,
                        size_t *n);

#endif
