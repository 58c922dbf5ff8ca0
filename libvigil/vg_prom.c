/*
 * vg_prom.c - text 0.0.4 / OpenMetrics 1.0.0 encoder.
 *
 * In OpenMetrics a counter's family name carries no _total suffix and its
 * samples always do; untyped becomes "unknown"; the output ends in # EOF.
 */
#include "vg_prom.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int put_escaped(vg_buf *b, const char *s, bool quote)
{
    const char *run = s;
    for (const char *p = s;; p++) {
        char c = *p;
        const char *esc = NULL;
        if (c == '\\')
            esc = "\\\\";
        else if (c == '\n')
            esc = "\\n";
        else if (c == '"' && quote)
            esc = "\\\"";
        if (esc || c == '\0') {
            if (p > run && vg_buf_append(b, run, (size_t)(p - run)))
                return -1;
            if (c == '\0')
                return 0;
            if (vg_buf_puts(b, esc))
                return -1;
            run = p + 1;
        }
    }
}

/* Powers of ten, all exact as doubles. */
static const double p10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                               1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                               1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Decimal digits of v, written backwards ending at end; returns the start. */
static char *put_digits_rev(char *end, uint64_t v)
{
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return end;
}

/* "[-]ip[.frac]" for r / 10^k (r < 10^15), trailing fraction zeros dropped. */
static int format_fixed(char *buf, bool neg, uint64_t r, int k)
{
    char tmp[40];
    char *end = tmp + sizeof tmp;
    char *p = end;
    uint64_t div = (uint64_t)p10[k];
    uint64_t ip = r / div, frac = r % div;
    if (k > 0 && frac) {
        int nd = k;
        while (frac % 10 == 0) {
            frac /= 10;
            nd--;
        }
        for (int i = 0; i < nd; i++) {
            *--p = (char)('0' + frac % 10);
            frac /= 10;
        }
        *--p = '.';
    }
    p = put_digits_rev(p, ip);
    if (neg)
        *--p = '-';
    int n = (int)(end - p);
    memcpy(buf, p, (size_t)n);
    buf[n] = '\0';
    return n;
}

/* "[-]d[.ddd]e-XX" for r / 10^k < 1 (r < 10^15), as "%.15g" writes it. */
static int format_exp(char *buf, bool neg, uint64_t r, int k)
{
    while (r % 10 == 0) {
        r /= 10;
        k--;
    }
    char tmp[24];
    char *end = tmp + sizeof tmp;
    char *d = put_digits_rev(end, r);
    int nd = (int)(end - d);
    int e = k - (nd - 1);        /* a = d.ddd * 10^-e, e > 0 */
    char *p = buf;
    if (neg)
        *p++ = '-';
    *p++ = d[0];
    if (nd > 1) {
        *p++ = '.';
        memcpy(p, d + 1, (size_t)(nd - 1));
        p += nd - 1;
    }
    *p++ = 'e';
    *p++ = '-';
    if (e >= 100)
        *p++ = (char)('0' + e / 100);
    *p++ = (char)('0' + e / 10 % 10);
    *p++ = (char)('0' + e % 10);
    *p = '\0';
    return (int)(p - buf);
}

static int format_value_printf(double v, char *buf);

#ifdef __SIZEOF_INT128__
typedef unsigned __int128 u128;

static u128 pow10_u128(int k)
{
    u128 r = 1;
    while (k-- > 0)
        r *= 10;
    return r;
}

/*
 * "%.<prec>g" of a (1e-4 <= a < 1e15, so fixed notation), with exact
 * integer arithmetic: a = m / 2^s, the prec-digit decimal q / 10^d rounded
 * half to even as glibc rounds, trailing zeros dropped. For prec < 17 it
 * must also read back as a (|q/10^d - a| within half a unit in the last
 * place; 17 digits always do): else -EAGAIN, try more digits. Returns the
 * length, or -EINVAL when a is out of the exact range (then printf).
 */
