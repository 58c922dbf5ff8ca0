/*
 * test_kube_objects.c - compact decoders on realistic fixtures
 * (tests/fixtures/kube/), on every truncation of them and on
 * garbage; quantity parsing; bytes per cached pod.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "kube/kube_objects.h"
#include "vg_buf.h"

static vg_buf load(const char *name)
{
    vg_buf b = VG_BUF_INIT;
    char p[256];
    snprintf(p, sizeof p, "tests/fixtures/kube/%s", name);
    assert_int_equal(vg_buf_read_file(&b, p, 1 << 20), 0);
    return b;
}

static void test_pod(void **state)
{
    vg_buf b = load("pod.json");
    kube_obj *o;
    assert_int_equal(kube_obj_decode(KUBE_OBJ_POD, b.data, b.len, &o), 0);
    assert_string_equal(o->meta.ns, "shop");
    assert_string_equal(o->meta.name, "web-7d4b9c8f6d-x2x9q");
    assert_string_equal(o->meta.uid, "1f5e6c1a-3b5e-4c1e-9a57-2b0d3b0f9a11");
    assert_string_equal(o->meta.rv, "48213977");
    assert_int_equal(o->meta.nlabels, 3);
    assert_string_equal(kube_obj_label(o, "pod-template-hash"), "7d4b9c8f6d");
    assert_null(kube_obj_label(o, "nope"));
    const kube_owner *ow = kube_obj_controller(o);
    assert_non_null(ow);
    assert_string_equal(ow->kind, "ReplicaSet");
    assert_string_equal(ow->name, "web-7d4b9c8f6d");
    const kube_pod *p = &o->u.pod;
    assert_string_equal(p->node, "ip-10-0-12-34.eu-west-1.compute.internal");
    assert_int_equal(p->phase, KUBE_PHASE_RUNNING);
    assert_int_equal(p->ready, 0);
    assert_true(p->start_us == 1714557601000000LL);
    assert_int_equal(o->meta.deletion_us, 0);
    assert_int_equal(p->ncontainers, 2);
    const kube_container *web = &p->containers[0], *sc = &p->containers[1];
    assert_string_equal(web->name, "web");
    assert_int_equal(web->cpu_req_m, 250);
    assert_int_equal(web->cpu_lim_m, 1000);
    assert_int_equal(web->mem_req, 256LL << 20);
    assert_int_equal(web->mem_lim, 512LL << 20);
    assert_int_equal(web->restarts, 7);
    assert_false(web->ready);
    assert_string_equal(web->waiting_reason, "CrashLoopBackOff");
    assert_string_equal(web->last_term_reason, "OOMKilled");
    assert_string_equal(sc->name, "istio-proxy");
    assert_int_equal(sc->cpu_lim_m, -1);
    assert_int_equal(sc->mem_lim, 1LL << 30);
    assert_true(sc->ready);
    assert_null(sc->waiting_reason);
    assert_null(sc->last_term_reason);
    /* the compact form of a ~4 KiB pod */
    assert_true(o->size < 1024);
    printf("# pod fixture: %zu bytes of JSON -> %u bytes decoded\n", b.len, o->size);
    kube_obj_free(o);
    vg_buf_release(&b);
}

static void test_workloads(void **state)
{
    vg_buf b = load("deployment.json");
    kube_obj *o;
    assert_int_equal(kube_obj_decode(KUBE_OBJ_DEPLOYMENT, b.data, b.len, &o), 0);
    const kube_workload *w = &o->u.wl;
    assert_int_equal(w->replicas, 6);
    assert_true(w->paused);
    assert_int_equal(o->meta.generation, 14);
    assert_int_equal(w->observed_generation, 13);
    assert_int_equal(w->st_replicas, 7);
    assert_int_equal(w->updated_replicas, 3);
    assert_int_equal(w->ready_replicas, 5);
    assert_int_equal(w->available_replicas, 5);
    assert_int_equal(w->unavailable_replicas, 2);
    assert_int_equal(w->nselector, 2);
    assert_string_equal(w->selector[1].key, "app.kubernetes.io/component");
    assert_non_null(w->selector_exprs);
    assert_true(strstr(w->selector_exprs, "\"In\"") != NULL);
    assert_int_equal(w->nannotations, 1);
    assert_string_equal(w->template_annotations[0].key, "kubectl.kubernetes.io/restartedAt");
    assert_null(w->update_revision);
    kube_obj_free(o);
    vg_buf_release(&b);

    b = load("statefulset.json");
    assert_int_equal(kube_obj_decode(KUBE_OBJ_STATEFULSET, b.data, b.len, &o), 0);
    w = &o->u.wl;
    assert_int_equal(w->replicas, 1); /* defaulted */
    assert_false(w->paused);
    assert_int_equal(w->current_replicas, 3);
    assert_string_equal(w->update_revision, "db-6a8e9d");
    assert_string_equal(w->current_revision, "db-5f7d8c");
    assert_int_equal(w->nannotations, 0);
    assert_null(w->template_annotations);
    kube_obj_free(o);
    vg_buf_release(&b);
}

