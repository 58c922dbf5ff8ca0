/* Unit tests for the entropy collector (agent/collectors/proc_sys_kernel_random.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "collectors/proc_sys_kernel_random.h"
#include "proc_test_util.h"

static void test_parse(void **st)
{
    vg_scrape *s;
    vg_scrape_new(&s);
    assert_int_equal(proc_sys_kernel_random_parse("256\n", 4, PROC_RANDOM_ENTROPY_AVAIL, s), 1);
    assert_int_equal(proc_sys_kernel_random_parse("18446744073709551615", 20, PROC_RANDOM_POOLSIZE,
                                                  s),
                     1);
    assert_true(pt_value(s, "node_entropy_available_bits", 0) == 256);
    assert_true(pt_value(s, "node_entropy_pool_size_bits", 0) == 18446744073709551615.0);
    vg_scrape_reset(s);
    static const char *const bad[] = {"", "\n", "25 6\n", "x\n", "-1\n", "18446744073709551616\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(proc_sys_kernel_random_parse(bad[i], strlen(bad[i]),
                                                      PROC_RANDOM_ENTROPY_AVAIL, s),
                         -EINVAL);
    assert_int_equal(vg_scrape_family_count(s), 0);
    vg_scrape_free(s);
}

static void test_collect(void **st)
{
    pt_env env;
    vg_scrape *s;
    vg_scrape_new(&s);
    pt_ctx(&env, "real-debian");
    assert_int_equal(pt_collect(&agent_collector_entropy, &env, s), 0);
    assert_int_equal(pt_count(s, "node_entropy_available_bits"), 1);
    assert_int_equal(pt_count(s, "node_entropy_pool_size_bits"), 1);
    pt_done(&env);
    vg_scrape_reset(s);
    pt_ctx(&env, "malformed");
    assert_int_equal(pt_collect(&agent_collector_entropy, &env, s), -EINVAL);
    assert_int_equal(vg_scrape_family_count(s), 0);
    pt_done(&env);
    pt_ctx(&env, "missing-files");
    assert_int_equal(pt_collect(&agent_collector_entropy, &env, s), -ENOENT);
    assert_int_equal(vg_scrape_family_count(s), 0);
    pt_done(&env);
    /* poolsize missing: available is kept, the collector fails */
    pt_ctx_tmp(&env);
    pt_tree_write(&env, AGENT_ROOT_PROC, "/sys/kernel/random/entropy_avail", "3\n");
    assert_int_equal(pt_collect(&agent_collector_entropy, &env, s), -ENOENT);
    assert_true(pt_value(s, "node_entropy_available_bits", 0) == 3);
    pt_done(&env);
    vg_scrape_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_collect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
