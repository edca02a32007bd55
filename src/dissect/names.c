/* dissect/names.c — value-name tables (IANA registries and the RFCs cited per table). */
#include "dissect/names.h"

#include <stddef.h>

const char *vn_lookup(const struct val_name *t, uint32_t v)
{
	for (; t && t->name; t++)
		if (t->val == v) return t->name;
	return NULL;
}

/* IEEE EtherTypes seen in practice. */
const struct val_name vn_ethertype[] = {
	{ 0x0800, "IPv4" }, { 0x0806, "ARP" }, { 0x0842, "Wake-on-LAN" }, { 0x8035, "RARP" },
	{ 0x809b, "AppleTalk" }, { 0x8100, "802.1Q Virtual LAN" }, { 0x8137, "IPX" },
	{ 0x86dd, "IPv6" }, { 0x8808, "MAC Control" }, { 0x8809, "Slow Protocols" },
	{ 0x8847, "MPLS label switched packet" }, { 0x8848, "MPLS multicast" },
	{ 0x8863, "PPPoE Discovery" }, { 0x8864, "PPPoE Session" }, { 0x888e, "802.1X Authentication" },
	{ 0x88a8, "802.1ad Provider Bridge (Q-in-Q)" }, { 0x88cc, "802.1 Link Layer Discovery Protocol (LLDP)" },
	{ 0x88e5, "802.1AE (MACsec)" }, { 0x88f7, "PTPv2 over Ethernet (IEEE1588)" },
	{ 0x8906, "Fibre Channel over Ethernet" }, { 0x9000, "Configuration Test Protocol (loopback)" },
	{ 0x9100, "802.1Q Virtual LAN (QinQ)" }, { 0, NULL }
};

/* RFC 826 hardware types (IANA "Hardware Types"). */
const struct val_name vn_arp_hwtype[] = {
	{ 1, "Ethernet" }, { 6, "IEEE 802" }, { 7, "ARCNET" }, { 15, "Frame Relay" },
	{ 16, "ATM" }, { 18, "Fibre Channel" }, { 20, "Serial Line" }, { 24, "IEEE 1394.1995" },
	{ 32, "InfiniBand" }, { 772, "Loopback" }, { 65534, "None" }, { 0, NULL }
};

/* RFC 826, RFC 903 (RARP), RFC 2390 (InARP). */
const struct val_name vn_arp_opcode[] = {
	{ 1, "request" }, { 2, "reply" }, { 3, "reverse request" }, { 4, "reverse reply" },
	{ 8, "inverse request" }, { 9, "inverse reply" }, { 0, NULL }
};

/* IANA "Assigned Internet Protocol Numbers". */
const struct val_name vn_ipproto[] = {
	{ 0, "IPv6 Hop-by-Hop Option" }, { 1, "ICMP" }, { 2, "IGMP" }, { 4, "IPIP" }, { 6, "TCP" },
	{ 8, "EGP" }, { 17, "UDP" }, { 41, "IPv6" }, { 43, "Routing Header for IPv6" },
	{ 44, "Fragment Header for IPv6" }, { 46, "RSVP" }, { 47, "GRE" }, { 50, "ESP" }, { 51, "AH" },
	{ 58, "ICMPv6" }, { 59, "IPv6 No Next Header" }, { 60, "Destination Options for IPv6" },
	{ 88, "EIGRP" }, { 89, "OSPF IGP" }, { 103, "PIM" }, { 112, "VRRP" }, { 115, "L2TP" },
	{ 132, "SCTP" }, { 135, "Mobility Header" }, { 136, "UDPLite" }, { 137, "MPLS in IP" },
	{ 139, "Host Identity Protocol" }, { 140, "Shim6" }, { 0, NULL }
};

/* Short names as Wireshark prints them in "Fragmented IP protocol (proto=UDP 17 …)". */
const struct val_name vn_ipproto_short[] = {
	{ 0, "HOPOPT" }, { 1, "ICMP" }, { 2, "IGMP" }, { 4, "IPIP" }, { 6, "TCP" }, { 17, "UDP" },
	{ 41, "IPv6" }, { 43, "IPv6-Route" }, { 44, "IPv6-Frag" }, { 47, "GRE" }, { 50, "ESP" },
	{ 51, "AH" }, { 58, "ICMPv6" }, { 59, "IPv6-NoNxt" }, { 60, "IPv6-Opts" }, { 89, "OSPF" },
	{ 103, "PIM" }, { 112, "VRRP" }, { 132, "SCTP" }, { 0, NULL }
};

