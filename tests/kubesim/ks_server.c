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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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

typedef struct conn_arg {
    ks_sim *sim;
    int fd;
} conn_arg;

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
    close(ca->fd);
    free(c);
    free(req);
    free(ca);
    return NULL;
}

int ks_server_run(ks_sim *s)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 1024 * 1024);
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
        ca->fd = fd;
        if (pthread_create(&t, &attr, conn_main, ca)) {
            close(fd);
            free(ca);
        }
    }
    pthread_attr_destroy(&attr);
    close(s->listen_fd);
    return 0;
}
