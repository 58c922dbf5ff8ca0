/*
 * vg_loop.c - the epoll event loop: fds, a timer heap and eventfd wake-ups.
 *
 * Why this shape:
 *  - fds live in a table indexed by fd number with a generation per slot;
 *    the generation travels in epoll's data word, so an event that was
 *    already fetched for an fd deleted (or deleted and re-added) by an
 *    earlier callback in the same batch is recognised as stale and dropped.
 *  - timers live in a slab (stable slots, free list) ordered by a binary
 *    min-heap of slot numbers keyed on (due ms, sequence). The id handed
 *    out is (generation << 32 | slot + 1), so cancel finds its timer in
 *    O(1) and an id that already fired or was cancelled no longer matches.
 *    Equal due times fire in the order they were added.
 *  - one eventfd serves every vg_async and vg_loop_stop: senders set an
 *    atomic flag and write the eventfd only on the 0 -> 1 edge, so a burst
 *    of sends costs one write and one callback (coalescing).
 */
#include "vg_loop.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 64

typedef struct fd_slot {
    vg_fd_cb cb;
    void *ud;
    uint32_t gen;
    bool active;
} fd_slot;

typedef struct timer_slot {
    uint64_t due;       /* monotonic ms */
    uint64_t seq;       /* tie-break: insertion order */
    uint64_t interval;  /* ms; repeat only */
    vg_timer_cb cb;
    void *ud;
    uint32_t gen;
    uint32_t heap_pos;  /* index in loop->heap while armed */
    bool armed;
    bool repeat;
    uint32_t next_free; /* free list link (slot + 1, 0 = end) */
} timer_slot;

struct vg_async {
    vg_loop *loop;      /* NULL once the loop was freed first */
    vg_async_cb cb;
    void *ud;
    atomic_int pending;
};

/*
 * The loop. Single-threaded: everything here is touched only by the
 * thread in vg_loop_run, except wake_fd, stop_req and vg_async.pending,
 * which other threads write through vg_async_send/vg_loop_stop.
 */
struct vg_loop {
    int epfd;
    int wake_fd;               /* eventfd for asyncs and stop */
    atomic_int stop_req;

    fd_slot *fds;
    size_t nfds_cap;

    timer_slot *timers;
    uint32_t ntimers_cap;
    uint32_t timer_free;       /* free list head (slot + 1, 0 = empty) */
    uint32_t *heap;            /* slot numbers */
    uint32_t heap_len;
    uint64_t timer_seq;

    vg_async **asyncs;
    size_t nasyncs, asyncs_cap;
    bool async_dispatching;
    bool async_dirty;          /* NULL holes left by frees during dispatch */

    uint64_t now;
    uint64_t iterations;
};

uint64_t vg_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

double vg_wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void wake_drain(vg_loop *loop);

static void wake_cb(vg_loop *loop, int fd, unsigned events, void *ud)
{
    (void)fd;
    (void)events;
    (void)ud;
    wake_drain(loop);
}

int vg_loop_new(vg_loop **out)
{
    int rc;
    vg_loop *loop = calloc(1, sizeof(*loop));
    if (!loop)
        return -ENOMEM;
    loop->epfd = -1;
    loop->wake_fd = -1;
    atomic_init(&loop->stop_req, 0);

    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->epfd < 0) {
        rc = -errno;
        goto fail;
    }
    loop->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (loop->wake_fd < 0) {
        rc = -errno;
        goto fail;
    }
    rc = vg_loop_fd_add(loop, loop->wake_fd, VG_EV_READ, wake_cb, NULL);
    if (rc < 0)
        goto fail;
    loop->now = vg_now_ms();
    *out = loop;
    return 0;

fail:
    if (loop->wake_fd >= 0)
        close(loop->wake_fd);
    if (loop->epfd >= 0)
        close(loop->epfd);
    free(loop->fds);
    free(loop);
    return rc;
}

void vg_loop_free(vg_loop *loop)
{
    if (!loop)
        return;
    /* Asyncs still alive are detached: a later send is a no-op and
     * vg_async_free only frees the handle. */
    for (size_t i = 0; i < loop->nasyncs; i++)
        if (loop->asyncs[i])
            loop->asyncs[i]->loop = NULL;
    free(loop->asyncs);
    close(loop->wake_fd);
    close(loop->epfd);
    free(loop->fds);
    free(loop->timers);
    free(loop->heap);
    free(loop);
}

/* ---------------- fds ---------------- */

