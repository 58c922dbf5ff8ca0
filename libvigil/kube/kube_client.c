/*
 * kube_client.c - Kubernetes REST over libcurl: auth, TLS blobs, rate
 * limit, Retry-After, 401 token refresh, paged lists, long streams.
 *
 * One easy handle per call keeps threads independent; the CURLSH shares
 * the connection pool, DNS cache and TLS sessions so the cost of a new
 * handle is a struct, not a handshake.
 *
 * No CURLOPT_PIPEWAIT: every call runs in its own curl_easy_perform (its
 * own multi), so a handle told to wait for a busy shared connection to
 * offer HTTP/2 streams is never woken by the other multi and one watch
 * starves the rest. Each long watch gets its own connection instead.
 */
#include "kube_client.h"

#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kube_json.h"

const kube_gvr kube_gvr_pods = {"", "v1", "pods", true};
const kube_gvr kube_gvr_nodes = {"", "v1", "nodes", false};
const kube_gvr kube_gvr_events = {"events.k8s.io", "v1", "events", true};
const kube_gvr kube_gvr_deployments = {"apps", "v1", "deployments", true};
const kube_gvr kube_gvr_statefulsets = {"apps", "v1", "statefulsets", true};
const kube_gvr kube_gvr_leases = {"coordination.k8s.io", "v1", "leases", true};

#define STREAM_ERR_BODY_MAX (1u << 20)

struct kube_client {
    kube_config *cfg;
    char *ua;
    char host[256];
    double qps;
    double burst;
    int max_retries;
    double max_retry_wait_s;
    unsigned timeout_ms;
    size_t max_body;

    CURLSH *share;
    pthread_mutex_t share_mu[CURL_LOCK_DATA_LAST];

    /* rate limiter and stop, guarded by mu; cond wakes sleepers on stop */
    pthread_mutex_t mu;
    pthread_cond_t cond;
    double tokens;
    double last_s;
    atomic_int stopped;

