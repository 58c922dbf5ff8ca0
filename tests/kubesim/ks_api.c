/*
 * ks_api.c - request routing and the non-streaming verbs of the API.
 * Each handler takes the store lock, does its work, serializes the reply
 * into a heap buffer, drops the lock and only then writes to the socket,
 * so a slow client never holds up the store.
 */
#include "ks_api.h"

#include "ks_ctrl.h"
#include "ks_fault.h"
#include "ks_json.h"
#include "ks_ops.h"
#include "ks_patch.h"
#include "ks_proto.h"
#include "ks_scenario.h"
#include "ks_select.h"
#include "ks_table.h"
#include "ks_types.h"
#include "ks_watch.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

int ks_api_reply(ks_conn *c, int code, const char *body, size_t len, const char *extra_headers, int keep)
{
    return ks_http_respond(c, code, "application/json", extra_headers, body, len, keep) ? -EIO : 0;
}

int ks_api_reply_err(ks_conn *c, const ks_err *e, int keep)
{
    json_object *st = ks_err_status(e);
    size_t n = 0;
    const char *js = ks_json_dump(st, &n);
    char extra[64] = "";
    if (e->retry_after)
        snprintf(extra, sizeof extra, "Retry-After: %d\r\n", e->retry_after);
    int rc = ks_api_reply(c, e->code, js, n, extra[0] ? extra : NULL, keep);
    json_object_put(st);
    return rc;
}

/* Reply with a json object that may belong to the store: serialize under lock. */
static int reply_obj_locked_then(ks_sim *s, ks_conn *c, int code, json_object *o, int keep)
{
    size_t n = 0;
    const char *js = ks_json_dump(o, &n);
    char *copy = malloc(n + 1);
    if (copy)
        memcpy(copy, js, n + 1);
    pthread_mutex_unlock(&s->st.mu);
    if (!copy)
        return -ENOMEM;
    int rc = ks_api_reply(c, code, copy, n, NULL, keep);
    free(copy);
    return rc;
}

static int reply_json(ks_conn *c, int code, json_object *o, int keep)
{
    size_t n = 0;
    const char *js = ks_json_dump(o, &n);
    int rc = ks_api_reply(c, code, js, n, NULL, keep);
    json_object_put(o);
    return rc;
}

static int reply_err_unlock(ks_sim *s, ks_conn *c, const ks_err *e, int keep)
{
    pthread_mutex_unlock(&s->st.mu);
    return ks_api_reply_err(c, e, keep);
}

void ks_api_err_too_large(ks_err *e, uint64_t want, uint64_t have)
{
    ks_err_set(e, 504, "Timeout", "Too large resource version: %llu, current: %llu", (unsigned long long)want,
               (unsigned long long)have);
    ks_err_cause(e, "ResourceVersionTooLarge", "", "Too large resource version");
    e->retry_after = 1;
}

int ks_api_wait_rv_locked(ks_sim *s, uint64_t rv, int ms)
{
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += ms / 1000;
    dl.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    while (s->st.rv < rv) {
        if (pthread_cond_timedwait(&s->st.cv, &s->st.mu, &dl) == ETIMEDOUT)
            break;
    }
    return s->st.rv >= rv;
}

int ks_api_obj_matches(json_object *obj, const ks_sel *labels, const ks_sel *fields)
{
    if (labels && labels->n && !ks_sel_match_labels(labels, ks_json_get(obj, "metadata.labels")))
        return 0;
    if (fields && fields->n && !ks_sel_match_fields(fields, obj))
        return 0;
    return 1;
}

/* ---- continue tokens: base64url(JSON {"v":..,"rv":..,"start":..,"t":..}) ---- */

int ks_continue_encode(uint64_t rv, const char *start, int64_t created, char *out, size_t cap)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "v", json_object_new_string("meta.k8s.io/v1"));
    json_object_object_add(o, "rv", json_object_new_int64((int64_t)rv));
    json_object_object_add(o, "start", json_object_new_string(start));
    json_object_object_add(o, "t", json_object_new_int64(created));
    size_t n = 0;
    const char *js = ks_json_dump(o, &n);
    size_t need = 4 * ((n + 2) / 3) + 1;
    int rc = -ENOSPC;
    if (need <= cap) {
        int w = EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)js, (int)n);
        for (int i = 0; i < w; i++)
            out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
        while (w > 0 && out[w - 1] == '=')
            w--;
        out[w] = 0;
        rc = 0;
    }
    json_object_put(o);
    return rc;
}

int ks_continue_decode(const char *tok, uint64_t *rv, char *start, size_t cap, int64_t *created)
{
    size_t n = strlen(tok);
    if (n == 0 || n > 4000)
        return -EINVAL;
    char b[4100];
    memcpy(b, tok, n);
    for (size_t i = 0; i < n; i++)
        b[i] = b[i] == '-' ? '+' : b[i] == '_' ? '/' : b[i];
    while (n % 4)
        b[n++] = '=';
    b[n] = 0;
    unsigned char dec[3100];
    int d = EVP_DecodeBlock(dec, (unsigned char *)b, (int)n);
    if (d < 0)
        return -EINVAL;
    while (d > 0 && dec[d - 1] == 0)
        d--;
    dec[d] = 0;
    json_object *o = json_tokener_parse((char *)dec);
    if (!o)
        return -EINVAL;
    const char *v = ks_json_str(o, "v"), *st = ks_json_str(o, "start");
    json_object *r = ks_json_get(o, "rv");
    int rc = -EINVAL;
    if (v && !strcmp(v, "meta.k8s.io/v1") && st && r && json_object_is_type(r, json_type_int)) {
        *rv = (uint64_t)json_object_get_int64(r);
        snprintf(start, cap, "%s", st);
        *created = ks_json_int(o, "t", 0);
        rc = 0;
    }
    json_object_put(o);
    return rc;
}

/* ---- discovery ---- */

static json_object *str_array(const char *csv)
{
    json_object *a = json_object_new_array();
    char buf[256];
    snprintf(buf, sizeof buf, "%s", csv);
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
        json_object_array_add(a, json_object_new_string(t));
    return a;
}

static json_object *verbs(const char *const *v)
{
    json_object *a = json_object_new_array();
    for (; *v; v++)
        json_object_array_add(a, json_object_new_string(*v));
    return a;
}

static const char *const all_verbs[] = {"create", "delete", "deletecollection", "get", "list", "patch",
                                        "update", "watch", NULL};
static const char *const sub_verbs[] = {"get", "patch", "update", NULL};

static json_object *res_entry(const char *name, const char *singular, int namespaced, const char *group,
                              const char *version, const char *kind, const char *const *vb)
{
    json_object *r = json_object_new_object();
    json_object_object_add(r, "name", json_object_new_string(name));
    json_object_object_add(r, "singularName", json_object_new_string(singular));
    json_object_object_add(r, "namespaced", json_object_new_boolean(namespaced));
    if (group) {
        json_object_object_add(r, "group", json_object_new_string(group));
        json_object_object_add(r, "version", json_object_new_string(version));
    }
    json_object_object_add(r, "kind", json_object_new_string(kind));
    json_object_object_add(r, "verbs", verbs(vb));
    return r;
}

static json_object *resource_list_locked(ks_sim *s, const char *group, const char *version)
{
    json_object *list = json_object_new_object();
    json_object_object_add(list, "kind", json_object_new_string("APIResourceList"));
    json_object_object_add(list, "apiVersion", json_object_new_string("v1"));
    char gv[256];
    if (*group)
        snprintf(gv, sizeof gv, "%s/%s", group, version);
    else
        snprintf(gv, sizeof gv, "%s", version);
    json_object_object_add(list, "groupVersion", json_object_new_string(gv));
    json_object *res = json_object_new_array();
    int found = 0;
    for (int i = 0; i < s->st.ntypes; i++) {
        ks_rtype *rt = s->st.types[i];
        if (rt->gone || strcmp(rt->group, group) || strcmp(rt->version, version))
            continue;
        found = 1;
        json_object *r = res_entry(rt->plural, rt->singular, rt->namespaced, NULL, NULL, rt->kind, all_verbs);
        if (rt->short_names[0])
            json_object_object_add(r, "shortNames", str_array(rt->short_names));
        if (rt->categories[0])
            json_object_object_add(r, "categories", str_array(rt->categories));
        char hash[32];
        snprintf(hash, sizeof hash, "%08x", (unsigned)(rt->id * 2654435761u));
        json_object_object_add(r, "storageVersionHash", json_object_new_string(hash));
        json_object_array_add(res, r);
        char sub[300];
        if (rt->subres & KS_SUB_STATUS) {
            snprintf(sub, sizeof sub, "%s/status", rt->plural);
            json_object_array_add(res, res_entry(sub, "", rt->namespaced, NULL, NULL, rt->kind, sub_verbs));
        }
        if (rt->subres & KS_SUB_SCALE) {
            snprintf(sub, sizeof sub, "%s/scale", rt->plural);
            json_object_array_add(res, res_entry(sub, "", rt->namespaced, "autoscaling", "v1", "Scale", sub_verbs));
        }
        if (rt->subres & KS_SUB_EVICTION) {
            static const char *const cv[] = {"create", NULL};
            snprintf(sub, sizeof sub, "%s/eviction", rt->plural);
            json_object_array_add(res, res_entry(sub, "", rt->namespaced, "policy", "v1", "Eviction", cv));
        }
        if (rt->subres & KS_SUB_BINDING) {
            static const char *const cv[] = {"create", NULL};
            snprintf(sub, sizeof sub, "%s/binding", rt->plural);
            json_object_array_add(res, res_entry(sub, "", rt->namespaced, NULL, NULL, "Binding", cv));
        }
        if (rt->subres & KS_SUB_LOG) {
            static const char *const gv2[] = {"get", NULL};
            snprintf(sub, sizeof sub, "%s/log", rt->plural);
            json_object_array_add(res, res_entry(sub, "", rt->namespaced, NULL, NULL, rt->kind, gv2));
        }
    }
    json_object_object_add(list, "resources", res);
    if (!found) {
        json_object_put(list);
        return NULL;
    }
    return list;
}

