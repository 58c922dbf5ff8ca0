/*
 * proc_stat.c - the `cpu` and `stat` collectors (node_exporter compatible).
 *
 * Both read /proc/stat in place: one pass over the buffer, no per-line
 * allocation. The cpu collector also reads two sysfs sources node_exporter
 * 1.5 reports by default: the isolated CPU list and the thermal throttle
 * counters (present on bare-metal x86 only).
 */
#include "proc_stat.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vg_parse.h"

/* Order of the value columns on a cpuN line. */
enum {
    CPU_USER = 0, CPU_NICE, CPU_SYSTEM, CPU_IDLE, CPU_IOWAIT, CPU_IRQ,
    CPU_SOFTIRQ, CPU_STEAL, CPU_GUEST, CPU_GUEST_NICE, CPU_NCOLS
};

/* A line needs at least user, nice, system, idle; later columns default 0. */
#define CPU_MIN_COLS 4
/* Idle going back this much (seconds) means the CPU was hot-plugged. */
#define CPU_JUMP_BACK_SECONDS 3.0
/* Largest CPU id accepted (the kernel's NR_CPUS limit is 8192). */
#define CPU_MAX_ID 8191u

typedef struct cpu_slot {
    double v[CPU_NCOLS];
} cpu_slot;

struct proc_cpu_state {
    cpu_slot *slots;   /* indexed by CPU id */
    size_t n;
};

int proc_cpu_state_new(proc_cpu_state **out)
{
    proc_cpu_state *st = calloc(1, sizeof *st);
    if (!st)
        return -ENOMEM;
    *out = st;
    return 0;
}

void proc_cpu_state_free(proc_cpu_state *st)
{
    if (!st)
        return;
    free(st->slots);
    free(st);
}

static cpu_slot *cpu_state_slot(proc_cpu_state *st, size_t id)
{
    if (id >= st->n) {
        size_t n = st->n ? st->n : 16;
        while (n <= id)
            n *= 2;
        cpu_slot *p = realloc(st->slots, n * sizeof *p);
        if (!p)
            return NULL;
        memset(p + st->n, 0, (n - st->n) * sizeof *p);
        st->slots = p;
        st->n = n;
    }
    return &st->slots[id];
}

/* Apply the never-backwards rule; v is updated to what gets reported. */
static void cpu_state_apply(cpu_slot *old, double *v)
{
    if (old->v[CPU_IDLE] - v[CPU_IDLE] >= CPU_JUMP_BACK_SECONDS)
        memset(old, 0, sizeof *old);
    for (size_t i = 0; i < CPU_NCOLS; i++) {
        if (v[i] >= old->v[i])
            old->v[i] = v[i];
        else
            v[i] = old->v[i];
    }
}

static const char *const cpu_labels[2] = {"cpu", "mode"};

