/*
 * op_workqueue.c - dedup queue + delaying heap + rate limiters in one
 * mutex; waiters sleep on a condition until the next delayed key is due.
 */
#include "op_workqueue.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct op_wq_metrics {
    vg_metric *depth, *adds, *retries, *qdur, *wdur;
};

typedef struct item {
    char *key;
    uint64_t hash;
    struct item *hnext;       /* hash chain */
    struct item *qnext;       /* FIFO */
    bool queued, dirty, processing;
    size_t heap_idx;          /* SIZE_MAX when not waiting */
    double ready_at;
    double queued_at;
    double started_at;
    int failures;
} item;

struct op_wq {
    char *name;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    item **buckets;
    size_t nbuckets, nitems;
    item *head, *tail;
    size_t depth;
    item **heap;
    size_t nheap, heapcap;
    bool shutdown;
    double qps, burst, tokens, last, base, max;
    op_wq_metrics *m;
    vg_series *s_depth, *s_adds, *s_retries, *s_qdur, *s_wdur;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int op_wq_metrics_new(vg_registry *reg, op_wq_metrics **out)
{
    op_wq_metrics *m = calloc(1, sizeof *m);
    if (!m)
        return -ENOMEM;
    if (reg) {
        static const char *const l[] = {"name"};
        static const double b[] = {1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.1, 1, 10};
        m->depth = vg_registry_add(reg, "workqueue_depth", VG_MT_GAUGE, "Current depth of workqueue", 1, l, NULL, 0, 100);
        m->adds = vg_registry_add(reg, "workqueue_adds_total", VG_MT_COUNTER, "Total number of adds handled by workqueue", 1, l, NULL, 0, 100);
        m->retries = vg_registry_add(reg, "workqueue_retries_total", VG_MT_COUNTER, "Total number of retries handled by workqueue", 1, l, NULL, 0, 100);
        m->qdur = vg_registry_add(reg, "workqueue_queue_duration_seconds", VG_MT_HISTOGRAM,
                                  "How long in seconds an item stays in workqueue before being requested.", 1, l, b, 10, 100);
        m->wdur = vg_registry_add(reg, "workqueue_work_duration_seconds", VG_MT_HISTOGRAM,
                                  "How long in seconds processing an item from workqueue takes.", 1, l, b, 10, 100);
    }
    *out = m;
    return 0;
}

void op_wq_metrics_free(op_wq_metrics *m) { free(m); }

static void collect(vg_scrape *s, void *ud)
{
    op_wq *q = ud;
    double unfinished = 0, longest = 0, t = now_s();
    pthread_mutex_lock(&q->mu);
    for (size_t i = 0; i < q->nbuckets; i++) {
        for (item *it = q->buckets[i]; it; it = it->hnext) {
            if (!it->processing)
                continue;
            double d = t - it->started_at;
            unfinished += d;
            if (d > longest)
                longest = d;
        }
    }
    pthread_mutex_unlock(&q->mu);
    static const char *const l[] = {"name"};
    vg_family_add(vg_scrape_family(s, "workqueue_unfinished_work_seconds", VG_MT_GAUGE,
                                   "How many seconds of work has been done that is in progress and hasn't been observed by work_duration.",
                                   1, l), unfinished, q->name);
    vg_family_add(vg_scrape_family(s, "workqueue_longest_running_processor_seconds", VG_MT_GAUGE,
                                   "How many seconds has the longest running processor for workqueue been running.", 1, l),
                  longest, q->name);
}

int op_wq_new(const op_wq_opts *o, op_wq **out)
{
    op_wq *q = calloc(1, sizeof *q);
    if (!q)
        return -ENOMEM;
    q->name = strdup(o->name ? o->name : "default");
    q->nbuckets = 256;
    q->buckets = calloc(q->nbuckets, sizeof *q->buckets);
    if (!q->name || !q->buckets) {
        free(q->name);
        free(q->buckets);
        free(q);
        return -ENOMEM;
    }
    pthread_mutex_init(&q->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&q->cond, &ca);
    pthread_condattr_destroy(&ca);
    q->qps = o->qps > 0 ? o->qps : 10;
    q->burst = o->burst > 0 ? o->burst : 100;
    q->tokens = q->burst;
    q->last = now_s();
    q->base = o->base_delay_s > 0 ? o->base_delay_s : 0.005;
    q->max = o->max_delay_s > 0 ? o->max_delay_s : 1000;
    q->m = o->metrics;
    if (q->m) {
        const char *v[] = {q->name};
        q->s_depth = vg_metric_with(q->m->depth, v);
        q->s_adds = vg_metric_with(q->m->adds, v);
        q->s_retries = vg_metric_with(q->m->retries, v);
        q->s_qdur = vg_metric_with(q->m->qdur, v);
        q->s_wdur = vg_metric_with(q->m->wdur, v);
    }
    if (o->reg)
        vg_registry_add_collector(o->reg, collect, q);
    *out = q;
    return 0;
}

void op_wq_free(op_wq *q)
{
    if (!q)
        return;
    for (size_t i = 0; i < q->nbuckets; i++) {
        item *it = q->buckets[i];
        while (it) {
            item *n = it->hnext;
            free(it->key);
            free(it);
            it = n;
        }
    }
    free(q->buckets);
    free(q->heap);
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cond);
    free(q->name);
    free(q);
}

