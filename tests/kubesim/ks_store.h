/*
 * ks_store.h - kubesim's object store: the registry of resource types
 * (built-in and CRD-defined), every object as a json-c tree, the global
 * revision counter that is every object's resourceVersion, and a bounded
 * ring of watch history (one pre-serialized event line per change).
 *
 * Concurrency: one mutex (mu) guards everything here, including the json-c
 * trees, which are never touched without it. cv is broadcast on each new
 * event and on epoch changes (restart / compaction) so watchers wake.
 * Functions named *_locked expect mu held; the others take it themselves.
 *
 * Ownership: ks_store_put takes the object; events hold a reference to the
 * object version they describe; types live until ks_store_release (a
 * deleted CRD's type is only marked gone so events never dangle).
 */
#ifndef KS_STORE_H
#define KS_STORE_H

#include <json-c/json.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define KS_MAX_TYPES 256

enum {
    KS_SUB_STATUS = 1,
    KS_SUB_SCALE = 2,
    KS_SUB_EVICTION = 4,
    KS_SUB_LOG = 8,
    KS_SUB_BINDING = 16,
};

typedef struct ks_obj {
    char *key;        /* "ns/name" or "name" */
    json_object *o;
} ks_obj;

typedef struct ks_rtype {
    int id;
    int gone;               /* CRD deleted */
    char group[128];
    char version[64];
    char plural[128];
    char singular[128];
    char kind[128];
    char list_kind[140];
    char short_names[128];  /* comma separated */
    char categories[64];    /* comma separated ("all") */
    int namespaced;
    unsigned subres;        /* KS_SUB_* */
    int builtin;            /* strategic merge patch allowed */
    int has_spec;           /* tracks metadata.generation */
    const char *const *field_keys; /* extra field selector keys (NULL-terminated) or NULL */
    /* custom resources */
    char crd_name[256];
    json_object *schema;    /* openAPIV3Schema (owned) or NULL */
    char scale_spec[128], scale_status[128], scale_selector[128];
    int served;
    /* objects, sorted by key */
    ks_obj *objs;
    size_t n, cap;
    uint64_t last_change;   /* rv of the last change to this type */
} ks_rtype;

enum { KS_EV_ADDED, KS_EV_MODIFIED, KS_EV_DELETED };

typedef struct ks_event {
    uint64_t rv;
    int type;
    int rtype;
    json_object *obj;   /* reference to this version */
    json_object *prev;  /* reference to the previous version (MODIFIED) or NULL */
    char *line;         /* {"type":..,"object":..}\n, heap */
    size_t len;
} ks_event;

typedef struct ks_store {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t rv;
    ks_rtype *types[KS_MAX_TYPES];
    int ntypes;
    ks_event *ring;
    size_t cap, head, len;
    uint64_t compacted;  /* a watch may start from any rv >= compacted */
    uint64_t compact_rv; /* last explicit compaction (like etcd's): continue
                          * tokens and Exact lists from before it are gone */
    uint64_t epoch;      /* bumped by a simulated restart: watches end */
    uint64_t deletes;    /* objects removed or marked for deletion (GC work hint) */
    uint64_t rng;
} ks_store;

/* history_cap events of watch history. 0 or -ENOMEM. */
int ks_store_init(ks_store *st, size_t history_cap, uint64_t seed);
void ks_store_release(ks_store *st);

/* Register a type (copied). Returns the stored type or NULL. */
ks_rtype *ks_store_add_type_locked(ks_store *st, const ks_rtype *tmpl);
ks_rtype *ks_store_type_locked(ks_store *st, const char *group, const char *version, const char *plural);
/* By apiVersion ("v1", "apps/v1") and kind. */
ks_rtype *ks_store_type_kind_locked(ks_store *st, const char *api_version, const char *kind);

/* Borrowed object or NULL. ns ignored for cluster-scoped types. */
json_object *ks_store_get_locked(ks_rtype *rt, const char *ns, const char *name);
/* Index of the first object with key >= key. */
size_t ks_store_lower_bound(ks_rtype *rt, const char *key);
void ks_store_key(const ks_rtype *rt, const char *ns, const char *name, char *out, size_t cap);

/*
 * Store obj (ownership passes) as a new version: sets
 * metadata.resourceVersion to the next revision, records an ADDED or
 * MODIFIED event. Returns the new rv, or 0 on allocation failure (obj freed).
 */
uint64_t ks_store_put_locked(ks_store *st, ks_rtype *rt, json_object *obj);
/* Record objs[idx] (changed in place by the caller) as a new version:
 * new rv, MODIFIED event. Only for changes that keep labels and fields
 * used by selectors (history events share the object). */
uint64_t ks_store_touch_locked(ks_store *st, ks_rtype *rt, size_t idx);
/* Remove; the DELETED event carries the object with a new rv. Returns
 * the rv or 0 when absent. */
uint64_t ks_store_del_locked(ks_store *st, ks_rtype *rt, const char *ns, const char *name);

/* First history event with rv > after, or NULL. */
const ks_event *ks_store_next_event_locked(ks_store *st, uint64_t after);
/* Drop all history (compaction); with restart also end every watch. */
void ks_store_compact_locked(ks_store *st, int restart);

uint64_t ks_store_rand_locked(ks_store *st);
void ks_store_uid_locked(ks_store *st, char out[37]);
/* n random chars of the kube name alphabet ("bcdfghjklmnpqrstvwxz2456789"). */
void ks_store_suffix_locked(ks_store *st, char *out, int n);

#endif
