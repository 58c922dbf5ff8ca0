/*
 * ks_server.c - accept loop and connection threads.
 */
#include "ks_server.h"

#include "ks_api.h"
#include "ks_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int ks_server_listen(ks_sim *s)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char port[16];
    snprintf(port, sizeof port, "%d", s->port);
    int rc = getaddrinfo(s->host, port, &hints, &res);
    if (rc)
        return -EADDRNOTAVAIL;
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        freeaddrinfo(res);
        return -errno;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 512)) {
        int e = errno;
        close(fd);
        freeaddrinfo(res);
        return -e;
    }
    freeaddrinfo(res);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (!getsockname(fd, (struct sockaddr *)&ss, &sl))
        s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                 : ((struct sockaddr_in *)&ss)->sin_port);
    s->listen_fd = fd;
    return 0;
}

/*
 * The live connections, so that a stop can end them: their sockets are shut
 * down (a watch notices within its 250 ms wake-up, a read returns 0) and
 * ks_server_run waits for the threads before it returns. The process then
 * exits with no thread half-way through a TLS handshake or a request,
 * which LeakSanitizer would otherwise report at random.
 */
typedef struct conn_set {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int *fds;          /* live sockets; -1 = free slot */
    size_t cap;
    size_t live;       /* threads running */
} conn_set;

typedef struct conn_arg {
    ks_sim *sim;
    conn_set *set;
    int fd;
} conn_arg;

/* Register fd; 0 or -ENOMEM (the connection is then refused). */
static int conn_set_add(conn_set *cs, int fd)
{
    int rc = 0;
    pthread_mutex_lock(&cs->mu);
    size_t i = 0;
    while (i < cs->cap && cs->fds[i] >= 0)
        i++;
    if (i == cs->cap) {
        size_t ncap = cs->cap ? cs->cap * 2 : 64;
        int *n = realloc(cs->fds, ncap * sizeof *n);
        if (!n) {
            rc = -ENOMEM;
            goto out;
        }
        for (size_t j = cs->cap; j < ncap; j++)
            n[j] = -1;
        cs->fds = n;
        cs->cap = ncap;
    }
    cs->fds[i] = fd;
    cs->live++;
out:
    pthread_mutex_unlock(&cs->mu);
    return rc;
}

static void conn_set_del(conn_set *cs, int fd)
{
    pthread_mutex_lock(&cs->mu);
    for (size_t i = 0; i < cs->cap; i++)
        if (cs->fds[i] == fd) {
            cs->fds[i] = -1;
            break;
        }
    cs->live--;
    pthread_cond_broadcast(&cs->cv);
    pthread_mutex_unlock(&cs->mu);
}

/* Shut every live socket down and wait up to wait_ms for the threads. */
static void conn_set_drain(conn_set *cs, int wait_ms)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += wait_ms / 1000;
    dl.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&cs->mu);
    for (size_t i = 0; i < cs->cap; i++)
        if (cs->fds[i] >= 0)
            shutdown(cs->fds[i], SHUT_RDWR);
    while (cs->live && pthread_cond_timedwait(&cs->cv, &cs->mu, &dl) == 0)
        ;
    pthread_mutex_unlock(&cs->mu);
}

static void *conn_main(void *arg)
{
    conn_arg *ca = arg;
    ks_sim *s = ca->sim;
    ks_conn *c = calloc(1, sizeof *c);
    ks_req *req = calloc(1, sizeof *req);
    SSL *ssl = SSL_new(s->ssl);
    if (!c || !req || !ssl)
        goto out;
    c->fd = ca->fd;
    c->ssl = ssl;
    SSL_set_fd(ssl, ca->fd);
    struct timeval tv = {10, 0};
    setsockopt(ca->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (SSL_accept(ssl) != 1)
        goto out;
    tv.tv_sec = 0;
    setsockopt(ca->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ks_tls_peer_cn(ssl, c->peer_cn, sizeof c->peer_cn);
    while (!s->stop) {
        int rc = ks_http_read_request(c, req);
        if (rc)
            break;
        vg_log_debug(s->log, "http", "request", "method", req->method, "path", req->path, "query", req->raw_query);
        rc = ks_api_serve(s, c, req);
        int keep = req->keep_alive;
        ks_req_release(req);
        if (rc || !keep)
            break;
    }
    SSL_shutdown(ssl);
out:
    SSL_free(ssl);
    free(c);
    free(req);
    conn_set_del(ca->set, ca->fd);
    close(ca->fd); /* after the set forgets it: the number may be reused */
    free(ca);
    return NULL;
}

int ks_server_run(ks_sim *s)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 1024 * 1024);
    /* on the heap: a thread stuck past the stop's wait may still use it */
    conn_set *cs = calloc(1, sizeof *cs);
    if (!cs) {
        pthread_attr_destroy(&attr);
        return -ENOMEM;
    }
    pthread_mutex_init(&cs->mu, NULL);
    pthread_cond_init(&cs->cv, NULL);
    while (!s->stop) {
        struct pollfd p = {.fd = s->listen_fd, .events = POLLIN};
        if (poll(&p, 1, 200) <= 0)
            continue;
        int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conn_arg *ca = malloc(sizeof *ca);
        pthread_t t;
        if (!ca) {
            close(fd);
            continue;
        }
        ca->sim = s;
        ca->set = cs;
        ca->fd = fd;
        if (conn_set_add(cs, fd)) {
            close(fd);
            free(ca);
            continue;
        }
        if (pthread_create(&t, &attr, conn_main, ca)) {
            conn_set_del(cs, fd);
            close(fd);
            free(ca);
        }
    }
    pthread_attr_destroy(&attr);
    close(s->listen_fd);
    conn_set_drain(cs, 3000);
    pthread_mutex_lock(&cs->mu);
    size_t left = cs->live;
    pthread_mutex_unlock(&cs->mu);
    if (left) /* a thread stuck past the wait still holds the set */
        return 0;
    pthread_cond_destroy(&cs->cv);
    pthread_mutex_destroy(&cs->mu);
    free(cs->fds);
    free(cs);
    return 0;
}
