/*
 * kube_base64.c - base64 decode (kubeconfig *-data fields) and base64url
 * encode (WebSocket bearer subprotocol).
 */
#include "kube_base64.h"

#include <errno.h>
#include <stdint.h>

static int b64val(unsigned char ch)
{
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') return ch - '0' + 52;
    if (ch == '+' || ch == '-') return 62;
    if (ch == '/' || ch == '_') return 63;
    return -1;
}

int kube_base64_decode(const char *src, size_t n, vg_buf *out)
{
    size_t start = out->len;
    uint32_t acc = 0;
    int bits = 0, pad = 0;
    if (vg_buf_reserve(out, n / 4 * 3 + 3))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)src[i];
        if (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t')
            continue;
        if (ch == '=') {
            pad++;
            continue;
        }
        int v = b64val(ch);
        if (v < 0 || pad)
            goto bad;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out->data[out->len++] = (char)((acc >> bits) & 0xFF);
        }
    }
    /* leftover bits must be a valid tail (2 or 4 bits of zero) */
    if (bits >= 6 || pad > 2 || (acc & ((1u << bits) - 1)) != 0)
        goto bad;
    out->data[out->len] = '\0';
    return 0;
bad:
    out->len = start;
    if (out->data)
        out->data[start] = '\0';
    return -EINVAL;
}

int kube_base64url_encode(const void *src, size_t n, vg_buf *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const unsigned char *s = src;
    if (vg_buf_reserve(out, (n + 2) / 3 * 4))
        return -ENOMEM;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        char q[4] = {tab[v >> 18], tab[(v >> 12) & 63], tab[(v >> 6) & 63], tab[v & 63]};
        vg_buf_append(out, q, 4);
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)s[i] << 16;
        char q[2] = {tab[v >> 18], tab[(v >> 12) & 63]};
        vg_buf_append(out, q, 2);
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
        char q[3] = {tab[v >> 18], tab[(v >> 12) & 63], tab[(v >> 6) & 63]};
        vg_buf_append(out, q, 3);
    }
    return 0;
}