/* RFC 2474, RFC 3246, RFC 2597, RFC 8622. */
const struct val_name vn_dscp[] = {
	{ 0, "Default" }, { 1, "Lower Effort" }, { 8, "Class Selector 1" }, { 10, "Assured Forwarding 11" },
	{ 12, "Assured Forwarding 12" }, { 14, "Assured Forwarding 13" }, { 16, "Class Selector 2" },
	{ 18, "Assured Forwarding 21" }, { 20, "Assured Forwarding 22" }, { 22, "Assured Forwarding 23" },
	{ 24, "Class Selector 3" }, { 26, "Assured Forwarding 31" }, { 28, "Assured Forwarding 32" },
	{ 30, "Assured Forwarding 33" }, { 32, "Class Selector 4" }, { 34, "Assured Forwarding 41" },
	{ 36, "Assured Forwarding 42" }, { 38, "Assured Forwarding 43" }, { 40, "Class Selector 5" },
	{ 44, "Voice Admit" }, { 46, "Expedited Forwarding" }, { 48, "Class Selector 6" },
	{ 56, "Class Selector 7" }, { 0, NULL }
};

/* RFC 3168 §5. */
const struct val_name vn_ecn[] = {
	{ 0, "Not ECN-Capable Transport" }, { 1, "ECN-Capable Transport codepoint '01'" },
	{ 2, "ECN-Capable Transport codepoint '10'" }, { 3, "Congestion Experienced" }, { 0, NULL }
};

/* IANA "IP Option Numbers" (full type octet). */
const struct val_name vn_ipopt[] = {
	{ 0, "End of Options List (EOL)" }, { 1, "No-Operation (NOP)" }, { 7, "Record Route" },
	{ 68, "Time Stamp" }, { 130, "Security" }, { 131, "Loose Source Route" },
	{ 133, "Extended Security" }, { 136, "Stream ID" }, { 137, "Strict Source Route" },
	{ 148, "Router Alert" }, { 0, NULL }
};

/* IANA "Destination Options and Hop-by-Hop Options". */
const struct val_name vn_ipv6_opt[] = {
	{ 0x00, "Pad1" }, { 0x01, "PadN" }, { 0x04, "Tunnel Encapsulation Limit" },
	{ 0x05, "Router Alert" }, { 0x07, "CALIPSO" }, { 0x26, "Quick-Start" }, { 0x63, "RPL Option" },
	{ 0x6d, "MPL Option" }, { 0x8b, "ILNP Nonce" }, { 0xc2, "Jumbo Payload" },
	{ 0xc9, "Home Address" }, { 0, NULL }
};

/* IANA "Routing Types". */
const struct val_name vn_ipv6_routing[] = {
	{ 0, "Source Route" }, { 1, "Nimrod" }, { 2, "Type 2 Routing" }, { 3, "RPL Source Route" },
	{ 4, "Segment Routing" }, { 0, NULL }
};

/* IANA "TCP Option Kind Numbers". */
const struct val_name vn_tcp_option[] = {
	{ 0, "End of Option List (EOL)" }, { 1, "No-Operation (NOP)" }, { 2, "Maximum Segment Size" },
	{ 3, "Window Scale" }, { 4, "SACK Permitted" }, { 5, "SACK" }, { 8, "Time Stamp Option" },
	{ 19, "MD5 Signature Option" }, { 28, "User Timeout Option" }, { 29, "TCP Authentication Option" },
	{ 30, "Multipath TCP" }, { 34, "TCP Fast Open Cookie" }, { 0, NULL }
};

/* RFC 792 and IANA "ICMP Type Numbers". */
const struct val_name vn_icmp_type[] = {
	{ 0, "Echo (ping) reply" }, { 3, "Destination unreachable" }, { 4, "Source quench (flow control)" },
	{ 5, "Redirect" }, { 8, "Echo (ping) request" }, { 9, "Router advertisement" },
	{ 10, "Router solicitation" }, { 11, "Time-to-live exceeded" }, { 12, "Parameter problem" },
	{ 13, "Timestamp request" }, { 14, "Timestamp reply" }, { 15, "Information request" },
	{ 16, "Information reply" }, { 17, "Address mask request" }, { 18, "Address mask reply" },
	{ 30, "Traceroute" }, { 42, "Extended Echo request" }, { 43, "Extended Echo reply" }, { 0, NULL }
};

