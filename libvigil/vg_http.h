/*
 * vg_http.h - the HTTP/1.1 server both binaries serve probes and metrics on.
 *
 * Our own small server on vg_loop rather than libwebsockets' HTTP server:
 * we need exact control of the limits at the door (431 past 8 KiB of
 * request head, header-read and idle timeouts, a connection cap) and of
 * deferred answers (a /metrics request waits for a collection running on
 * another thread while the loop keeps serving /healthz). See vg_http.c.
 *
 * Only GET and HEAD are served (405 otherwise, with Allow). Keep-alive is
 * supported; request bodies are not (a request with a body gets 400/413
 * and the connection closes). Every answer is counted in
 * vigil_http_requests_total{handler,code} and timed in
 * vigil_http_request_duration_seconds{handler}; handler is the label given
 * at route time, "other" for 404/400/431/405 answered before routing.
 */
#ifndef VG_HTTP_H
#define VG_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "vg_log.h"
#include "vg_loop.h"
#include "vg_metrics.h"

typedef struct vg_http_server vg_http_server;
typedef struct vg_http_req vg_http_req;

typedef struct vg_http_opts {
    const char *listen;          /* "HOST:PORT", "[::1]:PORT" or ":PORT" */
    size_t max_head_bytes;       /* request line + headers; 0 = 8192 */
    unsigned header_timeout_ms;  /* whole head must arrive; 0 = 10000 */
    unsigned idle_timeout_ms;    /* keep-alive idle; 0 = 60000 */
    unsigned write_timeout_ms;   /* a stalled reader is dropped; 0 = 30000 */
    unsigned max_conns;          /* 0 = 64; beyond: accept and close */
} vg_http_opts;

/* Handler return values. */
#define VG_HTTP_DONE 0        /* handler called vg_http_req_respond */
#define VG_HTTP_DEFERRED 1    /* handler will respond later, on the loop thread */

typedef int (*vg_http_handler_fn)(vg_http_req *req, void *ud);

/* Respond flags. */
#define VG_HTTP_F_GZIP_OK 0x1u   /* compress if Accept-Encoding allows gzip */

/*
 * Create and bind. Returns 0, or -EADDRINUSE/-EINVAL/... On failure *out
 * is untouched. reg (optional) receives the vigil_http_* families; log is
 * used for the server's own decisions (bind, cap reached).
 */
int vg_http_server_new(vg_loop *loop, const vg_http_opts *opts,
                       vg_registry *reg, vg_log *log, vg_http_server **out);

/* Exact-path route. label is the bounded "handler" label value. */
int vg_http_server_route(vg_http_server *srv, const char *path,
                         const char *label, vg_http_handler_fn fn, void *ud);

/* The bound port (useful with :0). */
int vg_http_server_port(const vg_http_server *srv);
/*
 * The most bytes one connection has held for its socket (answers taken
 * from callers and not yet sent) since the server started: what a slow
 * reader costs at worst. Loop thread.
 */
size_t vg_http_server_queued_peak(const vg_http_server *srv);

/*
 * Stop accepting (close the listener); in-flight requests go on. Idle
 * keep-alive connections are closed at once and every later answer
 * carries Connection: close, so inflight drains to 0.
 */
void vg_http_server_stop_accepting(vg_http_server *srv);
/* Requests read but not yet fully answered (deferred or still writing). */
size_t vg_http_server_inflight(const vg_http_server *srv);
/*
 * Close every connection and free. Not from inside a handler. Requests
 * still deferred are detached, not freed: their owner must still call
 * vg_http_req_respond once on each (it frees the request, sends nothing
 * and returns -ECONNRESET); accessors stay valid until then. Paused
 * streams get their callback from inside this call, with the client gone.
 */
void vg_http_server_free(vg_http_server *srv);

/* ---- request accessors (valid until the request is answered) ---- */
const char *vg_http_req_method(const vg_http_req *req);
const char *vg_http_req_path(const vg_http_req *req);    /* without query */
const char *vg_http_req_query(const vg_http_req *req);   /* "" when none */
/* Case-insensitive header lookup; NULL if absent. */
const char *vg_http_req_header(const vg_http_req *req, const char *name);
/* Whether Accept-Encoding allows gzip (an explicit gzip/x-gzip with q > 0,
 * else "*" with q > 0): for a caller sending a body compressed ahead. */
bool vg_http_req_accepts_gzip(const vg_http_req *req);
bool vg_http_req_is_head(const vg_http_req *req);
/* True when the query has this parameter (e.g. "verbose"). */
bool vg_http_req_has_param(const vg_http_req *req, const char *name);
/* Monotonic ms when the request head was complete. */
unsigned long long vg_http_req_start_ms(const vg_http_req *req);

