/*
 * ks_table.c - Table rows for the built-in kinds.
 */
#include "ks_table.h"

#include "ks_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int ks_table_wanted(const char *accept)
{
    return accept && strstr(accept, "as=Table") && strstr(accept, "g=meta.k8s.io");
}

typedef struct col {
    const char *name, *type, *format;
    int priority;
} col;

#define C(n, t) {n, t, "", 0}
#define W(n, t) {n, t, "", 1}
static const col c_pod[] = {{"Name", "string", "name", 0}, C("Ready", "string"), C("Status", "string"), C("Restarts", "string"),
                            C("Age", "string"), W("IP", "string"), W("Node", "string"), W("Nominated Node", "string"),
                            W("Readiness Gates", "string"), {NULL, NULL, NULL, 0}};
static const col c_deploy[] = {{"Name", "string", "name", 0}, C("Ready", "string"), C("Up-to-date", "integer"),
                               C("Available", "integer"), C("Age", "string"), W("Containers", "string"),
                               W("Images", "string"), W("Selector", "string"), {NULL, NULL, NULL, 0}};
static const col c_rs[] = {{"Name", "string", "name", 0}, C("Desired", "integer"), C("Current", "integer"),
                           C("Ready", "integer"), C("Age", "string"), {NULL, NULL, NULL, 0}};
static const col c_sts[] = {{"Name", "string", "name", 0}, C("Ready", "string"), C("Age", "string"), {NULL, NULL, NULL, 0}};
static const col c_ds[] = {{"Name", "string", "name", 0}, C("Desired", "integer"), C("Current", "integer"), C("Ready", "integer"),
                           C("Up-to-date", "integer"), C("Available", "integer"), C("Node Selector", "string"),
                           C("Age", "string"), {NULL, NULL, NULL, 0}};
static const col c_node[] = {{"Name", "string", "name", 0}, C("Status", "string"), C("Roles", "string"), C("Age", "string"),
                             C("Version", "string"), W("Internal-IP", "string"), {NULL, NULL, NULL, 0}};
static const col c_ns[] = {{"Name", "string", "name", 0}, C("Status", "string"), C("Age", "string"), {NULL, NULL, NULL, 0}};
static const col c_svc[] = {{"Name", "string", "name", 0}, C("Type", "string"), C("Cluster-IP", "string"),
                            C("External-IP", "string"), C("Port(s)", "string"), C("Age", "string"), {NULL, NULL, NULL, 0}};
static const col c_pdb[] = {{"Name", "string", "name", 0}, C("Min Available", "string"), C("Max Unavailable", "string"),
                            C("Allowed Disruptions", "integer"), C("Age", "string"), {NULL, NULL, NULL, 0}};
static const col c_cm[] = {{"Name", "string", "name", 0}, C("Data", "integer"), C("Age", "string"), {NULL, NULL, NULL, 0}};
static const col c_lease[] = {{"Name", "string", "name", 0}, C("Holder", "string"), C("Age", "string"), {NULL, NULL, NULL, 0}};
static const col c_event[] = {{"Last Seen", "string", "", 0}, C("Type", "string"), C("Reason", "string"),
                              C("Object", "string"), C("Message", "string"), {NULL, NULL, NULL, 0}};
static const col c_default[] = {{"Name", "string", "name", 0}, C("Age", "string"), {NULL, NULL, NULL, 0}};

static const col *cols_for(const ks_rtype *rt)
{
    if (!rt->builtin)
        return c_default;
    const char *k = rt->kind;
    if (!strcmp(k, "Pod")) return c_pod;
    if (!strcmp(k, "Deployment")) return c_deploy;
    if (!strcmp(k, "ReplicaSet")) return c_rs;
    if (!strcmp(k, "StatefulSet")) return c_sts;
    if (!strcmp(k, "DaemonSet")) return c_ds;
    if (!strcmp(k, "Node")) return c_node;
    if (!strcmp(k, "Namespace")) return c_ns;
    if (!strcmp(k, "Service")) return c_svc;
    if (!strcmp(k, "PodDisruptionBudget")) return c_pdb;
    if (!strcmp(k, "ConfigMap")) return c_cm;
    if (!strcmp(k, "Lease")) return c_lease;
    if (!strcmp(k, "Event")) return c_event; /* core/v1 and events.k8s.io/v1 print alike */
    return c_default;
}

json_object *ks_table_columns(const ks_rtype *rt)
{
    json_object *a = json_object_new_array();
    for (const col *c = cols_for(rt); c->name; c++) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(c->name));
        json_object_object_add(o, "type", json_object_new_string(c->type));
        json_object_object_add(o, "format", json_object_new_string(c->format));
        json_object_object_add(o, "description", json_object_new_string(""));
        json_object_object_add(o, "priority", json_object_new_int(c->priority));
        json_object_array_add(a, o);
    }
    return a;
}

