/* filter/eval.c — runs a compiled filter over one packet's field record. Each test walks
 * the recorded fields it names (a masked run records little else) and stops at the first
 * value that decides it; and/or jump over what cannot change the answer. */
#define _GNU_SOURCE /* memmem */
#include "filter/internal.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

/* ---- values ---- */

static __int128 time_ns(const struct fval *f)
{
	int64_t sec = f->v.t.sec;
	bool neg = sec < 0 || f->neg;
	__int128 mag = (__int128)(sec < 0 ? -sec : sec) * 1000000000 + f->v.t.nsec;
	return neg && field_defs[f->id].type == FT_RELTIME ? -mag : mag;
}

/* The field's own value, before slices and functions; false when it has none here (a
 * layer whose bytes the run did not keep). */
static bool base_value(const struct fval *f, const struct packet *p, struct dval *v)
{
	uint8_t ft = field_defs[f->id].type;
	v->prefix = 0;
	switch (ft) {
	case FT_BOOL: case FT_UINT: v->cls = DC_INT; v->i = f->v.u; break;
	case FT_INT: v->cls = DC_INT; v->i = f->v.i; break;
	case FT_IPV4: v->cls = DC_IPV4; v->p = f->v.addr; v->n = 4; v->prefix = 32; break;
	case FT_IPV6: v->cls = DC_IPV6; v->p = f->v.addr; v->n = 16; v->prefix = 128; break;
	case FT_ETHER: v->cls = DC_ETHER; v->p = f->v.addr; v->n = 6; break;
	case FT_BYTES: v->cls = DC_BYTES; v->p = f->v.b.p; v->n = f->v.b.n; break;
	case FT_STRING: v->cls = DC_STRING; v->p = f->v.b.p; v->n = f->v.b.n; break;
	case FT_PROTO:
		/* As in Wireshark, a protocol's bytes run from its first byte to the end of what
		 * it was given (its payload included: `tcp contains "GET"`), in its own buffer
		 * (`http[0:4]` is the reassembled request's start); len() is the layer's length. */
		v->cls = DC_BYTES;
		return pk_field_bytes(p, f, &v->p, &v->n);
	case FT_ABSTIME: case FT_EPOCH: case FT_RELTIME: v->cls = DC_TIME; v->i = time_ns(f); break;
	case FT_FLOAT: /* fixed point, as a filter's decimal constants are read (parse_seconds) */
		v->cls = DC_TIME;
		v->i = f->v.d > 9e18 ? (__int128)9e18 * 1000000000 : f->v.d < -9e18 ? -(__int128)9e18 * 1000000000
			: (__int128)(f->v.d * 1e9 + (f->v.d < 0 ? -0.5 : 0.5));
		break;
	default: v->cls = DC_NONE; v->n = f->len; break;
	}
	return true;
}

/* Wireshark's byte ranges: a range that does not fit the value gives no value. */
static bool apply_slice(const struct operand *o, struct dval *v)
{
	uint32_t used = 0;
	const uint8_t *first = NULL;
	for (uint8_t r = 0; r < o->nranges; r++) {
		int64_t start = o->ranges[r].start, n = v->n;
		if (start < 0) start += n;
		if (start < 0 || start >= n) return false;
		int64_t len = o->ranges[r].len < 0 ? n - start : o->ranges[r].len;
		if (start + len > n) return false;
		if (o->nranges == 1) {
			first = v->p + start;
			used = (uint32_t)len;
			break;
		}
		if (used + len > PKT_ARENA_SIZE) return false;
		memcpy(o->scratch + used, v->p + start, (size_t)len);
		used += (uint32_t)len;
	}
	v->p = o->nranges == 1 ? first : o->scratch;
	v->n = used;
	v->cls = DC_BYTES;
	v->prefix = 0;
	return true;
}

/* Turns field slot f into the operand's value; false when it gives none. */
static bool field_value(const struct operand *o, const struct fval *f, const struct packet *p, struct dval *v)
{
	if (!base_value(f, p, v) && !(o->fn == FN_LEN && !o->nranges)) return false;
	if (o->nranges && !apply_slice(o, v)) return false;
	switch (o->fn) {
	case FN_LEN:
		v->i = v->cls == DC_INT || v->cls == DC_TIME || v->cls == DC_NONE || (!o->nranges && o->ftype == FT_PROTO) ? f->len : v->n;
		v->cls = DC_INT;
		break;
	case FN_LOWER: case FN_UPPER: {
		uint32_t n = v->n < PKT_ARENA_SIZE ? v->n : PKT_ARENA_SIZE;
		for (uint32_t i = 0; i < n; i++) {
			uint8_t c = v->p[i];
			if (o->fn == FN_LOWER && c >= 'A' && c <= 'Z') c = (uint8_t)(c + 32);
			if (o->fn == FN_UPPER && c >= 'a' && c <= 'z') c = (uint8_t)(c - 32);
			o->scratch[i] = c;
		}
		v->p = o->scratch;
		v->n = n;
		break;
	}
	default: break;
	}
	if (o->has_mask) {
		if (v->cls == DC_BYTES) { /* a slice of at most 8 bytes, as a big-endian number */
			if (v->n > 8) return false;
			uint64_t x = 0;
			for (uint32_t i = 0; i < v->n; i++) x = x << 8 | v->p[i];
			v->cls = DC_INT;
			v->i = x;
		}
		v->i &= (__int128)o->mask;
	}
	return true;
}

