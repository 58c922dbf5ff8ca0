/*
 * fuzz_cgroup_mounts.c - libFuzzer target for the mountinfo cgroup
 * discovery parser (agent/collectors/cgroup_mounts.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/cgroup_mounts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    if (size)
        memcpy(buf, data, size);
    cgroup_mounts m;
    size_t skipped = 0;
    cgroup_mounts_parse(buf, size, &m, &skipped);
    /* every path NUL-terminated and absolute when set */
    if (!memchr(m.unified, '\0', sizeof m.unified) || (m.unified[0] && m.unified[0] != '/'))
        abort();
    for (int i = 0; i < CGROUP_CTL_N; i++)
        if (!memchr(m.v1[i], '\0', sizeof m.v1[i]) || (m.v1[i][0] && m.v1[i][0] != '/'))
            abort();
    if (m.mode == CGROUP_MODE_V2 && !m.unified[0])
        abort();
    free(buf);
    return 0;
}
