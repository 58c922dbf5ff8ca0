/*
 * test_vg_loop.c - the event loop: timer order, repeat, cancel (and stale
 * ids), fds (and events for an fd deleted earlier in the same batch),
 * async sends from another thread (coalescing), stop from another thread.
 *
 * Every test arms a watchdog timer so a broken loop fails instead of
 * hanging the suite.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vg_loop.h"

typedef struct rec {
    int order[16];
    int n;
    bool watchdog_fired;
} rec;

static void watchdog_cb(vg_loop *loop, uint64_t id, void *ud)
{
    rec *r = ud;
    r->watchdog_fired = true;
    vg_loop_stop(loop);
}

static uint64_t arm_watchdog(vg_loop *loop, rec *r, uint64_t ms)
{
    uint64_t id = 0;
    assert_int_equal(vg_loop_timer_add(loop, ms, false, watchdog_cb, r, &id), 0);
    return id;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- timers ---- */

typedef struct tag {
    rec *r;
    int v;
    bool stop;
} tag;

static void record_cb(vg_loop *loop, uint64_t id, void *ud)
{
    tag *t = ud;
    assert_true(id != 0);
    t->r->order[t->r->n++] = t->v;
    if (t->stop)
        vg_loop_stop(loop);
}

static void test_timer_order(void **state)
{
    vg_loop *loop;
    rec r = {0};
    assert_int_equal(vg_loop_new(&loop), 0);
    arm_watchdog(loop, &r, 5000);
    tag t30 = {&r, 30, true}, t10 = {&r, 10, false}, t20 = {&r, 20, false};
    tag z1 = {&r, 1, false}, z2 = {&r, 2, false};
    uint64_t id;
    assert_int_equal(vg_loop_timer_add(loop, 30, false, record_cb, &t30, &id), 0);
    assert_int_equal(vg_loop_timer_add(loop, 10, false, record_cb, &t10, &id), 0);
    assert_int_equal(vg_loop_timer_add(loop, 20, false, record_cb, &t20, &id), 0);
    /* Same due time: insertion order. */
    assert_int_equal(vg_loop_timer_add(loop, 0, false, record_cb, &z1, &id), 0);
    assert_int_equal(vg_loop_timer_add(loop, 0, false, record_cb, &z2, &id), 0);
    uint64_t t0 = vg_now_ms();
    assert_int_equal(vg_loop_run(loop), 0);
    assert_false(r.watchdog_fired);
    assert_int_equal(r.n, 5);
    int want[5] = {1, 2, 10, 20, 30};
    for (int i = 0; i < 5; i++)
        assert_int_equal(r.order[i], want[i]);
    assert_true(vg_now_ms() - t0 >= 30);
    vg_loop_free(loop);
}

typedef struct rep {
    int fired;
    uint64_t id;
    uint64_t last_ms;   /* when the timer was added */
    bool gaps_ok;
} rep;

static void repeat_cb(vg_loop *loop, uint64_t id, void *ud)
{
    rep *p = ud;
    assert_int_equal(id, p->id);
    /* Fixed rate: the k-th firing is never before k intervals (a late
     * tick may be followed closely by the next, never by a burst). */
    p->fired++;
    if (vg_now_ms() - p->last_ms < 5u * (uint64_t)p->fired)
        p->gaps_ok = false;
    if (p->fired == 5)
        vg_loop_timer_cancel(loop, id); /* cancelling itself from its callback */
}

static void stop_cb(vg_loop *loop, uint64_t id, void *ud) { vg_loop_stop(loop); }

static void test_timer_repeat_and_self_cancel(void **state)
{
    vg_loop *loop;
    rec r = {0};
    rep p = {0, 0, 0, true};
    assert_int_equal(vg_loop_new(&loop), 0);
    arm_watchdog(loop, &r, 5000);
    p.last_ms = vg_now_ms(); /* when added */
    assert_int_equal(vg_loop_timer_add(loop, 5, true, repeat_cb, &p, &p.id), 0);
    uint64_t sid;
    /* Well past 5 firings: a repeat that survived its cancel would show. */
    assert_int_equal(vg_loop_timer_add(loop, 80, false, stop_cb, NULL, &sid), 0);
    assert_int_equal(vg_loop_run(loop), 0);
    assert_false(r.watchdog_fired);
    assert_int_equal(p.fired, 5);
    assert_true(p.gaps_ok);
    /* A repeat timer of 0 ms would spin: refused. */
    uint64_t id;
    assert_int_equal(vg_loop_timer_add(loop, 0, true, repeat_cb, &p, &id), -EINVAL);
    assert_int_equal(vg_loop_timer_add(loop, 5, false, NULL, &p, &id), -EINVAL);
    vg_loop_free(loop);
}