static json_object *group_entry_locked(ks_sim *s, const char *group)
{
    json_object *g = json_object_new_object();
    json_object_object_add(g, "name", json_object_new_string(group));
    json_object *vs = json_object_new_array();
    json_object *pref = NULL;
    for (int i = 0; i < s->st.ntypes; i++) {
        ks_rtype *rt = s->st.types[i];
        if (rt->gone || strcmp(rt->group, group))
            continue;
        int dup = 0;
        for (size_t j = 0; j < json_object_array_length(vs); j++)
            dup |= !strcmp(ks_json_str(json_object_array_get_idx(vs, j), "version"), rt->version);
        if (dup)
            continue;
        json_object *v = json_object_new_object();
        char gv[256];
        snprintf(gv, sizeof gv, "%s/%s", group, rt->version);
        json_object_object_add(v, "groupVersion", json_object_new_string(gv));
        json_object_object_add(v, "version", json_object_new_string(rt->version));
        if (!pref)
            pref = ks_json_copy(v);
        json_object_array_add(vs, v);
    }
    json_object_object_add(g, "versions", vs);
    json_object_object_add(g, "preferredVersion", pref ? pref : json_object_new_object());
    return g;
}

static json_object *group_list_locked(ks_sim *s)
{
    json_object *l = json_object_new_object();
    json_object_object_add(l, "kind", json_object_new_string("APIGroupList"));
    json_object_object_add(l, "apiVersion", json_object_new_string("v1"));
    json_object *groups = json_object_new_array();
    for (int i = 0; i < s->st.ntypes; i++) {
        ks_rtype *rt = s->st.types[i];
        if (rt->gone || !rt->group[0])
            continue;
        int dup = 0;
        for (size_t j = 0; j < json_object_array_length(groups); j++)
            dup |= !strcmp(ks_json_str(json_object_array_get_idx(groups, j), "name"), rt->group);
        if (!dup)
            json_object_array_add(groups, group_entry_locked(s, rt->group));
    }
    json_object_object_add(l, "groups", groups);
    return l;
}

/* ---- OpenAPI (minimal but valid; enough for kubectl's checks) ---- */

static json_object *openapi_v3_root_locked(ks_sim *s)
{
    json_object *root = json_object_new_object();
    json_object *paths = json_object_new_object();
    char p[300];
    for (int i = 0; i < s->st.ntypes; i++) {
        ks_rtype *rt = s->st.types[i];
        if (rt->gone)
            continue;
        if (rt->group[0])
            snprintf(p, sizeof p, "apis/%s/%s", rt->group, rt->version);
        else
            snprintf(p, sizeof p, "api/%s", rt->version);
        json_object *e = json_object_new_object();
        char url[400];
        snprintf(url, sizeof url, "/openapi/v3/%s?hash=%016llx", p, (unsigned long long)(s->st.ntypes * 7919ull + 1));
        json_object_object_add(e, "serverRelativeURL", json_object_new_string(url));
        json_object_object_add(paths, p, e);
    }
    json_object_object_add(root, "paths", paths);
    return root;
}

/* A schema per kind with x-kubernetes-group-version-kind, and PATCH ops
 * that advertise fieldValidation (kubectl then validates server side). */
static json_object *openapi_v3_gv_locked(ks_sim *s, const char *group, const char *version)
{
    json_object *doc = json_object_new_object();
    json_object_object_add(doc, "openapi", json_object_new_string("3.0.0"));
    json_object *info = json_object_new_object();
    json_object_object_add(info, "title", json_object_new_string("Kubernetes"));
    json_object_object_add(info, "version", json_object_new_string("v1.32.0"));
    json_object_object_add(doc, "info", info);
    json_object *paths = json_object_new_object();
    json_object *schemas = json_object_new_object();
    int found = 0;
    for (int i = 0; i < s->st.ntypes; i++) {
        ks_rtype *rt = s->st.types[i];
        if (rt->gone || strcmp(rt->group, group) || strcmp(rt->version, version))
            continue;
        found = 1;
        char sname[400];
        snprintf(sname, sizeof sname, "io.kubesim.%s.%s.%s", rt->group[0] ? rt->group : "core", rt->version,
                 rt->kind);
        json_object *sch = rt->schema ? ks_json_copy(rt->schema) : json_object_new_object();
        if (!ks_json_get(sch, "type"))
            json_object_object_add(sch, "type", json_object_new_string("object"));
        if (rt->builtin)
            json_object_object_add(sch, "x-kubernetes-preserve-unknown-fields", json_object_new_boolean(1));
        json_object *gvks = json_object_new_array();
        json_object *gvk = json_object_new_object();
        json_object_object_add(gvk, "group", json_object_new_string(rt->group));
        json_object_object_add(gvk, "kind", json_object_new_string(rt->kind));
        json_object_object_add(gvk, "version", json_object_new_string(rt->version));
        json_object_array_add(gvks, gvk);
        json_object_object_add(sch, "x-kubernetes-group-version-kind", gvks);
        json_object_object_add(schemas, sname, sch);
        char path[600];
        if (rt->group[0])
            snprintf(path, sizeof path, "/apis/%s/%s/%s%s/{name}", rt->group, rt->version,
                     rt->namespaced ? "namespaces/{namespace}/" : "", rt->plural);
        else
            snprintf(path, sizeof path, "/api/%s/%s%s/{name}", rt->version,
                     rt->namespaced ? "namespaces/{namespace}/" : "", rt->plural);
        json_object *item = json_object_new_object();
        const char *ops[] = {"get", "put", "patch", "delete"};
        for (int o = 0; o < 4; o++) {
            json_object *op = json_object_new_object();
            json_object *params = json_object_new_array();
            if (o == 1 || o == 2) {
                json_object *fv = json_object_new_object();
                json_object_object_add(fv, "name", json_object_new_string("fieldValidation"));
                json_object_object_add(fv, "in", json_object_new_string("query"));
                json_object *fs = json_object_new_object();
                json_object_object_add(fs, "type", json_object_new_string("string"));
                json_object_object_add(fv, "schema", fs);
                json_object_array_add(params, fv);
            }
            json_object_object_add(op, "parameters", params);
            json_object_object_add(op, "x-kubernetes-group-version-kind", ks_json_copy(gvk));
            json_object *resp = json_object_new_object();
            json_object *r200 = json_object_new_object();
            json_object_object_add(r200, "description", json_object_new_string("OK"));
            json_object_object_add(resp, "200", r200);
            json_object_object_add(op, "responses", resp);
            json_object_object_add(item, ops[o], op);
        }
        json_object_object_add(paths, path, item);
    }
    if (!found) {
        json_object_put(paths);
        json_object_put(schemas);
        json_object_put(doc);
        return NULL;
    }
    json_object_object_add(doc, "paths", paths);
    json_object *comp = json_object_new_object();
    json_object_object_add(comp, "schemas", schemas);
    json_object_object_add(doc, "components", comp);
    return doc;
}

/* ---- helpers for handlers ---- */

typedef struct route {
    ks_rtype *rt;
    char ns[256];
    char name[256];
    char sub[64];
    int has_ns;
} route;

static const char *verb_of(const ks_req *req, const route *r)
{
    const char *m = req->method;
    if (!strcmp(m, "GET")) {
        if (r->name[0])
            return "get";
        const char *w = ks_req_param(req, "watch");
        return w && (!strcmp(w, "1") || !strcmp(w, "true")) ? "watch" : "list";
    }
    if (!strcmp(m, "POST"))
        return "create";
    if (!strcmp(m, "PUT"))
        return "update";
    if (!strcmp(m, "PATCH"))
        return "patch";
    if (!strcmp(m, "DELETE"))
        return r->name[0] ? "delete" : "deletecollection";
    return "unknown";
}

static const char *manager_of(const ks_req *req, char *buf, size_t cap)
{
    const char *fm = ks_req_param(req, "fieldManager");
    if (fm && *fm)
        return fm;
    snprintf(buf, cap, "%s", req->user_agent[0] ? req->user_agent : "unknown");
    char *slash = strchr(buf, '/');
    if (slash)
        *slash = 0;
    return buf;
}

static int parse_body(const ks_req *req, json_object **out, ks_err *err)
{
    char msg[256];
    if (strcasestr(req->content_type, "application/vnd.kubernetes.protobuf") && req->body) {
        int rc = ks_proto_decode(req->body, req->body_len, out, msg, sizeof msg);
        if (rc == -ENOTSUP)
            ks_err_set(err, 415, "UnsupportedMediaType", "%s", msg);
        else if (rc)
            ks_err_set(err, 400, "BadRequest", "%s", msg);
        return rc ? -EINVAL : 0;
    }
    if (strcasestr(req->content_type, "protobuf") || strcasestr(req->content_type, "cbor")) {
        ks_err_set(err, 415, "UnsupportedMediaType",
                   "the body of the request was in an unknown format - accepted media types include: "
                   "application/json, application/yaml, application/vnd.kubernetes.protobuf");
        return -EINVAL;
    }
    if (!req->body || req->body_len == 0) {
        ks_err_set(err, 400, "BadRequest", "the request body is empty");
        return -EINVAL;
    }
    if (ks_body_parse(req->body, req->body_len, out, msg, sizeof msg)) {
        ks_err_set(err, 400, "BadRequest", "the object provided is unrecognized: %s", msg);
        return -EINVAL;
    }
    return 0;
}

/* ---- list ---- */

