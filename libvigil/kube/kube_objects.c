/*
 * kube_objects.c - compact decoders for pods, workloads, nodes, leases and
 * custom resources.
 *
 * Decoding happens in a builder: strings go into a pool and arrays into
 * scratch vectors, with string pointers held as pool offsets (+1, so 0
 * stays NULL). finish() then sizes one block, copies struct, arrays and
 * pool into it and turns the offsets into pointers. The builder's buffers
 * are reused across objects (kube_objdec), so steady-state decoding does
 * one allocation per object.
 */
#include "kube_objects.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kube_json.h"
#include "kube_time.h"
#include "vg_buf.h"

#define OFF(o) ((const char *)(uintptr_t)(o))
#define MAX_ITEMS 65535

typedef struct cstat {
    size_t name;       /* pool offset + 1 */
    int32_t restarts;
    bool ready;
    size_t waiting;
    size_t term;
} cstat;

struct kube_objdec {
    vg_buf pool;
    vg_buf labels, owners, conts, cstats, sel, annot, alloc, conds;
    vg_buf tmp;
    kube_obj obj;
};

int kube_objdec_new(kube_objdec **out)
{
    kube_objdec *d = calloc(1, sizeof *d);
    if (!d)
        return -ENOMEM;
    *out = d;
    return 0;
}

void kube_objdec_free(kube_objdec *d)
{
    if (!d)
        return;
    vg_buf *bufs[] = {&d->pool, &d->labels, &d->owners, &d->conts, &d->cstats, &d->sel,
                      &d->annot, &d->alloc, &d->conds, &d->tmp};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        vg_buf_release(bufs[i]);
    free(d);
}

static void reset(kube_objdec *d)
{
    vg_buf *bufs[] = {&d->pool, &d->labels, &d->owners, &d->conts, &d->cstats, &d->sel, &d->annot, &d->alloc,
                      &d->conds};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        vg_buf_reset(bufs[i]);
    memset(&d->obj, 0, sizeof d->obj);
}

/* Append a raw JSON string to the pool; returns offset+1 or 0 on error. */
static int pool_add_raw(kube_objdec *d, vg_slice raw, bool esc, size_t *off)
{
    size_t at = d->pool.len;
    int rc = esc ? kj_unescape_append(raw, &d->pool) : vg_buf_append(&d->pool, raw.p, raw.n);
    if (!rc)
        rc = vg_buf_putc(&d->pool, '\0');
    if (rc)
        return rc;
    *off = at + 1;
    return 0;
}

/* Read a string value into the pool; null reads as "" (absent stays NULL
 * only for fields documented so). */
static int get_str(kube_objdec *d, kj *c, const char **field)
{
    vg_slice raw;
    bool esc;
    int rc = kj_str_raw(c, &raw, &esc);
    size_t off;
    if (!rc)
        rc = pool_add_raw(d, raw, esc, &off);
    if (!rc)
        *field = OFF(off);
    return rc;
}

static int get_off(kube_objdec *d, kj *c, size_t *off)
{
    vg_slice raw;
    bool esc;
    int rc = kj_str_raw(c, &raw, &esc);
    return rc ? rc : pool_add_raw(d, raw, esc, off);
}

static int get_raw(kube_objdec *d, kj *c, const char **field)
{
    vg_slice raw;
    int rc = kj_raw(c, &raw);
    size_t off;
    if (!rc)
        rc = pool_add_raw(d, raw, false, &off);
    if (!rc)
        *field = OFF(off);
    return rc;
}

static int get_i64(kj *c, int64_t *v)
{
    if (kj_peek(c) == KJ_NULL) {
        *v = 0;
        return kj_null(c);
    }
    int rc = kj_i64(c, v);
    return rc == -ERANGE ? -EBADMSG : rc;
}

static int get_i32(kj *c, int32_t *v)
{
    int64_t x;
    int rc = get_i64(c, &x);
    if (rc)
        return rc;
    if (x < INT32_MIN || x > INT32_MAX)
        return -EBADMSG;
    *v = (int32_t)x;
    return 0;
}

static int get_time(kj *c, int64_t *us)
{
    if (kj_peek(c) == KJ_NULL) {
        *us = 0;
        return kj_null(c);
    }
    vg_slice raw;
    int rc = kj_str_raw(c, &raw, NULL);
    if (rc)
        return rc;
    if (raw.n == 0) {
        *us = 0;
        return 0;
    }
    return kube_time_parse(raw.p, raw.n, us) ? -EBADMSG : 0;
}

static bool is_null(kj *c) { return kj_peek(c) == KJ_NULL; }