const struct val_name vn_icmp_unreach[] = {
	{ 0, "Network unreachable" }, { 1, "Host unreachable" }, { 2, "Protocol unreachable" },
	{ 3, "Port unreachable" }, { 4, "Fragmentation needed" }, { 5, "Source route failed" },
	{ 6, "Destination network unknown" }, { 7, "Destination host unknown" },
	{ 8, "Source host isolated" }, { 9, "Network administratively prohibited" },
	{ 10, "Host administratively prohibited" }, { 11, "Network unreachable for TOS" },
	{ 12, "Host unreachable for TOS" }, { 13, "Communication administratively filtered" },
	{ 14, "Host precedence violation" }, { 15, "Precedence cutoff in effect" }, { 0, NULL }
};

const struct val_name vn_icmp_redirect[] = {
	{ 0, "Redirect for network" }, { 1, "Redirect for host" },
	{ 2, "Redirect for TOS and network" }, { 3, "Redirect for TOS and host" }, { 0, NULL }
};

const struct val_name vn_icmp_timex[] = {
	{ 0, "Time to live exceeded in transit" }, { 1, "Fragment reassembly time exceeded" }, { 0, NULL }
};

const struct val_name vn_icmp_paramprob[] = {
	{ 0, "Pointer indicates the error" }, { 1, "Required option missing" }, { 2, "Bad length" }, { 0, NULL }
};

/* RFC 4443, RFC 4861, RFC 2710, RFC 3810 and IANA "ICMPv6 Parameters". */
const struct val_name vn_icmpv6_type[] = {
	{ 1, "Destination Unreachable" }, { 2, "Packet Too Big" }, { 3, "Time Exceeded" },
	{ 4, "Parameter Problem" }, { 128, "Echo (ping) request" }, { 129, "Echo (ping) reply" },
	{ 130, "Multicast Listener Query" }, { 131, "Multicast Listener Report" },
	{ 132, "Multicast Listener Done" }, { 133, "Router Solicitation" },
	{ 134, "Router Advertisement" }, { 135, "Neighbor Solicitation" },
	{ 136, "Neighbor Advertisement" }, { 137, "Redirect" }, { 138, "Router Renumbering" },
	{ 139, "ICMP Node Information Query" }, { 140, "ICMP Node Information Response" },
	{ 141, "Inverse Neighbor Discovery Solicitation" },
	{ 142, "Inverse Neighbor Discovery Advertisement" },
	{ 143, "Multicast Listener Report Message v2" }, { 144, "Home Agent Address Discovery Request" },
	{ 145, "Home Agent Address Discovery Reply" }, { 146, "Mobile Prefix Solicitation" },
	{ 147, "Mobile Prefix Advertisement" }, { 151, "Multicast Router Advertisement" },
	{ 152, "Multicast Router Solicitation" }, { 153, "Multicast Router Termination" },
	{ 155, "RPL Control" }, { 0, NULL }
};

const struct val_name vn_icmpv6_unreach[] = {
	{ 0, "no route to destination" }, { 1, "Administratively prohibited" },
	{ 2, "Beyond scope of source address" }, { 3, "Address unreachable" },
	{ 4, "Port unreachable" }, { 5, "Source address failed ingress/egress policy" },
	{ 6, "Reject route to destination" }, { 7, "Error in Source Routing Header" }, { 0, NULL }
};

const struct val_name vn_icmpv6_timex[] = {
	{ 0, "hop limit exceeded in transit" }, { 1, "fragment reassembly time exceeded" }, { 0, NULL }
};

const struct val_name vn_icmpv6_paramprob[] = {
	{ 0, "erroneous header field encountered" }, { 1, "unrecognized Next Header type encountered" },
	{ 2, "unrecognized IPv6 option encountered" }, { 3, "IPv6 First Fragment has incomplete IPv6 Header Chain" },
	{ 0, NULL }
};

