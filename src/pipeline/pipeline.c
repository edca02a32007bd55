/* pipeline/pipeline.c — assembles the engine for a run from what it needs: the field mask,
 * columns, flow tracking, the application decoders. */
#include "pipeline/pipeline.h"
#include "capture/writer.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

struct pipeline {
	struct pipeline_needs needs;
	struct field_mask mask;
	bool masked;          /* false: every field is recorded */
	bool apps;
	struct packet *p;
	struct flow_tracker *tracker;
	bool finished;
	bool have_first;
	int64_t first_sec;
	uint32_t first_nsec;
};

/* What conversation, endpoint and I/O statistics count (flow/stats.c). */
static const int stats_fields[] = { F_ETH_SRC, F_ETH_DST, F_IP_SRC, F_IP_DST, F_IPV6_SRC, F_IPV6_DST,
				    F_TCP_SRCPORT, F_TCP_DSTPORT, F_UDP_SRCPORT, F_UDP_DSTPORT, F_TCP_STREAM };

/* What the names hook reads. */
static const int name_fields[] = { F_DNS_QRY_NAME, F_DNS_RESP_NAME, F_DNS_RESP_TTL, F_DNS_A, F_DNS_AAAA,
				   F_TLS_HANDSHAKE_EXTENSIONS_SERVER_NAME, F_HTTP_HOST, F_HTTP2_HEADERS_AUTHORITY, F_TCP_DSTPORT,
				   F_UDP_DSTPORT };

void pipeline_mask_for(const struct pipeline_needs *n, struct field_mask *m)
{
	if (n->names)
		for (size_t i = 0; i < sizeof name_fields / sizeof name_fields[0]; i++) field_mask_add(m, name_fields[i]);
	if (n->filter) df_mask_add(n->filter, m);
	for (int i = 0; i < n->nfields; i++)
		if (n->fields[i] >= 0) field_mask_add(m, n->fields[i]);
	if (n->comments) pwriter_mask_add(m);
	/* packets decoded without their line still feed the TCP analysis of the lines after */
	if (n->quiet_packets && n->columns)
		for (int id = F_TCP_ANALYSIS; id <= F_TCP_ANALYSIS_KEEP_ALIVE_ACK; id++) field_mask_add(m, id);
	if (n->stats)
		for (size_t i = 0; i < sizeof stats_fields / sizeof stats_fields[0]; i++) field_mask_add(m, stats_fields[i]);
	if (n->extra)
		for (size_t i = 0; i < sizeof m->bits; i++) m->bits[i] |= n->extra->bits[i];
}

/* Whether any recorded field is made by, or depends on, the application decoders. */
static bool mask_needs_apps(const struct field_mask *m)
{
	for (int id = 0; id < F__COUNT; id++)
		if ((m->bits[id >> 3] & (1u << (id & 7))) && field_needs_app(id)) return true;
	return false;
}

struct pipeline *pipeline_new(const struct pipeline_needs *needs)
{
	struct pipeline *pl = xcalloc(1, sizeof *pl);
	pl->needs = *needs;
	pl->masked = !needs->all_fields;
	if (pl->masked) pipeline_mask_for(needs, &pl->mask);
	/* The application decoders run when something shows their work: Info, every field,
	 * the protocol hierarchy, or a field they make or feed (a filter on tls.sni selects
	 * the same frames whether they are printed, written or counted). */
	pl->apps = needs->columns || needs->all_fields || needs->hierarchy || mask_needs_apps(&pl->mask);
	pl->p = packet_new();
	pl->tracker = flow_tracker_new(needs->limits, NULL, NULL);
	flow_tracker_set_app(pl->tracker, pl->apps);
	pl->p->tracker = flow_tracker_iface(pl->tracker);
	if (needs->index) flow_tracker_add_observer(pl->tracker, pindex_observer(needs->index));
	if (needs->observer) flow_tracker_add_observer(pl->tracker, needs->observer);
	pl->p->links = needs->links;
	pl->p->keylog = needs->keylog;
	pl->p->mask = pl->masked ? &pl->mask : NULL;
	pl->p->no_columns = !needs->columns;
	pl->p->keep_bufs = needs->layer_bytes || (needs->filter && df_reads_layer_bytes(needs->filter));
	return pl;
}

void pipeline_finish(struct pipeline *pl)
{
	if (pl->finished) return;
	pl->finished = true;
	flow_tracker_finish(pl->tracker);
}

