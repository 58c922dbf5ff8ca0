/* Unit tests for ks_select: label/field selector parsing, matching, formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "tests/kubesim/ks_select.h"

static json_object *labels(const char *js)
{
    return json_tokener_parse(js);
}

static int m(const char *sel, const char *js)
{
    ks_sel s;
    char err[256];
    assert_int_equal(ks_sel_parse_labels(&s, sel, err, sizeof err), 0);
    json_object *l = labels(js);
    int r = ks_sel_match_labels(&s, l);
    json_object_put(l);
    ks_sel_release(&s);
    return r;
}

static void test_equality(void **st)
{
    (void)st;
    assert_true(m("", "{}"));
    assert_true(m("app=web", "{\"app\":\"web\"}"));
    assert_true(m("app==web", "{\"app\":\"web\"}"));
    assert_false(m("app=web", "{\"app\":\"db\"}"));
    assert_false(m("app=web", "{}"));
    assert_true(m("app!=web", "{\"app\":\"db\"}"));
    assert_true(m("app!=web", "{}"));
    assert_false(m("app!=web", "{\"app\":\"web\"}"));
    assert_true(m("app=web,tier=fe", "{\"app\":\"web\",\"tier\":\"fe\"}"));
    assert_false(m("app=web,tier=fe", "{\"app\":\"web\",\"tier\":\"be\"}"));
    assert_true(m("app.kubernetes.io/name=x", "{\"app.kubernetes.io/name\":\"x\"}"));
    assert_true(m(" app = web ", "{\"app\":\"web\"}"));
}

static void test_set_exists(void **st)
{
    (void)st;
    assert_true(m("env in (a,b)", "{\"env\":\"b\"}"));
    assert_false(m("env in (a,b)", "{\"env\":\"c\"}"));
    assert_false(m("env in (a,b)", "{}"));
    assert_true(m("env notin (a,b)", "{\"env\":\"c\"}"));
    assert_true(m("env notin (a,b)", "{}"));
    assert_true(m("env", "{\"env\":\"\"}"));
    assert_false(m("env", "{}"));
    assert_true(m("!env", "{}"));
    assert_false(m("!env", "{\"env\":\"x\"}"));
    assert_true(m("n>3", "{\"n\":\"4\"}"));
    assert_false(m("n>3", "{\"n\":\"3\"}"));
    assert_true(m("n<3", "{\"n\":\"2\"}"));
    assert_false(m("n<3", "{\"n\":\"x\"}"));
}

static void test_parse_errors(void **st)
{
    (void)st;
    const char *bad[] = {"=x", "a=b,", "a in b", "a in (b", "a in (b,", "a==", "!", "a b", "a=b c", "a>x", "a=%", NULL};
    for (int i = 0; bad[i]; i++) {
        ks_sel s;
        char err[256] = "";
        int rc = ks_sel_parse_labels(&s, bad[i], err, sizeof err);
        if (!strcmp(bad[i], "a==")) {
            /* empty value is allowed: a=="" */
            assert_int_equal(rc, 0);
            ks_sel_release(&s);
            continue;
        }
        assert_int_equal(rc, -EINVAL);
        assert_true(strlen(err) > 0);
        assert_int_equal(s.n, 0);
    }
}

static void test_fields(void **st)
{
    (void)st;
    ks_sel s;
    char err[256];
    json_object *pod = json_tokener_parse("{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\"},"
                                          "\"spec\":{\"nodeName\":\"n1\",\"hostNetwork\":true},\"status\":{\"phase\":\"Running\"}}");
    assert_int_equal(ks_sel_parse_fields(&s, "spec.nodeName=n1,status.phase!=Pending", err, sizeof err), 0);
    assert_true(ks_sel_match_fields(&s, pod));
    static const char *const allowed[] = {"spec.nodeName", "status.phase", NULL};
    char badk[64];
    assert_true(ks_sel_fields_allowed(&s, allowed, badk, sizeof badk));
    ks_sel_release(&s);
    assert_int_equal(ks_sel_parse_fields(&s, "spec.nodeName==n2", err, sizeof err), 0);
    assert_false(ks_sel_match_fields(&s, pod));
    ks_sel_release(&s);
    assert_int_equal(ks_sel_parse_fields(&s, "spec.hostNetwork=true,metadata.name=p", err, sizeof err), 0);
    assert_true(ks_sel_match_fields(&s, pod));
    ks_sel_release(&s);
    /* absent fields compare as "" */
    assert_int_equal(ks_sel_parse_fields(&s, "spec.schedulerName=", err, sizeof err), 0);
    assert_true(ks_sel_match_fields(&s, pod));
    assert_false(ks_sel_fields_allowed(&s, allowed, badk, sizeof badk));
    assert_string_equal(badk, "spec.schedulerName");
    ks_sel_release(&s);
    assert_int_equal(ks_sel_parse_fields(&s, "spec.nodeName", err, sizeof err), -EINVAL);
    assert_int_equal(ks_sel_parse_fields(&s, "=x", err, sizeof err), -EINVAL);
    json_object_put(pod);
}

static void test_from_json_and_format(void **st)
{
    (void)st;
    ks_sel s;
    char out[256], err[128];
    json_object *j = json_tokener_parse("{\"matchLabels\":{\"app\":\"web\"},\"matchExpressions\":["
                                        "{\"key\":\"env\",\"operator\":\"In\",\"values\":[\"a\",\"b\"]},"
                                        "{\"key\":\"legacy\",\"operator\":\"DoesNotExist\"}]}");
    assert_int_equal(ks_sel_from_json(&s, j, err, sizeof err), 0);
    assert_int_equal(ks_sel_format(&s, out, sizeof out), 0);
    assert_string_equal(out, "app=web,env in (a,b),!legacy");
    json_object *l = labels("{\"app\":\"web\",\"env\":\"a\"}");
    assert_true(ks_sel_match_labels(&s, l));
    json_object_put(l);
    ks_sel_release(&s);
    json_object_put(j);
    /* no selector selects nothing; an empty one everything */
    assert_int_equal(ks_sel_from_json(&s, NULL, err, sizeof err), 0);
    assert_false(ks_sel_match_labels(&s, NULL));
    ks_sel_release(&s);
    j = json_tokener_parse("{}");
    assert_int_equal(ks_sel_from_json(&s, j, err, sizeof err), 0);
    assert_true(ks_sel_match_labels(&s, NULL));
    ks_sel_release(&s);
    json_object_put(j);
    j = json_tokener_parse("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\",\"values\":[]}]}");
    assert_int_equal(ks_sel_from_json(&s, j, err, sizeof err), -EINVAL);
    json_object_put(j);
    j = json_tokener_parse("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Near\"}]}");
    assert_int_equal(ks_sel_from_json(&s, j, err, sizeof err), -EINVAL);
    json_object_put(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_equality),
        cmocka_unit_test(test_set_exists),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_from_json_and_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
