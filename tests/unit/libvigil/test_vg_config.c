/*
 * Unit tests for vg_config: precedence across flags, environment, file and
 * defaults; every option type; flag forms; list rules; durations; and the
 * exact text (file:line:column) of every error. Fixtures live in
 * tests/fixtures/config/ (tests run from the repo root).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vg_config.h"

/* Two tables, as the binaries pass them: shared options and their own. */
static const vg_opt_def shared[] = {
    {"config.file", VG_OPT_STRING, NULL, "YAML file", VG_OPT_F_CLI_ONLY},
    {"web.listen-address", VG_OPT_STRING, ":9110", "address", 0},
    {"web.max-connections", VG_OPT_INT, "64", "connections", 0},
    {"web.timeout", VG_OPT_DURATION, "10s", "timeout", 0},
    {"log.level", VG_OPT_STRING, "info", "level", VG_OPT_F_RELOADABLE},
};
static const vg_opt_def own[] = {
    {"ratio", VG_OPT_FLOAT, "1.5", "a float", 0},
    {"collector.cpu", VG_OPT_BOOL, "true", "cpu switch", VG_OPT_F_RELOADABLE},
    {"collector.cpu.fields", VG_OPT_LIST, "user,system", "an option under a switch", 0},
    {"items", VG_OPT_LIST, "x, y", "a list", 0},
    {"name", VG_OPT_STRING, NULL, "no default", 0},
    {"empty-list", VG_OPT_LIST, NULL, "no default", 0},
    {"once", VG_OPT_BOOL, "false", "cli only", VG_OPT_F_CLI_ONLY},
};
static const vg_opt_def *const tables[] = {shared, own};
static const size_t ntables[] = {sizeof shared / sizeof shared[0], sizeof own / sizeof own[0]};

#define FIX "tests/fixtures/config/"
#define ARGV(...) ((char *[]){"prog", __VA_ARGS__, NULL})
#define ENVP(...) ((char *[]){__VA_ARGS__, NULL})
#define NOARGS ((char *[]){"prog", NULL})
#define NOENV ((char *[]){NULL})

static int count(char **v)
{
    int n = 0;
    while (v[n])
        n++;
    return n;
}

static vg_config *load_ok(char **argv, char **envp)
{
    vg_config *c = NULL;
    vg_config_err err = {{0}};
    int rc = vg_config_load(tables, ntables, 2, count(argv), argv, envp, &c, &err);
    if (rc)
        fail_msg("load failed: %d %s", rc, err.msg);
    assert_non_null(c);
    return c;
}

/* The load must fail with exactly this message and leave *out alone. */
static void load_err(char **argv, char **envp, const char *want)
{
    vg_config *sentinel = (vg_config *)(uintptr_t)0x5a5a;
    vg_config *c = sentinel;
    vg_config_err err = {{0}};
    int rc = vg_config_load(tables, ntables, 2, count(argv), argv, envp, &c, &err);
    if (rc != -EINVAL)
        fail_msg("want -EINVAL \"%s\", got %d \"%s\"", want, rc, err.msg);
    assert_ptr_equal(c, sentinel);
    assert_string_equal(err.msg, want);
}

static vg_config *yaml_ok(const char *y)
{
    vg_config *c = NULL;
    vg_config_err err = {{0}};
    int rc = vg_config_load_yaml_mem(tables, ntables, 2, "m.yaml", y, strlen(y), &c, &err);
    if (rc)
        fail_msg("yaml %s failed: %s", y, err.msg);
    return c;
}

static void yaml_err_n(const char *y, size_t len, const char *want)
{
    vg_config *sentinel = (vg_config *)(uintptr_t)0x5a5a;
    vg_config *c = sentinel;
    vg_config_err err = {{0}};
    int rc = vg_config_load_yaml_mem(tables, ntables, 2, "m.yaml", y, len, &c, &err);
    if (rc != -EINVAL)
        fail_msg("want -EINVAL \"%s\", got %d \"%s\"", want, rc, err.msg);
    assert_ptr_equal(c, sentinel);
    assert_string_equal(err.msg, want);
}

static void yaml_err(const char *y, const char *want) { yaml_err_n(y, strlen(y), want); }

static bool dbl_eq(double a, double b) { return a == b; }

/* ---- sources and precedence ---- */

static void test_defaults(void **st)
{
    vg_config *c = load_ok(NOARGS, NOENV);
    assert_string_equal(vg_config_str(c, "web.listen-address"), ":9110");
    assert_int_equal(vg_config_int(c, "web.max-connections"), 64);
    assert_true(dbl_eq(vg_config_duration(c, "web.timeout"), 10));
    assert_true(dbl_eq(vg_config_float(c, "ratio"), 1.5));
    assert_true(vg_config_bool(c, "collector.cpu"));
    assert_false(vg_config_bool(c, "once"));
    assert_int_equal(vg_config_list_len(c, "items"), 2);
    assert_string_equal(vg_config_list_at(c, "items", 0), "x");
    assert_string_equal(vg_config_list_at(c, "items", 1), "y");
    assert_null(vg_config_list_at(c, "items", 2));
    /* NULL defaults: "" for strings (never NULL), empty lists */
    assert_string_equal(vg_config_str(c, "name"), "");
    assert_int_equal(vg_config_list_len(c, "empty-list"), 0);
    assert_string_equal(vg_config_source(c, "ratio"), "default");
    assert_null(vg_config_file(c));
    assert_false(vg_config_wants_help(c));
    assert_false(vg_config_wants_version(c));
    vg_config_free(c);
    vg_config_free(NULL);
}

