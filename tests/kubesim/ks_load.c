/*
 * ks_load.c - bulk population and the churn thread of load mode.
 */
#include "ks_load.h"

#include "ks_ctrl.h"
#include "ks_json.h"
#include "ks_ops.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int ks_load_parse(ks_load *l, const char *spec, char *err, size_t errlen)
{
    memset(l, 0, sizeof *l);
    l->namespaces = 50;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", spec);
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(t, '=');
        if (!eq) {
            snprintf(err, errlen, "--load: expected key=value, got \"%s\"", t);
            return -EINVAL;
        }
        *eq = 0;
        char *e = NULL;
        long long v = strtoll(eq + 1, &e, 10);
        if (*e || v < 0 || v > 10000000) {
            snprintf(err, errlen, "--load: bad number for %s", t);
            return -EINVAL;
        }
        if (!strcmp(t, "nodes"))
            l->nodes = v;
        else if (!strcmp(t, "pods"))
            l->pods = v;
        else if (!strcmp(t, "churn"))
            l->churn = v;
        else if (!strcmp(t, "namespaces") && v > 0)
            l->namespaces = (int)v;
        else {
            snprintf(err, errlen, "--load: unknown key \"%s\" (nodes, pods, churn, namespaces)", t);
            return -EINVAL;
        }
    }
    return 0;
}

/* Sub-objects shared by many pods (json-c reference counts): every
 * writer in kubesim copies before it modifies, so sharing is safe and
 * keeps 150k pods within a few hundred MiB. */
typedef struct shared {
    json_object *containers, *conditions, *cstatuses;
    json_object *labels[3000];
} shared;

static json_object *make_pod(ks_sim *s, shared *sh, long long i, const char *ns, const char *node)
{
    char name[128], uid[37], now[32], ip[32], buf[2048];
    snprintf(name, sizeof name, "load-%07lld", i);
    ks_store_uid_locked(&s->st, uid);
    ks_time_rfc3339(now, time(NULL));
    snprintf(ip, sizeof ip, "10.%lld.%lld.%lld", 64 + (i >> 16) % 64, (i >> 8) & 0xff, i & 0xff);
    if (!sh->containers) {
        sh->containers = json_tokener_parse(
            "[{\"name\":\"app\",\"image\":\"registry.k8s.io/pause:3.10\",\"imagePullPolicy\":\"IfNotPresent\","
            "\"resources\":{\"requests\":{\"cpu\":\"10m\",\"memory\":\"16Mi\"},\"limits\":{\"memory\":\"64Mi\"}},"
            "\"ports\":[{\"containerPort\":8080,\"protocol\":\"TCP\"}],"
            "\"terminationMessagePath\":\"/dev/termination-log\",\"terminationMessagePolicy\":\"File\"}]");
        snprintf(buf, sizeof buf,
                 "[{\"type\":\"Initialized\",\"status\":\"True\",\"lastTransitionTime\":\"%s\"},"
                 "{\"type\":\"Ready\",\"status\":\"True\",\"lastTransitionTime\":\"%s\"},"
                 "{\"type\":\"ContainersReady\",\"status\":\"True\",\"lastTransitionTime\":\"%s\"},"
                 "{\"type\":\"PodScheduled\",\"status\":\"True\",\"lastTransitionTime\":\"%s\"}]",
                 now, now, now, now);
        sh->conditions = json_tokener_parse(buf);
        snprintf(buf, sizeof buf,
                 "[{\"name\":\"app\",\"ready\":true,\"started\":true,\"restartCount\":0,"
                 "\"image\":\"registry.k8s.io/pause:3.10\",\"imageID\":\"registry.k8s.io/pause@sha256:ee6521f290b2168b6e0935a181d4cff9be1ac3f505666ef0e3c98fae8199917a\","
                 "\"containerID\":\"containerd://0f3c\",\"state\":{\"running\":{\"startedAt\":\"%s\"}},\"lastState\":{}}]",
                 now);
        sh->cstatuses = json_tokener_parse(buf);
    }
    size_t li = (size_t)(i % 3000);
    if (!sh->labels[li]) {
        snprintf(buf, sizeof buf, "{\"app\":\"load-%lld\",\"tier\":\"%s\"}", i % 1000, (i % 3000) < 1000 ? "db" : "web");
        sh->labels[li] = json_tokener_parse(buf);
    }
    snprintf(buf, sizeof buf,
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\","
             "\"uid\":\"%s\",\"creationTimestamp\":\"%s\",\"annotations\":{\"kubesim/churn\":\"0\"}},"
             "\"spec\":{\"nodeName\":\"%s\",\"restartPolicy\":\"Always\",\"dnsPolicy\":\"ClusterFirst\","
             "\"schedulerName\":\"default-scheduler\",\"terminationGracePeriodSeconds\":30},"
             "\"status\":{\"phase\":\"Running\",\"qosClass\":\"Burstable\",\"podIP\":\"%s\",\"hostIP\":\"10.0.0.1\","
             "\"startTime\":\"%s\"}}",
             name, ns, uid, now, node, ip, now);
    json_object *p = json_tokener_parse(buf);
    if (!p)
        return NULL;
    json_object_object_add(ks_json_get(p, "metadata"), "labels", json_object_get(sh->labels[li]));
    json_object_object_add(ks_json_get(p, "spec"), "containers", json_object_get(sh->containers));
    json_object_object_add(ks_json_get(p, "status"), "conditions", json_object_get(sh->conditions));
    json_object_object_add(ks_json_get(p, "status"), "containerStatuses", json_object_get(sh->cstatuses));
    return p;
}

