/*
 * cgroup_pods.h - the `pods` collector: per-pod and per-container metrics
 * read straight from the host's cgroups (v1 or v2), cAdvisor-compatible,
 * without the kubelet.
 *
 * Discovery: the cgroup hierarchies come from <procfs>/1/mountinfo (or
 * --collector.pods.cgroup-root); under them the kubepods tree of either
 * cgroup driver is walked every scrape (cgroup_ident.h recognises pods and
 * containers); pod and container names come from the container runtime's
 * state (runtime_state.h), read once per new container id. Sandbox (pause)
 * containers are recognised there and not reported as containers.
 *
 * Families (labels container,id,image,name,namespace,pod; empty when
 * unknown; pod-level cgroups have container="" and name=""):
 *   container_cpu_{usage (cpu="total"),user,system}_seconds_total,
 *   container_cpu_cfs_{periods,throttled_periods}_total,
 *   container_cpu_cfs_throttled_seconds_total,
 *   container_memory_{usage_bytes,working_set_bytes,rss,cache,swap,
 *   mapped_file,failcnt,max_usage_bytes}, container_oom_events_total
 *   (the cgroup's own oom_kill counter), container_fs_{reads,writes}_bytes_total
 *   {device}, container_network_{receive,transmit}_{bytes,packets,
 *   packets_dropped,errors}_total{interface} (pod level, from a pod
 *   process's /proc/<pid>/net/dev; hostNetwork pods skipped),
 *   container_pressure_{cpu,memory,io}_{waiting,stalled}_seconds_total (v2),
 *   container_spec_{cpu_quota,cpu_period,cpu_shares,memory_limit_bytes},
 *   container_processes, container_threads, container_start_time_seconds
 *   (the cgroup directory's mtime, as cAdvisor), and the kubelet's
 *   pod_cpu_usage_seconds_total / pod_memory_working_set_bytes{namespace,pod}
 *   for pods whose names are known.
 * Self metric: vigil_agent_cgroup_read_errors_total{reason="missing"|"parse"|"io"}.
 *
 * A container that disappears mid-scrape is skipped silently; a missing or
 * garbled file skips its series and is counted; a host without kubepods
 * cgroups yields no series and success. Containers whose runtime state
 * cannot be read (docker, or state not there yet) are still reported, with
 * empty names; their sandboxes cannot be told apart from containers.
 *
 * Options: collector.pods.cgroup-root, .containerd-state, .crio-state,
 * .spec-interval, .max-open-files (see pods_opts in cgroup_pods.c).
 * Not yet: allowlisted pod labels from the API server
 * (--pod-labels-allowlist, watching this node's pods) - it needs the shared
 * Kubernetes client, which does not exist yet.
 */
#ifndef AGENT_CGROUP_PODS_H
#define AGENT_CGROUP_PODS_H

#include "agent_collector.h"

extern const agent_collector agent_collector_pods;

#endif