/* Decode {"k":"v",...} into an array of kube_kv (offsets). */
static int get_kvmap(kube_objdec *d, kj *c, vg_buf *arr, uint16_t *count)
{
    if (is_null(c))
        return kj_null(c);
    vg_slice key;
    size_t n = 0;
    int rc = kj_obj_begin(c);
    while (rc == 0 && (rc = kj_obj_next(c, &key)) > 0) {
        if (++n > MAX_ITEMS)
            return -E2BIG;
        size_t koff, voff;
        rc = pool_add_raw(d, key, memchr(key.p, '\\', key.n) != NULL, &koff);
        if (!rc)
            rc = get_off(d, c, &voff);
        if (!rc) {
            kube_kv kv = {OFF(koff), OFF(voff)};
            rc = vg_buf_append(arr, &kv, sizeof kv);
        }
    }
    if (rc < 0)
        return rc;
    *count = (uint16_t)n;
    return 0;
}

static int get_owners(kube_objdec *d, kj *c, kube_meta *m)
{
    if (is_null(c))
        return kj_null(c);
    size_t n = 0;
    int rc = kj_arr_begin(c);
    while (rc == 0 && (rc = kj_arr_next(c)) > 0) {
        if (++n > MAX_ITEMS)
            return -E2BIG;
        kube_owner ow = {NULL, NULL, NULL, false};
        vg_slice key;
        rc = kj_obj_begin(c);
        while (rc == 0 && (rc = kj_obj_next(c, &key)) > 0) {
            if (kj_key_is(key, "kind"))
                rc = get_str(d, c, &ow.kind);
            else if (kj_key_is(key, "name"))
                rc = get_str(d, c, &ow.name);
            else if (kj_key_is(key, "uid"))
                rc = get_str(d, c, &ow.uid);
            else if (kj_key_is(key, "controller"))
                rc = kj_bool(c, &ow.controller);
            else
                rc = kj_skip(c);
        }
        if (rc < 0)
            return rc;
        if (!ow.kind || !ow.name || !ow.uid)
            return -EBADMSG;
        rc = vg_buf_append(&d->owners, &ow, sizeof ow);
    }
    if (rc < 0)
        return rc;
    m->nowners = (uint16_t)n;
    return 0;
}

/* annotations: only k8s.io/initial-events-end is looked at */
static int get_annotations_meta(kj *c, kube_meta *m)
{
    if (is_null(c))
        return kj_null(c);
    vg_slice key;
    int rc = kj_obj_begin(c);
    while (rc == 0 && (rc = kj_obj_next(c, &key)) > 0) {
        if (kj_key_is(key, "k8s.io/initial-events-end")) {
            char v[8];
            rc = kj_str_copy(c, v, sizeof v, NULL);
            if (rc == -ENOSPC)
                rc = 0;
            else if (rc == 0)
                m->initial_events_end = strcmp(v, "true") == 0;
        } else {
            rc = kj_skip(c);
        }
    }
    return rc < 0 ? rc : 0;
}

static int get_meta(kube_objdec *d, kj *c, kube_meta *m)
{
    vg_slice key;
    int rc = kj_obj_begin(c);
    while (rc == 0 && (rc = kj_obj_next(c, &key)) > 0) {
        if (kj_key_is(key, "name"))
            rc = get_str(d, c, &m->name);
        else if (kj_key_is(key, "namespace"))
            rc = get_str(d, c, &m->ns);
        else if (kj_key_is(key, "uid"))
            rc = get_str(d, c, &m->uid);
        else if (kj_key_is(key, "resourceVersion"))
            rc = get_str(d, c, &m->rv);
        else if (kj_key_is(key, "generation"))
            rc = get_i64(c, &m->generation);
        else if (kj_key_is(key, "creationTimestamp"))
            rc = get_time(c, &m->creation_us);
        else if (kj_key_is(key, "deletionTimestamp"))
            rc = get_time(c, &m->deletion_us);
        else if (kj_key_is(key, "labels"))
            rc = get_kvmap(d, c, &d->labels, &m->nlabels);
        else if (kj_key_is(key, "ownerReferences"))
            rc = get_owners(d, c, m);
        else if (kj_key_is(key, "annotations"))
            rc = get_annotations_meta(c, m);
        else
            rc = kj_skip(c);
    }
    return rc < 0 ? rc : 0;
}

/* ---------------- quantities ---------------- */

