/*
 * agent_main.c - vigil-agent: node, pod and GPU metrics for one node.
 *
 * Collection model: on scrape, like node_exporter, so an idle agent costs
 * nothing. A collection starts on the event loop thread and runs there as
 * long as the collectors cannot block (procfs and sysfs reads; statfs is
 * waited for a few ms at most): most scrapes are answered without waking
 * another thread. At the first collector that may block (pods, gpu, a slow
 * statfs) the rest moves to the collection thread so the event loop keeps
 * answering probes; concurrent /metrics requests join the collection in
 * flight. The collection's deadline comes
 * from X-Prometheus-Scrape-Timeout-Seconds (less a 10% margin) or
 * --web.scrape-timeout; collectors that can block (statfs) honour it, and a
 * request whose deadline passes anyway is answered 503 rather than late.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_scraper.h"
#include "collectors/pod_labels_load.h"
#include "vg_app.h"
#include "vg_prom.h"

#define MAX_PENDING 64

typedef struct pending {
    vg_http_req *req;
    uint64_t timer;
} pending;

/*
 * The collection thread and the requests waiting for it. Fields under mu
 * are shared with the thread; the rest belong to the loop thread.
 */
typedef struct agent {
    vg_app *app;
    agent_scraper *sc;
    vg_scrape *scrape;          /* written by the thread while running */
    vg_async *done;
    pthread_t thread;
    int thread_started;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    int want;                   /* a collection is requested */
    int quit;
    uint64_t started_ms;        /* 0 when idle */
    const vg_config *pending_cfg; /* reload to apply before the next collection */

    /* loop thread only */
    int running;
    int first_done;
    pending waiting[MAX_PENDING];
    size_t nwaiting;
    vg_series *timeouts;
} agent;

