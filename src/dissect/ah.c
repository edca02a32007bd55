/* dissect/ah.c — IP Authentication Header (RFC 4302 §2) and the clear part of ESP
 * (RFC 4303 §2: SPI and sequence number; the rest is encrypted). */
#include "dissect/decoders.h"

void dissect_ah(struct packet *p, struct cur *c)
{
	int slot = pk_proto(p, F_AH, c);
	uint8_t nxt = pk_u8(p, c, F_AH_NEXT_HEADER);
	uint8_t len = pk_u8(p, c, F_AH_LENGTH);
	cur_skip(c, 2);
	pk_be32(p, c, F_AH_SPI);
	pk_be32(p, c, F_AH_SEQUENCE);
	if (c->err) {
		pk_broken(p, "ah", "AH header cut short");
		return;
	}
	/* Payload Len is the header length in 4-byte words minus 2 (§2.2). */
	size_t total = ((size_t)len + 2) * 4;
	if (total < 12) {
		pk_broken(p, "ah", "Bogus AH length");
		return;
	}
	uint32_t off = cur_off(c);
	const uint8_t *icv = cur_bytes(c, total - 12);
	if (!icv) {
		pk_broken(p, "ah", "AH length exceeds packet");
		return;
	}
	if (total > 12) pk_bytes(p, F_AH_ICV, icv, (uint32_t)(total - 12), off);
	pk_proto_end(p, slot, c);
	dissect_ipproto(p, nxt, c);
}

void dissect_esp(struct packet *p, struct cur *c)
{
	int slot = pk_proto(p, F_ESP, c);
	uint32_t spi = pk_be32(p, c, F_ESP_SPI);
	uint32_t seq = pk_be32(p, c, F_ESP_SEQUENCE);
	if (c->err) {
		pk_broken(p, "esp", "ESP header cut short");
		return;
	}
	pk_proto_end(p, slot, c);
	struct sbuf *sb = pk_col(p, "ESP");
	if (sb) {
		sb_puts(sb, "ESP (SPI=0x");
		sb_hex(sb, spi, 8);
		sb_puts(sb, ")");
	}
	(void)seq;
	cur_skip(c, cur_left(c));
}
