/*
 * ks_watch.h - watch streams: chunked HTTP (one JSON event per line) and
 * WebSocket (one event per text message), from a resourceVersion inside
 * the history window (older: an in-stream ERROR 410 Expired), with
 * synthetic ADDED events for RV unset/"0", sendInitialEvents with the
 * k8s.io/initial-events-end bookmark, periodic bookmarks, timeoutSeconds,
 * selector transitions (an object leaving the selector is DELETED, one
 * entering it ADDED) and the stream faults of ks_fault.h.
 */
#ifndef KS_WATCH_H
#define KS_WATCH_H

#include "ks_http.h"
#include "ks_select.h"
#include "ks_sim.h"

/* Serve one watch request to its end. 0 when the connection may be
 * reused (clean end of a chunked stream), <0 to close it. */
int ks_watch_serve(ks_sim *s, ks_conn *c, ks_req *req, ks_rtype *rt, const char *ns, const ks_sel *ls,
                   const ks_sel *fs);

#endif
