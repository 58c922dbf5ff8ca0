/*
 * ks_proto.h - decode Kubernetes protobuf request bodies
 * (`application/vnd.kubernetes.protobuf`: "k8s\0" + runtime.Unknown) into
 * the JSON form kubesim stores. kubectl 1.32's typed clients (`kubectl
 * create namespace|configmap|secret|serviceaccount|service|deployment|pdb`,
 * `kubectl run`) send protobuf; kubesim knows the field numbers of those
 * kinds' commonly set fields (a subset of k8s.io/api generated.proto) and
 * skips the rest.
 *
 * Zero-valued scalars are omitted (as Go's JSON would), except fields
 * that are pointers upstream (replicas, ...). Bounds-checked throughout.
 */
#ifndef KS_PROTO_H
#define KS_PROTO_H

#include <json-c/json.h>
#include <stddef.h>

/* 0 and *out (caller owns); -ENOTSUP for a kind kubesim cannot decode;
 * -EINVAL for malformed input (err filled in both cases). */
int ks_proto_decode(const void *buf, size_t len, json_object **out, char *err, size_t errlen);

#endif
