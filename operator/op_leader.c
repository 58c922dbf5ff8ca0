/*
 * op_leader.c - the Lease elector loop (client-go leaderelection).
 */
#include "op_leader.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kube/kube_json.h"
#include "kube/kube_objects.h"
#include "kube/kube_time.h"

struct op_leader {
    kube_client *c;
    op_leader_opts o;
    char *ns, *name, *id;
    pthread_t thread;
    bool running;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool stop;
    volatile int cancel;      /* set with stop: abandons a round's request in flight */
    atomic_bool leading;
    char holder[256];
    unsigned seed;
    vg_series *s_master;

    /* observed record (elector thread) */
    char obs_holder[256];
    int64_t obs_renew_us;
    char obs_rv[64];
    double obs_time;          /* local monotonic time the record last changed */
    int obs_duration;
    int64_t obs_acquire_us;
    int obs_transitions;
    bool have_obs;
    double acquired_at;       /* when the winning acquire round started */
};

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int op_leader_lease_json(vg_buf *out, const char *ns, const char *name, const char *rv, const char *holder,
                         int duration_s, int64_t acquire_us, int64_t renew_us, int transitions)
{
    char at[40], rt[40];
    kube_time_format_micro(acquire_us, at, sizeof at);
    kube_time_format_micro(renew_us, rt, sizeof rt);
    vg_buf_reset(out);
    int rc = vg_buf_puts(out, "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\",\"metadata\":{\"name\":");
    rc = rc ? rc : kj_quote_append(out, name, strlen(name));
    rc = rc ? rc : vg_buf_puts(out, ",\"namespace\":");
    rc = rc ? rc : kj_quote_append(out, ns, strlen(ns));
    if (rv && rv[0]) {
        rc = rc ? rc : vg_buf_puts(out, ",\"resourceVersion\":");
        rc = rc ? rc : kj_quote_append(out, rv, strlen(rv));
    }
    rc = rc ? rc : vg_buf_puts(out, "},\"spec\":{\"holderIdentity\":");
    rc = rc ? rc : kj_quote_append(out, holder, strlen(holder));
    rc = rc ? rc : vg_buf_printf(out, ",\"leaseDurationSeconds\":%d,\"acquireTime\":\"%s\",\"renewTime\":\"%s\","
                                      "\"leaseTransitions\":%d}}", duration_s, at, rt, transitions);
    return rc;
}

int op_leader_new(kube_client *c, const op_leader_opts *o, op_leader **out)
{
    if (!o->ns || !o->name || !o->identity || !o->identity[0] || !o->name[0])
        return -EINVAL;
    op_leader *l = calloc(1, sizeof *l);
    if (!l)
        return -ENOMEM;
    l->c = c;
    l->o = *o;
    if (l->o.lease_duration_s <= 0)
        l->o.lease_duration_s = 15;
    if (l->o.renew_deadline_s <= 0)
        l->o.renew_deadline_s = 10;
    if (l->o.retry_period_s <= 0)
        l->o.retry_period_s = 2;
    if (l->o.renew_deadline_s >= l->o.lease_duration_s || l->o.retry_period_s * 1.2 >= l->o.renew_deadline_s) {
        free(l);
        return -EINVAL;
    }
    l->ns = strdup(o->ns);
    l->name = strdup(o->name);
    l->id = strdup(o->identity);
    pthread_mutex_init(&l->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&l->cond, &ca);
    pthread_condattr_destroy(&ca);
    l->seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)l;
    if (!l->ns || !l->name || !l->id) {
        op_leader_free(l);
        return -ENOMEM;
    }
    if (o->reg) {
        static const char *const lab[] = {"name"};
        vg_metric *m = vg_registry_add(o->reg, "leader_election_master_status", VG_MT_GAUGE,
                                       "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master. 'name' is the string used to identify the lease.",
                                       1, lab, NULL, 0, 10);
        const char *v[] = {l->name};
        l->s_master = vg_metric_with(m, v);
        vg_series_set(l->s_master, 0);
    }
    *out = l;
    return 0;
}

bool op_leader_is_leader(op_leader *l) { return atomic_load(&l->leading); }

void op_leader_holder(op_leader *l, char *out, size_t outlen)
{
    pthread_mutex_lock(&l->mu);
    snprintf(out, outlen, "%s", l->holder);
    pthread_mutex_unlock(&l->mu);
}

static bool nap(op_leader *l, double s)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double t = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 + s;
    ts.tv_sec = (time_t)t;
    ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
    pthread_mutex_lock(&l->mu);
    while (!l->stop && pthread_cond_timedwait(&l->cond, &l->mu, &ts) != ETIMEDOUT)
        ;
    bool ok = !l->stop;
    pthread_mutex_unlock(&l->mu);
    return ok;
}