    vg_metric *m_requests;
    vg_metric *m_duration;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_global(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double kube_mono_s(void) { return mono_s(); }

void kube_resp_init(kube_resp *r)
{
    memset(r, 0, sizeof *r);
    vg_buf_init(&r->body);
}

void kube_resp_release(kube_resp *r) { vg_buf_release(&r->body); }

static void resp_reset(kube_resp *r)
{
    r->code = 0;
    vg_buf_reset(&r->body);
    kube_status_clear(&r->status);
    r->retry_after_s = 0;
    r->error[0] = '\0';
}

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access acc, void *ud)
{
    kube_client *c = ud;
    if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
        pthread_mutex_lock(&c->share_mu[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *ud)
{
    kube_client *c = ud;
    if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
        pthread_mutex_unlock(&c->share_mu[data]);
}

int kube_client_new(kube_config *cfg, const kube_client_opts *opts, kube_client **out)
{
    kube_client_opts def = {0};
    const kube_client_opts *o = opts ? opts : &def;
    pthread_once(&curl_once, curl_global);
    const char *server = kube_config_server(cfg);
    const char *h = strstr(server, "://");
    if (!h)
        return -EINVAL;
    h += 3;
    kube_client *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->cfg = cfg;
    size_t hl = strcspn(h, "/");
    snprintf(c->host, sizeof c->host, "%.*s", (int)hl, h);
    c->ua = strdup(o->user_agent ? o->user_agent : "vigil/" VG_VERSION);
    c->qps = o->qps > 0 ? o->qps : 5;
    c->burst = o->burst > 0 ? o->burst : 10;
    c->tokens = c->burst;
    c->last_s = mono_s();
    c->max_retries = o->max_retries == 0 ? 10 : (o->max_retries < 0 ? 0 : o->max_retries);
    c->max_retry_wait_s = o->max_retry_wait_s > 0 ? o->max_retry_wait_s : 30;
    c->timeout_ms = o->timeout_ms ? o->timeout_ms : 60000;
    c->max_body = o->max_body ? o->max_body : (512u << 20);
    pthread_mutex_init(&c->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cond, &ca);
    pthread_condattr_destroy(&ca);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&c->share_mu[i], NULL);
    c->share = curl_share_init();
    if (!c->ua || !c->share) {
        kube_client_free(c);
        return -ENOMEM;
    }
    curl_share_setopt(c->share, CURLSHOPT_LOCKFUNC, share_lock);
    curl_share_setopt(c->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
    curl_share_setopt(c->share, CURLSHOPT_USERDATA, c);
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    if (o->reg) {
        static const char *const rl[] = {"code", "method", "host"};
        static const char *const dl[] = {"verb", "host"};
        static const double buckets[] = {0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60};
        c->m_requests = vg_registry_add(o->reg, "rest_client_requests_total", VG_MT_COUNTER,
                                        "Number of HTTP requests, partitioned by status code, method, and host.",
                                        3, rl, NULL, 0, 200);
        c->m_duration = vg_registry_add(o->reg, "rest_client_request_duration_seconds", VG_MT_HISTOGRAM,
                                        "Request latency in seconds. Broken down by verb, and host.", 2, dl,
                                        buckets, sizeof buckets / sizeof *buckets, 50);
    }
    *out = c;
    return 0;
}

void kube_client_free(kube_client *c)
{
    if (!c)
        return;
    if (c->share)
        curl_share_cleanup(c->share);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_destroy(&c->share_mu[i]);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cond);
    free(c->ua);
    free(c);
}

void kube_client_stop(kube_client *c)
{
    pthread_mutex_lock(&c->mu);
    atomic_store(&c->stopped, 1);
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->mu);
}

bool kube_client_stopped(const kube_client *c) { return atomic_load(&((kube_client *)c)->stopped) != 0; }
kube_config *kube_client_config(kube_client *c) { return c->cfg; }
const char *kube_client_host(const kube_client *c) { return c->host; }
const char *kube_client_user_agent(const kube_client *c) { return c->ua; }

static bool cancelled(kube_client *c, volatile int *cancel)
{
    return atomic_load(&c->stopped) || (cancel && *cancel);
}

/* Sleep up to s seconds; -ECANCELED when stopped (or *cancel set)
 * meanwhile. kube_client_stop wakes the sleeper; a caller's cancel flag
 * has no condition to signal, so it is looked at every 100 ms. */
static int nap(kube_client *c, double s, volatile int *cancel)
{
    double end = mono_s() + s;
    int rc = 0;
    pthread_mutex_lock(&c->mu);
    while (!cancelled(c, cancel)) {
        double now = mono_s();
        if (now >= end)
            break;
        double t = now + (cancel && end - now > 0.1 ? 0.1 : end - now);
        struct timespec ts = {(time_t)t, 0};
        ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
        pthread_cond_timedwait(&c->cond, &c->mu, &ts);
    }
    if (cancelled(c, cancel))
        rc = -ECANCELED;
    pthread_mutex_unlock(&c->mu);
    return rc;
}

int kube_client_ratelimit_wait(kube_client *c)
{
    pthread_mutex_lock(&c->mu);
    double now = mono_s();
    c->tokens = fmin(c->burst, c->tokens + (now - c->last_s) * c->qps);
    c->last_s = now;
    c->tokens -= 1; /* reserve: may go negative, the wait pays it back */
    double wait = c->tokens < 0 ? -c->tokens / c->qps : 0;
    pthread_mutex_unlock(&c->mu);
    if (atomic_load(&c->stopped))
        return -ECANCELED;
    return wait > 0 ? nap(c, wait, NULL) : 0;
}

void kube_client_observe(kube_client *c, const char *verb, long code, double seconds)
{
    if (!c->m_requests)
        return;
    char cs[24];
    if (code > 0)
        snprintf(cs, sizeof cs, "%ld", code);
    else
        snprintf(cs, sizeof cs, "<error>");
    const char *method = verb;
    /* client-go labels requests by HTTP method and latency by verb */
    if (strcmp(verb, "LIST") == 0 || strcmp(verb, "WATCH") == 0)
        method = "GET";
    const char *rv[] = {cs, method, c->host};
    vg_series_inc(vg_metric_with(c->m_requests, rv));
    const char *dv[] = {verb, c->host};
    vg_series_observe(vg_metric_with(c->m_duration, dv), seconds);
}

/* ---------------- paths and queries ---------------- */

static int put_escaped(vg_buf *b, const char *s, bool slash_ok)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                  ch == '-' || ch == '.' || ch == '_' || ch == '~' || (slash_ok && ch == '/');
        int rc = ok ? vg_buf_putc(b, (char)ch)
                    : vg_buf_append(b, (char[]){'%', hex[ch >> 4], hex[ch & 15]}, 3);
        if (rc)
            return rc;
    }
    return 0;
}

