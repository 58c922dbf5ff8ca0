/*
 * kube_json.c - strict JSON pull reader (see kube_json.h for why).
 *
 * Everything is bounds-checked against c->end; errors are sticky so a
 * decoder can chain calls and check once. Skipping is iterative with an
 * explicit bracket stack, so hostile nesting cannot exhaust the C stack.
 */
#include "kube_json.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int fail(kj *c, int err)
{
    if (!c->err)
        c->err = err;
    return c->err;
}

static void ws(kj *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

void kj_init(kj *c, const char *p, size_t n)
{
    memset(c, 0, sizeof *c);
    c->p = p;
    c->end = p + n;
}

kj_type kj_peek(kj *c)
{
    if (c->err)
        return KJ_ERR;
    ws(c);
    if (c->p >= c->end)
        return KJ_END;
    switch (*c->p) {
    case '{': return KJ_OBJ;
    case '[': return KJ_ARR;
    case '"': return KJ_STR;
    case 't': return KJ_TRUE;
    case 'f': return KJ_FALSE;
    case 'n': return KJ_NULL;
    default:
        if (*c->p == '-' || (*c->p >= '0' && *c->p <= '9'))
            return KJ_NUM;
        return KJ_ERR;
    }
}

static bool more_get(const kj *c) { return c->more[(c->depth - 1) / 8] & (1u << ((c->depth - 1) % 8)); }
static void more_set(kj *c, bool v)
{
    uint8_t bit = (uint8_t)(1u << ((c->depth - 1) % 8));
    if (v)
        c->more[(c->depth - 1) / 8] |= bit;
    else
        c->more[(c->depth - 1) / 8] &= (uint8_t)~bit;
}

static int open_container(kj *c, char ch)
{
    if (c->err)
        return c->err;
    ws(c);
    if (c->p >= c->end || *c->p != ch)
        return fail(c, -EBADMSG);
    if (c->depth >= KJ_MAX_DEPTH)
        return fail(c, -E2BIG);
    c->p++;
    c->depth++;
    more_set(c, false);
    return 0;
}

int kj_obj_begin(kj *c) { return open_container(c, '{'); }
int kj_arr_begin(kj *c) { return open_container(c, '['); }

/* Scan a string starting at the opening quote; sets *endp past the closing
 * quote. Validates escapes and rejects raw control bytes. */
static int scan_string(const char *p, const char *end, const char **endp, bool *esc)
{
    bool e = false;
    p++; /* opening quote */
    while (p < end) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '"') {
            *endp = p + 1;
            if (esc)
                *esc = e;
            return 0;
        }
        if (ch < 0x20)
            return -EBADMSG;
        if (ch == '\\') {
            e = true;
            if (++p >= end)
                return -EBADMSG;
            switch (*p) {
            case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
                p++;
                break;
            case 'u':
                if (end - p < 5)
                    return -EBADMSG;
                for (int i = 1; i <= 4; i++) {
                    char h = p[i];
                    if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F')))
                        return -EBADMSG;
                }
                p += 5;
                break;
            default:
                return -EBADMSG;
            }
            continue;
        }
        p++;
    }
    return -EBADMSG;
}

static int scan_number(const char *p, const char *end, const char **endp, bool *integral)
{
    bool integ = true;
    if (p < end && *p == '-')
        p++;
    if (p >= end)
        return -EBADMSG;
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    } else {
        return -EBADMSG;
    }
    if (p < end && *p == '.') {
        integ = false;
        p++;
        if (p >= end || !(*p >= '0' && *p <= '9'))
            return -EBADMSG;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        integ = false;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || !(*p >= '0' && *p <= '9'))
            return -EBADMSG;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    *endp = p;
    if (integral)
        *integral = integ;
    return 0;
}

static int scan_literal(const char *p, const char *end, const char *lit, const char **endp)
{
    size_t n = strlen(lit);
    if ((size_t)(end - p) < n || memcmp(p, lit, n) != 0)
        return -EBADMSG;
    *endp = p + n;
    return 0;
}

/* A value was consumed inside the current container: the next one needs a comma. */
static void value_done(kj *c)
{
    if (c->depth > 0)
        more_set(c, true);
}

