/* Unit tests for the thermal_zone collector (agent/collectors/sys_class_thermal.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "collectors/sys_class_thermal.h"
#include "proc_test_util.h"

static void test_names_and_values(void **st)
{
    const char *sfx;
    assert_true(sys_class_thermal_is_zone("thermal_zone0", &sfx));
    assert_string_equal(sfx, "0");
    assert_true(sys_class_thermal_is_zone("thermal_zone12", &sfx));
    assert_string_equal(sfx, "12");
    assert_false(sys_class_thermal_is_zone("thermal_zoneX", &sfx));
    assert_false(sys_class_thermal_is_zone("thermal_zone", &sfx));
    assert_false(sys_class_thermal_is_zone("cooling_device0", &sfx));
    assert_true(sys_class_thermal_is_cooling("cooling_device3", &sfx));
    assert_string_equal(sfx, "3");
    int64_t v;
    assert_int_equal(sys_class_thermal_parse_int("  42000 \n", 9, &v), 0);
    assert_int_equal(v, 42000);
    assert_int_equal(sys_class_thermal_parse_int("-1\n", 3, &v), 0);
    assert_int_equal(v, -1);
    assert_int_equal(sys_class_thermal_parse_int("hot\n", 4, &v), -EINVAL);
    assert_int_equal(sys_class_thermal_parse_int("", 0, &v), -EINVAL);
    assert_int_equal(sys_class_thermal_parse_int("9223372036854775808", 19, &v), -ERANGE);
    char out[16];
    assert_int_equal(sys_class_thermal_parse_str(" acpitz \n", 9, out, sizeof out), 0);
    assert_string_equal(out, "acpitz");
    assert_int_equal(sys_class_thermal_parse_str("a-very-long-zone-type", 21, out, sizeof out),
                     -EFBIG);
}

static void test_emit(void **st)
{
    vg_scrape *s;
    vg_scrape_new(&s);
    sys_class_thermal_emit_zone(s, "0", "acpitz", 27800);
    sys_class_thermal_emit_cooling(s, "1", "intel_powerclamp", -1, 50);
    assert_true(pt_value(s, "node_thermal_zone_temp", 2, "acpitz", "0") == 27.8);
    assert_true(pt_value(s, "node_cooling_device_cur_state", 2, "1", "intel_powerclamp") == -1);
    assert_true(pt_value(s, "node_cooling_device_max_state", 2, "1", "intel_powerclamp") == 50);
    char *text = pt_text(s);
    assert_non_null(strstr(text, "# HELP node_thermal_zone_temp Zone temperature in Celsius\n"
                                 "# TYPE node_thermal_zone_temp gauge\n"
                                 "node_thermal_zone_temp{type=\"acpitz\",zone=\"0\"} 27.8\n"));
    free(text);
    vg_scrape_free(s);
}

static void test_collector(void **st)
{
    pt_env env;
    pt_ctx(&env, "baremetal-k8s");
    vg_scrape *s;
    vg_scrape_new(&s);
    assert_int_equal(pt_collect(&agent_collector_thermal_zone, &env, s), 0);
    /* zone 2 has no temp file, cooling device 3 no max_state: both skipped */
    assert_int_equal(pt_count(s, "node_thermal_zone_temp"), 4);
    assert_true(pt_value(s, "node_thermal_zone_temp", 2, "pch_cannonlake", "10") == 52.5);
    assert_true(pt_value(s, "node_thermal_zone_temp", 2, "INT3400 Thermal", "11") == -273.2);
    assert_int_equal(pt_count(s, "node_cooling_device_cur_state"), 3);
    assert_true(pt_value(s, "node_cooling_device_max_state", 2, "0", "Processor") == 10);
    vg_scrape_free(s);
    pt_done(&env);
    /* an empty class dir (this VM): success, nothing to report */
    pt_ctx(&env, "real-debian");
    vg_scrape_new(&s);
    assert_int_equal(pt_collect(&agent_collector_thermal_zone, &env, s), 0);
    assert_int_equal(vg_scrape_family_count(s), 0);
    vg_scrape_free(s);
    pt_done(&env);
    pt_ctx(&env, "missing-files");
    vg_scrape_new(&s);
    assert_int_equal(pt_collect(&agent_collector_thermal_zone, &env, s), -ENOENT);
    vg_scrape_free(s);
    pt_done(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_and_values),
        cmocka_unit_test(test_emit),
        cmocka_unit_test(test_collector),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
