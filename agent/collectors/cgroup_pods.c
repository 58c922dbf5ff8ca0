/*
 * cgroup_pods.c - the `pods` collector (see cgroup_pods.h for the families).
 *
 * Each scrape:
 *  1. find the hierarchies once (mountinfo or --collector.pods.cgroup-root)
 *     and the kubepods roots in the one whose tree is walked (v2: the
 *     unified mount; v1: memory, else cpuacct, else cpu);
 *  2. list the pod cgroups (one or two directory levels below each root)
 *     and merge them, sorted, with the cached pods: pods that vanished are
 *     dropped, new ones added;
 *  3. per pod, open its directory once per hierarchy, list and merge its
 *     child cgroups, resolve names for new container ids from the runtime
 *     state, read every container's files relative to the open directory
 *     and emit, then the pod's own files and its network namespace.
 * Directories are re-listed every scrape (cheap: one getdents per pod);
 * runtime names, start times and the set of files a cgroup lacks are kept
 * for the cgroup's lifetime; the rarely-changing spec files (limits,
 * shares) are re-read every --collector.pods.spec-interval.
 *
 * Output order is deterministic (sorted directory names), which golden
 * tests rely on.
 */
#include "cgroup_pods.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroup_ident.h"
#include "cgroup_mounts.h"
#include "cgroup_netdev.h"
#include "cgroup_stats.h"
#include "pod_labels_load.h"
#include "runtime_state.h"

#define PODS_READBUF (64u * 1024u)
#define MAX_KUBEPODS_ROOTS 4
#define KPROOT_MAX 256
#define REL_MAX 1024
#define NAMES_RETRY_MAX 64       /* scrapes between runtime-state retries, at most */
#define REDISCOVER_EVERY 10      /* scrapes between searches when no kubepods root */
#define MAX_DEVNAMES 256
#define MAX_NETDEVS 16
#define HELPER_MIN_PODS 16       /* fewer: a second thread is not worth starting */

/* ---------------- families ---------------- */

typedef enum { LX_NONE = 0, LX_CPU, LX_DEVICE, LX_IFACE, LX_POD } label_extra;

typedef enum {
    F_CPU_USAGE,
    F_CPU_USER,
    F_CPU_SYSTEM,
    F_CFS_PERIODS,
    F_CFS_THROTTLED_PERIODS,
    F_CFS_THROTTLED_SECONDS,
    F_MEM_USAGE,
    F_MEM_WORKING_SET,
    F_MEM_RSS,
    F_MEM_CACHE,
    F_MEM_SWAP,
    F_MEM_MAPPED,
    F_MEM_FAILCNT,
    F_MEM_MAX_USAGE,
    F_OOM_EVENTS,
    F_FS_READS,
    F_FS_WRITES,
    F_NET_RX_BYTES,
    F_NET_RX_PACKETS,
    F_NET_RX_DROPPED,
    F_NET_RX_ERRORS,
    F_NET_TX_BYTES,
    F_NET_TX_PACKETS,
    F_NET_TX_DROPPED,
    F_NET_TX_ERRORS,
    F_PSI_CPU_WAITING,
    F_PSI_CPU_STALLED,
    F_PSI_MEM_WAITING,
    F_PSI_MEM_STALLED,
    F_PSI_IO_WAITING,
    F_PSI_IO_STALLED,
    F_SPEC_CPU_QUOTA,
    F_SPEC_CPU_PERIOD,
    F_SPEC_CPU_SHARES,
    F_SPEC_MEM_LIMIT,
    F_PROCESSES,
    F_THREADS,
    F_START_TIME,
    F_POD_CPU,
    F_POD_MEM_WS,
    F_NFAMS,
} fam_id;

typedef struct fam_def {
    const char *name;
    vg_mtype type;
    label_extra extra;
    const char *help;
} fam_def;

#define C VG_MT_COUNTER
#define G VG_MT_GAUGE
static const fam_def fam_defs[F_NFAMS] = {
    {"container_cpu_usage_seconds_total", C, LX_CPU, "Cumulative CPU time consumed, in seconds."},
    {"container_cpu_user_seconds_total", C, LX_NONE, "Cumulative user CPU time consumed, in seconds."},
    {"container_cpu_system_seconds_total", C, LX_NONE, "Cumulative system CPU time consumed, in seconds."},
    {"container_cpu_cfs_periods_total", C, LX_NONE, "Number of elapsed CFS enforcement periods."},
    {"container_cpu_cfs_throttled_periods_total", C, LX_NONE, "Number of CFS periods in which the cgroup was throttled."},
    {"container_cpu_cfs_throttled_seconds_total", C, LX_NONE, "Total time the cgroup was throttled, in seconds."},
    {"container_memory_usage_bytes", G, LX_NONE, "Current memory usage including page cache, in bytes."},
    {"container_memory_working_set_bytes", G, LX_NONE, "Memory usage minus inactive file pages, in bytes."},
    {"container_memory_rss", G, LX_NONE, "Anonymous memory (RSS), in bytes."},
    {"container_memory_cache", G, LX_NONE, "Page cache memory, in bytes."},
    {"container_memory_swap", G, LX_NONE, "Swap usage, in bytes."},
    {"container_memory_mapped_file", G, LX_NONE, "Memory-mapped file pages, in bytes."},
    {"container_memory_failcnt", C, LX_NONE, "Number of times memory usage hit the limit."},
    {"container_memory_max_usage_bytes", G, LX_NONE, "Maximum recorded memory usage, in bytes."},
    {"container_oom_events_total", C, LX_NONE, "Processes killed by the OOM killer in this cgroup (its oom_kill counter)."},
    {"container_fs_reads_bytes_total", C, LX_DEVICE, "Cumulative bytes read from block devices."},
    {"container_fs_writes_bytes_total", C, LX_DEVICE, "Cumulative bytes written to block devices."},
    {"container_network_receive_bytes_total", C, LX_IFACE, "Cumulative bytes received in the pod network namespace."},
    {"container_network_receive_packets_total", C, LX_IFACE, "Cumulative packets received in the pod network namespace."},
    {"container_network_receive_packets_dropped_total", C, LX_IFACE, "Cumulative received packets dropped."},
    {"container_network_receive_errors_total", C, LX_IFACE, "Cumulative errors while receiving."},
    {"container_network_transmit_bytes_total", C, LX_IFACE, "Cumulative bytes transmitted from the pod network namespace."},
    {"container_network_transmit_packets_total", C, LX_IFACE, "Cumulative packets transmitted from the pod network namespace."},
    {"container_network_transmit_packets_dropped_total", C, LX_IFACE, "Cumulative transmitted packets dropped."},
    {"container_network_transmit_errors_total", C, LX_IFACE, "Cumulative errors while transmitting."},
    {"container_pressure_cpu_waiting_seconds_total", C, LX_NONE, "Total time some tasks waited for CPU (PSI some), in seconds."},
    {"container_pressure_cpu_stalled_seconds_total", C, LX_NONE, "Total time all tasks were stalled on CPU (PSI full), in seconds."},
    {"container_pressure_memory_waiting_seconds_total", C, LX_NONE, "Total time some tasks waited for memory (PSI some), in seconds."},
    {"container_pressure_memory_stalled_seconds_total", C, LX_NONE, "Total time all tasks were stalled on memory (PSI full), in seconds."},
    {"container_pressure_io_waiting_seconds_total", C, LX_NONE, "Total time some tasks waited for I/O (PSI some), in seconds."},
    {"container_pressure_io_stalled_seconds_total", C, LX_NONE, "Total time all tasks were stalled on I/O (PSI full), in seconds."},
    {"container_spec_cpu_quota", G, LX_NONE, "CPU quota per period, in microseconds."},
    {"container_spec_cpu_period", G, LX_NONE, "CPU quota period, in microseconds."},
    {"container_spec_cpu_shares", G, LX_NONE, "CPU shares (cgroup v2 weight converted to shares)."},
    {"container_spec_memory_limit_bytes", G, LX_NONE, "Memory limit in bytes; 0 when unlimited."},
    {"container_processes", G, LX_NONE, "Number of processes in the cgroup and its children."},
    {"container_threads", G, LX_NONE, "Number of tasks (threads) in the cgroup."},
    {"container_start_time_seconds", G, LX_NONE, "Start time of the cgroup since the Unix epoch, in seconds (directory mtime)."},
    {"pod_cpu_usage_seconds_total", C, LX_POD, "Cumulative CPU time consumed by the pod, in seconds."},
    {"pod_memory_working_set_bytes", G, LX_POD, "Current working set of the pod, in bytes."},
};
#undef C
#undef G

static const char *const lbl_base[6] = {"container", "id", "image", "name", "namespace", "pod"};
static const char *const lbl_cpu[7] = {"container", "cpu", "id", "image", "name", "namespace", "pod"};
static const char *const lbl_dev[7] = {"container", "device", "id", "image", "name", "namespace", "pod"};
static const char *const lbl_if[7] = {"container", "id", "image", "interface", "name", "namespace", "pod"};
static const char *const lbl_pod[2] = {"namespace", "pod"};

