/*
 * Unit tests for the filesystem collector (agent/collectors/proc_mountinfo.c):
 * mountinfo parsing, filters, rootfs handling, and - through the statfs
 * test hook - the hung-mount timeout without needing FUSE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <regex.h>
#include <unistd.h>

#include "collectors/proc_mountinfo.h"
#include "vg_loop.h"
#include "proc_test_util.h"

static vg_slice sl(const char *s)
{
    return (vg_slice){s, strlen(s)};
}

static void test_parse_line(void **st)
{
    proc_mount m;
    assert_int_equal(proc_mountinfo_parse_line(
                         sl("36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root "
                            "rw,errors=continue"),
                         &m),
                     0);
    assert_int_equal(m.major, 98);
    assert_int_equal(m.minor, 0);
    assert_true(vg_slice_eq(m.mountpoint, "/mnt2"));
    assert_true(vg_slice_eq(m.fstype, "ext3"));
    assert_true(vg_slice_eq(m.source, "/dev/root"));
    assert_true(vg_slice_eq(m.mount_opts, "rw,noatime"));
    assert_true(vg_slice_eq(m.super_opts, "rw,errors=continue"));
    /* several optional fields */
    assert_int_equal(proc_mountinfo_parse_line(
                         sl("1 2 0:5 / /a rw shared:1 master:2 propagate_from:3 - tmpfs tmpfs rw"),
                         &m),
                     0);
    assert_true(vg_slice_eq(m.fstype, "tmpfs"));
    /* an empty source leaves two spaces */
    assert_int_equal(proc_mountinfo_parse_line(sl("1 2 0:5 / /b rw - fuse.x  rw,user_id=0"), &m),
                     0);
    assert_int_equal(m.source.n, 0);
    assert_true(vg_slice_eq(m.super_opts, "rw,user_id=0"));
    /* garbage */
    const char *bad[] = {
        "",
        "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 ext3 /dev/root rw",   /* no "-" */
        "36 35 98 /mnt1 /mnt2 rw - ext3 /dev/root rw",                      /* no ':' */
        "36 35 x:0 /mnt1 /mnt2 rw - ext3 /dev/root rw",
        "a 35 98:0 /mnt1 /mnt2 rw - ext3 /dev/root rw",
        "36 35 98:0 /mnt1 mnt2 rw - ext3 /dev/root rw",                     /* relative */
        "36 35 98:0 /mnt1 /mnt2 rw -",
        "36 35 98:0 /mnt1 /mnt2 rw - ext3",
        "36 35 98:99999999999 / / rw - ext3 /dev/root rw",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(proc_mountinfo_parse_line(sl(bad[i]), &m), -EINVAL);
}

static void test_unescape_and_opts(void **st)
{
    char out[64];
    assert_int_equal(proc_mountinfo_unescape(sl("/mnt/my\\040disk\\011x\\134y"), out, sizeof out),
                     0);
    assert_string_equal(out, "/mnt/my disk\tx\\y");
    assert_int_equal(proc_mountinfo_unescape(sl("/a\\04"), out, sizeof out), 0);
    assert_string_equal(out, "/a\\04");
    assert_int_equal(proc_mountinfo_unescape(sl("/a\\999"), out, sizeof out), 0);
    assert_string_equal(out, "/a\\999");
    assert_int_equal(proc_mountinfo_unescape(sl("/abcdef"), out, 4), -ENAMETOOLONG);
    assert_true(proc_mountinfo_opt_has(sl("ro,relatime"), "ro"));
    assert_true(proc_mountinfo_opt_has(sl("rw,nosuid,ro"), "ro"));
    assert_true(proc_mountinfo_opt_has(sl("ro"), "ro"));
    assert_false(proc_mountinfo_opt_has(sl("rw,errors=remount-ro"), "ro"));
    assert_false(proc_mountinfo_opt_has(sl("rox,xro"), "ro"));
    assert_false(proc_mountinfo_opt_has(sl(""), "ro"));
}

static void check_same(const char *pattern, bool (*fn)(const char *), const char *const *names,
                       size_t n)
{
    regex_t re;
    assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
    for (size_t i = 0; i < n; i++) {
        bool want = regexec(&re, names[i], 0, NULL, 0) == 0;
        if (want != fn(names[i]))
            fail_msg("default filter disagrees with %s on \"%s\"", pattern, names[i]);
    }
    regfree(&re);
}

