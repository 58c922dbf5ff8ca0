/*
 * ks_ctrl.c - reconcile loops run under the store lock on a timer. Every
 * write goes through ks_ops so watchers see the same events a real
 * cluster's controllers would cause. The kubelet's timers (start, ready,
 * graceful deletion) and scripted overrides live in a small per-pod table
 * keyed by uid.
 */
#include "ks_ctrl.h"

#include "ks_json.h"
#include "ks_ops.h"
#include "ks_select.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct ks_pending {
    char uid[40];
    long long due;       /* next step time; 0 none */
    int stage;           /* 0 start, 1 ready, 2 delete, 9 idle */
    int forced_notready; /* scenario: pod NotReady / crashing */
} ks_pending;

long long ks_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static ks_pending *pend(ks_ctrl *c, const char *uid, int create)
{
    for (size_t i = 0; i < c->npending; i++)
        if (!strcmp(c->pending[i].uid, uid))
            return &c->pending[i];
    if (!create)
        return NULL;
    if (c->npending == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 64;
        ks_pending *np = realloc(c->pending, nc * sizeof *np);
        if (!np)
            return NULL;
        c->pending = np;
        c->cap = nc;
    }
    ks_pending *p = &c->pending[c->npending++];
    memset(p, 0, sizeof *p);
    snprintf(p->uid, sizeof p->uid, "%s", uid);
    p->stage = 9;
    return p;
}

static void pend_drop_missing(ks_ctrl *c, ks_rtype *pods)
{
    /* forget uids of pods that no longer exist (cheap enough: table is small) */
    for (size_t i = 0; i < c->npending;) {
        int found = 0;
        for (size_t j = 0; j < pods->n && !found; j++) {
            const char *u = ks_json_str(pods->objs[j].o, "metadata.uid");
            found = u && !strcmp(u, c->pending[i].uid);
        }
        if (!found)
            c->pending[i] = c->pending[--c->npending];
        else
            i++;
    }
}

static ks_rtype *T(ks_sim *s, const char *g, const char *plural)
{
    return ks_store_type_locked(&s->st, g, "v1", plural);
}

int ks_pod_is_ready(json_object *pod)
{
    json_object *cs = ks_json_get(pod, "status.conditions");
    for (size_t i = 0; cs && json_object_is_type(cs, json_type_array) && i < json_object_array_length(cs); i++) {
        json_object *c = json_object_array_get_idx(cs, i);
        const char *t = ks_json_str(c, "type"), *st = ks_json_str(c, "status");
        if (t && !strcmp(t, "Ready"))
            return st && !strcmp(st, "True");
    }
    return 0;
}

static int node_ready(json_object *node)
{
    return ks_pod_is_ready(node);
}

static void set_cond(json_object *obj, const char *type, const char *status, const char *reason, const char *msg)
{
    json_object *cs = ks_json_get(obj, "status.conditions");
    if (!cs || !json_object_is_type(cs, json_type_array)) {
        cs = json_object_new_array();
        ks_json_set(obj, "status.conditions", cs);
    }
    char now[32];
    ks_time_rfc3339(now, time(NULL));
    json_object *c = NULL;
    for (size_t i = 0; i < json_object_array_length(cs); i++) {
        json_object *x = json_object_array_get_idx(cs, i);
        if (ks_json_str(x, "type") && !strcmp(ks_json_str(x, "type"), type))
            c = x;
    }
    if (!c) {
        c = json_object_new_object();
        json_object_object_add(c, "type", json_object_new_string(type));
        json_object_array_add(cs, c);
    }
    const char *old = ks_json_str(c, "status");
    if (!old || strcmp(old, status))
        json_object_object_add(c, "lastTransitionTime", json_object_new_string(now));
    json_object_object_add(c, "status", json_object_new_string(status));
    if (reason)
        json_object_object_add(c, "reason", json_object_new_string(reason));
    else
        json_object_object_del(c, "reason");
    if (msg)
        json_object_object_add(c, "message", json_object_new_string(msg));
    else
        json_object_object_del(c, "message");
    json_object_object_add(c, "lastProbeTime", NULL);
}

static const char *owner_uid(json_object *o)
{
    json_object *refs = ks_json_get(o, "metadata.ownerReferences");
    for (size_t i = 0; refs && json_object_is_type(refs, json_type_array) && i < json_object_array_length(refs); i++) {
        json_object *r = json_object_array_get_idx(refs, i);
        json_object *ctl = ks_json_get(r, "controller");
        if (ctl && json_object_get_boolean(ctl))
            return ks_json_str(r, "uid");
    }
    return NULL;
}

static json_object *owner_ref(json_object *owner, const char *api_version, const char *kind)
{
    json_object *refs = json_object_new_array();
    json_object *r = json_object_new_object();
    json_object_object_add(r, "apiVersion", json_object_new_string(api_version));
    json_object_object_add(r, "kind", json_object_new_string(kind));
    json_object_object_add(r, "name", json_object_new_string(ks_json_str(owner, "metadata.name")));
    json_object_object_add(r, "uid", json_object_new_string(ks_json_str(owner, "metadata.uid")));
    json_object_object_add(r, "controller", json_object_new_boolean(1));
    json_object_object_add(r, "blockOwnerDeletion", json_object_new_boolean(1));
    json_object_array_add(refs, r);
    return refs;
}

/* Update an object's status (no-op when equal). Takes nw. */
static void put_status(ks_sim *s, ks_rtype *rt, json_object *nw)
{
    json_object *out;
    ks_err err;
    char ns[256], name[256];
    snprintf(ns, sizeof ns, "%s", ks_json_str(nw, "metadata.namespace") ? ks_json_str(nw, "metadata.namespace") : "");
    snprintf(name, sizeof name, "%s", ks_json_str(nw, "metadata.name"));
    json_object_object_del(ks_json_get(nw, "metadata"), "resourceVersion");
    ks_ops_update_locked(s, rt, ns, name, nw, KS_SUB_STATUS, "kube-controller-manager", NULL, 0, &out, &err);
}

static void put_main(ks_sim *s, ks_rtype *rt, json_object *nw, const char *mgr)
{
    json_object *out;
    ks_err err;
    char ns[256], name[256];
    snprintf(ns, sizeof ns, "%s", ks_json_str(nw, "metadata.namespace") ? ks_json_str(nw, "metadata.namespace") : "");
    snprintf(name, sizeof name, "%s", ks_json_str(nw, "metadata.name"));
    json_object_object_del(ks_json_get(nw, "metadata"), "resourceVersion");
    ks_ops_update_locked(s, rt, ns, name, nw, 0, mgr, NULL, 0, &out, &err);
}

/* Collect (copies of) the names of objects of rt in ns owned by uid. */
typedef struct namelist {
    char (*names)[256];
    size_t n;
} namelist;

static void owned(ks_rtype *rt, const char *ns, const char *uid, namelist *out)
{
    out->n = 0;
    out->names = NULL;
    char pfx[300];
    snprintf(pfx, sizeof pfx, "%s/", ns);
    size_t cap = 0;
    for (size_t i = ks_store_lower_bound(rt, pfx); i < rt->n; i++) {
        if (strncmp(rt->objs[i].key, pfx, strlen(pfx)))
            break;
        const char *ou = owner_uid(rt->objs[i].o);
        if (!ou || strcmp(ou, uid))
            continue;
        if (out->n == cap) {
            cap = cap ? cap * 2 : 16;
            void *nn = realloc(out->names, cap * sizeof *out->names);
            if (!nn)
                return;
            out->names = nn;
        }
        snprintf(out->names[out->n++], 256, "%s", ks_json_str(rt->objs[i].o, "metadata.name"));
    }
}

static uint32_t fnv(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h;
}

static void hash_str(const char *s, char out[16])
{
    static const char alpha[] = "bcdfghjklmnpqrstvwxz2456789";
    uint64_t h = ((uint64_t)fnv(s) << 32) | fnv(s + (strlen(s) / 2));
    for (int i = 0; i < 10; i++) {
        out[i] = alpha[h % 27];
        h /= 27;
    }
    out[10] = 0;
}

/* ---- pods from a template ---- */

