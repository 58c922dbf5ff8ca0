/*
 * vg_config.c - options from flags, VIGIL_* environment, a YAML file and
 * defaults (see vg_config.h for the contract, docs/internals/config.md for
 * the rules a user sees).
 *
 * Each source is parsed into its own layer of typed values, then the
 * layers are merged per option (flag > env > file > default). Layers keep
 * the rules simple: a list given by flags replaces the file's list instead
 * of appending to it, and the config file path is known (from flags or env)
 * before the file is read. The YAML file is walked with libyaml's event
 * parser so every error can name the line and column of the offending node.
 */
#include "vg_config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "vg_buf.h"
#include "vg_parse.h"

#define MAX_FILE ((size_t)1 << 20)   /* a config file larger than this is an error */
#define MAX_DEPTH 16                  /* nested YAML maps */
#define MAX_DURATION (100.0 * 365 * 86400) /* keeps "* 1000" in callers' ms maths sane */
#define QUOTE_MAX 128                 /* bytes of a bad value echoed in a message */

enum { SRC_DEFAULT = 0, SRC_FILE, SRC_ENV, SRC_FLAG, SRC_COUNT };
static const char *const src_names[SRC_COUNT] = {"default", "file", "env", "flag"};

/* One typed value; which member is used depends on the option's type. */
typedef struct val {
    bool set;
    bool seen;          /* file layer: key present (even with a null value) */
    size_t line, col;   /* file layer: where it was first given */
    char *s;            /* STRING */
    int64_t i;          /* INT */
    bool b;             /* BOOL */
    double d;           /* DURATION (seconds), FLOAT */
    char **items;       /* LIST */
    size_t nitems;
    size_t cap;
} val;

typedef struct opt {
    char *name;
    char *env;          /* VIGIL_...; NULL when the environment may not set it */
    vg_opt_type type;
    unsigned flags;
    int source;
    val v;
} opt;

struct vg_config {
    opt *opts;          /* sorted by name */
    size_t n;
    char *file;         /* --config.file in effect, or NULL */
    bool help;
    bool version;
};

/* ---- small helpers ---- */

__attribute__((format(printf, 2, 3)))
static void err_set(vg_config_err *e, const char *fmt, ...)
{
    if (!e)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
}

/* "text" with quotes, escapes and truncation, for echoing bad input. */
static const char *quote(char *out, size_t outlen, const char *s, size_t n)
{
    size_t o = 0;
    static const char hex[] = "0123456789abcdef";
    out[o++] = '"';
    for (size_t i = 0; i < n && i < QUOTE_MAX && o + 8 < outlen; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') {
            out[o++] = '\\';
            out[o++] = (char)ch;
        } else if (ch < 0x20 || ch == 0x7f) {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[ch >> 4];
            out[o++] = hex[ch & 15];
        } else {
            out[o++] = (char)ch;
        }
    }
    out[o++] = '"';
    if (n > QUOTE_MAX && o + 4 < outlen) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    return out;
}

static const char *type_noun(vg_opt_type t)
{
    switch (t) {
    case VG_OPT_STRING: return "a string";
    case VG_OPT_INT: return "an integer";
    case VG_OPT_BOOL: return "a boolean";
    case VG_OPT_DURATION: return "a duration";
    case VG_OPT_FLOAT: return "a number";
    case VG_OPT_LIST: return "a list";
    }
    return "a value";
}

