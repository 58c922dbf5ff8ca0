/* Unit tests for vg_prom: text and OpenMetrics encoding, negotiation. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vg_prom.h"

static void test_text_encoding(void **st)
{
    vg_scrape *s;
    vg_scrape_new(&s);
    vg_family *f = vg_scrape_family(s, "b_total", VG_MT_COUNTER, "Help with \\ and\nnewline", 1,
                                    (const char *[]){"path"});
    vg_family_add(f, 3, "a\"b\\c\nd");
    vg_scrape_add1(s, "a_gauge", VG_MT_GAUGE, "", 0.25);
    vg_scrape_add1(s, "c_untyped", VG_MT_UNTYPED, "u", NAN);
    vg_buf out = VG_BUF_INIT;
    assert_int_equal(vg_prom_encode(s, VG_PROM_TEXT, &out), 0);
    const char *want =
        "# TYPE a_gauge gauge\n"
        "a_gauge 0.25\n"
        "# HELP b_total Help with \\\\ and\\nnewline\n"
        "# TYPE b_total counter\n"
        "b_total{path=\"a\\\"b\\\\c\\nd\"} 3\n"
        "# HELP c_untyped u\n"
        "# TYPE c_untyped untyped\n"
        "c_untyped NaN\n";
    assert_string_equal(out.data, want);
    vg_buf_release(&out);
    vg_scrape_free(s);
}

static void test_openmetrics_encoding(void **st)
{
    vg_scrape *s;
    vg_scrape_new(&s);
    vg_scrape_add1(s, "req_total", VG_MT_COUNTER, "r", 5);
    vg_scrape_add1(s, "failcnt", VG_MT_COUNTER, "", 1);
    vg_scrape_add1(s, "u", VG_MT_UNTYPED, "", 1);
    vg_family *h = vg_scrape_family(s, "lat_seconds", VG_MT_HISTOGRAM, "", 1,
                                    (const char *[]){"handler"});
    double b[] = {0.5, 1};
    uint64_t c[] = {1, 2};
    vg_family_add_histogram(h, b, c, 2, 3, 4.5, (const char *[]){"m"});
    vg_buf out = VG_BUF_INIT;
    assert_int_equal(vg_prom_encode(s, VG_PROM_OPENMETRICS, &out), 0);
    const char *want =
        "# TYPE failcnt counter\n"
        "failcnt_total 1\n"
        "# TYPE lat_seconds histogram\n"
        "lat_seconds_bucket{handler=\"m\",le=\"0.5\"} 1\n"
        "lat_seconds_bucket{handler=\"m\",le=\"1.0\"} 2\n"
        "lat_seconds_bucket{handler=\"m\",le=\"+Inf\"} 3\n"
        "lat_seconds_sum{handler=\"m\"} 4.5\n"
        "lat_seconds_count{handler=\"m\"} 3\n"
        "# HELP req r\n"
        "# TYPE req counter\n"
        "req_total 5\n"
        "# TYPE u unknown\n"
        "u 1\n"
        "# EOF\n";
    assert_string_equal(out.data, want);
    vg_buf_release(&out);
    vg_scrape_free(s);
}

static void test_values(void **st)
{
    char b[32];
    vg_prom_format_value(1234567, b);
    assert_string_equal(b, "1234567");
    vg_prom_format_value(0.1, b);
    assert_string_equal(b, "0.1");
    vg_prom_format_value(-0.5, b);
    assert_string_equal(b, "-0.5");
    vg_prom_format_value(18446744073709551615.0, b);
    assert_string_equal(b, "1.8446744073709552e+19");
    vg_prom_format_value(INFINITY, b);
    assert_string_equal(b, "+Inf");
    vg_prom_format_value(-INFINITY, b);
    assert_string_equal(b, "-Inf");
    vg_prom_format_value(9.904995999999999, b); /* 16 digits, not 17 */
    assert_string_equal(b, "9.904995999999999");
    vg_prom_format_value(1.0 / 3, b);
    assert_true(strtod(b, NULL) == 1.0 / 3);
}

/* The printf search the fast paths must agree with, byte for byte. */
static void reference_value(double v, char *buf)
{
    if (isnan(v) || isinf(v)) {
        vg_prom_format_value(v, buf);
        return;
    }
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(buf, 32, "%.0f", v);
        return;
    }
    snprintf(buf, 32, "%.15g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, 32, "%.16g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, 32, "%.17g", v);
}