static void create_pod(ks_ctrl *c, json_object *owner, const char *owner_av, const char *owner_kind, const char *name,
                       const char *generate, json_object *extra_labels, const char *node)
{
    ks_sim *s = c->sim;
    json_object *tmpl = ks_json_get(owner, "spec.template");
    json_object *pod = json_object_new_object();
    json_object *md = ks_json_copy(ks_json_get(tmpl, "metadata"));
    if (!md)
        md = json_object_new_object();
    json_object_object_add(pod, "metadata", md);
    json_object_object_del(md, "name");
    json_object_object_del(md, "creationTimestamp");
    if (name)
        json_object_object_add(md, "name", json_object_new_string(name));
    else
        json_object_object_add(md, "generateName", json_object_new_string(generate));
    json_object_object_add(md, "namespace", json_object_new_string(ks_json_str(owner, "metadata.namespace")));
    json_object *labels = ks_json_mkpath(pod, "metadata.labels");
    if (extra_labels && labels) {
        json_object_object_foreach(extra_labels, k, v) json_object_object_add(labels, k, json_object_get(v));
    }
    json_object_object_add(md, "ownerReferences", owner_ref(owner, owner_av, owner_kind));
    json_object *spec = ks_json_copy(ks_json_get(tmpl, "spec"));
    json_object_object_add(pod, "spec", spec ? spec : json_object_new_object());
    if (node)
        ks_json_set_str(pod, "spec.nodeName", node);
    json_object *out;
    ks_err err;
    ks_ops_create_locked(s, T(s, "", "pods"), ks_json_str(owner, "metadata.namespace"), pod,
                         "kube-controller-manager", &out, &err);
}

static int pod_active(json_object *p)
{
    const char *ph = ks_json_str(p, "status.phase");
    return !ks_json_get(p, "metadata.deletionTimestamp") && !(ph && (!strcmp(ph, "Succeeded") || !strcmp(ph, "Failed")));
}

static void delete_obj(ks_sim *s, ks_rtype *rt, const char *ns, const char *name)
{
    json_object *out = NULL;
    ks_err err;
    if (!ks_ops_delete_locked(s, rt, ns, name, NULL, -1, NULL, NULL, &out, &err))
        json_object_put(out);
}

/* ---- replicasets ---- */

static void reconcile_rs(ks_ctrl *c, ks_rtype *rst, json_object *rs)
{
    ks_sim *s = c->sim;
    ks_rtype *pods = T(s, "", "pods");
    const char *ns = ks_json_str(rs, "metadata.namespace"), *uid = ks_json_str(rs, "metadata.uid");
    char nsb[256], uidb[64], nameb[256];
    snprintf(nsb, sizeof nsb, "%s", ns);
    snprintf(uidb, sizeof uidb, "%s", uid);
    snprintf(nameb, sizeof nameb, "%s", ks_json_str(rs, "metadata.name"));
    int64_t want = ks_json_get(rs, "metadata.deletionTimestamp") ? 0 : ks_json_int(rs, "spec.replicas", 1);
    namelist nl;
    owned(pods, nsb, uidb, &nl);
    int64_t active = 0, ready = 0;
    for (size_t i = 0; i < nl.n; i++) {
        json_object *p = ks_store_get_locked(pods, nsb, nl.names[i]);
        if (p && pod_active(p)) {
            active++;
            ready += ks_pod_is_ready(p);
        }
    }
    if (active < want) {
        char gen[300];
        snprintf(gen, sizeof gen, "%s-", nameb);
        for (int64_t i = active; i < want; i++)
            create_pod(c, rs, "apps/v1", "ReplicaSet", NULL, gen, NULL, NULL);
    } else if (active > want) {
        int64_t extra = active - want;
        /* not-ready first, then the newest (end of list) */
        for (int pass = 0; pass < 2 && extra > 0; pass++)
            for (size_t i = nl.n; i-- > 0 && extra > 0;) {
                json_object *p = ks_store_get_locked(pods, nsb, nl.names[i]);
                if (!p || !pod_active(p) || (pass == 0 && ks_pod_is_ready(p)))
                    continue;
                delete_obj(s, pods, nsb, nl.names[i]);
                extra--;
            }
    }
    free(nl.names);
    rs = ks_store_get_locked(rst, nsb, nameb);
    if (!rs)
        return;
    /* recount after changes */
    owned(pods, nsb, uidb, &nl);
    active = ready = 0;
    for (size_t i = 0; i < nl.n; i++) {
        json_object *p = ks_store_get_locked(pods, nsb, nl.names[i]);
        if (p && pod_active(p)) {
            active++;
            ready += ks_pod_is_ready(p);
        }
    }
    free(nl.names);
    json_object *nw = ks_json_copy(rs);
    json_object *st = json_object_new_object();
    json_object_object_add(st, "replicas", json_object_new_int64(active));
    json_object_object_add(st, "fullyLabeledReplicas", json_object_new_int64(active));
    json_object_object_add(st, "readyReplicas", json_object_new_int64(ready));
    json_object_object_add(st, "availableReplicas", json_object_new_int64(ready));
    json_object_object_add(st, "observedGeneration", json_object_new_int64(ks_json_int(rs, "metadata.generation", 1)));
    ks_json_set(nw, "status", st);
    put_status(s, rst, nw);
}

/* ---- deployments ---- */

