/*
 * cgroup_ident.c - recognise Kubernetes pods and containers in cgroup paths.
 *
 * A cgroup path is split on '/' and scanned for the pod component:
 *  - systemd driver: "[<prefix>-]kubepods[-<qos>]-pod<uid>.slice", the uid
 *    written with '_' for '-' (systemd reserves '-' as the slice separator);
 *    the prefix covers kubelets run with --cgroup-root (kind: "kubelet-").
 *  - cgroupfs driver: "pod<uid>" directly under "kubepods" (guaranteed) or
 *    under "kubepods/<qos>".
 * The component after the pod one, if any, is the container: a
 * "<runtime>-<id>.scope" scope (systemd), a "crio-<id>" directory (CRI-O on
 * cgroupfs) or a bare id (cgroupfs). Anything else below a pod (CRI-O's
 * "crio-conmon-<id>" monitors, kubelet-made sub-cgroups) still belongs to
 * the pod, so it is reported as pod-level with an empty container id.
 *
 * Parsing works on (pointer, length) slices: the input need not be
 * NUL-terminated and is never modified.
 */
#include "cgroup_ident.h"

#include <string.h>

typedef struct {
    const char *p;
    size_t n;
} ci_slice;

static bool ci_has_prefix(ci_slice s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n >= n && memcmp(s.p, lit, n) == 0;
}

static bool ci_has_suffix(ci_slice s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n >= n && memcmp(s.p + s.n - n, lit, n) == 0;
}

static bool ci_eq(ci_slice s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n == n && memcmp(s.p, lit, n) == 0;
}

static ci_slice ci_skip(ci_slice s, size_t n)
{
    s.p += n;
    s.n -= n;
    return s;
}

static bool ci_is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool ci_is_alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * Copy a pod uid into out, converting '_' to '-' when systemd escaped it.
 * Accepts hex digits and separators only, 1..outlen-1 bytes.
 */
static bool ci_uid_copy(ci_slice uid, bool underscores, char *out, size_t outlen)
{
    if (uid.n == 0 || uid.n >= outlen)
        return false;
    bool hex_seen = false;
    for (size_t i = 0; i < uid.n; i++) {
        char c = uid.p[i];
        if (ci_is_hex(c)) {
            hex_seen = true;
            continue;
        }
        if (c == '-' || (underscores && c == '_'))
            continue;
        return false;
    }
    if (!hex_seen)
        return false;
    for (size_t i = 0; i < uid.n; i++)
        out[i] = uid.p[i] == '_' ? '-' : uid.p[i];
    out[uid.n] = '\0';
    return true;
}

/* systemd: "[<prefix>-]kubepods[-burstable|-besteffort]-pod<uid>.slice" */
static bool ci_systemd_pod(ci_slice c, cgroup_qos *qos, char *uid, size_t uidlen)
{
    if (!ci_has_suffix(c, ".slice"))
        return false;
    c.n -= strlen(".slice");
    /* Find "kubepods-" at the start or after a '-' (kind: "kubelet-kubepods-"). */
    const char *kp = NULL;
    for (size_t i = 0; i + 9 <= c.n; i++) {
        if ((i == 0 || c.p[i - 1] == '-') && memcmp(c.p + i, "kubepods-", 9) == 0) {
            kp = c.p + i;
            break;
        }
    }
    if (!kp)
        return false;
    c = ci_skip(c, (size_t)(kp - c.p) + 9);
    cgroup_qos q = CGROUP_QOS_GUARANTEED;
    if (ci_has_prefix(c, "burstable-")) {
        q = CGROUP_QOS_BURSTABLE;
        c = ci_skip(c, strlen("burstable-"));
    } else if (ci_has_prefix(c, "besteffort-")) {
        q = CGROUP_QOS_BESTEFFORT;
        c = ci_skip(c, strlen("besteffort-"));
    }
    if (!ci_has_prefix(c, "pod"))
        return false;
    if (!ci_uid_copy(ci_skip(c, 3), true, uid, uidlen))
        return false;
    *qos = q;
    return true;
}

/* cgroupfs: "pod<uid>" under "kubepods" or "kubepods/<qos>". */
static bool ci_cgroupfs_pod(const ci_slice *comps, size_t i, cgroup_qos *qos,
                            char *uid, size_t uidlen)
{
    ci_slice c = comps[i];
    if (!ci_has_prefix(c, "pod") || i == 0)
        return false;
    cgroup_qos q;
    ci_slice parent = comps[i - 1];
    if (ci_eq(parent, "kubepods")) {
        q = CGROUP_QOS_GUARANTEED;
    } else if (i >= 2 && ci_eq(comps[i - 2], "kubepods") && ci_eq(parent, "burstable")) {
        q = CGROUP_QOS_BURSTABLE;
    } else if (i >= 2 && ci_eq(comps[i - 2], "kubepods") && ci_eq(parent, "besteffort")) {
        q = CGROUP_QOS_BESTEFFORT;
    } else {
        return false;
    }
    if (!ci_uid_copy(ci_skip(c, 3), false, uid, uidlen))
        return false;
    *qos = q;
    return true;
}

