/* flow/stats.c — conversation and endpoint statistics, protocol hierarchy and I/O per
 * interval: the numbers tshark's -z conv, -z endpoints, -z io,phs and -z io,stat show,
 * collected from the decoded packets in one pass.
 *
 * Conversations are keyed by the unordered address (and port) pair; A is the sender of
 * the first packet, as in tshark. Tables are open-addressing on a seeded hash, grow, and
 * stop adding entries at STATS_MAX_ENTRIES (what did not fit is counted, not lost
 * silently). Rows keep the order of first appearance, which is tshark's tie order. */
#include "flow/stats.h"
#include "util/hash.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>


#define STATS_MAX_ENTRIES (1u << 21)
#define PHS_MAX_NODES 4096

static const char *kind_names[] = { "eth", "ip", "ipv6", "tcp", "udp" };

const char *stats_kind_name(enum stats_kind k) { return kind_names[k]; }

int stats_kind_parse(const char *s)
{
	for (int i = 0; i < STATS_KINDS; i++)
		if (!strcmp(s, kind_names[i])) return i;
	return -1;
}

struct table {
	struct stats_row *rows; /* in order of first appearance */
	size_t nrows, caprows;
	uint32_t *slots;        /* index + 1 into rows, 0 empty; power-of-two size */
	size_t nslots;
	uint64_t overflow;      /* packets whose row did not fit */
};

struct stats {
	struct hash_seed seed;
	unsigned want;           /* bit per (table type, kind) */
	struct table conv[STATS_KINDS], ends[STATS_KINDS];
	struct phs_node *phs;
	size_t nphs, capphs;
	int64_t io_interval_ns;
	struct io_bucket *io;
	size_t nio;
	int64_t first_ns, last_ns;
	bool started;
	uint64_t frames, bytes;
};

struct stats *stats_new(void)
{
	struct stats *s = xcalloc(1, sizeof *s);
	s->seed = hash_seed_random();
	return s;
}

void stats_want(struct stats *s, enum stats_table t, enum stats_kind k) { s->want |= 1u << (t * 8 + k); }
void stats_want_phs(struct stats *s) { s->want |= 1u << 30; }
void stats_want_io(struct stats *s, int64_t interval_ns)
{
	s->io_interval_ns = interval_ns;
	s->want |= 1u << 29;
}

static bool wants(const struct stats *s, enum stats_table t, enum stats_kind k)
{
	return s->want & (1u << (t * 8 + k));
}

static void table_free(struct table *t)
{
	free(t->rows);
	free(t->slots);
}

void stats_free(struct stats *s)
{
	if (!s) return;
	for (int k = 0; k < STATS_KINDS; k++) {
		table_free(&s->conv[k]);
		table_free(&s->ends[k]);
	}
	free(s->phs);
	free(s->io);
	free(s);
}

static void table_grow(struct stats *s, struct table *t)
{
	size_t n = t->nslots ? t->nslots * 2 : 256;
	uint32_t *slots = xcalloc(n, sizeof *slots);
	for (size_t i = 0; i < t->nrows; i++) {
		size_t j = siphash13(&s->seed, t->rows[i].key, sizeof t->rows[i].key) & (n - 1);
		while (slots[j]) j = (j + 1) & (n - 1);
		slots[j] = (uint32_t)i + 1;
	}
	free(t->slots);
	t->slots = slots;
	t->nslots = n;
}

/* The row for key (canonical), created when new; NULL when the table is full. */
static struct stats_row *table_row(struct stats *s, struct table *t, const uint8_t key[STATS_KEY_LEN], bool *created)
{
	/* Keep the slots at most half full while the table may still grow. */
	if ((t->nrows + 1) * 2 > t->nslots && t->nrows < STATS_MAX_ENTRIES) table_grow(s, t);
	size_t j = siphash13(&s->seed, key, STATS_KEY_LEN) & (t->nslots - 1);
	while (t->slots[j]) {
		struct stats_row *r = &t->rows[t->slots[j] - 1];
		if (!memcmp(r->key, key, STATS_KEY_LEN)) {
			*created = false;
			return r;
		}
		j = (j + 1) & (t->nslots - 1);
	}
	if (t->nrows >= STATS_MAX_ENTRIES || t->nrows * 2 >= t->nslots) return NULL;
	if (t->nrows == t->caprows) {
		t->caprows = t->caprows ? t->caprows * 2 : 64;
		t->rows = xrealloc(t->rows, t->caprows * sizeof *t->rows);
	}
	struct stats_row *r = &t->rows[t->nrows];
	memset(r, 0, sizeof *r);
	memcpy(r->key, key, STATS_KEY_LEN);
	t->slots[j] = (uint32_t)++t->nrows;
	*created = true;
	return r;
}

