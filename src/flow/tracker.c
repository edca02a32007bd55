/* flow/tracker.c — flow state for decoding: implements dissect's `struct tracker`. For
 * each TCP segment and UDP datagram it finds the flow, numbers streams as Wireshark does,
 * turns sequence numbers relative, scales windows, runs the TCP analysis and records the
 * resulting fields into the packet. */
#include "flow/flow.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


struct flow_tracker {
	struct flow_table *table;
	struct tracker iface;
	flow_select_fn select;
	void *select_ctx;
	flow_evict_fn user_evict;
	void *user_ctx;
	struct reasm_stats reasm;
	bool app_on;
	/* the TCP segment being decoded: its flow, and the packet app fields go to */
	struct flow *cur;
	struct packet *cur_p;
	/* where bytes go that come out of reassembly after their packet (held out-of-order data
	 * at eviction or the end of input): they update the decoders' state, nothing shows them */
	struct packet *sink;
	struct field_mask none;
	const struct flow_observer *obs[FLOW_MAX_OBSERVERS];
	unsigned nobs;
	flow_stream_fn streams;
	void *streams_ctx;
};

/* Direction as consumers see it: 0 from the client (the first packet's sender). */
static int client_relative(const struct flow *f, int dir) { return dir == f->client_dir ? 0 : 1; }

static struct packet *sink_packet(struct flow_tracker *tr)
{
	if (!tr->sink) {
		tr->sink = packet_new();
		tr->sink->mask = &tr->none;
		tr->sink->no_columns = true;
	}
	struct pkt_meta none = { 0 };
	packet_begin(tr->sink, &none, NULL);
	return tr->sink;
}

/* The packet a TCP flow's bytes belong to while they are delivered: the one being decoded,
 * or the sink when they come out of reassembly later (eviction, end of input). */
static struct packet *delivering_packet(struct flow_tracker *tr, const struct flow *f, uint64_t frame)
{
	return f == tr->cur && tr->cur_p && tr->cur_p->meta.number == frame ? tr->cur_p : sink_packet(tr);
}

/* Reassembly hands every TCP flow's bytes here; they go to the follower and the
 * application decoders. */
static void deliver_data(void *cctx, const struct flow *f, int dir, const uint8_t *b, size_t n, uint64_t frame)
{
	struct flow_tracker *tr = cctx;
	struct flow *mf = (struct flow *)f;
	if (f->consumer) f->consumer->data(f->consumer_ctx, f, dir, b, n, frame);
	if (tr->app_on && !f->app_off &&
	    !app_stream_data(&mf->app, delivering_packet(tr, f, frame), dir, f->key.port[f->client_dir],
			     f->key.port[!f->client_dir], b, n))
		mf->app_off = true;
}

static void deliver_gap(void *cctx, const struct flow *f, int dir, uint64_t len, uint64_t frame)
{
	if (f->consumer) f->consumer->gap(f->consumer_ctx, f, dir, len, frame);
	if (f->app) app_stream_gap(f->app, dir, len);
	(void)cctx;
}

static void deliver_close(void *cctx, const struct flow *f)
{
	if (f->consumer && f->consumer->close) f->consumer->close(f->consumer_ctx, f);
	(void)cctx;
}

static const struct stream_consumer deliver = { deliver_data, deliver_gap, deliver_close };

static void attach_consumer(struct flow_tracker *tr, struct flow *f, int dir)
{
	f->client_dir = (int8_t)dir;
	if (tr->select) {
		void *cctx = NULL;
		const struct stream_consumer *c = tr->select(tr->select_ctx, f, &cctx);
		if (c) {
			f->consumer = c;
			f->consumer_ctx = cctx;
		}
	}
	/* a followed TCP flow is reassembled from its first segment; for the application
	 * decoders alone reassembly starts with the first payload byte */
	if (f->key.proto == 6 && f->consumer) f->reasm = reasm_new(&deliver, tr);
}

/* Every eviction passes here first: a followed stream is finished (held data, close). */
static void on_evict(void *ctx, const struct flow *f)
{
	struct flow_tracker *tr = ctx;
	struct flow *mf = (struct flow *)f; /* the table hands its own flow back */
	if (tr->cur == mf) tr->cur = NULL;
	if (mf->reasm) {
		reasm_finish(mf->reasm, f, &tr->reasm);
		mf->reasm = NULL;
	} else if (mf->consumer && mf->consumer->close) {
		mf->consumer->close(mf->consumer_ctx, f);
	}
	app_flow_free(mf->app);
	mf->app = NULL;
	for (unsigned i = 0; i < tr->nobs; i++)
		if (tr->obs[i]->flow_end) tr->obs[i]->flow_end(tr->obs[i]->ctx, f);
	if (tr->user_evict) tr->user_evict(tr->user_ctx, f);
}

