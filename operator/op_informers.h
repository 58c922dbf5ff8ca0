/*
 * op_informers.h - the operator's informers (pods, deployments,
 * statefulsets, nodes and its own lease), their metrics and the
 * /debug/informers document.
 *
 * Every change any informer sees is turned into a workqueue key
 * "<resource>/<namespace>/<name>" (op_reconcile_log.h consumes them).
 * Informers run on their own threads (kube_informer.h); everything here
 * is safe to call from the HTTP loop thread.
 *
 * Metrics: vigil_operator_informer_objects{resource},
 * vigil_operator_watch_restarts_total{resource,reason}, computed at scrape.
 */
#ifndef OP_INFORMERS_H
#define OP_INFORMERS_H

#include <stdbool.h>

#include "kube/kube_informer.h"
#include "op_workqueue.h"
#include "vg_buf.h"
#include "vg_log.h"
#include "vg_metrics.h"

typedef struct op_informers op_informers;

typedef struct op_informers_opts {
    kube_client *client;
    kube_watch_transport transport;
    bool ws_token_subprotocol;
    const char *lease_ns;          /* the lease informer's scope */
    const char *lease_name;
    double watch_timeout_s;        /* 0 = random 5-10 min */
    double backoff_initial_s;      /* 0 = 0.8 s */
    double backoff_max_s;          /* 0 = 30 s */
    op_wq *queue;                  /* keys go here; may be NULL */
    vg_log *log;
    vg_registry *reg;
} op_informers_opts;

int op_informers_new(const op_informers_opts *o, op_informers **out);
int op_informers_start(op_informers *oi);
void op_informers_stop(op_informers *oi);
void op_informers_free(op_informers *oi);

/* All caches synced (the readiness condition). why gets the first unsynced. */
bool op_informers_synced(op_informers *oi, char *why, size_t whylen);
/* Find an informer by resource name ("pods"). */
kube_informer *op_informers_get(op_informers *oi, const char *resource);

/*
 * /debug/informers: {"informers":[{"resource":"pods","count":N,"last_rv":"..",
 * "synced":true,"streaming":false,"relists":N,"bytes":N,"objects":[{"key":"ns/name","rv":".."}...]}]}
 * with keys sorted. 0 or -ENOMEM.
 */
int op_informers_debug_json(op_informers *oi, vg_buf *out);

#endif
