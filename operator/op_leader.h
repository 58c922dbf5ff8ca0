/*
 * op_leader.h - leader election on a coordination.k8s.io/v1 Lease, with
 * client-go's algorithm and defaults.
 *
 * Every retry period (2 s, times a jitter up to 1.2 while acquiring) the
 * elector reads the Lease. A lease held by someone else is respected while
 * (local time we last saw its record change) + leaseDurationSeconds is in
 * the future: only our own clock is trusted, never the renewTime written by
 * another machine. Taking over bumps leaseTransitions. A leader that has
 * not renewed for renew_deadline (10 s) steps down; lease duration (15 s)
 * > renew deadline means it stops before anyone else may start. Writes are
 * PUTs with the resourceVersion read, so losing a race is a 409 and simply
 * a failed round. On op_leader_stop a leader releases the lease (empty
 * holder) so a standby takes over at once.
 *
 * Threading: the elector runs its own thread; callbacks run on it and must
 * be quick. leader_election_master_status{name} is 1 while leading.
 */
#ifndef OP_LEADER_H
#define OP_LEADER_H

#include <stdbool.h>

#include "kube/kube_client.h"
#include "vg_log.h"
#include "vg_metrics.h"

typedef struct op_leader op_leader;

typedef struct op_leader_opts {
    const char *ns;                 /* lease namespace */
    const char *name;               /* lease name */
    const char *identity;           /* this replica; unique */
    double lease_duration_s;        /* 0 = 15 */
    double renew_deadline_s;        /* 0 = 10 */
    double retry_period_s;          /* 0 = 2 */
    void (*on_started)(void *ud);   /* became leader */
    void (*on_stopped)(void *ud);   /* lost (or released) leadership */
    void (*on_new_leader)(void *ud, const char *identity);
    void *ud;
    vg_log *log;
    vg_registry *reg;               /* leader_election_master_status; may be NULL */
} op_leader_opts;

/* c is borrowed. 0, -EINVAL (missing name/identity, renew >= duration), -ENOMEM. */
int op_leader_new(kube_client *c, const op_leader_opts *o, op_leader **out);
int op_leader_start(op_leader *l);
/* Stop the loop; a leader releases the lease first. Joins the thread. */
void op_leader_stop(op_leader *l);
void op_leader_free(op_leader *l);
bool op_leader_is_leader(op_leader *l);
/* The holder last observed ("" unknown); copies into out. */
void op_leader_holder(op_leader *l, char *out, size_t outlen);

/* Build the Lease JSON (exposed for tests). rv may be NULL (create). */
int op_leader_lease_json(vg_buf *out, const char *ns, const char *name, const char *rv, const char *holder,
                         int duration_s, int64_t acquire_us, int64_t renew_us, int transitions);

#endif
