/* dissect/dispatch.c — the dispatch tables: link type, EtherType and IP protocol to the
 * decoder that handles it. Adding a protocol is one line here plus its file. */
#include "dissect/decoders.h"
#include "dissect/app.h"


struct dispatch_entry {
	uint32_t key;
	dissect_fn fn;
};

static const struct dispatch_entry linktypes[] = {
	{ LT_NULL, dissect_null },
	{ LT_ETHERNET, dissect_eth },
	{ LT_RAW_DLT12, dissect_raw },
	{ LT_RAW_DLT14, dissect_raw },
	{ LT_RAW, dissect_raw },
	{ LT_LOOP, dissect_loop },
	{ LT_LINUX_SLL, dissect_sll },
	{ LT_IPV4, dissect_raw4 },
	{ LT_IPV6, dissect_raw6 },
	{ LT_LINUX_SLL2, dissect_sll2 },
	{ LT_PPP, dissect_ppp },
	{ LT_PPP_HDLC, dissect_ppp },
	{ LT_C_HDLC, dissect_chdlc },
	{ LT_IEEE802_11, dissect_wlan },
	{ LT_IEEE802_11_RADIOTAP, dissect_radiotap },
	{ LT_PPI, dissect_ppi },
	{ LT_IPNET, dissect_ipnet },
	{ LT_NFLOG, dissect_nflog },
	{ LT_PKTAP, dissect_pktap },
	{ LT_FDDI, dissect_fddi },
};

static const struct dispatch_entry ethertypes[] = {
	{ 0x0800, dissect_ipv4 },
	{ 0x0806, dissect_arp },
	{ 0x8035, dissect_arp }, /* RARP shares ARP's format (RFC 903) */
	{ 0x8100, dissect_vlan },
	{ 0x86dd, dissect_ipv6 },
	{ 0x88a8, dissect_ieee8021ad },
	{ 0x9100, dissect_vlan }, /* pre-802.1ad QinQ outer tag */
	{ 0x8847, dissect_mpls },
	{ 0x8848, dissect_mpls },
	{ 0x8864, dissect_pppoes },
	{ 0x880b, dissect_ppp },
	{ 0x8926, dissect_vntag },
	{ 0x6558, dissect_eth },  /* transparent Ethernet bridging */
	{ 0x8909, dissect_cmd },
	{ 0x894f, dissect_nsh },
};

static const struct dispatch_entry ipprotos[] = {
	{ 0, dissect_ipv6_hopopts },
	{ 1, dissect_icmp },
	{ 4, dissect_ipv4 },
	{ 6, dissect_tcp },
	{ 17, dissect_udp },
	{ 41, dissect_ipv6 },
	{ 47, dissect_gre },
	{ 43, dissect_ipv6_routing },
	{ 44, dissect_ipv6_fraghdr },
	{ 50, dissect_esp },
	{ 51, dissect_ah },
	{ 58, dissect_icmpv6 },
	{ 60, dissect_ipv6_dstopts },
	{ 132, dissect_sctp },
	{ 137, dissect_mpls },
};

/* UDP ports of the tunnels we open (IANA registrations). */
static const struct dispatch_entry udpports[] = {
	{ 53, dissect_dns },
	{ 5353, dissect_dns },
	{ 5355, dissect_dns },
	{ 1900, dissect_ssdp },
	{ 2152, dissect_gtp },
	{ 4789, dissect_vxlan },
	{ 4790, dissect_vxlan_gpe },
	{ 6081, dissect_geneve },
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static dissect_fn lookup(const struct dispatch_entry *t, size_t n, uint32_t key)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].key == key) return t[i].fn;
	return NULL;
}

/* Runs fn on c unless the packet is already nested too deep (a crafted stack of VLAN tags
 * or IP-in-IP headers), in which case the rest is data and the packet is marked. */
static void run(struct packet *p, dissect_fn fn, struct cur *c)
{
	if (!fn) {
		pk_data(p, c);
		return;
	}
	if (p->depth >= PKT_MAX_DEPTH) {
		pk_broken(p, "frame", "too many nested protocol layers");
		pk_data(p, c);
		return;
	}
	bool was_broken = p->malformed || p->short_frame;
	p->depth++;
	fn(p, c);
	p->depth--;
	/* Bytes left after a layer that broke are that layer's, not padding or a trailer. */
	if (!was_broken && (p->malformed || p->short_frame)) cur_skip(c, cur_left(c));
}

void dissect_linktype(struct packet *p, int linktype, struct cur *c)
{
	dissect_fn fn = lookup(linktypes, NELEM(linktypes), (uint32_t)linktype);
	if (!fn) {
		struct sbuf *sb = pk_col(p, "N/A");
		if (sb) {
			const char *name = vn_lookup(vn_linktype, (uint32_t)linktype);
			sb_puts(sb, "Undecoded frame, link type ");
			sb_u64(sb, (uint64_t)linktype);
			if (name) {
				sb_puts(sb, " (");
				sb_puts(sb, name);
				sb_putc(sb, ')');
			}
		}
	}
	run(p, fn, c);
}

void dissect_ethertype(struct packet *p, uint16_t ethertype, struct cur *c)
{
	dissect_fn fn = lookup(ethertypes, NELEM(ethertypes), ethertype);
	if (!fn) {
		struct sbuf *sb = pk_col(p, "Ethernet");
		if (sb) {
			const char *name = vn_lookup(vn_ethertype, ethertype);
			sb_puts(sb, "Ethernet II, type 0x");
			sb_hex(sb, ethertype, 4);
			if (name) {
				sb_puts(sb, " (");
				sb_puts(sb, name);
				sb_putc(sb, ')');
			}
		}
	}
	run(p, fn, c);
}

void dissect_ipproto(struct packet *p, uint8_t proto, struct cur *c)
{
	switch (proto) {
	case 0: case 1: case 6: case 17: case 43: case 44: case 58: case 60: case 132:
		break; /* tracked by their own decoders, or extension headers */
	default:
		pk_track_other(p, proto, 0, 0);
	}
	dissect_fn fn = lookup(ipprotos, NELEM(ipprotos), proto);
	run(p, fn, c);
}

static bool try_udpport(struct packet *p, uint16_t port, struct cur *c)
{
	if (port == 3544) {
		if (p->depth >= PKT_MAX_DEPTH) return false;
		p->depth++;
		bool ok = dissect_teredo(p, c); /* heuristic: only when an IPv6 header follows */
		p->depth--;
		return ok;
	}
	dissect_fn fn = lookup(udpports, NELEM(udpports), port);
	if (!fn) return false;
	if (p->skip_apps && (fn == dissect_dns || fn == dissect_ssdp)) return true; /* tunnels still open */
	run(p, fn, c);
	return true;
}

bool dissect_udpport(struct packet *p, uint16_t sport, uint16_t dport, struct cur *c)
{
	uint16_t lo = sport < dport ? sport : dport, hi = sport < dport ? dport : sport;
	return try_udpport(p, lo, c) || try_udpport(p, hi, c);
}
