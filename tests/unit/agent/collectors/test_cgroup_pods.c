/*
 * test_cgroup_pods.c - unit tests for the `pods` collector
 * (agent/collectors/cgroup_pods.h) and the per-cgroup reader
 * (cgroup_stats.h) on small trees built in a temporary directory:
 * cgroup v2 + systemd + containerd, v1 + cgroupfs + CRI-O, a host without
 * pods, containers that vanish between scrapes, garbled and missing files,
 * hostNetwork pods.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
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

#include "agent_collector.h"
#include "collectors/cgroup_pods.h"
#include "collectors/cgroup_stats.h"
#include "vg_prom.h"

#define UID "0a1b2c3d-4e5f-6789-abcd-ef0123456789"
#define UIDU "0a1b2c3d_4e5f_6789_abcd_ef0123456789"
#define CID "aaaa000000000000000000000000000000000000000000000000000000000001"
#define SID "bbbb000000000000000000000000000000000000000000000000000000000002"

typedef struct fixture {
    char root[64];
    char roots[4][128];
    agent_ctx ctx;
    vg_config *cfg;
    vg_registry *reg;
    vg_log log;
    void *state;
} fixture;

static void put(const char *root, const char *rel, const char *text)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    /* mkdir -p of the parent */
    for (char *s = p + strlen(root) + 1; *s; s++) {
        if (*s == '/') {
            *s = '\0';
            mkdir(p, 0755);
            *s = '/';
        }
    }
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void rm_rf(const char *path)
{
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    assert_int_equal(system(cmd), 0);
}

#define V2CG "sys/fs/cgroup/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UIDU ".slice"

static void v2_cgroup(const char *root, const char *rel, unsigned usage, const char *procs)
{
    char p[512], t[512];
    snprintf(p, sizeof p, "%s/cpu.stat", rel);
    snprintf(t, sizeof t, "usage_usec %u\nuser_usec %u\nsystem_usec %u\nnr_periods 10\nnr_throttled 2\n"
                          "throttled_usec 5000\n", usage, usage / 2, usage / 2);
    put(root, p, t);
    snprintf(p, sizeof p, "%s/memory.current", rel);
    put(root, p, "1000000\n");
    snprintf(p, sizeof p, "%s/memory.stat", rel);
    put(root, p, "anon 600000\nfile 300000\nfile_mapped 1000\ninactive_file 250000\nactive_file 50000\n");
    snprintf(p, sizeof p, "%s/memory.events", rel);
    put(root, p, "low 0\nhigh 0\nmax 4\noom 2\noom_kill 2\n");
    snprintf(p, sizeof p, "%s/io.stat", rel);
    put(root, p, "254:0 rbytes=8192 wbytes=4096 rios=2 wios=1 dbytes=0 dios=0\n");
    snprintf(p, sizeof p, "%s/cpu.pressure", rel);
    put(root, p, "some avg10=0.00 avg60=0.00 avg300=0.00 total=2000000\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=1000000\n");
    snprintf(p, sizeof p, "%s/cgroup.procs", rel);
    put(root, p, procs);
    snprintf(p, sizeof p, "%s/pids.current", rel);
    put(root, p, "7\n");
    snprintf(p, sizeof p, "%s/cpu.max", rel);
    put(root, p, "50000 100000\n");
    snprintf(p, sizeof p, "%s/cpu.weight", rel);
    put(root, p, "100\n");
    snprintf(p, sizeof p, "%s/memory.max", rel);
    put(root, p, "max\n");
    snprintf(p, sizeof p, "%s/cgroup.events", rel);
    put(root, p, "populated 1\nfrozen 0\n");
}

static void build_v2(const char *root)
{
    put(root, "proc/1/mountinfo",
        "29 23 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n");
    char p[512];
    snprintf(p, sizeof p, "%s/proc/1/ns", root);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/proc/1/ns/net", root);
    assert_int_equal(symlink("net:[4026531840]", p), 0);
    put(root, "sys/dev/block/254:0/uevent", "MAJOR=254\nMINOR=0\nDEVNAME=vda\n");
    v2_cgroup(root, V2CG, 3000000, "");
    v2_cgroup(root, V2CG "/cri-containerd-" CID ".scope", 2000000, "101\n102\n");
    v2_cgroup(root, V2CG "/cri-containerd-" SID ".scope", 1000, "100\n");
    v2_cgroup(root, "sys/fs/cgroup/system.slice/containerd.service", 5, "1\n");
    put(root, "root/run/containerd/io.containerd.runtime.v2.task/k8s.io/" CID "/config.json",
        "{\"annotations\":{\"io.kubernetes.cri.container-type\":\"container\","
        "\"io.kubernetes.cri.container-name\":\"app\",\"io.kubernetes.cri.image-name\":\"nginx:1\","
        "\"io.kubernetes.cri.sandbox-name\":\"web-0\",\"io.kubernetes.cri.sandbox-namespace\":\"shop\"}}");
    put(root, "root/run/containerd/io.containerd.runtime.v2.task/k8s.io/" SID "/config.json",
        "{\"annotations\":{\"io.kubernetes.cri.container-type\":\"sandbox\","
        "\"io.kubernetes.cri.sandbox-name\":\"web-0\",\"io.kubernetes.cri.sandbox-namespace\":\"shop\"}}");
    /* the pod's network namespace, seen through its sandbox process */
    snprintf(p, sizeof p, "%s/proc/100/ns", root);
    put(root, "proc/100/net/dev",
        "Inter-|   Receive\n face |bytes\n"
        "    lo: 1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0\n"
        "  eth0: 5000 50 1 2 0 0 0 0 7000 70 3 4 0 0 0 0\n");
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/proc/100/ns/net", root);
    assert_int_equal(symlink("net:[4026532001]", p), 0);
}

