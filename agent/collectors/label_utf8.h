/*
 * label_utf8.h - make arbitrary bytes a valid UTF-8 label value.
 *
 * Label values come from files the kernel, udev and drivers fill with
 * whatever bytes they like (hwmon labels, udev model strings, mount points,
 * interface aliases). Prometheus rejects a scrape whose label value is not
 * UTF-8, so collectors pass such strings through here first. Same rule as
 * Go's strings.ToValidUTF8(s, "\uFFFD"), which node_exporter applies to
 * hwmon labels: each run of invalid bytes becomes one U+FFFD.
 */
#ifndef LABEL_UTF8_H
#define LABEL_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length of the valid UTF-8 sequence at p[0..n) (n >= 1), 0 when invalid. */
size_t label_utf8_seq_len(const unsigned char *p, size_t n);

/* Whether s[0..n) is valid UTF-8. */
bool label_utf8_valid(const char *s, size_t n);

/*
 * Copy in[0..n) to out (outlen bytes, NUL-terminated), replacing each run
 * of invalid bytes with U+FFFD; a NUL byte ends the value. The output is
 * cut at a character boundary when it does not fit. Returns out.
 */
char *label_utf8_copy(const char *in, size_t n, char *out, size_t outlen);

/*
 * In place for a NUL-terminated string that is usually valid: returns s
 * when it is, else sanitizes into buf (buflen bytes) and returns buf.
 */
const char *label_utf8(const char *s, char *buf, size_t buflen);

#endif
