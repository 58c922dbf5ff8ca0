/*
 * ks_tls.c - certificate generation with the OpenSSL 3 EVP/X509 APIs and
 * the server SSL_CTX. Everything lives in memory as PEM strings; the
 * kubeconfig writer embeds them as *-data fields.
 */
#include "ks_tls.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static EVP_PKEY *gen_key(void)
{
    return EVP_EC_gen("P-256");
}

static char *bio_to_str(BIO *b)
{
    char *p = NULL;
    long n = BIO_get_mem_data(b, &p);
    char *s = malloc((size_t)n + 1);
    if (!s)
        return NULL;
    memcpy(s, p, (size_t)n);
    s[n] = 0;
    return s;
}

static char *cert_pem(X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *s = NULL;
    if (b && PEM_write_bio_X509(b, x))
        s = bio_to_str(b);
    BIO_free(b);
    return s;
}

static char *key_pem(EVP_PKEY *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *s = NULL;
    if (b && PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL))
        s = bio_to_str(b);
    BIO_free(b);
    return s;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ex)
        return -1;
    int ok = X509_add_ext(cert, ex, -1);
    X509_EXTENSION_free(ex);
    return ok ? 0 : -1;
}

/* Make a certificate for key signed by (issuer, ikey); issuer NULL = self-signed. */
static X509 *make_cert(EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey, const char *cn,
                       const char *org, int is_ca, const char *san, int client)
{
    X509 *x = X509_new();
    if (!x)
        return NULL;
    unsigned char serial[16];
    RAND_bytes(serial, sizeof serial);
    serial[0] &= 0x7f;
    BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
    X509_set_version(x, 2);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24 * 365);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    if (org)
        X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)org, -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    X509 *iss = issuer ? issuer : x;
    int bad = 0;
    if (is_ca) {
        bad |= add_ext(x, iss, NID_basic_constraints, "critical,CA:TRUE");
        bad |= add_ext(x, iss, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature");
        bad |= add_ext(x, iss, NID_subject_key_identifier, "hash");
    } else {
        bad |= add_ext(x, iss, NID_basic_constraints, "critical,CA:FALSE");
        bad |= add_ext(x, iss, NID_key_usage, "critical,digitalSignature,keyEncipherment");
        bad |= add_ext(x, iss, NID_ext_key_usage, client ? "clientAuth" : "serverAuth");
        bad |= add_ext(x, iss, NID_authority_key_identifier, "keyid:always");
        if (san)
            bad |= add_ext(x, iss, NID_subject_alt_name, san);
    }
    if (bad || !X509_sign(x, issuer ? ikey : key, EVP_sha256())) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static int is_ip(const char *h)
{
    for (const char *p = h; *p; p++)
        if (!((*p >= '0' && *p <= '9') || *p == '.' || *p == ':'))
            return 0;
    return 1;
}

int ks_pki_init(ks_pki *pki, const char *host)
{
    int rc = -ENOMEM;
    EVP_PKEY *cak = gen_key(), *sk = gen_key(), *ck = gen_key();
    X509 *ca = NULL, *sc = NULL, *cc = NULL;
    ks_pki p;
    memset(&p, 0, sizeof p);
    if (!cak || !sk || !ck)
        goto out;
    char san[512];
    if (host && *host && strcmp(host, "127.0.0.1") && strcmp(host, "localhost"))
        snprintf(san, sizeof san, "IP:127.0.0.1,DNS:localhost,%s:%s", is_ip(host) ? "IP" : "DNS", host);
    else
        snprintf(san, sizeof san, "IP:127.0.0.1,DNS:localhost,IP:::1");
    ca = make_cert(cak, NULL, NULL, "kubesim-ca", NULL, 1, NULL, 0);
    if (!ca)
        goto out;
    sc = make_cert(sk, ca, cak, "kube-apiserver", NULL, 0, san, 0);
    cc = make_cert(ck, ca, cak, "kubesim-admin", "system:masters", 0, NULL, 1);
    if (!sc || !cc)
        goto out;
    p.ca_pem = cert_pem(ca);
    p.server_cert_pem = cert_pem(sc);
    p.server_key_pem = key_pem(sk);
    p.client_cert_pem = cert_pem(cc);
    p.client_key_pem = key_pem(ck);
    if (!p.ca_pem || !p.server_cert_pem || !p.server_key_pem || !p.client_cert_pem ||
        !p.client_key_pem) {
        ks_pki_release(&p);
        goto out;
    }
    *pki = p;
    rc = 0;
out:
    X509_free(ca);
    X509_free(sc);
    X509_free(cc);
    EVP_PKEY_free(cak);
    EVP_PKEY_free(sk);
    EVP_PKEY_free(ck);
    return rc;
}

void ks_pki_release(ks_pki *pki)
{
    free(pki->ca_pem);
    free(pki->server_cert_pem);
    free(pki->server_key_pem);
    free(pki->client_cert_pem);
    free(pki->client_key_pem);
    memset(pki, 0, sizeof *pki);
}

static const char *const pki_files[] = {"ca.crt", "server.crt", "server.key", "client.crt", "client.key"};

static char **pki_slot(ks_pki *p, int i)
{
    char **slots[] = {&p->ca_pem, &p->server_cert_pem, &p->server_key_pem, &p->client_cert_pem, &p->client_key_pem};
    return slots[i];
}

static int read_all(const char *path, char **out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -errno;
    char *b = malloc(65536);
    size_t n = b ? fread(b, 1, 65535, f) : 0;
    fclose(f);
    if (!b)
        return -ENOMEM;
    b[n] = 0;
    *out = b;
    return n ? 0 : -ENOENT;
}

int ks_pki_load(ks_pki *pki, const char *dir)
{
    ks_pki p;
    memset(&p, 0, sizeof p);
    int rc = 0;
    for (int i = 0; i < 5 && !rc; i++) {
        char path[1100];
        snprintf(path, sizeof path, "%s/%s", dir, pki_files[i]);
        rc = read_all(path, pki_slot(&p, i));
    }
    if (rc) {
        ks_pki_release(&p);
        return rc;
    }
    *pki = p;
    return 0;
}

int ks_pki_save(const ks_pki *pki, const char *dir)
{
    ks_pki p = *pki;
    for (int i = 0; i < 5; i++) {
        char path[1100];
        snprintf(path, sizeof path, "%s/%s", dir, pki_files[i]);
        FILE *f = fopen(path, "wb");
        if (!f)
            return -errno;
        const char *data = *pki_slot(&p, i);
        size_t n = strlen(data);
        int bad = fwrite(data, 1, n, f) != n;
        if (fclose(f) || bad)
            return -EIO;
    }
    return 0;
}

static int alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                   const unsigned char *in, unsigned int inlen, void *arg)
{
    static const unsigned char h11[] = "http/1.1";
    for (unsigned i = 0; i < inlen;) {
        unsigned l = in[i];
        if (i + 1 + l > inlen)
            break;
        if (l == 8 && !memcmp(in + i + 1, h11, 8)) {
            *out = in + i + 1;
            *outlen = 8;
            return SSL_TLSEXT_ERR_OK;
        }
        i += 1 + l;
    }
    return SSL_TLSEXT_ERR_NOACK;
}

