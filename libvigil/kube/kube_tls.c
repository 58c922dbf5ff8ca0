/*
 * kube_tls.c - client SSL_CTX from in-memory PEM; see kube_tls.h for why
 * the WebSocket transport does not let libwebsockets build its own.
 */
#include "kube_tls.h"

#include <errno.h>
#include <limits.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* Add every certificate of a PEM bundle (or one DER certificate). */
static int add_ca(SSL_CTX *ctx, const void *ca, size_t calen)
{
    X509_STORE *st = SSL_CTX_get_cert_store(ctx);
    BIO *bio = BIO_new_mem_buf(ca, (int)calen);
    if (!bio)
        return -ENOMEM;
    int n = 0;
    X509 *x;
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
        int ok = X509_STORE_add_cert(st, x);
        X509_free(x);
        if (!ok) {
            BIO_free(bio);
            return -EINVAL;
        }
        n++;
    }
    BIO_free(bio);
    if (n == 0) {
        const unsigned char *p = ca;
        x = d2i_X509(NULL, &p, (long)calen);
        if (!x)
            return -EINVAL;
        int ok = X509_STORE_add_cert(st, x);
        X509_free(x);
        if (!ok)
            return -EINVAL;
    }
    ERR_clear_error(); /* the PEM loop ends on a "no start line" error */
    return 0;
}

/* Leaf certificate, then any chain certificates, then the key. */
static int add_identity(SSL_CTX *ctx, const void *cert, size_t certlen, const void *key, size_t keylen)
{
    int rc = -EINVAL;
    BIO *cb = BIO_new_mem_buf(cert, (int)certlen);
    BIO *kb = BIO_new_mem_buf(key, (int)keylen);
    X509 *leaf = NULL, *extra = NULL;
    EVP_PKEY *pk = NULL;
    if (!cb || !kb) {
        rc = -ENOMEM;
        goto out;
    }
    if (!(leaf = PEM_read_bio_X509(cb, NULL, NULL, NULL)) || SSL_CTX_use_certificate(ctx, leaf) != 1)
        goto out;
    while ((extra = PEM_read_bio_X509(cb, NULL, NULL, NULL))) {
        if (SSL_CTX_add1_chain_cert(ctx, extra) != 1)
            goto out;
        X509_free(extra);
        extra = NULL;
    }
    if (!(pk = PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL)) || SSL_CTX_use_PrivateKey(ctx, pk) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1)
        goto out;
    rc = 0;
out:
    X509_free(extra);
    X509_free(leaf);
    EVP_PKEY_free(pk);
    BIO_free(cb);
    BIO_free(kb);
    ERR_clear_error();
    return rc;
}

/*
 * Replaces the per-connection verify callback lws installs (which looks
 * its connection up through the racy index) with one that keeps OpenSSL's
 * verdict: the chain and the host name set on the connection are checked,
 * and the result is what SSL_get_verify_result later reports.
 */
static int keep_verdict(int ok, X509_STORE_CTX *x)
{
    (void)x;
    return ok;
}

static int verify_chain(X509_STORE_CTX *x, void *arg)
{
    kube_tls_verify *v = arg;
    if (v->insecure)
        return 1;
    X509_STORE_CTX_set_verify_cb(x, keep_verdict);
    if (X509_verify_cert(x) == 1)
        return 1;
    int e = X509_STORE_CTX_get_error(x);
    v->error = e ? e : X509_V_ERR_UNSPECIFIED;
    return 0;
}

int kube_tls_ctx_new(const void *ca, size_t calen, const void *cert, size_t certlen, const void *key,
                     size_t keylen, kube_tls_verify *v, SSL_CTX **out)
{
    if (calen > INT_MAX || certlen > INT_MAX || keylen > INT_MAX || (certlen && !keylen))
        return -EINVAL;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        return -ENOMEM;
    int rc = -EINVAL;
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
        goto fail;
    SSL_CTX_set_verify(ctx, v->insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_cert_verify_callback(ctx, verify_chain, v);
    if (calen) {
        if ((rc = add_ca(ctx, ca, calen)))
            goto fail;
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        rc = -EINVAL;
        goto fail;
    }
    if (certlen && (rc = add_identity(ctx, cert, certlen, key, keylen)))
        goto fail;
    *out = ctx;
    return 0;
fail:
    SSL_CTX_free(ctx);
    ERR_clear_error();
    return rc;
}
