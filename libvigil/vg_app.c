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
#define METRICS_PIECE (64u * 1024u)
/* A pausable answer stops encoding past this much queued for its socket. */
#define METRICS_QUEUE_MAX (256u * 1024u)

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

/* A /metrics answer that went on past vg_app_respond_metrics (paused). */
typedef struct metrics_answer {
    struct metrics_answer *prev, *next;
    vg_app *app;
    vg_http_stream *w;
    vg_prom_enc *enc;
    const vg_scrape *s;  /* what enc reads */
    bool pausable;       /* on the heap, may wait for its socket */
    bool linked;         /* in app->answers */
} metrics_answer;

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
    vg_buf enc_buf;      /* the metrics encoders' work buffer, kept (holds nothing between runs) */
    bool metrics_pausable;
    bool freeing;        /* in vg_app_free: no new answer may pause */
    metrics_answer *answers; /* paused or resumed answers still reading their scrape */
    vg_app_idle_fn idle_fn;
    void *idle_ud;
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
    app->freeing = true;
    /* ends the answers still going (their clients are gone now), which
     * tells the idle callback with the app still whole */
    if (app->http)
        vg_http_server_free(app->http);
    app->http = NULL;
    while (app->answers) { /* none: each heard its client go; kept against a leak */
        metrics_answer *a = app->answers;
        app->answers = a->next;
        vg_prom_enc_free(a->enc);
        vg_http_stream_end(a->w, -ECONNRESET);
        free(a);
    }
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

void vg_app_set_metrics_pausable(vg_app *app, bool on) { app->metrics_pausable = on; }

bool vg_app_metrics_busy(const vg_app *app) { return app->answers != NULL; }

bool vg_app_metrics_reading(const vg_app *app, const vg_scrape *s)
{
    for (const metrics_answer *a = app->answers; a; a = a->next)
        if (a->s == s)
            return true;
    return false;
}

void vg_app_on_metrics_idle(vg_app *app, vg_app_idle_fn fn, void *ud)
{
    app->idle_fn = fn;
    app->idle_ud = ud;
}

/* Sink of the streamed exposition: each piece goes to the connection;
 * a pausable answer stops once its socket lags this far behind. */
static int metrics_piece(void *ud, const char *p, size_t n)
{
    metrics_answer *a = ud;
    int rc = vg_http_stream_write(a->w, p, n);
    if (rc)
        return rc;
    return a->pausable && vg_http_stream_queued(a->w) > METRICS_QUEUE_MAX ? VG_PROM_PAUSE : 0;
}

static void metrics_writable(vg_http_stream *w, void *ud);

/*
 * Encode a on until it is done, fails or has to wait for its socket.
 * Returns 1 when it waits (metrics_writable goes on), else the result of
 * ending the stream (a's encoder is freed; a itself is the caller's).
 */
static int metrics_step(metrics_answer *a)
{
    int rc;
    for (;;) {
        rc = vg_prom_enc_run(a->enc, &a->app->enc_buf, metrics_piece, a);
        if (rc != VG_PROM_PAUSED)
            break;
        rc = vg_http_stream_pause(a->w, metrics_writable, a);
        if (rc == 0) {
            if (!a->linked) {
                a->linked = true;
                a->next = a->app->answers;
                if (a->next)
                    a->next->prev = a;
                a->app->answers = a;
            }
            return 1;
        }
        if (rc != -EAGAIN)
            break; /* the client is gone */
    }
    vg_prom_enc_free(a->enc);
    a->enc = NULL;
    /* a client gone is no encoding error: the stream reports it */
    return vg_http_stream_end(a->w, rc == -ECONNRESET ? 0 : rc);
}

/* The socket of a paused answer drained, or its client went away. */
static void metrics_writable(vg_http_stream *w, void *ud)
{
    metrics_answer *a = ud;
    vg_app *app = a->app;
    if (metrics_step(a) == 1)
        return;
    if (a->prev)
        a->prev->next = a->next;
    else
        app->answers = a->next;
    if (a->next)
        a->next->prev = a->prev;
    free(a);
    /* the last reader of the scrape is gone: the owner may change it now */
    if (!app->answers && app->idle_fn)
        app->idle_fn(app, app->idle_ud);
}

static void log_scrape_stats(vg_app *app, vg_scrape *s)
{
    vg_scrape_stats st;
    vg_scrape_stats_get(s, &st);
    if (!st.duplicates && !st.conflicts && !st.invalid)
        return;
    char d[24], c[24], i[24];
    snprintf(d, sizeof d, "%llu", (unsigned long long)st.duplicates);
    snprintf(c, sizeof c, "%llu", (unsigned long long)st.conflicts);
    snprintf(i, sizeof i, "%llu", (unsigned long long)st.invalid);
    vg_log_warn(&app->log, app->spec.component, "scrape dropped series", "duplicates", d,
                "conflicts", c, "invalid", i);
}

int vg_app_respond_metrics(vg_app *app, vg_http_req *req, vg_scrape *s, bool add_registry)
{
    static const char busy_msg[] = "metrics are still being sent from the last collection\n";
    if (add_registry && vg_app_metrics_reading(app, s)) {
        /* adding families would move what a paused answer reads */
        vg_log_error(&app->log, app->spec.component,
                     "metrics answer refused: the scrape is still being read (wait for idle)");
        vg_http_req_respond(req, 503, "text/plain; charset=utf-8", "Retry-After: 1\r\n", busy_msg,
                            sizeof busy_msg - 1, 0);
        return -EBUSY;
    }
    if (add_registry) {
        vg_registry_collect(app->reg, s);
        log_scrape_stats(app, s);
    }
    vg_prom_format fmt = vg_prom_negotiate(vg_http_req_header(req, "Accept"));
    /* Encoded straight into the answer in 64 KiB pieces: the exposition
     * (MBs with pod metrics) is never whole in memory. A pausable answer
     * lives on the heap: it may outlive this call. */
    metrics_answer local = {.app = app, .s = s};
    metrics_answer *a = &local;
    if (app->metrics_pausable && !app->freeing) {
        a = calloc(1, sizeof *a);
        if (a) {
            a->app = app;
            a->s = s;
            a->pausable = true;
        } else {
            a = &local; /* no memory to wait with: the whole answer now */
        }
    }
    int rc = vg_http_req_stream_begin(req, 200,
                                      fmt == VG_PROM_OPENMETRICS ? VG_PROM_CT_OPENMETRICS
                                                                 : VG_PROM_CT_TEXT,
                                      NULL, VG_HTTP_F_GZIP_OK, &a->w);
    if (!rc) {
        rc = vg_prom_enc_new(s, fmt, METRICS_PIECE, &a->enc);
        if (rc)
            rc = vg_http_stream_end(a->w, rc);
        else
            rc = metrics_step(a);
    }
    if (rc == 1)
        return 0; /* it goes on from metrics_writable */
    if (a != &local)
        free(a);
    return rc;
}
