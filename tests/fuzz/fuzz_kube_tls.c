/*
 * fuzz_kube_tls.c - libFuzzer target for kube_tls_ctx_new: the CA bundle,
 * client certificate chain and key a kubeconfig (or exec plugin) supplies,
 * PEM or DER. The input is split at the first two NUL bytes into CA,
 * certificate and key; any input must build a context or fail cleanly.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kube/kube_tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *part[3] = {data, NULL, NULL};
    size_t len[3] = {size, 0, 0};
    for (int i = 0; i < 2; i++) {
        const uint8_t *z = len[i] ? memchr(part[i], 0, len[i]) : NULL;
        if (!z)
            break;
        part[i + 1] = z + 1;
        len[i + 1] = len[i] - (size_t)(z + 1 - part[i]);
        len[i] = (size_t)(z - part[i]);
    }
    kube_tls_verify v = {0};
    SSL_CTX *ctx = NULL;
    /* CA length 0 would load the system store: not the input under test */
    if (len[0] && kube_tls_ctx_new(part[0], len[0], part[1], len[1], part[2], len[2], &v, &ctx) == 0) {
        if (!ctx)
            __builtin_trap();
        SSL_CTX_free(ctx);
    }
    return 0;
}
