/* Unit tests for the netclass collector (agent/collectors/sys_class_net.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "collectors/sys_class_net.h"
#include "proc_test_util.h"

static void emit_one(const netclass_iface *ifc, bool ignore, vg_scrape *s)
{
    netclass_fams f;
    sys_class_net_declare(s, &f);
    sys_class_net_emit(&f, ifc, ignore);
}

static int put(netclass_iface *ifc, const char *attr, const char *v)
{
    return sys_class_net_attr_parse(ifc, attr, v, strlen(v));
}

static void test_attr_parse(void **st)
{
    netclass_iface ifc;
    memset(&ifc, 0, sizeof ifc);
    strcpy(ifc.name, "eth0");
    assert_int_equal(put(&ifc, "flags", "0x1003\n"), 0);
    assert_int_equal(ifc.v[NC_FLAGS], 4099);
    assert_int_equal(put(&ifc, "speed", "-1\n"), 0);
    assert_int_equal(ifc.v[NC_SPEED], -1);
    assert_int_equal(put(&ifc, "mtu", " 1500 \n"), 0);
    assert_int_equal(ifc.v[NC_MTU], 1500);
    assert_int_equal(put(&ifc, "operstate", "up\n"), 0);
    assert_string_equal(ifc.str[NC_OPERSTATE], "up");
    assert_int_equal(put(&ifc, "ifalias", "\n"), 0);
    assert_string_equal(ifc.str[NC_IFALIAS], "");
    assert_int_equal(put(&ifc, "address", "02:fc:00:00:00:01\n"), 0);
    /* errors leave the interface unchanged */
    assert_int_equal(put(&ifc, "mtu", "\n"), -EINVAL);
    assert_int_equal(put(&ifc, "mtu", "15x"), -EINVAL);
    assert_int_equal(ifc.v[NC_MTU], 1500);
    assert_int_equal(put(&ifc, "carrier", "99999999999999999999"), -EINVAL);
    assert_false(ifc.has[NC_CARRIER]);
    char longv[400];
    memset(longv, 'a', sizeof longv - 1);
    longv[sizeof longv - 1] = '\0';
    assert_int_equal(put(&ifc, "ifalias", longv), -EFBIG);
    assert_int_equal(put(&ifc, "uevent", "x"), -ENOENT);
    /* invalid UTF-8 in an alias is repaired, not passed on */
    assert_int_equal(put(&ifc, "ifalias", "to \xff\xfe rack"), 0);
    assert_string_equal(ifc.str[NC_IFALIAS], "to \xef\xbf\xbd rack");
}

