/*
 * kube_informer.c - the reflector loop (list/stream-list, watch, resume,
 * relist, backoff) feeding a kube_store and handlers.
 */
#include "kube_informer.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kube_status.h"

#define RV_MAX 64

struct kube_informer {
    kube_client *c;
    kube_informer_opts o;
    char *name, *ns, *lsel, *fsel;
    kube_store *store;
    kube_objdec *dec;
    pthread_t thread;
    bool running;
    volatile int cancel;
    pthread_mutex_t mu;      /* stats, sleeping */
    pthread_cond_t cond;
    kube_informer_stats st;
    atomic_bool synced;
    unsigned seed;

    /* reflector state (informer thread only) */
    char rv[RV_MAX];         /* last seen RV */
    uint64_t pending_events; /* not yet added to st.events */
    bool need_list;
    int list_mode;           /* 0: RV "0", 1: last RV, 2: unset */
    bool streaming_off;      /* server refused sendInitialEvents */
    kube_store *building;    /* initial events of a streaming list */
    double sync_start;
    double backoff;
    double last_fail;
};

static const char *const reason_names[] = {"closed", "expired", "too_large", "throttled", "server_error",
                                           "unauthorized", "network", "decode", "short"};

const char *kube_restart_reason_name(kube_restart_reason r)
{
    return (unsigned)r < KUBE_RESTART_COUNT ? reason_names[r] : "unknown";
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *dupnull(const char *s) { return s ? strdup(s) : NULL; }

int kube_informer_new(kube_client *c, const kube_informer_opts *o, kube_informer **out)
{
    if (!o->gvr || !o->name)
        return -EINVAL;
    kube_informer *inf = calloc(1, sizeof *inf);
    if (!inf)
        return -ENOMEM;
    inf->c = c;
    inf->o = *o;
    inf->name = strdup(o->name);
    inf->ns = dupnull(o->ns);
    inf->lsel = dupnull(o->label_selector);
    inf->fsel = dupnull(o->field_selector);
    inf->o.name = inf->name;
    inf->o.ns = inf->ns;
    inf->o.label_selector = inf->lsel;
    inf->o.field_selector = inf->fsel;
    if (!inf->o.page_size)
        inf->o.page_size = 500;
    if (!inf->o.watch_min_s)
        inf->o.watch_min_s = 300;
    if (!inf->o.watch_max_s || inf->o.watch_max_s < inf->o.watch_min_s)
        inf->o.watch_max_s = inf->o.watch_min_s > 600 ? inf->o.watch_min_s : 600;
    if (inf->o.backoff_initial_s <= 0)
        inf->o.backoff_initial_s = 0.8;
    if (inf->o.backoff_max_s <= 0)
        inf->o.backoff_max_s = 30;
    if (inf->o.backoff_reset_s <= 0)
        inf->o.backoff_reset_s = 120;
    inf->backoff = inf->o.backoff_initial_s;
    inf->seed = (unsigned)(time(NULL) ^ (uintptr_t)inf);
    inf->need_list = true;
    pthread_mutex_init(&inf->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&inf->cond, &ca);
    pthread_condattr_destroy(&ca);
    int rc = -ENOMEM;
    if (!inf->name || (o->ns && !inf->ns) || (o->label_selector && !inf->lsel) ||
        (o->field_selector && !inf->fsel))
        goto fail;
    if ((rc = kube_store_new(&inf->store)) || (rc = kube_objdec_new(&inf->dec)))
        goto fail;
    *out = inf;
    return 0;
fail:
    kube_informer_free(inf);
    return rc;
}

bool kube_informer_synced(kube_informer *inf) { return atomic_load(&inf->synced); }
const char *kube_informer_name(const kube_informer *inf) { return inf->name; }
kube_store *kube_informer_store(kube_informer *inf) { return inf->store; }

void kube_informer_stats_get(kube_informer *inf, kube_informer_stats *out)
{
    pthread_mutex_lock(&inf->mu);
    *out = inf->st;
    pthread_mutex_unlock(&inf->mu);
    kube_store_rdlock(inf->store);
    out->objects = kube_store_len(inf->store);
    out->bytes = kube_store_bytes(inf->store);
    kube_store_unlock(inf->store);
    out->synced = atomic_load(&inf->synced);
}

/* The reflector's RV moves per event; readers see it (and the event
 * count) at the end of each burst: publish(). */
static void set_rv(kube_informer *inf, const char *rv)
{
    if (!rv || !rv[0])
        return;
    size_t n = strlen(rv);
    if (n >= sizeof inf->rv)
        n = sizeof inf->rv - 1;
    memcpy(inf->rv, rv, n);
    inf->rv[n] = '\0';
}

static void publish(kube_informer *inf)
{
    pthread_mutex_lock(&inf->mu);
    memcpy(inf->st.last_rv, inf->rv, sizeof inf->st.last_rv);
    inf->st.events += inf->pending_events;
    inf->pending_events = 0;
    pthread_mutex_unlock(&inf->mu);
}

static void count(kube_informer *inf, uint64_t *field, uint64_t n)
{
    pthread_mutex_lock(&inf->mu);
    *field += n;
    pthread_mutex_unlock(&inf->mu);
}

/* Sleep s seconds unless stopped; false when stopped. */
static bool nap(kube_informer *inf, double s)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double t = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 + s;
    ts.tv_sec = (time_t)t;
    ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
    pthread_mutex_lock(&inf->mu);
    while (!inf->cancel && pthread_cond_timedwait(&inf->cond, &inf->mu, &ts) != ETIMEDOUT)
        ;
    bool ok = !inf->cancel;
    pthread_mutex_unlock(&inf->mu);
    return ok;
}