/* Finishes on the thread what agent_scraper_collect_loop left. */
static void *collect_thread(void *ud)
{
    agent *a = ud;
    pthread_mutex_lock(&a->mu);
    for (;;) {
        while (!a->want && !a->quit)
            pthread_cond_wait(&a->cv, &a->mu);
        if (a->quit)
            break;
        a->want = 0;
        a->started_ms = vg_now_ms();
        pthread_mutex_unlock(&a->mu);

        agent_scraper_collect_rest(a->sc, a->scrape);

        pthread_mutex_lock(&a->mu);
        a->started_ms = 0;
        vg_async_send(a->done);
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

/*
 * Start a collection on the loop thread (none is running). Returns true
 * when it completed here; false when it goes on on the collection thread
 * (on_collected answers then).
 */
static bool start_collection(agent *a, uint64_t deadline_ms)
{
    pthread_mutex_lock(&a->mu);
    const vg_config *ncfg = a->pending_cfg;
    a->pending_cfg = NULL;
    pthread_mutex_unlock(&a->mu);
    if (ncfg)
        agent_scraper_set_config(a->sc, ncfg);
    vg_scrape_reset(a->scrape);
    if (agent_scraper_collect_loop(a->sc, a->scrape, deadline_ms) == 0) {
        a->first_done = 1;
        return true;
    }
    pthread_mutex_lock(&a->mu);
    a->want = 1;
    pthread_cond_signal(&a->cv);
    pthread_mutex_unlock(&a->mu);
    a->running = 1;
    return false;
}

static void on_collected(vg_loop *loop, void *ud)
{
    agent *a = ud;
    a->running = 0;
    a->first_done = 1;
    for (size_t i = 0; i < a->nwaiting; i++) {
        vg_loop_timer_cancel(loop, a->waiting[i].timer);
        /* the registry's families are added to the scrape once */
        vg_app_respond_metrics(a->app, a->waiting[i].req, a->scrape, i == 0);
    }
    a->nwaiting = 0;
}

static const char timeout_msg[] = "collection did not finish within the scrape timeout\n";

static void on_request_timeout(vg_loop *loop, uint64_t id, void *ud)
{
    agent *a = ud;
    for (size_t i = 0; i < a->nwaiting; i++) {
        if (a->waiting[i].timer != id)
            continue;
        vg_http_req_respond(a->waiting[i].req, 503, "text/plain; charset=utf-8", NULL,
                            timeout_msg, sizeof timeout_msg - 1, 0);
        vg_series_inc(a->timeouts);
        a->waiting[i] = a->waiting[--a->nwaiting];
        vg_log_warn(vg_app_log(a->app), "agent", "scrape answered 503: collection too slow");
        return;
    }
}

static uint64_t request_budget_ms(agent *a, vg_http_req *req)
{
    double secs = vg_config_duration(vg_app_config(a->app), "web.scrape-timeout");
    const char *h = vg_http_req_header(req, "X-Prometheus-Scrape-Timeout-Seconds");
    if (h) {
        char *end;
        double v = strtod(h, &end);
        if (end != h && v > 0 && v < 3600)
            secs = v;
    }
    /* keep a margin for encoding and the network */
    double ms = secs * 1000 * 0.9 - 50;
    return ms < 100 ? 100 : (uint64_t)ms;
}

static int metrics_handler(vg_http_req *req, void *ud)
{
    agent *a = ud;
    if (a->nwaiting >= MAX_PENDING) {
        static const char msg[] = "too many scrapes waiting\n";
        vg_http_req_respond(req, 503, "text/plain; charset=utf-8", "Retry-After: 1\r\n", msg,
                            sizeof msg - 1, 0);
        return VG_HTTP_DONE;
    }
    uint64_t budget = request_budget_ms(a, req);
    uint64_t now = vg_now_ms();
    if (!a->running && start_collection(a, now + budget)) {
        /* collected right here; as late as the timer below would allow */
        if (vg_now_ms() > now + budget + 200) {
            vg_http_req_respond(req, 503, "text/plain; charset=utf-8", NULL, timeout_msg,
                                sizeof timeout_msg - 1, 0);
            vg_series_inc(a->timeouts);
            vg_log_warn(vg_app_log(a->app), "agent", "scrape answered 503: collection too slow");
            return VG_HTTP_DONE;
        }
        vg_app_respond_metrics(a->app, req, a->scrape, true);
        return VG_HTTP_DONE;
    }
    pending *p = &a->waiting[a->nwaiting];
    p->req = req;
    /* the collection gets the budget; the request a little slack to receive it */
    vg_loop_timer_add(vg_app_loop(a->app), budget + 200, false, on_request_timeout, a, &p->timer);
    a->nwaiting++;
    return VG_HTTP_DEFERRED;
}

static bool check_first_collection(void *ud, char *why, size_t whylen)
{
    agent *a = ud;
    if (!a->first_done) {
        snprintf(why, whylen, "first collection not finished yet");
        return false;
    }
    return true;
}

static bool check_collector_thread(void *ud, char *why, size_t whylen)
{
    agent *a = ud;
    pthread_mutex_lock(&a->mu);
    uint64_t started = a->started_ms;
    pthread_mutex_unlock(&a->mu);
    if (started && vg_now_ms() - started > 120000) {
        snprintf(why, whylen, "a collection has been running for %llu s",
                 (unsigned long long)((vg_now_ms() - started) / 1000));
        return false;
    }
    return true;
}

static void on_reload(vg_app *app, const vg_config *ncfg, void *ud)
{
    agent *a = ud;
    pthread_mutex_lock(&a->mu);
    a->pending_cfg = ncfg;
    pthread_mutex_unlock(&a->mu);
}

static int run_once(const vg_config *cfg, vg_log *log)
{
    vg_registry *reg = NULL;
    agent_scraper *sc = NULL;
    vg_scrape *s = NULL;
    vg_buf out = VG_BUF_INIT;
    int rc = vg_registry_new(&reg);
    if (!rc)
        rc = agent_scraper_new(cfg, log, reg, &sc);
    if (!rc)
        rc = vg_scrape_new(&s);
    if (!rc) {
        double secs = vg_config_duration(cfg, "web.scrape-timeout");
        agent_scraper_collect(sc, s, vg_now_ms() + (uint64_t)(secs * 1000));
        rc = vg_prom_encode(s, VG_PROM_TEXT, &out);
    }
    if (!rc)
        fwrite(out.data, 1, out.len, stdout);
    vg_buf_release(&out);
    vg_scrape_free(s);
    agent_scraper_free(sc);
    vg_registry_free(reg);
    return rc ? 1 : 0;
}

/* A bad --pod-labels-allowlist (or no usable Kubernetes configuration for
 * it) stops the agent at start with the reason, instead of leaving the pods
 * collector failing on every scrape. */
static int check_pod_labels(const vg_config *cfg, vg_log *log)
{
    if (!vg_config_str(cfg, "pod-labels-allowlist")[0])
        return 0; /* off: the plugin is not even loaded */
    const pod_labels_ops *ops = NULL;
    pod_labels *pl = NULL;
    char err[512] = "";
    int rc = pod_labels_load(&ops, err, sizeof err);
    if (!rc)
        rc = ops->from_config(cfg, log, NULL, &pl, err, sizeof err);
    if (pl)
        ops->free(pl);
    if (rc)
        vg_log_error(log, "agent", "cannot use the pod labels setting", "err", err[0] ? err : strerror(-rc));
    return rc;
}

int main(int argc, char **argv)
{
    agent_options opts;
    agent a;
    int code = 1;
    memset(&a, 0, sizeof a);
    if (agent_options_build(&opts)) {
        fprintf(stderr, "vigil-agent: out of memory\n");
        return 1;
    }
    vg_app_spec spec = {
        .prog = "vigil-agent",
        .component = "agent",
        .default_listen = ":9110",
        .tables = opts.tables,
        .ntables = opts.ntables,
        .count = opts.count,
    };
    int rc = vg_app_new(&spec, argc, argv, &a.app);
    if (rc) {
        agent_options_release(&opts);
        return rc == 1 ? 0 : 2;
    }
    const vg_config *cfg = vg_app_config(a.app);
    vg_log *log = vg_app_log(a.app);
    if (check_pod_labels(cfg, log)) {
        code = 2;
        goto out;
    }
    if (vg_config_bool(cfg, "once")) {
        code = run_once(cfg, log);
        goto out;
    }
    pthread_mutex_init(&a.mu, NULL);
    pthread_cond_init(&a.cv, NULL);
    if (agent_scraper_new(cfg, log, vg_app_registry(a.app), &a.sc) ||
        vg_scrape_new(&a.scrape) ||
        vg_async_new(vg_app_loop(a.app), on_collected, &a, &a.done)) {
        vg_log_error(log, "agent", "out of memory at start");
        goto out;
    }
    vg_metric *m = vg_registry_add(vg_app_registry(a.app), "vigil_agent_scrape_timeouts_total",
                                   VG_MT_COUNTER,
                                   "Scrapes answered 503 because collection overran the timeout.",
                                   0, NULL, NULL, 0, 1);
    a.timeouts = vg_metric_series0(m);
    if (vg_app_listen(a.app))
        goto out;
    vg_http_server_route(vg_app_http(a.app), vg_app_metrics_path(a.app), "metrics",
                         metrics_handler, &a);
    vg_app_add_ready_check(a.app, "first-collection", check_first_collection, &a);
    vg_app_add_live_check(a.app, "collector-thread", check_collector_thread, &a);
    vg_app_on_reload(a.app, on_reload, &a);
    if (pthread_create(&a.thread, NULL, collect_thread, &a)) {
        vg_log_error(log, "agent", "cannot start the collection thread");
        goto out;
    }
    a.thread_started = 1;
    char n[24];
    snprintf(n, sizeof n, "%zu", agent_scraper_enabled(a.sc));
    vg_log_info(log, "agent", "vigil-agent started", "collectors", n);
    /* a first collection right away so /readyz turns ready without a scrape */
    start_collection(&a, vg_now_ms() +
                             (uint64_t)(vg_config_duration(cfg, "web.scrape-timeout") * 1000));
    code = vg_app_run(a.app);
    vg_log_info(log, "agent", "vigil-agent stopped");
out:
    if (a.thread_started) {
        pthread_mutex_lock(&a.mu);
        a.quit = 1;
        pthread_cond_signal(&a.cv);
        pthread_mutex_unlock(&a.mu);
        pthread_join(a.thread, NULL);
    }
    if (a.done)
        vg_async_free(a.done);
    /* collectors first: their threads (the pod labels informer) update
     * metrics in the app's registry until they are stopped */
    agent_scraper_free(a.sc);
    vg_app_free(a.app); /* detaches requests still waiting for a collection */
    for (size_t i = 0; i < a.nwaiting; i++) /* answering a detached request frees it */
        vg_http_req_respond(a.waiting[i].req, 503, "text/plain", NULL, "", 0, 0);
    vg_scrape_free(a.scrape);
    agent_options_release(&opts);
    return code;
}
