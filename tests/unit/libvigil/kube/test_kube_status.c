/*
 * test_kube_status.c - Status decoding on real API server error bodies and
 * on truncated/garbage input; errno mapping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "kube/kube_status.h"

static const char *k_invalid =
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
    "\"message\":\"Pod \\\"x\\\" is invalid: spec.containers[0].image: Required value\","
    "\"reason\":\"Invalid\",\"details\":{\"name\":\"x\",\"kind\":\"Pod\",\"causes\":["
    "{\"reason\":\"FieldValueRequired\",\"message\":\"Required value\",\"field\":\"spec.containers[0].image\"}]},"
    "\"code\":422}";

static const char *k_429 =
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
    "\"message\":\"Cannot evict pod as it would violate the pod's disruption budget.\","
    "\"reason\":\"TooManyRequests\",\"details\":{\"causes\":[{\"reason\":\"DisruptionBudget\","
    "\"message\":\"The disruption budget web-pdb needs 2 healthy pods and has 2 currently\"}],"
    "\"retryAfterSeconds\":10},\"code\":429}\n";

static void test_invalid(void **state)
{
    kube_status st;
    assert_int_equal(kube_status_decode(k_invalid, strlen(k_invalid), &st), 0);
    assert_true(st.is_status);
    assert_false(st.success);
    assert_int_equal(st.code, 422);
    assert_string_equal(st.reason, "Invalid");
    assert_string_equal(st.kind, "Pod");
    assert_string_equal(st.name, "x");
    assert_int_equal(st.ncauses, 1);
    assert_string_equal(st.causes[0].field, "spec.containers[0].image");
    assert_true(kube_status_has_cause(&st, "FieldValueRequired"));
    assert_true(strstr(st.message, "Pod \"x\" is invalid") != NULL);
    assert_int_equal(kube_status_errno(st.code, st.reason), -EINVAL);
}

static void test_429(void **state)
{
    kube_status st;
    assert_int_equal(kube_status_decode(k_429, strlen(k_429), &st), 0);
    assert_int_equal(st.code, 429);
    assert_int_equal(st.retry_after_s, 10);
    assert_true(kube_status_has_cause(&st, "DisruptionBudget"));
    assert_int_equal(kube_status_errno(429, st.reason), -EBUSY);
}

static void test_many_causes_and_long(void **state)
{
    vg_buf b = VG_BUF_INIT;
    vg_buf_puts(&b, "{\"kind\":\"Status\",\"reason\":\"");
    for (int i = 0; i < 200; i++)
        vg_buf_putc(&b, 'R');
    vg_buf_puts(&b, "\",\"details\":{\"causes\":[");
    for (int i = 0; i < 20; i++)
        vg_buf_printf(&b, "%s{\"reason\":\"c%d\"}", i ? "," : "", i);
    vg_buf_puts(&b, "]},\"code\":99999999999}");
    kube_status st;
    assert_int_equal(kube_status_decode(b.data, b.len, &st), 0);
    assert_int_equal(strlen(st.reason), sizeof st.reason - 1);
    assert_int_equal(st.ncauses, KUBE_STATUS_MAX_CAUSES);
    assert_int_equal(st.ncauses_total, 20);
    assert_int_equal(st.code, 0);
    vg_buf_release(&b);
}

static void test_truncated_and_garbage(void **state)
{
    size_t n = strlen(k_429);
    kube_status st;
    for (size_t i = 0; i + 1 < n; i++) {
        /* every strict prefix (ignoring the trailing newline) fails cleanly */
        if (i == n - 1)
            continue;
        assert_int_not_equal(kube_status_decode(k_429, i, &st), 0);
        assert_int_equal(st.code, 0);
    }
    const char *garbage[] = {"[]", "null", "\"Status\"", "{\"code\":\"x\"}", "{\"details\":[]}", "<html>"};
    for (size_t i = 0; i < sizeof garbage / sizeof *garbage; i++)
        assert_int_not_equal(kube_status_decode(garbage[i], strlen(garbage[i]), &st), 0);
    /* a non-Status object decodes but says so */
    assert_int_equal(kube_status_decode("{\"kind\":\"Pod\"}", 14, &st), 0);
    assert_false(st.is_status);
}

static void test_errno(void **state)
{
    assert_int_equal(kube_status_errno(200, NULL), 0);
    assert_int_equal(kube_status_errno(404, "NotFound"), -ENOENT);
    assert_int_equal(kube_status_errno(409, "Conflict"), -ESTALE);
    assert_int_equal(kube_status_errno(409, "AlreadyExists"), -EEXIST);
    assert_int_equal(kube_status_errno(410, "Expired"), -ETIME);
    assert_int_equal(kube_status_errno(503, NULL), -EAGAIN);
    assert_int_equal(kube_status_errno(504, "Timeout"), -ETIMEDOUT);
    assert_int_equal(kube_status_errno(418, NULL), -EPROTO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_invalid), cmocka_unit_test(test_429),
        cmocka_unit_test(test_many_causes_and_long), cmocka_unit_test(test_truncated_and_garbage),
        cmocka_unit_test(test_errno),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
