/*
 * kube_status.h - decode Kubernetes `kind: Status` error objects.
 *
 * Every API error (and the ERROR event of a watch) carries a Status with a
 * machine-readable reason, the HTTP code, a message, optional causes and an
 * optional retryAfterSeconds. Callers branch on reason/code, never on the
 * message. The decoder is strict about JSON syntax but tolerant of missing
 * fields: absent strings are empty, absent numbers 0. Over-long strings are
 * cut (and the cut is not an error); causes beyond KUBE_STATUS_MAX_CAUSES
 * are counted in ncauses_total but not kept.
 */
#ifndef KUBE_STATUS_H
#define KUBE_STATUS_H

#include <stdbool.h>
#include <stddef.h>

#include "kube_json.h"

#define KUBE_STATUS_MAX_CAUSES 8

typedef struct kube_status_cause {
    char type[64];      /* "reason" in the JSON: FieldValueInvalid, DisruptionBudget... */
    char field[128];
    char message[256];
} kube_status_cause;

typedef struct kube_status {
    bool is_status;     /* kind was "Status" */
    bool success;       /* status: "Success" */
    int code;           /* HTTP code the object claims; 0 if absent */
    char reason[64];    /* NotFound, Conflict, Expired, TooManyRequests... */
    char message[512];
    char name[128];     /* details.name/group/kind */
    char group[64];
    char kind[64];
    int retry_after_s;  /* details.retryAfterSeconds; 0 if absent */
    size_t ncauses;
    size_t ncauses_total;
    kube_status_cause causes[KUBE_STATUS_MAX_CAUSES];
} kube_status;

/* Zero a status (what "nothing decoded" looks like). */
void kube_status_clear(kube_status *st);

/*
 * Decode one JSON document. 0 on success (even when kind is not Status:
 * check is_status); -EBADMSG for malformed JSON or a non-object, -E2BIG for
 * hostile nesting. On failure *out is cleared.
 */
int kube_status_decode(const char *json, size_t len, kube_status *out);
/* Same, from a cursor positioned on the object (used for watch events). */
int kube_status_decode_kj(kj *c, kube_status *out);

/* True when a cause with this type exists (e.g. "ResourceVersionTooLarge"). */
bool kube_status_has_cause(const kube_status *st, const char *type);

/*
 * Map an API error to a negative errno, so library callers can branch
 * without string compares:
 *   400/422 -EINVAL   401 -EACCES   403 -EPERM    404 -ENOENT
 *   405 -EOPNOTSUPP   409 Conflict -ESTALE        409 other -EEXIST
 *   410 -ETIME (expired RV or continue token)     415 -EPROTONOSUPPORT
 *   429 -EBUSY        504 -ETIMEDOUT   other 5xx -EAGAIN   else -EPROTO
 * 2xx gives 0.
 */
int kube_status_errno(int code, const char *reason);

#endif
