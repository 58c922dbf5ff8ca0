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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_malformed_and_huge),
        cmocka_unit_test(test_default_matches_regex),
        cmocka_unit_test(test_custom_filter),
        cmocka_unit_test(test_collect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
