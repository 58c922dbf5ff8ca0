/*
 * test_kube_tls.c - the WebSocket transport's SSL_CTX: what it accepts
 * (PEM bundles, DER, a client certificate with its key) and refuses
 * (garbage, a key that does not match, a cert without a key), and that the
 * chain check it installs trusts only the given CA and records why not.
 * Keys and certificates are made here with OpenSSL, nothing on disk.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "kube/kube_tls.h"

typedef struct pem {
    char *data;
    long len;
} pem;

static EVP_PKEY *new_key(void) { return EVP_EC_gen("P-256"); }

/* A certificate for key, signed by (issuer, ikey), or self-signed. */
static X509 *new_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey, int ca)
{
    X509 *x = X509_new();
    assert_non_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), (long)(cn[0] + 1000 * ca));
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    assert_true(X509_sign(x, issuer ? ikey : key, EVP_sha256()) > 0);
    return x;
}

static pem cert_pem(X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, x);
    char *p;
    long n = BIO_get_mem_data(b, &p);
    pem out = {malloc((size_t)n), n};
    memcpy(out.data, p, (size_t)n);
    BIO_free(b);
    return out;
}

static pem key_pem(EVP_PKEY *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
    char *p;
    long n = BIO_get_mem_data(b, &p);
    pem out = {malloc((size_t)n), n};
    memcpy(out.data, p, (size_t)n);
    BIO_free(b);
    return out;
}

/*
 * A TLS handshake in memory between a client from ctx and a server
 * presenting (cert, key): 1 when it completes, 0 when the client refuses.
 */
static int handshake(SSL_CTX *ctx, X509 *cert, EVP_PKEY *key)
{
    SSL_CTX *sctx = SSL_CTX_new(TLS_server_method());
    assert_int_equal(SSL_CTX_use_certificate(sctx, cert), 1);
    assert_int_equal(SSL_CTX_use_PrivateKey(sctx, key), 1);
    SSL *c = SSL_new(ctx), *s = SSL_new(sctx);
    BIO *cb, *sb;
    assert_int_equal(BIO_new_bio_pair(&cb, 0, &sb, 0), 1);
    SSL_set_bio(c, cb, cb);
    SSL_set_bio(s, sb, sb);
    SSL_set_connect_state(c);
    SSL_set_accept_state(s);
    int done = 0, failed = 0;
    for (int i = 0; i < 100 && !done && !failed; i++) {
        int rc = SSL_do_handshake(c);
        int rs = SSL_do_handshake(s);
        if (rc == 1 && rs == 1)
            done = 1;
        else if (rc <= 0 && SSL_get_error(c, rc) == SSL_ERROR_SSL)
            failed = 1;
    }
    SSL_free(c);
    SSL_free(s);
    SSL_CTX_free(sctx);
    ERR_clear_error();
    assert_true(done || failed);
    return done;
}

typedef struct world {
    EVP_PKEY *ca_key, *other_key, *srv_key, *cli_key;
    X509 *ca, *other, *srv, *srv_other, *cli;
} world;

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    w->ca_key = new_key();
    w->other_key = new_key();
    w->srv_key = new_key();
    w->cli_key = new_key();
    w->ca = new_cert("ca", w->ca_key, NULL, NULL, 1);
    w->other = new_cert("other-ca", w->other_key, NULL, NULL, 1);
    w->srv = new_cert("server", w->srv_key, w->ca, w->ca_key, 0);
    w->srv_other = new_cert("server2", w->srv_key, w->other, w->other_key, 0);
    w->cli = new_cert("client", w->cli_key, w->ca, w->ca_key, 0);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    X509 *xs[] = {w->ca, w->other, w->srv, w->srv_other, w->cli};
    for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++)
        X509_free(xs[i]);
    EVP_PKEY *ks[] = {w->ca_key, w->other_key, w->srv_key, w->cli_key};
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++)
        EVP_PKEY_free(ks[i]);
    free(w);
    return 0;
}

