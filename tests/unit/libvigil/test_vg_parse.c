/* Unit tests for vg_parse and vg_buf: strict numbers, lines, fields, file reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vg_buf.h"
#include "vg_parse.h"

static vg_slice sl(const char *s) { return (vg_slice){s, strlen(s)}; }

static void test_u64(void **st)
{
    uint64_t v;
    assert_int_equal(vg_parse_u64(sl("0"), &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(vg_parse_u64(sl("18446744073709551615"), &v), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(vg_parse_u64(sl("18446744073709551616"), &v), -ERANGE);
    assert_int_equal(vg_parse_u64(sl(""), &v), -EINVAL);
    assert_int_equal(vg_parse_u64(sl("12a"), &v), -EINVAL);
    assert_int_equal(vg_parse_u64(sl("-1"), &v), -EINVAL);
    assert_int_equal(vg_parse_u64(sl(" 1"), &v), -EINVAL);
    /* only the slice's bytes are read */
    vg_slice part = {"12345", 2};
    assert_int_equal(vg_parse_u64(part, &v), 0);
    assert_int_equal(v, 12);
}

static void test_i64_double_hex(void **st)
{
    int64_t i;
    assert_int_equal(vg_parse_i64(sl("-9223372036854775808"), &i), 0);
    assert_true(i == INT64_MIN);
    assert_int_equal(vg_parse_i64(sl("9223372036854775808"), &i), -ERANGE);
    double d;
    assert_int_equal(vg_parse_double(sl("1.5e3"), &d), 0);
    assert_true(d == 1500);
    assert_int_equal(vg_parse_double(sl("nan"), &d), -EINVAL);
    assert_int_equal(vg_parse_double(sl("1.5x"), &d), -EINVAL);
    assert_int_equal(vg_parse_double(sl("1e999"), &d), -ERANGE);
    uint64_t h;
    assert_int_equal(vg_parse_hex_u64(sl("0x1F"), &h), 0);
    assert_int_equal(h, 31);
    assert_int_equal(vg_parse_hex_u64(sl("0x"), &h), -EINVAL);
    assert_int_equal(vg_parse_hex_u64(sl("10000000000000000"), &h), -ERANGE);
}

static void test_lines_fields(void **st)
{
    const char *text = "cpu  1 2 3\n\nintr 5\nlast";
    vg_lines it;
    vg_slice line, f[8];
    vg_lines_init(&it, text, strlen(text));
    assert_true(vg_lines_next(&it, &line));
    assert_int_equal(vg_fields(line, f, 8), 4);
    assert_true(vg_slice_eq(f[0], "cpu"));
    assert_true(vg_slice_eq(f[3], "3"));
    assert_true(vg_lines_next(&it, &line));
    assert_int_equal(line.n, 0);
    assert_int_equal(vg_fields(line, f, 8), 0);
    assert_true(vg_lines_next(&it, &line));
    assert_true(vg_lines_next(&it, &line));
    assert_true(vg_slice_eq(line, "last"));
    assert_false(vg_lines_next(&it, &line));
    /* more fields than room: stops at max */
    assert_int_equal(vg_fields(sl("a b c d"), f, 2), 2);
}

static void test_field_next_and_name_value(void **st)
{
    (void)st;
    vg_slice line = sl("  a\tbb \r ccc  ");
    size_t pos = 0;
    assert_true(vg_slice_eq(vg_field_next(line, &pos), "a"));
    assert_true(vg_slice_eq(vg_field_next(line, &pos), "bb"));
    assert_true(vg_slice_eq(vg_field_next(line, &pos), "ccc"));
    assert_int_equal(pos, line.n);
    assert_int_equal(vg_field_next(line, &pos).n, 0);
    assert_int_equal(pos, line.n);

    vg_slice v = {NULL, 0};
    assert_true(vg_line_name_value(sl("pgfault 123"), "pgfault", 7, &v));
    assert_true(vg_slice_eq(v, "123"));
    assert_true(vg_line_name_value(sl("pgfault\t\t-4 \r"), "pgfault", 7, &v));
    assert_true(vg_slice_eq(v, "-4"));
    assert_false(vg_line_name_value(sl("pgfaults 123"), "pgfault", 7, &v)); /* longer name */
    assert_false(vg_line_name_value(sl("pgfaul 123"), "pgfault", 7, &v));
    assert_false(vg_line_name_value(sl("pgfault"), "pgfault", 7, &v));      /* no value */
    assert_false(vg_line_name_value(sl("pgfault   "), "pgfault", 7, &v));
    assert_false(vg_line_name_value(sl("pgfault 1 2"), "pgfault", 7, &v));  /* two fields */
    assert_false(vg_line_name_value(sl(" pgfault 1"), "pgfault", 7, &v));   /* indented */
    assert_true(vg_slice_eq(v, "-4")); /* untouched on a mismatch */
}

static void test_colon_unescape(void **st)
{
    vg_slice k, r;
    assert_true(vg_split_colon(sl("MemTotal:   123 kB"), &k, &r));
    assert_true(vg_slice_eq(k, "MemTotal"));
    assert_true(vg_slice_eq(r, "123 kB"));
    assert_false(vg_split_colon(sl("nocolon"), &k, &r));
    char m[] = "/mnt/with\\040space\\011tab\\";
    vg_unescape_octal(m);
    assert_string_equal(m, "/mnt/with space\ttab\\");
    char out[4];
    assert_string_equal(vg_slice_copy(sl("abcdef"), out, sizeof out), "abc");
}

static void test_buf(void **st)
{
    vg_buf b = VG_BUF_INIT;
    assert_int_equal(vg_buf_printf(&b, "%s-%d", "x", 42), 0);
    assert_int_equal(vg_buf_put_u64(&b, UINT64_MAX), 0);
    assert_string_equal(b.data, "x-4218446744073709551615");
    char big[1000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    assert_int_equal(vg_buf_printf(&b, "%s", big), 0);
    assert_int_equal(b.len, 24 + 999);
    vg_buf_consume(&b, 24);
    assert_int_equal(b.len, 999);
    assert_int_equal(b.data[0], 'a');
    vg_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_int_equal(vg_buf_read_file(&b, "/nonexistent/file", 100), -ENOENT);

    char path[] = "/tmp/vg_buf_testXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    char data[10000];
    memset(data, 'z', sizeof data);
    assert_int_equal(write(fd, data, sizeof data), (ssize_t)sizeof data);
    close(fd);
    assert_int_equal(vg_buf_read_file(&b, path, 1 << 20), 0);
    assert_int_equal(b.len, sizeof data);
    assert_int_equal(vg_buf_read_file(&b, path, 100), -EFBIG);
    assert_int_equal(b.len, 0);
    unlink(path);
    vg_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_u64),
        cmocka_unit_test(test_i64_double_hex),
        cmocka_unit_test(test_lines_fields),
        cmocka_unit_test(test_field_next_and_name_value),
        cmocka_unit_test(test_colon_unescape),
        cmocka_unit_test(test_buf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
