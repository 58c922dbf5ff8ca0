/* Unit tests for the netstat collector (agent/collectors/proc_net_snmp.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <regex.h>

#include "collectors/proc_net_snmp.h"
#include "proc_test_util.h"
#include "vg_parse.h"
#include "vg_prom.h"

static void test_pairs_good(void **st)
{
    const char *in = "Ip: Forwarding DefaultTTL InReceives InHdrErrors\n"
                     "Ip: 2 64 12345 0\n"
                     "Icmp: InMsgs InErrors InCsumErrors OutMsgs\n"
                     "Icmp: 1 0 0 3\n"
                     "Tcp: RtoAlgorithm MaxConn ActiveOpens PassiveOpens InSegs CurrEstab InErrs\n"
                     "Tcp: 1 -1 15 3 1384 2 0\n"
                     "Udp: InDatagrams NoPorts InErrors OutDatagrams\n"
                     "Udp: 26 0 0 27\n"
                     "UdpLite: InDatagrams InErrors\n"
                     "UdpLite: 0 0\n";
    vg_scrape *s;
    vg_scrape_new(&s);
    unsigned skipped = 0;
    int rc = proc_net_snmp_parse_pairs(in, strlen(in), NULL, s, &skipped);
    assert_int_equal(skipped, 0);
    assert_int_equal(rc, 14);
    assert_true(pt_value(s, "node_netstat_Ip_Forwarding", 0) == 2);
    assert_int_equal(pt_count(s, "node_netstat_Ip_DefaultTTL"), 0);
    assert_int_equal(pt_count(s, "node_netstat_Ip_InReceives"), 0);
    assert_int_equal(pt_count(s, "node_netstat_Ip_InHdrErrors"), 0);
    assert_true(pt_value(s, "node_netstat_Icmp_OutMsgs", 0) == 3);
    assert_true(pt_value(s, "node_netstat_Icmp_InErrors", 0) == 0);
    assert_int_equal(pt_count(s, "node_netstat_Icmp_InCsumErrors"), 0);
    assert_true(pt_value(s, "node_netstat_Tcp_InSegs", 0) == 1384);
    assert_true(pt_value(s, "node_netstat_Tcp_InErrs", 0) == 0);
    assert_int_equal(pt_count(s, "node_netstat_Tcp_MaxConn"), 0);
    assert_true(pt_value(s, "node_netstat_Udp_OutDatagrams", 0) == 27);
    assert_true(pt_value(s, "node_netstat_UdpLite_InErrors", 0) == 0);
    assert_int_equal(pt_type(s, "node_netstat_Tcp_InSegs"), VG_MT_UNTYPED);
    char *text = pt_text(s);
    assert_non_null(strstr(text, "# HELP node_netstat_Tcp_InSegs Statistic TcpInSegs.\n"));
    free(text);
    vg_scrape_free(s);
}

static void test_pairs_malformed(void **st)
{
    const char *in = "TcpExt: SyncookiesSent SyncookiesRecv ListenOverflows\n"
                     "TcpExt: 0 1\n"                 /* count mismatch */
                     "IpExt: InNoRoutes InOctets OutOctets\n"
                     "IpExt: 0 72149083 55924\n"
                     "Bogus: A B\n"                  /* protocol mismatch */
                     "Other: 1 2\n"
                     "Ip: Forwarding\n"
                     "Ip: x\n"                       /* bad value */
                     "Tcp: CurrEstab ActiveOpens\n"
                     "Tcp: -2 18446744073709551616\n" /* signed ok, overflow bad */
                     "Bad-Proto: InErrors\n"
                     "Bad-Proto: 1\n"
                     "MPTcpExt: MPCapableSYNRX\n";    /* header without values */
    vg_scrape *s;
    vg_scrape_new(&s);
    unsigned skipped = 0;
    assert_int_equal(proc_net_snmp_parse_pairs(in, strlen(in), NULL, s, &skipped), 3);
    assert_int_equal(skipped, 7);
    assert_true(pt_value(s, "node_netstat_IpExt_InOctets", 0) == 72149083);
    assert_true(pt_value(s, "node_netstat_IpExt_OutOctets", 0) == 55924);
    assert_true(pt_value(s, "node_netstat_Tcp_CurrEstab", 0) == -2);
    assert_int_equal(pt_count(s, "node_netstat_TcpExt_ListenOverflows"), 0);
    vg_scrape_free(s);

    vg_scrape_new(&s);
    assert_int_equal(proc_net_snmp_parse_pairs("", 0, NULL, s, &skipped), -EINVAL);
    assert_int_equal(proc_net_snmp_parse_pairs("garbage\n", 8, NULL, s, &skipped), -EINVAL);
    assert_int_equal(vg_scrape_family_count(s), 0);
    vg_scrape_free(s);
}

