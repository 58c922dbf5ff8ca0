/*
 * kube_watch.c - watch stream splitter, event parser, and one watch
 * request over chunked HTTP (the WebSocket variant is in kube_ws.c).
 */
#include "kube_watch.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kube_json.h"
#include "kube_ws.h"

#define WDEC_MAX_DEPTH 10000

void kube_wdec_init(kube_wdec *d, size_t max_doc)
{
    memset(d, 0, sizeof *d);
    vg_buf_init(&d->buf);
    d->max_doc = max_doc ? max_doc : (64u << 20);
}

void kube_wdec_release(kube_wdec *d) { vg_buf_release(&d->buf); }

void kube_wdec_reset(kube_wdec *d)
{
    vg_buf_reset(&d->buf);
    d->depth = 0;
    d->in_doc = d->in_str = d->esc = false;
}

bool kube_wdec_pending(const kube_wdec *d) { return d->in_doc; }

int kube_wdec_feed(kube_wdec *d, const char *data, size_t len, kube_doc_fn fn, void *ud)
{
    size_t i = 0, start = 0;
    bool here = false; /* the current document began in this chunk */
    while (i < len) {
        if (!d->in_doc) {
            while (i < len && (data[i] == ' ' || data[i] == '\n' || data[i] == '\r' || data[i] == '\t'))
                i++;
            if (i >= len)
                break;
            if (data[i] != '{')
                return -EBADMSG;
            d->in_doc = true;
            d->depth = 1;
            start = i++;
            here = true;
            continue;
        }
        if (d->in_str) {
            if (d->esc) {
                d->esc = false;
                i++;
                continue;
            }
            /* jump to the next quote when no backslash precedes it */
            const char *q = memchr(data + i, '"', len - i);
            size_t stop = q ? (size_t)(q - data) : len;
            const char *bs = memchr(data + i, '\\', stop - i);
            if (!bs) {
                if (!q) {
                    i = len;
                    break;
                }
                d->in_str = false;
                i = stop + 1;
                continue;
            }
            i = (size_t)(bs - data) + 1;
            d->esc = true;
            continue;
        }
        char ch = data[i++];
        if (ch == '"') {
            d->in_str = true;
        } else if (ch == '{' || ch == '[') {
            if (++d->depth > WDEC_MAX_DEPTH)
                return -EBADMSG;
        } else if (ch == '}' || ch == ']') {
            if (--d->depth > 0)
                continue;
            /* a complete document */
            d->in_doc = false;
            d->docs++;
            int rc;
            if (here && d->buf.len == 0) {
                if (i - start > d->max_doc)
                    return -EFBIG;
                rc = fn(ud, data + start, i - start);
            } else {
                size_t from = here ? start : 0;
                if (d->buf.len + (i - from) > d->max_doc)
                    return -EFBIG;
                if (vg_buf_append(&d->buf, data + from, i - from))
                    return -ENOMEM;
                rc = fn(ud, d->buf.data, d->buf.len);
                vg_buf_reset(&d->buf);
            }
            here = false;
            if (rc)
                return rc;
        }
    }
    if (d->in_doc) {
        size_t from = here ? start : 0;
        if (d->buf.len + (len - from) > d->max_doc)
            return -EFBIG;
        if (vg_buf_append(&d->buf, data + from, len - from))
            return -ENOMEM;
    }
    return 0;
}

static const char *const ev_names[] = {"ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"};

const char *kube_ev_type_name(kube_ev_type t) { return (unsigned)t <= KUBE_EV_ERROR ? ev_names[t] : "?"; }

int kube_event_parse(const char *doc, size_t len, kube_event *ev)
{
    kj c;
    kj_init(&c, doc, len);
    vg_slice key, obj = {NULL, 0};
    char type[16] = "";
    bool have_type = false;
    int rc = kj_obj_begin(&c);
    while (rc == 0 && (rc = kj_obj_next(&c, &key)) > 0) {
        if (kj_key_is(key, "type")) {
            rc = kj_str_copy(&c, type, sizeof type, NULL);
            if (rc == -ENOSPC)
                rc = -EBADMSG;
            have_type = true;
        } else if (kj_key_is(key, "object")) {
            if (kj_peek(&c) != KJ_OBJ)
                return -EBADMSG;
            rc = kj_raw(&c, &obj);
        } else {
            rc = kj_skip(&c);
        }
    }
    if (rc == 0)
        rc = kj_finish(&c);
    if (rc)
        return -EBADMSG;
    if (!have_type || !obj.p)
        return -EBADMSG;
    for (int i = 0; i <= KUBE_EV_ERROR; i++) {
        if (strcmp(type, ev_names[i]) == 0) {
            ev->type = (kube_ev_type)i;
            ev->obj = obj.p;
            ev->obj_len = obj.n;
            return 0;
        }
    }
    return -EBADMSG;
}

