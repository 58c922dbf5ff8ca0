/*
 * ks_types.c - the built-in type table, defaulting/validation of built-in
 * kinds, CRD registration and structural-schema validation of custom
 * resources.
 */
#include "ks_types.h"

#include "ks_json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const pod_fields[] = {"spec.nodeName", "status.phase", "spec.restartPolicy",
                                         "spec.schedulerName", "spec.serviceAccountName",
                                         "status.podIP", "status.nominatedNodeName", "spec.hostNetwork",
                                         NULL};
static const char *const event_fields[] = {"involvedObject.kind", "involvedObject.namespace",
                                           "involvedObject.name", "involvedObject.uid",
                                           "involvedObject.apiVersion", "involvedObject.resourceVersion",
                                           "involvedObject.fieldPath", "reason", "reportingComponent",
                                           "source", "type", NULL};
static const char *const eventsv1_fields[] = {"regarding.kind", "regarding.namespace", "regarding.name",
                                              "regarding.uid", "reason", "type", "reportingController",
                                              NULL};
static const char *const node_fields[] = {"spec.unschedulable", NULL};
static const char *const ns_fields[] = {"status.phase", NULL};
static const char *const rs_fields[] = {"status.replicas", NULL};

typedef struct bt {
    const char *group, *version, *plural, *singular, *kind, *shorts, *cats;
    int namespaced;
    unsigned sub;
    int has_spec;
    const char *const *fields;
} bt;

static const bt builtins[] = {
    {"", "v1", "namespaces", "namespace", "Namespace", "ns", "", 0, KS_SUB_STATUS, 0, ns_fields},
    {"", "v1", "nodes", "node", "Node", "no", "", 0, KS_SUB_STATUS, 0, node_fields},
    {"", "v1", "pods", "pod", "Pod", "po", "all", 1,
     KS_SUB_STATUS | KS_SUB_EVICTION | KS_SUB_LOG | KS_SUB_BINDING, 0, pod_fields},
    {"", "v1", "services", "service", "Service", "svc", "all", 1, KS_SUB_STATUS, 0, NULL},
    {"", "v1", "endpoints", "endpoints", "Endpoints", "ep", "", 1, 0, 0, NULL},
    {"", "v1", "configmaps", "configmap", "ConfigMap", "cm", "", 1, 0, 0, NULL},
    {"", "v1", "secrets", "secret", "Secret", "", "", 1, 0, 0, NULL},
    {"", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", "sa", "", 1, 0, 0, NULL},
    {"", "v1", "events", "event", "Event", "ev", "", 1, 0, 0, event_fields},
    {"apps", "v1", "deployments", "deployment", "Deployment", "deploy", "all", 1,
     KS_SUB_STATUS | KS_SUB_SCALE, 1, NULL},
    {"apps", "v1", "statefulsets", "statefulset", "StatefulSet", "sts", "all", 1,
     KS_SUB_STATUS | KS_SUB_SCALE, 1, NULL},
    {"apps", "v1", "replicasets", "replicaset", "ReplicaSet", "rs", "all", 1,
     KS_SUB_STATUS | KS_SUB_SCALE, 1, rs_fields},
    {"apps", "v1", "daemonsets", "daemonset", "DaemonSet", "ds", "all", 1, KS_SUB_STATUS, 1, NULL},
    {"apps", "v1", "controllerrevisions", "controllerrevision", "ControllerRevision", "", "", 1, 0, 0, NULL},
    {"policy", "v1", "poddisruptionbudgets", "poddisruptionbudget", "PodDisruptionBudget", "pdb", "", 1,
     KS_SUB_STATUS, 1, NULL},
    {"coordination.k8s.io", "v1", "leases", "lease", "Lease", "", "", 1, 0, 0, NULL},
    {"events.k8s.io", "v1", "events", "event", "Event", "ev", "", 1, 0, 0, eventsv1_fields},
    {"apiextensions.k8s.io", "v1", "customresourcedefinitions", "customresourcedefinition",
     "CustomResourceDefinition", "crd,crds", "api-extensions", 0, KS_SUB_STATUS, 0, NULL},
};

int ks_types_register_builtin_locked(ks_store *st)
{
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
        const bt *b = &builtins[i];
        ks_rtype t;
        memset(&t, 0, sizeof t);
        snprintf(t.group, sizeof t.group, "%s", b->group);
        snprintf(t.version, sizeof t.version, "%s", b->version);
        snprintf(t.plural, sizeof t.plural, "%s", b->plural);
        snprintf(t.singular, sizeof t.singular, "%s", b->singular);
        snprintf(t.kind, sizeof t.kind, "%s", b->kind);
        snprintf(t.list_kind, sizeof t.list_kind, "%sList", b->kind);
        snprintf(t.short_names, sizeof t.short_names, "%s", b->shorts);
        snprintf(t.categories, sizeof t.categories, "%s", b->cats);
        t.namespaced = b->namespaced;
        t.subres = b->sub;
        t.builtin = 1;
        t.has_spec = b->has_spec;
        t.field_keys = b->fields;
        t.served = 1;
        if (!ks_store_add_type_locked(st, &t))
            return -ENOMEM;
    }
    return 0;
}

