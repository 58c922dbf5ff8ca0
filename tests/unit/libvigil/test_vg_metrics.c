/* Unit tests for vg_metrics: families, duplicate-proofing, registry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdbool.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "vg_metrics.h"
#include "vg_prom.h"
#include "vg_buf.h"

static void test_family_and_samples(void **st)
{
    vg_scrape *s;
    assert_int_equal(vg_scrape_new(&s), 0);
    vg_family *f = vg_scrape_family(s, "node_cpu_seconds_total", VG_MT_COUNTER, "help", 2,
                                    (const char *[]){"cpu", "mode"});
    assert_non_null(f);
    assert_int_equal(vg_family_add(f, 1.5, "0", "user"), 0);
    assert_int_equal(vg_family_add(f, 2.5, "0", "system"), 0);
    assert_int_equal(vg_family_add(f, 3, "1", "user"), 0);
    assert_int_equal(vg_family_sample_count(f), 3);
    vg_sample_view v;
    vg_family_sample(f, 1, &v);
    assert_string_equal(v.values[0], "0");
    assert_string_equal(v.values[1], "system");
    assert_true(v.value == 2.5);
    vg_scrape_free(s);
}

static void test_duplicate_series_rejected(void **st)
{
    vg_scrape *s;
    vg_scrape_new(&s);
    vg_family *f = vg_scrape_family(s, "x_bytes", VG_MT_GAUGE, "h", 1, (const char *[]){"device"});
    assert_int_equal(vg_family_add(f, 1, "sda"), 0);
    assert_int_equal(vg_family_add(f, 2, "sda"), -EEXIST);
    /* the same family declared again (another collector) is the same family */
    vg_family *g = vg_scrape_family(s, "x_bytes", VG_MT_GAUGE, "h", 1, (const char *[]){"device"});
    assert_ptr_equal(f, g);
    assert_int_equal(vg_family_add(g, 3, "sda"), -EEXIST);
    assert_int_equal(vg_family_add(g, 3, "sdb"), 0);
    vg_scrape_stats stats;
    vg_scrape_stats_get(s, &stats);
    assert_int_equal(stats.duplicates, 2);
    assert_int_equal(stats.series, 2);
    /* NULL label value is the empty string, so "" and NULL collide */
    vg_family *h = vg_scrape_family(s, "y", VG_MT_GAUGE, "h", 1, (const char *[]){"a"});
    assert_int_equal(vg_family_add(h, 1, ""), 0);
    assert_int_equal(vg_family_add(h, 1, (const char *)NULL), -EEXIST);
    vg_scrape_free(s);
}

static void test_conflicting_family(void **st)
{
    vg_scrape *s;
    vg_scrape_new(&s);
    assert_non_null(vg_scrape_family(s, "a", VG_MT_GAUGE, "h", 0, NULL));
    assert_null(vg_scrape_family(s, "a", VG_MT_COUNTER, "h", 0, NULL));
    assert_null(vg_scrape_family(s, "a", VG_MT_GAUGE, "h", 1, (const char *[]){"l"}));
    /* NULL family: adds are harmless no-ops */
    assert_int_equal(vg_family_add(NULL, 1), -EINVAL);
    vg_scrape_stats stats;
    vg_scrape_stats_get(s, &stats);
    assert_int_equal(stats.conflicts, 2);
    vg_scrape_free(s);
}

static void test_invalid_names(void **st)
{
    vg_scrape *s;
    vg_scrape_new(&s);
    assert_null(vg_scrape_family(s, "1abc", VG_MT_GAUGE, "", 0, NULL));
    assert_null(vg_scrape_family(s, "a-b", VG_MT_GAUGE, "", 0, NULL));
    assert_null(vg_scrape_family(s, "ok", VG_MT_GAUGE, "", 1, (const char *[]){"__reserved"}));
    assert_null(vg_scrape_family(s, "ok2", VG_MT_GAUGE, "", 2, (const char *[]){"a", "a"}));
    assert_null(vg_scrape_family(s, "h", VG_MT_HISTOGRAM, "", 1, (const char *[]){"le"}));
    assert_true(vg_metric_name_valid("node:rule_x"));
    assert_true(vg_metric_name_valid(":a_1"));
    assert_true(vg_metric_name_valid("_"));
    assert_false(vg_metric_name_valid(""));
    assert_false(vg_metric_name_valid(NULL));
    assert_false(vg_metric_name_valid("a b"));
    assert_false(vg_metric_name_valid("caf\xc3\xa9"));
    assert_false(vg_label_name_valid("a:b"));
    assert_false(vg_label_name_valid("1a"));
    assert_false(vg_label_name_valid("__x"));
    assert_true(vg_label_name_valid("_x9"));
    assert_true(vg_label_name_valid("_"));
    assert_false(vg_label_name_valid("\xff"));
    vg_scrape_free(s);
}

