/*
 * statfs_pool.c - bounded worker threads for statfs(2), with timeouts.
 *
 * Jobs are pulled by the workers themselves (no hand-off per call through
 * the owner), and only one worker is woken unless a call turns out slow,
 * so a scrape of healthy mounts costs two wake-ups in all.
 */
#include "statfs_pool.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vg_loop.h"

#define POOL_MAX_WORKERS 64u
#define WORKER_STACK (256u * 1024u)
/* One worker runs the calls back to back (statfs takes microseconds); a
 * second joins only when a call has been running this long. */
#define POOL_SLOW_MS 5u

typedef enum {
    W_NONE = 0,   /* no thread in this slot (yet) */
    W_IDLE,       /* thread waiting for a job */
    W_BUSY,       /* inside fn for job `job` of the current run */
    W_STUCK,      /* inside fn for a call the owner stopped waiting for */
} wstate;

typedef struct worker {
    struct statfs_pool *p;
    pthread_t tid;
    wstate state;
    size_t job;             /* W_BUSY: index into p->jobs */
    uint64_t started_ms;    /* W_BUSY/W_STUCK: when the call began */
    char path[PATH_MAX];    /* W_BUSY/W_STUCK: the path being stat'ed */
} worker;

/*
 * Thread model. The owner (the collection thread, in statfs_pool_run)
 * publishes a run: jobs, njobs, next = 0, and wakes one worker; it adds
 * another (waking an idle one or starting a thread, never more than
 * nworkers threads in all) only while calls are left and none of the busy
 * workers started its call less than POOL_SLOW_MS ago. Workers pull
 * jobs[next++] under mu, copy the
 * path into their slot, call fn without the lock, and store the result into
 * the job under mu - unless the owner has meanwhile given up on the call
 * and marked the worker W_STUCK, in which case the result is dropped, the
 * worker goes back to W_IDLE and the path may be tried again on the next
 * run. The owner sleeps on done_cv until every job is resolved, waking at
 * the earliest per-call timeout to mark overdue calls W_STUCK (-ETIMEDOUT);
 * it returns only when no worker can still write into its jobs array.
 *
 * Lifetime: refs counts the owner plus every live thread. statfs_pool_free
 * drops the owner's reference after joining idle workers and detaching
 * stuck ones; whoever drops the last reference destroys the pool, so a
 * worker stuck for hours in a hung NFS call can still safely come back.
 * Everything below mu is guarded by it.
 */
struct statfs_pool {
    pthread_mutex_t mu;
    pthread_cond_t work_cv;   /* workers: a run was published, or shutdown */
    pthread_cond_t done_cv;   /* owner: the last job of the run resolved */
    unsigned nworkers;
    unsigned refs;
    bool shutdown;
    statfs_pool_fn fn;
    void *ud;
    /* current run (jobs == NULL between runs) */
    statfs_job *jobs;
    size_t njobs;
    size_t next;
    size_t resolved;
    unsigned to_wake;         /* idle workers to signal once mu is let go */
    worker w[];
};

static int real_statfs(const char *path, struct statfs *out, void *ud)
{
    (void)ud;
    return statfs(path, out) == 0 ? 0 : -errno;
}

static void pool_destroy(statfs_pool *p)
{
    pthread_cond_destroy(&p->work_cv);
    pthread_cond_destroy(&p->done_cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

/* Whether a worker is stuck in a call on path (then path is not retried). */
static bool path_stuck(const statfs_pool *p, const char *path)
{
    for (unsigned i = 0; i < p->nworkers; i++)
        if (p->w[i].state == W_STUCK && strcmp(p->w[i].path, path) == 0)
            return true;
    return false;
}

static void resolve(statfs_pool *p, size_t idx, int rc)
{
    p->jobs[idx].rc = rc;
    if (++p->resolved == p->njobs)
        pthread_cond_signal(&p->done_cv);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    statfs_pool *p = w->p;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->shutdown && !(p->jobs && p->next < p->njobs))
            pthread_cond_wait(&p->work_cv, &p->mu);
        if (p->shutdown)
            break;
        size_t idx = p->next++;
        const char *path = p->jobs[idx].path;
        size_t len = strlen(path);
        if (len >= sizeof w->path) {
            resolve(p, idx, -ENAMETOOLONG);
            continue;
        }
        if (path_stuck(p, path)) {
            resolve(p, idx, -EBUSY);
            continue;
        }
        memcpy(w->path, path, len + 1);
        w->state = W_BUSY;
        w->job = idx;
        w->started_ms = vg_now_ms();
        statfs_pool_fn fn = p->fn;
        void *ud = p->ud;
        pthread_mutex_unlock(&p->mu);

        struct statfs st;
        memset(&st, 0, sizeof st);
        int rc = fn(w->path, &st, ud);

        pthread_mutex_lock(&p->mu);
        if (w->state == W_BUSY) {
            p->jobs[w->job].st = st;
            resolve(p, w->job, rc);
        }
        /* W_STUCK: the owner answered -ETIMEDOUT already; drop the result. */
        w->state = W_IDLE;
    }
    w->state = W_NONE;
    bool last = --p->refs == 0;
    pthread_mutex_unlock(&p->mu);
    if (last)
        pool_destroy(p);
    return NULL;
}

