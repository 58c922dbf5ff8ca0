/*
 * Unit tests for statfs_pool (agent/collectors/statfs_pool.c): the timeout,
 * stuck-worker and thread-bound logic, with a statfs function that blocks
 * on a condition variable for paths named "hang*" until the test lets go.
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
#include <unistd.h>

#include "collectors/statfs_pool.h"
#include "vg_loop.h"

typedef struct blocker {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int released;
    int inside;      /* calls currently blocked */
    int calls;       /* all calls */
} blocker;

static blocker B = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0};

static int fake_statfs(const char *path, struct statfs *out, void *ud)
{
    blocker *b = ud;
    pthread_mutex_lock(&b->mu);
    b->calls++;
    if (strncmp(path, "hang", 4) == 0) {
        b->inside++;
        while (!b->released)
            pthread_cond_wait(&b->cv, &b->mu);
        b->inside--;
    }
    pthread_mutex_unlock(&b->mu);
    if (strncmp(path, "missing", 7) == 0)
        return -ENOENT;
    memset(out, 0, sizeof *out);
    out->f_bsize = 4096;
    out->f_blocks = strlen(path);
    return 0;
}

static void blocker_reset(void)
{
    pthread_mutex_lock(&B.mu);
    B.released = 0;
    B.calls = 0;
    pthread_mutex_unlock(&B.mu);
}

static void blocker_release(void)
{
    pthread_mutex_lock(&B.mu);
    B.released = 1;
    pthread_cond_broadcast(&B.cv);
    pthread_mutex_unlock(&B.mu);
}

static void wait_unstuck(statfs_pool *p)
{
    for (int i = 0; i < 400; i++) {
        statfs_pool_stats s;
        statfs_pool_stats_get(p, &s);
        if (s.stuck == 0)
            return;
        usleep(5000);
    }
    fail_msg("worker never came back");
}

static void set_jobs(statfs_job *j, const char *const *paths, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        memset(&j[i], 0, sizeof j[i]);
        j[i].path = paths[i];
    }
}

static void test_plain(void **st)
{
    statfs_pool *p;
    assert_int_equal(statfs_pool_new(0, &p), -EINVAL);
    assert_int_equal(statfs_pool_new(3, &p), 0);
    statfs_pool_set_fn(p, fake_statfs, &B);
    blocker_reset();
    const char *paths[] = {"/a", "/bb", "missing", "/dddd", "/e", "/ffffff", "/g"};
    statfs_job j[7];
    set_jobs(j, paths, 7);
    statfs_pool_run(p, j, 7, 1000, 0);
    for (int i = 0; i < 7; i++) {
        if (i == 2) {
            assert_int_equal(j[i].rc, -ENOENT);
        } else {
            assert_int_equal(j[i].rc, 0);
            assert_int_equal(j[i].st.f_blocks, strlen(paths[i]));
        }
    }
    statfs_pool_stats s;
    statfs_pool_stats_get(p, &s);
    assert_int_equal(s.workers, 3);
    assert_true(s.threads >= 1 && s.threads <= 3);
    assert_int_equal(s.stuck, 0);
    /* an empty run is a no-op */
    statfs_pool_run(p, j, 0, 1000, 0);
    statfs_pool_free(p);
    statfs_pool_free(NULL);
}

static void test_real_statfs(void **st)
{
    statfs_pool *p;
    assert_int_equal(statfs_pool_new(2, &p), 0);
    const char *paths[] = {"/", "/nonexistent-vigil-path"};
    statfs_job j[2];
    set_jobs(j, paths, 2);
    statfs_pool_run(p, j, 2, 5000, 0);
    assert_int_equal(j[0].rc, 0);
    assert_true(j[0].st.f_bsize > 0);
    assert_int_equal(j[1].rc, -ENOENT);
    statfs_pool_free(p);
}