static void test_values_match_printf(void **st)
{
    char got[32], want[32];
    static const double fixed[] = {
        -0.0, 0.0, 1e-4, 9.99e-5, 0.1, 0.3, 0.7, 1.5, -2.25, 123.456, 999999999999999.9,
        99999999999999.99, 1e15, 1e15 + 2, 0.30000000000000004, 2.675, 1e-3, 5e-5, 4.35,
        0.000123456789012345, 12345.678901234567, 3.1415926535897931, 9.9999e-5,
        1.2345e-05, 3e-07, 1e-10, 1.5e-100, 2.2250738585072014e-308, 4.9e-324, -7.25e-06,
        1e-5, 1.0000000000000001e-5, 9.999999999999999e-05, 999999999999999.94,
        99999999999999.995, 1.0000000000000002e-4, 1795450941.3022358, 109.50428500000001,
        0.1 + 0.2, 1.0 / 3.0, 2.0 / 3.0, 1e14 + 0.5, 12345678.901234567, 4503599627370495.5,
        0.00012345678901234567, 7.0000000000000009, 8.9999999999999982};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        vg_prom_format_value(fixed[i], got);
        reference_value(fixed[i], want);
        assert_string_equal(got, want);
    }
    /* collector durations: whole nanoseconds / 1e9 (and the sum form) */
    for (long ns = 1; ns < 200000; ns += 1 + ns / 1000) {
        double v = (double)ns / 1e9;
        vg_prom_format_value(v, got);
        reference_value(v, want);
        assert_string_equal(got, want);
        v = 0.0 + (double)(ns * 7 % 99991) / 1e9;
        vg_prom_format_value(v, got);
        reference_value(v, want);
        assert_string_equal(got, want);
    }
    /* wall clock readings: seconds + ns / 1e9 */
    for (long i = 0; i < 100000; i++) {
        double v = 1795450000.0 + (double)(i * 7919) + (double)((i * 104729) % 1000000000) / 1e9;
        vg_prom_format_value(v, got);
        reference_value(v, want);
        assert_string_equal(got, want);
    }
    /* decimals of every scale, as counters and ratios produce them */
    srand(42);
    for (int i = 0; i < 300000; i++) {
        double v;
        int kind = i % 5;
        long r = rand();
        if (kind == 0)
            v = (double)r / 1e6;                  /* microseconds -> seconds */
        else if (kind == 1)
            v = (double)r / (double)(rand() | 1); /* arbitrary ratios */
        else if (kind == 2)
            v = (double)(r % 100000) / 1000.0 * ((r & 1) ? -1 : 1);
        else if (kind == 3)
            v = ldexp((double)r, (rand() % 120) - 80);
        else
            v = (double)(r % 10000000) / pow(10, 5 + r % 14); /* small decimals */
        vg_prom_format_value(v, got);
        reference_value(v, want);
        if (strcmp(got, want) != 0)
            fail_msg("%.17g: got %s want %s", v, got, want);
    }
}

static void test_negotiate(void **st)
{
    assert_int_equal(vg_prom_negotiate(NULL), VG_PROM_TEXT);
    assert_int_equal(vg_prom_negotiate("*/*"), VG_PROM_TEXT);
    assert_int_equal(vg_prom_negotiate("text/plain;version=0.0.4"), VG_PROM_TEXT);
    assert_int_equal(
        vg_prom_negotiate("application/openmetrics-text;version=1.0.0;q=0.5,text/plain;q=0.4"),
        VG_PROM_OPENMETRICS);
    assert_int_equal(vg_prom_negotiate("text/plain, application/openmetrics-text; q=0"),
                     VG_PROM_TEXT);
}

static void test_empty_family_skipped(void **st)
{
    vg_scrape *s;
    vg_scrape_new(&s);
    vg_scrape_family(s, "empty", VG_MT_GAUGE, "h", 0, NULL);
    vg_buf out = VG_BUF_INIT;
    assert_int_equal(vg_prom_encode(s, VG_PROM_TEXT, &out), 0);
    assert_int_equal(out.len, 0);
    vg_buf_release(&out);
    vg_scrape_free(s);
}

typedef struct pieces {
    vg_buf all;
    size_t calls, max_piece;
    size_t fail_at;              /* calls before the sink fails; 0 = never */
} pieces;

