/*
 * fuzz_watch_stream.c - libFuzzer target for the watch stream splitter and
 * event parser. The input is fed twice: whole, and cut into chunks whose
 * sizes come from the input itself; both must yield the same documents
 * (chunking must never change what is decoded) and never crash.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube_watch.h"

typedef struct acc {
    uint64_t hash;
    uint64_t n;
    uint64_t events;
} acc;

static int on_doc(void *ud, const char *doc, size_t len)
{
    acc *a = ud;
    for (size_t i = 0; i < len; i++)
        a->hash = (a->hash ^ (unsigned char)doc[i]) * 1099511628211ULL;
    a->hash = (a->hash ^ 0xff) * 1099511628211ULL;
    a->n++;
    kube_event ev;
    if (kube_event_parse(doc, len, &ev) == 0) {
        if (ev.obj < doc || ev.obj + ev.obj_len > doc + len)
            __builtin_trap();
        a->events++;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned step = data[0] % 17 + 1;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;

    kube_wdec d1, d2;
    kube_wdec_init(&d1, 1 << 16);
    kube_wdec_init(&d2, 1 << 16);
    acc a1 = {14695981039346656037ULL, 0, 0}, a2 = a1;
    int r1 = kube_wdec_feed(&d1, s, n, on_doc, &a1);
    int r2 = 0;
    for (size_t off = 0; off < n && r2 == 0; off += step) {
        size_t k = n - off < step ? n - off : step;
        /* a private copy so reads past the chunk are caught by ASan */
        char *chunk = malloc(k ? k : 1);
        memcpy(chunk, s + off, k);
        r2 = kube_wdec_feed(&d2, chunk, k, on_doc, &a2);
        free(chunk);
    }
    if ((r1 == 0) != (r2 == 0))
        __builtin_trap();
    if (r1 == 0 && (a1.hash != a2.hash || a1.n != a2.n || kube_wdec_pending(&d1) != kube_wdec_pending(&d2)))
        __builtin_trap();
    kube_wdec_release(&d1);
    kube_wdec_release(&d2);
    return 0;
}
