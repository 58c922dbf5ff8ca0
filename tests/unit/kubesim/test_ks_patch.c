/* Unit tests for ks_patch: RFC 6902, RFC 7386, strategic merge and apply merge. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "tests/kubesim/ks_json.h"
#include "tests/kubesim/ks_patch.h"

typedef int (*patch_fn)(json_object *, json_object *, json_object **, char *, size_t);

/* Apply and compare with the expected JSON (NULL expected = must fail with want_rc). */
static void check(patch_fn fn, const char *doc, const char *patch, const char *expect, int want_rc)
{
    json_object *d = json_tokener_parse(doc), *p = json_tokener_parse(patch), *out = NULL;
    assert_non_null(d);
    char err[256] = "";
    int rc = fn(d, p, &out, err, sizeof err);
    if (!expect) {
        assert_int_equal(rc, want_rc);
        assert_true(strlen(err) > 0);
    } else {
        if (rc)
            fail_msg("patch failed: %s", err);
        json_object *e = json_tokener_parse(expect);
        if (!json_object_equal(out, e))
            fail_msg("got %s want %s", json_object_to_json_string(out), expect);
        json_object_put(e);
        /* input untouched */
        json_object *d2 = json_tokener_parse(doc);
        assert_true(json_object_equal(d, d2));
        json_object_put(d2);
    }
    json_object_put(out);
    json_object_put(d);
    json_object_put(p);
}

static void test_json_patch(void **st)
{
    (void)st;
    check(ks_patch_json, "{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/b\",\"value\":2}]", "{\"a\":1,\"b\":2}", 0);
    check(ks_patch_json, "{\"a\":[1,3]}", "[{\"op\":\"add\",\"path\":\"/a/1\",\"value\":2}]", "{\"a\":[1,2,3]}", 0);
    check(ks_patch_json, "{\"a\":[1]}", "[{\"op\":\"add\",\"path\":\"/a/-\",\"value\":2}]", "{\"a\":[1,2]}", 0);
    check(ks_patch_json, "{\"a\":[1,2]}", "[{\"op\":\"remove\",\"path\":\"/a/0\"}]", "{\"a\":[2]}", 0);
    check(ks_patch_json, "{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"/a\",\"value\":{\"x\":null}}]", "{\"a\":{\"x\":null}}", 0);
    check(ks_patch_json, "{\"a\":{\"b\":1}}", "[{\"op\":\"move\",\"from\":\"/a/b\",\"path\":\"/c\"}]", "{\"a\":{},\"c\":1}", 0);
    check(ks_patch_json, "{\"a\":{\"b\":1}}", "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/c\"}]", "{\"a\":{\"b\":1},\"c\":{\"b\":1}}", 0);
    check(ks_patch_json, "{\"a/b\":1,\"m~n\":2}", "[{\"op\":\"remove\",\"path\":\"/a~1b\"},{\"op\":\"test\",\"path\":\"/m~0n\",\"value\":2}]",
          "{\"m~n\":2}", 0);
    check(ks_patch_json, "{\"metadata\":{\"labels\":{}}}",
          "[{\"op\":\"add\",\"path\":\"/metadata/labels/app.kubernetes.io~1name\",\"value\":\"x\"}]",
          "{\"metadata\":{\"labels\":{\"app.kubernetes.io/name\":\"x\"}}}", 0);
    check(ks_patch_json, "{}", "[{\"op\":\"add\",\"path\":\"\",\"value\":[1]}]", "[1]", 0);
    /* failures */
    check(ks_patch_json, "{\"a\":1}", "[{\"op\":\"test\",\"path\":\"/a\",\"value\":2}]", NULL, -ECANCELED);
    check(ks_patch_json, "{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"/b\"}]", NULL, -ENOENT);
    check(ks_patch_json, "{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"/b\",\"value\":1}]", NULL, -ENOENT);
    check(ks_patch_json, "{\"a\":[1]}", "[{\"op\":\"add\",\"path\":\"/a/5\",\"value\":1}]", NULL, -ENOENT);
    check(ks_patch_json, "{\"a\":[1]}", "[{\"op\":\"add\",\"path\":\"/a/01\",\"value\":1}]", NULL, -ENOENT);
    check(ks_patch_json, "{}", "[{\"op\":\"jump\",\"path\":\"/a\"}]", NULL, -EINVAL);
    check(ks_patch_json, "{}", "[{\"path\":\"/a\"}]", NULL, -EINVAL);
    check(ks_patch_json, "{}", "{\"op\":\"add\"}", NULL, -EINVAL);
    check(ks_patch_json, "{}", "[{\"op\":\"add\",\"path\":\"a\",\"value\":1}]", NULL, -EINVAL);
    check(ks_patch_json, "{}", "[{\"op\":\"add\",\"path\":\"/a\"}]", NULL, -EINVAL);
}

