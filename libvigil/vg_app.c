/*
 * vg_app.c - config, logging, loop, signals, probes and self-metrics that
 * vigil-agent and vigil-operator share.
 *
 * Probes answer like kube-apiserver: "ok" (200) or a list of failed checks
 * (500); ?verbose lists every check as [+]name ok / [-]name failed: why;
 * ?exclude=NAME skips a check.
 */
#include "vg_app.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "vg_buf.h"
#include "vg_procself.h"
#include "vg_prom.h"

#ifndef VG_VERSION
#define VG_VERSION "dev"
#endif
#ifndef VG_REVISION
#define VG_REVISION "unknown"
#endif

#define MAX_CHECKS 16
#define MAX_TABLES 16

static const vg_opt_def shared_opts[] = {
    {"config.file", VG_OPT_STRING, NULL, "YAML configuration file (keys as the flag names, nested with '.')", VG_OPT_F_CLI_ONLY},
    {"web.listen-address", VG_OPT_STRING, NULL, "Address to serve probes and metrics on (HOST:PORT, [::1]:PORT or :PORT)", 0},
    {"web.telemetry-path", VG_OPT_STRING, "/metrics", "Path under which to expose metrics", 0},
    {"web.max-connections", VG_OPT_INT, "64", "Maximum concurrent HTTP connections; more are accepted and closed", 0},
    {"web.header-timeout", VG_OPT_DURATION, "10s", "Time a client has to send a complete request head", 0},
    {"web.idle-timeout", VG_OPT_DURATION, "60s", "Keep-alive idle timeout", 0},
    {"web.shutdown-grace", VG_OPT_DURATION, "4s", "On SIGTERM, how long in-flight requests may take to finish", 0},
    {"log.level", VG_OPT_STRING, "info", "Log level: debug, info, warn, error", VG_OPT_F_RELOADABLE},
    {"log.format", VG_OPT_STRING, "logfmt", "Log format: logfmt or json", VG_OPT_F_RELOADABLE},
};

typedef struct check {
    char name[48];
    vg_check_fn fn;
    void *ud;
} check;

typedef struct check_list {
    check items[MAX_CHECKS];
    size_t n;
    const char *kind;   /* "livez", "readyz", "healthz" */
} check_list;

typedef struct retired {
    struct retired *next;
    vg_config *cfg;
} retired;

struct vg_app {
    vg_app_spec spec;
    const vg_opt_def *tables[MAX_TABLES];
    size_t ntables[MAX_TABLES];
    size_t count;
    int argc;
    char *const *argv;

    vg_config *cfg;
    retired *old_cfgs;   /* kept: collector threads may still read them */
    vg_log log;
    vg_loop *loop;
    vg_registry *reg;
    vg_procself procself;
    vg_buf enc_buf;      /* the metrics encoder's work buffer, kept */
    vg_http_server *http;
    int sigfd;
    sigset_t sigmask;
    sigset_t oldmask;

    check_list live;
    check_list ready;
    check_list healthz;  /* a view: filled on demand from live */
    vg_reload_fn reload_fn;
    void *reload_ud;

    void *probe_ud[3][2];   /* (app, kind) per probe route */
    uint64_t last_beat_ms;
    uint64_t beat_timer;
    uint64_t stop_timer;
    uint64_t stop_deadline_ms;
    int exit_code;
    int stopping;
    vg_series *reloads_ok;
    vg_series *reloads_failed;
    vg_series *last_reload_ok;
};

static void apply_logging(vg_app *app, const vg_config *cfg)
{
    vg_log_level lvl;
    vg_log_format fmt;
    if (vg_log_level_parse(vg_config_str(cfg, "log.level"), &lvl) == 0)
        vg_log_set_level(&app->log, lvl);
    if (vg_log_format_parse(vg_config_str(cfg, "log.format"), &fmt) == 0)
        vg_log_set_format(&app->log, fmt);
}

