/* Unit tests for the hwmon collector (agent/collectors/sys_class_hwmon.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <regex.h>

#include "collectors/sys_class_hwmon.h"
#include "proc_test_util.h"

static bool explode(const char *name, hwmon_fname *f)
{
    return sys_class_hwmon_explode(name, strlen(name), f);
}

static const char *type_name(const hwmon_fname *f)
{
    return f->type >= 0 ? hwmon_sensor_types[f->type] : "-";
}

static void test_explode(void **st)
{
    hwmon_fname f;
    assert_true(explode("temp1_input", &f));
    assert_string_equal(type_name(&f), "temp");
    assert_int_equal(f.num, 1);
    assert_int_equal(f.prop_len, 5);
    assert_memory_equal(f.prop, "input", 5);
    assert_true(explode("temp1_crit_alarm", &f));
    assert_memory_equal(f.prop, "crit_alarm", 10);
    assert_true(explode("fan12", &f));
    assert_string_equal(type_name(&f), "fan");
    assert_int_equal(f.num, 12);
    assert_int_equal(f.prop_len, 0);
    assert_true(explode("beep_enable", &f));
    assert_string_equal(type_name(&f), "beep_enable");
    assert_true(explode("update_interval", &f));
    assert_string_equal(type_name(&f), "update_interval");
    assert_true(explode("pwm1_auto_point1_pwm", &f));
    assert_memory_equal(f.prop, "auto_point1_pwm", 15);
    assert_true(explode("in007_input", &f));
    assert_int_equal(f.num, 7);
    /* matches the pattern, but not a type node_exporter reads */
    assert_true(explode("name", &f));
    assert_int_equal(f.type, -1);
    assert_true(explode("temp_input", &f)); /* the whole name is the type */
    assert_int_equal(f.type, -1);
    assert_true(explode("freq1_input", &f)); /* not read by node_exporter 1.5 */
    assert_int_equal(f.type, -1);
    /* backtracking: "in_x1y" = type "in", property "x1y" */
    assert_true(explode("in_x1y", &f));
    assert_string_equal(type_name(&f), "in");
    assert_int_equal(f.prop_len, 3);
    /* no match */
    assert_false(explode("1temp", &f));
    assert_false(explode("temp1x", &f));
    assert_false(explode("temp1_", &f));
    assert_false(explode("", &f));
    assert_false(explode("temp99999999999999999999_input", &f));
}

/* The explode rules against the regexp itself (POSIX leftmost-longest can
 * differ from Go on the split, but never on whether a name matches). */
static void test_explode_agrees_on_match(void **st)
{
    regex_t re;
    assert_int_equal(regcomp(&re, "^[^0-9]+[0-9]*(_.+)?$", REG_EXTENDED | REG_NOSUB), 0);
    const char *names[] = {"temp1_input", "fan1", "vrm", "temp1x", "1a", "a_", "a_b", "a1_",
                           "a1__", "_1", "__", "in_x1y", "x1y2_z", "power1_average_interval"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        hwmon_fname f;
        bool want = regexec(&re, names[i], 0, NULL, 0) == 0;
        if (want != explode(names[i], &f))
            fail_msg("explode disagrees with the regexp on \"%s\"", names[i]);
    }
    regfree(&re);
}

static void test_clean_and_chip(void **st)
{
    char out[128];
    sys_class_hwmon_clean("coretemp\n", 9, out, sizeof out);
    assert_string_equal(out, "coretemp");
    sys_class_hwmon_clean("Power Meter-ACPI", 16, out, sizeof out);
    assert_string_equal(out, "power_meter_acpi");
    sys_class_hwmon_clean("__x:Y__", 7, out, sizeof out);
    assert_string_equal(out, "x:y");
    sys_class_hwmon_clean("a\xc3\xa9z", 4, out, sizeof out); /* one rune, one "_" */
    assert_string_equal(out, "a_z");
    sys_class_hwmon_clean("a\xff\xfez", 4, out, sizeof out); /* each invalid byte */
    assert_string_equal(out, "a__z");
    sys_class_hwmon_clean("  \n", 3, out, sizeof out);
    assert_string_equal(out, "");
    sys_class_hwmon_chip_from_device("/sys/devices/platform/coretemp.0", out, sizeof out);
    assert_string_equal(out, "platform_coretemp_0");
    sys_class_hwmon_chip_from_device("/sys/devices/pci0000:00/0000:00:18.3", out, sizeof out);
    assert_string_equal(out, "pci0000:00_0000:00:18_3");
    sys_class_hwmon_chip_from_device("/sys/devices/pci0000:00/0000:00:1d.0/0000:01:00.0/nvme/nvme0",
                                     out, sizeof out);
    assert_string_equal(out, "nvme_nvme0");
    sys_class_hwmon_chip_from_device("/coretemp.0/", out, sizeof out);
    assert_string_equal(out, "coretemp_0");
}

