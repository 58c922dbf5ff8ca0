/* Unit tests for the vmstat collector (agent/collectors/proc_vmstat.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <regex.h>

#include "collectors/proc_vmstat.h"
#include "vg_parse.h"
#include "vg_prom.h"
#include "proc_test_util.h"

static void test_good(void **st)
{
    const char *in = "nr_free_pages 5870063\n"
                     "pgpgin 1384905\n"
                     "pgpgout 713324\n"
                     "pswpin 0\n"
                     "pswpout 0\n"
                     "pgfault 1900526\n"
                     "pgmajfault 1202\n"
                     "pgsteal_kswapd 0\n"
                     "oom_kill 3\n"
                     "thp_fault_alloc 9\n";
    vg_scrape *s;
    vg_scrape_new(&s);
    unsigned skipped = 0;
    assert_int_equal(proc_vmstat_parse(in, strlen(in), NULL, s, &skipped), 7);
    assert_int_equal(skipped, 0);
    assert_true(pt_value(s, "node_vmstat_pgpgin", 0) == 1384905);
    assert_true(pt_value(s, "node_vmstat_pgmajfault", 0) == 1202);
    assert_true(pt_value(s, "node_vmstat_oom_kill", 0) == 3);
    assert_int_equal(pt_count(s, "node_vmstat_nr_free_pages"), 0);
    assert_int_equal(pt_count(s, "node_vmstat_thp_fault_alloc"), 0);
    assert_int_equal(pt_type(s, "node_vmstat_pgfault"), VG_MT_UNTYPED);
    char *text = pt_text(s);
    assert_non_null(strstr(text, "# HELP node_vmstat_pgfault /proc/vmstat information field "
                                 "pgfault.\n"));
    free(text);
    vg_scrape_free(s);
}

static void test_malformed_and_huge(void **st)
{
    const char *in = "pgpgin 18446744073709551615\n"
                     "pgpgout abc\n"
                     "pswpin\n"
                     "pswpout 0 0\n"
                     "pgfault 18446744073709551616\n"
                     "pgmajfault 1202\n"
                     "oom_kill -3\n"
                     "bad-name 5\n"
                     "pgmajfault 1\n"
                     "nr_foo x\n"   /* not selected: its value is not checked */
                     "pgpgin_x 7";  /* truncated line, no newline */
    vg_scrape *s;
    vg_scrape_new(&s);
    unsigned skipped = 0;
    assert_int_equal(proc_vmstat_parse(in, strlen(in), NULL, s, &skipped), 4);
    assert_int_equal(skipped, 6);
    assert_true(pt_value(s, "node_vmstat_pgpgin", 0) == 18446744073709551615.0);
    assert_true(pt_value(s, "node_vmstat_oom_kill", 0) == -3);
    assert_true(pt_value(s, "node_vmstat_pgmajfault", 0) == 1202);
    assert_true(pt_value(s, "node_vmstat_pgpgin_x", 0) == 7);
    vg_scrape_free(s);

    vg_scrape_new(&s);
    assert_int_equal(proc_vmstat_parse("garbage line here\n", 18, NULL, s, &skipped), -EINVAL);
    assert_int_equal(proc_vmstat_parse("", 0, NULL, s, &skipped), -EINVAL);
    /* well-formed but nothing selected is fine */
    assert_int_equal(proc_vmstat_parse("nr_x 1\n", 7, NULL, s, &skipped), 0);
    assert_int_equal(vg_scrape_family_count(s), 0);
    vg_scrape_free(s);
}

/* The hand-written matcher must agree with the regex it stands for. */
static void test_default_matches_regex(void **st)
{
    regex_t re;
    assert_int_equal(regcomp(&re, PROC_VMSTAT_FIELDS_DEFAULT, REG_EXTENDED | REG_NOSUB), 0);
    static const char *const extra[] = {
        "oom_kill", "oom_kill_x", "oom_kil", "pgpg", "pgpgin", "pswp", "pswpout", "pgfault",
        "pgmajfault", "pg_fault", "pgfaul", "pg", "fault", "xpgfault", "nr_pgfault",
        "pgsteal_kswapd", "pgdemote_fault_x", "PGFAULT", "", "p", "o", "pXfault", "ofault",
    };
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++)
        assert_int_equal(proc_vmstat_default_match(extra[i]),
                         regexec(&re, extra[i], 0, NULL, 0) == 0);
    /* every field name this machine's kernel has */
    vg_buf b = VG_BUF_INIT;
    if (vg_buf_read_file(&b, "/proc/vmstat", 1 << 20) == 0) {
        vg_lines it;
        vg_slice line;
        vg_lines_init(&it, b.data, b.len);
        while (vg_lines_next(&it, &line)) {
            vg_slice f[2];
            if (vg_fields(line, f, 2) < 1)
                continue;
            char name[128];
            vg_slice_copy(f[0], name, sizeof name);
            assert_int_equal(proc_vmstat_default_match(name),
                             regexec(&re, name, 0, NULL, 0) == 0);
        }
    }
    vg_buf_release(&b);
    regfree(&re);
}

