/* Unit tests for ks_http: request heads, query parameters, WebSocket accept keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tests/kubesim/ks_http.h"

static int parse(const char *text, ks_req *req, long long *clen, int *chunked, const char **why)
{
    char *h = strdup(text);
    memset(req, 0, sizeof *req);
    int rc = ks_http_parse_head(h, req, clen, chunked, why);
    free(h);
    return rc;
}

static void test_head(void **st)
{
    (void)st;
    ks_req *r = calloc(1, sizeof *r);
    long long clen;
    int chunked;
    const char *why;
    assert_int_equal(parse("GET /api/v1/namespaces/default/pods?watch=1&labelSelector=app%3Dweb%2Ctier+in+(a)&x HTTP/1.1\r\n"
                           "Host: x\r\nAuthorization: Bearer abc\r\nAccept:  application/json \r\n"
                           "Sec-WebSocket-Protocol: a\r\nSec-WebSocket-Protocol: b\r\nOrigin: http://h\r\n\r\n",
                           r, &clen, &chunked, &why), 0);
    assert_string_equal(r->method, "GET");
    assert_string_equal(r->path, "/api/v1/namespaces/default/pods");
    assert_string_equal(ks_req_param(r, "watch"), "1");
    assert_string_equal(ks_req_param(r, "labelSelector"), "app=web,tier in (a)");
    assert_string_equal(ks_req_param(r, "x"), "");
    assert_null(ks_req_param(r, "nope"));
    assert_string_equal(r->authorization, "Bearer abc");
    assert_string_equal(r->accept, "application/json");
    assert_string_equal(r->ws_protocol, "a,b");
    assert_true(r->has_origin);
    assert_true(r->keep_alive);
    assert_int_equal(clen, -1);
    assert_int_equal(chunked, 0);

    assert_false(r->expect_continue);
    assert_int_equal(parse("POST /x HTTP/1.0\r\nContent-Length: 12\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n", r, &clen, &chunked, &why), 0);
    assert_true(r->expect_continue);
    assert_false(r->keep_alive);
    assert_int_equal(clen, 12);
    assert_int_equal(chunked, 1);
    assert_int_equal(parse("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", r, &clen, &chunked, &why), 0);
    assert_false(r->keep_alive);

    const char *bad[] = {"\r\n\r\n", "GET /\r\n\r\n", "GET / FTP/1.0\r\n\r\n", "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
                         "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", NULL};
    for (int i = 0; bad[i]; i++) {
        why = NULL;
        assert_int_equal(parse(bad[i], r, &clen, &chunked, &why), -EINVAL);
        assert_non_null(why);
    }
    free(r);
}

static void test_url_decode_and_ws_key(void **st)
{
    (void)st;
    char s[] = "a%2Fb+c%zz%4";
    ks_url_decode(s);
    assert_string_equal(s, "a/b c%zz%4");
    char acc[32];
    /* RFC 6455 section 1.3 example */
    ks_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", acc);
    assert_string_equal(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    assert_string_equal(ks_http_reason(429), "Too Many Requests");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_head),
        cmocka_unit_test(test_url_decode_and_ws_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