/* RFC 4861 §4.6 and IANA "IPv6 Neighbor Discovery Option Formats". */
const struct val_name vn_icmpv6_opt[] = {
	{ 1, "Source link-layer address" }, { 2, "Target link-layer address" },
	{ 3, "Prefix information" }, { 4, "Redirected header" }, { 5, "MTU" },
	{ 14, "Nonce" }, { 24, "Route Information" }, { 25, "Recursive DNS Server" },
	{ 31, "DNS Search List" }, { 38, "PREF64" }, { 0, NULL }
};

/* RFC 3810 §5.2.12. */
const struct val_name vn_mldr_record_type[] = {
	{ 1, "Include" }, { 2, "Exclude" }, { 3, "Changed to include" }, { 4, "Changed to exclude" },
	{ 5, "Allow new sources" }, { 6, "Block old sources" }, { 0, NULL }
};

/* IEEE 802.2 SAPs. */
const struct val_name vn_llc_sap[] = {
	{ 0x00, "NULL LSAP" }, { 0x04, "SNA Path Control" }, { 0x06, "TCP/IP" }, { 0x42, "Spanning Tree BPDU" },
	{ 0xaa, "SNAP" }, { 0xe0, "NetWare" }, { 0xf0, "NetBIOS" }, { 0xfe, "ISO Network Layer" },
	{ 0xff, "Global LSAP" }, { 0, NULL }
};

/* Linux <linux/if_packet.h> PACKET_* types, as in the cooked header. */
const struct val_name vn_sll_pkttype[] = {
	{ 0, "Unicast to us" }, { 1, "Broadcast" }, { 2, "Multicast" }, { 3, "Unicast to another host" },
	{ 4, "Sent by us" }, { 0, NULL }
};

const struct val_name vn_sll_ltype[] = {
	{ 0x0001, "Novell 802.3" }, { 0x0004, "802.2 LLC" }, { 0x000c, "CAN" }, { 0x000d, "CAN FD" }, { 0, NULL }
};

/* BSD address families in DLT_NULL/DLT_LOOP headers (values differ per OS for IPv6). */
const struct val_name vn_bsd_af[] = {
	{ 2, "IP" }, { 7, "OSI" }, { 23, "IPX" }, { 24, "IPv6 (NetBSD/OpenBSD)" },
	{ 28, "IPv6 (FreeBSD)" }, { 30, "IPv6 (Darwin)" }, { 0, NULL }
};

/* tcpdump.org LINKTYPE_* values pktscope knows by name. */
/* Private enterprise numbers of pcapng custom blocks: the two the pcapng test suite uses
 * (RFC 5612's documentation number and the suite author's). Wireshark names every IANA
 * registration; others show as Unknown here. */
const struct val_name vn_pen[] = {
	{ 32473, "Example Enterprise Number for Documentation Use" },
	{ 36724, "Kaplan Research and Application Prototyping" },
	{ 0, NULL }
};

/* IEEE 802.11 frame types and subtypes as (type << 4 | subtype), Wireshark's names. */
const struct val_name vn_wlan_type_subtype[] = {
	{ 0x00, "Association Request" }, { 0x01, "Association Response" }, { 0x02, "Reassociation Request" },
	{ 0x03, "Reassociation Response" }, { 0x04, "Probe Request" }, { 0x05, "Probe Response" },
	{ 0x06, "Measurement Pilot" }, { 0x08, "Beacon frame" }, { 0x09, "ATIM" }, { 0x0a, "Disassociate" },
	{ 0x0b, "Authentication" }, { 0x0c, "Deauthentication" }, { 0x0d, "Action" }, { 0x0e, "Action No Ack" },
	{ 0x12, "Trigger" }, { 0x14, "Beamforming Report Poll" }, { 0x15, "VHT/HE NDP Announcement" },
	{ 0x17, "Control Wrapper" }, { 0x18, "802.11 Block Ack Req" }, { 0x19, "802.11 Block Ack" },
	{ 0x1a, "Power-Save poll" }, { 0x1b, "Request-to-send" }, { 0x1c, "Clear-to-send" },
	{ 0x1d, "Acknowledgement" }, { 0x1e, "CF-End (Control-frame)" }, { 0x1f, "CF-End + CF-Ack (Control-frame)" },
	{ 0x20, "Data" }, { 0x21, "Data + CF-Ack" }, { 0x22, "Data + CF-Poll" }, { 0x23, "Data + CF-Ack + CF-Poll" },
	{ 0x24, "Null function (No data)" }, { 0x25, "Acknowledgement (No data)" }, { 0x26, "CF-Poll (No data)" },
	{ 0x27, "CF-Ack/Poll (No data)" }, { 0x28, "QoS Data" }, { 0x29, "QoS Data + CF-Acknowledgment" },
	{ 0x2a, "QoS Data + CF-Poll" }, { 0x2b, "QoS Data + CF-Ack + CF-Poll" }, { 0x2c, "QoS Null function (No data)" },
	{ 0x2e, "QoS CF-Poll (No Data)" }, { 0x2f, "QoS CF-Ack + CF-Poll (No data)" }, { 0x30, "DMG Beacon" },
	{ 0x31, "S1G Beacon" }, { 0, NULL }
};

