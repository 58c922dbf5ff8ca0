/*
 * op_reconcile_log.h - a reconciler that only logs each change, proving
 * the pipeline informer -> workqueue -> worker end to end (real
 * reconcilers come later and follow the same shape).
 *
 * One worker thread takes keys "<resource>/<namespace>/<name>" from the
 * queue, looks the object up in its informer's cache and logs it as
 * changed (with its RV) or deleted. It runs only while this replica leads:
 * start on becoming leader, stop on losing it.
 */
#ifndef OP_RECONCILE_LOG_H
#define OP_RECONCILE_LOG_H

#include <stdint.h>

#include "op_informers.h"
#include "op_workqueue.h"
#include "vg_log.h"
#include "vg_metrics.h"

typedef struct op_reconcile_log op_reconcile_log;

/* reg: controller_runtime_reconcile_total{controller,result}; may be NULL. */
int op_reconcile_log_new(op_informers *oi, op_wq *q, vg_log *log, vg_registry *reg, op_reconcile_log **out);
int op_reconcile_log_start(op_reconcile_log *r);
/* Stops the worker: shuts the queue down (it cannot be restarted). */
void op_reconcile_log_stop(op_reconcile_log *r);
void op_reconcile_log_free(op_reconcile_log *r);
uint64_t op_reconcile_log_count(op_reconcile_log *r);

#endif
