/*
 * gpu.h - the `gpu` collector: NVIDIA GPU metrics read through NVML
 * (nvml.h, loaded at run time), in dcgm-exporter's names and labels, with
 * per-pod attribution. Enabled by default; on a node without the driver it
 * reports node_scrape_collector_success{collector="gpu"} 0, logs why once,
 * and retries loading NVML with backoff (1 s doubling to 5 min).
 *
 * Families (dcgm-exporter default names and types):
 *   DCGM_FI_DEV_SM_CLOCK, DCGM_FI_DEV_MEM_CLOCK (MHz), DCGM_FI_DEV_GPU_TEMP,
 *   DCGM_FI_DEV_MEMORY_TEMP (C), DCGM_FI_DEV_POWER_USAGE (W),
 *   DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION (mJ, counter),
 *   DCGM_FI_DEV_PCIE_REPLAY_COUNTER (counter), DCGM_FI_DEV_GPU_UTIL,
 *   DCGM_FI_DEV_MEM_COPY_UTIL, DCGM_FI_DEV_ENC_UTIL, DCGM_FI_DEV_DEC_UTIL (%),
 *   DCGM_FI_DEV_XID_ERRORS (gauge: the last XID seen since the agent
 *   started, 0 before any; only for GPUs whose XID events are registered),
 *   DCGM_FI_DEV_FB_FREE, DCGM_FI_DEV_FB_USED, DCGM_FI_DEV_FB_RESERVED (MiB),
 *   DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS, DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS
 *   (counters), DCGM_FI_DEV_ROW_REMAP_FAILURE (gauge),
 *   DCGM_FI_DEV_ECC_{SBE,DBE}_{VOL,AGG}_TOTAL (counters).
 * Labels: gpu, UUID, pci_bus_id, device ("nvidia<gpu>"), modelName,
 * GPU_I_PROFILE, GPU_I_ID (set on a MIG instance's series, empty on the
 * GPU's), Hostname ($NODE_NAME, else the host name), DCGM_FI_DRIVER_VERSION,
 * container, namespace, pod (set on the series of a GPU - or MIG instance -
 * whose compute processes all belong to one container, empty otherwise).
 * A field NVML does not support on a GPU (NOT_SUPPORTED, an entry point the
 * driver lacks, no permission) is omitted: never a sentinel value.
 * With MIG enabled each GPU instance gets its own series of the fields NVML
 * answers for a MIG device (framebuffer, mostly).
 *
 * Vigil's own families:
 *   vigil_gpu_lost{gpu,UUID}: 1 for a GPU that answered GPU_IS_LOST (it is
 *     skipped, the others keep reporting; probed again every scrape), 0 else.
 *   vigil_gpu_xid_errors_total{gpu,UUID,xid,cause}: XID-critical events,
 *     cause "application" for XIDs 13, 31, 43, 45, 68, 109, else "hardware".
 *   vigil_gpu_ecc_events_total{gpu,UUID,type}: single_bit / double_bit ECC
 *     events (they carry no XID number, so they are not counted as XIDs).
 *   vigil_gpu_container_memory_used_bytes{gpu,UUID,pod,namespace,container}:
 *     GPU memory of each container's compute processes, shared GPUs too.
 *   Event counters survive NVML re-initialisation (keyed by UUID).
 *
 * Attribution: NVML's running compute processes of each GPU, each pid's
 * <procfs>/<pid>/cgroup through cgroup_ident.h to a pod and container id,
 * then names from the container runtime's state (runtime_state.h, under
 * --path.rootfs, using collector.pods.containerd-state and
 * collector.pods.crio-state), cached per container id. No kubelet
 * pod-resources socket. Containers whose names cannot be read are not
 * attributed.
 *
 * Driver lifecycle: NVML is opened on the first collection. When the
 * device count call answers UNINITIALIZED, DRIVER_NOT_LOADED or
 * LIB_RM_VERSION_MISMATCH (driver unloaded or upgraded) NVML is shut down
 * (and, for a version mismatch, the library is closed so the new one is
 * loaded) and re-initialised with backoff. A change in the GPU count
 * re-enumerates the GPUs.
 *
 * Threads: one XID thread per initialised NVML, documented at gpu_state in
 * gpu.c; it is stopped and joined before NVML shuts down and on release.
 *
 * Options: collector.gpu.library (what to dlopen), collector.gpu.attribution.
 */
#ifndef AGENT_GPU_H
#define AGENT_GPU_H

#include <stdbool.h>
#include <stddef.h>

#include "agent_collector.h"

extern const agent_collector agent_collector_gpu;

/* Whether an XID is caused by the application (13, 31, 43, 45, 68, 109). */
bool gpu_xid_is_application(unsigned long long xid);

/*
 * The MIG profile ("1g.10gb") from a MIG device's NVML name ("NVIDIA
 * A100-SXM4-80GB MIG 1g.10gb"); "" when the name has no " MIG " part.
 */
void gpu_mig_profile(const char *mig_name, char *out, size_t outlen);

#endif
