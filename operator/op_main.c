/*
 * op_main.c - vigil-operator: watches the Kubernetes API and reconciles
 * Vigil's scaling and restart resources.
 *
 * op_main: foundation done. This file wires the shared daemon skeleton
 * (config, probes, /metrics, signals). Without a reachable Kubernetes API
 * the operator keeps running: it serves /healthz and /metrics, reports
 * not ready on /readyz and logs why.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kube/kube_client.h"
#include "kube/kube_config.h"
#include "kube/kube_watch.h"
#include "op_informers.h"
#include "op_leader.h"
#include "op_reconcile_log.h"
#include "op_stopguard.h"
#include "op_workqueue.h"
#include "vg_app.h"

static const vg_opt_def op_opts[] = {
    {"kubeconfig", VG_OPT_STRING, NULL, "Path to a kubeconfig file (in-cluster config when empty; KUBECONFIG is honoured)", 0},
    {"context", VG_OPT_STRING, NULL, "kubeconfig context to use (default: current-context)", 0},
    {"leader-elect", VG_OPT_BOOL, "true", "Elect a leader through a coordination.k8s.io Lease before reconciling", 0},
    {"leader-election-namespace", VG_OPT_STRING, NULL, "Namespace of the leader election Lease (default: the client's namespace)", 0},
    {"leader-election-id", VG_OPT_STRING, "vigil-operator", "Name of the leader election Lease", 0},
    {"leader-election-identity", VG_OPT_STRING, NULL, "This replica's identity in the Lease (default: hostname_random)", 0},
    {"kube.watch-transport", VG_OPT_STRING, "http", "Watch transport: http (chunked) or websocket", 0},
    {"kube.ws-token-subprotocol", VG_OPT_BOOL, "false", "WebSocket watches carry the bearer token as a subprotocol instead of a header", 0},
    {"kube.qps", VG_OPT_FLOAT, "20", "Client-side rate limit on API requests (queries per second)", 0},
    {"kube.burst", VG_OPT_INT, "30", "Client-side rate limit burst", 0},
    {"kube.watch-timeout", VG_OPT_DURATION, "0s", "Watch timeoutSeconds asked of the server (0: random 5-10 min, as client-go)", 0},
    {"kube.backoff-initial", VG_OPT_DURATION, "800ms", "First wait after a failed list or watch (doubles per failure)", 0},
    {"kube.backoff-max", VG_OPT_DURATION, "30s", "Longest wait between failed lists or watches", 0},
};

/*
 * The operator's state. The HTTP server and probes run on the vg_loop
 * thread; informers, the leader elector and the reconciler run on their
 * own threads (see their headers). Readiness is read through thread-safe
 * accessors (op_informers_synced), the leader callbacks only touch
 * atomics and vg_app_stop (thread-safe).
 */
typedef struct op {
    vg_app *app;
    vg_scrape *scrape;
    char api_problem[512];   /* why the Kubernetes API is not usable, "" when fine */
    kube_config *kcfg;
    kube_client *client;
    op_wq_metrics *wqm;
    op_wq *queue;
    op_informers *infs;
    op_reconcile_log *rec;
    op_leader *leader;
    volatile int shutting_down;
} op;

static bool check_api(void *ud, char *why, size_t whylen)
{
    op *o = ud;
    if (o->api_problem[0]) {
        snprintf(why, whylen, "%s", o->api_problem);
        return false;
    }
    /* caches synced; standby replicas (not leading) are ready too */
    return o->infs ? op_informers_synced(o->infs, why, whylen) : false;
}

static int debug_informers_handler(vg_http_req *req, void *ud)
{
    op *o = ud;
    vg_buf b = VG_BUF_INIT;
    int rc = o->infs ? op_informers_debug_json(o->infs, &b) : vg_buf_puts(&b, "{\"informers\":[]}\n");
    if (rc)
        vg_http_req_respond(req, 500, "text/plain; charset=utf-8", NULL, "out of memory\n", 14, 0);
    else
        vg_http_req_respond(req, 200, "application/json", NULL, b.data, b.len, VG_HTTP_F_GZIP_OK);
    vg_buf_release(&b);
    return VG_HTTP_DONE;
}

