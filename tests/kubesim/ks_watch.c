/*
 * ks_watch.c - a watch is a loop on the history ring: under the store
 * lock, copy the matching event lines after our position into a local
 * buffer; without the lock, frame and write them. The lock is never held
 * while writing to the socket.
 */
#include "ks_watch.h"

#include "ks_api.h"
#include "ks_ctrl.h"
#include "ks_fault.h"
#include "ks_json.h"
#include "ks_table.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct wbuf {
    char *d;
    size_t len, cap;
    int nev;
    size_t *ends;  /* end offset of each event line */
    size_t ecap;
} wbuf;

static int wb_add(wbuf *b, const char *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t nc = (b->len + n) * 2 + 4096;
        char *nd = realloc(b->d, nc);
        if (!nd)
            return -ENOMEM;
        b->d = nd;
        b->cap = nc;
    }
    if ((size_t)b->nev + 1 > b->ecap) {
        size_t nc = b->ecap * 2 + 64;
        size_t *ne = realloc(b->ends, nc * sizeof *ne);
        if (!ne)
            return -ENOMEM;
        b->ends = ne;
        b->ecap = nc;
    }
    memcpy(b->d + b->len, p, n);
    b->len += n;
    b->ends[b->nev++] = b->len;
    return 0;
}

static void wb_reset(wbuf *b)
{
    b->len = 0;
    b->nev = 0;
}

typedef struct wstate {
    ks_sim *s;
    ks_conn *c;
    int ws;
    ks_fault fault;
    int has_fault;
    long long sent;      /* events written */
    char *out;           /* framing buffer */
    size_t olen, ocap;
} wstate;

static int out_add(wstate *w, const void *p, size_t n)
{
    if (w->olen + n > w->ocap) {
        size_t nc = (w->olen + n) * 2 + 8192;
        char *no = realloc(w->out, nc);
        if (!no)
            return -ENOMEM;
        w->out = no;
        w->ocap = nc;
    }
    memcpy(w->out + w->olen, p, n);
    w->olen += n;
    return 0;
}

static int frame_chunk(wstate *w, const char *p, size_t n)
{
    char h[32];
    int hl = snprintf(h, sizeof h, "%zx\r\n", n);
    if (out_add(w, h, (size_t)hl) || out_add(w, p, n) || out_add(w, "\r\n", 2))
        return -ENOMEM;
    return 0;
}

static int frame_ws(wstate *w, int opcode, int fin, const char *p, size_t n)
{
    unsigned char h[10];
    size_t hl = 0;
    h[hl++] = (unsigned char)((fin ? 0x80 : 0) | opcode);
    if (n < 126) {
        h[hl++] = (unsigned char)n;
    } else if (n <= 0xffff) {
        h[hl++] = 126;
        h[hl++] = (unsigned char)(n >> 8);
        h[hl++] = (unsigned char)n;
    } else {
        h[hl++] = 127;
        for (int i = 7; i >= 0; i--)
            h[hl++] = (unsigned char)((uint64_t)n >> (i * 8));
    }
    if (out_add(w, h, hl) || out_add(w, p, n))
        return -ENOMEM;
    return 0;
}

static int flush(wstate *w)
{
    if (!w->olen)
        return 0;
    int rc = ks_conn_write(w->c, w->out, w->olen);
    w->olen = 0;
    return rc;
}

/* Cut the connection without a TLS close_notify: what a crash looks like. */
static void abort_conn(wstate *w)
{
    flush(w);
    shutdown(w->c->fd, SHUT_RDWR);
}

