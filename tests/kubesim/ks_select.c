/*
 * ks_select.c - a hand-written scanner for selector strings (the grammar
 * of apimachinery's labels package, re-implemented from its documented
 * syntax) and matching against json-c objects.
 */
#include "ks_select.h"

#include "ks_json.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ks_sel_init(ks_sel *s)
{
    memset(s, 0, sizeof *s);
}

void ks_sel_release(ks_sel *s)
{
    for (int i = 0; i < s->n; i++) {
        free(s->reqs[i].key);
        for (int j = 0; j < s->reqs[i].nvalues; j++)
            free(s->reqs[i].values[j]);
    }
    free(s->reqs);
    memset(s, 0, sizeof *s);
}

static ks_sel_req *add_req(ks_sel *s, const char *key, size_t klen, ks_sel_op op)
{
    ks_sel_req *n = realloc(s->reqs, sizeof *n * (size_t)(s->n + 1));
    if (!n)
        return NULL;
    s->reqs = n;
    ks_sel_req *r = &s->reqs[s->n];
    memset(r, 0, sizeof *r);
    r->key = strndup(key, klen);
    if (!r->key)
        return NULL;
    r->op = op;
    s->n++;
    return r;
}

static int add_val(ks_sel_req *r, const char *v, size_t n)
{
    if (r->nvalues >= KS_SEL_MAX_VALUES)
        return -EINVAL;
    r->values[r->nvalues] = strndup(v, n);
    if (!r->values[r->nvalues])
        return -ENOMEM;
    r->nvalues++;
    return 0;
}

static int is_keych(int c)
{
    return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '/';
}

static int is_valch(int c)
{
    return isalnum(c) || c == '-' || c == '_' || c == '.';
}

static void skip_ws(const char **p)
{
    while (**p == ' ' || **p == '\t')
        (*p)++;
}

static int fail(ks_sel *s, char *err, size_t errlen, const char *text, const char *what)
{
    if (err)
        snprintf(err, errlen, "unable to parse requirement: %s in \"%.200s\"", what, text);
    ks_sel_release(s);
    return -EINVAL;
}

int ks_sel_parse_labels(ks_sel *s, const char *text, char *err, size_t errlen)
{
    ks_sel_init(s);
    const char *p = text ? text : "";
    skip_ws(&p);
    if (!*p)
        return 0;
    for (;;) {
        skip_ws(&p);
        int neg = 0;
        if (*p == '!') {
            neg = 1;
            p++;
            skip_ws(&p);
        }
        const char *k = p;
        while (is_keych((unsigned char)*p))
            p++;
        size_t klen = (size_t)(p - k);
        if (klen == 0 || klen > 316)
            return fail(s, err, errlen, text, "invalid label key");
        skip_ws(&p);
        ks_sel_req *r;
        if (neg) {
            if (*p && *p != ',')
                return fail(s, err, errlen, text, "unexpected text after !key");
            if (!(r = add_req(s, k, klen, KS_OP_NOTEXISTS)))
                return fail(s, err, errlen, text, "out of memory");
        } else if (*p == ',' || *p == 0) {
            if (!(r = add_req(s, k, klen, KS_OP_EXISTS)))
                return fail(s, err, errlen, text, "out of memory");
        } else if (*p == '=' || *p == '!' || *p == '>' || *p == '<') {
            ks_sel_op op;
            if (p[0] == '=' && p[1] == '=') {
                op = KS_OP_EQ;
                p += 2;
            } else if (p[0] == '=') {
                op = KS_OP_EQ;
                p += 1;
            } else if (p[0] == '!' && p[1] == '=') {
                op = KS_OP_NE;
                p += 2;
            } else if (p[0] == '>') {
                op = KS_OP_GT;
                p += 1;
            } else if (p[0] == '<') {
                op = KS_OP_LT;
                p += 1;
            } else {
                return fail(s, err, errlen, text, "invalid operator");
            }
            skip_ws(&p);
            const char *v = p;
            while (is_valch((unsigned char)*p))
                p++;
            size_t vlen = (size_t)(p - v);
            if (vlen > 63)
                return fail(s, err, errlen, text, "invalid label value");
            if ((op == KS_OP_GT || op == KS_OP_LT)) {
                char *e = NULL;
                char tmp[64];
                memcpy(tmp, v, vlen);
                tmp[vlen] = 0;
                strtoll(tmp, &e, 10);
                if (vlen == 0 || *e)
                    return fail(s, err, errlen, text, "for 'Gt', 'Lt' operators, the value must be an integer");
            }
            if (!(r = add_req(s, k, klen, op)) || add_val(r, v, vlen))
                return fail(s, err, errlen, text, "out of memory");
        } else if (!strncmp(p, "in", 2) || !strncmp(p, "notin", 5)) {
            ks_sel_op op = p[0] == 'i' ? KS_OP_IN : KS_OP_NOTIN;
            p += op == KS_OP_IN ? 2 : 5;
            skip_ws(&p);
            if (*p != '(')
                return fail(s, err, errlen, text, "found '(' expected");
            p++;
            if (!(r = add_req(s, k, klen, op)))
                return fail(s, err, errlen, text, "out of memory");
            for (;;) {
                skip_ws(&p);
                const char *v = p;
                while (is_valch((unsigned char)*p))
                    p++;
                size_t vlen = (size_t)(p - v);
                if (vlen > 63 || add_val(r, v, vlen))
                    return fail(s, err, errlen, text, "invalid value list");
                skip_ws(&p);
                if (*p == ',') {
                    p++;
                    continue;
                }
                if (*p == ')') {
                    p++;
                    break;
                }
                return fail(s, err, errlen, text, "found ')' expected");
            }
        } else {
            return fail(s, err, errlen, text, "invalid operator");
        }
        skip_ws(&p);
        if (*p == 0)
            return 0;
        if (*p != ',')
            return fail(s, err, errlen, text, "',' expected");
        p++;
    }
}

