/*
 * ks_table.h - server-side printing: meta.k8s.io/v1 Table responses for
 * clients that ask with `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`
 * (kubectl get does), with the columns kubectl users know for the built-in
 * kinds (pods READY/STATUS/RESTARTS, deployments READY/UP-TO-DATE/...) and
 * NAME/AGE for everything else.
 */
#ifndef KS_TABLE_H
#define KS_TABLE_H

#include <json-c/json.h>

#include "ks_store.h"

/* Does an Accept header ask for a Table? */
int ks_table_wanted(const char *accept);
/* Column definitions for rt (new array). */
json_object *ks_table_columns(const ks_rtype *rt);
/* One row for obj. include: "None", "Object" or NULL/"Metadata". New object. */
json_object *ks_table_row(const ks_rtype *rt, json_object *obj, const char *include);
/* A whole Table holding one row (for get and watch events). */
json_object *ks_table_single(const ks_rtype *rt, json_object *obj, const char *include);
/* "5s", "3m12s", "4h", "2d3h" style age from an RFC 3339 stamp. */
void ks_table_age(const char *ts, char *out, size_t cap);

#endif
