/* Unit tests for the filefd collector (agent/collectors/proc_sys_fs_file_nr.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "collectors/proc_sys_fs_file_nr.h"
#include "proc_test_util.h"

static void test_good_and_huge(void **st)
{
    vg_scrape *s;
    vg_scrape_new(&s);
    assert_int_equal(proc_sys_fs_file_nr_parse("655\t0\t2466170\n", 14, s), 2);
    assert_true(pt_value(s, "node_filefd_allocated", 0) == 655);
    assert_true(pt_value(s, "node_filefd_maximum", 0) == 2466170);
    assert_int_equal(pt_type(s, "node_filefd_maximum"), VG_MT_GAUGE);
    vg_scrape_reset(s);
    const char *h = "18446744073709551615 0 18446744073709551615";
    assert_int_equal(proc_sys_fs_file_nr_parse(h, strlen(h), s), 2);
    assert_true(pt_value(s, "node_filefd_maximum", 0) == 18446744073709551615.0);
    vg_scrape_free(s);
}

static void test_malformed(void **st)
{
    static const char *const bad[] = {
        "", "\n", "655\t0\n", "655 0 x\n", "-1 0 5\n", "1 2 3 4\n", "18446744073709551616 0 1\n",
        "\n655 0 1\n",
    };
    vg_scrape *s;
    vg_scrape_new(&s);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(proc_sys_fs_file_nr_parse(bad[i], strlen(bad[i]), s), -EINVAL);
    assert_int_equal(vg_scrape_family_count(s), 0);
    vg_scrape_free(s);
}

static void test_collect(void **st)
{
    pt_env env;
    vg_scrape *s;
    vg_scrape_new(&s);
    pt_ctx(&env, "malformed");
    assert_int_equal(pt_collect(&agent_collector_filefd, &env, s), -EINVAL);
    pt_done(&env);
    pt_ctx(&env, "missing-files");
    assert_int_equal(pt_collect(&agent_collector_filefd, &env, s), -ENOENT);
    pt_done(&env);
    assert_int_equal(vg_scrape_family_count(s), 0);
    pt_ctx(&env, "real-debian");
    assert_int_equal(pt_collect(&agent_collector_filefd, &env, s), 0);
    assert_true(pt_value(s, "node_filefd_maximum", 0) > 0);
    pt_done(&env);
    vg_scrape_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_and_huge),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_collect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
