/*
 * parse_plan.c - the shared part of the kept parse plans (parse_plan.h).
 */
#include "parse_plan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void parse_plan_init(parse_plan *p)
{
    p->valid = false;
    p->pattern = NULL;
    vg_buf_init(&p->text);
    vg_buf_init(&p->strs);
}

void parse_plan_release(parse_plan *p)
{
    free(p->pattern);
    p->pattern = NULL;
    vg_buf_release(&p->text);
    vg_buf_release(&p->strs);
    p->valid = false;
}

int parse_plan_reset(parse_plan *p, const field_filter *filter)
{
    p->valid = false;
    vg_buf_reset(&p->text);
    vg_buf_reset(&p->strs);
    free(p->pattern);
    return field_filter_pattern_dup(filter, &p->pattern) ? -ENOMEM : 0;
}

bool parse_plan_fits(const parse_plan *p, const field_filter *filter)
{
    return p->valid && field_filter_uses(filter, p->pattern);
}

int parse_plan_add_series(parse_plan *p, const char *name, const char *help, uint32_t *name_off,
                          uint32_t *help_off)
{
    uint32_t n = (uint32_t)p->strs.len;
    if (vg_buf_append(&p->strs, name, strlen(name) + 1))
        return -ENOMEM;
    uint32_t h = (uint32_t)p->strs.len;
    if (vg_buf_append(&p->strs, help, strlen(help) + 1))
        return -ENOMEM;
    *name_off = n;
    *help_off = h;
    return 0;
}

void *parse_plan_grow(void *arr, size_t n, size_t *cap, size_t elem, size_t first)
{
    if (n < *cap)
        return arr;
    size_t ncap = *cap ? *cap * 2 : first;
    void *g = realloc(arr, ncap * elem);
    if (!g)
        return NULL;
    *cap = ncap;
    return g;
}
