/*
 * gpu.c - the `gpu` collector (see gpu.h for the families and behaviour).
 *
 * Each collection:
 *  1. if NVML is down and its retry time has come, open and initialise it,
 *     enumerate the GPUs (identity labels are read once here) and start
 *     the XID thread;
 *  2. ask for the device count: a driver-gone answer shuts NVML down for a
 *     later retry, a changed count re-enumerates;
 *  3. per GPU: its compute processes (for attribution), then each field;
 *     GPU_IS_LOST marks the GPU lost and moves on to the next; with MIG
 *     enabled, each instance's fields;
 *  4. the event counters the XID thread keeps.
 */
#include "gpu.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cgroup_ident.h"
#include "label_utf8.h"
#include "nvml.h"
#include "runtime_state.h"

#define GPU_MAX 64              /* GPUs read; more are ignored (and logged) */
#define MIG_MAX 8               /* NVML allows 7 instances per GPU */
#define EV_SLOTS 512            /* distinct (GPU, XID/ECC kind) counters kept */
#define NAMES_MAX 256           /* container names cached */
#define NAMES_RETRY_MAX 64      /* scrapes between runtime-state retries, at most */
#define TENANTS_MAX 64          /* distinct containers per GPU in one scrape */
#define BACKOFF_MIN_MS 1000u
#define BACKOFF_MAX_MS 300000u
#define EVENT_WAIT_MS 200u      /* how long the XID thread blocks: its stop latency */
#define EVENT_ERR_PAUSE_MS 1000u
#define NAME_LEN 256            /* pod / namespace / container label values */

/* ---------------- families ---------------- */

typedef enum {
    F_SM_CLOCK,
    F_MEM_CLOCK,
    F_GPU_TEMP,
    F_MEM_TEMP,
    F_POWER,
    F_ENERGY,
    F_PCIE_REPLAY,
    F_GPU_UTIL,
    F_MEM_COPY_UTIL,
    F_ENC_UTIL,
    F_DEC_UTIL,
    F_XID,
    F_FB_FREE,
    F_FB_USED,
    F_FB_RESERVED,
    F_REMAP_CORR,
    F_REMAP_UNC,
    F_REMAP_FAIL,
    F_ECC_SBE_VOL,
    F_ECC_DBE_VOL,
    F_ECC_SBE_AGG,
    F_ECC_DBE_AGG,
    F_NFAMS
} fam_id;

typedef struct fam_def {
    const char *name;
    vg_mtype type;
    const char *help;
} fam_def;

#define C VG_MT_COUNTER
#define G VG_MT_GAUGE
static const fam_def fam_defs[F_NFAMS] = {
    {"DCGM_FI_DEV_SM_CLOCK", G, "SM clock frequency (in MHz)."},
    {"DCGM_FI_DEV_MEM_CLOCK", G, "Memory clock frequency (in MHz)."},
    {"DCGM_FI_DEV_GPU_TEMP", G, "GPU temperature (in C)."},
    {"DCGM_FI_DEV_MEMORY_TEMP", G, "Memory temperature (in C)."},
    {"DCGM_FI_DEV_POWER_USAGE", G, "Power draw (in W)."},
    {"DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", C,
     "Total energy consumption since the driver was loaded (in mJ)."},
    {"DCGM_FI_DEV_PCIE_REPLAY_COUNTER", C, "Total number of PCIe retries."},
    {"DCGM_FI_DEV_GPU_UTIL", G, "GPU utilization (in %)."},
    {"DCGM_FI_DEV_MEM_COPY_UTIL", G, "Memory utilization (in %)."},
    {"DCGM_FI_DEV_ENC_UTIL", G, "Encoder utilization (in %)."},
    {"DCGM_FI_DEV_DEC_UTIL", G, "Decoder utilization (in %)."},
    {"DCGM_FI_DEV_XID_ERRORS", G,
     "Value of the last XID error seen (0: none since the agent started)."},
    {"DCGM_FI_DEV_FB_FREE", G, "Framebuffer memory free (in MiB)."},
    {"DCGM_FI_DEV_FB_USED", G, "Framebuffer memory used (in MiB)."},
    {"DCGM_FI_DEV_FB_RESERVED", G,
     "Framebuffer memory reserved by the driver and firmware (in MiB)."},
    {"DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS", C, "Number of remapped rows for correctable errors."},
    {"DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS", C,
     "Number of remapped rows for uncorrectable errors."},
    {"DCGM_FI_DEV_ROW_REMAP_FAILURE", G, "Whether remapping of rows has failed."},
    {"DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", C,
     "Single-bit volatile ECC errors since the driver was loaded."},
    {"DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", C,
     "Double-bit volatile ECC errors since the driver was loaded."},
    {"DCGM_FI_DEV_ECC_SBE_AGG_TOTAL", C, "Single-bit persistent ECC errors over the GPU's life."},
    {"DCGM_FI_DEV_ECC_DBE_AGG_TOTAL", C, "Double-bit persistent ECC errors over the GPU's life."},
};
#undef C
#undef G

enum {
    L_GPU, L_UUID, L_BUS, L_DEVICE, L_MODEL, L_PROFILE, L_GI, L_HOST, L_DRIVER,
    L_CONTAINER, L_NAMESPACE, L_POD, L_N
};
static const char *const dcgm_labels[L_N] = {
    "gpu", "UUID", "pci_bus_id", "device", "modelName", "GPU_I_PROFILE", "GPU_I_ID",
    "Hostname", "DCGM_FI_DRIVER_VERSION", "container", "namespace", "pod",
};

/* ---------------- state ---------------- */

typedef struct gpu_dev {
    nvml_device h;              /* NULL when the handle itself answered GPU_IS_LOST */
    unsigned int index;
    char idx[12];               /* "0" */
    char device[20];            /* "nvidia0" */
    char uuid[NVML_DEVICE_UUID_V2_BUFFER_SIZE];
    char name[NVML_DEVICE_NAME_V2_BUFFER_SIZE];
    char bus[NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE];
    bool lost;
    bool events;                /* registered for XID events (set before the thread starts) */
} gpu_dev;