int kube_path(vg_buf *out, const kube_gvr *r, const char *ns, const char *name, const char *sub)
{
    vg_buf_reset(out);
    int rc;
    if (!r->version || !r->resource || !r->resource[0])
        return -EINVAL;
    if (!r->group || !r->group[0])
        rc = vg_buf_printf(out, "/api/%s", r->version);
    else
        rc = vg_buf_printf(out, "/apis/%s/%s", r->group, r->version);
    if (!rc && r->namespaced && ns && ns[0]) {
        rc = vg_buf_puts(out, "/namespaces/");
        if (!rc)
            rc = put_escaped(out, ns, false);
    }
    if (!rc)
        rc = vg_buf_printf(out, "/%s", r->resource);
    if (!rc && name && name[0]) {
        rc = vg_buf_putc(out, '/');
        if (!rc)
            rc = put_escaped(out, name, false);
    }
    if (!rc && sub && sub[0]) {
        if (!name || !name[0])
            return -EINVAL;
        rc = vg_buf_putc(out, '/');
        if (!rc)
            rc = put_escaped(out, sub, true);
    }
    return rc;
}

int kube_query_add(vg_buf *q, const char *key, const char *value)
{
    int rc = 0;
    if (q->len)
        rc = vg_buf_putc(q, '&');
    if (!rc)
        rc = put_escaped(q, key, false);
    if (!rc)
        rc = vg_buf_putc(q, '=');
    if (!rc)
        rc = put_escaped(q, value, false);
    return rc;
}

/* ---------------- one exchange ---------------- */

typedef struct xfer {
    kube_client *c;
    CURL *h;
    kube_resp *resp;
    size_t max;
    bool overflow;
    /* streams */
    kube_stream_fn fn;
    void *ud;
    int fn_rc;
    bool code_known;
    bool ok;
    bool delivered;     /* chunks given to fn since the last burst end */
    volatile int *cancel;
} xfer;

static size_t on_header(char *buf, size_t size, size_t n, void *ud)
{
    xfer *x = ud;
    size_t len = size * n;
    if (len > 12 && strncasecmp(buf, "Retry-After:", 12) == 0) {
        char tmp[32];
        size_t k = len - 12 < sizeof tmp - 1 ? len - 12 : sizeof tmp - 1;
        memcpy(tmp, buf + 12, k);
        tmp[k] = '\0';
        vg_slice s = vg_slice_trim((vg_slice){tmp, strlen(tmp)});
        uint64_t v;
        if (vg_parse_u64(s, &v) == 0)
            x->resp->retry_after_s = v > 3600 ? 3600 : (double)v;
    } else if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
        /* a new response (after a redirect or 100-continue): forget headers */
        x->resp->retry_after_s = 0;
    }
    return len;
}

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
    xfer *x = ud;
    size_t len = size * n;
    if (x->fn) {
        if (!x->code_known) {
            long code = 0;
            curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &code);
            x->code_known = true;
            x->ok = code >= 200 && code < 300;
        }
        if (x->ok) {
            x->delivered = true;
            int r = x->fn(x->ud, data, len);
            if (r) {
                x->fn_rc = r;
                return 0; /* aborts the transfer */
            }
            return len;
        }
    }
    if (x->resp->body.len + len > x->max) {
        x->overflow = true;
        return 0;
    }
    if (vg_buf_append(&x->resp->body, data, len)) {
        x->overflow = true;
        return 0;
    }
    return len;
}

static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    xfer *x = ud;
    /* libcurl calls this after each round of reading: a burst ends */
    if (x->delivered && !x->fn_rc) {
        x->delivered = false;
        int r = x->fn(x->ud, NULL, 0);
        if (r) {
            x->fn_rc = r;
            return 1;
        }
    }
    return cancelled(x->c, x->cancel) ? 1 : 0;
}

static int map_curl(CURLcode cc)
{
    switch (cc) {
    case CURLE_OK: return 0;
    case CURLE_COULDNT_CONNECT: return -ECONNREFUSED;
    case CURLE_COULDNT_RESOLVE_HOST: return -EHOSTUNREACH;
    case CURLE_OPERATION_TIMEDOUT: return -ETIMEDOUT;
    case CURLE_ABORTED_BY_CALLBACK: return -ECANCELED;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CLIENTCERT:
        return -EPROTO;
    case CURLE_OUT_OF_MEMORY: return -ENOMEM;
    default: return -EIO;
    }
}

