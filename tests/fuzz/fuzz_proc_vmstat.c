/*
 * fuzz_proc_vmstat.c - libFuzzer target for the /proc/vmstat parsers
 * (agent/collectors/proc_vmstat.h): arbitrary bytes must never crash, read past
 * the buffer (a heap copy of exactly size bytes) or yield an
 * unencodable scrape; and a kept plan must parse as the plain parse does
 * (fuzz_plan.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/proc_vmstat.h"
#include "fuzz_plan.h"
#include "vg_prom.h"

static int parse_vmstat(void *plan, const char *buf, size_t len, const void *filter, vg_scrape *s,
                        unsigned *skipped)
{
    return proc_vmstat_parse_planned(plan, buf, len, filter, s, skipped);
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
    (void)skipped;
    proc_vmstat_parse(buf, size, NULL, s, &skipped);
    /* and through a compiled (non-default) pattern */
    field_filter f;
    field_filter_init(&f, PROC_VMSTAT_FIELDS_DEFAULT, proc_vmstat_default_match);
    if (field_filter_set(&f, "^(nr_|pg)") == 0) {
        vg_scrape_reset(s);
        proc_vmstat_parse(buf, size, &f, s, &skipped);
    }
    /* a kept plan gives what the plain parse gives (default, then the pattern) */
    proc_vmstat_plan *plan = proc_vmstat_plan_new();
    if (plan) {
        fuzz_plan_check(plan, parse_vmstat, NULL, data, size);
        if (f.pattern)
            fuzz_plan_check(plan, parse_vmstat, &f, data, size);
        proc_vmstat_plan_free(plan);
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