static bool wanted(const struct operand *o, uint16_t id)
{
	return id == o->ids[0] || (o->nids == 2 && id == o->ids[1]);
}

/* The operand's next value: *pos walks the field record; a constant and count() give
 * exactly one value. */
static void fill_expr(const struct operand *o, const struct packet *p);

/* The layer (from 1) of p's protocol `proto` field i is in: the count of those layers
 * started at or before it. */
static unsigned layer_of(const struct packet *p, uint16_t proto, uint32_t i)
{
	unsigned n = 0;
	for (uint32_t k = 0; k <= i; k++) n += p->fields[k].id == proto;
	return n;
}

static bool next_value(const struct operand *o, const struct packet *p, uint32_t *pos, struct dval *v)
{
	if (o->expr || o->ref) { /* a list made for this packet (an expression), or kept (a reference) */
		if (o->expr && *pos == 0) fill_expr(o, p);
		if (*pos >= o->nvals) return false;
		*v = o->vals[(*pos)++];
		return true;
	}
	if (o->layer_proto) {
		unsigned layer = *pos ? layer_of(p, o->layer_proto, *pos - 1) : 0;
		while (*pos < p->nfields) {
			const struct fval *f = &p->fields[(*pos)++];
			if (f->id == o->layer_proto) layer++;
			if (layer >= o->layer_lo && layer <= o->layer_hi && wanted(o, f->id) && field_value(o, f, p, v)) return true;
		}
		return false;
	}
	if (!o->is_field) {
		if (*pos) return false;
		*pos = 1;
		*v = o->lit;
		return true;
	}
	if (o->fn == FN_COUNT) {
		if (*pos) return false;
		*pos = 1;
		uint64_t n = 0;
		for (uint16_t i = 0; i < p->nfields; i++) n += wanted(o, p->fields[i].id);
		if (!n) return false; /* as tshark 4.0: count() of an absent field has no value */
		v->cls = DC_INT;
		v->i = n;
		if (o->has_mask) v->i &= (__int128)o->mask;
		return true;
	}
	while (*pos < p->nfields) {
		const struct fval *f = &p->fields[(*pos)++];
		if (wanted(o, f->id) && field_value(o, f, p, v)) return true;
	}
	return false;
}

/* ---- expressions ---- */


static void put_value_text(struct sbuf *sb, const struct dval *v)
{
	switch (v->cls) {
	case DC_INT:
		if (v->i < 0) sb_i64(sb, (int64_t)v->i);
		else sb_u64(sb, (uint64_t)v->i);
		break;
	case DC_TIME: {
		__int128 x = v->i;
		if (x < 0) {
			sb_putc(sb, '-');
			x = -x;
		}
		sb_fixed(sb, (uint64_t)x, 9);
		break;
	}
	case DC_IPV4: sb_ipv4(sb, v->p ? v->p : v->addr); break;
	case DC_IPV6: sb_ipv6(sb, v->p ? v->p : v->addr); break;
	case DC_ETHER: sb_mac(sb, v->p ? v->p : v->addr); break;
	case DC_STRING: sb_put(sb, v->p, v->n); break;
	case DC_BYTES: sb_hexbytes(sb, v->p, v->n, ':'); break;
	default: break;
	}
}

/* Fills o->vals with the expression's values in packet p (the operands' lists combined,
 * at most DF_MAX_VALUES; division by zero gives no value). The lists live in the
 * compiled filter: one packet is tested at a time. */