static void test_default_filters_match_regex(void **st)
{
    static const char *const mps[] = {
        "/", "/dev", "/dev/", "/dev/shm", "/devices", "/proc", "/proc/sys/fs/binfmt_misc",
        "/procx", "/sys", "/sys/fs/cgroup/memory", "/system", "/run", "/run/credentials",
        "/run/credentials/", "/run/credentials/x", "/run/credentials/a/b", "/run/user/1000",
        "/var/lib/docker", "/var/lib/docker/", "/var/lib/docker/overlay2/abc/merged",
        "/var/lib/containers/storage/overlay", "/var/lib/containers/storage/",
        "/var/lib/kubelet/pods/x/volumes", "/home", "/mnt/data", "dev", "//dev", "/boot/efi",
    };
    check_same(FS_MOUNT_POINTS_EXCLUDE_DEFAULT, proc_mountinfo_default_mp_excluded, mps,
               sizeof mps / sizeof mps[0]);
    static const char *const types[] = {
        "ext4", "xfs", "tmpfs", "cgroup", "cgroup2", "cgroup3", "cgroupfs", "proc", "procfs",
        "sysfs", "overlay", "overlayfs", "squashfs", "nfs", "nfs4", "fuse.sshfs", "autofs",
        "binfmt_misc", "bpf", "configfs", "debugfs", "devpts", "devtmpfs", "fusectl",
        "hugetlbfs", "iso9660", "mqueue", "nsfs", "pstore", "rpc_pipefs", "securityfs",
        "selinuxfs", "tracefs", "xtracefs", "", "btrfs", "zfs",
    };
    check_same(FS_TYPES_EXCLUDE_DEFAULT, proc_mountinfo_default_type_excluded, types,
               sizeof types / sizeof types[0]);
}

static void test_parse_rootfs_dedupe(void **st)
{
    const char *in =
        "22 27 0:21 / /host/proc rw,relatime - proc proc rw\n"
        "27 1 254:0 / /host rw,relatime - ext4 /dev/vda rw\n"
        "28 27 254:1 / /host/var/lib/data rw,relatime - xfs /dev/vdb ro,attr2\n"
        "29 27 0:40 / /host/mnt/my\\040share ro,relatime - nfs4 srv:/exp rw\n"
        "30 27 254:0 / /host rw,relatime - ext4 /dev/vda rw,other\n"     /* repeat */
        "31 1 0:50 / /etc/hosts rw - ext4 /dev/sda1 rw\n"                /* outside rootfs */
        "garbage line\n"
        "32 27 0:51 / /host/sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
        "33 27 0:52 / /host/run/user/0 rw - tmpfs tmpfs rw\n";
    agent_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.roots[AGENT_ROOT_ROOTFS] = "/host";
    fs_mounts m;
    fs_mounts_init(&m);
    unsigned skipped = 0;
    assert_int_equal(proc_mountinfo_parse(&ctx, in, strlen(in), NULL, NULL, &m, &skipped), 5);
    assert_int_equal(skipped, 1);
    const char *want_mp[] = {"/", "/var/lib/data", "/mnt/my share", "/etc/hosts", "/run/user/0"};
    const char *want_target[] = {"/host", "/host/var/lib/data", "/host/mnt/my share",
                                 "/host/etc/hosts", "/host/run/user/0"};
    for (int i = 0; i < 5; i++) {
        assert_string_equal(fs_mounts_str(&m, m.v[i].mountpoint), want_mp[i]);
        assert_string_equal(fs_mounts_str(&m, m.v[i].target), want_target[i]);
        assert_int_equal(m.v[i].rc, -EINPROGRESS);
    }
    assert_string_equal(fs_mounts_str(&m, m.v[1].device), "/dev/vdb");
    assert_int_equal(m.v[1].major, 254);
    assert_int_equal(m.v[1].minor, 1);
    assert_true(m.v[1].ro);  /* read-only superblock */
    assert_true(m.v[2].ro);  /* read-only mount */
    assert_false(m.v[0].ro);

    /* custom filters (and no rootfs): keep only ext4, nothing excluded by path */
    ctx.roots[AGENT_ROOT_ROOTFS] = "";
    field_filter mpf, tf;
    field_filter_init(&mpf, FS_MOUNT_POINTS_EXCLUDE_DEFAULT, proc_mountinfo_default_mp_excluded);
    field_filter_init(&tf, FS_TYPES_EXCLUDE_DEFAULT, proc_mountinfo_default_type_excluded);
    assert_int_equal(field_filter_set(&mpf, "^/nothing$"), 0);
    assert_int_equal(field_filter_set(&tf, "^(proc|xfs|nfs4|cgroup2|tmpfs)$"), 0);
    skipped = 0;
    assert_int_equal(proc_mountinfo_parse(&ctx, in, strlen(in), &mpf, &tf, &m, &skipped), 2);
    assert_string_equal(fs_mounts_str(&m, m.v[0].mountpoint), "/host");
    assert_string_equal(fs_mounts_str(&m, m.v[0].target), "/host");
    field_filter_release(&mpf);
    field_filter_release(&tf);

    /* nothing well-formed */
    skipped = 0;
    assert_int_equal(proc_mountinfo_parse(&ctx, "x\ny\n", 4, NULL, NULL, &m, &skipped), -EINVAL);
    assert_int_equal(skipped, 2);
    assert_int_equal(proc_mountinfo_parse(&ctx, "", 0, NULL, NULL, &m, &skipped), -EINVAL);
    fs_mounts_release(&m);
}

