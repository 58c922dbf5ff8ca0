/*
 * fuzz_kube_status.c - libFuzzer target for the Status decoder (and so the
 * JSON reader under it): any input must decode or fail cleanly.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kube/kube_status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kube_status st;
    if (kube_status_decode((const char *)data, size, &st) == 0) {
        /* invariants the callers rely on */
        if (st.ncauses > KUBE_STATUS_MAX_CAUSES || st.ncauses > st.ncauses_total)
            __builtin_trap();
        if (strlen(st.reason) >= sizeof st.reason || strlen(st.message) >= sizeof st.message)
            __builtin_trap();
        (void)kube_status_has_cause(&st, "x");
    }
    (void)kube_status_errno((int)size, st.reason);
    return 0;
}
