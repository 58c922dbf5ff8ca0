/* Unit tests for ks_json (paths, YAML conversion) and continue tokens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "tests/kubesim/ks_api.h"
#include "tests/kubesim/ks_json.h"

static void test_paths(void **st)
{
    (void)st;
    json_object *o = json_tokener_parse("{\"a\":{\"b\":{\"c\":\"x\"},\"n\":5}}");
    assert_string_equal(ks_json_str(o, "a.b.c"), "x");
    assert_null(ks_json_str(o, "a.n"));
    assert_int_equal(ks_json_int(o, "a.n", 0), 5);
    assert_int_equal(ks_json_int(o, "a.z", -1), -1);
    assert_int_equal(ks_json_set_str(o, "a.q.r", "y"), 0);
    assert_string_equal(ks_json_str(o, "a.q.r"), "y");
    assert_int_equal(ks_json_set(o, "a.q", NULL), 0);
    assert_null(ks_json_get(o, "a.q"));
    json_object_put(o);
}

static void test_yaml(void **st)
{
    (void)st;
    const char *y = "a: 1\nb: '1'\nc: true\nd: ~\ne: 1.5\nf: [x, 2]\ng: {h: i}\nj: 012\nk: \"yes\"\nl: -3\nm: 1e3\nn: '0x10'\n";
    json_object *o = NULL;
    char err[256];
    assert_int_equal(ks_yaml_parse(y, strlen(y), &o, err, sizeof err), 0);
    json_object *want = json_tokener_parse("{\"a\":1,\"b\":\"1\",\"c\":true,\"d\":null,\"e\":1.5,\"f\":[\"x\",2],\"g\":{\"h\":\"i\"},"
                                           "\"j\":\"012\",\"k\":\"yes\",\"l\":-3,\"m\":1000.0,\"n\":\"0x10\"}");
    if (!json_object_equal(o, want))
        fail_msg("got %s", json_object_to_json_string(o));
    json_object_put(o);
    json_object_put(want);
    /* multi-document */
    const char *m = "---\na: 1\n---\nb: 2\n";
    assert_int_equal(ks_yaml_parse_all(m, strlen(m), &o, err, sizeof err), 0);
    assert_int_equal(json_object_array_length(o), 2);
    json_object_put(o);
    /* errors */
    const char *bad[] = {"a: [1, 2", "a: &x 1\nb: *x\n", "? [a]\n: 1\n", "", "\t- x", NULL};
    for (int i = 0; bad[i]; i++) {
        err[0] = 0;
        assert_int_equal(ks_yaml_parse(bad[i], strlen(bad[i]), &o, err, sizeof err), -EINVAL);
        assert_true(strlen(err) > 0);
    }
    /* JSON bodies, strict about trailing garbage */
    assert_int_equal(ks_body_parse("{\"a\":1}\n", 8, &o, err, sizeof err), 0);
    json_object_put(o);
    assert_int_equal(ks_body_parse("{\"a\":1} x", 9, &o, err, sizeof err), -EINVAL);
    assert_int_equal(ks_body_parse("{\"a\":", 5, &o, err, sizeof err), -EINVAL);
}

static void test_continue_tokens(void **st)
{
    (void)st;
    char tok[512], start[128];
    uint64_t rv;
    int64_t t;
    assert_int_equal(ks_continue_encode(1234, "default/web-1", 1700000000, tok, sizeof tok), 0);
    assert_null(strpbrk(tok, "+/="));
    assert_int_equal(ks_continue_decode(tok, &rv, start, sizeof start, &t), 0);
    assert_int_equal(rv, 1234);
    assert_string_equal(start, "default/web-1");
    assert_int_equal(t, 1700000000);
    assert_int_equal(ks_continue_decode("garbage!", &rv, start, sizeof start, &t), -EINVAL);
    assert_int_equal(ks_continue_decode("", &rv, start, sizeof start, &t), -EINVAL);
    assert_int_equal(ks_continue_decode("eyJ2IjoieCJ9", &rv, start, sizeof start, &t), -EINVAL); /* {"v":"x"} */
    assert_int_equal(ks_continue_encode(1, "x", 1, tok, 8), -ENOSPC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_yaml),
        cmocka_unit_test(test_continue_tokens),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
