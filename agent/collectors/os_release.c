/*
 * os_release.c - the `os` collector (node_exporter compatible).
 */
#include "os_release.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vg_parse.h"

static const char *const os_keys[OS_NFIELDS] = {
    [OS_BUILD_ID] = "BUILD_ID", [OS_ID] = "ID", [OS_ID_LIKE] = "ID_LIKE",
    [OS_IMAGE_ID] = "IMAGE_ID", [OS_IMAGE_VERSION] = "IMAGE_VERSION", [OS_NAME] = "NAME",
    [OS_PRETTY_NAME] = "PRETTY_NAME", [OS_VARIANT] = "VARIANT", [OS_VARIANT_ID] = "VARIANT_ID",
    [OS_VERSION] = "VERSION", [OS_VERSION_CODENAME] = "VERSION_CODENAME",
    [OS_VERSION_ID] = "VERSION_ID",
};

static bool key_ok(vg_slice k)
{
    if (k.n == 0)
        return false;
    for (size_t i = 0; i < k.n; i++) {
        char c = k.p[i];
        bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
        if (!alpha && (i == 0 || c < '0' || c > '9'))
            return false;
    }
    return true;
}

/* Unquote a value into out (outlen bytes). 0 or -EINVAL. */
static int unquote(vg_slice v, char *out, size_t outlen)
{
    enum { NORMAL, DQUOTE, SQUOTE, ESCAPE } mode = NORMAL;
    size_t n = 0, sig = 0; /* sig: length up to the last significant char */
    for (size_t i = 0; i < v.n; i++) {
        unsigned char c = (unsigned char)v.p[i];
        if (c < 32 && c != '\t')
            return -EINVAL;
        if (n + 1 >= outlen)
            return -EINVAL;
        switch (mode) {
        case NORMAL:
            if (c == '"') {
                mode = DQUOTE;
            } else if (c == '\'') {
                mode = SQUOTE;
            } else if (c == '#') {
                out[sig] = '\0';
                return 0;
            } else {
                out[n++] = (char)c;
                if (c != ' ' && c != '\t')
                    sig = n;
            }
            break;
        case DQUOTE:
            if (c == '"') {
                mode = NORMAL;
            } else if (c == '\\') {
                mode = ESCAPE;
            } else {
                out[n++] = (char)c;
                sig = n;
            }
            break;
        case ESCAPE:
            switch (c) {
            case '"': case '\\': case '$': case '`': out[n++] = (char)c; break;
            case 'n': out[n++] = '\n'; break;
            case 't': out[n++] = '\t'; break;
            default: return -EINVAL;
            }
            sig = n;
            mode = DQUOTE;
            break;
        case SQUOTE:
            if (c == '\'') {
                mode = NORMAL;
            } else {
                out[n++] = (char)c;
                sig = n;
            }
            break;
        }
    }
    if (mode != NORMAL)
        return -EINVAL;
    out[n] = '\0';
    return 0;
}

int os_release_parse(const char *buf, size_t len, os_release *out, unsigned *skipped)
{
    memset(out, 0, sizeof *out);
    int set = 0;
    vg_lines it;
    vg_slice line;
    vg_lines_init(&it, buf, len);
    while (vg_lines_next(&it, &line)) {
        vg_slice t = vg_slice_trim(line);
        if (t.n == 0 || t.p[0] == '#')
            continue;
        const char *eq = memchr(t.p, '=', t.n);
        if (!eq) {
            (*skipped)++;
            continue;
        }
        vg_slice key = vg_slice_trim((vg_slice){t.p, (size_t)(eq - t.p)});
        vg_slice val = vg_slice_trim((vg_slice){eq + 1, (size_t)(t.p + t.n - (eq + 1))});
        if (vg_slice_has_prefix(key, "export ")) {
            key.p += 7;
            key.n -= 7;
            key = vg_slice_trim(key);
        }
        char tmp[OS_RELEASE_VALUE_MAX];
        if (!key_ok(key) || unquote(val, tmp, sizeof tmp)) {
            (*skipped)++;
            continue;
        }
        for (int k = 0; k < OS_NFIELDS; k++) {
            if (vg_slice_eq(key, os_keys[k])) {
                if (!out->v[k][0] && tmp[0])
                    set++;
                memcpy(out->v[k], tmp, strlen(tmp) + 1);
                break;
            }
        }
    }
    return set;
}

