/* pipeline/index.c — the packet index and on-demand decoding of one packet.
 *
 * A large file is shown by reading a packet's bytes again, never by keeping decoded trees.
 * Most of what a packet shows comes from its own bytes; the rest — tcp.stream, relative
 * sequence numbers, tcp.analysis.*, the application fields of a message reassembled from
 * earlier segments, DNS and ICMP pairing — comes from the packets of its conversations
 * before it. So the index keeps, per packet, where its record is and which flows it
 * belongs to, and per flow its key, the packet that created it, its stream number and
 * the packets it holds; and, per frame that completed an IP datagram, its fragments'
 * frames (a fragment has no ports, so it is in no flow). Decoding packet N again replays, in a fresh pipeline, the packets
 * of N's flows up to N (in file order, reading each record again) and gives N's record:
 * the fields the streaming pass gave, field for field, with the streaming pass's stream
 * numbers (a flow created again is told the number it had).
 *
 * What a replay cannot see: the caps that count across all flows (262,144 flows in the
 * table, REASM_MAX_HELD_TOTAL, FLOW_MAX_UNACKED_TOTAL) hold with fewer flows in a replay,
 * so a streaming pass that hit one of them may differ on the packets it touched. Memory
 * is about 28 bytes per packet (16 for its record and offset, 12 for the flow it is in)
 * and 96 per flow; a replay costs the length of N's
 * conversations up to N (a long tunnel whose outer flow carries everything replays the
 * file up to N).
 */
#include "pipeline/pipeline.h"
#include "capture/capture.h"
#include "dissect/defrag.h"
#include "util/hash.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NO_FLOW UINT32_MAX

struct ix_flow {
	struct flow_key key;
	uint64_t first_frame;
	int64_t stream;
	uint32_t same_key;     /* the flow created before it with the same key, or NO_FLOW */
	uint64_t *frames;      /* the packets of this flow, in order (owned) */
	uint32_t nframes, cap;
};

struct ix_packet {
	uint64_t offset;       /* of its record */
	uint32_t touches;      /* start of its flows in ix->touch */
};

struct packet_index {
	struct ix_packet *pkts; /* [n - 1] for packet n */
	uint64_t npkts, cap_pkts;
	uint32_t *touch;        /* flow ids, packet after packet */
	uint64_t ntouch, cap_touch;
	struct ix_flow *flows;
	uint32_t nflows, cap_flows;
	uint32_t *by_key;       /* open addressing: latest flow id per key, NO_FLOW when empty */
	uint32_t key_buckets;   /* power of two */
	struct hash_seed seed;
	struct flow_observer obs;
	uint64_t pending;       /* the packet flow_packet calls are about (before pindex_note) */
	bool have_first;
	int64_t first_sec;
	uint32_t first_nsec;
	const struct frame_links *links;
	/* IP datagrams: the frames of the pieces of each datagram a frame completed, as
	 * (completing frame, piece frame) pairs in file order. A fragment belongs to no flow,
	 * so a frame that completes a datagram replays these besides its flows' packets. */
	struct ix_piece { uint64_t done_in, piece; } *pieces;
	uint64_t npieces, cap_pieces;
	uint64_t noting;        /* the frame whose pieces are being added */
	/* the last on-demand decode: its pipeline owns the record returned */
	struct pipeline *replay;
};

static uint64_t key_hash(const struct packet_index *ix, const struct flow_key *k)
{
	return siphash13(&ix->seed, k, sizeof *k);
}

static void key_table_grow(struct packet_index *ix)
{
	uint32_t n = ix->key_buckets ? ix->key_buckets * 2 : 1024;
	uint32_t *t = xmalloc((size_t)n * sizeof *t);
	for (uint32_t i = 0; i < n; i++) t[i] = NO_FLOW;
	/* every key's latest flow, by creation order: the later one of a key wins its slot */
	for (uint32_t id = 0; id < ix->nflows; id++) {
		uint64_t h = key_hash(ix, &ix->flows[id].key);
		for (uint32_t i = (uint32_t)h & (n - 1);; i = (i + 1) & (n - 1)) {
			uint32_t o = t[i];
			if (o == NO_FLOW || !memcmp(&ix->flows[o].key, &ix->flows[id].key, sizeof(struct flow_key))) {
				t[i] = id;
				break;
			}
		}
	}
	free(ix->by_key);
	ix->by_key = t;
	ix->key_buckets = n;
}

/* The slot of key k: its latest flow, or an empty slot. */
static uint32_t *key_slot(const struct packet_index *ix, const struct flow_key *k)
{
	uint32_t mask = ix->key_buckets - 1;
	for (uint32_t i = (uint32_t)key_hash(ix, k) & mask;; i = (i + 1) & mask) {
		uint32_t id = ix->by_key[i];
		if (id == NO_FLOW || !memcmp(&ix->flows[id].key, k, sizeof *k)) return &ix->by_key[i];
	}
}