/* ---------------- state ---------------- */

/* The runtime a container cgroup's name points to (cgroup_ident's runtime). */
typedef enum { KRT_NONE = 0, KRT_CONTAINERD, KRT_CRIO, KRT_OTHER } kid_runtime;

/*
 * A child cgroup of a pod, kept for its lifetime. Laid out small (about
 * 170 bytes; a 500-pod node keeps ~1,100 of them).
 */
typedef struct kid {
    char *name;                 /* directory name below the pod (+ the id, see kid_init) */
    const char *cid;            /* container id (in name's block), "" when not a container */
    runtime_info info;
    double start;
    double spec_at;
    cgroup_spec spec;
    cgroup_files files;
    uint32_t names_retry_gen;
    uint8_t names_retry_step;
    int8_t names_state;         /* 0 not tried, 1 known, -1 failed */
    uint8_t runtime;            /* kid_runtime */
    bool container;             /* names a container (not conmon etc.) */
    bool start_ok;
    bool spec_ok;
} kid;

typedef struct pod {
    char *rel;                  /* "/kubepods.slice/.../kubepods-...-pod<uid>.slice" */
    double start;
    double spec_at;
    cgroup_spec spec;
    cgroup_files files;
    kid *kids;
    size_t nkids;
    uint64_t net_pid;           /* the process whose network namespace was checked */
    bool start_ok;
    bool spec_ok;
    bool net_host;              /* net_pid is in the host's namespace (hostNetwork) */
} pod;

/* Sorted list of names kept in one growing buffer. */
typedef struct name_list {
    vg_buf text;
    size_t *off;
    size_t n, cap;
} name_list;

typedef struct devname {
    uint32_t maj, min;
    char name[48];
} devname;

/*
 * One reader's buffers and error counts. The collection thread has one and
 * the helper thread (see pods_state) the other, so they never share.
 */
typedef struct pod_io {
    cgroup_reader rd;
    vg_buf json;                /* runtime-state config.json */
    name_list kids_nl;
} pod_io;

/* What reading one pod found, kept until it is emitted. */
typedef struct pod_read {
    bool ok;                    /* the pod's directory was there */
    const runtime_info *pinfo;  /* names of the pod (into its kids), or NULL */
    size_t nk;                  /* entries used in kst/kok (the pod's kids) */
    cgroup_stats *kst;          /* per child: its stats when kok[i] */
    unsigned char *kok;         /* 1: a container read and to be emitted */
    size_t cap;
    bool pod_ok;
    cgroup_stats pst;           /* the pod cgroup's own stats, when pod_ok */
    uint64_t net_pid;           /* a process whose network namespace is the pod's */
} pod_read;

/*
 * Pods being read by two threads and emitted in order by one: slot
 * i % PIPE_SLOTS holds pod i's results from when a reader takes it until
 * it is emitted. mu guards the counters and ready[]; a slot's contents
 * belong to the thread that took the pod until ready is set, then to the
 * emitting thread until emitted moves past it.
 */
#define PIPE_SLOTS 16
typedef struct pod_pipe {
    pthread_mutex_t mu;
    pthread_cond_t cv;          /* a slot became ready, or free */
    size_t n;                   /* pods in this collection */
    size_t next;                /* next pod to take */
    size_t emitted;             /* pods emitted: slots below it are free */
    bool stop;                  /* deadline: take no more */
    bool ready[PIPE_SLOTS];
    pod_read slot[PIPE_SLOTS];
} pod_pipe;

typedef struct pods_state {
    /* options in effect */
    char opt_root[CGROUP_MOUNT_PATH_MAX];
    /* layout */
    bool layout_done;
    cgroup_mounts mounts;       /* local paths */
    int primary;                /* v1: the controller whose tree is walked */
    char kproots[MAX_KUBEPODS_ROOTS][KPROOT_MAX];
    size_t nkproots;
    bool rediscover;
    uint32_t rediscover_gen;
    /* cache */
    pod *pods;
    size_t npods;
    uint32_t gen;
    /* per-scrape */
    vg_scrape *cur;
    vg_family *fam[F_NFAMS];
    double now;                 /* monotonic seconds */
    double spec_interval;
    char host_netns[64];
    bool host_netns_ok;
    int hfd[CGROUP_CTL_N + 1];  /* hierarchy roots, during a collection (roots_open) */
    int proc_fd;                /* <procfs>/, during a collection */
    /* buffers, error counts, open-file budget: io[0] the collection
     * thread's, io[1] the helper's */
    pod_io io[2];
    size_t fd_limit;            /* --collector.pods.max-open-files in effect */
    name_list pods_nl, l1, l2;
    /*
     * The helper thread. Reading the cgroup files is almost all kernel time
     * (openat/read/close, ~3 us per file, 12 files per container), so with
     * --collector.pods.threads=2 a second thread reads pods while this one
     * reads and emits: on 2 cores the collection takes about half as long
     * (measured in docs/benchmarks.md). Both take the next unread pod from
     * pipe; this thread emits them in order as they are ready, so the
     * output is the same as with one thread and at most PIPE_SLOTS pods'
     * results exist at a time. It lives for one collection
     * (pthread_create/join, ~0.1 ms, against ~25 ms of reading on a 110-pod
     * node) and only runs with HELPER_MIN_PODS pods or more. It touches
     * only the pods it takes, io[1] and their slots.
     */
    int threads;                /* --collector.pods.threads in effect */
    pthread_t helper;
    pod_pipe pipe;
    pod_read main_read;         /* the collection thread's, reused per pod */
    devname *devs;
    size_t ndevs;
    char dev_fallback[48];
    /* self metrics */
    vg_series *err_missing, *err_parse, *err_io;
    /* --pod-labels-allowlist: labels from the API server (NULL when off) */
    pod_labels *pl;
    const pod_labels_ops *plops; /* the plugin's functions (pod_labels_load.h) */
    vg_buf pl_buf;
    const char *pl_vals[POD_LABELS_MAX];
} pods_state;

static const vg_opt_def pods_opts[] = {
    {"collector.pods.cgroup-root", VG_OPT_STRING, NULL,
     "cgroup hierarchy to read, as a path the agent sees (a cgroup2 mount, or a directory "
     "holding v1 controller mounts); empty: found in <procfs>/1/mountinfo",
     VG_OPT_F_RELOADABLE},
    {"collector.pods.containerd-state", VG_OPT_STRING,
     "/run/containerd/io.containerd.runtime.v2.task/k8s.io",
     "containerd task state directory (under --path.rootfs) holding <id>/config.json",
     VG_OPT_F_RELOADABLE},
    {"collector.pods.crio-state", VG_OPT_STRING, "/var/run/containers/storage/overlay-containers",
     "CRI-O container storage run directory (under --path.rootfs) holding "
     "<id>/userdata/config.json",
     VG_OPT_F_RELOADABLE},
    {"collector.pods.spec-interval", VG_OPT_DURATION, "30s",
     "How often the limit and shares files are re-read (0: every scrape)", VG_OPT_F_RELOADABLE},
    {"collector.pods.max-open-files", VG_OPT_INT, "0",
     "cgroup files kept open between scrapes and re-read in place (about 4x cheaper per file, "
     "but ~4.5 KiB of kernel memory each on cgroupfs; capped below the open-file limit); 0: "
     "open and close every file each scrape",
     VG_OPT_F_RELOADABLE},
    {"pod-labels-allowlist", VG_OPT_STRING, NULL,
     "Comma-separated Kubernetes pod label keys added to the pods collector's series as "
     "label_<key>, read from the API server (this node's pods only); empty: no API access",
     0},
    {"node-name", VG_OPT_STRING, NULL,
     "This node's name, for --pod-labels-allowlist (empty: $NODE_NAME)", 0},
    {"kubeconfig", VG_OPT_STRING, NULL,
     "kubeconfig for --pod-labels-allowlist (empty: $KUBECONFIG, then in-cluster)", 0},
    {"collector.pods.threads", VG_OPT_INT, "2",
     "Threads reading cgroup files (1 or 2); a second one about halves the collection time "
     "when a core is free",
     VG_OPT_F_RELOADABLE},
};

/* ---------------- small helpers ---------------- */

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool past_deadline(const agent_ctx *ctx)
{
    if (!ctx->deadline_ms)
        return false;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    return ms > ctx->deadline_ms;
}

static void nl_reset(name_list *nl)
{
    vg_buf_reset(&nl->text);
    nl->n = 0;
}

static void nl_release(name_list *nl)
{
    vg_buf_release(&nl->text);
    free(nl->off);
    memset(nl, 0, sizeof *nl);
}

