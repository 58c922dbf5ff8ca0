/*
 * vg_procself.h - process_* self metrics and vigil_build_info.
 *
 * Registers a collect callback on a registry; the values are read from
 * <procfs>/self at scrape time, so nothing runs between scrapes.
 */
#ifndef VG_PROCSELF_H
#define VG_PROCSELF_H

#include <stdint.h>

#include "vg_metrics.h"

/* Caller's storage; must outlive the registry. */
typedef struct vg_procself {
    char procfs[256];
    double btime;      /* boot time, read from <procfs>/stat on first use */
    int have_btime;
    int fd_count_mode; /* 0 unknown, 1 fstat() of self/fd (Linux >= 6.2), 2 list it */
    int stat_fd;       /* <procfs>/self/stat kept open (pread), or -1 */
    int fddir_fd;      /* <procfs>/self/fd kept open (fstat), or -1 */
    int statm_fd;      /* <procfs>/self/statm kept open, real procfs only, or -1 */
    uint64_t starttime; /* from self/stat at register (clock ticks after boot) */
    int have_starttime;
} vg_procself;

/* Opens the two files read every scrape (kept: one pread and one fstat
 * instead of path walks); vg_procself_release closes them. */
int vg_procself_register(vg_registry *reg, vg_procself *ps, const char *procfs);
/* After the registry is freed (or never collected again). */
void vg_procself_release(vg_procself *ps);

#endif
