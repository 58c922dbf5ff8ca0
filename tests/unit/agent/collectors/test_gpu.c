/*
 * test_gpu.c - unit tests for the `gpu` collector (agent/collectors/gpu.h)
 * and the NVML binding (nvml.h), against the fake libnvidia-ml.so.1 builds
 * of tests/fakenvml (loaded by path through collector.gpu.library):
 * symbol resolution newest-first with fallbacks, struct layouts of each
 * API version, families and labels, NOT_SUPPORTED fields omitted, hostile
 * strings, a GPU lost mid-run, the driver unloaded and back (re-init with
 * backoff), init failure, no library, MIG instances, XID/ECC events
 * counted by the event thread, per-pod attribution through a fake procfs
 * and containerd state, and a clean stop on release.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent_collector.h"
#include "collectors/cgroup_pods.h"
#include "collectors/gpu.h"
#include "collectors/label_utf8.h"
#include "collectors/nvml.h"

#define UIDU "0a1b2c3d_4e5f_6789_abcd_ef0123456789"
#define CID1 "c1c1000000000000000000000000000000000000000000000000000000000001"
#define CID2 "c2c2000000000000000000000000000000000000000000000000000000000002"
#define POD_CG "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UIDU ".slice"
#define STATE "root/run/containerd/io.containerd.runtime.v2.task/k8s.io/"

static char g_build[1024]; /* the build directory holding fakenvml/ */

typedef struct fixture {
    char root[64];
    char roots[4][128];
    char cfg_path[128], ev_path[128];
    agent_ctx ctx;
    vg_config *cfg;
    vg_registry *reg;
    vg_log log;
    void *state;
} fixture;

/* ---------------- helpers ---------------- */

static void lib_path(const char *variant, char *out, size_t len)
{
    snprintf(out, len, "%s/fakenvml/%s%slibnvidia-ml.so.1", g_build, variant,
             variant[0] ? "/" : "");
}

static void put(const char *root, const char *rel, const char *text)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", root, rel);
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

/* Replace the fake's config atomically (it re-reads on content change). */
static void fake_config(fixture *fx, const char *text)
{
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s.tmp", fx->cfg_path);
    FILE *f = fopen(tmp, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(rename(tmp, fx->cfg_path), 0);
}

static void fake_event(fixture *fx, const char *line)
{
    FILE *f = fopen(fx->ev_path, "a");
    assert_non_null(f);
    fprintf(f, "%s\n", line);
    fclose(f);
}

static void fixture_setup(fixture *fx, const char *variant, const char *config)
{
    memset(fx, 0, sizeof *fx);
    snprintf(fx->root, sizeof fx->root, "/tmp/vigil-gpu-XXXXXX");
    assert_non_null(mkdtemp(fx->root));
    static const char *const sub[4] = {"proc", "sys", "root", "udev"};
    for (int i = 0; i < 4; i++) {
        snprintf(fx->roots[i], sizeof fx->roots[i], "%s/%s", fx->root, sub[i]);
        mkdir(fx->roots[i], 0755);
        fx->ctx.roots[i] = fx->roots[i];
    }
    snprintf(fx->cfg_path, sizeof fx->cfg_path, "%s/fake.conf", fx->root);
    snprintf(fx->ev_path, sizeof fx->ev_path, "%s/events", fx->root);
    put(fx->root, "events", "");
    fake_config(fx, config);
    setenv("FAKE_NVML_CONFIG", fx->cfg_path, 1);
    setenv("FAKE_NVML_EVENTS", fx->ev_path, 1);
    setenv("NODE_NAME", "node-a", 1);

    char lib[PATH_MAX], arg[PATH_MAX + 32];
    if (variant)
        lib_path(variant, lib, sizeof lib);
    else
        snprintf(lib, sizeof lib, "%s/no-such-libnvidia-ml.so.1", fx->root);
    snprintf(arg, sizeof arg, "--collector.gpu.library=%s", lib);
    const vg_opt_def *defs[2] = {agent_collector_gpu.opts, agent_collector_pods.opts};
    size_t ndefs[2] = {agent_collector_gpu.nopts, agent_collector_pods.nopts};
    char *argv[2] = {"test", arg};
    char *envp[1] = {NULL};
    vg_config_err err;
    assert_int_equal(vg_config_load(defs, ndefs, 2, 2, argv, envp, &fx->cfg, &err), 0);
    assert_int_equal(vg_registry_new(&fx->reg), 0);
    vg_log_init(&fx->log, VG_LOG_ERROR, VG_LOG_LOGFMT);
    fx->ctx.cfg = fx->cfg;
    fx->ctx.log = &fx->log;
    fx->ctx.reg = fx->reg;
    vg_buf_init(&fx->ctx.scratch);
    assert_int_equal(agent_collector_gpu.init(&fx->ctx, &fx->state), 0);
}

static void fixture_teardown(fixture *fx)
{
    if (fx->state)
        agent_collector_gpu.release(fx->state);
    vg_buf_release(&fx->ctx.scratch);
    vg_registry_free(fx->reg);
    vg_config_free(fx->cfg);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->root);
    assert_int_equal(system(cmd), 0);
}

static int collect(fixture *fx, vg_scrape *s)
{
    vg_scrape_reset(s);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    fx->ctx.deadline_ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u + 10000u;
    return agent_collector_gpu.collect(&fx->ctx, fx->state, s);
}

