/*
 * op_workqueue.h - client-go's rate-limited work queue for reconcilers.
 *
 * Keys ("namespace/name") are deduplicated: a key added while queued is
 * queued once; a key added while a worker processes it is re-queued when
 * the worker calls op_wq_done, so one key is never processed by two
 * workers at once. Rate-limited adds wait max(per-key exponential backoff
 * 5 ms doubling to 1000 s, an overall token bucket of 10 qps / burst 100)
 * as client-go's DefaultControllerRateLimiter.
 *
 * Metrics use client-go's names with label name=<queue>: workqueue_depth,
 * workqueue_adds_total, workqueue_retries_total,
 * workqueue_queue_duration_seconds, workqueue_work_duration_seconds,
 * workqueue_unfinished_work_seconds, workqueue_longest_running_processor_seconds.
 *
 * Thread-safe; op_wq_get blocks (no helper thread: the earliest delayed
 * key bounds the wait). After op_wq_shutdown no key is accepted and every
 * op_wq_get returns -ESHUTDOWN; workers finish their current key.
 */
#ifndef OP_WORKQUEUE_H
#define OP_WORKQUEUE_H

#include <stddef.h>

#include "vg_metrics.h"

typedef struct op_wq op_wq;
typedef struct op_wq_metrics op_wq_metrics;

/* The workqueue_* families, registered once per registry (NULL reg = none). */
int op_wq_metrics_new(vg_registry *reg, op_wq_metrics **out);
void op_wq_metrics_free(op_wq_metrics *m);

typedef struct op_wq_opts {
    const char *name;         /* metric label */
    double qps;               /* 0 = 10 */
    int burst;                /* 0 = 100 */
    double base_delay_s;      /* 0 = 0.005 */
    double max_delay_s;       /* 0 = 1000 */
    op_wq_metrics *metrics;   /* may be NULL */
    vg_registry *reg;         /* for the computed gauges; may be NULL */
} op_wq_opts;

int op_wq_new(const op_wq_opts *o, op_wq **out);
void op_wq_free(op_wq *q);

/* 0, -ENOMEM, -ESHUTDOWN. */
int op_wq_add(op_wq *q, const char *key);
/* Add n keys under one lock and wake the workers once: what an informer
 * does with one burst of events. 0, or the first error (-ENOMEM: the keys
 * before the failing one were added; -ESHUTDOWN: none was). */
int op_wq_add_many(op_wq *q, const char *const *keys, size_t n);
int op_wq_add_after(op_wq *q, const char *key, double delay_s);
int op_wq_add_rate_limited(op_wq *q, const char *key);
/* Forget the key's failures (after a successful reconcile). */
void op_wq_forget(op_wq *q, const char *key);
int op_wq_num_requeues(op_wq *q, const char *key);

/* Block for the next key; copies it into key (keylen bytes). 0,
 * -ESHUTDOWN, or -ENAMETOOLONG (key dropped). */
int op_wq_get(op_wq *q, char *key, size_t keylen);
/* The worker finished key (requeues it if it was added meanwhile). */
void op_wq_done(op_wq *q, const char *key);
void op_wq_shutdown(op_wq *q);
size_t op_wq_len(op_wq *q);

#endif