static int format_prec(char *buf, bool neg, double a, int prec)
{
    int e2;
    double f = frexp(a, &e2);             /* a = f * 2^e2, 0.5 <= f < 1 */
    uint64_t m = (uint64_t)ldexp(f, 53);  /* exact: 53 bits */
    int s = 53 - e2;                      /* a = m / 2^s */
    if (s < 1 || s > 66 || m == (1ull << 52))
        return -EINVAL; /* out of range, or a power of two (uneven neighbours) */
    /* x = floor(log10(a)), exactly: 10^x <= a < 10^(x+1) */
    int x = (int)floor(log10(a));
    for (int tries = 0; tries < 2; tries++) {
        if (x >= 0 ? ((u128)m < (pow10_u128(x) << s)) : (((u128)m * pow10_u128(-x)) < ((u128)1 << s)))
            x--;
        else if (x + 1 >= 0 ? ((u128)m >= (pow10_u128(x + 1) << s))
                            : (((u128)m * pow10_u128(-x - 1)) >= ((u128)1 << s)))
            x++;
    }
    if (x < -4 || x > 14)
        return -EINVAL;
    int d = prec - 1 - x;                 /* decimals */
    if (d < 0 || d > 21)
        return -EINVAL;
    u128 n = (u128)m * pow10_u128(d);
    u128 q = n >> s, rem = n - (q << s), half = (u128)1 << (s - 1);
    if (rem > half || (rem == half && (q & 1)))
        q++;
    if (q >= pow10_u128(prec)) {          /* rounded up to one digit more */
        if (d == 0 || x + 1 >= prec)
            return -EINVAL;                   /* printf writes an exponent there */
        d--;
        n = (u128)m * pow10_u128(d);
        q = n >> s;
        rem = n - (q << s);
        if (rem > half || (rem == half && (q & 1)))
            q++;
    }
    if (prec < 17) {
        /* reads back as a: |q * 2^s - m * 10^d| <= 10^d / 2 (strictly when m is odd) */
        u128 lhs = q << s, rhs = n;
        u128 diff2 = 2 * (lhs > rhs ? lhs - rhs : rhs - lhs);
        u128 p = pow10_u128(d);
        if (diff2 > p || (diff2 == p && (m & 1)))
            return -EAGAIN;
    }
    /* q / 10^d in fixed notation, trailing zeros dropped */
    uint64_t qq = (uint64_t)q;
    while (d > 0 && qq % 10 == 0) {
        qq /= 10;
        d--;
    }
    char tmp[48];
    char *end = tmp + sizeof tmp;
    char *p = end;
    for (int i = 0; i < d; i++) {
        *--p = (char)('0' + qq % 10);
        qq /= 10;
    }
    if (d > 0)
        *--p = '.';
    p = put_digits_rev(p, qq);
    if (neg)
        *--p = '-';
    int len = (int)(end - p);
    memcpy(buf, p, (size_t)len);
    buf[len] = '\0';
    return len;
}
#endif

int vg_prom_format_value(double v, char *buf)
{
    if (isnan(v))
        return snprintf(buf, 32, "NaN");
    if (isinf(v))
        return snprintf(buf, 32, v > 0 ? "+Inf" : "-Inf");
    double a = fabs(v);
    bool neg = signbit(v) != 0;
    /* Integers: what "%.0f" prints ("-0" included), without printf. */
    if (v == floor(v) && a < 1e15)
        return format_fixed(buf, neg, (uint64_t)a, 0);
    /*
     * Few decimals (CPU seconds, ratios): the smallest k for which r/10^k,
     * r integer < 10^15, divides back to exactly a. IEEE division rounds
     * correctly, so that decimal has a as its nearest double, and having
     * <= 15 significant digits it is what "%.15g" prints (fixed notation
     * for 1e-4 <= a < 1e15) - the same answer as the search below, cheaper.
     */
    if (a >= 1e-4 && a < 1e15) {
        for (int k = 1; k <= 15; k++) {
            double m = a * p10[k];
            if (m >= 1e15)
                break;
            double r = nearbyint(m);
            if (r < 1e15 && r / p10[k] == a)
                return format_fixed(buf, neg, (uint64_t)r, k);
        }
    }
    /* Below 1e-4 "%.15g" writes d.ddde-XX: the same search (durations of
     * microseconds are ns / 1e9), written in that form. */
    if (a > 0 && a < 1e-4) {
        for (int k = 5; k <= 22; k++) {
            double m = a * p10[k];
            if (m >= 1e15)
                break;
            double r = nearbyint(m);
            if (r >= 1 && r / p10[k] == a)
                return format_exp(buf, neg, (uint64_t)r, k);
        }
    }
    /* shortest of 15, 16, 17 significant digits that reads back exactly */
#ifdef __SIZEOF_INT128__
    if (a >= 1e-4 && a < 1e15) {
        for (int prec = 15; prec <= 17; prec++) {
            int n = format_prec(buf, neg, a, prec);
            if (n != -EAGAIN)
                return n > 0 ? n : format_value_printf(v, buf);
        }
    }
#endif
    return format_value_printf(v, buf);
}