void ks_table_age(const char *ts, char *out, size_t cap)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (!ts || !strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm)) {
        snprintf(out, cap, "<unknown>");
        return;
    }
    long long d = (long long)(time(NULL) - timegm(&tm));
    if (d < 0)
        d = 0;
    if (d < 120)
        snprintf(out, cap, "%llds", d);
    else if (d < 600)
        snprintf(out, cap, "%lldm%llds", d / 60, d % 60);
    else if (d < 3 * 3600)
        snprintf(out, cap, "%lldm", d / 60);
    else if (d < 8 * 3600)
        snprintf(out, cap, "%lldh%lldm", d / 3600, (d % 3600) / 60);
    else if (d < 48 * 3600)
        snprintf(out, cap, "%lldh", d / 3600);
    else if (d < 8 * 86400)
        snprintf(out, cap, "%lldd%lldh", d / 86400, (d % 86400) / 3600);
    else
        snprintf(out, cap, "%lldd", d / 86400);
}

static json_object *s(const char *v)
{
    return json_object_new_string(v ? v : "");
}

static json_object *i64(int64_t v)
{
    return json_object_new_int64(v);
}

static const char *cond_status(json_object *o, const char *type)
{
    json_object *cs = ks_json_get(o, "status.conditions");
    for (size_t i = 0; cs && json_object_is_type(cs, json_type_array) && i < json_object_array_length(cs); i++) {
        json_object *c = json_object_array_get_idx(cs, i);
        const char *t = ks_json_str(c, "type");
        if (t && !strcmp(t, type))
            return ks_json_str(c, "status");
    }
    return NULL;
}

static json_object *sel_string(json_object *o)
{
    json_object *ml = ks_json_get(o, "spec.selector.matchLabels");
    char b[512] = "";
    size_t n = 0;
    if (ml && json_object_is_type(ml, json_type_object)) {
        json_object_object_foreach(ml, k, v) {
            int w = snprintf(b + n, sizeof b - n, "%s%s=%s", n ? "," : "", k, json_object_get_string(v));
            if (w < 0 || (size_t)w >= sizeof b - n)
                break;
            n += (size_t)w;
        }
    }
    return s(b);
}

