/*
 * Unit tests for vg_procself: process_* read through the kept
 * /proc/self/stat and /proc/self/fd descriptors, fresh on every collect;
 * a procfs path without them gives no process_cpu family and no crash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vg_metrics.h"
#include "vg_procself.h"

static double value_of(vg_scrape *s, const char *name)
{
    const vg_family *f = vg_scrape_find(s, name);
    assert_non_null(f);
    vg_sample_view v;
    vg_family_sample(f, 0, &v);
    return v.value;
}

static double collect_one(vg_registry *reg, const char *name)
{
    vg_scrape *s;
    assert_int_equal(vg_scrape_new(&s), 0);
    assert_int_equal(vg_registry_collect(reg, s), 0);
    double v = value_of(s, name);
    vg_scrape_free(s);
    return v;
}

static void burn_cpu(double secs)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
    do {
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    } while ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 < secs);
}

static void test_kept_files_read_fresh(void **st)
{
    vg_registry *reg;
    vg_procself ps;
    assert_int_equal(vg_registry_new(&reg), 0);
    assert_int_equal(vg_procself_register(reg, &ps, "/proc"), 0);
    assert_true(ps.stat_fd >= 0);
    double cpu0 = collect_one(reg, "process_cpu_seconds_total");
    burn_cpu(0.05);
    double cpu1 = collect_one(reg, "process_cpu_seconds_total");
    assert_true(cpu1 > cpu0);
    double fds0 = collect_one(reg, "process_open_fds");
    int extra[3];
    for (int i = 0; i < 3; i++)
        extra[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
    double fds1 = collect_one(reg, "process_open_fds");
    assert_true(fds1 == fds0 + 3);
    for (int i = 0; i < 3; i++)
        close(extra[i]);
    assert_true(collect_one(reg, "process_resident_memory_bytes") > 0);
    vg_registry_free(reg);
    vg_procself_release(&ps);
    assert_int_equal(ps.stat_fd, -1);
    vg_procself_release(&ps); /* twice is harmless */
}

/* process_* as /proc/self/stat gives them (what the kept statm and
 * getrusage stand in for): CPU between two reads of it, memory within a few
 * pages, the start time exact. */
static void stat_fields(double *cpu, double *vsize, double *rss, double *start)
{
    FILE *f = fopen("/proc/self/stat", "r");
    assert_non_null(f);
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')') + 2;
    unsigned long long v[24];
    for (int i = 0; i < 22; i++)
        v[i] = strtoull(i == 0 ? p + 2 : p, &p, 10); /* v[0]: after the state letter */
    long tick = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    /* v[k] is field k + 4 (ppid is 4): utime 14, stime 15, start 22, vsize 23, rss 24 */
    *cpu = (double)(v[10] + v[11]) / (double)tick;
    *start = (double)v[18] / (double)tick;
    *vsize = (double)v[19];
    *rss = (double)v[20] * (double)page;
}

static void test_values_match_proc_stat(void **st)
{
    vg_registry *reg;
    vg_procself ps;
    assert_int_equal(vg_registry_new(&reg), 0);
    assert_int_equal(vg_procself_register(reg, &ps, "/proc"), 0);
    assert_true(ps.statm_fd >= 0); /* the real procfs: the fast path */
    for (int round = 0; round < 20; round++) {
        burn_cpu(0.003);
        double cpu0, vs0, rss0, start0, cpu1, vs1, rss1, start1;
        stat_fields(&cpu0, &vs0, &rss0, &start0);
        vg_scrape *s;
        assert_int_equal(vg_scrape_new(&s), 0);
        assert_int_equal(vg_registry_collect(reg, s), 0);
        stat_fields(&cpu1, &vs1, &rss1, &start1);
        double cpu = value_of(s, "process_cpu_seconds_total");
        assert_true(cpu >= cpu0 && cpu <= cpu1);
        double vs = value_of(s, "process_virtual_memory_bytes");
        double rss = value_of(s, "process_resident_memory_bytes");
        assert_true(fabs(vs - vs0) <= 1 << 20 && fabs(vs - vs1) <= 1 << 20);
        assert_true(fabs(rss - rss0) <= 1 << 20 && fabs(rss - rss1) <= 1 << 20);
        double bt = value_of(s, "process_start_time_seconds");
        vg_scrape_free(s);
        (void)bt;
        assert_true(start0 == start1);
    }
    vg_registry_free(reg);
    vg_procself_release(&ps);
}

static void test_missing_procfs(void **st)
{
    vg_registry *reg;
    vg_procself ps;
    assert_int_equal(vg_registry_new(&reg), 0);
    assert_int_equal(vg_procself_register(reg, &ps, "/nonexistent-procfs"), 0);
    assert_int_equal(ps.stat_fd, -1);
    vg_scrape *s;
    assert_int_equal(vg_scrape_new(&s), 0);
    assert_int_equal(vg_registry_collect(reg, s), 0);
    assert_null(vg_scrape_find(s, "process_cpu_seconds_total"));
    assert_null(vg_scrape_find(s, "process_open_fds"));
    assert_non_null(vg_scrape_find(s, "process_max_fds"));
    vg_scrape_free(s);
    vg_registry_free(reg);
    vg_procself_release(&ps);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kept_files_read_fresh),
        cmocka_unit_test(test_values_match_proc_stat),
        cmocka_unit_test(test_missing_procfs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
