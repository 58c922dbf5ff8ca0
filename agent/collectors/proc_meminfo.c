/*
 * proc_meminfo.c - the `meminfo` collector (node_exporter compatible).
 *
 * One pass over /proc/meminfo; names are built in a stack buffer (the
 * scrape copies them), so a scrape allocates nothing here.
 */
#include "proc_meminfo.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "vg_parse.h"

#define MEMINFO_PREFIX "node_memory_"

/*
 * Build the metric name for a key: "Active(anon)" -> "Active_anon". Only
 * [A-Za-z0-9_] and one trailing "(x)" group are accepted. 0 or -EINVAL.
 */
static int meminfo_name(vg_slice key, bool bytes, char *out, size_t outlen)
{
    size_t n = sizeof MEMINFO_PREFIX - 1;
    if (key.n == 0 || n + key.n + sizeof "_bytes" > outlen)
        return -EINVAL;
    memcpy(out, MEMINFO_PREFIX, n);
    bool paren = false, closed = false;
    for (size_t i = 0; i < key.n; i++) {
        char c = key.p[i];
        if (closed)
            return -EINVAL; /* nothing may follow ')' */
        if (c == '(' && !paren && i > 0) {
            paren = true;
            out[n++] = '_';
        } else if (c == ')' && paren && key.p[i - 1] != '(') {
            closed = true;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                   (c >= '0' && c <= '9') || c == '_') {
            out[n++] = c;
        } else {
            return -EINVAL;
        }
    }
    if (paren && !closed)
        return -EINVAL;
    if (bytes) {
        memcpy(out + n, "_bytes", 6);
        n += 6;
    }
    out[n] = '\0';
    return 0;
}

/* Unsigned fast path; a signed value is accepted too (node_exporter does). */
static int meminfo_value(vg_slice v, double *out)
{
    uint64_t u;
    if (vg_parse_u64(v, &u) == 0) {
        *out = (double)u;
        return 0;
    }
    int64_t i;
    if (vg_parse_i64(v, &i) == 0) {
        *out = (double)i;
        return 0;
    }
    return -EINVAL;
}

int proc_meminfo_parse(const char *buf, size_t len, vg_scrape *s, unsigned *skipped)
{
    int added = 0;
    vg_lines it;
    vg_slice line;
    vg_lines_init(&it, buf, len);
    while (vg_lines_next(&it, &line)) {
        if (vg_slice_trim(line).n == 0)
            continue;
        /* The kernel ends every line with '\n': a last line without one was
         * cut short, and "SwapTotal: 10" cut from "10 kB" would lose its unit. */
        if (line.p + line.n == buf + len) {
            (*skipped)++;
            continue;
        }
        vg_slice key, rest, f[3];
        double v;
        if (!vg_split_colon(line, &key, &rest)) {
            (*skipped)++;
            continue;
        }
        size_t nf = vg_fields(rest, f, 3);
        bool unit = nf == 2;
        if (nf < 1 || nf > 2 || (unit && !vg_slice_eq(f[1], "kB")) || meminfo_value(f[0], &v)) {
            (*skipped)++;
            continue;
        }
        char name[128];
        if (meminfo_name(key, unit, name, sizeof name)) {
            (*skipped)++;
            continue;
        }
        if (unit)
            v *= 1024.0;
        char help[160];
        /* The help names the field as node_exporter does ("Active_anon_bytes"). */
        memcpy(help, "Memory information field ", 25);
        strcpy(help + 25, name + sizeof MEMINFO_PREFIX - 1);
        size_t hl = strlen(help);
        help[hl] = '.';
        help[hl + 1] = '\0';
        if (vg_scrape_add1(s, name, VG_MT_GAUGE, help, v) == 0)
            added++;
        else
            (*skipped)++; /* a repeated field */
    }
    return added ? added : -EINVAL;
}

static int meminfo_collect(agent_ctx *ctx, void *state, vg_scrape *s)
{
    int rc = agent_read_kept(ctx, AGENT_ROOT_PROC, "/meminfo");
    if (rc)
        return rc;
    unsigned skipped = 0;
    rc = proc_meminfo_parse(ctx->scratch.data, ctx->scratch.len, s, &skipped);
    for (unsigned i = 0; i < skipped; i++)
        agent_ctx_parse_error(ctx, "meminfo", "/proc/meminfo line");
    return rc < 0 ? rc : 0;
}

const agent_collector agent_collector_meminfo = {
    .name = "meminfo",
    .default_enabled = true,
    .help = "Memory statistics from /proc/meminfo (node_memory_*)",
    .collect = meminfo_collect,
};