static void test_parse_many_mounts(void **st)
{
    /* 3000 lines, every mount point twice: the dedupe table grows */
    vg_buf b = VG_BUF_INIT;
    for (int i = 0; i < 3000; i++)
        vg_buf_printf(&b, "%d 1 0:%d / /data/m%d rw - ext4 /dev/x%d rw\n", i + 10, i % 1500,
                      i % 1500, i % 1500);
    agent_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    fs_mounts m;
    fs_mounts_init(&m);
    unsigned skipped = 0;
    assert_int_equal(proc_mountinfo_parse(&ctx, b.data, b.len, NULL, NULL, &m, &skipped), 1500);
    assert_int_equal(skipped, 0);
    assert_string_equal(fs_mounts_str(&m, m.v[1499].mountpoint), "/data/m1499");
    fs_mounts_release(&m);
    vg_buf_release(&b);
}

static void test_emit(void **st)
{
    const char *in = "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
                     "28 27 0:40 / /mnt/nfs ro - nfs4 srv:/exp rw\n";
    agent_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    fs_mounts m;
    fs_mounts_init(&m);
    unsigned skipped = 0;
    assert_int_equal(proc_mountinfo_parse(&ctx, in, strlen(in), NULL, NULL, &m, &skipped), 2);
    struct statfs sfs;
    memset(&sfs, 0, sizeof sfs);
    sfs.f_bsize = 4096;
    sfs.f_blocks = 1000;
    sfs.f_bfree = 600;
    sfs.f_bavail = 500;
    sfs.f_files = 64;
    sfs.f_ffree = 32;
    m.v[0].rc = 0;
    fs_mount_set_statfs(&m.v[0], &sfs);
    m.v[1].rc = -ETIMEDOUT;
    vg_scrape *s;
    vg_scrape_new(&s);
    fs_mounts_emit(&m, s);
    assert_true(pt_value(s, "node_filesystem_size_bytes", 3, "/dev/vda", "ext4", "/") == 4096000);
    assert_true(pt_value(s, "node_filesystem_free_bytes", 3, "/dev/vda", "ext4", "/") == 2457600);
    assert_true(pt_value(s, "node_filesystem_avail_bytes", 3, "/dev/vda", "ext4", "/") == 2048000);
    assert_true(pt_value(s, "node_filesystem_files", 3, "/dev/vda", "ext4", "/") == 64);
    assert_true(pt_value(s, "node_filesystem_files_free", 3, "/dev/vda", "ext4", "/") == 32);
    assert_true(pt_value(s, "node_filesystem_readonly", 3, "/dev/vda", "ext4", "/") == 0);
    assert_true(pt_value(s, "node_filesystem_device_error", 3, "/dev/vda", "ext4", "/") == 0);
    assert_true(pt_value(s, "node_filesystem_device_error", 3, "srv:/exp", "nfs4", "/mnt/nfs") == 1);
    /* an errored mount has no size series (and no readonly), like node_exporter 1.5 */
    assert_int_equal(pt_count(s, "node_filesystem_size_bytes"), 1);
    assert_int_equal(pt_count(s, "node_filesystem_readonly"), 1);
    assert_true(pt_value(s, "node_filesystem_mount_info", 4, "srv:/exp", "0", "40", "/mnt/nfs") == 1);
    char *text = pt_text(s);
    assert_non_null(strstr(text, "# HELP node_filesystem_avail_bytes Filesystem space available "
                                 "to non-root users in bytes.\n# TYPE node_filesystem_avail_bytes "
                                 "gauge\nnode_filesystem_avail_bytes{device=\"/dev/vda\","
                                 "fstype=\"ext4\",mountpoint=\"/\"} 2048000\n"));
    free(text);
    vg_scrape_free(s);
    fs_mounts_release(&m);
}

