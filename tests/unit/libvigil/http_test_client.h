/*
 * http_test_client.h - a blocking loopback HTTP client for the unit tests
 * of vg_http and vg_app: connect (optionally with small socket buffers),
 * send, read into a buffer, optionally as a slow reader (a cap per recv and
 * a nap before each), and decode a chunked body. Failures are cmocka
 * assertions; include after <cmocka.h>.
 */
#ifndef HTTP_TEST_CLIENT_H
#define HTTP_TEST_CLIENT_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vg_buf.h"

typedef struct cl {
    int fd;
    vg_buf in;
    size_t max_read;     /* a slow reader: at most this much per recv, */
    unsigned nap_us;     /* then a nap */
} cl;

/* Connect to 127.0.0.1:port; rcvbuf/sndbuf 0 keep the kernel's sizes.
 * Reads and writes time out after 5 s. */
static inline void cl_open_opt(cl *c, int port, int rcvbuf, int sndbuf)
{
    memset(c, 0, sizeof *c);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(c->fd >= 0);
    if (rcvbuf)
        setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (sndbuf)
        setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    struct timeval tv = {5, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(c->fd, (struct sockaddr *)&a, sizeof a), 0);
    vg_buf_init(&c->in);
}

static inline void cl_close(cl *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    vg_buf_release(&c->in);
}

static inline void cl_send_n(cl *c, const char *s, size_t n)
{
    while (n) {
        ssize_t w = send(c->fd, s, n, MSG_NOSIGNAL);
        assert_true(w > 0);
        s += w;
        n -= (size_t)w;
    }
}

static inline void cl_send(cl *c, const char *s) { cl_send_n(c, s, strlen(s)); }

/* More bytes into c->in: >0 read, 0 EOF, -1 error/timeout. */
static inline int cl_fill(cl *c)
{
    char tmp[65536];
    if (c->nap_us) {
        struct timespec ts = {0, (long)c->nap_us * 1000L};
        nanosleep(&ts, NULL);
    }
    ssize_t n = recv(c->fd, tmp, c->max_read ? c->max_read : sizeof tmp, 0);
    if (n <= 0)
        return n == 0 ? 0 : -1;
    assert_int_equal(vg_buf_append(&c->in, tmp, (size_t)n), 0);
    return 1;
}

/* A chunked body (the head already consumed) appended to out, checking
 * the framing. 0, or -1 when cut off (EOF or timeout before the last
 * chunk). */
static inline int cl_chunks(cl *c, vg_buf *out)
{
    for (;;) {
        char *eol;
        while (!c->in.data || !(eol = strstr(c->in.data, "\r\n")))
            if (cl_fill(c) <= 0)
                return -1;
        char *end;
        size_t n = strtoull(c->in.data, &end, 16);
        assert_ptr_equal(end, eol);
        size_t start = (size_t)(eol - c->in.data) + 2; /* c->in may move while filling */
        size_t need = start + n + 2;
        while (c->in.len < need)
            if (cl_fill(c) <= 0)
                return -1;
        assert_memory_equal(c->in.data + need - 2, "\r\n", 2);
        assert_int_equal(vg_buf_append(out, c->in.data + start, n), 0);
        vg_buf_consume(&c->in, need);
        if (n == 0)
            return 0;
    }
}

#endif
