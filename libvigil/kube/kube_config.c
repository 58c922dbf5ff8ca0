/*
 * kube_config.c - kubeconfig and in-cluster loading, token file rotation,
 * exec credential plugins.
 *
 * YAML is read with libyaml's document API (anchors resolve to shared
 * nodes, so alias bombs cost no memory; we only do bounded lookups).
 * Several $KUBECONFIG files are loaded as separate documents and searched
 * in order: the first file that names a context/cluster/user wins, and
 * current-context comes from the first file that sets one.
 */
#include "kube_config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>

#include "kube_base64.h"
#include "kube_json.h"
#include "kube_time.h"

extern char **environ;

#define MAX_KUBECONFIG_BYTES (4u << 20)
#define MAX_PEM_BYTES (1u << 20)
#define MAX_TOKEN_BYTES (64u << 10)
#define MAX_EXEC_OUT (1u << 20)
#define MAX_DOCS 8

struct kube_config {
    char *source;
    char *server;
    char *ns;
    char *tls_server_name;
    bool insecure;
    vg_buf ca, cert, key;
    vg_log *log;

    /* credential cache, guarded by mu */
    pthread_mutex_t mu;
    char *static_token;
    char *token_file;
    vg_buf token;
    uint64_t token_read_ms;
    bool token_valid;
    bool token_stale;
    unsigned reload_ms;
    /* exec plugin */
    char *exec_cmd;
    char **exec_argv;   /* NULL-terminated, argv[0] = command */
    char **exec_env;    /* NULL-terminated NAME=VALUE additions */
    char *exec_api;
    unsigned exec_timeout_ms;
    bool no_exec;
    int64_t exec_expiry_us;   /* 0 = no expiry given */
    vg_buf exec_cert, exec_key;
    kube_config_stats stats;
};

typedef struct loader {
    yaml_document_t docs[MAX_DOCS];
    char *dirs[MAX_DOCS];
    const char *names[MAX_DOCS];
    size_t ndocs;
    char *err;
    size_t errlen;
    bool no_files;
} loader;

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

void kube_creds_init(kube_creds *c)
{
    vg_buf_init(&c->token);
    vg_buf_init(&c->cert);
    vg_buf_init(&c->key);
}

void kube_creds_release(kube_creds *c)
{
    vg_buf_release(&c->token);
    vg_buf_release(&c->cert);
    vg_buf_release(&c->key);
}

