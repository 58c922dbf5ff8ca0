/* Fuzz kubesim's Kubernetes protobuf body decoder. Inputs get the "k8s\0"
 * envelope magic prepended half of the time so the decoder goes deep. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/kubesim/ks_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *b = malloc(size + 4);
    if (!b)
        return 0;
    size_t n = size;
    if (size && (data[0] & 1)) {
        memcpy(b, "k8s", 4);
        memcpy(b + 4, data + 1, size - 1);
        n = size + 3;
    } else {
        memcpy(b, data, size);
    }
    json_object *o = NULL;
    char err[256];
    if (ks_proto_decode(b, n, &o, err, sizeof err) == 0)
        json_object_put(o);
    free(b);
    return 0;
}