/*
 * Answer the request: copies body. HEAD requests get headers only.
 * extra_headers: NULL or "Name: value\r\n..." lines. May be called once,
 * from the loop thread, for a request whose handler returned
 * VG_HTTP_DEFERRED after the handler returned. Returns 0 or -errno; the
 * request is consumed either way. -ECONNRESET: the client went away (or
 * the server was freed) while the request was deferred; nothing is sent.
 * A status outside 200..599 gives -EINVAL and the client a 500.
 * Every deferred request must be answered exactly once (else it leaks).
 */
int vg_http_req_respond(vg_http_req *req, int status, const char *content_type,
                        const char *extra_headers, const void *body, size_t len,
                        unsigned flags);

/*
 * Streamed answer, for a body produced piece by piece (a metrics exposition
 * of several MB) that should never sit whole in memory: HTTP/1.1 clients
 * get Transfer-Encoding: chunked, each write going to the socket as far as
 * it takes it without blocking; what it does not take is queued on the
 * connection (vg_http_stream_queued). With gzip (flags allow it and the
 * client accepts it) the chunks carry one gzip stream, compressed as the
 * pieces come. HTTP/1.0 clients get the body collected and sent whole at
 * the end (gzipped whole when asked).
 *
 * Everything runs on the loop thread. Between begin and end the producer
 * returns to the loop only while paused (vg_http_stream_pause): that is
 * how a slow reader is made to cost a bounded queue instead of the whole
 * body. content_type and extra_headers must stay valid until end. begin
 * consumes req: 0 and *out, or -EINVAL (bad status: the client got 500) /
 * -ENOMEM (the client got 500) and *out NULL. A stream for a client
 * already gone is valid: writes return -ECONNRESET.
 */
typedef struct vg_http_stream vg_http_stream;
int vg_http_req_stream_begin(vg_http_req *req, int status, const char *content_type,
                             const char *extra_headers, unsigned flags, vg_http_stream **out);
/* 0, or -ECONNRESET (client gone: stop producing) / -ENOMEM. */
int vg_http_stream_write(vg_http_stream *w, const void *p, size_t n);
/*
 * Bytes written to w (framing included) that its socket has not taken
 * yet. 0 for a collected (HTTP/1.0) or HEAD answer and once the client
 * is gone: only a chunked body waits on the socket.
 */
size_t vg_http_stream_queued(const vg_http_stream *w);
/*
 * Called on the loop thread for a paused stream, once: when all it had
 * queued has gone to the socket, or when its client went away (write
 * timeout, reset, the server freed: writes then return -ECONNRESET). The
 * callback writes on and pauses again, or ends w; it must not return
 * holding w otherwise, nor free the server.
 */
typedef void (*vg_http_stream_fn)(vg_http_stream *w, void *ud);
/*
 * Stop producing until fn(w, ud) is called; return to the loop. 0: fn
 * will be called exactly once (also from vg_http_server_free, and never
 * from inside this call). -EAGAIN: nothing is queued (or the answer is
 * collected), write on. -ECONNRESET: the client is gone, end w. -EINVAL:
 * fn NULL. A write or end while paused takes w back (fn is then not
 * called). A paused stream counts in vg_http_server_inflight and is cut
 * by the write timeout like any answer.
 */
int vg_http_stream_pause(vg_http_stream *w, vg_http_stream_fn fn, void *ud);
/*
 * Finish and free w (paused or not). error < 0 aborts: a chunked answer is
 * cut off (no last chunk, connection closed) so the client cannot take it
 * for whole; a collected one becomes a 500. Returns error, or 0 /
 * -ECONNRESET.
 */
int vg_http_stream_end(vg_http_stream *w, int error);

/* ---- the request head parser, exposed for tests and fuzzing ---- */

typedef struct vg_http_head {
    char method[16];
    const char *target; size_t target_len;     /* points into the input */
    int version_minor;                         /* HTTP/1.x */
    size_t nheaders;
    struct { const char *name; size_t name_len; const char *value; size_t value_len; } headers[64];
    size_t head_len;                           /* bytes through the blank line */
} vg_http_head;

/*
 * Parse a request head from buf[0..len). Returns head_len (>0) when a
 * complete head was parsed, 0 when more bytes are needed, -EBADMSG when
 * malformed, -E2BIG when over max_head bytes (or over 64 headers),
 * -EPROTONOSUPPORT for a well-formed HTTP-version other than 1.0/1.1
 * (the server answers 505; every other bad request line is 400).
 * Strict: token method (< 16 chars), origin-form target only ("/..."),
 * single spaces, token header names with no space before ':', no
 * obs-fold, no control bytes; CRLF or bare LF line ends; empty lines
 * before the request line are skipped. A malformed complete line is
 * reported at once, without waiting for the rest of the head.
 */
long vg_http_head_parse(const char *buf, size_t len, size_t max_head,
                        vg_http_head *out);

#endif
