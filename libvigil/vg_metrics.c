/*
 * vg_metrics.c - per-scrape family sets (arena + hash sets) and the
 * long-lived registry.
 *
 * A scrape keeps every string in a chunked arena that is rewound, not
 * freed, between scrapes. Families are found by name through an open
 * addressing table; label values and label tuples are interned (one copy
 * per distinct value per scrape), and series are deduplicated by (family,
 * tuple pointer). Every table's slots carry a generation number, so
 * resetting a scrape is O(1) instead of clearing the tables.
 */
#include "vg_metrics.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const double vg_default_buckets[11] = {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};

/* ---------------- arena ---------------- */

#define CHUNK_SIZE (64u * 1024u)

typedef struct chunk {
    struct chunk *next;
    size_t cap;
    size_t used;
    /* max_align_t-aligned payload follows */
} chunk;

typedef struct arena {
    chunk *head;   /* first chunk; kept across resets */
    chunk *cur;
} arena;

static size_t align8(size_t n) { return (n + 7u) & ~(size_t)7u; }

static void *arena_alloc(arena *a, size_t n)
{
    n = align8(n);
    chunk *c = a->cur;
    while (c && c->used + n > c->cap) {
        c = c->next;
        if (c)
            c->used = 0;
    }
    if (!c) {
        size_t cap = n > CHUNK_SIZE ? n : CHUNK_SIZE;
        c = malloc(sizeof(chunk) + cap);
        if (!c)
            return NULL;
        c->cap = cap;
        c->used = 0;
        c->next = NULL;
        if (a->cur) {
            /* splice after cur so later chunks are still reused */
            c->next = a->cur->next;
            a->cur->next = c;
        } else {
            a->head = c;
        }
    }
    a->cur = c;
    void *p = (char *)(c + 1) + c->used;
    c->used += n;
    return p;
}

static void arena_reset(arena *a)
{
    a->cur = a->head;
    if (a->head)
        a->head->used = 0;
}

static void arena_free(arena *a)
{
    chunk *c = a->head;
    while (c) {
        chunk *n = c->next;
        free(c);
        c = n;
    }
    a->head = a->cur = NULL;
}

/* ---------------- scrape ---------------- */

/*
 * Label values are interned per scrape: each distinct string is copied
 * into the arena once, and a sample's label tuple (an array of interned
 * pointers) is itself interned, so the 30-odd families a container emits
 * share one tuple and one copy of its id/name/image strings. Series
 * identity is then (family, tuple pointer): hashing and comparing a series
 * never touches the strings again.
 */

typedef struct hist {
    size_t nb;
    double *bounds;
    uint64_t *cum;
    uint64_t count;
    double sum;
} hist;

/* 24 bytes: a scrape of 500 pods holds ~28k of them. The family's type
 * says which member of u is live. */
typedef struct sample {
    struct sample *next;
    const char *const *values;   /* interned tuple; NULL without labels */
    union {
        double value;            /* counter, gauge, untyped */
        hist *h;                 /* histogram */
    } u;
} sample;

struct fam_meta;

struct vg_family {
    vg_scrape *s;
    const struct fam_meta *meta; /* name, help and labels live there */
    uint64_t hash;               /* hash_str of the name */
    size_t name_len;
    const char *name;
    const char *help;
    vg_mtype type;
    size_t nlabels;
    const char **label_names;
    sample *head;
    sample *tail;
    size_t nsamples;
};

/* Open-addressing tables share one layout: a generation stamp marks a slot
 * used in the current scrape, so a reset needs no clearing. */
typedef struct series_slot {
    uint32_t gen;
    uint32_t hash;
    const vg_family *fam;
    const char *const *tuple;
} series_slot;

typedef struct str_slot {
    uint32_t gen;
    uint32_t len;
    uint64_t hash;
    const char *s;
} str_slot;

typedef struct tuple_slot {
    uint32_t gen;
    uint32_t n;
    uint64_t hash;
    const char *const *vals;
} tuple_slot;

/*
 * Every interned tuple is preceded in the arena by its meta: the families
 * that already have a series with it. Deduplication then scans this short,
 * local list (a container's tuple serves its ~30 families) instead of
 * probing a scrape-wide table at a random, usually uncached, slot. A tuple
 * used by more than TUPLE_FAMS_MAX families goes on in the series table.
 */
#define TUPLE_FAMS_MAX 64
#define TUPLE_FAMS_INLINE 8     /* most tuples (a cpu, device or interface) */
#define TUPLE_FAMS_GROWN 32     /* a container's ~30 families: one step */
typedef struct tuple_meta {
    const vg_family **fams;     /* inl, or an arena array once grown */
    uint32_t n, cap;
    bool overflow;              /* further series of this tuple: series table */
    const vg_family *inl[TUPLE_FAMS_INLINE];
} tuple_meta;

/* A kept sort position: the directory slot and the meta it held then. A
 * meta's name never changes (another declaration makes a new meta), so
 * the same metas in the same slots are still in name order. */
struct order_ent {
    uint32_t slot;
    const struct fam_meta *meta;
};

/*
 * Family directory. What a family is - name, type, help, label names - is
 * kept across resets in its meta (validated once, strings copied once),
 * since a scrape declares the same families as the last one: declaring a
 * known family again compares it with its meta and allocates only the
 * per-scrape part. A slot's family is this scrape's when its gen matches.
 * A family declared with another help or label set replaces its meta (the
 * old one's memory stays in dir_ar until the directory is rebuilt, at a
 * reset, when such waste or families no longer declared pile up).
 */
