/*
 * vg_http.c - a small non-blocking HTTP/1.1 server on vg_loop.
 *
 * Why our own server and not libwebsockets' HTTP server (which we link for
 * other reasons): the door is where a monitoring agent gets hurt, so we
 * want its limits exact and testable - 431 once the request head passes
 * max_head_bytes, 408 when the whole head has not arrived within
 * header_timeout_ms (a 1 byte/s client cannot hold a slot), an idle
 * timeout for keep-alive, a write deadline for stalled readers and a hard
 * connection cap. We also need deferred answers: a /metrics request waits
 * while a collection runs on another thread and the loop keeps serving
 * /healthz. The whole thing is a few hundred lines with a tiny footprint
 * (one 8 KiB input buffer per connection, no threads).
 *
 * Model: every connection is a small state machine driven by fd events,
 * one timer and (for deferred requests) vg_http_req_respond:
 *
 *   HEAD ----head parsed----> HANDLER --respond--> WRITE --flushed--> HEAD
 *     \--bad head / 408----------------------------^        \--close--> LINGER
 *
 * One request per connection is in flight at a time; pipelined requests
 * wait in the input buffer and are answered in order. Reads go on while a
 * request is in flight (bounded by the input buffer) so a client that
 * goes away during a deferred request is noticed and its slot freed.
 * Closing after an answer is "lingering": shut down our write side, read
 * and discard until the client closes (bounded), so an answer like 431 is
 * not destroyed by a TCP reset caused by unread request bytes.
 *
 * A streamed answer may pause until its queue has gone to the socket
 * (back-pressure for slow readers): the connection stays in WRITE and its
 * writable event calls the producer back (see vg_http_stream_pause).
 *
 * Re-entrancy: handlers run inside the connection's event processing and
 * may answer any request; a connection is never freed while one of its
 * callbacks is on the stack (busy count); it is marked dead and freed by
 * the outermost frame.
 */
#include "vg_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "vg_buf.h"
#include "vg_gzip.h"

#define COMP "http"
#define DEF_MAX_HEAD 8192u
#define DEF_HEADER_TIMEOUT_MS 10000u
#define DEF_IDLE_TIMEOUT_MS 60000u
#define DEF_WRITE_TIMEOUT_MS 30000u
#define DEF_MAX_CONNS 64u
#define MAX_HEADERS 64
#define GZIP_MIN_BYTES 1024u
#define DIRECT_MIN_BYTES (64u * 1024u) /* bodies sent from the caller's memory first */
#define LINGER_MS 2000u
#define LINGER_MAX_BYTES (1024u * 1024u)
#define ACCEPT_BATCH 32
#define ACCEPT_BACKOFF_MS 100u
#define WARN_EVERY_MS 10000u

/* ======================= the request head parser ======================= */

static bool is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static int parse_request_line(const char *l, size_t n, vg_http_head *h)
{
    const char *sp1 = memchr(l, ' ', n);
    if (!sp1)
        return -EBADMSG;
    size_t mlen = (size_t)(sp1 - l);
    if (mlen == 0 || mlen >= sizeof(h->method))
        return -EBADMSG;
    for (size_t i = 0; i < mlen; i++)
        if (!is_tchar((unsigned char)l[i]))
            return -EBADMSG;

    const char *t = sp1 + 1;
    const char *end = l + n;
    const char *sp2 = memchr(t, ' ', (size_t)(end - t));
    if (!sp2 || sp2 == t)
        return -EBADMSG;
    /* origin-form only: "*" (OPTIONS) and absolute-form are refused. */
    if (t[0] != '/')
        return -EBADMSG;
    for (const char *p = t; p < sp2; p++)
        if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
            return -EBADMSG;

    const char *v = sp2 + 1;
    size_t vlen = (size_t)(end - v);
    if (vlen != 8 || memcmp(v, "HTTP/", 5) != 0 || !is_digit(v[5]) || v[6] != '.' ||
        !is_digit(v[7]))
        return -EBADMSG;
    if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
        return -EPROTONOSUPPORT; /* well-formed, not 1.0/1.1: 505 */

    memcpy(h->method, l, mlen);
    h->method[mlen] = '\0';
    h->target = t;
    h->target_len = (size_t)(sp2 - t);
    h->version_minor = v[7] - '0';
    return 0;
}

static int parse_header_line(const char *l, size_t n, vg_http_head *h)
{
    if (l[0] == ' ' || l[0] == '\t')
        return -EBADMSG; /* obs-fold */
    const char *colon = memchr(l, ':', n);
    if (!colon || colon == l)
        return -EBADMSG;
    for (const char *p = l; p < colon; p++)
        if (!is_tchar((unsigned char)*p))
            return -EBADMSG; /* includes whitespace before the colon */
    const char *v = colon + 1, *e = l + n;
    for (const char *p = v; p < e; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return -EBADMSG;
    }
    while (v < e && (*v == ' ' || *v == '\t'))
        v++;
    while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    if (h->nheaders >= MAX_HEADERS)
        return -E2BIG;
    h->headers[h->nheaders].name = l;
    h->headers[h->nheaders].name_len = (size_t)(colon - l);
    h->headers[h->nheaders].value = v;
    h->headers[h->nheaders].value_len = (size_t)(e - v);
    h->nheaders++;
    return 0;
}

long vg_http_head_parse(const char *buf, size_t len, size_t max_head, vg_http_head *out)
{
    vg_http_head h;
    size_t lim = len < max_head ? len : max_head;
    size_t pos = 0;
    bool have_rl = false;
    int rc;

    h.method[0] = '\0';
    h.target = NULL;
    h.target_len = 0;
    h.version_minor = 0;
    h.nheaders = 0;
    h.head_len = 0;

    /* RFC 9112 2.2: ignore empty lines before the request line. */
    while (pos < lim && (buf[pos] == '\n' || (buf[pos] == '\r' && pos + 1 < lim && buf[pos + 1] == '\n')))
        pos += buf[pos] == '\n' ? 1 : 2;

    for (;;) {
        const char *nl = memchr(buf + pos, '\n', lim - pos);
        if (!nl)
            break;
        size_t eol = (size_t)(nl - buf);
        size_t n = eol - pos;
        if (n > 0 && buf[eol - 1] == '\r')
            n--;
        const char *line = buf + pos;
        if (!have_rl) {
            for (size_t i = 0; i < n; i++)
                if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] > 0x7e)
                    return -EBADMSG;
            rc = parse_request_line(line, n, &h);
            if (rc < 0)
                return rc;
            have_rl = true;
        } else if (n == 0) {
            h.head_len = eol + 1;
            *out = h;
            return (long)h.head_len;
        } else {
            rc = parse_header_line(line, n, &h);
            if (rc < 0)
                return rc;
        }
        pos = eol + 1;
    }

    /* Incomplete. A partial request line with bytes no request line can
     * hold (a TLS hello, binary junk) is refused now, not at the timeout. */
    if (!have_rl) {
        for (size_t i = pos; i < lim; i++) {
            unsigned char c = (unsigned char)buf[i];
            if ((c < 0x20 && !(c == '\r' && i + 1 == lim)) || c > 0x7e)
                return -EBADMSG;
        }
    }
    if (len >= max_head)
        return -E2BIG;
    return 0;
}

/* ============================ server state ============================ */

