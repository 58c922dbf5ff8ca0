/*
 * ks_ops.c - create/update/delete semantics on top of ks_store, with
 * the apiserver's observable rules (see docs/kubesim.md for the parts
 * that are simplified).
 */
#include "ks_ops.h"

#include "ks_json.h"
#include "ks_patch.h"
#include "ks_types.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t ks_obj_rv(json_object *obj)
{
    const char *rv = ks_json_str(obj, "metadata.resourceVersion");
    return rv ? strtoull(rv, NULL, 10) : 0;
}

static void api_version_of(const ks_rtype *rt, char *out, size_t cap)
{
    if (rt->group[0])
        snprintf(out, cap, "%s/%s", rt->group, rt->version);
    else
        snprintf(out, cap, "%s", rt->version);
}

/* ---- managed fields (fieldsV1) ---- */

static json_object *fs_of(json_object *o, const char *field)
{
    json_object *fs = json_object_new_object();
    if (!json_object_is_type(o, json_type_object))
        return fs;
    json_object_object_foreach(o, k, v) {
        char fk[600];
        snprintf(fk, sizeof fk, "f:%s", k);
        if (v && json_object_is_type(v, json_type_object) && json_object_object_length(v) > 0) {
            json_object_object_add(fs, fk, fs_of(v, k));
        } else if (v && json_object_is_type(v, json_type_array)) {
            const char *mk = ks_patch_merge_key(field, k);
            json_object *lf = json_object_new_object();
            if (mk && *mk) {
                for (size_t i = 0; i < json_object_array_length(v); i++) {
                    json_object *e = json_object_array_get_idx(v, i);
                    json_object *kv = ks_json_get(e, mk);
                    if (!kv)
                        continue;
                    json_object *kobj = json_object_new_object();
                    json_object_object_add(kobj, mk, json_object_get(kv));
                    char ek[700];
                    snprintf(ek, sizeof ek, "k:%s", ks_json_dump(kobj, NULL));
                    json_object_put(kobj);
                    json_object *efs = fs_of(e, k);
                    json_object_object_add(efs, ".", json_object_new_object());
                    json_object_object_add(lf, ek, efs);
                }
            }
            json_object_object_add(fs, fk, lf);
        } else {
            json_object_object_add(fs, fk, json_object_new_object());
        }
    }
    return fs;
}

json_object *ks_fields_of(json_object *obj, int with_status)
{
    json_object *c = ks_json_copy(obj);
    if (!c)
        return json_object_new_object();
    json_object_object_del(c, "apiVersion");
    json_object_object_del(c, "kind");
    if (!with_status)
        json_object_object_del(c, "status");
    json_object *md = ks_json_get(c, "metadata");
    if (md) {
        const char *drop[] = {"name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
                              "managedFields", "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds",
                              "generateName"};
        for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++)
            json_object_object_del(md, drop[i]);
        if (json_object_object_length(md) == 0)
            json_object_object_del(c, "metadata");
    }
    json_object *fs = fs_of(c, "");
    json_object_put(c);
    return fs;
}

/* Leaf paths changed from old to new, as a fieldsV1 set. */
static json_object *fs_diff(json_object *old, json_object *nw, int top)
{
    json_object *fs = json_object_new_object();
    if (!json_object_is_type(nw, json_type_object))
        return fs;
    json_object_object_foreach(nw, k, v) {
        if (top && (!strcmp(k, "apiVersion") || !strcmp(k, "kind") || !strcmp(k, "status")))
            continue;
        if (top == 2 && (!strcmp(k, "name") || !strcmp(k, "namespace") || !strcmp(k, "uid") ||
                         !strcmp(k, "resourceVersion") || !strcmp(k, "generation") ||
                         !strcmp(k, "creationTimestamp") || !strcmp(k, "managedFields")))
            continue;
        json_object *ov = NULL;
        int had = old && json_object_is_type(old, json_type_object) && json_object_object_get_ex(old, k, &ov);
        if (had && json_object_equal(ov, v))
            continue;
        char fk[600];
        snprintf(fk, sizeof fk, "f:%s", k);
        if (v && json_object_is_type(v, json_type_object) && json_object_object_length(v) > 0) {
            json_object *sub = fs_diff(had ? ov : NULL, v, top && !strcmp(k, "metadata") ? 2 : 0);
            if (json_object_object_length(sub) > 0)
                json_object_object_add(fs, fk, sub);
            else
                json_object_put(sub);
        } else {
            json_object_object_add(fs, fk, json_object_new_object());
        }
    }
    return fs;
}

