/*
 * cgroup_netdev.c - /proc/<pid>/net/dev parser for per-pod network stats.
 *
 * Line shape: "  eth0: rxbytes rxpackets rxerrs rxdrop fifo frame
 * compressed multicast txbytes txpackets txerrs txdrop fifo colls carrier
 * compressed". The kernel pads names to 6 columns, so "eth0:123" (no
 * space after the colon) is possible for wide counters.
 */
#include "cgroup_netdev.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "vg_parse.h"

bool cgroup_netdev_ignored(const char *name)
{
    static const char *const prefixes[] = {"lo", "veth", "docker", "nerdctl"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strncasecmp(name, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    return false;
}

int cgroup_netdev_parse(const char *buf, size_t len, cgroup_netdev *devs, size_t max,
                        size_t *n)
{
    int rc = 0;
    size_t cnt = 0;
    size_t lineno = 0;
    vg_lines it;
    vg_slice line;
    vg_lines_init(&it, buf, len);
    while (vg_lines_next(&it, &line)) {
        if (++lineno <= 2)
            continue; /* "Inter-|   Receive ..." headers */
        vg_slice t = vg_slice_trim(line);
        if (t.n == 0)
            continue;
        const char *colon = memchr(t.p, ':', t.n);
        if (!colon) {
            rc = -EINVAL;
            continue;
        }
        vg_slice name = vg_slice_trim((vg_slice){t.p, (size_t)(colon - t.p)});
        vg_slice rest = {colon + 1, t.n - (size_t)(colon - t.p) - 1};
        vg_slice f[17];
        uint64_t v[16];
        bool ok = name.n > 0 && name.n < sizeof devs[0].name && vg_fields(rest, f, 17) == 16;
        for (size_t i = 0; ok && i < 16; i++)
            ok = vg_parse_u64(f[i], &v[i]) == 0;
        for (size_t i = 0; ok && i < name.n; i++)
            ok = name.p[i] > ' ' && name.p[i] != '/' && (unsigned char)name.p[i] < 0x7f;
        if (!ok) {
            rc = -EINVAL;
            continue;
        }
        char nm[sizeof devs[0].name];
        vg_slice_copy(name, nm, sizeof nm);
        if (cgroup_netdev_ignored(nm))
            continue;
        if (cnt >= max) {
            if (rc == 0)
                rc = -E2BIG;
            continue;
        }
        cgroup_netdev *d = &devs[cnt++];
        memcpy(d->name, nm, sizeof nm);
        d->rx_bytes = v[0];
        d->rx_packets = v[1];
        d->rx_errors = v[2];
        d->rx_dropped = v[3];
        d->tx_bytes = v[8];
        d->tx_packets = v[9];
        d->tx_errors = v[10];
        d->tx_dropped = v[11];
    }
    *n = cnt;
    return rc;
}
