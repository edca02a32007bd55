/* analysis/diff.c — packet-by-packet comparison of two captures (see diff.h). */
#include "analysis/diff.h"
#include "dissect/decoders.h"
#include "util/hash.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX
#define EMPTY 0u        /* slot hash values: never a packet's (hashes are made nonzero) */
#define TOMB 1u

struct entry {
	uint64_t hash;
	struct pkt_meta meta;  /* pointers cleared: the file's buffers are gone */
	uint8_t *raw;          /* the frame as captured (owned) */
	uint8_t *norm;         /* the frame with ignored bytes zeroed (owned), or raw */
	uint32_t next;         /* the next waiting packet with this hash (arrival order), or a free-list link */
};

struct slot {
	uint64_t hash;         /* EMPTY, TOMB or a packet hash */
	uint32_t head, tail;
};

struct side {
	struct slot *slots;
	uint32_t nslots;       /* a power of two */
	uint32_t used, tombs;
	uint64_t waiting;
	uint64_t packets;
};

struct diff {
	int ignore[DIFF_MAX_IGNORE];
	int nignore;
	struct field_mask mask;
	struct packet *p;      /* decodes a packet to find the ignored fields' bytes */
	struct hash_seed seed;
	struct entry *entries;
	uint32_t nentries, cap, free_head;
	struct side side[2];
	uint64_t common, peak;
	uint8_t *scratch;      /* a normalised frame being matched */
	uint32_t scratch_cap;
};

struct diff *diff_new(const int *ignore, int nignore)
{
	struct diff *d = xcalloc(1, sizeof *d);
	d->seed = hash_seed_random();
	d->free_head = NONE;
	if (nignore > DIFF_MAX_IGNORE) nignore = DIFF_MAX_IGNORE;
	for (int i = 0; i < nignore; i++) {
		d->ignore[d->nignore++] = ignore[i];
		field_mask_add(&d->mask, ignore[i]);
	}
	if (d->nignore) {
		d->p = packet_new();
		d->p->mask = &d->mask;
		d->p->no_columns = true;
		d->p->skip_apps = true;
	}
	return d;
}

static void free_entry(struct entry *e)
{
	if (e->norm != e->raw) free(e->norm);
	free(e->raw);
	e->raw = e->norm = NULL;
}

void diff_free(struct diff *d)
{
	if (!d) return;
	for (uint32_t i = 0; i < d->nentries; i++) free_entry(&d->entries[i]);
	free(d->entries);
	free(d->side[0].slots);
	free(d->side[1].slots);
	packet_free(d->p);
	free(d->scratch);
	free(d);
}

/* The frame with the bytes of the ignored fields zeroed, in d->scratch (or the frame
 * itself when nothing is ignored). */
static const uint8_t *normalise(struct diff *d, const struct pkt_meta *m, const uint8_t *data)
{
	if (!d->nignore) return data;
	if (!d->scratch || m->caplen > d->scratch_cap) {
		d->scratch_cap = m->caplen > 64 ? m->caplen : 64;
		d->scratch = xrealloc(d->scratch, d->scratch_cap);
	}
	if (m->caplen) memcpy(d->scratch, data, m->caplen);
	struct pkt_meta mm = *m;
	packet_begin(d->p, &mm, data);
	dissect_frame(d->p);
	for (uint16_t i = 0; i < d->p->nfields; i++) {
		const struct fval *f = &d->p->fields[i];
		if (f->buf != 0 || !f->len || f->off >= m->caplen) continue; /* bytes of the frame only */
		uint32_t len = f->len < m->caplen - f->off ? f->len : m->caplen - f->off;
		memset(d->scratch + f->off, 0, len);
	}
	return d->scratch;
}

static uint64_t packet_hash(const struct diff *d, const struct pkt_meta *m, const uint8_t *norm)
{
	uint64_t h = siphash13(&d->seed, norm, m->caplen);
	h ^= (uint64_t)(uint32_t)m->linktype * 0x9e3779b97f4a7c15u ^ (uint64_t)m->wirelen << 32;
	return h > TOMB ? h : h + 2;
}

static bool same(const struct entry *e, const struct pkt_meta *m, const uint8_t *norm)
{
	return e->meta.caplen == m->caplen && e->meta.wirelen == m->wirelen && e->meta.linktype == m->linktype &&
	       (!m->caplen || !memcmp(e->norm, norm, m->caplen));
}

/* The slot of hash h in s: its own, or the empty one to take (the first tombstone met). */
static struct slot *find_slot(struct side *s, uint64_t h, bool *found)
{
	uint32_t mask = s->nslots - 1;
	struct slot *tomb = NULL;
	for (uint32_t i = (uint32_t)(h ^ h >> 32) & mask;; i = (i + 1) & mask) {
		struct slot *sl = &s->slots[i];
		if (sl->hash == h) {
			*found = true;
			return sl;
		}
		if (sl->hash == TOMB && !tomb) tomb = sl;
		if (sl->hash == EMPTY) {
			*found = false;
			return tomb ? tomb : sl;
		}
	}
}

