/*
 * kube_watch.h - watch streams: the incremental event decoder and one
 * watch request over chunked HTTP (or WebSocket, kube_ws.h).
 *
 * The API server writes one JSON document per event; chunk boundaries
 * have nothing to do with event boundaries (an event may span chunks,
 * a chunk may hold several events). kube_wdec is a pure, push-driven
 * splitter: feed it bytes as they arrive, it calls back once per complete
 * top-level document. It tracks string/escape state and nesting so it does
 * not depend on the newline the server happens to add. A document is
 * handed out straight from the caller's chunk when it lies inside one
 * (no copy); only a document split across chunks is assembled in a buffer.
 *
 * kube_watch_run performs ONE watch request and returns when it ends;
 * resuming, relisting and backoff are the informer's business
 * (kube_informer.h), as in client-go's reflector.
 */
#ifndef KUBE_WATCH_H
#define KUBE_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kube_client.h"
#include "vg_buf.h"

/* ---- stream splitter ---- */

typedef struct kube_wdec {
    vg_buf buf;        /* the part of a document seen in earlier chunks */
    size_t max_doc;    /* a document larger than this is -EFBIG */
    int depth;
    bool in_doc;
    bool in_str;
    bool esc;
    uint64_t docs;     /* documents emitted */
} kube_wdec;

typedef int (*kube_doc_fn)(void *ud, const char *doc, size_t len);

/* max_doc 0 = 64 MiB. */
void kube_wdec_init(kube_wdec *d, size_t max_doc);
void kube_wdec_release(kube_wdec *d);
/* Forget any partial document (new stream). */
void kube_wdec_reset(kube_wdec *d);
/*
 * Feed len bytes. For each complete document, fn(ud, doc, len) is called;
 * a non-zero return stops feeding and is returned. -EBADMSG when the
 * stream holds something other than whitespace-separated JSON objects
 * (the decoder must then be reset), -EFBIG when a document is too large,
 * -ENOMEM. Documents are only split, not validated: the event parser
 * validates them.
 */
int kube_wdec_feed(kube_wdec *d, const char *data, size_t len, kube_doc_fn fn, void *ud);
/* True when bytes of an unfinished document are pending (a stream that ends
 * now was cut mid-event). */
bool kube_wdec_pending(const kube_wdec *d);

/* ---- events ---- */

typedef enum {
    KUBE_EV_ADDED = 0,
    KUBE_EV_MODIFIED,
    KUBE_EV_DELETED,
    KUBE_EV_BOOKMARK,
    KUBE_EV_ERROR,
} kube_ev_type;

typedef struct kube_event {
    kube_ev_type type;
    const char *obj;       /* raw JSON of "object", inside the document */
    size_t obj_len;
} kube_event;

/* Parse {"type":..., "object":{...}}. 0 or -EBADMSG (unknown type, missing
 * object, malformed JSON). */
int kube_event_parse(const char *doc, size_t len, kube_event *ev);
const char *kube_ev_type_name(kube_ev_type t);

/* ---- one watch request ---- */

typedef enum {
    KUBE_WATCH_HTTP = 0,
    KUBE_WATCH_WEBSOCKET,
} kube_watch_transport;

/* "http" / "websocket" -> transport; 0 or -EINVAL. */
int kube_watch_transport_parse(const char *s, kube_watch_transport *out);

typedef struct kube_watch_opts {
    const kube_gvr *gvr;
    const char *ns;                 /* NULL = all namespaces */
    const char *resource_version;   /* NULL/"" = unset */
    const char *label_selector;
    const char *field_selector;
    unsigned timeout_s;             /* server-side timeoutSeconds; 0 = none */
    bool bookmarks;                 /* allowWatchBookmarks=true */
    bool send_initial_events;       /* streaming list (adds resourceVersionMatch=NotOlderThan) */
    kube_watch_transport transport;
    unsigned idle_timeout_s;        /* silent connection limit; 0 = timeout_s + 60 */
    bool ws_token_subprotocol;      /* WebSocket: bearer token as subprotocol, not header */
    /* Called with the event callback's ud after the events decoded from one
     * read (an HTTP chunk, a WebSocket service round) have been delivered,
     * when there were any: the consumer hands its work on once per burst
     * instead of once per event. NULL = not called. */
    void (*batch_end)(void *ud);
} kube_watch_opts;

/* Per event; a non-zero return ends the watch and is returned by run. */
typedef int (*kube_event_fn)(void *ud, const kube_event *ev);

typedef struct kube_watch_result {
    uint64_t events;     /* events delivered */
    uint64_t bytes;
    bool cut;            /* the stream ended inside an event */
    bool started;        /* the server accepted the watch (2xx / 101) */
} kube_watch_result;

/* Build the watch query for o (exposed for tests). */
int kube_watch_query(const kube_watch_opts *o, vg_buf *q);

/*
 * Run one watch until the server ends it (0), fn stops it (fn's value),
 * *cancel/kube_client_stop (-ECANCELED), the server refuses it (API error
 * as kube_client_do, resp filled), the transport fails (-errno) or the
 * stream is garbage (-EBADMSG). res is filled in every case.
 */
int kube_watch_run(kube_client *c, const kube_watch_opts *o, kube_event_fn fn, void *ud, volatile int *cancel,
                   kube_resp *resp, kube_watch_result *res);

#endif
