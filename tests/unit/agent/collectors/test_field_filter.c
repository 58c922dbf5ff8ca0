/* Unit tests for field_filter (agent/collectors/field_filter.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/field_filter.h"

static bool never(const char *name)
{
    (void)name;
    return false;
}

static bool starts_a(const char *name)
{
    return name[0] == 'a';
}

static void test_default_uses_builtin(void **st)
{
    field_filter f;
    field_filter_init(&f, "^a", starts_a);
    assert_true(field_filter_match(&f, "abc"));
    assert_false(field_filter_match(&f, "bcd"));
    /* NULL, "" and the default itself keep the built-in matcher */
    assert_int_equal(field_filter_set(&f, NULL), 0);
    assert_int_equal(field_filter_set(&f, ""), 0);
    assert_int_equal(field_filter_set(&f, "^a"), 0);
    assert_null(f.pattern);
    field_filter_release(&f);
}

static void test_user_pattern(void **st)
{
    field_filter f;
    field_filter_init(&f, "^a", never);
    assert_int_equal(field_filter_set(&f, "^(pg|oom)_\\d+$"), 0);
    assert_non_null(f.pattern);
    assert_true(field_filter_match(&f, "pg_12"));
    assert_true(field_filter_match(&f, "oom_0"));
    assert_false(field_filter_match(&f, "pg_x"));
    /* unanchored, like Go's MatchString */
    assert_int_equal(field_filter_set(&f, "fault"), 0);
    assert_true(field_filter_match(&f, "pgmajfault"));
    assert_int_equal(field_filter_set(&f, "\\w+_x"), 0);
    assert_true(field_filter_match(&f, "ab_x"));
    /* a bad pattern keeps the previous one */
    assert_int_equal(field_filter_set(&f, "(unclosed"), -EINVAL);
    assert_int_equal(field_filter_set(&f, "(?i)abc"), -EINVAL);
    assert_string_equal(f.pattern, "\\w+_x");
    assert_true(field_filter_match(&f, "ab_x"));
    /* back to the default */
    assert_int_equal(field_filter_set(&f, "^a"), 0);
    assert_null(f.pattern);
    assert_false(field_filter_match(&f, "abc"));
    field_filter_release(&f);
    field_filter_release(&f); /* twice is harmless */
}

/* A cache keeps a copy of the pattern and checks it still applies. */
static void test_pattern_copy_for_caches(void **st)
{
    (void)st;
    field_filter f;
    field_filter_init(&f, "^a", starts_a);
    char *kept = (char *)"x";
    assert_int_equal(field_filter_pattern_dup(&f, &kept), 0);
    assert_null(kept);                        /* the default */
    assert_true(field_filter_uses(&f, NULL));
    assert_true(field_filter_uses(NULL, NULL)); /* no filter: the default */
    assert_int_equal(field_filter_set(&f, "^pg"), 0);
    assert_false(field_filter_uses(&f, NULL));
    assert_int_equal(field_filter_pattern_dup(&f, &kept), 0);
    assert_non_null(kept);
    assert_ptr_not_equal(kept, f.pattern);    /* its own copy */
    assert_true(field_filter_uses(&f, kept));
    assert_false(field_filter_uses(NULL, kept));
    assert_int_equal(field_filter_set(&f, "^pgx"), 0);
    assert_false(field_filter_uses(&f, kept));
    free(kept);
    assert_int_equal(field_filter_pattern_dup(NULL, &kept), 0);
    assert_null(kept);
    field_filter_release(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_uses_builtin),
        cmocka_unit_test(test_user_pattern),
        cmocka_unit_test(test_pattern_copy_for_caches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
