/*
 * ks_sim.c - Status objects for errors, bearer-token state with rotation,
 * and the kubeconfig / token file kubesim writes for its clients.
 */
#include "ks_sim.h"

#include "ks_json.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void ks_err_set(ks_err *e, int code, const char *reason, const char *fmt, ...)
{
    memset(e, 0, sizeof *e);
    e->code = code;
    snprintf(e->reason, sizeof e->reason, "%s", reason);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
}

void ks_err_target(ks_err *e, const ks_rtype *rt, const char *name)
{
    snprintf(e->name, sizeof e->name, "%s", name ? name : "");
    if (rt) {
        snprintf(e->group, sizeof e->group, "%s", rt->group);
        snprintf(e->kind, sizeof e->kind, "%s", rt->plural);
    }
}

void ks_err_cause(ks_err *e, const char *type, const char *field, const char *msg)
{
    snprintf(e->cause_type, sizeof e->cause_type, "%s", type ? type : "");
    snprintf(e->cause_field, sizeof e->cause_field, "%s", field ? field : "");
    snprintf(e->cause_msg, sizeof e->cause_msg, "%s", msg ? msg : "");
}

json_object *ks_err_status(const ks_err *e)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "kind", json_object_new_string("Status"));
    json_object_object_add(o, "apiVersion", json_object_new_string("v1"));
    json_object *md = json_object_new_object();
    if (e->continue_tok[0])
        json_object_object_add(md, "continue", json_object_new_string(e->continue_tok));
    json_object_object_add(o, "metadata", md);
    json_object_object_add(o, "status", json_object_new_string("Failure"));
    json_object_object_add(o, "message", json_object_new_string(e->message));
    json_object_object_add(o, "reason", json_object_new_string(e->reason));
    if (e->name[0] || e->kind[0] || e->cause_type[0] || e->retry_after) {
        json_object *d = json_object_new_object();
        if (e->name[0])
            json_object_object_add(d, "name", json_object_new_string(e->name));
        if (e->group[0])
            json_object_object_add(d, "group", json_object_new_string(e->group));
        if (e->kind[0])
            json_object_object_add(d, "kind", json_object_new_string(e->kind));
        if (e->cause_type[0]) {
            json_object *cs = json_object_new_array();
            json_object *c = json_object_new_object();
            json_object_object_add(c, "reason", json_object_new_string(e->cause_type));
            json_object_object_add(c, "message", json_object_new_string(e->cause_msg));
            if (e->cause_field[0])
                json_object_object_add(c, "field", json_object_new_string(e->cause_field));
            json_object_array_add(cs, c);
            json_object_object_add(d, "causes", cs);
        }
        if (e->retry_after)
            json_object_object_add(d, "retryAfterSeconds", json_object_new_int(e->retry_after));
        json_object_object_add(o, "details", d);
    }
    json_object_object_add(o, "code", json_object_new_int(e->code));
    return o;
}

json_object *ks_status_success(const char *name, const char *group, const char *kind, const char *uid)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "kind", json_object_new_string("Status"));
    json_object_object_add(o, "apiVersion", json_object_new_string("v1"));
    json_object_object_add(o, "metadata", json_object_new_object());
    json_object_object_add(o, "status", json_object_new_string("Success"));
    json_object *d = json_object_new_object();
    if (name)
        json_object_object_add(d, "name", json_object_new_string(name));
    if (group && *group)
        json_object_object_add(d, "group", json_object_new_string(group));
    if (kind)
        json_object_object_add(d, "kind", json_object_new_string(kind));
    if (uid)
        json_object_object_add(d, "uid", json_object_new_string(uid));
    json_object_object_add(o, "details", d);
    json_object_object_add(o, "code", json_object_new_int(200));
    return o;
}

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ks_sim_token_ok(ks_sim *s, const char *tok)
{
    if (!tok || !*tok)
        return 0;
    pthread_mutex_lock(&s->auth_mu);
    int ok = !strcmp(tok, s->token) ||
             (s->old_token[0] && !strcmp(tok, s->old_token) && mono_ms() < s->old_until_ms);
    pthread_mutex_unlock(&s->auth_mu);
    return ok;
}