int proc_stat_parse_cpu(const char *buf, size_t len, double user_hz,
                        proc_cpu_state *st, vg_scrape *s, unsigned *skipped)
{
    /* Emitted in node_exporter's (sorted) mode order. */
    static const struct { const char *mode; int col; } modes[] = {
        {"idle", CPU_IDLE}, {"iowait", CPU_IOWAIT}, {"irq", CPU_IRQ},
        {"nice", CPU_NICE}, {"softirq", CPU_SOFTIRQ}, {"steal", CPU_STEAL},
        {"system", CPU_SYSTEM}, {"user", CPU_USER},
    };
    if (!(user_hz > 0))
        user_hz = 100.0;
    vg_family *fs = NULL, *fg = NULL;
    int ncpu = 0;
    vg_lines it;
    vg_slice line;
    vg_lines_init(&it, buf, len);
    while (vg_lines_next(&it, &line)) {
        /* "cpu " is the aggregate line; only "cpuN" lines are reported. */
        if (line.n < 4 || memcmp(line.p, "cpu", 3) != 0 || line.p[3] < '0' || line.p[3] > '9')
            continue;
        vg_slice f[1 + CPU_NCOLS + 1];
        size_t nf = vg_fields(line, f, sizeof f / sizeof f[0]);
        vg_slice idsl = {f[0].p + 3, f[0].n - 3};
        uint64_t id;
        if (nf < 1 + CPU_MIN_COLS || vg_parse_u64(idsl, &id) || id > CPU_MAX_ID) {
            (*skipped)++;
            continue;
        }
        double v[CPU_NCOLS] = {0};
        size_t ncols = nf - 1 < CPU_NCOLS ? nf - 1 : CPU_NCOLS;
        bool bad = false;
        for (size_t i = 0; i < ncols && !bad; i++) {
            uint64_t ticks;
            if (vg_parse_u64(f[1 + i], &ticks))
                bad = true;
            else
                v[i] = (double)ticks / user_hz;
        }
        if (bad) {
            (*skipped)++;
            continue;
        }
        if (st) {
            cpu_slot *slot = cpu_state_slot(st, (size_t)id);
            if (slot)
                cpu_state_apply(slot, v);
        }
        if (!fs) {
            fs = vg_scrape_family(s, "node_cpu_seconds_total", VG_MT_COUNTER,
                                  "Seconds the CPUs spent in each mode.", 2, cpu_labels);
            fg = vg_scrape_family(s, "node_cpu_guest_seconds_total", VG_MT_COUNTER,
                                  "Seconds the CPUs spent in guests (VMs) for each mode.", 2,
                                  cpu_labels);
        }
        char cpu[24];
        snprintf(cpu, sizeof cpu, "%llu", (unsigned long long)id);
        if (vg_family_add(fs, v[modes[0].col], cpu, modes[0].mode) == -EEXIST) {
            (*skipped)++; /* the same cpuN line twice */
            continue;
        }
        for (size_t i = 1; i < sizeof modes / sizeof modes[0]; i++)
            vg_family_add(fs, v[modes[i].col], cpu, modes[i].mode);
        /* Guest time is also inside user and nice; reported separately too. */
        vg_family_add(fg, v[CPU_GUEST_NICE], cpu, "nice");
        vg_family_add(fg, v[CPU_GUEST], cpu, "user");
        ncpu++;
    }
    return ncpu ? ncpu : -EINVAL;
}

int proc_stat_parse_stat(const char *buf, size_t len, vg_scrape *s, unsigned *skipped)
{
    static const struct {
        const char *key;
        const char *name;
        vg_mtype type;
        const char *help;
    } keys[] = {
        {"btime", "node_boot_time_seconds", VG_MT_GAUGE, "Node boot time, in unixtime."},
        {"ctxt", "node_context_switches_total", VG_MT_COUNTER, "Total number of context switches."},
        {"processes", "node_forks_total", VG_MT_COUNTER, "Total number of forks."},
        {"intr", "node_intr_total", VG_MT_COUNTER, "Total number of interrupts serviced."},
        {"procs_running", "node_procs_running", VG_MT_GAUGE, "Number of processes in runnable state."},
        {"procs_blocked", "node_procs_blocked", VG_MT_GAUGE,
         "Number of processes blocked waiting for I/O to complete."},
    };
    int added = 0;
    vg_lines it;
    vg_slice line;
    vg_lines_init(&it, buf, len);
    while (vg_lines_next(&it, &line)) {
        /* intr is followed by per-IRQ columns (not needed); the other keys
         * have exactly one value, so a third field means a garbled line. */
        vg_slice f[3];
        size_t nf = vg_fields(line, f, 3);
        if (nf < 1)
            continue;
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            if (!vg_slice_eq(f[0], keys[k].key))
                continue;
            uint64_t v;
            bool intr = strcmp(keys[k].key, "intr") == 0;
            if (nf < 2 || (nf > 2 && !intr) || vg_parse_u64(f[1], &v)) {
                (*skipped)++;
                break;
            }
            if (vg_scrape_add1(s, keys[k].name, keys[k].type, keys[k].help, (double)v) == 0)
                added++;
            else
                (*skipped)++; /* the same key twice */
            break;
        }
    }
    return added ? added : -EINVAL;
}

