/*
 * vg_loop.h - a small single-threaded event loop on epoll.
 *
 * File descriptors, one-shot and repeating timers (millisecond resolution,
 * monotonic clock) and cross-thread wake-ups (eventfd). Every callback runs
 * on the thread that called vg_loop_run. Only vg_async_send and
 * vg_loop_stop may be called from other threads.
 */
#ifndef VG_LOOP_H
#define VG_LOOP_H

#include <stdbool.h>
#include <stdint.h>

typedef struct vg_loop vg_loop;
typedef struct vg_async vg_async;

/* Event bits for vg_loop_fd_* (same values as EPOLLIN/OUT/ERR/HUP). */
#define VG_EV_READ 0x001u
#define VG_EV_WRITE 0x004u
#define VG_EV_ERROR 0x008u
#define VG_EV_HUP 0x010u

typedef void (*vg_fd_cb)(vg_loop *loop, int fd, unsigned events, void *ud);
typedef void (*vg_timer_cb)(vg_loop *loop, uint64_t id, void *ud);
typedef void (*vg_async_cb)(vg_loop *loop, void *ud);

int vg_loop_new(vg_loop **out);
void vg_loop_free(vg_loop *loop);   /* does not close watched fds */

/* Watch fd for events; one registration per fd. */
int vg_loop_fd_add(vg_loop *loop, int fd, unsigned events, vg_fd_cb cb, void *ud);
int vg_loop_fd_mod(vg_loop *loop, int fd, unsigned events);
int vg_loop_fd_del(vg_loop *loop, int fd);

/*
 * Timer firing after ms milliseconds, then every ms if repeat. *id (never
 * 0) identifies it for cancel. Cancelling an unknown or fired id is a no-op.
 */
int vg_loop_timer_add(vg_loop *loop, uint64_t ms, bool repeat, vg_timer_cb cb,
                      void *ud, uint64_t *id);
void vg_loop_timer_cancel(vg_loop *loop, uint64_t id);

/* Cross-thread wake-up: cb runs on the loop thread after vg_async_send. */
int vg_async_new(vg_loop *loop, vg_async_cb cb, void *ud, vg_async **out);
void vg_async_send(vg_async *a);     /* thread-safe, coalescing */
void vg_async_free(vg_async *a);

/* Run until vg_loop_stop. Returns 0, or a negative errno if epoll fails. */
int vg_loop_run(vg_loop *loop);
void vg_loop_stop(vg_loop *loop);     /* thread-safe */

/* Monotonic milliseconds, cached per iteration. */
uint64_t vg_loop_now_ms(vg_loop *loop);
/* Monotonic clock read now, in milliseconds. */
uint64_t vg_now_ms(void);
/* Wall clock now, in seconds (float). */
double vg_wall_s(void);

/* Count of loop iterations; the heartbeat liveness checks look at. */
uint64_t vg_loop_iterations(vg_loop *loop);

#endif
