/*
 * fuzz_cgroup_netdev.c - libFuzzer target for the pod net/dev parser
 * (agent/collectors/cgroup_netdev.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/cgroup_netdev.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    if (size)
        memcpy(buf, data, size);
    cgroup_netdev devs[4];
    size_t n = 99;
    cgroup_netdev_parse(buf, size, devs, 4, &n);
    if (n > 4)
        abort();
    for (size_t i = 0; i < n; i++) {
        size_t l = strnlen(devs[i].name, sizeof devs[i].name);
        if (l == 0 || l == sizeof devs[i].name || cgroup_netdev_ignored(devs[i].name))
            abort();
    }
    free(buf);
    return 0;
}
