/*
 * op_stopguard.h - a deadline on the operator's stop.
 *
 * Stopping joins threads that sit in library calls (libcurl transfers,
 * libwebsockets' poll, the lease release); each is woken by its own means
 * (cancel flags polled by progress callbacks, lws_cancel_service, condition
 * variables). A wake-up that a library loses would leave the process
 * running after SIGTERM until Kubernetes kills it at
 * terminationGracePeriodSeconds (a rollout waits that long; a test waits
 * for its timeout). The guard bounds it: unless op_stopguard_end comes
 * before the deadline, it logs the step the stop is stuck in and ends the
 * process with _exit.
 *
 * Threading: one thread per guard; op_stopguard_step may be called from
 * any thread.
 */
#ifndef OP_STOPGUARD_H
#define OP_STOPGUARD_H

#include "vg_log.h"

typedef struct op_stopguard op_stopguard;

typedef struct op_stopguard_opts {
    double deadline_s;   /* from op_stopguard_start; > 0 */
    int exit_code;       /* of the forced exit */
    vg_log *log;
    /* NULL: log an error naming the step, then _exit(exit_code). Tests
     * pass their own (called once, on the guard's thread). */
    void (*on_expire)(void *ud, const char *step);
    void *ud;
} op_stopguard_opts;

/* Arm the deadline. 0, -EINVAL (deadline_s <= 0), -ENOMEM or -errno of
 * pthread_create. */
int op_stopguard_start(const op_stopguard_opts *o, op_stopguard **out);

/* Name what the stop waits on now (a string that outlives the guard). */
void op_stopguard_step(op_stopguard *g, const char *step);

/* The stop finished: disarm, join and free. NULL is a no-op. */
void op_stopguard_end(op_stopguard *g);

#endif
