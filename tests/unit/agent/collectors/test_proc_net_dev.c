/* Unit tests for the netdev collector (agent/collectors/proc_net_dev.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <regex.h>

#include "collectors/proc_net_dev.h"
#include "proc_test_util.h"

static const char *const HDR =
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
    "drop fifo colls carrier compressed\n";

static void test_default_exclude(void **st)
{
    static const char *const names[] = {
        "lo", "lo0", "eth0", "veth1234", "cali0a1b", "flannel.1", "cni0", "lxc12", "tunl0",
        "vxlan.calico", "vxlan", "bond0", "eno1", "ens3", "docker0", "kube-ipvs0", "wg0",
        "xveth", "Veth1", "", "l", "calico",
    };
    regex_t re;
    assert_int_equal(regcomp(&re, NETDEV_EXCLUDE_DEFAULT, REG_EXTENDED | REG_NOSUB), 0);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        bool want = regexec(&re, names[i], 0, NULL, 0) == 0;
        if (want != proc_net_dev_default_excluded(names[i]))
            fail_msg("default exclude disagrees with the regexp on \"%s\"", names[i]);
    }
    regfree(&re);
    assert_true(proc_net_dev_pod_iface("cali123"));
    assert_false(proc_net_dev_pod_iface("lo"));
}

static void test_parse_line(void **st)
{
    net_dev_line d;
    vg_slice l = {"  eth0: 72164830    1378    0    0    0     0          0         0    64307 "
                  "804    0    0    0     0       0          0",
                  0};
    l.n = strlen(l.p);
    assert_int_equal(proc_net_dev_parse_line(l, &d), 0);
    assert_true(vg_slice_eq(d.name, "eth0"));
    assert_int_equal(d.v[0], 72164830);
    assert_int_equal(d.v[9], 804);
    /* a long counter glued to the colon */
    const char *g = "eth1:18446744073709551615 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15";
    assert_int_equal(proc_net_dev_parse_line((vg_slice){g, strlen(g)}, &d), 0);
    assert_true(d.v[0] == UINT64_MAX);
    const char *h = "Inter-|   Receive |  Transmit";
    assert_int_equal(proc_net_dev_parse_line((vg_slice){h, strlen(h)}, &d), -ENODATA);
    const char *bad[] = {"eth0 1 2 3", "eth0: 1 2 3", ": 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16",
                         "eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 x",
                         "eth0: -1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16",
                         "a b: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(proc_net_dev_parse_line((vg_slice){bad[i], strlen(bad[i])}, &d), -EINVAL);
}

static int fake_nohandler(void *ud, const char *dev, uint64_t *out)
{
    (void)ud;
    if (strcmp(dev, "eth0") != 0)
        return -ENOENT;
    *out = 42;
    return 0;
}

static void test_parse(void **st)
{
    vg_buf b = VG_BUF_INIT;
    vg_buf_puts(&b, HDR);
    vg_buf_puts(&b, "    lo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"
                    "  eth0: 100 200 1 2 3 4 5 6 300 400 7 8 9 10 11 12\n"
                    "  veth9: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"
                    "  eth2: broken\n"
                    "  eth3: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n");
    vg_scrape *s;
    vg_scrape_new(&s);
    unsigned skipped = 0;
    assert_int_equal(proc_net_dev_parse(b.data, b.len, NULL, NULL, fake_nohandler, NULL, s,
                                        &skipped),
                     2);
    assert_int_equal(skipped, 1);
    assert_true(pt_value(s, "node_network_receive_bytes_total", 1, "eth0") == 100);
    assert_true(pt_value(s, "node_network_receive_errs_total", 1, "eth0") == 1);
    assert_true(pt_value(s, "node_network_receive_drop_total", 1, "eth0") == 2);
    assert_true(pt_value(s, "node_network_receive_fifo_total", 1, "eth0") == 3);
    assert_true(pt_value(s, "node_network_receive_frame_total", 1, "eth0") == 4);
    assert_true(pt_value(s, "node_network_receive_compressed_total", 1, "eth0") == 5);
    assert_true(pt_value(s, "node_network_receive_multicast_total", 1, "eth0") == 6);
    assert_true(pt_value(s, "node_network_transmit_packets_total", 1, "eth0") == 400);
    assert_true(pt_value(s, "node_network_transmit_colls_total", 1, "eth0") == 10);
    assert_true(pt_value(s, "node_network_transmit_carrier_total", 1, "eth0") == 11);
    assert_true(pt_value(s, "node_network_transmit_compressed_total", 1, "eth0") == 12);
    assert_true(pt_value(s, "node_network_receive_nohandler_total", 1, "eth0") == 42);
    assert_true(isnan(pt_value(s, "node_network_receive_nohandler_total", 1, "eth3")));
    assert_true(pt_value(s, "node_network_transmit_compressed_total", 1, "eth3") == 16);
    assert_true(isnan(pt_value(s, "node_network_receive_bytes_total", 1, "lo")));
    assert_true(isnan(pt_value(s, "node_network_receive_bytes_total", 1, "veth9")));
    assert_int_equal(pt_type(s, "node_network_receive_bytes_total"), VG_MT_COUNTER);
    char *text = pt_text(s);
    assert_non_null(strstr(text, "# HELP node_network_receive_bytes_total Network device "
                                 "statistic receive_bytes.\n"));
    free(text);

    /* a custom exclude keeps lo and the pod interfaces */
    field_filter ex;
    field_filter_init(&ex, NETDEV_EXCLUDE_DEFAULT, proc_net_dev_default_excluded);
    assert_int_equal(field_filter_set(&ex, "^eth3$"), 0);
    vg_scrape_reset(s);
    assert_int_equal(proc_net_dev_parse(b.data, b.len, NULL, &ex, NULL, NULL, s, &skipped), 3);
    assert_true(pt_value(s, "node_network_receive_bytes_total", 1, "veth9") == 1);
    field_filter_release(&ex);
    /* headers only: nothing to report, but not malformed */
    vg_scrape_reset(s);
    assert_int_equal(proc_net_dev_parse(HDR, strlen(HDR), NULL, NULL, NULL, NULL, s, &skipped),
                     -EINVAL);
    vg_scrape_free(s);
    vg_buf_release(&b);
}

static void test_collector(void **st)
{
    pt_env env;
    pt_ctx(&env, "baremetal-k8s");
    vg_scrape *s;
    vg_scrape_new(&s);
    assert_int_equal(pt_collect(&agent_collector_netdev, &env, s), 0);
    /* lo and every CNI interface left out by default */
    assert_int_equal(pt_count(s, "node_network_receive_bytes_total"), 5);
    assert_true(isnan(pt_value(s, "node_network_receive_bytes_total", 1, "cali7d1b2c3d4e5")));
    assert_true(pt_value(s, "node_network_receive_nohandler_total", 1, "eno1") == 12);
    vg_scrape_free(s);
    pt_done(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_exclude),
        cmocka_unit_test(test_parse_line),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_collector),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
