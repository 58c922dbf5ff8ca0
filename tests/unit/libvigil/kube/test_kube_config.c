/*
 * test_kube_config.c - kubeconfig resolution (contexts, inline data, files
 * relative to the kubeconfig, $KUBECONFIG merging), in-cluster loading with
 * IPv6 hosts, token file rotation and 401 invalidation, exec plugins with
 * expiry, and rejection of malformed configs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kube/kube_base64.h"
#include "kube/kube_config.h"
#include "kube/kube_time.h"

static char tmpdir[64];

static void write_file(const char *name, const char *content, int mode)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
    chmod(p, (mode_t)mode);
}

static int setup(void **state)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/kcfg.XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *k_two_contexts =
    "apiVersion: v1\n"
    "kind: Config\n"
    "current-context: dev\n"
    "clusters:\n"
    "- name: c1\n"
    "  cluster:\n"
    "    server: https://10.0.0.1:6443/\n"
    "    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCkFCQwotLS0tLUVORCBDRVJUSUZJQ0FURS0tLS0tCg==\n"
    "- name: c2\n"
    "  cluster:\n"
    "    server: https://[fd00::1]:443\n"
    "    insecure-skip-tls-verify: true\n"
    "users:\n"
    "- name: u1\n"
    "  user:\n"
    "    token: abc123\n"
    "- name: u2\n"
    "  user:\n"
    "    client-certificate-data: Q0VSVA==\n"
    "    client-key-data: S0VZ\n"
    "contexts:\n"
    "- name: dev\n"
    "  context: {cluster: c1, user: u1, namespace: team-a}\n"
    "- name: prod\n"
    "  context: {cluster: c2, user: u2}\n";

static void test_contexts(void **state)
{
    kube_config *cfg;
    char err[256] = "";
    kube_config_opts o = {.no_exec = true};
    assert_int_equal(kube_config_load_mem(k_two_contexts, strlen(k_two_contexts), NULL, &o, &cfg, err, sizeof err), 0);
    assert_string_equal(kube_config_server(cfg), "https://10.0.0.1:6443");
    assert_string_equal(kube_config_namespace(cfg), "team-a");
    size_t n;
    const char *ca = kube_config_ca(cfg, &n);
    assert_non_null(ca);
    assert_true(strstr(ca, "BEGIN CERTIFICATE") != NULL);
    assert_false(kube_config_insecure(cfg));
    kube_creds cr;
    kube_creds_init(&cr);
    assert_int_equal(kube_config_creds(cfg, &cr), 0);
    assert_string_equal(cr.token.data, "abc123");
    assert_int_equal(cr.cert.len, 0);
    kube_config_free(cfg);

    o.context = "prod";
    assert_int_equal(kube_config_load_mem(k_two_contexts, strlen(k_two_contexts), NULL, &o, &cfg, err, sizeof err), 0);
    assert_string_equal(kube_config_server(cfg), "https://[fd00::1]:443");
    assert_string_equal(kube_config_namespace(cfg), "default");
    assert_true(kube_config_insecure(cfg));
    assert_int_equal(kube_config_creds(cfg, &cr), 0);
    assert_int_equal(cr.token.len, 0);
    assert_string_equal(cr.cert.data, "CERT");
    assert_string_equal(cr.key.data, "KEY");
    kube_config_free(cfg);
    kube_creds_release(&cr);

    o.context = "nope";
    cfg = NULL;
    assert_int_equal(kube_config_load_mem(k_two_contexts, strlen(k_two_contexts), NULL, &o, &cfg, err, sizeof err), -EINVAL);
    assert_null(cfg);
    assert_true(strstr(err, "context \"nope\" not found") != NULL);
}

static void test_malformed(void **state)
{
    const char *bad[] = {
        "", "- a\n- b\n", "current-context: x\n", "{{{", "clusters: 3\ncurrent-context: a\n",
        /* cert without key */
        "current-context: a\ncontexts: [{name: a, context: {cluster: c, user: u}}]\n"
        "clusters: [{name: c, cluster: {server: 'https://x'}}]\nusers: [{name: u, user: {client-certificate-data: Q0VSVA==}}]\n",
        /* bad base64 */
        "current-context: a\ncontexts: [{name: a, context: {cluster: c}}]\n"
        "clusters: [{name: c, cluster: {server: 'https://x', certificate-authority-data: '!!!'}}]\n",
        /* no server */
        "current-context: a\ncontexts: [{name: a, context: {cluster: c}}]\nclusters: [{name: c, cluster: {}}]\n",
        /* not a URL */
        "current-context: a\ncontexts: [{name: a, context: {cluster: c}}]\nclusters: [{name: c, cluster: {server: x}}]\n",
        /* insecure and a CA */
        "current-context: a\ncontexts: [{name: a, context: {cluster: c}}]\n"
        "clusters: [{name: c, cluster: {server: 'https://x', insecure-skip-tls-verify: true, certificate-authority-data: Q0E=}}]\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        kube_config *cfg = NULL;
        char err[256] = "";
        kube_config_opts o = {.no_exec = true};
        int rc = kube_config_load_mem(bad[i], strlen(bad[i]), NULL, &o, &cfg, err, sizeof err);
        assert_int_not_equal(rc, 0);
        assert_null(cfg);
        assert_true(err[0] != '\0');
    }
}

