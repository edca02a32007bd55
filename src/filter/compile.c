/* filter/compile.c — parses a display filter (Wireshark's grammar and precedence: not
 * binds tightest, then and, xor, or) and emits the program as it goes: one typed test per
 * relation, short-circuit jumps for and/or. Constants are converted to the type of the
 * field they meet, so a bad value is reported here, with its place, and never at run time. */
#define _GNU_SOURCE /* strptime, timegm */
#include "filter/internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/xalloc.h"

struct parser {
	const char *text;
	struct lexed lx;
	size_t at;
	struct df_error *err;
	int depth;
	bool failed;
	struct df_filter *f;
	size_t code_cap, tests_cap;
	uint32_t stack;
};

/* A relation's side before its constant is typed: which token holds the constant. */
struct side {
	struct operand o;
	size_t tok;          /* first token of the side (for messages) */
	size_t end_tok;      /* one past its last token */
	bool is_literal;
	char what[96];       /* how messages name it: "tcp.port", "len(http.host)" */
};

__attribute__((format(printf, 4, 5)))
static void error_at(struct parser *ps, size_t pos, size_t len, const char *fmt, ...)
{
	if (ps->failed) return;
	ps->failed = true;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ps->err->msg, sizeof ps->err->msg, fmt, ap);
	va_end(ap);
	ps->err->pos = (uint32_t)pos;
	ps->err->len = (uint32_t)(len ? len : 1);
}

static const struct token *tok(const struct parser *ps) { return &ps->lx.toks[ps->at]; }
static const struct token *tok_at(const struct parser *ps, size_t i) { return &ps->lx.toks[i]; }

/* The span from token a to the end of token b-1, for carets under a whole operand. */
static void span(const struct parser *ps, size_t a, size_t b, size_t *pos, size_t *len)
{
	const struct token *ta = tok_at(ps, a), *tb = tok_at(ps, b > a ? b - 1 : a);
	*pos = ta->pos;
	*len = tb->pos + tb->len > ta->pos ? tb->pos + tb->len - ta->pos : 1;
}

static void error_tok(struct parser *ps, const struct token *t, const char *what)
{
	if (t->kind == TK_END) error_at(ps, t->pos, 1, "the filter ends where %s was expected", what);
	else error_at(ps, t->pos, t->len, "\"%.*s\" was unexpected here: %s was expected", (int)t->len, ps->text + t->pos, what);
}

static size_t emit(struct parser *ps, uint8_t op, uint32_t arg)
{
	struct df_filter *f = ps->f;
	if (f->ncode == ps->code_cap) {
		ps->code_cap = ps->code_cap ? ps->code_cap * 2 : 16;
		f->code = xrealloc(f->code, ps->code_cap * sizeof *f->code);
	}
	f->code[f->ncode] = (struct insn){ op, arg };
	return f->ncode++;
}

static struct test *new_test(struct parser *ps)
{
	struct df_filter *f = ps->f;
	if (f->ntests == ps->tests_cap) {
		ps->tests_cap = ps->tests_cap ? ps->tests_cap * 2 : 8;
		f->tests = xrealloc(f->tests, ps->tests_cap * sizeof *f->tests);
	}
	struct test *t = &f->tests[f->ntests++];
	memset(t, 0, sizeof *t);
	return t;
}

/* ---- types ---- */

static const char *type_phrase(uint8_t ftype)
{
	switch (ftype) {
	case FT_PROTO: return "a protocol";
	case FT_NONE: return "a label without a value";
	case FT_BOOL: return "a boolean";
	case FT_UINT: return "an unsigned integer";
	case FT_INT: return "a signed integer";
	case FT_IPV4: return "an IPv4 address";
	case FT_IPV6: return "an IPv6 address";
	case FT_ETHER: return "an Ethernet address";
	case FT_BYTES: return "a byte string";
	case FT_STRING: return "a character string";
	case FT_ABSTIME: return "a date and time";
	case FT_EPOCH: return "a time in seconds since the epoch";
	case FT_RELTIME: return "a time offset in seconds";
	case FT_FLOAT: return "a decimal number";
	}
	return "a value";
}

static uint8_t class_of_type(uint8_t ftype)
{
	switch (ftype) {
	case FT_BOOL: case FT_UINT: case FT_INT: return DC_INT;
	case FT_IPV4: return DC_IPV4;
	case FT_IPV6: return DC_IPV6;
	case FT_ETHER: return DC_ETHER;
	case FT_BYTES: case FT_PROTO: return DC_BYTES;
	case FT_STRING: return DC_STRING;
	case FT_ABSTIME: case FT_EPOCH: case FT_RELTIME: return DC_TIME;
	case FT_FLOAT: return DC_TIME; /* compared as a fixed-point number, 10^-9 units */
	default: return DC_NONE;
	}
}

/* The type a side's values have, for converting a constant: a slice is bytes, len() and
 * count() and a bitmask are unsigned integers, lower()/upper() strings. */
static uint8_t side_ftype(const struct operand *o)
{
	if (o->fn == FN_LEN || o->fn == FN_COUNT || o->has_mask) return FT_UINT;
	if (o->fn == FN_LOWER || o->fn == FN_UPPER) return FT_STRING;
	if (o->nranges) return FT_BYTES;
	return o->ftype;
}

/* ---- constants ---- */

static int parse_int(const char *s, size_t n, bool allow_neg, __int128 *out)
{
	bool neg = false;
	if (n && (*s == '-' || *s == '+')) {
		neg = *s == '-';
		if (neg && !allow_neg) return -1;
		s++;
		n--;
	}
	if (!n) return -1;
	unsigned base = 10;
	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) { base = 16; s += 2; n -= 2; }
	else if (n > 2 && s[0] == '0' && (s[1] == 'b' || s[1] == 'B')) { base = 2; s += 2; n -= 2; }
	else if (n > 1 && s[0] == '0') { base = 8; s++; n--; }
	unsigned __int128 v = 0;
	for (size_t i = 0; i < n; i++) {
		int d = isdigit((unsigned char)s[i]) ? s[i] - '0' : isxdigit((unsigned char)s[i]) ? (tolower((unsigned char)s[i]) - 'a' + 10) : 99;
		if (d >= (int)base) return -1;
		v = v * base + (unsigned)d;
		if (v > UINT64_MAX) return -1;
	}
	*out = neg ? -(__int128)v : (__int128)v;
	return 0;
}

static int hexdigit(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Bytes as Wireshark writes them: pairs of hex digits with ':', '-' or '.' between them
 * (one separator kind per value), or none ("001b21"); "0x" before one hex run. A single
 * separated group may have one digit ("0:1b"). Returns the count, or -1. */
static int parse_bytes(const char *s, size_t n, uint8_t *out, size_t cap)
{
	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) { s += 2; n -= 2; }
	char sep = 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] == ':' || s[i] == '-' || s[i] == '.') {
			if (sep && s[i] != sep) return -1;
			sep = s[i];
		}
	size_t k = 0, i = 0;
	if (!n) return -1;
	if (!sep) {
		if (n % 2) return -1;
		for (; i < n; i += 2) {
			int hi = hexdigit(s[i]), lo = hexdigit(s[i + 1]);
			if (hi < 0 || lo < 0 || k == cap) return -1;
			out[k++] = (uint8_t)(hi * 16 + lo);
		}
		return (int)k;
	}
	/* A '.' separates groups of two bytes (Cisco's 0011.2233.4455); others single bytes. */
	size_t group = sep == '.' ? 4 : 2;
	while (i <= n) {
		size_t j = i;
		while (j < n && s[j] != sep) j++;
		size_t g = j - i;
		if (g == 0 || g > group || (sep == '.' && g % 2)) return -1;
		if (g % 2) { /* one digit: a byte below 0x10 */
			int d = hexdigit(s[i]);
			if (d < 0 || k == cap) return -1;
			out[k++] = (uint8_t)d;
		} else {
			for (size_t q = i; q < j; q += 2) {
				int hi = hexdigit(s[q]), lo = hexdigit(s[q + 1]);
				if (hi < 0 || lo < 0 || k == cap) return -1;
				out[k++] = (uint8_t)(hi * 16 + lo);
			}
		}
		i = j + 1;
	}
	return (int)k;
}