int kube_quantity_parse(const char *s, size_t n, bool milli, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    size_t ds = i;
    long double v = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        v = v * 10 + (s[i++] - '0');
    size_t nd = i - ds;
    if (i < n && s[i] == '.') {
        i++;
        long double scale = 0.1L;
        size_t fs = i;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            v += (s[i++] - '0') * scale;
            scale /= 10;
        }
        nd += i - fs;
    }
    if (nd == 0)
        return -EINVAL;
    long double mult = 1;
    size_t rest = n - i;
    const char *suf = s + i;
    if (rest == 0) {
    } else if (rest == 2 && suf[1] == 'i') {
        static const char bin[] = "KMGTPE";
        const char *p = memchr(bin, suf[0], 6);
        if (!p)
            return -EINVAL;
        mult = powl(1024.0L, (long double)(p - bin + 1));
    } else if (rest == 1) {
        switch (suf[0]) {
        case 'n': mult = 1e-9L; break;
        case 'u': mult = 1e-6L; break;
        case 'm': mult = 1e-3L; break;
        case 'k': mult = 1e3L; break;
        case 'M': mult = 1e6L; break;
        case 'G': mult = 1e9L; break;
        case 'T': mult = 1e12L; break;
        case 'P': mult = 1e15L; break;
        case 'E': mult = 1e18L; break;
        default: return -EINVAL;
        }
    } else if (suf[0] == 'e' || suf[0] == 'E') {
        size_t k = 1;
        bool eneg = false;
        if (k < rest && (suf[k] == '+' || suf[k] == '-'))
            eneg = suf[k++] == '-';
        if (k >= rest || rest - k > 3)
            return -EINVAL;
        int e = 0;
        for (; k < rest; k++) {
            if (suf[k] < '0' || suf[k] > '9')
                return -EINVAL;
            e = e * 10 + (suf[k] - '0');
        }
        mult = powl(10.0L, eneg ? -e : e);
    } else {
        return -EINVAL;
    }
    v *= mult;
    if (milli)
        v *= 1000;
    v = ceill(v - 1e-9L); /* round up, forgiving binary fraction noise */
    if (v > 9.2e18L)
        return -ERANGE;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return 0;
}

static int get_qty(kj *c, bool milli, int64_t *out)
{
    if (kj_peek(c) == KJ_NUM) { /* numbers are allowed by the API too */
        double v;
        int rc = kj_double(c, &v);
        if (rc)
            return -EBADMSG;
        v = milli ? v * 1000 : v;
        if (!(v > -9.2e18 && v < 9.2e18))
            return -EBADMSG;
        *out = (int64_t)ceil(v);
        return 0;
    }
    vg_slice raw;
    bool esc;
    int rc = kj_str_raw(c, &raw, &esc);
    if (rc)
        return rc;
    if (esc || kube_quantity_parse(raw.p, raw.n, milli, out))
        return -EBADMSG;
    return 0;
}

/* ---------------- pods ---------------- */

static int get_resources_list(kj *c, int64_t *cpu, int64_t *mem)
{
    if (is_null(c))
        return kj_null(c);
    vg_slice key;
    int rc = kj_obj_begin(c);
    while (rc == 0 && (rc = kj_obj_next(c, &key)) > 0) {
        if (kj_key_is(key, "cpu"))
            rc = get_qty(c, true, cpu);
        else if (kj_key_is(key, "memory"))
            rc = get_qty(c, false, mem);
        else
            rc = kj_skip(c);
    }
    return rc < 0 ? rc : 0;
}

static int get_containers(kube_objdec *d, kj *c)
{
    if (is_null(c))
        return kj_null(c);
    size_t n = 0;
    int rc = kj_arr_begin(c);
    while (rc == 0 && (rc = kj_arr_next(c)) > 0) {
        if (++n > MAX_ITEMS)
            return -E2BIG;
        kube_container ct = {NULL, -1, -1, -1, -1, 0, false, NULL, NULL};
        vg_slice key;
        rc = kj_obj_begin(c);
        while (rc == 0 && (rc = kj_obj_next(c, &key)) > 0) {
            if (kj_key_is(key, "name")) {
                rc = get_str(d, c, &ct.name);
            } else if (kj_key_is(key, "resources") && !is_null(c)) {
                rc = kj_obj_begin(c);
                while (rc == 0 && (rc = kj_obj_next(c, &key)) > 0) {
                    if (kj_key_is(key, "requests"))
                        rc = get_resources_list(c, &ct.cpu_req_m, &ct.mem_req);
                    else if (kj_key_is(key, "limits"))
                        rc = get_resources_list(c, &ct.cpu_lim_m, &ct.mem_lim);
                    else
                        rc = kj_skip(c);
                }
                rc = rc < 0 ? rc : 0;
            } else {
                rc = kj_skip(c);
            }
        }
        if (rc < 0)
            return rc;
        if (!ct.name)
            return -EBADMSG;
        rc = vg_buf_append(&d->conts, &ct, sizeof ct);
    }
    return rc < 0 ? rc : 0;
}

/* state.waiting.reason / lastState.terminated.reason */
static int get_state_reason(kube_objdec *d, kj *c, const char *which, size_t *off)
{
    if (is_null(c))
        return kj_null(c);
    vg_slice key;
    int rc = kj_obj_begin(c);
    while (rc == 0 && (rc = kj_obj_next(c, &key)) > 0) {
        if (kj_key_is(key, which) && !is_null(c)) {
            rc = kj_obj_begin(c);
            while (rc == 0 && (rc = kj_obj_next(c, &key)) > 0) {
                if (kj_key_is(key, "reason"))
                    rc = get_off(d, c, off);
                else
                    rc = kj_skip(c);
            }
            rc = rc < 0 ? rc : 0;
        } else {
            rc = kj_skip(c);
        }
    }
    return rc < 0 ? rc : 0;
}

