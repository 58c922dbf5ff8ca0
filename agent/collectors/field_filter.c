/*
 * field_filter.c - default-pattern fast path, POSIX regex otherwise.
 */
#include "field_filter.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void field_filter_init(field_filter *f, const char *def, field_filter_builtin_fn builtin)
{
    f->def = def;
    f->builtin = builtin;
    f->pattern = NULL;
}

void field_filter_release(field_filter *f)
{
    if (f->pattern) {
        regfree(&f->re);
        free(f->pattern);
        f->pattern = NULL;
    }
}

/* Go (RE2) to POSIX ERE for the shorthand classes users actually write. */
static char *translate(const char *p)
{
    size_t n = strlen(p);
    char *out = malloc(n * 12 + 1);
    if (!out)
        return NULL;
    char *w = out;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\\' && (p[i + 1] == 'd' || p[i + 1] == 'w')) {
            const char *cls = p[i + 1] == 'd' ? "[0-9]" : "[A-Za-z0-9_]";
            size_t cl = strlen(cls);
            memcpy(w, cls, cl);
            w += cl;
            i++;
        } else if (p[i] == '(' && p[i + 1] == '?') {
            free(out);
            return NULL; /* flags / non-capturing groups: not POSIX */
        } else {
            *w++ = p[i];
        }
    }
    *w = '\0';
    return out;
}

int field_filter_set(field_filter *f, const char *pattern)
{
    if (!pattern || !pattern[0] || (f->def && strcmp(pattern, f->def) == 0)) {
        field_filter_release(f);
        return 0;
    }
    if (f->pattern && strcmp(pattern, f->pattern) == 0)
        return 0;
    char *ere = translate(pattern);
    if (!ere)
        return -EINVAL;
    regex_t re;
    int rc = regcomp(&re, ere, REG_EXTENDED | REG_NOSUB);
    free(ere);
    if (rc)
        return rc == REG_ESPACE ? -ENOMEM : -EINVAL;
    char *copy = strdup(pattern);
    if (!copy) {
        regfree(&re);
        return -ENOMEM;
    }
    field_filter_release(f);
    f->pattern = copy;
    f->re = re;
    return 0;
}

int field_filter_pair_set(field_filter *exclude, field_filter *include, const char *exclude_pattern,
                          bool exclude_is_default, const char *include_pattern)
{
    if (include_pattern && include_pattern[0] && !exclude_is_default)
        return -EINVAL;
    int rc = field_filter_set(exclude, exclude_pattern);
    return rc ? rc : field_filter_set(include, include_pattern);
}

int field_filter_new(const char *def, field_filter_builtin_fn builtin, const char *pattern, field_filter **out)
{
    field_filter *f = malloc(sizeof *f);
    if (!f)
        return -ENOMEM;
    field_filter_init(f, def, builtin);
    int rc = field_filter_set(f, pattern);
    if (rc) {
        field_filter_release(f);
        free(f);
        return rc;
    }
    *out = f;
    return 0;
}

void field_filter_free(void *f)
{
    if (!f)
        return;
    field_filter_release(f);
    free(f);
}

int field_filter_pattern_dup(const field_filter *f, char **out)
{
    *out = NULL;
    if (f && f->pattern && !(*out = strdup(f->pattern)))
        return -ENOMEM;
    return 0;
}

bool field_filter_uses(const field_filter *f, const char *pattern)
{
    const char *mine = f ? f->pattern : NULL;
    return mine == pattern || (mine && pattern && strcmp(mine, pattern) == 0);
}

bool field_filter_match(const field_filter *f, const char *name)
{
    if (!f->pattern)
        return f->builtin(name);
    return regexec(&f->re, name, 0, NULL, 0) == 0;
}