static char *dup_n(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

static void val_clear(val *v)
{
    free(v->s);
    for (size_t i = 0; i < v->nitems; i++)
        free(v->items[i]);
    free(v->items);
    memset(v, 0, sizeof *v);
}

static int list_push(val *v, const char *s, size_t n)
{
    if (v->nitems == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 4;
        char **p = realloc(v->items, cap * sizeof *p);
        if (!p)
            return -ENOMEM;
        v->items = p;
        v->cap = cap;
    }
    char *item = dup_n(s, n);
    if (!item)
        return -ENOMEM;
    v->items[v->nitems++] = item;
    return 0;
}

/* ---- scalar parsing (shared by every source) ---- */

static bool is_space(char ch) { return ch == ' ' || ch == '\t'; }

/* Comma-separated items, each trimmed of spaces; empty items are dropped. */
static int list_split(val *v, const char *s, size_t n)
{
    size_t i = 0;
    while (i <= n) {
        size_t j = i;
        while (j < n && s[j] != ',')
            j++;
        size_t a = i, b = j;
        while (a < b && is_space(s[a]))
            a++;
        while (b > a && is_space(s[b - 1]))
            b--;
        if (b > a) {
            int rc = list_push(v, s + a, b - a);
            if (rc)
                return rc;
        }
        i = j + 1;
    }
    return 0;
}

static bool parse_bool(const char *s, size_t n, bool *out)
{
    if ((n == 4 && (!memcmp(s, "true", 4) || !memcmp(s, "True", 4) || !memcmp(s, "TRUE", 4)))) {
        *out = true;
        return true;
    }
    if ((n == 5 && (!memcmp(s, "false", 5) || !memcmp(s, "False", 5) || !memcmp(s, "FALSE", 5)))) {
        *out = false;
        return true;
    }
    return false;
}

typedef enum { DUR_OK = 0, DUR_BAD, DUR_NEG, DUR_BIG } dur_rc;

/* Digits with at most one '.', at least one digit. Advances *pos. */
static bool dur_number(const char *s, size_t n, size_t *pos, double *out)
{
    size_t i = *pos;
    bool digits = false, dot = false;
    for (; i < n; i++) {
        if (s[i] >= '0' && s[i] <= '9')
            digits = true;
        else if (s[i] == '.' && !dot)
            dot = true;
        else
            break;
    }
    /* strtod rounds correctly ("0.3" is the double nearest 0.3) */
    if (!digits || vg_parse_double((vg_slice){s + *pos, i - *pos}, out))
        return false;
    *pos = i;
    return true;
}

static dur_rc dur_parse(const char *s, size_t n, double *out)
{
    /* "ms" before "m"; sub-second units divide so 250ms is exactly 0.25 */
    static const struct { const char *u; size_t len; double mul, div; } units[] = {
        {"ns", 2, 1, 1e9}, {"us", 2, 1, 1e6}, {"\xc2\xb5s", 3, 1, 1e6}, {"\xce\xbcs", 3, 1, 1e6},
        {"ms", 2, 1, 1e3}, {"s", 1, 1, 1}, {"m", 1, 60, 1}, {"h", 1, 3600, 1}, {"d", 1, 86400, 1},
    };
    size_t i = 0;
    bool neg = false;
    if (n && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == n)
        return DUR_BAD;
    double total = 0, num;
    size_t start = i;
    if (!dur_number(s, n, &i, &num))
        return DUR_BAD;
    if (i == n) {                 /* a plain number: seconds */
        total = num;
    } else {
        i = start;
        while (i < n) {
            if (!dur_number(s, n, &i, &num))
                return DUR_BAD;
            size_t k;
            for (k = 0; k < sizeof units / sizeof units[0]; k++)
                if (n - i >= units[k].len && !memcmp(s + i, units[k].u, units[k].len))
                    break;
            if (k == sizeof units / sizeof units[0])
                return DUR_BAD;
            total += num * units[k].mul / units[k].div;
            i += units[k].len;
        }
    }
    if (neg)
        return DUR_NEG;
    if (!isfinite(total) || total > MAX_DURATION)
        return DUR_BIG;
    *out = total;
    return DUR_OK;
}

int vg_duration_parse(const char *s, double *seconds)
{
    double v;
    if (!s || dur_parse(s, strlen(s), &v) != DUR_OK)
        return -EINVAL;
    *seconds = v;
    return 0;
}

/*
 * Parse text as the option's type into v. A list appends (callers clear
 * first when a source replaces). 0, -EINVAL with why, or -ENOMEM.
 */
static int val_parse(vg_opt_type type, const char *s, size_t n, val *v, char *why, size_t whylen)
{
    char q[QUOTE_MAX * 4 + 16];
    if (memchr(s, '\0', n)) {
        snprintf(why, whylen, "value contains a NUL byte: %s", quote(q, sizeof q, s, n));
        return -EINVAL;
    }
    switch (type) {
    case VG_OPT_STRING: {
        char *p = dup_n(s, n);
        if (!p)
            return -ENOMEM;
        free(v->s);
        v->s = p;
        break;
    }
    case VG_OPT_INT: {
        int64_t i;
        int rc = vg_parse_i64((vg_slice){s, n}, &i);
        if (rc) {
            snprintf(why, whylen, "%s: %s", rc == -ERANGE ? "integer out of range" : "not an integer",
                     quote(q, sizeof q, s, n));
            return -EINVAL;
        }
        v->i = i;
        break;
    }
    case VG_OPT_BOOL:
        if (!parse_bool(s, n, &v->b)) {
            snprintf(why, whylen, "not a boolean (true or false): %s", quote(q, sizeof q, s, n));
            return -EINVAL;
        }
        break;
    case VG_OPT_DURATION: {
        double d = 0;
        switch (dur_parse(s, n, &d)) {
        case DUR_OK:
            v->d = d;
            break;
        case DUR_NEG:
            snprintf(why, whylen, "negative duration: %s", quote(q, sizeof q, s, n));
            return -EINVAL;
        case DUR_BIG:
            snprintf(why, whylen, "duration longer than 100 years: %s", quote(q, sizeof q, s, n));
            return -EINVAL;
        case DUR_BAD:
            snprintf(why, whylen, "not a duration (like 1m30s, 250ms or plain seconds): %s",
                     quote(q, sizeof q, s, n));
            return -EINVAL;
        }
        break;
    }
    case VG_OPT_FLOAT: {
        double d;
        if (vg_parse_double((vg_slice){s, n}, &d) || !isfinite(d)) {
            snprintf(why, whylen, "not a finite number: %s", quote(q, sizeof q, s, n));
            return -EINVAL;
        }
        v->d = d;
        break;
    }
    case VG_OPT_LIST:
        return list_split(v, s, n);
    }
    return 0;
}

/* ---- the option table ---- */

static int opt_cmp(const void *a, const void *b)
{
    return strcmp(((const opt *)a)->name, ((const opt *)b)->name);
}

static opt *find(const vg_config *c, const char *name)
{
    size_t lo = 0, hi = c->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = strcmp(c->opts[mid].name, name);
        if (r == 0)
            return &c->opts[mid];
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Is "name." the prefix of some option? (then name is a group of options) */
static bool is_group(const vg_config *c, const char *name)
{
    size_t len = strlen(name);
    size_t lo = 0, hi = c->n;
    while (lo < hi) {           /* first option > name: "name." sorts after "name" */
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(c->opts[mid].name, name) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < c->n; i++) {
        int r = strncmp(c->opts[i].name, name, len);
        if (r != 0)
            return false;
        if (c->opts[i].name[len] == '.')
            return true;
        /* "name-x" or "name_x" sorts before "name.": keep scanning the run */
    }
    return false;
}

static size_t opt_index(const vg_config *c, const opt *o) { return (size_t)(o - c->opts); }

static bool name_ok(const char *s)
{
    if (!s || !*s || *s == '.' || *s == '-')
        return false;
    for (const char *p = s; *p; p++) {
        char ch = *p;
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                  ch == '.' || ch == '-' || ch == '_';
        if (!ok || (ch == '.' && (p[1] == '.' || p[1] == '\0')))
            return false;
    }
    return strcmp(s, "help") != 0 && strcmp(s, "version") != 0 && strcmp(s, "h") != 0;
}

static bool is_config_file(const opt *o) { return strcmp(o->name, "config.file") == 0; }

static void config_free(vg_config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->opts[i].name);
        free(c->opts[i].env);
        val_clear(&c->opts[i].v);
    }
    free(c->opts);
    free(c->file);
    free(c);
}

