/*
 * ks_sim.h - the kubesim context shared by the server, the API handlers,
 * the controllers, the scenario player and the fault injector, plus the
 * error type every API operation reports through (rendered as a
 * kind: Status object).
 *
 * Threads: one per client connection (ks_server), one controller loop
 * (ks_ctrl), one scenario player, one load churner. Object state is in
 * st (its own mutex); auth state has auth_mu; faults have their own lock.
 */
#ifndef KS_SIM_H
#define KS_SIM_H

#include <json-c/json.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "ks_store.h"
#include "ks_tls.h"
#include "vg_log.h"

/* ---- errors ---- */
typedef struct ks_err {
    int code;              /* HTTP status */
    char reason[48];       /* NotFound, AlreadyExists, Conflict, Invalid, ... */
    char message[1024];
    char name[256];
    char group[128];
    char kind[128];
    char cause_type[64];   /* details.causes[0] */
    char cause_field[256];
    char cause_msg[512];
    int retry_after;       /* seconds; 0 none */
    char continue_tok[512];/* fresh token for 410 on expired continue */
} ks_err;

void ks_err_set(ks_err *e, int code, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* details{name, group, kind} from a type. */
void ks_err_target(ks_err *e, const ks_rtype *rt, const char *name);
void ks_err_cause(ks_err *e, const char *type, const char *field, const char *msg);
/* The Status object (caller owns). */
json_object *ks_err_status(const ks_err *e);
/* A Success Status for deletes of things without a body. */
json_object *ks_status_success(const char *name, const char *group, const char *kind, const char *uid);

/* ---- faults ---- */
enum {
    KS_F_STATUS = 1,       /* answer with code (429/500/503/504) */
    KS_F_RESET_MID_EVENT,  /* watch: cut the connection inside an event */
    KS_F_SPLIT,            /* watch: each event split over several chunks */
    KS_F_COALESCE,         /* watch: several events per chunk */
    KS_F_STREAM_410,       /* watch: ERROR 410 Expired in the stream, then end */
    KS_F_SLOW,             /* watch/list: delay_ms between writes */
    KS_F_END_EARLY,        /* watch: clean end after after_events events */
};

typedef struct ks_fault {
    int kind;
    int code;
    int retry_after;
    char resource[128];    /* "" = any */
    char verb[32];         /* "" = any; get list watch create update patch delete deletecollection */
    char user[128];        /* "" = any; a client certificate's CN, or "kubesim-token" for bearer tokens */
    int count;             /* remaining firings; -1 = unlimited */
    double probability;    /* 0..1, default 1 */
    int after_events;
    int delay_ms;
    uint64_t fired;
} ks_fault;

#define KS_MAX_FAULTS 64

typedef struct ks_faults {
    pthread_mutex_t mu;
    ks_fault rules[KS_MAX_FAULTS];
    int n;
    uint64_t rng;
    uint64_t fired_total;
} ks_faults;

/* ---- the simulator ---- */
typedef struct ks_sim {
    ks_store st;
    ks_faults faults;
    vg_log *log;
    ks_pki pki;
    SSL_CTX *ssl;
    char host[256];
    int port;
    int listen_fd;
    /* settings */
    int pod_start_ms;         /* Pending -> Running */
    int pod_ready_ms;         /* Running -> Ready */
    int pod_delete_ms;        /* graceful pod deletion takes this long */
    int too_large_wait_ms;    /* wait before 504 for a future RV */
    int continue_ttl_s;       /* continue tokens expire after this */
    int token_grace_s;
    int bookmark_ms;          /* idle time before a watch bookmark */
    int load_mode;
    uint64_t seed;
    /* auth */
    pthread_mutex_t auth_mu;
    char token[80];
    char old_token[80];
    long long old_until_ms;   /* monotonic ms */
    char token_file[1024];
    char kubeconfig[1024];
    volatile int stop;
    struct ks_ctrl *ctrl;     /* for scripted pod state (forced NotReady) */
    time_t started;
    uint64_t requests;        /* counted under auth_mu */
} ks_sim;

/* Bearer token check; 1 valid. */
int ks_sim_token_ok(ks_sim *s, const char *tok);
/* New token; the old stays valid for token_grace_s. Rewrites token file. */
int ks_sim_rotate_token(ks_sim *s);
/* Same with a given token (NULL = new random one). */
int ks_sim_set_token(ks_sim *s, const char *tok);
/* Write kubeconfig (and the token file when configured). 0 or -errno. */
int ks_sim_write_kubeconfig(ks_sim *s);

#endif