typedef struct route {
    char *path;
    char *label;
    vg_http_handler_fn fn;
    void *ud;
} route;

typedef enum { CS_HEAD, CS_HANDLER, CS_WRITE, CS_LINGER } conn_state;
typedef enum { T_NONE, T_HEAD, T_IDLE, T_WRITE, T_LINGER } timer_kind;

typedef struct conn conn;

struct vg_http_req {
    conn *c;                 /* NULL once detached (client gone, server freed) */
    char method[16];
    char *path;              /* into strs */
    char *query;             /* into strs; "" when none */
    size_t nheaders;
    struct { const char *name, *value; } hdr[MAX_HEADERS];
    char *strs;              /* owned copies of every string above */
    int version_minor;
    bool is_head;
    bool keep_alive;
    const char *label;       /* route label (server-owned) or "other" */
    unsigned long long start_ms;
    uint64_t start_ns;
};

struct conn {
    vg_http_server *srv;
    conn *prev, *next;
    int fd;
    conn_state state;
    char *in;                /* max_head bytes */
    size_t in_len;
    size_t scanned;          /* bytes already searched for '\n' */
    vg_buf out;
    size_t out_off;
    uint64_t timer;
    timer_kind tkind;
    unsigned events;         /* current epoll interest */
    int busy;                /* callbacks on the stack */
    bool dead;               /* close when busy drops to 0 */
    bool peer_eof;
    bool close_after;        /* close once out is flushed */
    size_t lingered;
    vg_http_req *req;        /* request in its handler / deferred */
    vg_http_stream *stream;  /* streamed answer open on it (begin .. end) */
    char peer[64];
};

/*
 * The server. Lives on the loop thread only; no locks. Metric series live
 * in the registry (which has its own lock), the rest is plain state.
 */
struct vg_http_server {
    vg_loop *loop;
    vg_log *log;
    size_t max_head;
    unsigned header_timeout_ms, idle_timeout_ms, write_timeout_ms, max_conns;
    int lfd;
    int port;
    bool draining;
    uint64_t accept_timer;

    route *routes;
    size_t nroutes;

    conn *conns;
    size_t nconns;

    vg_metric *m_requests;
    vg_metric *m_duration;
    vg_series *s_conns;
    vg_series *s_rejected;

    uint64_t cap_warn_ms;    /* rate limit of the "cap reached" warning */
    uint64_t cap_suppressed;
    size_t queued_peak;      /* most bytes one connection had waiting for its socket */
};

static void conn_advance(conn *c);
static void conn_io(vg_loop *loop, int fd, unsigned events, void *ud);
static void stream_detach(vg_http_stream *w);
static void stream_resume(vg_http_stream *w);
static bool stream_paused(const vg_http_stream *w);

/* ============================== helpers =============================== */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: break;
    }
    if (status < 300)
        return "OK";
    if (status < 400)
        return "Redirect";
    if (status < 500)
        return "Client Error";
    return "Server Error";
}

/* IMF-fixdate, independent of the locale. */
static int put_date(vg_buf *b)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char mons[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = time(NULL);
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return 0;
    return vg_buf_printf(b, "Date: %s, %02d %s %04d %02d:%02d:%02d GMT\r\n", days[tm.tm_wday],
                         tm.tm_mday, mons[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                         tm.tm_sec);
}

/* Does a comma-separated header value list contain token (any case)? */
static bool list_has_token(const char *v, const char *token)
{
    size_t tl = strlen(token);
    while (v && *v) {
        while (*v == ' ' || *v == '\t' || *v == ',')
            v++;
        const char *s = v;
        while (*v && *v != ',')
            v++;
        const char *e = v;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if ((size_t)(e - s) == tl && strncasecmp(s, token, tl) == 0)
            return true;
    }
    return false;
}

/*
 * qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in
 * thousandths. -1 when malformed.
 */
static int parse_qvalue(const char *s, size_t n)
{
    if (n == 0 || (s[0] != '0' && s[0] != '1'))
        return -1;
    int v = (s[0] - '0') * 1000;
    if (n == 1)
        return v;
    if (s[1] != '.' || n > 5)
        return -1;
    int scale = 100;
    for (size_t i = 2; i < n; i++, scale /= 10) {
        if (!is_digit(s[i]))
            return -1;
        v += (s[i] - '0') * scale;
    }
    return v > 1000 ? -1 : v;
}

/*
 * Weight (0..1000) the Accept-Encoding value gives gzip: an explicit gzip
 * (or x-gzip) element wins over "*"; neither -> 0. A malformed weight
 * makes its element count as q=0.
 */
static int gzip_weight_in(const char *v, int *star)
{
    int gz = -1;
    while (v && *v) {
        while (*v == ' ' || *v == '\t' || *v == ',')
            v++;
        if (!*v)
            break;
        const char *s = v;
        while (*v && *v != ',' && *v != ';' && *v != ' ' && *v != '\t')
            v++;
        size_t cl = (size_t)(v - s);
        int q = 1000;
        /* parameters: ;q=... (others ignored) */
        while (*v && *v != ',') {
            while (*v == ' ' || *v == '\t')
                v++;
            if (*v != ';') {
                if (*v && *v != ',') {
                    q = 0; /* junk after the coding */
                    while (*v && *v != ',')
                        v++;
                }
                break;
            }
            v++;
            while (*v == ' ' || *v == '\t')
                v++;
            const char *ps = v;
            while (*v && *v != ',' && *v != ';')
                v++;
            const char *pe = v;
            while (pe > ps && (pe[-1] == ' ' || pe[-1] == '\t'))
                pe--;
            if (pe - ps >= 2 && (ps[0] == 'q' || ps[0] == 'Q') && ps[1] == '=') {
                int w = parse_qvalue(ps + 2, (size_t)(pe - ps - 2));
                q = w < 0 ? 0 : w;
            }
        }
        if ((cl == 4 && strncasecmp(s, "gzip", 4) == 0) ||
            (cl == 6 && strncasecmp(s, "x-gzip", 6) == 0)) {
            if (q > gz)
                gz = q;
        } else if (cl == 1 && *s == '*') {
            if (q > *star)
                *star = q;
        }
    }
    return gz;
}

bool vg_http_req_accepts_gzip(const vg_http_req *req)
{
    int gz = -1, star = -1;
    for (size_t i = 0; i < req->nheaders; i++) {
        if (strcasecmp(req->hdr[i].name, "Accept-Encoding") != 0)
            continue;
        int g = gzip_weight_in(req->hdr[i].value, &star);
        if (g > gz)
            gz = g;
    }
    if (gz >= 0)
        return gz > 0;
    return star > 0;
}

/* ============================ metrics ============================ */

static void count_response(vg_http_server *srv, const char *label, int status, uint64_t start_ns)
{
    char code[12];
    snprintf(code, sizeof code, "%d", status);
    const char *v2[2] = {label, code};
    vg_series_inc(vg_metric_with(srv->m_requests, v2));
    const char *v1[1] = {label};
    uint64_t d = now_ns() - start_ns;
    vg_series_observe(vg_metric_with(srv->m_duration, v1), (double)d / 1e9);
}

static void register_metrics(vg_http_server *srv, vg_registry *reg)
{
    static const char *const l2[2] = {"handler", "code"};
    static const char *const l1[1] = {"handler"};
    if (!reg)
        return;
    srv->m_requests = vg_registry_add(reg, "vigil_http_requests_total", VG_MT_COUNTER,
                                      "HTTP requests answered, by handler and status code.", 2,
                                      l2, NULL, 0, 0);
    srv->m_duration = vg_registry_add(reg, "vigil_http_request_duration_seconds",
                                      VG_MT_HISTOGRAM,
                                      "Time from a complete request head to its answer, by handler.",
                                      1, l1, NULL, 0, 0);
    vg_metric *g = vg_registry_add(reg, "vigil_http_connections", VG_MT_GAUGE,
                                   "Open HTTP client connections.", 0, NULL, NULL, 0, 0);
    vg_metric *r = vg_registry_add(reg, "vigil_http_connections_rejected_total", VG_MT_COUNTER,
                                   "HTTP connections closed at accept because the connection cap was reached.",
                                   0, NULL, NULL, 0, 0);
    if (!srv->m_requests || !srv->m_duration || !g || !r)
        vg_log_warn(srv->log, COMP, "http metrics not registered (already present in the registry?)");
    srv->s_conns = vg_metric_series0(g);
    srv->s_rejected = vg_metric_series0(r);
    vg_series_set(srv->s_conns, 0);
    /* Touch the rejected counter so it is exported as 0 from the start. */
    vg_series_add(srv->s_rejected, 0);
}

/* ============================ connections ============================ */

static void conn_timer_cb(vg_loop *loop, uint64_t id, void *ud);

static void conn_timer_set(conn *c, timer_kind k, unsigned ms)
{
    vg_http_server *srv = c->srv;
    if (c->timer)
        vg_loop_timer_cancel(srv->loop, c->timer);
    c->timer = 0;
    c->tkind = T_NONE;
    if (k == T_NONE)
        return;
    if (vg_loop_timer_add(srv->loop, ms, false, conn_timer_cb, c, &c->timer) == 0)
        c->tkind = k;
    else
        c->dead = true; /* no timer means no bound on this client: drop it */
}

static void conn_detach_req(conn *c)
{
    if (c->req) {
        c->req->c = NULL;
        c->req = NULL;
    }
}

static void conn_destroy(conn *c)
{
    vg_http_server *srv = c->srv;
    vg_http_stream *w = c->stream;
    if (w)
        stream_detach(w);
    if (c->timer)
        vg_loop_timer_cancel(srv->loop, c->timer);
    vg_loop_fd_del(srv->loop, c->fd);
    close(c->fd);
    conn_detach_req(c);
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    srv->nconns--;
    vg_series_set(srv->s_conns, (double)srv->nconns);
    vg_buf_release(&c->out);
    free(c->in);
    free(c);
    /* A paused stream's owner waits for a callback: the client is gone
     * (writes now say so), which it must hear to end the answer. */
    if (w)
        stream_resume(w);
}

static void conn_update_events(conn *c)
{
    unsigned ev = 0;
    if (c->state == CS_LINGER)
        ev = VG_EV_READ;
    else if (!c->peer_eof && c->in_len < c->srv->max_head)
        ev = VG_EV_READ;
    if (c->out_off < c->out.len)
        ev |= VG_EV_WRITE;
    if (ev != c->events) {
        if (vg_loop_fd_mod(c->srv->loop, c->fd, ev) < 0)
            c->dead = true;
        else
            c->events = ev;
    }
}

static void conn_enter(conn *c) { c->busy++; }

/* Bytes taken from callers that the socket has not taken yet. */
static size_t conn_queued(const conn *c) { return c->out.len - c->out_off; }

static void conn_note_queued(conn *c)
{
    size_t q = conn_queued(c);
    if (q > c->srv->queued_peak)
        c->srv->queued_peak = q;
}

static void conn_leave(conn *c)
{
    if (--c->busy > 0)
        return;
    if (!c->dead)
        conn_update_events(c);
    if (c->dead)
        conn_destroy(c);
}

/* Write what we can. Errors (reset, EPIPE) mark the connection dead. */
static void conn_flush(conn *c)
{
    while (c->out_off < c->out.len) {
        ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                c->dead = true;
            return;
        }
        c->out_off += (size_t)n;
    }
    vg_buf_reset(&c->out);
    c->out_off = 0;
}