typedef struct fam_meta {
    uint64_t hash;
    size_t name_len;
    const char *name;
    const char *help;
    size_t help_len;
    unsigned help_escape;     /* VG_HELP_ESC_* */
    vg_mtype type;
    size_t nlabels;
    const char **label_names;
} fam_meta;

typedef struct fam_slot {
    uint32_t gen;             /* scrape gen in which fam is live */
    const fam_meta *meta;     /* NULL: empty slot */
    vg_family *fam;
} fam_slot;

/* Rebuild the directory at a reset past these (families never declared
 * again, replaced metas): it only ever grows otherwise. */
#define DIR_REPLACED_MAX 1024u
#define DIR_SLACK 4096u

/* Direct-mapped memo of caller pointer -> interned copy: collectors pass
 * the same buffers for many series in a row. Checked with strcmp, so a
 * buffer reused for another value only misses. */
#define RECENT_SLOTS 256
typedef struct recent {
    const char *src;
    const char *interned;
} recent;

struct vg_scrape {
    arena ar;
    uint32_t gen;             /* bumped on reset; slots from older gens are empty */
    fam_slot *dir;            /* family directory, open addressing by name hash */
    size_t dir_cap;
    size_t ndir;              /* slots holding a meta */
    arena dir_ar;             /* metas and their strings; kept across resets */
    size_t dir_replaced;      /* metas replaced (their memory is lost until a rebuild) */
    size_t nfams;             /* families declared in this scrape */
    series_slot *series;
    size_t series_cap;
    size_t nseries;
    str_slot *strs;
    size_t strs_cap;
    size_t nstrs;
    tuple_slot *tuples;
    size_t tuples_cap;
    size_t ntuples;
    recent recent[RECENT_SLOTS];
    vg_family **sorted;       /* family list, sorted on demand */
    size_t sorted_cap;
    size_t sorted_n;
    int sorted_valid;
    /* The last sort, as family table slots in name order, kept across
     * resets: a scrape declaring the same families in the same order puts
     * them in the same slots, and then needs a check, not a sort. */
    struct order_ent *order;
    size_t order_n;           /* 0: none (reset when the table is rebuilt) */
    vg_scrape_stats stats;
};

#define HASH_SEED 1469598103934665603ull
#define HASH_MUL 0x9e3779b97f4a7c15ull

static uint64_t mix64(uint64_t h)
{
    h ^= h >> 32;
    h *= HASH_MUL;
    h ^= h >> 29;
    return h;
}

/* Eight bytes per step: label values are long (cgroup paths, ids). */
static uint64_t hash_str(const char *p, size_t n)
{
    uint64_t h = HASH_SEED ^ (n * HASH_MUL);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * HASH_MUL;
        h ^= h >> 31;
        p += 8;
        n -= 8;
    }
    if (n) {
        uint64_t w = 0;
        memcpy(&w, p, n);
        h = (h ^ w) * HASH_MUL;
    }
    return mix64(h);
}

static uint64_t hash_ptrs(uint64_t h, const void *const *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint64_t)(uintptr_t)p[i]) * HASH_MUL;
    return mix64(h);
}

int vg_scrape_new(vg_scrape **out)
{
    vg_scrape *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->gen = 1;
    *out = s;
    return 0;
}

void vg_scrape_free(vg_scrape *s)
{
    if (!s)
        return;
    arena_free(&s->ar);
    arena_free(&s->dir_ar);
    free(s->dir);
    free(s->series);
    free(s->strs);
    free(s->tuples);
    free(s->sorted);
    free(s->order);
    free(s);
}

static void dir_clear(vg_scrape *s);

void vg_scrape_reset(vg_scrape *s)
{
    arena_reset(&s->ar);
    if (s->dir_replaced > DIR_REPLACED_MAX || s->ndir > 4 * s->nfams + DIR_SLACK)
        dir_clear(s);
    if (++s->gen == 0) {
        /* 2^32 scrapes: stale stamps could match again, clear them once */
        for (size_t i = 0; i < s->dir_cap; i++)
            s->dir[i].gen = 0;
        if (s->series_cap)
            memset(s->series, 0, s->series_cap * sizeof *s->series);
        if (s->strs_cap)
            memset(s->strs, 0, s->strs_cap * sizeof *s->strs);
        if (s->tuples_cap)
            memset(s->tuples, 0, s->tuples_cap * sizeof *s->tuples);
        s->gen = 1;
        s->order_n = 0;
    }
    s->nfams = 0;
    s->nseries = 0;
    s->nstrs = 0;
    s->ntuples = 0;
    memset(s->recent, 0, sizeof s->recent);
    s->sorted_n = 0;
    s->sorted_valid = 0;
    memset(&s->stats, 0, sizeof s->stats);
}

void vg_scrape_stats_get(const vg_scrape *s, vg_scrape_stats *out) { *out = s->stats; }

/* Name characters: NAME_FIRST/NAME_NEXT for metric names, LABEL_FIRST/
 * LABEL_NEXT for label names (ASCII; bytes >= 128 are never valid). */
enum { NAME_FIRST = 1, NAME_NEXT = 2, LABEL_FIRST = 4, LABEL_NEXT = 8 };
static const unsigned char name_chars[128] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 3, 0, 0, 0, 0, 0,
    0, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,
    15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 0, 0, 0, 0, 15,
    0, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,
    15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 0, 0, 0, 0, 0,
};

/* Length of name when it matches the class bits (first, next), else 0. */
static size_t name_check(const char *name, unsigned first, unsigned next)
{
    const unsigned char *p = (const unsigned char *)name;
    if (!p || *p >= 128 || !(name_chars[*p] & first))
        return 0;
    for (p++; *p; p++)
        if (*p >= 128 || !(name_chars[*p] & next))
            return 0;
    return (size_t)(p - (const unsigned char *)name);
}