static void def_str(json_object *o, const char *path, const char *v)
{
    if (!ks_json_get(o, path))
        ks_json_set_str(o, path, v);
}

static void def_int(json_object *o, const char *path, int64_t v)
{
    if (!ks_json_get(o, path))
        ks_json_set_int(o, path, v);
}

/* PodSpec defaults (spec is the PodSpec object). */
static void default_podspec(json_object *spec)
{
    if (!spec)
        return;
    def_str(spec, "restartPolicy", "Always");
    def_str(spec, "dnsPolicy", "ClusterFirst");
    def_str(spec, "schedulerName", "default-scheduler");
    def_int(spec, "terminationGracePeriodSeconds", 30);
    if (!ks_json_get(spec, "securityContext"))
        ks_json_set(spec, "securityContext", json_object_new_object());
    const char *lists[] = {"containers", "initContainers"};
    for (int l = 0; l < 2; l++) {
        json_object *cs = ks_json_get(spec, lists[l]);
        size_t n = cs && json_object_is_type(cs, json_type_array) ? json_object_array_length(cs) : 0;
        for (size_t i = 0; i < n; i++) {
            json_object *c = json_object_array_get_idx(cs, i);
            if (!json_object_is_type(c, json_type_object))
                continue;
            def_str(c, "terminationMessagePath", "/dev/termination-log");
            def_str(c, "terminationMessagePolicy", "File");
            const char *img = ks_json_str(c, "image");
            int latest = img && (!strchr(img, ':') || strstr(img, ":latest"));
            def_str(c, "imagePullPolicy", latest ? "Always" : "IfNotPresent");
            if (!ks_json_get(c, "resources"))
                ks_json_set(c, "resources", json_object_new_object());
            json_object *ports = ks_json_get(c, "ports");
            size_t np = ports && json_object_is_type(ports, json_type_array) ? json_object_array_length(ports) : 0;
            for (size_t p = 0; p < np; p++)
                def_str(json_object_array_get_idx(ports, p), "protocol", "TCP");
        }
    }
}

static void default_template(json_object *obj)
{
    json_object *tspec = ks_json_get(obj, "spec.template.spec");
    default_podspec(tspec);
    if (ks_json_get(obj, "spec.template") && !ks_json_get(obj, "spec.template.metadata"))
        ks_json_set(obj, "spec.template.metadata", json_object_new_object());
}

