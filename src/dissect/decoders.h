/* dissect/decoders.h — the decoders and the table that wires them: one file per protocol
 * (dissect/<proto>.c), each an entry point of one shape reached by link type, ethertype,
 * IP protocol or port. Only decoders, their dispatch and their tests include this.
 */
#ifndef PKTSCOPE_DISSECT_DECODERS_H
#define PKTSCOPE_DISSECT_DECODERS_H

#include "dissect/packet.h"

/* Decodes the frame in p from its link type. Never fails: what cannot be decoded is marked. */
void dissect_frame(struct packet *p);

/* ---- dispatch (dissect/dispatch.c): one line per protocol in a table ---- */

typedef void (*dissect_fn)(struct packet *p, struct cur *c);

/* Decodes the payload `c` by link type / ethertype / IP protocol; unknown values become
 * `data`. Each call counts against PKT_MAX_DEPTH. */
void dissect_linktype(struct packet *p, int linktype, struct cur *c);
void dissect_ethertype(struct packet *p, uint16_t ethertype, struct cur *c);
void dissect_ipproto(struct packet *p, uint8_t proto, struct cur *c);
/* Decodes a UDP payload by port (the lower port first, as Wireshark); false when neither
 * port is one we know or its heuristic refused the bytes. */
bool dissect_udpport(struct packet *p, uint16_t sport, uint16_t dport, struct cur *c);

/* The decoders, one file each. */
void dissect_null(struct packet *p, struct cur *c);
void dissect_loop(struct packet *p, struct cur *c);
void dissect_sll(struct packet *p, struct cur *c);
void dissect_sll2(struct packet *p, struct cur *c);
void dissect_raw(struct packet *p, struct cur *c);
void dissect_raw4(struct packet *p, struct cur *c);
void dissect_raw6(struct packet *p, struct cur *c);
void dissect_ppi(struct packet *p, struct cur *c);
void dissect_radiotap(struct packet *p, struct cur *c);
void dissect_wlan(struct packet *p, struct cur *c);
/* An IEEE 802.11 frame whose radio header said whether a 4-byte FCS ends it and whether
 * the header is padded to 32 bits (radiotap's flags). */
void dissect_wlan_frame(struct packet *p, struct cur *c, bool fcs, bool datapad);
void dissect_ipnet(struct packet *p, struct cur *c);
void dissect_nflog(struct packet *p, struct cur *c);
void dissect_ppp(struct packet *p, struct cur *c);
void dissect_pppoes(struct packet *p, struct cur *c);
void dissect_chdlc(struct packet *p, struct cur *c);
void dissect_eth(struct packet *p, struct cur *c);
void dissect_vntag(struct packet *p, struct cur *c);
void dissect_mpls(struct packet *p, struct cur *c);
void dissect_gre(struct packet *p, struct cur *c);
void dissect_vxlan(struct packet *p, struct cur *c);
void dissect_geneve(struct packet *p, struct cur *c);
void dissect_gtp(struct packet *p, struct cur *c);
bool dissect_teredo(struct packet *p, struct cur *c);
void dissect_vxlan_gpe(struct packet *p, struct cur *c);
void dissect_nsh(struct packet *p, struct cur *c);
void dissect_cmd(struct packet *p, struct cur *c);
void dissect_cmd_gre(struct packet *p, struct cur *c);
void dissect_pktap(struct packet *p, struct cur *c);
void dissect_fddi(struct packet *p, struct cur *c);
/* pcapng records that are not packets (pkt_meta.record) */
void dissect_journal(struct packet *p, struct cur *c);
void dissect_custom_block(struct packet *p, struct cur *c);
/* The "next protocol" numbers NSH and VXLAN-GPE share (RFC 8300 §2.2). */
void dissect_next_protocol(struct packet *p, uint8_t next, struct cur *c);
void dissect_llc(struct packet *p, struct cur *c);
void dissect_vlan(struct packet *p, struct cur *c);
void dissect_ieee8021ad(struct packet *p, struct cur *c);
void dissect_arp(struct packet *p, struct cur *c);
void dissect_ipv4(struct packet *p, struct cur *c);
/* IP reassembly (dissect/defrag.h) as the IP decoders use it: hands the fragment `payload`
 * over and, when it completes a datagram, records the fragments' fields and decodes
 * `proto` from the whole datagram (as a reassembled buffer of the packet). Returns false
 * when the fragment is not the one that completes a datagram: the caller shows it as a
 * fragment, with `reassembled_in` recorded when a first pass found it (-2). */
struct defrag_key;
bool ip_reassemble(struct packet *p, const struct defrag_key *k, uint32_t off, bool more, uint8_t proto,
		   const struct cur *payload);
void dissect_ipv6(struct packet *p, struct cur *c);
void dissect_ipv6_hopopts(struct packet *p, struct cur *c);
void dissect_ipv6_routing(struct packet *p, struct cur *c);
void dissect_ipv6_fraghdr(struct packet *p, struct cur *c);
void dissect_ipv6_dstopts(struct packet *p, struct cur *c);
void dissect_ah(struct packet *p, struct cur *c);
void dissect_esp(struct packet *p, struct cur *c);
void dissect_tcp(struct packet *p, struct cur *c);
void dissect_udp(struct packet *p, struct cur *c);
void dissect_sctp(struct packet *p, struct cur *c);
void dissect_icmp(struct packet *p, struct cur *c);
void dissect_icmpv6(struct packet *p, struct cur *c);
/* The invoking packet inside an ICMP/ICMPv6 error, decoded one level down (nest + 1). */
void dissect_quoted(struct packet *p, struct cur *c, uint16_t ethertype);

#endif
