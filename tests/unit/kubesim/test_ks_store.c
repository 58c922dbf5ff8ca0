/* Unit tests for ks_store and ks_ops: revisions, history window, object
 * semantics (conflicts, generation, status, finalizers, no-op updates). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "tests/kubesim/ks_json.h"
#include "tests/kubesim/ks_ops.h"
#include "tests/kubesim/ks_store.h"
#include "tests/kubesim/ks_types.h"

static ks_sim sim;

static int setup(void **st)
{
    (void)st;
    memset(&sim, 0, sizeof sim);
    assert_int_equal(ks_store_init(&sim.st, 8, 42), 0);
    assert_int_equal(ks_types_register_builtin_locked(&sim.st), 0);
    ks_rtype *ns = ks_store_type_locked(&sim.st, "", "v1", "namespaces");
    json_object *out;
    ks_err err;
    assert_int_equal(ks_ops_create_locked(&sim, ns, NULL, json_tokener_parse("{\"metadata\":{\"name\":\"default\"}}"), "t", &out, &err), 0);
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    ks_store_release(&sim.st);
    return 0;
}

static json_object *cm(const char *name, const char *v)
{
    char b[256];
    snprintf(b, sizeof b, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"%s\"},\"data\":{\"k\":\"%s\"}}", name, v);
    return json_tokener_parse(b);
}

static void test_history_window(void **st)
{
    (void)st;
    ks_rtype *rt = ks_store_type_locked(&sim.st, "", "v1", "configmaps");
    json_object *out;
    ks_err err;
    uint64_t start = sim.st.rv;
    assert_int_equal(ks_ops_create_locked(&sim, rt, "default", cm("a", "1"), "t", &out, &err), 0);
    assert_int_equal(ks_obj_rv(out), start + 1);
    const ks_event *e = ks_store_next_event_locked(&sim.st, start);
    assert_non_null(e);
    assert_int_equal(e->type, KS_EV_ADDED);
    assert_non_null(strstr(e->line, "{\"type\":\"ADDED\",\"object\":{"));
    assert_true(e->line[e->len - 1] == '\n');
    for (int i = 0; i < 20; i++) {
        char v[8];
        snprintf(v, sizeof v, "%d", i);
        assert_int_equal(ks_ops_update_locked(&sim, rt, "default", "a", cm("a", v), 0, "t", NULL, 0, &out, &err), 0);
    }
    /* only 8 events kept: older starting points are compacted */
    assert_int_equal(sim.st.len, 8);
    assert_true(sim.st.compacted > start);
    assert_int_equal(ks_store_next_event_locked(&sim.st, sim.st.compacted)->rv, sim.st.compacted + 1);
    assert_null(ks_store_next_event_locked(&sim.st, sim.st.rv));
    ks_store_compact_locked(&sim.st, 1);
    assert_int_equal(sim.st.len, 0);
    assert_int_equal(sim.st.compacted, sim.st.rv);
    assert_int_equal(sim.st.epoch, 1);
}

static void test_conflict_and_noop(void **st)
{
    (void)st;
    ks_rtype *rt = ks_store_type_locked(&sim.st, "", "v1", "configmaps");
    json_object *out;
    ks_err err;
    assert_int_equal(ks_ops_create_locked(&sim, rt, "default", cm("c", "1"), "t", &out, &err), 0);
    uint64_t rv = ks_obj_rv(out);
    assert_int_equal(ks_ops_create_locked(&sim, rt, "default", cm("c", "1"), "t", &out, &err), -EINVAL);
    assert_int_equal(err.code, 409);
    assert_string_equal(err.reason, "AlreadyExists");
    json_object *stale = cm("c", "2");
    ks_json_set_str(stale, "metadata.resourceVersion", "1");
    assert_int_equal(ks_ops_update_locked(&sim, rt, "default", "c", stale, 0, "t", NULL, 0, &out, &err), -EINVAL);
    assert_int_equal(err.code, 409);
    assert_string_equal(err.reason, "Conflict");
    /* unchanged content: no new revision */
    uint64_t before = sim.st.rv;
    assert_int_equal(ks_ops_update_locked(&sim, rt, "default", "c", cm("c", "1"), 0, "t", NULL, 0, &out, &err), 0);
    assert_int_equal(sim.st.rv, before);
    assert_int_equal(ks_obj_rv(out), rv);
    assert_int_equal(ks_ops_update_locked(&sim, rt, "default", "nope", cm("nope", "1"), 0, "t", NULL, 0, &out, &err), -EINVAL);
    assert_int_equal(err.code, 404);
    assert_string_equal(err.message, "configmaps \"nope\" not found");
    /* a missing namespace is 404 */
    assert_int_equal(ks_ops_create_locked(&sim, rt, "ghost", cm("x", "1"), "t", &out, &err), -EINVAL);
    assert_int_equal(err.code, 404);
}