static void fill_expr(const struct operand *o, const struct packet *p)
{
	struct operand *w = (struct operand *)o; /* the value list is the filter's scratch */
	const struct expr *e = o->expr;
	w->nvals = 0;
	for (uint8_t i = 0; i < e->nargs; i++) { /* each argument's own list first */
		struct operand *a = e->args[i];
		if (a->expr) {
			fill_expr(a, p);
			continue;
		}
		a->nvals = 0;
		uint32_t pos = 0;
		struct dval v;
		while (a->nvals < DF_MAX_VALUES && next_value(a, p, &pos, &v)) a->vals[a->nvals++] = v;
	}
	const struct operand *x = e->args[0], *y = e->nargs > 1 ? e->args[1] : NULL;
	switch (e->op) {
	case EX_NEG: case EX_ABS:
		for (uint8_t i = 0; i < x->nvals; i++) {
			struct dval v = x->vals[i];
			if (e->op == EX_NEG || v.i < 0) v.i = -v.i;
			w->vals[w->nvals++] = v;
		}
		break;
	case EX_MIN: case EX_MAX: {
		bool any = false;
		struct dval best = { 0 };
		for (uint8_t k = 0; k < e->nargs; k++)
			for (uint8_t i = 0; i < e->args[k]->nvals; i++) {
				const struct dval *v = &e->args[k]->vals[i];
				if (!any || (e->op == EX_MAX ? v->i > best.i : v->i < best.i)) best = *v;
				any = true;
			}
		if (any) w->vals[w->nvals++] = best;
		break;
	}
	case EX_STRING:
		for (uint8_t i = 0; i < x->nvals && w->nvals < DF_MAX_VALUES; i++) {
			char *buf = (char *)o->scratch + (size_t)w->nvals * DF_STRING_MAX;
			struct sbuf sb;
			sb_init_fixed(&sb, buf, DF_STRING_MAX);
			put_value_text(&sb, &x->vals[i]);
			struct dval v = { .cls = DC_STRING, .p = (const uint8_t *)buf, .n = (uint32_t)sb.len };
			w->vals[w->nvals++] = v;
		}
		break;
	default: /* binary: every pair */
		for (uint8_t i = 0; i < x->nvals; i++)
			for (uint8_t j = 0; j < y->nvals && w->nvals < DF_MAX_VALUES; j++) {
				struct dval v = x->vals[i];
				__int128 a = v.i, b = y->vals[j].i;
				switch (e->op) {
				case EX_ADD: v.i = a + b; break;
				case EX_SUB: v.i = a - b; break;
				case EX_MUL: v.i = a * b; break;
				case EX_DIV: if (!b) continue; v.i = a / b; break;
				case EX_MOD: if (!b) continue; v.i = a % b; break;
				default: continue;
				}
				w->vals[w->nvals++] = v;
			}
		break;
	}
}

/* ---- comparisons ---- */

static int cmp_bytes(const uint8_t *a, uint32_t an, const uint8_t *b, uint32_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);
	if (c) return c;
	return an < bn ? -1 : an > bn;
}

/* Equal under the shorter CIDR prefix of the two (10.1.2.3 == 10.0.0.0/8). */
static bool prefix_equal(const struct dval *a, const struct dval *b)
{
	unsigned bits = a->prefix < b->prefix ? a->prefix : b->prefix;
	const uint8_t *x = a->p ? a->p : a->addr, *y = b->p ? b->p : b->addr;
	unsigned whole = bits / 8, rest = bits % 8;
	if (memcmp(x, y, whole)) return false;
	if (!rest) return true;
	uint8_t m = (uint8_t)(0xff << (8 - rest));
	return (x[whole] & m) == (y[whole] & m);
}

static const uint8_t *bytes_of(const struct dval *v) { return v->p ? v->p : v->addr; }

/* <0, 0, >0 like memcmp; equality of addresses honours prefixes. */
static int compare(const struct dval *a, const struct dval *b, bool *prefix_eq)
{
	*prefix_eq = false;
	switch (a->cls) {
	case DC_INT: case DC_TIME: return a->i < b->i ? -1 : a->i > b->i;
	case DC_IPV4: case DC_IPV6:
		if (prefix_equal(a, b)) { *prefix_eq = true; return 0; }
		return memcmp(bytes_of(a), bytes_of(b), a->cls == DC_IPV4 ? 4 : 16);
	default: {
		uint32_t an = a->cls == DC_ETHER ? 6 : a->n, bn = b->cls == DC_ETHER ? 6 : b->n;
		return cmp_bytes(bytes_of(a), an, bytes_of(b), bn);
	}
	}
}

static bool relation(const struct test *t, const struct dval *a, const struct dval *b)
{
	switch (t->kind) {
	case TS_CONTAINS: {
		uint32_t an = a->cls == DC_ETHER ? 6 : a->n, bn = b->cls == DC_ETHER ? 6 : b->n;
		if (bn == 0) return true;
		return an >= bn && memmem(bytes_of(a), an, bytes_of(b), bn) != NULL;
	}
	case TS_CMP: {
		bool peq;
		int c = compare(a, b, &peq);
		switch (t->op) {
		case OP_EQ: return c == 0;
		case OP_NE: return c != 0;
		case OP_LT: return !peq && c < 0;
		case OP_GT: return !peq && c > 0;
		case OP_LE: return c <= 0;
		case OP_GE: return c >= 0;
		default: return false;
		}
	}
	default: return false;
	}
}