static void test_node_lease_custom(void **state)
{
    vg_buf b = load("node.json");
    kube_obj *o;
    assert_int_equal(kube_obj_decode(KUBE_OBJ_NODE, b.data, b.len, &o), 0);
    assert_string_equal(o->meta.ns, "");
    assert_true(o->u.node.unschedulable);
    assert_int_equal(o->u.node.nallocatable, 6);
    int found = 0;
    for (size_t i = 0; i < o->u.node.nallocatable; i++) {
        const kube_quantity *q = &o->u.node.allocatable[i];
        if (strcmp(q->name, "cpu") == 0 && q->value == 3920)
            found++;
        if (strcmp(q->name, "memory") == 0 && q->value == 15166052LL * 1024)
            found++;
        if (strcmp(q->name, "nvidia.com/gpu") == 0 && q->value == 1)
            found++;
    }
    assert_int_equal(found, 3);
    assert_int_equal(o->u.node.nconditions, 4);
    assert_string_equal(o->u.node.conditions[3].type, "Ready");
    assert_int_equal(o->u.node.conditions[3].status, 1);
    kube_obj_free(o);
    vg_buf_release(&b);

    b = load("lease.json");
    assert_int_equal(kube_obj_decode(KUBE_OBJ_LEASE, b.data, b.len, &o), 0);
    assert_string_equal(o->u.lease.holder, "vigil-operator-7f9c_4c1e");
    assert_int_equal(o->u.lease.duration_s, 15);
    assert_int_equal(o->u.lease.transitions, 4);
    assert_true(o->u.lease.renew_us % 1000000 == 654321);
    kube_obj_free(o);
    vg_buf_release(&b);

    b = load("custom.json");
    assert_int_equal(kube_obj_decode(KUBE_OBJ_CUSTOM, b.data, b.len, &o), 0);
    assert_string_equal(o->u.cr.kind, "RestartPolicy");
    assert_string_equal(o->u.cr.api_version, "vigil.dev/v1alpha1");
    assert_true(strncmp(o->u.cr.spec, "{\"selector\"", 11) == 0);
    assert_true(strstr(o->u.cr.status, "lastRestart") != NULL);
    kube_obj_free(o);
    vg_buf_release(&b);
}

static void test_truncated_everywhere(void **state)
{
    static const struct { const char *f; kube_obj_kind k; } fx[] = {
        {"pod.json", KUBE_OBJ_POD}, {"deployment.json", KUBE_OBJ_DEPLOYMENT},
        {"statefulset.json", KUBE_OBJ_STATEFULSET}, {"node.json", KUBE_OBJ_NODE},
        {"lease.json", KUBE_OBJ_LEASE}, {"custom.json", KUBE_OBJ_CUSTOM},
    };
    kube_objdec *d;
    assert_int_equal(kube_objdec_new(&d), 0);
    for (size_t i = 0; i < sizeof fx / sizeof *fx; i++) {
        vg_buf b = load(fx[i].f);
        size_t end = b.len;
        while (end > 0 && (b.data[end - 1] == '\n' || b.data[end - 1] == ' '))
            end--;
        for (size_t n = 0; n < end; n++) {
            kube_obj *o = NULL;
            assert_int_not_equal(kube_objdec_decode(d, fx[i].k, b.data, n, &o), 0);
            assert_null(o);
        }
        kube_obj *o = NULL;
        assert_int_equal(kube_objdec_decode(d, fx[i].k, b.data, b.len, &o), 0);
        kube_obj_free(o);
        /* single-byte corruptions never crash; most are rejected */
        for (size_t n = 0; n < end; n += 5) {
            char save = b.data[n];
            b.data[n] = (char)(save ^ 0x5a);
            o = NULL;
            if (kube_objdec_decode(d, fx[i].k, b.data, b.len, &o) == 0)
                kube_obj_free(o);
            b.data[n] = save;
        }
        vg_buf_release(&b);
    }
    kube_objdec_free(d);
}

