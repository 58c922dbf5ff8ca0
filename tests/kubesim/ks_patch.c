/*
 * ks_patch.c - JSON patch, merge patch, strategic merge patch and the
 * apply merge. Each works on a deep copy of the document.
 */
#include "ks_patch.h"

#include "ks_json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Merge keys of the built-in types kubectl relies on (patchMergeKey tags). */
static const struct {
    const char *parent; /* "*" any */
    const char *field;
    const char *key;    /* "" = primitive set */
} merge_keys[] = {
    {"*", "containers", "name"},
    {"*", "initContainers", "name"},
    {"*", "ephemeralContainers", "name"},
    {"*", "volumes", "name"},
    {"*", "env", "name"},
    {"*", "volumeMounts", "mountPath"},
    {"*", "volumeDevices", "devicePath"},
    {"containers", "ports", "containerPort"},
    {"initContainers", "ports", "containerPort"},
    {"ephemeralContainers", "ports", "containerPort"},
    {"spec", "ports", "port"},
    {"*", "imagePullSecrets", "name"},
    {"*", "hostAliases", "ip"},
    {"*", "conditions", "type"},
    {"*", "ownerReferences", "uid"},
    {"*", "taints", "key"},
    {"*", "topologySpreadConstraints", "topologyKey"},
    {"*", "resourceClaims", "name"},
    {"*", "addresses", "type"},
    {"*", "finalizers", ""},
};

const char *ks_patch_merge_key(const char *parent, const char *field)
{
    for (size_t i = 0; i < sizeof merge_keys / sizeof merge_keys[0]; i++) {
        if (strcmp(merge_keys[i].field, field))
            continue;
        if (!strcmp(merge_keys[i].parent, "*") || !strcmp(merge_keys[i].parent, parent))
            return merge_keys[i].key;
    }
    return NULL;
}

/* ---- RFC 6902 ---- */

/* Decode one JSON pointer token in place (~1 -> /, ~0 -> ~). */
static void ptr_unescape(char *t)
{
    char *o = t;
    for (char *p = t; *p; p++) {
        if (p[0] == '~' && p[1] == '1') {
            *o++ = '/';
            p++;
        } else if (p[0] == '~' && p[1] == '0') {
            *o++ = '~';
            p++;
        } else {
            *o++ = *p;
        }
    }
    *o = 0;
}

/* Parse an array index token; -1 for "-", -2 invalid. */
static long arr_index(const char *t)
{
    if (!strcmp(t, "-"))
        return -1;
    if (!*t || (t[0] == '0' && t[1]))
        return -2;
    char *e = NULL;
    long v = strtol(t, &e, 10);
    return (*e || v < 0) ? -2 : v;
}

/* Resolve a pointer to (parent container, last token). The root pointer
 * "" gives *parent = NULL. tok must hold strlen(ptr)+1. */
static int ptr_resolve(json_object *doc, const char *ptr, json_object **parent, char *tok,
                       char *err, size_t errlen)
{
    if (!*ptr) {
        *parent = NULL;
        tok[0] = 0;
        return 0;
    }
    if (ptr[0] != '/') {
        snprintf(err, errlen, "invalid JSON pointer \"%.200s\"", ptr);
        return -EINVAL;
    }
    json_object *cur = doc;
    const char *p = ptr + 1;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        memcpy(tok, p, n);
        tok[n] = 0;
        ptr_unescape(tok);
        if (!slash) {
            *parent = cur;
            return 0;
        }
        json_object *next = NULL;
        if (json_object_is_type(cur, json_type_object)) {
            if (!json_object_object_get_ex(cur, tok, &next))
                next = NULL;
        } else if (json_object_is_type(cur, json_type_array)) {
            long i = arr_index(tok);
            if (i >= 0 && (size_t)i < json_object_array_length(cur))
                next = json_object_array_get_idx(cur, (size_t)i);
        }
        if (!next) {
            snprintf(err, errlen, "doc is missing path: \"%.200s\"", ptr);
            return -ENOENT;
        }
        cur = next;
        p = slash + 1;
    }
}

static int arr_insert(json_object *arr, size_t idx, json_object *v)
{
    size_t n = json_object_array_length(arr);
    if (idx == n)
        return json_object_array_add(arr, v);
    /* shift right: append the last, then move the others up */
    json_object_array_add(arr, json_object_get(json_object_array_get_idx(arr, n - 1)));
    for (size_t i = n - 1; i > idx; i--)
        json_object_array_put_idx(arr, i, json_object_get(json_object_array_get_idx(arr, i - 1)));
    return json_object_array_put_idx(arr, idx, v);
}