static int parse_prefix(const char *s, size_t n, unsigned max, uint8_t *out)
{
	__int128 v;
	if (!n || n > 3 || parse_int(s, n, false, &v) < 0 || v > max) return -1;
	*out = (uint8_t)v;
	return 0;
}

/* Decimal seconds ("1.5", "-0.25") in nanoseconds. */
static int parse_seconds(const char *s, size_t n, __int128 *out)
{
	bool neg = false;
	size_t i = 0;
	if (n && (s[0] == '-' || s[0] == '+')) { neg = s[0] == '-'; i++; }
	__int128 sec = 0, frac = 0;
	int fd = 0;
	bool digits = false, dot = false;
	for (; i < n; i++) {
		if (s[i] == '.' && !dot) { dot = true; continue; }
		if (!isdigit((unsigned char)s[i])) return -1;
		digits = true;
		if (!dot) {
			sec = sec * 10 + (s[i] - '0');
			if (sec > (__int128)1 << 62) return -1;
		} else if (fd < 9) {
			frac = frac * 10 + (s[i] - '0');
			fd++;
		}
	}
	if (!digits) return -1;
	while (fd++ < 9) frac *= 10;
	__int128 ns = sec * 1000000000 + frac;
	*out = neg ? -ns : ns;
	return 0;
}

/* An absolute time as Wireshark takes it: "2024-01-31 12:00:00[.frac]" or "Jan 31, 2024
 * 12:00:00[.frac]", local time unless it ends in "Z" or " UTC". */
static int parse_abstime(const char *s, size_t n, __int128 *out)
{
	char buf[80];
	if (n >= sizeof buf) return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	bool utc = false;
	if (n > 4 && !strcmp(buf + n - 4, " UTC")) { utc = true; buf[n - 4] = '\0'; }
	else if (n > 1 && buf[n - 1] == 'Z') { utc = true; buf[n - 1] = '\0'; }
	struct tm tm = { 0 };
	const char *rest = strptime(buf, "%Y-%m-%d %H:%M:%S", &tm);
	if (!rest) rest = strptime(buf, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!rest) rest = strptime(buf, "%b %d, %Y %H:%M:%S", &tm);
	if (!rest) return -1;
	__int128 frac = 0;
	if (*rest == '.') {
		int fd = 0;
		for (rest++; isdigit((unsigned char)*rest); rest++)
			if (fd < 9) { frac = frac * 10 + (*rest - '0'); fd++; }
		while (fd++ < 9) frac *= 10;
	}
	if (*rest) return -1;
	tm.tm_isdst = -1;
	time_t t = utc ? timegm(&tm) : mktime(&tm);
	if (t == (time_t)-1 && !(tm.tm_year == 69)) return -1;
	*out = (__int128)t * 1000000000 + frac;
	return 0;
}

/* The value name a field's table gives `s` (case-insensitive), as Wireshark accepts
 * `ip.proto == "TCP"`. */
static int lookup_value_name(uint16_t id, const char *s, size_t n, __int128 *out)
{
	const struct val_name *vn = field_defs[id].vals;
	for (; vn && vn->name; vn++)
		if (strlen(vn->name) == n && !strncasecmp(vn->name, s, n)) {
			*out = vn->val;
			return 0;
		}
	return -1;
}

/* Converts the constant at token ti to the type of `other` (the field side). */
static int convert(struct parser *ps, size_t ti, const struct side *other, struct dval *v, uint8_t **owned)
{
	const struct token *t = tok_at(ps, ti);
	const char *s = t->kind == TK_STRING ? (const char *)ps->lx.strbuf + t->str : ps->text + t->pos;
	size_t n = t->kind == TK_STRING ? t->slen : t->len;
	uint8_t ft = side_ftype(&other->o);
	memset(v, 0, sizeof *v);
	v->cls = class_of_type(ft);
	int ok = -1;
	switch (ft) {
	case FT_UINT: case FT_INT: case FT_BOOL:
		if (t->kind == TK_CHAR) { v->i = (__int128)t->ch; ok = 0; break; }
		if (t->kind == TK_WORD) ok = parse_int(s, n, ft == FT_INT, &v->i);
		if (ok < 0 && ft == FT_BOOL && ((n == 4 && !strncasecmp(s, "true", 4)) || (n == 5 && !strncasecmp(s, "false", 5)))) {
			v->i = n == 4;
			ok = 0;
		}
		if (ok == 0 && ft == FT_BOOL && v->i > 1) ok = -1;
		if (ok < 0 && other->o.is_field && !other->o.fn && !other->o.has_mask && other->o.nids == 1)
			ok = lookup_value_name(other->o.ids[0], s, n, &v->i);
		break;
	case FT_IPV4: case FT_IPV6: {
		if (t->kind != TK_WORD) break;
		const char *slash = memchr(s, '/', n);
		size_t alen = slash ? (size_t)(slash - s) : n;
		char buf[64];
		if (alen >= sizeof buf) break;
		memcpy(buf, s, alen);
		buf[alen] = '\0';
		unsigned bits = ft == FT_IPV4 ? 32 : 128;
		v->prefix = (uint8_t)(bits == 128 ? 128 : 32);
		if (inet_pton(ft == FT_IPV4 ? AF_INET : AF_INET6, buf, v->addr) != 1) break;
		if (slash && parse_prefix(slash + 1, n - alen - 1, bits, &v->prefix) < 0) {
			error_at(ps, t->pos + alen, n - alen, "the %s prefix length is 0 to %u bits, not \"%.*s\"",
				 ft == FT_IPV4 ? "IPv4" : "IPv6", bits, (int)(n - alen - 1), slash + 1);
			return -1;
		}
		ok = 0;
		break;
	}
	case FT_ETHER: {
		if (t->kind != TK_WORD) break;
		ok = parse_bytes(s, n, v->addr, 6) == 6 ? 0 : -1;
		v->n = 6;
		break;
	}
	case FT_BYTES: case FT_PROTO: {
		uint8_t *b = xmalloc(n + 1);
		int k = -1;
		if (t->kind == TK_STRING) {
			memcpy(b, s, n);
			k = (int)n;
		} else if (t->kind == TK_CHAR) {
			b[0] = (uint8_t)t->ch;
			k = 1;
		} else {
			k = parse_bytes(s, n, b, n);
			__int128 iv;
			if (k < 0 && parse_int(s, n, false, &iv) == 0 && iv <= 255) { /* one byte: 0x45 */
				b[0] = (uint8_t)iv;
				k = 1;
			}
		}
		if (k < 0) { free(b); break; }
		v->cls = DC_BYTES;
		v->p = b;
		v->n = (uint32_t)k;
		*owned = b;
		ok = 0;
		break;
	}
	case FT_STRING:
		if (t->kind == TK_CHAR) break;
		v->p = (const uint8_t *)s;
		v->n = (uint32_t)n;
		ok = 0;
		break;
	case FT_ABSTIME:
		ok = parse_abstime(s, n, &v->i);
		break;
	case FT_EPOCH: case FT_RELTIME: case FT_FLOAT:
		if (t->kind == TK_WORD) ok = parse_seconds(s, n, &v->i);
		break;
	default:
		break;
	}
	if (ok == 0) return 0;
	if (ps->failed) return -1;
	if (t->kind == TK_STRING && (ft == FT_UINT || ft == FT_INT))
		error_at(ps, t->pos, t->len, "\"%.*s\" is not a valid value for %s (%s; write numbers without quotes)",
			 (int)n, s, other->what, type_phrase(ft));
	else
		error_at(ps, t->pos, t->len, "\"%.*s\" is not a valid value for %s (%s)", (int)n, s, other->what, type_phrase(ft));
	return -1;
}

