/* Unit tests for the uname collector (agent/collectors/proc_sys_kernel.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <sys/utsname.h>

#include "collectors/proc_sys_kernel.h"
#include "proc_test_util.h"

static void test_parse_field(void **st)
{
    proc_uname u;
    memset(&u, 0, sizeof u);
    assert_int_equal(proc_sys_kernel_parse_field("Linux\n", 6, PROC_UNAME_SYSNAME, &u), 0);
    assert_string_equal(u.f[PROC_UNAME_SYSNAME], "Linux");
    /* spaces are kept, only the final newline goes */
    assert_int_equal(proc_sys_kernel_parse_field("#1 SMP PREEMPT_DYNAMIC @0 \n", 27,
                                                 PROC_UNAME_VERSION, &u),
                     0);
    assert_string_equal(u.f[PROC_UNAME_VERSION], "#1 SMP PREEMPT_DYNAMIC @0 ");
    assert_int_equal(proc_sys_kernel_parse_field("", 0, PROC_UNAME_DOMAINNAME, &u), 0);
    assert_string_equal(u.f[PROC_UNAME_DOMAINNAME], "");
    assert_int_equal(proc_sys_kernel_parse_field("vm", 2, PROC_UNAME_NODENAME, &u), 0);
    assert_string_equal(u.f[PROC_UNAME_NODENAME], "vm");

    /* malformed: two lines, NUL, too long, bad field */
    assert_int_equal(proc_sys_kernel_parse_field("a\nb\n", 4, PROC_UNAME_NODENAME, &u), -EINVAL);
    assert_int_equal(proc_sys_kernel_parse_field("a\0b\n", 4, PROC_UNAME_NODENAME, &u), -EINVAL);
    char big[PROC_UNAME_MAX + 1];
    memset(big, 'x', sizeof big);
    assert_int_equal(proc_sys_kernel_parse_field(big, sizeof big, PROC_UNAME_NODENAME, &u),
                     -EINVAL);
    assert_int_equal(proc_sys_kernel_parse_field("x", 1, PROC_UNAME_NFIELDS, &u), -EINVAL);
    assert_string_equal(u.f[PROC_UNAME_NODENAME], "vm");
    assert_string_equal(proc_uname_file(PROC_UNAME_MACHINE), "arch");
    assert_null(proc_uname_file(PROC_UNAME_NFIELDS));
}

static void test_emit(void **st)
{
    proc_uname u;
    memset(&u, 0, sizeof u);
    strcpy(u.f[PROC_UNAME_SYSNAME], "Linux");
    strcpy(u.f[PROC_UNAME_RELEASE], "6.1.0");
    strcpy(u.f[PROC_UNAME_VERSION], "#1 SMP \"x\" \\");
    strcpy(u.f[PROC_UNAME_NODENAME], "node-1");
    strcpy(u.f[PROC_UNAME_DOMAINNAME], "(none)");
    strcpy(u.f[PROC_UNAME_MACHINE], "aarch64");
    vg_scrape *s;
    vg_scrape_new(&s);
    assert_int_equal(proc_sys_kernel_uname_emit(&u, s), 0);
    char *text = pt_text(s);
    assert_non_null(strstr(text, "node_uname_info{domainname=\"(none)\",machine=\"aarch64\","
                                 "nodename=\"node-1\",release=\"6.1.0\",sysname=\"Linux\","
                                 "version=\"#1 SMP \\\"x\\\" \\\\\"} 1\n"));
    assert_non_null(strstr(text, "# TYPE node_uname_info gauge\n"));
    free(text);
    vg_scrape_free(s);
}

static void test_collect(void **st)
{
    pt_env env;
    vg_scrape *s;
    vg_scrape_new(&s);
    pt_ctx(&env, "real-debian");
    assert_int_equal(pt_collect(&agent_collector_uname, &env, s), 0);
    assert_int_equal(pt_count(s, "node_uname_info"), 1);
    pt_done(&env);

    /* without arch the machine comes from uname(2) */
    vg_scrape_reset(s);
    pt_ctx_tmp(&env);
    pt_tree_write(&env, AGENT_ROOT_PROC, "/sys/kernel/ostype", "Linux\n");
    pt_tree_write(&env, AGENT_ROOT_PROC, "/sys/kernel/osrelease", "1.2.3\n");
    pt_tree_write(&env, AGENT_ROOT_PROC, "/sys/kernel/version", "#7\n");
    pt_tree_write(&env, AGENT_ROOT_PROC, "/sys/kernel/hostname", "h\n");
    pt_tree_write(&env, AGENT_ROOT_PROC, "/sys/kernel/domainname", "(none)\n");
    assert_int_equal(pt_collect(&agent_collector_uname, &env, s), 0);
    struct utsname un;
    uname(&un);
    assert_true(pt_value(s, "node_uname_info", 6, "(none)", un.machine, "h", "1.2.3", "Linux",
                         "#7") == 1);
    /* one state across scrapes: the host name is re-read, the release is not */
    void *state = NULL;
    assert_int_equal(agent_collector_uname.init(&env.ctx, &state), 0);
    vg_scrape_reset(s);
    assert_int_equal(agent_collector_uname.collect(&env.ctx, state, s), 0);
    pt_tree_write(&env, AGENT_ROOT_PROC, "/sys/kernel/hostname", "h2\n");
    pt_tree_write(&env, AGENT_ROOT_PROC, "/sys/kernel/osrelease", "9.9.9\n");
    vg_scrape_reset(s);
    assert_int_equal(agent_collector_uname.collect(&env.ctx, state, s), 0);
    assert_true(pt_value(s, "node_uname_info", 6, "(none)", un.machine, "h2", "1.2.3", "Linux",
                         "#7") == 1);
    agent_collector_uname.release(state);
    pt_done(&env);

    vg_scrape_reset(s);
    pt_ctx(&env, "malformed"); /* a two-line hostname */
    assert_int_equal(pt_collect(&agent_collector_uname, &env, s), -EINVAL);
    assert_int_equal(vg_scrape_family_count(s), 0);
    pt_done(&env);

    pt_ctx(&env, "missing-files");
    assert_int_equal(pt_collect(&agent_collector_uname, &env, s), -ENOENT);
    assert_int_equal(vg_scrape_family_count(s), 0);
    pt_done(&env);
    vg_scrape_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_field),
        cmocka_unit_test(test_emit),
        cmocka_unit_test(test_collect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