static void observe_new(const struct flow_tracker *tr, const struct flow *f, const struct packet *p)
{
	for (unsigned i = 0; i < tr->nobs; i++)
		if (tr->obs[i]->flow_new) tr->obs[i]->flow_new(tr->obs[i]->ctx, f, p);
}

static void observe_packet(const struct flow_tracker *tr, const struct flow *f, const struct packet *p)
{
	for (unsigned i = 0; i < tr->nobs; i++)
		if (tr->obs[i]->flow_packet) tr->obs[i]->flow_packet(tr->obs[i]->ctx, f, p);
}

static int64_t packet_ns(const struct packet *p) { return pk_time_ns(&p->meta); }

/* The window scale for segments sent by side dir: the shift when both SYNs offered one,
 * -2 when the handshake was seen without it (no scaling), -1 when it is unknown. */
static int scale_factor(const struct flow *f, int dir)
{
	const struct tcp_side *a = &f->tcp[dir], *b = &f->tcp[!dir];
	if (!a->syn_seen || !b->syn_seen) return -1;
	if (a->wscale_opt < 0 || b->wscale_opt < 0) return -2;
	return a->wscale_opt;
}

static const struct { uint32_t flag; enum field_id id; const char *note; } analysis_fields[] = {
	{ TA_REUSED_PORTS, F__COUNT, "[TCP Port numbers reused] " },
	{ TA_LOST_SEGMENT, F_TCP_ANALYSIS_LOST_SEGMENT, "[TCP Previous segment not captured] " },
	{ TA_ACK_LOST_SEGMENT, F_TCP_ANALYSIS_ACK_LOST_SEGMENT, "[TCP ACKed unseen segment] " },
	{ TA_KEEP_ALIVE, F_TCP_ANALYSIS_KEEP_ALIVE, "[TCP Keep-Alive] " },
	{ TA_WINDOW_UPDATE, F_TCP_ANALYSIS_WINDOW_UPDATE, "[TCP Window Update] " },
	{ TA_WINDOW_FULL, F_TCP_ANALYSIS_WINDOW_FULL, "[TCP Window Full] " },
	{ TA_KEEP_ALIVE_ACK, F_TCP_ANALYSIS_KEEP_ALIVE_ACK, "[TCP Keep-Alive ACK] " },
	{ TA_DUPLICATE_ACK, F_TCP_ANALYSIS_DUPLICATE_ACK, NULL }, /* "[TCP Dup ACK n#k] " */
	{ TA_ZERO_WINDOW_PROBE, F_TCP_ANALYSIS_ZERO_WINDOW_PROBE, "[TCP ZeroWindowProbe] " },
	{ TA_ZERO_WINDOW, F_TCP_ANALYSIS_ZERO_WINDOW, "[TCP ZeroWindow] " },
	{ TA_SPURIOUS_RETRANSMISSION, F_TCP_ANALYSIS_SPURIOUS_RETRANSMISSION, "[TCP Spurious Retransmission] " },
	{ TA_FAST_RETRANSMISSION, F_TCP_ANALYSIS_FAST_RETRANSMISSION, "[TCP Fast Retransmission] " },
	{ TA_RETRANSMISSION, F_TCP_ANALYSIS_RETRANSMISSION, NULL }, /* implied by fast */
	{ TA_OUT_OF_ORDER, F_TCP_ANALYSIS_OUT_OF_ORDER, "[TCP Out-Of-Order] " },
};