/* Samples of family name whose labels contain every k=v pair in sel (NULL-ended). */
static size_t count_where(vg_scrape *s, const char *name, const char *const *sel, double *first)
{
    const vg_family *f = vg_scrape_find(s, name);
    size_t m = 0;
    if (!f)
        return 0;
    vg_sample_iter it;
    vg_sample_view v;
    vg_family_iter_init(f, &it);
    while (vg_family_iter_next(&it, &v)) {
        bool ok = true;
        for (size_t i = 0; ok && sel && sel[i]; i += 2) {
            bool found = false;
            for (size_t k = 0; k < vg_family_nlabels(f); k++)
                if (strcmp(vg_family_label_name(f, k), sel[i]) == 0 &&
                    strcmp(v.values[k], sel[i + 1]) == 0)
                    found = true;
            ok = found;
        }
        if (ok) {
            if (m == 0 && first)
                *first = v.value;
            m++;
        }
    }
    return m;
}

/* The value of the one sample matching sel; fails the test when not exactly one. */
static double value_of(vg_scrape *s, const char *name, const char *const *sel)
{
    double v = -1;
    size_t n = count_where(s, name, sel, &v);
    if (n != 1)
        fail_msg("%s: %zu samples match, want 1", name, n);
    return v;
}

/* A label value of the first sample of a family. */
static const char *label_of(vg_scrape *s, const char *name, const char *label)
{
    const vg_family *f = vg_scrape_find(s, name);
    assert_non_null(f);
    vg_sample_iter it;
    vg_sample_view v;
    vg_family_iter_init(f, &it);
    assert_true(vg_family_iter_next(&it, &v));
    for (size_t k = 0; k < vg_family_nlabels(f); k++)
        if (strcmp(vg_family_label_name(f, k), label) == 0)
            return v.values[k];
    fail_msg("%s has no label %s", name, label);
    return NULL;
}

