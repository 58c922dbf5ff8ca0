/*
 * nvml.c - dlopen'd NVML binding (see nvml.h).
 *
 * One table lists each entry point with its names, newest first; opening
 * the library resolves them all once. Calls go through typed function
 * pointers cast from the resolved symbols; the version that resolved picks
 * the struct layout (PCI info, memory info, process entries).
 */
#include "nvml.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "label_utf8.h"

_Static_assert(sizeof(nvml_pci_info) == 68, "nvmlPciInfo_t v2/v3 is 68 bytes");
_Static_assert(sizeof(nvml_pci_info_v1) == 52, "nvmlPciInfo_t v1 is 52 bytes");
_Static_assert(sizeof(nvml_memory_v2) == 40, "nvmlMemory_v2_t is 40 bytes");
_Static_assert(sizeof(nvml_process_info_v1) == 16, "nvmlProcessInfo_v1_t is 16 bytes");
_Static_assert(sizeof(nvml_process_info_v2) == 24, "nvmlProcessInfo_v2_t is 24 bytes");
_Static_assert(sizeof(nvml_process_info_v3cc) == 32, "CC-era nvmlProcessInfo_t is 32 bytes");
_Static_assert(sizeof(nvml_event_data) == 32, "nvmlEventData_t is 32 bytes");
_Static_assert(sizeof(nvml_field_value) == 40, "nvmlFieldValue_t is 40 bytes");

typedef struct sym_def {
    const char *names[3];   /* newest first; NULL-terminated when fewer */
    bool required;
} sym_def;

static const sym_def syms[NVML_FN_N] = {
    [NVML_FN_INIT] = {{"nvmlInit_v2", "nvmlInit", NULL}, true},
    [NVML_FN_SHUTDOWN] = {{"nvmlShutdown", NULL, NULL}, true},
    [NVML_FN_DRIVER_VERSION] = {{"nvmlSystemGetDriverVersion", NULL, NULL}, false},
    [NVML_FN_COUNT] = {{"nvmlDeviceGetCount_v2", "nvmlDeviceGetCount", NULL}, true},
    [NVML_FN_HANDLE_BY_INDEX] = {{"nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex",
                                  NULL},
                                 true},
    [NVML_FN_NAME] = {{"nvmlDeviceGetName", NULL, NULL}, false},
    [NVML_FN_UUID] = {{"nvmlDeviceGetUUID", NULL, NULL}, false},
    [NVML_FN_PCI_INFO] = {{"nvmlDeviceGetPciInfo_v3", "nvmlDeviceGetPciInfo_v2",
                           "nvmlDeviceGetPciInfo"},
                          false},
    [NVML_FN_CLOCK] = {{"nvmlDeviceGetClockInfo", NULL, NULL}, false},
    [NVML_FN_TEMPERATURE] = {{"nvmlDeviceGetTemperature", NULL, NULL}, false},
    [NVML_FN_FIELD_VALUES] = {{"nvmlDeviceGetFieldValues", NULL, NULL}, false},
    [NVML_FN_POWER] = {{"nvmlDeviceGetPowerUsage", NULL, NULL}, false},
    [NVML_FN_ENERGY] = {{"nvmlDeviceGetTotalEnergyConsumption", NULL, NULL}, false},
    [NVML_FN_UTILIZATION] = {{"nvmlDeviceGetUtilizationRates", NULL, NULL}, false},
    [NVML_FN_ENCODER] = {{"nvmlDeviceGetEncoderUtilization", NULL, NULL}, false},
    [NVML_FN_DECODER] = {{"nvmlDeviceGetDecoderUtilization", NULL, NULL}, false},
    [NVML_FN_MEMORY] = {{"nvmlDeviceGetMemoryInfo_v2", "nvmlDeviceGetMemoryInfo", NULL}, false},
    [NVML_FN_PCIE_REPLAY] = {{"nvmlDeviceGetPcieReplayCounter", NULL, NULL}, false},
    [NVML_FN_REMAPPED_ROWS] = {{"nvmlDeviceGetRemappedRows", NULL, NULL}, false},
    [NVML_FN_ECC_TOTAL] = {{"nvmlDeviceGetTotalEccErrors", NULL, NULL}, false},
    [NVML_FN_PROCESSES] = {{"nvmlDeviceGetComputeRunningProcesses_v3",
                            "nvmlDeviceGetComputeRunningProcesses_v2",
                            "nvmlDeviceGetComputeRunningProcesses"},
                           false},
    [NVML_FN_MIG_MODE] = {{"nvmlDeviceGetMigMode", NULL, NULL}, false},
    [NVML_FN_MIG_COUNT] = {{"nvmlDeviceGetMaxMigDeviceCount", NULL, NULL}, false},
    [NVML_FN_MIG_HANDLE] = {{"nvmlDeviceGetMigDeviceHandleByIndex", NULL, NULL}, false},
    [NVML_FN_GPU_INSTANCE_ID] = {{"nvmlDeviceGetGpuInstanceId", NULL, NULL}, false},
    [NVML_FN_EVENT_SET_CREATE] = {{"nvmlEventSetCreate", NULL, NULL}, false},
    [NVML_FN_EVENT_SET_FREE] = {{"nvmlEventSetFree", NULL, NULL}, false},
    [NVML_FN_SUPPORTED_EVENTS] = {{"nvmlDeviceGetSupportedEventTypes", NULL, NULL}, false},
    [NVML_FN_REGISTER_EVENTS] = {{"nvmlDeviceRegisterEvents", NULL, NULL}, false},
    [NVML_FN_EVENT_WAIT] = {{"nvmlEventSetWait_v2", "nvmlEventSetWait", NULL}, false},
    [NVML_FN_CC_MEM_SIZE] = {{"nvmlDeviceGetConfComputeMemSizeInfo", NULL, NULL}, false},
    [NVML_FN_PROCESS_DETAIL] = {{"nvmlDeviceGetRunningProcessDetailList", NULL, NULL}, false},
};