static void test_emit_rules(void **st)
{
    hwmon_chip c;
    hwmon_chip_init(&c);
    strcpy(c.chip, "platform_x");
    strcpy(c.chip_name, "x");
#define ADD(n, v) assert_int_equal(hwmon_chip_add(&c, n, v, strlen(v)), 0)
    ADD("temp1_input", "48000\n");
    ADD("temp1_label", "Package id 0\n");
    ADD("temp1_crit_alarm", "0\n");
    ADD("temp1_type", "4\n");
    ADD("temp2", "1500\n");          /* old-style: the bare file is the value */
    ADD("temp2_input", "1600\n");    /* ... and then _input keeps its suffix */
    ADD("in0_input", "1016\n");
    ADD("in0_min", "0\n");
    ADD("in0_alarm", "1\n");
    ADD("in0_beep", "1\n");
    ADD("cpu0_vid", "1100\n");
    ADD("fan1_input", "1200\n");
    ADD("fan1_pulses", "2\n");
    ADD("fan1_fault", "0\n");
    ADD("pwm1", "128\n");
    ADD("curr1_input", "1500\n");
    ADD("power1_average", "35000000\n");
    ADD("power1_accuracy", "95000\n");
    ADD("power1_average_interval", "300000\n");
    ADD("energy1_input", "2500000\n");
    ADD("humidity1_input", "45500\n");
    ADD("intrusion0_alarm", "1\n");
    ADD("beep_enable", "1\n");
    ADD("vrm", "100\n");
    ADD("update_interval", "1000\n");
    ADD("fan1_input", "1300\n");     /* a later file (device/) wins */
    ADD("temp3_input", "n/a\n");     /* unparsable: skipped */
#undef ADD
    assert_int_equal(hwmon_chip_add(&c, "name", "x", 1), -ENOENT);
    assert_int_equal(hwmon_chip_add(&c, "temp4_input", "1", 1), 0);
    vg_scrape *s;
    vg_scrape_new(&s);
    sys_class_hwmon_emit(&c, s);
    const char *X = "platform_x";
    assert_true(pt_value(s, "node_hwmon_chip_names", 2, X, "x") == 1);
    assert_true(pt_value(s, "node_hwmon_temp_celsius", 2, X, "temp1") == 48);
    assert_true(pt_value(s, "node_hwmon_sensor_label", 3, X, "Package id 0", "temp1") == 1);
    assert_true(pt_value(s, "node_hwmon_temp_crit_alarm_celsius", 2, X, "temp1") == 0);
    assert_true(pt_value(s, "node_hwmon_temp_type", 2, X, "temp1") == 4);
    assert_true(pt_value(s, "node_hwmon_temp_celsius", 2, X, "temp2") == 1.5);
    assert_true(pt_value(s, "node_hwmon_temp_input_celsius", 2, X, "temp2") == 1.6);
    assert_true(pt_value(s, "node_hwmon_in_volts", 2, X, "in0") == 1.016);
    assert_true(pt_value(s, "node_hwmon_in_min_volts", 2, X, "in0") == 0);
    assert_true(pt_value(s, "node_hwmon_in_alarm", 2, X, "in0") == 1);
    assert_true(pt_value(s, "node_hwmon_in_beep_enabled", 2, X, "in0") == 1);
    assert_true(pt_value(s, "node_hwmon_cpu_vid_volts", 2, X, "cpu0") == 1100 * 0.001);
    assert_true(pt_value(s, "node_hwmon_fan_rpm", 2, X, "fan1") == 1300);
    assert_true(pt_value(s, "node_hwmon_fan_pulses", 2, X, "fan1") == 2);
    assert_true(pt_value(s, "node_hwmon_fan_fault", 2, X, "fan1") == 0);
    assert_true(pt_value(s, "node_hwmon_pwm", 2, X, "pwm1") == 128);
    assert_true(pt_value(s, "node_hwmon_curr_amps", 2, X, "curr1") == 1.5);
    assert_true(pt_value(s, "node_hwmon_power_average_watt", 2, X, "power1") == 35);
    assert_true(pt_value(s, "node_hwmon_power_accuracy", 2, X, "power1") == 0.095);
    assert_true(pt_value(s, "node_hwmon_power_average_interval_seconds", 2, X, "power1") == 300);
    assert_true(pt_value(s, "node_hwmon_energy_joule_total", 2, X, "energy1") == 2.5);
    assert_int_equal(pt_type(s, "node_hwmon_energy_joule_total"), VG_MT_COUNTER);
    assert_true(pt_value(s, "node_hwmon_humidity", 2, X, "humidity1") == 0.0455);
    assert_true(pt_value(s, "node_hwmon_intrusion_alarm", 2, X, "intrusion0") == 1);
    assert_true(pt_value(s, "node_hwmon_beep_enabled", 2, X, "beep_enable0") == 1);
    assert_true(pt_value(s, "node_hwmon_voltage_regulator_version", 2, X, "vrm0") == 100);
    assert_true(pt_value(s, "node_hwmon_update_interval_seconds", 2, X, "update_interval0") == 1);
    assert_true(isnan(pt_value(s, "node_hwmon_temp_celsius", 2, X, "temp3")));
    char *text = pt_text(s);
    assert_non_null(strstr(text, "# HELP node_hwmon_temp_celsius Hardware monitor for temperature "
                                 "(input)\n"));
    assert_non_null(strstr(text, "# HELP node_hwmon_fan_fault Hardware sensor fault status (fan)\n"));
    assert_non_null(strstr(text, "# HELP node_hwmon_pwm Hardware monitor pwm element \n"));
    free(text);

    /* reset keeps memory; a chip without a name has no chip_names series */
    hwmon_chip_reset(&c);
    strcpy(c.chip, "hwmon9");
    assert_int_equal(hwmon_chip_add(&c, "temp1_label", "\xff\xfe bad\n", 7), 0);
    vg_scrape_reset(s);
    sys_class_hwmon_emit(&c, s);
    assert_int_equal(pt_count(s, "node_hwmon_chip_names"), 0);
    assert_true(pt_value(s, "node_hwmon_sensor_label", 3, "hwmon9", "\xef\xbf\xbd bad", "temp1") ==
                1);
    vg_scrape_free(s);
    hwmon_chip_release(&c);
}