/* ---- operands ---- */

static bool is_literal_token(enum tok k) { return k == TK_WORD || k == TK_STRING || k == TK_CHAR; }

static bool lookup_field(const char *name, size_t n, struct operand *o)
{
	uint16_t ids[2];
	if (field_pseudo(name, n, ids) == 0) {
		o->ids[0] = ids[0];
		o->ids[1] = ids[1];
		o->nids = 2;
	} else {
		int id = field_by_name(name, n);
		if (id < 0) return false;
		o->ids[0] = (uint16_t)id;
		o->nids = 1;
	}
	o->is_field = true;
	o->ftype = field_defs[o->ids[0]].type;
	return true;
}

static void unknown_field(struct parser *ps, const struct token *t)
{
	char name[128];
	size_t n = t->len < sizeof name - 1 ? t->len : sizeof name - 1;
	memcpy(name, ps->text + t->pos, n);
	name[n] = '\0';
	const char *s = field_suggest(name);
	if (s) error_at(ps, t->pos, t->len, "unknown field \"%s\" — did you mean \"%s\"?", name, s);
	else error_at(ps, t->pos, t->len, "unknown field \"%s\"", name);
}

/* One range inside [...]: i:j (offset, length), i-j (first to last), i, :j, i: — a
 * negative offset counts from the end. */
static int parse_range(struct parser *ps, const struct token *t, struct range *r)
{
	const char *s = ps->text + t->pos;
	size_t n = t->len;
	__int128 a = 0, b = 0;
	const char *colon = memchr(s, ':', n);
	if (colon) {
		size_t la = (size_t)(colon - s), lb = n - la - 1;
		if (la && parse_int(s, la, true, &a) < 0) goto bad;
		if (lb && (parse_int(colon + 1, lb, false, &b) < 0 || b == 0)) goto bad;
		r->start = (int64_t)a;
		r->len = lb ? (int64_t)b : -1;
		return 0;
	}
	/* i-j: the '-' after the first character (the first may be a minus sign) */
	const char *dash = n > 1 ? memchr(s + 1, '-', n - 1) : NULL;
	if (dash) {
		size_t la = (size_t)(dash - s), lb = n - la - 1;
		if (parse_int(s, la, true, &a) < 0 || parse_int(dash + 1, lb, false, &b) < 0) goto bad;
		if (a < 0 || b < a) goto bad;
		r->start = (int64_t)a;
		r->len = (int64_t)(b - a + 1);
		return 0;
	}
	if (parse_int(s, n, true, &a) < 0) goto bad;
	r->start = (int64_t)a;
	r->len = 1;
	return 0;
bad:
	error_at(ps, t->pos, t->len, "\"%.*s\" is not a byte range (i:length, i-j, i, :length or i:)", (int)n, s);
	return -1;
}

static int parse_slice(struct parser *ps, struct side *sd)
{
	const struct token *open = tok(ps);
	uint8_t ft = sd->o.ftype;
	if (sd->o.fn == FN_NONE && (ft == FT_UINT || ft == FT_INT || ft == FT_BOOL || ft == FT_NONE || ft == FT_ABSTIME ||
				    ft == FT_EPOCH || ft == FT_RELTIME)) {
		error_at(ps, open->pos, open->len, "%s is %s and cannot be sliced into bytes", sd->what, type_phrase(ft));
		return -1;
	}
	ps->at++;
	for (;;) {
		const struct token *t = tok(ps);
		if (t->kind != TK_WORD) {
			error_tok(ps, t, "a byte range");
			return -1;
		}
		if (sd->o.nranges == DF_MAX_RANGES) {
			error_at(ps, t->pos, t->len, "at most %d ranges in one slice", DF_MAX_RANGES);
			return -1;
		}
		if (parse_range(ps, t, &sd->o.ranges[sd->o.nranges++]) < 0) return -1;
		ps->at++;
		if (tok(ps)->kind == TK_COMMA) { ps->at++; continue; }
		if (tok(ps)->kind == TK_RBRACKET) { ps->at++; break; }
		error_tok(ps, tok(ps), "']' or ',' in a slice");
		return -1;
	}
	sd->o.cls = DC_BYTES;
	const struct token *close = tok_at(ps, ps->at - 1);
	size_t l = strlen(sd->what), n = close->pos + close->len - open->pos;
	if (l + n < sizeof sd->what) {
		memcpy(sd->what + l, ps->text + open->pos, n);
		sd->what[l + n] = '\0';
	}
	return 0;
}

static int parse_side(struct parser *ps, struct side *sd);
static int parse_value_function(struct parser *ps, struct side *sd, const struct token *name);

static int parse_function(struct parser *ps, struct side *sd)
{
	const struct token *name = tok(ps);
	static const struct { const char *name; enum fn fn; } fns[] = {
		{ "len", FN_LEN }, { "count", FN_COUNT }, { "lower", FN_LOWER }, { "upper", FN_UPPER },
	};
	enum fn fn = FN_NONE;
	for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++)
		if (strlen(fns[i].name) == name->len && !memcmp(fns[i].name, ps->text + name->pos, name->len)) fn = fns[i].fn;
	if (fn == FN_NONE) return parse_value_function(ps, sd, name);
	if (++ps->depth > DF_MAX_DEPTH) {
		error_at(ps, name->pos, name->len, "the filter nests deeper than %d levels", DF_MAX_DEPTH);
		return -1;
	}
	ps->at += 2; /* name and '(' */
	struct side arg = { 0 };
	if (parse_side(ps, &arg) < 0) return -1;
	ps->depth--;
	if (!arg.o.is_field || arg.o.fn || arg.o.has_mask || arg.o.expr || arg.o.ref) {
		size_t pos, len;
		span(ps, arg.tok, arg.end_tok, &pos, &len);
		error_at(ps, pos, len, "%.*s() takes a field", (int)name->len, ps->text + name->pos);
		return -1;
	}
	if (tok(ps)->kind != TK_RPAREN) {
		error_tok(ps, tok(ps), "')' after the function's field");
		return -1;
	}
	ps->at++;
	if ((fn == FN_LOWER || fn == FN_UPPER) && (arg.o.ftype != FT_STRING || arg.o.nranges)) {
		error_at(ps, name->pos, name->len, "%s() takes a character string field; %s is %s", fn == FN_LOWER ? "lower" : "upper",
			 arg.what, type_phrase(arg.o.nranges ? FT_BYTES : arg.o.ftype));
		return -1;
	}
	sd->o = arg.o;
	sd->o.fn = (uint8_t)fn;
	sd->o.cls = fn == FN_LOWER || fn == FN_UPPER ? DC_STRING : DC_INT;
	int nl = name->len < 8 ? (int)name->len : 8, al = (int)strnlen(arg.what, sizeof sd->what - 12);
	snprintf(sd->what, sizeof sd->what, "%.*s(%.*s)", nl, ps->text + name->pos, al, arg.what);
	return 0;
}

static int parse_layer(struct parser *ps, struct side *sd);
static int parse_group_or_ref(struct parser *ps, struct side *sd);

/* A field (maybe of a layer, maybe sliced), a function call, a constant, a group or a
 * field reference, then an optional `& mask`. */
