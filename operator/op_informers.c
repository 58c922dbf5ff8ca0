/*
 * op_informers.c - wiring of the operator's informers to the workqueue,
 * metrics and the debug document.
 */
#include "op_informers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube_json.h"

#define NINF 5

/* Keys of one burst of events, handed to the workqueue together (one lock,
 * one wake-up) at the informer's batch end: written and read only on that
 * informer's thread. */
#define BURST_MAX 1024

typedef struct op_inf {
    op_informers *oi;
    kube_informer *inf;
    const char *resource;
    vg_buf keys;               /* NUL-terminated keys back to back */
    size_t off[BURST_MAX];     /* where each starts */
    size_t n;
} op_inf;

struct op_informers {
    op_informers_opts o;
    char *lease_field;
    op_inf infs[NINF];
    size_t n;
};

static void flush(op_inf *x)
{
    if (!x->n)
        return;
    const char *k[BURST_MAX];
    for (size_t i = 0; i < x->n; i++)
        k[i] = x->keys.data + x->off[i];
    int rc = op_wq_add_many(x->oi->o.queue, k, x->n);
    if (rc && rc != -ESHUTDOWN)
        vg_log_error(x->oi->o.log, "informers", "keys lost: cannot queue them", "resource", x->resource,
                     "error", strerror(-rc));
    x->n = 0;
    vg_buf_reset(&x->keys);
}

static void enqueue(op_inf *x, const kube_obj *o)
{
    if (!x->oi->o.queue)
        return;
    if (x->n == BURST_MAX)
        flush(x);
    size_t at = x->keys.len;
    if (vg_buf_printf(&x->keys, "%s/%s/%s", x->resource, o->meta.ns, o->meta.name) ||
        vg_buf_putc(&x->keys, '\0')) {
        x->keys.len = at; /* drop the partial key; queue the rest now */
        flush(x);
        vg_log_error(x->oi->o.log, "informers", "key lost: out of memory", "resource", x->resource);
        return;
    }
    x->off[x->n++] = at;
}

static void on_add(void *ud, const kube_obj *o) { enqueue(ud, o); }
static void on_update(void *ud, const kube_obj *old, const kube_obj *o) { enqueue(ud, o); }
static void on_delete(void *ud, const kube_obj *o) { enqueue(ud, o); }
static void on_batch_end(void *ud) { flush(ud); }

static void collect(vg_scrape *s, void *ud)
{
    op_informers *oi = ud;
    static const char *const l1[] = {"resource"};
    static const char *const l2[] = {"resource", "reason"};
    vg_family *fo = vg_scrape_family(s, "vigil_operator_informer_objects", VG_MT_GAUGE,
                                     "Objects in the operator's informer cache.", 1, l1);
    vg_family *fr = vg_scrape_family(s, "vigil_operator_watch_restarts_total", VG_MT_COUNTER,
                                     "Watch restarts by resource and reason.", 2, l2);
    vg_family *fs = vg_scrape_family(s, "vigil_operator_informer_synced", VG_MT_GAUGE,
                                     "1 when the informer's cache has synced.", 1, l1);
    vg_family *fe = vg_scrape_family(s, "vigil_operator_watch_events_total", VG_MT_COUNTER,
                                     "Watch events decoded, by resource.", 1, l1);
    vg_family *fb = vg_scrape_family(s, "vigil_operator_informer_bytes", VG_MT_GAUGE,
                                     "Heap bytes of the informer's cached objects.", 1, l1);
    for (size_t i = 0; i < oi->n; i++) {
        kube_informer_stats st;
        kube_informer_stats_get(oi->infs[i].inf, &st);
        vg_family_add(fo, (double)st.objects, oi->infs[i].resource);
        vg_family_add(fs, st.synced ? 1.0 : 0.0, oi->infs[i].resource);
        vg_family_add(fe, (double)st.events, oi->infs[i].resource);
        vg_family_add(fb, (double)st.bytes, oi->infs[i].resource);
        for (int r = 0; r < KUBE_RESTART_COUNT; r++)
            vg_family_add(fr, (double)st.restarts[r], oi->infs[i].resource,
                          kube_restart_reason_name((kube_restart_reason)r));
    }
}

int op_informers_new(const op_informers_opts *o, op_informers **out)
{
    op_informers *oi = calloc(1, sizeof *oi);
    if (!oi)
        return -ENOMEM;
    oi->o = *o;
    if (asprintf(&oi->lease_field, "metadata.name=%s", o->lease_name ? o->lease_name : "") < 0) {
        free(oi);
        return -ENOMEM;
    }
    static const struct {
        const char *res;
        const kube_gvr *gvr;
        kube_obj_kind kind;
    } defs[NINF] = {
        {"pods", &kube_gvr_pods, KUBE_OBJ_POD},
        {"deployments", &kube_gvr_deployments, KUBE_OBJ_DEPLOYMENT},
        {"statefulsets", &kube_gvr_statefulsets, KUBE_OBJ_STATEFULSET},
        {"nodes", &kube_gvr_nodes, KUBE_OBJ_NODE},
        {"leases", &kube_gvr_leases, KUBE_OBJ_LEASE},
    };
    /* timeoutSeconds is whole seconds; a set timeout is at least 1 s */
    unsigned watch_s = o->watch_timeout_s > 0 ? (unsigned)(o->watch_timeout_s + 0.5) : 0;
    if (o->watch_timeout_s > 0 && !watch_s)
        watch_s = 1;
    int rc = 0;
    for (size_t i = 0; i < NINF; i++) {
        op_inf *x = &oi->infs[i];
        x->oi = oi;
        x->resource = defs[i].res;
        bool lease = defs[i].kind == KUBE_OBJ_LEASE;
        kube_informer_opts io = {
            .name = defs[i].res,
            .gvr = defs[i].gvr,
            .kind = defs[i].kind,
            .ns = lease ? o->lease_ns : NULL,
            .field_selector = lease ? oi->lease_field : NULL,
            .transport = o->transport,
            .ws_token_subprotocol = o->ws_token_subprotocol,
            .watch_min_s = watch_s,
            .watch_max_s = watch_s,
            .backoff_initial_s = o->backoff_initial_s,
            .backoff_max_s = o->backoff_max_s,
            .handlers = {on_add, on_update, on_delete, on_batch_end, x},
            .log = o->log,
        };
        if ((rc = kube_informer_new(o->client, &io, &x->inf)))
            break;
        oi->n++;
    }
    if (rc) {
        op_informers_free(oi);
        return rc;
    }
    if (o->reg)
        vg_registry_add_collector(o->reg, collect, oi);
    *out = oi;
    return 0;
}

