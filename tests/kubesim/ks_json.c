/*
 * ks_json.c - json-c path helpers, API time stamps and a YAML to json-c
 * converter built on libyaml's event parser (a stack of open containers).
 */
#include "ks_json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <yaml.h>

/* Copy the next path segment of *p into seg; advance *p. 0 at the end. */
static int next_seg(const char **p, char *seg, size_t cap)
{
    const char *s = *p;
    if (!*s)
        return 0;
    const char *dot = strchr(s, '.');
    size_t n = dot ? (size_t)(dot - s) : strlen(s);
    if (n >= cap)
        n = cap - 1;
    memcpy(seg, s, n);
    seg[n] = 0;
    *p = dot ? dot + 1 : s + strlen(s);
    return 1;
}

json_object *ks_json_get(json_object *o, const char *path)
{
    char seg[256];
    const char *p = path;
    while (o && next_seg(&p, seg, sizeof seg)) {
        if (!json_object_is_type(o, json_type_object))
            return NULL;
        json_object *c = NULL;
        if (!json_object_object_get_ex(o, seg, &c))
            return NULL;
        o = c;
    }
    return o;
}

const char *ks_json_str(json_object *o, const char *path)
{
    json_object *v = ks_json_get(o, path);
    return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

int64_t ks_json_int(json_object *o, const char *path, int64_t def)
{
    json_object *v = ks_json_get(o, path);
    if (!v || !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
        return def;
    return json_object_get_int64(v);
}

json_object *ks_json_mkpath(json_object *o, const char *path)
{
    char seg[256];
    const char *p = path;
    while (o && next_seg(&p, seg, sizeof seg)) {
        json_object *c = NULL;
        if (!json_object_object_get_ex(o, seg, &c) || !json_object_is_type(c, json_type_object)) {
            c = json_object_new_object();
            if (!c || json_object_object_add(o, seg, c) != 0)
                return NULL;
        }
        o = c;
    }
    return o;
}

int ks_json_set(json_object *o, const char *path, json_object *val)
{
    const char *last = strrchr(path, '.');
    json_object *parent = o;
    if (last) {
        char head[512];
        size_t n = (size_t)(last - path);
        if (n >= sizeof head) {
            json_object_put(val);
            return -EINVAL;
        }
        memcpy(head, path, n);
        head[n] = 0;
        parent = ks_json_mkpath(o, head);
        last++;
    } else {
        last = path;
    }
    if (!parent || !json_object_is_type(parent, json_type_object)) {
        json_object_put(val);
        return -ENOMEM;
    }
    if (!val) {
        json_object_object_del(parent, last);
        return 0;
    }
    return json_object_object_add(parent, last, val) == 0 ? 0 : -ENOMEM;
}

int ks_json_set_str(json_object *o, const char *path, const char *s)
{
    return ks_json_set(o, path, s ? json_object_new_string(s) : NULL);
}

int ks_json_set_int(json_object *o, const char *path, int64_t v)
{
    return ks_json_set(o, path, json_object_new_int64(v));
}

json_object *ks_json_copy(json_object *o)
{
    json_object *d = NULL;
    if (!o || json_object_deep_copy(o, &d, NULL) != 0)
        return NULL;
    return d;
}

const char *ks_json_dump(json_object *o, size_t *len)
{
    size_t n = 0;
    const char *s = json_object_to_json_string_length(
        o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
    if (len)
        *len = n;
    return s;
}

void ks_time_rfc3339(char out[32], time_t t)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void ks_time_micro(char out[40])
{
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    char b[32];
    strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 40, "%s.%06ldZ", b, (long)tv.tv_usec);
}

/* ---- YAML ---- */

/* Typed value for a plain scalar (YAML 1.2 core schema, plus yes/no left as strings). */
static json_object *scalar_value(const char *v, size_t n, int plain)
{
    if (!plain)
        return json_object_new_string_len(v, (int)n);
    if (n == 0 || (n == 1 && v[0] == '~') || (n == 4 && !memcmp(v, "null", 4)) ||
        (n == 4 && !memcmp(v, "Null", 4)) || (n == 4 && !memcmp(v, "NULL", 4)))
        return NULL;
    if ((n == 4 && (!memcmp(v, "true", 4) || !memcmp(v, "True", 4) || !memcmp(v, "TRUE", 4))))
        return json_object_new_boolean(1);
    if ((n == 5 && (!memcmp(v, "false", 5) || !memcmp(v, "False", 5) || !memcmp(v, "FALSE", 5))))
        return json_object_new_boolean(0);
    char tmp[64];
    if (n < sizeof tmp) {
        memcpy(tmp, v, n);
        tmp[n] = 0;
        char *end = NULL;
        errno = 0;
        int isnum = (tmp[0] == '-' || tmp[0] == '+' || (tmp[0] >= '0' && tmp[0] <= '9'));
        if (isnum) {
            long long ll = strtoll(tmp, &end, 10);
            if (end && *end == 0 && errno == 0 && !(tmp[0] == '0' && n > 1))
                return json_object_new_int64(ll);
            errno = 0;
            double d = strtod(tmp, &end);
            if (end && *end == 0 && errno == 0 && strpbrk(tmp, ".eE") && !strpbrk(tmp, "xX"))
                return json_object_new_double(d);
        }
    }
    return json_object_new_string_len(v, (int)n);
}

#define YDEPTH 128

typedef struct ystate {
    json_object *stack[YDEPTH];
    char *keys[YDEPTH];  /* pending key for a mapping at this level */
    int depth;
    json_object *docs;
} ystate;

/* Attach v to the current container (or as a document). Takes v. */
static int yattach(ystate *y, json_object *v, int is_key_candidate, const char *s, size_t n)
{
    if (y->depth == 0) {
        json_object_array_add(y->docs, v);
        return 0;
    }
    json_object *top = y->stack[y->depth - 1];
    if (json_object_is_type(top, json_type_array)) {
        json_object_array_add(top, v);
        return 0;
    }
    if (!y->keys[y->depth - 1]) {
        if (!is_key_candidate) {
            json_object_put(v);
            return -EINVAL; /* complex keys are not JSON */
        }
        y->keys[y->depth - 1] = strndup(s, n);
        json_object_put(v);
        return y->keys[y->depth - 1] ? 0 : -ENOMEM;
    }
    json_object_object_add(top, y->keys[y->depth - 1], v);
    free(y->keys[y->depth - 1]);
    y->keys[y->depth - 1] = NULL;
    return 0;
}

int ks_yaml_parse_all(const char *buf, size_t len, json_object **out, char *err, size_t errlen)
{
    yaml_parser_t p;
    yaml_event_t ev;
    ystate y;
    int rc = 0, done = 0;
    memset(&y, 0, sizeof y);
    y.docs = json_object_new_array();
    if (!y.docs)
        return -ENOMEM;
    if (!yaml_parser_initialize(&p)) {
        json_object_put(y.docs);
        return -ENOMEM;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
    while (!done) {
        if (!yaml_parser_parse(&p, &ev)) {
            if (err)
                snprintf(err, errlen, "yaml: %s at line %zu", p.problem ? p.problem : "error",
                         p.problem_mark.line + 1);
            rc = -EINVAL;
            break;
        }
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        case YAML_MAPPING_START_EVENT:
        case YAML_SEQUENCE_START_EVENT:
            if (y.depth >= YDEPTH) {
                if (err)
                    snprintf(err, errlen, "yaml: nesting deeper than %d", YDEPTH);
                rc = -EINVAL;
                break;
            }
            if (y.depth > 0 && json_object_is_type(y.stack[y.depth - 1], json_type_object) &&
                !y.keys[y.depth - 1]) {
                if (err)
                    snprintf(err, errlen, "yaml: complex mapping keys are not supported");
                rc = -EINVAL;
                break;
            }
            y.stack[y.depth] = ev.type == YAML_MAPPING_START_EVENT ? json_object_new_object()
                                                                    : json_object_new_array();
            y.keys[y.depth] = NULL;
            y.depth++;
            break;
        case YAML_MAPPING_END_EVENT:
        case YAML_SEQUENCE_END_EVENT: {
            y.depth--;
            json_object *v = y.stack[y.depth];
            free(y.keys[y.depth]);
            y.keys[y.depth] = NULL;
            rc = yattach(&y, v, 0, NULL, 0);
            if (rc && err)
                snprintf(err, errlen, "yaml: complex mapping keys are not supported");
            break;
        }
        case YAML_SCALAR_EVENT: {
            const char *s = (const char *)ev.data.scalar.value;
            size_t n = ev.data.scalar.length;
            int plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
            rc = yattach(&y, scalar_value(s, n, plain), 1, s, n);
            break;
        }
        case YAML_ALIAS_EVENT:
            if (err)
                snprintf(err, errlen, "yaml: aliases are not supported");
            rc = -EINVAL;
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
        if (rc)
            break;
    }
    yaml_parser_delete(&p);
    while (y.depth > 0) {
        y.depth--;
        json_object_put(y.stack[y.depth]);
        free(y.keys[y.depth]);
    }
    if (rc) {
        json_object_put(y.docs);
        return rc;
    }
    *out = y.docs;
    return 0;
}

int ks_yaml_parse(const char *buf, size_t len, json_object **out, char *err, size_t errlen)
{
    json_object *docs = NULL;
    int rc = ks_yaml_parse_all(buf, len, &docs, err, errlen);
    if (rc)
        return rc;
    size_t n = json_object_array_length(docs);
    json_object *d = NULL;
    for (size_t i = 0; i < n; i++) {
        json_object *c = json_object_array_get_idx(docs, i);
        if (c) {
            d = json_object_get(c);
            break;
        }
    }
    json_object_put(docs);
    if (!d) {
        if (err)
            snprintf(err, errlen, "empty document");
        return -EINVAL;
    }
    *out = d;
    return 0;
}

int ks_body_parse(const char *buf, size_t len, json_object **out, char *err, size_t errlen)
{
    size_t i = 0;
    while (i < len && (buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\r' || buf[i] == '\t'))
        i++;
    if (i < len && (buf[i] == '{' || buf[i] == '[')) {
        json_tokener *tok = json_tokener_new_ex(256);
        if (!tok)
            return -ENOMEM;
        json_object *o = json_tokener_parse_ex(tok, buf, (int)len);
        enum json_tokener_error e = json_tokener_get_error(tok);
        size_t used = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);
        if (o && e == json_tokener_success) {
            while (used < len && (buf[used] == ' ' || buf[used] == '\n' || buf[used] == '\r' ||
                                  buf[used] == '\t'))
                used++;
            if (used == len) {
                *out = o;
                return 0;
            }
        }
        json_object_put(o);
        if (err)
            snprintf(err, errlen, "invalid JSON: %s", json_tokener_error_desc(e));
        return -EINVAL;
    }
    return ks_yaml_parse(buf, len, out, err, errlen);
}