int kj_obj_next(kj *c, vg_slice *key)
{
    if (c->err)
        return c->err;
    if (c->depth <= 0)
        return fail(c, -EBADMSG);
    ws(c);
    if (c->p >= c->end)
        return fail(c, -EBADMSG);
    if (*c->p == '}') {
        c->p++;
        c->depth--;
        value_done(c);
        return 0;
    }
    if (more_get(c)) {
        if (*c->p != ',')
            return fail(c, -EBADMSG);
        c->p++;
        ws(c);
    }
    if (c->p >= c->end || *c->p != '"')
        return fail(c, -EBADMSG);
    const char *s = c->p, *e;
    int rc = scan_string(s, c->end, &e, NULL);
    if (rc)
        return fail(c, rc);
    key->p = s + 1;
    key->n = (size_t)(e - s - 2);
    c->p = e;
    ws(c);
    if (c->p >= c->end || *c->p != ':')
        return fail(c, -EBADMSG);
    c->p++;
    /* the value about to be read completes this member */
    more_set(c, true);
    return 1;
}

int kj_arr_next(kj *c)
{
    if (c->err)
        return c->err;
    if (c->depth <= 0)
        return fail(c, -EBADMSG);
    ws(c);
    if (c->p >= c->end)
        return fail(c, -EBADMSG);
    if (*c->p == ']') {
        c->p++;
        c->depth--;
        value_done(c);
        return 0;
    }
    if (more_get(c)) {
        if (*c->p != ',')
            return fail(c, -EBADMSG);
        c->p++;
        ws(c);
        if (c->p < c->end && *c->p == ']')
            return fail(c, -EBADMSG); /* trailing comma */
    }
    more_set(c, true);
    return 1;
}

int kj_skip(kj *c)
{
    if (c->err)
        return c->err;
    /* local bracket stack: '{' or '[' per level; state per level:
     * 0 = expect first member or close, 1 = expect comma or close */
    char stack[KJ_MAX_DEPTH];
    uint8_t st[KJ_MAX_DEPTH];
    int d = 0;
    const char *p = c->p, *end = c->end;
    for (;;) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
            p++;
        if (p >= end)
            return fail(c, -EBADMSG);
        if (d > 0) {
            char ch = *p;
            char close = stack[d - 1] == '{' ? '}' : ']';
            if (ch == close) {
                p++;
                d--;
                if (d == 0)
                    break;
                st[d - 1] = 1;
                continue;
            }
            if (st[d - 1] == 1) {
                if (ch != ',')
                    return fail(c, -EBADMSG);
                p++;
                while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
                    p++;
                if (p >= end)
                    return fail(c, -EBADMSG);
            }
            if (stack[d - 1] == '{') {
                const char *e;
                if (*p != '"' || scan_string(p, end, &e, NULL))
                    return fail(c, -EBADMSG);
                p = e;
                while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
                    p++;
                if (p >= end || *p != ':')
                    return fail(c, -EBADMSG);
                p++;
                while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
                    p++;
                if (p >= end)
                    return fail(c, -EBADMSG);
            }
            st[d - 1] = 1;
        }
        /* a value at p */
        const char *e = NULL;
        int rc = 0;
        switch (*p) {
        case '{':
        case '[':
            if (c->depth + d >= KJ_MAX_DEPTH)
                return fail(c, -E2BIG);
            stack[d] = *p;
            st[d] = 0;
            d++;
            p++;
            continue;
        case '"': rc = scan_string(p, end, &e, NULL); break;
        case 't': rc = scan_literal(p, end, "true", &e); break;
        case 'f': rc = scan_literal(p, end, "false", &e); break;
        case 'n': rc = scan_literal(p, end, "null", &e); break;
        default: rc = scan_number(p, end, &e, NULL); break;
        }
        if (rc)
            return fail(c, rc);
        p = e;
        if (d == 0)
            break;
    }
    c->p = p;
    value_done(c);
    return 0;
}

int kj_raw(kj *c, vg_slice *out)
{
    if (kj_peek(c) == KJ_ERR)
        return fail(c, -EBADMSG);
    const char *s = c->p;
    int rc = kj_skip(c);
    if (rc)
        return rc;
    out->p = s;
    out->n = (size_t)(c->p - s);
    return 0;
}

int kj_str_raw(kj *c, vg_slice *raw, bool *esc)
{
    kj_type t = kj_peek(c);
    if (t == KJ_NULL) {
        const char *e;
        if (scan_literal(c->p, c->end, "null", &e))
            return fail(c, -EBADMSG);
        c->p = e;
        value_done(c);
        raw->p = "";
        raw->n = 0;
        if (esc)
            *esc = false;
        return 0;
    }
    if (t != KJ_STR)
        return fail(c, -EBADMSG);
    const char *e;
    bool es;
    int rc = scan_string(c->p, c->end, &e, &es);
    if (rc)
        return fail(c, rc);
    raw->p = c->p + 1;
    raw->n = (size_t)(e - c->p - 2);
    if (esc)
        *esc = es;
    c->p = e;
    value_done(c);
    return 0;
}