static void fs_union(json_object *a, json_object *b)
{
    json_object_object_foreach(b, k, v) {
        json_object *av = NULL;
        if (json_object_object_get_ex(a, k, &av) && av)
            fs_union(av, v);
        else
            json_object_object_add(a, k, ks_json_copy(v));
    }
}

/* Remove from a what b covers. */
static void fs_subtract(json_object *a, json_object *b)
{
    json_object_object_foreach(b, k, v) {
        json_object *av = NULL;
        if (!json_object_object_get_ex(a, k, &av) || !av)
            continue;
        if (json_object_object_length(v) == 0 || json_object_object_length(av) == 0) {
            json_object_object_del(a, k);
        } else {
            fs_subtract(av, v);
            if (json_object_object_length(av) == 0)
                json_object_object_del(a, k);
        }
    }
}

/* Find list element by "k:{...}" key. */
static json_object *list_elem(json_object *list, const char *kspec)
{
    if (!list || !json_object_is_type(list, json_type_array))
        return NULL;
    json_object *want = json_tokener_parse(kspec + 2);
    if (!want)
        return NULL;
    json_object *found = NULL;
    for (size_t i = 0; i < json_object_array_length(list) && !found; i++) {
        json_object *e = json_object_array_get_idx(list, i);
        int all = 1;
        json_object_object_foreach(want, wk, wv) {
            if (!json_object_equal(ks_json_get(e, wk), wv))
                all = 0;
        }
        if (all)
            found = e;
    }
    json_object_put(want);
    return found;
}

/* First conflicting path between applied set and another manager's set,
 * where live and applied values differ. */
static int fs_conflict(json_object *aset, json_object *oset, json_object *live, json_object *applied,
                       char *path, size_t cap)
{
    size_t pl = strlen(path);
    json_object_object_foreach(aset, k, av) {
        json_object *ov = NULL;
        if (!json_object_object_get_ex(oset, k, &ov) || !ov || !strcmp(k, "."))
            continue;
        json_object *lc = NULL, *ac = NULL;
        if (!strncmp(k, "f:", 2)) {
            lc = live ? ks_json_get(live, "") : NULL;
            lc = NULL;
            if (live && json_object_is_type(live, json_type_object))
                json_object_object_get_ex(live, k + 2, &lc);
            if (applied && json_object_is_type(applied, json_type_object))
                json_object_object_get_ex(applied, k + 2, &ac);
        } else if (!strncmp(k, "k:", 2)) {
            lc = list_elem(live, k);
            ac = list_elem(applied, k);
        } else {
            continue;
        }
        snprintf(path + pl, cap - pl, "%s%s", pl ? "." : "", k + 2);
        if (json_object_object_length(av) == 0 || json_object_object_length(ov) == 0) {
            if (!json_object_equal(lc, ac))
                return 1;
        } else if (fs_conflict(av, ov, lc, ac, path, cap)) {
            return 1;
        }
        path[pl] = 0;
    }
    return 0;
}

/* Update metadata.managedFields of nw: manager takes `set` (union for
 * Update, replace for Apply) and others lose those fields. */
