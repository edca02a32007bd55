/* tests/unit/test_decoders.c — every L2–L4 decoder on real frames from the lab, and on
 * truncated and hostile variants of them. */
#include "helpers.h"
#include "frames.h"

static uint8_t buf[4096];

static void test_arp_request(void **state)
{
	(void)state;
	struct packet *p = decode(arp_request, sizeof arp_request, LT_ETHERNET, 0);
	assert_int_equal(fu(p, "eth.type"), 0x0806);
	assert_int_equal(fu(p, "arp.opcode"), 1);
	assert_memory_equal(f1(p, "arp.src.proto_ipv4")->v.addr, "\x0a\x4d\x00\x01", 4);
	assert_string_equal(p->proto_col, "ARP");
	assert_string_equal(info(p), "Who has 10.77.0.2? Tell 10.77.0.1");
	assert_false(p->malformed);
}

static void test_arp_truncated_is_marked_and_keeps_fields(void **state)
{
	(void)state;
	/* cut inside the sender protocol address: what was read stays, the packet is marked */
	struct packet *p = decode(arp_request, 14 + 16, LT_ETHERNET, 0);
	assert_true(p->malformed);
	assert_int_equal(fu(p, "arp.opcode"), 1);
	assert_non_null(f1(p, "arp.src.hw_mac"));
	assert_memory_equal(f1(p, "_ws.malformed")->v.b.p, "arp", 3);
	/* the same cut from a snapshot length is "short", not malformed */
	p = decode(arp_request, 14 + 16, LT_ETHERNET, sizeof arp_request);
	assert_false(p->malformed);
	assert_true(p->short_frame);
	assert_non_null(f1(p, "_ws.short"));
}

static void test_icmp_echo(void **state)
{
	(void)state;
	struct packet *p = decode(icmp_echo_request, sizeof icmp_echo_request, LT_ETHERNET, 0);
	assert_int_equal(fu(p, "ip.version"), 4);
	assert_int_equal(fu(p, "ip.hdr_len"), 20);
	assert_int_equal(fu(p, "ip.ttl"), 64);
	assert_true(fu(p, "ip.flags.df"));
	assert_int_equal(fu(p, "icmp.type"), 8);
	assert_int_equal(fu(p, "icmp.ident"), 0x2786);
	assert_int_equal(fu(p, "icmp.seq"), 1);
	assert_string_equal(info(p), "Echo (ping) request  id=0x2786, seq=1/256, ttl=64");
	assert_int_equal(p->net_src.type, AT_IPV4);
}

static void test_tcp_syn_options(void **state)
{
	(void)state;
	struct packet *p = decode(tcp_syn, sizeof tcp_syn, LT_ETHERNET, 0);
	assert_int_equal(fu(p, "tcp.srcport"), 38117);
	assert_int_equal(fu(p, "tcp.dstport"), 53);
	assert_int_equal(fu(p, "tcp.flags"), 0x002);
	assert_true(fu(p, "tcp.flags.syn"));
	assert_false(fu(p, "tcp.flags.ack"));
	assert_int_equal(fu(p, "tcp.hdr_len"), 40);
	assert_int_equal(fu(p, "tcp.options.mss_val"), 1220);
	assert_int_equal(fu(p, "tcp.options.wscale.shift"), 10);
	assert_int_equal(fu(p, "tcp.options.wscale.multiplier"), 1024);
	assert_true(has(p, "tcp.options.sack_perm"));
	assert_int_equal(fu(p, "tcp.options.timestamp.tsecr"), 0);
	assert_int_equal(fu(p, "tcp.len"), 0);
	assert_string_equal(info(p), "38117 \xe2\x86\x92 53 [SYN] Seq=2781733826 Win=64660 Len=0 MSS=1220 SACK_PERM "
				     "TSval=3147306347 TSecr=0 WS=1024");
	const struct fval *s = f1(p, "tcp.flags.str");
	assert_int_equal(s->v.b.n, 11 * 2 + 1); /* eleven "·" (2 bytes in UTF-8) and "S" */
	assert_memory_equal(s->v.b.p + 20, "S\xc2\xb7", 3);
}

static void test_tcp_hostile_option_then_clean_packet(void **state)
{
	(void)state;
	memcpy(buf, tcp_syn, sizeof tcp_syn);
	buf[14 + 20 + 20 + 1] = 0; /* MSS option length 0: the walk must stop, not spin */
	struct packet *p = decode(buf, sizeof tcp_syn, LT_ETHERNET, 0);
	assert_true(p->malformed);
	assert_int_equal(fu(p, "tcp.srcport"), 38117);
	/* the next packet is unaffected */
	p = decode(tcp_syn, sizeof tcp_syn, LT_ETHERNET, 0);
	assert_false(p->malformed);
	assert_int_equal(fu(p, "tcp.options.mss_val"), 1220);
}