static void reconcile_deploy(ks_ctrl *c, ks_rtype *dt, json_object *d)
{
    ks_sim *s = c->sim;
    ks_rtype *rst = T(s, "apps", "replicasets");
    char nsb[256], uidb[64], nameb[256];
    snprintf(nsb, sizeof nsb, "%s", ks_json_str(d, "metadata.namespace"));
    snprintf(uidb, sizeof uidb, "%s", ks_json_str(d, "metadata.uid"));
    snprintf(nameb, sizeof nameb, "%s", ks_json_str(d, "metadata.name"));
    if (ks_json_get(d, "metadata.deletionTimestamp"))
        return;
    json_object *paused_o = ks_json_get(d, "spec.paused");
    int paused = paused_o && json_object_get_boolean(paused_o);
    int64_t want = ks_json_int(d, "spec.replicas", 1);
    char hash[16];
    hash_str(ks_json_dump(ks_json_get(d, "spec.template"), NULL), hash);
    namelist nl;
    owned(rst, nsb, uidb, &nl);
    char newname[300] = "";
    int64_t maxrev = 0;
    for (size_t i = 0; i < nl.n; i++) {
        json_object *rs = ks_store_get_locked(rst, nsb, nl.names[i]);
        json_object *lab = ks_json_get(rs, "metadata.labels");
        json_object *h = NULL;
        if (lab)
            json_object_object_get_ex(lab, "pod-template-hash", &h);
        if (h && !strcmp(json_object_get_string(h), hash))
            snprintf(newname, sizeof newname, "%s", nl.names[i]);
        json_object *ann = ks_json_get(rs, "metadata.annotations");
        json_object *rv = NULL;
        if (ann && json_object_object_get_ex(ann, "deployment.kubernetes.io/revision", &rv))
            maxrev = strtoll(json_object_get_string(rv), NULL, 10) > maxrev ? strtoll(json_object_get_string(rv), NULL, 10) : maxrev;
    }
    if (!newname[0] && !paused) {
        json_object *rs = json_object_new_object();
        snprintf(newname, sizeof newname, "%s-%s", nameb, hash);
        ks_json_set_str(rs, "metadata.name", newname);
        ks_json_set_str(rs, "metadata.namespace", nsb);
        json_object *labels = ks_json_copy(ks_json_get(d, "spec.template.metadata.labels"));
        if (!labels)
            labels = json_object_new_object();
        json_object_object_add(labels, "pod-template-hash", json_object_new_string(hash));
        ks_json_set(rs, "metadata.labels", ks_json_copy(labels));
        json_object *ann = json_object_new_object();
        char rev[32];
        snprintf(rev, sizeof rev, "%lld", (long long)maxrev + 1);
        json_object_object_add(ann, "deployment.kubernetes.io/revision", json_object_new_string(rev));
        char ds[32];
        snprintf(ds, sizeof ds, "%lld", (long long)want);
        json_object_object_add(ann, "deployment.kubernetes.io/desired-replicas", json_object_new_string(ds));
        ks_json_set(rs, "metadata.annotations", ann);
        ks_json_set(rs, "metadata.ownerReferences", owner_ref(d, "apps/v1", "Deployment"));
        ks_json_set_int(rs, "spec.replicas", want);
        json_object *sel = ks_json_copy(ks_json_get(d, "spec.selector"));
        json_object *ml = ks_json_mkpath(sel, "matchLabels");
        json_object_object_add(ml, "pod-template-hash", json_object_new_string(hash));
        ks_json_set(rs, "spec.selector", sel);
        json_object *tmpl = ks_json_copy(ks_json_get(d, "spec.template"));
        ks_json_set(tmpl, "metadata.labels", labels);
        ks_json_set(rs, "spec.template", tmpl);
        json_object *out;
        ks_err err;
        ks_ops_create_locked(s, rst, nsb, rs, "kube-controller-manager", &out, &err);
        free(nl.names);
        owned(rst, nsb, uidb, &nl);
    }
    /* scale: the new RS to want; old ones down as new pods become ready */
    int64_t new_ready = 0;
    json_object *nrs = newname[0] ? ks_store_get_locked(rst, nsb, newname) : NULL;
    if (nrs && !paused) {
        new_ready = ks_json_int(nrs, "status.readyReplicas", 0);
        if (ks_json_int(nrs, "spec.replicas", 0) != want) {
            json_object *nw = ks_json_copy(nrs);
            ks_json_set_int(nw, "spec.replicas", want);
            put_main(s, rst, nw, "kube-controller-manager");
        }
    }
    int64_t tot = 0, ready = 0, updated = 0, avail = 0;
    for (size_t i = 0; i < nl.n; i++) {
        json_object *rs = ks_store_get_locked(rst, nsb, nl.names[i]);
        if (!rs)
            continue;
        if (!paused && strcmp(nl.names[i], newname)) {
            int64_t cur = ks_json_int(rs, "spec.replicas", 0);
            int64_t target = want - new_ready;
            if (target < 0)
                target = 0;
            if (target < cur) {
                json_object *nw = ks_json_copy(rs);
                ks_json_set_int(nw, "spec.replicas", target);
                put_main(s, rst, nw, "kube-controller-manager");
                rs = ks_store_get_locked(rst, nsb, nl.names[i]);
            }
        }
        tot += ks_json_int(rs, "status.replicas", 0);
        ready += ks_json_int(rs, "status.readyReplicas", 0);
        avail += ks_json_int(rs, "status.availableReplicas", 0);
        if (!strcmp(nl.names[i], newname))
            updated = ks_json_int(rs, "status.replicas", 0);
    }
    free(nl.names);
    d = ks_store_get_locked(dt, nsb, nameb);
    if (!d)
        return;
    json_object *nw = ks_json_copy(d);
    json_object *old = ks_json_get(d, "status");
    json_object *st = json_object_new_object();
    json_object_object_add(st, "observedGeneration", json_object_new_int64(ks_json_int(d, "metadata.generation", 1)));
    if (tot)
        json_object_object_add(st, "replicas", json_object_new_int64(tot));
    if (updated)
        json_object_object_add(st, "updatedReplicas", json_object_new_int64(updated));
    if (ready)
        json_object_object_add(st, "readyReplicas", json_object_new_int64(ready));
    if (avail)
        json_object_object_add(st, "availableReplicas", json_object_new_int64(avail));
    if (tot - avail > 0)
        json_object_object_add(st, "unavailableReplicas", json_object_new_int64(tot - avail));
    if (old && ks_json_get(old, "conditions"))
        json_object_object_add(st, "conditions", ks_json_copy(ks_json_get(old, "conditions")));
    ks_json_set(nw, "status", st);
    int complete = updated == want && tot == want && avail == want;
    set_cond(nw, "Available", avail >= want ? "True" : "False",
             avail >= want ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
             avail >= want ? "Deployment has minimum availability." : "Deployment does not have minimum availability.");
    char msg[600];
    if (paused) {
        set_cond(nw, "Progressing", "Unknown", "DeploymentPaused", "Deployment is paused");
    } else if (complete) {
        snprintf(msg, sizeof msg, "ReplicaSet \"%s\" has successfully progressed.", newname);
        set_cond(nw, "Progressing", "True", "NewReplicaSetAvailable", msg);
    } else {
        snprintf(msg, sizeof msg, "ReplicaSet \"%s\" is progressing.", newname);
        set_cond(nw, "Progressing", "True", "ReplicaSetUpdated", msg);
    }
    /* keep lastUpdateTime out: it would change every tick */
    put_status(s, dt, nw);
}

/* ---- statefulsets ---- */

static void reconcile_sts(ks_ctrl *c, ks_rtype *stt, json_object *ss)
{
    ks_sim *s = c->sim;
    ks_rtype *pods = T(s, "", "pods");
    char nsb[256], nameb[200];
    snprintf(nsb, sizeof nsb, "%s", ks_json_str(ss, "metadata.namespace"));
    snprintf(nameb, sizeof nameb, "%.199s", ks_json_str(ss, "metadata.name"));
    if (ks_json_get(ss, "metadata.deletionTimestamp"))
        return;
    int64_t want = ks_json_int(ss, "spec.replicas", 1);
    const char *pmp = ks_json_str(ss, "spec.podManagementPolicy");
    int parallel = pmp && !strcmp(pmp, "Parallel");
    char hash[16], rev[300];
    hash_str(ks_json_dump(ks_json_get(ss, "spec.template"), NULL), hash);
    snprintf(rev, sizeof rev, "%s-%s", nameb, hash);
    int all_ready_before = 1;
    int64_t ready = 0, updated = 0, current = 0;
    int acted = 0;
    for (int64_t i = 0; i < want; i++) {
        char pn[300];
        snprintf(pn, sizeof pn, "%s-%lld", nameb, (long long)i);
        json_object *p = ks_store_get_locked(pods, nsb, pn);
        if (!p) {
            if (acted || (!parallel && !all_ready_before))
                break;
            json_object *lab = json_object_new_object();
            json_object_object_add(lab, "statefulset.kubernetes.io/pod-name", json_object_new_string(pn));
            json_object_object_add(lab, "controller-revision-hash", json_object_new_string(rev));
            char idx[32];
            snprintf(idx, sizeof idx, "%lld", (long long)i);
            json_object_object_add(lab, "apps.kubernetes.io/pod-index", json_object_new_string(idx));
            create_pod(c, ss, "apps/v1", "StatefulSet", pn, NULL, lab, NULL);
            json_object_put(lab);
            acted = !parallel;
            all_ready_before = 0;
            continue;
        }
        int r = ks_pod_is_ready(p) && pod_active(p);
        ready += r;
        json_object *lab = ks_json_get(p, "metadata.labels"), *h = NULL;
        if (lab)
            json_object_object_get_ex(lab, "controller-revision-hash", &h);
        if (h && !strcmp(json_object_get_string(h), rev))
            updated++;
        current++;
        if (!r)
            all_ready_before = 0;
    }
    /* scale down: highest ordinal first, one at a time */
    char pfx[520];
    snprintf(pfx, sizeof pfx, "%s/%s-", nsb, nameb);
    int64_t maxo = -1;
    for (size_t i = ks_store_lower_bound(pods, pfx); i < pods->n; i++) {
        if (strncmp(pods->objs[i].key, pfx, strlen(pfx)))
            break;
        const char *ord = pods->objs[i].key + strlen(pfx);
        char *e = NULL;
        long long o = strtoll(ord, &e, 10);
        if (*e == 0 && o > maxo && pod_active(pods->objs[i].o))
            maxo = o;
    }
    if (maxo >= want && !acted) {
        char pn[300];
        snprintf(pn, sizeof pn, "%s-%lld", nameb, (long long)maxo);
        delete_obj(s, pods, nsb, pn);
        acted = 1;
    }
    /* rolling update: replace the highest outdated pod when all are ready */
    if (!acted && all_ready_before && ready == want && updated < want) {
        for (int64_t i = want - 1; i >= 0; i--) {
            char pn[300];
            snprintf(pn, sizeof pn, "%s-%lld", nameb, (long long)i);
            json_object *p = ks_store_get_locked(pods, nsb, pn);
            json_object *lab = p ? ks_json_get(p, "metadata.labels") : NULL, *h = NULL;
            if (lab)
                json_object_object_get_ex(lab, "controller-revision-hash", &h);
            if (p && (!h || strcmp(json_object_get_string(h), rev))) {
                delete_obj(s, pods, nsb, pn);
                break;
            }
        }
    }
    ss = ks_store_get_locked(stt, nsb, nameb);
    if (!ss)
        return;
    json_object *nw = ks_json_copy(ss);
    json_object *st = json_object_new_object();
    json_object_object_add(st, "observedGeneration", json_object_new_int64(ks_json_int(ss, "metadata.generation", 1)));
    json_object_object_add(st, "replicas", json_object_new_int64(current));
    json_object_object_add(st, "readyReplicas", json_object_new_int64(ready));
    json_object_object_add(st, "currentReplicas", json_object_new_int64(updated));
    json_object_object_add(st, "updatedReplicas", json_object_new_int64(updated));
    json_object_object_add(st, "availableReplicas", json_object_new_int64(ready));
    json_object_object_add(st, "currentRevision", json_object_new_string(updated == want ? rev : rev));
    json_object_object_add(st, "updateRevision", json_object_new_string(rev));
    json_object_object_add(st, "collisionCount", json_object_new_int(0));
    ks_json_set(nw, "status", st);
    put_status(s, stt, nw);
}

