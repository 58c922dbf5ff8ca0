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
 * during the call. 0 to go on, a negative errno to stop the encoder.
 */
typedef int (*vg_prom_sink)(void *ud, const char *p, size_t n);

/*
 * The same exposition as vg_prom_encode, handed to sink in pieces of
 * about piece bytes (a piece ends at a line end; it may pass piece by one
 * line), so the whole text never sits in memory. 0, -ENOMEM, or the
 * sink's error (nothing more is encoded after it).
 */
int vg_prom_encode_stream(vg_scrape *s, vg_prom_format fmt, size_t piece, vg_prom_sink sink,
                          void *ud);

/* vg_prom_encode_stream with the caller's work buffer (reset here, its
 * memory kept for the next call: no allocation per scrape). */
int vg_prom_encode_stream_buf(vg_scrape *s, vg_prom_format fmt, size_t piece,
                              vg_prom_sink sink, void *ud, vg_buf *work);

/*
 * Format a sample value the way Prometheus parses it: integers exactly,
 * otherwise the shortest round-tripping form; NaN, +Inf, -Inf.
 * buf must hold 32 bytes; returns the length.
 */
int vg_prom_format_value(double v, char *buf);

#endif