/* Typed call through fn[f]; evaluates to FUNCTION_NOT_FOUND when absent. */
#define CALL(lib, f, type, ...) \
    ((lib)->fn[f] ? ((type)(lib)->fn[f])(__VA_ARGS__) : NVML_ERROR_FUNCTION_NOT_FOUND)

typedef int (*fn_void)(void);
typedef int (*fn_str)(char *, unsigned int);
typedef int (*fn_uint)(unsigned int *);
typedef int (*fn_handle)(unsigned int, nvml_device *);
typedef int (*fn_dev_str)(nvml_device, char *, unsigned int);
typedef int (*fn_dev_ptr)(nvml_device, void *);
typedef int (*fn_dev_uint)(nvml_device, unsigned int *);
typedef int (*fn_dev_ull)(nvml_device, unsigned long long *);
typedef int (*fn_dev_int_uint)(nvml_device, int, unsigned int *);
typedef int (*fn_dev_uint2)(nvml_device, unsigned int *, unsigned int *);
typedef int (*fn_dev_uint4)(nvml_device, unsigned int *, unsigned int *, unsigned int *,
                            unsigned int *);
typedef int (*fn_dev_ecc)(nvml_device, int, int, unsigned long long *);
typedef int (*fn_dev_fields)(nvml_device, int, nvml_field_value *);
typedef int (*fn_dev_procs)(nvml_device, unsigned int *, void *);
typedef int (*fn_dev_mig)(nvml_device, unsigned int, nvml_device *);
typedef int (*fn_set_create)(nvml_event_set *);
typedef int (*fn_set_free)(nvml_event_set);
typedef int (*fn_register)(nvml_device, unsigned long long, nvml_event_set);
typedef int (*fn_wait)(nvml_event_set, nvml_event_data *, unsigned int);