static void test_garbage_and_types(void **state)
{
    const char *bad[] = {
        "", "null", "[]", "{}", "{\"metadata\":{}}", "{\"metadata\":{\"name\":\"\"}}",
        "{\"metadata\":{\"name\":5}}", "{\"metadata\":{\"name\":\"a\",\"labels\":[]}}",
        "{\"metadata\":{\"name\":\"a\"},\"spec\":{\"containers\":[{\"image\":\"x\"}]}}",
        "{\"metadata\":{\"name\":\"a\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"resources\":{\"requests\":{\"cpu\":\"lots\"}}}]}}",
        "{\"metadata\":{\"name\":\"a\",\"creationTimestamp\":\"yesterday\"}}",
        "{\"metadata\":{\"name\":\"a\",\"ownerReferences\":[{\"kind\":\"X\"}]}}",
        "{\"metadata\":{\"name\":\"a\"},\"status\":{\"containerStatuses\":[{\"name\":\"c\",\"restartCount\":1e99}]}}",
        "{\"metadata\":{\"name\":\"a\"}} trailing",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        kube_obj *o = NULL;
        assert_int_not_equal(kube_obj_decode(KUBE_OBJ_POD, bad[i], strlen(bad[i]), &o), 0);
        assert_null(o);
    }
    /* minimal pod: defaults */
    const char *min = "{\"metadata\":{\"name\":\"a\",\"creationTimestamp\":null},\"spec\":null,\"status\":{\"containerStatuses\":[{\"name\":\"late\",\"restartCount\":2}]}}";
    kube_obj *o;
    assert_int_equal(kube_obj_decode(KUBE_OBJ_POD, min, strlen(min), &o), 0);
    assert_string_equal(o->meta.ns, "");
    assert_string_equal(o->u.pod.node, "");
    assert_int_equal(o->u.pod.ready, -1);
    assert_int_equal(o->u.pod.ncontainers, 1);
    assert_string_equal(o->u.pod.containers[0].name, "late");
    assert_int_equal(o->u.pod.containers[0].cpu_req_m, -1);
    kube_obj_free(o);

    char rv[32];
    bool iee;
    const char *bm = "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"12\",\"annotations\":{\"k8s.io/initial-events-end\":\"true\"}}}";
    assert_int_equal(kube_obj_peek_rv(bm, strlen(bm), rv, sizeof rv, &iee), 0);
    assert_string_equal(rv, "12");
    assert_true(iee);
    assert_int_not_equal(kube_obj_peek_rv("{\"metadata\":{}}", 15, rv, sizeof rv, &iee), 0);
}

static void test_quantities(void **state)
{
    static const struct { const char *s; bool milli; int64_t v; } ok[] = {
        {"100m", true, 100}, {"1", true, 1000}, {"1.5", true, 1500}, {"0.1", true, 100}, {"250m", false, 1},
        {"128Mi", false, 134217728}, {"1Gi", false, 1073741824}, {"1e3", false, 1000}, {"1E3", true, 1000000},
        {"500k", false, 500000}, {"2M", false, 2000000}, {"1.5Gi", false, 1610612736}, {"10n", true, 1},
        {"0", false, 0}, {"-1", false, -1}, {"12e-1", false, 2},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        int64_t v;
        assert_int_equal(kube_quantity_parse(ok[i].s, strlen(ok[i].s), ok[i].milli, &v), 0);
        if (v != ok[i].v)
            fail_msg("%s -> %lld, want %lld", ok[i].s, (long long)v, (long long)ok[i].v);
    }
    const char *bad[] = {"", "m", "1x", "1Ki ", "Mi", "1.2.3", "1e", "1e1234", "1Xi", "1KiB"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int64_t v;
        assert_int_not_equal(kube_quantity_parse(bad[i], strlen(bad[i]), false, &v), 0);
    }
    int64_t v;
    assert_int_equal(kube_quantity_parse("100Ei", 5, false, &v), -ERANGE);
}

/* Heap bytes per decoded pod, measured with mallinfo2 across 2000 pods
 * with distinct names (what the informer cache pays, before indexes). */
static void test_bytes_per_pod(void **state)
{
    vg_buf b = load("pod.json");
    kube_objdec *d;
    assert_int_equal(kube_objdec_new(&d), 0);
    enum { N = 2000 };
    static kube_obj *objs[N];
    kube_obj *warm;
    assert_int_equal(kube_objdec_decode(d, KUBE_OBJ_POD, b.data, b.len, &warm), 0);
    kube_obj_free(warm);
    struct mallinfo2 m0 = mallinfo2();
    for (int i = 0; i < N; i++)
        assert_int_equal(kube_objdec_decode(d, KUBE_OBJ_POD, b.data, b.len, &objs[i]), 0);
    struct mallinfo2 m1 = mallinfo2();
    double per = (double)(m1.uordblks - m0.uordblks) / N;
    printf("# heap per decoded pod: %.0f bytes (JSON %zu bytes)\n", per, b.len);
    assert_true(per < 1024);
    for (int i = 0; i < N; i++)
        kube_obj_free(objs[i]);
    kube_objdec_free(d);
    vg_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pod), cmocka_unit_test(test_workloads), cmocka_unit_test(test_node_lease_custom),
        cmocka_unit_test(test_truncated_everywhere), cmocka_unit_test(test_garbage_and_types),
        cmocka_unit_test(test_quantities), cmocka_unit_test(test_bytes_per_pod),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
