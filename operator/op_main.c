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

#include "vg_app.h"

static const vg_opt_def op_opts[] = {
    {"kubeconfig", VG_OPT_STRING, NULL, "Path to a kubeconfig file (in-cluster config when empty; KUBECONFIG is honoured)", 0},
    {"context", VG_OPT_STRING, NULL, "kubeconfig context to use (default: current-context)", 0},
};

/* The operator's state: what readiness reports until the API is reachable. */
typedef struct op {
    vg_app *app;
    vg_scrape *scrape;
    char api_problem[512];   /* why the Kubernetes API is not usable, "" when fine */
} op;

static bool check_api(void *ud, char *why, size_t whylen)
{
    op *o = ud;
    if (o->api_problem[0]) {
        snprintf(why, whylen, "%s", o->api_problem);
        return false;
    }
    return true;
}

static int metrics_handler(vg_http_req *req, void *ud)
{
    op *o = ud;
    vg_scrape_reset(o->scrape);
    vg_app_respond_metrics(o->app, req, o->scrape, true);
    return VG_HTTP_DONE;
}

/* Find the API configuration; fills o->api_problem when there is none. */
static void probe_api_config(op *o)
{
    const vg_config *cfg = vg_app_config(o->app);
    const char *kc = vg_config_str(cfg, "kubeconfig");
    if (!kc[0])
        kc = getenv("KUBECONFIG") ? getenv("KUBECONFIG") : "";
    if (kc[0]) {
        if (access(kc, R_OK) != 0)
            snprintf(o->api_problem, sizeof o->api_problem, "kubeconfig %s: %s", kc,
                     strerror(errno));
        else
            snprintf(o->api_problem, sizeof o->api_problem,
                     "Kubernetes client not connected yet (kubeconfig %s)", kc);
    } else if (!getenv("KUBERNETES_SERVICE_HOST")) {
        snprintf(o->api_problem, sizeof o->api_problem,
                 "no Kubernetes API configured: not running in a cluster "
                 "(KUBERNETES_SERVICE_HOST unset) and no --kubeconfig");
    } else {
        snprintf(o->api_problem, sizeof o->api_problem,
                 "Kubernetes client not connected yet (in-cluster)");
    }
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
    vg_app_add_ready_check(o.app, "kubernetes-api", check_api, &o);
    probe_api_config(&o);
    if (o.api_problem[0])
        vg_log_warn(log, "operator", "not ready: Kubernetes API unavailable", "reason",
                    o.api_problem);
    vg_log_info(log, "operator", "vigil-operator started");
    code = vg_app_run(o.app);
    vg_log_info(log, "operator", "vigil-operator stopped");
out:
    vg_app_free(o.app);
    vg_scrape_free(o.scrape);
    return code;
}
