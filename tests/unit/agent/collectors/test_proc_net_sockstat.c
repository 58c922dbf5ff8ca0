/* Unit tests for the sockstat collector (agent/collectors/proc_net_sockstat.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "collectors/proc_net_sockstat.h"
#include "proc_test_util.h"

static void test_good(void **st)
{
    const char *v4 = "sockets: used 18\n"
                     "TCP: inuse 2 orphan 1 tw 3 alloc 4 mem 5\n"
                     "UDP: inuse 6 mem 7\n"
                     "UDPLITE: inuse 0\n"
                     "RAW: inuse 0\n"
                     "FRAG: inuse 0 memory 8\n";
    const char *v6 = "TCP6: inuse 9\nUDP6: inuse 0\nUDPLITE6: inuse 0\nRAW6: inuse 0\n"
                     "FRAG6: inuse 0 memory 0\n";
    vg_scrape *s;
    vg_scrape_new(&s);
    unsigned skipped = 0;
    assert_int_equal(proc_net_sockstat_parse(v4, strlen(v4), false, 4096, s, &skipped), 6);
    assert_int_equal(proc_net_sockstat_parse(v6, strlen(v6), true, 4096, s, &skipped), 5);
    assert_int_equal(skipped, 0);
    assert_true(pt_value(s, "node_sockstat_sockets_used", 0) == 18);
    assert_true(pt_value(s, "node_sockstat_TCP_inuse", 0) == 2);
    assert_true(pt_value(s, "node_sockstat_TCP_orphan", 0) == 1);
    assert_true(pt_value(s, "node_sockstat_TCP_tw", 0) == 3);
    assert_true(pt_value(s, "node_sockstat_TCP_alloc", 0) == 4);
    assert_true(pt_value(s, "node_sockstat_TCP_mem", 0) == 5);
    assert_true(pt_value(s, "node_sockstat_TCP_mem_bytes", 0) == 5 * 4096);
    assert_true(pt_value(s, "node_sockstat_UDP_mem_bytes", 0) == 7 * 4096);
    assert_true(pt_value(s, "node_sockstat_FRAG_memory", 0) == 8);
    assert_int_equal(pt_count(s, "node_sockstat_FRAG_memory_bytes"), 0);
    assert_true(pt_value(s, "node_sockstat_TCP6_inuse", 0) == 9);
    assert_true(pt_value(s, "node_sockstat_FRAG6_memory", 0) == 0);
    assert_int_equal(pt_type(s, "node_sockstat_TCP_inuse"), VG_MT_GAUGE);
    char *text = pt_text(s);
    assert_non_null(strstr(text, "# HELP node_sockstat_TCP_tw Number of TCP sockets in state tw.\n"));
    free(text);
    vg_scrape_free(s);
}

static void test_malformed_and_huge(void **st)
{
    const char *v4 = "sockets: used 18446744073709551615\n"
                     "TCP: inuse 2 orphan 0 tw 0 alloc 2 mem\n" /* odd pairs */
                     "UDP: inuse 0 mem 18446744073709551615\n"
                     "UDPLITE inuse 0\n"                        /* no colon */
                     "RAW: inuse x\n"                           /* bad number */
                     "FRAG: memory 5\n"                         /* inuse missing -> 0 */
                     "NEW: weird 3\n"                           /* unknown key: inuse 0 only */
                     "B-D: inuse 1\n"                           /* bad protocol name */
                     "UDP: inuse 1\n"                           /* repeated: duplicate */
                     "X: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"; /* too long */
    vg_scrape *s;
    vg_scrape_new(&s);
    unsigned skipped = 0;
    assert_int_equal(proc_net_sockstat_parse(v4, strlen(v4), false, 4096, s, &skipped), 5);
    assert_int_equal(skipped, 5);
    assert_true(pt_value(s, "node_sockstat_sockets_used", 0) == 18446744073709551615.0);
    assert_true(pt_value(s, "node_sockstat_UDP_inuse", 0) == 0);
    assert_true(pt_value(s, "node_sockstat_UDP_mem_bytes", 0) ==
                18446744073709551615.0 * 4096);
    assert_true(pt_value(s, "node_sockstat_FRAG_inuse", 0) == 0);
    assert_true(pt_value(s, "node_sockstat_FRAG_memory", 0) == 5);
    assert_true(pt_value(s, "node_sockstat_NEW_inuse", 0) == 0);
    assert_int_equal(pt_count(s, "node_sockstat_TCP_inuse"), 0);
    assert_int_equal(pt_count(s, "node_sockstat_RAW_inuse"), 0);
    vg_scrape_free(s);

    /* sockets: used is IPv4 only */
    vg_scrape_new(&s);
    assert_int_equal(proc_net_sockstat_parse("sockets: used 3\n", 16, true, 4096, s, &skipped), 1);
    assert_int_equal(pt_count(s, "node_sockstat_sockets_used"), 0);
    assert_int_equal(proc_net_sockstat_parse("", 0, false, 4096, s, &skipped), -EINVAL);
    vg_scrape_free(s);
}

static void test_collect(void **st)
{
    pt_env env;
    vg_scrape *s;
    vg_scrape_new(&s);
    pt_ctx(&env, "real-debian");
    assert_int_equal(pt_collect(&agent_collector_sockstat, &env, s), 0);
    assert_int_equal(pt_count(s, "node_sockstat_TCP_inuse"), 1);
    assert_int_equal(pt_count(s, "node_sockstat_TCP6_inuse"), 1);
    pt_done(&env);
    vg_scrape_reset(s);
    /* IPv6 disabled: only sockstat */
    pt_ctx_tmp(&env);
    pt_tree_write(&env, AGENT_ROOT_PROC, "/net/sockstat", "TCP: inuse 1\n");
    assert_int_equal(pt_collect(&agent_collector_sockstat, &env, s), 0);
    assert_true(pt_value(s, "node_sockstat_TCP_inuse", 0) == 1);
    pt_done(&env);
    vg_scrape_reset(s);
    pt_ctx(&env, "missing-files");
    assert_int_equal(pt_collect(&agent_collector_sockstat, &env, s), -ENOENT);
    assert_int_equal(vg_scrape_family_count(s), 0);
    pt_done(&env);
    vg_scrape_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_malformed_and_huge),
        cmocka_unit_test(test_collect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
