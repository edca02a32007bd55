/* flow/reassembly.c — per-direction TCP stream reassembly; the policy and caps are in
 * flow.h. Sequence numbers compare modulo 2^32, so a stream may wrap. */
#include "flow/flow.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>


struct held {
	struct held *next; /* sorted by seq */
	uint32_t seq, len;
	uint32_t uncaptured; /* bytes after len the snapshot length cut: a gap on delivery */
	uint64_t frame;
	uint8_t data[];
};

struct reasm_dir {
	bool started;
	uint32_t next;   /* next sequence number to deliver */
	struct held *held;
	size_t held_bytes;
	uint32_t nheld;
	bool fin;
};

struct reasm {
	const struct stream_consumer *c;
	void *cctx;
	struct reasm_dir d[2];
};


static bool lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }

struct reasm *reasm_new(const struct stream_consumer *c, void *cctx)
{
	struct reasm *r = xcalloc(1, sizeof *r);
	r->c = c;
	r->cctx = cctx;
	return r;
}

/* Delivers [seq, seq+len) of which the part before d->next was delivered already. */
static void deliver(struct reasm *r, const struct flow *f, int dir, uint32_t seq, const uint8_t *p, uint32_t len,
		    uint64_t frame, struct reasm_stats *st)
{
	struct reasm_dir *d = &r->d[dir];
	if (lt(seq, d->next)) {
		uint32_t skip = d->next - seq;
		if (skip >= len) {
			st->overlap_bytes += len;
			return;
		}
		st->overlap_bytes += skip;
		p += skip;
		len -= skip;
		seq = d->next;
	}
	if (len) {
		r->c->data(r->cctx, f, dir, p, len, frame);
		st->bytes_delivered += len;
	}
	d->next = seq + len;
}

static void gap(struct reasm *r, const struct flow *f, int dir, uint32_t upto, uint64_t frame, struct reasm_stats *st)
{
	struct reasm_dir *d = &r->d[dir];
	uint32_t len = upto - d->next;
	if (!len) return;
	r->c->gap(r->cctx, f, dir, len, frame);
	st->gaps++;
	st->gap_bytes += len;
	d->next = upto;
}

static void drain(struct reasm *r, const struct flow *f, int dir, struct reasm_stats *st)
{
	struct reasm_dir *d = &r->d[dir];
	/* Deliver held segments while the first one starts at or before the next byte. */
	while (d->held && !lt(d->next, d->held->seq)) {
		struct held *h = d->held;
		d->held = h->next;
		deliver(r, f, dir, h->seq, h->data, h->len, h->frame, st);
		if (h->uncaptured) gap(r, f, dir, h->seq + h->len + h->uncaptured, h->frame, st);
		d->held_bytes -= h->len;
		st->held_now -= h->len;
		d->nheld--;
		free(h);
	}
}

/* Skips the hole before the first held segment: reported as a gap, then drained. */
static void skip_hole(struct reasm *r, const struct flow *f, int dir, struct reasm_stats *st)
{
	struct reasm_dir *d = &r->d[dir];
	if (!d->held) return;
	gap(r, f, dir, d->held->seq, d->held->frame, st);
	drain(r, f, dir, st);
}

static void hold(struct reasm *r, const struct flow *f, int dir, uint32_t seq, const uint8_t *p, uint32_t len,
		 uint32_t uncaptured, uint64_t frame, struct reasm_stats *st)
{
	struct reasm_dir *d = &r->d[dir];
	/* At a cap, the oldest hole gives way first; if that is not enough, drop this one. */
	while (d->held && (d->held_bytes + len > REASM_MAX_HELD_PER_DIR || d->nheld >= REASM_MAX_SEGS_PER_DIR ||
			   st->held_now + len > REASM_MAX_HELD_TOTAL))
		skip_hole(r, f, dir, st);
	if (!lt(d->next, seq)) { /* skipping the hole made this one in order */
		deliver(r, f, dir, seq, p, len, frame, st);
		if (uncaptured) gap(r, f, dir, seq + len + uncaptured, frame, st);
		drain(r, f, dir, st);
		return;
	}
	if (st->held_now + len > REASM_MAX_HELD_TOTAL || len > REASM_MAX_HELD_PER_DIR) {
		st->dropped_cap_bytes += len;
		return;
	}
	struct held *h = xmalloc(sizeof *h + len);
	h->seq = seq;
	h->len = len;
	h->uncaptured = uncaptured;
	h->frame = frame;
	memcpy(h->data, p, len);
	struct held **pp = &d->held;
	while (*pp && !lt(seq, (*pp)->seq)) pp = &(*pp)->next;
	h->next = *pp;
	*pp = h;
	d->held_bytes += len;
	d->nheld++;
	st->held_now += len;
}

void reasm_tcp(struct reasm *r, const struct flow *f, int dir, uint32_t seq, uint16_t flags,
	       const uint8_t *payload, uint32_t len, uint32_t captured, uint64_t frame, struct reasm_stats *st)
{
	struct reasm_dir *d = &r->d[dir];
	if (!d->started) {
		d->started = true;
		d->next = (flags & TCP_SYN) ? seq + 1 : seq;
	}
	if (flags & TCP_SYN) seq += 1; /* the SYN occupies one sequence number, no data byte */
	if (captured > len) captured = len;
	if (len) {
		if (seq == d->next) {
			deliver(r, f, dir, seq, payload, captured, frame, st);
			if (captured < len) gap(r, f, dir, seq + len, frame, st);
			drain(r, f, dir, st);
		} else if (lt(seq, d->next)) {
			deliver(r, f, dir, seq, payload, captured, frame, st);
			drain(r, f, dir, st);
		} else if (captured) {
			hold(r, f, dir, seq, payload, captured, len - captured, frame, st);
		}
	}
	if (flags & (TCP_FIN | TCP_RST)) d->fin = true;
}

void reasm_finish(struct reasm *r, const struct flow *f, struct reasm_stats *st)
{
	for (int dir = 0; dir < 2; dir++) {
		while (r->d[dir].held) skip_hole(r, f, dir, st);
	}
	if (r->c->close) r->c->close(r->cctx, f);
	free(r);
}
