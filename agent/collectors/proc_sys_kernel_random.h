/*
 * proc_sys_kernel_random.h - the `entropy` collector:
 * node_entropy_available_bits (/proc/sys/kernel/random/entropy_avail) and
 * node_entropy_pool_size_bits (/proc/sys/kernel/random/poolsize).
 */
#ifndef PROC_SYS_KERNEL_RANDOM_H
#define PROC_SYS_KERNEL_RANDOM_H

#include <stddef.h>

#include "agent_collector.h"

typedef enum {
    PROC_RANDOM_ENTROPY_AVAIL = 0,   /* node_entropy_available_bits */
    PROC_RANDOM_POOLSIZE,            /* node_entropy_pool_size_bits */
} proc_random_file;

/*
 * Parse one of the two files (a single unsigned number and a newline) and
 * add its gauge. Returns 1, or -EINVAL (nothing added).
 */
int proc_sys_kernel_random_parse(const char *buf, size_t len, proc_random_file which,
                                 vg_scrape *s);

extern const agent_collector agent_collector_entropy;

#endif