static int parse_primary(struct parser *ps, struct side *sd)
{
	const struct token *t = tok(ps);
	sd->tok = ps->at;
	if (t->kind == TK_LBRACE || t->kind == TK_FIELDREF) {
		if (parse_group_or_ref(ps, sd) < 0) return -1;
	} else if (t->kind == TK_WORD && tok_at(ps, ps->at + 1)->kind == TK_LPAREN) {
		if (parse_function(ps, sd) < 0) return -1;
	} else if (t->kind == TK_WORD && lookup_field(ps->text + t->pos, t->len, &sd->o)) {
		snprintf(sd->what, sizeof sd->what, "%.*s", (int)t->len, ps->text + t->pos);
		sd->o.cls = class_of_type(sd->o.ftype);
		ps->at++;
		if (tok(ps)->kind == TK_HASH && parse_layer(ps, sd) < 0) return -1;
		if (tok(ps)->kind == TK_LBRACKET && parse_slice(ps, sd) < 0) return -1;
	} else if (is_literal_token(t->kind)) {
		sd->is_literal = true;
		ps->at++;
	} else {
		error_tok(ps, t, "a field or a value");
		return -1;
	}
	if (tok(ps)->kind == TK_BITAND) {
		const struct token *amp = tok(ps);
		bool slice_ok = sd->o.cls == DC_BYTES && sd->o.nranges && !sd->o.fn;
		if (!sd->o.is_field || (sd->o.cls != DC_INT && !slice_ok) || (sd->o.fn && sd->o.fn != FN_LEN)) {
			error_at(ps, amp->pos, amp->len, "'&' needs an integer field on its left%s%s", sd->o.is_field ? "; " : "",
				 sd->o.is_field ? sd->what : "");
			if (sd->o.is_field && sd->o.cls != DC_INT)
				snprintf(ps->err->msg, sizeof ps->err->msg, "'&' needs an integer field on its left; %s is %s",
					 sd->what, type_phrase(side_ftype(&sd->o)));
			return -1;
		}
		ps->at++;
		const struct token *m = tok(ps);
		__int128 v;
		if (!(m->kind == TK_WORD && parse_int(ps->text + m->pos, m->len, false, &v) == 0) && m->kind != TK_CHAR) {
			if (m->kind == TK_END) error_tok(ps, m, "a number after '&'");
			else error_at(ps, m->pos, m->len, "\"%.*s\" is not a valid bit mask (an unsigned integer)", (int)m->len, ps->text + m->pos);
			return -1;
		}
		sd->o.has_mask = true;
		sd->o.cls = DC_INT;
		sd->o.mask = m->kind == TK_CHAR ? m->ch : (uint64_t)v;
		ps->at++;
	}
	sd->end_tok = ps->at;
	return 0;
}

/* ---- arithmetic, value functions, layers, references (Wireshark 4.x) ---- */

static bool word_is(const struct parser *ps, const struct token *t, const char *w)
{
	return t->kind == TK_WORD && t->len == strlen(w) && !memcmp(ps->text + t->pos, w, t->len);
}

/* Registers an allocation with the program (df_free releases it). */
static void *own(struct parser *ps, void *ptr)
{
	struct df_filter *f = ps->f;
	if (f->nowned == f->cap_owned) {
		f->cap_owned = f->cap_owned ? f->cap_owned * 2 : 16;
		f->owned = xrealloc(f->owned, f->cap_owned * sizeof *f->owned);
	}
	f->owned[f->nowned++] = ptr;
	return ptr;
}

/* Nesting that recurses ({…}, functions, repeated '-') counts against DF_MAX_DEPTH. */
static int deeper(struct parser *ps, const struct token *t)
{
	if (++ps->depth <= DF_MAX_DEPTH) return 0;
	error_at(ps, t->pos, t->len, "the filter nests deeper than %d levels", DF_MAX_DEPTH);
	return -1;
}

static struct operand *heap_operand(struct parser *ps, const struct operand *o)
{
	struct operand *h = own(ps, xmalloc(sizeof *h));
	*h = *o;
	return h;
}

/* The side becomes an expression of op over args. */
static void make_expr(struct parser *ps, struct side *sd, enum ex_op op, struct operand **args, uint8_t nargs,
		      uint8_t ftype, uint8_t cls)
{
	struct expr *e = own(ps, xcalloc(1, sizeof *e));
	e->op = (uint8_t)op;
	e->nargs = nargs;
	for (uint8_t i = 0; i < nargs; i++) e->args[i] = args[i];
	memset(&sd->o, 0, sizeof sd->o);
	sd->o.is_field = true; /* it takes its values from the packet, as a field does */
	sd->o.expr = e;
	sd->o.ftype = ftype;
	sd->o.cls = cls;
	sd->is_literal = false;
}

/* A constant inside an expression takes the type of the operand beside it; two constants
 * are integers (2 * 49). */
static int expr_constant(struct parser *ps, struct side *lit, const struct side *other)
{
	if (other->is_literal) {
		const struct token *t = tok_at(ps, lit->tok);
		if (t->kind != TK_WORD || parse_int(ps->text + t->pos, t->len, true, &lit->o.lit.i) < 0) {
			error_at(ps, t->pos, t->len, "\"%.*s\" is not a number", (int)t->len, ps->text + t->pos);
			return -1;
		}
		lit->o.lit.cls = DC_INT;
	} else if (convert(ps, lit->tok, other, &lit->o.lit, &lit->o.lit_owned) < 0) {
		return -1;
	}
	lit->o.cls = lit->o.lit.cls;
	lit->o.ftype = lit->o.cls == DC_TIME ? FT_RELTIME : FT_INT;
	lit->is_literal = false;
	return 0;
}

static bool numeric(uint8_t cls) { return cls == DC_INT || cls == DC_TIME; }

/* lhs OP rhs: numbers of one class (+ -), integers (%), or a time scaled by an integer
 * (* /). The result replaces lhs. */
static int binary(struct parser *ps, struct side *lhs, struct side *rhs, enum ex_op op, const struct token *optok)
{
	for (int k = 0; k < 2; k++) { /* arithmetic is for numbers and times */
		const struct side *sd = k ? rhs : lhs;
		if (!sd->is_literal && !numeric(sd->o.cls)) {
			error_at(ps, optok->pos, optok->len, "'%.*s' works on numbers and times; %s is %s", (int)optok->len,
				 ps->text + optok->pos, sd->what, type_phrase(side_ftype(&sd->o)));
			return -1;
		}
	}
	if (lhs->is_literal && rhs->is_literal) {
		if (expr_constant(ps, lhs, rhs) < 0 || expr_constant(ps, rhs, lhs) < 0) return -1;
	} else if (lhs->is_literal) {
		if (expr_constant(ps, lhs, rhs) < 0) return -1;
	} else if (rhs->is_literal) {
		if (expr_constant(ps, rhs, lhs) < 0) return -1;
	}
	uint8_t a = lhs->o.cls, b = rhs->o.cls, cls;
	bool ok;
	switch (op) {
	case EX_ADD: case EX_SUB: ok = numeric(a) && a == b; cls = a; break;
	case EX_MOD: ok = a == DC_INT && b == DC_INT; cls = DC_INT; break;
	default: ok = numeric(a) && b == DC_INT; cls = a; break; /* * and / */
	}
	if (!ok) {
		error_at(ps, optok->pos, optok->len, "'%.*s' cannot combine %s (%s) and %s (%s)", (int)optok->len,
			 ps->text + optok->pos, lhs->what, type_phrase(side_ftype(&lhs->o)), rhs->what,
			 type_phrase(side_ftype(&rhs->o)));
		return -1;
	}
	uint8_t ft = cls == DC_TIME ? (lhs->o.ftype == FT_FLOAT ? FT_FLOAT : FT_RELTIME) : FT_INT;
	struct operand *args[2] = { heap_operand(ps, &lhs->o), heap_operand(ps, &rhs->o) };
	char what[sizeof lhs->what];
	snprintf(what, sizeof what, "%.40s %.*s %.40s", lhs->what, (int)optok->len, ps->text + optok->pos, rhs->what);
	make_expr(ps, lhs, op, args, 2, ft, cls);
	memcpy(lhs->what, what, sizeof what);
	lhs->end_tok = rhs->end_tok;
	return 0;
}

/* -x: a negative constant is a word of its own (-443); a field, a group or a function is
 * negated as a value. */
