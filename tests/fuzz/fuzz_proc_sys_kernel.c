/*
 * fuzz_proc_sys_kernel.c - libFuzzer target for the /proc/sys/kernel uname files parsers
 * (agent/collectors/proc_sys_kernel.h): arbitrary bytes must never crash, read past
 * the buffer (a heap copy of exactly size bytes) or yield an
 * unencodable scrape.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/proc_sys_kernel.h"
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
    proc_uname u;
    memset(&u, 0, sizeof u);
    for (int i = 0; i < PROC_UNAME_NFIELDS; i++) {
        int rc = proc_sys_kernel_parse_field(buf, size, (proc_uname_field)i, &u);
        if (rc == 0 && memchr(u.f[i], 0, sizeof u.f[i]) == NULL)
            abort();
    }
    proc_sys_kernel_uname_emit(&u, s);
    vg_buf out = VG_BUF_INIT;
    if (vg_prom_encode(s, VG_PROM_TEXT, &out) != 0)
        abort();
    vg_buf_release(&out);
    vg_scrape_free(s);
    free(buf);
    return 0;
}