static void test_timer_cancel(void **state)
{
    vg_loop *loop;
    rec r = {0};
    assert_int_equal(vg_loop_new(&loop), 0);
    arm_watchdog(loop, &r, 5000);
    tag a = {&r, 1, false}, b = {&r, 2, true};
    uint64_t ida, idb;
    assert_int_equal(vg_loop_timer_add(loop, 10, false, record_cb, &a, &ida), 0);
    assert_int_equal(vg_loop_timer_add(loop, 20, false, record_cb, &b, &idb), 0);
    assert_true(ida != idb);
    vg_loop_timer_cancel(loop, ida);
    vg_loop_timer_cancel(loop, ida);          /* twice: no-op */
    vg_loop_timer_cancel(loop, 0);            /* unknown ids: no-op */
    vg_loop_timer_cancel(loop, 0xdeadbeef00000001ull);
    vg_loop_timer_cancel(loop, 999999);
    assert_int_equal(vg_loop_run(loop), 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.order[0], 2);

    /* A fired id is stale: cancelling it must not hit the timer that
     * now reuses its slot. */
    r.n = 0;
    tag c = {&r, 3, true};
    uint64_t idc;
    assert_int_equal(vg_loop_timer_add(loop, 5, false, record_cb, &c, &idc), 0);
    assert_true(idc != idb);
    vg_loop_timer_cancel(loop, idb); /* fired already */
    assert_int_equal(vg_loop_run(loop), 0);
    assert_false(r.watchdog_fired);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.order[0], 3);
    vg_loop_free(loop);
}

/* Many timers in random order come out sorted (heap property). */
typedef struct many {
    uint64_t due[200];
    uint64_t last_due;
    int fired;
    bool sorted;
} many;

typedef struct many_tag {
    many *m;
    int i;
} many_tag;

static void many_cb(vg_loop *loop, uint64_t id, void *ud)
{
    many_tag *t = ud;
    /* due[] was taken just before the add: the loop's own due may be
     * up to 1 ms later, so equal-ms neighbours may swap by that much. */
    if (t->m->due[t->i] + 1 < t->m->last_due || vg_now_ms() < t->m->due[t->i])
        t->m->sorted = false;
    t->m->last_due = t->m->due[t->i];
    if (++t->m->fired == 150)
        vg_loop_stop(loop);
}

static void test_timer_many(void **state)
{
    vg_loop *loop;
    rec r = {0};
    static many m;
    static many_tag tags[200];
    uint64_t ids[200];
    memset(&m, 0, sizeof m);
    m.sorted = true;
    assert_int_equal(vg_loop_new(&loop), 0);
    arm_watchdog(loop, &r, 5000);
    unsigned seed = 12345;
    for (int i = 0; i < 200; i++) {
        seed = seed * 1103515245u + 12345u;
        uint64_t ms = (seed >> 16) % 60;
        m.due[i] = vg_now_ms() + ms;
        tags[i].m = &m;
        tags[i].i = i;
        assert_int_equal(vg_loop_timer_add(loop, ms, false, many_cb, &tags[i], &ids[i]), 0);
    }
    /* Cancel 50 from the middle of the heap. */
    for (int i = 0; i < 200; i += 4)
        vg_loop_timer_cancel(loop, ids[i]);
    assert_int_equal(vg_loop_run(loop), 0);
    assert_false(r.watchdog_fired);
    assert_int_equal(m.fired, 150);
    assert_true(m.sorted);
    vg_loop_free(loop);
}

/* ---- fds ---- */

typedef struct fdt {
    int p1[2], p2[2];
    int calls;
    char got;
} fdt;

static void del_both_cb(vg_loop *loop, int fd, unsigned events, void *ud)
{
    fdt *t = ud;
    assert_true(events & VG_EV_READ);
    t->calls++;
    assert_int_equal(read(fd, &t->got, 1), 1);
    /* Deleting the other fd must drop its event already fetched. */
    vg_loop_fd_del(loop, t->p1[0]);
    vg_loop_fd_del(loop, t->p2[0]);
    vg_loop_stop(loop);
}