static int parse_selectors(ks_rtype *rt, const ks_req *req, ks_sel *ls, ks_sel *fs, ks_err *err)
{
    char msg[512];
    ks_sel_init(ls);
    ks_sel_init(fs);
    if (ks_sel_parse_labels(ls, ks_req_param(req, "labelSelector"), msg, sizeof msg)) {
        ks_err_set(err, 400, "BadRequest", "%s", msg);
        return -EINVAL;
    }
    if (ks_sel_parse_fields(fs, ks_req_param(req, "fieldSelector"), msg, sizeof msg)) {
        ks_sel_release(ls);
        ks_err_set(err, 400, "BadRequest", "%s", msg);
        return -EINVAL;
    }
    static const char *const base[] = {"metadata.name", "metadata.namespace", NULL};
    char bad[256];
    for (int i = 0; i < fs->n; i++) {
        int ok = ks_sel_fields_allowed(&(ks_sel){&fs->reqs[i], 1, 0}, base, bad, sizeof bad) ||
                 (rt->field_keys && ks_sel_fields_allowed(&(ks_sel){&fs->reqs[i], 1, 0}, rt->field_keys, bad, sizeof bad));
        if (!ok) {
            ks_err_set(err, 400, "BadRequest", "field label not supported: %s", fs->reqs[i].key);
            ks_sel_release(ls);
            ks_sel_release(fs);
            return -EINVAL;
        }
    }
    return 0;
}