static void test_generation_and_status(void **st)
{
    (void)st;
    ks_rtype *rt = ks_store_type_locked(&sim.st, "apps", "v1", "deployments");
    const char *d = "{\"metadata\":{\"name\":\"d\"},\"spec\":{\"replicas\":1,\"selector\":{\"matchLabels\":{\"a\":\"b\"}},"
                    "\"template\":{\"metadata\":{\"labels\":{\"a\":\"b\"}},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}},"
                    "\"status\":{\"replicas\":9}}";
    json_object *out;
    ks_err err;
    assert_int_equal(ks_ops_create_locked(&sim, rt, "default", json_tokener_parse(d), "t", &out, &err), 0);
    assert_int_equal(ks_json_int(out, "metadata.generation", 0), 1);
    assert_null(ks_json_get(out, "status"));           /* status dropped on create */
    assert_string_equal(ks_json_str(out, "spec.strategy.type"), "RollingUpdate"); /* defaulted */
    json_object *nw = ks_json_copy(out);
    ks_json_set_int(nw, "spec.replicas", 3);
    ks_json_set_int(nw, "status.replicas", 5);
    assert_int_equal(ks_ops_update_locked(&sim, rt, "default", "d", nw, 0, "t", NULL, 0, &out, &err), 0);
    assert_int_equal(ks_json_int(out, "metadata.generation", 0), 2);
    assert_null(ks_json_get(out, "status.replicas"));  /* main resource ignores status */
    nw = ks_json_copy(out);
    ks_json_set_int(nw, "status.replicas", 5);
    ks_json_set_int(nw, "spec.replicas", 7);
    assert_int_equal(ks_ops_update_locked(&sim, rt, "default", "d", nw, KS_SUB_STATUS, "t", NULL, 0, &out, &err), 0);
    assert_int_equal(ks_json_int(out, "status.replicas", 0), 5);
    assert_int_equal(ks_json_int(out, "spec.replicas", 0), 3); /* status write ignores spec */
    assert_int_equal(ks_json_int(out, "metadata.generation", 0), 2);
    nw = ks_json_copy(out);
    ks_json_set_str(nw, "metadata.labels.x", "y");
    assert_int_equal(ks_ops_update_locked(&sim, rt, "default", "d", nw, 0, "t", NULL, 0, &out, &err), 0);
    assert_int_equal(ks_json_int(out, "metadata.generation", 0), 2);
    /* validation */
    json_object *bad = json_tokener_parse("{\"metadata\":{\"name\":\"bad\"},\"spec\":{\"selector\":{\"matchLabels\":{\"a\":\"b\"}},"
                                          "\"template\":{\"metadata\":{\"labels\":{\"a\":\"c\"}},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}}}");
    assert_int_equal(ks_ops_create_locked(&sim, rt, "default", bad, "t", &out, &err), -EINVAL);
    assert_int_equal(err.code, 422);
    assert_string_equal(err.cause_field, "spec.template.metadata.labels");
}

