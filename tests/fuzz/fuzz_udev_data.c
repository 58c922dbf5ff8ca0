/*
 * fuzz_udev_data.c - libFuzzer target for the udev database parser
 * (proc_diskstats_udev_parse in agent/collectors/proc_diskstats.h): every
 * slice it returns must lie inside the input, and the labels built from
 * them must encode.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/proc_diskstats.h"
#include "vg_prom.h"

static const char *udev_buf;
static size_t udev_len;

static void udev_lookup(void *ud, unsigned major, unsigned minor, disk_udev *out)
{
    (void)ud;
    (void)major;
    (void)minor;
    proc_diskstats_udev_parse(udev_buf, udev_len, out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    if (size)
        memcpy(buf, data, size);
    disk_udev u;
    proc_diskstats_udev_parse(buf, size, &u);
    for (int k = 0; k < UDEV_NKEYS; k++) {
        if (!u.has[k])
            continue;
        if (u.v[k].p < buf || u.v[k].p + u.v[k].n > buf + size)
            abort();
    }
    /* through the emitter: one device whose udev record is the input */
    static const char line[] = "8 0 sda 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n";
    udev_buf = buf;
    udev_len = size;
    diskstats_lookup lk = {udev_lookup, NULL, NULL};
    vg_scrape *s = NULL;
    if (vg_scrape_new(&s) == 0) {
        unsigned skipped = 0;
        if (proc_diskstats_parse(line, sizeof line - 1, NULL, NULL, &lk, s, &skipped) != 1)
            abort();
        vg_buf out = VG_BUF_INIT;
        if (vg_prom_encode(s, VG_PROM_TEXT, &out) != 0)
            abort();
        vg_buf_release(&out);
        vg_scrape_free(s);
    }
    free(buf);
    return 0;
}