/* Read into the input buffer (or discard while lingering). */
static void conn_read(conn *c)
{
    vg_http_server *srv = c->srv;
    if (c->state == CS_LINGER) {
        char sink[4096];
        for (;;) {
            ssize_t n = recv(c->fd, sink, sizeof sink, MSG_DONTWAIT);
            if (n > 0) {
                c->lingered += (size_t)n;
                if (c->lingered > LINGER_MAX_BYTES) {
                    c->dead = true;
                    return;
                }
                continue;
            }
            if (n < 0 && errno == EINTR)
                continue;
            if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
                c->dead = true; /* client closed: lingering done */
            return;
        }
    }
    while (!c->peer_eof && c->in_len < srv->max_head) {
        ssize_t n = recv(c->fd, c->in + c->in_len, srv->max_head - c->in_len, MSG_DONTWAIT);
        if (n > 0) {
            c->in_len += (size_t)n;
            continue;
        }
        if (n == 0) {
            c->peer_eof = true;
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            c->peer_eof = true;
            c->dead = true;
        }
        return;
    }
}

/*
 * Send head (in c->out) and body straight from the caller's memory, as far
 * as the socket takes them without blocking, so a large body (a metrics
 * exposition of several MB) is not copied whole into c->out: only what the
 * socket did not take is. Returns the body bytes sent; a send error marks
 * the connection dead (nothing more will be written).
 */
static size_t conn_send_direct(conn *c, const char *body, size_t len)
{
    size_t sent = 0;
    while (!c->dead && sent < len) {
        struct iovec iov[2];
        int n = 0;
        if (c->out_off < c->out.len) {
            iov[n].iov_base = c->out.data + c->out_off;
            iov[n++].iov_len = c->out.len - c->out_off;
        }
        iov[n].iov_base = (void *)(body + sent);
        iov[n++].iov_len = len - sent;
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)n};
        ssize_t w = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                c->dead = true;
            break;
        }
        size_t head_left = c->out.len - c->out_off;
        size_t h = (size_t)w < head_left ? (size_t)w : head_left;
        c->out_off += h;
        sent += (size_t)w - h;
    }
    return sent;
}

/*
 * Status line and headers through the blank line. len: Content-Length, or
 * -1 for none, -2 for Transfer-Encoding: chunked.
 */
static int put_head(vg_buf *o, int status, const char *ctype, const char *extra, long long len,
                    bool gzip, bool vary, bool close_conn, bool keepalive_hdr)
{
    int rc = vg_buf_printf(o, "HTTP/1.1 %d %s\r\n", status, reason(status));
    if (!rc)
        rc = put_date(o);
    if (!rc && ctype && *ctype)
        rc = vg_buf_printf(o, "Content-Type: %s\r\n", ctype);
    if (!rc && len >= 0)
        rc = vg_buf_printf(o, "Content-Length: %lld\r\n", len);
    else if (!rc && len == -2)
        rc = vg_buf_puts(o, "Transfer-Encoding: chunked\r\n");
    if (!rc && gzip)
        rc = vg_buf_puts(o, "Content-Encoding: gzip\r\n");
    if (!rc && vary)
        rc = vg_buf_puts(o, "Vary: Accept-Encoding\r\n");
    if (!rc && close_conn)
        rc = vg_buf_puts(o, "Connection: close\r\n");
    else if (!rc && keepalive_hdr)
        rc = vg_buf_puts(o, "Connection: keep-alive\r\n");
    if (!rc && extra && *extra) {
        size_t el = strlen(extra);
        rc = vg_buf_append(o, extra, el);
        if (!rc && (el < 2 || extra[el - 2] != '\r' || extra[el - 1] != '\n'))
            rc = vg_buf_puts(o, "\r\n");
    }
    if (!rc)
        rc = vg_buf_puts(o, "\r\n");
    return rc;
}

