/* Unit tests for the shared part of the kept parse plans (agent/collectors/parse_plan.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/parse_plan.h"

static void test_series_and_reset(void **st)
{
    (void)st;
    parse_plan p;
    parse_plan_init(&p);
    assert_false(parse_plan_fits(&p, NULL));
    assert_int_equal(parse_plan_reset(&p, NULL), 0);
    assert_null(p.pattern);
    uint32_t n1, h1, n2, h2;
    assert_int_equal(parse_plan_add_series(&p, "node_a", "Help a.", &n1, &h1), 0);
    assert_int_equal(parse_plan_add_series(&p, "node_b", "Help b.", &n2, &h2), 0);
    assert_string_equal(p.strs.data + n1, "node_a");
    assert_string_equal(p.strs.data + h1, "Help a.");
    assert_string_equal(p.strs.data + n2, "node_b");
    assert_string_equal(p.strs.data + h2, "Help b.");
    assert_int_equal(vg_buf_append(&p.text, "layout", 6), 0);
    p.valid = true;
    assert_true(parse_plan_fits(&p, NULL));

    /* made for a pattern: fits that filter, not the default */
    field_filter *f = NULL;
    assert_int_equal(field_filter_new("^(a|b)$", NULL, "^(a)$", &f), 0);
    assert_false(parse_plan_fits(&p, f));
    assert_int_equal(parse_plan_reset(&p, f), 0);
    assert_false(p.valid);
    assert_int_equal(p.text.len, 0);
    assert_int_equal(p.strs.len, 0);
    p.valid = true;
    assert_true(parse_plan_fits(&p, f));
    assert_false(parse_plan_fits(&p, NULL));
    field_filter_free(f);
    parse_plan_release(&p);
    assert_false(p.valid);
    assert_null(p.pattern);
}

static void test_grow(void **st)
{
    (void)st;
    int *a = NULL;
    size_t cap = 0;
    for (size_t n = 0; n < 100; n++) {
        int *g = parse_plan_grow(a, n, &cap, sizeof *g, 4);
        assert_non_null(g);
        a = g;
        assert_true(cap > n);
        a[n] = (int)n;
        /* growing from first, then doubling */
        assert_true(cap == 4 || cap == 8 || cap == 16 || cap == 32 || cap == 64 || cap == 128);
    }
    for (size_t n = 0; n < 100; n++)
        assert_int_equal(a[n], (int)n);
    /* room left: the same array, capacity unchanged */
    size_t before = cap;
    assert_ptr_equal(parse_plan_grow(a, 100, &cap, sizeof *a, 4), a);
    assert_int_equal(cap, before);
    free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_series_and_reset),
        cmocka_unit_test(test_grow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
