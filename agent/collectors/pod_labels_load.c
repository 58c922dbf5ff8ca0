/*
 * pod_labels_load.c - dlopen of vigil-agent-kube.so next to the binary.
 */
#include "pod_labels_load.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int pod_labels_load(const pod_labels_ops **ops, char *err, size_t errlen)
{
    char path[PATH_MAX];
    void *h = NULL;
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    if (n > 0) {
        path[n] = '\0';
        char *slash = strrchr(path, '/');
        if (slash && (size_t)(slash - path) + 1 + sizeof POD_LABELS_PLUGIN <= sizeof path) {
            memcpy(slash + 1, POD_LABELS_PLUGIN, sizeof POD_LABELS_PLUGIN);
            h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        }
    }
    if (!h)
        h = dlopen(POD_LABELS_PLUGIN, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        snprintf(err, errlen, "cannot load %s (needed by --pod-labels-allowlist): %s", POD_LABELS_PLUGIN,
                 why ? why : "not found");
        return -ENOENT;
    }
    const pod_labels_ops *t = dlsym(h, POD_LABELS_OPS_SYMBOL);
    if (!t) {
        snprintf(err, errlen, "%s has no %s", POD_LABELS_PLUGIN, POD_LABELS_OPS_SYMBOL);
        dlclose(h);
        return -ENOENT;
    }
    *ops = t;
    return 0;
}