static void test_finalizers(void **st)
{
    (void)st;
    ks_rtype *rt = ks_store_type_locked(&sim.st, "", "v1", "configmaps");
    json_object *o = cm("f", "1"), *out = NULL;
    ks_err err;
    json_object *fin = json_object_new_array();
    json_object_array_add(fin, json_object_new_string("example.com/hold"));
    ks_json_set(o, "metadata.finalizers", fin);
    assert_int_equal(ks_ops_create_locked(&sim, rt, "default", o, "t", &out, &err), 0);
    assert_int_equal(ks_ops_delete_locked(&sim, rt, "default", "f", NULL, -1, NULL, NULL, &out, &err), 0);
    json_object_put(out);
    json_object *cur = ks_store_get_locked(rt, "default", "f");
    assert_non_null(cur);
    assert_non_null(ks_json_get(cur, "metadata.deletionTimestamp"));
    /* precondition mismatch */
    assert_int_equal(ks_ops_delete_locked(&sim, rt, "default", "f", NULL, -1, "wrong-uid", NULL, &out, &err), -EBUSY);
    assert_int_equal(err.code, 409);
    /* removing the finalizer completes the deletion */
    json_object *nw = ks_json_copy(cur);
    ks_json_set(nw, "metadata.finalizers", json_object_new_array());
    assert_int_equal(ks_ops_update_locked(&sim, rt, "default", "f", nw, 0, "t", NULL, 0, &out, &err), 0);
    assert_null(ks_store_get_locked(rt, "default", "f"));
    /* plain delete is immediate; second delete is 404 */
    assert_int_equal(ks_ops_create_locked(&sim, rt, "default", cm("g", "1"), "t", &out, &err), 0);
    assert_int_equal(ks_ops_delete_locked(&sim, rt, "default", "g", NULL, -1, NULL, NULL, &out, &err), 0);
    json_object_put(out);
    assert_null(ks_store_get_locked(rt, "default", "g"));
    assert_int_equal(ks_ops_delete_locked(&sim, rt, "default", "g", NULL, -1, NULL, NULL, &out, &err), -ENOENT);
    assert_int_equal(err.code, 404);
}

static void test_crd_schema(void **st)
{
    (void)st;
    ks_rtype *crdt = ks_store_type_locked(&sim.st, "apiextensions.k8s.io", "v1", "customresourcedefinitions");
    const char *crd = "{\"metadata\":{\"name\":\"things.ex.io\"},\"spec\":{\"group\":\"ex.io\",\"scope\":\"Namespaced\","
                      "\"names\":{\"plural\":\"things\",\"kind\":\"Thing\"},\"versions\":[{\"name\":\"v1\",\"served\":true,\"storage\":true,"
                      "\"schema\":{\"openAPIV3Schema\":{\"type\":\"object\",\"properties\":{\"spec\":{\"type\":\"object\",\"required\":[\"n\"],"
                      "\"properties\":{\"n\":{\"type\":\"integer\"},\"mode\":{\"type\":\"string\",\"enum\":[\"a\",\"b\"],\"default\":\"a\"},"
                      "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}}}}}}}]}}";
    json_object *out;
    ks_err err;
    assert_int_equal(ks_ops_create_locked(&sim, crdt, NULL, json_tokener_parse(crd), "t", &out, &err), 0);
    ks_rtype *rt = ks_store_type_locked(&sim.st, "ex.io", "v1", "things");
    assert_non_null(rt);
    assert_int_equal(ks_ops_create_locked(&sim, rt, "default", json_tokener_parse("{\"metadata\":{\"name\":\"t1\"},\"spec\":{\"n\":1}}"), "t", &out, &err), 0);
    assert_string_equal(ks_json_str(out, "spec.mode"), "a");
    assert_int_equal(ks_ops_create_locked(&sim, rt, "default", json_tokener_parse("{\"metadata\":{\"name\":\"t2\"},\"spec\":{}}"), "t", &out, &err), -EINVAL);
    assert_string_equal(err.cause_field, "spec.n");
    assert_int_equal(ks_ops_create_locked(&sim, rt, "default", json_tokener_parse("{\"metadata\":{\"name\":\"t2\"},\"spec\":{\"n\":1,\"mode\":\"z\"}}"), "t", &out, &err), -EINVAL);
    assert_string_equal(err.cause_type, "FieldValueNotSupported");
    assert_int_equal(ks_ops_create_locked(&sim, rt, "default", json_tokener_parse("{\"metadata\":{\"name\":\"t2\"},\"spec\":{\"n\":1,\"tags\":[\"x\",3]}}"), "t", &out, &err), -EINVAL);
    assert_string_equal(err.cause_field, "spec.tags[1]");
    /* deleting the CRD removes its type */
    assert_int_equal(ks_ops_delete_locked(&sim, crdt, NULL, "things.ex.io", NULL, -1, NULL, NULL, &out, &err), 0);
    json_object_put(out);
    assert_null(ks_store_type_locked(&sim.st, "ex.io", "v1", "things"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_history_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conflict_and_noop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_generation_and_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_finalizers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crd_schema, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
