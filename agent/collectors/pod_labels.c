/*
 * pod_labels.c - this node's pods from the API server, reduced to their
 * allowlisted label values in a UID-keyed map.
 */
#include "pod_labels.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube_client.h"
#include "kube/kube_config.h"
#include "kube/kube_informer.h"

#ifndef VG_VERSION
#define VG_VERSION "dev"
#endif

#define NBUCKETS 256
#define KEY_MAX 317   /* a label key: 253-byte prefix, '/', 63-byte name */

typedef struct entry {
    struct entry *next;
    uint64_t hash;
    char *uid;        /* normalised: '_' -> '-' */
    char *vals;       /* count NUL-terminated values back to back */
} entry;

struct pod_labels {
    size_t n;
    char *keys[POD_LABELS_MAX];    /* Kubernetes label keys */
    char *names[POD_LABELS_MAX];   /* "label_<sanitised>" */
    vg_log *log;
    kube_config *kcfg;
    kube_client *client;
    kube_informer *inf;
    char *fsel;
    pthread_mutex_t mu;            /* the map */
    entry *buckets[NBUCKETS];
    size_t npods;
};

__attribute__((format(printf, 3, 4))) static void errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* FNV-1a over the UID with '_' read as '-' (systemd's cgroup names). */
static uint64_t uid_hash(const char *s)
{
    uint64_t h = 14695981039346656037ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)(*s == '_' ? '-' : *s)) * 1099511628211ULL;
    return h;
}

static bool uid_eq(const char *norm, const char *s)
{
    for (; *norm && *s; norm++, s++)
        if (*norm != (*s == '_' ? '-' : *s))
            return false;
    return *norm == *s;
}

/* A label key as Kubernetes validates it: optional DNS-subdomain prefix
 * and '/', then 1-63 of [A-Za-z0-9._-] starting and ending alphanumeric. */
static bool key_valid(const char *k, size_t len)
{
    const char *slash = memchr(k, '/', len);
    const char *name = slash ? slash + 1 : k;
    size_t nlen = len - (size_t)(name - k);
    if (slash && (slash == k || slash - k > 253))
        return false;
    for (const char *p = k; slash && p < slash; p++)
        if (!(isalnum((unsigned char)*p) || *p == '.' || *p == '-'))
            return false;
    if (nlen == 0 || nlen > 63 || !isalnum((unsigned char)name[0]) || !isalnum((unsigned char)name[nlen - 1]))
        return false;
    for (size_t i = 0; i < nlen; i++)
        if (!(isalnum((unsigned char)name[i]) || name[i] == '.' || name[i] == '-' || name[i] == '_'))
            return false;
    return true;
}

static int parse_allowlist(pod_labels *pl, const char *list, char *err, size_t errlen)
{
    const char *p = list;
    while (*p) {
        const char *end = p + strcspn(p, ",");
        const char *a = p, *b = end;
        while (a < b && isspace((unsigned char)*a))
            a++;
        while (b > a && isspace((unsigned char)b[-1]))
            b--;
        size_t len = (size_t)(b - a);
        p = *end ? end + 1 : end;
        if (!len)
            continue;
        if (len > KEY_MAX || !key_valid(a, len)) {
            errf(err, errlen, "--pod-labels-allowlist: \"%.*s\" is not a Kubernetes label key", (int)len, a);
            return -EINVAL;
        }
        if (pl->n == POD_LABELS_MAX) {
            errf(err, errlen, "--pod-labels-allowlist: more than %d keys", POD_LABELS_MAX);
            return -EINVAL;
        }
        char *key = strndup(a, len);
        char *name = malloc(len + 7);
        if (!key || !name) {
            free(key);
            free(name);
            return -ENOMEM;
        }
        memcpy(name, "label_", 6);
        for (size_t i = 0; i < len; i++)
            name[6 + i] = isalnum((unsigned char)a[i]) ? a[i] : '_';
        name[6 + len] = '\0';
        for (size_t i = 0; i < pl->n; i++) {
            if (strcmp(pl->names[i], name) == 0) {
                errf(err, errlen, "--pod-labels-allowlist: \"%s\" and \"%s\" both become %s", pl->keys[i], key,
                     name);
                free(key);
                free(name);
                return -EINVAL;
            }
        }
        pl->keys[pl->n] = key;
        pl->names[pl->n++] = name;
    }
    if (!pl->n) {
        errf(err, errlen, "--pod-labels-allowlist is empty");
        return -EINVAL;
    }
    return 0;
}

