/*
 * test_kube_informer.c - the client and the reflector against a tiny
 * scripted HTTP server in this test: paged list, watch events split across
 * chunks, ERROR 410 -> relist with the last RV and a diff of handler
 * calls, streaming list refused -> list+watch, Retry-After on 429, 401 ->
 * token re-read, 409 surfaced, expired continue -> list restart, a
 * request's cancel flag ending a silent exchange or a Retry-After wait.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kube/kube_informer.h"

/* ---------------- scripted server ---------------- */

typedef struct srv {
    int lfd, port;
    pthread_t t;
    atomic_int stop;
    pthread_mutex_t mu;
    char log[64][512];       /* request lines seen */
    int nlog;
    int step;                /* scenario state */
    const char *scenario;
    char tokfile[128];
} srv;

static void sendall(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static void reply(int fd, int code, const char *extra, const char *body)
{
    char h[512];
    snprintf(h, sizeof h, "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n%sConnection: close\r\n\r\n",
             code, strlen(body), extra ? extra : "");
    sendall(fd, h, strlen(h));
    sendall(fd, body, strlen(body));
}

static void chunk(int fd, const char *p, size_t n)
{
    char h[32];
    snprintf(h, sizeof h, "%zx\r\n", n);
    sendall(fd, h, strlen(h));
    sendall(fd, p, n);
    sendall(fd, "\r\n", 2);
}

static const char *pod(char *buf, size_t n, const char *name, int rv)
{
    snprintf(buf, n, "{\"metadata\":{\"namespace\":\"d\",\"name\":\"%s\",\"resourceVersion\":\"%d\",\"uid\":\"u-%s\"},"
                     "\"spec\":{\"nodeName\":\"n1\"},\"status\":{\"phase\":\"Running\"}}", name, rv, name);
    return buf;
}

static void stream_start(int fd)
{
    const char *h = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    sendall(fd, h, strlen(h));
}

static void serve_informer(srv *s, int fd, const char *line, const char *auth)
{
    char a[400], b[400], body[2048];
    bool watch = strstr(line, "watch=true") != NULL;
    if (watch && strstr(line, "sendInitialEvents=true")) {
        reply(fd, 422, NULL, "{\"kind\":\"Status\",\"status\":\"Failure\",\"reason\":\"Invalid\",\"code\":422}");
        return;
    }
    if (!watch && strstr(line, "resourceVersion=0") && !strstr(line, "continue=")) {
        snprintf(body, sizeof body, "{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":\"10\",\"continue\":\"c1\"},\"items\":[%s]}",
                 pod(a, sizeof a, "p1", 5));
        reply(fd, 200, NULL, body);
        return;
    }
    if (!watch && strstr(line, "continue=c1")) {
        snprintf(body, sizeof body, "{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":\"10\"},\"items\":[%s]}",
                 pod(a, sizeof a, "p2", 6));
        reply(fd, 200, NULL, body);
        return;
    }
    if (watch && strstr(line, "resourceVersion=10&")) {
        stream_start(fd);
        char ev[4096];
        int n = snprintf(ev, sizeof ev,
                         "{\"type\":\"ADDED\",\"object\":%s}\n{\"type\":\"MODIFIED\",\"object\":%s}\n"
                         "{\"type\":\"DELETED\",\"object\":%s}\n",
                         pod(a, sizeof a, "p3", 11), pod(b, sizeof b, "p1", 12), pod(body, sizeof body, "p2", 13));
        /* odd chunk sizes: events straddle chunks */
        for (int off = 0; off < n; off += 37)
            chunk(fd, ev + off, (size_t)(n - off < 37 ? n - off : 37));
        const char *err = "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                          "\"status\":\"Failure\",\"message\":\"too old resource version: 10 (30)\",\"reason\":\"Expired\",\"code\":410}}\n";
        chunk(fd, err, strlen(err));
        sendall(fd, "0\r\n\r\n", 5);
        return;
    }
    if (!watch && strstr(line, "resourceVersion=13")) {
        snprintf(body, sizeof body, "{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":\"20\"},\"items\":[%s,%s]}",
                 pod(a, sizeof a, "p1", 12), pod(b, sizeof b, "p4", 19));
        reply(fd, 200, NULL, body);
        return;
    }
    if (watch && strstr(line, "resourceVersion=20&")) {
        stream_start(fd);
        const char *bm = "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"25\"}}}\n";
        chunk(fd, bm, strlen(bm));
        /* hold the watch open until the test stops */
        while (!atomic_load(&s->stop)) {
            struct timespec ts = {0, 20 * 1000000};
            nanosleep(&ts, NULL);
        }
        return;
    }
    reply(fd, 404, NULL, "{\"kind\":\"Status\",\"reason\":\"NotFound\",\"code\":404}");
}

static void serve_client(srv *s, int fd, const char *line, const char *auth)
{
    if (strstr(line, "/retry-later")) {
        reply(fd, 503, "Retry-After: 20\r\n", "{\"kind\":\"Status\",\"reason\":\"ServiceUnavailable\",\"code\":503}");
        return;
    }
    if (strstr(line, "/throttled")) {
        if (s->step++ == 0) {
            reply(fd, 429, "Retry-After: 1\r\n", "{\"kind\":\"Status\",\"reason\":\"TooManyRequests\",\"code\":429}");
            return;
        }
        reply(fd, 200, NULL, "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"x\"}}");
        return;
    }
    if (strstr(line, "/auth")) {
        if (!strstr(auth, "Bearer tok-2")) {
            /* the "kubelet" has rotated the token by the time we refuse */
            FILE *f = fopen(s->tokfile, "w");
            fputs("tok-2\n", f);
            fclose(f);
            reply(fd, 401, NULL, "{\"kind\":\"Status\",\"reason\":\"Unauthorized\",\"code\":401}");
            return;
        }
        reply(fd, 200, NULL, "{}");
        return;
    }
    if (strstr(line, "PUT ")) {
        reply(fd, 409, NULL, "{\"kind\":\"Status\",\"status\":\"Failure\",\"reason\":\"Conflict\",\"code\":409,"
                             "\"message\":\"the object has been modified\"}");
        return;
    }
    if (strstr(line, "continue=old")) {
        reply(fd, 410, NULL, "{\"kind\":\"Status\",\"reason\":\"Expired\",\"code\":410,\"metadata\":{\"continue\":\"fresh\"}}");
        return;
    }
    if (strstr(line, "/pods?")) {
        char body[600];
        if (strstr(line, "resourceVersion=") || s->step == 0) {
            s->step = 1;
            snprintf(body, sizeof body, "{\"metadata\":{\"resourceVersion\":\"7\",\"continue\":\"old\"},\"items\":[{\"a\":1}]}");
        } else {
            snprintf(body, sizeof body, "{\"metadata\":{\"resourceVersion\":\"9\"},\"items\":[{\"a\":2},{\"a\":3}]}");
        }
        reply(fd, 200, NULL, body);
        return;
    }
    reply(fd, 404, NULL, "{\"kind\":\"Status\",\"reason\":\"NotFound\",\"code\":404}");
}

static void *srv_run(void *arg)
{
    srv *s = arg;
    while (!atomic_load(&s->stop)) {
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        char req[8192];
        size_t n = 0;
        while (n < sizeof req - 1) {
            ssize_t r = recv(fd, req + n, sizeof req - 1 - n, 0);
            if (r <= 0)
                break;
            n += (size_t)r;
            req[n] = '\0';
            char *he = strstr(req, "\r\n\r\n");
            if (he) {
                char *cl = strcasestr(req, "Content-Length:");
                size_t want = cl ? (size_t)atoi(cl + 15) : 0;
                if (n >= (size_t)(he + 4 - req) + want)
                    break;
            }
        }
        req[n] = '\0';
        char line[512];
        snprintf(line, sizeof line, "%.*s", (int)strcspn(req, "\r"), req);
        char auth[256] = "";
        char *ap = strcasestr(req, "\r\nAuthorization:");
        if (ap)
            snprintf(auth, sizeof auth, "%.*s", (int)strcspn(ap + 2, "\r"), ap + 2);
        pthread_mutex_lock(&s->mu);
        if (s->nlog < 64)
            snprintf(s->log[s->nlog++], sizeof s->log[0], "%s", line);
        pthread_mutex_unlock(&s->mu);
        if (strcmp(s->scenario, "informer") == 0)
            serve_informer(s, fd, line, auth);
        else
            serve_client(s, fd, line, auth);
        close(fd);
    }
    return NULL;
}

static void srv_start(srv *s, const char *scenario)
{
    memset(s, 0, sizeof *s);
    s->scenario = scenario;
    pthread_mutex_init(&s->mu, NULL);
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s->lfd, 16), 0);
    socklen_t al = sizeof a;
    getsockname(s->lfd, (struct sockaddr *)&a, &al);
    s->port = ntohs(a.sin_port);
    struct timeval tv = {0, 100000};
    setsockopt(s->lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    pthread_create(&s->t, NULL, srv_run, s);
}

