/*
 * fuzz_proc_pressure.c - libFuzzer target for the /proc/pressure/{cpu,io,memory,irq} parsers
 * (agent/collectors/proc_pressure.h): arbitrary bytes must never crash, read past
 * the buffer (a heap copy of exactly size bytes) or yield an
 * unencodable scrape.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/proc_pressure.h"
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
    for (int r = PROC_PRESSURE_CPU; r <= PROC_PRESSURE_IRQ; r++)
        proc_pressure_parse(buf, size, (proc_pressure_resource)r, s, &skipped);
    vg_buf out = VG_BUF_INIT;
    if (vg_prom_encode(s, VG_PROM_TEXT, &out) != 0)
        abort();
    vg_buf_release(&out);
    vg_scrape_free(s);
    free(buf);
    return 0;
}
