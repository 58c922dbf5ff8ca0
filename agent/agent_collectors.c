/*
 * agent_collectors.c - the const table of every collector the agent has.
 *
 * Order here is the order collectors run in. Each entry is defined in the
 * collectors/ file named after the kernel source it reads.
 */
#include "agent_collector.h"

/* node metrics (node_exporter compatible) */
#include "collectors/clock.h"
#include "collectors/os_release.h"
#include "collectors/proc_loadavg.h"
#include "collectors/proc_meminfo.h"
#include "collectors/proc_net_snmp.h"
#include "collectors/proc_net_sockstat.h"
#include "collectors/proc_pressure.h"
#include "collectors/proc_stat.h"
#include "collectors/proc_sys_fs_file_nr.h"
#include "collectors/proc_sys_kernel.h"
#include "collectors/proc_sys_kernel_random.h"
#include "collectors/proc_vmstat.h"
#include "collectors/proc_diskstats.h"
#include "collectors/proc_mountinfo.h"
#include "collectors/proc_net_dev.h"
#include "collectors/sys_class_hwmon.h"
#include "collectors/sys_class_net.h"
#include "collectors/sys_class_thermal.h"
/* pod and container metrics (cAdvisor compatible) */
#include "collectors/cgroup_pods.h"
/* GPU metrics (dcgm-exporter compatible) */
#include "collectors/gpu.h"

const agent_collector *const agent_collectors[] = {
    &agent_collector_cpu, &agent_collector_stat, &agent_collector_meminfo,
    &agent_collector_loadavg, &agent_collector_vmstat, &agent_collector_pressure,
    &agent_collector_uname, &agent_collector_os, &agent_collector_time,
    &agent_collector_filefd, &agent_collector_sockstat, &agent_collector_netstat,
    &agent_collector_entropy,
    &agent_collector_diskstats, &agent_collector_filesystem, &agent_collector_netdev,
    &agent_collector_netclass, &agent_collector_hwmon, &agent_collector_thermal_zone,
    &agent_collector_pods,
    &agent_collector_gpu,
    NULL,
};

const size_t agent_ncollectors = sizeof(agent_collectors) / sizeof(agent_collectors[0]) - 1;
