/* Unit tests for the pressure collector (agent/collectors/proc_pressure.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "collectors/proc_pressure.h"
#include "proc_test_util.h"

static void test_good(void **st)
{
    const char *cpu = "some avg10=0.04 avg60=0.06 avg300=0.08 total=6627432\n"
                      "full avg10=0.00 avg60=0.00 avg300=0.00 total=5\n";
    const char *io = "some avg10=0.28 avg60=0.36 avg300=0.19 total=4655454\n"
                     "full avg10=0.28 avg60=0.36 avg300=0.19 total=4185287\n";
    const char *irq = "full avg10=0.00 avg60=0.00 avg300=0.00 total=7\n";
    vg_scrape *s;
    vg_scrape_new(&s);
    unsigned skipped = 0;
    assert_int_equal(proc_pressure_parse(cpu, strlen(cpu), PROC_PRESSURE_CPU, s, &skipped), 1);
    assert_int_equal(proc_pressure_parse(io, strlen(io), PROC_PRESSURE_IO, s, &skipped), 2);
    assert_int_equal(proc_pressure_parse(io, strlen(io), PROC_PRESSURE_MEMORY, s, &skipped), 2);
    assert_int_equal(proc_pressure_parse(irq, strlen(irq), PROC_PRESSURE_IRQ, s, &skipped), 1);
    assert_int_equal(skipped, 0);
    assert_true(pt_value(s, "node_pressure_cpu_waiting_seconds_total", 0) == 6627432 / 1e3 / 1e3);
    /* the cpu "full" line is not reported (node_exporter 1.5) */
    assert_int_equal(pt_count(s, "node_pressure_cpu_stalled_seconds_total"), 0);
    assert_true(pt_value(s, "node_pressure_io_waiting_seconds_total", 0) == 4.655454);
    /* computed as node_exporter does: two divisions, same double */
    assert_true(pt_value(s, "node_pressure_io_stalled_seconds_total", 0) ==
                4185287.0 / 1000.0 / 1000.0);
    assert_true(pt_value(s, "node_pressure_memory_stalled_seconds_total", 0) > 4.18);
    assert_true(pt_value(s, "node_pressure_irq_stalled_seconds_total", 0) == 7e-6);
    assert_int_equal(pt_type(s, "node_pressure_io_waiting_seconds_total"), VG_MT_COUNTER);
    vg_scrape_free(s);
}

static void test_malformed_and_huge(void **st)
{
    const char *mem = "some total=1\n"
                      "weird total=5\n"
                      "full avg10=1 avg60=2\n"                       /* no total */
                      "full avg10=1 total=-3\n"                      /* negative */
                      "full avg10=1 total=18446744073709551615\n"
                      "full total=2\n";                              /* duplicate */
    vg_scrape *s;
    vg_scrape_new(&s);
    unsigned skipped = 0;
    assert_int_equal(proc_pressure_parse(mem, strlen(mem), PROC_PRESSURE_MEMORY, s, &skipped),
                     2);
    assert_int_equal(skipped, 4);
    assert_true(pt_value(s, "node_pressure_memory_waiting_seconds_total", 0) == 1e-6);
    assert_true(pt_value(s, "node_pressure_memory_stalled_seconds_total", 0) ==
                18446744073709551615.0 / 1000.0 / 1000.0);
    vg_scrape_free(s);

    vg_scrape_new(&s);
    assert_int_equal(proc_pressure_parse("", 0, PROC_PRESSURE_IO, s, &skipped), -EINVAL);
    assert_int_equal(proc_pressure_parse("some\n", 5, PROC_PRESSURE_IO, s, &skipped), -EINVAL);
    assert_int_equal(proc_pressure_parse("some total=1\n", 13, (proc_pressure_resource)9, s,
                                         &skipped),
                     -EINVAL);
    assert_int_equal(vg_scrape_family_count(s), 0);
    vg_scrape_free(s);
}

static void test_collect(void **st)
{
    pt_env env;
    vg_scrape *s;
    vg_scrape_new(&s);
    pt_ctx(&env, "no-psi");
    assert_int_equal(pt_collect(&agent_collector_pressure, &env, s), -ENOENT);
    assert_int_equal(vg_scrape_family_count(s), 0);
    pt_done(&env);

    pt_ctx(&env, "missing-files");
    assert_int_equal(pt_collect(&agent_collector_pressure, &env, s), -ENOENT);
    assert_int_equal(vg_scrape_family_count(s), 0);
    pt_done(&env);

    /* io missing while cpu is there: the collector fails */
    pt_ctx_tmp(&env);
    pt_tree_write(&env, AGENT_ROOT_PROC, "/pressure/cpu", "some total=1\n");
    pt_tree_write(&env, AGENT_ROOT_PROC, "/pressure/memory", "some total=1\n");
    assert_int_equal(pt_collect(&agent_collector_pressure, &env, s), -ENOENT);
    vg_scrape_reset(s);
    pt_tree_write(&env, AGENT_ROOT_PROC, "/pressure/io", "some total=1\nfull total=2\n");
    assert_int_equal(pt_collect(&agent_collector_pressure, &env, s), 0);
    assert_int_equal(vg_scrape_family_count(s), 4);
    /* irq: optional; its absence is remembered, a present one is read */
    vg_scrape_reset(s);
    pt_tree_write(&env, AGENT_ROOT_PROC, "/pressure/irq", "full total=3000000\n");
    assert_int_equal(pt_collect(&agent_collector_pressure, &env, s), 0);
    assert_true(pt_value(s, "node_pressure_irq_stalled_seconds_total", 0) == 3);
    pt_done(&env);

    vg_scrape_reset(s);
    pt_ctx(&env, "real-debian");
    assert_int_equal(pt_collect(&agent_collector_pressure, &env, s), 0);
    assert_int_equal(pt_count(s, "node_pressure_memory_stalled_seconds_total"), 1);
    pt_done(&env);
    vg_scrape_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_malformed_and_huge),
        cmocka_unit_test(test_collect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
