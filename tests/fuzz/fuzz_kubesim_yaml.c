/* Fuzz kubesim's YAML/JSON body reader (scenario files, apply bodies) and
 * the CRD structural-schema validator/defaulter on the parsed document. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/kubesim/ks_json.h"
#include "tests/kubesim/ks_types.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_object *o = NULL, *all = NULL;
    char err[256];
    if (!ks_body_parse((const char *)data, size, &o, err, sizeof err)) {
        /* the document as its own schema and as an object to validate */
        ks_err e;
        json_object *schema = ks_json_get(o, "schema");
        ks_schema_validate(schema ? schema : o, o, "Fuzz", "f", &e);
        json_object *c = ks_json_copy(o);
        ks_schema_default(schema ? schema : o, c);
        json_object_put(c);
        json_object_put(o);
    }
    if (!ks_yaml_parse_all((const char *)data, size, &all, err, sizeof err))
        json_object_put(all);
    return 0;
}