static void test_snmp6(void **st)
{
    const char *in = "Ip6InReceives                   \t14\n"
                     "Ip6InOctets 128\n"
                     "Ip6OutOctets 18446744073709551615\n"
                     "Icmp6InMsgs 1\n"
                     "Icmp6InErrors 0\n"
                     "Icmp6OutMsgs abc\n"       /* bad value */
                     "Icmp6InType133 1\n"
                     "Udp6InDatagrams 5 6\n"    /* three fields */
                     "NoSixHere 5\n"            /* ignored */
                     "UdpLite6InErrors 0\n"
                     "Udp6SndbufErrors";        /* truncated */
    vg_scrape *s;
    vg_scrape_new(&s);
    unsigned skipped = 0;
    assert_int_equal(proc_net_snmp_parse_snmp6(in, strlen(in), NULL, s, &skipped), 5);
    assert_int_equal(skipped, 3);
    assert_true(pt_value(s, "node_netstat_Ip6_InOctets", 0) == 128);
    assert_true(pt_value(s, "node_netstat_Ip6_OutOctets", 0) == 18446744073709551615.0);
    assert_true(pt_value(s, "node_netstat_Icmp6_InMsgs", 0) == 1);
    assert_true(pt_value(s, "node_netstat_Icmp6_InErrors", 0) == 0);
    assert_true(pt_value(s, "node_netstat_UdpLite6_InErrors", 0) == 0);
    assert_int_equal(pt_count(s, "node_netstat_Ip6_InReceives"), 0);
    vg_scrape_free(s);
}

static bool regex_match(const regex_t *re, const char *key)
{
    return regexec(re, key, 0, NULL, 0) == 0;
}

/* Check the built-in matcher against the regex on every key of a file. */
static void check_file_keys(const regex_t *re, const char *path, bool snmp6)
{
    vg_buf b = VG_BUF_INIT;
    if (vg_buf_read_file(&b, path, 1 << 20) != 0) {
        vg_buf_release(&b);
        return;
    }
    vg_lines it;
    vg_slice line;
    vg_lines_init(&it, b.data, b.len);
    while (vg_lines_next(&it, &line)) {
        vg_slice f[256];
        size_t nf = vg_fields(line, f, 256);
        if (nf < 2)
            continue;
        char key[160];
        if (snmp6) {
            const char *six = memchr(f[0].p, '6', f[0].n);
            if (!six)
                continue;
            int pl = (int)(six - f[0].p) + 1;
            snprintf(key, sizeof key, "%.*s_%.*s", pl, f[0].p, (int)f[0].n - pl, six + 1);
            assert_int_equal(proc_net_snmp_default_match(key), regex_match(re, key));
            continue;
        }
        if (f[1].p[0] >= '0' && f[1].p[0] <= '9')
            continue; /* a value line */
        for (size_t i = 1; i < nf; i++) {
            snprintf(key, sizeof key, "%.*s_%.*s", (int)f[0].n - 1, f[0].p, (int)f[i].n,
                     f[i].p);
            assert_int_equal(proc_net_snmp_default_match(key), regex_match(re, key));
        }
    }
    vg_buf_release(&b);
}

