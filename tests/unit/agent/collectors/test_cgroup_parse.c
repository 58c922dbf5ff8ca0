/*
 * test_cgroup_parse.c - unit tests for the cgroup statistic file parsers
 * (agent/collectors/cgroup_parse.h): real kernel formats, truncated and
 * garbled input, overflow, and the outputs-untouched-on-error contract.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "collectors/cgroup_parse.h"

#define S(x) (x), strlen(x)

static void test_keyed_cpu_stat_v2(void **state)
{
    (void)state;
    const char *t = "usage_usec 12345\nuser_usec 10000\nsystem_usec 2345\n"
                    "core_sched.force_idle_usec 0\nnr_periods 10\nnr_throttled 2\n"
                    "throttled_usec 500\nnr_bursts 0\nburst_usec 0\n";
    static const char *const k[] = {"usage_usec", "user_usec", "system_usec", "nr_periods",
                                    "nr_throttled", "throttled_usec", "absent_key"};
    uint64_t v[7] = {0};
    uint32_t found = 0xffffffffu;
    assert_int_equal(cgroup_parse_keyed(S(t), k, 7, v, &found), 0);
    assert_int_equal(found, 0x3f);
    assert_int_equal(v[0], 12345);
    assert_int_equal(v[2], 2345);
    assert_int_equal(v[5], 500);
}

static void test_keyed_damage_costs_one_value(void **state)
{
    (void)state;
    /* a garbled value, a line with three fields, an empty line, no final newline */
    const char *t = "anon 12x\nfile 4096\nbroken line here\n\nfile_mapped 8192";
    static const char *const k[] = {"anon", "file", "file_mapped"};
    uint64_t v[3] = {7, 7, 7};
    uint32_t found;
    assert_int_equal(cgroup_parse_keyed(S(t), k, 3, v, &found), -EINVAL);
    assert_int_equal(found, 0x6);
    assert_int_equal(v[0], 7); /* untouched */
    assert_int_equal(v[1], 4096);
    assert_int_equal(v[2], 8192);

    /* overflow is an error, not a clamp */
    uint32_t f2;
    assert_int_equal(cgroup_parse_keyed(S("anon 18446744073709551616\n"), k, 3, v, &f2), -EINVAL);
    assert_int_equal(f2, 0);
    assert_int_equal(cgroup_parse_keyed(S("anon 18446744073709551615\n"), k, 3, v, &f2), 0);
    assert_true(v[0] == UINT64_MAX);
    /* empty input: nothing found, no error */
    assert_int_equal(cgroup_parse_keyed("", 0, k, 3, v, &f2), 0);
    assert_int_equal(f2, 0);
}

static void test_keyed_not_nul_terminated(void **state)
{
    (void)state;
    const char t[] = "max 3\noom_kill 12345";
    static const char *const k[] = {"max", "oom_kill"};
    uint64_t v[2] = {0, 0};
    uint32_t found;
    /* cut inside the last number: only the bytes given are read */
    assert_int_equal(cgroup_parse_keyed(t, strlen(t) - 3, k, 2, v, &found), 0);
    assert_int_equal(v[1], 12);
}

static void test_u64_and_max(void **state)
{
    (void)state;
    uint64_t v = 42;
    bool is_max = false;
    assert_int_equal(cgroup_parse_u64(S("123\n"), false, &v, NULL), 0);
    assert_int_equal(v, 123);
    assert_int_equal(cgroup_parse_u64(S("max\n"), true, &v, &is_max), 0);
    assert_true(is_max);
    assert_true(v == UINT64_MAX);
    v = 42;
    assert_int_equal(cgroup_parse_u64(S("max\n"), false, &v, NULL), -EINVAL);
    assert_int_equal(cgroup_parse_u64(S(""), false, &v, NULL), -EINVAL);
    assert_int_equal(cgroup_parse_u64(S("\n"), false, &v, NULL), -EINVAL);
    assert_int_equal(cgroup_parse_u64(S("1 2\n"), false, &v, NULL), -EINVAL);
    assert_int_equal(cgroup_parse_u64(S("-1\n"), false, &v, NULL), -EINVAL);
    assert_int_equal(cgroup_parse_u64(S("99999999999999999999\n"), false, &v, NULL), -ERANGE);
    assert_int_equal(v, 42);

    int64_t q = 5;
    assert_int_equal(cgroup_parse_i64(S("-1\n"), &q), 0);
    assert_int_equal(q, -1);
    assert_int_equal(cgroup_parse_i64(S("50000\n"), &q), 0);
    assert_int_equal(q, 50000);
    assert_int_equal(cgroup_parse_i64(S("x\n"), &q), -EINVAL);
    assert_int_equal(q, 50000);
}

static void test_cpu_max(void **state)
{
    (void)state;
    int64_t q = 9;
    uint64_t p = 9;
    assert_int_equal(cgroup_parse_cpu_max(S("max 100000\n"), &q, &p), 0);
    assert_int_equal(q, -1);
    assert_int_equal(p, 100000);
    assert_int_equal(cgroup_parse_cpu_max(S("50000 100000\n"), &q, &p), 0);
    assert_int_equal(q, 50000);
    q = 9, p = 9;
    assert_int_equal(cgroup_parse_cpu_max(S("50000\n"), &q, &p), -EINVAL);
    assert_int_equal(cgroup_parse_cpu_max(S("a b\n"), &q, &p), -EINVAL);
    assert_int_equal(cgroup_parse_cpu_max(S("1 2 3\n"), &q, &p), -EINVAL);
    assert_int_equal(cgroup_parse_cpu_max(S("9223372036854775808 100000\n"), &q, &p), -ERANGE);
    assert_int_equal(q, 9);
    assert_int_equal(p, 9);
}

