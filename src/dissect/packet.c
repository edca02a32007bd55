/* dissect/packet.c — the per-packet field record: recording, columns, broken-layer marks. */
#include "dissect/packet.h"
#include "dissect/defrag.h"
#include "util/xalloc.h"

#include <stdlib.h>

#include <string.h>

void dissect_init(void) { field_registry_init(); }

struct packet *packet_new(void) { return xcalloc(1, sizeof(struct packet)); }

struct pk_chunk {
	struct pk_chunk *next;
	size_t cap, used;
	uint8_t data[];
};
#define PK_KEEP_BASE (256u << 10)

static void keep_reset(struct packet *p)
{
	for (struct pk_chunk *c = p->keep_more, *next; c; c = next) {
		next = c->next;
		free(c);
	}
	p->keep_more = NULL;
	if (p->keep) p->keep->used = 0;
}

uint8_t *pk_keep(struct packet *p, size_t n)
{
	if (!p->keep) {
		p->keep = xmalloc(sizeof *p->keep + PK_KEEP_BASE);
		p->keep->next = NULL;
		p->keep->cap = PK_KEEP_BASE;
		p->keep->used = 0;
	}
	struct pk_chunk *c = p->keep;
	if (c->cap - c->used < n) { /* a packet that completes much: one more chunk for it */
		c = xmalloc(sizeof *c + n);
		c->cap = c->used = n;
		c->next = p->keep_more;
		p->keep_more = c;
		return c->data;
	}
	uint8_t *b = c->data + c->used;
	c->used += (n + 15) & ~(size_t)15;
	if (c->used > c->cap) c->used = c->cap;
	return b;
}

void packet_free(struct packet *p)
{
	if (!p) return;
	keep_reset(p);
	free(p->keep);
	free(p->store);
	defrag_free(p->defrag);
	for (int k = 0; k < PK_WORK_KINDS; k++) free(p->work[k]);
	free(p);
}

void packet_begin(struct packet *p, const struct pkt_meta *meta, const uint8_t *data)
{
	p->meta = *meta;
	p->data = data;
	p->nfields = 0;
	p->fields_overflow = false;
	p->nprotos = 0;
	p->bufs[0] = (struct pkt_buf){ data, meta->caplen, PB_FRAME };
	p->nbufs = 1;
	p->cur_where = 0;               /* the frame */
	p->cur_parent = PKT_NO_PARENT; /* no layer yet */
	p->buf_bias = 0;
	p->store_used = 0;
	if (p->keep) keep_reset(p);
	p->layer[0] = PKT_NO_PARENT;
	p->ntrees = 0;
	p->nest = 0;
	p->depth = 0;
	p->udp_sport = p->udp_dport = 0;
	p->udp_cut = false;
	p->tcp_hdr.seen = false;
	p->dl_src.type = p->dl_dst.type = p->net_src.type = p->net_dst.type = AT_NONE;
	p->l3_src.type = p->l3_dst.type = AT_NONE;
	p->proto_col = NULL;
	p->tcp_info.pending = false;
	sb_init_fixed(&p->info, p->info_buf, PKT_INFO_MAX);
	p->info_locked = false;
	p->ip_ttl = 0;
	p->ip_end = 0;
	p->ip_fragment = false;
	p->malformed = false;
	p->short_frame = false;
	p->nhdr_broken = 0;
	p->arena_used = 0;
	p->app = NULL;
	p->app_dir = 0;
	p->app_run = NULL;
	p->app_run_layer = -1;
	p->app_msgs = 0;
	p->decrypted = false;
}

struct fval *pk_add_slow(struct packet *p, enum field_id id, uint32_t off, uint32_t len)
{
	if (p->nfields >= PKT_MAX_FIELDS) {
		p->fields_overflow = true;
		return NULL;
	}
	struct fval *f = &p->fields[p->nfields++];
	f->id = (uint16_t)id;
	f->nest = p->nest;
	f->neg = 0;
	f->off = off + p->buf_bias;
	f->len = len;
	f->where = p->cur_where; /* buf, parent */
	return f;
}

