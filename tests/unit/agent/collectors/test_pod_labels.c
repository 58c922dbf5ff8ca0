/*
 * test_pod_labels.c - the allowlist (validation, label names, collisions)
 * and the UID map the pods informer feeds (add, change, delete, systemd's
 * '_' UIDs, labels a pod lacks, unknown pods). The API side is covered by
 * tests/integration/052_pods_labels_api.sh against kubesim.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "collectors/pod_labels.h"
#include "kube/kube_objects.h"

static pod_labels *mk(const char *list, int want, char *err, size_t errlen)
{
    pod_labels_opts o = {.allowlist = list, .no_api = true};
    pod_labels *pl = NULL;
    assert_int_equal(pod_labels_new(&o, &pl, err, errlen), want);
    return pl;
}

static void test_allowlist(void **state)
{
    char err[256];
    pod_labels *pl = mk(" app , app.kubernetes.io/name,team,,", 0, err, sizeof err);
    assert_int_equal(pod_labels_count(pl), 3);
    assert_string_equal(pod_labels_name(pl, 0), "label_app");
    assert_string_equal(pod_labels_name(pl, 1), "label_app_kubernetes_io_name");
    assert_string_equal(pod_labels_name(pl, 2), "label_team");
    assert_null(pod_labels_name(pl, 3));
    pod_labels_free(pl);

    err[0] = '\0';
    assert_null(mk("app,-bad", -EINVAL, err, sizeof err));
    assert_non_null(strstr(err, "\"-bad\" is not a Kubernetes label key"));
    assert_null(mk("a/", -EINVAL, err, sizeof err));
    assert_null(mk("/a", -EINVAL, err, sizeof err));
    assert_null(mk("x y", -EINVAL, err, sizeof err));
    assert_null(mk("app.kubernetes.io/name,app-kubernetes.io/name", -EINVAL, err, sizeof err));
    assert_non_null(strstr(err, "both become label_app_kubernetes_io_name"));
    assert_null(mk(" , ", -EINVAL, err, sizeof err));
    assert_non_null(strstr(err, "empty"));
    char many[400] = "";
    for (int i = 0; i <= POD_LABELS_MAX; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "k%d,", i);
    assert_null(mk(many, -EINVAL, err, sizeof err));
    assert_non_null(strstr(err, "more than"));
    /* with the API on, the node name is required */
    pod_labels_opts o = {.allowlist = "app"};
    pod_labels *p2 = NULL;
    assert_int_equal(pod_labels_new(&o, &p2, err, sizeof err), -EINVAL);
    assert_null(p2);
    assert_non_null(strstr(err, "node"));
}

static kube_obj *pod(kube_objdec *d, const char *uid, const char *labels)
{
    char json[1024];
    snprintf(json, sizeof json,
             "{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\",\"uid\":\"%s\",\"resourceVersion\":\"1\","
             "\"labels\":{%s}},\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"c\"}]}}",
             uid, labels);
    kube_obj *o = NULL;
    assert_int_equal(kube_objdec_decode(d, KUBE_OBJ_POD, json, strlen(json), &o), 0);
    return o;
}

static void test_map(void **state)
{
    char err[256];
    pod_labels *pl = mk("app,team", 0, err, sizeof err);
    kube_objdec *d;
    assert_int_equal(kube_objdec_new(&d), 0);
    vg_buf buf = VG_BUF_INIT;
    const char *v[2];
    const char *u1 = "0b6d3c1e-1111-4a2b-9c3d-aaaaaaaaaaaa";

    assert_false(pod_labels_lookup(pl, u1, &buf, v));
    assert_string_equal(v[0], "");
    assert_string_equal(v[1], "");

    kube_obj *o = pod(d, u1, "\"app\":\"web\",\"tier\":\"x\"");
    pod_labels_apply(pl, o, false);
    kube_obj_free(o);
    assert_true(pod_labels_lookup(pl, u1, &buf, v));
    assert_string_equal(v[0], "web");
    assert_string_equal(v[1], ""); /* no team label */
    /* the systemd driver's cgroup names carry the UID with '_' */
    assert_true(pod_labels_lookup(pl, "0b6d3c1e_1111_4a2b_9c3d_aaaaaaaaaaaa", &buf, v));
    assert_string_equal(v[0], "web");

    o = pod(d, u1, "\"app\":\"api\",\"team\":\"blue\"");
    pod_labels_apply(pl, o, false); /* an update replaces the values */
    assert_true(pod_labels_lookup(pl, u1, &buf, v));
    assert_string_equal(v[0], "api");
    assert_string_equal(v[1], "blue");

    /* many pods: every one found with its own values */
    for (int i = 0; i < 600; i++) {
        char uid[64], lab[64];
        snprintf(uid, sizeof uid, "00000000-0000-0000-0000-%012d", i);
        snprintf(lab, sizeof lab, "\"app\":\"a%d\"", i);
        kube_obj *p = pod(d, uid, lab);
        pod_labels_apply(pl, p, false);
        kube_obj_free(p);
    }
    for (int i = 0; i < 600; i++) {
        char uid[64], want[16];
        snprintf(uid, sizeof uid, "00000000-0000-0000-0000-%012d", i);
        snprintf(want, sizeof want, "a%d", i);
        assert_true(pod_labels_lookup(pl, uid, &buf, v));
        assert_string_equal(v[0], want);
    }

    pod_labels_apply(pl, o, true);
    kube_obj_free(o);
    assert_false(pod_labels_lookup(pl, u1, &buf, v));
    assert_string_equal(v[0], "");

    vg_buf_release(&buf);
    kube_objdec_free(d);
    pod_labels_free(pl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allowlist),
        cmocka_unit_test(test_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
