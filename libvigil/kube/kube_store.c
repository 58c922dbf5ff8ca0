/*
 * kube_store.c - open-addressing hash of objects keyed by (ns, name), plus
 * per-index hash maps from a value to a posting list of objects.
 *
 * The primary table stores only a hash and the object pointer; the key is
 * read from the object itself, so a cached pod pays 16 bytes of table per
 * slot and no key copy. Posting lists are unordered; removal is a scan of
 * one list (lists are per node/owner/namespace, short except namespaces).
 */
#include "kube_store.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TOMB ((kube_obj *)(uintptr_t)1)

typedef struct slot {
    uint64_t hash;
    kube_obj *o;     /* NULL empty, TOMB deleted */
} slot;

typedef struct posting {
    char *key;
    uint64_t hash;
    kube_obj **v;
    uint32_t n, cap;
} posting;

typedef struct pmap {
    posting **t;     /* NULL empty; postings are freed when empty */
    size_t cap, used;
    size_t bytes;
} pmap;

struct kube_store {
    pthread_rwlock_t lock;
    slot *t;
    size_t cap, len, used;   /* used counts tombstones too */
    size_t obj_bytes;
    pmap idx[KUBE_IDX_COUNT];
};

static uint64_t fnv(uint64_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static uint64_t key_hash(const char *ns, const char *name)
{
    uint64_t h = fnv(14695981039346656037ULL, ns ? ns : "");
    h = (h ^ 0xff) * 1099511628211ULL;
    return fnv(h, name);
}

int kube_store_new(kube_store **out)
{
    kube_store *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    pthread_rwlock_init(&s->lock, NULL);
    *out = s;
    return 0;
}

static void pmap_release(pmap *m)
{
    for (size_t i = 0; i < m->cap; i++) {
        if (m->t[i]) {
            free(m->t[i]->key);
            free(m->t[i]->v);
            free(m->t[i]);
        }
    }
    free(m->t);
    memset(m, 0, sizeof *m);
}

void kube_store_clear(kube_store *s)
{
    pthread_rwlock_wrlock(&s->lock);
    for (size_t i = 0; i < s->cap; i++)
        if (s->t[i].o && s->t[i].o != TOMB)
            kube_obj_free(s->t[i].o);
    free(s->t);
    s->t = NULL;
    s->cap = s->len = s->used = s->obj_bytes = 0;
    for (int i = 0; i < KUBE_IDX_COUNT; i++)
        pmap_release(&s->idx[i]);
    pthread_rwlock_unlock(&s->lock);
}

void kube_store_free(kube_store *s)
{
    if (!s)
        return;
    kube_store_clear(s);
    pthread_rwlock_destroy(&s->lock);
    free(s);
}

void kube_store_rdlock(kube_store *s) { pthread_rwlock_rdlock(&s->lock); }
void kube_store_unlock(kube_store *s) { pthread_rwlock_unlock(&s->lock); }

static bool same(const kube_obj *o, const char *ns, const char *name)
{
    return strcmp(o->meta.name, name) == 0 && strcmp(o->meta.ns, ns ? ns : "") == 0;
}

/* index of the slot holding (ns,name), or of the first free slot for it */
static size_t find(const kube_store *s, uint64_t h, const char *ns, const char *name, bool *found)
{
    size_t mask = s->cap - 1, i = h & mask, tomb = SIZE_MAX;
    for (;;) {
        slot *sl = &s->t[i];
        if (!sl->o) {
            *found = false;
            return tomb != SIZE_MAX ? tomb : i;
        }
        if (sl->o == TOMB) {
            if (tomb == SIZE_MAX)
                tomb = i;
        } else if (sl->hash == h && same(sl->o, ns, name)) {
            *found = true;
            return i;
        }
        i = (i + 1) & mask;
    }
}

static int grow(kube_store *s)
{
    size_t ncap = s->cap ? s->cap * 2 : 64;
    if (s->len * 2 < s->cap)
        ncap = s->cap; /* mostly tombstones: rehash in place size */
    slot *nt = calloc(ncap, sizeof *nt);
    if (!nt)
        return -ENOMEM;
    for (size_t i = 0; i < s->cap; i++) {
        kube_obj *o = s->t[i].o;
        if (!o || o == TOMB)
            continue;
        size_t k = s->t[i].hash & (ncap - 1);
        while (nt[k].o)
            k = (k + 1) & (ncap - 1);
        nt[k] = s->t[i];
    }
    free(s->t);
    s->t = nt;
    s->cap = ncap;
    s->used = s->len;
    return 0;
}

/* ---- postings ---- */

static posting **pfind(pmap *m, uint64_t h, const char *key)
{
    if (!m->cap)
        return NULL;
    size_t mask = m->cap - 1, i = h & mask;
    while (m->t[i]) {
        if (m->t[i]->hash == h && strcmp(m->t[i]->key, key) == 0)
            return &m->t[i];
        i = (i + 1) & mask;
    }
    return &m->t[i];
}

static int pgrow(pmap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 16;
    posting **nt = calloc(ncap, sizeof *nt);
    if (!nt)
        return -ENOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->t[i])
            continue;
        size_t k = m->t[i]->hash & (ncap - 1);
        while (nt[k])
            k = (k + 1) & (ncap - 1);
        nt[k] = m->t[i];
    }
    free(m->t);
    m->bytes += (ncap - m->cap) * sizeof *nt;
    m->t = nt;
    m->cap = ncap;
    return 0;
}