void pk_bytes(struct packet *p, enum field_id id, const uint8_t *b, uint32_t n, uint32_t off)
{
	struct fval *f = pk_add(p, id, off, n);
	if (f) {
		f->v.b.p = b;
		f->v.b.n = n;
	}
}

void pk_addr(struct packet *p, enum field_id id, const uint8_t *a, uint32_t off)
{
	size_t n = field_defs[id].type == FT_IPV6 ? 16 : field_defs[id].type == FT_ETHER ? 6 : 4;
	struct fval *f = pk_add(p, id, off, (uint32_t)n);
	if (f) memcpy(f->v.addr, a, n);
}

void pk_string(struct packet *p, enum field_id id, const char *s, size_t n, uint32_t off, uint32_t len)
{
	size_t room = PKT_ARENA_SIZE - p->arena_used;
	if (n > room) n = room;
	struct fval *f = pk_add(p, id, off, len);
	if (!f) return;
	uint8_t *dst = p->arena + p->arena_used;
	memcpy(dst, s, n);
	p->arena_used += (uint32_t)n;
	f->v.b.p = dst;
	f->v.b.n = (uint32_t)n;
}

void pk_float(struct packet *p, enum field_id id, double d, uint32_t off, uint32_t len)
{
	struct fval *f = pk_add(p, id, off, len);
	if (f) f->v.d = d;
}

void pk_reltime(struct packet *p, enum field_id id, int64_t ns)
{
	struct fval *f = pk_add(p, id, 0, 0);
	if (!f) return;
	f->neg = ns < 0;
	if (ns < 0) ns = -ns;
	f->v.t.sec = ns / 1000000000;
	f->v.t.nsec = (uint32_t)(ns % 1000000000);
}

void pk_bytes_copy(struct packet *p, enum field_id id, const uint8_t *b, uint32_t n, uint32_t off, uint32_t len)
{
	pk_string(p, id, (const char *)b, n, off, len);
}

/* A layer of the packet, or of the packet an ICMP error quotes (whose parent is the ICMP
 * layer quoting it); the fields after it are its children. */
static inline int start_layer(struct packet *p, enum field_id id, const struct cur *c)
{
	uint8_t nest = p->nest;
	uint16_t parent = PKT_NO_PARENT;
	if (__builtin_expect(nest != 0, 0)) { /* inside a quoted packet: under its quoting layer */
		if (nest >= PKT_MAX_DEPTH) nest = PKT_MAX_DEPTH - 1;
		parent = p->layer[nest - 1];
	}
	p->cur_parent = parent;
	p->ntrees = 0;
	struct fval *f = pk_add(p, id, cur_off(c), (uint32_t)cur_left(c));
	if (!f) {
		p->layer[nest] = parent; /* not recorded: its fields belong to what holds it */
		return -1;
	}
	uint16_t slot = (uint16_t)(f - p->fields);
	p->layer[nest] = slot;
	p->cur_parent = slot;
	return slot;
}

int pk_proto_again(struct packet *p, enum field_id id, const struct cur *c) { return start_layer(p, id, c); }

int pk_proto(struct packet *p, enum field_id id, const struct cur *c)
{
	if (p->nprotos < PKT_MAX_PROTOS) p->protos[p->nprotos++] = (uint16_t)id;
	return start_layer(p, id, c);
}

int pk_tree(struct packet *p, enum field_id id, const struct cur *c)
{
	struct fval *f = pk_add(p, id, cur_off(c), (uint32_t)cur_left(c));
	if (!f) return -1;
	if (p->ntrees < sizeof p->trees / sizeof p->trees[0]) { /* deeper subtrees stay in the last */
		p->trees[p->ntrees++] = p->cur_parent;
		p->cur_parent = (uint16_t)(f - p->fields);
	}
	return (int)(f - p->fields);
}

