/* dissect/icmp.c — ICMP for IPv4 (RFC 792, RFC 1191 next-hop MTU, RFC 950 address mask):
 * type, code, echo identifiers and the quoted IP header + 8 bytes in error messages,
 * decoded as a nested packet that never touches the columns. */
#include "dissect/decoders.h"
#include "dissect/app.h"

static const struct val_name *code_names(uint8_t type)
{
	switch (type) {
	case 3: return vn_icmp_unreach;
	case 5: return vn_icmp_redirect;
	case 11: return vn_icmp_timex;
	case 12: return vn_icmp_paramprob;
	default: return NULL;
	}
}

/* Decodes the invoking packet an error message carries. */
void dissect_quoted(struct packet *p, struct cur *c, uint16_t ethertype)
{
	if (!cur_left(c)) return;
	uint16_t parent = p->cur_parent; /* the ICMP layer's fields go on after the quote */
	uint8_t ntrees = p->ntrees;
	p->nest++;
	dissect_ethertype(p, ethertype, c);
	p->nest--;
	p->cur_parent = parent;
	p->ntrees = ntrees;
}

/* tshark's note on an echo: the request a reply answers, and with two passes the reply
 * a request got (or that it got none). */
void echo_note(struct sbuf *sb, const struct packet *p, bool reply, uint64_t pair)
{
	if (pair) sb_printf(sb, reply ? " (request in %llu)" : " (reply in %llu)", (unsigned long long)pair);
	else if (!reply && p->links) sb_puts(sb, " (no response found!)");
}

void dissect_icmp(struct packet *p, struct cur *c)
{
	int slot = pk_proto(p, F_ICMP, c);
	pk_col(p, "ICMP");
	uint8_t type = pk_u8(p, c, F_ICMP_TYPE);
	uint8_t code = pk_u8(p, c, F_ICMP_CODE);
	pk_be16(p, c, F_ICMP_CHECKSUM);
	if (c->err) {
		pk_broken(p, "icmp", "ICMP header cut short");
		return;
	}
	pk_track_other(p, 1, type, code);
	struct sbuf *sb = pk_col(p, "ICMP");
	const char *tname = vn_name(vn_icmp_type, type, "Unknown ICMP type");
	switch (type) {
	case 0: case 8: case 13: case 14: case 15: case 16: case 17: case 18: {
		uint32_t off = cur_off(c);
		uint16_t id = pk_be16(p, c, F_ICMP_IDENT);
		uint16_t seq = cur_be16(c);
		if (c->err) break;
		pk_uint(p, F_ICMP_SEQ, seq, off + 2, 2);
		pk_uint(p, F_ICMP_SEQ_LE, __builtin_bswap16(seq), off + 2, 2);
		uint64_t pair = type == 0 || type == 8 ? pk_echo_pair(p, type == 0, id, seq, F_ICMP_RESP_IN, F_ICMP_RESP_TO) : 0;
		if (sb) {
			sb_puts(sb, tname);
			for (size_t n = __builtin_strlen(tname); n < 20; n++) sb_putc(sb, ' ');
			sb_puts(sb, " id=0x");
			sb_hex(sb, id, 4);
			sb_puts(sb, ", seq=");
			sb_u64(sb, seq);
			sb_putc(sb, '/');
			sb_u64(sb, __builtin_bswap16(seq));
			sb_puts(sb, ", ttl=");
			sb_u64(sb, p->ip_ttl);
			echo_note(sb, p, type == 0, pair);
		}
		if (cur_left(c)) pk_bytes(p, F_ICMP_DATA, c->pos, (uint32_t)cur_left(c), cur_off(c));
		pk_proto_end(p, slot, c);
		cur_skip(c, cur_left(c));
		return;
	}
	case 3: case 4: case 5: case 11: case 12: {
		uint32_t off = cur_off(c);
		const uint8_t *rest = cur_bytes(c, 4);
		if (!rest) break;
		if (type == 3 && code == 4) pk_uint(p, F_ICMP_MTU, (uint32_t)rest[2] << 8 | rest[3], off + 2, 2);
		if (type == 5) pk_addr(p, F_ICMP_REDIR_GW, rest, off);
		if (type == 12) pk_uint(p, F_ICMP_POINTER, rest[0], off, 1);
		if (sb) {
			sb_puts(sb, tname);
			const struct val_name *cn = code_names(type);
			if (cn) {
				sb_puts(sb, " (");
				sb_puts(sb, vn_name(cn, code, "Unknown code"));
				sb_putc(sb, ')');
			}
		}
		pk_proto_end(p, slot, c);
		dissect_quoted(p, c, 0x0800);
		cur_skip(c, cur_left(c));
		return;
	}
	default:
		if (sb) sb_puts(sb, tname);
		if (cur_left(c)) pk_bytes(p, F_ICMP_DATA, c->pos, (uint32_t)cur_left(c), cur_off(c));
		pk_proto_end(p, slot, c);
		cur_skip(c, cur_left(c));
		return;
	}
	pk_broken(p, "icmp", "ICMP message cut short");
}
