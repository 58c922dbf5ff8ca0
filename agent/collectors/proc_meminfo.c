/*
 * proc_meminfo.c - the `meminfo` collector (node_exporter compatible).
 *
 * One pass over /proc/meminfo; names are built in a stack buffer (the
 * scrape copies them), so a scrape allocates nothing here. The collector
 * keeps a plan (see "plans") so a scrape only compares the keys.
 */
#include "proc_meminfo.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse_plan.h"
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

/* ---------- plans ---------- */

/*
 * /proc/meminfo lists the same keys, with or without "kB", in the same
 * order while the kernel runs: their series names and help are kept as a
 * plan, and a scrape only checks each line's key and shape and parses its
 * value. A buffer the plan does not fit, or that the full parse would skip
 * a line of, is parsed the full way, which also makes a new plan.
 */
typedef struct plan_line {
    uint32_t key_off, key_len;  /* the line up to and including ':', in text */
    uint32_t name, help;        /* offsets in strs */
    bool kb;                    /* value followed by "kB" */
} plan_line;

struct proc_meminfo_plan {
    parse_plan base;            /* keys in text, series names and help in strs */
    plan_line *lines;
    size_t nlines, cap;
};

proc_meminfo_plan *proc_meminfo_plan_new(void)
{
    proc_meminfo_plan *p = calloc(1, sizeof *p);
    if (p)
        parse_plan_init(&p->base);
    return p;
}

void proc_meminfo_plan_free(proc_meminfo_plan *p)
{
    if (!p)
        return;
    parse_plan_release(&p->base);
    free(p->lines);
    free(p);
}

/* A plan for buf when the full parse takes every line of it. */
static void plan_build(proc_meminfo_plan *p, const char *buf, size_t len)
{
    p->nlines = 0;
    (void)parse_plan_reset(&p->base, NULL); /* no filter: cannot fail */
    if (!len || buf[len - 1] != '\n')
        return;
    vg_lines it;
    vg_slice line;
    vg_lines_init(&it, buf, len);
    while (vg_lines_next(&it, &line)) {
        vg_slice key, rest, f[3];
        if (!vg_split_colon(line, &key, &rest) || key.p != line.p)
            return;
        size_t nf = vg_fields(rest, f, 3);
        bool kb = nf == 2;
        char name[128], help[160];
        if (nf < 1 || nf > 2 || (kb && !vg_slice_eq(f[1], "kB")) ||
            meminfo_name(key, kb, name, sizeof name))
            return;
        plan_line *nl = parse_plan_grow(p->lines, p->nlines, &p->cap, sizeof *nl, 64);
        if (!nl)
            return;
        p->lines = nl;
        plan_line *l = &p->lines[p->nlines++];
        l->key_off = (uint32_t)p->base.text.len;
        l->key_len = (uint32_t)(key.n + 1);
        l->kb = kb;
        snprintf(help, sizeof help, "Memory information field %s.",
                 name + sizeof MEMINFO_PREFIX - 1);
        if (vg_buf_append(&p->base.text, line.p, key.n + 1) || key.p[key.n] != ':' ||
            parse_plan_add_series(&p->base, name, help, &l->name, &l->help))
            return;
    }
    p->base.valid = p->nlines > 0;
}

/* The planned parse: -EAGAIN when buf does not fit the plan. */
static int plan_apply(const proc_meminfo_plan *p, const char *buf, size_t len, vg_scrape *s,
                      unsigned *skipped)
{
    if (!len || buf[len - 1] != '\n')
        return -EAGAIN;
    vg_slice vals[256];
    if (p->nlines > sizeof vals / sizeof vals[0])
        return -EAGAIN;
    vg_lines it;
    vg_slice line;
    vg_lines_init(&it, buf, len);
    for (size_t k = 0; k < p->nlines; k++) {
        const plan_line *l = &p->lines[k];
        if (!vg_lines_next(&it, &line) || line.n < l->key_len ||
            memcmp(line.p, p->base.text.data + l->key_off, l->key_len) != 0)
            return -EAGAIN;
        /* value, then "kB" when planned, then nothing */
        size_t i = l->key_len;
        vals[k] = vg_field_next(line, &i);
        if (l->kb && !vg_slice_eq(vg_field_next(line, &i), "kB"))
            return -EAGAIN;
        if (!vals[k].n || i != line.n)
            return -EAGAIN;
    }
    if (vg_lines_next(&it, &line))
        return -EAGAIN;
    int added = 0;
    for (size_t k = 0; k < p->nlines; k++) {
        double v;
        if (meminfo_value(vals[k], &v)) {
            (*skipped)++;
            continue;
        }
        if (p->lines[k].kb)
            v *= 1024.0;
        if (vg_scrape_add1(s, p->base.strs.data + p->lines[k].name, VG_MT_GAUGE,
                           p->base.strs.data + p->lines[k].help, v) == 0)
            added++;
        else
            (*skipped)++;
    }
    return added ? added : -EINVAL;
}

int proc_meminfo_parse_planned(proc_meminfo_plan *plan, const char *buf, size_t len,
                               vg_scrape *s, unsigned *skipped)
{
    if (plan && plan->base.valid) {
        int rc = plan_apply(plan, buf, len, s, skipped);
        if (rc != -EAGAIN)
            return rc;
    }
    unsigned before = *skipped;
    int rc = proc_meminfo_parse(buf, len, s, skipped);
    if (plan) {
        if (rc >= 0 && *skipped == before)
            plan_build(plan, buf, len);
        else
            plan->base.valid = false;
    }
    return rc;
}

/* ---------- collector ---------- */

static int meminfo_init(agent_ctx *ctx, void **state)
{
    /* NULL (no memory): parsed the full way */
    *state = proc_meminfo_plan_new();
    return 0;
}

static void meminfo_release(void *state) { proc_meminfo_plan_free(state); }

static int meminfo_collect(agent_ctx *ctx, void *state, vg_scrape *s)
{
    int rc = agent_read_kept(ctx, AGENT_ROOT_PROC, "/meminfo");
    if (rc)
        return rc;
    unsigned skipped = 0;
    rc = proc_meminfo_parse_planned(state, ctx->scratch.data, ctx->scratch.len, s, &skipped);
    for (unsigned i = 0; i < skipped; i++)
        agent_ctx_parse_error(ctx, "meminfo", "/proc/meminfo line");
    return rc < 0 ? rc : 0;
}

const agent_collector agent_collector_meminfo = {
    .name = "meminfo",
    .default_enabled = true,
    .help = "Memory statistics from /proc/meminfo (node_memory_*)",
    .init = meminfo_init,
    .collect = meminfo_collect,
    .release = meminfo_release,
    .loop_safe = true,
};
