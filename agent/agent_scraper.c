/*
 * agent_scraper.c - enabled-collector bookkeeping and the per-scrape run.
 */
#include "agent_scraper.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include "vg_loop.h"

static const vg_opt_def agent_fixed_opts[] = {
    {"path.procfs", VG_OPT_STRING, "/proc", "procfs mountpoint", 0},
    {"path.sysfs", VG_OPT_STRING, "/sys", "sysfs mountpoint", 0},
    {"path.rootfs", VG_OPT_STRING, "/", "host root filesystem mountpoint (the DaemonSet mounts the host's / at /host)", 0},
    {"path.udev.data", VG_OPT_STRING, "/run/udev/data", "udev data path", 0},
    {"collector.disable-defaults", VG_OPT_BOOL, "false", "Disable all collectors except those enabled explicitly with --collector.NAME", 0},
    {"web.scrape-timeout", VG_OPT_DURATION, "10s", "Scrape deadline when the request has no X-Prometheus-Scrape-Timeout-Seconds header", VG_OPT_F_RELOADABLE},
    {"collection.ahead-max-age", VG_OPT_DURATION, "1s", "When scrapes come at a steady interval, collect shortly before the next one is due and answer it from that collection if it started at most this long before; 0 always collects on scrape", VG_OPT_F_RELOADABLE},
    {"once", VG_OPT_BOOL, "false", "Collect once, print the exposition on stdout and exit (for debugging and golden tests)", VG_OPT_F_CLI_ONLY},
};

/* How long a collector on the loop thread may wait for its workers (statfs
 * of healthy mounts: microseconds) before the collection moves to the
 * collection thread. */
#define AGENT_LOOP_WAIT_MS 5u
/* loop_until_ms for a first call on the loop: already past, so a collector
 * with workers starts them and returns at once (finished after the others,
 * by when the workers are usually done and nobody sleeps). */
#define AGENT_LOOP_NO_WAIT 1u

typedef struct slot {
    const agent_collector *c;
    void *state;
    int inited;      /* init() ran and succeeded (or there is none) */
    int enabled;
    int last_rc;     /* to log failures on change, not every scrape */
    /* this collection: */
    double secs;     /* time spent in collect() */
    int rc;
    bool pending;    /* collect() returned AGENT_COLLECT_MOVED: call it again */
} slot;

struct agent_scraper {
    agent_ctx ctx;
    slot *slots;
    size_t n;
    size_t next;     /* the collection in progress goes on at this slot */
    char roots[4][1024];
};

int agent_options_build(agent_options *o)
{
    memset(o, 0, sizeof *o);
    size_t n = agent_ncollectors;
    size_t cap = 2 + n;
    o->tables = calloc(cap, sizeof *o->tables);
    o->ntables = calloc(cap, sizeof *o->ntables);
    o->switches = calloc(n ? n : 1, sizeof *o->switches);
    o->names = calloc(n ? n : 1, sizeof *o->names);
    if (!o->tables || !o->ntables || !o->switches || !o->names)
        goto nomem;
    for (size_t i = 0; i < n; i++) {
        const agent_collector *c = agent_collectors[i];
        size_t len = strlen(c->name) + 11;
        o->names[i] = malloc(len);
        if (!o->names[i])
            goto nomem;
        snprintf(o->names[i], len, "collector.%s", c->name);
        o->switches[i].name = o->names[i];
        o->switches[i].type = VG_OPT_BOOL;
        o->switches[i].def = c->default_enabled ? "true" : "false";
        o->switches[i].help = c->help;
        o->switches[i].flags = VG_OPT_F_RELOADABLE;
    }
    o->tables[o->count] = agent_fixed_opts;
    o->ntables[o->count++] = sizeof agent_fixed_opts / sizeof agent_fixed_opts[0];
    if (n) {
        o->tables[o->count] = o->switches;
        o->ntables[o->count++] = n;
    }
    for (size_t i = 0; i < n; i++) {
        if (agent_collectors[i]->nopts) {
            o->tables[o->count] = agent_collectors[i]->opts;
            o->ntables[o->count++] = agent_collectors[i]->nopts;
        }
    }
    return 0;
nomem:
    agent_options_release(o);
    return -ENOMEM;
}

