/*
 * proc_sys_fs_file_nr.c - the `filefd` collector (node_exporter compatible).
 */
#include "proc_sys_fs_file_nr.h"

#include <errno.h>

#include <stdlib.h>

#include "small_file.h"
#include "vg_parse.h"

int proc_sys_fs_file_nr_parse(const char *buf, size_t len, vg_scrape *s)
{
    vg_slice line, f[4];
    vg_lines it;
    vg_lines_init(&it, buf, len);
    uint64_t alloc, unused, max;
    if (!vg_lines_next(&it, &line) || vg_fields(line, f, 4) != 3 ||
        vg_parse_u64(f[0], &alloc) || vg_parse_u64(f[1], &unused) || vg_parse_u64(f[2], &max))
        return -EINVAL;
    vg_scrape_add1(s, "node_filefd_allocated", VG_MT_GAUGE,
                   "File descriptor statistics: allocated.", (double)alloc);
    vg_scrape_add1(s, "node_filefd_maximum", VG_MT_GAUGE,
                   "File descriptor statistics: maximum.", (double)max);
    return 2;
}

static int filefd_init(agent_ctx *ctx, void **state)
{
    small_file_kept *k = malloc(sizeof *k);
    if (!k)
        return -ENOMEM;
    small_file_kept_init(k);
    *state = k;
    return 0;
}

static void filefd_release(void *state)
{
    if (state)
        small_file_kept_release(state);
    free(state);
}

static int filefd_collect(agent_ctx *ctx, void *state, vg_scrape *s)
{
    char buf[256];
    size_t len;
    int rc = small_file_read_kept(state, ctx, AGENT_ROOT_PROC, "/sys/fs/file-nr", buf,
                                  sizeof buf, &len);
    if (rc)
        return rc;
    rc = proc_sys_fs_file_nr_parse(buf, len, s);
    if (rc < 0) {
        agent_ctx_parse_error(ctx, "filefd", "/proc/sys/fs/file-nr");
        return rc;
    }
    return 0;
}

const agent_collector agent_collector_filefd = {
    .name = "filefd",
    .default_enabled = true,
    .help = "File descriptor use from /proc/sys/fs/file-nr (node_filefd_*)",
    .init = filefd_init,
    .collect = filefd_collect,
    .release = filefd_release,
    .loop_safe = true,
};