/* Emit a batch of event lines. 1: the stream must end (fault), -1: I/O. */
static int emit(wstate *w, wbuf *b)
{
    size_t start = 0;
    int coalesce = w->has_fault && w->fault.kind == KS_F_COALESCE;
    if (coalesce && !w->ws && b->len) {
        if (frame_chunk(w, b->d, b->len))
            return -1;
        w->sent += b->nev;
        return flush(w) ? -1 : 0;
    }
    for (int i = 0; i < b->nev; i++) {
        const char *line = b->d + start;
        size_t n = b->ends[i] - start;
        start = b->ends[i];
        if (w->has_fault && w->sent >= w->fault.after_events) {
            int k = w->fault.kind;
            if (k == KS_F_RESET_MID_EVENT) {
                /* the frame header promises the whole event; half of it follows */
                size_t body = w->ws && n && line[n - 1] == '\n' ? n - 1 : n;
                if (w->ws)
                    frame_ws(w, 1, 1, line, body);
                else
                    frame_chunk(w, line, n);
                w->olen -= (w->ws ? body - body / 2 : n - n / 2 + 2);
                abort_conn(w);
                return 1;
            }
            if (k == KS_F_STREAM_410 || k == KS_F_END_EARLY)
                return flush(w) ? -1 : 1;
        }
        if (w->has_fault && w->fault.kind == KS_F_SLOW && w->fault.delay_ms) {
            if (flush(w))
                return -1;
            usleep((useconds_t)w->fault.delay_ms * 1000);
        }
        size_t body = w->ws && n && line[n - 1] == '\n' ? n - 1 : n;
        if (w->has_fault && w->fault.kind == KS_F_SPLIT && n >= 3) {
            size_t a = n / 3, b2 = (2 * n) / 3;
            if (w->ws) {
                if (frame_ws(w, 1, 0, line, a) || frame_ws(w, 0, 0, line + a, b2 - a) ||
                    frame_ws(w, 0, 1, line + b2, body - b2))
                    return -1;
            } else if (frame_chunk(w, line, a) || frame_chunk(w, line + a, b2 - a) ||
                       frame_chunk(w, line + b2, n - b2)) {
                return -1;
            }
            /* write each piece on its own so they really arrive apart */
            if (flush(w))
                return -1;
        } else if (w->ws) {
            if (frame_ws(w, 1, 1, line, body))
                return -1;
        } else if (frame_chunk(w, line, n)) {
            return -1;
        }
        w->sent++;
        if (w->olen > 1024 * 1024 && flush(w))
            return -1;
    }
    return flush(w) ? -1 : 0;
}

static int emit_one(wstate *w, const char *line, size_t n)
{
    wbuf b = {0};
    int rc = wb_add(&b, line, n) ? -1 : emit(w, &b);
    free(b.d);
    free(b.ends);
    return rc;
}

static void status_line(char *out, size_t cap, uint64_t want, uint64_t oldest)
{
    snprintf(out, cap,
             "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
             "\"status\":\"Failure\",\"message\":\"too old resource version: %llu (%llu)\",\"reason\":\"Expired\","
             "\"code\":410}}\n",
             (unsigned long long)want, (unsigned long long)oldest);
}

static int bookmark_line(char *out, size_t cap, const ks_rtype *rt, uint64_t rv, int initial_end)
{
    char av[200];
    if (rt->group[0])
        snprintf(av, sizeof av, "%s/%s", rt->group, rt->version);
    else
        snprintf(av, sizeof av, "%s", rt->version);
    return snprintf(out, cap,
                    "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"%s\",\"apiVersion\":\"%s\",\"metadata\":{"
                    "\"resourceVersion\":\"%llu\"%s}}}\n",
                    rt->kind, av, (unsigned long long)rv,
                    initial_end ? ",\"annotations\":{\"k8s.io/initial-events-end\":\"true\"}" : "");
}

static int obj_in(json_object *o, const char *ns, const ks_sel *ls, const ks_sel *fs)
{
    if (!o)
        return 0;
    if (ns) {
        const char *ons = ks_json_str(o, "metadata.namespace");
        if (!ons || strcmp(ons, ns))
            return 0;
    }
    return ks_api_obj_matches(o, ls, fs);
}

/* Table output for watch: set per stream (kubectl get -w asks for it). */
typedef struct tblmode {
    const ks_rtype *rt;
    const char *include;
} tblmode;