/*
 * Queue a complete response on c. Counts it. status/ctype/extra/body as
 * for vg_http_req_respond; head_only drops the body (HEAD).
 */
static int conn_queue_response(conn *c, const char *label, uint64_t start_ns, int status,
                               const char *ctype, const char *extra, const void *body,
                               size_t len, bool head_only, bool gzip, bool close_conn,
                               bool keepalive_hdr)
{
    vg_http_server *srv = c->srv;
    vg_buf *o = &c->out;
    size_t mark = o->len;
    vg_buf gz = VG_BUF_INIT;
    bool vary = false;
    bool no_body = status == 204 || status == 304;
    int rc;

    if (gzip && !no_body && len > GZIP_MIN_BYTES) {
        vary = true;
        if (vg_gzip_compress(body, len, VG_GZIP_LEVEL_DEFAULT, &gz) == 0) {
            body = gz.data;
            len = gz.len;
        } else {
            vg_buf_release(&gz);
            gzip = false;
        }
    } else {
        gzip = false;
    }

    rc = put_head(o, status, ctype, extra, no_body ? -1 : (long long)len, gzip, vary, close_conn,
                  keepalive_hdr);
    if (!rc && !head_only && !no_body && len) {
        /* Nothing queued before this answer: send what the socket takes now. */
        if (mark == 0 && c->out_off == 0 && len >= DIRECT_MIN_BYTES) {
            size_t sent = conn_send_direct(c, body, len);
            body = (const char *)body + sent;
            len -= sent;
        }
        if (len && !c->dead)
            rc = vg_buf_append(o, body, len);
    }
    conn_note_queued(c);
    vg_buf_release(&gz);
    if (rc) {
        /* Out of memory mid-response: drop the partial bytes and the
         * connection; a body cut short by it (part of it may have gone
         * out directly) ends with the connection, never mistaken for whole. */
        o->len = mark;
        if (o->data)
            o->data[mark] = '\0';
        c->dead = true;
        return rc;
    }
    if (close_conn)
        c->close_after = true;
    c->state = CS_WRITE;
    conn_timer_set(c, T_WRITE, srv->write_timeout_ms);
    count_response(srv, label, status, start_ns);
    return 0;
}

/* An answer from the server itself (errors before or instead of a handler). */
static void conn_error(conn *c, const vg_http_req *req, int status, const char *extra,
                       bool close_conn)
{
    const char *msg = reason(status);
    char body[64];
    int n = snprintf(body, sizeof body, "%s\n", msg);
    bool head = req ? req->is_head : false;
    uint64_t start = req ? req->start_ns : now_ns();
    if (c->srv->draining || c->peer_eof)
        close_conn = true;
    bool ka10 = req && !close_conn && req->version_minor == 0;
    conn_queue_response(c, "other", start, status, "text/plain; charset=utf-8", extra, body,
                        (size_t)n, head, false, close_conn, ka10);
}

static void req_free(vg_http_req *req)
{
    if (!req)
        return;
    free(req->strs);
    free(req);
}

/* Copy the parsed head into a request that owns its strings. */
static vg_http_req *req_build(const vg_http_head *h)
{
    size_t need = h->target_len + 2;
    for (size_t i = 0; i < h->nheaders; i++)
        need += h->headers[i].name_len + h->headers[i].value_len + 2;
    vg_http_req *req = calloc(1, sizeof(*req));
    char *s = malloc(need);
    if (!req || !s) {
        free(req);
        free(s);
        return NULL;
    }
    req->strs = s;
    memcpy(req->method, h->method, sizeof(req->method));
    const char *q = memchr(h->target, '?', h->target_len);
    size_t plen = q ? (size_t)(q - h->target) : h->target_len;
    req->path = s;
    memcpy(s, h->target, plen);
    s[plen] = '\0';
    s += plen + 1;
    req->query = s;
    if (q) {
        size_t ql = h->target_len - plen - 1;
        memcpy(s, q + 1, ql);
        s[ql] = '\0';
        s += ql + 1;
    } else {
        *s++ = '\0';
    }
    for (size_t i = 0; i < h->nheaders; i++) {
        req->hdr[i].name = s;
        memcpy(s, h->headers[i].name, h->headers[i].name_len);
        s[h->headers[i].name_len] = '\0';
        s += h->headers[i].name_len + 1;
        req->hdr[i].value = s;
        memcpy(s, h->headers[i].value, h->headers[i].value_len);
        s[h->headers[i].value_len] = '\0';
        s += h->headers[i].value_len + 1;
    }
    req->nheaders = h->nheaders;
    req->version_minor = h->version_minor;
    req->is_head = strcmp(req->method, "HEAD") == 0;
    /* Keep-alive: default on for 1.1 unless "close", off for 1.0 unless
     * "keep-alive"; Connection may repeat, each a token list. */
    bool has_close = false, has_ka = false;
    for (size_t i = 0; i < req->nheaders; i++) {
        if (strcasecmp(req->hdr[i].name, "Connection") != 0)
            continue;
        has_close |= list_has_token(req->hdr[i].value, "close");
        has_ka |= list_has_token(req->hdr[i].value, "keep-alive");
    }
    req->keep_alive = h->version_minor == 1 ? !has_close : (has_ka && !has_close);
    req->label = "other";
    req->start_ns = now_ns();
    req->start_ms = req->start_ns / 1000000u;
    return req;
}

/*
 * Body framing check for GET/HEAD. 0 = no body; else the status to send
 * (413: a body, which we never read; 400: unparseable framing).
 */
static int req_body_status(const vg_http_req *req)
{
    const char *cl = NULL;
    bool te = false;
    int st = 0;
    for (size_t i = 0; i < req->nheaders; i++) {
        const char *n = req->hdr[i].name, *v = req->hdr[i].value;
        if (strcasecmp(n, "Transfer-Encoding") == 0) {
            te = true;
            /* chunked framing is a body; other codings cannot be framed */
            if (st != 400)
                st = list_has_token(v, "chunked") ? 413 : 400;
        } else if (strcasecmp(n, "Content-Length") == 0) {
            if (!*v)
                return 400;
            for (const char *p = v; *p; p++)
                if (!is_digit(*p))
                    return 400;
            if (cl && strcmp(cl, v) != 0)
                return 400;
            cl = v;
        }
    }
    if (te && cl)
        return 400; /* both: a smuggling attempt or a broken client */
    if (te)
        return st;
    if (cl) {
        const char *p = cl;
        while (*p == '0')
            p++;
        if (*p)
            return 413;
    }
    return 0;
}

static const route *route_find(const vg_http_server *srv, const char *path)
{
    for (size_t i = 0; i < srv->nroutes; i++)
        if (strcmp(srv->routes[i].path, path) == 0)
            return &srv->routes[i];
    return NULL;
}

