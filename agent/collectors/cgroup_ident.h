/*
 * cgroup_ident.h - recognise Kubernetes pods and containers in cgroup paths.
 *
 * Shared by the pod collector (cgroups) and the GPU collector (per-pod
 * attribution from /proc/<pid>/cgroup). Understands the systemd driver
 * (kubepods.slice/kubepods-<qos>.slice/kubepods-<qos>-pod<uid>.slice/
 * <runtime>-<id>.scope) and the cgroupfs driver (/kubepods/<qos>/pod<uid>/<id>),
 * guaranteed pods without a QoS level, runtimes containerd
 * ("cri-containerd-"), CRI-O ("crio-") and docker ("docker-").
 */
#ifndef AGENT_CGROUP_IDENT_H
#define AGENT_CGROUP_IDENT_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    CGROUP_QOS_NONE = 0,       /* not a pod cgroup */
    CGROUP_QOS_GUARANTEED,
    CGROUP_QOS_BURSTABLE,
    CGROUP_QOS_BESTEFFORT,
} cgroup_qos;

typedef struct cgroup_ident {
    cgroup_qos qos;
    char pod_uid[64];          /* with '-' (systemd's '_' converted back) */
    char container_id[80];     /* "" for the pod-level cgroup */
    char runtime[16];          /* "containerd", "crio", "docker", "" (cgroupfs) */
} cgroup_ident;

/*
 * Parse one cgroup path (as in /proc/<pid>/cgroup's third field, or a path
 * relative to the cgroup mount). Returns true when it names a pod or a
 * container in a pod, filling out; false otherwise (out untouched).
 */
bool cgroup_ident_parse(const char *path, size_t len, cgroup_ident *out);

/*
 * Read /proc/<pid>/cgroup text (v1 or v2 lines "id:controllers:path") and
 * identify the pod/container the process belongs to. Prefers the unified
 * ("0::") line, else the memory or cpu,cpuacct controller line.
 */
bool cgroup_ident_from_proc(const char *text, size_t len, cgroup_ident *out);

#endif
