/*
 * test_vg_http.c - the request head parser and the HTTP server.
 *
 * Parser cases run on strings. Server cases run a real server on
 * 127.0.0.1:0 with its loop in a second thread, driven by blocking client
 * sockets from the test thread (receive timeouts bound every wait). Code
 * that must run on the loop thread (answering a deferred request, reading
 * inflight) is shipped there with fx_call over a vg_async.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "vg_buf.h"
#include "vg_http.h"
#include "vg_loop.h"
#include "vg_metrics.h"
#include "http_test_client.h"

/* ============================== parser ============================== */

static long parse_str(const char *s, vg_http_head *h)
{
    return vg_http_head_parse(s, strlen(s), 8192, h);
}

static bool slice_is(const char *p, size_t n, const char *lit)
{
    return n == strlen(lit) && memcmp(p, lit, n) == 0;
}

static void test_parse_good(void **state)
{
    vg_http_head h;
    const char *req = "GET /metrics?verbose=1 HTTP/1.1\r\n"
                      "Host: example\r\n"
                      "Accept-Encoding:  gzip, deflate \t\r\n"
                      "X-Empty:\r\n"
                      "X-Bytes: caf\xc3\xa9\r\n"
                      "\r\n"
                      "GET /next HTTP/1.1\r\n";
    long n = parse_str(req, &h);
    assert_int_equal(n, strstr(req, "\r\n\r\n") + 4 - req);
    assert_int_equal(h.head_len, (size_t)n);
    assert_string_equal(h.method, "GET");
    assert_true(slice_is(h.target, h.target_len, "/metrics?verbose=1"));
    assert_true(h.target >= req && h.target < req + n); /* points into the input */
    assert_int_equal(h.version_minor, 1);
    assert_int_equal(h.nheaders, 4);
    assert_true(slice_is(h.headers[0].name, h.headers[0].name_len, "Host"));
    assert_true(slice_is(h.headers[0].value, h.headers[0].value_len, "example"));
    assert_true(slice_is(h.headers[1].value, h.headers[1].value_len, "gzip, deflate"));
    assert_int_equal(h.headers[2].value_len, 0);
    assert_true(slice_is(h.headers[3].value, h.headers[3].value_len, "caf\xc3\xa9"));

    /* HTTP/1.0, bare LF line ends, leading empty lines skipped. */
    const char *lf = "\r\n\nHEAD / HTTP/1.0\nUser-Agent: x\n\n";
    n = parse_str(lf, &h);
    assert_int_equal(n, (long)strlen(lf));
    assert_string_equal(h.method, "HEAD");
    assert_int_equal(h.version_minor, 0);
    assert_int_equal(h.nheaders, 1);
    assert_true(slice_is(h.headers[0].value, h.headers[0].value_len, "x"));

    /* Mixed CRLF and LF. */
    assert_true(parse_str("GET / HTTP/1.1\r\nA: b\n\r\n", &h) > 0);
    /* 15-char method is the longest that fits. */
    assert_true(parse_str("ABCDEFGHIJKLMNO / HTTP/1.1\r\n\r\n", &h) > 0);
    assert_string_equal(h.method, "ABCDEFGHIJKLMNO");
}

static void test_parse_incomplete(void **state)
{
    const char *req = "GET /x HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n";
    size_t len = strlen(req);
    vg_http_head h;
    /* Every proper prefix needs more bytes; none is an error. */
    for (size_t i = 0; i < len; i++)
        assert_int_equal(vg_http_head_parse(req, i, 8192, &h), 0);
    assert_int_equal(vg_http_head_parse(req, len, 8192, &h), (long)len);
}

static void test_parse_malformed(void **state)
{
    static const char *const bad[] = {
        "GET  / HTTP/1.1\r\n\r\n",              /* double space */
        "GET / HTTP/1.1 \r\n\r\n",              /* trailing space */
        "GET /\r\n\r\n",                        /* HTTP/0.9 style */
        "GET / \r\n\r\n",
        " GET / HTTP/1.1\r\n\r\n",
        "G@T / HTTP/1.1\r\n\r\n",               /* non-token method */
        "GET * HTTP/1.1\r\n\r\n",               /* asterisk-form */
        "GET http://x/ HTTP/1.1\r\n\r\n",       /* absolute-form */
        "GET /a\tb HTTP/1.1\r\n\r\n",
        "GET / http/1.1\r\n\r\n",
        "GET / HTTP/1.1x\r\n\r\n",
        "GET / HTTP/10.0\r\n\r\n",
        "GET / HTTP/1\r\n\r\n",
        "ABCDEFGHIJKLMNOP / HTTP/1.1\r\n\r\n",  /* 16-char method */
        "GET / HTTP/1.1\r\nBad Header: x\r\n\r\n",
        "GET / HTTP/1.1\r\nX : y\r\n\r\n",      /* space before colon */
        "GET / HTTP/1.1\r\n: v\r\n\r\n",        /* empty name */
        "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
        "GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n",  /* obs-fold */
        "GET / HTTP/1.1\r\nX: a\r\n\tfolded\r\n\r\n",
        "GET / HTTP/1.1\r\nX: a\001b\r\n\r\n", /* control byte */
        "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n",    /* bare CR */
        "GET / HTTP/1.1\r\r\n\r\n",
        "GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n",
        "GET /\xc3\xa9 HTTP/1.1\r\n\r\n",      /* raw non-ASCII target */
    };
    vg_http_head h;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        h.nheaders = 999; /* outputs are written only on success */
        long r = parse_str(bad[i], &h);
        if (r != -EBADMSG)
            print_error("case %zu: %s -> %ld\n", i, bad[i], r);
        assert_int_equal(r, -EBADMSG);
        assert_int_equal(h.nheaders, 999);
    }
    /* NUL inside a header value. */
    static const char nul[] = "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n";
    assert_int_equal(vg_http_head_parse(nul, sizeof nul - 1, 8192, &h), -EBADMSG);

    /* Well-formed but unsupported versions: 505, not 400. */
    assert_int_equal(parse_str("GET / HTTP/2.0\r\n\r\n", &h), -EPROTONOSUPPORT);
    assert_int_equal(parse_str("GET / HTTP/1.2\r\n\r\n", &h), -EPROTONOSUPPORT);
    assert_int_equal(parse_str("GET / HTTP/0.9\r\n\r\n", &h), -EPROTONOSUPPORT);

    /* Junk is refused at once, before a line end arrives (TLS hello). */
    static const char tls[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";
    assert_int_equal(vg_http_head_parse(tls, sizeof tls - 1, 8192, &h), -EBADMSG);
    /* A bad complete header line is refused before the head is complete. */
    assert_int_equal(parse_str("GET / HTTP/1.1\r\nX : y\r\nHost: a", &h), -EBADMSG);
}

static char *make_head(size_t nheaders, size_t pad_to)
{
    vg_buf b = VG_BUF_INIT;
    assert_int_equal(vg_buf_puts(&b, "GET / HTTP/1.1\r\n"), 0);
    for (size_t i = 0; i < nheaders; i++)
        assert_int_equal(vg_buf_printf(&b, "X-H%zu: v\r\n", i), 0);
    if (pad_to) {
        /* One header padded so the whole head is exactly pad_to bytes. */
        const char *pre = "X-Pad: ";
        size_t fixed = b.len + strlen(pre) + 4;
        assert_true(pad_to > fixed);
        assert_int_equal(vg_buf_puts(&b, pre), 0);
        for (size_t i = 0; i < pad_to - fixed; i++)
            assert_int_equal(vg_buf_putc(&b, 'a'), 0);
        assert_int_equal(vg_buf_puts(&b, "\r\n"), 0);
    }
    assert_int_equal(vg_buf_puts(&b, "\r\n"), 0);
    return b.data;
}

static void test_parse_limits(void **state)
{
    vg_http_head h;
    /* Exactly max_head bytes: accepted; one more: too big. */
    char *s = make_head(0, 8192);
    assert_int_equal(strlen(s), 8192);
    assert_int_equal(vg_http_head_parse(s, 8192, 8192, &h), 8192);
    assert_int_equal(vg_http_head_parse(s, 8192, 8191, &h), -E2BIG);
    free(s);
    /* 16 KiB of head with no end in the first 8 KiB. */
    s = make_head(0, 16384);
    assert_int_equal(vg_http_head_parse(s, strlen(s), 8192, &h), -E2BIG);
    /* Only the first max_head bytes arrived yet: already too big. */
    assert_int_equal(vg_http_head_parse(s, 8192, 8192, &h), -E2BIG);
    assert_int_equal(vg_http_head_parse(s, 8191, 8192, &h), 0);
    free(s);
    /* 64 headers fit, 65 do not. */
    s = make_head(64, 0);
    assert_true(vg_http_head_parse(s, strlen(s), 8192, &h) > 0);
    assert_int_equal(h.nheaders, 64);
    free(s);
    s = make_head(65, 0);
    assert_int_equal(vg_http_head_parse(s, strlen(s), 8192, &h), -E2BIG);
    free(s);
}

