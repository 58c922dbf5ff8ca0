/* Unit tests for ks_proto: Kubernetes protobuf envelopes decoded to JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "tests/kubesim/ks_json.h"
#include "tests/kubesim/ks_proto.h"

static void test_malformed(void **st)
{
    (void)st;
    json_object *o = NULL;
    char err[256];
    /* envelope claims 15 bytes of TypeMeta but holds 3 */
    static const uint8_t shortmeta[] = {'k', '8', 's', 0, 0x0a, 0x0f, 0x0a, 0x01, 'v'};
    assert_int_equal(ks_proto_decode(shortmeta, sizeof shortmeta, &o, err, sizeof err), -EINVAL);
    /* a varint that never ends */
    static const uint8_t endless[] = {'k', '8', 's', 0, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    assert_int_equal(ks_proto_decode(endless, sizeof endless, &o, err, sizeof err), -EINVAL);
    /* wire type 3 (groups) is not accepted */
    static const uint8_t group[] = {'k', '8', 's', 0, 0x0b};
    assert_int_equal(ks_proto_decode(group, sizeof group, &o, err, sizeof err), -EINVAL);
}

/* A well formed body built field by field. */
static size_t put(uint8_t *b, size_t n, const void *p, size_t l)
{
    memcpy(b + n, p, l);
    return n + l;
}

static size_t uvarint(uint8_t *b, size_t n, uint64_t v)
{
    do {
        uint8_t x = v & 0x7f;
        v >>= 7;
        b[n++] = (uint8_t)(x | (v ? 0x80 : 0));
    } while (v);
    return n;
}

static size_t field_bytes(uint8_t *b, size_t n, int num, const void *p, size_t l)
{
    n = uvarint(b, n, ((uint64_t)num << 3) | 2);
    n = uvarint(b, n, l);
    return put(b, n, p, l);
}

static size_t field_varint(uint8_t *b, size_t n, int num, uint64_t v)
{
    n = uvarint(b, n, (uint64_t)num << 3);
    return uvarint(b, n, v);
}

static void test_deployment(void **st)
{
    (void)st;
    uint8_t tm[64], meta[64], lab[32], sel[64], tmpl[128], ctr[64], spec[256], raw[512], body[600];
    size_t n;
    n = field_bytes(tm, 0, 1, "apps/v1", 7);
    size_t ntm = field_bytes(tm, n, 2, "Deployment", 10);
    size_t nlab = field_bytes(lab, 0, 1, "app", 3);
    nlab = field_bytes(lab, nlab, 2, "web", 3);
    size_t nmeta = field_bytes(meta, 0, 1, "web", 3);
    nmeta = field_varint(meta, nmeta, 7, 0);                 /* generation 0: omitted */
    nmeta = field_bytes(meta, nmeta, 11, lab, nlab);          /* labels */
    size_t nsel = field_bytes(sel, 0, 1, lab, nlab);          /* matchLabels */
    size_t nctr = field_bytes(ctr, 0, 1, "app", 3);
    nctr = field_bytes(ctr, nctr, 2, "nginx:1", 7);
    size_t ntmpl = field_bytes(tmpl, 0, 1, meta, nmeta);      /* template.metadata */
    uint8_t ps[96];
    size_t nps = field_bytes(ps, 0, 2, ctr, nctr);            /* containers */
    ntmpl = field_bytes(tmpl, ntmpl, 2, ps, nps);
    size_t nspec = field_varint(spec, 0, 1, 0);               /* replicas 0 kept */
    nspec = field_bytes(spec, nspec, 2, sel, nsel);
    nspec = field_bytes(spec, nspec, 3, tmpl, ntmpl);
    nspec = field_bytes(spec, nspec, 99, "x", 1);             /* unknown field skipped */
    size_t nraw = field_bytes(raw, 0, 1, meta, nmeta);
    nraw = field_bytes(raw, nraw, 2, spec, nspec);
    size_t nb = put(body, 0, "k8s\0", 4);
    nb = field_bytes(body, nb, 1, tm, ntm);
    nb = field_bytes(body, nb, 2, raw, nraw);
    json_object *o = NULL;
    char err[256];
    assert_int_equal(ks_proto_decode(body, nb, &o, err, sizeof err), 0);
    json_object *want = json_tokener_parse(
        "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\",\"labels\":{\"app\":\"web\"}},"
        "\"spec\":{\"replicas\":0,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":{\"metadata\":{\"name\":\"web\","
        "\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"nginx:1\"}]}}}}");
    if (!json_object_equal(o, want))
        fail_msg("got %s", json_object_to_json_string(o));
    json_object_put(o);
    json_object_put(want);
    /* truncations of a valid body never crash and fail cleanly */
    for (size_t cut = 0; cut < nb; cut++) {
        o = NULL;
        int rc = ks_proto_decode(body, cut, &o, err, sizeof err);
        if (rc == 0)
            json_object_put(o);
        else
            assert_true(rc == -EINVAL || rc == -ENOTSUP);
    }
}

static void test_unsupported(void **st)
{
    (void)st;
    uint8_t tm[64], body[128];
    size_t ntm = field_bytes(tm, 0, 1, "batch/v1", 8);
    ntm = field_bytes(tm, ntm, 2, "Job", 3);
    size_t nb = put(body, 0, "k8s\0", 4);
    nb = field_bytes(body, nb, 1, tm, ntm);
    json_object *o = NULL;
    char err[256];
    assert_int_equal(ks_proto_decode(body, nb, &o, err, sizeof err), -ENOTSUP);
    assert_non_null(strstr(err, "Job"));
    assert_int_equal(ks_proto_decode("json", 4, &o, err, sizeof err), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_deployment),
        cmocka_unit_test(test_unsupported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