static int fd_table_grow(vg_loop *loop, int fd)
{
    size_t need = (size_t)fd + 1;
    if (need <= loop->nfds_cap)
        return 0;
    size_t cap = loop->nfds_cap ? loop->nfds_cap : 64;
    while (cap < need)
        cap *= 2;
    fd_slot *n = realloc(loop->fds, cap * sizeof(*n));
    if (!n)
        return -ENOMEM;
    memset(n + loop->nfds_cap, 0, (cap - loop->nfds_cap) * sizeof(*n));
    loop->fds = n;
    loop->nfds_cap = cap;
    return 0;
}

static uint32_t ev_to_epoll(unsigned events)
{
    uint32_t e = 0;
    if (events & VG_EV_READ)
        e |= EPOLLIN;
    if (events & VG_EV_WRITE)
        e |= EPOLLOUT;
    return e; /* ERR and HUP are always reported by epoll */
}

int vg_loop_fd_add(vg_loop *loop, int fd, unsigned events, vg_fd_cb cb, void *ud)
{
    if (fd < 0 || !cb)
        return -EINVAL;
    int rc = fd_table_grow(loop, fd);
    if (rc < 0)
        return rc;
    fd_slot *s = &loop->fds[fd];
    if (s->active)
        return -EEXIST;
    uint32_t gen = s->gen + 1;
    struct epoll_event ev = {.events = ev_to_epoll(events),
                             .data.u64 = ((uint64_t)gen << 32) | (uint32_t)fd};
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return -errno;
    s->gen = gen;
    s->cb = cb;
    s->ud = ud;
    s->active = true;
    return 0;
}

int vg_loop_fd_mod(vg_loop *loop, int fd, unsigned events)
{
    if (fd < 0 || (size_t)fd >= loop->nfds_cap || !loop->fds[fd].active)
        return -ENOENT;
    fd_slot *s = &loop->fds[fd];
    struct epoll_event ev = {.events = ev_to_epoll(events),
                             .data.u64 = ((uint64_t)s->gen << 32) | (uint32_t)fd};
    if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
        return -errno;
    return 0;
}

int vg_loop_fd_del(vg_loop *loop, int fd)
{
    if (fd < 0 || (size_t)fd >= loop->nfds_cap || !loop->fds[fd].active)
        return -ENOENT;
    fd_slot *s = &loop->fds[fd];
    s->active = false;
    s->cb = NULL;
    s->ud = NULL;
    /* The fd may already be closed by the caller; the slot is cleared
     * regardless, so report only real failures on an open fd. */
    if (epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL) < 0 && errno != EBADF &&
        errno != ENOENT)
        return -errno;
    return 0;
}

/* ---------------- timers ---------------- */

static bool timer_before(const vg_loop *loop, uint32_t a, uint32_t b)
{
    const timer_slot *ta = &loop->timers[a], *tb = &loop->timers[b];
    if (ta->due != tb->due)
        return ta->due < tb->due;
    return ta->seq < tb->seq;
}

static void heap_set(vg_loop *loop, uint32_t pos, uint32_t slot)
{
    loop->heap[pos] = slot;
    loop->timers[slot].heap_pos = pos;
}

static void heap_up(vg_loop *loop, uint32_t pos)
{
    uint32_t slot = loop->heap[pos];
    while (pos > 0) {
        uint32_t parent = (pos - 1) / 2;
        if (!timer_before(loop, slot, loop->heap[parent]))
            break;
        heap_set(loop, pos, loop->heap[parent]);
        pos = parent;
    }
    heap_set(loop, pos, slot);
}

static void heap_down(vg_loop *loop, uint32_t pos)
{
    uint32_t slot = loop->heap[pos];
    for (;;) {
        uint32_t l = 2 * pos + 1, r = l + 1, best = pos;
        uint32_t best_slot = slot;
        if (l < loop->heap_len && timer_before(loop, loop->heap[l], best_slot)) {
            best = l;
            best_slot = loop->heap[l];
        }
        if (r < loop->heap_len && timer_before(loop, loop->heap[r], best_slot))
            best = r;
        if (best == pos)
            break;
        heap_set(loop, pos, loop->heap[best]);
        pos = best;
    }
    heap_set(loop, pos, slot);
}

static void heap_push(vg_loop *loop, uint32_t slot)
{
    uint32_t pos = loop->heap_len++;
    heap_set(loop, pos, slot);
    heap_up(loop, pos);
    loop->timers[slot].armed = true;
}

