/* util/jsonr.h — reading JSON: one object per call (a request on the monitor's socket, a
 * reply to its clients), checked against RFC 8259's whole grammar, bounded in depth and in
 * keys, never allocating. Values stay where they are in the text; the getters unescape
 * strings into caller storage. Duplicate keys are refused (which one would win?). */
#ifndef PKTSCOPE_UTIL_JSONR_H
#define PKTSCOPE_UTIL_JSONR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSONR_MAX_KEYS 64 /* the monitor's status has 29 members: room to grow */
#define JSONR_MAX_DEPTH 16

enum jv_type { JV_NULL, JV_BOOL, JV_NUM, JV_STR, JV_ARR, JV_OBJ };

struct jv {
	const char *key;   /* raw, between its quotes (escapes not undone) */
	size_t keylen;
	enum jv_type type;
	const char *raw;   /* the value's text: a string with its quotes, an array with its brackets */
	size_t rawlen;
};

struct jobj {
	struct jv v[JSONR_MAX_KEYS];
	int n;
};

/* Parses text[0..len) as exactly one object (white space around it allowed): 0, or -1 with
 * "at byte N: what" in err. */
int jsonr_object(const char *text, size_t len, struct jobj *o, char *err, size_t errlen);
/* The member called key (compared after unescaping is not needed: keys with escapes never
 * match), or NULL. */
const struct jv *jsonr_get(const struct jobj *o, const char *key);
/* A string member unescaped into out (NUL-terminated, UTF-8): 0; -1 when v is NULL, not a
 * string, holds a NUL or does not fit. */
int jsonr_str(const struct jv *v, char *out, size_t cap);
/* An integer member (no fraction, no exponent, within int64): 0 or -1. */
int jsonr_i64(const struct jv *v, int64_t *out);
int jsonr_bool(const struct jv *v, bool *out);
/* The strings of an array member, one per call: *pos starts at 0; true with the next one in
 * out, false at the end or at an element that is not a string or does not fit (*bad set). */
bool jsonr_next_str(const struct jv *arr, size_t *pos, char *out, size_t cap, bool *bad);
/* The elements of an array member, one per call: *pos starts at 0; true with the next one
 * in out (its key NULL; an object's members by jsonr_sub), false at the end. */
bool jsonr_next(const struct jv *arr, size_t *pos, struct jv *out);
/* Parses one object and hands back its member key as a nested object (replies' "data"). */
int jsonr_sub(const struct jv *v, struct jobj *o, char *err, size_t errlen);

#endif
