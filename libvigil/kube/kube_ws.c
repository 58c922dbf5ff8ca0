/*
 * kube_ws.c - watch over WebSocket with libwebsockets 4.1.
 *
 * A context per run keeps the TLS material (which may change with an exec
 * plugin or rotation) current and the code free of shared lws state; the
 * cost is one SSL_CTX per watch start, which happens at most every few
 * minutes per resource. The SSL_CTX is ours (kube_tls.h says why), freed
 * after the lws context.
 */
#include "kube_ws.h"

#include <errno.h>
#include <libwebsockets.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kube_base64.h"
#include "kube_tls.h"

#define WS_MAX_MSG (64u << 20)

typedef struct wsrun {
    kube_event_fn fn;
    void (*batch_end)(void *ud);
    void *ud;
    volatile int *cancel;
    kube_client *c;
    kube_watch_result *res;
    kube_resp *resp;
    const char *token;   /* header token, NULL when sent as subprotocol */
    vg_buf msg;
    int rc;
    bool done;
    bool error;
    bool cancelled;
    bool peer_closed;    /* the server sent a close frame: a clean end */
    char errmsg[200];
    struct lws_context *ctx;
    atomic_bool stop_waker;
    kube_tls_verify tlsv;
} wsrun;

static pthread_once_t log_once = PTHREAD_ONCE_INIT;
static void quiet_lws(void) { lws_set_log_level(0, NULL); }

/*
 * lws_service's poll ignores our timers in some connection states (it was
 * seen sleeping 30 s while connecting), so a helper thread wakes it every
 * 200 ms with lws_cancel_service (thread-safe) for the cancel and idle
 * checks of the run loop. No graceful close on cancel: lws would wait for
 * the server's close reply; the context teardown drops the connection.
 */
static void *waker(void *arg)
{
    wsrun *r = arg;
    pthread_setname_np(pthread_self(), "ws-waker"); /* not the informer's name */
    struct timespec ts = {0, 200 * 1000 * 1000};
    while (!atomic_load(&r->stop_waker)) {
        nanosleep(&ts, NULL);
        lws_cancel_service(r->ctx);
    }
    return NULL;
}

