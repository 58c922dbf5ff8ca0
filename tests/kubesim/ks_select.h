/*
 * ks_select.h - label and field selectors: parsing the query-string forms
 * (`app=web,tier!=db,env in (a,b),!legacy`, `spec.nodeName=n1`), building
 * one from a LabelSelector object (matchLabels/matchExpressions) and
 * matching objects against them.
 *
 * A parsed selector is caller's storage with heap strings inside; release
 * it with ks_sel_release. Parsing never crashes on bad input: it returns
 * -EINVAL with a message in the kube-apiserver wording.
 */
#ifndef KS_SELECT_H
#define KS_SELECT_H

#include <json-c/json.h>
#include <stddef.h>

typedef enum {
    KS_OP_EQ,
    KS_OP_NE,
    KS_OP_IN,
    KS_OP_NOTIN,
    KS_OP_EXISTS,
    KS_OP_NOTEXISTS,
    KS_OP_GT,
    KS_OP_LT,
} ks_sel_op;

#define KS_SEL_MAX_VALUES 32

typedef struct ks_sel_req {
    char *key;
    ks_sel_op op;
    char *values[KS_SEL_MAX_VALUES];
    int nvalues;
} ks_sel_req;

typedef struct ks_sel {
    ks_sel_req *reqs;
    int n;
    int match_nothing; /* a LabelSelector that selects nothing (null) */
} ks_sel;

/* Empty selector (matches everything). */
void ks_sel_init(ks_sel *s);
void ks_sel_release(ks_sel *s);
/* Label selector string; 0 or -EINVAL/-ENOMEM (err filled). s is empty on failure. */
int ks_sel_parse_labels(ks_sel *s, const char *text, char *err, size_t errlen);
/* Field selector string: only =, ==, != are allowed. */
int ks_sel_parse_fields(ks_sel *s, const char *text, char *err, size_t errlen);
/* From a metav1.LabelSelector JSON object; NULL json → matches nothing
 * (as for a PDB/Deployment without selector). */
int ks_sel_from_json(ks_sel *s, json_object *sel, char *err, size_t errlen);
/* Does a labels map (json object of strings, may be NULL) match? */
int ks_sel_match_labels(const ks_sel *s, json_object *labels);
/* Does an object match a field selector (values at dotted paths; absent
 * or non-string fields compare as "", booleans as "true"/"false")? */
int ks_sel_match_fields(const ks_sel *s, json_object *obj);
/* Is every key of the field selector one of the allowed dotted paths
 * (NULL-terminated)? Writes the first offending key into bad. */
int ks_sel_fields_allowed(const ks_sel *s, const char *const *allowed, char *bad, size_t badlen);
/* Render as a string in the canonical query form (for Scale.status.selector). */
int ks_sel_format(const ks_sel *s, char *out, size_t cap);

#endif
