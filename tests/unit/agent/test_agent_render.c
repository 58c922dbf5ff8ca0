/* Unit tests for the answer compressed ahead (agent/agent_render.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "agent_render.h"

/* gunzip r's body into out (NUL-terminated); returns its length */
static size_t gunzip(const agent_render *r, char *out, size_t cap)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(inflateInit2(&z, 16 + 15), Z_OK);
    z.next_in = (unsigned char *)r->body.data;
    z.avail_in = (uInt)r->body.len;
    z.next_out = (unsigned char *)out;
    z.avail_out = (uInt)(cap - 1);
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    assert_int_equal(z.avail_in, 0); /* nothing after the trailer */
    size_t n = z.total_out;
    inflateEnd(&z);
    out[n] = 0;
    return n;
}

/* A scrape large enough to span several 64 KiB pieces. */
static vg_scrape *big_scrape(void)
{
    vg_scrape *s;
    assert_int_equal(vg_scrape_new(&s), 0);
    const char *ln[] = {"id", "pod"};
    vg_family *f = vg_scrape_family(s, "container_memory_rss", VG_MT_GAUGE, "RSS.", 2, ln);
    vg_family *g = vg_scrape_family(s, "container_cpu_usage_seconds_total", VG_MT_COUNTER,
                                    "CPU.", 2, ln);
    char id[64], pod[32];
    for (int i = 0; i < 3000; i++) {
        snprintf(id, sizeof id, "/kubepods.slice/pod%04d.slice/cri-containerd-%08x", i, i * 7919);
        snprintf(pod, sizeof pod, "app-%d", i);
        assert_int_equal(vg_family_add(f, 1000.0 * i, id, pod), 0);
        assert_int_equal(vg_family_add(g, i / 3.0, id, pod), 0);
    }
    return s;
}

static void test_same_text_as_encoder(void **st)
{
    (void)st;
    vg_scrape *s = big_scrape();
    vg_buf want = VG_BUF_INIT, work = VG_BUF_INIT;
    agent_render r;
    agent_render_init(&r);
    size_t cap = 4u << 20;
    char *got = malloc(cap);
    assert_non_null(got);
    for (int fmt = VG_PROM_TEXT; fmt <= VG_PROM_OPENMETRICS; fmt++) {
        vg_buf_reset(&want);
        assert_int_equal(vg_prom_encode(s, (vg_prom_format)fmt, &want), 0);
        assert_true(want.len > 3 * 64 * 1024);
        assert_int_equal(agent_render_make(&r, s, (vg_prom_format)fmt, 3, &work), 0);
        assert_true(r.ready);
        assert_int_equal(r.fmt, fmt);
        assert_true(r.body.len < want.len / 4); /* compressed */
        assert_int_equal(gunzip(&r, got, cap), want.len);
        assert_memory_equal(got, want.data, want.len);
    }
    /* released: freed, but the next make is sized from this one */
    size_t last = r.body.len;
    agent_render_release(&r);
    assert_false(r.ready);
    assert_null(r.body.data);
    assert_int_equal(r.last_len, last);
    free(got);
    vg_buf_release(&want);
    vg_buf_release(&work);
    agent_render_release(&r);
    vg_scrape_free(s);
}

static void test_bad_level_leaves_nothing(void **st)
{
    (void)st;
    vg_scrape *s = big_scrape();
    vg_buf work = VG_BUF_INIT;
    agent_render r;
    agent_render_init(&r);
    assert_int_equal(agent_render_make(&r, s, VG_PROM_TEXT, 1, &work), 0);
    assert_true(r.ready);
    /* a failed make drops what was there: no stale answer is ever sent */
    assert_int_equal(agent_render_make(&r, s, VG_PROM_TEXT, 42, &work), -EINVAL);
    assert_false(r.ready);
    assert_int_equal(r.body.len, 0);
    agent_render_release(&r);
    vg_buf_release(&work);
    vg_scrape_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_text_as_encoder),
        cmocka_unit_test(test_bad_level_leaves_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
