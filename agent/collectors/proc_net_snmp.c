/*
 * proc_net_snmp.c - the `netstat` collector (node_exporter compatible).
 *
 * The header and value lines of a pair are walked token by token side by
 * side, in place; names are built in a stack buffer.
 */
#include "proc_net_snmp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vg_parse.h"

#define NETSTAT_OPT "collector.netstat.fields"
#define NETSTAT_PREFIX "node_netstat_"
#define NETSTAT_KEY_MAX 128

static bool ends_with(const char *s, size_t n, const char *suf)
{
    size_t m = strlen(suf);
    return n >= m && memcmp(s + n - m, suf, m) == 0;
}

static bool in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

static bool proto_is(const char *key, size_t pl, const char *proto)
{
    return strlen(proto) == pl && memcmp(key, proto, pl) == 0;
}

/* Dispatch on the protocol first: a scrape checks ~300 keys. */
bool proc_net_snmp_default_match(const char *key)
{
    static const char *const octets[] = {"InOctets", "OutOctets", NULL};
    static const char *const msgs[] = {"InMsgs", "OutMsgs", NULL};
    static const char *const tcpext[] = {"TCPSynRetrans", "TCPTimeouts", NULL};
    static const char *const tcp[] = {"ActiveOpens", "InSegs", "OutSegs", "OutRsts",
                                      "PassiveOpens", "RetransSegs", "CurrEstab", NULL};
    static const char *const udp[] = {"InDatagrams", "OutDatagrams", "NoPorts", "RcvbufErrors",
                                      "SndbufErrors", NULL};
    size_t n = strlen(key);
    if (ends_with(key, n, "_InErrors") || ends_with(key, n, "_InErrs"))
        return true;
    const char *us = strchr(key, '_');
    if (!us)
        return false;
    size_t pl = (size_t)(us - key);
    const char *f = us + 1;
    switch (key[0]) {
    case 'I':
        if (proto_is(key, pl, "Ip"))
            return strcmp(f, "Forwarding") == 0;
        if (proto_is(key, pl, "Ip6") || proto_is(key, pl, "IpExt"))
            return in_list(f, octets);
        if (proto_is(key, pl, "Icmp") || proto_is(key, pl, "Icmp6"))
            return in_list(f, msgs);
        return false;
    case 'T':
        if (proto_is(key, pl, "TcpExt"))
            return strncmp(f, "Listen", 6) == 0 || strncmp(f, "Syncookies", 10) == 0 ||
                   in_list(f, tcpext);
        if (proto_is(key, pl, "Tcp"))
            return in_list(f, tcp);
        return false;
    case 'U':
        if (proto_is(key, pl, "Udp") || proto_is(key, pl, "Udp6"))
            return in_list(f, udp);
        return false;
    default:
        return false;
    }
}

static bool tok_next(vg_slice *rest, vg_slice *tok)
{
    size_t i = 0;
    while (i < rest->n && (rest->p[i] == ' ' || rest->p[i] == '\t' || rest->p[i] == '\r'))
        i++;
    size_t st = i;
    while (i < rest->n && rest->p[i] != ' ' && rest->p[i] != '\t' && rest->p[i] != '\r')
        i++;
    tok->p = rest->p + st;
    tok->n = i - st;
    rest->p += i;
    rest->n -= i;
    return tok->n > 0;
}

static bool name_ok(vg_slice s)
{
    for (size_t i = 0; i < s.n; i++) {
        unsigned c = (unsigned char)s.p[i];
        /* [A-Za-z0-9_] in three compares: this runs on every byte of the header lines */
        if ((c | 0x20u) - 'a' >= 26u && c - '0' >= 10u && c != '_')
            return false;
    }
    return s.n > 0;
}

/* Integer value; node_exporter accepts signed ones (Tcp MaxConn is -1). */
static int value_parse(vg_slice v, double *out)
{
    uint64_t u;
    int64_t i;
    if (vg_parse_u64(v, &u) == 0) {
        *out = (double)u;
        return 0;
    }
    if (vg_parse_i64(v, &i) == 0) {
        *out = (double)i;
        return 0;
    }
    return -EINVAL;
}

/*
 * Build "node_netstat_<proto>_<field>" into name; key points at its
 * "<proto>_<field>" part. 0, or -EINVAL for a bad or overlong name.
 */
