/*
 * test_cgroup_ident.c - unit tests for pod/container recognition in cgroup
 * paths and /proc/<pid>/cgroup text (agent/collectors/cgroup_ident.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "collectors/cgroup_ident.h"

#define UID "0a1b2c3d-4e5f-6789-abcd-ef0123456789"
#define UID_ "0a1b2c3d_4e5f_6789_abcd_ef0123456789"
#define CID "3f5e1c9d2a7b4c6d8e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d"

static bool parse(const char *p, cgroup_ident *id)
{
    memset(id, 0x5a, sizeof *id); /* garbage: parse must overwrite or not touch */
    return cgroup_ident_parse(p, strlen(p), id);
}

static void test_systemd_burstable_containerd(void **state)
{
    (void)state;
    cgroup_ident id;
    assert_true(parse("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
                      ".slice/cri-containerd-" CID ".scope", &id));
    assert_int_equal(id.qos, CGROUP_QOS_BURSTABLE);
    assert_string_equal(id.pod_uid, UID);
    assert_string_equal(id.container_id, CID);
    assert_string_equal(id.runtime, "containerd");
}

static void test_systemd_besteffort_crio_and_docker(void **state)
{
    (void)state;
    cgroup_ident id;
    assert_true(parse("kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_
                      ".slice/crio-" CID ".scope", &id));
    assert_int_equal(id.qos, CGROUP_QOS_BESTEFFORT);
    assert_string_equal(id.pod_uid, UID);
    assert_string_equal(id.runtime, "crio");
    assert_string_equal(id.container_id, CID);

    assert_true(parse("/kubepods.slice/kubepods-pod" UID_ ".slice/docker-" CID ".scope", &id));
    assert_int_equal(id.qos, CGROUP_QOS_GUARANTEED);
    assert_string_equal(id.runtime, "docker");
}

static void test_systemd_pod_level_and_guaranteed(void **state)
{
    (void)state;
    cgroup_ident id;
    assert_true(parse("/kubepods.slice/kubepods-pod" UID_ ".slice", &id));
    assert_int_equal(id.qos, CGROUP_QOS_GUARANTEED);
    assert_string_equal(id.pod_uid, UID);
    assert_string_equal(id.container_id, "");
    assert_string_equal(id.runtime, "");

    /* trailing slash and duplicate slashes are fine */
    assert_true(parse("//kubepods.slice//kubepods-burstable.slice/kubepods-burstable-pod" UID_
                      ".slice/", &id));
    assert_int_equal(id.qos, CGROUP_QOS_BURSTABLE);
    assert_string_equal(id.container_id, "");
}

static void test_systemd_kind_prefix(void **state)
{
    (void)state;
    cgroup_ident id;
    /* kubelet --cgroup-root=/kubelet with the systemd driver (kind) */
    assert_true(parse("/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
                      "kubelet-kubepods-besteffort-pod" UID_ ".slice/cri-containerd-" CID ".scope",
                      &id));
    assert_int_equal(id.qos, CGROUP_QOS_BESTEFFORT);
    assert_string_equal(id.pod_uid, UID);
    assert_string_equal(id.container_id, CID);
}

static void test_cgroupfs(void **state)
{
    (void)state;
    cgroup_ident id;
    assert_true(parse("/kubepods/burstable/pod" UID "/" CID, &id));
    assert_int_equal(id.qos, CGROUP_QOS_BURSTABLE);
    assert_string_equal(id.pod_uid, UID);
    assert_string_equal(id.container_id, CID);
    assert_string_equal(id.runtime, "");

    assert_true(parse("/kubepods/pod" UID "/" CID, &id));
    assert_int_equal(id.qos, CGROUP_QOS_GUARANTEED);

    assert_true(parse("/kubepods/besteffort/pod" UID, &id));
    assert_int_equal(id.qos, CGROUP_QOS_BESTEFFORT);
    assert_string_equal(id.container_id, "");

    /* CRI-O on cgroupfs names container cgroups crio-<id> */
    assert_true(parse("/kubepods/besteffort/pod" UID "/crio-" CID, &id));
    assert_string_equal(id.runtime, "crio");
    assert_string_equal(id.container_id, CID);

    /* kind with cgroupfs: /kubelet/kubepods/... */
    assert_true(parse("/kubelet/kubepods/burstable/pod" UID "/" CID, &id));
    assert_int_equal(id.qos, CGROUP_QOS_BURSTABLE);
}