static uint64_t hash(const char *s)
{
    uint64_t h = 14695981039346656037ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* Keep chains short: an initial sync queues every object at once. A
 * failed grow keeps the old table (longer chains, still correct). */
static void grow(op_wq *q)
{
    size_t nb = q->nbuckets * 4;
    item **b = calloc(nb, sizeof *b);
    if (!b)
        return;
    for (size_t i = 0; i < q->nbuckets; i++) {
        item *it = q->buckets[i];
        while (it) {
            item *n = it->hnext;
            it->hnext = b[it->hash % nb];
            b[it->hash % nb] = it;
            it = n;
        }
    }
    free(q->buckets);
    q->buckets = b;
    q->nbuckets = nb;
}

static item *lookup(op_wq *q, const char *key, bool create)
{
    uint64_t h = hash(key);
    item **b = &q->buckets[h % q->nbuckets];
    for (item *it = *b; it; it = it->hnext)
        if (it->hash == h && strcmp(it->key, key) == 0)
            return it;
    if (!create)
        return NULL;
    item *it = calloc(1, sizeof *it);
    if (!it || !(it->key = strdup(key))) {
        free(it);
        return NULL;
    }
    it->hash = h;
    it->heap_idx = SIZE_MAX;
    it->hnext = *b;
    *b = it;
    if (++q->nitems > 2 * q->nbuckets)
        grow(q);
    return it;
}

/* Drop an item nothing refers to any more. */
static void maybe_drop(op_wq *q, item *it)
{
    if (it->queued || it->dirty || it->processing || it->heap_idx != SIZE_MAX || it->failures)
        return;
    item **b = &q->buckets[it->hash % q->nbuckets];
    while (*b != it)
        b = &(*b)->hnext;
    *b = it->hnext;
    q->nitems--;
    free(it->key);
    free(it);
}

/* ---- heap of delayed items by ready_at ---- */

static void hswap(op_wq *q, size_t a, size_t b)
{
    item *t = q->heap[a];
    q->heap[a] = q->heap[b];
    q->heap[b] = t;
    q->heap[a]->heap_idx = a;
    q->heap[b]->heap_idx = b;
}

static void hup(op_wq *q, size_t i)
{
    while (i > 0 && q->heap[(i - 1) / 2]->ready_at > q->heap[i]->ready_at) {
        hswap(q, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void hdown(op_wq *q, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < q->nheap && q->heap[l]->ready_at < q->heap[m]->ready_at)
            m = l;
        if (r < q->nheap && q->heap[r]->ready_at < q->heap[m]->ready_at)
            m = r;
        if (m == i)
            return;
        hswap(q, i, m);
        i = m;
    }
}

static item *hpop(op_wq *q)
{
    item *top = q->heap[0];
    hswap(q, 0, q->nheap - 1);
    q->nheap--;
    top->heap_idx = SIZE_MAX;
    if (q->nheap)
        hdown(q, 0);
    return top;
}

/* ---- the queue ---- */

/* Queue it; the caller wakes a worker (signal) once it has queued all. */
static bool enqueue_nowake(op_wq *q, item *it)
{
    vg_series_inc(q->s_adds);
    if (it->queued)
        return false;
    if (it->processing) {
        it->dirty = true; /* requeued by op_wq_done */
        return false;
    }
    it->queued = true;
    it->queued_at = now_s();
    it->qnext = NULL;
    if (q->tail)
        q->tail->qnext = it;
    else
        q->head = it;
    q->tail = it;
    q->depth++;
    vg_series_set(q->s_depth, (double)q->depth);
    return true;
}

static void enqueue(op_wq *q, item *it)
{
    if (enqueue_nowake(q, it))
        pthread_cond_signal(&q->cond);
}

int op_wq_add(op_wq *q, const char *key)
{
    int rc = 0;
    pthread_mutex_lock(&q->mu);
    item *it;
    if (q->shutdown)
        rc = -ESHUTDOWN;
    else if (!(it = lookup(q, key, true)))
        rc = -ENOMEM;
    else
        enqueue(q, it);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

int op_wq_add_many(op_wq *q, const char *const *keys, size_t n)
{
    int rc = 0;
    size_t queued = 0;
    pthread_mutex_lock(&q->mu);
    if (q->shutdown)
        rc = -ESHUTDOWN;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        item *it = lookup(q, keys[i], true);
        if (!it)
            rc = -ENOMEM;
        else if (enqueue_nowake(q, it))
            queued++;
    }
    /* one wake-up for the burst; several workers may share it */
    if (queued == 1)
        pthread_cond_signal(&q->cond);
    else if (queued > 1)
        pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

static int add_after_locked(op_wq *q, const char *key, double delay)
{
    if (q->shutdown)
        return -ESHUTDOWN;
    item *it = lookup(q, key, true);
    if (!it)
        return -ENOMEM;
    if (delay <= 0) {
        enqueue(q, it);
        return 0;
    }
    double at = now_s() + delay;
    if (it->heap_idx != SIZE_MAX) {
        if (at < it->ready_at) { /* keep the earlier time */
            it->ready_at = at;
            hup(q, it->heap_idx);
        }
        return 0;
    }
    if (q->nheap == q->heapcap) {
        size_t nc = q->heapcap ? q->heapcap * 2 : 16;
        item **nh = realloc(q->heap, nc * sizeof *nh);
        if (!nh) {
            maybe_drop(q, it);
            return -ENOMEM;
        }
        q->heap = nh;
        q->heapcap = nc;
    }
    it->ready_at = at;
    it->heap_idx = q->nheap;
    q->heap[q->nheap++] = it;
    hup(q, it->heap_idx);
    pthread_cond_broadcast(&q->cond);
    return 0;
}

int op_wq_add_after(op_wq *q, const char *key, double delay_s)
{
    pthread_mutex_lock(&q->mu);
    int rc = add_after_locked(q, key, delay_s);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

int op_wq_add_rate_limited(op_wq *q, const char *key)
{
    pthread_mutex_lock(&q->mu);
    int rc = -ESHUTDOWN;
    if (!q->shutdown) {
        item *it = lookup(q, key, true);
        rc = -ENOMEM;
        if (it) {
            double per = fmin(q->base * pow(2, it->failures), q->max);
            it->failures++;
            vg_series_inc(q->s_retries);
            double t = now_s();
            q->tokens = fmin(q->burst, q->tokens + (t - q->last) * q->qps);
            q->last = t;
            q->tokens -= 1;
            double bucket = q->tokens < 0 ? -q->tokens / q->qps : 0;
            rc = add_after_locked(q, key, fmax(per, bucket));
        }
    }
    pthread_mutex_unlock(&q->mu);
    return rc;
}

void op_wq_forget(op_wq *q, const char *key)
{
    pthread_mutex_lock(&q->mu);
    item *it = lookup(q, key, false);
    if (it) {
        it->failures = 0;
        maybe_drop(q, it);
    }
    pthread_mutex_unlock(&q->mu);
}

int op_wq_num_requeues(op_wq *q, const char *key)
{
    pthread_mutex_lock(&q->mu);
    item *it = lookup(q, key, false);
    int n = it ? it->failures : 0;
    pthread_mutex_unlock(&q->mu);
    return n;
}

int op_wq_get(op_wq *q, char *key, size_t keylen)
{
    pthread_mutex_lock(&q->mu);
    int rc;
    for (;;) {
        if (q->shutdown) {
            rc = -ESHUTDOWN;
            break;
        }
        double t = now_s();
        while (q->nheap && q->heap[0]->ready_at <= t)
            enqueue(q, hpop(q));
        if (q->head) {
            item *it = q->head;
            q->head = it->qnext;
            if (!q->head)
                q->tail = NULL;
            q->depth--;
            vg_series_set(q->s_depth, (double)q->depth);
            it->queued = false;
            it->processing = true;
            it->started_at = t;
            vg_series_observe(q->s_qdur, t - it->queued_at);
            size_t n = strlen(it->key);
            if (n >= keylen) {
                it->processing = false;
                maybe_drop(q, it);
                rc = -ENAMETOOLONG;
                break;
            }
            memcpy(key, it->key, n + 1);
            rc = 0;
            break;
        }
        if (q->nheap) {
            double at = q->heap[0]->ready_at;
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            double abs_t = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 + (at - t);
            ts.tv_sec = (time_t)abs_t;
            ts.tv_nsec = (long)((abs_t - (double)ts.tv_sec) * 1e9);
            pthread_cond_timedwait(&q->cond, &q->mu, &ts);
        } else {
            pthread_cond_wait(&q->cond, &q->mu);
        }
    }
    pthread_mutex_unlock(&q->mu);
    return rc;
}

void op_wq_done(op_wq *q, const char *key)
{
    pthread_mutex_lock(&q->mu);
    item *it = lookup(q, key, false);
    if (it && it->processing) {
        it->processing = false;
        vg_series_observe(q->s_wdur, now_s() - it->started_at);
        if (it->dirty && !q->shutdown) {
            it->dirty = false;
            enqueue(q, it);
        } else {
            it->dirty = false;
            maybe_drop(q, it);
        }
    }
    pthread_mutex_unlock(&q->mu);
}

void op_wq_shutdown(op_wq *q)
{
    pthread_mutex_lock(&q->mu);
    q->shutdown = true;
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->mu);
}

size_t op_wq_len(op_wq *q)
{
    pthread_mutex_lock(&q->mu);
    size_t n = q->depth;
    pthread_mutex_unlock(&q->mu);
    return n;
}