bool vg_metric_name_valid(const char *name)
{
    return name_check(name, NAME_FIRST, NAME_NEXT) != 0;
}

bool vg_label_name_valid(const char *name)
{
    return name_check(name, LABEL_FIRST, LABEL_NEXT) != 0 && !(name[0] == '_' && name[1] == '_');
}

/* Forget every meta (no family of the current scrape may be live). */
static void dir_clear(vg_scrape *s)
{
    arena_free(&s->dir_ar);
    if (s->dir_cap)
        memset(s->dir, 0, s->dir_cap * sizeof *s->dir);
    s->ndir = 0;
    s->dir_replaced = 0;
    s->order_n = 0;
}

static int dir_grow(vg_scrape *s)
{
    size_t ncap = s->dir_cap ? s->dir_cap * 2 : 512;
    fam_slot *nd = calloc(ncap, sizeof *nd);
    if (!nd)
        return -ENOMEM;
    for (size_t i = 0; i < s->dir_cap; i++) {
        if (!s->dir[i].meta)
            continue;
        size_t j = s->dir[i].meta->hash & (ncap - 1);
        while (nd[j].meta)
            j = (j + 1) & (ncap - 1);
        nd[j] = s->dir[i];
    }
    free(s->dir);
    s->dir = nd;
    s->dir_cap = ncap;
    s->order_n = 0; /* kept as slots */
    return 0;
}

/* The slot for name (len bytes, hash h): its own, or the empty one where it
 * would go. NULL only before the first growth. */
static fam_slot *dir_find(const vg_scrape *s, const char *name, size_t len, uint64_t h)
{
    if (!s->dir_cap)
        return NULL;
    size_t j = h & (s->dir_cap - 1);
    for (;; j = (j + 1) & (s->dir_cap - 1)) {
        const fam_meta *m = s->dir[j].meta;
        if (!m || (m->hash == h && m->name_len == len && memcmp(m->name, name, len) == 0))
            return &s->dir[j];
    }
}

static char *arena_memdup(arena *a, const char *p, size_t n)
{
    char *d = arena_alloc(a, n + 1);
    if (d) {
        memcpy(d, p, n);
        d[n] = '\0';
    }
    return d;
}

/* Whether a declaration is the one meta m records. */
static bool meta_same(const fam_meta *m, vg_mtype type, const char *help, size_t nlabels,
                      const char *const *label_names)
{
    if (m->type != type || m->nlabels != nlabels || strcmp(m->help, help) != 0)
        return false;
    for (size_t i = 0; i < nlabels; i++)
        if (strcmp(m->label_names[i], label_names[i]) != 0)
            return false;
    return true;
}

/* The full checks of a declaration not known yet (name already checked). */
static bool labels_valid(vg_mtype type, size_t nlabels, const char *const *label_names)
{
    for (size_t i = 0; i < nlabels; i++) {
        if (!vg_label_name_valid(label_names[i]) ||
            (type == VG_MT_HISTOGRAM && strcmp(label_names[i], "le") == 0))
            return false;
        for (size_t j = 0; j < i; j++)
            if (strcmp(label_names[i], label_names[j]) == 0)
                return false;
    }
    return true;
}

static const fam_meta *meta_new(vg_scrape *s, const char *name, size_t len, uint64_t h,
                                vg_mtype type, const char *help, size_t nlabels,
                                const char *const *label_names)
{
    arena *a = &s->dir_ar;
    fam_meta *m = arena_alloc(a, sizeof *m);
    if (!m)
        return NULL;
    m->hash = h;
    m->name_len = len;
    m->type = type;
    m->nlabels = nlabels;
    m->name = arena_memdup(a, name, len);
    m->help_len = strlen(help);
    m->help = arena_memdup(a, help, m->help_len);
    m->help_escape = (help[strcspn(help, "\\\n")] ? VG_HELP_ESC_TEXT : 0u) |
                     (strchr(help, '"') ? VG_HELP_ESC_QUOTE : 0u);
    m->label_names = NULL;
    if (nlabels) {
        m->label_names = arena_alloc(a, nlabels * sizeof(char *));
        if (!m->label_names)
            return NULL;
        for (size_t i = 0; i < nlabels; i++)
            if (!(m->label_names[i] = arena_memdup(a, label_names[i], strlen(label_names[i]))))
                return NULL;
    }
    return m->name && m->help ? m : NULL;
}

