/*
 * kube_client.h - REST client for the Kubernetes API over libcurl.
 *
 * What it adds over a bare HTTP call, following client-go:
 *  - credentials from kube_config on every request (token rotation; a 401
 *    invalidates the token and the request is retried once with a fresh one);
 *  - TLS material handed to libcurl as in-memory blobs;
 *  - a client-side token-bucket rate limit (qps/burst), shared by all
 *    threads using the client;
 *  - Retry-After honoured on 429 and 5xx, at most max_retries times;
 *  - HTTP/2 where the server offers it (ALPN), with connections, DNS and TLS
 *    sessions shared between requests and threads (a CURLSH);
 *  - rest_client_requests_total{code,method,host} and
 *    rest_client_request_duration_seconds{verb,host} (client-go's names);
 *  - errors decoded from Status bodies (kube_status.h).
 *
 * Thread safety: every function may be called from any thread at the same
 * time; each call uses its own libcurl easy handle. kube_client_stop makes
 * every waiting or running call (rate limit, Retry-After sleep, request,
 * stream) return -ECANCELED promptly; it cannot be undone.
 */
#ifndef KUBE_CLIENT_H
#define KUBE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kube_config.h"
#include "kube_status.h"
#include "vg_buf.h"
#include "vg_log.h"
#include "vg_metrics.h"

typedef struct kube_client kube_client;

typedef struct kube_client_opts {
    const char *user_agent;   /* NULL = "vigil/VERSION" */
    double qps;               /* 0 = 5 (client-go's default) */
    int burst;                /* 0 = 10 */
    int max_retries;          /* Retry-After retries; 0 = 10, <0 = none */
    double max_retry_wait_s;  /* cap on one Retry-After sleep; 0 = 30 */
    unsigned timeout_ms;      /* whole request (not streams); 0 = 60000 */
    size_t max_body;          /* response cap; 0 = 512 MiB */
    vg_registry *reg;         /* rest_client_* families; NULL = none */
} kube_client_opts;

/* A group/version/resource. group "" is the core API (/api/v1). */
typedef struct kube_gvr {
    const char *group;
    const char *version;
    const char *resource;     /* plural: "pods" */
    bool namespaced;
} kube_gvr;

extern const kube_gvr kube_gvr_pods, kube_gvr_nodes, kube_gvr_deployments, kube_gvr_statefulsets,
    kube_gvr_leases, kube_gvr_events;

/* A response. Caller's storage: kube_resp_init before, kube_resp_release after. */
typedef struct kube_resp {
    long code;               /* HTTP status; 0 when none arrived */
    vg_buf body;
    kube_status status;      /* decoded from body when code is not 2xx */
    double retry_after_s;    /* Retry-After header of the last answer, 0 = none */
    int retries;             /* Retry-After retries this call made */
    char error[256];         /* transport error text when code == 0 */
} kube_resp;

void kube_resp_init(kube_resp *r);
void kube_resp_release(kube_resp *r);

/*
 * Create a client. cfg is borrowed and must outlive the client. 0, -ENOMEM
 * or -EINVAL (bad server URL).
 */
int kube_client_new(kube_config *cfg, const kube_client_opts *opts, kube_client **out);
void kube_client_free(kube_client *c);
void kube_client_stop(kube_client *c);
bool kube_client_stopped(const kube_client *c);
kube_config *kube_client_config(kube_client *c);
/* "host:port" of the server (the metrics' host label). */
const char *kube_client_host(const kube_client *c);
const char *kube_client_user_agent(const kube_client *c);

/*
 * Build "/api/v1/namespaces/NS/pods/NAME/SUB" (or /apis/G/V/...) into out
 * (replacing it). ns/name/sub may be NULL; ns is ignored for cluster
 * resources. Path segments are percent-escaped. 0 or -ENOMEM/-EINVAL.
 */
int kube_path(vg_buf *out, const kube_gvr *r, const char *ns, const char *name, const char *sub);
/* Append "&key=value" (no '&' when q is empty), value percent-escaped. */
int kube_query_add(vg_buf *q, const char *key, const char *value);

/* One raw request. */
typedef struct kube_req {
    const char *method;        /* GET POST PUT PATCH DELETE */
    const char *path;          /* from kube_path */
    const char *query;         /* without '?'; NULL/"" = none */
    const char *content_type;  /* for a body; NULL = application/json */
    const void *body;
    size_t body_len;
    const char *verb;          /* metric verb (LIST, WATCH...); NULL = method */
    double deadline_s;         /* CLOCK_MONOTONIC seconds (kube_mono_s); 0 = none. The
                                * rate-limit wait, the request and Retry-After retries all
                                * end by then (-ETIMEDOUT): a leader's renewal must not
                                * outlive its renew deadline */
    volatile int *cancel;      /* NULL, or the caller's stop flag: once non-zero the
                                * request, its rate-limit and Retry-After waits end
                                * within about a second with -ECANCELED (an elector's
                                * stop must not wait out a stalled server) */
} kube_req;

/* CLOCK_MONOTONIC in seconds, the clock of kube_req.deadline_s. */
double kube_mono_s(void);

