/* analysis/flowrec.c — per-flow records (see flowrec.h).
 *
 * The flow table already counts what a conversation record needs; this module keeps one
 * record per flow the tracker made (merged by stream number when a 5-tuple leaves the
 * table and comes back as the same tcp.stream), takes the final counters when the flow
 * ends, and takes the names from the packets. The state and history follow Zeek's
 * conn.log (https://docs.zeek.org/en/master/scripts/base/protocols/conn/main.zeek.html):
 * the client is the side that sent the first packet, or the SYN's sender when the capture
 * starts with the SYN-ACK ('^' in the history, as Zeek marks a flip).
 */
#include "analysis/flowrec.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

struct rec {
	struct flow_key key;
	int8_t client_dir;
	bool matched;
	int64_t stream;
	uint64_t first_frame;
	int64_t first_ns, last_ns;
	struct flow_side side[2];      /* by key endpoint, summed over the flows merged here */
	int64_t initial_rtt_ns, srtt_ns;
	struct flow_counts counts;
	uint32_t app, sni, host, dns, ja4, ja4s; /* offsets into the name pool; 0: none */
};

struct flow_records {
	struct flow_observer obs;
	struct rec *recs;
	size_t n, cap;
	uint32_t *by_serial;           /* flow serial -> record, NONE when not kept */
	size_t nserial;
	uint32_t *by_stream[2];        /* [0] tcp, [1] udp: stream -> record */
	size_t nstream[2];
	char *pool;                    /* names, NUL-terminated; offset 0 is "" */
	size_t pool_len, pool_cap;
	uint64_t not_kept;
	bool filtered;
	bool have_first;
	int64_t first_ns;              /* the run's first packet, for relative start times */
	/* the flows the packet being decoded touched (observer), innermost last */
	uint64_t cur_frame;
	uint32_t cur[8];
	unsigned ncur;
	char hist[20], cid[COMMUNITY_ID_LEN]; /* flowrec_get's strings */
};

static uint32_t *grow_map(uint32_t **map, size_t *n, size_t want)
{
	if (want >= *n) {
		size_t nn = *n ? *n : 1024;
		while (nn <= want) nn *= 2;
		*map = xrealloc(*map, nn * sizeof **map);
		for (size_t i = *n; i < nn; i++) (*map)[i] = NONE;
		*n = nn;
	}
	return &(*map)[want];
}

static int stream_slot(uint8_t proto) { return proto == 6 ? 0 : proto == 17 ? 1 : -1; }

static void on_new(void *ctx, const struct flow *f, const struct packet *p)
{
	struct flow_records *fr = ctx;
	(void)p;
	uint32_t *ser = grow_map(&fr->by_serial, &fr->nserial, f->serial);
	int ss = stream_slot(f->key.proto);
	if (ss >= 0 && f->stream >= 0) { /* the same conversation back in the table */
		uint32_t *st = grow_map(&fr->by_stream[ss], &fr->nstream[ss], (size_t)f->stream);
		if (*st != NONE && !memcmp(&fr->recs[*st].key, &f->key, sizeof f->key)) {
			*ser = *st;
			return;
		}
	}
	if (fr->n >= FLOWREC_MAX) {
		fr->not_kept++;
		return;
	}
	if (fr->n == fr->cap) {
		fr->cap = fr->cap ? fr->cap * 2 : 256;
		fr->recs = xrealloc(fr->recs, fr->cap * sizeof *fr->recs);
	}
	struct rec *r = &fr->recs[fr->n];
	memset(r, 0, sizeof *r);
	r->key = f->key;
	r->client_dir = f->client_dir;
	r->stream = f->stream;
	r->first_frame = f->first_frame;
	r->first_ns = f->first_ns;
	r->last_ns = f->last_ns;
	r->initial_rtt_ns = r->srtt_ns = -1;
	*ser = (uint32_t)fr->n;
	if (ss >= 0 && f->stream >= 0) *grow_map(&fr->by_stream[ss], &fr->nstream[ss], (size_t)f->stream) = (uint32_t)fr->n;
	fr->n++;
}

static void on_packet(void *ctx, const struct flow *f, const struct packet *p)
{
	struct flow_records *fr = ctx;
	if (p->meta.number != fr->cur_frame) {
		fr->cur_frame = p->meta.number;
		fr->ncur = 0;
	}
	if (f->serial >= fr->nserial || fr->by_serial[f->serial] == NONE) return;
	if (fr->ncur < sizeof fr->cur / sizeof fr->cur[0]) fr->cur[fr->ncur++] = fr->by_serial[f->serial];
}