vg_family *vg_scrape_family(vg_scrape *s, const char *name, vg_mtype type,
                            const char *help, size_t nlabels,
                            const char *const *label_names)
{
    if (!s)
        return NULL;
    if (!name || nlabels > VG_MAX_LABELS || (nlabels && !label_names) ||
        (unsigned)type > VG_MT_UNTYPED) {
        s->stats.invalid++;
        return NULL;
    }
    for (size_t i = 0; i < nlabels; i++) {
        if (!label_names[i]) {
            s->stats.invalid++;
            return NULL;
        }
    }
    if (!help)
        help = "";
    size_t len = strlen(name);
    uint64_t h = hash_str(name, len);
    if ((s->ndir + 1) * 2 > s->dir_cap && dir_grow(s))
        goto nomem;
    fam_slot *sl = dir_find(s, name, len, h);
    const fam_meta *m = sl->meta;
    bool same = m && meta_same(m, type, help, nlabels, label_names);
    if (!same) {
        /* a name seen before was checked then; a new one, and any label
         * set not seen with it, is checked now */
        if ((!m && !name_check(name, NAME_FIRST, NAME_NEXT)) ||
            !labels_valid(type, nlabels, label_names)) {
            s->stats.invalid++;
            return NULL;
        }
    }
    if (m && sl->gen == s->gen) {
        /* declared before in this scrape: the same family, or a conflict
         * (the first declaration's help wins, as it always did) */
        bool labels_same = m->type == type && m->nlabels == nlabels;
        for (size_t i = 0; labels_same && i < nlabels; i++)
            labels_same = strcmp(m->label_names[i], label_names[i]) == 0;
        if (!labels_same) {
            s->stats.conflicts++;
            return NULL;
        }
        return sl->fam;
    }
    if (!same) {
        const fam_meta *nm = meta_new(s, name, len, h, type, help, nlabels, label_names);
        if (!nm)
            goto nomem;
        if (m)
            s->dir_replaced++;
        else
            s->ndir++;
        sl->meta = m = nm;
    }
    vg_family *f = arena_alloc(&s->ar, sizeof *f);
    if (!f)
        goto nomem;
    memset(f, 0, sizeof *f);
    f->s = s;
    f->hash = h;
    f->name_len = len;
    f->type = type;
    f->nlabels = nlabels;
    f->meta = m;
    f->name = m->name;
    f->help = m->help;
    f->label_names = m->label_names;
    sl->gen = s->gen;
    sl->fam = f;
    s->nfams++;
    s->sorted_valid = 0;
    return f;
nomem:
    s->stats.invalid++;
    return NULL;
}

static int strs_grow(vg_scrape *s)
{
    size_t ncap = s->strs_cap ? s->strs_cap * 2 : 1024;
    str_slot *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return -ENOMEM;
    for (size_t i = 0; i < s->strs_cap; i++) {
        if (s->strs[i].gen != s->gen)
            continue;
        size_t j = s->strs[i].hash & (ncap - 1);
        while (ns[j].gen == s->gen)
            j = (j + 1) & (ncap - 1);
        ns[j] = s->strs[i];
    }
    free(s->strs);
    s->strs = ns;
    s->strs_cap = ncap;
    return 0;
}

/* Precedes every interned string: what the encoder needs without a scan. */
typedef struct str_head {
    uint32_t len;
    uint32_t escape;            /* holds \\, " or a newline */
} str_head;

size_t vg_label_value_len(const char *v, bool *needs_escape)
{
    const str_head *hd = (const str_head *)(const void *)v - 1;
    *needs_escape = hd->escape != 0;
    return hd->len;
}

/* The scrape's copy of v (NULL = ""), made on first use. NULL: no memory. */
static const char *intern_str(vg_scrape *s, const char *v)
{
    if (!v)
        v = "";
    uintptr_t a = (uintptr_t)v;
    recent *r = &s->recent[((a >> 4) ^ (a >> 12)) & (RECENT_SLOTS - 1)];
    /* v is itself the interned copy (from vg_scrape_intern): immutable, no compare */
    if (r->src == v && (r->interned == v || strcmp(r->interned, v) == 0))
        return r->interned;
    size_t n = strlen(v);
    if (n > UINT32_MAX)
        return NULL;
    if ((s->nstrs + 1) * 4 > s->strs_cap * 3 && strs_grow(s)) /* load <= 3/4 */
        return NULL;
    uint64_t h = hash_str(v, n);
    size_t j = h & (s->strs_cap - 1);
    for (; s->strs[j].gen == s->gen; j = (j + 1) & (s->strs_cap - 1)) {
        const str_slot *o = &s->strs[j];
        if (o->hash == h && o->len == n && memcmp(o->s, v, n) == 0)
            goto found;
    }
    str_head *hd = arena_alloc(&s->ar, sizeof *hd + n + 1);
    if (!hd)
        return NULL;
    hd->len = (uint32_t)n;
    hd->escape = v[strcspn(v, "\\\"\n")] != '\0';
    char *p = (char *)(hd + 1);
    memcpy(p, v, n + 1);
    s->strs[j].gen = s->gen;
    s->strs[j].len = (uint32_t)n;
    s->strs[j].hash = h;
    s->strs[j].s = p;
    s->nstrs++;
found:
    r->src = v;
    r->interned = s->strs[j].s;
    return r->interned;
}

const char *vg_scrape_intern(vg_scrape *s, const char *v)
{
    const char *p = intern_str(s, v);
    if (!p)
        return v; /* no memory: the caller's string still works as a value */
    uintptr_t a = (uintptr_t)p;
    recent *r = &s->recent[((a >> 4) ^ (a >> 12)) & (RECENT_SLOTS - 1)];
    r->src = p;
    r->interned = p;
    return p;
}

static int tuples_grow(vg_scrape *s)
{
    size_t ncap = s->tuples_cap ? s->tuples_cap * 2 : 1024;
    tuple_slot *nt = calloc(ncap, sizeof *nt);
    if (!nt)
        return -ENOMEM;
    for (size_t i = 0; i < s->tuples_cap; i++) {
        if (s->tuples[i].gen != s->gen)
            continue;
        size_t j = s->tuples[i].hash & (ncap - 1);
        while (nt[j].gen == s->gen)
            j = (j + 1) & (ncap - 1);
        nt[j] = s->tuples[i];
    }
    free(s->tuples);
    s->tuples = nt;
    s->tuples_cap = ncap;
    return 0;
}

