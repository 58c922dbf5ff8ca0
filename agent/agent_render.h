/*
 * agent_render.h - a /metrics answer encoded and gzip-compressed ahead.
 *
 * When a collection is made ahead of a steady scraper that accepts gzip
 * (Prometheus always does), the collection thread also encodes the
 * exposition and compresses it, so the scrape is answered by sending the
 * prepared bytes (about a seventh of the text) instead of encoding and
 * compressing megabytes of text on the loop thread while the scraper
 * waits. Only the compressed form is kept: an uncompressed copy would cost
 * as much memory as the whole text.
 */
#ifndef AGENT_RENDER_H
#define AGENT_RENDER_H

#include <stdbool.h>

#include "vg_buf.h"
#include "vg_metrics.h"
#include "vg_prom.h"

/* Caller's storage. body is a whole gzip stream when ready; it is made in
 * one allocation sized from the last answer (growing it by doubling would
 * copy it and leave freed pieces behind) and freed by agent_render_release. */
typedef struct agent_render {
    vg_buf body;
    vg_prom_format fmt;
    bool ready;
    size_t last_len;
} agent_render;

void agent_render_init(agent_render *r);
/* Forget the answer and free its memory (the scrape it came from changed,
 * or the end); r stays usable and remembers the last answer's size. */
void agent_render_release(agent_render *r);

/*
 * Encode s in fmt and compress it at gzip level into r, replacing what r
 * held. work is the caller's encoding buffer (kept between calls). Returns
 * 0, -EINVAL (bad level), -ENOMEM or -EIO; on failure r holds nothing
 * (ready false, body freed).
 */
int agent_render_make(agent_render *r, vg_scrape *s, vg_prom_format fmt, int level, vg_buf *work);

#endif
