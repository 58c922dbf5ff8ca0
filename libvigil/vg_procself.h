/*
 * vg_procself.h - process_* self metrics and vigil_build_info.
 *
 * Registers a collect callback on a registry; the values are read from
 * <procfs>/self at scrape time, so nothing runs between scrapes.
 */
#ifndef VG_PROCSELF_H
#define VG_PROCSELF_H

#include "vg_metrics.h"

/* Caller's storage; must outlive the registry. */
typedef struct vg_procself {
    char procfs[256];
    double btime;      /* boot time, read from <procfs>/stat on first use */
    int have_btime;
    int fd_count_mode; /* 0 unknown, 1 stat() of self/fd (Linux >= 6.2), 2 list it */
} vg_procself;

int vg_procself_register(vg_registry *reg, vg_procself *ps, const char *procfs);

#endif