/* Configure h for req with credentials cr. hdrs receives the header list
 * (freed by the caller). */
static int setup(kube_client *c, CURL *h, const kube_req *req, const kube_creds *cr, vg_buf *url,
                 struct curl_slist **hdrs, xfer *x, char *errbuf)
{
    vg_buf_reset(url);
    if (vg_buf_puts(url, kube_config_server(c->cfg)) || vg_buf_puts(url, req->path) ||
        (req->query && req->query[0] && (vg_buf_putc(url, '?') || vg_buf_puts(url, req->query))))
        return -ENOMEM;
    curl_easy_setopt(h, CURLOPT_URL, url->data);
    curl_easy_setopt(h, CURLOPT_SHARE, c->share);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, c->ua);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
    if (strcmp(req->method, "GET") == 0)
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    else if (strcmp(req->method, "DELETE") != 0 || req->body_len)
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    if (strcmp(req->method, "GET") != 0 && (req->body_len || strcmp(req->method, "DELETE") != 0))
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? (const char *)req->body : "");
    size_t calen;
    const void *ca = kube_config_ca(c->cfg, &calen);
    if (ca) {
        struct curl_blob b = {(void *)ca, calen, CURL_BLOB_NOCOPY};
        curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &b);
    }
    if (kube_config_insecure(c->cfg)) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (cr->cert.len) {
        struct curl_blob cb = {cr->cert.data, cr->cert.len, CURL_BLOB_COPY};
        struct curl_blob kb = {cr->key.data, cr->key.len, CURL_BLOB_COPY};
        curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
        curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cb);
        curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
        curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &kb);
    }
    struct curl_slist *l = NULL;
    l = curl_slist_append(l, "Accept: application/json");
    if (req->body_len || strcmp(req->method, "POST") == 0 || strcmp(req->method, "PUT") == 0 ||
        strcmp(req->method, "PATCH") == 0) {
        char ct[128];
        snprintf(ct, sizeof ct, "Content-Type: %s", req->content_type ? req->content_type : "application/json");
        l = curl_slist_append(l, ct);
    }
    l = curl_slist_append(l, "Expect:");
    if (cr->token.len) {
        vg_buf auth = VG_BUF_INIT;
        if (vg_buf_puts(&auth, "Authorization: Bearer ") == 0 &&
            vg_buf_append(&auth, cr->token.data, cr->token.len) == 0)
            l = curl_slist_append(l, auth.data);
        if (auth.data)
            memset(auth.data, 0, auth.cap);
        vg_buf_release(&auth);
    }
    *hdrs = l;
    if (!l)
        return -ENOMEM;
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, l);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    return 0;
}

