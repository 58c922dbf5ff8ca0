/*
 * vg_config.c - options from flags, VIGIL_* environment, a YAML file and
 * defaults, with file:line:column in every file error.
 *
 * Values are kept as strings per source and converted once after all
 * sources are read, so an error names the source that supplied the bad
 * value. The YAML file is loaded with libyaml's document API (which gives
 * every node its position); aliases are expanded, so the walk bounds depth
 * and the number of leaves to stay safe against alias bombs.
 */
#include "vg_config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

extern char **environ;

#define MAX_FILE_BYTES (1u << 20)
#define MAX_DEPTH 16
#define MAX_LEAVES 10000

typedef enum { SRC_DEFAULT = 0, SRC_FILE, SRC_ENV, SRC_FLAG } src_t;
static const char *const src_names[] = {"default", "file", "env", "flag"};

typedef struct strlist {
    char **v;
    size_t n;
} strlist;

typedef struct entry {
    const vg_opt_def *def;
    src_t src;
    char *str;          /* scalar value (or the joined list for display) */
    strlist list;       /* VG_OPT_LIST values */
    int64_t i;
    double d;
    bool b;
} entry;

struct vg_config {
    entry *e;
    size_t n;
    char *file;
    bool help;
    bool version;
};

static void set_err(vg_config_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(vg_config_err *err, const char *fmt, ...)
{
    if (!err)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
}

static void list_clear(strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static int list_push(strlist *l, const char *s, size_t len)
{
    char **nv = realloc(l->v, (l->n + 1) * sizeof *nv);
    if (!nv)
        return -ENOMEM;
    l->v = nv;
    l->v[l->n] = strndup(s, len);
    if (!l->v[l->n])
        return -ENOMEM;
    l->n++;
    return 0;
}

/* "a, b,c" -> [a b c]; empty items dropped. */
static int list_split(strlist *l, const char *s)
{
    while (*s) {
        while (*s == ' ' || *s == ',')
            s++;
        const char *e = s;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > s && t[-1] == ' ')
            t--;
        if (t > s && list_push(l, s, (size_t)(t - s)))
            return -ENOMEM;
        s = e;
    }
    return 0;
}

void vg_config_free(vg_config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->e[i].str);
        list_clear(&c->e[i].list);
    }
    free(c->e);
    free(c->file);
    free(c);
}

static entry *find(const vg_config *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->e[i].def->name, name) == 0)
            return &c->e[i];
    return NULL;
}

/* Is there any option under "prefix."? */
static bool has_prefix(const vg_config *c, const char *prefix)
{
    size_t n = strlen(prefix);
    for (size_t i = 0; i < c->n; i++)
        if (strncmp(c->e[i].def->name, prefix, n) == 0 && c->e[i].def->name[n] == '.')
            return true;
    return false;
}

static int set_scalar(entry *e, src_t src, const char *v)
{
    char *s = strdup(v ? v : "");
    if (!s)
        return -ENOMEM;
    free(e->str);
    e->str = s;
    e->src = src;
    return 0;
}

int vg_duration_parse(const char *s, double *seconds)
{
    if (!s || !*s)
        return -EINVAL;
    double total = 0;
    const char *p = s;
    /* a plain number means seconds */
    char *end;
    double plain = strtod(s, &end);
    if (*end == '\0' && end != s && isdigit((unsigned char)s[0])) {
        if (!isfinite(plain))
            return -EINVAL;
        *seconds = plain;
        return 0;
    }
    if (strcmp(s, "0") == 0) {
        *seconds = 0;
        return 0;
    }
    while (*p) {
        if (!isdigit((unsigned char)*p) && *p != '.')
            return -EINVAL;
        double v = strtod(p, &end);
        if (end == p)
            return -EINVAL;
        p = end;
        double mul;
        if (strncmp(p, "ns", 2) == 0) {
            mul = 1e-9;
            p += 2;
        } else if (strncmp(p, "us", 2) == 0) {
            mul = 1e-6;
            p += 2;
        } else if (strncmp(p, "\xc2\xb5s", 3) == 0) {
            mul = 1e-6;
            p += 3;
        } else if (strncmp(p, "ms", 2) == 0) {
            mul = 1e-3;
            p += 2;
        } else if (*p == 's') {
            mul = 1;
            p++;
        } else if (*p == 'm') {
            mul = 60;
            p++;
        } else if (*p == 'h') {
            mul = 3600;
            p++;
        } else if (*p == 'd') {
            mul = 86400;
            p++;
        } else {
            return -EINVAL;
        }
        total += v * mul;
    }
    if (!isfinite(total))
        return -EINVAL;
    *seconds = total;
    return 0;
}