static int nl_add(name_list *nl, const char *a, const char *b)
{
    if (nl->n == nl->cap) {
        size_t ncap = nl->cap ? nl->cap * 2 : 64;
        size_t *no = realloc(nl->off, ncap * sizeof *no);
        if (!no)
            return -ENOMEM;
        nl->off = no;
        nl->cap = ncap;
    }
    size_t start = nl->text.len;
    int rc = vg_buf_puts(&nl->text, a);
    if (!rc && b)
        rc = vg_buf_puts(&nl->text, b);
    if (!rc)
        rc = vg_buf_putc(&nl->text, '\0');
    if (rc) {
        nl->text.len = start;
        return rc;
    }
    nl->off[nl->n++] = start;
    return 0;
}

static const char *nl_at(const name_list *nl, size_t i)
{
    return nl->text.data + nl->off[i];
}

static int nl_cmp(const void *a, const void *b, void *ud)
{
    const char *base = ud;
    return strcmp(base + *(const size_t *)a, base + *(const size_t *)b);
}

static void nl_sort(name_list *nl)
{
    if (nl->n > 1)
        qsort_r(nl->off, nl->n, sizeof *nl->off, nl_cmp, nl->text.data);
}

/*
 * Append the names of dirfd's subdirectories to nl (prefixed with prefix
 * and '/' when prefix is not NULL). getdents64 into a stack buffer: no
 * allocation per directory, unlike opendir.
 */
