/*
 * proc_mountinfo.h - the `filesystem` collector (node_exporter compatible).
 *
 * Mounts come from <procfs>/1/mountinfo (falling back to
 * <procfs>/self/mountinfo when PID 1 is hidden), so that with the host's
 * /proc mounted in they are the host's mounts. Mount points are reported
 * as the host sees them (--path.rootfs stripped) and statfs'ed at
 * <rootfs><mountpoint>, on the bounded worker pool of statfs_pool.h with a
 * per-mount timeout (collector.filesystem.mount-timeout, never past the
 * scrape deadline), so a hung NFS/FUSE mount cannot block a scrape.
 *
 * Families: node_filesystem_{size,free,avail}_bytes, _files, _files_free,
 * _readonly, _device_error {device,fstype,mountpoint} and
 * node_filesystem_mount_info {device,major,minor,mountpoint}. A mount whose
 * statfs failed or timed out has only device_error 1 (and mount_info), as
 * in node_exporter 1.5.
 */
#ifndef PROC_MOUNTINFO_H
#define PROC_MOUNTINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent_collector.h"
#include "field_filter.h"
#include "statfs_pool.h"
#include "vg_parse.h"

/* node_exporter's defaults (upstream; Debian's package also drops /run, /mnt, /media). */
#define FS_MOUNT_POINTS_EXCLUDE_DEFAULT \
    "^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)"
#define FS_TYPES_EXCLUDE_DEFAULT                                                               \
    "^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|" \
    "iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|"       \
    "squashfs|sysfs|tracefs)$"

/* Hand-written equivalents of the two default patterns. */
bool proc_mountinfo_default_mp_excluded(const char *mountpoint);
bool proc_mountinfo_default_type_excluded(const char *fstype);

/* One mountinfo line, as slices into the caller's buffer (still escaped). */
typedef struct proc_mount {
    unsigned major, minor;
    vg_slice mountpoint;
    vg_slice mount_opts;
    vg_slice fstype;
    vg_slice source;
    vg_slice super_opts;
} proc_mount;

/* Parse one /proc/PID/mountinfo line. 0, or -EINVAL (out untouched). */
int proc_mountinfo_parse_line(vg_slice line, proc_mount *out);

/* Undo the kernel's \ooo escapes into out (NUL-terminated). 0 or -ENAMETOOLONG. */
int proc_mountinfo_unescape(vg_slice in, char *out, size_t outlen);

/* Whether a comma-separated option list holds opt exactly ("ro"). */
bool proc_mountinfo_opt_has(vg_slice opts, const char *opt);

/* One mount the collector reports. Strings are offsets into the list's pool. */
typedef struct fs_mount {
    size_t device, mountpoint, fstype, target; /* target: <rootfs><mountpoint> */
    unsigned major, minor;
    bool ro;
    int rc;                                    /* statfs: 0 or -errno */
    double size, free, avail, files, files_free;
} fs_mount;

/* The mounts of one scrape; caller's storage, reused (memory kept). */
typedef struct fs_mounts {
    char *pool;
    size_t pool_len, pool_cap;
    fs_mount *v;
    size_t n, cap;
    uint32_t *set;     /* dedupe table: index+1 of v, 0 = empty */
    size_t set_cap;
} fs_mounts;

void fs_mounts_init(fs_mounts *m);
void fs_mounts_release(fs_mounts *m);
static inline const char *fs_mounts_str(const fs_mounts *m, size_t off) { return m->pool + off; }

/*
 * Parse a mountinfo buffer into m (replacing its contents): unescape,
 * strip ctx's rootfs from mount points, drop mounts the filters exclude
 * (NULL = the defaults) and repeats of a (device, mountpoint, fstype)
 * already seen. Malformed lines are skipped and counted in *skipped.
 * Every kept mount has rc = -EINPROGRESS. Returns the number kept, or
 * -EINVAL when the buffer has no well-formed line at all, -ENOMEM.
 */
int proc_mountinfo_parse(const agent_ctx *ctx, const char *buf, size_t len,
                         const field_filter *mp_filter, const field_filter *type_filter,
                         fs_mounts *m, unsigned *skipped);

/* Fill a mount's numbers from a statfs result (node_exporter: counts × f_bsize). */
void fs_mount_set_statfs(fs_mount *fm, const struct statfs *st);

/* Add the families for m to s (device_error only where rc != 0). */
void fs_mounts_emit(const fs_mounts *m, vg_scrape *s);

extern const agent_collector agent_collector_filesystem;

/*
 * Test hooks: the collector's statfs function (default statfs(2)), and its
 * pool's thread counts. state is what the collector's init returned.
 */
void proc_mountinfo_set_statfs_fn(void *state, statfs_pool_fn fn, void *ud);
void proc_mountinfo_pool_stats(void *state, statfs_pool_stats *out);

#endif
