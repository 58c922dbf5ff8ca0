/* Unit tests for the diskstats collector (agent/collectors/proc_diskstats.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <regex.h>

#include "collectors/proc_diskstats.h"
#include "proc_test_util.h"

static vg_slice sl(const char *s)
{
    return (vg_slice){s, strlen(s)};
}

static void test_default_exclude_matches_regex(void **st)
{
    static const char *const names[] = {
        "sda", "sda1", "sda12", "sdaa1", "sdz9", "sd1", "hda1", "vda", "vda1", "xvda1",
        "xvdb12", "xda1", "nvme0n1", "nvme0n1p1", "nvme10n2p33", "nvme0n1p", "nvmen1p1",
        "nvme0p1", "loop0", "loop", "loop12a", "ram0", "ram", "zram0", "zram", "fd0", "fd",
        "dm-0", "md0", "md127", "sr0", "mmcblk0", "mmcblk0p1", "drbd0", "rbd0", "nbd0", "",
        "sda1x", "Sda1", "loop0\n", "ram1 ", "zzram0",
    };
    /* the default written as POSIX ERE (\d -> [0-9]) */
    regex_t re;
    assert_int_equal(regcomp(&re, "^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme[0-9]+n[0-9]+p)[0-9]+$",
                             REG_EXTENDED | REG_NOSUB),
                     0);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        bool want = regexec(&re, names[i], 0, NULL, 0) == 0;
        if (want != proc_diskstats_default_excluded(names[i]))
            fail_msg("default exclude disagrees with the regexp on \"%s\"", names[i]);
    }
    regfree(&re);
    /* and through field_filter's own translation of the default */
    field_filter f;
    field_filter_init(&f, NULL, proc_diskstats_default_excluded);
    assert_int_equal(field_filter_set(&f, DISKSTATS_EXCLUDE_DEFAULT), 0);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        assert_int_equal(field_filter_match(&f, names[i]), proc_diskstats_default_excluded(names[i]));
    field_filter_release(&f);
}