const struct val_name vn_wlan_phy[] = {
	{ 1, "802.11 FHSS" }, { 2, "802.11 IR" }, { 3, "802.11 DSSS" }, { 4, "802.11b (HR/DSSS)" },
	{ 5, "802.11a (OFDM)" }, { 6, "802.11g (ERP)" }, { 7, "802.11n (HT)" }, { 8, "802.11ac (VHT)" },
	{ 9, "802.11ad (DMG)" }, { 10, "802.11ah (S1G)" }, { 11, "802.11ax (HE)" }, { 0, NULL }
};

const struct val_name vn_fcs_status[] = {
	{ 0, "Bad" }, { 1, "Good" }, { 2, "Unverified" }, { 3, "Not present" }, { 4, "Illegal" }, { 0, NULL }
};

const struct val_name vn_linktype[] = {
	{ 0, "NULL" }, { 1, "EN10MB" }, { 9, "PPP" }, { 12, "RAW" }, { 14, "RAW" }, { 50, "PPP_HDLC" },
	{ 101, "RAW" }, { 105, "IEEE802_11" }, { 108, "LOOP" }, { 113, "LINUX_SLL" },
	{ 127, "IEEE802_11_RADIOTAP" }, { 228, "IPV4" }, { 229, "IPV6" }, { 239, "NFLOG" },
	{ 276, "LINUX_SLL2" }, { 0, NULL }
};

/* IANA "PPP DLL Protocol Numbers". */
const struct val_name vn_ppp_protocol[] = {
	{ 0x0021, "Internet Protocol version 4" }, { 0x0057, "Internet Protocol version 6" },
	{ 0x0281, "MPLS" }, { 0x8021, "Internet Protocol Control Protocol" },
	{ 0x8057, "IPv6 Control Protocol" }, { 0xc021, "Link Control Protocol" },
	{ 0xc023, "Password Authentication Protocol" }, { 0xc223, "Challenge Handshake Authentication Protocol" },
	{ 0, NULL }
};

/* RFC 9260 §3.2 chunk types. */
const struct val_name vn_sctp_chunk[] = {
	{ 0, "DATA" }, { 1, "INIT" }, { 2, "INIT_ACK" }, { 3, "SACK" }, { 4, "HEARTBEAT" },
	{ 5, "HEARTBEAT_ACK" }, { 6, "ABORT" }, { 7, "SHUTDOWN" }, { 8, "SHUTDOWN_ACK" }, { 9, "ERROR" },
	{ 10, "COOKIE_ECHO" }, { 11, "COOKIE_ACK" }, { 14, "SHUTDOWN_COMPLETE" }, { 64, "I_DATA" },
	{ 128, "ASCONF_ACK" }, { 130, "RE_CONFIG" }, { 192, "FORWARD_TSN" }, { 193, "ASCONF" }, { 0, NULL }
};

/* ---- application protocols ---- */