SSL_CTX *ks_pki_server_ctx(const ks_pki *pki)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    BIO *b = NULL;
    X509 *cert = NULL, *ca = NULL;
    EVP_PKEY *key = NULL;
    if (!ctx)
        return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    b = BIO_new_mem_buf(pki->server_cert_pem, -1);
    cert = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    b = BIO_new_mem_buf(pki->server_key_pem, -1);
    key = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    b = BIO_new_mem_buf(pki->ca_pem, -1);
    ca = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    if (!cert || !key || !ca || SSL_CTX_use_certificate(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
        X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca) != 1) {
        SSL_CTX_free(ctx);
        ctx = NULL;
        goto out;
    }
    STACK_OF(X509_NAME) *names = sk_X509_NAME_new_null();
    if (names) {
        sk_X509_NAME_push(names, X509_NAME_dup(X509_get_subject_name(ca)));
        SSL_CTX_set_client_CA_list(ctx, names);
    }
    /* Request a certificate but let token clients in: auth decides later. */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_alpn_select_cb(ctx, alpn_cb, NULL);
    SSL_CTX_set_mode(ctx, SSL_MODE_AUTO_RETRY);
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"kubesim", 7);
out:
    X509_free(cert);
    X509_free(ca);
    EVP_PKEY_free(key);
    return ctx;
}

void ks_tls_peer_cn(SSL *ssl, char *out, size_t cap)
{
    out[0] = 0;
    X509 *peer = SSL_get1_peer_certificate(ssl);
    if (!peer)
        return;
    if (SSL_get_verify_result(ssl) == X509_V_OK)
        X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, out, (int)cap);
    X509_free(peer);
}
