/*
 * proc_pressure.c - the `pressure` collector (node_exporter compatible).
 *
 * A kernel without PSI has no /proc/pressure/cpu, read first: the collector
 * fails before adding anything. io or memory missing while cpu is there
 * (not seen in practice) fails the collector too, as in node_exporter;
 * irq is optional.
 */
#include "proc_pressure.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "vg_parse.h"

typedef struct pressure_series {
    const char *name;
    const char *help;
} pressure_series;

/* [resource][0 = some, 1 = full]; a NULL name is not reported. */
static const pressure_series pressure_map[4][2] = {
    [PROC_PRESSURE_CPU] = {
        {"node_pressure_cpu_waiting_seconds_total",
         "Total time in seconds that processes have waited for CPU time"},
        {NULL, NULL},
    },
    [PROC_PRESSURE_IO] = {
        {"node_pressure_io_waiting_seconds_total",
         "Total time in seconds that processes have waited due to IO congestion"},
        {"node_pressure_io_stalled_seconds_total",
         "Total time in seconds no process could make progress due to IO congestion"},
    },
    [PROC_PRESSURE_MEMORY] = {
        {"node_pressure_memory_waiting_seconds_total",
         "Total time in seconds that processes have waited for memory"},
        {"node_pressure_memory_stalled_seconds_total",
         "Total time in seconds no process could make progress due to memory congestion"},
    },
    [PROC_PRESSURE_IRQ] = {
        {NULL, NULL},
        {"node_pressure_irq_stalled_seconds_total",
         "Total time in seconds no process could make progress due to IRQ congestion"},
    },
};

int proc_pressure_parse(const char *buf, size_t len, proc_pressure_resource res, vg_scrape *s,
                        unsigned *skipped)
{
    if ((unsigned)res > PROC_PRESSURE_IRQ)
        return -EINVAL;
    int added = 0;
    bool usable = false;
    vg_lines it;
    vg_slice line;
    vg_lines_init(&it, buf, len);
    while (vg_lines_next(&it, &line)) {
        vg_slice f[6];
        size_t nf = vg_fields(line, f, 6);
        if (nf == 0)
            continue;
        int kind = vg_slice_eq(f[0], "some") ? 0 : vg_slice_eq(f[0], "full") ? 1 : -1;
        /* total= is the last of the key=value fields; find it by name. */
        uint64_t total = 0;
        bool have = false;
        for (size_t i = 1; i < nf && i < 6; i++) {
            if (vg_slice_has_prefix(f[i], "total=")) {
                vg_slice v = {f[i].p + 6, f[i].n - 6};
                have = vg_parse_u64(v, &total) == 0;
                break;
            }
        }
        if (kind < 0 || !have) {
            (*skipped)++;
            continue;
        }
        usable = true;
        const pressure_series *ps = &pressure_map[res][kind];
        if (!ps->name)
            continue;
        /* µs -> s as node_exporter computes it (two divisions), so values match bit for bit. */
        double v = (double)total / 1000.0 / 1000.0;
        if (vg_scrape_add1(s, ps->name, VG_MT_COUNTER, ps->help, v) == 0)
            added++;
        else
            (*skipped)++;
    }
    return usable ? added : -EINVAL;
}

/* State: whether the optional irq file exists (it cannot appear later). */
typedef struct pressure_state {
    bool irq_absent;
} pressure_state;

static int pressure_init(agent_ctx *ctx, void **state)
{
    pressure_state *ps = calloc(1, sizeof *ps);
    if (!ps)
        return -ENOMEM;
    *state = ps;
    return 0;
}

static void pressure_release(void *state)
{
    free(state);
}

static int pressure_collect(agent_ctx *ctx, void *state, vg_scrape *s)
{
    static const char *const files[4] = {"/pressure/cpu", "/pressure/io", "/pressure/memory",
                                         "/pressure/irq"};
    pressure_state *ps = state;
    int result = 0;
    for (int r = PROC_PRESSURE_CPU; r <= PROC_PRESSURE_IRQ; r++) {
        if (r == PROC_PRESSURE_IRQ && ps && ps->irq_absent)
            break;
        int rc = agent_read_kept(ctx, AGENT_ROOT_PROC, files[r]);
        if (rc) {
            /* No PSI at all (cpu is read first): fail before adding anything. */
            if (r == PROC_PRESSURE_CPU)
                return rc;
            /* irq is optional (CONFIG_IRQ_TIME_ACCOUNTING); remember its absence. */
            if (r == PROC_PRESSURE_IRQ) {
                if (ps && rc == -ENOENT)
                    ps->irq_absent = true;
            } else {
                result = rc;
            }
            continue;
        }
        unsigned skipped = 0;
        rc = proc_pressure_parse(ctx->scratch.data, ctx->scratch.len,
                                 (proc_pressure_resource)r, s, &skipped);
        for (unsigned i = 0; i < skipped; i++)
            agent_ctx_parse_error(ctx, "pressure", files[r]);
        if (rc < 0 && r != PROC_PRESSURE_IRQ)
            result = rc;
    }
    return result;
}

const agent_collector agent_collector_pressure = {
    .name = "pressure",
    .default_enabled = true,
    .help = "Pressure stall information from /proc/pressure (node_pressure_*)",
    .init = pressure_init,
    .collect = pressure_collect,
    .release = pressure_release,
    .loop_safe = true,
};