/* ---- the collector with a blocking statfs hook ---- */

typedef struct hook {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int released;
} hook;

static int hook_statfs(const char *path, struct statfs *out, void *ud)
{
    hook *h = ud;
    if (strstr(path, "/hang")) {
        pthread_mutex_lock(&h->mu);
        while (!h->released)
            pthread_cond_wait(&h->cv, &h->mu);
        pthread_mutex_unlock(&h->mu);
    }
    if (strstr(path, "/gone"))
        return -ENOENT;
    memset(out, 0, sizeof *out);
    out->f_bsize = 1024;
    out->f_blocks = 100;
    out->f_bfree = 50;
    out->f_bavail = 40;
    out->f_files = 10;
    out->f_ffree = 5;
    return 0;
}

static vg_config *load_cfg(const char *arg1, const char *arg2)
{
    const vg_opt_def *defs[1] = {agent_collector_filesystem.opts};
    size_t ndefs[1] = {agent_collector_filesystem.nopts};
    char *argv[4] = {"test", (char *)arg1, (char *)arg2, NULL};
    int argc = 1 + (arg1 != NULL) + (arg2 != NULL);
    char *envp[1] = {NULL};
    vg_config *cfg = NULL;
    vg_config_err err;
    if (vg_config_load(defs, ndefs, 1, argc, argv, envp, &cfg, &err))
        fail_msg("config: %s", err.msg);
    return cfg;
}

static void test_collector_hung_mount(void **st)
{
    pt_env env;
    pt_ctx_tmp(&env);
    pt_tree_write(&env, AGENT_ROOT_PROC, "/1/mountinfo",
                  "27 1 254:0 / / rw - ext4 /dev/vda rw\n"
                  "28 27 0:40 / /mnt/hang rw - fuse.hangfs hangfs rw\n"
                  "29 27 0:41 / /mnt/gone rw - nfs4 srv:/gone rw\n"
                  "30 27 0:42 / /data rw - xfs /dev/vdb rw\n"
                  "31 27 0:43 / /proc rw - proc proc rw\n");
    vg_config *cfg = load_cfg("--collector.filesystem.mount-timeout=200ms",
                              "--collector.filesystem.stat-workers=2");
    env.ctx.cfg = cfg;
    hook h = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
    void *state = NULL;
    assert_int_equal(agent_collector_filesystem.init(&env.ctx, &state), 0);
    proc_mountinfo_set_statfs_fn(state, hook_statfs, &h);

    for (int round = 0; round < 3; round++) {
        vg_scrape *s;
        vg_scrape_new(&s);
        env.ctx.deadline_ms = vg_now_ms() + 5000;
        uint64_t t0 = vg_now_ms();
        assert_int_equal(agent_collector_filesystem.collect(&env.ctx, state, s), 0);
        uint64_t dt = vg_now_ms() - t0;
        if (round == 0)
            assert_true(dt >= 190 && dt < 1000); /* waited for the timeout once */
        else
            assert_true(dt < 150);               /* then answered at once */
        assert_true(pt_value(s, "node_filesystem_device_error", 3, "hangfs", "fuse.hangfs",
                             "/mnt/hang") == 1);
        assert_true(pt_value(s, "node_filesystem_device_error", 3, "srv:/gone", "nfs4",
                             "/mnt/gone") == 1);
        assert_true(pt_value(s, "node_filesystem_size_bytes", 3, "/dev/vda", "ext4", "/") == 102400);
        assert_true(pt_value(s, "node_filesystem_avail_bytes", 3, "/dev/vdb", "xfs", "/data") ==
                    40960);
        assert_true(isnan(pt_value(s, "node_filesystem_size_bytes", 3, "hangfs", "fuse.hangfs",
                                   "/mnt/hang")));
        assert_int_equal(pt_count(s, "node_filesystem_mount_info"), 4);
        statfs_pool_stats ps;
        proc_mountinfo_pool_stats(state, &ps);
        assert_true(ps.threads <= 2);
        assert_int_equal(ps.stuck, 1);
        vg_scrape_free(s);
    }

    /* the mount answers again: after its worker returns it is reported */
    pthread_mutex_lock(&h.mu);
    h.released = 1;
    pthread_cond_broadcast(&h.cv);
    pthread_mutex_unlock(&h.mu);
    statfs_pool_stats ps;
    for (int i = 0; i < 200; i++) {
        proc_mountinfo_pool_stats(state, &ps);
        if (!ps.stuck)
            break;
        usleep(5000);
    }
    assert_int_equal(ps.stuck, 0);
    vg_scrape *s;
    vg_scrape_new(&s);
    assert_int_equal(agent_collector_filesystem.collect(&env.ctx, state, s), 0);
    assert_true(pt_value(s, "node_filesystem_device_error", 3, "hangfs", "fuse.hangfs",
                         "/mnt/hang") == 0);
    assert_true(pt_value(s, "node_filesystem_size_bytes", 3, "hangfs", "fuse.hangfs",
                         "/mnt/hang") == 102400);
    vg_scrape_free(s);
    agent_collector_filesystem.release(state);
    vg_config_free(cfg);
    pt_done(&env);
}