static void test_reset_reuses(void **st)
{
    vg_scrape *s;
    vg_scrape_new(&s);
    for (int round = 0; round < 3; round++) {
        vg_family *f = vg_scrape_family(s, "z", VG_MT_GAUGE, "h", 1, (const char *[]){"i"});
        for (int i = 0; i < 5000; i++) {
            char b[16];
            snprintf(b, sizeof b, "%d", i);
            assert_int_equal(vg_family_add(f, i, b), 0);
        }
        assert_int_equal(vg_family_sample_count(f), 5000);
        assert_int_equal(vg_scrape_family_count(s), 1);
        vg_scrape_reset(s);
        assert_int_equal(vg_scrape_family_count(s), 0);
        assert_null(vg_scrape_find(s, "z"));
    }
    vg_scrape_free(s);
}

static void test_sorted(void **st)
{
    vg_scrape *s;
    vg_scrape_new(&s);
    const char *names[] = {"m", "a", "z", "b"};
    for (int i = 0; i < 4; i++)
        vg_scrape_add1(s, names[i], VG_MT_GAUGE, "", i);
    const vg_family *const *fs = vg_scrape_families_sorted(s);
    assert_string_equal(vg_family_name(fs[0]), "a");
    assert_string_equal(vg_family_name(fs[1]), "b");
    assert_string_equal(vg_family_name(fs[2]), "m");
    assert_string_equal(vg_family_name(fs[3]), "z");
    vg_scrape_free(s);
}

/* The sort order kept from the last scrape (vg_scrape_families_sorted)
 * must never show through when the family set or its declaration order
 * changed: 150 names in a 512-slot table collide, so a new order moves
 * names between slots; rounds also drop, add and rename families, and
 * repeat a round unchanged (the kept order is used as is). */
static void test_sorted_kept_across_resets(void **st)
{
    enum { N = 150 };
    static char names[N + 1][24];
    for (int i = 0; i <= N; i++)
        snprintf(names[i], sizeof names[i], "fam_%c%03d", 'a' + (i * 7) % 26, i);
    vg_scrape *s;
    vg_scrape_new(&s);
    unsigned seed = 12345;
    int idx[N + 1];
    for (int round = 0; round < 40; round++) {
        int n = N;
        for (int i = 0; i < N; i++)
            idx[i] = i;
        if (round % 4 == 1) {
            /* same as the round before: nothing to shuffle */
        } else {
            for (int i = N - 1; i > 0; i--) {
                seed = seed * 1103515245u + 12345u;
                int j = (int)((seed >> 8) % (unsigned)(i + 1));
                int t = idx[i];
                idx[i] = idx[j];
                idx[j] = t;
            }
        }
        if (round % 5 == 2)
            n = N - 3;                 /* fewer families */
        if (round % 7 == 3)
            idx[seed % N] = N;         /* a renamed one, same count */
        vg_scrape_reset(s);
        for (int i = 0; i < n; i++)
            assert_int_equal(vg_scrape_add1(s, names[idx[i]], VG_MT_GAUGE, "", i), 0);
        const vg_family *const *fs = vg_scrape_families_sorted(s);
        assert_non_null(fs);
        assert_int_equal(vg_scrape_family_count(s), n);
        for (int i = 1; i < n; i++)
            assert_true(strcmp(vg_family_name(fs[i - 1]), vg_family_name(fs[i])) < 0);
        for (int i = 0; i < n; i++)
            assert_ptr_equal(vg_scrape_find(s, names[idx[i]]), vg_scrape_find(s, names[idx[i]]));
        /* every declared family is in the list exactly once */
        for (int i = 0; i < n; i++) {
            const vg_family *f = vg_scrape_find(s, names[idx[i]]);
            assert_non_null(f);
            int seen = 0;
            for (int k = 0; k < n; k++)
                seen += fs[k] == f;
            assert_int_equal(seen, 1);
        }
        /* a family added after sorting invalidates the list */
        if (round % 6 == 5) {
            vg_scrape_add1(s, "aaa_first", VG_MT_GAUGE, "", 1);
            fs = vg_scrape_families_sorted(s);
            assert_string_equal(vg_family_name(fs[0]), "aaa_first");
            assert_int_equal(vg_scrape_family_count(s), n + 1);
        }
    }
    vg_scrape_free(s);
}