static void test_hung_mount_times_out_and_is_not_retried(void **st)
{
    statfs_pool *p;
    assert_int_equal(statfs_pool_new(2, &p), 0);
    statfs_pool_set_fn(p, fake_statfs, &B);
    blocker_reset();
    const char *paths[] = {"/a", "hang1", "/b", "/c"};
    statfs_job j[4];
    set_jobs(j, paths, 4);
    uint64_t t0 = vg_now_ms();
    statfs_pool_run(p, j, 4, 200, 0);
    uint64_t dt = vg_now_ms() - t0;
    assert_true(dt >= 190 && dt < 1000);
    assert_int_equal(j[0].rc, 0);
    assert_int_equal(j[1].rc, -ETIMEDOUT);
    assert_int_equal(j[2].rc, 0);
    assert_int_equal(j[3].rc, 0);
    statfs_pool_stats s;
    statfs_pool_stats_get(p, &s);
    assert_int_equal(s.stuck, 1);
    assert_true(s.threads <= 2);

    /* Next run: the hung path is answered at once, not called again. */
    int calls_before = B.calls;
    set_jobs(j, paths, 4);
    t0 = vg_now_ms();
    statfs_pool_run(p, j, 4, 200, 0);
    dt = vg_now_ms() - t0;
    assert_true(dt < 150);
    assert_int_equal(j[1].rc, -EBUSY);
    assert_int_equal(j[0].rc, 0);
    assert_int_equal(j[3].rc, 0);
    assert_int_equal(B.calls - calls_before, 3);
    statfs_pool_stats_get(p, &s);
    assert_int_equal(s.stuck, 1);
    assert_true(s.threads <= 2);

    /* The mount answers again: the worker comes back, the path recovers. */
    blocker_release();
    wait_unstuck(p);
    set_jobs(j, paths, 4);
    statfs_pool_run(p, j, 4, 200, 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(j[i].rc, 0);
    statfs_pool_free(p);
}

static void test_all_slots_stuck(void **st)
{
    statfs_pool *p;
    assert_int_equal(statfs_pool_new(2, &p), 0);
    statfs_pool_set_fn(p, fake_statfs, &B);
    blocker_reset();
    const char *paths[] = {"hang1", "hang2", "/a", "/b"};
    statfs_job j[4];
    set_jobs(j, paths, 4);
    uint64_t t0 = vg_now_ms();
    statfs_pool_run(p, j, 4, 150, 0);
    uint64_t dt = vg_now_ms() - t0;
    /* both workers got stuck on the hangs; /a and /b had no slot left */
    assert_true(dt < 800);
    assert_int_equal(j[0].rc, -ETIMEDOUT);
    assert_int_equal(j[1].rc, -ETIMEDOUT);
    assert_int_equal(j[2].rc, -EBUSY);
    assert_int_equal(j[3].rc, -EBUSY);
    statfs_pool_stats s;
    statfs_pool_stats_get(p, &s);
    assert_int_equal(s.stuck, 2);
    assert_int_equal(s.threads, 2);

    /* Every slot stuck: the whole run is answered immediately. */
    const char *p2[] = {"/x", "/y", "/z"};
    statfs_job j2[3];
    set_jobs(j2, p2, 3);
    t0 = vg_now_ms();
    statfs_pool_run(p, j2, 3, 5000, 0);
    assert_true(vg_now_ms() - t0 < 50);
    for (int i = 0; i < 3; i++)
        assert_int_equal(j2[i].rc, -EBUSY);

    blocker_release();
    wait_unstuck(p);
    set_jobs(j2, p2, 3);
    statfs_pool_run(p, j2, 3, 5000, 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(j2[i].rc, 0);
    statfs_pool_free(p);
}

static void test_deadline_caps_timeout(void **st)
{
    statfs_pool *p;
    assert_int_equal(statfs_pool_new(1, &p), 0);
    statfs_pool_set_fn(p, fake_statfs, &B);
    blocker_reset();
    const char *paths[] = {"hang1", "/a", "/b"};
    statfs_job j[3];
    set_jobs(j, paths, 3);
    uint64_t t0 = vg_now_ms();
    /* a 10 s per-mount timeout, but the scrape must end in 150 ms */
    statfs_pool_run(p, j, 3, 10000, t0 + 150);
    uint64_t dt = vg_now_ms() - t0;
    assert_true(dt >= 140 && dt < 600);
    assert_int_equal(j[0].rc, -ETIMEDOUT);
    /* with the only worker stuck, the rest could not run */
    assert_true(j[1].rc == -EBUSY || j[1].rc == -ETIMEDOUT);
    assert_true(j[2].rc == -EBUSY || j[2].rc == -ETIMEDOUT);
    /* a deadline already past answers everything at once */
    blocker_release();
    wait_unstuck(p);
    set_jobs(j, paths, 3);
    statfs_pool_run(p, j, 3, 10000, vg_now_ms() - 1);
    for (int i = 0; i < 3; i++)
        assert_true(j[i].rc == -ETIMEDOUT || j[i].rc == 0);
    statfs_pool_free(p);
}

static void test_free_with_stuck_worker(void **st)
{
    statfs_pool *p;
    assert_int_equal(statfs_pool_new(2, &p), 0);
    statfs_pool_set_fn(p, fake_statfs, &B);
    blocker_reset();
    const char *paths[] = {"hang1", "/a"};
    statfs_job j[2];
    set_jobs(j, paths, 2);
    statfs_pool_run(p, j, 2, 100, 0);
    assert_int_equal(j[0].rc, -ETIMEDOUT);
    uint64_t t0 = vg_now_ms();
    statfs_pool_free(p); /* must not wait for the hung call */
    assert_true(vg_now_ms() - t0 < 100);
    /* the worker comes back later and frees the pool itself */
    blocker_release();
    for (int i = 0; i < 200; i++) {
        pthread_mutex_lock(&B.mu);
        int inside = B.inside;
        pthread_mutex_unlock(&B.mu);
        if (!inside)
            break;
        usleep(5000);
    }
    usleep(50000);
}

static void test_many_jobs_bounded_threads(void **st)
{
    statfs_pool *p;
    assert_int_equal(statfs_pool_new(4, &p), 0);
    statfs_pool_set_fn(p, fake_statfs, &B);
    blocker_reset();
    static statfs_job j[1000];
    static char names[1000][16];
    for (int i = 0; i < 1000; i++) {
        snprintf(names[i], sizeof names[i], "/m%d", i);
        memset(&j[i], 0, sizeof j[i]);
        j[i].path = names[i];
    }
    statfs_pool_run(p, j, 1000, 1000, 0);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(j[i].rc, 0);
    statfs_pool_stats s;
    statfs_pool_stats_get(p, &s);
    assert_true(s.threads <= 4);
    statfs_pool_free(p);
}

/* The loop's two steps: start returns at until_ms with the hung call still
 * running; resume then waits on and applies the per-call timeout from when
 * the call began. */
static void test_start_yields_then_resume_finishes(void **st)
{
    statfs_pool *p;
    assert_int_equal(statfs_pool_new(2, &p), 0);
    statfs_pool_set_fn(p, fake_statfs, &B);
    blocker_reset();
    const char *paths[] = {"/a", "hang1", "/bb"};
    statfs_job j[3];
    set_jobs(j, paths, 3);
    uint64_t t0 = vg_now_ms();
    assert_int_equal(statfs_pool_start(p, j, 3, 150, 0, t0 + 20), -EINPROGRESS);
    assert_true(vg_now_ms() - t0 < 100);
    assert_int_equal(j[1].rc, -EINPROGRESS);
    assert_int_equal(statfs_pool_resume(p, 150, 0, 0), 0);
    assert_true(vg_now_ms() - t0 >= 140);
    assert_int_equal(j[0].rc, 0);
    assert_int_equal(j[1].rc, -ETIMEDOUT);
    assert_int_equal(j[2].rc, 0);
    assert_int_equal(j[2].st.f_blocks, 3);
    /* nothing in flight any more */
    assert_int_equal(statfs_pool_resume(p, 150, 0, 0), 0);
    /* healthy paths only: a start with until already past still finishes
     * on resume, without waiting for the timeout */
    const char *ok[] = {"/a", "/bb"};
    set_jobs(j, ok, 2);
    int rc = statfs_pool_start(p, j, 2, 5000, 0, 1);
    assert_true(rc == 0 || rc == -EINPROGRESS);
    t0 = vg_now_ms();
    assert_int_equal(statfs_pool_resume(p, 5000, 0, t0 + 2000), 0);
    assert_true(vg_now_ms() - t0 < 1000);
    assert_int_equal(j[0].rc, 0);
    assert_int_equal(j[1].rc, 0);
    blocker_release();
    wait_unstuck(p);
    statfs_pool_free(p);
}

/* A run left in flight (no resume) is abandoned by free: the worker that
 * comes back later must not write into the caller's (freed) jobs. */
static void test_free_with_run_in_flight(void **st)
{
    statfs_pool *p;
    assert_int_equal(statfs_pool_new(1, &p), 0);
    statfs_pool_set_fn(p, fake_statfs, &B);
    blocker_reset();
    const char *paths[] = {"hang2"};
    statfs_job *j = test_malloc(sizeof *j);
    set_jobs(j, paths, 1);
    assert_int_equal(statfs_pool_start(p, j, 1, 10000, 0, vg_now_ms() + 20), -EINPROGRESS);
    statfs_pool_free(p);
    test_free(j);
    blocker_release();
    for (int i = 0; i < 200; i++) {
        pthread_mutex_lock(&B.mu);
        int inside = B.inside;
        pthread_mutex_unlock(&B.mu);
        if (!inside)
            break;
        usleep(5000);
    }
    usleep(50000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_real_statfs),
        cmocka_unit_test(test_hung_mount_times_out_and_is_not_retried),
        cmocka_unit_test(test_all_slots_stuck),
        cmocka_unit_test(test_deadline_caps_timeout),
        cmocka_unit_test(test_free_with_stuck_worker),
        cmocka_unit_test(test_many_jobs_bounded_threads),
        cmocka_unit_test(test_start_yields_then_resume_finishes),
        cmocka_unit_test(test_free_with_run_in_flight),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