/* Values the config loader cannot type-check (enumerations). */
static int validate(const vg_config *cfg, char *why, size_t whylen)
{
    vg_log_level lvl;
    vg_log_format fmt;
    if (vg_log_level_parse(vg_config_str(cfg, "log.level"), &lvl)) {
        snprintf(why, whylen, "invalid --log.level \"%s\" (debug, info, warn, error)",
                 vg_config_str(cfg, "log.level"));
        return -EINVAL;
    }
    if (vg_log_format_parse(vg_config_str(cfg, "log.format"), &fmt)) {
        snprintf(why, whylen, "invalid --log.format \"%s\" (logfmt, json)",
                 vg_config_str(cfg, "log.format"));
        return -EINVAL;
    }
    const char *tp = vg_config_str(cfg, "web.telemetry-path");
    if (tp[0] != '/') {
        snprintf(why, whylen, "invalid --web.telemetry-path \"%s\": must start with /", tp);
        return -EINVAL;
    }
    int64_t mc = vg_config_int(cfg, "web.max-connections");
    if (mc < 1 || mc > 65536) {
        snprintf(why, whylen, "invalid --web.max-connections %lld: 1..65536", (long long)mc);
        return -EINVAL;
    }
    return 0;
}

static int load_config(vg_app *app, vg_config **out, char *why, size_t whylen)
{
    vg_config_err err;
    vg_config *cfg = NULL;
    int rc = vg_config_load(app->tables, app->ntables, app->count, app->argc, app->argv,
                            NULL, &cfg, &err);
    if (rc) {
        snprintf(why, whylen, "%s", err.msg);
        return rc;
    }
    if (!vg_config_wants_help(cfg) && !vg_config_wants_version(cfg)) {
        rc = validate(cfg, why, whylen);
        if (rc) {
            vg_config_free(cfg);
            return rc;
        }
    }
    *out = cfg;
    return 0;
}

int vg_app_new(const vg_app_spec *spec, int argc, char *const *argv, vg_app **out)
{
    int rc = 0;
    char why[600];
    vg_app *app = calloc(1, sizeof *app);
    if (!app)
        return -ENOMEM;
    app->spec = *spec;
    app->argc = argc;
    app->argv = argv;
    app->sigfd = -1;
    app->procself.stat_fd = app->procself.fddir_fd = app->procself.statm_fd = -1;
    app->tables[0] = shared_opts;
    app->ntables[0] = sizeof shared_opts / sizeof shared_opts[0];
    app->count = 1;
    for (size_t i = 0; i < spec->count && app->count < MAX_TABLES; i++) {
        app->tables[app->count] = spec->tables[i];
        app->ntables[app->count] = spec->ntables[i];
        app->count++;
    }
    vg_log_init(&app->log, VG_LOG_INFO, VG_LOG_LOGFMT);

    rc = load_config(app, &app->cfg, why, sizeof why);
    if (rc) {
        fprintf(stderr, "%s: %s\n", spec->prog, why);
        fprintf(stderr, "Run '%s --help' for the list of options.\n", spec->prog);
        rc = -EINVAL;
        goto fail;
    }
    if (vg_config_wants_help(app->cfg)) {
        printf("Usage: %s [options]\n\n", spec->prog);
        vg_config_help(app->tables, app->ntables, app->count, spec->prog, stdout);
        rc = 1;
        goto fail;
    }
    if (vg_config_wants_version(app->cfg)) {
        printf("%s version %s (revision %s)\n", spec->prog, VG_VERSION, VG_REVISION);
        rc = 1;
        goto fail;
    }
    apply_logging(app, app->cfg);

    sigemptyset(&app->sigmask);
    sigaddset(&app->sigmask, SIGTERM);
    sigaddset(&app->sigmask, SIGINT);
    sigaddset(&app->sigmask, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &app->sigmask, &app->oldmask);
    signal(SIGPIPE, SIG_IGN);

    rc = vg_loop_new(&app->loop);
    if (rc)
        goto fail;
    rc = vg_registry_new(&app->reg);
    if (rc)
        goto fail;
    rc = vg_procself_register(app->reg, &app->procself, "/proc");
    if (rc)
        goto fail;
    vg_metric *m = vg_registry_add(app->reg, "vigil_config_reloads_total", VG_MT_COUNTER,
                                   "Configuration reloads on SIGHUP, by result.", 1,
                                   (const char *[]){"result"}, NULL, 0, 2);
    app->reloads_ok = vg_metric_with(m, (const char *[]){"success"});
    app->reloads_failed = vg_metric_with(m, (const char *[]){"failure"});
    m = vg_registry_add(app->reg, "vigil_config_last_reload_successful", VG_MT_GAUGE,
                        "Whether the last configuration reload succeeded (1 before any reload).",
                        0, NULL, NULL, 0, 1);
    app->last_reload_ok = vg_metric_series0(m);
    vg_series_set(app->last_reload_ok, 1);

    app->live.kind = "livez";
    app->ready.kind = "readyz";
    *out = app;
    return 0;
fail:
    vg_app_free(app);
    return rc;
}

