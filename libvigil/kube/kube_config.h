/*
 * kube_config.h - where the API server is and how to authenticate to it.
 *
 * Two sources, as client-go: a kubeconfig file (--kubeconfig, else the
 * first file of $KUBECONFIG with later files filling in missing named
 * entries, else ~/.kube/config) or, inside a pod, the service account
 * (KUBERNETES_SERVICE_HOST/PORT plus token, ca.crt and namespace files).
 * The order tried is: explicit path, $KUBECONFIG, in-cluster, ~/.kube/config.
 *
 * Certificates and keys, whether given as files or inline base64 data, are
 * kept in memory and handed to libcurl/libwebsockets as blobs: nothing is
 * ever written to a temporary file. TLS verification is always on unless
 * the kubeconfig says insecure-skip-tls-verify (honoured, with a warning
 * logged at load).
 *
 * Bearer tokens are dynamic: a token file (the service account's, or a
 * kubeconfig tokenFile) is re-read at most every token_reload_ms (60 s)
 * and at once after kube_config_token_invalidate (a 401); an exec
 * credential plugin (client.authentication.k8s.io ExecCredential) is run
 * when first needed and its answer cached until its expirationTimestamp
 * (or until invalidated).
 *
 * Thread safety: a kube_config is immutable after load except for the
 * credential cache, which a mutex guards; every function below may be
 * called from any thread.
 */
#ifndef KUBE_CONFIG_H
#define KUBE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vg_buf.h"
#include "vg_log.h"

#define KUBE_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

typedef struct kube_config kube_config;

typedef struct kube_config_opts {
    const char *kubeconfig;      /* explicit file (--kubeconfig); NULL = search */
    const char *context;         /* --context; NULL = current-context */
    const char *sa_dir;          /* service account dir; NULL = KUBE_SA_DIR */
    char *const *envp;           /* NULL = environ (KUBECONFIG, KUBERNETES_SERVICE_*, HOME) */
    unsigned token_reload_ms;    /* 0 = 60000 */
    unsigned exec_timeout_ms;    /* exec plugin wall-clock limit; 0 = 30000 */
    bool no_exec;                /* refuse exec plugins (fuzzing, tests) */
    bool no_in_cluster;          /* skip the in-cluster source */
    bool no_files;               /* refuse file references (the fuzzer) */
    vg_log *log;                 /* warnings at load (insecure TLS); may be NULL */
} kube_config_opts;

/* Current credentials, copied out under the lock. Caller's storage. */
typedef struct kube_creds {
    vg_buf token;   /* bearer token, len 0 = none */
    vg_buf cert;    /* client certificate PEM (kubeconfig or exec plugin), len 0 = none */
    vg_buf key;     /* client key PEM */
} kube_creds;

void kube_creds_init(kube_creds *c);
void kube_creds_release(kube_creds *c);

/*
 * Load from the sources above. 0, or -ENOENT (no source found), -EINVAL
 * (malformed kubeconfig, unknown context, bad base64, no server), -errno
 * from reading files. err (may be NULL, errlen bytes) gets a one-line
 * explanation naming the file/field. *out untouched on failure.
 */
int kube_config_load(const kube_config_opts *opts, kube_config **out, char *err, size_t errlen);

/* Load a kubeconfig document from memory; relative paths resolve against
 * base_dir (NULL = cwd). Used by tests and the fuzzer. */
int kube_config_load_mem(const char *yaml, size_t len, const char *base_dir,
                         const kube_config_opts *opts, kube_config **out, char *err, size_t errlen);

void kube_config_free(kube_config *cfg);

/* "https://host:port[/prefix]" without a trailing slash. */
const char *kube_config_server(const kube_config *cfg);
/* Namespace of the context / service account; "default" when unset. */
const char *kube_config_namespace(const kube_config *cfg);
/* "in-cluster" or the kubeconfig path (for logs). */
const char *kube_config_source(const kube_config *cfg);
bool kube_config_insecure(const kube_config *cfg);
/* CA bundle PEM (NULL/0 = system trust store). Valid for cfg's lifetime. */
const void *kube_config_ca(const kube_config *cfg, size_t *len);
/* tls-server-name override, or NULL. */
const char *kube_config_tls_server_name(const kube_config *cfg);

/*
 * Fill out with the credentials to use now (re-reading the token file or
 * running the exec plugin when due). 0, or -errno when a needed credential
 * cannot be produced (token file missing and no earlier token, plugin
 * failure). A token file that fails to re-read keeps the last good token.
 */
int kube_config_creds(kube_config *cfg, kube_creds *out);

/* The server said 401: re-read/re-run on the next kube_config_creds. */
void kube_config_token_invalidate(kube_config *cfg);

/* Counters for tests and debug output. */
typedef struct kube_config_stats {
    uint64_t token_reads;   /* token file reads */
    uint64_t exec_runs;     /* exec plugin runs */
} kube_config_stats;
void kube_config_stats_get(kube_config *cfg, kube_config_stats *out);

#endif