static void set_holder(op_leader *l, const char *h)
{
    bool changed;
    pthread_mutex_lock(&l->mu);
    changed = strcmp(l->holder, h) != 0;
    snprintf(l->holder, sizeof l->holder, "%s", h);
    pthread_mutex_unlock(&l->mu);
    if (changed && h[0]) {
        vg_log_info(l->o.log, "leader", "new leader observed", "lease", l->name, "holder", h);
        if (l->o.on_new_leader)
            l->o.on_new_leader(l->o.ud, h);
    }
}

/* One Lease request that gives up at deadline (monotonic s), or at once
 * on op_leader_stop when cancel is &l->cancel. */
static int lease_call(op_leader *l, const char *method, bool named, const vg_buf *body, double deadline,
                      volatile int *cancel, kube_resp *resp)
{
    vg_buf path = VG_BUF_INIT;
    int rc = kube_path(&path, &kube_gvr_leases, l->ns, named ? l->name : NULL, NULL);
    if (rc == 0) {
        kube_req req = {.method = method, .path = path.data, .body = body ? body->data : NULL,
                        .body_len = body ? body->len : 0, .deadline_s = deadline, .cancel = cancel};
        rc = kube_client_do(l->c, &req, resp);
    }
    vg_buf_release(&path);
    return rc;
}

/* One round, bounded by deadline (monotonic s): true when we hold the lease
 * afterwards. A request still hanging at the deadline is abandoned, so a
 * partitioned leader notices in time to step down. */
static bool try_acquire_or_renew(op_leader *l, double deadline)
{
    kube_resp resp;
    kube_resp_init(&resp);
    vg_buf body = VG_BUF_INIT;
    bool ok = false;
    int64_t now_us = kube_time_now_us();
    int dur = (int)(l->o.lease_duration_s + 0.5);
    int rc = lease_call(l, "GET", true, NULL, deadline, &l->cancel, &resp);
    if (rc == -ENOENT) {
        if (op_leader_lease_json(&body, l->ns, l->name, NULL, l->id, dur, now_us, now_us, 0))
            goto out;
        rc = lease_call(l, "POST", false, &body, deadline, &l->cancel, &resp);
        if (rc == 0) {
            l->obs_time = mono_s();
            snprintf(l->obs_holder, sizeof l->obs_holder, "%s", l->id);
            set_holder(l, l->id);
            ok = true;
        }
        goto out;
    }
    if (rc) {
        vg_log_debug(l->o.log, "leader", "cannot read the lease", "lease", l->name, "error",
                     resp.code ? resp.status.reason : resp.error);
        goto out;
    }
    kube_obj *lease;
    if (kube_obj_decode(KUBE_OBJ_LEASE, resp.body.data, resp.body.len, &lease)) {
        vg_log_warn(l->o.log, "leader", "lease does not decode", "lease", l->name);
        goto out;
    }
    const kube_lease *ls = &lease->u.lease;
    double now = mono_s();
    if (!l->have_obs || strcmp(l->obs_holder, ls->holder) != 0 || l->obs_renew_us != ls->renew_us ||
        strcmp(l->obs_rv, lease->meta.rv) != 0) {
        /* the record changed: restart the holder's lease on OUR clock */
        snprintf(l->obs_holder, sizeof l->obs_holder, "%s", ls->holder);
        l->obs_renew_us = ls->renew_us;
        l->obs_time = now;
        l->have_obs = true;
    }
    snprintf(l->obs_rv, sizeof l->obs_rv, "%s", lease->meta.rv);
    l->obs_duration = ls->duration_s > 0 ? ls->duration_s : dur;
    set_holder(l, ls->holder);
    bool mine = strcmp(ls->holder, l->id) == 0;
    if (!mine && ls->holder[0] && l->obs_time + l->obs_duration > now) {
        kube_obj_free(lease);
        goto out; /* held by another, still valid */
    }
    int64_t acquire = mine ? ls->acquire_us : now_us;
    int transitions = mine ? ls->transitions : ls->transitions + 1;
    rc = op_leader_lease_json(&body, l->ns, l->name, lease->meta.rv, l->id, dur, acquire, now_us, transitions);
    kube_obj_free(lease);
    if (rc)
        goto out;
    rc = lease_call(l, "PUT", true, &body, deadline, &l->cancel, &resp);
    if (rc == 0) {
        kube_obj *nl;
        if (kube_obj_decode(KUBE_OBJ_LEASE, resp.body.data, resp.body.len, &nl) == 0) {
            snprintf(l->obs_rv, sizeof l->obs_rv, "%s", nl->meta.rv);
            l->obs_renew_us = nl->u.lease.renew_us;
            kube_obj_free(nl);
        }
        snprintf(l->obs_holder, sizeof l->obs_holder, "%s", l->id);
        l->obs_time = mono_s();
        set_holder(l, l->id);
        ok = true;
    } else {
        vg_log_debug(l->o.log, "leader", "lease write refused", "lease", l->name, "code",
                     resp.code == 409 ? "409" : resp.status.reason);
    }
out:
    vg_buf_release(&body);
    kube_resp_release(&resp);
    return ok;
}

