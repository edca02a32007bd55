/* dissect/gtp.c — GTP-U version 1 (3GPP TS 29.281 §5, UDP port 2152): G-PDU messages carry
 * an IPv4 or IPv6 packet after the header and any extension headers. */
#include "dissect/decoders.h"

#define GTP_MAX_EXT_HEADERS 16

void dissect_gtp(struct packet *p, struct cur *c)
{
	int slot = pk_proto(p, F_GTP, c);
	uint8_t flags = pk_u8(p, c, F_GTP_FLAGS);
	uint8_t type = pk_u8(p, c, F_GTP_MESSAGE);
	uint16_t len = pk_be16(p, c, F_GTP_LENGTH);
	pk_be32(p, c, F_GTP_TEID);
	if (c->err || (flags >> 5) != 1) {
		pk_broken(p, "gtp", c->err ? "GTP header cut short" : "not GTP version 1");
		return;
	}
	struct cur body = cur_sub(c, len);
	if (flags & 0x07) { /* E, S or PN: sequence, N-PDU number, next extension type */
		pk_be16(p, &body, F_GTP_SEQ_NUMBER);
		cur_skip(&body, 1);
		uint8_t next = cur_u8(&body);
		for (int i = 0; next && i < GTP_MAX_EXT_HEADERS && !body.err; i++) {
			uint8_t n = cur_u8(&body); /* length in 4-byte units, including itself */
			if (n == 0) {
				pk_broken(p, "gtp", "GTP extension header of length 0");
				return;
			}
			cur_skip(&body, (size_t)n * 4 - 2);
			next = cur_u8(&body);
		}
	}
	if (body.err && !cur_left(&body)) {
		pk_broken(p, "gtp", "GTP header cut short");
		return;
	}
	pk_proto_end(p, slot, &body);
	if (type != 0xff) { /* only G-PDUs carry user packets */
		pk_data(p, &body);
		return;
	}
	uint8_t nibble = cur_peek_u8(&body, 0) >> 4;
	if (nibble == 4) dissect_ethertype(p, 0x0800, &body);
	else if (nibble == 6) dissect_ethertype(p, 0x86dd, &body);
	else pk_data(p, &body);
}
