/*
 * ks_scenario.c - load a scenario YAML, create its world, and play its
 * timed events on a thread. Actions are shared with POST /_sim/action.
 */
#include "ks_scenario.h"

#include "ks_ctrl.h"
#include "ks_fault.h"
#include "ks_json.h"
#include "ks_ops.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vg_buf.h"

/* "250ms", "2s", "1m", or a bare number of ms. -1 on error. */
static long long parse_dur(json_object *v)
{
    if (!v)
        return 0;
    if (json_object_is_type(v, json_type_int))
        return json_object_get_int64(v);
    const char *s = json_object_get_string(v);
    char *e = NULL;
    double d = strtod(s, &e);
    if (e == s || d < 0)
        return -1;
    if (!strcmp(e, "ms") || !*e)
        return (long long)d;
    if (!strcmp(e, "s"))
        return (long long)(d * 1000);
    if (!strcmp(e, "m"))
        return (long long)(d * 60000);
    return -1;
}

int ks_scenario_load(ks_scenario *sc, ks_sim *s, const char *path, char *err, size_t errlen)
{
    memset(sc, 0, sizeof *sc);
    sc->sim = s;
    vg_buf b = VG_BUF_INIT;
    int rc = vg_buf_read_file(&b, path, 16 * 1024 * 1024);
    if (rc) {
        snprintf(err, errlen, "cannot read scenario %s: %s", path, strerror(-rc));
        return rc;
    }
    rc = ks_yaml_parse(b.data, b.len, &sc->doc, err, errlen);
    vg_buf_release(&b);
    if (rc)
        return rc;
    if (!json_object_is_type(sc->doc, json_type_object)) {
        snprintf(err, errlen, "scenario must be a mapping");
        json_object_put(sc->doc);
        sc->doc = NULL;
        return -EINVAL;
    }
    json_object *ev = ks_json_get(sc->doc, "events");
    for (size_t i = 0; ev && json_object_is_type(ev, json_type_array) && i < json_object_array_length(ev); i++) {
        json_object *e = json_object_array_get_idx(ev, i);
        if (parse_dur(ks_json_get(e, "at")) < 0 || !ks_json_str(e, "action")) {
            snprintf(err, errlen, "scenario event %zu: needs action and a valid 'at' (e.g. 2s, 500ms)", i);
            json_object_put(sc->doc);
            sc->doc = NULL;
            return -EINVAL;
        }
    }
    return 0;
}

void ks_scenario_settings(ks_scenario *sc, size_t *history)
{
    json_object *st = ks_json_get(sc->doc, "settings");
    if (!st)
        return;
    ks_sim *s = sc->sim;
    long long v;
    if ((v = parse_dur(ks_json_get(st, "podStartMs"))) > 0)
        s->pod_start_ms = (int)v;
    if ((v = parse_dur(ks_json_get(st, "podReadyMs"))) > 0)
        s->pod_ready_ms = (int)v;
    if ((v = parse_dur(ks_json_get(st, "podDeleteMs"))) > 0)
        s->pod_delete_ms = (int)v;
    if ((v = parse_dur(ks_json_get(st, "bookmarkMs"))) > 0)
        s->bookmark_ms = (int)v;
    if ((v = ks_json_int(st, "historySize", 0)) > 0 && history)
        *history = (size_t)v;
}

static int create_obj(ks_sim *s, json_object *o, char *err, size_t errlen)
{
    const char *av = ks_json_str(o, "apiVersion"), *kind = ks_json_str(o, "kind");
    if (!av || !kind) {
        snprintf(err, errlen, "object needs apiVersion and kind");
        return -EINVAL;
    }
    pthread_mutex_lock(&s->st.mu);
    ks_rtype *rt = ks_store_type_kind_locked(&s->st, av, kind);
    int rc = -ENOENT;
    if (!rt) {
        snprintf(err, errlen, "no resource type for %s %s", av, kind);
    } else {
        json_object *out;
        ks_err e;
        const char *ns = ks_json_str(o, "metadata.namespace");
        rc = ks_ops_create_locked(s, rt, rt->namespaced ? (ns ? ns : "default") : NULL, ks_json_copy(o), "kubesim-scenario",
                                  &out, &e);
        if (rc)
            snprintf(err, errlen, "%s", e.message);
    }
    pthread_mutex_unlock(&s->st.mu);
    return rc;
}