/* ---- daemonsets ---- */

static int node_selected(json_object *node, json_object *nodesel)
{
    if (!nodesel || !json_object_is_type(nodesel, json_type_object))
        return 1;
    json_object *labels = ks_json_get(node, "metadata.labels");
    json_object_object_foreach(nodesel, k, v) {
        json_object *have = NULL;
        if (!labels || !json_object_object_get_ex(labels, k, &have) ||
            strcmp(json_object_get_string(have), json_object_get_string(v)))
            return 0;
    }
    return 1;
}

static void reconcile_ds(ks_ctrl *c, ks_rtype *dst, json_object *ds)
{
    ks_sim *s = c->sim;
    ks_rtype *pods = T(s, "", "pods"), *nodes = T(s, "", "nodes");
    char nsb[256], nameb[256], uidb[64];
    snprintf(nsb, sizeof nsb, "%s", ks_json_str(ds, "metadata.namespace"));
    snprintf(nameb, sizeof nameb, "%s", ks_json_str(ds, "metadata.name"));
    snprintf(uidb, sizeof uidb, "%s", ks_json_str(ds, "metadata.uid"));
    if (ks_json_get(ds, "metadata.deletionTimestamp"))
        return;
    char hash[16];
    hash_str(ks_json_dump(ks_json_get(ds, "spec.template"), NULL), hash);
    json_object *nodesel = ks_json_get(ds, "spec.template.spec.nodeSelector");
    namelist nl;
    owned(pods, nsb, uidb, &nl);
    int64_t desired = 0, scheduled = 0, ready = 0, updated = 0;
    int replaced = 0;
    for (size_t n = 0; n < nodes->n; n++) {
        json_object *node = nodes->objs[n].o;
        const char *nn = ks_json_str(node, "metadata.name");
        if (!node_selected(node, nodesel))
            continue;
        desired++;
        json_object *mine = NULL;
        for (size_t i = 0; i < nl.n && !mine; i++) {
            json_object *p = ks_store_get_locked(pods, nsb, nl.names[i]);
            const char *pn = p ? ks_json_str(p, "spec.nodeName") : NULL;
            if (p && pn && !strcmp(pn, nn) && pod_active(p))
                mine = p;
        }
        if (!mine) {
            char gen[300];
            snprintf(gen, sizeof gen, "%s-", nameb);
            json_object *lab = json_object_new_object();
            json_object_object_add(lab, "controller-revision-hash", json_object_new_string(hash));
            create_pod(c, ds, "apps/v1", "DaemonSet", NULL, gen, lab, nn);
            json_object_put(lab);
            continue;
        }
        scheduled++;
        ready += ks_pod_is_ready(mine);
        json_object *lab = ks_json_get(mine, "metadata.labels"), *h = NULL;
        if (lab)
            json_object_object_get_ex(lab, "controller-revision-hash", &h);
        if (h && !strcmp(json_object_get_string(h), hash)) {
            updated++;
        } else if (!replaced) {
            char pn[256];
            snprintf(pn, sizeof pn, "%s", ks_json_str(mine, "metadata.name"));
            delete_obj(s, pods, nsb, pn);
            replaced = 1;
        }
    }
    free(nl.names);
    ds = ks_store_get_locked(dst, nsb, nameb);
    if (!ds)
        return;
    json_object *nw = ks_json_copy(ds);
    json_object *st = json_object_new_object();
    json_object_object_add(st, "observedGeneration", json_object_new_int64(ks_json_int(ds, "metadata.generation", 1)));
    json_object_object_add(st, "desiredNumberScheduled", json_object_new_int64(desired));
    json_object_object_add(st, "currentNumberScheduled", json_object_new_int64(scheduled));
    json_object_object_add(st, "numberReady", json_object_new_int64(ready));
    json_object_object_add(st, "numberAvailable", json_object_new_int64(ready));
    json_object_object_add(st, "updatedNumberScheduled", json_object_new_int64(updated));
    json_object_object_add(st, "numberMisscheduled", json_object_new_int(0));
    if (desired - ready > 0)
        json_object_object_add(st, "numberUnavailable", json_object_new_int64(desired - ready));
    ks_json_set(nw, "status", st);
    put_status(s, dst, nw);
}

/* ---- PDB ---- */

static int64_t int_or_pct(json_object *v, int64_t total, int round_up)
{
    if (!v)
        return -1;
    if (json_object_is_type(v, json_type_int))
        return json_object_get_int64(v);
    const char *s = json_object_get_string(v);
    if (!s)
        return -1;
    char *e = NULL;
    long long p = strtoll(s, &e, 10);
    if (*e == '%') {
        long long x = p * total;
        return round_up ? (x + 99) / 100 : x / 100;
    }
    return p;
}

json_object *ks_ctrl_pdb_status_locked(ks_sim *s, json_object *pdb)
{
    ks_rtype *pods = T(s, "", "pods");
    const char *ns = ks_json_str(pdb, "metadata.namespace");
    ks_sel sel;
    int64_t expected = 0, healthy = 0;
    if (!ks_sel_from_json(&sel, ks_json_get(pdb, "spec.selector"), NULL, 0)) {
        char pfx[300];
        snprintf(pfx, sizeof pfx, "%s/", ns);
        for (size_t i = ks_store_lower_bound(pods, pfx); i < pods->n; i++) {
            if (strncmp(pods->objs[i].key, pfx, strlen(pfx)))
                break;
            json_object *p = pods->objs[i].o;
            if (!pod_active(p) || !ks_sel_match_labels(&sel, ks_json_get(p, "metadata.labels")))
                continue;
            expected++;
            healthy += ks_pod_is_ready(p);
        }
        ks_sel_release(&sel);
    }
    int64_t desired;
    json_object *minav = ks_json_get(pdb, "spec.minAvailable"), *maxun = ks_json_get(pdb, "spec.maxUnavailable");
    if (minav)
        desired = int_or_pct(minav, expected, 1);
    else if (maxun) {
        desired = expected - int_or_pct(maxun, expected, 1);
    } else
        desired = expected; /* no field: like minAvailable 100% */
    if (desired < 0)
        desired = 0;
    int64_t allowed = healthy - desired;
    if (allowed < 0)
        allowed = 0;
    json_object *st = json_object_new_object();
    json_object_object_add(st, "observedGeneration", json_object_new_int64(ks_json_int(pdb, "metadata.generation", 1)));
    json_object_object_add(st, "disruptionsAllowed", json_object_new_int64(allowed));
    json_object_object_add(st, "currentHealthy", json_object_new_int64(healthy));
    json_object_object_add(st, "desiredHealthy", json_object_new_int64(desired));
    json_object_object_add(st, "expectedPods", json_object_new_int64(expected));
    json_object *tmp = json_object_new_object();
    ks_json_set(tmp, "status", st);
    set_cond(tmp, "DisruptionAllowed", allowed > 0 ? "True" : "False", allowed > 0 ? "SufficientPods" : "InsufficientPods",
             NULL);
    json_object *conds = ks_json_get(tmp, "status.conditions");
    json_object_object_foreach(conds ? json_object_array_get_idx(conds, 0) : json_object_new_object(), k, v) {
        (void)v;
        if (!strcmp(k, "lastProbeTime"))
            json_object_object_del(json_object_array_get_idx(conds, 0), k);
    }
    json_object *ret = json_object_get(st);
    json_object_put(tmp);
    return ret;
}

/* Keep lastTransitionTime of an unchanged condition so no-op updates stay no-ops. */
static void keep_times(json_object *old_status, json_object *new_status)
{
    json_object *oc = ks_json_get(old_status, "conditions"), *nc = ks_json_get(new_status, "conditions");
    for (size_t i = 0; nc && oc && i < json_object_array_length(nc); i++) {
        json_object *n = json_object_array_get_idx(nc, i);
        for (size_t j = 0; j < json_object_array_length(oc); j++) {
            json_object *o = json_object_array_get_idx(oc, j);
            if (!strcmp(ks_json_str(o, "type") ? ks_json_str(o, "type") : "", ks_json_str(n, "type")) &&
                !strcmp(ks_json_str(o, "status") ? ks_json_str(o, "status") : "", ks_json_str(n, "status")) &&
                ks_json_get(o, "lastTransitionTime"))
                json_object_object_add(n, "lastTransitionTime", ks_json_copy(ks_json_get(o, "lastTransitionTime")));
        }
    }
}

