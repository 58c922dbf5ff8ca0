/*
 * ks_patch.h - the four PATCH flavours of the Kubernetes API, on json-c
 * trees: RFC 6902 JSON patch, RFC 7386 merge patch, strategic merge patch
 * (lists merged by the keys the built-in types declare — containers and
 * volumes by name, container ports by containerPort, service ports by
 * port, conditions by type... — plus the $patch / $retainKeys /
 * $deleteFromPrimitiveList / $setElementOrder directives) and the merge
 * step of server-side apply.
 *
 * All functions leave their inputs untouched and return a new tree the
 * caller owns. Errors: -EINVAL for a malformed patch (HTTP 400),
 * -ENOENT/-ECANCELED for a patch that does not apply (path missing, test
 * failed: HTTP 422); err gets a message.
 */
#ifndef KS_PATCH_H
#define KS_PATCH_H

#include <json-c/json.h>
#include <stddef.h>

int ks_patch_json(json_object *doc, json_object *patch, json_object **out, char *err, size_t errlen);
int ks_patch_merge(json_object *doc, json_object *patch, json_object **out, char *err, size_t errlen);
int ks_patch_strategic(json_object *doc, json_object *patch, json_object **out, char *err, size_t errlen);
/* Server-side apply merge: like strategic merge without deletions by
 * null (nulls are dropped) and without directives. */
int ks_patch_apply_merge(json_object *live, json_object *applied, json_object **out, char *err, size_t errlen);

/* The merge key for list field `field` whose parent field is `parent`
 * ("" at top), "" for a set of primitives merged by value (finalizers),
 * or NULL when the list is replaced as a whole. */
const char *ks_patch_merge_key(const char *parent, const char *field);

#endif