static void test_collector_deadline(void **st)
{
    /* default 5 s timeout, but a scrape deadline 150 ms away wins */
    pt_env env;
    pt_ctx_tmp(&env);
    pt_tree_write(&env, AGENT_ROOT_PROC, "/self/mountinfo", /* no /proc/1: hidepid */
                  "28 27 0:40 / /mnt/hang rw - nfs srv:/x rw\n"
                  "27 1 254:0 / / rw - ext4 /dev/vda rw\n");
    hook h = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
    void *state = NULL;
    assert_int_equal(agent_collector_filesystem.init(&env.ctx, &state), 0);
    proc_mountinfo_set_statfs_fn(state, hook_statfs, &h);
    vg_scrape *s;
    vg_scrape_new(&s);
    uint64_t t0 = vg_now_ms();
    env.ctx.deadline_ms = t0 + 150;
    assert_int_equal(agent_collector_filesystem.collect(&env.ctx, state, s), 0);
    uint64_t dt = vg_now_ms() - t0;
    assert_true(dt >= 140 && dt < 700);
    assert_true(pt_value(s, "node_filesystem_device_error", 3, "srv:/x", "nfs", "/mnt/hang") == 1);
    assert_true(pt_value(s, "node_filesystem_device_error", 3, "/dev/vda", "ext4", "/") == 0);
    vg_scrape_free(s);
    /* release with the worker still stuck must not block */
    t0 = vg_now_ms();
    agent_collector_filesystem.release(state);
    assert_true(vg_now_ms() - t0 < 100);
    pthread_mutex_lock(&h.mu);
    h.released = 1;
    pthread_cond_broadcast(&h.cv);
    pthread_mutex_unlock(&h.mu);
    usleep(50000); /* let the detached worker finish and free the pool */
    pt_done(&env);
}

/* On the event loop (loop_until_ms set) the collector never waits past it:
 * it starts the statfs calls and returns AGENT_COLLECT_MOVED, adding
 * nothing; called again (as the collection thread does) it finishes. */
