/*
 * ks_json.h - small json-c helpers for kubesim: dotted-path access, time
 * stamps in the API's formats, and YAML (libyaml) to json-c conversion so
 * scenario files and apply-patch+yaml bodies become the same json-c trees
 * the store keeps.
 *
 * Ownership: getters return borrowed pointers (valid while the parent
 * lives); setters take ownership of the value they are given.
 */
#ifndef KS_JSON_H
#define KS_JSON_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Borrowed child at a dotted path ("metadata.name"), or NULL. */
json_object *ks_json_get(json_object *o, const char *path);
/* String at path, or NULL when absent or not a string. */
const char *ks_json_str(json_object *o, const char *path);
/* Integer at path, or def when absent / not a number. */
int64_t ks_json_int(json_object *o, const char *path, int64_t def);
/* The object at path, creating empty objects on the way (replacing
 * non-objects). NULL on allocation failure. */
json_object *ks_json_mkpath(json_object *o, const char *path);
/* Set path to val (ownership of val passes; NULL val deletes). 0 or -ENOMEM. */
int ks_json_set(json_object *o, const char *path, json_object *val);
int ks_json_set_str(json_object *o, const char *path, const char *s);
int ks_json_set_int(json_object *o, const char *path, int64_t v);
/* Deep copy; NULL on failure or NULL input. Caller owns the result. */
json_object *ks_json_copy(json_object *o);
/* Compact serialization, borrowed from o (valid until o changes). */
const char *ks_json_dump(json_object *o, size_t *len);

/* "2024-01-02T03:04:05Z" (seconds) and "...05.123456Z" (micro). */
void ks_time_rfc3339(char out[32], time_t t);
void ks_time_micro(char out[40]);

/*
 * Parse YAML (one document; JSON is YAML too) into a json-c tree. Plain
 * scalars become int/double/bool/null where YAML 1.2 core says so, quoted
 * ones stay strings. Returns 0 and *out, or -EINVAL with a message in err.
 */
int ks_yaml_parse(const char *buf, size_t len, json_object **out, char *err, size_t errlen);
/* Every document of a multi-document stream, as a json array. */
int ks_yaml_parse_all(const char *buf, size_t len, json_object **out, char *err, size_t errlen);

/* Parse JSON or YAML body (JSON tried first). Same contract as ks_yaml_parse. */
int ks_body_parse(const char *buf, size_t len, json_object **out, char *err, size_t errlen);

#endif
