/*
 * fuzz_cgroup_parse.c - libFuzzer target for every cgroup statistic file
 * parser (agent/collectors/cgroup_parse.h). The first byte picks the
 * parser, the rest is the file; outputs are checked against the contracts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/cgroup_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned which = data[0];
    size_t n = size - 1;
    char *buf = malloc(n ? n : 1); /* exact size: ASan sees any overread */
    if (!buf)
        return 0;
    if (n)
        memcpy(buf, data + 1, n);

    static const char *const keys[] = {"usage_usec", "user_usec", "anon", "file", "max",
                                       "oom_kill", "total_rss", "nr_periods"};
    uint64_t vals[8];
    uint32_t found;
    uint64_t u;
    bool is_max;
    int64_t q;
    cgroup_psi psi;
    cgroup_io_dev devs[4];
    size_t nd = 99;
    uint64_t c, f;
    switch (which % 8) {
    case 0:
        cgroup_parse_keyed(buf, n, keys, 8, vals, &found);
        if (found >> 8)
            abort();
        break;
    case 1:
        cgroup_parse_u64(buf, n, which & 8, &u, &is_max);
        break;
    case 2:
        cgroup_parse_i64(buf, n, &q);
        break;
    case 3: {
        uint64_t per;
        if (cgroup_parse_cpu_max(buf, n, &q, &per) == 0 && q < -1)
            abort();
        break;
    }
    case 4:
        cgroup_parse_pressure(buf, n, &psi);
        break;
    case 5:
        cgroup_parse_io_stat(buf, n, devs, 4, &nd);
        if (nd > 4)
            abort();
        break;
    case 6:
        cgroup_parse_blkio(buf, n, devs, 4, &nd);
        if (nd > 4)
            abort();
        break;
    case 7:
        if (cgroup_parse_procs(buf, n, &c, &f) == 0 && c > 0 && f == 0)
            abort();
        break;
    }
    free(buf);
    return 0;
}
