/* util/jsonr.c — see jsonr.h. A recursive descent over the text, depth-bounded, that checks
 * every value and keeps the top level's members. */
#include "util/jsonr.h"

#include <stdio.h>
#include <string.h>

struct cur {
	const char *base, *p, *end;
	char *err;
	size_t errlen;
};

static int bad(struct cur *c, const char *what)
{
	snprintf(c->err, c->errlen, "at byte %zu: %s", (size_t)(c->p - c->base), what);
	return -1;
}

static void ws(struct cur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) c->p++;
}

static int hex4(const char *p, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		char h = p[i];
		unsigned d = h >= '0' && h <= '9' ? (unsigned)(h - '0') : h >= 'a' && h <= 'f' ? (unsigned)(h - 'a' + 10)
			   : h >= 'A' && h <= 'F' ? (unsigned)(h - 'A' + 10) : 16;
		if (d == 16) return -1;
		*v = *v << 4 | d;
	}
	return 0;
}

/* The length of the UTF-8 sequence at p (within end), 0 when it is not a valid one. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned b = p[0];
	size_t n;
	unsigned min;
	if (b < 0x80) return 1;
	if ((b & 0xe0) == 0xc0) n = 2, min = 0x80;
	else if ((b & 0xf0) == 0xe0) n = 3, min = 0x800;
	else if ((b & 0xf8) == 0xf0) n = 4, min = 0x10000;
	else return 0;
	if ((size_t)(end - p) < n) return 0;
	unsigned cp = b & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80) return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
	return n;
}

/* c->p at the opening quote; after it, past the closing one. */
static int string(struct cur *c)
{
	c->p++;
	while (c->p < c->end) {
		unsigned char ch = (unsigned char)*c->p;
		if (ch == '"') {
			c->p++;
			return 0;
		}
		if (ch < 0x20) return bad(c, "a control character in a string");
		if (ch == '\\') {
			if (c->end - c->p < 2) break;
			char e = c->p[1];
			if (e == 'u') {
				unsigned v;
				if (c->end - c->p < 6 || hex4(c->p + 2, &v) < 0) return bad(c, "a bad \\u escape");
				c->p += 6;
				if (v >= 0xd800 && v <= 0xdbff) { /* a high surrogate wants its low one */
					unsigned lo;
					if (c->end - c->p < 6 || c->p[0] != '\\' || c->p[1] != 'u' || hex4(c->p + 2, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
						return bad(c, "a lone surrogate in a \\u escape");
					c->p += 6;
				} else if (v >= 0xdc00 && v <= 0xdfff) {
					return bad(c, "a lone surrogate in a \\u escape");
				}
				continue;
			}
			if (!strchr("\"\\/bfnrt", e) || !e) return bad(c, "an unknown escape");
			c->p += 2;
			continue;
		}
		size_t n = utf8_len((const unsigned char *)c->p, (const unsigned char *)c->end);
		if (!n) return bad(c, "invalid UTF-8 in a string");
		c->p += n;
	}
	return bad(c, "an unterminated string");
}

static int number(struct cur *c)
{
	const char *s = c->p;
	if (c->p < c->end && *c->p == '-') c->p++;
	if (c->p >= c->end) return bad(c, "a bad number");
	if (*c->p == '0') c->p++;
	else if (*c->p >= '1' && *c->p <= '9') while (c->p < c->end && *c->p >= '0' && *c->p <= '9') c->p++;
	else return bad(c, "a bad number");
	if (c->p < c->end && *c->p == '.') {
		c->p++;
		if (c->p >= c->end || *c->p < '0' || *c->p > '9') return bad(c, "a bad number");
		while (c->p < c->end && *c->p >= '0' && *c->p <= '9') c->p++;
	}
	if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
		c->p++;
		if (c->p < c->end && (*c->p == '+' || *c->p == '-')) c->p++;
		if (c->p >= c->end || *c->p < '0' || *c->p > '9') return bad(c, "a bad number");
		while (c->p < c->end && *c->p >= '0' && *c->p <= '9') c->p++;
	}
	return c->p > s ? 0 : bad(c, "a bad number");
}

static int value(struct cur *c, int depth, enum jv_type *type);

/* c->p at '{' or '['. An object's members go to o (the caller's for the top level, its
 * own for a nested one: every object is held to the same rules, duplicates and size). */
static int compound(struct cur *c, int depth, bool obj, struct jobj *o)
{
	if (depth >= JSONR_MAX_DEPTH) return bad(c, "nested too deeply");
	struct jobj own;
	if (obj && !o) {
		own.n = 0;
		o = &own;
	}
	char close = obj ? '}' : ']';
	c->p++;
	ws(c);
	if (c->p < c->end && *c->p == close) {
		c->p++;
		return 0;
	}
	for (;;) {
		ws(c);
		const char *key = NULL;
		size_t keylen = 0;
		if (obj) {
			if (c->p >= c->end || *c->p != '"') return bad(c, "a member name (a string) expected");
			key = c->p + 1;
			if (string(c) < 0) return -1;
			keylen = (size_t)(c->p - 1 - key);
			ws(c);
			if (c->p >= c->end || *c->p != ':') return bad(c, "':' expected");
			c->p++;
			ws(c);
		}
		const char *vs = c->p;
		enum jv_type t;
		if (value(c, depth + 1, &t) < 0) return -1;
		if (o) {
			for (int i = 0; i < o->n; i++)
				if (o->v[i].keylen == keylen && !memcmp(o->v[i].key, key, keylen)) {
					c->p = key - 1;
					return bad(c, "a duplicate member name");
				}
			if (o->n == JSONR_MAX_KEYS) return bad(c, "an object with too many members");
			o->v[o->n++] = (struct jv){ .key = key, .keylen = keylen, .type = t, .raw = vs, .rawlen = (size_t)(c->p - vs) };
		}
		ws(c);
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			continue;
		}
		if (c->p < c->end && *c->p == close) {
			c->p++;
			return 0;
		}
		return bad(c, obj ? "',' or '}' expected" : "',' or ']' expected");
	}
}