static void fake_counters(const char *variant, unsigned int *inits, unsigned int *shutdowns,
                          int *sets)
{
    char p[PATH_MAX];
    lib_path(variant, p, sizeof p);
    void *dl = dlopen(p, RTLD_NOW | RTLD_NOLOAD);
    assert_non_null(dl);
    void (*fn)(unsigned int *, unsigned int *, int *);
    *(void **)&fn = dlsym(dl, "fake_nvml_counters");
    assert_non_null(fn);
    fn(inits, shutdowns, sets);
    dlclose(dl);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---------------- pure helpers ---------------- */

static void test_xid_cause(void **unused)
{
    static const unsigned long long app[] = {13, 31, 43, 45, 68, 109};
    for (size_t i = 0; i < sizeof app / sizeof app[0]; i++)
        assert_true(gpu_xid_is_application(app[i]));
    static const unsigned long long hw[] = {0, 8, 48, 63, 64, 74, 79, 92, 94, 95, 119, 1ULL << 40};
    for (size_t i = 0; i < sizeof hw / sizeof hw[0]; i++)
        assert_false(gpu_xid_is_application(hw[i]));
}

static void test_mig_profile(void **unused)
{
    char p[32];
    gpu_mig_profile("NVIDIA A100-SXM4-40GB MIG 1g.5gb", p, sizeof p);
    assert_string_equal(p, "1g.5gb");
    gpu_mig_profile("NVIDIA H100 80GB HBM3 MIG 3g.40gb", p, sizeof p);
    assert_string_equal(p, "3g.40gb");
    gpu_mig_profile("A MIG B MIG 7g.80gb", p, sizeof p); /* the last " MIG " */
    assert_string_equal(p, "7g.80gb");
    gpu_mig_profile("NVIDIA A100-SXM4-40GB", p, sizeof p);
    assert_string_equal(p, "");
    gpu_mig_profile("X MIG 1g.10gb+me.long.long.long.long", p, 8);
    assert_string_equal(p, "1g.10gb");
}

static void test_str_clean(void **unused)
{
    char s[32] = "Tesla\x01\"T4\"\n\x7f";
    nvml_str_clean(s, sizeof s);
    assert_string_equal(s, "Tesla?\"T4\"??");
    char bad[16] = {'A', (char)0xff, (char)0xfe, 'B', 0};
    nvml_str_clean(bad, sizeof bad);
    assert_string_equal(bad, "A\xef\xbf\xbd" "B");
    assert_true(label_utf8_valid(bad, strlen(bad)));
    /* no NUL inside the buffer: cut at cap-1 */
    char full[8];
    memset(full, 'x', sizeof full);
    nvml_str_clean(full, sizeof full);
    assert_int_equal(strlen(full), 7);
}

/* ---------------- the binding ---------------- */

static void test_lib_missing(void **unused)
{
    nvml_lib lib;
    char why[128] = "";
    assert_int_equal(nvml_lib_open(&lib, "/nonexistent/libnvidia-ml.so.1", why, sizeof why),
                     -ENOENT);
    assert_non_null(strstr(why, "nonexistent"));
    assert_null(lib.dl);
    /* a library without NVML's entry points */
    assert_int_equal(nvml_lib_open(&lib, "libm.so.6", why, sizeof why), -ENOSYS);
    assert_non_null(strstr(why, "nvmlInit_v2"));
    assert_null(lib.dl);
    nvml_lib_close(&lib);
}

static void test_lib_versions(void **unused)
{
    char p[PATH_MAX], why[128];
    nvml_lib lib;

    lib_path("", p, sizeof p);
    assert_int_equal(nvml_lib_open(&lib, p, why, sizeof why), 0);
    assert_string_equal(nvml_lib_symbol(&lib, NVML_FN_INIT), "nvmlInit_v2");
    assert_string_equal(nvml_lib_symbol(&lib, NVML_FN_COUNT), "nvmlDeviceGetCount_v2");
    assert_string_equal(nvml_lib_symbol(&lib, NVML_FN_PCI_INFO), "nvmlDeviceGetPciInfo_v3");
    assert_string_equal(nvml_lib_symbol(&lib, NVML_FN_MEMORY), "nvmlDeviceGetMemoryInfo_v2");
    assert_string_equal(nvml_lib_symbol(&lib, NVML_FN_PROCESSES),
                        "nvmlDeviceGetComputeRunningProcesses_v3");
    assert_string_equal(nvml_lib_symbol(&lib, NVML_FN_EVENT_WAIT), "nvmlEventSetWait_v2");
    assert_int_equal(lib.proc_stride, 24);
    nvml_lib_close(&lib);

    lib_path("old", p, sizeof p);
    assert_int_equal(nvml_lib_open(&lib, p, why, sizeof why), 0);
    assert_string_equal(nvml_lib_symbol(&lib, NVML_FN_INIT), "nvmlInit");
    assert_string_equal(nvml_lib_symbol(&lib, NVML_FN_HANDLE_BY_INDEX),
                        "nvmlDeviceGetHandleByIndex");
    assert_string_equal(nvml_lib_symbol(&lib, NVML_FN_PCI_INFO), "nvmlDeviceGetPciInfo");
    assert_string_equal(nvml_lib_symbol(&lib, NVML_FN_EVENT_WAIT), "nvmlEventSetWait");
    assert_null(nvml_lib_symbol(&lib, NVML_FN_REMAPPED_ROWS));
    assert_null(nvml_lib_symbol(&lib, NVML_FN_MIG_MODE));
    assert_int_equal(lib.proc_stride, 16);
    /* an entry point the driver lacks answers FUNCTION_NOT_FOUND, outputs untouched */
    unsigned int a = 7, b = 7, c = 7, d = 7;
    assert_int_equal(nvml_device_remapped_rows(&lib, NULL, &a, &b, &c, &d),
                     NVML_ERROR_FUNCTION_NOT_FOUND);
    assert_int_equal(a + b + c + d, 28);
    nvml_lib_close(&lib);

    lib_path("cc", p, sizeof p);
    assert_int_equal(nvml_lib_open(&lib, p, why, sizeof why), 0);
    assert_int_equal(lib.proc_stride, 32);
    nvml_lib_close(&lib);
}

/* Layouts: each version's struct read back correctly from the fake. */
static void test_lib_layouts(void **unused)
{
    static const char *const variants[3] = {"", "old", "cc"};
    for (int v = 0; v < 3; v++) {
        fixture fx;
        fixture_setup(&fx, variants[v],
                      "device_count=2\ngpu.1.procs=4242:1048576:3,77:na\n"
                      "gpu.1.fb_used_mib=100\ngpu.1.fb_reserved_mib=10\n");
        char p[PATH_MAX], why[128], buf[96];
        nvml_lib lib;
        lib_path(variants[v], p, sizeof p);
        assert_int_equal(nvml_lib_open(&lib, p, why, sizeof why), 0);
        assert_int_equal(nvml_lib_init(&lib), NVML_SUCCESS);
        nvml_device d;
        assert_int_equal(nvml_device_by_index(&lib, 1, &d), NVML_SUCCESS);
        assert_int_equal(nvml_device_pci_bus_id(&lib, d, buf, sizeof buf), NVML_SUCCESS);
        assert_string_equal(buf, "00000000:11:00.0");
        nvml_mem m;
        assert_int_equal(nvml_device_memory(&lib, d, &m), NVML_SUCCESS);
        assert_int_equal(m.total, 81920ULL << 20);
        assert_int_equal(m.free, (81920ULL - 110) << 20);
        if (v == 1) {
            assert_false(m.has_reserved);
            assert_int_equal(m.used, 110ULL << 20);
        } else {
            assert_true(m.has_reserved);
            assert_int_equal(m.used, 100ULL << 20);
            assert_int_equal(m.reserved, 10ULL << 20);
        }
        nvml_proc procs[4];
        unsigned int n = 0;
        /* too small an array: INSUFFICIENT_SIZE and the count */
        assert_int_equal(nvml_device_processes(&lib, d, procs, 1, &n),
                         NVML_ERROR_INSUFFICIENT_SIZE);
        assert_int_equal(n, 2);
        assert_int_equal(nvml_device_processes(&lib, d, procs, 4, &n), NVML_SUCCESS);
        assert_int_equal(n, 2);
        assert_int_equal(procs[0].pid, 4242);
        assert_int_equal(procs[0].used_bytes, 1048576);
        assert_int_equal(procs[0].gpu_instance, v == 1 ? NVML_NO_INSTANCE : 3);
        assert_int_equal(procs[1].pid, 77);
        assert_true(procs[1].used_bytes == NVML_VALUE_NOT_AVAILABLE_ULL);
        assert_int_equal(nvml_lib_shutdown(&lib), NVML_SUCCESS);
        nvml_lib_close(&lib);
        fixture_teardown(&fx);
    }
}

/* ---------------- the collector ---------------- */

static void test_families_and_labels(void **unused)
{
    fixture fx;
    fixture_setup(&fx, "",
                  "device_count=2\ndriver_version=550.54.15\n"
                  "gpu.*.power_mw=72500\ngpu.0.fb_used_mib=2048\ngpu.0.fb_reserved_mib=256\n"
                  "gpu.0.fb_total_mib=16384\ngpu.1.unsupported=mem_temp,enc_util,ecc,remap\n"
                  "gpu.0.mem_temp=41.5\ngpu.1.name=Tesla \"T4\"\\x01\\xff\\nx\n"
                  "gpu.0.bus_id=00000000:3B:00.0\ngpu.0.energy_mj=9007199254740993\n");
    vg_scrape *s;
    assert_int_equal(vg_scrape_new(&s), 0);
    assert_int_equal(collect(&fx, s), 0);

    const char *g0[] = {"gpu", "0", NULL};
    const char *g1[] = {"gpu", "1", NULL};
    const vg_family *f = vg_scrape_find(s, "DCGM_FI_DEV_SM_CLOCK");
    assert_non_null(f);
    static const char *const want[] = {"gpu", "UUID", "pci_bus_id", "device", "modelName",
                                       "GPU_I_PROFILE", "GPU_I_ID", "Hostname",
                                       "DCGM_FI_DRIVER_VERSION", "container", "namespace", "pod"};
    assert_int_equal(vg_family_nlabels(f), 12);
    for (size_t i = 0; i < 12; i++)
        assert_string_equal(vg_family_label_name(f, i), want[i]);
    assert_int_equal(vg_family_type(f), VG_MT_GAUGE);
    assert_int_equal(vg_family_type(vg_scrape_find(s, "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION")),
                     VG_MT_COUNTER);
    assert_int_equal(vg_family_type(vg_scrape_find(s, "DCGM_FI_DEV_PCIE_REPLAY_COUNTER")),
                     VG_MT_COUNTER);
    assert_int_equal(vg_family_type(vg_scrape_find(s, "DCGM_FI_DEV_XID_ERRORS")), VG_MT_GAUGE);

    const char *sel0[] = {"gpu", "0", "UUID", "GPU-fa000000-1111-2222-3333-000000000000",
                          "pci_bus_id", "00000000:3B:00.0", "device", "nvidia0", "modelName",
                          "NVIDIA A100-SXM4-80GB", "Hostname", "node-a",
                          "DCGM_FI_DRIVER_VERSION", "550.54.15", "GPU_I_PROFILE", "",
                          "pod", "", NULL};
    assert_true(value_of(s, "DCGM_FI_DEV_SM_CLOCK", sel0) == 1410);
    assert_true(value_of(s, "DCGM_FI_DEV_MEM_CLOCK", g0) == 1593);
    assert_true(value_of(s, "DCGM_FI_DEV_GPU_TEMP", g0) == 34);
    assert_true(value_of(s, "DCGM_FI_DEV_MEMORY_TEMP", g0) == 41.5);
    assert_true(value_of(s, "DCGM_FI_DEV_POWER_USAGE", g1) == 72.5);
    assert_true(value_of(s, "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", g0) == 9007199254740992.0);
    assert_true(value_of(s, "DCGM_FI_DEV_FB_USED", g0) == 2048);
    assert_true(value_of(s, "DCGM_FI_DEV_FB_RESERVED", g0) == 256);
    assert_true(value_of(s, "DCGM_FI_DEV_FB_FREE", g0) == 16384 - 2048 - 256);
    assert_true(value_of(s, "DCGM_FI_DEV_XID_ERRORS", g0) == 0);
    assert_true(value_of(s, "DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS", g0) == 0);
    assert_true(value_of(s, "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", g0) == 0);
    assert_true(value_of(s, "vigil_gpu_lost", g1) == 0);
    assert_string_equal(label_of(s, "DCGM_FI_DEV_GPU_UTIL", "Hostname"), "node-a");
    assert_string_equal(label_of(s, "DCGM_FI_DEV_GPU_UTIL", "device"), "nvidia0");

    /* NOT_SUPPORTED fields are omitted for GPU 1 only, never a sentinel */
    assert_int_equal(count_where(s, "DCGM_FI_DEV_MEMORY_TEMP", NULL, NULL), 1);
    assert_int_equal(count_where(s, "DCGM_FI_DEV_MEMORY_TEMP", g1, NULL), 0);
    assert_int_equal(count_where(s, "DCGM_FI_DEV_ENC_UTIL", g1, NULL), 0);
    assert_int_equal(count_where(s, "DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", g1, NULL), 0);
    assert_int_equal(count_where(s, "DCGM_FI_DEV_ROW_REMAP_FAILURE", g1, NULL), 0);
    assert_int_equal(count_where(s, "DCGM_FI_DEV_DEC_UTIL", g1, NULL), 1);

    /* the hostile model name is bounded, valid UTF-8, without control characters */
    const vg_family *pw = vg_scrape_find(s, "DCGM_FI_DEV_POWER_USAGE");
    vg_sample_iter it;
    vg_sample_view v;
    vg_family_iter_init(pw, &it);
    assert_true(vg_family_iter_next(&it, &v));
    assert_true(vg_family_iter_next(&it, &v));
    const char *model = v.values[4];
    assert_string_equal(model, "Tesla \"T4\"?\xef\xbf\xbd?x");
    assert_true(label_utf8_valid(model, strlen(model)));
    vg_scrape_free(s);
    fixture_teardown(&fx);
}

static void test_gpu_lost_mid_run(void **unused)
{
    fixture fx;
    fixture_setup(&fx, "", "device_count=3\n");
    vg_scrape *s;
    assert_int_equal(vg_scrape_new(&s), 0);
    assert_int_equal(collect(&fx, s), 0);
    assert_int_equal(count_where(s, "DCGM_FI_DEV_GPU_TEMP", NULL, NULL), 3);

    fake_config(&fx, "device_count=3\ngpu.1.lost=1\n");
    assert_int_equal(collect(&fx, s), 0);
    const char *g0[] = {"gpu", "0", NULL};
    const char *g1[] = {"gpu", "1", "UUID", "GPU-fa000001-1111-2222-3333-000000000001", NULL};
    const char *g2[] = {"gpu", "2", NULL};
    assert_true(value_of(s, "vigil_gpu_lost", g1) == 1);
    assert_true(value_of(s, "vigil_gpu_lost", g0) == 0);
    assert_int_equal(count_where(s, "DCGM_FI_DEV_GPU_TEMP", NULL, NULL), 2);
    assert_int_equal(count_where(s, "DCGM_FI_DEV_SM_CLOCK", g1, NULL), 0);
    assert_true(value_of(s, "DCGM_FI_DEV_SM_CLOCK", g2) == 1410);

    /* still lost: stays reported, others keep going */
    assert_int_equal(collect(&fx, s), 0);
    assert_true(value_of(s, "vigil_gpu_lost", g1) == 1);
    assert_int_equal(count_where(s, "DCGM_FI_DEV_GPU_TEMP", NULL, NULL), 2);

    /* back after a reset: read again */
    fake_config(&fx, "device_count=3\n");
    assert_int_equal(collect(&fx, s), 0);
    assert_true(value_of(s, "vigil_gpu_lost", g1) == 0);
    assert_int_equal(count_where(s, "DCGM_FI_DEV_GPU_TEMP", NULL, NULL), 3);
    vg_scrape_free(s);
    fixture_teardown(&fx);
}

static void test_driver_unloaded_and_back(void **unused)
{
    fixture fx;
    fixture_setup(&fx, "", "device_count=1\n");
    vg_scrape *s;
    assert_int_equal(vg_scrape_new(&s), 0);
    assert_int_equal(collect(&fx, s), 0);
    unsigned int inits, shutdowns;
    int sets;
    fake_counters("", &inits, &shutdowns, &sets);
    assert_int_equal(inits, 1);
    assert_int_equal(sets, 1);

    fake_config(&fx, "device_count=1\ndriver=unloaded\n");
    assert_int_equal(collect(&fx, s), -ENODEV);
    fake_counters("", &inits, &shutdowns, &sets);
    assert_int_equal(shutdowns, 1);
    assert_int_equal(sets, 0); /* the event thread stopped and its set freed */
    /* before the backoff runs out nothing is tried */
    assert_int_equal(collect(&fx, s), -ENODEV);
    fake_counters("", &inits, &shutdowns, &sets);
    assert_int_equal(inits, 1);

    fake_config(&fx, "device_count=2\n");
    int rc = -1;
    for (int i = 0; i < 40 && rc != 0; i++) {
        sleep_ms(100);
        rc = collect(&fx, s);
    }
    assert_int_equal(rc, 0);
    fake_counters("", &inits, &shutdowns, &sets);
    assert_int_equal(inits, 2);
    assert_int_equal(count_where(s, "DCGM_FI_DEV_GPU_TEMP", NULL, NULL), 2);
    vg_scrape_free(s);
    /* keep the fake loaded past release to read its counters */
    char p[PATH_MAX];
    lib_path("", p, sizeof p);
    void *hold = dlopen(p, RTLD_NOW | RTLD_NOLOAD);
    assert_non_null(hold);
    fixture_teardown(&fx);
    /* release shut NVML down and stopped the thread */
    fake_counters("", &inits, &shutdowns, &sets);
    assert_int_equal(shutdowns, inits);
    assert_int_equal(sets, 0);
    dlclose(hold);
}

static void test_init_failure_and_no_library(void **unused)
{
    fixture fx;
    fixture_setup(&fx, "", "init_error=9\n");
    vg_scrape *s;
    assert_int_equal(vg_scrape_new(&s), 0);
    assert_int_equal(collect(&fx, s), -ENODEV);
    assert_int_equal(vg_scrape_family_count(s), 0);
    unsigned int inits, shutdowns;
    int sets;
    fake_counters("", &inits, &shutdowns, &sets);
    assert_int_equal(collect(&fx, s), -ENODEV); /* backoff: not retried yet */
    unsigned int inits2;
    fake_counters("", &inits2, &shutdowns, &sets);
    assert_int_equal(inits2, inits);
    fixture_teardown(&fx);

    fixture_setup(&fx, NULL, "");
    assert_int_equal(collect(&fx, s), -ENOENT);
    assert_int_equal(vg_scrape_family_count(s), 0);
    assert_int_equal(collect(&fx, s), -ENOENT);
    fixture_teardown(&fx);
    vg_scrape_free(s);
}

static void test_old_driver(void **unused)
{
    fixture fx;
    fixture_setup(&fx, "old", "device_count=2\n");
    vg_scrape *s;
    assert_int_equal(vg_scrape_new(&s), 0);
    assert_int_equal(collect(&fx, s), 0);
    const char *g1[] = {"gpu", "1", "pci_bus_id", "00000000:11:00.0", NULL};
    assert_true(value_of(s, "DCGM_FI_DEV_FB_USED", g1) == 1024 + 512);
    assert_int_equal(count_where(s, "DCGM_FI_DEV_FB_RESERVED", NULL, NULL), 0);
    assert_int_equal(count_where(s, "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", NULL, NULL), 0);
    assert_int_equal(count_where(s, "DCGM_FI_DEV_MEMORY_TEMP", NULL, NULL), 0);
    assert_int_equal(count_where(s, "DCGM_FI_DEV_ROW_REMAP_FAILURE", NULL, NULL), 0);
    assert_int_equal(count_where(s, "DCGM_FI_DEV_SM_CLOCK", NULL, NULL), 2);
    vg_scrape_free(s);
    fixture_teardown(&fx);
}

static void test_mig(void **unused)
{
    fixture fx;
    fixture_setup(&fx, "",
                  "device_count=2\ngpu.0.mig=1\ngpu.0.mig_count=2\n"
                  "gpu.0.mig.0.profile=3g.40gb\ngpu.0.mig.0.gi=1\ngpu.0.mig.0.fb_used_mib=500\n"
                  "gpu.0.mig.1.profile=1g.10gb\ngpu.0.mig.1.gi=9\n"
                  "gpu.1.mig=0\n");
    vg_scrape *s;
    assert_int_equal(vg_scrape_new(&s), 0);
    assert_int_equal(collect(&fx, s), 0);
    const char *i1[] = {"gpu", "0", "GPU_I_PROFILE", "3g.40gb", "GPU_I_ID", "1", "UUID",
                        "GPU-fa000000-1111-2222-3333-000000000000", NULL};
    const char *i9[] = {"gpu", "0", "GPU_I_PROFILE", "1g.10gb", "GPU_I_ID", "9", NULL};
    const char *parent[] = {"gpu", "0", "GPU_I_ID", "", NULL};
    assert_true(value_of(s, "DCGM_FI_DEV_FB_USED", i1) == 500);
    assert_true(value_of(s, "DCGM_FI_DEV_FB_USED", i9) == 13);
    assert_true(value_of(s, "DCGM_FI_DEV_FB_USED", parent) == 1024);
    assert_int_equal(count_where(s, "DCGM_FI_DEV_FB_USED", NULL, NULL), 4);
    /* instance-less fields are per GPU only */
    assert_int_equal(count_where(s, "DCGM_FI_DEV_SM_CLOCK", NULL, NULL), 2);
    vg_scrape_free(s);
    fixture_teardown(&fx);
}

static void test_xid_events(void **unused)
{
    fixture fx;
    fixture_setup(&fx, "", "device_count=2\n");
    vg_scrape *s;
    assert_int_equal(vg_scrape_new(&s), 0);
    assert_int_equal(collect(&fx, s), 0);
    assert_int_equal(count_where(s, "vigil_gpu_xid_errors_total", NULL, NULL), 0);
    fake_event(&fx, "0 xid 13");
    fake_event(&fx, "1 xid 79");
    fake_event(&fx, "1 xid 79");
    fake_event(&fx, "0 sbe");
    fake_event(&fx, "garbage");
    fake_event(&fx, "9 xid 31"); /* no such GPU: not delivered */
    fake_event(&fx, "1 xid 48");
    const char *x48[] = {"gpu", "1", "xid", "48", "cause", "hardware", NULL};
    for (int i = 0; i < 100 && count_where(s, "vigil_gpu_xid_errors_total", x48, NULL) == 0;
         i++) {
        sleep_ms(20);
        assert_int_equal(collect(&fx, s), 0);
    }
    const char *x13[] = {"gpu", "0", "UUID", "GPU-fa000000-1111-2222-3333-000000000000", "xid",
                         "13", "cause", "application", NULL};
    const char *x79[] = {"gpu", "1", "xid", "79", "cause", "hardware", NULL};
    const char *sbe[] = {"gpu", "0", "type", "single_bit", NULL};
    assert_true(value_of(s, "vigil_gpu_xid_errors_total", x13) == 1);
    assert_true(value_of(s, "vigil_gpu_xid_errors_total", x79) == 2);
    assert_true(value_of(s, "vigil_gpu_xid_errors_total", x48) == 1);
    assert_int_equal(count_where(s, "vigil_gpu_xid_errors_total", NULL, NULL), 3);
    assert_true(value_of(s, "vigil_gpu_ecc_events_total", sbe) == 1);
    assert_int_equal(vg_family_type(vg_scrape_find(s, "vigil_gpu_xid_errors_total")),
                     VG_MT_COUNTER);
    const char *g0[] = {"gpu", "0", NULL};
    const char *g1[] = {"gpu", "1", NULL};
    assert_true(value_of(s, "DCGM_FI_DEV_XID_ERRORS", g0) == 13);
    assert_true(value_of(s, "DCGM_FI_DEV_XID_ERRORS", g1) == 48); /* the last one */
    vg_scrape_free(s);
    fixture_teardown(&fx);
}

static void test_events_unsupported(void **unused)
{
    fixture fx;
    fixture_setup(&fx, "", "events=0\n");
    vg_scrape *s;
    assert_int_equal(vg_scrape_new(&s), 0);
    assert_int_equal(collect(&fx, s), 0);
    /* no registration: no last-XID gauge rather than a misleading 0 */
    assert_int_equal(count_where(s, "DCGM_FI_DEV_XID_ERRORS", NULL, NULL), 0);
    unsigned int inits, shutdowns;
    int sets;
    fake_counters("", &inits, &shutdowns, &sets);
    assert_int_equal(sets, 0);
    vg_scrape_free(s);
    fixture_teardown(&fx);
}

static void write_container(fixture *fx, const char *cid, const char *pod, const char *ctr)
{
    char rel[512], json[1024];
    snprintf(rel, sizeof rel, STATE "%s/config.json", cid);
    snprintf(json, sizeof json,
             "{\"annotations\":{\"io.kubernetes.cri.container-type\":\"container\","
             "\"io.kubernetes.cri.container-name\":\"%s\","
             "\"io.kubernetes.cri.sandbox-name\":\"%s\","
             "\"io.kubernetes.cri.sandbox-namespace\":\"ml\"}}",
             ctr, pod);
    put(fx->root, rel, json);
}

static void write_proc(fixture *fx, unsigned int pid, const char *cid)
{
    char rel[64], text[512];
    snprintf(rel, sizeof rel, "proc/%u/cgroup", pid);
    if (cid)
        snprintf(text, sizeof text, "%s/cri-containerd-%s.scope\n", POD_CG, cid);
    else
        snprintf(text, sizeof text, "0::/system.slice/ssh.service\n");
    put(fx->root, rel, text);
}

static void test_attribution(void **unused)
{
    static const char *const variants[3] = {"", "old", "cc"};
    for (int v = 0; v < 3; v++) {
        fixture fx;
        /* GPU 0: two processes of one container; GPU 1: two containers (shared);
         * GPU 2: a container and a host process; GPU 3: an exited process only. */
        fixture_setup(&fx, variants[v],
                      "device_count=4\n"
                      "gpu.0.procs=101:1048576,102:2097152\n"
                      "gpu.1.procs=201:4194304,202:1048576\n"
                      "gpu.2.procs=301:1048576,302:1048576\n"
                      "gpu.3.procs=999:1048576\n");
        write_container(&fx, CID1, "train-0", "trainer");
        write_container(&fx, CID2, "infer-0", "server");
        write_proc(&fx, 101, CID1);
        write_proc(&fx, 102, CID1);
        write_proc(&fx, 201, CID1);
        write_proc(&fx, 202, CID2);
        write_proc(&fx, 301, CID2);
        write_proc(&fx, 302, NULL);
        vg_scrape *s;
        assert_int_equal(vg_scrape_new(&s), 0);
        assert_int_equal(collect(&fx, s), 0);
        const char *own0[] = {"gpu", "0", "pod", "train-0", "namespace", "ml", "container",
                              "trainer", NULL};
        assert_true(value_of(s, "DCGM_FI_DEV_GPU_TEMP", own0) == 34);
        assert_true(value_of(s, "DCGM_FI_DEV_FB_USED", own0) == (v == 1 ? 1536 : 1024));
        for (int g = 1; g < 4; g++) {
            char gs[4];
            snprintf(gs, sizeof gs, "%d", g);
            const char *none[] = {"gpu", gs, "pod", "", "container", "", NULL};
            assert_true(value_of(s, "DCGM_FI_DEV_GPU_TEMP", none) == 34);
        }
        const char *m0[] = {"gpu", "0", "pod", "train-0", "namespace", "ml", "container",
                            "trainer", NULL};
        const char *m1a[] = {"gpu", "1", "pod", "train-0", "container", "trainer", NULL};
        const char *m1b[] = {"gpu", "1", "pod", "infer-0", "container", "server", NULL};
        const char *m2[] = {"gpu", "2", "pod", "infer-0", NULL};
        const char *m3[] = {"gpu", "3", NULL};
        assert_true(value_of(s, "vigil_gpu_container_memory_used_bytes", m0) == 3145728);
        assert_true(value_of(s, "vigil_gpu_container_memory_used_bytes", m1a) == 4194304);
        assert_true(value_of(s, "vigil_gpu_container_memory_used_bytes", m1b) == 1048576);
        assert_true(value_of(s, "vigil_gpu_container_memory_used_bytes", m2) == 1048576);
        assert_int_equal(count_where(s, "vigil_gpu_container_memory_used_bytes", m3, NULL), 0);
        assert_int_equal(count_where(s, "vigil_gpu_container_memory_used_bytes", NULL, NULL), 4);

        /* the container leaves GPU 2's host process alone: now exclusive */
        fake_config(&fx, "device_count=4\ngpu.2.procs=301:1048576\n");
        assert_int_equal(collect(&fx, s), 0);
        const char *own2[] = {"gpu", "2", "pod", "infer-0", "container", "server", NULL};
        assert_true(value_of(s, "DCGM_FI_DEV_GPU_TEMP", own2) == 34);
        assert_int_equal(count_where(s, "vigil_gpu_container_memory_used_bytes", NULL, NULL), 1);
        vg_scrape_free(s);
        fixture_teardown(&fx);
    }
}

static void test_attribution_mig_and_unnamed(void **unused)
{
    fixture fx;
    fixture_setup(&fx, "",
                  "device_count=1\ngpu.0.mig=1\ngpu.0.mig_count=2\n"
                  "gpu.0.mig.0.gi=1\ngpu.0.mig.1.gi=2\n"
                  "gpu.0.procs=101:1048576:1,202:2097152:2,303:1048576:2\n");
    write_container(&fx, CID1, "train-0", "trainer");
    write_container(&fx, CID2, "infer-0", "server");
    write_proc(&fx, 101, CID1);
    write_proc(&fx, 202, CID2);
    /* 303: a container whose runtime state is missing (not attributed, not named) */
    put(fx.root, "proc/303/cgroup", POD_CG "/cri-containerd-"
        "d3d3000000000000000000000000000000000000000000000000000000000003.scope\n");
    vg_scrape *s;
    assert_int_equal(vg_scrape_new(&s), 0);
    assert_int_equal(collect(&fx, s), 0);
    const char *gi1[] = {"GPU_I_ID", "1", "pod", "train-0", "container", "trainer", NULL};
    const char *gi2[] = {"GPU_I_ID", "2", "pod", "", NULL};
    const char *parent[] = {"GPU_I_ID", "", "pod", "", NULL};
    assert_true(value_of(s, "DCGM_FI_DEV_FB_USED", gi1) == 13);
    assert_true(value_of(s, "DCGM_FI_DEV_FB_USED", gi2) == 13);
    assert_true(value_of(s, "DCGM_FI_DEV_FB_USED", parent) == 1024);
    assert_int_equal(count_where(s, "vigil_gpu_container_memory_used_bytes", NULL, NULL), 2);

    /* attribution off: no process reads, no pod labels */
    vg_config_free(fx.cfg);
    char arg[PATH_MAX + 32], lib[PATH_MAX];
    lib_path("", lib, sizeof lib);
    snprintf(arg, sizeof arg, "--collector.gpu.library=%s", lib);
    const vg_opt_def *defs[2] = {agent_collector_gpu.opts, agent_collector_pods.opts};
    size_t ndefs[2] = {agent_collector_gpu.nopts, agent_collector_pods.nopts};
    char *argv[3] = {"test", arg, "--no-collector.gpu.attribution"};
    char *envp[1] = {NULL};
    vg_config_err err;
    assert_int_equal(vg_config_load(defs, ndefs, 2, 3, argv, envp, &fx.cfg, &err), 0);
    fx.ctx.cfg = fx.cfg;
    assert_int_equal(collect(&fx, s), 0);
    assert_int_equal(count_where(s, "vigil_gpu_container_memory_used_bytes", NULL, NULL), 0);
    const char *named[] = {"pod", "train-0", NULL};
    assert_int_equal(count_where(s, "DCGM_FI_DEV_FB_USED", named, NULL), 0);
    vg_scrape_free(s);
    fixture_teardown(&fx);
}

static void test_gpu_count_change(void **unused)
{
    fixture fx;
    fixture_setup(&fx, "", "device_count=1\n");
    vg_scrape *s;
    assert_int_equal(vg_scrape_new(&s), 0);
    assert_int_equal(collect(&fx, s), 0);
    assert_int_equal(count_where(s, "vigil_gpu_lost", NULL, NULL), 1);
    fake_config(&fx, "device_count=8\n");
    assert_int_equal(collect(&fx, s), 0);
    assert_int_equal(count_where(s, "vigil_gpu_lost", NULL, NULL), 8);
    assert_int_equal(count_where(s, "DCGM_FI_DEV_SM_CLOCK", NULL, NULL), 8);
    fake_config(&fx, "device_count=0\n");
    assert_int_equal(collect(&fx, s), 0);
    assert_int_equal(count_where(s, "DCGM_FI_DEV_SM_CLOCK", NULL, NULL), 0);
    vg_scrape_stats st;
    vg_scrape_stats_get(s, &st);
    assert_int_equal(st.duplicates + st.conflicts + st.invalid, 0);
    vg_scrape_free(s);
    fixture_teardown(&fx);
}

static void test_deadline_and_lost_at_start(void **unused)
{
    fixture fx;
    fixture_setup(&fx, "", "device_count=2\ngpu.1.lost=1\n");
    vg_scrape *s;
    assert_int_equal(vg_scrape_new(&s), 0);
    /* lost before it was ever named: reported with the UUID unknown */
    assert_int_equal(collect(&fx, s), 0);
    const char *g1[] = {"gpu", "1", "UUID", "", NULL};
    assert_true(value_of(s, "vigil_gpu_lost", g1) == 1);
    assert_int_equal(count_where(s, "DCGM_FI_DEV_SM_CLOCK", NULL, NULL), 1);
    /* a scrape already past its deadline reads no GPU and says so */
    vg_scrape_reset(s);
    fx.ctx.deadline_ms = 1;
    assert_int_equal(agent_collector_gpu.collect(&fx.ctx, fx.state, s), -ETIMEDOUT);
    assert_int_equal(count_where(s, "DCGM_FI_DEV_SM_CLOCK", NULL, NULL), 0);
    vg_scrape_free(s);
    fixture_teardown(&fx);
}

static int find_build(void)
{
    /* $(BUILD)/tests/unit/agent/collectors/test_gpu -> $(BUILD) */
    char exe[sizeof g_build];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *cut = strstr(exe, "/tests/unit/agent/collectors/");
        if (cut) {
            *cut = '\0';
            snprintf(g_build, sizeof g_build, "%s", exe);
        }
    }
    const char *env = getenv("BUILD");
    if (!g_build[0] && env && strlen(env) < sizeof g_build)
        memcpy(g_build, env, strlen(env) + 1);
    char p[PATH_MAX];
    lib_path("", p, sizeof p);
    return access(p, R_OK);
}

int main(void)
{
    if (find_build() != 0) {
        fprintf(stderr, "test_gpu: the fake NVML libraries are not built (make fakenvml)\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xid_cause),
        cmocka_unit_test(test_mig_profile),
        cmocka_unit_test(test_str_clean),
        cmocka_unit_test(test_lib_missing),
        cmocka_unit_test(test_lib_versions),
        cmocka_unit_test(test_lib_layouts),
        cmocka_unit_test(test_families_and_labels),
        cmocka_unit_test(test_gpu_lost_mid_run),
        cmocka_unit_test(test_driver_unloaded_and_back),
        cmocka_unit_test(test_init_failure_and_no_library),
        cmocka_unit_test(test_old_driver),
        cmocka_unit_test(test_mig),
        cmocka_unit_test(test_xid_events),
        cmocka_unit_test(test_events_unsupported),
        cmocka_unit_test(test_attribution),
        cmocka_unit_test(test_attribution_mig_and_unnamed),
        cmocka_unit_test(test_gpu_count_change),
        cmocka_unit_test(test_deadline_and_lost_at_start),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
