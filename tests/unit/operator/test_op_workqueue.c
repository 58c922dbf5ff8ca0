/*
 * test_op_workqueue.c - dedup, no concurrent processing of one key,
 * requeue of keys added while processing, per-key exponential backoff,
 * delayed adds, shutdown.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "op_workqueue.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_dedup_and_processing(void **state)
{
    op_wq *q;
    op_wq_opts o = {.name = "t"};
    assert_int_equal(op_wq_new(&o, &q), 0);
    assert_int_equal(op_wq_add(q, "a"), 0);
    assert_int_equal(op_wq_add(q, "b"), 0);
    assert_int_equal(op_wq_add(q, "a"), 0);
    assert_int_equal(op_wq_len(q), 2);
    char k[32];
    assert_int_equal(op_wq_get(q, k, sizeof k), 0);
    assert_string_equal(k, "a");
    /* added while processing: not handed out again until done */
    assert_int_equal(op_wq_add(q, "a"), 0);
    assert_int_equal(op_wq_len(q), 1);
    assert_int_equal(op_wq_get(q, k, sizeof k), 0);
    assert_string_equal(k, "b");
    assert_int_equal(op_wq_len(q), 0);
    op_wq_done(q, "a");
    assert_int_equal(op_wq_len(q), 1);
    assert_int_equal(op_wq_get(q, k, sizeof k), 0);
    assert_string_equal(k, "a");
    op_wq_done(q, "a");
    op_wq_done(q, "b");
    assert_int_equal(op_wq_len(q), 0);
    char tiny[2];
    assert_int_equal(op_wq_add(q, "long-key"), 0);
    assert_int_equal(op_wq_get(q, tiny, sizeof tiny), -ENAMETOOLONG);
    op_wq_free(q);
}

static void test_backoff(void **state)
{
    op_wq *q;
    op_wq_opts o = {.name = "t", .base_delay_s = 0.01, .max_delay_s = 0.04};
    assert_int_equal(op_wq_new(&o, &q), 0);
    char k[32];
    double expect[] = {0.01, 0.02, 0.04, 0.04};
    for (int i = 0; i < 4; i++) {
        double t0 = now();
        assert_int_equal(op_wq_add_rate_limited(q, "x"), 0);
        assert_int_equal(op_wq_get(q, k, sizeof k), 0);
        double took = now() - t0;
        assert_true(took >= expect[i] * 0.9);
        assert_true(took < expect[i] + 0.05);
        op_wq_done(q, "x");
    }
    assert_int_equal(op_wq_num_requeues(q, "x"), 4);
    op_wq_forget(q, "x");
    assert_int_equal(op_wq_num_requeues(q, "x"), 0);
    /* an earlier add_after wins over a later one */
    assert_int_equal(op_wq_add_after(q, "y", 5), 0);
    assert_int_equal(op_wq_add_after(q, "y", 0.01), 0);
    double t0 = now();
    assert_int_equal(op_wq_get(q, k, sizeof k), 0);
    assert_true(now() - t0 < 1);
    op_wq_done(q, "y");
    op_wq_free(q);
}

static void test_bucket(void **state)
{
    op_wq *q;
    op_wq_opts o = {.name = "t", .qps = 50, .burst = 5, .base_delay_s = 1e-6};
    assert_int_equal(op_wq_new(&o, &q), 0);
    char keys[20][8], k[8];
    double t0 = now();
    for (int i = 0; i < 20; i++) {
        snprintf(keys[i], sizeof keys[i], "k%d", i);
        assert_int_equal(op_wq_add_rate_limited(q, keys[i]), 0);
    }
    for (int i = 0; i < 20; i++) {
        assert_int_equal(op_wq_get(q, k, sizeof k), 0);
        op_wq_done(q, k);
    }
    /* 15 beyond the burst at 50/s: about 0.3 s */
    double took = now() - t0;
    assert_true(took > 0.25 && took < 1.0);
    op_wq_free(q);
}

static void *getter(void *arg)
{
    char k[8];
    return (void *)(intptr_t)op_wq_get(arg, k, sizeof k);
}

static void test_shutdown(void **state)
{
    op_wq *q;
    op_wq_opts o = {.name = "t"};
    assert_int_equal(op_wq_new(&o, &q), 0);
    pthread_t t;
    pthread_create(&t, NULL, getter, q);
    struct timespec ts = {0, 50 * 1000000};
    nanosleep(&ts, NULL);
    op_wq_shutdown(q);
    void *ret;
    pthread_join(t, &ret);
    assert_int_equal((int)(intptr_t)ret, -ESHUTDOWN);
    assert_int_equal(op_wq_add(q, "a"), -ESHUTDOWN);
    op_wq_free(q);
}

/* A burst: dedup within it and against the queue, FIFO order kept, a
 * sleeping worker woken by it, and 20k keys (the table grows) all found. */
static void *getter_key(void *arg)
{
    static char k[32];
    return op_wq_get(arg, k, sizeof k) == 0 ? k : NULL;
}

static void test_add_many(void **state)
{
    op_wq *q;
    op_wq_opts o = {.name = "t"};
    assert_int_equal(op_wq_new(&o, &q), 0);
    pthread_t t;
    pthread_create(&t, NULL, getter_key, q);
    struct timespec ts = {0, 50 * 1000000};
    nanosleep(&ts, NULL);
    const char *burst[] = {"x", "y", "x", "z"};
    assert_int_equal(op_wq_add_many(q, burst, 4), 0);
    void *got;
    pthread_join(t, &got);
    assert_non_null(got);
    assert_string_equal(got, "x");
    assert_int_equal(op_wq_len(q), 2);
    assert_int_equal(op_wq_add(q, "y"), 0);
    assert_int_equal(op_wq_len(q), 2);
    char k[32];
    assert_int_equal(op_wq_get(q, k, sizeof k), 0);
    assert_string_equal(k, "y");
    assert_int_equal(op_wq_get(q, k, sizeof k), 0);
    assert_string_equal(k, "z");
    op_wq_done(q, "x");
    op_wq_done(q, "y");
    op_wq_done(q, "z");

    enum { N = 20000 };
    static char keys[N][16];
    const char *kp[N];
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof keys[i], "ns/p%d", i);
        kp[i] = keys[i];
    }
    assert_int_equal(op_wq_add_many(q, kp, N), 0);
    assert_int_equal(op_wq_add_many(q, kp, N), 0);
    assert_int_equal(op_wq_len(q), N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(op_wq_get(q, k, sizeof k), 0);
        assert_string_equal(k, keys[i]);
        op_wq_done(q, k);
    }
    assert_int_equal(op_wq_len(q), 0);
    op_wq_shutdown(q);
    assert_int_equal(op_wq_add_many(q, kp, 1), -ESHUTDOWN);
    op_wq_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dedup_and_processing), cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_bucket), cmocka_unit_test(test_shutdown),
        cmocka_unit_test(test_add_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