/* RFC 6895 §2.2 (opcodes, RCODEs), IANA DNS parameters (types, classes). */
const struct val_name vn_dns_opcode[] = {
	{ 0, "Standard query" }, { 1, "Inverse query" }, { 2, "Server status request" }, { 4, "Zone change notification" },
	{ 5, "Dynamic update" }, { 6, "DNS Stateful operations (DSO)" }, { 0, NULL }
};
const struct val_name vn_dns_rcode[] = {
	{ 0, "No error" }, { 1, "Format error" }, { 2, "Server failure" }, { 3, "No such name" },
	{ 4, "Not implemented" }, { 5, "Refused" }, { 6, "Name exists" }, { 7, "RRset exists" },
	{ 8, "RRset does not exist" }, { 9, "Not authoritative" }, { 10, "Name out of zone" }, { 0, NULL }
};
const struct val_name vn_dns_type[] = {
	{ 1, "A" }, { 2, "NS" }, { 5, "CNAME" }, { 6, "SOA" }, { 12, "PTR" }, { 13, "HINFO" }, { 15, "MX" },
	{ 16, "TXT" }, { 17, "RP" }, { 18, "AFSDB" }, { 24, "SIG" }, { 25, "KEY" }, { 28, "AAAA" }, { 29, "LOC" },
	{ 33, "SRV" }, { 35, "NAPTR" }, { 37, "CERT" }, { 39, "DNAME" }, { 41, "OPT" }, { 43, "DS" },
	{ 44, "SSHFP" }, { 46, "RRSIG" }, { 47, "NSEC" }, { 48, "DNSKEY" }, { 50, "NSEC3" }, { 51, "NSEC3PARAM" },
	{ 52, "TLSA" }, { 59, "CDS" }, { 60, "CDNSKEY" }, { 64, "SVCB" }, { 65, "HTTPS" }, { 99, "SPF" },
	{ 249, "TKEY" }, { 250, "TSIG" }, { 251, "IXFR" }, { 252, "AXFR" }, { 255, "ANY" }, { 256, "URI" },
	{ 257, "CAA" }, { 0, NULL }
};
const struct val_name vn_dns_class[] = {
	{ 1, "IN" }, { 3, "CH" }, { 4, "HS" }, { 254, "NONE" }, { 255, "ANY" }, { 0, NULL }
};
const struct val_name vn_dns_svcparam[] = {
	{ 0, "mandatory" }, { 1, "alpn" }, { 2, "no-default-alpn" }, { 3, "port" }, { 4, "ipv4hint" },
	{ 5, "ech" }, { 6, "ipv6hint" }, { 0, NULL }
};
const struct val_name vn_dns_opt[] = {
	{ 3, "NSID" }, { 8, "CSUBNET - Client subnet" }, { 9, "EXPIRE" }, { 10, "COOKIE" },
	{ 11, "EDNS TCP Keepalive" }, { 12, "PADDING" }, { 15, "Extended DNS Error" }, { 0, NULL }
};

/* RFC 9000 §17.2 (v1 numbering) and §19. */
const struct val_name vn_quic_long_type[] = {
	{ 0, "Initial" }, { 1, "0-RTT" }, { 2, "Handshake" }, { 3, "Retry" }, { 0, NULL }
};
const struct val_name vn_quic_frame_type[] = {
	{ 0x00, "PADDING" }, { 0x01, "PING" }, { 0x02, "ACK" }, { 0x03, "ACK" }, { 0x04, "RESET_STREAM" },
	{ 0x05, "STOP_SENDING" }, { 0x06, "CRYPTO" }, { 0x07, "NEW_TOKEN" }, { 0x08, "STREAM" },
	{ 0x10, "MAX_DATA" }, { 0x11, "MAX_STREAM_DATA" }, { 0x12, "MAX_STREAMS" }, { 0x13, "MAX_STREAMS" },
	{ 0x14, "DATA_BLOCKED" }, { 0x15, "STREAM_DATA_BLOCKED" }, { 0x16, "STREAMS_BLOCKED" },
	{ 0x17, "STREAMS_BLOCKED" }, { 0x18, "NEW_CONNECTION_ID" }, { 0x19, "RETIRE_CONNECTION_ID" },
	{ 0x1a, "PATH_CHALLENGE" }, { 0x1b, "PATH_RESPONSE" }, { 0x1c, "CONNECTION_CLOSE" },
	{ 0x1d, "CONNECTION_CLOSE" }, { 0x1e, "HANDSHAKE_DONE" }, { 0x30, "DATAGRAM" }, { 0x31, "DATAGRAM" },
	{ 0xaf, "ACK_FREQUENCY" }, { 0x02f5, "TIME_STAMP" }, { 0, NULL }
};

