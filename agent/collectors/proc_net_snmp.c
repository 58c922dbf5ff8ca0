/*
 * proc_net_snmp.c - the `netstat` collector (node_exporter compatible).
 *
 * The header and value lines of a pair are walked token by token side by
 * side, in place; names are built in a stack buffer. The collector keeps a
 * plan per file (see "plans") so a scrape only checks the layout and takes
 * the selected values.
 */
#include "proc_net_snmp.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse_plan.h"
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

/* node_exporter's help names the field without the separator
 * ("Statistic TcpInSegs."); built with memcpy: snprintf cost more than the
 * rest of add_field for the ~40 selected fields. Lengths checked by
 * build_name. */
#define NETSTAT_HELP_MAX (sizeof "Statistic " + NETSTAT_KEY_MAX + 2)
static void build_help(vg_slice proto, vg_slice field, char *help)
{
    static const char pre[] = "Statistic ";
    size_t k = sizeof pre - 1;
    memcpy(help, pre, k);
    memcpy(help + k, proto.p, proto.n);
    k += proto.n;
    memcpy(help + k, field.p, field.n);
    k += field.n;
    help[k++] = '.';
    help[k] = '\0';
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
    char help[NETSTAT_HELP_MAX];
    build_help(proto, field, help);
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

/* ---------- plans ---------- */

/*
 * The header lines of netstat and snmp and the names in snmp6 stay the
 * same while the kernel runs, and the filter changes only on a reload: so
 * which fields are selected, and their series names and help, are worked
 * out once and kept as a plan. A scrape checks every header line (snmp6:
 * every name) against the plan byte for byte and takes the selected values
 * by position, then adds them exactly as the full parse would. Anything
 * else - another layout, another filter, a line the full parse would skip
 * - goes the full way, which also makes a new plan.
 */
typedef struct plan_line {
    uint32_t off, len;     /* header line (pairs) or name (snmp6) in text */
    uint32_t ntok;         /* pairs: tokens in the value line, "Proto:" included */
    uint32_t bad;          /* fields with a bad name: counted skipped each time */
    uint32_t nsel;         /* selected fields in this line */
} plan_line;

typedef struct plan_field {
    uint32_t tok;          /* pairs: token index in the value line */
    uint32_t name, help;   /* offsets in strs */
} plan_field;

struct proc_net_snmp_plan {
    parse_plan base;       /* header lines or names in text, series names and help in strs */
    plan_line *lines;
    size_t nlines, lines_cap;
    plan_field *fields;
    size_t nfields, fields_cap;
};

/* Most selected fields a plan serves (the default selects ~40). */
#define PLAN_FIELDS_MAX 512

proc_net_snmp_plan *proc_net_snmp_plan_new(void)
{
    proc_net_snmp_plan *p = calloc(1, sizeof *p);
    if (p)
        parse_plan_init(&p->base);
    return p;
}

void proc_net_snmp_plan_free(proc_net_snmp_plan *p)
{
    if (!p)
        return;
    parse_plan_release(&p->base);
    free(p->lines);
    free(p->fields);
    free(p);
}

static int plan_reset(proc_net_snmp_plan *p, const field_filter *filter)
{
    p->nlines = p->nfields = 0;
    return parse_plan_reset(&p->base, filter);
}

static plan_line *plan_add_line(proc_net_snmp_plan *p, vg_slice text)
{
    plan_line *n = parse_plan_grow(p->lines, p->nlines, &p->lines_cap, sizeof *n, 16);
    if (!n)
        return NULL;
    p->lines = n;
    plan_line *l = &p->lines[p->nlines];
    memset(l, 0, sizeof *l);
    l->off = (uint32_t)p->base.text.len;
    l->len = (uint32_t)text.n;
    if (text.n > UINT32_MAX / 2 || vg_buf_append(&p->base.text, text.p, text.n))
        return NULL;
    p->nlines++;
    return l;
}

/* Add a selected field: its name and help; -1 when the name is bad
 * (counted skipped), 0 not selected, 1 added, -ENOMEM. */
static int plan_add_field(proc_net_snmp_plan *p, plan_line *l, vg_slice proto, vg_slice field,
                          uint32_t tok, const field_filter *filter)
{
    char name[sizeof NETSTAT_PREFIX + NETSTAT_KEY_MAX];
    const char *key;
    if (build_name(proto, field, name, sizeof name, &key))
        return -1;
    if (filter ? !field_filter_match(filter, key) : !proc_net_snmp_default_match(key))
        return 0;
    if (p->nfields == p->fields_cap && p->fields_cap >= PLAN_FIELDS_MAX)
        return -ENOMEM;
    plan_field *n = parse_plan_grow(p->fields, p->nfields, &p->fields_cap, sizeof *n, 64);
    if (!n)
        return -ENOMEM;
    p->fields = n;
    char help[NETSTAT_HELP_MAX];
    build_help(proto, field, help);
    plan_field *f = &p->fields[p->nfields];
    f->tok = tok;
    if (parse_plan_add_series(&p->base, name, help, &f->name, &f->help))
        return -ENOMEM;
    p->nfields++;
    l->nsel++;
    return 1;
}

/* A plan for a netstat/snmp buffer whose every line pair the full parse
 * takes whole (else none: the full parse serves that layout). */
static void plan_build_pairs(proc_net_snmp_plan *p, const char *buf, size_t len,
                             const field_filter *filter)
{
    if (plan_reset(p, filter))
        return;
    vg_lines it;
    vg_slice hdr, val;
    vg_lines_init(&it, buf, len);
    while (vg_lines_next(&it, &hdr)) {
        if (!vg_lines_next(&it, &val))
            return;
        vg_slice hr = hdr, vr = val, hp, vp, fname, fval;
        tok_next(&hr, &hp);
        tok_next(&vr, &vp);
        if (!(hp.n >= 2 && hp.p[hp.n - 1] == ':' && hp.n == vp.n && memcmp(hp.p, vp.p, hp.n) == 0))
            return;
        vg_slice proto = {hp.p, hp.n - 1};
        bool proto_ok = name_ok(proto);
        plan_line *l = plan_add_line(p, hdr);
        if (!l)
            return;
        uint32_t tok = 1;
        bool hmore, vmore;
        for (;; tok++) {
            hmore = tok_next(&hr, &fname);
            vmore = tok_next(&vr, &fval);
            if (!hmore || !vmore)
                break;
            int r = proto_ok ? plan_add_field(p, l, proto, fname, tok, filter) : -1;
            if (r == -1)
                l->bad++;
            else if (r < 0)
                return;
        }
        if (hmore != vmore)
            return;
        l->ntok = tok;
    }
    p->base.valid = p->nlines > 0;
}

/* The values a planned parse took, in the plan's field order, as series;
 * a bad value is skipped and counted, as the full parse does. */
static int plan_emit(const proc_net_snmp_plan *p, const vg_slice *vals, size_t nv, vg_scrape *s,
                     unsigned *skipped)
{
    int added = 0;
    for (size_t i = 0; i < nv; i++) {
        double v;
        if (value_parse(vals[i], &v) ||
            vg_scrape_add1(s, p->base.strs.data + p->fields[i].name, VG_MT_UNTYPED,
                           p->base.strs.data + p->fields[i].help, v) != 0)
            (*skipped)++;
        else
            added++;
    }
    return added;
}

/* The planned parse of netstat/snmp: -EAGAIN when buf does not fit it. */
static int plan_apply_pairs(const proc_net_snmp_plan *p, const char *buf, size_t len,
                            vg_scrape *s, unsigned *skipped)
{
    vg_slice vals[PLAN_FIELDS_MAX];
    size_t nv = 0;
    unsigned bad = 0;
    vg_lines it;
    vg_slice hdr, val;
    vg_lines_init(&it, buf, len);
    for (size_t k = 0; k < p->nlines; k++) {
        const plan_line *l = &p->lines[k];
        if (!vg_lines_next(&it, &hdr) || hdr.n != l->len ||
            memcmp(hdr.p, p->base.text.data + l->off, l->len) != 0 || !vg_lines_next(&it, &val))
            return -EAGAIN;
        /* the value line's "Proto:" is the header's first token */
        vg_slice hr = hdr, vr = val, htok, tok;
        tok_next(&hr, &htok);
        if (!tok_next(&vr, &tok) || tok.n != htok.n || memcmp(tok.p, htok.p, tok.n) != 0)
            return -EAGAIN;
        const plan_field *f = &p->fields[nv];
        size_t left = l->nsel;
        uint32_t i = 1;
        for (; tok_next(&vr, &tok); i++) {
            if (left && f->tok == i) {
                vals[nv++] = tok;
                f++;
                left--;
            }
        }
        if (i != l->ntok || left)
            return -EAGAIN;
        bad += l->bad;
    }
    if (vg_lines_next(&it, &hdr))
        return -EAGAIN;
    *skipped += bad;
    return plan_emit(p, vals, nv, s, skipped);
}

int proc_net_snmp_parse_pairs_planned(proc_net_snmp_plan *plan, const char *buf, size_t len,
                                      const field_filter *filter, vg_scrape *s,
                                      unsigned *skipped)
{
    if (plan && parse_plan_fits(&plan->base, filter)) {
        int rc = plan_apply_pairs(plan, buf, len, s, skipped);
        if (rc != -EAGAIN)
            return rc;
    }
    int rc = proc_net_snmp_parse_pairs(buf, len, filter, s, skipped);
    if (plan && rc >= 0)
        plan_build_pairs(plan, buf, len, filter);
    return rc;
}

/* A plan for an snmp6 buffer of "Name value" lines only. */
static void plan_build_snmp6(proc_net_snmp_plan *p, const char *buf, size_t len,
                             const field_filter *filter)
{
    if (plan_reset(p, filter))
        return;
    vg_lines it;
    vg_slice line;
    vg_lines_init(&it, buf, len);
    while (vg_lines_next(&it, &line)) {
        vg_slice f[3];
        if (vg_fields(line, f, 3) != 2 || f[0].p != line.p)
            return; /* indented: the full parse serves it */
        plan_line *l = plan_add_line(p, f[0]);
        if (!l)
            return;
        const char *six = memchr(f[0].p, '6', f[0].n);
        if (!six)
            continue; /* not a protocol6 counter: ignored, as the full parse does */
        vg_slice proto = {f[0].p, (size_t)(six - f[0].p) + 1};
        vg_slice field = {six + 1, f[0].n - proto.n};
        int r = plan_add_field(p, l, proto, field, 0, filter);
        if (r == -1)
            l->bad++;
        else if (r < 0)
            return;
        l->ntok = 1; /* a protocol6 line: the full parse counts it usable */
    }
    for (size_t k = 0; k < p->nlines; k++)
        p->base.valid |= p->lines[k].ntok != 0;
}

static int plan_apply_snmp6(const proc_net_snmp_plan *p, const char *buf, size_t len,
                            vg_scrape *s, unsigned *skipped)
{
    vg_slice vals[PLAN_FIELDS_MAX];
    size_t nv = 0;
    unsigned bad = 0;
    vg_lines it;
    vg_slice line;
    vg_lines_init(&it, buf, len);
    for (size_t k = 0; k < p->nlines; k++) {
        const plan_line *l = &p->lines[k];
        /* the planned name at the line's start, then exactly one field */
        vg_slice v;
        if (!vg_lines_next(&it, &line) || !vg_line_name_value(line, p->base.text.data + l->off, l->len, &v))
            return -EAGAIN;
        if (l->nsel)
            vals[nv++] = v;
        bad += l->bad;
    }
    if (vg_lines_next(&it, &line))
        return -EAGAIN;
    *skipped += bad;
    return plan_emit(p, vals, nv, s, skipped);
}

int proc_net_snmp_parse_snmp6_planned(proc_net_snmp_plan *plan, const char *buf, size_t len,
                                      const field_filter *filter, vg_scrape *s,
                                      unsigned *skipped)
{
    if (plan && parse_plan_fits(&plan->base, filter)) {
        int rc = plan_apply_snmp6(plan, buf, len, s, skipped);
        if (rc != -EAGAIN)
            return rc;
    }
    int rc = proc_net_snmp_parse_snmp6(buf, len, filter, s, skipped);
    if (plan && rc >= 0)
        plan_build_snmp6(plan, buf, len, filter);
    return rc;
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

/* Collector state: the filter and one plan per file. */
typedef struct netstat_state {
    field_filter *filter;
    proc_net_snmp_plan *plans[3];
} netstat_state;

static void netstat_release(void *state)
{
    netstat_state *st = state;
    if (!st)
        return;
    field_filter_free(st->filter);
    for (int i = 0; i < 3; i++)
        proc_net_snmp_plan_free(st->plans[i]);
    free(st);
}

static int netstat_init(agent_ctx *ctx, void **state)
{
    netstat_state *st = calloc(1, sizeof *st);
    if (!st)
        return -ENOMEM;
    int rc = field_filter_new(PROC_NET_SNMP_FIELDS_DEFAULT, proc_net_snmp_default_match,
                              netstat_pattern(ctx), &st->filter);
    if (rc) {
        if (rc == -EINVAL)
            vg_log_error(ctx->log, "netstat", "invalid field pattern", "option", NETSTAT_OPT);
        free(st);
        return rc;
    }
    /* without a plan (no memory) a file is parsed the full way */
    for (int i = 0; i < 3; i++)
        st->plans[i] = proc_net_snmp_plan_new();
    *state = st;
    return 0;
}

static int netstat_collect(agent_ctx *ctx, void *state, vg_scrape *s)
{
    static const char *const files[3] = {"/net/netstat", "/net/snmp", "/net/snmp6"};
    netstat_state *st = state;
    field_filter *f = st->filter;
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
            rc = proc_net_snmp_parse_pairs_planned(st->plans[i], ctx->scratch.data,
                                                   ctx->scratch.len, f, s, &skipped);
        else
            rc = proc_net_snmp_parse_snmp6_planned(st->plans[i], ctx->scratch.data,
                                                   ctx->scratch.len, f, s, &skipped);
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
    .release = netstat_release,
    .loop_safe = true,
};
