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

/*
 * Read <root><rel> into buf (cap bytes, cap >= 2); on success buf holds
 * the contents NUL-terminated and *len their length. Returns 0, -EFBIG
 * when the file does not fit in cap - 1 bytes, or another -errno (-ENOENT
 * when absent). buf and *len are unspecified on failure.
 */
int small_file_read(const agent_ctx *ctx, agent_root root, const char *rel, char *buf,
                    size_t cap, size_t *len);

#endif
