/* dissect/app.h — application protocols: DNS, TLS, HTTP/1.1, HTTP/2 and QUIC.
 *
 * Datagram protocols (DNS over UDP, QUIC) decode from the packet like any other layer.
 * Stream protocols decode from a TCP flow's reassembled bytes, which the flow module hands
 * to app_stream_data in order: a message split across segments is collected (bounded) and
 * decoded in the packet that completes it, as tshark does. Whatever a decoder keeps between
 * packets (a message being collected, HPACK tables, DNS queries waiting for their answer,
 * QUIC CRYPTO data) lives in the flow's `struct app_flow`, which the flow module owns and
 * frees with app_flow_free.
 *
 * Values decoded from stream bytes are copied into the packet arena: the buffers they come
 * from do not outlive the call. Their recorded offsets are within the message, not the frame.
 */
#ifndef PKTSCOPE_DISSECT_APP_H
#define PKTSCOPE_DISSECT_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissect/decoders.h"

struct app_flow;

/* In-order bytes of direction dir (0: from the client) of a TCP stream between
 * client_port and server_port. p is the packet that carried them (fields and Info go
 * there); bytes that come out of reassembly after their packet go to a packet nobody
 * shows (the flow tracker keeps one per instance), for the state they update. Returns false once
 * the stream carries nothing these decoders read: the caller may stop feeding it. */
bool app_stream_data(struct app_flow **slot, struct packet *p, int dir, uint16_t client_port, uint16_t server_port,
		     const uint8_t *b, size_t n);
/* After a segment's bytes went in: when they only began or continued a message that is
 * not complete yet, the packet's Info says so as tshark's does ("[TCP segment of a
 * reassembled PDU]", alone when the message began here). */
void app_mark_segment(struct app_flow *a, struct packet *p, int dir, uint32_t payload_off);
/* Direction dir sent its FIN (after all its bytes): a body that runs to the end of the
 * connection is complete. p: the FIN's packet (never NULL). */
void app_stream_fin(struct app_flow *a, struct packet *p, int dir);
/* len bytes of direction dir were lost: inside a body being passed over nothing changes;
 * otherwise the direction looks for the next message start (HTTP/1, TLS, DNS) or stops
 * (HTTP/2, whose header compression state is lost). */
void app_stream_gap(struct app_flow *a, int dir, uint64_t len);
void app_flow_free(struct app_flow *a);

/* Datagram decoders, from dissect_udpport. */
void dissect_dns(struct packet *p, struct cur *c);
/* SSDP: HTTP/1.1 messages in UDP datagrams (UPnP). */
void dissect_ssdp(struct packet *p, struct cur *c);
/* DTLS (RFC 6347, RFC 9147): a heuristic entry (false when the datagram is not DTLS). */
bool dissect_dtls(struct packet *p, struct cur *c);
/* QUIC: a heuristic entry (false when the datagram is not QUIC). */
bool dissect_quic(struct packet *p, struct cur *c);

#endif