static int literal(struct cur *c, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n)) return bad(c, "a value expected");
	c->p += n;
	return 0;
}

static int value(struct cur *c, int depth, enum jv_type *type)
{
	if (c->p >= c->end) return bad(c, "a value expected");
	switch (*c->p) {
	case '{': *type = JV_OBJ; return compound(c, depth, true, NULL);
	case '[': *type = JV_ARR; return compound(c, depth, false, NULL);
	case '"': *type = JV_STR; return string(c);
	case 't': *type = JV_BOOL; return literal(c, "true");
	case 'f': *type = JV_BOOL; return literal(c, "false");
	case 'n': *type = JV_NULL; return literal(c, "null");
	default: *type = JV_NUM; return number(c);
	}
}

int jsonr_object(const char *text, size_t len, struct jobj *o, char *err, size_t errlen)
{
	struct cur c = { .base = text, .p = text, .end = text + len, .err = err, .errlen = errlen };
	o->n = 0;
	ws(&c);
	if (c.p >= c.end || *c.p != '{') return bad(&c, "a JSON object expected");
	if (compound(&c, 0, true, o) < 0) return -1;
	ws(&c);
	if (c.p != c.end) return bad(&c, "text after the object");
	return 0;
}

bool jsonr_next(const struct jv *arr, size_t *pos, struct jv *out)
{
	if (!arr || arr->type != JV_ARR) return false;
	char e[64];
	struct cur c = { arr->raw, arr->raw + (*pos ? *pos : 1), arr->raw + arr->rawlen, e, sizeof e };
	while (c.p < c.end && (*c.p == ',' || *c.p == ' ' || *c.p == '\t' || *c.p == '\n' || *c.p == '\r')) c.p++;
	if (c.p >= c.end || *c.p == ']') return false;
	const char *vs = c.p;
	enum jv_type t;
	if (value(&c, 1, &t) < 0) return false; /* not an element of a checked array */
	*out = (struct jv){ .type = t, .raw = vs, .rawlen = (size_t)(c.p - vs) };
	*pos = (size_t)(c.p - arr->raw);
	return true;
}