static int collect_piece(void *ud, const char *p, size_t n)
{
    pieces *pc = ud;
    pc->calls++;
    if (pc->fail_at && pc->calls >= pc->fail_at)
        return -EPIPE;
    assert_true(n > 0);
    assert_int_equal(p[n - 1], '\n'); /* pieces end at line ends */
    if (n > pc->max_piece)
        pc->max_piece = n;
    return vg_buf_append(&pc->all, p, n);
}

/* Streamed pieces add up to the whole exposition; a failing sink stops it. */
static void test_encode_stream(void **st)
{
    vg_scrape *s;
    vg_scrape_new(&s);
    vg_family *f = vg_scrape_family(s, "x_total", VG_MT_COUNTER, "x", 2,
                                    (const char *[]){"id", "v"});
    char id[64];
    for (int i = 0; i < 3000; i++) {
        snprintf(id, sizeof id, "/kubepods/pod%d", i / 3);
        vg_family_add(f, i, id, i % 3 == 0 ? "a\"b" : "plain");
    }
    vg_family *h = vg_scrape_family(s, "h_seconds", VG_MT_HISTOGRAM, "", 0, NULL);
    vg_family_add_histogram(h, (double[]){1, 2}, (uint64_t[]){1, 2}, 2, 3, 4, NULL);
    vg_scrape_add1(s, "a_gauge", VG_MT_GAUGE, "g", 1);
    for (int fmt = 0; fmt < 2; fmt++) {
        vg_buf whole = VG_BUF_INIT;
        assert_int_equal(vg_prom_encode(s, (vg_prom_format)fmt, &whole), 0);
        pieces pc = {VG_BUF_INIT, 0, 0, 0};
        assert_int_equal(vg_prom_encode_stream(s, (vg_prom_format)fmt, 4096, collect_piece, &pc), 0);
        assert_int_equal(pc.all.len, whole.len);
        assert_memory_equal(pc.all.data, whole.data, whole.len);
        assert_true(pc.calls > 10);
        assert_true(pc.max_piece < 4096 + 200); /* a piece passes the size by one line at most */
        vg_buf_release(&pc.all);

        pieces fail = {VG_BUF_INIT, 0, 0, 3};
        assert_int_equal(vg_prom_encode_stream(s, (vg_prom_format)fmt, 4096, collect_piece, &fail),
                         -EPIPE);
        assert_int_equal(fail.calls, 3);
        vg_buf_release(&fail.all);

        /* the caller's work buffer: same text, reused without growing */
        vg_buf work = VG_BUF_INIT;
        for (int round = 0; round < 3; round++) {
            pieces pw = {VG_BUF_INIT, 0, 0, 0};
            assert_int_equal(vg_prom_encode_stream_buf(s, (vg_prom_format)fmt, 4096,
                                                       collect_piece, &pw, &work),
                             0);
            assert_int_equal(pw.all.len, whole.len);
            assert_memory_equal(pw.all.data, whole.data, whole.len);
            vg_buf_release(&pw.all);
            static size_t cap0;
            if (round == 0)
                cap0 = work.cap;
            assert_int_equal(work.cap, cap0);
        }
        vg_buf_release(&work);
        vg_buf_release(&whole);
    }
    vg_scrape_free(s);
}

typedef struct pause_sink {
    vg_buf all;
    size_t calls;
    size_t pause_every;          /* ask to pause after every n-th piece */
    size_t fail_at;              /* this call fails; 0 = never */
} pause_sink;

static int pausing_piece(void *ud, const char *p, size_t n)
{
    pause_sink *ps = ud;
    ps->calls++;
    if (ps->fail_at && ps->calls == ps->fail_at)
        return -EPIPE;
    assert_int_equal(vg_buf_append(&ps->all, p, n), 0);
    return ps->calls % ps->pause_every == 0 ? VG_PROM_PAUSE : 0;
}

/*
 * The resumable encoder: paused after every piece (or every third), with
 * its work buffer scribbled on between runs and shared with a second
 * encoder of the same scrape running interleaved, it still writes the
 * exposition byte for byte; an error ends it for good.
 */