static int write_file(const char *path, const char *data, mode_t mode)
{
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp%d", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0)
        return -errno;
    size_t n = strlen(data), off = 0;
    while (off < n) {
        ssize_t w = write(fd, data + off, n - off);
        if (w < 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            return -e;
        }
        off += (size_t)w;
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return -e;
    }
    return 0;
}

static void new_token(char out[80])
{
    unsigned char r[24];
    RAND_bytes(r, sizeof r);
    char hex[49];
    for (size_t i = 0; i < sizeof r; i++)
        snprintf(hex + i * 2, 3, "%02x", r[i]);
    snprintf(out, 80, "kubesim-%s", hex);
}

int ks_sim_rotate_token(ks_sim *s)
{
    return ks_sim_set_token(s, NULL);
}

int ks_sim_set_token(ks_sim *s, const char *tok)
{
    int rc = 0;
    pthread_mutex_lock(&s->auth_mu);
    if (s->token[0]) {
        memcpy(s->old_token, s->token, sizeof s->token);
        s->old_until_ms = mono_ms() + (long long)s->token_grace_s * 1000;
    }
    if (tok)
        snprintf(s->token, sizeof s->token, "%s", tok);
    else
        new_token(s->token);
    if (s->token_file[0]) {
        char line[100];
        snprintf(line, sizeof line, "%s\n", s->token);
        rc = write_file(s->token_file, line, 0600);
    }
    pthread_mutex_unlock(&s->auth_mu);
    return rc;
}

static char *b64(const char *s)
{
    size_t n = strlen(s);
    char *o = malloc(4 * ((n + 2) / 3) + 1);
    if (o)
        EVP_EncodeBlock((unsigned char *)o, (const unsigned char *)s, (int)n);
    return o;
}

int ks_sim_write_kubeconfig(ks_sim *s)
{
    if (!s->kubeconfig[0])
        return 0;
    char *ca = b64(s->pki.ca_pem), *cc = b64(s->pki.client_cert_pem), *ck = b64(s->pki.client_key_pem);
    int rc = -ENOMEM;
    size_t cap = (ca ? strlen(ca) : 0) + (cc ? strlen(cc) : 0) + (ck ? strlen(ck) : 0) + 8192;
    char *buf = malloc(cap);
    if (!ca || !cc || !ck || !buf)
        goto out;
    char tokline[1200];
    pthread_mutex_lock(&s->auth_mu);
    if (s->token_file[0])
        snprintf(tokline, sizeof tokline, "    tokenFile: %s\n", s->token_file);
    else
        snprintf(tokline, sizeof tokline, "    token: %s\n", s->token);
    pthread_mutex_unlock(&s->auth_mu);
    char hostport[300];
    if (strchr(s->host, ':'))
        snprintf(hostport, sizeof hostport, "[%s]:%d", s->host, s->port);
    else
        snprintf(hostport, sizeof hostport, "%s:%d", s->host, s->port);
    snprintf(buf, cap,
             "apiVersion: v1\nkind: Config\npreferences: {}\n"
             "clusters:\n- name: kubesim\n  cluster:\n    server: https://%s\n"
             "    certificate-authority-data: %s\n"
             "users:\n- name: kubesim-token\n  user:\n%s"
             "- name: kubesim-cert\n  user:\n    client-certificate-data: %s\n    client-key-data: %s\n"
             "contexts:\n- name: kubesim\n  context:\n    cluster: kubesim\n    user: kubesim-token\n    namespace: default\n"
             "- name: kubesim-cert\n  context:\n    cluster: kubesim\n    user: kubesim-cert\n    namespace: default\n"
             "current-context: kubesim\n",
             hostport, ca, tokline, cc, ck);
    rc = write_file(s->kubeconfig, buf, 0600);
    /* PEM files beside it, for curl/python protocol tests */
    char path[1100];
    if (!rc) {
        snprintf(path, sizeof path, "%s.ca.crt", s->kubeconfig);
        rc = write_file(path, s->pki.ca_pem, 0644);
    }
    if (!rc) {
        snprintf(path, sizeof path, "%s.client.crt", s->kubeconfig);
        rc = write_file(path, s->pki.client_cert_pem, 0644);
    }
    if (!rc) {
        snprintf(path, sizeof path, "%s.client.key", s->kubeconfig);
        rc = write_file(path, s->pki.client_key_pem, 0600);
    }
out:
    free(ca);
    free(cc);
    free(ck);
    free(buf);
    return rc;
}
