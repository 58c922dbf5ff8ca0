/*
 * proc_vmstat.c - the `vmstat` collector (node_exporter compatible).
 *
 * The field filter runs before the number is parsed, so the ~200 fields a
 * default scrape drops cost a prefix check each.
 */
#include "proc_vmstat.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vg_parse.h"

#define VMSTAT_OPT "collector.vmstat.fields"
#define VMSTAT_PREFIX "node_vmstat_"

bool proc_vmstat_default_match(const char *field)
{
    /* ^(oom_kill|pgpg|pswp|pg.*fault).*: dispatch on the first byte, as
     * most of the ~200 names start with neither 'o' nor 'p' */
    if (field[0] == 'o')
        return strncmp(field, "oom_kill", 8) == 0;
    if (field[0] != 'p')
        return false;
    if (strncmp(field, "pgpg", 4) == 0 || strncmp(field, "pswp", 4) == 0)
        return true;
    return field[1] == 'g' && strstr(field + 2, "fault") != NULL;
}

static bool vmstat_name_ok(vg_slice n)
{
    for (size_t i = 0; i < n.n; i++) {
        unsigned c = (unsigned char)n.p[i];
        /* [A-Za-z0-9_] in three compares */
        if ((c | 0x20u) - 'a' >= 26u && c - '0' >= 10u && c != '_')
            return false;
    }
    return n.n > 0;
}

int proc_vmstat_parse(const char *buf, size_t len, const field_filter *filter, vg_scrape *s,
                      unsigned *skipped)
{
    int added = 0;
    bool shaped = false;
    vg_lines it;
    vg_slice line;
    vg_lines_init(&it, buf, len);
    while (vg_lines_next(&it, &line)) {
        vg_slice f[3];
        size_t nf = vg_fields(line, f, 3);
        if (nf == 0)
            continue;
        char name[160];
        size_t pl = sizeof VMSTAT_PREFIX - 1;
        if (nf != 2 || !vmstat_name_ok(f[0]) || f[0].n + pl >= sizeof name) {
            (*skipped)++;
            continue;
        }
        shaped = true;
        memcpy(name, VMSTAT_PREFIX, pl);
        vg_slice_copy(f[0], name + pl, sizeof name - pl);
        const char *field = name + pl;
        if (filter ? !field_filter_match(filter, field) : !proc_vmstat_default_match(field))
            continue;
        double v;
        uint64_t u;
        int64_t i;
        if (vg_parse_u64(f[1], &u) == 0)
            v = (double)u;
        else if (vg_parse_i64(f[1], &i) == 0)
            v = (double)i; /* some nr_* counters are signed */
        else {
            (*skipped)++;
            continue;
        }
        char help[200];
        snprintf(help, sizeof help, "/proc/vmstat information field %s.", field);
        if (vg_scrape_add1(s, name, VG_MT_UNTYPED, help, v) == 0)
            added++;
        else
            (*skipped)++;
    }
    return shaped ? added : -EINVAL;
}

/* ---------- collector ---------- */

static const vg_opt_def vmstat_opts[] = {
    {VMSTAT_OPT, VG_OPT_STRING, PROC_VMSTAT_FIELDS_DEFAULT,
     "Regexp of /proc/vmstat fields to report (POSIX ERE; the default is matched without a regex)",
     VG_OPT_F_RELOADABLE},
};

static const char *vmstat_pattern(const agent_ctx *ctx)
{
    return ctx->cfg ? vg_config_str(ctx->cfg, VMSTAT_OPT) : NULL;
}

static int vmstat_init(agent_ctx *ctx, void **state)
{
    field_filter *f;
    int rc = field_filter_new(PROC_VMSTAT_FIELDS_DEFAULT, proc_vmstat_default_match, vmstat_pattern(ctx), &f);
    if (rc) {
        if (rc == -EINVAL)
            vg_log_error(ctx->log, "vmstat", "invalid field pattern", "option", VMSTAT_OPT);
        return rc;
    }
    *state = f;
    return 0;
}

static int vmstat_collect(agent_ctx *ctx, void *state, vg_scrape *s)
{
    field_filter *f = state;
    /* A reload may have changed the pattern; a bad one keeps the old filter. */
    if (field_filter_set(f, vmstat_pattern(ctx)))
        agent_ctx_parse_error(ctx, "vmstat", VMSTAT_OPT);
    int rc = agent_read_kept(ctx, AGENT_ROOT_PROC, "/vmstat");
    if (rc)
        return rc;
    unsigned skipped = 0;
    rc = proc_vmstat_parse(ctx->scratch.data, ctx->scratch.len, f, s, &skipped);
    for (unsigned i = 0; i < skipped; i++)
        agent_ctx_parse_error(ctx, "vmstat", "/proc/vmstat line");
    return rc < 0 ? rc : 0;
}

const agent_collector agent_collector_vmstat = {
    .name = "vmstat",
    .default_enabled = true,
    .help = "Selected /proc/vmstat fields (node_vmstat_*)",
    .opts = vmstat_opts,
    .nopts = sizeof vmstat_opts / sizeof vmstat_opts[0],
    .init = vmstat_init,
    .collect = vmstat_collect,
    .release = field_filter_free,
};