static void managed_update(json_object *nw, const char *manager, const char *operation, json_object *set,
                           const char *api_version, int subresource_status)
{
    if (!manager || !*manager)
        manager = "unknown";
    json_object *mf = ks_json_get(nw, "metadata.managedFields");
    json_object *out = json_object_new_array();
    json_object *mine = NULL;
    char now[32];
    ks_time_rfc3339(now, time(NULL));
    size_t n = mf && json_object_is_type(mf, json_type_array) ? json_object_array_length(mf) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(mf, i);
        const char *m = ks_json_str(e, "manager"), *op = ks_json_str(e, "operation");
        const char *sr = ks_json_str(e, "subresource");
        int same = m && op && !strcmp(m, manager) && !strcmp(op, operation) &&
                   (subresource_status ? (sr && !strcmp(sr, "status")) : !sr);
        json_object *c = ks_json_copy(e);
        json_object *fv = ks_json_get(c, "fieldsV1");
        if (same) {
            mine = c;
            continue;
        }
        if (fv)
            fs_subtract(fv, set);
        if (fv && json_object_object_length(fv) == 0) {
            json_object_put(c);
            continue;
        }
        json_object_array_add(out, c);
    }
    if (!mine) {
        mine = json_object_new_object();
        json_object_object_add(mine, "manager", json_object_new_string(manager));
        json_object_object_add(mine, "operation", json_object_new_string(operation));
        json_object_object_add(mine, "fieldsV1", json_object_new_object());
    }
    json_object_object_add(mine, "apiVersion", json_object_new_string(api_version));
    json_object_object_add(mine, "time", json_object_new_string(now));
    json_object_object_add(mine, "fieldsType", json_object_new_string("FieldsV1"));
    if (subresource_status)
        json_object_object_add(mine, "subresource", json_object_new_string("status"));
    if (!strcmp(operation, "Apply")) {
        json_object_object_add(mine, "fieldsV1", ks_json_copy(set));
    } else {
        json_object *fv = ks_json_get(mine, "fieldsV1");
        if (!fv) {
            fv = json_object_new_object();
            json_object_object_add(mine, "fieldsV1", fv);
        }
        fs_union(fv, set);
    }
    if (json_object_object_length(ks_json_get(mine, "fieldsV1")) > 0)
        json_object_array_add(out, mine);
    else
        json_object_put(mine);
    ks_json_set(nw, "metadata.managedFields", out);
}

/* ---- helpers ---- */

int ks_ops_ns_check_locked(ks_sim *s, const char *ns, ks_err *err)
{
    ks_rtype *nst = ks_store_type_locked(&s->st, "", "v1", "namespaces");
    json_object *n = nst ? ks_store_get_locked(nst, NULL, ns) : NULL;
    if (!n) {
        ks_err_set(err, 404, "NotFound", "namespaces \"%s\" not found", ns);
        ks_err_target(err, nst, ns);
        return -ENOENT;
    }
    if (ks_json_get(n, "metadata.deletionTimestamp")) {
        ks_err_set(err, 403, "Forbidden",
                   "unable to create new content in namespace %s because it is being terminated", ns);
        ks_err_target(err, nst, ns);
        ks_err_cause(err, "NamespaceTerminating", "metadata.namespace", "namespace is being terminated");
        return -EPERM;
    }
    return 0;
}

/* Everything but metadata and status: what generation tracks. */
static int spec_changed(json_object *a, json_object *b)
{
    int changed = 0;
    json_object_object_foreach(b, k, v) {
        if (!strcmp(k, "metadata") || !strcmp(k, "status") || !strcmp(k, "apiVersion") || !strcmp(k, "kind"))
            continue;
        json_object *av = NULL;
        if (!json_object_object_get_ex(a, k, &av) || !json_object_equal(av, v))
            changed = 1;
    }
    json_object_object_foreach(a, k2, v2) {
        (void)v2;
        if (!strcmp(k2, "metadata") || !strcmp(k2, "status") || !strcmp(k2, "apiVersion") || !strcmp(k2, "kind"))
            continue;
        if (!json_object_object_get_ex(b, k2, NULL))
            changed = 1;
    }
    return changed;
}

static void strip_for_compare(json_object *o)
{
    json_object *md = ks_json_get(o, "metadata");
    if (!md)
        return;
    json_object_object_del(md, "resourceVersion");
    json_object *mf = ks_json_get(md, "managedFields");
    for (size_t i = 0; mf && json_object_is_type(mf, json_type_array) && i < json_object_array_length(mf); i++)
        json_object_object_del(json_object_array_get_idx(mf, i), "time");
}

/* Equal ignoring resourceVersion and managedFields times. */
static int same_object(json_object *a, json_object *b)
{
    json_object *ca = ks_json_copy(a), *cb = ks_json_copy(b);
    int eq = 0;
    if (ca && cb) {
        strip_for_compare(ca);
        strip_for_compare(cb);
        eq = json_object_equal(ca, cb);
    }
    json_object_put(ca);
    json_object_put(cb);
    return eq;
}

