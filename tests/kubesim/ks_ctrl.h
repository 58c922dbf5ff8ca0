/*
 * ks_ctrl.h - the in-process controllers that make kubesim behave like a
 * cluster: deployment -> replicaset -> pods (template hash, rollouts,
 * scale), statefulset ordinal pods, daemonset pods per node, a scheduler
 * binding pods to schedulable Ready nodes, a kubelet moving pods
 * Pending -> Running -> Ready after configurable delays and finishing
 * graceful deletions, PDB status, owner-reference garbage collection
 * (background, foreground, orphan) and namespace termination.
 *
 * One thread runs ks_ctrl_tick every period; each tick takes the store
 * lock once. The world changes scripted by scenarios (container crash,
 * pod/node NotReady) are functions here too.
 */
#ifndef KS_CTRL_H
#define KS_CTRL_H

#include "ks_sim.h"

typedef struct ks_ctrl {
    ks_sim *sim;
    pthread_t thread;
    int running;
    int period_ms;
    /* pod uid -> time (ms, monotonic) of the next lifecycle step */
    struct ks_pending *pending;
    size_t npending, cap;
    uint64_t name_seq;
    uint64_t gc_deletes;     /* store deletes counter at the last GC pass */
    long long last_pod_scan; /* ms; load mode scans pods every 5 s */
    long long last_lease;    /* ms; node leases are renewed every 10 s */
} ks_ctrl;

int ks_ctrl_start(ks_ctrl *c, ks_sim *s, int period_ms);
void ks_ctrl_stop(ks_ctrl *c);
/* One reconcile pass (store lock held). Exposed for tests. */
void ks_ctrl_tick_locked(ks_ctrl *c);

/* PDB status computed from current pods (new object, caller owns). */
json_object *ks_ctrl_pdb_status_locked(ks_sim *s, json_object *pdb);
/* Is the pod Ready (condition Ready=True)? */
int ks_pod_is_ready(json_object *pod);

/* Scripted world changes. 0 or -ENOENT. */
int ks_ctrl_crash_container_locked(ks_sim *s, const char *ns, const char *pod, const char *container,
                                   const char *reason, int exit_code);
int ks_ctrl_pod_ready_locked(ks_sim *s, const char *ns, const char *pod, int ready);
int ks_ctrl_node_ready_locked(ks_sim *s, const char *node, int ready);
/* Create a Ready node named name (labels may be NULL). */
int ks_ctrl_add_node_locked(ks_sim *s, const char *name, json_object *labels, int ready);

long long ks_now_ms(void);

#endif
