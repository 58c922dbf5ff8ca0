/*
 * ks_store.c - sorted arrays of objects per type and a ring buffer of
 * serialized watch events. Sorted keys make list pagination a binary
 * search; the ring is ordered by rv so a watch start is one too.
 */
#include "ks_store.h"

#include "ks_json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ks_store_init(ks_store *st, size_t history_cap, uint64_t seed)
{
    memset(st, 0, sizeof *st);
    st->cap = history_cap ? history_cap : 1;
    st->ring = calloc(st->cap, sizeof *st->ring);
    if (!st->ring)
        return -ENOMEM;
    pthread_mutex_init(&st->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&st->cv, &ca);
    pthread_condattr_destroy(&ca);
    st->rng = seed ? seed : 0x9e3779b97f4a7c15ull;
    st->rv = 1;
    return 0;
}

static void ev_free(ks_event *e)
{
    json_object_put(e->obj);
    json_object_put(e->prev);
    free(e->line);
    memset(e, 0, sizeof *e);
}

void ks_store_release(ks_store *st)
{
    for (size_t i = 0; i < st->len; i++)
        ev_free(&st->ring[(st->head + i) % st->cap]);
    free(st->ring);
    for (int t = 0; t < st->ntypes; t++) {
        ks_rtype *rt = st->types[t];
        for (size_t i = 0; i < rt->n; i++) {
            free(rt->objs[i].key);
            json_object_put(rt->objs[i].o);
        }
        free(rt->objs);
        json_object_put(rt->schema);
        free(rt);
    }
    pthread_mutex_destroy(&st->mu);
    pthread_cond_destroy(&st->cv);
    memset(st, 0, sizeof *st);
}

ks_rtype *ks_store_add_type_locked(ks_store *st, const ks_rtype *tmpl)
{
    if (st->ntypes >= KS_MAX_TYPES)
        return NULL;
    ks_rtype *rt = malloc(sizeof *rt);
    if (!rt)
        return NULL;
    *rt = *tmpl;
    rt->id = st->ntypes;
    rt->objs = NULL;
    rt->n = rt->cap = 0;
    rt->schema = tmpl->schema ? json_object_get(tmpl->schema) : NULL;
    st->types[st->ntypes++] = rt;
    return rt;
}

ks_rtype *ks_store_type_locked(ks_store *st, const char *group, const char *version, const char *plural)
{
    for (int i = 0; i < st->ntypes; i++) {
        ks_rtype *rt = st->types[i];
        if (!rt->gone && !strcmp(rt->group, group) && !strcmp(rt->version, version) &&
            !strcmp(rt->plural, plural))
            return rt;
    }
    return NULL;
}

ks_rtype *ks_store_type_kind_locked(ks_store *st, const char *api_version, const char *kind)
{
    char g[128] = "", v[64];
    const char *slash = strchr(api_version, '/');
    if (slash) {
        snprintf(g, sizeof g, "%.*s", (int)(slash - api_version), api_version);
        snprintf(v, sizeof v, "%s", slash + 1);
    } else {
        snprintf(v, sizeof v, "%s", api_version);
    }
    for (int i = 0; i < st->ntypes; i++) {
        ks_rtype *rt = st->types[i];
        if (!rt->gone && !strcmp(rt->group, g) && !strcmp(rt->version, v) && !strcmp(rt->kind, kind))
            return rt;
    }
    return NULL;
}

void ks_store_key(const ks_rtype *rt, const char *ns, const char *name, char *out, size_t cap)
{
    if (rt->namespaced)
        snprintf(out, cap, "%s/%s", ns ? ns : "", name);
    else
        snprintf(out, cap, "%s", name);
}

