/* dissect/eth.c — Ethernet II and IEEE 802.3 frames (IEEE 802.3 §3.2): a type field of
 * 1536 or more is an EtherType, 1500 or less is the length of an 802.2 LLC payload.
 * Bytes after the payload the upper layer claimed are padding (all zero) or trailer. */
#include "dissect/decoders.h"

static bool all_zero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i]) return false;
	return true;
}

void dissect_eth(struct packet *p, struct cur *c)
{
	int slot = pk_proto(p, F_ETH, c);
	uint32_t off = cur_off(c);
	const uint8_t *dst = pk_ether(p, c, F_ETH_DST);
	if (dst) {
		pk_bool(p, F_ETH_DST_LG, dst[0] & 2, off, 3);
		pk_bool(p, F_ETH_DST_IG, dst[0] & 1, off, 3);
	}
	const uint8_t *src = pk_ether(p, c, F_ETH_SRC);
	if (src) {
		pk_bool(p, F_ETH_SRC_LG, src[0] & 2, off + 6, 3);
		pk_bool(p, F_ETH_SRC_IG, src[0] & 1, off + 6, 3);
	}
	uint32_t toff = cur_off(c);
	uint16_t type = cur_be16(c);
	if (c->err) {
		pk_broken(p, "eth", "Ethernet header cut short");
		return;
	}
	pk_set_dl(p, src, dst);
	struct sbuf *sb = pk_col(p, "Ethernet");
	if (sb) sb_puts(sb, "Ethernet II");

	if (type <= 1500) {
		/* IEEE 802.3 length; the LLC payload is exactly that long. */
		pk_uint(p, F_ETH_LEN, type, toff, 2);
		pk_proto_end(p, slot, c);
		struct cur payload = cur_sub(c, type);
		if (payload.err) pk_broken(p, "eth", "802.3 length exceeds frame");
		dissect_llc(p, &payload);
	} else {
		pk_uint(p, F_ETH_TYPE, type, toff, 2);
		pk_proto_end(p, slot, c);
		dissect_ethertype(p, type, c);
	}
	/* What the upper layer did not claim: padding to the 60-byte minimum, or a trailer. */
	size_t rest = cur_left(c);
	if (rest) {
		uint32_t poff = cur_off(c);
		const uint8_t *b = cur_bytes(c, rest);
		if (all_zero(b, rest)) pk_bytes(p, F_ETH_PADDING, b, (uint32_t)rest, poff);
		else pk_bytes(p, F_ETH_TRAILER, b, (uint32_t)rest, poff);
	}
}
