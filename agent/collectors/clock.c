/*
 * clock.c - the `time` collector (node_exporter compatible).
 */
#include "clock.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sysfs_attr.h"
#include "vg_parse.h"

static const char *const cs_labels[2] = {"clocksource", "device"};

int clock_emit_time(const struct timespec *now, vg_scrape *s)
{
    /* Nanoseconds first, as node_exporter does, so both print the same digits. */
    int64_t ns = (int64_t)now->tv_sec * 1000000000 + now->tv_nsec;
    vg_scrape_add1(s, "node_time_seconds", VG_MT_GAUGE,
                   "System time in seconds since epoch (1970).", (double)ns / 1e9);
    struct tm tm;
    time_t t = now->tv_sec;
    if (!localtime_r(&t, &tm))
        return -EINVAL;
    static const char *const lbl[1] = {"time_zone"};
    vg_family *f = vg_scrape_family(s, "node_time_zone_offset_seconds", VG_MT_GAUGE,
                                    "System time zone offset in seconds.", 1, lbl);
    return vg_family_add(f, (double)tm.tm_gmtoff, tm.tm_zone ? tm.tm_zone : "");
}

static bool printable(vg_slice w)
{
    for (size_t i = 0; i < w.n; i++)
        if ((unsigned char)w.p[i] <= ' ' || (unsigned char)w.p[i] >= 127)
            return false;
    return w.n > 0 && w.n < 128;
}

int clock_parse_available(const char *buf, size_t len, const char *device, vg_scrape *s)
{
    vg_slice all = {buf, len};
    /* Validate first: a bad name adds nothing. */
    for (int pass = 0; pass < 2; pass++) {
        vg_family *f = NULL;
        int n = 0;
        size_t i = 0;
        while (i < all.n) {
            while (i < all.n && (all.p[i] == ' ' || all.p[i] == '\n' || all.p[i] == '\t'))
                i++;
            size_t st = i;
            while (i < all.n && all.p[i] != ' ' && all.p[i] != '\n' && all.p[i] != '\t')
                i++;
            vg_slice w = {all.p + st, i - st};
            if (w.n == 0)
                break;
            if (!printable(w))
                return -EINVAL;
            if (pass == 1) {
                if (!f)
                    f = vg_scrape_family(s, "node_time_clocksource_available_info",
                                         VG_MT_GAUGE,
                                         "Available clocksources read from "
                                         "'/sys/devices/system/clocksource'.",
                                         2, cs_labels);
                char name[128];
                vg_slice_copy(w, name, sizeof name);
                if (vg_family_add(f, 1.0, name, device) == 0)
                    n++;
            }
        }
        if (pass == 1)
            return n;
    }
    return 0;
}

int clock_parse_current(const char *buf, size_t len, const char *device, vg_scrape *s)
{
    vg_slice w = vg_slice_trim((vg_slice){buf, len});
    if (!printable(w))
        return -EINVAL;
    char name[128];
    vg_slice_copy(w, name, sizeof name);
    vg_family *f = vg_scrape_family(s, "node_time_clocksource_current_info", VG_MT_GAUGE,
                                    "Current clocksource read from "
                                    "'/sys/devices/system/clocksource'.",
                                    2, cs_labels);
    return vg_family_add(f, 1.0, name, device) == 0 ? 1 : -EINVAL;
}

/* ---------- collector ---------- */

#define CLOCK_MAX_SOURCES 64

static bool is_cs_dir(const char *name)
{
    if (strncmp(name, "clocksource", 11) != 0 || !name[11])
        return false;
    for (const char *p = name + 11; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    return true;
}

/* Collection thread only. */
typedef struct clock_state {
    sysfs_dirlist dir;      /* the clocksource directory, kept open */
} clock_state;

static void clock_collect_sources(agent_ctx *ctx, clock_state *st, vg_scrape *s)
{
    char dirpath[4096];
    if (agent_path(ctx, AGENT_ROOT_SYS, "/devices/system/clocksource", dirpath, sizeof dirpath))
        return;
    /* sorted by name, as node_exporter's device numbers are */
    if (sysfs_dirlist_read_kept(&st->dir, dirpath, "clocksource"))
        return; /* no clocksource directory: node_exporter reports none either */
    size_t n = 0;
    for (size_t k = 0; k < st->dir.n && n < CLOCK_MAX_SOURCES; k++) {
        const char *name = sysfs_dirlist_name(&st->dir, k);
        if (!is_cs_dir(name) || strlen(name) >= 32)
            continue;
        size_t i = n++;
        char rel[128], device[24];
        snprintf(device, sizeof device, "%zu", i);
        snprintf(rel, sizeof rel, "/devices/system/clocksource/%s/available_clocksource", name);
        if (agent_read_kept(ctx, AGENT_ROOT_SYS, rel) == 0 &&
            clock_parse_available(ctx->scratch.data, ctx->scratch.len, device, s) < 0)
            agent_ctx_parse_error(ctx, "time", "available_clocksource");
        snprintf(rel, sizeof rel, "/devices/system/clocksource/%s/current_clocksource", name);
        if (agent_read_kept(ctx, AGENT_ROOT_SYS, rel) == 0 &&
            clock_parse_current(ctx->scratch.data, ctx->scratch.len, device, s) < 0)
            agent_ctx_parse_error(ctx, "time", "current_clocksource");
    }
}

static int time_init(agent_ctx *ctx, void **state)
{
    clock_state *st = calloc(1, sizeof *st);
    if (!st)
        return -ENOMEM;
    sysfs_dirlist_init(&st->dir);
    *state = st;
    return 0;
}

static void time_release(void *state)
{
    clock_state *st = state;
    if (st)
        sysfs_dirlist_release(&st->dir);
    free(st);
}

static int time_collect(agent_ctx *ctx, void *state, vg_scrape *s)
{
    struct timespec now;
    if (clock_gettime(CLOCK_REALTIME, &now) != 0)
        return -errno;
    int rc = clock_emit_time(&now, s);
    clock_collect_sources(ctx, state, s);
    return rc;
}

const agent_collector agent_collector_time = {
    .name = "time",
    .default_enabled = true,
    .help = "Wall clock, time zone and clocksources (node_time_*)",
    .init = time_init,
    .collect = time_collect,
    .release = time_release,
    .loop_safe = true,
};
