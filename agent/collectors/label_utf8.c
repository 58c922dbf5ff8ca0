/*
 * label_utf8.c - UTF-8 validation and repair for label values.
 */
#include "label_utf8.h"

#include <string.h>

size_t label_utf8_seq_len(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    size_t need;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
        need = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 3;
        if (c == 0xe0)
            lo = 0xa0; /* no overlong forms */
        else if (c == 0xed)
            hi = 0x9f; /* no surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f; /* nothing above U+10FFFF */
    } else {
        return 0;
    }
    if (n < need || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < need; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return need;
}

bool label_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t l = label_utf8_seq_len(p + i, n - i);
        if (!l)
            return false;
        i += l;
    }
    return true;
}

char *label_utf8_copy(const char *in, size_t n, char *out, size_t outlen)
{
    if (outlen == 0)
        return out;
    const unsigned char *p = (const unsigned char *)in;
    size_t w = 0;
    bool in_bad = false;
    for (size_t i = 0; i < n && p[i];) {
        size_t l = label_utf8_seq_len(p + i, n - i);
        if (l == 0) {
            if (!in_bad) {
                if (w + 3 >= outlen)
                    break;
                memcpy(out + w, "\xef\xbf\xbd", 3);
                w += 3;
            }
            in_bad = true;
            i++;
            continue;
        }
        in_bad = false;
        if (w + l >= outlen)
            break;
        memcpy(out + w, p + i, l);
        w += l;
        i += l;
    }
    out[w] = '\0';
    return out;
}

const char *label_utf8(const char *s, char *buf, size_t buflen)
{
    size_t n = strlen(s);
    if (label_utf8_valid(s, n))
        return s;
    return label_utf8_copy(s, n, buf, buflen);
}
