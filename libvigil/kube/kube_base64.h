/*
 * kube_base64.h - base64 for kubeconfig inline data (standard alphabet,
 * padding optional, whitespace ignored) and base64url without padding for
 * the WebSocket bearer-token subprotocol.
 */
#ifndef KUBE_BASE64_H
#define KUBE_BASE64_H

#include <stddef.h>

#include "vg_buf.h"

/* Decode src[0..n) and append to out. 0, -EINVAL (bad character or length) or -ENOMEM. */
int kube_base64_decode(const char *src, size_t n, vg_buf *out);
/* Append the base64url (RFC 4648 section 5, no '=') encoding of src. */
int kube_base64url_encode(const void *src, size_t n, vg_buf *out);

#endif