typedef enum { EV_XID = 0, EV_SBE, EV_DBE } ev_kind;

typedef struct ev_count {
    char gpu[12];
    char uuid[NVML_DEVICE_UUID_V2_BUFFER_SIZE];
    ev_kind kind;
    unsigned long long xid;     /* EV_XID only */
    uint64_t n;
    uint64_t seq;               /* order of the last event, for the last-XID gauge */
} ev_count;

/* Pod and container names of one container id, from the runtime state. */
typedef struct names_entry {
    char cid[80];
    int state;                  /* 1 known, -1 unreadable (retry at retry_gen) */
    uint32_t seen_gen, retry_gen, retry_step;
    char pod[NAME_LEN], ns[NAME_LEN], ctr[NAME_LEN];
} names_entry;

/* A container using a GPU in this scrape. */
typedef struct tenant {
    char cid[80];
    bool named;
    char pod[NAME_LEN], ns[NAME_LEN], ctr[NAME_LEN];
    uint64_t bytes;
    bool has_bytes;
} tenant;

/*
 * Collector state. The XID thread: started once NVML is initialised and
 * the GPUs enumerated (when at least one GPU accepts event registration),
 * it blocks in nvmlEventSetWait for EVENT_WAIT_MS at a time and counts
 * XID-critical and ECC events into evs[] under mu. It reads lib and devs[]
 * (handles, labels), which only change while it is stopped: gpu_events_stop
 * sets stop, wakes it and joins it (within EVENT_WAIT_MS) before NVML is
 * shut down, the GPUs re-enumerated, or the state released. The
 * collection thread reads evs[] under mu; everything else is the
 * collection thread's alone.
 */
typedef struct gpu_state {
    vg_log *log;
    nvml_lib lib;
    bool up;                    /* NVML initialised, devs[] valid */
    uint64_t retry_at_ms;
    unsigned int backoff_ms;
    int down_rc;                /* what collect returns while down */
    char last_log[256];         /* last failure logged, to log each once */
    char driver[NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE];
    char host[256];
    gpu_dev devs[GPU_MAX];
    unsigned int ndev;
    char seen_uuid[GPU_MAX][NVML_DEVICE_UUID_V2_BUFFER_SIZE]; /* by index, for lost GPUs */
    int driver_gone;            /* NVML code seen during this scrape, 0 = none */
    bool procs_warned;          /* "cannot list GPU processes" logged */
    vg_family *fam[F_NFAMS];

    /* XID thread */
    pthread_t thread;
    bool thread_on;
    nvml_event_set set;
    bool set_on;
    atomic_bool stop;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    ev_count evs[EV_SLOTS];     /* under mu */
    size_t nevs;                /* under mu */
    uint64_t ev_seq;            /* under mu */
    uint64_t ev_dropped;        /* under mu */

    /* attribution */
    names_entry names[NAMES_MAX];
    size_t nnames;
    uint32_t gen;
    vg_buf json;
    nvml_proc *procs;
    unsigned int procs_cap;
    int *proc_tenant;
    tenant tenants[TENANTS_MAX];
} gpu_state;

static const vg_opt_def gpu_opts[] = {
    {"collector.gpu.library", VG_OPT_STRING, "libnvidia-ml.so.1",
     "NVML library to load at run time: a soname looked up like any shared library, or a path",
     0},
    {"collector.gpu.attribution", VG_OPT_BOOL, "true",
     "Label GPUs used by one container with its pod, namespace and container, and report each "
     "container's GPU memory (from the GPUs' processes, <procfs>/<pid>/cgroup and the container "
     "runtime state)",
     VG_OPT_F_RELOADABLE},
};

/* ---------------- small helpers ---------------- */

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

bool gpu_xid_is_application(unsigned long long xid)
{
    switch (xid) {
    case 13: case 31: case 43: case 45: case 68: case 109:
        return true;
    default:
        return false;
    }
}

void gpu_mig_profile(const char *mig_name, char *out, size_t outlen)
{
    if (!outlen)
        return;
    out[0] = '\0';
    const char *p = NULL;
    for (const char *q = strstr(mig_name, " MIG "); q; q = strstr(q + 1, " MIG "))
        p = q;
    if (p)
        snprintf(out, outlen, "%s", p + 5);
}

/* Log a failure once: repeated identical failures stay quiet. */
static void log_once(gpu_state *st, vg_log_level lvl, const char *msg, const char *key,
                     const char *val)
{
    char k[sizeof st->last_log];
    snprintf(k, sizeof k, "%s|%s", msg, val ? val : "");
    if (strcmp(k, st->last_log) == 0)
        return;
    snprintf(st->last_log, sizeof st->last_log, "%s", k);
    vg_log_write(st->log, lvl, "gpu", msg, key, val, (const char *)NULL);
}

/* Host name label: the node name the DaemonSet passes, else gethostname. */
static void host_label(char *out, size_t outlen)
{
    char raw[256] = "";
    const char *env = getenv("NODE_NAME");
    if (env && env[0])
        snprintf(raw, sizeof raw, "%s", env);
    else if (gethostname(raw, sizeof raw - 1) != 0)
        raw[0] = '\0';
    raw[sizeof raw - 1] = '\0';
    snprintf(out, outlen, "%s", raw);
    nvml_str_clean(out, outlen);
}

/* ---------------- XID thread ---------------- */

/* Sleep up to ms, returning early when asked to stop. */
static void events_pause(gpu_state *st, unsigned int ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000u;
    until.tv_nsec += (long)(ms % 1000u) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&st->mu);
    while (!atomic_load(&st->stop))
        if (pthread_cond_timedwait(&st->wake, &st->mu, &until) != 0)
            break;
    pthread_mutex_unlock(&st->mu);
}