static const char *env_get(char *const *envp, const char *name)
{
    size_t n = strlen(name);
    for (char *const *e = envp ? envp : environ; e && *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

static kube_config *cfg_alloc(const kube_config_opts *o)
{
    kube_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg)
        return NULL;
    pthread_mutex_init(&cfg->mu, NULL);
    cfg->reload_ms = o->token_reload_ms ? o->token_reload_ms : 60000;
    cfg->exec_timeout_ms = o->exec_timeout_ms ? o->exec_timeout_ms : 30000;
    cfg->no_exec = o->no_exec;
    cfg->log = o->log;
    return cfg;
}

static void strv_free(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

void kube_config_free(kube_config *cfg)
{
    if (!cfg)
        return;
    free(cfg->source);
    free(cfg->server);
    free(cfg->ns);
    free(cfg->tls_server_name);
    vg_buf_release(&cfg->ca);
    /* wipe secrets before freeing */
    if (cfg->key.data)
        memset(cfg->key.data, 0, cfg->key.cap);
    vg_buf_release(&cfg->cert);
    vg_buf_release(&cfg->key);
    if (cfg->token.data)
        memset(cfg->token.data, 0, cfg->token.cap);
    vg_buf_release(&cfg->token);
    if (cfg->static_token)
        memset(cfg->static_token, 0, strlen(cfg->static_token));
    free(cfg->static_token);
    free(cfg->token_file);
    free(cfg->exec_cmd);
    strv_free(cfg->exec_argv);
    strv_free(cfg->exec_env);
    free(cfg->exec_api);
    if (cfg->exec_key.data)
        memset(cfg->exec_key.data, 0, cfg->exec_key.cap);
    vg_buf_release(&cfg->exec_cert);
    vg_buf_release(&cfg->exec_key);
    pthread_mutex_destroy(&cfg->mu);
    free(cfg);
}

/* ---------------- YAML navigation ---------------- */

static yaml_node_t *y_root(yaml_document_t *d) { return yaml_document_get_root_node(d); }

static yaml_node_t *y_get(yaml_document_t *d, yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(d, p->key);
        if (k && k->type == YAML_SCALAR_NODE && k->data.scalar.length == strlen(key) &&
            memcmp(k->data.scalar.value, key, k->data.scalar.length) == 0)
            return yaml_document_get_node(d, p->value);
    }
    return NULL;
}

/* Scalar value (NUL-terminated by libyaml) or NULL when absent/not a scalar.
 * Embedded NULs are rejected by returning NULL. */
static const char *y_str(yaml_node_t *n)
{
    if (!n || n->type != YAML_SCALAR_NODE)
        return NULL;
    if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
        return NULL;
    return (const char *)n->data.scalar.value;
}

static bool y_true(yaml_node_t *n)
{
    const char *s = y_str(n);
    return s && (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0 ||
                 strcmp(s, "yes") == 0);
}

/* Find entry `name` in the sequence `list` (clusters/users/contexts) of any
 * document, in order; returns the inner `field` mapping and its doc index. */
static yaml_node_t *find_named(loader *L, const char *list, const char *name, const char *field, size_t *docidx)
{
    for (size_t i = 0; i < L->ndocs; i++) {
        yaml_document_t *d = &L->docs[i];
        yaml_node_t *seq = y_get(d, y_root(d), list);
        if (!seq || seq->type != YAML_SEQUENCE_NODE)
            continue;
        for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
            yaml_node_t *e = yaml_document_get_node(d, *it);
            const char *n = y_str(y_get(d, e, "name"));
            if (n && strcmp(n, name) == 0) {
                yaml_node_t *inner = y_get(d, e, field);
                if (inner && inner->type == YAML_MAPPING_NODE) {
                    *docidx = i;
                    return inner;
                }
            }
        }
    }
    return NULL;
}

static int parse_doc(loader *L, const char *yaml, size_t len, const char *name, const char *dir)
{
    if (L->ndocs >= MAX_DOCS)
        return 0; /* more files than we merge: ignored */
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        return -ENOMEM;
    yaml_parser_set_input_string(&p, (const unsigned char *)yaml, len);
    yaml_document_t *d = &L->docs[L->ndocs];
    int rc = 0;
    if (!yaml_parser_load(&p, d)) {
        seterr(L->err, L->errlen, "%s:%zu:%zu: %s", name, p.problem_mark.line + 1, p.problem_mark.column + 1,
               p.problem ? p.problem : "malformed YAML");
        rc = -EINVAL;
    } else if (!y_root(d)) {
        yaml_document_delete(d);
        seterr(L->err, L->errlen, "%s: empty kubeconfig", name);
        rc = -EINVAL;
    } else if (y_root(d)->type != YAML_MAPPING_NODE) {
        yaml_document_delete(d);
        seterr(L->err, L->errlen, "%s: kubeconfig is not a mapping", name);
        rc = -EINVAL;
    } else {
        L->dirs[L->ndocs] = dir ? strdup(dir) : NULL;
        L->names[L->ndocs] = name;
        L->ndocs++;
    }
    yaml_parser_delete(&p);
    return rc;
}

static void loader_release(loader *L)
{
    for (size_t i = 0; i < L->ndocs; i++) {
        yaml_document_delete(&L->docs[i]);
        free(L->dirs[i]);
    }
    L->ndocs = 0;
}

/* Resolve a path from a kubeconfig relative to its file's directory. */
static int resolve(const char *dir, const char *path, char *out, size_t n)
{
    int w;
    if (path[0] == '/' || !dir || !dir[0])
        w = snprintf(out, n, "%s", path);
    else
        w = snprintf(out, n, "%s/%s", dir, path);
    return (w < 0 || (size_t)w >= n) ? -ENAMETOOLONG : 0;
}

