/*
 * kubesim_main.c - kubesim, a Kubernetes API server for tests.
 *
 *   kubesim --listen=127.0.0.1:PORT --kubeconfig-out=FILE [--scenario=FILE]
 *           [--seed=N] [--token-file-out=FILE] [--load nodes=N,pods=N,churn=N] ...
 *
 * Design: an own HTTPS server (blocking OpenSSL, one thread per
 * connection) rather than libwebsockets. Fault injection has to control
 * the exact bytes on the wire — split an event over chunks, cut a TLS
 * connection in the middle of a chunk, answer a WebSocket upgrade with a
 * precise status — and kube's watch is a long-lived streaming response;
 * both are awkward through libwebsockets' callback and buffering model
 * but straight-line code on an SSL*. WebSocket framing (RFC 6455, server
 * side, text frames) is small enough to own.
 *
 * See docs/kubesim.md for what is implemented and how it differs from
 * kube-apiserver.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ks_ctrl.h"
#include "ks_fault.h"
#include "ks_load.h"
#include "ks_scenario.h"
#include "ks_server.h"
#include "ks_sim.h"
#include "ks_ops.h"
#include "ks_tls.h"
#include "ks_types.h"
#include "vg_log.h"

static ks_sim *g_sim; /* only for the signal handler to set stop */

static void on_signal(int sig)
{
    (void)sig;
    if (g_sim)
        g_sim->stop = 1;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: kubesim --listen=HOST:PORT --kubeconfig-out=FILE [options]\n"
            "  --scenario=FILE          world script (YAML), see docs/kubesim.md\n"
            "  --seed=N                 seed for random faults, uids and names\n"
            "  --token-file-out=FILE    write the bearer token here (kubeconfig uses tokenFile)\n"
            "  --token-grace=SECONDS    old token validity after rotation (default 10)\n"
            "  --nodes=N                nodes created when no scenario/load (default 2)\n"
            "  --pod-start-ms=MS        Pending -> Running delay (default 200)\n"
            "  --pod-ready-ms=MS        Running -> Ready delay (default 300)\n"
            "  --pod-delete-ms=MS       graceful pod deletion time (default 200)\n"
            "  --history=N              watch history events kept (default 10000)\n"
            "  --continue-ttl=SECONDS   continue token lifetime (default 300)\n"
            "  --too-large-wait-ms=MS   wait for a future RV before 504 (default 3000)\n"
            "  --bookmark-ms=MS         idle time before a watch bookmark (default 5000)\n"
            "  --load=nodes=N,pods=N,churn=N[,namespaces=N]  load mode\n"
            "  --state-dir=DIR          keep CA, certificates and token in DIR: a restart\n"
            "                           with the same DIR serves the same credentials\n"
            "  --log-level=debug|info|warn|error\n");
}

static const char *opt(const char *arg, const char *name)
{
    size_t n = strlen(name);
    if (!strncmp(arg, name, n) && arg[n] == '=')
        return arg + n + 1;
    return NULL;
}

static int num(const char *v, long long lo, long long hi, long long *out)
{
    char *e = NULL;
    long long x = strtoll(v, &e, 10);
    if (!*v || *e || x < lo || x > hi)
        return -EINVAL;
    *out = x;
    return 0;
}