static void test_merge_patch(void **st)
{
    (void)st;
    /* RFC 7386 appendix A examples */
    check(ks_patch_merge, "{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}", 0);
    check(ks_patch_merge, "{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}", 0);
    check(ks_patch_merge, "{\"a\":\"b\"}", "{\"a\":null}", "{}", 0);
    check(ks_patch_merge, "{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}", 0);
    check(ks_patch_merge, "{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}", 0);
    check(ks_patch_merge, "{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}", "{\"a\":{\"b\":\"d\"}}", 0);
    check(ks_patch_merge, "{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}", 0);
    check(ks_patch_merge, "{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}", 0);
    check(ks_patch_merge, "{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}", 0);
    check(ks_patch_merge, "{}", "[1]", NULL, -EINVAL);
}

static const char *pod =
    "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"a:1\",\"ports\":[{\"containerPort\":80,\"name\":\"http\"}],"
    "\"env\":[{\"name\":\"X\",\"value\":\"1\"}]},{\"name\":\"b\",\"image\":\"b:1\"}],"
    "\"volumes\":[{\"name\":\"v1\",\"emptyDir\":{}}],\"tolerations\":[{\"key\":\"t\"}]},"
    "\"metadata\":{\"finalizers\":[\"f1\"],\"labels\":{\"x\":\"1\"}}}";