void vg_config_free(vg_config *c) { config_free(c); }

/* Copy the tables, sort them, apply defaults. Table mistakes are -EINVAL. */
static int config_build(const vg_opt_def *const *defs, const size_t *ndefs, size_t ntables,
                        vg_config **out, vg_config_err *err)
{
    int rc = 0;
    char why[256];
    vg_config *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    size_t total = 0;
    for (size_t t = 0; t < ntables; t++) {
        if (ndefs[t] && !defs[t]) {
            err_set(err, "option table %zu is NULL", t);
            rc = -EINVAL;
            goto out;
        }
        total += ndefs[t];
    }
    c->opts = calloc(total ? total : 1, sizeof *c->opts);
    if (!c->opts) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t t = 0; t < ntables; t++) {
        for (size_t k = 0; k < ndefs[t]; k++) {
            const vg_opt_def *d = &defs[t][k];
            if (!name_ok(d->name) || (unsigned)d->type > VG_OPT_LIST) {
                err_set(err, "option table: invalid option \"%s\"", d->name ? d->name : "(null)");
                rc = -EINVAL;
                goto out;
            }
            opt *o = &c->opts[c->n++];
            o->type = d->type;
            o->flags = d->flags;
            o->source = SRC_DEFAULT;
            o->name = strdup(d->name);
            if (!o->name) {
                rc = -ENOMEM;
                goto out;
            }
            if (!(d->flags & VG_OPT_F_CLI_ONLY) || is_config_file(o)) {
                size_t len = strlen(d->name);
                o->env = malloc(len + 7);
                if (!o->env) {
                    rc = -ENOMEM;
                    goto out;
                }
                memcpy(o->env, "VIGIL_", 6);
                for (size_t j = 0; j <= len; j++) {
                    char ch = d->name[j];
                    if (ch == '.' || ch == '-')
                        ch = '_';
                    else if (ch >= 'a' && ch <= 'z')
                        ch = (char)(ch - 'a' + 'A');
                    o->env[6 + j] = ch;
                }
            }
            const char *def = d->def ? d->def : "";
            rc = val_parse(o->type, def, strlen(def), &o->v, why, sizeof why);
            if (rc == -EINVAL)
                err_set(err, "option table: option \"%s\": invalid default: %s", o->name, why);
            if (rc)
                goto out;
            o->v.set = true;
        }
    }
    qsort(c->opts, c->n, sizeof *c->opts, opt_cmp);
    for (size_t i = 0; i + 1 < c->n; i++) {
        if (strcmp(c->opts[i].name, c->opts[i + 1].name) == 0) {
            err_set(err, "option table: option \"%s\" defined twice", c->opts[i].name);
            rc = -EINVAL;
            goto out;
        }
    }
    for (size_t i = 0; i < c->n; i++)
        for (size_t j = i + 1; j < c->n; j++)
            if (c->opts[i].env && c->opts[j].env && strcmp(c->opts[i].env, c->opts[j].env) == 0) {
                err_set(err, "option table: options \"%s\" and \"%s\" share the variable %s",
                        c->opts[i].name, c->opts[j].name, c->opts[i].env);
                rc = -EINVAL;
                goto out;
            }
    *out = c;
    c = NULL;
out:
    if (rc == -ENOMEM)
        err_set(err, "out of memory");
    config_free(c);
    return rc;
}

static val *layer_new(const vg_config *c) { return calloc(c->n ? c->n : 1, sizeof(val)); }

static void layer_free(const vg_config *c, val *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < c->n; i++)
        val_clear(&l[i]);
    free(l);
}

/* Move the highest layer that set each option into the config. */
static void merge(vg_config *c, val *const *layers /* [SRC_COUNT], [0] unused */)
{
    for (size_t i = 0; i < c->n; i++) {
        for (int src = SRC_FLAG; src > SRC_DEFAULT; src--) {
            if (layers[src] && layers[src][i].set) {
                val_clear(&c->opts[i].v);
                c->opts[i].v = layers[src][i];
                memset(&layers[src][i], 0, sizeof(val));
                c->opts[i].source = src;
                break;
            }
        }
        c->opts[i].v.seen = false;
        c->opts[i].v.line = c->opts[i].v.col = 0;
    }
}