static int get_cstatuses(kube_objdec *d, kj *c)
{
    if (is_null(c))
        return kj_null(c);
    size_t n = 0;
    int rc = kj_arr_begin(c);
    while (rc == 0 && (rc = kj_arr_next(c)) > 0) {
        if (++n > MAX_ITEMS)
            return -E2BIG;
        cstat cs = {0, 0, false, 0, 0};
        vg_slice key;
        rc = kj_obj_begin(c);
        while (rc == 0 && (rc = kj_obj_next(c, &key)) > 0) {
            if (kj_key_is(key, "name"))
                rc = get_off(d, c, &cs.name);
            else if (kj_key_is(key, "ready"))
                rc = kj_bool(c, &cs.ready);
            else if (kj_key_is(key, "restartCount"))
                rc = get_i32(c, &cs.restarts);
            else if (kj_key_is(key, "state"))
                rc = get_state_reason(d, c, "waiting", &cs.waiting);
            else if (kj_key_is(key, "lastState"))
                rc = get_state_reason(d, c, "terminated", &cs.term);
            else
                rc = kj_skip(c);
        }
        if (rc < 0)
            return rc;
        if (!cs.name)
            return -EBADMSG;
        rc = vg_buf_append(&d->cstats, &cs, sizeof cs);
    }
    return rc < 0 ? rc : 0;
}

static int8_t cond_status(const char *s)
{
    return strcmp(s, "True") == 0 ? 1 : strcmp(s, "False") == 0 ? 0 : -1;
}

/* conditions: for pods only Ready is kept (in pod.ready); for nodes all */
static int get_conditions(kube_objdec *d, kj *c, bool keep_all, int8_t *ready)
{
    if (is_null(c))
        return kj_null(c);
    size_t n = 0;
    int rc = kj_arr_begin(c);
    while (rc == 0 && (rc = kj_arr_next(c)) > 0) {
        if (++n > MAX_ITEMS)
            return -E2BIG;
        char type[64] = "", status[16] = "";
        vg_slice key;
        rc = kj_obj_begin(c);
        while (rc == 0 && (rc = kj_obj_next(c, &key)) > 0) {
            if (kj_key_is(key, "type"))
                rc = kj_str_copy(c, type, sizeof type, NULL);
            else if (kj_key_is(key, "status"))
                rc = kj_str_copy(c, status, sizeof status, NULL);
            else
                rc = kj_skip(c);
            if (rc == -ENOSPC)
                rc = 0;
        }
        if (rc < 0)
            return rc;
        if (ready && strcmp(type, "Ready") == 0)
            *ready = cond_status(status);
        if (keep_all) {
            size_t off;
            rc = pool_add_raw(d, (vg_slice){type, strlen(type)}, false, &off);
            kube_condition cd = {OFF(off), cond_status(status)};
            if (!rc)
                rc = vg_buf_append(&d->conds, &cd, sizeof cd);
        }
    }
    return rc < 0 ? rc : 0;
}

