/* flow/table.c — the flow table: a chained hash table keyed by SipHash with a random
 * seed, doubled when it fills, a least-recently-used list for eviction, and a hard cap. */
#include "flow/flow.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

struct retired_slot {
	uint64_t hash; /* 0: empty */
	int64_t stream;
};

struct flow_table {
	struct retired_slot *retired;
	size_t retired_cap, retired_count; /* cap: power of two */
	struct flow **buckets;
	size_t nbuckets; /* power of two */
	size_t count;
	struct flow *lru_head, *lru_tail;
	struct hash_seed seed;
	struct flow_limits limits;
	flow_evict_fn on_evict;
	void *ctx;
	uint64_t serial;
	int64_t next_tcp_stream, next_udp_stream;
	struct flow_stats stats;
	size_t unacked; /* TCP analysis's account (flow_table_unacked) */
};

void flow_limits_default(struct flow_limits *l)
{
	l->max_flows = 262144;
	l->idle_ns = 600ll * 1000000000;
	l->closed_linger_ns = 120ll * 1000000000;
}

struct flow_table *flow_table_new(const struct flow_limits *limits, flow_evict_fn on_evict, void *ctx)
{
	struct flow_table *t = xcalloc(1, sizeof *t);
	t->nbuckets = 1024;
	t->buckets = xcalloc(t->nbuckets, sizeof *t->buckets);
	t->seed = hash_seed_random();
	if (limits) t->limits = *limits;
	else flow_limits_default(&t->limits);
	if (t->limits.max_flows < 1) t->limits.max_flows = 1;
	t->on_evict = on_evict;
	t->ctx = ctx;
	return t;
}

static int cmp_endpoint(const uint8_t *a, uint16_t ap, const uint8_t *b, uint16_t bp, size_t alen)
{
	int c = memcmp(a, b, alen);
	if (c) return c;
	return ap < bp ? -1 : ap > bp;
}

void flow_key_make(struct flow_key *k, uint8_t family, uint8_t proto, const uint8_t *a, uint16_t aport,
		   const uint8_t *b, uint16_t bport, int *dir)
{
	size_t alen = family == 6 ? 16 : 4;
	memset(k, 0, sizeof *k);
	k->family = family;
	k->proto = proto;
	bool swap = cmp_endpoint(a, aport, b, bport, alen) > 0;
	const uint8_t *x = swap ? b : a, *y = swap ? a : b;
	memcpy(k->addr[0], x, alen);
	memcpy(k->addr[1], y, alen);
	k->port[0] = swap ? bport : aport;
	k->port[1] = swap ? aport : bport;
	*dir = swap;
}

static uint64_t key_hash(const struct flow_table *t, const struct flow_key *k)
{
	return siphash13(&t->seed, k, sizeof *k);
}

static size_t bucket_of_hash(const struct flow_table *t, uint64_t h) { return (size_t)h & (t->nbuckets - 1); }

static void lru_unlink(struct flow_table *t, struct flow *f)
{
	if (f->lru_prev) f->lru_prev->lru_next = f->lru_next;
	else t->lru_head = f->lru_next;
	if (f->lru_next) f->lru_next->lru_prev = f->lru_prev;
	else t->lru_tail = f->lru_prev;
	f->lru_prev = f->lru_next = NULL;
}

static void lru_append(struct flow_table *t, struct flow *f)
{
	f->lru_prev = t->lru_tail;
	f->lru_next = NULL;
	if (t->lru_tail) t->lru_tail->lru_next = f;
	else t->lru_head = f;
	t->lru_tail = f;
}