/* Count one event (under mu). */
static void events_count(gpu_state *st, const gpu_dev *d, ev_kind kind, unsigned long long xid)
{
    ev_count *e = NULL;
    for (size_t i = 0; i < st->nevs; i++) {
        ev_count *c = &st->evs[i];
        if (c->kind == kind && c->xid == xid && strcmp(c->uuid, d->uuid) == 0 &&
            strcmp(c->gpu, d->idx) == 0) {
            e = c;
            break;
        }
    }
    if (!e) {
        if (st->nevs == EV_SLOTS) {
            st->ev_dropped++;
            return;
        }
        e = &st->evs[st->nevs++];
        memset(e, 0, sizeof *e);
        snprintf(e->gpu, sizeof e->gpu, "%s", d->idx);
        snprintf(e->uuid, sizeof e->uuid, "%s", d->uuid);
        e->kind = kind;
        e->xid = xid;
    }
    e->n++;
    e->seq = ++st->ev_seq;
}

static void events_record(gpu_state *st, const nvml_event *ev)
{
    char idx[12] = "", uuid[NVML_DEVICE_UUID_V2_BUFFER_SIZE] = "";
    bool ours = false;
    /* under mu: probe_lost may rename a GPU that answers again */
    pthread_mutex_lock(&st->mu);
    for (unsigned int i = 0; i < st->ndev && !ours; i++) {
        const gpu_dev *d = &st->devs[i];
        if (!d->h || d->h != ev->device)
            continue;
        ours = true;
        if (ev->type & NVML_EVENT_XID_CRITICAL)
            events_count(st, d, EV_XID, ev->data);
        if (ev->type & NVML_EVENT_SINGLE_BIT_ECC)
            events_count(st, d, EV_SBE, 0);
        if (ev->type & NVML_EVENT_DOUBLE_BIT_ECC)
            events_count(st, d, EV_DBE, 0);
        memcpy(idx, d->idx, sizeof idx);
        memcpy(uuid, d->uuid, sizeof uuid);
    }
    pthread_mutex_unlock(&st->mu);
    /* not ours: a MIG handle, or a GPU enumerated away */
    if (ours && (ev->type & NVML_EVENT_XID_CRITICAL)) {
        char xid[24];
        snprintf(xid, sizeof xid, "%llu", ev->data);
        vg_log_warn(st->log, "gpu", "XID error", "gpu", idx, "UUID", uuid, "xid", xid, "cause",
                    gpu_xid_is_application(ev->data) ? "application" : "hardware");
    }
}

static void *events_main(void *arg)
{
    gpu_state *st = arg;
    while (!atomic_load(&st->stop)) {
        nvml_event ev;
        int rc = nvml_event_wait(&st->lib, st->set, &ev, EVENT_WAIT_MS);
        if (rc == NVML_SUCCESS)
            events_record(st, &ev);
        else if (rc != NVML_ERROR_TIMEOUT)
            events_pause(st, EVENT_ERR_PAUSE_MS); /* lost GPU, driver gone: the collector decides */
    }
    return NULL;
}

static void events_stop(gpu_state *st)
{
    if (st->thread_on) {
        pthread_mutex_lock(&st->mu);
        atomic_store(&st->stop, true);
        pthread_cond_broadcast(&st->wake);
        pthread_mutex_unlock(&st->mu);
        pthread_join(st->thread, NULL);
        st->thread_on = false;
    }
    if (st->set_on) {
        nvml_event_set_free(&st->lib, st->set);
        st->set_on = false;
    }
    for (unsigned int i = 0; i < st->ndev; i++)
        st->devs[i].events = false;
}

/* Register every healthy GPU for XID and ECC events and start the thread. */
static void events_start(gpu_state *st)
{
    if (nvml_event_set_create(&st->lib, &st->set) != NVML_SUCCESS)
        return;
    st->set_on = true;
    unsigned int registered = 0;
    for (unsigned int i = 0; i < st->ndev; i++) {
        gpu_dev *d = &st->devs[i];
        unsigned long long mask = 0;
        if (d->lost || !d->h || nvml_device_supported_events(&st->lib, d->h, &mask) != NVML_SUCCESS)
            continue;
        mask &= NVML_EVENT_XID_CRITICAL | NVML_EVENT_SINGLE_BIT_ECC | NVML_EVENT_DOUBLE_BIT_ECC;
        if (mask && nvml_device_register_events(&st->lib, d->h, mask, st->set) == NVML_SUCCESS) {
            d->events = (mask & NVML_EVENT_XID_CRITICAL) != 0;
            registered++;
        }
    }
    if (!registered) {
        events_stop(st);
        return;
    }
    atomic_store(&st->stop, false);
    if (pthread_create(&st->thread, NULL, events_main, st) != 0) {
        vg_log_warn(st->log, "gpu", "cannot start the XID event thread; XIDs are not counted");
        events_stop(st);
        return;
    }
    st->thread_on = true;
}

/* ---------------- NVML lifecycle ---------------- */

static void gpu_enumerate(gpu_state *st, unsigned int count)
{
    if (count > GPU_MAX) {
        char n[16];
        snprintf(n, sizeof n, "%u", count);
        log_once(st, VG_LOG_WARN, "more GPUs than the collector reads; the first 64 are reported",
                 "gpus", n);
        count = GPU_MAX;
    }
    for (unsigned int i = 0; i < count; i++) {
        gpu_dev *d = &st->devs[i];
        memset(d, 0, sizeof *d);
        d->index = i;
        snprintf(d->idx, sizeof d->idx, "%u", i);
        snprintf(d->device, sizeof d->device, "nvidia%u", i);
        int rc = nvml_device_by_index(&st->lib, i, &d->h);
        if (rc == NVML_SUCCESS)
            rc = nvml_device_uuid(&st->lib, d->h, d->uuid, sizeof d->uuid);
        if (rc == NVML_SUCCESS) {
            snprintf(st->seen_uuid[i], sizeof st->seen_uuid[i], "%s", d->uuid);
            nvml_device_name(&st->lib, d->h, d->name, sizeof d->name);
            nvml_device_pci_bus_id(&st->lib, d->h, d->bus, sizeof d->bus);
            continue;
        }
        /* Lost (or otherwise unreadable) before we could name it: keep the UUID it had. */
        d->lost = true;
        snprintf(d->uuid, sizeof d->uuid, "%s", st->seen_uuid[i]);
        vg_log_warn(st->log, "gpu", "GPU unreadable at enumeration; reported as lost", "gpu",
                    d->idx, "err", nvml_rc_name(rc));
    }
    st->ndev = count;
}