void pipeline_free(struct pipeline *pl)
{
	if (!pl) return;
	pipeline_finish(pl);
	flow_tracker_free(pl->tracker);
	packet_free(pl->p);
	free(pl);
}

void pipeline_skip(struct pipeline *pl, const struct pkt_meta *meta)
{
	if (pl->have_first) return;
	pl->have_first = true;
	pl->first_sec = meta->ts_sec;
	pl->first_nsec = meta->ts_nsec;
}

/* The names packet p gives (its own layers, not an ICMP error's quote): each DNS address
 * answer with the name that owns it, the SNI and Host (HTTP/2: :authority) with the
 * packet's destination. */
static void report_names(const struct pipeline *pl, const struct packet *p)
{
	struct name_event e;
	const struct fval *query = NULL, *owner = NULL;
	uint32_t ttl = 0, dport = 0;
	for (uint16_t i = 0; i < p->nfields; i++) {
		const struct fval *f = &p->fields[i];
		if (f->nest) continue;
		switch (f->id) {
		case F_TCP_DSTPORT: case F_UDP_DSTPORT: dport = (uint32_t)f->v.u; break;
		case F_DNS_QRY_NAME: query = f; break;
		case F_DNS_RESP_NAME: owner = f; break;
		case F_DNS_RESP_TTL: ttl = (uint32_t)f->v.u; break;
		case F_DNS_A: case F_DNS_AAAA:
			if (!owner) break;
			e = (struct name_event){ .source = NAME_DNS, .name = owner->v.b.p, .len = owner->v.b.n,
						 .family = f->id == F_DNS_A ? 4 : 6, .ttl = ttl };
			if (query) {
				e.query = query->v.b.p;
				e.query_len = query->v.b.n;
			}
			memcpy(e.addr, f->v.addr, f->id == F_DNS_A ? 4 : 16);
			pl->needs.names(pl->needs.names_ctx, p, &e);
			break;
		case F_TLS_HANDSHAKE_EXTENSIONS_SERVER_NAME: case F_HTTP_HOST: case F_HTTP2_HEADERS_AUTHORITY:
			if (p->net_dst.type != AT_IPV4 && p->net_dst.type != AT_IPV6) break;
			/* HTTP/2's :authority is HTTP/1.1's Host */
			e = (struct name_event){ .source = f->id == F_TLS_HANDSHAKE_EXTENSIONS_SERVER_NAME ? NAME_SNI : NAME_HTTP_HOST,
						 .name = f->v.b.p, .len = f->v.b.n, .port = (uint16_t)dport,
						 .family = p->net_dst.type == AT_IPV4 ? 4 : 6 };
			memcpy(e.addr, p->net_dst.a, p->net_dst.len);
			pl->needs.names(pl->needs.names_ctx, p, &e);
			break;
		default:
			break;
		}
	}
}

static inline struct packet *decode(struct pipeline *pl, const struct pkt_meta *meta, const uint8_t *data, bool columns)
{
	struct packet *p = pl->p;
	if (!pl->have_first) pipeline_skip(pl, meta);
	p->no_columns = !columns;
	packet_begin(p, meta, data);
	pk_set_relative(p, pl->first_sec, pl->first_nsec);
	dissect_frame(p);
	if (pl->needs.post) pl->needs.post(pl->needs.post_ctx, p);
	if (pl->needs.index) pindex_note(pl->needs.index, p);
	if (pl->needs.names) report_names(pl, p);
	return p;
}

struct packet *pipeline_decode(struct pipeline *pl, const struct pkt_meta *meta, const uint8_t *data)
{
	return decode(pl, meta, data, pl->needs.columns);
}

struct packet *pipeline_decode_quiet(struct pipeline *pl, const struct pkt_meta *meta, const uint8_t *data)
{
	return decode(pl, meta, data, false);
}

bool pipeline_match(const struct pipeline *pl, const struct packet *p)
{
	return !pl->needs.filter || df_match(pl->needs.filter, p);
}

void pipeline_tick(struct pipeline *pl, int64_t now_ns)
{
	if (!pl->finished) flow_tracker_expire(pl->tracker, now_ns);
}

struct flow_tracker *pipeline_tracker(struct pipeline *pl) { return pl->tracker; }
bool pipeline_runs_apps(const struct pipeline *pl) { return pl->apps; }
const struct field_mask *pipeline_mask(const struct pipeline *pl) { return pl->masked ? &pl->mask : NULL; }