/* ---- the map ---- */

static entry **find(pod_labels *pl, const char *uid, uint64_t h)
{
    entry **e = &pl->buckets[h % NBUCKETS];
    while (*e && !((*e)->hash == h && uid_eq((*e)->uid, uid)))
        e = &(*e)->next;
    return e;
}

static void entry_free(entry *e)
{
    if (!e)
        return;
    free(e->uid);
    free(e->vals);
    free(e);
}

void pod_labels_apply(pod_labels *pl, const kube_obj *pod, bool deleted)
{
    const char *uid = pod->meta.uid;
    if (!uid || !uid[0])
        return;
    entry *fresh = NULL;
    if (!deleted) {
        /* values first, outside the lock */
        vg_buf v = VG_BUF_INIT;
        int rc = 0;
        for (size_t i = 0; rc == 0 && i < pl->n; i++) {
            const char *val = "";
            for (uint16_t k = 0; k < pod->meta.nlabels; k++)
                if (strcmp(pod->meta.labels[k].key, pl->keys[i]) == 0)
                    val = pod->meta.labels[k].value;
            rc = vg_buf_append(&v, val, strlen(val) + 1);
        }
        fresh = rc ? NULL : calloc(1, sizeof *fresh);
        if (fresh) {
            fresh->uid = strdup(uid);
            fresh->vals = v.data;
            v.data = NULL;
            for (char *c = fresh->uid; c && *c; c++)
                if (*c == '_')
                    *c = '-';
        }
        vg_buf_release(&v);
        if (!fresh || !fresh->uid) {
            /* the pod keeps its old values (or none): say so once per event */
            vg_log_warn(pl->log, "pods", "pod labels not updated: out of memory", "uid", uid);
            entry_free(fresh);
            return;
        }
        fresh->hash = uid_hash(fresh->uid);
    }
    uint64_t h = uid_hash(uid);
    pthread_mutex_lock(&pl->mu);
    entry **slot = find(pl, uid, h);
    entry *old = *slot;
    if (old) {
        *slot = old->next;
        pl->npods--;
    }
    if (fresh) {
        fresh->next = pl->buckets[h % NBUCKETS];
        pl->buckets[h % NBUCKETS] = fresh;
        pl->npods++;
    }
    pthread_mutex_unlock(&pl->mu);
    entry_free(old);
}

bool pod_labels_lookup(pod_labels *pl, const char *uid, vg_buf *buf, const char **vals)
{
    vg_buf_reset(buf);
    bool found = false;
    pthread_mutex_lock(&pl->mu);
    entry *e = *find(pl, uid, uid_hash(uid));
    if (e) {
        size_t len = 0;
        const char *p = e->vals;
        for (size_t i = 0; i < pl->n; i++) {
            size_t l = strlen(p) + 1;
            len += l;
            p += l;
        }
        found = vg_buf_append(buf, e->vals, len) == 0;
    }
    pthread_mutex_unlock(&pl->mu);
    const char *p = found ? buf->data : "";
    for (size_t i = 0; i < pl->n; i++) {
        vals[i] = p;
        if (found)
            p += strlen(p) + 1;
    }
    return found;
}

size_t pod_labels_count(const pod_labels *pl) { return pl->n; }
const char *pod_labels_name(const pod_labels *pl, size_t i) { return i < pl->n ? pl->names[i] : NULL; }

/* ---- informer ---- */

static void on_add(void *ud, const kube_obj *o) { pod_labels_apply(ud, o, false); }
static void on_update(void *ud, const kube_obj *old, const kube_obj *o) { pod_labels_apply(ud, o, false); }
static void on_delete(void *ud, const kube_obj *o) { pod_labels_apply(ud, o, true); }

