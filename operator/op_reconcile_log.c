/*
 * op_reconcile_log.c - the logging reconciler's worker.
 */
#include "op_reconcile_log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct op_reconcile_log {
    op_informers *oi;
    op_wq *q;
    vg_log *log;
    pthread_t thread;
    bool running;
    atomic_uint_fast64_t count;
    vg_series *s_ok;
};

int op_reconcile_log_new(op_informers *oi, op_wq *q, vg_log *log, vg_registry *reg, op_reconcile_log **out)
{
    op_reconcile_log *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    r->oi = oi;
    r->q = q;
    r->log = log;
    if (reg) {
        static const char *const l[] = {"controller", "result"};
        vg_metric *m = vg_registry_add(reg, "controller_runtime_reconcile_total", VG_MT_COUNTER,
                                       "Total number of reconciliations per controller", 2, l, NULL, 0, 50);
        const char *v[] = {"log", "success"};
        r->s_ok = vg_metric_with(m, v);
    }
    *out = r;
    return 0;
}

static void reconcile(op_reconcile_log *r, const char *key)
{
    char res[64], ns[256], name[256];
    const char *s1 = strchr(key, '/');
    const char *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
    if (!s1 || !s2 || (size_t)(s1 - key) >= sizeof res || (size_t)(s2 - s1 - 1) >= sizeof ns ||
        strlen(s2 + 1) >= sizeof name) {
        vg_log_warn(r->log, "reconcile", "malformed key dropped", "key", key);
        return;
    }
    snprintf(res, sizeof res, "%.*s", (int)(s1 - key), key);
    snprintf(ns, sizeof ns, "%.*s", (int)(s2 - s1 - 1), s1 + 1);
    snprintf(name, sizeof name, "%s", s2 + 1);
    kube_informer *inf = op_informers_get(r->oi, res);
    if (!inf)
        return;
    kube_store *s = kube_informer_store(inf);
    char rv[64] = "";
    kube_store_rdlock(s);
    const kube_obj *o = kube_store_get(s, ns, name);
    if (o)
        snprintf(rv, sizeof rv, "%s", o->meta.rv);
    kube_store_unlock(s);
    if (o)
        vg_log_info(r->log, "reconcile", "object changed", "resource", res, "namespace", ns, "name", name, "rv", rv);
    else
        vg_log_info(r->log, "reconcile", "object deleted", "resource", res, "namespace", ns, "name", name);
    atomic_fetch_add(&r->count, 1);
    vg_series_inc(r->s_ok);
}

static void *run(void *arg)
{
    op_reconcile_log *r = arg;
    pthread_setname_np(pthread_self(), "rec-log");
    char key[1024];
    for (;;) {
        int rc = op_wq_get(r->q, key, sizeof key);
        if (rc == -ESHUTDOWN)
            break;
        if (rc)
            continue;
        reconcile(r, key);
        op_wq_forget(r->q, key);
        op_wq_done(r->q, key);
    }
    return NULL;
}

int op_reconcile_log_start(op_reconcile_log *r)
{
    if (r->running)
        return 0;
    int rc = pthread_create(&r->thread, NULL, run, r);
    if (rc)
        return -rc;
    r->running = true;
    return 0;
}

void op_reconcile_log_stop(op_reconcile_log *r)
{
    op_wq_shutdown(r->q);
    if (r->running) {
        pthread_join(r->thread, NULL);
        r->running = false;
    }
}

void op_reconcile_log_free(op_reconcile_log *r)
{
    if (!r)
        return;
    op_reconcile_log_stop(r);
    free(r);
}

uint64_t op_reconcile_log_count(op_reconcile_log *r) { return atomic_load(&r->count); }