static void test_parse_line(void **st)
{
    diskstats_line d;
    assert_int_equal(proc_diskstats_parse_line(
                         sl(" 254       0 vda 38187 8714 3332922 24533 11491 7894 1475760 3878 0 "
                            "7404 28962 5832 44 192128 482 1766 68"),
                         &d),
                     0);
    assert_int_equal(d.major, 254);
    assert_int_equal(d.minor, 0);
    assert_true(vg_slice_eq(d.name, "vda"));
    assert_int_equal(d.nstats, 17);
    assert_int_equal(d.v[0], 38187);
    assert_int_equal(d.v[16], 68);
    /* 11-stat (pre-4.18) and 15-stat kernels */
    assert_int_equal(proc_diskstats_parse_line(sl("8 0 sda 1 2 3 4 5 6 7 8 9 10 11"), &d), 0);
    assert_int_equal(d.nstats, 11);
    assert_int_equal(proc_diskstats_parse_line(sl("8 0 sda 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15"),
                                               &d),
                     0);
    assert_int_equal(d.nstats, 15);
    /* fields a future kernel appends are ignored */
    assert_int_equal(proc_diskstats_parse_line(
                         sl("8 0 sda 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20"), &d),
                     0);
    assert_int_equal(d.nstats, 17);
    /* 2.6-era partition lines: well-formed, too short to report */
    assert_int_equal(proc_diskstats_parse_line(sl("8 1 sda1 100 800 50 400"), &d), -ENODATA);
    const char *bad[] = {"", "garbage", "8 0", "8 0 sda 1 2 x", "x 0 sda 1 2 3 4 5 6 7 8 9 10 11",
                         "8 0 sda 18446744073709551616 2 3 4 5 6 7 8 9 10 11",
                         "4294967296 0 sda 1 2 3 4 5 6 7 8 9 10 11",
                         "8 0 sda -1 2 3 4 5 6 7 8 9 10 11"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(proc_diskstats_parse_line(sl(bad[i]), &d), -EINVAL);
}

static void test_udev_parse(void **st)
{
    const char *in = "S:disk/by-id/x\n"
                     "E:ID_MODEL=Samsung SSD\n"
                     "E:ID_SERIAL=Samsung_SSD_S1\n"
                     "E:ID_SERIAL_SHORT=S1\n"
                     "E:NOEQUALS\n"
                     "E:=x\n"
                     "X:ID_WWN=nope\n"
                     "E:ID_PATH=a=b\n"
                     "E:ID_MODEL=second\n"
                     "E";
    disk_udev u;
    proc_diskstats_udev_parse(in, strlen(in), &u);
    assert_true(u.has[UDEV_ID_MODEL] && vg_slice_eq(u.v[UDEV_ID_MODEL], "second"));
    assert_true(u.has[UDEV_ID_SERIAL_SHORT] && vg_slice_eq(u.v[UDEV_ID_SERIAL_SHORT], "S1"));
    assert_true(u.has[UDEV_ID_PATH] && vg_slice_eq(u.v[UDEV_ID_PATH], "a=b"));
    assert_false(u.has[UDEV_ID_WWN]);
    assert_false(u.has[UDEV_DM_NAME]);
}

typedef struct canned {
    const char *udev[4];     /* by minor */
    int rot;
} canned;

static void canned_udev(void *ud, unsigned major, unsigned minor, disk_udev *out)
{
    canned *c = ud;
    (void)major;
    if (minor < 4 && c->udev[minor])
        proc_diskstats_udev_parse(c->udev[minor], strlen(c->udev[minor]), out);
}

static int canned_rot(void *ud, const char *dev)
{
    canned *c = ud;
    return strcmp(dev, "sdb") == 0 ? -1 : c->rot;
}

static void test_parse_emit(void **st)
{
    const char *in =
        "   8       0 sda 100 1 800 10 50 2 400 5 3 15 16 7 8 9 10 11 12\n"
        "   8       1 sda1 90 1 700 9 40 2 300 4 0 14 15 0 0 0 0 0 0\n"
        "   8       2 sdb 1 2 3 4 5 6 7 8 9 10 11\n"
        "   8       3 loop0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n"
        "garbage\n";
    canned c = {{"E:ID_MODEL=Disk \"A\"\nE:ID_SERIAL_SHORT=\nE:ID_SERIAL=virtio-1\n"
                 "E:SCSI_IDENT_SERIAL=\nE:ID_WWN=0x5\nE:ID_PATH=pci-1\nE:ID_REVISION=1.0\n"
                 "E:ID_FS_TYPE=xfs\nE:ID_FS_UUID=u\nE:DM_NAME=vg-lv\nE:DM_VG_NAME=vg\n"
                 "E:ID_ATA=1\nE:ID_ATA_WRITE_CACHE=1\nE:ID_ATA_ROTATION_RATE_RPM=bad\n",
                 NULL, "E:SCSI_IDENT_SERIAL=LABEL1\nE:ID_SERIAL_SHORT=short\n", NULL},
                1};
    diskstats_lookup lk = {canned_udev, canned_rot, &c};
    vg_scrape *s;
    vg_scrape_new(&s);
    unsigned skipped = 0;
    assert_int_equal(proc_diskstats_parse(in, strlen(in), NULL, NULL, &lk, s, &skipped), 2);
    assert_int_equal(skipped, 1);
    /* units: 512-byte sectors, millisecond ticks */
    assert_true(pt_value(s, "node_disk_read_bytes_total", 1, "sda") == 800 * 512.0);
    assert_true(pt_value(s, "node_disk_read_time_seconds_total", 1, "sda") == 10 * 0.001);
    assert_true(pt_value(s, "node_disk_io_now", 1, "sda") == 3);
    assert_true(pt_value(s, "node_disk_io_time_weighted_seconds_total", 1, "sda") == 16 * 0.001);
    assert_true(pt_value(s, "node_disk_discarded_sectors_total", 1, "sda") == 9);
    assert_true(pt_value(s, "node_disk_flush_requests_total", 1, "sda") == 11);
    assert_true(pt_value(s, "node_disk_flush_requests_time_seconds_total", 1, "sda") == 0.012);
    /* 11 stats: no discard or flush series for sdb */
    assert_true(pt_value(s, "node_disk_io_time_weighted_seconds_total", 1, "sdb") == 0.011);
    assert_true(isnan(pt_value(s, "node_disk_discards_completed_total", 1, "sdb")));
    assert_int_equal(pt_count(s, "node_disk_flush_requests_total"), 1);
    assert_int_equal(pt_type(s, "node_disk_io_now"), VG_MT_GAUGE);
    assert_int_equal(pt_type(s, "node_disk_reads_completed_total"), VG_MT_COUNTER);
    /* partitions and loop devices are excluded by default */
    assert_true(isnan(pt_value(s, "node_disk_reads_completed_total", 1, "sda1")));
    assert_true(isnan(pt_value(s, "node_disk_reads_completed_total", 1, "loop0")));
    /* info: empty SCSI_IDENT_SERIAL and ID_SERIAL_SHORT fall back to ID_SERIAL */
    assert_true(pt_value(s, "node_disk_info", 9, "sda", "8", "0", "Disk \"A\"", "pci-1", "1.0",
                         "1", "virtio-1", "0x5") == 1);
    /* the serial printed on the label wins; unknown rotational reads "0" */
    assert_true(pt_value(s, "node_disk_info", 9, "sdb", "8", "2", "", "", "", "0", "LABEL1", "") ==
                1);
    assert_true(pt_value(s, "node_disk_filesystem_info", 5, "sda", "xfs", "", "u", "") == 1);
    assert_true(pt_value(s, "node_disk_device_mapper_info", 6, "sda", "", "", "vg-lv", "", "vg") ==
                1);
    assert_true(pt_value(s, "node_disk_ata_write_cache", 1, "sda") == 1);
    assert_int_equal(pt_count(s, "node_disk_ata_rotation_rate_rpm"), 0);
    char *text = pt_text(s);
    assert_non_null(strstr(text, "# HELP node_disk_info Info of /sys/block/<block_device>.\n"
                                 "# TYPE node_disk_info gauge\n"
                                 "node_disk_info{device=\"sda\",major=\"8\",minor=\"0\","
                                 "model=\"Disk \\\"A\\\"\",path=\"pci-1\",revision=\"1.0\","
                                 "rotational=\"1\",serial=\"virtio-1\",wwn=\"0x5\"} 1\n"));
    free(text);

    /* include wins over exclude; no lookups at all is fine */
    field_filter inc;
    field_filter_init(&inc, NULL, proc_diskstats_default_excluded);
    assert_int_equal(field_filter_set(&inc, "^(sda1|loop\\d)$"), 0);
    vg_scrape_reset(s);
    skipped = 0;
    assert_int_equal(proc_diskstats_parse(in, strlen(in), &inc, NULL, NULL, s, &skipped), 2);
    assert_true(pt_value(s, "node_disk_info", 9, "loop0", "8", "3", "", "", "", "0", "", "") == 1);
    field_filter_release(&inc);
    /* nothing well-formed */
    assert_int_equal(proc_diskstats_parse("x\n", 2, NULL, NULL, NULL, s, &skipped), -EINVAL);
    vg_scrape_free(s);
}

static void test_collector_fixture(void **st)
{
    pt_env env;
    pt_ctx(&env, "baremetal-k8s");
    vg_scrape *s;
    vg_scrape_new(&s);
    assert_int_equal(pt_collect(&agent_collector_diskstats, &env, s), 0);
    assert_true(pt_value(s, "node_disk_info", 9, "sda", "8", "0", "ST4000NM0035-1V4107",
                         "pci-0000:00:17.0-ata-1", "TNC3", "1", "ZC11ABCD",
                         "0x5000c500a1b2c3d4") == 1);
    assert_true(pt_value(s, "node_disk_info", 9, "nvme0n1", "259", "0", "Samsung SSD 980 PRO 1TB",
                         "pci-0000:01:00.0-nvme-1", "5B2QGXA7", "0", "S5GXNF0R123456A",
                         "eui.002538b111b2c3d4") == 1);
    assert_true(pt_value(s, "node_disk_ata_rotation_rate_rpm", 1, "sda") == 7200);
    assert_int_equal(pt_count(s, "node_disk_info"), 6); /* no partitions, loop, zram */
    vg_scrape_free(s);
    pt_done(&env);

    pt_ctx(&env, "missing-files");
    vg_scrape_new(&s);
    assert_int_equal(pt_collect(&agent_collector_diskstats, &env, s), -ENOENT);
    vg_scrape_free(s);
    pt_done(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_exclude_matches_regex),
        cmocka_unit_test(test_parse_line),
        cmocka_unit_test(test_udev_parse),
        cmocka_unit_test(test_parse_emit),
        cmocka_unit_test(test_collector_fixture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