static void test_pod_children_that_are_not_containers(void **state)
{
    (void)state;
    cgroup_ident id;
    /* CRI-O's conmon lives in the pod slice: the pod, not a container */
    assert_true(parse("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
                      ".slice/crio-conmon-" CID ".scope", &id));
    assert_string_equal(id.pod_uid, UID);
    assert_string_equal(id.container_id, "");
    assert_string_equal(id.runtime, "");
    /* an unknown scope */
    assert_true(parse("/kubepods.slice/kubepods-pod" UID_ ".slice/session-3.scope", &id));
    assert_string_equal(id.container_id, "");
    /* nested cgroups below a container still name the container */
    assert_true(parse("/kubepods/pod" UID "/" CID "/init.scope", &id));
    assert_string_equal(id.container_id, CID);
}

static void test_not_pods(void **state)
{
    (void)state;
    cgroup_ident id;
    memset(&id, 0x5a, sizeof id);
    cgroup_ident before = id;
    const char *bad[] = {
        "/",
        "",
        "/system.slice/containerd.service",
        "/kubepods.slice",
        "/kubepods.slice/kubepods-burstable.slice",
        "/kubepods/burstable",
        "/kubepods",
        "/user.slice/user-0.slice/session-1.scope",
        "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod.slice",  /* no uid */
        "/kubepods.slice/kubepods-burstable-podxyz.slice",                       /* not hex */
        "/kubepods.slice/kubepods-burstable-pod___.slice",                       /* no digit */
        "/kubepods/burstable/podnothex",
        "/notkubepods/pod" UID,                                                  /* wrong parent */
        "/kubepods/burstable/pod" UID_,                                           /* '_' in cgroupfs */
        "/mykubepods-pod" UID_ ".slice",                                          /* not at '-' */
        "/kubepods-pod" UID_ ".scope",                                            /* not a slice */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (cgroup_ident_parse(bad[i], strlen(bad[i]), &id))
            fail_msg("parsed as a pod: %s", bad[i]);
        assert_memory_equal(&id, &before, sizeof id);
    }
    assert_false(cgroup_ident_parse(NULL, 0, &id));
}

static void test_overlong_fields(void **state)
{
    (void)state;
    cgroup_ident id;
    char path[512];
    char uid[70];
    memset(uid, 'a', sizeof uid - 1);
    uid[sizeof uid - 1] = '\0';
    snprintf(path, sizeof path, "/kubepods/pod%s", uid);
    assert_false(parse(path, &id)); /* 69 chars > 63 */

    char cid[100];
    memset(cid, 'b', sizeof cid - 1);
    cid[sizeof cid - 1] = '\0';
    snprintf(path, sizeof path, "/kubepods/pod" UID "/%s", cid);
    assert_true(parse(path, &id)); /* pod recognised, id too long: pod-level */
    assert_string_equal(id.container_id, "");

    /* a path far deeper than any real cgroup */
    char deep[1024] = "";
    for (int i = 0; i < 40; i++)
        strcat(deep, "/a");
    strcat(deep, "/kubepods/pod" UID);
    assert_false(parse(deep, &id));
}

static void test_not_nul_terminated(void **state)
{
    (void)state;
    const char full[] = "/kubepods/pod" UID "/" CID "XXXX";
    cgroup_ident id;
    /* length stops before XXXX: the id must not include it */
    assert_true(cgroup_ident_parse(full, strlen(full) - 4, &id));
    assert_string_equal(id.container_id, CID);
    /* length inside the uid: a shorter (still valid) uid */
    assert_true(cgroup_ident_parse(full, strlen("/kubepods/pod0a1b"), &id));
    assert_string_equal(id.pod_uid, "0a1b");
}