/* TLS: RFC 8446 §B and the IANA TLS parameters registry. */
const struct val_name vn_tls_content_type[] = {
	{ 20, "Change Cipher Spec" }, { 21, "Alert" }, { 22, "Handshake" }, { 23, "Application Data" },
	{ 24, "Heartbeat" }, { 0, NULL }
};
const struct val_name vn_tls_version[] = {
	{ 0x0002, "SSL 2.0" }, { 0x0300, "SSL 3.0" }, { 0x0301, "TLS 1.0" }, { 0x0302, "TLS 1.1" },
	{ 0x0303, "TLS 1.2" }, { 0x0304, "TLS 1.3" }, { 0xfeff, "DTLS 1.0" }, { 0xfefd, "DTLS 1.2" },
	{ 0xfefc, "DTLS 1.3" }, { 0, NULL }
};
const struct val_name vn_tls_alert_level[] = { { 1, "Warning" }, { 2, "Fatal" }, { 0, NULL } };
const struct val_name vn_tls_alert_desc[] = {
	{ 0, "Close Notify" }, { 10, "Unexpected Message" }, { 20, "Bad Record MAC" }, { 21, "Decryption Failed" },
	{ 22, "Record Overflow" }, { 30, "Decompression Failure" }, { 40, "Handshake Failure" },
	{ 41, "No Certificate" }, { 42, "Bad Certificate" }, { 43, "Unsupported Certificate" },
	{ 44, "Certificate Revoked" }, { 45, "Certificate Expired" }, { 46, "Certificate Unknown" },
	{ 47, "Illegal Parameter" }, { 48, "Unknown CA" }, { 49, "Access Denied" }, { 50, "Decode Error" },
	{ 51, "Decrypt Error" }, { 60, "Export Restriction" }, { 70, "Protocol Version" },
	{ 71, "Insufficient Security" }, { 80, "Internal Error" }, { 86, "Inappropriate Fallback" },
	{ 90, "User Canceled" }, { 100, "No Renegotiation" }, { 109, "Missing Extension" },
	{ 110, "Unsupported Extension" }, { 112, "Unrecognized Name" }, { 113, "Bad Certificate Status Response" },
	{ 115, "Unknown PSK Identity" }, { 116, "Certificate Required" }, { 120, "No Application Protocol" }, { 0, NULL }
};
const struct val_name vn_tls_handshake_type[] = {
	{ 0, "Hello Request" }, { 1, "Client Hello" }, { 2, "Server Hello" }, { 3, "Hello Verify Request" },
	{ 4, "New Session Ticket" }, { 5, "End of Early Data" }, { 8, "Encrypted Extensions" },
	{ 11, "Certificate" }, { 12, "Server Key Exchange" }, { 13, "Certificate Request" },
	{ 14, "Server Hello Done" }, { 15, "Certificate Verify" }, { 16, "Client Key Exchange" },
	{ 20, "Finished" }, { 21, "Certificate URL" }, { 22, "Certificate Status" }, { 24, "Key Update" },
	{ 25, "Compressed Certificate" },
	{ 254, "Message Hash" }, { 0, NULL }
};
const struct val_name vn_tls_cipher[] = {
	{ 0x0004, "TLS_RSA_WITH_RC4_128_MD5" }, { 0x0005, "TLS_RSA_WITH_RC4_128_SHA" },
	{ 0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA" }, { 0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA" },
	{ 0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA" }, { 0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA" },
	{ 0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA" }, { 0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256" },
	{ 0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256" }, { 0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256" },
	{ 0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384" }, { 0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256" },
	{ 0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384" }, { 0x00ff, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV" },
	{ 0x1301, "TLS_AES_128_GCM_SHA256" }, { 0x1302, "TLS_AES_256_GCM_SHA384" },
	{ 0x1303, "TLS_CHACHA20_POLY1305_SHA256" }, { 0x5600, "TLS_FALLBACK_SCSV" },
	{ 0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA" }, { 0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA" },
	{ 0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA" }, { 0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA" },
	{ 0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256" }, { 0xc024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384" },
	{ 0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256" }, { 0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384" },
	{ 0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" }, { 0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384" },
	{ 0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" }, { 0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" },
	{ 0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256" },
	{ 0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256" },
	{ 0xccaa, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256" }, { 0, NULL }
};
const struct val_name vn_tls_extension[] = {
	{ 0, "server_name" }, { 1, "max_fragment_length" }, { 5, "status_request" }, { 10, "supported_groups" },
	{ 11, "ec_point_formats" }, { 13, "signature_algorithms" }, { 15, "heartbeat" },
	{ 16, "application_layer_protocol_negotiation" }, { 17, "status_request_v2" },
	{ 18, "signed_certificate_timestamp" }, { 21, "padding" }, { 22, "encrypt_then_mac" },
	{ 23, "extended_master_secret" }, { 27, "compress_certificate" }, { 28, "record_size_limit" },
	{ 34, "delegated_credentials" }, { 35, "session_ticket" }, { 41, "pre_shared_key" }, { 42, "early_data" },
	{ 43, "supported_versions" }, { 44, "cookie" }, { 45, "psk_key_exchange_modes" },
	{ 47, "certificate_authorities" }, { 49, "post_handshake_auth" }, { 50, "signature_algorithms_cert" },
	{ 51, "key_share" }, { 57, "quic_transport_parameters" }, { 17513, "application_settings" },
	{ 17613, "application_settings" }, { 0xfe0d, "encrypted_client_hello" }, { 0xff01, "renegotiation_info" }, { 0, NULL }
};
const struct val_name vn_tls_group[] = {
	{ 23, "secp256r1" }, { 24, "secp384r1" }, { 25, "secp521r1" }, { 29, "x25519" }, { 30, "x448" },
	{ 256, "ffdhe2048" }, { 257, "ffdhe3072" }, { 0x11ec, "X25519MLKEM768" }, { 0x6399, "X25519Kyber768Draft00" }, { 0, NULL }
};
const struct val_name vn_tls_sigalg[] = {
	{ 0x0201, "rsa_pkcs1_sha1" }, { 0x0203, "ecdsa_sha1" }, { 0x0401, "rsa_pkcs1_sha256" },
	{ 0x0403, "ecdsa_secp256r1_sha256" }, { 0x0501, "rsa_pkcs1_sha384" }, { 0x0503, "ecdsa_secp384r1_sha384" },
	{ 0x0601, "rsa_pkcs1_sha512" }, { 0x0603, "ecdsa_secp521r1_sha512" }, { 0x0804, "rsa_pss_rsae_sha256" },
	{ 0x0805, "rsa_pss_rsae_sha384" }, { 0x0806, "rsa_pss_rsae_sha512" }, { 0x0807, "ed25519" },
	{ 0x0808, "ed448" }, { 0, NULL }
};

/* RFC 9113 §6, §7, §6.5.2. */
const struct val_name vn_http2_type[] = {
	{ 0, "DATA" }, { 1, "HEADERS" }, { 2, "PRIORITY" }, { 3, "RST_STREAM" }, { 4, "SETTINGS" },
	{ 5, "PUSH_PROMISE" }, { 6, "PING" }, { 7, "GOAWAY" }, { 8, "WINDOW_UPDATE" }, { 9, "CONTINUATION" },
	{ 10, "ALTSVC" }, { 12, "ORIGIN" }, { 16, "PRIORITY_UPDATE" }, { 0, NULL }
};
const struct val_name vn_http2_error[] = {
	{ 0, "NO_ERROR" }, { 1, "PROTOCOL_ERROR" }, { 2, "INTERNAL_ERROR" }, { 3, "FLOW_CONTROL_ERROR" },
	{ 4, "SETTINGS_TIMEOUT" }, { 5, "STREAM_CLOSED" }, { 6, "FRAME_SIZE_ERROR" }, { 7, "REFUSED_STREAM" },
	{ 8, "CANCEL" }, { 9, "COMPRESSION_ERROR" }, { 10, "CONNECT_ERROR" }, { 11, "ENHANCE_YOUR_CALM" },
	{ 12, "INADEQUATE_SECURITY" }, { 13, "HTTP_1_1_REQUIRED" }, { 0, NULL }
};
const struct val_name vn_http2_setting[] = {
	{ 1, "Header table size" }, { 2, "Enable PUSH" }, { 3, "Max concurrent streams" },
	{ 4, "Initial Windows size" }, { 5, "Max frame size" }, { 6, "Max header list size" },
	{ 8, "Extended CONNECT protocol" }, { 9, "No RFC 7540 priorities" }, { 0, NULL }
};