/* A complete head is at the front of c->in: answer or dispatch it. */
static void conn_dispatch(conn *c, const vg_http_head *h)
{
    vg_http_server *srv = c->srv;
    vg_http_req *req = req_build(h);
    if (!req) {
        c->dead = true;
        return;
    }
    /* The head is copied; the buffer may take the next request. */
    memmove(c->in, c->in + h->head_len, c->in_len - h->head_len);
    c->in_len -= h->head_len;
    c->scanned = 0;
    if (srv->draining || c->peer_eof)
        req->keep_alive = false;

    if (strcmp(req->method, "GET") != 0 && !req->is_head) {
        /* Any body that may follow is unread: close after answering. */
        conn_error(c, req, 405, "Allow: GET, HEAD\r\n", !req->keep_alive || req_body_status(req) != 0);
        req_free(req);
        return;
    }
    int bs = req_body_status(req);
    if (bs) {
        conn_error(c, req, bs, NULL, true);
        req_free(req);
        return;
    }
    size_t nhost = 0;
    for (size_t i = 0; i < req->nheaders; i++)
        nhost += strcasecmp(req->hdr[i].name, "Host") == 0;
    if ((req->version_minor == 1 && nhost != 1) || nhost > 1) {
        conn_error(c, req, 400, NULL, true);
        req_free(req);
        return;
    }
    const route *rt = route_find(srv, req->path);
    if (!rt) {
        conn_error(c, req, 404, NULL, !req->keep_alive);
        req_free(req);
        return;
    }

    req->label = rt->label;
    req->c = c;
    c->req = req;
    c->state = CS_HANDLER;
    conn_timer_set(c, T_NONE, 0);
    int r = rt->fn(req, rt->ud);
    if (c->req == NULL)
        return; /* answered inside the handler (req is gone) */
    if (r == VG_HTTP_DEFERRED)
        return; /* stays in CS_HANDLER until vg_http_req_respond */
    /* Returned without answering: a handler bug, but the client still
     * gets an answer and the request is not leaked. */
    vg_log_error(srv->log, COMP, "handler returned without responding", "path", req->path);
    vg_http_req_respond(req, 500, "text/plain; charset=utf-8", NULL,
                        "handler did not respond\n", 24, 0);
}

/* Start the closing handshake: our side is done, drain theirs briefly. */
static void conn_begin_linger(conn *c)
{
    if (c->peer_eof) {
        c->dead = true;
        return;
    }
    shutdown(c->fd, SHUT_WR);
    c->state = CS_LINGER;
    c->lingered = 0;
    c->in_len = 0;
    conn_timer_set(c, T_LINGER, LINGER_MS);
}

/* Move the connection forward as far as it can go without blocking. */
static void conn_advance(conn *c)
{
    vg_http_server *srv = c->srv;
    while (!c->dead) {
        switch (c->state) {
        case CS_LINGER:
            return;
        case CS_HANDLER:
            /* The client left while its request was being prepared. */
            if (c->peer_eof)
                c->dead = true;
            return;
        case CS_WRITE:
            conn_flush(c);
            if (c->dead)
                return;
            if (c->stream) {
                /* An open stream goes on when its owner holds it, or
                 * once the queue it paused on has gone to the socket. */
                if (!stream_paused(c->stream) || c->out_off < c->out.len)
                    return;
                stream_resume(c->stream);
                break;
            }
            if (c->out_off < c->out.len)
                return;
            conn_timer_set(c, T_NONE, 0);
            if (c->close_after) {
                conn_begin_linger(c);
                return;
            }
            c->state = CS_HEAD;
            break;
        case CS_HEAD: {
            if (c->in_len == 0) {
                if (c->peer_eof || srv->draining) {
                    c->dead = true;
                    return;
                }
                if (c->tkind == T_NONE)
                    conn_timer_set(c, T_IDLE, srv->idle_timeout_ms);
                return;
            }
            /* Parse only on the first bytes (junk is refused early), when
             * a new line ended, or when the buffer is full. */
            if (c->scanned > 0 && c->in_len < srv->max_head &&
                !memchr(c->in + c->scanned, '\n', c->in_len - c->scanned)) {
                c->scanned = c->in_len;
                goto need_more;
            }
            vg_http_head h;
            long r = vg_http_head_parse(c->in, c->in_len, srv->max_head, &h);
            if (r > 0) {
                conn_dispatch(c, &h);
                break;
            }
            if (r == 0) {
                c->scanned = c->in_len;
                goto need_more;
            }
            c->in_len = 0; /* nothing after a bad head can be trusted */
            if (r == -E2BIG) {
                vg_log_debug(srv->log, COMP, "request head too large", "peer", c->peer);
                conn_error(c, NULL, 431, NULL, true);
            } else if (r == -EPROTONOSUPPORT) {
                conn_error(c, NULL, 505, NULL, true);
            } else {
                vg_log_debug(srv->log, COMP, "malformed request head", "peer", c->peer);
                conn_error(c, NULL, 400, NULL, true);
            }
            break;
        need_more:
            if (c->peer_eof) {
                c->dead = true; /* half a head, then EOF: nobody to answer */
                return;
            }
            if (c->tkind != T_HEAD)
                conn_timer_set(c, T_HEAD, srv->header_timeout_ms);
            return;
        }
        }
    }
}

static void conn_io(vg_loop *loop, int fd, unsigned events, void *ud)
{
    conn *c = ud;
    conn_enter(c);
    if (events & VG_EV_ERROR) {
        c->dead = true;
    } else {
        if (events & VG_EV_WRITE)
            conn_flush(c);
        if (!c->dead && (events & (VG_EV_READ | VG_EV_HUP)))
            conn_read(c);
        conn_advance(c);
    }
    conn_leave(c);
}

static void conn_timer_cb(vg_loop *loop, uint64_t id, void *ud)
{
    conn *c = ud;
    vg_http_server *srv = c->srv;
    timer_kind k = c->tkind;
    c->timer = 0;
    c->tkind = T_NONE;
    conn_enter(c);
    switch (k) {
    case T_HEAD:
        if (c->state == CS_HEAD && c->in_len > 0) {
            vg_log_debug(srv->log, COMP, "request head timeout", "peer", c->peer);
            c->in_len = 0;
            conn_error(c, NULL, 408, NULL, true);
            conn_advance(c);
        } else {
            c->dead = true; /* connected, never sent a byte */
        }
        break;
    case T_WRITE:
        vg_log_debug(srv->log, COMP, "write timeout, dropping stalled reader", "peer", c->peer);
        c->dead = true;
        break;
    case T_IDLE:
    case T_LINGER:
    case T_NONE:
        c->dead = true;
        break;
    }
    conn_leave(c);
}

/* ============================== accepting ============================= */

static void accept_cb(vg_loop *loop, int fd, unsigned events, void *ud);

static void accept_resume(vg_loop *loop, uint64_t id, void *ud)
{
    vg_http_server *srv = ud;
    srv->accept_timer = 0;
    if (srv->lfd >= 0)
        vg_loop_fd_mod(loop, srv->lfd, VG_EV_READ);
}

