/*
 * kube_time.h - RFC 3339 timestamps as Kubernetes writes them
 * ("2024-05-01T10:00:00Z", MicroTime "2024-05-01T10:00:00.123456Z",
 * offsets "+02:00"), as microseconds since the Unix epoch.
 */
#ifndef KUBE_TIME_H
#define KUBE_TIME_H

#include <stddef.h>
#include <stdint.h>

/* 0 or -EINVAL. Fractions beyond microseconds are truncated. */
int kube_time_parse(const char *s, size_t n, int64_t *us);
/* MicroTime form, UTC, always 6 fraction digits; out >= 32 bytes. */
void kube_time_format_micro(int64_t us, char *out, size_t outlen);
/* Wall clock now in microseconds. */
int64_t kube_time_now_us(void);

#endif
