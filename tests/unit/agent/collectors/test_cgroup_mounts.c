/*
 * test_cgroup_mounts.c - unit tests for cgroup hierarchy discovery
 * (agent/collectors/cgroup_mounts.h): unified, hybrid and legacy mount
 * tables, escapes, garbage lines, and probing a directory.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "collectors/cgroup_mounts.h"

#define S(x) (x), strlen(x)

static void test_unified(void **state)
{
    (void)state;
    const char *mi = "22 1 0:21 / /proc rw,relatime - proc proc rw\n"
                     "29 23 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";
    cgroup_mounts m;
    size_t skipped = 0;
    cgroup_mounts_parse(S(mi), &m, &skipped);
    assert_int_equal(m.mode, CGROUP_MODE_V2);
    assert_string_equal(m.unified, "/sys/fs/cgroup");
    assert_string_equal(m.v1[CGROUP_CTL_MEMORY], "");
    assert_int_equal(skipped, 0);
}

static void test_hybrid_is_v1(void **state)
{
    (void)state;
    /* this project's build machines: separate cpu and cpuacct, v2 at unified */
    const char *mi =
        "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
        "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
        "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
        "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
        "38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
        "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
        "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
        "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
    cgroup_mounts m;
    cgroup_mounts_parse(S(mi), &m, NULL);
    assert_int_equal(m.mode, CGROUP_MODE_V1);
    assert_string_equal(m.v1[CGROUP_CTL_CPU], "/sys/fs/cgroup/cpu");
    assert_string_equal(m.v1[CGROUP_CTL_CPUACCT], "/sys/fs/cgroup/cpuacct");
    assert_string_equal(m.v1[CGROUP_CTL_MEMORY], "/sys/fs/cgroup/memory");
    assert_string_equal(m.v1[CGROUP_CTL_BLKIO], "/sys/fs/cgroup/blkio");
    assert_string_equal(m.v1[CGROUP_CTL_PIDS], "/sys/fs/cgroup/pids");
    assert_string_equal(m.unified, "/sys/fs/cgroup/unified");
}

static void test_comounted_and_escapes(void **state)
{
    (void)state;
    const char *mi =
        "34 31 0:31 / /sys/fs/cgroup/cpu,cpuacct rw shared:6 master:1 - cgroup cgroup rw,cpu,cpuacct\n"
        "35 31 0:32 / /host/sys\\040fs/memory rw - cgroup cgroup rw,memory\n"
        "36 31 0:33 / /sys/fs/cgroup/memory2 rw - cgroup cgroup rw,memory\n" /* second: ignored */
        "37 31 0:34 / /sys/fs/cgroup/net_cls,net_prio rw - cgroup cgroup rw,net_cls,net_prio\n"
        "38 31 0:35 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset\n"; /* "cpu" prefix, not cpu */
    cgroup_mounts m;
    cgroup_mounts_parse(S(mi), &m, NULL);
    assert_int_equal(m.mode, CGROUP_MODE_V1);
    assert_string_equal(m.v1[CGROUP_CTL_CPU], "/sys/fs/cgroup/cpu,cpuacct");
    assert_string_equal(m.v1[CGROUP_CTL_CPUACCT], "/sys/fs/cgroup/cpu,cpuacct");
    assert_string_equal(m.v1[CGROUP_CTL_MEMORY], "/host/sys fs/memory");
    assert_string_equal(m.v1[CGROUP_CTL_BLKIO], "");
}

static void test_canonical_unified_wins(void **state)
{
    (void)state;
    const char *mi = "1 0 0:1 / /run/other rw - cgroup2 cgroup2 rw\n"
                     "2 0 0:2 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
                     "3 0 0:3 / /run/third rw - cgroup2 cgroup2 rw\n";
    cgroup_mounts m;
    cgroup_mounts_parse(S(mi), &m, NULL);
    assert_int_equal(m.mode, CGROUP_MODE_V2);
    assert_string_equal(m.unified, "/sys/fs/cgroup");
}

static void test_garbage(void **state)
{
    (void)state;
    const char *mi = "garbage\n"
                     "1 2 3 4 5 6 7 8 9 10\n"                  /* no dash */
                     "1 0 0:1 / /x rw - cgroup2\n"             /* too short after dash */
                     "1 0 0:1 / relative rw - cgroup2 c rw\n"  /* mount point not absolute */
                     "\n";
    cgroup_mounts m;
    size_t skipped = 0;
    cgroup_mounts_parse(S(mi), &m, &skipped);
    assert_int_equal(m.mode, CGROUP_MODE_NONE);
    assert_int_equal(skipped, 4);
    cgroup_mounts_parse("", 0, &m, &skipped);
    assert_int_equal(m.mode, CGROUP_MODE_NONE);

    /* an over-long mount point is skipped, not truncated */
    char *big = malloc(2000);
    assert_non_null(big);
    memset(big, 'a', 1999);
    big[1999] = '\0';
    memcpy(big, "1 0 0:1 / /", 11);
    char line[2100];
    snprintf(line, sizeof line, "%s rw - cgroup2 cgroup2 rw\n", big);
    skipped = 0;
    cgroup_mounts_parse(S(line), &m, &skipped);
    assert_int_equal(m.mode, CGROUP_MODE_NONE);
    assert_int_equal(skipped, 1);
    free(big);
}

static void test_probe(void **state)
{
    (void)state;
    char dir[] = "/tmp/vigil-cgmounts-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char p[256];
    cgroup_mounts m;
    assert_int_equal(cgroup_mounts_probe(dir, &m), 0);
    assert_int_equal(m.mode, CGROUP_MODE_NONE);

    snprintf(p, sizeof p, "%s/cpu,cpuacct", dir);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/memory", dir);
    assert_int_equal(mkdir(p, 0755), 0);
    assert_int_equal(cgroup_mounts_probe(dir, &m), 0);
    assert_int_equal(m.mode, CGROUP_MODE_V1);
    snprintf(p, sizeof p, "%s/cpu,cpuacct", dir);
    assert_string_equal(m.v1[CGROUP_CTL_CPU], p);
    assert_string_equal(m.v1[CGROUP_CTL_CPUACCT], p);
    assert_string_equal(m.v1[CGROUP_CTL_BLKIO], "");

    snprintf(p, sizeof p, "%s/cgroup.controllers", dir);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(cgroup_mounts_probe(dir, &m), 0);
    assert_int_equal(m.mode, CGROUP_MODE_V2);
    assert_string_equal(m.unified, dir);

    unlink(p);
    snprintf(p, sizeof p, "%s/cpu,cpuacct", dir);
    rmdir(p);
    snprintf(p, sizeof p, "%s/memory", dir);
    rmdir(p);
    rmdir(dir);
    assert_string_equal(cgroup_ctl_name(CGROUP_CTL_PIDS), "pids");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unified),
        cmocka_unit_test(test_hybrid_is_v1),
        cmocka_unit_test(test_comounted_and_escapes),
        cmocka_unit_test(test_canonical_unified_wins),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_probe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