/* Get value at pointer (borrowed) or NULL. */
static json_object *ptr_get(json_object *doc, const char *ptr, char *tok, char *err, size_t errlen, int *rc)
{
    json_object *parent;
    *rc = ptr_resolve(doc, ptr, &parent, tok, err, errlen);
    if (*rc)
        return NULL;
    if (!parent)
        return doc;
    json_object *v = NULL;
    if (json_object_is_type(parent, json_type_object)) {
        if (json_object_object_get_ex(parent, tok, &v))
            return v;
    } else if (json_object_is_type(parent, json_type_array)) {
        long i = arr_index(tok);
        if (i >= 0 && (size_t)i < json_object_array_length(parent))
            return json_object_array_get_idx(parent, (size_t)i);
    }
    snprintf(err, errlen, "doc is missing path: \"%.200s\"", ptr);
    *rc = -ENOENT;
    return NULL;
}

/* Add: takes v. *doc may be replaced when ptr is root. */
static int op_add(json_object **doc, const char *ptr, json_object *v, char *tok, int replace_only,
                  char *err, size_t errlen)
{
    json_object *parent;
    int rc = ptr_resolve(*doc, ptr, &parent, tok, err, errlen);
    if (rc) {
        json_object_put(v);
        return rc;
    }
    if (!parent) {
        json_object_put(*doc);
        *doc = v;
        return 0;
    }
    if (json_object_is_type(parent, json_type_object)) {
        if (replace_only && !json_object_object_get_ex(parent, tok, NULL)) {
            json_object_put(v);
            snprintf(err, errlen, "replace operation does not apply: doc is missing key: %.200s", ptr);
            return -ENOENT;
        }
        json_object_object_add(parent, tok, v);
        return 0;
    }
    if (json_object_is_type(parent, json_type_array)) {
        long i = arr_index(tok);
        size_t n = json_object_array_length(parent);
        if (i == -1 && !replace_only)
            i = (long)n;
        if (i < 0 || (size_t)i > n || (replace_only && (size_t)i >= n)) {
            json_object_put(v);
            snprintf(err, errlen, "index out of range for \"%.200s\"", ptr);
            return -ENOENT;
        }
        if (replace_only)
            return json_object_array_put_idx(parent, (size_t)i, v) ? -ENOMEM : 0;
        return arr_insert(parent, (size_t)i, v) ? -ENOMEM : 0;
    }
    json_object_put(v);
    snprintf(err, errlen, "doc is missing path: \"%.200s\"", ptr);
    return -ENOENT;
}

static int op_remove(json_object *doc, const char *ptr, char *tok, char *err, size_t errlen)
{
    json_object *parent;
    int rc = ptr_resolve(doc, ptr, &parent, tok, err, errlen);
    if (rc)
        return rc;
    if (parent && json_object_is_type(parent, json_type_object) &&
        json_object_object_get_ex(parent, tok, NULL)) {
        json_object_object_del(parent, tok);
        return 0;
    }
    if (parent && json_object_is_type(parent, json_type_array)) {
        long i = arr_index(tok);
        if (i >= 0 && (size_t)i < json_object_array_length(parent)) {
            json_object_array_del_idx(parent, (size_t)i, 1);
            return 0;
        }
    }
    snprintf(err, errlen, "remove operation does not apply: doc is missing path: \"%.200s\"", ptr);
    return -ENOENT;
}