static void release(op_leader *l)
{
    kube_resp resp;
    kube_resp_init(&resp);
    vg_buf body = VG_BUF_INIT;
    int64_t now_us = kube_time_now_us();
    if (l->obs_rv[0] && op_leader_lease_json(&body, l->ns, l->name, l->obs_rv, "", 1, now_us, now_us, 0) == 0) {
        /* keep the transition count: read it back from the last record is not
         * needed, a release only clears the holder as client-go does */
        /* bounded: shutdown must not hang on an unreachable server; not
         * cancelled, the release is what stopping is for */
        int rc = lease_call(l, "PUT", true, &body, mono_s() + l->o.retry_period_s, NULL, &resp);
        if (rc == 0)
            vg_log_info(l->o.log, "leader", "lease released", "lease", l->name);
        else
            vg_log_warn(l->o.log, "leader", "could not release the lease", "lease", l->name, "error",
                        resp.code ? resp.status.reason : resp.error);
    }
    vg_buf_release(&body);
    kube_resp_release(&resp);
}

static void *run(void *arg)
{
    op_leader *l = arg;
    /* acquire */
    for (;;) {
        l->acquired_at = mono_s();
        if (try_acquire_or_renew(l, l->acquired_at + l->o.renew_deadline_s))
            break;
        double jitter = 1.0 + 0.2 * (double)rand_r(&l->seed) / RAND_MAX;
        if (!nap(l, l->o.retry_period_s * jitter))
            return NULL;
    }
    atomic_store(&l->leading, true);
    vg_series_set(l->s_master, 1);
    vg_log_info(l->o.log, "leader", "became leader", "lease", l->name, "identity", l->id);
    if (l->o.on_started)
        l->o.on_started(l->o.ud);
    /* renew */
    /* last_renew is when the last successful write was SENT: the server
     * stored it no earlier, so others time our lease from a later point and
     * we step down (last_renew + renew deadline) before it can expire for
     * them (their observation + lease duration) */
    double last_renew = l->acquired_at;
    bool released = false;
    for (;;) {
        /* never sleep past the renew deadline */
        double left = last_renew + l->o.renew_deadline_s - mono_s();
        if (!nap(l, left < l->o.retry_period_s ? (left > 0 ? left : 0) : l->o.retry_period_s))
            break;
        double sent = mono_s();
        if (sent < last_renew + l->o.renew_deadline_s &&
            try_acquire_or_renew(l, last_renew + l->o.renew_deadline_s)) {
            last_renew = sent;
            continue;
        }
        if (l->cancel)
            break; /* stopping, not lost: release below */
        if (mono_s() - last_renew >= l->o.renew_deadline_s) {
            vg_log_error(l->o.log, "leader", "leadership lost: lease not renewed within the renew deadline",
                         "lease", l->name);
            break;
        }
    }
    pthread_mutex_lock(&l->mu);
    bool stopping = l->stop;
    pthread_mutex_unlock(&l->mu);
    if (stopping) {
        release(l);
        released = true;
    }
    atomic_store(&l->leading, false);
    vg_series_set(l->s_master, 0);
    (void)released;
    if (l->o.on_stopped)
        l->o.on_stopped(l->o.ud);
    return NULL;
}

int op_leader_start(op_leader *l)
{
    if (l->running)
        return 0;
    int rc = pthread_create(&l->thread, NULL, run, l);
    if (rc)
        return -rc;
    l->running = true;
    return 0;
}

void op_leader_stop(op_leader *l)
{
    if (!l->running)
        return;
    pthread_mutex_lock(&l->mu);
    l->stop = true;
    l->cancel = 1; /* a round stuck on a stalled server ends now, not at its renew deadline */
    pthread_cond_broadcast(&l->cond);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->thread, NULL);
    l->running = false;
}

void op_leader_free(op_leader *l)
{
    if (!l)
        return;
    op_leader_stop(l);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cond);
    free(l->ns);
    free(l->name);
    free(l->id);
    free(l);
}