int kube_watch_transport_parse(const char *s, kube_watch_transport *out)
{
    if (strcmp(s, "http") == 0)
        *out = KUBE_WATCH_HTTP;
    else if (strcmp(s, "websocket") == 0)
        *out = KUBE_WATCH_WEBSOCKET;
    else
        return -EINVAL;
    return 0;
}

int kube_watch_query(const kube_watch_opts *o, vg_buf *q)
{
    vg_buf_reset(q);
    int rc = kube_query_add(q, "watch", "true");
    if (!rc && o->bookmarks)
        rc = kube_query_add(q, "allowWatchBookmarks", "true");
    if (!rc && o->resource_version && o->resource_version[0])
        rc = kube_query_add(q, "resourceVersion", o->resource_version);
    if (!rc && o->send_initial_events) {
        rc = kube_query_add(q, "sendInitialEvents", "true");
        if (!rc)
            rc = kube_query_add(q, "resourceVersionMatch", "NotOlderThan");
    }
    if (!rc && o->label_selector && o->label_selector[0])
        rc = kube_query_add(q, "labelSelector", o->label_selector);
    if (!rc && o->field_selector && o->field_selector[0])
        rc = kube_query_add(q, "fieldSelector", o->field_selector);
    if (!rc && o->timeout_s) {
        char t[16];
        snprintf(t, sizeof t, "%u", o->timeout_s);
        rc = kube_query_add(q, "timeoutSeconds", t);
    }
    return rc;
}

typedef struct wctx {
    kube_wdec dec;
    kube_event_fn fn;
    void (*batch_end)(void *ud);
    void *ud;
    kube_watch_result *res;
    uint64_t flushed;    /* res->events at the last batch end */
} wctx;

static int on_doc(void *ud, const char *doc, size_t len)
{
    wctx *w = ud;
    kube_event ev;
    if (kube_event_parse(doc, len, &ev))
        return -EBADMSG;
    w->res->events++;
    return w->fn(w->ud, &ev);
}

static int on_chunk(void *ud, const char *data, size_t len)
{
    wctx *w = ud;
    if (!data) { /* the end of a network read */
        if (w->batch_end && w->res->events != w->flushed)
            w->batch_end(w->ud);
        w->flushed = w->res->events;
        return 0;
    }
    w->res->started = true;
    w->res->bytes += len;
    return kube_wdec_feed(&w->dec, data, len, on_doc, w);
}

int kube_watch_run(kube_client *c, const kube_watch_opts *o, kube_event_fn fn, void *ud, volatile int *cancel,
                   kube_resp *resp, kube_watch_result *res)
{
    memset(res, 0, sizeof *res);
    if (o->transport == KUBE_WATCH_WEBSOCKET)
        return kube_ws_watch_run(c, o, fn, ud, cancel, resp, res);
    vg_buf path = VG_BUF_INIT, q = VG_BUF_INIT;
    wctx w = {.fn = fn, .batch_end = o->batch_end, .ud = ud, .res = res};
    kube_wdec_init(&w.dec, 0);
    int rc = kube_path(&path, o->gvr, o->ns, NULL, NULL);
    if (!rc)
        rc = kube_watch_query(o, &q);
    if (!rc) {
        kube_req req = {.method = "GET", .path = path.data, .query = q.data, .verb = "WATCH"};
        unsigned idle = o->idle_timeout_s ? o->idle_timeout_s : (o->timeout_s ? o->timeout_s + 60 : 600);
        rc = kube_client_stream(c, &req, on_chunk, &w, idle, cancel, resp);
        if (resp->code >= 200 && resp->code < 300)
            res->started = true;
    }
    res->cut = kube_wdec_pending(&w.dec);
    kube_wdec_release(&w.dec);
    vg_buf_release(&path);
    vg_buf_release(&q);
    return rc;
}
