/*
 * ks_http.c - blocking HTTP/1.1 + WebSocket framing over OpenSSL.
 * Request heads are read into the connection buffer; bytes past the head
 * (pipelined requests, bodies) stay buffered for the next read.
 */
#include "ks_http.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *ks_http_reason(int code)
{
    switch (code) {
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "Request Entity Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
    }
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

size_t ks_url_decode(char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (*p == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
            *o++ = (char)(hexval(p[1]) * 16 + hexval(p[2]));
            p += 2;
        } else if (*p == '+') {
            *o++ = ' ';
        } else {
            *o++ = *p;
        }
    }
    *o = 0;
    return (size_t)(o - s);
}

int ks_conn_write(ks_conn *c, const void *p, size_t n)
{
    const char *b = p;
    while (n > 0) {
        int chunk = n > (1u << 30) ? (1 << 30) : (int)n;
        int w = SSL_write(c->ssl, b, chunk);
        if (w <= 0)
            return -EIO;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Fill more bytes into c->in; 0 on EOF, >0 bytes, <0 error. */
static int fill(ks_conn *c)
{
    if (c->in_len >= sizeof c->in)
        return -E2BIG;
    int r = SSL_read(c->ssl, c->in + c->in_len, (int)(sizeof c->in - c->in_len));
    if (r <= 0) {
        int e = SSL_get_error(c->ssl, r);
        return e == SSL_ERROR_ZERO_RETURN ? 0 : -ECONNRESET;
    }
    c->in_len += (size_t)r;
    return r;
}

/* Read exactly n bytes (from the buffer first). */
static int read_exact(ks_conn *c, void *dst, size_t n)
{
    char *d = dst;
    size_t take = c->in_len < n ? c->in_len : n;
    memcpy(d, c->in, take);
    memmove(c->in, c->in + take, c->in_len - take);
    c->in_len -= take;
    d += take;
    n -= take;
    while (n > 0) {
        int r = SSL_read(c->ssl, d, n > (1u << 30) ? (1 << 30) : (int)n);
        if (r <= 0)
            return -ECONNRESET;
        d += r;
        n -= (size_t)r;
    }
    return 0;
}

static void copy_hdr(char *dst, size_t cap, const char *v)
{
    size_t n = strlen(v);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, v, n);
    dst[n] = 0;
}

static void parse_query(ks_req *r)
{
    copy_hdr(r->qbuf, sizeof r->qbuf, r->raw_query);
    char *save = NULL;
    for (char *tok = strtok_r(r->qbuf, "&", &save); tok && r->nparams < KS_HTTP_MAX_PARAMS;
         tok = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(tok, '=');
        char *val = eq ? eq + 1 : tok + strlen(tok);
        if (eq)
            *eq = 0;
        ks_url_decode(tok);
        ks_url_decode(val);
        r->params[r->nparams].key = tok;
        r->params[r->nparams].val = val;
        r->nparams++;
    }
}

const char *ks_req_param(const ks_req *req, const char *key)
{
    for (int i = 0; i < req->nparams; i++)
        if (!strcmp(req->params[i].key, key))
            return req->params[i].val;
    return NULL;
}

static int bad(ks_conn *c, int code, const char *msg)
{
    ks_http_respond(c, code, "text/plain", NULL, msg, strlen(msg), 0);
    return code == 413 ? -E2BIG : -EINVAL;
}

int ks_http_parse_head(char *head, ks_req *req, long long *clen, int *chunked, const char **why)
{
    char *save = NULL;
    char *line = strtok_r(head, "\r\n", &save);
    if (!line) {
        *why = "empty request\n";
        return -EINVAL;
    }
    char target[8192], version[16];
    if (sscanf(line, "%15s %8191s %15s", req->method, target, version) != 3 ||
        strncmp(version, "HTTP/1.", 7)) {
        *why = "malformed request line\n";
        return -EINVAL;
    }
    req->keep_alive = strcmp(version, "HTTP/1.0") != 0;
    char *q = strchr(target, '?');
    if (q) {
        *q = 0;
        copy_hdr(req->raw_query, sizeof req->raw_query, q + 1);
    }
    copy_hdr(req->path, sizeof req->path, target);
    ks_url_decode(req->path);
    parse_query(req);

    *clen = -1;
    *chunked = 0;
    while ((line = strtok_r(NULL, "\r\n", &save))) {
        char *colon = strchr(line, ':');
        if (!colon) {
            *why = "malformed header\n";
            return -EINVAL;
        }
        *colon = 0;
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        size_t vl = strlen(v);
        while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
            v[--vl] = 0;
        if (!strcasecmp(line, "Content-Length")) {
            char *e = NULL;
            *clen = strtoll(v, &e, 10);
            if (!e || *e || *clen < 0) {
                *why = "bad Content-Length\n";
                return -EINVAL;
            }
        } else if (!strcasecmp(line, "Transfer-Encoding")) {
            *chunked = strcasestr(v, "chunked") != NULL;
        } else if (!strcasecmp(line, "Content-Type")) {
            copy_hdr(req->content_type, sizeof req->content_type, v);
        } else if (!strcasecmp(line, "Accept")) {
            copy_hdr(req->accept, sizeof req->accept, v);
        } else if (!strcasecmp(line, "Authorization")) {
            copy_hdr(req->authorization, sizeof req->authorization, v);
        } else if (!strcasecmp(line, "Upgrade")) {
            copy_hdr(req->upgrade, sizeof req->upgrade, v);
        } else if (!strcasecmp(line, "Connection")) {
            copy_hdr(req->connection, sizeof req->connection, v);
            if (strcasestr(v, "close"))
                req->keep_alive = 0;
        } else if (!strcasecmp(line, "Sec-WebSocket-Key")) {
            copy_hdr(req->ws_key, sizeof req->ws_key, v);
        } else if (!strcasecmp(line, "Sec-WebSocket-Protocol")) {
            size_t cur = strlen(req->ws_protocol);
            if (cur && cur + 1 < sizeof req->ws_protocol)
                strcat(req->ws_protocol, ",");
            cur = strlen(req->ws_protocol);
            copy_hdr(req->ws_protocol + cur, sizeof req->ws_protocol - cur, v);
        } else if (!strcasecmp(line, "Sec-WebSocket-Version")) {
            copy_hdr(req->ws_version, sizeof req->ws_version, v);
        } else if (!strcasecmp(line, "Origin")) {
            copy_hdr(req->origin, sizeof req->origin, v);
            req->has_origin = 1;
        } else if (!strcasecmp(line, "Expect")) {
            req->expect_continue = strcasestr(v, "100-continue") != NULL;
        } else if (!strcasecmp(line, "User-Agent")) {
            copy_hdr(req->user_agent, sizeof req->user_agent, v);
        }
    }
    return 0;
}

int ks_http_read_request(ks_conn *c, ks_req *req)
{
    memset(req, 0, sizeof *req);
    char *end = NULL;
    for (;;) {
        end = c->in_len ? memmem(c->in, c->in_len, "\r\n\r\n", 4) : NULL;
        if (end)
            break;
        int r = fill(c);
        if (r == -E2BIG)
            return bad(c, 413, "request head too large\n");
        if (r <= 0)
            return c->in_len == 0 ? -ECONNRESET : -EIO;
    }
    size_t head_len = (size_t)(end - c->in) + 4;
    char head[KS_HTTP_MAX_HEAD + 1];
    memcpy(head, c->in, head_len);
    head[head_len] = 0;
    memmove(c->in, c->in + head_len, c->in_len - head_len);
    c->in_len -= head_len;

    long long clen = -1;
    int chunked = 0;
    const char *why = NULL;
    if (ks_http_parse_head(head, req, &clen, &chunked, &why))
        return bad(c, 400, why);
    if (clen > KS_HTTP_MAX_BODY)
        return bad(c, 413, "request body too large\n");
    /* libcurl waits up to a second for this before sending a body */
    if (req->expect_continue && (clen > 0 || chunked) && c->in_len == 0 &&
        ks_conn_write(c, "HTTP/1.1 100 Continue\r\n\r\n", 25))
        return -EIO;
    if (chunked) {
        /* Rare from API clients; read chunks into the body. */
        size_t cap = 0;
        for (;;) {
            char *nl;
            while (!(nl = c->in_len ? memmem(c->in, c->in_len, "\r\n", 2) : NULL)) {
                int r = fill(c);
                if (r <= 0)
                    return -EIO;
            }
            *nl = 0;
            char *e = NULL;
            unsigned long sz = strtoul(c->in, &e, 16);
            size_t ll = (size_t)(nl - c->in) + 2;
            memmove(c->in, c->in + ll, c->in_len - ll);
            c->in_len -= ll;
            if (req->body_len + sz > KS_HTTP_MAX_BODY) {
                ks_req_release(req);
                return bad(c, 413, "request body too large\n");
            }
            if (sz == 0) {
                char crlf[2];
                if (read_exact(c, crlf, 2))
                    return -EIO;
                break;
            }
            if (req->body_len + sz + 1 > cap) {
                cap = (req->body_len + sz + 1) * 2;
                char *nb = realloc(req->body, cap);
                if (!nb) {
                    ks_req_release(req);
                    return -ENOMEM;
                }
                req->body = nb;
            }
            char crlf[2];
            if (read_exact(c, req->body + req->body_len, sz) || read_exact(c, crlf, 2)) {
                ks_req_release(req);
                return -EIO;
            }
            req->body_len += sz;
            req->body[req->body_len] = 0;
        }
    } else if (clen > 0) {
        if (clen > KS_HTTP_MAX_BODY)
            return bad(c, 413, "request body too large\n");
        req->body = malloc((size_t)clen + 1);
        if (!req->body)
            return -ENOMEM;
        if (read_exact(c, req->body, (size_t)clen)) {
            ks_req_release(req);
            return -EIO;
        }
        req->body[clen] = 0;
        req->body_len = (size_t)clen;
    }
    return 0;
}

void ks_req_release(ks_req *req)
{
    free(req->body);
    req->body = NULL;
    req->body_len = 0;
}

int ks_http_respond(ks_conn *c, int code, const char *ctype, const char *extra_headers,
                    const void *body, size_t len, int keep_alive)
{
    char head[2048];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Cache-Control: no-cache, private\r\n%s%s\r\n",
                     code, ks_http_reason(code), ctype ? ctype : "application/json", len,
                     extra_headers ? extra_headers : "", keep_alive ? "" : "Connection: close\r\n");
    if (n < 0 || (size_t)n >= sizeof head)
        return -EINVAL;
    /* One write for small responses: fewer TLS records. */
    if (len < 16384) {
        char one[2048 + 16384];
        memcpy(one, head, (size_t)n);
        if (len)
            memcpy(one + n, body, len);
        return ks_conn_write(c, one, (size_t)n + len);
    }
    if (ks_conn_write(c, head, (size_t)n))
        return -EIO;
    return len ? ks_conn_write(c, body, len) : 0;
}