static void test_from_proc_v2(void **state)
{
    (void)state;
    const char text[] = "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
                        ".slice/cri-containerd-" CID ".scope\n";
    cgroup_ident id;
    assert_true(cgroup_ident_from_proc(text, strlen(text), &id));
    assert_string_equal(id.pod_uid, UID);
    assert_string_equal(id.container_id, CID);
}

static void test_from_proc_v1_prefers_memory(void **state)
{
    (void)state;
    /* hybrid host: unified line says "/", memory line names the container */
    const char text[] = "12:pids:/kubepods/besteffort/podffff/" CID "\n"
                        "11:cpu,cpuacct:/kubepods/besteffort/pod" UID "/" CID "\n"
                        "5:memory:/kubepods/besteffort/pod" UID "/" CID "\n"
                        "1:name=systemd:/kubepods/besteffort/podeeee/abc\n"
                        "0::/\n";
    cgroup_ident id;
    assert_true(cgroup_ident_from_proc(text, strlen(text), &id));
    assert_string_equal(id.pod_uid, UID);
    assert_string_equal(id.container_id, CID);
    assert_int_equal(id.qos, CGROUP_QOS_BESTEFFORT);

    /* no memory line: the cpu one wins over other controllers */
    const char text2[] = "12:pids:/kubepods/podaaaa/x1\n"
                         "3:cpuacct,cpu:/kubepods/podbbbb/x2\n";
    assert_true(cgroup_ident_from_proc(text2, strlen(text2), &id));
    assert_string_equal(id.pod_uid, "bbbb");
    assert_string_equal(id.container_id, "x2");

    /* only another controller: still used as a last resort */
    assert_true(cgroup_ident_from_proc(text2, strlen("12:pids:/kubepods/podaaaa/x1\n"), &id));
    assert_string_equal(id.pod_uid, "aaaa");

    /* unified line wins when it identifies */
    const char text3[] = "5:memory:/kubepods/podbbbb/x2\n0::/kubepods/podcccc/x3";
    assert_true(cgroup_ident_from_proc(text3, strlen(text3), &id));
    assert_string_equal(id.pod_uid, "cccc");
    assert_string_equal(id.container_id, "x3");
}

static void test_from_proc_garbage(void **state)
{
    (void)state;
    cgroup_ident id;
    const char *bad[] = {
        "",
        "\n\n\n",
        "garbage",
        "0:/kubepods/podaaaa",          /* one colon only */
        "0::/system.slice/ssh.service\n",
        "1:memory:/user.slice\n0::/init.scope\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(cgroup_ident_from_proc(bad[i], strlen(bad[i]), &id));
    assert_false(cgroup_ident_from_proc(NULL, 0, &id));
    /* a NUL byte inside the path is not a valid cgroup path */
    const char nul[] = "0::/kubepods/pod1\0/x";
    assert_false(cgroup_ident_from_proc(nul, sizeof nul - 1, &id));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_systemd_burstable_containerd),
        cmocka_unit_test(test_systemd_besteffort_crio_and_docker),
        cmocka_unit_test(test_systemd_pod_level_and_guaranteed),
        cmocka_unit_test(test_systemd_kind_prefix),
        cmocka_unit_test(test_cgroupfs),
        cmocka_unit_test(test_pod_children_that_are_not_containers),
        cmocka_unit_test(test_not_pods),
        cmocka_unit_test(test_overlong_fields),
        cmocka_unit_test(test_not_nul_terminated),
        cmocka_unit_test(test_from_proc_v2),
        cmocka_unit_test(test_from_proc_v1_prefers_memory),
        cmocka_unit_test(test_from_proc_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
