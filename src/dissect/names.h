/* dissect/names.h — value-name tables as data (tcpdump's `struct tok`), shared by the text
 * output, JSON, the detail tree and the filter. */
#ifndef PKTSCOPE_DISSECT_NAMES_H
#define PKTSCOPE_DISSECT_NAMES_H

#include <stdint.h>

struct val_name {
	uint32_t val;
	const char *name;
};

/* The name for v in a {0, NULL}-terminated table, or NULL. */
const char *vn_lookup(const struct val_name *t, uint32_t v);
/* The name for v, or `dflt` when the table has none. */
static inline const char *vn_name(const struct val_name *t, uint32_t v, const char *dflt)
{
	const char *n = vn_lookup(t, v);
	return n ? n : dflt;
}

extern const struct val_name vn_ethertype[], vn_arp_hwtype[], vn_arp_opcode[], vn_ipproto[],
	vn_ipproto_short[], vn_dscp[], vn_ecn[], vn_ipopt[], vn_ipv6_opt[], vn_ipv6_routing[],
	vn_tcp_option[], vn_icmp_type[], vn_icmp_unreach[], vn_icmp_redirect[],
	vn_icmp_timex[], vn_icmp_paramprob[], vn_icmpv6_type[], vn_icmpv6_unreach[],
	vn_icmpv6_timex[], vn_icmpv6_paramprob[], vn_icmpv6_opt[], vn_mldr_record_type[],
	vn_llc_sap[], vn_sll_pkttype[], vn_sll_ltype[], vn_bsd_af[], vn_linktype[], vn_pen[], vn_wlan_type_subtype[], vn_wlan_phy[], vn_fcs_status[], vn_ppp_protocol[], vn_sctp_chunk[];
/* application protocols */
extern const struct val_name vn_dns_opcode[], vn_dns_rcode[], vn_dns_type[], vn_dns_class[], vn_dns_svcparam[],
	vn_dns_opt[], vn_quic_long_type[], vn_quic_frame_type[], vn_tls_content_type[], vn_tls_version[],
	vn_tls_alert_level[], vn_tls_alert_desc[], vn_tls_handshake_type[], vn_tls_cipher[], vn_tls_extension[],
	vn_tls_group[], vn_tls_sigalg[], vn_http2_type[], vn_http2_error[], vn_http2_setting[];

#endif