/* Open (if needed) and initialise NVML, enumerate, start events. 0 or -errno. */
static int gpu_start(agent_ctx *ctx, gpu_state *st)
{
    char why[256] = "";
    if (!st->lib.dl) {
        const char *path = vg_config_str(ctx->cfg, "collector.gpu.library");
        int rc = nvml_lib_open(&st->lib, path, why, sizeof why);
        if (rc) {
            log_once(st, VG_LOG_INFO,
                     rc == -ENOENT ? "NVML not available (no NVIDIA driver?); GPU metrics off"
                                   : "NVML library unusable; GPU metrics off",
                     "reason", why);
            return rc;
        }
    }
    int nrc = nvml_lib_init(&st->lib);
    if (nrc != NVML_SUCCESS) {
        log_once(st, VG_LOG_WARN, "NVML initialisation failed; retrying with backoff", "err",
                 nvml_rc_name(nrc));
        if (nrc == NVML_ERROR_LIB_RM_VERSION_MISMATCH)
            nvml_lib_close(&st->lib); /* the next try loads the new library */
        return -ENODEV;
    }
    unsigned int count = 0;
    nrc = nvml_device_count(&st->lib, &count);
    if (nrc != NVML_SUCCESS) {
        log_once(st, VG_LOG_WARN, "NVML device count failed; retrying with backoff", "err",
                 nvml_rc_name(nrc));
        nvml_lib_shutdown(&st->lib);
        return -ENODEV;
    }
    if (nvml_driver_version(&st->lib, st->driver, sizeof st->driver) != NVML_SUCCESS)
        st->driver[0] = '\0';
    gpu_enumerate(st, count);
    events_start(st);
    st->up = true;
    st->last_log[0] = '\0';
    char n[16];
    snprintf(n, sizeof n, "%u", st->ndev);
    const char *procs = nvml_lib_symbol(&st->lib, NVML_FN_PROCESSES);
    vg_log_info(st->log, "gpu", "NVML ready", "driver", st->driver, "gpus", n, "init",
                nvml_lib_symbol(&st->lib, NVML_FN_INIT), "processes", procs ? procs : "none",
                "xid_events", st->thread_on ? "on" : "off");
    return 0;
}

/* Shut NVML down (driver gone, release); close the library when asked. */
static void gpu_shutdown(gpu_state *st, bool close_lib)
{
    events_stop(st);
    if (st->up)
        nvml_lib_shutdown(&st->lib);
    st->up = false;
    if (close_lib)
        nvml_lib_close(&st->lib);
}

static void schedule_retry(gpu_state *st, int rc)
{
    st->down_rc = rc;
    if (!st->backoff_ms)
        st->backoff_ms = BACKOFF_MIN_MS;
    st->retry_at_ms = mono_ms() + st->backoff_ms;
    st->backoff_ms = st->backoff_ms >= BACKOFF_MAX_MS / 2 ? BACKOFF_MAX_MS : st->backoff_ms * 2;
}

static bool is_driver_gone(int rc)
{
    return rc == NVML_ERROR_UNINITIALIZED || rc == NVML_ERROR_DRIVER_NOT_LOADED ||
           rc == NVML_ERROR_LIB_RM_VERSION_MISMATCH;
}

/* ---------------- attribution ---------------- */

static names_entry *names_slot(gpu_state *st, const char *cid)
{
    for (size_t i = 0; i < st->nnames; i++)
        if (strcmp(st->names[i].cid, cid) == 0)
            return &st->names[i];
    names_entry *e;
    if (st->nnames < NAMES_MAX) {
        e = &st->names[st->nnames++];
    } else {
        e = &st->names[0]; /* full: reuse the least recently seen */
        for (size_t i = 1; i < st->nnames; i++)
            if ((int32_t)(st->names[i].seen_gen - e->seen_gen) < 0)
                e = &st->names[i];
    }
    memset(e, 0, sizeof *e);
    snprintf(e->cid, sizeof e->cid, "%s", cid);
    return e;
}

static void copy_label(char *dst, const char *src)
{
    label_utf8_copy(src, strlen(src), dst, NAME_LEN);
}

/*
 * Pod, namespace and container names of a container: from the cache, else
 * the runtime's state (retried with growing gaps while unreadable). NULL
 * when unknown.
 */