static void reconcile_pdb(ks_ctrl *c, ks_rtype *pt, json_object *pdb)
{
    json_object *st = ks_ctrl_pdb_status_locked(c->sim, pdb);
    json_object *old = ks_json_get(pdb, "status");
    keep_times(old, st);
    /* keep the recorded disruptions until the pods are gone */
    json_object *dp = ks_json_get(old, "disruptedPods");
    if (dp && json_object_object_length(dp) > 0) {
        json_object *keep = json_object_new_object();
        ks_rtype *pods = T(c->sim, "", "pods");
        json_object_object_foreach(dp, k, v) {
            json_object *p = ks_store_get_locked(pods, ks_json_str(pdb, "metadata.namespace"), k);
            if (p && !ks_json_get(p, "metadata.deletionTimestamp"))
                json_object_object_add(keep, k, json_object_get(v));
        }
        if (json_object_object_length(keep))
            json_object_object_add(st, "disruptedPods", keep);
        else
            json_object_put(keep);
    }
    json_object *nw = ks_json_copy(pdb);
    ks_json_set(nw, "status", st);
    put_status(c->sim, pt, nw);
}

/* ---- scheduler + kubelet ---- */

static const char *pick_node(ks_sim *s, json_object *pod, char *out, size_t cap)
{
    ks_rtype *nodes = T(s, "", "nodes"), *pods = T(s, "", "pods");
    json_object *nodesel = ks_json_get(pod, "spec.nodeSelector");
    const char *best = NULL;
    long long bestn = -1;
    for (size_t i = 0; i < nodes->n; i++) {
        json_object *n = nodes->objs[i].o;
        json_object *un = ks_json_get(n, "spec.unschedulable");
        if ((un && json_object_get_boolean(un)) || !node_ready(n) || !node_selected(n, nodesel))
            continue;
        const char *nn = ks_json_str(n, "metadata.name");
        long long cnt = 0;
        if (!s->load_mode)
            for (size_t j = 0; j < pods->n; j++) {
                const char *pn = ks_json_str(pods->objs[j].o, "spec.nodeName");
                cnt += pn && !strcmp(pn, nn);
            }
        if (bestn < 0 || cnt < bestn) {
            bestn = cnt;
            best = nn;
        }
    }
    if (!best)
        return NULL;
    snprintf(out, cap, "%s", best);
    return out;
}

static json_object *container_statuses(json_object *pod, int running, int ready)
{
    json_object *arr = json_object_new_array();
    json_object *cs = ks_json_get(pod, "spec.containers");
    json_object *old = ks_json_get(pod, "status.containerStatuses");
    char now[32];
    ks_time_rfc3339(now, time(NULL));
    for (size_t i = 0; cs && i < json_object_array_length(cs); i++) {
        json_object *c = json_object_array_get_idx(cs, i);
        const char *name = ks_json_str(c, "name"), *img = ks_json_str(c, "image");
        json_object *o = NULL;
        for (size_t j = 0; old && j < json_object_array_length(old); j++)
            if (!strcmp(ks_json_str(json_object_array_get_idx(old, j), "name"), name))
                o = json_object_array_get_idx(old, j);
        json_object *st = json_object_new_object();
        json_object_object_add(st, "name", json_object_new_string(name));
        json_object_object_add(st, "image", json_object_new_string(img ? img : ""));
        char iid[300];
        snprintf(iid, sizeof iid, "docker.io/library/%s@sha256:%08x%08x", img ? img : "", fnv(img ? img : ""), fnv(name));
        json_object_object_add(st, "imageID", json_object_new_string(iid));
        char cid[100];
        snprintf(cid, sizeof cid, "containerd://%08x%08x%08x", fnv(ks_json_str(pod, "metadata.uid")), fnv(name), (unsigned)i);
        json_object_object_add(st, "containerID", json_object_new_string(cid));
        json_object_object_add(st, "ready", json_object_new_boolean(ready));
        json_object_object_add(st, "started", json_object_new_boolean(running));
        json_object_object_add(st, "restartCount", json_object_new_int64(o ? ks_json_int(o, "restartCount", 0) : 0));
        json_object *state = json_object_new_object();
        if (running) {
            json_object *r = json_object_new_object();
            const char *prev = o ? ks_json_str(o, "state.running.startedAt") : NULL;
            json_object_object_add(r, "startedAt", json_object_new_string(prev ? prev : now));
            json_object_object_add(state, "running", r);
        } else {
            json_object *w = json_object_new_object();
            json_object_object_add(w, "reason", json_object_new_string("ContainerCreating"));
            json_object_object_add(state, "waiting", w);
        }
        json_object_object_add(st, "state", state);
        if (o && ks_json_get(o, "lastState"))
            json_object_object_add(st, "lastState", ks_json_copy(ks_json_get(o, "lastState")));
        else
            json_object_object_add(st, "lastState", json_object_new_object());
        json_object_array_add(arr, st);
    }
    return arr;
}

static void kubelet(ks_ctrl *c, ks_rtype *pods, json_object *pod, long long now)
{
    ks_sim *s = c->sim;
    const char *uid = ks_json_str(pod, "metadata.uid");
    const char *node = ks_json_str(pod, "spec.nodeName");
    const char *phase = ks_json_str(pod, "status.phase");
    char nsb[256], nameb[256];
    snprintf(nsb, sizeof nsb, "%s", ks_json_str(pod, "metadata.namespace"));
    snprintf(nameb, sizeof nameb, "%s", ks_json_str(pod, "metadata.name"));
    if (!uid)
        return;
    if (ks_json_get(pod, "metadata.deletionTimestamp")) {
        ks_pending *p = pend(c, uid, 1);
        if (!p)
            return;
        if (p->stage != 2) {
            p->stage = 2;
            p->due = now + s->pod_delete_ms;
        } else if (now >= p->due) {
            json_object *fin = ks_json_get(pod, "metadata.finalizers");
            if (!fin || json_object_array_length(fin) == 0)
                ks_ops_remove_now_locked(s, pods, nsb, nameb);
        }
        return;
    }
    if (!node) {
        char nn[256];
        if (!pick_node(s, pod, nn, sizeof nn)) {
            json_object *nw = ks_json_copy(pod);
            set_cond(nw, "PodScheduled", "False", "Unschedulable", "0/0 nodes are available: no schedulable Ready node.");
            keep_times(ks_json_get(pod, "status"), ks_json_get(nw, "status"));
            put_status(s, pods, nw);
            return;
        }
        json_object *nw = ks_json_copy(pod);
        ks_json_set_str(nw, "spec.nodeName", nn);
        put_main(s, pods, nw, "kube-scheduler");
        pod = ks_store_get_locked(pods, nsb, nameb);
        if (!pod)
            return;
        nw = ks_json_copy(pod);
        set_cond(nw, "PodScheduled", "True", NULL, NULL);
        put_status(s, pods, nw);
        ks_pending *p = pend(c, uid, 1);
        if (p) {
            p->stage = 0;
            p->due = now + s->pod_start_ms;
        }
        return;
    }
    ks_rtype *nodes = T(s, "", "nodes");
    json_object *nodeo = ks_store_get_locked(nodes, NULL, node);
    int nready = nodeo && node_ready(nodeo);
    ks_pending *p = pend(c, uid, 0);
    if (phase && !strcmp(phase, "Pending")) {
        if (!p) {
            p = pend(c, uid, 1);
            if (!p)
                return;
            p->stage = 0;
            p->due = now + s->pod_start_ms;
            return;
        }
        if (p->stage == 0 && now >= p->due && nready) {
            json_object *nw = ks_json_copy(pod);
            char ts[32];
            ks_time_rfc3339(ts, time(NULL));
            ks_json_set_str(nw, "status.phase", "Running");
            ks_json_set_str(nw, "status.startTime", ts);
            ks_json_set_str(nw, "status.hostIP", ks_json_str(nodeo, "status.addresses") ? "" : "10.0.0.1");
            json_object *addrs = ks_json_get(nodeo, "status.addresses");
            if (addrs && json_object_array_length(addrs) > 0)
                ks_json_set_str(nw, "status.hostIP", ks_json_str(json_object_array_get_idx(addrs, 0), "address"));
            uint32_t h = fnv(uid);
            char ip[32];
            snprintf(ip, sizeof ip, "10.244.%u.%u", (h >> 8) & 0xff, (h & 0xfd) + 2);
            ks_json_set_str(nw, "status.podIP", ip);
            json_object *ips = json_object_new_array();
            json_object *ipo = json_object_new_object();
            json_object_object_add(ipo, "ip", json_object_new_string(ip));
            json_object_array_add(ips, ipo);
            ks_json_set(nw, "status.podIPs", ips);
            set_cond(nw, "PodReadyToStartContainers", "True", NULL, NULL);
            set_cond(nw, "Initialized", "True", NULL, NULL);
            set_cond(nw, "Ready", "False", "ContainersNotReady", "containers with unready status");
            set_cond(nw, "ContainersReady", "False", "ContainersNotReady", "containers with unready status");
            set_cond(nw, "PodScheduled", "True", NULL, NULL);
            ks_json_set(nw, "status.containerStatuses", container_statuses(nw, 1, 0));
            keep_times(ks_json_get(pod, "status"), ks_json_get(nw, "status"));
            put_status(s, pods, nw);
            p = pend(c, uid, 1);
            if (p) {
                p->stage = 1;
                p->due = now + s->pod_ready_ms;
            }
        }
        return;
    }
    if (!phase || strcmp(phase, "Running"))
        return;
    if (!p) {
        p = pend(c, uid, 1);
        if (!p)
            return;
        p->stage = ks_pod_is_ready(pod) ? 9 : 1;
        p->due = now + s->pod_ready_ms;
    }
    int want_ready = nready && !p->forced_notready;
    if (p->stage == 1 && now < p->due)
        return;
    if (p->stage == 1)
        p->stage = 9;
    if (want_ready != ks_pod_is_ready(pod)) {
        json_object *nw = ks_json_copy(pod);
        if (want_ready) {
            set_cond(nw, "Ready", "True", NULL, NULL);
            set_cond(nw, "ContainersReady", "True", NULL, NULL);
        } else {
            set_cond(nw, "Ready", "False", nready ? "ContainersNotReady" : "NodeNotReady",
                     nready ? "containers with unready status" : "node is not ready");
            set_cond(nw, "ContainersReady", "False", "ContainersNotReady", "containers with unready status");
        }
        json_object *css = ks_json_get(nw, "status.containerStatuses");
        if (!css) {
            ks_json_set(nw, "status.containerStatuses", container_statuses(nw, 1, want_ready));
        } else if (!p->forced_notready) {
            for (size_t i = 0; i < json_object_array_length(css); i++) {
                json_object *cs = json_object_array_get_idx(css, i);
                json_object_object_add(cs, "ready", json_object_new_boolean(want_ready));
            }
        }
        keep_times(ks_json_get(pod, "status"), ks_json_get(nw, "status"));
        put_status(s, pods, nw);
    }
}