int ks_scenario_action(ks_sim *s, json_object *a, char *err, size_t errlen)
{
    const char *action = ks_json_str(a, "action");
    const char *ns = ks_json_str(a, "namespace");
    if (!ns)
        ns = "default";
    if (!action) {
        snprintf(err, errlen, "action missing");
        return -EINVAL;
    }
    int rc = 0;
    if (!strcmp(action, "crash") || !strcmp(action, "pod-ready") || !strcmp(action, "pod-not-ready")) {
        const char *pod = ks_json_str(a, "pod");
        if (!pod) {
            snprintf(err, errlen, "%s needs pod", action);
            return -EINVAL;
        }
        pthread_mutex_lock(&s->st.mu);
        if (!strcmp(action, "crash")) {
            const char *reason = ks_json_str(a, "reason");
            int code = (int)ks_json_int(a, "exitCode", reason && !strcmp(reason, "OOMKilled") ? 137 : 1);
            int64_t n = ks_json_int(a, "count", 1);
            for (int64_t i = 0; i < n && !rc; i++)
                rc = ks_ctrl_crash_container_locked(s, ns, pod, ks_json_str(a, "container"), reason ? reason : "Error", code);
        } else {
            rc = ks_ctrl_pod_ready_locked(s, ns, pod, !strcmp(action, "pod-ready"));
        }
        pthread_mutex_unlock(&s->st.mu);
        if (rc)
            snprintf(err, errlen, "pod %s/%s (or its container) not found", ns, pod);
        return rc;
    }
    if (!strcmp(action, "node-ready") || !strcmp(action, "node-not-ready") || !strcmp(action, "add-node")) {
        const char *node = ks_json_str(a, "node");
        if (!node) {
            snprintf(err, errlen, "%s needs node", action);
            return -EINVAL;
        }
        pthread_mutex_lock(&s->st.mu);
        if (!strcmp(action, "add-node"))
            rc = ks_ctrl_add_node_locked(s, node, ks_json_get(a, "labels"), 1);
        else
            rc = ks_ctrl_node_ready_locked(s, node, !strcmp(action, "node-ready"));
        pthread_mutex_unlock(&s->st.mu);
        if (rc)
            snprintf(err, errlen, "node %s: %s", node, rc == -ENOENT ? "not found" : "cannot create");
        return rc;
    }
    if (!strcmp(action, "create")) {
        json_object *o = ks_json_get(a, "object");
        if (!o) {
            snprintf(err, errlen, "create needs object");
            return -EINVAL;
        }
        return create_obj(s, o, err, errlen);
    }
    if (!strcmp(action, "delete")) {
        const char *av = ks_json_str(a, "apiVersion"), *kind = ks_json_str(a, "kind"), *name = ks_json_str(a, "name");
        if (!av || !kind || !name) {
            snprintf(err, errlen, "delete needs apiVersion, kind and name");
            return -EINVAL;
        }
        pthread_mutex_lock(&s->st.mu);
        ks_rtype *rt = ks_store_type_kind_locked(&s->st, av, kind);
        json_object *out = NULL;
        ks_err e;
        rc = rt ? ks_ops_delete_locked(s, rt, rt->namespaced ? ns : NULL, name, NULL, -1, NULL, NULL, &out, &e) : -ENOENT;
        json_object_put(out);
        pthread_mutex_unlock(&s->st.mu);
        if (rc)
            snprintf(err, errlen, "%s", rt ? e.message : "unknown kind");
        return rc;
    }
    if (!strcmp(action, "fault")) {
        json_object *f = ks_json_get(a, "fault");
        if (!f) {
            snprintf(err, errlen, "fault action needs fault");
            return -EINVAL;
        }
        return ks_faults_add_json(&s->faults, f, err, errlen);
    }
    if (!strcmp(action, "clear-faults")) {
        ks_faults_clear(&s->faults);
        return 0;
    }
    if (!strcmp(action, "compact") || !strcmp(action, "restart")) {
        pthread_mutex_lock(&s->st.mu);
        ks_store_compact_locked(&s->st, !strcmp(action, "restart"));
        pthread_mutex_unlock(&s->st.mu);
        return 0;
    }
    if (!strcmp(action, "rotate-token"))
        return ks_sim_rotate_token(s);
    snprintf(err, errlen, "unknown action \"%.64s\"", action);
    return -EINVAL;
}