/* file or inline data into a buffer */
static int load_blob(loader *L, size_t di, yaml_node_t *m, const char *file_key, const char *data_key,
                     vg_buf *out, const char *what)
{
    yaml_document_t *d = &L->docs[di];
    const char *data = y_str(y_get(d, m, data_key));
    const char *file = y_str(y_get(d, m, file_key));
    int rc = 0;
    vg_buf_reset(out);
    if (data && data[0]) {
        rc = kube_base64_decode(data, strlen(data), out);
        if (rc)
            seterr(L->err, L->errlen, "%s: %s: invalid base64 in %s", L->names[di], what, data_key);
    } else if (file && file[0] && L->no_files) {
        seterr(L->err, L->errlen, "%s: %s: file references refused", L->names[di], what);
        rc = -EPERM;
    } else if (file && file[0]) {
        char path[PATH_MAX];
        rc = resolve(L->dirs[di], file, path, sizeof path);
        if (!rc)
            rc = vg_buf_read_file(out, path, MAX_PEM_BYTES);
        if (rc)
            seterr(L->err, L->errlen, "%s: %s: cannot read %s: %s", L->names[di], what, file, strerror(-rc));
    }
    return rc;
}

static char **strv_from_seq(yaml_document_t *d, yaml_node_t *seq, const char *first)
{
    size_t n = 0;
    if (seq && seq->type == YAML_SEQUENCE_NODE)
        n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    char **v = calloc(n + 2, sizeof *v);
    if (!v)
        return NULL;
    size_t k = 0;
    if (first && !(v[k++] = strdup(first)))
        goto fail;
    for (size_t i = 0; i < n; i++) {
        const char *s = y_str(yaml_document_get_node(d, seq->data.sequence.items.start[i]));
        if (!s)
            continue;
        if (!(v[k++] = strdup(s)))
            goto fail;
    }
    return v;
fail:
    strv_free(v);
    return NULL;
}

static int load_exec(loader *L, size_t di, yaml_node_t *ex, kube_config *cfg)
{
    yaml_document_t *d = &L->docs[di];
    const char *cmd = y_str(y_get(d, ex, "command"));
    if (!cmd || !cmd[0]) {
        seterr(L->err, L->errlen, "%s: exec plugin without command", L->names[di]);
        return -EINVAL;
    }
    /* a relative command with a slash is relative to the kubeconfig's dir */
    char path[PATH_MAX];
    if (strchr(cmd, '/') && cmd[0] != '/') {
        if (resolve(L->dirs[di], cmd, path, sizeof path))
            return -ENAMETOOLONG;
        cmd = path;
    }
    const char *api = y_str(y_get(d, ex, "apiVersion"));
    cfg->exec_cmd = strdup(cmd);
    cfg->exec_api = strdup(api ? api : "client.authentication.k8s.io/v1");
    cfg->exec_argv = strv_from_seq(d, y_get(d, ex, "args"), cmd);
    yaml_node_t *env = y_get(d, ex, "env");
    size_t n = 0;
    if (env && env->type == YAML_SEQUENCE_NODE)
        n = (size_t)(env->data.sequence.items.top - env->data.sequence.items.start);
    cfg->exec_env = calloc(n + 1, sizeof(char *));
    if (!cfg->exec_cmd || !cfg->exec_api || !cfg->exec_argv || !cfg->exec_env)
        return -ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *e = yaml_document_get_node(d, env->data.sequence.items.start[i]);
        const char *en = y_str(y_get(d, e, "name"));
        const char *ev = y_str(y_get(d, e, "value"));
        if (!en || !en[0] || strchr(en, '='))
            continue;
        if (asprintf(&cfg->exec_env[k], "%s=%s", en, ev ? ev : "") < 0) {
            cfg->exec_env[k] = NULL;
            return -ENOMEM;
        }
        k++;
    }
    return 0;
}