static void add_counts(struct flow_counts *a, const struct flow_counts *b)
{
	a->retransmissions += b->retransmissions;
	a->fast_retransmissions += b->fast_retransmissions;
	a->spurious_retransmissions += b->spurious_retransmissions;
	a->out_of_order += b->out_of_order;
	a->lost_segments += b->lost_segments;
	a->dup_acks += b->dup_acks;
	a->zero_windows += b->zero_windows;
	a->keep_alives += b->keep_alives;
}

static void on_end(void *ctx, const struct flow *f)
{
	struct flow_records *fr = ctx;
	if (f->serial >= fr->nserial || fr->by_serial[f->serial] == NONE) return;
	struct rec *r = &fr->recs[fr->by_serial[f->serial]];
	for (int d = 0; d < 2; d++) {
		r->side[d].packets += f->side[d].packets;
		r->side[d].bytes += f->side[d].bytes;
		r->side[d].payload += f->side[d].payload;
		r->side[d].history |= f->side[d].history;
	}
	if (f->first_ns < r->first_ns) r->first_ns = f->first_ns;
	if (f->last_ns > r->last_ns) r->last_ns = f->last_ns;
	if (r->initial_rtt_ns < 0) r->initial_rtt_ns = f->initial_rtt_ns;
	if (f->srtt_ns >= 0) r->srtt_ns = f->srtt_ns;
	add_counts(&r->counts, &f->counts);
}

struct flow_records *flowrec_new(void)
{
	struct flow_records *fr = xcalloc(1, sizeof *fr);
	fr->obs = (struct flow_observer){ on_new, on_packet, on_end, fr };
	fr->pool_cap = 4096;
	fr->pool = xmalloc(fr->pool_cap);
	fr->pool[0] = '\0';
	fr->pool_len = 1;
	return fr;
}

void flowrec_free(struct flow_records *fr)
{
	if (!fr) return;
	free(fr->recs);
	free(fr->by_serial);
	free(fr->by_stream[0]);
	free(fr->by_stream[1]);
	free(fr->pool);
	free(fr);
}

const struct flow_observer *flowrec_observer(struct flow_records *fr) { return &fr->obs; }
void flowrec_set_filtered(struct flow_records *fr, bool filtered) { fr->filtered = filtered; }

static const int name_fields[] = { F_TLS_HANDSHAKE_EXTENSIONS_SERVER_NAME, F_HTTP_HOST, F_DNS_QRY_NAME,
				   F_TLS_HANDSHAKE_JA4, F_TLS_HANDSHAKE_JA4S, F_TCP_STREAM, F_UDP_STREAM };

void flowrec_mask_add(struct field_mask *m)
{
	for (size_t i = 0; i < sizeof name_fields / sizeof name_fields[0]; i++) field_mask_add(m, name_fields[i]);
	/* the TCP analysis runs only when its fields are wanted: the records count its events */
	for (int id = F_TCP_ANALYSIS; id <= F_TCP_ANALYSIS_KEEP_ALIVE_ACK; id++) field_mask_add(m, id);
}

static uint32_t pool_add(struct flow_records *fr, const uint8_t *s, size_t n)
{
	if (n > FLOWREC_NAME_MAX) n = FLOWREC_NAME_MAX;
	if (fr->pool_len + n + 1 > fr->pool_cap) {
		while (fr->pool_len + n + 1 > fr->pool_cap) fr->pool_cap *= 2;
		fr->pool = xrealloc(fr->pool, fr->pool_cap);
	}
	uint32_t off = (uint32_t)fr->pool_len;
	memcpy(fr->pool + off, s, n);
	fr->pool[off + n] = '\0';
	fr->pool_len += n + 1;
	return off;
}

/* The application layer a record names: the first of these the flow's packets carry. */
static const struct { int id; const char *name; } app_layers[] = {
	{ F_HTTP2, "http2" }, { F_HTTP, "http" }, { F_QUIC, "quic" }, { F_TLS, "tls" }, { F_DNS, "dns" },
};

