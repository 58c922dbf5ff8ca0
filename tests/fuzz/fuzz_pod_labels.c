/*
 * fuzz_pod_labels.c - libFuzzer target for --pod-labels-allowlist and the
 * pod label map: the input's first line is the allowlist, the rest a pod
 * as the API server would send it. An accepted allowlist must give valid,
 * distinct Prometheus label names; a decoded pod must be found again by
 * its UID with exactly its allowlisted values, and be gone once deleted.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/pod_labels.h"
#include "kube/kube_objects.h"
#include "vg_metrics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t alen = nl ? (size_t)(nl - data) : size;
    char *list = malloc(alen + 1);
    if (!list)
        return 0;
    memcpy(list, data, alen);
    list[alen] = '\0';
    pod_labels_opts o = {.allowlist = list, .no_api = true};
    pod_labels *pl = NULL;
    char err[256];
    if (pod_labels_new(&o, &pl, err, sizeof err) == 0) {
        size_t n = pod_labels_count(pl);
        for (size_t i = 0; i < n; i++) {
            if (!vg_label_name_valid(pod_labels_name(pl, i)))
                __builtin_trap();
            for (size_t j = 0; j < i; j++)
                if (strcmp(pod_labels_name(pl, i), pod_labels_name(pl, j)) == 0)
                    __builtin_trap();
        }
        kube_objdec *d = NULL;
        kube_obj *pod = NULL;
        const char *json = nl ? (const char *)nl + 1 : "";
        size_t jlen = nl ? size - alen - 1 : 0;
        if (kube_objdec_new(&d) == 0 && kube_objdec_decode(d, KUBE_OBJ_POD, json, jlen, &pod) == 0) {
            pod_labels_apply(pl, pod, false);
            vg_buf buf = VG_BUF_INIT;
            const char *vals[POD_LABELS_MAX];
            bool found = pod_labels_lookup(pl, pod->meta.uid, &buf, vals);
            if (pod->meta.uid[0] && !found)
                __builtin_trap();
            pod_labels_apply(pl, pod, true);
            if (pod_labels_lookup(pl, pod->meta.uid, &buf, vals))
                __builtin_trap();
            vg_buf_release(&buf);
            kube_obj_free(pod);
        }
        kube_objdec_free(d);
    }
    pod_labels_free(pl);
    free(list);
    return 0;
}