int ks_patch_json(json_object *doc, json_object *patch, json_object **out, char *err, size_t errlen)
{
    char dummy[8];
    if (!err) {
        err = dummy;
        errlen = sizeof dummy;
    }
    if (!json_object_is_type(patch, json_type_array)) {
        snprintf(err, errlen, "json patch must be an array of operations");
        return -EINVAL;
    }
    json_object *d = ks_json_copy(doc);
    if (!d)
        return -ENOMEM;
    int rc = 0;
    size_t n = json_object_array_length(patch);
    for (size_t i = 0; i < n && !rc; i++) {
        json_object *op = json_object_array_get_idx(patch, i);
        const char *o = ks_json_str(op, "op"), *path = ks_json_str(op, "path");
        if (!o || !path) {
            snprintf(err, errlen, "json patch operation %zu lacks op or path", i);
            rc = -EINVAL;
            break;
        }
        char *tok = malloc(strlen(path) + 2);
        const char *from = ks_json_str(op, "from");
        char *tok2 = malloc((from ? strlen(from) : 0) + 2);
        if (!tok || !tok2) {
            free(tok);
            free(tok2);
            rc = -ENOMEM;
            break;
        }
        json_object *val = NULL;
        int has_val = json_object_object_get_ex(op, "value", &val);
        if (!strcmp(o, "add") || !strcmp(o, "replace")) {
            if (!has_val) {
                snprintf(err, errlen, "%s operation lacks a value", o);
                rc = -EINVAL;
            } else {
                rc = op_add(&d, path, ks_json_copy(val), tok,
                            !strcmp(o, "replace"), err, errlen);
            }
        } else if (!strcmp(o, "remove")) {
            rc = op_remove(d, path, tok, err, errlen);
        } else if (!strcmp(o, "move") || !strcmp(o, "copy")) {
            if (!from) {
                snprintf(err, errlen, "%s operation lacks from", o);
                rc = -EINVAL;
            } else {
                json_object *src = ptr_get(d, from, tok2, err, errlen, &rc);
                json_object *c = src ? ks_json_copy(src) : NULL;
                if (src && !c)
                    rc = -ENOMEM;
                if (!rc && !strcmp(o, "move"))
                    rc = op_remove(d, from, tok2, err, errlen);
                if (!rc)
                    rc = op_add(&d, path, c, tok, 0, err, errlen);
                else
                    json_object_put(c);
            }
        } else if (!strcmp(o, "test")) {
            json_object *cur = ptr_get(d, path, tok, err, errlen, &rc);
            if (!rc && (!has_val || !json_object_equal(cur, val))) {
                snprintf(err, errlen, "testing value %.200s failed", path);
                rc = -ECANCELED;
            }
        } else {
            snprintf(err, errlen, "unknown json patch operation \"%.50s\"", o);
            rc = -EINVAL;
        }
        free(tok);
        free(tok2);
    }
    if (rc) {
        json_object_put(d);
        return rc;
    }
    *out = d;
    return 0;
}

/* ---- RFC 7386 ---- */

/* Returns a new value: target merged with patch. target may be NULL. */
static json_object *merge_rec(json_object *target, json_object *patch)
{
    if (!json_object_is_type(patch, json_type_object))
        return ks_json_copy(patch);
    json_object *res = (target && json_object_is_type(target, json_type_object))
                           ? ks_json_copy(target) : json_object_new_object();
    if (!res)
        return NULL;
    json_object_object_foreach(patch, k, v) {
        if (!v) {
            json_object_object_del(res, k);
            continue;
        }
        json_object *cur = NULL;
        json_object_object_get_ex(res, k, &cur);
        json_object *m = merge_rec(cur, v);
        json_object_object_add(res, k, m);
    }
    return res;
}

int ks_patch_merge(json_object *doc, json_object *patch, json_object **out, char *err, size_t errlen)
{
    if (!patch || !json_object_is_type(patch, json_type_object)) {
        if (err)
            snprintf(err, errlen, "merge patch must be a JSON object");
        return -EINVAL;
    }
    json_object *r = merge_rec(doc, patch);
    if (!r)
        return -ENOMEM;
    *out = r;
    return 0;
}

/* ---- strategic merge ---- */

typedef struct smctx {
    int apply;  /* server-side apply mode: no deletions, no directives */
    char *err;
    size_t errlen;
} smctx;

static json_object *sm_map(smctx *c, json_object *orig, json_object *patch, const char *field, int *rc);

static int prim_in(json_object *arr, json_object *v)
{
    size_t n = json_object_array_length(arr);
    for (size_t i = 0; i < n; i++)
        if (json_object_equal(json_object_array_get_idx(arr, i), v))
            return 1;
    return 0;
}

/* Merge a list by key (key "" = primitive set). Returns new list. */
static json_object *sm_list(smctx *c, json_object *orig, json_object *patch, const char *field,
                            const char *key, int *rc)
{
    json_object *res = (orig && json_object_is_type(orig, json_type_array)) ? ks_json_copy(orig)
                                                                             : json_object_new_array();
    if (!res) {
        *rc = -ENOMEM;
        return NULL;
    }
    size_t n = json_object_array_length(patch);
    /* {"$patch":"replace"} element: the list becomes the other elements */
    for (size_t i = 0; i < n && !c->apply; i++) {
        json_object *e = json_object_array_get_idx(patch, i);
        const char *d = ks_json_str(e, "$patch");
        if (d && !strcmp(d, "replace")) {
            json_object_put(res);
            res = json_object_new_array();
            for (size_t j = 0; j < n; j++) {
                json_object *x = json_object_array_get_idx(patch, j);
                if (j != i)
                    json_object_array_add(res, ks_json_copy(x));
            }
            return res;
        }
    }
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(patch, i);
        if (!*key) {
            if (!prim_in(res, e))
                json_object_array_add(res, ks_json_copy(e));
            continue;
        }
        json_object *kv = ks_json_get(e, key);
        if (!json_object_is_type(e, json_type_object) || !kv) {
            /* element without its merge key: append as is (kube errors; we are lenient) */
            json_object_array_add(res, ks_json_copy(e));
            continue;
        }
        const char *d = ks_json_str(e, "$patch");
        size_t m = json_object_array_length(res);
        size_t found = m;
        for (size_t j = 0; j < m; j++)
            if (json_object_equal(ks_json_get(json_object_array_get_idx(res, j), key), kv)) {
                found = j;
                break;
            }
        if (d && !strcmp(d, "delete") && !c->apply) {
            if (found < m)
                json_object_array_del_idx(res, found, 1);
            continue;
        }
        json_object *cur = found < m ? json_object_array_get_idx(res, found) : NULL;
        json_object *merged = sm_map(c, cur, e, field, rc);
        if (*rc) {
            json_object_put(res);
            return NULL;
        }
        if (found < m)
            json_object_array_put_idx(res, found, merged);
        else if (merged)
            json_object_array_add(res, merged);
    }
    return res;
}

