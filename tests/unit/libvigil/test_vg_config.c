/* Unit tests for vg_config: precedence, types, and error positions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vg_config.h"

static const vg_opt_def opts[] = {
    {"web.listen-address", VG_OPT_STRING, ":9110", "addr", 0},
    {"web.max-connections", VG_OPT_INT, "64", "conns", 0},
    {"web.timeout", VG_OPT_DURATION, "10s", "t", 0},
    {"log.level", VG_OPT_STRING, "info", "lvl", 0},
    {"ratio", VG_OPT_FLOAT, "1.5", "r", 0},
    {"enabled", VG_OPT_BOOL, "true", "b", 0},
    {"items", VG_OPT_LIST, "x,y", "l", 0},
    {"once", VG_OPT_BOOL, "false", "cli only", VG_OPT_F_CLI_ONLY},
};
static const vg_opt_def *const tables[] = {opts};
static const size_t ntables[] = {sizeof opts / sizeof opts[0]};

#define FIX "tests/fixtures/config/"

static int load(int argc, char **argv, char **envp, vg_config **c, vg_config_err *err)
{
    return vg_config_load(tables, ntables, 1, argc, argv, envp, c, err);
}

static void test_defaults(void **st)
{
    vg_config *c;
    vg_config_err err;
    char *argv[] = {"prog", NULL};
    char *envp[] = {NULL};
    assert_int_equal(load(1, argv, envp, &c, &err), 0);
    assert_string_equal(vg_config_str(c, "web.listen-address"), ":9110");
    assert_int_equal(vg_config_int(c, "web.max-connections"), 64);
    assert_true(vg_config_duration(c, "web.timeout") == 10);
    assert_true(vg_config_float(c, "ratio") == 1.5);
    assert_true(vg_config_bool(c, "enabled"));
    assert_int_equal(vg_config_list_len(c, "items"), 2);
    assert_string_equal(vg_config_list_at(c, "items", 1), "y");
    assert_string_equal(vg_config_source(c, "ratio"), "default");
    assert_null(vg_config_file(c));
    vg_config_free(c);
}

static void test_file_all_types(void **st)
{
    vg_config *c;
    vg_config_err err;
    char *argv[] = {"prog", "--config.file=" FIX "good.yaml", NULL};
    char *envp[] = {NULL};
    assert_int_equal(load(2, argv, envp, &c, &err), 0);
    assert_string_equal(vg_config_str(c, "web.listen-address"), "127.0.0.1:9999");
    assert_int_equal(vg_config_int(c, "web.max-connections"), 12);
    assert_true(vg_config_duration(c, "web.timeout") == 90);
    assert_string_equal(vg_config_str(c, "log.level"), "debug");
    assert_true(vg_config_float(c, "ratio") == 0.25);
    assert_false(vg_config_bool(c, "enabled"));
    assert_int_equal(vg_config_list_len(c, "items"), 3);
    assert_string_equal(vg_config_list_at(c, "items", 2), "c d");
    assert_string_equal(vg_config_source(c, "ratio"), "file");
    assert_string_equal(vg_config_file(c), FIX "good.yaml");
    vg_config_free(c);
}

static void test_precedence(void **st)
{
    vg_config *c;
    vg_config_err err;
    char *argv[] = {"prog", "--web.max-connections", "7", "--no-enabled", NULL};
    char *envp[] = {"VIGIL_CONFIG_FILE=" FIX "good.yaml", "VIGIL_WEB_MAX_CONNECTIONS=99",
                    "VIGIL_LOG_LEVEL=warn", "VIGIL_ITEMS=p, q", "VIGIL_UNRELATED=1", NULL};
    assert_int_equal(load(4, argv, envp, &c, &err), 0);
    assert_int_equal(vg_config_int(c, "web.max-connections"), 7);    /* flag > env > file */
    assert_string_equal(vg_config_source(c, "web.max-connections"), "flag");
    assert_string_equal(vg_config_str(c, "log.level"), "warn");      /* env > file */
    assert_string_equal(vg_config_source(c, "log.level"), "env");
    assert_true(vg_config_duration(c, "web.timeout") == 90);         /* file > default */
    assert_false(vg_config_bool(c, "enabled"));
    assert_int_equal(vg_config_list_len(c, "items"), 2);
    assert_string_equal(vg_config_list_at(c, "items", 0), "p");
    vg_config_free(c);
}

static void test_flag_forms(void **st)
{
    vg_config *c;
    vg_config_err err;
    char *argv[] = {"prog", "--enabled=false", "--enabled", "--items=a", "--items", "b,c",
                    "--once", "--web.timeout=250ms", NULL};
    char *envp[] = {"VIGIL_ITEMS=z", NULL};
    assert_int_equal(load(8, argv, envp, &c, &err), 0);
    assert_true(vg_config_bool(c, "enabled")); /* last one wins */
    assert_int_equal(vg_config_list_len(c, "items"), 3); /* repeated flags append, replace env */
    assert_string_equal(vg_config_list_at(c, "items", 2), "c");
    assert_true(vg_config_bool(c, "once"));
    assert_true(vg_config_duration(c, "web.timeout") == 0.25);
    vg_config_free(c);

    char *h[] = {"prog", "--help", NULL};
    assert_int_equal(load(2, h, envp, &c, &err), 0);
    assert_true(vg_config_wants_help(c));
    vg_config_free(c);
}