static int parse_bool(const char *s, bool *out)
{
    static const char *const t[] = {"true", "yes", "on", "1"};
    static const char *const f[] = {"false", "no", "off", "0"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, t[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(s, f[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -EINVAL;
}

static const char *type_name(vg_opt_type t)
{
    switch (t) {
    case VG_OPT_INT: return "an integer";
    case VG_OPT_BOOL: return "a boolean (true or false)";
    case VG_OPT_DURATION: return "a duration (like 5s, 250ms, 1m30s)";
    case VG_OPT_FLOAT: return "a number";
    case VG_OPT_LIST: return "a list";
    default: return "a string";
    }
}

/* Convert e->str into the typed value; 0 or -EINVAL. */
static int convert(entry *e)
{
    const char *s = e->str ? e->str : "";
    char *end;
    switch (e->def->type) {
    case VG_OPT_INT: {
        if (!*s)
            return -EINVAL;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (*end || errno)
            return -EINVAL;
        e->i = v;
        return 0;
    }
    case VG_OPT_BOOL:
        return parse_bool(s, &e->b);
    case VG_OPT_DURATION: {
        double d;
        if (vg_duration_parse(s, &d))
            return -EINVAL;
        e->d = d;
        return 0;
    }
    case VG_OPT_FLOAT: {
        if (!*s)
            return -EINVAL;
        double d = strtod(s, &end);
        if (*end || !isfinite(d))
            return -EINVAL;
        e->d = d;
        return 0;
    }
    default:
        return 0;
    }
}

static int build(const vg_opt_def *const *defs, const size_t *ndefs, size_t ntables,
                 vg_config **out)
{
    vg_config *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    size_t total = 0;
    for (size_t t = 0; t < ntables; t++)
        total += ndefs[t];
    c->e = calloc(total ? total : 1, sizeof *c->e);
    if (!c->e) {
        free(c);
        return -ENOMEM;
    }
    for (size_t t = 0; t < ntables; t++) {
        for (size_t i = 0; i < ndefs[t]; i++) {
            const vg_opt_def *d = &defs[t][i];
            if (find(c, d->name))
                continue; /* first table wins */
            entry *e = &c->e[c->n++];
            e->def = d;
            if (set_scalar(e, SRC_DEFAULT, d->def)) {
                vg_config_free(c);
                return -ENOMEM;
            }
            if (d->type == VG_OPT_LIST && d->def && list_split(&e->list, d->def)) {
                vg_config_free(c);
                return -ENOMEM;
            }
        }
    }
    *out = c;
    return 0;
}

/* ---------------- YAML ---------------- */

typedef struct ywalk {
    vg_config *c;
    yaml_document_t *doc;
    const char *fname;
    vg_config_err *err;
    size_t leaves;
    char **seen;      /* flattened keys set from the file, for duplicates */
    size_t nseen;
} ywalk;

static int yerr(ywalk *w, yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int yerr(ywalk *w, yaml_node_t *n, const char *fmt, ...)
{
    char msg[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    set_err(w->err, "%s:%zu:%zu: %s", w->fname, n->start_mark.line + 1,
            n->start_mark.column + 1, msg);
    return -EINVAL;
}

static int mark_seen(ywalk *w, yaml_node_t *keynode, const char *name)
{
    for (size_t i = 0; i < w->nseen; i++)
        if (strcmp(w->seen[i], name) == 0)
            return yerr(w, keynode, "duplicate key \"%s\"", name);
    char **ns = realloc(w->seen, (w->nseen + 1) * sizeof *ns);
    if (!ns)
        return -ENOMEM;
    w->seen = ns;
    if (!(w->seen[w->nseen] = strdup(name)))
        return -ENOMEM;
    w->nseen++;
    return 0;
}

static const char *scalar(yaml_node_t *n) { return (const char *)n->data.scalar.value; }

static bool is_null_scalar(yaml_node_t *n)
{
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *s = scalar(n);
    return !*s || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
           strcmp(s, "NULL") == 0;
}

static int set_leaf(ywalk *w, yaml_node_t *key, entry *e, yaml_node_t *v)
{
    if (e->def->flags & VG_OPT_F_CLI_ONLY)
        return yerr(w, key, "\"%s\" can only be given as a flag", e->def->name);
    if (++w->leaves > MAX_LEAVES)
        return yerr(w, v, "too many values");
    if (e->def->type == VG_OPT_LIST) {
        strlist l = {0};
        if (v->type == YAML_SEQUENCE_NODE) {
            for (yaml_node_item_t *it = v->data.sequence.items.start;
                 it < v->data.sequence.items.top; it++) {
                yaml_node_t *item = yaml_document_get_node(w->doc, *it);
                if (!item || item->type != YAML_SCALAR_NODE) {
                    list_clear(&l);
                    return yerr(w, item ? item : v, "\"%s\": list items must be strings",
                                e->def->name);
                }
                if (++w->leaves > MAX_LEAVES || list_push(&l, scalar(item), strlen(scalar(item)))) {
                    list_clear(&l);
                    return yerr(w, v, "too many values");
                }
            }
        } else if (v->type == YAML_SCALAR_NODE) {
            if (!is_null_scalar(v) && list_split(&l, scalar(v))) {
                list_clear(&l);
                return -ENOMEM;
            }
        } else {
            return yerr(w, v, "\"%s\": expected a list, got a map", e->def->name);
        }
        list_clear(&e->list);
        e->list = l;
        e->src = SRC_FILE;
        return 0;
    }
    if (v->type != YAML_SCALAR_NODE)
        return yerr(w, v, "\"%s\": expected %s", e->def->name, type_name(e->def->type));
    const char *s = is_null_scalar(v) ? "" : scalar(v);
    char *old = e->str;
    src_t osrc = e->src;
    e->str = strdup(s);
    if (!e->str) {
        e->str = old;
        return -ENOMEM;
    }
    e->src = SRC_FILE;
    if (convert(e)) {
        free(e->str);
        e->str = old;
        e->src = osrc;
        return yerr(w, v, "\"%s\": expected %s", e->def->name, type_name(e->def->type));
    }
    free(old);
    return 0;
}

static int walk_map(ywalk *w, yaml_node_t *map, const char *prefix, int depth)
{
    if (depth > MAX_DEPTH)
        return yerr(w, map, "nesting deeper than %d levels", MAX_DEPTH);
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(w->doc, p->value);
        if (!k || !v)
            continue;
        if (k->type != YAML_SCALAR_NODE)
            return yerr(w, k, "keys must be strings");
        char name[256];
        int n = snprintf(name, sizeof name, "%s%s%s", prefix, *prefix ? "." : "", scalar(k));
        if (n < 0 || (size_t)n >= sizeof name)
            return yerr(w, k, "key too long");
        entry *e = find(w->c, name);
        if (e) {
            int rc = mark_seen(w, k, name);
            if (!rc)
                rc = set_leaf(w, k, e, v);
            if (rc)
                return rc;
        } else if (v->type == YAML_MAPPING_NODE && has_prefix(w->c, name)) {
            int rc = walk_map(w, v, name, depth + 1);
            if (rc)
                return rc;
        } else if (has_prefix(w->c, name)) {
            return yerr(w, v, "\"%s\": expected a map of options", name);
        } else {
            return yerr(w, k, "unknown key \"%s\"", name);
        }
    }
    return 0;
}

static int load_yaml(vg_config *c, const char *fname, const char *buf, size_t len,
                     vg_config_err *err)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    int rc = 0;
    if (!yaml_parser_initialize(&parser))
        return -ENOMEM;
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    if (!yaml_parser_load(&parser, &doc)) {
        set_err(err, "%s:%zu:%zu: invalid YAML: %s%s%s", fname, parser.problem_mark.line + 1,
                parser.problem_mark.column + 1, parser.problem ? parser.problem : "parse error",
                parser.context ? " " : "", parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        return -EINVAL;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root) {
        ywalk w = {c, &doc, fname, err, 0, NULL, 0};
        if (root->type == YAML_MAPPING_NODE) {
            rc = walk_map(&w, root, "", 0);
        } else if (root->type == YAML_SCALAR_NODE && is_null_scalar(root)) {
            rc = 0;
        } else {
            rc = yerr(&w, root, "the top level must be a map of options");
        }
        for (size_t i = 0; i < w.nseen; i++)
            free(w.seen[i]);
        free(w.seen);
        if (rc == -ENOMEM)
            set_err(err, "%s: out of memory", fname);
    }
    /* a second document is not allowed */
    if (!rc) {
        yaml_document_t doc2;
        if (yaml_parser_load(&parser, &doc2)) {
            yaml_node_t *r2 = yaml_document_get_root_node(&doc2);
            if (r2) {
                set_err(err, "%s:%zu:%zu: only one YAML document is allowed", fname,
                        r2->start_mark.line + 1, r2->start_mark.column + 1);
                rc = -EINVAL;
            }
            yaml_document_delete(&doc2);
        }
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return rc;
}

static int load_file(vg_config *c, const char *path, vg_config_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        set_err(err, "%s: %s", path, strerror(errno));
        return -EINVAL;
    }
    char *buf = malloc(MAX_FILE_BYTES + 1);
    if (!buf) {
        fclose(f);
        return -ENOMEM;
    }
    size_t n = fread(buf, 1, MAX_FILE_BYTES + 1, f);
    int ferr = ferror(f);
    fclose(f);
    int rc;
    if (ferr) {
        set_err(err, "%s: read error", path);
        rc = -EINVAL;
    } else if (n > MAX_FILE_BYTES) {
        set_err(err, "%s: larger than 1 MiB", path);
        rc = -EINVAL;
    } else {
        rc = load_yaml(c, path, buf, n, err);
    }
    free(buf);
    return rc;
}

/* ---------------- env and flags ---------------- */

static void env_name(const char *opt, char *out, size_t outlen)
{
    size_t k = (size_t)snprintf(out, outlen, "VIGIL_");
    for (const char *p = opt; *p && k + 1 < outlen; p++)
        out[k++] = (*p == '.' || *p == '-') ? '_' : (char)toupper((unsigned char)*p);
    out[k] = '\0';
}

static const char *env_get(char *const *envp, const char *name)
{
    size_t n = strlen(name);
    for (char *const *e = envp; e && *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

static int apply_value(entry *e, src_t src, const char *v, bool append, const char *what,
                       vg_config_err *err)
{
    if (e->def->type == VG_OPT_LIST) {
        if (!append || e->src != src)
            list_clear(&e->list);
        e->src = src;
        return list_split(&e->list, v) ? -ENOMEM : 0;
    }
    if (set_scalar(e, src, v))
        return -ENOMEM;
    if (convert(e)) {
        set_err(err, "%s: not %s: \"%s\"", what, type_name(e->def->type), v);
        return -EINVAL;
    }
    return 0;
}

typedef struct flagval {
    entry *e;
    const char *value;  /* points into argv or a literal */
    char what[160];
} flagval;

static int config_load(const vg_opt_def *const *defs, const size_t *ndefs, size_t ntables,
                       int argc, char *const *argv, char *const *envp, vg_config **out,
                       vg_config_err *err)
{
    vg_config *c = NULL;
    flagval *fv = NULL;
    size_t nfv = 0;
    int rc = build(defs, ndefs, ntables, &c);
    if (rc) {
        set_err(err, "out of memory");
        return rc;
    }
    if (!envp)
        envp = environ;
    fv = calloc((size_t)(argc > 0 ? argc : 1), sizeof *fv);
    if (!fv) {
        rc = -ENOMEM;
        goto fail;
    }
    const char *file = NULL;
    /* 1. flags: parse now (to find --config.file), apply last */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            c->help = true;
            continue;
        }
        if (strcmp(a, "--version") == 0) {
            c->version = true;
            continue;
        }
        if (strncmp(a, "--", 2) != 0 || !a[2]) {
            set_err(err, "unexpected argument \"%s\" (options start with --)", a);
            rc = -EINVAL;
            goto fail;
        }
        char name[256];
        const char *eq = strchr(a + 2, '=');
        size_t nl = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        if (nl >= sizeof name) {
            set_err(err, "unknown flag %.40s...", a);
            rc = -EINVAL;
            goto fail;
        }
        memcpy(name, a + 2, nl);
        name[nl] = '\0';
        bool negated = false;
        entry *e = find(c, name);
        if (!e && strncmp(name, "no-", 3) == 0) {
            e = find(c, name + 3);
            if (e && e->def->type != VG_OPT_BOOL)
                e = NULL;
            negated = e != NULL;
            if (negated && eq) {
                set_err(err, "flag --%s takes no value", name);
                rc = -EINVAL;
                goto fail;
            }
        }
        if (!e && strcmp(name, "config.file") == 0) {
            /* the file flag works even when no table lists it */
            const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v) {
                set_err(err, "flag --config.file needs a value");
                rc = -EINVAL;
                goto fail;
            }
            file = v;
            continue;
        }
        if (!e) {
            set_err(err, "unknown flag --%s", name);
            rc = -EINVAL;
            goto fail;
        }
        const char *v;
        if (negated)
            v = "false";
        else if (eq)
            v = eq + 1;
        else if (e->def->type == VG_OPT_BOOL)
            v = "true";
        else if (i + 1 < argc)
            v = argv[++i];
        else {
            set_err(err, "flag --%s needs a value", name);
            rc = -EINVAL;
            goto fail;
        }
        if (strcmp(e->def->name, "config.file") == 0)
            file = v;
        fv[nfv].e = e;
        fv[nfv].value = v;
        snprintf(fv[nfv].what, sizeof fv[nfv].what, "flag --%s", e->def->name);
        nfv++;
    }
    if (!file) {
        const char *v = env_get(envp, "VIGIL_CONFIG_FILE");
        if (v && *v)
            file = v;
    }
    /* 2. file */
    if (file && *file) {
        c->file = strdup(file);
        if (!c->file) {
            rc = -ENOMEM;
            goto fail;
        }
        rc = load_file(c, file, err);
        if (rc)
            goto fail;
    }
    /* 3. environment */
    for (size_t i = 0; i < c->n; i++) {
        entry *e = &c->e[i];
        if (e->def->flags & VG_OPT_F_CLI_ONLY)
            continue;
        char en[300];
        env_name(e->def->name, en, sizeof en);
        const char *v = env_get(envp, en);
        if (!v)
            continue;
        char what[320];
        snprintf(what, sizeof what, "env %s", en);
        rc = apply_value(e, SRC_ENV, v, false, what, err);
        if (rc)
            goto fail;
    }
    /* 4. flags */
    for (size_t i = 0; i < nfv; i++) {
        rc = apply_value(fv[i].e, SRC_FLAG, fv[i].value, true, fv[i].what, err);
        if (rc)
            goto fail;
    }
    /* 5. defaults must convert too (a bad table is a programming error) */
    for (size_t i = 0; i < c->n; i++) {
        entry *e = &c->e[i];
        if (e->src == SRC_DEFAULT && e->def->type != VG_OPT_LIST && e->def->def &&
            convert(e)) {
            set_err(err, "default of %s is not %s", e->def->name, type_name(e->def->type));
            rc = -EINVAL;
            goto fail;
        }
    }
    free(fv);
    *out = c;
    return 0;
fail:
    if (rc == -ENOMEM)
        set_err(err, "out of memory");
    free(fv);
    vg_config_free(c);
    return -EINVAL;
}

int vg_config_load(const vg_opt_def *const *defs, const size_t *ndefs, size_t ntables, int argc,
                   char *const *argv, char *const *envp, vg_config **out, vg_config_err *err)
{
    if (err)
        err->msg[0] = '\0';
    return config_load(defs, ndefs, ntables, argc, argv, envp, out, err);
}

int vg_config_load_yaml_mem(const vg_opt_def *const *defs, const size_t *ndefs, size_t ntables,
                            const char *name, const char *yaml, size_t len, vg_config **out,
                            vg_config_err *err)
{
    vg_config *c = NULL;
    if (err)
        err->msg[0] = '\0';
    if (build(defs, ndefs, ntables, &c)) {
        set_err(err, "out of memory");
        return -EINVAL;
    }
    if (len > MAX_FILE_BYTES) {
        set_err(err, "%s: larger than 1 MiB", name);
        vg_config_free(c);
        return -EINVAL;
    }
    int rc = load_yaml(c, name, yaml, len, err);
    if (rc) {
        vg_config_free(c);
        return -EINVAL;
    }
    *out = c;
    return 0;
}

bool vg_config_wants_help(const vg_config *c) { return c->help; }
bool vg_config_wants_version(const vg_config *c) { return c->version; }

const char *vg_config_str(const vg_config *c, const char *name)
{
    entry *e = find(c, name);
    return e && e->str ? e->str : "";
}

int64_t vg_config_int(const vg_config *c, const char *name)
{
    entry *e = find(c, name);
    return e ? e->i : 0;
}

bool vg_config_bool(const vg_config *c, const char *name)
{
    entry *e = find(c, name);
    return e ? e->b : false;
}

double vg_config_duration(const vg_config *c, const char *name)
{
    entry *e = find(c, name);
    return e ? e->d : 0;
}

double vg_config_float(const vg_config *c, const char *name)
{
    entry *e = find(c, name);
    return e ? e->d : 0;
}

size_t vg_config_list_len(const vg_config *c, const char *name)
{
    entry *e = find(c, name);
    return e ? e->list.n : 0;
}

const char *vg_config_list_at(const vg_config *c, const char *name, size_t i)
{
    entry *e = find(c, name);
    return e && i < e->list.n ? e->list.v[i] : NULL;
}

const char *vg_config_source(const vg_config *c, const char *name)
{
    entry *e = find(c, name);
    return src_names[e ? e->src : SRC_DEFAULT];
}

const char *vg_config_file(const vg_config *c) { return c->file; }

void vg_config_help(const vg_opt_def *const *defs, const size_t *ndefs, size_t ntables,
                    const char *prog, void *fp)
{
    FILE *f = fp;
    fprintf(f, "Options (flag, VIGIL_* environment variable, or YAML key; flags win):\n");
    fprintf(f, "  --help, -h\n      Show this help and exit.\n");
    fprintf(f, "  --version\n      Print version and revision and exit.\n");
    for (size_t t = 0; t < ntables; t++) {
        for (size_t i = 0; i < ndefs[t]; i++) {
            const vg_opt_def *d = &defs[t][i];
            char en[300];
            env_name(d->name, en, sizeof en);
            if (d->type == VG_OPT_BOOL)
                fprintf(f, "  --[no-]%s (default %s)\n", d->name, d->def ? d->def : "false");
            else
                fprintf(f, "  --%s=%s\n", d->name, d->def && *d->def ? d->def : "\"\"");
            fprintf(f, "      %s", d->help ? d->help : "");
            if (d->type == VG_OPT_LIST)
                fprintf(f, " (comma-separated or repeated)");
            if (!(d->flags & VG_OPT_F_CLI_ONLY))
                fprintf(f, " [env %s]", en);
            else
                fprintf(f, " [flag only]");
            fprintf(f, "\n");
        }
    }
    (void)prog;
}