void flowrec_packet(struct flow_records *fr, const struct packet *p, bool matched)
{
	if (!fr->have_first && !p->meta.no_time) {
		fr->have_first = true;
		fr->first_ns = pk_time_ns(&p->meta);
	}
	if (p->meta.number != fr->cur_frame || !fr->ncur) return; /* no flow of ours */
	if (matched)
		for (unsigned i = 0; i < fr->ncur; i++) fr->recs[fr->cur[i]].matched = true;
	struct rec *r = &fr->recs[fr->cur[fr->ncur - 1]]; /* the innermost flow has the names */
	if (!r->app) {
		for (size_t a = 0; a < sizeof app_layers / sizeof app_layers[0] && !r->app; a++)
			for (uint8_t i = 0; i < p->nprotos; i++)
				if (p->protos[i] == app_layers[a].id) {
					r->app = pool_add(fr, (const uint8_t *)app_layers[a].name, strlen(app_layers[a].name));
					break;
				}
	}
	for (uint16_t i = 0; i < p->nfields; i++) {
		const struct fval *f = &p->fields[i];
		if (f->nest) continue;
		uint32_t *slot = NULL;
		switch (f->id) {
		case F_TLS_HANDSHAKE_EXTENSIONS_SERVER_NAME: slot = &r->sni; break;
		case F_HTTP_HOST: slot = &r->host; break;
		case F_DNS_QRY_NAME: slot = &r->dns; break;
		case F_TLS_HANDSHAKE_JA4: slot = &r->ja4; break;
		case F_TLS_HANDSHAKE_JA4S: slot = &r->ja4s; break;
		default: break;
		}
		if (slot && !*slot && f->v.b.n) *slot = pool_add(fr, f->v.b.p, f->v.b.n);
	}
}

size_t flowrec_count(const struct flow_records *fr) { return fr->n; }

/* Zeek's conn_state from what each side sent (o: client, r: server; replies: packets the
 * server sent). */
static const char *conn_state(uint8_t proto, uint8_t o, uint8_t r, uint64_t replies)
{
	if (proto != 6) return replies ? "SF" : "S0"; /* UDP and others: a reply, or none */
	bool syn = o & FH_SYN, synack = r & FH_SYNACK;
	if (syn && !synack) {
		if (r & FH_RST) return "REJ";
		if (o & FH_RST) return "RSTOS0";
		if (o & FH_FIN) return "SH";
		return "S0";
	}
	if (syn && synack) {
		if (o & FH_RST) return "RSTO";
		if (r & FH_RST) return "RSTR";
		if ((o & FH_FIN) && (r & FH_FIN)) return "SF";
		if (o & FH_FIN) return "S2";
		if (r & FH_FIN) return "S3";
		return "S1";
	}
	if (synack) {
		if (r & FH_RST) return "RSTRH";
		if (r & FH_FIN) return "SHR";
	}
	return "OTH";
}

/* History letters in Zeek's order, client's uppercase, server's lowercase. */
static void history(char *out, uint8_t o, uint8_t r, bool flipped)
{
	static const struct { uint8_t bit; char c; } order[] = {
		{ FH_SYN, 's' }, { FH_SYNACK, 'h' }, { FH_ACK, 'a' }, { FH_DATA, 'd' }, { FH_FIN, 'f' },
		{ FH_RST, 'r' }, { FH_RETRANS, 't' }, { FH_ZEROWIN, 'w' },
	};
	size_t n = 0;
	if (flipped) out[n++] = '^';
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		if (o & order[i].bit) out[n++] = (char)(order[i].c - 'a' + 'A');
		if (r & order[i].bit) out[n++] = order[i].c;
	}
	out[n] = '\0';
}

static const char *name_of(const struct flow_records *fr, uint32_t off) { return off ? fr->pool + off : NULL; }

bool flowrec_get(struct flow_records *fr, size_t i, struct flowrec_view *v)
{
	char *hist = fr->hist, *cid = fr->cid;
	if (i >= fr->n) return false;
	const struct rec *r = &fr->recs[i];
	int c = r->client_dir;
	/* a capture that starts with the SYN-ACK: the SYN's receiver is the client */
	bool flipped = r->key.proto == 6 && (r->side[c].history & FH_SYNACK) && !(r->side[c].history & FH_SYN) &&
		       !(r->side[!c].history & FH_SYNACK);
	if (flipped) c = !c;
	uint8_t o = r->side[c].history, s = r->side[!c].history;
	history(hist, o, s, flipped);
	/* ICMP's Community ID is per message type (the flow key drops it): none for the flow */
	if (r->key.proto == 1 || r->key.proto == 58) cid[0] = '\0';
	else community_id_v1(cid, 0, r->key.family, r->key.addr[0], r->key.addr[1], r->key.proto, r->key.port[0],
			     r->key.port[1]);
	*v = (struct flowrec_view){
		.proto = r->key.proto, .family = r->key.family, .client = r->key.addr[c], .server = r->key.addr[!c],
		.client_port = r->key.port[c], .server_port = r->key.port[!c], .stream = r->stream,
		.first_frame = r->first_frame, .first_ns = r->first_ns, .last_ns = r->last_ns,
		.packets = { r->side[c].packets, r->side[!c].packets }, .bytes = { r->side[c].bytes, r->side[!c].bytes },
		.payload = { r->side[c].payload, r->side[!c].payload }, .state = conn_state(r->key.proto, o, s, r->side[!c].packets),
		.history = hist, .app = name_of(fr, r->app), .sni = name_of(fr, r->sni), .http_host = name_of(fr, r->host),
		.dns_name = name_of(fr, r->dns), .ja4 = name_of(fr, r->ja4), .ja4s = name_of(fr, r->ja4s),
		.community_id = cid[0] ? cid : NULL, .initial_rtt_ns = r->initial_rtt_ns, .srtt_ns = r->srtt_ns, .counts = r->counts,
	};
	return true;
}

