/*
 * fuzz_sysfs_values.c - libFuzzer target for the parsers of single sysfs
 * value files (agent/collectors/sysfs_attr.h, sys_class_net.h,
 * sys_class_hwmon.h, sys_class_thermal.h, label_utf8.h). The first byte
 * picks an attribute or sensor file name, the rest is the file's content;
 * the first half of the input is also tried as a hwmon file name.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/label_utf8.h"
#include "collectors/sys_class_hwmon.h"
#include "collectors/sys_class_net.h"
#include "collectors/sys_class_thermal.h"
#include "collectors/sysfs_attr.h"
#include "vg_prom.h"

static const char *const hwmon_files[] = {
    "temp1_input", "temp1_label", "temp1", "in0_input", "fan1_input", "fan1_pulses", "pwm1",
    "power1_average", "power1_accuracy", "energy1_input", "humidity1_input", "curr1_input",
    "beep_enable", "vrm", "update_interval", "intrusion0_alarm", "cpu0_vid", "temp2_type",
};

static void encode_or_die(vg_scrape *s)
{
    vg_buf out = VG_BUF_INIT;
    if (vg_prom_encode(s, VG_PROM_TEXT, &out) != 0)
        abort();
    vg_buf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned sel = data[0];
    size_t n = size - 1;
    char *buf = malloc(n ? n : 1);
    vg_scrape *s = NULL;
    if (!buf || vg_scrape_new(&s)) {
        free(buf);
        return 0;
    }
    if (n)
        memcpy(buf, data + 1, n);
    vg_slice v = {buf, n};

    int64_t i64;
    (void)sysfs_attr_parse_int(v, &i64);
    (void)sysfs_attr_trim_nl(v);
    char lbl[64];
    label_utf8_copy(buf, n, lbl, sizeof lbl);
    if (!label_utf8_valid(lbl, strlen(lbl)))
        abort();

    /* netclass: the content as one attribute, then emitted */
    netclass_iface ifc;
    memset(&ifc, 0, sizeof ifc);
    label_utf8_copy(buf, n < 16 ? n : 16, ifc.name, sizeof ifc.name);
    const char *attr = sel & 1 ? netclass_num_files[(sel >> 1) % NC_NUM]
                               : netclass_str_files[(sel >> 1) % NC_NSTR];
    sys_class_net_attr_parse(&ifc, attr, buf, n);
    netclass_fams nf;
    sys_class_net_declare(s, &nf);
    sys_class_net_emit(&nf, &ifc, sel & 2);
    encode_or_die(s);

    /* hwmon: the content as a sensor file, and half the input as a file name */
    hwmon_chip c;
    hwmon_chip_init(&c);
    strcpy(c.chip, "fuzz");
    hwmon_chip_add(&c, hwmon_files[sel % (sizeof hwmon_files / sizeof hwmon_files[0])], buf, n);
    char name[128];
    size_t nn = n / 2 < sizeof name - 1 ? n / 2 : sizeof name - 1;
    memcpy(name, buf, nn);
    name[nn] = '\0';
    hwmon_fname f;
    if (sys_class_hwmon_explode(name, strlen(name), &f) && f.prop_len > strlen(name))
        abort();
    hwmon_chip_add(&c, name, buf + nn, n - nn);
    char clean[256];
    sys_class_hwmon_clean(buf, n, clean, sizeof clean);
    sys_class_hwmon_chip_from_device(name, clean, sizeof clean);
    vg_scrape_reset(s);
    sys_class_hwmon_emit(&c, s);
    encode_or_die(s);
    hwmon_chip_release(&c);

    /* thermal */
    char type[64];
    if (sys_class_thermal_parse_str(buf, n, type, sizeof type) == 0 &&
        sys_class_thermal_parse_int(buf, n, &i64) == 0) {
        vg_scrape_reset(s);
        sys_class_thermal_emit_zone(s, "0", type, i64);
        sys_class_thermal_emit_cooling(s, "0", type, i64, i64);
        encode_or_die(s);
    }
    vg_scrape_free(s);
    free(buf);
    return 0;
}
