/*
 * vg_metrics.h - metric families and samples, per scrape and long-lived.
 *
 * Two halves share one model:
 *
 *  - vg_scrape: the set of families one scrape produces. Collectors declare
 *    a family (name, type, help, label names) and add samples to it. All
 *    strings are copied into an arena owned by the scrape, reset (not freed)
 *    between scrapes so steady-state scrapes do not allocate. A family
 *    declared twice with the same type and labels is the same family (one
 *    HELP/TYPE); with a different type or label set it is a conflict. A
 *    series added twice (same family, same label values) is rejected with
 *    -EEXIST and counted: a duplicate series can never reach the output.
 *
 *  - vg_registry: long-lived counters, gauges and histograms a binary keeps
 *    about itself (HTTP requests, errors, workqueue...). Label sets are
 *    bounded by a per-vector cap; series beyond it are refused (-ENOSPC)
 *    and counted. Collected into a vg_scrape at scrape time. Thread-safe:
 *    one mutex per registry.
 *
 * Names are checked against the Prometheus grammar; label values may hold
 * any bytes except NUL and are escaped by the encoder (vg_prom.h).
 */
#ifndef VG_METRICS_H
#define VG_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    VG_MT_COUNTER = 0,
    VG_MT_GAUGE,
    VG_MT_HISTOGRAM,
    VG_MT_UNTYPED,
} vg_mtype;

#define VG_MAX_LABELS 16

/* ---------- per-scrape families ---------- */

typedef struct vg_scrape vg_scrape;
typedef struct vg_family vg_family;

/* Stats a scrape collected about itself (for logging/self-metrics). */
typedef struct vg_scrape_stats {
    uint64_t series;       /* samples accepted (a histogram series counts 1) */
    uint64_t duplicates;   /* series rejected as duplicates */
    uint64_t conflicts;    /* family redeclared with another type/labels */
    uint64_t invalid;      /* bad metric/label names, wrong label count */
} vg_scrape_stats;

int vg_scrape_new(vg_scrape **out);   /* 0 or -ENOMEM */
void vg_scrape_free(vg_scrape *s);
/* Forget all families/samples, keep the memory for the next scrape. */
void vg_scrape_reset(vg_scrape *s);
void vg_scrape_stats_get(const vg_scrape *s, vg_scrape_stats *out);

/*
 * Declare (or find) a family. label_names has nlabels entries (<= 16).
 * Returns NULL on conflict, invalid name or out of memory (counted in the
 * stats); callers may pass that NULL on to vg_family_add*, which then do
 * nothing and return -EINVAL - so collectors need not check every call.
 */
vg_family *vg_scrape_family(vg_scrape *s, const char *name, vg_mtype type,
                            const char *help, size_t nlabels,
                            const char *const *label_names);

/* Convenience for unlabelled families: one call declares and sets. */
int vg_scrape_add1(vg_scrape *s, const char *name, vg_mtype type,
                   const char *help, double value);

/*
 * The scrape's own copy of label value v (NULL = ""), valid until the next
 * reset. A collector that uses one value for many series (a container's
 * id in its 30-odd families) interns it once and passes the copy, which
 * vg_family_add* then take without copying, hashing or comparing it again.
 * Out of memory: v itself is returned (still a valid value).
 */
const char *vg_scrape_intern(vg_scrape *s, const char *v);

/*
 * Add one sample. values has the family's nlabels entries (NULL = "").
 * Returns 0, -EEXIST (duplicate series, dropped), -EINVAL, -ENOMEM.
 */
int vg_family_addv(vg_family *f, double value, const char *const *values);
/* Variadic form: exactly nlabels const char * label values follow. */
int vg_family_add(vg_family *f, double value, ...);

/*
 * Histogram sample: n finite upper bounds (ascending), cumulative counts per
 * bound, then the +Inf count (== count), sum. Family must be VG_MT_HISTOGRAM.
 */
int vg_family_add_histogram(vg_family *f, const double *bounds,
                            const uint64_t *cumulative, size_t n,
                            uint64_t count, double sum,
                            const char *const *values);

/* Read-only iteration (used by the encoder and tests). */
size_t vg_scrape_family_count(const vg_scrape *s);
/* Families sorted by name; valid until the next change to s. */
const vg_family *const *vg_scrape_families_sorted(vg_scrape *s);
const vg_family *vg_scrape_find(const vg_scrape *s, const char *name);

