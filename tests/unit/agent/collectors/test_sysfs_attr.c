/* Unit tests for sysfs_attr (agent/collectors/sysfs_attr.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collectors/sysfs_attr.h"

static vg_slice sl(const char *s)
{
    return (vg_slice){s, strlen(s)};
}

static void test_parse_int_go_base0(void **st)
{
    int64_t v;
    assert_int_equal(sysfs_attr_parse_int(sl("0x1003"), &v), 0);
    assert_int_equal(v, 4099);
    assert_int_equal(sysfs_attr_parse_int(sl("0X1f"), &v), 0);
    assert_int_equal(v, 31);
    assert_int_equal(sysfs_attr_parse_int(sl("-1"), &v), 0);
    assert_int_equal(v, -1);
    assert_int_equal(sysfs_attr_parse_int(sl("+7"), &v), 0);
    assert_int_equal(v, 7);
    assert_int_equal(sysfs_attr_parse_int(sl("0"), &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(sysfs_attr_parse_int(sl("010"), &v), 0); /* octal, like Go */
    assert_int_equal(v, 8);
    assert_int_equal(sysfs_attr_parse_int(sl("0o17"), &v), 0);
    assert_int_equal(v, 15);
    assert_int_equal(sysfs_attr_parse_int(sl("0b101"), &v), 0);
    assert_int_equal(v, 5);
    assert_int_equal(sysfs_attr_parse_int(sl("65536"), &v), 0);
    assert_int_equal(v, 65536);
    assert_int_equal(sysfs_attr_parse_int(sl("9223372036854775807"), &v), 0);
    assert_true(v == INT64_MAX);
    assert_int_equal(sysfs_attr_parse_int(sl("-9223372036854775808"), &v), 0);
    assert_true(v == INT64_MIN);
    assert_int_equal(sysfs_attr_parse_int(sl("9223372036854775808"), &v), -ERANGE);
    assert_int_equal(sysfs_attr_parse_int(sl("0xffffffffffffffffff"), &v), -ERANGE);
    assert_int_equal(sysfs_attr_parse_int(sl(""), &v), -EINVAL);
    assert_int_equal(sysfs_attr_parse_int(sl("0x"), &v), -EINVAL);
    assert_int_equal(sysfs_attr_parse_int(sl("08"), &v), -EINVAL);
    assert_int_equal(sysfs_attr_parse_int(sl("12a"), &v), -EINVAL);
    assert_int_equal(sysfs_attr_parse_int(sl(" 1"), &v), -EINVAL);
    assert_int_equal(sysfs_attr_parse_int(sl("-"), &v), -EINVAL);
}

static char tmpdir[64];

static void write_file(const char *name, const char *content, size_t n)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fwrite(content, 1, n, f);
    fclose(f);
}

static void test_read(void **st)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/vigil-sysfs-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    write_file("mtu", "1500\n", 5);
    write_file("empty", "", 0);
    char big[300];
    memset(big, 'x', sizeof big);
    write_file("big", big, sizeof big);
    write_file("exact", big, 15);
    int dfd = open(tmpdir, O_RDONLY | O_DIRECTORY);
    assert_true(dfd >= 0);
    char buf[16];
    vg_slice v = {NULL, 0};
    assert_int_equal(sysfs_attr_read(dfd, "mtu", buf, sizeof buf, &v), 0);
    assert_int_equal(v.n, 5);
    assert_memory_equal(v.p, "1500\n", 5);
    vg_slice t = vg_slice_trim(v);
    assert_int_equal(t.n, 4);
    assert_int_equal(sysfs_attr_read(dfd, "empty", buf, sizeof buf, &v), 0);
    assert_int_equal(v.n, 0);
    /* 15 bytes fill a 16-byte buffer exactly: fine; 300 do not fit */
    assert_int_equal(sysfs_attr_read(dfd, "exact", buf, sizeof buf, &v), 0);
    assert_int_equal(v.n, 15);
    assert_int_equal(sysfs_attr_read(dfd, "big", buf, sizeof buf, &v), -EFBIG);
    assert_int_equal(sysfs_attr_read(dfd, "absent", buf, sizeof buf, &v), -ENOENT);
    assert_true(sysfs_attr_absent_err(-ENOENT));
    assert_true(sysfs_attr_absent_err(-EINVAL));
    assert_false(sysfs_attr_absent_err(-EFBIG));
    /* a directory is not an attribute */
    assert_int_equal(mkdirat(dfd, "power", 0755), 0);
    assert_int_equal(sysfs_attr_read(dfd, "power", buf, sizeof buf, &v), -EISDIR);

    vg_slice n = sysfs_attr_trim_nl(sl("\n 42 \n\n"));
    assert_int_equal(n.n, 4);
    assert_memory_equal(n.p, " 42 ", 4);
    close(dfd);
}