vg_log *vg_app_log(vg_app *app) { return &app->log; }
vg_loop *vg_app_loop(vg_app *app) { return app->loop; }
vg_registry *vg_app_registry(vg_app *app) { return app->reg; }
vg_http_server *vg_app_http(vg_app *app) { return app->http; }
const vg_config *vg_app_config(vg_app *app) { return app->cfg; }
const char *vg_app_metrics_path(vg_app *app) { return vg_config_str(app->cfg, "web.telemetry-path"); }

static int add_check(check_list *l, const char *name, vg_check_fn fn, void *ud)
{
    if (l->n >= MAX_CHECKS)
        return -ENOSPC;
    snprintf(l->items[l->n].name, sizeof l->items[l->n].name, "%s", name);
    l->items[l->n].fn = fn;
    l->items[l->n].ud = ud;
    l->n++;
    return 0;
}

int vg_app_add_live_check(vg_app *app, const char *name, vg_check_fn fn, void *ud)
{
    return add_check(&app->live, name, fn, ud);
}

int vg_app_add_ready_check(vg_app *app, const char *name, vg_check_fn fn, void *ud)
{
    return add_check(&app->ready, name, fn, ud);
}

void vg_app_on_reload(vg_app *app, vg_reload_fn fn, void *ud)
{
    app->reload_fn = fn;
    app->reload_ud = ud;
}

/* The loop's own heartbeat: a 1 s timer; stale means the loop stalled. */
static bool check_loop(void *ud, char *why, size_t whylen)
{
    vg_app *app = ud;
    uint64_t age = vg_now_ms() - app->last_beat_ms;
    if (age > 5000) {
        snprintf(why, whylen, "event loop heartbeat is %llu ms old", (unsigned long long)age);
        return false;
    }
    return true;
}

static bool excluded(vg_http_req *req, const char *name)
{
    const char *q = vg_http_req_query(req);
    size_t n = strlen(name);
    for (const char *p = q; (p = strstr(p, "exclude=")) != NULL; p += 8) {
        if ((p == q || p[-1] == '&') && strncmp(p + 8, name, n) == 0 &&
            (p[8 + n] == '\0' || p[8 + n] == '&'))
            return true;
    }
    return false;
}

static int probe_handler(vg_http_req *req, void *ud)
{
    vg_app *app = ((void **)ud)[0];
    const char *kind = ((void **)ud)[1];
    bool verbose = vg_http_req_has_param(req, "verbose");
    vg_buf body = VG_BUF_INIT;
    bool ok = true;
    const check_list *lists[2] = {NULL, NULL};
    if (strcmp(kind, "readyz") == 0) {
        lists[0] = &app->live;
        lists[1] = &app->ready;
    } else {
        lists[0] = &app->live;
    }
    vg_buf_puts(&body, "[+]ping ok\n");
    for (int li = 0; li < 2; li++) {
        if (!lists[li])
            continue;
        for (size_t i = 0; i < lists[li]->n; i++) {
            const check *c = &lists[li]->items[i];
            if (excluded(req, c->name)) {
                vg_buf_printf(&body, "[+]%s excluded: ok\n", c->name);
                continue;
            }
            char why[256] = "";
            if (c->fn(c->ud, why, sizeof why)) {
                vg_buf_printf(&body, "[+]%s ok\n", c->name);
            } else {
                ok = false;
                vg_buf_printf(&body, "[-]%s failed: %s\n", c->name, why[0] ? why : "reason withheld");
            }
        }
    }
    int status = ok ? 200 : 500;
    if (ok && !verbose) {
        vg_buf_reset(&body);
        vg_buf_puts(&body, "ok");
    } else {
        vg_buf_printf(&body, "%s check %s\n", kind, ok ? "passed" : "failed");
    }
    vg_http_req_respond(req, status, "text/plain; charset=utf-8",
                        "Cache-Control: no-cache, private\r\nX-Content-Type-Options: nosniff\r\n",
                        body.data, body.len, 0);
    vg_buf_release(&body);
    return VG_HTTP_DONE;
}