static const names_entry *gpu_names_lookup(agent_ctx *ctx, gpu_state *st, const cgroup_ident *id)
{
    names_entry *e = names_slot(st, id->container_id);
    e->seen_gen = st->gen;
    if (e->state == 1)
        return e;
    if (e->state == -1 && (int32_t)(st->gen - e->retry_gen) < 0)
        return NULL;
    runtime_flavor order[2];
    size_t n = 0;
    if (strcmp(id->runtime, "containerd") == 0) {
        order[n++] = RUNTIME_STATE_CONTAINERD;
    } else if (strcmp(id->runtime, "crio") == 0) {
        order[n++] = RUNTIME_STATE_CRIO;
    } else if (id->runtime[0] == '\0') {
        order[n++] = RUNTIME_STATE_CONTAINERD; /* cgroupfs driver: the id alone */
        order[n++] = RUNTIME_STATE_CRIO;
    } /* docker: no annotations to read */
    for (size_t i = 0; i < n; i++) {
        const char *opt = order[i] == RUNTIME_STATE_CRIO ? "collector.pods.crio-state"
                                                         : "collector.pods.containerd-state";
        char dir[4096];
        if (agent_path(ctx, AGENT_ROOT_ROOTFS, vg_config_str(ctx->cfg, opt), dir, sizeof dir))
            continue;
        runtime_info ri;
        int rc = runtime_state_read(dir, order[i], id->container_id, &st->json, &ri);
        if (rc == 0) {
            bool ok = !ri.sandbox && ri.pod_name[0] && ri.pod_namespace[0];
            if (ok) {
                copy_label(e->pod, ri.pod_name);
                copy_label(e->ns, ri.pod_namespace);
                copy_label(e->ctr, ri.container);
            }
            runtime_info_release(&ri);
            if (ok) {
                e->state = 1;
                return e;
            }
            break;
        }
        if (rc == -EINVAL)
            agent_ctx_parse_error(ctx, "gpu", "container runtime state");
        if (rc != -ENOENT && rc != -ENOTDIR)
            break;
    }
    e->state = -1;
    e->retry_step = e->retry_step ? e->retry_step * 2 : 1;
    if (e->retry_step > NAMES_RETRY_MAX)
        e->retry_step = NAMES_RETRY_MAX;
    e->retry_gen = st->gen + e->retry_step;
    return NULL;
}

/*
 * The GPU's compute processes into st->procs; *n set. NVML codes; an
 * unsupported query leaves *n = 0 and is not an error for the caller.
 */
static int gpu_processes(gpu_state *st, nvml_device h, unsigned int *n)
{
    *n = 0;
    for (int attempt = 0; attempt < 3; attempt++) {
        unsigned int got = 0;
        int rc = nvml_device_processes(&st->lib, h, st->procs, st->procs_cap, &got);
        if (rc == NVML_SUCCESS) {
            *n = got;
            return rc;
        }
        if (rc != NVML_ERROR_INSUFFICIENT_SIZE)
            return rc;
        unsigned int want = got + 8;
        if (want > NVML_PROCS_MAX)
            want = NVML_PROCS_MAX;
        if (want <= st->procs_cap)
            return rc;
        nvml_proc *p = realloc(st->procs, want * sizeof *p);
        if (!p)
            return NVML_ERROR_MEMORY;
        st->procs = p;
        int *t = realloc(st->proc_tenant, want * sizeof *t);
        if (!t)
            return NVML_ERROR_MEMORY;
        st->proc_tenant = t;
        st->procs_cap = want;
    }
    return NVML_ERROR_INSUFFICIENT_SIZE;
}

/*
 * Map this GPU's processes to containers: fills st->tenants (returns how
 * many) and st->proc_tenant[i] (tenant index; -1 a process outside any
 * container; -2 a process that exited or whose cgroup is unreadable).
 */
static size_t gpu_tenants(agent_ctx *ctx, gpu_state *st, unsigned int nprocs)
{
    size_t nt = 0;
    for (unsigned int i = 0; i < nprocs; i++) {
        const nvml_proc *p = &st->procs[i];
        st->proc_tenant[i] = -2;
        char rel[32];
        snprintf(rel, sizeof rel, "/%u/cgroup", p->pid);
        if (p->pid == 0 || agent_read(ctx, AGENT_ROOT_PROC, rel) != 0)
            continue; /* exited between NVML's answer and now */
        cgroup_ident id;
        if (!cgroup_ident_from_proc(ctx->scratch.data, ctx->scratch.len, &id) ||
            !id.container_id[0]) {
            st->proc_tenant[i] = -1;
            continue;
        }
        size_t t = 0;
        while (t < nt && strcmp(st->tenants[t].cid, id.container_id) != 0)
            t++;
        if (t == nt) {
            if (nt == TENANTS_MAX) {
                st->proc_tenant[i] = -1; /* beyond the cap: counts as unattributed */
                continue;
            }
            tenant *tn = &st->tenants[nt++];
            memset(tn, 0, sizeof *tn);
            snprintf(tn->cid, sizeof tn->cid, "%s", id.container_id);
            const names_entry *e = gpu_names_lookup(ctx, st, &id);
            if (e) {
                tn->named = true;
                memcpy(tn->pod, e->pod, NAME_LEN);
                memcpy(tn->ns, e->ns, NAME_LEN);
                memcpy(tn->ctr, e->ctr, NAME_LEN);
            }
        }
        st->proc_tenant[i] = (int)t;
        if (p->used_bytes != NVML_VALUE_NOT_AVAILABLE_ULL) {
            st->tenants[t].bytes += p->used_bytes;
            st->tenants[t].has_bytes = true;
        }
    }
    return nt;
}

/*
 * The one named container all the GPU's processes belong to (all), or all
 * those of GPU instance gi; NULL when there is none, or several, or a
 * process outside any container.
 */
static const tenant *gpu_exclusive(gpu_state *st, unsigned int nprocs, bool all, unsigned int gi)
{
    int owner = -3;
    for (unsigned int i = 0; i < nprocs; i++) {
        if (!all && st->procs[i].gpu_instance != gi)
            continue;
        int t = st->proc_tenant[i];
        if (t == -2)
            continue;
        if (t == -1 || (owner >= 0 && owner != t))
            return NULL;
        owner = t;
    }
    if (owner < 0 || !st->tenants[owner].named)
        return NULL;
    return &st->tenants[owner];
}

/* ---------------- emission ---------------- */

static void add(gpu_state *st, vg_scrape *s, fam_id f, const char *const *lv, double v)
{
    if (!st->fam[f])
        st->fam[f] = vg_scrape_family(s, fam_defs[f].name, fam_defs[f].type, fam_defs[f].help,
                                      L_N, dcgm_labels);
    vg_family_addv(st->fam[f], v, lv);
}

/*
 * What an NVML answer means for the GPU being read: 1 emit, 0 omit the
 * field, -1 stop reading this GPU (lost, or the driver went away).
 */
