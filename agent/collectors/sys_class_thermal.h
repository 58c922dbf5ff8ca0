/*
 * sys_class_thermal.h - the `thermal_zone` collector (node_exporter compatible).
 *
 * node_thermal_zone_temp{type,zone} (celsius) for each
 * <sysfs>/class/thermal/thermal_zone<N> that has readable type, policy and
 * temp files (zones that cannot be read right now are skipped, as
 * node_exporter does), and node_cooling_device_{cur,max}_state{name,type}
 * for each cooling_device<N>.
 */
#ifndef SYS_CLASS_THERMAL_H
#define SYS_CLASS_THERMAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent_collector.h"
#include "vg_parse.h"

/* Whether a class/thermal entry is a zone / cooling device (name + digit...);
 * *suffix gets the label value (the part after the prefix). */
bool sys_class_thermal_is_zone(const char *name, const char **suffix);
bool sys_class_thermal_is_cooling(const char *name, const char **suffix);

/* A decimal integer attribute (surrounding whitespace allowed). 0, -EINVAL, -ERANGE. */
int sys_class_thermal_parse_int(const char *buf, size_t len, int64_t *out);

/* A string attribute trimmed of whitespace into out. 0 or -EFBIG. */
int sys_class_thermal_parse_str(const char *buf, size_t len, char *out, size_t outlen);

/* Families. temp_milli is the temp file's millidegrees. */
void sys_class_thermal_emit_zone(vg_scrape *s, const char *zone, const char *type,
                                 int64_t temp_milli);
void sys_class_thermal_emit_cooling(vg_scrape *s, const char *name, const char *type,
                                    int64_t cur, int64_t max);

extern const agent_collector agent_collector_thermal_zone;

#endif
