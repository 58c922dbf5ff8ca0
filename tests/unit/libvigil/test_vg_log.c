/* Unit tests for vg_log: logfmt and JSON line formats, levels, quoting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <unistd.h>

#include "vg_log.h"

static size_t capture(vg_log *log, char *out, size_t n, void (*fn)(vg_log *))
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    log->fd = p[1];
    fn(log);
    close(p[1]);
    ssize_t got = read(p[0], out, n - 1);
    close(p[0]);
    out[got > 0 ? got : 0] = '\0';
    return got > 0 ? (size_t)got : 0;
}

static void emit(vg_log *l)
{
    vg_log_warn(l, "http", "client timed out", "peer", "127.0.0.1:5", "why", "said \"no\"\n",
                "empty", "");
    vg_log_debug(l, "http", "hidden");
}

static void test_logfmt(void **st)
{
    vg_log l;
    char buf[1024];
    vg_log_init(&l, VG_LOG_INFO, VG_LOG_LOGFMT);
    capture(&l, buf, sizeof buf, emit);
    assert_non_null(strstr(buf, " level=warn component=http msg=\"client timed out\" "
                                "peer=127.0.0.1:5 why=\"said \\\"no\\\"\\n\" empty=\"\"\n"));
    assert_true(strncmp(buf, "ts=20", 5) == 0);
    assert_null(strstr(buf, "hidden"));
    /* exactly one line */
    assert_ptr_equal(strchr(buf, '\n'), buf + strlen(buf) - 1);
}

static void test_json(void **st)
{
    vg_log l;
    char buf[1024];
    vg_log_init(&l, VG_LOG_DEBUG, VG_LOG_JSON);
    capture(&l, buf, sizeof buf, emit);
    assert_non_null(strstr(buf, "\"level\":\"warn\",\"component\":\"http\",\"msg\":\"client timed "
                                "out\",\"peer\":\"127.0.0.1:5\",\"why\":\"said \\\"no\\\"\\n\""));
    assert_non_null(strstr(buf, "\"msg\":\"hidden\"}\n"));
}

static void emit_ctrl(vg_log *l) { vg_log_info(l, "c", "m", "v", "a\tb\x01" "c\\"); }

/* control bytes and backslashes never reach the log raw, in either format */
static void test_control_bytes(void **st)
{
    vg_log l;
    char buf[1024];
    vg_log_init(&l, VG_LOG_INFO, VG_LOG_LOGFMT);
    capture(&l, buf, sizeof buf, emit_ctrl);
    assert_non_null(strstr(buf, " v=\"a\\x09b\\x01c\\\\\"\n"));
    vg_log_init(&l, VG_LOG_INFO, VG_LOG_JSON);
    capture(&l, buf, sizeof buf, emit_ctrl);
    assert_non_null(strstr(buf, "\"v\":\"a\\tb\\u0001c\\\\\"}\n"));
}

static void test_parse(void **st)
{
    vg_log_level lv;
    vg_log_format f;
    assert_int_equal(vg_log_level_parse("error", &lv), 0);
    assert_int_equal(lv, VG_LOG_ERROR);
    assert_int_not_equal(vg_log_level_parse("loud", &lv), 0);
    assert_int_equal(vg_log_format_parse("json", &f), 0);
    assert_int_equal(f, VG_LOG_JSON);
    assert_int_not_equal(vg_log_format_parse("xml", &f), 0);
}

static void emit_long(vg_log *l)
{
    char big[8000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    vg_log_info(l, "c", "long", "v", big);
}

static void test_long_line_cut(void **st)
{
    vg_log l;
    static char buf[16384];
    vg_log_init(&l, VG_LOG_INFO, VG_LOG_LOGFMT);
    size_t n = capture(&l, buf, sizeof buf, emit_long);
    assert_true(n <= 4096);
    assert_int_equal(buf[n - 1], '\n');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_logfmt),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_control_bytes),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_long_line_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
