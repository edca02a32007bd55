/* util/cursor.h — the bounded byte cursor: the only way pktscope reads untrusted bytes.
 *
 * A cursor is {base, pos, end, err}. Every read checks the remaining length before it
 * loads; a read past `end` sets the sticky `err` flag, moves `pos` to `end` and returns 0,
 * so a decoder can read a whole header and check `err` once. A sub-cursor narrows `end` to
 * a length field taken from the packet. `base` is the start of the frame, so offsets
 * reported for fields are frame offsets whatever sub-cursor recorded them.
 */
#ifndef PKTSCOPE_UTIL_CURSOR_H
#define PKTSCOPE_UTIL_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct cur {
	const uint8_t *base; /* start of the frame: field offsets are relative to it */
	const uint8_t *pos;
	const uint8_t *end;
	bool err;            /* sticky: set by the first read past end */
};

static inline struct cur cur_make(const uint8_t *data, size_t len)
{
	struct cur c = { data, data, data + len, false };
	return c;
}

static inline size_t cur_left(const struct cur *c) { return (size_t)(c->end - c->pos); }
static inline uint32_t cur_off(const struct cur *c) { return (uint32_t)(c->pos - c->base); }
static inline bool cur_has(const struct cur *c, size_t n) { return cur_left(c) >= n; }

static inline bool cur_fail(struct cur *c)
{
	c->err = true;
	c->pos = c->end;
	return false;
}

static inline uint8_t cur_u8(struct cur *c)
{
	if (!cur_has(c, 1)) return (uint8_t)cur_fail(c);
	return *c->pos++;
}

static inline uint16_t cur_be16(struct cur *c)
{
	if (!cur_has(c, 2)) return (uint16_t)cur_fail(c);
	uint16_t v = (uint16_t)(c->pos[0] << 8 | c->pos[1]);
	c->pos += 2;
	return v;
}

static inline uint32_t cur_be24(struct cur *c)
{
	if (!cur_has(c, 3)) return (uint32_t)cur_fail(c);
	uint32_t v = (uint32_t)c->pos[0] << 16 | (uint32_t)c->pos[1] << 8 | c->pos[2];
	c->pos += 3;
	return v;
}

static inline uint32_t cur_be32(struct cur *c)
{
	if (!cur_has(c, 4)) return (uint32_t)cur_fail(c);
	uint32_t v = (uint32_t)c->pos[0] << 24 | (uint32_t)c->pos[1] << 16 |
		     (uint32_t)c->pos[2] << 8 | c->pos[3];
	c->pos += 4;
	return v;
}

static inline uint16_t cur_le16(struct cur *c)
{
	if (!cur_has(c, 2)) return (uint16_t)cur_fail(c);
	uint16_t v = (uint16_t)(c->pos[1] << 8 | c->pos[0]);
	c->pos += 2;
	return v;
}

static inline uint32_t cur_le32(struct cur *c)
{
	if (!cur_has(c, 4)) return (uint32_t)cur_fail(c);
	uint32_t v = (uint32_t)c->pos[3] << 24 | (uint32_t)c->pos[2] << 16 |
		     (uint32_t)c->pos[1] << 8 | c->pos[0];
	c->pos += 4;
	return v;
}

/* Returns a pointer to the next n bytes and advances, or NULL (and sets err). */
static inline const uint8_t *cur_bytes(struct cur *c, size_t n)
{
	if (!cur_has(c, n)) { cur_fail(c); return NULL; }
	const uint8_t *p = c->pos;
	c->pos += n;
	return p;
}

static inline bool cur_skip(struct cur *c, size_t n)
{
	if (!cur_has(c, n)) return cur_fail(c);
	c->pos += n;
	return true;
}

/* Copies n bytes into dst (zero-filled on failure). */
static inline bool cur_copy(struct cur *c, void *dst, size_t n)
{
	const uint8_t *p = cur_bytes(c, n);
	if (!p) { memset(dst, 0, n); return false; }
	memcpy(dst, p, n);
	return true;
}

/* Reads without advancing; 0 when out of range (no error set: peeking is a question). */
static inline uint8_t cur_peek_u8(const struct cur *c, size_t at)
{
	return cur_left(c) > at ? c->pos[at] : 0;
}

static inline uint16_t cur_peek_be16(const struct cur *c, size_t at)
{
	return cur_left(c) >= at + 2 ? (uint16_t)(c->pos[at] << 8 | c->pos[at + 1]) : 0;
}

/* Splits off the next n bytes as a sub-cursor and advances past them. When fewer than n
 * bytes remain the sub-cursor covers what is there and both cursors have err set, so the
 * caller can decode what was captured and still know the layer was cut short. */
static inline struct cur cur_sub(struct cur *c, size_t n)
{
	struct cur s = *c;
	if (cur_has(c, n)) {
		s.end = c->pos + n;
		c->pos += n;
	} else {
		s.err = true;
		c->err = true;
		c->pos = c->end;
	}
	return s;
}

/* Narrows the cursor's end to at most n bytes from pos (an inner length field). Returns
 * false, leaving end unchanged, when n is larger than what remains. */
static inline bool cur_limit(struct cur *c, size_t n)
{
	if (!cur_has(c, n)) return false;
	c->end = c->pos + n;
	return true;
}

#endif
