/*
 * fuzz_proc_net_dev.c - libFuzzer target for the /proc/net/dev parser
 * (agent/collectors/proc_net_dev.h): arbitrary bytes must never crash, read
 * past the buffer or yield an unencodable scrape.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/proc_net_dev.h"
#include "vg_prom.h"

static int nohandler(void *ud, const char *dev, uint64_t *out)
{
    (void)ud;
    *out = strlen(dev);
    return dev[0] == 'e' ? 0 : -ENOENT;
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
    unsigned skipped = 0;
    proc_net_dev_parse(buf, size, NULL, NULL, nohandler, NULL, s, &skipped);
    field_filter ex;
    field_filter_init(&ex, NETDEV_EXCLUDE_DEFAULT, proc_net_dev_default_excluded);
    if (field_filter_set(&ex, "^x") == 0) {
        vg_scrape_reset(s);
        proc_net_dev_parse(buf, size, NULL, &ex, NULL, NULL, s, &skipped);
    }
    field_filter_release(&ex);
    vg_buf out = VG_BUF_INIT;
    if (vg_prom_encode(s, VG_PROM_TEXT, &out) != 0)
        abort();
    vg_buf_release(&out);
    vg_scrape_free(s);
    free(buf);
    return 0;
}