static void not_found(ks_err *err, ks_rtype *rt, const char *name)
{
    ks_err_set(err, 404, "NotFound", "%s%s%s \"%s\" not found", rt->plural, rt->group[0] ? "." : "",
               rt->group, name);
    ks_err_target(err, rt, name);
}

static int finalizers_empty(json_object *o)
{
    json_object *f = ks_json_get(o, "metadata.finalizers");
    return !f || !json_object_is_type(f, json_type_array) || json_object_array_length(f) == 0;
}

static void crd_status(json_object *crd)
{
    char now[32];
    ks_time_rfc3339(now, time(NULL));
    json_object *st = json_object_new_object();
    json_object *an = ks_json_copy(ks_json_get(crd, "spec.names"));
    if (an && !ks_json_get(an, "singular")) {
        const char *kind = ks_json_str(an, "kind");
        char low[128] = "";
        for (size_t i = 0; kind && kind[i] && i < sizeof low - 1; i++)
            low[i] = (char)((kind[i] >= 'A' && kind[i] <= 'Z') ? kind[i] + 32 : kind[i]);
        ks_json_set_str(an, "singular", low);
    }
    if (an && !ks_json_get(an, "listKind")) {
        char lk[200];
        snprintf(lk, sizeof lk, "%sList", ks_json_str(an, "kind") ? ks_json_str(an, "kind") : "");
        ks_json_set_str(an, "listKind", lk);
    }
    json_object_object_add(st, "acceptedNames", an ? an : json_object_new_object());
    json_object *conds = json_object_new_array();
    const char *types[] = {"NamesAccepted", "Established"};
    const char *reasons[] = {"NoConflicts", "InitialNamesAccepted"};
    const char *msgs[] = {"no conflicts found", "the initial names have been accepted"};
    for (int i = 0; i < 2; i++) {
        json_object *c = json_object_new_object();
        json_object_object_add(c, "type", json_object_new_string(types[i]));
        json_object_object_add(c, "status", json_object_new_string("True"));
        json_object_object_add(c, "lastTransitionTime", json_object_new_string(now));
        json_object_object_add(c, "reason", json_object_new_string(reasons[i]));
        json_object_object_add(c, "message", json_object_new_string(msgs[i]));
        json_object_array_add(conds, c);
    }
    json_object_object_add(st, "conditions", conds);
    json_object *sv = json_object_new_array();
    json_object *vs = ks_json_get(crd, "spec.versions");
    for (size_t i = 0; vs && i < json_object_array_length(vs); i++) {
        json_object *stor = ks_json_get(json_object_array_get_idx(vs, i), "storage");
        if (stor && json_object_get_boolean(stor))
            json_object_array_add(sv, json_object_new_string(ks_json_str(json_object_array_get_idx(vs, i), "name")));
    }
    json_object_object_add(st, "storedVersions", sv);
    ks_json_set(crd, "status", st);
}

static int validate_custom(ks_rtype *rt, json_object *obj, ks_err *err)
{
    if (!rt->schema)
        return 0;
    const char *name = ks_json_str(obj, "metadata.name");
    int rc = ks_schema_validate(rt->schema, obj, rt->kind, name, err);
    if (rc)
        ks_err_target(err, rt, name);
    if (rc)
        snprintf(err->kind, sizeof err->kind, "%s", rt->kind);
    return rc;
}

/* ---- create ---- */

static int create_impl(ks_sim *s, ks_rtype *rt, const char *ns, json_object *obj, const char *manager,
                       json_object *apply_set, json_object **out, ks_err *err);

int ks_ops_create_locked(ks_sim *s, ks_rtype *rt, const char *ns, json_object *obj, const char *manager,
                         json_object **out, ks_err *err)
{
    return create_impl(s, rt, ns, obj, manager, NULL, out, err);
}

int ks_ops_create_apply_locked(ks_sim *s, ks_rtype *rt, const char *ns, json_object *obj, const char *manager,
                               json_object *apply_set, json_object **out, ks_err *err)
{
    return create_impl(s, rt, ns, obj, manager, apply_set, out, err);
}

