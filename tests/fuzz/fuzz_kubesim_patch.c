/* Fuzz kubesim's patch engines: input is "document\0patch" (JSON or YAML);
 * each of the four patch types is applied. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/kubesim/ks_json.h"
#include "tests/kubesim/ks_patch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *d = (const char *)data;
    const char *z = memchr(d, 0, size);
    if (!z)
        return 0;
    size_t dl = (size_t)(z - d), pl = size - dl - 1;
    json_object *doc = NULL, *patch = NULL;
    char err[256];
    if (ks_body_parse(d, dl, &doc, err, sizeof err) || ks_body_parse(z + 1, pl, &patch, err, sizeof err)) {
        json_object_put(doc);
        return 0;
    }
    json_object *out = NULL;
    if (!ks_patch_json(doc, patch, &out, err, sizeof err))
        json_object_put(out);
    out = NULL;
    if (!ks_patch_merge(doc, patch, &out, err, sizeof err))
        json_object_put(out);
    out = NULL;
    if (!ks_patch_strategic(doc, patch, &out, err, sizeof err))
        json_object_put(out);
    out = NULL;
    if (!ks_patch_apply_merge(doc, patch, &out, err, sizeof err))
        json_object_put(out);
    json_object_put(doc);
    json_object_put(patch);
    return 0;
}