static void restart(kube_informer *inf, kube_restart_reason r)
{
    count(inf, &inf->st.restarts[r], 1);
}

/* Back off after a failure: 0.8 s doubling to 30 s, full jitter on top,
 * reset when the previous failure is older than backoff_reset_s. */
static bool fail_wait(kube_informer *inf, double at_least)
{
    double now = mono_s();
    if (inf->last_fail > 0 && now - inf->last_fail >= inf->o.backoff_reset_s)
        inf->backoff = inf->o.backoff_initial_s;
    inf->last_fail = now;
    double wait = inf->backoff * (1.0 + (double)rand_r(&inf->seed) / RAND_MAX);
    inf->backoff = fmin(inf->backoff * 2, inf->o.backoff_max_s);
    if (wait > inf->o.backoff_max_s)
        wait = inf->o.backoff_max_s;
    if (at_least > wait)
        wait = at_least;
    return nap(inf, wait);
}

/* ---------------- handlers and replace ---------------- */

static void emit_add(kube_informer *inf, const kube_obj *o)
{
    if (inf->o.handlers.on_add)
        inf->o.handlers.on_add(inf->o.handlers.ud, o);
}

static void emit_update(kube_informer *inf, const kube_obj *old, const kube_obj *o)
{
    if (inf->o.handlers.on_update)
        inf->o.handlers.on_update(inf->o.handlers.ud, old, o);
}

static void emit_delete(kube_informer *inf, const kube_obj *o)
{
    if (inf->o.handlers.on_delete)
        inf->o.handlers.on_delete(inf->o.handlers.ud, o);
}

/* End of a burst: publish the RV and counts, let the handlers hand on. */
static void batch_end(kube_informer *inf)
{
    publish(inf);
    if (inf->o.handlers.on_batch_end)
        inf->o.handlers.on_batch_end(inf->o.handlers.ud);
}

typedef struct diffctx {
    kube_informer *inf;
    kube_store *other;
} diffctx;

static int diff_new(void *ud, const kube_obj *o)
{
    diffctx *d = ud;
    const kube_obj *old = kube_store_get(d->other, o->meta.ns, o->meta.name);
    if (!old)
        emit_add(d->inf, o);
    else if (strcmp(old->meta.rv, o->meta.rv) != 0 || strcmp(old->meta.uid, o->meta.uid) != 0)
        emit_update(d->inf, old, o); /* a server that lost its history reuses RVs: the uid tells */
    return 0;
}

static int diff_gone(void *ud, const kube_obj *o)
{
    diffctx *d = ud;
    if (!kube_store_get(d->other, o->meta.ns, o->meta.name))
        emit_delete(d->inf, o);
    return 0;
}

/* Make fresh the cache; fresh ends up holding the old objects, freed here. */
static void replace(kube_informer *inf, kube_store *fresh)
{
    kube_store_swap(inf->store, fresh);
    diffctx a = {inf, fresh};
    kube_store_each(inf->store, diff_new, &a);
    diffctx b = {inf, inf->store};
    kube_store_each(fresh, diff_gone, &b);
    kube_store_clear(fresh);
    batch_end(inf);
    pthread_mutex_lock(&inf->mu);
    inf->st.relists++;
    inf->st.last_sync_s = mono_s() - inf->sync_start;
    pthread_mutex_unlock(&inf->mu);
    atomic_store(&inf->synced, true);
}

