/*
 * proc_sys_kernel.c - the `uname` collector (node_exporter compatible
 * values, read through --path.procfs; see the header for why).
 */
#include "proc_sys_kernel.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "small_file.h"
#include "vg_parse.h"

static const char *const uname_files[PROC_UNAME_NFIELDS] = {
    [PROC_UNAME_SYSNAME] = "ostype",
    [PROC_UNAME_RELEASE] = "osrelease",
    [PROC_UNAME_VERSION] = "version",
    [PROC_UNAME_NODENAME] = "hostname",
    [PROC_UNAME_DOMAINNAME] = "domainname",
    [PROC_UNAME_MACHINE] = "arch",
};

const char *proc_uname_file(proc_uname_field which)
{
    return (unsigned)which < PROC_UNAME_NFIELDS ? uname_files[which] : NULL;
}

int proc_sys_kernel_parse_field(const char *buf, size_t len, proc_uname_field which,
                                proc_uname *u)
{
    if ((unsigned)which >= PROC_UNAME_NFIELDS)
        return -EINVAL;
    if (len && buf[len - 1] == '\n')
        len--;
    if (len >= PROC_UNAME_MAX || memchr(buf, '\0', len) || memchr(buf, '\n', len))
        return -EINVAL;
    memcpy(u->f[which], buf, len);
    u->f[which][len] = '\0';
    return 0;
}

int proc_sys_kernel_uname_emit(const proc_uname *u, vg_scrape *s)
{
    /* Label names in node_exporter's (sorted) output order. */
    static const char *const labels[6] = {"domainname", "machine", "nodename",
                                          "release", "sysname", "version"};
    vg_family *f = vg_scrape_family(s, "node_uname_info", VG_MT_GAUGE,
                                    "Labeled system information as provided by the uname "
                                    "system call.",
                                    6, labels);
    return vg_family_add(f, 1.0, u->f[PROC_UNAME_DOMAINNAME], u->f[PROC_UNAME_MACHINE],
                         u->f[PROC_UNAME_NODENAME], u->f[PROC_UNAME_RELEASE],
                         u->f[PROC_UNAME_SYSNAME], u->f[PROC_UNAME_VERSION]);
}

/*
 * Kernel name, release, version and machine cannot change while the
 * kernel runs: read once. Host and domain name can (sethostname): read
 * every scrape.
 */
typedef struct uname_state {
    bool have_static;
    proc_uname u;
    small_file_kept files;   /* host and domain name, read every scrape */
} uname_state;

static bool uname_field_static(int i)
{
    return i != PROC_UNAME_NODENAME && i != PROC_UNAME_DOMAINNAME;
}

static int uname_init(agent_ctx *ctx, void **state)
{
    uname_state *us = calloc(1, sizeof *us);
    if (!us)
        return -ENOMEM;
    small_file_kept_init(&us->files);
    *state = us;
    return 0;
}

static void uname_release(void *state)
{
    uname_state *us = state;
    if (us)
        small_file_kept_release(&us->files);
    free(us);
}

static int uname_collect(agent_ctx *ctx, void *state, vg_scrape *s)
{
    uname_state *us = state;
    proc_uname *u = &us->u;
    for (int i = 0; i < PROC_UNAME_NFIELDS; i++) {
        if (us->have_static && uname_field_static(i))
            continue;
        char rel[64];
        snprintf(rel, sizeof rel, "/sys/kernel/%s", uname_files[i]);
        char buf[PROC_UNAME_MAX + 1];
        size_t len;
        /* the static ones are read once: no descriptor kept for them */
        int rc = uname_field_static(i)
                     ? small_file_read(ctx, AGENT_ROOT_PROC, rel, buf, sizeof buf, &len)
                     : small_file_read_kept(&us->files, ctx, AGENT_ROOT_PROC, rel, buf,
                                            sizeof buf, &len);
        if (rc == -ENOENT && i == PROC_UNAME_MACHINE) {
            struct utsname un;
            if (uname(&un) != 0)
                return -errno;
            snprintf(u->f[i], sizeof u->f[i], "%s", un.machine);
            continue;
        }
        if (rc == 0)
            rc = proc_sys_kernel_parse_field(buf, len, (proc_uname_field)i, u);
        if (rc == -EFBIG || rc == -EINVAL) {
            agent_ctx_parse_error(ctx, "uname", rel);
            return -EINVAL;
        }
        if (rc)
            return rc;
    }
    us->have_static = true;
    return proc_sys_kernel_uname_emit(u, s);
}

const agent_collector agent_collector_uname = {
    .name = "uname",
    .default_enabled = true,
    .help = "Kernel and host names from /proc/sys/kernel (node_uname_info)",
    .init = uname_init,
    .collect = uname_collect,
    .release = uname_release,
    .loop_safe = true,
};