void ks_types_default_locked(ks_sim *s, ks_rtype *rt, json_object *obj)
{
    if (!rt->builtin)
        return;
    const char *k = rt->kind;
    if (!strcmp(k, "Pod")) {
        default_podspec(ks_json_get(obj, "spec"));
    } else if (!strcmp(k, "Deployment")) {
        def_int(obj, "spec.replicas", 1);
        def_int(obj, "spec.revisionHistoryLimit", 10);
        def_int(obj, "spec.progressDeadlineSeconds", 600);
        def_str(obj, "spec.strategy.type", "RollingUpdate");
        if (!strcmp(ks_json_str(obj, "spec.strategy.type"), "RollingUpdate")) {
            def_str(obj, "spec.strategy.rollingUpdate.maxUnavailable", "25%");
            def_str(obj, "spec.strategy.rollingUpdate.maxSurge", "25%");
        }
        default_template(obj);
    } else if (!strcmp(k, "ReplicaSet")) {
        def_int(obj, "spec.replicas", 1);
        default_template(obj);
    } else if (!strcmp(k, "StatefulSet")) {
        def_int(obj, "spec.replicas", 1);
        def_str(obj, "spec.podManagementPolicy", "OrderedReady");
        def_int(obj, "spec.revisionHistoryLimit", 10);
        def_str(obj, "spec.updateStrategy.type", "RollingUpdate");
        default_template(obj);
    } else if (!strcmp(k, "DaemonSet")) {
        def_int(obj, "spec.revisionHistoryLimit", 10);
        def_str(obj, "spec.updateStrategy.type", "RollingUpdate");
        default_template(obj);
    } else if (!strcmp(k, "Service")) {
        def_str(obj, "spec.type", "ClusterIP");
        def_str(obj, "spec.sessionAffinity", "None");
        if (!ks_json_get(obj, "spec.clusterIP")) {
            uint64_t r = ks_store_rand_locked(&s->st);
            char ip[32];
            snprintf(ip, sizeof ip, "10.96.%u.%u", (unsigned)(r >> 8) & 0xff, (unsigned)(r & 0xfd) + 2);
            ks_json_set_str(obj, "spec.clusterIP", ip);
            json_object *ips = json_object_new_array();
            json_object_array_add(ips, json_object_new_string(ip));
            ks_json_set(obj, "spec.clusterIPs", ips);
        }
        json_object *ports = ks_json_get(obj, "spec.ports");
        size_t np = ports && json_object_is_type(ports, json_type_array) ? json_object_array_length(ports) : 0;
        for (size_t p = 0; p < np; p++) {
            json_object *po = json_object_array_get_idx(ports, p);
            def_str(po, "protocol", "TCP");
            if (!ks_json_get(po, "targetPort") && ks_json_get(po, "port"))
                ks_json_set(po, "targetPort", json_object_get(ks_json_get(po, "port")));
        }
        if (!ks_json_get(obj, "status"))
            ks_json_set(obj, "status.loadBalancer", json_object_new_object());
    } else if (!strcmp(k, "Namespace")) {
        const char *name = ks_json_str(obj, "metadata.name");
        json_object *labels = ks_json_mkpath(obj, "metadata.labels");
        if (labels && name)
            json_object_object_add(labels, "kubernetes.io/metadata.name", json_object_new_string(name));
        json_object *fin = json_object_new_array();
        json_object_array_add(fin, json_object_new_string("kubernetes"));
        if (!ks_json_get(obj, "spec.finalizers"))
            ks_json_set(obj, "spec.finalizers", fin);
        else
            json_object_put(fin);
        ks_json_set_str(obj, "status.phase", "Active");
    } else if (!strcmp(k, "PodDisruptionBudget")) {
        /* nothing: unhealthyPodEvictionPolicy unset means IfHealthyBudget */
    }
}

static int invalid(ks_err *err, ks_rtype *rt, json_object *obj, const char *field, const char *type,
                   const char *detail)
{
    const char *name = ks_json_str(obj, "metadata.name");
    ks_err_set(err, 422, "Invalid", "%s \"%s\" is invalid: %s: %s", rt->kind, name ? name : "", field, detail);
    ks_err_target(err, rt, name ? name : "");
    snprintf(err->kind, sizeof err->kind, "%s", rt->kind);
    ks_err_cause(err, type, field, detail);
    return -EINVAL;
}