static void add_cells(const ks_rtype *rt, json_object *o, json_object *cells)
{
    char age[32], b[512];
    ks_table_age(ks_json_str(o, "metadata.creationTimestamp"), age, sizeof age);
    const char *name = ks_json_str(o, "metadata.name");
    const col *cs = cols_for(rt);
    if (cs == c_event) {
        /* core/v1 field names first, then their events.k8s.io/v1 counterparts */
        int v1 = ks_json_get(o, "involvedObject") != NULL;
        const char *last = ks_json_str(o, v1 ? "lastTimestamp" : "series.lastObservedTime");
        if (!last)
            last = ks_json_str(o, v1 ? "eventTime" : "deprecatedLastTimestamp");
        if (!last)
            last = ks_json_str(o, "eventTime");
        ks_table_age(last ? last : ks_json_str(o, "metadata.creationTimestamp"), age, sizeof age);
        json_object_array_add(cells, s(age));
        json_object_array_add(cells, s(ks_json_str(o, "type")));
        json_object_array_add(cells, s(ks_json_str(o, "reason")));
        const char *ok = ks_json_str(o, v1 ? "involvedObject.kind" : "regarding.kind");
        const char *on = ks_json_str(o, v1 ? "involvedObject.name" : "regarding.name");
        snprintf(b, sizeof b, "%s/%s", ok ? ok : "", on ? on : "");
        for (char *p = b; *p && *p != '/'; p++)
            *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        json_object_array_add(cells, s(b));
        json_object_array_add(cells, s(ks_json_str(o, v1 ? "message" : "note")));
        return;
    }
    json_object_array_add(cells, s(name));
    if (cs == c_pod) {
        json_object *st = ks_json_get(o, "status.containerStatuses");
        json_object *specs = ks_json_get(o, "spec.containers");
        int total = specs ? (int)json_object_array_length(specs) : 0, ready = 0;
        int64_t restarts = 0;
        const char *reason = NULL;
        for (size_t i = 0; st && i < json_object_array_length(st); i++) {
            json_object *c = json_object_array_get_idx(st, i);
            json_object *r = ks_json_get(c, "ready");
            ready += r && json_object_get_boolean(r);
            restarts += ks_json_int(c, "restartCount", 0);
            const char *w = ks_json_str(c, "state.waiting.reason");
            if (w && !reason)
                reason = w;
        }
        snprintf(b, sizeof b, "%d/%d", ready, total);
        json_object_array_add(cells, s(b));
        const char *phase = ks_json_str(o, "status.phase");
        if (ks_json_get(o, "metadata.deletionTimestamp"))
            reason = "Terminating";
        json_object_array_add(cells, s(reason ? reason : phase ? phase : "Pending"));
        json_object_array_add(cells, i64(restarts));
        json_object_array_add(cells, s(age));
        json_object_array_add(cells, s(ks_json_str(o, "status.podIP") ? ks_json_str(o, "status.podIP") : "<none>"));
        json_object_array_add(cells, s(ks_json_str(o, "spec.nodeName") ? ks_json_str(o, "spec.nodeName") : "<none>"));
        json_object_array_add(cells, s("<none>"));
        json_object_array_add(cells, s("<none>"));
    } else if (cs == c_deploy) {
        snprintf(b, sizeof b, "%lld/%lld", (long long)ks_json_int(o, "status.readyReplicas", 0),
                 (long long)ks_json_int(o, "spec.replicas", 1));
        json_object_array_add(cells, s(b));
        json_object_array_add(cells, i64(ks_json_int(o, "status.updatedReplicas", 0)));
        json_object_array_add(cells, i64(ks_json_int(o, "status.availableReplicas", 0)));
        json_object_array_add(cells, s(age));
        json_object *cts = ks_json_get(o, "spec.template.spec.containers");
        char names[512] = "", images[512] = "";
        size_t nn = 0, ni = 0;
        for (size_t i = 0; cts && i < json_object_array_length(cts); i++) {
            json_object *c = json_object_array_get_idx(cts, i);
            int w1 = snprintf(names + nn, sizeof names - nn, "%s%s", i ? "," : "", ks_json_str(c, "name") ? ks_json_str(c, "name") : "");
            int w2 = snprintf(images + ni, sizeof images - ni, "%s%s", i ? "," : "", ks_json_str(c, "image") ? ks_json_str(c, "image") : "");
            if (w1 > 0 && (size_t)w1 < sizeof names - nn)
                nn += (size_t)w1;
            if (w2 > 0 && (size_t)w2 < sizeof images - ni)
                ni += (size_t)w2;
        }
        json_object_array_add(cells, s(names));
        json_object_array_add(cells, s(images));
        json_object_array_add(cells, sel_string(o));
    } else if (cs == c_rs) {
        json_object_array_add(cells, i64(ks_json_int(o, "spec.replicas", 1)));
        json_object_array_add(cells, i64(ks_json_int(o, "status.replicas", 0)));
        json_object_array_add(cells, i64(ks_json_int(o, "status.readyReplicas", 0)));
        json_object_array_add(cells, s(age));
    } else if (cs == c_sts) {
        snprintf(b, sizeof b, "%lld/%lld", (long long)ks_json_int(o, "status.readyReplicas", 0),
                 (long long)ks_json_int(o, "spec.replicas", 1));
        json_object_array_add(cells, s(b));
        json_object_array_add(cells, s(age));
    } else if (cs == c_ds) {
        json_object_array_add(cells, i64(ks_json_int(o, "status.desiredNumberScheduled", 0)));
        json_object_array_add(cells, i64(ks_json_int(o, "status.currentNumberScheduled", 0)));
        json_object_array_add(cells, i64(ks_json_int(o, "status.numberReady", 0)));
        json_object_array_add(cells, i64(ks_json_int(o, "status.updatedNumberScheduled", 0)));
        json_object_array_add(cells, i64(ks_json_int(o, "status.numberAvailable", 0)));
        json_object *ns = ks_json_get(o, "spec.template.spec.nodeSelector");
        json_object_array_add(cells, s(ns ? ks_json_dump(ns, NULL) : "<none>"));
        json_object_array_add(cells, s(age));
    } else if (cs == c_node) {
        const char *r = cond_status(o, "Ready");
        json_object *un = ks_json_get(o, "spec.unschedulable");
        snprintf(b, sizeof b, "%s%s", r && !strcmp(r, "True") ? "Ready" : r && !strcmp(r, "False") ? "NotReady" : "Unknown",
                 un && json_object_get_boolean(un) ? ",SchedulingDisabled" : "");
        json_object_array_add(cells, s(b));
        json_object_array_add(cells, s("<none>"));
        json_object_array_add(cells, s(age));
        json_object_array_add(cells, s(ks_json_str(o, "status.nodeInfo.kubeletVersion")));
        json_object *addrs = ks_json_get(o, "status.addresses");
        const char *ip = "<none>";
        for (size_t i = 0; addrs && i < json_object_array_length(addrs); i++)
            if (!strcmp(ks_json_str(json_object_array_get_idx(addrs, i), "type") ? ks_json_str(json_object_array_get_idx(addrs, i), "type") : "", "InternalIP"))
                ip = ks_json_str(json_object_array_get_idx(addrs, i), "address");
        json_object_array_add(cells, s(ip));
    } else if (cs == c_ns) {
        json_object_array_add(cells, s(ks_json_str(o, "status.phase") ? ks_json_str(o, "status.phase") : "Active"));
        json_object_array_add(cells, s(age));
    } else if (cs == c_svc) {
        json_object_array_add(cells, s(ks_json_str(o, "spec.type") ? ks_json_str(o, "spec.type") : "ClusterIP"));
        json_object_array_add(cells, s(ks_json_str(o, "spec.clusterIP") ? ks_json_str(o, "spec.clusterIP") : "<none>"));
        json_object_array_add(cells, s("<none>"));
        json_object *ports = ks_json_get(o, "spec.ports");
        size_t n = 0;
        b[0] = 0;
        for (size_t i = 0; ports && i < json_object_array_length(ports); i++) {
            json_object *p = json_object_array_get_idx(ports, i);
            int w = snprintf(b + n, sizeof b - n, "%s%lld/%s", i ? "," : "", (long long)ks_json_int(p, "port", 0),
                             ks_json_str(p, "protocol") ? ks_json_str(p, "protocol") : "TCP");
            if (w > 0 && (size_t)w < sizeof b - n)
                n += (size_t)w;
        }
        json_object_array_add(cells, s(n ? b : "<none>"));
        json_object_array_add(cells, s(age));
    } else if (cs == c_pdb) {
        json_object *mn = ks_json_get(o, "spec.minAvailable"), *mx = ks_json_get(o, "spec.maxUnavailable");
        json_object_array_add(cells, s(mn ? json_object_get_string(mn) : "N/A"));
        json_object_array_add(cells, s(mx ? json_object_get_string(mx) : "N/A"));
        json_object_array_add(cells, i64(ks_json_int(o, "status.disruptionsAllowed", 0)));
        json_object_array_add(cells, s(age));
    } else if (cs == c_cm) {
        json_object *d = ks_json_get(o, "data"), *bd = ks_json_get(o, "binaryData");
        int64_t n = (d && json_object_is_type(d, json_type_object) ? json_object_object_length(d) : 0) +
                    (bd && json_object_is_type(bd, json_type_object) ? json_object_object_length(bd) : 0);
        json_object_array_add(cells, i64(n));
        json_object_array_add(cells, s(age));
    } else if (cs == c_lease) {
        json_object_array_add(cells, s(ks_json_str(o, "spec.holderIdentity")));
        json_object_array_add(cells, s(age));
    } else {
        json_object_array_add(cells, s(age));
    }
}