int op_informers_start(op_informers *oi)
{
    for (size_t i = 0; i < oi->n; i++) {
        int rc = kube_informer_start(oi->infs[i].inf);
        if (rc)
            return rc;
    }
    return 0;
}

void op_informers_stop(op_informers *oi)
{
    for (size_t i = 0; i < oi->n; i++)
        kube_informer_stop(oi->infs[i].inf);
}

void op_informers_free(op_informers *oi)
{
    if (!oi)
        return;
    for (size_t i = 0; i < oi->n; i++) {
        kube_informer_free(oi->infs[i].inf);
        vg_buf_release(&oi->infs[i].keys);
    }
    free(oi->lease_field);
    free(oi);
}

bool op_informers_synced(op_informers *oi, char *why, size_t whylen)
{
    for (size_t i = 0; i < oi->n; i++) {
        if (!kube_informer_synced(oi->infs[i].inf)) {
            if (why)
                snprintf(why, whylen, "informer %s has not synced", oi->infs[i].resource);
            return false;
        }
    }
    return true;
}

kube_informer *op_informers_get(op_informers *oi, const char *resource)
{
    for (size_t i = 0; i < oi->n; i++)
        if (strcmp(oi->infs[i].resource, resource) == 0)
            return oi->infs[i].inf;
    return NULL;
}

typedef struct keyrv {
    char *key;
    char *rv;
} keyrv;

typedef struct gather {
    keyrv *v;
    size_t n, cap;
    int err;
} gather;

static int gather_obj(void *ud, const kube_obj *o)
{
    gather *g = ud;
    if (g->n == g->cap) {
        size_t nc = g->cap ? g->cap * 2 : 256;
        keyrv *nv = realloc(g->v, nc * sizeof *nv);
        if (!nv)
            return g->err = -ENOMEM;
        g->v = nv;
        g->cap = nc;
    }
    keyrv *k = &g->v[g->n];
    if (o->meta.ns[0]) {
        if (asprintf(&k->key, "%s/%s", o->meta.ns, o->meta.name) < 0)
            return g->err = -ENOMEM;
    } else if (!(k->key = strdup(o->meta.name))) {
        return g->err = -ENOMEM;
    }
    if (!(k->rv = strdup(o->meta.rv))) {
        free(k->key);
        return g->err = -ENOMEM;
    }
    g->n++;
    return 0;
}

static int cmp_key(const void *a, const void *b) { return strcmp(((const keyrv *)a)->key, ((const keyrv *)b)->key); }

int op_informers_debug_json(op_informers *oi, vg_buf *out)
{
    int rc = vg_buf_puts(out, "{\"informers\":[");
    for (size_t i = 0; rc == 0 && i < oi->n; i++) {
        kube_informer *inf = oi->infs[i].inf;
        kube_informer_stats st;
        gather g = {0};
        kube_store *s = kube_informer_store(inf);
        /* snapshot under the lock, format outside it */
        kube_informer_stats_get(inf, &st);
        kube_store_rdlock(s);
        kube_store_each(s, gather_obj, &g);
        kube_store_unlock(s);
        if (g.err)
            rc = g.err;
        if (g.n) /* qsort(NULL, 0) is undefined */
            qsort(g.v, g.n, sizeof *g.v, cmp_key);
        if (!rc)
            rc = vg_buf_printf(out, "%s{\"resource\":\"%s\",\"count\":%zu,\"last_rv\":", i ? "," : "",
                               oi->infs[i].resource, g.n);
        if (!rc)
            rc = kj_quote_append(out, st.last_rv, strlen(st.last_rv));
        if (!rc)
            rc = vg_buf_printf(out, ",\"synced\":%s,\"streaming\":%s,\"relists\":%llu,\"events\":%llu,"
                                    "\"bytes\":%zu,\"objects\":[",
                               st.synced ? "true" : "false", st.streaming ? "true" : "false",
                               (unsigned long long)st.relists, (unsigned long long)st.events, st.bytes);
        for (size_t k = 0; k < g.n; k++) {
            if (!rc)
                rc = vg_buf_puts(out, k ? ",{\"key\":" : "{\"key\":");
            if (!rc)
                rc = kj_quote_append(out, g.v[k].key, strlen(g.v[k].key));
            if (!rc)
                rc = vg_buf_puts(out, ",\"rv\":");
            if (!rc)
                rc = kj_quote_append(out, g.v[k].rv, strlen(g.v[k].rv));
            if (!rc)
                rc = vg_buf_putc(out, '}');
            free(g.v[k].key);
            free(g.v[k].rv);
        }
        free(g.v);
        if (!rc)
            rc = vg_buf_puts(out, "]}");
    }
    if (!rc)
        rc = vg_buf_puts(out, "]}\n");
    return rc;
}
