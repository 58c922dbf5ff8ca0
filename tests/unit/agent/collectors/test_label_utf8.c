/* Unit tests for label_utf8 (agent/collectors/label_utf8.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "collectors/label_utf8.h"

static void test_valid(void **st)
{
    assert_true(label_utf8_valid("", 0));
    assert_true(label_utf8_valid("plain", 5));
    assert_true(label_utf8_valid("caf\xc3\xa9", 5));
    assert_true(label_utf8_valid("\xe2\x82\xac", 3));          /* euro sign */
    assert_true(label_utf8_valid("\xf0\x9f\x98\x80", 4));      /* emoji */
    assert_false(label_utf8_valid("\xc3", 1));                 /* truncated */
    assert_false(label_utf8_valid("\xc0\xaf", 2));             /* overlong */
    assert_false(label_utf8_valid("\xe0\x80\xaf", 3));         /* overlong */
    assert_false(label_utf8_valid("\xed\xa0\x80", 3));         /* surrogate */
    assert_false(label_utf8_valid("\xf4\x90\x80\x80", 4));     /* > U+10FFFF */
    assert_false(label_utf8_valid("\xff", 1));
}

static void test_copy(void **st)
{
    char out[32];
    assert_string_equal(label_utf8_copy("ok", 2, out, sizeof out), "ok");
    /* a run of invalid bytes becomes one U+FFFD */
    assert_string_equal(label_utf8_copy("a\xff\xfe\xc3z", 5, out, sizeof out), "a\xef\xbf\xbdz");
    assert_string_equal(label_utf8_copy("\xff" "b\xff", 3, out, sizeof out),
                        "\xef\xbf\xbd" "b\xef\xbf\xbd");
    /* NUL ends the value */
    assert_string_equal(label_utf8_copy("ab\0cd", 5, out, sizeof out), "ab");
    /* cut at a character boundary */
    assert_string_equal(label_utf8_copy("ab\xc3\xa9", 4, out, 4), "ab");
    assert_string_equal(label_utf8_copy("abc", 3, out, 1), "");
    char buf[16];
    const char *good = "fine";
    assert_ptr_equal(label_utf8(good, buf, sizeof buf), good);
    assert_string_equal(label_utf8("x\xffy", buf, sizeof buf), "x\xef\xbf\xbdy");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_copy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
