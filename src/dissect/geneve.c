/* dissect/geneve.c — Geneve (RFC 8926 §3.4, UDP port 6081): 8 bytes plus options, then an
 * Ethernet frame (protocol 0x6558) or whatever the EtherType names. */
#include "dissect/decoders.h"

void dissect_geneve(struct packet *p, struct cur *c)
{
	int slot = pk_proto(p, F_GENEVE, c);
	uint32_t off = cur_off(c);
	uint8_t vo = cur_u8(c);
	cur_skip(c, 1);
	uint16_t proto = pk_be16(p, c, F_GENEVE_PROTO_TYPE);
	uint32_t vni = cur_be24(c);
	cur_skip(c, 1);
	if (c->err) {
		pk_broken(p, "geneve", "Geneve header cut short");
		return;
	}
	pk_uint(p, F_GENEVE_VERSION, vo >> 6, off, 1);
	pk_uint(p, F_GENEVE_OPTIONS_LENGTH, (vo & 0x3f) * 4u, off, 1);
	pk_uint(p, F_GENEVE_VNI, vni, off + 4, 3);
	if (!cur_skip(c, (size_t)(vo & 0x3f) * 4)) {
		pk_broken(p, "geneve", "Geneve options exceed packet");
		return;
	}
	pk_proto_end(p, slot, c);
	if (proto == 0x6558) dissect_eth(p, c);
	else dissect_ethertype(p, proto, c);
}