static void cap_reject(vg_http_server *srv, int fd)
{
    vg_series_inc(srv->s_rejected);
    close(fd);
    uint64_t now = vg_now_ms();
    if (srv->cap_warn_ms && now - srv->cap_warn_ms < WARN_EVERY_MS) {
        srv->cap_suppressed++;
        return;
    }
    char max[16], sup[24];
    snprintf(max, sizeof max, "%u", srv->max_conns);
    snprintf(sup, sizeof sup, "%llu", (unsigned long long)srv->cap_suppressed);
    vg_log_warn(srv->log, COMP, "connection cap reached, rejecting connections", "max_conns", max,
                "rejected_since_last_warning", sup);
    srv->cap_warn_ms = now;
    srv->cap_suppressed = 0;
}

static void peer_name(const struct sockaddr_storage *ss, char *out, size_t n)
{
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        port = ntohs(a->sin_port);
        snprintf(out, n, "%s:%d", host, port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        port = ntohs(a->sin6_port);
        snprintf(out, n, "[%s]:%d", host, port);
    } else {
        snprintf(out, n, "?");
    }
}

static void conn_open(vg_http_server *srv, int fd, const struct sockaddr_storage *ss)
{
    conn *c = calloc(1, sizeof(*c));
    char *in = malloc(srv->max_head);
    if (!c || !in) {
        free(c);
        free(in);
        close(fd);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->srv = srv;
    c->fd = fd;
    c->in = in;
    c->state = CS_HEAD;
    vg_buf_init(&c->out);
    peer_name(ss, c->peer, sizeof c->peer);
    if (vg_loop_fd_add(srv->loop, fd, VG_EV_READ, conn_io, c) < 0) {
        free(in);
        free(c);
        close(fd);
        return;
    }
    c->events = VG_EV_READ;
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    srv->nconns++;
    vg_series_set(srv->s_conns, (double)srv->nconns);
    /* The head timer runs from accept: connecting and sending nothing
     * holds a slot no longer than a slow head would. */
    conn_timer_set(c, T_HEAD, srv->header_timeout_ms);
    if (c->dead)
        conn_destroy(c);
}

static void accept_cb(vg_loop *loop, int fd, unsigned events, void *ud)
{
    vg_http_server *srv = ud;
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int cfd = accept4(fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            /* EMFILE/ENFILE/ENOBUFS: the listener stays readable; pause
             * accepting briefly instead of spinning. */
            int e = errno;
            if (!srv->accept_timer &&
                vg_loop_timer_add(loop, ACCEPT_BACKOFF_MS, false, accept_resume, srv,
                                  &srv->accept_timer) == 0)
                vg_loop_fd_mod(loop, fd, 0);
            uint64_t now = vg_now_ms();
            if (!srv->cap_warn_ms || now - srv->cap_warn_ms >= WARN_EVERY_MS) {
                vg_log_warn(srv->log, COMP, "accept failed, pausing", "err", strerror(e));
                srv->cap_warn_ms = now;
            }
            return;
        }
        if (srv->nconns >= srv->max_conns) {
            cap_reject(srv, cfd);
            continue;
        }
        conn_open(srv, cfd, &ss);
    }
}

/* ============================ server API ============================== */

/* Split "HOST:PORT", "[V6]:PORT", ":PORT". host is "" for the wildcard. */
static int split_listen(const char *listen, char *host, size_t hostlen, char *port, size_t portlen)
{
    const char *colon;
    if (!listen || !*listen)
        return -EINVAL;
    if (listen[0] == '[') {
        const char *rb = strchr(listen, ']');
        if (!rb || rb[1] != ':')
            return -EINVAL;
        size_t hl = (size_t)(rb - listen - 1);
        if (hl == 0 || hl >= hostlen)
            return -EINVAL;
        memcpy(host, listen + 1, hl);
        host[hl] = '\0';
        colon = rb + 1;
    } else {
        colon = strrchr(listen, ':');
        if (!colon || memchr(listen, ':', (size_t)(colon - listen)))
            return -EINVAL; /* bare IPv6 must be bracketed */
        size_t hl = (size_t)(colon - listen);
        if (hl >= hostlen)
            return -EINVAL;
        memcpy(host, listen, hl);
        host[hl] = '\0';
    }
    const char *p = colon + 1;
    size_t pl = strlen(p);
    if (pl == 0 || pl > 5 || pl >= portlen)
        return -EINVAL;
    unsigned v = 0;
    for (size_t i = 0; i < pl; i++) {
        if (!is_digit(p[i]))
            return -EINVAL;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    if (v > 65535)
        return -EINVAL;
    memcpy(port, p, pl + 1);
    return 0;
}

static int bind_one(const struct addrinfo *ai, int *out)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
        return -errno;
    int one = 1, zero = 0, rc;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ai->ai_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero); /* dual-stack wildcard */
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, SOMAXCONN) < 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    *out = fd;
    return 0;
}

static int listen_socket(const char *listen, int *fd_out, int *port_out)
{
    char host[256], port[8];
    int rc = split_listen(listen, host, sizeof host, port, sizeof port);
    if (rc)
        return rc;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    if (!host[0]) {
        /* Wildcard: prefer one dual-stack socket, else IPv4 only. */
        hints.ai_family = AF_INET6;
        if (getaddrinfo(NULL, port, &hints, &res) == 0) {
            rc = bind_one(res, fd_out);
            freeaddrinfo(res);
            res = NULL;
            if (rc == 0 || rc == -EADDRINUSE || rc == -EACCES)
                goto bound;
        }
        hints.ai_family = AF_INET;
    }
    int gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (gai != 0)
        return gai == EAI_MEMORY ? -ENOMEM : gai == EAI_SYSTEM ? (errno ? -errno : -EIO) : -EADDRNOTAVAIL;
    rc = -EADDRNOTAVAIL;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        rc = bind_one(ai, fd_out);
        if (rc == 0)
            break;
    }
    freeaddrinfo(res);
bound:
    if (rc)
        return rc;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(*fd_out, (struct sockaddr *)&ss, &sl) < 0) {
        rc = -errno;
        close(*fd_out);
        return rc;
    }
    *port_out = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                         : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return 0;
}

int vg_http_server_new(vg_loop *loop, const vg_http_opts *opts, vg_registry *reg, vg_log *log,
                       vg_http_server **out)
{
    int rc;
    if (!loop || !opts || !out)
        return -EINVAL;
    if (opts->max_head_bytes && opts->max_head_bytes < 64)
        return -EINVAL; /* cannot hold a request line */
    vg_http_server *srv = calloc(1, sizeof(*srv));
    if (!srv)
        return -ENOMEM;
    srv->loop = loop;
    srv->log = log;
    srv->lfd = -1;
    srv->max_head = opts->max_head_bytes ? opts->max_head_bytes : DEF_MAX_HEAD;
    srv->header_timeout_ms = opts->header_timeout_ms ? opts->header_timeout_ms : DEF_HEADER_TIMEOUT_MS;
    srv->idle_timeout_ms = opts->idle_timeout_ms ? opts->idle_timeout_ms : DEF_IDLE_TIMEOUT_MS;
    srv->write_timeout_ms = opts->write_timeout_ms ? opts->write_timeout_ms : DEF_WRITE_TIMEOUT_MS;
    srv->max_conns = opts->max_conns ? opts->max_conns : DEF_MAX_CONNS;

    rc = listen_socket(opts->listen, &srv->lfd, &srv->port);
    if (rc)
        goto fail;
    rc = vg_loop_fd_add(loop, srv->lfd, VG_EV_READ, accept_cb, srv);
    if (rc)
        goto fail;
    register_metrics(srv, reg);
    *out = srv;
    return 0;
fail:
    if (srv->lfd >= 0)
        close(srv->lfd);
    free(srv);
    return rc;
}

