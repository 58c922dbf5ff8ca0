/* Unit tests for the os collector (agent/collectors/os_release.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "collectors/os_release.h"
#include "proc_test_util.h"

static void test_parse_good(void **st)
{
    const char *in = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
                     "NAME=\"Debian GNU/Linux\"\n"
                     "VERSION_ID=\"12\"\n"
                     "VERSION=\"12 (bookworm)\"\n"
                     "VERSION_CODENAME=bookworm\n"
                     "ID=debian\n"
                     "HOME_URL=\"https://www.debian.org/\"\n";
    os_release r;
    unsigned skipped = 0;
    assert_int_equal(os_release_parse(in, strlen(in), &r, &skipped), 6);
    assert_int_equal(skipped, 0);
    assert_string_equal(r.v[OS_PRETTY_NAME], "Debian GNU/Linux 12 (bookworm)");
    assert_string_equal(r.v[OS_VERSION_CODENAME], "bookworm");
    assert_string_equal(r.v[OS_ID_LIKE], "");
    vg_scrape *s;
    vg_scrape_new(&s);
    assert_int_equal(os_release_emit(&r, s), 0);
    char *text = pt_text(s);
    assert_non_null(strstr(
        text, "node_os_info{build_id=\"\",id=\"debian\",id_like=\"\",image_id=\"\","
              "image_version=\"\",name=\"Debian GNU/Linux\",pretty_name=\"Debian GNU/Linux 12 "
              "(bookworm)\",variant=\"\",variant_id=\"\",version=\"12 (bookworm)\","
              "version_codename=\"bookworm\",version_id=\"12\"} 1\n"));
    assert_non_null(
        strstr(text, "node_os_version{id=\"debian\",id_like=\"\",name=\"Debian GNU/Linux\"} 12\n"));
    free(text);
    vg_scrape_free(s);
}

static void test_parse_quoting(void **st)
{
    const char *in = "# comment\n"
                     "\n"
                     "  ID = ubuntu  \n"
                     "export ID_LIKE='debian  rhel'\n"
                     "VARIANT=\"a \\\"b\\\" \\\\ \\$x \\`y\\` \\n\\t\"\n"
                     "VERSION=22.04 LTS # trailing comment\n"
                     "NAME=Ub\"un\"'tu'\n"
                     "BUILD_ID=\n"
                     "IMAGE_ID=x#y\n";
    os_release r;
    unsigned skipped = 0;
    os_release_parse(in, strlen(in), &r, &skipped);
    assert_int_equal(skipped, 0);
    assert_string_equal(r.v[OS_ID], "ubuntu");
    assert_string_equal(r.v[OS_ID_LIKE], "debian  rhel");
    assert_string_equal(r.v[OS_VARIANT], "a \"b\" \\ $x `y` \n\t");
    assert_string_equal(r.v[OS_VERSION], "22.04 LTS");
    assert_string_equal(r.v[OS_NAME], "Ubuntu");
    assert_string_equal(r.v[OS_BUILD_ID], "");
    assert_string_equal(r.v[OS_IMAGE_ID], "x");
}

static void test_parse_malformed(void **st)
{
    const char *in = "NAME=\"unterminated\n"
                     "1BAD=x\n"
                     "just garbage\n"
                     "ID_LIKE=\"bad \\q escape\"\n"
                     "VARIANT='open\n"
                     "ID=\"ctl\x01\"\n"
                     "=novalue\n"
                     "BAD-KEY=1\n"
                     "VERSION_ID=\"ends in escape\\\n"
                     "ID=ok\n"
                     "VERSION_ID=3.18.4";
    os_release r;
    unsigned skipped = 0;
    assert_int_equal(os_release_parse(in, strlen(in), &r, &skipped), 2);
    assert_int_equal(skipped, 9);
    assert_string_equal(r.v[OS_ID], "ok");
    assert_string_equal(r.v[OS_NAME], "");
    assert_string_equal(r.v[OS_VERSION_ID], "3.18.4");
    /* a value too long for the field is malformed */
    char big[OS_RELEASE_VALUE_MAX + 16];
    memset(big, 'x', sizeof big);
    memcpy(big, "NAME=", 5);
    skipped = 0;
    os_release_parse(big, sizeof big, &r, &skipped);
    assert_int_equal(skipped, 1);
    assert_string_equal(r.v[OS_NAME], "");
}