static int outcome(gpu_state *st, gpu_dev *d, int rc)
{
    if (rc == NVML_SUCCESS)
        return 1;
    if (rc == NVML_ERROR_GPU_IS_LOST) {
        if (!d->lost)
            vg_log_warn(st->log, "gpu", "GPU fell off the bus (GPU_IS_LOST); skipping it", "gpu",
                        d->idx, "UUID", d->uuid);
        d->lost = true;
        return -1;
    }
    if (is_driver_gone(rc)) {
        st->driver_gone = rc;
        return -1;
    }
    return 0; /* NOT_SUPPORTED, FUNCTION_NOT_FOUND, NO_PERMISSION, ...: omitted */
}

#define READ(call, ...)                      \
    do {                                     \
        int k_ = outcome(st, d, (call));     \
        if (k_ < 0)                          \
            return -1;                       \
        if (k_) {                            \
            __VA_ARGS__;                     \
        }                                    \
    } while (0)

#define MIB(b) ((double)((b) >> 20))

/* The fields NVML answers for a MIG device (framebuffer, mostly). */
static int emit_instance(gpu_state *st, vg_scrape *s, gpu_dev *d, nvml_device h,
                         const char *const *lv)
{
    nvml_lib *lib = &st->lib;
    unsigned int u, u2;
    nvml_mem m;
    READ(nvml_device_memory(lib, h, &m), add(st, s, F_FB_FREE, lv, MIB(m.free));
         add(st, s, F_FB_USED, lv, MIB(m.used));
         if (m.has_reserved) add(st, s, F_FB_RESERVED, lv, MIB(m.reserved)));
    READ(nvml_device_utilization(lib, h, &u, &u2), add(st, s, F_GPU_UTIL, lv, u);
         add(st, s, F_MEM_COPY_UTIL, lv, u2));
    return 0;
}

static int emit_fields(gpu_state *st, vg_scrape *s, gpu_dev *d, const char *const *lv)
{
    nvml_lib *lib = &st->lib;
    nvml_device h = d->h;
    unsigned int u, u2, u3, u4;
    unsigned long long ull;
    double dv;
    nvml_mem m;
    READ(nvml_device_clock(lib, h, NVML_CLOCK_SM, &u), add(st, s, F_SM_CLOCK, lv, u));
    READ(nvml_device_clock(lib, h, NVML_CLOCK_MEM, &u), add(st, s, F_MEM_CLOCK, lv, u));
    READ(nvml_device_temperature(lib, h, &u), add(st, s, F_GPU_TEMP, lv, u));
    READ(nvml_device_memory_temperature(lib, h, &dv), add(st, s, F_MEM_TEMP, lv, dv));
    READ(nvml_device_power(lib, h, &u), add(st, s, F_POWER, lv, u / 1000.0));
    READ(nvml_device_energy(lib, h, &ull), add(st, s, F_ENERGY, lv, (double)ull));
    READ(nvml_device_pcie_replay(lib, h, &u), add(st, s, F_PCIE_REPLAY, lv, u));
    READ(nvml_device_utilization(lib, h, &u, &u2), add(st, s, F_GPU_UTIL, lv, u);
         add(st, s, F_MEM_COPY_UTIL, lv, u2));
    READ(nvml_device_encoder(lib, h, &u), add(st, s, F_ENC_UTIL, lv, u));
    READ(nvml_device_decoder(lib, h, &u), add(st, s, F_DEC_UTIL, lv, u));
    READ(nvml_device_memory(lib, h, &m), add(st, s, F_FB_FREE, lv, MIB(m.free));
         add(st, s, F_FB_USED, lv, MIB(m.used));
         if (m.has_reserved) add(st, s, F_FB_RESERVED, lv, MIB(m.reserved)));
    READ(nvml_device_remapped_rows(lib, h, &u, &u2, &u3, &u4),
         add(st, s, F_REMAP_CORR, lv, u); add(st, s, F_REMAP_UNC, lv, u2);
         add(st, s, F_REMAP_FAIL, lv, u4 ? 1 : 0));
    static const struct {
        fam_id f;
        int type, counter;
    } ecc[4] = {
        {F_ECC_SBE_VOL, NVML_MEMORY_ERROR_TYPE_CORRECTED, NVML_VOLATILE_ECC},
        {F_ECC_DBE_VOL, NVML_MEMORY_ERROR_TYPE_UNCORRECTED, NVML_VOLATILE_ECC},
        {F_ECC_SBE_AGG, NVML_MEMORY_ERROR_TYPE_CORRECTED, NVML_AGGREGATE_ECC},
        {F_ECC_DBE_AGG, NVML_MEMORY_ERROR_TYPE_UNCORRECTED, NVML_AGGREGATE_ECC},
    };
    for (int i = 0; i < 4; i++)
        READ(nvml_device_ecc_total(lib, h, ecc[i].type, ecc[i].counter, &ull),
             add(st, s, ecc[i].f, lv, (double)ull));
    if (d->events) {
        unsigned long long last = 0;
        uint64_t seq = 0;
        pthread_mutex_lock(&st->mu);
        for (size_t i = 0; i < st->nevs; i++) {
            const ev_count *e = &st->evs[i];
            if (e->kind == EV_XID && e->seq > seq && strcmp(e->uuid, d->uuid) == 0) {
                seq = e->seq;
                last = e->xid;
            }
        }
        pthread_mutex_unlock(&st->mu);
        add(st, s, F_XID, lv, (double)last);
    }
    return 0;
}

static void emit_container_memory(gpu_state *st, vg_scrape *s, const gpu_dev *d, size_t nt)
{
    static const char *const names[5] = {"gpu", "UUID", "pod", "namespace", "container"};
    vg_family *f = NULL;
    for (size_t i = 0; i < nt; i++) {
        const tenant *t = &st->tenants[i];
        if (!t->named || !t->has_bytes)
            continue;
        if (!f)
            f = vg_scrape_family(s, "vigil_gpu_container_memory_used_bytes", VG_MT_GAUGE,
                                 "GPU memory used by the compute processes of a container.", 5,
                                 names);
        vg_family_add(f, (double)t->bytes, d->idx, d->uuid, t->pod, t->ns, t->ctr);
    }
}