static void heap_remove(vg_loop *loop, uint32_t slot)
{
    uint32_t pos = loop->timers[slot].heap_pos;
    loop->timers[slot].armed = false;
    uint32_t last = loop->heap[--loop->heap_len];
    if (pos == loop->heap_len)
        return;
    heap_set(loop, pos, last);
    if (pos > 0 && timer_before(loop, last, loop->heap[(pos - 1) / 2]))
        heap_up(loop, pos);
    else
        heap_down(loop, pos);
}

static int timer_slots_grow(vg_loop *loop)
{
    uint32_t cap = loop->ntimers_cap ? loop->ntimers_cap * 2 : 32;
    if (cap > (1u << 30))
        return -ENOMEM;
    timer_slot *t = realloc(loop->timers, (size_t)cap * sizeof(*t));
    if (!t)
        return -ENOMEM;
    loop->timers = t;
    uint32_t *h = realloc(loop->heap, (size_t)cap * sizeof(*h));
    if (!h)
        return -ENOMEM; /* timers grew; harmless, capacity unchanged */
    loop->heap = h;
    memset(t + loop->ntimers_cap, 0, (size_t)(cap - loop->ntimers_cap) * sizeof(*t));
    /* Thread the new slots onto the free list, lowest first. */
    for (uint32_t i = cap; i > loop->ntimers_cap; i--) {
        t[i - 1].next_free = loop->timer_free;
        loop->timer_free = i;
    }
    loop->ntimers_cap = cap;
    return 0;
}

static void timer_slot_release(vg_loop *loop, uint32_t slot)
{
    timer_slot *t = &loop->timers[slot];
    t->cb = NULL;
    t->ud = NULL;
    t->gen++; /* any id handed out for this slot is now stale */
    t->next_free = loop->timer_free;
    loop->timer_free = slot + 1;
}

int vg_loop_timer_add(vg_loop *loop, uint64_t ms, bool repeat, vg_timer_cb cb,
                      void *ud, uint64_t *id)
{
    if (!cb || (repeat && ms == 0) || ms > (uint64_t)INT64_MAX / 2)
        return -EINVAL;
    if (!loop->timer_free) {
        int rc = timer_slots_grow(loop);
        if (rc < 0)
            return rc;
    }
    uint32_t slot = loop->timer_free - 1;
    timer_slot *t = &loop->timers[slot];
    loop->timer_free = t->next_free;
    if (t->gen == 0)
        t->gen = 1; /* keeps ids non-zero even for slot 0's first use */
    t->due = vg_now_ms() + ms;
    t->seq = ++loop->timer_seq;
    t->interval = ms;
    t->repeat = repeat;
    t->cb = cb;
    t->ud = ud;
    heap_push(loop, slot);
    if (id)
        *id = ((uint64_t)t->gen << 32) | (uint64_t)(slot + 1);
    return 0;
}

static timer_slot *timer_lookup(vg_loop *loop, uint64_t id, uint32_t *slot_out)
{
    uint32_t slot1 = (uint32_t)(id & 0xffffffffu);
    uint32_t gen = (uint32_t)(id >> 32);
    if (slot1 == 0 || slot1 > loop->ntimers_cap)
        return NULL;
    timer_slot *t = &loop->timers[slot1 - 1];
    if (t->gen != gen || !t->cb)
        return NULL;
    *slot_out = slot1 - 1;
    return t;
}

void vg_loop_timer_cancel(vg_loop *loop, uint64_t id)
{
    uint32_t slot;
    timer_slot *t = timer_lookup(loop, id, &slot);
    if (!t)
        return;
    if (t->armed)
        heap_remove(loop, slot);
    timer_slot_release(loop, slot);
}

/* Fire every timer due by loop->now that existed when this pass began. */
static void timers_run(vg_loop *loop)
{
    uint64_t seq_limit = loop->timer_seq;
    while (loop->heap_len > 0) {
        uint32_t slot = loop->heap[0];
        timer_slot *t = &loop->timers[slot];
        if (t->due > loop->now || t->seq > seq_limit)
            break;
        uint64_t id = ((uint64_t)t->gen << 32) | (uint64_t)(slot + 1);
        vg_timer_cb cb = t->cb;
        void *ud = t->ud;
        heap_remove(loop, slot);
        if (t->repeat) {
            /* Re-arm before the callback so it may cancel itself. Behind
             * schedule (a long stall) -> skip the missed ticks. */
            t->due += t->interval;
            if (t->due <= loop->now)
                t->due = loop->now + t->interval;
            t->seq = ++loop->timer_seq;
            heap_push(loop, slot);
        } else {
            timer_slot_release(loop, slot);
        }
        cb(loop, id, ud);
        /* A re-armed repeat gets a seq above the limit: at most one
         * firing per pass even at a small interval. */
    }
}

