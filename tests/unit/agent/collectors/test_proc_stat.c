/* Unit tests for the cpu and stat collectors (agent/collectors/proc_stat.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "collectors/proc_stat.h"
#include "proc_test_util.h"

#define STAT_GOOD                                                    \
    "cpu  4336 0 2840 340831 524 0 42 109 0 0\n"                     \
    "cpu0 1083 0 922 172280 48 0 7 46 0 0\n"                         \
    "cpu1 3252 1 1918 168550 476 3 35 62 20 5\n"                     \
    "intr 178441 0 0 0 0 0 0 0 0 0 1 16\n"                           \
    "ctxt 359202\n"                                                  \
    "btime 1795395590\n"                                             \
    "processes 7702\n"                                               \
    "procs_running 2\n"                                              \
    "procs_blocked 1\n"                                              \
    "softirq 144014 0 25487 4 1910 41663 0 3 43062 0 31885\n"

static void test_cpu_good(void **st)
{
    vg_scrape *s;
    vg_scrape_new(&s);
    unsigned skipped = 0;
    assert_int_equal(proc_stat_parse_cpu(STAT_GOOD, strlen(STAT_GOOD), 100, NULL, s, &skipped), 2);
    assert_int_equal(skipped, 0);
    assert_int_equal(pt_count(s, "node_cpu_seconds_total"), 16);
    assert_int_equal(pt_count(s, "node_cpu_guest_seconds_total"), 4);
    assert_int_equal(pt_type(s, "node_cpu_seconds_total"), VG_MT_COUNTER);
    assert_true(pt_value(s, "node_cpu_seconds_total", 2, "0", "idle") == 1722.80);
    assert_true(pt_value(s, "node_cpu_seconds_total", 2, "0", "user") == 10.83);
    assert_true(pt_value(s, "node_cpu_seconds_total", 2, "1", "nice") == 0.01);
    assert_true(pt_value(s, "node_cpu_seconds_total", 2, "1", "iowait") == 4.76);
    assert_true(pt_value(s, "node_cpu_seconds_total", 2, "1", "irq") == 0.03);
    assert_true(pt_value(s, "node_cpu_seconds_total", 2, "1", "softirq") == 0.35);
    assert_true(pt_value(s, "node_cpu_seconds_total", 2, "1", "steal") == 0.62);
    assert_true(pt_value(s, "node_cpu_seconds_total", 2, "1", "system") == 19.18);
    assert_true(pt_value(s, "node_cpu_guest_seconds_total", 2, "1", "user") == 0.2);
    assert_true(pt_value(s, "node_cpu_guest_seconds_total", 2, "1", "nice") == 0.05);
    /* the aggregate "cpu" line is not a CPU */
    assert_true(isnan(pt_value(s, "node_cpu_seconds_total", 2, "", "idle")));
    vg_scrape_free(s);
}