/* The shared copy of a tuple of n interned values. NULL: no memory. */
static const char *const *intern_tuple(vg_scrape *s, const char *const *vals, size_t n)
{
    if ((s->ntuples + 1) * 4 > s->tuples_cap * 3 && tuples_grow(s)) /* load <= 3/4 */
        return NULL;
    uint64_t h = hash_ptrs(HASH_SEED ^ n, (const void *const *)vals, n);
    size_t j = h & (s->tuples_cap - 1);
    for (; s->tuples[j].gen == s->gen; j = (j + 1) & (s->tuples_cap - 1)) {
        const tuple_slot *o = &s->tuples[j];
        if (o->hash == h && o->n == n && memcmp(o->vals, vals, n * sizeof *vals) == 0)
            return o->vals;
    }
    tuple_meta *m = arena_alloc(&s->ar, sizeof *m + n * sizeof(char *));
    if (!m)
        return NULL;
    memset(m, 0, sizeof *m);
    m->fams = m->inl;
    m->cap = TUPLE_FAMS_INLINE;
    const char **t = (const char **)(void *)(m + 1);
    memcpy(t, vals, n * sizeof *t);
    s->tuples[j].gen = s->gen;
    s->tuples[j].n = (uint32_t)n;
    s->tuples[j].hash = h;
    s->tuples[j].vals = t;
    s->ntuples++;
    return t;
}

static int series_grow(vg_scrape *s)
{
    size_t ncap = s->series_cap ? s->series_cap * 2 : 1024;
    series_slot *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return -ENOMEM;
    for (size_t i = 0; i < s->series_cap; i++) {
        const series_slot *o = &s->series[i];
        if (o->gen != s->gen)
            continue;
        size_t j = o->hash & (ncap - 1);
        while (ns[j].gen == s->gen)
            j = (j + 1) & (ncap - 1);
        ns[j] = *o;
    }
    free(s->series);
    s->series = ns;
    s->series_cap = ncap;
    return 0;
}

/* Claim the slot for (f, tuple); false when the series already exists. */
static bool series_claim(vg_scrape *s, const vg_family *f, const char *const *tuple)
{
    const void *key[2] = {f, tuple};
    uint32_t h = (uint32_t)hash_ptrs(HASH_SEED, key, 2);
    size_t j = h & (s->series_cap - 1);
    for (; s->series[j].gen == s->gen; j = (j + 1) & (s->series_cap - 1)) {
        const series_slot *o = &s->series[j];
        if (o->hash == h && o->fam == f && o->tuple == tuple)
            return false;
    }
    s->series[j].gen = s->gen;
    s->series[j].hash = h;
    s->series[j].fam = f;
    s->series[j].tuple = tuple;
    s->nseries++;
    return true;
}

static tuple_meta *tuple_meta_of(const char *const *tuple)
{
    return (tuple_meta *)(void *)tuple - 1;
}

/*
 * Claim the series (f, tuple): 1 claimed, 0 a duplicate, -ENOMEM. Without
 * labels a family has one series; with labels the tuple's family list
 * decides, then (past TUPLE_FAMS_MAX families) the series table.
 */
static int series_claim_any(vg_scrape *s, vg_family *f, const char *const *tuple)
{
    if (!tuple)
        return f->nsamples == 0;
    tuple_meta *m = tuple_meta_of(tuple);
    for (uint32_t i = 0; i < m->n; i++)
        if (m->fams[i] == f)
            return 0;
    if (!m->overflow && m->n == m->cap && m->cap < TUPLE_FAMS_MAX) {
        /* the arena keeps what is outgrown: few steps, the first one big */
        uint32_t ncap = m->cap < TUPLE_FAMS_GROWN ? TUPLE_FAMS_GROWN : TUPLE_FAMS_MAX;
        const vg_family **nf = arena_alloc(&s->ar, ncap * sizeof *nf);
        if (!nf)
            return -ENOMEM;
        if (m->n)
            memcpy(nf, m->fams, m->n * sizeof *nf);
        m->fams = nf;
        m->cap = ncap;
    }
    if (!m->overflow && m->n < m->cap) {
        m->fams[m->n++] = f;
        return 1;
    }
    m->overflow = true;
    if ((s->nseries + 1) * 2 > s->series_cap && series_grow(s))
        return -ENOMEM;
    return series_claim(s, f, tuple) ? 1 : 0;
}

static sample *sample_new(vg_family *f, const char *const *values)
{
    vg_scrape *s = f->s;
    const char *iv[VG_MAX_LABELS];
    const char *const *tuple = NULL;
    sample *smp = NULL;
    if (f->nlabels) {
        for (size_t i = 0; i < f->nlabels; i++) {
            iv[i] = intern_str(s, values[i]);
            if (!iv[i])
                goto nomem;
        }
        tuple = intern_tuple(s, iv, f->nlabels);
        if (!tuple)
            goto nomem;
    }
    int claimed = series_claim_any(s, f, tuple);
    if (claimed < 0)
        goto nomem;
    if (!claimed) {
        s->stats.duplicates++;
        errno = EEXIST;
        return NULL;
    }
    smp = arena_alloc(&s->ar, sizeof *smp);
    if (!smp)
        goto nomem; /* the claimed slot stays: the series is lost either way */
    smp->next = NULL;
    smp->values = tuple;
    if (f->type == VG_MT_HISTOGRAM)
        smp->u.h = NULL;
    else
        smp->u.value = 0;
    if (f->tail)
        f->tail->next = smp;
    else
        f->head = smp;
    f->tail = smp;
    f->nsamples++;
    s->stats.series++;
    return smp;
nomem:
    s->stats.invalid++;
    errno = ENOMEM;
    return NULL;
}

int vg_family_addv(vg_family *f, double value, const char *const *values)
{
    if (!f)
        return -EINVAL;
    if (f->type == VG_MT_HISTOGRAM || (f->nlabels && !values)) {
        f->s->stats.invalid++;
        return -EINVAL;
    }
    sample *smp = sample_new(f, values);
    if (!smp)
        return -errno;
    smp->u.value = value;
    return 0;
}