/* Merge maps. field is the name of this map's field (for key lookup of
 * its children). Returns new value, NULL for "$patch: delete". */
static json_object *sm_map(smctx *c, json_object *orig, json_object *patch, const char *field, int *rc)
{
    if (!json_object_is_type(patch, json_type_object))
        return ks_json_copy(patch);
    const char *d = c->apply ? NULL : ks_json_str(patch, "$patch");
    if (d && !strcmp(d, "delete"))
        return NULL;
    json_object *res;
    if (d && !strcmp(d, "replace"))
        res = json_object_new_object();
    else
        res = (orig && json_object_is_type(orig, json_type_object)) ? ks_json_copy(orig)
                                                                    : json_object_new_object();
    if (!res) {
        *rc = -ENOMEM;
        return NULL;
    }
    json_object *retain = NULL;
    json_object_object_foreach(patch, k, v) {
        if (!strcmp(k, "$patch"))
            continue;
        if (!strcmp(k, "$retainKeys")) {
            retain = v;
            continue;
        }
        if (!strncmp(k, "$setElementOrder/", 17))
            continue;
        if (!strncmp(k, "$deleteFromPrimitiveList/", 25)) {
            json_object *lst = NULL;
            const char *fname = k + 25;
            if (json_object_object_get_ex(res, fname, &lst) && json_object_is_type(lst, json_type_array) &&
                json_object_is_type(v, json_type_array)) {
                for (size_t i = json_object_array_length(lst); i-- > 0;)
                    if (prim_in(v, json_object_array_get_idx(lst, i)))
                        json_object_array_del_idx(lst, i, 1);
            }
            continue;
        }
        if (!v) {
            if (!c->apply)
                json_object_object_del(res, k);
            continue;
        }
        json_object *cur = NULL;
        json_object_object_get_ex(res, k, &cur);
        json_object *nv;
        if (json_object_is_type(v, json_type_array)) {
            const char *key = ks_patch_merge_key(field, k);
            nv = key ? sm_list(c, cur, v, k, key, rc) : ks_json_copy(v);
        } else if (json_object_is_type(v, json_type_object)) {
            nv = sm_map(c, cur, v, k, rc);
            if (!nv && !*rc) {
                json_object_object_del(res, k);
                continue;
            }
        } else {
            nv = ks_json_copy(v);
        }
        if (*rc) {
            json_object_put(res);
            return NULL;
        }
        json_object_object_add(res, k, nv);
    }
    if (retain && json_object_is_type(retain, json_type_array)) {
        /* drop keys not listed */
        json_object *keep = json_object_new_object();
        json_object_object_foreach(res, k2, v2) {
            json_object *ks = json_object_new_string(k2);
            if (prim_in(retain, ks))
                json_object_object_add(keep, k2, json_object_get(v2));
            json_object_put(ks);
        }
        json_object_put(res);
        res = keep;
    }
    return res;
}

static int sm_run(json_object *doc, json_object *patch, json_object **out, char *err, size_t errlen, int apply)
{
    if (!patch || !json_object_is_type(patch, json_type_object)) {
        if (err)
            snprintf(err, errlen, "%s patch must be a JSON object", apply ? "apply" : "strategic merge");
        return -EINVAL;
    }
    smctx c = {apply, err, errlen};
    int rc = 0;
    json_object *r = sm_map(&c, doc, patch, "", &rc);
    if (rc)
        return rc;
    if (!r)
        r = json_object_new_object();
    *out = r;
    return 0;
}

int ks_patch_strategic(json_object *doc, json_object *patch, json_object **out, char *err, size_t errlen)
{
    return sm_run(doc, patch, out, err, errlen, 0);
}

int ks_patch_apply_merge(json_object *live, json_object *applied, json_object **out, char *err, size_t errlen)
{
    return sm_run(live, applied, out, err, errlen, 1);
}