static const char *proto_name(uint8_t proto)
{
	switch (proto) {
	case 6: return "tcp";
	case 17: return "udp";
	case 1: return "icmp";
	case 58: return "icmpv6";
	case 132: return "sctp";
	default: return NULL;
	}
}

static void put_addr(struct sbuf *sb, uint8_t family, const uint8_t *a)
{
	if (family == 6) sb_ipv6(sb, a);
	else sb_ipv4(sb, a);
}

static void put_endpoint(struct sbuf *sb, const struct flowrec_view *v, bool client)
{
	const uint8_t *a = client ? v->client : v->server;
	uint16_t port = client ? v->client_port : v->server_port;
	bool ported = v->proto == 6 || v->proto == 17 || v->proto == 132;
	if (v->family == 6 && ported) sb_putc(sb, '[');
	put_addr(sb, v->family, a);
	if (v->family == 6 && ported) sb_putc(sb, ']');
	if (ported) {
		sb_putc(sb, ':');
		sb_u64(sb, port);
	}
}

static void put_ms(struct sbuf *sb, int64_t ns)
{
	if (ns < 0) {
		sb_putc(sb, '-');
		return;
	}
	sb_fixed(sb, (uint64_t)ns / 1000, 3); /* microseconds shown as milliseconds */
}

/* Pads the text written since `start` to `width` (left-aligned), with one space after. */
static void pad(struct sbuf *sb, size_t start, size_t width)
{
	size_t n = sb->len - start;
	do sb_putc(sb, ' ');
	while (++n < width + 1);
}

static void put_json_name(struct sbuf *sb, const char *key, const char *v)
{
	sb_printf(sb, ",\"%s\":", key);
	if (v) sb_json_str(sb, v, strlen(v));
	else sb_puts(sb, "null");
}

static void put_json_rtt(struct sbuf *sb, const char *key, int64_t ns)
{
	if (ns < 0) sb_printf(sb, ",\"%s\":null", key);
	else sb_printf(sb, ",\"%s\":%.9f", key, (double)ns / 1e9);
}

static void print_json(struct flow_records *fr, struct sbuf *sb, const struct flowrec_view *v, size_t i)
{
	const char *pn = proto_name(v->proto);
	sb_printf(sb, "{\"schema\":%d,\"flow\":%zu", FLOWREC_SCHEMA, i);
	if (pn) sb_printf(sb, ",\"proto\":\"%s\"", pn);
	else sb_printf(sb, ",\"proto\":%u", v->proto);
	sb_puts(sb, ",\"stream\":");
	if (v->stream >= 0) sb_i64(sb, v->stream);
	else sb_puts(sb, "null");
	sb_puts(sb, ",\"client\":\"");
	put_addr(sb, v->family, v->client);
	sb_printf(sb, "\",\"client_port\":%u,\"server\":\"", v->client_port);
	put_addr(sb, v->family, v->server);
	sb_printf(sb, "\",\"server_port\":%u,\"first_frame\":%llu,\"ts\":%.6f,\"start\":%.6f,\"duration\":%.6f",
		  v->server_port, (unsigned long long)v->first_frame, (double)v->first_ns / 1e9,
		  (double)(v->first_ns - fr->first_ns) / 1e9, (double)(v->last_ns - v->first_ns) / 1e9);
	sb_printf(sb, ",\"client_packets\":%llu,\"client_bytes\":%llu,\"client_payload\":%llu",
		  (unsigned long long)v->packets[0], (unsigned long long)v->bytes[0], (unsigned long long)v->payload[0]);
	sb_printf(sb, ",\"server_packets\":%llu,\"server_bytes\":%llu,\"server_payload\":%llu",
		  (unsigned long long)v->packets[1], (unsigned long long)v->bytes[1], (unsigned long long)v->payload[1]);
	sb_printf(sb, ",\"state\":\"%s\",\"history\":\"%s\"", v->state, v->history);
	put_json_rtt(sb, "initial_rtt", v->initial_rtt_ns);
	put_json_rtt(sb, "srtt", v->srtt_ns);
	const struct flow_counts *c = &v->counts;
	sb_printf(sb, ",\"retransmissions\":%u,\"fast_retransmissions\":%u,\"spurious_retransmissions\":%u,"
		  "\"out_of_order\":%u,\"lost_segments\":%u,\"dup_acks\":%u,\"zero_windows\":%u,\"keep_alives\":%u",
		  c->retransmissions, c->fast_retransmissions, c->spurious_retransmissions, c->out_of_order,
		  c->lost_segments, c->dup_acks, c->zero_windows, c->keep_alives);
	put_json_name(sb, "app", v->app);
	put_json_name(sb, "sni", v->sni);
	put_json_name(sb, "http_host", v->http_host);
	put_json_name(sb, "dns_name", v->dns_name);
	put_json_name(sb, "ja4", v->ja4);
	put_json_name(sb, "ja4s", v->ja4s);
	put_json_name(sb, "community_id", v->community_id);
	sb_puts(sb, "}\n");
}

