/*
 * test_kube_json.c - the JSON pull reader: iteration, skipping, strings,
 * numbers, and rejection of truncated and malformed input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "kube/kube_json.h"

static void test_iterate(void **state)
{
    const char *doc = " {\"a\": 1, \"b\": [true, false, null, \"x\"], \"c\": {\"d\": -2.5e1}, \"e\\u0041\": \"q\"} ";
    kj c;
    kj_init(&c, doc, strlen(doc));
    assert_int_equal(kj_obj_begin(&c), 0);
    vg_slice k;
    int64_t i;
    assert_int_equal(kj_obj_next(&c, &k), 1);
    assert_true(kj_key_is(k, "a"));
    assert_int_equal(kj_i64(&c, &i), 0);
    assert_int_equal(i, 1);
    assert_int_equal(kj_obj_next(&c, &k), 1);
    assert_true(kj_key_is(k, "b"));
    assert_int_equal(kj_arr_begin(&c), 0);
    int n = 0;
    while (kj_arr_next(&c) > 0) {
        assert_int_equal(kj_skip(&c), 0);
        n++;
    }
    assert_int_equal(n, 4);
    assert_int_equal(kj_obj_next(&c, &k), 1);
    assert_true(kj_key_is(k, "c"));
    vg_slice raw;
    assert_int_equal(kj_raw(&c, &raw), 0);
    assert_int_equal(raw.n, strlen("{\"d\": -2.5e1}"));
    assert_int_equal(kj_obj_next(&c, &k), 1);
    assert_true(kj_key_is(k, "eA"));
    char out[8];
    assert_int_equal(kj_str_copy(&c, out, sizeof out, NULL), 0);
    assert_string_equal(out, "q");
    assert_int_equal(kj_obj_next(&c, &k), 0);
    assert_int_equal(kj_finish(&c), 0);
}

static void test_unescape(void **state)
{
    const char *doc = "\"a\\n\\\"b\\u00e9\\ud83d\\ude00\\ud800x\"";
    kj c;
    kj_init(&c, doc, strlen(doc));
    vg_buf b = VG_BUF_INIT;
    assert_int_equal(kj_str_buf(&c, &b), 0);
    assert_string_equal(b.data, "a\n\"b\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbdx");
    vg_buf_release(&b);
    /* fixed buffer too small: value consumed, -ENOSPC, cut */
    kj_init(&c, "\"abcdef\"", 8);
    char small[4];
    assert_int_equal(kj_str_copy(&c, small, sizeof small, NULL), -ENOSPC);
    assert_string_equal(small, "abc");
    assert_int_equal(kj_finish(&c), 0);
}

static void test_numbers(void **state)
{
    int64_t v;
    kj c;
    kj_init(&c, "9223372036854775807", 19);
    assert_int_equal(kj_i64(&c, &v), 0);
    assert_true(v == INT64_MAX);
    kj_init(&c, "9223372036854775808", 19);
    assert_int_equal(kj_i64(&c, &v), -ERANGE);
    kj_init(&c, "-9223372036854775808", 20);
    assert_int_equal(kj_i64(&c, &v), 0);
    assert_true(v == INT64_MIN);
    kj_init(&c, "1e3", 3);
    assert_int_equal(kj_i64(&c, &v), 0);
    assert_int_equal(v, 1000);
    kj_init(&c, "1.5", 3);
    assert_int_equal(kj_i64(&c, &v), -ERANGE);
    static const char *bad[] = {"01", "-", "1.", ".5", "1e", "+1", "0x10", "--1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        kj_init(&c, bad[i], strlen(bad[i]));
        int rc = kj_i64(&c, &v);
        if (rc == 0)
            rc = kj_finish(&c);
        assert_int_not_equal(rc, 0);
    }
}

static void test_malformed(void **state)
{
    static const char *bad[] = {
        "{", "{\"a\"", "{\"a\":", "{\"a\":1", "{\"a\":1,}", "[1,]", "[1 2]", "{\"a\" 1}",
        "{a:1}", "\"abc", "\"a\\x\"", "\"a\\u12\"", "\"\x01\"", "tru", "nul", "{}}", "[", "",
        "{\"a\":[1,{\"b\":}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        kj c;
        kj_init(&c, bad[i], strlen(bad[i]));
        int rc = kj_skip(&c);
        if (rc == 0)
            rc = kj_finish(&c);
        assert_int_not_equal(rc, 0);
        /* every prefix of a valid document is rejected too */
    }
    const char *good = "{\"k\":[1,2,{\"x\":\"y\"}],\"z\":null}";
    for (size_t n = 0; n < strlen(good); n++) {
        kj c;
        kj_init(&c, good, n);
        int rc = kj_skip(&c);
        if (rc == 0)
            rc = kj_finish(&c);
        assert_int_not_equal(rc, 0);
    }
    kj c;
    kj_init(&c, good, strlen(good));
    assert_int_equal(kj_skip(&c), 0);
    assert_int_equal(kj_finish(&c), 0);
}

static void test_depth(void **state)
{
    char deep[600];
    memset(deep, '[', 300);
    memset(deep + 300, ']', 300);
    kj c;
    kj_init(&c, deep, 600);
    assert_int_equal(kj_skip(&c), -E2BIG);
    /* sticky */
    assert_int_equal(kj_skip(&c), -E2BIG);
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    kj_init(&c, deep, 200);
    assert_int_equal(kj_skip(&c), 0);
}

static void test_quote(void **state)
{
    vg_buf b = VG_BUF_INIT;
    assert_int_equal(kj_quote_append(&b, "a\"b\\c\n\x01", 7), 0);
    assert_string_equal(b.data, "\"a\\\"b\\\\c\\n\\u0001\"");
    kj c;
    kj_init(&c, b.data, b.len);
    vg_buf o = VG_BUF_INIT;
    assert_int_equal(kj_str_buf(&c, &o), 0);
    assert_memory_equal(o.data, "a\"b\\c\n\x01", 7);
    vg_buf_release(&b);
    vg_buf_release(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iterate),   cmocka_unit_test(test_unescape),
        cmocka_unit_test(test_numbers),   cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_depth),     cmocka_unit_test(test_quote),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