static void test_cpu_truncated_and_malformed(void **st)
{
    const char *in = "cpu0 1 2 3\n"                       /* too few columns */
                     "cpu1 1 2 3 4\n"                     /* minimal: later columns 0 */
                     "cpu2 1 x 3 4 5 6 7 8 9 10\n"        /* bad number */
                     "cpu3 -1 2 3 4 5 6 7 8 9 10\n"       /* negative */
                     "cpuA 1 2 3 4 5 6 7 8 9 10\n"        /* not a cpuN line: ignored */
                     "cpu7x 1 2 3 4 5 6 7 8 9 10\n"       /* bad id */
                     "cpu4 18446744073709551616 0 0 0\n"  /* overflow */
                     "cpu99999 1 2 3 4\n"                 /* id beyond NR_CPUS */
                     "cpu5 1 2 3 4 5 6 7 8 9 10 11 12\n"  /* extra columns ignored */
                     "cpu1 9 9 9 9\n"                     /* duplicate */
                     "cpu6 1 2 3";                        /* truncated, no newline */
    vg_scrape *s;
    vg_scrape_new(&s);
    unsigned skipped = 0;
    assert_int_equal(proc_stat_parse_cpu(in, strlen(in), 100, NULL, s, &skipped), 2);
    assert_int_equal(skipped, 8);
    assert_true(pt_value(s, "node_cpu_seconds_total", 2, "1", "idle") == 0.04);
    assert_true(pt_value(s, "node_cpu_seconds_total", 2, "1", "steal") == 0);
    assert_true(pt_value(s, "node_cpu_guest_seconds_total", 2, "1", "user") == 0);
    assert_true(pt_value(s, "node_cpu_guest_seconds_total", 2, "5", "nice") == 0.10);
    assert_true(isnan(pt_value(s, "node_cpu_seconds_total", 2, "0", "idle")));
    vg_scrape_stats ss;
    vg_scrape_stats_get(s, &ss);
    assert_int_equal(ss.duplicates, 1); /* the second cpu1 line */
    vg_scrape_free(s);

    /* nothing usable at all */
    vg_scrape_new(&s);
    skipped = 0;
    assert_int_equal(proc_stat_parse_cpu("cpu 1 2 3 4\n", 12, 100, NULL, s, &skipped), -EINVAL);
    assert_int_equal(proc_stat_parse_cpu("", 0, 100, NULL, s, &skipped), -EINVAL);
    assert_int_equal(vg_scrape_family_count(s), 0);
    vg_scrape_free(s);
}

static void test_cpu_huge(void **st)
{
    const char *in = "cpu0 18446744073709551615 18446744073709551615 0 1 0 0 0 0 "
                     "18446744073709551615 18446744073709551615\n";
    vg_scrape *s;
    vg_scrape_new(&s);
    unsigned skipped = 0;
    assert_int_equal(proc_stat_parse_cpu(in, strlen(in), 100, NULL, s, &skipped), 1);
    assert_int_equal(skipped, 0);
    assert_true(pt_value(s, "node_cpu_seconds_total", 2, "0", "user") ==
                18446744073709551615.0 / 100);
    assert_true(pt_value(s, "node_cpu_guest_seconds_total", 2, "0", "nice") ==
                18446744073709551615.0 / 100);
    vg_scrape_free(s);
}

static void test_cpu_never_backwards(void **st)
{
    proc_cpu_state *cs;
    assert_int_equal(proc_cpu_state_new(&cs), 0);
    unsigned skipped = 0;
    vg_scrape *s;
    const char *a = "cpu0 1000 0 500 100000 700 0 0 0 0 0\n";
    const char *b = "cpu0 1100 0 600 100100 650 0 0 0 0 0\n"; /* iowait went back */
    const char *c = "cpu0 10 0 5 200 1 0 0 0 0 0\n";          /* hotplug: idle -999 s */
    vg_scrape_new(&s);
    proc_stat_parse_cpu(a, strlen(a), 100, cs, s, &skipped);
    assert_true(pt_value(s, "node_cpu_seconds_total", 2, "0", "iowait") == 7);
    vg_scrape_reset(s);
    proc_stat_parse_cpu(b, strlen(b), 100, cs, s, &skipped);
    assert_true(pt_value(s, "node_cpu_seconds_total", 2, "0", "iowait") == 7);
    assert_true(pt_value(s, "node_cpu_seconds_total", 2, "0", "user") == 11);
    vg_scrape_reset(s);
    proc_stat_parse_cpu(c, strlen(c), 100, cs, s, &skipped);
    assert_true(pt_value(s, "node_cpu_seconds_total", 2, "0", "idle") == 2);
    assert_true(pt_value(s, "node_cpu_seconds_total", 2, "0", "user") == 0.1);
    /* a small idle step back (< 3 s) keeps the old value */
    vg_scrape_reset(s);
    const char *d = "cpu0 10 0 5 150 1 0 0 0 0 0\n";
    proc_stat_parse_cpu(d, strlen(d), 100, cs, s, &skipped);
    assert_true(pt_value(s, "node_cpu_seconds_total", 2, "0", "idle") == 2);
    /* a CPU id far above the others grows the state */
    vg_scrape_reset(s);
    const char *e = "cpu4000 1 1 1 1\n";
    assert_int_equal(proc_stat_parse_cpu(e, strlen(e), 100, cs, s, &skipped), 1);
    assert_int_equal(skipped, 0);
    vg_scrape_free(s);
    proc_cpu_state_free(cs);
    proc_cpu_state_free(NULL);
}