static void record_analysis(struct packet *p, struct tcp_segment *s, const struct tcp_analysis *a,
			    const struct flow *f)
{
	struct sbuf note;
	sb_init_fixed(&note, s->note, sizeof s->note - 1);
	/* Wireshark keeps an analysis record for a segment that carries data, acknowledges one
	 * or has a flag; only those show the analysis fields, iRTT included. */
	bool any = a->flags || a->acks_frame || a->in_flight_known;
	if (!any) {
		sb_cstr(&note);
		return;
	}
	pk_add(p, F_TCP_ANALYSIS, s->hdr_off, 0);
	if (a->acks_frame) {
		pk_uint(p, F_TCP_ANALYSIS_ACKS_FRAME, a->acks_frame, 0, 0);
		pk_reltime(p, F_TCP_ANALYSIS_ACK_RTT, a->ack_rtt_ns);
	}
	if (f->initial_rtt_ns >= 0) pk_reltime(p, F_TCP_ANALYSIS_INITIAL_RTT, f->initial_rtt_ns);
	if (a->flags & ~(uint32_t)TA_REUSED_PORTS) pk_add(p, F_TCP_ANALYSIS_FLAGS, s->hdr_off, 0);
	for (size_t i = 0; i < sizeof analysis_fields / sizeof analysis_fields[0]; i++) {
		if (!(a->flags & analysis_fields[i].flag)) continue;
		if (analysis_fields[i].id != F__COUNT) pk_add(p, analysis_fields[i].id, s->hdr_off, 0);
		if (analysis_fields[i].flag == TA_DUPLICATE_ACK) {
			pk_uint(p, F_TCP_ANALYSIS_DUPLICATE_ACK_NUM, (uint64_t)a->dupack_num, 0, 0);
			pk_uint(p, F_TCP_ANALYSIS_DUPLICATE_ACK_FRAME, a->dupack_frame, 0, 0);
			char tmp[48];
			snprintf(tmp, sizeof tmp, "[TCP Dup ACK %llu#%d] ", (unsigned long long)a->dupack_frame, a->dupack_num);
			sb_puts(&note, tmp);
		} else if (analysis_fields[i].note && !(analysis_fields[i].flag == TA_RETRANSMISSION)) {
			sb_puts(&note, analysis_fields[i].note);
		}
	}
	if ((a->flags & TA_RETRANSMISSION) && !(a->flags & (TA_FAST_RETRANSMISSION | TA_SPURIOUS_RETRANSMISSION)))
		sb_puts(&note, "[TCP Retransmission] ");
	sb_cstr(&note);
}

static void set_community_id(struct flow *f, const struct flow_key *k)
{
	community_id_v1(f->community_id, 0, k->family, k->addr[0], k->addr[1], k->proto, k->port[0], k->port[1]);
}

/* Computed on the first packet that shows it (a SHA-1 a flow is worth skipping when no
 * output asks for it). */
static void put_community_id(struct packet *p, struct flow *f)
{
	if (!pk_wants(p, F_COMMUNITY_ID)) return;
	if (!f->community_id[0]) set_community_id(f, &f->key);
	pk_string(p, F_COMMUNITY_ID, f->community_id, COMMUNITY_ID_LEN - 1, 0, 0);
}

/* A new flow's stream number: the one its 5-tuple had before eviction, unless this is a
 * connection-opening SYN (a new conversation) or its ports were reused, else the next
 * one; or, when decoding again, the one the first pass gave it. */
static int64_t stream_for_new(const struct flow_tracker *tr, const struct flow_key *k, uint8_t proto, bool opening_syn,
			      bool reused, uint64_t frame)
{
	int64_t given = tr->streams ? tr->streams(tr->streams_ctx, k, frame) : -1;
	if (given >= 0) return given;
	int64_t old = opening_syn || reused ? -1 : flow_retired_stream(tr->table, k);
	return old >= 0 ? old : flow_next_stream(tr->table, proto);
}

/* The packet's flow, created when new, after letting stale flows go; *dir is the key
 * endpoint that sent it. */
static struct flow *packet_flow(struct flow_tracker *tr, int64_t now, uint8_t family, uint8_t proto,
				const uint8_t *src, uint16_t sport, const uint8_t *dst, uint16_t dport,
				struct flow_key *k, int *dir, bool *created)
{
	flow_expire(tr->table, now);
	flow_key_make(k, family, proto, src, sport, dst, dport, dir);
	return flow_lookup_or_insert(tr->table, k, now, created);
}

static void count_packet(struct flow *f, int dir, const struct packet *p)
{
	f->side[dir].packets++;
	f->side[dir].bytes += p->meta.wirelen;
}

/* What the per-flow record keeps of a segment: Zeek's history letters, payload bytes and
 * the TCP analysis events. */