/* ---- flags ---- */

static int flag_value(opt *o, val *v, const char *flag, const char *s, vg_config_err *err)
{
    char why[400];
    int rc = val_parse(o->type, s, strlen(s), v, why, sizeof why);
    if (rc == -EINVAL)
        err_set(err, "flag %s: %s", flag, why);
    else if (rc)
        err_set(err, "out of memory");
    if (!rc)
        v->set = true;
    return rc;
}

static int parse_flags(vg_config *c, int argc, char *const *argv, val *layer, vg_config_err *err)
{
    char q[QUOTE_MAX * 4 + 16];
    char name[256];
    for (int i = 1; i < argc && argv && argv[i]; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            c->help = true;
            continue;
        }
        if (strcmp(a, "--version") == 0) {
            c->version = true;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            if (i + 1 < argc && argv[i + 1]) {
                err_set(err, "unexpected argument %s", quote(q, sizeof q, argv[i + 1], strlen(argv[i + 1])));
                return -EINVAL;
            }
            break;
        }
        if (a[0] != '-' || a[1] == '\0') {
            err_set(err, "unexpected argument %s", quote(q, sizeof q, a, strlen(a)));
            return -EINVAL;
        }
        if (a[1] != '-') {
            err_set(err, "unknown flag %.*s", 200, a);
            return -EINVAL;
        }
        const char *body = a + 2;
        const char *eq = strchr(body, '=');
        size_t nlen = eq ? (size_t)(eq - body) : strlen(body);
        if (nlen == 0 || nlen >= sizeof name) {
            err_set(err, "unknown flag --%.*s", (int)(nlen > 200 ? 200 : nlen), body);
            return -EINVAL;
        }
        memcpy(name, body, nlen);
        name[nlen] = '\0';
        if (strcmp(name, "help") == 0 || strcmp(name, "version") == 0) {
            err_set(err, "flag --%s does not take a value", name);
            return -EINVAL;
        }
        opt *o = find(c, name);
        bool neg = false;
        if (!o && strncmp(name, "no-", 3) == 0 && (o = find(c, name + 3)) != NULL) {
            if (o->type != VG_OPT_BOOL) {
                err_set(err, "unknown flag --%s (--%s is not a boolean)", name, o->name);
                return -EINVAL;
            }
            neg = true;
        }
        if (!o) {
            err_set(err, "unknown flag --%s", name);
            return -EINVAL;
        }
        val *v = &layer[opt_index(c, o)];
        char flag[sizeof name + 2];
        snprintf(flag, sizeof flag, "--%s", name);
        if (neg) {
            if (eq) {
                err_set(err, "flag --%s does not take a value", name);
                return -EINVAL;
            }
            v->b = false;
            v->set = true;
            continue;
        }
        if (o->type == VG_OPT_BOOL && !eq) {
            v->b = true;
            v->set = true;
            continue;
        }
        const char *value;
        if (eq) {
            value = eq + 1;
        } else if (i + 1 < argc && argv[i + 1] && strncmp(argv[i + 1], "--", 2) != 0) {
            value = argv[++i];
        } else {
            err_set(err, "flag --%s needs a value", name);
            return -EINVAL;
        }
        int rc = flag_value(o, v, flag, value, err);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- environment ---- */

static int parse_env(vg_config *c, char *const *envp, val *layer, vg_config_err *err)
{
    for (size_t k = 0; envp && envp[k]; k++) {
        const char *e = envp[k];
        if (strncmp(e, "VIGIL_", 6) != 0)
            continue;
        const char *eq = strchr(e, '=');
        if (!eq)
            continue;
        size_t nlen = (size_t)(eq - e);
        for (size_t i = 0; i < c->n; i++) {
            opt *o = &c->opts[i];
            if (!o->env || strlen(o->env) != nlen || memcmp(o->env, e, nlen) != 0)
                continue;
            if (layer[i].set)
                break;          /* the first occurrence wins, as with getenv() */
            char why[400];
            int rc = val_parse(o->type, eq + 1, strlen(eq + 1), &layer[i], why, sizeof why);
            if (rc == -EINVAL)
                err_set(err, "env %s: %s", o->env, why);
            else if (rc)
                err_set(err, "out of memory");
            if (rc)
                return rc;
            layer[i].set = true;
            break;
        }
        /* unknown VIGIL_* variables are ignored: the environment is shared */
    }
    return 0;
}

/* ---- YAML ---- */

typedef struct ywalk {
    vg_config *c;
    val *layer;
    vg_config_err *err;
    const char *name;      /* file name for messages */
    const char *buf;
    size_t len;
    yaml_parser_t p;
    yaml_event_t ev;
    bool live;             /* ev holds an event to delete */
} ywalk;

#define MARK(m) (size_t)(m).line + 1, (size_t)(m).column + 1

__attribute__((format(printf, 3, 4)))
static int yerr(ywalk *w, yaml_mark_t m, const char *fmt, ...)
{
    char msg[450];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    err_set(w->err, "%s:%zu:%zu: %s", w->name, MARK(m), msg);
    return -EINVAL;
}

/* Turn libyaml's parser error into "FILE:LINE:COL: invalid YAML: ...". */
static int syntax_error(ywalk *w)
{
    yaml_parser_t *p = &w->p;
    if (p->error == YAML_MEMORY_ERROR) {
        err_set(w->err, "%s: out of memory", w->name);
        return -ENOMEM;
    }
    yaml_mark_t m = p->problem_mark;
    if (p->error == YAML_READER_ERROR) {
        /* the reader gives a byte offset only: derive line and column */
        size_t off = p->problem_offset < w->len ? p->problem_offset : w->len;
        m.line = 0;
        m.column = 0;
        for (size_t i = 0; i < off; i++) {
            if (w->buf[i] == '\n') {
                m.line++;
                m.column = 0;
            } else {
                m.column++;
            }
        }
    }
    const char *problem = p->problem ? p->problem : "syntax error";
    if (p->context)
        return yerr(w, m, "invalid YAML: %s %s started at %zu:%zu", problem, p->context,
                    MARK(p->context_mark));
    return yerr(w, m, "invalid YAML: %s", problem);
}

static int ynext(ywalk *w)
{
    if (w->live) {
        yaml_event_delete(&w->ev);
        w->live = false;
    }
    if (!yaml_parser_parse(&w->p, &w->ev))
        return syntax_error(w);
    w->live = true;
    yaml_event_t *e = &w->ev;
    const yaml_char_t *anchor = NULL, *tag = NULL;
    switch (e->type) {
    case YAML_ALIAS_EVENT:
        return yerr(w, e->start_mark, "YAML aliases are not supported");
    case YAML_SCALAR_EVENT:
        anchor = e->data.scalar.anchor;
        tag = e->data.scalar.tag;
        break;
    case YAML_SEQUENCE_START_EVENT:
        anchor = e->data.sequence_start.anchor;
        tag = e->data.sequence_start.tag;
        break;
    case YAML_MAPPING_START_EVENT:
        anchor = e->data.mapping_start.anchor;
        tag = e->data.mapping_start.tag;
        break;
    default:
        break;
    }
    if (anchor)
        return yerr(w, e->start_mark, "YAML anchors are not supported");
    if (tag)
        return yerr(w, e->start_mark, "YAML tags are not supported");
    return 0;
}

static bool scalar_is_null(const yaml_event_t *e)
{
    if (e->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *s = (const char *)e->data.scalar.value;
    size_t n = e->data.scalar.length;
    return n == 0 || (n == 1 && s[0] == '~') ||
           (n == 4 && (!memcmp(s, "null", 4) || !memcmp(s, "Null", 4) || !memcmp(s, "NULL", 4)));
}

static const char *event_noun(yaml_event_type_t t)
{
    return t == YAML_MAPPING_START_EVENT ? "a map" : t == YAML_SEQUENCE_START_EVENT ? "a sequence" : "a scalar";
}

/* A key naming an option: reject CLI-only ones and repeats; mark it seen. */
static int claim(ywalk *w, opt *o, yaml_mark_t km)
{
    val *v = &w->layer[opt_index(w->c, o)];
    if ((o->flags & VG_OPT_F_CLI_ONLY) || is_config_file(o))
        return yerr(w, km, "%s can only be set with a flag", o->name);
    if (v->seen)
        return yerr(w, km, "duplicate key \"%s\" (first at %zu:%zu)", o->name, v->line, v->col);
    v->seen = true;
    v->line = km.line + 1;
    v->col = km.column + 1;
    return 0;
}

static int set_scalar(ywalk *w, opt *o, const yaml_event_t *e)
{
    char why[400];
    val *v = &w->layer[opt_index(w->c, o)];
    int rc = val_parse(o->type, (const char *)e->data.scalar.value, e->data.scalar.length, v, why,
                       sizeof why);
    if (rc == -EINVAL)
        return yerr(w, e->start_mark, "%s: %s", o->name, why);
    if (rc) {
        err_set(w->err, "%s: out of memory", w->name);
        return rc;
    }
    v->set = true;
    return 0;
}

static int read_sequence(ywalk *w, opt *o)
{
    val *v = &w->layer[opt_index(w->c, o)];
    v->set = true;
    for (;;) {
        int rc = ynext(w);
        if (rc)
            return rc;
        yaml_event_t *e = &w->ev;
        if (e->type == YAML_SEQUENCE_END_EVENT)
            return 0;
        if (e->type != YAML_SCALAR_EVENT)
            return yerr(w, e->start_mark, "%s: list items must be scalars, got %s", o->name,
                        event_noun(e->type));
        if (scalar_is_null(e))
            return yerr(w, e->start_mark, "%s: empty list item", o->name);
        const char *s = (const char *)e->data.scalar.value;
        size_t n = e->data.scalar.length;
        if (memchr(s, '\0', n))
            return yerr(w, e->start_mark, "%s: value contains a NUL byte", o->name);
        rc = list_push(v, s, n);
        if (rc) {
            err_set(w->err, "%s: out of memory", w->name);
            return rc;
        }
    }
}

typedef struct seen_keys {
    char **k;
    size_t *len;
    size_t n, cap;
} seen_keys;

static void seen_free(seen_keys *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->k[i]);
    free(s->k);
    free(s->len);
}

static int seen_add(seen_keys *s, const char *k, size_t n)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        char **kk = realloc(s->k, cap * sizeof *kk);
        if (!kk)
            return -ENOMEM;
        s->k = kk;
        size_t *ll = realloc(s->len, cap * sizeof *ll);
        if (!ll)
            return -ENOMEM;
        s->len = ll;
        s->cap = cap;
    }
    char *copy = dup_n(k, n);
    if (!copy)
        return -ENOMEM;
    s->k[s->n] = copy;
    s->len[s->n++] = n;
    return 0;
}