static int load_from_docs(loader *L, const kube_config_opts *o, const char *source, kube_config **out)
{
    const char *ctxname = o->context && o->context[0] ? o->context : NULL;
    for (size_t i = 0; !ctxname && i < L->ndocs; i++) {
        const char *cc = y_str(y_get(&L->docs[i], y_root(&L->docs[i]), "current-context"));
        if (cc && cc[0])
            ctxname = cc;
    }
    if (!ctxname) {
        seterr(L->err, L->errlen, "%s: no current-context and no --context", source);
        return -EINVAL;
    }
    size_t cdi, kdi, udi = 0;
    yaml_node_t *ctx = find_named(L, "contexts", ctxname, "context", &cdi);
    if (!ctx) {
        seterr(L->err, L->errlen, "%s: context \"%s\" not found", source, ctxname);
        return -EINVAL;
    }
    const char *clname = y_str(y_get(&L->docs[cdi], ctx, "cluster"));
    const char *uname = y_str(y_get(&L->docs[cdi], ctx, "user"));
    const char *ns = y_str(y_get(&L->docs[cdi], ctx, "namespace"));
    yaml_node_t *cl = clname ? find_named(L, "clusters", clname, "cluster", &kdi) : NULL;
    if (!cl) {
        seterr(L->err, L->errlen, "%s: cluster \"%s\" of context \"%s\" not found", source,
               clname ? clname : "", ctxname);
        return -EINVAL;
    }
    yaml_node_t *user = uname && uname[0] ? find_named(L, "users", uname, "user", &udi) : NULL;
    if (uname && uname[0] && !user) {
        seterr(L->err, L->errlen, "%s: user \"%s\" of context \"%s\" not found", source, uname, ctxname);
        return -EINVAL;
    }
    const char *server = y_str(y_get(&L->docs[kdi], cl, "server"));
    if (!server || !server[0]) {
        seterr(L->err, L->errlen, "%s: cluster \"%s\" has no server", source, clname);
        return -EINVAL;
    }
    if (strncmp(server, "https://", 8) != 0 && strncmp(server, "http://", 7) != 0) {
        seterr(L->err, L->errlen, "%s: cluster \"%s\": server must be an http(s) URL", source, clname);
        return -EINVAL;
    }
    kube_config *cfg = cfg_alloc(o);
    int rc = -ENOMEM;
    if (!cfg)
        return -ENOMEM;
    cfg->source = strdup(source);
    cfg->server = strdup(server);
    cfg->ns = strdup(ns && ns[0] ? ns : "default");
    if (!cfg->source || !cfg->server || !cfg->ns)
        goto fail;
    size_t sl = strlen(cfg->server);
    while (sl > 0 && cfg->server[sl - 1] == '/')
        cfg->server[--sl] = '\0';
    const char *tsn = y_str(y_get(&L->docs[kdi], cl, "tls-server-name"));
    if (tsn && tsn[0] && !(cfg->tls_server_name = strdup(tsn)))
        goto fail;
    cfg->insecure = y_true(y_get(&L->docs[kdi], cl, "insecure-skip-tls-verify"));
    if ((rc = load_blob(L, kdi, cl, "certificate-authority", "certificate-authority-data", &cfg->ca,
                        "certificate authority")))
        goto fail;
    if (user) {
        yaml_document_t *d = &L->docs[udi];
        if ((rc = load_blob(L, udi, user, "client-certificate", "client-certificate-data", &cfg->cert,
                            "client certificate")))
            goto fail;
        if ((rc = load_blob(L, udi, user, "client-key", "client-key-data", &cfg->key, "client key")))
            goto fail;
        if ((cfg->cert.len > 0) != (cfg->key.len > 0)) {
            seterr(L->err, L->errlen, "%s: user \"%s\": client certificate and key must come together",
                   source, uname);
            rc = -EINVAL;
            goto fail;
        }
        const char *tok = y_str(y_get(d, user, "token"));
        const char *tf = y_str(y_get(d, user, "tokenFile"));
        rc = -ENOMEM;
        if (tok && tok[0] && !(cfg->static_token = strdup(tok)))
            goto fail;
        if (tf && tf[0] && L->no_files) {
            seterr(L->err, L->errlen, "%s: tokenFile refused", source);
            rc = -EPERM;
            goto fail;
        }
        if (tf && tf[0]) {
            char path[PATH_MAX];
            if ((rc = resolve(L->dirs[udi], tf, path, sizeof path)))
                goto fail;
            rc = -ENOMEM;
            if (!(cfg->token_file = strdup(path)))
                goto fail;
        }
        yaml_node_t *ex = y_get(d, user, "exec");
        if (ex && ex->type == YAML_MAPPING_NODE && (rc = load_exec(L, udi, ex, cfg)))
            goto fail;
    }
    if (cfg->insecure) {
        if (cfg->ca.len) {
            seterr(L->err, L->errlen,
                   "%s: cluster \"%s\": insecure-skip-tls-verify together with a CA is contradictory", source,
                   clname);
            rc = -EINVAL;
            goto fail;
        }
        vg_log_warn(o->log, "kube", "TLS verification of the API server is disabled (insecure-skip-tls-verify)",
                    "source", source, "cluster", clname);
    }
    *out = cfg;
    return 0;
fail:
    kube_config_free(cfg);
    return rc;
}