/* ---- garbage collection and namespaces ---- */

static int owner_alive(ks_sim *s, json_object *dep, json_object *ref, json_object **owner_out, ks_rtype **ot_out)
{
    const char *av = ks_json_str(ref, "apiVersion"), *kind = ks_json_str(ref, "kind"), *name = ks_json_str(ref, "name"),
               *uid = ks_json_str(ref, "uid");
    if (!av || !kind || !name || !uid)
        return 1; /* malformed refs are left alone */
    ks_rtype *ot = ks_store_type_kind_locked(&s->st, av, kind);
    if (!ot)
        return 0;
    json_object *o = ks_store_get_locked(ot, ot->namespaced ? ks_json_str(dep, "metadata.namespace") : NULL, name);
    if (!o || strcmp(ks_json_str(o, "metadata.uid"), uid))
        return 0;
    *owner_out = o;
    *ot_out = ot;
    return 1;
}

static int has_finalizer(json_object *o, const char *f)
{
    json_object *fin = ks_json_get(o, "metadata.finalizers");
    for (size_t i = 0; fin && json_object_is_type(fin, json_type_array) && i < json_object_array_length(fin); i++)
        if (!strcmp(json_object_get_string(json_object_array_get_idx(fin, i)), f))
            return 1;
    return 0;
}

static void drop_finalizer(ks_sim *s, ks_rtype *rt, json_object *o, const char *f)
{
    json_object *nw = ks_json_copy(o);
    json_object *fin = ks_json_get(nw, "metadata.finalizers");
    for (size_t i = json_object_array_length(fin); i-- > 0;)
        if (!strcmp(json_object_get_string(json_object_array_get_idx(fin, i)), f))
            json_object_array_del_idx(fin, i, 1);
    put_main(s, rt, nw, "kube-controller-manager");
}

static void gc(ks_ctrl *c)
{
    ks_sim *s = c->sim;
    /* owners being deleted in the foreground / with orphaning */
    for (int t = 0; t < s->st.ntypes; t++) {
        ks_rtype *rt = s->st.types[t];
        if (rt->gone)
            continue;
        for (size_t i = 0; i < rt->n; i++) {
            json_object *o = rt->objs[i].o;
            if (!ks_json_get(o, "metadata.deletionTimestamp"))
                continue;
            int fg = has_finalizer(o, "foregroundDeletion"), orphan = has_finalizer(o, "orphan");
            if (!fg && !orphan)
                continue;
            const char *uid = ks_json_str(o, "metadata.uid");
            int dependents = 0;
            for (int t2 = 0; t2 < s->st.ntypes; t2++) {
                ks_rtype *dt = s->st.types[t2];
                for (size_t j = 0; !dt->gone && j < dt->n; j++) {
                    json_object *d = dt->objs[j].o;
                    json_object *refs = ks_json_get(d, "metadata.ownerReferences");
                    for (size_t k = 0; refs && k < json_object_array_length(refs); k++) {
                        const char *ru = ks_json_str(json_object_array_get_idx(refs, k), "uid");
                        if (!ru || strcmp(ru, uid))
                            continue;
                        dependents++;
                        char dns[256], dn[256];
                        snprintf(dns, sizeof dns, "%s", ks_json_str(d, "metadata.namespace") ? ks_json_str(d, "metadata.namespace") : "");
                        snprintf(dn, sizeof dn, "%s", ks_json_str(d, "metadata.name"));
                        if (orphan) {
                            json_object *nw = ks_json_copy(d);
                            json_object_array_del_idx(ks_json_get(nw, "metadata.ownerReferences"), k, 1);
                            put_main(s, dt, nw, "kube-controller-manager");
                        } else if (!ks_json_get(d, "metadata.deletionTimestamp")) {
                            json_object *out = NULL;
                            ks_err err;
                            if (!ks_ops_delete_locked(s, dt, dns, dn, "Foreground", -1, NULL, NULL, &out, &err))
                                json_object_put(out);
                        }
                        break;
                    }
                }
            }
            o = rt->objs[i].o;
            if (orphan || dependents == 0) {
                drop_finalizer(s, rt, o, orphan ? "orphan" : "foregroundDeletion");
                i = 0; /* the array may have changed */
                if (rt->n == 0)
                    break;
            }
        }
    }
    /* background: dependents whose owners are all gone */
    for (int t = 0; t < s->st.ntypes; t++) {
        ks_rtype *rt = s->st.types[t];
        if (rt->gone)
            continue;
        for (size_t i = 0; i < rt->n; i++) {
            json_object *o = rt->objs[i].o;
            json_object *refs = ks_json_get(o, "metadata.ownerReferences");
            size_t nr = refs && json_object_is_type(refs, json_type_array) ? json_object_array_length(refs) : 0;
            if (!nr || ks_json_get(o, "metadata.deletionTimestamp"))
                continue;
            int alive = 0;
            for (size_t k = 0; k < nr && !alive; k++) {
                json_object *ow = NULL;
                ks_rtype *ot = NULL;
                alive = owner_alive(s, o, json_object_array_get_idx(refs, k), &ow, &ot);
            }
            if (!alive) {
                char dns[256], dn[256];
                snprintf(dns, sizeof dns, "%s", ks_json_str(o, "metadata.namespace") ? ks_json_str(o, "metadata.namespace") : "");
                snprintf(dn, sizeof dn, "%s", ks_json_str(o, "metadata.name"));
                size_t before = rt->n;
                delete_obj(s, rt, dns, dn);
                if (rt->n < before && i > 0)
                    i--;
            }
        }
    }
}

