/* output/json.c — NDJSON, one object per packet; the shape is documented in output.h.
 *
 * The recorded fields are stably sorted by registry id (the registry is in tree order, so
 * every subtree becomes contiguous) and then walked with a stack of open objects: close
 * what the next field's path does not share, open what it adds, write its key. Runs of the
 * same field become arrays, so no key is ever written twice in one object.
 */
#include "output/output.h"

#include <pthread.h>
#include <string.h>

#define JSON_MAX_DEPTH 16 /* path components: field names are at most a handful deep */

struct entry {
	uint32_t key;   /* sort key: tree position, quoted packets inside their ICMP message */
	uint16_t idx;   /* into p->fields */
	uint16_t quoter; /* field id of the ICMP protocol quoting it, or F__COUNT */
};

struct comp {
	const char *s;
	uint16_t n;
};

/* Each field name split at its dots, once (a packet with a TLS hello has hundreds of
 * fields to place). */
static struct comp name_comps[F__COUNT][JSON_MAX_DEPTH - 1];
static uint8_t name_ncomps[F__COUNT];

static void split_names(void)
{
	for (int id = 0; id < F__COUNT; id++) {
		const char *name = field_defs[id].name, *s = name;
		uint8_t n = 0;
		for (const char *c = name;; c++) {
			if (*c == '.' || *c == '\0') {
				if (n < JSON_MAX_DEPTH - 1) name_comps[id][n++] = (struct comp){ s, (uint16_t)(c - s) };
				if (!*c) break;
				s = c + 1;
			}
		}
		name_ncomps[id] = n;
	}
}

/* The entry's path as components (*path; a quoted field's is built in buf, prefixed by
 * its quoter); returns their number. */
static size_t path_of(const struct entry *e, const struct packet *p, struct comp *buf, const struct comp **path)
{
	uint16_t id = p->fields[e->idx].id;
	if (e->quoter == F__COUNT) {
		*path = name_comps[id];
		return name_ncomps[id];
	}
	const struct field_def *q = &field_defs[e->quoter];
	buf[0] = (struct comp){ q->name, q->name_len };
	for (uint8_t i = 0; i < name_ncomps[id]; i++) buf[1 + i] = name_comps[id][i];
	*path = buf;
	return 1u + name_ncomps[id];
}

static void put_value(struct sbuf *sb, const struct packet *p, const struct fval *f)
{
	const struct field_def *d = &field_defs[f->id];
	switch (d->type) {
	case FT_PROTO: sb_puts(sb, "{}"); break;
	case FT_NONE: sb_puts(sb, "true"); break;
	case FT_BOOL: sb_puts(sb, f->v.u ? "true" : "false"); break;
	case FT_UINT: sb_u64(sb, f->v.u); break;
	case FT_INT: sb_i64(sb, f->v.i); break;
	case FT_FLOAT: out_field_text(sb, p, f); break; /* a JSON number as it is printed */
	case FT_STRING: sb_json_str(sb, f->v.b.p, f->v.b.n); break;
	case FT_IPV4: case FT_IPV6: case FT_ETHER: case FT_BYTES: case FT_ABSTIME:
		sb_putc(sb, '"');
		out_field_text(sb, p, f);
		sb_putc(sb, '"');
		break;
	case FT_EPOCH: case FT_RELTIME: {
		int digits = p->meta.ts_digits == 9 ? 9 : 6;
		uint64_t div = digits == 9 ? 1000000000ull : 1000000ull;
		uint64_t frac = digits == 9 ? f->v.t.nsec : f->v.t.nsec / 1000;
		int64_t sec = f->v.t.sec;
		if (sec < 0 || f->neg) {
			sb_putc(sb, '-');
			if (sec < 0) sec = -sec;
		}
		sb_fixed(sb, (uint64_t)sec * div + frac, digits);
		break;
	}
	}
}

/* Stable sort of entries by key. Lower layers record fields almost in tree order, where an
 * insertion sort is linear; a TLS hello interleaves its extensions' fields, so past 48
 * entries a merge sort bounds the work. */
static void sort_entries(struct entry *e, struct entry *tmp, size_t n)
{
	if (n <= 48) {
		for (size_t i = 1; i < n; i++) {
			struct entry x = e[i];
			size_t j = i;
			while (j > 0 && e[j - 1].key > x.key) {
				e[j] = e[j - 1];
				j--;
			}
			e[j] = x;
		}
		return;
	}
	for (size_t width = 1; width < n; width *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * width) {
			size_t mid = lo + width < n ? lo + width : n;
			size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
			size_t i = lo, j = mid, k = lo;
			while (i < mid && j < hi) tmp[k++] = e[j].key < e[i].key ? e[j++] : e[i++];
			while (i < mid) tmp[k++] = e[i++];
			while (j < hi) tmp[k++] = e[j++];
		}
		memcpy(e, tmp, n * sizeof *e);
	}
}