static int create_impl(ks_sim *s, ks_rtype *rt, const char *ns, json_object *obj, const char *manager,
                       json_object *apply_set, json_object **out, ks_err *err)
{
    int rc = -EINVAL;
    if (!obj || !json_object_is_type(obj, json_type_object)) {
        ks_err_set(err, 400, "BadRequest", "the body of the request was not a JSON object");
        goto fail;
    }
    json_object *md = ks_json_mkpath(obj, "metadata");
    if (!md) {
        ks_err_set(err, 500, "InternalError", "out of memory");
        goto fail;
    }
    if (rt->namespaced) {
        const char *ons = ks_json_str(obj, "metadata.namespace");
        if (ons && *ons && ns && strcmp(ons, ns)) {
            ks_err_set(err, 400, "BadRequest",
                       "the namespace of the provided object does not match the namespace sent on the request");
            goto fail;
        }
        if (!ns)
            ns = ons;
        if (!ns || !*ns) {
            ks_err_set(err, 400, "BadRequest", "a namespace is required for %s", rt->plural);
            goto fail;
        }
        if (ks_ops_ns_check_locked(s, ns, err))
            goto fail;
        ks_json_set_str(obj, "metadata.namespace", ns);
    } else {
        json_object_object_del(md, "namespace");
    }
    const char *name = ks_json_str(obj, "metadata.name");
    const char *gen = ks_json_str(obj, "metadata.generateName");
    if ((!name || !*name) && gen && *gen) {
        for (int tries = 0; tries < 8; tries++) {
            char sfx[8], nm[300];
            ks_store_suffix_locked(&s->st, sfx, 5);
            snprintf(nm, sizeof nm, "%s%s", gen, sfx);
            if (!ks_store_get_locked(rt, ns, nm)) {
                ks_json_set_str(obj, "metadata.name", nm);
                break;
            }
        }
        name = ks_json_str(obj, "metadata.name");
    }
    char av[200];
    api_version_of(rt, av, sizeof av);
    ks_json_set_str(obj, "apiVersion", av);
    ks_json_set_str(obj, "kind", rt->kind);
    if (ks_types_validate(rt, obj, err))
        goto fail;
    if (ks_store_get_locked(rt, ns, name)) {
        ks_err_set(err, 409, "AlreadyExists", "%s%s%s \"%s\" already exists", rt->plural,
                   rt->group[0] ? "." : "", rt->group, name);
        ks_err_target(err, rt, name);
        goto fail;
    }
    char uid[37], now[32];
    ks_store_uid_locked(&s->st, uid);
    ks_time_rfc3339(now, time(NULL));
    ks_json_set_str(obj, "metadata.uid", uid);
    ks_json_set_str(obj, "metadata.creationTimestamp", now);
    json_object_object_del(md, "deletionTimestamp");
    json_object_object_del(md, "deletionGracePeriodSeconds");
    json_object_object_del(md, "resourceVersion");
    json_object_object_del(md, "selfLink");
    if (rt->has_spec)
        ks_json_set_int(obj, "metadata.generation", 1);
    else
        json_object_object_del(md, "generation");
    /* status is not settable on create where a status subresource exists */
    if (rt->subres & KS_SUB_STATUS) {
        const char *k = rt->kind;
        if (!rt->builtin || !strcmp(k, "Deployment") || !strcmp(k, "StatefulSet") || !strcmp(k, "ReplicaSet") ||
            !strcmp(k, "DaemonSet") || !strcmp(k, "PodDisruptionBudget"))
            json_object_object_del(obj, "status");
        if (rt->builtin && !strcmp(k, "Pod") && !s->load_mode) {
            json_object *st = json_object_new_object();
            json_object_object_add(st, "phase", json_object_new_string("Pending"));
            json_object_object_add(st, "qosClass", json_object_new_string("BestEffort"));
            ks_json_set(obj, "status", st);
        }
    }
    ks_types_default_locked(s, rt, obj);
    if (!rt->builtin) {
        ks_schema_default(rt->schema, obj);
        if (validate_custom(rt, obj, err))
            goto fail;
    }
    if (rt->builtin && !strcmp(rt->kind, "CustomResourceDefinition")) {
        if (ks_types_crd_sync_locked(s, obj, err))
            goto fail;
        crd_status(obj);
    }
    if (apply_set) {
        json_object_object_del(ks_json_get(obj, "metadata"), "managedFields");
        managed_update(obj, manager, "Apply", apply_set, av, 0);
    } else {
        json_object *set = ks_fields_of(obj, 0);
        managed_update(obj, manager, "Update", set, av, 0);
        json_object_put(set);
    }
    if (!ks_store_put_locked(&s->st, rt, obj)) {
        ks_err_set(err, 500, "InternalError", "out of memory");
        return -ENOMEM;
    }
    *out = ks_store_get_locked(rt, ns, name);
    return 0;
fail:
    json_object_put(obj);
    return rc;
}