/* Rebuilds s's table for its live slots (tombstones dropped, size to fit). */
static void resize(struct side *s, uint32_t want)
{
	uint32_t n = 64;
	while (n < want * 2) n *= 2;
	struct slot *old = s->slots;
	uint32_t oldn = s->nslots;
	s->slots = xmalloc((size_t)n * sizeof *s->slots);
	for (uint32_t i = 0; i < n; i++) s->slots[i] = (struct slot){ EMPTY, NONE, NONE };
	s->nslots = n;
	s->used = s->tombs = 0;
	for (uint32_t i = 0; i < oldn; i++) {
		if (old[i].hash <= TOMB) continue;
		bool found;
		struct slot *sl = find_slot(s, old[i].hash, &found);
		*sl = old[i];
		s->used++;
	}
	free(old);
}

static uint32_t new_entry(struct diff *d)
{
	if (d->free_head != NONE) {
		uint32_t i = d->free_head;
		d->free_head = d->entries[i].next;
		return i;
	}
	if (d->nentries == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 1024;
		d->entries = xrealloc(d->entries, (size_t)d->cap * sizeof *d->entries);
	}
	return d->nentries++;
}

/* Takes the first packet waiting on side s that equals this one; true when there was one. */
static bool take_twin(struct diff *d, struct side *s, uint64_t h, const struct pkt_meta *m, const uint8_t *norm)
{
	if (!s->slots || !s->waiting) return false;
	bool found;
	struct slot *sl = find_slot(s, h, &found);
	if (!found) return false;
	uint32_t prev = NONE;
	for (uint32_t i = sl->head; i != NONE; prev = i, i = d->entries[i].next) {
		struct entry *e = &d->entries[i];
		if (!same(e, m, norm)) continue; /* equal hashes, other bytes */
		uint32_t next = e->next;
		if (prev == NONE) sl->head = next;
		else d->entries[prev].next = next;
		if (sl->tail == i) sl->tail = prev;
		if (sl->head == NONE) {
			sl->hash = TOMB;
			s->used--;
			s->tombs++;
		}
		free_entry(e);
		e->next = d->free_head;
		d->free_head = i;
		s->waiting--;
		return true;
	}
	return false;
}

static void wait_for_twin(struct diff *d, struct side *s, uint64_t h, const struct pkt_meta *m, const uint8_t *data,
			  const uint8_t *norm)
{
	if (!s->slots || (s->used + s->tombs + 1) * 4 > s->nslots * 3) resize(s, s->used + 1);
	uint32_t i = new_entry(d);
	struct entry *e = &d->entries[i];
	e->hash = h;
	e->meta = *m;
	e->meta.ifname = NULL;
	e->meta.comment = NULL;
	e->meta.comment_len = 0;
	e->raw = xmalloc(m->caplen ? m->caplen : 1);
	if (m->caplen) memcpy(e->raw, data, m->caplen);
	if (norm != data) {
		e->norm = xmalloc(m->caplen ? m->caplen : 1);
		if (m->caplen) memcpy(e->norm, norm, m->caplen);
	} else {
		e->norm = e->raw;
	}
	e->next = NONE;
	bool found;
	struct slot *sl = find_slot(s, h, &found);
	if (!found) {
		if (sl->hash == TOMB) s->tombs--;
		*sl = (struct slot){ h, i, i };
		s->used++;
	} else {
		d->entries[sl->tail].next = i;
		sl->tail = i;
	}
	s->waiting++;
	uint64_t w = d->side[0].waiting + d->side[1].waiting;
	if (w > d->peak) d->peak = w;
}

void diff_add(struct diff *d, int side, const struct pkt_meta *m, const uint8_t *data)
{
	struct side *mine = &d->side[side], *other = &d->side[!side];
	mine->packets++;
	const uint8_t *norm = normalise(d, m, data);
	uint64_t h = packet_hash(d, m, norm);
	if (take_twin(d, other, h, m, norm)) {
		d->common++;
		return;
	}
	wait_for_twin(d, mine, h, m, data, norm);
}

int diff_next_side(const struct diff *d)
{
	/* the side whose packets wait less has fallen behind the other's */
	return d->side[0].waiting <= d->side[1].waiting ? 0 : 1;
}

struct diff_totals diff_totals(const struct diff *d)
{
	return (struct diff_totals){ { d->side[0].packets, d->side[1].packets }, d->common,
				     { d->side[0].waiting, d->side[1].waiting }, d->peak };
}

struct by_frame {
	uint64_t frame;
	uint32_t entry;
};

static int cmp_frame(const void *a, const void *b)
{
	uint64_t x = ((const struct by_frame *)a)->frame, y = ((const struct by_frame *)b)->frame;
	return x < y ? -1 : x > y;
}

void diff_extras(struct diff *d, int side, uint64_t max, diff_extra_fn fn, void *ctx)
{
	struct side *s = &d->side[side];
	if (!s->waiting) return;
	struct by_frame *idx = xmalloc((size_t)s->waiting * sizeof *idx);
	uint64_t n = 0;
	for (uint32_t i = 0; i < s->nslots; i++) {
		if (s->slots[i].hash <= TOMB) continue;
		for (uint32_t e = s->slots[i].head; e != NONE && n < s->waiting; e = d->entries[e].next)
			idx[n++] = (struct by_frame){ d->entries[e].meta.number, e };
	}
	qsort(idx, n, sizeof *idx, cmp_frame);
	for (uint64_t i = 0; i < n && (!max || i < max); i++) {
		const struct entry *e = &d->entries[idx[i].entry];
		fn(ctx, side, &e->meta, e->raw);
	}
	free(idx);
}
