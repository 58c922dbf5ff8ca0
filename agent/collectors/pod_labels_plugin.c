/*
 * pod_labels_plugin.c - the entry point of vigil-agent-kube.so: the pod
 * labels functions as one table, found by name with dlsym
 * (pod_labels_load.c).
 */
#include "pod_labels.h"

const pod_labels_ops vigil_pod_labels_ops = {
    pod_labels_from_config, pod_labels_start, pod_labels_free, pod_labels_count,
    pod_labels_name,        pod_labels_lookup, pod_labels_collect,
};
