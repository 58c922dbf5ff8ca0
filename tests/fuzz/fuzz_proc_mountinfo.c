/*
 * fuzz_proc_mountinfo.c - libFuzzer target for the mountinfo parser of the
 * filesystem collector (agent/collectors/proc_mountinfo.h): parse with and
 * without a rootfs, fake statfs results, emit and encode. No statfs is made.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/proc_mountinfo.h"
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
    static const char *const roots[2] = {"", "/host"};
    fs_mounts m;
    fs_mounts_init(&m);
    for (int r = 0; r < 2; r++) {
        agent_ctx ctx;
        memset(&ctx, 0, sizeof ctx);
        ctx.roots[AGENT_ROOT_ROOTFS] = roots[r];
        unsigned skipped = 0;
        int n = proc_mountinfo_parse(&ctx, buf, size, NULL, NULL, &m, &skipped);
        if (n >= 0 && (size_t)n != m.n)
            abort();
        struct statfs st;
        memset(&st, 0, sizeof st);
        st.f_bsize = 4096;
        st.f_blocks = (fsblkcnt_t)size;
        for (size_t i = 0; i < m.n; i++) {
            /* every string lies in the pool and the target starts with the root */
            if (strncmp(fs_mounts_str(&m, m.v[i].target), roots[r], strlen(roots[r])) != 0)
                abort();
            m.v[i].rc = (i % 3) ? 0 : -ETIMEDOUT;
            if (m.v[i].rc == 0)
                fs_mount_set_statfs(&m.v[i], &st);
        }
        vg_scrape_reset(s);
        fs_mounts_emit(&m, s);
        vg_buf out = VG_BUF_INIT;
        if (vg_prom_encode(s, VG_PROM_TEXT, &out) != 0)
            abort();
        vg_buf_release(&out);
    }
    fs_mounts_release(&m);
    vg_scrape_free(s);
    free(buf);
    return 0;
}