json_object *ks_table_row(const ks_rtype *rt, json_object *obj, const char *include)
{
    json_object *row = json_object_new_object();
    json_object *cells = json_object_new_array();
    add_cells(rt, obj, cells);
    json_object_object_add(row, "cells", cells);
    if (include && !strcmp(include, "None"))
        return row;
    if (include && !strcmp(include, "Object")) {
        json_object_object_add(row, "object", json_object_get(obj));
        return row;
    }
    json_object *pm = json_object_new_object();
    json_object_object_add(pm, "kind", json_object_new_string("PartialObjectMetadata"));
    json_object_object_add(pm, "apiVersion", json_object_new_string("meta.k8s.io/v1"));
    json_object *md = ks_json_copy(ks_json_get(obj, "metadata"));
    if (md)
        json_object_object_del(md, "managedFields");
    json_object_object_add(pm, "metadata", md ? md : json_object_new_object());
    json_object_object_add(row, "object", pm);
    return row;
}

json_object *ks_table_single(const ks_rtype *rt, json_object *obj, const char *include)
{
    json_object *t = json_object_new_object();
    json_object_object_add(t, "kind", json_object_new_string("Table"));
    json_object_object_add(t, "apiVersion", json_object_new_string("meta.k8s.io/v1"));
    json_object *md = json_object_new_object();
    const char *rv = ks_json_str(obj, "metadata.resourceVersion");
    if (rv)
        json_object_object_add(md, "resourceVersion", json_object_new_string(rv));
    json_object_object_add(t, "metadata", md);
    json_object_object_add(t, "columnDefinitions", ks_table_columns(rt));
    json_object *rows = json_object_new_array();
    json_object_array_add(rows, ks_table_row(rt, obj, include));
    json_object_object_add(t, "rows", rows);
    return t;
}
