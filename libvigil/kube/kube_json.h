/*
 * kube_json.h - a strict, allocation-free JSON pull reader and a string
 * escaper, for the Kubernetes client.
 *
 * Why not a tree library: the informer decoders pick a few dozen fields out
 * of pods that are 2-8 KiB of JSON each, hundreds of thousands of times.
 * Building a tree per object and walking it costs more than the whole
 * decode; a cursor that skips what it does not need is several times
 * faster and never allocates. Only the fields the caller asks for are
 * unescaped (into caller buffers).
 *
 * The reader works on a (pointer, length) slice that is never modified and
 * never read past its end. Any syntax error, a nesting deeper than
 * KJ_MAX_DEPTH or a number out of range sets a sticky error on the cursor:
 * every later call fails with the same negative errno (-EBADMSG for syntax,
 * -ERANGE for numbers, -E2BIG for depth), so decoders can check once.
 *
 * Iteration:
 *     kj_obj_begin(&c);
 *     vg_slice key;
 *     while (kj_obj_next(&c, &key) > 0) {
 *         if (kj_key_is(key, "metadata")) decode(&c); else kj_skip(&c);
 *     }
 * After kj_obj_next returns 1 the cursor sits on the member's value, which
 * the caller must consume (read or kj_skip) before the next kj_obj_next.
 */
#ifndef KUBE_JSON_H
#define KUBE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vg_buf.h"
#include "vg_parse.h"

#define KJ_MAX_DEPTH 128

typedef enum {
    KJ_ERR = -1,
    KJ_END = 0,    /* nothing but whitespace left */
    KJ_OBJ,
    KJ_ARR,
    KJ_STR,
    KJ_NUM,
    KJ_TRUE,
    KJ_FALSE,
    KJ_NULL,
} kj_type;

typedef struct kj {
    const char *p;     /* next unread byte */
    const char *end;
    int err;           /* sticky; 0 while fine */
    int depth;
    /* one bit per open container: 1 = the next member needs a comma */
    uint8_t more[KJ_MAX_DEPTH / 8];
} kj;

void kj_init(kj *c, const char *p, size_t n);

/* Type of the next value (skipping whitespace); does not consume it. */
kj_type kj_peek(kj *c);

/* Objects and arrays. begin: 0 or -errno (wrong type is -EBADMSG).
 * next: 1 = a member/element follows (key set for objects), 0 = the
 * container ended (closing bracket consumed), <0 = error. */
int kj_obj_begin(kj *c);
int kj_obj_next(kj *c, vg_slice *key);
int kj_arr_begin(kj *c);
int kj_arr_next(kj *c);

/* Skip one whole value (validated). 0 or -errno. */
int kj_skip(kj *c);
/* Skip one value and return its raw text (e.g. a custom resource's spec). */
int kj_raw(kj *c, vg_slice *out);

/*
 * Strings. kj_str_raw returns the bytes between the quotes, escapes intact
 * (esc set when any backslash occurs). kj_str_buf unescapes into out
 * (replacing its contents). kj_str_copy unescapes into a fixed buffer;
 * -ENOSPC when it does not fit (the value is still consumed).
 * A null is accepted by all three and reads as the empty string.
 */
int kj_str_raw(kj *c, vg_slice *raw, bool *esc);
int kj_str_buf(kj *c, vg_buf *out);
int kj_str_copy(kj *c, char *out, size_t outlen, size_t *len);

/* Numbers: integers only for i64 (a fraction or exponent is -ERANGE unless
 * it is integral, e.g. 1e3); null reads as 0 where noted by the caller. */
int kj_i64(kj *c, int64_t *out);
int kj_double(kj *c, double *out);
int kj_bool(kj *c, bool *out);
int kj_null(kj *c);

/* After a complete document: 0 if only whitespace remains, else -EBADMSG. */
int kj_finish(kj *c);

/* Compare a raw (possibly escaped) key with a literal. */
bool kj_key_is(vg_slice key, const char *lit);

/* Unescape a raw string slice into out (appending). 0 or -EBADMSG/-ENOMEM. */
int kj_unescape_append(vg_slice raw, vg_buf *out);
/* Unescape into a fixed buffer (NUL-terminated); -ENOSPC if too long. */
int kj_unescape_to(vg_slice raw, char *out, size_t outlen, size_t *len);

/* Append s (n bytes) as a JSON string literal with quotes. 0 or -ENOMEM. */
int kj_quote_append(vg_buf *out, const char *s, size_t n);

#endif