static void on_flow_new(void *ctx, const struct flow *f, const struct packet *p)
{
	struct packet_index *ix = ctx;
	if (ix->nflows == NO_FLOW - 1 || f->serial != ix->nflows) return; /* attached late, or 4 billion flows */
	if ((uint64_t)(ix->nflows + 1) * 2 > ix->key_buckets) key_table_grow(ix);
	if (ix->nflows == ix->cap_flows) {
		ix->cap_flows = ix->cap_flows ? ix->cap_flows * 2 : 256;
		ix->flows = xrealloc(ix->flows, ix->cap_flows * sizeof *ix->flows);
	}
	uint32_t id = ix->nflows++;
	uint32_t *slot = key_slot(ix, &f->key);
	ix->flows[id] = (struct ix_flow){ .key = f->key, .first_frame = p->meta.number, .stream = f->stream,
					  .same_key = *slot };
	*slot = id;
}

/* The index saw every flow the table made, in order: a flow's id is its serial. */
static void on_flow_packet(void *ctx, const struct flow *f, const struct packet *p)
{
	struct packet_index *ix = ctx;
	if (f->serial >= ix->nflows) return;
	uint32_t id = (uint32_t)f->serial;
	struct ix_flow *fl = &ix->flows[id];
	if (fl->nframes && fl->frames[fl->nframes - 1] == p->meta.number) return; /* counted once */
	if (fl->nframes == fl->cap) {
		fl->cap = fl->cap ? fl->cap * 2 : 4;
		fl->frames = xrealloc(fl->frames, fl->cap * sizeof *fl->frames);
	}
	fl->frames[fl->nframes++] = p->meta.number;
	if (ix->ntouch == ix->cap_touch) {
		ix->cap_touch = ix->cap_touch ? ix->cap_touch * 2 : 1024;
		ix->touch = xrealloc(ix->touch, ix->cap_touch * sizeof *ix->touch);
	}
	ix->touch[ix->ntouch++] = id;
}

struct packet_index *pindex_new(const struct frame_links *links)
{
	struct packet_index *ix = xcalloc(1, sizeof *ix);
	ix->seed = hash_seed_random();
	ix->links = links;
	ix->obs = (struct flow_observer){ on_flow_new, on_flow_packet, NULL, ix };
	key_table_grow(ix);
	return ix;
}

void pindex_free(struct packet_index *ix)
{
	if (!ix) return;
	pipeline_free(ix->replay);
	for (uint32_t i = 0; i < ix->nflows; i++) free(ix->flows[i].frames);
	free(ix->flows);
	free(ix->by_key);
	free(ix->touch);
	free(ix->pkts);
	free(ix->pieces);
	free(ix);
}

const struct flow_observer *pindex_observer(struct packet_index *ix) { return &ix->obs; }

static void add_piece(void *ctx, uint64_t piece)
{
	struct packet_index *ix = ctx;
	if (piece == ix->noting) return;
	if (ix->npieces == ix->cap_pieces) {
		ix->cap_pieces = ix->cap_pieces ? ix->cap_pieces * 2 : 64;
		ix->pieces = xrealloc(ix->pieces, ix->cap_pieces * sizeof *ix->pieces);
	}
	ix->pieces[ix->npieces++] = (struct ix_piece){ ix->noting, piece };
}

void pindex_note(struct packet_index *ix, const struct packet *p)
{
	if (p->meta.number != ix->npkts + 1) return; /* numbered in order from 1, each once */
	if (p->ip_fragment) {
		ix->noting = p->meta.number;
		defrag_completed_in(p->defrag, p->meta.number, add_piece, ix);
	}
	if (ix->npkts == ix->cap_pkts) {
		ix->cap_pkts = ix->cap_pkts ? ix->cap_pkts * 2 : 4096;
		ix->pkts = xrealloc(ix->pkts, ix->cap_pkts * sizeof *ix->pkts);
	}
	ix->pkts[ix->npkts++] = (struct ix_packet){ p->meta.offset, (uint32_t)ix->ntouch };
	if (!ix->have_first) {
		ix->have_first = true;
		ix->first_sec = p->meta.ts_sec;
		ix->first_nsec = p->meta.ts_nsec;
	}
}

uint64_t pindex_count(const struct packet_index *ix) { return ix->npkts; }

uint64_t pindex_frame_from(const struct packet_index *ix, uint64_t offset)
{
	uint64_t lo = 0, hi = ix->npkts;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (ix->pkts[mid].offset < offset) lo = mid + 1;
		else hi = mid;
	}
	return lo + 1;
}

