/* dissect/ipv6.c — IPv6 (RFC 8200) and its extension headers, each registered in the IP
 * protocol table so a chain is plain dispatch: hop-by-hop and destination options (§4.3,
 * §4.6, RFC 2675 jumbo), routing (§4.4), fragment (§4.5). AH is in ah.c. */
#include "dissect/decoders.h"
#include "dissect/defrag.h"


void dissect_ipv6(struct packet *p, struct cur *c)
{
	struct cur start = *c;
	int slot = pk_proto(p, F_IPV6, c);
	pk_col(p, "IPv6");
	uint32_t off = cur_off(c);
	uint32_t w = cur_be32(c);
	if (!c->err) pk_uint(p, F_IPV6_VERSION, w >> 28, off, 1);
	if (c->err || w >> 28 != 6) { /* as Wireshark: no addresses from a non-IPv6 header */
		pk_broken(p, "ipv6", c->err ? "IPv6 header cut short" : "Bogus IPv6 version");
		return;
	}
	uint16_t plen = pk_be16(p, c, F_IPV6_PLEN);
	uint8_t nxt = pk_u8(p, c, F_IPV6_NXT);
	uint8_t hlim = pk_u8(p, c, F_IPV6_HLIM);
	const uint8_t *src = pk_ipv6(p, c, F_IPV6_SRC);
	const uint8_t *dst = pk_ipv6(p, c, F_IPV6_DST);
	if (c->err) {
		pk_broken(p, "ipv6", "IPv6 header cut short");
		return;
	}
	uint8_t tclass = (uint8_t)(w >> 20);
	pk_uint(p, F_IPV6_TCLASS, tclass, off, 2);
	pk_uint(p, F_IPV6_TCLASS_DSCP, tclass >> 2, off, 2);
	pk_uint(p, F_IPV6_TCLASS_ECN, tclass & 3, off, 2);
	pk_uint(p, F_IPV6_FLOW, w & 0xfffff, off + 1, 3);
	pk_set_net(p, AT_IPV6, src, dst);
	if (p->nest == 0) p->ip_ttl = hlim;

	/* Payload length 0 is a jumbogram or a TSO capture: take what was captured. */
	size_t len = plen ? (size_t)plen + 40 : cur_left(&start);
	if (p->nest == 0) p->ip_end = ip_reported_end(p, &start, len);
	struct cur ip = cur_sub(&start, len);
	*c = start;
	cur_skip(&ip, 40);
	bool cut = ip.err;
	pk_proto_end(p, slot, &ip);
	ip.err = false;
	if (cut) pk_broken(p, "ipv6", "IPv6 payload length exceeds framing length");

	struct sbuf *sb = pk_col(p, "IPv6");
	if (sb) {
		sb_puts(sb, vn_name(vn_ipproto, nxt, "Unknown protocol"));
		sb_puts(sb, " (");
		sb_u64(sb, nxt);
		sb_putc(sb, ')');
	}
	if (nxt == 59) return; /* No Next Header */
	dissect_ipproto(p, nxt, &ip);
}

/* Hop-by-hop and destination options: TLVs after a 2-byte header, RFC 8200 §4.2. */
static void ipv6_options(struct packet *p, struct cur *opts)
{
	while (cur_left(opts)) {
		uint32_t off = cur_off(opts);
		uint8_t type = cur_u8(opts);
		pk_uint(p, F_IPV6_OPT_TYPE, type, off, 1);
		if (type == 0) continue; /* Pad1 */
		uint8_t len = cur_u8(opts);
		if (opts->err || len > cur_left(opts)) {
			pk_broken(p, "ipv6", "IPv6 option length exceeds header");
			return;
		}
		pk_uint(p, F_IPV6_OPT_LENGTH, len, off + 1, 1);
		struct cur body = cur_sub(opts, len);
		switch (type) {
		case 0x01: pk_bytes(p, F_IPV6_OPT_PADN, body.pos, len, cur_off(&body)); break;
		case 0x05: if (len == 2) pk_be16(p, &body, F_IPV6_OPT_ROUTER_ALERT); break;
		case 0xc2: if (len == 4) pk_be32(p, &body, F_IPV6_OPT_JUMBO); break;
		default: if (len) pk_bytes(p, F_IPV6_OPT_DATA, body.pos, len, cur_off(&body)); break;
		}
	}
}

struct ext_fields {
	enum field_id proto, nxt, len;
	const char *name;
};

/* The common 2-byte start of an extension header; returns the header's body (after the
 * 2 bytes) as a sub-cursor and the next header, or false when it is cut short. */