static void test_default_matches_regex(void **st)
{
    regex_t re;
    assert_int_equal(regcomp(&re, PROC_NET_SNMP_FIELDS_DEFAULT, REG_EXTENDED | REG_NOSUB), 0);
    static const char *const keys[] = {
        "Ip_Forwarding", "Ip_ForwardingX", "XIp_Forwarding", "Ip6_InOctets", "IpExt_OutOctets",
        "IpX_InOctets", "Icmp_InMsgs", "Icmp6_OutMsgs", "Icmp66_InMsgs", "IcmpMsg_InType3",
        "TcpExt_Listen", "TcpExt_ListenDrops", "TcpExt_SyncookiesFailed", "TcpExt_TCPTimeouts",
        "TcpExt_TCPSynRetransX", "Tcp_CurrEstab", "Tcp_MaxConn", "Udp_NoPorts", "Udp6_NoPorts",
        "Udp4_NoPorts", "UdpLite_InErrors", "Foo_Bar_InErrs", "_InErrors", "InErrors",
        "Tcp_InErrsX", "Ip6_InErrors", "", "Udp_SndbufErrors", "Udp_InCsumErrors",
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        assert_int_equal(proc_net_snmp_default_match(keys[i]), regex_match(&re, keys[i]));
    check_file_keys(&re, "/proc/net/netstat", false);
    check_file_keys(&re, "/proc/net/snmp", false);
    check_file_keys(&re, "/proc/net/snmp6", true);
    regfree(&re);
}

static void test_collect(void **st)
{
    pt_env env;
    vg_scrape *s;
    vg_scrape_new(&s);
    pt_ctx(&env, "real-debian");
    assert_int_equal(pt_collect(&agent_collector_netstat, &env, s), 0);
    assert_int_equal(pt_count(s, "node_netstat_Tcp_InSegs"), 1);
    assert_int_equal(pt_count(s, "node_netstat_Ip6_InOctets"), 1);
    assert_int_equal(pt_count(s, "node_netstat_TcpExt_ListenDrops"), 1);
    pt_done(&env);

    /* snmp6 is optional, netstat and snmp are not */
    vg_scrape_reset(s);
    pt_ctx_tmp(&env);
    pt_tree_write(&env, AGENT_ROOT_PROC, "/net/netstat", "IpExt: InOctets\nIpExt: 5\n");
    pt_tree_write(&env, AGENT_ROOT_PROC, "/net/snmp", "Ip: Forwarding\nIp: 1\n");
    assert_int_equal(pt_collect(&agent_collector_netstat, &env, s), 0);
    assert_true(pt_value(s, "node_netstat_IpExt_InOctets", 0) == 5);
    pt_done(&env);

    vg_scrape_reset(s);
    pt_ctx_tmp(&env);
    pt_tree_write(&env, AGENT_ROOT_PROC, "/net/netstat", "IpExt: InOctets\nIpExt: 5\n");
    assert_int_equal(pt_collect(&agent_collector_netstat, &env, s), -ENOENT);
    pt_done(&env);
    vg_scrape_reset(s);
    pt_ctx_tmp(&env); /* without netstat nothing is added */
    pt_tree_write(&env, AGENT_ROOT_PROC, "/net/snmp", "Ip: Forwarding\nIp: 1\n");
    assert_int_equal(pt_collect(&agent_collector_netstat, &env, s), -ENOENT);
    assert_int_equal(vg_scrape_family_count(s), 0);
    pt_done(&env);

    pt_ctx(&env, "missing-files");
    assert_int_equal(pt_collect(&agent_collector_netstat, &env, s), -ENOENT);
    assert_int_equal(vg_scrape_family_count(s), 0);
    pt_done(&env);
    vg_scrape_free(s);
}

/* More selected fields in one line than wait in the parser's buffer: a
 * second walk adds them, in order, and a count mismatch still drops all. */
static void test_pairs_many_selected(void **st)
{
    field_filter *all;
    assert_int_equal(field_filter_new(PROC_NET_SNMP_FIELDS_DEFAULT, proc_net_snmp_default_match,
                                      "^TcpExt_.*$", &all),
                     0);
    static char in[20000];
    size_t k = 0;
    k += (size_t)snprintf(in + k, sizeof in - k, "TcpExt:");
    for (int i = 0; i < 300; i++)
        k += (size_t)snprintf(in + k, sizeof in - k, " F%d", i);
    k += (size_t)snprintf(in + k, sizeof in - k, "\nTcpExt:");
    for (int i = 0; i < 300; i++)
        k += (size_t)snprintf(in + k, sizeof in - k, " %d", i == 7 ? -1 : i);
    k += (size_t)snprintf(in + k, sizeof in - k, "\nTcpExt: G0 G1\nTcpExt: 1 2 3\n");
    vg_scrape *s;
    vg_scrape_new(&s);
    unsigned skipped = 0;
    assert_int_equal(proc_net_snmp_parse_pairs(in, k, all, s, &skipped), 300);
    assert_int_equal(skipped, 1);
    assert_true(pt_value(s, "node_netstat_TcpExt_F0", 0) == 0);
    assert_true(pt_value(s, "node_netstat_TcpExt_F7", 0) == -1);
    assert_true(pt_value(s, "node_netstat_TcpExt_F299", 0) == 299);
    assert_int_equal(pt_count(s, "node_netstat_TcpExt_G0"), 0);
    vg_scrape_free(s);
    field_filter_free(all);
}

/* Text and skip count of one parse, planned or plain. */
static void parse_one(proc_net_snmp_plan *plan, bool six, const char *in,
                      const field_filter *f, vg_buf *text, unsigned *skipped, int *rc)
{
    vg_scrape *s;
    vg_scrape_new(&s);
    *skipped = 0;
    size_t n = strlen(in);
    if (six)
        *rc = plan ? proc_net_snmp_parse_snmp6_planned(plan, in, n, f, s, skipped)
                   : proc_net_snmp_parse_snmp6(in, n, f, s, skipped);
    else
        *rc = plan ? proc_net_snmp_parse_pairs_planned(plan, in, n, f, s, skipped)
                   : proc_net_snmp_parse_pairs(in, n, f, s, skipped);
    vg_buf_reset(text);
    assert_int_equal(vg_prom_encode(s, VG_PROM_TEXT, text), 0);
    vg_scrape_free(s);
}

/* A kept plan must give exactly the plain parse's series and skip counts
 * over a run of scrapes whose layout, values and filter change. */
static void test_plan_matches_plain(void **st)
{
    static const char *const pairs[] = {
        "TcpExt: SyncookiesSent ListenDrops TCPTimeouts Bad-Name TCPOFOQueue\n"
        "TcpExt: 1 2 3 4 5\n"
        "IpExt: InOctets OutOctets InNoRoutes\n"
        "IpExt: 100 200 0\n",
        /* same layout, new values: the plan serves it */
        "TcpExt: SyncookiesSent ListenDrops TCPTimeouts Bad-Name TCPOFOQueue\n"
        "TcpExt: 11 12 13 14 15\n"
        "IpExt: InOctets OutOctets InNoRoutes\n"
        "IpExt: 1100 1200 10\n",
        /* a garbled selected value */
        "TcpExt: SyncookiesSent ListenDrops TCPTimeouts Bad-Name TCPOFOQueue\n"
        "TcpExt: 11 x12 13 14 15\n"
        "IpExt: InOctets OutOctets InNoRoutes\n"
        "IpExt: 1100 1200 10\n",
        /* a value missing */
        "TcpExt: SyncookiesSent ListenDrops TCPTimeouts Bad-Name TCPOFOQueue\n"
        "TcpExt: 11 12 13 14\n"
        "IpExt: InOctets OutOctets InNoRoutes\n"
        "IpExt: 1100 1200 10\n",
        /* a field renamed (another kernel) */
        "TcpExt: SyncookiesSent ListenOverflows TCPTimeouts Bad-Name TCPOFOQueue\n"
        "TcpExt: 21 22 23 24 25\n"
        "IpExt: InOctets OutOctets InNoRoutes\n"
        "IpExt: 2100 2200 20\n",
        /* value line of another protocol, then a pair more */
        "TcpExt: SyncookiesSent ListenOverflows TCPTimeouts Bad-Name TCPOFOQueue\n"
        "IpExt: 21 22 23 24 25\n"
        "IpExt: InOctets OutOctets InNoRoutes\n"
        "IpExt: 2100 2200 20\n"
        "Udp: InDatagrams InErrors\n"
        "Udp: 7 8\n",
        /* back to the first layout, and a trailing header without values */
        "TcpExt: SyncookiesSent ListenDrops TCPTimeouts Bad-Name TCPOFOQueue\n"
        "TcpExt: 1 2 3 4 5\n"
        "IpExt: InOctets OutOctets InNoRoutes\n"
        "IpExt: 100 200 0\n"
        "Udp: InDatagrams\n",
        "TcpExt: SyncookiesSent ListenDrops TCPTimeouts Bad-Name TCPOFOQueue\n"
        "TcpExt: 1 2 3 4 5\n"
        "IpExt: InOctets OutOctets InNoRoutes\n"
        "IpExt: 100 200 0\n",
        "",
        "TcpExt: SyncookiesSent ListenDrops TCPTimeouts Bad-Name TCPOFOQueue\n"
        "TcpExt: 1 2 3 4 5\n"
        "\n"
        "IpExt: InOctets OutOctets InNoRoutes\n"
        "IpExt: 100 200 0\n",
    };
    static const char *const six[] = {
        "Ip6InReceives 10\nIp6InOctets 20\nIcmp6InMsgs 3\nUdp6InErrors 1\nNoSix 5\n",
        "Ip6InReceives 11\nIp6InOctets 21\nIcmp6InMsgs 4\nUdp6InErrors 2\nNoSix 6\n",
        "Ip6InReceives 11\nIp6InOctets bad\nIcmp6InMsgs 4\nUdp6InErrors 2\nNoSix 6\n",
        "Ip6InReceives 11\nIp6OutOctets 21\nIcmp6InMsgs 4\nUdp6InErrors 2\nNoSix 6\n",
        "Ip6InReceives 11\nIp6InOctets 21\nIcmp6InMsgs 4 9\nUdp6InErrors 2\n",
        "Ip6InReceives 11\nIp6InOctets 21\nIcmp6InMsgs 4\nUdp6InErrors 2\nUdp6NoPorts 7\n",
        "Ip6InReceives 11\nIp6InOctets 21\nIcmp6InMsgs 4\nUdp6InErrors 2\n",
        "NoSix 1\n",
        "Ip6InReceives 11\nIp6InOctets 21\nIcmp6InMsgs 4\nUdp6InErrors 2\n",
        "Ip6InReceives 11\n  Ip6InOctets 21\nIcmp6InMsgs 4\nUdp6InErrors 2\n",
        "Ip6InReceives 11\nIp6InOctets\t21 \r\nIcmp6InMsgs 4\nUdp6InErrors 2\n",
        "Ip6InReceives 11\nIp6InOctets\nIcmp6InMsgs 4\nUdp6InErrors 2\n",
        "Ip6InReceives 11\nIp6InOctetsX 21\nIcmp6InMsgs 4\nUdp6InErrors 2\n",
        "Ip6InReceives 11\nIp6InOctets 21\nIcmp6InMsgs 4\nUdp6InErrors 2\n\n",
        "Ip6InReceives 11\nIp6InOctets 21\nIcmp6InMsgs 4\nUdp6InErrors 2\n",
    };
    field_filter *custom;
    assert_int_equal(field_filter_new(PROC_NET_SNMP_FIELDS_DEFAULT, proc_net_snmp_default_match,
                                      "^(TcpExt_.*|Ip6_InReceives)$", &custom),
                     0);
    field_filter *deflt;
    assert_int_equal(field_filter_new(PROC_NET_SNMP_FIELDS_DEFAULT, proc_net_snmp_default_match,
                                      NULL, &deflt),
                     0);
    vg_buf want = VG_BUF_INIT, got = VG_BUF_INIT;
    for (int kind = 0; kind < 2; kind++) {
        const char *const *in = kind ? six : pairs;
        size_t n = kind ? sizeof six / sizeof six[0] : sizeof pairs / sizeof pairs[0];
        proc_net_snmp_plan *plan = proc_net_snmp_plan_new();
        assert_non_null(plan);
        /* each input twice in a row (the second served by its plan), under
         * the default, then the custom filter, then the default again */
        for (int pass = 0; pass < 3; pass++) {
            const field_filter *f = pass == 1 ? custom : (pass == 0 ? NULL : deflt);
            for (size_t i = 0; i < n; i++) {
                for (int rep = 0; rep < 2; rep++) {
                    unsigned sk_want, sk_got;
                    int rc_want, rc_got;
                    parse_one(NULL, kind, in[i], f, &want, &sk_want, &rc_want);
                    parse_one(plan, kind, in[i], f, &got, &sk_got, &rc_got);
                    assert_int_equal(rc_got, rc_want);
                    assert_int_equal(sk_got, sk_want);
                    assert_int_equal(got.len, want.len);
                    if (want.len)
                        assert_memory_equal(got.data, want.data, want.len);
                }
            }
        }
        proc_net_snmp_plan_free(plan);
    }
    /* this machine's own files, if any */
    static const char *const real[3] = {"/proc/net/netstat", "/proc/net/snmp", "/proc/net/snmp6"};
    for (int i = 0; i < 3; i++) {
        vg_buf file = VG_BUF_INIT;
        if (vg_buf_read_file(&file, real[i], 1 << 20) != 0) {
            vg_buf_release(&file);
            continue;
        }
        proc_net_snmp_plan *plan = proc_net_snmp_plan_new();
        for (int rep = 0; rep < 3; rep++) {
            unsigned sk_want, sk_got;
            int rc_want, rc_got;
            parse_one(NULL, i == 2, file.data, NULL, &want, &sk_want, &rc_want);
            parse_one(plan, i == 2, file.data, NULL, &got, &sk_got, &rc_got);
            assert_int_equal(rc_got, rc_want);
            assert_int_equal(sk_got, sk_want);
            assert_int_equal(got.len, want.len);
            assert_memory_equal(got.data, want.data, want.len);
        }
        proc_net_snmp_plan_free(plan);
        vg_buf_release(&file);
    }
    vg_buf_release(&want);
    vg_buf_release(&got);
    field_filter_free(custom);
    field_filter_free(deflt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pairs_good),
        cmocka_unit_test(test_pairs_malformed),
        cmocka_unit_test(test_pairs_many_selected),
        cmocka_unit_test(test_snmp6),
        cmocka_unit_test(test_default_matches_regex),
        cmocka_unit_test(test_collect),
        cmocka_unit_test(test_plan_matches_plain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
