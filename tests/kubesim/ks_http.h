/*
 * ks_http.h - HTTP/1.1 over one blocking TLS connection: request parsing,
 * plain and chunked responses, and RFC 6455 WebSocket framing.
 *
 * kubesim serves each connection on its own thread (see ks_server.h), so
 * everything here is straight-line blocking I/O on an SSL*. The chunk
 * writer exposes the raw framing so fault injection can split one event
 * over several chunks or cut a connection in the middle of a chunk.
 *
 * Limits (bad input gets 400/413 and the connection closed, never a
 * crash): request head 64 KiB, body 32 MiB.
 */
#ifndef KS_HTTP_H
#define KS_HTTP_H

#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>

#define KS_HTTP_MAX_HEAD (64 * 1024)
#define KS_HTTP_MAX_BODY (32 * 1024 * 1024)
#define KS_HTTP_MAX_PARAMS 64

typedef struct ks_param {
    char *key; /* URL-decoded, point into ks_req.qbuf */
    char *val;
} ks_param;

typedef struct ks_req {
    char method[16];
    char path[4096];       /* URL-decoded path, no query */
    char raw_query[8192];
    char qbuf[8192];       /* storage for decoded params */
    ks_param params[KS_HTTP_MAX_PARAMS];
    int nparams;
    char content_type[256];
    char accept[512];
    char authorization[4096];
    char upgrade[64];
    char connection[128];
    char ws_key[128];
    char ws_protocol[4096];
    char ws_version[16];
    char origin[512];
    int has_origin;
    char user_agent[256];
    int keep_alive;        /* HTTP/1.1 default unless Connection: close */
    int expect_continue;   /* Expect: 100-continue (answered before the body is read) */
    char *body;            /* heap, NUL-terminated; NULL when none */
    size_t body_len;
} ks_req;

typedef struct ks_conn {
    SSL *ssl;
    int fd;
    char in[KS_HTTP_MAX_HEAD];
    size_t in_len;          /* bytes buffered past the last request */
    char peer_cn[256];      /* verified client certificate CN or "" */
} ks_conn;

/*
 * Read one request. 0 and *req filled (release with ks_req_release);
 * -ECONNRESET when the peer closed between requests; -EINVAL for a
 * malformed request (a 400 has been sent); -E2BIG for an oversized one
 * (413 sent); other -errno for I/O errors.
 */
int ks_http_read_request(ks_conn *c, ks_req *req);
void ks_req_release(ks_req *req);
/*
 * Parse a request head (NUL-terminated, modified in place) into req:
 * request line, query parameters and the headers kubesim uses. Sets the
 * Content-Length (-1 when absent) and whether the body is chunked.
 * 0 or -EINVAL with a short reason in *why.
 */
int ks_http_parse_head(char *head, ks_req *req, long long *clen, int *chunked, const char **why);
/* Query parameter value or NULL. */
const char *ks_req_param(const ks_req *req, const char *key);

/* Write all bytes; 0 or -EIO. */
int ks_conn_write(ks_conn *c, const void *p, size_t n);
/* Complete response with Content-Length. extra_headers: "K: V\r\n"... or NULL. */
int ks_http_respond(ks_conn *c, int code, const char *ctype, const char *extra_headers,
                    const void *body, size_t len, int keep_alive);
/* Start a chunked response (200). */
int ks_http_chunked_start(ks_conn *c, const char *ctype);
/* One chunk (n > 0). */
int ks_http_chunk(ks_conn *c, const void *p, size_t n);
/* The terminating zero chunk. */
int ks_http_chunked_end(ks_conn *c);

/* WebSocket: the Sec-WebSocket-Accept value for a key (28 chars + NUL). */
void ks_ws_accept_key(const char *key, char out[32]);
/* One unmasked server frame (opcode 1 text, 2 binary, 8 close, 10 pong). */
int ks_ws_send(ks_conn *c, int opcode, const void *p, size_t n);
/*
 * Read one client frame (must be masked) into a heap buffer when data is
 * available. Returns opcode >= 0 with data and len set (free the data), or -errno.
 */
int ks_ws_recv(ks_conn *c, uint8_t **data, size_t *len);

/* Is there readable data (or EOF) on the connection within ms? 1/0. */
int ks_conn_readable(ks_conn *c, int ms);

const char *ks_http_reason(int code);
/* Percent-decode in place; returns new length. */
size_t ks_url_decode(char *s);

#endif
