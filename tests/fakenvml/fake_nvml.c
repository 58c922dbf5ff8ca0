/*
 * fake_nvml.c - a stand-in libnvidia-ml.so.1 for the GPU collector's tests.
 *
 * It exports the NVML entry points agent/collectors/nvml.c resolves, with
 * NVML's ABI (the declarations in agent/collectors/nvml.h), and answers
 * from a small text file so unit and integration tests can run the real
 * agent against 0..64 GPUs, MIG instances, unsupported fields, lost GPUs,
 * an unloaded driver and injected XID/ECC events, on machines without any
 * NVIDIA hardware.
 *
 * Build variants (tests/mk/fakenvml.mk):
 *   default          current driver: versioned symbols (_v2/_v3), memory
 *                    info v2, remapped rows, field values, MIG, events v2.
 *   -DFAKE_NVML_OLD  an old driver: unversioned symbols only (v1 PCI info
 *                    layout, 16-byte process entries, memory info v1,
 *                    nvmlEventSetWait), no MIG, field values, energy or
 *                    remapped rows.
 *   -DFAKE_NVML_CC   an early 12.x driver whose _v3 process entries are 32
 *                    bytes (has nvmlDeviceGetConfComputeMemSizeInfo, lacks
 *                    nvmlDeviceGetRunningProcessDetailList).
 *
 * Config: the file named by $FAKE_NVML_CONFIG, "key=value" lines, '#'
 * comments; values may hold \xNN, \n and \\ escapes (to feed hostile
 * strings). It is re-read whenever its content changes (checked on
 * nvmlInit and nvmlDeviceGetCount), so a test rewrites it mid-run.
 *   device_count=N            GPUs (default 1)
 *   driver_version=S          nvmlSystemGetDriverVersion
 *   init_error=CODE           what nvmlInit returns (default 0)
 *   driver=ok|unloaded|mismatch  unloaded: every call (init too) answers
 *                             DRIVER_NOT_LOADED; mismatch: LIB_RM_VERSION_MISMATCH
 *   events=0                  nvmlDeviceGetSupportedEventTypes unsupported
 *   gpu.<i|*>.<key>=V         per GPU (a number wins over '*'):
 *     name uuid bus_id sm_clock mem_clock temp mem_temp power_mw energy_mj
 *     util_gpu util_mem enc_util dec_util fb_total_mib fb_used_mib
 *     fb_reserved_mib pcie_replay remap_corr remap_unc remap_pending
 *     remap_failure ecc_sbe_vol ecc_dbe_vol ecc_sbe_agg ecc_dbe_agg
 *     unsupported=F,F...      these answer NOT_SUPPORTED; F is one of the
 *                             keys above or name uuid pci util memory remap
 *                             ecc procs events
 *     lost=1                  every call on the GPU answers GPU_IS_LOST
 *     procs=PID:BYTES[:GI],...  compute processes (BYTES "na": unknown)
 *     mig=0|1 mig_count=N     MIG mode (absent: not supported), instances
 *   gpu.<i|*>.mig.<k|*>.<key>=V  per instance: profile gi fb_total_mib fb_used_mib
 * Events: $FAKE_NVML_EVENTS names a file of lines "GPU xid N", "GPU sbe" or
 * "GPU dbe"; nvmlEventSetWait delivers each complete line once, in order.
 *
 * State is global, as in the real library (NVML is a process-wide
 * singleton); one mutex serialises every call.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/collectors/nvml.h"

#define MAX_GPUS 64
#define MAX_MIG 7
#define MAX_KV 1024
#define MAX_PROCS 64
#define CFG_MAX (256 * 1024)
#define DEV_MAGIC 0x6e766d6cu

#define NVML_ERROR_ARGUMENT_VERSION_MISMATCH 25

typedef struct fake_dev {
    unsigned int magic;
    int gpu;
    int mig;          /* -1: the GPU itself */
} fake_dev;

typedef struct kv {
    char *key;
    char *val;
} kv;

typedef struct fake_set {
    unsigned int magic;
} fake_set;

static struct {
    pthread_mutex_t mu;
    char *cfg_text;                 /* last content read, to notice changes */
    kv kvs[MAX_KV];
    size_t nkv;
    unsigned int inits;             /* nvmlInit reference count */
    unsigned int init_calls, shutdown_calls;
    long events_off;
    fake_set set;
    int sets_live;
    unsigned long long registered[MAX_GPUS];
    fake_dev devs[MAX_GPUS];
    fake_dev migs[MAX_GPUS][MAX_MIG];
} F = {.mu = PTHREAD_MUTEX_INITIALIZER};

static unsigned int cfg_gen = 1;  /* bumped on every config change (memo.gen) */

/* ---------------- config ---------------- */

