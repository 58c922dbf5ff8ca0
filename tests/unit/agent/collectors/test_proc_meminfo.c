/* Unit tests for the meminfo collector (agent/collectors/proc_meminfo.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "collectors/proc_meminfo.h"
#include "proc_test_util.h"
#include "vg_buf.h"
#include "vg_prom.h"

static void test_good(void **st)
{
    const char *in = "MemTotal:       24684084 kB\n"
                     "MemFree:        22800000 kB\n"
                     "Active(anon):       1576 kB\n"
                     "Inactive(file):    10240 kB\n"
                     "HugePages_Total:       0\n"
                     "HugePages_Free:        7\n"
                     "Hugepagesize:       2048 kB\n"
                     "DirectMap4k:      102400 kB\n";
    vg_scrape *s;
    vg_scrape_new(&s);
    unsigned skipped = 0;
    assert_int_equal(proc_meminfo_parse(in, strlen(in), s, &skipped), 8);
    assert_int_equal(skipped, 0);
    assert_true(pt_value(s, "node_memory_MemTotal_bytes", 0) == 24684084.0 * 1024);
    assert_true(pt_value(s, "node_memory_Active_anon_bytes", 0) == 1576.0 * 1024);
    assert_true(pt_value(s, "node_memory_Inactive_file_bytes", 0) == 10240.0 * 1024);
    assert_true(pt_value(s, "node_memory_HugePages_Total", 0) == 0);
    assert_true(pt_value(s, "node_memory_HugePages_Free", 0) == 7);
    assert_true(pt_value(s, "node_memory_Hugepagesize_bytes", 0) == 2048.0 * 1024);
    assert_true(pt_value(s, "node_memory_DirectMap4k_bytes", 0) == 102400.0 * 1024);
    assert_int_equal(pt_type(s, "node_memory_MemFree_bytes"), VG_MT_GAUGE);
    char *text = pt_text(s);
    assert_non_null(strstr(text, "# HELP node_memory_Active_anon_bytes Memory information field "
                                 "Active_anon_bytes.\n"));
    assert_non_null(strstr(text, "node_memory_MemTotal_bytes 25276502016\n"));
    free(text);
    vg_scrape_free(s);
}

static void test_malformed(void **st)
{
    const char *in = "MemTotal:       24684084 kB\n"
                     "MemFree:        garbage kB\n"   /* bad number */
                     "MemAvailable:   23000000 MB\n"  /* unknown unit */
                     "Buffers:        1234 kB extra\n" /* too many fields */
                     "Cached\n"                       /* truncated: no colon */
                     "Inactive(anon:    10 kB\n"      /* unbalanced paren */
                     "Bad-Name:   5 kB\n"             /* not a metric name */
                     ":  5 kB\n"                      /* empty key */
                     "Shmem(file)(x): 1 kB\n"         /* two groups */
                     "()x: 1 kB\n"
                     "Dirty:  -7 kB\n"                /* signed: accepted */
                     "MemTotal:       1 kB\n"         /* repeated */
                     "Empty:\n"                       /* no value */
                     "\n"
                     "SwapTotal:     10";             /* cut short: no newline */
    vg_scrape *s;
    vg_scrape_new(&s);
    unsigned skipped = 0;
    assert_int_equal(proc_meminfo_parse(in, strlen(in), s, &skipped), 2);
    assert_int_equal(skipped, 12);
    assert_true(pt_value(s, "node_memory_MemTotal_bytes", 0) == 24684084.0 * 1024);
    assert_true(pt_value(s, "node_memory_Dirty_bytes", 0) == -7.0 * 1024);
    assert_int_equal(pt_count(s, "node_memory_SwapTotal"), 0);
    assert_int_equal(pt_count(s, "node_memory_MemFree_bytes"), 0);
    vg_scrape_free(s);

    vg_scrape_new(&s);
    assert_int_equal(proc_meminfo_parse("garbage\n", 8, s, &skipped), -EINVAL);
    assert_int_equal(proc_meminfo_parse("", 0, s, &skipped), -EINVAL);
    assert_int_equal(vg_scrape_family_count(s), 0);
    vg_scrape_free(s);
}

static void test_huge(void **st)
{
    const char *in = "MemTotal: 18014398509481983 kB\n"
                     "HugePages_Total: 18446744073709551615\n"
                     "Over: 18446744073709551616 kB\n";
    vg_scrape *s;
    vg_scrape_new(&s);
    unsigned skipped = 0;
    assert_int_equal(proc_meminfo_parse(in, strlen(in), s, &skipped), 2);
    assert_int_equal(skipped, 1);
    assert_true(pt_value(s, "node_memory_MemTotal_bytes", 0) == 18014398509481983.0 * 1024);
    assert_true(pt_value(s, "node_memory_HugePages_Total", 0) == 18446744073709551615.0);
    vg_scrape_free(s);
}