static void expect_error(int argc, char **argv, char **envp, const char *want)
{
    vg_config *c = NULL;
    vg_config_err err;
    assert_int_not_equal(load(argc, argv, envp, &c, &err), 0);
    assert_null(c);
    if (!strstr(err.msg, want))
        fail_msg("error \"%s\" lacks \"%s\"", err.msg, want);
}

static void test_errors(void **st)
{
    char *envp[] = {NULL};
    expect_error(2, (char *[]){"p", "--nope", NULL}, envp, "unknown flag --nope");
    expect_error(2, (char *[]){"p", "--web.max-connections=x", NULL}, envp,
                 "flag --web.max-connections: not an integer: \"x\"");
    expect_error(2, (char *[]){"p", "--web.timeout=-5s", NULL}, envp, "not a duration");
    expect_error(2, (char *[]){"p", "--web.listen-address", NULL}, envp, "needs a value");
    expect_error(2, (char *[]){"p", "--no-web.listen-address", NULL}, envp, "unknown flag");
    expect_error(2, (char *[]){"p", "stray", NULL}, envp, "unexpected argument");
    expect_error(1, (char *[]){"p", NULL}, (char *[]){"VIGIL_ENABLED=maybe", NULL},
                 "env VIGIL_ENABLED: not a boolean");
    expect_error(2, (char *[]){"p", "--config.file=/nonexistent.yaml", NULL}, envp,
                 "/nonexistent.yaml: No such file");
    expect_error(2, (char *[]){"p", "--config.file=" FIX "unknown_key.yaml", NULL}, envp,
                 FIX "unknown_key.yaml:5:3: unknown key \"log.colour\"");
    expect_error(2, (char *[]){"p", "--config.file=" FIX "wrong_type.yaml", NULL}, envp,
                 FIX "wrong_type.yaml:2:20: \"web.max-connections\": expected an integer");
    expect_error(2, (char *[]){"p", "--config.file=" FIX "malformed.yaml", NULL}, envp,
                 FIX "malformed.yaml:3:1: invalid YAML");
    expect_error(2, (char *[]){"p", "--config.file=" FIX "duplicate.yaml", NULL}, envp,
                 FIX "duplicate.yaml:3:1: duplicate key \"web.listen-address\"");
    expect_error(2, (char *[]){"p", "--config.file=" FIX "scalar_for_map.yaml", NULL}, envp,
                 FIX "scalar_for_map.yaml:1:6: \"web\": expected a map of options");
    expect_error(2, (char *[]){"p", "--config.file=" FIX "map_for_scalar.yaml", NULL}, envp,
                 FIX "map_for_scalar.yaml:2:19: \"web.listen-address\": expected a string");
}

static void test_yaml_mem(void **st)
{
    vg_config *c = NULL;
    vg_config_err err;
    const char *y = "once: true\n";
    assert_int_not_equal(vg_config_load_yaml_mem(tables, ntables, 1, "m", y, strlen(y), &c, &err), 0);
    assert_non_null(strstr(err.msg, "m:1:1: \"once\" can only be given as a flag"));
    y = "";
    assert_int_equal(vg_config_load_yaml_mem(tables, ntables, 1, "m", y, 0, &c, &err), 0);
    vg_config_free(c);
    c = NULL;
    y = "a: &x [1]\nb: *x\nenabled: *x\n";
    assert_int_not_equal(vg_config_load_yaml_mem(tables, ntables, 1, "m", y, strlen(y), &c, &err), 0);
    y = "log: {level: a}\n---\nlog: {level: b}\n";
    assert_int_not_equal(vg_config_load_yaml_mem(tables, ntables, 1, "m", y, strlen(y), &c, &err), 0);
    assert_non_null(strstr(err.msg, "only one YAML document"));
    vg_config_free(c);
}

static void test_durations(void **st)
{
    double d;
    assert_int_equal(vg_duration_parse("1h2m3s", &d), 0);
    assert_true(d == 3723);
    assert_int_equal(vg_duration_parse("1.5s", &d), 0);
    assert_true(d == 1.5);
    assert_int_equal(vg_duration_parse("30", &d), 0);
    assert_true(d == 30);
    assert_int_equal(vg_duration_parse("100us", &d), 0);
    assert_int_not_equal(vg_duration_parse("", &d), 0);
    assert_int_not_equal(vg_duration_parse("5x", &d), 0);
    assert_int_not_equal(vg_duration_parse("s", &d), 0);
    assert_int_not_equal(vg_duration_parse("-1s", &d), 0);
}

static void test_help(void **st)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    vg_config_help(tables, ntables, 1, "prog", f);
    fclose(f);
    assert_non_null(strstr(buf, "--web.listen-address=:9110"));
    assert_non_null(strstr(buf, "--[no-]enabled (default true)"));
    assert_non_null(strstr(buf, "[env VIGIL_WEB_MAX_CONNECTIONS]"));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),   cmocka_unit_test(test_file_all_types),
        cmocka_unit_test(test_precedence), cmocka_unit_test(test_flag_forms),
        cmocka_unit_test(test_errors),     cmocka_unit_test(test_yaml_mem),
        cmocka_unit_test(test_durations),  cmocka_unit_test(test_help),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