static void cfg_clear(void)
{
    for (size_t i = 0; i < F.nkv; i++) {
        free(F.kvs[i].key);
        free(F.kvs[i].val);
    }
    F.nkv = 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Unescape \xNN, \n, \\ in place; a \x00 ends the value (like C strings do). */
static void unescape(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        if (r[0] == '\\' && r[1] == 'x' && hexval(r[2]) >= 0 && hexval(r[3]) >= 0) {
            *w++ = (char)(hexval(r[2]) * 16 + hexval(r[3]));
            r += 3;
        } else if (r[0] == '\\' && r[1] == 'n') {
            *w++ = '\n';
            r++;
        } else if (r[0] == '\\' && r[1] == '\\') {
            *w++ = '\\';
            r++;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

static void cfg_parse(char *text)
{
    cfg_clear();
    cfg_gen++;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line && F.nkv < MAX_KV;
         line = strtok_r(NULL, "\n", &save)) {
        while (*line == ' ' || *line == '\t')
            line++;
        if (*line == '#' || !*line)
            continue;
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = '\0';
        char *k = line, *v = eq + 1;
        size_t kl = strlen(k);
        while (kl && (k[kl - 1] == ' ' || k[kl - 1] == '\t'))
            k[--kl] = '\0';
        size_t vl = strlen(v);
        while (vl && (v[vl - 1] == '\r'))
            v[--vl] = '\0';
        F.kvs[F.nkv].key = strdup(k);
        F.kvs[F.nkv].val = strdup(v);
        if (!F.kvs[F.nkv].key || !F.kvs[F.nkv].val) {
            free(F.kvs[F.nkv].key);
            free(F.kvs[F.nkv].val);
            break;
        }
        unescape(F.kvs[F.nkv].val);
        F.nkv++;
    }
}

/* Re-read the config when its content changed. */
static void cfg_refresh(void)
{
    const char *path = getenv("FAKE_NVML_CONFIG");
    char *text = NULL;
    size_t n = 0;
    FILE *f = path ? fopen(path, "r") : NULL;
    if (f) {
        text = malloc(CFG_MAX + 1);
        if (text) {
            n = fread(text, 1, CFG_MAX, f);
            text[n] = '\0';
            char *shrunk = realloc(text, n + 1);
            if (shrunk)
                text = shrunk;
        }
        fclose(f);
    }
    if (!text) {
        text = strdup("");
        if (!text)
            return;
    }
    if (F.cfg_text && strcmp(F.cfg_text, text) == 0) {
        free(text);
        return;
    }
    free(F.cfg_text);
    F.cfg_text = text;
    char *work = strdup(text);
    if (work) {
        cfg_parse(work);
        free(work);
    }
}

/* Unloaded (dlclose): free what the config holds. */
__attribute__((destructor)) static void fake_unload(void)
{
    cfg_clear();
    free(F.cfg_text);
    F.cfg_text = NULL;
}

static const char *cfg_get(const char *key)
{
    const char *v = NULL;
    for (size_t i = 0; i < F.nkv; i++)
        if (strcmp(F.kvs[i].key, key) == 0)
            v = F.kvs[i].val; /* the last one wins */
    return v;
}

/*
 * Lookups are memoised per (GPU, instance, key) until the config changes,
 * so a scrape costs the fake next to nothing and benchmarks measure the
 * agent. Keys are string literals: their address identifies them.
 */
#define MEMO_SLOTS 8192
typedef struct memo {
    const char *key;
    int g, m, kind;
    unsigned int gen;
    const char *val;
} memo;
static memo memos[MEMO_SLOTS];

static memo *memo_slot(const char *key, int g, int m, int kind, bool *hit)
{
    uintptr_t h = ((uintptr_t)key >> 3) * 2654435761u + (uintptr_t)(g * 131 + m * 7 + kind);
    memo *e = &memos[h % MEMO_SLOTS];
    *hit = e->gen == cfg_gen && e->key == key && e->g == g && e->m == m && e->kind == kind;
    if (!*hit) {
        e->key = key;
        e->g = g;
        e->m = m;
        e->kind = kind;
        e->gen = cfg_gen;
    }
    return e;
}

static const char *dev_get_slow(int g, const char *key);
static const char *mig_get_slow(int g, int m, const char *key);

static const char *dev_get(int g, const char *key)
{
    bool hit;
    memo *e = memo_slot(key, g, -1, 0, &hit);
    if (!hit)
        e->val = dev_get_slow(g, key);
    return e->val;
}

static const char *mig_get(int g, int m, const char *key)
{
    bool hit;
    memo *e = memo_slot(key, g, m, 0, &hit);
    if (!hit)
        e->val = mig_get_slow(g, m, key);
    return e->val;
}

static const char *dev_get_slow(int g, const char *key)
{
    char k[128];
    snprintf(k, sizeof k, "gpu.%d.%s", g, key);
    const char *v = cfg_get(k);
    if (v)
        return v;
    snprintf(k, sizeof k, "gpu.*.%s", key);
    return cfg_get(k);
}

static const char *mig_get_slow(int g, int m, const char *key)
{
    char k[128];
    snprintf(k, sizeof k, "gpu.%d.mig.%d.%s", g, m, key);
    const char *v = cfg_get(k);
    if (v)
        return v;
    snprintf(k, sizeof k, "gpu.%d.mig.*.%s", g, key);
    if ((v = cfg_get(k)))
        return v;
    snprintf(k, sizeof k, "gpu.*.mig.*.%s", key);
    return cfg_get(k);
}

static unsigned long long num(const char *v, unsigned long long def)
{
    if (!v || !*v)
        return def;
    return strtoull(v, NULL, 0);
}

static unsigned long long dev_num(int g, const char *key, unsigned long long def)
{
    return num(dev_get(g, key), def);
}

static bool dev_unsupported_slow(int g, const char *field);

static bool dev_unsupported(int g, const char *field)
{
    bool hit;
    memo *e = memo_slot(field, g, -1, 1, &hit);
    if (!hit)
        e->val = dev_unsupported_slow(g, field) ? field : NULL;
    return e->val != NULL;
}

static bool dev_unsupported_slow(int g, const char *field)
{
    const char *list = dev_get(g, "unsupported");
    if (!list)
        return false;
    size_t fl = strlen(field);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == fl && strncmp(p, field, l) == 0)
            return true;
        if (!e)
            break;
        p = e + 1;
    }
    return false;
}