int ks_sel_parse_fields(ks_sel *s, const char *text, char *err, size_t errlen)
{
    ks_sel_init(s);
    const char *p = text ? text : "";
    if (!*p)
        return 0;
    for (;;) {
        const char *k = p;
        while (*p && *p != '=' && *p != '!' && *p != ',')
            p++;
        size_t klen = (size_t)(p - k);
        while (klen && k[klen - 1] == ' ')
            klen--;
        while (klen && *k == ' ') {
            k++;
            klen--;
        }
        ks_sel_op op;
        if (p[0] == '=' && p[1] == '=') {
            op = KS_OP_EQ;
            p += 2;
        } else if (p[0] == '=') {
            op = KS_OP_EQ;
            p += 1;
        } else if (p[0] == '!' && p[1] == '=') {
            op = KS_OP_NE;
            p += 2;
        } else {
            if (err)
                snprintf(err, errlen, "invalid selector: '%.200s'; can't understand '%.*s'", text,
                         (int)(klen > 200 ? 200 : klen), k);
            ks_sel_release(s);
            return -EINVAL;
        }
        if (klen == 0) {
            if (err)
                snprintf(err, errlen, "invalid selector: '%.200s'; empty field name", text);
            ks_sel_release(s);
            return -EINVAL;
        }
        const char *v = p;
        while (*p && *p != ',') {
            if (*p == '\\' && p[1])
                p++;
            p++;
        }
        ks_sel_req *r = add_req(s, k, klen, op);
        if (!r || add_val(r, v, (size_t)(p - v))) {
            ks_sel_release(s);
            return -ENOMEM;
        }
        if (!*p)
            return 0;
        p++;
    }
}

int ks_sel_from_json(ks_sel *s, json_object *sel, char *err, size_t errlen)
{
    ks_sel_init(s);
    if (!sel || !json_object_is_type(sel, json_type_object)) {
        s->match_nothing = 1;
        return 0;
    }
    json_object *ml = ks_json_get(sel, "matchLabels");
    if (ml && json_object_is_type(ml, json_type_object)) {
        json_object_object_foreach(ml, k, v) {
            const char *sv = json_object_get_string(v);
            ks_sel_req *r = add_req(s, k, strlen(k), KS_OP_EQ);
            if (!r || add_val(r, sv ? sv : "", strlen(sv ? sv : ""))) {
                ks_sel_release(s);
                return -ENOMEM;
            }
        }
    }
    json_object *me = ks_json_get(sel, "matchExpressions");
    size_t n = me && json_object_is_type(me, json_type_array) ? json_object_array_length(me) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(me, i);
        const char *key = ks_json_str(e, "key"), *op = ks_json_str(e, "operator");
        ks_sel_op o;
        if (!key || !op)
            goto bad;
        if (!strcmp(op, "In"))
            o = KS_OP_IN;
        else if (!strcmp(op, "NotIn"))
            o = KS_OP_NOTIN;
        else if (!strcmp(op, "Exists"))
            o = KS_OP_EXISTS;
        else if (!strcmp(op, "DoesNotExist"))
            o = KS_OP_NOTEXISTS;
        else
            goto bad;
        ks_sel_req *r = add_req(s, key, strlen(key), o);
        if (!r) {
            ks_sel_release(s);
            return -ENOMEM;
        }
        json_object *vals = ks_json_get(e, "values");
        size_t nv = vals && json_object_is_type(vals, json_type_array) ? json_object_array_length(vals) : 0;
        if ((o == KS_OP_IN || o == KS_OP_NOTIN) && nv == 0)
            goto bad;
        for (size_t j = 0; j < nv; j++) {
            const char *sv = json_object_get_string(json_object_array_get_idx(vals, j));
            if (add_val(r, sv ? sv : "", strlen(sv ? sv : "")))
                goto bad;
        }
    }
    return 0;
