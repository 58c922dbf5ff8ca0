/*
 * kube_objects.h - compact decoded Kubernetes objects for the informer
 * caches.
 *
 * Go informers keep whole objects (about 36 KiB of heap per pod). We keep
 * only the fields the project uses, decoded once from the JSON into one
 * malloc'd block per object: the struct, its arrays and its strings laid
 * out together, so a cached pod costs one allocation and a few hundred
 * bytes (measured by tests and bench/operator_bench.sh; see
 * docs/internals/kube-client.md). An object is immutable once decoded and
 * freed with kube_obj_free (a plain free of the block).
 *
 * Strings are NUL-terminated, never NULL unless documented ("NULL when
 * absent"). Quantities: CPU in millicores, memory and other resources in
 * base units (bytes), -1 when unset. Times: microseconds since the epoch,
 * 0 when unset.
 */
#ifndef KUBE_OBJECTS_H
#define KUBE_OBJECTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    KUBE_OBJ_POD = 0,
    KUBE_OBJ_DEPLOYMENT,
    KUBE_OBJ_STATEFULSET,
    KUBE_OBJ_NODE,
    KUBE_OBJ_LEASE,
    KUBE_OBJ_CUSTOM,      /* any other kind: spec/status kept as raw JSON */
    KUBE_OBJ_BOOKMARK,    /* metadata only (watch bookmarks) */
} kube_obj_kind;

typedef struct kube_kv {
    const char *key;
    const char *value;
} kube_kv;

typedef struct kube_owner {
    const char *kind;
    const char *name;
    const char *uid;
    bool controller;
} kube_owner;

typedef struct kube_meta {
    const char *ns;         /* "" for cluster-scoped objects */
    const char *name;
    const char *uid;
    const char *rv;         /* resourceVersion, opaque */
    int64_t generation;
    int64_t creation_us;
    int64_t deletion_us;    /* deletionTimestamp; 0 = not being deleted */
    const kube_kv *labels;
    const kube_owner *owners;
    uint16_t nlabels;
    uint16_t nowners;
    bool initial_events_end; /* bookmark annotation k8s.io/initial-events-end */
} kube_meta;

typedef enum {
    KUBE_PHASE_UNKNOWN = 0,
    KUBE_PHASE_PENDING,
    KUBE_PHASE_RUNNING,
    KUBE_PHASE_SUCCEEDED,
    KUBE_PHASE_FAILED,
} kube_pod_phase;

typedef struct kube_container {
    const char *name;
    int64_t cpu_req_m, cpu_lim_m;   /* millicores, -1 unset */
    int64_t mem_req, mem_lim;       /* bytes, -1 unset */
    int32_t restarts;
    bool ready;
    const char *waiting_reason;     /* NULL when absent */
    const char *last_term_reason;   /* NULL when absent */
} kube_container;

typedef struct kube_pod {
    const char *node;               /* "" when unscheduled */
    int64_t start_us;
    const kube_container *containers;
    uint16_t ncontainers;
    uint8_t phase;                  /* kube_pod_phase */
    int8_t ready;                   /* Ready condition: 1, 0, -1 unknown */
} kube_pod;

typedef struct kube_workload {      /* deployments and statefulsets */
    int32_t replicas;               /* spec.replicas (defaults to 1) */
    bool paused;
    const kube_kv *selector;        /* matchLabels */
    const char *selector_exprs;     /* matchExpressions raw JSON, NULL when absent */
    const kube_kv *template_annotations;
    uint16_t nselector;
    uint16_t nannotations;
    int64_t observed_generation;
    int32_t st_replicas, ready_replicas, updated_replicas, available_replicas, unavailable_replicas,
        current_replicas;
    const char *current_revision;   /* statefulsets; NULL otherwise */
    const char *update_revision;
} kube_workload;

typedef struct kube_quantity {
    const char *name;               /* "cpu", "memory", "pods", "nvidia.com/gpu" */
    int64_t value;                  /* cpu: millicores; others: base units */
} kube_quantity;

typedef struct kube_condition {
    const char *type;
    int8_t status;                  /* 1 True, 0 False, -1 Unknown */
} kube_condition;

typedef struct kube_node {
    bool unschedulable;
    const kube_quantity *allocatable;
    const kube_condition *conditions;
    uint16_t nallocatable;
    uint16_t nconditions;
} kube_node;

typedef struct kube_lease {
    const char *holder;             /* "" when free */
    int32_t duration_s;
    int32_t transitions;
    int64_t acquire_us;
    int64_t renew_us;
} kube_lease;

typedef struct kube_custom {
    const char *api_version;
    const char *kind;
    const char *spec;               /* raw JSON sub-tree, NULL when absent */
    const char *status;
} kube_custom;

typedef struct kube_obj {
    kube_obj_kind kind;
    uint32_t size;                  /* bytes in the block (for accounting) */
    kube_meta meta;
    union {
        kube_pod pod;
        kube_workload wl;
        kube_node node;
        kube_lease lease;
        kube_custom cr;
    } u;
} kube_obj;

/*
 * Decode one object's JSON as kind (KUBE_OBJ_CUSTOM accepts anything with
 * metadata). 0 and *out (free with kube_obj_free), or -EBADMSG (malformed,
 * truncated, wrong types, no metadata.name), -E2BIG (more than 65535
 * labels/containers/...), -ENOMEM. Unknown fields are skipped.
 */
int kube_obj_decode(kube_obj_kind kind, const char *json, size_t len, kube_obj **out);
void kube_obj_free(kube_obj *o);

/* A reusable decoder: keeps its scratch buffers between objects so a
 * steady stream of decodes does one allocation per object. Not shared
 * between threads. */
typedef struct kube_objdec kube_objdec;
int kube_objdec_new(kube_objdec **out);
void kube_objdec_free(kube_objdec *d);
int kube_objdec_decode(kube_objdec *d, kube_obj_kind kind, const char *json, size_t len, kube_obj **out);

/* Only metadata.resourceVersion and annotations (bookmarks); no name needed. */
int kube_obj_peek_rv(const char *json, size_t len, char *rv, size_t rvlen, bool *initial_events_end);

/* Label lookup; NULL when absent. */
const char *kube_obj_label(const kube_obj *o, const char *key);
/* The controller owner reference, or NULL. */
const kube_owner *kube_obj_controller(const kube_obj *o);

/*
 * Parse a Kubernetes quantity ("100m", "1.5", "128Mi", "1e3", "2Gi").
 * milli: scale the result by 1000 (CPU to millicores). Rounds up like
 * Quantity.ScaledValue. 0 or -EINVAL/-ERANGE.
 */
int kube_quantity_parse(const char *s, size_t n, bool milli, int64_t *out);

const char *kube_obj_kind_name(kube_obj_kind k);

#endif