static bool ext_begin(struct packet *p, struct cur *c, const struct ext_fields *ef,
		      int *slot, struct cur *body, uint8_t *nxt)
{
	*slot = pk_proto(p, ef->proto, c);
	*nxt = pk_u8(p, c, ef->nxt);
	uint32_t loff = cur_off(c);
	uint8_t len = cur_u8(c);
	if (c->err) {
		pk_broken(p, ef->name, "IPv6 extension header cut short");
		return false;
	}
	pk_uint(p, ef->len, len, loff, 1);
	size_t total = ((size_t)len + 1) * 8;
	*body = cur_sub(c, total - 2);
	if (body->err) {
		pk_broken(p, ef->name, "IPv6 extension header length exceeds packet");
		return false;
	}
	return true;
}

static void options_header(struct packet *p, struct cur *c, const struct ext_fields *ef)
{
	int slot;
	struct cur body;
	uint8_t nxt;
	if (!ext_begin(p, c, ef, &slot, &body, &nxt)) return;
	ipv6_options(p, &body);
	pk_proto_end(p, slot, c);
	if (nxt == 59) return;
	dissect_ipproto(p, nxt, c);
}

void dissect_ipv6_hopopts(struct packet *p, struct cur *c)
{
	static const struct ext_fields f = { F_IPV6_HOPOPTS, F_IPV6_HOPOPTS_NXT, F_IPV6_HOPOPTS_LEN, "ipv6.hopopts" };
	options_header(p, c, &f);
}

void dissect_ipv6_dstopts(struct packet *p, struct cur *c)
{
	static const struct ext_fields f = { F_IPV6_DSTOPTS, F_IPV6_DSTOPTS_NXT, F_IPV6_DSTOPTS_LEN, "ipv6.dstopts" };
	options_header(p, c, &f);
}

void dissect_ipv6_routing(struct packet *p, struct cur *c)
{
	static const struct ext_fields f = { F_IPV6_ROUTING, F_IPV6_ROUTING_NXT, F_IPV6_ROUTING_LEN, "ipv6.routing" };
	int slot;
	struct cur body;
	uint8_t nxt;
	if (!ext_begin(p, c, &f, &slot, &body, &nxt)) return;
	pk_u8(p, &body, F_IPV6_ROUTING_TYPE);
	pk_u8(p, &body, F_IPV6_ROUTING_SEGLEFT);
	pk_proto_end(p, slot, c);
	if (nxt == 59) return;
	dissect_ipproto(p, nxt, c);
}

void dissect_ipv6_fraghdr(struct packet *p, struct cur *c)
{
	int slot = pk_proto(p, F_IPV6_FRAGHDR, c);
	uint8_t nxt = pk_u8(p, c, F_IPV6_FRAGHDR_NXT);
	cur_skip(c, 1);
	uint32_t off = cur_off(c);
	uint16_t om = cur_be16(c);
	uint32_t ident = pk_be32(p, c, F_IPV6_FRAGHDR_IDENT);
	if (c->err) {
		pk_broken(p, "ipv6.fraghdr", "IPv6 fragment header cut short");
		return;
	}
	pk_uint(p, F_IPV6_FRAGHDR_OFFSET, om >> 3, off, 2);
	pk_bool(p, F_IPV6_FRAGHDR_MORE, om & 1, off, 2);
	pk_proto_end(p, slot, c);
	if ((om >> 3) == 0 && !(om & 1)) { /* atomic fragment, RFC 6946 */
		dissect_ipproto(p, nxt, c);
		return;
	}
	/* the fragment's bytes as the payload length gives them: all must be captured */
	if (p->l3_src.type == AT_IPV6 && !(p->ip_end && p->ip_end > p->meta.caplen)) {
		struct defrag_key k = { .family = 6, .id = ident };
		memcpy(k.src, p->l3_src.a, 16);
		memcpy(k.dst, p->l3_dst.a, 16);
		if (ip_reassemble(p, &k, (uint32_t)(om >> 3) * 8, om & 1, nxt, c)) return;
	}
	pk_untapped(p, "ipv6.fraghdr"); /* tshark's IPv6 tap fires only with the datagram */
	struct sbuf *sb = pk_col(p, "IPv6");
	if (sb) {
		sb_puts(sb, "IPv6 fragment (off=");
		sb_u64(sb, (uint64_t)(om >> 3) * 8);
		sb_puts(sb, (om & 1) ? " more=y" : " more=n");
		sb_puts(sb, " ident=0x");
		sb_hex(sb, ident, 8);
		sb_puts(sb, " nxt=");
		sb_u64(sb, nxt);
		sb_putc(sb, ')');
		p->info_locked = true;
	}
	pk_data(p, c);
}
