/* Unit tests for the loadavg collector (agent/collectors/proc_loadavg.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "collectors/proc_loadavg.h"
#include "proc_test_util.h"

static void test_good(void **st)
{
    const char *in = "0.28 0.06 12.50 2/106 7702\n";
    vg_scrape *s;
    vg_scrape_new(&s);
    assert_int_equal(proc_loadavg_parse(in, strlen(in), s), 3);
    assert_true(pt_value(s, "node_load1", 0) == 0.28);
    assert_true(pt_value(s, "node_load5", 0) == 0.06);
    assert_true(pt_value(s, "node_load15", 0) == 12.5);
    assert_int_equal(pt_type(s, "node_load1"), VG_MT_GAUGE);
    vg_scrape_free(s);
}

static void test_malformed(void **st)
{
    static const char *const bad[] = {
        "", "\n", "0.28 0.06\n", "0.28 0.0x 0.02 2/106 7702\n", "nan 1 1\n", "inf 1 1\n",
        "-1 0 0\n", "1e999 1 1\n", "0.28 0.06 0.02", "\n0.1 0.2 0.3\n",
    };
    vg_scrape *s;
    vg_scrape_new(&s);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(proc_loadavg_parse(bad[i], strlen(bad[i]), s), i == 8 ? 3 : -EINVAL);
    /* only the truncated-but-complete line (no newline) was accepted */
    assert_true(pt_value(s, "node_load15", 0) == 0.02);
    vg_scrape_free(s);
}

static void test_huge(void **st)
{
    const char *in = "18446744073709551615 1e300 0.000001 1/1 1\n";
    vg_scrape *s;
    vg_scrape_new(&s);
    assert_int_equal(proc_loadavg_parse(in, strlen(in), s), 3);
    assert_true(pt_value(s, "node_load1", 0) == 18446744073709551615.0);
    vg_scrape_free(s);
}

static void test_collect(void **st)
{
    pt_env env;
    vg_scrape *s;
    vg_scrape_new(&s);
    pt_ctx(&env, "malformed");
    assert_int_equal(pt_collect(&agent_collector_loadavg, &env, s), -EINVAL);
    assert_int_equal(vg_scrape_family_count(s), 0);
    pt_done(&env);
    pt_ctx(&env, "missing-files");
    assert_int_equal(pt_collect(&agent_collector_loadavg, &env, s), -ENOENT);
    assert_int_equal(vg_scrape_family_count(s), 0);
    pt_done(&env);
    pt_ctx(&env, "real-debian");
    assert_int_equal(pt_collect(&agent_collector_loadavg, &env, s), 0);
    assert_int_equal(pt_count(s, "node_load5"), 1);
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
