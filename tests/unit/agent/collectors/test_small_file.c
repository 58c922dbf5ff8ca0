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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read),
        cmocka_unit_test(test_real_proc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
