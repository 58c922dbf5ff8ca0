/*
 * test_vg_app.c - vg_app's /metrics answers when pausing for slow readers
 * is on: the queue stays bounded while every byte arrives as the plain
 * encoder writes it (also gzip), several answers read one scrape at once,
 * and the busy/idle contract holds however an answer ends (done, client
 * gone, the app freed under it).
 *
 * A real app on 127.0.0.1:0 with its loop in a second thread; blocking
 * client sockets with a small receive buffer read from the test thread.
 * What the handler and the idle callback see is logged as letters:
 * B the handler returned with the app busy, D not busy, I the idle
 * callback (app not busy), X the idle callback with the app still busy.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "vg_app.h"
#include "vg_buf.h"
#include "vg_prom.h"
#include "http_test_client.h"

/* vg_app.c's pause mark, a piece, and room for a line and gzip bursts. */
#define QUEUE_MAX (256u * 1024u)
#define PIECE (64u * 1024u)

typedef struct afx {
    vg_app *app;
    vg_scrape *s;
    vg_buf ref;            /* vg_prom_encode of s */
    pthread_t th;
    bool running;
    int port;
    pthread_mutex_t mu;
    char ev[64];           /* the letters, under mu */
    size_t nev;
    int last_rc;           /* of the last vg_app_respond_metrics, under mu */
    vg_scrape *s2;         /* a second scrape /mreg answers from when other */
    volatile bool other;
} afx;

static void ev_add(afx *f, char e, int rc)
{
    pthread_mutex_lock(&f->mu);
    if (f->nev + 1 < sizeof f->ev)
        f->ev[f->nev++] = e;
    f->ev[f->nev] = '\0';
    f->last_rc = rc;
    pthread_mutex_unlock(&f->mu);
}

static void ev_get(afx *f, char *out, size_t n)
{
    pthread_mutex_lock(&f->mu);
    snprintf(out, n, "%s", f->ev);
    pthread_mutex_unlock(&f->mu);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Wait until the log is want; false after 5 s. */
static bool ev_wait(afx *f, const char *want)
{
    char got[64];
    for (int i = 0; i < 500; i++) {
        ev_get(f, got, sizeof got);
        if (strcmp(got, want) == 0)
            return true;
        sleep_ms(10);
    }
    fprintf(stderr, "events: got \"%s\", want \"%s\"\n", got, want);
    return false;
}

static int answer(vg_http_req *req, afx *f, bool add_registry)
{
    int rc = vg_app_respond_metrics(f->app, req, f->s, add_registry);
    ev_add(f, vg_app_metrics_busy(f->app) ? 'B' : 'D', rc);
    return VG_HTTP_DONE;
}

static int h_metrics(vg_http_req *req, void *ud) { return answer(req, ud, false); }
static int h_metrics_reg(vg_http_req *req, void *ud)
{
    afx *f = ud;
    if (!f->other)
        return answer(req, f, true);
    assert_false(vg_app_metrics_reading(f->app, f->s2));
    assert_true(vg_app_metrics_reading(f->app, f->s));
    vg_scrape_reset(f->s2);
    int rc = vg_app_respond_metrics(f->app, req, f->s2, true);
    ev_add(f, vg_app_metrics_busy(f->app) ? 'B' : 'D', rc);
    return VG_HTTP_DONE;
}

static void on_idle(vg_app *app, void *ud)
{
    afx *f = ud;
    ev_add(f, vg_app_metrics_busy(app) ? 'X' : 'I', 0);
}

static void *loop_thread(void *ud)
{
    afx *f = ud;
    vg_loop_run(vg_app_loop(f->app));
    return NULL;
}

/* series: how many sample lines (about 110 bytes each). */
static void fx_start(afx *f, size_t series, bool pausable)
{
    memset(f, 0, sizeof *f);
    pthread_mutex_init(&f->mu, NULL);
    static char *const argv[] = {"test_vg_app", "--web.listen-address=127.0.0.1:0",
                                 "--log.level=error", NULL};
    vg_app_spec spec = {.prog = "test_vg_app", .component = "test",
                        .default_listen = "127.0.0.1:0"};
    assert_int_equal(vg_app_new(&spec, 3, argv, &f->app), 0);
    assert_int_equal(vg_app_listen(f->app), 0);
    f->port = vg_http_server_port(vg_app_http(f->app));
    assert_int_equal(vg_http_server_route(vg_app_http(f->app), "/m", "metrics", h_metrics, f), 0);
    assert_int_equal(vg_http_server_route(vg_app_http(f->app), "/mreg", "metrics_reg",
                                          h_metrics_reg, f), 0);
    vg_app_set_metrics_pausable(f->app, pausable);
    vg_app_on_metrics_idle(f->app, on_idle, f);

    assert_int_equal(vg_scrape_new(&f->s), 0);
    assert_int_equal(vg_scrape_new(&f->s2), 0);
    vg_family *c = vg_scrape_family(f->s, "container_cpu_usage_seconds_total", VG_MT_COUNTER,
                                    "Cumulative cpu time consumed in seconds.", 3,
                                    (const char *[]){"id", "name", "namespace"});
    vg_family *g = vg_scrape_family(f->s, "container_memory_working_set_bytes", VG_MT_GAUGE,
                                    "Current working set in bytes.", 3,
                                    (const char *[]){"id", "name", "namespace"});
    /* random ids and values: gzip shrinks it ~3x, not ~10x, so the
     * compressed answer too is more than the kernel's socket buffers */
    char id[128], name[48];
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < series / 2; i++) {
        uint64_t r[3];
        for (int k = 0; k < 3; k++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            r[k] = x;
        }
        snprintf(id, sizeof id, "/kubepods/burstable/pod%016llx%08llx/%016llx",
                 (unsigned long long)r[0], (unsigned long long)(r[1] >> 32),
                 (unsigned long long)r[2]);
        snprintf(name, sizeof name, "app-%zu", i % 977);
        vg_family_add(c, (double)(r[1] >> 11) / 9007199254740992.0 * 1e4, id, name, "default");
        vg_family_add(g, (double)(r[2] >> 24), id, name, "default");
    }
    vg_scrape_add1(f->s, "zz_last", VG_MT_GAUGE, "the end", 1);
    assert_int_equal(vg_prom_encode(f->s, VG_PROM_TEXT, &f->ref), 0);
    assert_int_equal(pthread_create(&f->th, NULL, loop_thread, f), 0);
    f->running = true;
}