int vg_http_server_route(vg_http_server *srv, const char *path, const char *label,
                         vg_http_handler_fn fn, void *ud)
{
    if (!srv || !path || path[0] != '/' || !label || !*label || !fn)
        return -EINVAL;
    if (route_find(srv, path))
        return -EEXIST;
    route *r = realloc(srv->routes, (srv->nroutes + 1) * sizeof(*r));
    if (!r)
        return -ENOMEM;
    srv->routes = r;
    char *p = strdup(path), *l = strdup(label);
    if (!p || !l) {
        free(p);
        free(l);
        return -ENOMEM;
    }
    r[srv->nroutes].path = p;
    r[srv->nroutes].label = l;
    r[srv->nroutes].fn = fn;
    r[srv->nroutes].ud = ud;
    srv->nroutes++;
    return 0;
}

int vg_http_server_port(const vg_http_server *srv) { return srv->port; }

size_t vg_http_server_queued_peak(const vg_http_server *srv) { return srv->queued_peak; }

void vg_http_server_stop_accepting(vg_http_server *srv)
{
    if (srv->accept_timer) {
        vg_loop_timer_cancel(srv->loop, srv->accept_timer);
        srv->accept_timer = 0;
    }
    if (srv->lfd >= 0) {
        vg_loop_fd_del(srv->loop, srv->lfd);
        close(srv->lfd);
        srv->lfd = -1;
    }
    srv->draining = true;
    /* Idle keep-alive connections have nothing in flight: close them now.
     * The others close after their current answer (Connection: close). */
    conn *c = srv->conns;
    while (c) {
        conn *next = c->next;
        if (c->busy == 0 && c->state == CS_HEAD && c->in_len == 0)
            conn_destroy(c);
        c = next;
    }
}

size_t vg_http_server_inflight(const vg_http_server *srv)
{
    size_t n = 0;
    for (const conn *c = srv->conns; c; c = c->next)
        if (c->state == CS_HANDLER || c->stream ||
            (c->state == CS_WRITE && c->out_off < c->out.len))
            n++;
    return n;
}

void vg_http_server_free(vg_http_server *srv)
{
    if (!srv)
        return;
    vg_http_server_stop_accepting(srv);
    while (srv->conns)
        conn_destroy(srv->conns); /* detaches deferred requests */
    for (size_t i = 0; i < srv->nroutes; i++) {
        free(srv->routes[i].path);
        free(srv->routes[i].label);
    }
    free(srv->routes);
    free(srv);
}

/* ============================ request API ============================= */

const char *vg_http_req_method(const vg_http_req *req) { return req->method; }
const char *vg_http_req_path(const vg_http_req *req) { return req->path; }
const char *vg_http_req_query(const vg_http_req *req) { return req->query; }
bool vg_http_req_is_head(const vg_http_req *req) { return req->is_head; }
unsigned long long vg_http_req_start_ms(const vg_http_req *req) { return req->start_ms; }

const char *vg_http_req_header(const vg_http_req *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (strcasecmp(req->hdr[i].name, name) == 0)
            return req->hdr[i].value;
    return NULL;
}

bool vg_http_req_has_param(const vg_http_req *req, const char *name)
{
    size_t nl = strlen(name);
    const char *p = req->query;
    while (nl && *p) {
        const char *e = strchr(p, '&');
        size_t kl = e ? (size_t)(e - p) : strlen(p);
        const char *eq = memchr(p, '=', kl);
        size_t keyl = eq ? (size_t)(eq - p) : kl;
        if (keyl == nl && memcmp(p, name, nl) == 0)
            return true;
        if (!e)
            break;
        p = e + 1;
    }
    return false;
}

int vg_http_req_respond(vg_http_req *req, int status, const char *content_type,
                        const char *extra_headers, const void *body, size_t len, unsigned flags)
{
    if (!req)
        return -EINVAL;
    conn *c = req->c;
    if (!c) {
        req_free(req); /* client or server went away meanwhile */
        return -ECONNRESET;
    }
    int rc = 0;
    bool outermost = c->busy == 0;
    conn_enter(c);
    c->req = NULL;
    req->c = NULL;
    if (status < 200 || status > 599 || (len && !body)) {
        vg_log_error(c->srv->log, COMP, "invalid response from handler", "path", req->path);
        rc = -EINVAL;
        status = 500;
        content_type = "text/plain; charset=utf-8";
        extra_headers = NULL;
        body = "invalid response\n";
        len = 17;
        flags = 0;
    }
    bool close_conn = !req->keep_alive || c->srv->draining || c->peer_eof;
    bool gz = (flags & VG_HTTP_F_GZIP_OK) && vg_http_req_accepts_gzip(req);
    int qrc = conn_queue_response(c, req->label, req->start_ns, status, content_type,
                                  extra_headers, body, len, req->is_head, gz, close_conn,
                                  !close_conn && req->version_minor == 0);
    if (qrc && !rc)
        rc = qrc;
    req_free(req);
    /* Deferred answer: nobody else is driving this connection right now. */
    if (outermost)
        conn_advance(c);
    conn_leave(c);
    return rc;
}

/* ============================ streamed answers ============================ */

/* Pending output past which a stream write tries the socket. */
#define STREAM_FLUSH_BYTES (64u * 1024u)

/*
 * A stream's owner is either on the stack with it (held: between begin or
 * a callback and its return, w holds a busy count on c, as a callback
 * does) or waiting (paused: no count, so a dead connection is freed and
 * tells the owner through fn).
 */
struct vg_http_stream {
    vg_http_req *req;        /* owned until vg_http_stream_end */
    conn *c;                 /* NULL: the client went away (or the server was freed) */
    bool held;               /* w holds a busy count on c */
    bool outermost;          /* while held: no callback of c below us on the stack */
    bool paused;             /* waiting for its queue to drain; fn is called then */
    bool counted;            /* the answer is in vigil_http_requests_total */
    bool chunked;            /* else the body is collected and sent whole */
    bool head_only;
    bool close_conn;
    int status;
    const char *ctype, *extra; /* the caller's, valid until end */
    bool gzip;
    vg_gzip_stream *gz;      /* chunked and gzip: compressed as it goes */
    vg_buf body;             /* collected body (HTTP/1.0), or gzip output */
    vg_http_stream_fn fn;    /* while paused */
    void *fn_ud;
};

/* Send what the socket takes now; keep the rest, compacted. */
static void stream_push(conn *c)
{
    conn_flush(c);
    if (c->out_off > 0 && c->out_off >= c->out.len / 2) {
        vg_buf_consume(&c->out, c->out_off);
        c->out_off = 0;
    }
}

/* The owner is back on the stack with w: hold c as a callback does. */
static void stream_hold(vg_http_stream *w)
{
    conn *c = w->c;
    w->paused = false;
    if (!c || w->held)
        return;
    w->outermost = c->busy == 0;
    conn_enter(c);
    w->held = true;
}

