/*
 * ks_proto.c - a table-driven protobuf wire-format reader for a few
 * Kubernetes kinds. Each message is a list of (field number, JSON name,
 * type); maps are repeated {key=1, value=2} entries; metav1.Time is
 * {seconds=1, nanos=2}; IntOrString is {type=1, intVal=2, strVal=3};
 * resource.Quantity is {string=1}.
 */
#include "ks_proto.h"

#include "ks_json.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef enum { T_STR, T_BYTES, T_INT, T_INTKEEP, T_BOOL, T_MSG, T_MAP_SS, T_MAP_SB, T_MAP_QTY, T_TIME, T_IOS } ftype;

struct pmsg;
typedef struct pfield {
    int num;
    const char *name;
    ftype t;
    int repeated;
    const struct pmsg *msg;
} pfield;

typedef struct pmsg {
    const pfield *f;
} pmsg;

#define END {0, NULL, T_STR, 0, NULL}

static const pmsg m_ownerref, m_objmeta, m_selreq, m_selector, m_port, m_env, m_resources, m_mount, m_container,
    m_empty, m_podspec, m_podtmpl, m_rolling, m_strategy, m_deployspec, m_svcport, m_svcspec, m_nsspec, m_objref,
    m_localref, m_pdbspec, m_preconds, m_delopts;

static const pfield f_empty[] = {END};
static const pmsg m_empty = {f_empty};
static const pfield f_ownerref[] = {{1, "kind", T_STR, 0, NULL}, {3, "name", T_STR, 0, NULL}, {4, "uid", T_STR, 0, NULL},
                                    {5, "apiVersion", T_STR, 0, NULL}, {6, "controller", T_BOOL, 0, NULL},
                                    {7, "blockOwnerDeletion", T_BOOL, 0, NULL}, END};
static const pmsg m_ownerref = {f_ownerref};
static const pfield f_objmeta[] = {{1, "name", T_STR, 0, NULL}, {2, "generateName", T_STR, 0, NULL},
                                   {3, "namespace", T_STR, 0, NULL}, {5, "uid", T_STR, 0, NULL},
                                   {6, "resourceVersion", T_STR, 0, NULL}, {7, "generation", T_INT, 0, NULL},
                                   {8, "creationTimestamp", T_TIME, 0, NULL}, {11, "labels", T_MAP_SS, 0, NULL},
                                   {12, "annotations", T_MAP_SS, 0, NULL}, {13, "ownerReferences", T_MSG, 1, &m_ownerref},
                                   {14, "finalizers", T_STR, 1, NULL}, END};
static const pmsg m_objmeta = {f_objmeta};
static const pfield f_selreq[] = {{1, "key", T_STR, 0, NULL}, {2, "operator", T_STR, 0, NULL}, {3, "values", T_STR, 1, NULL}, END};
static const pmsg m_selreq = {f_selreq};
static const pfield f_selector[] = {{1, "matchLabels", T_MAP_SS, 0, NULL}, {2, "matchExpressions", T_MSG, 1, &m_selreq}, END};
static const pmsg m_selector = {f_selector};
static const pfield f_port[] = {{1, "name", T_STR, 0, NULL}, {2, "hostPort", T_INT, 0, NULL}, {3, "containerPort", T_INT, 0, NULL},
                                {4, "protocol", T_STR, 0, NULL}, {5, "hostIP", T_STR, 0, NULL}, END};
static const pmsg m_port = {f_port};
static const pfield f_env[] = {{1, "name", T_STR, 0, NULL}, {2, "value", T_STR, 0, NULL}, END};
static const pmsg m_env = {f_env};
static const pfield f_resources[] = {{1, "limits", T_MAP_QTY, 0, NULL}, {2, "requests", T_MAP_QTY, 0, NULL}, END};
static const pmsg m_resources = {f_resources};
static const pfield f_mount[] = {{1, "name", T_STR, 0, NULL}, {2, "readOnly", T_BOOL, 0, NULL}, {3, "mountPath", T_STR, 0, NULL},
                                 {4, "subPath", T_STR, 0, NULL}, END};
