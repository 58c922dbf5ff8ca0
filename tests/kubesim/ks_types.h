/*
 * ks_types.h - what kubesim knows about each kind: the built-in type table
 * (discovery names, scopes, subresources, field selector keys), create
 * time defaults and validation of built-in kinds, and CRD handling: a CRD
 * registers one type per served version; its openAPIV3Schema drives
 * structural validation (types, required, enum) and defaulting.
 *
 * All *_locked functions expect the store mutex held.
 */
#ifndef KS_TYPES_H
#define KS_TYPES_H

#include "ks_sim.h"

int ks_types_register_builtin_locked(ks_store *st);
/* Defaults applied on create (and on update for pod templates). */
void ks_types_default_locked(ks_sim *s, ks_rtype *rt, json_object *obj);
/* 0, or -EINVAL with a 422 Invalid in err. */
int ks_types_validate(ks_rtype *rt, json_object *obj, ks_err *err);

/* Register/refresh the types of a (new or updated) CRD; 0 or -EINVAL (err). */
int ks_types_crd_sync_locked(ks_sim *s, json_object *crd, ks_err *err);
/* Mark the CRD's types gone. */
void ks_types_crd_remove_locked(ks_sim *s, const char *crd_name);

/*
 * Structural schema checks of obj (the whole custom object) against an
 * openAPIV3Schema: type of every present field, required fields, enum,
 * nullable. 0 or -EINVAL with the first violation as a 422 cause.
 */
int ks_schema_validate(json_object *schema, json_object *obj, const char *kind, const char *name, ks_err *err);
/* Fill `default:` values into obj where absent (recursively). */
void ks_schema_default(json_object *schema, json_object *obj);

#endif