/* The printf way (what the fast paths must agree with). */
static int format_value_printf(double v, char *buf)
{
    int n = snprintf(buf, 32, "%.15g", v);
    if (strtod(buf, NULL) != v)
        n = snprintf(buf, 32, "%.16g", v);
    if (strtod(buf, NULL) != v)
        n = snprintf(buf, 32, "%.17g", v);
    return n;
}

/* Per-family constants for writing its sample lines. */
typedef struct line_fmt {
    const char *name;
    size_t name_len;
    size_t n;                          /* label count */
    const char *lnames[VG_MAX_LABELS];
    size_t llens[VG_MAX_LABELS];
} line_fmt;

/* Write s (len bytes) escaped for a quoted label value; returns the end. */
static char *escape_value(char *p, const char *s, size_t len)
{
    size_t clean = strcspn(s, "\\\n\"");
    memcpy(p, s, clean);
    p += clean;
    for (size_t i = clean; i < len; i++) {
        char c = s[i];
        if (c == '\\' || c == '"') {
            *p++ = '\\';
            *p++ = c;
        } else if (c == '\n') {
            *p++ = '\\';
            *p++ = 'n';
        } else {
            *p++ = c;
        }
    }
    return p;
}

/*
 * One sample line: name[suffix]{labels[,xn="xv"]} value\n, written with a
 * single reservation (escaping at most doubles a value) instead of an
 * append per piece.
 */
static int put_line(vg_buf *b, const line_fmt *lf, const char *suffix,
                    const char *const *values, const char *xn, const char *xv, double v)
{
    size_t vlens[VG_MAX_LABELS];
    bool vesc[VG_MAX_LABELS];
    size_t slen = suffix ? strlen(suffix) : 0;
    size_t need = lf->name_len + slen + 2 + 32 + 2;
    for (size_t i = 0; i < lf->n; i++) {
        vlens[i] = vg_label_value_len(values[i], &vesc[i]);
        need += lf->llens[i] + 4 + (vesc[i] ? 2 : 1) * vlens[i];
    }
    size_t xnl = xn ? strlen(xn) : 0, xvl = xn ? strlen(xv) : 0;
    need += xn ? xnl + xvl + 4 : 0;
    if (vg_buf_reserve(b, need))
        return -1;
    char *p = b->data + b->len;
    memcpy(p, lf->name, lf->name_len);
    p += lf->name_len;
    if (slen) {
        memcpy(p, suffix, slen);
        p += slen;
    }
    if (lf->n || xn) {
        *p++ = '{';
        for (size_t i = 0; i < lf->n; i++) {
            if (i)
                *p++ = ',';
            memcpy(p, lf->lnames[i], lf->llens[i]);
            p += lf->llens[i];
            *p++ = '=';
            *p++ = '"';
            if (vesc[i]) {
                p = escape_value(p, values[i], vlens[i]);
            } else {
                memcpy(p, values[i], vlens[i]); /* known clean when interned */
                p += vlens[i];
            }
            *p++ = '"';
        }
        if (xn) {
            if (lf->n)
                *p++ = ',';
            memcpy(p, xn, xnl);
            p += xnl;
            *p++ = '=';
            *p++ = '"';
            memcpy(p, xv, xvl);
            p += xvl;
            *p++ = '"';
        }
        *p++ = '}';
    }
    *p++ = ' ';
    p += vg_prom_format_value(v, p);
    *p++ = '\n';
    *p = '\0';
    b->len = (size_t)(p - b->data);
    return 0;
}

static const char *type_name(vg_mtype t, bool om)
{
    switch (t) {
    case VG_MT_COUNTER: return "counter";
    case VG_MT_GAUGE: return "gauge";
    case VG_MT_HISTOGRAM: return "histogram";
    default: return om ? "unknown" : "untyped";
    }
}

