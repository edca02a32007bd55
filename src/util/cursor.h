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

/* ---- text protocols (HTTP/1.x, SSDP): lines and words, bounded the same way ---- */

/* The next line: *line covers it without its terminator (LF, or CR LF: RFC 9112 §2.2 lets
 * a recipient take a bare LF) and c moves past it. False, c unmoved, when no LF is left. */
static inline bool cur_line(struct cur *c, struct cur *line)
{
	const uint8_t *lf = memchr(c->pos, '\n', cur_left(c));
	if (!lf) return false;
	*line = *c;
	line->end = lf > c->pos && lf[-1] == '\r' ? lf - 1 : lf;
	c->pos = lf + 1;
	return true;
}

/* What comes before the first `ch`: *before covers it and c moves past the `ch`. False, c
 * unmoved, when there is none. */
static inline bool cur_split(struct cur *c, uint8_t ch, struct cur *before)
{
	const uint8_t *at = memchr(c->pos, ch, cur_left(c));
	if (!at) return false;
	*before = *c;
	before->end = at;
	c->pos = at + 1;
	return true;
}

/* Drops spaces and tabs at both ends. */
static inline void cur_trim(struct cur *c)
{
	while (c->pos < c->end && (*c->pos == ' ' || *c->pos == '\t')) c->pos++;
	while (c->end > c->pos && (c->end[-1] == ' ' || c->end[-1] == '\t')) c->end--;
}

/* Moves pos past the last `ch` (to the rest's last word); unmoved when there is none. */
static inline void cur_after_last(struct cur *c, uint8_t ch)
{
	const uint8_t *p = c->end;
	while (p > c->pos && p[-1] != ch) p--;
	if (p > c->pos) c->pos = p;
}

/* Whether the rest starts with the n bytes of s. */
static inline bool cur_starts(const struct cur *c, const char *s, size_t n)
{
	return cur_left(c) >= n && memcmp(c->pos, s, n) == 0;
}

/* Reads up to max decimal (base 10) or hex (base 16) digits as a number; *ndigits says how
 * many there were (0: none, the cursor unmoved). */
static inline uint64_t cur_digits(struct cur *c, int base, size_t max, size_t *ndigits)
{
	uint64_t v = 0;
	size_t n = 0;
	while (n < max && c->pos < c->end) {
		uint8_t ch = *c->pos;
		int d = ch >= '0' && ch <= '9' ? ch - '0'
			: base == 16 && ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
			: base == 16 && ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
		if (d < 0) break;
		v = v * (uint64_t)base + (uint64_t)d;
		c->pos++;
		n++;
	}
	*ndigits = n;
	return v;
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
