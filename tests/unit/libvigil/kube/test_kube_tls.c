/*
 * test_kube_tls.c - the WebSocket transport's SSL_CTX: what it accepts
 * (PEM bundles, DER, a client certificate with its key) and refuses
 * (garbage, a key that does not match, a cert without a key), and that the
 * chain check it installs trusts only the given CA and records why not.
 * Two kubesim PKIs (ks_pki: a CA, a server and a client certificate each)
 * stand in for two API servers; handshakes run in memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "kube/kube_tls.h"
#include "tests/kubesim/ks_tls.h"

typedef struct world {
    ks_pki a, b;       /* two independent CAs with their certificates */
    SSL_CTX *srv_a;    /* server presenting a's server certificate */
    SSL_CTX *srv_b;
} world;

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    if (!w || ks_pki_init(&w->a, NULL) || ks_pki_init(&w->b, NULL))
        return -1;
    w->srv_a = ks_pki_server_ctx(&w->a);
    w->srv_b = ks_pki_server_ctx(&w->b);
    if (!w->srv_a || !w->srv_b)
        return -1;
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    SSL_CTX_free(w->srv_a);
    SSL_CTX_free(w->srv_b);
    ks_pki_release(&w->a);
    ks_pki_release(&w->b);
    free(w);
    return 0;
}

/*
 * A TLS handshake in memory between a client from ctx and a server from
 * sctx: 1 when it completes, 0 when the client refuses. peer_cn (may be
 * NULL) gets the client certificate's CN as the server verified it.
 */
static int handshake(SSL_CTX *ctx, SSL_CTX *sctx, char *peer_cn, size_t cap)
{
    SSL *c = SSL_new(ctx), *s = SSL_new(sctx);
    BIO *cb, *sb;
    assert_non_null(c);
    assert_non_null(s);
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
    if (done && peer_cn)
        ks_tls_peer_cn(s, peer_cn, cap);
    SSL_free(c);
    SSL_free(s);
    ERR_clear_error();
    assert_true(done || failed);
    return done;
}

static SSL_CTX *client_ctx(const char *ca, kube_tls_verify *v)
{
    SSL_CTX *ctx = NULL;
    assert_int_equal(kube_tls_ctx_new(ca, ca ? strlen(ca) : 0, NULL, 0, NULL, 0, v, &ctx), 0);
    assert_non_null(ctx);
    return ctx;
}

static void test_trusts_only_its_ca(void **state)
{
    world *w = *state;
    kube_tls_verify v = {0};
    SSL_CTX *ctx = client_ctx(w->a.ca_pem, &v);
    assert_int_equal(SSL_CTX_get_verify_mode(ctx), SSL_VERIFY_PEER);
    assert_int_equal(handshake(ctx, w->srv_a, NULL, 0), 1);
    assert_int_equal(v.error, 0);
    assert_int_equal(handshake(ctx, w->srv_b, NULL, 0), 0);
    assert_int_not_equal(v.error, 0);
    assert_non_null(X509_verify_cert_error_string(v.error));
    SSL_CTX_free(ctx);

    /* a bundle: the other CA first, then ours */
    size_t la = strlen(w->a.ca_pem), lb = strlen(w->b.ca_pem);
    char *bundle = malloc(la + lb + 1);
    memcpy(bundle, w->b.ca_pem, lb);
    memcpy(bundle + lb, w->a.ca_pem, la + 1);
    kube_tls_verify vb = {0};
    ctx = client_ctx(bundle, &vb);
    assert_int_equal(handshake(ctx, w->srv_a, NULL, 0), 1);
    assert_int_equal(handshake(ctx, w->srv_b, NULL, 0), 1);
    assert_int_equal(vb.error, 0);
    SSL_CTX_free(ctx);
    free(bundle);
}

static void test_der_ca(void **state)
{
    world *w = *state;
    BIO *b = BIO_new_mem_buf(w->a.ca_pem, -1);
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    assert_non_null(x);
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    X509_free(x);
    assert_true(n > 0);
    kube_tls_verify v = {0};
    SSL_CTX *ctx = NULL;
    assert_int_equal(kube_tls_ctx_new(der, (size_t)n, NULL, 0, NULL, 0, &v, &ctx), 0);
    assert_int_equal(handshake(ctx, w->srv_a, NULL, 0), 1);
    assert_int_equal(handshake(ctx, w->srv_b, NULL, 0), 0);
    SSL_CTX_free(ctx);
    OPENSSL_free(der);
}

static void test_client_identity(void **state)
{
    world *w = *state;
    const char *ca = w->a.ca_pem, *cert = w->a.client_cert_pem, *key = w->a.client_key_pem;
    kube_tls_verify v = {0};
    SSL_CTX *ctx = NULL;
    assert_int_equal(kube_tls_ctx_new(ca, strlen(ca), cert, strlen(cert), key, strlen(key), &v, &ctx), 0);
    char cn[64] = "";
    assert_int_equal(handshake(ctx, w->srv_a, cn, sizeof cn), 1);
    assert_string_equal(cn, "kubesim-admin"); /* the server saw and verified it */
    SSL_CTX_free(ctx);
    ctx = NULL;
    /* the key of another certificate, no key, garbage */
    const char *wrong = w->b.client_key_pem;
    assert_int_equal(kube_tls_ctx_new(ca, strlen(ca), cert, strlen(cert), wrong, strlen(wrong), &v, &ctx), -EINVAL);
    assert_int_equal(kube_tls_ctx_new(ca, strlen(ca), cert, strlen(cert), NULL, 0, &v, &ctx), -EINVAL);
    assert_int_equal(kube_tls_ctx_new(ca, strlen(ca), "junk", 4, key, strlen(key), &v, &ctx), -EINVAL);
    assert_null(ctx);
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
    kube_tls_verify v = {.insecure = true};
    SSL_CTX *ctx = client_ctx(w->a.ca_pem, &v);
    assert_int_equal(SSL_CTX_get_verify_mode(ctx), SSL_VERIFY_NONE);
    assert_int_equal(handshake(ctx, w->srv_b, NULL, 0), 1);
    assert_int_equal(v.error, 0);
    SSL_CTX_free(ctx);
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