static int add_typed_t(wbuf *b, const char *type, json_object *o, uint64_t rv_override, const tblmode *tm)
{
    json_object *c = NULL, *t = NULL;
    if (rv_override) {
        c = ks_json_copy(o);
        char rvb[32];
        snprintf(rvb, sizeof rvb, "%llu", (unsigned long long)rv_override);
        ks_json_set_str(c, "metadata.resourceVersion", rvb);
        o = c;
    }
    if (tm && tm->rt) {
        t = ks_table_single(tm->rt, o, tm->include);
        o = t;
    }
    size_t n = 0;
    const char *js = ks_json_dump(o, &n);
    char *line = malloc(n + 48);
    int rc = -ENOMEM;
    if (line) {
        int h = snprintf(line, n + 48, "{\"type\":\"%s\",\"object\":", type);
        memcpy(line + h, js, n);
        memcpy(line + h + n, "}\n", 2);
        rc = wb_add(b, line, (size_t)h + n + 2);
        free(line);
    }
    json_object_put(t);
    json_object_put(c);
    return rc;
}

/* Did the client go away (or, on a WebSocket, ask to close)? */
static int client_gone(wstate *w)
{
    if (!ks_conn_readable(w->c, 0))
        return 0;
    if (!w->ws) {
        char tmp[512];
        int r = SSL_read(w->c->ssl, tmp, sizeof tmp);
        return r <= 0;
    }
    uint8_t *data = NULL;
    size_t len = 0;
    int op = ks_ws_recv(w->c, &data, &len);
    int gone = 0;
    if (op < 0) {
        gone = 1;
    } else if (op == 8) {
        ks_ws_send(w->c, 8, data, len >= 2 ? 2 : 0);
        gone = 1;
    } else if (op == 9) {
        ks_ws_send(w->c, 10, data, len);
    }
    free(data);
    return gone;
}

static int origin_ok(const char *o)
{
    const char *p = strstr(o, "://");
    return p && p != o && p[3] && p[3] != '/';
}

