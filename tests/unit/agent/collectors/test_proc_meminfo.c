/* Unit tests for the meminfo collector (agent/collectors/proc_meminfo.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "collectors/proc_meminfo.h"
#include "proc_test_util.h"

static void test_good(void **st)
{
    const char *in = "MemTotal:       24684084 kB\n"
                     "MemFree:        22800000 kB\n"
                     "Active(anon):       1576 kB\n"
                     "Inactive(file):    10240 kB\n"
                     "HugePages_Total:       0\n"
                     "HugePages_Free:        7\n"
                     "Hugepagesize:       2048 kB\n"
                     "DirectMap4k:      102400 kB\n";
    vg_scrape *s;
    vg_scrape_new(&s);
    unsigned skipped = 0;
    assert_int_equal(proc_meminfo_parse(in, strlen(in), s, &skipped), 8);
    assert_int_equal(skipped, 0);
    assert_true(pt_value(s, "node_memory_MemTotal_bytes", 0) == 24684084.0 * 1024);
    assert_true(pt_value(s, "node_memory_Active_anon_bytes", 0) == 1576.0 * 1024);
    assert_true(pt_value(s, "node_memory_Inactive_file_bytes", 0) == 10240.0 * 1024);
    assert_true(pt_value(s, "node_memory_HugePages_Total", 0) == 0);
    assert_true(pt_value(s, "node_memory_HugePages_Free", 0) == 7);
    assert_true(pt_value(s, "node_memory_Hugepagesize_bytes", 0) == 2048.0 * 1024);
    assert_true(pt_value(s, "node_memory_DirectMap4k_bytes", 0) == 102400.0 * 1024);
    assert_int_equal(pt_type(s, "node_memory_MemFree_bytes"), VG_MT_GAUGE);
    char *text = pt_text(s);
    assert_non_null(strstr(text, "# HELP node_memory_Active_anon_bytes Memory information field "
                                 "Active_anon_bytes.\n"));
    assert_non_null(strstr(text, "node_memory_MemTotal_bytes 25276502016\n"));
    free(text);
    vg_scrape_free(s);
}

static void test_malformed(void **st)
{
    const char *in = "MemTotal:       24684084 kB\n"
                     "MemFree:        garbage kB\n"   /* bad number */
                     "MemAvailable:   23000000 MB\n"  /* unknown unit */
                     "Buffers:        1234 kB extra\n" /* too many fields */
                     "Cached\n"                       /* truncated: no colon */
                     "Inactive(anon:    10 kB\n"      /* unbalanced paren */
                     "Bad-Name:   5 kB\n"             /* not a metric name */
                     ":  5 kB\n"                      /* empty key */
                     "Shmem(file)(x): 1 kB\n"         /* two groups */
                     "()x: 1 kB\n"
                     "Dirty:  -7 kB\n"                /* signed: accepted */
                     "MemTotal:       1 kB\n"         /* repeated */
                     "Empty:\n"                       /* no value */
                     "\n"
                     "SwapTotal:     10";             /* cut short: no newline */
    vg_scrape *s;
    vg_scrape_new(&s);
    unsigned skipped = 0;
    assert_int_equal(proc_meminfo_parse(in, strlen(in), s, &skipped), 2);
    assert_int_equal(skipped, 12);
    assert_true(pt_value(s, "node_memory_MemTotal_bytes", 0) == 24684084.0 * 1024);
    assert_true(pt_value(s, "node_memory_Dirty_bytes", 0) == -7.0 * 1024);
    assert_int_equal(pt_count(s, "node_memory_SwapTotal"), 0);
    assert_int_equal(pt_count(s, "node_memory_MemFree_bytes"), 0);
    vg_scrape_free(s);

    vg_scrape_new(&s);
    assert_int_equal(proc_meminfo_parse("garbage\n", 8, s, &skipped), -EINVAL);
    assert_int_equal(proc_meminfo_parse("", 0, s, &skipped), -EINVAL);
    assert_int_equal(vg_scrape_family_count(s), 0);
    vg_scrape_free(s);
}

static void test_huge(void **st)
{
    const char *in = "MemTotal: 18014398509481983 kB\n"
                     "HugePages_Total: 18446744073709551615\n"
                     "Over: 18446744073709551616 kB\n";
    vg_scrape *s;
    vg_scrape_new(&s);
    unsigned skipped = 0;
    assert_int_equal(proc_meminfo_parse(in, strlen(in), s, &skipped), 2);
    assert_int_equal(skipped, 1);
    assert_true(pt_value(s, "node_memory_MemTotal_bytes", 0) == 18014398509481983.0 * 1024);
    assert_true(pt_value(s, "node_memory_HugePages_Total", 0) == 18446744073709551615.0);
    vg_scrape_free(s);
}

static void test_collect(void **st)
{
    pt_env env;
    vg_scrape *s;
    vg_scrape_new(&s);
    pt_ctx(&env, "real-debian");
    assert_int_equal(pt_collect(&agent_collector_meminfo, &env, s), 0);
    assert_true(pt_value(s, "node_memory_MemTotal_bytes", 0) > 0);
    assert_true(pt_count(s, "node_memory_Active_anon_bytes") == 1);
    pt_done(&env);

    vg_scrape_reset(s);
    pt_ctx(&env, "missing-files");
    assert_int_equal(pt_collect(&agent_collector_meminfo, &env, s), -ENOENT);
    assert_int_equal(vg_scrape_family_count(s), 0);
    pt_done(&env);
    vg_scrape_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_huge),
        cmocka_unit_test(test_collect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
