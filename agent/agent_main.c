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
 *
 * Collecting ahead (agent_ahead.h): once scrapes come at a steady interval,
 * a timer starts the collection shortly before the next scrape is due and
 * the scrape is answered from it (within --collection.ahead-max-age), so
 * the scraper waits only for the encoding. Such a collection runs whole on
 * the collection thread, which, when the last scrape accepted gzip, also
 * encodes and compresses the answer (agent_render.h): the scrape then only
 * sends it. The scrape model holds one collection; a scrape that finds it
 * already answered, too old or not made ahead collects anew.
 *
 * Answers pause while their client has 256 KiB unread (vg_app.h), so a
 * slow reader costs bounded memory but may still read the model when the
 * next collection is due: that collection then goes into a second model
 * (made the first time it is needed); only when both are being read does
 * a scrape wait for the readers to finish (or its deadline: 503), and a
 * collection ahead is skipped.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_ahead.h"
#include "agent_render.h"
#include "agent_scraper.h"
#include "collectors/pod_labels_load.h"
#include "vg_app.h"
#include "vg_gzip.h"
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
    vg_scrape *spare;           /* the other model, while answers read one */
    vg_async *done;
    pthread_t thread;
    int thread_started;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    int want;                   /* WANT_REST or WANT_AHEAD */
    int quit;
    uint64_t started_ms;        /* 0 when idle */
    const vg_config *pending_cfg; /* reload to apply before the next collection */
    /* set before WANT_AHEAD, used by the thread until it signals done */
    uint64_t ahead_deadline_ms;
    bool render_wanted;         /* compress the answer ahead ... */
    vg_prom_format render_fmt;  /* ... in this format */
    agent_render render;        /* written by the thread while running */
    vg_buf render_work;
    bool registry_in;           /* the registry's families are in the scrape */

    /* loop thread only */
    int running;
    int first_done;
    pending waiting[MAX_PENDING];
    size_t nwaiting;
    bool stopping;              /* collectors freed: collect nothing more */
    bool collect_on_idle;       /* waiting requests need a collection ... */
    uint64_t idle_deadline_ms;  /* ... with this deadline, once answers end */
    vg_series *timeouts;

    /* collecting ahead (loop thread only) */
    agent_ahead ahead;
    uint64_t ahead_timer;       /* 0: none armed */
    bool coll_ahead;            /* the running collection was started ahead */
    uint64_t coll_start_ms;     /* start of the collection in the model */
    uint64_t last_budget_ms;    /* deadline budget of the latest scrape */
    bool last_gzip;             /* the latest scrape accepted gzip ... */
    vg_prom_format last_fmt;    /* ... and asked for this format */
    vg_series *ahead_started;
    vg_series *ahead_answered;
    vg_series *ahead_stale;
    vg_series *age;
} agent;

enum { WANT_NONE = 0, WANT_REST, WANT_AHEAD };

static void set_age(agent *a)
{
    uint64_t now = vg_now_ms();
    vg_series_set(a->age, now > a->coll_start_ms ? (double)(now - a->coll_start_ms) / 1000 : 0);
}

/* A collection made ahead, on the thread: all of it, then the answer
 * compressed when the scraper takes gzip. */
static void collect_ahead(agent *a)
{
    agent_scraper_collect(a->sc, a->scrape, a->ahead_deadline_ms);
    if (!a->render_wanted)
        return;
    set_age(a);
    vg_registry_collect(vg_app_registry(a->app), a->scrape);
    a->registry_in = true;
    int rc = agent_render_make(&a->render, a->scrape, a->render_fmt, VG_GZIP_LEVEL_DEFAULT,
                               &a->render_work);
    if (rc) /* the scrape is then encoded as it comes */
        vg_log_warn(vg_app_log(a->app), "agent", "cannot compress the answer ahead", "err",
                    strerror(-rc));
}

/* Finishes on the thread what agent_scraper_collect_loop left, or makes a
 * whole collection ahead. */
