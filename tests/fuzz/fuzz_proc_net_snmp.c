/*
 * fuzz_proc_net_snmp.c - libFuzzer target for the /proc/net/{netstat,snmp,snmp6} parsers
 * (agent/collectors/proc_net_snmp.h): arbitrary bytes must never crash, read past
 * the buffer (a heap copy of exactly size bytes) or yield an
 * unencodable scrape; and kept plans must parse as the plain parses do
 * (fuzz_plan.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/proc_net_snmp.h"
#include "fuzz_plan.h"
#include "vg_prom.h"

static int parse_pairs(void *plan, const char *buf, size_t len, const void *filter, vg_scrape *s,
                       unsigned *skipped)
{
    return proc_net_snmp_parse_pairs_planned(plan, buf, len, filter, s, skipped);
}

static int parse_snmp6(void *plan, const char *buf, size_t len, const void *filter, vg_scrape *s,
                       unsigned *skipped)
{
    return proc_net_snmp_parse_snmp6_planned(plan, buf, len, filter, s, skipped);
}

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
    proc_net_snmp_parse_pairs(buf, size, NULL, s, &skipped);
    vg_scrape_reset(s);
    proc_net_snmp_parse_snmp6(buf, size, NULL, s, &skipped);
    /* and through a compiled (non-default) pattern */
    field_filter f;
    field_filter_init(&f, PROC_NET_SNMP_FIELDS_DEFAULT, proc_net_snmp_default_match);
    if (field_filter_set(&f, "^(Tcp|Ip6?)_") == 0) {
        vg_scrape_reset(s);
        proc_net_snmp_parse_pairs(buf, size, &f, s, &skipped);
        proc_net_snmp_parse_snmp6(buf, size, &f, s, &skipped);
    }
    /* kept plans give what the plain parses give (one plan per file) */
    proc_net_snmp_plan *pp = proc_net_snmp_plan_new(), *p6 = proc_net_snmp_plan_new();
    if (pp && p6) {
        fuzz_plan_check(pp, parse_pairs, NULL, data, size);
        fuzz_plan_check(p6, parse_snmp6, NULL, data, size);
        if (f.pattern) {
            fuzz_plan_check(pp, parse_pairs, &f, data, size);
            fuzz_plan_check(p6, parse_snmp6, &f, data, size);
        }
    }
    proc_net_snmp_plan_free(pp);
    proc_net_snmp_plan_free(p6);
    field_filter_release(&f);
    vg_buf out = VG_BUF_INIT;
    if (vg_prom_encode(s, VG_PROM_TEXT, &out) != 0)
        abort();
    vg_buf_release(&out);
    vg_scrape_free(s);
    free(buf);
    return 0;
}
