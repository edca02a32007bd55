/* dissect/vxlan.c — VXLAN (RFC 7348 §5, UDP port 4789): 8 bytes, then an Ethernet frame;
 * and VXLAN-GPE (draft-ietf-nvo3-vxlan-gpe §3.2, UDP port 4790) whose next-protocol byte
 * names IPv4, IPv6, Ethernet, NSH or MPLS. */
#include "dissect/decoders.h"

void dissect_vxlan(struct packet *p, struct cur *c)
{
	int slot = pk_proto(p, F_VXLAN, c);
	uint32_t off = cur_off(c);
	uint32_t w0 = cur_be32(c);
	uint32_t w1 = cur_be32(c);
	if (c->err) {
		pk_broken(p, "vxlan", "VXLAN header cut short");
		return;
	}
	pk_uint(p, F_VXLAN_FLAGS, w0 >> 16, off, 2);
	pk_uint(p, F_VXLAN_VNI, w1 >> 8, off + 4, 3);
	pk_proto_end(p, slot, c);
	dissect_eth(p, c);
}

void dissect_vxlan_gpe(struct packet *p, struct cur *c)
{
	int slot = pk_proto(p, F_VXLAN, c);
	uint32_t off = cur_off(c);
	uint32_t w0 = cur_be32(c);
	uint32_t w1 = cur_be32(c);
	if (c->err) {
		pk_broken(p, "vxlan", "VXLAN-GPE header cut short");
		return;
	}
	uint8_t next = w0 & 0xff;
	pk_uint(p, F_VXLAN_FLAGS, w0 >> 24, off, 1);
	pk_uint(p, F_VXLAN_NEXT_PROTO, next, off + 3, 1);
	pk_uint(p, F_VXLAN_VNI, w1 >> 8, off + 4, 3);
	pk_proto_end(p, slot, c);
	dissect_next_protocol(p, next, c);
}