static void srv_stop(srv *s)
{
    atomic_store(&s->stop, 1);
    pthread_join(s->t, NULL);
    close(s->lfd);
}

static kube_config *cfg_for(srv *s, const char *token_file)
{
    char y[1024];
    if (token_file)
        snprintf(y, sizeof y, "current-context: a\ncontexts: [{name: a, context: {cluster: c, user: u}}]\n"
                              "clusters: [{name: c, cluster: {server: 'http://127.0.0.1:%d'}}]\n"
                              "users: [{name: u, user: {tokenFile: '%s'}}]\n", s->port, token_file);
    else
        snprintf(y, sizeof y, "current-context: a\ncontexts: [{name: a, context: {cluster: c}}]\n"
                              "clusters: [{name: c, cluster: {server: 'http://127.0.0.1:%d'}}]\n", s->port);
    kube_config *cfg;
    kube_config_opts o = {.token_reload_ms = 60000};
    assert_int_equal(kube_config_load_mem(y, strlen(y), NULL, &o, &cfg, NULL, 0), 0);
    return cfg;
}

/* ---------------- informer ---------------- */

typedef struct counts {
    atomic_int add, upd, del;
    atomic_int unflushed;   /* calls since the last batch end */
    atomic_int batches;
} counts;

static void h_add(void *ud, const kube_obj *o)
{
    atomic_fetch_add(&((counts *)ud)->add, 1);
    atomic_fetch_add(&((counts *)ud)->unflushed, 1);
}
static void h_upd(void *ud, const kube_obj *a, const kube_obj *b)
{
    atomic_fetch_add(&((counts *)ud)->upd, 1);
    atomic_fetch_add(&((counts *)ud)->unflushed, 1);
}
static void h_del(void *ud, const kube_obj *o)
{
    atomic_fetch_add(&((counts *)ud)->del, 1);
    atomic_fetch_add(&((counts *)ud)->unflushed, 1);
}
static void h_batch(void *ud)
{
    atomic_store(&((counts *)ud)->unflushed, 0);
    atomic_fetch_add(&((counts *)ud)->batches, 1);
}