/* ============================== fixture ============================== */

typedef struct fx fx;
typedef void (*fx_fn)(fx *f, void *arg);

struct fx {
    vg_loop *loop;
    vg_registry *reg;
    vg_http_server *srv;
    pthread_t th;
    int port;
    bool running;

    vg_async *call_async;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    fx_fn call_fn;
    void *call_arg;
    bool call_done;

    /* deferred requests, touched on the loop thread only */
    vg_http_req *pending[8];
    int npending;
    atomic_int deferred_seen;
    int respond_rc;

    char *big;          /* compressible body for /big */
    size_t big_len;
    char *huge;         /* body for /huge (write timeout) */
    size_t huge_len;

    /* /pstream: f->huge streamed with pauses (loop thread, read after it) */
    atomic_int pauses, resumes, pstream_ends;
    size_t pmax;        /* most queued after a write */
    int pstream_rc;     /* the last end's result */
    int try_rc;         /* ?try: a pause right after begin */
};

static int h_hello(vg_http_req *req, void *ud)
{
    vg_http_req_respond(req, 200, "text/plain; charset=utf-8", "X-Route: hello\r\n",
                        "hello world\n", 12, 0);
    return VG_HTTP_DONE;
}

static int h_big(vg_http_req *req, void *ud)
{
    fx *f = ud;
    vg_http_req_respond(req, 200, "text/plain", NULL, f->big, f->big_len, VG_HTTP_F_GZIP_OK);
    return VG_HTTP_DONE;
}

static int h_small(vg_http_req *req, void *ud)
{
    char body[100];
    memset(body, 'a', sizeof body);
    vg_http_req_respond(req, 200, "text/plain", NULL, body, sizeof body, VG_HTTP_F_GZIP_OK);
    return VG_HTTP_DONE;
}

static int h_huge(vg_http_req *req, void *ud)
{
    fx *f = ud;
    vg_http_req_respond(req, 200, "application/octet-stream", NULL, f->huge, f->huge_len, 0);
    return VG_HTTP_DONE;
}

static int h_echo(vg_http_req *req, void *ud)
{
    char body[512];
    const char *x = vg_http_req_header(req, "x-test");
    int n = snprintf(body, sizeof body, "%s|%s|%s|%d|%s", vg_http_req_method(req),
                     vg_http_req_path(req), vg_http_req_query(req),
                     vg_http_req_has_param(req, "verbose"), x ? x : "(none)");
    vg_http_req_respond(req, 200, "text/plain", NULL, body, (size_t)n, 0);
    return VG_HTTP_DONE;
}

static int h_slow(vg_http_req *req, void *ud)
{
    fx *f = ud;
    f->pending[f->npending++] = req;
    atomic_fetch_add(&f->deferred_seen, 1);
    return VG_HTTP_DEFERRED;
}

/* Streams f->huge in 10,000-byte writes; ?abort stops half way with an error. */
static int h_stream(vg_http_req *req, void *ud)
{
    fx *f = ud;
    bool abort_half = vg_http_req_has_param(req, "abort");
    vg_http_stream *w = NULL;
    if (vg_http_req_stream_begin(req, 200, "text/plain", "X-Route: stream\r\n",
                                 VG_HTTP_F_GZIP_OK, &w))
        return VG_HTTP_DONE;
    int rc = 0;
    for (size_t off = 0; !rc && off < f->huge_len; off += 10000) {
        if (abort_half && off >= f->huge_len / 2) {
            rc = -ENOMEM;
            break;
        }
        size_t n = f->huge_len - off < 10000 ? f->huge_len - off : 10000;
        rc = vg_http_stream_write(w, f->huge + off, n);
    }
    vg_http_stream_end(w, rc);
    return VG_HTTP_DONE;
}

static int h_forgetful(vg_http_req *req, void *ud) { return VG_HTTP_DONE; }

/* /pstream waits for the socket once this much is queued. */
#define PAUSE_AT (64u * 1024u)

typedef struct pstream {
    fx *f;
    vg_http_stream *w;
    size_t off;
} pstream;

static void pstream_go(pstream *p);

static void pstream_cb(vg_http_stream *w, void *ud)
{
    pstream *p = ud;
    assert_ptr_equal(w, p->w);
    atomic_fetch_add(&p->f->resumes, 1);
    pstream_go(p);
}

/* Write f->huge on in 10,000-byte pieces, pausing past PAUSE_AT queued. */
static void pstream_go(pstream *p)
{
    fx *f = p->f;
    int rc = 0;
    while (p->off < f->huge_len) {
        size_t n = f->huge_len - p->off < 10000 ? f->huge_len - p->off : 10000;
        rc = vg_http_stream_write(p->w, f->huge + p->off, n);
        if (rc)
            break;
        p->off += n;
        size_t q = vg_http_stream_queued(p->w);
        if (q > f->pmax)
            f->pmax = q;
        if (q <= PAUSE_AT)
            continue;
        rc = vg_http_stream_pause(p->w, pstream_cb, p);
        if (rc == 0) {
            atomic_fetch_add(&f->pauses, 1);
            return;
        }
        if (rc != -EAGAIN)
            break;
        rc = 0;
    }
    f->pstream_rc = vg_http_stream_end(p->w, rc == -ECONNRESET ? 0 : rc);
    free(p);
    atomic_fetch_add(&f->pstream_ends, 1);
}

static int h_pstream(vg_http_req *req, void *ud)
{
    fx *f = ud;
    bool try_now = vg_http_req_has_param(req, "try");
    pstream *p = calloc(1, sizeof *p);
    assert_non_null(p);
    p->f = f;
    if (vg_http_req_stream_begin(req, 200, "text/plain", NULL, VG_HTTP_F_GZIP_OK, &p->w)) {
        free(p);
        return VG_HTTP_DONE;
    }
    if (try_now) {
        /* the head is queued (chunked) or nothing waits on the socket (HTTP/1.0) */
        f->try_rc = vg_http_stream_pause(p->w, pstream_cb, p);
        if (f->try_rc == 0)
            return VG_HTTP_DONE;
    }
    pstream_go(p);
    return VG_HTTP_DONE;
}