int ks_http_chunked_start(ks_conn *c, const char *ctype)
{
    char head[512];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nCache-Control: no-cache, private\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n",
                     ctype);
    return ks_conn_write(c, head, (size_t)n);
}

int ks_http_chunk(ks_conn *c, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    char hdr[32];
    int h = snprintf(hdr, sizeof hdr, "%zx\r\n", n);
    if (n < 8192) {
        char one[8192 + 48];
        memcpy(one, hdr, (size_t)h);
        memcpy(one + h, p, n);
        memcpy(one + h + n, "\r\n", 2);
        return ks_conn_write(c, one, (size_t)h + n + 2);
    }
    if (ks_conn_write(c, hdr, (size_t)h) || ks_conn_write(c, p, n) || ks_conn_write(c, "\r\n", 2))
        return -EIO;
    return 0;
}

int ks_http_chunked_end(ks_conn *c)
{
    return ks_conn_write(c, "0\r\n\r\n", 5);
}

void ks_ws_accept_key(const char *key, char out[32])
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    char buf[256];
    unsigned char md[SHA_DIGEST_LENGTH];
    int n = snprintf(buf, sizeof buf, "%s%s", key, guid);
    SHA1((const unsigned char *)buf, (size_t)n, md);
    EVP_EncodeBlock((unsigned char *)out, md, SHA_DIGEST_LENGTH);
}