static void test_file_every_type(void **st)
{
    vg_config *c = load_ok(ARGV("--config.file=" FIX "good.yaml"), NOENV);
    assert_string_equal(vg_config_file(c), FIX "good.yaml");
    assert_string_equal(vg_config_str(c, "web.listen-address"), "127.0.0.1:9999");
    assert_int_equal(vg_config_int(c, "web.max-connections"), 12);
    assert_true(dbl_eq(vg_config_duration(c, "web.timeout"), 90));
    assert_string_equal(vg_config_str(c, "log.level"), "debug");
    assert_true(dbl_eq(vg_config_float(c, "ratio"), 0.25));
    /* "collector.cpu" is both a switch and the group of collector.cpu.fields */
    assert_false(vg_config_bool(c, "collector.cpu"));
    assert_int_equal(vg_config_list_len(c, "collector.cpu.fields"), 3);
    assert_string_equal(vg_config_list_at(c, "collector.cpu.fields", 1), "iowait");
    assert_string_equal(vg_config_list_at(c, "collector.cpu.fields", 2), "c d");
    /* comma-separated scalar, items trimmed */
    assert_int_equal(vg_config_list_len(c, "items"), 3);
    assert_string_equal(vg_config_list_at(c, "items", 1), "b");
    /* "name: ~" means not set here */
    assert_string_equal(vg_config_source(c, "name"), "default");
    assert_string_equal(vg_config_source(c, "ratio"), "file");
    assert_string_equal(vg_config_source(c, "once"), "default");
    vg_config_free(c);
}

static void test_precedence(void **st)
{
    /* max-connections: flag > env > file; log.level: env > file;
     * web.timeout: file > default; ratio: default */
    vg_config *c = load_ok(ARGV("--web.max-connections", "3", "--config.file", FIX "precedence.yaml"),
                           ENVP("VIGIL_WEB_MAX_CONNECTIONS=2", "VIGIL_LOG_LEVEL=env"));
    assert_int_equal(vg_config_int(c, "web.max-connections"), 3);
    assert_string_equal(vg_config_source(c, "web.max-connections"), "flag");
    assert_string_equal(vg_config_str(c, "log.level"), "env");
    assert_string_equal(vg_config_source(c, "log.level"), "env");
    assert_true(dbl_eq(vg_config_duration(c, "web.timeout"), 7));
    assert_string_equal(vg_config_source(c, "web.timeout"), "file");
    assert_true(dbl_eq(vg_config_float(c, "ratio"), 1.5));
    assert_string_equal(vg_config_source(c, "ratio"), "default");
    assert_string_equal(vg_config_source(c, "config.file"), "flag");
    vg_config_free(c);

    /* the file named by VIGIL_CONFIG_FILE; without the flag, env beats file */
    c = load_ok(NOARGS, ENVP("VIGIL_CONFIG_FILE=" FIX "precedence.yaml", "VIGIL_WEB_MAX_CONNECTIONS=2"));
    assert_string_equal(vg_config_file(c), FIX "precedence.yaml");
    assert_int_equal(vg_config_int(c, "web.max-connections"), 2);
    assert_string_equal(vg_config_str(c, "log.level"), "file");
    assert_string_equal(vg_config_source(c, "log.level"), "file");
    vg_config_free(c);

    /* --config.file beats VIGIL_CONFIG_FILE (which names a broken file) */
    c = load_ok(ARGV("--config.file=" FIX "precedence.yaml"),
                ENVP("VIGIL_CONFIG_FILE=" FIX "malformed.yaml"));
    assert_int_equal(vg_config_int(c, "web.max-connections"), 1);
    vg_config_free(c);

    /* an empty --config.file means no file, even when the env names one */
    c = load_ok(ARGV("--config.file="), ENVP("VIGIL_CONFIG_FILE=" FIX "malformed.yaml"));
    assert_null(vg_config_file(c));
    vg_config_free(c);

    /* empty and comment-only files give all defaults */
    static const char *const empties[] = {FIX "empty.yaml", FIX "comments_only.yaml"};
    for (size_t i = 0; i < 2; i++) {
        char arg[256];
        snprintf(arg, sizeof arg, "--config.file=%s", empties[i]);
        c = load_ok(ARGV(arg), NOENV);
        assert_int_equal(vg_config_int(c, "web.max-connections"), 64);
        assert_string_equal(vg_config_source(c, "web.max-connections"), "default");
        vg_config_free(c);
    }
}

static void test_env(void **st)
{
    vg_config *c = load_ok(NOARGS, ENVP("PATH=/bin", "VIGIL_UNRELATED=1", "VIGIL_=x", "VIGIL_NOEQUALS",
                                        "VIGIL_ONCE=true",               /* flag-only: ignored */
                                        "VIGIL_WEB_LISTEN_ADDRESS=:1",   /* '.' and '-' become '_' */
                                        "VIGIL_WEB_LISTEN_ADDRESS=:2",   /* first one wins */
                                        "VIGIL_COLLECTOR_CPU=false", "VIGIL_COLLECTOR_CPU_FIELDS=a, b",
                                        "VIGIL_RATIO=-2.5e1", "VIGIL_WEB_TIMEOUT=250ms",
                                        "VIGIL_NAME=", "vigil_log_level=lower-case"));
    assert_false(vg_config_bool(c, "once"));
    assert_string_equal(vg_config_source(c, "once"), "default");
    assert_string_equal(vg_config_str(c, "web.listen-address"), ":1");
    assert_false(vg_config_bool(c, "collector.cpu"));
    assert_int_equal(vg_config_list_len(c, "collector.cpu.fields"), 2);
    assert_string_equal(vg_config_list_at(c, "collector.cpu.fields", 1), "b");
    assert_true(dbl_eq(vg_config_float(c, "ratio"), -25));
    assert_true(dbl_eq(vg_config_duration(c, "web.timeout"), 0.25));
    assert_string_equal(vg_config_str(c, "name"), "");
    assert_string_equal(vg_config_source(c, "name"), "env");
    assert_string_equal(vg_config_str(c, "log.level"), "info");
    vg_config_free(c);

    /* envp NULL means the process environment */
    setenv("VIGIL_LOG_LEVEL", "from-environ", 1);
    char *argv[] = {"prog", NULL};
    vg_config_err err;
    assert_int_equal(vg_config_load(tables, ntables, 2, 1, argv, NULL, &c, &err), 0);
    assert_string_equal(vg_config_str(c, "log.level"), "from-environ");
    vg_config_free(c);
    unsetenv("VIGIL_LOG_LEVEL");
}