void pod_labels_collect(pod_labels *pl, vg_scrape *s)
{
    pthread_mutex_lock(&pl->mu);
    double n = (double)pl->npods;
    pthread_mutex_unlock(&pl->mu);
    vg_family_add(vg_scrape_family(s, "vigil_agent_pod_labels_pods", VG_MT_GAUGE,
                                   "Pods of this node whose labels the agent holds (--pod-labels-allowlist).", 0,
                                   NULL),
                  n);
    vg_family_add(vg_scrape_family(s, "vigil_agent_pod_labels_synced", VG_MT_GAUGE,
                                   "1 when the agent's list of this node's pods has synced with the API server.",
                                   0, NULL),
                  pl->inf && kube_informer_synced(pl->inf) ? 1.0 : 0.0);
}

int pod_labels_new(const pod_labels_opts *o, pod_labels **out, char *err, size_t errlen)
{
    pod_labels *pl = calloc(1, sizeof *pl);
    if (!pl)
        return -ENOMEM;
    pthread_mutex_init(&pl->mu, NULL);
    pl->log = o->log;
    int rc = parse_allowlist(pl, o->allowlist ? o->allowlist : "", err, errlen);
    if (rc)
        goto fail;
    if (!o->no_api) {
        if (!o->node || !o->node[0]) {
            errf(err, errlen, "--pod-labels-allowlist needs this node's name (--node-name or $NODE_NAME)");
            rc = -EINVAL;
            goto fail;
        }
        kube_config_opts ko = {.kubeconfig = o->kubeconfig && o->kubeconfig[0] ? o->kubeconfig : NULL,
                               .log = o->log};
        char kerr[300] = "";
        if ((rc = kube_config_load(&ko, &pl->kcfg, kerr, sizeof kerr))) {
            errf(err, errlen, "--pod-labels-allowlist: Kubernetes client configuration: %s",
                 kerr[0] ? kerr : strerror(-rc));
            rc = rc == -ENOMEM ? rc : -EINVAL;
            goto fail;
        }
        kube_client_opts co = {.user_agent = "vigil-agent/" VG_VERSION, .reg = o->reg};
        if ((rc = kube_client_new(pl->kcfg, &co, &pl->client)))
            goto fail;
        rc = -ENOMEM;
        if (asprintf(&pl->fsel, "spec.nodeName=%s", o->node) < 0) {
            pl->fsel = NULL;
            goto fail;
        }
        kube_informer_opts io = {
            .name = "pods",
            .gvr = &kube_gvr_pods,
            .kind = KUBE_OBJ_POD,
            .field_selector = pl->fsel,
            .handlers = {on_add, on_update, on_delete, NULL, pl},
            .log = o->log,
        };
        if ((rc = kube_informer_new(pl->client, &io, &pl->inf)))
            goto fail;
    }
    *out = pl;
    return 0;
fail:
    pod_labels_free(pl);
    return rc;
}

int pod_labels_from_config(const vg_config *cfg, vg_log *log, vg_registry *reg, pod_labels **out, char *err,
                           size_t errlen)
{
    const char *list = vg_config_str(cfg, "pod-labels-allowlist");
    *out = NULL;
    if (!list[0])
        return 0;
    const char *node = vg_config_str(cfg, "node-name");
    if (!node[0] && getenv("NODE_NAME"))
        node = getenv("NODE_NAME");
    pod_labels_opts o = {.allowlist = list, .node = node, .kubeconfig = vg_config_str(cfg, "kubeconfig"),
                         .log = log, .reg = reg};
    return pod_labels_new(&o, out, err, errlen);
}

int pod_labels_start(pod_labels *pl) { return pl->inf ? kube_informer_start(pl->inf) : 0; }

void pod_labels_free(pod_labels *pl)
{
    if (!pl)
        return;
    if (pl->client)
        kube_client_stop(pl->client);
    kube_informer_free(pl->inf);
    kube_client_free(pl->client);
    kube_config_free(pl->kcfg);
    free(pl->fsel);
    for (size_t i = 0; i < NBUCKETS; i++) {
        entry *e = pl->buckets[i];
        while (e) {
            entry *n = e->next;
            entry_free(e);
            e = n;
        }
    }
    for (size_t i = 0; i < pl->n; i++) {
        free(pl->keys[i]);
        free(pl->names[i]);
    }
    pthread_mutex_destroy(&pl->mu);
    free(pl);
}
