/* dissect/sctp.c — SCTP common header and chunk list (RFC 9260 §3.1, §3.2): ports, the
 * verification tag, and each chunk's type and length. Chunk contents are not decoded. */
#include "dissect/decoders.h"

#define SCTP_MAX_CHUNKS 128 /* a packet of 4-byte chunks cannot make more work than this */

void dissect_sctp(struct packet *p, struct cur *c)
{
	int slot = pk_proto(p, F_SCTP, c);
	pk_col(p, "SCTP");
	uint16_t sport = pk_be16(p, c, F_SCTP_SRCPORT);
	uint16_t dport = pk_be16(p, c, F_SCTP_DSTPORT);
	pk_be32(p, c, F_SCTP_VERIFICATION_TAG);
	pk_be32(p, c, F_SCTP_CHECKSUM);
	if (c->err) {
		pk_broken(p, "sctp", "SCTP common header cut short");
		return;
	}
	pk_track_other(p, 132, sport, dport);
	struct sbuf *sb = pk_col(p, "SCTP");
	if (sb) {
		sb_u64(sb, sport);
		sb_puts(sb, " \xe2\x86\x92 ");
		sb_u64(sb, dport);
	}
	/* Chunks: type, flags, length (which includes the 4-byte header), padded to 4 bytes. */
	for (int i = 0; i < SCTP_MAX_CHUNKS && cur_left(c) >= 4; i++) {
		uint32_t off = cur_off(c);
		uint8_t type = cur_u8(c);
		cur_skip(c, 1);
		uint16_t len = cur_be16(c);
		pk_uint(p, F_SCTP_CHUNK_TYPE, type, off, 1);
		pk_uint(p, F_SCTP_CHUNK_LENGTH, len, off + 2, 2);
		if (sb) {
			sb_puts(sb, i ? " " : " ");
			sb_puts(sb, vn_name(vn_sctp_chunk, type, "UNKNOWN"));
		}
		if (len < 4) {
			pk_broken(p, "sctp", "SCTP chunk length below 4");
			return;
		}
		size_t body = (size_t)len - 4 + (size_t)((4 - len % 4) % 4);
		if (body > cur_left(c)) body = cur_left(c); /* the last chunk may omit its padding */
		cur_skip(c, body);
	}
	pk_proto_end(p, slot, c);
	cur_skip(c, cur_left(c));
}
