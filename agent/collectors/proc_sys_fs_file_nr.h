/*
 * proc_sys_fs_file_nr.h - the `filefd` collector: node_filefd_allocated and
 * node_filefd_maximum from /proc/sys/fs/file-nr ("allocated unused max").
 */
#ifndef PROC_SYS_FS_FILE_NR_H
#define PROC_SYS_FS_FILE_NR_H

#include <stddef.h>

#include "agent_collector.h"

/*
 * Parse a file-nr buffer. The first and third fields must be unsigned
 * numbers or nothing is added: returns 2, or -EINVAL.
 */
int proc_sys_fs_file_nr_parse(const char *buf, size_t len, vg_scrape *s);

extern const agent_collector agent_collector_filefd;

#endif