static bool in_set(const struct test *t, const struct dval *v)
{
	for (size_t i = 0; i < t->nset; i++) {
		const struct set_elem *se = &t->set[i];
		bool peq;
		int lo = compare(v, &se->lo, &peq);
		if (se->hi.cls == DC_NONE) {
			if (lo == 0) return true;
			continue;
		}
		if (lo >= 0 && compare(v, &se->hi, &peq) <= 0) return true;
	}
	return false;
}

static bool regex_match(const struct test *t, const struct dval *v)
{
	int rc = pcre2_match(t->re, bytes_of(v), v->cls == DC_ETHER ? 6 : v->n, 0, 0, t->md, t->mctx);
	return rc >= 0;
}

/* A test over one value of the left side (set, regex, existence, mask). */
static bool unary(const struct test *t, const struct dval *v)
{
	switch (t->kind) {
	case TS_EXISTS: return true;
	case TS_NONZERO: return v->i != 0;
	case TS_IN: return in_set(t, v);
	case TS_MATCHES: return regex_match(t, v);
	default: return false;
	}
}

/* Wireshark's rule for fields that occur more than once: "any" is true when some pair of
 * values satisfies the relation, "all" when every pair does and there is at least one.
 * A side with no value makes every test false. */
bool df_eval_test(const struct test *t, const struct packet *p)
{
	bool all = t->quant == Q_ALL, seen = false;
	if (t->kind == TS_EXISTS && t->a.is_field && !t->a.nranges && !t->a.fn && !t->a.expr && !t->a.ref && !t->a.layer_proto) {
		/* presence alone: a layer exists even where the run kept none of its bytes */
		for (uint16_t i = 0; i < p->nfields; i++)
			if (wanted(&t->a, p->fields[i].id)) return true;
		return false;
	}
	struct dval a, b;
	uint32_t pa = 0;
	while (next_value(&t->a, p, &pa, &a)) {
		if (t->kind != TS_CMP && t->kind != TS_CONTAINS) {
			bool r = unary(t, &a);
			seen = true;
			if (r != all) return r;
			continue;
		}
		uint32_t pb = 0;
		while (next_value(&t->b, p, &pb, &b)) {
			bool r = relation(t, &a, &b);
			seen = true;
			if (r != all) return r;
		}
	}
	return all && seen;
}

/* ---- references ---- */

static void set_ref(struct operand *o, const struct packet *p)
{
	if (o->expr) {
		for (uint8_t i = 0; i < o->expr->nargs; i++) set_ref(o->expr->args[i], p);
		return;
	}
	if (!o->ref) return;
	free(o->refbuf);
	o->refbuf = NULL;
	o->nvals = 0;
	if (!p) return;
	struct operand plain = *o;
	plain.ref = false;
	uint32_t pos = 0;
	struct dval v;
	size_t need = 0;
	while (o->nvals < DF_MAX_VALUES && next_value(&plain, p, &pos, &v)) {
		o->vals[o->nvals++] = v;
		if (v.p) need += v.n;
	}
	/* the values' bytes belong to p: copy them */
	o->refbuf = xmalloc(need ? need : 1);
	size_t at = 0;
	for (uint8_t i = 0; i < o->nvals; i++) {
		struct dval *d = &o->vals[i];
		if (!d->p) continue;
		if (d->n) memcpy(o->refbuf + at, d->p, d->n);
		d->p = o->refbuf + at;
		at += d->n;
	}
}

void df_set_reference(struct df_filter *f, const struct packet *p)
{
	for (size_t i = 0; i < f->ntests; i++) {
		set_ref(&f->tests[i].a, p);
		set_ref(&f->tests[i].b, p);
	}
}

bool df_has_references(const struct df_filter *f)
{
	for (size_t i = 0; i < sizeof f->ref_needs.bits; i++)
		if (f->ref_needs.bits[i]) return true;
	return false;
}

void df_reference_mask_add(const struct df_filter *f, struct field_mask *m)
{
	for (size_t i = 0; i < sizeof m->bits; i++) m->bits[i] |= f->ref_needs.bits[i];
}

bool df_match(const struct df_filter *f, const struct packet *p)
{
	bool acc = false;
	bool stack[DF_MAX_DEPTH + 1];
	uint32_t sp = 0;
	for (size_t pc = 0; pc < f->ncode;) {
		const struct insn *in = &f->code[pc++];
		switch (in->op) {
		case I_TEST: acc = df_eval_test(&f->tests[in->arg], p); break;
		case I_JUMP_FALSE: if (!acc) pc = in->arg; break;
		case I_JUMP_TRUE: if (acc) pc = in->arg; break;
		case I_NOT: acc = !acc; break;
		case I_PUSH: stack[sp++] = acc; break;
		case I_XOR: acc = stack[--sp] != acc; break;
		}
	}
	return acc;
}
