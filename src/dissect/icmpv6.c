/* dissect/icmpv6.c — ICMPv6 (RFC 4443) with Neighbor Discovery (RFC 4861: RS, RA, NS, NA,
 * Redirect and their options), MLDv1 (RFC 2710) and MLDv2 (RFC 3810), and the quoted
 * packet in error messages. */
#include "dissect/decoders.h"

/* Caps so a crafted report cannot make us record millions of addresses. */
#define MLD_MAX_RECORDS 256
#define MLD_MAX_SOURCES 256

/* ND options, RFC 4861 §4.6: type, length in units of 8 bytes (0 is invalid). Returns the
 * source/target link-layer address if one was present, for Info. */
static const uint8_t *nd_options(struct packet *p, struct cur *c)
{
	const uint8_t *lladdr = NULL;
	while (cur_left(c)) {
		int slot = pk_tree(p, F_ICMPV6_OPT, c);
		uint32_t off = cur_off(c);
		uint8_t type = pk_u8(p, c, F_ICMPV6_OPT_TYPE);
		uint8_t len = pk_u8(p, c, F_ICMPV6_OPT_LENGTH);
		if (c->err || len == 0) {
			pk_broken(p, "icmpv6", "Invalid ND option length");
			return lladdr;
		}
		struct cur body = cur_sub(c, (size_t)len * 8 - 2);
		if (body.err) {
			pk_broken(p, "icmpv6", "ND option length exceeds packet");
			return lladdr;
		}
		switch (type) {
		case 1: case 2:
			if (len == 1) {
				const uint8_t *mac = pk_ether(p, &body, type == 1 ? F_ICMPV6_OPT_SRC_LINKADDR
									     : F_ICMPV6_OPT_TARGET_LINKADDR);
				if (mac) pk_addr(p, F_ICMPV6_OPT_LINKADDR, mac, off + 2);
				lladdr = mac;
			}
			break;
		case 3:
			pk_u8(p, &body, F_ICMPV6_OPT_PREFIX_LENGTH);
			cur_skip(&body, 1);
			pk_be32(p, &body, F_ICMPV6_OPT_PREFIX_VALID_LIFETIME);
			pk_be32(p, &body, F_ICMPV6_OPT_PREFIX_PREFERRED_LIFETIME);
			cur_skip(&body, 4);
			pk_ipv6(p, &body, F_ICMPV6_OPT_PREFIX);
			break;
		case 4: /* Redirected Header: 6 reserved bytes, then the invoking packet */
			cur_skip(&body, 6);
			pk_proto_end(p, slot, c);
			dissect_quoted(p, &body, 0x86dd);
			continue;
		case 5:
			cur_skip(&body, 2);
			pk_be32(p, &body, F_ICMPV6_OPT_MTU);
			break;
		default:
			pk_bytes(p, F_ICMPV6_OPT_DATA, body.pos, (uint32_t)cur_left(&body), cur_off(&body));
			break;
		}
		pk_proto_end(p, slot, c);
	}
	return lladdr;
}

static void info_from(struct sbuf *sb, const uint8_t *mac)
{
	if (!sb || !mac) return;
	sb_puts(sb, " from ");
	sb_mac(sb, mac);
}

static void mldv2_report(struct packet *p, struct cur *c)
{
	cur_skip(c, 2);
	uint16_t n = pk_be16(p, c, F_ICMPV6_MLDR_NB_MCAST_RECORDS);
	for (uint16_t i = 0; i < n && i < MLD_MAX_RECORDS && !c->err; i++) {
		pk_u8(p, c, F_ICMPV6_MLDR_MAR_RECORD_TYPE);
		uint8_t aux = pk_u8(p, c, F_ICMPV6_MLDR_MAR_AUX_DATA_LEN);
		uint16_t ns = pk_be16(p, c, F_ICMPV6_MLDR_MAR_NB_SOURCES);
		pk_ipv6(p, c, F_ICMPV6_MLDR_MAR_MULTICAST_ADDRESS);
		for (uint16_t s = 0; s < ns && !c->err; s++) {
			if (s < MLD_MAX_SOURCES) pk_ipv6(p, c, F_ICMPV6_MLDR_MAR_SOURCE_ADDRESS);
			else cur_skip(c, 16);
		}
		cur_skip(c, (size_t)aux * 4);
	}
}

static void mld_query_or_report(struct packet *p, struct cur *c, uint8_t type)
{
	pk_be16(p, c, F_ICMPV6_MLD_MAXIMUM_RESPONSE_DELAY);
	cur_skip(c, 2);
	pk_ipv6(p, c, F_ICMPV6_MLD_MULTICAST_ADDRESS);
	if (type == 130 && cur_left(c) >= 4) { /* MLDv2 query, RFC 3810 §5.1 */
		cur_skip(c, 2);
		uint16_t ns = pk_be16(p, c, F_ICMPV6_MLD_NB_SOURCES);
		for (uint16_t s = 0; s < ns && s < MLD_MAX_SOURCES && !c->err; s++)
			pk_ipv6(p, c, F_ICMPV6_MLD_SOURCE_ADDRESS);
	}
}

static const struct val_name *code_names(uint8_t type)
{
	switch (type) {
	case 1: return vn_icmpv6_unreach;
	case 3: return vn_icmpv6_timex;
	case 4: return vn_icmpv6_paramprob;
	default: return NULL;
	}
}

