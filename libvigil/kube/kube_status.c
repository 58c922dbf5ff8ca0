/*
 * kube_status.c - Status object decoder and API error to errno mapping.
 */
#include "kube_status.h"

#include <errno.h>
#include <string.h>

void kube_status_clear(kube_status *st) { memset(st, 0, sizeof *st); }

/* Read a string member into a fixed field; over-long values are cut. */
static int get_str(kj *c, char *out, size_t n)
{
    int rc = kj_str_copy(c, out, n, NULL);
    return rc == -ENOSPC ? 0 : rc;
}

/* Numbers that do not fit an int are clamped to 0 rather than rejected. */
static int get_int(kj *c, int *out)
{
    if (kj_peek(c) == KJ_NULL)
        return kj_null(c);
    int64_t v;
    int rc = kj_i64(c, &v);
    if (rc == -ERANGE && !c->err) {
        *out = 0;
        return 0;
    }
    if (rc)
        return rc;
    *out = (v < -2147483647 || v > 2147483647) ? 0 : (int)v;
    return 0;
}

static int decode_causes(kj *c, kube_status *st)
{
    if (kj_peek(c) == KJ_NULL)
        return kj_null(c);
    int rc = kj_arr_begin(c);
    while (rc == 0 && (rc = kj_arr_next(c)) > 0) {
        kube_status_cause tmp, *cs = st->ncauses < KUBE_STATUS_MAX_CAUSES ? &st->causes[st->ncauses] : &tmp;
        memset(cs, 0, sizeof *cs);
        if (kj_peek(c) != KJ_OBJ) {
            rc = kj_skip(c);
            continue;
        }
        vg_slice key;
        rc = kj_obj_begin(c);
        while (rc == 0 && (rc = kj_obj_next(c, &key)) > 0) {
            if (kj_key_is(key, "reason"))
                rc = get_str(c, cs->type, sizeof cs->type);
            else if (kj_key_is(key, "field"))
                rc = get_str(c, cs->field, sizeof cs->field);
            else if (kj_key_is(key, "message"))
                rc = get_str(c, cs->message, sizeof cs->message);
            else
                rc = kj_skip(c);
        }
        if (rc == 0) {
            st->ncauses_total++;
            if (cs != &tmp)
                st->ncauses++;
        }
    }
    return rc < 0 ? rc : 0;
}

static int decode_details(kj *c, kube_status *st)
{
    if (kj_peek(c) == KJ_NULL)
        return kj_null(c);
    vg_slice key;
    int rc = kj_obj_begin(c);
    while (rc == 0 && (rc = kj_obj_next(c, &key)) > 0) {
        if (kj_key_is(key, "name"))
            rc = get_str(c, st->name, sizeof st->name);
        else if (kj_key_is(key, "group"))
            rc = get_str(c, st->group, sizeof st->group);
        else if (kj_key_is(key, "kind"))
            rc = get_str(c, st->kind, sizeof st->kind);
        else if (kj_key_is(key, "retryAfterSeconds"))
            rc = get_int(c, &st->retry_after_s);
        else if (kj_key_is(key, "causes"))
            rc = decode_causes(c, st);
        else
            rc = kj_skip(c);
    }
    return rc < 0 ? rc : 0;
}

int kube_status_decode_kj(kj *c, kube_status *out)
{
    kube_status st;
    kube_status_clear(&st);
    vg_slice key;
    char kind[32] = "", status[32] = "";
    int rc = kj_obj_begin(c);
    while (rc == 0 && (rc = kj_obj_next(c, &key)) > 0) {
        if (kj_key_is(key, "kind"))
            rc = get_str(c, kind, sizeof kind);
        else if (kj_key_is(key, "status") && kj_peek(c) == KJ_STR)
            rc = get_str(c, status, sizeof status);
        else if (kj_key_is(key, "reason"))
            rc = get_str(c, st.reason, sizeof st.reason);
        else if (kj_key_is(key, "message"))
            rc = get_str(c, st.message, sizeof st.message);
        else if (kj_key_is(key, "code"))
            rc = get_int(c, &st.code);
        else if (kj_key_is(key, "details"))
            rc = decode_details(c, &st);
        else
            rc = kj_skip(c);
    }
    if (rc < 0) {
        kube_status_clear(out);
        return rc;
    }
    st.is_status = strcmp(kind, "Status") == 0;
    st.success = strcmp(status, "Success") == 0;
    *out = st;
    return 0;
}

int kube_status_decode(const char *json, size_t len, kube_status *out)
{
    kj c;
    kj_init(&c, json, len);
    int rc = kube_status_decode_kj(&c, out);
    if (rc == 0)
        rc = kj_finish(&c);
    if (rc)
        kube_status_clear(out);
    return rc;
}

bool kube_status_has_cause(const kube_status *st, const char *type)
{
    for (size_t i = 0; i < st->ncauses; i++)
        if (strcmp(st->causes[i].type, type) == 0)
            return true;
    return false;
}

int kube_status_errno(int code, const char *reason)
{
    if (code >= 200 && code < 300)
        return 0;
    switch (code) {
    case 400: case 422: return -EINVAL;
    case 401: return -EACCES;
    case 403: return -EPERM;
    case 404: return -ENOENT;
    case 405: return -EOPNOTSUPP;
    case 409: return (reason && strcmp(reason, "Conflict") == 0) ? -ESTALE : -EEXIST;
    case 410: return -ETIME;
    case 415: return -EPROTONOSUPPORT;
    case 429: return -EBUSY;
    case 504: return -ETIMEDOUT;
    default: return (code >= 500 && code < 600) ? -EAGAIN : -EPROTO;
    }
}