static void test_stat_good(void **st)
{
    vg_scrape *s;
    vg_scrape_new(&s);
    unsigned skipped = 0;
    assert_int_equal(proc_stat_parse_stat(STAT_GOOD, strlen(STAT_GOOD), s, &skipped), 6);
    assert_int_equal(skipped, 0);
    assert_true(pt_value(s, "node_boot_time_seconds", 0) == 1795395590);
    assert_true(pt_value(s, "node_context_switches_total", 0) == 359202);
    assert_true(pt_value(s, "node_forks_total", 0) == 7702);
    assert_true(pt_value(s, "node_intr_total", 0) == 178441);
    assert_true(pt_value(s, "node_procs_running", 0) == 2);
    assert_true(pt_value(s, "node_procs_blocked", 0) == 1);
    assert_int_equal(pt_type(s, "node_intr_total"), VG_MT_COUNTER);
    assert_int_equal(pt_type(s, "node_forks_total"), VG_MT_COUNTER);
    assert_int_equal(pt_type(s, "node_boot_time_seconds"), VG_MT_GAUGE);
    assert_int_equal(pt_type(s, "node_procs_blocked"), VG_MT_GAUGE);
    vg_scrape_free(s);
}

static void test_stat_malformed_and_huge(void **st)
{
    const char *in = "intr\n"
                     "ctxt 18446744073709551615\n"
                     "processes 1 2\n" /* garbled: one value expected */
                     "btime x\n"
                     "processes 18446744073709551616\n"
                     "procs_running 3\n"
                     "procs_running 4\n"
                     "procs_blocked";
    vg_scrape *s;
    vg_scrape_new(&s);
    unsigned skipped = 0;
    assert_int_equal(proc_stat_parse_stat(in, strlen(in), s, &skipped), 2);
    assert_int_equal(skipped, 6);
    assert_true(pt_value(s, "node_context_switches_total", 0) == 18446744073709551615.0);
    assert_true(pt_value(s, "node_procs_running", 0) == 3);
    assert_int_equal(pt_count(s, "node_boot_time_seconds"), 0);
    vg_scrape_free(s);

    vg_scrape_new(&s);
    assert_int_equal(proc_stat_parse_stat("cpu 1 2 3\n", 10, s, &skipped), -EINVAL);
    vg_scrape_free(s);
}

