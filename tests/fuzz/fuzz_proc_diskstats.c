/*
 * fuzz_proc_diskstats.c - libFuzzer target for the /proc/diskstats parser
 * (agent/collectors/proc_diskstats.h), with the fuzz input also serving as
 * every device's udev record: arbitrary bytes must never crash, read past
 * the buffer (a heap copy of exactly size bytes) or yield an unencodable
 * scrape.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/proc_diskstats.h"
#include "vg_prom.h"

typedef struct input {
    const char *p;
    size_t n;
} input;

static void udev_from_input(void *ud, unsigned major, unsigned minor, disk_udev *out)
{
    input *in = ud;
    (void)major;
    (void)minor;
    proc_diskstats_udev_parse(in->p, in->n, out);
}

static int rot(void *ud, const char *dev)
{
    (void)ud;
    return (int)(strlen(dev) % 3) - 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1);
    vg_scrape *s = NULL;
    if (!buf || vg_scrape_new(&s)) {
        free(buf);
        return 0;
    }
    if (size)
        memcpy(buf, data, size);
    input in = {buf, size};
    diskstats_lookup lk = {udev_from_input, rot, &in};
    unsigned skipped = 0;
    proc_diskstats_parse(buf, size, NULL, NULL, &lk, s, &skipped);
    field_filter inc;
    field_filter_init(&inc, NULL, proc_diskstats_default_excluded);
    if (field_filter_set(&inc, "^(sd|nvme|dm-)") == 0) {
        vg_scrape_reset(s);
        proc_diskstats_parse(buf, size, &inc, NULL, NULL, s, &skipped);
    }
    field_filter_release(&inc);
    vg_buf out = VG_BUF_INIT;
    if (vg_prom_encode(s, VG_PROM_TEXT, &out) != 0)
        abort();
    vg_buf_release(&out);
    vg_scrape_free(s);
    free(buf);
    return 0;
}