void dissect_icmpv6(struct packet *p, struct cur *c)
{
	int slot = pk_proto(p, F_ICMPV6, c);
	pk_col(p, "ICMPv6");
	uint8_t type = pk_u8(p, c, F_ICMPV6_TYPE);
	uint8_t code = pk_u8(p, c, F_ICMPV6_CODE);
	pk_be16(p, c, F_ICMPV6_CHECKSUM);
	if (c->err) {
		pk_broken(p, "icmpv6", "ICMPv6 header cut short");
		return;
	}
	pk_track_other(p, 58, type, code);
	struct sbuf *sb = pk_col(p, "ICMPv6");
	if (sb) sb_puts(sb, vn_name(vn_icmpv6_type, type, "Unknown ICMPv6 type"));
	const uint8_t *mac = NULL;
	switch (type) {
	case 1: case 2: case 3: case 4: {
		uint32_t off = cur_off(c);
		uint32_t v = cur_be32(c);
		if (c->err) break;
		if (type == 2) pk_uint(p, F_ICMPV6_MTU, v, off, 4);
		if (type == 4) pk_uint(p, F_ICMPV6_POINTER, v, off, 4);
		const struct val_name *cn = code_names(type);
		if (sb && cn) {
			sb_puts(sb, " (");
			sb_puts(sb, vn_name(cn, code, "Unknown code"));
			sb_putc(sb, ')');
		}
		pk_proto_end(p, slot, c);
		dissect_quoted(p, c, 0x86dd);
		cur_skip(c, cur_left(c));
		return;
	}
	case 128: case 129: {
		uint16_t id = pk_be16(p, c, F_ICMPV6_ECHO_IDENTIFIER);
		uint16_t seq = pk_be16(p, c, F_ICMPV6_ECHO_SEQUENCE_NUMBER);
		if (c->err) break;
		uint64_t pair = pk_echo_pair(p, type == 129, id, seq, F_ICMPV6_RESP_IN, F_ICMPV6_RESP_TO);
		if (sb) {
			sb_puts(sb, " id=0x");
			sb_hex(sb, id, 4);
			sb_puts(sb, ", seq=");
			sb_u64(sb, seq);
			sb_puts(sb, ", hop limit=");
			sb_u64(sb, p->ip_ttl);
			echo_note(sb, p, type == 129, pair);
		}
		if (cur_left(c)) pk_bytes(p, F_ICMPV6_DATA, c->pos, (uint32_t)cur_left(c), cur_off(c));
		cur_skip(c, cur_left(c));
		break;
	}
	case 130: case 131: case 132:
		mld_query_or_report(p, c, type);
		break;
	case 143:
		mldv2_report(p, c);
		break;
	case 133:
		cur_skip(c, 4);
		if (c->err) break;
		mac = nd_options(p, c);
		info_from(sb, mac);
		break;
	case 134: {
		pk_u8(p, c, F_ICMPV6_ND_RA_CUR_HOP_LIMIT);
		pk_u8(p, c, F_ICMPV6_ND_RA_FLAG);
		pk_be16(p, c, F_ICMPV6_ND_RA_ROUTER_LIFETIME);
		pk_be32(p, c, F_ICMPV6_ND_RA_REACHABLE_TIME);
		pk_be32(p, c, F_ICMPV6_ND_RA_RETRANS_TIMER);
		if (c->err) break;
		mac = nd_options(p, c);
		info_from(sb, mac);
		break;
	}
	case 135: {
		cur_skip(c, 4);
		const uint8_t *target = pk_ipv6(p, c, F_ICMPV6_ND_NS_TARGET_ADDRESS);
		if (c->err) break;
		mac = nd_options(p, c);
		if (sb) {
			sb_puts(sb, " for ");
			sb_ipv6(sb, target);
		}
		info_from(sb, mac);
		break;
	}
	case 136: {
		uint32_t off = cur_off(c);
		uint32_t fl = cur_be32(c);
		const uint8_t *target = pk_ipv6(p, c, F_ICMPV6_ND_NA_TARGET_ADDRESS);
		if (c->err) break;
		pk_bool(p, F_ICMPV6_ND_NA_FLAG_R, fl & 0x80000000u, off, 4);
		pk_bool(p, F_ICMPV6_ND_NA_FLAG_S, fl & 0x40000000u, off, 4);
		pk_bool(p, F_ICMPV6_ND_NA_FLAG_O, fl & 0x20000000u, off, 4);
		mac = nd_options(p, c);
		if (sb) {
			sb_putc(sb, ' ');
			sb_ipv6(sb, target);
			const char *names[3] = { "rtr", "sol", "ovr" };
			bool first = true;
			for (int i = 0; i < 3; i++) {
				if (!(fl & (0x80000000u >> i))) continue;
				sb_puts(sb, first ? " (" : ", ");
				sb_puts(sb, names[i]);
				first = false;
			}
			if (!first) sb_putc(sb, ')');
			if (mac) {
				sb_puts(sb, " is at ");
				sb_mac(sb, mac);
			}
		}
		break;
	}
	case 137:
		cur_skip(c, 4);
		pk_ipv6(p, c, F_ICMPV6_ND_RD_TARGET_ADDRESS);
		pk_ipv6(p, c, F_ICMPV6_ND_RD_DESTINATION_ADDRESS);
		if (c->err) break;
		nd_options(p, c);
		break;
	default:
		if (cur_left(c)) pk_bytes(p, F_ICMPV6_DATA, c->pos, (uint32_t)cur_left(c), cur_off(c));
		cur_skip(c, cur_left(c));
		break;
	}
	if (c->err) pk_broken(p, "icmpv6", "ICMPv6 message cut short");
	pk_proto_end(p, slot, c);
}