static bool seen_has(const seen_keys *s, const char *k, size_t n)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->len[i] == n && memcmp(s->k[i], k, n) == 0)
            return true;
    return false;
}

static int walk_map(ywalk *w, const char *prefix, int depth);

/* The value of key path (at mark km) is the current event. */
static int walk_value(ywalk *w, const char *path, yaml_mark_t km, int depth)
{
    char q[QUOTE_MAX * 4 + 16];
    yaml_event_t *e = &w->ev;
    opt *o = find(w->c, path);
    bool group = is_group(w->c, path);
    int rc;
    switch (e->type) {
    case YAML_SCALAR_EVENT:
        if (!o && !group)
            return yerr(w, km, "unknown key %s", quote(q, sizeof q, path, strlen(path)));
        if (scalar_is_null(e)) /* "key:" or "key: ~" = not set here */
            return o ? claim(w, o, km) : 0;
        if (!o)
            return yerr(w, e->start_mark, "%s: expected a map of options, got a scalar", path);
        rc = claim(w, o, km);
        return rc ? rc : set_scalar(w, o, e);
    case YAML_MAPPING_START_EVENT:
        if (group) {
            if (depth >= MAX_DEPTH)
                return yerr(w, e->start_mark, "maps nested deeper than %d levels", MAX_DEPTH);
            return walk_map(w, path, depth + 1);
        }
        if (!o)
            return yerr(w, km, "unknown key %s", quote(q, sizeof q, path, strlen(path)));
        return yerr(w, e->start_mark, "%s: expected %s, got a map", path, type_noun(o->type));
    case YAML_SEQUENCE_START_EVENT:
        if (o && o->type == VG_OPT_LIST) {
            rc = claim(w, o, km);
            return rc ? rc : read_sequence(w, o);
        }
        if (o)
            return yerr(w, e->start_mark, "%s: expected %s, got a sequence", path, type_noun(o->type));
        if (group)
            return yerr(w, e->start_mark, "%s: expected a map of options, got a sequence", path);
        return yerr(w, km, "unknown key %s", quote(q, sizeof q, path, strlen(path)));
    default:
        return yerr(w, e->start_mark, "unexpected YAML event");
    }
}

