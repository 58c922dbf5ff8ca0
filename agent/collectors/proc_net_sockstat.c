/*
 * proc_net_sockstat.c - the `sockstat` collector (node_exporter compatible).
 */
#include "proc_net_sockstat.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vg_parse.h"

/* The keys node_exporter reports, in its order; others are ignored. */
static const char *const ss_keys[] = {"inuse", "orphan", "tw", "alloc", "mem", "memory"};
#define SS_NKEYS (sizeof ss_keys / sizeof ss_keys[0])
#define SS_MAX_FIELDS 16

static bool proto_ok(vg_slice p)
{
    for (size_t i = 0; i < p.n; i++) {
        char c = p.p[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    }
    return p.n > 0 && p.n < 64;
}

/* Append the n bytes at p to dst (cap bytes) at *len, keeping a NUL. */
static void put(char *dst, size_t cap, size_t *len, const char *p, size_t n)
{
    if (*len + n >= cap)
        n = *len < cap ? cap - 1 - *len : 0;
    memcpy(dst + *len, p, n);
    *len += n;
    dst[*len] = '\0';
}

/* Name and help put together with memcpy: snprintf cost more than the
 * parse for the dozen sockstat values. proto is checked (< 64 bytes). */
static void ss_add(vg_scrape *s, vg_slice proto, const char *key, double v)
{
    char name[128], help[160];
    size_t kl = strlen(key), n = 0, h = 0;
    put(name, sizeof name, &n, "node_sockstat_", 14);
    put(name, sizeof name, &n, proto.p, proto.n);
    put(name, sizeof name, &n, "_", 1);
    put(name, sizeof name, &n, key, kl);
    put(help, sizeof help, &h, "Number of ", 10);
    put(help, sizeof help, &h, proto.p, proto.n);
    put(help, sizeof help, &h, " sockets in state ", 18);
    put(help, sizeof help, &h, key, kl);
    put(help, sizeof help, &h, ".", 1);
    vg_scrape_add1(s, name, VG_MT_GAUGE, help, v);
}

int proc_net_sockstat_parse(const char *buf, size_t len, bool ipv6, long page_size,
                            vg_scrape *s, unsigned *skipped)
{
    int used = 0;
    vg_lines it;
    vg_slice line;
    vg_lines_init(&it, buf, len);
    while (vg_lines_next(&it, &line)) {
        vg_slice f[SS_MAX_FIELDS + 1];
        size_t nf = vg_fields(line, f, SS_MAX_FIELDS + 1);
        if (nf == 0)
            continue;
        vg_slice proto = {f[0].p, f[0].n ? f[0].n - 1 : 0};
        if (nf > SS_MAX_FIELDS || nf % 2 == 0 || f[0].n < 2 || f[0].p[f[0].n - 1] != ':' ||
            !proto_ok(proto)) {
            (*skipped)++;
            continue;
        }
        /* Check every value before adding any, so a bad line adds nothing. */
        uint64_t vals[SS_MAX_FIELDS / 2];
        bool bad = false;
        for (size_t i = 1; i + 1 < nf && !bad; i += 2)
            bad = vg_parse_u64(f[i + 1], &vals[i / 2]) != 0;
        if (bad) {
            (*skipped)++;
            continue;
        }
        used++;
        if (vg_slice_eq(proto, "sockets")) {
            if (ipv6)
                continue;
            for (size_t i = 1; i + 1 < nf; i += 2)
                if (vg_slice_eq(f[i], "used"))
                    vg_scrape_add1(s, "node_sockstat_sockets_used", VG_MT_GAUGE,
                                   "Number of IPv4 sockets in use.", (double)vals[i / 2]);
            continue;
        }
        for (size_t k = 0; k < SS_NKEYS; k++) {
            bool found = false;
            uint64_t v = 0;
            for (size_t i = 1; i + 1 < nf; i += 2) {
                if (vg_slice_eq(f[i], ss_keys[k])) {
                    found = true;
                    v = vals[i / 2];
                }
            }
            if (found || k == 0)
                ss_add(s, proto, ss_keys[k], (double)v);
            if (found && strcmp(ss_keys[k], "mem") == 0)
                ss_add(s, proto, "mem_bytes", (double)v * (double)page_size);
        }
    }
    return used ? used : -EINVAL;
}

static int sockstat_collect(agent_ctx *ctx, void *state, vg_scrape *s)
{
    static const char *const files[2] = {"/net/sockstat", "/net/sockstat6"};
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0)
        page = 4096;
    int missing = 0;
    for (int i = 0; i < 2; i++) {
        int rc = agent_read_kept(ctx, AGENT_ROOT_PROC, files[i]);
        if (rc == -ENOENT) {
            missing++; /* IPv4 or IPv6 compiled out: not an error alone */
            continue;
        }
        if (rc)
            return rc;
        unsigned skipped = 0;
        proc_net_sockstat_parse(ctx->scratch.data, ctx->scratch.len, i == 1, page, s, &skipped);
        for (unsigned k = 0; k < skipped; k++)
            agent_ctx_parse_error(ctx, "sockstat", files[i]);
    }
    return missing == 2 ? -ENOENT : 0;
}

const agent_collector agent_collector_sockstat = {
    .name = "sockstat",
    .default_enabled = true,
    .help = "Socket counts and memory from /proc/net/sockstat{,6} (node_sockstat_*)",
    .collect = sockstat_collect,
    .loop_safe = true,
};