static int fixture_setup(fixture *fx, const char *extra_arg)
{
    memset(fx, 0, sizeof *fx);
    snprintf(fx->root, sizeof fx->root, "/tmp/vigil-pods-XXXXXX");
    if (!mkdtemp(fx->root))
        return -1;
    snprintf(fx->roots[AGENT_ROOT_PROC], sizeof fx->roots[0], "%s/proc", fx->root);
    snprintf(fx->roots[AGENT_ROOT_SYS], sizeof fx->roots[0], "%s/sys", fx->root);
    snprintf(fx->roots[AGENT_ROOT_ROOTFS], sizeof fx->roots[0], "%s/root", fx->root);
    snprintf(fx->roots[AGENT_ROOT_UDEV], sizeof fx->roots[0], "%s/udev", fx->root);
    for (int i = 0; i < 4; i++)
        fx->ctx.roots[i] = fx->roots[i];
    const vg_opt_def *defs[1] = {agent_collector_pods.opts};
    size_t ndefs[1] = {agent_collector_pods.nopts};
    char *argv[3] = {"test", "--collector.pods.spec-interval=0s", (char *)extra_arg};
    char *envp[1] = {NULL};
    vg_config_err err;
    if (vg_config_load(defs, ndefs, 1, extra_arg ? 3 : 2, argv, envp, &fx->cfg, &err))
        return -1;
    if (vg_registry_new(&fx->reg))
        return -1;
    vg_log_init(&fx->log, VG_LOG_ERROR, VG_LOG_LOGFMT);
    fx->ctx.cfg = fx->cfg;
    fx->ctx.log = &fx->log;
    fx->ctx.reg = fx->reg;
    vg_buf_init(&fx->ctx.scratch);
    return 0;
}

static void fixture_teardown(fixture *fx)
{
    if (fx->state)
        agent_collector_pods.release(fx->state);
    vg_buf_release(&fx->ctx.scratch);
    vg_registry_free(fx->reg);
    vg_config_free(fx->cfg);
    rm_rf(fx->root);
}

/* Value of the sample of family name whose labels contain every k=v pair in sel. */
static bool find_value(vg_scrape *s, const char *name, const char *const *sel, size_t nsel,
                       double *out, size_t *matches)
{
    const vg_family *f = vg_scrape_find(s, name);
    size_t m = 0;
    if (!f) {
        if (matches)
            *matches = 0;
        return false;
    }
    vg_sample_iter it;
    vg_sample_view v;
    vg_family_iter_init(f, &it);
    while (vg_family_iter_next(&it, &v)) {
        bool ok = true;
        for (size_t i = 0; ok && i < nsel; i += 2) {
            bool found = false;
            for (size_t k = 0; k < vg_family_nlabels(f); k++)
                if (strcmp(vg_family_label_name(f, k), sel[i]) == 0 &&
                    strcmp(v.values[k], sel[i + 1]) == 0)
                    found = true;
            ok = found;
        }
        if (ok) {
            if (m == 0 && out)
                *out = v.value;
            m++;
        }
    }
    if (matches)
        *matches = m;
    return m > 0;
}

static double errors_of(fixture *fx, const char *reason)
{
    vg_scrape *s;
    assert_int_equal(vg_scrape_new(&s), 0);
    vg_registry_collect(fx->reg, s);
    const char *sel[] = {"reason", reason};
    double v = 0;
    find_value(s, "vigil_agent_cgroup_read_errors_total", sel, 2, &v, NULL);
    vg_scrape_free(s);
    return v;
}

static int scrape(fixture *fx, vg_scrape *s)
{
    vg_scrape_reset(s);
    return agent_collector_pods.collect(&fx->ctx, fx->state, s);
}

#define CTR_ID "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UIDU ".slice/cri-containerd-" CID ".scope"
#define POD_ID "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UIDU ".slice"

