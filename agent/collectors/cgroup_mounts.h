/*
 * cgroup_mounts.h - where the host's cgroup hierarchies are, and which
 * version the pod collector reads.
 *
 * Read from the host's <procfs>/1/mountinfo (the mount table as PID 1 sees
 * it), or probed from a directory given with --collector.pods.cgroup-root.
 * Mode rule: if any cgroup v1 hierarchy carries the cpu, cpuacct or memory
 * controller the host is v1 or hybrid, and the kubelet manages pods
 * through v1 (so do we); otherwise a cgroup2 mount means the unified v2
 * layout.
 */
#ifndef AGENT_CGROUP_MOUNTS_H
#define AGENT_CGROUP_MOUNTS_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    CGROUP_MODE_NONE = 0,
    CGROUP_MODE_V1,
    CGROUP_MODE_V2,
} cgroup_mode;

/* The v1 controllers the pod collector reads. */
typedef enum {
    CGROUP_CTL_CPU = 0,
    CGROUP_CTL_CPUACCT,
    CGROUP_CTL_MEMORY,
    CGROUP_CTL_BLKIO,
    CGROUP_CTL_PIDS,
    CGROUP_CTL_N,
} cgroup_ctl;

#define CGROUP_MOUNT_PATH_MAX 512

typedef struct cgroup_mounts {
    cgroup_mode mode;
    char unified[CGROUP_MOUNT_PATH_MAX];            /* v2 mount point, "" if none */
    char v1[CGROUP_CTL_N][CGROUP_MOUNT_PATH_MAX];   /* per controller, "" if not mounted */
} cgroup_mounts;

/* Controller name as the kernel spells it ("cpu", "cpuacct", ...). */
const char *cgroup_ctl_name(cgroup_ctl c);

/*
 * Parse mountinfo text. Mount points are host paths, octal escapes
 * undone. The first cgroup2 mount wins unless one is at /sys/fs/cgroup;
 * the first v1 mount of each controller wins. Lines that are not cgroup
 * mounts are ignored; malformed lines are skipped and counted in
 * *skipped (may be NULL). Mount points longer than the buffer are
 * skipped and counted. Always fills out (mode NONE when nothing usable).
 */
void cgroup_mounts_parse(const char *text, size_t len, cgroup_mounts *out, size_t *skipped);

/*
 * Probe a directory (a local path): a cgroup.controllers file in it makes
 * it a v2 hierarchy; otherwise subdirectories named after controllers
 * ("cpu", "cpuacct", "cpu,cpuacct", "memory", "blkio", "pids") make it a
 * v1 parent. Returns 0 with out filled (mode NONE when neither), or
 * -ENAMETOOLONG.
 */
int cgroup_mounts_probe(const char *dir, cgroup_mounts *out);

#endif