int vg_family_add(vg_family *f, double value, ...)
{
    if (!f)
        return -EINVAL;
    const char *vals[VG_MAX_LABELS];
    va_list ap;
    va_start(ap, value);
    for (size_t i = 0; i < f->nlabels; i++)
        vals[i] = va_arg(ap, const char *);
    va_end(ap);
    return vg_family_addv(f, value, vals);
}

int vg_scrape_add1(vg_scrape *s, const char *name, vg_mtype type, const char *help,
                   double value)
{
    vg_family *f = vg_scrape_family(s, name, type, help, 0, NULL);
    return vg_family_addv(f, value, NULL);
}

int vg_family_add_histogram(vg_family *f, const double *bounds, const uint64_t *cumulative,
                            size_t n, uint64_t count, double sum,
                            const char *const *values)
{
    if (!f)
        return -EINVAL;
    if (f->type != VG_MT_HISTOGRAM || (n && (!bounds || !cumulative)) ||
        (f->nlabels && !values)) {
        f->s->stats.invalid++;
        return -EINVAL;
    }
    for (size_t i = 1; i < n; i++) {
        if (!(bounds[i] > bounds[i - 1]) || cumulative[i] < cumulative[i - 1]) {
            f->s->stats.invalid++;
            return -EINVAL;
        }
    }
    if (n && cumulative[n - 1] > count) {
        f->s->stats.invalid++;
        return -EINVAL;
    }
    /* allocated before the sample so a failure leaves no half-made series */
    arena *ar = &f->s->ar;
    hist *h = arena_alloc(ar, sizeof *h);
    double *b = n ? arena_alloc(ar, n * sizeof(double)) : NULL;
    uint64_t *c = n ? arena_alloc(ar, n * sizeof(uint64_t)) : NULL;
    if (!h || (n && (!b || !c))) {
        f->s->stats.invalid++;
        return -ENOMEM;
    }
    sample *smp = sample_new(f, values);
    if (!smp)
        return -errno;
    if (n) {
        memcpy(b, bounds, n * sizeof(double));
        memcpy(c, cumulative, n * sizeof(uint64_t));
    }
    h->nb = n;
    h->bounds = b;
    h->cum = c;
    h->count = count;
    h->sum = sum;
    smp->u.h = h;
    return 0;
}

size_t vg_scrape_family_count(const vg_scrape *s) { return s->nfams; }

static int fam_cmp(const void *a, const void *b)
{
    const vg_family *fa = *(const vg_family *const *)a;
    const vg_family *fb = *(const vg_family *const *)b;
    return strcmp(fa->name, fb->name);
}

/* Fill s->sorted from the kept order when it still holds: the same number
 * of families, each kept slot live with the meta it had when sorted. */
static bool sorted_from_order(vg_scrape *s)
{
    if (!s->order_n || s->order_n != s->nfams)
        return false;
    for (size_t k = 0; k < s->order_n; k++) {
        const fam_slot *sl = &s->dir[s->order[k].slot];
        if (sl->meta != s->order[k].meta || sl->gen != s->gen)
            return false;
        s->sorted[k] = sl->fam;
    }
    return true;
}

/* Keep the sort just made as directory slots (no memory: keep none). */
static void order_keep(vg_scrape *s, size_t k)
{
    s->order_n = 0;
    struct order_ent *o = realloc(s->order, (k ? k : 1) * sizeof *o);
    if (!o)
        return;
    s->order = o;
    for (size_t i = 0; i < k; i++) {
        const vg_family *f = s->sorted[i];
        fam_slot *sl = dir_find(s, f->name, f->name_len, f->hash);
        o[i].slot = (uint32_t)(sl - s->dir);
        o[i].meta = sl->meta;
    }
    s->order_n = k;
}

const vg_family *const *vg_scrape_families_sorted(vg_scrape *s)
{
    if (s->sorted_valid)
        return (const vg_family *const *)s->sorted;
    if (s->nfams > s->sorted_cap) {
        size_t ncap = s->nfams * 2;
        vg_family **n = realloc(s->sorted, ncap * sizeof *n);
        if (!n)
            return NULL;
        s->sorted = n;
        s->sorted_cap = ncap;
    }
    if (!sorted_from_order(s)) {
        size_t k = 0;
        for (size_t i = 0; i < s->dir_cap; i++)
            if (s->dir[i].meta && s->dir[i].gen == s->gen)
                s->sorted[k++] = s->dir[i].fam;
        if (k)
            qsort(s->sorted, k, sizeof *s->sorted, fam_cmp);
        order_keep(s, k);
    }
    s->sorted_n = s->nfams;
    s->sorted_valid = 1;
    return (const vg_family *const *)s->sorted;
}

const vg_family *vg_scrape_find(const vg_scrape *s, const char *name)
{
    if (!name)
        return NULL;
    size_t len = strlen(name);
    const fam_slot *sl = dir_find(s, name, len, hash_str(name, len));
    return sl && sl->meta && sl->gen == s->gen ? sl->fam : NULL;
}

const char *vg_family_name(const vg_family *f) { return f->name; }
const char *vg_family_help(const vg_family *f) { return f->help; }
size_t vg_family_name_len(const vg_family *f) { return f->name_len; }

size_t vg_family_help_len(const vg_family *f, unsigned *escape)
{
    *escape = f->meta->help_escape;
    return f->meta->help_len;
}
vg_mtype vg_family_type(const vg_family *f) { return f->type; }
size_t vg_family_nlabels(const vg_family *f) { return f->nlabels; }
const char *vg_family_label_name(const vg_family *f, size_t i) { return f->label_names[i]; }
size_t vg_family_sample_count(const vg_family *f) { return f->nsamples; }

