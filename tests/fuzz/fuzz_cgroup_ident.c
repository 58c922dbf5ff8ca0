/*
 * fuzz_cgroup_ident.c - libFuzzer target for cgroup path and
 * /proc/<pid>/cgroup recognition (agent/collectors/cgroup_ident.h).
 *
 * Both entry points see the raw bytes (not NUL-terminated); any result is
 * checked for NUL-terminated, bounded fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/cgroup_ident.h"

static void check(const cgroup_ident *id)
{
    if (memchr(id->pod_uid, '\0', sizeof id->pod_uid) == NULL ||
        memchr(id->container_id, '\0', sizeof id->container_id) == NULL ||
        memchr(id->runtime, '\0', sizeof id->runtime) == NULL || id->pod_uid[0] == '\0' ||
        id->qos == CGROUP_QOS_NONE)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Copy so ASan catches any read past the end. */
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    if (size)
        memcpy(buf, data, size);
    cgroup_ident id;
    if (cgroup_ident_parse(buf, size, &id))
        check(&id);
    if (cgroup_ident_from_proc(buf, size, &id))
        check(&id);
    free(buf);
    return 0;
}