static void grow(struct flow_table *t)
{
	size_t n = t->nbuckets * 2;
	struct flow **b = xcalloc(n, sizeof *b);
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct flow *f = t->buckets[i];
		while (f) {
			struct flow *next = f->hnext;
			size_t j = (size_t)f->hash & (n - 1);
			f->hnext = b[j];
			b[j] = f;
			f = next;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = n;
}

static uint64_t retired_of(uint64_t key_h)
{
	uint64_t h = key_h ^ 0x5bd1e995ull; /* not the bucket hash */
	return h ? h : 1;
}

static uint64_t retired_hash(const struct flow_table *t, const struct flow_key *k) { return retired_of(key_hash(t, k)); }

static void retired_put(struct flow_table *t, uint64_t h, int64_t stream)
{
	if (t->retired_count * 4 >= t->retired_cap * 3) {
		if (t->retired_cap >= FLOW_RETIRED_MAX) {
			/* Full: forget them all. Only numbering of 5-tuples that return after
			 * millions of others is affected. */
			memset(t->retired, 0, t->retired_cap * sizeof *t->retired);
			t->retired_count = 0;
		} else {
			size_t ncap = t->retired_cap ? t->retired_cap * 2 : 4096;
			struct retired_slot *n = xcalloc(ncap, sizeof *n);
			for (size_t i = 0; i < t->retired_cap; i++) {
				if (!t->retired[i].hash) continue;
				size_t j = t->retired[i].hash & (ncap - 1);
				while (n[j].hash) j = (j + 1) & (ncap - 1);
				n[j] = t->retired[i];
			}
			free(t->retired);
			t->retired = n;
			t->retired_cap = ncap;
		}
	}
	size_t j = h & (t->retired_cap - 1);
	while (t->retired[j].hash && t->retired[j].hash != h) j = (j + 1) & (t->retired_cap - 1);
	if (!t->retired[j].hash) t->retired_count++;
	t->retired[j] = (struct retired_slot){ h, stream };
}

int64_t flow_retired_stream(struct flow_table *t, const struct flow_key *k)
{
	if (!t->retired_count) return -1;
	uint64_t h = retired_hash(t, k);
	for (size_t j = h & (t->retired_cap - 1); t->retired[j].hash; j = (j + 1) & (t->retired_cap - 1))
		if (t->retired[j].hash == h) return t->retired[j].stream;
	return -1;
}

void flow_evict(struct flow_table *t, struct flow *f)
{
	if (t->on_evict) t->on_evict(t->ctx, f);
	if (f->stream >= 0) retired_put(t, retired_of(f->hash), f->stream);
	struct flow **pp = &t->buckets[bucket_of_hash(t, f->hash)];
	while (*pp && *pp != f) pp = &(*pp)->hnext;
	if (*pp) *pp = f->hnext;
	lru_unlink(t, f);
	t->count--;
	if (f->tcp) {
		tcp_side_release(&f->tcp[0], &t->unacked);
		tcp_side_release(&f->tcp[1], &t->unacked);
		free(f->tcp);
	}
	free(f);
}

static bool is_closed(const struct flow *f)
{
	return f->tcp && (f->rst_seen || (f->tcp[0].fin_seen && f->tcp[1].fin_seen));
}

void flow_expire(struct flow_table *t, int64_t now_ns)
{
	/* The LRU list is in last-activity order, so the oldest are at its head. */
	while (t->lru_head) {
		struct flow *f = t->lru_head;
		int64_t idle = now_ns - f->last_ns;
		if (idle > t->limits.idle_ns) {
			t->stats.flows_evicted_idle++;
		} else if (idle > t->limits.closed_linger_ns && is_closed(f)) {
			t->stats.flows_evicted_closed++;
		} else {
			break; /* closed flows younger than the linger wait behind this one */
		}
		flow_evict(t, f);
	}
}

struct flow *flow_lookup_or_insert(struct flow_table *t, const struct flow_key *k, int64_t now_ns, bool *created)
{
	uint64_t h = key_hash(t, k);
	size_t b = bucket_of_hash(t, h);
	for (struct flow *f = t->buckets[b]; f; f = f->hnext) {
		if (f->hash == h && !memcmp(&f->key, k, sizeof *k)) {
			f->last_ns = now_ns;
			lru_unlink(t, f);
			lru_append(t, f);
			*created = false;
			return f;
		}
	}
	while (t->count >= t->limits.max_flows && t->lru_head) {
		t->stats.flows_evicted_cap++;
		flow_evict(t, t->lru_head);
	}
	if (t->count >= t->nbuckets) {
		grow(t);
		b = bucket_of_hash(t, h);
	}
	struct flow *f = xcalloc(1, sizeof *f);
	f->key = *k;
	f->hash = h;
	f->serial = t->serial++;
	f->stream = -1;
	f->first_ns = f->last_ns = now_ns;
	f->initial_rtt_ns = -1;
	f->syn_ns = f->synack_ns = FLOW_NO_TIME;
	f->srtt_ns = -1;
	f->hnext = t->buckets[b];
	t->buckets[b] = f;
	lru_append(t, f);
	t->count++;
	t->stats.flows_created++;
	*created = true;
	return f;
}

int64_t flow_next_stream(struct flow_table *t, uint8_t proto)
{
	if (proto == 6) return t->next_tcp_stream++;
	if (proto == 17) return t->next_udp_stream++;
	return -1;
}

void flow_table_stats(const struct flow_table *t, struct flow_stats *out)
{
	*out = t->stats;
	out->flows_now = t->count;
	out->buckets = t->nbuckets;
	out->unacked_now = t->unacked;
}

size_t *flow_table_unacked(struct flow_table *t) { return &t->unacked; }

void flow_table_evict_all(struct flow_table *t)
{
	while (t->lru_head) flow_evict(t, t->lru_head);
}

void flow_table_free(struct flow_table *t)
{
	if (!t) return;
	while (t->lru_head) flow_evict(t, t->lru_head);
	free(t->retired);
	free(t->buckets);
	free(t);
}
