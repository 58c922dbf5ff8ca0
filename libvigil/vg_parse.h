/*
 * vg_parse.h - small, strict helpers for parsing kernel text files.
 *
 * All helpers work on (pointer, length) slices of an input buffer that is
 * never modified, so a truncated or garbled /proc file cannot make a parser
 * read past its end. Number parsers reject empty input, trailing garbage
 * and overflow (-ERANGE) instead of silently clamping.
 */
#ifndef VG_PARSE_H
#define VG_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct vg_slice {
    const char *p;
    size_t n;
} vg_slice;

/* Line iterator over buf[0..len): yields lines without the '\n'. */
typedef struct vg_lines {
    const char *p;
    const char *end;
} vg_lines;

void vg_lines_init(vg_lines *it, const char *buf, size_t len);
bool vg_lines_next(vg_lines *it, vg_slice *line);

/*
 * Split a line on runs of spaces/tabs into at most max fields; returns the
 * number of fields found (fields beyond max are not counted).
 */
size_t vg_fields(vg_slice line, vg_slice *fields, size_t max);

/*
 * The field at or after line.p[*pos] (blanks as vg_fields: space, tab,
 * '\r', '\n'); *pos moves past it and the blanks after it. An empty slice
 * when only blanks are left. For walking a line field by field in place.
 */
vg_slice vg_field_next(vg_slice line, size_t *pos);

/*
 * Whether line is name (nlen bytes), at least one blank, one field and
 * nothing else but blanks; that field in *value. Parse plans use it to
 * check a "name value" line against the one they were made from.
 */
bool vg_line_name_value(vg_slice line, const char *name, size_t nlen, vg_slice *value);

/* Trim spaces, tabs, '\r' and '\n' from both ends. */
vg_slice vg_slice_trim(vg_slice s);
bool vg_slice_eq(vg_slice s, const char *lit);
bool vg_slice_has_prefix(vg_slice s, const char *lit);
/* Copy into out (NUL-terminated, truncated to outlen-1); returns out. */
char *vg_slice_copy(vg_slice s, char *out, size_t outlen);

/* Strict decimal parsers; 0, -EINVAL (not a number) or -ERANGE. */
int vg_parse_u64(vg_slice s, uint64_t *out);
int vg_parse_i64(vg_slice s, int64_t *out);
int vg_parse_double(vg_slice s, double *out);
/* Hexadecimal (optional 0x prefix). */
int vg_parse_hex_u64(vg_slice s, uint64_t *out);

/* Convenience: parse a C string. */
int vg_parse_u64_str(const char *s, uint64_t *out);

/*
 * Parse "key value" style (/proc/meminfo-like) or "key=value" is up to the
 * caller; this finds the first ':' and returns key and trimmed rest.
 */
bool vg_split_colon(vg_slice line, vg_slice *key, vg_slice *rest);

/* Unescape octal escapes used in /proc/self/mountinfo ("\040" -> ' '). */
void vg_unescape_octal(char *s);

#endif