int jsonr_sub(const struct jv *v, struct jobj *o, char *err, size_t errlen)
{
	if (!v || v->type != JV_OBJ) {
		snprintf(err, errlen, "an object expected");
		return -1;
	}
	return jsonr_object(v->raw, v->rawlen, o, err, errlen);
}

const struct jv *jsonr_get(const struct jobj *o, const char *key)
{
	size_t n = strlen(key);
	for (int i = 0; i < o->n; i++)
		if (o->v[i].keylen == n && !memcmp(o->v[i].key, key, n)) return &o->v[i];
	return NULL;
}

/* Unescapes the (checked) string at s (its opening quote) into out; the text's end in *next. */
static int unescape(const char *s, char *out, size_t cap, const char **next)
{
	size_t n = 0;
	const char *p = s + 1;
	for (;;) {
		unsigned char ch = (unsigned char)*p;
		if (ch == '"') break;
		char buf[4];
		size_t k = 1;
		if (ch != '\\') {
			buf[0] = (char)ch;
			p++;
		} else if (p[1] != 'u') {
			static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
			buf[0] = to[strchr(from, p[1]) - from];
			p += 2;
		} else {
			unsigned v, lo;
			hex4(p + 2, &v);
			p += 6;
			if (v >= 0xd800 && v <= 0xdbff) {
				hex4(p + 2, &lo);
				p += 6;
				v = 0x10000 + ((v - 0xd800) << 10) + (lo - 0xdc00);
			}
			if (v == 0) return -1;
			if (v < 0x80) buf[0] = (char)v;
			else if (v < 0x800) k = 2, buf[0] = (char)(0xc0 | v >> 6), buf[1] = (char)(0x80 | (v & 0x3f));
			else if (v < 0x10000) k = 3, buf[0] = (char)(0xe0 | v >> 12), buf[1] = (char)(0x80 | (v >> 6 & 0x3f)), buf[2] = (char)(0x80 | (v & 0x3f));
			else k = 4, buf[0] = (char)(0xf0 | v >> 18), buf[1] = (char)(0x80 | (v >> 12 & 0x3f)), buf[2] = (char)(0x80 | (v >> 6 & 0x3f)), buf[3] = (char)(0x80 | (v & 0x3f));
		}
		if (n + k >= cap) return -1;
		memcpy(out + n, buf, k);
		n += k;
	}
	out[n] = '\0';
	if (next) *next = p + 1;
	return 0;
}

int jsonr_str(const struct jv *v, char *out, size_t cap)
{
	if (!v || v->type != JV_STR || !cap) return -1;
	return unescape(v->raw, out, cap, NULL);
}

int jsonr_i64(const struct jv *v, int64_t *out)
{
	if (!v || v->type != JV_NUM) return -1;
	const char *p = v->raw, *e = v->raw + v->rawlen;
	bool neg = *p == '-';
	if (neg) p++;
	uint64_t x = 0;
	for (; p < e; p++) {
		if (*p < '0' || *p > '9') return -1; /* a fraction or an exponent */
		if (x > (UINT64_MAX - 9) / 10) return -1;
		x = x * 10 + (uint64_t)(*p - '0');
	}
	if (x > (uint64_t)INT64_MAX + neg) return -1;
	*out = neg ? (int64_t)(0 - x) : (int64_t)x;
	return 0;
}

int jsonr_bool(const struct jv *v, bool *out)
{
	if (!v || v->type != JV_BOOL) return -1;
	*out = v->raw[0] == 't';
	return 0;
}

bool jsonr_next_str(const struct jv *arr, size_t *pos, char *out, size_t cap, bool *bad_)
{
	*bad_ = false;
	if (!arr || arr->type != JV_ARR) {
		*bad_ = true;
		return false;
	}
	const char *p = arr->raw + (*pos ? *pos : 1), *e = arr->raw + arr->rawlen;
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ',')) p++;
	if (p >= e || *p == ']') return false;
	const char *next;
	if (*p != '"' || unescape(p, out, cap, &next) < 0) {
		*bad_ = true;
		return false;
	}
	*pos = (size_t)(next - arr->raw);
	return true;
}