int statfs_pool_new(unsigned workers, statfs_pool **out)
{
    if (workers == 0)
        return -EINVAL;
    if (workers > POOL_MAX_WORKERS)
        workers = POOL_MAX_WORKERS;
    statfs_pool *p = calloc(1, sizeof *p + workers * sizeof(worker));
    if (!p)
        return -ENOMEM;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int e1 = pthread_mutex_init(&p->mu, NULL);
    int e2 = pthread_cond_init(&p->work_cv, &ca);
    int e3 = pthread_cond_init(&p->done_cv, &ca);
    pthread_condattr_destroy(&ca);
    if (e1 || e2 || e3) {
        if (!e1)
            pthread_mutex_destroy(&p->mu);
        if (!e2)
            pthread_cond_destroy(&p->work_cv);
        if (!e3)
            pthread_cond_destroy(&p->done_cv);
        free(p);
        return -ENOMEM;
    }
    p->nworkers = workers;
    p->refs = 1;
    p->fn = real_statfs;
    for (unsigned i = 0; i < workers; i++)
        p->w[i].p = p;
    *out = p;
    return 0;
}

void statfs_pool_set_fn(statfs_pool *p, statfs_pool_fn fn, void *ud)
{
    pthread_mutex_lock(&p->mu);
    p->fn = fn ? fn : real_statfs;
    p->ud = fn ? ud : NULL;
    pthread_mutex_unlock(&p->mu);
}

/* Start a thread in slot w (mu held). Workers get no signals. */
static int start_worker(statfs_pool *p, worker *w)
{
    pthread_attr_t attr;
    sigset_t all, old;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, WORKER_STACK);
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    w->state = W_IDLE;
    int rc = pthread_create(&w->tid, &attr, worker_main, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (rc) {
        w->state = W_NONE;
        return -rc;
    }
    p->refs++;
    return 0;
}

/* The wake-ups add_worker asked for (mu held), for wake_workers to send
 * after letting mu go (or right before waiting, which lets it go). */
static unsigned take_wakes(statfs_pool *p)
{
    unsigned k = p->to_wake;
    p->to_wake = 0;
    return k;
}

static void wake_workers(statfs_pool *p, unsigned k)
{
    while (k--)
        pthread_cond_signal(&p->work_cv);
}

/*
 * Get one more worker going on the run (mu held): wake an idle one, else
 * start a thread in a free slot. Returns false when neither is possible.
 */
static bool add_worker(statfs_pool *p)
{
    for (unsigned i = 0; i < p->nworkers; i++) {
        if (p->w[i].state == W_IDLE) {
            /* signalled by wake_workers: a worker woken while the owner
             * still holds mu would only block on it again */
            p->to_wake++;
            return true;
        }
    }
    for (unsigned i = 0; i < p->nworkers; i++)
        if (p->w[i].state == W_NONE)
            return start_worker(p, &p->w[i]) == 0;
    return false;
}

static void abs_ms(uint64_t at_ms, struct timespec *ts)
{
    /* CLOCK_MONOTONIC, like vg_now_ms and the condvars */
    ts->tv_sec = (time_t)(at_ms / 1000u);
    ts->tv_nsec = (long)(at_ms % 1000u) * 1000000L;
}

/*
 * Wait for the published run (mu held) until every job is resolved, or
 * until until_ms (0 = no such limit): -EINPROGRESS, the run stays published
 * and the workers go on. On 0 the run is closed: no worker can still write
 * into its jobs.
 */
