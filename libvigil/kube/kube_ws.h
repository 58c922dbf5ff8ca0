/*
 * kube_ws.h - one watch request over WebSocket (libwebsockets client).
 *
 * The API server serves the same watch URL over a WebSocket upgrade, one
 * event per message (text frames, plain JSON). Each message is decoded as
 * one event; fragmented messages are reassembled. The bearer token goes in
 * the Authorization header, or (ws_token_subprotocol) as the subprotocol
 * "base64url.bearer.authorization.k8s.io.<token>" offered together with
 * KUBE_WS_WATCH_PROTOCOL, which is what browsers must do.
 *
 * Each run creates its own lws context on the calling thread and services
 * it there until the watch ends, so it blocks like the HTTP variant and
 * needs no extra thread. TLS material comes from kube_config as memory
 * blobs, as for libcurl.
 */
#ifndef KUBE_WS_H
#define KUBE_WS_H

#include "kube_watch.h"

/* The subprotocol offered beside the token one. */
#define KUBE_WS_WATCH_PROTOCOL "v1.watch.vigil.dev"

/* Same contract as kube_watch_run (o->transport is ignored). For a refused
 * upgrade resp->code carries the HTTP status when libwebsockets reports it
 * (the body is not available), else the call fails with -ECONNREFUSED/-EIO. */
int kube_ws_watch_run(kube_client *c, const kube_watch_opts *o, kube_event_fn fn, void *ud, volatile int *cancel,
                      kube_resp *resp, kube_watch_result *res);

#endif
