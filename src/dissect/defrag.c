/* dissect/defrag.c — IPv4 and IPv6 fragment reassembly (RFC 791 §3.2, RFC 8200 §4.5),
 * with Wireshark's rules for what a datagram is made of, so the frame that completes it
 * and the bytes it holds agree with tshark's:
 *  - a datagram is complete when a piece without more-fragments has given its length and
 *    pieces cover every byte from 0 to it; a later piece of the same key starts a new one;
 *  - the pieces are put together in offset order, at equal offsets in arrival order, and
 *    a byte already placed is kept: the earlier piece wins an overlap, and the later one
 *    is marked (overlap, and conflict when the bytes differ);
 *  - a piece past the length is marked too long; a second last piece that ends elsewhere
 *    is marked as a multiple tail (the first one's length stands).
 */
#include "dissect/defrag.h"
#include "util/hash.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

#define BUCKETS 4096u /* chains average at most 4 with DEFRAG_MAX_HELD datagrams */

struct held_piece {
	uint64_t frame;
	uint32_t off, len;
	uint8_t *data;
};

struct dgram {
	struct defrag_key key;
	struct dgram *next_in_bucket;
	struct dgram *older, *newer; /* by creation, for expiry and eviction */
	int64_t first_ns;
	struct held_piece *pieces;   /* sorted by offset, stable */
	uint32_t npieces, cap;
	uint32_t datalen;            /* valid when has_tail */
	bool has_tail;
	uint64_t multitail_frames[4]; /* second tails seen (marked when put together) */
	uint8_t nmultitail;
	size_t bytes;
};

struct done_rec {
	uint8_t *data;
	struct defrag_piece *pieces;
	uint32_t npieces;
};

struct defrag {
	struct hash_seed seed;
	struct dgram **buckets;      /* allocated with the first fragment */
	struct dgram *oldest, *newest;
	struct defrag_stats st;
	/* datagrams completed in the frame being decoded: kept until a later frame's piece */
	uint64_t done_frame;
	struct done_rec *done;
	uint32_t ndone, done_cap;
};

struct defrag *defrag_new(void)
{
	struct defrag *d = xcalloc(1, sizeof *d);
	d->seed = hash_seed_random();
	return d;
}

static void release_done(struct defrag *d)
{
	for (uint32_t i = 0; i < d->ndone; i++) {
		free(d->done[i].data);
		free(d->done[i].pieces);
	}
	d->ndone = 0;
}

static struct dgram **bucket_of(struct defrag *d, const struct defrag_key *k)
{
	return &d->buckets[siphash13(&d->seed, k, sizeof *k) & (BUCKETS - 1)];
}

static void dgram_remove(struct defrag *d, struct dgram *g)
{
	struct dgram **pp = bucket_of(d, &g->key);
	while (*pp != g) pp = &(*pp)->next_in_bucket;
	*pp = g->next_in_bucket;
	if (g->older) g->older->newer = g->newer;
	else d->oldest = g->newer;
	if (g->newer) g->newer->older = g->older;
	else d->newest = g->older;
	for (uint32_t i = 0; i < g->npieces; i++) free(g->pieces[i].data);
	free(g->pieces);
	d->st.held--;
	d->st.held_bytes -= g->bytes;
	free(g);
}

void defrag_free(struct defrag *d)
{
	if (!d) return;
	while (d->oldest) dgram_remove(d, d->oldest);
	release_done(d);
	free(d->done);
	free(d->buckets);
	free(d);
}

struct defrag_stats defrag_stats(const struct defrag *d) { return d->st; }

void defrag_completed_in(const struct defrag *d, uint64_t frame, void (*fn)(void *ctx, uint64_t piece_frame),
			 void *ctx)
{
	if (!d || frame != d->done_frame) return;
	for (uint32_t i = 0; i < d->ndone; i++)
		for (uint32_t j = 0; j < d->done[i].npieces; j++) fn(ctx, d->done[i].pieces[j].frame);
}

static struct dgram *lookup_or_insert(struct defrag *d, const struct defrag_key *k, int64_t now_ns)
{
	if (!d->buckets) d->buckets = xcalloc(BUCKETS, sizeof *d->buckets);
	struct dgram **b = bucket_of(d, k);
	for (struct dgram *g = *b; g; g = g->next_in_bucket)
		if (!memcmp(&g->key, k, sizeof *k)) return g;
	if (d->st.held >= DEFRAG_MAX_HELD) {
		dgram_remove(d, d->oldest);
		d->st.evicted++;
	}
	struct dgram *g = xcalloc(1, sizeof *g);
	g->key = *k;
	g->first_ns = now_ns;
	g->next_in_bucket = *b;
	*b = g;
	g->older = d->newest;
	if (d->newest) d->newest->newer = g;
	else d->oldest = g;
	d->newest = g;
	d->st.held++;
	return g;
}

