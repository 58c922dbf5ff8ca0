/*
 * parse_plan.h - what every kept parse plan shares (meminfo, vmstat,
 * netstat/snmp, snmp6).
 *
 * A plan remembers the layout of a /proc file (its names or header lines,
 * byte for byte, in text) and the series names and help for the fields it
 * reports (NUL-terminated, in strs), so a scrape only compares and takes
 * values by position. It is made for one field filter (pattern) and is
 * valid only once made whole. Each collector keeps its own line and field
 * tables beside it, grown with parse_plan_grow.
 */
#ifndef PARSE_PLAN_H
#define PARSE_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "field_filter.h"
#include "vg_buf.h"

/* Caller's storage: parse_plan_init, then parse_plan_release. */
typedef struct parse_plan {
    bool valid;
    char *pattern;   /* the filter's pattern it was made for; NULL: default */
    vg_buf text;     /* the layout it was made from */
    vg_buf strs;     /* series names and help */
} parse_plan;

void parse_plan_init(parse_plan *p);
void parse_plan_release(parse_plan *p);

/* Start a new plan for filter (NULL: the default selection): not valid,
 * text and strs empty, the pattern copied. 0 or -ENOMEM (then not valid
 * and no pattern). */
int parse_plan_reset(parse_plan *p, const field_filter *filter);

/* Valid and made for the pattern filter selects with now. */
bool parse_plan_fits(const parse_plan *p, const field_filter *filter);

/* Keep a series' name and help in strs: their offsets in *name_off and
 * *help_off. 0 or -ENOMEM (strs may then hold the name only). */
int parse_plan_add_series(parse_plan *p, const char *name, const char *help, uint32_t *name_off,
                          uint32_t *help_off);

/*
 * Room for element n of an array of elem-byte elements with *cap slots
 * (growing it to first, then doubling). Returns the array, moved or not
 * (*cap updated), or NULL when out of memory (arr and *cap untouched).
 */
void *parse_plan_grow(void *arr, size_t n, size_t *cap, size_t elem, size_t first);

#endif
