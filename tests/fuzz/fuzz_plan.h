/*
 * fuzz_plan.h - a differential check for the collectors' kept parse plans
 * (proc_vmstat, proc_meminfo, proc_net_snmp): a planned parse must give
 * exactly what the plain parse gives, whatever the plan was made from.
 *
 * The input is cut at its first NUL byte (none: both parts are the whole
 * input). The first part makes a plan; the second is parsed through that
 * plan and plainly (plan NULL), each from a heap copy of exactly its size
 * (the first freed before, so a plan that kept pointers into it is caught);
 * return codes, skipped counts and the encoded scrapes must agree, or the
 * target aborts. Header-only: each fuzz target is one translation unit.
 */
#ifndef FUZZ_PLAN_H
#define FUZZ_PLAN_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vg_prom.h"

/* A collector's planned parse; plan NULL = the plain one. arg: its filter. */
typedef int (*fuzz_plan_parse_fn)(void *plan, const char *buf, size_t len, const void *arg,
                                  vg_scrape *s, unsigned *skipped);

static char *fuzz_plan_copy(const uint8_t *p, size_t n)
{
    char *c = malloc(n ? n : 1);
    if (c && n)
        memcpy(c, p, n);
    return c;
}

static void fuzz_plan_check(void *plan, fuzz_plan_parse_fn parse, const void *arg,
                            const uint8_t *data, size_t size)
{
    const uint8_t *nul = size ? memchr(data, 0, size) : NULL;
    size_t n1 = nul ? (size_t)(nul - data) : size;
    const uint8_t *d2 = nul ? nul + 1 : data;
    size_t n2 = nul ? size - n1 - 1 : size;
    char *b1 = fuzz_plan_copy(data, n1), *b2 = fuzz_plan_copy(d2, n2);
    vg_scrape *sp = NULL, *sq = NULL;
    vg_buf ep = VG_BUF_INIT, eq = VG_BUF_INIT;
    if (!b1 || !b2 || vg_scrape_new(&sp) || vg_scrape_new(&sq))
        goto out;
    unsigned k1 = 0, kp = 0, kq = 0;
    parse(plan, b1, n1, arg, sp, &k1);
    free(b1); /* a plan must not point into the buffer it was made from */
    b1 = NULL;
    vg_scrape_reset(sp);
    int rp = parse(plan, b2, n2, arg, sp, &kp);
    int rq = parse(NULL, b2, n2, arg, sq, &kq);
    if (rp != rq || kp != kq)
        abort();
    if (vg_prom_encode(sp, VG_PROM_TEXT, &ep) || vg_prom_encode(sq, VG_PROM_TEXT, &eq))
        abort();
    if (ep.len != eq.len || (ep.len && memcmp(ep.data, eq.data, ep.len) != 0))
        abort();
out:
    vg_buf_release(&ep);
    vg_buf_release(&eq);
    vg_scrape_free(sp);
    vg_scrape_free(sq);
    free(b1);
    free(b2);
}

#endif