static void test_collect(void **st)
{
    pt_env env;
    vg_scrape *s;
    vg_scrape_new(&s);
    pt_ctx(&env, "real-debian");
    assert_int_equal(pt_collect(&agent_collector_meminfo, &env, s), 0);
    assert_true(pt_value(s, "node_memory_MemTotal_bytes", 0) > 0);
    assert_true(pt_count(s, "node_memory_Active_anon_bytes") == 1);
    pt_done(&env);

    vg_scrape_reset(s);
    pt_ctx(&env, "missing-files");
    assert_int_equal(pt_collect(&agent_collector_meminfo, &env, s), -ENOENT);
    assert_int_equal(vg_scrape_family_count(s), 0);
    pt_done(&env);
    vg_scrape_free(s);
}

static void parse_one(proc_meminfo_plan *plan, const char *in, vg_buf *text,
                      unsigned *skipped, int *rc)
{
    vg_scrape *s;
    vg_scrape_new(&s);
    *skipped = 0;
    *rc = plan ? proc_meminfo_parse_planned(plan, in, strlen(in), s, skipped)
               : proc_meminfo_parse(in, strlen(in), s, skipped);
    vg_buf_reset(text);
    assert_int_equal(vg_prom_encode(s, VG_PROM_TEXT, text), 0);
    vg_scrape_free(s);
}

/* A kept plan must give exactly the plain parse's series and skip counts
 * over scrapes whose keys, units, values and shape change. */
static void test_plan_matches_plain(void **st)
{
    static const char *const in[] = {
        "MemTotal:       16 kB\nActive(anon):   2 kB\nHugePages_Total:  3\nDirectMap4k: 4 kB\n",
        "MemTotal:       17 kB\nActive(anon):   5 kB\nHugePages_Total:  6\nDirectMap4k: 7 kB\n",
        "MemTotal:       17 kB\nActive(anon):   x5 kB\nHugePages_Total:  6\nDirectMap4k: 7 kB\n",
        "MemTotal:       17 kB\nActive(anon):   5\nHugePages_Total:  6\nDirectMap4k: 7 kB\n",
        "MemTotal:       17 kB\nActive(anon):   5 kB\nHugePages_Total:  6 kB\nDirectMap4k: 7 kB\n",
        "MemTotal:       17 kB\nActive(anon):   5 MB\nHugePages_Total:  6\nDirectMap4k: 7 kB\n",
        "MemTotal:       17 kB\nActive(anon):   5 kB 1\nHugePages_Total:  6\nDirectMap4k: 7 kB\n",
        "MemTotal:       17 kB\nActive(anon):   5 kB\nHugePages_Total:  6\nDirectMap4k: 7 kB",
        "MemTotal:       17 kB\nActive(anon):   5 kB\nHugePages_Total:  6\n",
        "MemTotal:       17 kB\nActive(anon):   5 kB\nHugePages_Total:  6\nDirectMap4k: 7 kB\nX: 1\n",
        "MemTotal:       17 kB\n\nActive(anon):   5 kB\nHugePages_Total:  6\nDirectMap4k: 7 kB\n",
        "MemTotal :      17 kB\nActive(anon):   5 kB\n",
        "MemTotal:       17 kB\nMemTotal:   18 kB\n",
        "MemTotal:       -3 kB\nActive(anon):\t5\tkB\t\n",
        "",
        "MemTotal:       16 kB\nActive(anon):   2 kB\nHugePages_Total:  3\nDirectMap4k: 4 kB\n",
    };
    vg_buf want = VG_BUF_INIT, got = VG_BUF_INIT, file = VG_BUF_INIT;
    proc_meminfo_plan *plan = proc_meminfo_plan_new();
    assert_non_null(plan);
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i <= sizeof in / sizeof in[0]; i++) {
            const char *text = i < sizeof in / sizeof in[0] ? in[i] : NULL;
            if (!text) { /* this machine's own file, if any */
                if (vg_buf_read_file(&file, "/proc/meminfo", 1 << 20) != 0)
                    continue;
                text = file.data;
            }
            for (int rep = 0; rep < 2; rep++) {
                unsigned sk_want, sk_got;
                int rc_want, rc_got;
                parse_one(NULL, text, &want, &sk_want, &rc_want);
                parse_one(plan, text, &got, &sk_got, &rc_got);
                assert_int_equal(rc_got, rc_want);
                assert_int_equal(sk_got, sk_want);
                assert_int_equal(got.len, want.len);
                if (want.len)
                    assert_memory_equal(got.data, want.data, want.len);
            }
        }
    }
    proc_meminfo_plan_free(plan);
    vg_buf_release(&want);
    vg_buf_release(&got);
    vg_buf_release(&file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_huge),
        cmocka_unit_test(test_collect),
        cmocka_unit_test(test_plan_matches_plain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
