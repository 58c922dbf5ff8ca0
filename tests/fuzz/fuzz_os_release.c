/*
 * fuzz_os_release.c - libFuzzer target for the os-release parsers
 * (agent/collectors/os_release.h): arbitrary bytes must never crash, read past
 * the buffer (a heap copy of exactly size bytes) or yield an
 * unencodable scrape.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/os_release.h"
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
    os_release *r = malloc(sizeof *r);
    if (r) {
        os_release_parse(buf, size, r, &skipped);
        for (int i = 0; i < OS_NFIELDS; i++)
            if (memchr(r->v[i], 0, sizeof r->v[i]) == NULL)
                abort();
        os_release_emit(r, s);
        free(r);
    }
    vg_buf out = VG_BUF_INIT;
    if (vg_prom_encode(s, VG_PROM_TEXT, &out) != 0)
        abort();
    vg_buf_release(&out);
    vg_scrape_free(s);
    free(buf);
    return 0;
}