static void test_fd_events_and_stale(void **state)
{
    vg_loop *loop;
    rec r = {0};
    fdt t;
    memset(&t, 0, sizeof t);
    assert_int_equal(vg_loop_new(&loop), 0);
    arm_watchdog(loop, &r, 5000);
    assert_int_equal(pipe(t.p1), 0);
    assert_int_equal(pipe(t.p2), 0);
    assert_int_equal(vg_loop_fd_add(loop, t.p1[0], VG_EV_READ, del_both_cb, &t), 0);
    assert_int_equal(vg_loop_fd_add(loop, t.p1[0], VG_EV_READ, del_both_cb, &t), -EEXIST);
    assert_int_equal(vg_loop_fd_add(loop, t.p2[0], VG_EV_READ, del_both_cb, &t), 0);
    assert_int_equal(write(t.p1[1], "a", 1), 1);
    assert_int_equal(write(t.p2[1], "b", 1), 1);
    uint64_t it0 = vg_loop_iterations(loop);
    assert_int_equal(vg_loop_run(loop), 0);
    assert_false(r.watchdog_fired);
    assert_int_equal(t.calls, 1);
    assert_true(t.got == 'a' || t.got == 'b');
    assert_true(vg_loop_iterations(loop) > it0);
    assert_int_equal(vg_loop_fd_del(loop, t.p1[0]), -ENOENT);
    assert_int_equal(vg_loop_fd_mod(loop, t.p1[0], VG_EV_READ), -ENOENT);
    for (int i = 0; i < 2; i++) {
        close(t.p1[i]);
        close(t.p2[i]);
    }
    vg_loop_free(loop);
}

typedef struct wrt {
    int p[2];
    int writable;
} wrt;

static void writable_cb(vg_loop *loop, int fd, unsigned events, void *ud)
{
    wrt *w = ud;
    if (events & VG_EV_WRITE) {
        w->writable++;
        /* Switch interest off: level-triggered WRITE would fire forever. */
        assert_int_equal(vg_loop_fd_mod(loop, fd, 0), 0);
    }
}

static void test_fd_mod(void **state)
{
    vg_loop *loop;
    rec r = {0};
    wrt w = {{-1, -1}, 0};
    assert_int_equal(vg_loop_new(&loop), 0);
    assert_int_equal(pipe(w.p), 0);
    assert_int_equal(vg_loop_fd_add(loop, w.p[1], VG_EV_READ, writable_cb, &w), 0);
    assert_int_equal(vg_loop_fd_mod(loop, w.p[1], VG_EV_WRITE), 0);
    uint64_t id;
    assert_int_equal(vg_loop_timer_add(loop, 30, false, stop_cb, NULL, &id), 0);
    arm_watchdog(loop, &r, 5000);
    assert_int_equal(vg_loop_run(loop), 0);
    assert_int_equal(w.writable, 1);
    assert_int_equal(vg_loop_fd_del(loop, w.p[1]), 0);
    close(w.p[0]);
    close(w.p[1]);
    vg_loop_free(loop);
}

/* ---- async ---- */

#define NSENDS 20000

typedef struct asy {
    vg_loop *loop;
    vg_async *a;
    atomic_int sent;
    int calls;
    bool saw_all;
} asy;

static void async_cb(vg_loop *loop, void *ud)
{
    asy *s = ud;
    s->calls++;
    if (atomic_load(&s->sent) == NSENDS) {
        s->saw_all = true;
        vg_loop_stop(loop);
    }
}

static void *sender(void *ud)
{
    asy *s = ud;
    for (int i = 0; i < NSENDS; i++) {
        atomic_fetch_add(&s->sent, 1);
        vg_async_send(s->a);
    }
    return NULL;
}