static int parse_unary_minus(struct parser *ps, struct side *sd)
{
	const struct token *t = tok(ps);
	if (word_is(ps, t, "-")) {
		ps->at++;
		if (deeper(ps, t) < 0 || parse_unary_minus(ps, sd) < 0) return -1;
		ps->depth--;
		sd->tok = (size_t)(t - ps->lx.toks);
	} else if (t->kind == TK_WORD && t->len > 1 && ps->text[t->pos] == '-' &&
		   field_by_name(ps->text + t->pos + 1, t->len - 1) >= 0) {
		/* "-tcp.srcport" is one word for the lexer */
		struct operand o = { 0 };
		lookup_field(ps->text + t->pos + 1, t->len - 1, &o);
		sd->tok = ps->at;
		sd->o = o;
		sd->o.cls = class_of_type(o.ftype);
		snprintf(sd->what, sizeof sd->what, "%.*s", (int)t->len - 1, ps->text + t->pos + 1);
		ps->at++;
	} else {
		return parse_primary(ps, sd);
	}
	if (sd->is_literal || !numeric(sd->o.cls)) {
		error_at(ps, t->pos, t->len, "'-' negates numbers and times; %s is %s", sd->what, type_phrase(side_ftype(&sd->o)));
		return -1;
	}
	struct operand *arg = heap_operand(ps, &sd->o);
	make_expr(ps, sd, EX_NEG, &arg, 1, sd->o.cls == DC_TIME ? FT_RELTIME : FT_INT, sd->o.cls);
	char what[sizeof sd->what];
	snprintf(what, sizeof what, "-%.80s", sd->what);
	memcpy(sd->what, what, sizeof what);
	sd->end_tok = ps->at;
	return 0;
}

static int parse_term(struct parser *ps, struct side *sd)
{
	if (parse_unary_minus(ps, sd) < 0) return -1;
	for (;;) {
		const struct token *t = tok(ps);
		enum ex_op op;
		if (t->kind == TK_STAR) op = EX_MUL;
		else if (t->kind == TK_PERCENT) op = EX_MOD;
		else if (word_is(ps, t, "/")) op = EX_DIV;
		else return 0;
		ps->at++;
		struct side rhs = { 0 };
		if (parse_unary_minus(ps, &rhs) < 0 || binary(ps, sd, &rhs, op, t) < 0) return -1;
	}
}

/* A side of a relation: + and - over terms, * / % over unary minus over primaries. */
static int parse_side(struct parser *ps, struct side *sd)
{
	size_t first = ps->at;
	if (parse_term(ps, sd) < 0) return -1;
	for (;;) {
		const struct token *t = tok(ps);
		enum ex_op op;
		if (t->kind == TK_PLUS) op = EX_ADD;
		else if (word_is(ps, t, "-")) op = EX_SUB;
		else break;
		ps->at++;
		struct side rhs = { 0 };
		if (parse_term(ps, &rhs) < 0 || binary(ps, sd, &rhs, op, t) < 0) return -1;
	}
	sd->tok = first;
	sd->end_tok = ps->at;
	return 0;
}


/* { expression } groups; ${field} refers to the reference packet's field. */
static int parse_group_or_ref(struct parser *ps, struct side *sd)
{
	const struct token *open = tok(ps);
	ps->at++;
	if (open->kind == TK_LBRACE) {
		if (deeper(ps, open) < 0 || parse_side(ps, sd) < 0) return -1;
		ps->depth--;
	} else {
		const struct token *t = tok(ps);
		if (t->kind != TK_WORD || !lookup_field(ps->text + t->pos, t->len, &sd->o)) {
			if (t->kind == TK_WORD) unknown_field(ps, t);
			else error_tok(ps, t, "a field name after ${");
			return -1;
		}
		sd->o.ref = true;
		sd->o.cls = class_of_type(sd->o.ftype);
		snprintf(sd->what, sizeof sd->what, "${%.*s}", (int)t->len, ps->text + t->pos);
		ps->at++;
	}
	if (tok(ps)->kind != TK_RBRACE) {
		error_tok(ps, tok(ps), "'}'");
		return -1;
	}
	ps->at++;
	return 0;
}

/* field#N or field#[A-B]: the values in those layers of the field's protocol (from 1). */
static int parse_layer(struct parser *ps, struct side *sd)
{
	const struct token *hash = tok(ps);
	ps->at++;
	const struct token *t = tok(ps);
	bool bracket = t->kind == TK_LBRACKET;
	if (bracket) t = tok_at(ps, ++ps->at);
	__int128 lo = 0, hi = 0;
	const char *s = ps->text + t->pos;
	const char *dash = t->kind == TK_WORD ? memchr(s, '-', t->len) : NULL;
	bool ok = t->kind == TK_WORD && dash != s;
	if (ok && dash && bracket) {
		ok = parse_int(s, (size_t)(dash - s), false, &lo) == 0 &&
		     parse_int(dash + 1, t->len - (size_t)(dash - s) - 1, false, &hi) == 0;
	} else if (ok) {
		ok = !dash && parse_int(s, t->len, false, &lo) == 0;
		hi = lo;
	}
	if (!ok || lo < 1 || hi < lo || hi > 255) {
		error_at(ps, hash->pos, t->pos + t->len - hash->pos,
			 "a layer is a number from 1 (ip.src#2) or a range (ip.src#[1-2])");
		return -1;
	}
	ps->at++;
	if (bracket) {
		if (tok(ps)->kind != TK_RBRACKET) {
			error_tok(ps, tok(ps), "']' after the layers");
			return -1;
		}
		ps->at++;
	}
	uint16_t proto = sd->o.ids[0];
	while (field_defs[proto].type != FT_PROTO && field_defs[proto].parent != F__COUNT) proto = field_defs[proto].parent;
	sd->o.layer_proto = proto;
	sd->o.layer_lo = (uint8_t)lo;
	sd->o.layer_hi = (uint8_t)hi;
	size_t l = strlen(sd->what), n = tok_at(ps, ps->at - 1)->pos + tok_at(ps, ps->at - 1)->len - hash->pos;
	if (l + n < sizeof sd->what) {
		memcpy(sd->what + l, ps->text + hash->pos, n);
		sd->what[l + n] = '\0';
	}
	return 0;
}

/* abs(x), max(x, y, …), min(x, y, …), string(field). */
static int parse_value_function(struct parser *ps, struct side *sd, const struct token *name)
{
	static const struct { const char *name; enum ex_op op; } fns[] = {
		{ "abs", EX_ABS }, { "max", EX_MAX }, { "min", EX_MIN }, { "string", EX_STRING },
	};
	int which = -1;
	for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++)
		if (strlen(fns[i].name) == name->len && !memcmp(fns[i].name, ps->text + name->pos, name->len)) which = (int)i;
	if (which < 0) {
		error_at(ps, name->pos, name->len,
			 "unknown function \"%.*s\" (there are len, count, lower, upper, abs, max, min and string)",
			 (int)name->len, ps->text + name->pos);
		return -1;
	}
	enum ex_op op = fns[which].op;
	if (deeper(ps, name) < 0) return -1;
	ps->at += 2; /* name and '(' */
	struct operand *args[DF_MAX_ARGS];
	uint8_t nargs = 0;
	uint8_t cls = DC_NONE;
	for (;;) {
		struct side arg = { 0 };
		if (parse_side(ps, &arg) < 0) goto fail;
		size_t pos, len;
		span(ps, arg.tok, arg.end_tok, &pos, &len);
		if (arg.is_literal) {
			error_at(ps, pos, len, "%.*s() takes fields and expressions, not constants", (int)name->len,
				 ps->text + name->pos);
			goto fail;
		}
		bool fits = op == EX_STRING ? arg.o.is_field && !arg.o.expr && arg.o.ftype != FT_PROTO && arg.o.ftype != FT_NONE
					    : numeric(arg.o.cls) && (cls == DC_NONE || cls == arg.o.cls);
		if (!fits) {
			error_at(ps, pos, len, op == EX_STRING ? "string() takes a field with a value" :
				 "%.*s() takes numbers or times of one kind; %s is %s", (int)name->len, ps->text + name->pos,
				 arg.what, type_phrase(side_ftype(&arg.o)));
			goto fail;
		}
		cls = arg.o.cls;
		if (nargs == DF_MAX_ARGS) {
			error_at(ps, pos, len, "at most %d arguments", DF_MAX_ARGS);
			goto fail;
		}
		args[nargs++] = heap_operand(ps, &arg.o);
		if (tok(ps)->kind == TK_COMMA && (op == EX_MAX || op == EX_MIN)) {
			ps->at++;
			continue;
		}
		if (tok(ps)->kind != TK_RPAREN) {
			error_tok(ps, tok(ps), op == EX_MAX || op == EX_MIN ? "',' or ')'" : "')'");
			goto fail;
		}
		ps->at++;
		break;
	}
	ps->depth--;
	uint8_t ftype = op == EX_STRING ? FT_STRING : cls == DC_TIME ? FT_RELTIME : FT_INT;
	make_expr(ps, sd, op, args, nargs, ftype, op == EX_STRING ? DC_STRING : cls);
	snprintf(sd->what, sizeof sd->what, "%.*s(…)", (int)(name->len < 8 ? name->len : 8), ps->text + name->pos);
	if (op == EX_STRING) sd->o.scratch = own(ps, xmalloc((size_t)DF_MAX_VALUES * DF_STRING_MAX));
	return 0;
