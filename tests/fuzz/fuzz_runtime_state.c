/*
 * fuzz_runtime_state.c - libFuzzer target for the containerd / CRI-O
 * config.json annotation reader (agent/collectors/runtime_state.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/runtime_state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    if (size)
        memcpy(buf, data, size);
    runtime_info ri;
    if (runtime_info_parse(buf, size, "0123abcd", &ri) == 0) {
        const char *f[] = {ri.pod_name, ri.pod_namespace, ri.pod_uid, ri.container, ri.image, ri.name};
        for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
            if (!f[i] || strlen(f[i]) > RUNTIME_VALUE_MAX)
                abort();
        runtime_info_release(&ri);
    }
    free(buf);
    return 0;
}