static void test_files_relative_and_merge(void **state)
{
    write_file("ca.pem", "-----BEGIN CERTIFICATE-----\nFILECA\n-----END CERTIFICATE-----\n", 0644);
    write_file("tok", "  file-token-1\n", 0600);
    write_file("a.yaml",
               "current-context: x\n"
               "contexts: [{name: x, context: {cluster: c, user: u}}]\n", 0644);
    write_file("b.yaml",
               "current-context: ignored\n"
               "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1', certificate-authority: ca.pem}}]\n"
               "users: [{name: u, user: {tokenFile: tok, token: static}}]\n", 0644);
    char env[512], *envp[2] = {env, NULL};
    snprintf(env, sizeof env, "KUBECONFIG=%s/a.yaml:%s/missing.yaml:%s/b.yaml", tmpdir, tmpdir, tmpdir);
    kube_config_opts o = {.envp = envp, .no_exec = true, .token_reload_ms = 1};
    kube_config *cfg;
    char err[256] = "";
    assert_int_equal(kube_config_load(&o, &cfg, err, sizeof err), 0);
    size_t n;
    assert_true(strstr(kube_config_ca(cfg, &n), "FILECA") != NULL);
    kube_creds cr;
    kube_creds_init(&cr);
    assert_int_equal(kube_config_creds(cfg, &cr), 0);
    assert_string_equal(cr.token.data, "file-token-1");
    /* rotation: picked up after the reload interval */
    write_file("tok", "file-token-2", 0600);
    usleep(3000);
    assert_int_equal(kube_config_creds(cfg, &cr), 0);
    assert_string_equal(cr.token.data, "file-token-2");
    /* file vanishes: the last good token is kept */
    char p[256];
    snprintf(p, sizeof p, "%s/tok", tmpdir);
    unlink(p);
    usleep(3000);
    assert_int_equal(kube_config_creds(cfg, &cr), 0);
    assert_string_equal(cr.token.data, "file-token-2");
    kube_creds_release(&cr);
    kube_config_free(cfg);
}

static void test_in_cluster(void **state)
{
    write_file("token", "sa-token-A\n", 0600);
    write_file("ca.crt", "-----BEGIN CERTIFICATE-----\nSACA\n-----END CERTIFICATE-----\n", 0644);
    write_file("namespace", "vigil-system\n", 0644);
    char *envp[] = {"KUBERNETES_SERVICE_HOST=fd00:10::1", "KUBERNETES_SERVICE_PORT=443", NULL};
    kube_config_opts o = {.envp = envp, .sa_dir = tmpdir, .token_reload_ms = 60000};
    kube_config *cfg;
    char err[256] = "";
    assert_int_equal(kube_config_load(&o, &cfg, err, sizeof err), 0);
    assert_string_equal(kube_config_server(cfg), "https://[fd00:10::1]:443");
    assert_string_equal(kube_config_namespace(cfg), "vigil-system");
    assert_string_equal(kube_config_source(cfg), "in-cluster");
    kube_creds cr;
    kube_creds_init(&cr);
    assert_int_equal(kube_config_creds(cfg, &cr), 0);
    assert_string_equal(cr.token.data, "sa-token-A");
    /* rotated on disk: not re-read before 60 s... */
    write_file("token", "sa-token-B\n", 0600);
    kube_config_stats st0, st1;
    kube_config_stats_get(cfg, &st0);
    assert_int_equal(kube_config_creds(cfg, &cr), 0);
    assert_string_equal(cr.token.data, "sa-token-A");
    kube_config_stats_get(cfg, &st1);
    assert_int_equal(st1.token_reads, st0.token_reads);
    /* ...but at once after a 401 */
    kube_config_token_invalidate(cfg);
    assert_int_equal(kube_config_creds(cfg, &cr), 0);
    assert_string_equal(cr.token.data, "sa-token-B");
    kube_creds_release(&cr);
    kube_config_free(cfg);

    char *envp4[] = {"KUBERNETES_SERVICE_HOST=10.96.0.1", "KUBERNETES_SERVICE_PORT=443", NULL};
    o.envp = envp4;
    assert_int_equal(kube_config_load(&o, &cfg, err, sizeof err), 0);
    assert_string_equal(kube_config_server(cfg), "https://10.96.0.1:443");
    kube_config_free(cfg);

    /* no token file: a clear error */
    char p[256];
    snprintf(p, sizeof p, "%s/token", tmpdir);
    unlink(p);
    cfg = NULL;
    assert_int_not_equal(kube_config_load(&o, &cfg, err, sizeof err), 0);
    assert_null(cfg);
    assert_true(strstr(err, "token") != NULL);
}