/* ---------------- list ---------------- */

typedef struct listctx {
    kube_informer *inf;
    kube_store *s;
} listctx;

static int decode_fail(kube_informer *inf, const char *json, size_t len, int rc)
{
    count(inf, &inf->st.decode_errors, 1);
    vg_log_warn(inf->o.log, "kube", "skipping an object that does not decode", "resource", inf->name, "error",
                strerror(-rc));
    return 0;
}

static int on_item(void *ud, const char *json, size_t len)
{
    listctx *l = ud;
    kube_obj *o, *old;
    int rc = kube_objdec_decode(l->inf->dec, l->inf->o.kind, json, len, &o);
    if (rc)
        return rc == -ENOMEM ? rc : decode_fail(l->inf, json, len, rc);
    if ((rc = kube_store_put(l->s, o, &old))) {
        kube_obj_free(o);
        return rc;
    }
    kube_obj_free(old);
    return 0;
}

static void on_restart_list(void *ud)
{
    listctx *l = ud;
    kube_store_clear(l->s);
}

/* 0 synced; -ETIME expired; other -errno failure (resp filled) */
static int do_list(kube_informer *inf, kube_resp *resp)
{
    kube_store *fresh;
    int rc = kube_store_new(&fresh);
    if (rc)
        return rc;
    const char *rv = inf->list_mode == 0 ? "0" : inf->list_mode == 1 && inf->rv[0] ? inf->rv : NULL;
    kube_list_opts lo = {.limit = inf->o.page_size, .resource_version = rv,
                         .label_selector = inf->lsel, .field_selector = inf->fsel};
    listctx l = {inf, fresh};
    char lrv[RV_MAX] = "";
    inf->sync_start = mono_s();
    rc = kube_list(inf->c, inf->o.gvr, inf->ns, &lo, on_item, on_restart_list, &l, lrv, sizeof lrv, resp);
    if (rc == 0) {
        set_rv(inf, lrv);
        replace(inf, fresh);
        inf->list_mode = 1;
        vg_log_info(inf->o.log, "kube", "cache synced by list", "resource", inf->name, "rv", lrv);
    }
    kube_store_free(fresh);
    return rc;
}

/* ---------------- watch ---------------- */

typedef struct watchctx {
    kube_informer *inf;
    bool initial;        /* streaming list: still receiving initial events */
    kube_status st;
    bool have_status;
} watchctx;

static int on_event(void *ud, const kube_event *ev)
{
    watchctx *w = ud;
    kube_informer *inf = w->inf;
    inf->pending_events++;
    if (ev->type == KUBE_EV_ERROR) {
        kj c;
        kj_init(&c, ev->obj, ev->obj_len);
        if (kube_status_decode_kj(&c, &w->st) == 0)
            w->have_status = true;
        return w->st.code == 410 ? -ETIME : -EPROTO;
    }
    if (ev->type == KUBE_EV_BOOKMARK) {
        char rv[RV_MAX];
        bool end = false;
        count(inf, &inf->st.bookmarks, 1);
        if (kube_obj_peek_rv(ev->obj, ev->obj_len, rv, sizeof rv, &end))
            return 0; /* a bookmark we cannot read changes nothing */
        set_rv(inf, rv);
        if (w->initial && end) {
            replace(inf, inf->building);
            kube_store_free(inf->building);
            inf->building = NULL;
            w->initial = false;
            inf->need_list = false;
            inf->list_mode = 1;
            vg_log_info(inf->o.log, "kube", "cache synced by streaming list", "resource", inf->name, "rv", rv);
        }
        return 0;
    }
    kube_obj *o;
    int rc = kube_objdec_decode(inf->dec, inf->o.kind, ev->obj, ev->obj_len, &o);
    if (rc) {
        if (rc == -ENOMEM)
            return rc;
        /* skip it, but keep the RV moving if it can be read */
        char rv[RV_MAX];
        if (kube_obj_peek_rv(ev->obj, ev->obj_len, rv, sizeof rv, NULL) == 0)
            set_rv(inf, rv);
        return decode_fail(inf, ev->obj, ev->obj_len, rc);
    }
    kube_store *s = w->initial ? inf->building : inf->store;
    if (ev->type == KUBE_EV_DELETED) {
        kube_obj *old = kube_store_del(s, o->meta.ns, o->meta.name);
        if (!w->initial)
            emit_delete(inf, old ? old : o);
        set_rv(inf, o->meta.rv);
        kube_obj_free(old);
        kube_obj_free(o);
    } else {
        kube_obj *old;
        if ((rc = kube_store_put(s, o, &old))) {
            kube_obj_free(o);
            return rc;
        }
        set_rv(inf, o->meta.rv); /* only once applied: a resume must not skip it */
        if (!w->initial) {
            if (old)
                emit_update(inf, old, o);
            else
                emit_add(inf, o);
        }
        kube_obj_free(old);
    }
    return 0;
}