const char *vg_family_name(const vg_family *f);
const char *vg_family_help(const vg_family *f);
/* strlen of the name, O(1). */
size_t vg_family_name_len(const vg_family *f);
/* strlen of the help, O(1); *escape gets which bytes the encoders escape
 * occur in it: backslash or newline, double quote. */
#define VG_HELP_ESC_TEXT 1u
#define VG_HELP_ESC_QUOTE 2u
size_t vg_family_help_len(const vg_family *f, unsigned *escape);
vg_mtype vg_family_type(const vg_family *f);
size_t vg_family_nlabels(const vg_family *f);
const char *vg_family_label_name(const vg_family *f, size_t i);
size_t vg_family_sample_count(const vg_family *f);

typedef struct vg_sample_view {
    const char *const *values;   /* nlabels label values */
    double value;                /* counter/gauge/untyped */
    /* histogram only: */
    size_t nbuckets;
    const double *bounds;
    const uint64_t *cumulative;
    uint64_t count;
    double sum;
} vg_sample_view;

/*
 * Length of a label value taken from a vg_sample_view (only those: they are
 * the scrape's interned copies, which carry it), and whether it holds a
 * byte the exposition escapes (backslash, double quote, newline). O(1).
 */
size_t vg_label_value_len(const char *v, bool *needs_escape);

/* i-th sample in insertion order (O(i); prefer the iterator). */
void vg_family_sample(const vg_family *f, size_t i, vg_sample_view *out);

/* Walk samples in insertion order. */
typedef struct vg_sample_iter {
    const void *p;
    bool hist;        /* the family is a histogram */
} vg_sample_iter;
void vg_family_iter_init(const vg_family *f, vg_sample_iter *it);
bool vg_family_iter_next(vg_sample_iter *it, vg_sample_view *out);

/* Name grammar checks: [a-zA-Z_:][a-zA-Z0-9_:]* and [a-zA-Z_][a-zA-Z0-9_]*. */
bool vg_metric_name_valid(const char *name);
bool vg_label_name_valid(const char *name);

/* ---------- long-lived registry ---------- */

typedef struct vg_registry vg_registry;
typedef struct vg_metric vg_metric;   /* a labelled family in a registry */
typedef struct vg_series vg_series;   /* one label combination */

/* Called at collect time to add computed families (process_*, gauges read
 * from live state). Runs with the registry lock NOT held. */
typedef void (*vg_collect_fn)(vg_scrape *s, void *ud);

int vg_registry_new(vg_registry **out);
void vg_registry_free(vg_registry *r);

/*
 * Register a family. max_series caps distinct label combinations (0 = 1000).
 * buckets/nbuckets only for histograms (NULL = default latency buckets
 * .005 .01 .025 .05 .1 .25 .5 1 2.5 5 10). Registering a name again with
 * the same type, label names, buckets and cap returns the existing family
 * (so a component re-created on a config reload keeps counting into it).
 * Returns NULL on bad input, a name already registered with another
 * declaration, or no memory.
 */
vg_metric *vg_registry_add(vg_registry *r, const char *name, vg_mtype type,
                           const char *help, size_t nlabels,
                           const char *const *label_names,
                           const double *buckets, size_t nbuckets,
                           size_t max_series);

/*
 * The series for these label values, created on first use. NULL when the
 * cap is reached (counted in vigil_metrics_series_dropped_total) or m is NULL.
 * The pointer stays valid for the registry's lifetime.
 */
vg_series *vg_metric_with(vg_metric *m, const char *const *values);
/* Shorthand for a family with no labels. */
vg_series *vg_metric_series0(vg_metric *m);

/* All no-ops on NULL. */
void vg_series_inc(vg_series *s);
void vg_series_add(vg_series *s, double v);   /* counters: v >= 0 only */
void vg_series_set(vg_series *s, double v);   /* gauges */
void vg_series_observe(vg_series *s, double v); /* histograms */
double vg_series_value(vg_series *s);         /* counter/gauge value */

int vg_registry_add_collector(vg_registry *r, vg_collect_fn fn, void *ud);

/* Copy every family into s and run the collect callbacks. */
int vg_registry_collect(vg_registry *r, vg_scrape *s);

/* Default latency buckets (seconds), 11 bounds. */
extern const double vg_default_buckets[11];

#endif