void pk_proto_end(struct packet *p, int slot, const struct cur *c)
{
	if (slot < 0) return;
	struct fval *f = &p->fields[slot];
	uint32_t end = cur_off(c) + p->buf_bias;
	f->len = end > f->off ? end - f->off : 0;
	if (p->ntrees && p->cur_parent == (uint16_t)slot) p->cur_parent = p->trees[--p->ntrees]; /* a subtree closes */
}

/* ---- the buffers fields refer to ---- */

_Static_assert(PKT_BUF_NONE == 0xff, "pk_msg_begin's inline case marks 'nothing opened' as PKT_BUF_NONE");

/* A message outside the frame (pk_msg_begin took the frame's case). */
struct pk_msg pk_msg_begin_slow(struct packet *p, const uint8_t *b, size_t n, enum pkt_buf_kind kind)
{
	struct pk_msg saved = { p->cur_buf, PKT_BUF_NONE, p->buf_bias };
	if (p->cur_buf != 0 && p->cur_buf != PKT_BUF_NONE && pk_within(b, n, p->bufs[p->cur_buf].p, p->bufs[p->cur_buf].n)) {
		p->buf_bias = (uint32_t)(b - p->bufs[p->cur_buf].p); /* a part of the open message */
	} else if (p->nbufs < PKT_MAX_BUFS) {
		saved.opened = p->nbufs;
		p->bufs[p->nbufs] = (struct pkt_buf){ b, (uint32_t)n, (uint8_t)kind };
		p->cur_buf = p->nbufs++;
		p->buf_bias = 0;
	} else {
		p->cur_buf = PKT_BUF_NONE;
		p->buf_bias = 0;
	}
	return saved;
}

void pk_msg_end_slow(struct packet *p, struct pk_msg saved, size_t used)
{
	if (saved.opened != PKT_BUF_NONE) {
		struct pkt_buf *bf = &p->bufs[saved.opened];
		if (used < bf->n) bf->n = (uint32_t)used;
		/* a message in the packet's arena lives as long as the packet; any other buffer is
		 * the caller's, gone after the call: copied when the run reads layers' bytes */
		if (!pk_within(bf->p, bf->n, p->arena, sizeof p->arena)) {
			const uint8_t *live = bf->p;
			bf->p = NULL;
			if (p->keep_bufs && bf->n <= PKT_STORE_SIZE - p->store_used) {
				if (!p->store) p->store = xmalloc(PKT_STORE_SIZE);
				memcpy(p->store + p->store_used, live, bf->n);
				bf->p = p->store + p->store_used;
				p->store_used += bf->n;
			}
		}
	}
	p->cur_buf = saved.buf;
	p->buf_bias = saved.bias;
}

void *pk_work(struct packet *p, enum pk_work_kind k, size_t n)
{
	if (!p->work[k]) p->work[k] = xcalloc(1, n);
	return p->work[k];
}

bool pk_field_bytes(const struct packet *p, const struct fval *f, const uint8_t **b, uint32_t *n)
{
	if (f->buf >= p->nbufs || !p->bufs[f->buf].p) return false;
	const struct pkt_buf *bf = &p->bufs[f->buf];
	uint32_t off = f->off < bf->n ? f->off : bf->n;
	uint32_t len = field_defs[f->id].type == FT_PROTO ? bf->n - off : f->len < bf->n - off ? f->len : bf->n - off;
	*b = bf->p + off;
	*n = len;
	return true;
}

static const uint8_t *pk_addr_n(struct packet *p, struct cur *c, enum field_id id, size_t n)
{
	uint32_t off = cur_off(c);
	const uint8_t *a = cur_bytes(c, n);
	if (a) pk_addr(p, id, a, off);
	return a;
}

const uint8_t *pk_ipv4(struct packet *p, struct cur *c, enum field_id id) { return pk_addr_n(p, c, id, 4); }
const uint8_t *pk_ipv6(struct packet *p, struct cur *c, enum field_id id) { return pk_addr_n(p, c, id, 16); }
const uint8_t *pk_ether(struct packet *p, struct cur *c, enum field_id id) { return pk_addr_n(p, c, id, 6); }

