/*
 * test_runtime_state.c - unit tests for reading pod and container names from
 * containerd and CRI-O config.json annotations (agent/collectors/runtime_state.h).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "collectors/runtime_state.h"

#define S(x) (x), strlen(x)

static const char containerd_ctr[] =
    "{\"ociVersion\":\"1.1.0\",\"process\":{\"args\":[\"nginx\"]},\"mounts\":[],"
    "\"annotations\":{"
    "\"io.kubernetes.cri.container-name\":\"app\","
    "\"io.kubernetes.cri.container-type\":\"container\","
    "\"io.kubernetes.cri.image-name\":\"docker.io/library/nginx:1.25.3\","
    "\"io.kubernetes.cri.sandbox-id\":\"abc\","
    "\"io.kubernetes.cri.sandbox-name\":\"web-0\","
    "\"io.kubernetes.cri.sandbox-namespace\":\"shop\","
    "\"io.kubernetes.cri.sandbox-uid\":\"1234-5678\"}}\n";

static void test_containerd_container(void **state)
{
    (void)state;
    runtime_info ri;
    assert_int_equal(runtime_info_parse(S(containerd_ctr), "c0ffee", &ri), 0);
    assert_false(ri.sandbox);
    assert_int_equal(ri.flavor, RUNTIME_STATE_CONTAINERD);
    assert_string_equal(ri.pod_name, "web-0");
    assert_string_equal(ri.pod_namespace, "shop");
    assert_string_equal(ri.pod_uid, "1234-5678");
    assert_string_equal(ri.container, "app");
    assert_string_equal(ri.image, "docker.io/library/nginx:1.25.3");
    assert_string_equal(ri.name, "c0ffee");
    runtime_info_release(&ri);
    assert_null(ri.pod_name);
    runtime_info_release(&ri); /* twice is fine */
    runtime_info_release(NULL);
}

static void test_containerd_sandbox(void **state)
{
    (void)state;
    const char *j = "{\"annotations\":{\"io.kubernetes.cri.container-type\":\"sandbox\","
                    "\"io.kubernetes.cri.sandbox-name\":\"web-0\","
                    "\"io.kubernetes.cri.sandbox-namespace\":\"shop\","
                    "\"io.kubernetes.cri.container-name\":\"ignored\","
                    "\"io.kubernetes.cri.image-name\":\"ignored\"}}";
    runtime_info ri;
    assert_int_equal(runtime_info_parse(S(j), "s1", &ri), 0);
    assert_true(ri.sandbox);
    assert_string_equal(ri.pod_name, "web-0");
    assert_string_equal(ri.container, "");
    assert_string_equal(ri.image, "");
    assert_string_equal(ri.pod_uid, "");
    runtime_info_release(&ri);
}

static void test_crio_labels_json(void **state)
{
    (void)state;
    /* CRI-O keeps kubelet's labels as a JSON string in one annotation */
    const char *j =
        "{\"annotations\":{\"io.kubernetes.cri-o.ContainerType\":\"container\","
        "\"io.kubernetes.cri-o.ImageName\":\"quay.io/x/y:1\","
        "\"io.kubernetes.cri-o.Name\":\"k8s_app_web-0_shop_1234_0\","
        "\"io.kubernetes.cri-o.Labels\":\"{\\\"io.kubernetes.container.name\\\":\\\"app\\\","
        "\\\"io.kubernetes.pod.name\\\":\\\"web-0\\\",\\\"io.kubernetes.pod.namespace\\\":\\\"shop\\\","
        "\\\"io.kubernetes.pod.uid\\\":\\\"1234\\\"}\"}}";
    runtime_info ri;
    assert_int_equal(runtime_info_parse(S(j), "id1", &ri), 0);
    assert_int_equal(ri.flavor, RUNTIME_STATE_CRIO);
    assert_false(ri.sandbox);
    assert_string_equal(ri.pod_name, "web-0");
    assert_string_equal(ri.pod_namespace, "shop");
    assert_string_equal(ri.pod_uid, "1234");
    assert_string_equal(ri.container, "app");
    assert_string_equal(ri.image, "quay.io/x/y:1");
    assert_string_equal(ri.name, "k8s_app_web-0_shop_1234_0");
    runtime_info_release(&ri);
}

static void test_crio_direct_annotations_win(void **state)
{
    (void)state;
    const char *j =
        "{\"annotations\":{\"io.kubernetes.cri-o.ContainerType\":\"sandbox\","
        "\"io.kubernetes.pod.name\":\"direct\",\"io.kubernetes.pod.namespace\":\"ns1\","
        "\"io.kubernetes.cri-o.Labels\":\"{\\\"io.kubernetes.pod.name\\\":\\\"fromlabels\\\","
        "\\\"io.kubernetes.pod.uid\\\":\\\"u1\\\"}\","
        "\"io.kubernetes.cri-o.ImageName\":\"pause\"}}";
    runtime_info ri;
    assert_int_equal(runtime_info_parse(S(j), "id", &ri), 0);
    assert_true(ri.sandbox);
    assert_string_equal(ri.pod_name, "direct");
    assert_string_equal(ri.pod_namespace, "ns1");
    assert_string_equal(ri.pod_uid, "u1");
    assert_string_equal(ri.image, ""); /* sandboxes have no image label */
    runtime_info_release(&ri);

    /* garbled Labels JSON: what the annotations say is still used */
    const char *j2 = "{\"annotations\":{\"io.kubernetes.cri-o.ContainerType\":\"container\","
                     "\"io.kubernetes.pod.name\":\"p\",\"io.kubernetes.cri-o.Labels\":\"{not json\"}}";
    assert_int_equal(runtime_info_parse(S(j2), "id", &ri), 0);
    assert_string_equal(ri.pod_name, "p");
    assert_string_equal(ri.container, "");
    runtime_info_release(&ri);
}