/* One "a" or "a-b" element of a CPU list; 0 or -EINVAL. */
static int cpulist_elem(vg_slice e, uint64_t *lo, uint64_t *hi)
{
    const char *dash = memchr(e.p, '-', e.n);
    if (!dash) {
        if (vg_parse_u64(e, lo))
            return -EINVAL;
        *hi = *lo;
    } else {
        vg_slice a = {e.p, (size_t)(dash - e.p)};
        vg_slice b = {dash + 1, e.n - a.n - 1};
        if (vg_parse_u64(a, lo) || vg_parse_u64(b, hi) || *hi < *lo)
            return -EINVAL;
    }
    return *hi > CPU_MAX_ID ? -EINVAL : 0;
}

int proc_stat_parse_isolated(const char *buf, size_t len, vg_scrape *s)
{
    static const char *const lbl[1] = {"cpu"};
    vg_slice all = vg_slice_trim((vg_slice){buf, len});
    /* Validate the whole list first so a bad list adds nothing. */
    for (int pass = 0; pass < 2; pass++) {
        int n = 0;
        vg_family *f = NULL;
        size_t i = 0;
        while (i < all.n) {
            const char *comma = memchr(all.p + i, ',', all.n - i);
            size_t end = comma ? (size_t)(comma - all.p) : all.n;
            vg_slice e = {all.p + i, end - i};
            uint64_t lo, hi;
            if (cpulist_elem(e, &lo, &hi))
                return -EINVAL;
            if (pass == 1) {
                if (!f) {
                    f = vg_scrape_family(s, "node_cpu_isolated", VG_MT_GAUGE,
                                         "Whether each core is isolated, information from "
                                         "/sys/devices/system/cpu/isolated.",
                                         1, lbl);
                }
                for (uint64_t c = lo; c <= hi; c++) {
                    char cpu[24];
                    snprintf(cpu, sizeof cpu, "%llu", (unsigned long long)c);
                    if (vg_family_add(f, 1.0, cpu) == 0)
                        n++;
                }
            }
            i = comma ? end + 1 : all.n;
            if (comma && i == all.n)
                return -EINVAL; /* trailing comma */
        }
        if (pass == 1)
            return n;
    }
    return 0;
}

/* ---------- thermal throttle counters (sysfs) ---------- */

typedef struct throttle_core {
    uint64_t package, core;
} throttle_core;

typedef struct cpu_collector {
    proc_cpu_state *st;
    long user_hz;
    /* Boot-time facts, learnt on the first scrape: the isolated list
     * (isolcpus= cannot change at run time) and whether the thermal
     * throttle driver is there at all. */
    bool probed;
    bool no_throttle;
    char *isolated;       /* the file's contents, NULL when absent */
    size_t isolated_len;
    /* Scratch kept across scrapes: CPU ids found in sysfs, and the
     * packages/cores already reported this scrape. */
    unsigned *ids;
    size_t capids;
    throttle_core *seen;
    size_t nseen, capseen;
} cpu_collector;

/* Read a small sysfs file holding one unsigned number. */
static int read_u64_file(agent_ctx *ctx, const char *rel, uint64_t *out)
{
    int rc = agent_read(ctx, AGENT_ROOT_SYS, rel);
    if (rc)
        return rc;
    vg_slice v = vg_slice_trim((vg_slice){ctx->scratch.data, ctx->scratch.len});
    return vg_parse_u64(v, out);
}

/* "cpuN" -> N; false for anything else (cpufreq, cpuidle...). */
static bool cpu_dir_id(const char *name, unsigned *id)
{
    if (strncmp(name, "cpu", 3) != 0)
        return false;
    uint64_t v;
    if (vg_parse_u64((vg_slice){name + 3, strlen(name + 3)}, &v) || v > CPU_MAX_ID)
        return false;
    *id = (unsigned)v;
    return true;
}