static void *churn_main(void *arg)
{
    ks_load *l = arg;
    ks_sim *s = l->sim;
    long long per_tick_x100 = l->churn; /* per 10 ms tick = churn/100 */
    long long acc = 0;
    size_t idx = 0;
    long long next = ks_now_ms();
    while (l->running && !s->stop) {
        acc += per_tick_x100;
        long long n = acc / 100;
        acc %= 100;
        /* in slices of 100 so watchers and readers get the lock in between */
        for (long long done = 0; done < n;) {
            long long slice = n - done < 100 ? n - done : 100;
            pthread_mutex_lock(&s->st.mu);
            ks_rtype *pods = ks_store_type_locked(&s->st, "", "v1", "pods");
            for (long long k = 0; k < slice && pods->n; k++) {
                idx = (idx + 7919) % pods->n;
                json_object *o = pods->objs[idx].o;
                /* in place: history keeps the serialized line, and labels do not change */
                json_object *ann = ks_json_get(o, "metadata.annotations");
                if (ann) {
                    char v[32];
                    snprintf(v, sizeof v, "%llu", (unsigned long long)++l->churned);
                    json_object_object_add(ann, "kubesim/churn", json_object_new_string(v));
                }
                ks_store_touch_locked(&s->st, pods, idx);
            }
            pthread_mutex_unlock(&s->st.mu);
            done += slice;
        }
        next += 10;
        long long d = next - ks_now_ms();
        if (d > 0)
            usleep((useconds_t)d * 1000);
        else if (d < -1000)
            next = ks_now_ms();
    }
    return NULL;
}

int ks_load_start(ks_load *l, ks_sim *s)
{
    l->sim = s;
    pthread_mutex_lock(&s->st.mu);
    ks_rtype *nst = ks_store_type_locked(&s->st, "", "v1", "namespaces");
    ks_rtype *pods = ks_store_type_locked(&s->st, "", "v1", "pods");
    for (int i = 0; i < l->namespaces; i++) {
        char nm[64];
        snprintf(nm, sizeof nm, "load-%02d", i);
        json_object *ns = json_object_new_object();
        ks_json_set_str(ns, "metadata.name", nm);
        json_object *out;
        ks_err err;
        ks_ops_create_locked(s, nst, NULL, ns, "kubesim-load", &out, &err);
    }
    for (long long i = 0; i < l->nodes; i++) {
        char nm[64];
        snprintf(nm, sizeof nm, "load-node-%05lld", i);
        ks_ctrl_add_node_locked(s, nm, NULL, 1);
    }
    shared *sh = calloc(1, sizeof *sh);
    for (long long i = 0; sh && i < l->pods; i++) {
        char ns[64], node[64];
        snprintf(ns, sizeof ns, "load-%02d", (int)(i % l->namespaces));
        snprintf(node, sizeof node, "load-node-%05lld", l->nodes ? i % l->nodes : 0);
        json_object *p = make_pod(s, sh, i, ns, node);
        if (p)
            ks_store_put_locked(&s->st, pods, p);
        if (i % 20000 == 19999)
            ks_store_compact_locked(&s->st, 0); /* keep the bulk out of the history as we go */
    }
    if (sh) {
        json_object_put(sh->containers);
        json_object_put(sh->conditions);
        json_object_put(sh->cstatuses);
        for (size_t i = 0; i < 3000; i++)
            json_object_put(sh->labels[i]);
        free(sh);
    }
    /* the bulk load is not watch history */
    ks_store_compact_locked(&s->st, 0);
    malloc_trim(0);
    pthread_mutex_unlock(&s->st.mu);
    if (l->churn > 0) {
        l->running = 1;
        if (pthread_create(&l->thread, NULL, churn_main, l)) {
            l->running = 0;
            return -EAGAIN;
        }
    }
    return 0;
}

void ks_load_stop(ks_load *l)
{
    if (l->running) {
        l->running = 0;
        pthread_join(l->thread, NULL);
    }
}