static void sample_view(const sample *smp, bool is_hist, vg_sample_view *out)
{
    memset(out, 0, sizeof *out);
    out->values = smp->values;
    if (!is_hist) {
        out->value = smp->u.value;
    } else if (smp->u.h) {
        const hist *h = smp->u.h;
        out->nbuckets = h->nb;
        out->bounds = h->bounds;
        out->cumulative = h->cum;
        out->count = h->count;
        out->sum = h->sum;
    }
}

void vg_family_sample(const vg_family *f, size_t i, vg_sample_view *out)
{
    const sample *smp = f->head;
    while (smp && i--)
        smp = smp->next;
    memset(out, 0, sizeof *out);
    if (smp)
        sample_view(smp, f->type == VG_MT_HISTOGRAM, out);
}

void vg_family_iter_init(const vg_family *f, vg_sample_iter *it)
{
    it->p = f->head;
    it->hist = f->type == VG_MT_HISTOGRAM;
}

bool vg_family_iter_next(vg_sample_iter *it, vg_sample_view *out)
{
    const sample *smp = it->p;
    if (!smp)
        return false;
    sample_view(smp, it->hist, out);
    it->p = smp->next;
    return true;
}

/* ---------------- registry ---------------- */

struct vg_series {
    vg_metric *m;
    vg_series *next;
    char **values;
    double value;
    uint64_t *buckets;   /* histogram: per-bucket (non-cumulative) counts */
    uint64_t count;
    double sum;
};

struct vg_metric {
    vg_registry *r;
    vg_metric *next;
    char *name;
    char *help;
    vg_mtype type;
    size_t nlabels;
    char **label_names;
    double *bounds;
    size_t nbounds;
    size_t max_series;
    size_t nseries;
    vg_series *head;
    vg_series *tail;
};

typedef struct collector_cb {
    vg_collect_fn fn;
    void *ud;
} collector_cb;

struct vg_registry {
    pthread_mutex_t mu;
    vg_metric *head;
    vg_metric *tail;
    collector_cb *cbs;
    size_t ncbs;
    uint64_t dropped;
};

int vg_registry_new(vg_registry **out)
{
    vg_registry *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    pthread_mutex_init(&r->mu, NULL);
    *out = r;
    return 0;
}

static void series_free(vg_series *s, size_t nlabels)
{
    for (size_t i = 0; i < nlabels; i++)
        free(s->values[i]);
    free(s->values);
    free(s->buckets);
    free(s);
}

static void metric_free(vg_metric *m)
{
    if (!m)
        return;
    vg_series *s = m->head;
    while (s) {
        vg_series *n = s->next;
        series_free(s, m->nlabels);
        s = n;
    }
    for (size_t i = 0; i < m->nlabels; i++)
        free(m->label_names[i]);
    free(m->label_names);
    free(m->bounds);
    free(m->name);
    free(m->help);
    free(m);
}

