/*
 * statfs_pool.h - statfs(2) with a timeout, on a bounded pool of threads.
 *
 * statfs on a hung NFS or FUSE mount blocks in the kernel and cannot be
 * interrupted, so it must never run on the collection thread. The pool
 * runs each call on a worker thread and gives up waiting after a per-call
 * timeout; the worker stays blocked ("stuck") and keeps its slot until the
 * kernel lets it go, so a hung mount costs at most one thread, never one
 * per scrape. While a path has a stuck worker it is not tried again: it is
 * answered -EBUSY at once. When every slot is stuck, all remaining calls
 * are answered -EBUSY at once. The thread count never exceeds the worker
 * count given at creation.
 *
 * Thread model: see struct statfs_pool in statfs_pool.c. One owner thread
 * (the collection thread, or the loop for statfs_pool_start) calls
 * statfs_pool_run / _start / _resume; workers only run the
 * statfs function and hand back the result under the pool mutex.
 */
#ifndef STATFS_POOL_H
#define STATFS_POOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/vfs.h>

/* The call the pool makes; replaceable so tests can block on demand.
 * Returns 0 or -errno. Runs on a worker thread. */
typedef int (*statfs_pool_fn)(const char *path, struct statfs *out, void *ud);

typedef struct statfs_pool statfs_pool;

/* One call to make. path is read only during statfs_pool_run. */
typedef struct statfs_job {
    const char *path;
    int rc;              /* out: 0; -errno from statfs; -ETIMEDOUT (gave up
                            waiting now); -EBUSY (still stuck from an earlier
                            run, or every slot is stuck); -EAGAIN (no thread) */
    struct statfs st;    /* out, valid when rc == 0 */
} statfs_job;

/* workers >= 1 (capped at 64). Threads start lazily, on first need.
 * 0 or -ENOMEM/-EINVAL. */
int statfs_pool_new(unsigned workers, statfs_pool **out);

/*
 * Give the pool up. Never blocks on a stuck worker: idle workers are
 * joined, stuck ones are detached and the last thread out frees the
 * shared state. NULL is a no-op.
 */
void statfs_pool_free(statfs_pool *p);

/* Replace the statfs function (tests); NULL restores statfs(2). Calls
 * already running keep the function they started with. */
void statfs_pool_set_fn(statfs_pool *p, statfs_pool_fn fn, void *ud);

/*
 * Run every job and return when each has an rc. A call that has not
 * returned timeout_ms after it started, or by deadline_ms (monotonic ms,
 * as vg_now_ms; 0 = none), is answered -ETIMEDOUT and its worker is left
 * stuck. Calls not started by the deadline are answered -ETIMEDOUT.
 * Only one thread may call this at a time.
 */
void statfs_pool_run(statfs_pool *p, statfs_job *jobs, size_t n, uint64_t timeout_ms,
                     uint64_t deadline_ms);

/*
 * statfs_pool_run in two steps, for an owner that must not wait long (the
 * event loop thread): as statfs_pool_run, but when until_ms (monotonic,
 * 0 = none) passes with calls unresolved, return -EINPROGRESS and leave
 * the run going; then statfs_pool_resume (from any one thread) waits on,
 * with the same timeout rules, and jobs must stay valid until one of them
 * returns 0. Per-call timeouts still count from when each call started.
 */
int statfs_pool_start(statfs_pool *p, statfs_job *jobs, size_t n, uint64_t timeout_ms,
                      uint64_t deadline_ms, uint64_t until_ms);
/* 0 at once when no run is in flight. */
int statfs_pool_resume(statfs_pool *p, uint64_t timeout_ms, uint64_t deadline_ms,
                       uint64_t until_ms);

typedef struct statfs_pool_stats {
    unsigned workers;     /* the cap */
    unsigned threads;     /* threads alive now */
    unsigned stuck;       /* workers still inside a call that timed out */
} statfs_pool_stats;

void statfs_pool_stats_get(statfs_pool *p, statfs_pool_stats *out);

#endif