/*
 * Container component: "<rt>-<id>.scope", "crio-<id>" or "<id>".
 * Fills id/runtime and returns true, or false for anything else.
 */
static bool ci_container(ci_slice c, char *id, size_t idlen, char *rt, size_t rtlen)
{
    static const struct {
        const char *prefix;
        const char *runtime;
    } prefixes[] = {
        {"cri-containerd-", "containerd"},
        {"crio-", "crio"},
        {"docker-", "docker"},
    };
    bool scope = ci_has_suffix(c, ".scope");
    if (scope)
        c.n -= strlen(".scope");
    const char *runtime = NULL;
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        if (ci_has_prefix(c, prefixes[i].prefix)) {
            runtime = prefixes[i].runtime;
            c = ci_skip(c, strlen(prefixes[i].prefix));
            break;
        }
    }
    if (!runtime) {
        if (scope)
            return false; /* a scope from some other manager */
        runtime = "";
    }
    if (c.n == 0 || c.n >= idlen || strlen(runtime) >= rtlen)
        return false;
    for (size_t i = 0; i < c.n; i++)
        if (!ci_is_alnum(c.p[i]))
            return false; /* e.g. "crio-conmon-<id>" */
    memcpy(id, c.p, c.n);
    id[c.n] = '\0';
    strcpy(rt, runtime);
    return true;
}

/* Enough for any real cgroup depth; deeper paths are not pods. */
#define CI_MAX_COMPONENTS 32

bool cgroup_ident_parse(const char *path, size_t len, cgroup_ident *out)
{
    if (!path)
        return false;
    ci_slice comps[CI_MAX_COMPONENTS];
    size_t n = 0;
    size_t i = 0;
    while (i < len) {
        while (i < len && path[i] == '/')
            i++;
        if (i >= len)
            break;
        size_t start = i;
        while (i < len && path[i] != '/') {
            if (path[i] == '\0' || path[i] == '\n')
                return false;
            i++;
        }
        if (n == CI_MAX_COMPONENTS)
            return false;
        comps[n].p = path + start;
        comps[n].n = i - start;
        n++;
    }

    cgroup_ident id;
    memset(&id, 0, sizeof id);
    size_t pod = n;
    for (size_t k = 0; k < n; k++) {
        if (ci_systemd_pod(comps[k], &id.qos, id.pod_uid, sizeof id.pod_uid) ||
            ci_cgroupfs_pod(comps, k, &id.qos, id.pod_uid, sizeof id.pod_uid)) {
            pod = k;
            break;
        }
    }
    if (pod == n)
        return false;
    if (pod + 1 < n &&
        !ci_container(comps[pod + 1], id.container_id, sizeof id.container_id,
                      id.runtime, sizeof id.runtime)) {
        id.container_id[0] = '\0';
        id.runtime[0] = '\0';
    }
    *out = id;
    return true;
}

/* Does the comma-separated controller list ctl contain name? */
static bool ci_list_has(ci_slice ctl, const char *name)
{
    size_t nl = strlen(name);
    size_t i = 0;
    while (i <= ctl.n) {
        size_t start = i;
        while (i < ctl.n && ctl.p[i] != ',')
            i++;
        if (i - start == nl && memcmp(ctl.p + start, name, nl) == 0)
            return true;
        i++;
    }
    return false;
}

enum { CI_PREF_UNIFIED = 0, CI_PREF_MEMORY, CI_PREF_CPU, CI_PREF_OTHER, CI_PREF_N };

bool cgroup_ident_from_proc(const char *text, size_t len, cgroup_ident *out)
{
    if (!text)
        return false;
    /* Best identification per preference rank; first line wins a rank. */
    cgroup_ident found[CI_PREF_N];
    bool have[CI_PREF_N] = {false, false, false, false};
    size_t i = 0;
    while (i < len) {
        const char *line = text + i;
        const char *nl = memchr(line, '\n', len - i);
        size_t ll = nl ? (size_t)(nl - line) : len - i;
        i += ll + (nl ? 1 : 0);

        const char *c1 = memchr(line, ':', ll);
        if (!c1)
            continue;
        size_t rest = ll - (size_t)(c1 + 1 - line);
        const char *c2 = memchr(c1 + 1, ':', rest);
        if (!c2)
            continue;
        ci_slice hid = {line, (size_t)(c1 - line)};
        ci_slice ctl = {c1 + 1, (size_t)(c2 - c1 - 1)};
        const char *path = c2 + 1;
        size_t plen = ll - (size_t)(path - line);

        int rank;
        if (ci_eq(hid, "0") && ctl.n == 0)
            rank = CI_PREF_UNIFIED;
        else if (ci_list_has(ctl, "memory"))
            rank = CI_PREF_MEMORY;
        else if (ci_list_has(ctl, "cpu") || ci_list_has(ctl, "cpuacct"))
            rank = CI_PREF_CPU;
        else
            rank = CI_PREF_OTHER;
        if (have[rank])
            continue;
        if (cgroup_ident_parse(path, plen, &found[rank]))
            have[rank] = true;
    }
    for (int r = 0; r < CI_PREF_N; r++) {
        if (have[r]) {
            *out = found[r];
            return true;
        }
    }
    return false;
}