static void test_dirlist_sorted_prefix(void **st)
{
    write_file("thermal_zone10", "", 0);
    write_file("thermal_zone2", "", 0);
    write_file("cooling_device0", "", 0);
    sysfs_dirlist l;
    sysfs_dirlist_init(&l);
    assert_int_equal(sysfs_dirlist_read(&l, AT_FDCWD, tmpdir, "thermal_zone"), 0);
    assert_int_equal(l.n, 2);
    assert_string_equal(sysfs_dirlist_name(&l, 0), "thermal_zone10");
    assert_string_equal(sysfs_dirlist_name(&l, 1), "thermal_zone2");
    assert_int_equal(sysfs_dirlist_read(&l, AT_FDCWD, tmpdir, NULL), 0);
    for (size_t i = 1; i < l.n; i++)
        assert_true(strcmp(sysfs_dirlist_name(&l, i - 1), sysfs_dirlist_name(&l, i)) < 0);
    /* many entries: the pools grow and stay sorted */
    for (int i = 0; i < 300; i++) {
        char nm[32];
        snprintf(nm, sizeof nm, "f%03d", 299 - i);
        write_file(nm, "", 0);
    }
    assert_int_equal(sysfs_dirlist_read(&l, AT_FDCWD, tmpdir, "f"), 0);
    assert_int_equal(l.n, 300);
    assert_string_equal(sysfs_dirlist_name(&l, 0), "f000");
    assert_string_equal(sysfs_dirlist_name(&l, 299), "f299");
    assert_int_equal(sysfs_dirlist_read(&l, AT_FDCWD, "/nonexistent-dir", NULL), -ENOENT);
    assert_int_equal(l.n, 0);
    /* the kept variant lists the same, in a plain tree without keeping it
     * open (so a new entry, or a replaced directory, is seen) */
    assert_int_equal(sysfs_dirlist_read_kept(&l, tmpdir, "f"), 0);
    assert_int_equal(l.n, 300);
    assert_int_equal(l.kept_fd, -1);
    assert_string_equal(sysfs_dirlist_name(&l, 0), "f000");
    assert_string_equal(sysfs_dirlist_name(&l, 299), "f299");
    write_file("f300", "", 0);
    assert_int_equal(sysfs_dirlist_read_kept(&l, tmpdir, "f"), 0);
    assert_int_equal(l.n, 301);
    struct stat sb;
    char p0[300];
    snprintf(p0, sizeof p0, "%s/f000", tmpdir);
    assert_int_equal(stat(p0, &sb), 0);
    assert_true(l.ents[0].ino == (uint64_t)sb.st_ino);
    assert_int_equal(sysfs_dirlist_read_kept(&l, "/nonexistent-dir", NULL), -ENOENT);
    assert_int_equal(l.n, 0);
    /* sysfs: kept open, and each listing as fresh as a plain one */
    sysfs_dirlist plain;
    sysfs_dirlist_init(&plain);
    for (int round = 0; round < 2; round++) {
        assert_int_equal(sysfs_dirlist_read_kept(&l, "/sys/class/net", NULL), 0);
        assert_true(l.kept_fd >= 0);
        assert_int_equal(sysfs_dirlist_read(&plain, AT_FDCWD, "/sys/class/net", NULL), 0);
        assert_int_equal(l.n, plain.n);
        for (size_t i = 0; i < l.n; i++) {
            assert_string_equal(sysfs_dirlist_name(&l, i), sysfs_dirlist_name(&plain, i));
            assert_true(l.ents[i].ino == plain.ents[i].ino);
        }
    }
    /* another path closes the kept directory */
    assert_int_equal(sysfs_dirlist_read_kept(&l, tmpdir, "f"), 0);
    assert_int_equal(l.kept_fd, -1);
    sysfs_dirlist_release(&plain);
    sysfs_dirlist_release(&l);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    assert_int_equal(system(cmd), 0);
}

