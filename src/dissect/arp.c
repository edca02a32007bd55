/* dissect/arp.c — ARP (RFC 826) and RARP (RFC 903): variable hardware and protocol
 * address sizes, with MAC/IPv4 typed fields for the Ethernet/IPv4 case. */
#include "dissect/decoders.h"

#include <string.h>

static void arp_address(struct packet *p, struct cur *c, size_t n, bool typed,
			enum field_id typed_id, enum field_id bytes_id, const uint8_t **out)
{
	uint32_t off = cur_off(c);
	const uint8_t *a = cur_bytes(c, n);
	*out = a;
	if (!a) return;
	if (typed) pk_addr(p, typed_id, a, off);
	else if (n) pk_bytes(p, bytes_id, a, (uint32_t)n, off);
}

static void arp_info(struct sbuf *sb, uint16_t op, const uint8_t *sha, const uint8_t *spa,
		     const uint8_t *tpa, bool ether_ip)
{
	if (!ether_ip) {
		sb_puts(sb, vn_name(vn_arp_opcode, op, "Unknown ARP opcode"));
		return;
	}
	static const uint8_t zero4[4];
	switch (op) {
	case 1:
		if (!memcmp(spa, tpa, 4)) {
			sb_puts(sb, "Gratuitous ARP for ");
			sb_ipv4(sb, spa);
			sb_puts(sb, " (Request)");
			return;
		}
		sb_puts(sb, "Who has ");
		sb_ipv4(sb, tpa);
		sb_putc(sb, '?');
		if (!memcmp(spa, zero4, 4)) {
			sb_puts(sb, " (ARP Probe)");
			return;
		}
		sb_puts(sb, " Tell ");
		sb_ipv4(sb, spa);
		return;
	case 2:
		if (!memcmp(spa, tpa, 4)) {
			sb_puts(sb, "Gratuitous ARP for ");
			sb_ipv4(sb, spa);
			sb_puts(sb, " (Reply)");
			return;
		}
		sb_ipv4(sb, spa);
		sb_puts(sb, " is at ");
		sb_mac(sb, sha);
		return;
	case 3:
		sb_puts(sb, "Who is ");
		sb_mac(sb, sha);
		sb_puts(sb, "? Tell ");
		sb_mac(sb, sha);
		return;
	case 4:
		sb_mac(sb, sha);
		sb_puts(sb, " is at ");
		sb_ipv4(sb, tpa);
		return;
	default:
		sb_puts(sb, vn_name(vn_arp_opcode, op, "Unknown ARP opcode"));
	}
}

void dissect_arp(struct packet *p, struct cur *c)
{
	int slot = pk_proto(p, F_ARP, c);
	pk_col(p, "ARP");
	uint16_t htype = pk_be16(p, c, F_ARP_HW_TYPE);
	uint16_t ptype = pk_be16(p, c, F_ARP_PROTO_TYPE);
	uint8_t hlen = pk_u8(p, c, F_ARP_HW_SIZE);
	uint8_t plen = pk_u8(p, c, F_ARP_PROTO_SIZE);
	uint16_t op = pk_be16(p, c, F_ARP_OPCODE);
	bool mac = hlen == 6 && (htype == 1 || htype == 6);
	bool ip4 = plen == 4 && ptype == 0x0800;
	const uint8_t *sha, *spa, *tha, *tpa;
	arp_address(p, c, hlen, mac, F_ARP_SRC_HW_MAC, F_ARP_SRC_HW, &sha);
	arp_address(p, c, plen, ip4, F_ARP_SRC_PROTO_IPV4, F_ARP_SRC_PROTO, &spa);
	arp_address(p, c, hlen, mac, F_ARP_DST_HW_MAC, F_ARP_DST_HW, &tha);
	arp_address(p, c, plen, ip4, F_ARP_DST_PROTO_IPV4, F_ARP_DST_PROTO, &tpa);
	pk_proto_end(p, slot, c);
	if (c->err) {
		pk_broken(p, "arp", "ARP packet cut short");
		return;
	}
	if (ip4) pk_bool(p, F_ARP_ISGRATUITOUS, !memcmp(spa, tpa, 4), 0, 0);
	struct sbuf *sb = pk_col(p, op == 3 || op == 4 ? "RARP" : "ARP");
	if (sb) arp_info(sb, op, sha, spa, tpa, mac && ip4);
	(void)tha;
}