int kube_config_load_mem(const char *yaml, size_t len, const char *base_dir, const kube_config_opts *opts,
                         kube_config **out, char *err, size_t errlen)
{
    kube_config_opts def = {0};
    const kube_config_opts *o = opts ? opts : &def;
    loader L = {.err = err, .errlen = errlen, .no_files = o->no_files};
    int rc = parse_doc(&L, yaml, len, "kubeconfig", base_dir);
    if (rc == 0)
        rc = load_from_docs(&L, o, "kubeconfig", out);
    loader_release(&L);
    return rc;
}

static int load_files(const kube_config_opts *o, char **paths, size_t n, kube_config **out, char *err,
                      size_t errlen)
{
    loader L = {.err = err, .errlen = errlen};
    vg_buf bufs[MAX_DOCS];
    size_t nb = 0;
    int rc = 0;
    for (size_t i = 0; i < n && nb < MAX_DOCS; i++) {
        vg_buf_init(&bufs[nb]);
        rc = vg_buf_read_file(&bufs[nb], paths[i], MAX_KUBECONFIG_BYTES);
        if (rc) {
            vg_buf_release(&bufs[nb]);
            if (rc == -ENOENT && i > 0)
                continue; /* later $KUBECONFIG entries may be absent */
            seterr(err, errlen, "%s: %s", paths[i], strerror(-rc));
            goto out;
        }
        nb++;
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", paths[i]);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        else
            strcpy(dir, ".");
        if ((rc = parse_doc(&L, bufs[nb - 1].data ? bufs[nb - 1].data : "", bufs[nb - 1].len, paths[i], dir)))
            goto out;
    }
    rc = load_from_docs(&L, o, paths[0], out);
out:
    loader_release(&L);
    for (size_t i = 0; i < nb; i++)
        vg_buf_release(&bufs[i]);
    return rc;
}

static int load_in_cluster(const kube_config_opts *o, const char *host, const char *port, kube_config **out,
                           char *err, size_t errlen)
{
    const char *dir = o->sa_dir ? o->sa_dir : KUBE_SA_DIR;
    kube_config *cfg = cfg_alloc(o);
    if (!cfg)
        return -ENOMEM;
    int rc = -ENOMEM;
    bool v6 = strchr(host, ':') != NULL;
    if (asprintf(&cfg->server, v6 ? "https://[%s]:%s" : "https://%s:%s", host, port) < 0) {
        cfg->server = NULL;
        goto fail;
    }
    cfg->source = strdup("in-cluster");
    if (asprintf(&cfg->token_file, "%s/token", dir) < 0) {
        cfg->token_file = NULL;
        goto fail;
    }
    if (!cfg->source)
        goto fail;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/ca.crt", dir);
    if ((rc = vg_buf_read_file(&cfg->ca, path, MAX_PEM_BYTES))) {
        seterr(err, errlen, "in-cluster: cannot read %s: %s", path, strerror(-rc));
        goto fail;
    }
    vg_buf nsb = VG_BUF_INIT;
    snprintf(path, sizeof path, "%s/namespace", dir);
    if (vg_buf_read_file(&nsb, path, 4096) == 0) {
        vg_slice s = vg_slice_trim((vg_slice){nsb.data, nsb.len});
        cfg->ns = strndup(s.p, s.n);
    }
    vg_buf_release(&nsb);
    if (!cfg->ns || !cfg->ns[0]) {
        free(cfg->ns);
        cfg->ns = strdup("default");
    }
    rc = -ENOMEM;
    if (!cfg->ns)
        goto fail;
    /* the token must be readable now; later failures keep the last token */
    kube_creds cr;
    kube_creds_init(&cr);
    rc = kube_config_creds(cfg, &cr);
    kube_creds_release(&cr);
    if (rc) {
        seterr(err, errlen, "in-cluster: cannot read %s: %s", cfg->token_file, strerror(-rc));
        goto fail;
    }
    *out = cfg;
    return 0;
fail:
    kube_config_free(cfg);
    return rc;
}

