/*
 * nvml.h - the NVIDIA Management Library (libnvidia-ml.so.1), loaded with
 * dlopen at run time so the agent builds and runs on nodes without the
 * driver and needs no CUDA or NVML headers.
 *
 * The first half declares the small part of NVML's ABI the GPU collector
 * uses: return codes, enum values and the layouts of the structs NVML
 * fills (one layout per API version where they differ). They follow
 * NVIDIA's published nvml.h; the fake library of the test suite
 * (tests/fakenvml/fake_nvml.c) is built from the same declarations.
 *
 * The second half is the binding: nvml_lib resolves every entry point it
 * knows, newest versioned symbol first (nvmlInit_v2 before nvmlInit,
 * nvmlDeviceGetPciInfo_v3 before _v2 before the unversioned one...), and
 * wraps the calls so that callers never see which version a driver has:
 * structs are sized and read for the version that was resolved, and an
 * entry point the driver lacks answers NVML_ERROR_FUNCTION_NOT_FOUND, which
 * callers treat like NVML_ERROR_NOT_SUPPORTED (the field is omitted).
 *
 * Strings from NVML are untrusted: they are read into bounded buffers,
 * always NUL-terminated, and cleaned (invalid UTF-8 and control characters
 * replaced) before they are returned.
 *
 * Thread safety: NVML itself is thread-safe; an nvml_lib may be used from
 * several threads between nvml_lib_open and nvml_lib_close (the GPU
 * collector's XID thread waits on events while the collection thread
 * reads fields). Opening and closing are not concurrent with anything.
 */
#ifndef AGENT_NVML_H
#define AGENT_NVML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---------------- NVML's ABI (subset) ---------------- */

/* nvmlReturn_t */
#define NVML_SUCCESS 0
#define NVML_ERROR_UNINITIALIZED 1
#define NVML_ERROR_INVALID_ARGUMENT 2
#define NVML_ERROR_NOT_SUPPORTED 3
#define NVML_ERROR_NO_PERMISSION 4
#define NVML_ERROR_ALREADY_INITIALIZED 5
#define NVML_ERROR_NOT_FOUND 6
#define NVML_ERROR_INSUFFICIENT_SIZE 7
#define NVML_ERROR_INSUFFICIENT_POWER 8
#define NVML_ERROR_DRIVER_NOT_LOADED 9
#define NVML_ERROR_TIMEOUT 10
#define NVML_ERROR_IRQ_ISSUE 11
#define NVML_ERROR_LIBRARY_NOT_FOUND 12
#define NVML_ERROR_FUNCTION_NOT_FOUND 13
#define NVML_ERROR_CORRUPTED_INFOROM 14
#define NVML_ERROR_GPU_IS_LOST 15
#define NVML_ERROR_RESET_REQUIRED 16
#define NVML_ERROR_OPERATING_SYSTEM 17
#define NVML_ERROR_LIB_RM_VERSION_MISMATCH 18
#define NVML_ERROR_IN_USE 19
#define NVML_ERROR_MEMORY 20
#define NVML_ERROR_NO_DATA 21
#define NVML_ERROR_UNKNOWN 999

/* nvmlClockType_t */
#define NVML_CLOCK_GRAPHICS 0
#define NVML_CLOCK_SM 1
#define NVML_CLOCK_MEM 2
#define NVML_CLOCK_VIDEO 3

/* nvmlTemperatureSensors_t */
#define NVML_TEMPERATURE_GPU 0

/* nvmlMemoryErrorType_t, nvmlEccCounterType_t */
#define NVML_MEMORY_ERROR_TYPE_CORRECTED 0
#define NVML_MEMORY_ERROR_TYPE_UNCORRECTED 1
#define NVML_VOLATILE_ECC 0
#define NVML_AGGREGATE_ECC 1

/* MIG modes (nvmlDeviceGetMigMode) */
#define NVML_DEVICE_MIG_DISABLE 0
#define NVML_DEVICE_MIG_ENABLE 1

/* Event type bits (nvmlDeviceRegisterEvents) */
#define NVML_EVENT_SINGLE_BIT_ECC 0x1ULL
#define NVML_EVENT_DOUBLE_BIT_ECC 0x2ULL
#define NVML_EVENT_PSTATE 0x4ULL
#define NVML_EVENT_XID_CRITICAL 0x8ULL

/* Field ids (nvmlDeviceGetFieldValues) */
#define NVML_FI_DEV_MEMORY_TEMP 82

