/*
 * proc_test_util.h - helpers shared by the /proc collector unit tests
 * (header-only: every test_*.c is its own binary).
 *
 * A test builds a vg_scrape from a parser or a collector, then looks at
 * single samples (pt_value) or at the encoded exposition (pt_text).
 * pt_ctx points an agent_ctx at a fixture tree under tests/fixtures/hosts
 * (tests run from the repository root) or at a temporary tree that
 * pt_tree_write fills.
 */
#ifndef PROC_TEST_UTIL_H
#define PROC_TEST_UTIL_H

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_collector.h"
#include "vg_prom.h"

typedef struct pt_env {
    agent_ctx ctx;
    char roots[4][PATH_MAX];
    char tmp[256];        /* temporary tree, "" when a fixture is used */
} pt_env;

/* Point env at tests/fixtures/hosts/<scenario>/{proc,sys,root,udev}. */
static inline void pt_ctx(pt_env *env, const char *scenario)
{
    static const char *const sub[4] = {"proc", "sys", "root", "udev"};
    memset(env, 0, sizeof *env);
    for (int i = 0; i < 4; i++) {
        snprintf(env->roots[i], sizeof env->roots[i], "tests/fixtures/hosts/%s/%s", scenario,
                 sub[i]);
        env->ctx.roots[i] = env->roots[i];
    }
    vg_buf_init(&env->ctx.scratch);
}

/* Point env at a fresh empty temporary tree (removed by pt_done). */
static inline void pt_ctx_tmp(pt_env *env)
{
    static const char *const sub[4] = {"proc", "sys", "root", "udev"};
    memset(env, 0, sizeof *env);
    snprintf(env->tmp, sizeof env->tmp, "/tmp/vigil-pt-XXXXXX");
    if (!mkdtemp(env->tmp))
        abort();
    for (int i = 0; i < 4; i++) {
        snprintf(env->roots[i], sizeof env->roots[i], "%s/%s", env->tmp, sub[i]);
        mkdir(env->roots[i], 0755);
        env->ctx.roots[i] = env->roots[i];
    }
    vg_buf_init(&env->ctx.scratch);
}

/* Write <root>/<rel> (parents created) with exactly the given bytes. */
static inline void pt_tree_write(pt_env *env, agent_root root, const char *rel,
                                 const char *content)
{
    char path[PATH_MAX * 2];
    snprintf(path, sizeof path, "%s%s", env->roots[root], rel);
    for (char *p = path + strlen(env->roots[root]) + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0755);
            *p = '/';
        }
    }
    FILE *f = fopen(path, "w");
    if (!f)
        abort();
    fputs(content, f);
    fclose(f);
}

static inline void pt_done(pt_env *env)
{
    vg_buf_release(&env->ctx.scratch);
    agent_ctx_release(&env->ctx);
    if (env->tmp[0]) {
        char cmd[PATH_MAX + 16];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", env->tmp);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", env->tmp);
    }
}

/* Run one collector (init, collect, release) into s; returns collect's rc. */
static inline int pt_collect(const agent_collector *c, pt_env *env, vg_scrape *s)
{
    void *state = NULL;
    if (c->init) {
        int rc = c->init(&env->ctx, &state);
        if (rc)
            return rc;
    }
    int rc = c->collect(&env->ctx, state, s);
    if (c->release)
        c->release(state);
    return rc;
}

/* The exposition text of s (heap, caller frees). */
static inline char *pt_text(vg_scrape *s)
{
    vg_buf b = VG_BUF_INIT;
    if (vg_prom_encode(s, VG_PROM_TEXT, &b) || !b.data) {
        vg_buf_release(&b);
        return strdup("");
    }
    return b.data;
}

/* Number of samples in a family (0 when absent). */
static inline size_t pt_count(vg_scrape *s, const char *name)
{
    const vg_family *f = vg_scrape_find(s, name);
    return f ? vg_family_sample_count(f) : 0;
}

/*
 * The value of the sample of family name whose label values are the
 * nlabels strings that follow; NAN when there is no such sample.
 */
static inline double pt_value(vg_scrape *s, const char *name, size_t nlabels, ...)
{
    const vg_family *f = vg_scrape_find(s, name);
    if (!f || vg_family_nlabels(f) != nlabels)
        return __builtin_nan("");
    const char *want[VG_MAX_LABELS];
    va_list ap;
    va_start(ap, nlabels);
    for (size_t i = 0; i < nlabels; i++)
        want[i] = va_arg(ap, const char *);
    va_end(ap);
    vg_sample_iter it;
    vg_sample_view sv;
    vg_family_iter_init(f, &it);
    while (vg_family_iter_next(&it, &sv)) {
        size_t i = 0;
        while (i < nlabels && strcmp(sv.values[i], want[i]) == 0)
            i++;
        if (i == nlabels)
            return sv.value;
    }
    return __builtin_nan("");
}

/* Type of a family, or -1 when absent. */
static inline int pt_type(vg_scrape *s, const char *name)
{
    const vg_family *f = vg_scrape_find(s, name);
    return f ? (int)vg_family_type(f) : -1;
}

#endif
