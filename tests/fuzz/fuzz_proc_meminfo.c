/*
 * fuzz_proc_meminfo.c - libFuzzer target for the /proc/meminfo parsers
 * (agent/collectors/proc_meminfo.h): arbitrary bytes must never crash, read past
 * the buffer (a heap copy of exactly size bytes) or yield an
 * unencodable scrape; and a kept plan must parse as the plain parse does
 * (fuzz_plan.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/proc_meminfo.h"
#include "fuzz_plan.h"
#include "vg_prom.h"

static int parse_meminfo(void *plan, const char *buf, size_t len, const void *arg, vg_scrape *s,
                         unsigned *skipped)
{
    (void)arg;
    return proc_meminfo_parse_planned(plan, buf, len, s, skipped);
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
    proc_meminfo_parse(buf, size, s, &skipped);
    proc_meminfo_plan *plan = proc_meminfo_plan_new();
    if (plan) {
        fuzz_plan_check(plan, parse_meminfo, NULL, data, size);
        proc_meminfo_plan_free(plan);
    }
    vg_buf out = VG_BUF_INIT;
    if (vg_prom_encode(s, VG_PROM_TEXT, &out) != 0)
        abort();
    vg_buf_release(&out);
    vg_scrape_free(s);
    free(buf);
    return 0;
}