int kube_config_load(const kube_config_opts *opts, kube_config **out, char *err, size_t errlen)
{
    kube_config_opts def = {0};
    const kube_config_opts *o = opts ? opts : &def;
    if (o->kubeconfig && o->kubeconfig[0]) {
        char *p = (char *)o->kubeconfig;
        return load_files(o, &p, 1, out, err, errlen);
    }
    const char *kc = env_get(o->envp, "KUBECONFIG");
    if (kc && kc[0]) {
        char *copy = strdup(kc), *save = NULL;
        char *paths[MAX_DOCS];
        size_t n = 0;
        if (!copy)
            return -ENOMEM;
        for (char *t = strtok_r(copy, ":", &save); t && n < MAX_DOCS; t = strtok_r(NULL, ":", &save))
            if (t[0])
                paths[n++] = t;
        int rc = n ? load_files(o, paths, n, out, err, errlen) : -ENOENT;
        free(copy);
        return rc;
    }
    const char *host = env_get(o->envp, "KUBERNETES_SERVICE_HOST");
    const char *port = env_get(o->envp, "KUBERNETES_SERVICE_PORT");
    if (!o->no_in_cluster && host && host[0] && port && port[0])
        return load_in_cluster(o, host, port, out, err, errlen);
    const char *home = env_get(o->envp, "HOME");
    if (home && home[0]) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/.kube/config", home);
        if (access(path, R_OK) == 0) {
            char *p = path;
            return load_files(o, &p, 1, out, err, errlen);
        }
    }
    seterr(err, errlen, "no kubeconfig (--kubeconfig, $KUBECONFIG, ~/.kube/config) and not in a cluster "
                        "(KUBERNETES_SERVICE_HOST unset)");
    return -ENOENT;
}

/* ---------------- accessors ---------------- */

const char *kube_config_server(const kube_config *cfg) { return cfg->server; }
const char *kube_config_namespace(const kube_config *cfg) { return cfg->ns; }
const char *kube_config_source(const kube_config *cfg) { return cfg->source; }
bool kube_config_insecure(const kube_config *cfg) { return cfg->insecure; }
const char *kube_config_tls_server_name(const kube_config *cfg) { return cfg->tls_server_name; }

const void *kube_config_ca(const kube_config *cfg, size_t *len)
{
    *len = cfg->ca.len;
    return cfg->ca.len ? cfg->ca.data : NULL;
}

void kube_config_stats_get(kube_config *cfg, kube_config_stats *out)
{
    pthread_mutex_lock(&cfg->mu);
    *out = cfg->stats;
    pthread_mutex_unlock(&cfg->mu);
}

void kube_config_token_invalidate(kube_config *cfg)
{
    pthread_mutex_lock(&cfg->mu);
    cfg->token_stale = true;
    pthread_mutex_unlock(&cfg->mu);
}

/* ---------------- token file ---------------- */

static int read_token_file(kube_config *cfg)
{
    vg_buf b = VG_BUF_INIT;
    int rc = vg_buf_read_file(&b, cfg->token_file, MAX_TOKEN_BYTES);
    cfg->stats.token_reads++;
    if (rc == 0) {
        vg_slice s = vg_slice_trim((vg_slice){b.data ? b.data : "", b.len});
        if (s.n == 0) {
            rc = -ENODATA;
        } else {
            vg_buf_reset(&cfg->token);
            rc = vg_buf_append(&cfg->token, s.p, s.n);
            cfg->token_valid = rc == 0;
        }
    }
    if (b.data)
        memset(b.data, 0, b.cap);
    vg_buf_release(&b);
    return rc;
}

/* ---------------- exec plugin ---------------- */