void agent_options_release(agent_options *o)
{
    if (o->names)
        for (size_t i = 0; i < agent_ncollectors; i++)
            free(o->names[i]);
    free(o->names);
    free(o->switches);
    free(o->tables);
    free(o->ntables);
    memset(o, 0, sizeof *o);
}

static int is_enabled(const vg_config *cfg, const agent_collector *c)
{
    char name[96];
    snprintf(name, sizeof name, "collector.%s", c->name);
    bool on = vg_config_bool(cfg, name);
    if (vg_config_bool(cfg, "collector.disable-defaults"))
        return on && strcmp(vg_config_source(cfg, name), "default") != 0;
    return on;
}

static void strip_slash(char *p)
{
    size_t n = strlen(p);
    while (n > 0 && p[n - 1] == '/')
        p[--n] = '\0';
}

static void init_slot(agent_scraper *sc, slot *sl)
{
    if (sl->inited || !sl->enabled)
        return;
    if (!sl->c->init) {
        sl->inited = 1;
        return;
    }
    int rc = sl->c->init(&sc->ctx, &sl->state);
    if (rc) {
        vg_log_warn(sc->ctx.log, "agent", "collector failed to start; it reports success 0",
                    "collector", sl->c->name, "err", strerror(-rc));
        return;
    }
    sl->inited = 1;
}

int agent_scraper_new(const vg_config *cfg, vg_log *log, vg_registry *reg,
                      agent_scraper **out)
{
    agent_scraper *sc = calloc(1, sizeof *sc);
    if (!sc)
        return -ENOMEM;
    sc->slots = calloc(agent_ncollectors ? agent_ncollectors : 1, sizeof *sc->slots);
    if (!sc->slots) {
        free(sc);
        return -ENOMEM;
    }
    static const char *const keys[4] = {"path.procfs", "path.sysfs", "path.rootfs",
                                        "path.udev.data"};
    for (int i = 0; i < 4; i++) {
        snprintf(sc->roots[i], sizeof sc->roots[i], "%s", vg_config_str(cfg, keys[i]));
        strip_slash(sc->roots[i]);
        sc->ctx.roots[i] = sc->roots[i];
    }
    sc->ctx.cfg = cfg;
    sc->ctx.log = log;
    sc->ctx.reg = reg;
    vg_metric *pe = vg_registry_add(reg, "vigil_agent_parse_errors_total", VG_MT_COUNTER,
                                    "Malformed lines or files skipped by collectors.", 0, NULL,
                                    NULL, 0, 1);
    sc->ctx.parse_errors = vg_metric_series0(pe);
    vg_buf_init(&sc->ctx.scratch);
    sc->n = agent_ncollectors;
    for (size_t i = 0; i < sc->n; i++) {
        sc->slots[i].c = agent_collectors[i];
        sc->slots[i].enabled = is_enabled(cfg, agent_collectors[i]);
        init_slot(sc, &sc->slots[i]);
    }
    *out = sc;
    return 0;
}

void agent_scraper_set_config(agent_scraper *sc, const vg_config *cfg)
{
    sc->ctx.cfg = cfg;
    for (size_t i = 0; i < sc->n; i++) {
        sc->slots[i].enabled = is_enabled(cfg, sc->slots[i].c);
        init_slot(sc, &sc->slots[i]);
    }
}

size_t agent_scraper_enabled(const agent_scraper *sc)
{
    size_t k = 0;
    for (size_t i = 0; i < sc->n; i++)
        k += sc->slots[i].enabled ? 1u : 0u;
    return k;
}