void pk_untapped(struct packet *p, const char *proto)
{
	if (p->nest == 0 && p->nhdr_broken < 4) p->hdr_broken[p->nhdr_broken++] = proto;
}

void pk_broken(struct packet *p, const char *proto, const char *why)
{
	/* Inside a quoted packet a cut-off header is expected (RFC 792 quotes 8 bytes). */
	if (p->nest > 0) return;
	bool cut = p->meta.caplen < p->meta.wirelen;
	if (why && !strstr(why, "exceeds") && p->nhdr_broken < 4) p->hdr_broken[p->nhdr_broken++] = proto;
	/* A layer that claimed the columns and broke before writing Info says why. */
	if (why && !pk_has_info(p) && !p->info_locked && !p->no_columns) sb_puts(&p->info, why);
	if (cut ? p->short_frame : p->malformed) return; /* the first broken layer is the one that counts */
	if (cut) p->short_frame = true;
	else p->malformed = true;
	pk_string(p, cut ? F_WS_SHORT : F_WS_MALFORMED, proto, strlen(proto), 0, 0);
	if (why) pk_string(p, F_WS_EXPERT_MESSAGE, why, strlen(why), 0, 0);
}

void pk_data(struct packet *p, struct cur *c)
{
	size_t n = cur_left(c);
	if (!n) return;
	uint32_t off = cur_off(c);
	int slot = pk_proto(p, F_DATA, c);
	const uint8_t *b = cur_bytes(c, n);
	pk_bytes(p, F_DATA_DATA, b, (uint32_t)n, off);
	pk_uint(p, F_DATA_LEN, n, off, (uint32_t)n);
	pk_proto_end(p, slot, c);
}

void pk_set_net(struct packet *p, enum addr_type t, const uint8_t *src, const uint8_t *dst)
{
	uint8_t n = t == AT_IPV6 ? 16 : 4;
	p->l3_src.type = p->l3_dst.type = (uint8_t)t;
	memcpy(p->l3_src.a, src, n);
	memcpy(p->l3_dst.a, dst, n);
	if (p->nest) return;
	p->net_src.type = p->net_dst.type = (uint8_t)t;
	p->net_src.len = p->net_dst.len = n;
	memcpy(p->net_src.a, src, n);
	memcpy(p->net_dst.a, dst, n);
}

void pk_set_dl(struct packet *p, const uint8_t *src, const uint8_t *dst)
{
	if (p->nest) return;
	p->dl_src.type = p->dl_dst.type = AT_ETHER;
	p->dl_src.len = p->dl_dst.len = 6;
	p->dl_src.role = p->dl_dst.role = ADDR_ROLE_NONE;
	memcpy(p->dl_src.a, src, 6);
	if (dst) memcpy(p->dl_dst.a, dst, 6);
	else p->dl_dst.type = AT_NONE;
}

void pk_set_wlan_cols(struct packet *p, const uint8_t *src, enum addr_role src_role, const uint8_t *dst,
		      enum addr_role dst_role)
{
	if (p->nest) return;
	p->dl_src = (struct addr){ .type = src ? AT_ETHER : AT_NONE, .len = 6, .role = (uint8_t)src_role };
	p->dl_dst = (struct addr){ .type = dst ? AT_ETHER : AT_NONE, .len = 6, .role = (uint8_t)dst_role };
	if (src) memcpy(p->dl_src.a, src, 6);
	if (dst) memcpy(p->dl_dst.a, dst, 6);
}

struct sbuf *pk_col(struct packet *p, const char *proto)
{
	if (p->nest || p->info_locked || p->no_columns) return NULL;
	p->proto_col = proto;
	sb_reset(&p->info);
	p->tcp_info.pending = false;
	return &p->info;
}