static int device_count(void)
{
    unsigned long long n = num(cfg_get("device_count"), 1);
    return n > MAX_GPUS ? MAX_GPUS : (int)n;
}

static int driver_rc(void)
{
    const char *d = cfg_get("driver");
    if (d && strcmp(d, "unloaded") == 0)
        return NVML_ERROR_DRIVER_NOT_LOADED;
    if (d && strcmp(d, "mismatch") == 0)
        return NVML_ERROR_LIB_RM_VERSION_MISMATCH;
    return NVML_SUCCESS;
}

static int lib_ready(void)
{
    int rc = driver_rc();
    if (rc)
        return rc;
    return F.inits ? NVML_SUCCESS : NVML_ERROR_UNINITIALIZED;
}

/* Validate a handle (under the lock); *out gets the device. */
static int dev_check(nvml_device h, fake_dev **out)
{
    int rc = lib_ready();
    if (rc)
        return rc;
    fake_dev *d = (fake_dev *)h;
    bool ours = false;
    for (int g = 0; g < MAX_GPUS && !ours; g++) {
        if (d == &F.devs[g])
            ours = true;
        for (int m = 0; m < MAX_MIG && !ours; m++)
            if (d == &F.migs[g][m])
                ours = true;
    }
    if (!ours || d->magic != DEV_MAGIC || d->gpu >= device_count())
        return NVML_ERROR_INVALID_ARGUMENT;
    if (dev_num(d->gpu, "lost", 0))
        return NVML_ERROR_GPU_IS_LOST;
    if (d->mig >= 0 && (num(dev_get(d->gpu, "mig"), 0) != 1 ||
                        d->mig >= (int)num(dev_get(d->gpu, "mig_count"), 0)))
        return NVML_ERROR_INVALID_ARGUMENT;
    *out = d;
    return NVML_SUCCESS;
}

/*
 * Enter a per-device call: lock, validate, and refuse fields listed as
 * unsupported, or any field on a MIG handle unless mig_ok.
 */
#define DEV_BEGIN(h, field, mig_ok)                                          \
    fake_dev *d = NULL;                                                      \
    pthread_mutex_lock(&F.mu);                                               \
    int rc = dev_check((h), &d);                                             \
    if (rc == NVML_SUCCESS && ((d->mig >= 0 && !(mig_ok)) ||                 \
                               ((field) && dev_unsupported(d->gpu, (field))))) \
        rc = NVML_ERROR_NOT_SUPPORTED;                                       \
    if (rc == NVML_SUCCESS) {
#define DEV_END                      \
    }                                \
    pthread_mutex_unlock(&F.mu);     \
    return rc;