int ks_ws_send(ks_conn *c, int opcode, const void *p, size_t n)
{
    unsigned char hdr[10];
    size_t h = 0;
    hdr[h++] = (unsigned char)(0x80 | (opcode & 0x0f));
    if (n < 126) {
        hdr[h++] = (unsigned char)n;
    } else if (n <= 0xffff) {
        hdr[h++] = 126;
        hdr[h++] = (unsigned char)(n >> 8);
        hdr[h++] = (unsigned char)n;
    } else {
        hdr[h++] = 127;
        for (int i = 7; i >= 0; i--)
            hdr[h++] = (unsigned char)((uint64_t)n >> (i * 8));
    }
    if (ks_conn_write(c, hdr, h))
        return -EIO;
    return n ? ks_conn_write(c, p, n) : 0;
}

int ks_ws_recv(ks_conn *c, uint8_t **data, size_t *len)
{
    uint8_t h[2];
    if (read_exact(c, h, 2))
        return -ECONNRESET;
    int opcode = h[0] & 0x0f;
    int masked = (h[1] & 0x80) != 0;
    uint64_t n = h[1] & 0x7f;
    if (n == 126) {
        uint8_t e[2];
        if (read_exact(c, e, 2))
            return -ECONNRESET;
        n = ((uint64_t)e[0] << 8) | e[1];
    } else if (n == 127) {
        uint8_t e[8];
        if (read_exact(c, e, 8))
            return -ECONNRESET;
        n = 0;
        for (int i = 0; i < 8; i++)
            n = (n << 8) | e[i];
    }
    if (!masked || n > (1u << 20))
        return -EPROTO;
    uint8_t mask[4];
    if (read_exact(c, mask, 4))
        return -ECONNRESET;
    uint8_t *d = malloc(n + 1);
    if (!d)
        return -ENOMEM;
    if (read_exact(c, d, n)) {
        free(d);
        return -ECONNRESET;
    }
    for (uint64_t i = 0; i < n; i++)
        d[i] ^= mask[i & 3];
    d[n] = 0;
    *data = d;
    *len = n;
    return opcode;
}

int ks_conn_readable(ks_conn *c, int ms)
{
    if (c->in_len > 0 || SSL_pending(c->ssl) > 0)
        return 1;
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    return poll(&p, 1, ms) > 0;
}