void pk_set_relative(struct packet *p, int64_t first_sec, uint32_t first_nsec)
{
	int64_t ds = p->meta.ts_sec - first_sec;
	int64_t dn = (int64_t)p->meta.ts_nsec - first_nsec;
	int64_t total_neg = ds < 0 || (ds == 0 && dn < 0);
	if (total_neg) {
		ds = -ds;
		dn = -dn;
	}
	if (dn < 0) {
		dn += 1000000000;
		ds -= 1;
	}
	p->rel_sec = ds;
	p->rel_nsec = (uint32_t)dn;
	p->rel_neg = total_neg;
}

void pk_info_write(struct sbuf *out, const struct packet *p)
{
	if (!p->tcp_info.pending) {
		sb_put(out, p->info.buf, p->info.len);
		return;
	}
	char buf[PKT_INFO_MAX + 1];
	struct sbuf sb;
	sb_init_fixed(&sb, buf, PKT_INFO_MAX);
	tcp_info_text(&sb, p);
	sb_put(&sb, p->info.buf, p->info.len);
	sb_put(out, sb.buf, sb.len);
}

void pk_track_other(struct packet *p, uint8_t proto, uint16_t sport, uint16_t dport)
{
	if (!p->tracker || p->nest || p->l3_src.type == AT_NONE) return;
	struct ip_datagram d = { p->l3_src.type == AT_IPV6 ? 6 : 4, p->l3_src.a, p->l3_dst.a, proto, sport, dport };
	p->tracker->other(p->tracker->ctx, p, &d);
}

bool pk_wants_range(const struct packet *p, enum field_id first, enum field_id last)
{
	for (int id = first; id <= (int)last; id++)
		if (pk_wants(p, (enum field_id)id)) return true;
	return false;
}

const struct fval *pk_find(const struct packet *p, enum field_id id)
{
	for (uint16_t i = 0; i < p->nfields; i++)
		if (p->fields[i].id == id) return &p->fields[i];
	return NULL;
}

/* ---- forward references from a first pass ---- */

struct frame_link {
	uint64_t frame, answer;
	uint32_t key;
	uint8_t kind;
};

struct frame_links {
	struct frame_link *v;
	size_t n, cap;
};

struct frame_links *frame_links_new(void) { return xcalloc(1, sizeof(struct frame_links)); }

void frame_links_add(struct frame_links *l, enum link_kind kind, uint64_t frame, uint32_t key, uint64_t answer)
{
	if (l->n == FRAME_LINKS_MAX) return;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1024;
		l->v = xrealloc(l->v, l->cap * sizeof *l->v);
	}
	l->v[l->n++] = (struct frame_link){ frame, answer, key, (uint8_t)kind };
}

static int link_cmp(const void *a, const void *b)
{
	const struct frame_link *x = a, *y = b;
	if (x->kind != y->kind) return x->kind < y->kind ? -1 : 1;
	if (x->frame != y->frame) return x->frame < y->frame ? -1 : 1;
	if (x->key != y->key) return x->key < y->key ? -1 : 1;
	return x->answer < y->answer ? -1 : x->answer > y->answer;
}

void frame_links_seal(struct frame_links *l)
{
	if (l->n) qsort(l->v, l->n, sizeof *l->v, link_cmp);
}

uint64_t frame_links_get(const struct frame_links *l, enum link_kind kind, uint64_t frame, uint32_t key)
{
	size_t lo = 0, hi = l->n;
	while (lo < hi) { /* first entry not less than (kind, frame, key) */
		size_t mid = lo + (hi - lo) / 2;
		const struct frame_link *e = &l->v[mid];
		bool less = e->kind != kind ? e->kind < kind : e->frame != frame ? e->frame < frame : e->key < key;
		if (less) lo = mid + 1;
		else hi = mid;
	}
	const struct frame_link *e = lo < l->n ? &l->v[lo] : NULL;
	return e && e->kind == kind && e->frame == frame && e->key == key ? e->answer : 0;
}

void frame_links_free(struct frame_links *l)
{
	if (!l) return;
	free(l->v);
	free(l);
}
