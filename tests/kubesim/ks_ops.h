/*
 * ks_ops.h - object semantics shared by the HTTP handlers and the
 * in-process controllers: create (names, uid, creationTimestamp,
 * defaults, validation), update (optimistic concurrency, status vs main
 * resource, generation on spec change, no-op detection), delete
 * (finalizers, deletionTimestamp, graceful pod deletion, propagation
 * policy) and managedFields bookkeeping for Update and Apply.
 *
 * All functions expect the store mutex held. Objects passed in are owned
 * by the callee; *out (create/update) is borrowed from the store and valid
 * until the lock is released; *out of delete is a new reference.
 */
#ifndef KS_OPS_H
#define KS_OPS_H

#include "ks_sim.h"

int ks_ops_create_locked(ks_sim *s, ks_rtype *rt, const char *ns, json_object *obj, const char *manager,
                         json_object **out, ks_err *err);

/* Create by server-side apply: the manager owns apply_set (borrowed). */
int ks_ops_create_apply_locked(ks_sim *s, ks_rtype *rt, const char *ns, json_object *obj, const char *manager,
                               json_object *apply_set, json_object **out, ks_err *err);

/* sub: 0 main resource, KS_SUB_STATUS status subresource.
 * apply_set: for server-side apply, the fieldsV1 set of the applied config
 * (borrowed; NULL for a plain update). force: apply takes conflicting fields. */
int ks_ops_update_locked(ks_sim *s, ks_rtype *rt, const char *ns, const char *name, json_object *obj,
                         unsigned sub, const char *manager, json_object *apply_set, int force,
                         json_object **out, ks_err *err);

/* propagation: NULL/"Background", "Foreground", "Orphan". grace < 0: default. */
int ks_ops_delete_locked(ks_sim *s, ks_rtype *rt, const char *ns, const char *name, const char *propagation,
                         int64_t grace, const char *pre_uid, const char *pre_rv, json_object **out,
                         ks_err *err);

/* Remove an object at once (last step of deletion); no-op if absent. */
void ks_ops_remove_now_locked(ks_sim *s, ks_rtype *rt, const char *ns, const char *name);

/* Does namespace ns exist and accept new objects? 0 or -ENOENT/-EPERM (err). */
int ks_ops_ns_check_locked(ks_sim *s, const char *ns, ks_err *err);

/* The fieldsV1 set of an object's fields (apiVersion/kind/identity excluded). New ref. */
json_object *ks_fields_of(json_object *obj, int with_status);

/* The resourceVersion of an object as a number (0 when absent). */
uint64_t ks_obj_rv(json_object *obj);

#endif