static void on_batch(void *ud)
{
    watchctx *w = ud;
    batch_end(w->inf);
}

/* Run one watch; returns what kube_watch_run returned. */
static int do_watch(kube_informer *inf, bool streaming, watchctx *w, kube_resp *resp, kube_watch_result *res)
{
    unsigned span = inf->o.watch_max_s - inf->o.watch_min_s;
    unsigned timeout = inf->o.watch_min_s + (span ? (unsigned)rand_r(&inf->seed) % (span + 1) : 0);
    kube_watch_opts wo = {
        .gvr = inf->o.gvr,
        .ns = inf->ns,
        .resource_version = streaming ? NULL : inf->rv,
        .label_selector = inf->lsel,
        .field_selector = inf->fsel,
        .timeout_s = timeout,
        .bookmarks = true,
        .send_initial_events = streaming,
        .transport = inf->o.transport,
        .ws_token_subprotocol = inf->o.ws_token_subprotocol,
        .batch_end = on_batch,
    };
    memset(w, 0, sizeof *w);
    w->inf = inf;
    w->initial = streaming;
    if (streaming) {
        int rc = kube_store_new(&inf->building);
        if (rc)
            return rc;
        inf->sync_start = mono_s();
    }
    int rc = kube_watch_run(inf->c, &wo, on_event, w, &inf->cancel, resp, res);
    batch_end(inf); /* whatever the last read delivered before an error */
    if (inf->building) {
        /* the stream ended before the initial set was complete */
        kube_store_free(inf->building);
        inf->building = NULL;
    }
    return rc;
}

static kube_restart_reason classify_http(long code)
{
    if (code == 429)
        return KUBE_RESTART_THROTTLED;
    if (code == 401 || code == 403)
        return KUBE_RESTART_UNAUTHORIZED;
    if (code >= 500)
        return KUBE_RESTART_SERVER_ERROR;
    return KUBE_RESTART_NETWORK;
}