static int build_name(vg_slice proto, vg_slice field, char *name, size_t namelen,
                      const char **key)
{
    size_t pl = sizeof NETSTAT_PREFIX - 1;
    if (!name_ok(proto) || !name_ok(field) || pl + proto.n + 1 + field.n + 1 > namelen)
        return -EINVAL;
    memcpy(name, NETSTAT_PREFIX, pl);
    memcpy(name + pl, proto.p, proto.n);
    name[pl + proto.n] = '_';
    memcpy(name + pl + proto.n + 1, field.p, field.n);
    name[pl + proto.n + 1 + field.n] = '\0';
    *key = name + pl;
    return 0;
}

/* Whether the filter selects "<proto>_<field>" (proto already checked):
 * 1 yes, 0 no, -1 a bad or overlong name. */
static int field_selected(vg_slice proto, vg_slice field, const field_filter *filter)
{
    char key[NETSTAT_KEY_MAX + 1];
    if (!name_ok(field) || proto.n + 1 + field.n + 1 + sizeof NETSTAT_PREFIX - 1 >
                               sizeof NETSTAT_PREFIX + NETSTAT_KEY_MAX)
        return -1;
    memcpy(key, proto.p, proto.n);
    key[proto.n] = '_';
    memcpy(key + proto.n + 1, field.p, field.n);
    key[proto.n + 1 + field.n] = '\0';
    return (filter ? field_filter_match(filter, key) : proc_net_snmp_default_match(key)) ? 1 : 0;
}

/* Add one selected field; returns 1 added, 0 dropped by the filter, -1 bad. */
static int add_field(vg_slice proto, vg_slice field, vg_slice value,
                     const field_filter *filter, vg_scrape *s)
{
    char name[sizeof NETSTAT_PREFIX + NETSTAT_KEY_MAX];
    const char *key;
    if (build_name(proto, field, name, sizeof name, &key))
        return -1;
    if (filter ? !field_filter_match(filter, key) : !proc_net_snmp_default_match(key))
        return 0;
    double v;
    if (value_parse(value, &v))
        return -1;
    /* node_exporter's help names the field without the separator
     * ("Statistic TcpInSegs."); built with memcpy: snprintf cost more than
     * the rest of this function for the ~40 selected fields */
    static const char pre[] = "Statistic ";
    char help[sizeof pre + NETSTAT_KEY_MAX + 2];
    size_t k = sizeof pre - 1;
    memcpy(help, pre, k);
    memcpy(help + k, proto.p, proto.n);   /* build_name checked the lengths */
    k += proto.n;
    memcpy(help + k, field.p, field.n);
    k += field.n;
    help[k++] = '.';
    help[k] = '\0';
    return vg_scrape_add1(s, name, VG_MT_UNTYPED, help, v) == 0 ? 1 : -1;
}

/* A selected field waiting for its pair to be checked. */
typedef struct snmp_sel {
    vg_slice field, value;
} snmp_sel;

#define SNMP_SEL_MAX 256

int proc_net_snmp_parse_pairs(const char *buf, size_t len, const field_filter *filter,
                              vg_scrape *s, unsigned *skipped)
{
    snmp_sel sel[SNMP_SEL_MAX];
    int added = 0;
    bool usable = false;
    vg_lines it;
    vg_slice hdr, val;
    vg_lines_init(&it, buf, len);
    bool have_hdr = vg_lines_next(&it, &hdr);
    while (have_hdr) {
        if (vg_slice_trim(hdr).n == 0) {
            have_hdr = vg_lines_next(&it, &hdr);
            continue;
        }
        if (!vg_lines_next(&it, &val)) {
            (*skipped)++; /* a header with no value line */
            break;
        }
        vg_slice hr = hdr, vr = val, hp, vp;
        tok_next(&hr, &hp);
        tok_next(&vr, &vp);
        bool same = hp.n >= 2 && hp.p[hp.n - 1] == ':' && hp.n == vp.n &&
                    memcmp(hp.p, vp.p, hp.n) == 0;
        if (!same) {
            /* Out of step: drop this line and try the next one as a header. */
            (*skipped)++;
            hdr = val;
            continue;
        }
        /* One walk over both lines: the selected fields wait in sel until
         * the two lines turn out to have as many fields (else the pair is
         * skipped whole); more than fit is rare enough for a second walk. */
        vg_slice proto = {hp.p, hp.n - 1};
        bool proto_ok = name_ok(proto);
        vg_slice hw = hr, vw = vr, fname, fval;
        size_t nsel = 0, bad = 0;
        bool hmore, vmore, overflow = false;
        for (;;) {
            hmore = tok_next(&hw, &fname);
            vmore = tok_next(&vw, &fval);
            if (!hmore || !vmore)
                break;
            int r = proto_ok ? field_selected(proto, fname, filter) : -1;
            if (r < 0)
                bad++;
            else if (r > 0 && nsel < SNMP_SEL_MAX)
                sel[nsel++] = (snmp_sel){fname, fval};
            else if (r > 0)
                overflow = true;
        }
        if (hmore != vmore) {
            (*skipped)++;
            have_hdr = vg_lines_next(&it, &hdr);
            continue;
        }
        usable = true;
        if (overflow) {
            while (tok_next(&hr, &fname) && tok_next(&vr, &fval)) {
                int r = add_field(proto, fname, fval, filter, s);
                if (r > 0)
                    added++;
                else if (r < 0)
                    (*skipped)++;
            }
        } else {
            *skipped += (unsigned)bad;
            for (size_t k = 0; k < nsel; k++) {
                int r = add_field(proto, sel[k].field, sel[k].value, filter, s);
                if (r > 0)
                    added++;
                else if (r < 0)
                    (*skipped)++;
            }
        }
        have_hdr = vg_lines_next(&it, &hdr);
    }
    return usable ? added : -EINVAL;
}