static void test_strategic(void **st)
{
    (void)st;
    /* containers merged by name, ports by containerPort, env by name */
    check(ks_patch_strategic, pod,
          "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"a:2\",\"ports\":[{\"containerPort\":443}],"
          "\"env\":[{\"name\":\"X\",\"value\":\"2\"},{\"name\":\"Y\",\"value\":\"3\"}]}]}}",
          "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"a:2\",\"ports\":[{\"containerPort\":80,\"name\":\"http\"},"
          "{\"containerPort\":443}],\"env\":[{\"name\":\"X\",\"value\":\"2\"},{\"name\":\"Y\",\"value\":\"3\"}]},"
          "{\"name\":\"b\",\"image\":\"b:1\"}],\"volumes\":[{\"name\":\"v1\",\"emptyDir\":{}}],\"tolerations\":[{\"key\":\"t\"}]},"
          "\"metadata\":{\"finalizers\":[\"f1\"],\"labels\":{\"x\":\"1\"}}}",
          0);
    /* $patch: delete on a list element; lists without a key are replaced; null deletes */
    check(ks_patch_strategic, pod,
          "{\"spec\":{\"containers\":[{\"name\":\"b\",\"$patch\":\"delete\"}],\"tolerations\":[{\"key\":\"u\"}]},"
          "\"metadata\":{\"labels\":{\"x\":null,\"y\":\"2\"},\"finalizers\":[\"f2\",\"f1\"]}}",
          "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"a:1\",\"ports\":[{\"containerPort\":80,\"name\":\"http\"}],"
          "\"env\":[{\"name\":\"X\",\"value\":\"1\"}]}],\"volumes\":[{\"name\":\"v1\",\"emptyDir\":{}}],\"tolerations\":[{\"key\":\"u\"}]},"
          "\"metadata\":{\"finalizers\":[\"f1\",\"f2\"],\"labels\":{\"y\":\"2\"}}}",
          0);
    /* $patch: replace on a map and on a list; $deleteFromPrimitiveList; $setElementOrder ignored */
    check(ks_patch_strategic, "{\"a\":{\"x\":1,\"y\":2},\"metadata\":{\"finalizers\":[\"f1\",\"f2\"]},\"volumes\":[{\"name\":\"v\"}]}",
          "{\"a\":{\"$patch\":\"replace\",\"z\":3},\"metadata\":{\"$deleteFromPrimitiveList/finalizers\":[\"f1\"]},"
          "\"volumes\":[{\"name\":\"w\"},{\"$patch\":\"replace\"}],\"$setElementOrder/volumes\":[{\"name\":\"w\"}]}",
          "{\"a\":{\"z\":3},\"metadata\":{\"finalizers\":[\"f2\"]},\"volumes\":[{\"name\":\"w\"}]}", 0);
    /* $retainKeys */
    check(ks_patch_strategic, "{\"strategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"maxSurge\":1}}}",
          "{\"strategy\":{\"$retainKeys\":[\"type\"],\"type\":\"Recreate\"}}", "{\"strategy\":{\"type\":\"Recreate\"}}", 0);
    /* service ports merge by port */
    check(ks_patch_strategic, "{\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":8080},{\"port\":443}]}}",
          "{\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":9090}]}}",
          "{\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":9090},{\"port\":443}]}}", 0);
    /* conditions by type */
    check(ks_patch_strategic, "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"},{\"type\":\"X\"}]}}",
          "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}",
          "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"},{\"type\":\"X\"}]}}", 0);
    /* whole-map delete directive */
    check(ks_patch_strategic, "{\"a\":{\"b\":1},\"c\":2}", "{\"a\":{\"$patch\":\"delete\"}}", "{\"c\":2}", 0);
    check(ks_patch_strategic, "{}", "[1]", NULL, -EINVAL);
}

static void test_apply_merge(void **st)
{
    (void)st;
    /* apply merges keyed lists and never deletes through null or directives */
    check(ks_patch_apply_merge, pod,
          "{\"spec\":{\"containers\":[{\"name\":\"b\",\"image\":\"b:2\"}]},\"metadata\":{\"labels\":{\"x\":null}}}",
          "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"a:1\",\"ports\":[{\"containerPort\":80,\"name\":\"http\"}],"
          "\"env\":[{\"name\":\"X\",\"value\":\"1\"}]},{\"name\":\"b\",\"image\":\"b:2\"}],\"volumes\":[{\"name\":\"v1\",\"emptyDir\":{}}],"
          "\"tolerations\":[{\"key\":\"t\"}]},\"metadata\":{\"finalizers\":[\"f1\"],\"labels\":{\"x\":\"1\"}}}",
          0);
}

static void test_merge_keys(void **st)
{
    (void)st;
    assert_string_equal(ks_patch_merge_key("spec", "containers"), "name");
    assert_string_equal(ks_patch_merge_key("containers", "ports"), "containerPort");
    assert_string_equal(ks_patch_merge_key("spec", "ports"), "port");
    assert_string_equal(ks_patch_merge_key("metadata", "finalizers"), "");
    assert_null(ks_patch_merge_key("subsets", "ports"));
    assert_null(ks_patch_merge_key("spec", "tolerations"));
    assert_null(ks_patch_merge_key("containers", "args"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_patch),
        cmocka_unit_test(test_merge_patch),
        cmocka_unit_test(test_strategic),
        cmocka_unit_test(test_apply_merge),
        cmocka_unit_test(test_merge_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
