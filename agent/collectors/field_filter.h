/*
 * field_filter.h - the "which fields to report" filter of the vmstat and
 * netstat collectors (--collector.vmstat.fields, --collector.netstat.fields).
 *
 * node_exporter takes a Go regular expression. Matching a regex per field
 * per scrape is the costliest part of those collectors, so the default
 * pattern is matched by a hand-written function the collector supplies
 * (tested to agree with the pattern); only a user-supplied pattern is
 * compiled, once, as a POSIX extended regex (\d and \w are translated;
 * other Go-only syntax such as (?i) is rejected as invalid).
 */
#ifndef FIELD_FILTER_H
#define FIELD_FILTER_H

#include <regex.h>
#include <stdbool.h>

typedef bool (*field_filter_builtin_fn)(const char *name);

/* Caller's storage; _init then _release. Not thread-safe (one collector). */
typedef struct field_filter {
    const char *def;                 /* the default pattern (static string) */
    field_filter_builtin_fn builtin; /* matches exactly what def matches */
    char *pattern;                   /* user pattern in effect (heap), or NULL */
    regex_t re;                      /* compiled pattern when pattern != NULL */
} field_filter;

void field_filter_init(field_filter *f, const char *def, field_filter_builtin_fn builtin);
void field_filter_release(field_filter *f);

/*
 * Switch to pattern (NULL, "" or the default = the built-in matcher).
 * Returns 0, -EINVAL for a pattern that does not compile, -ENOMEM; on
 * failure the filter keeps its previous pattern.
 */
int field_filter_set(field_filter *f, const char *pattern);

/*
 * An exclude/include pair (node_exporter's --collector.X.device-exclude and
 * -include): a non-empty include with an exclude the user set (not the
 * default) is refused with -EINVAL, as node_exporter refuses it; else both
 * are switched as by field_filter_set (same errors).
 */
int field_filter_pair_set(field_filter *exclude, field_filter *include, const char *exclude_pattern,
                          bool exclude_is_default, const char *include_pattern);

/*
 * Heap filter for a collector's state: _init then _set(pattern). 0 and
 * *out, or field_filter_set's error (nothing allocated). Free with
 * field_filter_free, which also takes NULL (the collector release hook).
 */
int field_filter_new(const char *def, field_filter_builtin_fn builtin, const char *pattern, field_filter **out);
void field_filter_free(void *f);

/*
 * For a cache made for one filter (a kept parse plan): field_filter_pattern_dup
 * gives its own copy of the pattern f selects with (*out NULL for the
 * default; f NULL counts as the default; 0 or -ENOMEM, *out NULL then), and
 * field_filter_uses whether f still selects with that copy.
 */
int field_filter_pattern_dup(const field_filter *f, char **out);
bool field_filter_uses(const field_filter *f, const char *pattern);

/* Whether the NUL-terminated field name is reported. */
bool field_filter_match(const field_filter *f, const char *name);

#endif
