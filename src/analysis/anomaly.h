/* analysis/anomaly.h — anomaly rules: what in a capture a person should look at, found once
 * per packet as it is decoded and recorded as fields of that packet (anomaly.kind,
 * anomaly.severity, anomaly.reason), so they can be filtered, printed as fields or NDJSON,
 * noted in the text Info column and in pcapng comments, and counted (--stats anomalies).
 *
 * Rules (README, "Anomalies", has the thresholds and where they come from):
 *   cleartext-credentials   a login in the clear (credentials.*: HTTP Basic, FTP, POP3,
 *                           IMAP, SMTP AUTH, Telnet); the reason names the user only
 *   http-unusual-port       cleartext HTTP to a port that is not an HTTP port
 *   tls-deprecated          SSL 2/3, TLS 1.0/1.1 (DTLS 1.0) negotiated, or offered as the best
 *   tls-cert-expired, tls-cert-not-yet-valid   the leaf certificate at the packet's time
 *   tls-self-signed         a self-signed leaf certificate
 *   dns-error               an answer with NXDOMAIN or SERVFAIL
 *   dns-tunnel              a query name shaped like data: very long, long labels, or
 *                           long high-entropy labels
 *   port-scan, address-scan SYNs from one source to many ports of a host, or to one port
 *                           of many hosts, without completed handshakes, within a window
 *   arp-spoof               an IPv4 address whose MAC changes, gratuitous ARP included
 * State is bounded (sources, probes, ARP entries, flagged streams) and evicts the oldest.
 */
#ifndef PKTSCOPE_ANALYSIS_ANOMALY_H
#define PKTSCOPE_ANALYSIS_ANOMALY_H

#include <stdbool.h>

#include "dissect/packet.h"
#include "util/sbuf.h"

enum anomaly_severity { SEV_INFO, SEV_NOTICE, SEV_WARNING };

/* Thresholds (README documents their sources). */
#define SCAN_WINDOW_NS (INT64_C(300) * 1000000000) /* Zeek scan.zeek: 5 minutes */
#define SCAN_PORTS 15                              /* Zeek's port_scan_threshold */
#define SCAN_HOSTS 25                              /* Zeek's addr_scan_threshold */
#define SCAN_MAX_SOURCES 1024                     /* with SYNs unanswered: completed ones leave */
#define SCAN_FILTER_BUCKETS 4096                   /* of the pending-source filter */
#define SCAN_MAX_PROBES 512                        /* per source, the newest kept */
#define ARP_MAX_ENTRIES 65536
#define DNS_TUNNEL_NAME_LEN 120    /* characters in a query name */
#define DNS_TUNNEL_LABEL_LEN 60    /* characters in one label (63 is the most DNS allows) */
#define DNS_TUNNEL_ENTROPY_LEN 32  /* a label this long... */
#define DNS_TUNNEL_ENTROPY 4.0     /* ...with this many bits of Shannon entropy per character */

struct anomaly_engine;

struct anomaly_engine *anomaly_new(void);
void anomaly_free(struct anomaly_engine *e);
/* The fields the rules read: add them to the run's mask. */
void anomaly_mask_add(struct field_mask *m);
/* Runs the rules over a decoded packet and records what they find in it (after its other
 * fields; a note is appended to Info when the packet has one). */
void anomaly_packet(struct anomaly_engine *e, struct packet *p);
/* The table --stats anomalies prints: per kind and severity, the count, the first frame
 * and the first reason; or one JSON object. */
void anomaly_print_stats(const struct anomaly_engine *e, struct sbuf *sb, bool json);
/* Anomalies found so far. */
uint64_t anomaly_total(const struct anomaly_engine *e);

/* The pipeline's hook (pipeline_needs.post) for an engine. */
void anomaly_post(void *ctx, struct packet *p);

/* When a quick first pass decodes every packet and the full pass only some (a
 * packet-local -Y), the rules that need every packet — scans, ARP — run in the first pass
 * (prefilter_hook: anomaly_prepass with anomaly_prepass_fields) and what they find is
 * recorded in its packet when the full pass decodes that packet. */
void anomaly_prepass(void *ctx, struct packet *p);
void anomaly_prepass_fields(struct field_mask *m);

#endif
