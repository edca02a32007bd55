/* dissect/udp.c — UDP (RFC 768). The datagram is cut to the UDP length when that is
 * shorter than the IP payload; a longer one is marked. */
#include "dissect/decoders.h"
#include "dissect/app.h"

void dissect_udp(struct packet *p, struct cur *c)
{
	int slot = pk_proto(p, F_UDP, c);
	pk_col(p, "UDP");
	uint16_t sport = pk_be16(p, c, F_UDP_SRCPORT);
	uint16_t dport = pk_be16(p, c, F_UDP_DSTPORT);
	uint16_t len = pk_be16(p, c, F_UDP_LENGTH);
	pk_be16(p, c, F_UDP_CHECKSUM);
	if (c->err) {
		pk_broken(p, "udp", "UDP header cut short");
		return;
	}
	pk_proto_end(p, slot, c);
	struct sbuf *sb = pk_col(p, "UDP");
	if (sb) {
		sb_u64(sb, sport);
		sb_puts(sb, " \xe2\x86\x92 ");
		sb_u64(sb, dport);
		sb_puts(sb, " Len=");
		sb_u64(sb, len >= 8 ? len - 8u : 0u);
	}
	if (len < 8) {
		pk_broken(p, "udp", "Bogus UDP length (less than 8)");
		return;
	}
	struct cur payload = cur_sub(c, (size_t)len - 8);
	if (payload.err) pk_broken(p, "udp", "Bogus UDP length (exceeds IP payload length)");
	size_t n = cur_left(&payload);
	if (n) pk_bytes(p, F_UDP_PAYLOAD, payload.pos, (uint32_t)n, cur_off(&payload));
	if (p->tracker && p->l3_src.type != AT_NONE) {
		struct udp_datagram d = { .quoted = p->nest > 0, .family = p->l3_src.type == AT_IPV6 ? 6 : 4,
					  .src = p->l3_src.a, .dst = p->l3_dst.a, .sport = sport, .dport = dport,
					  .len = (uint32_t)n, .payload = payload.pos };
		p->tracker->udp(p->tracker->ctx, p, &d);
	}
	/* known ports first, then QUIC's heuristic (strict long headers, short ones only on
	 * flows already seen as QUIC) */
	p->udp_cut = payload.err;
	payload.err = false; /* what was captured of a longer datagram is still decoded, as tshark does */
	p->udp_sport = sport;
	p->udp_dport = dport;
	if (n && !dissect_udpport(p, sport, dport, &payload) && p->depth < PKT_MAX_DEPTH) {
		if (!dissect_dtls(p, &payload)) dissect_quic(p, &payload);
	}
}
