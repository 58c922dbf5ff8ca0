/* Unit tests for the time collector (agent/collectors/clock.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <time.h>

#include "collectors/clock.h"
#include "proc_test_util.h"

static void test_emit_time(void **st)
{
    setenv("TZ", "UTC", 1);
    tzset();
    vg_scrape *s;
    vg_scrape_new(&s);
    struct timespec now = {.tv_sec = 1795397233, .tv_nsec = 962066700};
    assert_int_equal(clock_emit_time(&now, s), 0);
    assert_true(pt_value(s, "node_time_seconds", 0) == 1795397233962066700.0 / 1e9);
    assert_true(pt_value(s, "node_time_zone_offset_seconds", 1, "UTC") == 0);
    vg_scrape_free(s);

    /* a fixed zone two hours ahead of UTC (POSIX TZ: offset sign is inverted) */
    setenv("TZ", "XYZ-2", 1);
    tzset();
    vg_scrape_new(&s);
    assert_int_equal(clock_emit_time(&now, s), 0);
    assert_true(pt_value(s, "node_time_zone_offset_seconds", 1, "XYZ") == 7200);
    vg_scrape_free(s);
    setenv("TZ", "UTC", 1);
    tzset();
}

static void test_clocksource(void **st)
{
    vg_scrape *s;
    vg_scrape_new(&s);
    const char *avail = "tsc hpet acpi_pm \n";
    assert_int_equal(clock_parse_available(avail, strlen(avail), "0", s), 3);
    assert_int_equal(clock_parse_current("tsc\n", 4, "0", s), 1);
    assert_true(pt_value(s, "node_time_clocksource_available_info", 2, "hpet", "0") == 1);
    assert_true(pt_value(s, "node_time_clocksource_current_info", 2, "tsc", "0") == 1);
    assert_int_equal(clock_parse_available("\n", 1, "1", s), 0);
    /* malformed: control bytes, nothing / two words for current */
    assert_int_equal(clock_parse_available("tsc \x01x\n", 7, "1", s), -EINVAL);
    assert_int_equal(clock_parse_current("", 0, "1", s), -EINVAL);
    assert_int_equal(clock_parse_current("a b\n", 4, "1", s), -EINVAL);
    assert_int_equal(pt_count(s, "node_time_clocksource_available_info"), 3);
    assert_int_equal(pt_count(s, "node_time_clocksource_current_info"), 1);
    vg_scrape_free(s);
}

static void test_collect(void **st)
{
    pt_env env;
    vg_scrape *s;
    vg_scrape_new(&s);
    pt_ctx(&env, "real-debian");
    assert_int_equal(pt_collect(&agent_collector_time, &env, s), 0);
    assert_true(pt_value(s, "node_time_seconds", 0) > 1.6e9);
    assert_int_equal(pt_count(s, "node_time_clocksource_current_info"), 1);
    assert_true(pt_count(s, "node_time_clocksource_available_info") >= 1);
    pt_done(&env);

    /* device is the index in name order: clocksource10 sorts before clocksource2 */
    vg_scrape_reset(s);
    pt_ctx_tmp(&env);
    pt_tree_write(&env, AGENT_ROOT_SYS, "/devices/system/clocksource/clocksource2/current_clocksource",
                  "b\n");
    pt_tree_write(&env, AGENT_ROOT_SYS, "/devices/system/clocksource/clocksource10/current_clocksource",
                  "a\n");
    assert_int_equal(pt_collect(&agent_collector_time, &env, s), 0);
    assert_true(pt_value(s, "node_time_clocksource_current_info", 2, "a", "0") == 1);
    assert_true(pt_value(s, "node_time_clocksource_current_info", 2, "b", "1") == 1);
    pt_done(&env);

    /* no sysfs clocksources: only the clock itself */
    vg_scrape_reset(s);
    pt_ctx(&env, "missing-files");
    assert_int_equal(pt_collect(&agent_collector_time, &env, s), 0);
    assert_int_equal(pt_count(s, "node_time_seconds"), 1);
    assert_int_equal(pt_count(s, "node_time_clocksource_current_info"), 0);
    pt_done(&env);
    vg_scrape_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_emit_time),
        cmocka_unit_test(test_clocksource),
        cmocka_unit_test(test_collect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