static void test_pressure(void **state)
{
    (void)state;
    cgroup_psi psi;
    assert_int_equal(cgroup_parse_pressure(S("some avg10=4.23 avg60=1.50 avg300=0.77 total=14045141\n"
                                             "full avg10=0.00 avg60=0.00 avg300=0.00 total=7\n"),
                                           &psi),
                     0);
    assert_true(psi.has_some && psi.has_full);
    assert_int_equal(psi.some_total_us, 14045141);
    assert_int_equal(psi.full_total_us, 7);

    /* older kernels: cpu.pressure has no "full" line */
    assert_int_equal(cgroup_parse_pressure(S("some avg10=0.00 avg60=0.00 avg300=0.00 total=5\n"), &psi), 0);
    assert_true(psi.has_some);
    assert_false(psi.has_full);

    /* a garbled full line does not lose the some line */
    assert_int_equal(cgroup_parse_pressure(S("some avg10=0.00 avg60=0.00 avg300=0.00 total=5\n"
                                             "full avg10=0.00 avg60=0.00 avg300=0.00 total=x\n"),
                                           &psi),
                     -EINVAL);
    assert_true(psi.has_some);
    assert_false(psi.has_full);
    assert_int_equal(cgroup_parse_pressure(S("bogus\n"), &psi), -EINVAL);
    assert_false(psi.has_some);
}

static void test_io_stat(void **state)
{
    (void)state;
    cgroup_io_dev d[2];
    size_t n = 99;
    const char *t = "254:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n"
                    "253:0 rbytes=1 wbytes=2 rios=1 wios=1 dbytes=0 dios=0 cost.vrate=100.00\n";
    assert_int_equal(cgroup_parse_io_stat(S(t), d, 2, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(d[0].major, 254);
    assert_int_equal(d[0].read_bytes, 4096);
    assert_int_equal(d[0].write_bytes, 8192);
    assert_int_equal(d[1].minor, 0);
    assert_int_equal(d[1].write_bytes, 2);

    /* more devices than room: first kept, -E2BIG */
    assert_int_equal(cgroup_parse_io_stat(S(t), d, 1, &n), -E2BIG);
    assert_int_equal(n, 1);
    /* malformed lines skipped */
    assert_int_equal(cgroup_parse_io_stat(S("x:y rbytes=1\n8:0 rbytes=zz\n8:16 rbytes=3 wbytes=4\n8:32 junk\n"),
                                          d, 2, &n),
                     -EINVAL);
    assert_int_equal(n, 1);
    assert_int_equal(d[0].minor, 16);
    assert_int_equal(cgroup_parse_io_stat("", 0, d, 2, &n), 0);
    assert_int_equal(n, 0);
}

static void test_blkio_v1(void **state)
{
    (void)state;
    cgroup_io_dev d[4];
    size_t n;
    const char *t = "8:0 Read 4096\n8:0 Write 512\n8:0 Sync 4608\n8:0 Async 0\n8:0 Discard 0\n"
                    "8:0 Total 4608\n8:16 Read 1\n8:16 Write 2\nTotal 4611\n";
    assert_int_equal(cgroup_parse_blkio(S(t), d, 4, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(d[0].read_bytes, 4096);
    assert_int_equal(d[0].write_bytes, 512);
    assert_int_equal(d[1].minor, 16);
    assert_int_equal(cgroup_parse_blkio(S("8:0 Read\nTotal 0\n"), d, 4, &n), -EINVAL);
    assert_int_equal(n, 0);
}

static void test_procs(void **state)
{
    (void)state;
    uint64_t c = 9, f = 9;
    assert_int_equal(cgroup_parse_procs(S("12\n34\n56\n"), &c, &f), 0);
    assert_int_equal(c, 3);
    assert_int_equal(f, 12);
    assert_int_equal(cgroup_parse_procs("", 0, &c, &f), 0);
    assert_int_equal(c, 0);
    assert_int_equal(f, 0);
    c = 9, f = 9;
    assert_int_equal(cgroup_parse_procs(S("12\nabc\n"), &c, &f), -EINVAL);
    assert_int_equal(cgroup_parse_procs(S("0\n"), &c, &f), -EINVAL);
    assert_int_equal(cgroup_parse_procs(S("99999999999\n"), &c, &f), -EINVAL);
    assert_int_equal(c, 9);
    assert_int_equal(f, 9);
}

static void test_weight_to_shares(void **state)
{
    (void)state;
    /* kubelet/runc map shares s to weight 1 + (s-2)*9999/262142; check the inverse */
    assert_int_equal(cgroup_cpu_weight_to_shares(1), 2);
    assert_int_equal(cgroup_cpu_weight_to_shares(10000), 262144);
    assert_int_equal(cgroup_cpu_weight_to_shares(100), 2597);
    assert_int_equal(cgroup_cpu_weight_to_shares(39), 998); /* 1024 shares -> weight 39 */
    assert_int_equal(cgroup_cpu_weight_to_shares(0), 2);
    assert_int_equal(cgroup_cpu_weight_to_shares(99999), 262144);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keyed_cpu_stat_v2),
        cmocka_unit_test(test_keyed_damage_costs_one_value),
        cmocka_unit_test(test_keyed_not_nul_terminated),
        cmocka_unit_test(test_u64_and_max),
        cmocka_unit_test(test_cpu_max),
        cmocka_unit_test(test_pressure),
        cmocka_unit_test(test_io_stat),
        cmocka_unit_test(test_blkio_v1),
        cmocka_unit_test(test_procs),
        cmocka_unit_test(test_weight_to_shares),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