/* Families are remembered across resets (name, type, help and label names
 * checked and copied once): what a later scrape declares must still win
 * when it differs - help, labels, type - and a reused name buffer, an
 * invalid name or a directory rebuild must never show a stale family. */
static void test_family_directory(void **st)
{
    vg_scrape *s;
    vg_scrape_new(&s);
    vg_buf out = VG_BUF_INIT;
    char name[32];
    for (int round = 0; round < 6; round++) {
        vg_scrape_reset(s);
        /* help and labels change every other round; the type on round 4 */
        const char *help = round % 2 ? "help B" : "help A";
        const char *lbl = round % 2 ? "b" : "a";
        vg_mtype t = round == 4 ? VG_MT_COUNTER : VG_MT_GAUGE;
        vg_family *f = vg_scrape_family(s, "fam_x", t, help, 1, (const char *[]){lbl});
        assert_non_null(f);
        assert_string_equal(vg_family_help(f), help);
        assert_string_equal(vg_family_label_name(f, 0), lbl);
        assert_int_equal(vg_family_type(f), t);
        assert_int_equal(vg_family_add(f, 1, "v"), 0);
        /* again in the same scrape: the same family; other labels conflict */
        assert_ptr_equal(vg_scrape_family(s, "fam_x", t, "other help", 1, (const char *[]){lbl}),
                         f);
        assert_null(vg_scrape_family(s, "fam_x", t, help, 1, (const char *[]){"zz"}));
        assert_null(vg_scrape_family(s, "fam_x", t, help, 1, (const char *[]){"__bad"}));
        /* one buffer, another name each round */
        snprintf(name, sizeof name, "buf_%d", round % 3);
        assert_int_equal(vg_scrape_add1(s, name, VG_MT_GAUGE, "h", round), 0);
        /* invalid names stay invalid, however often they come */
        assert_null(vg_scrape_family(s, "bad-name", VG_MT_GAUGE, "", 0, NULL));
        assert_null(vg_scrape_family(s, "ok", VG_MT_HISTOGRAM, "", 1, (const char *[]){"le"}));
        vg_scrape_stats stt;
        vg_scrape_stats_get(s, &stt);
        assert_int_equal(stt.invalid, 3);
        assert_int_equal(stt.conflicts, 1);
        vg_buf_reset(&out);
        assert_int_equal(vg_prom_encode(s, VG_PROM_TEXT, &out), 0);
        char want[256];
        snprintf(want, sizeof want,
                 "# HELP buf_%d h\n# TYPE buf_%d gauge\nbuf_%d %d\n"
                 "# HELP fam_x %s\n# TYPE fam_x %s\nfam_x{%s=\"v\"} 1\n",
                 round % 3, round % 3, round % 3, round, help,
                 t == VG_MT_COUNTER ? "counter" : "gauge", lbl);
        assert_string_equal(out.data, want);
        assert_null(vg_scrape_find(s, "buf_9"));
        assert_non_null(vg_scrape_find(s, name));
        if (round > 2) {
            snprintf(name, sizeof name, "buf_%d", (round + 1) % 3);
            assert_null(vg_scrape_find(s, name)); /* known, but not this scrape */
        }
    }
    /* help length and escapes, recorded once with the family */
    for (int round = 0; round < 2; round++) {
        vg_scrape_reset(s);
        unsigned esc = 9;
        const char *h = round ? "say \"hi\"" : "a\\b\nc";
        vg_family *f = vg_scrape_family(s, "esc_x", VG_MT_GAUGE, h, 0, NULL);
        assert_int_equal(vg_family_help_len(f, &esc), strlen(h));
        assert_int_equal(esc, round ? VG_HELP_ESC_QUOTE : VG_HELP_ESC_TEXT);
        assert_int_equal(vg_family_name_len(f), 5);
        f = vg_scrape_family(s, "esc_y", VG_MT_GAUGE, NULL, 0, NULL);
        assert_int_equal(vg_family_help_len(f, &esc), 0);
        assert_int_equal(esc, 0);
    }
    /* thousands of names never declared again, and helps that keep
     * changing: the directory is rebuilt at a reset, families stay right */
    for (int round = 0; round < 30; round++) {
        vg_scrape_reset(s);
        for (int i = 0; i < 400; i++) {
            snprintf(name, sizeof name, "n%d_%d", round, i);
            char help[32];
            snprintf(help, sizeof help, "h%d", round);
            assert_int_equal(vg_scrape_add1(s, name, VG_MT_GAUGE, help, i), 0);
            assert_int_equal(vg_scrape_add1(s, "stable", VG_MT_GAUGE, help, 1) == 0,
                             i == 0);
        }
        assert_int_equal(vg_scrape_family_count(s), 401);
        const vg_family *const *fs = vg_scrape_families_sorted(s);
        for (int i = 1; i < 401; i++)
            assert_true(strcmp(vg_family_name(fs[i - 1]), vg_family_name(fs[i])) < 0);
        const vg_family *stable = vg_scrape_find(s, "stable");
        char help[32];
        snprintf(help, sizeof help, "h%d", round);
        assert_string_equal(vg_family_help(stable), help);
        snprintf(name, sizeof name, "n%d_%d", round, 399);
        assert_non_null(vg_scrape_find(s, name));
    }
    vg_buf_release(&out);
    vg_scrape_free(s);
}