/* One GPU: attribution, fields, MIG instances. -1 when it stopped early. */
static int emit_gpu(agent_ctx *ctx, gpu_state *st, vg_scrape *s, gpu_dev *d, bool attribute)
{
    const char *lv[L_N] = {d->idx, d->uuid, d->bus, d->device, d->name, "", "", st->host,
                           st->driver, "", "", ""};
    unsigned int nprocs = 0;
    size_t nt = 0;
    if (attribute) {
        int rc = gpu_processes(st, d->h, &nprocs);
        if (outcome(st, d, rc) < 0)
            return -1;
        if (rc != NVML_SUCCESS && rc != NVML_ERROR_NOT_SUPPORTED &&
            rc != NVML_ERROR_FUNCTION_NOT_FOUND && !st->procs_warned) {
            st->procs_warned = true;
            vg_log_warn(st->log, "gpu", "cannot list GPU processes; no pod attribution", "gpu",
                        d->idx, "err", nvml_rc_name(rc));
        }
        if (rc == NVML_SUCCESS) {
            nt = gpu_tenants(ctx, st, nprocs);
            const tenant *own = gpu_exclusive(st, nprocs, true, 0);
            if (own) {
                lv[L_CONTAINER] = own->ctr;
                lv[L_NAMESPACE] = own->ns;
                lv[L_POD] = own->pod;
            }
            emit_container_memory(st, s, d, nt);
        } else {
            nprocs = 0;
        }
    }
    if (emit_fields(st, s, d, lv) < 0)
        return -1;

    unsigned int mode = 0, max = 0;
    if (nvml_device_mig_mode(&st->lib, d->h, &mode) != NVML_SUCCESS ||
        mode != NVML_DEVICE_MIG_ENABLE ||
        nvml_device_mig_count(&st->lib, d->h, &max) != NVML_SUCCESS)
        return 0;
    if (max > MIG_MAX)
        max = MIG_MAX;
    for (unsigned int k = 0; k < max; k++) {
        nvml_device mh;
        int rc = nvml_device_mig_by_index(&st->lib, d->h, k, &mh);
        if (rc == NVML_ERROR_NOT_FOUND || rc == NVML_ERROR_INVALID_ARGUMENT)
            continue; /* an unused slot */
        if (outcome(st, d, rc) <= 0) {
            if (d->lost || st->driver_gone)
                return -1;
            continue;
        }
        unsigned int gi;
        char name[NVML_DEVICE_NAME_V2_BUFFER_SIZE] = "", profile[NVML_DEVICE_NAME_V2_BUFFER_SIZE];
        char gis[12];
        if (nvml_device_gpu_instance_id(&st->lib, mh, &gi) != NVML_SUCCESS)
            continue;
        snprintf(gis, sizeof gis, "%u", gi);
        nvml_device_name(&st->lib, mh, name, sizeof name);
        gpu_mig_profile(name, profile, sizeof profile);
        const char *mlv[L_N];
        memcpy(mlv, lv, sizeof mlv);
        mlv[L_PROFILE] = profile;
        mlv[L_GI] = gis;
        mlv[L_CONTAINER] = mlv[L_NAMESPACE] = mlv[L_POD] = "";
        const tenant *own = attribute ? gpu_exclusive(st, nprocs, false, gi) : NULL;
        if (own) {
            mlv[L_CONTAINER] = own->ctr;
            mlv[L_NAMESPACE] = own->ns;
            mlv[L_POD] = own->pod;
        }
        if (emit_instance(st, s, d, mh, mlv) < 0)
            return -1;
    }
    return 0;
}

/* A lost GPU answering again (after a reset) is read again. */
static void probe_lost(gpu_state *st, gpu_dev *d)
{
    nvml_device h = d->h;
    char uuid[sizeof d->uuid];
    if (!h && nvml_device_by_index(&st->lib, d->index, &h) != NVML_SUCCESS)
        return;
    if (nvml_device_uuid(&st->lib, h, uuid, sizeof uuid) != NVML_SUCCESS)
        return;
    char name[sizeof d->name] = "", bus[sizeof d->bus] = "";
    nvml_device_name(&st->lib, h, name, sizeof name);
    nvml_device_pci_bus_id(&st->lib, h, bus, sizeof bus);
    pthread_mutex_lock(&st->mu); /* the XID thread reads handles and labels */
    d->h = h;
    d->lost = false;
    memcpy(d->uuid, uuid, sizeof uuid);
    memcpy(d->name, name, sizeof name);
    memcpy(d->bus, bus, sizeof bus);
    pthread_mutex_unlock(&st->mu);
    snprintf(st->seen_uuid[d->index], sizeof st->seen_uuid[d->index], "%s", uuid);
    vg_log_info(st->log, "gpu", "GPU answers again", "gpu", d->idx, "UUID", d->uuid);
}

