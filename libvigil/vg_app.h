/*
 * vg_app.h - the daemon skeleton both binaries share.
 *
 * Owns what every Vigil process has: the config (flags > env > file >
 * defaults), the logger, the event loop, the HTTP server with /healthz,
 * /livez, /readyz (kube-apiserver style, ?verbose and ?exclude=NAME) and
 * the self-metrics registry (vigil_build_info, process_*). Signals arrive
 * through a signalfd on the loop: SIGTERM/SIGINT stop accepting, let
 * in-flight requests finish (at most shutdown-grace) and end the loop;
 * SIGHUP reloads the config file, keeping the old config when the new one
 * is invalid.
 *
 * Create the app before starting any thread: vg_app_new blocks SIGTERM,
 * SIGINT and SIGHUP in the calling thread so threads inherit the mask.
 */
#ifndef VG_APP_H
#define VG_APP_H

#include <stdbool.h>
#include <stddef.h>

#include "vg_config.h"
#include "vg_http.h"
#include "vg_log.h"
#include "vg_loop.h"
#include "vg_metrics.h"

typedef struct vg_app vg_app;

/* A health check: return true when healthy, else write a short reason. */
typedef bool (*vg_check_fn)(void *ud, char *why, size_t whylen);

/* Called on SIGHUP with the new, valid config before it is swapped in. */
typedef void (*vg_reload_fn)(vg_app *app, const vg_config *newcfg, void *ud);

typedef struct vg_app_spec {
    const char *prog;              /* "vigil-agent" */
    const char *component;         /* log component for app-level lines */
    const char *default_listen;    /* ":9110" */
    const vg_opt_def *const *tables; /* binary's option tables (shared ones are added) */
    const size_t *ntables;
    size_t count;
} vg_app_spec;

/*
 * Parse the config and set up logging. Returns 0 and *out on success;
 * 1 when --help or --version was handled (printed; exit 0); -EINVAL on a
 * config error (printed on stderr, exit 2); other -errno otherwise.
 * argv must outlive the app (it is re-read on reload).
 */
int vg_app_new(const vg_app_spec *spec, int argc, char *const *argv, vg_app **out);

/* Bind the HTTP server and register the probe routes. -errno on failure (logged). */
int vg_app_listen(vg_app *app);

/* Run the loop until a stop signal; returns the exit code (0 clean). */
int vg_app_run(vg_app *app);
/* Ask the loop to stop with this exit code (thread-safe). */
void vg_app_stop(vg_app *app, int exit_code);

void vg_app_free(vg_app *app);

vg_log *vg_app_log(vg_app *app);
vg_loop *vg_app_loop(vg_app *app);
vg_registry *vg_app_registry(vg_app *app);
vg_http_server *vg_app_http(vg_app *app);
const vg_config *vg_app_config(vg_app *app);

/* Checks shown under /livez (and /healthz) or /readyz. name is copied. */
int vg_app_add_live_check(vg_app *app, const char *name, vg_check_fn fn, void *ud);
int vg_app_add_ready_check(vg_app *app, const char *name, vg_check_fn fn, void *ud);

void vg_app_on_reload(vg_app *app, vg_reload_fn fn, void *ud);

/*
 * Encode s in the format the request's Accept header asks for and answer
 * (gzip when allowed), streamed in 64 KiB pieces. With add_registry, the
 * registry's families are added to s first (do it once per scrape:
 * several requests may share one collection). Used by the binaries'
 * /metrics handlers. Loop thread. Returns 0 or -errno (-ECONNRESET: the
 * client is gone); the request is consumed either way.
 *
 * By default the whole answer is encoded in this call and what the socket
 * does not take at once is queued (a slow reader costs the whole text).
 * With vg_app_set_metrics_pausable(app, true) an answer whose connection
 * has more than 256 KiB queued stops encoding and goes on when the socket
 * has taken it, so a slow reader costs at most ~256 KiB + 64 KiB of queue
 * per answer; this call then returns 0 with the answer still going, and
 * s is read after it returns. The contract that comes with it:
 *
 *  - While vg_app_metrics_busy(app) is true, every scrape passed to this
 *    function since it was last false may still be read: do not reset,
 *    change or free it (vg_app_metrics_reading tells which are), and do
 *    not pass it with add_registry (refused: the client gets 503 with
 *    Retry-After, -EBUSY). Answering more requests from the same s with
 *    add_registry false is fine: several answers may read one scrape at
 *    once. A scrape no answer reads may be collected and answered from
 *    meanwhile (a caller may keep two and alternate).
 *  - The idle callback (vg_app_on_metrics_idle) is called on the loop
 *    thread each time the last such answer ends, however it ends (done,
 *    client gone or reset, write timeout, encoding error, or the server
 *    freed by vg_app_free): busy is false by then and everything the
 *    answers held is freed. It is never called from inside this function
 *    or vg_app_set_metrics_pausable. It may reset the scrape, collect and
 *    answer waiting requests (which may pause again); it must not free
 *    the app. From vg_app_free it is called with the app still whole,
 *    its clients gone; answers begun then are not paused.
 *  - An answer that completes within this call (the socket keeps up, an
 *    HTTP/1.0 or HEAD request, a client already gone) never makes the app
 *    busy and brings no idle callback.
 *
 * Pausing is off by default because a caller that resets its scrape
 * before each collection must first wait for idle.
 */
int vg_app_respond_metrics(vg_app *app, vg_http_req *req, vg_scrape *s, bool add_registry);

/* Let metrics answers wait for slow readers (see above). Off by default. */
void vg_app_set_metrics_pausable(vg_app *app, bool on);
/* Some metrics answer is still reading its scrape (paused or going on). */
bool vg_app_metrics_busy(const vg_app *app);
/* Some metrics answer is still reading s. */
bool vg_app_metrics_reading(const vg_app *app, const vg_scrape *s);
/* fn(app, ud) when vg_app_metrics_busy turns false; one callback, NULL clears it. */
typedef void (*vg_app_idle_fn)(vg_app *app, void *ud);
void vg_app_on_metrics_idle(vg_app *app, vg_app_idle_fn fn, void *ud);

/* The telemetry path in effect (--web.telemetry-path). */
const char *vg_app_metrics_path(vg_app *app);

#endif