static int pod_phase(const char *s)
{
    static const char *const names[] = {"Unknown", "Pending", "Running", "Succeeded", "Failed"};
    for (int i = 0; i < 5; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return KUBE_PHASE_UNKNOWN;
}

static int dec_pod(kube_objdec *d, kj *c, vg_slice key)
{
    kube_pod *p = &d->obj.u.pod;
    int rc;
    if (kj_key_is(key, "spec") && !is_null(c)) {
        rc = kj_obj_begin(c);
        while (rc == 0 && (rc = kj_obj_next(c, &key)) > 0) {
            if (kj_key_is(key, "nodeName"))
                rc = get_str(d, c, &p->node);
            else if (kj_key_is(key, "containers"))
                rc = get_containers(d, c);
            else
                rc = kj_skip(c);
        }
        return rc < 0 ? rc : 0;
    }
    if (kj_key_is(key, "status") && !is_null(c)) {
        rc = kj_obj_begin(c);
        while (rc == 0 && (rc = kj_obj_next(c, &key)) > 0) {
            if (kj_key_is(key, "phase")) {
                char ph[16];
                rc = kj_str_copy(c, ph, sizeof ph, NULL);
                if (rc == -ENOSPC)
                    rc = 0, ph[0] = '\0';
                p->phase = (uint8_t)pod_phase(ph);
            } else if (kj_key_is(key, "startTime")) {
                rc = get_time(c, &p->start_us);
            } else if (kj_key_is(key, "conditions")) {
                rc = get_conditions(d, c, false, &p->ready);
            } else if (kj_key_is(key, "containerStatuses")) {
                rc = get_cstatuses(d, c);
            } else {
                rc = kj_skip(c);
            }
        }
        return rc < 0 ? rc : 0;
    }
    return kj_skip(c);
}

/* ---------------- workloads ---------------- */

static int get_selector(kube_objdec *d, kj *c, kube_workload *w)
{
    if (is_null(c))
        return kj_null(c);
    vg_slice key;
    int rc = kj_obj_begin(c);
    while (rc == 0 && (rc = kj_obj_next(c, &key)) > 0) {
        if (kj_key_is(key, "matchLabels"))
            rc = get_kvmap(d, c, &d->sel, &w->nselector);
        else if (kj_key_is(key, "matchExpressions") && !is_null(c))
            rc = get_raw(d, c, &w->selector_exprs);
        else
            rc = kj_skip(c);
    }
    return rc < 0 ? rc : 0;
}

static int get_template(kube_objdec *d, kj *c, kube_workload *w)
{
    if (is_null(c))
        return kj_null(c);
    vg_slice key;
    int rc = kj_obj_begin(c);
    while (rc == 0 && (rc = kj_obj_next(c, &key)) > 0) {
        if (kj_key_is(key, "metadata") && !is_null(c)) {
            rc = kj_obj_begin(c);
            while (rc == 0 && (rc = kj_obj_next(c, &key)) > 0) {
                if (kj_key_is(key, "annotations"))
                    rc = get_kvmap(d, c, &d->annot, &w->nannotations);
                else
                    rc = kj_skip(c);
            }
            rc = rc < 0 ? rc : 0;
        } else {
            rc = kj_skip(c);
        }
    }
    return rc < 0 ? rc : 0;
}

static int dec_workload(kube_objdec *d, kj *c, vg_slice key)
{
    kube_workload *w = &d->obj.u.wl;
    int rc;
    if (kj_key_is(key, "spec") && !is_null(c)) {
        rc = kj_obj_begin(c);
        while (rc == 0 && (rc = kj_obj_next(c, &key)) > 0) {
            if (kj_key_is(key, "replicas"))
                rc = get_i32(c, &w->replicas);
            else if (kj_key_is(key, "paused"))
                rc = kj_bool(c, &w->paused);
            else if (kj_key_is(key, "selector"))
                rc = get_selector(d, c, w);
            else if (kj_key_is(key, "template"))
                rc = get_template(d, c, w);
            else
                rc = kj_skip(c);
        }
        return rc < 0 ? rc : 0;
    }
    if (kj_key_is(key, "status") && !is_null(c)) {
        rc = kj_obj_begin(c);
        while (rc == 0 && (rc = kj_obj_next(c, &key)) > 0) {
            if (kj_key_is(key, "observedGeneration"))
                rc = get_i64(c, &w->observed_generation);
            else if (kj_key_is(key, "replicas"))
                rc = get_i32(c, &w->st_replicas);
            else if (kj_key_is(key, "readyReplicas"))
                rc = get_i32(c, &w->ready_replicas);
            else if (kj_key_is(key, "updatedReplicas"))
                rc = get_i32(c, &w->updated_replicas);
            else if (kj_key_is(key, "availableReplicas"))
                rc = get_i32(c, &w->available_replicas);
            else if (kj_key_is(key, "unavailableReplicas"))
                rc = get_i32(c, &w->unavailable_replicas);
            else if (kj_key_is(key, "currentReplicas"))
                rc = get_i32(c, &w->current_replicas);
            else if (kj_key_is(key, "currentRevision"))
                rc = get_str(d, c, &w->current_revision);
            else if (kj_key_is(key, "updateRevision"))
                rc = get_str(d, c, &w->update_revision);
            else
                rc = kj_skip(c);
        }
        return rc < 0 ? rc : 0;
    }
    return kj_skip(c);
}

/* ---------------- nodes, leases, custom ---------------- */

static int dec_node(kube_objdec *d, kj *c, vg_slice key)
{
    kube_node *nd = &d->obj.u.node;
    int rc;
    if (kj_key_is(key, "spec") && !is_null(c)) {
        rc = kj_obj_begin(c);
        while (rc == 0 && (rc = kj_obj_next(c, &key)) > 0) {
            if (kj_key_is(key, "unschedulable"))
                rc = kj_bool(c, &nd->unschedulable);
            else
                rc = kj_skip(c);
        }
        return rc < 0 ? rc : 0;
    }
    if (kj_key_is(key, "status") && !is_null(c)) {
        rc = kj_obj_begin(c);
        while (rc == 0 && (rc = kj_obj_next(c, &key)) > 0) {
            if (kj_key_is(key, "allocatable") && !is_null(c)) {
                size_t n = 0;
                rc = kj_obj_begin(c);
                while (rc == 0 && (rc = kj_obj_next(c, &key)) > 0) {
                    if (++n > MAX_ITEMS)
                        return -E2BIG;
                    size_t off;
                    rc = pool_add_raw(d, key, memchr(key.p, '\\', key.n) != NULL, &off);
                    kube_quantity q = {OFF(off), 0};
                    if (!rc)
                        rc = get_qty(c, kj_key_is(key, "cpu"), &q.value);
                    if (!rc)
                        rc = vg_buf_append(&d->alloc, &q, sizeof q);
                }
                rc = rc < 0 ? rc : 0;
            } else if (kj_key_is(key, "conditions")) {
                rc = get_conditions(d, c, true, NULL);
            } else {
                rc = kj_skip(c);
            }
        }
        return rc < 0 ? rc : 0;
    }
    return kj_skip(c);
}

static int dec_lease(kube_objdec *d, kj *c, vg_slice key)
{
    kube_lease *l = &d->obj.u.lease;
    if (!kj_key_is(key, "spec") || is_null(c))
        return kj_skip(c);
    int rc = kj_obj_begin(c);
    while (rc == 0 && (rc = kj_obj_next(c, &key)) > 0) {
        if (kj_key_is(key, "holderIdentity"))
            rc = get_str(d, c, &l->holder);
        else if (kj_key_is(key, "leaseDurationSeconds"))
            rc = get_i32(c, &l->duration_s);
        else if (kj_key_is(key, "leaseTransitions"))
            rc = get_i32(c, &l->transitions);
        else if (kj_key_is(key, "acquireTime"))
            rc = get_time(c, &l->acquire_us);
        else if (kj_key_is(key, "renewTime"))
            rc = get_time(c, &l->renew_us);
        else
            rc = kj_skip(c);
    }
    return rc < 0 ? rc : 0;
}

static int dec_custom(kube_objdec *d, kj *c, vg_slice key)
{
    kube_custom *cr = &d->obj.u.cr;
    if (kj_key_is(key, "spec") && !is_null(c))
        return get_raw(d, c, &cr->spec);
    if (kj_key_is(key, "status") && !is_null(c))
        return get_raw(d, c, &cr->status);
    return kj_skip(c);
}

/* ---------------- finish: one block ---------------- */

#define FIX(p) ((p) = (p) ? (const char *)(pool + ((uintptr_t)(p) - 1)) : NULL)
#define FIXE(p) ((p) = (p) ? (const char *)(pool + ((uintptr_t)(p) - 1)) : "")

static size_t al8(size_t n) { return (n + 7) & ~(size_t)7; }

static int merge_statuses(kube_objdec *d)
{
    size_t nc = d->cstats.len / sizeof(cstat);
    for (size_t i = 0; i < nc; i++) {
        cstat *cs = (cstat *)d->cstats.data + i;
        const char *nm = d->pool.data + cs->name - 1;
        kube_container *ct = NULL;
        size_t n = d->conts.len / sizeof(kube_container);
        for (size_t k = 0; k < n; k++) {
            kube_container *x = (kube_container *)d->conts.data + k;
            if (strcmp(d->pool.data + ((uintptr_t)x->name - 1), nm) == 0) {
                ct = x;
                break;
            }
        }
        if (!ct) {
            if (n >= MAX_ITEMS)
                return -E2BIG;
            kube_container nw = {OFF(cs->name), -1, -1, -1, -1, 0, false, NULL, NULL};
            if (vg_buf_append(&d->conts, &nw, sizeof nw))
                return -ENOMEM;
            ct = (kube_container *)d->conts.data + n;
        }
        ct->restarts = cs->restarts;
        ct->ready = cs->ready;
        ct->waiting_reason = cs->waiting ? OFF(cs->waiting) : NULL;
        ct->last_term_reason = cs->term ? OFF(cs->term) : NULL;
    }
    return 0;
}

static int finish(kube_objdec *d, kube_obj **out)
{
    kube_obj *o = &d->obj;
    if (o->kind == KUBE_OBJ_POD) {
        int rc = merge_statuses(d);
        if (rc)
            return rc;
        if (d->conts.len / sizeof(kube_container) > MAX_ITEMS)
            return -E2BIG;
        o->u.pod.ncontainers = (uint16_t)(d->conts.len / sizeof(kube_container));
    }
    if (o->kind == KUBE_OBJ_NODE) {
        if (d->alloc.len / sizeof(kube_quantity) > MAX_ITEMS || d->conds.len / sizeof(kube_condition) > MAX_ITEMS)
            return -E2BIG;
        o->u.node.nallocatable = (uint16_t)(d->alloc.len / sizeof(kube_quantity));
        o->u.node.nconditions = (uint16_t)(d->conds.len / sizeof(kube_condition));
    }
    size_t sz = al8(sizeof *o);
    size_t lab_at = sz;
    sz += al8(d->labels.len);
    size_t own_at = sz;
    sz += al8(d->owners.len);
    size_t a1_at = sz; /* containers / selector / allocatable */
    vg_buf *a1 = o->kind == KUBE_OBJ_POD ? &d->conts
                 : (o->kind == KUBE_OBJ_DEPLOYMENT || o->kind == KUBE_OBJ_STATEFULSET) ? &d->sel
                 : o->kind == KUBE_OBJ_NODE ? &d->alloc : NULL;
    vg_buf *a2 = (o->kind == KUBE_OBJ_DEPLOYMENT || o->kind == KUBE_OBJ_STATEFULSET) ? &d->annot
                 : o->kind == KUBE_OBJ_NODE ? &d->conds : NULL;
    sz += a1 ? al8(a1->len) : 0;
    size_t a2_at = sz;
    sz += a2 ? al8(a2->len) : 0;
    size_t pool_at = sz;
    sz += d->pool.len;
    if (sz > UINT32_MAX)
        return -E2BIG;
    char *blk = malloc(sz);
    if (!blk)
        return -ENOMEM;
    const char *pool = blk + pool_at;
    if (d->pool.len)
        memcpy(blk + pool_at, d->pool.data, d->pool.len);
    kube_obj *r = (kube_obj *)blk;
    *r = *o;
    r->size = (uint32_t)sz;
    kube_meta *m = &r->meta;
    FIXE(m->ns);
    FIXE(m->name);
    FIXE(m->uid);
    FIXE(m->rv);
    kube_kv *labels = (kube_kv *)(blk + lab_at);
    if (d->labels.len)
        memcpy(labels, d->labels.data, d->labels.len);
    for (size_t i = 0; i < m->nlabels; i++) {
        FIXE(labels[i].key);
        FIXE(labels[i].value);
    }
    m->labels = m->nlabels ? labels : NULL;
    kube_owner *owners = (kube_owner *)(blk + own_at);
    if (d->owners.len)
        memcpy(owners, d->owners.data, d->owners.len);
    for (size_t i = 0; i < m->nowners; i++) {
        FIXE(owners[i].kind);
        FIXE(owners[i].name);
        FIXE(owners[i].uid);
    }
    m->owners = m->nowners ? owners : NULL;
    if (a1 && a1->len)
        memcpy(blk + a1_at, a1->data, a1->len);
    if (a2 && a2->len)
        memcpy(blk + a2_at, a2->data, a2->len);
    switch (r->kind) {
    case KUBE_OBJ_POD: {
        kube_pod *p = &r->u.pod;
        FIXE(p->node);
        kube_container *cs = (kube_container *)(blk + a1_at);
        for (size_t i = 0; i < p->ncontainers; i++) {
            FIXE(cs[i].name);
            FIX(cs[i].waiting_reason);
            FIX(cs[i].last_term_reason);
        }
        p->containers = p->ncontainers ? cs : NULL;
        break;
    }
    case KUBE_OBJ_DEPLOYMENT:
    case KUBE_OBJ_STATEFULSET: {
        kube_workload *w = &r->u.wl;
        kube_kv *sel = (kube_kv *)(blk + a1_at), *an = (kube_kv *)(blk + a2_at);
        for (size_t i = 0; i < w->nselector; i++) {
            FIXE(sel[i].key);
            FIXE(sel[i].value);
        }
        for (size_t i = 0; i < w->nannotations; i++) {
            FIXE(an[i].key);
            FIXE(an[i].value);
        }
        w->selector = w->nselector ? sel : NULL;
        w->template_annotations = w->nannotations ? an : NULL;
        FIX(w->selector_exprs);
        FIX(w->current_revision);
        FIX(w->update_revision);
        break;
    }
    case KUBE_OBJ_NODE: {
        kube_node *nd = &r->u.node;
        kube_quantity *q = (kube_quantity *)(blk + a1_at);
        kube_condition *cd = (kube_condition *)(blk + a2_at);
        for (size_t i = 0; i < nd->nallocatable; i++)
            FIXE(q[i].name);
        for (size_t i = 0; i < nd->nconditions; i++)
            FIXE(cd[i].type);
        nd->allocatable = nd->nallocatable ? q : NULL;
        nd->conditions = nd->nconditions ? cd : NULL;
        break;
    }
    case KUBE_OBJ_LEASE:
        FIXE(r->u.lease.holder);
        break;
    case KUBE_OBJ_CUSTOM:
        FIXE(r->u.cr.api_version);
        FIXE(r->u.cr.kind);
        FIX(r->u.cr.spec);
        FIX(r->u.cr.status);
        break;
    default:
        break;
    }
    *out = r;
    return 0;
}

int kube_objdec_decode(kube_objdec *d, kube_obj_kind kind, const char *json, size_t len, kube_obj **out)
{
    if ((unsigned)kind > KUBE_OBJ_BOOKMARK)
        return -EINVAL;
    reset(d);
    kube_obj *o = &d->obj;
    o->kind = kind;
    if (kind == KUBE_OBJ_DEPLOYMENT || kind == KUBE_OBJ_STATEFULSET)
        o->u.wl.replicas = 1; /* the API's default */
    if (kind == KUBE_OBJ_POD)
        o->u.pod.ready = -1;
    kj c;
    kj_init(&c, json, len);
    vg_slice key;
    bool have_meta = false;
    int rc = kj_obj_begin(&c);
    while (rc == 0 && (rc = kj_obj_next(&c, &key)) > 0) {
        if (kj_key_is(key, "metadata") && kj_peek(&c) == KJ_OBJ) {
            have_meta = true;
            rc = get_meta(d, &c, &o->meta);
            continue;
        }
        if (kind == KUBE_OBJ_CUSTOM && kj_key_is(key, "apiVersion")) {
            rc = get_str(d, &c, &o->u.cr.api_version);
            continue;
        }
        if (kind == KUBE_OBJ_CUSTOM && kj_key_is(key, "kind")) {
            rc = get_str(d, &c, &o->u.cr.kind);
            continue;
        }
        switch (kind) {
        case KUBE_OBJ_POD: rc = dec_pod(d, &c, key); break;
        case KUBE_OBJ_DEPLOYMENT:
        case KUBE_OBJ_STATEFULSET: rc = dec_workload(d, &c, key); break;
        case KUBE_OBJ_NODE: rc = dec_node(d, &c, key); break;
        case KUBE_OBJ_LEASE: rc = dec_lease(d, &c, key); break;
        case KUBE_OBJ_CUSTOM: rc = dec_custom(d, &c, key); break;
        default: rc = kj_skip(&c); break;
        }
    }
    if (rc == 0)
        rc = kj_finish(&c);
    if (rc == -ENOSPC || rc == -ERANGE)
        rc = -EBADMSG;
    if (rc)
        return rc;
    if (!have_meta || (kind != KUBE_OBJ_BOOKMARK && (!o->meta.name || !((const char *)d->pool.data)[(uintptr_t)o->meta.name - 1])))
        return -EBADMSG;
    return finish(d, out);
}

int kube_obj_decode(kube_obj_kind kind, const char *json, size_t len, kube_obj **out)
{
    kube_objdec *d;
    int rc = kube_objdec_new(&d);
    if (rc)
        return rc;
    rc = kube_objdec_decode(d, kind, json, len, out);
    kube_objdec_free(d);
    return rc;
}

void kube_obj_free(kube_obj *o) { free(o); }

int kube_obj_peek_rv(const char *json, size_t len, char *rv, size_t rvlen, bool *iee)
{
    kj c;
    kj_init(&c, json, len);
    vg_slice key;
    bool found = false;
    kube_meta m;
    memset(&m, 0, sizeof m);
    int rc = kj_obj_begin(&c);
    while (rc == 0 && (rc = kj_obj_next(&c, &key)) > 0) {
        if (!kj_key_is(key, "metadata") || kj_peek(&c) != KJ_OBJ) {
            rc = kj_skip(&c);
            continue;
        }
        rc = kj_obj_begin(&c);
        while (rc == 0 && (rc = kj_obj_next(&c, &key)) > 0) {
            if (kj_key_is(key, "resourceVersion")) {
                rc = kj_str_copy(&c, rv, rvlen, NULL);
                found = rc == 0;
            } else if (kj_key_is(key, "annotations")) {
                rc = get_annotations_meta(&c, &m);
            } else {
                rc = kj_skip(&c);
            }
        }
        rc = rc < 0 ? rc : 0;
    }
    if (rc == 0)
        rc = kj_finish(&c);
    if (rc)
        return rc == -ENOSPC ? -E2BIG : -EBADMSG;
    if (!found)
        return -EBADMSG;
    if (iee)
        *iee = m.initial_events_end;
    return 0;
}

const char *kube_obj_label(const kube_obj *o, const char *key)
{
    for (size_t i = 0; i < o->meta.nlabels; i++)
        if (strcmp(o->meta.labels[i].key, key) == 0)
            return o->meta.labels[i].value;
    return NULL;
}

const kube_owner *kube_obj_controller(const kube_obj *o)
{
    for (size_t i = 0; i < o->meta.nowners; i++)
        if (o->meta.owners[i].controller)
            return &o->meta.owners[i];
    return NULL;
}

const char *kube_obj_kind_name(kube_obj_kind k)
{
    static const char *const n[] = {"Pod", "Deployment", "StatefulSet", "Node", "Lease", "Custom", "Bookmark"};
    return (unsigned)k <= KUBE_OBJ_BOOKMARK ? n[k] : "?";
}