fail:
	return -1; /* what was made is the program's: df_free releases it */
}

/* ---- relations ---- */

static bool classes_compatible(uint8_t a, uint8_t b)
{
	if (a == b) return true;
	bool ab = a == DC_BYTES || a == DC_ETHER || a == DC_STRING, bb = b == DC_BYTES || b == DC_ETHER || b == DC_STRING;
	return ab && bb;
}

static int field_side_checks(struct parser *ps, const struct side *sd, const char *opname)
{
	if (sd->o.is_field && sd->o.ftype == FT_NONE && !sd->o.fn && !sd->o.nranges) {
		size_t pos, len;
		span(ps, sd->tok, sd->end_tok, &pos, &len);
		error_at(ps, pos, len, "%s is a label without a value: test it alone (\"%s\"), not with %s", sd->what, sd->what, opname);
		return -1;
	}
	return 0;
}

static void side_unknown(struct parser *ps, const struct side *sd)
{
	const struct token *t = tok_at(ps, sd->tok);
	if (t->kind == TK_WORD && (isalpha((unsigned char)ps->text[t->pos]) || ps->text[t->pos] == '_') &&
	    !memchr(ps->text + t->pos, ':', t->len))
		unknown_field(ps, t);
	else
		error_at(ps, t->pos, t->len, "\"%.*s\" is a value, not a field: a test needs a field (e.g. tcp.port == 80)",
			 (int)t->len, ps->text + t->pos);
}

static int compile_compare(struct parser *ps, struct test *t, struct side *a, struct side *b, const struct token *optok)
{
	char opname[32];
	snprintf(opname, sizeof opname, "\"%.*s\"", (int)optok->len, ps->text + optok->pos);
	if (a->is_literal && b->is_literal) {
		side_unknown(ps, a);
		return -1;
	}
	if (field_side_checks(ps, a, opname) < 0 || field_side_checks(ps, b, opname) < 0) return -1;
	if (a->is_literal || b->is_literal) {
		struct side *lit = a->is_literal ? a : b, *fld = a->is_literal ? b : a;
		if (convert(ps, lit->tok, fld, &lit->o.lit, &lit->o.lit_owned) < 0) return -1;
		lit->o.cls = lit->o.lit.cls;
	} else if (!classes_compatible(a->o.cls, b->o.cls)) {
		error_at(ps, optok->pos, optok->len, "%s (%s) and %s (%s) cannot be compared", a->what,
			 type_phrase(side_ftype(&a->o)), b->what, type_phrase(side_ftype(&b->o)));
		return -1;
	}
	t->a = a->o;
	t->b = b->o;
	return 0;
}

static int compile_contains(struct parser *ps, struct test *t, struct side *a, struct side *b, const struct token *optok)
{
	if (!a->o.is_field) {
		error_at(ps, optok->pos, optok->len, "\"contains\" needs a field on its left");
		return -1;
	}
	if (a->o.cls != DC_BYTES && a->o.cls != DC_STRING && a->o.cls != DC_ETHER) {
		size_t pos, len;
		span(ps, a->tok, a->end_tok, &pos, &len);
		error_at(ps, pos, len, "%s is %s: \"contains\" works on strings, bytes and protocols", a->what,
			 type_phrase(side_ftype(&a->o)));
		return -1;
	}
	if (b->is_literal) {
		struct side as_bytes = *a;
		if (a->o.cls == DC_ETHER) as_bytes.o.ftype = FT_BYTES;
		if (convert(ps, b->tok, &as_bytes, &b->o.lit, &b->o.lit_owned) < 0) return -1;
		b->o.cls = b->o.lit.cls;
	} else if (!classes_compatible(a->o.cls, b->o.cls)) {
		error_at(ps, optok->pos, optok->len, "%s cannot contain %s (%s)", a->what, b->what, type_phrase(side_ftype(&b->o)));
		return -1;
	}
	t->a = a->o;
	t->b = b->o;
	return 0;
}

static int compile_matches(struct parser *ps, struct test *t, struct side *a, const struct token *optok)
{
	const struct token *r = tok(ps);
	if (!a->o.is_field || (a->o.cls != DC_BYTES && a->o.cls != DC_STRING)) {
		size_t pos, len;
		span(ps, a->tok, a->end_tok, &pos, &len);
		if (a->o.is_field)
			error_at(ps, pos, len, "%s is %s: \"matches\" works on strings, bytes and protocols", a->what,
				 type_phrase(side_ftype(&a->o)));
		else
			error_at(ps, optok->pos, optok->len, "\"matches\" needs a field on its left");
		return -1;
	}
	if (r->kind != TK_STRING) {
		error_tok(ps, r, "a quoted regular expression");
		return -1;
	}
	int code;
	PCRE2_SIZE where;
	/* Case-insensitive by default, as Wireshark; "(?-i)" in the pattern turns it off.
	 * Packet bytes need not be UTF-8, so invalid sequences are matched, not refused. */
	t->re = pcre2_compile((PCRE2_SPTR)(ps->lx.strbuf + r->str), r->slen,
			      PCRE2_CASELESS | PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_NEVER_BACKSLASH_C, &code, &where, NULL);
	if (!t->re) {
		PCRE2_UCHAR msg[160];
		pcre2_get_error_message(code, msg, sizeof msg);
		error_at(ps, r->pos, r->len, "invalid regular expression: %s (at pattern offset %zu)", (const char *)msg, (size_t)where);
		return -1;
	}
	t->md = pcre2_match_data_create_from_pattern(t->re, NULL);
	/* A pattern that backtracks without end on hostile bytes must still finish. */
	t->mctx = pcre2_match_context_create(NULL);
	pcre2_set_match_limit(t->mctx, 1000000);
	pcre2_set_depth_limit(t->mctx, 10000);
	ps->at++;
	t->a = a->o;
	return 0;
}