/* ---- update ---- */

int ks_ops_update_locked(ks_sim *s, ks_rtype *rt, const char *ns, const char *name, json_object *obj,
                         unsigned sub, const char *manager, json_object *apply_set, int force,
                         json_object **out, ks_err *err)
{
    json_object *nw = NULL;
    json_object *cur = ks_store_get_locked(rt, ns, name);
    if (!cur) {
        not_found(err, rt, name);
        goto fail;
    }
    if (!obj || !json_object_is_type(obj, json_type_object)) {
        ks_err_set(err, 400, "BadRequest", "the body of the request was not a JSON object");
        goto fail;
    }
    const char *oname = ks_json_str(obj, "metadata.name");
    if (oname && strcmp(oname, name)) {
        ks_err_set(err, 400, "BadRequest", "the name of the object (%s) does not match the name on the URL (%s)",
                   oname, name);
        goto fail;
    }
    const char *orv = ks_json_str(obj, "metadata.resourceVersion");
    const char *crv = ks_json_str(cur, "metadata.resourceVersion");
    if (orv && *orv && strcmp(orv, crv)) {
        ks_err_set(err, 409, "Conflict",
                   "Operation cannot be fulfilled on %s%s%s \"%s\": the object has been modified; please apply "
                   "your changes to the latest version and try again",
                   rt->plural, rt->group[0] ? "." : "", rt->group, name);
        ks_err_target(err, rt, name);
        goto fail;
    }
    char av[200];
    api_version_of(rt, av, sizeof av);
    if (sub == KS_SUB_STATUS) {
        nw = ks_json_copy(cur);
        json_object *st = ks_json_get(obj, "status");
        ks_json_set(nw, "status", st ? ks_json_copy(st) : NULL);
        json_object_put(obj);
        obj = NULL;
    } else {
        nw = obj;
        obj = NULL;
        json_object *md = ks_json_mkpath(nw, "metadata");
        const char *keep[] = {"uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                              "namespace", "generation"};
        for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
            json_object *v = ks_json_get(ks_json_get(cur, "metadata"), keep[i]);
            if (v)
                json_object_object_add(md, keep[i], ks_json_copy(v));
            else
                json_object_object_del(md, keep[i]);
        }
        json_object_object_add(md, "name", json_object_new_string(name));
        if (!ks_json_get(nw, "metadata.managedFields") && ks_json_get(cur, "metadata.managedFields"))
            ks_json_set(nw, "metadata.managedFields", ks_json_copy(ks_json_get(cur, "metadata.managedFields")));
        if ((rt->subres & KS_SUB_STATUS) && strcmp(rt->kind, "Node") && strcmp(rt->kind, "Namespace")) {
            json_object *st = ks_json_get(cur, "status");
            ks_json_set(nw, "status", st ? ks_json_copy(st) : NULL);
        }
        if (!strcmp(rt->kind, "Namespace") && rt->builtin)
            ks_json_set(nw, "status", ks_json_copy(ks_json_get(cur, "status")));
    }
    ks_json_set_str(nw, "apiVersion", av);
    ks_json_set_str(nw, "kind", rt->kind);
    if (rt->builtin && sub != KS_SUB_STATUS) {
        ks_types_default_locked(s, rt, nw);
        if (ks_types_validate(rt, nw, err))
            goto fail;
    }
    if (!rt->builtin) {
        ks_schema_default(rt->schema, nw);
        if (validate_custom(rt, nw, err))
            goto fail;
    }
    if (rt->builtin && !strcmp(rt->kind, "CustomResourceDefinition") && sub != KS_SUB_STATUS) {
        if (ks_types_crd_sync_locked(s, nw, err))
            goto fail;
        crd_status(nw);
    }
    if (rt->has_spec) {
        int64_t g = ks_json_int(cur, "metadata.generation", 1);
        ks_json_set_int(nw, "metadata.generation", spec_changed(cur, nw) ? g + 1 : g);
    }
    /* managed fields */
    if (apply_set) {
        if (!force) {
            json_object *mf = ks_json_get(cur, "metadata.managedFields");
            for (size_t i = 0; mf && i < json_object_array_length(mf); i++) {
                json_object *e = json_object_array_get_idx(mf, i);
                const char *m = ks_json_str(e, "manager");
                if (!m || !strcmp(m, manager))
                    continue;
                char path[1024] = "";
                json_object *applied_view = nw;
                if (fs_conflict(apply_set, ks_json_get(e, "fieldsV1"), cur, applied_view, path, sizeof path)) {
                    ks_err_set(err, 409, "Conflict", "Apply failed with 1 conflict: conflict with \"%s\": .%s", m, path);
                    ks_err_target(err, rt, name);
                    char cm[1200];
                    snprintf(cm, sizeof cm, "conflict with \"%s\"", m);
                    ks_err_cause(err, "FieldManagerConflict", path, cm);
                    goto fail;
                }
            }
        }
        managed_update(nw, manager, "Apply", apply_set, av, 0);
    } else {
        json_object *d = fs_diff(cur, nw, 1);
        if (sub == KS_SUB_STATUS) {
            json_object_put(d);
            d = json_object_new_object();
            json_object *sd = fs_diff(ks_json_get(cur, "status"), ks_json_get(nw, "status"), 0);
            if (json_object_object_length(sd))
                json_object_object_add(d, "f:status", sd);
            else
                json_object_put(sd);
        }
        if (json_object_object_length(d) > 0)
            managed_update(nw, manager, "Update", d, av, sub == KS_SUB_STATUS);
        json_object_put(d);
    }
    /* deletion completes when the last finalizer goes */
    if (ks_json_get(nw, "metadata.deletionTimestamp") && finalizers_empty(nw)) {
        int is_pod_graceful = rt->builtin && !strcmp(rt->kind, "Pod") && ks_json_str(nw, "spec.nodeName") &&
                              ks_json_int(nw, "metadata.deletionGracePeriodSeconds", 0) > 0;
        if (!is_pod_graceful) {
            ks_store_put_locked(&s->st, rt, nw);
            ks_ops_remove_now_locked(s, rt, ns, name);
            *out = NULL;
            return 0;
        }
    }
    if (same_object(cur, nw)) {
        json_object_put(nw);
        *out = cur;
        return 0;
    }
    if (!ks_store_put_locked(&s->st, rt, nw)) {
        ks_err_set(err, 500, "InternalError", "out of memory");
        return -ENOMEM;
    }
    *out = ks_store_get_locked(rt, ns, name);
    return 0;
fail:
    json_object_put(obj);
    json_object_put(nw);
    return -EINVAL;
}