static void count_tcp(struct flow *f, int dir, const struct tcp_segment *s, const struct tcp_analysis *a)
{
	struct flow_side *sd = &f->side[dir];
	uint16_t fl = s->flags;
	sd->payload += s->len;
	if ((fl & (TCP_SYN | TCP_ACK)) == TCP_SYN) sd->history |= FH_SYN;
	if ((fl & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK)) sd->history |= FH_SYNACK;
	if ((fl & (TCP_SYN | TCP_FIN | TCP_RST | TCP_ACK)) == TCP_ACK && !s->len) sd->history |= FH_ACK;
	if (s->len) sd->history |= FH_DATA;
	if (fl & TCP_FIN) sd->history |= FH_FIN;
	if (fl & TCP_RST) sd->history |= FH_RST;
	if (!s->window && !(fl & (TCP_RST | TCP_SYN))) sd->history |= FH_ZEROWIN;
	struct flow_counts *c = &f->counts;
	if (a->flags & TA_RETRANSMISSION) {
		c->retransmissions++;
		sd->history |= FH_RETRANS;
	}
	if (a->flags & TA_FAST_RETRANSMISSION) c->fast_retransmissions++;
	if (a->flags & TA_SPURIOUS_RETRANSMISSION) c->spurious_retransmissions++;
	if (a->flags & TA_OUT_OF_ORDER) c->out_of_order++;
	if (a->flags & TA_LOST_SEGMENT) c->lost_segments++;
	if (a->flags & TA_DUPLICATE_ACK) c->dup_acks++;
	if (a->flags & TA_ZERO_WINDOW) c->zero_windows++;
	if (a->flags & TA_KEEP_ALIVE) c->keep_alives++;
}

static void track_tcp(void *ctx, struct packet *p, struct tcp_segment *s)
{
	struct flow_tracker *tr = ctx;
	int64_t now = packet_ns(p);
	struct flow_key k;
	int dir;
	bool created;
	struct flow *f = packet_flow(tr, now, s->family, 6, s->src, s->sport, s->dst, s->dport, &k, &dir, &created);
	if (s->quoted) { /* an ICMP error's copy: it names the stream, nothing more */
		if (created) {
			f->stream = stream_for_new(tr, &k, 6, false, false, p->meta.number);
			observe_new(tr, f, p);
		}
		pk_uint(p, F_TCP_STREAM, (uint64_t)f->stream, 0, 0);
		return;
	}
	uint32_t reuse = 0;
	/* A SYN whose sequence number is not the one this side started with opens a new
	 * conversation on the same ports (Wireshark's rule; a retransmitted SYN does not). */
	if (!created && (s->flags & (TCP_SYN | TCP_ACK)) == TCP_SYN && f->tcp[dir].base_set && s->seq != f->tcp[dir].base_seq) {
		observe_packet(tr, f, p); /* the old conversation is what says "ports reused" */
		flow_evict(tr->table, f);
		f = flow_lookup_or_insert(tr->table, &k, now, &created);
		reuse = TA_REUSED_PORTS;
	}
	if (!f->tcp) f->tcp = xcalloc(2, sizeof *f->tcp);
	if (created) {
		f->stream = stream_for_new(tr, &k, 6, (s->flags & (TCP_SYN | TCP_ACK)) == TCP_SYN, reuse, p->meta.number);
		f->first_frame = p->meta.number;
		attach_consumer(tr, f, dir);
		observe_new(tr, f, p);
	}
	count_packet(f, dir, p);
	observe_packet(tr, f, p);
	put_community_id(p, f);

	struct tcp_side *fwd = &f->tcp[dir], *rev = &f->tcp[!dir];
	/* Relative numbers start at this side's SYN; every SYN restarts them (a second
	 * SYN-ACK with another ISN is numbered from 0 too, as tshark does). */
	if (!fwd->base_set || (s->flags & TCP_SYN)) {
		fwd->base_seq = (s->flags & TCP_SYN) ? s->seq : s->seq - 1;
		fwd->base_set = true;
	}
	/* The other side's base from the first ACK we see, unless its SYN already gave it. */
	if ((s->flags & TCP_ACK) && !rev->base_set) {
		rev->base_seq = s->ack - 1;
		rev->base_set = true;
	}
	if (s->flags & TCP_SYN) {
		fwd->syn_seen = true;
		fwd->wscale_opt = s->wscale;
		if (!(s->flags & TCP_ACK)) f->syn_ns = now;
		else f->synack_ns = now;
	} else if ((s->flags & TCP_ACK) && f->initial_rtt_ns < 0 && f->syn_ns != FLOW_NO_TIME &&
		   f->synack_ns != FLOW_NO_TIME && !rev->fin_seen) {
		f->initial_rtt_ns = now - f->syn_ns; /* the ACK that completes the handshake */
	}

	int factor = scale_factor(f, dir);
	uint32_t window = s->window;
	if (!(s->flags & TCP_SYN) && factor >= 0) window = (uint32_t)s->window << factor;
	s->window_scaled = window;
	pk_uint(p, F_TCP_STREAM, (uint64_t)f->stream, 0, 0);
	struct fval *sf = pk_add(p, F_TCP_WINDOW_SIZE_SCALEFACTOR, 0, 0);
	if (sf) sf->v.i = (s->flags & TCP_SYN) ? -1 : factor >= 0 ? 1 << factor : factor;

	/* The analysis feeds Info and the tcp.analysis fields; a run that shows neither (a
	 * statistics or follow run) skips it. Streams and relative numbers do not depend on it. */
	struct tcp_analysis a = { 0 };
	if (!p->no_columns || pk_wants_range(p, F_TCP_ANALYSIS, F_TCP_ANALYSIS_KEEP_ALIVE_ACK))
		tcp_analyze(f, dir, s, window, p->meta.number, now, flow_table_unacked(tr->table), &a);
	a.flags |= reuse;
	count_tcp(f, dir, s, &a);
	if (s->flags & TCP_FIN) fwd->fin_seen = true;
	if (s->flags & TCP_RST) f->rst_seen = true;

	tr->cur = f;
	tr->cur_p = p;
	p->app = &f->app;
	p->app_dir = (uint8_t)client_relative(f, dir);
	s->relative = true;
	s->rel_seq = s->seq - fwd->base_seq;
	s->rel_ack = (s->flags & TCP_ACK) ? s->ack - rev->base_seq : s->ack; /* no ACK flag: raw, as tshark */
	record_analysis(p, s, &a, f);
}

