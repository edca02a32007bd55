/* dissect/teredo.c — Teredo (RFC 4380 §5.1.1, UDP port 3544): optional authentication and
 * origin indication headers, then an IPv6 packet. Anything else on the port stays UDP. */
#include "dissect/decoders.h"

bool dissect_teredo(struct packet *p, struct cur *c)
{
	struct cur t = *c;
	if (cur_peek_be16(&t, 0) == 0x0001) { /* authentication header */
		cur_skip(&t, 2);
		uint8_t id_len = cur_u8(&t), au_len = cur_u8(&t);
		cur_skip(&t, (size_t)id_len + au_len + 9);
	}
	bool origin = cur_peek_be16(&t, 0) == 0x0000 && cur_left(&t) >= 8;
	struct cur o = t;
	if (origin) cur_skip(&t, 8);
	if (t.err || cur_left(&t) < 40 || (cur_peek_u8(&t, 0) >> 4) != 6) return false;
	int slot = pk_proto(p, F_TEREDO, c);
	if (origin) {
		cur_skip(&o, 2);
		uint32_t off = cur_off(&o);
		uint16_t port = cur_be16(&o);
		const uint8_t *a = cur_bytes(&o, 4);
		/* RFC 4380 §5.1.1: the port and address are sent inverted ("obfuscated"). */
		uint8_t addr[4] = { (uint8_t)~a[0], (uint8_t)~a[1], (uint8_t)~a[2], (uint8_t)~a[3] };
		pk_uint(p, F_TEREDO_ORIG_PORT, (uint16_t)~port, off, 2);
		pk_addr(p, F_TEREDO_ORIG_ADDR, addr, off + 2);
	}
	*c = t;
	pk_proto_end(p, slot, c);
	dissect_ethertype(p, 0x86dd, c);
	return true;
}