static void test_emit(void **st)
{
    netclass_iface ifc;
    memset(&ifc, 0, sizeof ifc);
    strcpy(ifc.name, "eth0");
    put(&ifc, "operstate", "up");
    put(&ifc, "address", "02:fc:00:00:00:01");
    put(&ifc, "broadcast", "ff:ff:ff:ff:ff:ff");
    put(&ifc, "duplex", "full");
    put(&ifc, "speed", "10000");
    put(&ifc, "carrier_changes", "2");
    put(&ifc, "carrier_up_count", "1");
    put(&ifc, "ifindex", "4");
    put(&ifc, "type", "1");
    put(&ifc, "tx_queue_len", "1000");
    vg_scrape *s;
    vg_scrape_new(&s);
    emit_one(&ifc, false, s);
    assert_true(pt_value(s, "node_network_up", 1, "eth0") == 1);
    assert_true(pt_value(s, "node_network_info", 6, "02:fc:00:00:00:01", "ff:ff:ff:ff:ff:ff", "eth0",
                         "full", "", "up") == 1);
    assert_true(pt_value(s, "node_network_speed_bytes", 1, "eth0") == 1250000000);
    assert_true(pt_value(s, "node_network_carrier_changes_total", 1, "eth0") == 2);
    assert_int_equal(pt_type(s, "node_network_carrier_changes_total"), VG_MT_COUNTER);
    assert_int_equal(pt_type(s, "node_network_carrier_up_changes_total"), VG_MT_COUNTER);
    assert_int_equal(pt_type(s, "node_network_iface_id"), VG_MT_GAUGE);
    assert_true(pt_value(s, "node_network_protocol_type", 1, "eth0") == 1);
    assert_true(pt_value(s, "node_network_transmit_queue_length", 1, "eth0") == 1000);
    assert_int_equal(pt_count(s, "node_network_carrier"), 0); /* absent attribute: no series */
    char *text = pt_text(s);
    assert_non_null(strstr(text, "# HELP node_network_iface_id Network device property: iface_id\n"));
    assert_non_null(strstr(text, "# HELP node_network_up Value is 1 if operstate is 'up', 0 "
                                 "otherwise.\n"));
    free(text);

    /* -1 Mbit/s is reported as node_exporter does, unless told to ignore it */
    put(&ifc, "speed", "-1");
    put(&ifc, "operstate", "down");
    vg_scrape_reset(s);
    emit_one(&ifc, false, s);
    assert_true(pt_value(s, "node_network_speed_bytes", 1, "eth0") == -125000);
    assert_true(pt_value(s, "node_network_up", 1, "eth0") == 0);
    vg_scrape_reset(s);
    emit_one(&ifc, true, s);
    assert_int_equal(pt_count(s, "node_network_speed_bytes"), 0);
    /* a speed whose byte rate would overflow int64 is dropped, not wrapped */
    put(&ifc, "speed", "9223372036854775807");
    vg_scrape_reset(s);
    emit_one(&ifc, false, s);
    assert_int_equal(pt_count(s, "node_network_speed_bytes"), 0);
    vg_scrape_free(s);
}

static void test_collector_real_debian(void **st)
{
    pt_env env;
    pt_ctx(&env, "real-debian");
    vg_scrape *s;
    vg_scrape_new(&s);
    assert_int_equal(pt_collect(&agent_collector_netclass, &env, s), 0);
    /* as node_exporter 1.5 reported this machine */
    assert_true(pt_value(s, "node_network_info", 6, "02:fc:00:00:00:01", "ff:ff:ff:ff:ff:ff", "eth0",
                         "unknown", "", "up") == 1);
    assert_true(pt_value(s, "node_network_info", 6, "00:00:00:00:00:00", "00:00:00:00:00:00", "lo",
                         "", "", "unknown") == 1);
    assert_true(pt_value(s, "node_network_flags", 1, "eth0") == 4099);
    assert_true(pt_value(s, "node_network_speed_bytes", 1, "eth0") == -125000);
    assert_true(pt_value(s, "node_network_mtu_bytes", 1, "lo") == 65536);
    assert_int_equal(pt_count(s, "node_network_carrier"), 2);     /* not the down ifb's */
    assert_int_equal(pt_count(s, "node_network_up"), 4);
    vg_scrape_free(s);
    pt_done(&env);
}

static void test_collector_pod_ifaces(void **st)
{
    pt_env env;
    pt_ctx(&env, "baremetal-k8s");
    vg_scrape *s;
    vg_scrape_new(&s);
    assert_int_equal(pt_collect(&agent_collector_netclass, &env, s), 0);
    /* bonding_masters is a file; CNI interfaces are ignored by default */
    assert_int_equal(pt_count(s, "node_network_up"), 6);
    assert_true(isnan(pt_value(s, "node_network_up", 1, "veth3f2e1d0c")));
    assert_true(pt_value(s, "node_network_info", 6, "3c:ec:ef:12:34:56", "ff:ff:ff:ff:ff:ff", "bond0",
                         "full", "uplink to tor-a1 (LACP)", "up") == 1);
    vg_scrape_free(s);
    pt_done(&env);
    /* no class/net: the collector fails */
    pt_ctx(&env, "missing-files");
    vg_scrape_new(&s);
    assert_int_equal(pt_collect(&agent_collector_netclass, &env, s), -ENOENT);
    vg_scrape_free(s);
    pt_done(&env);
}