static void namespaces(ks_ctrl *c)
{
    ks_sim *s = c->sim;
    ks_rtype *nst = T(s, "", "namespaces");
    for (size_t i = 0; i < nst->n; i++) {
        json_object *n = nst->objs[i].o;
        if (!ks_json_get(n, "metadata.deletionTimestamp"))
            continue;
        char name[256];
        snprintf(name, sizeof name, "%s", ks_json_str(n, "metadata.name"));
        char pfx[300];
        snprintf(pfx, sizeof pfx, "%s/", name);
        int left = 0;
        for (int t = 0; t < s->st.ntypes; t++) {
            ks_rtype *rt = s->st.types[t];
            if (rt->gone || !rt->namespaced)
                continue;
            size_t j;
            while ((j = ks_store_lower_bound(rt, pfx)) < rt->n && !strncmp(rt->objs[j].key, pfx, strlen(pfx))) {
                json_object *o = rt->objs[j].o;
                char on[256];
                snprintf(on, sizeof on, "%s", ks_json_str(o, "metadata.name"));
                if (!ks_json_get(o, "metadata.finalizers") || json_object_array_length(ks_json_get(o, "metadata.finalizers")) == 0) {
                    ks_ops_remove_now_locked(s, rt, name, on);
                } else {
                    left++;
                    if (!ks_json_get(o, "metadata.deletionTimestamp"))
                        delete_obj(s, rt, name, on);
                    break;
                }
            }
        }
        if (!left) {
            ks_ops_remove_now_locked(s, nst, NULL, name);
            i = (size_t)-1;
        }
    }
}

/* ---- tick ---- */

void ks_ctrl_tick_locked(ks_ctrl *c)
{
    ks_sim *s = c->sim;
    long long now = ks_now_ms();
    namespaces(c);
    /* GC only has work after a deletion (or an owner marked for one) */
    if (s->st.deletes != c->gc_deletes) {
        c->gc_deletes = s->st.deletes;
        gc(c);
    }
    ks_rtype *dt = T(s, "apps", "deployments"), *rst = T(s, "apps", "replicasets"), *stt = T(s, "apps", "statefulsets"),
             *dst = T(s, "apps", "daemonsets"), *pdbt = T(s, "policy", "poddisruptionbudgets"), *pods = T(s, "", "pods");
    /* iterate by key copies: reconcilers add and remove objects */
    ks_rtype *order[] = {dt, rst, stt, dst};
    for (int t = 0; t < 4; t++) {
        ks_rtype *rt = order[t];
        size_t n = rt->n;
        char (*keys)[520] = n ? malloc(n * sizeof *keys) : NULL;
        if (n && !keys)
            continue;
        for (size_t i = 0; i < n; i++)
            snprintf(keys[i], 520, "%s", rt->objs[i].key);
        for (size_t i = 0; i < n; i++) {
            size_t j = ks_store_lower_bound(rt, keys[i]);
            if (j >= rt->n || strcmp(rt->objs[j].key, keys[i]))
                continue;
            json_object *o = rt->objs[j].o;
            if (rt == dt)
                reconcile_deploy(c, rt, o);
            else if (rt == rst)
                reconcile_rs(c, rt, o);
            else if (rt == stt)
                reconcile_sts(c, rt, o);
            else
                reconcile_ds(c, rt, o);
        }
        free(keys);
    }
    /* kubelet & scheduler: walk by index; after acting on a pod, find our
     * place again by key (the pod may have been removed) */
    if (!s->load_mode || now - c->last_pod_scan >= 5000) {
        c->last_pod_scan = now;
        size_t j = 0;
        while (j < pods->n) {
            json_object *p = pods->objs[j].o;
            if (s->load_mode && ks_pod_is_ready(p) && !ks_json_get(p, "metadata.deletionTimestamp")) {
                j++;
                continue;
            }
            char key[520];
            snprintf(key, sizeof key, "%s", pods->objs[j].key);
            kubelet(c, pods, p, now);
            size_t k = ks_store_lower_bound(pods, key);
            j = (k < pods->n && !strcmp(pods->objs[k].key, key)) ? k + 1 : k;
        }
    }
    for (size_t i = 0; i < pdbt->n; i++)
        reconcile_pdb(c, pdbt, pdbt->objs[i].o);
    /* the kubelets of Ready nodes renew their node leases */
    if (!s->load_mode && now - c->last_lease >= 10000) {
        c->last_lease = now;
        ks_rtype *nodes = T(s, "", "nodes"), *lt = ks_store_type_locked(&s->st, "coordination.k8s.io", "v1", "leases");
        for (size_t i = 0; lt && i < nodes->n; i++) {
            json_object *n = nodes->objs[i].o;
            json_object *l = ks_store_get_locked(lt, "kube-node-lease", ks_json_str(n, "metadata.name"));
            if (!l || !node_ready(n))
                continue;
            json_object *nw = ks_json_copy(l);
            char ts[40];
            ks_time_micro(ts);
            ks_json_set_str(nw, "spec.renewTime", ts);
            put_main(s, lt, nw, "kubelet");
        }
    }
    if (!s->load_mode && c->npending > 256)
        pend_drop_missing(c, pods);
}

static void *ctrl_main(void *arg)
{
    ks_ctrl *c = arg;
    while (c->running && !c->sim->stop) {
        pthread_mutex_lock(&c->sim->st.mu);
        ks_ctrl_tick_locked(c);
        pthread_mutex_unlock(&c->sim->st.mu);
        usleep((useconds_t)c->period_ms * 1000);
    }
    return NULL;
}

int ks_ctrl_start(ks_ctrl *c, ks_sim *s, int period_ms)
{
    memset(c, 0, sizeof *c);
    c->sim = s;
    s->ctrl = c;
    c->period_ms = period_ms > 0 ? period_ms : 50;
    c->running = 1;
    if (pthread_create(&c->thread, NULL, ctrl_main, c)) {
        c->running = 0;
        return -EAGAIN;
    }
    return 0;
}

void ks_ctrl_stop(ks_ctrl *c)
{
    if (c->running) {
        c->running = 0;
        pthread_join(c->thread, NULL);
    }
    free(c->pending);
    c->pending = NULL;
}

/* ---- scripted changes ---- */

int ks_ctrl_crash_container_locked(ks_sim *s, const char *ns, const char *pod, const char *container,
                                   const char *reason, int exit_code)
{
    ks_rtype *pods = T(s, "", "pods");
    json_object *p = ks_store_get_locked(pods, ns, pod);
    if (!p)
        return -ENOENT;
    json_object *nw = ks_json_copy(p);
    json_object *css = ks_json_get(nw, "status.containerStatuses");
    if (!css) {
        css = container_statuses(nw, 1, 0);
        ks_json_set(nw, "status.containerStatuses", css);
    }
    json_object *cs = NULL;
    for (size_t i = 0; i < json_object_array_length(css) && !cs; i++) {
        json_object *x = json_object_array_get_idx(css, i);
        if (!container || !strcmp(ks_json_str(x, "name"), container))
            cs = x;
    }
    if (!cs) {
        json_object_put(nw);
        return -ENOENT;
    }
    char now[32];
    ks_time_rfc3339(now, time(NULL));
    const char *started = ks_json_str(cs, "state.running.startedAt");
    json_object *term = json_object_new_object();
    json_object_object_add(term, "exitCode", json_object_new_int(exit_code));
    json_object_object_add(term, "reason", json_object_new_string(reason ? reason : "Error"));
    json_object_object_add(term, "startedAt", json_object_new_string(started ? started : now));
    json_object_object_add(term, "finishedAt", json_object_new_string(now));
    json_object_object_add(term, "containerID", json_object_new_string(ks_json_str(cs, "containerID") ? ks_json_str(cs, "containerID") : ""));
    json_object *last = json_object_new_object();
    json_object_object_add(last, "terminated", term);
    json_object_object_add(cs, "lastState", last);
    json_object_object_add(cs, "restartCount", json_object_new_int64(ks_json_int(cs, "restartCount", 0) + 1));
    json_object *state = json_object_new_object();
    json_object *w = json_object_new_object();
    json_object_object_add(w, "reason", json_object_new_string("CrashLoopBackOff"));
    char msg[300];
    snprintf(msg, sizeof msg, "back-off 10s restarting failed container=%s pod=%s_%s(%s)", ks_json_str(cs, "name"), pod, ns,
             ks_json_str(p, "metadata.uid"));
    json_object_object_add(w, "message", json_object_new_string(msg));
    json_object_object_add(state, "waiting", w);
    json_object_object_add(cs, "state", state);
    json_object_object_add(cs, "ready", json_object_new_boolean(0));
    json_object_object_add(cs, "started", json_object_new_boolean(0));
    set_cond(nw, "Ready", "False", "ContainersNotReady", "containers with unready status");
    set_cond(nw, "ContainersReady", "False", "ContainersNotReady", "containers with unready status");
    if (s->ctrl) {
        ks_pending *pe = pend(s->ctrl, ks_json_str(p, "metadata.uid"), 1);
        if (pe)
            pe->forced_notready = 1;
    }
    put_status(s, pods, nw);
    return 0;
}