static void test_isolated(void **st)
{
    vg_scrape *s;
    vg_scrape_new(&s);
    assert_int_equal(proc_stat_parse_isolated("0-2,8\n", 6, s), 4);
    assert_true(pt_value(s, "node_cpu_isolated", 1, "1") == 1);
    assert_true(pt_value(s, "node_cpu_isolated", 1, "8") == 1);
    assert_true(isnan(pt_value(s, "node_cpu_isolated", 1, "3")));
    vg_scrape_reset(s);
    assert_int_equal(proc_stat_parse_isolated("\n", 1, s), 0);
    assert_int_equal(proc_stat_parse_isolated("", 0, s), 0);
    static const char *const bad[] = {"1-", "3-1", "1,,2", "1,", "x", "0-9000", "-1", "1 2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(proc_stat_parse_isolated(bad[i], strlen(bad[i]), s), -EINVAL);
    assert_int_equal(pt_count(s, "node_cpu_isolated"), 0);
    vg_scrape_free(s);
}

static void test_collect_cpu256(void **st)
{
    pt_env env;
    pt_ctx(&env, "cpu256");
    vg_scrape *s;
    vg_scrape_new(&s);
    assert_int_equal(pt_collect(&agent_collector_cpu, &env, s), 0);
    assert_int_equal(pt_count(s, "node_cpu_seconds_total"), 256 * 8);
    assert_int_equal(pt_count(s, "node_cpu_guest_seconds_total"), 256 * 2);
    /* cpu255: user 100000+255*7 ticks, idle 900000+255*11 */
    assert_true(pt_value(s, "node_cpu_seconds_total", 2, "255", "user") == 101785 / 100.0);
    assert_true(pt_value(s, "node_cpu_seconds_total", 2, "255", "idle") == 902805 / 100.0);
    assert_int_equal(pt_count(s, "node_cpu_isolated"), 4);
    assert_true(pt_value(s, "node_cpu_isolated", 1, "255") == 1);
    assert_int_equal(pt_count(s, "node_cpu_core_throttles_total"), 0);
    vg_scrape_reset(s);
    assert_int_equal(pt_collect(&agent_collector_stat, &env, s), 0);
    assert_true(pt_value(s, "node_procs_running", 0) == 17);
    vg_scrape_free(s);
    pt_done(&env);
}

static void test_collect_throttles(void **st)
{
    pt_env env;
    pt_ctx(&env, "huge-counters");
    vg_scrape *s;
    vg_scrape_new(&s);
    assert_int_equal(pt_collect(&agent_collector_cpu, &env, s), 0);
    /* cpu0 p0c0, cpu1 p0c1, cpu2 p0c0 (sibling), cpu3 p1c0 */
    assert_int_equal(pt_count(s, "node_cpu_package_throttles_total"), 2);
    assert_int_equal(pt_count(s, "node_cpu_core_throttles_total"), 3);
    assert_true(pt_value(s, "node_cpu_package_throttles_total", 1, "0") ==
                18446744073709551610.0);
    assert_true(pt_value(s, "node_cpu_package_throttles_total", 1, "1") ==
                18446744073709551613.0);
    assert_true(pt_value(s, "node_cpu_core_throttles_total", 2, "1", "0") ==
                18446744073709551614.0);
    assert_int_equal(pt_type(s, "node_cpu_core_throttles_total"), VG_MT_COUNTER);
    vg_scrape_free(s);
    pt_done(&env);
}

static void test_collect_missing(void **st)
{
    pt_env env;
    pt_ctx(&env, "missing-files");
    vg_scrape *s;
    vg_scrape_new(&s);
    assert_int_equal(pt_collect(&agent_collector_cpu, &env, s), -ENOENT);
    assert_int_equal(pt_collect(&agent_collector_stat, &env, s), -ENOENT);
    assert_int_equal(vg_scrape_family_count(s), 0);
    vg_scrape_free(s);
    pt_done(&env);
}

static void test_collect_garbage_file(void **st)
{
    pt_env env;
    pt_ctx_tmp(&env);
    pt_tree_write(&env, AGENT_ROOT_PROC, "/stat", "\x01\x02 garbage\n\n\n cpu0\n");
    vg_scrape *s;
    vg_scrape_new(&s);
    assert_int_equal(pt_collect(&agent_collector_cpu, &env, s), -EINVAL);
    assert_int_equal(pt_collect(&agent_collector_stat, &env, s), -EINVAL);
    assert_int_equal(vg_scrape_family_count(s), 0);
    vg_scrape_free(s);
    pt_done(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cpu_good),
        cmocka_unit_test(test_cpu_truncated_and_malformed),
        cmocka_unit_test(test_cpu_huge),
        cmocka_unit_test(test_cpu_never_backwards),
        cmocka_unit_test(test_stat_good),
        cmocka_unit_test(test_stat_malformed_and_huge),
        cmocka_unit_test(test_isolated),
        cmocka_unit_test(test_collect_cpu256),
        cmocka_unit_test(test_collect_throttles),
        cmocka_unit_test(test_collect_missing),
        cmocka_unit_test(test_collect_garbage_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