static int padd(pmap *m, const char *key, kube_obj *o)
{
    if (!key || !key[0])
        return 0;
    if ((m->used + 1) * 4 >= m->cap * 3 && pgrow(m))
        return -ENOMEM;
    uint64_t h = fnv(14695981039346656037ULL, key);
    posting **pp = pfind(m, h, key);
    if (!*pp) {
        posting *p = calloc(1, sizeof *p);
        if (!p || !(p->key = strdup(key))) {
            free(p);
            return -ENOMEM;
        }
        p->hash = h;
        *pp = p;
        m->used++;
        m->bytes += sizeof *p + strlen(key) + 1;
    }
    posting *p = *pp;
    if (p->n == p->cap) {
        uint32_t nc = p->cap ? p->cap * 2 : 2;
        kube_obj **nv = realloc(p->v, nc * sizeof *nv);
        if (!nv)
            return -ENOMEM;
        m->bytes += (nc - p->cap) * sizeof *nv;
        p->v = nv;
        p->cap = nc;
    }
    p->v[p->n++] = o;
    return 0;
}

/* Remove o from key's posting; an emptied posting is deleted by
 * re-inserting the rest of its cluster (no tombstones in pmaps). */
static void pdel(pmap *m, const char *key, const kube_obj *o)
{
    if (!key || !key[0] || !m->cap)
        return;
    uint64_t h = fnv(14695981039346656037ULL, key);
    posting **pp = pfind(m, h, key);
    if (!*pp)
        return;
    posting *p = *pp;
    for (uint32_t i = 0; i < p->n; i++) {
        if (p->v[i] == o) {
            p->v[i] = p->v[--p->n];
            break;
        }
    }
    if (p->n)
        return;
    m->bytes -= sizeof *p + strlen(p->key) + 1 + p->cap * sizeof(kube_obj *);
    free(p->key);
    free(p->v);
    free(p);
    size_t mask = m->cap - 1, i = (size_t)(pp - m->t);
    m->t[i] = NULL;
    m->used--;
    for (size_t k = (i + 1) & mask; m->t[k]; k = (k + 1) & mask) {
        posting *q = m->t[k];
        m->t[k] = NULL;
        size_t j = q->hash & mask;
        while (m->t[j])
            j = (j + 1) & mask;
        m->t[j] = q;
    }
}

static int index_add(kube_store *s, kube_obj *o)
{
    int rc = padd(&s->idx[KUBE_IDX_NAMESPACE], o->meta.ns, o);
    if (!rc && o->kind == KUBE_OBJ_POD)
        rc = padd(&s->idx[KUBE_IDX_NODE], o->u.pod.node, o);
    for (size_t i = 0; !rc && i < o->meta.nowners; i++)
        rc = padd(&s->idx[KUBE_IDX_OWNER], o->meta.owners[i].uid, o);
    return rc;
}

static void index_del(kube_store *s, kube_obj *o)
{
    pdel(&s->idx[KUBE_IDX_NAMESPACE], o->meta.ns, o);
    if (o->kind == KUBE_OBJ_POD)
        pdel(&s->idx[KUBE_IDX_NODE], o->u.pod.node, o);
    for (size_t i = 0; i < o->meta.nowners; i++)
        pdel(&s->idx[KUBE_IDX_OWNER], o->meta.owners[i].uid, o);
}

