/*
 * os_release.h - the `os` collector: node_os_info{build_id,id,id_like,
 * image_id,image_version,name,pretty_name,variant,variant_id,version,
 * version_codename,version_id} = 1 and node_os_version{id,id_like,name} =
 * the major.minor number at the start of VERSION_ID (omitted when there
 * is none), from <rootfs>/etc/os-release, else <rootfs>/usr/lib/os-release.
 *
 * The file is shell-like KEY=VALUE lines (os-release(5)): values may be
 * double-quoted (escapes \" \\ \$ \` \n \t), single-quoted, or bare (a
 * " #" starts a comment). Malformed lines are skipped and counted; the
 * rest of the file is still used. The parsed file is cached and re-read
 * only when its mtime, size or inode changes. An absolute symlink
 * (/etc/os-release -> /usr/lib/os-release) is resolved inside the rootfs,
 * not in the agent's own container.
 */
#ifndef OS_RELEASE_H
#define OS_RELEASE_H

#include <stddef.h>

#include "agent_collector.h"

typedef enum {
    OS_BUILD_ID = 0, OS_ID, OS_ID_LIKE, OS_IMAGE_ID, OS_IMAGE_VERSION, OS_NAME,
    OS_PRETTY_NAME, OS_VARIANT, OS_VARIANT_ID, OS_VERSION, OS_VERSION_CODENAME,
    OS_VERSION_ID, OS_NFIELDS
} os_release_field;

#define OS_RELEASE_VALUE_MAX 512

/* Parsed values; a key absent from the file is "". */
typedef struct os_release {
    char v[OS_NFIELDS][OS_RELEASE_VALUE_MAX];
} os_release;

/*
 * Parse an os-release buffer into *out (fully overwritten). Unknown keys
 * are ignored; malformed lines (no '=', a bad key, unmatched quotes, bad
 * escapes, control characters, values of OS_RELEASE_VALUE_MAX bytes or
 * more) are skipped and counted in *skipped. Returns the number of known
 * keys set.
 */
int os_release_parse(const char *buf, size_t len, os_release *out, unsigned *skipped);

/*
 * The node_os_version value: the leading "N" or "N.M" of VERSION_ID as a
 * number ("22.04.3" -> 22.04), 0 when it does not start with a digit.
 */
double os_release_version(const char *version_id);

/* Add node_os_info and (when the version is > 0) node_os_version. */
int os_release_emit(const os_release *r, vg_scrape *s);

extern const agent_collector agent_collector_os;

#endif
