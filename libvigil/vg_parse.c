/*
 * vg_parse.c - strict slice and number parsing for kernel text files.
 *
 * strtoull and friends need NUL-terminated input and accept leading
 * whitespace, signs and silent wrap-around; these helpers parse exactly
 * the bytes of a slice and report overflow.
 */
#include "vg_parse.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void vg_lines_init(vg_lines *it, const char *buf, size_t len)
{
    it->p = buf;
    it->end = buf + len;
}

bool vg_lines_next(vg_lines *it, vg_slice *line)
{
    if (!it->p || it->p >= it->end)
        return false;
    const char *nl = memchr(it->p, '\n', (size_t)(it->end - it->p));
    const char *e = nl ? nl : it->end;
    line->p = it->p;
    line->n = (size_t)(e - it->p);
    it->p = nl ? nl + 1 : it->end;
    return true;
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

size_t vg_fields(vg_slice line, vg_slice *fields, size_t max)
{
    size_t n = 0;
    size_t i = 0;
    while (i < line.n) {
        while (i < line.n && is_space(line.p[i]))
            i++;
        if (i >= line.n)
            break;
        size_t start = i;
        while (i < line.n && !is_space(line.p[i]))
            i++;
        if (n < max) {
            fields[n].p = line.p + start;
            fields[n].n = i - start;
        } else {
            break;
        }
        n++;
    }
    return n;
}

vg_slice vg_field_next(vg_slice line, size_t *pos)
{
    size_t i = *pos;
    while (i < line.n && is_space(line.p[i]))
        i++;
    size_t st = i;
    while (i < line.n && !is_space(line.p[i]))
        i++;
    vg_slice f = {line.p + st, i - st};
    while (i < line.n && is_space(line.p[i]))
        i++;
    *pos = i;
    return f;
}

bool vg_line_name_value(vg_slice line, const char *name, size_t nlen, vg_slice *value)
{
    if (line.n <= nlen || memcmp(line.p, name, nlen) != 0 || !is_space(line.p[nlen]))
        return false;
    size_t i = nlen;
    vg_slice v = vg_field_next(line, &i);
    if (!v.n || i != line.n)
        return false;
    *value = v;
    return true;
}

vg_slice vg_slice_trim(vg_slice s)
{
    while (s.n && is_space(s.p[0])) {
        s.p++;
        s.n--;
    }
    while (s.n && is_space(s.p[s.n - 1]))
        s.n--;
    return s;
}

bool vg_slice_eq(vg_slice s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n == n && memcmp(s.p, lit, n) == 0;
}

bool vg_slice_has_prefix(vg_slice s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n >= n && memcmp(s.p, lit, n) == 0;
}

char *vg_slice_copy(vg_slice s, char *out, size_t outlen)
{
    if (outlen == 0)
        return out;
    size_t n = s.n < outlen - 1 ? s.n : outlen - 1;
    if (n)
        memcpy(out, s.p, n);
    out[n] = '\0';
    return out;
}

int vg_parse_u64(vg_slice s, uint64_t *out)
{
    if (s.n == 0)
        return -EINVAL;
    uint64_t v = 0;
    for (size_t i = 0; i < s.n; i++) {
        char c = s.p[i];
        if (c < '0' || c > '9')
            return -EINVAL;
        uint64_t d = (uint64_t)(c - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -ERANGE;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int vg_parse_i64(vg_slice s, int64_t *out)
{
    bool neg = false;
    if (s.n && (s.p[0] == '-' || s.p[0] == '+')) {
        neg = s.p[0] == '-';
        s.p++;
        s.n--;
    }
    uint64_t u;
    int rc = vg_parse_u64(s, &u);
    if (rc)
        return rc;
    if (neg) {
        if (u > (uint64_t)INT64_MAX + 1)
            return -ERANGE;
        *out = u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u;
    } else {
        if (u > (uint64_t)INT64_MAX)
            return -ERANGE;
        *out = (int64_t)u;
    }
    return 0;
}

int vg_parse_double(vg_slice s, double *out)
{
    char tmp[64];
    if (s.n == 0 || s.n >= sizeof tmp)
        return -EINVAL;
    for (size_t i = 0; i < s.n; i++) {
        char c = s.p[i];
        if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' ||
              c == 'e' || c == 'E'))
            return -EINVAL; /* no "nan", "inf", hex floats or spaces */
    }
    memcpy(tmp, s.p, s.n);
    tmp[s.n] = '\0';
    char *end;
    errno = 0;
    double v = strtod(tmp, &end);
    if (end != tmp + s.n)
        return -EINVAL;
    if (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL))
        return -ERANGE;
    *out = v;
    return 0;
}

int vg_parse_hex_u64(vg_slice s, uint64_t *out)
{
    if (s.n >= 2 && s.p[0] == '0' && (s.p[1] == 'x' || s.p[1] == 'X')) {
        s.p += 2;
        s.n -= 2;
    }
    if (s.n == 0)
        return -EINVAL;
    uint64_t v = 0;
    for (size_t i = 0; i < s.n; i++) {
        char c = s.p[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return -EINVAL;
        if (v >> 60)
            return -ERANGE;
        v = (v << 4) | d;
    }
    *out = v;
    return 0;
}

int vg_parse_u64_str(const char *s, uint64_t *out)
{
    vg_slice sl = {s, strlen(s)};
    return vg_parse_u64(sl, out);
}

bool vg_split_colon(vg_slice line, vg_slice *key, vg_slice *rest)
{
    const char *c = memchr(line.p, ':', line.n);
    if (!c)
        return false;
    vg_slice k = {line.p, (size_t)(c - line.p)};
    vg_slice r = {c + 1, line.n - k.n - 1};
    *key = vg_slice_trim(k);
    *rest = vg_slice_trim(r);
    return true;
}

void vg_unescape_octal(char *s)
{
    char *w = s;
    for (char *r = s; *r;) {
        if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
            r[3] >= '0' && r[3] <= '7') {
            *w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
            r += 4;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
}