static void test_histogram_validation(void **st)
{
    vg_scrape *s;
    vg_scrape_new(&s);
    vg_family *f = vg_scrape_family(s, "lat_seconds", VG_MT_HISTOGRAM, "h", 0, NULL);
    double b[] = {0.1, 1};
    uint64_t c[] = {1, 3};
    assert_int_equal(vg_family_add_histogram(f, b, c, 2, 4, 2.5, NULL), 0);
    double bad[] = {1, 0.1};
    vg_family *g = vg_scrape_family(s, "lat2_seconds", VG_MT_HISTOGRAM, "h", 0, NULL);
    assert_int_equal(vg_family_add_histogram(g, bad, c, 2, 4, 2.5, NULL), -EINVAL);
    uint64_t dec[] = {3, 1};
    assert_int_equal(vg_family_add_histogram(g, b, dec, 2, 4, 2.5, NULL), -EINVAL);
    assert_int_equal(vg_family_add_histogram(g, b, c, 2, 2, 2.5, NULL), -EINVAL); /* count < last */
    assert_int_equal(vg_family_add(f, 1), -EINVAL);
    vg_scrape_free(s);
}

static int cb_calls;
static void cb(vg_scrape *s, void *ud)
{
    cb_calls++;
    vg_scrape_add1(s, "computed", VG_MT_GAUGE, "", *(double *)ud);
}

static void test_registry(void **st)
{
    vg_registry *r;
    assert_int_equal(vg_registry_new(&r), 0);
    vg_metric *m = vg_registry_add(r, "req_total", VG_MT_COUNTER, "h", 1,
                                   (const char *[]){"code"}, NULL, 0, 2);
    assert_non_null(m);
    assert_null(vg_registry_add(r, "req_total", VG_MT_COUNTER, "h", 0, NULL, NULL, 0, 0));
    /* the same declaration again (a reload) shares the family */
    assert_ptr_equal(vg_registry_add(r, "req_total", VG_MT_COUNTER, "other help", 1,
                                     (const char *[]){"code"}, NULL, 0, 2), m);
    assert_null(vg_registry_add(r, "req_total", VG_MT_GAUGE, "h", 1, (const char *[]){"code"}, NULL, 0, 2));
    assert_null(vg_registry_add(r, "req_total", VG_MT_COUNTER, "h", 1, (const char *[]){"verb"}, NULL, 0, 2));
    assert_null(vg_registry_add(r, "req_total", VG_MT_COUNTER, "h", 1, (const char *[]){"code"}, NULL, 0, 3));
    vg_series *a = vg_metric_with(m, (const char *[]){"200"});
    vg_series *a2 = vg_metric_with(m, (const char *[]){"200"});
    assert_ptr_equal(a, a2);
    vg_series_inc(a);
    vg_series_add(a, 2);
    vg_series_add(a, -5); /* counters never go down */
    assert_true(vg_series_value(a) == 3);
    assert_non_null(vg_metric_with(m, (const char *[]){"404"}));
    assert_null(vg_metric_with(m, (const char *[]){"500"})); /* cap 2 */

    vg_metric *h = vg_registry_add(r, "dur_seconds", VG_MT_HISTOGRAM, "h", 0, NULL, NULL, 0, 0);
    assert_ptr_equal(vg_registry_add(r, "dur_seconds", VG_MT_HISTOGRAM, "h", 0, NULL, NULL, 0, 0), h);
    assert_null(vg_registry_add(r, "dur_seconds", VG_MT_HISTOGRAM, "h", 0, NULL, (const double[]){1, 2}, 2, 0));
    vg_series *hs = vg_metric_series0(h);
    vg_series_observe(hs, 0.003);
    vg_series_observe(hs, 0.3);
    vg_series_observe(hs, 100);
    double v = 7;
    vg_registry_add_collector(r, cb, &v);

    vg_scrape *s;
    vg_scrape_new(&s);
    assert_int_equal(vg_registry_collect(r, s), 0);
    assert_int_equal(cb_calls, 1);
    const vg_family *f = vg_scrape_find(s, "req_total");
    assert_non_null(f);
    assert_int_equal(vg_family_sample_count(f), 2);
    const vg_family *d = vg_scrape_find(s, "vigil_metrics_series_dropped_total");
    vg_sample_view sv;
    vg_family_sample(d, 0, &sv);
    assert_true(sv.value == 1);
    const vg_family *hf = vg_scrape_find(s, "dur_seconds");
    vg_family_sample(hf, 0, &sv);
    assert_int_equal(sv.count, 3);
    assert_int_equal(sv.nbuckets, 11);
    assert_int_equal(sv.cumulative[0], 1);  /* <= .005 */
    assert_int_equal(sv.cumulative[5], 1);  /* <= .25: .3 is not */
    assert_int_equal(sv.cumulative[6], 2);  /* <= .5 */
    assert_int_equal(sv.cumulative[10], 2); /* 100 only in +Inf */
    assert_true(fabs(sv.sum - 100.303) < 1e-9);
    vg_scrape_free(s);
    vg_registry_free(r);
}