static void fx_stop_loop(afx *f)
{
    if (!f->running)
        return;
    vg_loop_stop(vg_app_loop(f->app));
    pthread_join(f->th, NULL);
    f->running = false;
}

static void fx_end(afx *f)
{
    fx_stop_loop(f);
    vg_app_free(f->app);
    vg_scrape_free(f->s);
    vg_scrape_free(f->s2);
    vg_buf_release(&f->ref);
    pthread_mutex_destroy(&f->mu);
}

/* Read on the loop thread's data without it: only after the loop stopped
 * or between answers, where nothing writes it. */
static size_t queued_peak(afx *f) { return vg_http_server_queued_peak(vg_app_http(f->app)); }

/* ============================== client ============================== */

/* The head into head (status returned), consumed from c->in; -1 when cut. */
static int cl_head(cl *c, char *head, size_t n)
{
    char *end;
    while (!c->in.data || !(end = strstr(c->in.data, "\r\n\r\n")))
        if (cl_fill(c) <= 0)
            return -1;
    size_t hl = (size_t)(end - c->in.data) + 4;
    assert_true(hl < n);
    memcpy(head, c->in.data, hl);
    head[hl] = '\0';
    vg_buf_consume(&c->in, hl);
    return atoi(head + 9);
}

static void gunzip(const vg_buf *in, vg_buf *out)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(inflateInit2(&zs, 16 + MAX_WBITS), Z_OK);
    zs.next_in = (Bytef *)in->data;
    zs.avail_in = (uInt)in->len;
    int zr;
    do {
        assert_int_equal(vg_buf_reserve(out, 1u << 20), 0);
        zs.next_out = (Bytef *)out->data + out->len;
        zs.avail_out = 1u << 20;
        zr = inflate(&zs, Z_NO_FLUSH);
        out->len = zs.total_out;
        assert_true(zr == Z_OK || zr == Z_STREAM_END);
    } while (zr != Z_STREAM_END);
    inflateEnd(&zs);
}

static const char *req_line(const char *path, bool gzip)
{
    static char raw[256];
    snprintf(raw, sizeof raw, "GET %s HTTP/1.1\r\nHost: t\r\n%s\r\n", path,
             gzip ? "Accept-Encoding: gzip\r\n" : "");
    return raw;
}

/* The rest of an answer on c (its request sent): the body, inflated. */
static void read_answer(cl *c, bool gzip, vg_buf *body)
{
    char head[4096];
    assert_int_equal(cl_head(c, head, sizeof head), 200);
    assert_non_null(strcasestr(head, "Transfer-Encoding: chunked"));
    assert_int_equal(strcasestr(head, "Content-Encoding: gzip") != NULL, gzip);
    vg_buf raw = VG_BUF_INIT;
    assert_int_equal(cl_chunks(c, &raw), 0);
    if (gzip) {
        gunzip(&raw, body);
        vg_buf_release(&raw);
    } else {
        *body = raw;
    }
}

