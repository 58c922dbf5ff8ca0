/*
 * fuzz_kubeconfig.c - libFuzzer target for the kubeconfig loader (libyaml
 * document, context/cluster/user resolution, base64 inline data). File
 * references and exec plugins are refused so inputs cannot touch the host.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kube/kube_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kube_config_opts o = {.no_exec = true, .no_files = true, .no_in_cluster = true};
    kube_config *cfg = NULL;
    char err[256];
    if (kube_config_load_mem((const char *)data, size, "/nonexistent", &o, &cfg, err, sizeof err) == 0) {
        size_t n;
        (void)kube_config_ca(cfg, &n);
        if (strlen(kube_config_server(cfg)) == 0 && kube_config_server(cfg)[0])
            __builtin_trap();
        kube_creds cr;
        kube_creds_init(&cr);
        (void)kube_config_creds(cfg, &cr); /* static token only: exec refused */
        kube_creds_release(&cr);
        kube_config_free(cfg);
    }
    return 0;
}