static void on_leading(void *ud)
{
    op *o = ud;
    if (op_reconcile_log_start(o->rec))
        vg_log_error(vg_app_log(o->app), "operator", "cannot start the reconciler");
}

static void on_lost(void *ud)
{
    op *o = ud;
    if (o->shutting_down)
        return;
    /* a leader that lost its lease must stop reconciling at once and let
     * Kubernetes restart it: stop the queue, exit non-zero */
    vg_log_error(vg_app_log(o->app), "operator", "leader election lost; exiting");
    if (o->queue)
        op_wq_shutdown(o->queue);
    vg_app_stop(o->app, 1);
}

/* Build the client, informers, queue, reconciler and elector. On a
 * configuration problem, fill api_problem and leave the API parts off. */
static void start_kube(op *o)
{
    const vg_config *cfg = vg_app_config(o->app);
    vg_log *log = vg_app_log(o->app);
    vg_registry *reg = vg_app_registry(o->app);
    kube_watch_transport tr;
    if (kube_watch_transport_parse(vg_config_str(cfg, "kube.watch-transport"), &tr)) {
        snprintf(o->api_problem, sizeof o->api_problem, "--kube.watch-transport must be http or websocket, not %s",
                 vg_config_str(cfg, "kube.watch-transport"));
        return;
    }
    kube_config_opts ko = {
        .kubeconfig = vg_config_str(cfg, "kubeconfig"),
        .context = vg_config_str(cfg, "context"),
        .log = log,
    };
    char err[400] = "";
    int rc = kube_config_load(&ko, &o->kcfg, err, sizeof err);
    if (rc) {
        snprintf(o->api_problem, sizeof o->api_problem, "Kubernetes client configuration: %s",
                 err[0] ? err : strerror(-rc));
        return;
    }
    kube_client_opts co = {
        .user_agent = "vigil-operator/" VG_VERSION,
        .qps = vg_config_float(cfg, "kube.qps"),
        .burst = (int)vg_config_int(cfg, "kube.burst"),
        .reg = reg,
    };
    char ident[256];
    const char *id = vg_config_str(cfg, "leader-election-identity");
    if (!id[0]) {
        char host[200] = "vigil-operator";
        gethostname(host, sizeof host - 1);
        unsigned r = 0;
        FILE *f = fopen("/dev/urandom", "rb");
        if (f) {
            if (fread(&r, sizeof r, 1, f) != 1)
                r = (unsigned)getpid();
            fclose(f);
        }
        snprintf(ident, sizeof ident, "%s_%08x", host, r);
        id = ident;
    }
    const char *lns = vg_config_str(cfg, "leader-election-namespace");
    if (!lns[0])
        lns = kube_config_namespace(o->kcfg);
    const char *lname = vg_config_str(cfg, "leader-election-id");
    if ((rc = kube_client_new(o->kcfg, &co, &o->client)) ||
        (rc = op_wq_metrics_new(reg, &o->wqm)))
        goto fail;
    op_wq_opts qo = {.name = "log", .metrics = o->wqm, .reg = reg};
    if ((rc = op_wq_new(&qo, &o->queue)))
        goto fail;
    op_informers_opts io = {
        .client = o->client,
        .transport = tr,
        .ws_token_subprotocol = vg_config_bool(cfg, "kube.ws-token-subprotocol"),
        .lease_ns = lns,
        .lease_name = lname,
        .watch_timeout_s = vg_config_duration(cfg, "kube.watch-timeout"),
        .backoff_initial_s = vg_config_duration(cfg, "kube.backoff-initial"),
        .backoff_max_s = vg_config_duration(cfg, "kube.backoff-max"),
        .queue = o->queue,
        .log = log,
        .reg = reg,
    };
    if ((rc = op_informers_new(&io, &o->infs)) ||
        (rc = op_reconcile_log_new(o->infs, o->queue, log, reg, &o->rec)))
        goto fail;
    if (vg_config_bool(cfg, "leader-elect")) {
        op_leader_opts lo = {
            .ns = lns, .name = lname, .identity = id,
            .on_started = on_leading, .on_stopped = on_lost, .ud = o,
            .log = log, .reg = reg,
        };
        if ((rc = op_leader_new(o->client, &lo, &o->leader)))
            goto fail;
    }
    if ((rc = op_informers_start(o->infs)))
        goto fail;
    if (o->leader)
        rc = op_leader_start(o->leader);
    else
        rc = op_reconcile_log_start(o->rec);
    if (rc)
        goto fail;
    vg_log_info(log, "operator", "Kubernetes client started", "server", kube_config_server(o->kcfg), "source",
                kube_config_source(o->kcfg), "watch_transport", vg_config_str(cfg, "kube.watch-transport"),
                "leader_election", o->leader ? lname : "off", "identity", id);
    return;
fail:
    snprintf(o->api_problem, sizeof o->api_problem, "cannot start the Kubernetes client: %s", strerror(-rc));
}