static void call_cb(vg_loop *loop, void *ud)
{
    fx *f = ud;
    pthread_mutex_lock(&f->mu);
    fx_fn fn = f->call_fn;
    void *arg = f->call_arg;
    pthread_mutex_unlock(&f->mu);
    if (fn)
        fn(f, arg);
    pthread_mutex_lock(&f->mu);
    f->call_done = true;
    f->call_fn = NULL;
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

/* Run fn(f, arg) on the loop thread and wait for it. */
static void fx_call(fx *f, fx_fn fn, void *arg)
{
    pthread_mutex_lock(&f->mu);
    f->call_fn = fn;
    f->call_arg = arg;
    f->call_done = false;
    pthread_mutex_unlock(&f->mu);
    vg_async_send(f->call_async);
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 5;
    pthread_mutex_lock(&f->mu);
    while (!f->call_done)
        if (pthread_cond_timedwait(&f->cv, &f->mu, &dl) == ETIMEDOUT)
            break;
    bool done = f->call_done;
    pthread_mutex_unlock(&f->mu);
    assert_true(done);
}

static void *loop_thread(void *ud)
{
    fx *f = ud;
    vg_loop_run(f->loop);
    return NULL;
}

static void fx_start(fx *f, const vg_http_opts *o_in)
{
    memset(f, 0, sizeof *f);
    vg_http_opts o = o_in ? *o_in : (vg_http_opts){0};
    o.listen = "127.0.0.1:0";
    assert_int_equal(vg_loop_new(&f->loop), 0);
    assert_int_equal(vg_registry_new(&f->reg), 0);
    assert_int_equal(vg_http_server_new(f->loop, &o, f->reg, NULL, &f->srv), 0);
    f->port = vg_http_server_port(f->srv);
    assert_true(f->port > 0);
    assert_int_equal(vg_http_server_route(f->srv, "/hello", "hello", h_hello, f), 0);
    assert_int_equal(vg_http_server_route(f->srv, "/hello", "dup", h_hello, f), -EEXIST);
    assert_int_equal(vg_http_server_route(f->srv, "nope", "x", h_hello, f), -EINVAL);
    assert_int_equal(vg_http_server_route(f->srv, "/big", "big", h_big, f), 0);
    assert_int_equal(vg_http_server_route(f->srv, "/small", "small", h_small, f), 0);
    assert_int_equal(vg_http_server_route(f->srv, "/huge", "huge", h_huge, f), 0);
    assert_int_equal(vg_http_server_route(f->srv, "/echo", "echo", h_echo, f), 0);
    assert_int_equal(vg_http_server_route(f->srv, "/slow", "slow", h_slow, f), 0);
    assert_int_equal(vg_http_server_route(f->srv, "/forgetful", "forgetful", h_forgetful, f), 0);
    assert_int_equal(vg_http_server_route(f->srv, "/stream", "stream", h_stream, f), 0);
    assert_int_equal(vg_http_server_route(f->srv, "/pstream", "pstream", h_pstream, f), 0);
    atomic_init(&f->pauses, 0);
    atomic_init(&f->resumes, 0);
    atomic_init(&f->pstream_ends, 0);
    f->big_len = 20000;
    f->big = malloc(f->big_len);
    for (size_t i = 0; i < f->big_len; i++)
        f->big[i] = "metric_name{label=\"value\"} 1\n"[i % 30];
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    atomic_init(&f->deferred_seen, 0);
    assert_int_equal(vg_async_new(f->loop, call_cb, f, &f->call_async), 0);
    assert_int_equal(pthread_create(&f->th, NULL, loop_thread, f), 0);
    f->running = true;
}

static void fx_stop_loop(fx *f)
{
    if (!f->running)
        return;
    vg_loop_stop(f->loop);
    pthread_join(f->th, NULL);
    f->running = false;
}

static void fx_end(fx *f)
{
    fx_stop_loop(f);
    if (f->srv)
        vg_http_server_free(f->srv);
    vg_async_free(f->call_async);
    vg_loop_free(f->loop);
    vg_registry_free(f->reg);
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    free(f->big);
    free(f->huge);
}

/* ============================== client ============================== */

typedef struct resp {
    int status;
    char head[8192];
    char *body;
    size_t body_len;
} resp;

static void cl_open(cl *c, int port) { cl_open_opt(c, port, 0, 0); }

static bool hdr_get(const resp *r, const char *name, char *out, size_t outlen)
{
    size_t nl = strlen(name);
    const char *p = strstr(r->head, "\r\n");
    while (p && p[2]) {
        p += 2;
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            const char *e = strstr(v, "\r\n");
            size_t l = (size_t)(e - v);
            if (l >= outlen)
                l = outlen - 1;
            memcpy(out, v, l);
            out[l] = '\0';
            return true;
        }
        p = strstr(p, "\r\n");
    }
    return false;
}

/* Read one response; head_req: no body follows. 0 or -1 (EOF/timeout). */
static int cl_read(cl *c, bool head_req, resp *r)
{
    char *end;
    memset(r, 0, sizeof *r);
    while (!c->in.data || !(end = strstr(c->in.data, "\r\n\r\n")))
        if (cl_fill(c) <= 0)
            return -1;
    size_t hl = (size_t)(end - c->in.data) + 4;
    assert_true(hl < sizeof r->head);
    memcpy(r->head, c->in.data, hl);
    r->head[hl] = '\0';
    assert_int_equal(strncmp(r->head, "HTTP/1.1 ", 9), 0);
    r->status = atoi(r->head + 9);
    char cl_s[32];
    size_t blen = 0;
    if (hdr_get(r, "Content-Length", cl_s, sizeof cl_s))
        blen = strtoull(cl_s, NULL, 10);
    if (head_req)
        blen = 0;
    while (c->in.len < hl + blen)
        if (cl_fill(c) <= 0)
            return -1;
    r->body = malloc(blen + 1);
    memcpy(r->body, c->in.data + hl, blen);
    r->body[blen] = '\0';
    r->body_len = blen;
    vg_buf_consume(&c->in, hl + blen);
    return 0;
}

static void resp_free(resp *r)
{
    free(r->body);
    r->body = NULL;
}

/* True when the server closes the connection (EOF or reset) with no
 * further bytes, within ms. */
static bool cl_closed_within(cl *c, int ms)
{
    struct pollfd p = {c->fd, POLLIN, 0};
    if (poll(&p, 1, ms) <= 0)
        return false;
    char b[64];
    ssize_t n = recv(c->fd, b, sizeof b, MSG_DONTWAIT);
    return n == 0 || (n < 0 && (errno == ECONNRESET || errno == EPIPE));
}