static void copy_out(char *dst, unsigned int len, const char *src)
{
    if (!len)
        return;
    size_t n = strlen(src);
    if (n >= len)
        n = len - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* ---------------- test hooks (not NVML) ---------------- */

void fake_nvml_counters(unsigned int *init_calls, unsigned int *shutdown_calls, int *sets_live);
void fake_nvml_counters(unsigned int *init_calls, unsigned int *shutdown_calls, int *sets_live)
{
    pthread_mutex_lock(&F.mu);
    *init_calls = F.init_calls;
    *shutdown_calls = F.shutdown_calls;
    *sets_live = F.sets_live;
    pthread_mutex_unlock(&F.mu);
}

/* ---------------- init ---------------- */

static int do_init(void)
{
    pthread_mutex_lock(&F.mu);
    cfg_refresh();
    F.init_calls++;
    int rc = driver_rc();
    if (!rc)
        rc = (int)num(cfg_get("init_error"), 0);
    if (!rc) {
        for (int g = 0; g < MAX_GPUS; g++) {
            F.devs[g] = (fake_dev){DEV_MAGIC, g, -1};
            for (int m = 0; m < MAX_MIG; m++)
                F.migs[g][m] = (fake_dev){DEV_MAGIC, g, m};
        }
        if (F.inits == 0) {
            /* Events written before this init are history: start at the end. */
            const char *ev = getenv("FAKE_NVML_EVENTS");
            FILE *f = ev ? fopen(ev, "r") : NULL;
            F.events_off = 0;
            if (f) {
                if (fseek(f, 0, SEEK_END) == 0)
                    F.events_off = ftell(f);
                fclose(f);
            }
        }
        F.inits++;
    }
    pthread_mutex_unlock(&F.mu);
    return rc;
}

#ifndef FAKE_NVML_OLD
int nvmlInit_v2(void);
int nvmlInit_v2(void)
{
    return do_init();
}
#endif

int nvmlInit(void);
int nvmlInit(void)
{
    return do_init();
}

int nvmlShutdown(void);
int nvmlShutdown(void)
{
    pthread_mutex_lock(&F.mu);
    int rc = F.inits ? NVML_SUCCESS : NVML_ERROR_UNINITIALIZED;
    if (F.inits) {
        F.inits--;
        F.shutdown_calls++;
        if (!F.inits)
            memset(F.registered, 0, sizeof F.registered);
    }
    pthread_mutex_unlock(&F.mu);
    return rc;
}

const char *nvmlErrorString(int rc);
const char *nvmlErrorString(int rc)
{
    return rc == 0 ? "Success" : "Fake NVML error";
}

int nvmlSystemGetDriverVersion(char *buf, unsigned int len);
int nvmlSystemGetDriverVersion(char *buf, unsigned int len)
{
    pthread_mutex_lock(&F.mu);
    int rc = lib_ready();
    if (!rc) {
        const char *v = cfg_get("driver_version");
        copy_out(buf, len, v ? v : "550.54.15");
    }
    pthread_mutex_unlock(&F.mu);
    return rc;
}

static int get_count(unsigned int *n)
{
    pthread_mutex_lock(&F.mu);
    cfg_refresh();
    int rc = lib_ready();
    if (!rc)
        *n = (unsigned int)device_count();
    pthread_mutex_unlock(&F.mu);
    return rc;
}

#ifndef FAKE_NVML_OLD
int nvmlDeviceGetCount_v2(unsigned int *n);
int nvmlDeviceGetCount_v2(unsigned int *n)
{
    return get_count(n);
}
#endif

int nvmlDeviceGetCount(unsigned int *n);
int nvmlDeviceGetCount(unsigned int *n)
{
    return get_count(n);
}

static int get_handle(unsigned int i, nvml_device *out)
{
    pthread_mutex_lock(&F.mu);
    int rc = lib_ready();
    if (!rc && i >= (unsigned int)device_count())
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (!rc && dev_num((int)i, "lost", 0))
        rc = NVML_ERROR_GPU_IS_LOST;
    if (!rc)
        *out = (nvml_device)&F.devs[i];
    pthread_mutex_unlock(&F.mu);
    return rc;
}

#ifndef FAKE_NVML_OLD
int nvmlDeviceGetHandleByIndex_v2(unsigned int i, nvml_device *out);
int nvmlDeviceGetHandleByIndex_v2(unsigned int i, nvml_device *out)
{
    return get_handle(i, out);
}
#endif

int nvmlDeviceGetHandleByIndex(unsigned int i, nvml_device *out);
int nvmlDeviceGetHandleByIndex(unsigned int i, nvml_device *out)
{
    return get_handle(i, out);
}

/* ---------------- identity ---------------- */

static const char *gpu_name(int g)
{
    const char *v = dev_get(g, "name");
    return v ? v : "NVIDIA A100-SXM4-80GB";
}

int nvmlDeviceGetName(nvml_device h, char *buf, unsigned int len);
int nvmlDeviceGetName(nvml_device h, char *buf, unsigned int len)
{
    DEV_BEGIN(h, "name", 1)
    if (d->mig >= 0) {
        const char *p = mig_get(d->gpu, d->mig, "profile");
        char tmp[256];
        snprintf(tmp, sizeof tmp, "%s MIG %s", gpu_name(d->gpu), p ? p : "1g.10gb");
        copy_out(buf, len, tmp);
    } else {
        copy_out(buf, len, gpu_name(d->gpu));
    }
    DEV_END
}

int nvmlDeviceGetUUID(nvml_device h, char *buf, unsigned int len);
int nvmlDeviceGetUUID(nvml_device h, char *buf, unsigned int len)
{
    DEV_BEGIN(h, "uuid", 1)
    char tmp[96];
    const char *v = d->mig < 0 ? dev_get(d->gpu, "uuid") : NULL;
    if (v)
        snprintf(tmp, sizeof tmp, "%s", v);
    else if (d->mig < 0)
        snprintf(tmp, sizeof tmp, "GPU-%08x-1111-2222-3333-%012x", 0xfa000000u + (unsigned)d->gpu,
                 (unsigned)d->gpu);
    else
        snprintf(tmp, sizeof tmp, "MIG-%08x-1111-2222-3333-%012x", 0xfa000000u + (unsigned)d->gpu,
                 (unsigned)d->mig);
    copy_out(buf, len, tmp);
    DEV_END
}

static void bus_ids(int g, char *legacy, size_t llen, char *full, size_t flen)
{
    const char *v = dev_get(g, "bus_id");
    unsigned int bus = 0x10u + (unsigned int)g;
    snprintf(legacy, llen, "0000:%02X:00.0", bus);
    if (v)
        snprintf(full, flen, "%s", v);
    else
        snprintf(full, flen, "00000000:%02X:00.0", bus);
}

#ifndef FAKE_NVML_OLD
static int pci_v2(nvml_device h, nvml_pci_info *pi)
{
    DEV_BEGIN(h, "pci", 0)
    char legacy[64], full[128];
    bus_ids(d->gpu, legacy, sizeof legacy, full, sizeof full);
    memset(pi, 0, sizeof *pi);
    copy_out(pi->bus_id_legacy, sizeof pi->bus_id_legacy, legacy);
    copy_out(pi->bus_id, sizeof pi->bus_id, full);
    pi->bus = 0x10u + (unsigned int)d->gpu;
    pi->pci_device_id = 0x20b210deu;
    DEV_END
}

int nvmlDeviceGetPciInfo_v3(nvml_device h, nvml_pci_info *pi);
int nvmlDeviceGetPciInfo_v3(nvml_device h, nvml_pci_info *pi)
{
    return pci_v2(h, pi);
}

int nvmlDeviceGetPciInfo_v2(nvml_device h, nvml_pci_info *pi);
int nvmlDeviceGetPciInfo_v2(nvml_device h, nvml_pci_info *pi)
{
    return pci_v2(h, pi);
}
#endif

int nvmlDeviceGetPciInfo(nvml_device h, nvml_pci_info_v1 *pi);
int nvmlDeviceGetPciInfo(nvml_device h, nvml_pci_info_v1 *pi)
{
    DEV_BEGIN(h, "pci", 0)
    char legacy[64], full[128];
    bus_ids(d->gpu, legacy, sizeof legacy, full, sizeof full);
    memset(pi, 0, sizeof *pi);
    copy_out(pi->bus_id, sizeof pi->bus_id, legacy);
    pi->bus = 0x10u + (unsigned int)d->gpu;
    pi->pci_device_id = 0x20b210deu;
    DEV_END
}

/* ---------------- values ---------------- */

int nvmlDeviceGetClockInfo(nvml_device h, int type, unsigned int *mhz);
int nvmlDeviceGetClockInfo(nvml_device h, int type, unsigned int *mhz)
{
    const char *field = type == NVML_CLOCK_SM ? "sm_clock" : type == NVML_CLOCK_MEM ? "mem_clock"
                                                                                  : "clock";
    DEV_BEGIN(h, field, 0)
    if (type == NVML_CLOCK_SM)
        *mhz = (unsigned int)dev_num(d->gpu, "sm_clock", 1410);
    else if (type == NVML_CLOCK_MEM)
        *mhz = (unsigned int)dev_num(d->gpu, "mem_clock", 1593);
    else
        rc = NVML_ERROR_INVALID_ARGUMENT;
    DEV_END
}

int nvmlDeviceGetTemperature(nvml_device h, int sensor, unsigned int *c);
int nvmlDeviceGetTemperature(nvml_device h, int sensor, unsigned int *c)
{
    DEV_BEGIN(h, "temp", 0)
    if (sensor != NVML_TEMPERATURE_GPU)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else
        *c = (unsigned int)dev_num(d->gpu, "temp", 34);
    DEV_END
}

#ifndef FAKE_NVML_OLD
int nvmlDeviceGetFieldValues(nvml_device h, int count, nvml_field_value *values);
int nvmlDeviceGetFieldValues(nvml_device h, int count, nvml_field_value *values)
{
    DEV_BEGIN(h, NULL, 0)
    for (int i = 0; i < count; i++) {
        nvml_field_value *fv = &values[i];
        if (fv->field_id != NVML_FI_DEV_MEMORY_TEMP || dev_unsupported(d->gpu, "mem_temp")) {
            fv->nvml_return = NVML_ERROR_NOT_SUPPORTED;
            continue;
        }
        const char *v = dev_get(d->gpu, "mem_temp");
        if (v && strchr(v, '.')) {
            fv->value_type = NVML_VALUE_TYPE_DOUBLE;
            fv->value.d = strtod(v, NULL);
        } else {
            fv->value_type = NVML_VALUE_TYPE_UNSIGNED_INT;
            fv->value.ui = (unsigned int)num(v, 40);
        }
        fv->timestamp = 1;
        fv->nvml_return = NVML_SUCCESS;
    }
    DEV_END
}
#endif

int nvmlDeviceGetPowerUsage(nvml_device h, unsigned int *mw);
int nvmlDeviceGetPowerUsage(nvml_device h, unsigned int *mw)
{
    DEV_BEGIN(h, "power_mw", 0)
    *mw = (unsigned int)dev_num(d->gpu, "power_mw", 61234);
    DEV_END
}

#ifndef FAKE_NVML_OLD
int nvmlDeviceGetTotalEnergyConsumption(nvml_device h, unsigned long long *mj);
int nvmlDeviceGetTotalEnergyConsumption(nvml_device h, unsigned long long *mj)
{
    DEV_BEGIN(h, "energy_mj", 0)
    *mj = dev_num(d->gpu, "energy_mj", 123456789ULL);
    DEV_END
}
#endif

int nvmlDeviceGetUtilizationRates(nvml_device h, nvml_utilization *u);
int nvmlDeviceGetUtilizationRates(nvml_device h, nvml_utilization *u)
{
    DEV_BEGIN(h, "util", 0)
    u->gpu = (unsigned int)dev_num(d->gpu, "util_gpu", 0);
    u->memory = (unsigned int)dev_num(d->gpu, "util_mem", 0);
    DEV_END
}

int nvmlDeviceGetEncoderUtilization(nvml_device h, unsigned int *u, unsigned int *period);
int nvmlDeviceGetEncoderUtilization(nvml_device h, unsigned int *u, unsigned int *period)
{
    DEV_BEGIN(h, "enc_util", 0)
    *u = (unsigned int)dev_num(d->gpu, "enc_util", 0);
    *period = 167000;
    DEV_END
}

int nvmlDeviceGetDecoderUtilization(nvml_device h, unsigned int *u, unsigned int *period);
int nvmlDeviceGetDecoderUtilization(nvml_device h, unsigned int *u, unsigned int *period)
{
    DEV_BEGIN(h, "dec_util", 0)
    *u = (unsigned int)dev_num(d->gpu, "dec_util", 0);
    *period = 167000;
    DEV_END
}

/* Total, reserved and used MiB of a GPU or a MIG instance. */
static void fb(fake_dev *d, unsigned long long *total, unsigned long long *reserved,
               unsigned long long *used)
{
    if (d->mig >= 0) {
        *total = num(mig_get(d->gpu, d->mig, "fb_total_mib"), 9984);
        *reserved = 0;
        *used = num(mig_get(d->gpu, d->mig, "fb_used_mib"), 13);
    } else {
        *total = dev_num(d->gpu, "fb_total_mib", 81920);
        *reserved = dev_num(d->gpu, "fb_reserved_mib", 512);
        *used = dev_num(d->gpu, "fb_used_mib", 1024);
    }
}

#ifndef FAKE_NVML_OLD
int nvmlDeviceGetMemoryInfo_v2(nvml_device h, nvml_memory_v2 *m);
int nvmlDeviceGetMemoryInfo_v2(nvml_device h, nvml_memory_v2 *m)
{
    DEV_BEGIN(h, "memory", 1)
    if (m->version != NVML_MEMORY_V2_VERSION) {
        rc = NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    } else {
        unsigned long long t, r, u;
        fb(d, &t, &r, &u);
        m->total = t << 20;
        m->reserved = r << 20;
        m->used = u << 20;
        m->free = (t - r - u) << 20;
    }
    DEV_END
}
#endif

int nvmlDeviceGetMemoryInfo(nvml_device h, nvml_memory_v1 *m);
int nvmlDeviceGetMemoryInfo(nvml_device h, nvml_memory_v1 *m)
{
    DEV_BEGIN(h, "memory", 1)
    unsigned long long t, r, u;
    fb(d, &t, &r, &u);
    m->total = t << 20;
    m->used = (u + r) << 20; /* v1 counts the reserved memory as used */
    m->free = (t - r - u) << 20;
    DEV_END
}

int nvmlDeviceGetPcieReplayCounter(nvml_device h, unsigned int *n);
int nvmlDeviceGetPcieReplayCounter(nvml_device h, unsigned int *n)
{
    DEV_BEGIN(h, "pcie_replay", 0)
    *n = (unsigned int)dev_num(d->gpu, "pcie_replay", 0);
    DEV_END
}

#ifndef FAKE_NVML_OLD
int nvmlDeviceGetRemappedRows(nvml_device h, unsigned int *c, unsigned int *u, unsigned int *p,
                              unsigned int *f);
int nvmlDeviceGetRemappedRows(nvml_device h, unsigned int *c, unsigned int *u, unsigned int *p,
                              unsigned int *f)
{
    DEV_BEGIN(h, "remap", 0)
    *c = (unsigned int)dev_num(d->gpu, "remap_corr", 0);
    *u = (unsigned int)dev_num(d->gpu, "remap_unc", 0);
    *p = (unsigned int)dev_num(d->gpu, "remap_pending", 0);
    *f = (unsigned int)dev_num(d->gpu, "remap_failure", 0);
    DEV_END
}
#endif

int nvmlDeviceGetTotalEccErrors(nvml_device h, int type, int counter, unsigned long long *n);
int nvmlDeviceGetTotalEccErrors(nvml_device h, int type, int counter, unsigned long long *n)
{
    DEV_BEGIN(h, "ecc", 0)
    static const char *const keys[2][2] = {{"ecc_sbe_vol", "ecc_sbe_agg"},
                                           {"ecc_dbe_vol", "ecc_dbe_agg"}};
    if (type < 0 || type > 1 || counter < 0 || counter > 1)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else
        *n = dev_num(d->gpu, keys[type][counter], 0);
    DEV_END
}

/* ---------------- processes ---------------- */

typedef struct fproc {
    unsigned int pid;
    unsigned long long bytes;
    unsigned int gi;
} fproc;

static size_t procs_of(fake_dev *d, fproc *out)
{
    const char *list = dev_get(d->gpu, "procs");
    size_t n = 0;
    if (!list)
        return 0;
    int want_gi = -1;
    if (d->mig >= 0)
        want_gi = (int)num(mig_get(d->gpu, d->mig, "gi"), (unsigned long long)d->mig + 1);
    for (const char *p = list; *p && n < MAX_PROCS;) {
        fproc e = {0, 0, NVML_NO_INSTANCE};
        char *end;
        e.pid = (unsigned int)strtoul(p, &end, 10);
        if (*end == ':') {
            if (strncmp(end + 1, "na", 2) == 0) {
                e.bytes = NVML_VALUE_NOT_AVAILABLE_ULL;
                end += 3;
            } else {
                e.bytes = strtoull(end + 1, &end, 10);
            }
        }
        if (*end == ':')
            e.gi = (unsigned int)strtoul(end + 1, &end, 10);
        if (want_gi < 0 || (unsigned int)want_gi == e.gi)
            out[n++] = e;
        const char *c = strchr(end, ',');
        if (!c)
            break;
        p = c + 1;
    }
    return n;
}

/* stride: 16 (v1), 24 (v2 / v3), 32 (v3 of CC-era drivers). */
static int procs_call(nvml_device h, unsigned int *count, void *infos, size_t stride)
{
    DEV_BEGIN(h, "procs", 1)
    fproc list[MAX_PROCS];
    size_t n = procs_of(d, list);
    if (*count < n) {
        *count = (unsigned int)n;
        rc = n ? NVML_ERROR_INSUFFICIENT_SIZE : NVML_SUCCESS;
    } else {
        for (size_t i = 0; i < n; i++) {
            unsigned char *e = (unsigned char *)infos + i * stride;
            memset(e, 0, stride);
            memcpy(e, &list[i].pid, sizeof list[i].pid);
            memcpy(e + 8, &list[i].bytes, sizeof list[i].bytes);
            if (stride >= 24) {
                unsigned int ci = list[i].gi == NVML_NO_INSTANCE ? NVML_NO_INSTANCE : 0;
                memcpy(e + 16, &list[i].gi, sizeof list[i].gi);
                memcpy(e + 20, &ci, sizeof ci);
            }
        }
        *count = (unsigned int)n;
    }
    DEV_END
}

#ifndef FAKE_NVML_OLD
int nvmlDeviceGetComputeRunningProcesses_v3(nvml_device h, unsigned int *count, void *infos);
int nvmlDeviceGetComputeRunningProcesses_v3(nvml_device h, unsigned int *count, void *infos)
{
#ifdef FAKE_NVML_CC
    return procs_call(h, count, infos, sizeof(nvml_process_info_v3cc));
#else
    return procs_call(h, count, infos, sizeof(nvml_process_info_v2));
#endif
}

int nvmlDeviceGetComputeRunningProcesses_v2(nvml_device h, unsigned int *count, void *infos);
int nvmlDeviceGetComputeRunningProcesses_v2(nvml_device h, unsigned int *count, void *infos)
{
    return procs_call(h, count, infos, sizeof(nvml_process_info_v2));
}

int nvmlDeviceGetConfComputeMemSizeInfo(nvml_device h, void *info);
int nvmlDeviceGetConfComputeMemSizeInfo(nvml_device h, void *info)
{
    return NVML_ERROR_NOT_SUPPORTED;
}

#ifndef FAKE_NVML_CC
int nvmlDeviceGetRunningProcessDetailList(nvml_device h, void *list);
int nvmlDeviceGetRunningProcessDetailList(nvml_device h, void *list)
{
    return NVML_ERROR_NOT_SUPPORTED;
}
#endif
#endif

int nvmlDeviceGetComputeRunningProcesses(nvml_device h, unsigned int *count, void *infos);
int nvmlDeviceGetComputeRunningProcesses(nvml_device h, unsigned int *count, void *infos)
{
    return procs_call(h, count, infos, sizeof(nvml_process_info_v1));
}

/* ---------------- MIG ---------------- */

#ifndef FAKE_NVML_OLD
int nvmlDeviceGetMigMode(nvml_device h, unsigned int *cur, unsigned int *pending);
int nvmlDeviceGetMigMode(nvml_device h, unsigned int *cur, unsigned int *pending)
{
    DEV_BEGIN(h, "mig", 0)
    const char *v = dev_get(d->gpu, "mig");
    if (!v)
        rc = NVML_ERROR_NOT_SUPPORTED;
    else
        *cur = *pending = (unsigned int)num(v, 0);
    DEV_END
}

int nvmlDeviceGetMaxMigDeviceCount(nvml_device h, unsigned int *n);
int nvmlDeviceGetMaxMigDeviceCount(nvml_device h, unsigned int *n)
{
    DEV_BEGIN(h, "mig", 0)
    if (!dev_get(d->gpu, "mig"))
        rc = NVML_ERROR_NOT_SUPPORTED;
    else
        *n = MAX_MIG;
    DEV_END
}

int nvmlDeviceGetMigDeviceHandleByIndex(nvml_device h, unsigned int i, nvml_device *out);
int nvmlDeviceGetMigDeviceHandleByIndex(nvml_device h, unsigned int i, nvml_device *out)
{
    DEV_BEGIN(h, "mig", 0)
    if (num(dev_get(d->gpu, "mig"), 0) != 1)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else if (i >= MAX_MIG || i >= num(dev_get(d->gpu, "mig_count"), 0))
        rc = NVML_ERROR_NOT_FOUND;
    else
        *out = (nvml_device)&F.migs[d->gpu][i];
    DEV_END
}

int nvmlDeviceGetGpuInstanceId(nvml_device h, unsigned int *id);
int nvmlDeviceGetGpuInstanceId(nvml_device h, unsigned int *id)
{
    DEV_BEGIN(h, NULL, 1)
    if (d->mig < 0)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else
        *id = (unsigned int)num(mig_get(d->gpu, d->mig, "gi"), (unsigned long long)d->mig + 1);
    DEV_END
}
#endif

/* ---------------- events ---------------- */

int nvmlEventSetCreate(nvml_event_set *out);
int nvmlEventSetCreate(nvml_event_set *out)
{
    pthread_mutex_lock(&F.mu);
    int rc = lib_ready();
    if (!rc) {
        F.set.magic = DEV_MAGIC;
        F.sets_live++;
        *out = (nvml_event_set)&F.set;
    }
    pthread_mutex_unlock(&F.mu);
    return rc;
}

int nvmlEventSetFree(nvml_event_set set);
int nvmlEventSetFree(nvml_event_set set)
{
    pthread_mutex_lock(&F.mu);
    int rc = (fake_set *)set == &F.set && F.sets_live > 0 ? NVML_SUCCESS
                                                          : NVML_ERROR_INVALID_ARGUMENT;
    if (!rc)
        F.sets_live--;
    pthread_mutex_unlock(&F.mu);
    return rc;
}

#define ALL_EVENTS (NVML_EVENT_SINGLE_BIT_ECC | NVML_EVENT_DOUBLE_BIT_ECC | NVML_EVENT_PSTATE | \
                    NVML_EVENT_XID_CRITICAL)