struct walker {
	struct sbuf *sb;
	struct comp open[JSON_MAX_DEPTH];
	size_t depth;
	bool need_comma; /* inside the innermost open object */
};

/* Keys are pieces of registry names ([a-z0-9_] only), so they need no escaping. */
static void put_key(struct walker *w, const struct comp *c)
{
	if (sb_room(w->sb, (size_t)c->n + 4) < (size_t)c->n + 4) return;
	char *o = w->sb->buf + w->sb->len;
	if (w->need_comma) *o++ = ',';
	*o++ = '"';
	memcpy(o, c->s, c->n);
	o += c->n;
	*o++ = '"';
	*o++ = ':';
	w->sb->len = (size_t)(o - w->sb->buf);
	w->need_comma = true;
}

/* Makes the open path equal path[0..n-1] (n <= JSON_MAX_DEPTH). */
static void move_to(struct walker *w, const struct comp *path, size_t n)
{
	if (n > JSON_MAX_DEPTH) n = JSON_MAX_DEPTH;
	size_t common = 0;
	while (common < w->depth && common < n && w->open[common].n == path[common].n &&
	       !memcmp(w->open[common].s, path[common].s, path[common].n))
		common++;
	while (w->depth > common) {
		sb_putc(w->sb, '}');
		w->depth--;
		w->need_comma = true;
	}
	while (w->depth < n) {
		put_key(w, &path[w->depth]);
		sb_putc(w->sb, '{');
		w->open[w->depth] = path[w->depth];
		w->depth++;
		w->need_comma = false;
	}
}

static void put_run(struct walker *w, const struct packet *p, const struct entry *e, size_t run)
{
	if (run > 1) sb_putc(w->sb, '[');
	for (size_t k = 0; k < run; k++) {
		if (k) sb_putc(w->sb, ',');
		put_value(w->sb, p, &p->fields[e[k].idx]);
	}
	if (run > 1) sb_putc(w->sb, ']');
}

void out_json_packet(struct sbuf *sb, const struct packet *p)
{
	struct entry ents[PKT_MAX_FIELDS], tmp[PKT_MAX_FIELDS]; /* 16 KB: per call, so writers may run side by side */
	static pthread_once_t split = PTHREAD_ONCE_INIT;
	pthread_once(&split, split_names);
	size_t n = 0;
	uint16_t quoter = F__COUNT;
	for (uint16_t i = 0; i < p->nfields; i++) {
		const struct fval *f = &p->fields[i];
		if (f->nest == 0) {
			if (f->id == F_ICMP || f->id == F_ICMPV6) quoter = f->id;
			ents[n++] = (struct entry){ (uint32_t)f->id << 16, i, F__COUNT };
		} else if (quoter != F__COUNT) {
			ents[n++] = (struct entry){ (uint32_t)quoter << 16 | (1u + f->id), i, quoter };
		}
	}
	sort_entries(ents, tmp, n);

	struct walker w = { .sb = sb };
	sb_putc(sb, '{');
	sb_puts(sb, "\"protocols\":[");
	for (uint8_t i = 1; i < p->nprotos; i++) {
		if (i > 1) sb_putc(sb, ',');
		const struct field_def *d = &field_defs[p->protos[i]];
		sb_json_str(sb, d->name, d->name_len);
	}
	sb_putc(sb, ']');
	w.need_comma = true;

	struct comp buf[JSON_MAX_DEPTH];
	const struct comp *path = buf;
	for (size_t i = 0; i < n;) {
		const struct fval *f = &p->fields[ents[i].idx];
		const struct field_def *d = &field_defs[f->id];
		size_t run = 1;
		while (i + run < n && p->fields[ents[i + run].idx].id == f->id && ents[i + run].quoter == ents[i].quoter)
			run++;
		size_t k = path_of(&ents[i], p, buf, &path);
		if (k < 1) { /* cannot happen (names are not empty), and the compiler may not know it */
			i += run;
			continue;
		}
		if (d->type == FT_PROTO || d->has_children) {
			/* An object at the field's own path; its value, if any, under "_value". */
			move_to(&w, path, k);
			if (d->type != FT_PROTO && d->type != FT_NONE) {
				static const struct comp value_key = { "_value", 6 };
				put_key(&w, &value_key);
				put_run(&w, p, &ents[i], run);
			}
		} else {
			move_to(&w, path, k - 1);
			put_key(&w, &path[k - 1]);
			put_run(&w, p, &ents[i], run);
		}
		i += run;
	}
	move_to(&w, path, 0);
	sb_puts(sb, "}\n");
}