static int seen_add(cpu_collector *c, uint64_t package, uint64_t core)
{
    if (c->nseen == c->capseen) {
        size_t n = c->capseen ? c->capseen * 2 : 64;
        throttle_core *p = realloc(c->seen, n * sizeof *p);
        if (!p)
            return -ENOMEM;
        c->seen = p;
        c->capseen = n;
    }
    c->seen[c->nseen++] = (throttle_core){package, core};
    return 0;
}

static bool seen_has(const cpu_collector *c, uint64_t package, uint64_t core, bool any_core)
{
    for (size_t i = 0; i < c->nseen; i++)
        if (c->seen[i].package == package && (any_core || c->seen[i].core == core))
            return true;
    return false;
}

static int id_cmp(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    return x < y ? -1 : x > y;
}

/* The cpuN ids under <sysfs>/devices/system/cpu, ascending; count or -errno. */
static int cpu_list_ids(agent_ctx *ctx, cpu_collector *c)
{
    char dirpath[4096];
    int rc = agent_path(ctx, AGENT_ROOT_SYS, "/devices/system/cpu", dirpath, sizeof dirpath);
    if (rc)
        return rc;
    DIR *d = opendir(dirpath);
    if (!d)
        return -errno;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        unsigned id;
        if (!cpu_dir_id(de->d_name, &id))
            continue;
        if (n == c->capids) {
            size_t cap = c->capids ? c->capids * 2 : 64;
            unsigned *p = realloc(c->ids, cap * sizeof *p);
            if (!p)
                break;
            c->ids = p;
            c->capids = cap;
        }
        c->ids[n++] = id;
    }
    closedir(d);
    if (n > 1)
        qsort(c->ids, n, sizeof c->ids[0], id_cmp);
    return (int)n;
}

/*
 * node_cpu_{core,package}_throttles_total, CPUs in id order (the first
 * CPU of a package or core gives its value; SMT siblings repeat it). The
 * therm_throt driver creates thermal_throttle for every CPU or for none,
 * so when the lowest CPU lacks it the scan stops: a VM pays one failed
 * open per scrape, not one per CPU.
 */
static void cpu_collect_throttles(agent_ctx *ctx, cpu_collector *c, vg_scrape *s)
{
    static const char *const pkg_lbl[1] = {"package"};
    static const char *const core_lbl[2] = {"core", "package"};
    if (c->no_throttle)
        return;
    int n = cpu_list_ids(ctx, c);
    vg_family *fp = NULL, *fc = NULL;
    c->nseen = 0;
    for (int i = 0; i < n; i++) {
        char rel[128];
        unsigned id = c->ids[i];
        uint64_t core_count, pkg_count, package, core;
        snprintf(rel, sizeof rel, "/devices/system/cpu/cpu%u/thermal_throttle/core_throttle_count",
                 id);
        int crc = read_u64_file(ctx, rel, &core_count);
        snprintf(rel, sizeof rel,
                 "/devices/system/cpu/cpu%u/thermal_throttle/package_throttle_count", id);
        int prc = read_u64_file(ctx, rel, &pkg_count);
        if (i == 0 && crc == -ENOENT && prc == -ENOENT) {
            c->no_throttle = true; /* a driver cannot appear later */
            break;
        }
        if (crc && prc)
            continue;
        snprintf(rel, sizeof rel, "/devices/system/cpu/cpu%u/topology/physical_package_id", id);
        if (read_u64_file(ctx, rel, &package))
            continue;
        snprintf(rel, sizeof rel, "/devices/system/cpu/cpu%u/topology/core_id", id);
        if (read_u64_file(ctx, rel, &core))
            continue;
        char pkg[24], cor[24];
        snprintf(pkg, sizeof pkg, "%llu", (unsigned long long)package);
        snprintf(cor, sizeof cor, "%llu", (unsigned long long)core);
        if (prc == 0 && !seen_has(c, package, 0, true)) {
            if (!fp)
                fp = vg_scrape_family(s, "node_cpu_package_throttles_total", VG_MT_COUNTER,
                                      "Number of times this CPU package has been throttled.", 1,
                                      pkg_lbl);
            vg_family_add(fp, (double)pkg_count, pkg);
        }
        if (crc == 0 && !seen_has(c, package, core, false)) {
            if (!fc)
                fc = vg_scrape_family(s, "node_cpu_core_throttles_total", VG_MT_COUNTER,
                                      "Number of times this CPU core has been throttled.", 2,
                                      core_lbl);
            vg_family_add(fc, (double)core_count, cor, pkg);
        }
        if (seen_add(c, package, core))
            break;
    }
}