static void *player(void *arg)
{
    ks_scenario *sc = arg;
    json_object *ev = ks_json_get(sc->doc, "events");
    size_t n = ev && json_object_is_type(ev, json_type_array) ? json_object_array_length(ev) : 0;
    long long t0 = ks_now_ms();
    /* events run in order of 'at' (stable for equal times) */
    char *done = calloc(n + 1, 1);
    for (size_t k = 0; done && k < n && sc->running && !sc->sim->stop; k++) {
        size_t best = n;
        long long bt = 0;
        for (size_t i = 0; i < n; i++) {
            if (done[i])
                continue;
            long long at = parse_dur(ks_json_get(json_object_array_get_idx(ev, i), "at"));
            if (best == n || at < bt) {
                best = i;
                bt = at;
            }
        }
        while (sc->running && !sc->sim->stop && ks_now_ms() - t0 < bt)
            usleep(10000);
        if (!sc->running || sc->sim->stop)
            break;
        done[best] = 1;
        char err[512];
        json_object *a = json_object_array_get_idx(ev, best);
        if (ks_scenario_action(sc->sim, a, err, sizeof err))
            vg_log_warn(sc->sim->log, "scenario", "event failed", "action", ks_json_str(a, "action"), "error", err);
        else
            vg_log_info(sc->sim->log, "scenario", "event", "action", ks_json_str(a, "action"));
    }
    free(done);
    return NULL;
}

int ks_scenario_start(ks_scenario *sc, char *err, size_t errlen)
{
    ks_sim *s = sc->sim;
    json_object *nodes = ks_json_get(sc->doc, "nodes");
    for (size_t i = 0; nodes && json_object_is_type(nodes, json_type_array) && i < json_object_array_length(nodes); i++) {
        json_object *n = json_object_array_get_idx(nodes, i);
        const char *name = ks_json_str(n, "name");
        json_object *ready = ks_json_get(n, "ready");
        int r = !ready || json_object_get_boolean(ready);
        pthread_mutex_lock(&s->st.mu);
        int rc = 0;
        if (name) {
            rc = ks_ctrl_add_node_locked(s, name, ks_json_get(n, "labels"), r);
        } else {
            int64_t count = ks_json_int(n, "count", 0);
            const char *prefix = ks_json_str(n, "prefix");
            for (int64_t k = 0; k < count && !rc; k++) {
                char nm[300];
                snprintf(nm, sizeof nm, "%s%lld", prefix ? prefix : "node-", (long long)k);
                rc = ks_ctrl_add_node_locked(s, nm, ks_json_get(n, "labels"), r);
            }
        }
        pthread_mutex_unlock(&s->st.mu);
        if (rc) {
            snprintf(err, errlen, "scenario node %zu could not be created", i);
            return rc;
        }
    }
    json_object *objs = ks_json_get(sc->doc, "objects");
    for (size_t i = 0; objs && json_object_is_type(objs, json_type_array) && i < json_object_array_length(objs); i++) {
        char e[512];
        int rc = create_obj(s, json_object_array_get_idx(objs, i), e, sizeof e);
        if (rc) {
            snprintf(err, errlen, "scenario object %zu: %s", i, e);
            return rc;
        }
    }
    json_object *faults = ks_json_get(sc->doc, "faults");
    for (size_t i = 0; faults && json_object_is_type(faults, json_type_array) && i < json_object_array_length(faults); i++) {
        char e[256];
        int rc = ks_faults_add_json(&s->faults, json_object_array_get_idx(faults, i), e, sizeof e);
        if (rc) {
            snprintf(err, errlen, "scenario fault %zu: %s", i, e);
            return rc;
        }
    }
    sc->running = 1;
    if (pthread_create(&sc->thread, NULL, player, sc)) {
        sc->running = 0;
        snprintf(err, errlen, "cannot start scenario thread");
        return -EAGAIN;
    }
    return 0;
}

void ks_scenario_stop(ks_scenario *sc)
{
    if (sc->running) {
        sc->running = 0;
        pthread_join(sc->thread, NULL);
    }
    json_object_put(sc->doc);
    sc->doc = NULL;
}
