/*
 * sys_class_net.h - the `netclass` collector (node_exporter compatible).
 *
 * Per interface in <sysfs>/class/net: node_network_info{address,broadcast,
 * device,duplex,ifalias,operstate} 1, node_network_up (operstate "up"), and
 * one gauge (or counter) per numeric attribute, as node_exporter 1.5 names
 * them: address_assign_type, carrier, carrier_changes_total,
 * carrier_up_changes_total, carrier_down_changes_total, device_id, dormant,
 * flags, iface_id, iface_link, iface_link_mode, mtu_bytes, name_assign_type,
 * net_dev_group, protocol_type, speed_bytes, transmit_queue_length. An
 * attribute the device does not have right now (carrier on a down link
 * answers EINVAL) is left out, as node_exporter does.
 *
 * collector.netclass.ignored-devices defaults to the CNI per-pod interfaces
 * (node_exporter's default, ^$, ignores nothing).
 *
 * Collection model (node_exporter reads every attribute on every scrape):
 * the attributes that move with the link state - operstate, carrier,
 * carrier_changes, dormant, flags - are read on every scrape; the others
 * (address, broadcast, duplex, ifalias, addr_assign_type, carrier_up/down
 * counts, dev_id, ifindex, iflink, link_mode, mtu, name_assign_type,
 * netdev_group, speed, tx_queue_len, type) are served from a per-interface
 * cache and read again when any of those five changes (a link or admin
 * up/down event: speed, duplex and the up/down counts move only then),
 * when the interface appears or its directory is another object than last
 * time (re-created or renamed), and in any case once the cache is
 * collector.netclass.attribute-max-age old (default 1m; 0 reads every
 * attribute on every scrape). So a value served is never older than that
 * age; only changes that come without a link event (an admin setting the
 * mtu, address, alias, group, queue length or link mode) wait for it.
 */
#ifndef SYS_CLASS_NET_H
#define SYS_CLASS_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent_collector.h"

#define NETCLASS_IGNORED_DEFAULT "^(veth|cali|flannel|cni|lxc|tunl|vxlan).*"
#define NETCLASS_MAX_AGE_DEFAULT "1m"

typedef enum {
    NC_ADDR_ASSIGN_TYPE = 0, NC_CARRIER, NC_CARRIER_CHANGES, NC_CARRIER_UP, NC_CARRIER_DOWN,
    NC_DEV_ID, NC_DORMANT, NC_FLAGS, NC_IFINDEX, NC_IFLINK, NC_LINK_MODE, NC_MTU,
    NC_NAME_ASSIGN_TYPE, NC_NETDEV_GROUP, NC_SPEED, NC_TX_QUEUE_LEN, NC_TYPE,
    NC_NUM
} netclass_num;

typedef enum { NC_ADDRESS = 0, NC_BROADCAST, NC_DUPLEX, NC_IFALIAS, NC_OPERSTATE, NC_NSTR } netclass_str;

/* What one interface's attribute files said. Caller's storage. */
typedef struct netclass_iface {
    char name[64];
    char str[NC_NSTR][260];      /* "" when absent */
    bool has[NC_NUM];
    int64_t v[NC_NUM];
} netclass_iface;

/* Attribute file names, indexed by netclass_num / netclass_str. */
extern const char *const netclass_num_files[NC_NUM];
extern const char *const netclass_str_files[NC_NSTR];

/*
 * Store one attribute file's content (raw, as read) into ifc. Strings are
 * trimmed of whitespace; numbers parsed like Go's ParseInt(s, 0, 64)
 * ("0x1003" flags). Returns 0, -ENOENT (not an attribute this collector
 * reads), -EINVAL (unparsable number) or -EFBIG (string too long); ifc is
 * unchanged on error.
 */
int sys_class_net_attr_parse(netclass_iface *ifc, const char *attr, const char *buf, size_t len);

/* Whether an attribute is read on every scrape (the rest are cached). */
bool sys_class_net_num_volatile(netclass_num i);
bool sys_class_net_str_volatile(netclass_str i);

/* The families, declared once per scrape (declaring costs a lookup each). */
typedef struct netclass_fams {
    vg_family *up, *info;
    vg_family *num[NC_NUM];
} netclass_fams;

void sys_class_net_declare(vg_scrape *s, netclass_fams *f);

/* Add ifc's samples. ignore_invalid_speed drops a negative speed. */
void sys_class_net_emit(const netclass_fams *f, const netclass_iface *ifc,
                        bool ignore_invalid_speed);

extern const agent_collector agent_collector_netclass;

#endif
