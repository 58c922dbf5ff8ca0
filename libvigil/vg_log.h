/*
 * vg_log.h - leveled, structured logging to stderr (logfmt or JSON lines).
 *
 * Every line carries ts, level, component and msg, then key=value pairs.
 * A low layer returns an error code; the layer that decides logs it, once.
 *
 * Thread safety: vg_log_write may be called from any thread; each line is
 * formatted into a local buffer and emitted with a single write(2).
 * The level may be changed at run time (SIGHUP reload) with vg_log_set_level.
 */
#ifndef VG_LOG_H
#define VG_LOG_H

#include <stddef.h>
#include <stdarg.h>

typedef enum {
    VG_LOG_DEBUG = 0,
    VG_LOG_INFO = 1,
    VG_LOG_WARN = 2,
    VG_LOG_ERROR = 3,
} vg_log_level;

typedef enum {
    VG_LOG_LOGFMT = 0,
    VG_LOG_JSON = 1,
} vg_log_format;

/* Logger context; caller's storage, no heap. fd defaults to 2 (stderr). */
typedef struct vg_log {
    volatile int level;   /* vg_log_level; volatile: changed on reload */
    volatile int format;  /* vg_log_format */
    int fd;
} vg_log;

void vg_log_init(vg_log *log, vg_log_level level, vg_log_format format);

/* Parse "debug|info|warn|error" / "logfmt|json". 0 or -EINVAL. */
int vg_log_level_parse(const char *s, vg_log_level *out);
int vg_log_format_parse(const char *s, vg_log_format *out);

void vg_log_set_level(vg_log *log, vg_log_level level);
void vg_log_set_format(vg_log *log, vg_log_format format);

/*
 * Write one line. After msg come key/value string pairs terminated by NULL:
 *   vg_log_write(log, VG_LOG_WARN, "http", "client timed out", "peer", ip, NULL);
 * A NULL log is allowed and writes nothing. Lines longer than 4 KiB are cut.
 */
void vg_log_write(vg_log *log, vg_log_level level, const char *component,
                  const char *msg, ...);
void vg_log_writev(vg_log *log, vg_log_level level, const char *component,
                   const char *msg, va_list kv);

/* Convenience wrappers. */
#define vg_log_debug(l, comp, ...) vg_log_write((l), VG_LOG_DEBUG, (comp), __VA_ARGS__, (const char *)NULL)
#define vg_log_info(l, comp, ...)  vg_log_write((l), VG_LOG_INFO, (comp), __VA_ARGS__, (const char *)NULL)
#define vg_log_warn(l, comp, ...)  vg_log_write((l), VG_LOG_WARN, (comp), __VA_ARGS__, (const char *)NULL)
#define vg_log_error(l, comp, ...) vg_log_write((l), VG_LOG_ERROR, (comp), __VA_ARGS__, (const char *)NULL)

#endif
