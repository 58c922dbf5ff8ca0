/* Fuzz kubesim's selector parsers and matchers, and continue-token decoding:
 * input is "labelSelector\nfieldSelector\ncontinueToken". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/kubesim/ks_api.h"
#include "tests/kubesim/ks_json.h"
#include "tests/kubesim/ks_select.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = 0;
    char *f = strchr(s, '\n');
    if (f)
        *f++ = 0;
    char *c = f ? strchr(f, '\n') : NULL;
    if (c)
        *c++ = 0;
    static json_object *obj;
    if (!obj)
        obj = json_tokener_parse("{\"metadata\":{\"name\":\"p\",\"namespace\":\"n\",\"labels\":{\"app\":\"web\",\"n\":\"3\"}},"
                                 "\"spec\":{\"nodeName\":\"x\"},\"status\":{\"phase\":\"Running\"}}");
    ks_sel sel;
    char err[256], out[512];
    if (ks_sel_parse_labels(&sel, s, err, sizeof err) == 0) {
        ks_sel_match_labels(&sel, ks_json_get(obj, "metadata.labels"));
        ks_sel_format(&sel, out, sizeof out);
        ks_sel_release(&sel);
    }
    if (f && ks_sel_parse_fields(&sel, f, err, sizeof err) == 0) {
        ks_sel_match_fields(&sel, obj);
        ks_sel_release(&sel);
    }
    if (c) {
        uint64_t rv;
        int64_t t;
        char start[256];
        ks_continue_decode(c, &rv, start, sizeof start, &t);
    }
    free(s);
    return 0;
}