int nvmlDeviceGetSupportedEventTypes(nvml_device h, unsigned long long *mask);
int nvmlDeviceGetSupportedEventTypes(nvml_device h, unsigned long long *mask)
{
    DEV_BEGIN(h, "events", 0)
    if (cfg_get("events") && num(cfg_get("events"), 1) == 0)
        rc = NVML_ERROR_NOT_SUPPORTED;
    else
        *mask = ALL_EVENTS;
    DEV_END
}

int nvmlDeviceRegisterEvents(nvml_device h, unsigned long long mask, nvml_event_set set);
int nvmlDeviceRegisterEvents(nvml_device h, unsigned long long mask, nvml_event_set set)
{
    DEV_BEGIN(h, "events", 0)
    if ((fake_set *)set != &F.set || !F.sets_live || (mask & ~ALL_EVENTS))
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else if (cfg_get("events") && num(cfg_get("events"), 1) == 0)
        rc = NVML_ERROR_NOT_SUPPORTED;
    else
        F.registered[d->gpu] |= mask;
    DEV_END
}

/* Next complete line of the events file, consumed; false when none. */
static bool next_event(int *gpu, unsigned long long *type, unsigned long long *data)
{
    const char *path = getenv("FAKE_NVML_EVENTS");
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f)
        return false;
    bool got = false;
    char line[256];
    if (fseek(f, F.events_off, SEEK_SET) == 0 && fgets(line, sizeof line, f) &&
        strchr(line, '\n')) {
        F.events_off += (long)strlen(line);
        char kind[16] = "";
        unsigned long long x = 0;
        int g = -1;
        int k = sscanf(line, "%d %15s %llu", &g, kind, &x);
        got = true;
        *gpu = g;
        *data = 0;
        if (k >= 3 && strcmp(kind, "xid") == 0) {
            *type = NVML_EVENT_XID_CRITICAL;
            *data = x;
        } else if (k >= 2 && strcmp(kind, "sbe") == 0) {
            *type = NVML_EVENT_SINGLE_BIT_ECC;
        } else if (k >= 2 && strcmp(kind, "dbe") == 0) {
            *type = NVML_EVENT_DOUBLE_BIT_ECC;
        } else {
            *type = 0; /* malformed: consumed, not delivered */
        }
    }
    fclose(f);
    return got;
}