/* nvmlValueType_t */
#define NVML_VALUE_TYPE_DOUBLE 0
#define NVML_VALUE_TYPE_UNSIGNED_INT 1
#define NVML_VALUE_TYPE_UNSIGNED_LONG 2
#define NVML_VALUE_TYPE_UNSIGNED_LONG_LONG 3
#define NVML_VALUE_TYPE_SIGNED_LONG_LONG 4
#define NVML_VALUE_TYPE_SIGNED_INT 5

/* usedGpuMemory when the driver cannot tell */
#define NVML_VALUE_NOT_AVAILABLE_ULL 0xFFFFFFFFFFFFFFFFULL
/* gpuInstanceId of a process outside MIG */
#define NVML_NO_INSTANCE 0xFFFFFFFFu

/* Buffer sizes NVML documents as large enough */
#define NVML_DEVICE_NAME_V2_BUFFER_SIZE 96
#define NVML_DEVICE_UUID_V2_BUFFER_SIZE 96
#define NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE 80
#define NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE 32
#define NVML_DEVICE_PCI_BUS_ID_BUFFER_V2_SIZE 16

typedef struct nvml_device_st *nvml_device;      /* nvmlDevice_t */
typedef struct nvml_event_set_st *nvml_event_set; /* nvmlEventSet_t */

/* nvmlPciInfo_t as filled by nvmlDeviceGetPciInfo_v2 and _v3 (68 bytes). */
typedef struct nvml_pci_info {
    char bus_id_legacy[NVML_DEVICE_PCI_BUS_ID_BUFFER_V2_SIZE];
    unsigned int domain;
    unsigned int bus;
    unsigned int device;
    unsigned int pci_device_id;
    unsigned int pci_subsystem_id;
    char bus_id[NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE];
} nvml_pci_info;

/* nvmlPciInfo_t of the unversioned nvmlDeviceGetPciInfo (52 bytes). */
typedef struct nvml_pci_info_v1 {
    char bus_id[NVML_DEVICE_PCI_BUS_ID_BUFFER_V2_SIZE];
    unsigned int domain;
    unsigned int bus;
    unsigned int device;
    unsigned int pci_device_id;
    unsigned int pci_subsystem_id;
    unsigned int reserved[4];
} nvml_pci_info_v1;

/* nvmlMemory_t (nvmlDeviceGetMemoryInfo). */
typedef struct nvml_memory_v1 {
    unsigned long long total;
    unsigned long long free;
    unsigned long long used;
} nvml_memory_v1;

/* nvmlMemory_v2_t (nvmlDeviceGetMemoryInfo_v2); version must be set. */
typedef struct nvml_memory_v2 {
    unsigned int version;
    unsigned long long total;
    unsigned long long reserved;
    unsigned long long free;
    unsigned long long used;
} nvml_memory_v2;
#define NVML_MEMORY_V2_VERSION ((unsigned int)(sizeof(nvml_memory_v2) | (2u << 24)))

/* nvmlUtilization_t */
typedef struct nvml_utilization {
    unsigned int gpu;
    unsigned int memory;
} nvml_utilization;

/* nvmlProcessInfo_v1_t (unversioned nvmlDeviceGetComputeRunningProcesses). */
typedef struct nvml_process_info_v1 {
    unsigned int pid;
    unsigned long long used_gpu_memory;
} nvml_process_info_v1;

/* nvmlProcessInfo_v2_t (_v2, and _v3 on every driver but a few early 12.x). */
typedef struct nvml_process_info_v2 {
    unsigned int pid;
    unsigned long long used_gpu_memory;
    unsigned int gpu_instance_id;
    unsigned int compute_instance_id;
} nvml_process_info_v2;

/*
 * The 32-byte entry the _v3 call fills on the drivers that shipped
 * usedGpuCcProtectedMemory in nvmlProcessInfo_t (they have
 * nvmlDeviceGetConfComputeMemSizeInfo but not yet
 * nvmlDeviceGetRunningProcessDetailList, which took that field over).
 */
typedef struct nvml_process_info_v3cc {
    unsigned int pid;
    unsigned long long used_gpu_memory;
    unsigned int gpu_instance_id;
    unsigned int compute_instance_id;
    unsigned long long used_gpu_cc_protected_memory;
} nvml_process_info_v3cc;

/* nvmlEventData_t as nvmlEventSetWait_v2 fills it (the unversioned call fills the first three). */
typedef struct nvml_event_data {
    nvml_device device;
    unsigned long long event_type;
    unsigned long long event_data;
    unsigned int gpu_instance_id;
    unsigned int compute_instance_id;
} nvml_event_data;