int proc_net_snmp_parse_snmp6(const char *buf, size_t len, const field_filter *filter,
                              vg_scrape *s, unsigned *skipped)
{
    int added = 0;
    bool usable = false;
    vg_lines it;
    vg_slice line;
    vg_lines_init(&it, buf, len);
    while (vg_lines_next(&it, &line)) {
        vg_slice f[3];
        size_t nf = vg_fields(line, f, 3);
        if (nf == 0)
            continue;
        if (nf != 2) {
            (*skipped)++;
            continue;
        }
        const char *six = memchr(f[0].p, '6', f[0].n);
        if (!six)
            continue; /* not a protocol6 counter */
        usable = true;
        vg_slice proto = {f[0].p, (size_t)(six - f[0].p) + 1};
        vg_slice field = {six + 1, f[0].n - proto.n};
        int r = add_field(proto, field, f[1], filter, s);
        if (r > 0)
            added++;
        else if (r < 0)
            (*skipped)++;
    }
    return usable ? added : -EINVAL;
}

/* ---------- collector ---------- */

static const vg_opt_def netstat_opts[] = {
    {NETSTAT_OPT, VG_OPT_STRING, PROC_NET_SNMP_FIELDS_DEFAULT,
     "Regexp of netstat fields (Proto_Field) to report (POSIX ERE; the default is matched "
     "without a regex)",
     VG_OPT_F_RELOADABLE},
};

static const char *netstat_pattern(const agent_ctx *ctx)
{
    return ctx->cfg ? vg_config_str(ctx->cfg, NETSTAT_OPT) : NULL;
}

static int netstat_init(agent_ctx *ctx, void **state)
{
    field_filter *f;
    int rc = field_filter_new(PROC_NET_SNMP_FIELDS_DEFAULT, proc_net_snmp_default_match, netstat_pattern(ctx), &f);
    if (rc) {
        if (rc == -EINVAL)
            vg_log_error(ctx->log, "netstat", "invalid field pattern", "option", NETSTAT_OPT);
        return rc;
    }
    *state = f;
    return 0;
}

static int netstat_collect(agent_ctx *ctx, void *state, vg_scrape *s)
{
    static const char *const files[3] = {"/net/netstat", "/net/snmp", "/net/snmp6"};
    field_filter *f = state;
    if (field_filter_set(f, netstat_pattern(ctx)))
        agent_ctx_parse_error(ctx, "netstat", NETSTAT_OPT);
    int result = 0;
    for (int i = 0; i < 3; i++) {
        int rc = agent_read_kept(ctx, AGENT_ROOT_PROC, files[i]);
        if (rc) {
            if (i == 0)
                return rc; /* nothing added yet: a clean failure */
            if (!(i == 2 && rc == -ENOENT))
                result = rc;
            continue;
        }
        unsigned skipped = 0;
        if (i < 2)
            rc = proc_net_snmp_parse_pairs(ctx->scratch.data, ctx->scratch.len, f, s, &skipped);
        else
            rc = proc_net_snmp_parse_snmp6(ctx->scratch.data, ctx->scratch.len, f, s, &skipped);
        for (unsigned k = 0; k < skipped; k++)
            agent_ctx_parse_error(ctx, "netstat", files[i]);
        if (rc < 0 && i < 2)
            result = rc;
    }
    return result;
}

const agent_collector agent_collector_netstat = {
    .name = "netstat",
    .default_enabled = true,
    .help = "Network protocol counters from /proc/net/{netstat,snmp,snmp6} (node_netstat_*)",
    .opts = netstat_opts,
    .nopts = sizeof netstat_opts / sizeof netstat_opts[0],
    .init = netstat_init,
    .collect = netstat_collect,
    .release = field_filter_free,
};