static int run_wait(statfs_pool *p, uint64_t timeout_ms, uint64_t deadline_ms,
                    uint64_t until_ms)
{
    size_t n = p->njobs;
    while (p->resolved < n) {
        uint64_t now = vg_now_ms();
        /* A call that starts from now on ends no earlier than now + timeout. */
        uint64_t wake = now + (timeout_ms ? timeout_ms : 1);
        unsigned busy = 0, fresh = 0;
        for (unsigned i = 0; i < p->nworkers; i++) {
            worker *w = &p->w[i];
            if (w->state != W_BUSY)
                continue;
            uint64_t end = w->started_ms + timeout_ms;
            if (deadline_ms && deadline_ms < end)
                end = deadline_ms;
            if (now >= end) {
                w->state = W_STUCK; /* keeps its slot until the call returns */
                resolve(p, w->job, -ETIMEDOUT);
                continue;
            }
            busy++;
            fresh += now - w->started_ms < POOL_SLOW_MS;
            if (end < wake)
                wake = end;
        }
        if (deadline_ms && now >= deadline_ms) {
            while (p->next < n)
                resolve(p, p->next++, -ETIMEDOUT);
        }
        if (p->next < n) {
            /* Calls left: if nobody is making quick progress, add a worker
             * (within the cap); if every slot is stuck, answer them now. */
            if (!fresh && !add_worker(p) && !busy) {
                bool any_slot = false;
                for (unsigned i = 0; i < p->nworkers; i++)
                    any_slot |= p->w[i].state == W_NONE;
                int rc = any_slot ? -EAGAIN : -EBUSY;
                while (p->next < n)
                    resolve(p, p->next++, rc);
            }
            if (now + POOL_SLOW_MS < wake)
                wake = now + POOL_SLOW_MS;
        }
        if (p->resolved >= n)
            break;
        if (until_ms && now >= until_ms)
            return -EINPROGRESS;
        if (deadline_ms && deadline_ms < wake)
            wake = deadline_ms;
        if (until_ms && until_ms < wake)
            wake = until_ms;
        struct timespec ts;
        abs_ms(wake, &ts);
        wake_workers(p, take_wakes(p)); /* we let mu go right away */
        pthread_cond_timedwait(&p->done_cv, &p->mu, &ts);
    }
    /* Workers still W_BUSY here would write into jobs after we return. */
    for (unsigned i = 0; i < p->nworkers; i++)
        if (p->w[i].state == W_BUSY)
            p->w[i].state = W_STUCK;
    p->jobs = NULL;
    p->njobs = 0;
    p->next = 0;
    return 0;
}

int statfs_pool_start(statfs_pool *p, statfs_job *jobs, size_t n, uint64_t timeout_ms,
                      uint64_t deadline_ms, uint64_t until_ms)
{
    if (n == 0)
        return 0;
    pthread_mutex_lock(&p->mu);
    p->jobs = jobs;
    p->njobs = n;
    p->next = 0;
    p->resolved = 0;
    for (size_t i = 0; i < n; i++)
        jobs[i].rc = -EINPROGRESS;
    add_worker(p);
    int rc = run_wait(p, timeout_ms, deadline_ms, until_ms);
    unsigned k = take_wakes(p);
    pthread_mutex_unlock(&p->mu);
    wake_workers(p, k);
    return rc;
}

int statfs_pool_resume(statfs_pool *p, uint64_t timeout_ms, uint64_t deadline_ms,
                       uint64_t until_ms)
{
    pthread_mutex_lock(&p->mu);
    int rc = p->jobs ? run_wait(p, timeout_ms, deadline_ms, until_ms) : 0;
    unsigned k = take_wakes(p);
    pthread_mutex_unlock(&p->mu);
    wake_workers(p, k);
    return rc;
}

void statfs_pool_run(statfs_pool *p, statfs_job *jobs, size_t n, uint64_t timeout_ms,
                     uint64_t deadline_ms)
{
    statfs_pool_start(p, jobs, n, timeout_ms, deadline_ms, 0);
}

void statfs_pool_stats_get(statfs_pool *p, statfs_pool_stats *out)
{
    statfs_pool_stats s = {p->nworkers, 0, 0};
    pthread_mutex_lock(&p->mu);
    for (unsigned i = 0; i < p->nworkers; i++) {
        s.threads += p->w[i].state != W_NONE;
        s.stuck += p->w[i].state == W_STUCK;
    }
    pthread_mutex_unlock(&p->mu);
    *out = s;
}

void statfs_pool_free(statfs_pool *p)
{
    if (!p)
        return;
    bool join[POOL_MAX_WORKERS];
    pthread_mutex_lock(&p->mu);
    p->shutdown = true;
    /* A run left in flight (statfs_pool_start gave -EINPROGRESS and no
     * resume came): its jobs array goes away with the caller. */
    for (unsigned i = 0; i < p->nworkers; i++)
        if (p->w[i].state == W_BUSY)
            p->w[i].state = W_STUCK;
    p->jobs = NULL;
    p->njobs = 0;
    for (unsigned i = 0; i < p->nworkers; i++)
        join[i] = p->w[i].state == W_IDLE;
    pthread_cond_broadcast(&p->work_cv);
    unsigned n = p->nworkers;
    pthread_t tids[POOL_MAX_WORKERS];
    bool started[POOL_MAX_WORKERS];
    for (unsigned i = 0; i < n; i++) {
        tids[i] = p->w[i].tid;
        started[i] = p->w[i].state != W_NONE;
    }
    pthread_mutex_unlock(&p->mu);
    /* Our reference keeps p alive while we walk the slots. */
    for (unsigned i = 0; i < n; i++) {
        if (!started[i])
            continue;
        if (join[i])
            pthread_join(tids[i], NULL);
        else
            pthread_detach(tids[i]);
    }
    pthread_mutex_lock(&p->mu);
    bool last = --p->refs == 0;
    pthread_mutex_unlock(&p->mu);
    if (last)
        pool_destroy(p);
}