/* Covered from 0 to the length without a gap: the datagram is complete. */
static bool complete(const struct dgram *g)
{
	if (!g->has_tail) return false;
	uint64_t pos = 0;
	for (uint32_t i = 0; i < g->npieces && pos < g->datalen; i++) {
		if (g->pieces[i].off > pos) return false;
		uint64_t end = (uint64_t)g->pieces[i].off + g->pieces[i].len;
		if (end > pos) pos = end;
	}
	return pos >= g->datalen;
}

/* Puts the pieces together (see the file comment) into a done record. */
static void assemble(struct defrag *d, struct dgram *g, struct defrag_done *out)
{
	if (d->ndone == d->done_cap) {
		d->done_cap = d->done_cap ? d->done_cap * 2 : 4;
		d->done = xrealloc(d->done, d->done_cap * sizeof *d->done);
	}
	struct done_rec *r = &d->done[d->ndone++];
	r->data = xmalloc(g->datalen ? g->datalen : 1);
	r->pieces = xmalloc(g->npieces * sizeof *r->pieces);
	r->npieces = g->npieces;
	bool errors = false;
	uint32_t pos = 0; /* bytes placed so far, from 0 */
	for (uint32_t i = 0; i < g->npieces; i++) {
		const struct held_piece *h = &g->pieces[i];
		struct defrag_piece *o = &r->pieces[i];
		*o = (struct defrag_piece){ h->frame, h->off, h->len, 0 };
		uint64_t end = (uint64_t)h->off + h->len;
		if (h->off < pos && h->len) {
			o->flags |= DEFRAG_OVERLAP;
			uint32_t n = (uint32_t)((end < pos ? end : pos) - h->off);
			if (memcmp(r->data + h->off, h->data, n)) o->flags |= DEFRAG_CONFLICT;
		}
		if (end > g->datalen) o->flags |= DEFRAG_TOOLONG;
		uint32_t stop = end < g->datalen ? (uint32_t)end : g->datalen;
		if (stop > pos) { /* complete() saw no gap: h->off <= pos */
			memcpy(r->data + pos, h->data + (pos - h->off), stop - pos);
			pos = stop;
		}
		for (uint8_t t = 0; t < g->nmultitail; t++)
			if (g->multitail_frames[t] == h->frame && end != g->datalen) o->flags |= DEFRAG_MULTITAIL;
		errors |= (o->flags & (DEFRAG_CONFLICT | DEFRAG_TOOLONG | DEFRAG_MULTITAIL)) != 0;
	}
	*out = (struct defrag_done){ r->data, g->datalen, r->pieces, g->npieces, errors };
}

static void expire(struct defrag *d, int64_t now_ns)
{
	while (d->oldest && now_ns - d->oldest->first_ns > DEFRAG_TIMEOUT_NS) {
		dgram_remove(d, d->oldest);
		d->st.expired++;
	}
}

enum defrag_status defrag_add(struct defrag *d, const struct defrag_key *k, int64_t now_ns, uint64_t frame,
			      uint32_t off, bool more, const uint8_t *data, uint32_t len, struct defrag_done *out)
{
	/* A frame completes at most one datagram per IP layer it nests (PKT_MAX_DEPTH): more
	 * records under one number are from a caller that numbers every packet alike. */
	if (frame != d->done_frame || d->ndone >= 32) {
		release_done(d);
		d->done_frame = frame;
	}
	expire(d, now_ns);
	if (off > DEFRAG_MAX_DATAGRAM || len > DEFRAG_MAX_DATAGRAM - off) {
		d->st.refused++;
		return DEFRAG_REFUSED;
	}
	size_t cost = (size_t)len + sizeof(struct held_piece);
	while (d->oldest && d->st.held_bytes + cost > DEFRAG_MAX_BYTES) {
		dgram_remove(d, d->oldest);
		d->st.evicted++;
	}
	struct dgram *g = lookup_or_insert(d, k, now_ns);
	if (g->npieces >= DEFRAG_MAX_PIECES) {
		d->st.refused++;
		return DEFRAG_REFUSED;
	}
	if (!more) {
		if (!g->has_tail) {
			g->has_tail = true;
			g->datalen = off + len;
		} else if (off + len != g->datalen && g->nmultitail < sizeof g->multitail_frames / sizeof g->multitail_frames[0]) {
			g->multitail_frames[g->nmultitail++] = frame;
		}
	}
	if (g->npieces == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 4;
		g->pieces = xrealloc(g->pieces, g->cap * sizeof *g->pieces);
	}
	uint32_t at = g->npieces; /* after every piece at an offset <= off: stable */
	while (at > 0 && g->pieces[at - 1].off > off) at--;
	memmove(&g->pieces[at + 1], &g->pieces[at], (g->npieces - at) * sizeof *g->pieces);
	uint8_t *copy = xmalloc(len ? len : 1);
	if (len) memcpy(copy, data, len);
	g->pieces[at] = (struct held_piece){ frame, off, len, copy };
	g->npieces++;
	g->bytes += cost;
	d->st.held_bytes += cost;
	if (!complete(g)) return DEFRAG_HELD;
	assemble(d, g, out);
	dgram_remove(d, g);
	d->st.completed++;
	return DEFRAG_DONE;
}
