/*
 * kube_store.h - the informer cache: decoded objects by namespace/name,
 * with secondary indexes by namespace, node (pods) and owner UID, and
 * label-selector queries.
 *
 * The store owns its objects. Writers are the informer thread; readers
 * anywhere. Locking: kube_store_put/del/swap take the write lock
 * themselves; readers bracket every access with kube_store_rdlock/unlock,
 * and pointers obtained in between are valid only until the unlock.
 */
#ifndef KUBE_STORE_H
#define KUBE_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "kube_objects.h"
#include "kube_selector.h"

typedef struct kube_store kube_store;

typedef enum {
    KUBE_IDX_NAMESPACE = 0,
    KUBE_IDX_NODE,      /* pods' spec.nodeName */
    KUBE_IDX_OWNER,     /* every owner reference's UID */
    KUBE_IDX_COUNT,
} kube_index;

int kube_store_new(kube_store **out);
void kube_store_free(kube_store *s);   /* frees every object */

/*
 * Insert or replace (by namespace/name). Takes ownership of o. The object
 * replaced, if any, is handed back in *old for the caller to free (after
 * running update handlers); NULL otherwise. -ENOMEM leaves the store
 * unchanged and o still owned by the caller.
 */
int kube_store_put(kube_store *s, kube_obj *o, kube_obj **old);
/* Remove; returns the object (caller frees) or NULL when absent. */
kube_obj *kube_store_del(kube_store *s, const char *ns, const char *name);
/* Exchange the contents of a and b (relist: build b unlocked, then swap). */
void kube_store_swap(kube_store *a, kube_store *b);
/* Remove and free everything. */
void kube_store_clear(kube_store *s);

void kube_store_rdlock(kube_store *s);
void kube_store_unlock(kube_store *s);

/* Readers (under the read lock, or from the writer thread). */
const kube_obj *kube_store_get(kube_store *s, const char *ns, const char *name);
size_t kube_store_len(kube_store *s);
/* Heap bytes held: objects plus table and index overhead. */
size_t kube_store_bytes(kube_store *s);

/* Visitors return 0 to go on; non-zero stops and is returned. */
typedef int (*kube_obj_fn)(void *ud, const kube_obj *o);
int kube_store_each(kube_store *s, kube_obj_fn fn, void *ud);
int kube_store_each_indexed(kube_store *s, kube_index idx, const char *value, kube_obj_fn fn, void *ud);
/* Objects in ns (NULL = all) whose labels match sel. */
int kube_store_each_selected(kube_store *s, const char *ns, const kube_selector *sel, kube_obj_fn fn, void *ud);

#endif