static int hexval(char h)
{
    if (h >= '0' && h <= '9') return h - '0';
    if (h >= 'a' && h <= 'f') return h - 'a' + 10;
    if (h >= 'A' && h <= 'F') return h - 'A' + 10;
    return -1;
}

static unsigned read_u4(const char *p)
{
    return (unsigned)(hexval(p[0]) << 12 | hexval(p[1]) << 8 | hexval(p[2]) << 4 | hexval(p[3]));
}

static size_t utf8_put(unsigned cp, char out[4])
{
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) { out[0] = (char)(0xC0 | (cp >> 6)); out[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12)); out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F)); return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18)); out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decode the escape at raw[i] (raw[i] == '\\'); writes up to 4 bytes. */
static int unescape_one(vg_slice raw, size_t *i, char out[4], size_t *n)
{
    size_t k = *i + 1;
    if (k >= raw.n)
        return -EBADMSG;
    char ch = raw.p[k];
    switch (ch) {
    case '"': out[0] = '"'; break;
    case '\\': out[0] = '\\'; break;
    case '/': out[0] = '/'; break;
    case 'b': out[0] = '\b'; break;
    case 'f': out[0] = '\f'; break;
    case 'n': out[0] = '\n'; break;
    case 'r': out[0] = '\r'; break;
    case 't': out[0] = '\t'; break;
    case 'u': {
        if (raw.n - k < 5)
            return -EBADMSG;
        for (int j = 1; j <= 4; j++)
            if (hexval(raw.p[k + j]) < 0)
                return -EBADMSG;
        unsigned cp = read_u4(raw.p + k + 1);
        k += 4;
        if (cp >= 0xD800 && cp < 0xDC00) {
            /* high surrogate: combine with a following low one */
            if (raw.n - k >= 7 && raw.p[k + 1] == '\\' && raw.p[k + 2] == 'u' &&
                hexval(raw.p[k + 3]) >= 0 && hexval(raw.p[k + 4]) >= 0 &&
                hexval(raw.p[k + 5]) >= 0 && hexval(raw.p[k + 6]) >= 0) {
                unsigned lo = read_u4(raw.p + k + 3);
                if (lo >= 0xDC00 && lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    k += 6;
                } else {
                    cp = 0xFFFD;
                }
            } else {
                cp = 0xFFFD;
            }
        } else if (cp >= 0xDC00 && cp < 0xE000) {
            cp = 0xFFFD;
        }
        *n = utf8_put(cp, out);
        *i = k + 1;
        return 0;
    }
    default:
        return -EBADMSG;
    }
    *n = 1;
    *i = k + 1;
    return 0;
}

int kj_unescape_append(vg_slice raw, vg_buf *out)
{
    size_t i = 0;
    while (i < raw.n) {
        const char *bs = memchr(raw.p + i, '\\', raw.n - i);
        size_t run = bs ? (size_t)(bs - (raw.p + i)) : raw.n - i;
        if (run && vg_buf_append(out, raw.p + i, run))
            return -ENOMEM;
        i += run;
        if (i >= raw.n)
            break;
        char tmp[4];
        size_t n;
        int rc = unescape_one(raw, &i, tmp, &n);
        if (rc)
            return rc;
        if (vg_buf_append(out, tmp, n))
            return -ENOMEM;
    }
    return 0;
}

int kj_unescape_to(vg_slice raw, char *out, size_t outlen, size_t *len)
{
    size_t o = 0, i = 0;
    int rc = 0;
    if (outlen == 0)
        return -ENOSPC;
    while (i < raw.n) {
        if (raw.p[i] != '\\') {
            if (o + 1 >= outlen) { rc = -ENOSPC; break; }
            out[o++] = raw.p[i++];
            continue;
        }
        char tmp[4];
        size_t n;
        rc = unescape_one(raw, &i, tmp, &n);
        if (rc)
            break;
        if (o + n >= outlen) { rc = -ENOSPC; break; }
        memcpy(out + o, tmp, n);
        o += n;
    }
    out[o] = '\0';
    if (len)
        *len = o;
    return rc;
}

int kj_str_buf(kj *c, vg_buf *out)
{
    vg_slice raw;
    bool esc;
    int rc = kj_str_raw(c, &raw, &esc);
    if (rc)
        return rc;
    vg_buf_reset(out);
    if (!esc)
        return vg_buf_append(out, raw.p, raw.n) ? -ENOMEM : 0;
    rc = kj_unescape_append(raw, out);
    return rc == -EBADMSG ? fail(c, rc) : rc;
}