static void emit_events(gpu_state *st, vg_scrape *s)
{
    static const char *const xl[4] = {"gpu", "UUID", "xid", "cause"};
    static const char *const el[3] = {"gpu", "UUID", "type"};
    vg_family *xf = NULL, *ef = NULL;
    uint64_t dropped;
    pthread_mutex_lock(&st->mu);
    for (size_t i = 0; i < st->nevs; i++) {
        const ev_count *e = &st->evs[i];
        if (e->kind == EV_XID) {
            if (!xf)
                xf = vg_scrape_family(s, "vigil_gpu_xid_errors_total", VG_MT_COUNTER,
                                      "XID errors reported by the NVIDIA driver since the agent "
                                      "started, by XID and cause (application or hardware).",
                                      4, xl);
            char xid[24];
            snprintf(xid, sizeof xid, "%llu", e->xid);
            vg_family_add(xf, (double)e->n, e->gpu, e->uuid, xid,
                          gpu_xid_is_application(e->xid) ? "application" : "hardware");
        } else {
            if (!ef)
                ef = vg_scrape_family(s, "vigil_gpu_ecc_events_total", VG_MT_COUNTER,
                                      "ECC error events reported by NVML since the agent "
                                      "started, by type (single_bit, double_bit).",
                                      3, el);
            vg_family_add(ef, (double)e->n, e->gpu, e->uuid,
                          e->kind == EV_SBE ? "single_bit" : "double_bit");
        }
    }
    dropped = st->ev_dropped;
    pthread_mutex_unlock(&st->mu);
    if (dropped) {
        char n[24];
        snprintf(n, sizeof n, "%llu", (unsigned long long)dropped);
        log_once(st, VG_LOG_WARN, "too many distinct XID kinds; some events not counted",
                 "dropped", n);
    }
}

/* ---------------- collector ---------------- */

static int gpu_init(agent_ctx *ctx, void **state)
{
    gpu_state *st = calloc(1, sizeof *st);
    if (!st)
        return -ENOMEM;
    st->log = ctx->log;
    st->down_rc = -ENODEV;
    atomic_init(&st->stop, false);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&st->wake, &ca);
    pthread_condattr_destroy(&ca);
    if (rc) {
        free(st);
        return -rc;
    }
    pthread_mutex_init(&st->mu, NULL);
    vg_buf_init(&st->json);
    host_label(st->host, sizeof st->host);
    st->procs_cap = 32;
    st->procs = calloc(st->procs_cap, sizeof *st->procs);
    st->proc_tenant = calloc(st->procs_cap, sizeof *st->proc_tenant);
    if (!st->procs || !st->proc_tenant) {
        free(st->procs);
        free(st->proc_tenant);
        pthread_cond_destroy(&st->wake);
        pthread_mutex_destroy(&st->mu);
        free(st);
        return -ENOMEM;
    }
    *state = st;
    return 0;
}

static void gpu_release(void *state)
{
    gpu_state *st = state;
    if (!st)
        return;
    gpu_shutdown(st, true);
    vg_buf_release(&st->json);
    free(st->procs);
    free(st->proc_tenant);
    pthread_cond_destroy(&st->wake);
    pthread_mutex_destroy(&st->mu);
    free(st);
}

static int gpu_collect(agent_ctx *ctx, void *state, vg_scrape *s)
{
    gpu_state *st = state;
    memset(st->fam, 0, sizeof st->fam);
    st->driver_gone = 0;
    st->gen++;
    if (!st->up) {
        if (mono_ms() < st->retry_at_ms)
            return st->down_rc;
        int rc = gpu_start(ctx, st);
        if (rc) {
            schedule_retry(st, rc);
            return rc;
        }
        st->backoff_ms = 0;
    }
    unsigned int count = 0;
    int nrc = nvml_device_count(&st->lib, &count);
    if (nrc != NVML_SUCCESS) {
        if (is_driver_gone(nrc) || nrc == NVML_ERROR_UNKNOWN) {
            log_once(st, VG_LOG_WARN, "NVML stopped answering (driver unloaded or upgraded?); "
                                      "re-initialising with backoff",
                     "err", nvml_rc_name(nrc));
            gpu_shutdown(st, nrc == NVML_ERROR_LIB_RM_VERSION_MISMATCH);
            schedule_retry(st, -ENODEV);
            return -ENODEV;
        }
        return -EIO;
    }
    if (count != st->ndev && !(count > GPU_MAX && st->ndev == GPU_MAX)) {
        char n[16];
        snprintf(n, sizeof n, "%u", count);
        vg_log_info(st->log, "gpu", "GPU count changed; enumerating again", "gpus", n);
        events_stop(st);
        gpu_enumerate(st, count);
        events_start(st);
    }

    static const char *const lost_labels[2] = {"gpu", "UUID"};
    vg_family *lost = vg_scrape_family(s, "vigil_gpu_lost", VG_MT_GAUGE,
                                       "Whether the GPU fell off the bus (NVML answers "
                                       "GPU_IS_LOST); a lost GPU's other series are absent.",
                                       2, lost_labels);
    bool attribute = vg_config_bool(ctx->cfg, "collector.gpu.attribution");
    bool late = false;
    for (unsigned int i = 0; i < st->ndev && !st->driver_gone; i++) {
        gpu_dev *d = &st->devs[i];
        if (d->lost)
            probe_lost(st, d);
        if (!d->lost && mono_ms() >= ctx->deadline_ms) {
            log_once(st, VG_LOG_WARN, "scrape deadline reached; remaining GPUs skipped", "from",
                     d->idx);
            late = true;
            break;
        }
        if (!d->lost)
            emit_gpu(ctx, st, s, d, attribute);
        if (!st->driver_gone)
            vg_family_add(lost, d->lost ? 1 : 0, d->idx, d->uuid);
    }
    if (st->driver_gone) {
        log_once(st, VG_LOG_WARN, "NVML stopped answering (driver unloaded or upgraded?); "
                                  "re-initialising with backoff",
                 "err", nvml_rc_name(st->driver_gone));
        gpu_shutdown(st, st->driver_gone == NVML_ERROR_LIB_RM_VERSION_MISMATCH);
        schedule_retry(st, -ENODEV);
        return -ENODEV;
    }
    emit_events(st, s);
    return late ? -ETIMEDOUT : 0;
}

const agent_collector agent_collector_gpu = {
    "gpu",
    true,
    "NVIDIA GPU metrics through NVML (dcgm-exporter compatible), with per-pod attribution",
    gpu_opts,
    sizeof gpu_opts / sizeof gpu_opts[0],
    gpu_init,
    gpu_collect,
    gpu_release,
    false, /* NVML calls can stall: the collection thread */
};