static int on_ws(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    struct lws_context *ctx = lws_get_context(wsi);
    wsrun *r = ctx ? lws_context_user(ctx) : NULL;
    if (!r)
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
        unsigned char **p = (unsigned char **)in, *end = (*p) + len;
        if (r->token) {
            vg_buf v = VG_BUF_INIT;
            int bad = vg_buf_puts(&v, "Bearer ") || vg_buf_puts(&v, r->token) ||
                      lws_add_http_header_by_name(wsi, (const unsigned char *)"authorization:",
                                                  (const unsigned char *)v.data, (int)v.len, p, end);
            if (v.data)
                memset(v.data, 0, v.cap);
            vg_buf_release(&v);
            if (bad)
                return -1;
        }
        const char *ua = kube_client_user_agent(r->c);
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)"user-agent:", (const unsigned char *)ua,
                                        (int)strlen(ua), p, end))
            return -1;
        break;
    }
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        r->res->started = true;
        r->resp->code = 101;
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (r->rc)
            return -1;
        if (lws_is_first_fragment(wsi))
            vg_buf_reset(&r->msg);
        r->res->bytes += len;
        bool whole = lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0;
        const char *doc = in;
        size_t dlen = len;
        if (!whole || r->msg.len) {
            /* a message in pieces is assembled; a whole one is read in place */
            if (r->msg.len + len > WS_MAX_MSG) {
                r->rc = -EFBIG;
                return -1;
            }
            if (vg_buf_append(&r->msg, in, len)) {
                r->rc = -ENOMEM;
                return -1;
            }
            doc = r->msg.data;
            dlen = r->msg.len;
        }
        if (whole) {
            kube_event ev;
            if (kube_event_parse(doc, dlen, &ev)) {
                r->rc = -EBADMSG;
                return -1;
            }
            r->res->events++;
            int frc = r->fn(r->ud, &ev);
            vg_buf_reset(&r->msg);
            if (frc) {
                r->rc = frc;
                return -1;
            }
        }
        break;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
        unsigned code = lws_http_client_http_response(wsi);
        if (code && code != 101)
            r->resp->code = code;
        if (r->tlsv.error)
            snprintf(r->errmsg, sizeof r->errmsg, "TLS: server certificate not trusted: %s",
                     X509_verify_cert_error_string(r->tlsv.error));
        else
            snprintf(r->errmsg, sizeof r->errmsg, "%s", in ? (const char *)in : "connection error");
        r->error = true;
        r->done = true;
        break;
    }
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        r->peer_closed = true;
        break;
    case LWS_CALLBACK_CLIENT_CLOSED:
    case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
        r->done = true;
        break;
    case LWS_CALLBACK_WSI_DESTROY:
        r->done = true;
        break;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    {"vigil-watch", on_ws, 0, 64 * 1024, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* Split "https://host:port/prefix" into parts. */
static int parse_server(const char *url, bool *tls, char *host, size_t hl, int *port, const char **prefix)
{
    const char *p;
    if (strncmp(url, "https://", 8) == 0) {
        *tls = true;
        p = url + 8;
    } else if (strncmp(url, "http://", 7) == 0) {
        *tls = false;
        p = url + 7;
    } else {
        return -EINVAL;
    }
    const char *end = p + strcspn(p, "/");
    *prefix = end;
    const char *colon;
    if (*p == '[') {
        const char *rb = memchr(p, ']', (size_t)(end - p));
        if (!rb)
            return -EINVAL;
        snprintf(host, hl, "%.*s", (int)(rb - p - 1), p + 1);
        colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
    } else {
        colon = memchr(p, ':', (size_t)(end - p));
        snprintf(host, hl, "%.*s", (int)((colon ? colon : end) - p), p);
    }
    *port = colon ? atoi(colon + 1) : (*tls ? 443 : 80);
    return (*port > 0 && *port < 65536 && host[0]) ? 0 : -EINVAL;
}

int kube_ws_watch_run(kube_client *c, const kube_watch_opts *o, kube_event_fn fn, void *ud, volatile int *cancel,
                      kube_resp *resp, kube_watch_result *res)
{
    pthread_once(&log_once, quiet_lws);
    kube_config *cfg = kube_client_config(c);
    kube_creds cr;
    kube_creds_init(&cr);
    vg_buf path = VG_BUF_INIT, q = VG_BUF_INIT, proto = VG_BUF_INIT, full = VG_BUF_INIT;
    wsrun r = {.fn = fn, .batch_end = o->batch_end, .ud = ud, .cancel = cancel, .c = c, .res = res, .resp = resp};
    vg_buf_init(&r.msg);
    struct lws_context *ctx = NULL;
    SSL_CTX *sctx = NULL;
    char host[256];
    int port;
    bool tls;
    const char *prefix;
    resp->code = 0;
    vg_buf_reset(&resp->body);
    kube_status_clear(&resp->status);
    resp->error[0] = '\0';
    int rc = parse_server(kube_config_server(cfg), &tls, host, sizeof host, &port, &prefix);
    if (rc)
        goto out;
    if ((rc = kube_client_ratelimit_wait(c)))
        goto out;
    if ((rc = kube_config_creds(cfg, &cr)))
        goto out;
    if ((rc = kube_path(&path, o->gvr, o->ns, NULL, NULL)) || (rc = kube_watch_query(o, &q)))
        goto out;
    rc = -ENOMEM;
    if (vg_buf_puts(&full, prefix) || vg_buf_puts(&full, path.data) || vg_buf_putc(&full, '?') ||
        vg_buf_puts(&full, q.data))
        goto out;
    if (cr.token.len && o->ws_token_subprotocol) {
        if (vg_buf_puts(&proto, "base64url.bearer.authorization.k8s.io.") ||
            kube_base64url_encode(cr.token.data, cr.token.len, &proto) ||
            vg_buf_puts(&proto, ", " KUBE_WS_WATCH_PROTOCOL))
            goto out;
    } else if (cr.token.len) {
        r.token = cr.token.data;
    }

    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.options = tls ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0;
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.gid = -1;
    info.uid = -1;
    info.user = &r;
    if (tls) {
        size_t calen;
        const void *ca = kube_config_ca(cfg, &calen);
        r.tlsv.insecure = kube_config_insecure(cfg);
        if ((rc = kube_tls_ctx_new(ca, ca ? calen : 0, cr.cert.data, cr.cert.len, cr.key.data, cr.key.len, &r.tlsv,
                                   &sctx))) {
            snprintf(resp->error, sizeof resp->error, "cannot build the TLS context (CA or client certificate)");
            goto out;
        }
        info.provided_client_ssl_ctx = sctx;
    }
    ctx = lws_create_context(&info);
    if (!ctx) {
        snprintf(resp->error, sizeof resp->error, "cannot create WebSocket context");
        rc = -ENOMEM;
        goto out;
    }
    char hosthdr[300];
    if (strchr(host, ':'))
        snprintf(hosthdr, sizeof hosthdr, "[%s]:%d", host, port);
    else
        snprintf(hosthdr, sizeof hosthdr, "%s:%d", host, port);
    char origin[320];
    snprintf(origin, sizeof origin, "%s://%s", tls ? "https" : "http", hosthdr);
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = ctx;
    ci.address = host;
    ci.port = port;
    ci.path = full.data;
    ci.host = hosthdr;
    ci.origin = origin;
    ci.protocol = proto.len ? proto.data : NULL;
    ci.local_protocol_name = "vigil-watch";
    ci.ssl_connection = tls ? LCCSCF_USE_SSL : 0;
    if (tls && kube_config_insecure(cfg))
        ci.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK | LCCSCF_ALLOW_INSECURE;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (!lws_client_connect_via_info(&ci) && !r.done) {
        snprintf(resp->error, sizeof resp->error, "WebSocket connect failed");
        rc = -ECONNREFUSED;
        goto out;
    }
    r.ctx = ctx;
    pthread_t wt;
    bool have_waker = pthread_create(&wt, NULL, waker, &r) == 0;
    /* idle limit: a silent connection is dropped */
    unsigned idle = o->idle_timeout_s ? o->idle_timeout_s : (o->timeout_s ? o->timeout_s + 60 : 600);
    time_t last = time(NULL);
    uint64_t last_bytes = 0;
    while (!r.done) {
        if ((cancel && *cancel) || kube_client_stopped(c)) {
            r.cancelled = true;
            break;
        }
        uint64_t before = res->events;
        int src = lws_service(ctx, 0);
        if (r.batch_end && res->events != before)
            r.batch_end(r.ud);
        if (src < 0)
            break;
        if (res->bytes != last_bytes) {
            last_bytes = res->bytes;
            last = time(NULL);
        } else if (time(NULL) - last > (time_t)idle) {
            snprintf(resp->error, sizeof resp->error, "WebSocket idle for %u s", idle);
            r.error = true;
            break;
        }
    }
    if (have_waker) {
        atomic_store(&r.stop_waker, true);
        pthread_join(wt, NULL);
    }
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    kube_client_observe(c, "WATCH", resp->code,
                        (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    if (r.cancelled || (cancel && *cancel) || kube_client_stopped(c)) {
        rc = -ECANCELED;
    } else if (r.rc) {
        rc = r.rc;
    } else if (r.error && resp->code && resp->code != 101) {
        if (resp->code == 401)
            kube_config_token_invalidate(cfg);
        rc = kube_status_errno((int)resp->code, NULL);
        snprintf(resp->error, sizeof resp->error, "%s", r.errmsg);
    } else if (r.error && !res->started) {
        if (!resp->error[0])
            snprintf(resp->error, sizeof resp->error, "%s", r.errmsg);
        rc = strstr(r.errmsg, "refused") ? -ECONNREFUSED : -EIO;
    } else {
        rc = 0;
    }
    /* a stream that stops without a close frame was cut, even between events */
    res->cut = r.msg.len > 0 || (rc == 0 && res->started && !r.peer_closed);
    if (res->cut && !resp->error[0])
        snprintf(resp->error, sizeof resp->error, "WebSocket closed without a close frame");
out:
    if (ctx)
        lws_context_destroy(ctx);
    SSL_CTX_free(sctx);
    vg_buf_release(&r.msg);
    vg_buf_release(&path);
    vg_buf_release(&q);
    if (proto.data)
        memset(proto.data, 0, proto.cap);
    vg_buf_release(&proto);
    vg_buf_release(&full);
    kube_creds_release(&cr);
    return rc;
}
