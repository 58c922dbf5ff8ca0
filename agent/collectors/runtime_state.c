/*
 * runtime_state.c - read container names from containerd's and CRI-O's
 * OCI bundle config.json annotations (see runtime_state.h).
 *
 * json-c parses the whole document (a few tens of KiB: the spec carries
 * mounts, env and often a seccomp profile), we pick the annotations and
 * copy the few strings we keep into one allocation.
 */
#include "runtime_state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#define STATE_FILE_MAX (4u << 20)

enum { F_POD, F_NS, F_UID, F_CONTAINER, F_IMAGE, F_NAME, F_N };

/* A usable annotation string: a JSON string without NULs, bounded. */
static bool ann_get(json_object *ann, const char *key, const char **out, size_t *outlen)
{
    json_object *v;
    if (!ann || !json_object_object_get_ex(ann, key, &v) || !json_object_is_type(v, json_type_string))
        return false;
    const char *s = json_object_get_string(v);
    size_t n = (size_t)json_object_get_string_len(v);
    if (!s || n > RUNTIME_VALUE_MAX || memchr(s, '\0', n))
        return false;
    *out = s;
    *outlen = n;
    return true;
}

static json_object *parse_json(const char *text, size_t len)
{
    if (len > STATE_FILE_MAX || len > (size_t)INT32_MAX)
        return NULL;
    json_tokener *tok = json_tokener_new_ex(64);
    if (!tok)
        return NULL;
    json_object *root = json_tokener_parse_ex(tok, text, (int)len);
    if (root) {
        /* Anything but whitespace after the document is malformed. */
        for (size_t i = json_tokener_get_parse_end(tok); i < len; i++) {
            char c = text[i];
            if (c != ' ' && c != '\n' && c != '\t' && c != '\r') {
                json_object_put(root);
                root = NULL;
                break;
            }
        }
    }
    json_tokener_free(tok);
    return root;
}

int runtime_info_parse(const char *json, size_t len, const char *id, runtime_info *out)
{
    int rc = 0;
    const char *val[F_N] = {"", "", "", "", "", ""};
    size_t vlen[F_N] = {0, 0, 0, 0, 0, 0};
    json_object *labels_root = NULL;
    json_object *root = parse_json(json, len);
    if (!root || !json_object_is_type(root, json_type_object)) {
        rc = -EINVAL;
        goto out;
    }
    json_object *ann = NULL;
    if (!json_object_object_get_ex(root, "annotations", &ann) ||
        !json_object_is_type(ann, json_type_object)) {
        rc = -ENODATA;
        goto out;
    }

    runtime_info ri;
    memset(&ri, 0, sizeof ri);
    const char *type;
    size_t tlen;
    if (ann_get(ann, "io.kubernetes.cri.container-type", &type, &tlen)) {
        ri.flavor = RUNTIME_STATE_CONTAINERD;
        ri.sandbox = tlen == 7 && memcmp(type, "sandbox", 7) == 0;
        ann_get(ann, "io.kubernetes.cri.sandbox-name", &val[F_POD], &vlen[F_POD]);
        ann_get(ann, "io.kubernetes.cri.sandbox-namespace", &val[F_NS], &vlen[F_NS]);
        ann_get(ann, "io.kubernetes.cri.sandbox-uid", &val[F_UID], &vlen[F_UID]);
        if (!ri.sandbox) {
            ann_get(ann, "io.kubernetes.cri.container-name", &val[F_CONTAINER], &vlen[F_CONTAINER]);
            ann_get(ann, "io.kubernetes.cri.image-name", &val[F_IMAGE], &vlen[F_IMAGE]);
        }
        /* cAdvisor's containerd handler names containers by id. */
        if (id && strlen(id) <= RUNTIME_VALUE_MAX) {
            val[F_NAME] = id;
            vlen[F_NAME] = strlen(id);
        }
    } else if (ann_get(ann, "io.kubernetes.cri-o.ContainerType", &type, &tlen)) {
        ri.flavor = RUNTIME_STATE_CRIO;
        ri.sandbox = tlen == 7 && memcmp(type, "sandbox", 7) == 0;
        static const char *const keys[4] = {"io.kubernetes.pod.name", "io.kubernetes.pod.namespace",
                                            "io.kubernetes.pod.uid",
                                            "io.kubernetes.container.name"};
        static const int fields[4] = {F_POD, F_NS, F_UID, F_CONTAINER};
        json_object *lab = NULL;
        const char *ltext;
        size_t llen;
        /* Kubelet's labels travel as a JSON string in one annotation. */
        if (ann_get(ann, "io.kubernetes.cri-o.Labels", &ltext, &llen)) {
            labels_root = parse_json(ltext, llen);
            if (labels_root && json_object_is_type(labels_root, json_type_object))
                lab = labels_root;
        }
        for (int k = 0; k < 4; k++) {
            if (ri.sandbox && fields[k] == F_CONTAINER)
                continue;
            if (!ann_get(ann, keys[k], &val[fields[k]], &vlen[fields[k]]))
                ann_get(lab, keys[k], &val[fields[k]], &vlen[fields[k]]);
        }
        if (!ri.sandbox)
            ann_get(ann, "io.kubernetes.cri-o.ImageName", &val[F_IMAGE], &vlen[F_IMAGE]);
        ann_get(ann, "io.kubernetes.cri-o.Name", &val[F_NAME], &vlen[F_NAME]);
    } else {
        rc = -ENODATA;
        goto out;
    }

    size_t total = 0;
    for (int i = 0; i < F_N; i++)
        total += vlen[i] + 1;
    char *block = malloc(total);
    if (!block) {
        rc = -ENOMEM;
        goto out;
    }
    const char **dst[F_N] = {&ri.pod_name, &ri.pod_namespace, &ri.pod_uid,
                             &ri.container, &ri.image, &ri.name};
    char *p = block;
    for (int i = 0; i < F_N; i++) {
        memcpy(p, val[i], vlen[i]);
        p[vlen[i]] = '\0';
        *dst[i] = p;
        p += vlen[i] + 1;
    }
    ri.block_ = block;
    *out = ri;
out:
    if (labels_root)
        json_object_put(labels_root);
    if (root)
        json_object_put(root);
    return rc;
}

void runtime_info_release(runtime_info *ri)
{
    if (!ri)
        return;
    free(ri->block_);
    memset(ri, 0, sizeof *ri);
}

int runtime_state_read(const char *state_dir, runtime_flavor flavor, const char *id,
                       vg_buf *scratch, runtime_info *out)
{
    char path[4096];
    int n = flavor == RUNTIME_STATE_CRIO
                ? snprintf(path, sizeof path, "%s/%s/userdata/config.json", state_dir, id)
                : snprintf(path, sizeof path, "%s/%s/config.json", state_dir, id);
    if (n < 0 || (size_t)n >= sizeof path)
        return -ENAMETOOLONG;
    int rc = vg_buf_read_file(scratch, path, STATE_FILE_MAX);
    if (rc)
        return rc;
    return runtime_info_parse(scratch->data ? scratch->data : "", scratch->len, id, out);
}