/* c is being freed under w (client gone, write timeout, server freed). */
static void stream_detach(vg_http_stream *w)
{
    conn *c = w->c;
    if (w->chunked && !w->counted) {
        /* its head went out: the answer counts as begun */
        count_response(c->srv, w->req->label, w->status, w->req->start_ns);
        w->counted = true;
    }
    c->stream = NULL;
    w->c = NULL;
    w->held = false;
}

static bool stream_paused(const vg_http_stream *w) { return w->paused; }

/* A paused w may go on (its queue drained) or must end (c is gone). */
static void stream_resume(vg_http_stream *w)
{
    if (!w->paused)
        return;
    stream_hold(w);
    w->fn(w, w->fn_ud);
}

int vg_http_req_stream_begin(vg_http_req *req, int status, const char *content_type,
                             const char *extra_headers, unsigned flags, vg_http_stream **out)
{
    *out = NULL;
    if (!req)
        return -EINVAL;
    if (status < 200 || status > 599 || status == 204 || status == 304) {
        vg_http_req_respond(req, 0, NULL, NULL, NULL, 0, 0); /* logged; the client gets 500 */
        return -EINVAL;
    }
    vg_http_stream *w = calloc(1, sizeof *w);
    if (!w) {
        vg_http_req_respond(req, 500, "text/plain; charset=utf-8", NULL, "out of memory\n", 14, 0);
        return -ENOMEM;
    }
    w->req = req;
    w->status = status;
    w->ctype = content_type;
    w->extra = extra_headers;
    vg_buf_init(&w->body);
    conn *c = req->c;
    w->c = c;
    if (!c) {
        *out = w; /* writes are dropped; end reports -ECONNRESET */
        return 0;
    }
    stream_hold(w);
    c->req = NULL;
    req->c = NULL;
    c->stream = w;
    w->head_only = req->is_head;
    w->close_conn = !req->keep_alive || c->srv->draining || c->peer_eof;
    w->gzip = (flags & VG_HTTP_F_GZIP_OK) && vg_http_req_accepts_gzip(req);
    /* HTTP/1.0 has no chunks: its body is collected (and gzipped whole) */
    w->chunked = req->version_minor == 1;
    if (w->chunked && w->gzip && !w->head_only && vg_gzip_stream_new(VG_GZIP_LEVEL_DEFAULT, &w->gz))
        w->gzip = false; /* no memory for zlib: plain chunks */
    if (w->chunked) {
        if (put_head(&c->out, status, content_type, extra_headers, -2, w->gzip, w->gzip,
                     w->close_conn, false)) {
            c->dead = true;
        } else {
            conn_note_queued(c);
            c->state = CS_WRITE;
            conn_timer_set(c, T_WRITE, c->srv->write_timeout_ms);
        }
    }
    *out = w;
    return 0;
}

/* Frame n bytes as one chunk on c (n > 0). */
static int put_chunk(conn *c, const void *p, size_t n)
{
    char sz[24];
    int k = snprintf(sz, sizeof sz, "%zx\r\n", n);
    if (vg_buf_reserve(&c->out, (size_t)k + n + 2)) {
        c->dead = true; /* a chunk cannot be half-framed: drop the client */
        return -ENOMEM;
    }
    vg_buf_append(&c->out, sz, (size_t)k);
    vg_buf_append(&c->out, p, n);
    vg_buf_append(&c->out, "\r\n", 2);
    conn_note_queued(c);
    if (conn_queued(c) >= STREAM_FLUSH_BYTES)
        stream_push(c);
    return c->dead ? -ECONNRESET : 0;
}

int vg_http_stream_write(vg_http_stream *w, const void *p, size_t n)
{
    stream_hold(w);
    conn *c = w->c;
    if (!c || c->dead)
        return -ECONNRESET;
    if (w->head_only || n == 0)
        return 0;
    if (!w->chunked)
        return vg_buf_append(&w->body, p, n);
    if (!w->gz)
        return put_chunk(c, p, n);
    vg_buf_reset(&w->body);
    int rc = vg_gzip_stream_write(w->gz, p, n, 0, &w->body);
    if (rc) {
        c->dead = true; /* the compressed stream cannot go on */
        return rc;
    }
    return w->body.len ? put_chunk(c, w->body.data, w->body.len) : 0;
}

size_t vg_http_stream_queued(const vg_http_stream *w)
{
    return w->c ? conn_queued(w->c) : 0;
}

int vg_http_stream_pause(vg_http_stream *w, vg_http_stream_fn fn, void *ud)
{
    conn *c = w->c;
    if (!fn)
        return -EINVAL;
    if (!c || c->dead)
        return -ECONNRESET;
    if (w->paused) {
        w->fn = fn;
        w->fn_ud = ud;
        return 0;
    }
    /* Only a chunked body waits on the socket; a drained queue never
     * brings a writable event. */
    if (!w->chunked || conn_queued(c) == 0)
        return -EAGAIN;
    w->fn = fn;
    w->fn_ud = ud;
    w->paused = true;
    w->held = false;
    if (--c->busy == 0) {
        /* nobody below us: we set the interest the writable event needs */
        conn_update_events(c);
        if (c->dead) {
            /* cannot be watched: hold it again, the owner ends it */
            w->paused = false;
            w->held = true;
            w->outermost = true;
            c->busy++;
            return -ECONNRESET;
        }
    }
    return 0;
}

int vg_http_stream_end(vg_http_stream *w, int error)
{
    if (!w)
        return -EINVAL;
    stream_hold(w);
    conn *c = w->c;
    vg_http_req *req = w->req;
    int rc = error;
    if (c)
        c->stream = NULL;
    if (!c) {
        rc = -ECONNRESET;
    } else if (w->chunked) {
        if (!error && w->gz && !c->dead) {
            /* the rest of the compressed stream and its trailer */
            vg_buf_reset(&w->body);
            error = vg_gzip_stream_write(w->gz, NULL, 0, 1, &w->body);
            if (!error && w->body.len)
                error = put_chunk(c, w->body.data, w->body.len);
            rc = error;
        }
        if (error) {
            /* No last chunk: the client sees a cut response, not a short one. */
            w->close_conn = true;
        } else if (!w->head_only && !c->dead && vg_buf_append(&c->out, "0\r\n\r\n", 5)) {
            rc = -ENOMEM;
            w->close_conn = true;
        }
        if (w->close_conn)
            c->close_after = true;
        if (c->dead && !rc)
            rc = -ECONNRESET;
        count_response(c->srv, req->label, error ? 500 : w->status, req->start_ns);
    } else if (!c->dead) {
        int q;
        if (error)
            q = conn_queue_response(c, req->label, req->start_ns, 500, "text/plain; charset=utf-8",
                                    NULL, "internal error\n", 15, w->head_only, false,
                                    w->close_conn, !w->close_conn && req->version_minor == 0);
        else
            q = conn_queue_response(c, req->label, req->start_ns, w->status, w->ctype, w->extra,
                                    w->body.data, w->body.len, w->head_only, w->gzip,
                                    w->close_conn, !w->close_conn && req->version_minor == 0);
        if (q && !rc)
            rc = q;
    } else if (!rc) {
        rc = -ECONNRESET;
    }
    vg_gzip_stream_free(w->gz);
    vg_buf_release(&w->body);
    req_free(req);
    if (c) {
        if (w->outermost)
            conn_advance(c);
        conn_leave(c);
    }
    free(w);
    return rc;
}
