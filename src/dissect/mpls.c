/* dissect/mpls.c — MPLS label stack (RFC 3032 §2.1) and what follows the bottom label:
 * IPv4 or IPv6 by the version nibble, else an Ethernet pseudowire with its control word
 * (RFC 4448 §3), as Wireshark guesses. */
#include "dissect/decoders.h"

#define MPLS_MAX_LABELS 16 /* deeper stacks do not occur; a crafted one stops here */

void dissect_mpls(struct packet *p, struct cur *c)
{
	int slot = pk_proto(p, F_MPLS, c);
	bool bottom = false;
	for (int i = 0; i < MPLS_MAX_LABELS && !bottom; i++) {
		uint32_t off = cur_off(c);
		uint32_t e = cur_be32(c);
		if (c->err) {
			pk_broken(p, "mpls", "MPLS label stack cut short");
			return;
		}
		bottom = e & 0x100;
		pk_uint(p, F_MPLS_LABEL, e >> 12, off, 3);
		pk_uint(p, F_MPLS_EXP, (e >> 9) & 7, off + 2, 1);
		pk_uint(p, F_MPLS_BOTTOM, bottom, off + 2, 1);
		pk_uint(p, F_MPLS_TTL, e & 0xff, off + 3, 1);
	}
	pk_proto_end(p, slot, c);
	if (!bottom) {
		pk_broken(p, "mpls", "MPLS label stack too deep");
		pk_data(p, c);
		return;
	}
	uint8_t nibble = cur_peek_u8(c, 0) >> 4;
	if (nibble == 4) dissect_ethertype(p, 0x0800, c);
	else if (nibble == 6) dissect_ethertype(p, 0x86dd, c);
	else if (nibble == 0 && cur_left(c) >= 4 + 14) {
		pk_be32(p, c, F_MPLS_CW);
		dissect_eth(p, c);
	} else pk_data(p, c);
}
