/*
 * fuzz_proc_sys_fs_file_nr.c - libFuzzer target for the /proc/sys/fs/file-nr parsers
 * (agent/collectors/proc_sys_fs_file_nr.h): arbitrary bytes must never crash, read past
 * the buffer (a heap copy of exactly size bytes) or yield an
 * unencodable scrape.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/proc_sys_fs_file_nr.h"
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
    proc_sys_fs_file_nr_parse(buf, size, s);
    vg_buf out = VG_BUF_INIT;
    if (vg_prom_encode(s, VG_PROM_TEXT, &out) != 0)
        abort();
    vg_buf_release(&out);
    vg_scrape_free(s);
    free(buf);
    return 0;
}
