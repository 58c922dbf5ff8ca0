/*
 * ks_fault.h - fault rules: which requests (resource + verb, or any) get
 * which failure, how many times, with what probability (seeded PRNG, so a
 * --seed run is reproducible). Rules come from the scenario file and the
 * /_sim/faults control endpoint, as JSON objects:
 *   {"type":"status","code":429,"retryAfter":2,"resource":"pods","verb":"list","count":1}
 *   {"type":"reset-mid-event"|"split"|"coalesce"|"stream-410"|"slow"|"end-early",
 *    "resource":"pods","verb":"watch","afterEvents":3,"delayMs":200,"probability":0.5}
 * "user" narrows a status rule to one client (a certificate's CN, or
 * "kubesim-token" for bearer-token clients): a partition seen by one replica.
 */
#ifndef KS_FAULT_H
#define KS_FAULT_H

#include "ks_sim.h"

void ks_faults_init(ks_faults *f, uint64_t seed);
void ks_faults_release(ks_faults *f);
/* Parse and add a rule; 0 or -EINVAL (err filled) / -ENOSPC. */
int ks_faults_add_json(ks_faults *f, json_object *rule, char *err, size_t errlen);
void ks_faults_clear(ks_faults *f);
/* Rules as a JSON array (caller owns). */
json_object *ks_faults_list(ks_faults *f);
/*
 * Find a rule for (resource, verb) whose kind is in the kinds bitmask
 * (1 << KS_F_*), consume one firing (count, probability) and copy it to
 * *out. 1 when one fired, 0 otherwise.
 */
int ks_faults_take(ks_faults *f, const char *resource, const char *verb, unsigned kinds, ks_fault *out);
/* Same, for a request by user (NULL = unknown: rules naming a user never fire). */
int ks_faults_take_user(ks_faults *f, const char *resource, const char *verb, const char *user, unsigned kinds,
                        ks_fault *out);
const char *ks_fault_kind_name(int kind);

#endif