static void assert_is_ref(afx *f, const vg_buf *body)
{
    assert_int_equal(body->len, f->ref.len);
    assert_memory_equal(body->data, f->ref.data, f->ref.len);
}

/* ============================== cases ============================== */

/*
 * A slow reader (4 KiB receive buffer, 4 KiB reads with naps): the queue
 * never passes the mark plus a piece while the body arrives byte for byte
 * as vg_prom_encode writes it, plain and gzip; busy while it waits, one
 * idle after. Without pausing the same reader makes the app queue MBs.
 */
static void test_metrics_slow_reader(void **state)
{
    afx f;
    fx_start(&f, 80000, true); /* ~9 MB: more than the kernel's socket buffers */
    assert_true(f.ref.len > 8u * 1024 * 1024);
    for (int gz = 0; gz < 2; gz++) {
        cl c;
        cl_open_opt(&c, f.port, 4096, 0);
        c.max_read = 4096;
        c.nap_us = gz ? 300 : 50;
        cl_send(&c, req_line("/m", gz));
        /* not reading at first: the kernel's send buffer grows only as
         * we read, and would soon take a gzip answer whole */
        sleep_ms(200);
        vg_buf body = VG_BUF_INIT;
        read_answer(&c, gz, &body);
        assert_is_ref(&f, &body);
        vg_buf_release(&body);
        assert_true(ev_wait(&f, gz ? "BIBI" : "BI"));
        cl_close(&c);
        size_t peak = queued_peak(&f);
        assert_true(peak > QUEUE_MAX);
        assert_true(peak <= QUEUE_MAX + PIECE + (gz ? PIECE : 0) + 8192);
    }
    assert_false(vg_app_metrics_busy(f.app));
    fx_end(&f);

    /* the same reader without pausing: the app queues what the socket refuses */
    fx_start(&f, 80000, false);
    cl c;
    cl_open_opt(&c, f.port, 4096, 0);
    c.max_read = 4096;
    c.nap_us = 50;
    cl_send(&c, req_line("/m", false));
    vg_buf body = VG_BUF_INIT;
    read_answer(&c, false, &body);
    assert_is_ref(&f, &body);
    vg_buf_release(&body);
    assert_true(ev_wait(&f, "D"));
    cl_close(&c);
    assert_true(queued_peak(&f) > 2u * 1024 * 1024);
    fx_end(&f);
}

/*
 * Three answers paused on one scrape at once, read round-robin: each is
 * whole and identical; the app stays busy until the last ends, then one
 * idle. Meanwhile an answer that would add the registry to the scrape is
 * refused with 503.
 */
static void test_metrics_concurrent(void **state)
{
    afx f;
    fx_start(&f, 40000, true);
    cl c[3];
    for (int i = 0; i < 3; i++) {
        cl_open_opt(&c[i], f.port, 4096, 0);
        cl_send(&c[i], req_line("/m", i == 1));
        char want[8] = "BBB";
        want[i + 1] = '\0';
        assert_true(ev_wait(&f, want));
    }
    cl r;
    cl_open_opt(&r, f.port, 0, 0);
    cl_send(&r, req_line("/mreg", false));
    char head[4096];
    assert_int_equal(cl_head(&r, head, sizeof head), 503);
    assert_non_null(strcasestr(head, "Retry-After: 1"));
    assert_true(ev_wait(&f, "BBBB"));
    pthread_mutex_lock(&f.mu);
    assert_int_equal(f.last_rc, -EBUSY);
    pthread_mutex_unlock(&f.mu);
    /* a scrape nobody reads may be collected and answered from meanwhile */
    f.other = true;
    cl_close(&r);
    cl_open_opt(&r, f.port, 0, 0);
    cl_send(&r, req_line("/mreg", false));
    assert_int_equal(cl_head(&r, head, sizeof head), 200);
    vg_buf other = VG_BUF_INIT;
    assert_int_equal(cl_chunks(&r, &other), 0);
    assert_non_null(strstr(other.data, "vigil_http_requests_total"));
    vg_buf_release(&other);
    assert_true(ev_wait(&f, "BBBBB"));
    cl_close(&r);

    /* round-robin: each gets a little at a time */
    vg_buf raw[3] = {VG_BUF_INIT, VG_BUF_INIT, VG_BUF_INIT};
    char heads[3][4096];
    for (int i = 0; i < 3; i++) {
        c[i].max_read = 8192;
        assert_int_equal(cl_head(&c[i], heads[i], sizeof heads[i]), 200);
    }
    bool done[3] = {false, false, false};
    while (!done[0] || !done[1] || !done[2]) {
        for (int i = 0; i < 3; i++) {
            if (done[i])
                continue;
            assert_true(cl_fill(&c[i]) > 0);
            size_t n = c[i].in.len;
            if (n >= 7 && memcmp(c[i].in.data + n - 7, "\r\n0\r\n\r\n", 7) == 0) {
                assert_int_equal(cl_chunks(&c[i], &raw[i]), 0);
                done[i] = true;
            }
        }
    }
    for (int i = 0; i < 3; i++) {
        vg_buf body = VG_BUF_INIT;
        if (i == 1) {
            gunzip(&raw[i], &body);
            vg_buf_release(&raw[i]);
        } else {
            body = raw[i];
        }
        assert_is_ref(&f, &body);
        vg_buf_release(&body);
        cl_close(&c[i]);
    }
    assert_true(ev_wait(&f, "BBBBBI"));
    fx_end(&f);
}