static void test_async_from_thread(void **state)
{
    vg_loop *loop;
    rec r = {0};
    asy s;
    memset(&s, 0, sizeof s);
    atomic_init(&s.sent, 0);
    assert_int_equal(vg_loop_new(&loop), 0);
    s.loop = loop;
    assert_int_equal(vg_async_new(loop, async_cb, &s, &s.a), 0);
    arm_watchdog(loop, &r, 10000);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, sender, &s), 0);
    assert_int_equal(vg_loop_run(loop), 0);
    pthread_join(th, NULL);
    assert_false(r.watchdog_fired);
    assert_true(s.saw_all);
    assert_true(s.calls >= 1);
    assert_true(s.calls <= NSENDS);
    vg_async_free(s.a);
    vg_loop_free(loop);
}

typedef struct coal {
    int calls_a, calls_b;
    vg_async *b;
} coal;

static void coal_a(vg_loop *loop, void *ud)
{
    coal *c = ud;
    c->calls_a++;
    /* Freeing another async during dispatch must be safe. */
    vg_async_free(c->b);
    c->b = NULL;
}

static void coal_b(vg_loop *loop, void *ud)
{
    coal *c = ud;
    c->calls_b++;
}

static void test_async_coalesce_and_free(void **state)
{
    vg_loop *loop;
    rec r = {0};
    coal c = {0, 0, NULL};
    vg_async *a;
    assert_int_equal(vg_loop_new(&loop), 0);
    assert_int_equal(vg_async_new(loop, coal_a, &c, &a), 0);
    assert_int_equal(vg_async_new(loop, coal_b, &c, &c.b), 0);
    vg_async_send(a);
    vg_async_send(a);
    vg_async_send(a); /* three sends before the loop runs: one call */
    vg_async_send(c.b);
    uint64_t id;
    assert_int_equal(vg_loop_timer_add(loop, 30, false, stop_cb, NULL, &id), 0);
    arm_watchdog(loop, &r, 5000);
    assert_int_equal(vg_loop_run(loop), 0);
    assert_int_equal(c.calls_a, 1);
    /* b was either run before a freed it, or never: at most once. */
    assert_true(c.calls_b <= 1);
    assert_null(c.b);
    /* An async left alive when the loop is freed is detached. */
    vg_loop_free(loop);
    vg_async_send(a); /* no-op */
    vg_async_free(a);
}

/* ---- stop ---- */

static void *stopper(void *ud)
{
    sleep_ms(50);
    vg_loop_stop(ud);
    return NULL;
}

static void test_stop_from_thread(void **state)
{
    vg_loop *loop;
    rec r = {0};
    assert_int_equal(vg_loop_new(&loop), 0);
    arm_watchdog(loop, &r, 5000);
    pthread_t th;
    uint64_t t0 = vg_now_ms();
    assert_int_equal(pthread_create(&th, NULL, stopper, loop), 0);
    assert_int_equal(vg_loop_run(loop), 0);
    pthread_join(th, NULL);
    assert_false(r.watchdog_fired);
    assert_true(vg_now_ms() - t0 >= 40);
    assert_true(vg_now_ms() - t0 < 4000);

    /* Stop requested before run: run returns at once, then runs again. */
    vg_loop_stop(loop);
    t0 = vg_now_ms();
    assert_int_equal(vg_loop_run(loop), 0);
    assert_true(vg_now_ms() - t0 < 1000);
    uint64_t id;
    assert_int_equal(vg_loop_timer_add(loop, 10, false, stop_cb, NULL, &id), 0);
    assert_int_equal(vg_loop_run(loop), 0);
    assert_false(r.watchdog_fired);
    vg_loop_free(loop);
}

static void test_clocks(void **state)
{
    vg_loop *loop;
    assert_int_equal(vg_loop_new(&loop), 0);
    uint64_t a = vg_now_ms();
    sleep_ms(5);
    uint64_t b = vg_now_ms();
    assert_true(b >= a + 4);
    assert_true(vg_loop_now_ms(loop) <= b);
    assert_true(vg_wall_s() > 1.6e9);
    assert_int_equal(vg_loop_iterations(loop), 0);
    vg_loop_free(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timer_order),
        cmocka_unit_test(test_timer_repeat_and_self_cancel),
        cmocka_unit_test(test_timer_cancel),
        cmocka_unit_test(test_timer_many),
        cmocka_unit_test(test_fd_events_and_stale),
        cmocka_unit_test(test_fd_mod),
        cmocka_unit_test(test_async_from_thread),
        cmocka_unit_test(test_async_coalesce_and_free),
        cmocka_unit_test(test_stop_from_thread),
        cmocka_unit_test(test_clocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
