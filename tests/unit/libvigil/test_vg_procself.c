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
        cmocka_unit_test(test_missing_procfs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