static const pmsg m_mount = {f_mount};
static const pfield f_container[] = {{1, "name", T_STR, 0, NULL}, {2, "image", T_STR, 0, NULL}, {3, "command", T_STR, 1, NULL},
                                     {4, "args", T_STR, 1, NULL}, {5, "workingDir", T_STR, 0, NULL},
                                     {6, "ports", T_MSG, 1, &m_port}, {7, "env", T_MSG, 1, &m_env},
                                     {8, "resources", T_MSG, 0, &m_resources}, {9, "volumeMounts", T_MSG, 1, &m_mount},
                                     {13, "terminationMessagePath", T_STR, 0, NULL}, {14, "imagePullPolicy", T_STR, 0, NULL},
                                     {16, "stdin", T_BOOL, 0, NULL}, {17, "stdinOnce", T_BOOL, 0, NULL}, {18, "tty", T_BOOL, 0, NULL},
                                     {20, "terminationMessagePolicy", T_STR, 0, NULL}, END};
static const pmsg m_container = {f_container};
static const pfield f_localref[] = {{1, "name", T_STR, 0, NULL}, END};
static const pmsg m_localref = {f_localref};
static const pfield f_podspec[] = {{2, "containers", T_MSG, 1, &m_container}, {3, "restartPolicy", T_STR, 0, NULL},
                                   {4, "terminationGracePeriodSeconds", T_INTKEEP, 0, NULL}, {6, "dnsPolicy", T_STR, 0, NULL},
                                   {7, "nodeSelector", T_MAP_SS, 0, NULL}, {8, "serviceAccountName", T_STR, 0, NULL},
                                   {10, "nodeName", T_STR, 0, NULL}, {11, "hostNetwork", T_BOOL, 0, NULL},
                                   {14, "securityContext", T_MSG, 0, &m_empty}, {15, "imagePullSecrets", T_MSG, 1, &m_localref},
                                   {19, "schedulerName", T_STR, 0, NULL}, {20, "initContainers", T_MSG, 1, &m_container}, END};
static const pmsg m_podspec = {f_podspec};
static const pfield f_podtmpl[] = {{1, "metadata", T_MSG, 0, &m_objmeta}, {2, "spec", T_MSG, 0, &m_podspec}, END};
static const pmsg m_podtmpl = {f_podtmpl};
static const pfield f_rolling[] = {{1, "maxUnavailable", T_IOS, 0, NULL}, {2, "maxSurge", T_IOS, 0, NULL}, END};
static const pmsg m_rolling = {f_rolling};
static const pfield f_strategy[] = {{1, "type", T_STR, 0, NULL}, {2, "rollingUpdate", T_MSG, 0, &m_rolling}, END};
static const pmsg m_strategy = {f_strategy};
static const pfield f_deployspec[] = {{1, "replicas", T_INTKEEP, 0, NULL}, {2, "selector", T_MSG, 0, &m_selector},
                                      {3, "template", T_MSG, 0, &m_podtmpl}, {4, "strategy", T_MSG, 0, &m_strategy},
                                      {5, "minReadySeconds", T_INT, 0, NULL}, {6, "revisionHistoryLimit", T_INTKEEP, 0, NULL},
                                      {7, "paused", T_BOOL, 0, NULL}, {9, "progressDeadlineSeconds", T_INTKEEP, 0, NULL}, END};
static const pmsg m_deployspec = {f_deployspec};
static const pfield f_svcport[] = {{1, "name", T_STR, 0, NULL}, {2, "protocol", T_STR, 0, NULL}, {3, "port", T_INT, 0, NULL},
                                   {4, "targetPort", T_IOS, 0, NULL}, {5, "nodePort", T_INT, 0, NULL},
                                   {6, "appProtocol", T_STR, 0, NULL}, END};
static const pmsg m_svcport = {f_svcport};
static const pfield f_svcspec[] = {{1, "ports", T_MSG, 1, &m_svcport}, {2, "selector", T_MAP_SS, 0, NULL},
                                   {3, "clusterIP", T_STR, 0, NULL}, {4, "type", T_STR, 0, NULL},
                                   {5, "externalIPs", T_STR, 1, NULL}, {7, "sessionAffinity", T_STR, 0, NULL},
                                   {10, "externalName", T_STR, 0, NULL}, END};
static const pmsg m_svcspec = {f_svcspec};
static const pfield f_nsspec[] = {{1, "finalizers", T_STR, 1, NULL}, END};
static const pmsg m_nsspec = {f_nsspec};
static const pfield f_objref[] = {{1, "kind", T_STR, 0, NULL}, {2, "namespace", T_STR, 0, NULL}, {3, "name", T_STR, 0, NULL},
                                  {4, "uid", T_STR, 0, NULL}, {5, "apiVersion", T_STR, 0, NULL}, END};
