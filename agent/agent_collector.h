/*
 * agent_collector.h - the one small interface every agent collector implements.
 *
 * A collector reads one kernel source (a /proc or /sys file family, a
 * cgroup tree, NVML) and adds families to the scrape. Collectors are listed
 * in a const table (agent_collectors.c); each is switched on or off with
 * --collector.NAME / --no-collector.NAME and reported in
 * node_scrape_collector_success{collector} and
 * node_scrape_collector_duration_seconds{collector}.
 *
 * Rules every collector follows:
 *  - Every path goes through agent_path() so --path.procfs, --path.sysfs,
 *    --path.rootfs and --path.udev.data apply (the DaemonSet mounts the
 *    host's / at /host).
 *  - A malformed line is skipped and counted (agent_ctx_parse_error), never
 *    a crash; collect() returns a negative errno only when the source as a
 *    whole is unusable (file missing, unreadable): the scrape goes on and the
 *    collector reports success 0.
 *  - collect() runs one collector at a time, on the event loop thread for
 *    collectors marked loop_safe (until one that is not: the rest of that
 *    collection runs on the collection thread); it must return before
 *    ctx->deadline_ms (monotonic), using worker threads with a timeout for
 *    calls that can block (statfs on a hung mount). On the loop
 *    (ctx->loop_until_ms != 0) a collector that would wait for its workers
 *    past loop_until_ms (already past on the first call: start them and go)
 *    returns AGENT_COLLECT_MOVED instead, having added nothing yet; collect()
 *    is called again later (on the loop or the collection thread) to finish.
 *  - Per-collector state lives in the void* that init() returns; no globals.
 */
#ifndef AGENT_COLLECTOR_H
#define AGENT_COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vg_buf.h"
#include "vg_config.h"
#include "vg_log.h"
#include "vg_metrics.h"

typedef enum {
    AGENT_ROOT_PROC = 0,   /* --path.procfs     (default /proc) */
    AGENT_ROOT_SYS,        /* --path.sysfs      (default /sys) */
    AGENT_ROOT_ROOTFS,     /* --path.rootfs     (default /) */
    AGENT_ROOT_UDEV,       /* --path.udev.data  (default /run/udev/data) */
} agent_root;

typedef struct agent_ctx {
    const char *roots[4];        /* indexed by agent_root, no trailing '/' ("" for "/") */
    const vg_config *cfg;        /* collector options (collector.NAME.*) */
    vg_log *log;
    vg_registry *reg;            /* long-lived self metrics */
    vg_series *parse_errors;     /* vigil_agent_parse_errors_total (no labels) */
    uint64_t deadline_ms;        /* monotonic ms by which collect must return */
    vg_buf scratch;              /* reusable read buffer for collectors */
    struct agent_kept *kept;     /* files kept open for agent_read_kept */
    size_t nkept;
    size_t kept_next;            /* where agent_read_kept looks first */
    uint64_t collection;         /* bumped by the scraper before each collection */
    uint64_t loop_until_ms;      /* on the loop thread: wait no longer than this; else 0 */
} agent_ctx;

/* collect() on the loop would have to wait: call it again on the thread. */
#define AGENT_COLLECT_MOVED 1

typedef struct agent_collector {
    const char *name;            /* "cpu", "meminfo", ... */
    bool default_enabled;
    const char *help;            /* one line, shown in --help */
    const vg_opt_def *opts;      /* collector-specific options, or NULL */
    size_t nopts;
    /* Optional: allocate state. Return 0 or -errno (collector disabled). */
    int (*init)(agent_ctx *ctx, void **state);
    /* Add families to s. 0, or -errno when the source is unusable. */
    int (*collect)(agent_ctx *ctx, void *state, vg_scrape *s);
    /* Optional: free state. */
    void (*release)(void *state);
    /* collect() may run on the event loop thread (which saves the hand-off
     * to the collection thread): it only reads procfs and sysfs, or waits
     * for its workers no longer than ctx->loop_until_ms. Left false (pods,
     * gpu, any new collector until shown otherwise): the collection thread. */
    bool loop_safe;
} agent_collector;

/* The const table, in output order; defined in agent_collectors.c. */
extern const agent_collector *const agent_collectors[];
extern const size_t agent_ncollectors;

/*
 * Build "<root><rel>" into out (rel starts with '/'). Returns 0, or
 * -ENAMETOOLONG. For AGENT_ROOT_ROOTFS a rel of "/" gives the root itself.
 */
int agent_path(const agent_ctx *ctx, agent_root root, const char *rel,
               char *out, size_t outlen);

/* Read "<root><rel>" into ctx->scratch (max 16 MiB). 0 or -errno. */
int agent_read(agent_ctx *ctx, agent_root root, const char *rel);

/*
 * agent_read for the fixed kernel files read every scrape (/proc/stat,
 * /proc/net/netstat, ...): the file is kept open and re-read with pread
 * from offset 0, which regenerates it (no open/close, and seq_file keeps
 * the buffer it grew, so large files are generated once, not twice). A
 * file read twice in one collection (cpu and stat both read /proc/stat) is
 * served from the first read's copy. Up to AGENT_KEPT_MAX files; beyond,
 * or on any error, it behaves exactly as agent_read.
 */
#define AGENT_KEPT_MAX 32
int agent_read_kept(agent_ctx *ctx, agent_root root, const char *rel);

/* Close the kept files (at exit). */
void agent_ctx_release(agent_ctx *ctx);

/* Count one skipped malformed line/file and log it at debug level. */
void agent_ctx_parse_error(agent_ctx *ctx, const char *collector,
                           const char *what);

/*
 * Strip the rootfs prefix from a host path so mount points are reported as
 * the host sees them: with rootfs "/host", "/host/var" -> "/var",
 * "/host" -> "/". Paths outside the rootfs are returned unchanged.
 */
const char *agent_rootfs_strip(const agent_ctx *ctx, const char *path);

#endif
