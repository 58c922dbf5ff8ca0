/*
 * fuzz_proc_vmstat.c - libFuzzer target for the /proc/vmstat parsers
 * (agent/collectors/proc_vmstat.h): arbitrary bytes must never crash, read past
 * the buffer (a heap copy of exactly size bytes) or yield an
 * unencodable scrape.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/proc_vmstat.h"
#include "vg_prom.h"

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
    (void)skipped;
    proc_vmstat_parse(buf, size, NULL, s, &skipped);
    /* and through a compiled (non-default) pattern */
    field_filter f;
    field_filter_init(&f, PROC_VMSTAT_FIELDS_DEFAULT, proc_vmstat_default_match);
    if (field_filter_set(&f, "^(nr_|pg)") == 0) {
        vg_scrape_reset(s);
        proc_vmstat_parse(buf, size, &f, s, &skipped);
    }
    field_filter_release(&f);
    vg_buf out = VG_BUF_INIT;
    if (vg_prom_encode(s, VG_PROM_TEXT, &out) != 0)
        abort();
    vg_buf_release(&out);
    vg_scrape_free(s);
    free(buf);
    return 0;
}
