/*
 * pod_labels.h - allowlisted Kubernetes labels of this node's pods, read
 * from the API server, for the pods collector (--pod-labels-allowlist).
 *
 * Off unless the allowlist is set: the agent then needs a Kubernetes client
 * (in-cluster, or --kubeconfig) and get/list/watch on pods. One pods
 * informer watches only this node's pods (fieldSelector
 * spec.nodeName=NODE); of each pod only the allowlisted label values are
 * kept, in a map keyed by pod UID (the cgroup path carries the UID, names
 * may be unknown). Each allowlisted key becomes a Prometheus label
 * "label_<key>", the key sanitised to [a-zA-Z0-9_] as kube-state-metrics
 * does; a pod without that label, or not (yet) known, gets "".
 *
 * Threading: the informer's thread (kube_informer.h) updates the map; the
 * collection thread looks up under the map's mutex.
 */
#ifndef POD_LABELS_H
#define POD_LABELS_H

#include <stdbool.h>
#include <stddef.h>

#include "kube/kube_objects.h"
#include "vg_buf.h"
#include "vg_config.h"
#include "vg_log.h"
#include "vg_metrics.h"

#define POD_LABELS_MAX 32  /* allowlisted keys */

typedef struct pod_labels pod_labels;

typedef struct pod_labels_opts {
    const char *allowlist;   /* "app,team,app.kubernetes.io/name" */
    const char *node;        /* this node's name (spec.nodeName) */
    const char *kubeconfig;  /* NULL/"" = KUBECONFIG, then in-cluster */
    bool no_api;             /* tests: no client, fed by pod_labels_apply */
    vg_log *log;
    vg_registry *reg;        /* the client's rest_client_* families; may be NULL */
} pod_labels_opts;

/*
 * Parse the allowlist and set up the client and informer (not started).
 * 0; -EINVAL with err filled (bad allowlist key, two keys that sanitise to
 * one label name, no node name, unusable Kubernetes configuration);
 * -ENOMEM. Nothing is left allocated on failure.
 */
int pod_labels_new(const pod_labels_opts *o, pod_labels **out, char *err, size_t errlen);
/*
 * The same from the agent's options: pod-labels-allowlist, node-name
 * (empty: $NODE_NAME) and kubeconfig, which the pods collector declares.
 * 0 with *out NULL when the allowlist is empty (the feature is off).
 * Errors as pod_labels_new. The agent calls it once at start to refuse a
 * bad setting (exit 2) before the collector needs it.
 */
int pod_labels_from_config(const vg_config *cfg, vg_log *log, vg_registry *reg, pod_labels **out, char *err,
                           size_t errlen);

/* Start watching (a thread). 0 or -errno. */
int pod_labels_start(pod_labels *pl);
/* Stop, free the map and the client. NULL is fine. */
void pod_labels_free(pod_labels *pl);

/* The allowlisted keys as label names, in allowlist order: "label_app". */
size_t pod_labels_count(const pod_labels *pl);
const char *pod_labels_name(const pod_labels *pl, size_t i);

/*
 * Values for the pod with this UID ('-' or '_' separated alike): vals[i]
 * points into buf (reset here) for each of the pod_labels_count() keys, ""
 * when the pod lacks it. false when the pod is unknown (all ""). -ENOMEM
 * also gives all "" and false.
 */
bool pod_labels_lookup(pod_labels *pl, const char *uid, vg_buf *buf, const char **vals);

/* Add vigil_agent_pod_labels_pods and vigil_agent_pod_labels_synced. */
void pod_labels_collect(pod_labels *pl, vg_scrape *s);

/* What the informer does with each pod: record (deleted false) or forget. */
void pod_labels_apply(pod_labels *pl, const kube_obj *pod, bool deleted);

/*
 * How the agent reaches the functions above. This file and the Kubernetes
 * client (libcurl, OpenSSL, libwebsockets and their ~30 libraries, about
 * 6 MiB of RSS once loaded) are built into the plugin vigil-agent-kube.so
 * (pod_labels_plugin.c), which the agent opens only when
 * --pod-labels-allowlist is set (pod_labels_load.h); vigil-agent itself
 * links none of them.
 */
typedef struct pod_labels_ops {
    int (*from_config)(const vg_config *cfg, vg_log *log, vg_registry *reg, pod_labels **out, char *err,
                       size_t errlen);
    int (*start)(pod_labels *pl);
    void (*free)(pod_labels *pl);
    size_t (*count)(const pod_labels *pl);
    const char *(*name)(const pod_labels *pl, size_t i);
    bool (*lookup)(pod_labels *pl, const char *uid, vg_buf *buf, const char **vals);
    void (*collect)(pod_labels *pl, vg_scrape *s);
} pod_labels_ops;

#define POD_LABELS_PLUGIN "vigil-agent-kube.so"
#define POD_LABELS_OPS_SYMBOL "vigil_pod_labels_ops"
extern const pod_labels_ops vigil_pod_labels_ops; /* defined in the plugin */

#endif
