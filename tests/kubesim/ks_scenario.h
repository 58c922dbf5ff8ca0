/*
 * ks_scenario.h - scenario files (YAML) that script the simulated world:
 *
 *   settings: {podStartMs: 300, podReadyMs: 300, historySize: 2000}
 *   nodes: [{name: n1, labels: {zone: a}}, {count: 3, prefix: worker-}]
 *   objects: [ <any Kubernetes object> ... ]        # created at start
 *   faults:  [ <fault rule, see ks_fault.h> ... ]
 *   events:                                          # over time
 *     - at: 2s                                       # ms, s or m suffix
 *       action: crash | pod-ready | pod-not-ready | node-ready | node-not-ready |
 *               create | delete | fault | compact | restart | rotate-token
 *       namespace: default
 *       pod: web-0            # crash/pod-*; node: n1 for node-*
 *       container: app        # crash: default the first container
 *       reason: OOMKilled     # crash: last termination reason (exitCode 137)
 *       count: 3              # crash: how many restarts
 *       object: {...}         # create; delete takes apiVersion/kind/name
 *       fault: {...}          # fault
 *
 * One player thread runs the timed events. The same action objects are
 * accepted by POST /_sim/action.
 */
#ifndef KS_SCENARIO_H
#define KS_SCENARIO_H

#include "ks_sim.h"

typedef struct ks_scenario {
    ks_sim *sim;
    json_object *doc;      /* whole scenario (owned) */
    pthread_t thread;
    int running;
} ks_scenario;

/* Load a file; apply settings (before the store exists). 0 or -errno (err). */
int ks_scenario_load(ks_scenario *sc, ks_sim *s, const char *path, char *err, size_t errlen);
/* Settings section → sim fields (history size returned in *history). */
void ks_scenario_settings(ks_scenario *sc, size_t *history);
/* Create nodes/objects and faults; start the event thread. */
int ks_scenario_start(ks_scenario *sc, char *err, size_t errlen);
void ks_scenario_stop(ks_scenario *sc);

/* Run one action object now. 0 or -errno with err filled. */
int ks_scenario_action(ks_sim *s, json_object *action, char *err, size_t errlen);

#endif