int ks_watch_serve(ks_sim *s, ks_conn *c, ks_req *req, ks_rtype *rt, const char *ns, const ks_sel *ls,
                   const ks_sel *fs)
{
    ks_err err;
    int keep = req->keep_alive;
    int ws = req->upgrade[0] && !strcasecmp(req->upgrade, "websocket");
    char proto[256] = "";
    if (ws) {
        if (!req->ws_key[0]) {
            ks_err_set(&err, 400, "BadRequest", "missing Sec-WebSocket-Key");
            return ks_api_reply_err(c, &err, 0) ? -EIO : -1;
        }
        if (!req->has_origin || !origin_ok(req->origin)) {
            const char *m = "null origin\n";
            ks_http_respond(c, 403, "text/plain; charset=utf-8", NULL, m, strlen(m), 0);
            return -1;
        }
        char tok[3100];
        int nrest, has;
        ks_api_ws_protocols(req->ws_protocol, tok, sizeof tok, proto, sizeof proto, &nrest, &has);
        if (nrest > 1) {
            const char *m = "only one subprotocol may be requested\n";
            ks_http_respond(c, 400, "text/plain; charset=utf-8", NULL, m, strlen(m), 0);
            return -1;
        }
    }
    const char *rvs = ks_req_param(req, "resourceVersion");
    const char *bm = ks_req_param(req, "allowWatchBookmarks");
    int bookmarks = bm && (!strcmp(bm, "true") || !strcmp(bm, "1"));
    const char *sie = ks_req_param(req, "sendInitialEvents");
    int send_initial = sie && (!strcmp(sie, "true") || !strcmp(sie, "1"));
    const char *to = ks_req_param(req, "timeoutSeconds");
    long long timeout_s;
    if (to && *to) {
        timeout_s = strtoll(to, NULL, 10);
        if (timeout_s <= 0)
            timeout_s = 1800;
    } else {
        pthread_mutex_lock(&s->st.mu);
        timeout_s = 1800 + (long long)(ks_store_rand_locked(&s->st) % 1800);
        pthread_mutex_unlock(&s->st.mu);
    }
    long long deadline = ks_now_ms() + timeout_s * 1000;
    uint64_t want = 0;
    int initial = !rvs || !*rvs || !strcmp(rvs, "0") || send_initial;
    if (rvs && *rvs) {
        char *e = NULL;
        want = strtoull(rvs, &e, 10);
        if (*e || rvs[0] == '-') {
            ks_err_set(&err, 400, "BadRequest", "invalid resource version: %.100s", rvs);
            return ks_api_reply_err(c, &err, keep);
        }
    }
    wstate w;
    memset(&w, 0, sizeof w);
    w.s = s;
    w.c = c;
    w.ws = ws;
    w.has_fault = ks_faults_take(&s->faults, rt->plural, "watch",
                                 (1u << KS_F_RESET_MID_EVENT) | (1u << KS_F_SPLIT) | (1u << KS_F_COALESCE) |
                                     (1u << KS_F_STREAM_410) | (1u << KS_F_SLOW) | (1u << KS_F_END_EARLY),
                                 &w.fault);
    wbuf b = {0};
    int rc = -1;
    int too_old = 0;
    tblmode tm = {ks_table_wanted(req->accept) ? rt : NULL, ks_req_param(req, "includeObject")};
    uint64_t pos;
    uint64_t oldest;
    pthread_mutex_lock(&s->st.mu);
    if (want && want > s->st.rv && !ks_api_wait_rv_locked(s, want, s->too_large_wait_ms)) {
        ks_api_err_too_large(&err, want, s->st.rv);
        pthread_mutex_unlock(&s->st.mu);
        return ks_api_reply_err(c, &err, keep);
    }
    uint64_t epoch = s->st.epoch;
    oldest = s->st.compacted;
    if (initial) {
        char prefix[300] = "";
        if (rt->namespaced && ns)
            snprintf(prefix, sizeof prefix, "%s/", ns);
        for (size_t i = ks_store_lower_bound(rt, prefix); i < rt->n; i++) {
            if (prefix[0] && strncmp(rt->objs[i].key, prefix, strlen(prefix)))
                break;
            if (obj_in(rt->objs[i].o, NULL, ls, fs) && add_typed_t(&b, "ADDED", rt->objs[i].o, 0, &tm))
                break;
        }
        pos = s->st.rv;
    } else {
        pos = want;
        too_old = want < s->st.compacted;
    }
    pthread_mutex_unlock(&s->st.mu);

    /* response head */
    if (ws) {
        char acc[32], head[1024];
        ks_ws_accept_key(req->ws_key, acc);
        char ph[320] = "";
        if (proto[0])
            snprintf(ph, sizeof ph, "Sec-WebSocket-Protocol: %s\r\n", proto);
        int hl = snprintf(head, sizeof head,
                          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Accept: %s\r\n%s\r\n",
                          acc, ph);
        if (ks_conn_write(c, head, (size_t)hl))
            goto out;
    } else if (ks_http_chunked_start(c, "application/json")) {
        goto out;
    }
    char line[1024];
    if (too_old) {
        status_line(line, sizeof line, want, oldest);
        emit_one(&w, line, strlen(line));
        goto end_clean;
    }
    if (w.has_fault && w.fault.kind == KS_F_END_EARLY && w.fault.after_events == 0)
        goto end_clean;
    int er = emit(&w, &b);
    if (er < 0)
        goto out;
    if (er > 0)
        goto fault_end;
    if (send_initial) {
        int n = bookmark_line(line, sizeof line, rt, pos, 1);
        if (emit_one(&w, line, (size_t)n) < 0)
            goto out;
    }
    long long last_write = ks_now_ms();
    for (;;) {
        wb_reset(&b);
        int lost = 0, restarted = 0, timed_out = 0;
        pthread_mutex_lock(&s->st.mu);
        for (;;) {
            if (s->st.epoch != epoch) {
                restarted = 1;
                break;
            }
            if (pos < s->st.compacted) {
                lost = 1;
                break;
            }
            const ks_event *e = ks_store_next_event_locked(&s->st, pos);
            if (e)
                break;
            long long now = ks_now_ms();
            if (now >= deadline) {
                timed_out = 1;
                break;
            }
            long long wait = deadline - now;
            if (wait > 250)
                wait = 250;
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_nsec += (long)(wait % 1000) * 1000000L;
            ts.tv_sec += (time_t)(wait / 1000) + ts.tv_nsec / 1000000000L;
            ts.tv_nsec %= 1000000000L;
            pthread_cond_timedwait(&s->st.cv, &s->st.mu, &ts);
            if (!ks_store_next_event_locked(&s->st, pos) && s->st.epoch == epoch)
                break; /* let the outer loop check the client and bookmarks */
        }
        if (!lost && !restarted && !timed_out) {
            const ks_event *e;
            int scanned = 0;
            while ((e = ks_store_next_event_locked(&s->st, pos)) && b.len < 4 * 1024 * 1024 && scanned < 200000) {
                scanned++;
                pos = e->rv;
                if (e->rtype != rt->id)
                    continue;
                int filtered = ns || ls->n || fs->n;
                static const char *const tn[] = {"ADDED", "MODIFIED", "DELETED"};
                if (!filtered) {
                    if (tm.rt)
                        add_typed_t(&b, tn[e->type], e->obj, 0, &tm);
                    else
                        wb_add(&b, e->line, e->len);
                    continue;
                }
                int now_in = obj_in(e->obj, ns, ls, fs);
                int was_in = e->type == KS_EV_MODIFIED ? obj_in(e->prev, ns, ls, fs) : now_in;
                if (now_in && was_in) {
                    if (tm.rt)
                        add_typed_t(&b, tn[e->type], e->obj, 0, &tm);
                    else
                        wb_add(&b, e->line, e->len);
                } else if (now_in)
                    add_typed_t(&b, "ADDED", e->obj, 0, &tm);
                else if (was_in)
                    add_typed_t(&b, "DELETED", e->prev, e->rv, &tm);
            }
        }
        uint64_t cur_rv = s->st.rv;
        oldest = s->st.compacted;
        pthread_mutex_unlock(&s->st.mu);
        if (restarted) {
            abort_conn(&w);
            goto out;
        }
        if (lost) {
            status_line(line, sizeof line, pos, oldest);
            emit_one(&w, line, strlen(line));
            goto end_clean;
        }
        if (timed_out)
            goto end_clean;
        if (b.nev) {
            er = emit(&w, &b);
            if (er < 0)
                goto out;
            if (er > 0)
                goto fault_end;
            last_write = ks_now_ms();
        } else {
            if (client_gone(&w))
                goto out;
            if (bookmarks && ks_now_ms() - last_write >= s->bookmark_ms && pos >= cur_rv) {
                int n = bookmark_line(line, sizeof line, rt, pos, 0);
                if (emit_one(&w, line, (size_t)n) < 0)
                    goto out;
                last_write = ks_now_ms();
            }
        }
    }
fault_end:
    w.has_fault = 0;
    if (w.fault.kind == KS_F_STREAM_410) {
        status_line(line, sizeof line, pos, pos);
        emit_one(&w, line, strlen(line));
    }
    if (w.fault.kind == KS_F_RESET_MID_EVENT)
        goto out;
end_clean:
    if (ws) {
        unsigned char code[2] = {0x03, 0xe8};
        ks_ws_send(c, 8, code, 2);
        rc = -1;
    } else {
        rc = ks_http_chunked_end(c) ? -1 : (keep ? 0 : -1);
    }
out:
    free(b.d);
    free(b.ends);
    free(w.out);
    return rc;
}