static void test_custom_filter(void **st)
{
    field_filter f;
    field_filter_init(&f, PROC_VMSTAT_FIELDS_DEFAULT, proc_vmstat_default_match);
    assert_int_equal(field_filter_set(&f, "^nr_"), 0);
    const char *in = "nr_free_pages 5\npgpgin 1\nnr_zspages 0\n";
    vg_scrape *s;
    vg_scrape_new(&s);
    unsigned skipped = 0;
    assert_int_equal(proc_vmstat_parse(in, strlen(in), &f, s, &skipped), 2);
    assert_true(pt_value(s, "node_vmstat_nr_free_pages", 0) == 5);
    assert_int_equal(pt_count(s, "node_vmstat_pgpgin"), 0);
    vg_scrape_free(s);
    field_filter_release(&f);
}

static void test_collect(void **st)
{
    pt_env env;
    vg_scrape *s;
    vg_scrape_new(&s);
    pt_ctx(&env, "real-debian");
    assert_int_equal(pt_collect(&agent_collector_vmstat, &env, s), 0);
    assert_int_equal(pt_count(s, "node_vmstat_pgfault"), 1);
    assert_int_equal(pt_count(s, "node_vmstat_nr_free_pages"), 0);
    pt_done(&env);
    vg_scrape_reset(s);
    pt_ctx(&env, "missing-files");
    assert_int_equal(pt_collect(&agent_collector_vmstat, &env, s), -ENOENT);
    assert_int_equal(vg_scrape_family_count(s), 0);
    pt_done(&env);
    vg_scrape_free(s);
}

static void parse_one(proc_vmstat_plan *plan, const char *in, const field_filter *f,
                      vg_buf *text, unsigned *skipped, int *rc)
{
    vg_scrape *s;
    vg_scrape_new(&s);
    *skipped = 0;
    *rc = plan ? proc_vmstat_parse_planned(plan, in, strlen(in), f, s, skipped)
               : proc_vmstat_parse(in, strlen(in), f, s, skipped);
    vg_buf_reset(text);
    assert_int_equal(vg_prom_encode(s, VG_PROM_TEXT, text), 0);
    vg_scrape_free(s);
}

/* A kept plan must give exactly the plain parse's series and skip counts
 * over scrapes whose names, values and filter change. */
static void test_plan_matches_plain(void **st)
{
    static const char *const in[] = {
        "nr_free_pages 10\npgpgin 20\npgfault 30\noom_kill 0\nnr_x -4\n",
        "nr_free_pages 11\npgpgin 21\npgfault 31\noom_kill 1\nnr_x -5\n",
        "nr_free_pages 11\npgpgin x21\npgfault 31\noom_kill 1\nnr_x -5\n",
        "nr_free_pages 11\npgpgin 21 22\npgfault 31\noom_kill 1\nnr_x -5\n",
        "nr_free_pages 11\npgpgin\npgfault 31\noom_kill 1\nnr_x -5\n",
        "nr_free_pages 11\npgpgout 21\npgfault 31\noom_kill 1\nnr_x -5\n",
        "nr_free_pages 11\npgpgin 21\npgfault 31\noom_kill 1\nnr_x -5\npswpin 3\n",
        "nr_free_pages 11\npgpgin 21\npgfault 31\n",
        "nr_free_pages 11\n  pgpgin 21\npgfault 31\n",
        "nr_free_pages 11\npgpgin 21\t\npgfault 31\n",
        "nr_free_pages 11\npgpgin 21\n\npgfault 31\n",
        "pgpginx 1\n",
        "",
        "nr_free_pages 10\npgpgin 20\npgfault 30\noom_kill 0\nnr_x -4\n",
    };
    field_filter *custom, *deflt;
    assert_int_equal(field_filter_new(PROC_VMSTAT_FIELDS_DEFAULT, proc_vmstat_default_match,
                                      "^(nr_.*|pgpgin)$", &custom),
                     0);
    assert_int_equal(field_filter_new(PROC_VMSTAT_FIELDS_DEFAULT, proc_vmstat_default_match,
                                      NULL, &deflt),
                     0);
    vg_buf want = VG_BUF_INIT, got = VG_BUF_INIT, file = VG_BUF_INIT;
    proc_vmstat_plan *plan = proc_vmstat_plan_new();
    assert_non_null(plan);
    for (int pass = 0; pass < 3; pass++) {
        const field_filter *f = pass == 1 ? custom : (pass == 0 ? NULL : deflt);
        for (size_t i = 0; i <= sizeof in / sizeof in[0]; i++) {
            const char *text = i < sizeof in / sizeof in[0] ? in[i] : NULL;
            if (!text) { /* this machine's own file, if any */
                if (vg_buf_read_file(&file, "/proc/vmstat", 1 << 20) != 0)
                    continue;
                text = file.data;
            }
            for (int rep = 0; rep < 2; rep++) {
                unsigned sk_want, sk_got;
                int rc_want, rc_got;
                parse_one(NULL, text, f, &want, &sk_want, &rc_want);
                parse_one(plan, text, f, &got, &sk_got, &rc_got);
                assert_int_equal(rc_got, rc_want);
                assert_int_equal(sk_got, sk_want);
                assert_int_equal(got.len, want.len);
                if (want.len)
                    assert_memory_equal(got.data, want.data, want.len);
            }
        }
    }
    proc_vmstat_plan_free(plan);
    vg_buf_release(&want);
    vg_buf_release(&got);
    vg_buf_release(&file);
    field_filter_free(custom);
    field_filter_free(deflt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_malformed_and_huge),
        cmocka_unit_test(test_default_matches_regex),
        cmocka_unit_test(test_custom_filter),
        cmocka_unit_test(test_collect),
        cmocka_unit_test(test_plan_matches_plain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