/* One left-aligned column: what put wrote since `start`, padded to width. */
#define COLUMN(sb, width, ...)                  \
	do {                                     \
		size_t start_ = (sb)->len;        \
		__VA_ARGS__;                      \
		pad((sb), start_, (width));       \
	} while (0)

static void print_text(struct flow_records *fr, struct sbuf *sb, const struct flowrec_view *v)
{
	int64_t rel = v->first_ns - fr->first_ns;
	const char *pn = proto_name(v->proto);
	COLUMN(sb, 11, sb_fixed(sb, (uint64_t)(rel < 0 ? 0 : rel) / 1000, 6));
	COLUMN(sb, 10, sb_fixed(sb, (uint64_t)(v->last_ns - v->first_ns) / 1000, 6));
	COLUMN(sb, 6, pn ? sb_puts(sb, pn) : sb_u64(sb, v->proto));
	COLUMN(sb, 22, put_endpoint(sb, v, true));
	COLUMN(sb, 22, put_endpoint(sb, v, false));
	sb_printf(sb, "%6llu %9llu %6llu %9llu  ", (unsigned long long)v->packets[0], (unsigned long long)v->bytes[0],
		  (unsigned long long)v->packets[1], (unsigned long long)v->bytes[1]);
	COLUMN(sb, 6, sb_puts(sb, v->state));
	COLUMN(sb, 10, sb_puts(sb, v->history));
	COLUMN(sb, 8, put_ms(sb, v->initial_rtt_ns));
	COLUMN(sb, 8, put_ms(sb, v->srtt_ns));
	sb_printf(sb, "%4u ", v->counts.retransmissions);
	COLUMN(sb, 5, sb_puts(sb, v->app ? v->app : "-"));
	const char *name = v->sni ? v->sni : v->http_host ? v->http_host : v->dns_name;
	sb_puts(sb, name ? name : "-");
	sb_putc(sb, '\n');
}

void flowrec_print(struct flow_records *fr, struct sbuf *sb, bool json)
{
	/* start order: records were made in flow creation order, which is frame order */
	size_t shown = 0;
	if (!json) {
		sb_puts(sb, "================================================================================\n");
		sb_puts(sb, "Flows\n");
		sb_puts(sb, "Start       Duration   Proto  Client                 Server                 "
			    "Pkts→     Bytes→  Pkts←    Bytes←  State  History    iRTT ms  SRTT ms  Retr App   Name\n");
	}
	for (size_t i = 0; i < fr->n; i++) {
		const struct rec *r = &fr->recs[i];
		if ((fr->filtered && !r->matched) || !(r->side[0].packets + r->side[1].packets))
			continue; /* a flow only an ICMP error's quote named is no conversation */
		struct flowrec_view v;
		flowrec_get(fr, i, &v);
		if (json) print_json(fr, sb, &v, i);
		else print_text(fr, sb, &v);
		shown++;
	}
	if (!json) {
		sb_printf(sb, "%zu flows", shown);
		if (fr->not_kept) sb_printf(sb, " (%llu more not kept: over %u)", (unsigned long long)fr->not_kept, FLOWREC_MAX);
		sb_puts(sb, "\n================================================================================\n");
	} else if (fr->not_kept) {
		sb_printf(sb, "{\"schema\":%d,\"flows_not_kept\":%llu}\n", FLOWREC_SCHEMA, (unsigned long long)fr->not_kept);
	}
}