/*
 * One tuple shared by more families than its own list holds (the rest go
 * to the scrape-wide table): every family gets its series once, a second
 * add is a duplicate on either side, also after a reset. Interned values
 * are taken as they are and carry their length and escape flag.
 */
static void test_shared_tuple_and_interning(void **st)
{
    vg_scrape *s;
    vg_scrape_new(&s);
    for (int round = 0; round < 2; round++) {
        char id[200];
        memset(id, 'x', sizeof id - 1);
        id[sizeof id - 1] = '\0';
        const char *iid = vg_scrape_intern(s, id);
        assert_ptr_not_equal(iid, id);
        assert_string_equal(iid, id);
        assert_ptr_equal(vg_scrape_intern(s, id), iid);
        vg_family *fams[100];
        for (int i = 0; i < 100; i++) {
            char name[32];
            snprintf(name, sizeof name, "fam_%03d", i);
            fams[i] = vg_scrape_family(s, name, VG_MT_GAUGE, "", 2, (const char *[]){"id", "q"});
            assert_int_equal(vg_family_add(fams[i], i, i % 2 ? iid : id, "a\"b"), 0);
            /* found at every stage of the tuple's family list: inline,
             * grown, full, and past it in the series table */
            assert_int_equal(vg_family_add(fams[i / 2], i, id, "a\"b"), -EEXIST);
        }
        for (int i = 0; i < 100; i++)
            assert_int_equal(vg_family_add(fams[i], i, id, "a\"b"), -EEXIST);
        vg_scrape_stats stats;
        vg_scrape_stats_get(s, &stats);
        assert_int_equal(stats.series, 100);
        assert_int_equal(stats.duplicates, 200);
        vg_sample_view v;
        vg_family_sample(fams[99], 0, &v);
        assert_ptr_equal(v.values[0], iid);
        bool esc = true;
        assert_int_equal(vg_label_value_len(v.values[0], &esc), sizeof id - 1);
        assert_false(esc);
        assert_int_equal(vg_label_value_len(v.values[1], &esc), 3);
        assert_true(esc);
        /* no labels: one series per family */
        assert_int_equal(vg_scrape_add1(s, "single", VG_MT_GAUGE, "", 1), 0);
        assert_int_equal(vg_scrape_add1(s, "single", VG_MT_GAUGE, "", 2), -EEXIST);
        vg_scrape_reset(s);
    }
    vg_scrape_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_family_and_samples),
        cmocka_unit_test(test_duplicate_series_rejected),
        cmocka_unit_test(test_conflicting_family),
        cmocka_unit_test(test_invalid_names),
        cmocka_unit_test(test_reset_reuses),
        cmocka_unit_test(test_sorted),
        cmocka_unit_test(test_sorted_kept_across_resets),
        cmocka_unit_test(test_family_directory),
        cmocka_unit_test(test_histogram_validation),
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_shared_tuple_and_interning),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