/* The text of a set element, split at "..": a word "80..443" or the words "80", "..443". */
static int compile_set(struct parser *ps, struct test *t, struct side *a)
{
	const struct token *open = tok(ps);
	if (!a->o.is_field) {
		error_at(ps, open->pos, open->len, "\"in\" needs a field on its left");
		return -1;
	}
	if (field_side_checks(ps, a, "\"in\"") < 0) return -1;
	if (open->kind != TK_LBRACE) {
		error_tok(ps, open, "'{' to start the set");
		return -1;
	}
	ps->at++;
	size_t cap = 0;
	for (;;) {
		const struct token *e = tok(ps);
		if (e->kind == TK_RBRACE && t->nset == 0) {
			error_at(ps, e->pos, e->len, "a set needs at least one value");
			return -1;
		}
		if (!is_literal_token(e->kind)) {
			error_tok(ps, e, "a value in the set");
			return -1;
		}
		if (t->nset == DF_MAX_SET) {
			error_at(ps, e->pos, e->len, "a set holds at most %d values", DF_MAX_SET);
			return -1;
		}
		if (t->nset == cap) {
			cap = cap ? cap * 2 : 8;
			t->set = xrealloc(t->set, cap * sizeof *t->set);
		}
		struct set_elem *se = &t->set[t->nset++];
		memset(se, 0, sizeof *se);
		const char *dots = e->kind == TK_WORD && e->len > 2 ? strstr(ps->text + e->pos, "..") : NULL;
		if (dots && (size_t)(dots - (ps->text + e->pos)) + 2 > e->len) dots = NULL;
		if (dots && dots > ps->text + e->pos && dots + 2 < ps->text + e->pos + e->len) {
			/* "lo..hi" in one word: convert each half through a temporary token */
			struct token saved = ps->lx.toks[ps->at];
			size_t lo_len = (size_t)(dots - (ps->text + e->pos));
			ps->lx.toks[ps->at].len = (uint32_t)lo_len;
			int rc = convert(ps, ps->at, a, &se->lo, &se->owned);
			ps->lx.toks[ps->at] = saved;
			if (rc < 0) return -1;
			ps->lx.toks[ps->at].pos = (uint32_t)(saved.pos + lo_len + 2);
			ps->lx.toks[ps->at].len = (uint32_t)(saved.len - lo_len - 2);
			uint8_t *owned_hi = NULL;
			rc = convert(ps, ps->at, a, &se->hi, &owned_hi);
			free(owned_hi);
			ps->lx.toks[ps->at] = saved;
			if (rc < 0) return -1;
		} else {
			if (convert(ps, ps->at, a, &se->lo, &se->owned) < 0) return -1;
			se->hi.cls = DC_NONE;
		}
		if (se->hi.cls != DC_NONE && se->lo.cls != DC_INT && se->lo.cls != DC_TIME && se->lo.cls != DC_IPV4 &&
		    se->lo.cls != DC_IPV6) {
			error_at(ps, e->pos, e->len, "a range in a set needs numbers, times or addresses; %s is %s", a->what,
				 type_phrase(side_ftype(&a->o)));
			return -1;
		}
		ps->at++;
		if (tok(ps)->kind == TK_COMMA) { ps->at++; continue; }
		if (tok(ps)->kind == TK_RBRACE) { ps->at++; break; }
		error_tok(ps, tok(ps), "',' or '}' in the set (values are separated by commas)");
		return -1;
	}
	t->a = a->o;
	return 0;
}

/* Scratch space, value lists and the field mask for an operand and everything in it. */
static void prepare_operand(struct parser *ps, struct operand *o, bool in_expr)
{
	if ((o->fn == FN_LOWER || o->fn == FN_UPPER || o->nranges > 1) && !o->scratch) {
		o->scratch = xmalloc(PKT_ARENA_SIZE);
		if (in_expr) own(ps, o->scratch); /* a top-level operand's is freed with its test */
	}
	if ((in_expr || o->expr || o->ref) && !o->vals) o->vals = own(ps, xcalloc(DF_MAX_VALUES, sizeof *o->vals));
	if (o->expr) {
		for (uint8_t i = 0; i < o->expr->nargs; i++) prepare_operand(ps, o->expr->args[i], true);
		return;
	}
	struct field_mask *m = o->ref ? &ps->f->ref_needs : &ps->f->needs;
	for (uint8_t k = 0; o->is_field && k < o->nids; k++) field_mask_add(m, o->ids[k]);
	if (o->layer_proto) field_mask_add(m, o->layer_proto);
}

static int parse_relation(struct parser *ps)
{
	struct test *t = new_test(ps);
	uint32_t ti = (uint32_t)(ps->f->ntests - 1);
	bool explicit_quant = false;
	if (tok(ps)->kind == TK_ANY || tok(ps)->kind == TK_ALL) {
		t->quant = tok(ps)->kind == TK_ALL ? Q_ALL : Q_ANY;
		explicit_quant = true;
		ps->at++;
	}
	struct side a = { 0 }, b = { 0 };
	if (parse_side(ps, &a) < 0) return -1;
	t = &ps->f->tests[ti]; /* parse_side never adds tests, but keep the pointer honest */
	const struct token *optok = tok(ps);
	bool negate = false;
	switch (optok->kind) {
	case TK_EQ: case TK_NE: case TK_ALL_EQ: case TK_ANY_NE: case TK_LT: case TK_GT: case TK_LE: case TK_GE: {
		static const enum cmp_op ops[] = { [TK_EQ] = OP_EQ, [TK_NE] = OP_NE, [TK_ALL_EQ] = OP_ALL_EQ,
			[TK_ANY_NE] = OP_ANY_NE, [TK_LT] = OP_LT, [TK_GT] = OP_GT, [TK_LE] = OP_LE, [TK_GE] = OP_GE };
		t->kind = TS_CMP;
		t->op = ops[optok->kind];
		ps->at++;
		if (parse_side(ps, &b) < 0) return -1;
		if (compile_compare(ps, t, &a, &b, optok) < 0) return -1;
		/* Wireshark: != means "no value equals", === "every value equals". */
		if (!explicit_quant && (t->op == OP_NE || t->op == OP_ALL_EQ)) t->quant = Q_ALL;
		if (t->op == OP_ALL_EQ) t->op = OP_EQ;
		if (t->op == OP_ANY_NE) t->op = OP_NE;
		break;
	}
	case TK_CONTAINS:
		t->kind = TS_CONTAINS;
		ps->at++;
		if (parse_side(ps, &b) < 0) return -1;
		if (compile_contains(ps, t, &a, &b, optok) < 0) return -1;
		break;
	case TK_MATCHES:
		t->kind = TS_MATCHES;
		ps->at++;
		if (compile_matches(ps, t, &a, optok) < 0) return -1;
		break;
	case TK_NOT:
		if (tok_at(ps, ps->at + 1)->kind != TK_IN) {
			error_tok(ps, optok, "an operator");
			return -1;
		}
		negate = true;
		ps->at++;
		/* fall through */
	case TK_IN:
		t->kind = TS_IN;
		ps->at++;
		if (compile_set(ps, t, &a) < 0) return -1;
		break;
	default:
		if (a.is_literal) {
			side_unknown(ps, &a);
			return -1;
		}
		if (explicit_quant) {
			error_tok(ps, optok, "a comparison after \"any\"/\"all\"");
			return -1;
		}
		if (a.o.fn == FN_LEN || a.o.fn == FN_COUNT || a.o.fn == FN_LOWER || a.o.fn == FN_UPPER) {
			size_t pos, len;
			span(ps, a.tok, a.end_tok, &pos, &len);
			error_at(ps, pos, len, "%s is a value, not a test: compare it (%s > 0)", a.what, a.what);
			return -1;
		}
		t->kind = a.o.has_mask ? TS_NONZERO : TS_EXISTS;
		t->a = a.o;
		break;
	}
	prepare_operand(ps, &t->a, false);
	prepare_operand(ps, &t->b, false);
	emit(ps, I_TEST, ti);
	if (negate) emit(ps, I_NOT, 0);
	return 0;
}

/* ---- logic: or < xor < and < not, as Wireshark ---- */

static int parse_or(struct parser *ps);