static void test_encode_resumable(void **st)
{
    vg_scrape *s;
    vg_scrape_new(&s);
    vg_family *f = vg_scrape_family(s, "x_total", VG_MT_COUNTER, "x", 1, (const char *[]){"id"});
    char id[64];
    for (int i = 0; i < 2000; i++) {
        snprintf(id, sizeof id, "/kubepods/pod%d", i);
        vg_family_add(f, i, id);
    }
    vg_family *h = vg_scrape_family(s, "h_seconds", VG_MT_HISTOGRAM, "h", 1, (const char *[]){"k"});
    for (int i = 0; i < 300; i++) {
        snprintf(id, sizeof id, "k%d", i);
        vg_family_add_histogram(h, (double[]){1, 2}, (uint64_t[]){1, 2}, 2, 3, 4,
                                (const char *[]){id});
    }
    vg_scrape_family(s, "e_empty", VG_MT_GAUGE, "never written", 0, NULL);
    vg_scrape_add1(s, "a_gauge", VG_MT_GAUGE, "g", 1);
    vg_scrape_add1(s, "z_last", VG_MT_GAUGE, "z", 2);
    for (int fmt = 0; fmt < 2; fmt++) {
        vg_buf whole = VG_BUF_INIT;
        assert_int_equal(vg_prom_encode(s, (vg_prom_format)fmt, &whole), 0);
        for (size_t every = 1; every <= 3; every += 2) {
            vg_prom_enc *e1 = NULL, *e2 = NULL;
            assert_int_equal(vg_prom_enc_new(s, (vg_prom_format)fmt, 1000, &e1), 0);
            assert_int_equal(vg_prom_enc_new(s, (vg_prom_format)fmt, 3000, &e2), 0);
            pause_sink p1 = {VG_BUF_INIT, 0, every, 0}, p2 = {VG_BUF_INIT, 0, 1, 0};
            vg_buf work = VG_BUF_INIT;
            int r1 = VG_PROM_PAUSED, r2 = VG_PROM_PAUSED;
            size_t runs = 0;
            while (r1 == VG_PROM_PAUSED || r2 == VG_PROM_PAUSED) {
                if (r1 == VG_PROM_PAUSED)
                    r1 = vg_prom_enc_run(e1, &work, pausing_piece, &p1);
                vg_buf_reset(&work);
                assert_int_equal(vg_buf_puts(&work, "garbage that must not leak\n"), 0);
                if (r2 == VG_PROM_PAUSED)
                    r2 = vg_prom_enc_run(e2, &work, pausing_piece, &p2);
                runs++;
            }
            assert_int_equal(r1, 0);
            assert_int_equal(r2, 0);
            assert_true(runs > 20);
            assert_int_equal(p1.all.len, whole.len);
            assert_memory_equal(p1.all.data, whole.data, whole.len);
            assert_int_equal(p2.all.len, whole.len);
            assert_memory_equal(p2.all.data, whole.data, whole.len);
            /* done is done */
            size_t calls = p1.calls;
            assert_int_equal(vg_prom_enc_run(e1, &work, pausing_piece, &p1), 0);
            assert_int_equal(p1.calls, calls);
            vg_prom_enc_free(e1);
            vg_prom_enc_free(e2);
            vg_buf_release(&work);
            vg_buf_release(&p1.all);
            vg_buf_release(&p2.all);
        }
        /* a sink error ends the encoding; it stays ended */
        vg_prom_enc *e = NULL;
        assert_int_equal(vg_prom_enc_new(s, (vg_prom_format)fmt, 1000, &e), 0);
        pause_sink pf = {VG_BUF_INIT, 0, 2, 5};
        vg_buf work = VG_BUF_INIT;
        assert_int_equal(vg_prom_enc_run(e, &work, pausing_piece, &pf), VG_PROM_PAUSED);
        assert_int_equal(vg_prom_enc_run(e, &work, pausing_piece, &pf), VG_PROM_PAUSED);
        assert_int_equal(vg_prom_enc_run(e, &work, pausing_piece, &pf), -EPIPE);
        assert_int_equal(pf.calls, 5);
        assert_int_equal(vg_prom_enc_run(e, &work, pausing_piece, &pf), -EPIPE);
        assert_int_equal(pf.calls, 5);
        vg_prom_enc_free(e);
        vg_prom_enc_free(NULL);
        vg_buf_release(&work);
        vg_buf_release(&pf.all);
        vg_buf_release(&whole);
    }
    vg_scrape_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_encoding),
        cmocka_unit_test(test_openmetrics_encoding),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_values_match_printf),
        cmocka_unit_test(test_negotiate),
        cmocka_unit_test(test_empty_family_skipped),
        cmocka_unit_test(test_encode_stream),
        cmocka_unit_test(test_encode_resumable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