static void test_collector_fixture(void **st)
{
    pt_env env;
    pt_ctx(&env, "baremetal-k8s");
    vg_scrape *s;
    vg_scrape_new(&s);
    assert_int_equal(pt_collect(&agent_collector_hwmon, &env, s), 0);
    assert_true(pt_value(s, "node_hwmon_chip_names", 2, "platform_coretemp_0", "coretemp") == 1);
    assert_true(pt_value(s, "node_hwmon_temp_celsius", 2, "platform_coretemp_0", "temp1") == 48);
    assert_true(pt_value(s, "node_hwmon_temp_celsius", 2, "nvme_nvme0", "temp1") == 38.85);
    assert_true(pt_value(s, "node_hwmon_temp_celsius", 2, "acpitz", "temp1") == 27.8);
    assert_true(pt_value(s, "node_hwmon_temp_celsius", 2, "hwmon7", "temp1") == 30);
    /* device/ overrides the hwmon directory on a clash */
    assert_true(pt_value(s, "node_hwmon_temp_celsius", 2, "platform_w83627ehf_2576", "temp1") == 41);
    assert_true(pt_value(s, "node_hwmon_fan_rpm", 2, "platform_nct6775_656", "fan1") == 1205);
    vg_scrape_free(s);
    pt_done(&env);
    /* this VM has no hwmon class at all */
    pt_ctx(&env, "real-debian");
    vg_scrape_new(&s);
    assert_int_equal(pt_collect(&agent_collector_hwmon, &env, s), -ENOENT);
    vg_scrape_free(s);
    pt_done(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_explode),
        cmocka_unit_test(test_explode_agrees_on_match),
        cmocka_unit_test(test_clean_and_chip),
        cmocka_unit_test(test_emit_rules),
        cmocka_unit_test(test_collector_fixture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
