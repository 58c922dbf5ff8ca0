/*
 * ks_fault.c - the fault rule table (a small array under its own mutex).
 */
#include "ks_fault.h"

#include "ks_json.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *kind_names[] = {"", "status", "reset-mid-event", "split", "coalesce", "stream-410", "slow",
                                   "end-early"};

const char *ks_fault_kind_name(int kind)
{
    return kind > 0 && kind < (int)(sizeof kind_names / sizeof kind_names[0]) ? kind_names[kind] : "?";
}

void ks_faults_init(ks_faults *f, uint64_t seed)
{
    memset(f, 0, sizeof *f);
    pthread_mutex_init(&f->mu, NULL);
    f->rng = seed ? seed * 0x2545F4914F6CDD1Dull : 0x853c49e6748fea9bull;
}

void ks_faults_release(ks_faults *f)
{
    pthread_mutex_destroy(&f->mu);
}

int ks_faults_add_json(ks_faults *f, json_object *rule, char *err, size_t errlen)
{
    ks_fault r;
    memset(&r, 0, sizeof r);
    const char *type = ks_json_str(rule, "type");
    if (!type) {
        snprintf(err, errlen, "fault needs a type");
        return -EINVAL;
    }
    for (int k = 1; k < (int)(sizeof kind_names / sizeof kind_names[0]); k++)
        if (!strcmp(type, kind_names[k]))
            r.kind = k;
    if (!r.kind) {
        snprintf(err, errlen, "unknown fault type \"%.100s\"", type);
        return -EINVAL;
    }
    r.code = (int)ks_json_int(rule, "code", r.kind == KS_F_STATUS ? 500 : 0);
    if (r.kind == KS_F_STATUS && r.code != 429 && r.code != 500 && r.code != 503 && r.code != 504 &&
        r.code != 410 && r.code != 409) {
        snprintf(err, errlen, "status fault code must be one of 409 410 429 500 503 504");
        return -EINVAL;
    }
    r.retry_after = (int)ks_json_int(rule, "retryAfter", r.code == 429 || r.code == 503 ? 1 : 0);
    const char *res = ks_json_str(rule, "resource"), *verb = ks_json_str(rule, "verb");
    snprintf(r.resource, sizeof r.resource, "%s", res && strcmp(res, "*") ? res : "");
    snprintf(r.verb, sizeof r.verb, "%s", verb && strcmp(verb, "*") ? verb : "");
    const char *user = ks_json_str(rule, "user");
    snprintf(r.user, sizeof r.user, "%s", user && strcmp(user, "*") ? user : "");
    r.count = (int)ks_json_int(rule, "count", -1);
    json_object *p = ks_json_get(rule, "probability");
    r.probability = p ? json_object_get_double(p) : 1.0;
    if (r.probability < 0 || r.probability > 1) {
        snprintf(err, errlen, "probability must be within [0,1]");
        return -EINVAL;
    }
    r.after_events = (int)ks_json_int(rule, "afterEvents", 0);
    r.delay_ms = (int)ks_json_int(rule, "delayMs", r.kind == KS_F_SLOW ? 200 : 0);
    if (r.after_events < 0 || r.delay_ms < 0 || r.delay_ms > 60000) {
        snprintf(err, errlen, "afterEvents/delayMs out of range");
        return -EINVAL;
    }
    pthread_mutex_lock(&f->mu);
    int rc = 0;
    if (f->n >= KS_MAX_FAULTS) {
        snprintf(err, errlen, "too many fault rules");
        rc = -ENOSPC;
    } else {
        f->rules[f->n++] = r;
    }
    pthread_mutex_unlock(&f->mu);
    return rc;
}

void ks_faults_clear(ks_faults *f)
{
    pthread_mutex_lock(&f->mu);
    f->n = 0;
    pthread_mutex_unlock(&f->mu);
}

json_object *ks_faults_list(ks_faults *f)
{
    json_object *a = json_object_new_array();
    pthread_mutex_lock(&f->mu);
    for (int i = 0; i < f->n; i++) {
        ks_fault *r = &f->rules[i];
        json_object *o = json_object_new_object();
        json_object_object_add(o, "type", json_object_new_string(kind_names[r->kind]));
        if (r->code)
            json_object_object_add(o, "code", json_object_new_int(r->code));
        json_object_object_add(o, "resource", json_object_new_string(r->resource[0] ? r->resource : "*"));
        json_object_object_add(o, "verb", json_object_new_string(r->verb[0] ? r->verb : "*"));
        if (r->user[0])
            json_object_object_add(o, "user", json_object_new_string(r->user));
        json_object_object_add(o, "count", json_object_new_int(r->count));
        json_object_object_add(o, "fired", json_object_new_int64((int64_t)r->fired));
        json_object_array_add(a, o);
    }
    pthread_mutex_unlock(&f->mu);
    return a;
}

int ks_faults_take(ks_faults *f, const char *resource, const char *verb, unsigned kinds, ks_fault *out)
{
    return ks_faults_take_user(f, resource, verb, NULL, kinds, out);
}

int ks_faults_take_user(ks_faults *f, const char *resource, const char *verb, const char *user, unsigned kinds,
                        ks_fault *out)
{
    int hit = 0;
    pthread_mutex_lock(&f->mu);
    for (int i = 0; i < f->n && !hit; i++) {
        ks_fault *r = &f->rules[i];
        if (!(kinds & (1u << r->kind)) || r->count == 0)
            continue;
        if (r->resource[0] && (!resource || strcmp(r->resource, resource)))
            continue;
        if (r->verb[0] && strcmp(r->verb, verb))
            continue;
        if (r->user[0] && (!user || strcmp(r->user, user)))
            continue;
        if (r->probability < 1.0) {
            uint64_t x = f->rng;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            f->rng = x;
            if ((double)(x >> 11) / (double)(1ull << 53) >= r->probability)
                continue;
        }
        if (r->count > 0)
            r->count--;
        r->fired++;
        f->fired_total++;
        *out = *r;
        hit = 1;
    }
    pthread_mutex_unlock(&f->mu);
    return hit;
}
