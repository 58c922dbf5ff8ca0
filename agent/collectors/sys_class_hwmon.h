/*
 * sys_class_hwmon.h - the `hwmon` collector (node_exporter compatible).
 *
 * Each chip in <sysfs>/class/hwmon (and its device/ directory) exposes
 * sensor files named <type><n>_<property> (temp1_input, fan2_min, in0_max,
 * power1_average...). They become node_hwmon_<type>[_<property>]_<unit>
 * {chip,sensor} with node_exporter 1.5's names, units and scaling
 * (millidegrees -> celsius, millivolts -> volts, microwatts -> watts...),
 * plus node_hwmon_chip_names{chip,chip_name} and
 * node_hwmon_sensor_label{chip,label,sensor}.
 *
 * The chip label is stable across reboots: "<parent>_<device>" from where
 * the device symlink points (platform_coretemp_0, pci0000:00_0000:00:18_3,
 * nvme_nvme0), else the cleaned name file, else hwmonN.
 */
#ifndef SYS_CLASS_HWMON_H
#define SYS_CLASS_HWMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent_collector.h"

/* Sensor types node_exporter 1.5 reads, in its order. */
#define HWMON_NTYPES 13
extern const char *const hwmon_sensor_types[HWMON_NTYPES];

/* A sensor file name split as node_exporter's regexp
 * ^(?P<type>[^0-9]+)(?P<id>[0-9]*)?(_(?P<property>.+))?$ splits it. */
typedef struct hwmon_fname {
    int type;              /* index in hwmon_sensor_types, -1 if another type */
    uint64_t num;          /* 0 when the name has no number */
    const char *prop;      /* into the name; "" when none */
    size_t prop_len;
} hwmon_fname;

/* Split name[0..len). false when it does not match (or the number overflows). */
bool sys_class_hwmon_explode(const char *name, size_t len, hwmon_fname *out);

/* node_exporter's cleanMetricName: lowercase, [^a-z0-9:_] runs of one
 * character (rune) each become "_", "_" trimmed from both ends. */
void sys_class_hwmon_clean(const char *in, size_t n, char *out, size_t outlen);

/* Chip label from the resolved device path ("/sys/devices/platform/coretemp.0"
 * -> "platform_coretemp_0"); "" when it yields nothing. */
void sys_class_hwmon_chip_from_device(const char *devpath, char *out, size_t outlen);

/* One sensor file's value. */
typedef struct hwmon_entry {
    uint8_t type;
    uint64_t num;
    uint32_t seq;          /* later files override earlier ones (device/ wins) */
    char prop[64];
    char value[132];
} hwmon_entry;

/* One chip's sensor data; caller's storage, reused across chips and scrapes. */
typedef struct hwmon_chip {
    char chip[160];        /* the chip label */
    char chip_name[160];   /* cleaned name file, "" when none */
    hwmon_entry *e;
    size_t n, cap;
    uint32_t seq;
} hwmon_chip;

void hwmon_chip_init(hwmon_chip *c);
void hwmon_chip_release(hwmon_chip *c);
void hwmon_chip_reset(hwmon_chip *c);    /* drops entries, keeps memory */

/*
 * Record the content of sensor file `name` (value trimmed of newlines).
 * Returns 0, -ENOENT when the name is not a sensor file node_exporter
 * reads, -EFBIG for a property or value that does not fit, -ENOMEM.
 */
int hwmon_chip_add(hwmon_chip *c, const char *name, const char *buf, size_t len);

/* Sort c's entries and add its families to s. */
void sys_class_hwmon_emit(hwmon_chip *c, vg_scrape *s);

extern const agent_collector agent_collector_hwmon;

#endif