static const pmsg m_objref = {f_objref};
static const pfield f_pdbspec[] = {{1, "minAvailable", T_IOS, 0, NULL}, {2, "selector", T_MSG, 0, &m_selector},
                                   {3, "maxUnavailable", T_IOS, 0, NULL}, {4, "unhealthyPodEvictionPolicy", T_STR, 0, NULL}, END};
static const pmsg m_pdbspec = {f_pdbspec};
static const pfield f_preconds[] = {{1, "uid", T_STR, 0, NULL}, {2, "resourceVersion", T_STR, 0, NULL}, END};
static const pmsg m_preconds = {f_preconds};
static const pfield f_delopts[] = {{1, "gracePeriodSeconds", T_INTKEEP, 0, NULL}, {2, "preconditions", T_MSG, 0, &m_preconds},
                                   {3, "orphanDependents", T_BOOL, 0, NULL}, {4, "propagationPolicy", T_STR, 0, NULL},
                                   {5, "dryRun", T_STR, 1, NULL}, END};
static const pmsg m_delopts = {f_delopts};

/* top-level kinds */
static const pfield f_configmap[] = {{1, "metadata", T_MSG, 0, &m_objmeta}, {2, "data", T_MAP_SS, 0, NULL},
                                     {3, "binaryData", T_MAP_SB, 0, NULL}, {4, "immutable", T_BOOL, 0, NULL}, END};
static const pfield f_secret[] = {{1, "metadata", T_MSG, 0, &m_objmeta}, {2, "data", T_MAP_SB, 0, NULL},
                                  {3, "type", T_STR, 0, NULL}, {4, "stringData", T_MAP_SS, 0, NULL},
                                  {5, "immutable", T_BOOL, 0, NULL}, END};
static const pfield f_namespace[] = {{1, "metadata", T_MSG, 0, &m_objmeta}, {2, "spec", T_MSG, 0, &m_nsspec},
                                     {3, "status", T_MSG, 0, &m_empty}, END};
static const pfield f_sa[] = {{1, "metadata", T_MSG, 0, &m_objmeta}, {2, "secrets", T_MSG, 1, &m_objref},
                              {3, "imagePullSecrets", T_MSG, 1, &m_localref},
                              {4, "automountServiceAccountToken", T_BOOL, 0, NULL}, END};
static const pfield f_service[] = {{1, "metadata", T_MSG, 0, &m_objmeta}, {2, "spec", T_MSG, 0, &m_svcspec},
                                   {3, "status", T_MSG, 0, &m_empty}, END};
static const pfield f_deploy[] = {{1, "metadata", T_MSG, 0, &m_objmeta}, {2, "spec", T_MSG, 0, &m_deployspec},
                                  {3, "status", T_MSG, 0, &m_empty}, END};
static const pfield f_pod[] = {{1, "metadata", T_MSG, 0, &m_objmeta}, {2, "spec", T_MSG, 0, &m_podspec},
                               {3, "status", T_MSG, 0, &m_empty}, END};
static const pfield f_pdb[] = {{1, "metadata", T_MSG, 0, &m_objmeta}, {2, "spec", T_MSG, 0, &m_pdbspec},
                               {3, "status", T_MSG, 0, &m_empty}, END};
static const pfield f_eviction[] = {{1, "metadata", T_MSG, 0, &m_objmeta}, {2, "deleteOptions", T_MSG, 0, &m_delopts}, END};

static const struct {
    const char *api_version, *kind;
    pmsg m;
} kinds[] = {
    {"v1", "ConfigMap", {f_configmap}},      {"v1", "Secret", {f_secret}},
    {"v1", "Namespace", {f_namespace}},      {"v1", "ServiceAccount", {f_sa}},
    {"v1", "Service", {f_service}},          {"v1", "Pod", {f_pod}},
    {"apps/v1", "Deployment", {f_deploy}},   {"policy/v1", "PodDisruptionBudget", {f_pdb}},
    {"policy/v1", "Eviction", {f_eviction}}, {"v1", "DeleteOptions", {f_delopts}},
    {"meta.k8s.io/v1", "DeleteOptions", {f_delopts}},
};

/* ---- wire reader ---- */

typedef struct rd {
    const uint8_t *p, *end;
} rd;

static int varint(rd *r, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end)
            return -EINVAL;
        uint8_t b = *r->p++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return -EINVAL;
}

