/*
 * cgroup_parse.c - strict parsers for cgroup statistic files.
 *
 * The kernel writes these files in a handful of shapes ("key value" lines,
 * "MAJ:MIN key=value..." lines, one number, one pid per line); each shape
 * has one parser here. Everything goes through vg_parse's bounded slice
 * helpers, so a truncated or garbled file can only cost values, never read
 * past the buffer.
 */
#include "cgroup_parse.h"

#include <errno.h>
#include <string.h>

#include "vg_parse.h"

int cgroup_parse_keyed(const char *buf, size_t len, const char *const *keys, size_t nkeys,
                       uint64_t *vals, uint32_t *found)
{
    int rc = 0;
    uint32_t f = 0;
    if (nkeys > 32)
        nkeys = 32;
    /* key lengths once per file, not per line (v1 memory.stat: ~35 lines x 10 keys) */
    size_t klen[32];
    for (size_t k = 0; k < nkeys; k++)
        klen[k] = strlen(keys[k]);
    vg_lines it;
    vg_slice line;
    vg_lines_init(&it, buf, len);
    while (vg_lines_next(&it, &line)) {
        vg_slice fl[3];
        size_t nf = vg_fields(line, fl, 3);
        if (nf == 0)
            continue; /* blank line (trailing newline) */
        if (nf != 2) {
            rc = -EINVAL;
            continue;
        }
        for (size_t k = 0; k < nkeys; k++) {
            if (fl[0].n != klen[k] || fl[0].p[0] != keys[k][0] || memcmp(fl[0].p, keys[k], klen[k]) != 0)
                continue;
            uint64_t v;
            if (vg_parse_u64(fl[1], &v) == 0) {
                vals[k] = v;
                f |= 1u << k;
            } else {
                rc = -EINVAL;
            }
            break;
        }
    }
    *found = f;
    return rc;
}

/* The single token of a one-value file, or an empty slice if not exactly one. */
static vg_slice single_token(const char *buf, size_t len)
{
    vg_slice s = {buf, len};
    vg_slice fl[2];
    if (vg_fields(s, fl, 2) != 1) {
        s.n = 0;
        return s;
    }
    return fl[0];
}

int cgroup_parse_u64(const char *buf, size_t len, bool allow_max, uint64_t *out, bool *is_max)
{
    vg_slice t = single_token(buf, len);
    if (t.n == 0)
        return -EINVAL;
    if (allow_max && vg_slice_eq(t, "max")) {
        *out = UINT64_MAX;
        if (is_max)
            *is_max = true;
        return 0;
    }
    uint64_t v;
    int rc = vg_parse_u64(t, &v);
    if (rc)
        return rc;
    *out = v;
    if (is_max)
        *is_max = false;
    return 0;
}

int cgroup_parse_i64(const char *buf, size_t len, int64_t *out)
{
    vg_slice t = single_token(buf, len);
    if (t.n == 0)
        return -EINVAL;
    return vg_parse_i64(t, out);
}

int cgroup_parse_cpu_max(const char *buf, size_t len, int64_t *quota, uint64_t *period)
{
    vg_slice s = {buf, len};
    vg_slice fl[3];
    if (vg_fields(s, fl, 3) != 2)
        return -EINVAL;
    int64_t q;
    if (vg_slice_eq(fl[0], "max")) {
        q = -1;
    } else {
        uint64_t u;
        int rc = vg_parse_u64(fl[0], &u);
        if (rc)
            return rc;
        if (u > (uint64_t)INT64_MAX)
            return -ERANGE;
        q = (int64_t)u;
    }
    uint64_t p;
    int rc = vg_parse_u64(fl[1], &p);
    if (rc)
        return rc;
    *quota = q;
    *period = p;
    return 0;
}

int cgroup_parse_pressure(const char *buf, size_t len, cgroup_psi *out)
{
    int rc = 0;
    memset(out, 0, sizeof *out);
    vg_lines it;
    vg_slice line;
    vg_lines_init(&it, buf, len);
    while (vg_lines_next(&it, &line)) {
        vg_slice fl[6];
        size_t nf = vg_fields(line, fl, 6);
        if (nf == 0)
            continue;
        bool some = vg_slice_eq(fl[0], "some");
        bool full = vg_slice_eq(fl[0], "full");
        if ((!some && !full) || nf != 5) {
            rc = -EINVAL;
            continue;
        }
        bool got = false;
        for (size_t i = 1; i < nf; i++) {
            if (!vg_slice_has_prefix(fl[i], "total="))
                continue;
            vg_slice v = {fl[i].p + 6, fl[i].n - 6};
            uint64_t t;
            if (vg_parse_u64(v, &t) == 0) {
                got = true;
                if (some) {
                    out->has_some = true;
                    out->some_total_us = t;
                } else {
                    out->has_full = true;
                    out->full_total_us = t;
                }
            }
            break;
        }
        if (!got)
            rc = -EINVAL;
    }
    return rc;
}

