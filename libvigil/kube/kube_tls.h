/*
 * kube_tls.h - an OpenSSL client context for the API server, built from
 * the kubeconfig's CA bundle and client certificate.
 *
 * The WebSocket transport hands this to libwebsockets as a user-supplied
 * context, for two lws 4.1 faults seen under load:
 * - its client-context cache entry and the SSL_CTX point at each other and
 *   the entry kept an extra reference after a server-closed watch, so every
 *   watch restart leaked a whole SSL_CTX (found with LeakSanitizer);
 * - it allocates its SSL ex_data index afresh in every context, so a watch
 *   starting on one thread made another thread's certificate check lose
 *   its connection and fail ("can't get wsi from ssl privdata").
 * With our own context the lifetime is ours (created before
 * lws_create_context, freed after lws_context_destroy) and the chain is
 * verified by OpenSSL alone, never through lws's verify callback.
 */
#ifndef KUBE_TLS_H
#define KUBE_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

/* Caller's storage, outliving the SSL_CTX it is given to. */
typedef struct kube_tls_verify {
    bool insecure;   /* in: skip the check (insecure-skip-tls-verify) */
    int error;       /* out: X509_V_ERR_* of the last failed check, 0 = none */
} kube_tls_verify;

/*
 * New client SSL_CTX (TLS 1.2 or later) trusting the PEM (or DER)
 * certificates in ca/calen, or the system store when calen is 0, and
 * presenting cert/key (PEM; cert may carry a chain) when certlen is
 * non-zero. The server's chain is verified against that trust (host name
 * checks are set per connection by the caller) unless v->insecure; a
 * failed check is recorded in v->error (X509_verify_cert_error_string
 * names it). 0 and *out (caller frees with
 * SSL_CTX_free), or -ENOMEM, or -EINVAL (unreadable CA, certificate or
 * key, or a key that does not match the certificate). *out untouched on
 * failure.
 */
int kube_tls_ctx_new(const void *ca, size_t calen, const void *cert, size_t certlen, const void *key,
                     size_t keylen, kube_tls_verify *v, SSL_CTX **out);

#endif