static int list_subdirs(int dirfd, name_list *nl, const char *prefix)
{
    char buf[8192] __attribute__((aligned(8)));
    for (;;) {
        ssize_t n = getdents64(dirfd, buf, sizeof buf);
        if (n < 0)
            return -errno;
        if (n == 0)
            return 0;
        for (ssize_t pos = 0; pos < n;) {
            struct dirent64 *e = (struct dirent64 *)(void *)(buf + pos);
            pos += e->d_reclen;
            const char *nm = e->d_name;
            if (nm[0] == '.' && (nm[1] == '\0' || (nm[1] == '.' && nm[2] == '\0')))
                continue;
            bool dir = e->d_type == DT_DIR;
            if (e->d_type == DT_UNKNOWN) {
                struct stat st;
                dir = fstatat(dirfd, nm, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
            }
            if (!dir)
                continue;
            int rc;
            if (prefix) {
                char tmp[REL_MAX];
                int k = snprintf(tmp, sizeof tmp, "%s/%s", prefix, nm);
                if (k < 0 || (size_t)k >= sizeof tmp)
                    continue; /* deeper than any real cgroup path */
                rc = nl_add(nl, tmp, NULL);
            } else {
                rc = nl_add(nl, nm, NULL);
            }
            if (rc)
                return rc;
        }
    }
}

static int open_dir(const char *path)
{
    return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* ---------------- layout ---------------- */

static void pods_clear(pods_state *s);

/* A mountinfo path of the host as a path the agent can open. */
static int host_to_local(const agent_ctx *ctx, const char *hp, char *out, size_t outlen)
{
    if (strncmp(hp, "/sys", 4) == 0 && (hp[4] == '/' || hp[4] == '\0'))
        return agent_path(ctx, AGENT_ROOT_SYS, hp[4] ? hp + 4 : "", out, outlen);
    return agent_path(ctx, AGENT_ROOT_ROOTFS, hp, out, outlen);
}

static const char *hier_root(const pods_state *s)
{
    return s->mounts.mode == CGROUP_MODE_V2 ? s->mounts.unified : s->mounts.v1[s->primary];
}

static void detect_layout(agent_ctx *ctx, pods_state *s)
{
    cgroup_mounts m;
    memset(&m, 0, sizeof m);
    const char *root = vg_config_str(ctx->cfg, "collector.pods.cgroup-root");
    snprintf(s->opt_root, sizeof s->opt_root, "%s", root);
    if (root[0]) {
        cgroup_mounts_probe(root, &m);
    } else {
        if (agent_read(ctx, AGENT_ROOT_PROC, "/1/mountinfo") == 0) {
            size_t skipped = 0;
            cgroup_mounts host;
            cgroup_mounts_parse(ctx->scratch.data, ctx->scratch.len, &host, &skipped);
            for (size_t i = 0; i < skipped; i++)
                agent_ctx_parse_error(ctx, "pods", "mountinfo line");
            m.mode = host.mode;
            bool ok = true;
            if (host.unified[0])
                ok &= host_to_local(ctx, host.unified, m.unified, sizeof m.unified) == 0;
            for (int c = 0; c < CGROUP_CTL_N; c++)
                if (host.v1[c][0])
                    ok &= host_to_local(ctx, host.v1[c], m.v1[c], sizeof m.v1[c]) == 0;
            if (!ok)
                memset(&m, 0, sizeof m);
        }
        if (m.mode == CGROUP_MODE_NONE) {
            char p[CGROUP_MOUNT_PATH_MAX];
            if (agent_path(ctx, AGENT_ROOT_SYS, "/fs/cgroup", p, sizeof p) == 0)
                cgroup_mounts_probe(p, &m);
        }
    }
    s->mounts = m;
    s->primary = m.v1[CGROUP_CTL_MEMORY][0]    ? CGROUP_CTL_MEMORY
                 : m.v1[CGROUP_CTL_CPUACCT][0] ? CGROUP_CTL_CPUACCT
                                               : CGROUP_CTL_CPU;
    s->layout_done = true;
    pods_clear(s); /* cached paths and open files belong to the old layout */
    s->nkproots = 0;
    s->rediscover = true;
    s->rediscover_gen = s->gen;
    vg_log_debug(ctx->log, "pods", "cgroup layout",
                 "mode", m.mode == CGROUP_MODE_V2 ? "v2" : m.mode == CGROUP_MODE_V1 ? "v1" : "none",
                 "root", m.mode == CGROUP_MODE_NONE ? "" : hier_root(s));
}

static bool is_kubepods_name(const char *n)
{
    size_t l = strlen(n);
    static const char sfx[] = "-kubepods.slice";
    return strcmp(n, "kubepods") == 0 || strcmp(n, "kubepods.slice") == 0 ||
           (l > sizeof sfx - 1 && strcmp(n + l - (sizeof sfx - 1), sfx) == 0);
}

static void add_kproot(pods_state *s, const char *rel)
{
    if (s->nkproots < MAX_KUBEPODS_ROOTS && strlen(rel) < KPROOT_MAX)
        snprintf(s->kproots[s->nkproots++], KPROOT_MAX, "%s", rel);
}

/*
 * Find the kubepods roots: a direct child of the hierarchy root
 * ("kubepods", "kubepods.slice") or, for kubelets run with --cgroup-root
 * (kind: "/kubelet.slice/kubelet-kubepods.slice"), a grandchild.
 */
static void discover_kproots(pods_state *s)
{
    s->nkproots = 0;
    const char *h = hier_root(s);
    int fd = open_dir(h);
    if (fd < 0)
        return;
    nl_reset(&s->l1);
    if (list_subdirs(fd, &s->l1, NULL) == 0) {
        nl_sort(&s->l1);
        for (size_t i = 0; i < s->l1.n; i++) {
            if (is_kubepods_name(nl_at(&s->l1, i))) {
                char rel[KPROOT_MAX];
                snprintf(rel, sizeof rel, "/%s", nl_at(&s->l1, i));
                add_kproot(s, rel);
            }
        }
        for (size_t i = 0; s->nkproots == 0 && i < s->l1.n; i++) {
            int cfd = openat(fd, nl_at(&s->l1, i), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (cfd < 0)
                continue;
            nl_reset(&s->l2);
            if (list_subdirs(cfd, &s->l2, NULL) == 0) {
                nl_sort(&s->l2);
                for (size_t j = 0; j < s->l2.n; j++) {
                    if (is_kubepods_name(nl_at(&s->l2, j))) {
                        char rel[KPROOT_MAX];
                        int k = snprintf(rel, sizeof rel, "/%s/%s", nl_at(&s->l1, i), nl_at(&s->l2, j));
                        if (k > 0 && (size_t)k < sizeof rel)
                            add_kproot(s, rel);
                    }
                }
            }
            close(cfd);
        }
    }
    close(fd);
}

/* ---------------- the pod list ---------------- */

static bool rel_is_pod(const char *rel)
{
    cgroup_ident id;
    return cgroup_ident_parse(rel, strlen(rel), &id) && id.container_id[0] == '\0';
}

/* List every pod cgroup under the kubepods roots into s->pods_nl, sorted. */
static int scan_pods(pods_state *s)
{
    nl_reset(&s->pods_nl);
    const char *h = hier_root(s);
    for (size_t r = 0; r < s->nkproots; r++) {
        char path[CGROUP_MOUNT_PATH_MAX + KPROOT_MAX];
        snprintf(path, sizeof path, "%s%s", h, s->kproots[r]);
        int fd = open_dir(path);
        if (fd < 0) {
            s->rediscover = true; /* the kubelet's root went away */
            continue;
        }
        nl_reset(&s->l1);
        int rc = list_subdirs(fd, &s->l1, s->kproots[r]);
        for (size_t i = 0; rc == 0 && i < s->l1.n; i++) {
            const char *rel = nl_at(&s->l1, i);
            if (rel_is_pod(rel)) {
                rc = nl_add(&s->pods_nl, rel, NULL);
                continue;
            }
            /* a QoS level: kubepods-burstable.slice, burstable, besteffort */
            const char *leaf = rel + strlen(s->kproots[r]) + 1;
            int qfd = openat(fd, leaf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (qfd < 0)
                continue;
            nl_reset(&s->l2);
            if (list_subdirs(qfd, &s->l2, rel) == 0)
                for (size_t j = 0; rc == 0 && j < s->l2.n; j++)
                    if (rel_is_pod(nl_at(&s->l2, j)))
                        rc = nl_add(&s->pods_nl, nl_at(&s->l2, j), NULL);
            close(qfd);
        }
        close(fd);
        if (rc)
            return rc;
    }
    nl_sort(&s->pods_nl);
    return 0;
}

static void kid_free(kid *k, size_t *budget)
{
    free(k->name);
    runtime_info_release(&k->info);
    cgroup_files_release(&k->files, budget);
}

static void pod_free(pod *p, size_t *budget)
{
    for (size_t i = 0; i < p->nkids; i++)
        kid_free(&p->kids[i], budget);
    free(p->kids);
    free(p->rel);
    cgroup_files_release(&p->files, budget);
}

/* Forget every pod (closing kept files). */
static void pods_clear(pods_state *s)
{
    for (size_t i = 0; i < s->npods; i++)
        pod_free(&s->pods[i], &s->io[0].rd.fd_budget);
    free(s->pods);
    s->pods = NULL;
    s->npods = 0;
}

/* Merge the sorted listing into the cached, sorted pods. */
static int sync_pods(pods_state *s)
{
    const name_list *nl = &s->pods_nl;
    if (nl->n == s->npods) {
        size_t i = 0;
        while (i < nl->n && strcmp(nl_at(nl, i), s->pods[i].rel) == 0)
            i++;
        if (i == nl->n)
            return 0; /* unchanged: the common case */
    }
    pod *np = nl->n ? calloc(nl->n, sizeof *np) : NULL;
    if (nl->n && !np)
        return -ENOMEM;
    /* Allocate new entries first so a failure leaves the cache intact. */
    size_t i = 0, j = 0;
    for (j = 0; j < nl->n; j++) {
        const char *name = nl_at(nl, j);
        while (i < s->npods && strcmp(s->pods[i].rel, name) < 0)
            i++;
        if (i < s->npods && strcmp(s->pods[i].rel, name) == 0)
            continue;
        np[j].rel = strdup(name);
        cgroup_files_init(&np[j].files);
        if (!np[j].rel) {
            for (size_t k = 0; k < j; k++)
                free(np[k].rel);
            free(np);
            return -ENOMEM;
        }
    }
    i = 0;
    for (j = 0; j < nl->n; j++) {
        const char *name = nl_at(nl, j);
        while (i < s->npods && strcmp(s->pods[i].rel, name) < 0)
            pod_free(&s->pods[i++], &s->io[0].rd.fd_budget); /* gone */
        if (i < s->npods && strcmp(s->pods[i].rel, name) == 0)
            np[j] = s->pods[i++];
    }
    while (i < s->npods)
        pod_free(&s->pods[i++], &s->io[0].rd.fd_budget);
    free(s->pods);
    s->pods = np;
    s->npods = nl->n;
    return 0;
}

/* A new child named name of the pod at pod_rel. 0 or -ENOMEM. */
static int kid_init(kid *k, const char *pod_rel, const char *name)
{
    char full[REL_MAX + 256];
    snprintf(full, sizeof full, "%s/%s", pod_rel, name);
    cgroup_ident id;
    bool ctr = cgroup_ident_parse(full, strlen(full), &id) && id.container_id[0];
    /* an id that ends the name ("crio-<id>", cgroupfs "<id>") is used in
     * place; else ("cri-containerd-<id>.scope") a copy follows the name */
    size_t nl = strlen(name) + 1, il = ctr ? strlen(id.container_id) : 0;
    bool tail = ctr && il < nl && strcmp(name + nl - 1 - il, id.container_id) == 0;
    size_t cl = ctr && !tail ? il + 1 : 1;
    k->name = malloc(nl + cl);
    if (!k->name)
        return -ENOMEM;
    memcpy(k->name, name, nl);
    memcpy(k->name + nl, ctr && !tail ? id.container_id : "", cl);
    k->cid = tail ? k->name + nl - 1 - il : k->name + nl;
    cgroup_files_init(&k->files);
    if (!ctr)
        return 0;
    k->container = true;
    k->runtime = strcmp(id.runtime, "containerd") == 0 ? KRT_CONTAINERD
                 : strcmp(id.runtime, "crio") == 0     ? KRT_CRIO
                 : id.runtime[0] == '\0'               ? KRT_NONE
                                                       : KRT_OTHER;
    return 0;
}

static int sync_kids(pod *p, const name_list *nl, size_t *budget)
{
    if (nl->n == p->nkids) {
        size_t i = 0;
        while (i < nl->n && strcmp(nl_at(nl, i), p->kids[i].name) == 0)
            i++;
        if (i == nl->n)
            return 0;
    }
    kid *nk = nl->n ? calloc(nl->n, sizeof *nk) : NULL;
    if (nl->n && !nk)
        return -ENOMEM;
    size_t i = 0, j;
    for (j = 0; j < nl->n; j++) {
        const char *name = nl_at(nl, j);
        while (i < p->nkids && strcmp(p->kids[i].name, name) < 0)
            i++;
        if (i < p->nkids && strcmp(p->kids[i].name, name) == 0)
            continue;
        if (kid_init(&nk[j], p->rel, name)) {
            for (size_t k = 0; k < j; k++)
                free(nk[k].name);
            free(nk);
            return -ENOMEM;
        }
    }
    i = 0;
    for (j = 0; j < nl->n; j++) {
        const char *name = nl_at(nl, j);
        while (i < p->nkids && strcmp(p->kids[i].name, name) < 0)
            kid_free(&p->kids[i++], budget);
        if (i < p->nkids && strcmp(p->kids[i].name, name) == 0)
            nk[j] = p->kids[i++];
    }
    while (i < p->nkids)
        kid_free(&p->kids[i++], budget);
    free(p->kids);
    p->kids = nk;
    p->nkids = nl->n;
    return 0;
}

/* ---------------- runtime names ---------------- */

static void kid_resolve_names(agent_ctx *ctx, const pods_state *s, pod_io *io, kid *k)
{
    if (!k->container || k->names_state == 1)
        return;
    if (k->names_state == -1 && (int32_t)(s->gen - k->names_retry_gen) < 0)
        return;
    runtime_flavor order[2];
    size_t n = 0;
    if (k->runtime == KRT_CONTAINERD) {
        order[n++] = RUNTIME_STATE_CONTAINERD;
    } else if (k->runtime == KRT_CRIO) {
        order[n++] = RUNTIME_STATE_CRIO;
    } else if (k->runtime == KRT_NONE) {
        order[n++] = RUNTIME_STATE_CONTAINERD; /* cgroupfs: the id alone */
        order[n++] = RUNTIME_STATE_CRIO;
    } /* docker: no annotations to read; names stay empty */
    for (size_t i = 0; i < n; i++) {
        const char *opt = order[i] == RUNTIME_STATE_CRIO ? "collector.pods.crio-state"
                                                         : "collector.pods.containerd-state";
        char dir[4096];
        if (agent_path(ctx, AGENT_ROOT_ROOTFS, vg_config_str(ctx->cfg, opt), dir, sizeof dir))
            continue;
        int rc = runtime_state_read(dir, order[i], k->cid, &io->json, &k->info);
        if (rc == 0) {
            k->names_state = 1;
            return;
        }
        if (rc == -ENOENT || rc == -ENOTDIR)
            continue; /* not this runtime's container */
        if (rc == -EINVAL)
            io->rd.errs.parse++;
        else if (rc != -ENODATA)
            io->rd.errs.io++;
        break;
    }
    k->names_state = -1;
    k->names_retry_step = k->names_retry_step ? k->names_retry_step * 2 : 1;
    if (k->names_retry_step > NAMES_RETRY_MAX)
        k->names_retry_step = NAMES_RETRY_MAX;
    k->names_retry_gen = s->gen + k->names_retry_step;
}

/* ---------------- emission ---------------- */

typedef struct labels {
    const char *container, *id, *image, *name, *ns, *pod;
    const char *const *podl;    /* pod_labels_count() values, or NULL */
} labels;

static vg_family *fam(pods_state *s, fam_id f)
{
    if (!s->fam[f]) {
        const fam_def *d = &fam_defs[f];
        const char *const *names = d->extra == LX_CPU      ? lbl_cpu
                                   : d->extra == LX_DEVICE ? lbl_dev
                                   : d->extra == LX_IFACE  ? lbl_if
                                   : d->extra == LX_POD    ? lbl_pod
                                                           : lbl_base;
        size_t n = d->extra == LX_NONE ? 6 : d->extra == LX_POD ? 2 : 7;
        size_t npl = s->pl ? s->plops->count(s->pl) : 0;
        const char *all[7 + POD_LABELS_MAX];
        for (size_t i = 0; i < n; i++)
            all[i] = names[i];
        for (size_t i = 0; i < npl; i++)
            all[n + i] = s->plops->name(s->pl, i);
        s->fam[f] = vg_scrape_family(s->cur, d->name, d->type, d->help, n + npl, all);
    }
    return s->fam[f];
}

static void emit(pods_state *s, fam_id f, double v, const labels *l, const char *extra)
{
    const char *vals[7 + POD_LABELS_MAX];
    size_t n = 7;
    switch (fam_defs[f].extra) {
    case LX_NONE:
        vals[0] = l->container, vals[1] = l->id, vals[2] = l->image, vals[3] = l->name;
        vals[4] = l->ns, vals[5] = l->pod;
        n = 6;
        break;
    case LX_CPU:
    case LX_DEVICE:
        vals[0] = l->container, vals[1] = extra, vals[2] = l->id, vals[3] = l->image;
        vals[4] = l->name, vals[5] = l->ns, vals[6] = l->pod;
        break;
    case LX_IFACE:
        vals[0] = l->container, vals[1] = l->id, vals[2] = l->image, vals[3] = extra;
        vals[4] = l->name, vals[5] = l->ns, vals[6] = l->pod;
        break;
    case LX_POD:
        vals[0] = l->ns, vals[1] = l->pod;
        n = 2;
        break;
    }
    if (s->pl)
        for (size_t i = 0; i < s->plops->count(s->pl); i++)
            vals[n + i] = l->podl ? l->podl[i] : "";
    vg_family_addv(fam(s, f), v, vals);
}

/* "/dev/<name>" for a block device number, from <sys>/dev/block/M:m/uevent. */
static const char *dev_name(agent_ctx *ctx, pods_state *s, uint32_t maj, uint32_t min)
{
    for (size_t i = 0; i < s->ndevs; i++)
        if (s->devs[i].maj == maj && s->devs[i].min == min)
            return s->devs[i].name;
    devname d = {maj, min, ""};
    snprintf(d.name, sizeof d.name, "%u:%u", maj, min);
    char rel[64];
    snprintf(rel, sizeof rel, "/dev/block/%u:%u/uevent", maj, min);
    if (agent_read(ctx, AGENT_ROOT_SYS, rel) == 0) {
        const char *p = ctx->scratch.data;
        const char *end = p + ctx->scratch.len;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
            if (ll > 8 && ll - 8 < sizeof d.name - 5 && memcmp(p, "DEVNAME=", 8) == 0) {
                snprintf(d.name, sizeof d.name, "/dev/%.*s", (int)(ll - 8), p + 8);
                break;
            }
            p += ll + 1;
        }
    }
    if (s->ndevs < MAX_DEVNAMES) {
        if (!s->devs)
            s->devs = calloc(MAX_DEVNAMES, sizeof *s->devs);
        if (s->devs) {
            s->devs[s->ndevs] = d;
            return s->devs[s->ndevs++].name;
        }
    }
    /* Cache full (a host with > 256 block devices): name without caching. */
    memcpy(s->dev_fallback, d.name, sizeof s->dev_fallback);
    return s->dev_fallback;
}

static void emit_stats(agent_ctx *ctx, pods_state *s, const cgroup_stats *st, const labels *lin,
                       bool have_start, double start)
{
    /* one copy of each value for the cgroup's ~30 series (vg_scrape_intern) */
    labels li = {vg_scrape_intern(s->cur, lin->container), vg_scrape_intern(s->cur, lin->id),
                 vg_scrape_intern(s->cur, lin->image), vg_scrape_intern(s->cur, lin->name),
                 vg_scrape_intern(s->cur, lin->ns), vg_scrape_intern(s->cur, lin->pod), lin->podl};
    const labels *l = &li;
    static const struct {
        int bit;
        fam_id f;
    } simple[] = {
        {CGS_CPU_USER, F_CPU_USER},
        {CGS_CPU_SYSTEM, F_CPU_SYSTEM},
        {CGS_MEM_USAGE, F_MEM_USAGE},
        {CGS_MEM_WORKING_SET, F_MEM_WORKING_SET},
        {CGS_MEM_RSS, F_MEM_RSS},
        {CGS_MEM_CACHE, F_MEM_CACHE},
        {CGS_MEM_SWAP, F_MEM_SWAP},
        {CGS_MEM_MAPPED, F_MEM_MAPPED},
        {CGS_MEM_FAILCNT, F_MEM_FAILCNT},
        {CGS_MEM_MAX_USAGE, F_MEM_MAX_USAGE},
        {CGS_OOM_EVENTS, F_OOM_EVENTS},
        {CGS_SPEC_CPU_QUOTA, F_SPEC_CPU_QUOTA},
        {CGS_SPEC_CPU_PERIOD, F_SPEC_CPU_PERIOD},
        {CGS_SPEC_CPU_SHARES, F_SPEC_CPU_SHARES},
        {CGS_SPEC_MEM_LIMIT, F_SPEC_MEM_LIMIT},
        {CGS_PROCS, F_PROCESSES},
        {CGS_THREADS, F_THREADS},
    };
    double val[CGS_NBITS] = {0};
    val[CGS_CPU_USER] = st->cpu_user_s;
    val[CGS_CPU_SYSTEM] = st->cpu_system_s;
    val[CGS_MEM_USAGE] = (double)st->mem_usage;
    val[CGS_MEM_WORKING_SET] = (double)st->mem_working_set;
    val[CGS_MEM_RSS] = (double)st->mem_rss;
    val[CGS_MEM_CACHE] = (double)st->mem_cache;
    val[CGS_MEM_SWAP] = (double)st->mem_swap;
    val[CGS_MEM_MAPPED] = (double)st->mem_mapped;
    val[CGS_MEM_FAILCNT] = (double)st->mem_failcnt;
    val[CGS_MEM_MAX_USAGE] = (double)st->mem_max_usage;
    val[CGS_OOM_EVENTS] = (double)st->oom_events;
    val[CGS_SPEC_CPU_QUOTA] = (double)st->spec.cpu_quota;
    val[CGS_SPEC_CPU_PERIOD] = (double)st->spec.cpu_period;
    val[CGS_SPEC_CPU_SHARES] = (double)st->spec.cpu_shares;
    val[CGS_SPEC_MEM_LIMIT] = (double)st->spec.mem_limit;
    val[CGS_PROCS] = (double)st->procs;
    val[CGS_THREADS] = (double)st->threads;

    if (CGS_HAS(st, CGS_CPU_USAGE))
        emit(s, F_CPU_USAGE, st->cpu_usage_s, l, "total");
    /* Like cAdvisor, CFS counters only for cgroups with a CPU quota. */
    if (CGS_HAS(st, CGS_SPEC_CPU_QUOTA)) {
        if (CGS_HAS(st, CGS_CPU_PERIODS))
            emit(s, F_CFS_PERIODS, (double)st->cpu_periods, l, NULL);
        if (CGS_HAS(st, CGS_CPU_THROTTLED))
            emit(s, F_CFS_THROTTLED_PERIODS, (double)st->cpu_throttled, l, NULL);
        if (CGS_HAS(st, CGS_CPU_THROTTLED_TIME))
            emit(s, F_CFS_THROTTLED_SECONDS, st->cpu_throttled_s, l, NULL);
    }
    for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++)
        if (CGS_HAS(st, simple[i].bit))
            emit(s, simple[i].f, val[simple[i].bit], l, NULL);
    if (CGS_HAS(st, CGS_IO)) {
        for (size_t i = 0; i < st->nio; i++) {
            const char *dev = dev_name(ctx, s, st->io[i].major, st->io[i].minor);
            emit(s, F_FS_READS, (double)st->io[i].read_bytes, l, dev);
            emit(s, F_FS_WRITES, (double)st->io[i].write_bytes, l, dev);
        }
    }
    for (int i = 0; i < 3; i++) {
        if (!CGS_HAS(st, CGS_PSI_CPU + i))
            continue;
        if (st->psi[i].has_some)
            emit(s, (fam_id)(F_PSI_CPU_WAITING + 2 * i), (double)st->psi[i].some_total_us / 1e6, l, NULL);
        if (st->psi[i].has_full)
            emit(s, (fam_id)(F_PSI_CPU_STALLED + 2 * i), (double)st->psi[i].full_total_us / 1e6, l, NULL);
    }
    if (have_start)
        emit(s, F_START_TIME, start, l, NULL);
}

/*
 * Network of the pod: one process's namespace, unless it is the host's.
 * Whether it is the host's is checked once per process (a process does not
 * change namespace; a new sandbox has a new pid).
 */
static void emit_network(agent_ctx *ctx, pods_state *s, pod *p, uint64_t pid, const labels *l)
{
    if (!s->host_netns_ok || pid == 0)
        return;
    /* relative to the proc root's descriptor: its path is not walked per pod */
    char rel[64], path[4096], ns[64];
    if (pid != p->net_pid) {
        snprintf(rel, sizeof rel, "/%llu/ns/net", (unsigned long long)pid);
        if (s->proc_fd < 0 && agent_path(ctx, AGENT_ROOT_PROC, rel, path, sizeof path))
            return;
        ssize_t n = readlinkat(s->proc_fd, s->proc_fd < 0 ? path : rel + 1, ns, sizeof ns - 1);
        if (n <= 0)
            return; /* the process exited: normal */
        ns[n] = '\0';
        p->net_pid = pid;
        p->net_host = strcmp(ns, s->host_netns) == 0;
    }
    if (p->net_host)
        return; /* hostNetwork pod: its interfaces are the node's */
    snprintf(rel, sizeof rel, "/%llu/net/dev", (unsigned long long)pid);
    if (s->proc_fd < 0 && agent_path(ctx, AGENT_ROOT_PROC, rel, path, sizeof path))
        return;
    int fd = openat(s->proc_fd, s->proc_fd < 0 ? path : rel + 1, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    size_t len = 0;
    for (;;) {
        ssize_t r = read(fd, s->io[0].rd.buf.p + len, s->io[0].rd.buf.cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
        if (len == s->io[0].rd.buf.cap)
            break; /* > 64 KiB of interfaces: parse what fits */
    }
    close(fd);
    cgroup_netdev devs[MAX_NETDEVS];
    size_t nd = 0;
    int rc = cgroup_netdev_parse(s->io[0].rd.buf.p, len, devs, MAX_NETDEVS, &nd);
    if (rc == -EINVAL) {
        s->io[0].rd.errs.parse++;
        agent_ctx_parse_error(ctx, "pods", "net/dev line");
    }
    for (size_t i = 0; i < nd; i++) {
        const cgroup_netdev *d = &devs[i];
        emit(s, F_NET_RX_BYTES, (double)d->rx_bytes, l, d->name);
        emit(s, F_NET_RX_PACKETS, (double)d->rx_packets, l, d->name);
        emit(s, F_NET_RX_DROPPED, (double)d->rx_dropped, l, d->name);
        emit(s, F_NET_RX_ERRORS, (double)d->rx_errors, l, d->name);
        emit(s, F_NET_TX_BYTES, (double)d->tx_bytes, l, d->name);
        emit(s, F_NET_TX_PACKETS, (double)d->tx_packets, l, d->name);
        emit(s, F_NET_TX_DROPPED, (double)d->tx_dropped, l, d->name);
        emit(s, F_NET_TX_ERRORS, (double)d->tx_errors, l, d->name);
    }
}

/* ---------------- per pod ---------------- */

static unsigned spec_flag(const pods_state *s, bool ok, double at)
{
    return !ok || s->now - at >= s->spec_interval ? CGROUP_READ_SPEC : 0;
}

/* Read one cgroup, keeping the spec cache of its entry. 0 or -ENOENT. */
static int read_cgroup(const pods_state *s, cgroup_reader *rd, const cgroup_dirs *d,
                       const char *rel, cgroup_files *files, bool *spec_ok, double *spec_at,
                       cgroup_spec *spec, cgroup_stats *st)
{
    unsigned what = CGROUP_READ_STATS | spec_flag(s, *spec_ok, *spec_at);
    /* the CFS counters are reported with a quota only: v1 reads them then */
    bool quota = *spec_ok && (spec->have & (1u << (CGS_SPEC_CPU_QUOTA - CGS_SPEC_CPU_QUOTA)));
    if ((what & CGROUP_READ_SPEC) || quota)
        what |= CGROUP_READ_CFS;
    int rc = cgroup_stats_read(rd, d, rel, what, files, st);
    if (rc)
        return rc;
    if (what & CGROUP_READ_SPEC) {
        *spec = st->spec;
        *spec_ok = true;
        *spec_at = s->now;
    } else {
        st->spec = *spec;
        st->have |= (uint64_t)spec->have << CGS_SPEC_CPU_QUOTA;
    }
    return 0;
}

/*
 * Directory rel ("/kubepods/...") of the hierarchy mounted at mnt, from the
 * root's descriptor when there is one: the mount's own path (7 components
 * in the benchmark's trees, 4 on a host) is then not walked once per pod
 * and hierarchy.
 */
static int hier_open(int hfd, const char *mnt, const char *rel, int flags)
{
    flags |= O_DIRECTORY | O_CLOEXEC;
    if (hfd >= 0)
        return openat(hfd, rel[0] != '/' ? rel : rel[1] ? rel + 1 : ".", flags);
    char path[CGROUP_MOUNT_PATH_MAX + REL_MAX];
    snprintf(path, sizeof path, "%s%s", mnt, rel);
    return open(path, flags);
}

/* Open the pod's directory in every hierarchy (d->v2 or d->v1[]). -1: gone. */
static int pod_dirs_open(const pods_state *s, const pod *p, cgroup_dirs *d)
{
    d->mode = s->mounts.mode;
    d->v2 = -1;
    d->primary = s->primary;
    for (int c = 0; c < CGROUP_CTL_N; c++)
        d->v1[c] = -1;
    int hroot = d->mode == CGROUP_MODE_V2 ? s->hfd[CGROUP_CTL_N] : s->hfd[s->primary];
    int pfd = hier_open(hroot, hier_root(s), p->rel, O_RDONLY);
    if (pfd < 0)
        return -1; /* removed since the listing: normal */
    if (d->mode == CGROUP_MODE_V2) {
        d->v2 = pfd;
        return pfd;
    }
    d->v1[s->primary] = pfd;
    for (int c = 0; c < CGROUP_CTL_N; c++) {
        if (c == s->primary || !s->mounts.v1[c][0])
            continue;
        for (int o = 0; o < c && d->v1[c] < 0; o++) /* co-mounted controllers */
            if (d->v1[o] >= 0 && strcmp(s->mounts.v1[o], s->mounts.v1[c]) == 0)
                d->v1[c] = d->v1[o];
        if (d->v1[c] < 0 && strcmp(s->mounts.v1[s->primary], s->mounts.v1[c]) == 0)
            d->v1[c] = pfd;
        if (d->v1[c] >= 0)
            continue;
        d->v1[c] = hier_open(s->hfd[c], s->mounts.v1[c], p->rel, O_PATH);
    }
    return pfd;
}

/*
 * Descriptors of the hierarchy roots (hfd[CGROUP_CTL_N]: v2) and of the
 * proc root, for one collection; -1 where one cannot be opened (the
 * paths are then used whole).
 */
static void roots_open(agent_ctx *ctx, pods_state *s)
{
    for (int c = 0; c <= CGROUP_CTL_N; c++)
        s->hfd[c] = -1;
    if (s->mounts.mode == CGROUP_MODE_V2) {
        s->hfd[CGROUP_CTL_N] = open(s->mounts.unified, O_PATH | O_DIRECTORY | O_CLOEXEC);
    } else {
        for (int c = 0; c < CGROUP_CTL_N; c++)
            if (s->mounts.v1[c][0])
                s->hfd[c] = open(s->mounts.v1[c], O_PATH | O_DIRECTORY | O_CLOEXEC);
    }
    char p[4096];
    s->proc_fd = agent_path(ctx, AGENT_ROOT_PROC, "/", p, sizeof p) == 0
                     ? open(p, O_PATH | O_DIRECTORY | O_CLOEXEC)
                     : -1;
}

static void roots_close(pods_state *s)
{
    for (int c = 0; c <= CGROUP_CTL_N; c++) {
        if (s->hfd[c] >= 0)
            close(s->hfd[c]);
        s->hfd[c] = -1;
    }
    if (s->proc_fd >= 0)
        close(s->proc_fd);
    s->proc_fd = -1;
}

static void pod_dirs_close(cgroup_dirs *d, int pfd)
{
    for (int c = 0; c < CGROUP_CTL_N; c++) {
        int fd = d->v1[c];
        if (fd < 0 || fd == pfd)
            continue;
        for (int o = c + 1; o < CGROUP_CTL_N; o++)
            if (d->v1[o] == fd)
                d->v1[o] = -1; /* shared by co-mounted controllers: close once */
        close(fd);
    }
    close(pfd);
}

/* Grow r's per-child arrays to n entries. 0 or -ENOMEM. */
static int pod_read_reserve(pod_read *r, size_t n)
{
    if (n <= r->cap)
        return 0;
    cgroup_stats *ks = realloc(r->kst, n * sizeof *ks);
    if (!ks)
        return -ENOMEM;
    r->kst = ks;
    unsigned char *ko = realloc(r->kok, n);
    if (!ko)
        return -ENOMEM;
    r->kok = ko;
    r->cap = n;
    return 0;
}

/*
 * Read one pod into r: its children (listed and merged into p), names,
 * start times, every container's and the pod's own files. Touches only p,
 * r and io (plus read-only state), so two threads can read different pods.
 */
static void read_pod(agent_ctx *ctx, const pods_state *s, pod_io *io, pod *p, pod_read *r)
{
    r->ok = false;
    r->nk = 0;
    cgroup_dirs d;
    int pfd = pod_dirs_open(s, p, &d);
    if (pfd < 0)
        return;
    nl_reset(&io->kids_nl);
    if (list_subdirs(pfd, &io->kids_nl, NULL) == 0) {
        nl_sort(&io->kids_nl);
        if (sync_kids(p, &io->kids_nl, &io->rd.fd_budget))
            io->rd.errs.io++; /* out of memory: keep last scrape's children */
    }
    if (pod_read_reserve(r, p->nkids)) {
        io->rd.errs.io++;
        pod_dirs_close(&d, pfd);
        return;
    }
    if (!p->start_ok)
        p->start_ok = cgroup_stats_start_time(pfd, ".", d.mode, &p->start) == 0;

    /* Names: the pod's from its sandbox (else any container of it). */
    const runtime_info *pinfo = NULL;
    for (size_t i = 0; i < p->nkids; i++) {
        kid *k = &p->kids[i];
        kid_resolve_names(ctx, s, io, k);
        if (!k->start_ok)
            k->start_ok = cgroup_stats_start_time(pfd, k->name, d.mode, &k->start) == 0;
        if (k->names_state == 1 && k->info.pod_name[0] &&
            (!pinfo || (k->info.sandbox && !pinfo->sandbox)))
            pinfo = &k->info;
    }
    r->pinfo = pinfo;

    uint64_t procs = 0, sandbox_pid = 0, any_pid = 0;
    cgroup_stats st;
    for (size_t i = 0; i < p->nkids; i++) {
        kid *k = &p->kids[i];
        bool known = k->names_state == 1;
        r->kok[i] = 0;
        if (!k->container || (known && k->info.sandbox)) {
            /* Sandbox or non-container child: only its processes count. */
            if (cgroup_stats_read(&io->rd, &d, k->name, CGROUP_READ_PROCS, &k->files, &st) == 0) {
                procs += st.procs;
                if (known && k->info.sandbox && !sandbox_pid)
                    sandbox_pid = st.first_pid;
            }
            continue;
        }
        if (read_cgroup(s, &io->rd, &d, k->name, &k->files, &k->spec_ok, &k->spec_at, &k->spec,
                        &r->kst[i]))
            continue; /* the container went away mid-scrape */
        r->kok[i] = 1;
        procs += r->kst[i].procs;
        if (!any_pid)
            any_pid = r->kst[i].first_pid;
    }
    r->nk = p->nkids;
    r->pod_ok = read_cgroup(s, &io->rd, &d, ".", &p->files, &p->spec_ok, &p->spec_at, &p->spec,
                            &r->pst) == 0;
    if (r->pod_ok) {
        /* Processes of the pod: its own plus its children's. */
        r->pst.procs += procs;
        r->pst.have |= UINT64_C(1) << CGS_PROCS;
    }
    r->net_pid = sandbox_pid ? sandbox_pid : any_pid;
    r->ok = true;
    pod_dirs_close(&d, pfd);
}

/* Add what read_pod found to the scrape (collection thread only). */
static void emit_pod(agent_ctx *ctx, pods_state *s, pod *p, const pod_read *r)
{
    if (!r->ok)
        return;
    const char *pod_name = r->pinfo ? r->pinfo->pod_name : "";
    const char *pod_ns = r->pinfo ? r->pinfo->pod_namespace : "";
    const char *const *podl = NULL;
    if (s->pl) {
        /* the pod's allowlisted labels, by the UID in its cgroup path */
        cgroup_ident ci;
        if (!cgroup_ident_parse(p->rel, strlen(p->rel), &ci))
            ci.pod_uid[0] = '\0';
        s->plops->lookup(s->pl, ci.pod_uid, &s->pl_buf, s->pl_vals);
        for (size_t i = 0; i < s->plops->count(s->pl); i++)
            s->pl_vals[i] = vg_scrape_intern(s->cur, s->pl_vals[i]);
        podl = s->pl_vals;
    }
    /* id: the pod's path, '/', the child's name (built without printf) */
    char id[REL_MAX + 512];
    size_t rl = strlen(p->rel);
    if (rl >= REL_MAX)
        rl = REL_MAX - 1; /* paths that long were not listed */
    memcpy(id, p->rel, rl);
    id[rl++] = '/';
    for (size_t i = 0; i < r->nk; i++) {
        if (!r->kok[i])
            continue;
        const kid *k = &p->kids[i];
        bool known = k->names_state == 1;
        size_t nl = strlen(k->name);
        if (rl + nl >= sizeof id)
            nl = sizeof id - rl - 1; /* names are at most 255 bytes */
        memcpy(id + rl, k->name, nl);
        id[rl + nl] = '\0';
        labels l = {known ? k->info.container : "", id, known ? k->info.image : "",
                    known ? k->info.name : "", pod_ns, pod_name, podl};
        emit_stats(ctx, s, &r->kst[i], &l, k->start_ok, k->start);
    }
    if (!r->pod_ok)
        return;
    const cgroup_stats *st = &r->pst;
    labels l = {"", p->rel, "", "", pod_ns, pod_name, podl};
    emit_stats(ctx, s, st, &l, p->start_ok, p->start);
    if (pod_name[0] && pod_ns[0]) {
        if (CGS_HAS(st, CGS_CPU_USAGE))
            emit(s, F_POD_CPU, st->cpu_usage_s, &l, NULL);
        if (CGS_HAS(st, CGS_MEM_WORKING_SET))
            emit(s, F_POD_MEM_WS, (double)st->mem_working_set, &l, NULL);
    }
    emit_network(ctx, s, p, r->net_pid, &l);
}

typedef struct helper_job {
    agent_ctx *ctx;
    pods_state *s;
} helper_job;

/* The helper thread: take and read pods until none are left (or stop). */
static void *helper_main(void *ud)
{
    helper_job *j = ud;
    pods_state *s = j->s;
    pod_pipe *pp = &s->pipe;
    pthread_mutex_lock(&pp->mu);
    for (;;) {
        while (!pp->stop && pp->next < pp->n && pp->next >= pp->emitted + PIPE_SLOTS)
            pthread_cond_wait(&pp->cv, &pp->mu); /* every slot taken: wait for one */
        if (pp->stop || pp->next >= pp->n || past_deadline(j->ctx))
            break; /* the collection thread takes what is left */
        size_t i = pp->next++;
        pthread_mutex_unlock(&pp->mu);
        read_pod(j->ctx, s, &s->io[1], &s->pods[i], &pp->slot[i % PIPE_SLOTS]);
        pthread_mutex_lock(&pp->mu);
        pp->ready[i % PIPE_SLOTS] = true;
        pthread_cond_signal(&pp->cv);
    }
    pthread_mutex_unlock(&pp->mu);
    return NULL;
}

/*
 * Wait until pod e (the next to emit) is read, reading pods meanwhile
 * when a slot is free. Returns its slot.
 */
static pod_read *pipe_wait(agent_ctx *ctx, pods_state *s, size_t e)
{
    pod_pipe *pp = &s->pipe;
    pthread_mutex_lock(&pp->mu);
    while (!pp->ready[e % PIPE_SLOTS]) {
        if (pp->next < pp->n && pp->next < e + PIPE_SLOTS) {
            size_t i = pp->next++;
            pthread_mutex_unlock(&pp->mu);
            read_pod(ctx, s, &s->io[0], &s->pods[i], &pp->slot[i % PIPE_SLOTS]);
            pthread_mutex_lock(&pp->mu);
            pp->ready[i % PIPE_SLOTS] = true;
        } else {
            /* pod e is the helper's, being read now */
            pthread_cond_wait(&pp->cv, &pp->mu);
        }
    }
    pthread_mutex_unlock(&pp->mu);
    return &pp->slot[e % PIPE_SLOTS];
}

/* Pod e is emitted: free its slot for the next pods. */
static void pipe_done(pod_pipe *pp, size_t e)
{
    pthread_mutex_lock(&pp->mu);
    pp->ready[e % PIPE_SLOTS] = false;
    pp->emitted = e + 1;
    pthread_cond_signal(&pp->cv);
    pthread_mutex_unlock(&pp->mu);
}

/*
 * Read and emit every pod. With a helper thread both threads take the next
 * unread pod (so neither waits while the other has work left) and this one
 * emits them in order, so the output is the same as with one thread.
 */
static int read_and_emit(agent_ctx *ctx, pods_state *s)
{
    int rc = 0;
    size_t n = s->npods;
    helper_job job = {ctx, s};
    bool helper = false;
    pod_pipe *pp = &s->pipe;
    if (s->threads > 1 && n >= HELPER_MIN_PODS) {
        pp->n = n;
        pp->next = pp->emitted = 0;
        pp->stop = false;
        memset(pp->ready, 0, sizeof pp->ready);
        /* the helper's share of the kept-file budget, given back after */
        s->io[1].rd.fd_budget = s->io[0].rd.fd_budget / 2;
        s->io[0].rd.fd_budget -= s->io[1].rd.fd_budget;
        memset(&s->io[1].rd.errs, 0, sizeof s->io[1].rd.errs);
        helper = pthread_create(&s->helper, NULL, helper_main, &job) == 0;
        if (!helper) {
            s->io[0].rd.fd_budget += s->io[1].rd.fd_budget;
            s->io[1].rd.fd_budget = 0;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (past_deadline(ctx)) {
            rc = -ETIMEDOUT;
            break;
        }
        if (!helper) {
            read_pod(ctx, s, &s->io[0], &s->pods[i], &s->main_read);
            emit_pod(ctx, s, &s->pods[i], &s->main_read);
            continue;
        }
        emit_pod(ctx, s, &s->pods[i], pipe_wait(ctx, s, i));
        pipe_done(pp, i);
    }
    if (helper) {
        pthread_mutex_lock(&pp->mu);
        pp->stop = true;
        pthread_cond_signal(&pp->cv);
        pthread_mutex_unlock(&pp->mu);
        pthread_join(s->helper, NULL);
        s->io[0].rd.fd_budget += s->io[1].rd.fd_budget;
        s->io[1].rd.fd_budget = 0;
        s->io[0].rd.errs.missing += s->io[1].rd.errs.missing;
        s->io[0].rd.errs.parse += s->io[1].rd.errs.parse;
        s->io[0].rd.errs.io += s->io[1].rd.errs.io;
    }
    if (rc)
        vg_log_warn(ctx->log, "pods", "scrape deadline reached; remaining pods skipped");
    return rc;
}

/* ---------------- collector interface ---------------- */

static int pods_init(agent_ctx *ctx, void **state)
{
    pods_state *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    pthread_mutex_init(&s->pipe.mu, NULL);
    pthread_cond_init(&s->pipe.cv, NULL);
    for (int c = 0; c <= CGROUP_CTL_N; c++)
        s->hfd[c] = -1;
    s->proc_fd = -1;
    for (int i = 0; i < 2; i++) {
        s->io[i].rd.buf.cap = PODS_READBUF;
        s->io[i].rd.buf.p = malloc(PODS_READBUF);
        s->io[i].rd.clk_tck = sysconf(_SC_CLK_TCK);
        vg_buf_init(&s->io[i].json);
    }
    if (!s->io[0].rd.buf.p || !s->io[1].rd.buf.p) {
        free(s->io[0].rd.buf.p);
        free(s->io[1].rd.buf.p);
        pthread_cond_destroy(&s->pipe.cv);
        pthread_mutex_destroy(&s->pipe.mu);
        free(s);
        return -ENOMEM;
    }
    static const char *const lbl[1] = {"reason"};
    vg_metric *m = vg_registry_add(ctx->reg, "vigil_agent_cgroup_read_errors_total",
                                   VG_MT_COUNTER,
                                   "cgroup and runtime-state files the pods collector could not use, by reason.",
                                   1, lbl, NULL, 0, 3);
    static const char *const r_missing[1] = {"missing"};
    static const char *const r_parse[1] = {"parse"};
    static const char *const r_io[1] = {"io"};
    s->err_missing = vg_metric_with(m, r_missing);
    s->err_parse = vg_metric_with(m, r_parse);
    s->err_io = vg_metric_with(m, r_io);
    vg_buf_init(&s->pl_buf);
    char err[512] = "";
    int rc = 0;
    if (vg_config_str(ctx->cfg, "pod-labels-allowlist")[0]) {
        rc = pod_labels_load(&s->plops, err, sizeof err);
        if (!rc)
            rc = s->plops->from_config(ctx->cfg, ctx->log, ctx->reg, &s->pl, err, sizeof err);
        if (!rc && s->pl)
            rc = s->plops->start(s->pl);
    }
    if (rc) {
        /* the agent checked the setting at start: this is a reload */
        vg_log_error(ctx->log, "pods", "pod labels from the API server unavailable", "err",
                     err[0] ? err : strerror(-rc));
        if (s->pl)
            s->plops->free(s->pl);
        s->pl = NULL;
    }
    *state = s;
    return 0;
}

static void pods_release(void *state)
{
    pods_state *s = state;
    if (!s)
        return;
    if (s->pl)
        s->plops->free(s->pl);
    vg_buf_release(&s->pl_buf);
    pods_clear(s);
    for (int i = 0; i < 2; i++) {
        free(s->io[i].rd.buf.p);
        vg_buf_release(&s->io[i].json);
        nl_release(&s->io[i].kids_nl);
    }
    for (size_t i = 0; i < PIPE_SLOTS; i++) {
        free(s->pipe.slot[i].kst);
        free(s->pipe.slot[i].kok);
    }
    pthread_cond_destroy(&s->pipe.cv);
    pthread_mutex_destroy(&s->pipe.mu);
    free(s->main_read.kst);
    free(s->main_read.kok);
    free(s->devs);
    nl_release(&s->pods_nl);
    nl_release(&s->l1);
    nl_release(&s->l2);
    free(s);
}

/*
 * The open-file budget from --collector.pods.max-open-files, kept well
 * below RLIMIT_NOFILE so the agent's sockets and other collectors still
 * get descriptors. Lowering it closes every kept file (they are reopened
 * within the new budget on the next reads).
 */
static void apply_fd_limit(agent_ctx *ctx, pods_state *s)
{
    int64_t want = vg_config_int(ctx->cfg, "collector.pods.max-open-files");
    size_t limit = want > 0 ? (size_t)want : 0;
    struct rlimit rl;
    if (limit && getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        size_t cap = rl.rlim_cur > 1024 ? (size_t)rl.rlim_cur - 512 : (size_t)rl.rlim_cur / 2;
        if (limit > cap)
            limit = cap;
    }
    if (limit == s->fd_limit)
        return;
    if (limit < s->fd_limit) {
        pods_clear(s);
        s->io[0].rd.fd_budget = limit;
    } else {
        s->io[0].rd.fd_budget += limit - s->fd_limit;
    }
    s->fd_limit = limit;
}

static int pods_collect(agent_ctx *ctx, void *state, vg_scrape *out)
{
    pods_state *s = state;
    int rc = 0;
    s->gen++;
    s->cur = out;
    memset(s->fam, 0, sizeof s->fam);
    memset(&s->io[0].rd.errs, 0, sizeof s->io[0].rd.errs);
    s->now = mono_now();
    s->spec_interval = vg_config_duration(ctx->cfg, "collector.pods.spec-interval");
    s->threads = vg_config_int(ctx->cfg, "collector.pods.threads") > 1 ? 2 : 1;

    if (!s->layout_done || strcmp(s->opt_root, vg_config_str(ctx->cfg, "collector.pods.cgroup-root")) != 0)
        detect_layout(ctx, s);
    apply_fd_limit(ctx, s);
    if (s->mounts.mode == CGROUP_MODE_NONE)
        goto out; /* no cgroups we can read: nothing to report */
    if (s->rediscover && (int32_t)(s->gen - s->rediscover_gen) >= 0) {
        discover_kproots(s);
        s->rediscover = s->nkproots == 0;
        s->rediscover_gen = s->gen + REDISCOVER_EVERY;
    }
    if (s->nkproots == 0)
        goto out; /* not a Kubernetes node (yet) */

    rc = scan_pods(s);
    if (rc == 0)
        rc = sync_pods(s);
    if (rc)
        goto out;

    char nsrel[] = "/1/ns/net";
    char nspath[4096];
    s->host_netns_ok = false;
    if (agent_path(ctx, AGENT_ROOT_PROC, nsrel, nspath, sizeof nspath) == 0) {
        ssize_t n = readlink(nspath, s->host_netns, sizeof s->host_netns - 1);
        if (n > 0) {
            s->host_netns[n] = '\0';
            s->host_netns_ok = true; /* without it hostNetwork pods cannot be told apart */
        }
    }

    roots_open(ctx, s);
    rc = read_and_emit(ctx, s);
    roots_close(s);
out:
    if (s->pl)
        s->plops->collect(s->pl, out);
    if (s->io[0].rd.errs.missing)
        vg_series_add(s->err_missing, s->io[0].rd.errs.missing);
    if (s->io[0].rd.errs.parse)
        vg_series_add(s->err_parse, s->io[0].rd.errs.parse);
    if (s->io[0].rd.errs.io)
        vg_series_add(s->err_io, s->io[0].rd.errs.io);
    if (s->io[0].rd.errs.parse) {
        vg_series_add(ctx->parse_errors, s->io[0].rd.errs.parse);
        vg_log_debug(ctx->log, "pods", "skipped malformed cgroup or runtime-state files");
    }
    s->cur = NULL;
    return rc;
}

const agent_collector agent_collector_pods = {
    "pods",
    true,
    "Per-pod and per-container metrics from cgroups v1/v2 (cAdvisor-compatible, no kubelet)",
    pods_opts,
    sizeof pods_opts / sizeof pods_opts[0],
    pods_init,
    pods_collect,
    pods_release,
    false, /* hundreds of cgroups and runtime state: the collection thread */
};
