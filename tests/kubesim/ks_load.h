/*
 * ks_load.h - load mode: `--load nodes=5000,pods=150000,churn=N` fills the
 * store with Ready nodes and Running pods spread over namespaces, then a
 * churn thread modifies N pods per second (an annotation counter), each
 * one a MODIFIED watch event. Objects are built and stored directly (not
 * through ks_ops) so startup stays quick; they look like controller-made
 * pods.
 */
#ifndef KS_LOAD_H
#define KS_LOAD_H

#include "ks_sim.h"

typedef struct ks_load {
    ks_sim *sim;
    long long nodes, pods, churn;
    int namespaces;
    pthread_t thread;
    int running;
    uint64_t churned;
} ks_load;

/* Parse "nodes=5000,pods=150000,churn=1000". 0 or -EINVAL (err). */
int ks_load_parse(ks_load *l, const char *spec, char *err, size_t errlen);
/* Populate (store lock taken inside) and start churning. */
int ks_load_start(ks_load *l, ks_sim *s);
void ks_load_stop(ks_load *l);

#endif