static int valid_dns_name(const char *n)
{
    size_t l = strlen(n);
    if (l == 0 || l > 253)
        return 0;
    for (size_t i = 0; i < l; i++) {
        char c = n[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
            return 0;
    }
    return n[0] != '-' && n[l - 1] != '-' && n[0] != '.' && n[l - 1] != '.';
}

int ks_types_validate(ks_rtype *rt, json_object *obj, ks_err *err)
{
    const char *name = ks_json_str(obj, "metadata.name");
    if (!name || !*name)
        return invalid(err, rt, obj, "metadata.name", "FieldValueRequired", "Required value: name or generateName is required");
    if (!valid_dns_name(name) && strcmp(rt->kind, "Event"))
        return invalid(err, rt, obj, "metadata.name", "FieldValueInvalid",
                       "Invalid value: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'");
    if (!rt->builtin)
        return 0;
    const char *k = rt->kind;
    json_object *podspec = NULL;
    const char *prefix = "spec";
    if (!strcmp(k, "Pod")) {
        podspec = ks_json_get(obj, "spec");
    } else if (!strcmp(k, "Deployment") || !strcmp(k, "ReplicaSet") || !strcmp(k, "StatefulSet") ||
               !strcmp(k, "DaemonSet")) {
        json_object *sel = ks_json_get(obj, "spec.selector");
        if (!sel)
            return invalid(err, rt, obj, "spec.selector", "FieldValueRequired", "Required value");
        json_object *ml = ks_json_get(sel, "matchLabels");
        json_object *tl = ks_json_get(obj, "spec.template.metadata.labels");
        if (ml && json_object_is_type(ml, json_type_object)) {
            json_object_object_foreach(ml, key, v) {
                const char *tv = tl ? ks_json_str(tl, key) : NULL;
                /* keys with dots cannot go through ks_json_str: look directly */
                json_object *tvo = NULL;
                if (tl && json_object_object_get_ex(tl, key, &tvo))
                    tv = json_object_get_string(tvo);
                if (!tv || strcmp(tv, json_object_get_string(v)))
                    return invalid(err, rt, obj, "spec.template.metadata.labels", "FieldValueInvalid",
                                   "Invalid value: selector does not match template labels");
            }
        }
        if (ks_json_int(obj, "spec.replicas", 0) < 0)
            return invalid(err, rt, obj, "spec.replicas", "FieldValueInvalid",
                           "Invalid value: must be greater than or equal to 0");
        podspec = ks_json_get(obj, "spec.template.spec");
        prefix = "spec.template.spec";
    }
    if (podspec || !strcmp(k, "Pod")) {
        json_object *cs = ks_json_get(podspec, "containers");
        size_t n = cs && json_object_is_type(cs, json_type_array) ? json_object_array_length(cs) : 0;
        char f[256];
        if (n == 0) {
            snprintf(f, sizeof f, "%s.containers", prefix);
            return invalid(err, rt, obj, f, "FieldValueRequired", "Required value");
        }
        for (size_t i = 0; i < n; i++) {
            json_object *c = json_object_array_get_idx(cs, i);
            if (!ks_json_str(c, "name")) {
                snprintf(f, sizeof f, "%s.containers[%zu].name", prefix, i);
                return invalid(err, rt, obj, f, "FieldValueRequired", "Required value");
            }
            if (!ks_json_str(c, "image")) {
                snprintf(f, sizeof f, "%s.containers[%zu].image", prefix, i);
                return invalid(err, rt, obj, f, "FieldValueRequired", "Required value");
            }
        }
    }
    if (!strcmp(k, "PodDisruptionBudget") && ks_json_get(obj, "spec.minAvailable") &&
        ks_json_get(obj, "spec.maxUnavailable"))
        return invalid(err, rt, obj, "spec", "FieldValueInvalid",
                       "Invalid value: minAvailable and maxUnavailable cannot be both set");
    if (!strcmp(k, "Event") && !strcmp(rt->group, "events.k8s.io")) {
        const char *req[] = {"eventTime", "reportingController", "reportingInstance", "action", "reason"};
        for (int i = 0; i < 5; i++)
            if (!ks_json_get(obj, req[i]))
                return invalid(err, rt, obj, req[i], "FieldValueRequired", "Required value");
        const char *t = ks_json_str(obj, "type");
        if (t && strcmp(t, "Normal") && strcmp(t, "Warning"))
            return invalid(err, rt, obj, "type", "FieldValueNotSupported",
                           "Unsupported value: supported values: \"Normal\", \"Warning\"");
    }
    if (!strcmp(k, "Lease")) {
        json_object *d = ks_json_get(obj, "spec.leaseDurationSeconds");
        if (d && json_object_get_int64(d) <= 0)
            return invalid(err, rt, obj, "spec.leaseDurationSeconds", "FieldValueInvalid",
                           "Invalid value: must be greater than 0");
    }
    return 0;
}

/* ---- CRDs ---- */

int ks_types_crd_sync_locked(ks_sim *s, json_object *crd, ks_err *err)
{
    const char *name = ks_json_str(crd, "metadata.name");
    const char *group = ks_json_str(crd, "spec.group");
    const char *plural = ks_json_str(crd, "spec.names.plural");
    const char *kind = ks_json_str(crd, "spec.names.kind");
    const char *scope = ks_json_str(crd, "spec.scope");
    json_object *versions = ks_json_get(crd, "spec.versions");
    ks_rtype *crt = ks_store_type_locked(&s->st, "apiextensions.k8s.io", "v1", "customresourcedefinitions");
    if (!group || !plural || !kind || !scope || !versions ||
        !json_object_is_type(versions, json_type_array) || json_object_array_length(versions) == 0) {
        const char *f = !group ? "spec.group" : !plural ? "spec.names.plural" : !kind ? "spec.names.kind"
                        : !scope ? "spec.scope" : "spec.versions";
        return invalid(err, crt, crd, f, "FieldValueRequired", "Required value");
    }
    char want[512];
    snprintf(want, sizeof want, "%s.%s", plural, group);
    if (!name || strcmp(name, want))
        return invalid(err, crt, crd, "metadata.name", "FieldValueInvalid",
                       "Invalid value: must be spec.names.plural+\".\"+spec.group");
    if (strcmp(scope, "Namespaced") && strcmp(scope, "Cluster"))
        return invalid(err, crt, crd, "spec.scope", "FieldValueNotSupported",
                       "Unsupported value: supported values: \"Cluster\", \"Namespaced\"");
    size_t nv = json_object_array_length(versions);
    for (size_t i = 0; i < nv; i++) {
        json_object *v = json_object_array_get_idx(versions, i);
        const char *vname = ks_json_str(v, "name");
        if (!vname)
            return invalid(err, crt, crd, "spec.versions[].name", "FieldValueRequired", "Required value");
        json_object *schema = ks_json_get(v, "schema.openAPIV3Schema");
        if (!schema)
            return invalid(err, crt, crd, "spec.versions[].schema.openAPIV3Schema", "FieldValueRequired",
                           "Required value: schemas are required");
    }
    ks_types_crd_remove_locked(s, name);
    for (size_t i = 0; i < nv; i++) {
        json_object *v = json_object_array_get_idx(versions, i);
        json_object *served = ks_json_get(v, "served");
        if (served && !json_object_get_boolean(served))
            continue;
        ks_rtype t;
        memset(&t, 0, sizeof t);
        snprintf(t.group, sizeof t.group, "%s", group);
        snprintf(t.version, sizeof t.version, "%s", ks_json_str(v, "name"));
        snprintf(t.plural, sizeof t.plural, "%s", plural);
        const char *sing = ks_json_str(crd, "spec.names.singular");
        snprintf(t.singular, sizeof t.singular, "%s", sing ? sing : "");
        if (!sing) {
            for (size_t c = 0; kind[c] && c < sizeof t.singular - 1; c++)
                t.singular[c] = (char)((kind[c] >= 'A' && kind[c] <= 'Z') ? kind[c] + 32 : kind[c]);
        }
        snprintf(t.kind, sizeof t.kind, "%s", kind);
        const char *lk = ks_json_str(crd, "spec.names.listKind");
        if (lk)
            snprintf(t.list_kind, sizeof t.list_kind, "%s", lk);
        else
            snprintf(t.list_kind, sizeof t.list_kind, "%sList", kind);
        json_object *sn = ks_json_get(crd, "spec.names.shortNames");
        size_t nsn = sn && json_object_is_type(sn, json_type_array) ? json_object_array_length(sn) : 0;
        for (size_t j = 0; j < nsn; j++) {
            size_t cur = strlen(t.short_names);
            snprintf(t.short_names + cur, sizeof t.short_names - cur, "%s%s", j ? "," : "",
                     json_object_get_string(json_object_array_get_idx(sn, j)));
        }
        json_object *cat = ks_json_get(crd, "spec.names.categories");
        size_t nc = cat && json_object_is_type(cat, json_type_array) ? json_object_array_length(cat) : 0;
        for (size_t j = 0; j < nc; j++) {
            size_t cur = strlen(t.categories);
            snprintf(t.categories + cur, sizeof t.categories - cur, "%s%s", j ? "," : "",
                     json_object_get_string(json_object_array_get_idx(cat, j)));
        }
        t.namespaced = !strcmp(scope, "Namespaced");
        t.has_spec = 1;
        t.served = 1;
        snprintf(t.crd_name, sizeof t.crd_name, "%s", name);
        t.schema = ks_json_get(v, "schema.openAPIV3Schema");
        if (ks_json_get(v, "subresources.status"))
            t.subres |= KS_SUB_STATUS;
        json_object *sc = ks_json_get(v, "subresources.scale");
        if (sc) {
            t.subres |= KS_SUB_SCALE;
            const char *a = ks_json_str(sc, "specReplicasPath"), *b = ks_json_str(sc, "statusReplicasPath"),
                       *c = ks_json_str(sc, "labelSelectorPath");
            snprintf(t.scale_spec, sizeof t.scale_spec, "%s", a && a[0] == '.' ? a + 1 : "spec.replicas");
            snprintf(t.scale_status, sizeof t.scale_status, "%s", b && b[0] == '.' ? b + 1 : "status.replicas");
            snprintf(t.scale_selector, sizeof t.scale_selector, "%s", c && c[0] == '.' ? c + 1 : "");
        }
        if (!ks_store_add_type_locked(&s->st, &t)) {
            ks_err_set(err, 500, "InternalError", "too many resource types");
            return -ENOMEM;
        }
    }
    return 0;
}

void ks_types_crd_remove_locked(ks_sim *s, const char *crd_name)
{
    for (int i = 0; i < s->st.ntypes; i++) {
        ks_rtype *rt = s->st.types[i];
        if (!rt->gone && rt->crd_name[0] && !strcmp(rt->crd_name, crd_name)) {
            rt->gone = 1;
            /* its objects go with it (no events: kube also drops them silently
             * from watches, which end) */
            for (size_t j = 0; j < rt->n; j++) {
                free(rt->objs[j].key);
                json_object_put(rt->objs[j].o);
            }
            rt->n = 0;
        }
    }
}

/* ---- structural schema ---- */

static const char *jtype_name(json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null: return "null";
    case json_type_boolean: return "boolean";
    case json_type_double: return "number";
    case json_type_int: return "integer";
    case json_type_object: return "object";
    case json_type_array: return "array";
    case json_type_string: return "string";
    }
    return "unknown";
}

