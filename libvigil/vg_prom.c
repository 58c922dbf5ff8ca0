/*
 * vg_prom.c - text 0.0.4 / OpenMetrics 1.0.0 encoder.
 *
 * In OpenMetrics a counter's family name carries no _total suffix and its
 * samples always do; untyped becomes "unknown"; the output ends in # EOF.
 */
#include "vg_prom.h"

#include <ctype.h>
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

int vg_prom_format_value(double v, char *buf)
{
    if (isnan(v))
        return snprintf(buf, 32, "NaN");
    if (isinf(v))
        return snprintf(buf, 32, v > 0 ? "+Inf" : "-Inf");
    if (v == floor(v) && fabs(v) < 1e15)
        return snprintf(buf, 32, "%.0f", v);
    /* shortest of 15, 16, 17 significant digits that reads back exactly */
    int n = snprintf(buf, 32, "%.15g", v);
    if (strtod(buf, NULL) != v)
        n = snprintf(buf, 32, "%.16g", v);
    if (strtod(buf, NULL) != v)
        n = snprintf(buf, 32, "%.17g", v);
    return n;
}

static int put_value(vg_buf *b, double v)
{
    char tmp[32];
    int n = vg_prom_format_value(v, tmp);
    return vg_buf_append(b, tmp, (size_t)n);
}

static int put_labels(vg_buf *b, const vg_family *f, const char *const *values,
                      const char *extra_name, const char *extra_value)
{
    size_t n = vg_family_nlabels(f);
    if (n == 0 && !extra_name)
        return 0;
    if (vg_buf_putc(b, '{'))
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (i && vg_buf_putc(b, ','))
            return -1;
        if (vg_buf_puts(b, vg_family_label_name(f, i)) || vg_buf_puts(b, "=\"") ||
            put_escaped(b, values[i], true) || vg_buf_putc(b, '"'))
            return -1;
    }
    if (extra_name) {
        if (n && vg_buf_putc(b, ','))
            return -1;
        if (vg_buf_puts(b, extra_name) || vg_buf_puts(b, "=\"") ||
            vg_buf_puts(b, extra_value) || vg_buf_putc(b, '"'))
            return -1;
    }
    return vg_buf_putc(b, '}');
}

static int put_line(vg_buf *b, const char *name, const char *suffix, const vg_family *f,
                    const char *const *values, const char *xn, const char *xv, double v)
{
    if (vg_buf_puts(b, name) || (suffix && vg_buf_puts(b, suffix)) ||
        put_labels(b, f, values, xn, xv) || vg_buf_putc(b, ' ') || put_value(b, v) ||
        vg_buf_putc(b, '\n'))
        return -1;
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

static int encode_family(vg_buf *b, const vg_family *f, bool om)
{
    const char *name = vg_family_name(f);
    vg_mtype t = vg_family_type(f);
    char meta[256];
    const char *sample_suffix = NULL;
    snprintf(meta, sizeof meta, "%s", name);
    if (om && t == VG_MT_COUNTER) {
        if (ends_with(name, "_total"))
            meta[strlen(meta) - 6] = '\0';
        else
            sample_suffix = "_total";
    }
    const char *help = vg_family_help(f);
    if (*help) {
        if (vg_buf_puts(b, "# HELP ") || vg_buf_puts(b, meta) || vg_buf_putc(b, ' ') ||
            put_escaped(b, help, om) || vg_buf_putc(b, '\n'))
            return -1;
    }
    if (vg_buf_puts(b, "# TYPE ") || vg_buf_puts(b, meta) || vg_buf_putc(b, ' ') ||
        vg_buf_puts(b, type_name(t, om)) || vg_buf_putc(b, '\n'))
        return -1;

    vg_sample_iter it;
    vg_sample_view sv;
    vg_family_iter_init(f, &it);
    while (vg_family_iter_next(&it, &sv)) {
        if (t != VG_MT_HISTOGRAM) {
            if (put_line(b, name, sample_suffix, f, sv.values, NULL, NULL, sv.value))
                return -1;
            continue;
        }
        char le[32];
        for (size_t i = 0; i < sv.nbuckets; i++) {
            vg_prom_format_value(sv.bounds[i], le);
            if (om && !strpbrk(le, ".eEIN"))
                strcat(le, ".0"); /* OpenMetrics wants canonical floats for le */
            if (put_line(b, name, "_bucket", f, sv.values, "le", le, (double)sv.cumulative[i]))
                return -1;
        }
        if (put_line(b, name, "_bucket", f, sv.values, "le", "+Inf", (double)sv.count) ||
            put_line(b, name, "_sum", f, sv.values, NULL, NULL, sv.sum) ||
            put_line(b, name, "_count", f, sv.values, NULL, NULL, (double)sv.count))
            return -1;
    }
    return 0;
}

int vg_prom_encode(vg_scrape *s, vg_prom_format fmt, vg_buf *out)
{
    bool om = fmt == VG_PROM_OPENMETRICS;
    const vg_family *const *fams = vg_scrape_families_sorted(s);
    size_t n = vg_scrape_family_count(s);
    if (!fams && n)
        return -12; /* -ENOMEM */
    for (size_t i = 0; i < n; i++) {
        if (vg_family_sample_count(fams[i]) == 0)
            continue; /* an empty family is noise to scrapers */
        if (encode_family(out, fams[i], om))
            return -12;
    }
    if (om && vg_buf_puts(out, "# EOF\n"))
        return -12;
    return 0;
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