int kj_str_copy(kj *c, char *out, size_t outlen, size_t *len)
{
    vg_slice raw;
    bool esc;
    int rc = kj_str_raw(c, &raw, &esc);
    if (rc)
        return rc;
    rc = kj_unescape_to(raw, out, outlen, len);
    return rc == -EBADMSG ? fail(c, rc) : rc;
}

int kj_i64(kj *c, int64_t *out)
{
    if (kj_peek(c) != KJ_NUM)
        return fail(c, -EBADMSG);
    const char *e;
    bool integ;
    int rc = scan_number(c->p, c->end, &e, &integ);
    if (rc)
        return fail(c, rc);
    const char *p = c->p;
    c->p = e;
    value_done(c);
    if (integ) {
        bool neg = *p == '-';
        if (neg)
            p++;
        uint64_t v = 0;
        for (; p < e; p++) {
            unsigned dgt = (unsigned)(*p - '0');
            if (v > (UINT64_MAX - dgt) / 10)
                return -ERANGE;
            v = v * 10 + dgt;
        }
        if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
            return -ERANGE;
        *out = neg ? (int64_t)(0 - v) : (int64_t)v;
        return 0;
    }
    char tmp[64];
    size_t n = (size_t)(e - p);
    if (n >= sizeof tmp)
        return -ERANGE;
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    double d = strtod(tmp, NULL);
    if (!isfinite(d) || d != floor(d) || d < -9.2e18 || d > 9.2e18)
        return -ERANGE;
    *out = (int64_t)d;
    return 0;
}

int kj_double(kj *c, double *out)
{
    if (kj_peek(c) != KJ_NUM)
        return fail(c, -EBADMSG);
    const char *e;
    int rc = scan_number(c->p, c->end, &e, NULL);
    if (rc)
        return fail(c, rc);
    char tmp[64];
    size_t n = (size_t)(e - c->p);
    const char *p = c->p;
    c->p = e;
    value_done(c);
    if (n >= sizeof tmp)
        return -ERANGE;
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    double d = strtod(tmp, NULL);
    if (!isfinite(d))
        return -ERANGE;
    *out = d;
    return 0;
}

int kj_bool(kj *c, bool *out)
{
    kj_type t = kj_peek(c);
    const char *e;
    if (t == KJ_TRUE && !scan_literal(c->p, c->end, "true", &e)) {
        *out = true;
    } else if (t == KJ_FALSE && !scan_literal(c->p, c->end, "false", &e)) {
        *out = false;
    } else if (t == KJ_NULL && !scan_literal(c->p, c->end, "null", &e)) {
        *out = false;
    } else {
        return fail(c, -EBADMSG);
    }
    c->p = e;
    value_done(c);
    return 0;
}

int kj_null(kj *c)
{
    const char *e;
    if (kj_peek(c) != KJ_NULL || scan_literal(c->p, c->end, "null", &e))
        return fail(c, -EBADMSG);
    c->p = e;
    value_done(c);
    return 0;
}

int kj_finish(kj *c)
{
    if (c->err)
        return c->err;
    if (c->depth != 0)
        return fail(c, -EBADMSG);
    ws(c);
    return c->p == c->end ? 0 : fail(c, -EBADMSG);
}

bool kj_key_is(vg_slice key, const char *lit)
{
    size_t n = strlen(lit);
    if (key.n == n && memcmp(key.p, lit, n) == 0)
        return true;
    if (!memchr(key.p, '\\', key.n))
        return false;
    char tmp[256];
    size_t len;
    if (kj_unescape_to(key, tmp, sizeof tmp, &len))
        return false;
    return len == n && memcmp(tmp, lit, n) == 0;
}

int kj_quote_append(vg_buf *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    if (vg_buf_reserve(out, n + 2))
        return -ENOMEM;
    if (vg_buf_putc(out, '"'))
        return -ENOMEM;
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x20 && ch != '"' && ch != '\\')
            continue;
        if (i > start && vg_buf_append(out, s + start, i - start))
            return -ENOMEM;
        char esc[7];
        size_t en = 2;
        esc[0] = '\\';
        switch (ch) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
            esc[4] = hex[ch >> 4]; esc[5] = hex[ch & 15];
            en = 6;
        }
        if (vg_buf_append(out, esc, en))
            return -ENOMEM;
        start = i + 1;
    }
    if (n > start && vg_buf_append(out, s + start, n - start))
        return -ENOMEM;
    return vg_buf_putc(out, '"') ? -ENOMEM : 0;
}