static void test_v2_containerd(void **state)
{
    (void)state;
    fixture fx;
    assert_int_equal(fixture_setup(&fx, NULL), 0);
    build_v2(fx.root);
    assert_int_equal(agent_collector_pods.init(&fx.ctx, &fx.state), 0);
    vg_scrape *s;
    assert_int_equal(vg_scrape_new(&s), 0);
    assert_int_equal(scrape(&fx, s), 0);

    double v = 0;
    size_t m = 0;
    const char *ctr[] = {"id", CTR_ID, "container", "app", "pod", "web-0", "namespace", "shop",
                         "image", "nginx:1", "name", CID, "cpu", "total"};
    assert_true(find_value(s, "container_cpu_usage_seconds_total", ctr, 14, &v, &m));
    assert_int_equal(m, 1);
    assert_true(v == 2.0);
    const char *ctr6[] = {"id", CTR_ID, "container", "app", "pod", "web-0"};
    assert_true(find_value(s, "container_memory_working_set_bytes", ctr6, 6, &v, NULL));
    assert_true(v == 750000.0); /* 1000000 - inactive_file 250000 */
    assert_true(find_value(s, "container_memory_rss", ctr6, 6, &v, NULL));
    assert_true(v == 600000.0);
    assert_true(find_value(s, "container_oom_events_total", ctr6, 6, &v, NULL));
    assert_true(v == 2.0);
    assert_true(find_value(s, "container_memory_failcnt", ctr6, 6, &v, NULL));
    assert_true(v == 4.0);
    assert_true(find_value(s, "container_processes", ctr6, 6, &v, NULL));
    assert_true(v == 2.0);
    assert_true(find_value(s, "container_threads", ctr6, 6, &v, NULL));
    assert_true(v == 7.0);
    assert_true(find_value(s, "container_spec_cpu_quota", ctr6, 6, &v, NULL));
    assert_true(v == 50000.0);
    assert_true(find_value(s, "container_spec_cpu_shares", ctr6, 6, &v, NULL));
    assert_true(v == 2597.0);
    assert_true(find_value(s, "container_spec_memory_limit_bytes", ctr6, 6, &v, NULL));
    assert_true(v == 0.0); /* "max" is reported as 0, like cAdvisor */
    assert_true(find_value(s, "container_cpu_cfs_throttled_seconds_total", ctr6, 6, &v, NULL));
    assert_true(v == 0.005);
    assert_true(find_value(s, "container_pressure_cpu_stalled_seconds_total", ctr6, 6, &v, NULL));
    assert_true(v == 1.0);
    const char *dev[] = {"id", CTR_ID, "device", "/dev/vda"};
    assert_true(find_value(s, "container_fs_reads_bytes_total", dev, 4, &v, NULL));
    assert_true(v == 8192.0);
    assert_true(find_value(s, "container_start_time_seconds", ctr6, 6, &v, NULL));
    assert_true(v > 1e9);

    /* the sandbox is not a container */
    const char *sb[] = {"id", POD_ID "/cri-containerd-" SID ".scope"};
    assert_false(find_value(s, "container_cpu_usage_seconds_total", sb, 2, NULL, NULL));

    /* pod level: container="", name="", processes of all children */
    const char *pod[] = {"id", POD_ID, "container", "", "name", "", "image", "", "pod", "web-0"};
    assert_true(find_value(s, "container_cpu_usage_seconds_total", pod, 10, &v, NULL));
    assert_true(v == 3.0);
    assert_true(find_value(s, "container_processes", pod, 10, &v, NULL));
    assert_true(v == 3.0);
    const char *pod2[] = {"pod", "web-0", "namespace", "shop"};
    assert_true(find_value(s, "pod_cpu_usage_seconds_total", pod2, 4, &v, NULL));
    assert_true(v == 3.0);
    assert_true(find_value(s, "pod_memory_working_set_bytes", pod2, 4, &v, NULL));
    assert_true(v == 750000.0);

    /* network from the sandbox process, lo ignored */
    const char *net[] = {"id", POD_ID, "interface", "eth0"};
    assert_true(find_value(s, "container_network_receive_bytes_total", net, 4, &v, NULL));
    assert_true(v == 5000.0);
    assert_true(find_value(s, "container_network_transmit_packets_dropped_total", net, 4, &v, NULL));
    assert_true(v == 4.0);
    const char *lo[] = {"interface", "lo"};
    assert_false(find_value(s, "container_network_receive_bytes_total", lo, 2, NULL, NULL));

    /* non-pod cgroups are not reported */
    const char *sys[] = {"id", "/system.slice/containerd.service"};
    assert_false(find_value(s, "container_cpu_usage_seconds_total", sys, 2, NULL, NULL));

    vg_scrape_stats st;
    vg_scrape_stats_get(s, &st);
    assert_int_equal(st.duplicates, 0);
    assert_int_equal(st.invalid, 0);
    assert_true(errors_of(&fx, "missing") == 0.0);
    assert_true(errors_of(&fx, "parse") == 0.0);

    /* a second scrape gives the same series (cached names) */
    size_t n1 = vg_family_sample_count(vg_scrape_find(s, "container_memory_usage_bytes"));
    assert_int_equal(scrape(&fx, s), 0);
    assert_int_equal(vg_family_sample_count(vg_scrape_find(s, "container_memory_usage_bytes")), n1);
    assert_true(find_value(s, "container_cpu_usage_seconds_total", ctr, 14, &v, NULL));

    /* the container goes away: its series go, silently */
    char p[512];
    snprintf(p, sizeof p, "%s/" V2CG "/cri-containerd-" CID ".scope", fx.root);
    rm_rf(p);
    assert_int_equal(scrape(&fx, s), 0);
    assert_false(find_value(s, "container_cpu_usage_seconds_total", ctr, 14, NULL, NULL));
    assert_true(find_value(s, "container_cpu_usage_seconds_total", pod, 10, NULL, NULL));
    assert_true(errors_of(&fx, "missing") == 0.0);
    assert_true(errors_of(&fx, "io") == 0.0);

    vg_scrape_free(s);
    fixture_teardown(&fx);
}