/* The segment's bytes, after the TCP layer: reassembly, then the follower and the
 * application decoders in order. */
static void track_tcp_payload(void *ctx, struct packet *p, const struct tcp_segment *s)
{
	struct flow_tracker *tr = ctx;
	struct flow *f = tr->cur;
	if (!f || tr->cur_p != p) return;
	if (!f->reasm) {
		if (!tr->app_on || f->app_off || !s->len) return;
		f->reasm = reasm_new(&deliver, tr); /* the first payload of a flow the decoders read */
	}
	if (f->app_off && !f->consumer) return; /* nobody reads this stream's bytes any more */
	int dir = p->app_dir;
	reasm_tcp(f->reasm, f, dir, s->seq, s->flags, s->payload, s->len, s->captured, p->meta.number, &tr->reasm);
	if (f->app && !f->app_off && s->len) app_mark_segment(f->app, p, dir, s->payload_off);
	if ((s->flags & TCP_FIN) && f->app && !f->app_off) app_stream_fin(f->app, p, dir);
	/* Both sides have closed: what the decoders hold is released now rather than when the
	 * flow leaves the table (it lingers for late segments, which are then not decoded). */
	if ((s->flags & TCP_FIN) && f->tcp[0].fin_seen && f->tcp[1].fin_seen && !f->consumer) {
		reasm_finish(f->reasm, f, &tr->reasm);
		f->reasm = NULL;
		app_flow_free(f->app);
		f->app = NULL;
		f->app_off = true;
	}
	tr->cur_p = NULL;
}

/* Whether a UDP or other flow would feed anything this run shows: its stream number, its
 * Community ID, a follower, application state, or Info (which TCP alone writes from flow
 * state). */
static bool untracked_run(const struct flow_tracker *tr, const struct packet *p)
{
	return p->no_columns && !tr->select && !tr->user_evict && !tr->nobs && !tr->app_on && !pk_wants(p, F_UDP_STREAM) &&
	       !pk_wants(p, F_COMMUNITY_ID);
}

