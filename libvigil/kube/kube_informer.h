/*
 * kube_informer.h - list+watch one resource into a kube_store, calling
 * add/update/delete handlers: client-go's reflector and informer, with
 * compact objects.
 *
 * Behaviour (see docs/internals/kube-client.md):
 *  - initial sync by streaming list (watch with sendInitialEvents, ended
 *    by the initial-events-end bookmark) when the server supports it, else
 *    a paged list with resourceVersion "0";
 *  - then watch from the last seen RV with bookmarks and a random
 *    timeoutSeconds in [5, 10] min; a clean end re-watches from the last
 *    RV without relisting;
 *  - ERROR 410 / HTTP 410 -> relist from the last RV, and if that is
 *    expired too, relist with the RV unset; "RV too large" (504) -> relist
 *    with the RV unset (the server lost history, e.g. restarted);
 *  - failures back off 0.8 s doubling to 30 s with jitter, reset after
 *    2 min without failures; 429 waits at least its Retry-After; a watch
 *    that ends in under 1 s with no events is a failure;
 *  - a relist replaces the cache and emits the difference as handler calls.
 *
 * Threading: each informer runs its own thread (list and watch calls are
 * blocking libcurl/libwebsockets calls). Handlers run on that thread with
 * no store lock held and must be quick (enqueue a key). The synced flag and
 * stats are safe to read from any thread.
 */
#ifndef KUBE_INFORMER_H
#define KUBE_INFORMER_H

#include <stdbool.h>
#include <stdint.h>

#include "kube_client.h"
#include "kube_objects.h"
#include "kube_store.h"
#include "kube_watch.h"
#include "vg_log.h"

typedef struct kube_informer kube_informer;

/*
 * on_batch_end ends a burst of the other calls: the events of one received
 * chunk, one relist's differences, and whatever came before a watch
 * ended. A handler may collect its work (workqueue keys) and hand it on
 * there, once per burst: waking another thread per event is what costs.
 * Every add/update/delete is followed by an on_batch_end. Any may be NULL.
 */
typedef struct kube_handlers {
    void (*on_add)(void *ud, const kube_obj *o);
    void (*on_update)(void *ud, const kube_obj *old, const kube_obj *o);
    void (*on_delete)(void *ud, const kube_obj *o);
    void (*on_batch_end)(void *ud);
    void *ud;
} kube_handlers;

/* Why a watch was restarted (vigil_operator_watch_restarts_total{reason}). */
typedef enum {
    KUBE_RESTART_CLOSED = 0,   /* server ended the watch (timeout) */
    KUBE_RESTART_EXPIRED,      /* 410: relist */
    KUBE_RESTART_TOO_LARGE,    /* RV ahead of the server: relist */
    KUBE_RESTART_THROTTLED,    /* 429 */
    KUBE_RESTART_SERVER_ERROR, /* 5xx */
    KUBE_RESTART_UNAUTHORIZED, /* 401/403 */
    KUBE_RESTART_NETWORK,      /* connect/reset/cut mid-event */
    KUBE_RESTART_DECODE,       /* garbage in the stream */
    KUBE_RESTART_SHORT,        /* ended in < 1 s with no events */
    KUBE_RESTART_COUNT,
} kube_restart_reason;

const char *kube_restart_reason_name(kube_restart_reason r);

typedef struct kube_informer_opts {
    const char *name;               /* resource label, e.g. "pods" */
    const kube_gvr *gvr;
    kube_obj_kind kind;
    const char *ns;                 /* NULL = all namespaces */
    const char *label_selector;
    const char *field_selector;
    kube_watch_transport transport;
    bool ws_token_subprotocol;
    bool no_streaming_list;         /* skip the sendInitialEvents attempt */
    unsigned page_size;             /* 0 = 500 */
    unsigned watch_min_s, watch_max_s; /* 0 = 300 / 600 */
    double backoff_initial_s;       /* 0 = 0.8 */
    double backoff_max_s;           /* 0 = 30 */
    double backoff_reset_s;         /* 0 = 120 */
    kube_handlers handlers;
    vg_log *log;
} kube_informer_opts;

typedef struct kube_informer_stats {
    uint64_t restarts[KUBE_RESTART_COUNT];
    uint64_t relists;
    uint64_t events;
    uint64_t bookmarks;
    uint64_t decode_errors;         /* objects skipped as undecodable (logged) */
    char last_rv[64];
    size_t objects;
    size_t bytes;                   /* kube_store_bytes */
    bool synced;
    bool streaming;                 /* the server accepted sendInitialEvents */
    double last_sync_s;             /* duration of the last full sync */
} kube_informer_stats;

/* Borrow c (must outlive the informer); strings in o are copied. */
int kube_informer_new(kube_client *c, const kube_informer_opts *o, kube_informer **out);
int kube_informer_start(kube_informer *inf);      /* 0 or -errno (thread) */
/* Ask the thread to stop and join it. Idempotent. */
void kube_informer_stop(kube_informer *inf);
void kube_informer_free(kube_informer *inf);      /* stops first */

bool kube_informer_synced(kube_informer *inf);
const char *kube_informer_name(const kube_informer *inf);
kube_store *kube_informer_store(kube_informer *inf);
void kube_informer_stats_get(kube_informer *inf, kube_informer_stats *out);

#endif