/* Called with MAPPING_START current; consumes through MAPPING_END. */
static int walk_map(ywalk *w, const char *prefix, int depth)
{
    int rc;
    seen_keys seen = {0};
    char q[QUOTE_MAX * 4 + 16];
    for (;;) {
        rc = ynext(w);
        if (rc)
            goto out;
        yaml_event_t *e = &w->ev;
        if (e->type == YAML_MAPPING_END_EVENT)
            break;
        if (e->type != YAML_SCALAR_EVENT) {
            rc = yerr(w, e->start_mark, "map keys must be scalars, got %s", event_noun(e->type));
            goto out;
        }
        yaml_mark_t km = e->start_mark;
        const char *k = (const char *)e->data.scalar.value;
        size_t klen = e->data.scalar.length;
        if (klen == 0 || memchr(k, '\0', klen)) {
            rc = yerr(w, km, "invalid key %s", quote(q, sizeof q, k, klen));
            goto out;
        }
        if (seen_has(&seen, k, klen)) {
            rc = yerr(w, km, "duplicate key %s", quote(q, sizeof q, k, klen));
            goto out;
        }
        rc = seen_add(&seen, k, klen);
        if (rc) {
            err_set(w->err, "%s: out of memory", w->name);
            goto out;
        }
        size_t plen = strlen(prefix);
        char *path = malloc(plen + klen + 2);
        if (!path) {
            rc = -ENOMEM;
            err_set(w->err, "%s: out of memory", w->name);
            goto out;
        }
        if (plen) {
            memcpy(path, prefix, plen);
            path[plen++] = '.';
        }
        memcpy(path + plen, k, klen);
        path[plen + klen] = '\0';
        rc = ynext(w);
        if (!rc)
            rc = walk_value(w, path, km, depth);
        free(path);
        if (rc)
            goto out;
    }
    rc = 0;
out:
    seen_free(&seen);
    return rc;
}

/*
 * First pass: the whole stream must parse, so a syntax error is reported
 * even when the walk would have stopped earlier at a semantic one.
 */
static int syntax_check(ywalk *w)
{
    for (;;) {
        int rc = ynext(w);
        if (rc)
            return rc;
        if (w->ev.type == YAML_STREAM_END_EVENT)
            return 0;
    }
}

