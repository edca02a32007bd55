/* dissect/gre.c — GRE (RFC 2784 with RFC 2890 key and sequence, and version 1 as PPTP
 * uses it, RFC 2637 §4.1) and ERSPAN types I, II and III carried in it (Cisco's
 * draft-foschiano-erspan). */
#include "dissect/decoders.h"

static void dissect_erspan(struct packet *p, struct cur *c, uint16_t gre_proto, bool has_seq)
{
	int slot = pk_proto(p, F_ERSPAN, c);
	if (gre_proto == 0x88be && !has_seq) { /* type I: no header */
		pk_proto_end(p, slot, c);
		dissect_eth(p, c);
		return;
	}
	uint32_t off = cur_off(c);
	uint16_t w0 = cur_be16(c);
	uint16_t w1 = cur_be16(c);
	cur_skip(c, 4);
	uint8_t version = (uint8_t)(w0 >> 12);
	if (version == 2) { /* type III: 12 bytes, plus 8 when the O bit is set */
		uint32_t w2 = cur_be32(c);
		if (w2 & 1) cur_skip(c, 8);
	}
	if (c->err) {
		pk_broken(p, "erspan", "ERSPAN header cut short");
		return;
	}
	pk_uint(p, F_ERSPAN_VERSION, version, off, 2);
	pk_uint(p, F_ERSPAN_VLAN, w0 & 0x0fff, off, 2);
	pk_uint(p, F_ERSPAN_SPANID, w1 & 0x03ff, off + 2, 2);
	pk_proto_end(p, slot, c);
	dissect_eth(p, c);
}

void dissect_gre(struct packet *p, struct cur *c)
{
	int slot = pk_proto(p, F_GRE, c);
	uint16_t fv = pk_be16(p, c, F_GRE_FLAGS_AND_VERSION);
	uint16_t proto = pk_be16(p, c, F_GRE_PROTO);
	bool has_c = fv & 0x8000, has_k = fv & 0x2000, has_s = fv & 0x1000;
	uint8_t version = fv & 7;
	if (has_c || (version == 0 && (fv & 0x4000))) { /* checksum (and routing offset, RFC 1701) */
		pk_be16(p, c, F_GRE_CHECKSUM);
		cur_skip(c, 2);
	}
	if (has_k) {
		if (version == 1) {
			cur_skip(c, 2);
			pk_be16(p, c, F_GRE_KEY_CALL_ID);
		} else {
			pk_be32(p, c, F_GRE_KEY);
		}
	}
	if (has_s) pk_be32(p, c, F_GRE_SEQUENCE_NUMBER);
	if (version == 1 && (fv & 0x0080)) pk_be32(p, c, F_GRE_ACK_NUMBER);
	if (c->err) {
		pk_broken(p, "gre", "GRE header cut short");
		return;
	}
	pk_proto_end(p, slot, c);
	struct sbuf *sb = pk_col(p, "GRE");
	if (sb) {
		sb_puts(sb, "Encapsulated ");
		sb_puts(sb, vn_name(vn_ethertype, proto, "0x"));
		if (!vn_lookup(vn_ethertype, proto)) sb_hex(sb, proto, 4);
	}
	switch (proto) {
	case 0x6558: dissect_eth(p, c); break;          /* transparent Ethernet bridging */
	case 0x88be: case 0x22eb: dissect_erspan(p, c, proto, has_s); break;
	case 0x880b: dissect_ppp(p, c); break;          /* PPTP */
	case 0x8909: dissect_cmd_gre(p, c); break;
	case 0x0000: break;                             /* keepalive */
	default: dissect_ethertype(p, proto, c); break;
	}
}
