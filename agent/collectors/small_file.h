/*
 * small_file.h - read a tiny kernel file (a /proc/sys value, a sysfs
 * attribute) into a caller's buffer with one small read.
 *
 * Why not agent_read(): /proc/sys handlers allocate and zero a kernel
 * buffer as large as the read request. agent_read() reads into the shared
 * scratch buffer, whose room grows to the largest file any collector read
 * (tens of KiB), which makes each /proc/sys read ~15x slower (measured:
 * 85 us instead of 6 us for /proc/sys/fs/file-nr with a 1 MiB request).
 */
#ifndef SMALL_FILE_H
#define SMALL_FILE_H

#include <stddef.h>

#include "agent_collector.h"
#include "sysfs_attr.h"

/*
 * Read <root><rel> into buf (cap bytes, cap >= 2); on success buf holds
 * the contents NUL-terminated and *len their length. Returns 0, -EFBIG
 * when the file does not fit in cap - 1 bytes, or another -errno (-ENOENT
 * when absent). buf and *len are unspecified on failure.
 */
int small_file_read(const agent_ctx *ctx, agent_root root, const char *rel, char *buf,
                    size_t cap, size_t *len);

/*
 * The same read for the files a collector reads on every scrape, through a
 * descriptor kept open between calls: a pread from offset 0 makes procfs
 * and sysfs generate the file afresh, one syscall instead of four (about
 * 0.7 us instead of 4 us here for /proc/sys/kernel/hostname). Only when
 * the root is procfs or sysfs (checked once per root): the files of a
 * fixture tree may be replaced, so there every read opens the file, as
 * small_file_read does. Caller's storage, one collector (one thread).
 */
typedef struct small_file_kept {
    sysfs_fdcache files;
    signed char kernel[4];   /* per agent_root: 0 not checked, 1 procfs/sysfs, -1 other */
} small_file_kept;

void small_file_kept_init(small_file_kept *k);
void small_file_kept_release(small_file_kept *k);   /* closes the files */
int small_file_read_kept(small_file_kept *k, const agent_ctx *ctx, agent_root root,
                         const char *rel, char *buf, size_t cap, size_t *len);

#endif
