/* dissect/link.c — link-layer headers with no protocol of their own: BSD loopback
 * (DLT_NULL, DLT_LOOP), Linux cooked capture v1 and v2 (the `any` device) and raw IP.
 * Formats: https://www.tcpdump.org/linktypes.html (LINKTYPE_NULL, _LOOP, _LINUX_SLL,
 * _LINUX_SLL2, _RAW, _IPV4, _IPV6). */
#include "dissect/decoders.h"

/* BSD address family to EtherType: AF_INET is 2 everywhere; AF_INET6 differs per OS. */
static uint16_t bsd_af_ethertype(uint32_t af)
{
	switch (af) {
	case 2: return 0x0800;
	case 24: case 28: case 30: return 0x86dd;
	default: return 0;
	}
}

static void null_common(struct packet *p, struct cur *c, bool always_be)
{
	int slot = pk_proto(p, F_NULL, c);
	uint32_t off = cur_off(c);
	uint32_t af;
	if (always_be) {
		af = cur_be32(c);
	} else {
		/* DLT_NULL is in the capturing host's byte order: a family fits in 16 bits, so
		 * a value with only high bits set was written by the other endianness. */
		af = cur_le32(c);
		if (af > 0xffff) af = __builtin_bswap32(af);
	}
	if (c->err) {
		pk_broken(p, "null", "loopback header cut short");
		return;
	}
	pk_uint(p, F_NULL_FAMILY, af, off, 4);
	pk_proto_end(p, slot, c);
	uint16_t et = bsd_af_ethertype(af);
	if (et) dissect_ethertype(p, et, c);
	else pk_data(p, c);
}

void dissect_null(struct packet *p, struct cur *c) { null_common(p, c, false); }
void dissect_loop(struct packet *p, struct cur *c) { null_common(p, c, true); }

/* Linux ARPHRD_* values whose address is a 6-byte MAC. */
static bool hatype_is_mac(uint16_t hatype) { return hatype == 1 || hatype == 772 || hatype == 6; }

/* The SLL protocol field: an EtherType, or for small values a Linux ETH_P_* pseudo type. */
static void sll_payload(struct packet *p, struct cur *c, uint16_t proto, uint32_t proto_off)
{
	if (proto <= 1500) {
		pk_uint(p, F_SLL_LTYPE, proto, proto_off, 2);
		if (proto == 0x0004) dissect_llc(p, c); /* ETH_P_802_2 */
		else pk_data(p, c);
	} else {
		pk_uint(p, F_SLL_ETYPE, proto, proto_off, 2);
		dissect_ethertype(p, proto, c);
	}
}

static void sll_address(struct packet *p, struct cur *c, uint16_t hatype, uint16_t halen)
{
	uint32_t off = cur_off(c);
	const uint8_t *a = cur_bytes(c, 8);
	if (!a) return;
	if (halen == 6 && hatype_is_mac(hatype)) {
		pk_addr(p, F_SLL_SRC_ETH, a, off);
		pk_set_dl(p, a, NULL);
	} else if (halen > 0) {
		pk_bytes(p, F_SLL_SRC_OTHER, a, halen > 8 ? 8 : halen, off);
	}
}

void dissect_sll(struct packet *p, struct cur *c)
{
	int slot = pk_proto(p, F_SLL, c);
	pk_be16(p, c, F_SLL_PKTTYPE);
	uint16_t hatype = pk_be16(p, c, F_SLL_HATYPE);
	uint16_t halen = pk_be16(p, c, F_SLL_HALEN);
	sll_address(p, c, hatype, halen);
	uint32_t proto_off = cur_off(c);
	uint16_t proto = cur_be16(c);
	if (c->err) {
		pk_broken(p, "sll", "cooked header cut short");
		return;
	}
	pk_proto_end(p, slot, c);
	sll_payload(p, c, proto, proto_off);
}