/*
 * Perform req (rate limited; 401 and Retry-After retries as above).
 * Returns 0 on 2xx; for an API error kube_status_errno(code, reason) with
 * resp->code/status set; for transport failures -ECONNREFUSED,
 * -EHOSTUNREACH, -ETIMEDOUT, -EPROTO (TLS), -EFBIG (body over max_body),
 * -EIO, or -ECANCELED after kube_client_stop or once *req->cancel is set
 * (resp->error says more).
 */
int kube_client_do(kube_client *c, const kube_req *req, kube_resp *resp);

/* ---- typed helpers (all return as kube_client_do) ---- */

int kube_get(kube_client *c, const kube_gvr *r, const char *ns, const char *name, const char *sub,
             kube_resp *resp);
int kube_create(kube_client *c, const kube_gvr *r, const char *ns, const char *name, const char *sub,
                const char *json, size_t len, kube_resp *resp);
/* PUT; a stale metadata.resourceVersion gives -ESTALE (409 Conflict). */
int kube_update(kube_client *c, const kube_gvr *r, const char *ns, const char *name, const char *sub,
                const char *json, size_t len, kube_resp *resp);

typedef enum {
    KUBE_PATCH_MERGE = 0,      /* application/merge-patch+json */
    KUBE_PATCH_STRATEGIC,      /* application/strategic-merge-patch+json */
    KUBE_PATCH_JSON,           /* application/json-patch+json */
    KUBE_PATCH_APPLY,          /* application/apply-patch+yaml (server-side apply) */
} kube_patch_type;

/* field_manager is required for APPLY (-EINVAL otherwise); force only for APPLY. */
int kube_patch(kube_client *c, const kube_gvr *r, const char *ns, const char *name, const char *sub,
               kube_patch_type type, const char *patch, size_t len, const char *field_manager, bool force,
               kube_resp *resp);
/* body: optional DeleteOptions JSON (NULL = none). */
int kube_delete(kube_client *c, const kube_gvr *r, const char *ns, const char *name, const char *body,
                kube_resp *resp);
/* POST a policy/v1 Eviction for a pod; blocked by a PDB -> -EBUSY (429). */
int kube_evict(kube_client *c, const char *ns, const char *name, kube_resp *resp);

/* ---- lists ---- */

typedef struct kube_list_opts {
    unsigned limit;               /* page size; 0 = 500 */
    const char *resource_version; /* first page; NULL = most recent, "0" = any */
    const char *label_selector;
    const char *field_selector;
} kube_list_opts;

/* Called for every item's raw JSON (valid during the call only). Return
 * 0 to go on, a negative errno to stop the list with that code. */
typedef int (*kube_item_fn)(void *ud, const char *json, size_t len);
/* Called when a list restarts from scratch (expired continue token): the
 * items delivered so far are void. */
typedef void (*kube_restart_fn)(void *ud);

/*
 * List every page. An expired continue token (410) restarts the whole
 * list with the RV unset, at most 3 times. rv_out (may be NULL, >= 64
 * bytes) gets the list's resourceVersion. A malformed page is -EBADMSG.
 */
int kube_list(kube_client *c, const kube_gvr *r, const char *ns, const kube_list_opts *o, kube_item_fn item,
              kube_restart_fn restart, void *ud, char *rv_out, size_t rv_len, kube_resp *resp);

/*
 * Parse one list page: calls item for each element of "items", returns
 * metadata.resourceVersion and metadata.continue. Exposed for tests/fuzzing.
 */
int kube_list_page_parse(const char *json, size_t len, kube_item_fn item, void *ud, vg_buf *rv,
                         vg_buf *cont);

/* ---- streams (watch over HTTP) ---- */

/*
 * Body callback of a stream: called with each chunk of a 2xx body as it
 * arrives. Return 0 to continue, non-zero to end the stream (the stream
 * call then returns that value if negative, or 0). After a network read
 * that delivered one or more chunks it is called once more with data NULL
 * and len 0: the end of a burst (the server's HTTP chunks are often one
 * event each, so a burst is the useful unit for batching).
 */
typedef int (*kube_stream_fn)(void *ud, const char *data, size_t len);

/*
 * Open a long GET (watch): the same auth, TLS, rate limit and metrics as
 * kube_client_do, but no whole-request timeout (idle_timeout_s bounds a
 * silent connection) and no Retry-After loop. A non-2xx answer is read
 * whole into resp and returned as an API error. *cancel (may be NULL) is
 * polled about every 200 ms: non-zero ends the stream with -ECANCELED.
 */
int kube_client_stream(kube_client *c, const kube_req *req, kube_stream_fn fn, void *ud,
                       unsigned idle_timeout_s, volatile int *cancel, kube_resp *resp);

/* Record one request in the rest_client_* metrics (used by the WebSocket watch). */
void kube_client_observe(kube_client *c, const char *verb, long code, double seconds);
/* Take one rate-limiter token (blocking; -ECANCELED after stop). */
int kube_client_ratelimit_wait(kube_client *c);

#endif
