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

#include "vg_buf.h"
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
    uint64_t ino;              /* d_ino: a name that now means another object
                                  (re-created, renamed) shows another one */
    unsigned char type;        /* d_type (DT_UNKNOWN when the fs did not say) */
} sysfs_dirent;

/* Caller's storage; _init, any number of _read, then _release. */
typedef struct sysfs_dirlist {
    char *pool;                /* NUL-separated names */
    size_t pool_len, pool_cap;
    sysfs_dirent *ents;        /* sorted by name after _read */
    size_t n, cap;
    int kept_fd;               /* sysfs_dirlist_read_kept's directory, or -1 */
    char *kept_path;
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

/*
 * As sysfs_dirlist_read(l, AT_FDCWD, path, prefix) for a directory listed
 * on every scrape: the directory stays open in l and is listed again from
 * its start (lseek + getdents64: 3 syscalls instead of 7, and no path
 * walk), which on sysfs and procfs lists the entries there are now. Only
 * there: any other directory (a fixture tree, which tests may replace) is
 * opened each time. A different path closes the kept one.
 */
int sysfs_dirlist_read_kept(sysfs_dirlist *l, const char *path, const char *prefix);

static inline const char *sysfs_dirlist_name(const sysfs_dirlist *l, size_t i)
{
    return l->pool + l->ents[i].off;
}

/* ---------- kept-open files ---------- */

/*
 * Opening a sysfs attribute costs several times more than reading it
 * again (about 7 us against 1.5 us here), and a netclass scrape reads ~90
 * of them. The cache keeps each file a collector reads open and re-reads
 * it with pread at offset 0, which makes sysfs and procfs generate fresh
 * content. A read error that means the file itself went away (the device
 * was removed: ENODEV and the like) reopens it once; errors that are the
 * attribute's answer (EINVAL for carrier on a down link) are returned as
 * they are. Files not read since the previous sweep are closed, so a
 * vanished interface or chip gives its descriptors back one scrape later.
 * At most max_fds stay open (and never more than 1/16 of RLIMIT_NOFILE);
 * beyond that reads open and close as usual.
 * Caller's storage, one collector (one thread).
 */
typedef struct sysfs_fdent {
    char *path;
    uint64_t hash;
    int fd;               /* -1 after sysfs_fdcache_forget */
    uint32_t gen;
} sysfs_fdent;

typedef struct sysfs_fdcache {
    sysfs_fdent *e;
    size_t n, cap;
    uint32_t *idx;        /* open addressing: index+1 into e, 0 = free */
    size_t idx_cap;
    uint32_t gen;
    size_t max_fds;
} sysfs_fdcache;

void sysfs_fdcache_init(sysfs_fdcache *c, size_t max_fds);
void sysfs_fdcache_release(sysfs_fdcache *c);   /* closes everything */

/* As sysfs_attr_read(AT_FDCWD, path, ...), through a kept-open descriptor. */
int sysfs_fdcache_read(sysfs_fdcache *c, const char *path, char *buf, size_t cap,
                       vg_slice *out);

/*
 * Close the descriptor kept for path, if any; the next read opens the path
 * anew. For a caller that learns the name now means another object (an
 * interface renamed or re-created between scrapes): a kept descriptor
 * would go on reading the old one.
 */
void sysfs_fdcache_forget(sysfs_fdcache *c, const char *path);

/* Read the whole file (up to max bytes, else -EFBIG) into b, replacing its
 * contents; for /proc files such as /proc/net/dev. 0 or -errno. */
int sysfs_fdcache_read_all(sysfs_fdcache *c, const char *path, vg_buf *b, size_t max);

/* Read all of an open file from offset 0 into b (replacing it), up to max
 * bytes (else -EFBIG). For procfs files, which regenerate on each read. */
int sysfs_pread_all(int fd, vg_buf *b, size_t max);

/* Close the files not read since the last sweep. Once per scrape. */
void sysfs_fdcache_sweep(sysfs_fdcache *c);

/* Number of descriptors held (tests). */
static inline size_t sysfs_fdcache_open(const sysfs_fdcache *c) { return c->n; }

#endif
