/*
 * test_op_stopguard.c - the stop deadline: quiet when the stop ends in
 * time, names the step it is stuck in when it does not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "op_stopguard.h"

typedef struct seen {
    atomic_int calls;
    const char *_Atomic step;
} seen;

static void on_expire(void *ud, const char *step)
{
    seen *s = ud;
    atomic_store(&s->step, step);
    atomic_fetch_add(&s->calls, 1);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_in_time(void **state)
{
    seen s = {0};
    op_stopguard *g;
    op_stopguard_opts o = {.deadline_s = 0.3, .on_expire = on_expire, .ud = &s};
    assert_int_equal(op_stopguard_start(&o, &g), 0);
    op_stopguard_step(g, "informers");
    double t0 = now();
    op_stopguard_end(g);
    assert_true(now() - t0 < 0.25); /* ending does not wait out the deadline */
    struct timespec ts = {0, 400 * 1000 * 1000};
    nanosleep(&ts, NULL);
    assert_int_equal(atomic_load(&s.calls), 0);
}

static void test_expired(void **state)
{
    seen s = {0};
    op_stopguard *g;
    op_stopguard_opts o = {.deadline_s = 0.2, .on_expire = on_expire, .ud = &s};
    double t0 = now();
    assert_int_equal(op_stopguard_start(&o, &g), 0);
    op_stopguard_step(g, "leader election");
    op_stopguard_step(g, "informers");
    while (atomic_load(&s.calls) == 0 && now() - t0 < 5)
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    double took = now() - t0;
    assert_int_equal(atomic_load(&s.calls), 1);
    assert_string_equal(atomic_load(&s.step), "informers");
    assert_true(took >= 0.19 && took < 2.0);
    op_stopguard_end(g);
    assert_int_equal(atomic_load(&s.calls), 1);
}

static void test_args(void **state)
{
    op_stopguard *g = NULL;
    op_stopguard_opts o = {.deadline_s = 0};
    assert_int_equal(op_stopguard_start(&o, &g), -EINVAL);
    assert_null(g);
    op_stopguard_step(NULL, "x");
    op_stopguard_end(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_time),
        cmocka_unit_test(test_expired),
        cmocka_unit_test(test_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
