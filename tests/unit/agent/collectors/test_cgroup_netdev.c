/*
 * test_cgroup_netdev.c - unit tests for the pod network namespace's
 * net/dev parser (agent/collectors/cgroup_netdev.h).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "collectors/cgroup_netdev.h"

#define HDR "Inter-|   Receive                                                |  Transmit\n" \
            " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"

static void test_real_file(void **state)
{
    (void)state;
    const char *t = HDR
        "    lo: 23102772   15567    0    0    0     0          0         0 23102772   15567    0    0    0     0       0          0\n"
        "  eth0: 72164830    1378    3    4    0     0          0         0    64307     804    5    6    0     0       0          0\n"
        "vethabc123:     1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"
        "eth1:18446744073709551615 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0\n";
    cgroup_netdev d[4];
    size_t n = 0;
    assert_int_equal(cgroup_netdev_parse(t, strlen(t), d, 4, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(d[0].name, "eth0");
    assert_int_equal(d[0].rx_bytes, 72164830);
    assert_int_equal(d[0].rx_packets, 1378);
    assert_int_equal(d[0].rx_errors, 3);
    assert_int_equal(d[0].rx_dropped, 4);
    assert_int_equal(d[0].tx_bytes, 64307);
    assert_int_equal(d[0].tx_packets, 804);
    assert_int_equal(d[0].tx_errors, 5);
    assert_int_equal(d[0].tx_dropped, 6);
    assert_string_equal(d[1].name, "eth1");
    assert_true(d[1].rx_bytes == UINT64_MAX);
}

static void test_damage(void **state)
{
    (void)state;
    const char *t = HDR
        "eth0 1 2 3\n"                                         /* no colon */
        "eth1: 1 2 3\n"                                        /* too few counters */
        "eth2: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 x\n"        /* not a number */
        "averyveryverylongname0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"
        ": 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"
        "ok0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n";
    cgroup_netdev d[4];
    size_t n = 0;
    assert_int_equal(cgroup_netdev_parse(t, strlen(t), d, 4, &n), -EINVAL);
    assert_int_equal(n, 1);
    assert_string_equal(d[0].name, "ok0");
    assert_int_equal(d[0].tx_dropped, 12);

    /* room for one: -E2BIG */
    const char *t2 = HDR "a: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\nb: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n";
    assert_int_equal(cgroup_netdev_parse(t2, strlen(t2), d, 1, &n), -E2BIG);
    assert_int_equal(n, 1);
    /* headers only / nothing */
    assert_int_equal(cgroup_netdev_parse(HDR, strlen(HDR), d, 4, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(cgroup_netdev_parse("", 0, d, 4, &n), 0);
    assert_int_equal(n, 0);
}

static void test_ignored(void **state)
{
    (void)state;
    assert_true(cgroup_netdev_ignored("lo"));
    assert_true(cgroup_netdev_ignored("veth1234"));
    assert_true(cgroup_netdev_ignored("docker0"));
    assert_true(cgroup_netdev_ignored("nerdctl0"));
    assert_true(cgroup_netdev_ignored("VETHx"));
    assert_false(cgroup_netdev_ignored("eth0"));
    assert_false(cgroup_netdev_ignored("cali123"));
    assert_false(cgroup_netdev_ignored("net1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_file),
        cmocka_unit_test(test_damage),
        cmocka_unit_test(test_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