static int walk_document(ywalk *w)
{
    int rc = ynext(w);
    if (rc)
        return rc;
    if (w->ev.type != YAML_STREAM_START_EVENT)
        return yerr(w, w->ev.start_mark, "unexpected YAML event");
    rc = ynext(w);
    if (rc)
        return rc;
    if (w->ev.type == YAML_STREAM_END_EVENT)
        return 0;                          /* empty file or only comments */
    rc = ynext(w);                         /* past DOCUMENT_START */
    if (rc)
        return rc;
    yaml_event_t *e = &w->ev;
    if (e->type == YAML_MAPPING_START_EVENT)
        rc = walk_map(w, "", 1);
    else if (!(e->type == YAML_SCALAR_EVENT && scalar_is_null(e)))
        return yerr(w, e->start_mark, "the top level must be a map of options, got %s",
                    event_noun(e->type));
    if (rc)
        return rc;
    rc = ynext(w);                         /* DOCUMENT_END */
    if (rc)
        return rc;
    rc = ynext(w);
    if (rc)
        return rc;
    if (w->ev.type != YAML_STREAM_END_EVENT)
        return yerr(w, w->ev.start_mark, "only one YAML document is allowed");
    return 0;
}

static int parse_yaml(vg_config *c, const char *name, const char *buf, size_t len, val *layer,
                      vg_config_err *err)
{
    if (len > MAX_FILE) {
        err_set(err, "%s: file is larger than 1 MiB", name);
        return -EINVAL;
    }
    ywalk w = {.c = c, .layer = layer, .err = err, .name = name, .buf = buf ? buf : "", .len = len};
    if (!yaml_parser_initialize(&w.p)) {
        err_set(err, "%s: out of memory", name);
        return -ENOMEM;
    }
    yaml_parser_set_input_string(&w.p, (const unsigned char *)w.buf, len);
    int rc = syntax_check(&w);
    if (w.live)
        yaml_event_delete(&w.ev);
    w.live = false;
    yaml_parser_delete(&w.p);
    if (rc)
        return rc;
    if (!yaml_parser_initialize(&w.p)) {
        err_set(err, "%s: out of memory", name);
        return -ENOMEM;
    }
    yaml_parser_set_input_string(&w.p, (const unsigned char *)w.buf, len);
    rc = walk_document(&w);
    if (w.live)
        yaml_event_delete(&w.ev);
    yaml_parser_delete(&w.p);
    return rc;
}

static int load_file(vg_config *c, const char *path, val *layer, vg_config_err *err)
{
    vg_buf b = VG_BUF_INIT;
    int rc = vg_buf_read_file(&b, path, MAX_FILE);
    if (rc == -EFBIG)
        err_set(err, "%s: file is larger than 1 MiB", path);
    else if (rc)
        err_set(err, "%s: cannot read config file: %s", path, strerror(-rc));
    if (rc) {
        rc = rc == -ENOMEM ? -ENOMEM : -EINVAL;
        goto out;
    }
    rc = parse_yaml(c, path, b.data, b.len, layer, err);
out:
    vg_buf_release(&b);
    return rc;
}

/* ---- public entry points ---- */

