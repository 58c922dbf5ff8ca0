/*
 * proc_diskstats.h - the `diskstats` collector (node_exporter compatible).
 *
 * node_disk_* counters from <procfs>/diskstats (11, 15 or 17 stat fields
 * depending on the kernel; discard and flush families appear only where
 * the kernel has them) and node_disk_info{device,major,minor,model,path,
 * revision,rotational,serial,wwn} from the udev database
 * (<udev.data>/b<major>:<minor>) and <sysfs>/block/<dev>/queue/rotational,
 * plus node_disk_filesystem_info, node_disk_device_mapper_info and the
 * node_disk_ata_* gauges where udev knows them.
 *
 * Devices matching collector.diskstats.device-exclude (node_exporter's
 * default: partitions, loop, ram and zram devices) are skipped.
 */
#ifndef PROC_DISKSTATS_H
#define PROC_DISKSTATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent_collector.h"
#include "field_filter.h"
#include "vg_parse.h"

#define DISKSTATS_EXCLUDE_DEFAULT "^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\\d+n\\d+p)\\d+$"

/* Hand-written equivalent of DISKSTATS_EXCLUDE_DEFAULT. */
bool proc_diskstats_default_excluded(const char *dev);

#define DISKSTATS_MAX_STATS 17

/* One /proc/diskstats line; name is a slice into the caller's buffer. */
typedef struct diskstats_line {
    unsigned major, minor;
    vg_slice name;
    size_t nstats;                   /* 11, 15, 17 (or more, capped at 17) */
    uint64_t v[DISKSTATS_MAX_STATS];
} diskstats_line;

/*
 * Parse one line. 0; -ENODATA for a well-formed line with fewer than 11
 * stats (2.6-era partition lines, which node_exporter also ignores);
 * -EINVAL for garbage. out is written only on 0.
 */
int proc_diskstats_parse_line(vg_slice line, diskstats_line *out);

/* What udev knows about a device: slices into the udev file's buffer. */
typedef enum {
    UDEV_ID_PATH = 0, UDEV_ID_WWN, UDEV_ID_MODEL, UDEV_SCSI_IDENT_SERIAL, UDEV_ID_SERIAL_SHORT,
    UDEV_ID_SERIAL, UDEV_ID_REVISION, UDEV_ID_FS_TYPE, UDEV_ID_FS_USAGE, UDEV_ID_FS_UUID,
    UDEV_ID_FS_VERSION, UDEV_DM_NAME, UDEV_DM_UUID, UDEV_DM_VG_NAME, UDEV_DM_LV_NAME,
    UDEV_DM_LV_LAYER, UDEV_ID_ATA, UDEV_ID_ATA_WRITE_CACHE, UDEV_ID_ATA_WRITE_CACHE_ENABLED,
    UDEV_ID_ATA_ROTATION_RATE_RPM,
    UDEV_NKEYS
} udev_key;

typedef struct disk_udev {
    vg_slice v[UDEV_NKEYS];
    bool has[UDEV_NKEYS];
} disk_udev;

/*
 * Parse a udev database file ("E:KEY=VALUE" property lines; other record
 * types ignored; the last value of a key wins). Never fails: unknown or
 * malformed lines are ignored, like udev's own readers do.
 */
void proc_diskstats_udev_parse(const char *buf, size_t len, disk_udev *out);

/*
 * Per-device lookups the parser needs (udev data, rotational flag). The
 * collector reads files; tests and the fuzzer pass canned answers. Either
 * callback may be NULL (no udev data; rotational "0").
 */
typedef struct diskstats_lookup {
    /* Fill *out (zeroed by the caller); the slices must stay valid until
     * the next call. */
    void (*udev)(void *ud, unsigned major, unsigned minor, disk_udev *out);
    /* Value of queue/rotational (0 or 1), or -1 when unknown. */
    int (*rotational)(void *ud, const char *dev);
    void *ud;
} diskstats_lookup;

/*
 * Parse a whole /proc/diskstats buffer into s. include (when not NULL)
 * selects devices, else exclude (NULL = the default) drops them. Malformed
 * lines are skipped and counted in *skipped. Returns the number of devices
 * reported, or -EINVAL when no line at all was well-formed.
 */
int proc_diskstats_parse(const char *buf, size_t len, const field_filter *include,
                         const field_filter *exclude, const diskstats_lookup *lk,
                         vg_scrape *s, unsigned *skipped);

extern const agent_collector agent_collector_diskstats;

#endif
