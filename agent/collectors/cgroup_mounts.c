/*
 * cgroup_mounts.c - find the cgroup hierarchies in mountinfo or a directory.
 *
 * mountinfo lines: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] -
 * FSTYPE SOURCE SUPEROPTS". For cgroup v1 the controllers are listed in
 * SUPEROPTS ("rw,cpu,cpuacct").
 */
#include "cgroup_mounts.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vg_parse.h"

static const char *const ctl_names[CGROUP_CTL_N] = {"cpu", "cpuacct", "memory", "blkio", "pids"};

const char *cgroup_ctl_name(cgroup_ctl c)
{
    return (unsigned)c < CGROUP_CTL_N ? ctl_names[c] : "";
}

/* Is name one of the comma-separated options? */
static bool opt_has(vg_slice opts, const char *name)
{
    size_t nl = strlen(name);
    size_t i = 0;
    while (i <= opts.n) {
        size_t start = i;
        while (i < opts.n && opts.p[i] != ',')
            i++;
        if (i - start == nl && memcmp(opts.p + start, name, nl) == 0)
            return true;
        i++;
    }
    return false;
}

/* Copy a mount point, undoing mountinfo's octal escapes. */
static bool copy_mountpoint(vg_slice mp, char *out, size_t outlen)
{
    if (mp.n == 0 || mp.n >= outlen || mp.p[0] != '/')
        return false;
    vg_slice_copy(mp, out, outlen);
    vg_unescape_octal(out);
    return true;
}

static void decide_mode(cgroup_mounts *m)
{
    if (m->v1[CGROUP_CTL_CPU][0] || m->v1[CGROUP_CTL_CPUACCT][0] || m->v1[CGROUP_CTL_MEMORY][0])
        m->mode = CGROUP_MODE_V1;
    else if (m->unified[0])
        m->mode = CGROUP_MODE_V2;
    else
        m->mode = CGROUP_MODE_NONE;
}

void cgroup_mounts_parse(const char *text, size_t len, cgroup_mounts *out, size_t *skipped)
{
    memset(out, 0, sizeof *out);
    size_t bad = 0;
    bool unified_canonical = false;
    vg_lines it;
    vg_slice line;
    vg_lines_init(&it, text, len);
    while (vg_lines_next(&it, &line)) {
        vg_slice f[32];
        size_t nf = vg_fields(line, f, 32);
        if (nf == 0)
            continue;
        size_t dash = 0;
        for (size_t i = 6; i < nf && i < 32; i++) {
            if (vg_slice_eq(f[i], "-")) {
                dash = i;
                break;
            }
        }
        if (dash == 0 || dash + 3 >= nf) {
            bad++;
            continue;
        }
        vg_slice fstype = f[dash + 1];
        vg_slice super = f[dash + 3];
        bool v2 = vg_slice_eq(fstype, "cgroup2");
        bool v1 = vg_slice_eq(fstype, "cgroup");
        if (!v1 && !v2)
            continue;
        char mp[CGROUP_MOUNT_PATH_MAX];
        if (!copy_mountpoint(f[4], mp, sizeof mp)) {
            bad++;
            continue;
        }
        if (v2) {
            bool canonical = strcmp(mp, "/sys/fs/cgroup") == 0;
            if (!out->unified[0] || (canonical && !unified_canonical)) {
                memcpy(out->unified, mp, strlen(mp) + 1);
                unified_canonical = canonical;
            }
            continue;
        }
        for (int c = 0; c < CGROUP_CTL_N; c++) {
            if (!out->v1[c][0] && opt_has(super, ctl_names[c]))
                memcpy(out->v1[c], mp, strlen(mp) + 1);
        }
    }
    decide_mode(out);
    if (skipped)
        *skipped += bad;
}

static bool is_dir(const char *p)
{
    return access(p, X_OK) == 0;
}

int cgroup_mounts_probe(const char *dir, cgroup_mounts *out)
{
    cgroup_mounts m;
    memset(&m, 0, sizeof m);
    char p[CGROUP_MOUNT_PATH_MAX + 32];
    int n = snprintf(p, sizeof p, "%s/cgroup.controllers", dir);
    if (n < 0 || (size_t)n >= sizeof p || strlen(dir) >= CGROUP_MOUNT_PATH_MAX)
        return -ENAMETOOLONG;
    if (access(p, F_OK) == 0) {
        memcpy(m.unified, dir, strlen(dir) + 1);
        m.mode = CGROUP_MODE_V2;
        *out = m;
        return 0;
    }
    /* v1: a directory per controller, or co-mounted "cpu,cpuacct". */
    static const char *const comounted[] = {"cpu,cpuacct", "cpuacct,cpu"};
    for (int c = 0; c < CGROUP_CTL_N; c++) {
        snprintf(p, sizeof p, "%s/%s", dir, ctl_names[c]);
        if (strlen(p) < CGROUP_MOUNT_PATH_MAX && is_dir(p)) {
            memcpy(m.v1[c], p, strlen(p) + 1);
            continue;
        }
        if (c != CGROUP_CTL_CPU && c != CGROUP_CTL_CPUACCT)
            continue;
        for (size_t k = 0; k < sizeof comounted / sizeof comounted[0]; k++) {
            snprintf(p, sizeof p, "%s/%s", dir, comounted[k]);
            if (strlen(p) < CGROUP_MOUNT_PATH_MAX && is_dir(p)) {
                memcpy(m.v1[c], p, strlen(p) + 1);
                break;
            }
        }
    }
    decide_mode(&m);
    *out = m;
    return 0;
}
