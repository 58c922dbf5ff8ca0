/*
 * kube_selector.h - Kubernetes label selectors ("app=web,tier!=db,
 * env in (a,b),!legacy,release") parsed once, matched against cached
 * objects' labels.
 */
#ifndef KUBE_SELECTOR_H
#define KUBE_SELECTOR_H

#include <stdbool.h>
#include <stddef.h>

#include "kube_objects.h"

typedef struct kube_selector kube_selector;

/* Parse; "" selects everything. 0, -EINVAL (syntax; err gets why), -ENOMEM. */
int kube_selector_parse(const char *s, kube_selector **out, char *err, size_t errlen);
/* A selector equal to matchLabels (every key=value must match). */
int kube_selector_from_labels(const kube_kv *kv, size_t n, kube_selector **out);
void kube_selector_free(kube_selector *sel);
bool kube_selector_matches(const kube_selector *sel, const kube_kv *labels, size_t nlabels);
bool kube_selector_empty(const kube_selector *sel);

#endif