/* Next field: number, wire type, and for wire type 2 the slice. */
static int next(rd *r, int *num, int *wt, uint64_t *val, rd *sub)
{
    uint64_t tag;
    if (varint(r, &tag))
        return -EINVAL;
    *num = (int)(tag >> 3);
    *wt = (int)(tag & 7);
    switch (*wt) {
    case 0:
        return varint(r, val);
    case 1:
        if (r->end - r->p < 8)
            return -EINVAL;
        r->p += 8;
        return 0;
    case 5:
        if (r->end - r->p < 4)
            return -EINVAL;
        r->p += 4;
        return 0;
    case 2: {
        uint64_t n;
        if (varint(r, &n) || n > (uint64_t)(r->end - r->p))
            return -EINVAL;
        sub->p = r->p;
        sub->end = r->p + n;
        r->p += n;
        return 0;
    }
    default:
        return -EINVAL;
    }
}

static json_object *b64(const uint8_t *p, size_t n)
{
    char *o = malloc(4 * ((n + 2) / 3) + 1);
    if (!o)
        return NULL;
    EVP_EncodeBlock((unsigned char *)o, p, (int)n);
    json_object *s = json_object_new_string(o);
    free(o);
    return s;
}

static int decode_msg(const pmsg *m, rd r, json_object *obj, int depth);

/* map entry {key=1, value=2}: string key, value per type */
static int map_entry(rd e, ftype t, json_object *map, int depth)
{
    char *key = NULL;
    json_object *val = NULL;
    int num, wt;
    uint64_t v;
    rd sub;
    while (e.p < e.end) {
        if (next(&e, &num, &wt, &v, &sub))
            goto bad;
        if (num == 1 && wt == 2) {
            free(key);
            key = strndup((const char *)sub.p, (size_t)(sub.end - sub.p));
        } else if (num == 2 && wt == 2) {
            json_object_put(val);
            if (t == T_MAP_SS) {
                val = json_object_new_string_len((const char *)sub.p, (int)(sub.end - sub.p));
            } else if (t == T_MAP_SB) {
                val = b64(sub.p, (size_t)(sub.end - sub.p));
            } else { /* Quantity {string=1} */
                json_object *q = json_object_new_object();
                decode_msg(&(pmsg){(const pfield[]){{1, "string", T_STR, 0, NULL}, END}}, sub, q, depth + 1);
                const char *qs = ks_json_str(q, "string");
                val = json_object_new_string(qs ? qs : "0");
                json_object_put(q);
            }
        }
    }
    if (!key)
        goto bad;
    json_object_object_add(map, key, val ? val : json_object_new_string(""));
    free(key);
    return 0;
bad:
    free(key);
    json_object_put(val);
    return -EINVAL;
}

static json_object *time_of(rd r)
{
    int64_t secs = 0;
    int num, wt;
    uint64_t v;
    rd sub;
    while (r.p < r.end) {
        if (next(&r, &num, &wt, &v, &sub))
            return NULL;
        if (num == 1 && wt == 0)
            secs = (int64_t)v;
    }
    if (secs == 0)
        return NULL;
    char b[32];
    ks_time_rfc3339(b, (time_t)secs);
    return json_object_new_string(b);
}

static json_object *ios_of(rd r)
{
    int64_t type = 0, iv = 0;
    char *sv = NULL;
    int num, wt;
    uint64_t v;
    rd sub;
    while (r.p < r.end) {
        if (next(&r, &num, &wt, &v, &sub)) {
            free(sv);
            return NULL;
        }
        if (num == 1 && wt == 0)
            type = (int64_t)v;
        else if (num == 2 && wt == 0)
            iv = (int32_t)v;
        else if (num == 3 && wt == 2) {
            free(sv);
            sv = strndup((const char *)sub.p, (size_t)(sub.end - sub.p));
        }
    }
    json_object *o = type == 1 ? json_object_new_string(sv ? sv : "") : json_object_new_int64(iv);
    free(sv);
    return o;
}

static void put_field(json_object *obj, const pfield *f, json_object *v)
{
    if (!v)
        return;
    if (!f->repeated) {
        json_object_object_add(obj, f->name, v);
        return;
    }
    json_object *arr = NULL;
    if (!json_object_object_get_ex(obj, f->name, &arr)) {
        arr = json_object_new_array();
        json_object_object_add(obj, f->name, arr);
    }
    json_object_array_add(arr, v);
}