static void test_exec_plugin(void **state)
{
    /* a plugin that counts its runs and returns a token expiring in 1 h,
     * or already expired when EXPIRED=1 */
    char script[1024];
    snprintf(script, sizeof script,
             "#!/bin/sh\n"
             "n=$(cat %s/runs 2>/dev/null || echo 0); n=$((n+1)); echo $n > %s/runs\n"
             "case \"$KUBERNETES_EXEC_INFO\" in *ExecCredential*) ;; *) exit 3;; esac\n"
             "if [ \"$EXPIRED\" = 1 ]; then exp=2001-01-01T00:00:00Z; else exp=2999-01-01T00:00:00Z; fi\n"
             "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
             "\"status\":{\"token\":\"exec-%%s-'$n'\",\"expirationTimestamp\":\"%%s\"}}' \"$1\" $exp\n",
             tmpdir, tmpdir);
    write_file("plugin.sh", script, 0755);
    char yaml[1024];
    for (int expired = 0; expired <= 1; expired++) {
        snprintf(yaml, sizeof yaml,
                 "current-context: a\ncontexts: [{name: a, context: {cluster: c, user: u}}]\n"
                 "clusters: [{name: c, cluster: {server: 'https://x:1'}}]\n"
                 "users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: ./plugin.sh,"
                 " args: [arg1], env: [{name: EXPIRED, value: '%d'}]}}}]\n",
                 expired);
        char p[256];
        snprintf(p, sizeof p, "%s/runs", tmpdir);
        unlink(p);
        kube_config *cfg;
        char err[256] = "";
        assert_int_equal(kube_config_load_mem(yaml, strlen(yaml), tmpdir, NULL, &cfg, err, sizeof err), 0);
        kube_creds cr;
        kube_creds_init(&cr);
        assert_int_equal(kube_config_creds(cfg, &cr), 0);
        assert_string_equal(cr.token.data, "exec-arg1-1");
        assert_int_equal(kube_config_creds(cfg, &cr), 0);
        /* cached until expiry; an expired answer is re-fetched each time */
        assert_string_equal(cr.token.data, expired ? "exec-arg1-2" : "exec-arg1-1");
        kube_config_token_invalidate(cfg);
        assert_int_equal(kube_config_creds(cfg, &cr), 0);
        assert_string_equal(cr.token.data, expired ? "exec-arg1-3" : "exec-arg1-2");
        kube_creds_release(&cr);
        kube_config_free(cfg);
    }
    /* a failing plugin is an error, not an empty token */
    write_file("bad.sh", "#!/bin/sh\necho not-json\n", 0755);
    const char *y = "current-context: a\ncontexts: [{name: a, context: {cluster: c, user: u}}]\n"
                    "clusters: [{name: c, cluster: {server: 'https://x:1'}}]\n"
                    "users: [{name: u, user: {exec: {command: ./bad.sh}}}]\n";
    kube_config *cfg;
    assert_int_equal(kube_config_load_mem(y, strlen(y), tmpdir, NULL, &cfg, NULL, 0), 0);
    kube_creds cr;
    kube_creds_init(&cr);
    assert_int_not_equal(kube_config_creds(cfg, &cr), 0);
    kube_creds_release(&cr);
    kube_config_free(cfg);
}

static void test_base64_and_time(void **state)
{
    vg_buf b = VG_BUF_INIT;
    assert_int_equal(kube_base64_decode("aGVs\nbG8=", 9, &b), 0);
    assert_string_equal(b.data, "hello");
    vg_buf_reset(&b);
    assert_int_equal(kube_base64_decode("aGVsbG8", 7, &b), 0); /* unpadded */
    assert_string_equal(b.data, "hello");
    vg_buf_reset(&b);
    assert_int_equal(kube_base64_decode("a", 1, &b), -EINVAL);
    assert_int_equal(kube_base64_decode("aGV=sbG8", 8, &b), -EINVAL);
    vg_buf_reset(&b);
    assert_int_equal(kube_base64url_encode("\xfb\xff", 2, &b), 0);
    assert_string_equal(b.data, "-_8");
    vg_buf_release(&b);

    int64_t us;
    assert_int_equal(kube_time_parse("1970-01-01T00:00:01Z", 20, &us), 0);
    assert_true(us == 1000000);
    assert_int_equal(kube_time_parse("2024-02-29T12:00:00.5+01:00", 27, &us), 0);
    assert_true(us == 1709204400500000LL);
    char out[40];
    kube_time_format_micro(1709204400500000LL, out, sizeof out);
    assert_string_equal(out, "2024-02-29T11:00:00.500000Z");
    assert_int_not_equal(kube_time_parse("2024-13-01T00:00:00Z", 20, &us), 0);
    assert_int_not_equal(kube_time_parse("2024-01-01T00:00:00", 19, &us), 0);
    assert_int_not_equal(kube_time_parse("2024-01-01T00:00:00Zx", 21, &us), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contexts),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_files_relative_and_merge),
        cmocka_unit_test(test_in_cluster),
        cmocka_unit_test(test_exec_plugin),
        cmocka_unit_test(test_base64_and_time),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
