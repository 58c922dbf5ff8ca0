/*
 * proc_vmstat.c - the `vmstat` collector (node_exporter compatible).
 *
 * The field filter runs before the number is parsed, so the ~200 fields a
 * default scrape drops cost a prefix check each; and the collector keeps a
 * plan (see "plans") so a scrape only compares the names.
 */
#include "proc_vmstat.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse_plan.h"
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

/* ---------- plans ---------- */

/*
 * /proc/vmstat lists the same names in the same order while the kernel
 * runs, and the filter changes only on a reload: which lines are selected,
 * and their series names and help, are kept as a plan. A scrape checks each
 * line's name against the plan and takes the selected values; a file or
 * filter it does not fit (or any line the full parse would skip) is parsed
 * the full way, which also makes a new plan.
 */
typedef struct plan_line {
    uint32_t off, len;     /* the name, in text */
    int32_t field;         /* index into fields, or -1: not selected */
} plan_line;

typedef struct plan_field {
    uint32_t name, help;   /* offsets in strs */
} plan_field;

struct proc_vmstat_plan {
    parse_plan base;       /* names in text, series names and help in strs */
    plan_line *lines;
    size_t nlines, lines_cap;
    plan_field *fields;
    size_t nfields, fields_cap;
};

#define PLAN_FIELDS_MAX 512

proc_vmstat_plan *proc_vmstat_plan_new(void)
{
    proc_vmstat_plan *p = calloc(1, sizeof *p);
    if (p)
        parse_plan_init(&p->base);
    return p;
}

void proc_vmstat_plan_free(proc_vmstat_plan *p)
{
    if (!p)
        return;
    parse_plan_release(&p->base);
    free(p->lines);
    free(p->fields);
    free(p);
}

static void plan_build(proc_vmstat_plan *p, const char *buf, size_t len,
                       const field_filter *filter)
{
    p->nlines = p->nfields = 0;
    if (parse_plan_reset(&p->base, filter))
        return;
    vg_lines it;
    vg_slice line;
    vg_lines_init(&it, buf, len);
    size_t pl = sizeof VMSTAT_PREFIX - 1;
    while (vg_lines_next(&it, &line)) {
        vg_slice f[3];
        char name[160];
        if (vg_fields(line, f, 3) != 2 || f[0].p != line.p || !vmstat_name_ok(f[0]) ||
            f[0].n + pl >= sizeof name)
            return; /* a line the full parse skips, or indented: no plan */
        plan_line *nl = parse_plan_grow(p->lines, p->nlines, &p->lines_cap, sizeof *nl, 256);
        if (!nl)
            return;
        p->lines = nl;
        plan_line *l = &p->lines[p->nlines++];
        l->off = (uint32_t)p->base.text.len;
        l->len = (uint32_t)f[0].n;
        l->field = -1;
        if (vg_buf_append(&p->base.text, f[0].p, f[0].n))
            return;
        memcpy(name, VMSTAT_PREFIX, pl);
        vg_slice_copy(f[0], name + pl, sizeof name - pl);
        const char *field = name + pl;
        if (filter ? !field_filter_match(filter, field) : !proc_vmstat_default_match(field))
            continue;
        if (p->nfields == p->fields_cap && p->fields_cap >= PLAN_FIELDS_MAX)
            return;
        plan_field *nf = parse_plan_grow(p->fields, p->nfields, &p->fields_cap, sizeof *nf, 32);
        if (!nf)
            return;
        p->fields = nf;
        char help[200];
        snprintf(help, sizeof help, "/proc/vmstat information field %s.", field);
        plan_field *pf = &p->fields[p->nfields];
        if (parse_plan_add_series(&p->base, name, help, &pf->name, &pf->help))
            return;
        l->field = (int32_t)p->nfields++;
    }
    p->base.valid = p->nlines > 0;
}

/* The planned parse: -EAGAIN when buf does not fit the plan. */
static int plan_apply(const proc_vmstat_plan *p, const char *buf, size_t len, vg_scrape *s,
                      unsigned *skipped)
{
    vg_slice vals[PLAN_FIELDS_MAX];
    vg_lines it;
    vg_slice line;
    vg_lines_init(&it, buf, len);
    for (size_t k = 0; k < p->nlines; k++) {
        const plan_line *l = &p->lines[k];
        vg_slice v;
        if (!vg_lines_next(&it, &line) || !vg_line_name_value(line, p->base.text.data + l->off, l->len, &v))
            return -EAGAIN;
        if (l->field >= 0)
            vals[l->field] = v;
    }
    if (vg_lines_next(&it, &line))
        return -EAGAIN;
    int added = 0;
    for (size_t i = 0; i < p->nfields; i++) {
        double v;
        uint64_t u;
        int64_t iv;
        if (vg_parse_u64(vals[i], &u) == 0)
            v = (double)u;
        else if (vg_parse_i64(vals[i], &iv) == 0)
            v = (double)iv;
        else {
            (*skipped)++;
            continue;
        }
        if (vg_scrape_add1(s, p->base.strs.data + p->fields[i].name, VG_MT_UNTYPED,
                           p->base.strs.data + p->fields[i].help, v) == 0)
            added++;
        else
            (*skipped)++;
    }
    return added;
}

int proc_vmstat_parse_planned(proc_vmstat_plan *plan, const char *buf, size_t len,
                              const field_filter *filter, vg_scrape *s, unsigned *skipped)
{
    if (plan && parse_plan_fits(&plan->base, filter)) {
        int rc = plan_apply(plan, buf, len, s, skipped);
        if (rc != -EAGAIN)
            return rc;
    }
    int rc = proc_vmstat_parse(buf, len, filter, s, skipped);
    if (plan && rc >= 0)
        plan_build(plan, buf, len, filter);
    return rc;
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

typedef struct vmstat_state {
    field_filter *filter;
    proc_vmstat_plan *plan;   /* NULL (no memory): parsed the full way */
} vmstat_state;

static void vmstat_release(void *state)
{
    vmstat_state *st = state;
    if (!st)
        return;
    field_filter_free(st->filter);
    proc_vmstat_plan_free(st->plan);
    free(st);
}

static int vmstat_init(agent_ctx *ctx, void **state)
{
    vmstat_state *st = calloc(1, sizeof *st);
    if (!st)
        return -ENOMEM;
    int rc = field_filter_new(PROC_VMSTAT_FIELDS_DEFAULT, proc_vmstat_default_match,
                              vmstat_pattern(ctx), &st->filter);
    if (rc) {
        if (rc == -EINVAL)
            vg_log_error(ctx->log, "vmstat", "invalid field pattern", "option", VMSTAT_OPT);
        free(st);
        return rc;
    }
    st->plan = proc_vmstat_plan_new();
    *state = st;
    return 0;
}

static int vmstat_collect(agent_ctx *ctx, void *state, vg_scrape *s)
{
    vmstat_state *st = state;
    field_filter *f = st->filter;
    /* A reload may have changed the pattern; a bad one keeps the old filter. */
    if (field_filter_set(f, vmstat_pattern(ctx)))
        agent_ctx_parse_error(ctx, "vmstat", VMSTAT_OPT);
    int rc = agent_read_kept(ctx, AGENT_ROOT_PROC, "/vmstat");
    if (rc)
        return rc;
    unsigned skipped = 0;
    rc = proc_vmstat_parse_planned(st->plan, ctx->scratch.data, ctx->scratch.len, f, s,
                                   &skipped);
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
    .release = vmstat_release,
    .loop_safe = true,
};
