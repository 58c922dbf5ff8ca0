/*
 * vg_prom.h - Prometheus exposition: text format 0.0.4 and OpenMetrics 1.0.0.
 *
 * The encoder writes a vg_scrape with families sorted by name, one
 * HELP/TYPE per family, label values and HELP escaped. Which format to use
 * is decided from the request's Accept header by vg_prom_negotiate.
 */
#ifndef VG_PROM_H
#define VG_PROM_H

#include <stdbool.h>
#include <stddef.h>

#include "vg_buf.h"
#include "vg_metrics.h"

#define VG_PROM_CT_TEXT "text/plain; version=0.0.4; charset=utf-8"
#define VG_PROM_CT_OPENMETRICS "application/openmetrics-text; version=1.0.0; charset=utf-8"

typedef enum {
    VG_PROM_TEXT = 0,
    VG_PROM_OPENMETRICS = 1,
} vg_prom_format;

/* OpenMetrics only when Accept names application/openmetrics-text with q > 0. */
vg_prom_format vg_prom_negotiate(const char *accept);

/* Append the exposition of s to out. 0 or -ENOMEM (out may hold a prefix). */
int vg_prom_encode(vg_scrape *s, vg_prom_format fmt, vg_buf *out);

/*
 * Where vg_prom_encode_stream hands its text: n > 0 bytes, valid only
 * during the call. 0 to go on, a negative errno to stop the encoder,
 * VG_PROM_PAUSE to have vg_prom_enc_run return after this piece.
 */
typedef int (*vg_prom_sink)(void *ud, const char *p, size_t n);
#define VG_PROM_PAUSE 1

/*
 * The same exposition as vg_prom_encode, handed to sink in pieces of
 * about piece bytes (a piece ends at a line end; it may pass piece by one
 * line), so the whole text never sits in memory. 0, -ENOMEM, or the
 * sink's error (nothing more is encoded after it). All in this one call:
 * a VG_PROM_PAUSE from the sink is taken as 0.
 */
int vg_prom_encode_stream(vg_scrape *s, vg_prom_format fmt, size_t piece, vg_prom_sink sink,
                          void *ud);

/* vg_prom_encode_stream with the caller's work buffer (reset here, its
 * memory kept for the next call: no allocation per scrape). */
int vg_prom_encode_stream_buf(vg_scrape *s, vg_prom_format fmt, size_t piece,
                              vg_prom_sink sink, void *ud, vg_buf *work);

/*
 * A resumable encoding, for an answer that waits for a slow reader: the
 * exposition of s handed to a sink in pieces of about piece bytes over as
 * many vg_prom_enc_run calls as the sink asks for (by returning
 * VG_PROM_PAUSE), the text byte for byte what vg_prom_encode writes.
 *
 * s is read until vg_prom_enc_free: it must not change meanwhile (no
 * family or sample added, no reset, not freed). new: 0 and *out, or
 * -ENOMEM (*out untouched).
 *
 * run: go on from where the last call stopped. work is scratch memory
 * (reset here, its memory kept): it holds nothing between calls, so one
 * buffer may serve every encoder of a thread. Returns 0 when the whole
 * exposition has been handed to the sink (later calls do nothing and
 * return 0), VG_PROM_PAUSED when the sink asked to pause after a piece
 * that was not the last, or -ENOMEM / the sink's negative error: the
 * encoding is then over and later calls return that error.
 */
#define VG_PROM_PAUSED 1
typedef struct vg_prom_enc vg_prom_enc;
int vg_prom_enc_new(vg_scrape *s, vg_prom_format fmt, size_t piece, vg_prom_enc **out);
int vg_prom_enc_run(vg_prom_enc *e, vg_buf *work, vg_prom_sink sink, void *ud);
void vg_prom_enc_free(vg_prom_enc *e);   /* NULL is fine */

/*
 * Format a sample value the way Prometheus parses it: integers exactly,
 * otherwise the shortest round-tripping form; NaN, +Inf, -Inf.
 * buf must hold 32 bytes; returns the length.
 */
int vg_prom_format_value(double v, char *buf);

#endif