size_t ks_store_lower_bound(ks_rtype *rt, const char *key)
{
    size_t lo = 0, hi = rt->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (strcmp(rt->objs[mid].key, key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

json_object *ks_store_get_locked(ks_rtype *rt, const char *ns, const char *name)
{
    char key[600];
    ks_store_key(rt, ns, name, key, sizeof key);
    size_t i = ks_store_lower_bound(rt, key);
    return i < rt->n && !strcmp(rt->objs[i].key, key) ? rt->objs[i].o : NULL;
}

static const char *ev_names[] = {"ADDED", "MODIFIED", "DELETED"};

static int record(ks_store *st, ks_rtype *rt, int type, json_object *obj, json_object *prev)
{
    size_t olen = 0;
    const char *js = ks_json_dump(obj, &olen);
    size_t cap = olen + 48;
    char *line = malloc(cap);
    if (!line)
        return -ENOMEM;
    int h = snprintf(line, cap, "{\"type\":\"%s\",\"object\":", ev_names[type]);
    memcpy(line + h, js, olen);
    memcpy(line + h + olen, "}\n", 3);
    if (st->len == st->cap) {
        ks_event *old = &st->ring[st->head];
        st->compacted = old->rv;
        ev_free(old);
        st->head = (st->head + 1) % st->cap;
        st->len--;
    }
    ks_event *e = &st->ring[(st->head + st->len) % st->cap];
    e->rv = st->rv;
    e->type = type;
    e->rtype = rt->id;
    e->obj = json_object_get(obj);
    e->prev = prev ? json_object_get(prev) : NULL;
    e->line = line;
    e->len = (size_t)h + olen + 2;
    st->len++;
    rt->last_change = st->rv;
    pthread_cond_broadcast(&st->cv);
    return 0;
}

static void set_rv(json_object *obj, uint64_t rv)
{
    char b[32];
    snprintf(b, sizeof b, "%llu", (unsigned long long)rv);
    ks_json_set_str(obj, "metadata.resourceVersion", b);
}

uint64_t ks_store_put_locked(ks_store *st, ks_rtype *rt, json_object *obj)
{
    const char *ns = ks_json_str(obj, "metadata.namespace");
    const char *name = ks_json_str(obj, "metadata.name");
    char key[600];
    if (!name) {
        json_object_put(obj);
        return 0;
    }
    ks_store_key(rt, ns, name, key, sizeof key);
    size_t i = ks_store_lower_bound(rt, key);
    int exists = i < rt->n && !strcmp(rt->objs[i].key, key);
    if (!exists && rt->n == rt->cap) {
        size_t nc = rt->cap ? rt->cap * 2 : 64;
        ks_obj *no = realloc(rt->objs, nc * sizeof *no);
        if (!no) {
            json_object_put(obj);
            return 0;
        }
        rt->objs = no;
        rt->cap = nc;
    }
    st->rv++;
    set_rv(obj, st->rv);
    json_object *prev = NULL;
    if (exists) {
        prev = rt->objs[i].o;
        rt->objs[i].o = obj;
    } else {
        char *k = strdup(key);
        if (!k) {
            json_object_put(obj);
            return 0;
        }
        memmove(&rt->objs[i + 1], &rt->objs[i], (rt->n - i) * sizeof *rt->objs);
        rt->objs[i].key = k;
        rt->objs[i].o = obj;
        rt->n++;
    }
    record(st, rt, exists ? KS_EV_MODIFIED : KS_EV_ADDED, obj, prev);
    json_object_put(prev);
    return st->rv;
}

uint64_t ks_store_touch_locked(ks_store *st, ks_rtype *rt, size_t idx)
{
    if (idx >= rt->n)
        return 0;
    json_object *obj = rt->objs[idx].o;
    st->rv++;
    set_rv(obj, st->rv);
    record(st, rt, KS_EV_MODIFIED, obj, obj);
    return st->rv;
}

uint64_t ks_store_del_locked(ks_store *st, ks_rtype *rt, const char *ns, const char *name)
{
    char key[600];
    ks_store_key(rt, ns, name, key, sizeof key);
    size_t i = ks_store_lower_bound(rt, key);
    if (i >= rt->n || strcmp(rt->objs[i].key, key))
        return 0;
    json_object *obj = rt->objs[i].o;
    free(rt->objs[i].key);
    memmove(&rt->objs[i], &rt->objs[i + 1], (rt->n - i - 1) * sizeof *rt->objs);
    rt->n--;
    st->deletes++;
    st->rv++;
    set_rv(obj, st->rv);
    record(st, rt, KS_EV_DELETED, obj, NULL);
    json_object_put(obj);
    return st->rv;
}

const ks_event *ks_store_next_event_locked(ks_store *st, uint64_t after)
{
    size_t lo = 0, hi = st->len;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (st->ring[(st->head + mid) % st->cap].rv <= after)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < st->len ? &st->ring[(st->head + lo) % st->cap] : NULL;
}

void ks_store_compact_locked(ks_store *st, int restart)
{
    for (size_t i = 0; i < st->len; i++)
        ev_free(&st->ring[(st->head + i) % st->cap]);
    st->head = st->len = 0;
    st->compacted = st->rv;
    st->compact_rv = st->rv;
    if (restart)
        st->epoch++;
    pthread_cond_broadcast(&st->cv);
}

uint64_t ks_store_rand_locked(ks_store *st)
{
    uint64_t x = st->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    st->rng = x;
    return x;
}

void ks_store_uid_locked(ks_store *st, char out[37])
{
    uint64_t a = ks_store_rand_locked(st), b = ks_store_rand_locked(st);
    snprintf(out, 37, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32), (unsigned)(a >> 16) & 0xffff,
             (unsigned)a & 0xfff, (unsigned)(0x8000 | ((b >> 48) & 0x3fff)),
             (unsigned long long)(b & 0xffffffffffffull));
}

void ks_store_suffix_locked(ks_store *st, char *out, int n)
{
    static const char alpha[] = "bcdfghjklmnpqrstvwxz2456789";
    for (int i = 0; i < n; i++)
        out[i] = alpha[ks_store_rand_locked(st) % (sizeof alpha - 1)];
    out[n] = 0;
}
