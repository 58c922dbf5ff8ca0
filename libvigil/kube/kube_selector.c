/*
 * kube_selector.c - label selector parser and matcher (equality- and
 * set-based requirements, as kubectl -l accepts).
 */
#include "kube_selector.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { OP_EQ, OP_NE, OP_IN, OP_NOTIN, OP_EXISTS, OP_NOTEXISTS } sel_op;

typedef struct req {
    char *key;
    sel_op op;
    char **values;
    size_t nvalues;
} req;

struct kube_selector {
    req *reqs;
    size_t n;
};

void kube_selector_free(kube_selector *sel)
{
    if (!sel)
        return;
    for (size_t i = 0; i < sel->n; i++) {
        free(sel->reqs[i].key);
        for (size_t k = 0; k < sel->reqs[i].nvalues; k++)
            free(sel->reqs[i].values[k]);
        free(sel->reqs[i].values);
    }
    free(sel->reqs);
    free(sel);
}

bool kube_selector_empty(const kube_selector *sel) { return sel->n == 0; }

static bool name_ch(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == '/';
}

static void sp(const char **p)
{
    while (**p == ' ' || **p == '\t')
        (*p)++;
}

static char *word(const char **p, bool allow_empty)
{
    sp(p);
    const char *s = *p;
    while (name_ch(**p))
        (*p)++;
    if (*p == s && !allow_empty)
        return NULL;
    return strndup(s, (size_t)(*p - s));
}

static int add_value(req *r, char *v)
{
    char **nv = realloc(r->values, (r->nvalues + 1) * sizeof *nv);
    if (!nv) {
        free(v);
        return -ENOMEM;
    }
    r->values = nv;
    r->values[r->nvalues++] = v;
    return 0;
}

static int add_req(kube_selector *sel, req *r)
{
    req *nr = realloc(sel->reqs, (sel->n + 1) * sizeof *nr);
    if (!nr)
        return -ENOMEM;
    sel->reqs = nr;
    sel->reqs[sel->n++] = *r;
    return 0;
}

int kube_selector_parse(const char *s, kube_selector **out, char *err, size_t errlen)
{
    kube_selector *sel = calloc(1, sizeof *sel);
    if (!sel)
        return -ENOMEM;
    const char *p = s;
    int rc = 0;
    sp(&p);
    while (*p) {
        req r = {NULL, OP_EXISTS, NULL, 0};
        if (*p == '!') {
            p++;
            r.op = OP_NOTEXISTS;
        }
        r.key = word(&p, false);
        if (!r.key) {
            rc = -EINVAL;
            goto bad;
        }
        sp(&p);
        if (r.op == OP_NOTEXISTS) {
            /* nothing more */
        } else if (p[0] == '=' || (p[0] == '!' && p[1] == '=')) {
            r.op = p[0] == '!' ? OP_NE : OP_EQ;
            p += p[0] == '!' ? 2 : (p[1] == '=' ? 2 : 1);
            char *v = word(&p, true);
            if (!v || (rc = add_value(&r, v))) {
                rc = rc ? rc : -ENOMEM;
                goto bad;
            }
        } else if (strncmp(p, "in", 2) == 0 || strncmp(p, "notin", 5) == 0) {
            r.op = p[0] == 'i' ? OP_IN : OP_NOTIN;
            p += r.op == OP_IN ? 2 : 5;
            sp(&p);
            if (*p != '(') {
                rc = -EINVAL;
                goto bad;
            }
            p++;
            for (;;) {
                char *v = word(&p, true);
                if (!v || (rc = add_value(&r, v))) {
                    rc = rc ? rc : -ENOMEM;
                    goto bad;
                }
                sp(&p);
                if (*p == ',') {
                    p++;
                    continue;
                }
                if (*p == ')') {
                    p++;
                    break;
                }
                rc = -EINVAL;
                goto bad;
            }
        }
        if ((rc = add_req(sel, &r)))
            goto bad;
        sp(&p);
        if (*p == ',') {
            p++;
            sp(&p);
            if (!*p) {
                rc = -EINVAL;
                goto out;
            }
        } else if (*p) {
            rc = -EINVAL;
            goto out;
        }
        continue;
    bad:
        free(r.key);
        for (size_t k = 0; k < r.nvalues; k++)
            free(r.values[k]);
        free(r.values);
        goto out;
    }
out:
    if (rc) {
        if (err && errlen)
            snprintf(err, errlen, "invalid label selector at offset %zu: \"%s\"", (size_t)(p - s), s);
        kube_selector_free(sel);
        return rc;
    }
    *out = sel;
    return 0;
}

int kube_selector_from_labels(const kube_kv *kv, size_t n, kube_selector **out)
{
    kube_selector *sel = calloc(1, sizeof *sel);
    if (!sel)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        req r = {strdup(kv[i].key), OP_EQ, NULL, 0};
        char *v = strdup(kv[i].value);
        if (!r.key || !v || add_value(&r, v) || add_req(sel, &r)) {
            free(r.key);
            kube_selector_free(sel);
            return -ENOMEM;
        }
    }
    *out = sel;
    return 0;
}

static const char *lookup(const kube_kv *labels, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(labels[i].key, key) == 0)
            return labels[i].value;
    return NULL;
}

bool kube_selector_matches(const kube_selector *sel, const kube_kv *labels, size_t nlabels)
{
    for (size_t i = 0; i < sel->n; i++) {
        const req *r = &sel->reqs[i];
        const char *v = lookup(labels, nlabels, r->key);
        bool in = false;
        for (size_t k = 0; v && k < r->nvalues; k++)
            in = in || strcmp(v, r->values[k]) == 0;
        switch (r->op) {
        case OP_EXISTS: if (!v) return false; break;
        case OP_NOTEXISTS: if (v) return false; break;
        case OP_EQ:
        case OP_IN: if (!in) return false; break;
        case OP_NE:
        case OP_NOTIN: if (in) return false; break;
        }
    }
    return true;
}