static void test_fdcache(void **st)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/vigil-fdc-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    write_file("a", "1\n", 2);
    write_file("b", "2\n", 2);
    write_file("c", "3\n", 2);
    char big[20000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)('a' + i % 26);
    write_file("big", big, sizeof big);
    char pa[128], pb[128], pc[128], pbig[128];
    snprintf(pa, sizeof pa, "%s/a", tmpdir);
    snprintf(pb, sizeof pb, "%s/b", tmpdir);
    snprintf(pc, sizeof pc, "%s/c", tmpdir);
    snprintf(pbig, sizeof pbig, "%s/big", tmpdir);
    sysfs_fdcache c;
    sysfs_fdcache_init(&c, 2);
    char buf[16];
    vg_slice v;
    assert_int_equal(sysfs_fdcache_read(&c, pa, buf, sizeof buf, &v), 0);
    assert_true(v.n == 2 && v.p[0] == '1');
    assert_int_equal(sysfs_fdcache_read(&c, pb, buf, sizeof buf, &v), 0);
    assert_int_equal(sysfs_fdcache_read(&c, pc, buf, sizeof buf, &v), 0); /* over the cap */
    assert_true(v.p[0] == '3');
    assert_int_equal(sysfs_fdcache_open(&c), 2);
    /* a kept file is read afresh each time */
    write_file("a", "42\n", 3);
    assert_int_equal(sysfs_fdcache_read(&c, pa, buf, sizeof buf, &v), 0);
    assert_true(v.n == 3 && v.p[0] == '4' && v.p[1] == '2');
    assert_int_equal(sysfs_fdcache_read(&c, "/nonexistent/x", buf, sizeof buf, &v), -ENOENT);
    /* the sweep after a scrape that read only a closes b */
    sysfs_fdcache_sweep(&c);
    assert_int_equal(sysfs_fdcache_open(&c), 2);
    assert_int_equal(sysfs_fdcache_read(&c, pa, buf, sizeof buf, &v), 0);
    sysfs_fdcache_sweep(&c);
    assert_int_equal(sysfs_fdcache_open(&c), 1);
    assert_int_equal(sysfs_fdcache_read(&c, pb, buf, sizeof buf, &v), 0);
    assert_true(v.p[0] == '2');
    /* whole files, larger than one read */
    vg_buf b = VG_BUF_INIT;
    sysfs_fdcache_sweep(&c);
    sysfs_fdcache_sweep(&c);
    assert_int_equal(sysfs_fdcache_open(&c), 0);
    for (int round = 0; round < 2; round++) {
        assert_int_equal(sysfs_fdcache_read_all(&c, pbig, &b, 1 << 20), 0);
        assert_int_equal(b.len, sizeof big);
        assert_memory_equal(b.data, big, sizeof big);
    }
    assert_int_equal(sysfs_fdcache_read_all(&c, pbig, &b, 1000), -EFBIG);
    vg_buf_release(&b);
    /* a kept file replaced by another under its name: read the old one
     * until forgotten, then the new one, in the same slot */
    assert_int_equal(sysfs_fdcache_read(&c, pa, buf, sizeof buf, &v), 0);
    char pnew[140];
    snprintf(pnew, sizeof pnew, "%s/a.new", tmpdir);
    write_file("a.new", "7\n", 2);
    assert_int_equal(rename(pnew, pa), 0);
    assert_int_equal(sysfs_fdcache_read(&c, pa, buf, sizeof buf, &v), 0);
    assert_true(v.p[0] == '4');
    size_t held = sysfs_fdcache_open(&c);
    sysfs_fdcache_forget(&c, pa);
    sysfs_fdcache_forget(&c, "/not/kept"); /* no-op */
    assert_int_equal(sysfs_fdcache_read(&c, pa, buf, sizeof buf, &v), 0);
    assert_true(v.n == 2 && v.p[0] == '7');
    assert_int_equal(sysfs_fdcache_open(&c), held);
    /* a forgotten file not read again is swept like any other */
    sysfs_fdcache_forget(&c, pa);
    sysfs_fdcache_sweep(&c);
    sysfs_fdcache_sweep(&c);
    assert_int_equal(sysfs_fdcache_open(&c), 0);
    sysfs_fdcache_release(&c);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_int_go_base0),
        cmocka_unit_test(test_read),
        cmocka_unit_test(test_dirlist_sorted_prefix),
        cmocka_unit_test(test_fdcache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