static void *run(void *arg)
{
    kube_informer *inf = arg;
    /* "inf-pods" in top -H and /proc/PID/task/TID/comm: list, watch and
     * decoding of one resource all run on this thread (the bench's
     * one-core figure reads its CPU time) */
    char tname[16];
    snprintf(tname, sizeof tname, "inf-%s", inf->o.name ? inf->o.name : "?");
    pthread_setname_np(pthread_self(), tname);
    kube_resp resp;
    kube_resp_init(&resp);
    while (!inf->cancel && !kube_client_stopped(inf->c)) {
        bool streaming = false;
        if (inf->need_list) {
            if (!inf->streaming_off && !inf->o.no_streaming_list) {
                streaming = true;
            } else {
                int rc = do_list(inf, &resp);
                if (rc == -ECANCELED)
                    break;
                if (rc == -ETIME) {
                    /* our RV is too old for the server: list the newest state */
                    inf->list_mode = 2;
                    restart(inf, KUBE_RESTART_EXPIRED);
                    continue;
                }
                if (rc) {
                    vg_log_warn(inf->o.log, "kube", "list failed", "resource", inf->name, "error",
                                resp.code ? resp.status.message : resp.error);
                    if (!fail_wait(inf, resp.retry_after_s))
                        break;
                    continue;
                }
                inf->need_list = false;
            }
        }
        watchctx w;
        kube_watch_result res;
        double t0 = mono_s();
        int rc = do_watch(inf, streaming, &w, &resp, &res);
        double took = mono_s() - t0;
        if (rc == -ECANCELED || inf->cancel)
            break;
        if (streaming && res.started) {
            pthread_mutex_lock(&inf->mu);
            inf->st.streaming = true;
            pthread_mutex_unlock(&inf->mu);
        }
        if (streaming && !res.started && (resp.code == 400 || resp.code == 422 || resp.code == 403 ||
                                          resp.code == 404 || resp.code == 405)) {
            /* no streaming list on this server: list+watch from now on */
            inf->streaming_off = true;
            vg_log_info(inf->o.log, "kube", "server has no streaming list; using list+watch", "resource",
                        inf->name);
            continue;
        }
        if (rc == -ETIME) {
            /* expired in stream (ERROR 410) or refused with 410 */
            restart(inf, KUBE_RESTART_EXPIRED);
            inf->need_list = true;
            if (inf->list_mode != 2)
                inf->list_mode = 1;
            vg_log_info(inf->o.log, "kube", "watch expired; relisting", "resource", inf->name, "rv", inf->rv);
            continue;
        }
        if (rc == -ETIMEDOUT && resp.code == 504) {
            /* RV newer than the server has: it lost history (restart) */
            restart(inf, KUBE_RESTART_TOO_LARGE);
            inf->need_list = true;
            inf->list_mode = 2;
            vg_log_warn(inf->o.log, "kube", "resource version ahead of the server; relisting", "resource",
                        inf->name, "rv", inf->rv);
            if (!fail_wait(inf, resp.retry_after_s))
                break;
            continue;
        }
        if (rc == -EPROTO && w.have_status) {
            restart(inf, w.st.code >= 500 ? KUBE_RESTART_SERVER_ERROR : KUBE_RESTART_NETWORK);
            if (w.st.code == 504 || kube_status_has_cause(&w.st, "ResourceVersionTooLarge")) {
                inf->need_list = true;
                inf->list_mode = 2;
            }
            vg_log_warn(inf->o.log, "kube", "watch error event", "resource", inf->name, "reason", w.st.reason,
                        "message", w.st.message);
            if (!fail_wait(inf, w.st.retry_after_s))
                break;
            continue;
        }
        if (rc == -EBADMSG || rc == -EFBIG) {
            restart(inf, KUBE_RESTART_DECODE);
            vg_log_warn(inf->o.log, "kube", "watch stream malformed; resuming", "resource", inf->name);
            if (!fail_wait(inf, 0))
                break;
            continue;
        }
        if (rc == -ENOMEM) {
            if (!fail_wait(inf, 0))
                break;
            continue;
        }
        if (rc) {
            /* refused (HTTP error) or transport failure */
            kube_restart_reason r = resp.code ? classify_http(resp.code) : KUBE_RESTART_NETWORK;
            restart(inf, r);
            if (resp.code == 410) {
                inf->need_list = true;
                continue;
            }
            vg_log_warn(inf->o.log, "kube", "watch failed", "resource", inf->name, "code",
                        resp.code ? (resp.code == 429 ? "429" : resp.status.reason) : "none", "error",
                        resp.error[0] ? resp.error : resp.status.message);
            /* Retry-After comes with 429 and may come with 5xx: honour both */
            if (!fail_wait(inf, resp.retry_after_s))
                break;
            continue;
        }
        /* the stream ended without an error from us */
        if (streaming && w.initial) {
            /* ended before the initial-events-end bookmark: list again */
            restart(inf, KUBE_RESTART_NETWORK);
            if (!fail_wait(inf, 0))
                break;
            continue;
        }
        if (res.cut || resp.error[0]) {
            restart(inf, KUBE_RESTART_NETWORK);
            if (!fail_wait(inf, 0))
                break;
            continue;
        }
        if (took < 1.0 && res.events == 0) {
            restart(inf, KUBE_RESTART_SHORT);
            if (!fail_wait(inf, 0))
                break;
            continue;
        }
        restart(inf, KUBE_RESTART_CLOSED);
    }
    kube_resp_release(&resp);
    return NULL;
}

int kube_informer_start(kube_informer *inf)
{
    if (inf->running)
        return 0;
    inf->cancel = 0;
    int rc = pthread_create(&inf->thread, NULL, run, inf);
    if (rc)
        return -rc;
    inf->running = true;
    return 0;
}

void kube_informer_stop(kube_informer *inf)
{
    if (!inf->running)
        return;
    pthread_mutex_lock(&inf->mu);
    inf->cancel = 1;
    pthread_cond_broadcast(&inf->cond);
    pthread_mutex_unlock(&inf->mu);
    pthread_join(inf->thread, NULL);
    inf->running = false;
}

void kube_informer_free(kube_informer *inf)
{
    if (!inf)
        return;
    kube_informer_stop(inf);
    kube_store_free(inf->store);
    kube_store_free(inf->building);
    kube_objdec_free(inf->dec);
    pthread_mutex_destroy(&inf->mu);
    pthread_cond_destroy(&inf->cond);
    free(inf->name);
    free(inf->ns);
    free(inf->lsel);
    free(inf->fsel);
    free(inf);
}