/* A stop takes well under a second; the lease release may take its retry
 * period (2 s) after about a second for a renewal in flight to give up.
 * Past this the process ends anyway (op_stopguard.h says why). */
#define OP_STOP_DEADLINE_S 5.0

static void stop_kube(op *o)
{
    vg_log *log = vg_app_log(o->app);
    op_stopguard *g = NULL;
    op_stopguard_opts go = {.deadline_s = OP_STOP_DEADLINE_S, .exit_code = 1, .log = log};
    if (op_stopguard_start(&go, &g))
        vg_log_warn(log, "operator", "stopping without a deadline: cannot start its thread");
    o->shutting_down = 1;
    op_stopguard_step(g, "leader election");
    if (o->leader)
        op_leader_stop(o->leader);      /* releases the lease while the client works */
    op_stopguard_step(g, "reconciler");
    if (o->rec)
        op_reconcile_log_stop(o->rec);
    if (o->client)
        kube_client_stop(o->client);
    op_stopguard_step(g, "informers");
    if (o->infs)
        op_informers_stop(o->infs);
    op_stopguard_step(g, "freeing");
    op_leader_free(o->leader);
    op_reconcile_log_free(o->rec);
    op_informers_free(o->infs);
    op_wq_free(o->queue);
    op_wq_metrics_free(o->wqm);
    kube_client_free(o->client);
    kube_config_free(o->kcfg);
    o->leader = NULL;
    o->rec = NULL;
    o->infs = NULL;
    o->queue = NULL;
    o->client = NULL;
    o->kcfg = NULL;
    op_stopguard_end(g);
}

static int metrics_handler(vg_http_req *req, void *ud)
{
    op *o = ud;
    vg_scrape_reset(o->scrape);
    vg_app_respond_metrics(o->app, req, o->scrape, true);
    return VG_HTTP_DONE;
}


int main(int argc, char **argv)
{
    op o;
    int code = 1;
    memset(&o, 0, sizeof o);
    const vg_opt_def *tables[] = {op_opts};
    size_t ntables[] = {sizeof op_opts / sizeof op_opts[0]};
    vg_app_spec spec = {
        .prog = "vigil-operator",
        .component = "operator",
        .default_listen = ":9111",
        .tables = tables,
        .ntables = ntables,
        .count = 1,
    };
    int rc = vg_app_new(&spec, argc, argv, &o.app);
    if (rc)
        return rc == 1 ? 0 : 2;
    vg_log *log = vg_app_log(o.app);
    if (vg_scrape_new(&o.scrape)) {
        vg_log_error(log, "operator", "out of memory at start");
        goto out;
    }
    if (vg_app_listen(o.app))
        goto out;
    vg_http_server_route(vg_app_http(o.app), vg_app_metrics_path(o.app), "metrics",
                         metrics_handler, &o);
    vg_http_server_route(vg_app_http(o.app), "/debug/informers", "debug_informers",
                         debug_informers_handler, &o);
    vg_app_add_ready_check(o.app, "kubernetes-api", check_api, &o);
    start_kube(&o);
    if (o.api_problem[0])
        vg_log_warn(log, "operator", "not ready: Kubernetes API unavailable", "reason",
                    o.api_problem);
    vg_log_info(log, "operator", "vigil-operator started");
    code = vg_app_run(o.app);
    stop_kube(&o);
    vg_log_info(log, "operator", "vigil-operator stopped");
out:
    vg_app_free(o.app);
    vg_scrape_free(o.scrape);
    return code;
}