static void test_trusts_only_its_ca(void **state)
{
    world *w = *state;
    pem ca = cert_pem(w->ca), other = cert_pem(w->other);
    /* a bundle: the other CA first, then ours */
    char *bundle = malloc((size_t)(ca.len + other.len));
    memcpy(bundle, other.data, (size_t)other.len);
    memcpy(bundle + other.len, ca.data, (size_t)ca.len);
    kube_tls_verify v = {0};
    SSL_CTX *ctx = NULL;
    assert_int_equal(kube_tls_ctx_new(ca.data, (size_t)ca.len, NULL, 0, NULL, 0, &v, &ctx), 0);
    assert_int_equal(SSL_CTX_get_verify_mode(ctx), SSL_VERIFY_PEER);
    assert_int_equal(handshake(ctx, w->srv, w->srv_key), 1);
    assert_int_equal(v.error, 0);
    assert_int_equal(handshake(ctx, w->srv_other, w->srv_key), 0);
    assert_int_not_equal(v.error, 0);
    assert_non_null(X509_verify_cert_error_string(v.error));
    SSL_CTX_free(ctx);
    ctx = NULL;
    assert_int_equal(kube_tls_ctx_new(bundle, (size_t)(ca.len + other.len), NULL, 0, NULL, 0, &v, &ctx), 0);
    assert_int_equal(handshake(ctx, w->srv, w->srv_key), 1);
    assert_int_equal(handshake(ctx, w->srv_other, w->srv_key), 1);
    SSL_CTX_free(ctx);
    free(bundle);
    free(ca.data);
    free(other.data);
}

static void test_der_ca(void **state)
{
    world *w = *state;
    unsigned char *der = NULL;
    int n = i2d_X509(w->ca, &der);
    assert_true(n > 0);
    kube_tls_verify v = {0};
    SSL_CTX *ctx = NULL;
    assert_int_equal(kube_tls_ctx_new(der, (size_t)n, NULL, 0, NULL, 0, &v, &ctx), 0);
    assert_int_equal(handshake(ctx, w->srv, w->srv_key), 1);
    SSL_CTX_free(ctx);
    OPENSSL_free(der);
}

static void test_client_identity(void **state)
{
    world *w = *state;
    pem ca = cert_pem(w->ca), cli = cert_pem(w->cli), key = key_pem(w->cli_key), wrong = key_pem(w->srv_key);
    kube_tls_verify v = {0};
    SSL_CTX *ctx = NULL;
    assert_int_equal(kube_tls_ctx_new(ca.data, (size_t)ca.len, cli.data, (size_t)cli.len, key.data, (size_t)key.len,
                                      &v, &ctx),
                     0);
    assert_non_null(SSL_CTX_get0_certificate(ctx));
    SSL_CTX_free(ctx);
    ctx = NULL;
    /* key of another certificate, no key, garbage */
    assert_int_equal(kube_tls_ctx_new(ca.data, (size_t)ca.len, cli.data, (size_t)cli.len, wrong.data,
                                      (size_t)wrong.len, &v, &ctx),
                     -EINVAL);
    assert_int_equal(kube_tls_ctx_new(ca.data, (size_t)ca.len, cli.data, (size_t)cli.len, NULL, 0, &v, &ctx), -EINVAL);
    assert_int_equal(kube_tls_ctx_new(ca.data, (size_t)ca.len, "junk", 4, key.data, (size_t)key.len, &v, &ctx),
                     -EINVAL);
    assert_null(ctx);
    free(ca.data);
    free(cli.data);
    free(key.data);
    free(wrong.data);
}

static void test_bad_ca(void **state)
{
    (void)state;
    kube_tls_verify v = {0};
    SSL_CTX *ctx = NULL;
    static const char junk[] = "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n";
    assert_int_equal(kube_tls_ctx_new(junk, sizeof junk - 1, NULL, 0, NULL, 0, &v, &ctx), -EINVAL);
    assert_int_equal(kube_tls_ctx_new("x", 1, NULL, 0, NULL, 0, &v, &ctx), -EINVAL);
    assert_null(ctx);
    /* no CA: the system store */
    assert_int_equal(kube_tls_ctx_new(NULL, 0, NULL, 0, NULL, 0, &v, &ctx), 0);
    SSL_CTX_free(ctx);
}

static void test_insecure(void **state)
{
    world *w = *state;
    pem ca = cert_pem(w->ca);
    kube_tls_verify v = {.insecure = true};
    SSL_CTX *ctx = NULL;
    assert_int_equal(kube_tls_ctx_new(ca.data, (size_t)ca.len, NULL, 0, NULL, 0, &v, &ctx), 0);
    assert_int_equal(SSL_CTX_get_verify_mode(ctx), SSL_VERIFY_NONE);
    assert_int_equal(handshake(ctx, w->srv_other, w->srv_key), 1);
    assert_int_equal(v.error, 0);
    SSL_CTX_free(ctx);
    free(ca.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trusts_only_its_ca), cmocka_unit_test(test_der_ca),
        cmocka_unit_test(test_client_identity),    cmocka_unit_test(test_bad_ca),
        cmocka_unit_test(test_insecure),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