static void test_version(void **st)
{
    assert_true(os_release_version("12") == 12);
    assert_true(os_release_version("22.04") == 22.04);
    assert_true(os_release_version("3.18.4") == 3.18);
    assert_true(os_release_version("12.") == 12);
    assert_true(os_release_version("7x") == 7);
    assert_true(os_release_version("rolling") == 0);
    assert_true(os_release_version("") == 0);
    assert_true(os_release_version(".5") == 0);
    assert_true(os_release_version("18446744073709551615.18446744073709551615") ==
                18446744073709551615.18446744073709551615);
    /* no node_os_version when there is no number */
    os_release r;
    memset(&r, 0, sizeof r);
    strcpy(r.v[OS_ID], "arch");
    strcpy(r.v[OS_VERSION_ID], "rolling");
    vg_scrape *s;
    vg_scrape_new(&s);
    assert_int_equal(os_release_emit(&r, s), 0);
    assert_int_equal(pt_count(s, "node_os_info"), 1);
    assert_int_equal(pt_count(s, "node_os_version"), 0);
    vg_scrape_free(s);
}

static void test_collect(void **st)
{
    pt_env env;
    vg_scrape *s;
    vg_scrape_new(&s);
    /* real-debian: /etc/os-release is a relative symlink to /usr/lib */
    pt_ctx(&env, "real-debian");
    assert_int_equal(pt_collect(&agent_collector_os, &env, s), 0);
    assert_true(pt_value(s, "node_os_version", 3, "debian", "", "Debian GNU/Linux") == 12);
    pt_done(&env);

    /* fallback to /usr/lib/os-release; cache follows a change of file */
    vg_scrape_reset(s);
    pt_ctx_tmp(&env);
    pt_tree_write(&env, AGENT_ROOT_ROOTFS, "/usr/lib/os-release", "ID=a\nVERSION_ID=1\n");
    void *state = NULL;
    assert_int_equal(agent_collector_os.init(&env.ctx, &state), 0);
    assert_int_equal(agent_collector_os.collect(&env.ctx, state, s), 0);
    assert_true(pt_value(s, "node_os_version", 3, "a", "", "") == 1);
    vg_scrape_reset(s);
    pt_tree_write(&env, AGENT_ROOT_ROOTFS, "/etc/os-release", "ID=b\nVERSION_ID=2.5\n");
    assert_int_equal(agent_collector_os.collect(&env.ctx, state, s), 0);
    assert_true(pt_value(s, "node_os_version", 3, "b", "", "") == 2.5);
    /* an absolute symlink resolves inside the rootfs */
    vg_scrape_reset(s);
    char link[PATH_MAX + 32];
    snprintf(link, sizeof link, "%s/etc/os-release", env.roots[AGENT_ROOT_ROOTFS]);
    unlink(link);
    assert_int_equal(symlink("/usr/lib/os-release", link), 0);
    assert_int_equal(agent_collector_os.collect(&env.ctx, state, s), 0);
    assert_true(pt_value(s, "node_os_version", 3, "a", "", "") == 1);
    agent_collector_os.release(state);
    pt_done(&env);

    vg_scrape_reset(s);
    pt_ctx(&env, "missing-files");
    assert_int_equal(pt_collect(&agent_collector_os, &env, s), -ENOENT);
    assert_int_equal(vg_scrape_family_count(s), 0);
    pt_done(&env);
    vg_scrape_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_parse_quoting),
        cmocka_unit_test(test_parse_malformed),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_collect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
