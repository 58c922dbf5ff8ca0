/*
 * test_kube_watch.c - the watch stream splitter across every chunking of a
 * realistic stream (events split across chunks, several per chunk, strings
 * with braces and escaped quotes), event parsing, garbage and oversized
 * documents, and the watch query.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "kube/kube_watch.h"

static const char *k_stream =
    "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"10\","
    "\"annotations\":{\"x\":\"}{\\\"]\"}}}}\n"
    "{\"type\":\"MODIFIED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"11\"}}}\n"
    "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"12\","
    "\"annotations\":{\"k8s.io/initial-events-end\":\"true\"}}}}\n"
    "{\"type\":\"DELETED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"13\"}}}"
    "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
    "\"message\":\"too old resource version: 1 (13)\",\"reason\":\"Expired\",\"code\":410}}\r\n";

typedef struct got {
    int n;
    kube_ev_type types[8];
    char objs[8][256];
} got;

static int on_doc(void *ud, const char *doc, size_t len)
{
    got *g = ud;
    kube_event ev;
    assert_int_equal(kube_event_parse(doc, len, &ev), 0);
    assert_true(g->n < 8);
    g->types[g->n] = ev.type;
    assert_true(ev.obj_len < 256);
    memcpy(g->objs[g->n], ev.obj, ev.obj_len);
    g->objs[g->n][ev.obj_len] = '\0';
    g->n++;
    return 0;
}

static void test_every_chunking(void **state)
{
    size_t n = strlen(k_stream);
    got ref = {0};
    kube_wdec d;
    kube_wdec_init(&d, 0);
    assert_int_equal(kube_wdec_feed(&d, k_stream, n, on_doc, &ref), 0);
    assert_int_equal(ref.n, 5);
    assert_int_equal(ref.types[0], KUBE_EV_ADDED);
    assert_int_equal(ref.types[2], KUBE_EV_BOOKMARK);
    assert_int_equal(ref.types[4], KUBE_EV_ERROR);
    assert_true(strstr(ref.objs[0], "}{\\\"]") != NULL);
    assert_false(kube_wdec_pending(&d));
    /* two cut points anywhere: same result */
    for (size_t a = 0; a <= n; a += 3) {
        for (size_t b = a; b <= n; b += 7) {
            got g = {0};
            kube_wdec_reset(&d);
            assert_int_equal(kube_wdec_feed(&d, k_stream, a, on_doc, &g), 0);
            assert_int_equal(kube_wdec_feed(&d, k_stream + a, b - a, on_doc, &g), 0);
            assert_int_equal(kube_wdec_feed(&d, k_stream + b, n - b, on_doc, &g), 0);
            assert_int_equal(g.n, 5);
            for (int i = 0; i < 5; i++) {
                assert_int_equal(g.types[i], ref.types[i]);
                assert_string_equal(g.objs[i], ref.objs[i]);
            }
        }
    }
    /* byte by byte */
    got g = {0};
    kube_wdec_reset(&d);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(kube_wdec_feed(&d, k_stream + i, 1, on_doc, &g), 0);
    assert_int_equal(g.n, 5);
    /* cut mid-event: pending */
    kube_wdec_reset(&d);
    g.n = 0;
    assert_int_equal(kube_wdec_feed(&d, k_stream, 40, on_doc, &g), 0);
    assert_true(kube_wdec_pending(&d));
    assert_int_equal(g.n, 0);
    kube_wdec_release(&d);
}

static void test_garbage(void **state)
{
    kube_wdec d;
    kube_wdec_init(&d, 64);
    got g = {0};
    assert_int_equal(kube_wdec_feed(&d, "<html>", 6, on_doc, &g), -EBADMSG);
    kube_wdec_reset(&d);
    assert_int_equal(kube_wdec_feed(&d, "[1]", 3, on_doc, &g), -EBADMSG);
    kube_wdec_reset(&d);
    char big[200];
    memset(big, ' ', sizeof big);
    big[0] = '{';
    big[1] = '"';
    assert_int_equal(kube_wdec_feed(&d, big, 100, on_doc, &g), -EFBIG);
    kube_wdec_release(&d);

    kube_event ev;
    const char *bad[] = {"{\"type\":\"ADDED\"}", "{\"type\":\"NOPE\",\"object\":{}}", "{\"object\":{}}",
                         "{\"type\":\"ADDED\",\"object\":[]}", "{\"type\":\"ADDED\",\"object\":{}", "{}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(kube_event_parse(bad[i], strlen(bad[i]), &ev), -EBADMSG);
}

static int stop_second(void *ud, const char *doc, size_t len)
{
    int *n = ud;
    return ++*n == 2 ? -ETIME : 0;
}

static void test_callback_stops(void **state)
{
    kube_wdec d;
    kube_wdec_init(&d, 0);
    int n = 0;
    assert_int_equal(kube_wdec_feed(&d, k_stream, strlen(k_stream), stop_second, &n), -ETIME);
    assert_int_equal(n, 2);
    kube_wdec_release(&d);
}

static void test_query(void **state)
{
    vg_buf q = VG_BUF_INIT;
    kube_watch_opts o = {.gvr = &kube_gvr_pods, .resource_version = "123", .bookmarks = true, .timeout_s = 377,
                         .label_selector = "app in (a,b)"};
    assert_int_equal(kube_watch_query(&o, &q), 0);
    assert_string_equal(q.data, "watch=true&allowWatchBookmarks=true&resourceVersion=123&labelSelector=app%20in%20%28a%2Cb%29&timeoutSeconds=377");
    kube_watch_opts s = {.gvr = &kube_gvr_pods, .bookmarks = true, .send_initial_events = true};
    assert_int_equal(kube_watch_query(&s, &q), 0);
    assert_string_equal(q.data, "watch=true&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan");
    vg_buf p = VG_BUF_INIT;
    assert_int_equal(kube_path(&p, &kube_gvr_deployments, "ns1", "web", "scale"), 0);
    assert_string_equal(p.data, "/apis/apps/v1/namespaces/ns1/deployments/web/scale");
    assert_int_equal(kube_path(&p, &kube_gvr_nodes, "ignored", "n1", NULL), 0);
    assert_string_equal(p.data, "/api/v1/nodes/n1");
    assert_int_equal(kube_path(&p, &kube_gvr_pods, NULL, NULL, NULL), 0);
    assert_string_equal(p.data, "/api/v1/pods");
    assert_int_equal(kube_path(&p, &kube_gvr_pods, "a/b", "x y", NULL), 0);
    assert_string_equal(p.data, "/api/v1/namespaces/a%2Fb/pods/x%20y");
    vg_buf_release(&p);
    vg_buf_release(&q);
    kube_watch_transport t;
    assert_int_equal(kube_watch_transport_parse("websocket", &t), 0);
    assert_int_equal(t, KUBE_WATCH_WEBSOCKET);
    assert_int_equal(kube_watch_transport_parse("grpc", &t), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_chunking), cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_callback_stops), cmocka_unit_test(test_query),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