struct endpoint {
	const uint8_t *addr;
	uint8_t alen;
	uint16_t port;
};

static void put_endpoint(uint8_t *key, const struct endpoint *e)
{
	key[0] = e->alen;
	memcpy(key + 1, e->addr, e->alen);
	key[17] = (uint8_t)(e->port >> 8);
	key[18] = (uint8_t)e->port;
}

static int cmp_endpoint(const struct endpoint *a, const struct endpoint *b)
{
	int c = memcmp(a->addr, b->addr, a->alen);
	if (c) return c;
	return a->port < b->port ? -1 : a->port > b->port;
}

static void add_conv(struct stats *s, enum stats_kind k, const struct endpoint *src, const struct endpoint *dst,
		     uint64_t len, int64_t t, int64_t instance)
{
	struct table *tb = &s->conv[k];
	uint8_t key[STATS_KEY_LEN] = { 0 };
	bool swap = cmp_endpoint(src, dst) > 0;
	put_endpoint(key, swap ? dst : src);
	put_endpoint(key + 19, swap ? src : dst);
	memcpy(key + 38, &instance, sizeof instance);
	bool created;
	struct stats_row *r = table_row(s, tb, key, &created);
	if (!r) {
		tb->overflow++;
		return;
	}
	if (created) {
		r->a_is_first = swap ? 1 : 0; /* which key endpoint is A (the first sender) */
		r->first_ns = t;
	}
	r->last_ns = t;
	/* dir 0: A -> B */
	int from_key = swap ? 1 : 0;
	int dir = from_key == r->a_is_first ? 0 : 1;
	r->frames[dir]++;
	r->bytes[dir] += len;
}

static void add_endpoint(struct stats *s, enum stats_kind k, const struct endpoint *e, int tx, uint64_t len)
{
	struct table *tb = &s->ends[k];
	uint8_t key[STATS_KEY_LEN] = { 0 };
	put_endpoint(key, e);
	bool created;
	struct stats_row *r = table_row(s, tb, key, &created);
	if (!r) {
		tb->overflow++;
		return;
	}
	r->frames[tx ? 0 : 1]++;
	r->bytes[tx ? 0 : 1] += len;
}

static void add_pair(struct stats *s, enum stats_kind k, const struct endpoint *a, const struct endpoint *b,
		     uint64_t len, int64_t t, const bool *broken, int64_t instance)
{
	if (broken[k]) return;
	if (wants(s, STATS_CONV, k)) add_conv(s, k, a, b, len, t, instance);
	if (wants(s, STATS_ENDPOINTS, k)) {
		add_endpoint(s, k, a, 1, len);
		add_endpoint(s, k, b, 0, len);
	}
}

static void add_phs(struct stats *s, const struct packet *p, uint64_t len)
{
	/* A path of protocol ids from the root; every prefix of it is a node. */
	int parent = -1;
	for (uint8_t i = 0; i < p->nprotos; i++) {
		uint16_t id = p->protos[i];
		/* IPv6 extension headers are part of IPv6 in tshark's hierarchy, not levels */
		if (id == F_IPV6_HOPOPTS || id == F_IPV6_ROUTING || id == F_IPV6_FRAGHDR || id == F_IPV6_DSTOPTS) continue;
		int found = -1;
		for (size_t n = 0; n < s->nphs; n++)
			if (s->phs[n].parent == parent && s->phs[n].proto == id) {
				found = (int)n;
				break;
			}
		if (found < 0) {
			if (s->nphs >= PHS_MAX_NODES) return;
			if (s->nphs == s->capphs) {
				s->capphs = s->capphs ? s->capphs * 2 : 16;
				s->phs = xrealloc(s->phs, s->capphs * sizeof *s->phs);
			}
			s->phs[s->nphs] = (struct phs_node){ .proto = id, .parent = parent };
			found = (int)s->nphs++;
		}
		s->phs[found].frames++;
		s->phs[found].bytes += len;
		parent = found;
	}
}

static void add_io(struct stats *s, int64_t t, uint64_t len)
{
	int64_t rel = t - s->first_ns;
	if (rel < 0) rel = 0;
	uint64_t i = (uint64_t)(rel / s->io_interval_ns);
	if (i >= IO_MAX_INTERVALS) i = IO_MAX_INTERVALS - 1; /* the last bucket takes the rest */
	if (i >= s->nio) {
		size_t n = (size_t)i + 1;
		s->io = xrealloc(s->io, n * sizeof *s->io);
		memset(s->io + s->nio, 0, (n - s->nio) * sizeof *s->io);
		s->nio = n;
	}
	s->io[i].frames++;
	s->io[i].bytes += len;
}

