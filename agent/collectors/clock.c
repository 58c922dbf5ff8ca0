/*
 * clock.c - the `time` collector (node_exporter compatible).
 */
#include "clock.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void clock_collect_sources(agent_ctx *ctx, vg_scrape *s)
{
    char dirpath[4096];
    if (agent_path(ctx, AGENT_ROOT_SYS, "/devices/system/clocksource", dirpath, sizeof dirpath))
        return;
    DIR *d = opendir(dirpath);
    if (!d)
        return; /* no clocksource directory: node_exporter reports none either */
    /* Names are short ("clocksource0"); keep them on the stack. */
    char names[CLOCK_MAX_SOURCES][32];
    const char *sorted[CLOCK_MAX_SOURCES];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && n < CLOCK_MAX_SOURCES) {
        if (!is_cs_dir(de->d_name) || strlen(de->d_name) >= sizeof names[0])
            continue;
        snprintf(names[n], sizeof names[n], "%s", de->d_name);
        sorted[n] = names[n];
        n++;
    }
    closedir(d);
    qsort(sorted, n, sizeof sorted[0], name_cmp);
    for (size_t i = 0; i < n; i++) {
        char rel[128], device[24];
        snprintf(device, sizeof device, "%zu", i);
        snprintf(rel, sizeof rel, "/devices/system/clocksource/%s/available_clocksource",
                 sorted[i]);
        if (agent_read_kept(ctx, AGENT_ROOT_SYS, rel) == 0 &&
            clock_parse_available(ctx->scratch.data, ctx->scratch.len, device, s) < 0)
            agent_ctx_parse_error(ctx, "time", "available_clocksource");
        snprintf(rel, sizeof rel, "/devices/system/clocksource/%s/current_clocksource",
                 sorted[i]);
        if (agent_read_kept(ctx, AGENT_ROOT_SYS, rel) == 0 &&
            clock_parse_current(ctx->scratch.data, ctx->scratch.len, device, s) < 0)
            agent_ctx_parse_error(ctx, "time", "current_clocksource");
    }
}

static int time_collect(agent_ctx *ctx, void *state, vg_scrape *s)
{
    struct timespec now;
    if (clock_gettime(CLOCK_REALTIME, &now) != 0)
        return -errno;
    int rc = clock_emit_time(&now, s);
    clock_collect_sources(ctx, s);
    return rc;
}

const agent_collector agent_collector_time = {
    .name = "time",
    .default_enabled = true,
    .help = "Wall clock, time zone and clocksources (node_time_*)",
    .collect = time_collect,
};
