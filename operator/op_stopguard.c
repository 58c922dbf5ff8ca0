/*
 * op_stopguard.c - a deadline on the operator's stop (see the header).
 */
#include "op_stopguard.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

struct op_stopguard {
    op_stopguard_opts o;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool done;
    const char *step;
    struct timespec at;  /* CLOCK_MONOTONIC deadline */
    pthread_t thread;
};

static void *guard_run(void *arg)
{
    op_stopguard *g = arg;
    pthread_setname_np(pthread_self(), "stop-guard");
    pthread_mutex_lock(&g->mu);
    int rc = 0;
    while (!g->done && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&g->cond, &g->mu, &g->at);
    bool expired = !g->done;
    const char *step = g->step;
    pthread_mutex_unlock(&g->mu);
    if (!expired)
        return NULL;
    if (g->o.on_expire) {
        g->o.on_expire(g->o.ud, step);
        return NULL;
    }
    char secs[32];
    snprintf(secs, sizeof secs, "%g", g->o.deadline_s);
    vg_log_error(g->o.log, "operator", "stop did not finish in time; exiting without it", "waiting_on", step,
                 "deadline_s", secs);
    _exit(g->o.exit_code);
}

int op_stopguard_start(const op_stopguard_opts *o, op_stopguard **out)
{
    if (!(o->deadline_s > 0))
        return -EINVAL;
    op_stopguard *g = calloc(1, sizeof *g);
    if (!g)
        return -ENOMEM;
    g->o = *o;
    g->step = "start";
    pthread_mutex_init(&g->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g->cond, &ca);
    pthread_condattr_destroy(&ca);
    clock_gettime(CLOCK_MONOTONIC, &g->at);
    double t = (double)g->at.tv_sec + (double)g->at.tv_nsec / 1e9 + o->deadline_s;
    g->at.tv_sec = (time_t)t;
    g->at.tv_nsec = (long)((t - (double)g->at.tv_sec) * 1e9);
    int rc = pthread_create(&g->thread, NULL, guard_run, g);
    if (rc) {
        pthread_mutex_destroy(&g->mu);
        pthread_cond_destroy(&g->cond);
        free(g);
        return -rc;
    }
    *out = g;
    return 0;
}

void op_stopguard_step(op_stopguard *g, const char *step)
{
    if (!g)
        return;
    pthread_mutex_lock(&g->mu);
    g->step = step;
    pthread_mutex_unlock(&g->mu);
}

void op_stopguard_end(op_stopguard *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&g->mu);
    g->done = true;
    pthread_cond_broadcast(&g->cond);
    pthread_mutex_unlock(&g->mu);
    pthread_join(g->thread, NULL);
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->cond);
    free(g);
}