static int decode_msg(const pmsg *m, rd r, json_object *obj, int depth)
{
    if (depth > 32)
        return -EINVAL;
    int num, wt;
    uint64_t v = 0;
    rd sub;
    while (r.p < r.end) {
        if (next(&r, &num, &wt, &v, &sub))
            return -EINVAL;
        const pfield *f = NULL;
        for (const pfield *x = m->f; x->name; x++)
            if (x->num == num)
                f = x;
        if (!f)
            continue; /* unknown field: skipped */
        switch (f->t) {
        case T_STR:
        case T_BYTES:
            if (wt != 2)
                return -EINVAL;
            if (sub.end == sub.p && !f->repeated)
                break;
            put_field(obj, f, f->t == T_STR ? json_object_new_string_len((const char *)sub.p, (int)(sub.end - sub.p))
                                            : b64(sub.p, (size_t)(sub.end - sub.p)));
            break;
        case T_INT:
        case T_INTKEEP:
            if (wt != 0)
                return -EINVAL;
            if (v == 0 && f->t == T_INT)
                break;
            put_field(obj, f, json_object_new_int64((int64_t)v));
            break;
        case T_BOOL:
            if (wt != 0)
                return -EINVAL;
            if (v)
                put_field(obj, f, json_object_new_boolean(1));
            break;
        case T_MSG: {
            if (wt != 2)
                return -EINVAL;
            json_object *c = json_object_new_object();
            if (decode_msg(f->msg, sub, c, depth + 1)) {
                json_object_put(c);
                return -EINVAL;
            }
            put_field(obj, f, c);
            break;
        }
        case T_MAP_SS:
        case T_MAP_SB:
        case T_MAP_QTY: {
            if (wt != 2)
                return -EINVAL;
            json_object *map = NULL;
            if (!json_object_object_get_ex(obj, f->name, &map)) {
                map = json_object_new_object();
                json_object_object_add(obj, f->name, map);
            }
            if (map_entry(sub, f->t, map, depth))
                return -EINVAL;
            break;
        }
        case T_TIME:
            if (wt != 2)
                return -EINVAL;
            put_field(obj, f, time_of(sub));
            break;
        case T_IOS:
            if (wt != 2)
                return -EINVAL;
            put_field(obj, f, ios_of(sub));
            break;
        }
    }
    return 0;
}

int ks_proto_decode(const void *buf, size_t len, json_object **out, char *err, size_t errlen)
{
    static const uint8_t magic[4] = {'k', '8', 's', 0};
    if (len < 4 || memcmp(buf, magic, 4)) {
        snprintf(err, errlen, "protobuf body lacks the k8s envelope");
        return -EINVAL;
    }
    rd r = {(const uint8_t *)buf + 4, (const uint8_t *)buf + len};
    char av[128] = "", kind[128] = "";
    rd raw = {NULL, NULL};
    int num, wt;
    uint64_t v;
    rd sub;
    while (r.p < r.end) {
        if (next(&r, &num, &wt, &v, &sub)) {
            snprintf(err, errlen, "malformed protobuf envelope");
            return -EINVAL;
        }
        if (num == 1 && wt == 2) { /* TypeMeta */
            rd t = sub;
            rd s2;
            while (t.p < t.end) {
                if (next(&t, &num, &wt, &v, &s2)) {
                    snprintf(err, errlen, "malformed protobuf TypeMeta");
                    return -EINVAL;
                }
                size_t n = (size_t)(s2.end - s2.p);
                if (wt == 2 && num == 1)
                    snprintf(av, sizeof av, "%.*s", (int)(n < 127 ? n : 127), (const char *)s2.p);
                else if (wt == 2 && num == 2)
                    snprintf(kind, sizeof kind, "%.*s", (int)(n < 127 ? n : 127), (const char *)s2.p);
            }
        } else if (num == 2 && wt == 2) {
            raw = sub;
        }
    }
    const pmsg *m = NULL;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strcmp(kinds[i].api_version, av) && !strcmp(kinds[i].kind, kind))
            m = &kinds[i].m;
    if (!m) {
        snprintf(err, errlen, "protobuf bodies of %s %s are not supported by kubesim; send JSON", av, kind);
        return -ENOTSUP;
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "apiVersion", json_object_new_string(av));
    json_object_object_add(o, "kind", json_object_new_string(kind));
    if (raw.p && decode_msg(m, raw, o, 0)) {
        json_object_put(o);
        snprintf(err, errlen, "malformed protobuf %s", kind);
        return -EINVAL;
    }
    *out = o;
    return 0;
}