static void *collect_thread(void *ud)
{
    agent *a = ud;
    pthread_mutex_lock(&a->mu);
    for (;;) {
        while (!a->want && !a->quit)
            pthread_cond_wait(&a->cv, &a->mu);
        if (a->quit)
            break;
        int want = a->want;
        a->want = WANT_NONE;
        a->started_ms = vg_now_ms();
        pthread_mutex_unlock(&a->mu);

        if (want == WANT_AHEAD)
            collect_ahead(a);
        else
            agent_scraper_collect_rest(a->sc, a->scrape);

        pthread_mutex_lock(&a->mu);
        a->started_ms = 0;
        vg_async_send(a->done);
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

/* Hand the collection thread work (none is running). */
static void wake_thread(agent *a, int want)
{
    pthread_mutex_lock(&a->mu);
    a->want = want;
    pthread_cond_signal(&a->cv);
    pthread_mutex_unlock(&a->mu);
    a->running = 1;
}

/*
 * A model no answer reads, a reload waiting, the model emptied: what every
 * collection starts with. 0, or -EBUSY (answers read both models) /
 * -ENOMEM (no second model): nothing was changed.
 */
static int begin_collection(agent *a)
{
    if (vg_app_metrics_reading(a->app, a->scrape)) {
        if (!a->spare && vg_scrape_new(&a->spare))
            return -ENOMEM;
        if (vg_app_metrics_reading(a->app, a->spare))
            return -EBUSY;
        vg_scrape *t = a->scrape;
        a->scrape = a->spare;
        a->spare = t;
    }
    pthread_mutex_lock(&a->mu);
    const vg_config *ncfg = a->pending_cfg;
    a->pending_cfg = NULL;
    pthread_mutex_unlock(&a->mu);
    if (ncfg)
        agent_scraper_set_config(a->sc, ncfg);
    vg_scrape_reset(a->scrape);
    agent_render_release(&a->render);
    a->registry_in = false;
    a->coll_start_ms = vg_now_ms();
    return 0;
}

typedef enum {
    COLL_DONE,     /* completed on the loop thread */
    COLL_THREAD,   /* goes on on the collection thread; on_collected answers */
    COLL_BLOCKED,  /* answers still read both models: try again when idle */
} coll_start;

/* Start a collection on the loop thread (none is running). */
static coll_start start_collection(agent *a, uint64_t deadline_ms)
{
    if (begin_collection(a))
        return COLL_BLOCKED;
    if (agent_scraper_collect_loop(a->sc, a->scrape, deadline_ms) == 0) {
        a->first_done = 1;
        agent_ahead_collected(&a->ahead, a->coll_start_ms, vg_now_ms(), false);
        return COLL_DONE;
    }
    wake_thread(a, WANT_REST);
    return COLL_THREAD;
}

/* Answers req from the collection in the model: the answer compressed
 * ahead when it suits the request, else encoded now (the registry's
 * families are added to the scrape once). */
static void respond(agent *a, vg_http_req *req)
{
    if (a->render.ready && vg_http_req_accepts_gzip(req) &&
        vg_prom_negotiate(vg_http_req_header(req, "Accept")) == a->render.fmt) {
        vg_http_req_respond(req, 200,
                            a->render.fmt == VG_PROM_OPENMETRICS ? VG_PROM_CT_OPENMETRICS
                                                                 : VG_PROM_CT_TEXT,
                            "Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n",
                            a->render.body.data, a->render.body.len, 0);
        return;
    }
    bool add = !a->registry_in;
    if (add)
        set_age(a);
    a->registry_in = true;
    vg_app_respond_metrics(a->app, req, a->scrape, add);
}

static void answer_waiting(agent *a)
{
    for (size_t i = 0; i < a->nwaiting; i++) {
        vg_loop_timer_cancel(vg_app_loop(a->app), a->waiting[i].timer);
        respond(a, a->waiting[i].req);
    }
    a->nwaiting = 0;
}

static void on_collected(vg_loop *loop, void *ud)
{
    (void)loop;
    agent *a = ud;
    a->running = 0;
    a->first_done = 1;
    agent_ahead_collected(&a->ahead, a->coll_start_ms, vg_now_ms(),
                          a->coll_ahead && a->nwaiting == 0);
    answer_waiting(a);
}

/* The last answer reading a model ended: collect for the requests that
 * found both models read. */
static void on_metrics_idle(vg_app *app, void *ud)
{
    (void)app;
    agent *a = ud;
    if (!a->collect_on_idle || a->running || a->stopping)
        return;
    a->collect_on_idle = false;
    if (!a->nwaiting)
        return; /* they timed out meanwhile */
    if (start_collection(a, a->idle_deadline_ms) == COLL_DONE)
        answer_waiting(a);
}

static const char timeout_msg[] = "collection did not finish within the scrape timeout\n";
static const char blocked_msg[] =
    "answers to slow readers still held both scrape models at the scrape timeout\n";

static void on_request_timeout(vg_loop *loop, uint64_t id, void *ud)
{
    agent *a = ud;
    for (size_t i = 0; i < a->nwaiting; i++) {
        if (a->waiting[i].timer != id)
            continue;
        /* blocked: the collection never started, slow readers held both models */
        bool blocked = a->collect_on_idle && !a->running;
        const char *msg = blocked ? blocked_msg : timeout_msg;
        vg_http_req_respond(a->waiting[i].req, 503, "text/plain; charset=utf-8", NULL, msg,
                            strlen(msg), 0);
        vg_series_inc(a->timeouts);
        a->waiting[i] = a->waiting[--a->nwaiting];
        vg_log_warn(vg_app_log(a->app), "agent",
                    blocked ? "scrape answered 503: slow readers still hold both scrape models"
                            : "scrape answered 503: collection too slow");
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

static uint64_t ahead_max_age_ms(agent *a)
{
    double secs = vg_config_duration(vg_app_config(a->app), "collection.ahead-max-age");
    return secs > 0 ? (uint64_t)(secs * 1000) : 0;
}

static void on_ahead_timer(vg_loop *loop, uint64_t id, void *ud)
{
    (void)loop;
    (void)id;
    agent *a = ud;
    a->ahead_timer = 0;
    if (a->running)
        return; /* a scrape came early and is being collected for */
    if (begin_collection(a))
        return; /* slow readers hold both models: the scrape will collect */
    vg_series_inc(a->ahead_started);
    a->coll_ahead = true;
    a->ahead_deadline_ms = a->coll_start_ms + a->last_budget_ms;
    a->render_wanted = a->last_gzip;
    a->render_fmt = a->last_fmt;
    wake_thread(a, WANT_AHEAD);
}

/* (Re)arm the timer for the next collection ahead, if the cadence allows. */
static void schedule_ahead(agent *a)
{
    vg_loop *loop = vg_app_loop(a->app);
    if (a->ahead_timer) {
        vg_loop_timer_cancel(loop, a->ahead_timer);
        a->ahead_timer = 0;
    }
    uint64_t due = agent_ahead_due(&a->ahead);
    uint64_t now = vg_now_ms();
    if (due && due > now)
        vg_loop_timer_add(loop, due - now, false, on_ahead_timer, a, &a->ahead_timer);
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
    a->last_budget_ms = budget;
    a->last_gzip = vg_http_req_accepts_gzip(req);
    a->last_fmt = vg_prom_negotiate(vg_http_req_header(req, "Accept"));
    agent_ahead_set_max_age(&a->ahead, ahead_max_age_ms(a));
    agent_ahead_verdict v = agent_ahead_scrape(&a->ahead, now, a->running);
    schedule_ahead(a);
    if (v == AGENT_AHEAD_TAKE) {
        vg_series_inc(a->ahead_answered);
        respond(a, req);
        return VG_HTTP_DONE;
    }
    if (v == AGENT_AHEAD_STALE) {
        vg_series_inc(a->ahead_stale);
        vg_log_debug(vg_app_log(a->app), "agent", "collection made ahead went stale; collecting");
    }
    if (a->running && a->coll_ahead)
        vg_series_inc(a->ahead_answered); /* joins the collection made ahead */
    a->coll_ahead = a->running && a->coll_ahead;
    coll_start cs = a->running ? COLL_THREAD : start_collection(a, now + budget);
    if (cs == COLL_BLOCKED && !a->collect_on_idle) {
        a->collect_on_idle = true;
        a->idle_deadline_ms = now + budget;
    }
    if (cs == COLL_DONE) {
        /* collected right here; as late as the timer below would allow */
        if (vg_now_ms() > now + budget + 200) {
            vg_http_req_respond(req, 503, "text/plain; charset=utf-8", NULL, timeout_msg,
                                sizeof timeout_msg - 1, 0);
            vg_series_inc(a->timeouts);
            vg_log_warn(vg_app_log(a->app), "agent", "scrape answered 503: collection too slow");
            return VG_HTTP_DONE;
        }
        respond(a, req);
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
    agent_render_init(&a.render);
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
                                   "Scrapes answered 503 because no collection was ready within the scrape timeout (too slow, or slow readers held both scrape models).",
                                   0, NULL, NULL, 0, 1);
    a.timeouts = vg_metric_series0(m);
    vg_registry *reg = vg_app_registry(a.app);
    a.ahead_started = vg_metric_series0(vg_registry_add(
        reg, "vigil_agent_collections_ahead_total", VG_MT_COUNTER,
        "Collections started ahead of a scrape expected at the steady scrape interval.", 0, NULL,
        NULL, 0, 1));
    a.ahead_answered = vg_metric_series0(vg_registry_add(
        reg, "vigil_agent_scrapes_answered_ahead_total", VG_MT_COUNTER,
        "Scrapes answered from (or joining) a collection started ahead of them.", 0, NULL, NULL,
        0, 1));
    a.ahead_stale = vg_metric_series0(vg_registry_add(
        reg, "vigil_agent_collections_ahead_stale_total", VG_MT_COUNTER,
        "Collections made ahead that no scrape took within --collection.ahead-max-age (collected again).",
        0, NULL, NULL, 0, 1));
    a.age = vg_metric_series0(vg_registry_add(
        reg, "vigil_agent_collection_age_seconds", VG_MT_GAUGE,
        "Time from the start of the collection this answer carries to the answer.", 0, NULL, NULL,
        0, 1));
    agent_ahead_init(&a.ahead, ahead_max_age_ms(&a));
    a.last_budget_ms = (uint64_t)(vg_config_duration(cfg, "web.scrape-timeout") * 1000);
    if (vg_app_listen(a.app))
        goto out;
    vg_http_server_route(vg_app_http(a.app), vg_app_metrics_path(a.app), "metrics",
                         metrics_handler, &a);
    vg_app_add_ready_check(a.app, "first-collection", check_first_collection, &a);
    vg_app_add_live_check(a.app, "collector-thread", check_collector_thread, &a);
    vg_app_on_reload(a.app, on_reload, &a);
    vg_app_set_metrics_pausable(a.app, true);
    vg_app_on_metrics_idle(a.app, on_metrics_idle, &a);
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
    a.stopping = true; /* vg_app_free may call on_metrics_idle */
    agent_scraper_free(a.sc);
    vg_app_free(a.app); /* detaches requests still waiting for a collection */
    for (size_t i = 0; i < a.nwaiting; i++) /* answering a detached request frees it */
        vg_http_req_respond(a.waiting[i].req, 503, "text/plain", NULL, "", 0, 0);
    vg_scrape_free(a.scrape);
    vg_scrape_free(a.spare);
    agent_render_release(&a.render);
    vg_buf_release(&a.render_work);
    agent_options_release(&opts);
    return code;
}