static int parse_exec_output(kube_config *cfg, const char *s, size_t n)
{
    kj c;
    kj_init(&c, s, n);
    vg_slice key;
    vg_buf tok = VG_BUF_INIT, cert = VG_BUF_INIT, keyb = VG_BUF_INIT, tmp = VG_BUF_INIT;
    int64_t exp = 0;
    bool have_status = false;
    int rc = kj_obj_begin(&c);
    while (rc == 0 && (rc = kj_obj_next(&c, &key)) > 0) {
        if (!kj_key_is(key, "status") || kj_peek(&c) != KJ_OBJ) {
            rc = kj_skip(&c);
            continue;
        }
        have_status = true;
        rc = kj_obj_begin(&c);
        while (rc == 0 && (rc = kj_obj_next(&c, &key)) > 0) {
            if (kj_key_is(key, "token")) {
                rc = kj_str_buf(&c, &tmp);
                if (!rc) {
                    vg_buf_reset(&tok);
                    rc = vg_buf_append(&tok, tmp.data, tmp.len);
                }
            } else if (kj_key_is(key, "clientCertificateData")) {
                rc = kj_str_buf(&c, &tmp);
                if (!rc) {
                    vg_buf_reset(&cert);
                    rc = vg_buf_append(&cert, tmp.data, tmp.len);
                }
            } else if (kj_key_is(key, "clientKeyData")) {
                rc = kj_str_buf(&c, &tmp);
                if (!rc) {
                    vg_buf_reset(&keyb);
                    rc = vg_buf_append(&keyb, tmp.data, tmp.len);
                }
            } else if (kj_key_is(key, "expirationTimestamp") && kj_peek(&c) == KJ_STR) {
                rc = kj_str_buf(&c, &tmp);
                if (!rc && tmp.len && kube_time_parse(tmp.data, tmp.len, &exp))
                    rc = -EINVAL;
            } else {
                rc = kj_skip(&c);
            }
        }
        rc = rc < 0 ? rc : 0;
    }
    if (rc == 0)
        rc = kj_finish(&c);
    if (rc == 0 && (!have_status || (tok.len == 0 && cert.len == 0)))
        rc = -ENODATA;
    if (rc == 0 && (cert.len > 0) != (keyb.len > 0))
        rc = -EINVAL;
    if (rc == 0) {
        vg_buf_reset(&cfg->token);
        vg_buf_append(&cfg->token, tok.data ? tok.data : "", tok.len);
        vg_buf_reset(&cfg->exec_cert);
        vg_buf_reset(&cfg->exec_key);
        if (cert.len) {
            vg_buf_append(&cfg->exec_cert, cert.data, cert.len);
            vg_buf_append(&cfg->exec_key, keyb.data, keyb.len);
        }
        cfg->exec_expiry_us = exp;
        cfg->token_valid = true;
    }
    if (keyb.data)
        memset(keyb.data, 0, keyb.cap);
    if (tok.data)
        memset(tok.data, 0, tok.cap);
    vg_buf_release(&tok);
    vg_buf_release(&cert);
    vg_buf_release(&keyb);
    vg_buf_release(&tmp);
    return rc;
}

