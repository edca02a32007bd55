/* dissect/nsh.c — Network Service Header (RFC 8300 §2): base header, service path header,
 * context headers (length in 4-byte words), then the next protocol (§2.2 values, shared
 * with VXLAN-GPE); and Cisco MetaData (EtherType 0x8909): version, length, option, SGT,
 * then an EtherType. */
#include "dissect/decoders.h"

void dissect_next_protocol(struct packet *p, uint8_t next, struct cur *c)
{
	switch (next) {
	case 1: dissect_ethertype(p, 0x0800, c); break;
	case 2: dissect_ethertype(p, 0x86dd, c); break;
	case 3: dissect_eth(p, c); break;
	case 4: dissect_ethertype(p, 0x894f, c); break;
	case 5: dissect_ethertype(p, 0x8847, c); break;
	default: pk_data(p, c); break;
	}
}

void dissect_nsh(struct packet *p, struct cur *c)
{
	int slot = pk_proto(p, F_NSH, c);
	uint32_t off = cur_off(c);
	uint16_t w = cur_be16(c);
	uint8_t md = cur_u8(c);
	uint8_t next = cur_u8(c);
	uint32_t sp = cur_be32(c);
	if (c->err) {
		pk_broken(p, "nsh", "NSH header cut short");
		return;
	}
	size_t len = (size_t)(w & 0x3f) * 4;
	pk_uint(p, F_NSH_VERSION, w >> 14, off, 1);
	pk_uint(p, F_NSH_TTL, (w >> 6) & 0x3f, off, 2);
	pk_uint(p, F_NSH_LENGTH, w & 0x3f, off + 1, 1);
	pk_uint(p, F_NSH_MDTYPE, md & 0x0f, off + 2, 1);
	pk_uint(p, F_NSH_NEXTPROTO, next, off + 3, 1);
	pk_uint(p, F_NSH_SPI, sp >> 8, off + 4, 3);
	pk_uint(p, F_NSH_SI, sp & 0xff, off + 7, 1);
	if (len < 8 || !cur_skip(c, len - 8)) {
		pk_broken(p, "nsh", "NSH length is bad");
		return;
	}
	pk_proto_end(p, slot, c);
	dissect_next_protocol(p, next, c);
}

/* After an EtherType the EtherType of the payload comes last; inside GRE it comes first. */
static void cmd_common(struct packet *p, struct cur *c, bool type_first)
{
	int slot = pk_proto(p, F_CMD, c);
	uint16_t type = type_first ? pk_be16(p, c, F_CMD_TYPE) : 0;
	pk_u8(p, c, F_CMD_VERSION);
	pk_u8(p, c, F_CMD_LENGTH);
	cur_skip(c, 2);
	pk_be16(p, c, F_CMD_SGT);
	if (!type_first) type = pk_be16(p, c, F_CMD_TYPE);
	if (c->err) {
		pk_broken(p, "cmd", "Cisco MetaData header cut short");
		return;
	}
	pk_proto_end(p, slot, c);
	dissect_ethertype(p, type, c);
}

void dissect_cmd(struct packet *p, struct cur *c) { cmd_common(p, c, false); }
void dissect_cmd_gre(struct packet *p, struct cur *c) { cmd_common(p, c, true); }