int main(int argc, char **argv)
{
    static ks_sim sim;
    ks_sim *s = &sim;
    vg_log log;
    vg_log_init(&log, VG_LOG_INFO, VG_LOG_LOGFMT);
    memset(s, 0, sizeof *s);
    s->log = &log;
    snprintf(s->host, sizeof s->host, "127.0.0.1");
    s->pod_start_ms = 200;
    s->pod_ready_ms = 300;
    s->pod_delete_ms = 200;
    s->too_large_wait_ms = 3000;
    s->continue_ttl_s = 300;
    s->token_grace_s = 10;
    s->bookmark_ms = 5000;
    long long nodes = 2, history = 10000, seed = 0;
    const char *scenario = NULL, *load = NULL, *state_dir = NULL;
    char err[512];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        long long x;
        /* allow "--opt value" too */
        char joined[2048];
        if (!strncmp(a, "--", 2) && !strchr(a, '=') && i + 1 < argc && strcmp(a, "--help") && strcmp(a, "-h")) {
            snprintf(joined, sizeof joined, "%s=%s", a, argv[i + 1]);
            a = joined;
            i++;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if ((v = opt(a, "--listen"))) {
            const char *colon = strrchr(v, ':');
            if (!colon || num(colon + 1, 0, 65535, &x)) {
                fprintf(stderr, "kubesim: --listen needs HOST:PORT\n");
                return 2;
            }
            snprintf(s->host, sizeof s->host, "%.*s", (int)(colon - v), v);
            if (s->host[0] == '[') {
                memmove(s->host, s->host + 1, strlen(s->host));
                char *rb = strchr(s->host, ']');
                if (rb)
                    *rb = 0;
            }
            s->port = (int)x;
        } else if ((v = opt(a, "--kubeconfig-out"))) {
            snprintf(s->kubeconfig, sizeof s->kubeconfig, "%s", v);
        } else if ((v = opt(a, "--token-file-out"))) {
            snprintf(s->token_file, sizeof s->token_file, "%s", v);
        } else if ((v = opt(a, "--state-dir"))) {
            state_dir = v;
        } else if ((v = opt(a, "--scenario"))) {
            scenario = v;
        } else if ((v = opt(a, "--load"))) {
            load = v;
        } else if ((v = opt(a, "--log-level"))) {
            vg_log_level lv;
            if (vg_log_level_parse(v, &lv)) {
                fprintf(stderr, "kubesim: bad --log-level\n");
                return 2;
            }
            vg_log_set_level(&log, lv);
        } else {
            struct {
                const char *name;
                long long lo, hi;
                long long *dst;
                int *idst;
            } nums[] = {
                {"--seed", 0, (long long)9e18, &seed, NULL},
                {"--nodes", 0, 100000, &nodes, NULL},
                {"--history", 10, 10000000, &history, NULL},
                {"--token-grace", 0, 86400, NULL, &s->token_grace_s},
                {"--pod-start-ms", 0, 3600000, NULL, &s->pod_start_ms},
                {"--pod-ready-ms", 0, 3600000, NULL, &s->pod_ready_ms},
                {"--pod-delete-ms", 0, 3600000, NULL, &s->pod_delete_ms},
                {"--continue-ttl", 0, 86400, NULL, &s->continue_ttl_s},
                {"--too-large-wait-ms", 0, 600000, NULL, &s->too_large_wait_ms},
                {"--bookmark-ms", 10, 3600000, NULL, &s->bookmark_ms},
            };
            int found = 0;
            for (size_t k = 0; k < sizeof nums / sizeof nums[0] && !found; k++) {
                if (!(v = opt(a, nums[k].name)))
                    continue;
                found = 1;
                if (num(v, nums[k].lo, nums[k].hi, &x)) {
                    fprintf(stderr, "kubesim: %s: number in [%lld, %lld] expected\n", nums[k].name, nums[k].lo, nums[k].hi);
                    return 2;
                }
                if (nums[k].dst)
                    *nums[k].dst = x;
                else
                    *nums[k].idst = (int)x;
            }
            if (!found) {
                fprintf(stderr, "kubesim: unknown argument %s\n", argv[i]);
                usage(stderr);
                return 2;
            }
        }
    }
    s->seed = seed ? (uint64_t)seed : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    ks_scenario sc;
    memset(&sc, 0, sizeof sc);
    if (scenario) {
        if (ks_scenario_load(&sc, s, scenario, err, sizeof err)) {
            fprintf(stderr, "kubesim: %s\n", err);
            return 2;
        }
        size_t h = (size_t)history;
        ks_scenario_settings(&sc, &h);
        history = (long long)h;
    }
    ks_load ld;
    memset(&ld, 0, sizeof ld);
    if (load) {
        if (ks_load_parse(&ld, load, err, sizeof err)) {
            fprintf(stderr, "kubesim: %s\n", err);
            return 2;
        }
        s->load_mode = 1;
        if (history == 10000)
            history = 250000;
    }
    signal(SIGPIPE, SIG_IGN);
    g_sim = s;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    if (ks_store_init(&s->st, (size_t)history, s->seed)) {
        fprintf(stderr, "kubesim: out of memory\n");
        return 1;
    }
    ks_faults_init(&s->faults, s->seed);
    pthread_mutex_init(&s->auth_mu, NULL);
    s->started = time(NULL);
    /* a restart with --state-dir keeps the credentials, loses everything else */
    int have_state = state_dir && ks_pki_load(&s->pki, state_dir) == 0;
    if ((!have_state && (ks_pki_init(&s->pki, s->host) || (state_dir && ks_pki_save(&s->pki, state_dir)))) ||
        !(s->ssl = ks_pki_server_ctx(&s->pki))) {
        fprintf(stderr, "kubesim: certificate generation failed\n");
        return 1;
    }
    int rc = ks_server_listen(s);
    if (rc) {
        fprintf(stderr, "kubesim: cannot listen on %s:%d: %s\n", s->host, s->port, strerror(-rc));
        return 1;
    }
    pthread_mutex_lock(&s->st.mu);
    ks_types_register_builtin_locked(&s->st);
    ks_rtype *nst = ks_store_type_locked(&s->st, "", "v1", "namespaces");
    const char *defns[] = {"default", "kube-system", "kube-public", "kube-node-lease"};
    for (int i = 0; i < 4; i++) {
        json_object *ns = json_object_new_object();
        json_object *md = json_object_new_object();
        json_object_object_add(md, "name", json_object_new_string(defns[i]));
        json_object_object_add(ns, "metadata", md);
        json_object *out;
        ks_err e;
        ks_ops_create_locked(s, nst, NULL, ns, "kube-apiserver", &out, &e);
    }
    if (!scenario && !load)
        for (long long i = 1; i <= nodes; i++) {
            char nm[64];
            snprintf(nm, sizeof nm, "kubesim-node-%lld", i);
            ks_ctrl_add_node_locked(s, nm, NULL, 1);
        }
    pthread_mutex_unlock(&s->st.mu);
    char saved_tok[80] = "", tokpath[1100] = "";
    if (state_dir) {
        snprintf(tokpath, sizeof tokpath, "%s/token", state_dir);
        FILE *tf = have_state ? fopen(tokpath, "r") : NULL;
        if (tf) {
            if (!fgets(saved_tok, sizeof saved_tok, tf))
                saved_tok[0] = 0;
            saved_tok[strcspn(saved_tok, "\r\n")] = 0;
            fclose(tf);
        }
    }
    if (ks_sim_set_token(s, saved_tok[0] ? saved_tok : NULL) || ks_sim_write_kubeconfig(s)) {
        fprintf(stderr, "kubesim: cannot write kubeconfig %s or token file\n", s->kubeconfig);
        return 1;
    }
    if (state_dir && !saved_tok[0]) {
        FILE *tf = fopen(tokpath, "w");
        int bad = !tf || fprintf(tf, "%s\n", s->token) < 0;
        if ((tf && fclose(tf)) || bad) {
            fprintf(stderr, "kubesim: cannot write %s\n", tokpath);
            return 1;
        }
    }
    ks_ctrl ctrl;
    if (ks_ctrl_start(&ctrl, s, load ? 1000 : 50)) {
        fprintf(stderr, "kubesim: cannot start controllers\n");
        return 1;
    }
    if (scenario && ks_scenario_start(&sc, err, sizeof err)) {
        fprintf(stderr, "kubesim: %s\n", err);
        s->stop = 1;
        ks_ctrl_stop(&ctrl);
        return 2;
    }
    if (load && ks_load_start(&ld, s)) {
        fprintf(stderr, "kubesim: load mode failed to start\n");
        return 1;
    }
    char port[16];
    snprintf(port, sizeof port, "%d", s->port);
    vg_log_info(&log, "kubesim", "serving", "host", s->host, "port", port, "kubeconfig", s->kubeconfig);
    ks_server_run(s);
    vg_log_info(&log, "kubesim", "stopping");
    ks_load_stop(&ld);
    ks_scenario_stop(&sc);
    ks_ctrl_stop(&ctrl);
    /* ks_server_run joined the connection threads it could (one stuck past
     * its 3 s wait may still hold the store), so the store is left to the
     * process exit rather than torn down */
    return 0;
}