static void test_informer_relist(void **state)
{
    srv s;
    srv_start(&s, "informer");
    kube_config *cfg = cfg_for(&s, NULL);
    kube_client *c;
    kube_client_opts co = {.qps = 1000, .burst = 1000};
    assert_int_equal(kube_client_new(cfg, &co, &c), 0);
    counts cnt = {0};
    kube_informer_opts io = {.name = "pods", .gvr = &kube_gvr_pods, .kind = KUBE_OBJ_POD,
                             .handlers = {h_add, h_upd, h_del, h_batch, &cnt}, .backoff_initial_s = 0.05};
    kube_informer *inf;
    assert_int_equal(kube_informer_new(c, &io, &inf), 0);
    assert_false(kube_informer_synced(inf));
    assert_int_equal(kube_informer_start(inf), 0);
    kube_informer_stats st;
    for (int i = 0; i < 200; i++) {
        kube_informer_stats_get(inf, &st);
        if (strcmp(st.last_rv, "25") == 0)
            break;
        struct timespec ts = {0, 25 * 1000000};
        nanosleep(&ts, NULL);
    }
    assert_string_equal(st.last_rv, "25");
    assert_true(st.synced);
    assert_false(st.streaming);
    assert_int_equal(st.relists, 2);
    assert_int_equal(st.restarts[KUBE_RESTART_EXPIRED], 1);
    kube_store *store = kube_informer_store(inf);
    kube_store_rdlock(store);
    assert_int_equal(kube_store_len(store), 2);
    const kube_obj *p1 = kube_store_get(store, "d", "p1");
    assert_non_null(p1);
    assert_string_equal(p1->meta.rv, "12");
    assert_non_null(kube_store_get(store, "d", "p4"));
    assert_null(kube_store_get(store, "d", "p3"));
    kube_store_unlock(store);
    /* list p1,p2 (2 adds); watch +p3 (add), p1 (update), -p2 (delete);
     * relist: p3 gone (delete), p4 new (add), p1 unchanged */
    assert_int_equal(atomic_load(&cnt.add), 4);
    assert_int_equal(atomic_load(&cnt.upd), 1);
    assert_int_equal(atomic_load(&cnt.del), 2);
    kube_informer_free(inf);
    /* every handler call was followed by a batch end: list, watch, relist */
    assert_int_equal(atomic_load(&cnt.unflushed), 0);
    assert_true(atomic_load(&cnt.batches) >= 3);
    srv_stop(&s);
    /* the request sequence */
    int i422 = -1, ilist = -1;
    for (int i = 0; i < s.nlog; i++) {
        if (strstr(s.log[i], "sendInitialEvents") && i422 < 0)
            i422 = i;
        if (strstr(s.log[i], "limit=500&resourceVersion=0") && ilist < 0)
            ilist = i;
    }
    assert_true(i422 == 0 && ilist == 1);
    kube_client_free(c);
    kube_config_free(cfg);
}

/* ---------------- client ---------------- */

static int count_items(void *ud, const char *json, size_t len)
{
    (*(int *)ud)++;
    return 0;
}