/* "MAJ:MIN" */
static int parse_devno(vg_slice s, uint32_t *maj, uint32_t *min)
{
    const char *c = memchr(s.p, ':', s.n);
    if (!c)
        return -EINVAL;
    vg_slice a = {s.p, (size_t)(c - s.p)};
    vg_slice b = {c + 1, s.n - (size_t)(c - s.p) - 1};
    uint64_t x, y;
    if (vg_parse_u64(a, &x) || vg_parse_u64(b, &y) || x > UINT32_MAX || y > UINT32_MAX)
        return -EINVAL;
    *maj = (uint32_t)x;
    *min = (uint32_t)y;
    return 0;
}

/* Find (or append) the slot for a device; NULL when devs is full. */
static cgroup_io_dev *dev_slot(cgroup_io_dev *devs, size_t max, size_t *n, uint32_t maj,
                               uint32_t min)
{
    for (size_t i = 0; i < *n; i++)
        if (devs[i].major == maj && devs[i].minor == min)
            return &devs[i];
    if (*n >= max)
        return NULL;
    cgroup_io_dev *d = &devs[(*n)++];
    memset(d, 0, sizeof *d);
    d->major = maj;
    d->minor = min;
    return d;
}

int cgroup_parse_io_stat(const char *buf, size_t len, cgroup_io_dev *devs, size_t max,
                         size_t *n)
{
    int rc = 0;
    size_t cnt = 0;
    vg_lines it;
    vg_slice line;
    vg_lines_init(&it, buf, len);
    while (vg_lines_next(&it, &line)) {
        vg_slice fl[16];
        size_t nf = vg_fields(line, fl, 16);
        if (nf == 0)
            continue;
        uint32_t maj, min;
        if (parse_devno(fl[0], &maj, &min)) {
            rc = -EINVAL;
            continue;
        }
        uint64_t rb = 0, wb = 0;
        bool bad = false;
        for (size_t i = 1; i < nf && i < 16; i++) {
            const char *eq = memchr(fl[i].p, '=', fl[i].n);
            if (!eq) {
                bad = true;
                break;
            }
            vg_slice k = {fl[i].p, (size_t)(eq - fl[i].p)};
            vg_slice v = {eq + 1, fl[i].n - k.n - 1};
            uint64_t *dst = vg_slice_eq(k, "rbytes") ? &rb : vg_slice_eq(k, "wbytes") ? &wb : NULL;
            if (!dst)
                continue; /* rios, wios, dbytes, dios and future keys */
            if (vg_parse_u64(v, dst)) {
                bad = true;
                break;
            }
        }
        if (bad) {
            rc = -EINVAL;
            continue;
        }
        cgroup_io_dev *d = dev_slot(devs, max, &cnt, maj, min);
        if (!d) {
            if (rc == 0)
                rc = -E2BIG;
            continue;
        }
        d->read_bytes = rb;
        d->write_bytes = wb;
    }
    *n = cnt;
    return rc;
}

int cgroup_parse_blkio(const char *buf, size_t len, cgroup_io_dev *devs, size_t max,
                       size_t *n)
{
    int rc = 0;
    size_t cnt = 0;
    vg_lines it;
    vg_slice line;
    vg_lines_init(&it, buf, len);
    while (vg_lines_next(&it, &line)) {
        vg_slice fl[4];
        size_t nf = vg_fields(line, fl, 4);
        if (nf == 0)
            continue;
        if (nf == 2 && vg_slice_eq(fl[0], "Total"))
            continue; /* grand total line */
        uint32_t maj, min;
        uint64_t v;
        if (nf != 3 || parse_devno(fl[0], &maj, &min) || vg_parse_u64(fl[2], &v)) {
            rc = -EINVAL;
            continue;
        }
        bool rd = vg_slice_eq(fl[1], "Read");
        bool wr = vg_slice_eq(fl[1], "Write");
        if (!rd && !wr)
            continue; /* Sync, Async, Discard, Total */
        cgroup_io_dev *d = dev_slot(devs, max, &cnt, maj, min);
        if (!d) {
            if (rc == 0)
                rc = -E2BIG;
            continue;
        }
        if (rd)
            d->read_bytes = v;
        else
            d->write_bytes = v;
    }
    *n = cnt;
    return rc;
}

int cgroup_parse_procs(const char *buf, size_t len, uint64_t *count, uint64_t *first)
{
    uint64_t c = 0, f = 0;
    vg_lines it;
    vg_slice line;
    vg_lines_init(&it, buf, len);
    while (vg_lines_next(&it, &line)) {
        if (line.n == 0)
            continue;
        uint64_t pid;
        if (vg_parse_u64(line, &pid) || pid == 0 || pid > INT32_MAX)
            return -EINVAL;
        if (c == 0)
            f = pid;
        c++;
    }
    *count = c;
    *first = f;
    return 0;
}

uint64_t cgroup_cpu_weight_to_shares(uint64_t weight)
{
    if (weight < 1)
        weight = 1;
    if (weight > 10000)
        weight = 10000;
    return 2 + ((weight - 1) * 262142) / 9999;
}
