/*
 * test_kube_store.c - the informer cache: put/replace/delete, secondary
 * indexes kept exact through churn (checked against a brute-force scan),
 * label selectors, swap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube_selector.h"
#include "kube/kube_store.h"

static kube_obj *mkpod(const char *ns, const char *name, const char *node, const char *owner, const char *app,
                       int rv)
{
    char j[1024];
    snprintf(j, sizeof j,
             "{\"metadata\":{\"namespace\":\"%s\",\"name\":\"%s\",\"resourceVersion\":\"%d\",\"labels\":{\"app\":\"%s\",\"tier\":\"t%d\"},"
             "\"ownerReferences\":[{\"kind\":\"ReplicaSet\",\"name\":\"rs\",\"uid\":\"%s\",\"controller\":true}]},"
             "\"spec\":{\"nodeName\":\"%s\"}}",
             ns, name, rv, app, rv % 3, owner, node);
    kube_obj *o;
    assert_int_equal(kube_obj_decode(KUBE_OBJ_POD, j, strlen(j), &o), 0);
    return o;
}

static int counter(void *ud, const kube_obj *o)
{
    (*(int *)ud)++;
    return 0;
}

typedef struct brute {
    kube_index idx;
    const char *value;
    int n;
} brute;

static int brute_visit(void *ud, const kube_obj *o)
{
    brute *b = ud;
    const char *v = b->idx == KUBE_IDX_NAMESPACE ? o->meta.ns
                    : b->idx == KUBE_IDX_NODE    ? o->u.pod.node
                                                 : o->meta.owners[0].uid;
    b->n += strcmp(v, b->value) == 0;
    return 0;
}

static void test_churn_and_indexes(void **state)
{
    kube_store *s;
    assert_int_equal(kube_store_new(&s), 0);
    srand(7);
    char ns[16], name[32], node[16], owner[16];
    for (int i = 0; i < 20000; i++) {
        snprintf(ns, sizeof ns, "ns%d", rand() % 5);
        snprintf(name, sizeof name, "p%d", rand() % 3000);
        if (rand() % 4 == 0) {
            kube_obj_free(kube_store_del(s, ns, name));
            continue;
        }
        snprintf(node, sizeof node, "n%d", rand() % 10);
        snprintf(owner, sizeof owner, "u%d", rand() % 50);
        kube_obj *old;
        assert_int_equal(kube_store_put(s, mkpod(ns, name, node, owner, rand() % 2 ? "web" : "db", i), &old), 0);
        kube_obj_free(old);
    }
    int total = 0;
    kube_store_each(s, counter, &total);
    assert_int_equal(total, (int)kube_store_len(s));
    for (int idx = 0; idx < KUBE_IDX_COUNT; idx++) {
        for (int v = 0; v < 50; v++) {
            char val[16];
            snprintf(val, sizeof val, idx == 0 ? "ns%d" : idx == 1 ? "n%d" : "u%d", v);
            brute b = {(kube_index)idx, val, 0};
            kube_store_each(s, brute_visit, &b);
            int n = 0;
            kube_store_each_indexed(s, (kube_index)idx, val, counter, &n);
            assert_int_equal(n, b.n);
        }
    }
    const kube_obj *g = kube_store_get(s, "ns1", "nonexistent");
    assert_null(g);
    assert_true(kube_store_bytes(s) > kube_store_len(s) * 100);
    kube_store_free(s);
}

static void test_selectors(void **state)
{
    kube_store *s;
    assert_int_equal(kube_store_new(&s), 0);
    kube_obj *old;
    for (int i = 0; i < 30; i++) {
        char name[16];
        snprintf(name, sizeof name, "p%d", i);
        assert_int_equal(kube_store_put(s, mkpod(i < 10 ? "a" : "b", name, "n", "u", i % 2 ? "web" : "db", i), &old), 0);
    }
    static const struct { const char *sel; const char *ns; int want; } cases[] = {
        {"", NULL, 30}, {"app=web", NULL, 15}, {"app==web", "a", 5}, {"app!=web", NULL, 15},
        {"app in (web,db)", NULL, 30}, {"app notin (web)", "b", 10}, {"tier", NULL, 30}, {"!tier", NULL, 0},
        {"app=web,tier=t0", NULL, 5}, {"missing", NULL, 0}, {"!missing,app=db", "a", 5},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        kube_selector *sel;
        assert_int_equal(kube_selector_parse(cases[i].sel, &sel, NULL, 0), 0);
        int n = 0;
        kube_store_each_selected(s, cases[i].ns, sel, counter, &n);
        if (n != cases[i].want)
            fail_msg("selector '%s' ns %s: %d, want %d", cases[i].sel, cases[i].ns ? cases[i].ns : "*", n, cases[i].want);
        kube_selector_free(sel);
    }
    const char *bad[] = {"app in web", "app in (a", "=x", "a,", "a b", "app in (a,)x"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        kube_selector *sel = NULL;
        char err[128];
        assert_int_equal(kube_selector_parse(bad[i], &sel, err, sizeof err), -EINVAL);
        assert_null(sel);
    }
    /* swap: a relist replaces the content */
    kube_store *t;
    assert_int_equal(kube_store_new(&t), 0);
    assert_int_equal(kube_store_put(t, mkpod("z", "only", "n", "u", "x", 1), &old), 0);
    kube_store_swap(s, t);
    assert_int_equal(kube_store_len(s), 1);
    assert_int_equal(kube_store_len(t), 30);
    assert_non_null(kube_store_get(s, "z", "only"));
    int n = 0;
    kube_store_each_indexed(s, KUBE_IDX_NAMESPACE, "a", counter, &n);
    assert_int_equal(n, 0);
    kube_store_free(t);
    kube_store_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_churn_and_indexes),
        cmocka_unit_test(test_selectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
