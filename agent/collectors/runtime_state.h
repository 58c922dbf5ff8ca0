/*
 * runtime_state.h - pod and container names from the container runtime's
 * state on the host, without the kubelet or the API server.
 *
 * Each running container's OCI bundle holds a config.json whose
 * annotations name it:
 *  - containerd: <state>/<id>/config.json, state default
 *    /run/containerd/io.containerd.runtime.v2.task/k8s.io, annotations
 *    io.kubernetes.cri.{sandbox-name,sandbox-namespace,sandbox-uid,
 *    container-name,container-type,image-name}.
 *  - CRI-O: <state>/<id>/userdata/config.json, state default
 *    /var/run/containers/storage/overlay-containers (the storage run root),
 *    annotations io.kubernetes.cri-o.{ContainerType,ImageName,Name,Labels}
 *    and io.kubernetes.{pod.name,pod.namespace,pod.uid,container.name},
 *    the latter taken from the io.kubernetes.cri-o.Labels JSON when not
 *    present as annotations of their own.
 * Files are read only when a new container id appears; the pod collector
 * caches the result for the container's lifetime.
 */
#ifndef AGENT_RUNTIME_STATE_H
#define AGENT_RUNTIME_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "vg_buf.h"

typedef enum {
    RUNTIME_STATE_CONTAINERD = 0,
    RUNTIME_STATE_CRIO,
} runtime_flavor;

/*
 * What the runtime says about one container. After a successful parse
 * every string is non-NULL ("" when the runtime did not say) and all of
 * them live in one heap block owned by the struct; free with
 * runtime_info_release. Values are at most RUNTIME_VALUE_MAX bytes and
 * never contain NUL bytes.
 */
typedef struct runtime_info {
    bool sandbox;             /* the pod's sandbox (pause) container */
    runtime_flavor flavor;
    const char *pod_name;
    const char *pod_namespace;
    const char *pod_uid;
    const char *container;    /* Kubernetes container name */
    const char *image;
    const char *name;         /* cAdvisor's "name" label: the runtime's name or id */
    char *block_;             /* private: the allocation the strings live in */
} runtime_info;

#define RUNTIME_VALUE_MAX 1024

/*
 * Parse an OCI config.json of either runtime. id is the container id (the
 * "name" label for containerd). Returns 0 with out filled; -EINVAL for
 * malformed JSON or a root that is not an object; -ENODATA when it has no
 * Kubernetes annotations of either runtime; -ENOMEM. out untouched on
 * error.
 */
int runtime_info_parse(const char *json, size_t len, const char *id, runtime_info *out);

/* Free the strings; ri is left zeroed. NULL-safe. */
void runtime_info_release(runtime_info *ri);

/*
 * Read and parse the state of container id under state_dir (a local path,
 * already prefixed with the rootfs), using scratch as the read buffer
 * (contents replaced). Returns runtime_info_parse's codes, or the read's
 * negative errno (-ENOENT: no such container in this runtime). Files over
 * 4 MiB are refused with -EFBIG.
 */
int runtime_state_read(const char *state_dir, runtime_flavor flavor, const char *id,
                       vg_buf *scratch, runtime_info *out);

#endif