static int type_ok(const char *want, json_object *v)
{
    if (!want)
        return 1;
    json_type t = json_object_get_type(v);
    if (!strcmp(want, "object")) return t == json_type_object;
    if (!strcmp(want, "array")) return t == json_type_array;
    if (!strcmp(want, "string")) return t == json_type_string;
    if (!strcmp(want, "integer")) return t == json_type_int;
    if (!strcmp(want, "number")) return t == json_type_int || t == json_type_double;
    if (!strcmp(want, "boolean")) return t == json_type_boolean;
    return 1;
}

static int sv_rec(json_object *schema, json_object *v, char *path, size_t cap, const char *kind,
                  const char *name, ks_err *err)
{
    if (!schema || !json_object_is_type(schema, json_type_object))
        return 0;
    size_t plen = strlen(path);
    const char *type = ks_json_str(schema, "type");
    json_object *iou = ks_json_get(schema, "x-kubernetes-int-or-string");
    if (!v) {
        json_object *nullable = ks_json_get(schema, "nullable");
        if (nullable && json_object_get_boolean(nullable))
            return 0;
        if (type) {
            ks_err_set(err, 422, "Invalid", "%s.%s \"%s\" is invalid: %s: Invalid value: \"null\": %s in body must be of type %s: \"null\"",
                       kind, "", name, path, path, type);
            ks_err_cause(err, "FieldValueTypeInvalid", path, "Invalid value: \"null\": must not be null");
            return -EINVAL;
        }
        return 0;
    }
    if (iou && json_object_get_boolean(iou)) {
        if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_string))
            goto badtype;
    } else if (!type_ok(type, v)) {
        goto badtype;
    }
    json_object *en = ks_json_get(schema, "enum");
    if (en && json_object_is_type(en, json_type_array)) {
        int ok = 0;
        for (size_t i = 0; i < json_object_array_length(en) && !ok; i++)
            ok = json_object_equal(json_object_array_get_idx(en, i), v);
        if (!ok) {
            ks_err_set(err, 422, "Invalid", "%s \"%s\" is invalid: %s: Unsupported value: %s",
                       kind, name, path, ks_json_dump(v, NULL));
            ks_err_cause(err, "FieldValueNotSupported", path, "Unsupported value");
            return -EINVAL;
        }
    }
    if (json_object_is_type(v, json_type_object)) {
        json_object *req = ks_json_get(schema, "required");
        for (size_t i = 0; req && json_object_is_type(req, json_type_array) && i < json_object_array_length(req); i++) {
            const char *rk = json_object_get_string(json_object_array_get_idx(req, i));
            if (rk && !json_object_object_get_ex(v, rk, NULL)) {
                snprintf(path + plen, cap - plen, "%s%s", plen ? "." : "", rk);
                ks_err_set(err, 422, "Invalid", "%s \"%s\" is invalid: %s: Required value", kind, name, path);
                ks_err_cause(err, "FieldValueRequired", path, "Required value");
                return -EINVAL;
            }
        }
        json_object *props = ks_json_get(schema, "properties");
        json_object *addl = ks_json_get(schema, "additionalProperties");
        json_object_object_foreach(v, k, cv) {
            json_object *ps = NULL;
            if (props && json_object_object_get_ex(props, k, &ps)) {
            } else if (addl && json_object_is_type(addl, json_type_object)) {
                ps = addl;
            } else {
                continue; /* unknown fields are pruned on write, not rejected */
            }
            if (plen == 0 && (!strcmp(k, "metadata") || !strcmp(k, "apiVersion") || !strcmp(k, "kind")))
                continue;
            snprintf(path + plen, cap - plen, "%s%s", plen ? "." : "", k);
            int rc = sv_rec(ps, cv, path, cap, kind, name, err);
            path[plen] = 0;
            if (rc)
                return rc;
        }
    } else if (json_object_is_type(v, json_type_array)) {
        json_object *items = ks_json_get(schema, "items");
        for (size_t i = 0; items && i < json_object_array_length(v); i++) {
            snprintf(path + plen, cap - plen, "[%zu]", i);
            int rc = sv_rec(items, json_object_array_get_idx(v, i), path, cap, kind, name, err);
            path[plen] = 0;
            if (rc)
                return rc;
        }
    }
    return 0;