void vg_registry_free(vg_registry *r)
{
    if (!r)
        return;
    vg_metric *m = r->head;
    while (m) {
        vg_metric *n = m->next;
        metric_free(m);
        m = n;
    }
    free(r->cbs);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

/* Same type, labels and buckets (help may differ in wording only). */
static bool metric_same(const vg_metric *a, const vg_metric *b)
{
    if (a->type != b->type || a->nlabels != b->nlabels || a->nbounds != b->nbounds)
        return false;
    for (size_t i = 0; i < a->nlabels; i++)
        if (strcmp(a->label_names[i], b->label_names[i]) != 0)
            return false;
    for (size_t i = 0; i < a->nbounds; i++)
        if (a->bounds[i] != b->bounds[i])
            return false;
    return a->max_series == b->max_series;
}

vg_metric *vg_registry_add(vg_registry *r, const char *name, vg_mtype type, const char *help,
                           size_t nlabels, const char *const *label_names,
                           const double *buckets, size_t nbuckets, size_t max_series)
{
    if (!r || !vg_metric_name_valid(name) || nlabels > VG_MAX_LABELS ||
        (unsigned)type > VG_MT_UNTYPED)
        return NULL;
    for (size_t i = 0; i < nlabels; i++)
        if (!vg_label_name_valid(label_names[i]))
            return NULL;
    if (type == VG_MT_HISTOGRAM && !buckets) {
        buckets = vg_default_buckets;
        nbuckets = sizeof vg_default_buckets / sizeof vg_default_buckets[0];
    }
    for (size_t i = 1; type == VG_MT_HISTOGRAM && i < nbuckets; i++)
        if (!(buckets[i] > buckets[i - 1]))
            return NULL;

    vg_metric *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->r = r;
    m->type = type;
    m->max_series = max_series ? max_series : 1000;
    m->name = strdup(name);
    m->help = strdup(help ? help : "");
    m->nlabels = nlabels;
    if (nlabels) {
        m->label_names = calloc(nlabels, sizeof(char *));
        if (!m->label_names)
            goto fail;
        for (size_t i = 0; i < nlabels; i++)
            if (!(m->label_names[i] = strdup(label_names[i])))
                goto fail;
    }
    if (type == VG_MT_HISTOGRAM) {
        m->bounds = malloc(nbuckets * sizeof(double));
        if (!m->bounds && nbuckets)
            goto fail;
        if (nbuckets)
            memcpy(m->bounds, buckets, nbuckets * sizeof(double));
        m->nbounds = nbuckets;
    }
    if (!m->name || !m->help)
        goto fail;

    pthread_mutex_lock(&r->mu);
    for (vg_metric *o = r->head; o; o = o->next) {
        if (strcmp(o->name, name) == 0) {
            /* the same declaration again (a component re-created on a
             * reload) shares the family and keeps its series */
            vg_metric *same = metric_same(o, m) ? o : NULL;
            pthread_mutex_unlock(&r->mu);
            metric_free(m);
            return same;
        }
    }
    if (r->tail)
        r->tail->next = m;
    else
        r->head = m;
    r->tail = m;
    pthread_mutex_unlock(&r->mu);
    return m;
fail:
    metric_free(m);
    return NULL;
}

vg_series *vg_metric_with(vg_metric *m, const char *const *values)
{
    if (!m)
        return NULL;
    vg_registry *r = m->r;
    pthread_mutex_lock(&r->mu);
    vg_series *s;
    for (s = m->head; s; s = s->next) {
        size_t i;
        for (i = 0; i < m->nlabels; i++) {
            const char *v = values[i] ? values[i] : "";
            if (strcmp(s->values[i], v) != 0)
                break;
        }
        if (i == m->nlabels)
            goto out;
    }
    if (m->nseries >= m->max_series) {
        r->dropped++;
        s = NULL;
        goto out;
    }
    s = calloc(1, sizeof *s);
    if (!s)
        goto out;
    s->m = m;
    if (m->nlabels) {
        s->values = calloc(m->nlabels, sizeof(char *));
        if (!s->values) {
            free(s);
            s = NULL;
            goto out;
        }
        for (size_t i = 0; i < m->nlabels; i++) {
            s->values[i] = strdup(values[i] ? values[i] : "");
            if (!s->values[i]) {
                series_free(s, i);
                s = NULL;
                goto out;
            }
        }
    }
    if (m->type == VG_MT_HISTOGRAM && m->nbounds) {
        s->buckets = calloc(m->nbounds, sizeof(uint64_t));
        if (!s->buckets) {
            series_free(s, m->nlabels);
            s = NULL;
            goto out;
        }
    }
    if (m->tail)
        m->tail->next = s;
    else
        m->head = s;
    m->tail = s;
    m->nseries++;
out:
    pthread_mutex_unlock(&r->mu);
    return s;
}

vg_series *vg_metric_series0(vg_metric *m) { return vg_metric_with(m, NULL); }

void vg_series_inc(vg_series *s) { vg_series_add(s, 1); }

void vg_series_add(vg_series *s, double v)
{
    if (!s || !(v >= 0) || s->m->type == VG_MT_HISTOGRAM)
        return;
    pthread_mutex_lock(&s->m->r->mu);
    s->value += v;
    pthread_mutex_unlock(&s->m->r->mu);
}

void vg_series_set(vg_series *s, double v)
{
    if (!s || s->m->type == VG_MT_HISTOGRAM || s->m->type == VG_MT_COUNTER)
        return;
    pthread_mutex_lock(&s->m->r->mu);
    s->value = v;
    pthread_mutex_unlock(&s->m->r->mu);
}

void vg_series_observe(vg_series *s, double v)
{
    if (!s || s->m->type != VG_MT_HISTOGRAM || v != v)
        return;
    vg_metric *m = s->m;
    pthread_mutex_lock(&m->r->mu);
    for (size_t i = 0; i < m->nbounds; i++) {
        if (v <= m->bounds[i]) {
            s->buckets[i]++;
            break;
        }
    }
    s->count++;
    s->sum += v;
    pthread_mutex_unlock(&m->r->mu);
}

double vg_series_value(vg_series *s)
{
    if (!s)
        return 0;
    pthread_mutex_lock(&s->m->r->mu);
    double v = s->value;
    pthread_mutex_unlock(&s->m->r->mu);
    return v;
}

int vg_registry_add_collector(vg_registry *r, vg_collect_fn fn, void *ud)
{
    pthread_mutex_lock(&r->mu);
    collector_cb *n = realloc(r->cbs, (r->ncbs + 1) * sizeof *n);
    if (!n) {
        pthread_mutex_unlock(&r->mu);
        return -ENOMEM;
    }
    n[r->ncbs].fn = fn;
    n[r->ncbs].ud = ud;
    r->cbs = n;
    r->ncbs++;
    pthread_mutex_unlock(&r->mu);
    return 0;
}

int vg_registry_collect(vg_registry *r, vg_scrape *s)
{
    int rc = 0;
    uint64_t cum[64];
    pthread_mutex_lock(&r->mu);
    for (vg_metric *m = r->head; m; m = m->next) {
        vg_family *f = vg_scrape_family(s, m->name, m->type, m->help, m->nlabels,
                                        (const char *const *)m->label_names);
        if (!f) {
            rc = -EINVAL;
            continue;
        }
        for (vg_series *se = m->head; se; se = se->next) {
            const char *const *vals = (const char *const *)se->values;
            if (m->type == VG_MT_HISTOGRAM) {
                size_t n = m->nbounds < 64 ? m->nbounds : 64;
                uint64_t acc = 0;
                for (size_t i = 0; i < n; i++) {
                    acc += se->buckets[i];
                    cum[i] = acc;
                }
                vg_family_add_histogram(f, m->bounds, cum, n, se->count, se->sum, vals);
            } else {
                vg_family_addv(f, se->value, vals);
            }
        }
    }
    double dropped = (double)r->dropped;
    size_t ncbs = r->ncbs;
    collector_cb cbs[32];
    if (ncbs > 32)
        ncbs = 32;
    if (ncbs)
        memcpy(cbs, r->cbs, ncbs * sizeof *cbs);
    pthread_mutex_unlock(&r->mu);

    vg_scrape_add1(s, "vigil_metrics_series_dropped_total", VG_MT_COUNTER,
                   "Label combinations refused because a family reached its series cap.",
                   dropped);
    for (size_t i = 0; i < ncbs; i++)
        cbs[i].fn(s, cbs[i].ud);
    return rc;
}