static vg_config *load_cfg(const char *arg)
{
    const vg_opt_def *defs[1] = {agent_collector_netclass.opts};
    size_t ndefs[1] = {agent_collector_netclass.nopts};
    char *argv[3] = {"test", (char *)arg, NULL};
    char *envp[1] = {NULL};
    vg_config *cfg = NULL;
    vg_config_err err;
    if (vg_config_load(defs, ndefs, 1, arg ? 2 : 1, argv, envp, &cfg, &err))
        fail_msg("config: %s", err.msg);
    return cfg;
}

/* An interface with every attribute, as a temporary tree. */
static void write_iface(pt_env *env, const char *name, const char *mtu, const char *changes)
{
    static const char *const fixed[][2] = {
        {"address", "02:fc:00:00:00:01\n"}, {"broadcast", "ff:ff:ff:ff:ff:ff\n"},
        {"duplex", "full\n"}, {"ifalias", "\n"}, {"operstate", "up\n"},
        {"addr_assign_type", "0\n"}, {"carrier", "1\n"}, {"carrier_up_count", "1\n"},
        {"carrier_down_count", "0\n"}, {"dev_id", "0x0\n"}, {"dormant", "0\n"},
        {"flags", "0x1003\n"}, {"ifindex", "2\n"}, {"iflink", "2\n"}, {"link_mode", "0\n"},
        {"name_assign_type", "4\n"}, {"netdev_group", "0\n"}, {"speed", "1000\n"},
        {"tx_queue_len", "1000\n"}, {"type", "1\n"},
    };
    char rel[128];
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        snprintf(rel, sizeof rel, "/class/net/%s/%s", name, fixed[i][0]);
        pt_tree_write(env, AGENT_ROOT_SYS, rel, fixed[i][1]);
    }
    snprintf(rel, sizeof rel, "/class/net/%s/mtu", name);
    pt_tree_write(env, AGENT_ROOT_SYS, rel, mtu);
    snprintf(rel, sizeof rel, "/class/net/%s/carrier_changes", name);
    pt_tree_write(env, AGENT_ROOT_SYS, rel, changes);
}

static double scrape_mtu(const agent_collector *c, pt_env *env, void *state, const char *dev)
{
    vg_scrape *s;
    vg_scrape_new(&s);
    assert_int_equal(c->collect(&env->ctx, state, s), 0);
    double v = pt_value(s, "node_network_mtu_bytes", 1, dev);
    vg_scrape_free(s);
    return v;
}

/* The cached attributes: served from cache until a volatile one changes,
 * the interface is re-created, or the max age passes (0: never cached). */