/* ---- delete ---- */

void ks_ops_remove_now_locked(ks_sim *s, ks_rtype *rt, const char *ns, const char *name)
{
    if (rt->builtin && !strcmp(rt->kind, "CustomResourceDefinition")) {
        /* custom objects go first, each with a DELETED event */
        json_object *crd = ks_store_get_locked(rt, NULL, name);
        const char *g = crd ? ks_json_str(crd, "spec.group") : NULL;
        const char *p = crd ? ks_json_str(crd, "spec.names.plural") : NULL;
        for (int i = 0; g && p && i < s->st.ntypes; i++) {
            ks_rtype *ct = s->st.types[i];
            if (ct->gone || strcmp(ct->group, g) || strcmp(ct->plural, p))
                continue;
            while (ct->n > 0) {
                json_object *o = ct->objs[ct->n - 1].o;
                char on[256], ons[256];
                snprintf(on, sizeof on, "%s", ks_json_str(o, "metadata.name"));
                snprintf(ons, sizeof ons, "%s", ks_json_str(o, "metadata.namespace") ? ks_json_str(o, "metadata.namespace") : "");
                ks_store_del_locked(&s->st, ct, ons, on);
            }
        }
        ks_types_crd_remove_locked(s, name);
    }
    ks_store_del_locked(&s->st, rt, ns, name);
}