/* ---------- collectors ---------- */

static int cpu_init(agent_ctx *ctx, void **state)
{
    cpu_collector *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    int rc = proc_cpu_state_new(&c->st);
    if (rc) {
        free(c);
        return rc;
    }
    c->user_hz = sysconf(_SC_CLK_TCK);
    if (c->user_hz <= 0)
        c->user_hz = 100;
    *state = c;
    return 0;
}

static void cpu_release(void *state)
{
    cpu_collector *c = state;
    if (!c)
        return;
    proc_cpu_state_free(c->st);
    free(c->isolated);
    free(c->ids);
    free(c->seen);
    free(c);
}

static int cpu_collect(agent_ctx *ctx, void *state, vg_scrape *s)
{
    cpu_collector *c = state;
    int rc = agent_read_kept(ctx, AGENT_ROOT_PROC, "/stat");
    if (rc)
        return rc;
    unsigned skipped = 0;
    rc = proc_stat_parse_cpu(ctx->scratch.data, ctx->scratch.len, (double)c->user_hz, c->st, s,
                             &skipped);
    for (unsigned i = 0; i < skipped; i++)
        agent_ctx_parse_error(ctx, "cpu", "/proc/stat cpu line");
    if (rc < 0)
        return rc;
    if (!c->probed) {
        c->probed = true;
        if (agent_read(ctx, AGENT_ROOT_SYS, "/devices/system/cpu/isolated") == 0) {
            c->isolated = malloc(ctx->scratch.len + 1);
            if (c->isolated) {
                memcpy(c->isolated, ctx->scratch.data, ctx->scratch.len);
                c->isolated_len = ctx->scratch.len;
            }
        }
    }
    if (c->isolated && proc_stat_parse_isolated(c->isolated, c->isolated_len, s) < 0)
        agent_ctx_parse_error(ctx, "cpu", "/sys/devices/system/cpu/isolated");
    cpu_collect_throttles(ctx, c, s);
    return 0;
}

static int stat_collect(agent_ctx *ctx, void *state, vg_scrape *s)
{
    int rc = agent_read_kept(ctx, AGENT_ROOT_PROC, "/stat");
    if (rc)
        return rc;
    unsigned skipped = 0;
    rc = proc_stat_parse_stat(ctx->scratch.data, ctx->scratch.len, s, &skipped);
    for (unsigned i = 0; i < skipped; i++)
        agent_ctx_parse_error(ctx, "stat", "/proc/stat line");
    return rc < 0 ? rc : 0;
}

const agent_collector agent_collector_cpu = {
    .name = "cpu",
    .default_enabled = true,
    .help = "CPU time per CPU and mode from /proc/stat (node_cpu_seconds_total)",
    .init = cpu_init,
    .collect = cpu_collect,
    .release = cpu_release,
    .loop_safe = true,
};

const agent_collector agent_collector_stat = {
    .name = "stat",
    .default_enabled = true,
    .help = "Boot time, context switches, forks, interrupts and process counts from /proc/stat",
    .collect = stat_collect,
    .loop_safe = true,
};