void agent_scraper_free(agent_scraper *sc)
{
    if (!sc)
        return;
    for (size_t i = 0; i < sc->n; i++)
        if (sc->slots[i].inited && sc->slots[i].c->release)
            sc->slots[i].c->release(sc->slots[i].state);
    vg_buf_release(&sc->ctx.scratch);
    agent_ctx_release(&sc->ctx);
    free(sc->slots);
    free(sc);
}

/* Call slot sl's collect(); false when it moved (sl->pending). */
static bool run_slot(agent_scraper *sc, slot *sl, vg_scrape *s)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = -ENODEV;
    if (sl->inited)
        rc = sl->c->collect(&sc->ctx, sl->state, s);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    sl->secs += (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    sl->pending = rc == AGENT_COLLECT_MOVED;
    sl->rc = rc;
    return !sl->pending;
}

static void begin(agent_scraper *sc, uint64_t deadline_ms)
{
    sc->ctx.deadline_ms = deadline_ms;
    sc->ctx.collection++;
    sc->next = 0;
    for (size_t i = 0; i < sc->n; i++) {
        sc->slots[i].secs = 0;
        sc->slots[i].pending = false;
    }
}

/* The per-collector series, in table order, once every collector ran. */
static void finish(agent_scraper *sc, vg_scrape *s)
{
    static const char *const lbl[1] = {"collector"};
    vg_family *dur = vg_scrape_family(s, "node_scrape_collector_duration_seconds", VG_MT_GAUGE,
                                      "node_exporter: Duration of a collector scrape.", 1, lbl);
    vg_family *ok = vg_scrape_family(s, "node_scrape_collector_success", VG_MT_GAUGE,
                                     "node_exporter: Whether a collector succeeded.", 1, lbl);
    for (size_t i = 0; i < sc->n; i++) {
        slot *sl = &sc->slots[i];
        if (!sl->enabled)
            continue;
        int rc = sl->rc;
        vg_family_add(dur, sl->secs, sl->c->name);
        vg_family_add(ok, rc == 0 ? 1 : 0, sl->c->name);
        if (rc != sl->last_rc) {
            if (rc)
                vg_log_warn(sc->ctx.log, "agent", "collector failed", "collector", sl->c->name,
                            "err", rc == -ENODEV ? "not initialised" : strerror(-rc));
            else
                vg_log_info(sc->ctx.log, "agent", "collector recovered", "collector",
                            sl->c->name);
            sl->last_rc = rc;
        }
    }
}

int agent_scraper_collect_loop(agent_scraper *sc, vg_scrape *s, uint64_t deadline_ms)
{
    int rc = 1;
    begin(sc, deadline_ms);
    for (; sc->next < sc->n; sc->next++) {
        slot *sl = &sc->slots[sc->next];
        if (!sl->enabled)
            continue;
        if (!sl->c->loop_safe)
            goto out;
        sc->ctx.loop_until_ms = AGENT_LOOP_NO_WAIT;
        run_slot(sc, sl, s);
    }
    /* the collectors that started workers: wait for them a little */
    for (size_t i = 0; i < sc->n; i++) {
        if (!sc->slots[i].pending)
            continue;
        sc->ctx.loop_until_ms = vg_now_ms() + AGENT_LOOP_WAIT_MS;
        if (!run_slot(sc, &sc->slots[i], s))
            goto out;
    }
    finish(sc, s);
    rc = 0;
out:
    sc->ctx.loop_until_ms = 0;
    return rc;
}

int agent_scraper_collect_rest(agent_scraper *sc, vg_scrape *s)
{
    sc->ctx.loop_until_ms = 0;
    for (size_t i = 0; i < sc->n; i++)
        if (sc->slots[i].pending)
            run_slot(sc, &sc->slots[i], s);
    for (; sc->next < sc->n; sc->next++) {
        slot *sl = &sc->slots[sc->next];
        if (sl->enabled)
            run_slot(sc, sl, s);
    }
    finish(sc, s);
    return 0;
}

int agent_scraper_collect(agent_scraper *sc, vg_scrape *s, uint64_t deadline_ms)
{
    begin(sc, deadline_ms);
    return agent_scraper_collect_rest(sc, s);
}