static void test_tcp_bogus_header_length(void **state)
{
	(void)state;
	memcpy(buf, tcp_syn, sizeof tcp_syn);
	buf[14 + 20 + 12] = 0x30; /* data offset 3 words = 12 bytes */
	struct packet *p = decode(buf, sizeof tcp_syn, LT_ETHERNET, 0);
	assert_true(p->malformed);
	assert_int_equal(fu(p, "tcp.hdr_len"), 12);
	assert_false(has(p, "tcp.options.mss_val"));
}

static void test_ipv4_total_length_cuts_padding(void **state)
{
	(void)state;
	/* ARP-sized Ethernet minimum: 42-byte ICMP frame padded to 60 */
	size_t n = sizeof icmp_echo_request;
	memcpy(buf, icmp_echo_request, n);
	memset(buf + n, 0, 18);
	struct packet *p = decode(buf, n + 18, LT_ETHERNET, 0);
	assert_false(p->malformed);
	const struct fval *pad = f1(p, "eth.padding");
	assert_non_null(pad);
	assert_int_equal(pad->v.b.n, 18);
	assert_int_equal(f1(p, "icmp.data")->v.b.n, n - 14 - 20 - 8);
}

static void test_ipv4_bogus_headers_have_no_addresses(void **state)
{
	(void)state;
	memcpy(buf, icmp_echo_request, sizeof icmp_echo_request);
	buf[14] = 0x44; /* header length 16 */
	struct packet *p = decode(buf, sizeof icmp_echo_request, LT_ETHERNET, 0);
	assert_true(p->malformed);
	assert_false(has(p, "ip.src"));
	buf[14] = 0x45;
	buf[16] = 0xff; /* total length far past the frame */
	p = decode(buf, sizeof icmp_echo_request, LT_ETHERNET, 0);
	assert_true(p->malformed);
	assert_true(has(p, "ip.src"));
	assert_int_equal(fu(p, "icmp.type"), 8); /* what was captured is still decoded */
}

static void test_udp_dns_query(void **state)
{
	(void)state;
	struct packet *p = decode(dns_query_udp, sizeof dns_query_udp, LT_ETHERNET, 0);
	assert_int_equal(fu(p, "udp.dstport"), 53);
	assert_int_equal(fu(p, "udp.length"), sizeof dns_query_udp - 34);
	assert_int_equal(f1(p, "udp.payload")->v.b.n, sizeof dns_query_udp - 42);
	/* port 53: the DNS decoder reads the query, EDNS0 OPT record included */
	assert_string_equal(p->proto_col, "DNS");
	assert_int_equal(fu(p, "dns.id"), 0x5182);
	assert_false(fu(p, "dns.flags.response"));
	assert_int_equal(fu(p, "dns.count.queries"), 1);
	assert_int_equal(fu(p, "dns.count.add_rr"), 1);
	const struct fval *q = f1(p, "dns.qry.name");
	assert_non_null(q);
	assert_memory_equal(q->v.b.p, "www.example.test", 16);
	assert_int_equal(fu(p, "dns.qry.type"), 1);
	assert_int_equal(fu(p, "dns.rr.udp_payload_size"), 1232);
	assert_string_equal(info(p), "Standard query 0x5182 A www.example.test OPT");
}

static void test_icmpv6_nd(void **state)
{
	(void)state;
	struct packet *p = decode(icmpv6_na, sizeof icmpv6_na, LT_ETHERNET, 0);
	assert_int_equal(fu(p, "ipv6.nxt"), 58);
	assert_int_equal(fu(p, "icmpv6.type"), 136);
	assert_false(fu(p, "icmpv6.nd.na.flag.r"));
	assert_true(fu(p, "icmpv6.nd.na.flag.s"));
	assert_string_equal(info(p), "Neighbor Advertisement fd77::2 (sol, ovr) is at 42:4c:3d:97:68:59");
	p = decode(router_solicitation, sizeof router_solicitation, LT_ETHERNET, 0);
	assert_string_equal(info(p), "Router Solicitation from 96:ef:b8:17:8c:73");
	p = decode(mldv2_report, sizeof mldv2_report, LT_ETHERNET, 0);
	assert_int_equal(fu(p, "ipv6.nxt"), 0); /* hop-by-hop with router alert first */
	assert_true(has(p, "ipv6.hopopts"));
	assert_int_equal(fu(p, "ipv6.opt.router_alert"), 0);
	assert_int_equal(fu(p, "icmpv6.type"), 143);
	assert_true(fu(p, "icmpv6.mldr.nb_mcast_records") >= 1);
}