bad:
    if (err)
        snprintf(err, errlen, "invalid label selector expression");
    ks_sel_release(s);
    return -EINVAL;
}

static int has_value(const ks_sel_req *r, const char *v)
{
    for (int i = 0; i < r->nvalues; i++)
        if (!strcmp(r->values[i], v))
            return 1;
    return 0;
}

int ks_sel_match_labels(const ks_sel *s, json_object *labels)
{
    if (s->match_nothing)
        return 0;
    for (int i = 0; i < s->n; i++) {
        const ks_sel_req *r = &s->reqs[i];
        json_object *v = NULL;
        int present = labels && json_object_is_type(labels, json_type_object) &&
                      json_object_object_get_ex(labels, r->key, &v);
        const char *sv = present ? json_object_get_string(v) : NULL;
        if (!sv)
            sv = "";
        switch (r->op) {
        case KS_OP_EQ:
        case KS_OP_IN:
            if (!present || !has_value(r, sv))
                return 0;
            break;
        case KS_OP_NE:
        case KS_OP_NOTIN:
            if (present && has_value(r, sv))
                return 0;
            break;
        case KS_OP_EXISTS:
            if (!present)
                return 0;
            break;
        case KS_OP_NOTEXISTS:
            if (present)
                return 0;
            break;
        case KS_OP_GT:
        case KS_OP_LT: {
            char *e = NULL;
            long long have = strtoll(sv, &e, 10);
            if (!present || !*sv || *e)
                return 0;
            long long want = strtoll(r->values[0], NULL, 10);
            if (r->op == KS_OP_GT ? !(have > want) : !(have < want))
                return 0;
            break;
        }
        }
    }
    return 1;
}

/* Field value as compared by field selectors. */
static const char *field_value(json_object *obj, const char *path, char *tmp, size_t cap)
{
    json_object *v = ks_json_get(obj, path);
    if (!v)
        return "";
    if (json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    if (json_object_is_type(v, json_type_boolean))
        return json_object_get_boolean(v) ? "true" : "false";
    if (json_object_is_type(v, json_type_int)) {
        snprintf(tmp, cap, "%lld", (long long)json_object_get_int64(v));
        return tmp;
    }
    return "";
}

int ks_sel_match_fields(const ks_sel *s, json_object *obj)
{
    char tmp[32];
    for (int i = 0; i < s->n; i++) {
        const ks_sel_req *r = &s->reqs[i];
        const char *have = field_value(obj, r->key, tmp, sizeof tmp);
        int eq = r->nvalues > 0 && !strcmp(have, r->values[0]);
        if (r->op == KS_OP_EQ ? !eq : eq)
            return 0;
    }
    return 1;
}

int ks_sel_fields_allowed(const ks_sel *s, const char *const *allowed, char *bad, size_t badlen)
{
    for (int i = 0; i < s->n; i++) {
        int ok = 0;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = !strcmp(*a, s->reqs[i].key);
        if (!ok) {
            if (bad)
                snprintf(bad, badlen, "%s", s->reqs[i].key);
            return 0;
        }
    }
    return 1;
}

int ks_sel_format(const ks_sel *s, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = 0;
#define PUT(...)                                                  \
    do {                                                          \
        int w_ = snprintf(out + o, cap - o, __VA_ARGS__);         \
        if (w_ < 0 || (size_t)w_ >= cap - o)                      \
            return -ENOSPC;                                       \
        o += (size_t)w_;                                          \
    } while (0)
    for (int i = 0; i < s->n; i++) {
        const ks_sel_req *r = &s->reqs[i];
        if (i)
            PUT(",");
        switch (r->op) {
        case KS_OP_EQ: PUT("%s=%s", r->key, r->values[0]); break;
        case KS_OP_NE: PUT("%s!=%s", r->key, r->values[0]); break;
        case KS_OP_GT: PUT("%s>%s", r->key, r->values[0]); break;
        case KS_OP_LT: PUT("%s<%s", r->key, r->values[0]); break;
        case KS_OP_EXISTS: PUT("%s", r->key); break;
        case KS_OP_NOTEXISTS: PUT("!%s", r->key); break;
        case KS_OP_IN:
        case KS_OP_NOTIN:
            PUT("%s %s (", r->key, r->op == KS_OP_IN ? "in" : "notin");
            for (int j = 0; j < r->nvalues; j++)
                PUT("%s%s", j ? "," : "", r->values[j]);
            PUT(")");
            break;
        }
    }
#undef PUT
    return 0;
}