static int event_wait(nvml_event_set set, nvml_event_data *out, unsigned int timeout_ms, bool v2)
{
    const char *path = getenv("FAKE_NVML_EVENTS");
    struct stat sb;
    long nap_ms = path ? 10 : (long)timeout_ms; /* nothing to poll: just block like NVML */
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        pthread_mutex_lock(&F.mu);
        int rc = lib_ready();
        if (!rc && ((fake_set *)set != &F.set || !F.sets_live))
            rc = NVML_ERROR_INVALID_ARGUMENT;
        int g;
        unsigned long long type, data;
        bool more = path && stat(path, &sb) == 0 && sb.st_size > F.events_off;
        while (!rc && more && next_event(&g, &type, &data)) {
            if (g < 0 || g >= device_count() || !(F.registered[g] & type) ||
                dev_num(g, "lost", 0))
                continue;
            out->device = (nvml_device)&F.devs[g];
            out->event_type = type;
            out->event_data = data;
            if (v2) {
                out->gpu_instance_id = NVML_NO_INSTANCE;
                out->compute_instance_id = NVML_NO_INSTANCE;
            }
            pthread_mutex_unlock(&F.mu);
            return NVML_SUCCESS;
        }
        pthread_mutex_unlock(&F.mu);
        if (rc)
            return rc;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long ms = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
        if (ms >= (long)timeout_ms)
            return NVML_ERROR_TIMEOUT;
        long left = (long)timeout_ms - ms;
        if (left > nap_ms)
            left = nap_ms;
        struct timespec nap = {left / 1000, (left % 1000) * 1000000L};
        nanosleep(&nap, NULL);
    }
}

#ifndef FAKE_NVML_OLD
int nvmlEventSetWait_v2(nvml_event_set set, nvml_event_data *data, unsigned int timeout_ms);
int nvmlEventSetWait_v2(nvml_event_set set, nvml_event_data *data, unsigned int timeout_ms)
{
    return event_wait(set, data, timeout_ms, true);
}
#endif

int nvmlEventSetWait(nvml_event_set set, nvml_event_data *data, unsigned int timeout_ms);
int nvmlEventSetWait(nvml_event_set set, nvml_event_data *data, unsigned int timeout_ms)
{
    return event_wait(set, data, timeout_ms, false);
}