static int run_exec(kube_config *cfg)
{
    if (cfg->no_exec)
        return -EPERM;
    cfg->stats.exec_runs++;
    /* environment: ours + plugin additions + KUBERNETES_EXEC_INFO */
    size_t ne = 0, na = 0;
    for (char **e = environ; e && *e; e++)
        ne++;
    for (char **e = cfg->exec_env; e && *e; e++)
        na++;
    char **envv = calloc(ne + na + 2, sizeof *envv);
    char *info = NULL;
    int pipefd[2] = {-1, -1};
    pid_t pid = -1;
    vg_buf outb = VG_BUF_INIT;
    int rc = -ENOMEM;
    posix_spawn_file_actions_t fa;
    bool fa_init = false;
    if (!envv)
        goto out;
    size_t k = 0;
    for (char **e = environ; e && *e; e++)
        if (strncmp(*e, "KUBERNETES_EXEC_INFO=", 21) != 0)
            envv[k++] = *e;
    for (char **e = cfg->exec_env; e && *e; e++)
        envv[k++] = *e;
    if (asprintf(&info,
                 "KUBERNETES_EXEC_INFO={\"apiVersion\":\"%s\",\"kind\":\"ExecCredential\",\"spec\":{\"interactive\":false}}",
                 cfg->exec_api) < 0) {
        info = NULL;
        goto out;
    }
    envv[k++] = info;
    if (pipe2(pipefd, O_CLOEXEC)) {
        rc = -errno;
        goto out;
    }
    if (posix_spawn_file_actions_init(&fa))
        goto out;
    fa_init = true;
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    int sr = posix_spawnp(&pid, cfg->exec_cmd, &fa, NULL, cfg->exec_argv, envv);
    close(pipefd[1]);
    pipefd[1] = -1;
    if (sr) {
        pid = -1;
        rc = -sr;
        goto out;
    }
    uint64_t deadline = mono_ms() + cfg->exec_timeout_ms;
    rc = 0;
    for (;;) {
        uint64_t now = mono_ms();
        if (now >= deadline) {
            rc = -ETIMEDOUT;
            break;
        }
        struct pollfd pfd = {.fd = pipefd[0], .events = POLLIN};
        int pr = poll(&pfd, 1, (int)(deadline - now));
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0) {
            rc = pr == 0 ? -ETIMEDOUT : -errno;
            break;
        }
        char buf[4096];
        ssize_t r = read(pipefd[0], buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (outb.len + (size_t)r > MAX_EXEC_OUT) {
            rc = -EFBIG;
            break;
        }
        if (vg_buf_append(&outb, buf, (size_t)r)) {
            rc = -ENOMEM;
            break;
        }
    }
    if (rc)
        kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    pid = -1;
    if (rc == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
        rc = -ECHILD;
    if (rc == 0)
        rc = parse_exec_output(cfg, outb.data ? outb.data : "", outb.len);
out:
    if (fa_init)
        posix_spawn_file_actions_destroy(&fa);
    if (pipefd[0] >= 0)
        close(pipefd[0]);
    if (pipefd[1] >= 0)
        close(pipefd[1]);
    free(info);
    free(envv);
    if (outb.data)
        memset(outb.data, 0, outb.cap);
    vg_buf_release(&outb);
    return rc;
}

int kube_config_creds(kube_config *cfg, kube_creds *out)
{
    int rc = 0;
    pthread_mutex_lock(&cfg->mu);
    if (cfg->exec_cmd) {
        bool expired = cfg->exec_expiry_us && kube_time_now_us() >= cfg->exec_expiry_us - 10 * 1000000LL;
        if (!cfg->token_valid || cfg->token_stale || expired) {
            rc = run_exec(cfg);
            if (rc == 0)
                cfg->token_stale = false;
            else
                cfg->token_valid = false;
        }
    } else if (cfg->token_file) {
        uint64_t now = mono_ms();
        if (!cfg->token_valid || cfg->token_stale || now - cfg->token_read_ms >= cfg->reload_ms) {
            int r = read_token_file(cfg);
            cfg->token_read_ms = now;
            if (r == 0)
                cfg->token_stale = false;
            else if (!cfg->token_valid && !cfg->static_token)
                rc = r; /* never had a token: the caller must know */
        }
        if (!cfg->token_valid && cfg->static_token) {
            vg_buf_reset(&cfg->token);
            vg_buf_puts(&cfg->token, cfg->static_token);
        }
    } else if (cfg->static_token && cfg->token.len == 0) {
        rc = vg_buf_puts(&cfg->token, cfg->static_token);
        cfg->token_valid = rc == 0;
    }
    if (rc == 0) {
        vg_buf_reset(&out->token);
        vg_buf_reset(&out->cert);
        vg_buf_reset(&out->key);
        const vg_buf *cert = cfg->exec_cert.len ? &cfg->exec_cert : &cfg->cert;
        const vg_buf *key = cfg->exec_cert.len ? &cfg->exec_key : &cfg->key;
        if ((cfg->token.len && vg_buf_append(&out->token, cfg->token.data, cfg->token.len)) ||
            (cert->len && vg_buf_append(&out->cert, cert->data, cert->len)) ||
            (key->len && vg_buf_append(&out->key, key->data, key->len)))
            rc = -ENOMEM;
    }
    pthread_mutex_unlock(&cfg->mu);
    return rc;
}