static bool ends_with(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

/* Where encoded text goes: b, handed to sink whenever it reaches piece bytes. */
typedef struct enc {
    vg_buf *b;
    size_t piece;            /* SIZE_MAX: never (whole exposition in b) */
    vg_prom_sink sink;
    void *ud;
    int err;                 /* the sink's error, stops the encoder */
} enc;

/*
 * Where an encoding stands between pieces. A piece is handed over only
 * after a whole sample line, so a family, whether its comment lines are
 * out and the sample iterator say all there is to resume from.
 */
struct vg_prom_enc {
    const vg_family *const *fams;
    size_t nfams;
    bool om;
    size_t piece;
    size_t fi;               /* the family being encoded */
    bool in_family;          /* its HELP/TYPE are out; samples go on from it */
    vg_sample_iter it;
    int state;               /* 0 going on, 1 done, < 0 the error it ended with */
};

/* 0, -1 (error: e->err or out of memory), or 1 (the sink asked to pause). */
static int enc_flush(enc *e)
{
    if (!e->sink || e->b->len == 0)
        return 0;
    int rc = e->sink(e->ud, e->b->data, e->b->len);
    vg_buf_reset(e->b);
    if (rc < 0) {
        e->err = rc;
        return -1;
    }
    return rc > 0;
}

static int enc_maybe_flush(enc *e) { return e->b->len >= e->piece ? enc_flush(e) : 0; }

/* The comment lines of f, whose samples follow. -1 out of memory. */
static int encode_family_head(vg_buf *b, const vg_family *f, bool om)
{
    const char *name = vg_family_name(f);
    size_t name_len = vg_family_name_len(f);
    vg_mtype t = vg_family_type(f);
    size_t meta_len = name_len;          /* HELP/TYPE name: a prefix of name */
    if (om && t == VG_MT_COUNTER && ends_with(name, "_total"))
        meta_len -= 6;
    /* Both comment lines with one reservation; a help text needing no
     * escape (all of them, in practice) is copied whole. */
    const char *help = vg_family_help(f);
    unsigned esc;
    size_t help_len = vg_family_help_len(f, &esc);
    const char *tn = type_name(t, om);
    size_t tn_len = strlen(tn);
    bool help_plain = !(esc & (om ? VG_HELP_ESC_TEXT | VG_HELP_ESC_QUOTE : VG_HELP_ESC_TEXT));
    if (vg_buf_reserve(b, 2 * meta_len + help_len + tn_len + 20))
        return -1;
    char *p = b->data + b->len;
    if (help_len) {
        memcpy(p, "# HELP ", 7);
        memcpy(p + 7, name, meta_len);
        p += 7 + meta_len;
        *p++ = ' ';
        if (help_plain) {
            memcpy(p, help, help_len);
            p += help_len;
        } else {
            b->len = (size_t)(p - b->data);
            if (put_escaped(b, help, om) || vg_buf_reserve(b, meta_len + tn_len + 12))
                return -1;
            p = b->data + b->len;
        }
        *p++ = '\n';
    }
    memcpy(p, "# TYPE ", 7);
    memcpy(p + 7, name, meta_len);
    p += 7 + meta_len;
    *p++ = ' ';
    memcpy(p, tn, tn_len);
    p += tn_len;
    *p++ = '\n';
    *p = '\0';
    b->len = (size_t)(p - b->data);
    return 0;
}

/*
 * Family st->fams[st->fi] from where st stands: 0 when its last sample is
 * out, 1 when the sink asked to pause after a piece (st->it is where to go
 * on), -1 on error.
 */
static int encode_family(enc *e, vg_prom_enc *st)
{
    vg_buf *b = e->b;
    const vg_family *f = st->fams[st->fi];
    bool om = st->om;
    vg_mtype t = vg_family_type(f);
    const char *sample_suffix = NULL;
    if (om && t == VG_MT_COUNTER && !ends_with(vg_family_name(f), "_total"))
        sample_suffix = "_total";
    if (!st->in_family) {
        if (encode_family_head(b, f, om))
            return -1;
        vg_family_iter_init(f, &st->it);
        st->in_family = true;
    }

    line_fmt lf;
    lf.name = vg_family_name(f);
    lf.name_len = vg_family_name_len(f);
    lf.n = vg_family_nlabels(f);
    for (size_t i = 0; i < lf.n; i++) {
        lf.lnames[i] = vg_family_label_name(f, i);
        lf.llens[i] = strlen(lf.lnames[i]);
    }
    vg_sample_iter it = st->it;  /* a local copy the compiler can keep close */
    vg_sample_view sv;
    int r = 0;
    while (r == 0 && vg_family_iter_next(&it, &sv)) {
        if (t != VG_MT_HISTOGRAM) {
            r = put_line(b, &lf, sample_suffix, sv.values, NULL, NULL, sv.value) ? -1
                                                                                 : enc_maybe_flush(e);
            continue;
        }
        char le[40];
        for (size_t i = 0; i < sv.nbuckets && r == 0; i++) {
            vg_prom_format_value(sv.bounds[i], le);
            if (om && !strpbrk(le, ".eEIN"))
                strcat(le, ".0"); /* OpenMetrics wants canonical floats for le */
            if (put_line(b, &lf, "_bucket", sv.values, "le", le, (double)sv.cumulative[i]))
                r = -1;
        }
        if (r == 0 &&
            (put_line(b, &lf, "_bucket", sv.values, "le", "+Inf", (double)sv.count) ||
             put_line(b, &lf, "_sum", sv.values, NULL, NULL, sv.sum) ||
             put_line(b, &lf, "_count", sv.values, NULL, NULL, (double)sv.count)))
            r = -1;
        if (r == 0)
            r = enc_maybe_flush(e);
    }
    st->it = it;
    if (r == 0)
        st->in_family = false;
    return r;
}

static int enc_init(vg_prom_enc *st, vg_scrape *s, vg_prom_format fmt, size_t piece)
{
    memset(st, 0, sizeof *st);
    st->om = fmt == VG_PROM_OPENMETRICS;
    st->piece = piece ? piece : 1;
    st->nfams = vg_scrape_family_count(s);
    st->fams = vg_scrape_families_sorted(s);
    if (!st->fams && st->nfams)
        return -ENOMEM;
    return 0;
}

/* Encode on from st into e: 0 done, VG_PROM_PAUSED, or -errno (st ends with it). */
static int enc_run(vg_prom_enc *st, enc *e)
{
    int r;
    if (st->state)
        return st->state > 0 ? 0 : st->state;
    while (st->fi < st->nfams) {
        if (!st->in_family && vg_family_sample_count(st->fams[st->fi]) == 0) {
            st->fi++;
            continue; /* an empty family is noise to scrapers */
        }
        r = encode_family(e, st);
        if (r < 0)
            goto fail;
        if (r > 0)
            return VG_PROM_PAUSED;
        st->fi++;
    }
    if (st->om && vg_buf_puts(e->b, "# EOF\n"))
        goto fail;
    if (enc_flush(e) < 0) /* a pause asked with the last piece changes nothing */
        goto fail;
    st->state = 1;
    return 0;
fail:
    st->state = e->err ? e->err : -ENOMEM;
    return st->state;
}

int vg_prom_encode(vg_scrape *s, vg_prom_format fmt, vg_buf *out)
{
    vg_prom_enc st;
    int rc = enc_init(&st, s, fmt, SIZE_MAX);
    if (rc)
        return rc;
    enc e = {out, SIZE_MAX, NULL, NULL, 0};
    return enc_run(&st, &e);
}

int vg_prom_enc_new(vg_scrape *s, vg_prom_format fmt, size_t piece, vg_prom_enc **out)
{
    vg_prom_enc *st = malloc(sizeof *st);
    if (!st)
        return -ENOMEM;
    int rc = enc_init(st, s, fmt, piece);
    if (rc) {
        free(st);
        return rc;
    }
    *out = st;
    return 0;
}

int vg_prom_enc_run(vg_prom_enc *st, vg_buf *work, vg_prom_sink sink, void *ud)
{
    if (st->state)
        return st->state > 0 ? 0 : st->state;
    vg_buf_reset(work);
    enc e = {work, st->piece, sink, ud, 0};
    /* a piece and the line that passes it, without growing step by step */
    if (vg_buf_reserve(work, st->piece + 4096)) {
        st->state = -ENOMEM;
        return st->state;
    }
    return enc_run(st, &e);
}

void vg_prom_enc_free(vg_prom_enc *st) { free(st); }

int vg_prom_encode_stream_buf(vg_scrape *s, vg_prom_format fmt, size_t piece,
                              vg_prom_sink sink, void *ud, vg_buf *work)
{
    vg_prom_enc st;
    int rc = enc_init(&st, s, fmt, piece);
    while (!rc && (rc = vg_prom_enc_run(&st, work, sink, ud)) == VG_PROM_PAUSED)
        rc = 0; /* nobody to resume later: a pause is no more than a piece boundary */
    return rc;
}

int vg_prom_encode_stream(vg_scrape *s, vg_prom_format fmt, size_t piece, vg_prom_sink sink,
                          void *ud)
{
    vg_buf b = VG_BUF_INIT;
    int rc = vg_prom_encode_stream_buf(s, fmt, piece, sink, ud, &b);
    vg_buf_release(&b);
    return rc;
}

vg_prom_format vg_prom_negotiate(const char *accept)
{
    if (!accept)
        return VG_PROM_TEXT;
    const char *p = accept;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        static const char om[] = "application/openmetrics-text";
        if (len >= sizeof om - 1 && strncasecmp(p, om, sizeof om - 1) == 0) {
            /* honour q=0 */
            double q = 1.0;
            const char *qp = p;
            while ((qp = strchr(qp, ';')) && qp < p + len) {
                qp++;
                while (*qp == ' ')
                    qp++;
                if (qp[0] == 'q' && qp[1] == '=')
                    q = strtod(qp + 2, NULL);
            }
            if (q > 0)
                return VG_PROM_OPENMETRICS;
        }
        if (!end)
            break;
        p = end + 1;
    }
    return VG_PROM_TEXT;
}