static void test_collector_on_loop_moves(void **st)
{
    pt_env env;
    pt_ctx_tmp(&env);
    pt_tree_write(&env, AGENT_ROOT_PROC, "/1/mountinfo",
                  "27 1 254:0 / / rw - ext4 /dev/vda rw\n"
                  "28 27 0:40 / /mnt/hang rw - fuse.hangfs hangfs rw\n");
    vg_config *cfg = load_cfg("--collector.filesystem.mount-timeout=200ms", NULL);
    env.ctx.cfg = cfg;
    hook h = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
    void *state = NULL;
    assert_int_equal(agent_collector_filesystem.init(&env.ctx, &state), 0);
    proc_mountinfo_set_statfs_fn(state, hook_statfs, &h);
    vg_scrape *s;
    vg_scrape_new(&s);
    uint64_t t0 = vg_now_ms();
    env.ctx.deadline_ms = t0 + 5000;
    env.ctx.loop_until_ms = 1; /* already past: start and return */
    assert_int_equal(agent_collector_filesystem.collect(&env.ctx, state, s), AGENT_COLLECT_MOVED);
    env.ctx.loop_until_ms = vg_now_ms() + 20;
    assert_int_equal(agent_collector_filesystem.collect(&env.ctx, state, s), AGENT_COLLECT_MOVED);
    assert_true(vg_now_ms() - t0 < 150);
    assert_int_equal(pt_count(s, "node_filesystem_mount_info"), 0);
    env.ctx.loop_until_ms = 0;
    assert_int_equal(agent_collector_filesystem.collect(&env.ctx, state, s), 0);
    assert_true(vg_now_ms() - t0 >= 190);
    assert_true(pt_value(s, "node_filesystem_device_error", 3, "hangfs", "fuse.hangfs",
                         "/mnt/hang") == 1);
    assert_true(pt_value(s, "node_filesystem_size_bytes", 3, "/dev/vda", "ext4", "/") == 102400);
    vg_scrape_free(s);
    /* next scrape on the loop: the stuck mount is answered at once, so the
     * healthy one finishes on the loop within its wait */
    vg_scrape_new(&s);
    env.ctx.loop_until_ms = 1;
    int rc = agent_collector_filesystem.collect(&env.ctx, state, s);
    if (rc == AGENT_COLLECT_MOVED) {
        env.ctx.loop_until_ms = vg_now_ms() + 1000;
        rc = agent_collector_filesystem.collect(&env.ctx, state, s);
    }
    assert_int_equal(rc, 0);
    assert_true(pt_value(s, "node_filesystem_device_error", 3, "hangfs", "fuse.hangfs",
                         "/mnt/hang") == 1);
    assert_true(pt_value(s, "node_filesystem_size_bytes", 3, "/dev/vda", "ext4", "/") == 102400);
    vg_scrape_free(s);
    agent_collector_filesystem.release(state);
    pthread_mutex_lock(&h.mu);
    h.released = 1;
    pthread_cond_broadcast(&h.cv);
    pthread_mutex_unlock(&h.mu);
    usleep(50000);
    vg_config_free(cfg);
    pt_done(&env);
}

static void test_collector_fixtures(void **st)
{
    pt_env env;
    vg_scrape *s;
    /* only cgroup v1 mounts besides /: all filtered out by type */
    pt_ctx(&env, "cgroup-v1-only");
    vg_scrape_new(&s);
    assert_int_equal(pt_collect(&agent_collector_filesystem, &env, s), 0);
    assert_int_equal(pt_count(s, "node_filesystem_mount_info"), 1);
    vg_scrape_free(s);
    pt_done(&env);
    /* 1000 mounts whose mount points do not exist under root/ */
    pt_ctx(&env, "mounts1000");
    vg_scrape_new(&s);
    env.ctx.deadline_ms = vg_now_ms() + 10000;
    assert_int_equal(pt_collect(&agent_collector_filesystem, &env, s), 0);
    assert_int_equal(pt_count(s, "node_filesystem_device_error"), 1000);
    assert_int_equal(pt_count(s, "node_filesystem_size_bytes"), 0);
    vg_scrape_free(s);
    pt_done(&env);
    /* no mountinfo at all: the collector fails, nothing is emitted */
    pt_ctx(&env, "missing-files");
    vg_scrape_new(&s);
    assert_int_equal(pt_collect(&agent_collector_filesystem, &env, s), -ENOENT);
    assert_int_equal(vg_scrape_family_count(s), 0);
    vg_scrape_free(s);
    pt_done(&env);
}

static void test_bad_options(void **st)
{
    pt_env env;
    pt_ctx_tmp(&env);
    void *state = NULL;
    vg_config *cfg = load_cfg("--collector.filesystem.stat-workers=0", NULL);
    env.ctx.cfg = cfg;
    assert_int_equal(agent_collector_filesystem.init(&env.ctx, &state), -EINVAL);
    vg_config_free(cfg);
    cfg = load_cfg("--collector.filesystem.mount-points-exclude=(unclosed", NULL);
    env.ctx.cfg = cfg;
    assert_int_equal(agent_collector_filesystem.init(&env.ctx, &state), -EINVAL);
    vg_config_free(cfg);
    pt_done(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_line),
        cmocka_unit_test(test_unescape_and_opts),
        cmocka_unit_test(test_default_filters_match_regex),
        cmocka_unit_test(test_parse_rootfs_dedupe),
        cmocka_unit_test(test_parse_many_mounts),
        cmocka_unit_test(test_emit),
        cmocka_unit_test(test_collector_hung_mount),
        cmocka_unit_test(test_collector_deadline),
        cmocka_unit_test(test_collector_on_loop_moves),
        cmocka_unit_test(test_collector_fixtures),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