/* nvmlValue_t, nvmlFieldValue_t */
typedef union nvml_value {
    double d;
    unsigned int ui;
    unsigned long ul;
    unsigned long long ull;
    long long sll;
    int si;
} nvml_value;

typedef struct nvml_field_value {
    unsigned int field_id;
    unsigned int scope_id;
    long long timestamp;
    long long latency_usec;
    int value_type;       /* nvmlValueType_t */
    int nvml_return;      /* nvmlReturn_t */
    nvml_value value;
} nvml_field_value;

/* ---------------- the binding ---------------- */

/* Entry points, indices into nvml_lib.fn. */
typedef enum {
    NVML_FN_INIT = 0,
    NVML_FN_SHUTDOWN,
    NVML_FN_DRIVER_VERSION,
    NVML_FN_COUNT,
    NVML_FN_HANDLE_BY_INDEX,
    NVML_FN_NAME,
    NVML_FN_UUID,
    NVML_FN_PCI_INFO,
    NVML_FN_CLOCK,
    NVML_FN_TEMPERATURE,
    NVML_FN_FIELD_VALUES,
    NVML_FN_POWER,
    NVML_FN_ENERGY,
    NVML_FN_UTILIZATION,
    NVML_FN_ENCODER,
    NVML_FN_DECODER,
    NVML_FN_MEMORY,
    NVML_FN_PCIE_REPLAY,
    NVML_FN_REMAPPED_ROWS,
    NVML_FN_ECC_TOTAL,
    NVML_FN_PROCESSES,
    NVML_FN_MIG_MODE,
    NVML_FN_MIG_COUNT,
    NVML_FN_MIG_HANDLE,
    NVML_FN_GPU_INSTANCE_ID,
    NVML_FN_EVENT_SET_CREATE,
    NVML_FN_EVENT_SET_FREE,
    NVML_FN_SUPPORTED_EVENTS,
    NVML_FN_REGISTER_EVENTS,
    NVML_FN_EVENT_WAIT,
    NVML_FN_CC_MEM_SIZE,        /* probed only: tells the _v3 process entry size */
    NVML_FN_PROCESS_DETAIL,     /* probed only */
    NVML_FN_N
} nvml_fn;

/*
 * A loaded library. Caller's storage; zero it or let nvml_lib_open fill
 * it. fn[i] is NULL when the driver has none of the entry point's names;
 * ver[i] is which name resolved (0 = the newest).
 */
typedef struct nvml_lib {
    void *dl;
    void *fn[NVML_FN_N];
    unsigned char ver[NVML_FN_N];
    size_t proc_stride;          /* bytes per process entry of fn[NVML_FN_PROCESSES] */
} nvml_lib;

/*
 * dlopen path ("libnvidia-ml.so.1" or a file path) and resolve the entry
 * points. Returns 0; -ENOENT when the library cannot be loaded; -ENOSYS
 * when it lacks one of the four entry points everything needs (init,
 * shutdown, device count, handle by index) - then it is closed again.
 * why (whylen bytes, may be NULL) gets the reason, cleaned. On failure lib
 * is left zeroed.
 */
int nvml_lib_open(nvml_lib *lib, const char *path, char *why, size_t whylen);

/* dlclose and zero. Call nvml_lib_shutdown first. NULL-safe, idempotent. */
void nvml_lib_close(nvml_lib *lib);

/* Name of the symbol resolved for f ("nvmlInit_v2"), or NULL when none. */
const char *nvml_lib_symbol(const nvml_lib *lib, nvml_fn f);

/* nvmlInit / nvmlShutdown. Return NVML codes. */
int nvml_lib_init(nvml_lib *lib);
int nvml_lib_shutdown(nvml_lib *lib);

/* "NVML_ERROR_NOT_SUPPORTED"-style name of a code (static, never NULL). */
const char *nvml_rc_name(int rc);

/*
 * Every call below returns an NVML code: NVML_SUCCESS with the outputs
 * set, or an error with the outputs untouched. A missing entry point is
 * NVML_ERROR_FUNCTION_NOT_FOUND. String outputs: buf of len >= 1 bytes,
 * always NUL-terminated and cleaned (valid UTF-8, no control characters).
 */
