/*
 * proc_sys_kernel.h - the `uname` collector: node_uname_info{domainname,
 * machine,nodename,release,sysname,version} = 1.
 *
 * node_exporter calls uname(2), which always describes the namespace and
 * kernel of the calling process and ignores --path.procfs. Vigil reads the
 * same strings from <procfs>/sys/kernel/{ostype,osrelease,version,
 * hostname,domainname} instead, so the values follow --path.procfs and the
 * collector can be tested on fixture trees. `machine` comes from
 * <procfs>/sys/kernel/arch (kernels >= 5.x expose it); only when that file
 * is missing is it taken from uname(2). Like uname(2), hostname and
 * domainname show the UTS namespace of the reading process, whatever
 * procfs is mounted: a DaemonSet pod reports the node's name only with
 * hostNetwork: true (which shares the host's UTS namespace).
 */
#ifndef PROC_SYS_KERNEL_H
#define PROC_SYS_KERNEL_H

#include <stddef.h>

#include "agent_collector.h"

typedef enum {
    PROC_UNAME_SYSNAME = 0,   /* ostype */
    PROC_UNAME_RELEASE,       /* osrelease */
    PROC_UNAME_VERSION,       /* version */
    PROC_UNAME_NODENAME,      /* hostname */
    PROC_UNAME_DOMAINNAME,    /* domainname */
    PROC_UNAME_MACHINE,       /* arch */
    PROC_UNAME_NFIELDS
} proc_uname_field;

/* The kernel caps these at 64 bytes; room is left for longer ones. */
#define PROC_UNAME_MAX 256

typedef struct proc_uname {
    char f[PROC_UNAME_NFIELDS][PROC_UNAME_MAX];
} proc_uname;

/* The file under <procfs>/sys/kernel/ that holds a field ("ostype"...). */
const char *proc_uname_file(proc_uname_field which);

/*
 * Store one file's contents (one line; the trailing newline is dropped) in
 * u->f[which]. A NUL byte, a second line or a value of PROC_UNAME_MAX bytes
 * or more is malformed: -EINVAL, u untouched. An empty value is allowed.
 */
int proc_sys_kernel_parse_field(const char *buf, size_t len, proc_uname_field which,
                                proc_uname *u);

/* Add node_uname_info for u. 0, or the vg_family_add error. */
int proc_sys_kernel_uname_emit(const proc_uname *u, vg_scrape *s);

extern const agent_collector agent_collector_uname;

#endif