void stats_packet(struct stats *s, const struct packet *p)
{
	int64_t t = pk_time_ns(&p->meta);
	uint64_t len = p->meta.wirelen;
	if (!s->started) {
		s->first_ns = t;
		s->started = true;
	}
	s->last_ns = t;
	s->frames++;
	s->bytes += len;
	if (s->want & (1u << 30)) add_phs(s, p, len);
	if (s->want & (1u << 29)) add_io(s, t, len);
	/* A layer whose decoding broke is not tabulated: tshark's tap for a layer never fires
	 * when that layer throws (IPv6 extension headers count as IPv6). */
	bool broken[STATS_KINDS] = { false };
	for (uint8_t i = 0; i < p->nhdr_broken; i++) {
		const char *l = p->hdr_broken[i];
		if (!strcmp(l, "ip")) broken[STATS_IP] = true;
		if (!strncmp(l, "ipv6", 4)) broken[STATS_IPV6] = true;
		if (!strcmp(l, "tcp")) broken[STATS_TCP] = true;
		if (!strcmp(l, "udp")) broken[STATS_UDP] = true;
		if (!strcmp(l, "eth")) broken[STATS_ETH] = true;
	}
	/* Walk the record once; addresses pair up within their layer. A quoted packet (inside
	 * an ICMP error) is not a conversation, as in tshark. */
	const struct fval *eth_dst = NULL, *l3_src = NULL;
	const struct fval *l3s = NULL, *l3d = NULL, *sport = NULL;
	const struct fval *st = pk_find(p, F_TCP_STREAM);
	int64_t tcp_stream = st ? (int64_t)st->v.u : -1;
	for (uint16_t i = 0; i < p->nfields; i++) {
		const struct fval *f = &p->fields[i];
		if (f->nest) continue;
		switch (f->id) {
		case F_ETH_DST: eth_dst = f; break; /* the destination comes first on the wire */
		case F_ETH_SRC:
			if (eth_dst) {
				struct endpoint a = { f->v.addr, 6, 0 }, b = { eth_dst->v.addr, 6, 0 };
				add_pair(s, STATS_ETH, &a, &b, len, t, broken, -1);
				eth_dst = NULL;
			}
			break;
		case F_IP_SRC: case F_IPV6_SRC: l3_src = f; break;
		case F_IP_DST: case F_IPV6_DST:
			if (l3_src && field_defs[l3_src->id].type == field_defs[f->id].type) {
				bool v6 = f->id == F_IPV6_DST;
				uint8_t alen = v6 ? 16 : 4;
				struct endpoint a = { l3_src->v.addr, alen, 0 }, b = { f->v.addr, alen, 0 };
				add_pair(s, v6 ? STATS_IPV6 : STATS_IP, &a, &b, len, t, broken, -1);
				l3s = l3_src;
				l3d = f;
			}
			break;
		case F_TCP_SRCPORT: case F_UDP_SRCPORT: sport = f; break;
		case F_TCP_DSTPORT: case F_UDP_DSTPORT:
			if (sport && l3s && l3d) {
				uint8_t alen = field_defs[l3s->id].type == FT_IPV6 ? 16 : 4;
				struct endpoint a = { l3s->v.addr, alen, (uint16_t)sport->v.u };
				struct endpoint b = { l3d->v.addr, alen, (uint16_t)f->v.u };
				add_pair(s, f->id == F_TCP_DSTPORT ? STATS_TCP : STATS_UDP, &a, &b, len, t, broken,
					 f->id == F_TCP_DSTPORT ? tcp_stream : -1);
			}
			break;
		default: break;
		}
	}
}

const struct stats_row *stats_rows(const struct stats *s, enum stats_table t, enum stats_kind k, size_t *n,
				   uint64_t *overflow)
{
	const struct table *tb = t == STATS_CONV ? &s->conv[k] : &s->ends[k];
	*n = tb->nrows;
	if (overflow) *overflow = tb->overflow;
	return tb->rows;
}

const struct phs_node *stats_phs(const struct stats *s, size_t *n)
{
	*n = s->nphs;
	return s->phs;
}

const struct io_bucket *stats_io(const struct stats *s, size_t *n, int64_t *interval_ns)
{
	*n = s->nio;
	*interval_ns = s->io_interval_ns;
	return s->io;
}

void stats_span(const struct stats *s, int64_t *first_ns, int64_t *last_ns, uint64_t *frames, uint64_t *bytes)
{
	*first_ns = s->first_ns;
	*last_ns = s->last_ns;
	*frames = s->frames;
	*bytes = s->bytes;
}