static void test_collector_cache(void **st)
{
    const agent_collector *c = &agent_collector_netclass;
    pt_env env;
    pt_ctx_tmp(&env);
    write_iface(&env, "eth0", "1500\n", "1\n");
    vg_config *cfg = load_cfg(NULL);
    assert_true(vg_config_duration(cfg, "collector.netclass.attribute-max-age") == 60);
    vg_config_free(cfg);
    cfg = load_cfg("--collector.netclass.attribute-max-age=1h");
    env.ctx.cfg = cfg;
    void *state = NULL;
    assert_int_equal(c->init(&env.ctx, &state), 0);
    assert_true(scrape_mtu(c, &env, state, "eth0") == 1500);
    /* an mtu change alone waits for the max age */
    pt_tree_write(&env, AGENT_ROOT_SYS, "/class/net/eth0/mtu", "9000\n");
    assert_true(scrape_mtu(c, &env, state, "eth0") == 1500);
    /* a link event (carrier_changes moved) re-reads everything */
    pt_tree_write(&env, AGENT_ROOT_SYS, "/class/net/eth0/carrier_changes", "3\n");
    pt_tree_write(&env, AGENT_ROOT_SYS, "/class/net/eth0/carrier_up_count", "2\n");
    vg_scrape *s;
    vg_scrape_new(&s);
    assert_int_equal(c->collect(&env.ctx, state, s), 0);
    assert_true(pt_value(s, "node_network_mtu_bytes", 1, "eth0") == 9000);
    assert_true(pt_value(s, "node_network_carrier_changes_total", 1, "eth0") == 3);
    assert_true(pt_value(s, "node_network_carrier_up_changes_total", 1, "eth0") == 2);
    vg_scrape_free(s);
    /* so does an operstate or flags change */
    pt_tree_write(&env, AGENT_ROOT_SYS, "/class/net/eth0/mtu", "1400\n");
    pt_tree_write(&env, AGENT_ROOT_SYS, "/class/net/eth0/flags", "0x1002\n");
    assert_true(scrape_mtu(c, &env, state, "eth0") == 1400);
    /* volatile attributes are read on every scrape */
    pt_tree_write(&env, AGENT_ROOT_SYS, "/class/net/eth0/operstate", "down\n");
    vg_scrape_new(&s);
    assert_int_equal(c->collect(&env.ctx, state, s), 0);
    assert_true(pt_value(s, "node_network_up", 1, "eth0") == 0);
    vg_scrape_free(s);
    /* a re-created interface (another directory under the same name) is read whole */
    char from[PATH_MAX * 2], to[PATH_MAX * 2];
    snprintf(from, sizeof from, "%s/class/net/eth0", env.roots[AGENT_ROOT_SYS]);
    snprintf(to, sizeof to, "%s/class/net/old-eth0", env.roots[AGENT_ROOT_SYS]);
    assert_int_equal(rename(from, to), 0);
    write_iface(&env, "eth0", "1280\n", "3\n"); /* same volatile values as before */
    pt_tree_write(&env, AGENT_ROOT_SYS, "/class/net/eth0/operstate", "down\n");
    pt_tree_write(&env, AGENT_ROOT_SYS, "/class/net/eth0/flags", "0x1002\n");
    assert_true(scrape_mtu(c, &env, state, "eth0") == 1280);
    assert_true(scrape_mtu(c, &env, state, "old-eth0") == 1400);
    /* and the files kept open for the old one are not read for the new one */
    pt_tree_write(&env, AGENT_ROOT_SYS, "/class/net/eth0/operstate", "up\n");
    vg_scrape_new(&s);
    assert_int_equal(c->collect(&env.ctx, state, s), 0);
    assert_true(pt_value(s, "node_network_up", 1, "eth0") == 1);
    assert_true(pt_value(s, "node_network_up", 1, "old-eth0") == 0);
    vg_scrape_free(s);
    /* a vanished interface is forgotten, and read whole when it comes back */
    char cmd[PATH_MAX * 2 + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", to);
    assert_int_equal(system(cmd), 0);
    assert_true(isnan(scrape_mtu(c, &env, state, "old-eth0")));
    write_iface(&env, "old-eth0", "1300\n", "1\n");
    assert_true(scrape_mtu(c, &env, state, "old-eth0") == 1300);
    c->release(state);
    vg_config_free(cfg);

    /* max age 0: every attribute on every scrape */
    cfg = load_cfg("--collector.netclass.attribute-max-age=0s");
    env.ctx.cfg = cfg;
    assert_int_equal(c->init(&env.ctx, &state), 0);
    assert_true(scrape_mtu(c, &env, state, "eth0") == 1280);
    pt_tree_write(&env, AGENT_ROOT_SYS, "/class/net/eth0/mtu", "1500\n");
    assert_true(scrape_mtu(c, &env, state, "eth0") == 1500);
    c->release(state);
    vg_config_free(cfg);
    env.ctx.cfg = NULL;
    pt_done(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attr_parse),
        cmocka_unit_test(test_emit),
        cmocka_unit_test(test_collector_real_debian),
        cmocka_unit_test(test_collector_pod_ifaces),
        cmocka_unit_test(test_collector_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
