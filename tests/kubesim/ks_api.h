/*
 * ks_api.h - the Kubernetes API surface of kubesim: authentication,
 * routing of /api and /apis paths to resource types, discovery, OpenAPI,
 * get/list/create/update/patch/delete/deletecollection, subresources
 * (status, scale, eviction, binding, log), request-level fault injection,
 * and the /_sim control endpoints. Watches are handed to ks_watch.
 */
#ifndef KS_API_H
#define KS_API_H

#include "ks_http.h"
#include "ks_sim.h"

/* Serve one request. 0: keep the connection; <0: close it. */
int ks_api_serve(ks_sim *s, ks_conn *c, ks_req *req);

/* Reply helpers shared with ks_watch. */
int ks_api_reply(ks_conn *c, int code, const char *body, size_t len, const char *extra_headers, int keep);
int ks_api_reply_err(ks_conn *c, const ks_err *e, int keep);

/* Parse a continue token; 0 or -EINVAL. */
int ks_continue_decode(const char *tok, uint64_t *rv, char *start, size_t cap, int64_t *created);
int ks_continue_encode(uint64_t rv, const char *start, int64_t created, char *out, size_t cap);

/* Wait (store lock held; it is released while waiting) until the store
 * reaches rv or ms pass. 1 when reached. */
int ks_api_wait_rv_locked(ks_sim *s, uint64_t rv, int ms);

/* Does obj pass the label and field selectors? */
struct ks_sel;
int ks_api_obj_matches(json_object *obj, const struct ks_sel *labels, const struct ks_sel *fields);

/* WebSocket subprotocols: the base64url bearer token (decoded into token,
 * has_tok set when present), the first other protocol in rest and how
 * many other protocols there are. */
void ks_api_ws_protocols(const char *hdr, char *token, size_t tcap, char *rest, size_t rcap, int *nrest, int *has_tok);

/* The "too large resource version" 504. */
void ks_api_err_too_large(ks_err *e, uint64_t want, uint64_t have);

#endif