static void test_v2_bad_files_and_unknown_names(void **state)
{
    (void)state;
    fixture fx;
    assert_int_equal(fixture_setup(&fx, NULL), 0);
    build_v2(fx.root);
    /* no runtime state for the container: names unknown */
    char p[512];
    snprintf(p, sizeof p, "%s/root/run/containerd/io.containerd.runtime.v2.task/k8s.io/" CID, fx.root);
    rm_rf(p);
    /* garbled memory.stat, cpu.stat with a bad value, memory.current missing */
    put(fx.root, V2CG "/cri-containerd-" CID ".scope/memory.stat", "garbage\n");
    put(fx.root, V2CG "/cri-containerd-" CID ".scope/cpu.stat", "usage_usec 12x\nuser_usec 5\n");
    snprintf(p, sizeof p, "%s/" V2CG "/cri-containerd-" CID ".scope/memory.current", fx.root);
    assert_int_equal(unlink(p), 0);
    /* hostNetwork: the sandbox shares the host's namespace */
    snprintf(p, sizeof p, "%s/proc/100/ns/net", fx.root);
    unlink(p);
    assert_int_equal(symlink("net:[4026531840]", p), 0);

    assert_int_equal(agent_collector_pods.init(&fx.ctx, &fx.state), 0);
    vg_scrape *s;
    assert_int_equal(vg_scrape_new(&s), 0);
    assert_int_equal(scrape(&fx, s), 0);

    double v;
    const char *ctr[] = {"id", CTR_ID, "container", "", "name", "", "image", "", "pod", "web-0"};
    /* still exported, with empty names (pod known from the sandbox) */
    assert_true(find_value(s, "container_cpu_user_seconds_total", ctr, 10, &v, NULL));
    assert_true(v == 5e-6);
    assert_false(find_value(s, "container_cpu_usage_seconds_total", ctr, 10, NULL, NULL));
    assert_false(find_value(s, "container_memory_usage_bytes", ctr, 10, NULL, NULL));
    assert_false(find_value(s, "container_memory_working_set_bytes", ctr, 10, NULL, NULL));
    assert_true(find_value(s, "container_oom_events_total", ctr, 10, NULL, NULL));
    assert_true(errors_of(&fx, "parse") == 2.0);
    assert_true(errors_of(&fx, "missing") == 1.0);
    /* hostNetwork pod: no network series at all */
    assert_null(vg_scrape_find(s, "container_network_receive_bytes_total"));

    /* missing is counted once per cgroup, parse errors every scrape */
    assert_int_equal(scrape(&fx, s), 0);
    assert_true(errors_of(&fx, "missing") == 1.0);
    assert_true(errors_of(&fx, "parse") == 4.0);

    vg_scrape_free(s);
    fixture_teardown(&fx);
}

/*
 * The pod's network namespace is looked up once per sandbox process: the
 * second scrape does not read the link again; a new sandbox process (a
 * new pid) is looked up again.
 */
static void test_pod_netns_once_per_process(void **state)
{
    (void)state;
    fixture fx;
    assert_int_equal(fixture_setup(&fx, NULL), 0);
    build_v2(fx.root);
    assert_int_equal(agent_collector_pods.init(&fx.ctx, &fx.state), 0);
    vg_scrape *s;
    assert_int_equal(vg_scrape_new(&s), 0);
    const char *net[] = {"interface", "eth0"};
    assert_int_equal(scrape(&fx, s), 0);
    assert_true(find_value(s, "container_network_receive_bytes_total", net, 2, NULL, NULL));
    /* the same process: its namespace is not read again */
    char p[512];
    snprintf(p, sizeof p, "%s/proc/100/ns/net", fx.root);
    assert_int_equal(unlink(p), 0);
    assert_int_equal(symlink("net:[4026531840]", p), 0);
    assert_int_equal(scrape(&fx, s), 0);
    assert_true(find_value(s, "container_network_receive_bytes_total", net, 2, NULL, NULL));
    /* a new sandbox process, in the host's namespace: no network series */
    put(fx.root, V2CG "/cri-containerd-" SID ".scope/cgroup.procs", "103\n");
    put(fx.root, "proc/103/net/dev", "Inter-|   Receive\n face |bytes\n"
                                     "  eth0: 1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0\n");
    snprintf(p, sizeof p, "%s/proc/103/ns", fx.root);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/proc/103/ns/net", fx.root);
    assert_int_equal(symlink("net:[4026531840]", p), 0);
    assert_int_equal(scrape(&fx, s), 0);
    assert_null(vg_scrape_find(s, "container_network_receive_bytes_total"));
    vg_scrape_free(s);
    fixture_teardown(&fx);
}

