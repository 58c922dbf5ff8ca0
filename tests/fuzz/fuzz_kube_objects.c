/*
 * fuzz_kube_objects.c - libFuzzer target for the compact object decoders
 * (every kind), the list page parser, bookmark RV peeking, quantities and
 * label selectors: all parse input that comes from the API server or users.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube_client.h"
#include "kube/kube_objects.h"
#include "kube/kube_selector.h"

static int item(void *ud, const char *json, size_t len)
{
    kube_obj *o;
    if (kube_obj_decode(KUBE_OBJ_POD, json, len, &o) == 0)
        kube_obj_free(o);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    for (int k = KUBE_OBJ_POD; k <= KUBE_OBJ_BOOKMARK; k++) {
        kube_obj *o;
        if (kube_obj_decode((kube_obj_kind)k, s, size, &o) == 0) {
            /* every string the struct points at must be readable */
            if (strlen(o->meta.name) + strlen(o->meta.ns) + strlen(o->meta.rv) > o->size)
                __builtin_trap();
            for (size_t i = 0; i < o->meta.nlabels; i++)
                if (!o->meta.labels[i].key || !o->meta.labels[i].value)
                    __builtin_trap();
            if (k == KUBE_OBJ_POD)
                for (size_t i = 0; i < o->u.pod.ncontainers; i++)
                    (void)strlen(o->u.pod.containers[i].name);
            (void)kube_obj_controller(o);
            kube_obj_free(o);
        }
    }
    vg_buf rv = VG_BUF_INIT, cont = VG_BUF_INIT;
    (void)kube_list_page_parse(s, size, item, NULL, &rv, &cont);
    vg_buf_release(&rv);
    vg_buf_release(&cont);
    char r[64];
    bool end;
    (void)kube_obj_peek_rv(s, size, r, sizeof r, &end);
    int64_t q;
    (void)kube_quantity_parse(s, size < 64 ? size : 64, size & 1, &q);
    char *z = strndup(s, size < 512 ? size : 512);
    kube_selector *sel;
    if (z && kube_selector_parse(z, &sel, NULL, 0) == 0) {
        kube_kv kv = {"app", "web"};
        (void)kube_selector_matches(sel, &kv, 1);
        kube_selector_free(sel);
    }
    free(z);
    return 0;
}