void dissect_sll2(struct packet *p, struct cur *c)
{
	int slot = pk_proto(p, F_SLL, c);
	uint32_t proto_off = cur_off(c);
	uint16_t proto = cur_be16(c);
	cur_skip(c, 2); /* reserved */
	pk_be32(p, c, F_SLL_IFINDEX);
	uint16_t hatype = pk_be16(p, c, F_SLL_HATYPE);
	pk_u8(p, c, F_SLL_PKTTYPE);
	uint16_t halen = pk_u8(p, c, F_SLL_HALEN);
	sll_address(p, c, hatype, halen);
	if (c->err) {
		pk_broken(p, "sll", "cooked v2 header cut short");
		return;
	}
	pk_proto_end(p, slot, c);
	sll_payload(p, c, proto, proto_off);
}

/* Raw IP: the version nibble says which. */
void dissect_raw(struct packet *p, struct cur *c)
{
	pk_proto(p, F_RAW, c);
	uint8_t v = cur_peek_u8(c, 0) >> 4;
	if (v == 4) dissect_ethertype(p, 0x0800, c);
	else if (v == 6) dissect_ethertype(p, 0x86dd, c);
	else pk_data(p, c);
}

/* LINKTYPE_IPV4 and LINKTYPE_IPV6 promise a version. Wireshark's IPv4 decoder hands a
 * version-6 header to IPv6 (ipv4.c does the same); IPv6 does not hand back. */
void dissect_raw4(struct packet *p, struct cur *c)
{
	pk_proto(p, F_RAW, c);
	dissect_ethertype(p, 0x0800, c);
}

void dissect_raw6(struct packet *p, struct cur *c)
{
	pk_proto(p, F_RAW, c);
	dissect_ethertype(p, 0x86dd, c);
}

/* Solaris ipnet (LINKTYPE_IPNET): a 24-byte header whose family says IPv4 (2) or IPv6 (26). */
void dissect_ipnet(struct packet *p, struct cur *c)
{
	int slot = pk_proto(p, F_IPNET, c);
	cur_skip(c, 1);
	uint8_t family = pk_u8(p, c, F_IPNET_FAMILY);
	cur_skip(c, 22);
	if (c->err) {
		pk_broken(p, "ipnet", "ipnet header cut short");
		return;
	}
	pk_proto_end(p, slot, c);
	if (family == 2) dissect_ethertype(p, 0x0800, c);
	else if (family == 26) dissect_ethertype(p, 0x86dd, c);
	else pk_data(p, c);
}

/* Apple PKTAP (LINKTYPE_PKTAP): a little-endian header — its own length, the next type,
 * the inner DLT, the interface name (24 bytes) and process details — then the frame. */
void dissect_pktap(struct packet *p, struct cur *c)
{
	int slot = pk_proto(p, F_PKTAP, c);
	uint32_t off = cur_off(c);
	struct cur peek = *c;
	uint32_t hdrlen = cur_le32(&peek);
	cur_skip(&peek, 4);
	uint32_t dlt = cur_le32(&peek);
	if (peek.err || hdrlen < 12 || !cur_has(c, hdrlen)) {
		pk_broken(p, "pktap", "PKTAP header cut short");
		return;
	}
	struct cur h = cur_sub(c, hdrlen);
	pk_uint(p, F_PKTAP_HDRLEN, hdrlen, off, 4);
	pk_uint(p, F_PKTAP_DLT, dlt, off + 8, 4);
	cur_skip(&h, 12);
	if (cur_left(&h) >= 24) {
		size_t n = 0;
		while (n < 24 && h.pos[n]) n++;
		pk_string(p, F_PKTAP_IFNAME, (const char *)h.pos, n, off + 12, 24);
	}
	pk_proto_end(p, slot, c);
	if (dlt == LT_PKTAP) pk_data(p, c); /* no PKTAP inside PKTAP */
	else dissect_linktype(p, (int)dlt, c);
}

/* FDDI (LINKTYPE_FDDI): frame control, destination, source, then 802.2 LLC. */
void dissect_fddi(struct packet *p, struct cur *c)
{
	int slot = pk_proto(p, F_FDDI, c);
	pk_u8(p, c, F_FDDI_FC);
	const uint8_t *dst = pk_ether(p, c, F_FDDI_DST);
	const uint8_t *src = pk_ether(p, c, F_FDDI_SRC);
	if (c->err) {
		pk_broken(p, "fddi", "FDDI header cut short");
		return;
	}
	pk_set_dl(p, src, dst);
	pk_proto_end(p, slot, c);
	dissect_llc(p, c);
}