/* The client resets mid-answer: the answer ends, the app turns idle. */
static void test_metrics_client_gone(void **state)
{
    afx f;
    fx_start(&f, 80000, true);
    cl c;
    cl_open_opt(&c, f.port, 4096, 0);
    cl_send(&c, req_line("/m", true));
    assert_true(ev_wait(&f, "B"));
    char b[1000];
    assert_true(recv(c.fd, b, sizeof b, 0) > 0); /* some of it came */
    cl_close(&c); /* unread bytes: a reset */
    assert_true(ev_wait(&f, "BI"));
    assert_false(vg_app_metrics_busy(f.app));
    assert_int_equal(vg_http_server_inflight(vg_app_http(f.app)), 0);
    fx_end(&f);
}

/*
 * The app is freed (after SIGTERM's grace, say) under two paused answers:
 * they end inside vg_app_free, which calls the idle callback once with
 * the app no longer busy; nothing leaks (LSan in the sanitizer build) and
 * the scrape can be freed after.
 */
static void test_metrics_app_freed(void **state)
{
    afx f;
    fx_start(&f, 80000, true);
    cl c[2];
    for (int i = 0; i < 2; i++) {
        cl_open_opt(&c[i], f.port, 4096, 0);
        cl_send(&c[i], req_line("/m", i == 0));
        assert_true(ev_wait(&f, i ? "BB" : "B"));
    }
    fx_stop_loop(&f);
    assert_true(vg_app_metrics_busy(f.app));
    vg_app_free(f.app);
    f.app = NULL;
    assert_true(ev_wait(&f, "BBI"));
    for (int i = 0; i < 2; i++)
        cl_close(&c[i]);
    fx_end(&f);
}

/*
 * What completes within vg_app_respond_metrics never makes the app busy
 * and brings no idle callback: a reader that keeps up, HTTP/1.0 (collected
 * whole), HEAD.
 */
static void test_metrics_not_paused(void **state)
{
    afx f;
    fx_start(&f, 200, true);
    cl c;
    cl_open_opt(&c, f.port, 0, 0);
    cl_send(&c, req_line("/m", false));
    vg_buf body = VG_BUF_INIT;
    read_answer(&c, false, &body);
    assert_is_ref(&f, &body);
    vg_buf_release(&body);
    cl_send(&c, "HEAD /m HTTP/1.1\r\nHost: t\r\n\r\n");
    char head[4096];
    assert_int_equal(cl_head(&c, head, sizeof head), 200);
    /* the registry goes into the scrape when nothing reads it */
    cl_send(&c, req_line("/mreg", false));
    assert_int_equal(cl_head(&c, head, sizeof head), 200);
    vg_buf reg = VG_BUF_INIT;
    assert_int_equal(cl_chunks(&c, &reg), 0);
    assert_non_null(strstr(reg.data, "vigil_http_requests_total"));
    vg_buf_release(&reg);
    cl_close(&c);
    assert_true(ev_wait(&f, "DDD"));
    fx_end(&f);

    fx_start(&f, 80000, true);
    cl_open_opt(&c, f.port, 4096, 0);
    c.max_read = 4096;
    c.nap_us = 50;
    cl_send(&c, "GET /m HTTP/1.0\r\n\r\n");
    assert_int_equal(cl_head(&c, head, sizeof head), 200);
    assert_null(strcasestr(head, "Transfer-Encoding"));
    while (cl_fill(&c) > 0)
        ;
    assert_is_ref(&f, &c.in);
    cl_close(&c);
    assert_true(ev_wait(&f, "D"));
    fx_end(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics_slow_reader),
        cmocka_unit_test(test_metrics_concurrent),
        cmocka_unit_test(test_metrics_client_gone),
        cmocka_unit_test(test_metrics_app_freed),
        cmocka_unit_test(test_metrics_not_paused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
