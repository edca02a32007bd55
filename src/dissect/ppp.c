/* dissect/ppp.c — PPP (RFC 1661 §2, HDLC-like framing RFC 1662 §3.1, protocol field
 * compression RFC 1661 §6.5), PPPoE sessions (RFC 2516 §4) and Cisco HDLC. */
#include "dissect/decoders.h"

/* PPP protocol numbers that carry something we decode. */
static void ppp_payload(struct packet *p, struct cur *c, uint16_t proto)
{
	switch (proto) {
	case 0x0021: dissect_ethertype(p, 0x0800, c); break;
	case 0x0057: dissect_ethertype(p, 0x86dd, c); break;
	case 0x0281: dissect_ethertype(p, 0x8847, c); break;
	default: {
		struct sbuf *sb = pk_col(p, "PPP");
		if (sb) sb_puts(sb, vn_name(vn_ppp_protocol, proto, "PPP"));
		pk_data(p, c);
	}
	}
}

/* PPP with or without the 0xff 0x03 address/control bytes, with a 1- or 2-byte protocol. */
static void ppp_common(struct packet *p, struct cur *c, bool allow_pfc)
{
	int slot = pk_proto(p, F_PPP, c);
	if (cur_peek_u8(c, 0) == 0xff && cur_peek_u8(c, 1) == 0x03) {
		pk_u8(p, c, F_PPP_ADDRESS);
		pk_u8(p, c, F_PPP_CONTROL);
	}
	uint32_t off = cur_off(c);
	uint16_t proto = cur_u8(c);
	bool one_byte = allow_pfc && (proto & 1);
	if (!one_byte) proto = (uint16_t)(proto << 8 | cur_u8(c));
	if (c->err) {
		pk_broken(p, "ppp", "PPP header cut short");
		return;
	}
	pk_uint(p, F_PPP_PROTOCOL, proto, off, one_byte ? 1 : 2);
	pk_proto_end(p, slot, c);
	ppp_payload(p, c, proto);
}

void dissect_ppp(struct packet *p, struct cur *c) { ppp_common(p, c, true); }

void dissect_pppoes(struct packet *p, struct cur *c)
{
	int slot = pk_proto(p, F_PPPOES, c);
	uint32_t off = cur_off(c);
	uint8_t vt = cur_u8(c);
	pk_u8(p, c, F_PPPOES_CODE);
	pk_be16(p, c, F_PPPOES_SESSION_ID);
	uint16_t len = pk_be16(p, c, F_PPPOES_PAYLOAD_LENGTH);
	if (c->err) {
		pk_broken(p, "pppoes", "PPPoE header cut short");
		return;
	}
	pk_uint(p, F_PPPOES_VERSION, vt >> 4, off, 1);
	pk_uint(p, F_PPPOES_TYPE, vt & 15, off, 1);
	pk_proto_end(p, slot, c);
	struct cur payload = cur_sub(c, len);
	if (payload.err) pk_broken(p, "pppoes", "PPPoE payload length exceeds packet");
	ppp_common(p, &payload, false); /* RFC 2516 §7: no address/control, full protocol */
}

void dissect_chdlc(struct packet *p, struct cur *c)
{
	int slot = pk_proto(p, F_CHDLC, c);
	pk_u8(p, c, F_CHDLC_ADDRESS);
	cur_skip(c, 1);
	uint16_t proto = pk_be16(p, c, F_CHDLC_PROTOCOL);
	if (c->err) {
		pk_broken(p, "chdlc", "Cisco HDLC header cut short");
		return;
	}
	pk_proto_end(p, slot, c);
	dissect_ethertype(p, proto, c);
}