badtype:
    ks_err_set(err, 422, "Invalid", "%s \"%s\" is invalid: %s: Invalid value: \"%s\": %s in body must be of type %s: \"%s\"",
               kind, name, path, jtype_name(v), path, type ? type : "int-or-string", jtype_name(v));
    {
        char m[256];
        snprintf(m, sizeof m, "Invalid value: \"%s\": %s in body must be of type %s: \"%s\"", jtype_name(v), path,
                 type ? type : "int-or-string", jtype_name(v));
        ks_err_cause(err, "FieldValueTypeInvalid", path, m);
    }
    return -EINVAL;
}

int ks_schema_validate(json_object *schema, json_object *obj, const char *kind, const char *name, ks_err *err)
{
    char path[1024] = "";
    return sv_rec(schema, obj, path, sizeof path, kind, name ? name : "", err);
}

void ks_schema_default(json_object *schema, json_object *obj)
{
    if (!schema || !obj)
        return;
    if (json_object_is_type(obj, json_type_object)) {
        json_object *props = ks_json_get(schema, "properties");
        if (!props || !json_object_is_type(props, json_type_object))
            return;
        json_object_object_foreach(props, k, ps) {
            json_object *cur = NULL;
            if (!json_object_object_get_ex(obj, k, &cur)) {
                json_object *d = NULL;
                if (json_object_object_get_ex(ps, "default", &d) && d)
                    json_object_object_add(obj, k, ks_json_copy(d));
                else
                    continue;
                json_object_object_get_ex(obj, k, &cur);
            }
            ks_schema_default(ps, cur);
        }
    } else if (json_object_is_type(obj, json_type_array)) {
        json_object *items = ks_json_get(schema, "items");
        for (size_t i = 0; items && i < json_object_array_length(obj); i++)
            ks_schema_default(items, json_object_array_get_idx(obj, i));
    }
}