int ks_ops_delete_locked(ks_sim *s, ks_rtype *rt, const char *ns, const char *name, const char *propagation,
                         int64_t grace, const char *pre_uid, const char *pre_rv, json_object **out,
                         ks_err *err)
{
    json_object *cur = ks_store_get_locked(rt, ns, name);
    if (!cur) {
        not_found(err, rt, name);
        return -ENOENT;
    }
    const char *uid = ks_json_str(cur, "metadata.uid");
    if (pre_uid && *pre_uid && strcmp(pre_uid, uid)) {
        ks_err_set(err, 409, "Conflict",
                   "Operation cannot be fulfilled on %s \"%s\": Precondition failed: UID in precondition: %s, UID in object meta: %s",
                   rt->plural, name, pre_uid, uid);
        ks_err_target(err, rt, name);
        return -EBUSY;
    }
    if (pre_rv && *pre_rv && strcmp(pre_rv, ks_json_str(cur, "metadata.resourceVersion"))) {
        ks_err_set(err, 409, "Conflict",
                   "Operation cannot be fulfilled on %s \"%s\": Precondition failed: ResourceVersion in precondition: %s, ResourceVersion in object meta: %s",
                   rt->plural, name, pre_rv, ks_json_str(cur, "metadata.resourceVersion"));
        ks_err_target(err, rt, name);
        return -EBUSY;
    }
    int is_pod = rt->builtin && !strcmp(rt->kind, "Pod");
    int is_ns = rt->builtin && !strcmp(rt->kind, "Namespace");
    s->st.deletes++;
    json_object *nw = ks_json_copy(cur);
    if (!nw) {
        ks_err_set(err, 500, "InternalError", "out of memory");
        return -ENOMEM;
    }
    int already = ks_json_get(cur, "metadata.deletionTimestamp") != NULL;
    if (propagation && (!strcmp(propagation, "Foreground") || !strcmp(propagation, "Orphan")) && !is_pod) {
        json_object *fin = ks_json_get(nw, "metadata.finalizers");
        if (!fin || !json_object_is_type(fin, json_type_array)) {
            fin = json_object_new_array();
            ks_json_set(nw, "metadata.finalizers", fin);
        }
        const char *f = !strcmp(propagation, "Foreground") ? "foregroundDeletion" : "orphan";
        int have = 0;
        for (size_t i = 0; i < json_object_array_length(fin); i++)
            have |= !strcmp(json_object_get_string(json_object_array_get_idx(fin, i)), f);
        if (!have)
            json_object_array_add(fin, json_object_new_string(f));
    }
    char now[32];
    ks_time_rfc3339(now, time(NULL));
    int64_t pod_grace = grace >= 0 ? grace : ks_json_int(cur, "spec.terminationGracePeriodSeconds", 30);
    int graceful_pod = is_pod && ks_json_str(cur, "spec.nodeName") && pod_grace > 0 &&
                       strcmp(ks_json_str(cur, "status.phase") ? ks_json_str(cur, "status.phase") : "", "Failed") &&
                       strcmp(ks_json_str(cur, "status.phase") ? ks_json_str(cur, "status.phase") : "", "Succeeded");
    if (is_ns) {
        if (!already) {
            ks_json_set_str(nw, "metadata.deletionTimestamp", now);
            ks_json_set_int(nw, "metadata.deletionGracePeriodSeconds", 0);
            ks_json_set_str(nw, "status.phase", "Terminating");
            ks_store_put_locked(&s->st, rt, nw);
        } else {
            json_object_put(nw);
        }
        *out = json_object_get(ks_store_get_locked(rt, ns, name));
        return 0;
    }
    if (!finalizers_empty(nw) || graceful_pod) {
        if (!already || (is_pod && grace == 0)) {
            if (!already)
                ks_json_set_str(nw, "metadata.deletionTimestamp", now);
            ks_json_set_int(nw, "metadata.deletionGracePeriodSeconds", graceful_pod ? pod_grace : 0);
            if (!graceful_pod && is_pod && finalizers_empty(nw)) {
                ks_store_put_locked(&s->st, rt, nw);
                goto remove;
            }
            ks_store_put_locked(&s->st, rt, nw);
        } else {
            json_object_put(nw);
        }
        *out = json_object_get(ks_store_get_locked(rt, ns, name));
        return 0;
    }
    json_object_put(nw);
remove:
    *out = json_object_get(ks_store_get_locked(rt, ns, name));
    ks_ops_remove_now_locked(s, rt, ns, name);
    return 0;
}