static void beat(vg_loop *loop, uint64_t id, void *ud)
{
    vg_app *app = ud;
    app->last_beat_ms = vg_now_ms();
}

int vg_app_listen(vg_app *app)
{
    int rc;
    const char *listen = vg_config_str(app->cfg, "web.listen-address");
    if (!listen[0])
        listen = app->spec.default_listen;
    vg_http_opts o = {0};
    o.listen = listen;
    o.max_conns = (unsigned)vg_config_int(app->cfg, "web.max-connections");
    o.header_timeout_ms = (unsigned)(vg_config_duration(app->cfg, "web.header-timeout") * 1000);
    o.idle_timeout_ms = (unsigned)(vg_config_duration(app->cfg, "web.idle-timeout") * 1000);
    rc = vg_http_server_new(app->loop, &o, app->reg, &app->log, &app->http);
    if (rc) {
        vg_log_error(&app->log, app->spec.component, "cannot listen", "address", listen,
                     "err", strerror(-rc));
        return rc;
    }
    add_check(&app->live, "loop", check_loop, app);
    static const char *const kinds[3] = {"healthz", "livez", "readyz"};
    for (int i = 0; i < 3; i++) {
        app->probe_ud[i][0] = app;
        app->probe_ud[i][1] = (void *)kinds[i];
        char path[16];
        snprintf(path, sizeof path, "/%s", kinds[i]);
        rc = vg_http_server_route(app->http, path, kinds[i], probe_handler, app->probe_ud[i]);
        if (rc)
            return rc;
    }
    app->last_beat_ms = vg_now_ms();
    vg_loop_timer_add(app->loop, 1000, true, beat, app, &app->beat_timer);
    char port[16];
    snprintf(port, sizeof port, "%d", vg_http_server_port(app->http));
    vg_log_info(&app->log, app->spec.component, "listening", "address", listen, "port", port);
    return 0;
}

static void shutdown_tick(vg_loop *loop, uint64_t id, void *ud)
{
    vg_app *app = ud;
    size_t inflight = app->http ? vg_http_server_inflight(app->http) : 0;
    if (inflight == 0 || vg_now_ms() >= app->stop_deadline_ms) {
        if (inflight) {
            char n[24];
            snprintf(n, sizeof n, "%zu", inflight);
            vg_log_warn(&app->log, app->spec.component,
                        "shutdown grace expired with requests in flight", "requests", n);
        }
        vg_loop_timer_cancel(loop, app->stop_timer);
        vg_loop_stop(loop);
    }
}

static void begin_shutdown(vg_app *app, const char *why)
{
    if (app->stopping)
        return;
    app->stopping = 1;
    vg_log_info(&app->log, app->spec.component, "shutting down", "reason", why);
    if (app->http)
        vg_http_server_stop_accepting(app->http);
    app->stop_deadline_ms =
        vg_now_ms() + (uint64_t)(vg_config_duration(app->cfg, "web.shutdown-grace") * 1000);
    vg_loop_timer_add(app->loop, 20, true, shutdown_tick, app, &app->stop_timer);
    shutdown_tick(app->loop, 0, app);
}

