/*
 * ks_tls.h - kubesim's PKI: a throw-away CA made at start, a serving
 * certificate for the listen address and a client certificate for the
 * kubeconfig's certificate user, plus the server SSL_CTX that verifies
 * client certificates against that CA (optional: bearer tokens also work).
 *
 * Keys are ECDSA P-256 (fast to generate; Go and curl accept them).
 */
#ifndef KS_TLS_H
#define KS_TLS_H

#include <openssl/ssl.h>
#include <stddef.h>

typedef struct ks_pki {
    char *ca_pem;          /* CA certificate, PEM (heap) */
    char *server_cert_pem; /* serving chain leaf, PEM */
    char *server_key_pem;
    char *client_cert_pem; /* CN=kubesim-admin, O=system:masters */
    char *client_key_pem;
} ks_pki;

/* Generate everything; host is the serving IP or DNS name put in the SAN
 * (127.0.0.1 and localhost are always added). 0 or -errno; on failure
 * nothing is left allocated. Release with ks_pki_release. */
int ks_pki_init(ks_pki *pki, const char *host);
void ks_pki_release(ks_pki *pki);

/*
 * --state-dir: keep the PKI in dir (ca.crt, server.crt, server.key,
 * client.crt, client.key) so a restarted kubesim serves with the same CA
 * and clients keep trusting it. load: 0, -ENOENT when dir holds no complete
 * set, other -errno. save: 0 or -errno.
 */
int ks_pki_load(ks_pki *pki, const char *dir);
int ks_pki_save(const ks_pki *pki, const char *dir);

/* A TLS server context (TLS 1.2+, ALPN http/1.1) that asks for, but does
 * not require, a client certificate signed by the CA. NULL on failure. */
SSL_CTX *ks_pki_server_ctx(const ks_pki *pki);

/* The common name of a verified peer certificate into out (empty when the
 * peer sent none or it failed verification). */
void ks_tls_peer_cn(SSL *ssl, char *out, size_t cap);

#endif
