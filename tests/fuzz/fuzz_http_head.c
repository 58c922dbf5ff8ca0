/*
 * fuzz_http_head.c - libFuzzer target for vg_http_head_parse, the parser
 * every byte a client sends goes through first.
 *
 * The first input byte picks max_head (so small limits are explored too);
 * the rest is the request bytes, copied into an exact-size heap block so
 * ASan sees any read past the end. Beyond "no crash" it checks what the
 * server relies on: a complete head lies within the input and within
 * max_head, every pointer points into it, the target is origin-form, and
 * the answer is stable (the head alone parses the same; a shorter prefix
 * is never complete).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vg_http.h"

static void check(int ok)
{
    if (!ok)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t max_head = 16 + (size_t)data[0] * 64; /* 16 .. 16336 */
    size_t len = size - 1;
    char *buf = malloc(len ? len : 1);
    if (!buf)
        return 0;
    memcpy(buf, data + 1, len);

    vg_http_head h;
    long r = vg_http_head_parse(buf, len, max_head, &h);
    check(r == 0 || r == -EBADMSG || r == -E2BIG || r == -EPROTONOSUPPORT || r > 0);
    if (r > 0) {
        size_t n = (size_t)r;
        check(n <= len && n <= max_head && h.head_len == n);
        check(h.method[0] != '\0' && strlen(h.method) < sizeof h.method);
        check(h.version_minor == 0 || h.version_minor == 1);
        check(h.target >= buf && h.target_len > 0 && h.target + h.target_len <= buf + n);
        check(h.target[0] == '/');
        check(h.nheaders <= 64);
        for (size_t i = 0; i < h.nheaders; i++) {
            check(h.headers[i].name >= buf && h.headers[i].name_len > 0);
            check(h.headers[i].name + h.headers[i].name_len <= buf + n);
            check(h.headers[i].value >= buf);
            check(h.headers[i].value + h.headers[i].value_len <= buf + n);
        }
        vg_http_head h2;
        check(vg_http_head_parse(buf, n, max_head, &h2) == r);
        check(h2.nheaders == h.nheaders && h2.target_len == h.target_len);
        check(vg_http_head_parse(buf, n - 1, max_head, &h2) <= 0);
    } else if (r == 0) {
        check(len < max_head);
    }
    free(buf);
    return 0;
}