double os_release_version(const char *version_id)
{
    /* ^[0-9]+\.?[0-9]* */
    const char *p = version_id;
    char num[64];
    size_t n = 0;
    while (*p >= '0' && *p <= '9' && n < sizeof num - 2)
        num[n++] = *p++;
    if (n == 0)
        return 0;
    if (*p == '.') {
        num[n++] = *p++;
        while (*p >= '0' && *p <= '9' && n < sizeof num - 1)
            num[n++] = *p++;
    }
    num[n] = '\0';
    return strtod(num, NULL);
}

int os_release_emit(const os_release *r, vg_scrape *s)
{
    static const char *const info_labels[OS_NFIELDS] = {
        "build_id", "id", "id_like", "image_id", "image_version", "name", "pretty_name",
        "variant", "variant_id", "version", "version_codename", "version_id",
    };
    static const char *const version_labels[3] = {"id", "id_like", "name"};
    vg_family *fi = vg_scrape_family(
        s, "node_os_info", VG_MT_GAUGE,
        "A metric with a constant '1' value labeled by build_id, id, id_like, image_id, "
        "image_version, name, pretty_name, variant, variant_id, version, version_codename, "
        "version_id.",
        OS_NFIELDS, info_labels);
    const char *vals[OS_NFIELDS];
    for (int i = 0; i < OS_NFIELDS; i++)
        vals[i] = r->v[i];
    int rc = vg_family_addv(fi, 1.0, vals);
    if (rc)
        return rc;
    double ver = os_release_version(r->v[OS_VERSION_ID]);
    if (ver > 0) {
        vg_family *fv = vg_scrape_family(s, "node_os_version", VG_MT_GAUGE,
                                         "Metric containing the major.minor part of the OS "
                                         "version.",
                                         3, version_labels);
        rc = vg_family_add(fv, ver, r->v[OS_ID], r->v[OS_ID_LIKE], r->v[OS_NAME]);
    }
    return rc;
}

/* ---------- collector ---------- */

typedef struct os_collector {
    bool cached;
    char path[PATH_MAX];
    struct stat st;
    os_release rel;
} os_collector;

/*
 * The path to read for rel ("/etc/os-release"): <rootfs><rel>, or, when
 * that is a symlink to an absolute target, <rootfs><target>.
 */
static int os_resolve(agent_ctx *ctx, const char *rel, char *out, size_t outlen)
{
    int rc = agent_path(ctx, AGENT_ROOT_ROOTFS, rel, out, outlen);
    if (rc)
        return rc;
    const char *root = ctx->roots[AGENT_ROOT_ROOTFS];
    if (!root || !root[0])
        return 0;
    char target[PATH_MAX];
    ssize_t n = readlink(out, target, sizeof target - 1);
    if (n <= 0 || target[0] != '/')
        return 0; /* not a link, or relative: the kernel resolves it inside */
    target[n] = '\0';
    return agent_path(ctx, AGENT_ROOT_ROOTFS, target, out, outlen);
}

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static int os_init(agent_ctx *ctx, void **state)
{
    os_collector *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    *state = c;
    return 0;
}

static void os_release_state(void *state)
{
    free(state);
}

static int os_collect(agent_ctx *ctx, void *state, vg_scrape *s)
{
    static const char *const files[2] = {"/etc/os-release", "/usr/lib/os-release"};
    os_collector *c = state;
    char path[PATH_MAX];
    struct stat st;
    int rc = -ENOENT;
    for (int i = 0; i < 2 && rc == -ENOENT; i++) {
        rc = os_resolve(ctx, files[i], path, sizeof path);
        if (rc == 0 && stat(path, &st) != 0)
            rc = -errno;
    }
    if (rc)
        return rc;
    if (!c->cached || strcmp(path, c->path) != 0 || !same_file(&st, &c->st)) {
        c->cached = false;
        rc = vg_buf_read_file(&ctx->scratch, path, 1u << 20);
        if (rc)
            return rc;
        unsigned skipped = 0;
        os_release_parse(ctx->scratch.data, ctx->scratch.len, &c->rel, &skipped);
        for (unsigned i = 0; i < skipped; i++)
            agent_ctx_parse_error(ctx, "os", "os-release line");
        snprintf(c->path, sizeof c->path, "%s", path);
        c->st = st;
        c->cached = true;
    }
    return os_release_emit(&c->rel, s);
}

const agent_collector agent_collector_os = {
    .name = "os",
    .default_enabled = true,
    .help = "Operating system identification from /etc/os-release (node_os_info, node_os_version)",
    .init = os_init,
    .collect = os_collect,
    .release = os_release_state,
    .loop_safe = true,
};