int vg_config_load(const vg_opt_def *const *defs, const size_t *ndefs, size_t ntables, int argc,
                   char *const *argv, char *const *envp, vg_config **out, vg_config_err *err)
{
    vg_config *c = NULL;
    val *layers[SRC_COUNT] = {NULL};
    if (err)
        err->msg[0] = '\0';
    int rc = config_build(defs, ndefs, ntables, &c, err);
    if (rc)
        goto out;
    for (int s = SRC_FILE; s < SRC_COUNT; s++) {
        layers[s] = layer_new(c);
        if (!layers[s]) {
            err_set(err, "out of memory");
            rc = -ENOMEM;
            goto out;
        }
    }
    rc = parse_flags(c, argc, argv, layers[SRC_FLAG], err);
    if (rc)
        goto out;
    /* --help and --version must work even when the file or env is broken */
    if (!c->help && !c->version) {
        rc = parse_env(c, envp ? envp : environ, layers[SRC_ENV], err);
        if (rc)
            goto out;
        opt *cf = find(c, "config.file");
        const char *path = NULL;
        if (cf) {
            size_t i = opt_index(c, cf);
            if (layers[SRC_FLAG][i].set)
                path = layers[SRC_FLAG][i].s;
            else if (layers[SRC_ENV][i].set)
                path = layers[SRC_ENV][i].s;
        }
        if (path && *path) {
            c->file = strdup(path);
            if (!c->file) {
                err_set(err, "out of memory");
                rc = -ENOMEM;
                goto out;
            }
            rc = load_file(c, path, layers[SRC_FILE], err);
            if (rc)
                goto out;
        }
    }
    merge(c, layers);
out:
    for (int s = SRC_FILE; s < SRC_COUNT; s++)
        layer_free(c, layers[s]);
    if (rc) {
        config_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

int vg_config_load_yaml_mem(const vg_opt_def *const *defs, const size_t *ndefs, size_t ntables,
                            const char *name, const char *yaml, size_t len, vg_config **out,
                            vg_config_err *err)
{
    vg_config *c = NULL;
    val *layers[SRC_COUNT] = {NULL};
    if (err)
        err->msg[0] = '\0';
    int rc = config_build(defs, ndefs, ntables, &c, err);
    if (rc)
        return rc;
    layers[SRC_FILE] = layer_new(c);
    if (!layers[SRC_FILE]) {
        err_set(err, "out of memory");
        rc = -ENOMEM;
        goto out;
    }
    rc = parse_yaml(c, name ? name : "<yaml>", yaml, len, layers[SRC_FILE], err);
    if (rc)
        goto out;
    merge(c, layers);
    layer_free(c, layers[SRC_FILE]);
    layers[SRC_FILE] = NULL;
    *out = c;
    return 0;
out:
    layer_free(c, layers[SRC_FILE]);
    config_free(c);
    return rc;
}

bool vg_config_wants_help(const vg_config *c) { return c && c->help; }
bool vg_config_wants_version(const vg_config *c) { return c && c->version; }
const char *vg_config_file(const vg_config *c) { return c ? c->file : NULL; }

/* ---- getters ---- */

/* Asking for an undeclared option, or with the wrong type, is a bug. */
static const opt *get(const vg_config *c, const char *name, vg_opt_type type, bool any_type)
{
    const opt *o = c && name ? find(c, name) : NULL;
    if (o && (any_type || o->type == type))
        return o;
#ifndef NDEBUG
    fprintf(stderr, "vg_config: %s option \"%s\"\n", o ? "wrongly typed read of" : "unknown",
            name ? name : "(null)");
    abort();
#else
    return NULL;
#endif
}

const char *vg_config_str(const vg_config *c, const char *name)
{
    const opt *o = get(c, name, VG_OPT_STRING, false);
    return o && o->v.s ? o->v.s : "";
}

int64_t vg_config_int(const vg_config *c, const char *name)
{
    const opt *o = get(c, name, VG_OPT_INT, false);
    return o ? o->v.i : 0;
}

bool vg_config_bool(const vg_config *c, const char *name)
{
    const opt *o = get(c, name, VG_OPT_BOOL, false);
    return o ? o->v.b : false;
}

double vg_config_duration(const vg_config *c, const char *name)
{
    const opt *o = get(c, name, VG_OPT_DURATION, false);
    return o ? o->v.d : 0;
}

double vg_config_float(const vg_config *c, const char *name)
{
    const opt *o = get(c, name, VG_OPT_FLOAT, false);
    return o ? o->v.d : 0;
}

size_t vg_config_list_len(const vg_config *c, const char *name)
{
    const opt *o = get(c, name, VG_OPT_LIST, false);
    return o ? o->v.nitems : 0;
}

const char *vg_config_list_at(const vg_config *c, const char *name, size_t i)
{
    const opt *o = get(c, name, VG_OPT_LIST, false);
    return o && i < o->v.nitems ? o->v.items[i] : NULL;
}

const char *vg_config_source(const vg_config *c, const char *name)
{
    const opt *o = get(c, name, VG_OPT_STRING, true);
    return o ? src_names[o->source] : "default";
}

/* ---- --help ---- */

static const char *type_meta(vg_opt_type t)
{
    switch (t) {
    case VG_OPT_STRING: return "<string>";
    case VG_OPT_INT: return "<int>";
    case VG_OPT_BOOL: return "<bool>";
    case VG_OPT_DURATION: return "<duration>";
    case VG_OPT_FLOAT: return "<float>";
    case VG_OPT_LIST: return "<list>";
    }
    return "<value>";
}

void vg_config_help(const vg_opt_def *const *defs, const size_t *ndefs, size_t ntables,
                    const char *prog, void *fp)
{
    FILE *f = fp ? fp : stdout;
    fprintf(f, "Options (flag, VIGIL_* environment variable or YAML key; flags win):\n");
    fprintf(f, "  -h, --help\n      Show this help and exit.\n");
    fprintf(f, "  --version\n      Show the version and exit.\n");
    for (size_t t = 0; t < ntables; t++) {
        if (!defs[t] || !ndefs[t])
            continue;
        fputc('\n', f);
        for (size_t k = 0; k < ndefs[t]; k++) {
            const vg_opt_def *d = &defs[t][k];
            if (!d->name)
                continue;
            const char *def = d->def;
            if (!def)
                fprintf(f, "  --%s=%s\n", d->name, type_meta(d->type));
            else if (!*def || strpbrk(def, " \t\""))
                fprintf(f, "  --%s=\"%s\"\n", d->name, def);
            else
                fprintf(f, "  --%s=%s\n", d->name, def);
            fprintf(f, "      %s", d->help ? d->help : "");
            if (d->type == VG_OPT_LIST)
                fprintf(f, " (comma-separated; repeat the flag to add)");
            if (d->flags & VG_OPT_F_RELOADABLE)
                fprintf(f, " (reloadable)");
            if (strcmp(d->name, "config.file") == 0) {
                fprintf(f, " [flag or env VIGIL_CONFIG_FILE]");
            } else if (d->flags & VG_OPT_F_CLI_ONLY) {
                fprintf(f, " [flag only]");
            } else {
                fprintf(f, " [env VIGIL_");
                for (const char *p = d->name; *p; p++)
                    fputc(*p == '.' || *p == '-' ? '_' : (*p >= 'a' && *p <= 'z') ? *p - 'a' + 'A' : *p, f);
                fputc(']', f);
            }
            fputc('\n', f);
        }
    }
    fprintf(f,
            "\nBoolean options also take the forms --NAME and --no-NAME; other flags take\n"
            "--NAME=VALUE or --NAME VALUE. Durations: 1m30s, 250ms, 2h, or plain seconds.\n"
            "%s reads flags over VIGIL_* variables over the YAML --config.file over defaults.\n",
            prog ? prog : "The program");
}