static void test_bad_input(void **state)
{
    (void)state;
    runtime_info ri;
    memset(&ri, 0x5a, sizeof ri);
    runtime_info before = ri;
    const char *bad[] = {
        "", "{", "[]", "\"x\"", "{\"annotations\":{\"io.kubernetes.cri.container-type\":\"container\"}} trailing",
        "{\"annotations\":", "null",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = runtime_info_parse(S(bad[i]), "id", &ri);
        if (rc != -EINVAL)
            fail_msg("input %zu (%s): rc %d", i, bad[i], rc);
    }
    const char *nodata[] = {
        "{}",
        "{\"annotations\":[]}",
        "{\"annotations\":{}}",
        "{\"annotations\":{\"io.kubernetes.cri.container-type\":5}}",
        "{\"annotations\":{\"org.opencontainers.image.title\":\"x\"}}",
    };
    for (size_t i = 0; i < sizeof nodata / sizeof nodata[0]; i++) {
        int rc = runtime_info_parse(S(nodata[i]), "id", &ri);
        if (rc != -ENODATA)
            fail_msg("input %zu (%s): rc %d", i, nodata[i], rc);
    }
    assert_memory_equal(&ri, &before, sizeof ri);

    /* wrong types and embedded NULs make a value unknown, not the container */
    const char *j = "{\"annotations\":{\"io.kubernetes.cri.container-type\":\"container\","
                    "\"io.kubernetes.cri.sandbox-name\":7,"
                    "\"io.kubernetes.cri.sandbox-namespace\":\"a\\u0000b\","
                    "\"io.kubernetes.cri.container-name\":\"ok\"}}  \n";
    assert_int_equal(runtime_info_parse(S(j), "id", &ri), 0);
    assert_string_equal(ri.pod_name, "");
    assert_string_equal(ri.pod_namespace, "");
    assert_string_equal(ri.container, "ok");
    runtime_info_release(&ri);

    /* an over-long value is dropped */
    size_t big = RUNTIME_VALUE_MAX + 100;
    char *doc = malloc(big + 200);
    assert_non_null(doc);
    int n = sprintf(doc, "{\"annotations\":{\"io.kubernetes.cri.container-type\":\"container\","
                         "\"io.kubernetes.cri.image-name\":\"");
    memset(doc + n, 'i', big);
    strcpy(doc + n + big, "\"}}");
    assert_int_equal(runtime_info_parse(doc, strlen(doc), "id", &ri), 0);
    assert_string_equal(ri.image, "");
    runtime_info_release(&ri);
    free(doc);
}

static void test_read_from_disk(void **state)
{
    (void)state;
    char dir[] = "/tmp/vigil-rtstate-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char p[512];
    snprintf(p, sizeof p, "%s/c0ffee", dir);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/c0ffee/config.json", dir);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(containerd_ctr, f);
    fclose(f);

    vg_buf scratch = VG_BUF_INIT;
    runtime_info ri;
    assert_int_equal(runtime_state_read(dir, RUNTIME_STATE_CONTAINERD, "c0ffee", &scratch, &ri), 0);
    assert_string_equal(ri.container, "app");
    runtime_info_release(&ri);
    /* CRI-O layout is <id>/userdata/config.json: not found here */
    assert_int_equal(runtime_state_read(dir, RUNTIME_STATE_CRIO, "c0ffee", &scratch, &ri), -ENOENT);
    assert_int_equal(runtime_state_read(dir, RUNTIME_STATE_CONTAINERD, "nope", &scratch, &ri), -ENOENT);

    /* CRI-O */
    snprintf(p, sizeof p, "%s/beef", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/beef/userdata", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/beef/userdata/config.json", dir);
    f = fopen(p, "w");
    assert_non_null(f);
    fputs("{\"annotations\":{\"io.kubernetes.cri-o.ContainerType\":\"container\","
          "\"io.kubernetes.container.name\":\"db\"}}",
          f);
    fclose(f);
    assert_int_equal(runtime_state_read(dir, RUNTIME_STATE_CRIO, "beef", &scratch, &ri), 0);
    assert_string_equal(ri.container, "db");
    runtime_info_release(&ri);

    /* truncated file */
    f = fopen(p, "w");
    fputs("{\"annotations\":{\"io.kubernetes.cri-o.Cont", f);
    fclose(f);
    assert_int_equal(runtime_state_read(dir, RUNTIME_STATE_CRIO, "beef", &scratch, &ri), -EINVAL);

    unlink(p);
    snprintf(p, sizeof p, "%s/beef/userdata", dir);
    rmdir(p);
    snprintf(p, sizeof p, "%s/beef", dir);
    rmdir(p);
    snprintf(p, sizeof p, "%s/c0ffee/config.json", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/c0ffee", dir);
    rmdir(p);
    rmdir(dir);
    vg_buf_release(&scratch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_containerd_container),
        cmocka_unit_test(test_containerd_sandbox),
        cmocka_unit_test(test_crio_labels_json),
        cmocka_unit_test(test_crio_direct_annotations_win),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_read_from_disk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