void nvml_str_clean(char *s, size_t cap)
{
    if (!cap)
        return;
    s[cap - 1] = '\0';
    size_t n = strnlen(s, cap);
    char tmp[256];
    const char *src = s;
    if (!label_utf8_valid(s, n)) {
        label_utf8_copy(s, n, tmp, cap < sizeof tmp ? cap : sizeof tmp);
        src = tmp;
    }
    size_t i = 0;
    for (; src[i] && i + 1 < cap; i++) {
        unsigned char c = (unsigned char)src[i];
        s[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    s[i] = '\0';
}

static void set_why(char *why, size_t whylen, const char *msg)
{
    if (!why || !whylen)
        return;
    snprintf(why, whylen, "%s", msg ? msg : "unknown error");
    nvml_str_clean(why, whylen);
}

int nvml_lib_open(nvml_lib *lib, const char *path, char *why, size_t whylen)
{
    memset(lib, 0, sizeof *lib);
    /* RTLD_LOCAL: NVML's symbols must not satisfy anything else's. */
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        set_why(why, whylen, dlerror());
        return -ENOENT;
    }
    nvml_lib l;
    memset(&l, 0, sizeof l);
    l.dl = dl;
    for (int f = 0; f < NVML_FN_N; f++) {
        for (unsigned char v = 0; v < 3 && syms[f].names[v]; v++) {
            void *p = dlsym(dl, syms[f].names[v]);
            if (p) {
                l.fn[f] = p;
                l.ver[f] = v;
                break;
            }
        }
        if (!l.fn[f] && syms[f].required) {
            char msg[160];
            snprintf(msg, sizeof msg, "%s has no %s", path, syms[f].names[0]);
            set_why(why, whylen, msg);
            dlclose(dl);
            return -ENOSYS;
        }
    }
    /* Which process entry the resolved call fills (see nvml_process_info_v3cc). */
    if (!l.fn[NVML_FN_PROCESSES] || l.ver[NVML_FN_PROCESSES] == 2)
        l.proc_stride = sizeof(nvml_process_info_v1);
    else if (l.ver[NVML_FN_PROCESSES] == 0 && l.fn[NVML_FN_CC_MEM_SIZE] &&
             !l.fn[NVML_FN_PROCESS_DETAIL])
        l.proc_stride = sizeof(nvml_process_info_v3cc);
    else
        l.proc_stride = sizeof(nvml_process_info_v2);
    *lib = l;
    return 0;
}

void nvml_lib_close(nvml_lib *lib)
{
    if (!lib)
        return;
    if (lib->dl)
        dlclose(lib->dl);
    memset(lib, 0, sizeof *lib);
}

const char *nvml_lib_symbol(const nvml_lib *lib, nvml_fn f)
{
    if (f < 0 || f >= NVML_FN_N || !lib->fn[f])
        return NULL;
    return syms[f].names[lib->ver[f]];
}

int nvml_lib_init(nvml_lib *lib)
{
    return CALL(lib, NVML_FN_INIT, fn_void);
}

int nvml_lib_shutdown(nvml_lib *lib)
{
    return CALL(lib, NVML_FN_SHUTDOWN, fn_void);
}

const char *nvml_rc_name(int rc)
{
    switch (rc) {
    case NVML_SUCCESS: return "NVML_SUCCESS";
    case NVML_ERROR_UNINITIALIZED: return "NVML_ERROR_UNINITIALIZED";
    case NVML_ERROR_INVALID_ARGUMENT: return "NVML_ERROR_INVALID_ARGUMENT";
    case NVML_ERROR_NOT_SUPPORTED: return "NVML_ERROR_NOT_SUPPORTED";
    case NVML_ERROR_NO_PERMISSION: return "NVML_ERROR_NO_PERMISSION";
    case NVML_ERROR_ALREADY_INITIALIZED: return "NVML_ERROR_ALREADY_INITIALIZED";
    case NVML_ERROR_NOT_FOUND: return "NVML_ERROR_NOT_FOUND";
    case NVML_ERROR_INSUFFICIENT_SIZE: return "NVML_ERROR_INSUFFICIENT_SIZE";
    case NVML_ERROR_INSUFFICIENT_POWER: return "NVML_ERROR_INSUFFICIENT_POWER";
    case NVML_ERROR_DRIVER_NOT_LOADED: return "NVML_ERROR_DRIVER_NOT_LOADED";
    case NVML_ERROR_TIMEOUT: return "NVML_ERROR_TIMEOUT";
    case NVML_ERROR_IRQ_ISSUE: return "NVML_ERROR_IRQ_ISSUE";
    case NVML_ERROR_LIBRARY_NOT_FOUND: return "NVML_ERROR_LIBRARY_NOT_FOUND";
    case NVML_ERROR_FUNCTION_NOT_FOUND: return "NVML_ERROR_FUNCTION_NOT_FOUND";
    case NVML_ERROR_CORRUPTED_INFOROM: return "NVML_ERROR_CORRUPTED_INFOROM";
    case NVML_ERROR_GPU_IS_LOST: return "NVML_ERROR_GPU_IS_LOST";
    case NVML_ERROR_RESET_REQUIRED: return "NVML_ERROR_RESET_REQUIRED";
    case NVML_ERROR_OPERATING_SYSTEM: return "NVML_ERROR_OPERATING_SYSTEM";
    case NVML_ERROR_LIB_RM_VERSION_MISMATCH: return "NVML_ERROR_LIB_RM_VERSION_MISMATCH";
    case NVML_ERROR_IN_USE: return "NVML_ERROR_IN_USE";
    case NVML_ERROR_MEMORY: return "NVML_ERROR_MEMORY";
    case NVML_ERROR_NO_DATA: return "NVML_ERROR_NO_DATA";
    case NVML_ERROR_UNKNOWN: return "NVML_ERROR_UNKNOWN";
    default: return "NVML_ERROR_OTHER";
    }
}

/* Fill buf from an NVML string call that writes at most n bytes. */
static int get_string(nvml_lib *lib, nvml_fn f, nvml_device d, bool with_dev, char *buf,
                      size_t len, size_t nvml_len)
{
    char tmp[NVML_DEVICE_NAME_V2_BUFFER_SIZE + 1];
    if (nvml_len > sizeof tmp - 1)
        nvml_len = sizeof tmp - 1;
    memset(tmp, 0, sizeof tmp);
    int rc = with_dev ? CALL(lib, f, fn_dev_str, d, tmp, (unsigned int)nvml_len)
                      : CALL(lib, f, fn_str, tmp, (unsigned int)nvml_len);
    if (rc != NVML_SUCCESS || !len)
        return rc;
    tmp[sizeof tmp - 1] = '\0';
    snprintf(buf, len, "%s", tmp);
    nvml_str_clean(buf, len);
    return rc;
}

int nvml_driver_version(nvml_lib *lib, char *buf, size_t len)
{
    return get_string(lib, NVML_FN_DRIVER_VERSION, NULL, false, buf, len,
                      NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE);
}

int nvml_device_count(nvml_lib *lib, unsigned int *n)
{
    unsigned int v = 0;
    int rc = CALL(lib, NVML_FN_COUNT, fn_uint, &v);
    if (rc == NVML_SUCCESS)
        *n = v;
    return rc;
}

int nvml_device_by_index(nvml_lib *lib, unsigned int i, nvml_device *out)
{
    nvml_device d = NULL;
    int rc = CALL(lib, NVML_FN_HANDLE_BY_INDEX, fn_handle, i, &d);
    if (rc == NVML_SUCCESS)
        *out = d;
    return rc;
}

int nvml_device_name(nvml_lib *lib, nvml_device d, char *buf, size_t len)
{
    return get_string(lib, NVML_FN_NAME, d, true, buf, len, NVML_DEVICE_NAME_V2_BUFFER_SIZE);
}

int nvml_device_uuid(nvml_lib *lib, nvml_device d, char *buf, size_t len)
{
    return get_string(lib, NVML_FN_UUID, d, true, buf, len, NVML_DEVICE_UUID_V2_BUFFER_SIZE);
}

int nvml_device_pci_bus_id(nvml_lib *lib, nvml_device d, char *buf, size_t len)
{
    /* Big enough for either layout; zeroed so a short write stays terminated. */
    union {
        nvml_pci_info v2;
        nvml_pci_info_v1 v1;
    } pi;
    memset(&pi, 0, sizeof pi);
    int rc = CALL(lib, NVML_FN_PCI_INFO, fn_dev_ptr, d, &pi);
    if (rc != NVML_SUCCESS || !len)
        return rc;
    if (lib->ver[NVML_FN_PCI_INFO] == 2) {
        /* v1 only has the legacy 4-digit-domain string: format the v2 one from the numbers. */
        snprintf(buf, len, "%08X:%02X:%02X.0", pi.v1.domain, pi.v1.bus & 0xffu,
                 pi.v1.device & 0x1fu);
        return rc;
    }
    char tmp[NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE + 1];
    memcpy(tmp, pi.v2.bus_id, sizeof pi.v2.bus_id);
    tmp[sizeof pi.v2.bus_id] = '\0';
    snprintf(buf, len, "%s", tmp);
    nvml_str_clean(buf, len);
    return rc;
}

int nvml_device_clock(nvml_lib *lib, nvml_device d, int clock_type, unsigned int *mhz)
{
    unsigned int v = 0;
    int rc = CALL(lib, NVML_FN_CLOCK, fn_dev_int_uint, d, clock_type, &v);
    if (rc == NVML_SUCCESS)
        *mhz = v;
    return rc;
}

int nvml_device_temperature(nvml_lib *lib, nvml_device d, unsigned int *celsius)
{
    unsigned int v = 0;
    int rc = CALL(lib, NVML_FN_TEMPERATURE, fn_dev_int_uint, d, NVML_TEMPERATURE_GPU, &v);
    if (rc == NVML_SUCCESS)
        *celsius = v;
    return rc;
}

int nvml_device_memory_temperature(nvml_lib *lib, nvml_device d, double *celsius)
{
    nvml_field_value fv;
    memset(&fv, 0, sizeof fv);
    fv.field_id = NVML_FI_DEV_MEMORY_TEMP;
    int rc = CALL(lib, NVML_FN_FIELD_VALUES, fn_dev_fields, d, 1, &fv);
    if (rc != NVML_SUCCESS)
        return rc;
    if (fv.nvml_return != NVML_SUCCESS)
        return fv.nvml_return;
    double v;
    switch (fv.value_type) {
    case NVML_VALUE_TYPE_DOUBLE: v = fv.value.d; break;
    case NVML_VALUE_TYPE_UNSIGNED_INT: v = fv.value.ui; break;
    case NVML_VALUE_TYPE_UNSIGNED_LONG: v = (double)fv.value.ul; break;
    case NVML_VALUE_TYPE_UNSIGNED_LONG_LONG: v = (double)fv.value.ull; break;
    case NVML_VALUE_TYPE_SIGNED_LONG_LONG: v = (double)fv.value.sll; break;
    case NVML_VALUE_TYPE_SIGNED_INT: v = fv.value.si; break;
    default: return NVML_ERROR_UNKNOWN;
    }
    if (v != v)
        return NVML_ERROR_NO_DATA;
    *celsius = v;
    return NVML_SUCCESS;
}

int nvml_device_power(nvml_lib *lib, nvml_device d, unsigned int *milliwatts)
{
    unsigned int v = 0;
    int rc = CALL(lib, NVML_FN_POWER, fn_dev_uint, d, &v);
    if (rc == NVML_SUCCESS)
        *milliwatts = v;
    return rc;
}

int nvml_device_energy(nvml_lib *lib, nvml_device d, unsigned long long *millijoules)
{
    unsigned long long v = 0;
    int rc = CALL(lib, NVML_FN_ENERGY, fn_dev_ull, d, &v);
    if (rc == NVML_SUCCESS)
        *millijoules = v;
    return rc;
}

int nvml_device_utilization(nvml_lib *lib, nvml_device d, unsigned int *gpu, unsigned int *mem)
{
    nvml_utilization u = {0, 0};
    int rc = CALL(lib, NVML_FN_UTILIZATION, fn_dev_ptr, d, &u);
    if (rc == NVML_SUCCESS) {
        *gpu = u.gpu;
        *mem = u.memory;
    }
    return rc;
}

int nvml_device_encoder(nvml_lib *lib, nvml_device d, unsigned int *pct)
{
    unsigned int v = 0, period = 0;
    int rc = CALL(lib, NVML_FN_ENCODER, fn_dev_uint2, d, &v, &period);
    if (rc == NVML_SUCCESS)
        *pct = v;
    return rc;
}

int nvml_device_decoder(nvml_lib *lib, nvml_device d, unsigned int *pct)
{
    unsigned int v = 0, period = 0;
    int rc = CALL(lib, NVML_FN_DECODER, fn_dev_uint2, d, &v, &period);
    if (rc == NVML_SUCCESS)
        *pct = v;
    return rc;
}

int nvml_device_memory(nvml_lib *lib, nvml_device d, nvml_mem *out)
{
    int rc;
    nvml_mem m;
    memset(&m, 0, sizeof m);
    if (lib->fn[NVML_FN_MEMORY] && lib->ver[NVML_FN_MEMORY] == 0) {
        nvml_memory_v2 v;
        memset(&v, 0, sizeof v);
        v.version = NVML_MEMORY_V2_VERSION;
        rc = CALL(lib, NVML_FN_MEMORY, fn_dev_ptr, d, &v);
        m.total = v.total;
        m.free = v.free;
        m.used = v.used;
        m.reserved = v.reserved;
        m.has_reserved = true;
    } else {
        nvml_memory_v1 v;
        memset(&v, 0, sizeof v);
        rc = CALL(lib, NVML_FN_MEMORY, fn_dev_ptr, d, &v);
        m.total = v.total;
        m.free = v.free;
        m.used = v.used;
    }
    if (rc == NVML_SUCCESS)
        *out = m;
    return rc;
}

int nvml_device_pcie_replay(nvml_lib *lib, nvml_device d, unsigned int *n)
{
    unsigned int v = 0;
    int rc = CALL(lib, NVML_FN_PCIE_REPLAY, fn_dev_uint, d, &v);
    if (rc == NVML_SUCCESS)
        *n = v;
    return rc;
}

int nvml_device_remapped_rows(nvml_lib *lib, nvml_device d, unsigned int *corrected,
                              unsigned int *uncorrected, unsigned int *pending,
                              unsigned int *failed)
{
    unsigned int c = 0, u = 0, p = 0, f = 0;
    int rc = CALL(lib, NVML_FN_REMAPPED_ROWS, fn_dev_uint4, d, &c, &u, &p, &f);
    if (rc == NVML_SUCCESS) {
        *corrected = c;
        *uncorrected = u;
        *pending = p;
        *failed = f;
    }
    return rc;
}

int nvml_device_ecc_total(nvml_lib *lib, nvml_device d, int error_type, int counter_type,
                          unsigned long long *n)
{
    unsigned long long v = 0;
    int rc = CALL(lib, NVML_FN_ECC_TOTAL, fn_dev_ecc, d, error_type, counter_type, &v);
    if (rc == NVML_SUCCESS)
        *n = v;
    return rc;
}

int nvml_device_processes(nvml_lib *lib, nvml_device d, nvml_proc *out, unsigned int cap,
                          unsigned int *n)
{
    /* Entries land in a raw buffer and are decoded at the resolved stride. */
    enum { CHUNK = 64 };
    unsigned char raw[CHUNK * sizeof(nvml_process_info_v3cc)];
    if (!lib->fn[NVML_FN_PROCESSES])
        return NVML_ERROR_FUNCTION_NOT_FOUND;
    if (cap > NVML_PROCS_MAX)
        cap = NVML_PROCS_MAX;
    size_t stride = lib->proc_stride;
    unsigned char *buf = raw;
    unsigned char *heap = NULL;
    if (cap > CHUNK) {
        heap = calloc(cap, stride);
        if (!heap)
            return NVML_ERROR_MEMORY;
        buf = heap;
    } else {
        memset(raw, 0, sizeof raw);
    }
    unsigned int count = cap;
    int rc = CALL(lib, NVML_FN_PROCESSES, fn_dev_procs, d, &count, cap ? (void *)buf : NULL);
    if (rc == NVML_ERROR_INSUFFICIENT_SIZE) {
        *n = count;
    } else if (rc == NVML_SUCCESS) {
        if (count > cap)
            count = cap; /* a driver may not write past what we gave it */
        for (unsigned int i = 0; i < count; i++) {
            const unsigned char *e = buf + (size_t)i * stride;
            nvml_proc p;
            memcpy(&p.pid, e + offsetof(nvml_process_info_v2, pid), sizeof p.pid);
            unsigned long long used;
            memcpy(&used, e + offsetof(nvml_process_info_v2, used_gpu_memory), sizeof used);
            p.used_bytes = used;
            p.gpu_instance = NVML_NO_INSTANCE;
            if (stride >= sizeof(nvml_process_info_v2))
                memcpy(&p.gpu_instance, e + offsetof(nvml_process_info_v2, gpu_instance_id),
                       sizeof p.gpu_instance);
            out[i] = p;
        }
        *n = count;
    }
    free(heap);
    return rc;
}

int nvml_device_mig_mode(nvml_lib *lib, nvml_device d, unsigned int *current)
{
    unsigned int cur = 0, pending = 0;
    int rc = CALL(lib, NVML_FN_MIG_MODE, fn_dev_uint2, d, &cur, &pending);
    if (rc == NVML_SUCCESS)
        *current = cur;
    return rc;
}

int nvml_device_mig_count(nvml_lib *lib, nvml_device d, unsigned int *max)
{
    unsigned int v = 0;
    int rc = CALL(lib, NVML_FN_MIG_COUNT, fn_dev_uint, d, &v);
    if (rc == NVML_SUCCESS)
        *max = v;
    return rc;
}

int nvml_device_mig_by_index(nvml_lib *lib, nvml_device d, unsigned int i, nvml_device *out)
{
    nvml_device m = NULL;
    int rc = CALL(lib, NVML_FN_MIG_HANDLE, fn_dev_mig, d, i, &m);
    if (rc == NVML_SUCCESS)
        *out = m;
    return rc;
}

int nvml_device_gpu_instance_id(nvml_lib *lib, nvml_device d, unsigned int *id)
{
    unsigned int v = 0;
    int rc = CALL(lib, NVML_FN_GPU_INSTANCE_ID, fn_dev_uint, d, &v);
    if (rc == NVML_SUCCESS)
        *id = v;
    return rc;
}

int nvml_event_set_create(nvml_lib *lib, nvml_event_set *out)
{
    nvml_event_set s = NULL;
    int rc = CALL(lib, NVML_FN_EVENT_SET_CREATE, fn_set_create, &s);
    if (rc == NVML_SUCCESS)
        *out = s;
    return rc;
}

int nvml_event_set_free(nvml_lib *lib, nvml_event_set set)
{
    return CALL(lib, NVML_FN_EVENT_SET_FREE, fn_set_free, set);
}

int nvml_device_supported_events(nvml_lib *lib, nvml_device d, unsigned long long *mask)
{
    unsigned long long v = 0;
    int rc = CALL(lib, NVML_FN_SUPPORTED_EVENTS, fn_dev_ull, d, &v);
    if (rc == NVML_SUCCESS)
        *mask = v;
    return rc;
}

int nvml_device_register_events(nvml_lib *lib, nvml_device d, unsigned long long mask,
                                nvml_event_set set)
{
    return CALL(lib, NVML_FN_REGISTER_EVENTS, fn_register, d, mask, set);
}

int nvml_event_wait(nvml_lib *lib, nvml_event_set set, nvml_event *out, unsigned int timeout_ms)
{
    nvml_event_data ed;
    memset(&ed, 0, sizeof ed);
    int rc = CALL(lib, NVML_FN_EVENT_WAIT, fn_wait, set, &ed, timeout_ms);
    if (rc == NVML_SUCCESS) {
        out->device = ed.device;
        out->type = ed.event_type;
        out->data = ed.event_data;
    }
    return rc;
}