static void test_no_pods(void **state)
{
    (void)state;
    fixture fx;
    assert_int_equal(fixture_setup(&fx, NULL), 0);
    put(fx.root, "proc/1/mountinfo", "29 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
    v2_cgroup(fx.root, "sys/fs/cgroup/system.slice/foo.service", 5, "1\n");
    assert_int_equal(agent_collector_pods.init(&fx.ctx, &fx.state), 0);
    vg_scrape *s;
    assert_int_equal(vg_scrape_new(&s), 0);
    assert_int_equal(scrape(&fx, s), 0);
    assert_int_equal(vg_scrape_family_count(s), 0);
    agent_collector_pods.release(fx.state);
    fx.state = NULL;

    /* no cgroup filesystem at all (and no mountinfo): still success */
    rm_rf(fx.root);
    assert_int_equal(mkdir(fx.root, 0755), 0);
    assert_int_equal(agent_collector_pods.init(&fx.ctx, &fx.state), 0);
    assert_int_equal(scrape(&fx, s), 0);
    assert_int_equal(vg_scrape_family_count(s), 0);
    vg_scrape_free(s);
    fixture_teardown(&fx);
}

#define V1POD "kubepods/besteffort/pod" UID

static void v1_cgroup(const char *root, const char *rel, unsigned usage_ns)
{
    char p[512], t[256];
    snprintf(p, sizeof p, "sys/fs/cgroup/cpu,cpuacct/%s/cpuacct.usage", rel);
    snprintf(t, sizeof t, "%u\n", usage_ns);
    put(root, p, t);
    snprintf(p, sizeof p, "sys/fs/cgroup/cpu,cpuacct/%s/cpuacct.stat", rel);
    put(root, p, "user 150\nsystem 50\n");
    snprintf(p, sizeof p, "sys/fs/cgroup/cpu,cpuacct/%s/cpu.cfs_quota_us", rel);
    put(root, p, "-1\n");
    snprintf(p, sizeof p, "sys/fs/cgroup/cpu,cpuacct/%s/cpu.cfs_period_us", rel);
    put(root, p, "100000\n");
    snprintf(p, sizeof p, "sys/fs/cgroup/cpu,cpuacct/%s/cpu.shares", rel);
    put(root, p, "2\n");
    snprintf(p, sizeof p, "sys/fs/cgroup/cpu,cpuacct/%s/cgroup.procs", rel);
    put(root, p, "200\n");
    snprintf(p, sizeof p, "sys/fs/cgroup/memory/%s/memory.usage_in_bytes", rel);
    put(root, p, "5000\n");
    snprintf(p, sizeof p, "sys/fs/cgroup/memory/%s/memory.limit_in_bytes", rel);
    put(root, p, "9223372036854771712\n");
    snprintf(p, sizeof p, "sys/fs/cgroup/memory/%s/memory.stat", rel);
    put(root, p, "rss 10\ncache 20\ntotal_rss 3000\ntotal_cache 1500\ntotal_mapped_file 100\n"
                 "total_swap 0\ntotal_inactive_file 1000\n");
    snprintf(p, sizeof p, "sys/fs/cgroup/memory/%s/memory.oom_control", rel);
    put(root, p, "oom_kill_disable 0\nunder_oom 0\noom_kill 5\n");
    snprintf(p, sizeof p, "sys/fs/cgroup/memory/%s/cgroup.procs", rel);
    put(root, p, "200\n");
    snprintf(p, sizeof p, "sys/fs/cgroup/blkio/%s/blkio.throttle.io_service_bytes", rel);
    put(root, p, "8:0 Read 100\n8:0 Write 200\nTotal 300\n");
    snprintf(p, sizeof p, "sys/fs/cgroup/blkio/%s/cgroup.procs", rel);
    put(root, p, "200\n");
}

static void test_v1_crio(void **state)
{
    (void)state;
    fixture fx;
    assert_int_equal(fixture_setup(&fx, NULL), 0);
    put(fx.root, "proc/1/mountinfo",
        "34 31 0:31 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
        "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
        "36 31 0:33 / /sys/fs/cgroup/blkio rw - cgroup cgroup rw,blkio\n"
        "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n");
    v1_cgroup(fx.root, V1POD, 4000000000u);
    v1_cgroup(fx.root, V1POD "/crio-" CID, 3000000000u);
    v1_cgroup(fx.root, V1POD "/crio-conmon-" CID, 1000);
    put(fx.root, "root/var/run/containers/storage/overlay-containers/" CID "/userdata/config.json",
        "{\"annotations\":{\"io.kubernetes.cri-o.ContainerType\":\"container\","
        "\"io.kubernetes.cri-o.Name\":\"k8s_db_pg-0_data_" UID "_0\","
        "\"io.kubernetes.cri-o.ImageName\":\"postgres:16\","
        "\"io.kubernetes.cri-o.Labels\":\"{\\\"io.kubernetes.container.name\\\":\\\"db\\\","
        "\\\"io.kubernetes.pod.name\\\":\\\"pg-0\\\",\\\"io.kubernetes.pod.namespace\\\":\\\"data\\\"}\"}}");
    assert_int_equal(agent_collector_pods.init(&fx.ctx, &fx.state), 0);
    vg_scrape *s;
    assert_int_equal(vg_scrape_new(&s), 0);
    assert_int_equal(scrape(&fx, s), 0);
    double v;
    const char *ctr[] = {"id", "/" V1POD "/crio-" CID, "container", "db", "pod", "pg-0",
                         "namespace", "data", "image", "postgres:16",
                         "name", "k8s_db_pg-0_data_" UID "_0"};
    assert_true(find_value(s, "container_cpu_usage_seconds_total", ctr, 12, &v, NULL));
    assert_true(v == 3.0);
    assert_true(find_value(s, "container_cpu_user_seconds_total", ctr, 12, &v, NULL));
    assert_true(v == 150.0 / (double)sysconf(_SC_CLK_TCK));
    assert_true(find_value(s, "container_memory_rss", ctr, 12, &v, NULL));
    assert_true(v == 3000.0); /* total_* preferred */
    assert_true(find_value(s, "container_memory_working_set_bytes", ctr, 12, &v, NULL));
    assert_true(v == 4000.0);
    assert_true(find_value(s, "container_oom_events_total", ctr, 12, &v, NULL));
    assert_true(v == 5.0);
    assert_true(find_value(s, "container_spec_memory_limit_bytes", ctr, 12, &v, NULL));
    assert_true(v == 0.0);
    assert_false(find_value(s, "container_spec_cpu_quota", ctr, 12, NULL, NULL));
    assert_false(find_value(s, "container_cpu_cfs_periods_total", ctr, 12, NULL, NULL));
    const char *dev[] = {"id", "/" V1POD "/crio-" CID, "device", "8:0"};
    assert_true(find_value(s, "container_fs_writes_bytes_total", dev, 4, &v, NULL));
    assert_true(v == 200.0);
    /* conmon is not a container, but its processes count for the pod */
    const char *conmon[] = {"id", "/" V1POD "/crio-conmon-" CID};
    assert_false(find_value(s, "container_cpu_usage_seconds_total", conmon, 2, NULL, NULL));
    const char *pod[] = {"id", "/" V1POD, "container", "", "pod", "pg-0"};
    assert_true(find_value(s, "container_processes", pod, 6, &v, NULL));
    assert_true(v == 3.0);
    /* no pids, no pressure in this tree: absent, not errors */
    assert_null(vg_scrape_find(s, "container_threads"));
    assert_null(vg_scrape_find(s, "container_pressure_cpu_waiting_seconds_total"));
    assert_true(errors_of(&fx, "missing") == 0.0);
    assert_true(errors_of(&fx, "io") == 0.0);
    vg_scrape_free(s);
    fixture_teardown(&fx);
}

/*
 * v1 cpu.stat (CFS counters) is read only for cgroups with a CPU quota, or
 * with the spec: a container without a quota and a garbled cpu.stat costs
 * one parse error when its spec is read, none in between; one with a
 * quota gets fresh counters every scrape.
 */
static void test_v1_cfs_only_with_quota(void **state)
{
    (void)state;
    fixture fx;
    assert_int_equal(fixture_setup(&fx, "--collector.pods.spec-interval=1h"), 0);
    put(fx.root, "proc/1/mountinfo",
        "34 31 0:31 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
        "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n");
    v1_cgroup(fx.root, V1POD, 4000000000u);
    v1_cgroup(fx.root, V1POD "/crio-" CID, 3000000000u);
    v1_cgroup(fx.root, V1POD "/crio-" SID, 1000000000u);
    put(fx.root, "sys/fs/cgroup/cpu,cpuacct/" V1POD "/crio-" CID "/cpu.stat", "nr_periods\n");
    put(fx.root, "sys/fs/cgroup/cpu,cpuacct/" V1POD "/crio-" SID "/cpu.cfs_quota_us", "50000\n");
    put(fx.root, "sys/fs/cgroup/cpu,cpuacct/" V1POD "/crio-" SID "/cpu.stat",
        "nr_periods 7\nnr_throttled 1\nthrottled_time 5\n");
    assert_int_equal(agent_collector_pods.init(&fx.ctx, &fx.state), 0);
    vg_scrape *s;
    assert_int_equal(vg_scrape_new(&s), 0);
    const char *q[] = {"id", "/" V1POD "/crio-" SID};
    double v;
    assert_int_equal(scrape(&fx, s), 0);
    assert_true(errors_of(&fx, "parse") == 1.0);
    assert_true(find_value(s, "container_cpu_cfs_periods_total", q, 2, &v, NULL));
    assert_true(v == 7.0);
    put(fx.root, "sys/fs/cgroup/cpu,cpuacct/" V1POD "/crio-" SID "/cpu.stat",
        "nr_periods 9\nnr_throttled 1\nthrottled_time 5\n");
    assert_int_equal(scrape(&fx, s), 0);
    assert_true(errors_of(&fx, "parse") == 1.0); /* no quota: not read again */
    assert_true(find_value(s, "container_cpu_cfs_periods_total", q, 2, &v, NULL));
    assert_true(v == 9.0);
    vg_scrape_free(s);
    fixture_teardown(&fx);
}

static void test_cgroup_root_option(void **state)
{
    (void)state;
    /* an explicit v2 root: mountinfo is not consulted */
    fixture fx;
    char arg[256];
    char dir[] = "/tmp/vigil-pods-root-XXXXXX";
    assert_non_null(mkdtemp(dir));
    snprintf(arg, sizeof arg, "--collector.pods.cgroup-root=%s/sys/fs/cgroup", dir);
    assert_int_equal(fixture_setup(&fx, arg), 0);
    build_v2(dir);
    put(dir, "sys/fs/cgroup/cgroup.controllers", "cpu memory\n");
    put(fx.root, "proc/1/mountinfo", "1 0 0:1 / /nothing rw - cgroup cgroup rw,memory\n");
    assert_int_equal(agent_collector_pods.init(&fx.ctx, &fx.state), 0);
    vg_scrape *s;
    assert_int_equal(vg_scrape_new(&s), 0);
    assert_int_equal(scrape(&fx, s), 0);
    const char *pod[] = {"id", POD_ID};
    assert_true(find_value(s, "container_cpu_usage_seconds_total", pod, 2, NULL, NULL));
    vg_scrape_free(s);
    fixture_teardown(&fx);
    rm_rf(dir);
}

static void test_stats_reader_vanished(void **state)
{
    (void)state;
    char dir[] = "/tmp/vigil-pods-st-XXXXXX";
    assert_non_null(mkdtemp(dir));
    v2_cgroup(dir, "c1", 1000000, "5\n");
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    assert_true(fd >= 0);
    cgroup_dirs d = {CGROUP_MODE_V2, fd, {-1, -1, -1, -1, -1}, 0};
    char b[4096];
    cgroup_reader rd = {100, {b, sizeof b}, {0, 0, 0}, 0};
    cgroup_stats st;
    cgroup_files files;
    cgroup_files_init(&files);
    assert_int_equal(cgroup_stats_read(&rd, &d, "c1", CGROUP_READ_STATS, &files, &st), 0);
    assert_true(CGS_HAS(&st, CGS_CPU_USAGE));
    assert_false(CGS_HAS(&st, CGS_SPEC_CPU_QUOTA)); /* spec not asked for */
    assert_true(files.absent != 0);                 /* swap, peak, ... not in this tree */
    assert_int_equal(rd.errs.missing + rd.errs.parse + rd.errs.io, 0);
    assert_null(files.fd);                          /* no budget: nothing kept, no array */
    /* the cgroup disappears: -ENOENT, nothing counted */
    char p[256];
    snprintf(p, sizeof p, "%s/c1", dir);
    rm_rf(p);
    assert_int_equal(cgroup_stats_read(&rd, &d, "c1", CGROUP_READ_STATS, &files, &st), -ENOENT);
    assert_int_equal(rd.errs.missing + rd.errs.parse + rd.errs.io, 0);

    /* a cgroup.procs far larger than the read buffer is counted in chunks */
    v2_cgroup(dir, "c2", 1, "");
    snprintf(p, sizeof p, "%s/c2/cgroup.procs", dir);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    for (int i = 1; i <= 5000; i++)
        fprintf(f, "%d\n", 100000 + i);
    fclose(f);
    cgroup_files_init(&files);
    assert_int_equal(cgroup_stats_read(&rd, &d, "c2", CGROUP_READ_PROCS, &files, &st), 0);
    assert_int_equal(st.procs, 5000);
    assert_int_equal(st.first_pid, 100001);

    /* kept-open files: re-read in place, budget spent and given back */
    rd.fd_budget = 3;
    cgroup_files_init(&files);
    assert_int_equal(cgroup_stats_read(&rd, &d, "c2", CGROUP_READ_STATS, &files, &st), 0);
    assert_int_equal(rd.fd_budget, 0);
    assert_true(files.fd[0] >= 0 && files.fd[1] >= 0 && files.fd[2] >= 0);
    assert_true(st.cpu_usage_s == 1e-6);
    put(dir, "c2/cpu.stat", "usage_usec 2500000\nuser_usec 1\nsystem_usec 1\n"); /* in place */
    assert_int_equal(cgroup_stats_read(&rd, &d, "c2", CGROUP_READ_PROCS | CGROUP_READ_STATS, &files, &st), 0);
    assert_true(st.cpu_usage_s == 2.5);
    assert_int_equal(st.procs, 5000); /* the big file through the uncached path, same answer */
    size_t budget = rd.fd_budget;
    cgroup_files_release(&files, &budget);
    assert_int_equal(budget, 3);
    assert_null(files.fd);

    /* a large kept cgroup.procs is read in chunks by offset */
    rd.fd_budget = 1;
    cgroup_files_init(&files);
    assert_int_equal(cgroup_stats_read(&rd, &d, "c2", CGROUP_READ_PROCS, &files, &st), 0);
    assert_int_equal(st.procs, 5000);
    assert_int_equal(cgroup_stats_read(&rd, &d, "c2", CGROUP_READ_PROCS, &files, &st), 0);
    assert_int_equal(st.procs, 5000);
    assert_int_equal(st.first_pid, 100001);
    cgroup_files_release(&files, NULL);
    close(fd);
    rm_rf(dir);
}

static void test_kept_files_option(void **state)
{
    (void)state;
    /* with a budget the collector gives the same answers, scrape after scrape */
    fixture fx;
    assert_int_equal(fixture_setup(&fx, "--collector.pods.max-open-files=100000"), 0);
    build_v2(fx.root);
    assert_int_equal(agent_collector_pods.init(&fx.ctx, &fx.state), 0);
    vg_scrape *s;
    assert_int_equal(vg_scrape_new(&s), 0);
    double v;
    const char *ctr[] = {"id", CTR_ID, "cpu", "total"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(scrape(&fx, s), 0);
        assert_true(find_value(s, "container_cpu_usage_seconds_total", ctr, 4, &v, NULL));
        assert_true(v == 2.0);
    }
    put(fx.root, V2CG "/cri-containerd-" CID ".scope/cpu.stat", "usage_usec 4000000\n");
    assert_int_equal(scrape(&fx, s), 0);
    assert_true(find_value(s, "container_cpu_usage_seconds_total", ctr, 4, &v, NULL));
    assert_true(v == 4.0);
    /* the container goes: its kept files are closed with it */
    char p[512];
    snprintf(p, sizeof p, "%s/" V2CG "/cri-containerd-" CID ".scope", fx.root);
    rm_rf(p);
    assert_int_equal(scrape(&fx, s), 0);
    assert_false(find_value(s, "container_cpu_usage_seconds_total", ctr, 4, NULL, NULL));
    vg_scrape_free(s);
    fixture_teardown(&fx);
}

/* n pods (24: enough for the helper thread), one container each, one garbled file. */
static void build_n(const char *root, int n)
{
    build_v2(root);
    for (int i = 0; i < n; i++) {
        char pod[256], ctr[400], cid[80], cfg[512], json[512];
        snprintf(pod, sizeof pod,
                 "sys/fs/cgroup/kubepods.slice/kubepods-besteffort.slice/"
                 "kubepods-besteffort-pod0a1b2c3d_4e5f_6789_abcd_ef012345%04d.slice", i);
        snprintf(cid, sizeof cid, "cccc00000000000000000000000000000000000000000000000000000000%04d", i);
        snprintf(ctr, sizeof ctr, "%s/cri-containerd-%s.scope", pod, cid);
        v2_cgroup(root, pod, 1000u * (unsigned)i, "");
        v2_cgroup(root, ctr, 500u * (unsigned)i, "200\n");
        snprintf(cfg, sizeof cfg, "root/run/containerd/io.containerd.runtime.v2.task/k8s.io/%s/config.json", cid);
        snprintf(json, sizeof json,
                 "{\"annotations\":{\"io.kubernetes.cri.container-type\":\"container\","
                 "\"io.kubernetes.cri.container-name\":\"c%d\",\"io.kubernetes.cri.image-name\":\"img\","
                 "\"io.kubernetes.cri.sandbox-name\":\"p%d\",\"io.kubernetes.cri.sandbox-namespace\":\"ns\"}}",
                 i, i);
        put(root, cfg, json);
        if (i == 20) {
            snprintf(cfg, sizeof cfg, "%s/memory.current", ctr);
            put(root, cfg, "garbage\n");
        }
    }
}

static void build_many(const char *root)
{
    build_n(root, 24);
}

/* Scrape a fresh collector with extra_arg over build_many's tree; text into out. */
static void scrape_many(const char *extra_arg, int scrapes, vg_buf *out, double *parse_errs)
{
    fixture fx;
    assert_int_equal(fixture_setup(&fx, extra_arg), 0);
    build_many(fx.root);
    assert_int_equal(agent_collector_pods.init(&fx.ctx, &fx.state), 0);
    vg_scrape *s;
    assert_int_equal(vg_scrape_new(&s), 0);
    vg_buf text = VG_BUF_INIT;
    for (int i = 0; i < scrapes; i++) {
        assert_int_equal(scrape(&fx, s), 0);
        vg_buf_reset(&text);
        assert_int_equal(vg_prom_encode(s, VG_PROM_TEXT, &text), 0);
    }
    /* start times are the fresh tree's mtimes: not comparable between trees */
    vg_buf_reset(out);
    for (const char *l = text.data; *l;) {
        const char *nl = strchr(l, '\n');
        size_t n = nl ? (size_t)(nl - l) + 1 : strlen(l);
        if (strncmp(l, "container_start_time_seconds{", 29) != 0)
            assert_int_equal(vg_buf_append(out, l, n), 0);
        l += n;
    }
    vg_buf_release(&text);
    *parse_errs = errors_of(&fx, "parse");
    vg_scrape_free(s);
    fixture_teardown(&fx);
}

/*
 * The helper thread reads part of the pods; the output (order included)
 * and the error counts are the same as with one thread, also with kept
 * files (the descriptor budget is shared between the two readers).
 */
static void test_helper_thread_same_output(void **state)
{
    (void)state;
    vg_buf one = VG_BUF_INIT, two = VG_BUF_INIT, kept = VG_BUF_INIT;
    double e1, e2, e3;
    scrape_many("--collector.pods.threads=1", 1, &one, &e1);
    scrape_many("--collector.pods.threads=2", 1, &two, &e2);
    scrape_many("--collector.pods.max-open-files=100000", 3, &kept, &e3);
    assert_true(strstr(one.data, "pod=\"p23\"") != NULL);
    assert_string_equal(one.data, two.data);
    assert_string_equal(one.data, kept.data);
    assert_true(e1 == 1 && e2 == 1 && e3 == 3);
    vg_buf_release(&one);
    vg_buf_release(&two);
    vg_buf_release(&kept);
}

#if defined(__SANITIZE_ADDRESS__)
#define HEAP_COUNTED 0 /* the sanitizer's allocator: mallinfo2 says nothing */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HEAP_COUNTED 0
#else
#define HEAP_COUNTED 1
#endif
#else
#define HEAP_COUNTED 1
#endif

/* Heap in use after two scrapes of a fresh collector over n pods. */
static size_t heap_after_scrapes(const char *extra_arg, int n)
{
    fixture fx;
    assert_int_equal(fixture_setup(&fx, extra_arg), 0);
    build_n(fx.root, n);
    vg_scrape *s;
    assert_int_equal(vg_scrape_new(&s), 0);
    size_t before = mallinfo2().uordblks;
    assert_int_equal(agent_collector_pods.init(&fx.ctx, &fx.state), 0);
    assert_int_equal(scrape(&fx, s), 0);
    assert_int_equal(scrape(&fx, s), 0);
    size_t after = mallinfo2().uordblks;
    vg_scrape_free(s);
    fixture_teardown(&fx);
    return after > before ? after - before : 0;
}

/*
 * The helper thread's results are emitted as they come, not held for its
 * whole share of the pods: with 100 pods, two reading threads use about
 * as much heap as one (holding 55 pods' results took ~80 KiB more).
 */
static void test_helper_thread_bounded_results(void **state)
{
    (void)state;
    if (!HEAP_COUNTED)
        skip();
    size_t one = heap_after_scrapes("--collector.pods.threads=1", 100);
    size_t two = heap_after_scrapes("--collector.pods.threads=2", 100);
    printf("heap after scrapes: one thread %zu, two threads %zu\n", one, two);
    assert_true(two < one + 40 * 1024);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v2_containerd),
        cmocka_unit_test(test_v2_bad_files_and_unknown_names),
        cmocka_unit_test(test_pod_netns_once_per_process),
        cmocka_unit_test(test_no_pods),
        cmocka_unit_test(test_v1_crio),
        cmocka_unit_test(test_v1_cfs_only_with_quota),
        cmocka_unit_test(test_cgroup_root_option),
        cmocka_unit_test(test_stats_reader_vanished),
        cmocka_unit_test(test_kept_files_option),
        cmocka_unit_test(test_helper_thread_same_output),
        cmocka_unit_test(test_helper_thread_bounded_results),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