static size_t put_eth(uint8_t *b, uint16_t type)
{
	memcpy(b, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
	b[12] = (uint8_t)(type >> 8);
	b[13] = (uint8_t)type;
	return 14;
}

static void test_vlan_stack_and_depth_cap(void **state)
{
	(void)state;
	size_t n = put_eth(buf, 0x88a8);
	memcpy(buf + n, "\x20\x0a\x81\x00", 4); /* S-tag id 10, then C-tag */
	memcpy(buf + n + 4, "\x00\x14\x08\x00", 4); /* C-tag id 20, IPv4 */
	memcpy(buf + n + 8, icmp_echo_request + 14, sizeof icmp_echo_request - 14);
	struct packet *p = decode(buf, n + 8 + sizeof icmp_echo_request - 14, LT_ETHERNET, 0);
	assert_int_equal(fu(p, "ieee8021ad.id"), 10);
	assert_int_equal(fu(p, "vlan.id"), 20);
	assert_int_equal(fu(p, "icmp.type"), 8);
	/* 200 stacked tags: decoding stops at the depth cap, marked, without recursion blowup */
	n = put_eth(buf, 0x8100);
	for (int i = 0; i < 200; i++) memcpy(buf + n + 4 * (size_t)i, "\x00\x01\x81\x00", 4);
	p = decode(buf, n + 800, LT_ETHERNET, 0);
	assert_true(p->malformed);
	assert_true(p->nprotos <= PKT_MAX_PROTOS);
}

static void test_icmp_error_quotes_packet(void **state)
{
	(void)state;
	/* Port unreachable from 10.0.0.2 quoting a UDP datagram 10.0.0.1:5000 -> 10.0.0.2:53 */
	size_t n = put_eth(buf, 0x0800);
	static const uint8_t ip[] = { 0x45, 0, 0, 56, 0, 1, 0, 0, 64, 1, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1 };
	static const uint8_t icmp[] = { 3, 3, 0, 0, 0, 0, 0, 0 };
	static const uint8_t qip[] = { 0x45, 0, 0, 60, 0, 2, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2 };
	static const uint8_t qudp[] = { 0x13, 0x88, 0, 53, 0, 40, 0, 0 };
	memcpy(buf + n, ip, 20);
	memcpy(buf + n + 20, icmp, 8);
	memcpy(buf + n + 28, qip, 20);
	memcpy(buf + n + 48, qudp, 8);
	struct packet *p = decode(buf, n + 56, LT_ETHERNET, 0);
	assert_string_equal(info(p), "Destination unreachable (Port unreachable)");
	assert_false(p->malformed); /* the quoted IP total length (60) is longer than quoted: normal */
	assert_memory_equal(fnth(p, "ip.src", 0)->v.addr, "\x0a\x00\x00\x02", 4);
	assert_memory_equal(fnth(p, "ip.src", 1)->v.addr, "\x0a\x00\x00\x01", 4);
	assert_int_equal(fnth(p, "ip.src", 1)->nest, 1);
	assert_int_equal(fu(p, "udp.srcport"), 5000);
	assert_memory_equal(p->net_src.a, "\x0a\x00\x00\x02", 4); /* columns from the outer packet */
	assert_string_equal(p->proto_col, "ICMP");
}

static void test_ipv6_extension_chain(void **state)
{
	(void)state;
	size_t n = put_eth(buf, 0x86dd);
	uint8_t *h = buf + n;
	memset(h, 0, 40);
	h[0] = 0x60;
	h[5] = 8 + 8 + 8 + 8 + 4; /* payload: hbh + dstopts + frag + udp + 4 */
	h[6] = 0;                 /* hop-by-hop */
	h[7] = 64;
	h[23] = 1;
	h[39] = 2;
	uint8_t *e = h + 40;
	memcpy(e, "\x3c\x00\x01\x04\x00\x00\x00\x00", 8);      /* HBH -> dstopts, PadN(4) */
	memcpy(e + 8, "\x2c\x00\x00\x01\x03\x00\x00\x00", 8);  /* dstopts -> frag: Pad1 PadN(3) */
	memcpy(e + 16, "\x11\x00\x00\x00\x12\x34\x56\x78", 8); /* atomic fragment -> UDP */
	memcpy(e + 24, "\x04\xd2\x00\x09\x00\x0c\x00\x00", 8); /* UDP 1234 -> 9, length 12 */
	memcpy(e + 32, "abcd", 4);
	struct packet *p = decode(buf, n + 40 + 36, LT_ETHERNET, 0);
	assert_false(p->malformed);
	assert_true(has(p, "ipv6.hopopts"));
	assert_true(has(p, "ipv6.dstopts"));
	assert_int_equal(fu(p, "ipv6.fraghdr.ident"), 0x12345678);
	assert_int_equal(fu(p, "udp.dstport"), 9);
	const struct fval *f = f1(p, "frame.protocols");
	assert_int_equal(f->v.b.n, strlen("eth:ipv6:ipv6.hopopts:ipv6.dstopts:ipv6.fraghdr:udp"));
	assert_memory_equal(f->v.b.p, "eth:ipv6:ipv6.hopopts:ipv6.dstopts:ipv6.fraghdr:udp", f->v.b.n);
	/* a non-atomic fragment is shown as a fragment and not decoded further */
	e[16 + 3] = 1; /* more fragments */
	p = decode(buf, n + 40 + 36, LT_ETHERNET, 0);
	assert_false(has(p, "udp.dstport"));
	assert_string_equal(p->proto_col, "IPv6");
}

static void test_field_cap_is_marked(void **state)
{
	(void)state;
	/* a 2 KiB hop-by-hop header of Pad1 options: 2040 option fields, more than the cap */
	size_t n = put_eth(buf, 0x86dd);
	uint8_t *h = buf + n;
	memset(h, 0, 40 + 2048);
	h[0] = 0x60;
	h[4] = 2048 >> 8;
	h[5] = 0;
	h[6] = 0;
	h[40] = 59; /* no next header */
	h[41] = 255;
	struct packet *p = decode(buf, n + 40 + 2048, LT_ETHERNET, 0);
	assert_true(p->fields_overflow);
	assert_true(p->malformed);
	assert_true(p->nfields <= PKT_MAX_FIELDS);
}

static void test_linux_cooked_and_loopback(void **state)
{
	(void)state;
	/* SLL: outgoing, ARPHRD_ETHER, 6-byte address, IPv4 */
	memcpy(buf, "\x00\x04\x00\x01\x00\x06\x96\xef\xb8\x17\x8c\x73\x00\x00\x08\x00", 16);
	memcpy(buf + 16, icmp_echo_request + 14, sizeof icmp_echo_request - 14);
	struct packet *p = decode(buf, 16 + sizeof icmp_echo_request - 14, LT_LINUX_SLL, 0);
	assert_int_equal(fu(p, "sll.pkttype"), 4);
	assert_int_equal(fu(p, "icmp.type"), 8);
	/* BSD loopback written by a little-endian and by a big-endian host */
	memcpy(buf + 12, "\x02\x00\x00\x00", 4);
	p = decode(buf + 12, 4 + sizeof icmp_echo_request - 14, LT_NULL, 0);
	assert_int_equal(fu(p, "null.family"), 2);
	assert_int_equal(fu(p, "icmp.type"), 8);
	memcpy(buf + 12, "\x00\x00\x00\x02", 4);
	p = decode(buf + 12, 4 + sizeof icmp_echo_request - 14, LT_NULL, 0);
	assert_int_equal(fu(p, "icmp.type"), 8);
	/* raw IP */
	p = decode(icmp_echo_request + 14, sizeof icmp_echo_request - 14, LT_RAW, 0);
	assert_int_equal(fu(p, "icmp.type"), 8);
}

static void test_unknown_linktype_is_shown(void **state)
{
	(void)state;
	struct packet *p = decode(arp_request, sizeof arp_request, 147, 0);
	assert_true(has(p, "data.data"));
	assert_string_equal(info(p), "Undecoded frame, link type 147");
}

static void test_tls_hello_bytes_stay_tcp_payload(void **state)
{
	(void)state;
	struct packet *p = decode(tls_client_hello, sizeof tls_client_hello, LT_ETHERNET, 0);
	assert_int_equal(fu(p, "tcp.dstport"), 443);
	assert_int_equal(f1(p, "tcp.payload")->v.b.n, 517);
	assert_int_equal(f1(p, "tcp.payload")->v.b.p[0], 0x16); /* TLS handshake record */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arp_request),
		cmocka_unit_test(test_arp_truncated_is_marked_and_keeps_fields),
		cmocka_unit_test(test_icmp_echo),
		cmocka_unit_test(test_tcp_syn_options),
		cmocka_unit_test(test_tcp_hostile_option_then_clean_packet),
		cmocka_unit_test(test_tcp_bogus_header_length),
		cmocka_unit_test(test_ipv4_total_length_cuts_padding),
		cmocka_unit_test(test_ipv4_bogus_headers_have_no_addresses),
		cmocka_unit_test(test_udp_dns_query),
		cmocka_unit_test(test_icmpv6_nd),
		cmocka_unit_test(test_vlan_stack_and_depth_cap),
		cmocka_unit_test(test_icmp_error_quotes_packet),
		cmocka_unit_test(test_ipv6_extension_chain),
		cmocka_unit_test(test_field_cap_is_marked),
		cmocka_unit_test(test_linux_cooked_and_loopback),
		cmocka_unit_test(test_unknown_linktype_is_shown),
		cmocka_unit_test(test_tls_hello_bytes_stay_tcp_payload),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