/* Validate resourceVersion / resourceVersionMatch / continue combinations. */
static int check_list_opts(const ks_req *req, int watch, ks_err *err)
{
    const char *rv = ks_req_param(req, "resourceVersion");
    const char *rvm = ks_req_param(req, "resourceVersionMatch");
    const char *cont = ks_req_param(req, "continue");
    /* upstream tests "provided", not "true": sendInitialEvents=false counts */
    const char *sie = ks_req_param(req, "sendInitialEvents");
    int send_initial = sie != NULL;
    if (sie && !watch) {
        ks_err_set(err, 422, "Invalid", "ListOptions.meta.k8s.io \"\" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list");
        ks_err_cause(err, "FieldValueForbidden", "sendInitialEvents", "sendInitialEvents is forbidden for list");
        return -EINVAL;
    }
    if (send_initial && (!rvm || strcmp(rvm, "NotOlderThan"))) {
        ks_err_set(err, 422, "Invalid", "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan");
        ks_err_cause(err, "FieldValueForbidden", "resourceVersionMatch",
                     "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan");
        return -EINVAL;
    }
    if (rvm && *rvm) {
        if (watch && !send_initial) {
            ks_err_set(err, 422, "Invalid", "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided");
            ks_err_cause(err, "FieldValueForbidden", "resourceVersionMatch", "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided");
            return -EINVAL;
        }
        if (strcmp(rvm, "NotOlderThan") && strcmp(rvm, "Exact")) {
            ks_err_set(err, 422, "Invalid", "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Unsupported value: \"%.100s\": supported values: \"Exact\", \"NotOlderThan\", \"\"", rvm);
            ks_err_cause(err, "FieldValueNotSupported", "resourceVersionMatch", "Unsupported value");
            return -EINVAL;
        }
        if (!watch && (!rv || !*rv)) {
            ks_err_set(err, 422, "Invalid", "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided");
            ks_err_cause(err, "FieldValueForbidden", "resourceVersionMatch", "resourceVersionMatch is forbidden unless resourceVersion is provided");
            return -EINVAL;
        }
        if (cont && *cont) {
            ks_err_set(err, 422, "Invalid", "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided");
            ks_err_cause(err, "FieldValueForbidden", "resourceVersionMatch", "resourceVersionMatch is forbidden when continue is provided");
            return -EINVAL;
        }
        if (!strcmp(rvm, "Exact") && rv && !strcmp(rv, "0")) {
            ks_err_set(err, 422, "Invalid", "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"");
            ks_err_cause(err, "FieldValueForbidden", "resourceVersionMatch", "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"");
            return -EINVAL;
        }
    }
    if (cont && *cont && rv && *rv && strcmp(rv, "0")) {
        /* the storage layer's check, not ListOptions validation: 400, no causes */
        ks_err_set(err, 400, "BadRequest", "specifying resource version is not allowed when using continue");
        return -EINVAL;
    }
    return 0;
}

static int parse_rv(const char *s, uint64_t *out)
{
    if (!s || !*s)
        return -ENOENT;
    char *e = NULL;
    unsigned long long v = strtoull(s, &e, 10);
    if (*e || s[0] == '-')
        return -EINVAL;
    *out = v;
    return 0;
}

static void append_str(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (!*buf)
        return;
    if (*len + n + 1 > *cap) {
        size_t nc = (*cap + n + 1) * 2;
        char *nb = realloc(*buf, nc);
        if (!nb) {
            free(*buf);
            *buf = NULL;
            return;
        }
        *buf = nb;
        *cap = nc;
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = 0;
}

static int handle_list(ks_sim *s, ks_conn *c, ks_req *req, route *r, int keep)
{
    ks_err err;
    ks_sel ls, fs;
    if (check_list_opts(req, 0, &err))
        return ks_api_reply_err(c, &err, keep);
    if (parse_selectors(r->rt, req, &ls, &fs, &err))
        return ks_api_reply_err(c, &err, keep);
    int table = ks_table_wanted(req->accept);
    const char *limit_s = ks_req_param(req, "limit");
    long long limit = limit_s ? strtoll(limit_s, NULL, 10) : 0;
    if (limit < 0)
        limit = 0;
    const char *cont = ks_req_param(req, "continue");
    const char *rvs = ks_req_param(req, "resourceVersion");
    const char *rvm = ks_req_param(req, "resourceVersionMatch");
    uint64_t want_rv = 0;
    int has_rv = parse_rv(rvs, &want_rv) == 0;
    if (rvs && *rvs && !has_rv) {
        ks_sel_release(&ls);
        ks_sel_release(&fs);
        ks_err_set(&err, 400, "BadRequest", "invalid resource version: %.100s", rvs);
        return ks_api_reply_err(c, &err, keep);
    }
    char start[600] = "";
    uint64_t list_rv = 0;
    int64_t created = time(NULL);
    pthread_mutex_lock(&s->st.mu);
    if (cont && *cont) {
        uint64_t crv;
        if (ks_continue_decode(cont, &crv, start, sizeof start, &created)) {
            pthread_mutex_unlock(&s->st.mu);
            ks_sel_release(&ls);
            ks_sel_release(&fs);
            ks_err_set(&err, 400, "BadRequest", "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)");
            return ks_api_reply_err(c, &err, keep);
        }
        /* expiry by age or an explicit compaction, not by the watch window:
         * upstream pages come from etcd, compacted every 5 minutes */
        if (time(NULL) - created > s->continue_ttl_s || crv < s->st.compact_rv) {
            ks_err_set(&err, 410, "Expired",
                       "The provided continue parameter is too old to display a consistent list result. You can "
                       "start a new list without the continue parameter, or use the continue token in this response "
                       "to retrieve the remainder of the results. Continuing with the provided token results in an "
                       "inconsistent list - objects that were created, modified, or deleted between the time the "
                       "first chunk was returned and now may show up in the list.");
            ks_continue_encode(s->st.rv, start, time(NULL), err.continue_tok, sizeof err.continue_tok);
            ks_sel_release(&ls);
            ks_sel_release(&fs);
            return reply_err_unlock(s, c, &err, keep);
        }
        list_rv = crv;
    } else if (has_rv && want_rv > 0) {
        if (want_rv > s->st.rv && !ks_api_wait_rv_locked(s, want_rv, s->too_large_wait_ms)) {
            ks_api_err_too_large(&err, want_rv, s->st.rv);
            ks_sel_release(&ls);
            ks_sel_release(&fs);
            return reply_err_unlock(s, c, &err, keep);
        }
        if (rvm && !strcmp(rvm, "Exact") && want_rv < s->st.compact_rv) {
            ks_err_set(&err, 410, "Expired", "The resourceVersion for the provided list is too old.");
            ks_sel_release(&ls);
            ks_sel_release(&fs);
            return reply_err_unlock(s, c, &err, keep);
        }
        list_rv = rvm && !strcmp(rvm, "Exact") ? want_rv : s->st.rv;
    } else {
        list_rv = s->st.rv;
    }
    ks_rtype *rt = r->rt;
    char av[200];
    if (rt->group[0])
        snprintf(av, sizeof av, "%s/%s", rt->group, rt->version);
    else
        snprintf(av, sizeof av, "%s", rt->version);
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    if (buf)
        buf[0] = 0;
    char head[1024];
    /* items first, header after (the continue token is known at the end) */
    size_t i0;
    char prefix[300] = "";
    if (rt->namespaced && r->has_ns)
        snprintf(prefix, sizeof prefix, "%s/", r->ns);
    i0 = ks_store_lower_bound(rt, start[0] ? start : prefix);
    if (start[0] && i0 < rt->n && !strcmp(rt->objs[i0].key, start))
        i0++;
    long long count = 0;
    size_t i;
    char next_key[600] = "";
    long long remaining = 0;
    for (i = i0; i < rt->n; i++) {
        ks_obj *o = &rt->objs[i];
        if (prefix[0] && strncmp(o->key, prefix, strlen(prefix)))
            break;
        if (!ks_api_obj_matches(o->o, &ls, &fs))
            continue;
        if (limit && count == limit) {
            snprintf(next_key, sizeof next_key, "%s", rt->objs[i - 1].key);
            /* find the key of the last returned item */
            break;
        }
        size_t n = 0;
        if (count)
            append_str(&buf, &len, &cap, ",", 1);
        if (table) {
            json_object *row = ks_table_row(rt, o->o, ks_req_param(req, "includeObject"));
            const char *js = ks_json_dump(row, &n);
            append_str(&buf, &len, &cap, js, n);
            json_object_put(row);
        } else {
            const char *js = ks_json_dump(o->o, &n);
            append_str(&buf, &len, &cap, js, n);
        }
        count++;
        snprintf(next_key, sizeof next_key, "%s", o->key);
    }
    int more = i < rt->n && (!prefix[0] || !strncmp(rt->objs[i].key, prefix, strlen(prefix))) && limit && count == limit;
    if (more && !ls.n && !fs.n) {
        for (size_t j = i; j < rt->n; j++) {
            if (prefix[0] && strncmp(rt->objs[j].key, prefix, strlen(prefix)))
                break;
            remaining++;
        }
    }
    char tok[1024] = "";
    if (more)
        ks_continue_encode(list_rv, next_key, cont && *cont ? created : time(NULL), tok, sizeof tok);
    char *cols = NULL;
    if (table) {
        json_object *cj = ks_table_columns(rt);
        cols = strdup(ks_json_dump(cj, NULL));
        json_object_put(cj);
    }
    pthread_mutex_unlock(&s->st.mu);
    ks_sel_release(&ls);
    ks_sel_release(&fs);
    if (!buf)
        return -ENOMEM;
    int hl = snprintf(head, sizeof head, "{\"kind\":\"%s\",\"apiVersion\":\"%s\",\"metadata\":{\"resourceVersion\":\"%llu\"",
                      table ? "Table" : rt->list_kind, table ? "meta.k8s.io/v1" : av, (unsigned long long)list_rv);
    if (more) {
        hl += snprintf(head + hl, sizeof head - (size_t)hl, ",\"continue\":\"%s\"", tok);
        if (remaining)
            hl += snprintf(head + hl, sizeof head - (size_t)hl, ",\"remainingItemCount\":%lld", remaining);
    }
    if (table)
        hl += snprintf(head + hl, sizeof head - (size_t)hl, "},\"columnDefinitions\":");
    else
        hl += snprintf(head + hl, sizeof head - (size_t)hl, "},\"items\":[");
    ks_fault f;
    if (ks_faults_take(&s->faults, rt->plural, "list", 1u << KS_F_SLOW, &f))
        usleep((useconds_t)f.delay_ms * 1000);
    char hdr[4096];
    size_t extra = table ? (cols ? strlen(cols) : 2) + 9 : 0;
    int n = snprintf(hdr, sizeof hdr, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                     "Cache-Control: no-cache, private\r\n%s\r\n",
                     (size_t)hl + extra + len + 2, keep ? "" : "Connection: close\r\n");
    int rc = ks_conn_write(c, hdr, (size_t)n) || ks_conn_write(c, head, (size_t)hl) ||
             (table && (ks_conn_write(c, cols ? cols : "[]", cols ? strlen(cols) : 2) || ks_conn_write(c, ",\"rows\":[", 9))) ||
             (len && ks_conn_write(c, buf, len)) || ks_conn_write(c, "]}", 2) ? -EIO : 0;
    free(buf);
    free(cols);
    return rc;
}

/* ---- get / create / update / delete ---- */

static int handle_get(ks_sim *s, ks_conn *c, ks_req *req, route *r, int keep)
{
    ks_err err;
    uint64_t want = 0;
    const char *rvs = ks_req_param(req, "resourceVersion");
    pthread_mutex_lock(&s->st.mu);
    if (parse_rv(rvs, &want) == 0 && want > s->st.rv && !ks_api_wait_rv_locked(s, want, s->too_large_wait_ms)) {
        ks_api_err_too_large(&err, want, s->st.rv);
        return reply_err_unlock(s, c, &err, keep);
    }
    json_object *o = ks_store_get_locked(r->rt, r->ns, r->name);
    if (!o) {
        ks_err_set(&err, 404, "NotFound", "%s%s%s \"%s\" not found", r->rt->plural, r->rt->group[0] ? "." : "",
                   r->rt->group, r->name);
        ks_err_target(&err, r->rt, r->name);
        return reply_err_unlock(s, c, &err, keep);
    }
    if (ks_table_wanted(req->accept)) {
        json_object *t = ks_table_single(r->rt, o, ks_req_param(req, "includeObject"));
        size_t n = 0;
        const char *js = ks_json_dump(t, &n);
        char *copy = strdup(js);
        json_object_put(t);
        pthread_mutex_unlock(&s->st.mu);
        int rc = copy ? ks_api_reply(c, 200, copy, n, NULL, keep) : -ENOMEM;
        free(copy);
        return rc;
    }
    return reply_obj_locked_then(s, c, 200, o, keep);
}

static int handle_create(ks_sim *s, ks_conn *c, ks_req *req, route *r, int keep)
{
    ks_err err;
    json_object *body = NULL;
    if (parse_body(req, &body, &err))
        return ks_api_reply_err(c, &err, keep);
    char mb[256];
    const char *mgr = manager_of(req, mb, sizeof mb);
    const char *dry = ks_req_param(req, "dryRun");
    pthread_mutex_lock(&s->st.mu);
    json_object *out = NULL;
    if (dry && !strcmp(dry, "All")) {
        /* validate only: run create on a copy, then roll it back */
        json_object *copy = ks_json_copy(body);
        json_object_put(body);
        if (ks_types_validate(r->rt, copy, &err)) {
            json_object_put(copy);
            return reply_err_unlock(s, c, &err, keep);
        }
        int rc = reply_obj_locked_then(s, c, 201, copy, keep);
        json_object_put(copy);
        return rc;
    }
    if (ks_ops_create_locked(s, r->rt, r->rt->namespaced ? (r->has_ns ? r->ns : NULL) : NULL, body, mgr, &out, &err))
        return reply_err_unlock(s, c, &err, keep);
    return reply_obj_locked_then(s, c, 201, out, keep);
}

static int handle_update(ks_sim *s, ks_conn *c, ks_req *req, route *r, unsigned sub, int keep)
{
    ks_err err;
    json_object *body = NULL;
    if (parse_body(req, &body, &err))
        return ks_api_reply_err(c, &err, keep);
    char mb[256];
    const char *mgr = manager_of(req, mb, sizeof mb);
    const char *kind = ks_json_str(body, "kind");
    if (kind && strcmp(kind, r->rt->kind)) {
        ks_err_set(&err, 400, "BadRequest", "the kind in the data (%.100s) does not match the expected kind (%s)", kind,
                   r->rt->kind);
        json_object_put(body);
        return ks_api_reply_err(c, &err, keep);
    }
    pthread_mutex_lock(&s->st.mu);
    json_object *out = NULL;
    if (ks_ops_update_locked(s, r->rt, r->ns, r->name, body, sub, mgr, NULL, 0, &out, &err))
        return reply_err_unlock(s, c, &err, keep);
    if (!out) {
        json_object *st = ks_status_success(r->name, r->rt->group, r->rt->plural, NULL);
        pthread_mutex_unlock(&s->st.mu);
        return reply_json(c, 200, st, keep);
    }
    return reply_obj_locked_then(s, c, 200, out, keep);
}

static void delete_opts(const ks_req *req, const char **prop, int64_t *grace, char *pre_uid, char *pre_rv,
                        char *propbuf, json_object **keep_body)
{
    *prop = ks_req_param(req, "propagationPolicy");
    const char *gp = ks_req_param(req, "gracePeriodSeconds");
    *grace = gp ? strtoll(gp, NULL, 10) : -1;
    pre_uid[0] = pre_rv[0] = 0;
    json_object *b = NULL;
    char e[64];
    int parsed = 0;
    if (req->body && req->body_len) {
        if (strcasestr(req->content_type, "application/vnd.kubernetes.protobuf"))
            parsed = !ks_proto_decode(req->body, req->body_len, &b, e, sizeof e);
        else
            parsed = !ks_body_parse(req->body, req->body_len, &b, e, sizeof e);
    }
    if (parsed) {
        const char *p = ks_json_str(b, "propagationPolicy");
        if (p) {
            snprintf(propbuf, 32, "%s", p);
            *prop = propbuf;
        }
        json_object *o = ks_json_get(b, "orphanDependents");
        if (o && json_object_get_boolean(o) && !*prop) {
            snprintf(propbuf, 32, "Orphan");
            *prop = propbuf;
        }
        json_object *g = ks_json_get(b, "gracePeriodSeconds");
        if (g)
            *grace = json_object_get_int64(g);
        const char *u = ks_json_str(b, "preconditions.uid"), *v = ks_json_str(b, "preconditions.resourceVersion");
        if (u)
            snprintf(pre_uid, 64, "%s", u);
        if (v)
            snprintf(pre_rv, 64, "%s", v);
    }
    *keep_body = b;
}

static int handle_delete(ks_sim *s, ks_conn *c, ks_req *req, route *r, int keep)
{
    ks_err err;
    const char *prop;
    int64_t grace;
    char pu[64], pr[64], pb[32];
    json_object *body = NULL;
    delete_opts(req, &prop, &grace, pu, pr, pb, &body);
    pthread_mutex_lock(&s->st.mu);
    json_object *out = NULL;
    int rc = ks_ops_delete_locked(s, r->rt, r->ns, r->name, prop, grace, pu, pr, &out, &err);
    json_object_put(body);
    if (rc)
        return reply_err_unlock(s, c, &err, keep);
    int still = ks_store_get_locked(r->rt, r->ns, r->name) != NULL;
    if (!still && strcmp(r->rt->kind, "Pod") && strcmp(r->rt->kind, "Service") && r->rt->builtin) {
        json_object *st = ks_status_success(r->name, r->rt->group, r->rt->plural, ks_json_str(out, "metadata.uid"));
        json_object_put(out);
        pthread_mutex_unlock(&s->st.mu);
        return reply_json(c, 200, st, keep);
    }
    rc = reply_obj_locked_then(s, c, 200, out, keep);
    pthread_mutex_lock(&s->st.mu);
    json_object_put(out);
    pthread_mutex_unlock(&s->st.mu);
    return rc;
}

static int handle_deletecollection(ks_sim *s, ks_conn *c, ks_req *req, route *r, int keep)
{
    ks_err err;
    ks_sel ls, fs;
    if (parse_selectors(r->rt, req, &ls, &fs, &err))
        return ks_api_reply_err(c, &err, keep);
    const char *prop;
    int64_t grace;
    char pu[64], pr[64], pb[32];
    json_object *body = NULL;
    delete_opts(req, &prop, &grace, pu, pr, pb, &body);
    pthread_mutex_lock(&s->st.mu);
    ks_rtype *rt = r->rt;
    json_object *items = json_object_new_array();
    /* collect names first: deleting shifts the array */
    size_t n = rt->n;
    char **names = calloc(n + 1, sizeof *names), **nss = calloc(n + 1, sizeof *nss);
    size_t k = 0;
    for (size_t i = 0; names && nss && i < rt->n; i++) {
        json_object *o = rt->objs[i].o;
        const char *ons = ks_json_str(o, "metadata.namespace");
        if (rt->namespaced && r->has_ns && (!ons || strcmp(ons, r->ns)))
            continue;
        if (!ks_api_obj_matches(o, &ls, &fs))
            continue;
        names[k] = strdup(ks_json_str(o, "metadata.name"));
        nss[k] = strdup(ons ? ons : "");
        k++;
    }
    for (size_t i = 0; i < k; i++) {
        json_object *out = NULL;
        if (names[i] && nss[i] && !ks_ops_delete_locked(s, rt, nss[i], names[i], prop, grace, NULL, NULL, &out, &err))
            json_object_array_add(items, ks_json_copy(out));
        json_object_put(out);
        free(names[i]);
        free(nss[i]);
    }
    free(names);
    free(nss);
    json_object *list = json_object_new_object();
    char av[200];
    snprintf(av, sizeof av, "%s%s%s", rt->group, rt->group[0] ? "/" : "", rt->version);
    json_object_object_add(list, "kind", json_object_new_string(rt->list_kind));
    json_object_object_add(list, "apiVersion", json_object_new_string(av));
    json_object *md = json_object_new_object();
    char rvb[32];
    snprintf(rvb, sizeof rvb, "%llu", (unsigned long long)s->st.rv);
    json_object_object_add(md, "resourceVersion", json_object_new_string(rvb));
    json_object_object_add(list, "metadata", md);
    json_object_object_add(list, "items", items);
    pthread_mutex_unlock(&s->st.mu);
    ks_sel_release(&ls);
    ks_sel_release(&fs);
    json_object_put(body);
    return reply_json(c, 200, list, keep);
}

/* ---- scale ---- */

static json_object *scale_of_locked(ks_rtype *rt, json_object *o)
{
    json_object *sc = json_object_new_object();
    json_object_object_add(sc, "kind", json_object_new_string("Scale"));
    json_object_object_add(sc, "apiVersion", json_object_new_string("autoscaling/v1"));
    json_object *md = json_object_new_object();
    const char *keys[] = {"name", "namespace", "uid", "resourceVersion", "creationTimestamp"};
    for (int i = 0; i < 5; i++) {
        json_object *v = ks_json_get(ks_json_get(o, "metadata"), keys[i]);
        if (v)
            json_object_object_add(md, keys[i], ks_json_copy(v));
    }
    json_object_object_add(sc, "metadata", md);
    const char *sp = rt->builtin ? "spec.replicas" : rt->scale_spec;
    const char *stp = rt->builtin ? "status.replicas" : rt->scale_status;
    json_object *spec = json_object_new_object();
    json_object_object_add(spec, "replicas", json_object_new_int64(ks_json_int(o, sp, rt->builtin ? 1 : 0)));
    json_object_object_add(sc, "spec", spec);
    json_object *st = json_object_new_object();
    json_object_object_add(st, "replicas", json_object_new_int64(ks_json_int(o, stp, 0)));
    char selbuf[1024] = "";
    if (rt->builtin) {
        ks_sel sel;
        if (!ks_sel_from_json(&sel, ks_json_get(o, "spec.selector"), NULL, 0)) {
            ks_sel_format(&sel, selbuf, sizeof selbuf);
            ks_sel_release(&sel);
        }
    } else if (rt->scale_selector[0]) {
        const char *v = ks_json_str(o, rt->scale_selector);
        snprintf(selbuf, sizeof selbuf, "%s", v ? v : "");
    }
    if (selbuf[0])
        json_object_object_add(st, "selector", json_object_new_string(selbuf));
    json_object_object_add(sc, "status", st);
    return sc;
}

/* Write a Scale back: new spec.replicas into the object, RV checked. */
static int scale_write_locked(ks_sim *s, route *r, json_object *scale, const char *mgr, json_object **out, ks_err *err)
{
    json_object *cur = ks_store_get_locked(r->rt, r->ns, r->name);
    if (!cur) {
        ks_err_set(err, 404, "NotFound", "%s%s%s \"%s\" not found", r->rt->plural, r->rt->group[0] ? "." : "",
                   r->rt->group, r->name);
        ks_err_target(err, r->rt, r->name);
        return -ENOENT;
    }
    json_object *rep = ks_json_get(scale, "spec.replicas");
    if (!rep || !json_object_is_type(rep, json_type_int) || json_object_get_int64(rep) < 0) {
        ks_err_set(err, 422, "Invalid", "Scale.autoscaling \"%s\" is invalid: spec.replicas: Invalid value: must be greater than or equal to 0", r->name);
        ks_err_cause(err, "FieldValueInvalid", "spec.replicas", "must be greater than or equal to 0");
        return -EINVAL;
    }
    json_object *nw = ks_json_copy(cur);
    const char *rv = ks_json_str(scale, "metadata.resourceVersion");
    if (rv)
        ks_json_set_str(nw, "metadata.resourceVersion", rv);
    ks_json_set_int(nw, r->rt->builtin ? "spec.replicas" : r->rt->scale_spec, json_object_get_int64(rep));
    return ks_ops_update_locked(s, r->rt, r->ns, r->name, nw, 0, mgr, NULL, 0, out, err);
}

/* ---- patch ---- */

static int patch_type(const char *ct)
{
    if (!strncasecmp(ct, "application/json-patch+json", 27))
        return 1;
    if (!strncasecmp(ct, "application/merge-patch+json", 28))
        return 2;
    if (!strncasecmp(ct, "application/strategic-merge-patch+json", 38))
        return 3;
    if (!strncasecmp(ct, "application/apply-patch+yaml", 28) || !strncasecmp(ct, "application/apply-patch+json", 28))
        return 4;
    return 0;
}

static int handle_patch(ks_sim *s, ks_conn *c, ks_req *req, route *r, int keep)
{
    ks_err err;
    int pt = patch_type(req->content_type);
    if (!pt || (pt == 3 && !r->rt->builtin)) {
        ks_err_set(&err, 415, "UnsupportedMediaType",
                   "the body of the request was in an unknown format - accepted media types include: "
                   "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml%s",
                   r->rt->builtin ? ", application/strategic-merge-patch+json" : "");
        return ks_api_reply_err(c, &err, keep);
    }
    json_object *patch = NULL;
    if (parse_body(req, &patch, &err))
        return ks_api_reply_err(c, &err, keep);
    char mb[256];
    const char *mgr = manager_of(req, mb, sizeof mb);
    const char *fm = ks_req_param(req, "fieldManager");
    const char *force_s = ks_req_param(req, "force");
    int force = force_s && !strcmp(force_s, "true");
    if (pt == 4 && (!fm || !*fm)) {
        json_object_put(patch);
        ks_err_set(&err, 422, "Invalid", "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch");
        ks_err_cause(&err, "FieldValueRequired", "fieldManager", "Required value: is required for apply patch");
        return ks_api_reply_err(c, &err, keep);
    }
    if (pt != 4 && force_s) {
        json_object_put(patch);
        ks_err_set(&err, 422, "Invalid", "PatchOptions.meta.k8s.io \"\" is invalid: force: Forbidden: may not be specified for non-apply patch");
        ks_err_cause(&err, "FieldValueForbidden", "force", "may not be specified for non-apply patch");
        return ks_api_reply_err(c, &err, keep);
    }
    char msg[512] = "";
    pthread_mutex_lock(&s->st.mu);
    json_object *cur = ks_store_get_locked(r->rt, r->ns, r->name);
    json_object *out = NULL;
    if (!cur && pt == 4 && !r->sub[0]) {
        /* apply creates */
        json_object *set = ks_fields_of(patch, 0);
        json_object *obj = ks_json_copy(patch);
        if (obj && !ks_json_str(obj, "metadata.name"))
            ks_json_set_str(obj, "metadata.name", r->name);
        int rc = ks_ops_create_apply_locked(s, r->rt, r->rt->namespaced ? r->ns : NULL, obj, mgr, set, &out, &err);
        json_object_put(set);
        json_object_put(patch);
        if (rc)
            return reply_err_unlock(s, c, &err, keep);
        return reply_obj_locked_then(s, c, 201, out, keep);
    }
    if (!cur) {
        json_object_put(patch);
        ks_err_set(&err, 404, "NotFound", "%s%s%s \"%s\" not found", r->rt->plural, r->rt->group[0] ? "." : "",
                   r->rt->group, r->name);
        ks_err_target(&err, r->rt, r->name);
        return reply_err_unlock(s, c, &err, keep);
    }
    int is_scale = !strcmp(r->sub, "scale");
    json_object *base = is_scale ? scale_of_locked(r->rt, cur) : ks_json_copy(cur);
    json_object *res = NULL;
    int rc;
    switch (pt) {
    case 1: rc = ks_patch_json(base, patch, &res, msg, sizeof msg); break;
    case 2: rc = ks_patch_merge(base, patch, &res, msg, sizeof msg); break;
    case 3: rc = ks_patch_strategic(base, patch, &res, msg, sizeof msg); break;
    default: rc = ks_patch_apply_merge(base, patch, &res, msg, sizeof msg); break;
    }
    json_object_put(base);
    if (rc) {
        json_object_put(patch);
        if (rc == -EINVAL)
            ks_err_set(&err, 400, "BadRequest", "%s", msg);
        else
            ks_err_set(&err, 422, "Invalid", "%s", msg);
        return reply_err_unlock(s, c, &err, keep);
    }
    /* a patch that does not carry a resourceVersion never conflicts */
    if (pt != 1) {
        json_object *prv = ks_json_get(patch, "metadata.resourceVersion");
        if (!prv)
            ks_json_set_str(res, "metadata.resourceVersion", ks_json_str(cur, "metadata.resourceVersion"));
    }
    if (is_scale) {
        rc = scale_write_locked(s, r, res, mgr, &out, &err);
        json_object_put(res);
        json_object_put(patch);
        if (rc)
            return reply_err_unlock(s, c, &err, keep);
        json_object *sc = scale_of_locked(r->rt, out);
        pthread_mutex_unlock(&s->st.mu);
        return reply_json(c, 200, sc, keep);
    }
    json_object *set = pt == 4 ? ks_fields_of(patch, !strcmp(r->sub, "status")) : NULL;
    json_object_put(patch);
    rc = ks_ops_update_locked(s, r->rt, r->ns, r->name, res, !strcmp(r->sub, "status") ? KS_SUB_STATUS : 0, mgr,
                              set, force, &out, &err);
    json_object_put(set);
    if (rc)
        return reply_err_unlock(s, c, &err, keep);
    if (!out) {
        json_object *st = ks_status_success(r->name, r->rt->group, r->rt->plural, NULL);
        pthread_mutex_unlock(&s->st.mu);
        return reply_json(c, 200, st, keep);
    }
    return reply_obj_locked_then(s, c, 200, out, keep);
}

/* ---- eviction ---- */

static int handle_eviction(ks_sim *s, ks_conn *c, ks_req *req, route *r, int keep)
{
    ks_err err;
    json_object *body = NULL;
    if (parse_body(req, &body, &err))
        return ks_api_reply_err(c, &err, keep);
    const char *bname = ks_json_str(body, "metadata.name");
    if (bname && strcmp(bname, r->name)) {
        json_object_put(body);
        ks_err_set(&err, 400, "BadRequest", "name in URL does not match name in Eviction object");
        return ks_api_reply_err(c, &err, keep);
    }
    json_object *g = ks_json_get(body, "deleteOptions.gracePeriodSeconds");
    int64_t grace = g ? json_object_get_int64(g) : -1;
    json_object_put(body);
    pthread_mutex_lock(&s->st.mu);
    json_object *pod = ks_store_get_locked(r->rt, r->ns, r->name);
    if (!pod) {
        ks_err_set(&err, 404, "NotFound", "pods \"%s\" not found", r->name);
        ks_err_target(&err, r->rt, r->name);
        return reply_err_unlock(s, c, &err, keep);
    }
    const char *phase = ks_json_str(pod, "status.phase");
    int ignore_pdb = ks_json_get(pod, "metadata.deletionTimestamp") ||
                     (phase && (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed") || !strcmp(phase, "Pending")));
    ks_rtype *pdbt = ks_store_type_locked(&s->st, "policy", "v1", "poddisruptionbudgets");
    json_object *match = NULL;
    int nmatch = 0;
    char pfx[300];
    snprintf(pfx, sizeof pfx, "%s/", r->ns);
    for (size_t i = ks_store_lower_bound(pdbt, pfx); !ignore_pdb && i < pdbt->n; i++) {
        if (strncmp(pdbt->objs[i].key, pfx, strlen(pfx)))
            break;
        ks_sel sel;
        if (ks_sel_from_json(&sel, ks_json_get(pdbt->objs[i].o, "spec.selector"), NULL, 0))
            continue;
        json_object *sj = ks_json_get(pdbt->objs[i].o, "spec.selector");
        int empty = sj && !ks_json_get(sj, "matchLabels") && !ks_json_get(sj, "matchExpressions");
        if (!empty && ks_sel_match_labels(&sel, ks_json_get(pod, "metadata.labels"))) {
            match = pdbt->objs[i].o;
            nmatch++;
        }
        ks_sel_release(&sel);
    }
    if (nmatch > 1) {
        ks_err_set(&err, 500, "InternalError",
                   "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.");
        return reply_err_unlock(s, c, &err, keep);
    }
    if (match) {
        json_object *st = ks_ctrl_pdb_status_locked(s, match);
        int64_t allowed = ks_json_int(st, "disruptionsAllowed", 0);
        int64_t healthy = ks_json_int(st, "currentHealthy", 0), desired = ks_json_int(st, "desiredHealthy", 0);
        const char *policy = ks_json_str(match, "spec.unhealthyPodEvictionPolicy");
        int ready = ks_pod_is_ready(pod);
        int ok;
        if (!ready)
            ok = (policy && !strcmp(policy, "AlwaysAllow")) || healthy >= desired;
        else
            ok = allowed > 0;
        if (!ok) {
            char cm[512];
            snprintf(cm, sizeof cm, "The disruption budget %s needs %lld healthy pods and has %lld currently",
                     ks_json_str(match, "metadata.name"), (long long)desired, (long long)healthy);
            json_object_put(st);
            ks_err_set(&err, 429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget.");
            ks_err_cause(&err, "DisruptionBudget", "", cm);
            return reply_err_unlock(s, c, &err, keep);
        }
        if (ready) {
            /* record the disruption so parallel evictions see the budget shrink */
            json_object *nw = ks_json_copy(match);
            ks_json_set(st, "disruptionsAllowed", json_object_new_int64(allowed - 1));
            char now[32];
            ks_time_rfc3339(now, time(NULL));
            json_object *dp = ks_json_mkpath(st, "disruptedPods");
            json_object_object_add(dp, r->name, json_object_new_string(now));
            ks_json_set(nw, "status", st);
            json_object *o2 = NULL;
            ks_err e2;
            ks_ops_update_locked(s, pdbt, r->ns, ks_json_str(match, "metadata.name"), nw, KS_SUB_STATUS,
                                 "kube-controller-manager", NULL, 0, &o2, &e2);
        } else {
            json_object_put(st);
        }
    }
    json_object *out = NULL;
    if (ks_ops_delete_locked(s, r->rt, r->ns, r->name, NULL, grace, NULL, NULL, &out, &err))
        return reply_err_unlock(s, c, &err, keep);
    json_object_put(out);
    pthread_mutex_unlock(&s->st.mu);
    json_object *ok = ks_status_success(NULL, NULL, NULL, NULL);
    json_object_object_del(ok, "details");
    json_object_object_add(ok, "code", json_object_new_int(201));
    return reply_json(c, 201, ok, keep);
}

static int handle_binding(ks_sim *s, ks_conn *c, ks_req *req, route *r, int keep)
{
    ks_err err;
    json_object *body = NULL;
    if (parse_body(req, &body, &err))
        return ks_api_reply_err(c, &err, keep);
    const char *node = ks_json_str(body, "target.name");
    pthread_mutex_lock(&s->st.mu);
    json_object *pod = ks_store_get_locked(r->rt, r->ns, r->name);
    if (!pod || !node) {
        json_object_put(body);
        ks_err_set(&err, pod ? 400 : 404, pod ? "BadRequest" : "NotFound", pod ? "binding needs target.name" : "pods \"%s\" not found", r->name);
        return reply_err_unlock(s, c, &err, keep);
    }
    if (ks_json_str(pod, "spec.nodeName")) {
        json_object_put(body);
        ks_err_set(&err, 409, "Conflict", "Operation cannot be fulfilled on pods/binding \"%s\": pod %s is already assigned to node \"%s\"",
                   r->name, r->name, ks_json_str(pod, "spec.nodeName"));
        return reply_err_unlock(s, c, &err, keep);
    }
    json_object *nw = ks_json_copy(pod);
    ks_json_set_str(nw, "spec.nodeName", node);
    json_object *out;
    int rc = ks_ops_update_locked(s, r->rt, r->ns, r->name, nw, 0, "kube-scheduler", NULL, 0, &out, &err);
    json_object_put(body);
    if (rc)
        return reply_err_unlock(s, c, &err, keep);
    pthread_mutex_unlock(&s->st.mu);
    json_object *ok = ks_status_success(NULL, NULL, NULL, NULL);
    json_object_object_del(ok, "details");
    json_object_object_add(ok, "code", json_object_new_int(201));
    return reply_json(c, 201, ok, keep);
}

/* ---- control endpoints ---- */

static int handle_sim(ks_sim *s, ks_conn *c, ks_req *req, int keep)
{
    const char *p = req->path + 6; /* after /_sim/ */
    ks_err err;
    char msg[512];
    json_object *body = NULL;
    if (!strcmp(p, "rotate-token") && !strcmp(req->method, "POST")) {
        int rc = ks_sim_rotate_token(s);
        json_object *o = json_object_new_object();
        pthread_mutex_lock(&s->auth_mu);
        json_object_object_add(o, "token", json_object_new_string(s->token));
        pthread_mutex_unlock(&s->auth_mu);
        json_object_object_add(o, "graceSeconds", json_object_new_int(s->token_grace_s));
        json_object_object_add(o, "tokenFileWritten", json_object_new_boolean(rc == 0 && s->token_file[0]));
        return reply_json(c, 200, o, keep);
    }
    if (!strcmp(p, "faults")) {
        if (!strcmp(req->method, "GET"))
            return reply_json(c, 200, ks_faults_list(&s->faults), keep);
        if (!strcmp(req->method, "DELETE")) {
            ks_faults_clear(&s->faults);
            return reply_json(c, 200, ks_faults_list(&s->faults), keep);
        }
        if (!strcmp(req->method, "POST")) {
            if (parse_body(req, &body, &err))
                return ks_api_reply_err(c, &err, keep);
            int rc = 0;
            if (json_object_is_type(body, json_type_array)) {
                for (size_t i = 0; !rc && i < json_object_array_length(body); i++)
                    rc = ks_faults_add_json(&s->faults, json_object_array_get_idx(body, i), msg, sizeof msg);
            } else {
                rc = ks_faults_add_json(&s->faults, body, msg, sizeof msg);
            }
            json_object_put(body);
            if (rc) {
                ks_err_set(&err, 400, "BadRequest", "%s", msg);
                return ks_api_reply_err(c, &err, keep);
            }
            return reply_json(c, 201, ks_faults_list(&s->faults), keep);
        }
    }
    if ((!strcmp(p, "compact") || !strcmp(p, "restart")) && !strcmp(req->method, "POST")) {
        pthread_mutex_lock(&s->st.mu);
        ks_store_compact_locked(&s->st, !strcmp(p, "restart"));
        uint64_t rv = s->st.rv;
        pthread_mutex_unlock(&s->st.mu);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "compactedResourceVersion", json_object_new_int64((int64_t)rv));
        return reply_json(c, 200, o, keep);
    }
    if (!strcmp(p, "action") && !strcmp(req->method, "POST")) {
        if (parse_body(req, &body, &err))
            return ks_api_reply_err(c, &err, keep);
        int rc = ks_scenario_action(s, body, msg, sizeof msg);
        json_object_put(body);
        if (rc) {
            ks_err_set(&err, rc == -ENOENT ? 404 : 400, rc == -ENOENT ? "NotFound" : "BadRequest", "%s", msg);
            return ks_api_reply_err(c, &err, keep);
        }
        return reply_json(c, 200, ks_status_success(NULL, NULL, NULL, NULL), keep);
    }
    if (!strcmp(p, "stats") && !strcmp(req->method, "GET")) {
        json_object *o = json_object_new_object();
        pthread_mutex_lock(&s->st.mu);
        json_object_object_add(o, "resourceVersion", json_object_new_int64((int64_t)s->st.rv));
        json_object_object_add(o, "historyEvents", json_object_new_int64((int64_t)s->st.len));
        json_object_object_add(o, "compacted", json_object_new_int64((int64_t)s->st.compacted));
        json_object_object_add(o, "epoch", json_object_new_int64((int64_t)s->st.epoch));
        json_object *counts = json_object_new_object();
        for (int i = 0; i < s->st.ntypes; i++)
            if (!s->st.types[i]->gone && s->st.types[i]->n) {
                char k[300];
                snprintf(k, sizeof k, "%s%s%s", s->st.types[i]->plural, s->st.types[i]->group[0] ? "." : "",
                         s->st.types[i]->group);
                json_object_object_add(counts, k, json_object_new_int64((int64_t)s->st.types[i]->n));
            }
        json_object_object_add(o, "objects", counts);
        pthread_mutex_unlock(&s->st.mu);
        pthread_mutex_lock(&s->faults.mu);
        json_object_object_add(o, "faultsFired", json_object_new_int64((int64_t)s->faults.fired_total));
        pthread_mutex_unlock(&s->faults.mu);
        return reply_json(c, 200, o, keep);
    }
    ks_err_set(&err, 404, "NotFound", "the server could not find the requested resource");
    return ks_api_reply_err(c, &err, keep);
}

/* ---- authentication ---- */

static int b64url_decode(const char *in, char *out, size_t cap)
{
    size_t n = strlen(in);
    if (n > 3000 || cap < n)
        return -EINVAL;
    char b[3100];
    memcpy(b, in, n);
    for (size_t i = 0; i < n; i++) {
        if (b[i] == '-')
            b[i] = '+';
        else if (b[i] == '_')
            b[i] = '/';
        else if (b[i] == '=' || b[i] == '+' || b[i] == '/')
            return -EINVAL;
    }
    size_t pad = (4 - n % 4) % 4;
    if (pad == 3)
        return -EINVAL;
    for (size_t i = 0; i < pad; i++)
        b[n++] = '=';
    b[n] = 0;
    int d = EVP_DecodeBlock((unsigned char *)out, (unsigned char *)b, (int)n);
    if (d < 0)
        return -EINVAL;
    d -= (int)pad;
    out[d] = 0;
    return 0;
}

#define WS_TOKEN_PREFIX "base64url.bearer.authorization.k8s.io."

/* Split the WebSocket protocols: extract the bearer token, keep the rest. */
static void ws_protocols(const char *hdr, char *token, size_t tcap, char *rest, size_t rcap, int *nrest, int *has_tok)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", hdr);
    token[0] = rest[0] = 0;
    *nrest = 0;
    *has_tok = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ')
            t++;
        size_t l = strlen(t);
        while (l && t[l - 1] == ' ')
            t[--l] = 0;
        if (!l)
            continue;
        if (!strncmp(t, WS_TOKEN_PREFIX, strlen(WS_TOKEN_PREFIX))) {
            *has_tok = 1;
            if (b64url_decode(t + strlen(WS_TOKEN_PREFIX), token, tcap))
                token[0] = 0;
            continue;
        }
        if (*nrest == 0)
            snprintf(rest, rcap, "%s", t);
        (*nrest)++;
    }
}

static int authenticate(ks_sim *s, ks_conn *c, ks_req *req, int is_ws)
{
    if (c->peer_cn[0])
        return 1;
    if (!strncasecmp(req->authorization, "Bearer ", 7) && ks_sim_token_ok(s, req->authorization + 7))
        return 1;
    if (is_ws && req->ws_protocol[0]) {
        char tok[3100], rest[256];
        int nrest, has;
        ws_protocols(req->ws_protocol, tok, sizeof tok, rest, sizeof rest, &nrest, &has);
        if (has && nrest > 0 && ks_sim_token_ok(s, tok))
            return 1;
    }
    return 0;
}

/* ---- routing ---- */

static int split_path(char *p, char **segs, int max)
{
    int n = 0;
    char *save = NULL;
    for (char *t = strtok_r(p, "/", &save); t && n < max; t = strtok_r(NULL, "/", &save))
        segs[n++] = t;
    return n;
}

static int serve_health(ks_conn *c, ks_req *req, int keep)
{
    const char *v = ks_req_param(req, "verbose");
    if (v) {
        char b[512];
        int n = snprintf(b, sizeof b, "[+]ping ok\n[+]log ok\n[+]etcd ok\n[+]poststarthook/start-informers ok\n%s check passed\n",
                         req->path + 1);
        return ks_http_respond(c, 200, "text/plain; charset=utf-8", NULL, b, (size_t)n, keep) ? -EIO : 0;
    }
    return ks_http_respond(c, 200, "text/plain; charset=utf-8", NULL, "ok", 2, keep) ? -EIO : 0;
}

int ks_api_serve(ks_sim *s, ks_conn *c, ks_req *req)
{
    int keep = req->keep_alive;
    ks_err err;
    const char *path = req->path;
    pthread_mutex_lock(&s->auth_mu);
    s->requests++;
    pthread_mutex_unlock(&s->auth_mu);
    if (!strcmp(path, "/healthz") || !strcmp(path, "/livez") || !strcmp(path, "/readyz"))
        return serve_health(c, req, keep);
    if (!strcmp(path, "/version")) {
        const char *v = "{\"major\":\"1\",\"minor\":\"32\",\"gitVersion\":\"v1.32.0-kubesim\",\"gitCommit\":\"kubesim\","
                        "\"gitTreeState\":\"clean\",\"buildDate\":\"2025-01-01T00:00:00Z\",\"goVersion\":\"none (C)\","
                        "\"compiler\":\"gc\",\"platform\":\"linux/amd64\"}";
        return ks_api_reply(c, 200, v, strlen(v), NULL, keep);
    }
    int is_ws = req->upgrade[0] && !strcasecmp(req->upgrade, "websocket");
    if (!authenticate(s, c, req, is_ws)) {
        ks_err_set(&err, 401, "Unauthorized", "Unauthorized");
        return ks_api_reply_err(c, &err, keep);
    }
    if (!strncmp(path, "/_sim/", 6))
        return handle_sim(s, c, req, keep);
    if (!strcmp(path, "/api") || !strcmp(path, "/api/")) {
        char b[512];
        int n = snprintf(b, sizeof b,
                         "{\"kind\":\"APIVersions\",\"versions\":[\"v1\"],\"serverAddressByClientCIDRs\":"
                         "[{\"clientCIDR\":\"0.0.0.0/0\",\"serverAddress\":\"%s:%d\"}]}",
                         s->host, s->port);
        return ks_api_reply(c, 200, b, (size_t)n, NULL, keep);
    }
    if (!strcmp(path, "/apis") || !strcmp(path, "/apis/")) {
        pthread_mutex_lock(&s->st.mu);
        json_object *l = group_list_locked(s);
        pthread_mutex_unlock(&s->st.mu);
        return reply_json(c, 200, l, keep);
    }
    if (!strcmp(path, "/openapi/v2")) {
        /* kubectl 1.32 uses v3; v2 answers with a minimal valid document,
         * except to clients that can only take protobuf */
        if (strstr(req->accept, "protobuf") && !strstr(req->accept, "json")) {
            ks_err_set(&err, 406, "NotAcceptable", "only application/json is served");
            return ks_api_reply_err(c, &err, keep);
        }
        const char *v2 = "{\"swagger\":\"2.0\",\"info\":{\"title\":\"Kubernetes\",\"version\":\"v1.32.0\"},\"paths\":{},\"definitions\":{}}";
        return ks_api_reply(c, 200, v2, strlen(v2), NULL, keep);
    }
    if (!strcmp(path, "/openapi/v3") || !strcmp(path, "/openapi/v3/")) {
        pthread_mutex_lock(&s->st.mu);
        json_object *d = openapi_v3_root_locked(s);
        pthread_mutex_unlock(&s->st.mu);
        return reply_json(c, 200, d, keep);
    }
    char pbuf[4096];
    snprintf(pbuf, sizeof pbuf, "%s", path);
    char *segs[16];
    int ns_ = split_path(pbuf, segs, 16);
    if (ns_ >= 4 && !strcmp(segs[0], "openapi") && !strcmp(segs[1], "v3")) {
        const char *g = "", *v = NULL;
        if (ns_ == 4 && !strcmp(segs[2], "api"))
            v = segs[3];
        else if (ns_ == 5 && !strcmp(segs[2], "apis")) {
            g = segs[3];
            v = segs[4];
        }
        json_object *d = NULL;
        if (v) {
            pthread_mutex_lock(&s->st.mu);
            d = openapi_v3_gv_locked(s, g, v);
            pthread_mutex_unlock(&s->st.mu);
        }
        if (d)
            return reply_json(c, 200, d, keep);
        ks_err_set(&err, 404, "NotFound", "the server could not find the requested resource");
        return ks_api_reply_err(c, &err, keep);
    }
    /* /api/v1/... or /apis/G/V/... */
    const char *group = "", *version = NULL;
    int rest = 0;
    if (ns_ >= 2 && !strcmp(segs[0], "api")) {
        version = segs[1];
        rest = 2;
    } else if (ns_ >= 3 && !strcmp(segs[0], "apis")) {
        group = segs[1];
        version = segs[2];
        rest = 3;
    } else if (ns_ == 2 && !strcmp(segs[0], "apis")) {
        pthread_mutex_lock(&s->st.mu);
        json_object *g = NULL;
        for (int i = 0; i < s->st.ntypes && !g; i++)
            if (!s->st.types[i]->gone && !strcmp(s->st.types[i]->group, segs[1]))
                g = group_entry_locked(s, segs[1]);
        pthread_mutex_unlock(&s->st.mu);
        if (g) {
            json_object_object_add(g, "kind", json_object_new_string("APIGroup"));
            json_object_object_add(g, "apiVersion", json_object_new_string("v1"));
            return reply_json(c, 200, g, keep);
        }
    }
    if (!version) {
        ks_err_set(&err, 404, "NotFound", "the server could not find the requested resource");
        return ks_api_reply_err(c, &err, keep);
    }
    if (ns_ == rest) {
        if (strcmp(req->method, "GET")) {
            ks_err_set(&err, 405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
            return ks_api_reply_err(c, &err, keep);
        }
        pthread_mutex_lock(&s->st.mu);
        json_object *l = resource_list_locked(s, group, version);
        pthread_mutex_unlock(&s->st.mu);
        if (!l) {
            ks_err_set(&err, 404, "NotFound", "the server could not find the requested resource");
            return ks_api_reply_err(c, &err, keep);
        }
        return reply_json(c, 200, l, keep);
    }
    route r;
    memset(&r, 0, sizeof r);
    char **sg = segs + rest;
    int n = ns_ - rest;
    pthread_mutex_lock(&s->st.mu);
    ks_rtype *nsres = NULL;
    if (n >= 3 && !strcmp(sg[0], "namespaces")) {
        nsres = ks_store_type_locked(&s->st, group, version, sg[2]);
        if (nsres && !nsres->namespaced)
            nsres = NULL;
    }
    if (nsres) {
        r.rt = nsres;
        r.has_ns = 1;
        snprintf(r.ns, sizeof r.ns, "%s", sg[1]);
        if (n >= 4)
            snprintf(r.name, sizeof r.name, "%s", sg[3]);
        if (n >= 5)
            snprintf(r.sub, sizeof r.sub, "%s", sg[4]);
        if (n > 5)
            r.rt = NULL;
    } else {
        r.rt = ks_store_type_locked(&s->st, group, version, sg[0]);
        if (n >= 2)
            snprintf(r.name, sizeof r.name, "%s", sg[1]);
        if (n >= 3)
            snprintf(r.sub, sizeof r.sub, "%s", sg[2]);
        if (n > 3)
            r.rt = NULL;
    }
    pthread_mutex_unlock(&s->st.mu);
    if (!r.rt) {
        ks_err_set(&err, 404, "NotFound", "the server could not find the requested resource");
        return ks_api_reply_err(c, &err, keep);
    }
    const char *verb = verb_of(req, &r);
    /* request-level faults */
    ks_fault f;
    if (ks_faults_take_user(&s->faults, r.rt->plural, verb, c->peer_cn[0] ? c->peer_cn : "kubesim-token",
                            1u << KS_F_STATUS, &f)) {
        switch (f.code) {
        case 429:
            ks_err_set(&err, 429, "TooManyRequests", "Too many requests, please try again later.");
            break;
        case 503:
            ks_err_set(&err, 503, "ServiceUnavailable", "The server is currently unable to handle the request");
            break;
        case 504:
            ks_api_err_too_large(&err, 0, 0);
            ks_err_set(&err, 504, "Timeout", "Too large resource version: simulated, current: simulated");
            ks_err_cause(&err, "ResourceVersionTooLarge", "", "Too large resource version");
            break;
        case 410:
            ks_err_set(&err, 410, "Expired", "too old resource version: 1 (2)");
            break;
        case 409:
            ks_err_set(&err, 409, "Conflict", "Operation cannot be fulfilled on %s \"%s\": the object has been modified; please apply your changes to the latest version and try again",
                       r.rt->plural, r.name);
            ks_err_target(&err, r.rt, r.name);
            break;
        default:
            ks_err_set(&err, 500, "InternalError", "Internal error occurred: injected fault");
            break;
        }
        err.retry_after = f.retry_after;
        return ks_api_reply_err(c, &err, keep);
    }
    if (r.sub[0]) {
        unsigned need = !strcmp(r.sub, "status") ? KS_SUB_STATUS : !strcmp(r.sub, "scale") ? KS_SUB_SCALE
                      : !strcmp(r.sub, "eviction") ? KS_SUB_EVICTION : !strcmp(r.sub, "log") ? KS_SUB_LOG
                      : !strcmp(r.sub, "binding") ? KS_SUB_BINDING : 0;
        if (!(r.rt->subres & need) && !(r.rt->builtin && !strcmp(r.rt->kind, "Namespace") && !strcmp(r.sub, "finalize"))) {
            ks_err_set(&err, 404, "NotFound", "the server could not find the requested resource");
            return ks_api_reply_err(c, &err, keep);
        }
        if (!strcmp(r.sub, "eviction")) {
            if (strcmp(req->method, "POST"))
                goto notallowed;
            return handle_eviction(s, c, req, &r, keep);
        }
        if (!strcmp(r.sub, "binding")) {
            if (strcmp(req->method, "POST"))
                goto notallowed;
            return handle_binding(s, c, req, &r, keep);
        }
        if (!strcmp(r.sub, "log")) {
            pthread_mutex_lock(&s->st.mu);
            int exists = ks_store_get_locked(r.rt, r.ns, r.name) != NULL;
            pthread_mutex_unlock(&s->st.mu);
            if (!exists) {
                ks_err_set(&err, 404, "NotFound", "pods \"%s\" not found", r.name);
                return ks_api_reply_err(c, &err, keep);
            }
            const char *msg = "kubesim: containers are simulated and write no logs\n";
            return ks_http_respond(c, 200, "text/plain", NULL, msg, strlen(msg), keep) ? -EIO : 0;
        }
        if (!strcmp(r.sub, "scale")) {
            pthread_mutex_lock(&s->st.mu);
            json_object *o = ks_store_get_locked(r.rt, r.ns, r.name);
            if (!o) {
                ks_err_set(&err, 404, "NotFound", "%s%s%s \"%s\" not found", r.rt->plural, r.rt->group[0] ? "." : "",
                           r.rt->group, r.name);
                ks_err_target(&err, r.rt, r.name);
                return reply_err_unlock(s, c, &err, keep);
            }
            if (!strcmp(req->method, "GET")) {
                json_object *sc = scale_of_locked(r.rt, o);
                pthread_mutex_unlock(&s->st.mu);
                return reply_json(c, 200, sc, keep);
            }
            pthread_mutex_unlock(&s->st.mu);
            if (!strcmp(req->method, "PUT")) {
                json_object *body = NULL;
                if (parse_body(req, &body, &err))
                    return ks_api_reply_err(c, &err, keep);
                char mb[256];
                const char *mgr = manager_of(req, mb, sizeof mb);
                pthread_mutex_lock(&s->st.mu);
                json_object *out = NULL;
                int rc = scale_write_locked(s, &r, body, mgr, &out, &err);
                json_object_put(body);
                if (rc)
                    return reply_err_unlock(s, c, &err, keep);
                json_object *sc = scale_of_locked(r.rt, out);
                pthread_mutex_unlock(&s->st.mu);
                return reply_json(c, 200, sc, keep);
            }
            if (!strcmp(req->method, "PATCH"))
                return handle_patch(s, c, req, &r, keep);
            goto notallowed;
        }
        /* status / finalize */
        if (!strcmp(req->method, "GET"))
            return handle_get(s, c, req, &r, keep);
        if (!strcmp(req->method, "PUT"))
            return handle_update(s, c, req, &r, !strcmp(r.sub, "status") ? KS_SUB_STATUS : 0, keep);
        if (!strcmp(req->method, "PATCH"))
            return handle_patch(s, c, req, &r, keep);
        goto notallowed;
    }
    if (!strcmp(verb, "get"))
        return handle_get(s, c, req, &r, keep);
    if (!strcmp(verb, "list"))
        return handle_list(s, c, req, &r, keep);
    if (!strcmp(verb, "watch")) {
        if (check_list_opts(req, 1, &err))
            return ks_api_reply_err(c, &err, keep);
        ks_sel ls, fs;
        if (parse_selectors(r.rt, req, &ls, &fs, &err))
            return ks_api_reply_err(c, &err, keep);
        int rc = ks_watch_serve(s, c, req, r.rt, r.has_ns ? r.ns : NULL, &ls, &fs);
        ks_sel_release(&ls);
        ks_sel_release(&fs);
        return rc;
    }
    if (!strcmp(verb, "create")) {
        if (r.name[0])
            goto notallowed;
        return handle_create(s, c, req, &r, keep);
    }
    if (!strcmp(verb, "update")) {
        if (!r.name[0])
            goto notallowed;
        return handle_update(s, c, req, &r, 0, keep);
    }
    if (!strcmp(verb, "patch")) {
        if (!r.name[0])
            goto notallowed;
        return handle_patch(s, c, req, &r, keep);
    }
    if (!strcmp(verb, "delete"))
        return handle_delete(s, c, req, &r, keep);
    if (!strcmp(verb, "deletecollection"))
        return handle_deletecollection(s, c, req, &r, keep);
notallowed:
    ks_err_set(&err, 405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
    return ks_api_reply_err(c, &err, keep);
}

void ks_api_ws_protocols(const char *hdr, char *token, size_t tcap, char *rest, size_t rcap, int *nrest, int *has_tok)
{
    ws_protocols(hdr, token, tcap, rest, rcap, nrest, has_tok);
}