int nvml_driver_version(nvml_lib *lib, char *buf, size_t len);
int nvml_device_count(nvml_lib *lib, unsigned int *n);
int nvml_device_by_index(nvml_lib *lib, unsigned int i, nvml_device *out);
int nvml_device_name(nvml_lib *lib, nvml_device d, char *buf, size_t len);
int nvml_device_uuid(nvml_lib *lib, nvml_device d, char *buf, size_t len);
/* "00000000:3B:00.0" (v2/v3; with v1 formatted the same way from domain, bus, device). */
int nvml_device_pci_bus_id(nvml_lib *lib, nvml_device d, char *buf, size_t len);
int nvml_device_clock(nvml_lib *lib, nvml_device d, int clock_type, unsigned int *mhz);
int nvml_device_temperature(nvml_lib *lib, nvml_device d, unsigned int *celsius);
/* NVML_FI_DEV_MEMORY_TEMP through nvmlDeviceGetFieldValues. */
int nvml_device_memory_temperature(nvml_lib *lib, nvml_device d, double *celsius);
int nvml_device_power(nvml_lib *lib, nvml_device d, unsigned int *milliwatts);
int nvml_device_energy(nvml_lib *lib, nvml_device d, unsigned long long *millijoules);
int nvml_device_utilization(nvml_lib *lib, nvml_device d, unsigned int *gpu, unsigned int *mem);
int nvml_device_encoder(nvml_lib *lib, nvml_device d, unsigned int *pct);
int nvml_device_decoder(nvml_lib *lib, nvml_device d, unsigned int *pct);

typedef struct nvml_mem {
    uint64_t total, free, used, reserved;  /* bytes */
    bool has_reserved;                     /* only the _v2 call reports it */
} nvml_mem;
int nvml_device_memory(nvml_lib *lib, nvml_device d, nvml_mem *out);

int nvml_device_pcie_replay(nvml_lib *lib, nvml_device d, unsigned int *n);
int nvml_device_remapped_rows(nvml_lib *lib, nvml_device d, unsigned int *corrected,
                              unsigned int *uncorrected, unsigned int *pending,
                              unsigned int *failed);
int nvml_device_ecc_total(nvml_lib *lib, nvml_device d, int error_type, int counter_type,
                          unsigned long long *n);

/* One compute process, whatever the driver's entry layout. */
typedef struct nvml_proc {
    unsigned int pid;
    uint64_t used_bytes;          /* NVML_VALUE_NOT_AVAILABLE_ULL when unknown */
    unsigned int gpu_instance;    /* NVML_NO_INSTANCE outside MIG (and on v1) */
} nvml_proc;

/*
 * Running compute processes of d into out (cap entries). *n is set to the
 * number returned. NVML_ERROR_INSUFFICIENT_SIZE when more than cap run:
 * *n is then the count NVML reported (retry with a larger array). At most
 * 4096 entries are ever requested.
 */
#define NVML_PROCS_MAX 4096
int nvml_device_processes(nvml_lib *lib, nvml_device d, nvml_proc *out, unsigned int cap,
                          unsigned int *n);

int nvml_device_mig_mode(nvml_lib *lib, nvml_device d, unsigned int *current);
int nvml_device_mig_count(nvml_lib *lib, nvml_device d, unsigned int *max);
int nvml_device_mig_by_index(nvml_lib *lib, nvml_device d, unsigned int i, nvml_device *out);
int nvml_device_gpu_instance_id(nvml_lib *lib, nvml_device d, unsigned int *id);

int nvml_event_set_create(nvml_lib *lib, nvml_event_set *out);
int nvml_event_set_free(nvml_lib *lib, nvml_event_set set);
int nvml_device_supported_events(nvml_lib *lib, nvml_device d, unsigned long long *mask);
int nvml_device_register_events(nvml_lib *lib, nvml_device d, unsigned long long mask,
                                nvml_event_set set);

typedef struct nvml_event {
    nvml_device device;
    unsigned long long type;
    unsigned long long data;     /* the XID for NVML_EVENT_XID_CRITICAL */
} nvml_event;
/* Wait up to timeout_ms; NVML_ERROR_TIMEOUT when nothing happened. */
int nvml_event_wait(nvml_lib *lib, nvml_event_set set, nvml_event *out, unsigned int timeout_ms);

/*
 * Clean an NVML string in place: cut at the first NUL or at cap-1 bytes,
 * replace invalid UTF-8 with U+FFFD and control characters with '?'.
 * Exposed for tests.
 */
void nvml_str_clean(char *s, size_t cap);

#endif