/* One attempt. Returns 0 when an HTTP answer arrived (any code), else -errno. */
static int attempt(kube_client *c, const kube_req *req, kube_resp *resp, kube_stream_fn fn, void *ud,
                   unsigned idle_timeout_s, volatile int *cancel, int *fn_rc, unsigned timeout_ms)
{
    kube_creds cr;
    kube_creds_init(&cr);
    vg_buf url = VG_BUF_INIT;
    struct curl_slist *hdrs = NULL;
    char errbuf[CURL_ERROR_SIZE] = "";
    CURL *h = NULL;
    int rc = kube_config_creds(c->cfg, &cr);
    if (rc) {
        snprintf(resp->error, sizeof resp->error, "credentials unavailable: %s", strerror(-rc));
        goto out;
    }
    h = curl_easy_init();
    rc = -ENOMEM;
    if (!h)
        goto out;
    xfer x = {.c = c, .h = h, .resp = resp, .max = fn ? STREAM_ERR_BODY_MAX : c->max_body, .fn = fn,
              .ud = ud, .cancel = cancel};
    if ((rc = setup(c, h, req, &cr, &url, &hdrs, &x, errbuf)))
        goto out;
    if (fn) {
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)(idle_timeout_s ? idle_timeout_s : 600));
    } else {
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(timeout_ms ? timeout_ms : c->timeout_ms));
    }
    double t0 = mono_s();
    CURLcode cc = curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    const char *verb = req->verb ? req->verb : req->method;
    if (fn && x.fn_rc) {
        /* the consumer ended the stream */
        resp->code = code;
        *fn_rc = x.fn_rc;
        rc = 0;
    } else if (x.overflow) {
        resp->code = code;
        snprintf(resp->error, sizeof resp->error, "response body over %zu bytes", x.max);
        rc = -EFBIG;
    } else if (cc != CURLE_OK && !(fn && code >= 200 && code < 300 && cc != CURLE_ABORTED_BY_CALLBACK)) {
        resp->code = 0;
        snprintf(resp->error, sizeof resp->error, "%s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
        rc = map_curl(cc);
        if (code && cc != CURLE_ABORTED_BY_CALLBACK)
            resp->code = code;
        if (resp->code)
            rc = 0; /* an answer arrived even though the stream broke */
        else
            kube_client_observe(c, verb, 0, mono_s() - t0);
    } else {
        /* a stream that ended with a transport error after a 2xx is a
         * normal stream end for the watch layer (it resumes) */
        resp->code = code;
        if (fn && cc != CURLE_OK)
            snprintf(resp->error, sizeof resp->error, "%s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
        rc = 0;
    }
    if (rc == 0 && resp->code)
        kube_client_observe(c, verb, resp->code, mono_s() - t0);
out:
    if (h)
        curl_easy_cleanup(h);
    curl_slist_free_all(hdrs);
    vg_buf_release(&url);
    kube_creds_release(&cr);
    return rc;
}

static int finish(kube_resp *resp)
{
    if (resp->code >= 200 && resp->code < 300)
        return 0;
    kube_status_decode(resp->body.data ? resp->body.data : "", resp->body.len, &resp->status);
    return kube_status_errno((int)resp->code, resp->status.reason);
}

/* Time left before req's deadline in ms (0 = no deadline); -ETIMEDOUT when it passed. */
static long left_ms(const kube_req *req, kube_resp *resp)
{
    if (req->deadline_s <= 0)
        return 0;
    double left = req->deadline_s - mono_s();
    if (left < 0.001) {
        snprintf(resp->error, sizeof resp->error, "deadline passed");
        return -ETIMEDOUT;
    }
    return (long)(left * 1000) + 1;
}

int kube_client_do(kube_client *c, const kube_req *req, kube_resp *resp)
{
    bool refreshed = false;
    resp->retries = 0;
    for (;;) {
        resp_reset(resp);
        long ms = left_ms(req, resp);
        if (ms < 0)
            return (int)ms;
        int rc = cancelled(c, req->cancel) ? -ECANCELED : kube_client_ratelimit_wait(c);
        if (rc) {
            snprintf(resp->error, sizeof resp->error, "client stopped");
            return rc;
        }
        if ((ms = left_ms(req, resp)) < 0)
            return (int)ms;
        int fnrc = 0;
        rc = attempt(c, req, resp, NULL, NULL, 0, req->cancel, &fnrc,
                     ms && (unsigned long)ms < c->timeout_ms ? (unsigned)ms : 0);
        if (rc)
            return rc;
        if (resp->code == 401 && !refreshed) {
            /* the token may have rotated under us: re-read and retry once */
            kube_config_token_invalidate(c->cfg);
            refreshed = true;
            continue;
        }
        bool retryable = resp->code == 429 || (resp->code >= 500 && resp->code < 600);
        double wait = fmin(resp->retry_after_s, c->max_retry_wait_s);
        if (retryable && resp->retry_after_s > 0 && resp->retries < c->max_retries &&
            (req->deadline_s <= 0 || mono_s() + wait < req->deadline_s)) {
            resp->retries++;
            if ((rc = nap(c, wait, req->cancel)))
                return rc;
            continue;
        }
        return finish(resp);
    }
}

int kube_client_stream(kube_client *c, const kube_req *req, kube_stream_fn fn, void *ud, unsigned idle_timeout_s,
                       volatile int *cancel, kube_resp *resp)
{
    bool refreshed = false;
    for (;;) {
        resp_reset(resp);
        int rc = kube_client_ratelimit_wait(c);
        if (rc)
            return rc;
        int fnrc = 0;
        rc = attempt(c, req, resp, fn, ud, idle_timeout_s, cancel, &fnrc, 0);
        if (rc == -ECANCELED || (cancel && *cancel) || atomic_load(&c->stopped))
            return -ECANCELED;
        if (rc)
            return rc;
        if (fnrc)
            return fnrc < 0 ? fnrc : 0;
        if (resp->code == 401 && !refreshed) {
            kube_config_token_invalidate(c->cfg);
            refreshed = true;
            continue;
        }
        return finish(resp);
    }
}

/* ---------------- typed helpers ---------------- */

static int simple(kube_client *c, const char *method, const char *verb, const kube_gvr *r, const char *ns,
                  const char *name, const char *sub, const char *query, const char *ctype, const char *body,
                  size_t len, kube_resp *resp)
{
    vg_buf path = VG_BUF_INIT;
    int rc = kube_path(&path, r, ns, name, sub);
    if (rc == 0) {
        kube_req req = {.method = method, .path = path.data, .query = query, .content_type = ctype,
                        .body = body, .body_len = len, .verb = verb};
        rc = kube_client_do(c, &req, resp);
    }
    vg_buf_release(&path);
    return rc;
}

int kube_get(kube_client *c, const kube_gvr *r, const char *ns, const char *name, const char *sub, kube_resp *resp)
{
    return simple(c, "GET", "GET", r, ns, name, sub, NULL, NULL, NULL, 0, resp);
}

int kube_create(kube_client *c, const kube_gvr *r, const char *ns, const char *name, const char *sub,
                const char *json, size_t len, kube_resp *resp)
{
    return simple(c, "POST", "POST", r, ns, name, sub, NULL, NULL, json, len, resp);
}

int kube_update(kube_client *c, const kube_gvr *r, const char *ns, const char *name, const char *sub,
                const char *json, size_t len, kube_resp *resp)
{
    return simple(c, "PUT", "PUT", r, ns, name, sub, NULL, NULL, json, len, resp);
}

int kube_patch(kube_client *c, const kube_gvr *r, const char *ns, const char *name, const char *sub,
               kube_patch_type type, const char *patch, size_t len, const char *field_manager, bool force,
               kube_resp *resp)
{
    static const char *const ctypes[] = {
        "application/merge-patch+json", "application/strategic-merge-patch+json",
        "application/json-patch+json", "application/apply-patch+yaml",
    };
    if ((unsigned)type > KUBE_PATCH_APPLY || (type == KUBE_PATCH_APPLY && (!field_manager || !field_manager[0])))
        return -EINVAL;
    vg_buf q = VG_BUF_INIT;
    int rc = 0;
    if (field_manager && field_manager[0])
        rc = kube_query_add(&q, "fieldManager", field_manager);
    if (!rc && force && type == KUBE_PATCH_APPLY)
        rc = kube_query_add(&q, "force", "true");
    if (!rc)
        rc = simple(c, "PATCH", "PATCH", r, ns, name, sub, q.data, ctypes[type], patch, len, resp);
    vg_buf_release(&q);
    return rc;
}

int kube_delete(kube_client *c, const kube_gvr *r, const char *ns, const char *name, const char *body,
                kube_resp *resp)
{
    return simple(c, "DELETE", "DELETE", r, ns, name, NULL, NULL, NULL, body, body ? strlen(body) : 0, resp);
}

int kube_evict(kube_client *c, const char *ns, const char *name, kube_resp *resp)
{
    vg_buf b = VG_BUF_INIT;
    int rc = vg_buf_puts(&b, "{\"apiVersion\":\"policy/v1\",\"kind\":\"Eviction\",\"metadata\":{\"name\":");
    rc = rc ? rc : kj_quote_append(&b, name, strlen(name));
    rc = rc ? rc : vg_buf_puts(&b, ",\"namespace\":");
    rc = rc ? rc : kj_quote_append(&b, ns, strlen(ns));
    rc = rc ? rc : vg_buf_puts(&b, "}}");
    if (!rc)
        rc = kube_create(c, &kube_gvr_pods, ns, name, "eviction", b.data, b.len, resp);
    vg_buf_release(&b);
    return rc;
}

/* ---------------- lists ---------------- */

int kube_list_page_parse(const char *json, size_t len, kube_item_fn item, void *ud, vg_buf *rv, vg_buf *cont)
{
    kj c;
    kj_init(&c, json, len);
    vg_slice key;
    int rc = kj_obj_begin(&c);
    bool have_items = false;
    vg_buf_reset(rv);
    vg_buf_reset(cont);
    while (rc == 0 && (rc = kj_obj_next(&c, &key)) > 0) {
        if (kj_key_is(key, "metadata") && kj_peek(&c) == KJ_OBJ) {
            rc = kj_obj_begin(&c);
            while (rc == 0 && (rc = kj_obj_next(&c, &key)) > 0) {
                if (kj_key_is(key, "resourceVersion"))
                    rc = kj_str_buf(&c, rv);
                else if (kj_key_is(key, "continue"))
                    rc = kj_str_buf(&c, cont);
                else
                    rc = kj_skip(&c);
            }
            rc = rc < 0 ? rc : 0;
        } else if (kj_key_is(key, "items") && kj_peek(&c) == KJ_NULL) {
            rc = kj_null(&c);
            have_items = true;
        } else if (kj_key_is(key, "items")) {
            have_items = true;
            rc = kj_arr_begin(&c);
            while (rc == 0 && (rc = kj_arr_next(&c)) > 0) {
                vg_slice raw;
                if (kj_peek(&c) != KJ_OBJ) {
                    rc = -EBADMSG;
                    break;
                }
                rc = kj_raw(&c, &raw);
                if (rc == 0 && item)
                    rc = item(ud, raw.p, raw.n);
            }
            rc = rc < 0 ? rc : 0;
        } else {
            rc = kj_skip(&c);
        }
    }
    if (rc == 0)
        rc = kj_finish(&c);
    if (rc == 0 && !have_items)
        rc = -EBADMSG;
    return rc;
}

int kube_list(kube_client *c, const kube_gvr *r, const char *ns, const kube_list_opts *o, kube_item_fn item,
              kube_restart_fn restart, void *ud, char *rv_out, size_t rv_len, kube_resp *resp)
{
    kube_list_opts def = {0};
    if (!o)
        o = &def;
    vg_buf path = VG_BUF_INIT, q = VG_BUF_INIT, rv = VG_BUF_INIT, cont = VG_BUF_INIT, first_rv = VG_BUF_INIT;
    char lim[16];
    snprintf(lim, sizeof lim, "%u", o->limit ? o->limit : 500);
    int restarts = 0;
    bool use_rv = o->resource_version != NULL;
    bool delivered = false;
    int rc = kube_path(&path, r, ns, NULL, NULL);
    while (rc == 0) {
        vg_buf_reset(&q);
        rc = kube_query_add(&q, "limit", lim);
        if (!rc && o->label_selector && o->label_selector[0])
            rc = kube_query_add(&q, "labelSelector", o->label_selector);
        if (!rc && o->field_selector && o->field_selector[0])
            rc = kube_query_add(&q, "fieldSelector", o->field_selector);
        if (!rc && cont.len)
            rc = kube_query_add(&q, "continue", cont.data);
        else if (!rc && use_rv)
            rc = kube_query_add(&q, "resourceVersion", o->resource_version);
        if (rc)
            break;
        kube_req req = {.method = "GET", .path = path.data, .query = q.data, .verb = "LIST"};
        rc = kube_client_do(c, &req, resp);
        if (rc == -ETIME && cont.len && restarts < 3) {
            /* continue token expired: the pages so far are void; start over
             * from the most recent state */
            restarts++;
            vg_buf_reset(&cont);
            use_rv = false;
            if (delivered && restart)
                restart(ud);
            delivered = false;
            rc = 0;
            continue;
        }
        if (rc)
            break;
        rc = kube_list_page_parse(resp->body.data ? resp->body.data : "", resp->body.len, item, ud, &rv, &cont);
        if (rc)
            break;
        delivered = true;
        if (first_rv.len == 0 && rv.len)
            vg_buf_append(&first_rv, rv.data, rv.len);
        if (cont.len == 0)
            break;
    }
    if (rc == 0 && rv_out && rv_len) {
        /* every page carries the first page's RV; take the last page's */
        const vg_buf *src = rv.len ? &rv : &first_rv;
        snprintf(rv_out, rv_len, "%s", src->data ? src->data : "");
    }
    vg_buf_release(&path);
    vg_buf_release(&q);
    vg_buf_release(&rv);
    vg_buf_release(&cont);
    vg_buf_release(&first_rv);
    return rc;
}