/* Forced readiness is remembered in the kubelet table so the loop keeps it. */
int ks_ctrl_pod_ready_locked(ks_sim *s, const char *ns, const char *pod, int ready)
{
    ks_rtype *pods = T(s, "", "pods");
    json_object *p = ks_store_get_locked(pods, ns, pod);
    if (!p)
        return -ENOENT;
    if (s->ctrl) {
        ks_pending *pe = pend(s->ctrl, ks_json_str(p, "metadata.uid"), 1);
        if (pe)
            pe->forced_notready = !ready;
    }
    json_object *nw = ks_json_copy(p);
    if (ready) {
        set_cond(nw, "Ready", "True", NULL, NULL);
        set_cond(nw, "ContainersReady", "True", NULL, NULL);
        json_object *css = ks_json_get(nw, "status.containerStatuses");
        for (size_t i = 0; css && i < json_object_array_length(css); i++) {
            json_object *cs = json_object_array_get_idx(css, i);
            json_object_object_add(cs, "ready", json_object_new_boolean(1));
            json_object_object_add(cs, "started", json_object_new_boolean(1));
            if (ks_json_get(cs, "state.waiting")) {
                char now[32];
                ks_time_rfc3339(now, time(NULL));
                json_object *st = json_object_new_object(), *r = json_object_new_object();
                json_object_object_add(r, "startedAt", json_object_new_string(now));
                json_object_object_add(st, "running", r);
                json_object_object_add(cs, "state", st);
            }
        }
    } else {
        set_cond(nw, "Ready", "False", "ContainersNotReady", "containers with unready status");
        set_cond(nw, "ContainersReady", "False", "ContainersNotReady", "containers with unready status");
        json_object *css = ks_json_get(nw, "status.containerStatuses");
        for (size_t i = 0; css && i < json_object_array_length(css); i++)
            json_object_object_add(json_object_array_get_idx(css, i), "ready", json_object_new_boolean(0));
    }
    put_status(s, pods, nw);
    return 0;
}

int ks_ctrl_node_ready_locked(ks_sim *s, const char *node, int ready)
{
    ks_rtype *nodes = T(s, "", "nodes");
    json_object *n = ks_store_get_locked(nodes, NULL, node);
    if (!n)
        return -ENOENT;
    json_object *nw = ks_json_copy(n);
    if (ready)
        set_cond(nw, "Ready", "True", "KubeletReady", "kubelet is posting ready status");
    else
        set_cond(nw, "Ready", "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status.");
    json_object *out;
    ks_err err;
    json_object_object_del(ks_json_get(nw, "metadata"), "resourceVersion");
    ks_ops_update_locked(s, nodes, NULL, node, nw, KS_SUB_STATUS, "kubelet", NULL, 0, &out, &err);
    return 0;
}

int ks_ctrl_add_node_locked(ks_sim *s, const char *name, json_object *labels, int ready)
{
    ks_rtype *nodes = T(s, "", "nodes");
    json_object *n = json_object_new_object();
    ks_json_set_str(n, "metadata.name", name);
    json_object *lab = labels ? ks_json_copy(labels) : json_object_new_object();
    json_object_object_add(lab, "kubernetes.io/hostname", json_object_new_string(name));
    json_object_object_add(lab, "kubernetes.io/os", json_object_new_string("linux"));
    json_object_object_add(lab, "kubernetes.io/arch", json_object_new_string("amd64"));
    json_object_object_add(lab, "beta.kubernetes.io/os", json_object_new_string("linux"));
    json_object_object_add(lab, "beta.kubernetes.io/arch", json_object_new_string("amd64"));
    ks_json_set(n, "metadata.labels", lab);
    uint32_t h = fnv(name);
    char cidr[64], ip[32];
    snprintf(cidr, sizeof cidr, "10.244.%u.0/24", h & 0xff);
    snprintf(ip, sizeof ip, "10.0.%u.%u", (h >> 8) & 0xff, (h & 0xfd) + 2);
    ks_json_set_str(n, "spec.podCIDR", cidr);
    json_object *st = json_object_new_object();
    const char *res[][2] = {{"cpu", "4"}, {"memory", "16374584Ki"}, {"pods", "110"}, {"ephemeral-storage", "61202244Ki"}};
    json_object *cap = json_object_new_object(), *alloc = json_object_new_object();
    for (int i = 0; i < 4; i++) {
        json_object_object_add(cap, res[i][0], json_object_new_string(res[i][1]));
        json_object_object_add(alloc, res[i][0], json_object_new_string(res[i][1]));
    }
    json_object_object_add(st, "capacity", cap);
    json_object_object_add(st, "allocatable", alloc);
    json_object *addrs = json_object_new_array();
    json_object *a1 = json_object_new_object(), *a2 = json_object_new_object();
    json_object_object_add(a1, "type", json_object_new_string("InternalIP"));
    json_object_object_add(a1, "address", json_object_new_string(ip));
    json_object_object_add(a2, "type", json_object_new_string("Hostname"));
    json_object_object_add(a2, "address", json_object_new_string(name));
    json_object_array_add(addrs, a1);
    json_object_array_add(addrs, a2);
    json_object_object_add(st, "addresses", addrs);
    json_object *ni = json_object_new_object();
    const char *info[][2] = {{"kubeletVersion", "v1.32.0"}, {"kubeProxyVersion", "v1.32.0"},
                             {"containerRuntimeVersion", "containerd://1.7.22"}, {"osImage", "Debian GNU/Linux 12 (bookworm)"},
                             {"kernelVersion", "6.1.0-kubesim"}, {"operatingSystem", "linux"}, {"architecture", "amd64"}};
    for (int i = 0; i < 7; i++)
        json_object_object_add(ni, info[i][0], json_object_new_string(info[i][1]));
    char mid[40];
    snprintf(mid, sizeof mid, "%08x%08x%08x%08x", h, fnv(cidr), fnv(ip), h ^ 0x5a5a5a5a);
    json_object_object_add(ni, "machineID", json_object_new_string(mid));
    json_object_object_add(ni, "systemUUID", json_object_new_string(mid));
    json_object_object_add(ni, "bootID", json_object_new_string(mid));
    json_object_object_add(st, "nodeInfo", ni);
    ks_json_set(n, "status", st);
    const char *pressure[] = {"MemoryPressure", "DiskPressure", "PIDPressure"};
    const char *preason[] = {"KubeletHasSufficientMemory", "KubeletHasNoDiskPressure", "KubeletHasSufficientPID"};
    for (int i = 0; i < 3; i++)
        set_cond(n, pressure[i], "False", preason[i], "kubelet has sufficient resources");
    if (ready)
        set_cond(n, "Ready", "True", "KubeletReady", "kubelet is posting ready status");
    else
        set_cond(n, "Ready", "False", "KubeletNotReady", "container runtime network not ready");
    json_object *cs = ks_json_get(n, "status.conditions");
    char hb[32];
    ks_time_rfc3339(hb, time(NULL));
    for (size_t i = 0; cs && i < json_object_array_length(cs); i++) {
        json_object_object_del(json_object_array_get_idx(cs, i), "lastProbeTime");
        json_object_object_add(json_object_array_get_idx(cs, i), "lastHeartbeatTime", json_object_new_string(hb));
    }
    json_object *out;
    ks_err err;
    if (ks_ops_create_locked(s, nodes, NULL, n, "kubelet", &out, &err))
        return -EINVAL;
    /* the node's lease in kube-node-lease, owned by the node */
    ks_rtype *lt = ks_store_type_locked(&s->st, "coordination.k8s.io", "v1", "leases");
    if (lt && !ks_ops_ns_check_locked(s, "kube-node-lease", &err)) {
        json_object *l = json_object_new_object();
        char ts[40];
        ks_time_micro(ts);
        ks_json_set_str(l, "metadata.name", name);
        ks_json_set(l, "metadata.ownerReferences", owner_ref(out, "v1", "Node"));
        json_object_object_del(json_object_array_get_idx(ks_json_get(l, "metadata.ownerReferences"), 0), "controller");
        ks_json_set_str(l, "spec.holderIdentity", name);
        ks_json_set_int(l, "spec.leaseDurationSeconds", 40);
        ks_json_set_str(l, "spec.renewTime", ts);
        json_object *lo;
        ks_ops_create_locked(s, lt, "kube-node-lease", l, "kubelet", &lo, &err);
    }
    return 0;
}
