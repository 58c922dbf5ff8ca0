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
#include <stdbool.h>
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
 * The connection threads, so that a stop can end them: their sockets are
 * shut down (a watch notices within its 250 ms wake-up, a read returns 0)
 * and ks_server_run joins the threads before it returns. Joined, not just
 * counted: a thread that has said it is done still runs OpenSSL's
 * thread-exit cleanup (its per-thread random generators), and a process
 * exiting under it leaks those, which LeakSanitizer reports at random. The
 * accept loop joins finished threads as it goes.
 */
typedef enum { SLOT_FREE = 0, SLOT_RUNNING, SLOT_DONE } slot_state;

typedef struct conn_slot {
    int fd;
    pthread_t thread;
    slot_state state;
} conn_slot;

typedef struct conn_set {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    conn_slot *slots;
    size_t cap;
    size_t running;    /* slots in SLOT_RUNNING */
} conn_set;

typedef struct conn_arg {
    ks_sim *sim;
    conn_set *set;
    size_t slot;
    int fd;
} conn_arg;

/* A free slot for fd, marked running; its index or -ENOMEM. */
static long conn_set_add(conn_set *cs, int fd)
{
    long rc;
    pthread_mutex_lock(&cs->mu);
    size_t i = 0;
    while (i < cs->cap && cs->slots[i].state != SLOT_FREE)
        i++;
    if (i == cs->cap) {
        size_t ncap = cs->cap ? cs->cap * 2 : 64;
        conn_slot *n = realloc(cs->slots, ncap * sizeof *n);
        if (!n) {
            rc = -ENOMEM;
            goto out;
        }
        memset(n + cs->cap, 0, (ncap - cs->cap) * sizeof *n);
        cs->slots = n;
        cs->cap = ncap;
    }
    cs->slots[i].fd = fd;
    cs->slots[i].state = SLOT_RUNNING;
    cs->running++;
    rc = (long)i;
out:
    pthread_mutex_unlock(&cs->mu);
    return rc;
}

/* The thread of slot i is about to return (or was never started). */
static void conn_set_done(conn_set *cs, size_t i, bool started)
{
    pthread_mutex_lock(&cs->mu);
    cs->slots[i].state = started ? SLOT_DONE : SLOT_FREE;
    cs->running--;
    pthread_cond_broadcast(&cs->cv);
    pthread_mutex_unlock(&cs->mu);
}

/* Join the threads that are done (accept loop only: it sets thread). */
static void conn_set_reap(conn_set *cs)
{
    pthread_mutex_lock(&cs->mu);
    for (size_t i = 0; i < cs->cap; i++) {
        if (cs->slots[i].state != SLOT_DONE)
            continue;
        pthread_t t = cs->slots[i].thread;
        pthread_mutex_unlock(&cs->mu);
        pthread_join(t, NULL);
        pthread_mutex_lock(&cs->mu);
        cs->slots[i].state = SLOT_FREE;
    }
    pthread_mutex_unlock(&cs->mu);
}

/* Shut every live socket down, wait up to wait_ms for the threads, join
 * them. Returns how many are still running. */
static size_t conn_set_drain(conn_set *cs, int wait_ms)
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
        if (cs->slots[i].state == SLOT_RUNNING)
            shutdown(cs->slots[i].fd, SHUT_RDWR);
    while (cs->running && pthread_cond_timedwait(&cs->cv, &cs->mu, &dl) == 0)
        ;
    pthread_mutex_unlock(&cs->mu);
    conn_set_reap(cs);
    pthread_mutex_lock(&cs->mu);
    size_t left = cs->running;
    pthread_mutex_unlock(&cs->mu);
    return left;
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
    close(ca->fd);
    conn_set_done(ca->set, ca->slot, true);
    free(ca);
    return NULL;
}

int ks_server_run(ks_sim *s)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
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
        conn_set_reap(cs);
        struct pollfd p = {.fd = s->listen_fd, .events = POLLIN};
        if (poll(&p, 1, 200) <= 0)
            continue;
        int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conn_arg *ca = malloc(sizeof *ca);
        long slot = ca ? conn_set_add(cs, fd) : -ENOMEM;
        if (slot < 0) {
            close(fd);
            free(ca);
            continue;
        }
        ca->sim = s;
        ca->set = cs;
        ca->slot = (size_t)slot;
        ca->fd = fd;
        /* thread is set before any reap can look at the slot: both here */
        if (pthread_create(&cs->slots[slot].thread, &attr, conn_main, ca)) {
            close(fd);
            free(ca);
            conn_set_done(cs, (size_t)slot, false);
        }
    }
    pthread_attr_destroy(&attr);
    close(s->listen_fd);
    if (conn_set_drain(cs, 3000))
        return 0; /* a thread stuck past the wait still holds the set */
    pthread_cond_destroy(&cs->cv);
    pthread_mutex_destroy(&cs->mu);
    free(cs->slots);
    free(cs);
    return 0;
}