static int parse_unary(struct parser *ps)
{
	const struct token *t = tok(ps);
	if (t->kind != TK_NOT && t->kind != TK_LPAREN) return parse_relation(ps);
	/* each "(" and "not" is a level (so is a function call) */
	if (++ps->depth > DF_MAX_DEPTH) {
		error_at(ps, t->pos, t->len, "the filter nests deeper than %d levels", DF_MAX_DEPTH);
		return -1;
	}
	int rc;
	if (t->kind == TK_NOT) {
		ps->at++;
		rc = parse_unary(ps);
		if (rc == 0) emit(ps, I_NOT, 0);
	} else { /* '(' */
		ps->at++;
		rc = parse_or(ps);
		if (rc == 0 && tok(ps)->kind != TK_RPAREN) {
			if (tok(ps)->kind == TK_END)
				error_at(ps, t->pos, 1, "unbalanced parenthesis: this '(' is never closed");
			else
				error_tok(ps, tok(ps), "')' or a logical operator");
			rc = -1;
		}
		if (rc == 0) ps->at++;
	}
	ps->depth--;
	return rc;
}

static void patch(struct parser *ps, size_t *jumps, size_t n)
{
	for (size_t i = 0; i < n; i++) ps->f->code[jumps[i]].arg = (uint32_t)ps->f->ncode;
}

/* Chains of one operator: a and b and c → a; JF end; b; JF end; c; end: */
static int parse_chain(struct parser *ps, enum tok op, int (*operand)(struct parser *))
{
	if (operand(ps) < 0) return -1;
	if (tok(ps)->kind != op) return 0;
	size_t cap = 8, n = 0;
	size_t *jumps = xmalloc(cap * sizeof *jumps);
	int rc = 0;
	while (tok(ps)->kind == op) {
		ps->at++;
		if (op == TK_XOR) {
			emit(ps, I_PUSH, 0);
			if (++ps->stack > ps->f->max_stack) ps->f->max_stack = ps->stack;
			rc = operand(ps);
			ps->stack--;
			emit(ps, I_XOR, 0);
		} else {
			if (n == cap) jumps = xrealloc(jumps, (cap *= 2) * sizeof *jumps);
			jumps[n++] = emit(ps, op == TK_AND ? I_JUMP_FALSE : I_JUMP_TRUE, 0);
			rc = operand(ps);
		}
		if (rc < 0) break;
	}
	patch(ps, jumps, n);
	free(jumps);
	return rc;
}

static int parse_and(struct parser *ps) { return parse_chain(ps, TK_AND, parse_unary); }
static int parse_xor(struct parser *ps) { return parse_chain(ps, TK_XOR, parse_and); }
static int parse_or(struct parser *ps) { return parse_chain(ps, TK_OR, parse_xor); }

/* What an operand holds besides the program's owned list: its constant's bytes, a
 * top-level operand's scratch, a reference's copied bytes (in expressions too). */
static void free_operand(struct operand *o, bool top)
{
	if (top && !o->expr) free(o->scratch);
	free(o->lit_owned);
	free(o->refbuf);
	if (o->expr)
		for (uint8_t i = 0; i < o->expr->nargs; i++) free_operand(o->expr->args[i], false);
}

void df_free(struct df_filter *f)
{
	if (!f) return;
	for (size_t i = 0; i < f->ntests; i++) {
		struct test *t = &f->tests[i];
		free_operand(&t->a, true);
		free_operand(&t->b, true);
		for (size_t k = 0; k < t->nset; k++) free(t->set[k].owned);
		free(t->set);
		pcre2_match_data_free(t->md);
		pcre2_match_context_free(t->mctx);
		pcre2_code_free(t->re);
	}
	for (size_t i = 0; i < f->nowned; i++) free(f->owned[i]);
	free(f->owned);
	free(f->tests);
	free(f->code);
	free(f);
}

struct df_filter *df_compile(const char *text, struct df_error *err)
{
	memset(err, 0, sizeof *err);
	size_t len = strlen(text);
	if (len > DF_MAX_LEN) {
		snprintf(err->msg, sizeof err->msg, "the filter is %zu bytes long; the limit is %d", len, DF_MAX_LEN);
		err->pos = DF_MAX_LEN;
		err->len = 1;
		return NULL;
	}
	struct parser ps = { .text = text, .err = err };
	if (df_lex(text, len, &ps.lx, err) < 0) return NULL;
	ps.f = xcalloc(1, sizeof *ps.f);
	if (tok(&ps)->kind == TK_END) {
		error_at(&ps, 0, 1, "the filter is empty");
	} else if (parse_or(&ps) == 0 && tok(&ps)->kind != TK_END) {
		const struct token *t = tok(&ps);
		if (t->kind == TK_RPAREN) error_at(&ps, t->pos, t->len, "unbalanced parenthesis: this ')' closes nothing");
		else error_tok(&ps, t, "a logical operator (and, or, xor) or the end");
	}
	/* The string buffer holds constants the tests point into: strings stay with the
	 * program. Copy what tests reference before freeing the lexer's buffers. */
	if (!ps.failed) {
		for (size_t i = 0; i < ps.f->ntests; i++) {
			struct test *t = &ps.f->tests[i];
			struct operand *os[2] = { &t->a, &t->b };
			for (int s = 0; s < 2; s++) {
				struct dval *v = &os[s]->lit;
				if (os[s]->is_field || v->cls != DC_STRING || os[s]->lit_owned) continue;
				uint8_t *copy = xmalloc(v->n + 1);
				memcpy(copy, v->p, v->n);
				v->p = copy;
				os[s]->lit_owned = copy;
			}
			for (size_t k = 0; k < t->nset; k++) {
				struct set_elem *se = &t->set[k];
				if (se->lo.cls != DC_STRING || se->owned) continue;
				uint8_t *copy = xmalloc(se->lo.n + 1);
				memcpy(copy, se->lo.p, se->lo.n);
				se->lo.p = copy;
				se->owned = copy;
			}
		}
	}
	df_lexed_free(&ps.lx);
	if (ps.failed) {
		df_free(ps.f);
		return NULL;
	}
	return ps.f;
}

void df_mask_add(const struct df_filter *f, struct field_mask *m)
{
	for (size_t i = 0; i < sizeof m->bits; i++) m->bits[i] |= f->needs.bits[i];
}

bool df_is_packet_local(const struct df_filter *f)
{
	for (int id = 0; id < F__COUNT; id++)
		if ((f->needs.bits[id >> 3] & (1u << (id & 7))) && !field_is_packet_local(id)) return false;
	return true;
}

static bool operand_reads_bytes(const struct operand *o)
{
	if (o->expr) {
		for (uint8_t i = 0; i < o->expr->nargs; i++)
			if (operand_reads_bytes(o->expr->args[i])) return true;
		return false;
	}
	return o->is_field && !o->ref && o->ftype == FT_PROTO && o->fn != FN_COUNT && (o->fn != FN_LEN || o->nranges);
}

bool df_reads_layer_bytes(const struct df_filter *f)
{
	for (size_t i = 0; i < f->ntests; i++) {
		const struct test *t = &f->tests[i];
		/* presence alone needs no bytes, a slice's presence does (`http[0:4]`) */
		if ((t->kind != TS_EXISTS || t->a.nranges) && (operand_reads_bytes(&t->a) || operand_reads_bytes(&t->b)))
			return true;
	}
	return false;
}

void df_error_print(FILE *out, const char *text, const struct df_error *err)
{
	fprintf(out, "pktscope: invalid display filter: %s\n", err->msg);
	size_t len = strlen(text);
	if (len > 200) return; /* a caret under a very long line helps nobody */
	fprintf(out, "  %s\n  ", text);
	size_t pos = err->pos <= len ? err->pos : len;
	for (size_t i = 0; i < pos; i++) fputc(text[i] == '\t' ? '\t' : ' ', out);
	fputc('^', out);
	for (size_t i = 1; i < err->len && pos + i < len; i++) fputc('~', out);
	fputc('\n', out);
}
