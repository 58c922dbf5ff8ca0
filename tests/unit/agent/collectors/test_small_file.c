/* Unit tests for small_file (agent/collectors/small_file.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "collectors/small_file.h"
#include "proc_test_util.h"

static void test_read(void **st)
{
    pt_env env;
    pt_ctx_tmp(&env);
    pt_tree_write(&env, AGENT_ROOT_PROC, "/sys/fs/file-nr", "655\t0\t2466170\n");
    pt_tree_write(&env, AGENT_ROOT_PROC, "/empty", "");
    char buf[16];
    size_t len = 99;
    assert_int_equal(small_file_read(&env.ctx, AGENT_ROOT_PROC, "/sys/fs/file-nr", buf,
                                     sizeof buf, &len),
                     0);
    assert_int_equal(len, 14);
    assert_string_equal(buf, "655\t0\t2466170\n");
    assert_int_equal(small_file_read(&env.ctx, AGENT_ROOT_PROC, "/empty", buf, sizeof buf, &len),
                     0);
    assert_int_equal(len, 0);
    assert_string_equal(buf, "");
    /* exactly cap - 1 bytes fit; one more does not */
    assert_int_equal(small_file_read(&env.ctx, AGENT_ROOT_PROC, "/sys/fs/file-nr", buf, 15, &len),
                     0);
    assert_int_equal(small_file_read(&env.ctx, AGENT_ROOT_PROC, "/sys/fs/file-nr", buf, 14, &len),
                     -EFBIG);
    assert_int_equal(small_file_read(&env.ctx, AGENT_ROOT_PROC, "/missing", buf, sizeof buf, &len),
                     -ENOENT);
    assert_int_equal(small_file_read(&env.ctx, AGENT_ROOT_PROC, "/empty", buf, 1, &len), -EINVAL);
    /* a directory cannot be read */
    assert_int_equal(small_file_read(&env.ctx, AGENT_ROOT_PROC, "/sys", buf, sizeof buf, &len),
                     -EISDIR);
    pt_done(&env);
}

static void test_real_proc(void **st)
{
    pt_env env;
    pt_ctx(&env, "real-debian");
    char buf[64];
    size_t len;
    assert_int_equal(small_file_read(&env.ctx, AGENT_ROOT_PROC, "/sys/kernel/ostype", buf,
                                     sizeof buf, &len),
                     0);
    assert_string_equal(buf, "Linux\n");
    pt_done(&env);
}

/* Kept open on a real procfs; opened each time in a tree of plain files. */
static void test_read_kept(void **st)
{
    pt_env env;
    pt_ctx_tmp(&env);
    pt_tree_write(&env, AGENT_ROOT_PROC, "/sys/fs/file-nr", "655\t0\t2466170\n");
    small_file_kept k;
    small_file_kept_init(&k);
    char buf[16];
    size_t len = 99;
    assert_int_equal(small_file_read_kept(&k, &env.ctx, AGENT_ROOT_PROC, "/sys/fs/file-nr", buf,
                                          sizeof buf, &len),
                     0);
    assert_int_equal(len, 14);
    assert_string_equal(buf, "655\t0\t2466170\n");
    assert_int_equal(sysfs_fdcache_open(&k.files), 0);
    /* a replaced file is seen (it would not be through a kept descriptor) */
    pt_tree_write(&env, AGENT_ROOT_PROC, "/new", "7\t0\t9\n");
    char from[PATH_MAX * 2], to[PATH_MAX * 2];
    snprintf(from, sizeof from, "%s/new", env.roots[AGENT_ROOT_PROC]);
    snprintf(to, sizeof to, "%s/sys/fs/file-nr", env.roots[AGENT_ROOT_PROC]);
    assert_int_equal(rename(from, to), 0);
    assert_int_equal(small_file_read_kept(&k, &env.ctx, AGENT_ROOT_PROC, "/sys/fs/file-nr", buf,
                                          sizeof buf, &len),
                     0);
    assert_string_equal(buf, "7\t0\t9\n");
    assert_int_equal(small_file_read_kept(&k, &env.ctx, AGENT_ROOT_PROC, "/sys/fs/file-nr", buf,
                                          6, &len),
                     -EFBIG);
    assert_int_equal(small_file_read_kept(&k, &env.ctx, AGENT_ROOT_PROC, "/missing", buf,
                                          sizeof buf, &len),
                     -ENOENT);
    small_file_kept_release(&k);
    pt_done(&env);

    /* the real /proc: the same answers, from a kept descriptor */
    memset(&env, 0, sizeof env);
    env.ctx.roots[AGENT_ROOT_PROC] = "/proc";
    small_file_kept_init(&k);
    char a[64], b[64];
    size_t la, lb;
    assert_int_equal(small_file_read(&env.ctx, AGENT_ROOT_PROC, "/sys/kernel/ostype", a,
                                     sizeof a, &la),
                     0);
    for (int round = 0; round < 2; round++) {
        assert_int_equal(small_file_read_kept(&k, &env.ctx, AGENT_ROOT_PROC,
                                              "/sys/kernel/ostype", b, sizeof b, &lb),
                         0);
        assert_int_equal(la, lb);
        assert_memory_equal(a, b, la);
    }
    assert_int_equal(sysfs_fdcache_open(&k.files), 1);
    assert_int_equal(small_file_read_kept(&k, &env.ctx, AGENT_ROOT_PROC, "/sys/kernel/ostype",
                                          b, 3, &lb),
                     -EFBIG);
    small_file_kept_release(&k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read),
        cmocka_unit_test(test_real_proc),
        cmocka_unit_test(test_read_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