int kube_store_put(kube_store *s, kube_obj *o, kube_obj **old)
{
    int rc = 0;
    *old = NULL;
    pthread_rwlock_wrlock(&s->lock);
    if ((s->used + 1) * 10 >= s->cap * 7 && (rc = grow(s)))
        goto out;
    uint64_t h = key_hash(o->meta.ns, o->meta.name);
    bool found;
    size_t i = find(s, h, o->meta.ns, o->meta.name, &found);
    kube_obj *prev = found ? s->t[i].o : NULL;
    if (prev)
        index_del(s, prev);
    if ((rc = index_add(s, o))) {
        index_del(s, o);
        if (prev)
            index_add(s, prev); /* best effort: memory was there a moment ago */
        goto out;
    }
    if (!found) {
        if (!s->t[i].o)
            s->used++;
        s->len++;
    } else {
        s->obj_bytes -= prev->size;
    }
    s->t[i].hash = h;
    s->t[i].o = o;
    s->obj_bytes += o->size;
    *old = prev;
out:
    pthread_rwlock_unlock(&s->lock);
    return rc;
}

kube_obj *kube_store_del(kube_store *s, const char *ns, const char *name)
{
    kube_obj *o = NULL;
    pthread_rwlock_wrlock(&s->lock);
    if (s->cap) {
        bool found;
        size_t i = find(s, key_hash(ns, name), ns, name, &found);
        if (found) {
            o = s->t[i].o;
            s->t[i].o = TOMB;
            s->len--;
            s->obj_bytes -= o->size;
            index_del(s, o);
        }
    }
    pthread_rwlock_unlock(&s->lock);
    return o;
}

void kube_store_swap(kube_store *a, kube_store *b)
{
    if (a == b)
        return;
    /* fixed order avoids lock inversion */
    kube_store *x = a < b ? a : b, *y = a < b ? b : a;
    pthread_rwlock_wrlock(&x->lock);
    pthread_rwlock_wrlock(&y->lock);
    kube_store tmp;
    memcpy(&tmp, a, sizeof tmp);
    size_t off = offsetof(kube_store, t);
    memcpy((char *)a + off, (char *)b + off, sizeof tmp - off);
    memcpy((char *)b + off, (char *)&tmp + off, sizeof tmp - off);
    pthread_rwlock_unlock(&y->lock);
    pthread_rwlock_unlock(&x->lock);
}

const kube_obj *kube_store_get(kube_store *s, const char *ns, const char *name)
{
    if (!s->cap)
        return NULL;
    bool found;
    size_t i = find(s, key_hash(ns, name), ns, name, &found);
    return found ? s->t[i].o : NULL;
}

size_t kube_store_len(kube_store *s) { return s->len; }

size_t kube_store_bytes(kube_store *s)
{
    size_t b = s->obj_bytes + s->cap * sizeof(slot);
    for (int i = 0; i < KUBE_IDX_COUNT; i++)
        b += s->idx[i].bytes;
    return b;
}

int kube_store_each(kube_store *s, kube_obj_fn fn, void *ud)
{
    for (size_t i = 0; i < s->cap; i++) {
        kube_obj *o = s->t[i].o;
        if (o && o != TOMB) {
            int rc = fn(ud, o);
            if (rc)
                return rc;
        }
    }
    return 0;
}

int kube_store_each_indexed(kube_store *s, kube_index idx, const char *value, kube_obj_fn fn, void *ud)
{
    if ((unsigned)idx >= KUBE_IDX_COUNT)
        return -EINVAL;
    posting **pp = pfind(&s->idx[idx], fnv(14695981039346656037ULL, value), value);
    if (!pp || !*pp)
        return 0;
    for (uint32_t i = 0; i < (*pp)->n; i++) {
        int rc = fn(ud, (*pp)->v[i]);
        if (rc)
            return rc;
    }
    return 0;
}

typedef struct selctx {
    const kube_selector *sel;
    kube_obj_fn fn;
    void *ud;
} selctx;

static int sel_visit(void *ud, const kube_obj *o)
{
    selctx *c = ud;
    return kube_selector_matches(c->sel, o->meta.labels, o->meta.nlabels) ? c->fn(c->ud, o) : 0;
}

int kube_store_each_selected(kube_store *s, const char *ns, const kube_selector *sel, kube_obj_fn fn, void *ud)
{
    selctx c = {sel, fn, ud};
    if (ns && ns[0])
        return kube_store_each_indexed(s, KUBE_IDX_NAMESPACE, ns, sel_visit, &c);
    return kube_store_each(s, sel_visit, &c);
}