/* One request on a fresh connection. */
static void do_get(int port, const char *raw, bool head, resp *r)
{
    cl c;
    cl_open(&c, port);
    cl_send(&c, raw);
    assert_int_equal(cl_read(&c, head, r), 0);
    cl_close(&c);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static double since_ms(uint64_t t0) { return (double)(vg_now_ms() - t0); }

/* ---- metrics ---- */

/* Value of a sample whose label values equal l0 (and l1 when given);
 * for histograms the count. -1 when absent. */
static double metric(fx *f, const char *name, const char *l0, const char *l1)
{
    vg_scrape *s;
    double v = -1;
    assert_int_equal(vg_scrape_new(&s), 0);
    vg_registry_collect(f->reg, s);
    const vg_family *fam = vg_scrape_find(s, name);
    if (fam) {
        for (size_t i = 0; i < vg_family_sample_count(fam); i++) {
            vg_sample_view sv;
            vg_family_sample(fam, i, &sv);
            size_t nl = vg_family_nlabels(fam);
            if (l0 && (nl < 1 || strcmp(sv.values[0], l0) != 0))
                continue;
            if (l1 && (nl < 2 || strcmp(sv.values[1], l1) != 0))
                continue;
            v = vg_family_type(fam) == VG_MT_HISTOGRAM ? (double)sv.count : sv.value;
            break;
        }
    }
    vg_scrape_free(s);
    return v;
}

/* ============================== server cases ============================== */

static void test_http_basic_routes(void **state)
{
    fx f;
    fx_start(&f, NULL);
    resp r;
    char v[256];

    do_get(f.port, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n", false, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "hello world\n");
    assert_true(hdr_get(&r, "Content-Type", v, sizeof v));
    assert_string_equal(v, "text/plain; charset=utf-8");
    assert_true(hdr_get(&r, "Content-Length", v, sizeof v));
    assert_string_equal(v, "12");
    assert_true(hdr_get(&r, "X-Route", v, sizeof v));
    assert_string_equal(v, "hello");
    assert_true(hdr_get(&r, "Date", v, sizeof v));
    assert_true(strstr(v, " GMT") != NULL);
    assert_false(hdr_get(&r, "Content-Encoding", v, sizeof v));
    resp_free(&r);

    do_get(f.port, "GET /nope HTTP/1.1\r\nHost: t\r\n\r\n", false, &r);
    assert_int_equal(r.status, 404);
    resp_free(&r);
    /* Exact paths: no prefix or trailing-slash matching. */
    do_get(f.port, "GET /hello/ HTTP/1.1\r\nHost: t\r\n\r\n", false, &r);
    assert_int_equal(r.status, 404);
    resp_free(&r);

    do_get(f.port, "POST /hello HTTP/1.1\r\nHost: t\r\n\r\n", false, &r);
    assert_int_equal(r.status, 405);
    assert_true(hdr_get(&r, "Allow", v, sizeof v));
    assert_string_equal(v, "GET, HEAD");
    resp_free(&r);
    do_get(f.port, "get /hello HTTP/1.1\r\nHost: t\r\n\r\n", false, &r); /* methods are case-sensitive */
    assert_int_equal(r.status, 405);
    resp_free(&r);

    /* Query string, accessors, case-insensitive header lookup. */
    do_get(f.port, "GET /echo?a=1&verbose&b=2 HTTP/1.1\r\nHost: t\r\nX-TEST: yes\r\n\r\n", false, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "GET|/echo|a=1&verbose&b=2|1|yes");
    resp_free(&r);
    do_get(f.port, "GET /echo?verbosely=1 HTTP/1.1\r\nHost: t\r\n\r\n", false, &r);
    assert_string_equal(r.body, "GET|/echo|verbosely=1|0|(none)");
    resp_free(&r);

    /* A handler that forgets to answer: the client still gets a 500. */
    do_get(f.port, "GET /forgetful HTTP/1.1\r\nHost: t\r\n\r\n", false, &r);
    assert_int_equal(r.status, 500);
    resp_free(&r);
    fx_end(&f);
}

static void expect_error_close_buf(int port, const char *raw, int status, int sndbuf)
{
    cl c;
    resp r;
    cl_open_opt(&c, port, 0, sndbuf);
    cl_send(&c, raw);
    assert_int_equal(cl_read(&c, false, &r), 0);
    if (r.status != status)
        print_error("%s -> %d, want %d\n", raw, r.status, status);
    assert_int_equal(r.status, status);
    char v[64];
    assert_true(hdr_get(&r, "Connection", v, sizeof v));
    assert_string_equal(v, "close");
    resp_free(&r);
    assert_true(cl_closed_within(&c, 3000));
    cl_close(&c);
}

static void expect_error_close(int port, const char *raw, int status)
{
    expect_error_close_buf(port, raw, status, 0);
}

static void test_http_bad_requests(void **state)
{
    fx f;
    fx_start(&f, NULL);
    expect_error_close(f.port, "GARBAGE\r\n\r\n", 400);
    expect_error_close(f.port, "GET * HTTP/1.1\r\nHost: t\r\n\r\n", 400);
    expect_error_close(f.port, "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", 400);
    expect_error_close(f.port, "GET /hello HTTP/2.0\r\n\r\n", 505);
    expect_error_close(f.port, "GET /hello HTTP/1.1\r\n\r\n", 400); /* no Host */
    expect_error_close(f.port, "GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
    /* Bodies are not supported. */
    expect_error_close(f.port, "GET /hello HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello", 413);
    expect_error_close(f.port, "GET /hello HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 413);
    expect_error_close(f.port, "GET /hello HTTP/1.1\r\nHost: t\r\nContent-Length: x1\r\n\r\n", 400);
    expect_error_close(f.port, "GET /hello HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400);
    expect_error_close(f.port, "GET /hello HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n", 400);
    /* A POST with a body: 405 and close (the body is never read). */
    expect_error_close(f.port, "POST /hello HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc", 405);
    /* TLS to a plain port: refused at once, not after the head timeout. */
    uint64_t t0 = vg_now_ms();
    expect_error_close(f.port, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400);
    assert_true(since_ms(t0) < 2000);

    /* Content-Length: 0 is no body: fine. */
    resp r;
    do_get(f.port, "GET /hello HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n", false, &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    fx_end(&f);
}

static void test_http_431(void **state)
{
    fx f;
    fx_start(&f, NULL);
    char *big = make_head(0, 16384);
    /* Whole 16 KiB sent before reading: the 431 must survive the unread
     * rest (lingering close, no reset). */
    expect_error_close(f.port, big, 431);
    free(big);
    /* A client still sending a long head when the 431 goes out: the
     * server drains it (bounded) instead of resetting, so the client's
     * sends succeed and it reads the 431. */
    big = make_head(0, 512 * 1024);
    expect_error_close_buf(f.port, big, 431, 4096);
    free(big);
    /* Too many headers is 431 too. */
    char *many = make_head(70, 0);
    expect_error_close(f.port, many, 431);
    free(many);
    assert_int_equal(metric(&f, "vigil_http_requests_total", "other", "431"), 3);
    fx_end(&f);
}

static void test_http_slow_head_408(void **state)
{
    vg_http_opts o = {0};
    o.header_timeout_ms = 400;
    fx f;
    fx_start(&f, &o);

    /* A client trickling a head: 408 and close at the deadline. */
    cl slow;
    cl_open(&slow, f.port);
    uint64_t t0 = vg_now_ms();
    const char *head = "GET /hello HTTP/1.1\r\nHost: t\r\n";
    bool got_408 = false;
    for (size_t i = 0; i < strlen(head) && since_ms(t0) < 3000; i++) {
        if (send(slow.fd, head + i, 1, MSG_NOSIGNAL) != 1)
            break; /* the server may already have closed */
        /* Meanwhile another client is served at once. */
        if (i == 2) {
            resp r;
            uint64_t t1 = vg_now_ms();
            do_get(f.port, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n", false, &r);
            assert_int_equal(r.status, 200);
            assert_true(since_ms(t1) < 300);
            resp_free(&r);
        }
        struct pollfd p = {slow.fd, POLLIN, 0};
        if (poll(&p, 1, 100) > 0)
            break;
    }
    resp r;
    assert_int_equal(cl_read(&slow, false, &r), 0);
    got_408 = r.status == 408;
    assert_true(got_408);
    double dt = since_ms(t0);
    assert_true(dt >= 350 && dt < 2500);
    resp_free(&r);
    assert_true(cl_closed_within(&slow, 3000));
    cl_close(&slow);

    /* Connected, never sent a byte: closed quietly at the deadline. */
    cl idle;
    cl_open(&idle, f.port);
    t0 = vg_now_ms();
    assert_true(cl_closed_within(&idle, 3000));
    assert_true(since_ms(t0) >= 350);
    cl_close(&idle);
    assert_int_equal(metric(&f, "vigil_http_requests_total", "other", "408"), 1);
    fx_end(&f);
}

static void test_http_keepalive(void **state)
{
    vg_http_opts o = {0};
    o.idle_timeout_ms = 400;
    fx f;
    fx_start(&f, &o);
    cl c;
    resp r;
    char v[64];

    /* HTTP/1.1: two requests on one connection, then the idle timeout. */
    cl_open(&c, f.port);
    cl_send(&c, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_int_equal(cl_read(&c, false, &r), 0);
    assert_int_equal(r.status, 200);
    assert_false(hdr_get(&r, "Connection", v, sizeof v));
    resp_free(&r);
    cl_send(&c, "GET /nope HTTP/1.1\r\nHost: t\r\n\r\n"); /* a 404 keeps the connection */
    assert_int_equal(cl_read(&c, false, &r), 0);
    assert_int_equal(r.status, 404);
    resp_free(&r);
    cl_send(&c, "GET /echo HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_int_equal(cl_read(&c, false, &r), 0);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    uint64_t t0 = vg_now_ms();
    assert_true(cl_closed_within(&c, 3000));
    assert_true(since_ms(t0) >= 300);
    cl_close(&c);

    /* Connection: close. */
    cl_open(&c, f.port);
    cl_send(&c, "GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    assert_int_equal(cl_read(&c, false, &r), 0);
    assert_true(hdr_get(&r, "Connection", v, sizeof v));
    assert_string_equal(v, "close");
    resp_free(&r);
    assert_true(cl_closed_within(&c, 1000));
    cl_close(&c);

    /* HTTP/1.0 closes by default... */
    cl_open(&c, f.port);
    cl_send(&c, "GET /hello HTTP/1.0\r\n\r\n");
    assert_int_equal(cl_read(&c, false, &r), 0);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    assert_true(cl_closed_within(&c, 1000));
    cl_close(&c);

    /* ...unless it asks for keep-alive. */
    cl_open(&c, f.port);
    cl_send(&c, "GET /hello HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
    assert_int_equal(cl_read(&c, false, &r), 0);
    assert_true(hdr_get(&r, "Connection", v, sizeof v));
    assert_string_equal(v, "keep-alive");
    resp_free(&r);
    cl_send(&c, "GET /hello HTTP/1.0\r\n\r\n");
    assert_int_equal(cl_read(&c, false, &r), 0);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    assert_true(cl_closed_within(&c, 1000));
    cl_close(&c);
    fx_end(&f);
}

static void test_http_pipelining(void **state)
{
    fx f;
    fx_start(&f, NULL);
    cl c;
    resp r;
    cl_open(&c, f.port);
    /* Three requests in one write, answered in order; then one split
     * across writes. */
    cl_send(&c, "GET /echo?n=1 HTTP/1.1\r\nHost: t\r\n\r\n"
                "GET /nope HTTP/1.1\r\nHost: t\r\n\r\n"
                "HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n"
                "GET /echo?n=3 HTTP/1.1\r\nHo");
    assert_int_equal(cl_read(&c, false, &r), 0);
    assert_string_equal(r.body, "GET|/echo|n=1|0|(none)");
    resp_free(&r);
    assert_int_equal(cl_read(&c, false, &r), 0);
    assert_int_equal(r.status, 404);
    resp_free(&r);
    assert_int_equal(cl_read(&c, true, &r), 0);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    cl_send(&c, "st: t\r\n\r\n");
    assert_int_equal(cl_read(&c, false, &r), 0);
    assert_string_equal(r.body, "GET|/echo|n=3|0|(none)");
    resp_free(&r);
    /* Nothing else arrives. */
    struct pollfd p = {c.fd, POLLIN, 0};
    assert_int_equal(poll(&p, 1, 100), 0);
    cl_close(&c);
    fx_end(&f);
}

static int inflate_gzip(const char *in, size_t n, char **out, size_t *outlen)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
        return -1;
    size_t cap = (1u << 20) + n * 16; /* past any ratio these tests compress at */
    *out = malloc(cap);
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)n;
    zs.next_out = (Bytef *)*out;
    zs.avail_out = (uInt)cap;
    int rc = inflate(&zs, Z_FINISH);
    *outlen = zs.total_out;
    inflateEnd(&zs);
    return rc == Z_STREAM_END ? 0 : -1;
}

static bool get_gzipped(fx *f, const char *path, const char *ae, resp *r)
{
    char raw[512];
    if (ae)
        snprintf(raw, sizeof raw, "GET %s HTTP/1.1\r\nHost: t\r\nAccept-Encoding: %s\r\n\r\n", path, ae);
    else
        snprintf(raw, sizeof raw, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path);
    do_get(f->port, raw, false, r);
    assert_int_equal(r->status, 200);
    char v[64];
    return hdr_get(r, "Content-Encoding", v, sizeof v) && strcmp(v, "gzip") == 0;
}

static void test_http_gzip(void **state)
{
    fx f;
    fx_start(&f, NULL);
    resp r;
    char v[64];

    assert_true(get_gzipped(&f, "/big", "gzip", &r));
    assert_true(hdr_get(&r, "Vary", v, sizeof v));
    assert_string_equal(v, "Accept-Encoding");
    assert_true(r.body_len < f.big_len / 4);
    char *plain = NULL;
    size_t plen = 0;
    assert_int_equal(inflate_gzip(r.body, r.body_len, &plain, &plen), 0);
    assert_int_equal(plen, f.big_len);
    assert_memory_equal(plain, f.big, plen);
    free(plain);
    size_t gz_len = r.body_len;
    resp_free(&r);

    /* Negotiation: q-values, "*", explicit beats "*". */
    static const struct { const char *ae; bool gz; } cases[] = {
        {NULL, false},
        {"identity", false},
        {"gzip;q=0", false},
        {"gzip; q=0.000", false},
        {"GZIP", true},
        {"deflate, gzip;q=0.5", true},
        {"gzip;q=0.001", true},
        {"br;q=1.0, gzip;q=1.0", true},
        {"*", true},
        {"*;q=0", false},
        {"*;q=0, gzip", true},
        {"gzip;q=0, *", false},
        {"x-gzip", true},
        {"gzip;q=2", false},     /* invalid weight: not acceptable */
        {"gzipx", false},
        {"", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool gz = get_gzipped(&f, "/big", cases[i].ae, &r);
        if (gz != cases[i].gz)
            print_error("Accept-Encoding %s: gzip=%d\n", cases[i].ae ? cases[i].ae : "(none)", gz);
        assert_int_equal(gz, cases[i].gz);
        if (!gz)
            assert_int_equal(r.body_len, f.big_len);
        resp_free(&r);
    }
    /* Small bodies are not worth compressing. */
    assert_false(get_gzipped(&f, "/small", "gzip", &r));
    assert_int_equal(r.body_len, 100);
    resp_free(&r);
    /* No GZIP_OK flag: never. */
    assert_false(get_gzipped(&f, "/hello", "gzip", &r));
    resp_free(&r);

    /* HEAD: no body, the Content-Length GET would have; then the
     * connection is still in sync for a GET. */
    cl c;
    cl_open(&c, f.port);
    cl_send(&c, "HEAD /big HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n\r\n");
    assert_int_equal(cl_read(&c, true, &r), 0);
    assert_int_equal(r.status, 200);
    assert_true(hdr_get(&r, "Content-Length", v, sizeof v));
    assert_int_equal(strtoul(v, NULL, 10), gz_len);
    resp_free(&r);
    cl_send(&c, "HEAD /big HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_int_equal(cl_read(&c, true, &r), 0);
    assert_true(hdr_get(&r, "Content-Length", v, sizeof v));
    assert_int_equal(strtoul(v, NULL, 10), f.big_len);
    resp_free(&r);
    cl_send(&c, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_int_equal(cl_read(&c, false, &r), 0);
    assert_string_equal(r.body, "hello world\n");
    resp_free(&r);
    cl_close(&c);
    fx_end(&f);
}

static void test_http_conn_cap(void **state)
{
    vg_http_opts o = {0};
    o.max_conns = 3;
    fx f;
    fx_start(&f, &o);
    cl c[3];
    resp r;
    for (int i = 0; i < 3; i++) {
        cl_open(&c[i], f.port);
        cl_send(&c[i], "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_int_equal(cl_read(&c[i], false, &r), 0);
        resp_free(&r);
    }
    assert_int_equal(metric(&f, "vigil_http_connections", NULL, NULL), 3);
    assert_int_equal(metric(&f, "vigil_http_connections_rejected_total", NULL, NULL), 0);
    /* The fourth is accepted and closed at once, without an answer. */
    cl extra;
    cl_open(&extra, f.port);
    assert_true(cl_closed_within(&extra, 2000));
    cl_close(&extra);
    assert_int_equal(metric(&f, "vigil_http_connections_rejected_total", NULL, NULL), 1);
    /* The kept connections still work. */
    cl_send(&c[1], "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_int_equal(cl_read(&c[1], false, &r), 0);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    /* A slot freed is a slot usable. */
    cl_close(&c[0]);
    bool served = false;
    for (int tries = 0; tries < 50 && !served; tries++) {
        sleep_ms(20);
        cl n;
        cl_open(&n, f.port);
        cl_send(&n, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
        served = cl_read(&n, false, &r) == 0 && r.status == 200;
        resp_free(&r);
        cl_close(&n);
    }
    assert_true(served);
    cl_close(&c[1]);
    cl_close(&c[2]);
    fx_end(&f);
}

typedef struct answer {
    int idx;
    int status;
    const char *body;
    int rc;
} answer;

static void do_answer(fx *f, void *arg)
{
    answer *a = arg;
    a->rc = vg_http_req_respond(f->pending[a->idx], a->status, "text/plain", NULL, a->body,
                                strlen(a->body), 0);
    f->pending[a->idx] = NULL;
}

static void read_inflight(fx *f, void *arg) { *(size_t *)arg = vg_http_server_inflight(f->srv); }

static size_t inflight(fx *f)
{
    size_t n = 0;
    fx_call(f, read_inflight, &n);
    return n;
}

static void wait_deferred(fx *f, int n)
{
    for (int i = 0; i < 500 && atomic_load(&f->deferred_seen) < n; i++)
        sleep_ms(10);
    assert_int_equal(atomic_load(&f->deferred_seen), n);
}

static void test_http_deferred(void **state)
{
    fx f;
    fx_start(&f, NULL);
    cl c;
    resp r;
    cl_open(&c, f.port);
    cl_send(&c, "GET /slow HTTP/1.1\r\nHost: t\r\n\r\n"
                "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"); /* pipelined behind it */
    wait_deferred(&f, 1);
    assert_int_equal(inflight(&f), 1);

    /* While it waits, other clients are served. */
    uint64_t t0 = vg_now_ms();
    do_get(f.port, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n", false, &r);
    assert_int_equal(r.status, 200);
    assert_true(since_ms(t0) < 500);
    resp_free(&r);
    /* ...and nothing has been sent on the waiting connection. */
    struct pollfd p = {c.fd, POLLIN, 0};
    assert_int_equal(poll(&p, 1, 50), 0);

    answer a = {0, 200, "collected\n", 1};
    fx_call(&f, do_answer, &a);
    assert_int_equal(a.rc, 0);
    assert_int_equal(cl_read(&c, false, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "collected\n");
    resp_free(&r);
    assert_int_equal(cl_read(&c, false, &r), 0); /* then the pipelined one */
    assert_string_equal(r.body, "hello world\n");
    resp_free(&r);
    assert_int_equal(inflight(&f), 0);
    assert_int_equal(metric(&f, "vigil_http_requests_total", "slow", "200"), 1);
    assert_int_equal(metric(&f, "vigil_http_request_duration_seconds", "slow", NULL), 1);

    /* HEAD on a deferred route: headers only. */
    cl_send(&c, "HEAD /slow HTTP/1.1\r\nHost: t\r\n\r\n");
    wait_deferred(&f, 2);
    answer b = {1, 503, "not ready\n", 1};
    fx_call(&f, do_answer, &b);
    assert_int_equal(b.rc, 0);
    assert_int_equal(cl_read(&c, true, &r), 0);
    assert_int_equal(r.status, 503);
    char v[32];
    assert_true(hdr_get(&r, "Content-Length", v, sizeof v));
    assert_string_equal(v, "10");
    resp_free(&r);
    cl_close(&c);
    fx_end(&f);
}

static void test_http_deferred_client_gone(void **state)
{
    fx f;
    fx_start(&f, NULL);
    cl c;
    cl_open(&c, f.port);
    cl_send(&c, "GET /slow HTTP/1.1\r\nHost: t\r\n\r\n");
    wait_deferred(&f, 1);
    assert_int_equal(inflight(&f), 1);
    cl_close(&c);
    /* The server notices and frees the slot while the request waits. */
    for (int i = 0; i < 200 && inflight(&f) != 0; i++)
        sleep_ms(10);
    assert_int_equal(inflight(&f), 0);
    for (int i = 0; i < 200 && metric(&f, "vigil_http_connections", NULL, NULL) != 0; i++)
        sleep_ms(10);
    assert_int_equal(metric(&f, "vigil_http_connections", NULL, NULL), 0);
    /* The late answer is safe: freed quietly, reported, not counted. */
    answer a = {0, 200, "too late\n", 1};
    fx_call(&f, do_answer, &a);
    assert_int_equal(a.rc, -ECONNRESET);
    assert_true(metric(&f, "vigil_http_requests_total", "slow", "200") <= 0);
    fx_end(&f);
}

static void test_http_deferred_outlives_server(void **state)
{
    fx f;
    fx_start(&f, NULL);
    cl c;
    cl_open(&c, f.port);
    cl_send(&c, "GET /slow HTTP/1.1\r\nHost: t\r\n\r\n");
    wait_deferred(&f, 1);
    fx_stop_loop(&f);
    vg_http_req *req = f.pending[0];
    vg_http_server_free(f.srv);
    f.srv = NULL;
    /* Detached: accessors still valid, respond frees it. */
    assert_string_equal(vg_http_req_path(req), "/slow");
    assert_string_equal(vg_http_req_header(req, "host"), "t");
    assert_int_equal(vg_http_req_respond(req, 200, "text/plain", NULL, "x", 1, 0), -ECONNRESET);
    assert_true(cl_closed_within(&c, 1000));
    cl_close(&c);
    fx_end(&f);
}

static void test_http_write_timeout(void **state)
{
    vg_http_opts o = {0};
    o.write_timeout_ms = 300;
    fx f;
    fx_start(&f, &o);
    f.huge_len = 16u << 20; /* far more than socket buffers hold */
    f.huge = calloc(1, f.huge_len);
    cl c;
    cl_open_opt(&c, f.port, 4096, 0);
    cl_send(&c, "GET /huge HTTP/1.1\r\nHost: t\r\n\r\n");
    /* Do not read: the server must give up on us, and stay responsive. */
    sleep_ms(100);
    resp r;
    uint64_t t0 = vg_now_ms();
    do_get(f.port, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n", false, &r);
    assert_int_equal(r.status, 200);
    assert_true(since_ms(t0) < 500);
    resp_free(&r);
    for (int i = 0; i < 300 && metric(&f, "vigil_http_connections", NULL, NULL) != 0; i++)
        sleep_ms(10);
    assert_int_equal(metric(&f, "vigil_http_connections", NULL, NULL), 0);
    /* The reader gets less than the whole body, then EOF or a reset. */
    size_t total = 0;
    char buf[65536];
    for (;;) {
        ssize_t n = recv(c.fd, buf, sizeof buf, 0);
        if (n <= 0)
            break;
        total += (size_t)n;
    }
    assert_true(total < f.huge_len);
    cl_close(&c);
    fx_end(&f);
}

/*
 * A large body goes out straight from the handler's memory as far as the
 * socket takes it and the rest is queued: with a small receive buffer the
 * split falls mid-body. The reader must still get every byte in order,
 * and the connection must serve the next request.
 */
static void test_http_large_body_split_send(void **state)
{
    fx f;
    fx_start(&f, NULL);
    f.huge_len = 3u << 20;
    f.huge = malloc(f.huge_len);
    assert_non_null(f.huge);
    for (size_t i = 0; i < f.huge_len; i++)
        f.huge[i] = (char)('a' + (i * 7 + i / 4093) % 26);
    for (int rcvbuf = 4096; rcvbuf <= 1 << 22; rcvbuf *= 32) {
        cl c;
        cl_open_opt(&c, f.port, rcvbuf, 0);
        cl_send(&c, "GET /huge HTTP/1.1\r\nHost: t\r\n\r\n");
        sleep_ms(50); /* let the server hit a full socket before we read */
        resp r;
        assert_int_equal(cl_read(&c, false, &r), 0);
        assert_int_equal(r.status, 200);
        assert_int_equal(r.body_len, f.huge_len);
        assert_memory_equal(r.body, f.huge, f.huge_len);
        resp_free(&r);
        cl_send(&c, "HEAD /huge HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_int_equal(cl_read(&c, true, &r), 0);
        assert_int_equal(r.status, 200);
        resp_free(&r);
        cl_send(&c, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_int_equal(cl_read(&c, false, &r), 0);
        assert_string_equal(r.body, "hello world\n");
        resp_free(&r);
        cl_close(&c);
    }
    fx_end(&f);
}

/* Read a chunked body after the head of r into r->body. 0, or -1 when cut off. */
static int cl_read_chunks(cl *c, resp *r)
{
    vg_buf body = VG_BUF_INIT;
    int rc = cl_chunks(c, &body);
    free(r->body);
    r->body = body.data ? body.data : calloc(1, 1);
    r->body_len = body.len;
    return rc;
}

/*
 * Streamed answers: chunked for HTTP/1.1 (also over keep-alive and for
 * HEAD), whole with Content-Length for HTTP/1.0 and gzip, cut off (no
 * last chunk, connection closed) when the producer fails.
 */
static void test_http_stream(void **state)
{
    fx f;
    fx_start(&f, NULL);
    f.huge_len = 700000;
    f.huge = malloc(f.huge_len);
    assert_non_null(f.huge);
    for (size_t i = 0; i < f.huge_len; i++)
        f.huge[i] = (char)('a' + (i * 7 + i / 4093) % 26);
    char v[64];
    resp r;
    static const int rcvbufs[2] = {4096, 1 << 22};
    for (int k = 0; k < 2; k++) {
        cl c;
        cl_open_opt(&c, f.port, rcvbufs[k], 0);
        for (int round = 0; round < 2; round++) {
            cl_send(&c, "GET /stream HTTP/1.1\r\nHost: t\r\n\r\n");
            sleep_ms(20);
            assert_int_equal(cl_read(&c, true, &r), 0);
            assert_int_equal(r.status, 200);
            assert_true(hdr_get(&r, "Transfer-Encoding", v, sizeof v));
            assert_string_equal(v, "chunked");
            assert_false(hdr_get(&r, "Content-Length", v, sizeof v));
            assert_true(hdr_get(&r, "X-Route", v, sizeof v));
            assert_int_equal(cl_read_chunks(&c, &r), 0);
            assert_int_equal(r.body_len, f.huge_len);
            assert_memory_equal(r.body, f.huge, f.huge_len);
            resp_free(&r);
        }
        cl_send(&c, "HEAD /stream HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_int_equal(cl_read(&c, true, &r), 0);
        assert_true(hdr_get(&r, "Transfer-Encoding", v, sizeof v));
        resp_free(&r);
        cl_send(&c, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_int_equal(cl_read(&c, false, &r), 0);
        assert_string_equal(r.body, "hello world\n");
        resp_free(&r);
        cl_close(&c);
    }

    do_get(f.port, "GET /stream HTTP/1.0\r\n\r\n", false, &r);
    assert_int_equal(r.status, 200);
    assert_false(hdr_get(&r, "Transfer-Encoding", v, sizeof v));
    assert_int_equal(r.body_len, f.huge_len);
    assert_memory_equal(r.body, f.huge, f.huge_len);
    resp_free(&r);

    /* gzip on HTTP/1.1: one gzip stream in chunks, compressed as it goes */
    char *plain;
    size_t plain_len;
    {
        cl c;
        cl_open(&c, f.port);
        cl_send(&c, "GET /stream HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n\r\n");
        assert_int_equal(cl_read(&c, true, &r), 0);
        assert_int_equal(r.status, 200);
        assert_true(hdr_get(&r, "Transfer-Encoding", v, sizeof v));
        assert_true(hdr_get(&r, "Content-Encoding", v, sizeof v));
        assert_string_equal(v, "gzip");
        assert_int_equal(cl_read_chunks(&c, &r), 0);
        assert_true(r.body_len < f.huge_len);
        assert_int_equal(inflate_gzip(r.body, r.body_len, &plain, &plain_len), 0);
        assert_int_equal(plain_len, f.huge_len);
        assert_memory_equal(plain, f.huge, f.huge_len);
        free(plain);
        resp_free(&r);
        /* the connection is still good for the next request */
        cl_send(&c, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_int_equal(cl_read(&c, false, &r), 0);
        assert_string_equal(r.body, "hello world\n");
        resp_free(&r);
        cl_close(&c);
    }
    /* gzip on HTTP/1.0: collected, gzipped whole, with a length */
    do_get(f.port, "GET /stream HTTP/1.0\r\nAccept-Encoding: gzip\r\n\r\n", false, &r);
    assert_int_equal(r.status, 200);
    assert_true(hdr_get(&r, "Content-Encoding", v, sizeof v));
    assert_false(hdr_get(&r, "Transfer-Encoding", v, sizeof v));
    assert_int_equal(inflate_gzip(r.body, r.body_len, &plain, &plain_len), 0);
    assert_int_equal(plain_len, f.huge_len);
    assert_memory_equal(plain, f.huge, f.huge_len);
    free(plain);
    resp_free(&r);

    cl c;
    cl_open(&c, f.port);
    cl_send(&c, "GET /stream?abort HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_int_equal(cl_read(&c, true, &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(cl_read_chunks(&c, &r), -1);
    assert_true(r.body_len < f.huge_len);
    resp_free(&r);
    cl_close(&c);
    assert_int_equal(metric(&f, "vigil_http_requests_total", "stream", "500"), 1);
    fx_end(&f);
}

static void get_queued_peak(fx *f, void *arg) { *(size_t *)arg = vg_http_server_queued_peak(f->srv); }

static size_t queued_peak(fx *f)
{
    size_t v = 0;
    fx_call(f, get_queued_peak, &v);
    return v;
}

/* One chunked answer from path on c, its body in r (inflated when gzip). */
static void read_chunked(cl *c, const char *path, bool gzip, resp *r)
{
    char raw[256];
    snprintf(raw, sizeof raw, "GET %s HTTP/1.1\r\nHost: t\r\n%s\r\n", path,
             gzip ? "Accept-Encoding: gzip\r\n" : "");
    cl_send(c, raw);
    if (c->nap_us)
        sleep_ms(200); /* a slow reader: the kernel's send buffer grows only as it reads */
    assert_int_equal(cl_read(c, true, r), 0);
    assert_int_equal(r->status, 200);
    char v[32];
    assert_true(hdr_get(r, "Transfer-Encoding", v, sizeof v));
    assert_int_equal(hdr_get(r, "Content-Encoding", v, sizeof v), gzip);
    assert_int_equal(cl_read_chunks(c, r), 0);
    if (gzip) {
        char *plain;
        size_t plain_len;
        assert_int_equal(inflate_gzip(r->body, r->body_len, &plain, &plain_len), 0);
        free(r->body);
        r->body = plain;
        r->body_len = plain_len;
    }
}

/* f->huge: len pseudo-random letters (gzip shrinks them by only ~40%). */
static void fill_noise(fx *f, size_t len)
{
    f->huge_len = len;
    f->huge = malloc(len);
    assert_non_null(f->huge);
    uint32_t x = 12345;
    for (size_t i = 0; i < len; i++) {
        x = x * 1664525u + 1013904223u;
        f->huge[i] = (char)('a' + (x >> 24) % 26);
    }
}

static int wait_atomic(atomic_int *v, int want)
{
    for (int i = 0; i < 500 && atomic_load(v) < want; i++)
        sleep_ms(10);
    return atomic_load(v);
}

/*
 * A paused stream and a slow reader (small receive buffer, small reads,
 * naps): the queue stays within the pause mark plus one write while the
 * whole body arrives intact, plain and gzip; the connection serves the
 * next request. The unpaused stream with the same reader queues far more
 * (what the bound is about). HTTP/1.0 is collected: nothing to pause on.
 */
static void test_http_stream_pause_slow_reader(void **state)
{
    fx f;
    fx_start(&f, NULL);
    fill_noise(&f, 12u << 20);
    resp r;
    for (int gz = 0; gz < 2; gz++) {
        cl c;
        cl_open_opt(&c, f.port, 4096, 0);
        c.max_read = 4096;
        c.nap_us = gz ? 300 : 50; /* slower than zlib makes its output */
        int p0 = atomic_load(&f.pauses);
        read_chunked(&c, "/pstream", gz, &r);
        assert_int_equal(r.body_len, f.huge_len);
        assert_memory_equal(r.body, f.huge, f.huge_len);
        resp_free(&r);
        assert_true(atomic_load(&f.pauses) > p0); /* how many depends on the kernel's buffers */
        assert_int_equal(wait_atomic(&f.pstream_ends, gz + 1), gz + 1);
        assert_int_equal(f.pstream_rc, 0);
        cl_send(&c, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_int_equal(cl_read(&c, false, &r), 0);
        assert_string_equal(r.body, "hello world\n");
        resp_free(&r);
        cl_close(&c);
    }
    /* pmax: after each write; the peak: before each send, server-wide */
    assert_true(f.pmax <= PAUSE_AT + 10000 + 16 + 64 * 1024);
    size_t peak = queued_peak(&f);
    assert_true(peak > PAUSE_AT);
    assert_true(peak <= PAUSE_AT + 10000 + 16 + 64 * 1024);
    assert_int_equal(atomic_load(&f.resumes), atomic_load(&f.pauses));

    /* a pause right after begin waits on the head alone, then goes on */
    f.try_rc = 1;
    do_get(f.port, "GET /pstream?try HTTP/1.0\r\n\r\n", false, &r);
    assert_int_equal(f.try_rc, -EAGAIN);
    assert_int_equal(r.body_len, f.huge_len);
    assert_memory_equal(r.body, f.huge, f.huge_len);
    resp_free(&r);
    {
        cl c;
        cl_open(&c, f.port);
        f.try_rc = 1;
        read_chunked(&c, "/pstream?try", false, &r);
        assert_int_equal(f.try_rc, 0);
        assert_int_equal(r.body_len, f.huge_len);
        assert_memory_equal(r.body, f.huge, f.huge_len);
        resp_free(&r);
        cl_close(&c);
    }

    /* without pausing, the same reader makes the server queue most of it */
    cl c;
    cl_open_opt(&c, f.port, 4096, 0);
    c.max_read = 4096;
    c.nap_us = 50;
    read_chunked(&c, "/stream", false, &r);
    assert_int_equal(r.body_len, f.huge_len);
    resp_free(&r);
    cl_close(&c);
    assert_true(queued_peak(&f) > 1024 * 1024);
    fx_end(&f);
}

static void get_inflight_conns(fx *f, void *arg) { *(size_t *)arg = vg_http_server_inflight(f->srv); }

/* The client goes away while the stream waits: the producer hears it once
 * (writes fail), ends the answer, and the slot is freed. */
static void test_http_stream_pause_client_gone(void **state)
{
    fx f;
    fx_start(&f, NULL);
    fill_noise(&f, 8u << 20);
    cl c;
    cl_open_opt(&c, f.port, 4096, 0);
    cl_send(&c, "GET /pstream HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_true(wait_atomic(&f.pauses, 1) >= 1);
    size_t n = 0;
    fx_call(&f, get_inflight_conns, &n);
    assert_int_equal(n, 1);
    cl_close(&c); /* unread bytes: a reset */
    assert_int_equal(wait_atomic(&f.pstream_ends, 1), 1);
    assert_int_equal(f.pstream_rc, -ECONNRESET);
    assert_int_equal(atomic_load(&f.resumes), atomic_load(&f.pauses));
    fx_call(&f, get_inflight_conns, &n);
    assert_int_equal(n, 0);
    for (int i = 0; i < 200 && metric(&f, "vigil_http_connections", NULL, NULL) != 0; i++)
        sleep_ms(10);
    assert_int_equal(metric(&f, "vigil_http_connections", NULL, NULL), 0);
    assert_int_equal(metric(&f, "vigil_http_requests_total", "pstream", "200"), 1);
    fx_end(&f);
}

/* A paused stream whose reader stalls is cut by the write timeout like
 * any answer: the producer hears it, the server stays responsive. */
static void test_http_stream_pause_write_timeout(void **state)
{
    vg_http_opts o = {0};
    o.write_timeout_ms = 300;
    fx f;
    fx_start(&f, &o);
    fill_noise(&f, 8u << 20);
    cl c;
    cl_open_opt(&c, f.port, 4096, 0);
    uint64_t t0 = vg_now_ms();
    cl_send(&c, "GET /pstream HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_true(wait_atomic(&f.pauses, 1) >= 1);
    resp r;
    do_get(f.port, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n", false, &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    assert_int_equal(wait_atomic(&f.pstream_ends, 1), 1);
    assert_true(since_ms(t0) >= 290);
    assert_int_equal(f.pstream_rc, -ECONNRESET);
    size_t n = 1;
    fx_call(&f, get_inflight_conns, &n);
    assert_int_equal(n, 0);
    cl_close(&c);
    fx_end(&f);
}

/* The server is freed under a paused stream (shutdown): the producer is
 * called back from inside vg_http_server_free and ends it; nothing leaks
 * (LSan in the sanitizer build). */
static void test_http_stream_pause_server_freed(void **state)
{
    fx f;
    fx_start(&f, NULL);
    fill_noise(&f, 8u << 20);
    cl c;
    cl_open_opt(&c, f.port, 4096, 0);
    cl_send(&c, "GET /pstream?try HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n\r\n");
    assert_true(wait_atomic(&f.pauses, 1) >= 1 || f.try_rc == 0);
    cl c2;
    cl_open_opt(&c2, f.port, 4096, 0);
    cl_send(&c2, "GET /pstream HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_true(wait_atomic(&f.pauses, 2) >= 1);
    fx_stop_loop(&f);
    assert_int_equal(atomic_load(&f.pstream_ends), 0);
    vg_http_server_free(f.srv);
    f.srv = NULL;
    assert_int_equal(atomic_load(&f.pstream_ends), 2);
    assert_int_equal(f.pstream_rc, -ECONNRESET);
    assert_true(cl_closed_within(&c2, 1000) || true);
    cl_close(&c);
    cl_close(&c2);
    fx_end(&f);
}

static void do_stop_accepting(fx *f, void *arg) { vg_http_server_stop_accepting(f->srv); }

static void test_http_stop_accepting(void **state)
{
    fx f;
    fx_start(&f, NULL);
    cl idle, busy;
    resp r;
    cl_open(&idle, f.port);
    cl_send(&idle, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_int_equal(cl_read(&idle, false, &r), 0);
    resp_free(&r);
    cl_open(&busy, f.port);
    cl_send(&busy, "GET /slow HTTP/1.1\r\nHost: t\r\n\r\n");
    wait_deferred(&f, 1);

    fx_call(&f, do_stop_accepting, NULL);
    /* Idle keep-alive connections close; new ones are refused. */
    assert_true(cl_closed_within(&idle, 1000));
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)f.port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(s, (struct sockaddr *)&a, sizeof a), -1);
    close(s);
    /* The in-flight request is still answered, with Connection: close. */
    assert_int_equal(inflight(&f), 1);
    answer ans = {0, 200, "done\n", 1};
    fx_call(&f, do_answer, &ans);
    assert_int_equal(cl_read(&busy, false, &r), 0);
    assert_string_equal(r.body, "done\n");
    char v[32];
    assert_true(hdr_get(&r, "Connection", v, sizeof v));
    assert_string_equal(v, "close");
    resp_free(&r);
    assert_true(cl_closed_within(&busy, 1000));
    assert_int_equal(inflight(&f), 0);
    cl_close(&idle);
    cl_close(&busy);
    fx_end(&f);
}

static void test_http_metrics(void **state)
{
    fx f;
    fx_start(&f, NULL);
    resp r;
    for (int i = 0; i < 3; i++) {
        do_get(f.port, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n", false, &r);
        resp_free(&r);
    }
    do_get(f.port, "GET /missing HTTP/1.1\r\nHost: t\r\n\r\n", false, &r);
    resp_free(&r);
    do_get(f.port, "DELETE /hello HTTP/1.1\r\nHost: t\r\n\r\n", false, &r);
    resp_free(&r);
    assert_int_equal(metric(&f, "vigil_http_requests_total", "hello", "200"), 3);
    assert_int_equal(metric(&f, "vigil_http_requests_total", "other", "404"), 1);
    assert_int_equal(metric(&f, "vigil_http_requests_total", "other", "405"), 1);
    assert_int_equal(metric(&f, "vigil_http_requests_total", "hello", "404"), -1);
    assert_int_equal(metric(&f, "vigil_http_request_duration_seconds", "hello", NULL), 3);
    assert_int_equal(metric(&f, "vigil_http_request_duration_seconds", "other", NULL), 2);

    /* Every family is well-formed for the exposition: names valid,
     * the counter family ends in _total, the histogram has buckets. */
    vg_scrape *s;
    assert_int_equal(vg_scrape_new(&s), 0);
    vg_registry_collect(f.reg, s);
    const vg_family *fam = vg_scrape_find(s, "vigil_http_request_duration_seconds");
    assert_non_null(fam);
    assert_int_equal(vg_family_type(fam), VG_MT_HISTOGRAM);
    vg_sample_view sv;
    vg_family_sample(fam, 0, &sv);
    assert_int_equal(sv.nbuckets, 11);
    assert_true(sv.sum >= 0 && sv.sum < 10);
    fam = vg_scrape_find(s, "vigil_http_requests_total");
    assert_int_equal(vg_family_type(fam), VG_MT_COUNTER);
    assert_string_equal(vg_family_label_name(fam, 0), "handler");
    assert_string_equal(vg_family_label_name(fam, 1), "code");
    assert_int_equal(vg_family_type(vg_scrape_find(s, "vigil_http_connections")), VG_MT_GAUGE);
    vg_scrape_free(s);
    fx_end(&f);
}

static void test_http_listen_errors(void **state)
{
    vg_loop *loop;
    vg_http_server *srv = NULL, *srv2 = NULL;
    assert_int_equal(vg_loop_new(&loop), 0);
    vg_http_opts o = {0};
    static const char *const bad[] = {"", "9100", "127.0.0.1", "127.0.0.1:", "127.0.0.1:x",
                                      "127.0.0.1:65536", "::1:80", "[::1:80", "[]:80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        o.listen = bad[i];
        assert_int_equal(vg_http_server_new(loop, &o, NULL, NULL, &srv), -EINVAL);
        assert_null(srv);
    }
    o.listen = "127.0.0.1:0";
    assert_int_equal(vg_http_server_new(loop, &o, NULL, NULL, &srv), 0);
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", vg_http_server_port(srv));
    o.listen = addr;
    assert_int_equal(vg_http_server_new(loop, &o, NULL, NULL, &srv2), -EADDRINUSE);
    assert_null(srv2);
    vg_http_server_free(srv);
    vg_loop_free(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_parse_incomplete),
        cmocka_unit_test(test_parse_malformed),
        cmocka_unit_test(test_parse_limits),
        cmocka_unit_test(test_http_basic_routes),
        cmocka_unit_test(test_http_bad_requests),
        cmocka_unit_test(test_http_431),
        cmocka_unit_test(test_http_slow_head_408),
        cmocka_unit_test(test_http_keepalive),
        cmocka_unit_test(test_http_pipelining),
        cmocka_unit_test(test_http_gzip),
        cmocka_unit_test(test_http_conn_cap),
        cmocka_unit_test(test_http_deferred),
        cmocka_unit_test(test_http_deferred_client_gone),
        cmocka_unit_test(test_http_deferred_outlives_server),
        cmocka_unit_test(test_http_write_timeout),
        cmocka_unit_test(test_http_large_body_split_send),
        cmocka_unit_test(test_http_stream),
        cmocka_unit_test(test_http_stream_pause_slow_reader),
        cmocka_unit_test(test_http_stream_pause_client_gone),
        cmocka_unit_test(test_http_stream_pause_server_freed),
        cmocka_unit_test(test_http_stream_pause_write_timeout),
        cmocka_unit_test(test_http_stop_accepting),
        cmocka_unit_test(test_http_metrics),
        cmocka_unit_test(test_http_listen_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