static void reset_items(void *ud) { *(int *)ud = 0; }

static void test_client_behaviour(void **state)
{
    srv s;
    srv_start(&s, "client");
    snprintf(s.tokfile, sizeof s.tokfile, "/tmp/kinf-tok.%d", (int)getpid());
    FILE *f = fopen(s.tokfile, "w");
    fputs("tok-1\n", f);
    fclose(f);
    kube_config *cfg = cfg_for(&s, s.tokfile);
    kube_client *c;
    assert_int_equal(kube_client_new(cfg, NULL, &c), 0);
    kube_resp r;
    kube_resp_init(&r);
    /* 429 + Retry-After: waited and retried */
    kube_req q = {.method = "GET", .path = "/throttled"};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(kube_client_do(c, &q, &r), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_int_equal(r.code, 200);
    assert_int_equal(r.retries, 1);
    assert_true(t1.tv_sec - t0.tv_sec >= 1 || t1.tv_nsec >= t0.tv_nsec);
    /* 401: token re-read at once and retried */
    q.path = "/auth";
    assert_int_equal(kube_client_do(c, &q, &r), 0);
    /* 409 surfaced with the Status */
    assert_int_equal(kube_update(c, &kube_gvr_pods, "d", "x", NULL, "{}", 2, &r), -ESTALE);
    assert_int_equal(r.code, 409);
    assert_string_equal(r.status.reason, "Conflict");
    /* expired continue token: the list restarts from scratch */
    int items = 0;
    char rv[64];
    kube_list_opts lo = {.resource_version = "0"};
    assert_int_equal(kube_list(c, &kube_gvr_pods, "d", &lo, count_items, reset_items, &items, rv, sizeof rv, &r), 0);
    assert_int_equal(items, 2);
    assert_string_equal(rv, "9");
    /* 404 */
    assert_int_equal(kube_get(c, &kube_gvr_nodes, NULL, "none", NULL, &r), -ENOENT);
    /* apply needs a field manager */
    assert_int_equal(kube_patch(c, &kube_gvr_pods, "d", "x", NULL, KUBE_PATCH_APPLY, "{}", 2, NULL, false, &r), -EINVAL);
    kube_resp_release(&r);
    kube_client_free(c);
    kube_config_free(cfg);
    srv_stop(&s);
    bool saw_old = false, saw_fresh_start = false;
    for (int i = 0; i < s.nlog; i++) {
        if (strstr(s.log[i], "continue=old"))
            saw_old = true;
        else if (saw_old && strstr(s.log[i], "/pods?limit=500 "))
            saw_fresh_start = true;
    }
    assert_true(saw_old && saw_fresh_start);
    unlink(s.tokfile);
}

typedef struct canceller {
    volatile int *flag;
    unsigned ms;
} canceller;

static void *cancel_later(void *arg)
{
    canceller *k = arg;
    struct timespec ts = {0, (long)k->ms * 1000000L};
    nanosleep(&ts, NULL);
    *k->flag = 1;
    return NULL;
}

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A request's cancel flag ends it in about a second whether it waits on a
 * server that never answers or on a Retry-After (an elector's stop). */
static void test_client_cancel(void **state)
{
    srv s;
    srv_start(&s, "client");
    /* a second listener nobody accepts on: the request is sent, no answer comes */
    int mute = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(mute, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(mute, 16), 0);
    socklen_t al = sizeof a;
    getsockname(mute, (struct sockaddr *)&a, &al);
    int port = s.port;
    kube_resp r;
    kube_resp_init(&r);
    for (int i = 0; i < 2; i++) {
        s.port = i == 0 ? ntohs(a.sin_port) : port;
        kube_config *cfg = cfg_for(&s, NULL);
        kube_client *c;
        assert_int_equal(kube_client_new(cfg, NULL, &c), 0);
        volatile int flag = 0;
        kube_req q = {.method = "GET", .path = i == 0 ? "/silent" : "/retry-later", .cancel = &flag};
        canceller k = {&flag, 300};
        pthread_t t;
        pthread_create(&t, NULL, cancel_later, &k);
        double t0 = mono();
        assert_int_equal(kube_client_do(c, &q, &r), -ECANCELED);
        double took = mono() - t0;
        pthread_join(t, NULL);
        assert_true(took >= 0.25 && took < 2.5);
        /* already cancelled: nothing is sent */
        assert_int_equal(kube_client_do(c, &q, &r), -ECANCELED);
        kube_client_free(c);
        kube_config_free(cfg);
    }
    s.port = port;
    kube_resp_release(&r);
    close(mute);
    srv_stop(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_informer_relist),
        cmocka_unit_test(test_client_behaviour),
        cmocka_unit_test(test_client_cancel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
