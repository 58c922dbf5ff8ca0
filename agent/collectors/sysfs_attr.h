/*
 * sysfs_attr.h - reading small sysfs attribute files and class directories.
 *
 * Shared by the diskstats, netdev, netclass, hwmon and thermal_zone
 * collectors, which read dozens of one-line attribute files per scrape.
 * An attribute is read with one open/read/close into the caller's stack
 * buffer: no allocation, and a driver that answers EAGAIN (some hwmon
 * drivers do) is an error instead of a retry loop. Directory listings are
 * kept in a reusable, sorted list so output order does not depend on the
 * filesystem's readdir order and steady-state scrapes do not allocate.
 */
#ifndef SYSFS_ATTR_H
#define SYSFS_ATTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vg_parse.h"

/*
 * Read the file name (relative to dirfd; AT_FDCWD or an absolute name work
 * too) into buf[0..cap), NUL-terminated, and point *out at the raw bytes
 * (not trimmed). Returns 0, -EFBIG when the file does not fit in cap-1
 * bytes, or the -errno of open/read (-ENOENT, -EINVAL for attributes the
 * device does not support right now, -EISDIR...). *out is set only on 0.
 */
int sysfs_attr_read(int dirfd, const char *name, char *buf, size_t cap, vg_slice *out);

/* Trim only '\n' from both ends (what node_exporter's hwmon code trims). */
vg_slice sysfs_attr_trim_nl(vg_slice s);

/*
 * Parse an integer the way Go's strconv.ParseInt(s, 0, 64) does, which is
 * what node_exporter applies to sysfs attributes: optional sign, then
 * "0x"/"0X" hex (flags: "0x1003"), "0o"/"0O" or a leading 0 octal, "0b"
 * binary, else decimal. Returns 0, -EINVAL or -ERANGE.
 */
int sysfs_attr_parse_int(vg_slice s, int64_t *out);

/* Errors that mean "attribute not there / not supported now", not a fault. */
bool sysfs_attr_absent_err(int err);

/* ---------- sorted directory listing ---------- */

typedef struct sysfs_dirent {
    size_t off;                /* name offset in the list's name pool */
    unsigned char type;        /* d_type (DT_UNKNOWN when the fs did not say) */
} sysfs_dirent;

/* Caller's storage; _init, any number of _read, then _release. */
typedef struct sysfs_dirlist {
    char *pool;                /* NUL-separated names */
    size_t pool_len, pool_cap;
    sysfs_dirent *ents;        /* sorted by name after _read */
    size_t n, cap;
} sysfs_dirlist;

void sysfs_dirlist_init(sysfs_dirlist *l);
void sysfs_dirlist_release(sysfs_dirlist *l);

/*
 * Replace the list with the entries of path (relative to dirfd) whose
 * names start with prefix (NULL = all), without "." and "..", sorted by
 * strcmp. Returns 0, -ENOMEM, or the -errno of opening the directory
 * (the list is then empty).
 */
int sysfs_dirlist_read(sysfs_dirlist *l, int dirfd, const char *path, const char *prefix);

static inline const char *sysfs_dirlist_name(const sysfs_dirlist *l, size_t i)
{
    return l->pool + l->ents[i].off;
}

#endif