static int timers_wait_ms(vg_loop *loop)
{
    if (loop->heap_len == 0)
        return -1;
    uint64_t due = loop->timers[loop->heap[0]].due;
    uint64_t now = vg_now_ms();
    if (due <= now)
        return 0;
    uint64_t d = due - now;
    return d > INT_MAX ? INT_MAX : (int)d;
}

/* ---------------- async + stop ---------------- */

int vg_async_new(vg_loop *loop, vg_async_cb cb, void *ud, vg_async **out)
{
    if (!cb)
        return -EINVAL;
    if (loop->nasyncs == loop->asyncs_cap) {
        size_t cap = loop->asyncs_cap ? loop->asyncs_cap * 2 : 8;
        vg_async **n = realloc(loop->asyncs, cap * sizeof(*n));
        if (!n)
            return -ENOMEM;
        loop->asyncs = n;
        loop->asyncs_cap = cap;
    }
    vg_async *a = calloc(1, sizeof(*a));
    if (!a)
        return -ENOMEM;
    a->loop = loop;
    a->cb = cb;
    a->ud = ud;
    atomic_init(&a->pending, 0);
    loop->asyncs[loop->nasyncs++] = a;
    *out = a;
    return 0;
}

static void wake_write(vg_loop *loop)
{
    uint64_t one = 1;
    /* EAGAIN means the counter is saturated: the loop is woken anyway. */
    ssize_t n = write(loop->wake_fd, &one, sizeof(one));
    (void)n;
}

void vg_async_send(vg_async *a)
{
    if (!a || !a->loop)
        return;
    if (atomic_exchange(&a->pending, 1) == 0)
        wake_write(a->loop);
}

void vg_async_free(vg_async *a)
{
    if (!a)
        return;
    vg_loop *loop = a->loop;
    if (loop) {
        for (size_t i = 0; i < loop->nasyncs; i++) {
            if (loop->asyncs[i] != a)
                continue;
            if (loop->async_dispatching) {
                loop->asyncs[i] = NULL;
                loop->async_dirty = true;
            } else {
                loop->asyncs[i] = loop->asyncs[--loop->nasyncs];
            }
            break;
        }
    }
    free(a);
}

static void wake_drain(vg_loop *loop)
{
    uint64_t v;
    ssize_t n = read(loop->wake_fd, &v, sizeof(v));
    (void)n;
    loop->async_dispatching = true;
    /* Asyncs created by a callback land past n and wait for their send. */
    size_t n_at_start = loop->nasyncs;
    for (size_t i = 0; i < n_at_start && i < loop->nasyncs; i++) {
        vg_async *a = loop->asyncs[i];
        if (a && atomic_exchange(&a->pending, 0) == 1)
            a->cb(loop, a->ud);
    }
    loop->async_dispatching = false;
    if (loop->async_dirty) {
        size_t j = 0;
        for (size_t i = 0; i < loop->nasyncs; i++)
            if (loop->asyncs[i])
                loop->asyncs[j++] = loop->asyncs[i];
        loop->nasyncs = j;
        loop->async_dirty = false;
    }
}

void vg_loop_stop(vg_loop *loop)
{
    atomic_store(&loop->stop_req, 1);
    wake_write(loop);
}

/* ---------------- run ---------------- */

int vg_loop_run(vg_loop *loop)
{
    struct epoll_event evs[MAX_EVENTS];
    int rc = 0;

    while (!atomic_load(&loop->stop_req)) {
        int timeout = timers_wait_ms(loop);
        int n = epoll_wait(loop->epfd, evs, MAX_EVENTS, timeout);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            break;
        }
        loop->iterations++;
        loop->now = vg_now_ms();
        for (int i = 0; i < n; i++) {
            int fd = (int)(uint32_t)(evs[i].data.u64 & 0xffffffffu);
            uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
            if ((size_t)fd >= loop->nfds_cap)
                continue;
            fd_slot *s = &loop->fds[fd];
            if (!s->active || s->gen != gen)
                continue; /* removed by an earlier callback in this batch */
            unsigned ev = evs[i].events & (EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP);
            s->cb(loop, fd, ev, s->ud);
        }
        timers_run(loop);
    }
    atomic_store(&loop->stop_req, 0);
    return rc;
}

uint64_t vg_loop_now_ms(vg_loop *loop) { return loop->now; }

uint64_t vg_loop_iterations(vg_loop *loop) { return loop->iterations; }
