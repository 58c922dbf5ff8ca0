/*
 * agent_render.c - a /metrics answer compressed ahead (agent_render.h).
 */
#include "agent_render.h"

#include <errno.h>

#include "vg_gzip.h"

#define RENDER_PIECE (64u * 1024u)

typedef struct sink_ctx {
    vg_gzip_stream *g;
    vg_buf *out;
} sink_ctx;

static int to_gzip(void *ud, const char *p, size_t n)
{
    sink_ctx *c = ud;
    return vg_gzip_stream_write(c->g, p, n, 0, c->out);
}

void agent_render_init(agent_render *r)
{
    vg_buf_init(&r->body);
    r->fmt = VG_PROM_TEXT;
    r->ready = false;
    r->last_len = 0;
}

void agent_render_release(agent_render *r)
{
    vg_buf_release(&r->body);
    r->ready = false;
}

int agent_render_make(agent_render *r, vg_scrape *s, vg_prom_format fmt, int level, vg_buf *work)
{
    agent_render_release(r);
    sink_ctx c = {NULL, &r->body};
    /* room for the last answer and a little growth, in one allocation */
    int rc = vg_buf_reserve(&r->body, r->last_len + r->last_len / 16);
    if (!rc)
        rc = vg_gzip_stream_new(level, &c.g);
    if (!rc)
        rc = vg_prom_encode_stream_buf(s, fmt, RENDER_PIECE, to_gzip, &c, work);
    if (!rc)
        rc = vg_gzip_stream_write(c.g, NULL, 0, 1, &r->body);
    vg_gzip_stream_free(c.g);
    if (rc) {
        agent_render_release(r);
        return rc;
    }
    r->fmt = fmt;
    r->ready = true;
    r->last_len = r->body.len;
    return 0;
}