static void reload(vg_app *app)
{
    char why[600];
    vg_config *ncfg = NULL;
    int rc = load_config(app, &ncfg, why, sizeof why);
    if (rc) {
        vg_series_inc(app->reloads_failed);
        vg_series_set(app->last_reload_ok, 0);
        vg_log_error(&app->log, app->spec.component, "config reload failed, keeping the old config",
                     "err", why);
        return;
    }
    if (app->reload_fn)
        app->reload_fn(app, ncfg, app->reload_ud);
    apply_logging(app, ncfg);
    retired *r = malloc(sizeof *r);
    if (r) {
        r->cfg = app->cfg;
        r->next = app->old_cfgs;
        app->old_cfgs = r;
    } /* else: leak the old config rather than free what a thread may read */
    app->cfg = ncfg;
    vg_series_inc(app->reloads_ok);
    vg_series_set(app->last_reload_ok, 1);
    const char *f = vg_config_file(ncfg);
    vg_log_info(&app->log, app->spec.component, "config reloaded", "file", f ? f : "");
}

static void on_signal(vg_loop *loop, int fd, unsigned events, void *ud)
{
    vg_app *app = ud;
    struct signalfd_siginfo si;
    while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGHUP)
            reload(app);
        else
            begin_shutdown(app, si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
    }
}

int vg_app_run(vg_app *app)
{
    app->sigfd = signalfd(-1, &app->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (app->sigfd < 0) {
        vg_log_error(&app->log, app->spec.component, "signalfd failed", "err", strerror(errno));
        return 1;
    }
    vg_loop_fd_add(app->loop, app->sigfd, VG_EV_READ, on_signal, app);
    int rc = vg_loop_run(app->loop);
    if (rc) {
        vg_log_error(&app->log, app->spec.component, "event loop failed", "err", strerror(-rc));
        return 1;
    }
    return app->exit_code;
}

void vg_app_stop(vg_app *app, int exit_code)
{
    app->exit_code = exit_code;
    vg_loop_stop(app->loop);
}

void vg_app_free(vg_app *app)
{
    if (!app)
        return;
    if (app->http)
        vg_http_server_free(app->http);
    if (app->sigfd >= 0)
        close(app->sigfd);
    if (app->loop)
        vg_loop_free(app->loop);
    vg_registry_free(app->reg);
    vg_procself_release(&app->procself);
    vg_buf_release(&app->enc_buf);
    vg_config_free(app->cfg);
    while (app->old_cfgs) {
        retired *n = app->old_cfgs->next;
        vg_config_free(app->old_cfgs->cfg);
        free(app->old_cfgs);
        app->old_cfgs = n;
    }
    free(app);
}

/* Sink of the streamed exposition: each piece goes to the connection. */
static int metrics_piece(void *ud, const char *p, size_t n)
{
    return vg_http_stream_write(ud, p, n);
}

int vg_app_respond_metrics(vg_app *app, vg_http_req *req, vg_scrape *s, bool add_registry)
{
    if (add_registry)
        vg_registry_collect(app->reg, s);
    vg_prom_format fmt = vg_prom_negotiate(vg_http_req_header(req, "Accept"));
    /* Encoded straight into the answer in 64 KiB pieces: the exposition
     * (MBs with pod metrics) is never whole in memory. */
    vg_http_stream *w = NULL;
    int rc = vg_http_req_stream_begin(req, 200,
                                      fmt == VG_PROM_OPENMETRICS ? VG_PROM_CT_OPENMETRICS
                                                                 : VG_PROM_CT_TEXT,
                                      NULL, VG_HTTP_F_GZIP_OK, &w);
    if (rc)
        return rc;
    rc = vg_prom_encode_stream_buf(s, fmt, 64 * 1024, metrics_piece, w, &app->enc_buf);
    vg_scrape_stats st;
    vg_scrape_stats_get(s, &st);
    if (add_registry && (st.duplicates || st.conflicts || st.invalid)) {
        char d[24], c[24], i[24];
        snprintf(d, sizeof d, "%llu", (unsigned long long)st.duplicates);
        snprintf(c, sizeof c, "%llu", (unsigned long long)st.conflicts);
        snprintf(i, sizeof i, "%llu", (unsigned long long)st.invalid);
        vg_log_warn(&app->log, app->spec.component, "scrape dropped series", "duplicates", d,
                    "conflicts", c, "invalid", i);
    }
    return vg_http_stream_end(w, rc == -ECONNRESET ? 0 : rc);
}