static void track_other(void *ctx, struct packet *p, struct ip_datagram *d)
{
	struct flow_tracker *tr = ctx;
	if (untracked_run(tr, p)) return;
	uint16_t sport = d->sport, dport = d->dport;
	/* The Community ID is per message kind for ICMP (echo and its reply share one), so it
	 * is computed per packet here; ICMP is rare enough for that to cost nothing. */
	char cid[COMMUNITY_ID_LEN];
	if (pk_wants(p, F_COMMUNITY_ID)) community_id_v1(cid, 0, d->family, d->src, d->dst, d->proto, sport, dport);
	if (d->proto == 1 || d->proto == 58) sport = dport = 0; /* one flow per address pair */
	struct flow_key k;
	int dir;
	bool created;
	struct flow *f = packet_flow(tr, packet_ns(p), d->family, d->proto, d->src, sport, d->dst, dport, &k, &dir, &created);
	if (created) {
		f->first_frame = p->meta.number;
		f->client_dir = (int8_t)dir;
		observe_new(tr, f, p);
	}
	count_packet(f, dir, p);
	observe_packet(tr, f, p);
	if (pk_wants(p, F_COMMUNITY_ID)) pk_string(p, F_COMMUNITY_ID, cid, COMMUNITY_ID_LEN - 1, 0, 0);
	if (tr->app_on) p->app = &f->app; /* ICMP echo pairing keeps its requests there */
}

static void track_udp(void *ctx, struct packet *p, struct udp_datagram *d)
{
	struct flow_tracker *tr = ctx;
	if (untracked_run(tr, p)) return;
	struct flow_key k;
	int dir;
	bool created;
	struct flow *f = packet_flow(tr, packet_ns(p), d->family, 17, d->src, d->sport, d->dst, d->dport, &k, &dir, &created);
	if (created) {
		f->stream = stream_for_new(tr, &k, 17, false, false, p->meta.number);
		f->first_frame = p->meta.number;
		if (!d->quoted) attach_consumer(tr, f, dir);
		observe_new(tr, f, p);
	}
	if (d->quoted) {
		pk_uint(p, F_UDP_STREAM, (uint64_t)f->stream, 0, 0);
		return;
	}
	count_packet(f, dir, p);
	f->side[dir].payload += d->len;
	if (d->len) f->side[dir].history |= FH_DATA;
	observe_packet(tr, f, p);
	pk_uint(p, F_UDP_STREAM, (uint64_t)f->stream, 0, 0);
	put_community_id(p, f);
	if (tr->app_on) {
		p->app = &f->app;
		p->app_dir = (uint8_t)client_relative(f, dir);
	}
	if (f->consumer && d->len) {
		f->consumer->data(f->consumer_ctx, f, client_relative(f, dir), d->payload, d->len, p->meta.number);
		tr->reasm.bytes_delivered += d->len;
	}
}

struct flow_tracker *flow_tracker_new(const struct flow_limits *limits, flow_evict_fn user_evict, void *ctx)
{
	struct flow_tracker *tr = xcalloc(1, sizeof *tr);
	tr->user_evict = user_evict;
	tr->user_ctx = ctx;
	tr->table = flow_table_new(limits, on_evict, tr);
	tr->iface = (struct tracker){ track_tcp, track_tcp_payload, track_udp, track_other, tr };
	return tr;
}

void flow_tracker_free(struct flow_tracker *tr)
{
	if (!tr) return;
	flow_table_free(tr->table);
	packet_free(tr->sink);
	free(tr);
}

void flow_tracker_set_selector(struct flow_tracker *tr, flow_select_fn select, void *ctx)
{
	tr->select = select;
	tr->select_ctx = ctx;
}

void flow_tracker_set_app(struct flow_tracker *tr, bool on) { tr->app_on = on; }

void flow_tracker_add_observer(struct flow_tracker *tr, const struct flow_observer *o)
{
	if (tr->nobs == FLOW_MAX_OBSERVERS) xfatal("flow_tracker_add_observer: too many observers");
	tr->obs[tr->nobs++] = o;
}

void flow_tracker_set_streams(struct flow_tracker *tr, flow_stream_fn fn, void *ctx)
{
	tr->streams = fn;
	tr->streams_ctx = ctx;
}

void flow_tracker_expire(struct flow_tracker *tr, int64_t now_ns)
{
	tr->cur = NULL;
	flow_expire(tr->table, now_ns);
}

void flow_tracker_finish(struct flow_tracker *tr)
{
	tr->cur = NULL;
	flow_table_evict_all(tr->table);
}

const struct reasm_stats *flow_tracker_reasm_stats(const struct flow_tracker *tr) { return &tr->reasm; }

const struct tracker *flow_tracker_iface(struct flow_tracker *tr) { return &tr->iface; }
struct flow_table *flow_tracker_table(struct flow_tracker *tr) { return tr->table; }
