/*
 * vg_log.c - structured log lines (logfmt or JSON) written with one write(2).
 *
 * Formatting happens in a stack buffer so concurrent writers never
 * interleave within a line and logging never allocates.
 */
#include "vg_log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 4096

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void vg_log_init(vg_log *log, vg_log_level level, vg_log_format format)
{
    log->level = level;
    log->format = format;
    log->fd = 2;
}

int vg_log_level_parse(const char *s, vg_log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (vg_log_level)i;
            return 0;
        }
    }
    if (strcmp(s, "warning") == 0) {
        *out = VG_LOG_WARN;
        return 0;
    }
    return -EINVAL;
}

int vg_log_format_parse(const char *s, vg_log_format *out)
{
    if (strcmp(s, "logfmt") == 0) {
        *out = VG_LOG_LOGFMT;
        return 0;
    }
    if (strcmp(s, "json") == 0) {
        *out = VG_LOG_JSON;
        return 0;
    }
    return -EINVAL;
}

void vg_log_set_level(vg_log *log, vg_log_level level) { log->level = level; }
void vg_log_set_format(vg_log *log, vg_log_format format) { log->format = format; }

typedef struct line {
    char buf[LINE_MAX_BYTES];
    size_t len;
} line;

static void put(line *l, const char *s, size_t n)
{
    size_t room = sizeof(l->buf) - 2 - l->len; /* keep room for '\n' */
    if (n > room)
        n = room;
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static void puts_(line *l, const char *s) { put(l, s, strlen(s)); }

/* A quoted string: logfmt escapes control bytes as \xNN, JSON as \uNNNN. */
static void put_escaped(line *l, const char *v, int json)
{
    put(l, "\"", 1);
    for (const char *p = v; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            put(l, e, 2);
        } else if (c == '\n') {
            put(l, "\\n", 2);
        } else if (c == '\t' && json) {
            put(l, "\\t", 2);
        } else if (c < 0x20) {
            char e[8];
            int n = snprintf(e, sizeof e, json ? "\\u%04x" : "\\x%02x", c);
            put(l, e, (size_t)n);
        } else {
            put(l, (const char *)&c, 1);
        }
    }
    put(l, "\"", 1);
}

/* logfmt: quote when the value has a space, '=', '"' or is empty. */
static void put_logfmt_value(line *l, const char *v)
{
    int quote = (*v == '\0');
    for (const char *p = v; *p && !quote; p++)
        if (*p == ' ' || *p == '=' || *p == '"' || (unsigned char)*p < 0x20)
            quote = 1;
    if (!quote) {
        puts_(l, v);
        return;
    }
    put_escaped(l, v, 0);
}

static void put_json_string(line *l, const char *v) { put_escaped(l, v, 1); }

static void put_pair(line *l, int json, int first, const char *k, const char *v)
{
    if (json) {
        if (!first)
            put(l, ",", 1);
        put_json_string(l, k);
        put(l, ":", 1);
        put_json_string(l, v ? v : "");
    } else {
        if (!first)
            put(l, " ", 1);
        puts_(l, k);
        put(l, "=", 1);
        put_logfmt_value(l, v ? v : "");
    }
}

void vg_log_writev(vg_log *log, vg_log_level level, const char *component,
                   const char *msg, va_list kv)
{
    if (!log || (int)level < log->level)
        return;
    int json = log->format == VG_LOG_JSON;
    line l;
    l.len = 0;

    struct timespec ts;
    struct tm tm;
    char tbuf[40];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t tl = strftime(tbuf, sizeof tbuf, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(tbuf + tl, sizeof tbuf - tl, ".%03ldZ", ts.tv_nsec / 1000000);

    if (json)
        put(&l, "{", 1);
    put_pair(&l, json, 1, "ts", tbuf);
    put_pair(&l, json, 0, "level", level_names[level]);
    put_pair(&l, json, 0, "component", component ? component : "main");
    put_pair(&l, json, 0, "msg", msg ? msg : "");
    for (;;) {
        const char *k = va_arg(kv, const char *);
        if (!k)
            break;
        const char *v = va_arg(kv, const char *);
        put_pair(&l, json, 0, k, v);
        if (!v)
            break; /* odd number of arguments: stop safely */
    }
    if (json)
        put(&l, "}", 1);
    l.buf[l.len++] = '\n';

    const char *p = l.buf;
    size_t left = l.len;
    while (left > 0) {
        ssize_t n = write(log->fd, p, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        p += n;
        left -= (size_t)n;
    }
}

void vg_log_write(vg_log *log, vg_log_level level, const char *component,
                  const char *msg, ...)
{
    va_list ap;
    va_start(ap, msg);
    vg_log_writev(log, level, component, msg, ap);
    va_end(ap);
}