/* ---- flag forms ---- */

static void test_bool_forms(void **st)
{
    struct { const char *arg; bool want; } cases[] = {
        {"--collector.cpu", true},        {"--no-collector.cpu", false},
        {"--collector.cpu=false", false}, {"--collector.cpu=true", true},
        {"--collector.cpu=FALSE", false}, {"--collector.cpu=True", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vg_config *c = load_ok(ARGV("--no-collector.cpu", "--collector.cpu", (char *)cases[i].arg),
                               NOENV);
        if (vg_config_bool(c, "collector.cpu") != cases[i].want)
            fail_msg("%s", cases[i].arg);
        assert_string_equal(vg_config_source(c, "collector.cpu"), "flag");
        vg_config_free(c);
    }
    /* the last of repeated flags wins; flag beats env */
    vg_config *c = load_ok(ARGV("--collector.cpu", "--no-collector.cpu"), ENVP("VIGIL_COLLECTOR_CPU=true"));
    assert_false(vg_config_bool(c, "collector.cpu"));
    vg_config_free(c);

    load_err(ARGV("--collector.cpu=yes"), NOENV,
             "flag --collector.cpu: not a boolean (true or false): \"yes\"");
    load_err(ARGV("--collector.cpu=1"), NOENV, "flag --collector.cpu: not a boolean (true or false): \"1\"");
    load_err(ARGV("--collector.cpu="), NOENV, "flag --collector.cpu: not a boolean (true or false): \"\"");
    load_err(ARGV("--no-collector.cpu=true"), NOENV, "flag --no-collector.cpu does not take a value");
    /* a boolean never takes the next argument */
    load_err(ARGV("--collector.cpu", "false"), NOENV, "unexpected argument \"false\"");
    load_err(ARGV("--no-web.listen-address"), NOENV,
             "unknown flag --no-web.listen-address (--web.listen-address is not a boolean)");
    load_err(NOARGS, ENVP("VIGIL_COLLECTOR_CPU=on"),
             "env VIGIL_COLLECTOR_CPU: not a boolean (true or false): \"on\"");
}

static void test_value_forms(void **st)
{
    vg_config *c = load_ok(ARGV("--web.listen-address", "127.0.0.1:1", "--web.max-connections", "-5",
                                "--web.timeout", "2h", "--ratio", "3", "--name=a=b", "--items", "p",
                                "--once"),
                           NOENV);
    assert_string_equal(vg_config_str(c, "web.listen-address"), "127.0.0.1:1");
    assert_int_equal(vg_config_int(c, "web.max-connections"), -5);
    assert_true(dbl_eq(vg_config_duration(c, "web.timeout"), 7200));
    assert_true(dbl_eq(vg_config_float(c, "ratio"), 3));
    assert_string_equal(vg_config_str(c, "name"), "a=b");   /* split at the first '=' */
    assert_int_equal(vg_config_list_len(c, "items"), 1);
    assert_true(vg_config_bool(c, "once"));
    vg_config_free(c);

    /* last wins for scalars; an empty value is an empty string */
    c = load_ok(ARGV("--name=first", "--name="), NOENV);
    assert_string_equal(vg_config_str(c, "name"), "");
    assert_string_equal(vg_config_source(c, "name"), "flag");
    vg_config_free(c);

    /* "--" ends the flags */
    c = load_ok(ARGV("--name=x", "--"), NOENV);
    assert_string_equal(vg_config_str(c, "name"), "x");
    vg_config_free(c);

    load_err(ARGV("--web.listen-address"), NOENV, "flag --web.listen-address needs a value");
    /* the next argument is not taken when it is itself a flag */
    load_err(ARGV("--web.listen-address", "--name=x"), NOENV, "flag --web.listen-address needs a value");
    load_err(ARGV("--nope"), NOENV, "unknown flag --nope");
    load_err(ARGV("--nope=1"), NOENV, "unknown flag --nope");
    load_err(ARGV("--no-nope"), NOENV, "unknown flag --no-nope");
    load_err(ARGV("-x"), NOENV, "unknown flag -x");
}

static void test_value_forms_dashdash(void **st)
{
    vg_config *c = load_ok(ARGV("--"), NOENV);
    vg_config_free(c);
    load_err(ARGV("--", "x"), NOENV, "unexpected argument \"x\"");
    load_err(ARGV("stray"), NOENV, "unexpected argument \"stray\"");
    load_err(ARGV("-"), NOENV, "unexpected argument \"-\"");
    load_err(ARGV("--=x"), NOENV, "unknown flag --");
    load_err(ARGV("--help=1"), NOENV, "flag --help does not take a value");
    load_err(ARGV("--version=1"), NOENV, "flag --version does not take a value");
}

static void test_help_version(void **st)
{
    vg_config *c = load_ok(ARGV("--help"), NOENV);
    assert_true(vg_config_wants_help(c));
    vg_config_free(c);
    c = load_ok(ARGV("-h"), NOENV);
    assert_true(vg_config_wants_help(c));
    vg_config_free(c);
    c = load_ok(ARGV("--version"), NOENV);
    assert_true(vg_config_wants_version(c));
    assert_false(vg_config_wants_help(c));
    vg_config_free(c);
    /* help works while the file and the environment are broken ... */
    c = load_ok(ARGV("--config.file=" FIX "malformed.yaml", "--help"), ENVP("VIGIL_WEB_MAX_CONNECTIONS=x"));
    assert_true(vg_config_wants_help(c));
    vg_config_free(c);
    /* ... but flags are still checked */
    load_err(ARGV("--help", "--nope"), NOENV, "unknown flag --nope");
}

/* ---- types ---- */

static void test_ints(void **st)
{
    struct { const char *v; int64_t want; } good[] = {
        {"0", 0}, {"+5", 5}, {"-5", -5},
        {"9223372036854775807", INT64_MAX}, {"-9223372036854775808", INT64_MIN},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char arg[64];
        snprintf(arg, sizeof arg, "--web.max-connections=%s", good[i].v);
        vg_config *c = load_ok(ARGV(arg), NOENV);
        assert_true(vg_config_int(c, "web.max-connections") == good[i].want);
        vg_config_free(c);
    }
    load_err(ARGV("--web.max-connections=x"), NOENV, "flag --web.max-connections: not an integer: \"x\"");
    load_err(ARGV("--web.max-connections=9223372036854775808"), NOENV,
             "flag --web.max-connections: integer out of range: \"9223372036854775808\"");
    load_err(ARGV("--web.max-connections= 5"), NOENV, "flag --web.max-connections: not an integer: \" 5\"");
    load_err(ARGV("--web.max-connections=0x10"), NOENV, "flag --web.max-connections: not an integer: \"0x10\"");
    load_err(ARGV("--web.max-connections=1.0"), NOENV, "flag --web.max-connections: not an integer: \"1.0\"");
    load_err(ARGV("--web.max-connections="), NOENV, "flag --web.max-connections: not an integer: \"\"");
    load_err(NOARGS, ENVP("VIGIL_WEB_MAX_CONNECTIONS=x"), "env VIGIL_WEB_MAX_CONNECTIONS: not an integer: \"x\"");
    /* bad input is echoed escaped and bounded */
    load_err(ARGV("--web.max-connections=a\"b\\c\n"), NOENV,
             "flag --web.max-connections: not an integer: \"a\\\"b\\\\c\\x0a\"");
    char big[400];
    memset(big, '7', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char arg[440];
    snprintf(arg, sizeof arg, "--web.max-connections=%s", big);
    char want[300];
    snprintf(want, sizeof want, "flag --web.max-connections: integer out of range: \"%.128s\"...", big);
    load_err(ARGV(arg), NOENV, want);
}

static void test_floats(void **st)
{
    vg_config *c = load_ok(ARGV("--ratio=1e3"), NOENV);
    assert_true(dbl_eq(vg_config_float(c, "ratio"), 1000));
    vg_config_free(c);
    c = yaml_ok("ratio: -0.5\n");
    assert_true(dbl_eq(vg_config_float(c, "ratio"), -0.5));
    vg_config_free(c);
    load_err(ARGV("--ratio=inf"), NOENV, "flag --ratio: not a finite number: \"inf\"");
    load_err(ARGV("--ratio=nan"), NOENV, "flag --ratio: not a finite number: \"nan\"");
    load_err(ARGV("--ratio=1e999"), NOENV, "flag --ratio: not a finite number: \"1e999\"");
    load_err(ARGV("--ratio=1,5"), NOENV, "flag --ratio: not a finite number: \"1,5\"");
    load_err(ARGV("--ratio="), NOENV, "flag --ratio: not a finite number: \"\"");
    yaml_err("ratio: .inf\n", "m.yaml:1:8: ratio: not a finite number: \".inf\"");
}

static void test_durations(void **st)
{
    struct { const char *s; double want; } good[] = {
        {"5s", 5}, {"250ms", 0.25}, {"1m30s", 90}, {"2h", 7200}, {"1h2m3.5s", 3723.5},
        {"1.5h", 5400}, {"30", 30}, {"0.5", 0.5}, {"0", 0}, {"0s", 0}, {"1d", 86400},
        {"100us", 100 / 1e6}, {"1\xc2\xb5s", 1 / 1e6}, {"1ns", 1 / 1e9}, {"+3s", 3},
        {"1m1m", 120}, {"876000h", 876000.0 * 3600}, {".5s", 0.5}, {"0.3s", 0.3},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        double d = -1;
        if (vg_duration_parse(good[i].s, &d) != 0 || d != good[i].want)
            fail_msg("duration \"%s\": got %.17g want %.17g", good[i].s, d, good[i].want);
    }
    static const char *const bad[] = {
        "", "-5s", "-0s", "1m30", "s", "5x", "5 s", " 5s", "5s ", "5S", "1e3s",
        "1..5s", ".s", "5m-3s", "876001h", "--5s", "+", "1h 2m", "5sec",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double d = 42;
        if (vg_duration_parse(bad[i], &d) != -EINVAL || d != 42)
            fail_msg("duration \"%s\" accepted", bad[i]);
    }
    double d;
    assert_int_equal(vg_duration_parse(NULL, &d), -EINVAL);

    load_err(ARGV("--web.timeout=-5s"), NOENV, "flag --web.timeout: negative duration: \"-5s\"");
    load_err(ARGV("--web.timeout=876001h"), NOENV,
             "flag --web.timeout: duration longer than 100 years: \"876001h\"");
    load_err(ARGV("--web.timeout=5x"), NOENV,
             "flag --web.timeout: not a duration (like 1m30s, 250ms or plain seconds): \"5x\"");
    load_err(NOARGS, ENVP("VIGIL_WEB_TIMEOUT=1m30"),
             "env VIGIL_WEB_TIMEOUT: not a duration (like 1m30s, 250ms or plain seconds): \"1m30\"");
    load_err(ARGV("--config.file=" FIX "bad_duration.yaml"), NOENV,
             FIX "bad_duration.yaml:2:12: web.timeout: not a duration (like 1m30s, 250ms or plain "
                 "seconds): \"1m30\"");
    /* YAML numbers are seconds */
    vg_config *c = yaml_ok("web: {timeout: 12}\n");
    assert_true(dbl_eq(vg_config_duration(c, "web.timeout"), 12));
    vg_config_free(c);
}

static void test_lists(void **st)
{
    /* repeated flags append; flags replace env and file lists */
    vg_config *c = load_ok(ARGV("--config.file=" FIX "precedence.yaml", "--items=a,b", "--items", " c ,, d"),
                           ENVP("VIGIL_ITEMS=e1,e2"));
    assert_int_equal(vg_config_list_len(c, "items"), 4);
    static const char *const want[] = {"a", "b", "c", "d"};
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(vg_config_list_at(c, "items", i), want[i]);
    assert_string_equal(vg_config_source(c, "items"), "flag");
    vg_config_free(c);

    /* env replaces the file's list */
    c = load_ok(ARGV("--config.file=" FIX "precedence.yaml"), ENVP("VIGIL_ITEMS=e1,e2"));
    assert_int_equal(vg_config_list_len(c, "items"), 2);
    assert_string_equal(vg_config_list_at(c, "items", 0), "e1");
    vg_config_free(c);

    /* the file replaces the default */
    c = load_ok(ARGV("--config.file=" FIX "precedence.yaml"), NOENV);
    assert_int_equal(vg_config_list_len(c, "items"), 2);
    assert_string_equal(vg_config_list_at(c, "items", 1), "f2");
    vg_config_free(c);

    /* an empty flag value empties the list (it still replaces) */
    c = load_ok(ARGV("--items="), ENVP("VIGIL_ITEMS=e1"));
    assert_int_equal(vg_config_list_len(c, "items"), 0);
    assert_string_equal(vg_config_source(c, "items"), "flag");
    vg_config_free(c);

    /* YAML: sequence (items kept verbatim, commas included), "" and [] are empty */
    c = yaml_ok("items: ['a,b', ' c ']\nempty-list: []\ncollector.cpu.fields: \"\"\n");
    assert_int_equal(vg_config_list_len(c, "items"), 2);
    assert_string_equal(vg_config_list_at(c, "items", 0), "a,b");
    assert_string_equal(vg_config_list_at(c, "items", 1), " c ");
    assert_int_equal(vg_config_list_len(c, "empty-list"), 0);
    assert_string_equal(vg_config_source(c, "empty-list"), "file");
    assert_int_equal(vg_config_list_len(c, "collector.cpu.fields"), 0);
    vg_config_free(c);

    yaml_err("items:\n  - a\n  -\n", "m.yaml:3:4: items: empty list item");
    yaml_err("items: [a, [b]]\n", "m.yaml:1:12: items: list items must be scalars, got a sequence");
    yaml_err("items: [{a: 1}]\n", "m.yaml:1:9: items: list items must be scalars, got a map");
    yaml_err("items: {a: 1}\n", "m.yaml:1:8: items: expected a list, got a map");
}

/* ---- YAML ---- */

static void test_yaml_forms(void **st)
{
    /* quoted scalars are parsed by the option's type; plain numbers are strings */
    vg_config *c = yaml_ok("web.max-connections: \"12\"\ncollector.cpu: 'false'\nname: 123\n");
    assert_int_equal(vg_config_int(c, "web.max-connections"), 12);
    assert_false(vg_config_bool(c, "collector.cpu"));
    assert_string_equal(vg_config_str(c, "name"), "123");
    vg_config_free(c);

    /* null values (~, null, nothing) leave the default; so does a null group */
    c = yaml_ok("web:\nname: null\nlog: {level: ~}\nratio:\n");
    assert_string_equal(vg_config_str(c, "log.level"), "info");
    assert_string_equal(vg_config_source(c, "log.level"), "default");
    assert_true(dbl_eq(vg_config_float(c, "ratio"), 1.5));
    vg_config_free(c);

    /* a quoted empty string is a value */
    c = yaml_ok("log.level: \"\"\n");
    assert_string_equal(vg_config_str(c, "log.level"), "");
    assert_string_equal(vg_config_source(c, "log.level"), "file");
    vg_config_free(c);

    /* the document forms that mean "empty" */
    static const char *const empties[] = {"", "---\n", "~\n", "# c\n", "---\n...\n", "{}\n"};
    for (size_t i = 0; i < sizeof empties / sizeof empties[0]; i++) {
        c = yaml_ok(empties[i]);
        assert_string_equal(vg_config_source(c, "log.level"), "default");
        vg_config_free(c);
    }
    /* NULL buffer with length 0 */
    vg_config_err err;
    assert_int_equal(vg_config_load_yaml_mem(tables, ntables, 2, "m", NULL, 0, &c, &err), 0);
    vg_config_free(c);

    /* UTF-8 values are kept byte for byte */
    c = yaml_ok("name: \"caf\xc3\xa9\"\n");
    assert_string_equal(vg_config_str(c, "name"), "caf\xc3\xa9");
    vg_config_free(c);
}

static void test_file_errors(void **st)
{
    load_err(ARGV("--config.file=" FIX "unknown_key.yaml"), NOENV,
             FIX "unknown_key.yaml:5:3: unknown key \"log.colour\"");
    load_err(ARGV("--config.file=" FIX "wrong_type.yaml"), NOENV,
             FIX "wrong_type.yaml:2:20: web.max-connections: not an integer: \"lots\"");
    load_err(ARGV("--config.file=" FIX "malformed.yaml"), NOENV,
             FIX "malformed.yaml:3:1: invalid YAML: did not find expected ',' or ']' while parsing "
                 "a flow sequence started at 2:19");
    load_err(ARGV("--config.file=" FIX "duplicate.yaml"), NOENV,
             FIX "duplicate.yaml:3:1: duplicate key \"web.listen-address\" (first at 2:3)");
    load_err(ARGV("--config.file=" FIX "duplicate_same_map.yaml"), NOENV,
             FIX "duplicate_same_map.yaml:5:1: duplicate key \"log\"");
    load_err(ARGV("--config.file=" FIX "scalar_for_map.yaml"), NOENV,
             FIX "scalar_for_map.yaml:1:6: web: expected a map of options, got a scalar");
    load_err(ARGV("--config.file=" FIX "map_for_scalar.yaml"), NOENV,
             FIX "map_for_scalar.yaml:2:19: web.listen-address: expected a string, got a map");
    load_err(ARGV("--config.file=" FIX "seq_for_scalar.yaml"), NOENV,
             FIX "seq_for_scalar.yaml:3:5: web.max-connections: expected an integer, got a sequence");
    load_err(ARGV("--config.file=" FIX "alias.yaml"), NOENV,
             FIX "alias.yaml:1:7: YAML anchors are not supported");
    load_err(ARGV("--config.file=" FIX "multi_doc.yaml"), NOENV,
             FIX "multi_doc.yaml:2:1: only one YAML document is allowed");
    load_err(ARGV("--config.file=" FIX "cli_only.yaml"), NOENV,
             FIX "cli_only.yaml:3:1: once can only be set with a flag");
    load_err(ARGV("--config.file=" FIX "top_level_list.yaml"), NOENV,
             FIX "top_level_list.yaml:1:1: the top level must be a map of options, got a sequence");
    load_err(ARGV("--config.file=" FIX "nonexistent.yaml"), NOENV,
             FIX "nonexistent.yaml: cannot read config file: No such file or directory");
    load_err(ARGV("--config.file=tests/fixtures/config"), NOENV,
             "tests/fixtures/config: cannot read config file: Is a directory");
    load_err(NOARGS, ENVP("VIGIL_CONFIG_FILE=" FIX "unknown_key.yaml"),
             FIX "unknown_key.yaml:5:3: unknown key \"log.colour\"");
}

static void test_yaml_errors(void **st)
{
    yaml_err("web: {bogus: 1}\n", "m.yaml:1:7: unknown key \"web.bogus\"");
    yaml_err("web:\n  listen-address: x\n  bogus-key: 1\n", "m.yaml:3:3: unknown key \"web.bogus-key\"");
    yaml_err("nope: {a: 1}\n", "m.yaml:1:1: unknown key \"nope\"");
    yaml_err("nope: [1]\n", "m.yaml:1:1: unknown key \"nope\"");
    yaml_err("web: [1]\n", "m.yaml:1:6: web: expected a map of options, got a sequence");
    yaml_err("ratio: {a: 1}\n", "m.yaml:1:8: ratio: expected a number, got a map");
    yaml_err("collector: {cpu: maybe}\n",
             "m.yaml:1:18: collector.cpu: not a boolean (true or false): \"maybe\"");
    yaml_err("collector: {cpu: yes}\n", "m.yaml:1:18: collector.cpu: not a boolean (true or false): \"yes\"");
    /* nested form collides with the dotted form, in either order */
    yaml_err("web.timeout: 1s\nweb:\n  timeout: 2s\n", "m.yaml:3:3: duplicate key \"web.timeout\" (first at 1:1)");
    /* a null value still counts as given */
    yaml_err("name:\nname: x\n", "m.yaml:2:1: duplicate key \"name\"");
    yaml_err("config.file: x.yaml\n", "m.yaml:1:1: config.file can only be set with a flag");
    yaml_err("once: ~\n", "m.yaml:1:1: once can only be set with a flag");
    yaml_err("a: &x 1\n", "m.yaml:1:4: YAML anchors are not supported");
    yaml_err("name: *x\n", "m.yaml:1:7: YAML aliases are not supported");
    yaml_err("name: !!str 5\n", "m.yaml:1:7: YAML tags are not supported");
    yaml_err("[a, b]: 1\n", "m.yaml:1:1: map keys must be scalars, got a sequence");
    yaml_err("\"\": 1\n", "m.yaml:1:1: invalid key \"\"");
    yaml_err("name: \"a\\0b\"\n", "m.yaml:1:7: name: value contains a NUL byte: \"a\\x00b\"");
    yaml_err("items: [\"a\\0b\"]\n", "m.yaml:1:9: items: value contains a NUL byte");
    yaml_err("5\n", "m.yaml:1:1: the top level must be a map of options, got a scalar");
    yaml_err("name: b\n--- x\n", "m.yaml:2:1: only one YAML document is allowed");
    yaml_err("web:\n\tx: 1\n",
             "m.yaml:2:1: invalid YAML: found character that cannot start any token while scanning "
             "for the next token started at 2:1");
    yaml_err("web: {\n", "m.yaml:2:1: invalid YAML: did not find expected node content while "
                         "parsing a flow node started at 2:1");
    /* invalid UTF-8 is a reader error: its byte offset becomes line:column */
    yaml_err("name: ok\nlog: {level: \"\xff\"}\n", "m.yaml:2:15: invalid YAML: invalid leading UTF-8 octet");
    /* an embedded NUL byte in the document */
    yaml_err_n("name: a\0b\n", 10, "m.yaml:1:8: invalid YAML: control characters are not allowed");

    /* an absurd key is echoed bounded (libyaml caps plain keys at 1024) */
    char *y = malloc(1100);
    memset(y, 'k', 1000);
    memcpy(y + 1000, ": 1\n", 5);
    vg_config *c = NULL;
    vg_config_err err;
    assert_int_equal(vg_config_load_yaml_mem(tables, ntables, 2, "m.yaml", y, strlen(y), &c, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "m.yaml:1:1: unknown key \"kkkk"));
    assert_non_null(strstr(err.msg, "kkk\"..."));
    free(y);
}

static void test_limits(void **st)
{
    /* 1 MiB bound, for memory and for files */
    size_t big = (1u << 20) + 1;
    char *y = malloc(big + 1);
    memset(y, '#', big);
    y[big] = '\0';
    vg_config *c = NULL;
    vg_config_err err;
    assert_int_equal(vg_config_load_yaml_mem(tables, ntables, 2, "m.yaml", y, big, &c, &err), -EINVAL);
    assert_string_equal(err.msg, "m.yaml: file is larger than 1 MiB");
    /* exactly 1 MiB of comment is fine */
    assert_int_equal(vg_config_load_yaml_mem(tables, ntables, 2, "m.yaml", y, big - 1, &c, &err), 0);
    vg_config_free(c);

    char path[] = "/tmp/vg_config_testXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, y, big), (ssize_t)big);
    close(fd);
    char arg[64], want[96];
    snprintf(arg, sizeof arg, "--config.file=%s", path);
    snprintf(want, sizeof want, "%s: file is larger than 1 MiB", path);
    load_err(ARGV(arg), NOENV, want);
    unlink(path);
    free(y);

    /* nesting depth: a table with an option 18 levels deep */
    static const vg_opt_def deep[] = {
        {"a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r", VG_OPT_INT, "0", "deep", 0},
    };
    const vg_opt_def *const dt[] = {deep};
    const size_t dn[] = {1};
    const char *ok = "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p: {q: {r: 5}}\n";
    assert_int_equal(vg_config_load_yaml_mem(dt, dn, 1, "d", ok, strlen(ok), &c, &err), 0);
    assert_int_equal(vg_config_int(c, "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r"), 5);
    vg_config_free(c);
    const char *nested = "a: {b: {c: {d: {e: {f: {g: {h: {i: {j: {k: {l: {m: {n: {o: {p: {q: {r: 5}}}}}}}}}}}}}}}}}\n";
    c = (vg_config *)(uintptr_t)0x5a5a;
    assert_int_equal(vg_config_load_yaml_mem(dt, dn, 1, "d", nested, strlen(nested), &c, &err), -EINVAL);
    assert_ptr_equal(c, (vg_config *)(uintptr_t)0x5a5a);
    assert_string_equal(err.msg, "d:1:64: maps nested deeper than 16 levels");
}

/* ---- tables, ownership, help, misuse ---- */

static void test_table_errors(void **st)
{
    vg_config *c = (vg_config *)(uintptr_t)0x5a5a;
    vg_config_err err;
    char *argv[] = {"prog", NULL};
    static const vg_opt_def dup[] = {{"log.level", VG_OPT_STRING, "x", "again", 0}};
    const vg_opt_def *const t1[] = {shared, dup};
    const size_t n1[] = {ntables[0], 1};
    assert_int_equal(vg_config_load(t1, n1, 2, 1, argv, NOENV, &c, &err), -EINVAL);
    assert_string_equal(err.msg, "option table: option \"log.level\" defined twice");

    static const vg_opt_def baddef[] = {{"n", VG_OPT_INT, "ten", "", 0}};
    const vg_opt_def *const t2[] = {baddef};
    const size_t n2[] = {1};
    assert_int_equal(vg_config_load(t2, n2, 1, 1, argv, NOENV, &c, &err), -EINVAL);
    assert_string_equal(err.msg, "option table: option \"n\": invalid default: not an integer: \"ten\"");

    static const vg_opt_def clash[] = {{"a.b", VG_OPT_STRING, NULL, "", 0}, {"a-b", VG_OPT_STRING, NULL, "", 0}};
    const vg_opt_def *const t3[] = {clash};
    const size_t n3[] = {2};
    assert_int_equal(vg_config_load(t3, n3, 1, 1, argv, NOENV, &c, &err), -EINVAL);
    assert_string_equal(err.msg, "option table: options \"a-b\" and \"a.b\" share the variable VIGIL_A_B");

    static const char *const badnames[] = {"", ".a", "a.", "a..b", "a b", "help", "-a"};
    for (size_t i = 0; i < sizeof badnames / sizeof badnames[0]; i++) {
        vg_opt_def bn[] = {{badnames[i], VG_OPT_STRING, NULL, "", 0}};
        const vg_opt_def *const t4[] = {bn};
        assert_int_equal(vg_config_load(t4, n2, 1, 1, argv, NOENV, &c, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "option table: invalid option"));
    }
    assert_ptr_equal(c, (vg_config *)(uintptr_t)0x5a5a);

    /* no tables at all is a valid (empty) config */
    assert_int_equal(vg_config_load(NULL, NULL, 0, 1, argv, NOENV, &c, &err), 0);
    vg_config_free(c);
    /* argc 0 / argv NULL */
    assert_int_equal(vg_config_load(tables, ntables, 2, 0, NULL, NOENV, &c, &err), 0);
    vg_config_free(c);
}

static void test_owns_copies(void **st)
{
    char *a1 = strdup("--name=flagvalue");
    char *a2 = strdup("--items=p,q");
    char *e1 = strdup("VIGIL_LOG_LEVEL=envvalue");
    char *argv[] = {"prog", a1, a2, NULL};
    char *envp[] = {e1, NULL};
    vg_config *c = load_ok(argv, envp);
    memset(a1, 'X', strlen(a1));
    memset(a2, 'X', strlen(a2));
    memset(e1, 'X', strlen(e1));
    free(a1);
    free(a2);
    free(e1);
    assert_string_equal(vg_config_str(c, "name"), "flagvalue");
    assert_string_equal(vg_config_list_at(c, "items", 1), "q");
    assert_string_equal(vg_config_str(c, "log.level"), "envvalue");
    vg_config_free(c);

    /* the tables need not outlive the config */
    vg_opt_def *heap = calloc(1, sizeof *heap);
    char *nm = strdup("heap.opt");
    heap->name = nm;
    heap->type = VG_OPT_STRING;
    heap->def = "d";
    const vg_opt_def *const ht[] = {heap};
    const size_t hn[] = {1};
    vg_config_err err;
    assert_int_equal(vg_config_load(ht, hn, 1, 1, (char *[]){"p", NULL}, NOENV, &c, &err), 0);
    free(nm);
    free(heap);
    assert_string_equal(vg_config_str(c, "heap.opt"), "d");
    vg_config_free(c);

    /* the yaml buffer need not outlive the config either */
    char *y = strdup("name: fromyaml\n");
    assert_int_equal(vg_config_load_yaml_mem(tables, ntables, 2, "m", y, strlen(y), &c, &err), 0);
    memset(y, 'X', strlen(y));
    free(y);
    assert_string_equal(vg_config_str(c, "name"), "fromyaml");
    vg_config_free(c);
}

static void test_help(void **st)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    vg_config_help(tables, ntables, 2, "prog", f);
    fclose(f);
    static const char *const want[] = {
        "  -h, --help\n",
        "  --version\n",
        "  --web.listen-address=:9110\n      address [env VIGIL_WEB_LISTEN_ADDRESS]\n",
        "  --web.max-connections=64\n      connections [env VIGIL_WEB_MAX_CONNECTIONS]\n",
        "  --log.level=info\n      level (reloadable) [env VIGIL_LOG_LEVEL]\n",
        "  --config.file=<string>\n      YAML file [flag or env VIGIL_CONFIG_FILE]\n",
        "  --name=<string>\n",
        "  --items=\"x, y\"\n      a list (comma-separated; repeat the flag to add) [env VIGIL_ITEMS]\n",
        "  --empty-list=<list>\n",
        "  --collector.cpu=true\n      cpu switch (reloadable) [env VIGIL_COLLECTOR_CPU]\n",
        "  --once=false\n      cli only [flag only]\n",
        "--no-NAME",
        "prog reads flags",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(buf, want[i]))
            fail_msg("help lacks \"%s\":\n%s", want[i], buf);
    /* grouped by table: a blank line before each table, tables in order */
    const char *t1 = strstr(buf, "\n\n  --config.file");
    const char *t2 = strstr(buf, "\n\n  --ratio");
    assert_non_null(t1);
    assert_non_null(t2);
    assert_true(t1 < t2);
    free(buf);
}

static int child_status(void (*fn)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        /* keep the expected abort quiet */
        if (!freopen("/dev/null", "w", stderr))
            _exit(3);
        fn();
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return status;
}

static vg_config *misuse_cfg(void)
{
    vg_config *c = NULL;
    vg_config_err err;
    if (vg_config_load(tables, ntables, 2, 1, (char *[]){"p", NULL}, NOENV, &c, &err))
        _exit(4);
    return c;
}

static void read_unknown(void) { (void)vg_config_str(misuse_cfg(), "no.such.option"); }
static void read_wrong_type(void) { (void)vg_config_int(misuse_cfg(), "web.listen-address"); }
static void read_right(void) { (void)vg_config_int(misuse_cfg(), "web.max-connections"); }

static void test_getter_misuse(void **st)
{
#ifdef NDEBUG
    skip();
#endif
    int s = child_status(read_unknown);
    assert_true(WIFSIGNALED(s) && WTERMSIG(s) == SIGABRT);
    s = child_status(read_wrong_type);
    assert_true(WIFSIGNALED(s) && WTERMSIG(s) == SIGABRT);
    s = child_status(read_right);
    assert_true(WIFEXITED(s) && WEXITSTATUS(s) == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_file_every_type),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_env),
        cmocka_unit_test(test_bool_forms),
        cmocka_unit_test(test_value_forms),
        cmocka_unit_test(test_value_forms_dashdash),
        cmocka_unit_test(test_help_version),
        cmocka_unit_test(test_ints),
        cmocka_unit_test(test_floats),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_lists),
        cmocka_unit_test(test_yaml_forms),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_yaml_errors),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_table_errors),
        cmocka_unit_test(test_owns_copies),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_getter_misuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
