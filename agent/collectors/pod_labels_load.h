/*
 * pod_labels_load.h - open the pod labels plugin (vigil-agent-kube.so, see
 * pod_labels.h) from the directory vigil-agent runs from, else the
 * library search path. Only called when --pod-labels-allowlist is set, so
 * an agent without it never loads the Kubernetes client's libraries.
 */
#ifndef POD_LABELS_LOAD_H
#define POD_LABELS_LOAD_H

#include <stddef.h>

#include "pod_labels.h"

/*
 * 0 and *ops (valid for the life of the process: the plugin is never
 * unloaded, its threads may outlive any one user); -ENOENT with err
 * filled (dlerror's reason) when the plugin cannot be opened or lacks the
 * table.
 */
int pod_labels_load(const pod_labels_ops **ops, char *err, size_t errlen);

#endif