uint64_t pindex_frame_at(const struct packet_index *ix, uint64_t offset)
{
	uint64_t n = pindex_frame_from(ix, offset);
	return n <= ix->npkts && ix->pkts[n - 1].offset == offset ? n : 0;
}

/* The flows packet n (from 1) belongs to: touch[*from .. *to). */
static void touches_of(const struct packet_index *ix, uint64_t n, uint64_t *from, uint64_t *to)
{
	*to = ix->pkts[n - 1].touches;
	*from = n > 1 ? ix->pkts[n - 2].touches : 0;
}

/* The stream number the flow keyed k that packet `frame` created had: the latest flow of
 * that key created at or before the frame. */
static int64_t given_stream(void *ctx, const struct flow_key *k, uint64_t frame)
{
	const struct packet_index *ix = ctx;
	uint32_t id = *key_slot(ix, k);
	while (id != NO_FLOW && ix->flows[id].first_frame > frame) id = ix->flows[id].same_key;
	return id == NO_FLOW ? -1 : ix->flows[id].stream;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The pieces of the datagrams frame `done_in` completed: pieces[*from .. *to). */
static void pieces_of(const struct packet_index *ix, uint64_t done_in, uint64_t *from, uint64_t *to)
{
	uint64_t lo = 0, hi = ix->npieces;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (ix->pieces[mid].done_in < done_in) lo = mid + 1;
		else hi = mid;
	}
	*from = lo;
	while (lo < ix->npieces && ix->pieces[lo].done_in == done_in) lo++;
	*to = lo;
}

/* The packets to replay for n: every packet of n's flows up to n, n included, and the
 * pieces of every datagram one of them completed; sorted and without repeats. Returns
 * their number; *out is owned by the caller. */
static size_t replay_set(const struct packet_index *ix, uint64_t n, uint64_t **out)
{
	uint64_t from, to;
	touches_of(ix, n, &from, &to);
	size_t total = 1;
	for (uint64_t t = from; t < to; t++) total += ix->flows[ix->touch[t]].nframes;
	uint64_t *v = xmalloc(total * sizeof *v);
	size_t k = 0;
	v[k++] = n;
	for (uint64_t t = from; t < to; t++) {
		const struct ix_flow *fl = &ix->flows[ix->touch[t]];
		for (uint32_t i = 0; i < fl->nframes && fl->frames[i] < n; i++) v[k++] = fl->frames[i];
	}
	if (ix->npieces) {
		size_t base = k;
		for (size_t i = 0; i < base; i++) {
			uint64_t pf, pt;
			pieces_of(ix, v[i], &pf, &pt);
			if (pf == pt) continue;
			total += pt - pf;
			v = xrealloc(v, total * sizeof *v);
			for (uint64_t j = pf; j < pt; j++) v[k++] = ix->pieces[j].piece;
		}
	}
	qsort(v, k, sizeof *v, cmp_u64);
	size_t u = 0;
	for (size_t i = 0; i < k; i++)
		if (!u || v[u - 1] != v[i]) v[u++] = v[i];
	*out = v;
	return u;
}

const struct packet *pindex_decode(struct packet_index *ix, struct pkt_source *src, uint64_t n,
				   const struct pipeline_needs *needs, char *err, size_t errlen)
{
	if (n == 0 || n > ix->npkts) {
		snprintf(err, errlen, "there is no packet %llu (the index has %llu)", (unsigned long long)n,
			 (unsigned long long)ix->npkts);
		return NULL;
	}
	pipeline_free(ix->replay);
	struct pipeline_needs rn = *needs;
	rn.links = ix->links;
	rn.index = NULL;
	rn.filter = NULL;
	ix->replay = pipeline_new(&rn);
	flow_tracker_set_streams(pipeline_tracker(ix->replay), given_stream, ix);
	struct pkt_meta first = { .ts_sec = ix->first_sec, .ts_nsec = ix->first_nsec };
	pipeline_skip(ix->replay, &first);
	uint64_t *frames;
	size_t count = replay_set(ix, n, &frames);
	const struct packet *p = NULL;
	for (size_t i = 0; i < count; i++) {
		struct pkt_meta m;
		const uint8_t *data;
		enum src_status st = src_read_at(src, ix->pkts[frames[i] - 1].offset, &m, &data);
		if (st != SRC_OK && frames[i] != n) continue; /* gone (a ring file removed): n without it */
		if (st != SRC_OK) {
			const char *why = st == SRC_EOF || !*src_error(src) ? "the file ends before it (cut short since it was read?)"
									     : src_error(src);
			snprintf(err, errlen, "packet %llu: %s", (unsigned long long)frames[i], why);
			p = NULL;
			break;
		}
		m.number = frames[i];
		p = frames[i] == n ? pipeline_decode(ix->replay, &m, data) : pipeline_decode_quiet(ix->replay, &m, data);
	}
	free(frames);
	return p;
}
